/* test_rtpe.c — rtpengine ng client against the real rtpengine daemon started
 * on 127.0.0.1 (userspace, random ng port), plus a fake in-process ng server
 * for retransmission, garbage replies and cancellation. */
#include "unit.h"

#include "log.h"
#include "rtpe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t g_pid = -1;
static char g_addr[64];
static char g_log[] = "/tmp/test_rtpe_XXXXXX";
static int g_dead_fd = -1; /* a bound UDP socket that never answers */
static char g_dead_addr[64];

static int udp_bound_port(int *fd_out)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t sl = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return ntohs(sa.sin_port);
}

static void kill_daemon(void)
{
	if (g_pid > 0) {
		kill(g_pid, SIGTERM);
		for (int i = 0; i < 200; i++) {
			if (waitpid(g_pid, NULL, WNOHANG) == g_pid) {
				g_pid = -1;
				break;
			}
			usleep(10000);
		}
		if (g_pid > 0) {
			kill(g_pid, SIGKILL);
			waitpid(g_pid, NULL, 0);
			g_pid = -1;
		}
	}
}

static void dump_log(void)
{
	FILE *f = fopen(g_log, "r");
	char line[512];
	if (!f)
		return;
	fprintf(stderr, "---- rtpengine log ----\n");
	while (fgets(line, sizeof line, f))
		fputs(line, stderr);
	fclose(f);
}

static int group_setup(void **state)
{
	(void)state;
	int logfd = mkstemp(g_log);
	int port = udp_bound_port(NULL);
	int dead = udp_bound_port(&g_dead_fd);
	if (logfd < 0 || port < 0 || dead < 0)
		return -1;
	snprintf(g_addr, sizeof g_addr, "127.0.0.1:%d", port);
	snprintf(g_dead_addr, sizeof g_dead_addr, "127.0.0.1:%d", dead);
	/* media ports in a range derived from the pid, so parallel runs differ */
	int pmin = 41000 + (int)(getpid() % 100) * 200;
	char a_ng[96], a_min[32], a_max[32], a_pid[96];
	snprintf(a_ng, sizeof a_ng, "--listen-ng=%s", g_addr);
	snprintf(a_min, sizeof a_min, "--port-min=%d", pmin);
	snprintf(a_max, sizeof a_max, "--port-max=%d", pmin + 199);
	snprintf(a_pid, sizeof a_pid, "--pidfile=%s.pid", g_log);
	pid_t parent = getpid();
	g_pid = fork();
	if (g_pid < 0)
		return -1;
	if (g_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test, even on a crash */
		if (getppid() != parent)
			_exit(127);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execl("/usr/bin/rtpengine", "rtpengine", "--config-file=none", "--foreground",
		      "--table=-1", "--interface=127.0.0.1", a_ng, a_min, a_max, "--log-stderr",
		      "--log-level=5", a_pid, (char *)NULL);
		_exit(127);
	}
	close(logfd);
	for (int i = 0; i < 100; i++) {
		if (rtpe_ping_sync(g_addr, 100) == 0)
			return 0;
		if (waitpid(g_pid, NULL, WNOHANG) == g_pid) {
			g_pid = -1;
			break;
		}
	}
	fprintf(stderr, "rtpengine did not answer ping on %s\n", g_addr);
	dump_log();
	kill_daemon();
	return -1;
}

static int group_teardown(void **state)
{
	(void)state;
	kill_daemon();
	char pidf[64];
	snprintf(pidf, sizeof pidf, "%s.pid", g_log);
	unlink(pidf);
	unlink(g_log);
	if (g_dead_fd >= 0)
		close(g_dead_fd);
	return 0;
}

/* ---- helpers ---- */

typedef struct outcome {
	int done;
	json_t *reply;
	char err[128];
	int has_err;
	rtpe_client *free_client;
} outcome;

