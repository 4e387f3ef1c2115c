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
#include "rbus.h"

#define EVERY_TICKS 5
#define PAGE 200

/* KEYS: fc:live keys. ARGV: me. Returns the roots taken. */
#define LUA_SWEEP                                                                                  \
	"local out = {} "                                                                          \
	"for _, k in ipairs(KEYS) do "                                                             \
	"  local o = redis.call('HGET', k, 'owner') "                                              \
	"  local st = redis.call('HGET', k, 'state') "                                             \
	"  if o and o ~= ARGV[1] and st ~= 'queued' "                                              \
	"     and redis.call('EXISTS', 'fc:cc:'..o) == 0 then "                                    \
	"    local p = redis.call('HGET', k, 'proxy') "                                            \
	"    if redis.call('HEXISTS', k, 'snap') == 1 "                                            \
	"       or (p and redis.call('EXISTS', 'fc:proxy:'..p) == 0) then "                        \
	"      redis.call('HSET', k, 'owner', ARGV[1]) "                                           \
	"      out[#out+1] = string.sub(k, 9) "                                                    \
	"    end "                                                                                 \
	"  end "                                                                                   \
	"end "                                                                                     \
	"return out"

static char cursor[32] = "0";

static void taken_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	(void)priv;
	redisReply *reply = r;
	for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
		if (reply->element[i]->type == REDIS_REPLY_STRING)
			eng_take_over(reply->element[i]->str);
}

static void scan_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	(void)priv;
	redisReply *reply = r;
	if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY)
		return;
	snprintf(cursor, sizeof cursor, "%s", reply->element[0]->str);
	redisReply *keys = reply->element[1];
	if (!keys->elements)
		return;
	const char *argv[PAGE + 8];
	int argc = 0;
	char nkeys[16];
	argv[argc++] = "EVAL";
	argv[argc++] = LUA_SWEEP;
	argv[argc++] = nkeys;
	int n = 0;
	for (size_t i = 0; i < keys->elements && n < PAGE; i++)
		if (keys->element[i]->type == REDIS_REPLY_STRING) {
			argv[argc++] = keys->element[i]->str;
			n++;
		}
	snprintf(nkeys, sizeof nkeys, "%d", n);
	argv[argc++] = rbus_instance();
	rbus_cmdargv(taken_cb, NULL, argc, argv, NULL);
}

void sweep_tick(void)
{
	static unsigned ticks;
	if (++ticks % EVERY_TICKS)
		return;
	rbus_cmd(scan_cb, NULL, "SCAN %s MATCH fc:live:* COUNT %d", cursor, PAGE);
}
