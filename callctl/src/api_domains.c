/* api_domains.c — the SIP/Domains resource: create, list, fetch, update
 * (DomainName included), delete, stored as fc:sd:{SD}, fc:sds:{AC} and
 * fc:sdidx:{AC} (doc/store.md), rendered in Twilio's shape. */
#include "api.h"
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
    {"VoiceStatusCallbackUrl", "voice_status_callback_url", P_URL},
    {"VoiceStatusCallbackMethod", "voice_status_callback_method", P_METHOD},
};

static void keys(const api_req *q, const char *sid, char *doc, char *zset, char *idx)
{
	snprintf(doc, 96, "fc:sd:%s", sid);
	snprintf(zset, 96, "fc:sds:%s", q->cfg->account_sid);
	snprintf(idx, 96, "fc:sdidx:%s", q->cfg->account_sid);
}

/* Lowercases a hostname into out (size >= 254) when it is valid: labels of
 * 1..63 letters, digits and '-' (not at either end), 253 characters at most. */
static int domain_name(const char *in, char *out)
{
	size_t len = strlen(in);
	if (len == 0 || len > 253)
		return -1;
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = in[i];
		if (c == '.' || c == 0) {
			if (label == 0 || label > 63 || out[i - 1] == '-')
				return -1;
			label = 0;
			out[i] = c;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0)))
			return -1;
		out[i] = c;
		label++;
	}
	return 0;
}

static const char *or_post(const char *m)
{
	return m ? m : "POST";
}

