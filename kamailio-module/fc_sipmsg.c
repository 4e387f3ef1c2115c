/* fc_sipmsg.c — extracts the call.incoming "sip" object from an INVITE
 * (fc_sipmsg.h). Uses Kamailio's own parsers; nothing here trusts lengths or
 * encodings of the input. */
#include "fc_sipmsg.h"
#include "fc_sipcheck.h"
#include "fc_uas.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../core/dprint.h"
#include "../../core/ip_addr.h"
#include "../../core/trim.h"
#include "../../core/parser/parse_from.h"
#include "../../core/parser/parse_to.h"
#include "../../core/parser/parse_uri.h"
#include "../../core/parser/parse_content.h"

/* Length of a valid UTF-8 sequence starting at p (at most n bytes), or 0. */
static int utf8_len(const unsigned char *p, int n)
{
	int need;
	if (p[0] < 0x80)
		return 1;
	else if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	for (int i = 1; i < need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (need == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
		return 0;
	if (need == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
		return 0;
	return need;
}

json_t *fc_json_str(const char *s, int len)
{
	if (!s || len <= 0)
		return json_string("");
	char *buf = malloc((size_t)len + 1);
	if (!buf)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	int i = 0, o = 0;
	while (i < len) {
		int k = utf8_len(p + i, len - i);
		if (k == 0 ||
		    (k == 1 && p[i] < 0x20 && p[i] != '\r' && p[i] != '\n' && p[i] != '\t')) {
			buf[o++] = '?';
			i++;
			continue;
		}
		memcpy(buf + o, p + i, (size_t)k);
		o += k;
		i += k;
	}
	json_t *j = json_stringn(buf, (size_t)o);
	free(buf);
	return j;
}

static int set_str(json_t *o, const char *key, const char *s, int len)
{
	json_t *v = fc_json_str(s, len);
	return v ? json_object_set_new(o, key, v) : -1;
}

static int set_trimmed(json_t *o, const char *key, str v)
{
	trim(&v);
	return set_str(o, key, v.s, v.len);
}

static int is_x_header(const str *name)
{
	return name->len > 2 && (name->s[0] == 'X' || name->s[0] == 'x') && name->s[1] == '-';
}

/* Appends [name, value] of an X- header to hdrs, its value unfolded (RFC 3261
 * section 7.3.1: a folded value means the same as one with a single space) and
 * cut to FC_XHDR_VALUE_MAX bytes. A header beyond FC_MAX_XHDRS is counted in
 * *dropped instead, a cut one in *cut. */
static int add_xhdr(json_t *hdrs, struct hdr_field *h, str v, int *dropped, int *cut)
{
	if (json_array_size(hdrs) >= FC_MAX_XHDRS) {
		(*dropped)++;
		return 0;
	}
	char buf[FC_XHDR_VALUE_MAX];
	size_t n = (size_t)v.len;
	if (n > sizeof buf) {
		n = sizeof buf;
		(*cut)++;
	}
	memcpy(buf, v.s, n);
	n = fc_unfold(buf, n);
	json_t *pair =
	    json_pack("[oo]", fc_json_str(h->name.s, h->name.len), fc_json_str(buf, (int)n));
	return pair ? json_array_append_new(hdrs, pair) : -1;
}

/* Records what did not fit in the event (bus-protocol.md §4), and says so. */
static int note_limits(json_t *o, int dropped, int cut)
{
	if (!dropped && !cut)
		return 0;
	LM_WARN("%d X- headers beyond the first %d dropped, %d values cut to %d bytes\n", dropped,
	        FC_MAX_XHDRS, cut, FC_XHDR_VALUE_MAX);
	return json_object_set_new(o, "headers_dropped", json_integer(dropped)) |
	       json_object_set_new(o, "headers_cut", json_integer(cut));
}

static int name_is(const str *name, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)name->len == n && strncasecmp(name->s, lit, n) == 0;
}

static int add_uri_parts(json_t *o, const char *prefix, str uri)
{
	struct sip_uri pu;
	char key[32];
	if (parse_uri(uri.s, uri.len, &pu) < 0)
		return -1;
	snprintf(key, sizeof key, "%s_user", prefix);
	if (set_str(o, key, pu.user.s, pu.user.len) < 0)
		return -1;
	snprintf(key, sizeof key, "%s_host", prefix);
	return set_str(o, key, pu.host.s, pu.host.len);
}

json_t *fc_sipmsg_invite(struct sip_msg *msg, const str *sdp, int *code, const char **reason)
{
	*code = 400;
	*reason = "Bad Request";
	if (parse_headers(msg, HDR_EOH_F, 0) < 0 || !msg->callid || !msg->from || !msg->to) {
		*reason = "Bad Request - Missing Headers";
		return NULL;
	}
	if (parse_from_header(msg) < 0 || parse_to_header(msg) < 0) {
		*reason = "Bad Request - Bad From/To";
		return NULL;
	}
	if (parse_sip_msg_uri(msg) < 0) {
		*reason = "Bad Request - Bad Request-URI";
		return NULL;
	}
	struct to_body *from = get_from(msg);
	struct to_body *to = get_to(msg);
	int body_len;
	fc_msg_body(msg, &body_len);
	if (body_len > FC_MAX_BODY) {
		*code = 413;
		*reason = "Request Entity Too Large";
		return NULL;
	}

	*code = 500;
	*reason = "Server Internal Error";
	json_t *o = json_object();
	if (!o)
		return NULL;
	str ruri = msg->new_uri.s ? msg->new_uri : msg->first_line.u.request.uri;
	int err = 0;
	err |= set_trimmed(o, "call_id", msg->callid->body);
	err |= set_str(o, "ruri", ruri.s, ruri.len);
	/* Users are compared after unescaping (RFC 3261 section 19.1.4):
	 * sip:%2B1415555010%30@ calls +14155550100. One that does not unescape
	 * to printable text is passed as written (it matches no number). */
	char user[FC_URI_USER_MAX];
	int ul = fc_uri_user_unescape(msg->parsed_uri.user.s, (size_t)msg->parsed_uri.user.len,
	                              user, sizeof user);
	if (ul >= 0)
		err |= set_str(o, "ruri_user", user, ul);
	else
		err |= set_str(o, "ruri_user", msg->parsed_uri.user.s, msg->parsed_uri.user.len);
	err |= set_str(o, "ruri_host", msg->parsed_uri.host.s, msg->parsed_uri.host.len);
	err |= set_trimmed(o, "from", msg->from->body);
	err |= set_str(o, "from_uri", from->uri.s, from->uri.len);
	str disp = from->display;
	if (disp.len >= 2 && disp.s[0] == '"' && disp.s[disp.len - 1] == '"') {
		disp.s++;
		disp.len -= 2;
	}
	err |= set_str(o, "from_display", disp.s, disp.len);
	err |= set_str(o, "from_tag", from->tag_value.s, from->tag_value.len);
	err |= set_trimmed(o, "to", msg->to->body);
	err |= set_str(o, "to_uri", to->uri.s, to->uri.len);
	if (err)
		goto fail;
	/* Unparsable From/To URIs are tolerated: their user/host stay empty. */
	if (add_uri_parts(o, "from", from->uri) < 0) {
		set_str(o, "from_user", "", 0);
		set_str(o, "from_host", "", 0);
	}
	if (add_uri_parts(o, "to", to->uri) < 0) {
		set_str(o, "to_user", "", 0);
		set_str(o, "to_host", "", 0);
	}

	char *ip = ip_addr2a(&msg->rcv.src_ip);
	err |= set_str(o, "src_ip", ip, (int)strlen(ip));
	err |= json_object_set_new(o, "src_port", json_integer(msg->rcv.src_port));
	char proto[16];
	const char *pn = get_proto_name(msg->rcv.proto);
	size_t i;
	for (i = 0; pn && pn[i] && i < sizeof proto - 1; i++)
		proto[i] = (char)tolower((unsigned char)pn[i]);
	proto[i] = 0;
	err |= set_str(o, "transport", proto, (int)i);

	json_t *hdrs = json_array();
	if (!hdrs || json_object_set_new(o, "headers", hdrs) < 0)
		goto fail;
	str uui = {0, 0}, xuui = {0, 0}, pai = {0, 0}, div = {0, 0}, ctype = {0, 0};
	int dropped = 0, cut = 0;
	for (struct hdr_field *h = msg->headers; h; h = h->next) {
		str v = h->body;
		trim(&v);
		if (is_x_header(&h->name)) {
			if (name_is(&h->name, "X-User-to-User") && !xuui.s)
				xuui = v;
			if (add_xhdr(hdrs, h, v, &dropped, &cut) < 0)
				goto fail;
		} else if (name_is(&h->name, "User-to-User") && !uui.s) {
			uui = v;
		} else if (h->type == HDR_PAI_T && !pai.s) {
			pai = v;
		} else if (h->type == HDR_DIVERSION_T && !div.s) {
			div = v;
		} else if (h->type == HDR_CONTENTTYPE_T) {
			ctype = v;
		}
	}
	if (uui.s)
		err |= set_str(o, "uui", uui.s, uui.len);
	else if (xuui.s)
		err |= set_str(o, "uui", xuui.s, xuui.len);
	if (pai.s)
		err |= set_str(o, "pai", pai.s, pai.len);
	if (div.s)
		err |= set_str(o, "diversion", div.s, div.len);
	if (ctype.s)
		err |= set_str(o, "content_type", ctype.s, ctype.len);
	if (sdp && sdp->s && sdp->len > 0)
		err |= set_str(o, "sdp", sdp->s, sdp->len);
	err |= note_limits(o, dropped, cut);
	if (err)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

int fc_sipmsg_extras(struct sip_msg *msg, json_t *o)
{
	if (parse_headers(msg, HDR_EOH_F, 0) < 0)
		return -1;
	json_t *hdrs = json_array();
	if (!hdrs || json_object_set_new(o, "headers", hdrs) < 0)
		return -1;
	str ctype = {0, 0};
	int dropped = 0, cut = 0;
	for (struct hdr_field *h = msg->headers; h; h = h->next) {
		str v = h->body;
		trim(&v);
		if (is_x_header(&h->name)) {
			if (add_xhdr(hdrs, h, v, &dropped, &cut) < 0)
				return -1;
		} else if (h->type == HDR_CONTENTTYPE_T) {
			ctype = v;
		}
	}
	int body_len;
	char *body = fc_msg_body(msg, &body_len);
	if (body_len > FC_MAX_BODY)
		body_len = 0;
	int err = note_limits(o, dropped, cut);
	if (ctype.s && body_len > 0) {
		err |= set_str(o, "content_type", ctype.s, ctype.len);
		int is_sdp = ctype.len >= 15 && strncasecmp(ctype.s, "application/sdp", 15) == 0;
		err |= set_str(o, is_sdp ? "sdp" : "body", body, body_len);
	}
	return err ? -1 : 0;
}
