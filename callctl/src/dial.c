/* dial.c — <Dial> to Sip/Number targets (twilio-voice.md §2.1–2.4, §4):
 * simultaneous or sequential legs, each a B2BUA leg on the caller's proxy
 * with its own CallSid and record, media through rtpengine (media.h), the
 * Dial timeout and timeLimit, per-noun status callbacks, and the action
 * request with DialCallStatus and friends. Runs on the engine's loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialtarget.h"
#include "engine_int.h"
#include "log.h"
#include "media.h"
#include "rbus.h"
#include "ringtone.h"
#include "sid.h"
#include "timefmt.h"
#include "twiml.h"
#include "url.h"

enum { L_IDLE = 0, L_STARTED, L_RINGING, L_ANSWERED, L_ENDED };

typedef struct dleg {
	char sid[40];
	dial_target t;
	int valid;
	int state;
	int code; /* final SIP code */
	char sip_call_id[300];
	json_t *final_hdrs, *ok_hdrs;
	int64_t start_ms, answer_ms, end_ms;
	char *sc_url, *sc_method;
	unsigned sc_events;
	int sc_seq;
	char to[600], from[600];
	int timed_out; /* we CANCELed it: Dial timeout */
	int dropped;   /* we CANCELed it: another leg won or the dial ended */
	char status[16];
	char *sdp, *our_sdp; /* its answer, and the offer it got from us */
	int promoted;        /* the call's principal now (principal.c): not ours to report */
} dleg;

typedef struct dial {
	dleg legs[TWIML_MAX_DIAL_TARGETS];
	int n;
	int next; /* sequential: next leg to try */
	int winner;
	int sequential, answer_on_bridge, timeout_s, time_limit_s;
	char *action, *method;
	char from_hdr[700]; /* From of every leg */
	char from_param[300];
	char ring_file[600];
	int ringback;
	int early_leg;
	int finished;
	char *refer_url, *refer_method;
	int parked;    /* left by a transfer (c->pdial) */
	int tentative; /* a transfer's Dial, rung while the old bridge stays */
} dial;

static void finish_dial(call *c, const char *status);

/* ---- records and status callbacks ------------------------------------- */

static const char *leg_status(const dleg *l)
{
	if (l->answer_ms)
		return "completed";
	if (l->timed_out)
		return "no-answer";
	if (l->dropped)
		return "canceled";
	return eng_refused_status(l->code);
}

static void leg_params(call *c, dleg *l, form *p, const char *status)
{
	form_init(p);
	form_add(p, "CallSid", l->sid);
	form_add(p, "AccountSid", eng_cfg->account_sid);
	form_add(p, "From", l->from);
	form_add(p, "To", l->to);
	form_add(p, "Caller", l->from);
	form_add(p, "Called", l->to);
	form_add(p, "CallStatus", status);
	form_add(p, "Direction", "outbound-dial");
	form_add(p, "ApiVersion", "2010-04-01");
	form_add(p, "ParentCallSid", c->leg);
	if (l->sip_call_id[0])
		form_add(p, "SipCallId", l->sip_call_id);
}

/* One status-callback event of a leg (§4), each at most once. */
static void leg_event(call *c, dleg *l, unsigned ev, const char *status)
{
	if (!l->sc_url || !(l->sc_events & ev))
		return;
	l->sc_events &= ~ev; /* every event once */
	form p;
	leg_params(c, l, &p, status);
	if (ev == TWIML_EV_COMPLETED)
		eng_callback_fields(&p, status, l->sc_seq++, l->code ? l->code : 500,
		                    l->answer_ms ? (l->end_ms - l->answer_ms + 500) / 1000 : 0);
	else
		eng_callback_fields(&p, status, l->sc_seq++, ev == TWIML_EV_ANSWERED ? 200 : 0, -1);
	eng_status_callback(l->sc_url, l->sc_method, &p);
	form_free(&p);
}

static void record_start(call *c, dleg *l)
{
	eng_record_leg(l->sid, c->leg, "outbound-dial", "initiated", l->to, l->from, NULL, c->proxy,
	               l->start_ms);
}

static void record_end(dleg *l)
{
	char now[32], dur[24], ret[16], key[64];
	snprintf(now, sizeof now, "%lld", (long long)l->end_ms);
	snprintf(dur, sizeof dur, "%lld",
	         (long long)(l->answer_ms ? (l->end_ms - l->answer_ms + 500) / 1000 : 0));
	const char *pairs[] = {"status",      l->status,     "date_updated", now,
	                       "end_time",    now,           "duration",     dur,
	                       "sip_call_id", l->sip_call_id};
	eng_store(l->sid, (int)(sizeof pairs / sizeof pairs[0] / 2), pairs);
	snprintf(ret, sizeof ret, "%d", eng_cfg->call_retention_s);
	snprintf(key, sizeof key, "fc:call:%s", l->sid);
	rbus_cmd(NULL, NULL, "EXPIRE %s %s", key, ret);
}

