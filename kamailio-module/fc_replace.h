/* fc_replace.h — an initial INVITE with a Replaces header (RFC 3891): which
 * of the module's legs it replaces (bus-protocol.md §11). */
#ifndef FC_REPLACE_H
#define FC_REPLACE_H

#include "../../core/parser/msg_parser.h"
#include "fc_leg.h"

/* 0: no Replaces header. 1: it names the live, confirmed leg `replaced`
 * of call tree `root`. -1: refuse the INVITE with code/reason (400 for a
 * malformed or repeated header, 481 for a dialog the module does not hold
 * or holds only early, 486 for early-only naming a confirmed dialog). */
int fc_invite_replaces(struct sip_msg *msg, char replaced[FC_SID_LEN + 1],
                       char root[FC_SID_LEN + 1], int *code, const char **reason);

#endif
