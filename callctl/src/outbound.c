/* outbound.c — calls created by the REST API (POST …/Calls.json,
 * twilio-voice.md §5.1, bus-protocol.md §13), from their api.create event to
 * their answer: the wait for the calls-per-second slot the API took, the
 * outbound root leg (rtpengine offer from the virtual peer, the module's
 * `dial` on the least loaded live proxy, Timeout), its progress (queued →
 * initiated → ringing → in-progress, with the StatusCallbackEvent callbacks
 * asked for), the answer (rtpengine answer; Url fetched with
 * Direction=outbound-api, or the inline Twiml run) and TimeLimit. Once
 * answered the leg is the call's principal like any caller: the engine
 * runs its TwiML, <Dial> bridges it to new legs. Runs on the engine's loop.
 *
 * The api.create event stays pending until the call is answered or ends
 * (like call.incoming), so a dead instance's queued or ringing calls are
 * found again: a queued one is started by the instance that claims it, one
 * that was dialing is ended in order (bus-protocol.md §9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialtarget.h"
#include "engine_int.h"
#include "log.h"
#include "lua_scripts.h"
#include "media.h"
#include "rbus.h"
#include "sid.h"
#include "timefmt.h"

enum { O_QUEUED = 0, O_DIALING, O_ANSWERING, O_UP };

typedef struct outcall {
	int phase;
	int dialed; /* the dial command was sent */
	int ringing;
	dial_target t;
	char from_hdr[700];
	int timeout_s, time_limit_s;
	char *twiml;       /* inline Twiml (NULL: Url) */
	char *send_digits; /* stored; played once media verbs exist */
	json_t *ev;        /* the api.create event (a takeover re-routes it) */
} outcall;

void outbound_free(call *c)
{
	outcall *o = c->out;
	if (!o)
		return;
	dialtarget_free(&o->t);
	free(o->twiml);
	free(o->send_digits);
	json_decref(o->ev);
	free(o);
	c->out = NULL;
}

