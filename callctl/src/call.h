/* call.h — the in-memory handle of a call this callctl instance is working
 * on: its bus event, webhook parameters, the TwiML document being run, and
 * the pending webhook or timer. The truth lives in Redis (store.md); this
 * is only the working copy, reference counted because Redis replies and
 * webhook callbacks may arrive after the call has ended. */
#ifndef FC_CALL_H
#define FC_CALL_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>
#include "form.h"
#include "twiml.h"
#include "webhook.h"

/* A leg's own identity for TwiML and reports: what the principal leg of a
 * call carries, and what a former principal keeps until its leg ends
 * (principal.c). */
typedef struct party {
	char sid[40];
	form params;              /* its standard webhook parameters */
	char *sc_url, *sc_method; /* its StatusCallback for `completed`, NULL when none */
	int sc_seq;
	int64_t answer_ms;
	int sip;      /* a SIP leg (not a call through the PSTN trunk) */
	int hung_up;  /* a former principal that was sent its BYE */
	int sip_code; /* its INVITE's final response code (SipResponseCode), 0 when unknown */
} party;

typedef struct call {
	char sid[40]; /* the root leg: names the tree (fc:live, rtpengine call-id, commands) */
	char leg[40]; /* the principal leg, the one TwiML runs on: the root leg until a
	                 transfer from the calling side hands the call to the dialled leg */
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
	char *a_sdp;              /* the principal's current SDP */
	char *our_sdp;            /* the SDP the principal last got from us */
	char *sc_url, *sc_method; /* the principal's StatusCallback (number's, domain's, noun's) */
	int sc_seq;
	int sip_leg;       /* the principal is a SIP leg (<Refer> needs one) */
	struct dial *dial; /* the <Dial> being run, NULL when none */
	char bridged[40];  /* CallSid of the leg bridged to the caller, "" */
	char bridged_proxy[128];
	char btag[64];           /* the bridged leg's rtpengine tag ("": its CallSid) */
	char *b_sdp, *b_our_sdp; /* the bridged leg's SDP, and the one it got from us */
	uv_timer_t dial_timer;   /* Dial timeout (per target when sequential) */
	uv_timer_t limit_timer;  /* Dial timeLimit */
	/* transfers (issue 4) */
	char mtag[64];         /* the caller's rtpengine tag: its CallSid, or "T<n>"+CallSid once a
	                          transfer re-offered it while the old bridge stayed up */
	int mtag_n;            /* transfers that needed a new tag */
	struct dial *pdial;    /* the Dial whose bridge a transfer left (its legs still report) */
	struct xfer *xfer;     /* an inbound REFER being acted on (transfer.c) */
	struct refer *refer;   /* an outbound <Refer> waiting for its outcome (refer.c) */
	json_t *xfer_hdrs;     /* Refer-To's embedded headers, for the next <Dial>'s INVITEs */
	party *was;            /* the former principal while its leg is up (principal.c) */
	struct replacing *rep; /* an INVITE with Replaces being answered (replace.c) */
	/* REST-created calls (issue 5, outbound.c) */
	struct outcall *out;  /* the REST-created root leg until it is answered, else NULL */
	unsigned sc_events;   /* StatusCallbackEvent (TWIML_EV_*); 0: completed only */
	int sip_code;         /* final response code of our INVITE to the principal, 0 */
	uv_timer_t out_timer; /* its CPS queue wait, ring Timeout, then TimeLimit */
	char *snap;           /* the snapshot last written to fc:live (resume.c), NULL */
	int refs;
	struct call *next;
} call;

call *call_new(uv_loop_t *loop, const char *sid);
call *call_find(const char *sid);
void call_ref(call *c);
/* Drops a reference; frees the call when it is dead and unreferenced. */
void call_unref(call *c);
/* Cancels the webhook in flight / stops c->timer (<Pause>, <Refer>'s wait),
 * dropping the reference each holds; no-ops when there is none. */
void call_stop_webhook(call *c);
void call_stop_timer(call *c);
/* Marks the call dead: stops its webhook and timer, removes it from the
 * table, drops the table's reference. */
void call_kill(call *c);
/* Forgets every call without a word to anybody (the instance stops; the
 * calls go on with another one, bus-protocol.md §9). */
void call_drop_all(void);
/* Calls fn for every live call (for the bus heartbeat). */
void call_foreach(void (*fn)(call *c));

#endif
