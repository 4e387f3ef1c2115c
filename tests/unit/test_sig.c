/* test_sig.c — X-Twilio-Signature, bodySHA256, sig_equal and base64 against
 * Twilio's published examples and standard test vectors. */
#include "unit.h"

#include <stdio.h>

#include "form.h"
#include "sig.h"

static void add(form *f, const char *n, const char *v)
{
	assert_int_equal(form_add(f, n, v), 0);
}

static void check_sig(const char *token, const char *url, const form *p, const char *want)
{
	char *s = sig_twilio(token, url, p);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

/* §6.2 of the reference: Twilio's documented worked example. */
static void test_twilio_doc_example(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	/* Deliberately not in sorted order. */
	add(&f, "To", "+18005551212");
	add(&f, "Digits", "1234");
	add(&f, "CallSid", "CA1234567890ABCDE");
	add(&f, "From", "+14158675310");
	add(&f, "Caller", "+14158675310");
	check_sig("12345", "https://example.com/myapp.php?foo=1&bar=2", &f,
	          "L/OH5YylLD5NRKLltdqwSvS0BnU=");
	form_free(&f);
}

/* twilio-python tests/unit/test_request_validator.py vectors. */
static void test_twilio_python_vectors(void **state)
{
	(void)state;
	const char *url = "https://mycompany.com/myapp.php?foo=1&bar=2";
	form f;
	form_init(&f);
	add(&f, "CallSid", "CA1234567890ABCDE");
	add(&f, "Digits", "1234");
	add(&f, "From", "+14158675309");
	add(&f, "To", "+18005551212");
	add(&f, "Caller", "+14158675309");
	check_sig("12345", url, &f, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
	/* The port is part of what is signed. */
	check_sig("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &f,
	          "kvajT1Ptam85bY51eRf/AJRuM3w=");
	check_sig("12345", "http://mycompany.com:80/myapp.php?foo=1&bar=2", &f,
	          "0ZXoZLH/DfblKGATFgpif+LLRf4=");
	check_sig("12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", &f,
	          "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
	form_free(&f);
}

/* Repeated names: values sorted, an identical name+value appended once. */
static void test_duplicates(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	assert_int_equal(form_parse(&f,
	                            "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"
	                            "&Digits=1234",
	                            strlen("Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"
	                                   "&Digits=1234")),
	                 0);
	check_sig("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f,
	          "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
	form_free(&f);
}

/* Byte order: uppercase sorts before lowercase; "Sid" before "SidAccount". */
static void test_sort_is_bytewise(void **state)
{
	(void)state;
	form a, b;
	form_init(&a);
	form_init(&b);
	add(&a, "b", "1");
	add(&a, "B", "2");
	add(&a, "a", "3");
	add(&b, "B", "2");
	add(&b, "a", "3");
	add(&b, "b", "1");
	char *sa = sig_twilio("tok", "https://x.test/", &a);
	char *sb = sig_twilio("tok", "https://x.test/", &b);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_string_equal(sa, sb);
	/* Same as signing the concatenation "https://x.test/B2a3b1" directly. */
	char *direct = sig_twilio("tok", "https://x.test/B2a3b1", NULL);
	assert_non_null(direct);
	assert_string_equal(sa, direct);
	free(sa);
	free(sb);
	free(direct);
	form_free(&a);
	form_free(&b);
}

/* GET / JSON body: no params, the URL carries bodySHA256. */
static void test_body_sha256(void **state)
{
	(void)state;
	const char *body = "{\"property\": \"value\", \"boolean\": true}";
	char *h = sig_sha256_hex(body, strlen(body));
	assert_non_null(h);
	assert_string_equal(h, "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620");
	char url[256];
	snprintf(url, sizeof url, "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=%s", h);
	check_sig("12345", url, NULL, "a9nBmqA0ju/hNViExpshrM61xv4=");
	/* An empty form signs like no form. */
	form f;
	form_init(&f);
	check_sig("12345", url, &f, "a9nBmqA0ju/hNViExpshrM61xv4=");
	free(h);
}

/* FIPS 180-2 examples. */
static void test_sha256_vectors(void **state)
{
	(void)state;
	struct {
		const char *in, *hex;
	} v[] = {
	    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char *h = sig_sha256_hex(v[i].in, strlen(v[i].in));
		assert_non_null(h);
		assert_string_equal(h, v[i].hex);
		free(h);
	}
	char *h = sig_sha256_hex(NULL, 0);
	assert_non_null(h);
	assert_string_equal(h, v[0].hex);
	free(h);
	/* Binary input with a NUL inside. */
	h = sig_sha256_hex("a\0b", 3);
	assert_non_null(h);
	assert_int_equal(strlen(h), 64);
	free(h);
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(sig_equal("L/OH5YylLD5NRKLltdqwSvS0BnU=", "L/OH5YylLD5NRKLltdqwSvS0BnU="));
	assert_false(sig_equal("L/OH5YylLD5NRKLltdqwSvS0BnU=", "L/OH5YylLD5NRKLltdqwSvS0BnV="));
	assert_false(sig_equal("abc", "abcd"));
	assert_false(sig_equal("abcd", "abc"));
	assert_true(sig_equal("", ""));
	assert_false(sig_equal(NULL, "a"));
	assert_false(sig_equal("a", NULL));
	assert_false(sig_equal(NULL, NULL));
}

/* RFC 4648 §10. */
static void test_base64_vectors(void **state)
{
	(void)state;
	const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		char *e = sig_base64((const unsigned char *)in[i], strlen(in[i]));
		assert_non_null(e);
		assert_string_equal(e, out[i]);
		free(e);
		size_t n = 99;
		unsigned char *d = sig_base64_decode(out[i], &n);
		assert_non_null(d);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(d, in[i], n);
		free(d);
	}
}

static void test_base64_binary_roundtrip(void **state)
{
	(void)state;
	unsigned char buf[256];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(255 - i);
	for (size_t len = 0; len <= sizeof buf; len += 7) {
		char *e = sig_base64(buf, len);
		assert_non_null(e);
		size_t n;
		unsigned char *d = sig_base64_decode(e, &n);
		assert_non_null(d);
		assert_int_equal(n, len);
		assert_memory_equal(d, buf, len);
		free(d);
		free(e);
	}
}

static void test_base64_invalid(void **state)
{
	(void)state;
	const char *bad[] = {"Zg=",  "Zg",   "Z===", "====", "Zm9v\n",   " Zm9v",
	                     "Zm9-", "Zm_v", "Z=g=", "=Zg=", "Zm9vYg=a", "Zm9vY\x80=="};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n;
		assert_null(sig_base64_decode(bad[i], &n));
	}
	assert_null(sig_base64_decode(NULL, NULL));
}

static void test_null_args(void **state)
{
	(void)state;
	assert_null(sig_twilio(NULL, "https://x/", NULL));
	assert_null(sig_twilio("t", NULL, NULL));
	/* An empty token is a valid (if useless) HMAC key. */
	char *s = sig_twilio("", "https://x/", NULL);
	assert_non_null(s);
	assert_int_equal(strlen(s), 28);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_twilio_doc_example),
	    cmocka_unit_test(test_twilio_python_vectors),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_sort_is_bytewise),
	    cmocka_unit_test(test_body_sha256),
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_base64_vectors),
	    cmocka_unit_test(test_base64_binary_roundtrip),
	    cmocka_unit_test(test_base64_invalid),
	    cmocka_unit_test(test_null_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
