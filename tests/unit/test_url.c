/* test_url.c — RFC 3986 §5.4 resolution examples, http(s) validity, host,
 * query appending and Twilio's #ct=..&rt=.. override fragment. */
#include "unit.h"

#include "url.h"

struct rcase {
	const char *ref, *want; /* want NULL: url_resolve must fail */
};

static void run_cases(const char *base, const struct rcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = url_resolve(base, c[i].ref);
		if (!c[i].want) {
			if (got)
				fail_msg("%s + \"%s\": want NULL, got %s", base, c[i].ref, got);
			continue;
		}
		if (!got)
			fail_msg("%s + \"%s\": want %s, got NULL", base, c[i].ref, c[i].want);
		if (strcmp(got, c[i].want))
			fail_msg("%s + \"%s\": want %s, got %s", base, c[i].ref, c[i].want, got);
		free(got);
	}
}

/* RFC 3986 §5.4.1. Deviations, both from the result having to be an http(s)
 * URL with a host: "g:h" is not http → NULL; "//g" gains the "/" that an
 * empty http path means (RFC 3986 §6.2.3: "http://g" ≡ "http://g/"). */
static void test_rfc3986_normal(void **state)
{
	(void)state;
	static const struct rcase c[] = {
	    {"g:h", NULL},
	    {"g", "http://a/b/c/g"},
	    {"./g", "http://a/b/c/g"},
	    {"g/", "http://a/b/c/g/"},
	    {"/g", "http://a/g"},
	    {"//g", "http://g/"},
	    {"?y", "http://a/b/c/d;p?y"},
	    {"g?y", "http://a/b/c/g?y"},
	    {"#s", "http://a/b/c/d;p?q#s"},
	    {"g#s", "http://a/b/c/g#s"},
	    {"g?y#s", "http://a/b/c/g?y#s"},
	    {";x", "http://a/b/c/;x"},
	    {"g;x", "http://a/b/c/g;x"},
	    {"g;x?y#s", "http://a/b/c/g;x?y#s"},
	    {"", "http://a/b/c/d;p?q"},
	    {".", "http://a/b/c/"},
	    {"./", "http://a/b/c/"},
	    {"..", "http://a/b/"},
	    {"../", "http://a/b/"},
	    {"../g", "http://a/b/g"},
	    {"../..", "http://a/"},
	    {"../../", "http://a/"},
	    {"../../g", "http://a/g"},
	};
	run_cases("http://a/b/c/d;p?q", c, sizeof c / sizeof c[0]);
}

/* RFC 3986 §5.4.2, strict parser ("http:g" is an absolute URI without a
 * host, so not an http URL → NULL). */
