/* fc_ack.c — the ACK of our 2xx on inbound legs, and the commands that wait
 * for it (fc_ack.h): a hangup right after the answer (<Hangup/>), or the
 * re-INVITE of a bridge that came up before the caller's ACK. A held command
 * is kept on the leg as a line of JSON (shm) and queued back to the bus
 * process, in order, by the ACK (seen by `fulcrum_ack()` in a SIP worker) or
 * by the end of the INVITE transaction (tm's DESTROY callback). tm
 * retransmits our 2xx until the ACK or the end of the transaction, which is
 * its wait_timer (5 s by default) after the answer: a leg with no ACK by
 * then is hung up (RFC 3261 §13.3.1.4, with tm's timer for 64*T1). */
#include "fc_ack.h"

#include <stdlib.h>
#include <string.h>

#include "../../core/dprint.h"
#include "../../core/trim.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/parser/parse_to.h"
#include "fc_leg.h"
#include "fc_queue.h"

/* With the leg's bucket locked: the leg's requests must wait for the ACK. */
static int waits(const fc_leg *l)
{
	return l && l->kind == FC_LEG_IN && l->state == FC_CONFIRMED && !l->acked && !l->ended;
}

/* Queues the lines of held (shm, freed) as local commands, in order; with
 * only_hangup, the hangups alone. 1 when a hangup was among them. */
static int release(const char *sid, char *held, int only_hangup)
{
	int hangup = 0;
	for (char *line = held, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		json_t *cmd = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, NULL);
		const char *op = json_string_value(json_object_get(cmd, "op"));
		int is_hangup = op && !strcmp(op, "hangup");
		hangup |= is_hangup;
		if (only_hangup && !is_hangup)
			json_decref(cmd);
		else if (!cmd || fc_queue_push_local(cmd) < 0)
			LM_ERR("call %s: cannot queue a command that waited for the ACK\n", sid);
	}
	shm_free(held);
	return hangup;
}

/* Marks sid ACKed and releases what waited. timed_out: the INVITE
 * transaction ended; a confirmed leg never ACKed is hung up (a re-INVITE
 * that waited is dropped, a hangup that waited goes with its headers). */
static void acked(const char *sid, int timed_out)
{
	char *held = NULL;
	int no_ack = 0;
	fc_leg *l = fc_leg_lock(sid);
	if (l) {
		no_ack = timed_out && waits(l);
		l->acked = 1;
		held = l->held;
		l->held = NULL;
	}
	int hangup = l && l->hangup;
	fc_leg_unlock(sid);
	if (held && release(sid, held, no_ack))
		hangup = 1;
	if (no_ack) {
		LM_WARN("call %s: no ACK for our 2xx before its transaction ended\n", sid);
		if (!hangup && fc_queue_push_local(json_pack("{s:s,s:s,s:s}", "op", "hangup",
		                                             "call_sid", sid, "id", "")) < 0)
			LM_ERR("call %s: cannot queue the hangup\n", sid);
	}
}

int fc_ack_request(struct sip_msg *msg)
{
	if (msg->first_line.type != SIP_REQUEST || parse_headers(msg, HDR_EOH_F, 0) < 0 ||
	    !msg->callid || !msg->to || parse_to_header(msg) < 0)
		return 1; /* t_check_trans decides */
	str cid = msg->callid->body;
	trim(&cid);
	str ltag = get_to(msg)->tag_value;
	char sid[FC_SID_LEN + 1];
	if (ltag.len > 0 && fc_leg_find_dialog(&cid, &ltag, sid))
		acked(sid, 0);
	return 1;
}

void fc_ack_done(const char *sid)
{
	acked(sid, 1);
}

int fc_ack_hold(const char *sid, json_t *cmd)
{
	/* Nearly always the ACK came long ago: serialise only when it did not. */
	int wait = waits(fc_leg_lock(sid));
	fc_leg_unlock(sid);
	if (!wait)
		return 0;
	json_t *copy = json_deep_copy(cmd);
	char *line = NULL;
	if (copy && json_object_set_new(copy, "id", json_string("")) == 0)
		line = json_dumps(copy, JSON_COMPACT); /* one line: no raw newline */
	json_decref(copy);
	if (!line)
		return 0; /* no memory: it goes now */
	int kept = 0;
	fc_leg *l = fc_leg_lock(sid);
	if (waits(l)) { /* again: the ACK may have come meanwhile */
		size_t old = l->held ? strlen(l->held) : 0, add = strlen(line);
		char *buf = shm_malloc(old + add + 2);
		if (buf) {
			if (old)
				memcpy(buf, l->held, old);
			buf[old] = old ? '\n' : '\0';
			memcpy(buf + old + (old ? 1 : 0), line, add + 1);
			if (l->held)
				shm_free(l->held);
			l->held = buf;
			kept = 1;
		}
	}
	fc_leg_unlock(sid);
	free(line);
	return kept;
}
