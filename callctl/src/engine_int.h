/* engine_int.h — what the engine's parts share (engine.c: events, TwiML
 * fetch and verbs; dial.c: <Dial>; relay.c: in-dialog relays). Not a public
 * interface: everything runs on the engine's loop thread. */
#ifndef FC_ENGINE_INT_H
#define FC_ENGINE_INT_H

#include <jansson.h>
#include <uv.h>

#include "call.h"
#include "config.h"
#include "form.h"
#include "webhook.h"

extern uv_loop_t *eng_loop;
extern const fc_config *eng_cfg;
extern webhook_client *eng_wh;

/* Fills v, id (from c's counter), call_sid and ts; sends cmd to proxy. cmd
 * is stolen. */
void eng_cmd(call *c, const char *proxy, const char *leg_sid, json_t *cmd);
/* Sends `reply` on the caller's INVITE (sdp may be NULL). */
void eng_reply(call *c, int code, const char *reason, const char *sdp);
/* Bookkeeping once the caller has been sent its 200 OK. */
void eng_answered(call *c);
/* Answers the caller (rtpengine with no peer, then 200 OK) unless answered;
 * then calls then(c, ok). */
void eng_answer(call *c, void (*then)(call *c, int ok));
/* Fetches url and runs the returned TwiML on the caller; extra (may be
 * NULL) is added to the call's parameters for this request only. */
void eng_fetch(call *c, const char *url, const char *method, const form *extra);
/* Continues the current document at c->pc. */
void eng_run(call *c);
/* Ends the caller's call: BYE when answered, else final response code. */
void eng_end_call(call *c, int code, const char *reason, const char *status);
/* The CallStatus of a leg whose INVITE got final response code (≥ 300):
 * busy, no-answer or failed. */
const char *eng_refused_status(int code);
/* Records a Notification for the call. */
void eng_record_error(call *c, int code, const char *detail, const char *url);
/* HSET fc:call:{sid} with n name/value pairs. */
void eng_store(const char *sid, int n, const char **pairs);
/* Fire-and-forget status callback; params copied. */
void eng_status_callback(const char *url, const char *method, const form *params);
/* Adds/updates "leg:{sid}" = proxy in fc:live:{root} (proxy NULL: removes). */
void eng_live_leg(const char *root, const char *sid, const char *proxy);

/* dial.c */
struct twiml_dial;
void dial_start(call *c, const struct twiml_dial *d);
/* call.progress / call.answered / call.ended of a leg of c's Dial. */
void dial_on_leg_event(call *c, const char *type, json_t *ev);
/* The caller is gone (BYE/CANCEL): hang up every leg, report. */
void dial_caller_gone(call *c);
/* Frees c->dial (when the call dies). */
void dial_free(call *c);

/* relay.c: dialog.request / dialog.response for c's legs. */
void relay_on_event(call *c, const char *type, json_t *ev);

#endif