/* ---- legs ----------------------------------------------------------------- */

static dleg *find_leg(dial *d, const char *sid)
{
	for (int i = 0; i < d->n; i++)
		if (d->legs[i].state != L_IDLE && !d->legs[i].promoted &&
		    strcmp(d->legs[i].sid, sid) == 0)
			return &d->legs[i];
	return NULL;
}

/* CANCEL, BYE, whatever ends the leg in its state (the module decides). */
static void hangup_leg(call *c, const char *sid)
{
	eng_cmd(c, c->proxy, sid, json_pack("{s:s}", "op", "hangup"));
}

typedef struct offer_ctx {
	call *c;
	int idx;
} offer_ctx;

static void offer_cb(const char *sdp, const char *err, void *ud)
{
	offer_ctx *o = ud;
	call *c = o->c;
	dial *d = c->dial;
	if (!c->dead && d && !d->finished) {
		dleg *l = &d->legs[o->idx];
		if (!sdp) {
			LOGW("call %s: rtpengine offer for leg %s: %s", c->sid, l->sid, err);
			/* Reported like a leg the far end refused. */
			json_t *ev = json_pack("{s:s,s:s,s:i}", "call_sid", l->sid, "reason",
			                       "failed", "code", 500);
			dial_on_leg_event(c, "call.ended", ev);
			json_decref(ev);
		} else if (l->state == L_STARTED) {
			/* Until it is chosen, nothing this leg sends reaches the
			 * caller (early media of several legs, or over ringback). */
			media_block(c->sid, l->sid);
			json_t *hdrs = json_array();
			for (int i = 0; i < l->t.n_hdrs; i++)
				json_array_append_new(
				    hdrs, json_pack("[ss]", l->t.hdr_names[i], l->t.hdr_values[i]));
			json_t *cmd = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "op", "dial", "ruri",
			                        l->t.ruri, "from", d->from_hdr, "to", l->t.to,
			                        "sdp", sdp, "headers", hdrs);
			free(l->our_sdp);
			l->our_sdp = strdup(sdp);
			if (cmd && l->t.dst[0])
				json_object_set_new(cmd, "dst", json_string(l->t.dst));
			if (cmd && l->t.auth_user[0]) {
				json_object_set_new(cmd, "auth_user", json_string(l->t.auth_user));
				json_object_set_new(cmd, "auth_pass", json_string(l->t.auth_pass));
			}
			eng_cmd(c, c->proxy, l->sid, cmd);
		}
	}
	call_unref(c);
	free(o);
}

static void start_leg(call *c, int i)
{
	dial *d = c->dial;
	dleg *l = &d->legs[i];
	sid_new(l->sid, "CA");
	l->state = L_STARTED;
	l->start_ms = now_ms();
	record_start(c, l);
	eng_live_leg(c->sid, l->sid, c->proxy);
	leg_event(c, l, TWIML_EV_INITIATED, "initiated");
	offer_ctx *o = malloc(sizeof *o);
	if (!o)
		return;
	o->c = c;
	o->idx = i;
	call_ref(c);
	if (media_offer(c->sid, c->mtag, l->sid, c->a_sdp, offer_cb, o) < 0)
		offer_cb(NULL, "cannot send the offer", o);
}

static void on_timeout(uv_timer_t *t);

/* Starts the next valid target of a sequential dial; 0 when none is left. */
static int start_next(call *c)
{
	dial *d = c->dial;
	while (d->next < d->n && !d->legs[d->next].valid)
		d->next++;
	if (d->next >= d->n)
		return 0;
	start_leg(c, d->next++);
	uv_timer_start(&c->dial_timer, on_timeout, (uint64_t)d->timeout_s * 1000, 0);
	return 1;
}

static void start_legs(call *c)
{
	dial *d = c->dial;
	if (d->sequential) {
		if (!start_next(c))
			finish_dial(c, "failed");
		return;
	}
	for (int i = 0; i < d->n; i++)
		if (d->legs[i].valid)
			start_leg(c, i);
	uv_timer_start(&c->dial_timer, on_timeout, (uint64_t)d->timeout_s * 1000, 0);
}

static void on_timeout(uv_timer_t *t)
{
	call *c = t->data;
	dial *d = c->dial;
	if (c->dead || !d || d->finished || d->winner >= 0)
		return;
	for (int i = 0; i < d->n; i++) {
		dleg *l = &d->legs[i];
		if (l->state == L_STARTED || l->state == L_RINGING) {
			l->timed_out = 1;
			hangup_leg(c, l->sid);
		}
	}
}

