/* test_form.c — form pairs, x-www-form-urlencoded parsing and encoding,
 * percent coding. */
#include "unit.h"

#include <stdio.h>

#include "form.h"

static int parse(form *f, const char *s)
{
	return form_parse(f, s, strlen(s));
}

static void test_add_get_count(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	assert_null(form_get(&f, "a"));
	assert_int_equal(form_count(&f, "a"), 0);
	assert_int_equal(form_add(&f, "a", "1"), 0);
	assert_int_equal(form_add(&f, "b", ""), 0);
	assert_int_equal(form_add(&f, "a", "2"), 0);
	assert_int_equal(f.n, 3);
	assert_string_equal(form_get(&f, "a"), "1");
	assert_string_equal(form_get(&f, "b"), "");
	assert_int_equal(form_count(&f, "a"), 2);
	assert_int_equal(form_count(&f, "A"), 0);
	assert_int_equal(form_add(&f, NULL, "x"), -1);
	assert_int_equal(form_add(&f, "x", NULL), -1);
	assert_int_equal(f.n, 3);
	form_free(&f);
	assert_int_equal(f.n, 0);
	assert_null(f.v);
	form_free(&f); /* idempotent */
}

static void test_grow_many(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	char name[16];
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "k%d", i);
		assert_int_equal(form_add(&f, name, name), 0);
	}
	assert_int_equal(f.n, 1000);
	assert_true(f.cap >= 1000);
	assert_string_equal(form_get(&f, "k999"), "k999");
	assert_string_equal(f.v[500].name, "k500");
	form_free(&f);
}

static void test_set(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	assert_int_equal(form_set(&f, "x", "0"), 0); /* appends */
	assert_int_equal(f.n, 1);
	assert_int_equal(parse(&f, "a=1&b=2&a=3&c=4&a=5"), 0);
	assert_int_equal(form_set(&f, "a", "9"), 0);
	assert_int_equal(form_count(&f, "a"), 1);
	assert_int_equal(f.n, 4);
	/* The first occurrence keeps its place; the others go, order kept. */
	assert_string_equal(f.v[0].name, "x");
	assert_string_equal(f.v[1].name, "a");
	assert_string_equal(f.v[1].value, "9");
	assert_string_equal(f.v[2].name, "b");
	assert_string_equal(f.v[3].name, "c");
	assert_int_equal(form_set(&f, "b", "22"), 0);
	assert_string_equal(form_get(&f, "b"), "22");
	assert_int_equal(f.n, 4);
	form_free(&f);
}

static void test_parse_basic(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	assert_int_equal(parse(&f, "CallSid=CA123&From=%2B14155551212&To=sip%3Aalice%40ex.com"
	                           "&Body=hello+world%20again&Empty=&NoEq&=v"),
	                 0);
	assert_int_equal(f.n, 7);
	assert_string_equal(form_get(&f, "CallSid"), "CA123");
	assert_string_equal(form_get(&f, "From"), "+14155551212");
	assert_string_equal(form_get(&f, "To"), "sip:alice@ex.com");
	assert_string_equal(form_get(&f, "Body"), "hello world again");
	assert_string_equal(form_get(&f, "Empty"), "");
	assert_string_equal(form_get(&f, "NoEq"), "");
	assert_string_equal(form_get(&f, ""), "v");
	form_free(&f);
}

