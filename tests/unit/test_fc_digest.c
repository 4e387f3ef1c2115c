/* test_fc_digest.c — SIP digest authentication as a UAC (fc_digest.h): the
 * RFC 2617 §3.5 worked example, the RFC 2069 form, SIP INVITE challenges,
 * tolerant-but-strict challenge parsing, rejection of unusable challenges
 * and of anything that could inject header lines. Expected responses were
 * computed independently (Python hashlib). */
#include "unit.h"

#include <stdio.h>

#include "fc_digest.h"

#define RFC_CHALLENGE                                                                              \
	"Digest\n"                                                                                 \
	"                 realm=\"testrealm@host.com\",\n"                                         \
	"                 qop=\"auth,auth-int\",\n"                                                \
	"                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\n"                         \
	"                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""

static int parse_str(const char *s, fc_challenge *ch)
{
	return fc_digest_parse(s, strlen(s), ch);
}

static void must_reject(const char *s)
{
	fc_challenge ch;
	if (parse_str(s, &ch) != -1)
		fail_msg("accepted: %s", s);
	/* *out is zeroed on failure */
	assert_string_equal(ch.realm, "");
	assert_string_equal(ch.nonce, "");
	assert_int_equal(ch.has_opaque, 0);
	assert_int_equal(ch.qop_auth, 0);
}