static void on_reply(json_t *reply, const char *err, void *ud)
{
	outcome *o = ud;
	o->done++;
	json_decref(o->reply);
	o->reply = reply ? json_incref(reply) : NULL;
	o->has_err = err != NULL;
	snprintf(o->err, sizeof o->err, "%s", err ? err : "");
	if (o->free_client)
		rtpe_free(o->free_client);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_until(uv_loop_t *loop, outcome *o, double max_s)
{
	double end = now_s() + max_s;
	while (!o->done && now_s() < end)
		uv_run(loop, UV_RUN_ONCE);
}

static void close_loop(uv_loop_t *loop, rtpe_client *c)
{
	rtpe_free(c);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

static const char *reply_str(const outcome *o, const char *key)
{
	return json_string_value(json_object_get(o->reply, key));
}

/* Sends cmd (stolen) to addr and waits for the outcome. */
static void send1(const char *addr, json_t *cmd, outcome *o)
{
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	rtpe_client *c = rtpe_new(&loop, addr);
	assert_non_null(c);
	assert_int_equal(rtpe_send(c, cmd, on_reply, o), 0);
	json_decref(cmd);
	assert_int_equal(o->done, 0);
	assert_int_equal(rtpe_pending(c), 1);
	run_until(&loop, o, 5);
	assert_int_equal(o->done, 1);
	assert_int_equal(rtpe_pending(c), 0);
	close_loop(&loop, c);
}

static const char *SDP = "v=0\r\n"
                         "o=- 1545997027 1 IN IP4 127.0.0.1\r\n"
                         "s=-\r\n"
                         "c=IN IP4 127.0.0.1\r\n"
                         "t=0 0\r\n"
                         "m=audio 30000 RTP/AVP 0 8 101\r\n"
                         "a=rtpmap:0 PCMU/8000\r\n"
                         "a=rtpmap:8 PCMA/8000\r\n"
                         "a=rtpmap:101 telephone-event/8000\r\n"
                         "a=fmtp:101 0-16\r\n"
                         "a=sendrecv\r\n";

/* ---- against rtpengine ---- */

static void test_ping_sync(void **state)
{
	(void)state;
	assert_int_equal(rtpe_ping_sync(g_addr, 1000), 0);
	double t0 = now_s();
	assert_int_equal(rtpe_ping_sync(g_dead_addr, 200), -1);
	assert_true(now_s() - t0 >= 0.15);
	assert_int_equal(rtpe_ping_sync("nonsense", 100), -1);
	assert_int_equal(rtpe_ping_sync(g_addr, 0), -1);
}

static void test_ping(void **state)
{
	(void)state;
	outcome o = {0};
	send1(g_addr, json_pack("{s:s}", "command", "ping"), &o);
	assert_int_equal(o.has_err, 0);
	assert_string_equal(reply_str(&o, "result"), "pong");
	json_decref(o.reply);
}

static void test_offer_delete(void **state)
{
	(void)state;
	outcome o = {0};
	char callid[64];
	snprintf(callid, sizeof callid, "test-%d-%ld", (int)getpid(), (long)time(NULL));
	send1(g_addr,
	      json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "command", "offer", "call-id", callid,
	                "from-tag", "tagA", "sdp", SDP, "replace", "origin"),
	      &o);
	assert_int_equal(o.has_err, 0);
	assert_string_equal(reply_str(&o, "result"), "ok");
	const char *sdp = reply_str(&o, "sdp");
	assert_non_null(sdp);
	assert_non_null(strstr(sdp, "c=IN IP4 127.0.0.1\r\n"));
	assert_null(strstr(sdp, "m=audio 30000 ")); /* rtpengine's own port */
	json_decref(o.reply);
	memset(&o, 0, sizeof o);

	send1(g_addr, json_pack("{s:s, s:s}", "command", "query", "call-id", callid), &o);
	assert_string_equal(reply_str(&o, "result"), "ok");
	json_decref(o.reply);
	memset(&o, 0, sizeof o);

	send1(g_addr,
	      json_pack("{s:s, s:s, s:s}", "command", "delete", "call-id", callid, "from-tag",
	                "tagA"),
	      &o);
	assert_int_equal(o.has_err, 0);
	assert_string_equal(reply_str(&o, "result"), "ok");
	json_decref(o.reply);
}

static void test_error_reply(void **state)
{
	(void)state;
	outcome o = {0};
	/* an offer without SDP is refused */
	send1(
	    g_addr,
	    json_pack("{s:s, s:s, s:s}", "command", "offer", "call-id", "no-sdp", "from-tag", "x"),
	    &o);
	assert_int_equal(o.has_err, 1);
	assert_non_null(o.reply);
	assert_string_equal(reply_str(&o, "result"), "error");
	assert_true(strlen(o.err) > 0);
	assert_string_not_equal(o.err, "timeout");
	json_decref(o.reply);
}

static void test_many_in_flight(void **state)
{
	(void)state;
	enum { N = 50 };
	outcome o[N];
	memset(o, 0, sizeof o);
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	rtpe_client *c = rtpe_new(&loop, g_addr);
	assert_non_null(c);
	for (int i = 0; i < N; i++) {
		json_t *cmd = json_pack("{s:s}", "command", "ping");
		assert_int_equal(rtpe_send(c, cmd, on_reply, &o[i]), 0);
		json_decref(cmd);
	}
	assert_int_equal(rtpe_pending(c), N);
	double end = now_s() + 5;
	while (rtpe_pending(c) && now_s() < end)
		uv_run(&loop, UV_RUN_ONCE);
	for (int i = 0; i < N; i++) {
		assert_int_equal(o[i].done, 1);
		assert_string_equal(reply_str(&o[i], "result"), "pong");
		json_decref(o[i].reply);
	}
	close_loop(&loop, c);
}

static void test_timeout_nothing_listening(void **state)
{
	(void)state;
	outcome o = {0};
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	/* a port with no socket at all (ICMP refusals must not end the retries) */
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%d", udp_bound_port(NULL));
	rtpe_client *c = rtpe_new(&loop, addr);
	assert_non_null(c);
	rtpe_set_timeout(c, 100, 3);
	json_t *cmd = json_pack("{s:s}", "command", "ping");
	double t0 = now_s();
	assert_int_equal(rtpe_send(c, cmd, on_reply, &o), 0);
	json_decref(cmd);
	run_until(&loop, &o, 5);
	double dt = now_s() - t0;
	assert_int_equal(o.done, 1);
	assert_null(o.reply);
	assert_string_equal(o.err, "timeout");
	assert_true(dt >= 0.25 && dt < 3.0);
	close_loop(&loop, c);
}

/* ---- against a fake ng server in the same loop ---- */

typedef struct fake {
	uv_udp_t udp;
	int mode; /* 0 drop first, answer later; 1 garbage; 2 never answer */
	int seen;
	char first[512];
	size_t first_len;
	int identical;
	char buf[2048];
} fake;

static void fake_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	fake *f = h->data;
	(void)hint;
	*b = uv_buf_init(f->buf, sizeof f->buf);
}

