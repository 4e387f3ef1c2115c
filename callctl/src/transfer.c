/* transfer.c — blind transfer by an inbound REFER with Fulcrum as the pivot
 * (twilio-voice.md §3, bus-protocol.md §10, README "Transfers"). A REFER on
 * a leg of a <Dial> bridge is accepted at once (202, NOTIFY 100 Trying),
 * the Dial's referUrl is fetched with ReferTransferTarget and friends, and
 * the TwiML returned runs on the transferee (the side that did not send the
 * REFER; when that is the dialled leg it becomes the call's principal leg,
 * principal.c). answerOnBridge of the original Dial decides the transferor's
 * fate: with true the old bridge stays while the new Dial rings and comes
 * back when it fails; with false the transferor gets its final NOTIFY and
 * BYE as soon as the TwiML is in hand. Runs on the engine's loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "log.h"
#include "twiml.h"
#include "url.h"

enum { XF_FETCH = 0, XF_RINGING, XF_DONE };

typedef struct xfer {
	char transferor[40];
	int aob;   /* answerOnBridge of the Dial whose bridge is transferred */
	int swap;  /* the REFER came from the principal: the dialled leg is the transferee
	              and becomes the principal (principal.c) */
	int state; /* XF_* */
	int transferor_gone;
	json_t *hdrs; /* the Refer-To's embedded headers */
	/* XF_RINGING: the document the old bridge belongs to, for a restore */
	twiml_doc *doc;
	size_t pc;
	char *doc_url;
	char mtag[64];
} xfer;

void transfer_free(call *c)
{
	xfer *x = c->xfer;
	if (!x)
		return;
	json_decref(x->hdrs);
	twiml_free(x->doc);
	free(x->doc_url);
	free(x);
	c->xfer = NULL;
}

static void reply_refer(call *c, const char *leg, const char *txn, int code, const char *reason)
{
	eng_cmd(c, c->proxy, leg,
	        json_pack("{s:s,s:i,s:s,s:s}", "op", "reply", "code", code, "reason", reason, "txn",
	                  txn));
}

/* A NOTIFY of the REFER's implicit subscription (RFC 3515 §2.4.4) whose
 * message/sipfrag body is the status line of the transfer. */
static void notify(call *c, const char *leg, int code, const char *reason, int final)
{
	char body[96];
	snprintf(body, sizeof body, "SIP/2.0 %d %s\r\n", code, reason);
	json_t *hdrs = json_pack("[[s,s],[s,s]]", "Event", "refer", "Subscription-State",
	                         final ? "terminated;reason=noresource" : "active;expires=60");
	eng_cmd(c, c->proxy, leg,
	        json_pack("{s:s,s:s,s:s,s:o,s:s,s:s}", "op", "request", "method", "NOTIFY",
	                  "req_id", "fc-notify", "headers", hdrs, "content_type",
	                  "message/sipfrag;version=2.0", "body", body));
}

static const char *reason_of(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 408:
		return "Request Timeout";
	case 480:
		return "Temporarily Unavailable";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 503:
		return "Service Unavailable";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	default:
		return code < 300 ? "OK" : code < 500 ? "Request Failure" : "Server Error";
	}
}

/* The transferor's last word: final NOTIFY, then (drop) BYE. */
static void end_subscription(call *c, xfer *x, int code, int drop)
{
	if (x->transferor_gone)
		return;
	notify(c, x->transferor, code, reason_of(code), 1);
	if (!drop)
		return;
	eng_cmd(c, c->proxy, x->transferor, json_pack("{s:s}", "op", "hangup"));
	if (principal_is_former(c, x->transferor))
		c->was->hung_up = 1;
}

/* ---- the referUrl request ------------------------------------------------- */

/* Standard parameters of the transferee plus what the REFER said. */
static void refer_params(call *c, json_t *ev, const char *transferor, form *p)
{
	form_init(p);
	form_append(p, &c->params);
	json_t *refer = json_object_get(ev, "refer");
	const char *v;
	form_set(p, "ReferTransferTarget", json_string_value(json_object_get(ev, "refer_to")));
	if ((v = json_string_value(json_object_get(ev, "referred_by"))))
		form_set(p, "ReferredBy", v);
	form_set(p, "TransferorCallSid", transferor);
	eng_add_header_params(p, "ReferSipHeader_", json_object_get(ev, "headers"));
	eng_add_header_params(p, "ReferToHeader_", json_object_get(refer, "headers"));
	json_t *rep = json_object_get(refer, "replaces");
	if (rep) {
		form_set(p, "ReferReplacesCallId",
		         json_string_value(json_object_get(rep, "call_id")));
		form_set(p, "ReferReplacesToTag",
		         json_string_value(json_object_get(rep, "to_tag")));
		form_set(p, "ReferReplacesFromTag",
		         json_string_value(json_object_get(rep, "from_tag")));
		form_set(p, "ReferReplacesEarlyOnly",
		         json_is_true(json_object_get(rep, "early_only")) ? "true" : "false");
		if ((v = json_string_value(json_object_get(rep, "call_sid"))))
			form_set(p, "ReferReplacesCallSid", v);
	}
}

