/* fuzz_digest.c — libFuzzer harness for fc_digest_parse and
 * fc_digest_authorization (kamailio-module/fc_digest.h). Input: a
 * WWW-Authenticate value, optionally followed by NUL, a username, NUL, a
 * request URI. Checks: a parsed challenge has terminated, header-safe realm
 * and nonce; credentials contain no CR/LF/control bytes, report their length
 * exactly, need exactly that many bytes, and parse back (as a challenge:
 * unknown params are skipped) to the same realm, nonce, opaque and qop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fc_digest.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* Contains a double quote or a control byte other than HTAB. */
static int unsafe(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == 0x7f || ((unsigned char)*s < 0x20 && *s != '\t'))
			return 1;
	return 0;
}

static void check_field(const char *f, size_t sz)
{
	CHECK(memchr(f, 0, sz) != NULL);
	CHECK(!strpbrk(f, "\r\n"));
	for (; *f; f++)
		CHECK((unsigned char)*f >= 0x20 || *f == '\t');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *z1 = memchr(in, 0, size);
	size_t vlen = z1 ? (size_t)(z1 - in) : size;
	char user[256] = "alice", uri[256] = "sip:bob@127.0.0.1";
	if (z1) {
		size_t rest = size - vlen - 1;
		const char *u = z1 + 1;
		const char *z2 = memchr(u, 0, rest);
		size_t ulen = z2 ? (size_t)(z2 - u) : rest;
		if (ulen < sizeof user) {
			memcpy(user, u, ulen);
			user[ulen] = 0;
		}
		if (z2) {
			size_t rlen = rest - ulen - 1;
			if (rlen > 0 && rlen < sizeof uri) {
				memcpy(uri, z2 + 1, rlen);
				uri[rlen] = 0;
			}
		}
	}

	/* A copy of exactly vlen bytes, so ASan sees any read past len. */
	char *v = malloc(vlen ? vlen : 1);
	if (!v)
		return 0;
	memcpy(v, in, vlen);
	fc_challenge ch;
	int rc = fc_digest_parse(v, vlen, &ch);
	free(v);
	if (rc != 0) {
		CHECK(rc == -1 && ch.realm[0] == 0 && ch.nonce[0] == 0 && !ch.has_opaque);
		return 0;
	}
	check_field(ch.realm, sizeof ch.realm);
	check_field(ch.nonce, sizeof ch.nonce);
	check_field(ch.opaque, sizeof ch.opaque);
	check_field(ch.algorithm, sizeof ch.algorithm);
	CHECK(ch.nonce[0]);

	char out[4096];
	int n = fc_digest_authorization(&ch, "INVITE", uri, user, "p\"w\r\nX", "0a4f113b", 1, out,
	                                sizeof out);
	if (n < 0) {
		CHECK(n == -1 && out[0] == 0);
		/* only header-unsafe input is refused with this much room */
		CHECK(unsafe(user) || unsafe(uri) || !uri[0] || unsafe(ch.realm) ||
		      unsafe(ch.nonce) || (ch.has_opaque && unsafe(ch.opaque)));
		return 0;
	}
	CHECK((size_t)n == strlen(out));
	CHECK(!strncmp(out, "Digest username=\"", 17));
	for (int i = 0; i < n; i++)
		CHECK((unsigned char)out[i] >= 0x20 || out[i] == '\t');
	CHECK(strstr(out, ", algorithm=MD5") != NULL);
	/* (user and uri may contain anything, so only one direction here; the
	 * round trip below checks that no qop appears when none was offered) */
	CHECK(!ch.qop_auth || strstr(out, ", algorithm=MD5, cnonce=\"0a4f113b\", nc=00000001, "
	                                  "qop=auth") != NULL);

	/* Round trip: our own output read as a challenge. */
	fc_challenge back;
	CHECK(fc_digest_parse(out, (size_t)n, &back) == 0);
	CHECK(!strcmp(back.realm, ch.realm));
	CHECK(!strcmp(back.nonce, ch.nonce));
	CHECK(back.has_opaque == ch.has_opaque);
	CHECK(!ch.has_opaque || !strcmp(back.opaque, ch.opaque));
	CHECK(back.qop_auth == ch.qop_auth);

	/* Exactly n + 1 bytes suffice; n do not. */
	char *tight = malloc((size_t)n + 1);
	if (!tight)
		return 0;
	CHECK(fc_digest_authorization(&ch, "INVITE", uri, user, "p\"w\r\nX", "0a4f113b", 1, tight,
	                              (size_t)n + 1) == n);
	CHECK(!strcmp(tight, out));
	CHECK(fc_digest_authorization(&ch, "INVITE", uri, user, "p\"w\r\nX", "0a4f113b", 1, tight,
	                              (size_t)n) == -1);
	CHECK(tight[0] == 0);
	free(tight);
	return 0;
}
