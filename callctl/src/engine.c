/* engine.c — callctl's call engine (engine.h): bus events → routing, call
 * records, TwiML fetch with fallback, verb execution, commands to proxies.
 *
 * A call.incoming event stays pending in the consumer group until the call
 * reaches a resting point (here: its final response was commanded, or it
 * ended); if this instance dies before that, another one claims the event
 * and runs the call's TwiML again from its VoiceUrl. State changes that
 * could race between instances (start, end) are Lua scripts. */
#include "engine.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "callbacks.h"
#include "engine_int.h"
#include "media.h"
#include "outbox.h"
#include "log.h"
#include "lua_scripts.h"
#include "phone.h"
#include "rbus.h"
#include "sid.h"
#include "timefmt.h"
#include "twerr.h"
#include "url.h"

uv_loop_t *eng_loop;
const fc_config *eng_cfg;
webhook_client *eng_wh;

/* ---- commands to the proxy ---------------------------------------------- */

/* Fills the envelope of cmd (stolen) and sends it to proxy: every command
 * callctl sends goes through here (bus-protocol.md §2, §5). root may be
 * NULL (a leg of a call nobody runs any more). */
static void send_cmd(const char *proxy, const char *id, const char *leg_sid, const char *root,
                     json_t *cmd)
{
	if (!cmd || !proxy) {
		json_decref(cmd);
		return;
	}
	json_object_set_new(cmd, "v", json_integer(1));
	json_object_set_new(cmd, "id", json_string(id));
	json_object_set_new(cmd, "call_sid", json_string(leg_sid));
	if (root)
		json_object_set_new(cmd, "root", json_string(root));
	json_object_set_new(cmd, "ts", json_integer((json_int_t)now_ms()));
	char *s = json_dumps(cmd, JSON_COMPACT);
	json_decref(cmd);
	if (s) {
		rbus_send_cmd(proxy, s);
		free(s);
	}
}

void eng_cmd(call *c, const char *proxy, const char *leg_sid, json_t *cmd)
{
	char id[96];
	snprintf(id, sizeof id, "%s:%d", c->sid, ++c->cmd_n);
	send_cmd(proxy, id, leg_sid, c->sid, cmd);
}

/* `reply` on the caller's INVITE, with an SDP and/or one extra header. */
static void send_reply(call *c, int code, const char *reason, const char *sdp, const char *hdr_name,
                       const char *hdr_value)
{
	json_t *cmd = json_pack("{s:s,s:i}", "op", "reply", "code", code);
	if (cmd && reason)
		json_object_set_new(cmd, "reason", json_string(reason));
	if (cmd && sdp)
		json_object_set_new(cmd, "sdp", json_string(sdp));
	if (cmd && hdr_name && hdr_value)
		json_object_set_new(cmd, "headers", json_pack("[[s,s]]", hdr_name, hdr_value));
	eng_cmd(c, c->proxy, c->leg, cmd);
}

void eng_reply(call *c, int code, const char *reason, const char *sdp)
{
	send_reply(c, code, reason, sdp, NULL, NULL);
}

void eng_store(const char *sid, int n, const char **pairs)
{
	const char *argv[2 + 2 * 32];
	char key[64];
	if (n > 32)
		n = 32;
	snprintf(key, sizeof key, "fc:call:%s", sid);
	argv[0] = "HSET";
	argv[1] = key;
	for (int i = 0; i < 2 * n; i++)
		argv[2 + i] = pairs[i];
	rbus_cmdargv(NULL, NULL, 2 + 2 * n, argv, NULL);
}

void eng_record_leg(const char *sid, const char *parent, const char *direction, const char *status,
                    const char *to, const char *from, const char *sip_call_id, const char *proxy,
                    int64_t t)
{
	char now[32];
	snprintf(now, sizeof now, "%lld", (long long)t);
	const char *pairs[32];
	int n = 0;
#define PAIR(k, v) (pairs[n++] = (k), pairs[n++] = (v))
	PAIR("sid", sid);
	PAIR("account_sid", eng_cfg->account_sid);
	if (parent)
		PAIR("parent_call_sid", parent);
	PAIR("to", to);
	PAIR("to_formatted", to);
	PAIR("from", from);
	PAIR("from_formatted", from);
	PAIR("status", status);
	PAIR("direction", direction);
	PAIR("api_version", "2010-04-01");
	PAIR("date_created", now);
	PAIR("date_updated", now);
	PAIR("start_time", now);
	if (sip_call_id)
		PAIR("sip_call_id", sip_call_id);
	PAIR("proxy", proxy);
#undef PAIR
	eng_store(sid, n / 2, pairs);
	char key[96];
	snprintf(key, sizeof key, "fc:calls:%s", eng_cfg->account_sid);
	rbus_cmd(NULL, NULL, "ZADD %s %s %s", key, now, sid);
}

void eng_offer_if_moved(call *c, const char *leg, char **ours, const char *sdp)
{
	if (!media_same_address(*ours, sdp))
		eng_cmd(c, c->proxy, leg,
		        json_pack("{s:s,s:s,s:s,s:s}", "op", "request", "method", "INVITE",
		                  "req_id", "fc-bridge", "sdp", sdp));
	free(*ours);
	*ours = strdup(sdp);
}

void eng_live_leg(const char *root, const char *sid, const char *proxy)
{
	char key[64], field[64];
	snprintf(key, sizeof key, "fc:live:%s", root);
	snprintf(field, sizeof field, "leg:%s", sid);
	if (proxy)
		rbus_cmd(NULL, NULL, "HSET %s %s %s", key, field, proxy);
	else
		rbus_cmd(NULL, NULL, "HDEL %s %s", key, field);
}

void eng_record_status(const char *sid, const char *status)
{
	char now[32];
	snprintf(now, sizeof now, "%lld", (long long)now_ms());
	const char *pairs[] = {"status", status, "date_updated", now};
	eng_store(sid, 2, pairs);
}

