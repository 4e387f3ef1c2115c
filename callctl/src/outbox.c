/* outbox.c — status callbacks outlive the instance that made them
 * (bus-protocol.md §9.6). Each callback waiting or in flight is a field of
 * the hash fc:outbox:{instance} (key: creation time + counter, value: JSON
 * url, method, urlencoded params) from the moment it is queued until the app
 * answered it or it failed for good. Every 2 s an instance looks for the
 * outboxes of dead instances (fc:cc:{instance} gone: killed, or stopped with
 * callbacks still queued) and, in one script, moves each into its own
 * outbox; it then sends them in their original order (callbacks_resend). A
 * callback that was in flight when its instance died is sent again: at
 * least once, never lost. Runs on the engine's loop. */
#include "outbox.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbacks.h"
#include "log.h"
#include "lua_scripts.h"
#include "rbus.h"
#include "timefmt.h"

void outbox_key(char key[OUTBOX_KEY_LEN])
{
	static unsigned n;
	snprintf(key, OUTBOX_KEY_LEN, "%013lld-%08u", (long long)now_ms(), n++);
}

void outbox_put(const char *key, const char *url, const char *method, const form *params)
{
	char *body = form_encode(params);
	json_t *j =
	    body ? json_pack("{s:s,s:s,s:s}", "url", url, "method", method, "params", body) : NULL;
	char *v = j ? json_dumps(j, JSON_COMPACT) : NULL;
	char hkey[300];
	snprintf(hkey, sizeof hkey, "fc:outbox:%s", rbus_instance());
	const char *argv[] = {"HSET", hkey, key, v};
	if (!v || rbus_cmdargv(NULL, NULL, 4, argv, NULL) < 0)
		LOGW("status callback %s: not kept in the outbox (Redis down?)", url);
	free(v);
	json_decref(j);
	free(body);
}

void outbox_done(const char *key)
{
	rbus_cmd(NULL, NULL, "HDEL fc:outbox:%s %s", rbus_instance(), key);
}

typedef struct entry {
	const char *key, *value;
} entry;

static int by_key(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

/* Queues one taken-over entry; a broken one is dropped. */
static void resend(const entry *e)
{
	json_t *j = json_loads(e->value, 0, NULL);
	const char *url = json_string_value(json_object_get(j, "url"));
	const char *method = json_string_value(json_object_get(j, "method"));
	const char *body = json_string_value(json_object_get(j, "params"));
	form params;
	form_init(&params);
	if (url && method && body && form_parse(&params, body, strlen(body)) == 0)
		callbacks_resend(e->key, url, method, &params);
	else
		outbox_done(e->key);
	form_free(&params);
	json_decref(j);
}

/* The script's reply: field, value, field, value… of a dead outbox, now in
 * ours; sent in the order they were made. */
static void taken_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	(void)priv;
	redisReply *reply = r;
	if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2)
		return;
	entry *v = calloc(reply->elements / 2, sizeof *v);
	if (!v)
		return;
	size_t n = 0;
	for (size_t i = 0; i + 1 < reply->elements; i += 2)
		if (reply->element[i]->type == REDIS_REPLY_STRING &&
		    reply->element[i + 1]->type == REDIS_REPLY_STRING)
			v[n++] = (entry){reply->element[i]->str, reply->element[i + 1]->str};
	qsort(v, n, sizeof *v, by_key);
	LOGI("%zu status callback(s) of a dead instance taken over", n);
	for (size_t i = 0; i < n; i++)
		resend(&v[i]);
	free(v);
}

static void outbox_page(const char **keys, size_t n)
{
	char mine[300];
	snprintf(mine, sizeof mine, "fc:outbox:%s", rbus_instance());
	for (size_t i = 0; i < n; i++) {
		const char *k = keys[i];
		if (strncmp(k, "fc:outbox:", 10) || !strcmp(k, mine))
			continue;
		char cc[300];
		snprintf(cc, sizeof cc, "fc:cc:%s", k + 10);
		const char *argv[] = {"EVAL", LUA_OUTBOX_TAKE, "3", k, cc, mine};
		rbus_cmdargv(taken_cb, NULL, 6, argv, NULL);
	}
}

void outbox_tick(void)
{
	static rbus_scan_t sc = {.match = "fc:outbox:*", .page = outbox_page};
	static unsigned ticks;
	if (++ticks % 2 == 0)
		rbus_scan(&sc);
}
