/* rbus.h — callctl's side of the bus (bus-protocol.md): two async hiredis
 * connections on the libuv loop. "cmd" carries every ordinary command
 * (EVAL, XACK, XADD of commands); "blk" does the blocking XREADGROUP on
 * fc:events. Every second it refreshes the idle time of the entries this
 * instance is still working on and XAUTOCLAIMs entries of dead consumers.
 * Reconnects by itself. */
#ifndef FC_RBUS_H
#define FC_RBUS_H

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <uv.h>
#include "config.h"

/* Called for every delivered event (new or claimed): id is the stream id,
 * json the "j" field. */
typedef void (*rbus_event_cb)(const char *id, const char *json, size_t len);
/* Called every second, after claims: for the owner to list its in-flight ids
 * with rbus_touch(). */
typedef void (*rbus_tick_cb)(void);

int rbus_start(uv_loop_t *loop, const fc_config *cfg, rbus_event_cb on_event, rbus_tick_cb on_tick);
/* Walks the keys matching match, one SCAN page per rbus_scan() call: page
 * gets the page's keys (at most RBUS_SCAN_PAGE; the strings live as long
 * as the call). The cursor wraps around by itself. */
#define RBUS_SCAN_PAGE 200
typedef struct rbus_scan_t {
	const char *match;
	void (*page)(const char **keys, size_t n);
	char cursor[32]; /* "" or "0": from the start */
} rbus_scan_t;
void rbus_scan(rbus_scan_t *sc);

/* Stops reading events (the instance is stopping). */
void rbus_pause(void);
/* Releases this instance's liveness key, then closes the connections once
 * what was sent has been answered. */
void rbus_stop(void);
int rbus_connected(void);
/* Async command on the "cmd" connection; cb may be NULL. Returns 0, or -1
 * when not connected (cb is then not called). */
int rbus_cmd(redisCallbackFn *cb, void *priv, const char *fmt, ...);
int rbus_cmdargv(redisCallbackFn *cb, void *priv, int argc, const char **argv,
                 const size_t *argvlen);
/* XADD fc:inbox:{owner}: hands an event to the instance that owns its call. */
void rbus_forward(const char *owner, const char *json, size_t len);
/* This instance's consumer name. */
const char *rbus_instance(void);
/* XACK fc:events callctl id ("" = an inbox entry: no-op). */
void rbus_ack(const char *id);
/* Keeps id pending-but-fresh (XCLAIM … JUSTID) at the next tick. */
void rbus_touch(const char *id);
/* XADD fc:cmd:{proxy} MAXLEN ~ 10000 * j json. */
void rbus_send_cmd(const char *proxy, const char *json);

#endif
