/* fc_uac.h — outbound legs: originating the INVITE of a `dial` command,
 * following its responses (progress, answer, failure, digest challenges),
 * cancelling it, and the replies to every request the module sends. */
#ifndef FC_UAC_H
#define FC_UAC_H

#include <jansson.h>
#include "../../modules/tm/t_hooks.h"

/* tm callback for every request the module sends (param: fc_uac_ctx). */
void fc_uac_cb(struct cell *t, int type, struct tmcb_params *ps);

/* The `dial` command (bus-protocol.md §8). 0, or -1 with err set. */
int fc_uac_dial(json_t *cmd, const char *sid, char *err, size_t errlen);
/* Re-sends the INVITE of out-leg sid with credentials for the challenge
 * (local command "auth" queued by fc_uac_cb). */
void fc_uac_auth_retry(const char *sid, int code, const char *challenge);
/* CANCELs the pending INVITE of out-leg sid. 0 / -1 with err. */
int fc_uac_cancel(const char *sid, char *err, size_t errlen);

#endif