void eng_callback_fields(form *f, const char *status, int seq, int sip_code, int64_t secs)
{
	char s[16], ts[40], code[16], dur[24], mins[24];
	form_set(f, "CallStatus", status);
	snprintf(s, sizeof s, "%d", seq);
	form_set(f, "SequenceNumber", s);
	form_set(f, "Timestamp", rfc2822(ts, now_ms()));
	form_set(f, "CallbackSource", "call-progress-events");
	if (sip_code) {
		snprintf(code, sizeof code, "%d", sip_code);
		form_set(f, "SipResponseCode", code);
	}
	if (secs >= 0) {
		snprintf(dur, sizeof dur, "%lld", (long long)secs);
		snprintf(mins, sizeof mins, "%lld", (long long)((secs + 59) / 60));
		form_set(f, "CallDuration", dur);
		form_set(f, "Duration", mins);
	}
}

void eng_status_callback(const char *url, const char *method, const form *params)
{
	callbacks_send(url, method, params);
}

static void ack_incoming(call *c)
{
	if (c->event_id[0]) {
		rbus_ack(c->event_id);
		c->event_id[0] = 0;
	}
}

/* ---- notifications (recorded errors, store.md) --------------------------- */

static void record_error(call *c, int code, const char *detail, const char *url, const char *method,
                         const char *body)
{
	char nsid[SID_LEN + 1], now[32], ret[16];
	sid_new(nsid, "NO");
	int64_t t = now_ms();
	snprintf(now, sizeof now, "%lld", (long long)t);
	snprintf(ret, sizeof ret, "%d", eng_cfg->call_retention_s);
	const char *msg = detail && *detail ? detail : twerr_message(code);
	LOGW("call %s: error %d: %s (%s)", c->sid, code, msg, url ? url : "-");
	form mt;
	form_init(&mt);
	char codes[16];
	snprintf(codes, sizeof codes, "%d", code);
	form_add(&mt, "ErrorCode", codes);
	form_add(&mt, "msg", msg);
	if (url)
		form_add(&mt, "url", url);
	char *message_text = form_encode(&mt);
	form_free(&mt);
	char *vars = form_encode(&c->params);
	char more[80];
	snprintf(more, sizeof more, "https://www.twilio.com/docs/errors/%d", code);
	json_t *j =
	    json_pack("{s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "sid", nsid,
	              "account_sid", eng_cfg->account_sid, "call_sid", c->leg, "error_code", code,
	              "log", 0, "message_text", message_text ? message_text : "", "more_info", more,
	              "request_url", url ? url : "", "request_method", method ? method : "",
	              "request_variables", vars ? vars : "", "response_body", body ? body : "",
	              "response_headers", "", "date_created", (json_int_t)t);
	free(message_text);
	free(vars);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return;
	char k1[64], k2[96], k3[96];
	snprintf(k1, sizeof k1, "fc:notif:%s", nsid);
	snprintf(k2, sizeof k2, "fc:notifs:%s", eng_cfg->account_sid);
	snprintf(k3, sizeof k3, "fc:callnotifs:%s", c->leg);
	const char *argv[] = {"EVAL", LUA_NOTIF, "3", k1, k2, k3, s, now, nsid, ret};
	rbus_cmdargv(NULL, NULL, 10, argv, NULL);
	free(s);
}

void eng_record_error(call *c, int code, const char *detail, const char *url)
{
	record_error(c, code, detail, url, NULL, NULL);
}

/* ---- ending a call -------------------------------------------------------- */

/* Everything that happens once when the caller's call ends, whoever ended
 * it: legs hung up, media released, the record's duration, the caller's
 * StatusCallback (twilio-voice.md §4: `completed` with the final status). */
static void root_cleanup(call *c, const char *status)
{
	if (c->sc_fired)
		return;
	c->sc_fired = 1;
	c->ending = 1;
	transfer_caller_gone(c);
	refer_caller_gone(c);
	dial_caller_gone(c);
	principal_former_gone(c);
	if (c->media)
		media_delete(c->sid);
	/* StatusCallbackEvent without completed: no callback at the end. */
	int want = !c->sc_events || (c->sc_events & TWIML_EV_COMPLETED);
	party p = {.params = c->params,
	           .sc_url = want ? c->sc_url : NULL,
	           .sc_method = c->sc_method,
	           .sc_seq = c->sc_seq++,
	           .answer_ms = c->answer_ms,
	           .sip_code = c->sip_code};
	snprintf(p.sid, sizeof p.sid, "%s", c->leg);
	principal_report_end(&p, c->answered, status);
}

typedef struct finish_ctx {
	call *c;
	int code;
	char reason[64];
	char status[16];
	char hdr_value[300];
} finish_ctx;

static void finish_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	redisReply *reply = r;
	finish_ctx *f = priv;
	call *c = f->c;
	if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
		if (c->answered) {
			json_t *cmd = json_pack("{s:s}", "op", "hangup");
			eng_cmd(c, c->proxy, c->leg, cmd);
		} else if (c->out) {
			outbound_hangup(c); /* a REST-created leg: CANCEL */
		} else if (f->code) {
			send_reply(c, f->code, f->reason, NULL,
			           f->hdr_value[0] ? "X-Fulcrum-Error" : NULL, f->hdr_value);
		}
		root_cleanup(c, f->status);
	}
	/* Without a reply Redis went away: the event is left pending, so it is
	 * claimed again and the call re-runs from its VoiceUrl. */
	if (reply)
		ack_incoming(c);
	call_kill(c);
	call_unref(c);
	free(f);
}

/* Ends the call: BYE when answered, else a final SIP response (code 0:
 * none), with a status. */
