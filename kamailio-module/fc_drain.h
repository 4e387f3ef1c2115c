/* fc_drain.h — draining a proxy before it stops (README "Draining a
 * proxy"): the `fulcrum.drain` / `fulcrum.status` RPCs and the
 * fulcrum_draining() script test. */
#ifndef FC_DRAIN_H
#define FC_DRAIN_H

#include "../../core/rpc.h"

extern rpc_export_t fc_drain_rpc[];

/* 1 while the proxy drains (read by every process). */
int fc_draining(void);

#endif
