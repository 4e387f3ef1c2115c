/* test_webhook.c — webhook client against an in-process libmicrohttpd server
 * on 127.0.0.1 (never the network): success, POST/GET encoding, signature,
 * headers, errors and their Twilio codes, timeouts, retries, redirects, body
 * cap, cancel and free with requests in flight. */
#include "unit.h"

#include "form.h"
#include "sig.h"
#include "log.h"
#include "webhook.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOKEN "12345-auth-token"

/* ---- the scripted server ---- */

typedef struct rec {
	char method[8];
	char uri[1024];
	char token[64];
	char ua[64];
	char accept[32];
	char cc[64];
	char ctype[96];
	int has_expect;
	int sig_ok; /* 1 ok, 0 bad, -1 absent */
} rec;

typedef struct srv_req {
	char *uri;
	char *body;
	size_t len, cap;
	int started;
} srv_req;

static struct MHD_Daemon *g_mhd, *g_mhd_tls;
static int g_port, g_tls_port;
static char *g_tls_key, *g_tls_cert;
static char g_base[64];
static int g_refused_fd = -1;
static int g_refused_port;
static volatile int g_stop;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static rec g_recs[64];
static int g_nrec;
static int g_flaky_hits;

static void recs_reset(void)
{
	pthread_mutex_lock(&g_mu);
	g_nrec = 0;
	g_flaky_hits = 0;
	pthread_mutex_unlock(&g_mu);
}

static int recs_count(void)
{
	pthread_mutex_lock(&g_mu);
	int n = g_nrec;
	pthread_mutex_unlock(&g_mu);
	return n;
}