/* RFC 2617 §3.5: the challenge exactly as printed (with its line breaks). */
static void test_rfc2617_example(void **state)
{
	(void)state;
	fc_challenge ch;
	char out[512];
	assert_int_equal(parse_str(RFC_CHALLENGE, &ch), 0);
	assert_string_equal(ch.realm, "testrealm@host.com");
	assert_string_equal(ch.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_string_equal(ch.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_string_equal(ch.algorithm, "MD5");
	assert_int_equal(ch.has_opaque, 1);
	assert_int_equal(ch.qop_auth, 1);
	assert_int_equal(ch.stale, 0);

	int n = fc_digest_authorization(&ch, "GET", "/dir/index.html", "Mufasa", "Circle Of Life",
	                                "0a4f113b", 1, out, sizeof out);
	const char *want = "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
	                   "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
	                   "response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, "
	                   "cnonce=\"0a4f113b\", nc=00000001, qop=auth, "
	                   "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
	assert_string_equal(out, want);
	assert_int_equal(n, (int)strlen(want));
}

/* Without qop in the challenge: RFC 2069 response = MD5(HA1:nonce:HA2), no
 * cnonce/nc/qop written (cnonce may then be NULL). */
static void test_rfc2069_form(void **state)
{
	(void)state;
	fc_challenge ch;
	char out[512];
	assert_int_equal(parse_str("Digest realm=\"testrealm@host.com\", "
	                           "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"",
	                           &ch),
	                 0);
	assert_int_equal(ch.qop_auth, 0);
	assert_int_equal(ch.has_opaque, 0);
	int n = fc_digest_authorization(&ch, "GET", "/dir/index.html", "Mufasa", "Circle Of Life",
	                                NULL, 1, out, sizeof out);
	const char *want = "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
	                   "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
	                   "response=\"670fd8c2df070c60b045671b8b24ff02\", algorithm=MD5";
	assert_string_equal(out, want);
	assert_int_equal(n, (int)strlen(want));
	/* A cnonce given anyway is not used. */
	assert_int_equal(fc_digest_authorization(&ch, "GET", "/dir/index.html", "Mufasa",
	                                         "Circle Of Life", "0a4f113b", 7, out, sizeof out),
	                 n);
	assert_string_equal(out, want);
}

/* A 401 to an INVITE, as Asterisk sends it: unquoted algorithm, no qop. */
static void test_sip_invite(void **state)
{
	(void)state;
	fc_challenge ch;
	char out[512];
	assert_int_equal(
	    parse_str("Digest algorithm=MD5, realm=\"asterisk\", nonce=\"4b1a2c3d\"", &ch), 0);
	int n = fc_digest_authorization(&ch, "INVITE", "sip:bob@127.0.0.1", "alice", "s3cr3t",
	                                "deadbeefcafe", 1, out, sizeof out);
	assert_true(n > 0);
	assert_string_equal(out,
	                    "Digest username=\"alice\", realm=\"asterisk\", nonce=\"4b1a2c3d\", "
	                    "uri=\"sip:bob@127.0.0.1\", "
	                    "response=\"e8c0331006c30bd916b624f7c965e935\", algorithm=MD5");

	/* The same with qop=auth (a 407 from a proxy), nc 42 → 0000002a. */
	assert_int_equal(parse_str("Digest realm=\"asterisk\", nonce=\"4b1a2c3d\", qop=\"auth\", "
	                           "algorithm=\"md5\"",
	                           &ch),
	                 0);
	assert_string_equal(ch.algorithm, "md5");
	n = fc_digest_authorization(&ch, "INVITE", "sip:bob@127.0.0.1", "alice", "s3cr3t",
	                            "deadbeefcafe", 42, out, sizeof out);
	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out,
	                    "Digest username=\"alice\", realm=\"asterisk\", nonce=\"4b1a2c3d\", "
	                    "uri=\"sip:bob@127.0.0.1\", "
	                    "response=\"b2a8527747c5efb1a2a96bd9acde9e34\", algorithm=MD5, "
	                    "cnonce=\"deadbeefcafe\", nc=0000002a, qop=auth");
}

static void test_parse_odd_forms(void **state)
{
	(void)state;
	fc_challenge ch;

	/* Any order, odd spacing and case, tabs, folded lines, unknown params
	 * (with quoted commas and escapes) ignored, stale in any case. */
	assert_int_equal(parse_str("  dIgEsT\tNONCE = abc/+=9 ,domain=\"sip:a, sip:b\",\r\n"
	                           "\tRealm=\"sip.example.com\" ,STALE=TRUE,x-foo=\"a\\\"b\",  "
	                           "Opaque=\"\"",
	                           &ch),
	                 0);
	assert_string_equal(ch.nonce, "abc/+=9");
	assert_string_equal(ch.realm, "sip.example.com");
	assert_int_equal(ch.stale, 1);
	assert_int_equal(ch.has_opaque, 1);
	assert_string_equal(ch.opaque, "");
	assert_int_equal(ch.qop_auth, 0);

	/* Backslash escapes are undone; stale=false; empty list elements and a
	 * trailing comma are fine. */
	assert_int_equal(parse_str("Digest realm=\"a\\\"b\\\\c\\d\",, nonce=\"n\\\"1\", "
	                           "stale=\"false\",",
	                           &ch),
	                 0);
	assert_string_equal(ch.realm, "a\"b\\cd");
	assert_string_equal(ch.nonce, "n\"1");
	assert_int_equal(ch.stale, 0);

	/* Not NUL-terminated: only len bytes count. */
	const char buf[] = "Digest realm=\"r\", nonce=\"abc\"XXXX";
	assert_int_equal(fc_digest_parse(buf, sizeof buf - 1 - 4, &ch), 0);
	assert_string_equal(ch.nonce, "abc");
	assert_int_equal(fc_digest_parse(buf, sizeof buf - 1 - 5, &ch), -1); /* cut in a quote */
	const char tok[] = "Digest realm=r,nonce=abcdef";
	assert_int_equal(fc_digest_parse(tok, sizeof tok - 1 - 3, &ch), 0);
	assert_string_equal(ch.nonce, "abc");

	/* Empty realm is legal; the longest values that fit (255 bytes). */
	char big[1024];
	char v[256];
	memset(v, 'n', 255);
	v[255] = 0;
	snprintf(big, sizeof big, "Digest realm=\"\", nonce=\"%s\", opaque=%s", v, v);
	assert_int_equal(parse_str(big, &ch), 0);
	assert_string_equal(ch.realm, "");
	assert_int_equal(strlen(ch.nonce), 255);
	assert_int_equal(strlen(ch.opaque), 255);

	/* Unknown parameters have no size limit. */
	char huge[2048];
	memset(v, 'x', 255);
	snprintf(huge, sizeof huge, "Digest x=\"%s%s%s%s\", realm=r, nonce=n", v, v, v, v);
	assert_int_equal(parse_str(huge, &ch), 0);
}

static void test_parse_qop_lists(void **state)
{
	(void)state;
	static const struct {
		const char *hdr;
		int ok, qop_auth;
	} c[] = {
	    {"Digest realm=r, nonce=n, qop=\"auth\"", 0, 1},
	    {"Digest realm=r, nonce=n, qop=auth", 0, 1},
	    {"Digest realm=r, nonce=n, qop=\"auth-int,auth\"", 0, 1},
	    {"Digest realm=r, nonce=n, qop=\" auth-int , AUTH \"", 0, 1},
	    {"Digest realm=r, nonce=n, qop=\"auth,auth-int\"", 0, 1},
	    {"Digest realm=r, nonce=n, qop=\"x-other auth\"", 0, 1},
	    {"Digest realm=r, nonce=n", 0, 0},
	    /* qop offered but not "auth": cannot be answered. */
	    {"Digest realm=r, nonce=n, qop=\"auth-int\"", -1, 0},
	    {"Digest realm=r, nonce=n, qop=\"authx,xauth,auth-\"", -1, 0},
	    {"Digest realm=r, nonce=n, qop=\"\"", -1, 0},
	    /* unquoted list: "auth-int" becomes a bare token → garbage */
	    {"Digest realm=r, nonce=n, qop=auth,auth-int", -1, 0},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		fc_challenge ch;
		int rc = parse_str(c[i].hdr, &ch);
		if (rc != c[i].ok || ch.qop_auth != c[i].qop_auth)
			fail_msg("%s: rc %d qop_auth %d, want %d %d", c[i].hdr, rc, ch.qop_auth,
			         c[i].ok, c[i].qop_auth);
	}
}

static void test_parse_rejects(void **state)
{
	(void)state;
	must_reject("");
	must_reject("Digest");
	must_reject("Digest ");
	must_reject("Basic realm=\"r\"");
	must_reject("Basic realm=\"r\", nonce=\"n\"");
	must_reject("Digestrealm=\"r\", nonce=\"n\"");
	must_reject("Digest,realm=\"r\", nonce=\"n\"");
	must_reject("Bearer realm=\"r\", nonce=\"n\"");
	must_reject("Digest realm=\"r\"");                                 /* no nonce */
	must_reject("Digest nonce=\"n\"");                                 /* no realm */
	must_reject("Digest realm=\"r\", nonce=\"\"");                     /* empty nonce */
	must_reject("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256"); /* RFC 7616, not MD5 */
	must_reject("Digest realm=\"r\", nonce=\"n\", algorithm=\"SHA-256\"");
	must_reject("Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess");
	must_reject("Digest realm=\"r\", nonce=\"n\", algorithm=md5-SESS");
	must_reject("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256");
	must_reject("Digest realm=\"r\", nonce=\"n\", algorithm=\"\"");
	/* duplicates are ambiguous */
	must_reject("Digest realm=\"r\", nonce=\"n\", nonce=\"m\"");
	must_reject("Digest realm=\"r\", realm=\"r\", nonce=\"n\"");
	must_reject("Digest realm=\"r\", nonce=\"n\", algorithm=MD5, algorithm=SHA-256");
	/* garbage */
	must_reject("Digest realm=\"r\", nonce=\"n");                  /* unterminated */
	must_reject("Digest realm=\"r\", nonce=\"n\\");                /* escape at the end */
	must_reject("Digest realm=\"r\", nonce=\"n\" x");              /* junk after a value */
	must_reject("Digest realm=\"r\", nonce=\"n\"\"m\"");           /* two strings */
	must_reject("Digest realm=\"r\", nonce=");                     /* no value */
	must_reject("Digest realm=\"r\", nonce=, x=y");                /* no value */
	must_reject("Digest realm=\"r\" nonce=\"n\"");                 /* missing comma */
	must_reject("Digest realm=\"r\", nonce");                      /* no '=' */
	must_reject("Digest realm=\"r\", nonce=\"n\", Basic realm=x"); /* second scheme */
	must_reject("Digest realm=\"r\", nonce=n\"x\"");
	must_reject("Digest realm=\"r\", nonce=n\\x");
	must_reject("Digest realm=\"r\", =\"n\"");
	must_reject("Digest realm=\"r\", n@nce=\"n\"");
}

static void test_parse_oversize(void **state)
{
	(void)state;
	char v[300], hdr[1024];
	memset(v, 'a', 256);
	v[256] = 0;
	snprintf(hdr, sizeof hdr, "Digest realm=\"r\", nonce=\"%s\"", v);
	must_reject(hdr);
	snprintf(hdr, sizeof hdr, "Digest realm=%s, nonce=\"n\"", v);
	must_reject(hdr);
	snprintf(hdr, sizeof hdr, "Digest realm=r, nonce=n, opaque=\"%s\"", v);
	must_reject(hdr);
	snprintf(hdr, sizeof hdr, "Digest realm=r, nonce=n, qop=\"auth,%s\"", v);
	must_reject(hdr);
	/* escapes count after unescaping: 255 escaped bytes fit, 256 do not */
	char esc[600];
	for (int i = 0; i < 255; i++)
		esc[2 * i] = '\\', esc[2 * i + 1] = 'q';
	esc[510] = 0;
	fc_challenge ch;
	snprintf(hdr, sizeof hdr, "Digest realm=r, nonce=\"%s\"", esc);
	assert_int_equal(parse_str(hdr, &ch), 0);
	assert_int_equal(strlen(ch.nonce), 255);
	snprintf(hdr, sizeof hdr, "Digest realm=r, nonce=\"%s\\q\"", esc);
	must_reject(hdr);
	/* algorithm has a 31-byte field */
	snprintf(hdr, sizeof hdr, "Digest realm=r, nonce=n, algorithm=\"%.40s\"", v);
	must_reject(hdr);
}

/* CR/LF (and other controls) inside challenge values are refused by the
 * parser: they would be echoed into our request. */
static void test_parse_control_chars(void **state)
{
	(void)state;
	must_reject("Digest realm=\"r\", nonce=\"n\r\nX-Evil: 1\"");
	must_reject("Digest realm=\"r\r\", nonce=\"n\"");
	must_reject("Digest realm=\"r\\\n\", nonce=\"n\"");
	must_reject("Digest realm=\"r\", nonce=\"n\", opaque=\"o\nVia: x\"");
	must_reject("Digest realm=\"r\", nonce=\"n\\\r\"");
	must_reject("Digest realm=\"r\", nonce=\"n\x01\"");
	must_reject("Digest realm=\"r\", nonce=\"n\x7f\"");
	must_reject("Digest realm=\"r\", nonce=n\x01");
	const char nul[] = "Digest realm=\"r\", nonce=\"a\0b\"";
	fc_challenge ch;
	assert_int_equal(fc_digest_parse(nul, sizeof nul - 1, &ch), -1);
	/* Outside values, CR/LF are folding white space. */
	assert_int_equal(parse_str("Digest\r\n realm=\"r\",\r\n nonce=\"n\"\r\n", &ch), 0);
}

static void good_challenge(fc_challenge *ch)
{
	assert_int_equal(parse_str("Digest realm=\"r\", nonce=\"n\", qop=auth, opaque=\"o\"", ch),
	                 0);
}

/* Nothing that could end a header line or a quoted string gets written. */
static void test_authorization_injection(void **state)
{
	(void)state;
	fc_challenge ch;
	char out[1024];
	static const char *bad[] = {"a\r\nX-Evil: 1", "a\n", "a\r", "a\"b", "\"", "a\x01", "a\x7f"};
	good_challenge(&ch);
	assert_true(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, out,
	                                    sizeof out) > 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *b = bad[i];
		memcpy(out, "junk", 5);
		assert_int_equal(
		    fc_digest_authorization(&ch, b, "sip:b@h", "u", "p", "c", 1, out, sizeof out),
		    -1);
		assert_string_equal(out, "");
		assert_int_equal(
		    fc_digest_authorization(&ch, "INVITE", b, "u", "p", "c", 1, out, sizeof out),
		    -1);
		assert_int_equal(fc_digest_authorization(&ch, "INVITE", "sip:b@h", b, "p", "c", 1,
		                                         out, sizeof out),
		                 -1);
		assert_int_equal(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", b, 1,
		                                         out, sizeof out),
		                 -1);
	}
	/* Challenge fields set by hand (not through the parser) are checked too. */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		good_challenge(&ch);
		strcpy(ch.realm, bad[i]);
		assert_int_equal(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1,
		                                         out, sizeof out),
		                 -1);
		good_challenge(&ch);
		strcpy(ch.nonce, bad[i]);
		assert_int_equal(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1,
		                                         out, sizeof out),
		                 -1);
		good_challenge(&ch);
		strcpy(ch.opaque, bad[i]);
		assert_int_equal(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1,
		                                         out, sizeof out),
		                 -1);
		/* an unused opaque is not written, so not checked */
		ch.has_opaque = 0;
		assert_true(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, out,
		                                    sizeof out) > 0);
	}
	/* Unterminated challenge arrays. */
	good_challenge(&ch);
	memset(ch.nonce, 'n', sizeof ch.nonce);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, out, sizeof out),
	    -1);
	good_challenge(&ch);
	memset(ch.realm, 'r', sizeof ch.realm);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, out, sizeof out),
	    -1);
	/* The password is only hashed: quotes and line breaks in it are fine and
	 * never reach the output. */
	good_challenge(&ch);
	int n = fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p\"\r\nX: 1", "c", 1, out,
	                                sizeof out);
	assert_true(n > 0);
	assert_null(strpbrk(out, "\r\n"));
	assert_null(strstr(out, "X: 1"));
}

