/* fc_digest.h — SIP digest authentication as a UAC (RFC 2617 / RFC 7616,
 * MD5 only): parsing a 401 WWW-Authenticate / 407 Proxy-Authenticate
 * challenge and writing the matching Authorization / Proxy-Authorization
 * value for a dial target. Pure C with OpenSSL's EVP for MD5; includes no
 * Kamailio header so that it can be unit-tested and fuzzed on its own. */
#ifndef FC_DIGEST_H
#define FC_DIGEST_H

#include <stddef.h>

typedef struct fc_challenge {
	/* Unescaped values, NUL-terminated. algorithm is "MD5" (as spelled in
	 * the challenge) or, when the challenge has none, "MD5". */
	char realm[256], nonce[256], opaque[256], algorithm[32];
	int has_opaque;
	int qop_auth; /* the challenge offers qop "auth" (possibly among others, e.g.
	                 "auth,auth-int") */
	int stale;
} fc_challenge;

/* Parses the value of a WWW-Authenticate / Proxy-Authenticate header (text after the colon,
 * starting with "Digest"), len bytes, not necessarily NUL-terminated. Quoted strings with
 * backslash escapes, tokens, any parameter order, unknown params ignored, case-insensitive names.
 * Returns 0, or -1 when it is not a usable MD5 Digest challenge (other scheme, missing realm or
 * nonce, algorithm other than MD5 / absent, oversize values, garbage).
 * Also -1: an empty nonce, a known parameter given twice, control characters
 * (CR, LF, NUL, ...) inside a value, and a qop list that does not offer "auth"
 * (e.g. only "auth-int": RFC 7616 §3.4 forbids answering without a qop then).
 * On -1, *out is zeroed. */
int fc_digest_parse(const char *value, size_t len, fc_challenge *out);

/* Writes the credentials value (what follows "Authorization: " / "Proxy-Authorization: "):
 * Digest username="..", realm="..", nonce="..", uri="..", response="..", algorithm=MD5
 * [, cnonce="..", nc=00000001, qop=auth] [, opaque=".."]
 * qop=auth is used when the challenge offers it, otherwise the RFC 2069 form.
 * cnonce: caller-supplied (the module passes random hex). nc: nonce count.
 * Returns the length written (NUL-terminated) or -1 when out is too small or an input contains
 * CR, LF or a double quote (never produce a header that could inject lines).
 * Precisely, -1 also for: a NULL argument (cnonce may be NULL without qop),
 * any control character in method, uri, user, cnonce or the challenge's
 * realm / nonce / opaque, an empty method, uri or nonce, an empty cnonce or
 * nc == 0 with qop, a challenge algorithm other than MD5, and failure of the
 * MD5 digest. The password is only hashed, never written, so it may contain
 * anything. Backslashes in quoted values are written escaped ("\\"); the hash
 * uses the unescaped values. On -1, out is "" when outlen > 0. */
int fc_digest_authorization(const fc_challenge *ch, const char *method, const char *uri,
                            const char *user, const char *pass, const char *cnonce, unsigned nc,
                            char *out, size_t outlen);

#endif
