/* fc_ack2xx.c — ACKs of 2xx responses to our INVITEs (fc_ack2xx.h). tm
 * would send them itself, but its builder (build_dlg_ack) reuses the
 * INVITE's Via branch and leaves out Max-Forwards, which strict user agents
 * (baresip among them) rightly hold against us: the ACK of a 2xx is a new
 * transaction (RFC 3261 section 17.1.1.3). So our INVITEs carry
 * TMCB_DONT_ACK, and the tm callback that sees each 2xx (a SIP worker, which
 * never sends) hands the dialog that 2xx establishes to the bus process,
 * which sends the ACK through tm as a new stateless request. A 2xx from a
 * second dialog of a forked INVITE is ACKed and then hung up (section
 * 13.2.2.4). */
#include "fc_ack2xx.h"

#include <string.h>

#include "../../core/dprint.h"
#include "../../core/ut.h"
#include "../../core/parser/parse_cseq.h"
#include "../../modules/tm/h_table.h"
#include "fc_dlg.h"
#include "fc_leg.h"
#include "fc_mod.h"
#include "fc_queue.h"

/* The string members of a dialog, by name (the command carries them). */
#define DIALOG_FIELDS(X)                                                                           \
	X(call_id) X(loc_tag) X(rem_tag) X(loc_uri) X(rem_uri) X(rem_target) X(dst_uri) X(routes)

static json_t *dialog_json(const fc_dialog *d)
{
	json_t *o = json_object();
#define PUT(f)                                                                                     \
	if (o && json_object_set_new(o, #f, json_string(d->f)) < 0) {                              \
		json_decref(o);                                                                    \
		o = NULL;                                                                          \
	}
	DIALOG_FIELDS(PUT)
#undef PUT
	return o;
}

static int dialog_of(json_t *o, fc_dialog *d)
{
	memset(d, 0, sizeof *d);
	const char *v;
#define GET(f)                                                                                     \
	if (!(v = json_string_value(json_object_get(o, #f))) ||                                    \
	    fc_copy(d->f, sizeof d->f, v, (int)strlen(v)) < 0)                                     \
		return -1;
	DIALOG_FIELDS(GET)
#undef GET
	return 0;
}

void fc_ack2xx_reply(const char *sid, int initial, struct sip_msg *rpl)
{
	unsigned int cseq;
	if (!rpl || rpl == FAKED_REPLY || parse_headers(rpl, HDR_CSEQ_F, 0) < 0 || !rpl->cseq ||
	    str2int(&get_cseq(rpl)->number, &cseq) < 0) {
		LM_ERR("leg %s: a 2xx without a usable CSeq cannot be ACKed\n", sid);
		return;
	}
	/* tm shows the INVITE's callbacks the answer to our CANCEL of it too. */
	if (get_cseq(rpl)->method_id != METHOD_INVITE)
		return;
	static fc_dialog snap, got; /* large; one callback at a time per process */
	fc_leg *l = fc_leg_lock(sid);
	int confirmed = l && l->state == FC_CONFIRMED;
	if (l)
		memcpy(&snap, &l->dlg, sizeof snap);
	fc_leg_unlock(sid);
	if (!l) {
		LM_WARN("leg %s gone: its 2xx is not ACKed\n", sid);
		return;
	}
	const fc_dialog *d = &snap;
	int bye = 0;
	if (initial) {
		/* The first 2xx, a retransmission of it, or a second dialog. */
		dlg_t *t = fc_dlg_of_2xx(&snap, rpl);
		memset(&got, 0, sizeof got);
		int ok = t && fc_dlg_store(&got, t) == 0;
		if (t)
			tmb.free_dlg(t);
		if (!ok) {
			LM_ERR("leg %s: cannot take the dialog of the 2xx to ACK it\n", sid);
			return;
		}
		bye = confirmed && strcmp(got.rem_tag, snap.rem_tag) != 0;
		d = &got;
	}
	json_t *dj = dialog_json(d);
	json_t *cmd =
	    dj ? json_pack("{s:i,s:s,s:s,s:s,s:I,s:b,s:o}", "v", 1, "op", "ack", "call_sid", sid,
	                   "id", "", "cseq", (json_int_t)cseq, "bye", bye, "dialog", dj)
	       : NULL;
	if (!cmd || fc_queue_push_local(cmd) < 0)
		LM_ERR("leg %s: cannot queue the ACK of its 2xx\n", sid);
}

void fc_ack2xx_exec(json_t *cmd, const char *sid)
{
	static fc_dialog d;
	json_int_t cseq = json_integer_value(json_object_get(cmd, "cseq"));
	if (dialog_of(json_object_get(cmd, "dialog"), &d) < 0 || cseq <= 0 || cseq > 0x7fffffff) {
		LM_ERR("leg %s: bad ack command\n", sid);
		return;
	}
	fc_leg *l = fc_leg_lock(sid);
	if (l)
		d.send_sock = l->dlg.send_sock;
	fc_leg_unlock(sid);
	char err[128];
	if (fc_dlg_send_bare(&d, "ACK", (unsigned int)cseq, err, sizeof err) < 0) {
		LM_ERR("leg %s: ACK not sent: %s (target '%s', routes '%s', via '%s')\n", sid, err,
		       d.rem_target, d.routes, d.dst_uri);
		return;
	}
	if (json_is_true(json_object_get(cmd, "bye")) &&
	    fc_dlg_send_bare(&d, "BYE", (unsigned int)cseq + 1, err, sizeof err) < 0)
		LM_ERR("leg %s: BYE of the extra dialog not sent: %s\n", sid, err);
}