static void copy_hdr(struct MHD_Connection *conn, const char *name, char *out, size_t n)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	snprintf(out, n, "%s", v ? v : "");
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	srv_req *r = calloc(1, sizeof *r);
	if (r)
		r->uri = strdup(uri);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	srv_req *r = *con_cls;
	if (r) {
		free(r->uri);
		free(r->body);
		free(r);
	}
	*con_cls = NULL;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *ctype,
                             const char *body, size_t len, const char *location)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	if (location)
		MHD_add_response_header(resp, "Location", location);
	enum MHD_Result ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static ssize_t chunk_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	const uint64_t total = 70000;
	if (pos >= total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = max < 1000 ? max : 1000;
	if (n > total - pos)
		n = (size_t)(total - pos);
	memset(buf, 'y', n);
	return (ssize_t)n;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	srv_req *r = *con_cls;
	if (!r)
		return MHD_NO;
	if (!r->started) {
		r->started = 1;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->len + *upload_size + 1 > r->cap) {
			size_t cap = (r->len + *upload_size + 1) * 2;
			char *b = realloc(r->body, cap);
			if (!b)
				return MHD_NO;
			r->body = b;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload, *upload_size);
		r->len += *upload_size;
		r->body[r->len] = 0;
		*upload_size = 0;
		return MHD_YES;
	}

	/* Record the request and verify its signature. */
	int is_post = !strcmp(method, "POST");
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	int is_json = ct && !strcmp(ct, "application/json");
	form f;
	form_init(&f);
	if (is_post && r->len && !is_json)
		form_parse(&f, r->body, r->len);
	char full[1200];
	snprintf(full, sizeof full, "%s%s", g_base, r->uri);
	const char *got = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Twilio-Signature");
	int sig_ok = -1;
	if (got) {
		/* A JSON body is signed through the URL's bodySHA256 (§6.2). */
		char *want = sig_twilio(TOKEN, full, is_post && !is_json ? &f : NULL);
		sig_ok = want && !strcmp(want, got);
		free(want);
		if (is_json) {
			char *h = sig_sha256_hex(r->body ? r->body : "", r->len), key[100];
			snprintf(key, sizeof key, "bodySHA256=%s", h ? h : "");
			sig_ok = sig_ok && h && strstr(r->uri, key) != NULL;
			free(h);
		}
	}
	form_free(&f);
	pthread_mutex_lock(&g_mu);
	if (g_nrec < 64) {
		rec *x = &g_recs[g_nrec++];
		snprintf(x->method, sizeof x->method, "%s", method);
		snprintf(x->uri, sizeof x->uri, "%s", r->uri);
		copy_hdr(conn, "I-Twilio-Idempotency-Token", x->token, sizeof x->token);
		copy_hdr(conn, "User-Agent", x->ua, sizeof x->ua);
		copy_hdr(conn, "Accept", x->accept, sizeof x->accept);
		copy_hdr(conn, "Cache-Control", x->cc, sizeof x->cc);
		copy_hdr(conn, "Content-Type", x->ctype, sizeof x->ctype);
		x->has_expect =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect") != NULL;
		x->sig_ok = sig_ok;
	}
	int flaky = !strcmp(url, "/flaky") ? ++g_flaky_hits : 0;
	pthread_mutex_unlock(&g_mu);
	if (sig_ok == 0)
		return reply(conn, 403, "text/plain", "bad signature", 13, NULL);

	if (!strcmp(url, "/xml")) {
		const char *x = "<?xml version=\"1.0\"?><Response><Say>hi</Say></Response>";
		return reply(conn, 200, "text/xml", x, strlen(x), NULL);
	}
	if (!strcmp(url, "/echo")) {
		char *out = malloc(r->len + strlen(r->uri) + 32);
		if (!out)
			return MHD_NO;
		int n = sprintf(out, "%s %s\n%s", method, r->uri, r->body ? r->body : "");
		enum MHD_Result ret = reply(conn, 200, "text/plain", out, (size_t)n, NULL);
		free(out);
		return ret;
	}
	if (!strcmp(url, "/status500"))
		return reply(conn, 500, "text/plain", "oops", 4, NULL);
	if (!strcmp(url, "/status404"))
		return reply(conn, 404, "text/html", "nope", 4, NULL);
	if (!strcmp(url, "/slow")) {
		for (int i = 0; i < 100 && !g_stop; i++)
			usleep(10000);
		return reply(conn, 200, "text/xml", "<Response/>", 11, NULL);
	}
	if (!strcmp(url, "/big")) {
		char *big = malloc(70000);
		if (!big)
			return MHD_NO;
		memset(big, 'x', 70000);
		enum MHD_Result ret = reply(conn, 200, "text/xml", big, 70000, NULL);
		free(big);
		return ret;
	}
	if (!strcmp(url, "/bigchunked")) {
		struct MHD_Response *resp = MHD_create_response_from_callback(
		    MHD_SIZE_UNKNOWN, 4096, chunk_reader, NULL, NULL);
		if (!resp)
			return MHD_NO;
		enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (!strcmp(url, "/r302"))
		return reply(conn, 302, "text/plain", "", 0, "/echo?from=302");
	if (!strcmp(url, "/r307"))
		return reply(conn, 307, "text/plain", "", 0, "/echo?from=307#rt=5");
	if (!strcmp(url, "/r303rel"))
		return reply(conn, 303, "text/plain", "", 0, "xml");
	if (!strcmp(url, "/rftp"))
		return reply(conn, 302, "text/plain", "", 0, "ftp://127.0.0.1/x");
	if (!strcmp(url, "/loop"))
		return reply(conn, 302, "text/plain", "", 0, "/loop");
	if (!strcmp(url, "/flaky")) {
		if (flaky % 2)
			return reply(conn, 503, "text/plain", "busy", 4, NULL);
		return reply(conn, 200, "text/xml", "<Response/>", 11, NULL);
	}
	return reply(conn, 404, "text/plain", "not found", 9, NULL);
}

static char *bio_string(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = n > 0 ? strndup(p, (size_t)n) : NULL;
	BIO_free(b);
	return s;
}

