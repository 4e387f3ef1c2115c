/* fc_bus.c — the module's own process (forked from PROC_MAIN, like evapi's
 * dispatcher). A libuv loop drives two async hiredis connections: "pub" for
 * XADD of events and the liveness key, "sub" for the blocking XREAD of this
 * proxy's command stream. Events arrive from SIP workers through the
 * fc_queue socketpair; they are kept, in order, until Redis acknowledges
 * them, and re-sent after a reconnect. */
#include "fc_bus.h"
#include "fc_drain.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "../../core/dprint.h"
#include "../../core/cfg/cfg_struct.h"
#include "fc_cmd.h"
#include "fc_mod.h"
#include "fc_queue.h"

typedef struct msg_list {
	fc_msg *head, *tail;
} msg_list;

static uv_loop_t loop;
static uv_poll_t qpoll;
static uv_timer_t tick;
static uv_prepare_t prep;
static redisAsyncContext *pub, *sub;
static int pub_ready, sub_ready;
static msg_list pending;  /* to send */
static msg_list inflight; /* sent, waiting for the XADD reply */
static msg_list retry;    /* sent but not stored (refused, or the connection went), in order */
/* When each connection last answered (or was opened), in ms: a connection
 * that stays silent is dropped and opened again (on_tick). */
static long long pub_seen, sub_seen;
static int xread_later; /* an XREAD failed: the next tick asks again */
static char cmd_stream[256], proxy_key[256], last_id[64];
static char r_host[256], r_pass[256];
static int r_port = 6379, r_db = 0;
static long long started_ms;

static void list_push(msg_list *l, fc_msg *m)
{
	m->next = NULL;
	if (l->tail)
		l->tail->next = m;
	else
		l->head = m;
	l->tail = m;
}

static fc_msg *list_pop(msg_list *l)
{
	fc_msg *m = l->head;
	if (m) {
		l->head = m->next;
		if (!l->head)
			l->tail = NULL;
	}
	return m;
}

/* redis://[:password@]host[:port][/db] */
static int parse_url(const char *url)
{
	const char *p = url;
	if (strncmp(p, "redis://", 8) != 0)
		return -1;
	p += 8;
	const char *at = strchr(p, '@');
	if (at) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		const char *pw = c ? c + 1 : p;
		if ((size_t)(at - pw) >= sizeof r_pass)
			return -1;
		memcpy(r_pass, pw, (size_t)(at - pw));
		r_pass[at - pw] = 0;
		p = at + 1;
	}
	size_t hl = strcspn(p, ":/");
	if (hl == 0 || hl >= sizeof r_host)
		return -1;
	memcpy(r_host, p, hl);
	r_host[hl] = 0;
	p += hl;
	if (*p == ':')
		r_port = (int)strtol(p + 1, (char **)&p, 10);
	if (*p == '/' && p[1])
		r_db = atoi(p + 1);
	return r_port > 0 && r_port < 65536 ? 0 : -1;
}

static void set_up(void)
{
	int up = pub_ready && sub_ready;
	if (up && !fc_sh->redis_up) {
		LM_INFO("fulcrum: connected to Redis %s:%d\n", r_host, r_port);
		fc_sh->redis_down_since = 0;
	} else if (!up && fc_sh->redis_up) {
		LM_WARN("fulcrum: lost Redis %s:%d\n", r_host, r_port);
		fc_sh->redis_down_since = (long)time(NULL);
	}
	fc_sh->redis_up = up;
}

static void xadd_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	redisReply *reply = r;
	fc_msg *m = list_pop(&inflight);
	if (m != priv)
		LM_BUG("fulcrum: XADD replies out of order\n");
	if (reply)
		pub_seen = fc_now_ms();
	if (reply && reply->type != REDIS_REPLY_ERROR) {
		fc_msg_free(m);
		return;
	}
	if (reply)
		LM_ERR("fulcrum: XADD refused: %s\n", reply->str);
	/* Kept: it goes out again, before what came after it (requeue). */
	if (m)
		list_push(&retry, m);
}

/* What was sent but not stored goes out first, in its order. */
static void requeue(void)
{
	if (inflight.head) { /* sent after everything in retry */
		if (retry.tail)
			retry.tail->next = inflight.head;
		else
			retry.head = inflight.head;
		retry.tail = inflight.tail;
		inflight.head = inflight.tail = NULL;
	}
	if (!retry.head)
		return;
	retry.tail->next = pending.head;
	if (!pending.head)
		pending.tail = retry.tail;
	pending.head = retry.head;
	retry.head = retry.tail = NULL;
}

