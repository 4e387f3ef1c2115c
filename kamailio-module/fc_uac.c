/* fc_uac.c — outbound legs (fc_uac.h). The INVITE is built with tm's
 * new_dlg_uac + set_dlg_target and sent with t_uac_with_ids; its replies
 * arrive in fc_uac_cb in whatever process received them, which only updates
 * the leg under its lock and queues events. Work that sends SIP from a
 * callback (BYE after a 2xx that raced a hangup, the digest retry) is handed
 * to the bus process as a local command, so no callback ever sends. */
#include "fc_uac.h"
#include "fc_ack2xx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/dprint.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/parser/msg_parser.h"
#include "../../core/parser/parse_uri.h"
#include "../../core/parser/parse_to.h"
#include "../../core/trim.h"
#include "../../modules/tm/h_table.h"
#include "../../modules/tm/t_cancel.h"
#include "../../modules/tm/uac.h"
#include "fc_cmd.h"
#include "fc_digest.h"
#include "fc_dlg.h"
#include "fc_mod.h"
#include "fc_queue.h"
#include "fc_sipmsg.h"

#define FC_MAX_AUTH_TRIES 3

/* The transport named by a URI's ;transport= parameter, or "udp". */
static void uri_transport(const char *uri, char *out, size_t n)
{
	snprintf(out, n, "udp");
	struct sip_uri pu;
	if (parse_uri((char *)uri, (int)strlen(uri), &pu) < 0)
		return;
	if (pu.type == SIPS_URI_T)
		snprintf(out, n, "tls");
	if (pu.transport_val.len > 0 && pu.transport_val.len < (int)n) {
		for (int i = 0; i < pu.transport_val.len; i++)
			out[i] = (char)tolower((unsigned char)pu.transport_val.s[i]);
		out[pu.transport_val.len] = 0;
	}
}

/* Sends (or re-sends, with auth) the initial INVITE of out-leg l's snapshot
 * d; extra is an extra header line block (Authorization) or "". */
static int send_invite(const char *sid, const fc_dialog *d, const char *hdrs, const char *sdp,
                       const char *extra, char *err, size_t errlen)
{
	const char *why;
	dlg_t *dlg = fc_dlg_early(d, &why);
	if (!dlg) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	char transport[8], contact[FC_DIALOG_HDRS_MAX];
	uri_transport(d->dst_uri[0] ? d->dst_uri : d->rem_target, transport, sizeof transport);
	fc_dialog_hdrs(contact, sizeof contact, transport);
	size_t hl = strlen(hdrs) + strlen(extra) + strlen(contact) + 64;
	char *all = malloc(hl);
	fc_uac_ctx *ctx = fc_uac_ctx_new(sid, 1, "INVITE", NULL);
	if (!all || !ctx) {
		free(all);
		if (ctx)
			shm_free(ctx);
		tmb.free_dlg(dlg);
		snprintf(err, errlen, "no memory");
		return -1;
	}
	snprintf(all, hl, "%s%s%s%s", contact,
	         sdp && *sdp ? "Content-Type: application/sdp\r\n" : "", hdrs, extra);
	str m = str_init("INVITE");
	str h = {all, (int)strlen(all)};
	str b = {(char *)(sdp ? sdp : ""), sdp ? (int)strlen(sdp) : 0};
	uac_req_t r;
	set_uac_req(&r, &m, &h, b.len ? &b : NULL, dlg,
	            TMCB_LOCAL_COMPLETED | TMCB_LOCAL_RESPONSE_IN | TMCB_DESTROY | TMCB_DONT_ACK,
	            fc_uac_cb, ctx);
	unsigned int th = 0, tl = 0;
	int rc = tmb.t_uac_with_ids(&r, &th, &tl);
	free(all);
	if (rc < 0) {
		shm_free(ctx);
		tmb.free_dlg(dlg);
		snprintf(err, errlen, "sending the INVITE failed (%d)", rc);
		return -1;
	}
	fc_leg *l = fc_leg_lock(sid);
	if (l) {
		l->t_hash = th;
		l->t_label = tl;
		if (dlg->send_sock)
			l->dlg.send_sock = dlg->send_sock;
	}
	fc_leg_unlock(sid);
	tmb.free_dlg(dlg);
	return 0;
}