static void finish(call *c, int code, const char *reason, const char *status, int err_code,
                   const char *err_msg)
{
	finish_ctx *f = calloc(1, sizeof *f);
	if (!f)
		return;
	c->ending = 1;
	f->c = c;
	f->code = code;
	snprintf(f->reason, sizeof f->reason, "%s", reason ? reason : "");
	snprintf(f->status, sizeof f->status, "%s", status);
	if (err_code) {
		snprintf(f->hdr_value, sizeof f->hdr_value, "%d %s", err_code,
		         err_msg ? err_msg : twerr_message(err_code));
		for (char *p = f->hdr_value; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	}
	char k1[64], k2[64], now[32], ret[16];
	snprintf(k1, sizeof k1, "fc:live:%s", c->sid);
	snprintf(k2, sizeof k2, "fc:call:%s", c->leg);
	snprintf(now, sizeof now, "%lld", (long long)now_ms());
	snprintf(ret, sizeof ret, "%d", eng_cfg->call_retention_s);
	const char *argv[] = {"EVAL", LUA_FINISH, "2", k1, k2, status, now, ret, "0"};
	call_ref(c);
	if (rbus_cmdargv(finish_cb, f, 9, argv, NULL) < 0) {
		call_unref(c);
		free(f);
	}
}

void eng_end_call(call *c, int code, const char *reason, const char *status)
{
	finish(c, code, reason, status, 0, NULL);
}

/* ---- answering ------------------------------------------------------------ */

void eng_answered(call *c)
{
	c->answered = 1;
	c->answer_ms = now_ms();
	form_set(&c->params, "CallStatus", "in-progress");
	eng_record_status(c->leg, "in-progress");
	/* Answered: a resting point for the call.incoming event. */
	ack_incoming(c);
}

typedef struct answer_ctx {
	call *c;
	void (*then)(call *c, int ok);
} answer_ctx;

static void answer_cb(const char *sdp, const char *err, void *ud)
{
	answer_ctx *a = ud;
	call *c = a->c;
	c->answering = 0;
	if (!c->dead && !c->ending) {
		if (sdp) {
			eng_reply(c, 200, "OK", sdp);
			eng_answered(c);
			free(c->our_sdp);
			c->our_sdp = strdup(sdp);
		} else {
			LOGW("call %s: cannot answer: %s", c->sid, err);
			record_error(c, 12400, "media server did not answer", NULL, NULL, NULL);
		}
		a->then(c, sdp != NULL);
	}
	call_unref(c);
	free(a);
}

void eng_answer(call *c, void (*then)(call *c, int ok))
{
	if (c->answered) {
		then(c, 1);
		return;
	}
	answer_ctx *a = malloc(sizeof *a);
	if (!a || !c->a_sdp) {
		free(a);
		if (!c->a_sdp)
			record_error(c, 12400,
			             "the caller offered no SDP (late offer is not supported)",
			             NULL, NULL, NULL);
		then(c, 0);
		return;
	}
	a->c = c;
	a->then = then;
	c->answering = 1;
	c->media = 1;
	call_ref(c);
	if (media_answer_alone(c->sid, c->mtag, c->a_sdp, answer_cb, a) < 0) {
		c->answering = 0;
		call_unref(c);
		free(a);
		then(c, 0);
	}
}

/* The application failed for good: the caller gets a final error response
 * rather than silence (twilio-voice.md §7.1). */
static void fail_call(call *c, int err_code, const char *msg)
{
	finish(c, 500, "Server Internal Error", "failed", err_code, msg);
}

/* ---- TwiML fetch and execution ------------------------------------------ */

static void run(call *c);
static void fetch(call *c, const char *url, const char *method);
static void fetch_with(call *c, const char *url, const char *method, const form *extra);

static int is_twiml_type(const char *ct)
{
	if (!ct)
		return 0;
	static const char *ok[] = {"text/xml", "application/xml", "text/html", NULL};
	for (int i = 0; ok[i]; i++) {
		size_t n = strlen(ok[i]);
		if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' '))
			return 1;
	}
	return 0;
}

/* A fetch or parse failed: record it, then try the fallback URL once. */
static void handle_failure(call *c, int code, const char *detail, const char *url,
                           const char *method, const char *body)
{
	record_error(c, code, detail, url, method, body);
	if (!c->in_fallback && c->fallback_url && *c->fallback_url) {
		char codes[16];
		c->in_fallback = 1;
		snprintf(codes, sizeof codes, "%d", code);
		form_set(&c->params, "ErrorCode", codes);
		form_set(&c->params, "ErrorUrl", url ? url : "");
		fetch(c, c->fallback_url, c->fallback_method);
		return;
	}
	fail_call(c, code, detail);
}

static void fetch_cb(const webhook_result *r, void *ud)
{
	call *c = ud;
	c->wh = NULL;
	if (c->dead) {
		call_unref(c);
		return;
	}
	const char *url = r->request_url ? r->request_url : "";
	int code;
	char detail[300];
	twiml_doc *doc = eng_result_doc(c, r, &code, detail, sizeof detail);
	if (!doc)
		handle_failure(c, code, detail, url, NULL, r->body);
	else
		eng_run_doc(c, doc, r->effective_url ? r->effective_url : url);
	call_unref(c);
}

twiml_doc *eng_result_doc(call *c, const webhook_result *r, int *code, char *detail, size_t n)
{
	if (r->error_code) {
		if (r->error_code == 11217)
			snprintf(detail, n, "HTTP %ld from %s", r->http_status,
			         r->request_url ? r->request_url : "");
		else
			snprintf(detail, n, "%s", r->error_msg);
		/* Twilio reports an HTTP error status of a TwiML fetch as 11200. */
		*code = r->error_code == 11217 ? 11200 : r->error_code;
		return NULL;
	}
	if (!is_twiml_type(r->content_type)) {
		snprintf(detail, n, "Content-Type %s is not TwiML",
		         r->content_type ? r->content_type : "(none)");
		*code = 12300;
		return NULL;
	}
	twiml_error err;
	twiml_doc *doc = twiml_parse(r->body, r->body_len, &err);
	if (!doc) {
		snprintf(detail, n, "%s", err.msg);
		*code = err.code;
		return NULL;
	}
	for (size_t i = 0; i < doc->n_warnings; i++)
		LOGI("call %s: TwiML warning %d line %d: %s", c->sid, doc->warnings[i].code,
		     doc->warnings[i].line, doc->warnings[i].msg);
	return doc;
}

static void fetch_with(call *c, const char *url, const char *method, const form *extra)
{
	form merged;
	form_init(&merged);
	if (extra) {
		form_append(&merged, &c->params);
		form_append(&merged, extra);
	}
	webhook_req req = {.url = url,
	                   .method = method && *method ? method : "POST",
	                   .params = extra ? &merged : &c->params,
	                   .auth_token = eng_cfg->auth_token,
	                   .max_body = TWIML_MAX_DOC};
	call_ref(c);
	c->wh = webhook_fetch(eng_wh, &req, fetch_cb, c);
	form_free(&merged);
	if (!c->wh) {
		call_unref(c);
		fail_call(c, 11200, "cannot start the webhook request");
	}
}

