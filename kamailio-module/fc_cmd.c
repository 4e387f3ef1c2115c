/* fc_cmd.c — command execution for the bus process (fc_cmd.h). */
#include "fc_cmd.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "../../core/dprint.h"
#include "fc_ack.h"
#include "fc_ack2xx.h"
#include "fc_dlg.h"
#include "fc_mod.h"
#include "fc_queue.h"
#include "fc_uac.h"

static const char *reserved_hdrs[] = {
    "via",          "to",      "from",         "call-id", "cseq",         "content-length",
    "content-type", "contact", "record-route", "route",   "max-forwards", NULL};

int fc_hdr_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		/* An RFC 3261 token. */
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("-.!%*_+`'~", c)))
			return 0;
	}
	for (int i = 0; reserved_hdrs[i]; i++)
		if (strcasecmp(name, reserved_hdrs[i]) == 0)
			return 0;
	return 1;
}

int fc_hdr_value_ok(const char *value)
{
	size_t n = strlen(value);
	return n <= 1024 && !strpbrk(value, "\r\n");
}

static void report_failure(const char *sid, const char *cmd_id, const char *op, const char *error)
{
	LM_WARN("command %s (%s) for %s failed: %s\n", op ? op : "?", cmd_id ? cmd_id : "-",
	        sid ? sid : "-", error);
	if (!sid)
		return;
	fc_leg *l = fc_leg_lock(sid);
	if (l)
		fc_emit(l, "cmd.failed",
		        json_pack("{s:s,s:s,s:s}", "cmd_id", cmd_id ? cmd_id : "", "op",
		                  op ? op : "", "error", error));
	fc_leg_unlock(sid);
}

/* A dial that never became a leg still ends, so callctl is not left
 * waiting: a call.ended with reason "failed" (unless the leg exists, i.e.
 * the command was a duplicate). */
static void report_failure_root(const char *sid, const char *root, const char *cmd_id,
                                const char *op, const char *error)
{
	fc_leg *l = fc_leg_lock(sid);
	int exists = l != NULL;
	fc_leg_unlock(sid);
	LM_WARN("command %s (%s) for %s failed: %s\n", op, cmd_id ? cmd_id : "-", sid, error);
	if (exists)
		return;
	json_t *ev =
	    json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:I,s:s,s:i,s:s}", "v", 1, "type", "call.ended",
	              "call_sid", sid, "root", root && strlen(root) == FC_SID_LEN ? root : sid,
	              "proxy", fc_proxy_id, "seq", 1, "ts", (json_int_t)fc_now_ms(), "reason",
	              "failed", "code", 500, "error", error);
	if (ev)
		fc_queue_push(ev);
}

char *fc_build_headers(json_t *arr, int outbound, char *err, size_t errlen)
{
	size_t cap = 1, n = 0, i;
	json_t *pair;
	if (!arr)
		return strdup("");
	if (!json_is_array(arr) || json_array_size(arr) > 64) {
		snprintf(err, errlen, "headers must be an array of at most 64 pairs");
		return NULL;
	}
	json_array_foreach(arr, i, pair)
	{
		const char *k = json_string_value(json_array_get(pair, 0));
		const char *v = json_string_value(json_array_get(pair, 1));
		if (!k || !v || !fc_hdr_name_ok(k) || !fc_hdr_value_ok(v) ||
		    (outbound && strncasecmp(k, "X-Twilio", 8) == 0)) {
			snprintf(err, errlen, "header %zu is not allowed", i);
			return NULL;
		}
		cap += strlen(k) + strlen(v) + 4;
	}
	char *out = malloc(cap);
	if (!out) {
		snprintf(err, errlen, "no memory");
		return NULL;
	}
	json_array_foreach(arr, i, pair)
	{
		const char *k = json_string_value(json_array_get(pair, 0));
		const char *v = json_string_value(json_array_get(pair, 1));
		n += (size_t)snprintf(out + n, cap - n, "%s: %s\r\n", k, v);
	}
	out[n] = 0;
	return out;
}

static const char *std_reason(int code)
{
	switch (code) {
	case 180:
		return "Ringing";
	case 181:
		return "Call Is Being Forwarded";
	case 182:
		return "Queued";
	case 183:
		return "Session Progress";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 480:
		return "Temporarily Unavailable";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	case 604:
		return "Does Not Exist Anywhere";
	default:
		return code < 200 ? "Session Progress" : code < 300 ? "OK" : "Error";
	}
}

