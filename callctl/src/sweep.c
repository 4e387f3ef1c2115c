/* sweep.c — calls nobody runs any more. A call is taken over when one of
 * its events reaches a live instance (bus-protocol.md §9); a call whose
 * owner died and from which no event will ever come (its proxy died too)
 * would otherwise stay "in-progress" for good. Every 5 s each instance
 * looks at a page of fc:live keys (SCAN) and, in one script, takes the
 * calls whose owner is dead and that either rest in a snapshot (they are
 * rebuilt here, so that this instance watches their proxy) or live on a
 * proxy that is gone (they are ended in order). Any other call of a dead
 * owner is left to its next event (a pending call.incoming is claimed
 * again, a live proxy reports its legs). Runs on the engine's loop. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "lua_scripts.h"
#include "rbus.h"

#define EVERY_TICKS 5

static void taken_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	(void)priv;
	redisReply *reply = r;
	for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
		if (reply->element[i]->type == REDIS_REPLY_STRING)
			eng_take_over(reply->element[i]->str);
}

/* One script for the page: KEYS = its fc:live keys. */
static void sweep_page(const char **keys, size_t n)
{
	const char *argv[RBUS_SCAN_PAGE + 8];
	char nkeys[16];
	int argc = 0;
	argv[argc++] = "EVAL";
	argv[argc++] = LUA_SWEEP;
	argv[argc++] = nkeys;
	snprintf(nkeys, sizeof nkeys, "%zu", n);
	for (size_t i = 0; i < n; i++)
		argv[argc++] = keys[i];
	argv[argc++] = rbus_instance();
	rbus_cmdargv(taken_cb, NULL, argc, argv, NULL);
}

void sweep_tick(void)
{
	static unsigned ticks;
	static rbus_scan_t sc = {.match = "fc:live:*", .page = sweep_page};
	if (++ticks % EVERY_TICKS)
		return;
	rbus_scan(&sc);
}