static void fetch(call *c, const char *url, const char *method)
{
	fetch_with(c, url, method, NULL);
}

void eng_fetch(call *c, const char *url, const char *method, const form *extra)
{
	fetch_with(c, url, method, extra);
}

void eng_run(call *c)
{
	run(c);
}

void eng_add_header_params(form *f, const char *prefix, json_t *hdrs)
{
	size_t i;
	json_t *h;
	json_array_foreach(hdrs, i, h)
	{
		const char *n = json_string_value(json_array_get(h, 0));
		const char *v = json_string_value(json_array_get(h, 1));
		char key[128];
		if (!n || !v)
			continue;
		snprintf(key, sizeof key, "%s%s", prefix, n);
		form_add(f, key, v);
	}
}

void eng_report_action(call *c, const char *url, const char *method, const form *extra)
{
	form p;
	form_init(&p);
	form_append(&p, &c->params);
	form_set(&p, "CallStatus", "completed");
	form_append(&p, extra);
	eng_status_callback(url, method, &p);
	form_free(&p);
}

void eng_run_doc(call *c, twiml_doc *doc, const char *url)
{
	twiml_free(c->doc);
	c->doc = doc;
	c->pc = 0;
	char *u = strdup(url); /* url may be c->doc_url itself */
	free(c->doc_url);
	c->doc_url = u;
	run(c);
}

void eng_interrupt(call *c)
{
	call_stop_webhook(c);
	call_stop_timer(c);
	refer_free(c);
	dial_abandon(c);
}

void eng_fail(call *c, int code, const char *detail)
{
	fail_call(c, code, detail);
}

const char *eng_tag(call *c, const char *sid)
{
	if (!strcmp(sid, c->leg))
		return c->mtag;
	if (c->btag[0] && !strcmp(sid, c->bridged))
		return c->btag;
	return sid;
}

static void hangup_answered(call *c, int ok)
{
	if (ok)
		finish(c, 0, NULL, "completed", 0, NULL);
	else
		fail_call(c, 12400, "cannot answer the call");
}

static void pause_done(uv_timer_t *t)
{
	call *c = t->data;
	c->timer_active = 0;
	if (!c->dead)
		run(c);
	call_unref(c);
}

/* Runs verbs from c->pc until one has to wait or the call ends. */
static void run(call *c)
{
	while (!c->dead && !c->ending && c->doc && c->pc < c->doc->n_verbs) {
		twiml_verb *v = &c->doc->verbs[c->pc++];
		switch (v->kind) {
		case TWIML_DIAL:
			dial_start(c, &v->u.dial);
			return;
		case TWIML_REJECT:
			if (c->answered) /* only meaningful before answer: hang up */
				finish(c, 0, NULL, "completed", 0, NULL);
			else if (v->u.reject.reason == TWIML_REJECT_BUSY)
				finish(c, 486, "Busy Here", "busy", 0, NULL);
			else /* twilio-voice.md §1.4: rejected → 404 */
				finish(c, 404, "Not Found", "no-answer", 0, NULL);
			return;
		case TWIML_REDIRECT: {
			char *url = url_resolve(c->doc_url, v->u.redirect.url);
			if (!url) {
				handle_failure(c, 11100, "invalid <Redirect> URL",
				               v->u.redirect.url, NULL, NULL);
				return;
			}
			/* A new document starts: the fallback may serve it again. */
			fetch(c, url, v->u.redirect.method == TWIML_GET ? "GET" : "POST");
			free(url);
			return;
		}
		case TWIML_PAUSE:
			call_ref(c);
			c->timer_active = 1;
			uv_timer_start(&c->timer, pause_done, (uint64_t)v->u.pause.length * 1000,
			               0);
			return;
		case TWIML_REFER:
			refer_start(c, &v->u.refer);
			return;
		case TWIML_HANGUP:
			/* <Hangup> answers, then hangs up (twilio-voice.md §2.13). */
			eng_answer(c, hangup_answered);
			return;
		default: {
			char msg[160];
			snprintf(msg, sizeof msg, "<%s> is not supported yet",
			         twiml_verb_name(v->kind));
			record_error(c, 12400, msg, c->doc_url, NULL, NULL);
			finish(c, 501, "Not Implemented", "failed", 12400, msg);
			return;
		}
		}
	}
	if (!c->dead && !c->ending && c->doc && c->pc >= c->doc->n_verbs)
		eng_answer(c, hangup_answered); /* end of document: hang up */
}

/* ---- call.incoming -------------------------------------------------------- */

static char *json_strdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? strdup(s) : NULL;
}

void eng_sip_params(form *p, const char *sid, json_t *sip, const char *kind, json_t *app,
                    const char *e164)
{
	const char *from_uri = json_string_value(json_object_get(sip, "from_uri"));
	const char *from_user = json_string_value(json_object_get(sip, "from_user"));
	const char *ruri_user = json_string_value(json_object_get(sip, "ruri_user"));
	const char *ruri_host = json_string_value(json_object_get(sip, "ruri_host"));
	char from[512], to[512], from164[32];
	if (from_user && e164_normalize(from_user, from164, sizeof from164) == 0 &&
	    strcmp(kind, "pn") == 0)
		snprintf(from, sizeof from, "%s", from164);
	else
		snprintf(from, sizeof from, "%s", from_uri ? from_uri : "");
	if (strcmp(kind, "pn") == 0)
		snprintf(to, sizeof to, "%s", e164);
	else
		snprintf(to, sizeof to, "sip:%s%s%s", ruri_user ? ruri_user : "",
		         ruri_user && *ruri_user ? "@" : "", ruri_host ? ruri_host : "");
	form_add(p, "CallSid", sid);
	form_add(p, "AccountSid", eng_cfg->account_sid);
	form_add(p, "From", from);
	form_add(p, "To", to);
	form_add(p, "Caller", from);
	form_add(p, "Called", to);
	form_add(p, "CallStatus", "ringing");
	form_add(p, "Direction", "inbound");
	form_add(p, "ApiVersion", "2010-04-01");
	const char *v;
	if ((v = json_string_value(json_object_get(sip, "call_id"))))
		form_add(p, "SipCallId", v);
	if ((v = json_string_value(json_object_get(sip, "src_ip"))))
		form_add(p, "SipSourceIp", v);
	if (strcmp(kind, "sd") == 0) {
		if ((v = json_string_value(json_object_get(app, "domain_name"))))
			form_add(p, "SipDomain", v);
		if ((v = json_string_value(json_object_get(app, "sid"))))
			form_add(p, "SipDomainSid", v);
	}
	if ((v = json_string_value(json_object_get(sip, "from_display"))) && *v)
		form_add(p, "CallerName", v);
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(sip, "headers"), i, h)
	{
		const char *name = json_string_value(json_array_get(h, 0));
		const char *val = json_string_value(json_array_get(h, 1));
		if (!name || !val)
			continue;
		char key[96];
		snprintf(key, sizeof key, "SipHeader_%s", name);
		form_add(p, key, val);
	}
	/* What the proxy could not pass on (bus-protocol.md §4). */
	json_int_t dropped = json_integer_value(json_object_get(sip, "headers_dropped"));
	json_int_t cut = json_integer_value(json_object_get(sip, "headers_cut"));
	if (dropped || cut)
		LOGW("call %s: the INVITE's X- headers beyond the first 64 (%lld) are not passed "
		     "on, "
		     "and %lld values were cut to 1024 bytes",
		     sid, (long long)dropped, (long long)cut);
}

