/* rtpe.h — rtpengine "ng" control client over UDP on the libuv loop.
 *
 * A message is "<cookie> <JSON dict>" (rtpengine 10.5 answers JSON when the
 * dict starts with '{'); the reply carries the same cookie. A request is sent
 * again, byte for byte with the same cookie, when no reply came within the
 * timeout (rtpengine answers duplicates from its cookie cache); after the last
 * try the callback gets err "timeout". Defaults: 1000 ms, 3 tries.
 *
 * Everything runs on the loop's thread. Callbacks are never called from inside
 * rtpe_send. After rtpe_free the loop must run once more (uv_run) so that
 * libuv can release the closed handles. */
#ifndef FC_RTPE_H
#define FC_RTPE_H
#include <jansson.h>
#include <uv.h>

typedef struct rtpe_client rtpe_client;

/* reply: the parsed reply dict, borrowed (json_incref to keep it), or NULL
 * when none came. err: NULL when the reply's "result" is not "error";
 * otherwise its "error-reason" (or "error" when it has none); when no usable
 * reply came: "timeout" or "invalid reply" (a reply with our cookie that is
 * not a JSON object). Replies with unknown cookies are ignored. */
typedef void (*rtpe_cb)(json_t *reply, const char *err, void *ud);

/* addr_port: "127.0.0.1:2223", "[::1]:2223" or "host:2223" (host names are
 * resolved here, blocking). The UDP socket is connected to that address.
 * NULL when the address is invalid or on failure. */
rtpe_client *rtpe_new(uv_loop_t *loop, const char *addr_port);
/* Drops pending requests without calling their callbacks. May be called from
 * inside a callback. NULL is a no-op. */
void rtpe_free(rtpe_client *c);
/* Per-try timeout (ms, >= 1) and number of tries (>= 1) for later requests. */
void rtpe_set_timeout(rtpe_client *c, int timeout_ms, int tries);

/* Sends cmd (a JSON object with at least "command"; borrowed, serialised at
 * once). Returns 0, or -1 when it cannot be sent (not an object, too large
 * for one datagram, out of memory, client closing): then cb is not called. */
int rtpe_send(rtpe_client *c, json_t *cmd, rtpe_cb cb, void *ud);
/* Drops every pending request whose ud is ud, without callbacks (e.g. when
 * the call that sent them goes away). Returns how many were dropped. */
int rtpe_cancel_ud(rtpe_client *c, void *ud);
/* Number of requests waiting for a reply. */
int rtpe_pending(const rtpe_client *c);

/* Blocking ping for health checks: 0 when "pong" came within timeout_ms,
 * -1 otherwise. Needs no loop. */
int rtpe_ping_sync(const char *addr_port, int timeout_ms);

#endif