static void on_time_limit(uv_timer_t *t)
{
	call *c = t->data;
	dial *d = c->dial;
	if (c->dead || !d || d->winner < 0)
		return;
	LOGI("call %s: Dial timeLimit reached", c->sid);
	hangup_leg(c, d->legs[d->winner].sid);
}

static void after_answer(call *c, int ok)
{
	dial *d = c->dial;
	if (c->dead || !d || d->finished)
		return;
	if (!ok) {
		eng_end_call(c, 500, "Server Internal Error", "failed");
		return;
	}
	if (d->ring_file[0]) {
		media_play(c->sid, c->mtag, d->ring_file);
		d->ringback = 1;
	}
	start_legs(c);
}

/* The caller is connected to the winner: rtpengine's answer gives the SDP
 * for the caller (its ports stay those of the answer it already has). */
static void bridge_cb(const char *sdp, const char *err, void *ud)
{
	call *c = ud;
	dial *d = c->dial;
	if (!c->dead && d && d->winner >= 0 && !d->finished) {
		dleg *l = &d->legs[d->winner];
		if (!sdp) {
			LOGW("call %s: rtpengine answer for %s: %s", c->sid, l->sid, err);
			hangup_leg(c, l->sid);
		} else {
			if (!c->answered) {
				eng_reply(c, 200, "OK", sdp);
				eng_answered(c);
				free(c->our_sdp);
				c->our_sdp = strdup(sdp);
			} else {
				/* rtpengine may have moved the caller's side when it
				 * re-paired it with this leg. */
				eng_offer_if_moved(c, c->leg, &c->our_sdp, sdp);
			}
			if (d->ringback) {
				media_stop(c->sid, c->mtag);
				d->ringback = 0;
			}
			snprintf(c->bridged, sizeof c->bridged, "%s", l->sid);
			snprintf(c->bridged_proxy, sizeof c->bridged_proxy, "%s", c->proxy);
			c->btag[0] = 0;
			free(c->b_sdp);
			free(c->b_our_sdp);
			c->b_sdp = l->sdp ? strdup(l->sdp) : NULL;
			c->b_our_sdp = l->our_sdp ? strdup(l->our_sdp) : NULL;
			uv_timer_start(&c->limit_timer, on_time_limit,
			               (uint64_t)d->time_limit_s * 1000, 0);
			resume_save(c); /* the bridge is up: a resting point */
		}
	}
	call_unref(c);
}

static void early_cb(const char *sdp, const char *err, void *ud)
{
	call *c = ud;
	if (!c->dead && !c->answered && sdp)
		eng_reply(c, 183, "Session Progress", sdp);
	else if (err)
		LOGW("call %s: early media: %s", c->sid, err);
	call_unref(c);
}

/* A leg reaches "ringing" once: at its first 1xx, or just before "in-progress"
 * when its 2xx came without one (a callee that answers at once, or a 180 that
 * another SIP worker handled after the 200 and tm dropped) — Twilio's calls go
 * initiated → ringing → in-progress, and status callbacks follow suit. */
static void leg_ringing(call *c, dleg *l)
{
	if (l->state == L_STARTED) {
		l->state = L_RINGING;
		eng_record_status(l->sid, "ringing");
		leg_event(c, l, TWIML_EV_RINGING, "ringing");
	}
}

static void on_progress(call *c, dial *d, dleg *l, json_t *ev)
{
	leg_ringing(c, l);
	const char *sdp = json_string_value(json_object_get(ev, "sdp"));
	if (d->answer_on_bridge && !c->answered && sdp && d->early_leg < 0) {
		/* Early media from one leg only: the first that has some. */
		d->early_leg = (int)(l - d->legs);
		media_unblock(c->sid, l->sid);
		call_ref(c);
		if (media_answer(c->sid, c->mtag, l->sid, sdp, early_cb, c) < 0)
			call_unref(c);
	}
}

static void copy_headers(json_t **dst, json_t *ev)
{
	json_decref(*dst);
	*dst = json_incref(json_object_get(ev, "headers"));
}