/* A throwaway self-signed certificate for 127.0.0.1 (PEM key and cert). */
static int make_self_signed(char **key_pem, char **cert_pem)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *bk = BIO_new(BIO_s_mem()), *bc = BIO_new(BIO_s_mem());
	int ok = k && x && bk && bc;
	if (ok) {
		X509_set_version(x, 2);
		ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
		X509_gmtime_adj(X509_getm_notBefore(x), -3600);
		X509_gmtime_adj(X509_getm_notAfter(x), 3600);
		X509_NAME *nm = X509_get_subject_name(x);
		X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
		                           (const unsigned char *)"127.0.0.1", -1, -1, 0);
		X509_set_issuer_name(x, nm);
		X509_set_pubkey(x, k);
		ok = X509_sign(x, k, EVP_sha256()) > 0 &&
		     PEM_write_bio_PrivateKey(bk, k, NULL, NULL, 0, NULL, NULL) &&
		     PEM_write_bio_X509(bc, x);
	}
	*key_pem = ok ? bio_string(bk) : (BIO_free(bk), NULL);
	*cert_pem = ok ? bio_string(bc) : (BIO_free(bc), NULL);
	X509_free(x);
	EVP_PKEY_free(k);
	return *key_pem && *cert_pem ? 0 : -1;
}