/* shm copies of the INVITE's header block and SDP, kept for the digest
 * retry: [hdrs]\0[sdp]\0 */
static char *keep_invite(const char *hdrs, const char *sdp)
{
	size_t a = strlen(hdrs), b = strlen(sdp);
	char *p = shm_malloc(a + b + 2);
	if (!p)
		return NULL;
	memcpy(p, hdrs, a + 1);
	memcpy(p + a + 1, sdp, b + 1);
	return p;
}

int fc_uac_dial(json_t *cmd, const char *sid, char *err, size_t errlen)
{
	const char *root = json_string_value(json_object_get(cmd, "root"));
	const char *ruri = json_string_value(json_object_get(cmd, "ruri"));
	const char *dst = json_string_value(json_object_get(cmd, "dst"));
	const char *from = json_string_value(json_object_get(cmd, "from"));
	const char *to = json_string_value(json_object_get(cmd, "to"));
	const char *sdp = json_string_value(json_object_get(cmd, "sdp"));
	const char *au = json_string_value(json_object_get(cmd, "auth_user"));
	const char *ap = json_string_value(json_object_get(cmd, "auth_pass"));
	if (!ruri || !from || !to || !*ruri) {
		snprintf(err, errlen, "dial needs ruri, from and to");
		return -1;
	}
	struct sip_uri pu;
	if (parse_uri((char *)ruri, (int)strlen(ruri), &pu) < 0 || !fc_hdr_value_ok(ruri) ||
	    !fc_hdr_value_ok(from) || !fc_hdr_value_ok(to) || (dst && !fc_hdr_value_ok(dst)) ||
	    (sdp && strlen(sdp) > 32768)) {
		snprintf(err, errlen, "bad ruri, from, to, dst or sdp");
		return -1;
	}
	if ((au && (strlen(au) >= 128 || !fc_hdr_value_ok(au))) ||
	    (ap && (strlen(ap) >= 128 || !fc_hdr_value_ok(ap)))) {
		snprintf(err, errlen, "bad credentials");
		return -1;
	}
	char *hdrs = fc_build_headers(json_object_get(cmd, "headers"), 1, err, errlen);
	if (!hdrs)
		return -1;

	char tag[33], rnd[33], host[160];
	fc_rand_hex(tag, 8);
	fc_rand_hex(rnd, 16);
	snprintf(host, sizeof host, "%s", fc_advertise);
	char *colon = strrchr(host, ':');
	if (colon && !strchr(host, ']'))
		*colon = 0;
	fc_leg *l = fc_leg_lock(sid);
	int exists = l != NULL;
	fc_leg_unlock(sid);
	if (exists) {
		free(hdrs);
		snprintf(err, errlen, "leg exists");
		return -1;
	}
	char *kept = keep_invite(hdrs, sdp ? sdp : "");
	if (!kept || !fc_leg_add(sid, FC_LEG_OUT, root, NULL)) {
		if (kept)
			shm_free(kept);
		free(hdrs);
		snprintf(err, errlen, "no memory");
		return -1;
	}
	fc_dialog snap;
	l = fc_leg_lock(sid);
	int bad = 0;
	if (l) {
		snprintf(l->dlg.call_id, sizeof l->dlg.call_id, "%s@%s", rnd, host);
		snprintf(l->dlg.loc_tag, sizeof l->dlg.loc_tag, "%s", tag);
		bad |= fc_copy(l->dlg.loc_uri, sizeof l->dlg.loc_uri, from, (int)strlen(from));
		bad |= fc_copy(l->dlg.rem_uri, sizeof l->dlg.rem_uri, to, (int)strlen(to));
		bad |=
		    fc_copy(l->dlg.rem_target, sizeof l->dlg.rem_target, ruri, (int)strlen(ruri));
		bad |= fc_copy(l->dlg.dst_uri, sizeof l->dlg.dst_uri, dst ? dst : "",
		               dst ? (int)strlen(dst) : 0);
		l->dlg.loc_seq = 1;
		snprintf(l->auth_user, sizeof l->auth_user, "%s", au ? au : "");
		snprintf(l->auth_pass, sizeof l->auth_pass, "%s", ap ? ap : "");
		l->invite = kept;
		kept = NULL;
		fc_leg_index(l);
		memcpy(&snap, &l->dlg, sizeof snap);
	}
	fc_leg_unlock(sid);
	if (kept)
		shm_free(kept);
	if (!l || bad) {
		fc_leg_remove(sid);
		free(hdrs);
		snprintf(err, errlen, "dial parameters too long");
		return -1;
	}
	int rc = send_invite(sid, &snap, hdrs, sdp, "", err, errlen);
	free(hdrs);
	if (rc < 0) {
		fc_end_leg_code(sid, "failed", 500);
	}
	return rc < 0 ? -1 : 0;
}

