/* webhook.c — owns the webhook HTTP client: libcurl's multi interface driven
 * by the libuv loop (socket and timer callbacks), Twilio's request headers and
 * signature, connection overrides (timeouts, retries), manual redirects, the
 * body cap, and the mapping of failures to Twilio error codes. */
#include "webhook.h"
#include "log.h"
#include "sig.h"
#include "url.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WH_MAX_REDIRECTS 10
#define WH_DEFAULT_MAX_BODY 65536
#define WH_ENV_TIMEOUT "FULCRUM_WEBHOOK_TIMEOUT_MS"

/* Retry policy bits (rp=). */
enum { RP_CT = 1, RP_RT = 2, RP_4XX = 4, RP_5XX = 8, RP_OTHER = 16, RP_ALL = 31 };

typedef struct sock_ctx {
	uv_poll_t poll;
	curl_socket_t fd;
	webhook_client *c;
	struct sock_ctx *prev, *next;
} sock_ctx;

struct webhook_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer; /* curl's timeout; its close callback frees the client */
	webhook_call *calls;
	sock_ctx *socks;
	size_t ncalls;
	int default_timeout_ms; /* from the environment, 0 = none */
	int closing;
};

struct webhook_call {
	webhook_client *c;
	webhook_call *prev, *next;
	int linked, in_cb, destroyed;
	webhook_cb cb;
	void *ud;
	uv_timer_t timer; /* read timeout, or a deferred error; frees the call */
	/* the logical request */
	char *token;
	form params; /* POST params (signed), empty for GET */
	char *post;  /* encoded POST body, NULL for GET */
	int json;    /* post is a JSON body (signed through bodySHA256) */
	size_t post_len;
	char *url; /* URL of the current hop, as sent and signed */
	char *request_url;
	char idem[40];
	url_overrides ov;
	int policy;
	uint64_t start_ns, deadline_ns;
	int retries_left, redirects, attempts;
	size_t max_body;
	int pending_code; /* deferred error (no transfer) */
	char pending_msg[200];
	/* the current attempt */
	CURL *easy;
	struct curl_slist *headers;
	char *resp;
	size_t resp_len, resp_cap;
	char *ctype;
	long status;
	int too_big, connected, read_timeout;
	char errbuf[CURL_ERROR_SIZE];
};

static void check_multi_info(webhook_client *c);
static void on_call_timer(uv_timer_t *t);

/* ---- small helpers ---- */

static uint64_t ms_left(const webhook_call *w)
{
	uint64_t now = uv_hrtime();
	return w->deadline_ns > now ? (w->deadline_ns - now) / 1000000 : 0;
}

static void make_idempotency_token(char out[40])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1) {
		static uint64_t ctr;
		uint64_t x = uv_hrtime() ^ ((uint64_t)(uintptr_t)out << 16) ^ ++ctr;
		for (size_t i = 0; i < sizeof b; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			b[i] = (unsigned char)(x >> 56);
		}
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

static int parse_policy(const char *rp)
{
	int bits = 0;
	const char *p = rp;
	while (*p) {
		size_t n = strcspn(p, ",| ");
		if (n == 2 && !strncasecmp(p, "ct", 2))
			bits |= RP_CT;
		else if (n == 2 && !strncasecmp(p, "rt", 2))
			bits |= RP_RT;
		else if (n == 3 && !strncasecmp(p, "4xx", 3))
			bits |= RP_4XX;
		else if (n == 3 && !strncasecmp(p, "5xx", 3))
			bits |= RP_5XX;
		else if (n == 3 && !strncasecmp(p, "all", 3))
			bits |= RP_ALL;
		p += n;
		if (*p)
			p++;
	}
	return bits ? bits : RP_CT;
}

/* 1 when the URL's fragment sets key (e.g. "tt"). */
static int fragment_has(const char *url, const char *key)
{
	const char *h = strchr(url, '#');
	if (!h)
		return 0;
	form f;
	form_init(&f);
	int has = form_parse(&f, h + 1, strlen(h + 1)) == 0 && form_get(&f, key) != NULL;
	form_free(&f);
	return has;
}

static int env_timeout_ms(void)
{
	const char *s = getenv(WH_ENV_TIMEOUT);
	if (!s || !*s)
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v <= 0) {
		LOGW("webhook: ignoring invalid %s=%s", WH_ENV_TIMEOUT, s);
		return 0;
	}
	if (v < 100)
		v = 100;
	if (v > 120000)
		v = 120000;
	return (int)v;
}

