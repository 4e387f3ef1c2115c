/* fc_mod.h — module-wide state shared by the fulcrum module's files: the tm
 * API, parameters, and helpers to emit events and reply on legs. */
#ifndef FC_MOD_H
#define FC_MOD_H

#include <jansson.h>
#include "../../modules/tm/tm_load.h"
#include "fc_leg.h"

extern struct tm_binds tmb;
extern char *fc_redis_url;
extern char *fc_proxy_id;
extern char *fc_advertise;
extern int fc_max_ring_ms;

/* Fills the envelope (v, type, call_sid, proxy, seq, ts) of ev and queues it.
 * The leg's bucket must be locked. ev is stolen. 0 / -1. */
int fc_emit(fc_leg *l, const char *type, json_t *ev);
/* Emits call.ended for sid once (no-op when already ended). */
void fc_emit_ended(const char *sid, const char *reason, int code);
/* Emits call.ended with ev (stolen; reason, code, headers) once, then
 * removes the leg. */
void fc_end_leg(const char *sid, json_t *ev);
/* fc_end_leg with just a reason and a code. */
void fc_end_leg_code(const char *sid, const char *reason, int code);
/* Sends a response from any process: on the in-leg's pending INVITE, or with
 * txn ("hash:label" from a dialog.request) on that parked in-dialog request.
 * hdrs is a block of "Name: value\r\n" lines including Content-Type when
 * there is a body (both may be NULL). A final non-2xx on the INVITE ends the
 * leg (call.ended "replied"); a 2xx confirms it. 0, or -1 with err set. */
int fc_reply_leg(const char *sid, int code, const char *reason, const char *hdrs, const char *body,
                 const char *txn, const char *cmd_id, char *err, size_t errlen);
/* 2*bytes lowercase hex digits (bytes <= 32) from the kernel's CSPRNG and a
 * NUL into out. */
void fc_rand_hex(char *out, int bytes);
/* Milliseconds since the epoch. */
long long fc_now_ms(void);

#endif
