/* fc_refer.h — parsing the SIP headers of a REFER: Refer-To (RFC 3515), with
 * the headers embedded in its URI and a Replaces among them (RFC 3891), and
 * Referred-By (RFC 3892). Pure C (libc only); includes no Kamailio header so
 * that it can be unit-tested and fuzzed on its own. The input comes from the
 * far end of a call: every copy is bounded and an over-long field is an error,
 * never truncated. */
#ifndef FC_REFER_H
#define FC_REFER_H

#include <stddef.h>

#define FC_REFER_TO_MAX 256 /* longest Refer-To value accepted for a transfer (Twilio's limit) */
#define FC_REFER_MAX_HDRS 16
#define FC_REFER_HNAME_MAX 64
#define FC_REFER_HVALUE_MAX 1024

enum { FC_REFER_OK = 0, FC_REFER_ESYNTAX = -1, FC_REFER_ESCHEME = -2 };

typedef struct fc_uri_hdr {
	char name[FC_REFER_HNAME_MAX + 1];   /* as written */
	char value[FC_REFER_HVALUE_MAX + 1]; /* %-decoded */
} fc_uri_hdr;

typedef struct fc_replaces {
	char call_id[257];
	char to_tag[129];
	char from_tag[129];
	int early_only;
} fc_replaces;

typedef struct fc_refer_to {
	char display[129]; /* display name, quotes removed and \-escapes resolved; "" if none */
	char uri[1025]; /* the URI without its ?headers part, as written (scheme kept: sip:, sips:,
	                   tel:), URI params kept */
	char scheme[8]; /* "sip", "sips" or "tel" (lower case) */
	int n_hdrs;
	fc_uri_hdr hdrs[FC_REFER_MAX_HDRS]; /* embedded headers in order, Replaces excluded */
	int has_replaces;
	fc_replaces replaces;
} fc_refer_to;

/* Parses a Refer-To header value (s, len; not NUL-terminated necessarily). Returns
 * FC_REFER_OK, FC_REFER_ESYNTAX or FC_REFER_ESCHEME (well-formed but scheme is not
 * sip/sips/tel); on error *out is zeroed and err gets a short human-readable reason
 * (for a SIP reason phrase: printable ASCII only, no CR/LF, <= 80 chars).
 * err may be NULL (errlen 0); the reason is cut to errlen - 1 bytes; on success err is "".
 * Inputs longer than 8192 bytes are refused (the caller applies FC_REFER_TO_MAX itself).
 * Embedded header values are refused when they decode to a control character
 * other than HTAB (CR, LF and NUL included). */
int fc_refer_to_parse(const char *s, size_t len, fc_refer_to *out, char *err, size_t errlen);

/* Parses a Replaces value: callid *( ";" param ), params to-tag, from-tag, early-only
 * (case-insensitive names; other params ignored). to-tag and from-tag are required.
 * FC_REFER_OK or FC_REFER_ESYNTAX (*out zeroed, err as above). A to-tag or from-tag given
 * twice, or early-only with a value, is a syntax error. */
int fc_replaces_parse(const char *s, size_t len, fc_replaces *out, char *err, size_t errlen);

/* Parses a Referred-By value (name-addr or addr-spec, then ;params, e.g. ;cid=...) and copies
 * the URI (without <>) into uri. FC_REFER_OK or FC_REFER_ESYNTAX. Any scheme is accepted and
 * the URI's ?headers are kept as written (not interpreted). A URI that does not fit urilen
 * (with its NUL) is an error; on error uri is "" (when urilen > 0). */
int fc_referred_by_parse(const char *s, size_t len, char *uri, size_t urilen, char *err,
                         size_t errlen);

#endif
