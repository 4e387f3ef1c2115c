/* replace.c — an INVITE with Replaces (RFC 3891) naming the principal leg
 * of a call bridged by <Dial> (bus-protocol.md §11): the new leg takes the
 * principal's place in the bridge. It is answered with rtpengine's answer to
 * its offer on the bridged leg's side, becomes the principal (its own
 * CallSid, record and parameters: what follows in the TwiML runs on it),
 * the replaced leg gets BYE, and the bridged leg is re-INVITEd only when
 * its media address changed. This is how Fulcrum completes an attended
 * transfer between two calls it holds: the referUrl answers
 * <Dial><Sip>{ReferTransferTarget}</Sip></Dial>, and the INVITE with
 * Replaces reaches Fulcrum itself (README "Transfers"). Runs on the
 * engine's loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "media.h"
#include "timefmt.h"

typedef struct replacing {
	call *c;
	char sid[40];      /* the new leg */
	char replaced[40]; /* the principal it replaces */
	char bridged[40];  /* the principal's peer */
	char *sdp;         /* the new leg's offer */
	char *to_bridged;  /* rtpengine's offer towards the bridged leg */
	json_t *sip;
	int gone; /* the new leg ended before its answer */
} replacing;

static void ctx_free(replacing *x)
{
	if (!x)
		return;
	free(x->sdp);
	free(x->to_bridged);
	json_decref(x->sip);
	free(x);
}

void replace_free(call *c)
{
	if (c->rep) {
		c->rep->c = NULL;
		c->rep = NULL; /* the rtpengine callback frees it */
	}
}

static void refuse(call *c, const char *sid, int code, const char *reason)
{
	LOGI("call %s: INVITE with Replaces on %s refused: %d %s", c->sid, sid, code, reason);
	eng_cmd(c, c->proxy, sid,
	        json_pack("{s:s,s:i,s:s}", "op", "reply", "code", code, "reason", reason));
}

/* The new leg's record (store.md): an inbound call, in progress. */
static void record(call *c, replacing *x, const form *p)
{
	const char *to = form_get(p, "To"), *from = form_get(p, "From");
	eng_record_leg(x->sid, NULL, "inbound", "in-progress", to ? to : "", from ? from : "",
	               form_get(p, "SipCallId"), c->proxy, now_ms());
	eng_live_leg(c->sid, x->sid, c->proxy);
}

static void rebridged(const char *sdp, const char *err, void *ud)
{
	call *c = ud;
	if (!sdp)
		LOGW("call %s: cannot restore the bridge: %s", c->sid, err);
	call_unref(c);
}

/* The principal offered to the bridged leg again (its last SDPs stand for
 * both sides: nothing changed for either). */
static void reoffered(const char *sdp, const char *err, void *ud)
{
	call *c = ud;
	if (sdp && !c->dead && c->bridged[0] &&
	    media_answer(c->sid, c->mtag, eng_tag(c, c->bridged), c->b_sdp, rebridged, c) == 0)
		return;
	rebridged(NULL, sdp ? "cannot answer" : err, c);
}