static void on_answered(call *c, dial *d, dleg *l, json_t *ev)
{
	const char *cid = json_string_value(json_object_get(ev, "sip_call_id"));
	if (cid)
		snprintf(l->sip_call_id, sizeof l->sip_call_id, "%s", cid);
	if (d->finished || d->winner >= 0 || l->state == L_ENDED) {
		l->dropped = 1;
		hangup_leg(c, l->sid);
		return;
	}
	d->winner = (int)(l - d->legs);
	leg_ringing(c, l);
	l->state = L_ANSWERED;
	l->answer_ms = now_ms();
	l->code = 200;
	copy_headers(&l->ok_hdrs, ev);
	uv_timer_stop(&c->dial_timer);
	for (int i = 0; i < d->n; i++) {
		dleg *o = &d->legs[i];
		if (o != l && (o->state == L_STARTED || o->state == L_RINGING)) {
			o->dropped = 1;
			hangup_leg(c, o->sid);
		}
	}
	eng_record_status(l->sid, "in-progress");
	leg_event(c, l, TWIML_EV_ANSWERED, "in-progress");
	if (d->tentative) {
		d->tentative = 0;
		transfer_target_answered(c);
	}
	if (d->early_leg != (int)(l - d->legs))
		media_unblock(c->sid, l->sid);
	const char *sdp = json_string_value(json_object_get(ev, "sdp"));
	free(l->sdp);
	l->sdp = sdp ? strdup(sdp) : NULL;
	call_ref(c);
	if (!sdp || media_answer(c->sid, c->mtag, l->sid, sdp, bridge_cb, c) < 0) {
		call_unref(c);
		LOGW("call %s: leg %s answered without usable SDP", c->sid, l->sid);
		hangup_leg(c, l->sid);
	}
}

/* The aggregate DialCallStatus when nobody answered. */
static const char *failed_status(dial *d)
{
	int busy = 0, noans = 0, cancel = 0;
	for (int i = 0; i < d->n; i++) {
		const char *s = d->legs[i].status;
		busy |= !strcmp(s, "busy");
		noans |= !strcmp(s, "no-answer");
		cancel |= !strcmp(s, "canceled");
	}
	return busy ? "busy" : noans ? "no-answer" : cancel ? "canceled" : "failed";
}

static void on_leg_ended(call *c, dial *d, dleg *l, json_t *ev)
{
	if (l->state == L_ENDED)
		return;
	int was_winner = d->winner == (int)(l - d->legs);
	l->state = L_ENDED;
	l->end_ms = now_ms();
	json_int_t code = json_integer_value(json_object_get(ev, "code"));
	if (!l->answer_ms)
		l->code = code ? (int)code : 500;
	copy_headers(&l->final_hdrs, ev);
	snprintf(l->status, sizeof l->status, "%s", leg_status(l));
	record_end(l);
	eng_live_leg(c->sid, l->sid, NULL);
	leg_event(c, l, TWIML_EV_COMPLETED, l->status);
	if (d->parked) {
		if (!strcmp(c->bridged, l->sid))
			c->bridged[0] = 0;
		transfer_leg_gone(c, l->sid);
		return;
	}
	if (d->finished)
		return;
	if (was_winner && c->xfer) {
		/* The transferor left while its transfer is being fetched (phones
		 * often BYE right after the 202): the transfer goes on, the
		 * Dial ends without its action. */
		c->bridged[0] = 0;
		uv_timer_stop(&c->limit_timer);
		d->finished = 1;
		transfer_leg_gone(c, l->sid);
		return;
	}
	if (was_winner) {
		c->bridged[0] = 0;
		uv_timer_stop(&c->limit_timer);
		finish_dial(c, "completed");
		return;
	}
	if (d->winner >= 0)
		return; /* a loser went away */
	if (d->sequential) {
		if (!start_next(c))
			finish_dial(c, failed_status(d));
		return;
	}
	for (int i = 0; i < d->n; i++)
		if (d->legs[i].state != L_ENDED && d->legs[i].state != L_IDLE)
			return;
	finish_dial(c, failed_status(d));
}

void dial_on_leg_event(call *c, const char *type, json_t *ev)
{
	dial *d = c->dial;
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	dleg *l = d && sid ? find_leg(d, sid) : NULL;
	if (!l && c->pdial && sid) {
		d = c->pdial;
		l = find_leg(d, sid);
	}
	if (!l) {
		/* A leg of an earlier Dial of this call (or unknown): only make
		 * sure it does not stay up. */
		if (sid && !strcmp(type, "call.answered"))
			hangup_leg(c, sid);
		return;
	}
	if (!strcmp(type, "call.progress"))
		on_progress(c, d, l, ev);
	else if (!strcmp(type, "call.answered"))
		on_answered(c, d, l, ev);
	else if (!strcmp(type, "call.ended"))
		on_leg_ended(c, d, l, ev);
}

/* ---- the end of a Dial ---------------------------------------------------- */

