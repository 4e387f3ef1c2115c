/* fuzz_form.c — libFuzzer harness for form_parse: whatever it accepts must
 * survive form_encode → form_parse unchanged, and encoding must be a fixed
 * point; percent coding must round-trip arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "sig.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void same_forms(const form *a, const form *b)
{
	CHECK(a->n == b->n);
	for (size_t i = 0; i < a->n; i++) {
		CHECK(!strcmp(a->v[i].name, b->v[i].name));
		CHECK(!strcmp(a->v[i].value, b->v[i].value));
	}
}

static void roundtrip_form(const uint8_t *data, size_t size)
{
	form f, g;
	form_init(&f);
	form_init(&g);
	CHECK(form_add(&f, "pre", "existing") == 0);
	if (form_parse(&f, (const char *)data, size) < 0) {
		/* Rejected input leaves the form untouched. */
		CHECK(f.n == 1 && !strcmp(f.v[0].name, "pre"));
		form_free(&f);
		return;
	}
	char *enc = form_encode(&f);
	if (!enc)
		goto out; /* out of memory */
	CHECK(form_parse(&g, enc, strlen(enc)) == 0);
	same_forms(&f, &g);
	char *enc2 = form_encode(&g);
	if (enc2) {
		CHECK(!strcmp(enc, enc2));
		free(enc2);
	}
	/* Exercise the lookups and the signature's sort on every pair. */
	for (size_t i = 0; i < f.n; i++) {
		CHECK(form_get(&f, f.v[i].name) != NULL);
		CHECK(form_count(&f, f.v[i].name) >= 1);
	}
	char *sig = sig_twilio("token", "https://example.com/", &f);
	char *sig2 = sig_twilio("token", "https://example.com/", &g);
	if (sig && sig2)
		CHECK(!strcmp(sig, sig2));
	free(sig);
	free(sig2);
	if (f.n) {
		const char *name = f.v[f.n - 1].name;
		char *keep = strdup(name);
		if (keep && form_set(&f, keep, "x") == 0)
			CHECK(form_count(&f, keep) == 1 && !strcmp(form_get(&f, keep), "x"));
		free(keep);
	}
	free(enc);
out:
	form_free(&f);
	form_free(&g);
}

static void roundtrip_pct(const uint8_t *data, size_t size)
{
	char *e = pct_encode((const char *)data, size);
	if (!e)
		return;
	size_t n = 0;
	char *d = pct_decode(e, strlen(e), 1, &n);
	if (d) {
		CHECK(n == size && (size == 0 || !memcmp(d, data, size)));
		free(d);
	}
	free(e);
	/* Decoding raw input must not crash whatever it is. */
	d = pct_decode((const char *)data, size, 0, &n);
	if (d)
		CHECK(n <= size);
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	roundtrip_form(data, size);
	roundtrip_pct(data, size);
	return 0;
}
