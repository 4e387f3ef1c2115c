/* fc_uas.c — RFC 3261 section 8.2 checks of an initial INVITE (fc_uas.h),
 * in the order the RFC gives them: method and URI (8.2.1, 8.2.2.1), Require
 * (8.2.2.3), content (8.2.3), then whether the offer can be answered
 * (13.3.1.1). The judging is done by the pure parsers of fc_sipcheck.c and
 * fc_sdpcheck.c; this file feeds them Kamailio's parsed headers. */
#include "fc_uas.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../../core/data_lump_rpl.h"
#include "../../core/dprint.h"
#include "../../core/parser/parse_content.h"
#include "../../core/parser/hf.h"
#include "../../core/parser/parse_uri.h"
#include "fc_sipcheck.h"
#include "fc_sdpcheck.h"

static int refuse(fc_refusal *r, int code, const char *reason)
{
	r->code = code;
	r->reason = reason;
	return -1;
}

char *fc_msg_body(struct sip_msg *msg, int *len)
{
	*len = 0;
	char *body = get_body(msg);
	if (!body)
		return NULL;
	long have = (long)(msg->buf + msg->len - body);
	if (msg->content_length && get_content_length(msg) < have)
		have = get_content_length(msg);
	if (have <= 0)
		return NULL;
	*len = (int)have;
	return body;
}

/* 420 when a Require (or Proxy-Require: the proxy in front of us is us) names
 * an extension we do not implement (section 8.2.2.3). */
static int check_require(struct sip_msg *msg, fc_refusal *r)
{
	if (parse_headers(msg, HDR_EOH_F, 0) < 0)
		return refuse(r, 400, "Bad Request - Bad Headers");
	char list[256], one[256];
	int bad = 0;
	list[0] = 0;
	for (struct hdr_field *h = msg->headers; h; h = h->next) {
		if (h->type != HDR_REQUIRE_T && h->type != HDR_PROXYREQUIRE_T)
			continue;
		if (fc_require_unsupported(h->body.s, (size_t)h->body.len, one, sizeof one) == 0)
			continue;
		size_t have = strlen(list);
		snprintf(list + have, sizeof list - have, "%s%s", bad ? ", " : "", one);
		bad = 1;
	}
	if (!bad)
		return 0;
	snprintf(r->hdrs, sizeof r->hdrs, "Unsupported: %s\r\nSupported: %s\r\n", list,
	         FC_SUPPORTED_TAGS);
	return refuse(r, 420, "Bad Extension");
}

/* The SDP offer in the body, 415 for a body that has none (section 8.2.3). */
static int find_sdp(struct sip_msg *msg, str *sdp, fc_refusal *r)
{
	int blen;
	char *body = fc_msg_body(msg, &blen);
	sdp->s = NULL;
	sdp->len = 0;
	if (!body)
		return 0; /* no offer: we make one in the 200 (RFC 3264 late offer) */
	if (!msg->content_type)
		return refuse(r, 400, "Bad Request - Body Without Content-Type");
	str ct = msg->content_type->body;
	if (fc_ctype_is(ct.s, (size_t)ct.len, "application/sdp")) {
		sdp->s = body;
		sdp->len = blen;
		return 0;
	}
	int mp = 0;
	if (ct.len >= 10 && strncasecmp(ct.s, "multipart/", 10) == 0) {
		const char *s;
		size_t n;
		mp = fc_multipart_sdp(ct.s, (size_t)ct.len, body, (size_t)blen, &s, &n);
		if (mp > 0) {
			sdp->s = (char *)s;
			sdp->len = (int)n;
			return 0;
		}
	}
	snprintf(r->hdrs, sizeof r->hdrs, "Accept: %s\r\n", FC_ACCEPTED_BODIES);
	return refuse(r, 415,
	              mp < 0 ? "Unsupported Media Type - Bad Multipart Body"
	                     : "Unsupported Media Type");
}

int fc_uas_check_invite(struct sip_msg *msg, str *sdp, fc_refusal *r)
{
	r->hdrs[0] = 0;
	sdp->s = NULL;
	sdp->len = 0;
	str ruri = msg->first_line.u.request.uri;
	int scheme = fc_uri_scheme_ok(ruri.s, (size_t)ruri.len);
	if (scheme <= 0)
		return scheme == 0 ? refuse(r, 416, "Unsupported URI Scheme")
		                   : refuse(r, 400, "Bad Request - Bad Request-URI");
	/* Table 1 of section 19.1.1: headers are not allowed in a Request-URI. */
	if (parse_sip_msg_uri(msg) < 0)
		return refuse(r, 400, "Bad Request - Bad Request-URI");
	if (msg->parsed_uri.headers.len > 0)
		return refuse(r, 400, "Bad Request - Headers in Request-URI");
	if (check_require(msg, r) < 0 || find_sdp(msg, sdp, r) < 0)
		return -1;
	if (!sdp->s)
		return 0;
	char why[160];
	int warn = fc_sdp_check(sdp->s, (size_t)sdp->len, why, sizeof why);
	if (warn) {
		/* Warning: warn-code SP warn-agent SP warn-text (section 20.43) */
		snprintf(r->hdrs, sizeof r->hdrs, "Warning: %d fulcrum \"%s\"\r\n", warn, why);
		return refuse(r, 488, "Not Acceptable Here");
	}
	return 0;
}

int fc_uas_require(struct sip_msg *msg)
{
	fc_refusal r;
	r.hdrs[0] = 0;
	if (check_require(msg, &r) == 0)
		return 0;
	if (r.hdrs[0] && !add_lump_rpl(msg, r.hdrs, (int)strlen(r.hdrs), LUMP_RPL_HDR))
		LM_ERR("cannot add Unsupported to the reply\n");
	return 1;
}

int fc_uas_unsupported_scheme(struct sip_msg *msg)
{
	str ruri = msg->first_line.u.request.uri;
	return fc_uri_scheme_ok(ruri.s, (size_t)ruri.len) == 0;
}