static void flush(void)
{
	if (!pub_ready)
		return;
	if (!inflight.head)
		requeue();
	fc_msg *m;
	while ((m = list_pop(&pending))) {
		list_push(&inflight, m);
		if (redisAsyncCommand(pub, xadd_cb, m, "XADD fc:events MAXLEN ~ 100000 * j %b",
		                      m->data, (size_t)m->len) != REDIS_OK) {
			/* The context is going away; the disconnect callback requeues. */
			break;
		}
	}
}

static void on_queue(uv_poll_t *h, int status, int events)
{
	(void)h;
	(void)status;
	(void)events;
	fc_msg *m;
	while ((m = fc_queue_pop())) {
		if (m->local) {
			/* Work a tm callback handed over (fc_queue_push_local). */
			fc_cmd_exec(m->data, (size_t)m->len);
			fc_msg_free(m);
		} else {
			list_push(&pending, m);
		}
	}
	flush();
}

static void xread(void);

static void xread_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	(void)priv;
	redisReply *reply = r;
	if (!reply)
		return; /* disconnected */
	sub_seen = fc_now_ms();
	if (reply->type == REDIS_REPLY_ERROR) {
		LM_ERR("fulcrum: XREAD: %s\n", reply->str);
		xread_later = 1; /* e.g. LOADING: not in a tight loop */
		return;
	} else if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
		redisReply *stream = reply->element[0];
		redisReply *entries = stream->elements == 2 ? stream->element[1] : NULL;
		for (size_t i = 0; entries && i < entries->elements; i++) {
			redisReply *e = entries->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
				continue;
			snprintf(last_id, sizeof last_id, "%s", e->element[0]->str);
			redisReply *f = e->element[1];
			for (size_t k = 0; k + 1 < f->elements; k += 2)
				if (strcmp(f->element[k]->str, "j") == 0)
					fc_cmd_exec(f->element[k + 1]->str, f->element[k + 1]->len);
		}
	}
	xread();
}

static void xread(void)
{
	if (sub_ready)
		redisAsyncCommand(sub, xread_cb, NULL, "XREAD BLOCK 1000 COUNT 64 STREAMS %s %s",
		                  cmd_stream, last_id);
}

static void last_id_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	(void)priv;
	redisReply *reply = r;
	if (!reply)
		return;
	sub_seen = fc_now_ms();
	if (reply->type == REDIS_REPLY_ERROR) {
		/* e.g. LOADING: never read from a guessed position; the
		 * silent connection is opened again (on_tick). */
		LM_ERR("fulcrum: Redis setup: %s\n", reply->str);
		return;
	}
	/* Where to read from: after the newest command when the proxy starts
	 * (a new proxy has no legs to command); after the last one read when
	 * the connection comes back (commands written meanwhile are for legs
	 * that are still up). */
	if (strcmp(last_id, "$") != 0)
		; /* reconnected: go on from last_id */
	else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1)
		snprintf(last_id, sizeof last_id, "%s", reply->element[0]->element[0]->str);
	else
		snprintf(last_id, sizeof last_id, "0-0");
	sub_ready = 1;
	set_up();
	xread();
}

static void seen_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	(void)priv;
	if (r)
		pub_seen = fc_now_ms();
}

static void heartbeat(void)
{
	if (!pub_ready)
		return;
	char v[512];
	int draining = fc_draining();
	snprintf(v, sizeof v,
	         "{\"sip\":\"%s\",\"pid\":%d,\"started\":%lld,\"legs\":%d,\"draining\":%s}",
	         fc_advertise, (int)getpid(), started_ms, fc_leg_count(),
	         draining ? "true" : "false");
	redisAsyncCommand(pub, seen_cb, NULL, "SET %s %s EX 15", proxy_key, v);
	/* The index edges and callctl pick a proxy for new calls from
	 * (bus-protocol.md §1, §13): scored by this heartbeat's time. A
	 * draining proxy leaves it; its key above keeps its calls alive. */
	if (draining)
		redisAsyncCommand(pub, NULL, NULL, "ZREM fc:proxies %s", fc_proxy_id);
	else
		redisAsyncCommand(pub, NULL, NULL, "ZADD fc:proxies %lld %s", fc_now_ms(),
		                  fc_proxy_id);
}

static void pub_ready_cb(redisAsyncContext *c, void *r, void *priv)
{
	(void)c;
	(void)priv;
	redisReply *reply = r;
	if (!reply)
		return;
	pub_seen = fc_now_ms();
	if (reply->type == REDIS_REPLY_ERROR) {
		/* e.g. LOADING: the silent connection is opened again (on_tick) */
		LM_ERR("fulcrum: Redis setup: %s\n", reply->str);
		return;
	}
	pub_ready = 1;
	set_up();
	heartbeat();
	flush();
}

