/* api_numbers.c — the IncomingPhoneNumbers resource: create, list (filters
 * PhoneNumber, FriendlyName), fetch, update, delete, stored as fc:pn:{PN},
 * fc:pns:{AC} and fc:pnidx:{AC} (doc/store.md), rendered in Twilio's shape. */
#include "api.h"
#include "phone.h"
#include "rstore.h"
#include "sid.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRIES 100 /* compare-and-set attempts under concurrent writers */

static const param_map params[] = {
    {"FriendlyName", "friendly_name", P_NAME},
    {"VoiceUrl", "voice_url", P_URL},
    {"VoiceMethod", "voice_method", P_METHOD},
    {"VoiceFallbackUrl", "voice_fallback_url", P_URL},
    {"VoiceFallbackMethod", "voice_fallback_method", P_METHOD},
    {"StatusCallback", "status_callback", P_URL},
    {"StatusCallbackMethod", "status_callback_method", P_METHOD},
};

static const char *const carry[] = {"PhoneNumber", "FriendlyName", NULL};

static void keys(const api_req *q, const char *sid, char *doc, char *zset, char *idx)
{
	snprintf(doc, 96, "fc:pn:%s", sid);
	snprintf(zset, 96, "fc:pns:%s", q->cfg->account_sid);
	snprintf(idx, 96, "fc:pnidx:%s", q->cfg->account_sid);
}

static const char *or_post(const char *m)
{
	return m ? m : "POST";
}

