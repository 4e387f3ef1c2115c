/* api_calls.c — the Calls resource, read side: fetch and list (filters To,
 * From, ParentCallSid, Status, StartTime*, EndTime*) of the fc:call:{CA}
 * hashes written by the call engine (doc/store.md), newest first, and delete
 * of ended calls, and update of live calls (hang up, redirect, cancel a
 * queued one). Create is api_call_create.c. */
#include "api.h"
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

static const char *const carry[] = {
    "To",         "From",    "ParentCallSid", "Status",   "StartTime", "StartTime<",
    "StartTime>", "EndTime", "EndTime<",      "EndTime>", NULL};

static json_t *render(const api_req *q, const json_t *d, int in_list)
{
	(void)in_list;
	static const char *const subs[][2] = {
	    {"notifications", "Notifications"},
	    {"recordings", "Recordings"},
	    {"payments", "Payments"},
	    {"events", "Events"},
	    {"siprec", "Siprec"},
	    {"streams", "Streams"},
	    {"transcriptions", "Transcriptions"},
	    {"user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"},
	    {"user_defined_messages", "UserDefinedMessages"},
	};
	const char *sid = jstr(d, "sid"), *api = jstr(d, "api_version");
	char base[200], uri[220];
	snprintf(base, sizeof base, "%s/Calls/%s", q->base, sid ? sid : "");
	snprintf(uri, sizeof uri, "%s.json", base);
	json_t *o = json_object(), *sub = json_object();
	int ok = o && sub;
	for (size_t i = 0; ok && i < sizeof subs / sizeof subs[0]; i++) {
		char u[260];
		snprintf(u, sizeof u, "%s/%s.json", base, subs[i][1]);
		jput(sub, subs[i][0], json_string(u), &ok);
	}
	if (!ok) {
		json_decref(o);
		json_decref(sub);
		return NULL;
	}
	jput(o, "sid", jtext(sid), &ok);
	jput_date(o, "date_created", jms(d, "date_created"), &ok);
	jput_date(o, "date_updated", jms(d, "date_updated"), &ok);
	jput(o, "parent_call_sid", jtext(jstr(d, "parent_call_sid")), &ok);
	jput(o, "account_sid", jtext(jstr(d, "account_sid")), &ok);
	jput(o, "to", jtext(jstr(d, "to")), &ok);
	jput(o, "to_formatted", jtext(jstr(d, "to_formatted")), &ok);
	jput(o, "from", jtext(jstr(d, "from")), &ok);
	jput(o, "from_formatted", jtext(jstr(d, "from_formatted")), &ok);
	jput(o, "phone_number_sid", jtext(jstr(d, "phone_number_sid")), &ok);
	jput(o, "status", jtext(jstr(d, "status")), &ok);
	jput_date(o, "start_time", jms(d, "start_time"), &ok);
	jput_date(o, "end_time", jms(d, "end_time"), &ok);
	jput(o, "duration", jtext(jstr(d, "duration")), &ok);
	jput(o, "price", json_null(), &ok);
	jput(o, "price_unit", json_string("USD"), &ok);
	jput(o, "direction", jtext(jstr(d, "direction")), &ok);
	jput(o, "answered_by", json_null(), &ok);
	jput(o, "annotation", jtext(jstr(d, "annotation")), &ok);
	jput(o, "api_version", jtext(api ? api : "2010-04-01"), &ok);
	jput(o, "forwarded_from", jtext(jstr(d, "forwarded_from")), &ok);
	jput(o, "group_sid", json_null(), &ok);
	jput(o, "caller_name", jtext(jstr(d, "caller_name")), &ok);
	jput(o, "queue_time", jtext(jstr(d, "queue_time")), &ok);
	jput(o, "trunk_sid", json_null(), &ok);
	jput(o, "uri", json_string(uri), &ok);
	jput(o, "subresource_uris", sub, &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Loads call sid; 1 found, 0 answered 404, -1 answered 500. */
static int load_sid(const api_req *q, api_resp *r, const char *sid, json_t **doc)
{
	*doc = NULL;
	redisReply *h = rstore_cmd("HGETALL fc:call:%s", sid);
	if (!h || h->type != REDIS_REPLY_ARRAY) {
		if (h)
			freeReplyObject(h);
		api_internal(r);
		return -1;
	}
	if (h->elements == 0) {
		freeReplyObject(h);
		api_not_found(r, q);
		return 0;
	}
	*doc = api_hash_doc(h, sid);
	freeReplyObject(h);
	if (!*doc) {
		api_internal(r);
		return -1;
	}
	const char *acct = jstr(*doc, "account_sid");
	if (acct && strcmp(acct, q->cfg->account_sid) != 0) {
		json_decref(*doc);
		*doc = NULL;
		api_not_found(r, q);
		return 0;
	}
	return 1;
}

/* Loads the call of the path. */
static int load(const api_req *q, api_resp *r, json_t **doc)
{
	return load_sid(q, r, q->sid[0], doc);
}

void calls_answer(const api_req *q, api_resp *r, const char *sid, int status)
{
	json_t *doc;
	if (load_sid(q, r, sid, &doc) <= 0)
		return;
	json_t *j = render(q, doc, 0);
	json_decref(doc);
	j ? api_json(r, status, j) : api_internal(r);
}

void calls_answer_reply(const api_req *q, api_resp *r, const redisReply *h, const char *sid,
                        int status)
{
	json_t *doc = h->type == REDIS_REPLY_ARRAY ? api_hash_doc(h, sid) : NULL;
	json_t *j = doc ? render(q, doc, 0) : NULL;
	json_decref(doc);
	j ? api_json(r, status, j) : api_internal(r);
}

void calls_fetch(const api_req *q, api_resp *r)
{
	json_t *doc;
	if (load(q, r, &doc) <= 0)
		return;
	json_t *j = render(q, doc, 0);
	json_decref(doc);
	if (!j)
		api_internal(r);
	else
		api_json(r, 200, j);
}

static int live_status(const char *s)
{
	return s && (!strcmp(s, "queued") || !strcmp(s, "ringing") || !strcmp(s, "in-progress"));
}

/* 1 when fc:live:{sid} exists (sid roots a live call tree), 0 when not,
 * -1 when Redis did not answer. */
static int tree_live(const char *sid)
{
	redisReply *e = rstore_cmd("EXISTS fc:live:%s", sid);
	if (!e)
		return -1;
	int live = e->type == REDIS_REPLY_INTEGER && e->integer > 0;
	freeReplyObject(e);
	return live;
}

/* The call tree a live call belongs to: itself when it is a root, else
 * its parent's tree; 0 when the call is not live. */
static int tree_of(const char *sid, const json_t *doc, char root[64])
{
	const char *cand[2] = {sid, jstr(doc, "parent_call_sid")};
	for (int i = 0; i < 2; i++) {
		if (cand[i] && *cand[i] && tree_live(cand[i]) > 0) {
			snprintf(root, 64, "%s", cand[i]);
			return 1;
		}
	}
	return 0;
}

/* A REST-created call still waiting for its calls-per-second slot ends
 * here, canceled; the api.update that follows tells the instance holding
 * it (its callback). 0, or -1 when Redis failed. */
static int cancel_queued(const char *sid, int retention_s)
{
	char k1[64], k2[64], now[32];
	snprintf(k1, sizeof k1, "fc:live:%s", sid);
	snprintf(k2, sizeof k2, "fc:call:%s", sid);
	snprintf(now, sizeof now, "%lld", (long long)now_ms());
	redisReply *x =
	    rstore_cmd("EVAL %s 2 %s %s %s %d", LUA_CANCEL_QUEUED, k1, k2, now, retention_s);
	if (!x)
		return -1;
	int ok = x->type == REDIS_REPLY_INTEGER;
	freeReplyObject(x);
	return ok ? 0 : -1;
}

/* POST …/Calls/{Sid}.json (twilio-voice.md §5.2): Status=canceled|completed
 * hangs the call up, Url/Twiml redirect it at once. The change is an
 * `api.update` event on fc:events that reaches the instance running the
 * call (bus-protocol.md §12); the answer is the call as it is now. */
void calls_update(const api_req *q, api_resp *r)
{
	json_t *doc;
	if (load(q, r, &doc) <= 0)
		return;
	const char *status = api_nonempty(form_get(q->body, "Status"));
	const char *twiml = api_nonempty(form_get(q->body, "Twiml"));
	const char *url = NULL, *method = "POST", *fb = NULL, *fbm = "POST", *sc = NULL,
	           *scm = "POST";
	json_t *ev = NULL;
	char root[64];
	if (param_url(q, "Url", &url, r) < 0 || param_method(q, "Method", &method, r) < 0 ||
	    param_url(q, "FallbackUrl", &fb, r) < 0 ||
	    param_method(q, "FallbackMethod", &fbm, r) < 0 ||
	    param_url(q, "StatusCallback", &sc, r) < 0 ||
	    param_method(q, "StatusCallbackMethod", &scm, r) < 0)
		goto out;
	if (status && strcmp(status, "canceled") && strcmp(status, "completed")) {
		api_error(r, 400, TW_BAD_PARAM, "Status must be canceled or completed, not %.40s",
		          status);
		goto out;
	}
	if (url && twiml) {
		api_error(r, 400, TW_BAD_PARAM, "Url and Twiml cannot both be given");
		goto out;
	}
	if (twiml) {
		twiml_error err;
		twiml_doc *d =
		    strlen(twiml) > 4000 ? NULL : twiml_parse(twiml, strlen(twiml), &err);
		if (!d) {
			api_error(r, 400, TW_BAD_PARAM, "Twiml is %s",
			          strlen(twiml) > 4000 ? "longer than 4000 characters" : err.msg);
			goto out;
		}
		twiml_free(d);
	}
	if (!status && !url && !twiml && !sc) {
		json_t *j = render(q, doc, 0);
		j ? api_json(r, 200, j) : api_internal(r);
		goto out;
	}
	if (!live_status(jstr(doc, "status")) || !tree_of(q->sid[0], doc, root)) {
		api_error(r, 400, TW_CALL_STATE, "Call is not in-progress. Cannot redirect.");
		goto out;
	}
	if (status && !strcmp(jstr(doc, "status"), "queued") &&
	    cancel_queued(q->sid[0], q->cfg->call_retention_s) < 0) {
		api_internal(r);
		goto out;
	}
	ev = json_pack("{s:i,s:s,s:s,s:s,s:I}", "v", 1, "type", "api.update", "call_sid", q->sid[0],
	               "root", root, "ts", (json_int_t)now_ms());
	if (ev && status)
		json_object_set_new(ev, "status", json_string(status));
	if (ev && (url || twiml)) {
		json_object_set_new(ev, url ? "url" : "twiml", json_string(url ? url : twiml));
		json_object_set_new(ev, "method", json_string(method));
	}
	if (ev && fb) {
		json_object_set_new(ev, "fallback_url", json_string(fb));
		json_object_set_new(ev, "fallback_method", json_string(fbm));
	}
	if (ev && sc) {
		json_object_set_new(ev, "status_callback", json_string(sc));
		json_object_set_new(ev, "status_callback_method", json_string(scm));
	}
	char *js = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	redisReply *x = js ? rstore_cmd("XADD fc:events MAXLEN ~ 100000 * j %s", js) : NULL;
	free(js);
	if (!x || x->type == REDIS_REPLY_ERROR) {
		if (x)
			freeReplyObject(x);
		api_internal(r);
		goto out;
	}
	freeReplyObject(x);
	calls_answer(q, r, q->sid[0], 200);
out:
	json_decref(ev);
	json_decref(doc);
}

void calls_delete(const api_req *q, api_resp *r)
{
	json_t *doc;
	if (load(q, r, &doc) <= 0)
		return;
	const char *st = jstr(doc, "status");
	int live = live_status(st);
	if (!live && (live = tree_live(q->sid[0])) < 0) {
		json_decref(doc);
		api_internal(r);
		return;
	}
	if (live) {
		api_error(r, 400, TW_INCOMPLETE,
		          "Cannot delete call %s while it is in progress (status %s)", q->sid[0],
		          st ? st : "unknown");
		json_decref(doc);
		return;
	}
	json_decref(doc);
	int ok = rstore_append("MULTI") == 0 && rstore_append("DEL fc:call:%s", q->sid[0]) == 0 &&
	         rstore_append("ZREM fc:calls:%s %s", q->cfg->account_sid, q->sid[0]) == 0 &&
	         rstore_append("EXEC") == 0;
	for (int i = 0; ok && i < 4; i++) {
		redisReply *x = rstore_reply();
		ok = x && x->type != REDIS_REPLY_ERROR && (i < 3 || x->type == REDIS_REPLY_ARRAY);
		if (x)
			freeReplyObject(x);
	}
	if (ok)
		api_no_content(r);
	else
		api_internal(r);
}

/* ---- list ---------------------------------------------------------------- */

struct filter {
	const char *acct, *to, *from, *parent, *status;
	time_filter start, end;
};

/* Equal as written, or as the same E.164 number. */
static int same_party(const char *a, const char *b)
{
	if (!a)
		return 0;
	if (!strcmp(a, b))
		return 1;
	char x[32], y[32];
	return e164_normalize(a, x, sizeof x) == 0 && e164_normalize(b, y, sizeof y) == 0 &&
	       !strcmp(x, y);
}

static int match(const json_t *d, const void *ctx)
{
	const struct filter *f = ctx;
	const char *acct = jstr(d, "account_sid");
	const char *parent = jstr(d, "parent_call_sid"), *status = jstr(d, "status");
	if (acct && strcmp(acct, f->acct) != 0)
		return 0;
	if (f->to && !same_party(jstr(d, "to"), f->to))
		return 0;
	if (f->from && !same_party(jstr(d, "from"), f->from))
		return 0;
	if (f->parent && (!parent || strcmp(parent, f->parent) != 0))
		return 0;
	if (f->status && (!status || strcasecmp(status, f->status) != 0))
		return 0;
	return time_filter_match(&f->start, jms(d, "start_time")) &&
	       time_filter_match(&f->end, jms(d, "end_time"));
}

void calls_list(const api_req *q, api_resp *r)
{
	struct filter f = {
	    .acct = q->cfg->account_sid,
	    .to = api_nonempty(form_get(q->query, "To")),
	    .from = api_nonempty(form_get(q->query, "From")),
	    .parent = api_nonempty(form_get(q->query, "ParentCallSid")),
	    .status = api_nonempty(form_get(q->query, "Status")),
	};
	if (time_filter_parse(q, "StartTime", &f.start, r) < 0 ||
	    time_filter_parse(q, "EndTime", &f.end, r) < 0)
		return;
	char zk[96];
	snprintf(zk, sizeof zk, "fc:calls:%s", q->cfg->account_sid);
	page_src s = {
	    .zkey = zk,
	    .newest_first = 1,
	    .doc_prefix = "fc:call:",
	    .doc_is_hash = 1,
	    .list_key = "calls",
	    .carry = carry,
	    .match = match,
	    .render = render,
	    .ctx = &f,
	};
	page_list(q, &s, r);
}
