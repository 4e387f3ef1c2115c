/* fuzz_url.c — libFuzzer harness for url_resolve, url_strip_fragment and
 * the other URL helpers. Input: base, '\n', reference. Checks: a resolved
 * URL is an http(s) URL per url_is_http and resolves to itself; overrides
 * always land in Twilio's ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void check_overrides(const url_overrides *o)
{
	CHECK(o->ct_ms >= 100 && o->ct_ms <= 10000);
	CHECK(o->rt_ms >= 100 && o->rt_ms <= 15000);
	CHECK(o->tt_ms >= 100 && o->tt_ms <= 15000);
	CHECK(o->rc >= 0 && o->rc <= 5);
	CHECK(memchr(o->rp, 0, sizeof o->rp) != NULL && o->rp[0]);
}

static void strip(const char *u)
{
	url_overrides o;
	char *s = url_strip_fragment(u, &o);
	check_overrides(&o);
	if (s) {
		CHECK(strchr(s, '#') == NULL);
		CHECK(!strncmp(s, u, strlen(s)));
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	char *nl = strchr(buf, '\n');
	const char *base = buf, *ref = buf;
	if (nl) {
		*nl = 0;
		ref = nl + 1;
	} else {
		base = NULL;
	}

	char *r = url_resolve(base, ref);
	if (r) {
		CHECK(url_is_http(r));
		char *again = url_resolve(NULL, r);
		CHECK(again && !strcmp(again, r));
		free(again);
		char *self = url_resolve(r, "");
		CHECK(self);
		free(self);
		char *h = url_host(r);
		CHECK(h && *h);
		free(h);
		strip(r);
		char *q = url_append_query(r, "a=1");
		CHECK(q && strlen(q) > strlen(r));
		free(q);
		free(r);
	}
	strip(ref);
	if (base)
		strip(base);
	(void)url_is_http(ref);
	free(url_host(ref));
	free(buf);
	return 0;
}
