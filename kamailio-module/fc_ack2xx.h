/* fc_ack2xx.h — the ACK of every 2xx to an INVITE the module sends (dialled
 * legs, re-INVITEs), built as RFC 3261 section 13.2.2.4 asks: a request of
 * its own, with a new Via branch and Max-Forwards (section 17.1.1.3). */
#ifndef FC_ACK2XX_H
#define FC_ACK2XX_H

#include <jansson.h>
#include "../../core/parser/msg_parser.h"

/* From fc_uac_cb (a SIP worker), for each 2xx rpl (first or retransmitted)
 * to an INVITE of leg sid (initial: the leg's first INVITE): hands the ACK
 * to the bus process (local command "ack"). */
void fc_ack2xx_reply(const char *sid, int initial, struct sip_msg *rpl);

/* The local command "ack" in the bus process: sends the ACK, and a BYE
 * after it when the 2xx came from a dialog the leg does not keep. */
void fc_ack2xx_exec(json_t *cmd, const char *sid);

#endif