static void test_rfc3986_abnormal(void **state)
{
	(void)state;
	static const struct rcase c[] = {
	    {"../../../g", "http://a/g"},
	    {"../../../../g", "http://a/g"},
	    {"/./g", "http://a/g"},
	    {"/../g", "http://a/g"},
	    {"g.", "http://a/b/c/g."},
	    {".g", "http://a/b/c/.g"},
	    {"g..", "http://a/b/c/g.."},
	    {"..g", "http://a/b/c/..g"},
	    {"./../g", "http://a/b/g"},
	    {"./g/.", "http://a/b/c/g/"},
	    {"g/./h", "http://a/b/c/g/h"},
	    {"g/../h", "http://a/b/c/h"},
	    {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
	    {"g;x=1/../y", "http://a/b/c/y"},
	    {"g?y/./x", "http://a/b/c/g?y/./x"},
	    {"g?y/../x", "http://a/b/c/g?y/../x"},
	    {"g#s/./x", "http://a/b/c/g#s/./x"},
	    {"g#s/../x", "http://a/b/c/g#s/../x"},
	    {"http:g", NULL},
	};
	run_cases("http://a/b/c/d;p?q", c, sizeof c / sizeof c[0]);
}

/* What TwiML actually does: action/Redirect URLs against the document URL. */
static void test_resolve_webhooks(void **state)
{
	(void)state;
	static const struct rcase c[] = {
	    {"../nextInstructions", "https://app.example.com/voice/nextInstructions"},
	    {"/handle-key", "https://app.example.com/handle-key"},
	    {"gather?step=2", "https://app.example.com/voice/twiml/gather?step=2"},
	    {"https://other.example.org/x?y=1", "https://other.example.org/x?y=1"},
	    {"HTTP://Other.Example.org/X", "http://Other.Example.org/X"},
	    {"//cdn.example.net/a.mp3", "https://cdn.example.net/a.mp3"},
	    {"  next  ", "https://app.example.com/voice/twiml/next"},
	    {"\tnext\r\n", "https://app.example.com/voice/twiml/next"},
	    {"#ct=1000", "https://app.example.com/voice/twiml/start.xml?a=1#ct=1000"},
	    {"?b=2", "https://app.example.com/voice/twiml/start.xml?b=2"},
	    {"a%20b", "https://app.example.com/voice/twiml/a%20b"},
	    {"a b", NULL},
	    {"a\x01", NULL},
	    {"ftp://example.com/x", NULL},
	    {"mailto:x@example.com", NULL},
	    {"javascript:alert(1)", NULL},
	    {"sip:alice@example.com", NULL},
	    {"http:/g", NULL},
	    {"http:///g", NULL},
	    {"///g", NULL},
	    {"//", NULL},
	    {"http://", NULL},
	    {"https://host:99999/", NULL},
	    {"https://%30/", NULL},
	    {"//%30/x", NULL},
	};
	run_cases("https://app.example.com/voice/twiml/start.xml?a=1#frag", c,
	          sizeof c / sizeof c[0]);
}

static void test_resolve_base_cases(void **state)
{
	(void)state;
	/* The base's fragment never leaks into the result. */
	char *s = url_resolve("http://a/b/c#f", "?y");
	assert_non_null(s);
	assert_string_equal(s, "http://a/b/c?y");
	free(s);
	s = url_resolve("http://a/b/c?q#f", "");
	assert_non_null(s);
	assert_string_equal(s, "http://a/b/c?q");
	free(s);
	/* Base without a path. */
	s = url_resolve("http://a", "g");
	assert_non_null(s);
	assert_string_equal(s, "http://a/g");
	free(s);
	/* Port and userinfo of the base are kept. */
	s = url_resolve("http://u:p@a:8080/b/c", "d");
	assert_non_null(s);
	assert_string_equal(s, "http://u:p@a:8080/b/d");
	free(s);
	/* Absolute reference: base not needed, not even looked at. */
	s = url_resolve(NULL, "https://x.example/a/../b");
	assert_non_null(s);
	assert_string_equal(s, "https://x.example/b");
	free(s);
	s = url_resolve("not a url", "https://x.example/");
	assert_non_null(s);
	free(s);
	/* Relative reference without a usable base. */
	assert_null(url_resolve(NULL, "g"));
	assert_null(url_resolve("ftp://a/b", "g"));
	assert_null(url_resolve("/relative/base", "g"));
	assert_null(url_resolve("http://a/b", NULL));
}

static void test_is_http(void **state)
{
	(void)state;
	assert_true(url_is_http("http://a"));
	assert_true(url_is_http("https://example.com/x?y=1#z"));
	assert_true(url_is_http("HTTPS://EXAMPLE.COM/"));
	assert_true(url_is_http("http://127.0.0.1:8080/twiml"));
	assert_true(url_is_http("http://[::1]:8080/twiml"));
	assert_true(url_is_http("https://user:pass@example.com/"));
	assert_false(url_is_http(NULL));
	assert_false(url_is_http(""));
	assert_false(url_is_http("example.com/x"));
	assert_false(url_is_http("/x"));
	assert_false(url_is_http("ftp://example.com/"));
	assert_false(url_is_http("http:/example.com"));
	assert_false(url_is_http("http:///example.com"));
	assert_false(url_is_http("http://"));
	assert_false(url_is_http("http://?x"));
	assert_false(url_is_http("http://#x"));
	assert_false(url_is_http("http://exa mple.com/"));
	assert_false(url_is_http("http://example.com/a b"));
	assert_false(url_is_http(" http://example.com/"));
	assert_false(url_is_http("http://example.com/\n"));
	assert_false(url_is_http("http://example.com/\x7f"));
	assert_false(url_is_http("http://example.com:99999/"));
	assert_false(url_is_http("httpx://example.com/"));
	/* Percent-encoded hosts are refused; encoded userinfo is fine. */
	assert_false(url_is_http("https://%30/"));
	assert_false(url_is_http("https://exa%6dple.com/"));
	assert_false(url_is_http("https://u:p@ex%2ecom/"));
	assert_true(url_is_http("https://u:p%40ss@example.com/a%20b"));
	/* Length limit: 4096 is fine, 4097 is not. */
	char *big = malloc(4098);
	assert_non_null(big);
	strcpy(big, "http://a/");
	memset(big + 9, 'x', 4096 - 9);
	big[4096] = 0;
	assert_true(url_is_http(big));
	big[4096] = 'x';
	big[4097] = 0;
	assert_false(url_is_http(big));
	free(big);
}

static void test_host(void **state)
{
	(void)state;
	char *h = url_host("https://API.Example.COM:8443/x?y#z");
	assert_non_null(h);
	assert_string_equal(h, "api.example.com");
	free(h);
	h = url_host("http://user:pw@host.test/");
	assert_non_null(h);
	assert_string_equal(h, "host.test");
	free(h);
	h = url_host("http://[::1]:80/");
	assert_non_null(h);
	assert_string_equal(h, "[::1]");
	free(h);
	h = url_host("wss://media.example.com/stream");
	assert_non_null(h);
	assert_string_equal(h, "media.example.com");
	free(h);
	assert_null(url_host(NULL));
	assert_null(url_host("/relative"));
	assert_null(url_host("http://"));
	assert_null(url_host("not a url"));
}

static void check_append(const char *url, const char *q, const char *want)
{
	char *s = url_append_query(url, q);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_append_query(void **state)
{
	(void)state;
	check_append("http://a/b", "x=1", "http://a/b?x=1");
	check_append("http://a/b?y=2", "x=1", "http://a/b?y=2&x=1");
	check_append("http://a/b?", "x=1", "http://a/b?x=1");
	check_append("http://a/b?y=2&", "x=1", "http://a/b?y=2&x=1");
	check_append("http://a/b#ct=100", "x=1", "http://a/b?x=1#ct=100");
	check_append("http://a/b?y=2#f?g", "x=1", "http://a/b?y=2&x=1#f?g");
	check_append("http://a/b", "", "http://a/b");
	check_append("http://a/b", NULL, "http://a/b");
	assert_null(url_append_query(NULL, "x=1"));
}

static void test_overrides(void **state)
{
	(void)state;
	url_overrides o;
	url_overrides_default(&o);
	assert_int_equal(o.ct_ms, 5000);
	assert_int_equal(o.rt_ms, 15000);
	assert_int_equal(o.tt_ms, 15000);
	assert_int_equal(o.rc, 1);
	assert_string_equal(o.rp, "ct");

	char *s =
	    url_strip_fragment("https://a.test/x?y=1#ct=1000&rt=2000&tt=3000&rc=3&rp=4xx,5xx", &o);
	assert_non_null(s);
	assert_string_equal(s, "https://a.test/x?y=1");
	assert_int_equal(o.ct_ms, 1000);
	assert_int_equal(o.rt_ms, 2000);
	assert_int_equal(o.tt_ms, 3000);
	assert_int_equal(o.rc, 3);
	assert_string_equal(o.rp, "4xx,5xx");
	free(s);

	/* Clamping to Twilio's ranges. */
	s = url_strip_fragment("https://a.test/#ct=1&rt=999999&tt=0&rc=9&rp=ALL", &o);
	assert_non_null(s);
	assert_int_equal(o.ct_ms, 100);
	assert_int_equal(o.rt_ms, 15000);
	assert_int_equal(o.tt_ms, 100);
	assert_int_equal(o.rc, 5);
	assert_string_equal(o.rp, "all");
	free(s);
	s = url_strip_fragment("https://a.test/#ct=20000&rc=-1&rt=99999999999999999999", &o);
	assert_non_null(s);
	assert_int_equal(o.ct_ms, 10000);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.rt_ms, 15000);
	free(s);

	/* Junk values and unknown keys leave the defaults; first value wins. */
	s = url_strip_fragment("https://a.test/#ct=abc&rt=12x&tt=&rc=2&rc=4&edge=x&rp=a%3Bb", &o);
	assert_non_null(s);
	assert_int_equal(o.ct_ms, 5000);
	assert_int_equal(o.rt_ms, 15000);
	assert_int_equal(o.tt_ms, 15000);
	assert_int_equal(o.rc, 2);
	assert_string_equal(o.rp, "ct");
	free(s);
	s = url_strip_fragment("https://a.test/#rp=4xx|5xx+CT", &o);
	assert_non_null(s);
	assert_string_equal(o.rp, "4xx|5xx ct");
	free(s);
	s = url_strip_fragment("https://a.test/#rp=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &o);
	assert_non_null(s);
	assert_string_equal(o.rp, "ct");
	free(s);
	/* A malformed fragment: all defaults. */
	s = url_strip_fragment("https://a.test/#ct=200&rt=%zz", &o);
	assert_non_null(s);
	assert_int_equal(o.ct_ms, 5000);
	free(s);

	/* No fragment, empty fragment, and o == NULL. */
	o.ct_ms = 1;
	s = url_strip_fragment("https://a.test/p", &o);
	assert_non_null(s);
	assert_string_equal(s, "https://a.test/p");
	assert_int_equal(o.ct_ms, 5000);
	free(s);
	s = url_strip_fragment("https://a.test/p#", &o);
	assert_non_null(s);
	assert_string_equal(s, "https://a.test/p");
	free(s);
	s = url_strip_fragment("https://a.test/p#ct=100", NULL);
	assert_non_null(s);
	assert_string_equal(s, "https://a.test/p");
	free(s);
	assert_null(url_strip_fragment(NULL, &o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3986_normal),   cmocka_unit_test(test_rfc3986_abnormal),
	    cmocka_unit_test(test_resolve_webhooks), cmocka_unit_test(test_resolve_base_cases),
	    cmocka_unit_test(test_is_http),          cmocka_unit_test(test_host),
	    cmocka_unit_test(test_append_query),     cmocka_unit_test(test_overrides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
