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
/* HSET fc:call:{sid} status (and date_updated now). */
void eng_record_status(const char *sid, const char *status);
/* The fields every status callback carries besides the call's parameters
 * (twilio-voice.md §4): CallStatus, SequenceNumber, Timestamp,
 * CallbackSource, and SipResponseCode when sip_code is not 0, CallDuration
 * and Duration (minutes) when secs >= 0 (terminal events). */
void eng_callback_fields(form *f, const char *status, int seq, int sip_code, int64_t secs);
/* Fire-and-forget status callback; params copied. Those of one CallSid
 * leave one at a time, in order (callbacks.c). */
void eng_status_callback(const char *url, const char *method, const form *params);
/* A new call record fc:call:{sid} (store.md), listed in fc:calls; parent
 * and sip_call_id may be NULL; t is its start in ms. */
void eng_record_leg(const char *sid, const char *parent, const char *direction, const char *status,
                    const char *to, const char *from, const char *sip_call_id, const char *proxy,
                    int64_t t);
/* Closes fc:call:{sid} with status st unless closed already; acks event id
 * ("" or NULL: none) once Redis has it. */
void eng_close_record(const char *sid, const char *st, const char *id);
/* rtpengine gave leg the SDP sdp: re-INVITE it (req_id fc-bridge) when its
 * address differs from *ours, the SDP it has from us; *ours becomes sdp. */
void eng_offer_if_moved(call *c, const char *leg, char **ours, const char *sdp);
/* Adds/updates "leg:{sid}" = proxy in fc:live:{root} (proxy NULL: removes). */
void eng_live_leg(const char *root, const char *sid, const char *proxy);

/* dial.c */
struct twiml_dial;
void dial_start(call *c, const struct twiml_dial *d);
/* call.progress / call.answered / call.ended of a leg of c's Dial. */
void dial_on_leg_event(call *c, const char *type, json_t *ev);
/* The caller is gone (BYE/CANCEL): hang up every leg, report. */
void dial_caller_gone(call *c);
/* Ends the current Dial at once without its action (a REST redirect): its
 * legs are hung up and reported. */
void dial_abandon(call *c);
/* Frees c->dial (when the call dies). */
void dial_free(call *c);

/* Detaches c->dial into c->pdial (its legs keep reporting there; nothing it
 * does any more touches the call): the bridge stays until its leg is hung
 * up. A former c->pdial is freed. */
void dial_park(call *c);
/* Makes the parked Dial current again (the transfer failed): c->dial, a
 * finished Dial, is freed. */
void dial_unpark(call *c);
/* The referUrl/referMethod/answerOnBridge of the current Dial; 0 when there
 * is no Dial. */
int dial_refer_info(call *c, const char **url, const char **method, int *aob);
/* Leg sid of a Dial bridge becomes the call's principal: p gets its
 * identity; the Dial stops reporting it. -1 when it is not such a leg. */
int dial_promote(call *c, const char *sid, party *p);
/* The principal leg sid goes back to its Dial (with its callback count). */
void dial_demote(call *c, const char *sid, int sc_seq);
/* The SIP code that stands for a DialCallStatus (busy → 486 ...). */
int dial_status_code(const char *status, int leg_code);

/* The current Dial as JSON when it rests in its bridge (resume.c), else
 * NULL. */
json_t *dial_snapshot(call *c);
/* Rebuilds c->dial from dial_snapshot()'s JSON (its timeLimit running
 * again); -1 when it does not make sense. */
int dial_restore(call *c, json_t *j);

/* sweep.c: every 5 s, calls of dead owners no event will bring back. */
void sweep_tick(void);
/* This instance took root over without an event (sweep.c): rebuild it from
 * its snapshot, else end it in order. */
void eng_take_over(const char *root);

/* resume.c: snapshots of resting calls in fc:live (bus-protocol.md §9). */
/* Writes, refreshes or drops c's snapshot after its state changed. */
void resume_save(call *c);
/* An event for root, whose owner died, reached this instance, which now
 * owns it: rebuilds the call from its snapshot when there is one and hands
 * the event on (then(id, root, type, ev, c), c NULL when not resumable). */
typedef void (*resume_then)(const char *id, const char *root, const char *type, json_t *ev,
                            call *c);
void resume_take(const char *id, const char *root, const char *type, json_t *ev,
                 resume_then then);
/* Snapshot JSON helpers: s or null; a strdup of o[k] (NULL when it is no
 * string); o[k] copied into dst[n] ("" when it is no string); o[k] as an
 * int (0 when it is no integer). */
json_t *jsnap_str(const char *s);
char *jsnap_dup(json_t *o, const char *k);
void jsnap_copy(char *dst, size_t n, json_t *o, const char *k);
int jsnap_int(json_t *o, const char *k);

/* relay.c: dialog.request / dialog.response / dialog.notify for c's legs
 * (REFER goes to transfer.c, outbound REFER's news to refer.c). */
void relay_on_event(call *c, const char *type, json_t *ev);

/* transfer.c: inbound REFER (bus-protocol.md §10, README "Transfers"). */
void transfer_on_refer(call *c, json_t *ev);
/* The Dial being started is the tentative one of a transfer. */
int transfer_tentative(call *c);
/* A tentative transfer Dial got an answer: drop the transferor. */
void transfer_target_answered(call *c);
/* A tentative transfer Dial failed; 1 when the old bridge was restored
 * (the Dial's outcome must then be forgotten). */