static int group_setup(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
	                         NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	                         MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!g_mhd)
		return -1;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(g_mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (!di || !di->port)
		return -1;
	g_port = di->port;
	snprintf(g_base, sizeof g_base, "http://127.0.0.1:%d", g_port);

	/* A bound TCP socket that never listens: connecting to it is refused. */
	g_refused_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (g_refused_fd < 0 || bind(g_refused_fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return -1;
	socklen_t sl = sizeof sa;
	if (getsockname(g_refused_fd, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	g_refused_port = ntohs(sa.sin_port);

	/* An HTTPS server with a self-signed certificate. */
	if (make_self_signed(&g_tls_key, &g_tls_cert))
		return -1;
	sa.sin_port = 0;
	g_mhd_tls = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, NULL, NULL, handler, NULL,
	    MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_HTTPS_MEM_KEY, g_tls_key,
	    MHD_OPTION_HTTPS_MEM_CERT, g_tls_cert, MHD_OPTION_END);
	if (!g_mhd_tls)
		return -1;
	di = MHD_get_daemon_info(g_mhd_tls, MHD_DAEMON_INFO_BIND_PORT);
	if (!di || !di->port)
		return -1;
	g_tls_port = di->port;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	g_stop = 1;
	if (g_mhd)
		MHD_stop_daemon(g_mhd);
	if (g_mhd_tls)
		MHD_stop_daemon(g_mhd_tls);
	free(g_tls_key);
	free(g_tls_cert);
	if (g_refused_fd >= 0)
		close(g_refused_fd);
	return 0;
}

/* ---- client side helpers ---- */

typedef struct outcome {
	int done;
	int code;
	long status;
	char *body;
	size_t body_len;
	char *ctype;
	char *eff;
	char *req;
	char msg[256];
	double ms;
	int attempts;
	webhook_client *free_client; /* freed from inside the callback when set */
} outcome;

static void outcome_free(outcome *o)
{
	free(o->body);
	free(o->ctype);
	free(o->eff);
	free(o->req);
	memset(o, 0, sizeof *o);
}

static void on_done(const webhook_result *r, void *ud)
{
	outcome *o = ud;
	o->done++;
	o->code = r->error_code;
	o->status = r->http_status;
	free(o->body);
	o->body = malloc(r->body_len + 1);
	memcpy(o->body, r->body, r->body_len + 1);
	o->body_len = r->body_len;
	free(o->ctype);
	o->ctype = r->content_type ? strdup(r->content_type) : NULL;
	free(o->eff);
	o->eff = strdup(r->effective_url);
	free(o->req);
	o->req = strdup(r->request_url);
	snprintf(o->msg, sizeof o->msg, "%s", r->error_msg);
	o->ms = r->elapsed_ms;
	o->attempts = r->attempts;
	if (o->free_client)
		webhook_client_free(o->free_client);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the loop until every outcome is done (10 s at most). */
static void run_until(uv_loop_t *loop, outcome *o, int n)
{
	double end = now_s() + 10;
	for (;;) {
		int all = 1;
		for (int i = 0; i < n; i++)
			all &= o[i].done > 0;
		if (all || now_s() > end)
			break;
		uv_run(loop, UV_RUN_ONCE);
	}
}

static void close_loop(uv_loop_t *loop, webhook_client *c)
{
	webhook_client_free(c);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void url_of(char *out, size_t n, const char *path)
{
	snprintf(out, n, "%s%s", g_base, path);
}

/* One request on a fresh loop and client; the caller frees o. */
static void fetch1(const char *url, const char *method, const form *params, outcome *o)
{
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	assert_non_null(c);
	webhook_req req = {.url = url, .method = method, .params = params, .auth_token = TOKEN};
	assert_non_null(webhook_fetch(c, &req, on_done, o));
	assert_int_equal(o->done, 0); /* never called synchronously */
	assert_int_equal(webhook_pending(c), 1);
	run_until(&loop, o, 1);
	assert_int_equal(o->done, 1);
	assert_int_equal(webhook_pending(c), 0);
	close_loop(&loop, c);
}

static rec last_rec(void)
{
	pthread_mutex_lock(&g_mu);
	rec x = g_nrec ? g_recs[g_nrec - 1] : (rec){0};
	pthread_mutex_unlock(&g_mu);
	return x;
}

static rec rec_at(int i)
{
	pthread_mutex_lock(&g_mu);
	rec x = g_recs[i];
	pthread_mutex_unlock(&g_mu);
	return x;
}

/* ---- tests ---- */

static void test_get_xml(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/xml");
	recs_reset();
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 0);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.ctype, "text/xml");
	assert_non_null(strstr(o.body, "<Say>hi</Say>"));
	assert_int_equal(o.body_len, strlen(o.body));
	assert_string_equal(o.eff, url);
	assert_string_equal(o.req, url);
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.msg, "");
	rec x = last_rec();
	assert_string_equal(x.method, "GET");
	assert_int_equal(x.sig_ok, 1);
	assert_string_equal(x.ua, "TwilioProxy/1.1");
	assert_string_equal(x.accept, "*/*");
	assert_string_equal(x.cc, "max-age=259200");
	assert_int_equal(strlen(x.token), 36);
	assert_int_equal(x.has_expect, 0);
	outcome_free(&o);
}

static void test_post_params_signed(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	form f;
	form_init(&f);
	assert_int_equal(form_add(&f, "CallSid", "CA0123456789abcdef0123456789abcdef"), 0);
	assert_int_equal(form_add(&f, "From", "+14158675310"), 0);
	assert_int_equal(form_add(&f, "Digits", "1 2&3=4"), 0);
	assert_int_equal(form_add(&f, "caller", "sip:alice@example.com;x=\xc3\xa9"), 0);
	/* > 1 kB so that curl would send "Expect: 100-continue" unless disabled */
	char big[2000];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = 0;
	assert_int_equal(form_add(&f, "Big", big), 0);
	url_of(url, sizeof url, "/echo?a=1&b=two#ct=2000");
	recs_reset();
	fetch1(url, "post", &f, &o);
	assert_int_equal(o.code, 0);
	assert_int_equal(o.status, 200);
	char want_url[128];
	url_of(want_url, sizeof want_url, "/echo?a=1&b=two");
	assert_string_equal(o.req, want_url);
	assert_string_equal(o.eff, want_url);
	/* the server saw the encoded body and the query untouched */
	char *enc = form_encode(&f);
	char *want = malloc(strlen(enc) + 64);
	sprintf(want, "POST /echo?a=1&b=two\n%s", enc);
	assert_string_equal(o.body, want);
	free(want);
	free(enc);
	rec x = last_rec();
	assert_int_equal(x.sig_ok, 1);
	assert_int_equal(x.has_expect, 0);
	assert_string_equal(x.ctype, "application/x-www-form-urlencoded");
	form_free(&f);
	outcome_free(&o);
}

/* A JSON body: Content-Type application/json, sent as is, bodySHA256 of it
 * in the URL and the signature over that URL without parameters. */
static void test_json_body_signed(void **state)
{
	(void)state;
	char url[128], want[300];
	outcome o = {0};
	const char *json = "{\"CallSid\":\"CA0123456789abcdef0123456789abcdef\",\"n\":1}";
	url_of(url, sizeof url, "/echo?a=1");
	recs_reset();
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	assert_non_null(c);
	webhook_req req = {.url = url, .json_body = json, .auth_token = TOKEN};
	assert_non_null(webhook_fetch(c, &req, on_done, &o));
	run_until(&loop, &o, 1);
	close_loop(&loop, c);
	assert_int_equal(o.code, 0);
	char *h = sig_sha256_hex(json, strlen(json));
	snprintf(want, sizeof want, "POST /echo?a=1&bodySHA256=%s\n%s", h, json);
	free(h);
	assert_string_equal(o.body, want);
	rec x = last_rec();
	assert_string_equal(x.ctype, "application/json");
	assert_int_equal(x.sig_ok, 1);
	outcome_free(&o);
}

static void test_get_query(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	form f;
	form_init(&f);
	assert_int_equal(form_add(&f, "CallStatus", "ringing"), 0);
	assert_int_equal(form_add(&f, "To", "+1 800"), 0);
	url_of(url, sizeof url, "/echo?x=y");
	recs_reset();
	fetch1(url, "GET", &f, &o);
	assert_int_equal(o.code, 0);
	char want[160];
	snprintf(want, sizeof want, "%s/echo?x=y&CallStatus=ringing&To=%%2B1%%20800", g_base);
	assert_string_equal(o.req, want);
	assert_string_equal(o.body, "GET /echo?x=y&CallStatus=ringing&To=%2B1%20800\n");
	assert_int_equal(last_rec().sig_ok, 1);
	form_free(&f);
	outcome_free(&o);
}

static void test_unsigned_without_token(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/xml");
	recs_reset();
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	webhook_req req = {.url = url}; /* default method POST, no params, no token */
	assert_non_null(webhook_fetch(c, &req, on_done, &o));
	run_until(&loop, &o, 1);
	close_loop(&loop, c);
	assert_int_equal(o.code, 0);
	rec x = last_rec();
	assert_string_equal(x.method, "POST");
	assert_int_equal(x.sig_ok, -1);
	outcome_free(&o);
}

static void test_http_500_and_404(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/status500");
	fetch1(url, "POST", NULL, &o);
	assert_int_equal(o.code, 11217);
	assert_int_equal(o.status, 500);
	assert_string_equal(o.body, "oops");
	assert_int_equal(o.attempts, 1); /* default policy "ct" does not retry 5xx */
	outcome_free(&o);
	url_of(url, sizeof url, "/status404");
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 11217);
	assert_int_equal(o.status, 404);
	assert_string_equal(o.body, "nope");
	outcome_free(&o);
}

static void test_slow_timeout(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/slow#rt=300&tt=300");
	fetch1(url, "POST", NULL, &o);
	assert_int_equal(o.code, 11205);
	assert_true(o.ms >= 200); /* the endpoint answers after 1 s */
	outcome_free(&o);
	/* read timeout alone (total larger) */
	url_of(url, sizeof url, "/slow#rt=200&tt=5000&rc=0");
	fetch1(url, "POST", NULL, &o);
	assert_int_equal(o.code, 11205);
	assert_non_null(strstr(o.msg, "read timeout"));
	outcome_free(&o);
}

static void test_read_timeout_retry_policy(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/slow#rt=150&tt=5000&rc=2&rp=rt");
	recs_reset();
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 11205);
	assert_int_equal(o.attempts, 3);
	outcome_free(&o);
}

