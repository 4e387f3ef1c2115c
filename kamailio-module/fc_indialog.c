/* fc_indialog.c — in-dialog requests for the module's legs (fc_indialog.h).
 * BYE, OPTIONS and NOTIFY (of a REFER we sent) are answered here;
 * re-INVITE, UPDATE, INFO and REFER are parked (t_suspend) and published
 * as dialog.request, so that callctl can relay them to the bridged leg
 * through rtpengine or act on a transfer, and answer with `reply` + txn
 * (bus-protocol.md §8, §10). Anything else is refused with 501. */
#include "fc_indialog.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../../core/dprint.h"
#include "../../core/trim.h"
#include "../../core/mem/mem.h"
#include "../../core/parser/contact/parse_contact.h"
#include "../../core/parser/parse_event.h"
#include "../../core/parser/parse_from.h"
#include "../../core/parser/parse_subscription_state.h"
#include "../../core/parser/parse_to.h"
#include "fc_leg.h"
#include "fc_refer.h"
#include "fc_mod.h"
#include "fc_sipmsg.h"
#include "fc_uas.h"

static int reply(struct sip_msg *msg, int code, const char *reason)
{
	if (tmb.t_reply(msg, code, (char *)reason) < 0)
		LM_ERR("cannot send %d to an in-dialog %.*s\n", code,
		       msg->first_line.u.request.method.len, msg->first_line.u.request.method.s);
	return 0;
}

/* The first Contact URI of a target-refresh request, or an empty str. */
static str contact_uri(struct sip_msg *msg)
{
	str none = {0, 0};
	if (!msg->contact || parse_contact(msg->contact) < 0)
		return none;
	contact_body_t *cb = (contact_body_t *)msg->contact->parsed;
	if (!cb || !cb->contacts)
		return none;
	return cb->contacts->uri;
}

/* Parks msg (t_suspend) and publishes ev (stolen) as dialog.request with
 * the transaction's "hash:label"; target (may be empty) is the new remote
 * target of a target-refresh request. */
static int park(struct sip_msg *msg, const char *sid, json_t *ev, str target)
{
	/* A parked request must not outlive callctl's patience. */
	tmb.set_fr(msg, 30000, 30000);
	unsigned int h, lbl;
	if (tmb.t_suspend(msg, &h, &lbl) != 0) {
		json_decref(ev);
		return reply(msg, 500, "Server Internal Error");
	}
	char txn[32];
	snprintf(txn, sizeof txn, "%u:%u", h, lbl);
	json_object_set_new(ev, "txn", json_string(txn));
	fc_leg *l = fc_leg_lock(sid);
	if (l && !l->ended) {
		if (target.len > 0)
			fc_copy(l->dlg.rem_target, sizeof l->dlg.rem_target, target.s, target.len);
		fc_emit(l, "dialog.request", ev);
		ev = NULL;
	}
	fc_leg_unlock(sid);
	json_decref(ev);
	return 0;
}

/* The trimmed bodies of the headers of type t: the first in *first, the
 * count returned. */
static int header_values(struct sip_msg *msg, enum _hdr_types_t t, str *first)
{
	int n = 0;
	first->s = NULL;
	first->len = 0;
	for (struct hdr_field *h = msg->headers; h; h = h->next) {
		if (h->type != t)
			continue;
		if (n++ == 0) {
			*first = h->body;
			trim(first);
		}
	}
	return n;
}

/* The leg that a Replaces names, if the module holds it: the to-tag is our
 * local tag (RFC 3891 §3); some UAs swap the tags, so the from-tag is
 * tried too. */
static int replaced_leg(const fc_replaces *r, char sid[FC_SID_LEN + 1])
{
	str cid = {(char *)r->call_id, (int)strlen(r->call_id)};
	str tt = {(char *)r->to_tag, (int)strlen(r->to_tag)};
	str ft = {(char *)r->from_tag, (int)strlen(r->from_tag)};
	return fc_leg_find_dialog(&cid, &tt, sid) || fc_leg_find_dialog(&cid, &ft, sid);
}