static const char *jget(json_t *ev, const char *k)
{
	return json_string_value(json_object_get(ev, k));
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* One status-callback event of the call (§4), when it was asked for. */
static void progress_event(call *c, unsigned ev, const char *status, int code)
{
	if (!c->sc_url || !(c->sc_events & ev))
		return;
	form p;
	form_init(&p);
	form_append(&p, &c->params);
	eng_callback_fields(&p, status, c->sc_seq++, code, -1);
	eng_status_callback(c->sc_url, c->sc_method, &p);
	form_free(&p);
}

/* A From header value is built from From (or CallerId): a SIP URI as it
 * is, anything else as the user part at our SIP host. The API checked the
 * characters; they are checked again because the event is input too. */
static int from_header(outcall *o, const char *from, const char *host)
{
	for (const char *p = from; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f || strchr("<>\"", *p))
			return -1;
	if (!strncasecmp(from, "sip:", 4) || !strncasecmp(from, "sips:", 5))
		snprintf(o->from_hdr, sizeof o->from_hdr, "<%s>", from);
	else
		snprintf(o->from_hdr, sizeof o->from_hdr, "<sip:%s@%s>", from, host);
	return 0;
}

/* The call's identity and what to dial, from its api.create event.
 * -1 with a Twilio error code in *code and a detail when the target is
 * unusable. */
static int setup(call *c, outcall *o, json_t *ev, int *code, char *err, size_t n)
{
	const char *to = jget(ev, "to"), *from = jget(ev, "from"), *cid = jget(ev, "caller_id");
	if (!to || !from) {
		*code = 21201;
		snprintf(err, n, "the event has no To or From");
		return -1;
	}
	int sip = !strncasecmp(to, "sip:", 4) || !strncasecmp(to, "sips:", 5);
	*code = sip ? dialtarget_sip(to, jget(ev, "sip_auth_username"),
	                             jget(ev, "sip_auth_password"), &o->t, err, n)
	            : dialtarget_number(to, eng_cfg->pstn_trunk, eng_cfg->pstn_user,
	                                eng_cfg->pstn_pass, &o->t, err, n);
	if (*code)
		return -1;
	if (from_header(o, cid && *cid ? cid : from, eng_cfg->sip_host) < 0) {
		*code = 21212;
		snprintf(err, n, "invalid From");
		return -1;
	}
	c->sip_leg = sip;
	c->voice_url = dup_or_null(jget(ev, "url"));
	c->voice_method = strdup(jget(ev, "method") ? jget(ev, "method") : "POST");
	c->fallback_url = dup_or_null(jget(ev, "fallback_url"));
	c->fallback_method =
	    strdup(jget(ev, "fallback_method") ? jget(ev, "fallback_method") : "POST");
	c->sc_url = dup_or_null(jget(ev, "status_callback"));
	c->sc_method = strdup(
	    jget(ev, "status_callback_method") ? jget(ev, "status_callback_method") : "POST");
	c->sc_events = (unsigned)json_integer_value(json_object_get(ev, "status_callback_events"));
	if (!c->sc_events)
		c->sc_events = TWIML_EV_COMPLETED;
	o->twiml = dup_or_null(jget(ev, "twiml"));
	o->send_digits = dup_or_null(jget(ev, "send_digits"));
	o->timeout_s = (int)json_integer_value(json_object_get(ev, "timeout"));
	o->time_limit_s = (int)json_integer_value(json_object_get(ev, "time_limit"));
	if (o->timeout_s <= 0 || o->timeout_s > 600)
		o->timeout_s = 60;
	if (o->time_limit_s <= 0)
		o->time_limit_s = 14400;
	const char *shown = jget(ev, "to_shown") ? jget(ev, "to_shown") : to;
	form_add(&c->params, "CallSid", c->sid);
	form_add(&c->params, "AccountSid", eng_cfg->account_sid);
	form_add(&c->params, "From", from);
	form_add(&c->params, "To", shown);
	form_add(&c->params, "Caller", from);
	form_add(&c->params, "Called", shown);
	form_add(&c->params, "CallStatus", "queued");
	form_add(&c->params, "Direction", "outbound-api");
	form_add(&c->params, "ApiVersion", "2010-04-01");
	return 0;
}

/* ---- the end before the answer -------------------------------------- */

void outbound_hangup(call *c)
{
	if (c->out && c->out->dialed)
		eng_cmd(c, c->proxy, c->leg, json_pack("{s:s}", "op", "hangup"));
}

static void fail(call *c, int code, const char *detail)
{
	eng_record_error(c, code, detail, c->voice_url);
	eng_end_call(c, 0, NULL, "failed");
}

/* ---- dialing ------------------------------------------------------------ */

static void ring_timeout(uv_timer_t *t)
{
	call *c = t->data;
	if (c->dead || c->ending || !c->out || c->out->phase != O_DIALING)
		return;
	LOGI("call %s: no answer in %d s", c->sid, c->out->timeout_s);
	c->sip_code = 487;
	eng_end_call(c, 0, NULL, "no-answer");
}

static void offer_cb(const char *sdp, const char *err, void *ud)
{
	call *c = ud;
	outcall *o = c->out;
	if (c->dead || c->ending || !o) {
		call_unref(c);
		return;
	}
	if (!sdp) {
		LOGW("call %s: rtpengine offer: %s", c->sid, err);
		fail(c, 12400, "the media server did not offer");
		call_unref(c);
		return;
	}
	json_t *hdrs = json_array();
	for (int i = 0; hdrs && i < o->t.n_hdrs; i++)
		json_array_append_new(hdrs,
		                      json_pack("[ss]", o->t.hdr_names[i], o->t.hdr_values[i]));
	json_t *cmd = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "op", "dial", "ruri", o->t.ruri,
	                        "from", o->from_hdr, "to", o->t.to, "sdp", sdp, "headers", hdrs);
	if (cmd && o->t.dst[0])
		json_object_set_new(cmd, "dst", json_string(o->t.dst));
	if (cmd && o->t.auth_user[0]) {
		json_object_set_new(cmd, "auth_user", json_string(o->t.auth_user));
		json_object_set_new(cmd, "auth_pass", json_string(o->t.auth_pass));
	}
	free(c->our_sdp);
	c->our_sdp = strdup(sdp);
	o->dialed = 1;
	eng_cmd(c, c->proxy, c->leg, cmd);
	uv_timer_start(&c->out_timer, ring_timeout, (uint64_t)o->timeout_s * 1000, 0);
	call_unref(c);
}

static void start_dialing(call *c, const char *proxy)
{
	outcall *o = c->out;
	snprintf(c->proxy, sizeof c->proxy, "%s", proxy);
	o->phase = O_DIALING;
	c->start_ms = now_ms();
	form_set(&c->params, "CallStatus", "initiated");
	progress_event(c, TWIML_EV_INITIATED, "initiated", 0);
	LOGI("call %s: dialing %s via %s", c->sid, o->t.ruri, proxy);
	c->media = 1;
	call_ref(c);
	if (media_offer_alone(c->sid, c->mtag, offer_cb, c) < 0)
		offer_cb(NULL, "cannot send the offer", c);
}

static void try_start(call *c);

static void queue_done(uv_timer_t *t)
{
	call *c = t->data;
	if (!c->dead)
		try_start(c);
}

/* The call was canceled while queued (REST ended its record): as on Twilio,
 * no status callback fires (twilio-voice.md §1.3). */
