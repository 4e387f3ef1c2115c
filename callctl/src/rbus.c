/* rbus.c — callctl's Redis bus connections and stream consumption (rbus.h). */
#include "rbus.h"

#include <hiredis/adapters/libuv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lua_scripts.h"
#include "timefmt.h"

#define TOUCH_MAX 256

static uv_loop_t *loop;
static const fc_config *cfg;
static rbus_event_cb on_event;
static rbus_tick_cb on_tick;
static redisAsyncContext *cmd, *blk;
static int cmd_ready, blk_ready, stopping;
/* An XREADGROUP is outstanding. Events are read only while the command
 * connection is up too: one read while it is down could not be acted on
 * (its call would wait for a reply that never comes). */
static int reading;
/* When each connection last answered (or was opened), ms: one that stays
 * silent is dropped and opened again (watchdog). */
static int64_t cmd_seen, blk_seen;
static uv_timer_t tick;
static char *touch_ids[TOUCH_MAX];
static int n_touch;
static int ticks;

static redisAsyncContext *open_conn(void);

int rbus_connected(void)
{
	return cmd_ready && blk_ready;
}

/* Entries of this instance's inbox (events forwarded by other instances,
 * bus-protocol.md §9) are acknowledged on receipt and handed over with an
 * empty id, so that the engine's rbus_ack of them is a no-op. */
static void deliver_entries(redisReply *entries, int inbox)
{
	for (size_t i = 0; entries && entries->type == REDIS_REPLY_ARRAY && i < entries->elements;
	     i++) {
		redisReply *e = entries->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			continue;
		const char *id = e->element[0]->str;
		redisReply *f = e->element[1];
		int found = 0;
		for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2) {
			if (strcmp(f->element[k]->str, "j") == 0) {
				if (inbox) {
					/* Gone from the inbox once read: what stays
					 * there was never handled (rescue_inboxes). */
					rbus_cmd(NULL, NULL, "XACK fc:inbox:%s callctl %s",
					         cfg->instance, id);
					rbus_cmd(NULL, NULL, "XDEL fc:inbox:%s %s", cfg->instance,
					         id);
				}
				on_event(inbox ? "" : id, f->element[k + 1]->str,
				         f->element[k + 1]->len);
				found = 1;
			}
		}
		if (!found && !inbox) /* trimmed or foreign entry: nothing to do with it */
			rbus_ack(id);
	}
}

static void xreadgroup(void);

static void xreadgroup_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	(void)priv;
	redisReply *reply = r;
	reading = 0;
	if (!reply)
		return;
	blk_seen = now_ms();
	if (reply->type == REDIS_REPLY_ERROR) {
		LOGE("XREADGROUP: %s", reply->str);
		if (strstr(reply->str, "NOGROUP")) {
			redisAsyncCommand(blk, NULL, NULL,
			                  "XGROUP CREATE fc:events callctl 0 MKSTREAM");
			redisAsyncCommand(blk, NULL, NULL,
			                  "XGROUP CREATE fc:inbox:%s callctl 0 MKSTREAM",
			                  cfg->instance);
		}
	} else if (reply->type == REDIS_REPLY_ARRAY) {
		for (size_t s = 0; s < reply->elements; s++) {
			redisReply *st = reply->element[s];
			if (st->elements == 2)
				deliver_entries(st->element[1],
				                st->element[0]->str &&
				                    !strncmp(st->element[0]->str, "fc:inbox:", 9));
		}
	}
	xreadgroup();
}

static void xreadgroup(void)
{
	if (!blk_ready || !cmd_ready || stopping || reading)
		return;
	if (redisAsyncCommand(blk, xreadgroup_cb, NULL,
	                      "XREADGROUP GROUP callctl %s COUNT 64 BLOCK 1000 STREAMS fc:events "
	                      "fc:inbox:%s > >",
	                      cfg->instance, cfg->instance) == REDIS_OK) {
		reading = 1;
		blk_seen = now_ms(); /* it may have rested while cmd was down */
	}
}