static void test_env_timeout(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/slow");
	setenv("FULCRUM_WEBHOOK_TIMEOUT_MS", "200", 1);
	fetch1(url, "GET", NULL, &o);
	unsetenv("FULCRUM_WEBHOOK_TIMEOUT_MS");
	assert_int_equal(o.code, 11205);
	outcome_free(&o);
}

static void test_body_too_big(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/big");
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 11750);
	assert_true(o.body_len <= 65536);
	outcome_free(&o);
	url_of(url, sizeof url, "/bigchunked");
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 11750);
	assert_true(o.body_len <= 65536);
	outcome_free(&o);
}

static void test_max_body_custom(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/xml");
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	webhook_req req = {.url = url, .method = "GET", .max_body = 10};
	assert_non_null(webhook_fetch(c, &req, on_done, &o));
	run_until(&loop, &o, 1);
	close_loop(&loop, c);
	assert_int_equal(o.code, 11750);
	outcome_free(&o);
}

static void test_redirect_302_post_to_get(void **state)
{
	(void)state;
	char url[128], want[128];
	outcome o = {0};
	form f;
	form_init(&f);
	assert_int_equal(form_add(&f, "Digits", "1234"), 0);
	url_of(url, sizeof url, "/r302");
	recs_reset();
	fetch1(url, "POST", &f, &o);
	assert_int_equal(o.code, 0);
	assert_string_equal(o.body, "GET /echo?from=302\n"); /* params not re-sent */
	url_of(want, sizeof want, "/echo?from=302");
	assert_string_equal(o.eff, want);
	assert_string_equal(o.req, url);
	assert_int_equal(o.attempts, 2);
	assert_int_equal(recs_count(), 2);
	rec a = rec_at(0), b = rec_at(1);
	assert_string_equal(a.method, "POST");
	assert_string_equal(b.method, "GET");
	assert_int_equal(a.sig_ok, 1);
	assert_int_equal(b.sig_ok, 1); /* re-signed for the new URL */
	assert_string_equal(a.token, b.token);
	form_free(&f);
	outcome_free(&o);
}

