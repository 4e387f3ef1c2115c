/* principal.c — which leg of a call tree the TwiML runs on. It is the root
 * leg (the caller) until a REFER from the calling side of a <Dial> bridge
 * hands the call to the dialled leg (the transferee, twilio-voice.md §3):
 * then the dialled leg becomes the principal — its parameters, SDPs,
 * rtpengine tag and StatusCallback — and the caller, now the bridged leg,
 * is kept as the former principal (c->was) until its leg ends, when its
 * record is closed and its StatusCallback fires. With answerOnBridge the
 * swap is undone when the transfer fails. The tree keeps its root CallSid
 * (fc:live key, rtpengine call-id). Runs on the engine's loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "rbus.h"
#include "timefmt.h"

void principal_free(call *c)
{
	party *w = c->was;
	if (!w)
		return;
	form_free(&w->params);
	free(w->sc_url);
	free(w->sc_method);
	free(w);
	c->was = NULL;
}

void principal_report_end(const party *p, int answered, const char *status)
{
	int64_t t = now_ms();
	char dur[24];
	int64_t secs = answered && p->answer_ms ? (t - p->answer_ms + 500) / 1000 : 0;
	snprintf(dur, sizeof dur, "%lld", (long long)secs);
	const char *pairs[] = {"duration", dur};
	eng_store(p->sid, (int)(sizeof pairs / sizeof pairs[0] / 2), pairs);
	if (!p->sc_url || !*p->sc_url)
		return;
	form f;
	form_init(&f);
	form_append(&f, &p->params);
	eng_callback_fields(&f, status, p->sc_seq, p->sip_code, secs);
	eng_status_callback(p->sc_url, p->sc_method, &f);
	form_free(&f);
}

/* Moves the principal's identity out of c into p (and back). */
static void take(call *c, party *p)
{
	snprintf(p->sid, sizeof p->sid, "%s", c->leg);
	p->params = c->params;
	form_init(&c->params);
	p->sc_url = c->sc_url;
	p->sc_method = c->sc_method;
	p->sc_seq = c->sc_seq;
	p->answer_ms = c->answer_ms;
	p->sip = c->sip_leg;
	c->sc_url = c->sc_method = NULL;
}

static void give(call *c, party *p)
{
	snprintf(c->leg, sizeof c->leg, "%s", p->sid);
	form_free(&c->params);
	c->params = p->params;
	form_init(&p->params);
	free(c->sc_url);
	free(c->sc_method);
	c->sc_url = p->sc_url;
	c->sc_method = p->sc_method;
	c->sc_seq = p->sc_seq;
	c->answer_ms = p->answer_ms;
	c->sip_leg = p->sip;
	p->sc_url = p->sc_method = NULL;
}

/* The principal and the bridged leg trade their media state. */
static void swap_media(call *c)
{
	char tag[64];
	snprintf(tag, sizeof tag, "%s", c->btag[0] ? c->btag : c->bridged);
	snprintf(c->btag, sizeof c->btag, "%s", c->mtag);
	snprintf(c->mtag, sizeof c->mtag, "%s", tag);
	char *s = c->a_sdp;
	c->a_sdp = c->b_sdp;
	c->b_sdp = s;
	s = c->our_sdp;
	c->our_sdp = c->b_our_sdp;
	c->b_our_sdp = s;
}

/* Takeover needs to know which record the call's end closes (engine.c
 * teardown_cb). */
static void note_principal(call *c)
{
	char key[64];
	snprintf(key, sizeof key, "fc:live:%s", c->sid);
	rbus_cmd(NULL, NULL, "HSET %s principal %s", key, c->leg);
}

int principal_swap_in(call *c)
{
	if (!c->bridged[0] || c->was)
		return -1;
	party *was = calloc(1, sizeof *was), in;
	if (!was)
		return -1;
	memset(&in, 0, sizeof in);
	if (dial_promote(c, c->bridged, &in) < 0) {
		free(was);
		return -1;
	}
	LOGI("call %s: %s is the principal leg now (was %s)", c->sid, c->bridged, c->leg);
	take(c, was);
	c->was = was;
	swap_media(c);
	char old[40];
	snprintf(old, sizeof old, "%s", c->leg);
	give(c, &in);
	snprintf(c->bridged, sizeof c->bridged, "%s", old);
	form_free(&in.params);
	note_principal(c);
	return 0;
}

int principal_replace(call *c, party *in, const char *tag)
{
	if (c->was)
		return -1;
	party *was = calloc(1, sizeof *was);
	if (!was)
		return -1;
	LOGI("call %s: %s replaces the principal leg %s", c->sid, in->sid, c->leg);
	take(c, was);
	was->hung_up = 1;
	c->was = was;
	give(c, in);
	snprintf(c->mtag, sizeof c->mtag, "%s", tag);
	note_principal(c);
	return 0;
}

void principal_swap_back(call *c)
{
	party *was = c->was;
	if (!was)
		return;
	LOGI("call %s: %s is the principal leg again", c->sid, was->sid);
	party out;
	memset(&out, 0, sizeof out);
	take(c, &out);
	swap_media(c);
	give(c, was);
	snprintf(c->bridged, sizeof c->bridged, "%s", out.sid);
	dial_demote(c, out.sid, out.sc_seq);
	note_principal(c);
	form_free(&out.params);
	free(out.sc_url);
	free(out.sc_method);
	principal_free(c);
}

int principal_is_former(call *c, const char *sid)
{
	return c->was && !strcmp(c->was->sid, sid);
}

/* Closes the former principal's record and fires its StatusCallback. */
static void report_former(call *c, const char *id, const char *status)
{
	party *w = c->was;
	principal_report_end(w, 1, status);
	eng_close_record(w->sid, status, id);
	if (!strcmp(c->bridged, w->sid)) {
		c->bridged[0] = 0;
		c->btag[0] = 0;
	}
	principal_free(c);
}

void principal_former_ended(call *c, const char *id)
{
	if (!c->was) {
		rbus_ack(id);
		return;
	}
	LOGI("call %s: former principal %s ended", c->sid, c->was->sid);
	transfer_leg_gone(c, c->was->sid);
	report_former(c, id, "completed");
}

void principal_former_gone(call *c)
{
	if (!c->was)
		return;
	if (!c->was->hung_up)
		eng_cmd(c, c->proxy, c->was->sid, json_pack("{s:s}", "op", "hangup"));
	report_former(c, NULL, "completed");
}
