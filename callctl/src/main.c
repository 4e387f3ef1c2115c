/* main.c — callctl: reads its configuration, starts the REST server (its own
 * threads) and the call engine (the libuv loop on this thread), and stops
 * both cleanly on SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "api.h"
#include "call.h"
#include "callbacks.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "rbus.h"

static uv_signal_t sig_term, sig_int;
static uv_timer_t stop_timer;

/* Stopping: no new event is read; the status callbacks still queued go out
 * (for up to 5 s); then the engine lets go of its calls, which go on with
 * the other instances (bus-protocol.md §9), and the loop ends once the
 * Redis connections have flushed. */
static void stop_tick(uv_timer_t *t)
{
	static int ticks;
	if (callbacks_busy() && ++ticks < 50)
		return;
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, NULL);
	call_drop_all();
	engine_stop();
}

static void on_signal(uv_signal_t *h, int signum)
{
	LOGI("signal %d: stopping", signum);
	uv_signal_stop(&sig_term);
	uv_signal_stop(&sig_int);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	rbus_pause();
	uv_timer_init(h->loop, &stop_timer);
	uv_timer_start(&stop_timer, stop_tick, 0, 100);
}

int main(void)
{
	static fc_config cfg;
	char err[256];
	log_init();
	if (config_load(&cfg, err, sizeof err) < 0) {
		fprintf(stderr, "callctl: %s\n", err);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	uv_loop_t *loop = uv_default_loop();
	api_server *api = api_start(&cfg, err, sizeof err);
	if (!api) {
		fprintf(stderr, "callctl: REST server: %s\n", err);
		return 1;
	}
	if (engine_start(loop, &cfg) < 0) {
		fprintf(stderr, "callctl: cannot start the call engine\n");
		api_stop(api);
		return 1;
	}
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	LOGI("callctl %s: REST on http://%s:%d, Redis %s:%d", cfg.instance, cfg.api_addr,
	     cfg.api_port, cfg.redis_host, cfg.redis_port);
	uv_run(loop, UV_RUN_DEFAULT);
	api_stop(api);
	uv_loop_close(loop);
	LOGI("stopped");
	return 0;
}
