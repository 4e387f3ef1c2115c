/* fc_bus.h — the module's own process: publishes queued events to
 * fc:events, reads commands from fc:cmd:{proxy}, keeps fc:proxy:{proxy}
 * alive. A libuv loop with two async hiredis connections. */
#ifndef FC_BUS_H
#define FC_BUS_H

void fc_bus_run(void);

#endif
