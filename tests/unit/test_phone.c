/* test_phone.c — E.164 normalisation and validation. */
#include "unit.h"

#include "phone.h"

static void ok(const char *in, const char *want)
{
	char out[17];
	if (e164_normalize(in, out, sizeof out) != 0)
		fail_msg("\"%s\" rejected, want %s", in, want);
	assert_string_equal(out, want);
	assert_true(e164_valid(out));
}

static void bad(const char *in)
{
	char out[17];
	if (e164_normalize(in, out, sizeof out) != -1)
		fail_msg("\"%s\" accepted as %s", in ? in : "(null)", out);
}

static void test_normalize(void **state)
{
	(void)state;
	ok("+14155551212", "+14155551212");
	ok("+1 (415) 555-1212", "+14155551212");
	ok("+1.415.555.1212", "+14155551212");
	ok("tel:+1-415-555-1212", "+14155551212");
	ok("TEL:+14155551212", "+14155551212");
	ok("tel:+1-415-555-1212;ext=22", "+14155551212");
	ok("+14155551212;phone-context=example.com", "+14155551212");
	ok("0044 20 7946 0000", "+442079460000");
	ok("004420-7946-0000", "+442079460000");
	ok("14155551212", "+14155551212");
	ok("12345678", "+12345678");               /* 8 bare digits */
	ok("123456789012345", "+123456789012345"); /* 15 bare digits */
	ok("+123456789012345", "+123456789012345");
	ok("00123456789012345", "+123456789012345");
	ok("+1", "+1");
	ok("0049", "+49"); /* "00" maps to "+" whatever the length */
	ok("004", "+4");
	ok("(+49) 30 1234567", "+49301234567");
}

static void test_normalize_rejects(void **state)
{
	(void)state;
	bad(NULL);
	bad("");
	bad("+");
	bad("tel:");
	bad("1234567");           /* 7 bare digits */
	bad("1234567890123456");  /* 16 bare digits */
	bad("+1234567890123456"); /* 16 digits */
	bad("001234567890123456");
	bad("+0441234567");
	bad("00");
	bad("000");
	bad("020 7946 0000 0"); /* national format, leading 0 */
	bad("02079460000");
	bad("++14155551212");
	bad("1+4155551212");
	bad("+1415555121a");
	bad("client:alice");
	bad("sip:+14155551212@example.com");
	bad("+1\t4155551212");
	bad("+1/415");
	bad(";+14155551212");
	bad("tel:;ext=1");
	/* A long string of separators and digits cannot overflow. */
	bad("+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0");
	/* Output buffer too small. */
	char small[16];
	assert_int_equal(e164_normalize("+14155551212", small, sizeof small), -1);
	assert_int_equal(e164_normalize("+14155551212", NULL, 17), -1);
}

static void test_normalize_clears_out(void **state)
{
	(void)state;
	char out[17];
	strcpy(out, "+1999");
	assert_int_equal(e164_normalize("nope", out, sizeof out), -1);
	assert_string_equal(out, "");
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(e164_valid("+1"));
	assert_true(e164_valid("+14155551212"));
	assert_true(e164_valid("+999999999999999"));
	assert_false(e164_valid("+9999999999999999"));
	assert_false(e164_valid(NULL));
	assert_false(e164_valid(""));
	assert_false(e164_valid("+"));
	assert_false(e164_valid("14155551212"));
	assert_false(e164_valid("+04155551212"));
	assert_false(e164_valid("+1 4155551212"));
	assert_false(e164_valid("+1415555121a"));
	assert_false(e164_valid("+14155551212 "));
	assert_false(e164_valid("++14155551212"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_normalize_rejects),
	    cmocka_unit_test(test_normalize_clears_out),
	    cmocka_unit_test(test_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
