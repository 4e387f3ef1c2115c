/* test_dialtarget.c — <Sip> URI validation, header filtering/decoding,
 * region/edge stripping and <Number> → trunk R-URI (dialtarget.h). */
#include "unit.h"

#include <stdio.h>

#include "dialtarget.h"

static int zeroed(const dial_target *t)
{
	static const dial_target z;
	return !memcmp(t, &z, sizeof z);
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

#define SIP_OK(uri, t) sip_ok(uri, t, __LINE__)
static void sip_ok(const char *uri, dial_target *t, int line)
{
	char err[256] = "";
	int rc = dialtarget_sip(uri, NULL, NULL, t, err, sizeof err);
	if (rc)
		fail_msg("line %d: \"%.80s\" refused: %d %s", line, uri, rc, err);
	if (strcmp(t->dst, ""))
		fail_msg("line %d: dst \"%s\", want \"\"", line, t->dst);
	char to[600];
	snprintf(to, sizeof to, "<%s>", t->ruri);
	assert_string_equal(t->to, to);
	assert_string_equal(t->number, "");
}

/* The whole URI must be refused with code want, a message, and nothing left
 * in the target. */
#define SIP_BAD(uri, want) sip_bad(uri, NULL, NULL, want, __LINE__)
#define CRED_BAD(user, pass) sip_bad("sip:a@example.com", user, pass, 12200, __LINE__)
static void sip_bad(const char *uri, const char *user, const char *pass, int want, int line)
{
	char err[256] = "";
	dial_target t;
	memset(&t, 0x5a, sizeof t);
	int rc = dialtarget_sip(uri, user, pass, &t, err, sizeof err);
	if (rc != want)
		fail_msg("line %d: \"%.80s\": got %d (%s, ruri %s), want %d", line,
		         uri ? uri : "(null)", rc, err, rc ? "-" : t.ruri, want);
	if (!zeroed(&t))
		fail_msg("line %d: target not zeroed after an error", line);
	if (!err[0] || !printable(err))
		fail_msg("line %d: missing or unprintable error message", line);
	assert_non_null(strstr(err, "Dial->Sip: "));
	/* err is optional */
	assert_int_equal(dialtarget_sip(uri, user, pass, &t, NULL, 0), want);
	dialtarget_free(&t);
}

static void test_plain(void **state)
{
	(void)state;
	dial_target t;
	SIP_OK("sip:alice@example.com", &t);
	assert_string_equal(t.ruri, "sip:alice@example.com");
	assert_string_equal(t.to, "<sip:alice@example.com>");
	assert_string_equal(t.transport, "udp");
	assert_string_equal(t.region, "");
	assert_string_equal(t.auth_user, "");
	assert_string_equal(t.auth_pass, "");
	assert_int_equal(t.n_hdrs, 0);
	dialtarget_free(&t);

	SIP_OK("sip:example.com", &t);
	assert_string_equal(t.ruri, "sip:example.com");
	SIP_OK("sip:bob@10.0.0.2:5080", &t);
	assert_string_equal(t.ruri, "sip:bob@10.0.0.2:5080");
	SIP_OK("sip:bob@[2001:db8::1]:5060", &t);
	assert_string_equal(t.ruri, "sip:bob@[2001:db8::1]:5060");
	SIP_OK("sip:bob@[::1]", &t);
	SIP_OK("SIP:Bob@Example.COM", &t); /* scheme lowercased, rest as written */
	assert_string_equal(t.ruri, "sip:Bob@Example.COM");
	SIP_OK("sip:pbx_1.internal.", &t);
	SIP_OK("sip:bob:secret@example.com", &t);
	assert_string_equal(t.ruri, "sip:bob:secret@example.com");
	/* user part: escapes and telephone-subscriber parameters as written */
	SIP_OK("sip:j%40ck%20x@example.com", &t);
	assert_string_equal(t.ruri, "sip:j%40ck%20x@example.com");
	SIP_OK("sip:+14155551212;npdi;rn=+14155550000@example.com;user=phone", &t);
	assert_string_equal(t.ruri, "sip:+14155551212;npdi;rn=+14155550000@example.com;user=phone");
	SIP_OK("sip:a@example.com;lr;maddr=10.0.0.1;x-tag=%41b", &t);
	assert_string_equal(t.ruri, "sip:a@example.com;lr;maddr=10.0.0.1;x-tag=%41b");
	assert_string_equal(t.transport, "udp");
	dialtarget_free(&t);
}

static void test_sips_tls(void **state)
{
	(void)state;
	dial_target t;
	SIP_OK("sips:alice@example.com", &t);
	assert_string_equal(t.ruri, "sips:alice@example.com");
	assert_string_equal(t.transport, "tls");
	SIP_OK("SIPS:alice@example.com:5061;transport=tcp", &t); /* TLS over TCP */
	assert_string_equal(t.ruri, "sips:alice@example.com:5061;transport=tcp");
	assert_string_equal(t.transport, "tls");
	SIP_OK("sip:alice@example.com;transport=tls", &t);
	assert_string_equal(t.ruri, "sip:alice@example.com;transport=tls");
	assert_string_equal(t.transport, "tls");
	SIP_BAD("sips:alice@example.com;transport=udp", 13243);
}

static void test_transport(void **state)
{
	(void)state;
	dial_target t;
	SIP_OK("sip:bob@10.0.0.2:5080;transport=tcp", &t);
	assert_string_equal(t.ruri, "sip:bob@10.0.0.2:5080;transport=tcp");
	assert_string_equal(t.transport, "tcp");
	SIP_OK("sip:bob@10.0.0.2;transport=TCP", &t); /* kept as written */
	assert_string_equal(t.ruri, "sip:bob@10.0.0.2;transport=TCP");
	assert_string_equal(t.transport, "tcp");
	SIP_OK("sip:bob@10.0.0.2;Transport=UDP;lr", &t);
	assert_string_equal(t.transport, "udp");
	SIP_BAD("sip:bob@10.0.0.2;transport=sctp", 13243);
	SIP_BAD("sip:bob@10.0.0.2;transport=ws", 13243);
	SIP_BAD("sip:bob@10.0.0.2;transport=tcpx", 13243);
	SIP_BAD("sip:bob@10.0.0.2;transport", 13243);
	SIP_BAD("sip:bob@10.0.0.2;transport=", 13243);
	SIP_BAD("sip:bob@10.0.0.2;transport=tcp;transport=udp", 13243);
}

static void test_region_edge(void **state)
{
	(void)state;
	dial_target t;
	SIP_OK("sip:a@example.com;region=ie1;transport=tcp;lr", &t);
	assert_string_equal(t.ruri, "sip:a@example.com;transport=tcp;lr");
	assert_string_equal(t.region, "ie1");
	assert_string_equal(t.transport, "tcp");
	SIP_OK("sip:a@example.com;transport=tcp;edge=dublin", &t);
	assert_string_equal(t.ruri, "sip:a@example.com;transport=tcp");
	assert_string_equal(t.region, "dublin");
	SIP_OK("sip:a@example.com:5070;region=us1", &t);
	assert_string_equal(t.ruri, "sip:a@example.com:5070");
	assert_string_equal(t.region, "us1");
	SIP_OK("sip:a@example.com;lr;Edge=sao-paulo;x=1?X-A=1", &t);
	assert_string_equal(t.ruri, "sip:a@example.com;lr;x=1");
	assert_string_equal(t.region, "sao-paulo");
	assert_int_equal(t.n_hdrs, 1);
	dialtarget_free(&t);
	/* both: the first value is reported, both are removed */
	SIP_OK("sip:a@example.com;region=de1;edge=frankfurt", &t);
	assert_string_equal(t.ruri, "sip:a@example.com");
	assert_string_equal(t.region, "de1");
	/* "region" in the user part or as a header is not a URI parameter */
	SIP_OK("sip:region=x@example.com", &t);
	assert_string_equal(t.ruri, "sip:region=x@example.com");
	assert_string_equal(t.region, "");
	/* a parameter merely starting with region is kept */
	SIP_OK("sip:a@example.com;regions=2;edgex=1", &t);
	assert_string_equal(t.ruri, "sip:a@example.com;regions=2;edgex=1");
	assert_string_equal(t.region, "");
	SIP_BAD("sip:a@example.com;region", 13243);
	SIP_BAD("sip:a@example.com;region=", 13243);
	SIP_BAD("sip:a@example.com;edge=0123456789012345678901234567890123", 13243);
}

static void test_headers(void **state)
{
	(void)state;
	dial_target t;
	SIP_OK("sip:jack@example.com?X-Foo=a%20b&User-to-User=00ab%3Bencoding%3Dhex", &t);
	assert_string_equal(t.ruri, "sip:jack@example.com");
	assert_int_equal(t.n_hdrs, 2);
	assert_string_equal(t.hdr_names[0], "X-Foo");
	assert_string_equal(t.hdr_values[0], "a b");
	assert_string_equal(t.hdr_names[1], "User-to-User");
	assert_string_equal(t.hdr_values[1], "00ab;encoding=hex");
	dialtarget_free(&t);
	assert_int_equal(t.n_hdrs, 0);
	dialtarget_free(&t); /* twice is fine */

	/* every allowed name, case preserved, in order, repeats kept */
	SIP_OK("sip:jack@example.com;transport=tcp?x-myHeader=1&X-User-to-User=2&"
	       "remote-party-id=%3Csip%3A%2B1415%40h%3E&P-Preferred-Identity=%3Csip:a@b%3E&"
	       "P-CALLED-PARTY-ID=x&user-to-user=y&x-myHeader=3&X-Empty=",
	       &t);
	assert_string_equal(t.ruri, "sip:jack@example.com;transport=tcp");
	static const char *const names[] = {
	    "x-myHeader",        "X-User-to-User", "remote-party-id", "P-Preferred-Identity",
	    "P-CALLED-PARTY-ID", "user-to-user",   "x-myHeader",      "X-Empty"};
	static const char *const values[] = {"1", "2", "<sip:+1415@h>", "<sip:a@b>", "x", "y",
	                                     "3", ""};
	assert_int_equal(t.n_hdrs, 8);
	for (int i = 0; i < 8; i++) {
		assert_string_equal(t.hdr_names[i], names[i]);
		assert_string_equal(t.hdr_values[i], values[i]);
	}
	dialtarget_free(&t);

	/* Replaces (RFC 3891) for an attended transfer's Dial, decoded */
	SIP_OK("sip:carol@h?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2", &t);
	assert_int_equal(t.n_hdrs, 1);
	assert_string_equal(t.hdr_names[0], "Replaces");
	assert_string_equal(t.hdr_values[0], "abc@h;to-tag=1;from-tag=2");
	dialtarget_free(&t);

	/* raw '=' ';' '@' in a value are taken as written; UTF-8 allowed */
	SIP_OK("sip:a@h?X-A=b=c;d@e&X-B=caf%C3%A9&X-C=%2B%25", &t);
	assert_int_equal(t.n_hdrs, 3);
	assert_string_equal(t.hdr_values[0], "b=c;d@e");
	assert_string_equal(t.hdr_values[1], "caf\xc3\xa9");
	assert_string_equal(t.hdr_values[2], "+%");
	dialtarget_free(&t);
	/* encoded name */
	SIP_OK("sip:a@h?X%2DFoo=1", &t);
	assert_string_equal(t.hdr_names[0], "X-Foo");
	dialtarget_free(&t);

	/* 32 headers fit, 33 do not */
	char uri[1300] = "sip:a@h?";
	for (int i = 0; i < DIALTARGET_MAX_HDRS; i++)
		snprintf(uri + strlen(uri), sizeof uri - strlen(uri), "%sX-H%d=%d", i ? "&" : "", i,
		         i);
	SIP_OK(uri, &t);
	assert_int_equal(t.n_hdrs, DIALTARGET_MAX_HDRS);
	assert_string_equal(t.hdr_names[31], "X-H31");
	assert_string_equal(t.hdr_values[31], "31");
	dialtarget_free(&t);
	strcat(uri, "&X-H32=32");
	SIP_BAD(uri, 13243);
}

static void test_headers_refused(void **state)
{
	(void)state;
	SIP_BAD("sip:a@h?X-Twilio-Foo=1", 13243);
	SIP_BAD("sip:a@h?x-twilio-foo=1", 13243);
	SIP_BAD("sip:a@h?X-Twilio=1", 13243);
	SIP_BAD("sip:a@h?X-TwilioSignature=1", 13243);
	SIP_BAD("sip:a@h?X%2dTwilio-Foo=1", 13243);      /* decoded before the check */
	SIP_BAD("sip:a@h?X-Ok=1&X-Twilio-Foo=1", 13243); /* one bad header refuses all */
	SIP_BAD("sip:a@h?Contact=%3Csip:evil@x%3E", 13243);
	SIP_BAD("sip:a@h?X-Ok=1&Contact=x", 13243);
	SIP_BAD("sip:a@h?Via=x", 13243);
	SIP_BAD("sip:a@h?From=x", 13243);
	SIP_BAD("sip:a@h?P-Asserted-Identity=x", 13243);
	SIP_BAD("sip:a@h?User-to-User-X=x", 13243);
	SIP_BAD("sip:a@h?X=1", 13243);
	/* CR/LF/NUL/other control characters, encoded */
	SIP_BAD("sip:a@h?X-Foo=a%0d%0aContact:%20x", 13243);
	SIP_BAD("sip:a@h?X-Foo=a%0D%0AVia:x", 13243);
	SIP_BAD("sip:a@h?X-Foo=a%0a", 13243);
	SIP_BAD("sip:a@h?X-Foo=a%00b", 13243);
	SIP_BAD("sip:a@h?X-Foo=a%09b", 13243);
	SIP_BAD("sip:a@h?X-Foo=a%7fb", 13243);
	SIP_BAD("sip:a@h?X-Foo%0d%0aVia=1", 13243);
	/* malformed */
	SIP_BAD("sip:a@h?", 13243);
	SIP_BAD("sip:a@h?X-Foo", 13243);
	SIP_BAD("sip:a@h?=1", 13243);
	SIP_BAD("sip:a@h?X-A=1&", 13243);
	SIP_BAD("sip:a@h?X-A=1&&X-B=2", 13243);
	SIP_BAD("sip:a@h?X-Foo:bar=1", 13243); /* ':' is not a token char */
	SIP_BAD("sip:a@h?X-Fo%22o=1", 13243);  /* '"' neither */
	SIP_BAD("sip:a@h?X-Fo%20o=1", 13243);  /* nor space */
	SIP_BAD("sip:a@h?X-Foo=%zz", 13243);
	SIP_BAD("sip:a@h?X-Foo=%4", 13243);
	SIP_BAD("sip:a@h?X-Foo=%", 13243);
	SIP_BAD("sip:a@h?X-Foo=%ff", 13243);       /* not UTF-8 */
	SIP_BAD("sip:a@h?X-Foo=%C0%AF", 13243);    /* overlong */
	SIP_BAD("sip:a@h?X-Foo=%ED%A0%80", 13243); /* surrogate */
	/* a name longer than 64 bytes */
	char uri[200];
	snprintf(uri, sizeof uri, "sip:a@h?X-%063d=1", 0);
	SIP_BAD(uri, 13243);
	snprintf(uri, sizeof uri, "sip:a@h?X-%062d=1", 0);
	dial_target t;
	SIP_OK(uri, &t);
	dialtarget_free(&t);
}

static void test_bytes_refused(void **state)
{
	(void)state;
	SIP_BAD("sip:a@h?X-Foo=a\r\nContact: x", 13243);
	SIP_BAD("sip:a@h?X-Foo=a b", 13243);
	SIP_BAD("sip:a b@h", 13243);
	SIP_BAD("sip:a@h ", 13243);
	SIP_BAD(" sip:a@h", 13243);
	SIP_BAD("sip:a@h\t", 13243);
	SIP_BAD("sip:a@h\n", 13243);
	SIP_BAD("sip:a@h;x=\x01", 13243);
	SIP_BAD("sip:a\x7f@h", 13243);
	SIP_BAD("sip:caf\xc3\xa9@h", 13243);
	SIP_BAD("sip:a%0d%0a@h", 13243); /* escapes elsewhere must not hide CR/LF */
	SIP_BAD("sip:a%00@h", 13243);
	SIP_BAD("sip:a@h;x=%0a", 13243);
	SIP_BAD("sip:a%zz@h", 13243);
	SIP_BAD("sip:a%4@h", 13243);
	SIP_BAD("sip:a@h;x=%4", 13243);
	SIP_BAD("sip:a\"b@h", 13243);
	SIP_BAD("sip:a<b@h", 13243);
	SIP_BAD("sip:a@h>", 13243);
	SIP_BAD("sip:a@h;x=<", 13243);
}

static void test_lengths(void **state)
{
	(void)state;
	dial_target t;
	char uri[2200];
	/* 254 characters: accepted; 255: refused (headers excluded) */
	strcpy(uri, "sip:");
	memset(uri + 4, 'u', 242);
	strcpy(uri + 246, "@host123");
	assert_int_equal(strlen(uri), 254);
	SIP_OK(uri, &t);
	assert_int_equal(strlen(t.ruri), 254);
	dialtarget_free(&t);
	strcat(uri, "?X-A=1"); /* headers do not count */
	SIP_OK(uri, &t);
	assert_int_equal(t.n_hdrs, 1);
	dialtarget_free(&t);
	memset(uri + 4, 'u', 243);
	strcpy(uri + 247, "@host123?X-A=1"); /* 255 before '?' */
	SIP_BAD(uri, 13243);
	*strchr(uri, '?') = 0;
	assert_int_equal(strlen(uri), 255);
	SIP_BAD(uri, 13243);

	/* header block (after '?'): 1023 accepted, 1024 refused */
	strcpy(uri, "sip:a@h?X-Long=");
	size_t at = strlen(uri);
	memset(uri + at, 'v', 1023 - (at - 8));
	uri[8 + 1023] = 0;
	assert_int_equal(strlen(strchr(uri, '?') + 1), 1023);
	SIP_OK(uri, &t);
	assert_int_equal(strlen(t.hdr_values[0]), 1023 - 7);
	dialtarget_free(&t);
	strcat(uri, "v");
	SIP_BAD(uri, 13243);
	/* the limit is on the block as written, not decoded */
	strcpy(uri, "sip:a@h?X-Long=");
	for (int i = 0; i < 337; i++)
		strcat(uri, "%41");
	assert_int_equal(strlen(strchr(uri, '?') + 1), 1018);
	SIP_OK(uri, &t);
	dialtarget_free(&t);
	for (int i = 0; i < 2; i++)
		strcat(uri, "%41");
	SIP_BAD(uri, 13243);
}

static void test_uri_refused(void **state)
{
	(void)state;
	SIP_BAD(NULL, 13243);
	SIP_BAD("", 13243);
	SIP_BAD("tel:+14155551212", 13243);
	SIP_BAD("sipx:a@h", 13243);
	SIP_BAD("http://example.com/", 13243);
	SIP_BAD("alice@example.com", 13243);
	SIP_BAD("sip:", 13243);
	SIP_BAD("sips:", 13243);
	SIP_BAD("sip:alice@", 13243);
	SIP_BAD("sip:alice@;transport=tcp", 13243);
	SIP_BAD("sip:alice@:5060", 13243);
	SIP_BAD("sip:alice@?X-A=1", 13243);
	SIP_BAD("sip:;transport=tcp", 13243);
	SIP_BAD("sip:@example.com", 13243);
	SIP_BAD("sip::pw@example.com", 13243);
	SIP_BAD("sip:a@b@example.com", 13243);
	SIP_BAD("sip:a@.example.com", 13243);
	SIP_BAD("sip:a@example..com", 13243);
	SIP_BAD("sip:a@-example.com", 13243);
	SIP_BAD("sip:a@exa/mple.com", 13243);
	SIP_BAD("sip:a@h:", 13243);
	SIP_BAD("sip:a@h:0", 13243);
	SIP_BAD("sip:a@h:65536", 13243);
	SIP_BAD("sip:a@h:123456", 13243);
	SIP_BAD("sip:a@h:50a", 13243);
	SIP_BAD("sip:a@h:5060:5060", 13243);
	SIP_BAD("sip:a@[]", 13243);
	SIP_BAD("sip:a@[::1", 13243);
	SIP_BAD("sip:a@[::g]", 13243);
	SIP_BAD("sip:a@[::1]x", 13243);
	SIP_BAD("sip:a@h;", 13243);
	SIP_BAD("sip:a@h;;lr", 13243);
	SIP_BAD("sip:a@h;=x", 13243);
	SIP_BAD("sip:a@h;x=", 13243);
	SIP_BAD("sip:a@h;x=a=b", 13243);
	dial_target t;
	SIP_OK("sip:a@h:65535", &t);
	SIP_OK("sip:a@h:1", &t);
}

static void test_credentials(void **state)
{
	(void)state;
	dial_target t;
	char err[128];
	assert_int_equal(dialtarget_sip("sip:a@h", "bob", "s3cr\"t", &t, err, sizeof err), 0);
	assert_string_equal(t.auth_user, "bob");
	assert_string_equal(t.auth_pass, "s3cr\"t");
	assert_int_equal(dialtarget_sip("sip:a@h", "bob", NULL, &t, err, sizeof err), 0);
	assert_string_equal(t.auth_user, "bob");
	assert_string_equal(t.auth_pass, "");
	assert_int_equal(dialtarget_sip("sip:a@h", "", "", &t, err, sizeof err), 0);
	assert_string_equal(t.auth_user, "");
	CRED_BAD(NULL, "pw");
	CRED_BAD("", "pw");
	CRED_BAD("bo\"b", "pw");
	CRED_BAD("bo\\b", "pw");
	CRED_BAD("bob\r\nX-A: 1", "pw");
	CRED_BAD("bob", "p\nw");
	char long_user[129];
	memset(long_user, 'u', 128);
	long_user[128] = 0;
	CRED_BAD(long_user, "pw");
	long_user[127] = 0;
	assert_int_equal(dialtarget_sip("sip:a@h", long_user, long_user, &t, err, sizeof err), 0);
	assert_string_equal(t.auth_pass, long_user);
	/* headers parsed before a credential error are freed (ASan checks) */
	sip_bad("sip:a@h?X-A=1&X-B=2", "", "pw", 12200, __LINE__);
}

static void test_free_safe(void **state)
{
	(void)state;
	dial_target t;
	memset(&t, 0, sizeof t);
	dialtarget_free(&t);
	dialtarget_free(NULL);
	assert_true(zeroed(&t));
}

#define NUM_OK(num, trunk, want_ruri, want_num) num_ok(num, trunk, want_ruri, want_num, __LINE__)
static void num_ok(const char *num, const char *trunk, const char *want_ruri, const char *want_num,
                   int line)
{
	dial_target t;
	char err[256] = "";
	int rc = dialtarget_number(num, trunk, NULL, NULL, &t, err, sizeof err);
	if (rc)
		fail_msg("line %d: %s via %s refused: %d %s", line, num, trunk, rc, err);
	if (strcmp(t.ruri, want_ruri) || strcmp(t.number, want_num))
		fail_msg("line %d: %s via %s: got %s (%s), want %s (%s)", line, num, trunk, t.ruri,
		         t.number, want_ruri, want_num);
	char to[600];
	snprintf(to, sizeof to, "<%s>", want_ruri);
	assert_string_equal(t.to, to);
	assert_string_equal(t.dst, "");
	assert_int_equal(t.n_hdrs, 0);
	dialtarget_free(&t);
}

#define NUM_BAD(num, trunk, want) num_bad(num, trunk, NULL, NULL, want, __LINE__)
static void num_bad(const char *num, const char *trunk, const char *u, const char *p, int want,
                    int line)
{
	dial_target t;
	char err[256] = "";
	memset(&t, 0x5a, sizeof t);
	int rc = dialtarget_number(num, trunk, u, p, &t, err, sizeof err);
	if (rc != want)
		fail_msg("line %d: %s via %s: got %d (%s), want %d", line, num ? num : "(null)",
		         trunk ? trunk : "(null)", rc, err, want);
	if (!zeroed(&t))
		fail_msg("line %d: target not zeroed after an error", line);
	if (!err[0] || !printable(err))
		fail_msg("line %d: missing or unprintable error message", line);
	assert_int_equal(dialtarget_number(num, trunk, u, p, &t, NULL, 0), want);
}

static void test_number(void **state)
{
	(void)state;
	const char *tr = "sip:trunk.example.com";
	NUM_OK("+14155551212", tr, "sip:+14155551212@trunk.example.com", "+14155551212");
	NUM_OK("+1 (415) 555-1212", tr, "sip:+14155551212@trunk.example.com", "+14155551212");
	NUM_OK("tel:+44-20-7946-0000", tr, "sip:+442079460000@trunk.example.com", "+442079460000");
	NUM_OK("0044 20 7946 0000", tr, "sip:+442079460000@trunk.example.com", "+442079460000");
	NUM_OK("14155551212", tr, "sip:+14155551212@trunk.example.com", "+14155551212");
	/* unformatted US 10-digit numbers (Twilio accepts them) */
	NUM_OK("4155551212", tr, "sip:+14155551212@trunk.example.com", "+14155551212");
	NUM_OK("(415) 555-1212", tr, "sip:+14155551212@trunk.example.com", "+14155551212");
	NUM_OK("415.555.1212", tr, "sip:+14155551212@trunk.example.com", "+14155551212");
	/* not NANP-shaped (area code or exchange starting 0/1): phone.h's rule */
	NUM_OK("1155551212", tr, "sip:+1155551212@trunk.example.com", "+1155551212");
	NUM_OK("4151551212", tr, "sip:+4151551212@trunk.example.com", "+4151551212");
	/* with a '+' it is taken as international as written */
	NUM_OK("+4155551212", tr, "sip:+4155551212@trunk.example.com", "+4155551212");

	dial_target t;
	char err[256];
	assert_int_equal(dialtarget_number("+14155551212", tr, "tu", "tp", &t, err, sizeof err), 0);
	assert_string_equal(t.transport, "udp");
	assert_string_equal(t.auth_user, "tu");
	assert_string_equal(t.auth_pass, "tp");
	assert_string_equal(t.region, "");

	NUM_BAD("", tr, 13223);
	NUM_BAD(NULL, tr, 13223);
	NUM_BAD("abc", tr, 13223);
	NUM_BAD("12345", tr, 13223);
	NUM_BAD("+0441234567", tr, 13223);
	NUM_BAD("+1234567890123456", tr, 13223);
	NUM_BAD("sip:+14155551212@h", tr, 13223);
	NUM_BAD("client:alice", tr, 13223);
	NUM_BAD("+1415555\r\n1212", tr, 13223);
}

static void test_number_trunk(void **state)
{
	(void)state;
	NUM_OK("+14155551212", "sip:trunk.example.com:5080;transport=tcp",
	       "sip:+14155551212@trunk.example.com:5080;transport=tcp", "+14155551212");
	NUM_OK("+14155551212", "sip:10.0.0.9:5060;transport=udp;lr;x-carrier=a",
	       "sip:+14155551212@10.0.0.9:5060;transport=udp;lr;x-carrier=a", "+14155551212");
	/* a trunk's params are its own: region/edge are not stripped there */
	NUM_OK("+14155551212", "sip:t.example.com;region=eu",
	       "sip:+14155551212@t.example.com;region=eu", "+14155551212");
	NUM_OK("+14155551212", "sips:[2001:db8::5]:5061", "sips:+14155551212@[2001:db8::5]:5061",
	       "+14155551212");
	dial_target t;
	char err[256];
	assert_int_equal(dialtarget_number("+14155551212", "sip:t.example.com;transport=TLS", NULL,
	                                   NULL, &t, err, sizeof err),
	                 0);
	assert_string_equal(t.transport, "tls");
	assert_int_equal(
	    dialtarget_number("+14155551212", "sips:t.example.com", "", "", &t, err, sizeof err),
	    0);
	assert_string_equal(t.transport, "tls");
	assert_string_equal(t.auth_user, "");

	/* no trunk: no route */
	NUM_BAD("+14155551212", NULL, 13224);
	NUM_BAD("+14155551212", "", 13224);
	/* a bad number is reported before a missing trunk */
	NUM_BAD("nope", NULL, 13223);
	/* invalid trunks */
	NUM_BAD("+14155551212", "trunk.example.com", 13224);
	NUM_BAD("+14155551212", "tel:+1", 13224);
	NUM_BAD("+14155551212", "sip:user@trunk.example.com", 13224);
	NUM_BAD("+14155551212", "sip:trunk.example.com?X-A=1", 13224);
	NUM_BAD("+14155551212", "sip:trunk.example.com;transport=sctp", 13224);
	NUM_BAD("+14155551212", "sip:trunk.example.com:99999", 13224);
	NUM_BAD("+14155551212", "sip:trunk example.com", 13224);
	num_bad("+14155551212", "sip:t.example.com", NULL, "pw", 13224, __LINE__);
	num_bad("+14155551212", "sip:t.example.com", "u\r\n", "pw", 13224, __LINE__);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),         cmocka_unit_test(test_sips_tls),
	    cmocka_unit_test(test_transport),     cmocka_unit_test(test_region_edge),
	    cmocka_unit_test(test_headers),       cmocka_unit_test(test_headers_refused),
	    cmocka_unit_test(test_bytes_refused), cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_uri_refused),   cmocka_unit_test(test_credentials),
	    cmocka_unit_test(test_free_safe),     cmocka_unit_test(test_number),
	    cmocka_unit_test(test_number_trunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
