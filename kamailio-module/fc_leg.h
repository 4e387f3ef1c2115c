/* fc_leg.h — the module's shared-memory table of call legs, keyed by
 * CallSid. A leg lives from the INVITE that created it until its transaction
 * is destroyed; every process (SIP workers, tm timer, the bus process) reads
 * and writes it under the bucket lock. */
#ifndef FC_LEG_H
#define FC_LEG_H

#include "../../core/locking.h"
#include "../../core/str.h"

#define FC_SID_LEN 34
#define FC_TOTAG_MAX 64
#define FC_CMD_IDS 8
#define FC_CMD_ID_MAX 64

typedef struct fc_leg {
	char sid[FC_SID_LEN + 1];
	unsigned int t_hash, t_label; /* the suspended INVITE transaction */
	char to_tag[FC_TOTAG_MAX + 1];
	int ended;        /* call.ended has been emitted */
	unsigned int seq; /* last event seq emitted */
	char cmd_ids[FC_CMD_IDS][FC_CMD_ID_MAX + 1]; /* recently applied command ids */
	int cmd_next;
	struct fc_leg *next;
} fc_leg;

int fc_leg_init(void);
void fc_leg_destroy(void);
/* Locks the bucket of sid; returns the leg or NULL (the bucket stays locked
 * either way: always call fc_leg_unlock(sid) afterwards). */
fc_leg *fc_leg_lock(const char *sid);
void fc_leg_unlock(const char *sid);
/* Inserts a new leg (bucket lock taken inside). 0 / -1 on no memory. */
fc_leg *fc_leg_add(const char *sid, unsigned int t_hash, unsigned int t_label, const str *to_tag);
/* Removes and frees the leg (bucket lock taken inside). */
void fc_leg_remove(const char *sid);
/* With the bucket locked: 1 if id was applied already, else records it, 0. */
int fc_leg_seen_cmd(fc_leg *l, const char *id);
/* Number of legs (for statistics and the shutdown drain). */
int fc_leg_count(void);

#endif