static int add_header(struct curl_slist **l, const char *h)
{
	struct curl_slist *n = curl_slist_append(*l, h);
	if (!n)
		return -1;
	*l = n;
	return 0;
}

static int twilio_tls_code(CURL *e)
{
	long v = 0;
	if (curl_easy_getinfo(e, CURLINFO_SSL_VERIFYRESULT, &v) != CURLE_OK)
		return 11220;
	switch (v) {
	case 0:
		return 11235; /* the chain verified: curl's host name check failed */
	case 10:
		return 11236; /* X509_V_ERR_CERT_HAS_EXPIRED */
	case 2:
	case 18:
	case 19:
	case 20:
	case 21:
		return 11237; /* no path to a trusted issuer */
	default:
		return 11220;
	}
}

static int twilio_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return 11210;
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return 11205;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return 11100;
	case CURLE_TOO_MANY_REDIRECTS:
		return 11215;
	case CURLE_FILESIZE_EXCEEDED:
		return 11750;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CLIENTCERT:
		return 11220;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_PARTIAL_FILE:
	case CURLE_BAD_CONTENT_ENCODING:
		return 11206;
	default:
		return 11200;
	}
}

/* ---- curl ↔ libuv glue ---- */

static void on_sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static void sock_close(sock_ctx *k)
{
	webhook_client *c = k->c;
	if (k->prev)
		k->prev->next = k->next;
	else
		c->socks = k->next;
	if (k->next)
		k->next->prev = k->prev;
	k->prev = k->next = NULL;
	uv_poll_stop(&k->poll);
	uv_close((uv_handle_t *)&k->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	sock_ctx *k = h->data;
	webhook_client *c = k->c;
	int flags = 0, running;
	if (status < 0)
		flags = CURL_CSELECT_ERR | CURL_CSELECT_IN | CURL_CSELECT_OUT;
	else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	if (c->closing)
		return;
	curl_multi_socket_action(c->multi, k->fd, flags, &running);
	check_multi_info(c);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	webhook_client *c = userp;
	sock_ctx *k = socketp;
	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (k)
			sock_close(k);
		return 0;
	}
	if (c->closing)
		return -1;
	if (!k) {
		k = calloc(1, sizeof *k);
		if (!k)
			return -1;
		if (uv_poll_init_socket(c->loop, &k->poll, s) != 0) {
			LOGE("webhook: cannot poll socket %d", (int)s);
			free(k);
			return -1;
		}
		k->fd = s;
		k->c = c;
		k->poll.data = k;
		k->next = c->socks;
		if (c->socks)
			c->socks->prev = k;
		c->socks = k;
		if (curl_multi_assign(c->multi, s, k) != CURLM_OK) {
			sock_close(k);
			return -1;
		}
	}
	int ev = 0;
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	return uv_poll_start(&k->poll, ev, on_poll) == 0 ? 0 : -1;
}

static void on_multi_timeout(uv_timer_t *t)
{
	webhook_client *c = t->data;
	int running;
	if (c->closing)
		return;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(c);
}

