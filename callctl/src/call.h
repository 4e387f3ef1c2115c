/* call.h — the in-memory handle of a call this callctl instance is working
 * on: its bus event, webhook parameters, the TwiML document being run, and
 * the pending webhook or timer. The truth lives in Redis (store.md); this
 * is only the working copy, reference counted because Redis replies and
 * webhook callbacks may arrive after the call has ended. */
#ifndef FC_CALL_H
#define FC_CALL_H

#include <uv.h>
#include "form.h"
#include "twiml.h"
#include "webhook.h"

typedef struct call {
	char sid[40];
	char proxy[128];
	char event_id[64]; /* the call.incoming entry being handled; "" once acked */
	form params;	   /* standard webhook parameters */
	char *voice_url, *voice_method, *fallback_url, *fallback_method;
	char *doc_url; /* URL of the running document (base for relative URLs) */
	twiml_doc *doc;
	size_t pc;	   /* next verb */
	int in_fallback;   /* the fallback URL has been used */
	int cmd_n;	   /* command counter for ids */
	webhook_call *wh;  /* fetch in flight */
	uv_timer_t timer;  /* <Pause> */
	int timer_active;
	int dead;	   /* ended: nothing more may be done */
	int refs;
	struct call *next;
} call;

call *call_new(uv_loop_t *loop, const char *sid);
call *call_find(const char *sid);
void call_ref(call *c);
/* Drops a reference; frees the call when it is dead and unreferenced. */
void call_unref(call *c);
/* Marks the call dead: stops its webhook and timer, removes it from the
 * table, drops the table's reference. */
void call_kill(call *c);
/* Calls fn for every live call (for the bus heartbeat). */
void call_foreach(void (*fn)(call *c));

#endif
