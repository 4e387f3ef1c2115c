/* fc_sdpcheck.h — can Fulcrum answer this SDP offer (RFC 3264)? A strict
 * line parser of RFC 4566 with limits, run on an INVITE's offer before the
 * webhook is fetched or an rtpengine port is taken: an offer it rejects is
 * answered 488 Not Acceptable Here with a Warning (RFC 3261 sections 13.3.1.1
 * and 20.43). Pure C (libc only), unit-tested and fuzzed. */
#ifndef FC_SDPCHECK_H
#define FC_SDPCHECK_H

#include <stddef.h>

#define FC_SDP_MEDIA_MAX 16  /* m= lines in one offer */
#define FC_SDP_LINES_MAX 512 /* lines in one offer */
#define FC_SDP_LINE_MAX 2048 /* bytes in one line (ICE, crypto, fingerprint fit) */
#define FC_SDP_FMTS_MAX 64   /* formats on one m= line */

/* Warning codes of RFC 3261 section 20.43. */
#define FC_WARN_PROTO 302  /* Incompatible transport protocol */
#define FC_WARN_MEDIA 304  /* Media type not available */
#define FC_WARN_FORMAT 305 /* Incompatible media format */
#define FC_WARN_MISC 399   /* Miscellaneous warning */

/* The audio codecs Fulcrum answers with (by encoding name; static payload
 * types 0, 8 and 9 need no rtpmap). */
#define FC_SDP_CODECS "PCMU, PCMA, G722, opus"

/* Returns 0 when the offer has at least one audio stream Fulcrum can take
 * (a port, an RTP profile, a connection address and one of FC_SDP_CODECS).
 * Otherwise returns the Warning code and writes the reason to why
 * (NUL-terminated, bounded). */
int fc_sdp_check(const char *sdp, size_t n, char *why, size_t whysz);

#endif