static void canceled_in_queue(call *c)
{
	LOGI("call %s: canceled while queued", c->sid);
	c->ending = 1;
	c->sc_fired = 1;
	if (c->event_id[0])
		rbus_ack(c->event_id);
	c->event_id[0] = 0;
	call_kill(c);
}

static void dialout_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	redisReply *reply = r;
	call *c = priv;
	const char *what = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	                           reply->element[0]->type == REDIS_REPLY_STRING
	                       ? reply->element[0]->str
	                       : NULL;
	const char *arg =
	    what && reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
	        ? reply->element[1]->str
	        : "";
	if (c->dead || !c->out) {
		/* nothing */
	} else if (!what) {
		/* Redis went away or refused: the event stays pending and comes
		 * back to whichever instance claims it. */
		if (reply && reply->type == REDIS_REPLY_ERROR)
			LOGE("call %s: start: %s", c->sid, reply->str);
		call_kill(c);
	} else if (!strcmp(what, "wait")) {
		uv_timer_start(&c->out_timer, queue_done, (uint64_t)strtoull(arg, NULL, 10), 0);
	} else if (!strcmp(what, "go")) {
		start_dialing(c, arg);
	} else if (!strcmp(what, "gone")) {
		canceled_in_queue(c);
	} else if (!strcmp(what, "noproxy")) {
		LOGW("call %s: no SIP proxy is alive", c->sid);
		fail(c, 12400, "no Fulcrum SIP proxy is alive to place the call");
	} else { /* taken: started by another instance */
		char id[64], sid[40];
		json_t *ev = json_incref(c->out->ev);
		snprintf(id, sizeof id, "%s", c->event_id);
		snprintf(sid, sizeof sid, "%s", c->sid);
		c->event_id[0] = 0;
		call_kill(c);
		if (id[0])
			eng_route(id, sid, "api.create", ev);
		json_decref(ev);
	}
	call_unref(c);
}

static void try_start(call *c)
{
	char k1[64], k2[64], now[32];
	snprintf(k1, sizeof k1, "fc:live:%s", c->sid);
	snprintf(k2, sizeof k2, "fc:call:%s", c->sid);
	snprintf(now, sizeof now, "%lld", (long long)now_ms());
	const char *argv[] = {"EVAL", LUA_DIALOUT, "2", k1, k2, eng_cfg->instance, now};
	call_ref(c);
	if (rbus_cmdargv(dialout_cb, c, 7, argv, NULL) < 0)
		call_unref(c);
}

void outbound_on_create(const char *id, json_t *ev)
{
	const char *sid = jget(ev, "call_sid");
	if (!sid || !sid_valid(sid, "CA")) {
		LOGW("event %s: malformed api.create", id);
		rbus_ack(id);
		return;
	}
	call *c = call_find(sid);
	if (c) { /* delivered again to us (claimed back, or forwarded) */
		if (*id)
			snprintf(c->event_id, sizeof c->event_id, "%s", id);
		return;
	}
	c = call_new(eng_loop, sid);
	outcall *o = c ? calloc(1, sizeof *o) : NULL;
	if (!o) {
		if (c)
			call_kill(c);
		return; /* stays pending, claimed again later */
	}
	c->out = o;
	o->ev = json_incref(ev);
	snprintf(c->event_id, sizeof c->event_id, "%s", id);
	int code;
	char err[256];
	if (setup(c, o, ev, &code, err, sizeof err) < 0) {
		LOGW("call %s: cannot be placed: %d %s", sid, code, err);
		fail(c, code, err);
		return;
	}
	try_start(c);
}

/* ---- progress and answer ---------------------------------------------- */

static void time_limit(uv_timer_t *t)
{
	call *c = t->data;
	if (c->dead || c->ending)
		return;
	LOGI("call %s: TimeLimit reached", c->sid);
	eng_end_call(c, 0, NULL, "completed");
}

static void answer_cb(const char *sdp, const char *err, void *ud)
{
	call *c = ud;
	outcall *o = c->out;
	c->answering = 0;
	if (c->dead || c->ending || !o) {
		call_unref(c);
		return;
	}
	if (!sdp) {
		LOGW("call %s: rtpengine answer: %s", c->sid, err);
		c->answered = 1; /* the leg is up: it gets a BYE */
		fail(c, 12400, "the media server did not answer");
		call_unref(c);
		return;
	}
	o->phase = O_UP;
	eng_answered(c);
	progress_event(c, TWIML_EV_ANSWERED, "in-progress", 200);
	uv_timer_start(&c->out_timer, time_limit, (uint64_t)o->time_limit_s * 1000, 0);
	if (o->twiml) {
		twiml_error e;
		twiml_doc *doc = twiml_parse(o->twiml, strlen(o->twiml), &e);
		if (!doc) { /* checked by the API already */
			eng_record_error(c, e.code, e.msg, NULL);
			eng_fail(c, e.code, e.msg);
		} else {
			eng_run_doc(c, doc, "");
		}
	} else {
		eng_fetch(c, c->voice_url, c->voice_method, NULL);
	}
	call_unref(c);
}