/* The transfer cannot go on: the fetch or the TwiML failed. */
static void fetch_failed(call *c, int code, const char *detail, const char *url)
{
	xfer *x = c->xfer;
	eng_record_error(c, code, detail, url);
	if (x->aob && !x->transferor_gone) {
		/* answerOnBridge: the original call simply goes on. */
		end_subscription(c, x, 503, 0);
		if (x->swap)
			principal_swap_back(c);
		transfer_free(c);
		return;
	}
	/* Without answerOnBridge Twilio drops the transferor and cannot undo
	 * that: the transferee's call ends too. */
	end_subscription(c, x, 503, 1);
	transfer_free(c);
	eng_fail(c, code, detail);
}

static int first_is_dial(const twiml_doc *doc)
{
	return doc->n_verbs > 0 && doc->verbs[0].kind == TWIML_DIAL;
}

static void fetch_cb(const webhook_result *r, void *ud)
{
	call *c = ud;
	c->wh = NULL;
	xfer *x = c->xfer;
	if (c->dead || c->ending || !x) {
		call_unref(c);
		return;
	}
	const char *url = r->request_url ? r->request_url : "";
	char detail[300], why[320];
	int code;
	twiml_doc *doc = eng_result_doc(c, r, &code, detail, sizeof detail);
	if (!doc) {
		snprintf(why, sizeof why, "referUrl: %s", detail);
		fetch_failed(c, code, why, url);
	} else if (x->aob && !x->transferor_gone && first_is_dial(doc)) {
		/* The old bridge stays while the new Dial rings: keep its
		 * document for a restore, and offer the caller to the new
		 * legs under a new rtpengine tag, so that its monologue keeps
		 * talking to the transferor meanwhile. */
		LOGI("call %s: transfer from %s: dialing, old bridge kept", c->sid, x->transferor);
		x->state = XF_RINGING;
		x->doc = c->doc;
		x->pc = c->pc;
		x->doc_url = c->doc_url;
		snprintf(x->mtag, sizeof x->mtag, "%s", c->mtag);
		c->doc = NULL;
		c->doc_url = NULL;
		dial_park(c);
		snprintf(c->mtag, sizeof c->mtag, "T%d%s", ++c->mtag_n % 1000, c->leg);
		json_decref(c->xfer_hdrs);
		c->xfer_hdrs = json_incref(x->hdrs);
		eng_run_doc(c, doc, r->effective_url ? r->effective_url : url);
	} else {
		LOGI("call %s: transfer from %s: transferor dropped", c->sid, x->transferor);
		end_subscription(c, x, 200, 1);
		dial_park(c);
		c->bridged[0] = 0;
		c->btag[0] = 0;
		uv_timer_stop(&c->limit_timer);
		json_decref(c->xfer_hdrs);
		c->xfer_hdrs = json_incref(x->hdrs);
		transfer_free(c);
		eng_run_doc(c, doc, r->effective_url ? r->effective_url : url);
	}
	call_unref(c);
}

/* ---- the REFER ------------------------------------------------------------ */

