/* fc_cmd.h — executes one command read from the bus (bus-protocol.md §5). */
#ifndef FC_CMD_H
#define FC_CMD_H

#include <jansson.h>
#include <stddef.h>

/* Executes the JSON command json[0..len). Problems are logged and reported
 * with a cmd.failed event; never fails the caller. */
void fc_cmd_exec(const char *json, size_t len);
/* 1 when name is a valid header name to add (an RFC 3261 token, 1..64 chars, not
 * one the module owns such as Via, To, From, Call-ID, CSeq, Content-Length). */
int fc_hdr_name_ok(const char *name);
/* 1 when value has no CR, LF or NUL and is at most 1024 bytes. */
int fc_hdr_value_ok(const char *value);

/* "Name: value\r\n" lines from [[name, value], ...] (malloc'd; "" for
 * NULL); outbound also refuses X-Twilio* names. NULL + err on bad input. */
char *fc_build_headers(json_t *arr, int outbound, char *err, size_t errlen);

#endif
