/* rstore.c — per-thread synchronous Redis connections for the REST server
 * (see rstore.h): lazy connect, AUTH/SELECT, drop-on-error, one transparent
 * retry for a request's first command on a stale connection. */
#include "rstore.h"
#include "log.h"
#include "timefmt.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define CONNECT_TIMEOUT_S 2
#define COMMAND_TIMEOUT_S 5

struct tconn {
	redisContext *c;
	int pending;          /* pipelined replies not read yet */
	int txn;              /* WATCH or MULTI issued and not closed */
	int first;            /* the next command is the request's first */
	int64_t last_failure; /* ms of the last connect failure we logged */
};

static struct {
	char host[256];
	int port;
	int db;
	char password[256];
} S;
static pthread_key_t tkey;
static int tkey_ok;

static void tconn_free(void *p)
{
	struct tconn *t = p;
	if (!t)
		return;
	if (t->c)
		redisFree(t->c);
	free(t);
}

int rstore_init(const fc_config *cfg)
{
	memset(&S, 0, sizeof S);
	memcpy(S.host, cfg->redis_host, sizeof S.host);
	S.host[sizeof S.host - 1] = 0;
	S.port = cfg->redis_port;
	S.db = cfg->redis_db;
	memcpy(S.password, cfg->redis_password, sizeof S.password);
	S.password[sizeof S.password - 1] = 0;
	if (!tkey_ok) {
		if (pthread_key_create(&tkey, tconn_free) != 0)
			return -1;
		tkey_ok = 1;
	}
	return 0;
}

void rstore_fini(void)
{
	if (!tkey_ok)
		return;
	tconn_free(pthread_getspecific(tkey));
	pthread_setspecific(tkey, NULL);
	pthread_key_delete(tkey);
	tkey_ok = 0;
}