/* Header lines for a body: Content-Type from the command (sdp → SDP). */
static const char *body_of(json_t *cmd, const char **ctype)
{
	const char *sdp = json_string_value(json_object_get(cmd, "sdp"));
	const char *body = json_string_value(json_object_get(cmd, "body"));
	const char *ct = json_string_value(json_object_get(cmd, "content_type"));
	if (sdp && *sdp) {
		*ctype = "application/sdp";
		return sdp;
	}
	if (body && *body && ct && *ct && fc_hdr_value_ok(ct) && strlen(ct) < 128) {
		*ctype = ct;
		return body;
	}
	*ctype = NULL;
	return NULL;
}

/* extra + "Content-Type: x\r\n" (when ctype); malloc'd. */
static char *with_ctype(const char *extra, const char *ctype)
{
	size_t n = strlen(extra) + (ctype ? strlen(ctype) + 20 : 0) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s%s%s", ctype ? "Content-Type: " : "", ctype ? ctype : "",
		         ctype ? "\r\n" : "", extra);
	return out;
}

static void op_reply(json_t *cmd, const char *sid, const char *id)
{
	char err[160];
	json_int_t code = json_integer_value(json_object_get(cmd, "code"));
	const char *reason = json_string_value(json_object_get(cmd, "reason"));
	const char *txn = json_string_value(json_object_get(cmd, "txn"));
	const char *ctype;
	const char *body = body_of(cmd, &ctype);
	if (code < 101 || code > 699 || (code >= 200 && code < 300 && !txn && !body)) {
		report_failure(sid, id, "reply", "code must be 101-699; a 2xx answer needs sdp");
		return;
	}
	if (body && strlen(body) > 32768) {
		report_failure(sid, id, "reply", "body too large");
		return;
	}
	if (!reason || !*reason || !fc_hdr_value_ok(reason) || strlen(reason) > 128)
		reason = std_reason((int)code);
	char *extra = fc_build_headers(json_object_get(cmd, "headers"), 0, err, sizeof err);
	if (!extra) {
		report_failure(sid, id, "reply", err);
		return;
	}
	char *hdrs = with_ctype(extra, body ? ctype : NULL);
	free(extra);
	if (!hdrs) {
		report_failure(sid, id, "reply", "no memory");
		return;
	}
	if (fc_reply_leg(sid, (int)code, reason, hdrs, body, txn, id, err, sizeof err) < 0)
		report_failure(sid, id, "reply", err);
	free(hdrs);
}

static void op_dial(json_t *cmd, const char *sid, const char *id)
{
	char err[160];
	if (fc_uac_dial(cmd, sid, err, sizeof err) < 0)
		report_failure_root(sid, json_string_value(json_object_get(cmd, "root")), id,
		                    "dial", err);
}

/* Applies the command id once per leg; 1 when it was seen already. */
static int seen(const char *sid, const char *id)
{
	if (!id || !*id)
		return 0;
	fc_leg *l = fc_leg_lock(sid);
	int dup = l && fc_leg_seen_cmd(l, id);
	fc_leg_unlock(sid);
	return dup;
}

static void op_hangup(json_t *cmd, const char *sid, const char *id)
{
	char err[160];
	fc_leg *l = fc_leg_lock(sid);
	if (!l || l->ended) {
		fc_leg_unlock(sid);
		if (id && *id)
			report_failure(sid, id, "hangup", l ? "call ended" : "no such call");
		return;
	}
	int kind = l->kind, state = l->state, again = l->hangup;
	if (state == FC_CONFIRMED)
		l->hangup = 1;
	fc_leg_unlock(sid);
	if (seen(sid, id))
		return;
	char *hdrs =
	    fc_build_headers(json_object_get(cmd, "headers"), kind == FC_LEG_OUT, err, sizeof err);
	if (!hdrs) {
		report_failure(sid, id, "hangup", err);
		return;
	}
	int rc = 0;
	if (state == FC_CONFIRMED) {
		/* An inbound leg's BYE waits for the ACK of our 2xx (fc_ack.c). */
		if ((!again || !(id && *id)) && !(kind == FC_LEG_IN && fc_ack_hold(sid, cmd)))
			rc = fc_dlg_send(sid, "BYE", hdrs, NULL, NULL, err, sizeof err);
	} else if (kind == FC_LEG_OUT) {
		rc = fc_uac_cancel(sid, err, sizeof err);
	} else {
		json_int_t code = json_integer_value(json_object_get(cmd, "code"));
		if (code < 300 || code > 699)
			code = 487;
		rc = fc_reply_leg(sid, (int)code, std_reason((int)code), hdrs, NULL, NULL, NULL,
		                  err, sizeof err);
	}
	free(hdrs);
	if (rc < 0)
		report_failure(sid, id, "hangup", err);
}