static void group_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)priv;
	redisReply *reply = r;
	if (!reply)
		return;
	if (reply->type == REDIS_REPLY_ERROR && !strstr(reply->str, "BUSYGROUP")) {
		LOGE("XGROUP CREATE: %s", reply->str);
		return;
	}
	if (c == blk) {
		blk_ready = 1;
		blk_seen = now_ms();
		LOGI("consuming fc:events as %s", cfg->instance);
		xreadgroup();
	}
}

static void on_connect(const redisAsyncContext *c, int status)
{
	if (status != REDIS_OK) {
		LOGW("Redis connect failed: %s", c->errstr);
		if (c == cmd)
			cmd = NULL;
		else if (c == blk)
			blk = NULL;
		return;
	}
	if (c == cmd) {
		cmd_ready = 1;
		cmd_seen = now_ms();
		LOGI("connected to Redis %s:%d", cfg->redis_host, cfg->redis_port);
		xreadgroup(); /* reading waited for it */
	} else if (c == blk) {
		/* Alive (§9) before the first event is read: the timer only
		 * refreshes it a second later. */
		redisAsyncCommand(blk, NULL, NULL, "SET fc:cc:%s 1 EX 5", cfg->instance);
		/* The group starts at 0 so events queued before any callctl ran
		 * are handled; BUSYGROUP is the normal case. */
		redisAsyncCommand(blk, NULL, NULL, "XGROUP CREATE fc:inbox:%s callctl 0 MKSTREAM",
		                  cfg->instance);
		redisAsyncCommand(blk, group_cb, NULL,
		                  "XGROUP CREATE fc:events callctl 0 MKSTREAM");
	}
}

static void on_disconnect(const redisAsyncContext *c, int status)
{
	(void)status;
	if (c == cmd) {
		cmd = NULL;
		cmd_ready = 0;
	} else if (c == blk) {
		blk = NULL;
		blk_ready = 0;
		reading = 0;
	}
	if (!stopping)
		LOGW("Redis connection lost; reconnecting");
}

static redisAsyncContext *open_conn(void)
{
	redisAsyncContext *c = redisAsyncConnect(cfg->redis_host, cfg->redis_port);
	if (!c)
		return NULL;
	if (c->err) {
		LOGW("Redis %s:%d: %s", cfg->redis_host, cfg->redis_port, c->errstr);
		redisAsyncFree(c);
		return NULL;
	}
	redisLibuvAttach(c, loop);
	redisAsyncSetConnectCallback(c, on_connect);
	redisAsyncSetDisconnectCallback(c, on_disconnect);
	if (cfg->redis_password[0])
		redisAsyncCommand(c, NULL, NULL, "AUTH %s", cfg->redis_password);
	if (cfg->redis_db)
		redisAsyncCommand(c, NULL, NULL, "SELECT %d", cfg->redis_db);
	return c;
}

static void autoclaim_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	(void)priv;
	redisReply *reply = r;
	if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2)
		return;
	redisReply *entries = reply->element[1];
	if (entries->elements > 0)
		LOGI("claimed %zu event(s) from a stalled consumer", entries->elements);
	deliver_entries(entries, 0);
}

static void consumers_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	(void)priv;
	redisReply *reply = r;
	if (!reply || reply->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < reply->elements; i++) {
		redisReply *e = reply->element[i];
		const char *name = NULL;
		long long pending = -1, idle = 0;
		for (size_t k = 0; e->type == REDIS_REPLY_ARRAY && k + 1 < e->elements; k += 2) {
			const char *key = e->element[k]->str;
			redisReply *v = e->element[k + 1];
			if (!key)
				continue;
			if (!strcmp(key, "name"))
				name = v->str;
			else if (!strcmp(key, "pending"))
				pending = v->integer;
			else if (!strcmp(key, "idle"))
				idle = v->integer;
		}
		if (name && pending == 0 && idle > 3600000 && strcmp(name, cfg->instance) != 0)
			rbus_cmd(NULL, NULL, "XGROUP DELCONSUMER fc:events callctl %s", name);
	}
}