static json_t *render(const api_req *q, const json_t *d, int in_list)
{
	(void)in_list;
	const char *sid = jstr(d, "sid"), *num = jstr(d, "phone_number");
	const char *fname = jstr(d, "friendly_name"), *sc = jstr(d, "status_callback");
	char dflt[40], uri[200], addons[200];
	format_number(num ? num : "", dflt, sizeof dflt);
	snprintf(uri, sizeof uri, "%s/IncomingPhoneNumbers/%s.json", q->base, sid ? sid : "");
	snprintf(addons, sizeof addons, "%s/IncomingPhoneNumbers/%s/AssignedAddOns.json", q->base,
	         sid ? sid : "");
	json_t *o = json_object();
	if (!o)
		return NULL;
	int ok = 1;
	jput(o, "account_sid", jtext(jstr(d, "account_sid")), &ok);
	jput(o, "address_requirements", json_string("none"), &ok);
	jput(o, "address_sid", json_null(), &ok);
	jput(o, "api_version", json_string("2010-04-01"), &ok);
	jput(o, "beta", json_false(), &ok);
	jput(o, "capabilities",
	     json_pack("{s:b, s:b, s:b, s:b}", "fax", 0, "mms", 0, "sms", 0, "voice", 1), &ok);
	jput_date(o, "date_created", jms(d, "date_created"), &ok);
	jput_date(o, "date_updated", jms(d, "date_updated"), &ok);
	jput(o, "emergency_status", json_string("Inactive"), &ok);
	jput(o, "emergency_address_sid", json_null(), &ok);
	jput(o, "emergency_address_status", json_string("unregistered"), &ok);
	jput(o, "friendly_name", jtext(fname ? fname : dflt), &ok);
	jput(o, "identity_sid", json_null(), &ok);
	jput(o, "origin", json_string("fulcrum"), &ok);
	jput(o, "phone_number", jtext(num), &ok);
	jput(o, "sid", jtext(sid), &ok);
	jput(o, "sms_application_sid", json_null(), &ok);
	jput(o, "sms_fallback_method", json_string("POST"), &ok);
	jput(o, "sms_fallback_url", json_null(), &ok);
	jput(o, "sms_method", json_string("POST"), &ok);
	jput(o, "sms_url", json_null(), &ok);
	jput(o, "status_callback", jtext(sc ? sc : ""), &ok);
	jput(o, "status_callback_method", jtext(or_post(jstr(d, "status_callback_method"))), &ok);
	jput(o, "trunk_sid", json_null(), &ok);
	jput(o, "uri", json_string(uri), &ok);
	jput(o, "voice_application_sid", json_null(), &ok);
	jput(o, "voice_caller_id_lookup", json_false(), &ok);
	jput(o, "voice_fallback_method", jtext(or_post(jstr(d, "voice_fallback_method"))), &ok);
	jput(o, "voice_fallback_url", jtext(jstr(d, "voice_fallback_url")), &ok);
	jput(o, "voice_method", jtext(or_post(jstr(d, "voice_method"))), &ok);
	jput(o, "voice_url", jtext(jstr(d, "voice_url")), &ok);
	jput(o, "bundle_sid", json_null(), &ok);
	jput(o, "voice_receive_mode", json_string("voice"), &ok);
	jput(o, "status", json_string("in-use"), &ok);
	jput(o, "subresource_uris", json_pack("{s:s}", "assigned_add_ons", addons), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void respond(const api_req *q, api_resp *r, int status, const json_t *doc)
{
	json_t *j = render(q, doc, 0);
	if (!j)
		api_internal(r);
	else
		api_json(r, status, j);
}

/* Resets an empty friendly_name to the formatted number. */
static int default_name(json_t *doc)
{
	if (jstr(doc, "friendly_name"))
		return 0;
	char f[40];
	const char *num = jstr(doc, "phone_number");
	format_number(num ? num : "", f, sizeof f);
	return json_object_set_new(doc, "friendly_name", json_string(f));
}

void numbers_create(const api_req *q, api_resp *r)
{
	const char *raw = form_get(q->body, "PhoneNumber");
	if (!raw || !*raw) {
		api_error(r, 400, TW_BAD_PARAM,
		          "Missing required parameter PhoneNumber in the post body%s",
		          form_get(q->body, "AreaCode") ? " (AreaCode is not supported)" : "");
		return;
	}
	char num[32];
	if (e164_normalize(raw, num, sizeof num) < 0 || !e164_valid(num)) {
		api_error(r, 400, TW_BAD_NUMBER, "PhoneNumber is invalid: %.64s", raw);
		return;
	}
	char sid[SID_LEN + 1], dk[96], zk[96], ik[96];
	sid_new(sid, "PN");
	keys(q, sid, dk, zk, ik);
	int64_t now = now_ms();
	json_t *doc = json_pack("{s:s, s:s, s:s, s:n, s:n, s:s, s:n, s:s, s:n, s:s}", "sid", sid,
	                        "account_sid", q->cfg->account_sid, "phone_number", num,
	                        "friendly_name", "voice_url", "voice_method", "POST",
	                        "voice_fallback_url", "voice_fallback_method", "POST",
	                        "status_callback", "status_callback_method", "POST");
	int ok = doc != NULL;
	if (ok) {
		jput(doc, "date_created", jms_text(now), &ok);
		jput(doc, "date_updated", jms_text(now), &ok);
	}
	if (!ok) {
		json_decref(doc);
		api_internal(r);
		return;
	}
	if (apply_params(q, params, sizeof params / sizeof params[0], doc, r) < 0) {
		json_decref(doc);
		return;
	}
	char *text = default_name(doc) == 0 ? json_dumps(doc, JSON_COMPACT) : NULL;
	int rc = text ? rstore_doc_create(dk, zk, ik, num, sid, text, now) : RS_FAIL;
	free(text);
	if (rc == RS_DONE)
		respond(q, r, 201, doc);
	else if (rc == RS_TAKEN)
		api_error(r, 400, TW_NUMBER_TAKEN,
		          "PhoneNumber %s is not available: it already belongs to this account",
		          num);
	else
		api_internal(r);
	json_decref(doc);
}

/* Loads the number of the path; 1 found (doc, raw set), 0 answered 404, -1 answered 500. */
static int load(const api_req *q, api_resp *r, json_t **doc, char **raw)
{
	char dk[96], zk[96], ik[96];
	keys(q, q->sid[0], dk, zk, ik);
	return api_load_owned(q, r, dk, doc, raw);
}

void numbers_fetch(const api_req *q, api_resp *r)
{
	json_t *doc;
	if (load(q, r, &doc, NULL) <= 0)
		return;
	respond(q, r, 200, doc);
	json_decref(doc);
}

void numbers_update(const api_req *q, api_resp *r)
{
	char dk[96], zk[96], ik[96];
	keys(q, q->sid[0], dk, zk, ik);
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		json_t *doc;
		char *raw;
		if (load(q, r, &doc, &raw) <= 0)
			return;
		int ok = apply_params(q, params, sizeof params / sizeof params[0], doc, r) == 0;
		if (!ok) {
			json_decref(doc);
			free(raw);
			return;
		}
		jput(doc, "date_updated", jms_text(now_ms()), &ok);
		const char *num = jstr(doc, "phone_number");
		char *text =
		    ok && num && default_name(doc) == 0 ? json_dumps(doc, JSON_COMPACT) : NULL;
		int rc =
		    text ? rstore_doc_replace(dk, ik, q->sid[0], raw, text, num, num) : RS_FAIL;
		free(text);
		free(raw);
		if (rc == RS_DONE)
			respond(q, r, 200, doc);
		else if (rc != RS_CHANGED)
			api_internal(r);
		json_decref(doc);
		if (rc != RS_CHANGED)
			return;
	}
	api_internal(r);
}

void numbers_delete(const api_req *q, api_resp *r)
{
	char dk[96], zk[96], ik[96];
	keys(q, q->sid[0], dk, zk, ik);
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		json_t *doc;
		char *raw;
		if (load(q, r, &doc, &raw) <= 0)
			return;
		const char *num = jstr(doc, "phone_number");
		int rc = rstore_doc_delete(dk, zk, ik, q->sid[0], raw, num ? num : "");
		free(raw);
		json_decref(doc);
		if (rc == RS_DONE) {
			api_no_content(r);
			return;
		}
		if (rc != RS_CHANGED)
			break;
	}
	api_internal(r);
}

