/* fuzz_refer.c — libFuzzer harness for the REFER header parsers
 * (kamailio-module/fc_refer.h): fc_refer_to_parse, fc_replaces_parse and
 * fc_referred_by_parse, each on the whole input (an exact-size copy, so ASan
 * sees any read past len). Checks: the return code is one of the documented
 * ones; on error the output is zeroed and the reason is printable ASCII of at
 * most 80 chars, cut to errlen; on success every string is NUL-terminated
 * within its array, n_hdrs <= 16, header names are tokens, decoded values hold
 * no CR, LF or other control byte, the URI and scheme agree, and a Refer-To
 * rebuilt from the parsed fields parses back to the same fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_refer.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void check_str(const char *f, size_t sz)
{
	CHECK(memchr(f, 0, sz) != NULL);
	for (; *f; f++)
		CHECK(((unsigned char)*f >= 0x20 || *f == '\t') && *f != 0x7f);
}

static void check_reason(const char *err, size_t errlen)
{
	size_t n = strlen(err);
	CHECK(n > 0 && n <= 80 && n < errlen);
	for (size_t i = 0; i < n; i++)
		CHECK(err[i] >= 0x20 && err[i] <= 0x7e);
}

static int zeroed(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static int is_token_str(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-.!%*_+`'~", c)))
			return 0;
	}
	return 1;
}

static void check_replaces(const fc_replaces *r)
{
	check_str(r->call_id, sizeof r->call_id);
	check_str(r->to_tag, sizeof r->to_tag);
	check_str(r->from_tag, sizeof r->from_tag);
	CHECK(r->call_id[0] && !strpbrk(r->call_id, " \t;"));
	CHECK(is_token_str(r->to_tag) && is_token_str(r->from_tag));
	CHECK(r->early_only == 0 || r->early_only == 1);
}

/* Appends s %-encoding everything but unreserved characters. */
static size_t put_enc(char *b, size_t n, size_t cap, const char *s)
{
	for (; *s && n + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.!~*'()", c))
			b[n++] = (char)c;
		else
			n += (size_t)snprintf(b + n, cap - n, "%%%02X", c);
	}
	return n;
}

static fc_refer_to rt, back;
static char rebuilt[70000];

/* Round trip: "display" <uri?hdrs&Replaces=...> must parse to the same fields. */
static void round_trip(void)
{
	size_t n = 0, cap = sizeof rebuilt;
	n += (size_t)snprintf(rebuilt + n, cap - n, "\"");
	for (const char *d = rt.display; *d && n + 4 < cap; d++) {
		if (*d == '"' || *d == '\\')
			rebuilt[n++] = '\\';
		rebuilt[n++] = *d;
	}
	n += (size_t)snprintf(rebuilt + n, cap - n, "\" <%s", rt.uri);
	char sep = '?';
	for (int i = 0; i < rt.n_hdrs && n + 100 < cap; i++) {
		n += (size_t)snprintf(rebuilt + n, cap - n, "%c%s=", sep, rt.hdrs[i].name);
		n = put_enc(rebuilt, n, cap, rt.hdrs[i].value);
		sep = '&';
	}
	if (rt.has_replaces && n + 100 < cap) {
		char rv[700];
		snprintf(rv, sizeof rv, "%s;to-tag=%s;from-tag=%s%s", rt.replaces.call_id,
		         rt.replaces.to_tag, rt.replaces.from_tag,
		         rt.replaces.early_only ? ";early-only" : "");
		n += (size_t)snprintf(rebuilt + n, cap - n, "%cReplaces=", sep);
		n = put_enc(rebuilt, n, cap, rv);
	}
	if (n + 2 >= cap)
		return;
	rebuilt[n++] = '>';
	rebuilt[n] = 0;
	if (n > 8192)
		return; /* beyond what the parser looks at */
	CHECK(fc_refer_to_parse(rebuilt, n, &back, NULL, 0) == FC_REFER_OK);
	CHECK(!strcmp(back.display, rt.display));
	CHECK(!strcmp(back.uri, rt.uri));
	CHECK(!strcmp(back.scheme, rt.scheme));
	CHECK(back.n_hdrs == rt.n_hdrs);
	for (int i = 0; i < rt.n_hdrs; i++) {
		CHECK(!strcmp(back.hdrs[i].name, rt.hdrs[i].name));
		CHECK(!strcmp(back.hdrs[i].value, rt.hdrs[i].value));
	}
	CHECK(back.has_replaces == rt.has_replaces);
	if (rt.has_replaces) {
		CHECK(!strcmp(back.replaces.call_id, rt.replaces.call_id));
		CHECK(!strcmp(back.replaces.to_tag, rt.replaces.to_tag));
		CHECK(!strcmp(back.replaces.from_tag, rt.replaces.from_tag));
		CHECK(back.replaces.early_only == rt.replaces.early_only);
	}
}