/* Backslashes are written as quoted-pairs; the hash uses the raw values. */
static void test_authorization_backslash(void **state)
{
	(void)state;
	fc_challenge ch;
	char out[512];
	assert_int_equal(parse_str("Digest realm=\"re\\\\alm\", nonce=\"n\\\\1\"", &ch), 0);
	assert_string_equal(ch.realm, "re\\alm");
	assert_string_equal(ch.nonce, "n\\1");
	int n = fc_digest_authorization(&ch, "REGISTER", "sip:example.com", "a\\b", "pw\"x", NULL,
	                                1, out, sizeof out);
	assert_true(n > 0);
	assert_string_equal(out,
	                    "Digest username=\"a\\\\b\", realm=\"re\\\\alm\", nonce=\"n\\\\1\", "
	                    "uri=\"sip:example.com\", "
	                    "response=\"de35585d3c824dd6a8dcfcffb84c1220\", algorithm=MD5");
	/* A username ending in a backslash cannot escape its closing quote. */
	n = fc_digest_authorization(&ch, "REGISTER", "sip:example.com", "u\\", "p", NULL, 1, out,
	                            sizeof out);
	assert_true(n > 0);
	assert_non_null(strstr(out, "username=\"u\\\\\", realm="));
}

static void test_authorization_bad_args(void **state)
{
	(void)state;
	fc_challenge ch;
	char out[512];
	good_challenge(&ch);
	assert_int_equal(
	    fc_digest_authorization(NULL, "INVITE", "sip:b@h", "u", "p", "c", 1, out, sizeof out),
	    -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, NULL, "sip:b@h", "u", "p", "c", 1, out, sizeof out), -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", NULL, "u", "p", "c", 1, out, sizeof out), -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", NULL, "p", "c", 1, out, sizeof out),
	    -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", NULL, "c", 1, out, sizeof out),
	    -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, NULL, sizeof out),
	    -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, out, 0), -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "", "sip:b@h", "u", "p", "c", 1, out, sizeof out), -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "", "u", "p", "c", 1, out, sizeof out), -1);
	/* with qop: a cnonce and nc >= 1 are required */
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", NULL, 1, out, sizeof out),
	    -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "", 1, out, sizeof out),
	    -1);
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 0, out, sizeof out),
	    -1);
	/* nc is 8 hex digits */
	assert_true(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 0xffffffffu,
	                                    out, sizeof out) > 0);
	assert_non_null(strstr(out, ", nc=ffffffff, qop=auth"));
	/* an empty username is allowed */
	assert_true(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "", "p", "c", 1, out,
	                                    sizeof out) > 0);
	/* a hand-built challenge with another algorithm, or none */
	strcpy(ch.algorithm, "SHA-256");
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, out, sizeof out),
	    -1);
	strcpy(ch.algorithm, "");
	assert_true(fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, out,
	                                    sizeof out) > 0);
	ch.nonce[0] = 0;
	assert_int_equal(
	    fc_digest_authorization(&ch, "INVITE", "sip:b@h", "u", "p", "c", 1, out, sizeof out),
	    -1);
	/* fc_digest_parse with NULL */
	assert_int_equal(fc_digest_parse(NULL, 5, &ch), -1);
	assert_int_equal(fc_digest_parse("Digest realm=r, nonce=n", 23, NULL), -1);
}

