/* fc_drain.c — draining a proxy before it stops. `kamcmd fulcrum.drain`
 * (run by the container's entry point on SIGTERM, or by an operator) turns
 * the drain on: kamailio.cfg answers new calls and OPTIONS probes 503
 * through fulcrum_draining(), the bus process takes the proxy out of
 * fc:proxies (so edges and callctl send it no new call) while its heartbeat
 * goes on with "draining":true (its calls stay alive: bus-protocol.md §1,
 * §9), and calls in progress run to their end. `fulcrum.drain 0` undoes it.
 * `fulcrum.status` tells whether it drains and how many legs are left;
 * `fulcrum.hangup_all` ends what is left when the drain's time is up (BYE
 * to answered legs, CANCEL to ringing ones, 503 to parked INVITEs), so
 * that phones are told and callctl reports the calls. */
#include <jansson.h>

#include "../../core/dprint.h"

#include "fc_drain.h"
#include "fc_leg.h"
#include "fc_mod.h"
#include "fc_queue.h"

int fc_draining(void)
{
	return fc_sh && __atomic_load_n(&fc_sh->draining, __ATOMIC_RELAXED);
}

static const char *drain_doc[] = {
    "Stop taking new calls (503 to new INVITEs and OPTIONS, out of fc:proxies); "
    "calls in progress go on. Optional integer: 0 takes new calls again.",
    0};

static void rpc_drain(rpc_t *rpc, void *ctx)
{
	int on = 1;
	if (rpc->scan(ctx, "*d", &on) < 1)
		on = 1;
	__atomic_store_n(&fc_sh->draining, on ? 1 : 0, __ATOMIC_RELAXED);
	LM_NOTICE("fulcrum: proxy '%s' %s (%d legs up)\n", fc_proxy_id,
	          on ? "draining: no new calls" : "takes new calls again", fc_leg_count());
	void *st;
	if (rpc->add(ctx, "{", &st) < 0)
		return;
	rpc->struct_add(st, "dd", "draining", on ? 1 : 0, "legs", fc_leg_count());
}

static const char *status_doc[] = {"Proxy id, whether it drains, legs up, bus connected.", 0};

static void rpc_status(rpc_t *rpc, void *ctx)
{
	void *st;
	if (rpc->add(ctx, "{", &st) < 0)
		return;
	rpc->struct_add(st, "sdddd", "proxy", fc_proxy_id, "draining", fc_draining(), "legs",
	                fc_leg_count(), "bus", fc_sh ? fc_sh->redis_up : 0, "shutting_down",
	                fc_sh ? fc_sh->shutting_down : 0);
}

/* Each leg's hangup is a local command of the bus process, which sends
 * SIP for commands (fc_cmd.c): the ctl process only queues them. */
static void hangup_leg(const char *sid, void *arg)
{
	(void)arg;
	fc_queue_push_local(
	    json_pack("{s:s,s:s,s:s,s:i}", "op", "hangup", "call_sid", sid, "id", "", "code", 503));
}

static const char *hangup_all_doc[] = {
    "End every call leg of this proxy now (BYE, CANCEL or 503); returns how many.", 0};

static void rpc_hangup_all(rpc_t *rpc, void *ctx)
{
	int n = fc_leg_each(hangup_leg, NULL);
	LM_NOTICE("fulcrum: proxy '%s' hangs up its %d leg(s)\n", fc_proxy_id, n);
	void *st;
	if (rpc->add(ctx, "{", &st) < 0)
		return;
	rpc->struct_add(st, "d", "legs", n);
}

rpc_export_t fc_drain_rpc[] = {{"fulcrum.drain", rpc_drain, drain_doc, 0},
                               {"fulcrum.status", rpc_status, status_doc, 0},
                               {"fulcrum.hangup_all", rpc_hangup_all, hangup_all_doc, 0},
                               {0, 0, 0, 0}};
