/* relay.c — in-dialog requests between the caller and the leg bridged to it
 * (bus-protocol.md §8): a re-INVITE or UPDATE (hold, resume, codec change)
 * is re-offered through rtpengine and sent to the peer; the peer's answer
 * goes back through rtpengine into the reply of the parked request. INFO
 * is passed through as is. Without a peer the caller's re-INVITE is
 * answered by rtpengine's virtual peer (kamailio-rtpengine.md §5.3).
 * REFER and the news of our own REFERs are passed on to transfer.c and
 * refer.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "media.h"

typedef struct relay_ctx {
	call *c;
	char from[40], to[40]; /* the leg that asked, its peer */
	char txn[32];
	char method[16];
	int code;
} relay_ctx;

static void reply_txn(call *c, const char *leg, const char *txn, int code, const char *sdp,
                      json_t *body_src)
{
	json_t *cmd = json_pack("{s:s,s:i,s:s}", "op", "reply", "code", code, "txn", txn);
	if (!cmd)
		return;
	if (sdp)
		json_object_set_new(cmd, "sdp", json_string(sdp));
	else if (body_src && json_object_get(body_src, "body") &&
	         json_object_get(body_src, "content_type")) {
		json_object_set(cmd, "body", json_object_get(body_src, "body"));
		json_object_set(cmd, "content_type", json_object_get(body_src, "content_type"));
	}
	eng_cmd(c, c->proxy, leg, cmd);
}

static const char *peer_of(call *c, const char *sid)
{
	if (!c->bridged[0])
		return NULL;
	if (!strcmp(sid, c->leg))
		return c->bridged;
	if (!strcmp(sid, c->bridged))
		return c->leg;
	return NULL;
}

/* The tag of sid in the bridge the relay goes through: while a transfer's
 * Dial rings, the principal's old tag still faces the old bridge. */
static const char *tag_of(call *c, const char *sid)
{
	const char *old = transfer_old_tag(c);
	return old && !strcmp(sid, c->leg) ? old : eng_tag(c, sid);
}

/* Keeps the bridge's SDPs current: ours = the SDP sid got from us, else
 * the SDP sid sent. */
static void set_sdp(call *c, const char *sid, int ours, const char *sdp)
{
	char **slot = NULL;
	if (!strcmp(sid, c->leg))
		slot = ours ? &c->our_sdp : &c->a_sdp;
	else if (c->bridged[0] && !strcmp(sid, c->bridged))
		slot = ours ? &c->b_our_sdp : &c->b_sdp;
	if (!slot || !sdp)
		return;
	free(*slot);
	*slot = strdup(sdp);
}

static relay_ctx *ctx_new(call *c, const char *from, const char *to, const char *txn,
                          const char *method)
{
	relay_ctx *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	x->c = c;
	snprintf(x->from, sizeof x->from, "%s", from);
	snprintf(x->to, sizeof x->to, "%s", to ? to : "");
	snprintf(x->txn, sizeof x->txn, "%s", txn);
	snprintf(x->method, sizeof x->method, "%s", method);
	call_ref(c);
	return x;
}

static void ctx_free(relay_ctx *x)
{
	call_unref(x->c);
	free(x);
}

/* rtpengine's offer for the peer is ready: send the request. */
static void offered(const char *sdp, const char *err, void *ud)
{
	relay_ctx *x = ud;
	call *c = x->c;
	if (!c->dead) {
		if (!sdp) {
			LOGW("call %s: re-offer from %s failed: %s", c->sid, x->from, err);
			reply_txn(c, x->from, x->txn, 488, NULL, NULL);
		} else {
			char req_id[96];
			snprintf(req_id, sizeof req_id, "%s|%s", x->from, x->txn);
			set_sdp(c, x->to, 1, sdp);
			eng_cmd(c, c->proxy, x->to,
			        json_pack("{s:s,s:s,s:s,s:s}", "op", "request", "method", x->method,
			                  "req_id", req_id, "sdp", sdp));
		}
	}
	ctx_free(x);
}

/* rtpengine's answer for the asking leg is ready: complete its request. */
static void answered(const char *sdp, const char *err, void *ud)
{
	relay_ctx *x = ud;
	call *c = x->c;
	if (!c->dead) {
		if (!sdp)
			LOGW("call %s: re-answer for %s failed: %s", c->sid, x->from, err);
		reply_txn(c, x->from, x->txn, sdp ? x->code : 500, sdp, NULL);
		set_sdp(c, x->from, 1, sdp);
	}
	ctx_free(x);
}

