/* api_notifications.c — the Notifications resource (read only): account-wide
 * and per-call lists (filters Log, MessageDate*) and fetch, from fc:notif:*,
 * fc:notifs:{AC} and fc:callnotifs:{CA} (doc/store.md, written by
 * notif_store), newest first, in Twilio's shape. */
#include "api.h"
#include "rstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const carry[] = {"Log", "MessageDate", "MessageDate<", "MessageDate>", NULL};

/* A member stored as a string or an integer, as text (buf >= 24). */
static const char *text_of(const json_t *d, const char *k, char *buf)
{
	const json_t *v = json_object_get(d, k);
	if (json_is_integer(v)) {
		snprintf(buf, 24, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return json_string_value(v);
}

static json_t *render(const api_req *q, const json_t *d, int in_list)
{
	const char *sid = jstr(d, "sid"), *call = jstr(d, "call_sid");
	char uri[240], code[24], log[24];
	/* Under …/Calls/{CA}/Notifications the URI names the call, as Twilio's. */
	if (!strncmp(q->sid[0], "CA", 2))
		snprintf(uri, sizeof uri, "%s/Calls/%s/Notifications/%s.json", q->base, q->sid[0],
		         sid ? sid : "");
	else
		snprintf(uri, sizeof uri, "%s/Notifications/%s.json", q->base, sid ? sid : "");
	int64_t created = jms(d, "date_created");
	const char *ec = text_of(d, "error_code", code), *lg = text_of(d, "log", log);
	json_t *o = json_object();
	if (!o)
		return NULL;
	int ok = 1;
	jput(o, "account_sid", jtext(jstr(d, "account_sid")), &ok);
	jput(o, "api_version", json_string("2010-04-01"), &ok);
	jput(o, "call_sid", jtext(call), &ok);
	jput_date(o, "date_created", created, &ok);
	jput_date(o, "date_updated", created, &ok);
	jput(o, "error_code", jtext(ec), &ok);
	jput(o, "log", jtext(lg), &ok);
	jput_date(o, "message_date", created, &ok);
	jput(o, "message_text", jtext(jstr(d, "message_text")), &ok);
	jput(o, "more_info", jtext(jstr(d, "more_info")), &ok);
	jput(o, "request_method", jtext(jstr(d, "request_method")), &ok);
	jput(o, "request_url", jtext(jstr(d, "request_url")), &ok);
	if (!in_list) { /* Twilio returns these three on fetch only */
		jput(o, "request_variables", jtext(jstr(d, "request_variables")), &ok);
		jput(o, "response_body", jtext(jstr(d, "response_body")), &ok);
		jput(o, "response_headers", jtext(jstr(d, "response_headers")), &ok);
	}
	jput(o, "sid", jtext(sid), &ok);
	jput(o, "uri", json_string(uri), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void fetch(const api_req *q, const char *nosid, const char *call, api_resp *r)
{
	char key[96];
	snprintf(key, sizeof key, "fc:notif:%s", nosid);
	json_t *doc;
	int rc = rstore_get_json(key, &doc, NULL);
	if (rc < 0) {
		api_internal(r);
		return;
	}
	const char *acct = rc ? jstr(doc, "account_sid") : NULL,
	           *c = rc ? jstr(doc, "call_sid") : NULL;
	if (!rc || !acct || strcmp(acct, q->cfg->account_sid) != 0 ||
	    (call && (!c || strcmp(c, call) != 0))) {
		json_decref(doc);
		api_not_found(r, q);
		return;
	}
	json_t *j = render(q, doc, 0);
	json_decref(doc);
	if (!j)
		api_internal(r);
	else
		api_json(r, 200, j);
}

void notifs_fetch(const api_req *q, api_resp *r)
{
	fetch(q, q->sid[0], NULL, r);
}

void notifs_fetch_call(const api_req *q, api_resp *r)
{
	fetch(q, q->sid[1], q->sid[0], r);
}

struct filter {
	const char *acct, *log;
	time_filter date;
};

static int match(const json_t *d, const void *ctx)
{
	const struct filter *f = ctx;
	const char *acct = jstr(d, "account_sid");
	char buf[24];
	if (!acct || strcmp(acct, f->acct) != 0)
		return 0;
	if (f->log) {
		const char *lg = text_of(d, "log", buf);
		if (!lg || strcmp(lg, f->log) != 0)
			return 0;
	}
	return time_filter_match(&f->date, jms(d, "date_created"));
}

static void list(const api_req *q, const char *zkey, api_resp *r)
{
	struct filter f = {.acct = q->cfg->account_sid, .log = form_get(q->query, "Log")};
	if (f.log && !*f.log)
		f.log = NULL;
	if (f.log && strcmp(f.log, "0") != 0 && strcmp(f.log, "1") != 0) {
		api_error(r, 400, TW_BAD_PARAM, "Invalid Log: %.20s (0 for errors, 1 for warnings)",
		          f.log);
		return;
	}
	if (time_filter_parse(q, "MessageDate", &f.date, r) < 0)
		return;
	page_src s = {
	    .zkey = zkey,
	    .newest_first = 1,
	    .doc_prefix = "fc:notif:",
	    .doc_is_hash = 0,
	    .list_key = "notifications",
	    .carry = carry,
	    .match = match,
	    .render = render,
	    .ctx = &f,
	};
	page_list(q, &s, r);
}

void notifs_list(const api_req *q, api_resp *r)
{
	char zk[96];
	snprintf(zk, sizeof zk, "fc:notifs:%s", q->cfg->account_sid);
	list(q, zk, r);
}

void notifs_list_call(const api_req *q, api_resp *r)
{
	char zk[96];
	snprintf(zk, sizeof zk, "fc:callnotifs:%s", q->sid[0]);
	list(q, zk, r);
}
