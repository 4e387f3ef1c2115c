/* webhook.h — asynchronous Twilio-style webhook fetches (TwiML, action URLs,
 * status callbacks): libcurl's multi interface driven by a libuv loop.
 *
 * Behaviour (twilio-voice.md §1.1, §6.2, §7.1):
 *  - POST sends the params as an application/x-www-form-urlencoded body; GET
 *    appends them to the query. Default method: POST.
 *  - X-Twilio-Signature = sig_twilio(auth_token, URL as sent, POST params or
 *    NULL) on every request (omitted when auth_token is NULL or ""). The URL
 *    signed is exactly the URL sent: fragment removed, GET query appended.
 *  - Headers: User-Agent: TwilioProxy/1.1, Accept: * / *, Cache-Control:
 *    max-age=259200, I-Twilio-Idempotency-Token (one random value per
 *    webhook_fetch, the same across retries and redirects); no "Expect".
 *  - Connection overrides from the URL fragment (#ct=&rt=&tt=&rc=&rp=, see
 *    url.h): ct connect timeout, rt read timeout (longest silence from the
 *    server once connected), tt total time including retries and redirects,
 *    rc retries, rp retry policy: a comma-separated list of "ct" (connect
 *    failure or connect timeout; the default), "rt" (read timeout), "4xx",
 *    "5xx", or "all" (any failure). Retries are immediate, the same request.
 *  - Environment: FULCRUM_WEBHOOK_TIMEOUT_MS (100..120000), read when the
 *    client is created, replaces the 15000 ms default of tt and rt for URLs
 *    whose fragment does not set them.
 *  - Redirects (301/302/303/307/308) are followed by hand, at most 10
 *    (11215). 301/302/303 switch to GET without the POST params, as Twilio
 *    does; 307/308 repeat the method and body. Each hop is re-signed for its
 *    own URL. Only http and https, also for redirect targets.
 *  - Response body capped at max_body (default 65536): the transfer is
 *    aborted as soon as it exceeds → 11750.
 *  - No proxy: environment proxies (http_proxy…) are ignored.
 *
 * Error codes in webhook_result.error_code: 0 success (HTTP < 400); 11100
 * URL not an absolute http(s) URL; 11200 other retrieval failure; 11205
 * connect failure or timeout; 11206 protocol violation; 11210 DNS failure;
 * 11215 too many redirects; 11217 HTTP status >= 400 (body still given);
 * 11220 TLS failure; 11235 / 11236 / 11237 certificate: name mismatch /
 * expired / no trusted path; 11750 body larger than max_body.
 *
 * Threading: everything runs on the loop's thread. Callbacks are never called
 * from inside webhook_fetch. After webhook_client_free the loop must run once
 * more (uv_run) so that libuv can release the closed handles. */
#ifndef FC_WEBHOOK_H
#define FC_WEBHOOK_H
#include <stddef.h>
#include <uv.h>
#include "form.h"

typedef struct webhook_client webhook_client;
typedef struct webhook_call webhook_call;

typedef struct webhook_result {
	int error_code;           /* 0, or a Twilio code listed above */
	long http_status;         /* last HTTP status, 0 when none was received */
	const char *content_type; /* Content-Type header value or NULL */
	const char *body;         /* never NULL; NUL-terminated (may hold NULs) */
	size_t body_len;
	const char *effective_url; /* last URL requested (after redirects):
	                            * the base for relative URLs */
	const char *request_url;   /* first URL requested, fragment removed,
	                            * GET query included (the URL signed) */
	char error_msg[256];       /* human-readable detail, "" on success */
	double elapsed_ms;         /* from webhook_fetch to the callback */
	int attempts;              /* HTTP requests made (retries, redirects) */
} webhook_result;

/* r and everything it points to are valid only during the callback. */
typedef void (*webhook_cb)(const webhook_result *r, void *ud);

typedef struct webhook_req {
	const char *url;        /* may carry the #ct=… overrides fragment */
	const char *method;     /* "GET" or "POST" (any case); NULL → POST */
	const form *params;     /* NULL → none; copied */
	const char *json_body;  /* non-NULL: POST this JSON (Content-Type application/json)
	                           instead of params; the URL gets bodySHA256 = its hex SHA-256
	                           and the signature covers the URL only (twilio-voice.md §6.2) */
	const char *auth_token; /* NULL or "" → not signed; copied */
	size_t max_body;        /* 0 → 65536 */
} webhook_req;

/* NULL when out of memory or when libcurl cannot be initialised (each client
 * holds a reference on curl_global_init). */
webhook_client *webhook_client_new(uv_loop_t *loop);
/* Cancels every in-flight request without calling its callback. May be called
 * from inside a webhook callback. NULL is a no-op. */
void webhook_client_free(webhook_client *c);

/* Starts a request. Returns a handle valid until its callback starts or it is
 * cancelled, or NULL when the request could not start (bad method, out of
 * memory, client closing): then cb is never called. A URL that is not an
 * absolute http(s) URL still returns a handle, and cb gets 11100. */
webhook_call *webhook_fetch(webhook_client *c, const webhook_req *req, webhook_cb cb, void *ud);
/* Drops the request; its callback is not called. NULL, or the handle of a
 * request whose callback is running, is a no-op. */
void webhook_cancel(webhook_call *h);
/* Number of requests in flight. */
size_t webhook_pending(const webhook_client *c);

#endif
