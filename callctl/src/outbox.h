/* outbox.h — status callbacks kept in Redis until sent (outbox.c). */
#ifndef FC_OUTBOX_H
#define FC_OUTBOX_H

#include "form.h"

#define OUTBOX_KEY_LEN 32

/* A fresh entry key (ordered by creation) into key. */
void outbox_key(char key[OUTBOX_KEY_LEN]);
/* Keeps a callback in this instance's outbox under key until outbox_done. */
void outbox_put(const char *key, const char *url, const char *method, const form *params);
void outbox_done(const char *key);
/* Called every second: takes over the outbox of dead instances. */
void outbox_tick(void);

#endif
