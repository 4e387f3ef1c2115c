/* test_fc_sipcheck.c — the RFC 3261 section 8.2 helpers (fc_sipcheck.h):
 * Request-URI schemes (416), Require option tags (420), %-unescaping of the
 * Request-URI user, header unfolding, Content-Type matching and finding the
 * SDP part of a multipart body (415 when there is none). */
#include "unit.h"

#include <stdio.h>

#include "fc_sipcheck.h"

#define S(lit) lit, strlen(lit)

static void test_uri_scheme(void **state)
{
	(void)state;
	assert_int_equal(fc_uri_scheme_ok(S("sip:+14155550100@example.com")), 1);
	assert_int_equal(fc_uri_scheme_ok(S("SIPS:alice@example.com")), 1);
	assert_int_equal(fc_uri_scheme_ok(S("tel:+14155550100")), 1);
	assert_int_equal(fc_uri_scheme_ok(S("nobodyknowsthisscheme:totallyopaquecontent")), 0);
	assert_int_equal(fc_uri_scheme_ok(S("soap.beep://192.0.2.103:3002")), 0);
	assert_int_equal(fc_uri_scheme_ok(S("sipx:alice@example.com")), 0);
	assert_int_equal(fc_uri_scheme_ok(S("no-colon-at-all")), -1);
	assert_int_equal(fc_uri_scheme_ok(S(":empty")), -1);
	assert_int_equal(fc_uri_scheme_ok(S("<sip:alice@example.com>")), -1);
	assert_int_equal(fc_uri_scheme_ok(S("1sip:x")), -1);
	assert_int_equal(fc_uri_scheme_ok("sip:x", 3), -1); /* cut before the ':' */
}

