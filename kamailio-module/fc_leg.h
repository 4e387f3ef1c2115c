/* fc_leg.h — the module's shared-memory table of call legs, keyed by
 * CallSid, with a second index by (Call-ID, local tag) for in-dialog
 * requests. A leg lives from the INVITE that created it (received or sent)
 * until its call.ended event; every process (SIP workers, tm timer, the bus
 * process) reads and writes it under its bucket lock. The SIP dialog is
 * kept as flat strings so that any process can take a consistent snapshot
 * under the lock and send without holding it (fc_dlg.c). */
#ifndef FC_LEG_H
#define FC_LEG_H

#include "../../core/locking.h"
#include "../../core/str.h"
#include "../../core/ip_addr.h"

#define FC_SID_LEN 34
#define FC_TOTAG_MAX 64 /* our own To-tags */
#define FC_TAG_MAX 256  /* a dialog's tags (RFC 4475 longreq has a 150-byte one) */
#define FC_CMD_IDS 8
#define FC_CMD_ID_MAX 64
#define FC_CALLID_MAX 512
#define FC_URI_MAX 1024
#define FC_ROUTES_MAX 4096

enum fc_leg_kind { FC_LEG_IN = 0, FC_LEG_OUT = 1 };
enum fc_leg_state { FC_EARLY = 0, FC_CONFIRMED = 1 };

/* The dialog as the module needs it to send in-dialog requests. */
typedef struct fc_dialog {
	char call_id[FC_CALLID_MAX + 1];
	char loc_tag[FC_TAG_MAX + 1];
	char rem_tag[FC_TAG_MAX + 1];
	char loc_uri[FC_URI_MAX + 1];    /* our From/To name-addr or URI */
	char rem_uri[FC_URI_MAX + 1];    /* theirs */
	char rem_target[FC_URI_MAX + 1]; /* their Contact URI */
	char dst_uri[FC_URI_MAX + 1];    /* outbound proxy while early, "" after */
	char routes[FC_ROUTES_MAX + 1];  /* route set, comma separated, send order */
	unsigned int loc_seq;
	struct socket_info *send_sock;
} fc_dialog;

typedef struct fc_leg {
	char sid[FC_SID_LEN + 1];
	char root[FC_SID_LEN + 1];
	int kind;                      /* fc_leg_kind */
	int state;                     /* fc_leg_state */
	unsigned int t_hash, t_label;  /* the INVITE transaction (in: parked; out: sent) */
	char to_tag[FC_TOTAG_MAX + 1]; /* in-leg: our To-tag */
	char transport[8];             /* in-leg: transport it arrived on */
	fc_dialog dlg;
	int ended;         /* call.ended has been emitted */
	int hangup;        /* a hangup was commanded (out-leg: CANCEL/BYE pending) */
	int auth_tries;    /* digest answers sent (out-leg) */
	int last_progress; /* last 1xx code reported (out-leg) */
	int progress_sdp;  /* a 1xx with SDP was reported */
	int refer_sub;     /* we sent a REFER: its NOTIFYs are accepted */
	int acked;         /* in-leg: the ACK of our 2xx came, or its transaction ended */
	char *held;        /* in-leg: shm, commands waiting for that ACK (fc_ack.c) */
	char auth_user[128], auth_pass[128];
	char *invite;     /* out-leg: shm "headers\0sdp\0" of the INVITE (digest retry) */
	unsigned int seq; /* last event seq emitted */
	char cmd_ids[FC_CMD_IDS][FC_CMD_ID_MAX + 1]; /* recently applied command ids */
	int cmd_next;
	int indexed; /* in the Call-ID index */
	struct fc_leg *next;
	struct fc_leg *next_cid;
} fc_leg;

int fc_leg_init(void);
void fc_leg_destroy(void);
/* Locks the bucket of sid; returns the leg or NULL (the bucket stays locked
 * either way: always call fc_leg_unlock(sid) afterwards). */
fc_leg *fc_leg_lock(const char *sid);
void fc_leg_unlock(const char *sid);
/* Inserts a new leg (bucket lock taken inside); kind, root (NULL = sid) and
 * the to_tag of an in-leg. NULL on no memory. The returned pointer may only
 * be used under fc_leg_lock. */
fc_leg *fc_leg_add(const char *sid, int kind, const char *root, const str *to_tag);
/* With the leg's bucket locked: enters l->dlg.call_id/loc_tag into the
 * Call-ID index (no-op when already there). */
void fc_leg_index(fc_leg *l);
/* Finds the leg of an in-dialog request: copies its CallSid into sid.
 * 1 found / 0 not. */
int fc_leg_find_dialog(const str *call_id, const str *loc_tag, char sid[FC_SID_LEN + 1]);
/* The live leg whose dialog is exactly call_id, our tag loc_tag and the
 * peer's tag rem_tag (RFC 3891 matching): copies its CallSid and root and
 * tells whether it is confirmed. 1 found / 0 not. */
int fc_leg_find_replaced(const str *call_id, const str *loc_tag, const str *rem_tag,
                         char sid[FC_SID_LEN + 1], char root[FC_SID_LEN + 1], int *confirmed);
/* Removes and frees the leg (bucket lock taken inside). */
void fc_leg_remove(const char *sid);
/* With the bucket locked: 1 if id was applied already, else records it, 0. */
int fc_leg_seen_cmd(fc_leg *l, const char *id);
/* Number of legs (for statistics and the shutdown drain). */
int fc_leg_count(void);
/* Calls fn with the CallSid of every leg not ended yet (at most 64 per
 * bucket); returns how many. */
int fc_leg_each(void (*fn)(const char *sid, void *arg), void *arg);
/* Copies s (len n) into a fixed buffer of size cap (including the NUL);
 * -1 when it does not fit. */
int fc_copy(char *dst, size_t cap, const char *s, int n);

#endif