/* ---- list ---------------------------------------------------------------- */

struct filter {
	char pattern[40]; /* digits, '+', '*' (any digit) */
	int has_pattern;
	const char *friendly;
};

/* 1 when pattern occurs in s, '*' matching any digit. */
static int wild_contains(const char *s, const char *pat)
{
	size_t n = strlen(s), m = strlen(pat);
	for (size_t i = 0; i + m <= n; i++) {
		size_t j = 0;
		while (j < m && (pat[j] == s[i + j] ||
		                 (pat[j] == '*' && s[i + j] >= '0' && s[i + j] <= '9')))
			j++;
		if (j == m)
			return 1;
	}
	return 0;
}

static int match(const json_t *d, const void *ctx)
{
	const struct filter *f = ctx;
	if (f->friendly) {
		const char *fn = jstr(d, "friendly_name");
		if (!fn || strcmp(fn, f->friendly) != 0)
			return 0;
	}
	if (f->has_pattern) {
		const char *num = jstr(d, "phone_number");
		if (!num || !f->pattern[0] || !wild_contains(num, f->pattern))
			return 0;
	}
	return 1;
}

void numbers_list(const api_req *q, api_resp *r)
{
	struct filter f = {{0}, 0, NULL};
	const char *v = form_get(q->query, "PhoneNumber");
	if (v && *v) {
		size_t k = 0;
		f.has_pattern = 1;
		for (const char *p = v; *p && k + 1 < sizeof f.pattern; p++)
			if ((*p >= '0' && *p <= '9') || *p == '*' || *p == '+')
				f.pattern[k++] = *p;
		f.pattern[k] = 0;
	}
	v = form_get(q->query, "FriendlyName");
	if (v && *v)
		f.friendly = v;
	char zk[96];
	snprintf(zk, sizeof zk, "fc:pns:%s", q->cfg->account_sid);
	page_src s = {
	    .zkey = zk,
	    .newest_first = 0,
	    .doc_prefix = "fc:pn:",
	    .doc_is_hash = 0,
	    .list_key = "incoming_phone_numbers",
	    .carry = carry,
	    .match = match,
	    .render = render,
	    .ctx = &f,
	};
	page_list(q, &s, r);
}