static void test_redirect_307_keeps_post(void **state)
{
	(void)state;
	char url[128], want[128];
	outcome o = {0};
	form f;
	form_init(&f);
	assert_int_equal(form_add(&f, "Digits", "42"), 0);
	url_of(url, sizeof url, "/r307");
	recs_reset();
	fetch1(url, "POST", &f, &o);
	assert_int_equal(o.code, 0);
	assert_string_equal(o.body, "POST /echo?from=307\nDigits=42");
	url_of(want, sizeof want, "/echo?from=307"); /* fragment dropped */
	assert_string_equal(o.eff, want);
	assert_int_equal(last_rec().sig_ok, 1);
	form_free(&f);
	outcome_free(&o);
}

static void test_redirect_relative(void **state)
{
	(void)state;
	char url[128], want[128];
	outcome o = {0};
	url_of(url, sizeof url, "/r303rel");
	fetch1(url, "POST", NULL, &o);
	assert_int_equal(o.code, 0);
	url_of(want, sizeof want, "/xml");
	assert_string_equal(o.eff, want);
	assert_string_equal(o.ctype, "text/xml");
	outcome_free(&o);
}

static void test_redirect_loop_and_bad_scheme(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/loop");
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 11215);
	assert_int_equal(o.attempts, 11);
	outcome_free(&o);
	url_of(url, sizeof url, "/rftp");
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 11100);
	outcome_free(&o);
}

static void test_connection_refused(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	snprintf(url, sizeof url, "http://127.0.0.1:%d/x", g_refused_port);
	fetch1(url, "POST", NULL, &o);
	assert_int_equal(o.code, 11205);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.attempts, 2); /* rc=1 with policy ct */
	outcome_free(&o);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/x#rc=0", g_refused_port);
	fetch1(url, "POST", NULL, &o);
	assert_int_equal(o.code, 11205);
	assert_int_equal(o.attempts, 1);
	outcome_free(&o);
}

static void test_dns_failure(void **state)
{
	(void)state;
	outcome o = {0};
	/* An empty label fails inside the resolver: no DNS query leaves the host. */
	fetch1("http://bad..host/x", "GET", NULL, &o);
	assert_int_equal(o.code, 11210);
	outcome_free(&o);
}

static void test_tls_failures(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	/* self-signed: no path to a trusted issuer */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/xml", g_tls_port);
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 11237);
	outcome_free(&o);
	/* TLS spoken to a plain HTTP server */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/xml", g_port);
	fetch1(url, "GET", NULL, &o);
	assert_int_equal(o.code, 11220);
	outcome_free(&o);
}

static void test_invalid_url(void **state)
{
	(void)state;
	outcome o = {0};
	fetch1("ftp://127.0.0.1/x", "GET", NULL, &o);
	assert_int_equal(o.code, 11100);
	outcome_free(&o);
	fetch1("/relative/only", "POST", NULL, &o);
	assert_int_equal(o.code, 11100);
	outcome_free(&o);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	uv_loop_t loop;
	outcome o = {0};
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	webhook_req req = {.url = "http://127.0.0.1:1/", .method = "PUT"};
	assert_null(webhook_fetch(c, &req, on_done, &o));
	req.method = "GET";
	assert_null(webhook_fetch(c, &req, NULL, &o));
	assert_null(webhook_fetch(c, NULL, on_done, &o));
	req.url = NULL;
	assert_null(webhook_fetch(c, &req, on_done, &o));
	assert_null(webhook_fetch(NULL, &req, on_done, &o));
	webhook_cancel(NULL);
	assert_int_equal(webhook_pending(c), 0);
	close_loop(&loop, c);
	webhook_client_free(NULL);
	assert_int_equal(o.done, 0);
}

