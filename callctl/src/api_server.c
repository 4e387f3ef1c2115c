/* api_server.c — the REST server's HTTP side: libmicrohttpd setup (thread
 * pool), request body accumulation (64 kB cap), routing, Basic auth in
 * constant time, Twilio error bodies (JSON, XML for non-.json paths),
 * GET /health, and the response/JSON/parameter helpers of api.h. */
#include "api.h"
#include "log.h"
#include "phone.h"
#include "rstore.h"
#include "sid.h"
#include "sig.h"
#include "timefmt.h"
#include "twerr.h"
#include "url.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define BODY_MAX (64 * 1024)
#define DISCARD_MAX (1024 * 1024)
#define CONN_MEMORY (128 * 1024) /* per connection: request head + parsed arguments */
#define JSON_CT "application/json; charset=utf-8"
#define XML_CT "application/xml; charset=utf-8"
#define API_PREFIX "/2010-04-01/"
#define ACCOUNTS_PREFIX "/2010-04-01/Accounts/"

struct api_server {
	struct MHD_Daemon *d;
	const fc_config *cfg;
};

typedef void (*api_fn)(const api_req *q, api_resp *r);

/* Paths below /2010-04-01/Accounts/{AccountSid}/, without ".json".
 * "{XX}" is one SID with prefix XX. */
struct route {
	const char *pat;
	api_fn get, post, del;
};

static const struct route routes[] = {
    {"IncomingPhoneNumbers", numbers_list, numbers_create, NULL},
    {"IncomingPhoneNumbers/{PN}", numbers_fetch, numbers_update, numbers_delete},
    {"SIP/Domains", domains_list, domains_create, NULL},
    {"SIP/Domains/{SD}", domains_fetch, domains_update, domains_delete},
    {"Calls", calls_list, calls_create, NULL},
    {"Calls/{CA}", calls_fetch, calls_update, calls_delete},
    {"Calls/{CA}/Notifications", notifs_list_call, NULL, NULL},
    {"Calls/{CA}/Notifications/{NO}", notifs_fetch_call, NULL, NULL},
    {"Notifications", notifs_list, NULL, NULL},
    {"Notifications/{NO}", notifs_fetch, NULL, NULL},
};

enum { K_NONE, K_HEALTH, K_API };

/* Per-request state, created by the URI log callback. */
struct conn {
	char *uri; /* raw request target */
	char *path;
	int started, answered;
	size_t too_big; /* bytes dropped after the body went over BODY_MAX */
	int kind, method, xml;
	const struct route *route;
	char base[64];
	api_req q;
	form query, body;
	api_resp early; /* decided from the head, sent on the final call */
	char *buf;
	size_t len, cap;
	int64_t t0;
};

/* ---- responses ----------------------------------------------------------- */

static void resp_set(api_resp *r, int status, char *body, const char *ctype)
{
	free(r->body);
	r->status = status;
	r->body = body;
	r->ctype = body ? ctype : NULL;
}

void api_internal(api_resp *r)
{
	resp_set(r, 500, twerr_json(TW_INTERNAL, 500, "Internal Server Error"), JSON_CT);
}

void api_json(api_resp *r, int status, json_t *j)
{
	char *s = j ? json_dumps(j, 0) : NULL;
	json_decref(j);
	if (!s) {
		LOGE("api: cannot render a JSON response (out of memory)");
		api_internal(r);
		return;
	}
	resp_set(r, status, s, JSON_CT);
}

void api_error(api_resp *r, int status, int code, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	char *body = n >= 0 ? twerr_json(code, status, msg) : NULL;
	if (n >= 0)
		free(msg);
	if (!body) {
		api_internal(r);
		return;
	}
	resp_set(r, status, body, JSON_CT);
}

void api_not_found(api_resp *r, const api_req *q)
{
	api_error(r, 404, TW_NOT_FOUND, "The requested resource %s was not found", q->path);
}

void api_no_content(api_resp *r)
{
	resp_set(r, 204, NULL, NULL);
}

