/* api_call_create.c — POST …/Calls.json (twilio-voice.md §5.1): checks
 * the parameters with Twilio's error codes, then one Redis script takes the
 * account's next calls-per-second slot, writes the call record (status
 * queued, queue_time) and fc:live, and appends the `api.create` event that
 * an engine instance turns into the SIP call (outbound.c, bus-protocol.md
 * §13). Answers 201 with the call's JSON. */
#include "api.h"
#include "dialtarget.h"
#include "lua_scripts.h"
#include "phone.h"
#include "rstore.h"
#include "sid.h"
#include "timefmt.h"
#include "twiml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decimal integer in [lo, hi]; 0 absent, 1 set, -1 answered 400. */
static int param_int(const api_req *q, const char *name, int lo, int hi, int *out, api_resp *r)
{
	const char *v = api_nonempty(form_get(q->body, name));
	if (!v)
		return 0;
	char *e;
	long x = strtol(v, &e, 10);
	if (*e || e == v || x < lo) {
		api_error(r, 400, TW_BAD_PARAM, "%s must be an integer of at least %d, not %.40s",
		          name, lo, v);
		return -1;
	}
	*out = x > hi ? hi : (int)x;
	return 1;
}

/* StatusCallbackEvent, repeated and/or space-separated → TWIML_EV_*. */
static int callback_events(const api_req *q, unsigned *mask, api_resp *r)
{
	static const struct {
		const char *name;
		unsigned bit;
	} evs[] = {{"initiated", TWIML_EV_INITIATED},
	           {"ringing", TWIML_EV_RINGING},
	           {"answered", TWIML_EV_ANSWERED},
	           {"completed", TWIML_EV_COMPLETED}};
	*mask = 0;
	for (size_t i = 0; i < q->body->n; i++) {
		if (strcmp(q->body->v[i].name, "StatusCallbackEvent"))
			continue;
		const char *p = q->body->v[i].value;
		while (*p) {
			size_t n = strcspn(p, " ,");
			int ok = n == 0;
			for (size_t k = 0; !ok && k < sizeof evs / sizeof evs[0]; k++)
				if (n == strlen(evs[k].name) && !strncasecmp(p, evs[k].name, n)) {
					*mask |= evs[k].bit;
					ok = 1;
				}
			if (!ok) {
				api_error(
				    r, 400, TW_BAD_PARAM,
				    "StatusCallbackEvent must be initiated, ringing, answered or "
				    "completed, not %.*s",
				    (int)(n > 40 ? 40 : n), p);
				return -1;
			}
			p += n;
			p += strspn(p, " ,");
		}
	}
	return 0;
}

/* Characters allowed in From/CallerId when it is not a SIP URI: it becomes
 * the user part of our From header. */
static int user_ok(const char *s)
{
	if (strlen(s) > 128)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("+-_.!~*'()", *p)))
			return 0;
	return 1;
}

static int is_sip(const char *s)
{
	return !strncasecmp(s, "sip:", 4) || !strncasecmp(s, "sips:", 5);
}

/* A SIP URI given as From: one the dial target parser accepts, without
 * headers or credentials. */
static int sip_from_ok(const char *s)
{
	dial_target t;
	memset(&t, 0, sizeof t);
	int ok = !strchr(s, '?') && dialtarget_sip(s, NULL, NULL, &t, NULL, 0) == 0;
	dialtarget_free(&t);
	return ok;
}

/* SipAuthUsername/SipAuthPassword (twilio-voice.md §5.1). */
static int sip_auth(const char *user, const char *pass, api_resp *r)
{
	if (!user && !pass)
		return 0;
	if (!user) {
		api_error(r, 400, TW_BAD_PARAM, "SipAuthPassword needs SipAuthUsername");
		return -1;
	}
	if (!pass) {
		api_error(r, 400, 21225, "SipAuthPassword is required when SipAuthUsername is set");
		return -1;
	}
	if (strlen(pass) > 255) {
		api_error(r, 400, 21223, "SipAuthPassword must be shorter than 256 characters");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)user; *p; p++)
		if (*p < 0x21 || *p == 0x7f || strchr("\":<>@", *p) || strlen(user) > 127) {
			api_error(r, 400, 21222, "SipAuthUsername contains illegal characters");
			return -1;
		}
	for (const unsigned char *p = (const unsigned char *)pass; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			api_error(r, 400, 21224, "SipAuthPassword contains illegal characters");
			return -1;
		}
	return 0;
}

/* Optional features this version does not have: refused rather than
 * silently ignored. */
static int unsupported(const api_req *q, api_resp *r)
{
	static const char *const flags[] = {"Record", "AsyncAmd", NULL};
	for (int i = 0; flags[i]; i++) {
		const char *v = api_nonempty(form_get(q->body, flags[i]));
		if (v && strcasecmp(v, "false")) {
			api_error(r, 400, TW_BAD_PARAM,
			          "%s is not supported by this Fulcrum version", flags[i]);
			return -1;
		}
	}
	static const char *const params[] = {"MachineDetection", "ApplicationSid", "Byoc",
	                                     "CallToken", NULL};
	for (int i = 0; params[i]; i++)
		if (api_nonempty(form_get(q->body, params[i]))) {
			api_error(r, 400, TW_BAD_PARAM,
			          "%s is not supported by this Fulcrum version", params[i]);
			return -1;
		}
	return 0;
}