static void test_retry_5xx_same_token(void **state)
{
	(void)state;
	char url[128];
	outcome o = {0};
	url_of(url, sizeof url, "/flaky#rc=1&rp=5xx");
	recs_reset();
	fetch1(url, "POST", NULL, &o);
	assert_int_equal(o.code, 0);
	assert_int_equal(o.status, 200);
	assert_int_equal(o.attempts, 2);
	assert_int_equal(recs_count(), 2);
	rec a = rec_at(0), b = rec_at(1);
	assert_string_equal(a.token, b.token);
	outcome_free(&o);
	/* without the policy the 503 is final */
	url_of(url, sizeof url, "/flaky");
	recs_reset();
	fetch1(url, "POST", NULL, &o);
	assert_int_equal(o.code, 11217);
	assert_int_equal(o.status, 503);
	assert_int_equal(o.attempts, 1);
	outcome_free(&o);
}

static void test_tokens_differ(void **state)
{
	(void)state;
	char url[128];
	outcome o[2] = {{0}, {0}};
	url_of(url, sizeof url, "/xml");
	recs_reset();
	fetch1(url, "GET", NULL, &o[0]);
	fetch1(url, "GET", NULL, &o[1]);
	assert_int_equal(recs_count(), 2);
	assert_string_not_equal(rec_at(0).token, rec_at(1).token);
	outcome_free(&o[0]);
	outcome_free(&o[1]);
}

static void test_concurrent(void **state)
{
	(void)state;
	enum { N = 24 };
	char url[N][128];
	outcome o[N];
	memset(o, 0, sizeof o);
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	for (int i = 0; i < N; i++) {
		snprintf(url[i], sizeof url[i], "%s/echo?i=%d", g_base, i);
		webhook_req req = {
		    .url = url[i], .method = i % 2 ? "GET" : "POST", .auth_token = TOKEN};
		assert_non_null(webhook_fetch(c, &req, on_done, &o[i]));
	}
	assert_int_equal(webhook_pending(c), N);
	run_until(&loop, o, N);
	for (int i = 0; i < N; i++) {
		char want[64];
		snprintf(want, sizeof want, "%s /echo?i=%d\n", i % 2 ? "GET" : "POST", i);
		assert_int_equal(o[i].done, 1);
		assert_int_equal(o[i].code, 0);
		assert_string_equal(o[i].body, want);
		outcome_free(&o[i]);
	}
	close_loop(&loop, c);
}

typedef struct cancel_ctx {
	webhook_call *h;
	webhook_client *c;
	int fired;
} cancel_ctx;

static void on_cancel_timer(uv_timer_t *t)
{
	cancel_ctx *x = t->data;
	x->fired = 1;
	if (x->h)
		webhook_cancel(x->h);
	if (x->c)
		webhook_client_free(x->c);
	uv_close((uv_handle_t *)t, NULL);
}

static void on_noop_timer(uv_timer_t *t)
{
	(void)t;
}