static void fuzz_refer_to(const char *v, size_t len)
{
	char err[96];
	int rc = fc_refer_to_parse(v, len, &rt, err, sizeof err);
	CHECK(rc == FC_REFER_OK || rc == FC_REFER_ESYNTAX || rc == FC_REFER_ESCHEME);
	if (rc != FC_REFER_OK) {
		CHECK(zeroed(&rt, sizeof rt));
		check_reason(err, sizeof err);
		/* a short err buffer: cut, never overrun (exact-size heap copy) */
		char *small = malloc(7);
		if (small) {
			CHECK(fc_refer_to_parse(v, len, &rt, small, 7) == rc);
			CHECK(strlen(small) <= 6);
			free(small);
		}
		return;
	}
	CHECK(err[0] == 0);
	check_str(rt.display, sizeof rt.display);
	check_str(rt.uri, sizeof rt.uri);
	check_str(rt.scheme, sizeof rt.scheme);
	CHECK(!strcmp(rt.scheme, "sip") || !strcmp(rt.scheme, "sips") || !strcmp(rt.scheme, "tel"));
	size_t sl = strlen(rt.scheme);
	CHECK(strlen(rt.uri) > sl + 1 && rt.uri[sl] == ':');
	for (size_t i = 0; i < sl; i++)
		CHECK((rt.uri[i] | 0x20) == rt.scheme[i]);
	CHECK(!strpbrk(rt.uri, " \t<>\"?"));
	CHECK(rt.n_hdrs >= 0 && rt.n_hdrs <= FC_REFER_MAX_HDRS);
	for (int i = 0; i < rt.n_hdrs; i++) {
		check_str(rt.hdrs[i].name, sizeof rt.hdrs[i].name);
		check_str(rt.hdrs[i].value, sizeof rt.hdrs[i].value);
		CHECK(is_token_str(rt.hdrs[i].name));
		CHECK(strlen(rt.hdrs[i].name) <= FC_REFER_HNAME_MAX);
		CHECK(strlen(rt.hdrs[i].value) <= FC_REFER_HVALUE_MAX);
		CHECK(!strpbrk(rt.hdrs[i].value, "\r\n"));
	}
	for (int i = rt.n_hdrs; i < FC_REFER_MAX_HDRS; i++)
		CHECK(zeroed(&rt.hdrs[i], sizeof rt.hdrs[i]));
	CHECK(rt.has_replaces == 0 || rt.has_replaces == 1);
	if (rt.has_replaces)
		check_replaces(&rt.replaces);
	else
		CHECK(zeroed(&rt.replaces, sizeof rt.replaces));
	round_trip();
}

static void fuzz_replaces(const char *v, size_t len)
{
	fc_replaces r;
	char err[96];
	int rc = fc_replaces_parse(v, len, &r, err, sizeof err);
	if (rc != FC_REFER_OK) {
		CHECK(rc == FC_REFER_ESYNTAX);
		CHECK(zeroed(&r, sizeof r));
		check_reason(err, sizeof err);
		return;
	}
	CHECK(err[0] == 0);
	check_replaces(&r);
}

static void fuzz_referred_by(const char *v, size_t len)
{
	char err[96];
	size_t cap = 1025;
	char *uri = malloc(cap);
	if (!uri)
		return;
	int rc = fc_referred_by_parse(v, len, uri, cap, err, sizeof err);
	if (rc != FC_REFER_OK) {
		CHECK(rc == FC_REFER_ESYNTAX);
		CHECK(uri[0] == 0);
		check_reason(err, sizeof err);
		free(uri);
		return;
	}
	CHECK(err[0] == 0);
	check_str(uri, cap);
	size_t n = strlen(uri);
	CHECK(n > 0 && strchr(uri, ':') && !strpbrk(uri, " \t<>\""));
	/* exactly n + 1 bytes suffice, n do not */
	char *tight = malloc(n + 1);
	if (tight) {
		CHECK(fc_referred_by_parse(v, len, tight, n + 1, NULL, 0) == FC_REFER_OK);
		CHECK(!strcmp(tight, uri));
		CHECK(fc_referred_by_parse(v, len, tight, n, NULL, 0) == FC_REFER_ESYNTAX);
		CHECK(n == 0 || tight[0] == 0);
		free(tight);
	}
	free(uri);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = malloc(size ? size : 1);
	if (!v)
		return 0;
	memcpy(v, data, size);
	fuzz_refer_to(v, size);
	fuzz_replaces(v, size);
	fuzz_referred_by(v, size);
	free(v);
	return 0;
}
