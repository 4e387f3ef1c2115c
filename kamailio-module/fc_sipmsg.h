/* fc_sipmsg.h — turns an initial INVITE into the "sip" object of a
 * call.incoming event (bus-protocol.md §4): addresses, tags, transport, X-
 * headers, User-to-User, P-Asserted-Identity, Diversion and the SDP. */
#ifndef FC_SIPMSG_H
#define FC_SIPMSG_H

#include <jansson.h>
#include "../../core/parser/msg_parser.h"

#define FC_MAX_BODY (32 * 1024)
#define FC_MAX_XHDRS 64        /* X- headers passed on; more are counted (headers_dropped) */
#define FC_XHDR_VALUE_MAX 1024 /* bytes of one X- header value passed on (headers_cut) */
#define FC_URI_USER_MAX 256    /* an unescaped Request-URI user */

/* Returns a new object, or NULL with *code and *reason set to the SIP error the
 * caller should answer with (400 for unparsable parts, 413 for a body that is
 * too large, 500 for no memory). sdp is the offer fc_uas_check_invite found
 * (s NULL: none). */
json_t *fc_sipmsg_invite(struct sip_msg *msg, const str *sdp, int *code, const char **reason);
/* Adds "headers" (X- headers as [name, value] pairs), and when there is a
 * body "content_type" plus "sdp" (application/sdp) or "body" to o. Works on
 * requests and replies. 0 / -1. */
int fc_sipmsg_extras(struct sip_msg *msg, json_t *o);
/* A JSON string of s[0..len) with invalid UTF-8 and control bytes (other
 * than CR, LF, TAB) replaced by '?'. Never NULL unless out of memory. */
json_t *fc_json_str(const char *s, int len);

#endif
