/* fc_replace.c — an initial INVITE with a Replaces header (RFC 3891): the
 * header is read with the pure parser of fc_refer.c and matched strictly
 * against the module's dialogs (Call-ID, our tag = to-tag, the peer's tag =
 * from-tag). The new leg then joins the replaced leg's call tree; callctl
 * decides the rest (bus-protocol.md §11). Runs in SIP workers. */
#include <string.h>
#include <strings.h>

#include "../../core/parser/msg_parser.h"
#include "../../core/parser/parse_hname2.h"
#include "../../core/trim.h"

#include "fc_refer.h"
#include "fc_replace.h"

static int is_replaces(const str *name)
{
	return name->len == 8 && strncasecmp(name->s, "Replaces", 8) == 0;
}

int fc_invite_replaces(struct sip_msg *msg, char replaced[FC_SID_LEN + 1],
                       char root[FC_SID_LEN + 1], int *code, const char **reason)
{
	if (parse_headers(msg, HDR_EOH_F, 0) < 0) {
		*code = 400;
		*reason = "Bad Request";
		return -1;
	}
	struct hdr_field *found = NULL;
	for (struct hdr_field *h = msg->headers; h; h = h->next) {
		if (!is_replaces(&h->name))
			continue;
		if (found) {
			*code = 400;
			*reason = "Bad Request - More Than One Replaces";
			return -1;
		}
		found = h;
	}
	if (!found)
		return 0;
	str v = found->body;
	trim(&v);
	fc_replaces r;
	char err[128];
	if (v.len <= 0 ||
	    fc_replaces_parse(v.s, (size_t)v.len, &r, err, sizeof err) != FC_REFER_OK) {
		*code = 400;
		*reason = "Bad Request - Malformed Replaces";
		return -1;
	}
	str cid = {r.call_id, (int)strlen(r.call_id)};
	str tt = {r.to_tag, (int)strlen(r.to_tag)};
	str ft = {r.from_tag, (int)strlen(r.from_tag)};
	int confirmed = 0;
	if (!fc_leg_find_replaced(&cid, &tt, &ft, replaced, root, &confirmed) || !confirmed) {
		/* Early dialogs are not replaced: an inbound one was not
		 * initiated by us (RFC 3891 §3), an outbound one is callctl's
		 * Dial to finish. */
		*code = 481;
		*reason = "Call/Transaction Does Not Exist";
		return -1;
	}
	if (r.early_only) {
		*code = 486;
		*reason = "Busy Here";
		return -1;
	}
	return 1;
}
