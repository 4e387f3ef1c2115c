/* fc_indialog.h — the fulcrum_dialog() script function: requests inside a
 * dialog of one of the module's legs (BYE, OPTIONS, re-INVITE, UPDATE,
 * INFO), handled in the SIP worker that received them. */
#ifndef FC_INDIALOG_H
#define FC_INDIALOG_H

#include "../../core/parser/msg_parser.h"

int fc_dialog_request(struct sip_msg *msg);

#endif