static int on_timer_fn(CURLM *m, long timeout_ms, void *userp)
{
	webhook_client *c = userp;
	(void)m;
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else if (!c->closing)
		uv_timer_start(&c->timer, on_multi_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

/* ---- per-transfer callbacks ---- */

static void arm_read_timer(webhook_call *w)
{
	uv_timer_start(&w->timer, on_call_timer, (uint64_t)w->ov.rt_ms, 0);
}

static int on_prereq(void *ud, char *ip, char *lip, int port, int lport)
{
	webhook_call *w = ud;
	(void)ip;
	(void)lip;
	(void)port;
	(void)lport;
	w->connected = 1;
	uv_update_time(w->c->loop);
	arm_read_timer(w);
	return CURL_PREREQFUNC_OK;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	arm_read_timer(ud);
	return sz * n;
}

static size_t on_write(char *p, size_t sz, size_t n, void *ud)
{
	webhook_call *w = ud;
	size_t len = sz * n;
	arm_read_timer(w);
	if (len > w->max_body - w->resp_len) {
		w->too_big = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (w->resp_len + len + 1 > w->resp_cap) {
		size_t cap = w->resp_cap ? w->resp_cap : 4096;
		while (cap < w->resp_len + len + 1)
			cap *= 2;
		if (cap > w->max_body + 1)
			cap = w->max_body + 1;
		char *r = realloc(w->resp, cap);
		if (!r)
			return 0;
		w->resp = r;
		w->resp_cap = cap;
	}
	memcpy(w->resp + w->resp_len, p, len);
	w->resp_len += len;
	w->resp[w->resp_len] = 0;
	return len;
}

/* ---- call lifetime ---- */

static void link_call(webhook_client *c, webhook_call *w)
{
	w->prev = NULL;
	w->next = c->calls;
	if (c->calls)
		c->calls->prev = w;
	c->calls = w;
	c->ncalls++;
	w->linked = 1;
}

static void unlink_call(webhook_call *w)
{
	webhook_client *c = w->c;
	if (!w->linked)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		c->calls = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	c->ncalls--;
	w->linked = 0;
}

/* Ends the current transfer (if any) and forgets its response. */
static void attempt_release(webhook_call *w)
{
	uv_timer_stop(&w->timer);
	if (w->easy) {
		if (w->c->multi)
			curl_multi_remove_handle(w->c->multi, w->easy);
		curl_easy_cleanup(w->easy);
		w->easy = NULL;
	}
	curl_slist_free_all(w->headers);
	w->headers = NULL;
}

static void attempt_reset(webhook_call *w)
{
	free(w->resp);
	free(w->ctype);
	w->resp = w->ctype = NULL;
	w->resp_len = w->resp_cap = 0;
	w->status = 0;
	w->too_big = w->connected = w->read_timeout = 0;
	w->errbuf[0] = 0;
}

static void on_call_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Frees everything; the struct itself goes when its timer has closed. */
static void call_destroy(webhook_call *w)
{
	if (w->destroyed)
		return;
	w->destroyed = 1;
	unlink_call(w);
	attempt_release(w);
	attempt_reset(w);
	free(w->token);
	form_free(&w->params);
	free(w->post);
	free(w->url);
	free(w->request_url);
	uv_close((uv_handle_t *)&w->timer, on_call_closed);
}

static void finish(webhook_call *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finish(webhook_call *w, int code, const char *fmt, ...)
{
	webhook_result r;
	memset(&r, 0, sizeof r);
	r.error_code = code;
	r.http_status = w->status;
	r.content_type = w->ctype;
	r.body = w->resp ? w->resp : "";
	r.body_len = w->resp_len;
	r.effective_url = w->url ? w->url : "";
	r.request_url = w->request_url ? w->request_url : "";
	r.elapsed_ms = (double)(uv_hrtime() - w->start_ns) / 1e6;
	r.attempts = w->attempts;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r.error_msg, sizeof r.error_msg, fmt, ap);
		va_end(ap);
	}
	if (code)
		LOGD("webhook: %s failed after %d attempt(s): %d %s", r.request_url, w->attempts,
		     code, r.error_msg);
	attempt_release(w);
	unlink_call(w);
	w->in_cb = 1;
	w->cb(&r, w->ud);
	w->in_cb = 0;
	call_destroy(w);
}

/* ---- one HTTP request ---- */

static int build_headers(webhook_call *w)
{
	char line[256];
	struct curl_slist **l = &w->headers;
	if (add_header(l, "Accept: */*") || add_header(l, "Cache-Control: max-age=259200") ||
	    add_header(l, "Expect:"))
		return -1;
	snprintf(line, sizeof line, "I-Twilio-Idempotency-Token: %s", w->idem);
	if (add_header(l, line))
		return -1;
	if (w->post && add_header(l, w->json ? "Content-Type: application/json"
	                                     : "Content-Type: application/x-www-form-urlencoded"))
		return -1;
	if (w->token) {
		char *sig = sig_twilio(w->token, w->url, w->post && !w->json ? &w->params : NULL);
		if (!sig)
			return -1;
		snprintf(line, sizeof line, "X-Twilio-Signature: %s", sig);
		free(sig);
		if (add_header(l, line))
			return -1;
	}
	return 0;
}

/* 0 started, -1 setup failure, -2 no time left. */
static int attempt_start(webhook_call *w)
{
	uint64_t left = ms_left(w);
	if (left < 1)
		return -2;
	attempt_reset(w);
	CURL *e = curl_easy_init();
	if (!e)
		return -1;
	w->easy = e;
	if (build_headers(w))
		return -1;
	long ct = (long)w->ov.ct_ms < (long)left ? (long)w->ov.ct_ms : (long)left;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, w->url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "TwilioProxy/1.1") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, w->headers) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ct) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)w->max_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, w) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, w) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PREREQDATA, w) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)w) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->errbuf) != CURLE_OK;
	if (w->post) {
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)w->post_len) !=
		       CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, w->post) != CURLE_OK;
	} else {
		bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	}
	if (bad)
		return -1;
	if (curl_multi_add_handle(w->c->multi, e) != CURLM_OK)
		return -1;
	w->attempts++;
	LOGD("webhook: %s %s (attempt %d)", w->post ? "POST" : "GET", w->url, w->attempts);
	return 0;
}