static json_t *refer_json(const fc_refer_to *rt)
{
	json_t *hdrs = json_array();
	for (int i = 0; hdrs && i < rt->n_hdrs; i++)
		json_array_append_new(hdrs, json_pack("[s,o]", rt->hdrs[i].name,
		                                      fc_json_str(rt->hdrs[i].value,
		                                                  (int)strlen(rt->hdrs[i].value))));
	json_t *o = json_pack("{s:s,s:o}", "uri", rt->uri, "headers", hdrs ? hdrs : json_array());
	if (o && rt->display[0])
		json_object_set_new(o, "display",
		                    fc_json_str(rt->display, (int)strlen(rt->display)));
	if (o && rt->has_replaces) {
		const fc_replaces *r = &rt->replaces;
		json_t *rep =
		    json_pack("{s:s,s:s,s:s,s:b}", "call_id", r->call_id, "to_tag", r->to_tag,
		              "from_tag", r->from_tag, "early_only", r->early_only);
		char held[FC_SID_LEN + 1];
		if (rep && replaced_leg(r, held))
			json_object_set_new(rep, "call_sid", json_string(held));
		if (rep)
			json_object_set_new(o, "replaces", rep);
	}
	return o;
}

/* REFER (RFC 3515): parsed here, decided by callctl (bus-protocol.md §10). */
static int on_refer(struct sip_msg *msg, const char *sid)
{
	str rto, rby;
	int n = header_values(msg, HDR_REFER_TO_T, &rto);
	if (n == 0 || rto.len == 0)
		return reply(msg, 400, "Missing Refer-To");
	if (n > 1)
		return reply(msg, 400, "Multiple Refer-To");
	json_t *ev =
	    json_pack("{s:s,s:o}", "method", "REFER", "refer_to", fc_json_str(rto.s, rto.len));
	if (!ev || fc_sipmsg_extras(msg, ev) < 0) {
		json_decref(ev);
		return reply(msg, 500, "Server Internal Error");
	}
	if (header_values(msg, HDR_REFERREDBY_T, &rby) > 0 && rby.len > 0 && rby.len <= 1024)
		json_object_set_new(ev, "referred_by", fc_json_str(rby.s, rby.len));

	fc_refer_to *rt = pkg_malloc(sizeof *rt);
	char err[96] = "";
	int rc = FC_REFER_ESYNTAX;
	if (!rt) {
		json_decref(ev);
		return reply(msg, 500, "Server Internal Error");
	}
	if (rto.len > FC_REFER_TO_MAX)
		snprintf(err, sizeof err, "Refer-To longer than %d characters", FC_REFER_TO_MAX);
	else
		rc = fc_refer_to_parse(rto.s, (size_t)rto.len, rt, err, sizeof err);
	if (rc == FC_REFER_OK) {
		json_t *r = refer_json(rt);
		if (r)
			json_object_set_new(ev, "refer", r);
	} else {
		json_object_set_new(ev, "refer_error", json_string(err[0] ? err : "bad Refer-To"));
		json_object_set_new(ev, "refer_code",
		                    json_integer(rc == FC_REFER_ESCHEME ? 416 : 400));
	}
	pkg_free(rt);
	return park(msg, sid, ev, contact_uri(msg));
}

/* The subscription state a NOTIFY reports (RFC 6665 §8.2.3); a missing
 * or unreadable header counts as active. */
static const char *sub_state(struct sip_msg *msg)
{
	for (struct hdr_field *h = msg->headers; h; h = h->next) {
		if (h->type != HDR_SUBSCRIPTION_STATE_T)
			continue;
		if (parse_subscription_state(h) < 0)
			return "active";
		switch (((subscription_state_t *)h->parsed)->value) {
		case ss_terminated:
			return "terminated";
		case ss_pending:
			return "pending";
		default:
			return "active";
		}
	}
	return "active";
}

/* NOTIFY of the implicit subscription of a REFER we sent (RFC 3515 §2.4.4):
 * answered here at once, reported as dialog.notify. */
