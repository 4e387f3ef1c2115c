/* test_sid.c — SID generation and validation, random hex tokens. */
#include "unit.h"

#include "sid.h"

static int all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || !s[i])
			return 0;
	return 1;
}

static void test_new_shape(void **state)
{
	(void)state;
	const char *prefixes[] = {"CA", "AC", "PN", "RE", "CF", "QU", "SK", "MZ"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		char sid[SID_LEN + 1];
		memset(sid, 'Z', sizeof sid);
		sid_new(sid, prefixes[i]);
		assert_int_equal(strlen(sid), SID_LEN);
		assert_memory_equal(sid, prefixes[i], 2);
		assert_true(all_lower_hex(sid + 2, 32));
		assert_true(sid_valid(sid, prefixes[i]));
		assert_true(sid_valid(sid, NULL));
		assert_false(sid_valid(sid, i ? "CA" : "AC"));
	}
}

static void test_new_unique(void **state)
{
	(void)state;
	enum { N = 2000 };
	static char sids[N][SID_LEN + 1];
	for (int i = 0; i < N; i++)
		sid_new(sids[i], "CA");
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			assert_string_not_equal(sids[i], sids[j]);
	/* Every hex digit shows up somewhere (catches a stuck nibble). */
	int seen[16] = {0};
	for (int i = 0; i < N; i++)
		for (int k = 2; k < SID_LEN; k++) {
			char c = sids[i][k];
			seen[c <= '9' ? c - '0' : c - 'a' + 10] = 1;
		}
	for (int d = 0; d < 16; d++)
		assert_true(seen[d]);
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(sid_valid("CA0123456789abcdef0123456789abcdef", "CA"));
	/* Twilio's pattern accepts uppercase hex too. */
	assert_true(sid_valid("CA0123456789ABCDEF0123456789ABCDEF", "CA"));
	assert_false(sid_valid("CA0123456789abcdef0123456789abcde", "CA"));   /* 31 */
	assert_false(sid_valid("CA0123456789abcdef0123456789abcdef0", "CA")); /* 33 */
	assert_false(sid_valid("CA0123456789abcdef0123456789abcdeg", "CA"));
	assert_false(sid_valid("ca0123456789abcdef0123456789abcdef", "CA"));
	assert_false(sid_valid("ca0123456789abcdef0123456789abcdef", NULL));
	assert_false(sid_valid("C10123456789abcdef0123456789abcdef", NULL));
	assert_false(sid_valid("CA0123456789abcdef 123456789abcdef", "CA"));
	assert_false(sid_valid("", "CA"));
	assert_false(sid_valid("CA", "CA"));
	assert_false(sid_valid(NULL, "CA"));
	assert_false(sid_valid("CA0123456789abcdef0123456789abcdef", "C"));
}

static void test_hex32(void **state)
{
	(void)state;
	char a[33], b[33];
	memset(a, 'Z', sizeof a);
	sid_hex32(a);
	sid_hex32(b);
	assert_int_equal(strlen(a), 32);
	assert_true(all_lower_hex(a, 32));
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_shape),
	    cmocka_unit_test(test_new_unique),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_hex32),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