/* ---- SCAN in pages --------------------------------------------------------- */

static void scan_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	redisReply *reply = r;
	rbus_scan_t *sc = priv;
	if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY)
		return;
	snprintf(sc->cursor, sizeof sc->cursor, "%s", reply->element[0]->str);
	redisReply *keys = reply->element[1];
	const char *v[RBUS_SCAN_PAGE];
	size_t n = 0;
	for (size_t i = 0; i < keys->elements && n < RBUS_SCAN_PAGE; i++)
		if (keys->element[i]->type == REDIS_REPLY_STRING)
			v[n++] = keys->element[i]->str;
	if (n)
		sc->page(v, n);
}

void rbus_scan(rbus_scan_t *sc)
{
	if (!sc->cursor[0])
		snprintf(sc->cursor, sizeof sc->cursor, "0");
	rbus_cmd(scan_cb, sc, "SCAN %s MATCH %s COUNT %d", sc->cursor, sc->match, RBUS_SCAN_PAGE);
}

/* ---- inboxes of dead instances ---------------------------------------------- */

/* Events forwarded to an instance that died before reading them go back
 * to fc:events, where a live instance takes them (bus-protocol.md §9). */
static void rescued_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	redisReply *reply = r;
	char *key = priv;
	if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
		LOGI("%lld event(s) forwarded to a dead instance (%s) handed back to fc:events",
		     reply->integer, key);
	free(key);
}

static void rescue_page(const char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = keys[i];
		if (strncmp(k, "fc:inbox:", 9) || !strcmp(k + 9, cfg->instance))
			continue;
		char cc[300];
		snprintf(cc, sizeof cc, "fc:cc:%s", k + 9);
		char *key = strdup(k);
		const char *argv[] = {"EVAL", LUA_RESCUE, "3", k, cc, "fc:events"};
		if (!key || rbus_cmdargv(rescued_cb, key, 6, argv, NULL) < 0)
			free(key);
	}
}

static void rescue_inboxes(void)
{
	static rbus_scan_t sc = {.match = "fc:inbox:*", .page = rescue_page};
	rbus_scan(&sc);
}

static void cmd_seen_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	(void)priv;
	if (r)
		cmd_seen = now_ms();
}

/* Drops a connection that stopped answering: a connect that never
 * completes (hiredis 0.14's libuv adapter ignores poll errors, so a failed
 * connect may never call back), a setup refused while Redis loads its data,
 * a peer gone without a word. Its callbacks run with no reply; the next
 * tick opens it again. */
static void watchdog(void)
{
	int64_t now = now_ms();
	/* Both answer every second when ready (SET fc:cc, XREADGROUP BLOCK
	 * 1000): 4 s of silence is a connection that missed a Redis restart,
	 * dropped before this instance's fc:cc (5 s) expires. */
	if (cmd && now - cmd_seen > (cmd_ready ? 4000 : 3000)) {
		redisAsyncContext *c = cmd;
		LOGW("Redis command connection silent; opening it again");
		cmd = NULL; /* on_disconnect, if called, does not recognise it */
		cmd_ready = 0;
		redisAsyncFree(c);
	}
	/* A ready event connection answers every second while it reads; it
	 * rests (no read) while the command connection is down. */
	if (blk && (reading || !blk_ready) && now - blk_seen > (blk_ready ? 4000 : 3000)) {
		redisAsyncContext *c = blk;
		LOGW("Redis event connection silent; opening it again");
		blk = NULL;
		blk_ready = 0;
		redisAsyncFree(c);
		reading = 0;
	}
}