static void finish_dial(call *c, const char *status)
{
	dial *d = c->dial;
	if (!d || d->finished)
		return;
	d->finished = 1;
	uv_timer_stop(&c->dial_timer);
	uv_timer_stop(&c->limit_timer);
	if (d->ringback && !c->dead)
		media_stop(c->sid, c->mtag);
	d->ringback = 0;
	dleg *last = NULL;
	for (int i = 0; i < d->n; i++) {
		dleg *l = &d->legs[i];
		if ((l->state == L_STARTED || l->state == L_RINGING || l->state == L_ANSWERED) &&
		    !l->promoted) {
			l->dropped = 1;
			hangup_leg(c, l->sid);
		}
		if (l->state != L_IDLE)
			last = l;
	}
	dleg *w = d->winner >= 0 ? &d->legs[d->winner] : last;
	if (d->tentative && transfer_dial_failed(c, dial_status_code(status, w ? w->code : 0)))
		return; /* d is gone: the old bridge is back */
	form extra;
	form_init(&extra);
	form_add(&extra, "DialCallStatus", status);
	if (w) {
		char dur[24], code[16];
		form_add(&extra, "DialCallSid", w->sid);
		int64_t end = w->end_ms ? w->end_ms : now_ms();
		snprintf(dur, sizeof dur, "%lld",
		         (long long)(w->answer_ms ? (end - w->answer_ms + 500) / 1000 : 0));
		form_add(&extra, "DialCallDuration", dur);
		form_add(&extra, "DialBridged", d->winner >= 0 ? "true" : "false");
		if (w->sip_call_id[0])
			form_add(&extra, "DialSipCallId", w->sip_call_id);
		snprintf(code, sizeof code, "%d", w->code ? w->code : 487);
		form_add(&extra, "DialSipResponseCode", code);
		eng_add_header_params(&extra, "DialSipHeader_", w->final_hdrs);
		eng_add_header_params(&extra, "SipHeader_", w->ok_hdrs);
	} else {
		form_add(&extra, "DialBridged", "false");
	}
	char *action = d->action ? url_resolve(c->doc_url, d->action) : NULL;
	char method[8];
	snprintf(method, sizeof method, "%s", d->method ? d->method : "POST");
	LOGI("call %s: Dial ended: %s", c->sid, status);
	if (c->dead || c->ending) {
		/* The caller is gone: the action is still reported, its TwiML
		 * ignored (twilio-voice.md §2.1). */
		if (action)
			eng_report_action(c, action, method, &extra);
	} else if (action) {
		eng_fetch(c, action, method, &extra);
	} else if (d->action) {
		eng_record_error(c, 11100, "invalid Dial action URL", d->action);
		eng_run(c);
	} else if (!c->answered && d->winner < 0 && c->doc && c->pc >= c->doc->n_verbs) {
		/* answerOnBridge and nothing after the Dial: the caller was never
		 * answered, so it gets the outcome as a final response. */
		eng_end_call(c, dial_status_code(status, w ? w->code : 0), NULL, status);
	} else {
		eng_run(c);
	}
	free(action);
	form_free(&extra);
}

int dial_status_code(const char *status, int leg_code)
{
	return !strcmp(status, "busy")             ? 486
	       : !strcmp(status, "no-answer")      ? 480
	       : !strcmp(status, "canceled")       ? 487
	       : leg_code >= 400 && leg_code < 700 ? leg_code
	                                           : 502;
}

/* Hangs up and reports every leg of d still up. */
static void legs_gone(call *c, dial *d)
{
	int64_t t = now_ms();
	for (int i = 0; i < d->n; i++) {
		dleg *l = &d->legs[i];
		if (l->state == L_IDLE || l->state == L_ENDED || l->promoted)
			continue;
		if (l->state != L_ANSWERED)
			l->dropped = 1;
		l->end_ms = t;
		if (!l->answer_ms)
			l->code = 487;
		snprintf(l->status, sizeof l->status, "%s", leg_status(l));
		hangup_leg(c, l->sid);
		record_end(l);
		eng_live_leg(c->sid, l->sid, NULL);
		leg_event(c, l, TWIML_EV_COMPLETED, l->status);
		l->state = L_ENDED;
	}
}

void dial_caller_gone(call *c)
{
	if (c->pdial)
		legs_gone(c, c->pdial);
	dial *d = c->dial;
	if (!d || d->finished)
		return;
	legs_gone(c, d);
	d->tentative = 0; /* nothing to restore */
	finish_dial(c, d->winner >= 0 ? "completed" : "canceled");
}

void dial_abandon(call *c)
{
	dial *d = c->dial;
	if (!d || d->finished)
		return;
	legs_gone(c, d);
	d->finished = 1;
	d->tentative = 0;
	uv_timer_stop(&c->dial_timer);
	uv_timer_stop(&c->limit_timer);
	if (d->ringback)
		media_stop(c->sid, c->mtag);
	d->ringback = 0;
	c->bridged[0] = 0;
	c->btag[0] = 0;
}