static void test_parse_edges(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	assert_int_equal(parse(&f, ""), 0);
	assert_int_equal(parse(&f, "&&&"), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(parse(&f, "&a=1&&b=2&"), 0);
	assert_int_equal(f.n, 2);
	/* '=' inside a value stays; '+' in a name is a space; %2B is a plus. */
	assert_int_equal(parse(&f, "x=a=b&my+key=1%2B1"), 0);
	assert_string_equal(form_get(&f, "x"), "a=b");
	assert_string_equal(form_get(&f, "my key"), "1+1");
	/* Lowercase hex escapes. */
	assert_int_equal(parse(&f, "h=%c3%a9"), 0);
	assert_string_equal(form_get(&f, "h"), "\xc3\xa9");
	/* Length-bounded: bytes after len are not read. */
	assert_int_equal(form_parse(&f, "q=12345", 3), 0);
	assert_string_equal(form_get(&f, "q"), "1");
	assert_int_equal(form_parse(&f, NULL, 0), 0);
	assert_int_equal(form_parse(&f, NULL, 1), -1);
	form_free(&f);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	const char *bad[] = {
	    "a=%",
	    "a=%4",
	    "a=%zz",
	    "a=%4g",
	    "%=1",
	    "a=1&b=%G0",
	    "a=%00",
	    "a%00=1",
	    "a=\xff",
	    "a=%ff",
	    "a=%c3",
	    "a=%c3%28",
	    "a=%e0%80%80",    /* overlong */
	    "a=%c0%af",       /* overlong '/' */
	    "a=%ed%a0%80",    /* surrogate */
	    "a=%f4%90%80%80", /* > U+10FFFF */
	    "a=%f8%88%80%80%80",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		form f;
		form_init(&f);
		assert_int_equal(form_add(&f, "keep", "me"), 0);
		assert_int_equal(parse(&f, bad[i]), -1);
		/* A failed parse leaves the form as it was. */
		assert_int_equal(f.n, 1);
		assert_string_equal(f.v[0].name, "keep");
		form_free(&f);
	}
	/* A raw NUL inside the given length. */
	form f;
	form_init(&f);
	assert_int_equal(form_parse(&f, "a=1&b=x\0y", 9), -1);
	assert_int_equal(f.n, 0);
	/* The good pairs before a bad one are rolled back too. */
	assert_int_equal(parse(&f, "a=1&b=2&c=%"), -1);
	assert_int_equal(f.n, 0);
	form_free(&f);
}

static void test_parse_valid_utf8(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	/* 2-, 3- and 4-byte sequences, raw and escaped; U+10FFFF; U+FFFD. */
	assert_int_equal(parse(&f, "a=\xc3\xa9&b=%E2%82%AC&c=%F0%9F%98%80&d=%F4%8F%BF%BF"
	                           "&e=%EF%BF%BD&f=\xe2\x82\xac"),
	                 0);
	assert_int_equal(f.n, 6);
	assert_string_equal(form_get(&f, "c"), "\xf0\x9f\x98\x80");
	form_free(&f);
}

static void test_encode(void **state)
{
	(void)state;
	form f;
	form_init(&f);
	char *s = form_encode(&f);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(form_add(&f, "CallSid", "CA123"), 0);
	assert_int_equal(form_add(&f, "From", "+1 415"), 0);
	assert_int_equal(form_add(&f, "Sip Header", "a&b=c/d?e~f_g.h-i"), 0);
	assert_int_equal(form_add(&f, "u", "\xc3\xa9"), 0);
	assert_int_equal(form_add(&f, "", ""), 0);
	s = form_encode(&f);
	assert_non_null(s);
	assert_string_equal(s,
	                    "CallSid=CA123&From=%2B1%20415&Sip%20Header=a%26b%3Dc%2Fd%3Fe~f_g.h-i"
	                    "&u=%C3%A9&=");
	/* Round trip. */
	form g;
	form_init(&g);
	assert_int_equal(parse(&g, s), 0);
	assert_int_equal(g.n, f.n);
	for (size_t i = 0; i < f.n; i++) {
		assert_string_equal(g.v[i].name, f.v[i].name);
		assert_string_equal(g.v[i].value, f.v[i].value);
	}
	free(s);
	form_free(&f);
	form_free(&g);
}

static void test_pct(void **state)
{
	(void)state;
	const char *in = "AZaz09-._~ !*'();:@&=+$,/?#[]%";
	char *e = pct_encode(in, strlen(in));
	assert_non_null(e);
	assert_string_equal(
	    e, "AZaz09-._~%20%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%25");
	free(e);
	e = pct_encode("a\0b\xff", 4);
	assert_non_null(e);
	assert_string_equal(e, "a%00b%FF");
	size_t n = 0;
	char *d = pct_decode(e, strlen(e), 0, &n);
	assert_non_null(d);
	assert_int_equal(n, 4);
	assert_memory_equal(d, "a\0b\xff", 4);
	free(d);
	free(e);
	e = pct_encode("", 0);
	assert_non_null(e);
	assert_string_equal(e, "");
	free(e);

	d = pct_decode("a+b%20c", 7, 0, NULL);
	assert_non_null(d);
	assert_string_equal(d, "a+b c");
	free(d);
	d = pct_decode("a+b%20c", 7, 1, &n);
	assert_non_null(d);
	assert_string_equal(d, "a b c");
	assert_int_equal(n, 5);
	free(d);
	d = pct_decode("", 0, 1, &n);
	assert_non_null(d);
	assert_int_equal(n, 0);
	free(d);
	/* A '%' escape cut by len is bad even if the bytes after it are hex. */
	assert_null(pct_decode("%41", 2, 0, NULL));
	assert_null(pct_decode("%", 1, 0, NULL));
	assert_null(pct_decode("%x1", 3, 0, NULL));
	assert_null(pct_decode("%1x", 3, 0, NULL));
	d = pct_decode("%41%4a%4A", 9, 0, NULL);
	assert_non_null(d);
	assert_string_equal(d, "AJJ");
	free(d);
}

static void test_pct_roundtrip_all_bytes(void **state)
{
	(void)state;
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	char *e = pct_encode(all, 256);
	assert_non_null(e);
	for (const char *p = e; *p; p++)
		assert_non_null(strchr(
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%", *p));
	size_t n;
	char *d = pct_decode(e, strlen(e), 1, &n);
	assert_non_null(d);
	assert_int_equal(n, 256);
	assert_memory_equal(d, all, 256);
	free(d);
	free(e);
}

static void test_append_keeps_order_and_repeats(void **state)
{
	(void)state;
	form a, b;
	form_init(&a);
	form_init(&b);
	form_add(&a, "X", "1");
	form_add(&b, "Y", "2");
	form_add(&b, "X", "3");
	assert_int_equal(form_append(&a, &b), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[1].name, "Y");
	assert_string_equal(a.v[2].value, "3");
	assert_int_equal(form_count(&a, "X"), 2);
	assert_int_equal(b.n, 2);
	form_free(&a);
	form_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_get_count),
	    cmocka_unit_test(test_grow_many),
	    cmocka_unit_test(test_set),
	    cmocka_unit_test(test_append_keeps_order_and_repeats),
	    cmocka_unit_test(test_parse_basic),
	    cmocka_unit_test(test_parse_edges),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_parse_valid_utf8),
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_pct),
	    cmocka_unit_test(test_pct_roundtrip_all_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