static char *xml_escape(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += (*p == '<' || *p == '>')    ? 4
		     : *p == '&'                 ? 5
		     : (*p == '"' || *p == '\'') ? 6
		                                 : 1;
	char *o = malloc(n + 1), *w = o;
	if (!o)
		return NULL;
	for (const char *p = s; *p; p++) {
		const char *e = *p == '<'    ? "&lt;"
		                : *p == '>'  ? "&gt;"
		                : *p == '&'  ? "&amp;"
		                : *p == '"'  ? "&quot;"
		                : *p == '\'' ? "&apos;"
		                             : NULL;
		if (e) {
			memcpy(w, e, strlen(e));
			w += strlen(e);
		} else {
			*w++ = *p;
		}
	}
	*w = 0;
	return o;
}

/* Twilio's XML error body, for paths without the .json suffix. */
static void xml_error(api_resp *r, int status, int code, const char *msg)
{
	char *m = xml_escape(msg);
	char *body = NULL;
	if (!m || asprintf(&body,
	                   "<?xml version='1.0' encoding='UTF-8'?>\n<TwilioResponse><RestException>"
	                   "<Code>%d</Code><Message>%s</Message>"
	                   "<MoreInfo>https://www.twilio.com/docs/errors/%d</MoreInfo>"
	                   "<Status>%d</Status></RestException></TwilioResponse>\n",
	                   code, m, code, status) < 0)
		body = NULL;
	free(m);
	if (!body) {
		api_internal(r);
		return;
	}
	resp_set(r, status, body, XML_CT);
}

static void early_error(struct conn *c, api_resp *r, int status, int code, const char *msg)
{
	if (c->xml)
		xml_error(r, status, code, msg);
	else
		api_error(r, status, code, "%s", msg);
}

/* ---- JSON helpers ------------------------------------------------------------ */

int api_load_owned(const api_req *q, api_resp *r, const char *key, json_t **doc, char **raw)
{
	int rc = rstore_get_json(key, doc, raw);
	if (rc < 0) {
		api_internal(r);
		return -1;
	}
	const char *acct = rc ? jstr(*doc, "account_sid") : NULL;
	if (!rc || !acct || strcmp(acct, q->cfg->account_sid) != 0) {
		json_decref(*doc);
		*doc = NULL;
		if (raw) {
			free(*raw);
			*raw = NULL;
		}
		api_not_found(r, q);
		return 0;
	}
	return 1;
}

const char *api_nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int64_t jms(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
	const char *s = json_string_value(v);
	if (!s || !*s || strlen(s) > 18 || s[strspn(s, "0123456789")])
		return -1;
	return strtoll(s, NULL, 10);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t n = (c >= 0xc2 && c <= 0xdf)   ? 2
	           : (c >= 0xe0 && c <= 0xef) ? 3
	           : (c >= 0xf0 && c <= 0xf4) ? 4
	                                      : 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

json_t *jtext(const char *s)
{
	if (!s)
		return json_null();
	const unsigned char *p = (const unsigned char *)s;
	size_t bad = 0;
	for (size_t i = 0; p[i];) {
		size_t n = utf8_seq(p + i);
		bad += !n;
		i += n ? n : 1;
	}
	if (!bad)
		return json_string(s);
	size_t len = strlen(s);
	char *o = malloc(len + 2 * bad + 1), *w = o;
	if (!o)
		return NULL;
	for (size_t i = 0; p[i];) {
		size_t n = utf8_seq(p + i);
		if (n) {
			memcpy(w, p + i, n);
			w += n;
			i += n;
		} else {
			memcpy(w, "\xef\xbf\xbd", 3);
			w += 3;
			i++;
		}
	}
	*w = 0;
	json_t *j = json_string(o);
	free(o);
	return j;
}

void jput(json_t *o, const char *k, json_t *v, int *ok)
{
	if (!v || json_object_set_new(o, k, v) != 0)
		*ok = 0;
}

void jput_date(json_t *o, const char *k, int64_t ms, int *ok)
{
	char buf[40];
	jput(o, k, ms >= 0 ? json_string(rfc2822(buf, ms)) : json_null(), ok);
}

json_t *jms_text(int64_t ms)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%lld", (long long)ms);
	return json_string(buf);
}

/* ---- parameter helpers ------------------------------------------------------- */

int param_url(const api_req *q, const char *name, const char **out, api_resp *r)
{
	const char *v = form_get(q->body, name);
	if (!v)
		return 0;
	if (!*v) {
		*out = NULL;
		return 1;
	}
	if (!url_is_http(v)) {
		api_error(r, 400, TW_BAD_URL, "%s is not a valid URL: %.200s", name, v);
		return -1;
	}
	*out = v;
	return 1;
}