typedef struct start_ctx {
	call *c;
	json_t *ev;
} start_ctx;

static void start_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	redisReply *reply = r;
	start_ctx *s = priv;
	call *c = s->c;
	if (!c->dead && reply) {
		if (reply->type == REDIS_REPLY_STRING && strcmp(reply->str, "ringing") == 0) {
			send_reply(c, 180, "Ringing", NULL, NULL, NULL);
			fetch(c, c->voice_url, c->voice_method);
		} else {
			/* Ended while this event waited (or an error): nothing to run. */
			if (reply->type == REDIS_REPLY_ERROR)
				LOGE("call %s: start: %s", c->sid, reply->str);
			ack_incoming(c);
			call_kill(c);
		}
	}
	json_decref(s->ev);
	free(s);
	call_unref(c);
}

static void start_call(call *c, json_t *ev, json_t *sip, const char *kind, json_t *app,
                       const char *e164)
{
	c->voice_url = json_strdup(app, "voice_url");
	c->voice_method = json_strdup(app, "voice_method");
	c->fallback_url = json_strdup(app, "voice_fallback_url");
	c->fallback_method = json_strdup(app, "voice_fallback_method");
	/* Numbers have StatusCallback, SIP domains VoiceStatusCallbackUrl. */
	c->sc_url = json_strdup(app, strcmp(kind, "sd") == 0 ? "voice_status_callback_url"
	                                                     : "status_callback");
	c->sc_method = json_strdup(app, strcmp(kind, "sd") == 0 ? "voice_status_callback_method"
	                                                        : "status_callback_method");
	c->a_sdp = json_strdup(sip, "sdp");
	c->sip_leg = strcmp(kind, "sd") == 0;
	c->start_ms = now_ms();
	eng_sip_params(&c->params, c->sid, sip, kind, app, e164);
	char now[32], score[32];
	int64_t t = now_ms();
	snprintf(now, sizeof now, "%lld", (long long)t);
	snprintf(score, sizeof score, "%lld", (long long)t);
	const char *app_sid = json_string_value(json_object_get(app, "sid"));
	const char *to = form_get(&c->params, "To");
	const char *from = form_get(&c->params, "From");
	const char *sipcid = form_get(&c->params, "SipCallId");
	char k1[64], k2[64], k3[96];
	snprintf(k1, sizeof k1, "fc:live:%s", c->sid);
	snprintf(k2, sizeof k2, "fc:call:%s", c->sid);
	snprintf(k3, sizeof k3, "fc:calls:%s", eng_cfg->account_sid);
	const char *argv[64];
	int n = 0;
	argv[n++] = "EVAL";
	argv[n++] = LUA_START;
	argv[n++] = "3";
	argv[n++] = k1;
	argv[n++] = k2;
	argv[n++] = k3;
	argv[n++] = "6"; /* live pairs */
	argv[n++] = "state";
	argv[n++] = "ringing";
	argv[n++] = "owner";
	argv[n++] = eng_cfg->instance;
	argv[n++] = "proxy";
	argv[n++] = c->proxy;
	argv[n++] = "app_kind";
	argv[n++] = kind;
	argv[n++] = "app_sid";
	argv[n++] = app_sid ? app_sid : "";
	argv[n++] = "voice_url";
	argv[n++] = c->voice_url ? c->voice_url : "";
	int mpos = n++;
	int m0 = n;
	argv[n++] = "sid";
	argv[n++] = c->sid;
	argv[n++] = "account_sid";
	argv[n++] = eng_cfg->account_sid;
	argv[n++] = "to";
	argv[n++] = to ? to : "";
	argv[n++] = "from";
	argv[n++] = from ? from : "";
	argv[n++] = "to_formatted";
	argv[n++] = to ? to : "";
	argv[n++] = "from_formatted";
	argv[n++] = from ? from : "";
	argv[n++] = "status";
	argv[n++] = "ringing";
	argv[n++] = "direction";
	argv[n++] = "inbound";
	argv[n++] = "api_version";
	argv[n++] = "2010-04-01";
	argv[n++] = "date_created";
	argv[n++] = now;
	argv[n++] = "date_updated";
	argv[n++] = now;
	argv[n++] = "start_time";
	argv[n++] = now;
	argv[n++] = "sip_call_id";
	argv[n++] = sipcid ? sipcid : "";
	argv[n++] = "proxy";
	argv[n++] = c->proxy;
	if (strcmp(kind, "pn") == 0 && app_sid) {
		argv[n++] = "phone_number_sid";
		argv[n++] = app_sid;
	}
	const char *cn = form_get(&c->params, "CallerName");
	if (cn) {
		argv[n++] = "caller_name";
		argv[n++] = cn;
	}
	char mcount[8];
	snprintf(mcount, sizeof mcount, "%d", (n - m0) / 2);
	argv[mpos] = mcount;
	argv[n++] = score;
	argv[n++] = c->sid;
	start_ctx *s = malloc(sizeof *s);
	if (!s)
		return;
	s->c = c;
	s->ev = json_incref(ev);
	call_ref(c);
	if (rbus_cmdargv(start_cb, s, n, argv, NULL) < 0) {
		json_decref(ev);
		free(s);
		call_unref(c);
	}
}

