/* refer.c — the <Refer> verb (twilio-voice.md §2.15): a REFER sent to the
 * caller with the <Sip> URI (headers kept in it) as Refer-To, then a wait
 * for the final NOTIFY of its implicit subscription, a timeout
 * (FULCRUM_REFER_TIMEOUT) or the caller's hangup; then the action URL with
 * ReferCallStatus, ReferSipResponseCode and NotifySipResponseCode, or the
 * next verb. Only a SIP leg may be referred (13801 otherwise: a call to a
 * phone number came from the PSTN, a <Number> leg goes to it). Runs on the
 * engine's loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "twiml.h"
#include "url.h"

enum { R_NOTIFY = 0, R_TIMEOUT, R_GONE, R_REFUSED };

typedef struct refer {
	char *target, *action, *method;
	int refer_code;  /* final response to the REFER, 0 before */
	int notify_code; /* status code of the last sipfrag, 0 before */
} refer;

void refer_free(call *c)
{
	refer *r = c->refer;
	if (!r)
		return;
	free(r->target);
	free(r->action);
	free(r->method);
	free(r);
	c->refer = NULL;
}

static const char *call_status(const refer *r, int why)
{
	if (r->refer_code >= 300 || why == R_REFUSED)
		return "failed";
	if (why == R_GONE)
		return "canceled";
	if (r->notify_code >= 200 && r->notify_code < 300)
		return "in-progress";
	if (r->notify_code >= 300)
		return eng_refused_status(r->notify_code);
	if (r->notify_code > 0)
		return "no-answer"; /* only progress was reported */
	return NULL;                /* no NOTIFY: Twilio omits the parameter */
}

/* The outcome is known: the action (or the next verb) takes over. */
static void done(call *c, int why)
{
	refer *r = c->refer;
	call_stop_timer(c);
	form extra;
	form_init(&extra);
	char code[16];
	const char *st = call_status(r, why);
	if (st)
		form_add(&extra, "ReferCallStatus", st);
	if (r->refer_code) {
		snprintf(code, sizeof code, "%d", r->refer_code);
		form_add(&extra, "ReferSipResponseCode", code);
	}
	if (r->notify_code) {
		snprintf(code, sizeof code, "%d", r->notify_code);
		form_add(&extra, "NotifySipResponseCode", code);
	}
	LOGI("call %s: Refer ended: %s (REFER %d, NOTIFY %d)", c->sid, st ? st : "-", r->refer_code,
	     r->notify_code);
	char *action = r->action ? url_resolve(c->doc_url, r->action) : NULL;
	char method[8];
	snprintf(method, sizeof method, "%s", r->method);
	int had_action = r->action != NULL;
	refer_free(c);
	if (why == R_GONE) {
		if (action)
			eng_report_action(c, action, method, &extra);
	} else if (action) {
		eng_fetch(c, action, method, &extra);
	} else {
		if (had_action)
			eng_record_error(c, 11100, "invalid Refer action URL", c->doc_url);
		eng_run(c);
	}
	free(action);
	form_free(&extra);
}

static void on_timeout(uv_timer_t *t)
{
	call *c = t->data;
	c->timer_active = 0;
	if (!c->dead && c->refer)
		done(c, R_TIMEOUT);
	call_unref(c);
}

static void send_refer(call *c, int ok)
{
	refer *r = c->refer;
	if (!r || c->dead || c->ending)
		return;
	if (!ok) {
		refer_free(c); /* eng_answer recorded why */
		eng_fail(c, 12400, "cannot answer the call");
		return;
	}
	char to[1100];
	snprintf(to, sizeof to, "<%s>", r->target);
	eng_cmd(c, c->proxy, c->leg,
	        json_pack("{s:s,s:s,s:s,s:[[s,s]]}", "op", "request", "method", "REFER", "req_id",
	                  "fc-refer", "headers", "Refer-To", to));
	call_ref(c);
	c->timer_active = 1;
	uv_timer_start(&c->timer, on_timeout, (uint64_t)eng_cfg->refer_timeout_s * 1000, 0);
}

void refer_start(call *c, const twiml_refer *tr)
{
	if (!c->sip_leg) {
		/* A call to a phone number is a PSTN call (twilio-voice.md §2.15). */
		eng_record_error(c, 13801, "Refer: Refer is only supported on SIP calls",
		                 c->doc_url);
		eng_run(c);
		return;
	}
	refer *r = calloc(1, sizeof *r);
	if (!r || !tr->target || !(r->target = strdup(tr->target)) ||
	    !(r->method = strdup(tr->method == TWIML_GET ? "GET" : "POST")) ||
	    (tr->action && !(r->action = strdup(tr->action)))) {
		c->refer = r;
		refer_free(c);
		eng_record_error(c, 12400, "no memory for <Refer>", c->doc_url);
		eng_fail(c, 12400, "no memory for <Refer>");
		return;
	}
	refer_free(c);
	c->refer = r;
	eng_answer(c, send_refer);
}

void refer_on_event(call *c, const char *type, json_t *ev)
{
	refer *r = c->refer;
	if (!r || c->dead)
		return;
	if (!strcmp(type, "dialog.response")) {
		r->refer_code = (int)json_integer_value(json_object_get(ev, "code"));
		if (r->refer_code >= 300)
			done(c, R_REFUSED);
		return;
	}
	/* dialog.notify */
	int code = (int)json_integer_value(json_object_get(ev, "sipfrag_code"));
	const char *state = json_string_value(json_object_get(ev, "state"));
	if (code > 0)
		r->notify_code = code;
	if (!r->refer_code)
		r->refer_code = 202; /* a NOTIFY overtook the 202 */
	if (code >= 200 || (state && !strcmp(state, "terminated")))
		done(c, R_NOTIFY);
}

void refer_caller_gone(call *c)
{
	if (c->refer)
		done(c, R_GONE);
}
