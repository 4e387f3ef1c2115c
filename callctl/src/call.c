/* call.c — table and lifetime of the calls this instance works on (call.h). */
#include "call.h"
#include "engine_int.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define CALL_BUCKETS 1024

static call *table[CALL_BUCKETS];

static unsigned bucket(const char *sid)
{
	unsigned h = 5381;
	for (const char *p = sid; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h % CALL_BUCKETS;
}

call *call_new(uv_loop_t *loop, const char *sid)
{
	call *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	strncpy(c->sid, sid, sizeof c->sid - 1);
	snprintf(c->leg, sizeof c->leg, "%s", c->sid);
	snprintf(c->mtag, sizeof c->mtag, "%s", c->sid);
	form_init(&c->params);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	uv_timer_init(loop, &c->dial_timer);
	c->dial_timer.data = c;
	uv_timer_init(loop, &c->limit_timer);
	c->limit_timer.data = c;
	uv_timer_init(loop, &c->out_timer);
	c->out_timer.data = c;
	c->refs = 1; /* the table's */
	unsigned b = bucket(sid);
	c->next = table[b];
	table[b] = c;
	return c;
}

call *call_find(const char *sid)
{
	for (call *c = table[bucket(sid)]; c; c = c->next)
		if (strcmp(c->sid, sid) == 0)
			return c;
	return NULL;
}

void call_ref(call *c)
{
	c->refs++;
}

static void on_timer_closed(uv_handle_t *h)
{
	call *c = h->data;
	if (--c->refs > -4)
		return; /* four handles close; the last one frees */
	dial_free(c);
	transfer_free(c);
	refer_free(c);
	json_decref(c->xfer_hdrs);
	form_free(&c->params);
	free(c->a_sdp);
	free(c->our_sdp);
	free(c->b_sdp);
	free(c->b_our_sdp);
	principal_free(c);
	replace_free(c);
	outbound_free(c);
	free(c->sc_url);
	free(c->sc_method);
	free(c->voice_url);
	free(c->voice_method);
	free(c->fallback_url);
	free(c->fallback_method);
	free(c->doc_url);
	twiml_free(c->doc);
	free(c->snap);
	free(c);
}

void call_unref(call *c)
{
	if (--c->refs > 0)
		return;
	/* The timer handles are closed asynchronously; memory goes with the
	 * last one (refs counts down to -4). */
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
	uv_close((uv_handle_t *)&c->dial_timer, on_timer_closed);
	uv_close((uv_handle_t *)&c->limit_timer, on_timer_closed);
	uv_close((uv_handle_t *)&c->out_timer, on_timer_closed);
}

void call_stop_webhook(call *c)
{
	if (c->wh) {
		webhook_cancel(c->wh);
		c->wh = NULL;
		call_unref(c); /* the webhook's reference: its callback will not run */
	}
}

void call_stop_timer(call *c)
{
	if (c->timer_active) {
		uv_timer_stop(&c->timer);
		c->timer_active = 0;
		call_unref(c); /* the timer's reference */
	}
}

void call_kill(call *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	call_stop_webhook(c);
	call_stop_timer(c);
	uv_timer_stop(&c->dial_timer);
	uv_timer_stop(&c->limit_timer);
	uv_timer_stop(&c->out_timer);
	call **pp = &table[bucket(c->sid)];
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	call_unref(c);
}

void call_drop_all(void)
{
	for (int i = 0; i < CALL_BUCKETS; i++)
		while (table[i])
			call_kill(table[i]); /* unlinks it */
}

void call_foreach(void (*fn)(call *c))
{
	for (int i = 0; i < CALL_BUCKETS; i++)
		for (call *c = table[i]; c; c = c->next)
			fn(c);
}