/* Starts the next attempt, or finishes with code when that is impossible. */
static void restart_or_finish(webhook_call *w, int code, const char *why)
{
	int rc = attempt_start(w);
	if (rc == 0)
		return;
	attempt_release(w);
	if (rc == -2)
		finish(w, code ? code : 11205, "%s; total timeout (%d ms) reached", why,
		       w->ov.tt_ms);
	else
		finish(w, 11200, "%s; cannot start the next request", why);
}

static int is_redirect(long s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

static void follow_redirect(webhook_call *w, const char *loc)
{
	if (!loc || !*loc) {
		finish(w, 11206, "HTTP %ld redirect without a Location", w->status);
		return;
	}
	if (++w->redirects > WH_MAX_REDIRECTS) {
		finish(w, 11215, "more than %d redirects", WH_MAX_REDIRECTS);
		return;
	}
	char *nu = url_strip_fragment(loc, NULL);
	if (!nu) {
		finish(w, 11200, "out of memory");
		return;
	}
	if (!url_is_http(nu)) {
		free(nu);
		finish(w, 11100, "redirect to a URL that is not http(s)");
		return;
	}
	free(w->url);
	w->url = nu;
	if (w->post && w->status <= 303) {
		/* Twilio does not re-send POST parameters after 301/302/303. */
		free(w->post);
		w->post = NULL;
		w->post_len = 0;
		w->json = 0;
		form_free(&w->params);
		form_init(&w->params);
	}
	char why[64];
	snprintf(why, sizeof why, "HTTP %ld redirect", w->status);
	restart_or_finish(w, 11205, why);
}

/* A transfer ended (curl's result, or our read timeout). */
static void attempt_done(webhook_call *w, CURLcode rc)
{
	char *loc = NULL, *ct = NULL;
	int tls = 0, code = 0, kind = 0;
	char msg[200];
	if (w->easy) {
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
		if (curl_easy_getinfo(w->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct &&
		    !(w->ctype = strdup(ct))) {
			rc = CURLE_OUT_OF_MEMORY;
		}
		if (is_redirect(w->status) &&
		    curl_easy_getinfo(w->easy, CURLINFO_REDIRECT_URL, &ct) == CURLE_OK && ct &&
		    !(loc = strdup(ct)))
			rc = CURLE_OUT_OF_MEMORY;
		if (rc == CURLE_PEER_FAILED_VERIFICATION)
			tls = twilio_tls_code(w->easy);
	}
	attempt_release(w);

	if (w->read_timeout) {
		code = 11205;
		kind = RP_RT;
		snprintf(msg, sizeof msg, "read timeout (%d ms)", w->ov.rt_ms);
	} else if (w->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		code = w->status >= 400 ? 11217 : 11750;
		kind = RP_OTHER;
		snprintf(msg, sizeof msg, "response body larger than %zu bytes", w->max_body);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		code = 11205;
		kind = w->connected ? RP_RT : RP_CT;
		snprintf(msg, sizeof msg, "%s timeout: %.150s", w->connected ? "total" : "connect",
		         w->errbuf);
	} else if (rc == CURLE_COULDNT_CONNECT) {
		code = 11205;
		kind = RP_CT;
		snprintf(msg, sizeof msg, "connect failed: %.150s", w->errbuf);
	} else if (rc != CURLE_OK) {
		code = tls ? tls : twilio_code(rc);
		kind = RP_OTHER;
		snprintf(msg, sizeof msg, "%.190s",
		         w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc));
	} else if (is_redirect(w->status)) {
		follow_redirect(w, loc);
		free(loc);
		return;
	} else if (w->status >= 400) {
		code = 11217;
		kind = w->status >= 500 ? RP_5XX : RP_4XX;
		snprintf(msg, sizeof msg, "HTTP %ld", w->status);
	}
	free(loc);
	if (!code) {
		finish(w, 0, NULL);
		return;
	}
	if ((w->policy & kind) && w->retries_left > 0 && ms_left(w) >= 1) {
		w->retries_left--;
		LOGD("webhook: retrying %s after %s", w->url, msg);
		restart_or_finish(w, code, msg);
		return;
	}
	finish(w, code, "%s", msg);
}

static void check_multi_info(webhook_client *c)
{
	CURLMsg *m;
	int left;
	while (!c->closing && (m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURLcode rc = m->data.result;
		char *p = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		if (p)
			attempt_done((webhook_call *)p, rc);
	}
}

static void on_call_timer(uv_timer_t *t)
{
	webhook_call *w = t->data;
	if (w->easy) {
		w->read_timeout = 1;
		attempt_done(w, CURLE_OPERATION_TIMEDOUT);
	} else if (w->pending_code) {
		finish(w, w->pending_code, "%s", w->pending_msg);
	}
}

/* ---- public API ---- */

static void on_client_closed(uv_handle_t *h)
{
	free(h->data);
}

webhook_client *webhook_client_new(uv_loop_t *loop)
{
	if (!loop)
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	webhook_client *c = calloc(1, sizeof *c);
	if (!c)
		goto fail;
	c->loop = loop;
	c->default_timeout_ms = env_timeout_ms();
	if (!(c->multi = curl_multi_init()))
		goto fail;
	int bad = 0;
	bad |= curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK;
	bad |= curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK;
	bad |= curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_fn) != CURLM_OK;
	bad |= curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK;
	if (bad || uv_timer_init(loop, &c->timer) != 0)
		goto fail;
	c->timer.data = c;
	return c;
fail:
	if (c && c->multi)
		curl_multi_cleanup(c->multi);
	free(c);
	curl_global_cleanup();
	return NULL;
}

void webhook_client_free(webhook_client *c)
{
	if (!c || c->closing)
		return;
	c->closing = 1;
	while (c->calls)
		call_destroy(c->calls);
	curl_multi_cleanup(c->multi);
	c->multi = NULL;
	while (c->socks)
		sock_close(c->socks);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_client_closed);
	curl_global_cleanup();
}