int param_method(const api_req *q, const char *name, const char **out, api_resp *r)
{
	const char *v = form_get(q->body, name);
	if (!v)
		return 0;
	if (!*v || !strcasecmp(v, "POST")) {
		*out = "POST";
		return 1;
	}
	if (!strcasecmp(v, "GET")) {
		*out = "GET";
		return 1;
	}
	api_error(r, 400, TW_BAD_PARAM, "%s must be GET or POST, not %.40s", name, v);
	return -1;
}

int param_friendly(const api_req *q, const char **out, api_resp *r)
{
	const char *v = form_get(q->body, "FriendlyName");
	if (!v)
		return 0;
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		chars += (*p & 0xc0) != 0x80;
	if (chars > 64) {
		api_error(r, 400, TW_BAD_FRIENDLY, "FriendlyName must be at most 64 characters");
		return -1;
	}
	*out = *v ? v : NULL;
	return 1;
}

int apply_params(const api_req *q, const param_map *m, size_t n, json_t *doc, api_resp *r)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = NULL;
		int rc = m[i].kind == P_URL      ? param_url(q, m[i].param, &v, r)
		         : m[i].kind == P_METHOD ? param_method(q, m[i].param, &v, r)
		                                 : param_friendly(q, &v, r);
		if (rc < 0)
			return -1;
		int ok = 1;
		if (rc > 0)
			jput(doc, m[i].field, jtext(v), &ok);
		if (!ok) {
			api_internal(r);
			return -1;
		}
	}
	return 0;
}

void format_number(const char *e164, char *out, size_t n)
{
	if (strlen(e164) == 12 && !strncmp(e164, "+1", 2) &&
	    !e164[2 + strspn(e164 + 2, "0123456789")])
		snprintf(out, n, "(%.3s) %.3s-%.4s", e164 + 2, e164 + 5, e164 + 8);
	else
		snprintf(out, n, "%s", e164);
}

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int parse_filter_date(const char *s, int64_t *ms)
{
	char ymd[11];
	size_t len = strlen(s);
	if (len >= 10 && s[4] == '-' && s[7] == '-') {
		memcpy(ymd, s, 10);
		ymd[10] = 0;
		int64_t d = parse_ymd(ymd);
		if (d < 0)
			return -1;
		if (len == 10) {
			*ms = d;
			return 0;
		}
		const char *t = s + 10;
		if ((*t != 'T' && *t != ' ') || strlen(t) < 9 || !digits(t + 1, 2) || t[3] != ':' ||
		    !digits(t + 4, 2) || t[6] != ':' || !digits(t + 7, 2))
			return -1;
		int hh = atoi(t + 1), mi = atoi(t + 4), ss = atoi(t + 7);
		if (hh > 23 || mi > 59 || ss > 60)
			return -1;
		int64_t v = d + ((int64_t)hh * 3600 + mi * 60 + ss) * 1000;
		t += 9;
		if (*t == '.') {
			int64_t frac = 0, scale = 1000;
			for (t++; *t >= '0' && *t <= '9'; t++) {
				scale /= 10;
				frac += (*t - '0') * scale;
			}
			v += frac;
		}
		if (*t == 'Z' && !t[1]) {
			t++;
		} else if ((*t == '+' || *t == '-') && digits(t + 1, 2)) {
			int sign = *t == '-' ? -1 : 1;
			int oh = atoi(t + 1), om = 0;
			const char *m = t[3] == ':' ? t + 4 : t + 3;
			if (digits(m, 2) && !m[2])
				om = atoi(m);
			else if (*m)
				return -1;
			v -= sign * ((int64_t)oh * 3600 + om * 60) * 1000;
			t += strlen(t);
		}
		if (*t)
			return -1;
		*ms = v;
		return 0;
	}
	int64_t v = parse_rfc2822(s);
	if (v < 0)
		return -1;
	*ms = v;
	return 0;
}

/* ---- request handling -------------------------------------------------------- */

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
	(void)cls;
	(void)con;
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->uri = strdup(uri);
	if (!c->uri) {
		free(c);
		return NULL;
	}
	form_init(&c->query);
	form_init(&c->body);
	c->t0 = mono_ms();
	return c;
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)con;
	(void)toe;
	struct conn *c = *con_cls;
	if (!c)
		return;
	free(c->uri);
	free(c->path);
	free(c->buf);
	free(c->early.body);
	form_free(&c->query);
	form_free(&c->body);
	free(c);
	*con_cls = NULL;
}