static struct tconn *tget(void)
{
	if (!tkey_ok)
		return NULL;
	struct tconn *t = pthread_getspecific(tkey);
	if (t)
		return t;
	t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	if (pthread_setspecific(tkey, t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

static void drop(struct tconn *t)
{
	if (t->c)
		redisFree(t->c);
	t->c = NULL;
	t->pending = 0;
	t->txn = 0;
}

/* Runs one setup command on a fresh context; 0 on success. */
static int setup_cmd(redisContext *c, const char *what, const char *fmt, const char *arg)
{
	redisReply *r = redisCommand(c, fmt, arg);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		LOGE("redis: %s failed: %s", what, r ? r->str : c->errstr);
		if (r)
			freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

static int ensure(struct tconn *t)
{
	if (t->c)
		return 0;
	struct timeval ct = {CONNECT_TIMEOUT_S, 0};
	redisContext *c = redisConnectWithTimeout(S.host, S.port, ct);
	if (!c || c->err) {
		int64_t now = mono_ms();
		if (now - t->last_failure > 5000) {
			LOGW("redis: cannot connect to %s:%d: %s", S.host, S.port,
			     c ? c->errstr : "out of memory");
			t->last_failure = now;
		}
		if (c)
			redisFree(c);
		return -1;
	}
	struct timeval rt = {COMMAND_TIMEOUT_S, 0};
	redisSetTimeout(c, rt);
	redisEnableKeepAlive(c);
	char db[16];
	snprintf(db, sizeof db, "%d", S.db);
	if ((S.password[0] && setup_cmd(c, "AUTH", "AUTH %s", S.password) < 0) ||
	    (S.db && setup_cmd(c, "SELECT", "SELECT %s", db) < 0)) {
		redisFree(c);
		return -1;
	}
	t->c = c;
	t->pending = 0;
	t->txn = 0;
	return 0;
}

static int word_is(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && strncasecmp(s, w, n) == 0;
}

/* Tracks WATCH/MULTI … EXEC/DISCARD/UNWATCH from the command's name. */
static void track(struct tconn *t, const char *cmd, size_t n)
{
	if (word_is(cmd, n, "WATCH") || word_is(cmd, n, "MULTI"))
		t->txn = 1;
	else if (word_is(cmd, n, "EXEC") || word_is(cmd, n, "DISCARD") ||
	         word_is(cmd, n, "UNWATCH"))
		t->txn = 0;
}

static size_t fmt_word(const char *fmt)
{
	return strcspn(fmt, " ");
}

void rstore_begin(void)
{
	struct tconn *t = tget();
	if (!t)
		return;
	if (t->pending || t->txn)
		drop(t);
	t->first = 1;
}

void rstore_end(void)
{
	struct tconn *t = tget();
	if (!t)
		return;
	if (t->pending || t->txn)
		drop(t);
	t->first = 0;
}

static int stale(const redisContext *c)
{
	return c->err == REDIS_ERR_IO || c->err == REDIS_ERR_EOF;
}

/* Common tail of rstore_cmd / rstore_cmdargv: error handling and retry
 * decision. Returns 1 when the caller should retry. */
static int failed(struct tconn *t, const char *cmd, size_t n, int reused, int attempt)
{
	int retry = reused && attempt == 0 && t->first && stale(t->c);
	if (!retry)
		LOGE("redis: %.*s: %s", (int)n, cmd, t->c->errstr);
	drop(t);
	return retry;
}

static redisReply *checked(struct tconn *t, redisReply *r, const char *cmd, size_t n)
{
	t->first = 0;
	track(t, cmd, n);
	if (r->type == REDIS_REPLY_ERROR) {
		LOGE("redis: %.*s: %s", (int)n, cmd, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

redisReply *rstore_cmd(const char *fmt, ...)
{
	struct tconn *t = tget();
	if (!t)
		return NULL;
	if (t->pending) {
		LOGE("redis: command issued with %d pipelined replies unread", t->pending);
		drop(t);
	}
	size_t n = fmt_word(fmt);
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = t->c != NULL;
		if (ensure(t) < 0)
			break;
		va_list ap;
		va_start(ap, fmt);
		redisReply *r = redisvCommand(t->c, fmt, ap);
		va_end(ap);
		if (r)
			return checked(t, r, fmt, n);
		if (!failed(t, fmt, n, reused, attempt))
			break;
	}
	t->first = 0;
	return NULL;
}

redisReply *rstore_cmdargv(int argc, const char **argv, const size_t *lens)
{
	struct tconn *t = tget();
	if (!t || argc < 1)
		return NULL;
	if (t->pending) {
		LOGE("redis: command issued with %d pipelined replies unread", t->pending);
		drop(t);
	}
	size_t n = lens ? lens[0] : strlen(argv[0]);
	for (int attempt = 0; attempt < 2; attempt++) {
		int reused = t->c != NULL;
		if (ensure(t) < 0)
			break;
		redisReply *r = redisCommandArgv(t->c, argc, argv, lens);
		if (r)
			return checked(t, r, argv[0], n);
		if (!failed(t, argv[0], n, reused, attempt))
			break;
	}
	t->first = 0;
	return NULL;
}

int rstore_append(const char *fmt, ...)
{
	struct tconn *t = tget();
	if (!t || ensure(t) < 0)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int rc = redisvAppendCommand(t->c, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK) {
		LOGE("redis: cannot queue %.*s", (int)fmt_word(fmt), fmt);
		drop(t);
		return -1;
	}
	t->first = 0;
	track(t, fmt, fmt_word(fmt));
	t->pending++;
	return 0;
}

int rstore_appendargv(int argc, const char **argv, const size_t *lens)
{
	struct tconn *t = tget();
	if (!t || argc < 1 || ensure(t) < 0)
		return -1;
	if (redisAppendCommandArgv(t->c, argc, argv, lens) != REDIS_OK) {
		LOGE("redis: cannot queue a command");
		drop(t);
		return -1;
	}
	t->first = 0;
	track(t, argv[0], lens ? lens[0] : strlen(argv[0]));
	t->pending++;
	return 0;
}

redisReply *rstore_reply(void)
{
	struct tconn *t = tget();
	if (!t || !t->c || t->pending <= 0)
		return NULL;
	void *r = NULL;
	if (redisGetReply(t->c, &r) != REDIS_OK || !r) {
		LOGE("redis: reading a pipelined reply: %s", t->c->errstr);
		drop(t);
		return NULL;
	}
	t->pending--;
	return r;
}

int rstore_ping(void)
{
	redisReply *r = rstore_cmd("PING");
	int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
	if (r)
		freeReplyObject(r);
	return ok;
}

int rstore_get_json(const char *key, json_t **out, char **raw)
{
	*out = NULL;
	if (raw)
		*raw = NULL;
	redisReply *r = rstore_cmd("GET %s", key);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	if (r->type != REDIS_REPLY_STRING) {
		LOGE("redis: %s is not a string", key);
		freeReplyObject(r);
		return -1;
	}
	json_error_t e;
	json_t *j = json_loadb(r->str, r->len, 0, &e);
	if (!j || !json_is_object(j)) {
		LOGE("store: %s does not hold a JSON object: %s", key,
		     j ? "not an object" : e.text);
		json_decref(j);
		freeReplyObject(r);
		return -1;
	}
	if (raw && !(*raw = strdup(r->str))) {
		json_decref(j);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	*out = j;
	return 1;
}

static int int_result(redisReply *r)
{
	int v = RS_FAIL;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer >= RS_TAKEN &&
	    r->integer <= RS_CHANGED)
		v = (int)r->integer;
	else if (r)
		LOGE("redis: unexpected script reply type %d", r->type);
	if (r)
		freeReplyObject(r);
	return v;
}

static const char create_lua[] =
    "if redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[2]) == 0 then return 0 end "
    "redis.call('SET', KEYS[1], ARGV[3]) "
    "redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2]) "
    "return 1";

int rstore_doc_create(const char *dockey, const char *zkey, const char *idxkey, const char *field,
                      const char *sid, const char *json, int64_t ms)
{
	char score[24];
	snprintf(score, sizeof score, "%lld", (long long)ms);
	return int_result(rstore_cmd("EVAL %s 3 %s %s %s %s %s %s %s", create_lua, dockey, zkey,
	                             idxkey, field, sid, json, score));
}

static const char replace_lua[] = "if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 2 end "
                                  "if ARGV[4] ~= ARGV[5] then "
                                  "  local cur = redis.call('HGET', KEYS[2], ARGV[5]) "
                                  "  if cur and cur ~= ARGV[1] then return 0 end "
                                  "  redis.call('HSET', KEYS[2], ARGV[5], ARGV[1]) "
                                  "  if redis.call('HGET', KEYS[2], ARGV[4]) == ARGV[1] then "
                                  "    redis.call('HDEL', KEYS[2], ARGV[4]) end "
                                  "end "
                                  "redis.call('SET', KEYS[1], ARGV[3]) "
                                  "return 1";

int rstore_doc_replace(const char *dockey, const char *idxkey, const char *sid,
                       const char *old_json, const char *new_json, const char *old_field,
                       const char *new_field)
{
	return int_result(rstore_cmd("EVAL %s 2 %s %s %s %s %s %s %s", replace_lua, dockey, idxkey,
	                             sid, old_json, new_json, old_field, new_field));
}

static const char delete_lua[] = "if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 2 end "
                                 "redis.call('DEL', KEYS[1]) "
                                 "redis.call('ZREM', KEYS[2], ARGV[1]) "
                                 "if redis.call('HGET', KEYS[3], ARGV[3]) == ARGV[1] then "
                                 "  redis.call('HDEL', KEYS[3], ARGV[3]) end "
                                 "return 1";

int rstore_doc_delete(const char *dockey, const char *zkey, const char *idxkey, const char *sid,
                      const char *old_json, const char *field)
{
	return int_result(rstore_cmd("EVAL %s 3 %s %s %s %s %s %s", delete_lua, dockey, zkey,
	                             idxkey, sid, old_json, field));
}