static void fake_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                      unsigned flags)
{
	fake *f = h->data;
	(void)flags;
	if (n <= 0 || !from)
		return;
	f->seen++;
	if (f->seen == 1) {
		memcpy(f->first, b->base, (size_t)n);
		f->first_len = (size_t)n;
		return; /* lost */
	}
	f->identical = (size_t)n == f->first_len && !memcmp(f->first, b->base, (size_t)n);
	if (f->mode == 2)
		return;
	const char *sp = memchr(b->base, ' ', (size_t)n);
	char out[600];
	int cl = (int)(sp - b->base);
	int len = f->mode == 1
	              ? snprintf(out, sizeof out, "%.*s d6:result4:ponge", cl, b->base)
	              : snprintf(out, sizeof out, "%.*s {\"result\":\"pong\"}", cl, b->base);
	/* a stranger's cookie first: must be ignored */
	uv_buf_t s = uv_buf_init("zzz {\"result\":\"ok\"}", 19);
	uv_udp_try_send(h, &s, 1, from);
	uv_buf_t r = uv_buf_init(out, (unsigned)len);
	uv_udp_try_send(h, &r, 1, from);
}

static void fake_start(uv_loop_t *loop, fake *f, char *addr, size_t n)
{
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_udp_init(loop, &f->udp), 0);
	f->udp.data = f;
	assert_int_equal(uv_udp_bind(&f->udp, (struct sockaddr *)&sa, 0), 0);
	int sl = sizeof sa;
	assert_int_equal(uv_udp_getsockname(&f->udp, (struct sockaddr *)&sa, &sl), 0);
	snprintf(addr, n, "127.0.0.1:%d", ntohs(sa.sin_port));
	assert_int_equal(uv_udp_recv_start(&f->udp, fake_alloc, fake_recv), 0);
}

