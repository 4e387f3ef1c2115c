/* callbacks.h — status callbacks, one at a time per call, in order
 * (callbacks.c). */
#ifndef FC_CALLBACKS_H
#define FC_CALLBACKS_H

#include "form.h"
#include "webhook.h"

/* wh and auth_token must outlive the callbacks (until callbacks_shutdown). */
void callbacks_init(webhook_client *wh, const char *auth_token);
/* Queues a signed request of params to url (method NULL/"" → POST) behind
 * the callbacks of the same CallSid still in flight; params are copied.
 * Failures are logged, never reported. */
void callbacks_send(const char *url, const char *method, const form *params);
/* Queues a callback taken over from a dead instance's outbox under its
 * entry key there (outbox.c), behind those of the same CallSid. */
void callbacks_resend(const char *key, const char *url, const char *method, const form *params);
/* 1 while some callback is in flight or waiting. */
int callbacks_busy(void);
/* Drops every waiting callback (before the webhook client is freed: the
 * ones in flight are cancelled with it). */
void callbacks_shutdown(void);

#endif