static void on_connect(const redisAsyncContext *c, int status);
static void on_disconnect(const redisAsyncContext *c, int status);

static redisAsyncContext *open_conn(void)
{
	redisAsyncContext *c = redisAsyncConnect(r_host, r_port);
	if (!c)
		return NULL;
	if (c->err) {
		LM_ERR("fulcrum: Redis %s:%d: %s\n", r_host, r_port, c->errstr);
		redisAsyncFree(c);
		return NULL;
	}
	redisLibuvAttach(c, &loop);
	redisAsyncSetConnectCallback(c, on_connect);
	redisAsyncSetDisconnectCallback(c, on_disconnect);
	if (r_pass[0])
		redisAsyncCommand(c, NULL, NULL, "AUTH %s", r_pass);
	if (r_db)
		redisAsyncCommand(c, NULL, NULL, "SELECT %d", r_db);
	return c;
}

static void on_connect(const redisAsyncContext *c, int status)
{
	if (status != REDIS_OK) {
		LM_ERR("fulcrum: Redis connect failed: %s\n", c->errstr);
		if (c == pub)
			pub = NULL;
		else if (c == sub)
			sub = NULL;
		return;
	}
	if (c == pub)
		redisAsyncCommand(pub, pub_ready_cb, NULL, "PING");
	else if (c == sub)
		redisAsyncCommand(sub, last_id_cb, NULL, "XREVRANGE %s + - COUNT 1", cmd_stream);
}

static void on_disconnect(const redisAsyncContext *c, int status)
{
	(void)status;
	if (c == pub) {
		pub = NULL;
		pub_ready = 0;
		requeue(); /* unacknowledged events go back to the front, in order */
	} else if (c == sub) {
		sub = NULL;
		sub_ready = 0;
	}
	set_up();
}

/* Drops a connection that stopped answering (a connect that never
 * completes, a setup refused while Redis loads its data, a peer gone
 * without a word): its pending callbacks run with no reply, and the next
 * tick opens it again. */
static void drop(redisAsyncContext **cp, const char *what)
{
	redisAsyncContext *c = *cp;
	LM_WARN("fulcrum: Redis %s connection silent; opening it again\n", what);
	*cp = NULL; /* on_disconnect, if called, does not recognise it */
	if (cp == &pub)
		pub_ready = 0;
	else
		sub_ready = 0;
	redisAsyncFree(c);
	if (cp == &pub)
		requeue();
	set_up();
}

static void on_tick(uv_timer_t *t)
{
	(void)t;
	static int n;
	long long now = fc_now_ms();
	/* The publisher hears from Redis every second at least (a PING when
	 * nothing else went), the reader every XREAD BLOCK (1 s); a setup
	 * answers at once. A connection that missed a Redis restart (no
	 * close seen) is dropped within 4 s: events wait no longer. */
	if (pub && pub_ready && now - pub_seen > 900)
		redisAsyncCommand(pub, seen_cb, NULL, "PING");
	if (pub && now - pub_seen > (pub_ready ? 4000 : 3000))
		drop(&pub, "publishing");
	if (sub && now - sub_seen > (sub_ready ? 8000 : 3000))
		drop(&sub, "command");
	if (!pub && (pub = open_conn()))
		pub_seen = now;
	if (!sub && (sub = open_conn()))
		sub_seen = now;
	if (sub_ready && xread_later) {
		xread_later = 0;
		xread();
	}
	/* A drain turned on or off is announced at once (fc_drain.c). */
	static int was_draining;
	int draining = fc_draining();
	if (++n % 5 == 0 || draining != was_draining)
		heartbeat();
	was_draining = draining;
}

static void on_prepare(uv_prepare_t *p)
{
	(void)p;
	cfg_update();
}

void fc_bus_run(void)
{
	if (parse_url(fc_redis_url) < 0) {
		LM_CRIT("fulcrum: bad redis_url '%s'\n", fc_redis_url);
		exit(-1);
	}
	snprintf(cmd_stream, sizeof cmd_stream, "fc:cmd:%s", fc_proxy_id);
	snprintf(proxy_key, sizeof proxy_key, "fc:proxy:%s", fc_proxy_id);
	snprintf(last_id, sizeof last_id, "$");
	started_ms = fc_now_ms();
	uv_loop_init(&loop);
	uv_prepare_init(&loop, &prep);
	uv_prepare_start(&prep, on_prepare);
	uv_poll_init(&loop, &qpoll, fc_queue_fd());
	uv_poll_start(&qpoll, UV_READABLE, on_queue);
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, on_tick, 0, 1000);
	uv_run(&loop, UV_RUN_DEFAULT);
	LM_CRIT("fulcrum: bus loop ended\n");
	exit(-1);
}