typedef struct route_ctx {
	call *c;
	json_t *ev;
	char e164[32];
} route_ctx;

static void route_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	redisReply *reply = r;
	route_ctx *x = priv;
	call *c = x->c;
	if (!reply && !c->dead)
		call_kill(c); /* connection lost: not acked, the event is claimed again */
	if (!reply || c->dead)
		goto out;
	json_t *sip = json_object_get(x->ev, "sip");
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
		json_t *app = json_loads(reply->element[1]->str, 0, NULL);
		if (app) {
			start_call(c, x->ev, sip, reply->element[0]->str, app, x->e164);
			json_decref(app);
			goto out;
		}
	}
	if (reply->type == REDIS_REPLY_ERROR)
		LOGE("route lookup: %s", reply->str);
	LOGI("call %s: no number or domain matches %s@%s", c->sid,
	     json_string_value(json_object_get(sip, "ruri_user")),
	     json_string_value(json_object_get(sip, "ruri_host")));
	send_reply(c, 404, "Not Found", NULL, NULL, NULL);
	ack_incoming(c);
	call_kill(c);
out:
	json_decref(x->ev);
	free(x);
	call_unref(c);
}

static void on_incoming(const char *id, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	const char *proxy = json_string_value(json_object_get(ev, "proxy"));
	json_t *sip = json_object_get(ev, "sip");
	if (!sid || !sid_valid(sid, "CA") || !proxy || !json_is_object(sip)) {
		LOGW("event %s: malformed call.incoming", id);
		rbus_ack(id);
		return;
	}
	call *c = call_find(sid);
	if (c) { /* delivered again to us (claimed back): keep working on it */
		snprintf(c->event_id, sizeof c->event_id, "%s", id);
		return;
	}
	c = call_new(eng_loop, sid);
	if (!c)
		return;         /* stays pending, claimed again later */
	c->start_ms = now_ms(); /* proxywatch.c compares it with a restarted proxy's start */
	snprintf(c->proxy, sizeof c->proxy, "%s", proxy);
	snprintf(c->event_id, sizeof c->event_id, "%s", id);
	route_ctx *x = calloc(1, sizeof *x);
	if (!x) {
		call_kill(c);
		return;
	}
	const char *user = json_string_value(json_object_get(sip, "ruri_user"));
	const char *host = json_string_value(json_object_get(sip, "ruri_host"));
	if (!user || e164_normalize(user, x->e164, sizeof x->e164) < 0)
		x->e164[0] = 0;
	char lhost[256];
	size_t i;
	for (i = 0; host && host[i] && i < sizeof lhost - 1; i++)
		lhost[i] = (char)tolower((unsigned char)host[i]);
	lhost[i] = 0;
	x->c = c;
	x->ev = json_incref(ev);
	call_ref(c);
	const char *argv[] = {"EVAL", LUA_ROUTE, "0", eng_cfg->account_sid, x->e164, lhost};
	if (rbus_cmdargv(route_cb, x, 6, argv, NULL) < 0) {
		json_decref(ev);
		free(x);
		call_unref(c);
		call_kill(c); /* not acked: another attempt comes with the claim */
	}
}

/* ---- call.ended ----------------------------------------------------------- */

static void ended_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	char *id = priv;
	if (r)
		rbus_ack(id);
	free(id);
}

const char *eng_refused_status(int code)
{
	if (code == 486 || code == 600)
		return "busy";
	if (code == 408 || code == 480 || code == 487 || code == 603)
		return "no-answer";
	return "failed";
}

/* The final status of a leg from its call.ended (bus-protocol.md §4, §8). */
static const char *ended_status(json_t *ev, int answered, int *force)
{
	const char *reason = json_string_value(json_object_get(ev, "reason"));
	int code = (int)json_integer_value(json_object_get(ev, "code"));
	*force = 1;
	if (!reason)
		return "failed";
	if (!strcmp(reason, "canceled"))
		return "canceled";
	if (!strcmp(reason, "timeout"))
		return "no-answer";
	if (!strcmp(reason, "bye") || !strcmp(reason, "hangup"))
		return answered || code == 200 ? "completed" : "canceled";
	if (!strcmp(reason, "rejected"))
		return eng_refused_status(code);
	if (!strcmp(reason, "replied"))
		*force = 0; /* the instance that replied set the status */
	return "failed";
}

static void finish_record(const char *id, const char *root, const char *sid, const char *status,
                          int force)
{
	char k1[64], k2[64], now[32], ret[16];
	snprintf(k1, sizeof k1, "fc:live:%s", root);
	snprintf(k2, sizeof k2, "fc:call:%s", sid);
	snprintf(now, sizeof now, "%lld", (long long)now_ms());
	snprintf(ret, sizeof ret, "%d", eng_cfg->call_retention_s);
	const char *argv[] = {"EVAL", LUA_FINISH, "2", k1, k2, status, now, ret, force ? "1" : "0"};
	char *idc = strdup(id);
	if (!idc || rbus_cmdargv(ended_cb, idc, 9, argv, NULL) < 0)
		free(idc);
}

/* The caller's leg ended (CANCEL, BYE, timeout) while this instance runs it. */
static void on_root_ended(const char *id, call *c, json_t *ev)
{
	int force;
	const char *status = ended_status(ev, c->answered, &force);
	ack_incoming(c);
	c->bridged[0] = 0;
	if (!c->sc_fired && force)
		root_cleanup(c, status);
	call_kill(c);
	finish_record(id, c->sid, c->leg, status, force);
}

/* A command for a leg of a call nobody runs any more. */
static void raw_cmd(const char *proxy, const char *sid, json_t *cmd)
{
	char id[96];
	snprintf(id, sizeof id, "%s:x%lld", sid, (long long)now_ms());
	send_cmd(proxy, id, sid, NULL, cmd);
}

