/* fc_sipcheck.h — the checks RFC 3261 asks of a UAS before it takes an
 * INVITE (section 8.2): the Request-URI scheme (416), Require (420), the body's
 * type (415), and the small text jobs around them: %-unescaping the
 * Request-URI user (section 19.1.4) and unfolding header values (section
 * 7.3.1). Pure C (libc only), like fc_refer.h, so that it can be unit-tested
 * and fuzzed; every input is untrusted and every copy bounded. */
#ifndef FC_SIPCHECK_H
#define FC_SIPCHECK_H

#include <stddef.h>

/* The option tags (RFC 3261 section 19.2) of the extensions the module
 * implements as a UAS: Replaces (RFC 3891). Sent in Supported; a Require of
 * anything else is answered 420. */
#define FC_SUPPORTED_TAGS "replaces"
/* The methods the module serves (Allow, RFC 3261 section 20.5). */
#define FC_ALLOWED_METHODS "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY"
/* The body types an INVITE may carry (Accept in a 415). */
#define FC_ACCEPTED_BODIES "application/sdp, multipart/mixed"

/* 1 when the URI's scheme is sip, sips or tel; 0 when it is another
 * well-formed scheme (RFC 3986 section 3.1: answer 416 Unsupported URI
 * Scheme, RFC 3261 section 8.2.2.1); -1 when it has none (not a URI: 400). */
int fc_uri_scheme_ok(const char *uri, size_t n);

/* Checks the option tags of a Require or Proxy-Require value against
 * FC_SUPPORTED_TAGS. Returns the number of unsupported tags (0: all
 * supported), writing them comma-separated to out (NUL-terminated, bounded;
 * a tag that is not a token is written as "?"). */
int fc_require_unsupported(const char *val, size_t n, char *out, size_t outsz);

/* %-unescapes a SIP URI user part (RFC 3261 section 19.1.4: compared after
 * unescaping). Returns the length written to out (NUL-terminated), or -1
 * when an escape is malformed, decodes to a control character or NUL, or the
 * result does not fit. */
int fc_uri_user_unescape(const char *s, size_t n, char *out, size_t outsz);

/* Unfolds a header value in place (RFC 3261 section 7.3.1): every run of
 * whitespace that contains a CR or LF becomes one space. Returns the new
 * length. */
size_t fc_unfold(char *s, size_t n);

/* 1 when the Content-Type value's media type is type/subtype (lower case),
 * parameters and case ignored. */
int fc_ctype_is(const char *ctype, size_t n, const char *type_subtype);

/* Finds the application/sdp part of a multipart body (RFC 2046 section
 * 5.1; RFC 5621 for SIP). ctype is the message's Content-Type value (with
 * its boundary parameter). Returns 1 and sets *sdp, *sdp_len to the part's
 * content, 0 when the body has no SDP part, -1 when it is not a well-formed
 * multipart body. */
int fc_multipart_sdp(const char *ctype, size_t ctype_len, const char *body, size_t body_len,
                     const char **sdp, size_t *sdp_len);

#endif