static void test_retransmit_identical(void **state)
{
	(void)state;
	uv_loop_t loop;
	fake f = {.mode = 0};
	outcome o = {0};
	char addr[64];
	assert_int_equal(uv_loop_init(&loop), 0);
	fake_start(&loop, &f, addr, sizeof addr);
	rtpe_client *c = rtpe_new(&loop, addr);
	assert_non_null(c);
	rtpe_set_timeout(c, 50, 3);
	json_t *cmd = json_pack("{s:s, s:s}", "command", "ping", "x", "\xc3\xa9");
	assert_int_equal(rtpe_send(c, cmd, on_reply, &o), 0);
	json_decref(cmd);
	run_until(&loop, &o, 5);
	assert_int_equal(o.done, 1);
	assert_int_equal(o.has_err, 0);
	assert_string_equal(reply_str(&o, "result"), "pong");
	assert_int_equal(f.seen, 2);
	assert_int_equal(f.identical, 1);
	const char *sp = memchr(f.first, ' ', f.first_len);
	assert_non_null(sp);
	assert_int_equal(sp[1], '{'); /* JSON, not bencode */
	json_decref(o.reply);
	uv_close((uv_handle_t *)&f.udp, NULL);
	close_loop(&loop, c);
}

static void test_garbage_reply(void **state)
{
	(void)state;
	uv_loop_t loop;
	fake f = {.mode = 1};
	outcome o = {0};
	char addr[64];
	assert_int_equal(uv_loop_init(&loop), 0);
	fake_start(&loop, &f, addr, sizeof addr);
	rtpe_client *c = rtpe_new(&loop, addr);
	rtpe_set_timeout(c, 30, 3);
	json_t *cmd = json_pack("{s:s}", "command", "ping");
	assert_int_equal(rtpe_send(c, cmd, on_reply, &o), 0);
	json_decref(cmd);
	run_until(&loop, &o, 5);
	assert_int_equal(o.done, 1);
	assert_null(o.reply);
	assert_string_equal(o.err, "invalid reply");
	uv_close((uv_handle_t *)&f.udp, NULL);
	close_loop(&loop, c);
}