typedef struct orphan_ctx {
	char id[64];
	char root[40];
	json_t *ev;
} orphan_ctx;

static void teardown_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	redisReply *reply = r;
	orphan_ctx *o = priv;
	/* HGETALL of fc:live:{root}: hang up every leg still listed, and the
	 * caller unless the event says it is gone. */
	const char *sid = json_string_value(json_object_get(o->ev, "call_sid"));
	const char *type = json_string_value(json_object_get(o->ev, "type"));
	int root_gone = sid && !strcmp(sid, o->root) && type && !strcmp(type, "call.ended");
	const char *root_proxy = NULL, *leg = o->root;
	for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements;
	     i += 2) {
		const char *k = reply->element[i]->str, *v = reply->element[i + 1]->str;
		if (!strncmp(k, "leg:", 4) && (!sid || strcmp(k + 4, sid)))
			raw_cmd(v, k + 4, json_pack("{s:s}", "op", "hangup"));
		else if (!strcmp(k, "proxy"))
			root_proxy = v;
		else if (!strcmp(k, "principal"))
			leg = v; /* a transfer handed the call to another leg (principal.c) */
	}
	if (!root_gone && root_proxy)
		raw_cmd(root_proxy, o->root, json_pack("{s:s,s:i}", "op", "hangup", "code", 500));
	media_delete(o->root);
	int force;
	const char *status = ended_status(o->ev, 1, &force);
	int leg_gone = sid && !strcmp(sid, leg) && type && !strcmp(type, "call.ended");
	if (strcmp(leg, o->root))
		eng_close_record(o->root, root_gone ? status : "completed", "");
	finish_record(o->id, o->root, leg, leg_gone ? status : "failed", 1);
	json_decref(o->ev);
	free(o);
}

static void close_leg_record(const char *id, const char *sid, json_t *ev)
{
	int force;
	eng_close_record(sid, ended_status(ev, 0, &force), id);
}

void eng_close_record(const char *sid, const char *st, const char *id)
{
	char k[64], now[32], ret[16];
	snprintf(k, sizeof k, "fc:call:%s", sid);
	snprintf(now, sizeof now, "%lld", (long long)now_ms());
	snprintf(ret, sizeof ret, "%d", eng_cfg->call_retention_s);
	const char *argv[] = {"EVAL", LUA_CLOSE, "1", k, st, now, ret};
	char *idc = strdup(id ? id : "");
	if (!idc || rbus_cmdargv(ended_cb, idc, 7, argv, NULL) < 0)
		free(idc);
}

/* Replies to what a leg of a finished call still asks for. */
static void answer_leftover(const char *type, const char *sid, const char *proxy, json_t *ev)
{
	if (!strcmp(type, "call.answered")) {
		raw_cmd(proxy, sid, json_pack("{s:s}", "op", "hangup"));
	} else if (!strcmp(type, "call.replaces")) {
		raw_cmd(proxy, sid,
		        json_pack("{s:s,s:i,s:s}", "op", "reply", "code", 481, "reason",
		                  "Call/Transaction Does Not Exist"));
	} else if (!strcmp(type, "dialog.request")) {
		const char *txn = json_string_value(json_object_get(ev, "txn"));
		if (txn)
			raw_cmd(proxy, sid,
			        json_pack("{s:s,s:i,s:s}", "op", "reply", "code", 481, "txn", txn));
	}
}

/* An event of a call that is not live any more (finished by someone). */
static void closed_event(const char *id, const char *root, const char *type, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	const char *proxy = json_string_value(json_object_get(ev, "proxy"));
	answer_leftover(type, sid, proxy, ev);
	if (!strcmp(type, "call.ended")) {
		if (strcmp(sid, root) != 0) {
			close_leg_record(id, sid, ev);
		} else {
			int force;
			const char *status = ended_status(ev, 1, &force);
			/* Only a CANCEL/timeout that raced our own ending corrects it. */
			finish_record(
			    id, root, root, status,
			    force && (!strcmp(status, "canceled") || !strcmp(status, "no-answer")));
		}
		return;
	}
	rbus_ack(id);
}

/* An event of a live call whose owner is gone: this instance took it over
 * and ends it in order (bus-protocol.md §9). */
static void orphan_event(const char *id, const char *root, const char *type, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	const char *proxy = json_string_value(json_object_get(ev, "proxy"));
	LOGI("call %s: taking over from a dead instance; ending it", root);
	answer_leftover(type, sid, proxy, ev);
	if (!strcmp(type, "call.ended") && strcmp(sid, root) != 0)
		close_leg_record("", sid, ev);
	orphan_ctx *o = calloc(1, sizeof *o);
	if (!o)
		return;
	snprintf(o->id, sizeof o->id, "%s", id);
	snprintf(o->root, sizeof o->root, "%s", root);
	o->ev = json_incref(ev);
	char key[64];
	snprintf(key, sizeof key, "fc:live:%s", root);
	if (rbus_cmd(teardown_cb, o, "HGETALL %s", key) < 0) {
		json_decref(o->ev);
		free(o);
	}
}

typedef struct route_ev_ctx {
	char id[64];
	char root[40];
	char type[32];
	json_t *ev;
	char *json;
	size_t len;
} route_ev_ctx;

static void dispatch(const char *id, const char *root, const char *type, json_t *ev);

/* This instance now owns root, whose owner died: go on with the call when
 * resume.c could rebuild it, else end it in order. */
static void after_take(const char *id, const char *root, const char *type, json_t *ev, call *c)
{
	if (c)
		dispatch(id, root, type, ev);
	else
		orphan_event(id, root, type, ev);
}

void eng_take_over(const char *root)
{
	json_t *ev =
	    json_pack("{s:s,s:s,s:s}", "type", "call.takeover", "call_sid", root, "root", root);
	if (!ev || call_find(root)) {
		json_decref(ev);
		return;
	}
	LOGI("call %s: its owner is gone and no event came: taking it over", root);
	resume_take("", root, "call.takeover", ev, after_take);
	json_decref(ev);
}