static int authorized(const fc_config *cfg, struct MHD_Connection *con)
{
	const char *h =
	    MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h)
		return 0;
	h += strspn(h, " \t");
	if (strncasecmp(h, "Basic", 5) != 0 || (h[5] != ' ' && h[5] != '\t'))
		return 0;
	h += 5;
	h += strspn(h, " \t");
	size_t n = 0;
	unsigned char *d = sig_base64_decode(h, &n);
	if (!d)
		return 0;
	char *s = malloc(n + 1);
	int ok = 0;
	if (s && !memchr(d, 0, n)) {
		memcpy(s, d, n);
		s[n] = 0;
		char *colon = strchr(s, ':');
		if (colon) {
			*colon = 0;
			/* Both comparisons always run. */
			ok = sig_equal(s, cfg->account_sid);
			ok &= sig_equal(colon + 1, cfg->auth_token);
		}
		explicit_bzero(s, n);
	}
	explicit_bzero(d, n);
	free(d);
	free(s);
	return ok;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* Matches rest (no ".json") against a route pattern, filling q->sid. */
static int route_match(const char *pat, const char *rest, api_req *q)
{
	int ns = 0;
	q->sid[0][0] = q->sid[1][0] = 0;
	for (;;) {
		size_t pl = strcspn(pat, "/"), rl = strcspn(rest, "/");
		if (pat[0] == '{') {
			char seg[SID_LEN + 1], prefix[3] = {pat[1], pat[2], 0};
			if (rl != SID_LEN || ns > 1)
				return 0;
			memcpy(seg, rest, SID_LEN);
			seg[SID_LEN] = 0;
			if (!sid_valid(seg, prefix))
				return 0;
			memcpy(q->sid[ns++], seg, SID_LEN + 1);
		} else if (pl != rl || strncmp(pat, rest, pl) != 0) {
			return 0;
		}
		pat += pl;
		rest += rl;
		if (!*pat && !*rest)
			return 1;
		if (*pat != '/' || *rest != '/')
			return 0;
		pat++;
		rest++;
	}
}

static int method_of(const char *m)
{
	if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
		return API_GET;
	if (!strcmp(m, "POST"))
		return API_POST;
	if (!strcmp(m, "DELETE"))
		return API_DELETE;
	return 0;
}

static int form_content_type(const char *ct)
{
	ct += strspn(ct, " \t");
	size_t n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	static const char want[] = "application/x-www-form-urlencoded";
	return n == sizeof want - 1 && !strncasecmp(ct, want, n);
}

/* Decides everything that can be decided from the request head. Returns 0 to
 * go on (read the body, then run), or 1 with r holding the answer. */