typedef struct create_in {
	const char *to, *from, *url, *method, *twiml, *fb, *fbm, *sc, *scm, *digits, *user, *pass,
	    *cid;
	unsigned events;
	int timeout, time_limit;
	char to_shown[600], to_fmt[64], from_shown[300], from_fmt[64];
} create_in;

/* To: a SIP URI (with ?headers), a phone number for the trunk; client:
 * needs Clients. Fills the To shown in the record and webhooks. */
static int check_to(const api_req *q, create_in *in, api_resp *r)
{
	dial_target t;
	memset(&t, 0, sizeof t);
	char err[256] = "";
	int code;
	if (!strncasecmp(in->to, "client:", 7)) {
		api_error(r, 400, 21211,
		          "Invalid 'To': client: targets are not supported by this "
		          "Fulcrum version");
		return -1;
	}
	if (is_sip(in->to)) {
		code = dialtarget_sip(in->to, in->user, in->pass, &t, err, sizeof err);
		if (!code)
			snprintf(in->to_shown, sizeof in->to_shown, "%s", t.ruri);
	} else {
		code = dialtarget_number(in->to, q->cfg->pstn_trunk, q->cfg->pstn_user,
		                         q->cfg->pstn_pass, &t, err, sizeof err);
		if (!code)
			snprintf(in->to_shown, sizeof in->to_shown, "%s", t.number);
	}
	dialtarget_free(&t);
	if (code == 13224 && !is_sip(in->to)) {
		api_error(r, 400, 21215,
		          "No route to %.40s: this Fulcrum has no PSTN trunk (FULCRUM_PSTN_TRUNK)",
		          in->to);
		return -1;
	}
	if (code) {
		api_error(r, 400, 21211, "Invalid 'To' %s: %s",
		          is_sip(in->to) ? "SIP URI" : "Phone Number", err);
		return -1;
	}
	if (is_sip(in->to))
		snprintf(in->to_fmt, sizeof in->to_fmt, "%.63s", in->to_shown);
	else
		format_number(in->to_shown, in->to_fmt, sizeof in->to_fmt);
	return 0;
}

/* From (and CallerId): a phone number when To is one (Twilio 21212),
 * else a SIP URI or a user part. */
static int check_from(const char *what, const char *v, int to_sip, char *shown, size_t n, char *fmt,
                      size_t fn, api_resp *r)
{
	char e164[32];
	int num = e164_normalize(v, e164, sizeof e164) == 0;
	if (!to_sip && !num) {
		api_error(r, 400, 21212, "Invalid '%s' Phone Number: %.60s", what, v);
		return -1;
	}
	if (!num && !(is_sip(v) ? sip_from_ok(v) : user_ok(v))) {
		api_error(r, 400, 21212, "Invalid '%s': %.60s", what, v);
		return -1;
	}
	if (shown) {
		snprintf(shown, n, "%s", num && !is_sip(v) ? e164 : v);
		if (num && !is_sip(v))
			format_number(e164, fmt, fn);
		else
			snprintf(fmt, fn, "%.*s", (int)fn - 1, v);
	}
	return 0;
}

