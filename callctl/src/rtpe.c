/* rtpe.c — owns the rtpengine ng client: UDP "<cookie> <JSON>" requests on
 * the libuv loop with per-try timeouts and identical retransmissions, reply
 * matching by cookie, and a blocking ping for health checks. */
#include "rtpe.h"
#include "log.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define RTPE_MAX_DGRAM 65507
#define RTPE_DEFAULT_TIMEOUT_MS 1000
#define RTPE_DEFAULT_TRIES 3

typedef struct rtpe_req {
	struct rtpe_req *prev, *next;
	rtpe_client *c;
	uv_timer_t timer; /* retransmission; its close callback frees the req */
	char cookie[48];
	size_t cookie_len;
	char *msg;
	size_t len;
	int tries_left;
	rtpe_cb cb;
	void *ud;
} rtpe_req;

struct rtpe_client {
	uv_loop_t *loop;
	uv_udp_t udp; /* its close callback frees the client */
	rtpe_req *reqs;
	int npending;
	int timeout_ms, tries;
	uint64_t seq;
	char prefix[20];
	int closing;
	char buf[65536];
};

/* ---- addresses and cookies ---- */

/* Parses "host:port" / "[v6]:port" and resolves it (numeric first). */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[256];
	const char *port;
	if (!s || !*s)
		return -1;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof host)
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = 0;
		port = e + 2;
	} else {
		const char *e = strrchr(s, ':');
		if (!e || (size_t)(e - s) >= sizeof host || strchr(s, ':') != e)
			return -1;
		memcpy(host, s, (size_t)(e - s));
		host[e - s] = 0;
		port = e + 1;
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*host || !*port || *end || p < 1 || p > 65535)
		return -1;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void make_prefix(char out[20])
{
	unsigned char b[6];
	if (uv_random(NULL, NULL, b, sizeof b, 0, NULL) != 0) {
		uint64_t x = uv_hrtime() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)(x >> (8 * i));
	}
	snprintf(out, 20, "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* ---- requests ---- */

static void on_req_closed(uv_handle_t *h)
{
	free(h->data);
}

static void req_unlink(rtpe_req *r)
{
	rtpe_client *c = r->c;
	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	c->npending--;
}

/* Frees a request that is no longer linked. */
static void req_free(rtpe_req *r)
{
	free(r->msg);
	r->msg = NULL;
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, on_req_closed);
}

static void req_finish(rtpe_req *r, json_t *reply, const char *err)
{
	req_unlink(r);
	uv_timer_stop(&r->timer);
	r->cb(reply, err, r->ud);
	req_free(r);
}

static void req_transmit(rtpe_req *r)
{
	uv_buf_t b = uv_buf_init(r->msg, (unsigned)r->len);
	int rc = uv_udp_try_send(&r->c->udp, &b, 1, NULL);
	if (rc < 0)
		LOGD("rtpe: send of %s failed: %s", r->cookie, uv_strerror(rc));
}

static void on_req_timer(uv_timer_t *t)
{
	rtpe_req *r = t->data;
	if (r->tries_left <= 0) {
		LOGW("rtpe: no reply to %s after %d tries", r->cookie, r->c->tries);
		req_finish(r, NULL, "timeout");
		return;
	}
	r->tries_left--;
	req_transmit(r);
	uv_timer_start(&r->timer, on_req_timer, (uint64_t)r->c->timeout_ms, 0);
}

static rtpe_req *req_find(rtpe_client *c, const char *cookie, size_t len)
{
	for (rtpe_req *r = c->reqs; r; r = r->next)
		if (r->cookie_len == len && !memcmp(r->cookie, cookie, len))
			return r;
	return NULL;
}

/* ---- the socket ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	rtpe_client *c = h->data;
	(void)hint;
	*buf = uv_buf_init(c->buf, sizeof c->buf);
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
	rtpe_client *c = h->data;
	(void)addr;
	if (n < 0) {
		LOGD("rtpe: receive error: %s", uv_strerror((int)n));
		return;
	}
	if (n == 0 || c->closing)
		return;
	if (flags & UV_UDP_PARTIAL) {
		LOGW("rtpe: truncated reply dropped");
		return;
	}
	const char *p = buf->base, *sp = memchr(p, ' ', (size_t)n);
	if (!sp) {
		LOGW("rtpe: reply without a cookie dropped");
		return;
	}
	rtpe_req *r = req_find(c, p, (size_t)(sp - p));
	if (!r) {
		LOGD("rtpe: reply for an unknown cookie %.*s", (int)(sp - p), p);
		return;
	}
	json_error_t je;
	json_t *reply = json_loadb(sp + 1, (size_t)(n - (sp + 1 - p)), 0, &je);
	if (!json_is_object(reply)) {
		LOGW("rtpe: invalid reply to %s: %s", r->cookie, reply ? "not an object" : je.text);
		json_decref(reply);
		req_finish(r, NULL, "invalid reply");
		return;
	}
	const char *err = NULL;
	const char *result = json_string_value(json_object_get(reply, "result"));
	if (result && !strcmp(result, "error")) {
		err = json_string_value(json_object_get(reply, "error-reason"));
		if (!err)
			err = "error";
	}
	req_finish(r, reply, err);
	json_decref(reply);
}

/* ---- public API ---- */

static void on_client_closed(uv_handle_t *h)
{
	free(h->data);
}