static void dial_free_one(dial *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->n; i++) {
		dialtarget_free(&d->legs[i].t);
		json_decref(d->legs[i].final_hdrs);
		json_decref(d->legs[i].ok_hdrs);
		free(d->legs[i].sc_url);
		free(d->legs[i].sc_method);
		free(d->legs[i].sdp);
		free(d->legs[i].our_sdp);
	}
	free(d->action);
	free(d->method);
	free(d->refer_url);
	free(d->refer_method);
	free(d);
}

void dial_park(call *c)
{
	dial_free_one(c->pdial);
	c->pdial = c->dial;
	c->dial = NULL;
	if (c->pdial)
		c->pdial->parked = 1;
}

void dial_unpark(call *c)
{
	dial_free_one(c->dial);
	c->dial = c->pdial;
	c->pdial = NULL;
	if (c->dial)
		c->dial->parked = 0;
}

int dial_refer_info(call *c, const char **url, const char **method, int *aob)
{
	dial *d = c->dial;
	if (!d)
		return 0;
	*url = d->refer_url;
	*method = d->refer_method ? d->refer_method : "POST";
	*aob = d->answer_on_bridge;
	return 1;
}

/* The answered leg sid of the current or parked Dial, promoted or not. */
static dleg *bridge_leg(call *c, const char *sid)
{
	dial *ds[2] = {c->dial, c->pdial};
	for (int k = 0; k < 2; k++)
		for (int i = 0; ds[k] && i < ds[k]->n; i++)
			if (ds[k]->legs[i].state == L_ANSWERED && !strcmp(ds[k]->legs[i].sid, sid))
				return &ds[k]->legs[i];
	return NULL;
}

int dial_promote(call *c, const char *sid, party *p)
{
	dleg *l = bridge_leg(c, sid);
	if (!l || l->promoted)
		return -1;
	l->promoted = 1;
	snprintf(p->sid, sizeof p->sid, "%s", l->sid);
	leg_params(c, l, &p->params, "in-progress");
	if (l->sc_url && (l->sc_events & TWIML_EV_COMPLETED)) {
		p->sc_url = strdup(l->sc_url);
		p->sc_method = strdup(l->sc_method ? l->sc_method : "POST");
	}
	p->sc_seq = l->sc_seq;
	p->answer_ms = l->answer_ms;
	p->sip = l->t.number[0] == 0;
	return 0;
}

void dial_demote(call *c, const char *sid, int sc_seq)
{
	dleg *l = bridge_leg(c, sid);
	if (l) {
		l->promoted = 0;
		l->sc_seq = sc_seq;
	}
}

void dial_free(call *c)
{
	dial_free_one(c->dial);
	dial_free_one(c->pdial);
	c->dial = NULL;
	c->pdial = NULL;
}

/* ---- the start of a Dial -------------------------------------------------- */

static int caller_id_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("+-_.", *p)))
			return 0;
	return 1;
}

/* A transfer's Dial: the headers embedded in the Refer-To (User-to-User,
 * X-*) go on every INVITE unless the noun sets the same header itself. */
static void add_refer_headers(dial_target *t, json_t *hdrs)
{
	size_t i;
	json_t *h;
	json_array_foreach(hdrs, i, h)
	{
		const char *n = json_string_value(json_array_get(h, 0));
		const char *v = json_string_value(json_array_get(h, 1));
		if (!n || !v || t->n_hdrs >= DIALTARGET_MAX_HDRS ||
		    !strncasecmp(n, "X-Twilio", 8) ||
		    (strncasecmp(n, "X-", 2) && strcasecmp(n, "User-to-User")))
			continue;
		int dup = 0;
		for (int k = 0; k < t->n_hdrs; k++)
			dup |= !strcasecmp(t->hdr_names[k], n);
		if (dup)
			continue;
		char *nn = strdup(n), *vv = strdup(v);
		if (!nn || !vv) {
			free(nn);
			free(vv);
			continue;
		}
		t->hdr_names[t->n_hdrs] = nn;
		t->hdr_values[t->n_hdrs++] = vv;
	}
}

static void set_leg_opts(dleg *l, const twiml_leg *o)
{
	if (o->status_callback && *o->status_callback) {
		l->sc_url = strdup(o->status_callback);
		l->sc_method = strdup(o->status_callback_method == TWIML_GET ? "GET" : "POST");
		l->sc_events =
		    o->status_callback_event ? o->status_callback_event : TWIML_EV_COMPLETED;
	}
}

