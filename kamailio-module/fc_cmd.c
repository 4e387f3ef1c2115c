/* fc_cmd.c — command execution for the bus process (fc_cmd.h). */
#include "fc_cmd.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "../../core/dprint.h"
#include "fc_mod.h"
#include "fc_queue.h"

static const char *reserved_hdrs[] = {"via", "to", "from", "call-id", "cseq", "content-length",
				      "content-type", "contact", "record-route", "route",
				      "max-forwards", NULL};

int fc_hdr_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
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

/* "Name: value\r\n" lines from [[name, value], ...]; NULL + err on bad input. */
static char *build_headers(json_t *arr, char *err, size_t errlen)
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
		if (!k || !v || !fc_hdr_name_ok(k) || !fc_hdr_value_ok(v)) {
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
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 480: return "Temporarily Unavailable";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	default: return code < 200 ? "Session Progress" : code < 300 ? "OK" : "Error";
	}
}

static void op_reply(json_t *cmd, const char *sid, const char *id)
{
	char err[160];
	json_int_t code = json_integer_value(json_object_get(cmd, "code"));
	const char *reason = json_string_value(json_object_get(cmd, "reason"));
	if (code < 101 || code > 699 || code == 200) {
		/* 2xx needs SDP and a dialog: the answer op of a later protocol version. */
		report_failure(sid, id, "reply", "code must be 101-699 and not 2xx");
		return;
	}
	if (!reason || !*reason || !fc_hdr_value_ok(reason) || strlen(reason) > 128)
		reason = std_reason((int)code);
	char *hdrs = build_headers(json_object_get(cmd, "headers"), err, sizeof err);
	if (!hdrs) {
		report_failure(sid, id, "reply", err);
		return;
	}
	if (fc_reply_leg(sid, (int)code, reason, hdrs, id, err, sizeof err) < 0)
		report_failure(sid, id, "reply", err);
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
	} else {
		report_failure(sid, id, op, "unknown op");
	}
	json_decref(cmd);
}