static int check(const api_req *q, create_in *in, api_resp *r)
{
	const form *b = q->body;
	in->to = api_nonempty(form_get(b, "To"));
	in->from = api_nonempty(form_get(b, "From"));
	in->twiml = api_nonempty(form_get(b, "Twiml"));
	in->digits = api_nonempty(form_get(b, "SendDigits"));
	in->user = api_nonempty(form_get(b, "SipAuthUsername"));
	in->pass = api_nonempty(form_get(b, "SipAuthPassword"));
	in->cid = api_nonempty(form_get(b, "CallerId"));
	in->method = in->fbm = in->scm = "POST";
	in->timeout = 60;
	in->time_limit = 14400;
	if (!in->to) {
		api_error(r, 400, 21201, "No 'To' number is specified");
		return -1;
	}
	if (!in->from) {
		api_error(r, 400, 21213, "No 'From' number is specified");
		return -1;
	}
	if (unsupported(q, r) < 0 || param_url(q, "Url", &in->url, r) < 0 ||
	    param_method(q, "Method", &in->method, r) < 0 ||
	    param_url(q, "FallbackUrl", &in->fb, r) < 0 ||
	    param_method(q, "FallbackMethod", &in->fbm, r) < 0 ||
	    param_url(q, "StatusCallback", &in->sc, r) < 0 ||
	    param_method(q, "StatusCallbackMethod", &in->scm, r) < 0 ||
	    callback_events(q, &in->events, r) < 0 ||
	    param_int(q, "Timeout", 1, 600, &in->timeout, r) < 0 ||
	    param_int(q, "TimeLimit", 1, 86400, &in->time_limit, r) < 0 ||
	    sip_auth(in->user, in->pass, r) < 0)
		return -1;
	if (in->url) {
		in->twiml = NULL; /* §5.1: with both, Twiml is ignored */
	} else if (!in->twiml) {
		api_error(r, 400, TW_BAD_URL, "A 'Url' or 'Twiml' parameter is required");
		return -1;
	} else {
		twiml_error err;
		size_t n = strlen(in->twiml);
		twiml_doc *d = n > 4000 ? NULL : twiml_parse(in->twiml, n, &err);
		if (!d) {
			api_error(r, 400, TW_BAD_PARAM, "Twiml is %s",
			          n > 4000 ? "longer than 4000 characters" : err.msg);
			return -1;
		}
		twiml_free(d);
	}
	if (in->digits && (strlen(in->digits) > 32 ||
	                   strspn(in->digits, "0123456789ABCDabcd#*wW") != strlen(in->digits))) {
		api_error(r, 400, TW_BAD_PARAM,
		          "SendDigits must be at most 32 of 0-9 A-D # * w W, not %.40s",
		          in->digits);
		return -1;
	}
	if (check_to(q, in, r) < 0)
		return -1;
	int to_sip = is_sip(in->to);
	if (check_from("From", in->from, to_sip, in->from_shown, sizeof in->from_shown,
	               in->from_fmt, sizeof in->from_fmt, r) < 0 ||
	    (in->cid && check_from("CallerId", in->cid, to_sip, NULL, 0, NULL, 0, r) < 0))
		return -1;
	return 0;
}

/* The api.create event (bus-protocol.md §13). */
static char *event_json(const create_in *in, const char *sid)
{
	json_t *e = json_pack(
	    "{s:i,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:i,s:i,s:i}", "v", 1, "type", "api.create",
	    "call_sid", sid, "root", sid, "ts", (json_int_t)now_ms(), "to", in->to, "to_shown",
	    in->to_shown, "from", in->from_shown, "method", in->method, "timeout", in->timeout,
	    "time_limit", in->time_limit, "status_callback_events", (int)in->events);
	if (!e)
		return NULL;
	const char *opt[][2] = {{"url", in->url},
	                        {"twiml", in->twiml},
	                        {"fallback_url", in->fb},
	                        {"fallback_method", in->fbm},
	                        {"status_callback", in->sc},
	                        {"status_callback_method", in->scm},
	                        {"send_digits", in->digits},
	                        {"sip_auth_username", in->user},
	                        {"sip_auth_password", in->pass},
	                        {"caller_id", in->cid}};
	for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
		if (opt[i][1])
			json_object_set_new(e, opt[i][0], json_string(opt[i][1]));
	char *s = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	return s;
}

void calls_create(const api_req *q, api_resp *r)
{
	create_in in;
	memset(&in, 0, sizeof in);
	if (check(q, &in, r) < 0)
		return;
	char sid[SID_LEN + 1], now[32], interval[16];
	sid_new(sid, "CA");
	snprintf(now, sizeof now, "%lld", (long long)now_ms());
	snprintf(interval, sizeof interval, "%d", q->cfg->cps > 0 ? 1000 / q->cfg->cps : 0);
	char *ev = event_json(&in, sid);
	if (!ev) {
		api_internal(r);
		return;
	}
	char k1[64], k2[96], k3[64], k4[96];
	snprintf(k1, sizeof k1, "fc:call:%s", sid);
	snprintf(k2, sizeof k2, "fc:calls:%s", q->cfg->account_sid);
	snprintf(k3, sizeof k3, "fc:live:%s", sid);
	snprintf(k4, sizeof k4, "fc:cps:%s", q->cfg->account_sid);
	const char *argv[] = {"EVAL",
	                      LUA_CREATE,
	                      "5",
	                      k1,
	                      k2,
	                      k3,
	                      k4,
	                      "fc:events",
	                      now,
	                      interval,
	                      ev,
	                      "sid",
	                      sid,
	                      "account_sid",
	                      q->cfg->account_sid,
	                      "to",
	                      in.to_shown,
	                      "to_formatted",
	                      in.to_fmt,
	                      "from",
	                      in.from_shown,
	                      "from_formatted",
	                      in.from_fmt,
	                      "status",
	                      "queued",
	                      "direction",
	                      "outbound-api",
	                      "api_version",
	                      "2010-04-01",
	                      "date_created",
	                      now,
	                      "date_updated",
	                      now,
	                      "send_digits",
	                      in.digits ? in.digits : ""};
	size_t argc = sizeof argv / sizeof argv[0] - (in.digits ? 0 : 2);
	redisReply *x = rstore_cmdargv((int)argc, argv, NULL);
	free(ev);
	if (!x || x->type == REDIS_REPLY_ERROR) {
		if (x)
			freeReplyObject(x);
		api_internal(r);
		return;
	}
	calls_answer_reply(q, r, x, sid, 201);
	freeReplyObject(x);
}