static void op_request(json_t *cmd, const char *sid, const char *id)
{
	char err[160];
	const char *method = json_string_value(json_object_get(cmd, "method"));
	const char *req_id = json_string_value(json_object_get(cmd, "req_id"));
	if (!method ||
	    (strcmp(method, "INVITE") && strcmp(method, "UPDATE") && strcmp(method, "INFO") &&
	     strcmp(method, "OPTIONS") && strcmp(method, "REFER") && strcmp(method, "NOTIFY"))) {
		report_failure(sid, id, "request",
		               "method must be INVITE, UPDATE, INFO, OPTIONS, REFER or NOTIFY");
		return;
	}
	if (seen(sid, id))
		return;
	/* A re-INVITE of an inbound leg waits for the ACK of our 2xx. */
	if (!strcmp(method, "INVITE") && fc_ack_hold(sid, cmd))
		return;
	if (!strcmp(method, "REFER")) {
		/* Its NOTIFYs may overtake the 202: accept them from now on. */
		fc_leg *l = fc_leg_lock(sid);
		if (l)
			l->refer_sub = 1;
		fc_leg_unlock(sid);
	}
	const char *ctype;
	const char *body = body_of(cmd, &ctype);
	char *extra = fc_build_headers(json_object_get(cmd, "headers"), 1, err, sizeof err);
	if (!extra) {
		report_failure(sid, id, "request", err);
		return;
	}
	char contact[FC_DIALOG_HDRS_MAX] = "";
	if (!strcmp(method, "INVITE") || !strcmp(method, "UPDATE") || !strcmp(method, "REFER")) {
		fc_leg *l = fc_leg_lock(sid);
		fc_dialog_hdrs(contact, sizeof contact,
		               l && l->kind == FC_LEG_IN ? l->transport : "");
		fc_leg_unlock(sid);
	}
	char *h2 = with_ctype(extra, body ? ctype : NULL);
	size_t n = (h2 ? strlen(h2) : 0) + strlen(contact) + 1;
	char *hdrs = h2 ? malloc(n) : NULL;
	if (hdrs)
		snprintf(hdrs, n, "%s%s", contact, h2);
	free(extra);
	free(h2);
	if (!hdrs) {
		report_failure(sid, id, "request", "no memory");
		return;
	}
	if (fc_dlg_send(sid, method, hdrs, body, req_id ? req_id : "", err, sizeof err) < 0)
		report_failure(sid, id, "request", err);
	free(hdrs);
}

void fc_cmd_exec(const char *json, size_t len)
{
	json_error_t jerr;
	json_t *cmd = json_loadb(json, len, 0, &jerr);
	if (!cmd || !json_is_object(cmd)) {
		LM_WARN("ignoring malformed command: %s\n", cmd ? "not an object" : jerr.text);
		json_decref(cmd);
		return;
	}
	const char *op = json_string_value(json_object_get(cmd, "op"));
	const char *sid = json_string_value(json_object_get(cmd, "call_sid"));
	const char *id = json_string_value(json_object_get(cmd, "id"));
	if (!op || !sid || strlen(sid) != FC_SID_LEN) {
		LM_WARN("ignoring command without op/call_sid\n");
	} else if (strcmp(op, "reply") == 0) {
		op_reply(cmd, sid, id);
	} else if (strcmp(op, "dial") == 0) {
		op_dial(cmd, sid, id);
	} else if (strcmp(op, "hangup") == 0) {
		op_hangup(cmd, sid, id);
	} else if (strcmp(op, "request") == 0) {
		op_request(cmd, sid, id);
	} else if (strcmp(op, "ack") == 0 && id && !*id) {
		/* Local only (fc_ack2xx.c): the ACK of a 2xx to our INVITE. */
		fc_ack2xx_exec(cmd, sid);
	} else if (strcmp(op, "auth") == 0 && id && !*id) {
		/* Local only (fc_uac.c): answer a digest challenge. */
		const char *ch = json_string_value(json_object_get(cmd, "challenge"));
		fc_uac_auth_retry(sid, (int)json_integer_value(json_object_get(cmd, "code")),
		                  ch ? ch : "");
	} else {
		report_failure(sid, id, op, "unknown op");
	}
	json_decref(cmd);
}
