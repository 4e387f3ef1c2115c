/* lua_scripts.h — the Redis scripts that make callctl's state changes atomic
 * across instances (store.md: fc:live, fc:call). */
#ifndef FC_LUA_SCRIPTS_H
#define FC_LUA_SCRIPTS_H

/* ARGV: account, e164 (or ""), lowercase host. → {kind, json} or nil. */
#define LUA_ROUTE                                                                                  \
	"local sid = false "                                                                       \
	"if ARGV[2] ~= '' then sid = redis.call('HGET', 'fc:pnidx:'..ARGV[1], ARGV[2]) end "       \
	"if sid then local j = redis.call('GET', 'fc:pn:'..sid) "                                  \
	"  if j then return {'pn', j} end end "                                                    \
	"sid = redis.call('HGET', 'fc:sdidx:'..ARGV[1], ARGV[3]) "                                 \
	"if sid then local j = redis.call('GET', 'fc:sd:'..sid) "                                  \
	"  if j then return {'sd', j} end end "                                                    \
	"return false"

/* KEYS: live, call, calls-zset. ARGV: n live pairs, pairs…, m call pairs,
 * pairs…, score, sid. Creates both hashes once; returns the live state. */
#define LUA_START                                                                                  \
	"if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then "       \
	"  local i = 2 "                                                                           \
	"  for k = 1, tonumber(ARGV[1]) do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) "       \
	"    i = i + 2 end "                                                                       \
	"  redis.call('EXPIRE', KEYS[1], 21600) "                                                  \
	"  local m = tonumber(ARGV[i]) i = i + 1 "                                                 \
	"  for k = 1, m do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i+1]) i = i + 2 end "         \
	"  redis.call('ZADD', KEYS[3], ARGV[i], ARGV[i+1]) "                                       \
	"end "                                                                                     \
	"return redis.call('HGET', KEYS[1], 'state') or 'ended'"

/* KEYS: live, call. ARGV: status, now, retention, force. Ends the call once:
 * returns 1 for the caller that ended it, 0 when it had ended already (then
 * with force=1 the status is still corrected, e.g. to canceled). */
#define LUA_FINISH                                                                                 \
	"if redis.call('EXISTS', KEYS[1]) == 1 then "                                              \
	"  redis.call('DEL', KEYS[1]) "                                                            \
	"  if redis.call('EXISTS', KEYS[2]) == 1 then "                                            \
	"    redis.call('HSET', KEYS[2], 'status', ARGV[1], 'end_time', ARGV[2], "                 \
	"               'date_updated', ARGV[2]) "                                                 \
	"    redis.call('EXPIRE', KEYS[2], ARGV[3]) end "                                          \
	"  return 1 end "                                                                          \
	"if ARGV[4] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then "                           \
	"  redis.call('HSET', KEYS[2], 'status', ARGV[1], 'date_updated', ARGV[2]) "               \
	"  if not redis.call('HGET', KEYS[2], 'end_time') then "                                   \
	"    redis.call('HSET', KEYS[2], 'end_time', ARGV[2]) end end "                            \
	"return 0"

/* KEYS: notif, notifs-zset, callnotifs-zset. ARGV: json, now, sid, retention. */
#define LUA_NOTIF                                                                                  \
	"redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4]) "                                      \
	"redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) "                                           \
	"redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3]) "                                           \
	"redis.call('EXPIRE', KEYS[3], ARGV[4]) return 1"

/* KEYS: call. ARGV: status, now, retention. Closes a leg's record unless it
 * has been closed already. */
#define LUA_CLOSE                                                                                  \
	"if redis.call('EXISTS', KEYS[1]) == 1 and not redis.call('HGET', KEYS[1], 'end_time') "   \
	"then redis.call('HSET', KEYS[1], 'status', ARGV[1], 'end_time', ARGV[2], "                \
	"'date_updated', ARGV[2]) redis.call('EXPIRE', KEYS[1], ARGV[3]) return 1 end return 0"

/* KEYS: live. ARGV: me. The owner instance to forward an event to, or ""
 * when this instance now owns the call (no live owner), or false when the
 * call is not live (bus-protocol.md §9) or is a REST-created call still
 * queued that no live instance holds (its pending api.create brings it to
 * one, §13). */
#define LUA_OWNER                                                                                  \
	"if redis.call('EXISTS', KEYS[1]) == 0 then return false end "                             \
	"local o = redis.call('HGET', KEYS[1], 'owner') "                                          \
	"if o and o ~= ARGV[1] and redis.call('EXISTS', 'fc:cc:'..o) == 1 then return o end "      \
	"if redis.call('HGET', KEYS[1], 'state') == 'queued' then return false end "               \
	"redis.call('HSET', KEYS[1], 'owner', ARGV[1]) return ''"

/* REST create (api_call_create.c). KEYS: call, calls-zset, live, cps, events.
 * ARGV: now, CPS interval ms, event JSON, then call-record pairs. Takes the
 * account's next calls-per-second slot (the start is not before it), writes
 * the record (status queued, queue_time) and fc:live (state queued,
 * not_before) and appends the api.create event; returns the record as
 * written (HGETALL: the engine may change it the next moment). */