static int prepare(api_server *a, struct MHD_Connection *con, struct conn *c, const char *method,
                   api_resp *r)
{
	const fc_config *cfg = a->cfg;
	const char *qm = strchr(c->uri, '?');
	size_t plen = qm ? (size_t)(qm - c->uri) : strlen(c->uri), dlen = 0;
	c->path = pct_decode(c->uri, plen, 0, &dlen);
	c->q.path = c->path ? c->path : "";
	c->q.cfg = cfg;
	c->method = method_of(method);
	if (!c->path) {
		api_error(r, 404, TW_NOT_FOUND, "The requested resource was not found");
		return 1;
	}
	if (strlen(c->path) != dlen) {
		api_error(r, 404, TW_NOT_FOUND, "The requested resource was not found");
		return 1;
	}
	if (!strcmp(c->path, "/health")) {
		if (c->method != API_GET) {
			api_error(r, 405, TW_METHOD, "Method not allowed");
			return 1;
		}
		c->kind = K_HEALTH;
		return 0;
	}
	if (strncmp(c->path, API_PREFIX, strlen(API_PREFIX)) != 0) {
		api_not_found(r, &c->q);
		return 1;
	}
	c->xml = !ends_with(c->path, ".json");
	if (!authorized(cfg, con)) {
		early_error(c, r, 401, TW_AUTH, "Authenticate");
		return 1;
	}
	char msg[300];
	snprintf(msg, sizeof msg, "The requested resource %.200s was not found", c->path);
	const char *p = c->path + strlen(ACCOUNTS_PREFIX);
	if (strncmp(c->path, ACCOUNTS_PREFIX, strlen(ACCOUNTS_PREFIX)) != 0 ||
	    strlen(p) < SID_LEN || strncmp(p, cfg->account_sid, SID_LEN) != 0 ||
	    (p[SID_LEN] != '/' && p[SID_LEN] != '.')) {
		early_error(c, r, 404, TW_NOT_FOUND, msg);
		return 1;
	}
	if (c->xml) {
		snprintf(msg, sizeof msg,
		         "The requested resource %.200s was not found: only the .json "
		         "representation is served",
		         c->path);
		early_error(c, r, 404, TW_NOT_FOUND, msg);
		return 1;
	}
	snprintf(c->base, sizeof c->base, "%s%s", ACCOUNTS_PREFIX, cfg->account_sid);
	c->q.base = c->base;
	const char *rest = p + SID_LEN;
	size_t rlen = strlen(rest) - strlen(".json");
	char rbuf[256];
	if (*rest != '/' || rlen >= sizeof rbuf) {
		api_not_found(r, &c->q);
		return 1;
	}
	memcpy(rbuf, rest + 1, rlen - 1);
	rbuf[rlen - 1] = 0;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (route_match(routes[i].pat, rbuf, &c->q)) {
			c->route = &routes[i];
			break;
		}
	if (!c->route) {
		api_not_found(r, &c->q);
		return 1;
	}
	api_fn fn = c->method == API_GET      ? c->route->get
	            : c->method == API_POST   ? c->route->post
	            : c->method == API_DELETE ? c->route->del
	                                      : NULL;
	if (!fn) {
		api_error(r, 405, TW_METHOD, "Method not allowed");
		return 1;
	}
	const char *rawq = qm ? qm + 1 : "";
	if (form_parse(&c->query, rawq, strlen(rawq)) < 0) {
		api_error(r, 400, TW_BAD_PARAM,
		          "Invalid query string: malformed percent-encoding or invalid UTF-8");
		return 1;
	}
	if (c->method == API_POST) {
		const char *ct =
		    MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		if (ct && !form_content_type(ct)) {
			api_error(r, 400, TW_BAD_PARAM,
			          "Unsupported Content-Type %.100s: request bodies must be "
			          "application/x-www-form-urlencoded",
			          ct);
			return 1;
		}
		const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > BODY_MAX) {
			api_error(r, 413, TW_BAD_PARAM, "Request body larger than %d bytes",
			          BODY_MAX);
			return 1;
		}
	}
	c->kind = K_API;
	return 0;
}

static void run(struct conn *c, api_resp *r)
{
	rstore_begin();
	if (c->kind == K_HEALTH) {
		int up = rstore_ping();
		json_t *j = json_pack("{s:s, s:s}", "status", "ok", "redis", up ? "ok" : "down");
		api_json(r, 200, j);
	} else if (c->method == API_POST && c->len && form_parse(&c->body, c->buf, c->len) < 0) {
		api_error(r, 400, TW_BAD_PARAM,
		          "Invalid form body: malformed percent-encoding, NUL byte or invalid "
		          "UTF-8");
	} else {
		c->q.query = &c->query;
		c->q.body = &c->body;
		api_fn fn = c->method == API_GET    ? c->route->get
		            : c->method == API_POST ? c->route->post
		                                    : c->route->del;
		fn(&c->q, r);
		if (!r->status)
			api_internal(r);
	}
	rstore_end();
}

