/* twerr.h — Twilio error codes: catalogue of messages and the REST error
 * JSON body {"code","message","more_info","status"}. */
#ifndef FC_TWERR_H
#define FC_TWERR_H

/* Short standard message for a Twilio error code ("HTTP retrieval failure"),
 * or "Error" for an unknown code. */
const char *twerr_message(int code);
/* malloc'd JSON error body; message NULL → twerr_message(code). */
char *twerr_json(int code, int http_status, const char *message);

#endif
