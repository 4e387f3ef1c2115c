/* test_timefmt.c — clocks, RFC 2822 formatting and parsing, YYYY-MM-DD. */
#include "unit.h"

#include "timefmt.h"

/* 2010-08-31T20:36:28Z, Twilio's documentation example. */
#define T2010 1283286988000LL

static void test_clocks(void **state)
{
	(void)state;
	int64_t w = now_ms();
	assert_true(w > 1577836800000LL); /* after 2020 */
	int64_t a = mono_ms();
	int64_t b = mono_ms();
	assert_true(b >= a);
}

static void test_format(void **state)
{
	(void)state;
	char buf[40];
	assert_string_equal(rfc2822(buf, T2010), "Tue, 31 Aug 2010 20:36:28 +0000");
	assert_string_equal(rfc2822(buf, T2010 + 999), "Tue, 31 Aug 2010 20:36:28 +0000");
	assert_string_equal(rfc2822(buf, 0), "Thu, 01 Jan 1970 00:00:00 +0000");
	assert_string_equal(rfc2822(buf, -1), "Wed, 31 Dec 1969 23:59:59 +0000");
	assert_string_equal(rfc2822(buf, 951782400000LL), "Tue, 29 Feb 2000 00:00:00 +0000");
	assert_string_equal(rfc2822(buf, 253402300799000LL), "Fri, 31 Dec 9999 23:59:59 +0000");
	/* The return value is the buffer. */
	assert_ptr_equal(rfc2822(buf, 0), buf);
	/* Out of time_t's range: empty, no overflow. */
	assert_string_equal(rfc2822(buf, INT64_MAX), "");
	assert_string_equal(rfc2822(buf, INT64_MIN), "");
}

static void test_parse_rfc2822(void **state)
{
	(void)state;
	assert_int_equal(parse_rfc2822("Tue, 31 Aug 2010 20:36:28 +0000"), T2010);
	assert_int_equal(parse_rfc2822("31 Aug 2010 20:36:28 +0000"), T2010);
	assert_int_equal(parse_rfc2822("Tue, 31 Aug 2010 22:36:28 +0200"), T2010);
	assert_int_equal(parse_rfc2822("Tue, 31 Aug 2010 15:06:28 -0530"), T2010);
	assert_int_equal(parse_rfc2822("Wed, 01 Sep 2010 20:06:28 +2330"), T2010);
	assert_int_equal(parse_rfc2822("tue, 31 aug 2010 20:36:28 GMT"), T2010);
	assert_int_equal(parse_rfc2822("Tue, 31 Aug 2010 20:36:28 UT"), T2010);
	assert_int_equal(parse_rfc2822("Tue, 31 Aug 2010 20:36:28 UTC"), T2010);
	assert_int_equal(parse_rfc2822("Tue, 31 Aug 2010 20:36:28 Z"), T2010);
	assert_int_equal(parse_rfc2822("  Tue,  31  Aug  2010  20:36:28  +0000  "), T2010);
	assert_int_equal(parse_rfc2822("Tue, 31 Aug 2010 20:36 +0000"), T2010 - 28000);
	assert_int_equal(parse_rfc2822("Thu, 1 Jan 1970 00:00:00 +0000"), 0);
	assert_int_equal(parse_rfc2822("Wed, 31 Dec 1969 23:59:59 +0000"), -1000);
	/* Day name not checked against the date. */
	assert_int_equal(parse_rfc2822("Mon, 31 Aug 2010 20:36:28 +0000"), T2010);
	/* Leap second normalises into the next minute. */
	assert_int_equal(parse_rfc2822("Tue, 31 Aug 2010 20:36:60 +0000"), T2010 + 32000);
	assert_int_equal(parse_rfc2822("Tue, 29 Feb 2000 00:00:00 +0000"), 951782400000LL);
}

static void test_parse_rfc2822_invalid(void **state)
{
	(void)state;
	const char *bad[] = {
	    NULL,
	    "",
	    "Tue, 31 Aug 2010",
	    "Tue, 31 Aug 2010 20:36:28",
	    "Tue, 31 Aug 2010 20:36:28 +000",
	    "Tue, 31 Aug 2010 20:36:28 +0060",
	    "Tue, 31 Aug 2010 20:36:28 +2400",
	    "Tue, 31 Aug 2010 20:36:28 UTCX",
	    "Tue, 31 Aug 2010 20:36:28 EST",
	    "Tue, 31 Aug 2010 20:36:28 +0000 x",
	    "Tue, 32 Aug 2010 20:36:28 +0000",
	    "Tue, 00 Aug 2010 20:36:28 +0000",
	    "Tue, 31 Sep 2010 20:36:28 +0000",
	    "Tue, 29 Feb 2010 20:36:28 +0000",
	    "Tue, 29 Feb 1900 20:36:28 +0000",
	    "Tue, 31 Aug 2010 24:00:00 +0000",
	    "Tue, 31 Aug 2010 20:60:00 +0000",
	    "Tue, 31 Aug 2010 20:36:61 +0000",
	    "Tue, 31 Foo 2010 20:36:28 +0000",
	    "Tue, 31 August 2010 20:36:28 +0000",
	    "Tue, 31 Aug 10 20:36:28 +0000",
	    "Tue 31 Aug 2010 20:36:28 +0000",
	    "Tue, 131 Aug 2010 20:36:28 +0000",
	    "Tue, 31 Aug 2010 2:36:28 +0000",
	    "Tue, 31 Aug 2010 20:36:2 +0000",
	    "2010-08-31T20:36:28Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse_rfc2822(bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i] ? bad[i] : "(null)");
}

static void test_roundtrip(void **state)
{
	(void)state;
	char buf[40];
	for (int64_t t = -86400000LL * 365 * 70; t < 86400000LL * 365 * 300;
	     t += 86400000LL * 17 + 3723001) {
		int64_t sec = t - (t % 1000 + 1000) % 1000;
		assert_int_equal(parse_rfc2822(rfc2822(buf, t)), sec);
	}
}

static void test_ymd(void **state)
{
	(void)state;
	assert_int_equal(parse_ymd("1970-01-01"), 0);
	assert_int_equal(parse_ymd("2010-08-31"), T2010 - (20 * 3600 + 36 * 60 + 28) * 1000LL);
	assert_int_equal(parse_ymd("2000-02-29"), 951782400000LL);
	assert_int_equal(parse_ymd("1969-12-31"), -86400000LL);
	assert_int_equal(parse_ymd("9999-12-31"), 253402214400000LL);
	const char *bad[] = {NULL,
	                     "",
	                     "2010-8-31",
	                     "2010-08-1",
	                     "2010/08/31",
	                     "2010-08-31 ",
	                     " 2010-08-31",
	                     "2010-13-01",
	                     "2010-00-10",
	                     "2010-02-29",
	                     "1900-02-29",
	                     "2010-04-31",
	                     "2010-08-00",
	                     "20100831",
	                     "2010-08-3a",
	                     "+010-08-31",
	                     "2010-08-31T00:00:00Z"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse_ymd(bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i] ? bad[i] : "(null)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clocks),        cmocka_unit_test(test_format),
	    cmocka_unit_test(test_parse_rfc2822), cmocka_unit_test(test_parse_rfc2822_invalid),
	    cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_ymd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
