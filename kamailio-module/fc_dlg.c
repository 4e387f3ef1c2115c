/* fc_dlg.c — leg dialogs: storing tm dialogs and sending in-dialog requests
 * (fc_dlg.h). */
#include "fc_dlg.h"
#include "fc_sipcheck.h"

#include <stdio.h>
#include <string.h>

#include "../../core/dprint.h"
#include "../../core/mem/mem.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/parser/parse_rr.h"
#include "../../modules/tm/uac.h"
#include "fc_mod.h"
#include "fc_uac.h"

int fc_dlg_store(fc_dialog *d, dlg_t *t)
{
	if (fc_copy(d->call_id, sizeof d->call_id, t->id.call_id.s, t->id.call_id.len) < 0 ||
	    fc_copy(d->loc_tag, sizeof d->loc_tag, t->id.loc_tag.s, t->id.loc_tag.len) < 0 ||
	    fc_copy(d->rem_tag, sizeof d->rem_tag, t->id.rem_tag.s, t->id.rem_tag.len) < 0 ||
	    fc_copy(d->loc_uri, sizeof d->loc_uri, t->loc_uri.s, t->loc_uri.len) < 0 ||
	    fc_copy(d->rem_uri, sizeof d->rem_uri, t->rem_uri.s, t->rem_uri.len) < 0 ||
	    fc_copy(d->rem_target, sizeof d->rem_target, t->rem_target.s, t->rem_target.len) < 0 ||
	    fc_copy(d->dst_uri, sizeof d->dst_uri, t->dst_uri.s, t->dst_uri.len) < 0)
		return -1;
	size_t n = 0;
	d->routes[0] = 0;
	for (rr_t *r = t->route_set; r; r = r->next) {
		if (n + (size_t)r->len + 2 > sizeof d->routes)
			return -1;
		if (n)
			d->routes[n++] = ',';
		memcpy(d->routes + n, r->nameaddr.name.s, r->len);
		n += (size_t)r->len;
		d->routes[n] = 0;
	}
	if (t->loc_seq.value > d->loc_seq)
		d->loc_seq = t->loc_seq.value;
	if (t->send_sock)
		d->send_sock = t->send_sock;
	return 0;
}

fc_uac_ctx *fc_uac_ctx_new(const char *sid, int initial, const char *method, const char *req_id)
{
	fc_uac_ctx *c = shm_malloc(sizeof *c);
	if (!c) {
		SHM_MEM_ERROR;
		return NULL;
	}
	memset(c, 0, sizeof *c);
	snprintf(c->sid, sizeof c->sid, "%s", sid);
	c->initial = initial;
	snprintf(c->method, sizeof c->method, "%s", method);
	if (req_id)
		snprintf(c->req_id, sizeof c->req_id, "%s", req_id);
	return c;
}

void fc_dialog_hdrs(char *out, size_t n, const char *transport)
{
	static const char more[] =
	    "Allow: " FC_ALLOWED_METHODS "\r\nSupported: " FC_SUPPORTED_TAGS "\r\n";
	if (transport && *transport && strcmp(transport, "udp") != 0)
		snprintf(out, n, "Contact: <sip:fulcrum@%s;transport=%s>\r\n%s", fc_advertise,
		         transport, more);
	else
		snprintf(out, n, "Contact: <sip:fulcrum@%s>\r\n%s", fc_advertise, more);
}

static void set(str *s, char *v)
{
	s->s = v;
	s->len = (int)strlen(v);
}

int fc_dlg_build(const fc_dialog *snap, dlg_t *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	set(&d->id.call_id, (char *)snap->call_id);
	set(&d->id.loc_tag, (char *)snap->loc_tag);
	set(&d->id.rem_tag, (char *)snap->rem_tag);
	set(&d->loc_uri, (char *)snap->loc_uri);
	set(&d->rem_uri, (char *)snap->rem_uri);
	set(&d->rem_target, (char *)snap->rem_target);
	if (snap->dst_uri[0])
		set(&d->dst_uri, (char *)snap->dst_uri);
	d->loc_seq.value = snap->loc_seq;
	d->loc_seq.is_set = 1;
	d->state = DLG_CONFIRMED;
	d->send_sock = snap->send_sock;
	if (snap->routes[0] &&
	    parse_rr_body((char *)snap->routes, (int)strlen(snap->routes), &d->route_set) < 0) {
		snprintf(err, errlen, "bad route set");
		return -1;
	}
	if (tmb.calculate_hooks(d) < 0) {
		free_rr(&d->route_set);
		snprintf(err, errlen, "cannot compute the request target");
		return -1;
	}
	return 0;
}