static void on_request(call *c, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	const char *method = json_string_value(json_object_get(ev, "method"));
	const char *txn = json_string_value(json_object_get(ev, "txn"));
	const char *sdp = json_string_value(json_object_get(ev, "sdp"));
	if (!sid || !method || !txn)
		return;
	const char *peer = peer_of(c, sid);
	int is_offer = !strcmp(method, "INVITE") || !strcmp(method, "UPDATE");
	if (!is_offer) { /* INFO */
		if (!peer) {
			reply_txn(c, sid, txn, 200, NULL, NULL);
			return;
		}
		char req_id[96];
		snprintf(req_id, sizeof req_id, "%s|%s", sid, txn);
		json_t *cmd =
		    json_pack("{s:s,s:s,s:s}", "op", "request", "method", method, "req_id", req_id);
		if (cmd && json_object_get(ev, "body") && json_object_get(ev, "content_type")) {
			json_object_set(cmd, "body", json_object_get(ev, "body"));
			json_object_set(cmd, "content_type", json_object_get(ev, "content_type"));
		}
		eng_cmd(c, c->proxy, peer, cmd);
		return;
	}
	if (!sdp) {
		/* A re-INVITE without an offer would need a late-offer relay. */
		reply_txn(c, sid, txn, 488, NULL, NULL);
		return;
	}
	int principal = !strcmp(sid, c->leg);
	if (principal && transfer_old_tag(c)) {
		/* A transfer's Dial is being offered the principal's media: a
		 * new offer now would race it (RFC 3261 §14.2: try again). */
		reply_txn(c, sid, txn, 491, NULL, NULL);
		return;
	}
	set_sdp(c, sid, 0, sdp);
	relay_ctx *x = ctx_new(c, sid, peer, txn, method);
	if (!x)
		return;
	int rc;
	if (peer) {
		rc = media_offer(c->sid, tag_of(c, sid), tag_of(c, peer), sdp, offered, x);
	} else if (principal) {
		x->code = 200;
		rc = media_answer_alone(c->sid, eng_tag(c, sid), sdp, answered, x);
	} else {
		rc = -1; /* a leg that is not bridged any more */
	}
	if (rc < 0) {
		reply_txn(c, sid, txn, peer || principal ? 500 : 481, NULL, NULL);
		ctx_free(x);
	}
}

static void on_response(call *c, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	const char *req_id = json_string_value(json_object_get(ev, "req_id"));
	const char *method = json_string_value(json_object_get(ev, "method"));
	const char *sdp = json_string_value(json_object_get(ev, "sdp"));
	int code = (int)json_integer_value(json_object_get(ev, "code"));
	const char *bar = req_id ? strchr(req_id, '|') : NULL;
	if (!sid || !method || !bar || bar - req_id >= 40)
		return;
	char from[40];
	memcpy(from, req_id, (size_t)(bar - req_id));
	from[bar - req_id] = 0;
	const char *txn = bar + 1;
	if (code >= 200 && code < 300 && sdp &&
	    (!strcmp(method, "INVITE") || !strcmp(method, "UPDATE"))) {
		relay_ctx *x = ctx_new(c, from, sid, txn, method);
		if (!x)
			return;
		x->code = code;
		set_sdp(c, sid, 0, sdp);
		if (media_answer(c->sid, tag_of(c, from), tag_of(c, sid), sdp, answered, x) < 0) {
			reply_txn(c, from, txn, 500, NULL, NULL);
			ctx_free(x);
		}
		return;
	}
	/* Failures (491 glare included) and INFO answers go back as they are. */
	reply_txn(c, from, txn, code >= 200 ? code : 500, NULL, ev);
}

void relay_on_event(call *c, const char *type, json_t *ev)
{
	const char *method = json_string_value(json_object_get(ev, "method"));
	const char *req_id = json_string_value(json_object_get(ev, "req_id"));
	if (!strcmp(type, "dialog.request") && method && !strcmp(method, "REFER"))
		transfer_on_refer(c, ev);
	else if (!strcmp(type, "dialog.request"))
		on_request(c, ev);
	else if (!strcmp(type, "dialog.notify") ||
	         (!strcmp(type, "dialog.response") && req_id && !strcmp(req_id, "fc-refer")))
		refer_on_event(c, type, ev);
	else if (!strcmp(type, "dialog.response"))
		on_response(c, ev); /* fc-notify, fc-bridge: nothing to do */
}