static json_t *render(const api_req *q, const json_t *d, int in_list)
{
	(void)in_list;
	const char *sid = jstr(d, "sid");
	char uri[200], base[128], clm[200], ipm[200], acl[200], aci[200], arc[200];
	snprintf(base, sizeof base, "%.63s/SIP/Domains/%.34s", q->base, sid ? sid : "");
	snprintf(uri, sizeof uri, "%s.json", base);
	snprintf(clm, sizeof clm, "%s/CredentialListMappings.json", base);
	snprintf(ipm, sizeof ipm, "%s/IpAccessControlListMappings.json", base);
	snprintf(acl, sizeof acl, "%s/Auth/Calls/CredentialListMappings.json", base);
	snprintf(aci, sizeof aci, "%s/Auth/Calls/IpAccessControlListMappings.json", base);
	snprintf(arc, sizeof arc, "%s/Auth/Registrations/CredentialListMappings.json", base);
	json_t *o = json_object();
	if (!o)
		return NULL;
	int ok = 1;
	jput(o, "account_sid", jtext(jstr(d, "account_sid")), &ok);
	jput(o, "api_version", json_string("2010-04-01"), &ok);
	jput(o, "auth_type", json_string(""), &ok);
	jput_date(o, "date_created", jms(d, "date_created"), &ok);
	jput_date(o, "date_updated", jms(d, "date_updated"), &ok);
	jput(o, "domain_name", jtext(jstr(d, "domain_name")), &ok);
	jput(o, "friendly_name", jtext(jstr(d, "friendly_name")), &ok);
	jput(o, "sid", jtext(sid), &ok);
	jput(o, "uri", json_string(uri), &ok);
	jput(o, "voice_fallback_method", jtext(or_post(jstr(d, "voice_fallback_method"))), &ok);
	jput(o, "voice_fallback_url", jtext(jstr(d, "voice_fallback_url")), &ok);
	jput(o, "voice_method", jtext(or_post(jstr(d, "voice_method"))), &ok);
	jput(o, "voice_status_callback_method",
	     jtext(or_post(jstr(d, "voice_status_callback_method"))), &ok);
	jput(o, "voice_status_callback_url", jtext(jstr(d, "voice_status_callback_url")), &ok);
	jput(o, "voice_url", jtext(jstr(d, "voice_url")), &ok);
	jput(o, "subresource_uris",
	     json_pack("{s:s, s:s, s:s, s:s, s:s}", "credential_list_mappings", clm,
	               "ip_access_control_list_mappings", ipm,
	               "auth_calls_credential_list_mappings", acl,
	               "auth_calls_ip_access_control_list_mappings", aci,
	               "auth_registrations_credential_list_mappings", arc),
	     &ok);
	jput(o, "sip_registration", json_false(), &ok);
	jput(o, "emergency_calling_enabled", json_false(), &ok);
	jput(o, "secure", json_false(), &ok);
	jput(o, "byoc_trunk_sid", json_null(), &ok);
	jput(o, "emergency_caller_sid", json_null(), &ok);
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

/* The DomainName parameter, validated into out; 0 absent, 1 set, -1 answered. */
static int param_domain(const api_req *q, char *out, api_resp *r)
{
	const char *v = form_get(q->body, "DomainName");
	if (!v)
		return 0;
	if (domain_name(v, out) < 0) {
		api_error(r, 400, TW_BAD_DOMAIN,
		          "DomainName is invalid: %.100s (a hostname: letters, digits, '-' "
		          "and '.')",
		          v);
		return -1;
	}
	return 1;
}

static void taken(api_resp *r, const char *name)
{
	api_error(r, 400, TW_BAD_DOMAIN, "DomainName %s is already in use in this account", name);
}

void domains_create(const api_req *q, api_resp *r)
{
	char name[256];
	int has = param_domain(q, name, r);
	if (has < 0)
		return;
	if (!has) {
		api_error(r, 400, TW_BAD_PARAM,
		          "Missing required parameter DomainName in the post body");
		return;
	}
	char sid[SID_LEN + 1], dk[96], zk[96], ik[96];
	sid_new(sid, "SD");
	keys(q, sid, dk, zk, ik);
	int64_t now = now_ms();
	json_t *doc = json_pack(
	    "{s:s, s:s, s:s, s:n, s:n, s:s, s:n, s:s, s:n, s:s}", "sid", sid, "account_sid",
	    q->cfg->account_sid, "domain_name", name, "friendly_name", "voice_url", "voice_method",
	    "POST", "voice_fallback_url", "voice_fallback_method", "POST",
	    "voice_status_callback_url", "voice_status_callback_method", "POST");
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
	char *text = json_dumps(doc, JSON_COMPACT);
	int rc = text ? rstore_doc_create(dk, zk, ik, name, sid, text, now) : RS_FAIL;
	free(text);
	if (rc == RS_DONE)
		respond(q, r, 201, doc);
	else if (rc == RS_TAKEN)
		taken(r, name);
	else
		api_internal(r);
	json_decref(doc);
}

/* Loads the domain of the path; 1 found, 0 answered 404, -1 answered 500. */
static int load(const api_req *q, api_resp *r, json_t **doc, char **raw)
{
	char dk[96], zk[96], ik[96];
	keys(q, q->sid[0], dk, zk, ik);
	return api_load_owned(q, r, dk, doc, raw);
}

void domains_fetch(const api_req *q, api_resp *r)
{
	json_t *doc;
	if (load(q, r, &doc, NULL) <= 0)
		return;
	respond(q, r, 200, doc);
	json_decref(doc);
}

void domains_update(const api_req *q, api_resp *r)
{
	char dk[96], zk[96], ik[96], name[256];
	keys(q, q->sid[0], dk, zk, ik);
	int rename = param_domain(q, name, r);
	if (rename < 0)
		return;
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
		const char *old = jstr(doc, "domain_name");
		char oldname[256];
		snprintf(oldname, sizeof oldname, "%s", old ? old : "");
		if (rename)
			jput(doc, "domain_name", json_string(name), &ok);
		jput(doc, "date_updated", jms_text(now_ms()), &ok);
		char *text = ok ? json_dumps(doc, JSON_COMPACT) : NULL;
		int rc = text ? rstore_doc_replace(dk, ik, q->sid[0], raw, text, oldname,
		                                   rename ? name : oldname)
		              : RS_FAIL;
		free(text);
		free(raw);
		if (rc == RS_DONE)
			respond(q, r, 200, doc);
		else if (rc == RS_TAKEN)
			taken(r, name);
		else if (rc != RS_CHANGED)
			api_internal(r);
		json_decref(doc);
		if (rc != RS_CHANGED)
			return;
	}
	api_internal(r);
}

void domains_delete(const api_req *q, api_resp *r)
{
	char dk[96], zk[96], ik[96];
	keys(q, q->sid[0], dk, zk, ik);
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		json_t *doc;
		char *raw;
		if (load(q, r, &doc, &raw) <= 0)
			return;
		const char *name = jstr(doc, "domain_name");
		int rc = rstore_doc_delete(dk, zk, ik, q->sid[0], raw, name ? name : "");
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

void domains_list(const api_req *q, api_resp *r)
{
	char zk[96];
	snprintf(zk, sizeof zk, "fc:sds:%s", q->cfg->account_sid);
	page_src s = {
	    .zkey = zk,
	    .newest_first = 0,
	    .doc_prefix = "fc:sd:",
	    .doc_is_hash = 0,
	    .list_key = "domains",
	    .carry = NULL,
	    .match = NULL,
	    .render = render,
	    .ctx = NULL,
	};
	page_list(q, &s, r);
}