void fc_uac_auth_retry(const char *sid, int code, const char *challenge)
{
	char err[160];
	fc_challenge ch;
	fc_dialog snap;
	char user[128], pass[128];
	char *hdrs = NULL, *sdp = NULL;
	int give_up = 0;
	if (fc_digest_parse(challenge, strlen(challenge), &ch) < 0) {
		LM_WARN("leg %s: unusable %d challenge\n", sid, code);
		give_up = 1;
	}
	fc_leg *l = fc_leg_lock(sid);
	if (!l || l->ended) {
		fc_leg_unlock(sid);
		return;
	}
	if (!give_up && !l->hangup && l->invite) {
		l->auth_tries++;
		l->dlg.loc_seq++;
		memcpy(&snap, &l->dlg, sizeof snap);
		snprintf(user, sizeof user, "%s", l->auth_user);
		snprintf(pass, sizeof pass, "%s", l->auth_pass);
		hdrs = strdup(l->invite);
		sdp = strdup(l->invite + strlen(l->invite) + 1);
	}
	int hangup = l->hangup;
	fc_leg_unlock(sid);
	if (!hdrs || !sdp) {
		free(hdrs);
		free(sdp);
		fc_end_leg_code(sid, hangup ? "hangup" : "rejected", hangup ? 487 : code);
		return;
	}
	char cnonce[17], cred[2048], extra[2200];
	fc_rand_hex(cnonce, 8);
	int n = fc_digest_authorization(&ch, "INVITE", snap.rem_target, user, pass, cnonce, 1, cred,
	                                sizeof cred);
	int rc = -1;
	if (n > 0) {
		snprintf(extra, sizeof extra, "%s: %s\r\n",
		         code == 407 ? "Proxy-Authorization" : "Authorization", cred);
		rc = send_invite(sid, &snap, hdrs, sdp, extra, err, sizeof err);
	}
	free(hdrs);
	free(sdp);
	if (rc < 0) {
		LM_WARN("leg %s: digest retry failed\n", sid);
		fc_end_leg_code(sid, "rejected", code);
	}
}

int fc_uac_cancel(const char *sid, char *err, size_t errlen)
{
	fc_leg *l = fc_leg_lock(sid);
	if (!l || l->ended) {
		fc_leg_unlock(sid);
		snprintf(err, errlen, "%s", l ? "call ended" : "no such call");
		return -1;
	}
	l->hangup = 1;
	unsigned int h = l->t_hash, lbl = l->t_label;
	fc_leg_unlock(sid);
	struct cell *t = NULL;
	if (tmb.t_lookup_ident(&t, h, lbl) < 0 || !t) {
		/* Between a challenge and the retry: the retry sees l->hangup. */
		tmb.t_sett(T_UNDEFINED, T_BR_UNDEFINED);
		return 0;
	}
	/* Marks the branch; tm sends the CANCEL now, or when the first
	 * provisional arrives (RFC 3261 §9.1). */
	tmb.cancel_all_uacs(t, 0);
	tmb.unref_cell(t);
	tmb.t_sett(T_UNDEFINED, T_BR_UNDEFINED);
	return 0;
}