static int on_notify(struct sip_msg *msg, const char *sid)
{
	event_t *event = msg->event && parse_event(msg->event) == 0 ? msg->event->parsed : NULL;
	if (!event || event->name.len != 5 || strncasecmp(event->name.s, "refer", 5) != 0)
		return reply(msg, 489, "Bad Event");
	fc_leg *l = fc_leg_lock(sid);
	int subscribed = l && l->refer_sub;
	fc_leg_unlock(sid);
	if (!subscribed)
		return reply(msg, 481, "Subscription Does Not Exist");
	const char *st = sub_state(msg);
	/* The sipfrag's status line: "SIP/2.0 200 OK". */
	int blen;
	char *body = fc_msg_body(msg, &blen);
	int code = 0, llen = 0;
	while (llen < blen && llen < 200 && body[llen] != '\r' && body[llen] != '\n')
		llen++;
	if (llen >= 11 && !strncasecmp(body, "SIP/2.0 ", 8) && body[8] >= '1' && body[8] <= '6' &&
	    body[9] >= '0' && body[9] <= '9' && body[10] >= '0' && body[10] <= '9' &&
	    (llen == 11 || body[11] == ' '))
		code = (body[8] - '0') * 100 + (body[9] - '0') * 10 + (body[10] - '0');
	json_t *ev = json_pack("{s:s,s:s,s:i,s:o}", "event", "refer", "state", st, "sipfrag_code",
	                       code, "sipfrag", fc_json_str(body ? body : "", llen));
	reply(msg, 200, "OK");
	l = fc_leg_lock(sid);
	if (l && !l->ended && ev) {
		fc_emit(l, "dialog.notify", ev);
		ev = NULL;
	}
	fc_leg_unlock(sid);
	json_decref(ev);
	return 0;
}

int fc_dialog_request(struct sip_msg *msg)
{
	if (msg->first_line.type != SIP_REQUEST)
		return -1;
	if (parse_headers(msg, HDR_EOH_F, 0) < 0 || !msg->callid || !msg->to ||
	    parse_to_header(msg) < 0) {
		return -1; /* the script answers 400 */
	}
	int r = tmb.t_newtran(msg);
	if (r == 0)
		return 0; /* retransmission */
	if (r < 0)
		return -1;
	str cid = msg->callid->body;
	trim(&cid);
	str ltag = get_to(msg)->tag_value;
	char sid[FC_SID_LEN + 1];
	if (!fc_leg_find_dialog(&cid, &ltag, sid))
		return reply(msg, 481, "Call/Transaction Does Not Exist");

	int method = msg->first_line.u.request.method_value;
	fc_leg *l = fc_leg_lock(sid);
	int live = l && !l->ended && l->state == FC_CONFIRMED;
	fc_leg_unlock(sid);
	if (!live)
		return reply(msg, 481, "Call/Transaction Does Not Exist");

	if (method == METHOD_OPTIONS) {
		return reply(msg, 200, "OK");
	}
	if (method == METHOD_BYE) {
		json_t *ev = json_pack("{s:s,s:i}", "reason", "bye", "code", 200);
		if (ev)
			fc_sipmsg_extras(msg, ev);
		reply(msg, 200, "OK");
		fc_end_leg(sid, ev);
		return 0;
	}
	if (method == METHOD_NOTIFY)
		return on_notify(msg, sid);
	if (method == METHOD_REFER)
		return on_refer(msg, sid);
	if (method != METHOD_INVITE && method != METHOD_UPDATE && method != METHOD_INFO)
		return reply(msg, 501, "Not Implemented");

	const char *mname = method == METHOD_INVITE   ? "INVITE"
	                    : method == METHOD_UPDATE ? "UPDATE"
	                                              : "INFO";
	json_t *ev = json_pack("{s:s}", "method", mname);
	if (!ev || fc_sipmsg_extras(msg, ev) < 0) {
		json_decref(ev);
		return reply(msg, 500, "Server Internal Error");
	}
	str target = method == METHOD_INFO ? (str){0, 0} : contact_uri(msg);
	return park(msg, sid, ev, target);
}
