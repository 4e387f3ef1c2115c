/* fc_uas.h — what a UAS must check of an initial INVITE before it becomes a
 * call (RFC 3261 section 8.2): Request-URI scheme, Require, body type and
 * the SDP offer. Runs on a SIP worker before anything is published, so a
 * refused INVITE never reaches callctl, the webhook or rtpengine. */
#ifndef FC_UAS_H
#define FC_UAS_H

#include "../../core/str.h"
#include "../../core/parser/msg_parser.h"

#define FC_UAS_HDRS_MAX 512 /* the header lines of a refusal */

typedef struct fc_refusal {
	int code;
	const char *reason;
	char hdrs[FC_UAS_HDRS_MAX]; /* CRLF-terminated header lines, or "" */
} fc_refusal;

/* The message body as far as Content-Length says (RFC 3261 section 18.3: on
 * UDP, bytes after it are not part of the message). NULL and *len 0 when
 * there is none. */
char *fc_msg_body(struct sip_msg *msg, int *len);

/* 0 when the INVITE may become a call; *sdp is then its SDP offer (possibly
 * a part of a multipart body), or {0, 0}. -1 when it must be refused with
 * r's code, reason and header lines. */
int fc_uas_check_invite(struct sip_msg *msg, str *sdp, fc_refusal *r);

/* For any request the script answers itself (OPTIONS): 1 when a Require
 * or Proxy-Require names an extension we do not implement, with the
 * Unsupported header already added to the reply the script sends (420);
 * 0 otherwise. */
int fc_uas_require(struct sip_msg *msg);

/* 1 when the Request-URI as written has a well-formed scheme other than
 * sip, sips or tel: the script answers 416 (section 8.2.2.1) before
 * sanity's URI parser would make it a 400. */
int fc_uas_unsupported_scheme(struct sip_msg *msg);

#endif