rtpe_client *rtpe_new(uv_loop_t *loop, const char *addr_port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!loop || parse_addr(addr_port, &ss, &sl) != 0) {
		LOGE("rtpe: invalid address %s", addr_port ? addr_port : "(null)");
		return NULL;
	}
	rtpe_client *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->loop = loop;
	c->timeout_ms = RTPE_DEFAULT_TIMEOUT_MS;
	c->tries = RTPE_DEFAULT_TRIES;
	make_prefix(c->prefix);
	if (uv_udp_init(loop, &c->udp) != 0) {
		free(c);
		return NULL;
	}
	c->udp.data = c;
	int rc = uv_udp_connect(&c->udp, (const struct sockaddr *)&ss);
	if (rc == 0)
		rc = uv_udp_recv_start(&c->udp, on_alloc, on_recv);
	if (rc != 0) {
		LOGE("rtpe: cannot use %s: %s", addr_port, uv_strerror(rc));
		uv_close((uv_handle_t *)&c->udp, on_client_closed);
		return NULL;
	}
	return c;
}

void rtpe_free(rtpe_client *c)
{
	if (!c || c->closing)
		return;
	c->closing = 1;
	while (c->reqs) {
		rtpe_req *r = c->reqs;
		req_unlink(r);
		req_free(r);
	}
	uv_udp_recv_stop(&c->udp);
	uv_close((uv_handle_t *)&c->udp, on_client_closed);
}

void rtpe_set_timeout(rtpe_client *c, int timeout_ms, int tries)
{
	if (!c)
		return;
	c->timeout_ms = timeout_ms >= 1 ? timeout_ms : 1;
	c->tries = tries >= 1 ? tries : 1;
}

int rtpe_send(rtpe_client *c, json_t *cmd, rtpe_cb cb, void *ud)
{
	if (!c || c->closing || !json_is_object(cmd) || !cb)
		return -1;
	rtpe_req *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	char *js = json_dumps(cmd, JSON_COMPACT);
	if (!js) {
		free(r);
		return -1;
	}
	r->cookie_len = (size_t)snprintf(r->cookie, sizeof r->cookie, "%s_%llu", c->prefix,
	                                 (unsigned long long)++c->seq);
	size_t jl = strlen(js);
	r->len = r->cookie_len + 1 + jl;
	if (r->len > RTPE_MAX_DGRAM || !(r->msg = malloc(r->len))) {
		LOGE("rtpe: cannot send a %zu-byte message", r->len);
		free(js);
		free(r);
		return -1;
	}
	memcpy(r->msg, r->cookie, r->cookie_len);
	r->msg[r->cookie_len] = ' ';
	memcpy(r->msg + r->cookie_len + 1, js, jl);
	free(js);
	if (uv_timer_init(c->loop, &r->timer) != 0) {
		free(r->msg);
		free(r);
		return -1;
	}
	r->timer.data = r;
	r->c = c;
	r->cb = cb;
	r->ud = ud;
	r->tries_left = c->tries - 1;
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	c->npending++;
	LOGD("rtpe: -> %.*s", (int)(r->len < 300 ? r->len : 300), r->msg);
	req_transmit(r);
	uv_update_time(c->loop); /* the loop's clock may be stale inside a callback */
	uv_timer_start(&r->timer, on_req_timer, (uint64_t)c->timeout_ms, 0);
	return 0;
}

int rtpe_cancel_ud(rtpe_client *c, void *ud)
{
	int n = 0;
	if (!c)
		return 0;
	rtpe_req *r = c->reqs;
	while (r) {
		rtpe_req *next = r->next;
		if (r->ud == ud) {
			req_unlink(r);
			req_free(r);
			n++;
		}
		r = next;
	}
	return n;
}

int rtpe_pending(const rtpe_client *c)
{
	return c ? c->npending : 0;
}

/* ---- blocking ping ---- */

static int64_t mono_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_pong(const char *buf, size_t n, const char *cookie)
{
	size_t cl = strlen(cookie);
	if (n <= cl || memcmp(buf, cookie, cl) != 0 || buf[cl] != ' ')
		return 0;
	json_t *j = json_loadb(buf + cl + 1, n - cl - 1, 0, NULL);
	const char *res = json_string_value(json_object_get(j, "result"));
	int ok = res && !strcmp(res, "pong");
	json_decref(j);
	return ok;
}

int rtpe_ping_sync(const char *addr_port, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (timeout_ms < 1 || parse_addr(addr_port, &ss, &sl) != 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	char prefix[20], cookie[40], msg[96], buf[512];
	make_prefix(prefix);
	snprintf(cookie, sizeof cookie, "ping_%s", prefix);
	int ml = snprintf(msg, sizeof msg, "%s {\"command\":\"ping\"}", cookie);
	int64_t end = mono_now_ms() + timeout_ms, next_send = 0;
	int step = timeout_ms / 3 > 50 ? timeout_ms / 3 : timeout_ms;
	int ok = 0;
	for (;;) {
		int64_t now = mono_now_ms();
		if (now >= end)
			break;
		if (now >= next_send) {
			if (send(fd, msg, (size_t)ml, 0) < 0 && errno != ECONNREFUSED)
				break;
			next_send = now + step;
		}
		int64_t wait = (next_send < end ? next_send : end) - now;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, (int)(wait > 0 ? wait : 0));
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n > 0 && is_pong(buf, (size_t)n, cookie)) {
			ok = 1;
			break;
		}
		/* ECONNREFUSED (nothing listening yet) and strangers: keep waiting */
	}
	close(fd);
	return ok ? 0 : -1;
}
