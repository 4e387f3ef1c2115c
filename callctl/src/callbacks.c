/* callbacks.c — status callbacks and reported actions (twilio-voice.md §4):
 * fire and forget for the engine, but those of one call leave one at a time,
 * in the order they were made (SequenceNumber order): a callback waits until
 * the previous one for the same CallSid has been answered or has failed.
 * Twilio does not promise an order ("requests may arrive out of order");
 * an app keeping per-call state is simpler when it holds, and a slow app
 * delays only that call's later callbacks (each bounded by the webhook
 * timeout). Each is kept in Redis until it is answered or failed for good, so
 * that another instance sends it if this one dies (outbox.c). Runs on the
 * engine's loop. */
#include "callbacks.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"

typedef struct pending {
	char key[OUTBOX_KEY_LEN]; /* its entry in the outbox (outbox.c) */
	char *url, *method;
	form params;
	struct pending *next;
} pending;

/* The callbacks of one CallSid: the one in flight and those waiting. */
typedef struct chain {
	char sid[40];
	pending *head, *tail; /* head is in flight */
	struct chain *next;
} chain;

#define BUCKETS 256
static chain *table[BUCKETS];
static webhook_client *client;
static const char *token;

void callbacks_init(webhook_client *wh, const char *auth_token)
{
	client = wh;
	token = auth_token;
}

static unsigned bucket(const char *sid)
{
	unsigned h = 5381;
	for (const char *p = sid; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h % BUCKETS;
}

static void pending_free(pending *p)
{
	free(p->url);
	free(p->method);
	form_free(&p->params);
	free(p);
}

static void unlink_chain(chain *c)
{
	chain **pp = &table[bucket(c->sid)];
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
}

static void start_head(chain *c);

static void done_cb(const webhook_result *r, void *ud)
{
	chain *c = ud;
	if (r->error_code)
		LOGI("status callback %s: %d %s", r->request_url ? r->request_url : "?",
		     r->error_code, r->error_msg);
	pending *p = c->head;
	c->head = p->next;
	if (!c->head)
		c->tail = NULL;
	outbox_done(p->key);
	pending_free(p);
	start_head(c);
}

/* Sends c's first waiting callback; frees c when none is left. */
static void start_head(chain *c)
{
	while (c->head) {
		pending *p = c->head;
		webhook_req req = {.url = p->url,
		                   .method = p->method,
		                   .params = &p->params,
		                   .auth_token = token,
		                   .max_body = 65536};
		if (webhook_fetch(client, &req, done_cb, c))
			return;
		LOGW("status callback %s: cannot start", p->url);
		c->head = p->next;
		outbox_done(p->key);
		pending_free(p);
	}
	unlink_chain(c);
	free(c);
}

/* Queues a callback; key NULL: a new one, kept in the outbox first. */
static void queue(const char *key, const char *url, const char *method, const form *params)
{
	const char *sid = form_get(params, "CallSid");
	pending *p = calloc(1, sizeof *p);
	if (!p || !client || !url || !*url) {
		free(p);
		return;
	}
	form_init(&p->params);
	p->url = strdup(url);
	p->method = strdup(method && *method ? method : "POST");
	if (!p->url || !p->method || form_append(&p->params, params) < 0) {
		pending_free(p);
		return;
	}
	if (key) {
		snprintf(p->key, sizeof p->key, "%s", key);
	} else {
		outbox_key(p->key);
		outbox_put(p->key, p->url, p->method, &p->params);
	}
	if (!sid)
		sid = "";
	chain *c;
	for (c = table[bucket(sid)]; c && strcmp(c->sid, sid); c = c->next)
		;
	if (c) { /* one is in flight: wait behind it */
		c->tail->next = p;
		c->tail = p;
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		pending_free(p);
		return;
	}
	snprintf(c->sid, sizeof c->sid, "%s", sid);
	c->head = c->tail = p;
	c->next = table[bucket(sid)];
	table[bucket(sid)] = c;
	start_head(c);
}

void callbacks_send(const char *url, const char *method, const form *params)
{
	queue(NULL, url, method, params);
}

void callbacks_resend(const char *key, const char *url, const char *method, const form *params)
{
	queue(key, url, method, params);
}

int callbacks_busy(void)
{
	for (int i = 0; i < BUCKETS; i++)
		if (table[i])
			return 1;
	return 0;
}

void callbacks_shutdown(void)
{
	for (int i = 0; i < BUCKETS; i++) {
		while (table[i]) {
			chain *c = table[i];
			table[i] = c->next;
			while (c->head) {
				pending *p = c->head;
				c->head = p->next;
				pending_free(p);
			}
			free(c);
		}
	}
	client = NULL;
}