/* rtpengine's answer for the new leg: answer it and hand the call over. */
static void answered(const char *sdp, const char *err, void *ud)
{
	replacing *x = ud;
	call *c = x->c;
	if (!c) {
		ctx_free(x);
		return;
	}
	c->rep = NULL;
	int same = !c->dead && !c->ending && !strcmp(c->leg, x->replaced) &&
	           !strcmp(c->bridged, x->bridged);
	if (!sdp || !same || x->gone) {
		if (!sdp)
			LOGW("call %s: rtpengine answer for %s: %s", c->sid, x->sid, err);
		if (!x->gone)
			refuse(c, x->sid, sdp ? 481 : 500,
			       sdp ? "Call/Transaction Does Not Exist" : "Server Internal Error");
		/* The bridged leg's side was offered to the new leg: give it
		 * back to the principal if the bridge still stands. */
		if (same) {
			call_ref(c);
			if (media_offer(c->sid, c->mtag, eng_tag(c, c->bridged), c->a_sdp,
			                reoffered, c) < 0)
				call_unref(c);
		}
		call_unref(c);
		ctx_free(x);
		return;
	}
	party in;
	memset(&in, 0, sizeof in);
	snprintf(in.sid, sizeof in.sid, "%s", x->sid);
	form_init(&in.params);
	eng_sip_params(&in.params, x->sid, x->sip, "sip", NULL, NULL);
	form_set(&in.params, "CallStatus", "in-progress");
	in.answer_ms = now_ms();
	in.sip = 1;
	if (principal_replace(c, &in, x->sid) < 0) {
		form_free(&in.params);
		refuse(c, x->sid, 491, "Request Pending");
		call_unref(c);
		ctx_free(x);
		return;
	}
	form_free(&in.params);
	eng_cmd(
	    c, c->proxy, x->sid,
	    json_pack("{s:s,s:i,s:s,s:s}", "op", "reply", "code", 200, "reason", "OK", "sdp", sdp));
	record(c, x, &c->params);
	eng_cmd(c, c->proxy, x->replaced, json_pack("{s:s}", "op", "hangup"));
	free(c->a_sdp);
	c->a_sdp = x->sdp;
	x->sdp = NULL;
	free(c->our_sdp);
	c->our_sdp = strdup(sdp);
	eng_offer_if_moved(c, c->bridged, &c->b_our_sdp, x->to_bridged);
	call_unref(c);
	ctx_free(x);
}

/* rtpengine's offer for the bridged leg: its last SDP stands for the
 * answer (a re-INVITE follows only if its side moved). */
static void offered(const char *sdp, const char *err, void *ud)
{
	replacing *x = ud;
	call *c = x->c;
	if (c && sdp && !c->dead && (x->to_bridged = strdup(sdp)) &&
	    media_answer(c->sid, x->sid, eng_tag(c, x->bridged), c->b_sdp, answered, x) == 0)
		return;
	if (!sdp)
		LOGW("call %s: rtpengine offer for %s: %s", c ? c->sid : "-", x->sid, err);
	answered(NULL, sdp ? "cannot answer" : err, x);
}

void replace_on_invite(call *c, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	const char *replaced = json_string_value(json_object_get(ev, "replaces"));
	json_t *sip = json_object_get(ev, "sip");
	const char *sdp = json_string_value(json_object_get(sip, "sdp"));
	if (!sid || !replaced || !json_is_object(sip))
		return;
	if (c->ending || c->dead || (strcmp(replaced, c->leg) && strcmp(replaced, c->bridged)))
		return refuse(c, sid, 481, "Call/Transaction Does Not Exist");
	if (strcmp(replaced, c->leg))
		return refuse(c, sid, 603,
		              "Only the calling side of a Dial bridge can be replaced");
	if (!c->bridged[0] || !c->b_sdp)
		return refuse(c, sid, 603, "The replaced call is not bridged");
	if (c->rep || c->xfer || c->refer || c->was)
		return refuse(c, sid, 491, "Request Pending");
	if (!sdp)
		return refuse(c, sid, 488, "Not Acceptable Here (no SDP offer)");
	replacing *x = calloc(1, sizeof *x);
	if (!x || !(x->sdp = strdup(sdp))) {
		ctx_free(x);
		return refuse(c, sid, 500, "Server Internal Error");
	}
	x->c = c;
	snprintf(x->sid, sizeof x->sid, "%s", sid);
	snprintf(x->replaced, sizeof x->replaced, "%s", replaced);
	snprintf(x->bridged, sizeof x->bridged, "%s", c->bridged);
	x->sip = json_incref(sip);
	LOGI("call %s: %s replaces %s", c->sid, sid, replaced);
	c->rep = x;
	call_ref(c);
	if (media_offer(c->sid, x->sid, eng_tag(c, x->bridged), sdp, offered, x) < 0)
		offered(NULL, "cannot send the offer", x);
}

int replace_leg_event(call *c, const char *type, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	if (!c->rep || !sid || strcmp(sid, c->rep->sid))
		return 0;
	if (!strcmp(type, "call.ended"))
		c->rep->gone = 1;
	return 1;
}
