/* engine.h — callctl's call engine: turns bus events into call records,
 * webhook fetches, TwiML execution and commands for the proxies. All of it
 * runs on one libuv loop thread. */
#ifndef FC_ENGINE_H
#define FC_ENGINE_H

#include <uv.h>
#include "config.h"

int engine_start(uv_loop_t *loop, const fc_config *cfg);
void engine_stop(void);

#endif