int fc_dlg_send(const char *sid, const char *method, const char *hdrs, const char *body,
                const char *req_id, char *err, size_t errlen)
{
	fc_dialog snap;
	fc_leg *l = fc_leg_lock(sid);
	if (!l || l->ended || l->state != FC_CONFIRMED) {
		snprintf(err, errlen, "%s",
		         !l         ? "no such call"
		         : l->ended ? "call ended"
		                    : "not answered");
		fc_leg_unlock(sid);
		return -1;
	}
	l->dlg.loc_seq++;
	memcpy(&snap, &l->dlg, sizeof snap);
	fc_leg_unlock(sid);

	dlg_t d;
	if (fc_dlg_build(&snap, &d, err, errlen) < 0)
		return -1;
	fc_uac_ctx *ctx = fc_uac_ctx_new(sid, 0, method, req_id);
	if (!ctx) {
		free_rr(&d.route_set);
		snprintf(err, errlen, "no memory");
		return -1;
	}
	str m = {(char *)method, (int)strlen(method)};
	str h = {(char *)(hdrs ? hdrs : ""), hdrs ? (int)strlen(hdrs) : 0};
	str b = {(char *)(body ? body : ""), body ? (int)strlen(body) : 0};
	uac_req_t r;
	/* Our INVITEs are ACKed by fc_ack2xx.c, not by tm (see there). */
	int flags = TMCB_LOCAL_COMPLETED | TMCB_LOCAL_RESPONSE_IN | TMCB_DESTROY;
	if (strcmp(method, "INVITE") == 0)
		flags |= TMCB_DONT_ACK;
	set_uac_req(&r, &m, &h, body ? &b : NULL, &d, flags, fc_uac_cb, ctx);
	int rc = tmb.t_uac(&r);
	free_rr(&d.route_set);
	if (rc < 0) {
		/* tm frees the callback parameter only with a transaction. */
		shm_free(ctx);
		snprintf(err, errlen, "sending %s failed", method);
		return -1;
	}
	return 0;
}

int fc_dlg_send_bare(const fc_dialog *snap, const char *method, unsigned int cseq, char *err,
                     size_t errlen)
{
	fc_dialog copy;
	memcpy(&copy, snap, sizeof copy);
	copy.loc_seq = cseq;
	dlg_t d;
	if (fc_dlg_build(&copy, &d, err, errlen) < 0)
		return -1;
	str m = {(char *)method, (int)strlen(method)};
	uac_req_t r;
	set_uac_req(&r, &m, NULL, NULL, &d, 0, NULL, NULL);
	int rc = tmb.t_uac(&r);
	free_rr(&d.route_set);
	if (rc < 0) {
		snprintf(err, errlen, "sending %s failed", method);
		return -1;
	}
	return 0;
}

dlg_t *fc_dlg_early(const fc_dialog *d, const char **why)
{
	str cid = {(char *)d->call_id, (int)strlen(d->call_id)};
	str ftag = {(char *)d->loc_tag, (int)strlen(d->loc_tag)};
	str from = {(char *)d->loc_uri, (int)strlen(d->loc_uri)};
	str to = {(char *)d->rem_uri, (int)strlen(d->rem_uri)};
	str ruri = {(char *)d->rem_target, (int)strlen(d->rem_target)};
	str dst = {(char *)d->dst_uri, (int)strlen(d->dst_uri)};
	dlg_t *t = NULL;
	if (tmb.new_dlg_uac(&cid, &ftag, d->loc_seq, &from, &to, &t) < 0) {
		*why = "cannot build the dialog";
		return NULL;
	}
	if (tmb.set_dlg_target(t, &ruri, dst.len ? &dst : NULL) < 0) {
		tmb.free_dlg(t);
		*why = "bad target";
		return NULL;
	}
	return t;
}

dlg_t *fc_dlg_of_2xx(const fc_dialog *early, struct sip_msg *rpl)
{
	const char *why;
	dlg_t *d = fc_dlg_early(early, &why);
	if (d && tmb.dlg_response_uac(d, rpl, IS_TARGET_REFRESH) < 0) {
		tmb.free_dlg(d);
		return NULL;
	}
	return d;
}