#define LUA_CREATE                                                                                 \
	"local now = tonumber(ARGV[1]) "                                                           \
	"local slot = math.max(now, tonumber(redis.call('GET', KEYS[4]) or '0')) "                 \
	"local nxt = slot + tonumber(ARGV[2]) "                                                    \
	"redis.call('SET', KEYS[4], string.format('%d', nxt), 'PX', nxt - now + 60000) "           \
	"for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end "              \
	"redis.call('HSET', KEYS[1], 'queue_time', string.format('%d', slot - now)) "              \
	"redis.call('ZADD', KEYS[2], ARGV[1], redis.call('HGET', KEYS[1], 'sid')) "                \
	"redis.call('HSET', KEYS[3], 'state', 'queued', 'app_kind', 'api', "                       \
	"           'not_before', string.format('%d', slot)) "                                     \
	"redis.call('EXPIRE', KEYS[3], 21600) "                                                    \
	"redis.call('XADD', KEYS[5], 'MAXLEN', '~', '100000', '*', 'j', ARGV[3]) "                 \
	"return redis.call('HGETALL', KEYS[1])"

/* REST cancel of a call still queued. KEYS: live, call. ARGV: now,
 * retention. 1 when it was queued (now canceled), else 0. */
#define LUA_CANCEL_QUEUED                                                                          \
	"if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return 0 end "                   \
	"redis.call('DEL', KEYS[1]) "                                                              \
	"redis.call('HSET', KEYS[2], 'status', 'canceled', 'end_time', ARGV[1], "                  \
	"           'date_updated', ARGV[1]) "                                                     \
	"redis.call('EXPIRE', KEYS[2], ARGV[2]) return 1"

/* The engine starts a REST-created call (outbound.c). KEYS: live, call.
 * ARGV: me, now. Unless another live instance holds it ({'taken', owner}),
 * this instance becomes its owner and gets {'go', proxy} (state dialing,
 * the record's start_time, on the least loaded live proxy; its status stays
 * queued: initiated is for callbacks only, twilio-voice.md §1.3), {'wait', ms} (its CPS
 * slot is to come) or {'noproxy'}; {'gone'} when it was canceled or ended,
 * {'taken', owner} also when it was started already (owner may be dead). */
#define LUA_DIALOUT                                                                                \
	"local st = redis.call('HGET', KEYS[1], 'state') "                                         \
	"if not st then return {'gone'} end "                                                      \
	"local o = redis.call('HGET', KEYS[1], 'owner') "                                          \
	"if st ~= 'queued' then return {'taken', o or ''} end "                                    \
	"if o and o ~= ARGV[1] and redis.call('EXISTS', 'fc:cc:'..o) == 1 then "                   \
	"  return {'taken', o} end "                                                               \
	"redis.call('HSET', KEYS[1], 'owner', ARGV[1]) "                                           \
	"local now = tonumber(ARGV[2]) "                                                           \
	"local nb = tonumber(redis.call('HGET', KEYS[1], 'not_before') or '0') "                   \
	"if nb > now then return {'wait', string.format('%d', nb - now)} end "                     \
	"local best, bl = nil, nil "                                                               \
	"for _, p in ipairs(redis.call('ZRANGEBYSCORE', 'fc:proxies', now - 15000, '+inf')) do "   \
	"  local j = redis.call('GET', 'fc:proxy:'..p) "                                           \
	"  if j then "                                                                             \
	"    local ok, d = pcall(cjson.decode, j) "                                                \
	"    local n = ok and type(d) == 'table' and tonumber(d.legs) or 0 "                       \
	"    if not bl or n < bl then best, bl = p, n end end end "                                \
	"if not best then return {'noproxy'} end "                                                 \
	"redis.call('HSET', KEYS[1], 'state', 'dialing', 'owner', ARGV[1], 'proxy', best) "        \
	"redis.call('HSET', KEYS[2], 'start_time', ARGV[2], 'date_updated', ARGV[2], "             \
	"           'proxy', best) "                                                               \
	"return {'go', best}"

/* A resting call's snapshot (resume.c). KEYS: live. ARGV: me, JSON. Only
 * the owner writes; nothing is written once fc:live is gone. */
#define LUA_SNAP_SET                                                                               \
	"if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end "                    \
	"redis.call('HSET', KEYS[1], 'snap', ARGV[2]) return 1"

/* Calls of dead owners no event will bring back (sweep.c). KEYS: a page of
 * fc:live keys. ARGV: me. Returns the roots taken. */
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

/* An inbox of a dead instance back to fc:events (rbus.c, bus-protocol.md
 * §9). KEYS: the inbox, its owner's fc:cc key, fc:events. Moves and deletes
 * it in one go (so only one instance moves it), unless its owner is alive;
 * returns how many events moved. */
#define LUA_RESCUE                                                                                 \
	"if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end "                                 \
	"local e = redis.call('XRANGE', KEYS[1], '-', '+') "                                       \
	"for _, x in ipairs(e) do "                                                                \
	"  redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', unpack(x[2])) end "           \
	"redis.call('DEL', KEYS[1]) return #e"

/* The outbox of a dead instance (outbox.c). KEYS: its outbox, its fc:cc,
 * ours. Moves every entry into ours and returns them (field, value…);
 * nothing while the instance lives. */
#define LUA_OUTBOX_TAKE                                                                            \
	"if redis.call('EXISTS', KEYS[2]) == 1 then return {} end "                                \
	"local e = redis.call('HGETALL', KEYS[1]) "                                                \
	"for i = 1, #e, 2 do redis.call('HSET', KEYS[3], e[i], e[i + 1]) end "                     \
	"redis.call('DEL', KEYS[1]) return e"

#endif