static enum MHD_Result send_resp(struct MHD_Connection *con, struct conn *c, api_resp *r,
                                 const char *method)
{
	size_t len = r->body ? strlen(r->body) : 0;
	struct MHD_Response *resp =
	    r->body ? MHD_create_response_from_buffer(len, r->body, MHD_RESPMEM_MUST_FREE)
	            : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(r->body);
		r->body = NULL;
		return MHD_NO;
	}
	r->body = NULL;
	if (r->ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	if (r->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Basic realm=\"Twilio API\"");
	if (r->status == 405 && c) {
		char allow[32] = "";
		if (!c->route)
			snprintf(allow, sizeof allow, "GET, HEAD");
		else
			snprintf(allow, sizeof allow, "%s%s%s", c->route->get ? "GET, HEAD" : "",
			         c->route->post ? ", POST" : "", c->route->del ? ", DELETE" : "");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	}
	enum MHD_Result ret = MHD_queue_response(con, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	if (c) {
		c->answered = 1;
		if (r->status >= 500)
			LOGW("api: %s %s -> %d (%lld ms)", method, c->path ? c->path : c->uri,
			     r->status, (long long)(mono_ms() - c->t0));
		else
			LOGD("api: %s %s -> %d (%lld ms)", method, c->path ? c->path : c->uri,
			     r->status, (long long)(mono_ms() - c->t0));
	}
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
	(void)url;
	(void)version;
	api_server *a = cls;
	struct conn *c = *con_cls;
	api_resp r = {0};
	if (!c) { /* the URI log callback ran out of memory */
		api_internal(&r);
		return send_resp(con, NULL, &r, method);
	}
	if (c->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!c->started) {
		c->started = 1;
		if (!prepare(a, con, c, method, &r))
			return MHD_YES;
		/* Answer at once when a body may follow (it is not read); else on
		 * the final call, which keeps the connection reusable. */
		const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		const char *te = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_TRANSFER_ENCODING);
		if (te || (cl && strcmp(cl, "0") != 0))
			return send_resp(con, c, &r, method);
		c->early = r;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (c->method != API_POST)
			return MHD_YES; /* bodies of GET/DELETE are ignored */
		if (c->too_big || c->len + n > BODY_MAX) {
			/* MHD cannot answer in the middle of an upload: the rest is
			 * read and dropped (up to DISCARD_MAX, then the connection is
			 * closed) and 413 goes out on the final call. */
			c->too_big += n > DISCARD_MAX ? DISCARD_MAX : n;
			return c->too_big < DISCARD_MAX ? MHD_YES : MHD_NO;
		}
		if (c->len + n + 1 > c->cap) {
			size_t cap = c->cap ? c->cap : 1024;
			while (cap < c->len + n + 1)
				cap *= 2;
			char *b = realloc(c->buf, cap);
			if (!b) {
				api_internal(&r);
				return send_resp(con, c, &r, method);
			}
			c->buf = b;
			c->cap = cap;
		}
		memcpy(c->buf + c->len, upload_data, n);
		c->len += n;
		c->buf[c->len] = 0;
		return MHD_YES;
	}
	if (c->early.status) {
		r = c->early;
		c->early.body = NULL;
	} else if (c->too_big) {
		api_error(&r, 413, TW_BAD_PARAM, "Request body larger than %d bytes", BODY_MAX);
	} else {
		run(c, &r);
	}
	return send_resp(con, c, &r, method);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	LOGW("http: %s", buf);
}

api_server *api_start(const fc_config *cfg, char *err, size_t errlen)
{
	api_server *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->cfg = cfg;
	if (rstore_init(cfg) < 0) {
		snprintf(err, errlen, "cannot set up the Redis connections");
		free(a);
		return NULL;
	}
	struct addrinfo hints = {0}, *ai = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	char port[8];
	snprintf(port, sizeof port, "%d", cfg->api_port);
	int gai = getaddrinfo(cfg->api_addr, port, &hints, &ai);
	if (gai != 0 || !ai) {
		snprintf(err, errlen, "FULCRUM_API_ADDR %s: %s", cfg->api_addr, gai_strerror(gai));
		rstore_fini();
		free(a);
		return NULL;
	}
	/* poll(), not epoll: libmicrohttpd 0.9.75 in epoll mode leaves a
	 * connection hanging (no answer, no close) when a request head exhausts
	 * the connection's memory pool; with poll it is closed at once. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_POLL;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	a->d = MHD_start_daemon(
	    flags, (uint16_t)cfg->api_port, NULL, NULL, handle, a, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)cfg->api_threads, MHD_OPTION_URI_LOG_CALLBACK, uri_log, a,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, a, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONN_MEMORY, MHD_OPTION_END);
	int e = errno;
	freeaddrinfo(ai);
	if (!a->d) {
		snprintf(err, errlen, "cannot serve HTTP on %s:%d%s%s", cfg->api_addr,
		         cfg->api_port, e ? ": " : "", e ? strerror(e) : "");
		rstore_fini();
		free(a);
		return NULL;
	}
	LOGI("api: listening on %s:%d with %d threads", cfg->api_addr, cfg->api_port,
	     cfg->api_threads);
	return a;
}

void api_stop(api_server *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->d);
	rstore_fini();
	free(a);
}
