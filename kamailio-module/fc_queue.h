/* fc_queue.h — hand-off of events from any Kamailio process to the bus
 * process: a shm-allocated message whose pointer is written as one datagram
 * into a socketpair created before the fork (the evapi model). Writers never
 * block: a full queue is reported and the caller degrades (503). */
#ifndef FC_QUEUE_H
#define FC_QUEUE_H

#include <jansson.h>

typedef struct fc_msg {
	struct fc_msg *next;
	int local; /* 1: a command for the bus process itself, not an event */
	int len;
	char data[];
} fc_msg;

/* State shared by every process. */
typedef struct fc_shared {
	volatile int redis_up;          /* the bus process is connected */
	volatile long redis_down_since; /* seconds, 0 when up */
	volatile int shutting_down;
	int draining; /* fc_drain.c: no new calls */
} fc_shared;

extern fc_shared *fc_sh;

int fc_queue_init(void);
/* Serialises ev (stolen: always decref'd) and queues it. 0 / -1. */
int fc_queue_push(json_t *ev);
/* Queues cmd (stolen) as a command the bus process executes itself: used by
 * tm callbacks for work that sends SIP (BYE after a late 2xx, digest retry). */
int fc_queue_push_local(json_t *cmd);
/* For the bus process: the read end, and a non-blocking pop (NULL = empty). */
int fc_queue_fd(void);
fc_msg *fc_queue_pop(void);
void fc_msg_free(fc_msg *m);
/* 1 when new calls may be accepted (Redis reachable or only briefly down). */
int fc_bus_accepting(void);

#endif