void dial_start(call *c, const struct twiml_dial *td)
{
	dial_free_one(c->dial);
	c->dial = NULL;
	dial *d = calloc(1, sizeof *d);
	if (!d) {
		eng_end_call(c, 500, "Server Internal Error", "failed");
		return;
	}
	c->dial = d;
	d->winner = -1;
	d->early_leg = -1;
	d->sequential = td->sequential;
	d->answer_on_bridge = td->answer_on_bridge;
	d->timeout_s = td->timeout < 5 ? 5 : td->timeout > 600 ? 600 : td->timeout;
	d->time_limit_s = td->time_limit > 0 ? td->time_limit : 14400;
	d->action = td->action ? strdup(td->action) : NULL;
	d->method = strdup(td->method == TWIML_GET ? "GET" : "POST");
	d->refer_url = td->refer_url && *td->refer_url ? strdup(td->refer_url) : NULL;
	d->refer_method = strdup(td->refer_method == TWIML_GET ? "GET" : "POST");
	if (!d->refer_url && c->pdial && c->pdial->refer_url) {
		/* A transfer's Dial needs no referUrl: the initial call's one
		 * serves the next transfer too (twilio-voice.md §3). */
		free(d->refer_method);
		d->refer_url = strdup(c->pdial->refer_url);
		d->refer_method = strdup(c->pdial->refer_method ? c->pdial->refer_method : "POST");
	}
	d->tentative = transfer_tentative(c);

	/* From of the legs: callerId, else the caller's From. */
	const char *from = form_get(&c->params, "From");
	const char *cid = td->caller_id;
	if (cid && *cid && !caller_id_ok(cid)) {
		eng_record_error(c, 13214, "Dial: invalid callerId", c->doc_url);
		cid = NULL;
	}
	if (cid && *cid) {
		snprintf(d->from_param, sizeof d->from_param, "%s", cid);
		snprintf(d->from_hdr, sizeof d->from_hdr, "<sip:%s@%s>", cid, eng_cfg->sip_host);
	} else if (from && !strncmp(from, "sip:", 4)) {
		snprintf(d->from_param, sizeof d->from_param, "%s", from);
		snprintf(d->from_hdr, sizeof d->from_hdr, "<%s>", from);
	} else {
		snprintf(d->from_param, sizeof d->from_param, "%s", from ? from : "anonymous");
		snprintf(d->from_hdr, sizeof d->from_hdr, "<sip:%s@%s>",
		         from && *from ? from : "anonymous", eng_cfg->sip_host);
	}
	if (eng_cfg->tones_dir[0] && !td->answer_on_bridge && !d->tentative &&
	    ringtone_path(td->ring_tone, eng_cfg->tones_dir, d->ring_file, sizeof d->ring_file) < 0)
		d->ring_file[0] = 0;

	int valid = 0;
	for (size_t i = 0; i < td->n_nouns && d->n < TWIML_MAX_DIAL_TARGETS; i++) {
		const twiml_noun *nn = &td->nouns[i];
		dleg *l = &d->legs[d->n++];
		char err[256] = "";
		int code;
		memcpy(l->from, d->from_param, sizeof d->from_param);
		if (nn->kind == TWIML_NOUN_SIP) {
			code = dialtarget_sip(nn->u.sip.uri, nn->u.sip.username, nn->u.sip.password,
			                      &l->t, err, sizeof err);
			set_leg_opts(l, &nn->u.sip.leg);
			memcpy(l->to, l->t.ruri, sizeof l->t.ruri);
		} else if (nn->kind == TWIML_NOUN_NUMBER) {
			code = dialtarget_number(nn->u.number.number, eng_cfg->pstn_trunk,
			                         eng_cfg->pstn_user, eng_cfg->pstn_pass, &l->t, err,
			                         sizeof err);
			set_leg_opts(l, &nn->u.number.leg);
			memcpy(l->to, l->t.number, sizeof l->t.number);
		} else {
			code = 13215;
			snprintf(err, sizeof err, "Dial: <%s> is not supported by this server",
			         twiml_noun_name(nn->kind));
		}
		if (code) {
			eng_record_error(c, code, err, c->doc_url);
			snprintf(l->status, sizeof l->status, "failed");
			continue;
		}
		add_refer_headers(&l->t, c->xfer_hdrs);
		l->valid = 1;
		valid++;
	}
	json_decref(c->xfer_hdrs); /* for the first Dial after the transfer only */
	c->xfer_hdrs = NULL;
	if (!valid) {
		finish_dial(c, "failed");
		return;
	}
	if (!d->answer_on_bridge && !c->answered)
		eng_answer(c, after_answer);
	else if (c->answered)
		after_answer(c, 1);
	else
		start_legs(c);
}

/* ---- snapshot (resume.c) -------------------------------------------------- */

/* A Dial resting in its bridge: the winner answered and bridged, every
 * other leg over, nothing about to change by itself. */
