/* fc_ack.h — requests on an inbound leg that wait for the ACK of our 2xx.
 * RFC 3261 §15.1.1: no BYE on a confirmed dialog until the ACK came or the
 * server transaction timed out; §14.1: no new INVITE while the first INVITE
 * transaction is in progress. And §13.3.1.4: a 2xx never ACKed (here: until
 * tm's transaction ends) ends the session with a BYE. */
#ifndef FC_ACK_H
#define FC_ACK_H

#include <jansson.h>

#include "../../core/parser/msg_parser.h"

/* cfg `fulcrum_ack()`, for every ACK before t_check_trans(): the leg whose
 * dialog it belongs to is ACKed and what waited for it goes out. Always 1
 * (the script goes on to t_check_trans). */
int fc_ack_request(struct sip_msg *msg);
/* tm's DESTROY of confirmed in-leg sid's INVITE transaction (its
 * wait_timer after the answer; the 2xx is retransmitted until then unless
 * ACKed): what waited goes out; a leg never ACKed is hung up. */
void fc_ack_done(const char *sid);
/* Bus process, a command (`hangup`, or `request` INVITE) for a confirmed
 * leg: 1 when it must wait for the ACK and is now kept (re-run as a local
 * command, id "", once the ACK came); 0 when it may go now. */
int fc_ack_hold(const char *sid, json_t *cmd);

#endif
