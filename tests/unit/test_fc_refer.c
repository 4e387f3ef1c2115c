/* test_fc_refer.c — the REFER header parsers (fc_refer.h): Refer-To in its
 * name-addr and addr-spec forms, display names, URI schemes, embedded URI
 * headers (%-decoding, injection, limits), Replaces (RFC 3891), Referred-By
 * (RFC 3892), and the error contract (code, zeroed output, printable reason). */
#include "unit.h"

#include <stdio.h>

#include "fc_refer.h"

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int zeroed(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static fc_refer_to rt; /* large: kept off the stack */

#define RT_OK(s) rt_ok(s, strlen(s), __LINE__)
#define RT_OKN(s, n) rt_ok(s, n, __LINE__)
static fc_refer_to *rt_ok(const char *s, size_t len, int line)
{
	char err[128] = "x";
	int rc = fc_refer_to_parse(s, len, &rt, err, sizeof err);
	if (rc != FC_REFER_OK)
		fail_msg("line %d: \"%.100s\" refused: %d %s", line, s, rc, err);
	assert_string_equal(err, "");
	return &rt;
}

#define RT_BAD(s, want) rt_bad(s, strlen(s), want, __LINE__)
#define RT_BADN(s, n, want) rt_bad(s, n, want, __LINE__)
static void rt_bad(const char *s, size_t len, int want, int line)
{
	char err[128] = "";
	memset(&rt, 0x5a, sizeof rt);
	int rc = fc_refer_to_parse(s, len, &rt, err, sizeof err);
	if (rc != want)
		fail_msg("line %d: \"%.100s\": got %d (%s, uri %.100s), want %d", line, s, rc, err,
		         rc ? "-" : rt.uri, want);
	if (!zeroed(&rt, sizeof rt))
		fail_msg("line %d: output not zeroed after an error", line);
	if (!err[0] || !printable(err) || strlen(err) > 80)
		fail_msg("line %d: missing or unprintable reason \"%s\"", line, err);
	/* err is optional */
	assert_int_equal(fc_refer_to_parse(s, len, &rt, NULL, 0), want);
}

#define RP_OK(s, r) rp_ok(s, r, __LINE__)
static void rp_ok(const char *s, fc_replaces *r, int line)
{
	char err[128] = "x";
	int rc = fc_replaces_parse(s, strlen(s), r, err, sizeof err);
	if (rc != FC_REFER_OK)
		fail_msg("line %d: Replaces \"%.100s\" refused: %s", line, s, err);
	assert_string_equal(err, "");
}

#define RP_BAD(s) rp_bad(s, strlen(s), __LINE__)
static void rp_bad(const char *s, size_t len, int line)
{
	char err[128] = "";
	fc_replaces r;
	memset(&r, 0x5a, sizeof r);
	int rc = fc_replaces_parse(s, len, &r, err, sizeof err);
	if (rc != FC_REFER_ESYNTAX)
		fail_msg("line %d: Replaces \"%.100s\": got %d (call-id %s)", line, s, rc,
		         rc ? "-" : r.call_id);
	if (!zeroed(&r, sizeof r))
		fail_msg("line %d: Replaces not zeroed after an error", line);
	if (!err[0] || !printable(err) || strlen(err) > 80)
		fail_msg("line %d: missing or unprintable reason \"%s\"", line, err);
}

#define RB_OK(s, want) rb_ok(s, want, __LINE__)
static void rb_ok(const char *s, const char *want, int line)
{
	char uri[1100], err[128] = "x";
	int rc = fc_referred_by_parse(s, strlen(s), uri, sizeof uri, err, sizeof err);
	if (rc != FC_REFER_OK)
		fail_msg("line %d: Referred-By \"%.100s\" refused: %s", line, s, err);
	if (strcmp(uri, want))
		fail_msg("line %d: Referred-By \"%.100s\": uri \"%s\", want \"%s\"", line, s, uri,
		         want);
	assert_string_equal(err, "");
}

#define RB_BAD(s) rb_bad(s, strlen(s), __LINE__)
static void rb_bad(const char *s, size_t len, int line)
{
	char uri[1100], err[128] = "";
	memset(uri, 'Z', sizeof uri);
	int rc = fc_referred_by_parse(s, len, uri, sizeof uri, err, sizeof err);
	if (rc != FC_REFER_ESYNTAX)
		fail_msg("line %d: Referred-By \"%.100s\": got %d (uri %.100s)", line, s, rc,
		         rc ? "-" : uri);
	assert_string_equal(uri, "");
	if (!err[0] || !printable(err) || strlen(err) > 80)
		fail_msg("line %d: missing or unprintable reason \"%s\"", line, err);
}

/* ---- the examples of the specification --------------------------------- */

static void test_examples_ok(void **state)
{
	(void)state;
	fc_refer_to *r = RT_OK("<sip:bob@example.com>");
	assert_string_equal(r->uri, "sip:bob@example.com");
	assert_string_equal(r->scheme, "sip");
	assert_string_equal(r->display, "");
	assert_int_equal(r->n_hdrs, 0);
	assert_int_equal(r->has_replaces, 0);

	r = RT_OK("sip:bob@example.com");
	assert_string_equal(r->uri, "sip:bob@example.com");
	assert_string_equal(r->scheme, "sip");

	r = RT_OK("<sip:bob@example.com;transport=tcp?X-Foo=bar&User-to-User=00aa%3Bencoding%"
	          "3Dhex>");
	assert_string_equal(r->uri, "sip:bob@example.com;transport=tcp");
	assert_int_equal(r->n_hdrs, 2);
	assert_string_equal(r->hdrs[0].name, "X-Foo");
	assert_string_equal(r->hdrs[0].value, "bar");
	assert_string_equal(r->hdrs[1].name, "User-to-User");
	assert_string_equal(r->hdrs[1].value, "00aa;encoding=hex");
	assert_int_equal(r->has_replaces, 0);

	r = RT_OK("\"Bob \\\"B\\\" Smith\" <sips:bob@h>;foo=bar");
	assert_string_equal(r->display, "Bob \"B\" Smith");
	assert_string_equal(r->uri, "sips:bob@h");
	assert_string_equal(r->scheme, "sips");

	r = RT_OK("Bob <tel:+15551234567>");
	assert_string_equal(r->display, "Bob");
	assert_string_equal(r->uri, "tel:+15551234567");
	assert_string_equal(r->scheme, "tel");

	r = RT_OK("<tel:+15551234567?X-Id=42>");
	assert_string_equal(r->uri, "tel:+15551234567");
	assert_string_equal(r->scheme, "tel");
	assert_int_equal(r->n_hdrs, 1);
	assert_string_equal(r->hdrs[0].name, "X-Id");
	assert_string_equal(r->hdrs[0].value, "42");

	r = RT_OK("<sip:carol@h?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>");
	assert_string_equal(r->uri, "sip:carol@h");
	assert_int_equal(r->n_hdrs, 0);
	assert_int_equal(r->has_replaces, 1);
	assert_string_equal(r->replaces.call_id, "abc@h");
	assert_string_equal(r->replaces.to_tag, "1");
	assert_string_equal(r->replaces.from_tag, "2");
	assert_int_equal(r->replaces.early_only, 0);

	r = RT_OK("<sip:carol@h?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2%3Bearly-only>");
	assert_int_equal(r->has_replaces, 1);
	assert_string_equal(r->replaces.call_id, "abc@h");
	assert_string_equal(r->replaces.to_tag, "1");
	assert_string_equal(r->replaces.from_tag, "2");
	assert_int_equal(r->replaces.early_only, 1);
}

static void test_examples_fail(void **state)
{
	(void)state;
	RT_BAD("", FC_REFER_ESYNTAX);
	RT_BAD("<>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b", FC_REFER_ESYNTAX);
	RT_BAD("sip:", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-Foo=%ZZ>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-Foo=a%0d%0aVia:x>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?=v>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>, <sip:c@d>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b> junk", FC_REFER_ESYNTAX);
	RT_BAD("<mailto:a@b>", FC_REFER_ESCHEME);
	RT_BAD("<http://x>", FC_REFER_ESCHEME);
	RT_BAD("<sip:a@b?Replaces=abc>", FC_REFER_ESYNTAX);
	RT_BAD("\"unterminated <sip:a@b>", FC_REFER_ESYNTAX);
}

/* ---- forms ------------------------------------------------------------- */

static void test_display_names(void **state)
{
	(void)state;
	fc_refer_to *r = RT_OK("\"\" <sip:a@b>");
	assert_string_equal(r->display, "");
	r = RT_OK("\"Alice\"<sip:a@b>");
	assert_string_equal(r->display, "Alice");
	r = RT_OK("\"a\\\\b\" <sip:a@b>");
	assert_string_equal(r->display, "a\\b");
	/* quoted: < > , ; are text */
	r = RT_OK("\"Smith, J <x>; y\" <sip:a@b>");
	assert_string_equal(r->display, "Smith, J <x>; y");
	/* tokens separated by white space, kept as written */
	r = RT_OK("Bob  Q.\tSmith <sip:a@b>");
	assert_string_equal(r->display, "Bob  Q.\tSmith");
	r = RT_OK("Bob<sip:a@b>");
	assert_string_equal(r->display, "Bob");
	/* UTF-8, quoted or not */
	r = RT_OK("J\xc3\xbcrgen <sip:a@b>");
	assert_string_equal(r->display, "J\xc3\xbcrgen");
	r = RT_OK("\"J\xc3\xbcrgen M\" <sip:a@b>");
	assert_string_equal(r->display, "J\xc3\xbcrgen M");
	/* surrounding white space */
	r = RT_OK(" \t \"A\" \t <sip:a@b> \t ");
	assert_string_equal(r->display, "A");
	assert_string_equal(r->uri, "sip:a@b");

	/* 128 bytes fit, 129 do not (after unescaping) */
	char buf[400], name[200];
	memset(name, 'n', 128);
	name[128] = 0;
	snprintf(buf, sizeof buf, "\"%s\" <sip:a@b>", name);
	r = RT_OK(buf);
	assert_int_equal(strlen(r->display), 128);
	snprintf(buf, sizeof buf, "%s <sip:a@b>", name);
	RT_OK(buf);
	snprintf(buf, sizeof buf, "\"%s\\\"\" <sip:a@b>", name);
	RT_BAD(buf, FC_REFER_ESYNTAX);
	snprintf(buf, sizeof buf, "\"n%s\" <sip:a@b>", name);
	RT_BAD(buf, FC_REFER_ESYNTAX);
	snprintf(buf, sizeof buf, "n%s <sip:a@b>", name);
	RT_BAD(buf, FC_REFER_ESYNTAX);
	for (int i = 0; i < 127; i++)
		buf[2 * i] = '\\', buf[2 * i + 1] = 'x';
	snprintf(buf + 254, sizeof buf - 254, "\\\"\" <sip:a@b>");
	memmove(buf + 1, buf, strlen(buf) + 1);
	buf[0] = '"';
	r = RT_OK(buf);
	assert_int_equal(strlen(r->display), 128);

	RT_BAD("\"Bob\" sip:a@b", FC_REFER_ESYNTAX);
	RT_BAD("\"Bob\"", FC_REFER_ESYNTAX);
	RT_BAD("\"Bob\\\" <sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("\"Bob\\", FC_REFER_ESYNTAX);
	RT_BAD("Bob sip:a@b", FC_REFER_ESYNTAX);
	RT_BAD("Bob, Jr <sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("Bob@x <sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("\"a\" \"b\" <sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("Bob", FC_REFER_ESYNTAX);
}

/* A bare addr-spec ends at the first ';' (header params follow) or white
 * space; '?' still starts the embedded headers. */
static void test_addr_spec(void **state)
{
	(void)state;
	fc_refer_to *r = RT_OK("sip:bob@example.com;transport=tcp");
	assert_string_equal(r->uri, "sip:bob@example.com");
	r = RT_OK("  sips:bob@example.com:5061  ");
	assert_string_equal(r->uri, "sips:bob@example.com:5061");
	assert_string_equal(r->scheme, "sips");
	r = RT_OK("tel:+15551234567;foo=bar");
	assert_string_equal(r->uri, "tel:+15551234567");
	r = RT_OK("sip:carol@h?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2&X-A=b;p=1");
	assert_string_equal(r->uri, "sip:carol@h");
	assert_int_equal(r->has_replaces, 1);
	assert_string_equal(r->replaces.call_id, "abc");
	assert_int_equal(r->n_hdrs, 1);
	assert_string_equal(r->hdrs[0].value, "b");
	/* after ';' it is a header parameter, '?' included */
	r = RT_OK("sip:a@b;p=x?X-A=1");
	assert_string_equal(r->uri, "sip:a@b");
	assert_int_equal(r->n_hdrs, 0);

	RT_BAD("sip:a@b, sip:c@d", FC_REFER_ESYNTAX);
	RT_BAD("sip:a@b,sip:c@d", FC_REFER_ESYNTAX);
	RT_BAD("sip:a@b junk", FC_REFER_ESYNTAX);
	RT_BAD("sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("sip:a\"@b", FC_REFER_ESYNTAX);
	RT_BAD("sip:a@b\xc3\xa9", FC_REFER_ESYNTAX);
	RT_BAD(";foo=bar", FC_REFER_ESYNTAX);
	RT_BAD("sip:;foo", FC_REFER_ESYNTAX);
}

static void test_brackets_and_params(void **state)
{
	(void)state;
	fc_refer_to *r = RT_OK("<sip:a@b;lr;maddr=10.0.0.1>;foo=bar; baz ;q=\"x,y;z\" ;w = 1");
	assert_string_equal(r->uri, "sip:a@b;lr;maddr=10.0.0.1");
	r = RT_OK("<sip:a@b>;method=INVITE");
	assert_string_equal(r->uri, "sip:a@b");
	/* ',' is fine inside the brackets */
	r = RT_OK("<sip:a,b@c?X-L=1,2>");
	assert_string_equal(r->uri, "sip:a,b@c");
	assert_string_equal(r->hdrs[0].value, "1,2");
	r = RT_OK("<sip:[2001:db8::1]:5060>;received=[2001:db8::2]");
	assert_string_equal(r->uri, "sip:[2001:db8::1]:5060");

	RT_BAD("<sip:a@b>>", FC_REFER_ESYNTAX);
	RT_BAD("<<sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b><sip:c@d>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>,", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;foo=bar,<sip:c@d>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;foo=\"x", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;foo=\"x\\\"", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;foo=x\"y", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;=x", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;foo=", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;foo=bar baz", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;foo=<x>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;;foo", FC_REFER_ESYNTAX);
	RT_BAD("< sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b >", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a b@c>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a\"@b>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@\xc3\xa9>", FC_REFER_ESYNTAX);
	RT_BAD(">", FC_REFER_ESYNTAX);
	RT_BAD("<", FC_REFER_ESYNTAX);
	RT_BAD("   ", FC_REFER_ESYNTAX);
	RT_BAD("\t", FC_REFER_ESYNTAX);
}

static void test_schemes(void **state)
{
	(void)state;
	fc_refer_to *r = RT_OK("<SIP:Bob@Example.COM>");
	assert_string_equal(r->scheme, "sip");
	assert_string_equal(r->uri, "SIP:Bob@Example.COM");
	r = RT_OK("SiPs:a@b");
	assert_string_equal(r->scheme, "sips");
	assert_string_equal(r->uri, "SiPs:a@b");
	r = RT_OK("<TEL:+1-555-123>");
	assert_string_equal(r->scheme, "tel");

	RT_BAD("<mailto:a@b>", FC_REFER_ESCHEME);
	RT_BAD("<urn:service:sos>", FC_REFER_ESCHEME);
	RT_BAD("<sipx:a@b>", FC_REFER_ESCHEME);
	RT_BAD("<si:a@b>", FC_REFER_ESCHEME);
	RT_BAD("<a+b-c.d:x>", FC_REFER_ESCHEME);
	RT_BAD("\"Web\" <https://example.com/x?a=b&c>;p=1", FC_REFER_ESCHEME);
	RT_BAD("im:alice@example.com", FC_REFER_ESCHEME);
	/* malformed before the scheme is looked at */
	RT_BAD("<mailto:a@b> junk", FC_REFER_ESYNTAX);
	RT_BAD("<mailto:a@b", FC_REFER_ESYNTAX);
	RT_BAD("<mailto:>", FC_REFER_ESYNTAX);
	/* no scheme, empty scheme, bad scheme characters */
	RT_BAD("<bob@example.com>", FC_REFER_ESYNTAX);
	RT_BAD("bob@example.com", FC_REFER_ESYNTAX);
	RT_BAD("<:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("<1sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("<s_p:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("<sip>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:?X-A=1>", FC_REFER_ESYNTAX);
	RT_BAD("<tel:>", FC_REFER_ESYNTAX);
	RT_BAD("sip:;x=1", FC_REFER_ESYNTAX);
}

/* ---- embedded headers -------------------------------------------------- */

static void test_uri_headers(void **state)
{
	(void)state;
	fc_refer_to *r = RT_OK("<sip:a@b?X-A=%41%4a%4A%7e%25&X-E=&x.y!%*_+`'~=1>");
	assert_int_equal(r->n_hdrs, 3);
	assert_string_equal(r->hdrs[0].value, "AJJ~%");
	assert_string_equal(r->hdrs[1].name, "X-E");
	assert_string_equal(r->hdrs[1].value, "");
	assert_string_equal(r->hdrs[2].name, "x.y!%*_+`'~");
	assert_string_equal(r->hdrs[2].value, "1");
	/* leniency: '=', '?', ';', '@' unescaped in a value; names kept as written */
	r = RT_OK("<sip:a@b?x-foo=a=b?c;d@e&X-FOO=2>");
	assert_string_equal(r->hdrs[0].name, "x-foo");
	assert_string_equal(r->hdrs[0].value, "a=b?c;d@e");
	assert_string_equal(r->hdrs[1].name, "X-FOO");
	/* a space and a tab, %-encoded, and UTF-8 */
	r = RT_OK("<sip:a@b?Subject=hi%20there%09%C3%A9>");
	assert_string_equal(r->hdrs[0].value, "hi there\t\xc3\xa9");
	/* the URI keeps its %-escapes as written */
	r = RT_OK("<sip:%61lice@b;x=%41?X-A=1>");
	assert_string_equal(r->uri, "sip:%61lice@b;x=%41");

	RT_BAD("<sip:a@b?>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=1&>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?&X-A=1>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=1&&X-B=2>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X(A)=1>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X:A=1>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=%>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=%4>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=a%4>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=%g1>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=%1g>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=%%41>", FC_REFER_ESYNTAX);
	/* header injection */
	RT_BAD("<sip:a@b?X-A=a%0aVia:x>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=a%0Dx>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=a%00x>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=a%01x>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=a%7Fx>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b?X-A=1&X-B=%0d%0a>", FC_REFER_ESYNTAX);
	RT_BAD("<tel:+1?X-A=%0a>", FC_REFER_ESYNTAX);
}

static void test_uri_header_limits(void **state)
{
	(void)state;
	static char buf[9000];
	size_t n;

	/* 16 headers, plus a Replaces that does not count */
	n = (size_t)sprintf(buf, "<sip:a@b?");
	for (int i = 0; i < 16; i++)
		n += (size_t)sprintf(buf + n, "%sX-H%d=v%d", i ? "&" : "", i, i);
	strcpy(buf + n, ">");
	fc_refer_to *r = RT_OK(buf);
	assert_int_equal(r->n_hdrs, 16);
	assert_string_equal(r->hdrs[15].name, "X-H15");
	assert_string_equal(r->hdrs[15].value, "v15");
	strcpy(buf + n, "&Replaces=c%3Bto-tag%3Dt%3Bfrom-tag%3Df>");
	r = RT_OK(buf);
	assert_int_equal(r->n_hdrs, 16);
	assert_int_equal(r->has_replaces, 1);
	strcpy(buf + n, "&X-H16=v>");
	RT_BAD(buf, FC_REFER_ESYNTAX);

	/* a 1024-byte decoded value, plain or escaped; 1025 fails */
	n = (size_t)sprintf(buf, "<sip:a@b?X-V=");
	memset(buf + n, 'v', 1024);
	strcpy(buf + n + 1024, ">");
	r = RT_OK(buf);
	assert_int_equal(strlen(r->hdrs[0].value), 1024);
	strcpy(buf + n + 1024, "v>");
	RT_BAD(buf, FC_REFER_ESYNTAX);
	for (int i = 0; i < 1024; i++)
		memcpy(buf + n + 3 * i, "%41", 3);
	strcpy(buf + n + 3 * 1024, ">");
	r = RT_OK(buf);
	assert_int_equal(strlen(r->hdrs[0].value), 1024);
	assert_int_equal(r->hdrs[0].value[1023], 'A');
	strcpy(buf + n + 3 * 1024, "%41>");
	RT_BAD(buf, FC_REFER_ESYNTAX);

	/* a 64-byte header name; 65 fails */
	char name[80];
	memset(name, 'N', 64);
	name[64] = 0;
	sprintf(buf, "<sip:a@b?%s=1>", name);
	r = RT_OK(buf);
	assert_string_equal(r->hdrs[0].name, name);
	sprintf(buf, "<sip:a@b?N%s=1>", name);
	RT_BAD(buf, FC_REFER_ESYNTAX);

	/* a 1024-byte URI (headers excluded); 1025 fails */
	n = (size_t)sprintf(buf, "<sip:");
	memset(buf + n, 'u', 1020);
	strcpy(buf + n + 1020, "?X-A=1>");
	r = RT_OK(buf);
	assert_int_equal(strlen(r->uri), 1024);
	strcpy(buf + n + 1020, "u?X-A=1>");
	RT_BAD(buf, FC_REFER_ESYNTAX);
}

/* ---- Replaces ---------------------------------------------------------- */

static void test_replaces(void **state)
{
	(void)state;
	fc_replaces r;
	RP_OK("abc@h;to-tag=1;from-tag=2", &r);
	assert_string_equal(r.call_id, "abc@h");
	assert_string_equal(r.to_tag, "1");
	assert_string_equal(r.from_tag, "2");
	assert_int_equal(r.early_only, 0);
	/* other order, unknown params, case, white space */
	RP_OK("  425928@bobster.example.org ; FROM-TAG = 7743 ;x=\"a;b\";early-ONLY;"
	      "To-Tag=a.b-c!%*_+`'~;y ; z=1  ",
	      &r);
	assert_string_equal(r.call_id, "425928@bobster.example.org");
	assert_string_equal(r.to_tag, "a.b-c!%*_+`'~");
	assert_string_equal(r.from_tag, "7743");
	assert_int_equal(r.early_only, 1);
	/* RFC 3261 word characters in the Call-ID */
	RP_OK("a(b)<c>:d\\e\"f/[g]?{h}@i;to-tag=1;from-tag=2", &r);
	assert_string_equal(r.call_id, "a(b)<c>:d\\e\"f/[g]?{h}@i");

	/* limits: Call-ID 256, tags 128 */
	char buf[700], big[300];
	memset(big, 'c', 256);
	big[256] = 0;
	snprintf(buf, sizeof buf, "%s;to-tag=1;from-tag=2", big);
	RP_OK(buf, &r);
	assert_int_equal(strlen(r.call_id), 256);
	snprintf(buf, sizeof buf, "c%s;to-tag=1;from-tag=2", big);
	RP_BAD(buf);
	big[128] = 0;
	snprintf(buf, sizeof buf, "c;to-tag=%s;from-tag=%s", big, big);
	RP_OK(buf, &r);
	assert_int_equal(strlen(r.to_tag), 128);
	assert_int_equal(strlen(r.from_tag), 128);
	snprintf(buf, sizeof buf, "c;to-tag=t%s;from-tag=%s", big, big);
	RP_BAD(buf);
	snprintf(buf, sizeof buf, "c;to-tag=%s;from-tag=f%s", big, big);
	RP_BAD(buf);

	RP_BAD("");
	RP_BAD("abc");
	RP_BAD("abc;to-tag=1");
	RP_BAD("abc;from-tag=2");
	RP_BAD(";to-tag=1;from-tag=2");
	RP_BAD(" ;to-tag=1;from-tag=2");
	RP_BAD("a b;to-tag=1;from-tag=2");
	RP_BAD("a,b;to-tag=1;from-tag=2");
	RP_BAD("a\xc3\xa9;to-tag=1;from-tag=2");
	RP_BAD("abc;to-tag=;from-tag=2");
	RP_BAD("abc;to-tag;from-tag=2");
	RP_BAD("abc;to-tag=\"1\";from-tag=2");
	RP_BAD("abc;to-tag=1 x;from-tag=2");
	RP_BAD("abc;to-tag=a/b;from-tag=2");
	RP_BAD("abc;to-tag=1;from-tag=2;to-tag=3");
	RP_BAD("abc;to-tag=1;from-tag=2;from-tag=2");
	RP_BAD("abc;to-tag=1;from-tag=2;early-only=yes");
	RP_BAD("abc;to-tag=1;from-tag=2;");
	RP_BAD("abc;;to-tag=1;from-tag=2");
	RP_BAD("abc;to-tag=1;from-tag=2;x=\"unterminated");
	RP_BAD("abc;to-tag=1;from-tag=2;x=a\"b");
	RP_BAD("abc;to-tag=1;from-tag=2\r\n");
	rp_bad("abc;to-tag=1;from-tag=2\0x", 25, __LINE__);
	/* not NUL-terminated: only len bytes are read */
	assert_int_equal(fc_replaces_parse("abc;to-tag=1;from-tag=2;early-only", 23, &r, NULL, 0),
	                 FC_REFER_OK);
	assert_int_equal(r.early_only, 0);
}

static void test_refer_to_replaces(void **state)
{
	(void)state;
	/* raw ';' and '=' inside the brackets, case-insensitive header name, among others */
	fc_refer_to *r = RT_OK("<sip:carol@h?X-A=1&rePLACES=abc;to-tag=1;from-tag=2&X-B=%32>");
	assert_int_equal(r->has_replaces, 1);
	assert_string_equal(r->replaces.call_id, "abc");
	assert_int_equal(r->n_hdrs, 2);
	assert_string_equal(r->hdrs[0].name, "X-A");
	assert_string_equal(r->hdrs[1].name, "X-B");
	assert_string_equal(r->hdrs[1].value, "2");
	r = RT_OK("<sip:carol@h?Replaces=a%40b%3B%20from-tag%3D9%3Bfoo%3Dbar%3Bto-tag%3D8>");
	assert_string_equal(r->replaces.call_id, "a@b");
	assert_string_equal(r->replaces.to_tag, "8");
	assert_string_equal(r->replaces.from_tag, "9");
	/* the header name must be exactly Replaces */
	r = RT_OK("<sip:carol@h?Replaces2=x&X-Replaces=y>");
	assert_int_equal(r->has_replaces, 0);
	assert_int_equal(r->n_hdrs, 2);

	RT_BAD("<sip:c@h?Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=a%3Bto-tag%3D1%3Bfrom-"
	       "tag%3D2>",
	       FC_REFER_ESYNTAX);
	RT_BAD("<sip:c@h?Replaces=>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:c@h?Replaces=a%3Bto-tag%3D1>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:c@h?Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2%0d%0aX:1>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:c@h?Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D%>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:c@h?Replaces=a%20b%3Bto-tag%3D1%3Bfrom-tag%3D2>", FC_REFER_ESYNTAX);
}

/* ---- Referred-By ------------------------------------------------------- */

static void test_referred_by(void **state)
{
	(void)state;
	RB_OK("<sip:referrer@referrer.example>;cid=\"20398823.2UWQFN309shb3@referrer.example\"",
	      "sip:referrer@referrer.example");
	RB_OK("sip:alice@a.example;cid=abc@x", "sip:alice@a.example");
	RB_OK("\"Alice \\\"A\\\"\" <sips:alice@a.example;transport=tls?X-A=%0d>;cid=\"x\"",
	      "sips:alice@a.example;transport=tls?X-A=%0d");
	RB_OK("Alice <tel:+15551234567>", "tel:+15551234567");
	RB_OK("<mailto:alice@example.com>", "mailto:alice@example.com");
	RB_OK("  urn:x:y  ", "urn:x:y");
	/* the display name is not kept, so its length does not matter */
	char buf[700];
	memset(buf, 'd', 600);
	strcpy(buf + 600, " <sip:a@b>");
	RB_OK(buf, "sip:a@b");

	RB_BAD("");
	RB_BAD("<>");
	RB_BAD("<sip:a@b");
	RB_BAD("sip:");
	RB_BAD("<a@b>");
	RB_BAD("<sip:a@b>, <sip:c@d>");
	RB_BAD("<sip:a@b> junk");
	RB_BAD("<sip:a@b>;cid=\"x");
	RB_BAD("\"unterminated <sip:a@b>");
	RB_BAD("<sip:a@b>;cid=\"x\r\n\"");

	/* the URI must fit with its NUL, else nothing is written */
	char uri[9], err[64];
	assert_int_equal(fc_referred_by_parse("<sip:a@bc>", 10, uri, 9, err, sizeof err),
	                 FC_REFER_OK);
	assert_string_equal(uri, "sip:a@bc");
	memset(uri, 'Z', sizeof uri);
	assert_int_equal(fc_referred_by_parse("<sip:a@bc>", 10, uri, 8, err, sizeof err),
	                 FC_REFER_ESYNTAX);
	assert_string_equal(uri, "");
	assert_true(err[0] != 0);
	assert_int_equal(fc_referred_by_parse("<sip:a@bc>", 10, uri, 0, err, sizeof err),
	                 FC_REFER_ESYNTAX);
	assert_int_equal(fc_referred_by_parse("<sip:a@bc>", 10, NULL, 8, NULL, 0),
	                 FC_REFER_ESYNTAX);
	assert_int_equal(fc_referred_by_parse(NULL, 10, uri, sizeof uri, NULL, 0),
	                 FC_REFER_ESYNTAX);
}

/* ---- bytes, lengths, the error contract ------------------------------- */

static void test_control_bytes(void **state)
{
	(void)state;
	RT_BAD("<sip:a@b>\r\n", FC_REFER_ESYNTAX);
	RT_BAD("\r\n<sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b>;p=\"\n\"", FC_REFER_ESYNTAX);
	RT_BAD("\"a\x01\" <sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("\"a\\\x01\" <sip:a@b>", FC_REFER_ESYNTAX);
	RT_BAD("<sip:a@b\x7f>", FC_REFER_ESYNTAX);
	RT_BAD("<mailto:a@b\x7f>", FC_REFER_ESYNTAX);
	RT_BADN("<sip:a@b>\0", 10, FC_REFER_ESYNTAX);
	RT_BADN("<sip:a\0@b>", 10, FC_REFER_ESYNTAX);
	RT_BADN("\0", 1, FC_REFER_ESYNTAX);
	/* HTAB is white space */
	RT_OK("\t<sip:a@b>\t;\tp\t=\t1\t");
	/* only len bytes are read */
	fc_refer_to *r = RT_OKN("<sip:a@b>junk", 9);
	assert_string_equal(r->uri, "sip:a@b");
	r = RT_OKN("sip:a@b;x", 7);
	assert_string_equal(r->uri, "sip:a@b");
	RT_BADN("<sip:a@b>", 8, FC_REFER_ESYNTAX);
	RT_BADN("<sip:a@b>", 0, FC_REFER_ESYNTAX);
}

static void test_lengths(void **state)
{
	(void)state;
	static char buf[8300];
	/* 8192 bytes are looked at (here mostly parameters), 8193 are not */
	size_t n = (size_t)sprintf(buf, "<sip:a@b>");
	while (n < 8192)
		buf[n++] = ' ';
	buf[n] = 0;
	memcpy(buf + 8180, ";x=1", 4);
	RT_OKN(buf, 8192);
	RT_BADN(buf, 8193, FC_REFER_ESYNTAX);
	char uri[16];
	assert_int_equal(fc_referred_by_parse(buf, 8192, uri, sizeof uri, NULL, 0), FC_REFER_OK);
	assert_int_equal(fc_referred_by_parse(buf, 8193, uri, sizeof uri, NULL, 0),
	                 FC_REFER_ESYNTAX);
	fc_replaces rp;
	memset(buf, ' ', 8193);
	memcpy(buf, "a;to-tag=1;from-tag=2", 21);
	assert_int_equal(fc_replaces_parse(buf, 8192, &rp, NULL, 0), FC_REFER_OK);
	assert_int_equal(fc_replaces_parse(buf, 8193, &rp, NULL, 0), FC_REFER_ESYNTAX);
	/* a long Refer-To (over FC_REFER_TO_MAX: the caller's limit) parses */
	n = (size_t)sprintf(buf, "<sip:");
	memset(buf + n, 'u', 400);
	strcpy(buf + n + 400, "@h>");
	assert_true(strlen(buf) > FC_REFER_TO_MAX);
	RT_OK(buf);
}

static void test_error_contract(void **state)
{
	(void)state;
	char err[128];
	/* reasons are cut to errlen - 1 */
	memset(err, 'Z', sizeof err);
	assert_int_equal(fc_refer_to_parse("<mailto:a@b>", 12, &rt, err, 5), FC_REFER_ESCHEME);
	assert_int_equal(strlen(err), 4);
	assert_int_equal(err[5], 'Z');
	memset(err, 'Z', sizeof err);
	assert_int_equal(fc_refer_to_parse("<sip:a@b", 8, &rt, err, 1), FC_REFER_ESYNTAX);
	assert_int_equal(err[0], 0);
	assert_int_equal(err[1], 'Z');
	fc_replaces rp;
	memset(err, 'Z', sizeof err);
	assert_int_equal(fc_replaces_parse("a", 1, &rp, err, 3), FC_REFER_ESYNTAX);
	assert_int_equal(strlen(err), 2);
	/* a success clears err */
	strcpy(err, "old");
	assert_int_equal(fc_refer_to_parse("<sip:a@b>", 9, &rt, err, sizeof err), FC_REFER_OK);
	assert_string_equal(err, "");
	/* NULL arguments */
	assert_int_equal(fc_refer_to_parse(NULL, 3, &rt, err, sizeof err), FC_REFER_ESYNTAX);
	assert_true(zeroed(&rt, sizeof rt));
	assert_true(err[0] != 0);
	assert_int_equal(fc_refer_to_parse("<sip:a@b>", 9, NULL, err, sizeof err),
	                 FC_REFER_ESYNTAX);
	assert_int_equal(fc_replaces_parse(NULL, 3, &rp, NULL, 0), FC_REFER_ESYNTAX);
	assert_int_equal(fc_replaces_parse("a;to-tag=1;from-tag=2", 21, NULL, NULL, 0),
	                 FC_REFER_ESYNTAX);
	/* a successful parse after a failed one starts clean */
	RT_OK("<sip:a@b?X-A=1&Replaces=c%3Bto-tag%3D1%3Bfrom-tag%3D2>");
	fc_refer_to *r = RT_OK("<sip:a@b>");
	assert_int_equal(r->n_hdrs, 0);
	assert_int_equal(r->has_replaces, 0);
	assert_string_equal(r->replaces.call_id, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples_ok),
	    cmocka_unit_test(test_examples_fail),
	    cmocka_unit_test(test_display_names),
	    cmocka_unit_test(test_addr_spec),
	    cmocka_unit_test(test_brackets_and_params),
	    cmocka_unit_test(test_schemes),
	    cmocka_unit_test(test_uri_headers),
	    cmocka_unit_test(test_uri_header_limits),
	    cmocka_unit_test(test_replaces),
	    cmocka_unit_test(test_refer_to_replaces),
	    cmocka_unit_test(test_referred_by),
	    cmocka_unit_test(test_control_bytes),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_error_contract),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