void transfer_on_refer(call *c, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	const char *txn = json_string_value(json_object_get(ev, "txn"));
	const char *refer_to = json_string_value(json_object_get(ev, "refer_to"));
	const char *rerr = json_string_value(json_object_get(ev, "refer_error"));
	if (!sid || !txn || !refer_to)
		return;
	if (rerr) {
		int code = (int)json_integer_value(json_object_get(ev, "refer_code"));
		char detail[200];
		snprintf(detail, sizeof detail, "REFER refused: %s", rerr);
		eng_record_error(c, 32218, detail, NULL);
		reply_refer(c, sid, txn, code >= 400 && code < 500 ? code : 400, rerr);
		return;
	}
	const char *url, *method;
	int aob;
	/* Only the two sides of a <Dial> bridge may transfer. */
	int on_bridge = c->bridged[0] && !c->ending && c->dial &&
	                dial_refer_info(c, &url, &method, &aob) &&
	                (!strcmp(sid, c->bridged) || !strcmp(sid, c->leg));
	if (!on_bridge) {
		reply_refer(c, sid, txn, 403, "Transfer needs a call bridged by Dial");
		return;
	}
	/* From the calling side the dialled leg must be able to take the call
	 * over, and a former principal must be gone first. */
	int swap = !strcmp(sid, c->leg);
	if (c->xfer || c->refer || c->wh || (swap && c->was)) {
		reply_refer(c, sid, txn, 491, "Request Pending");
		return;
	}
	if (!url) {
		eng_record_error(c, 13802, "Dial: No referUrl attribute specified", c->doc_url);
		reply_refer(c, sid, txn, 603, "Decline");
		return;
	}
	char *abs = url_resolve(c->doc_url, url);
	if (!abs) {
		eng_record_error(c, 11100, "invalid referUrl", url);
		reply_refer(c, sid, txn, 603, "Decline");
		return;
	}
	xfer *x = calloc(1, sizeof *x);
	if (!x) {
		free(abs);
		reply_refer(c, sid, txn, 500, "Server Internal Error");
		return;
	}
	c->xfer = x;
	snprintf(x->transferor, sizeof x->transferor, "%s", sid);
	x->aob = aob;
	x->swap = swap;
	x->hdrs = json_incref(json_object_get(json_object_get(ev, "refer"), "headers"));
	if (swap && principal_swap_in(c) < 0) {
		transfer_free(c);
		free(abs);
		reply_refer(c, sid, txn, 500, "Server Internal Error");
		return;
	}
	reply_refer(c, sid, txn, 202, "Accepted");
	notify(c, sid, 100, "Trying", 0);
	LOGI("call %s: REFER from %s to %s; fetching %s", c->sid, sid, refer_to, abs);

	form p;
	refer_params(c, ev, sid, &p);
	webhook_req req = {.url = abs,
	                   .method = method,
	                   .params = &p,
	                   .auth_token = eng_cfg->auth_token,
	                   .max_body = TWIML_MAX_DOC};
	call_ref(c);
	c->wh = webhook_fetch(eng_wh, &req, fetch_cb, c);
	form_free(&p);
	if (!c->wh) {
		call_unref(c);
		fetch_failed(c, 11200, "cannot start the referUrl request", abs);
	}
	free(abs);
}

/* ---- the tentative Dial (answerOnBridge) ---------------------------------- */

const char *transfer_old_tag(call *c)
{
	return c->xfer && c->xfer->state == XF_RINGING ? c->xfer->mtag : NULL;
}

int transfer_tentative(call *c)
{
	return c->xfer && c->xfer->state == XF_RINGING;
}

void transfer_target_answered(call *c)
{
	xfer *x = c->xfer;
	if (!x)
		return;
	LOGI("call %s: transfer target answered; dropping %s", c->sid, x->transferor);
	end_subscription(c, x, 200, 1);
	if (c->pdial)
		uv_timer_stop(&c->limit_timer); /* the new bridge starts its own */
	transfer_free(c);
}

int transfer_dial_failed(call *c, int code)
{
	xfer *x = c->xfer;
	if (!x || x->state != XF_RINGING || x->transferor_gone || !c->pdial)
		return 0;
	LOGI("call %s: transfer target failed (%d); back to %s", c->sid, code, x->transferor);
	end_subscription(c, x, code, 0);
	dial_unpark(c);
	snprintf(c->mtag, sizeof c->mtag, "%s", x->mtag);
	if (x->swap)
		principal_swap_back(c);
	twiml_free(c->doc);
	free(c->doc_url);
	c->doc = x->doc;
	c->pc = x->pc;
	c->doc_url = x->doc_url;
	x->doc = NULL;
	x->doc_url = NULL;
	transfer_free(c);
	return 1;
}

void transfer_leg_gone(call *c, const char *sid)
{
	xfer *x = c->xfer;
	if (x && !strcmp(sid, x->transferor))
		x->transferor_gone = 1;
}

void transfer_caller_gone(call *c)
{
	xfer *x = c->xfer;
	if (x && x->state != XF_DONE)
		end_subscription(c, x, 487, 0); /* its BYE follows with the Dial's legs */
}