size_t webhook_pending(const webhook_client *c)
{
	return c ? c->ncalls : 0;
}

/* A JSON body: POSTed as is; the URL carries its bodySHA256. base is taken. */
static int build_json(webhook_call *w, char *base, const char *json)
{
	char *hex = sig_sha256_hex(json, strlen(json)), q[96];
	if (hex)
		snprintf(q, sizeof q, "bodySHA256=%s", hex);
	w->url = hex ? url_append_query(base, q) : NULL;
	free(hex);
	free(base);
	w->post = w->url ? strdup(json) : NULL;
	if (!w->post)
		return -1;
	w->post_len = strlen(json);
	w->json = 1;
	w->request_url = strdup(w->url);
	return w->request_url ? 0 : -1;
}

/* Fills the URL, body and signed params of a valid request. base is taken. */
static int build_request(webhook_call *w, char *base, int post, const form *params)
{
	int has = params && params->n > 0;
	if (post) {
		w->url = base;
		w->post = has ? form_encode(params) : strdup("");
		if (!w->post)
			return -1;
		w->post_len = strlen(w->post);
		for (size_t i = 0; has && i < params->n; i++)
			if (form_add(&w->params, params->v[i].name, params->v[i].value))
				return -1;
	} else if (has) {
		char *q = form_encode(params);
		w->url = q ? url_append_query(base, q) : NULL;
		free(q);
		free(base);
		if (!w->url)
			return -1;
	} else {
		w->url = base;
	}
	w->request_url = strdup(w->url);
	return w->request_url ? 0 : -1;
}

