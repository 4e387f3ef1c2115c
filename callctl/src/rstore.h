/* rstore.h — the REST threads' synchronous Redis: one hiredis connection per
 * thread, connected lazily (AUTH/SELECT from fc_config), dropped on any I/O
 * error and reconnected on next use; plus a JSON-document loader. */
#ifndef FC_RSTORE_H
#define FC_RSTORE_H
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Copies the connection settings; call once before any thread uses rstore.
 * Returns 0, or -1 when out of resources. */
int rstore_init(const fc_config *cfg);
/* Frees the calling thread's connection and the thread key. */
void rstore_fini(void);

/* Brackets one request. rstore_begin allows one transparent reconnect-and-
 * retry when the request's first command meets a connection that went stale
 * (Redis restarted); rstore_end drops the connection when the request left it
 * in a transaction or with unread pipelined replies. */
void rstore_begin(void);
void rstore_end(void);

/* Runs one command on the thread's connection. Returns the reply (free with
 * freeReplyObject), or NULL when the connection failed or Redis answered an
 * error (both logged). */
redisReply *rstore_cmd(const char *fmt, ...);
redisReply *rstore_cmdargv(int argc, const char **argv, const size_t *lens);

/* Pipelining: queue commands, then read one reply per queued command. */
int rstore_append(const char *fmt, ...);
int rstore_appendargv(int argc, const char **argv, const size_t *lens);
/* Next pipelined reply, NULL on failure (then the connection is dropped and
 * the remaining replies are lost). Error replies are returned as replies. */
redisReply *rstore_reply(void);

/* 1 when Redis answers PING. */
int rstore_ping(void);

/* Loads the JSON object stored as a string at key. Returns 1 with *out set
 * (json_decref it) and, when raw is not NULL, *raw the stored text (free it);
 * 0 when the key is absent; -1 on a store or memory failure or when the
 * value is not a JSON object. */
int rstore_get_json(const char *key, json_t **out, char **raw);

/* Indexed documents (doc/store.md, numbers and domains): a JSON string at
 * dockey, its SID in the sorted set zkey (scored by creation ms) and
 * field -> SID in the hash idxkey (unique). Each runs atomically (Lua). */
enum { RS_FAIL = -1, RS_TAKEN = 0, RS_DONE = 1, RS_CHANGED = 2 };
/* RS_DONE, RS_TAKEN when field already maps to a SID, or RS_FAIL. */
int rstore_doc_create(const char *dockey, const char *zkey, const char *idxkey, const char *field,
                      const char *sid, const char *json, int64_t ms);
/* Replaces old_json by new_json and moves the index entry from old_field to
 * new_field. RS_DONE, RS_TAKEN (new_field maps to another SID), RS_CHANGED
 * (the stored text is no longer old_json: re-read and retry) or RS_FAIL. */
int rstore_doc_replace(const char *dockey, const char *idxkey, const char *sid,
                       const char *old_json, const char *new_json, const char *old_field,
                       const char *new_field);
/* Deletes the document, its SID and its index entry when the stored text is
 * still old_json. RS_DONE, RS_CHANGED or RS_FAIL. */
int rstore_doc_delete(const char *dockey, const char *zkey, const char *idxkey, const char *sid,
                      const char *old_json, const char *field);

#endif
