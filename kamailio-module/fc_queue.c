/* fc_queue.c — non-blocking event hand-off to the bus process (fc_queue.h). */
#include "fc_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/mem/shm_mem.h"
#include "../../core/dprint.h"

fc_shared *fc_sh;
static int sv[2] = {-1, -1};

int fc_queue_init(void)
{
	fc_sh = shm_malloc(sizeof *fc_sh);
	if (!fc_sh) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(fc_sh, 0, sizeof *fc_sh);
	fc_sh->redis_down_since = (long)time(NULL);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
		LM_ERR("socketpair: %s\n", strerror(errno));
		return -1;
	}
	int sz = 4 * 1024 * 1024;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(sv[i], F_GETFL);
		if (fl < 0 || fcntl(sv[i], F_SETFL, fl | O_NONBLOCK) < 0)
			return -1;
	}
	return 0;
}

static int push(json_t *ev, int local);

int fc_queue_push(json_t *ev)
{
	return push(ev, 0);
}

int fc_queue_push_local(json_t *cmd)
{
	return push(cmd, 1);
}

static int push(json_t *ev, int local)
{
	char *s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (!s) {
		LM_ERR("cannot serialise event\n");
		return -1;
	}
	size_t n = strlen(s);
	if (n > 65536) {
		LM_ERR("event of %zu bytes exceeds the bus limit\n", n);
		free(s);
		return -1;
	}
	fc_msg *m = shm_malloc(sizeof *m + n + 1);
	if (!m) {
		free(s);
		SHM_MEM_ERROR;
		return -1;
	}
	m->next = NULL;
	m->local = local;
	m->len = (int)n;
	memcpy(m->data, s, n + 1);
	free(s);
	ssize_t w;
	do
		w = send(sv[1], &m, sizeof m, MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)sizeof m) {
		LM_ERR("event queue full (%s)\n", w < 0 ? strerror(errno) : "short write");
		shm_free(m);
		return -1;
	}
	return 0;
}

int fc_queue_fd(void)
{
	return sv[0];
}

fc_msg *fc_queue_pop(void)
{
	fc_msg *m = NULL;
	ssize_t r;
	do
		r = recv(sv[0], &m, sizeof m, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof m ? m : NULL;
}

void fc_msg_free(fc_msg *m)
{
	shm_free(m);
}

int fc_bus_accepting(void)
{
	if (fc_sh->shutting_down)
		return 0;
	if (fc_sh->redis_up)
		return 1;
	/* Tolerate a short outage: events queue up and are sent on reconnect. */
	return (long)time(NULL) - fc_sh->redis_down_since < 2;
}