static void owner_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	redisReply *reply = r;
	route_ev_ctx *x = priv;
	if (!reply) {
		/* Redis went away: the event stays pending and comes back. */
	} else if (reply->type == REDIS_REPLY_STRING && reply->len > 0) {
		rbus_forward(reply->str, x->json, x->len);
		rbus_ack(x->id);
	} else if (call_find(x->root)) {
		dispatch(x->id, x->root, x->type, x->ev); /* started meanwhile */
	} else if (reply->type == REDIS_REPLY_STRING) {
		resume_take(x->id, x->root, x->type, x->ev, after_take);
	} else {
		closed_event(x->id, x->root, x->type, x->ev);
	}
	json_decref(x->ev);
	free(x->json);
	free(x);
}

static void dispatch(const char *id, const char *root, const char *type, json_t *ev)
{
	call *c = call_find(root);
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	if (!c || !sid)
		return closed_event(id, root, type, ev);
	call_ref(c);
	if (!strcmp(type, "api.update")) {
		update_on_event(c, ev);
	} else if (!strcmp(sid, c->leg)) {
		if (c->out && outbound_leg_event(c, type, ev)) {
			call_unref(c);
			rbus_ack(id);
			return;
		}
		if (!strcmp(type, "call.ended")) {
			on_root_ended(id, c, ev);
			call_unref(c);
			return;
		}
		if (!strncmp(type, "dialog.", 7))
			relay_on_event(c, type, ev);
	} else if (!strcmp(type, "call.replaces")) {
		replace_on_invite(c, ev);
	} else if (principal_is_former(c, sid) && !strcmp(type, "call.ended")) {
		principal_former_ended(c, id);
		call_unref(c);
		return;
	} else if (!strncmp(type, "dialog.", 7)) {
		relay_on_event(c, type, ev);
	} else if (!replace_leg_event(c, type, ev)) {
		dial_on_leg_event(c, type, ev);
	}
	if (!c->dead)
		resume_save(c);
	call_unref(c);
	rbus_ack(id);
}

/* ---- dispatch ------------------------------------------------------------- */

static void route(const char *id, const char *root, const char *type, json_t *ev, const char *json,
                  size_t len);

static void on_event(const char *id, const char *json, size_t len)
{
	json_error_t err;
	json_t *ev = json_loadb(json, len, 0, &err);
	const char *type = ev ? json_string_value(json_object_get(ev, "type")) : NULL;
	const char *sid = ev ? json_string_value(json_object_get(ev, "call_sid")) : NULL;
	const char *root = ev ? json_string_value(json_object_get(ev, "root")) : NULL;
	if (!root)
		root = sid;
	if (!type) {
		LOGW("event %s: unreadable (%s); dropped", id, ev ? "no type" : err.text);
		rbus_ack(id);
	} else if (!strcmp(type, "call.incoming")) {
		on_incoming(id, ev);
	} else if (!strcmp(type, "api.create")) {
		outbound_on_create(id, ev);
	} else if (!strcmp(type, "cmd.failed") || !sid || !sid_valid(root, "CA")) {
		if (!strcmp(type, "cmd.failed"))
			LOGI("proxy %s: command %s for %s failed: %s",
			     json_string_value(json_object_get(ev, "proxy")),
			     json_string_value(json_object_get(ev, "cmd_id")),
			     json_string_value(json_object_get(ev, "call_sid")),
			     json_string_value(json_object_get(ev, "error")));
		else
			LOGW("event %s: %s without a valid call_sid; dropped", id, type);
		rbus_ack(id);
	} else {
		route(id, root, type, ev, json, len);
	}
	json_decref(ev);
}

void eng_route(const char *id, const char *root, const char *type, json_t *ev)
{
	route(id, root, type, ev, NULL, 0);
}

/* json/len: the event as read (forwarded as is), or NULL to serialise ev. */
static void route(const char *id, const char *root, const char *type, json_t *ev, const char *json,
                  size_t len)
{
	if (call_find(root) || !*id) {
		/* Ours (or forwarded to us): handle it here. */
		dispatch(id, root, type, ev);
		return;
	}
	route_ev_ctx *x = calloc(1, sizeof *x);
	char key[64];
	snprintf(key, sizeof key, "fc:live:%s", root);
	if (x && json && (x->json = malloc(len + 1))) {
		memcpy(x->json, json, len);
		x->json[len] = 0;
		x->len = len;
	} else if (x && (x->json = json_dumps(ev, JSON_COMPACT))) {
		x->len = strlen(x->json);
	}
	if (x && x->json) {
		snprintf(x->id, sizeof x->id, "%s", id);
		snprintf(x->root, sizeof x->root, "%s", root);
		snprintf(x->type, sizeof x->type, "%s", type);
		x->ev = json_incref(ev);
		const char *argv[] = {"EVAL", LUA_OWNER, "1", key, eng_cfg->instance};
		if (rbus_cmdargv(owner_cb, x, 5, argv, NULL) < 0) {
			json_decref(x->ev);
			free(x->json);
			free(x);
		}
	} else {
		free(x);
	}
}

static void touch_call(call *c)
{
	if (c->event_id[0])
		rbus_touch(c->event_id);
}

static void on_tick(void)
{
	call_foreach(touch_call);
	proxywatch_tick();
	sweep_tick();
	outbox_tick();
}

void eng_proxy_lost(call *c)
{
	if (c->dead || c->ending)
		return;
	const char *status = c->answered ? "completed" : "failed";
	LOGW("call %s: its proxy %s is gone; the call ends %s", c->sid, c->proxy, status);
	ack_incoming(c);
	c->bridged[0] = 0;
	root_cleanup(c, status);
	call_kill(c);
	finish_record("", c->sid, c->leg, status, 1);
}

int engine_start(uv_loop_t *l, const fc_config *c)
{
	eng_loop = l;
	eng_cfg = c;
	eng_wh = webhook_client_new(eng_loop);
	if (!eng_wh || media_init(eng_loop, eng_cfg->rtpengine_ng) < 0)
		return -1;
	callbacks_init(eng_wh, eng_cfg->auth_token);
	return rbus_start(eng_loop, eng_cfg, on_event, on_tick);
}

void engine_stop(void)
{
	rbus_stop();
	media_shutdown();
	callbacks_shutdown();
	webhook_client_free(eng_wh);
	eng_wh = NULL;
}