int transfer_dial_failed(call *c, int code);
/* A leg of the parked Dial ended. */
void transfer_leg_gone(call *c, const char *sid);
/* The caller is gone: tell the transferor. */
void transfer_caller_gone(call *c);
void transfer_free(call *c);

/* The rtpengine tag the principal keeps towards the old bridge while a
 * transfer's Dial rings under a new one; NULL when no transfer rings. */
const char *transfer_old_tag(call *c);

/* principal.c: the leg the TwiML runs on (call.h `leg`). */
/* The bridged Dial leg becomes the principal; the principal becomes the
 * former principal (c->was), bridged to it. -1 when not possible. */
int principal_swap_in(call *c);
/* Undoes principal_swap_in (a transfer with answerOnBridge failed). */
void principal_swap_back(call *c);
int principal_is_former(call *c, const char *sid);
/* The former principal's leg ended (event id acked once recorded). */
void principal_former_ended(call *c, const char *id);
/* The call ends: hang up the former principal (unless asked already) and
 * report it. */
void principal_former_gone(call *c);
/* A party's call ended: its record's duration and its StatusCallback. */
void principal_report_end(const party *p, int answered, const char *status);
void principal_free(call *c);

/* The webhook parameters of an inbound leg from its event's `sip` object
 * (kind "pn": routed by number e164, "sd": by SIP domain app, else plain SIP). */
void eng_sip_params(form *p, const char *sid, json_t *sip, const char *kind, json_t *app,
                    const char *e164);

/* replace.c: an INVITE with Replaces naming a leg of c (bus-protocol.md §11). */
void replace_on_invite(call *c, json_t *ev);
/* An event of the replacing leg while it is being answered: 1 when taken. */
int replace_leg_event(call *c, const char *type, json_t *ev);
void replace_free(call *c);
/* The principal is replaced by party in (moved), whose rtpengine tag is
 * tag; the old principal becomes the former one (its BYE is on its way).
 * -1 when a former principal is still there. */
int principal_replace(call *c, party *in, const char *tag);

/* update.c: a REST update of a live call (api.update, bus-protocol.md §12). */
void update_on_event(call *c, json_t *ev);
/* Stops what the current verb waits for, without its action. */
void eng_interrupt(call *c);

/* outbound.c: REST-created calls until their answer (bus-protocol.md §13). */
void outbound_on_create(const char *id, json_t *ev);
/* call.progress / call.answered / call.ended of the REST-created principal
 * before its answer: 1 when taken (call.ended only notes the SIP code). */
int outbound_leg_event(call *c, const char *type, json_t *ev);
/* An api.update of a REST-created call not answered yet: 1 when taken. */
int outbound_update(call *c, json_t *ev);
/* Hangs up the dialled leg (CANCEL) when it was dialled. */
void outbound_hangup(call *c);
void outbound_free(call *c);
/* A created call's part of a snapshot (resume.c): 0 with *limit_at = its
 * TimeLimit deadline (0 when c was not created over REST), -1 while it is
 * not answered yet. */
int outbound_snapshot(call *c, int64_t *limit_at);
/* Rebuilds an answered created call's TimeLimit (limit_at 0: nothing). */
int outbound_restore(call *c, int64_t limit_at);
/* Routes an event of tree root like one read from fc:events (owner
 * forwarding, takeover, or the answers of a call that has ended). */
void eng_route(const char *id, const char *root, const char *type, json_t *ev);

/* proxywatch.c: every 5 s, the calls of a proxy whose heartbeat expired
 * (or that restarted) end through eng_proxy_lost. */
void proxywatch_tick(void);
/* The proxy of c is gone: its legs with it. Records, callbacks, media. */
void eng_proxy_lost(call *c);

/* refer.c: the <Refer> verb. */
struct twiml_refer;
void refer_start(call *c, const struct twiml_refer *r);
void refer_on_event(call *c, const char *type, json_t *ev);
void refer_caller_gone(call *c);
void refer_free(call *c);

/* The rtpengine tag of leg sid of c (the caller's may differ from its
 * CallSid after a transfer). */
const char *eng_tag(call *c, const char *sid);
/* The call failed for good (error code already recorded): BYE, or 500 with
 * X-Fulcrum-Error: code detail before the answer. */
void eng_fail(call *c, int code, const char *detail);
/* Replaces the document being run (doc stolen, url copied) and runs it. */
void eng_run_doc(call *c, twiml_doc *doc, const char *url);
/* Adds prefix+name = value for every [name, value] pair of hdrs to f. */
void eng_add_header_params(form *f, const char *prefix, json_t *hdrs);
/* A verb's action when the caller is gone: reported like a status callback
 * (CallStatus completed plus extra), its TwiML ignored (twilio-voice.md §2.1). */
void eng_report_action(call *c, const char *url, const char *method, const form *extra);
/* The TwiML document a webhook returned; NULL with a Twilio error code and
 * a detail when the fetch failed, the Content-Type is not TwiML or the
 * document does not parse. */
twiml_doc *eng_result_doc(call *c, const webhook_result *r, int *code, char *detail, size_t n);

#endif