static void on_answered(call *c, outcall *o, json_t *ev)
{
	uv_timer_stop(&c->out_timer);
	c->sip_code = 200;
	const char *sdp = jget(ev, "sdp"), *cid = jget(ev, "sip_call_id");
	if (cid) {
		form_set(&c->params, "SipCallId", cid);
		const char *pairs[] = {"sip_call_id", cid};
		eng_store(c->leg, 1, pairs);
	}
	if (!sdp) {
		c->answered = 1;
		fail(c, 12400, "the callee answered without SDP");
		return;
	}
	free(c->a_sdp);
	c->a_sdp = strdup(sdp);
	o->phase = O_ANSWERING;
	c->answering = 1;
	char vtag[64];
	call_ref(c);
	if (media_answer(c->sid, media_virtual_tag(c->sid, vtag), c->mtag, sdp, answer_cb, c) < 0)
		answer_cb(NULL, "cannot send the answer", c);
}

/* "ringing" once per call: at the first 1xx, or just before "in-progress" when
 * the 2xx came first (see leg_ringing in dial.c). */
static void ringing(call *c, outcall *o)
{
	if (o->ringing)
		return;
	o->ringing = 1;
	form_set(&c->params, "CallStatus", "ringing");
	eng_record_status(c->leg, "ringing");
	progress_event(c, TWIML_EV_RINGING, "ringing", 0);
}

int outbound_leg_event(call *c, const char *type, json_t *ev)
{
	outcall *o = c->out;
	if (!o || o->phase == O_UP)
		return 0;
	if (!strcmp(type, "call.progress")) {
		if (o->phase == O_DIALING)
			ringing(c, o);
		return 1;
	}
	if (!strcmp(type, "call.answered")) {
		if (o->phase == O_DIALING && !c->ending) {
			ringing(c, o); /* a 2xx without a 1xx before it still rang */
			on_answered(c, o, ev);
		} else {
			eng_cmd(c, c->proxy, c->leg, json_pack("{s:s}", "op", "hangup"));
		}
		return 1;
	}
	if (!strcmp(type, "call.ended")) {
		int code = (int)json_integer_value(json_object_get(ev, "code"));
		if (!c->sip_code && code)
			c->sip_code = code;
	}
	return 0;
}

int outbound_update(call *c, json_t *ev)
{
	outcall *o = c->out;
	if (!o || o->phase == O_UP)
		return 0;
	const char *status = jget(ev, "status"), *url = jget(ev, "url"), *tw = jget(ev, "twiml");
	if (status && o->phase == O_QUEUED) {
		uv_timer_stop(&c->out_timer);
		try_start(c); /* the API took it out of the queue: "gone" */
		return 1;
	}
	if (status && o->phase == O_ANSWERING)
		return 0; /* hung up like an answered call */
	if (status && o->phase == O_DIALING) {
		LOGI("call %s: REST Status=%s while dialing", c->sid, status);
		c->sip_code = 487;
		eng_end_call(c, 0, NULL, "canceled");
		return 1;
	}
	if (url || tw) { /* what to run once answered */
		free(c->voice_url);
		free(o->twiml);
		c->voice_url = dup_or_null(url);
		o->twiml = dup_or_null(tw);
		if (jget(ev, "method")) {
			free(c->voice_method);
			c->voice_method = strdup(jget(ev, "method"));
		}
	}
	return 1;
}

/* ---- snapshot (resume.c) -------------------------------------------------- */

int outbound_snapshot(call *c, int64_t *limit_at)
{
	outcall *o = c->out;
	if (!o) {
		*limit_at = 0;
		return 0;
	}
	if (o->phase != O_UP)
		return -1; /* not resting */
	*limit_at = c->answer_ms + (int64_t)o->time_limit_s * 1000;
	return 0;
}

int outbound_restore(call *c, int64_t limit_at)
{
	if (!limit_at)
		return 0;
	outcall *o = calloc(1, sizeof *o);
	if (!o)
		return -1;
	o->phase = O_UP;
	o->dialed = 1;
	o->time_limit_s = (int)((limit_at - c->answer_ms) / 1000);
	outbound_free(c);
	c->out = o;
	int64_t left = limit_at - now_ms();
	uv_timer_start(&c->out_timer, time_limit, (uint64_t)(left > 0 ? left : 0), 0);
	return 0;
}