/* Exactly n+1 bytes are enough; n are not, and nothing is left behind. */
static void test_authorization_out_size(void **state)
{
	(void)state;
	fc_challenge ch;
	char out[512], small[512];
	assert_int_equal(parse_str(RFC_CHALLENGE, &ch), 0);
	int n = fc_digest_authorization(&ch, "GET", "/dir/index.html", "Mufasa", "Circle Of Life",
	                                "0a4f113b", 1, out, sizeof out);
	assert_true(n > 0);
	memset(small, 'Z', sizeof small);
	assert_int_equal(fc_digest_authorization(&ch, "GET", "/dir/index.html", "Mufasa",
	                                         "Circle Of Life", "0a4f113b", 1, small,
	                                         (size_t)n + 1),
	                 n);
	assert_string_equal(small, out);
	assert_int_equal(small[n + 1], 'Z');
	for (size_t len = 1; len <= (size_t)n; len++) {
		memset(small, 'Z', sizeof small);
		if (fc_digest_authorization(&ch, "GET", "/dir/index.html", "Mufasa",
		                            "Circle Of Life", "0a4f113b", 1, small, len) != -1)
			fail_msg("outlen %zu of %d accepted", len, n + 1);
		assert_int_equal(small[0], 0);
		assert_int_equal(small[len], 'Z');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc2617_example),
	    cmocka_unit_test(test_rfc2069_form),
	    cmocka_unit_test(test_sip_invite),
	    cmocka_unit_test(test_parse_odd_forms),
	    cmocka_unit_test(test_parse_qop_lists),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_parse_oversize),
	    cmocka_unit_test(test_parse_control_chars),
	    cmocka_unit_test(test_authorization_injection),
	    cmocka_unit_test(test_authorization_backslash),
	    cmocka_unit_test(test_authorization_bad_args),
	    cmocka_unit_test(test_authorization_out_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
