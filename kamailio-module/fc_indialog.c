/* fc_indialog.c — in-dialog requests for the module's legs (fc_indialog.h).
 * BYE and OPTIONS are answered here; re-INVITE, UPDATE and INFO are parked
 * (t_suspend) and published as dialog.request, so that callctl can relay
 * them to the bridged leg through rtpengine and answer with `reply` + txn.
 * Anything else is refused with 501 until the module implements it. */
#include "fc_indialog.h"

#include <stdio.h>
#include <string.h>

#include "../../core/dprint.h"
#include "../../core/trim.h"
#include "../../core/parser/contact/parse_contact.h"
#include "../../core/parser/parse_from.h"
#include "../../core/parser/parse_to.h"
#include "fc_leg.h"
#include "fc_mod.h"
#include "fc_sipmsg.h"

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
	/* A parked re-INVITE must not outlive callctl's patience. */
	tmb.set_fr(msg, 30000, 30000);
	unsigned int h, lbl;
	if (tmb.t_suspend(msg, &h, &lbl) != 0) {
		json_decref(ev);
		return reply(msg, 500, "Server Internal Error");
	}
	char txn[32];
	snprintf(txn, sizeof txn, "%u:%u", h, lbl);
	json_object_set_new(ev, "txn", json_string(txn));
	l = fc_leg_lock(sid);
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
