/* fuzz_dialtarget.c — libFuzzer harness for dialtarget_sip and
 * dialtarget_number. Input: uri '\n' username '\n' password (missing fields
 * are NULL). The first field is also dialed as a <Number> through a fixed
 * trunk and used as the trunk for a fixed number. Checks: an accepted target
 * is wire-safe (printable ASCII R-URI < 255 chars without '?', allowed
 * header names only, values without control characters, To = <R-URI>), the
 * R-URI is a fixed point (re-parsing it gives itself, no region, no
 * headers); a refused one is zeroed with a printable message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialtarget.h"
#include "phone.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static const char TRUNK[] = "sip:trunk.example.com:5080;transport=tcp";

static int zeroed(const dial_target *t)
{
	static const dial_target z;
	return !memcmp(t, &z, sizeof z);
}

static void check_wire(const char *s, size_t max)
{
	CHECK(memchr(s, 0, max + 1) != NULL);
	for (; *s; s++)
		CHECK((unsigned char)*s > ' ' && (unsigned char)*s < 0x7f);
}

static void check_printable(const char *s)
{
	for (; *s; s++)
		CHECK((unsigned char)*s >= ' ' && (unsigned char)*s != 0x7f);
}

static void check_refused(const dial_target *t, const char *err)
{
	CHECK(zeroed(t));
	CHECK(err[0]);
	check_printable(err);
}

static void check_target(const dial_target *t)
{
	check_wire(t->ruri, 300);
	CHECK(!strncmp(t->ruri, "sip:", 4) || !strncmp(t->ruri, "sips:", 5));
	CHECK(!strchr(t->ruri, '?'));
	char to[600];
	snprintf(to, sizeof to, "<%s>", t->ruri);
	CHECK(!strcmp(t->to, to));
	CHECK(!strcmp(t->dst, ""));
	CHECK(!strcmp(t->transport, "udp") || !strcmp(t->transport, "tcp") ||
	      !strcmp(t->transport, "tls"));
	if (!strncmp(t->ruri, "sips:", 5))
		CHECK(!strcmp(t->transport, "tls"));
	CHECK(memchr(t->region, 0, sizeof t->region) != NULL);
	check_wire(t->region, sizeof t->region - 1);
	CHECK(t->n_hdrs >= 0 && t->n_hdrs <= DIALTARGET_MAX_HDRS);
	for (int i = 0; i < t->n_hdrs; i++) {
		const char *n = t->hdr_names[i], *v = t->hdr_values[i];
		CHECK(n && v && *n && strlen(n) <= DIALTARGET_MAX_HDR_NAME);
		CHECK(strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		                "-.!%*_+`'~") == strlen(n));
		CHECK((!strncasecmp(n, "x-", 2) && strncasecmp(n, "x-twilio", 8)) ||
		      !strcasecmp(n, "User-to-User") || !strcasecmp(n, "Remote-Party-ID") ||
		      !strcasecmp(n, "P-Preferred-Identity") ||
		      !strcasecmp(n, "P-Called-Party-ID"));
		CHECK(strlen(v) <= DIALTARGET_MAX_HDR_VALUE);
		for (const char *p = v; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
	}
	CHECK(memchr(t->auth_user, 0, sizeof t->auth_user) != NULL);
	CHECK(memchr(t->auth_pass, 0, sizeof t->auth_pass) != NULL);
	check_printable(t->auth_user);
	check_printable(t->auth_pass);
	CHECK(!strchr(t->auth_user, '"') && !strchr(t->auth_user, '\\'));
	CHECK(!t->auth_pass[0] || t->auth_user[0]);
}

static void sip(const char *uri, const char *user, const char *pass)
{
	dial_target t, again;
	char err[256] = "";
	int rc = dialtarget_sip(uri, user, pass, &t, err, sizeof err);
	if (rc) {
		CHECK(rc == 13243 || rc == 12200);
		check_refused(&t, err);
		return;
	}
	check_target(&t);
	CHECK(strlen(t.ruri) < 255);
	CHECK(!strcmp(t.number, ""));
	CHECK(!strcmp(t.auth_user, user ? user : ""));
	CHECK(!strcmp(t.auth_pass, pass ? pass : ""));
	/* region=/edge= are gone from the parameters after the host */
	const char *at = strchr(t.ruri, '@');
	const char *hp = at ? at + 1 : t.ruri;
	CHECK(!strcasestr(hp, ";region=") && !strcasestr(hp, ";edge="));
	/* fixed point */
	CHECK(dialtarget_sip(t.ruri, NULL, NULL, &again, err, sizeof err) == 0);
	CHECK(!strcmp(again.ruri, t.ruri));
	CHECK(!strcmp(again.transport, t.transport));
	CHECK(!strcmp(again.region, "") && again.n_hdrs == 0);
	dialtarget_free(&again);
	dialtarget_free(&t);
	CHECK(t.n_hdrs == 0);
	dialtarget_free(&t);
}

static void number(const char *num)
{
	dial_target t;
	char err[256] = "";
	int rc = dialtarget_number(num, TRUNK, "u", "p", &t, err, sizeof err);
	if (rc) {
		CHECK(rc == 13223);
		check_refused(&t, err);
		return;
	}
	check_target(&t);
	CHECK(e164_valid(t.number));
	char want[600];
	snprintf(want, sizeof want, "sip:%s@trunk.example.com:5080;transport=tcp", t.number);
	CHECK(!strcmp(t.ruri, want));
	CHECK(!strcmp(t.transport, "tcp") && t.n_hdrs == 0);
	dialtarget_free(&t);
}

static void trunk(const char *tr, const char *user, const char *pass)
{
	dial_target t, again;
	char err[256] = "";
	int rc = dialtarget_number("+14155551212", tr, user, pass, &t, err, sizeof err);
	if (rc) {
		CHECK(rc == 13224);
		check_refused(&t, err);
		return;
	}
	check_target(&t);
	CHECK(!strcmp(t.number, "+14155551212"));
	CHECK(strstr(t.ruri, ":+14155551212@") == strchr(t.ruri, ':'));
	/* the R-URI is itself an acceptable <Sip> URI when short enough and
	 * without the region/edge parameters that a trunk keeps verbatim */
	if (strlen(t.ruri) < 255 && !strcasestr(t.ruri, ";region") &&
	    !strcasestr(t.ruri, ";edge")) {
		CHECK(dialtarget_sip(t.ruri, NULL, NULL, &again, err, sizeof err) == 0);
		CHECK(!strcmp(again.ruri, t.ruri) && !strcmp(again.transport, t.transport));
		dialtarget_free(&again);
	}
	dialtarget_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	char *f[3] = {buf, NULL, NULL};
	for (int i = 1; i < 3; i++) {
		char *nl = strchr(f[i - 1], '\n');
		if (!nl)
			break;
		*nl = 0;
		f[i] = nl + 1;
	}
	sip(f[0], f[1], f[2]);
	number(f[0]);
	trunk(f[0], f[1], f[2]);
	free(buf);
	return 0;
}