static void test_cancel_mid_flight(void **state)
{
	(void)state;
	char slow[128], fast[128];
	outcome o[2] = {{0}, {0}};
	url_of(slow, sizeof slow, "/slow");
	url_of(fast, sizeof fast, "/xml");
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	webhook_req rs = {.url = slow, .auth_token = TOKEN};
	webhook_req rf = {.url = fast, .method = "GET"};
	cancel_ctx x = {.h = webhook_fetch(c, &rs, on_done, &o[0])};
	assert_non_null(x.h);
	assert_non_null(webhook_fetch(c, &rf, on_done, &o[1]));
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	t.data = &x;
	uv_timer_start(&t, on_cancel_timer, 100, 0);
	double end = now_s() + 5;
	while (!(x.fired && o[1].done) && now_s() < end)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(x.fired, 1);
	assert_int_equal(o[1].done, 1);
	assert_int_equal(o[1].code, 0);
	assert_int_equal(webhook_pending(c), 0);
	/* give a cancelled transfer time to have called back if it were to */
	uv_timer_t t2;
	uv_timer_init(&loop, &t2);
	uv_timer_start(&t2, on_noop_timer, 50, 0);
	uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t2, NULL);
	assert_int_equal(o[0].done, 0);
	close_loop(&loop, c);
	assert_int_equal(o[0].done, 0);
	outcome_free(&o[0]);
	outcome_free(&o[1]);
}

static void test_cancel_before_deferred_error(void **state)
{
	(void)state;
	outcome o = {0};
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	webhook_req req = {.url = "nothttp://x"};
	webhook_call *h = webhook_fetch(c, &req, on_done, &o);
	assert_non_null(h);
	webhook_cancel(h);
	close_loop(&loop, c);
	assert_int_equal(o.done, 0);
}

static void test_free_with_in_flight(void **state)
{
	(void)state;
	char slow[128];
	outcome o[3];
	memset(o, 0, sizeof o);
	url_of(slow, sizeof slow, "/slow");
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	for (int i = 0; i < 3; i++) {
		webhook_req req = {.url = slow, .method = i ? "GET" : "POST", .auth_token = TOKEN};
		assert_non_null(webhook_fetch(c, &req, on_done, &o[i]));
	}
	cancel_ctx x = {.c = c};
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	t.data = &x;
	uv_timer_start(&t, on_cancel_timer, 100, 0);
	/* every handle closes: uv_run returns on its own */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(x.fired, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(o[i].done, 0);
}

static void test_free_inside_callback(void **state)
{
	(void)state;
	char slow[128], fast[128];
	outcome o[2] = {{0}, {0}};
	url_of(slow, sizeof slow, "/slow");
	url_of(fast, sizeof fast, "/xml");
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	webhook_client *c = webhook_client_new(&loop);
	webhook_req rs = {.url = slow};
	webhook_req rf = {.url = fast};
	o[1].free_client = c;
	assert_non_null(webhook_fetch(c, &rs, on_done, &o[0]));
	assert_non_null(webhook_fetch(c, &rf, on_done, &o[1]));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(o[1].done, 1);
	assert_int_equal(o[1].code, 0);
	assert_int_equal(o[0].done, 0);
	outcome_free(&o[0]);
	outcome_free(&o[1]);
}

int main(void)
{
	/* expected failures log warnings; FULCRUM_LOG_LEVEL=debug shows them */
	if (getenv("FULCRUM_LOG_LEVEL"))
		log_init();
	else
		log_level = LOG_ERR - 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_xml),
	    cmocka_unit_test(test_post_params_signed),
	    cmocka_unit_test(test_get_query),
	    cmocka_unit_test(test_unsigned_without_token),
	    cmocka_unit_test(test_http_500_and_404),
	    cmocka_unit_test(test_slow_timeout),
	    cmocka_unit_test(test_read_timeout_retry_policy),
	    cmocka_unit_test(test_env_timeout),
	    cmocka_unit_test(test_body_too_big),
	    cmocka_unit_test(test_max_body_custom),
	    cmocka_unit_test(test_redirect_302_post_to_get),
	    cmocka_unit_test(test_redirect_307_keeps_post),
	    cmocka_unit_test(test_redirect_relative),
	    cmocka_unit_test(test_redirect_loop_and_bad_scheme),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_dns_failure),
	    cmocka_unit_test(test_tls_failures),
	    cmocka_unit_test(test_invalid_url),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_retry_5xx_same_token),
	    cmocka_unit_test(test_tokens_differ),
	    cmocka_unit_test(test_json_body_signed),
	    cmocka_unit_test(test_concurrent),
	    cmocka_unit_test(test_cancel_mid_flight),
	    cmocka_unit_test(test_cancel_before_deferred_error),
	    cmocka_unit_test(test_free_with_in_flight),
	    cmocka_unit_test(test_free_inside_callback),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
