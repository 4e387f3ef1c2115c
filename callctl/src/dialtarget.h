/* dialtarget.h — turns a <Dial> noun (<Sip> URI with ?headers, <Number> or
 * a bare number) into the SIP target of the module's `dial` command
 * (bus-protocol.md §8), refusing everything that must never reach the wire:
 * oversize URIs, non-SIP schemes, forbidden or malformed custom headers,
 * control characters. Twilio rules: twilio-voice.md §2.2 and §2.4. */
#ifndef FC_DIALTARGET_H
#define FC_DIALTARGET_H
#include <stddef.h>

#define DIALTARGET_MAX_HDRS 32
#define DIALTARGET_MAX_URI 254        /* the URI without ?headers: < 255 chars */
#define DIALTARGET_MAX_HDR_BLOCK 1023 /* the header block after '?': < 1024 chars */
#define DIALTARGET_MAX_HDR_VALUE 1024 /* a decoded header value (bus limit) */
#define DIALTARGET_MAX_HDR_NAME 64    /* a decoded header name (bus limit) */

typedef struct dial_target {
	char ruri[512];    /* Request-URI: scheme (lowercased), user, host, port and URI
	                      params as written (transport=... kept), region=/edge= params
	                      removed, ?headers removed */
	char to[600];      /* To header value: "<" ruri ">" */
	char dst[512];     /* next hop ("sip:host:port;transport=x") or "" to route on
	                      the R-URI; always "" from these functions */
	char transport[8]; /* "udp", "tcp" or "tls" (tls when sips: or transport=tls) */
	char region[32];   /* the first region=/edge= value stripped from the URI, or "" */
	/* Custom headers from the URI, percent-decoded, names as written, in
	 * order; malloc'd, freed by dialtarget_free. */
	char *hdr_names[DIALTARGET_MAX_HDRS], *hdr_values[DIALTARGET_MAX_HDRS];
	int n_hdrs;
	char auth_user[128], auth_pass[128]; /* digest credentials, "" = none */
	char number[40];                     /* <Number>: the E.164 number dialed, else "" */
} dial_target;

/* <Sip>: uri as in twiml_sip.uri (entities already decoded by the XML
 * parser); user/pass: the username/password attributes (NULL or "" = none).
 * Returns 0 and fills out, or a Twilio error code with a human message in err
 * (err may be NULL) and out zeroed:
 *   13243 anything wrong with the URI or its headers: not sip:/sips:, no
 *         host, URI >= 255 chars or header block >= 1024 chars, whitespace or
 *         control characters (also percent-encoded ones), a header other
 *         than X-* (but not X-Twilio*), User-to-User, Remote-Party-ID,
 *         P-Preferred-Identity, P-Called-Party-ID, Replaces, a name that is not a SIP
 *         token, more than DIALTARGET_MAX_HDRS headers, an unknown
 *         transport, credentials that are too long or contain control
 *         characters, a password without a username.
 * out is always left safe for dialtarget_free. */
int dialtarget_sip(const char *uri, const char *user, const char *pass, dial_target *out, char *err,
                   size_t errlen);

/* <Number> / bare number: normalised to E.164 (phone.h; additionally a bare
 * 10-digit NANP number such as "(415) 555-1212" becomes +1...), sent to the
 * configured trunk. trunk is a SIP URI without user part or headers, e.g.
 * "sip:trunk.example.com:5080;transport=tcp" (FULCRUM_PSTN_TRUNK); trunk_user/
 * trunk_pass optional digest credentials (NULL or "" = none). R-URI =
 * sip:+E164@trunkhost[:port][;params], dst = "". Returns 0, or:
 *   13223 the number is empty or not a phone number
 *   13224 no trunk configured (no route), or the trunk is not a valid
 *         SIP URI without user part and headers. */
int dialtarget_number(const char *number, const char *trunk, const char *trunk_user,
                      const char *trunk_pass, dial_target *out, char *err, size_t errlen);

/* Frees the header strings; safe on a zeroed struct and when called twice. */
void dialtarget_free(dial_target *t);

#endif