static void defer_error(webhook_call *w, int code, const char *msg)
{
	w->pending_code = code;
	snprintf(w->pending_msg, sizeof w->pending_msg, "%s", msg);
	uv_timer_start(&w->timer, on_call_timer, 0, 0);
}

webhook_call *webhook_fetch(webhook_client *c, const webhook_req *req, webhook_cb cb, void *ud)
{
	int post;
	if (!c || c->closing || !req || !req->url || !cb)
		return NULL;
	if (!req->method || !strcasecmp(req->method, "POST"))
		post = 1;
	else if (!strcasecmp(req->method, "GET"))
		post = 0;
	else
		return NULL;
	webhook_call *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	if (uv_timer_init(c->loop, &w->timer) != 0) {
		free(w);
		return NULL;
	}
	w->timer.data = w;
	w->c = c;
	w->cb = cb;
	w->ud = ud;
	form_init(&w->params);
	link_call(c, w);
	w->start_ns = uv_hrtime();
	w->max_body = req->max_body ? req->max_body : WH_DEFAULT_MAX_BODY;
	make_idempotency_token(w->idem);
	if (req->auth_token && *req->auth_token && !(w->token = strdup(req->auth_token)))
		goto fail;
	char *base = url_strip_fragment(req->url, &w->ov);
	if (!base)
		goto fail;
	if (c->default_timeout_ms) {
		if (!fragment_has(req->url, "tt"))
			w->ov.tt_ms = c->default_timeout_ms;
		if (!fragment_has(req->url, "rt"))
			w->ov.rt_ms = c->default_timeout_ms;
	}
	w->deadline_ns = w->start_ns + (uint64_t)w->ov.tt_ms * 1000000;
	w->retries_left = w->ov.rc;
	w->policy = parse_policy(w->ov.rp);
	if (!url_is_http(base)) {
		w->url = base;
		if (!(w->request_url = strdup(base)))
			goto fail;
		defer_error(w, 11100, "not an absolute http(s) URL");
		return w;
	}
	if (req->json_body ? build_json(w, base, req->json_body)
	                   : build_request(w, base, post, req->params))
		goto fail;
	if (attempt_start(w))
		goto fail;
	return w;
fail:
	call_destroy(w);
	return NULL;
}

void webhook_cancel(webhook_call *w)
{
	if (!w || w->in_cb || w->destroyed)
		return;
	call_destroy(w);
}