static int resting(call *c, dial *d)
{
	if (!d || d->finished || d->parked || d->tentative || d->ringback || d->winner < 0)
		return 0;
	dleg *w = &d->legs[d->winner];
	if (w->state != L_ANSWERED || w->promoted || strcmp(c->bridged, w->sid) != 0)
		return 0;
	for (int i = 0; i < d->n; i++)
		if (i != d->winner && d->legs[i].state != L_IDLE && d->legs[i].state != L_ENDED)
			return 0;
	return 1;
}

json_t *dial_snapshot(call *c)
{
	dial *d = c->dial;
	if (!resting(c, d))
		return NULL;
	dleg *w = &d->legs[d->winner];
	json_t *leg = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o,s:o,s:i,s:i,s:O,s:o,s:o}", "sid", w->sid, "to", w->to,
	    "from", w->from, "sip_call_id", w->sip_call_id, "number", w->t.number, "start_ms",
	    (json_int_t)w->start_ms, "answer_ms", (json_int_t)w->answer_ms, "sc_url",
	    jsnap_str(w->sc_url), "sc_method", jsnap_str(w->sc_method), "sc_events",
	    (int)w->sc_events, "sc_seq", w->sc_seq, "ok_hdrs",
	    w->ok_hdrs ? w->ok_hdrs : json_null(), "sdp", jsnap_str(w->sdp), "our_sdp",
	    jsnap_str(w->our_sdp));
	return json_pack("{s:o,s:i,s:i,s:i,s:i,s:o,s:o,s:s,s:s,s:o,s:o,s:I}", "leg", leg,
	                 "sequential", d->sequential, "answer_on_bridge", d->answer_on_bridge,
	                 "timeout_s", d->timeout_s, "time_limit_s", d->time_limit_s, "action",
	                 jsnap_str(d->action), "method", jsnap_str(d->method), "from_hdr",
	                 d->from_hdr, "from_param", d->from_param, "refer_url",
	                 jsnap_str(d->refer_url), "refer_method", jsnap_str(d->refer_method),
	                 "limit_at", (json_int_t)(w->answer_ms + (int64_t)d->time_limit_s * 1000));
}

int dial_restore(call *c, json_t *j)
{
	json_t *lj = json_object_get(j, "leg");
	const char *sid = json_string_value(json_object_get(lj, "sid"));
	if (!json_is_object(j) || !sid || !sid_valid(sid, "CA"))
		return -1;
	dial *d = calloc(1, sizeof *d);
	if (!d)
		return -1;
	d->n = 1;
	d->winner = 0;
	d->early_leg = -1;
	d->sequential = jsnap_int(j, "sequential");
	d->answer_on_bridge = jsnap_int(j, "answer_on_bridge");
	d->timeout_s = jsnap_int(j, "timeout_s");
	d->time_limit_s = jsnap_int(j, "time_limit_s");
	d->action = jsnap_dup(j, "action");
	d->method = jsnap_dup(j, "method");
	d->refer_url = jsnap_dup(j, "refer_url");
	d->refer_method = jsnap_dup(j, "refer_method");
	jsnap_copy(d->from_hdr, sizeof d->from_hdr, j, "from_hdr");
	jsnap_copy(d->from_param, sizeof d->from_param, j, "from_param");
	dleg *l = &d->legs[0];
	snprintf(l->sid, sizeof l->sid, "%s", sid);
	l->valid = 1;
	l->state = L_ANSWERED;
	l->code = 200;
	jsnap_copy(l->to, sizeof l->to, lj, "to");
	jsnap_copy(l->from, sizeof l->from, lj, "from");
	jsnap_copy(l->sip_call_id, sizeof l->sip_call_id, lj, "sip_call_id");
	jsnap_copy(l->t.number, sizeof l->t.number, lj, "number");
	l->start_ms = json_integer_value(json_object_get(lj, "start_ms"));
	l->answer_ms = json_integer_value(json_object_get(lj, "answer_ms"));
	l->sc_url = jsnap_dup(lj, "sc_url");
	l->sc_method = jsnap_dup(lj, "sc_method");
	l->sc_events = (unsigned)json_integer_value(json_object_get(lj, "sc_events"));
	l->sc_seq = jsnap_int(lj, "sc_seq");
	json_t *h = json_object_get(lj, "ok_hdrs");
	l->ok_hdrs = json_is_array(h) ? json_incref(h) : NULL;
	l->sdp = jsnap_dup(lj, "sdp");
	l->our_sdp = jsnap_dup(lj, "our_sdp");
	dial_free(c);
	c->dial = d;
	int64_t left = json_integer_value(json_object_get(j, "limit_at")) - now_ms();
	uv_timer_start(&c->limit_timer, on_time_limit, (uint64_t)(left > 0 ? left : 0), 0);
	return 0;
}