/* The challenge header of a 401/407 as a NUL-terminated copy, or NULL. */
static char *challenge_of(struct sip_msg *rpl, int code)
{
	if (parse_headers(rpl, HDR_EOH_F, 0) < 0)
		return NULL;
	int want = code == 407 ? HDR_PROXY_AUTHENTICATE_T : HDR_WWW_AUTHENTICATE_T;
	for (struct hdr_field *h = rpl->headers; h; h = h->next) {
		if ((int)h->type != want)
			continue;
		str v = h->body;
		trim(&v);
		if (v.len < 6 || strncasecmp(v.s, "digest", 6) != 0)
			continue; /* another scheme; look for a Digest one */
		char *c = malloc((size_t)v.len + 1);
		if (c) {
			memcpy(c, v.s, v.len);
			c[v.len] = 0;
		}
		return c;
	}
	return NULL;
}

static void on_invite_final(struct cell *t, fc_uac_ctx *ctx, struct sip_msg *rpl, int code)
{
	const char *sid = ctx->sid;
	int faked = rpl == FAKED_REPLY || !rpl;
	if (code >= 200 && code < 300 && !faked) {
		fc_dialog snap;
		fc_leg *l = fc_leg_lock(sid);
		if (!l || l->ended || l->state == FC_CONFIRMED) {
			/* A second 2xx (downstream forking: fc_ack2xx.c ACKs it
			 * and hangs it up) or a leg already gone. */
			fc_leg_unlock(sid);
			LM_INFO("leg %s: extra 2xx ignored\n", sid);
			return;
		}
		memcpy(&snap, &l->dlg, sizeof snap);
		fc_leg_unlock(sid);
		dlg_t *d = fc_dlg_of_2xx(&snap, rpl);
		int ok = d != NULL;
		json_t *ev = json_pack("{s:i,s:s}", "code", code, "sip_call_id", snap.call_id);
		if (ev)
			fc_sipmsg_extras(rpl, ev);
		l = fc_leg_lock(sid);
		int hangup = 0;
		if (l && !l->ended) {
			if (ok && fc_dlg_store(&l->dlg, d) == 0)
				l->state = FC_CONFIRMED;
			else
				LM_ERR("leg %s: cannot keep the dialog of the 2xx\n", sid);
			hangup = l->hangup;
			if (ev && l->dlg.rem_tag[0])
				json_object_set_new(ev, "to_tag", json_string(l->dlg.rem_tag));
			if (!hangup && l->state == FC_CONFIRMED) {
				fc_emit(l, "call.answered", ev);
				ev = NULL;
			}
		}
		fc_leg_unlock(sid);
		json_decref(ev);
		if (d)
			tmb.free_dlg(d);
		if (hangup || !ok) {
			/* The 2xx raced our CANCEL (fc_ack2xx.c has queued its
			 * ACK first): hang up with BYE from the bus process. */
			fc_queue_push_local(json_pack("{s:i,s:s,s:s,s:s}", "v", 1, "op", "hangup",
			                              "call_sid", sid, "id", ""));
		}
		return;
	}
	if ((code == 401 || code == 407) && !faked) {
		fc_leg *l = fc_leg_lock(sid);
		int retry = l && !l->ended && !l->hangup && l->auth_user[0] &&
		            l->auth_tries < FC_MAX_AUTH_TRIES;
		fc_leg_unlock(sid);
		char *chal = retry ? challenge_of(rpl, code) : NULL;
		if (chal) {
			/* Once per challenge: a repeated challenge is answered
			 * again only when it says the nonce was stale. */
			fc_challenge ch;
			int stale = fc_digest_parse(chal, strlen(chal), &ch) == 0 && ch.stale;
			l = fc_leg_lock(sid);
			retry = l && (l->auth_tries == 0 || stale);
			fc_leg_unlock(sid);
			if (retry) {
				json_t *c = json_pack("{s:i,s:s,s:s,s:s,s:i,s:s}", "v", 1, "op",
				                      "auth", "call_sid", sid, "id", "", "code",
				                      code, "challenge", chal);
				free(chal);
				if (c && fc_queue_push_local(c) == 0)
					return;
			} else {
				free(chal);
			}
		}
	}
	/* A final failure. */
	json_t *ev = json_pack("{s:i}", "code", code);
	if (ev && !faked)
		fc_sipmsg_extras(rpl, ev);
	fc_leg *l = fc_leg_lock(sid);
	const char *reason = l && l->hangup         ? "hangup"
	                     : faked && code == 408 ? "timeout"
	                                            : "rejected";
	fc_leg_unlock(sid);
	if (ev)
		json_object_set_new(ev, "reason", json_string(reason));
	fc_end_leg(sid, ev);
	(void)t;
}

