/* proxywatch.c — the calls of a proxy that is gone end. Every 5 s the
 * instance reads the heartbeat (fc:proxy:{id}, TTL 15 s, bus-protocol.md §1)
 * of each proxy its calls live on; when it has expired, or its `started`
 * changed (the proxy restarted and lost its legs), those calls can do
 * nothing more: they are ended in the records (completed when answered,
 * else failed), their callbacks fire and their media is released
 * (eng_proxy_lost). Runs on the engine's loop. */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "rbus.h"

#define MAX_PROXIES 64
#define EVERY_TICKS 5

/* The start time each proxy reported when first seen. */
static struct {
	char id[128];
	long long started;
} seen[MAX_PROXIES];
static int n_seen;

static long long *started_of(const char *id)
{
	for (int i = 0; i < n_seen; i++)
		if (!strcmp(seen[i].id, id))
			return &seen[i].started;
	if (n_seen == MAX_PROXIES)
		n_seen = 0; /* forget the oldest: at worst a restart is noticed late */
	snprintf(seen[n_seen].id, sizeof seen[n_seen].id, "%s", id);
	seen[n_seen].started = 0;
	return &seen[n_seen++].started;
}

/* Collecting the calls of one proxy (call_foreach takes no context). */
static const char *want;
static long long before; /* only calls started before this (ms); 0: all */
static call *found[1024];
static size_t n_found;

static void collect(call *c)
{
	if (!c->dead && !c->ending && !strcmp(c->proxy, want) && n_found < 1024 &&
	    (!before || c->start_ms < before)) {
		call_ref(c);
		found[n_found++] = c;
	}
}

/* Ends the calls of proxy; with started_ms, only those from before it
 * started again (the calls since live on the new process). */
static void lost(const char *proxy, long long started_ms)
{
	want = proxy;
	before = started_ms;
	n_found = 0;
	call_foreach(collect);
	for (size_t i = 0; i < n_found; i++) {
		eng_proxy_lost(found[i]);
		call_unref(found[i]);
	}
}

static void heartbeat_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	redisReply *reply = r;
	char *proxy = priv;
	if (reply && reply->type == REDIS_REPLY_NIL) {
		lost(proxy, 0);
	} else if (reply && reply->type == REDIS_REPLY_STRING) {
		json_t *j = json_loads(reply->str, 0, NULL);
		long long st = (long long)json_integer_value(json_object_get(j, "started"));
		json_decref(j);
		long long *known = started_of(proxy);
		if (*known && st && st != *known)
			lost(proxy, st); /* restarted: the legs it had are gone */
		if (st)
			*known = st;
	}
	free(proxy);
}

/* The distinct proxies of this instance's calls, each asked once. */
static char asked[256][128];
static int n_asked;

static void ask(call *c)
{
	if (c->dead || c->ending || !c->proxy[0] || n_asked == 256)
		return;
	for (int i = 0; i < n_asked; i++)
		if (!strcmp(asked[i], c->proxy))
			return;
	snprintf(asked[n_asked++], sizeof asked[0], "%s", c->proxy);
}

void proxywatch_tick(void)
{
	static unsigned ticks;
	if (++ticks % EVERY_TICKS)
		return;
	n_asked = 0;
	call_foreach(ask);
	for (int i = 0; i < n_asked; i++) {
		char *p = strdup(asked[i]);
		if (p && rbus_cmd(heartbeat_cb, p, "GET fc:proxy:%s", asked[i]) < 0)
			free(p);
	}
}
