/* fc_dlg.h — SIP dialogs of legs: copying tm's dlg_t into a leg's flat
 * fc_dialog, and sending in-dialog requests from any process on a snapshot
 * taken under the leg's lock (the pattern of the dialog module's
 * build_dlg_t: a throw-away dlg_t pointing at copied strings). */
#ifndef FC_DLG_H
#define FC_DLG_H

#include "../../modules/tm/dlg.h"
#include "../../modules/tm/t_hooks.h"
#include "fc_leg.h"

/* Copies the parts of t the module needs into d. 0 / -1 (too long). */
int fc_dlg_store(fc_dialog *d, dlg_t *t);

/* Context of a request the module sent (tm callback parameter, shm). */
typedef struct fc_uac_ctx {
	char sid[FC_SID_LEN + 1];
	int initial; /* the initial INVITE of an out-leg */
	char method[16];
	char req_id[FC_CMD_ID_MAX + 1];
} fc_uac_ctx;
fc_uac_ctx *fc_uac_ctx_new(const char *sid, int initial, const char *method, const char *req_id);

/* The early tm dialog (shm: free it with tmb.free_dlg) of the INVITE an
 * out-leg with dialog d sends, or NULL with *why set. */
dlg_t *fc_dlg_early(const fc_dialog *d, const char **why);

/* The dialog the 2xx rpl establishes for the INVITE sent on the early
 * dialog early (tm's dlg_t, in shm: free it with tmb.free_dlg), or NULL. */
dlg_t *fc_dlg_of_2xx(const fc_dialog *early, struct sip_msg *rpl);

/* A throw-away confirmed dlg_t pointing into snap's strings, its route set
 * parsed and its next hop computed; the caller frees d->route_set with
 * free_rr(). 0, or -1 with err set. */
int fc_dlg_build(const fc_dialog *snap, dlg_t *d, char *err, size_t errlen);

/* Sends method with CSeq cseq, no body and no extra headers, within the
 * dialog snap, following no reply: the ACK of a 2xx (a transaction of its
 * own: a new branch), or the BYE of a dialog we do not keep. 0, or -1 with
 * err set. */
int fc_dlg_send_bare(const fc_dialog *snap, const char *method, unsigned int cseq, char *err,
                     size_t errlen);

/* Sends method within the confirmed dialog of leg sid with extra header
 * lines hdrs and body (either may be NULL). The CSeq is taken from the leg
 * and incremented under its lock. Replies go to fc_uac_cb (fc_uac.c) with a
 * fresh context. 0, or -1 with err set. */
int fc_dlg_send(const char *sid, const char *method, const char *hdrs, const char *body,
                const char *req_id, char *err, size_t errlen);

/* The header lines of a message that creates or refreshes a dialog (INVITE,
 * re-INVITE, UPDATE, REFER and their 1xx/2xx): "Contact:
 * <sip:fulcrum@{advertise};transport=x>" for the given transport ("" or "udp"
 * → no parameter; RFC 3261 section 12.1), then what we Allow and Support
 * (sections 20.5, 20.37: a peer such as a softphone decides by them whether
 * it may send REFER or UPDATE, or use Replaces). */
#define FC_DIALOG_HDRS_MAX (FC_URI_MAX + 256)
void fc_dialog_hdrs(char *out, size_t n, const char *transport);

#endif
