/* call.h — the in-memory handle of a call this callctl instance is working
 * on: its bus event, webhook parameters, the TwiML document being run, and
 * the pending webhook or timer. The truth lives in Redis (store.md); this
 * is only the working copy, reference counted because Redis replies and
 * webhook callbacks may arrive after the call has ended. */
#ifndef FC_CALL_H
#define FC_CALL_H

#include <jansson.h>
#include <uv.h>
#include "form.h"
#include "twiml.h"
#include "webhook.h"

typedef struct call {
	char sid[40];
	char proxy[128];
	char event_id[64]; /* the call.incoming entry being handled; "" once acked */
	form params;       /* standard webhook parameters */
	char *voice_url, *voice_method, *fallback_url, *fallback_method;
	char *doc_url; /* URL of the running document (base for relative URLs) */
	twiml_doc *doc;
	size_t pc;        /* next verb */
	int in_fallback;  /* the fallback URL has been used */
	int cmd_n;        /* command counter for ids */
	webhook_call *wh; /* fetch in flight */
	uv_timer_t timer; /* <Pause> */
	int timer_active;
	int dead; /* ended: nothing more may be done */
	/* B2BUA state (issue 3) */
	int answered;  /* 200 OK sent to the caller */
	int answering; /* an answer is on its way (rtpengine, then reply) */
	int ending;    /* being torn down: no more TwiML */
	int media;     /* an rtpengine call exists for this tree */
	int sc_fired;  /* the caller's StatusCallback was sent */
	int64_t start_ms, answer_ms;
	char *a_sdp;              /* the caller's current SDP */
	char *our_sdp;            /* the SDP the caller last got from us */
	char *sc_url, *sc_method; /* the number's / domain's StatusCallback */
	int sc_seq;
	struct dial *dial; /* the <Dial> being run, NULL when none */
	char bridged[40];  /* CallSid of the leg bridged to the caller, "" */
	char bridged_proxy[128];
	uv_timer_t dial_timer;  /* Dial timeout (per target when sequential) */
	uv_timer_t limit_timer; /* Dial timeLimit */
	/* transfers (issue 4) */
	char mtag[64];       /* the caller's rtpengine tag: its CallSid, or "T<n>"+CallSid once a
	                        transfer re-offered it while the old bridge stayed up */
	int mtag_n;          /* transfers that needed a new tag */
	struct dial *pdial;  /* the Dial whose bridge a transfer left (its legs still report) */
	struct xfer *xfer;   /* an inbound REFER being acted on (transfer.c) */
	struct refer *refer; /* an outbound <Refer> waiting for its outcome (refer.c) */
	json_t *xfer_hdrs;   /* Refer-To's embedded headers, for the next <Dial>'s INVITEs */
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