static void on_timer(uv_timer_t *t)
{
	(void)t;
	watchdog();
	if (!cmd && (cmd = open_conn()))
		cmd_seen = now_ms();
	if (!blk && (blk = open_conn()))
		blk_seen = now_ms();
	if (!cmd_ready)
		return;
	n_touch = 0;
	/* Liveness of this instance for event forwarding (§9). */
	rbus_cmd(cmd_seen_cb, NULL, "SET fc:cc:%s 1 EX 5", cfg->instance);
	if (on_tick)
		on_tick();
	if (n_touch > 0) {
		const char *argv[TOUCH_MAX + 8];
		int argc = 0;
		argv[argc++] = "XCLAIM";
		argv[argc++] = "fc:events";
		argv[argc++] = "callctl";
		argv[argc++] = cfg->instance;
		argv[argc++] = "0";
		for (int i = 0; i < n_touch; i++)
			argv[argc++] = touch_ids[i];
		argv[argc++] = "JUSTID";
		rbus_cmdargv(NULL, NULL, argc, argv, NULL);
	}
	for (int i = 0; i < n_touch; i++)
		free(touch_ids[i]);
	n_touch = 0;
	rbus_cmd(autoclaim_cb, NULL, "XAUTOCLAIM fc:events callctl %s 5000 0-0 COUNT 64",
	         cfg->instance);
	if (ticks % 2 == 0)
		rescue_inboxes();
	if (++ticks % 60 == 0)
		rbus_cmd(consumers_cb, NULL, "XINFO CONSUMERS fc:events callctl");
}

int rbus_start(uv_loop_t *l, const fc_config *c, rbus_event_cb ev, rbus_tick_cb tk)
{
	loop = l;
	cfg = c;
	on_event = ev;
	on_tick = tk;
	cmd = open_conn();
	blk = open_conn();
	cmd_seen = blk_seen = now_ms();
	uv_timer_init(loop, &tick);
	uv_timer_start(&tick, on_timer, 1000, 1000);
	return 0;
}

void rbus_pause(void)
{
	stopping = 1; /* the XREADGROUP in flight is the last */
}

void rbus_stop(void)
{
	stopping = 1;
	/* Not alive any more: the calls this instance ran are taken over by
	 * the next instance that sees one of their events (§9), at once. */
	if (cmd_ready)
		rbus_cmd(NULL, NULL, "DEL fc:cc:%s", cfg->instance);
	uv_timer_stop(&tick);
	uv_close((uv_handle_t *)&tick, NULL);
	if (cmd)
		redisAsyncDisconnect(cmd);
	if (blk)
		redisAsyncDisconnect(blk);
}

int rbus_cmd(redisCallbackFn *cb, void *priv, const char *fmt, ...)
{
	if (!cmd_ready)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int r = redisvAsyncCommand(cmd, cb, priv, fmt, ap);
	va_end(ap);
	return r == REDIS_OK ? 0 : -1;
}

int rbus_cmdargv(redisCallbackFn *cb, void *priv, int argc, const char **argv,
                 const size_t *argvlen)
{
	if (!cmd_ready)
		return -1;
	return redisAsyncCommandArgv(cmd, cb, priv, argc, argv, argvlen) == REDIS_OK ? 0 : -1;
}

void rbus_forward(const char *owner, const char *json, size_t len)
{
	if (rbus_cmd(NULL, NULL, "XADD fc:inbox:%s MAXLEN ~ 10000 * j %b", owner, json, len) < 0)
		LOGE("cannot forward an event to %s", owner);
}

const char *rbus_instance(void)
{
	return cfg->instance;
}

void rbus_ack(const char *id)
{
	if (!id || !*id)
		return;
	rbus_cmd(NULL, NULL, "XACK fc:events callctl %s", id);
}

void rbus_touch(const char *id)
{
	if (n_touch < TOUCH_MAX && (touch_ids[n_touch] = strdup(id)))
		n_touch++;
}

void rbus_send_cmd(const char *proxy, const char *json)
{
	if (rbus_cmd(NULL, NULL, "XADD fc:cmd:%s MAXLEN ~ 10000 * j %s", proxy, json) < 0)
		LOGE("cannot send a command to proxy %s: Redis not connected", proxy);
}