static void test_cancel_and_free(void **state)
{
	(void)state;
	uv_loop_t loop;
	fake f = {.mode = 2};
	outcome o[3];
	memset(o, 0, sizeof o);
	char addr[64];
	assert_int_equal(uv_loop_init(&loop), 0);
	fake_start(&loop, &f, addr, sizeof addr);
	rtpe_client *c = rtpe_new(&loop, addr);
	rtpe_set_timeout(c, 20, 2);
	for (int i = 0; i < 3; i++) {
		json_t *cmd = json_pack("{s:s}", "command", "ping");
		assert_int_equal(rtpe_send(c, cmd, on_reply, &o[i % 2]), 0);
		json_decref(cmd);
	}
	assert_int_equal(rtpe_cancel_ud(c, &o[0]), 2);
	assert_int_equal(rtpe_pending(c), 1);
	/* the remaining one times out */
	run_until(&loop, &o[1], 5);
	assert_int_equal(o[1].done, 1);
	assert_string_equal(o[1].err, "timeout");
	/* in flight at free: never called back */
	json_t *cmd = json_pack("{s:s}", "command", "ping");
	assert_int_equal(rtpe_send(c, cmd, on_reply, &o[2]), 0);
	json_decref(cmd);
	uv_close((uv_handle_t *)&f.udp, NULL);
	close_loop(&loop, c);
	assert_int_equal(o[0].done, 0);
	assert_int_equal(o[2].done, 0);
}

static void test_free_inside_callback(void **state)
{
	(void)state;
	uv_loop_t loop;
	outcome o[2];
	memset(o, 0, sizeof o);
	assert_int_equal(uv_loop_init(&loop), 0);
	rtpe_client *c = rtpe_new(&loop, g_addr);
	json_t *cmd = json_pack("{s:s}", "command", "ping");
	o[0].free_client = o[1].free_client = c;
	assert_int_equal(rtpe_send(c, cmd, on_reply, &o[0]), 0);
	assert_int_equal(rtpe_send(c, cmd, on_reply, &o[1]), 0);
	json_decref(cmd);
	uv_run(&loop, UV_RUN_DEFAULT); /* returns once the client has closed */
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(o[0].done + o[1].done, 1);
	json_decref(o[0].reply);
	json_decref(o[1].reply);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	uv_loop_t loop;
	outcome o = {0};
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_null(rtpe_new(&loop, "127.0.0.1"));
	assert_null(rtpe_new(&loop, "127.0.0.1:0"));
	assert_null(rtpe_new(&loop, "127.0.0.1:99999"));
	assert_null(rtpe_new(&loop, "[::1:2223"));
	assert_null(rtpe_new(&loop, NULL));
	rtpe_client *c = rtpe_new(&loop, g_addr);
	assert_non_null(c);
	json_t *arr = json_array();
	assert_int_equal(rtpe_send(c, arr, on_reply, &o), -1);
	assert_int_equal(rtpe_send(c, NULL, on_reply, &o), -1);
	json_decref(arr);
	json_t *cmd = json_pack("{s:s}", "command", "ping");
	assert_int_equal(rtpe_send(c, cmd, NULL, &o), -1);
	/* too large for one datagram */
	char *big = malloc(70000);
	memset(big, 'a', 69999);
	big[69999] = 0;
	json_object_set_new(cmd, "blob", json_string(big));
	free(big);
	assert_int_equal(rtpe_send(c, cmd, on_reply, &o), -1);
	json_decref(cmd);
	assert_int_equal(rtpe_pending(c), 0);
	close_loop(&loop, c);
	rtpe_free(NULL);
	assert_int_equal(o.done, 0);
}

int main(void)
{
	/* expected failures log warnings; FULCRUM_LOG_LEVEL=debug shows them */
	if (getenv("FULCRUM_LOG_LEVEL"))
		log_init();
	else
		log_level = LOG_ERR - 1;
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ping_sync),
	    cmocka_unit_test(test_ping),
	    cmocka_unit_test(test_offer_delete),
	    cmocka_unit_test(test_error_reply),
	    cmocka_unit_test(test_many_in_flight),
	    cmocka_unit_test(test_timeout_nothing_listening),
	    cmocka_unit_test(test_retransmit_identical),
	    cmocka_unit_test(test_garbage_reply),
	    cmocka_unit_test(test_cancel_and_free),
	    cmocka_unit_test(test_free_inside_callback),
	    cmocka_unit_test(test_bad_arguments),
	};
	int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	kill_daemon();
	return rc;
}