static void test_require(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(fc_require_unsupported(S("replaces"), out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(fc_require_unsupported(S(" Replaces ,\r\n replaces"), out, sizeof out), 0);
	assert_int_equal(fc_require_unsupported(S("nothingpastthis"), out, sizeof out), 1);
	assert_string_equal(out, "nothingpastthis");
	assert_int_equal(fc_require_unsupported(S("100rel, replaces, timer"), out, sizeof out), 2);
	assert_string_equal(out, "100rel, timer");
	/* a tag that is no token is not echoed into a header */
	assert_int_equal(fc_require_unsupported(S("a\"b"), out, sizeof out), 1);
	assert_string_equal(out, "?");
	assert_int_equal(fc_require_unsupported(S(" , ,"), out, sizeof out), 0);
	/* the list is bounded, the count is not */
	char small[8];
	assert_int_equal(fc_require_unsupported(S("aaaa, bbbb, cccc"), small, sizeof small), 3);
	assert_true(strlen(small) < sizeof small);
}

static void test_unescape(void **state)
{
	(void)state;
	char out[32];
	assert_int_equal(fc_uri_user_unescape(S("%2B1415555010%30"), out, sizeof out), 12);
	assert_string_equal(out, "+14155550100");
	assert_int_equal(fc_uri_user_unescape(S("%61lice"), out, sizeof out), 5);
	assert_string_equal(out, "alice");
	assert_int_equal(fc_uri_user_unescape(S("plain"), out, sizeof out), 5);
	assert_int_equal(fc_uri_user_unescape(S("null-%00-null"), out, sizeof out), -1);
	assert_int_equal(fc_uri_user_unescape(S("crlf%0d%0a"), out, sizeof out), -1);
	assert_int_equal(fc_uri_user_unescape(S("bad%2"), out, sizeof out), -1);
	assert_int_equal(fc_uri_user_unescape(S("bad%zz"), out, sizeof out), -1);
	assert_int_equal(fc_uri_user_unescape(S("%"), out, sizeof out), -1);
	char tiny[4];
	assert_int_equal(fc_uri_user_unescape(S("abcd"), tiny, sizeof tiny), -1);
	assert_int_equal(fc_uri_user_unescape(S("abc"), tiny, sizeof tiny), 3);
	assert_int_equal(fc_uri_user_unescape(S(""), tiny, sizeof tiny), 0);
}

static void test_unfold(void **state)
{
	(void)state;
	char b[64];
	strcpy(b, "one\r\n two");
	b[fc_unfold(b, strlen(b))] = 0;
	assert_string_equal(b, "one two");
	strcpy(b, "a \r\n\t \r\n  b\tc  d");
	b[fc_unfold(b, strlen(b))] = 0;
	assert_string_equal(b, "a b\tc  d"); /* unfolded runs only */
	strcpy(b, "x\ny\rz");
	b[fc_unfold(b, strlen(b))] = 0;
	assert_string_equal(b, "x y z");
	assert_int_equal(fc_unfold(b, 0), 0);
}

static void test_ctype(void **state)
{
	(void)state;
	assert_true(fc_ctype_is(S("application/sdp"), "application/sdp"));
	assert_true(fc_ctype_is(S(" Application/SDP ; charset=x"), "application/sdp"));
	assert_true(fc_ctype_is(S("application/sdp;a=b"), "application/sdp"));
	assert_false(fc_ctype_is(S("application/sdpx"), "application/sdp"));
	assert_false(fc_ctype_is(S("application/unknownformat"), "application/sdp"));
	assert_false(fc_ctype_is(S(""), "application/sdp"));
}

static const char SDP[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                          "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

static void test_multipart(void **state)
{
	(void)state;
	const char *sdp;
	size_t n;
	char body[1024];
	/* RFC 5621 style: mixed, SDP second, quoted boundary, CRLF rules */
	snprintf(body, sizeof body,
	         "preamble\r\n--unique-boundary-1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	         "--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n%s\r\n"
	         "--unique-boundary-1--\r\nepilogue",
	         SDP);
	const char ct[] = "multipart/mixed; boundary=\"unique-boundary-1\"";
	assert_int_equal(fc_multipart_sdp(S(ct), body, strlen(body), &sdp, &n), 1);
	assert_int_equal(n, strlen(SDP));
	assert_memory_equal(sdp, SDP, n);
	/* signed, unquoted boundary, the SDP first */
	snprintf(body, sizeof body,
	         "--b1\r\nContent-Type: application/sdp\r\n\r\n%s\r\n--b1\r\n"
	         "Content-Type: application/pkcs7-signature\r\n\r\nxxxx\r\n--b1--\r\n",
	         SDP);
	assert_int_equal(fc_multipart_sdp(S("multipart/signed;protocol=\"x\";boundary=b1"), body,
	                                  strlen(body), &sdp, &n),
	                 1);
	assert_memory_equal(sdp, SDP, n);
	/* no SDP part */
	strcpy(body, "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n");
	assert_int_equal(
	    fc_multipart_sdp(S("multipart/mixed;boundary=b1"), body, strlen(body), &sdp, &n), 0);
	/* malformed: no boundary, no delimiter, no close delimiter */
	assert_int_equal(fc_multipart_sdp(S("multipart/mixed"), body, strlen(body), &sdp, &n), -1);
	assert_int_equal(
	    fc_multipart_sdp(S("multipart/mixed;boundary=zz"), body, strlen(body), &sdp, &n), -1);
	strcpy(body, "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n");
	assert_int_equal(
	    fc_multipart_sdp(S("multipart/mixed;boundary=b1"), body, strlen(body), &sdp, &n), -1);
	assert_int_equal(
	    fc_multipart_sdp(S("multipart/mixed;boundary=\"open"), body, strlen(body), &sdp, &n),
	    -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uri_scheme), cmocka_unit_test(test_require),
	    cmocka_unit_test(test_unescape),   cmocka_unit_test(test_unfold),
	    cmocka_unit_test(test_ctype),      cmocka_unit_test(test_multipart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