static void on_invite_progress(fc_uac_ctx *ctx, struct sip_msg *rpl, int code)
{
	json_t *ev = json_pack("{s:i}", "code", code);
	if (!ev)
		return;
	fc_sipmsg_extras(rpl, ev);
	int has_sdp = json_object_get(ev, "sdp") != NULL;
	str reason = rpl->first_line.u.reply.reason;
	json_object_set_new(ev, "reason", fc_json_str(reason.s, reason.len));
	if (parse_headers(rpl, HDR_TO_F, 0) == 0 && rpl->to && get_to(rpl)->tag_value.len)
		json_object_set_new(
		    ev, "to_tag",
		    fc_json_str(get_to(rpl)->tag_value.s, get_to(rpl)->tag_value.len));
	fc_leg *l = fc_leg_lock(ctx->sid);
	if (l && !l->ended && !l->hangup && l->state != FC_CONFIRMED &&
	    (code != l->last_progress || (has_sdp && !l->progress_sdp))) {
		l->last_progress = code;
		l->progress_sdp |= has_sdp;
		fc_emit(l, "call.progress", ev);
		ev = NULL;
	}
	fc_leg_unlock(ctx->sid);
	json_decref(ev);
}

static void on_request_final(fc_uac_ctx *ctx, struct sip_msg *rpl, int code)
{
	int faked = rpl == FAKED_REPLY || !rpl;
	if (strcmp(ctx->method, "BYE") == 0) {
		fc_end_leg_code(ctx->sid, "hangup", code);
		return;
	}
	json_t *ev =
	    json_pack("{s:s,s:s,s:i}", "req_id", ctx->req_id, "method", ctx->method, "code", code);
	if (ev && !faked)
		fc_sipmsg_extras(rpl, ev);
	fc_leg *l = fc_leg_lock(ctx->sid);
	if (l && !l->ended && ev) {
		fc_emit(l, "dialog.response", ev);
		ev = NULL;
	}
	fc_leg_unlock(ctx->sid);
	json_decref(ev);
	if (code == 481 || (code == 408 && faked)) {
		/* The dialog is gone on the far side. */
		fc_end_leg_code(ctx->sid, "bye", code);
	}
}

void fc_uac_cb(struct cell *t, int type, struct tmcb_params *ps)
{
	fc_uac_ctx *ctx = ps->param ? (fc_uac_ctx *)*ps->param : NULL;
	if (!ctx)
		return;
	if (type & TMCB_DESTROY) {
		shm_free(ctx);
		*ps->param = NULL;
		return;
	}
	int code = ps->code;
	struct sip_msg *rpl = ps->rpl;
	if (type & TMCB_LOCAL_RESPONSE_IN) {
		if (ctx->initial && code > 100 && code < 200 && rpl && rpl != FAKED_REPLY)
			on_invite_progress(ctx, rpl, code);
		/* Every 2xx to our INVITEs, retransmissions too, gets our ACK
		 * (not the 200 to our CANCEL, which shows up here too). */
		if (code >= 200 && code < 300 && strcmp(ctx->method, "INVITE") == 0)
			fc_ack2xx_reply(ctx->sid, ctx->initial, rpl);
		return;
	}
	if (!(type & TMCB_LOCAL_COMPLETED) || code < 200)
		return;
	if (ctx->initial)
		on_invite_final(t, ctx, rpl, code);
	else
		on_request_final(ctx, rpl, code);
}
