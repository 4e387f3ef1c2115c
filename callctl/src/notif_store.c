/* notif_store.c — writes one Notification (api.h: notif_store) for the call
 * engine: fc:notif:{NO} with its retention, fc:notifs:{AC} and
 * fc:callnotifs:{CA} (doc/store.md), in one MULTI/EXEC on the caller's
 * synchronous connection. */
#include "api.h"
#include "form.h"
#include "log.h"
#include "sid.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_KEEP (64 * 1024) /* response bodies kept at most */
#define DEFAULT_RETENTION 2592000

/* Copy of s cut to at most max bytes, not inside a UTF-8 sequence. */
static char *cut(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	char *o = malloc(n + 1);
	if (o) {
		memcpy(o, s, n);
		o[n] = 0;
	}
	return o;
}

static char *message_text(int code, int level, const char *msg, const char *url)
{
	form f;
	form_init(&f);
	char c[16];
	snprintf(c, sizeof c, "%d", code);
	int ok = form_add(&f, "ErrorCode", c) == 0 && form_add(&f, "Msg", msg ? msg : "") == 0 &&
	         form_add(&f, "LogLevel", level ? "WARN" : "ERROR") == 0 &&
	         (!url || form_add(&f, "url", url) == 0);
	char *s = ok ? form_encode(&f) : NULL;
	form_free(&f);
	return s;
}

int notif_store(redisContext *rc, const char *account_sid, const char *call_sid, int error_code,
                int log_level, const char *message, const char *request_url,
                const char *request_method, const char *response_body, int retention_s)
{
	if (!rc || rc->err || !account_sid)
		return -1;
	if (retention_s <= 0)
		retention_s = DEFAULT_RETENTION;
	char sid[SID_LEN + 1], code[16], more[64], lvl[4];
	sid_new(sid, "NO");
	int64_t now = now_ms();
	snprintf(code, sizeof code, "%d", error_code);
	snprintf(more, sizeof more, "https://www.twilio.com/docs/errors/%d", error_code);
	snprintf(lvl, sizeof lvl, "%d", log_level ? 1 : 0);
	char *mt = message_text(error_code, log_level, message, request_url);
	char *body = cut(response_body ? response_body : "", BODY_KEEP);
	json_t *doc = json_object();
	int ok = mt && body && doc;
	if (ok) {
		jput(doc, "sid", json_string(sid), &ok);
		jput(doc, "account_sid", jtext(account_sid), &ok);
		jput(doc, "call_sid", jtext(call_sid), &ok);
		jput(doc, "error_code", json_string(code), &ok);
		jput(doc, "log", json_string(lvl), &ok);
		jput(doc, "message_text", jtext(mt), &ok);
		jput(doc, "more_info", json_string(more), &ok);
		jput(doc, "request_url", jtext(request_url ? request_url : ""), &ok);
		jput(doc, "request_method", jtext(request_method), &ok);
		jput(doc, "request_variables", json_string(""), &ok);
		jput(doc, "response_body", jtext(body), &ok);
		jput(doc, "response_headers", json_string(""), &ok);
		jput(doc, "date_created", jms_text(now), &ok);
	}
	char *text = ok ? json_dumps(doc, JSON_COMPACT) : NULL;
	free(mt);
	free(body);
	json_decref(doc);
	if (!text) {
		LOGE("notif_store: out of memory");
		return -1;
	}
	char score[24], oldest[24], ttl[16];
	snprintf(score, sizeof score, "%lld", (long long)now);
	snprintf(oldest, sizeof oldest, "(%lld", (long long)(now - (int64_t)retention_s * 1000));
	snprintf(ttl, sizeof ttl, "%d", retention_s);
	int queued = 0;
	ok = redisAppendCommand(rc, "MULTI") == REDIS_OK && ++queued &&
	     redisAppendCommand(rc, "SET fc:notif:%s %s EX %s", sid, text, ttl) == REDIS_OK &&
	     ++queued &&
	     redisAppendCommand(rc, "ZADD fc:notifs:%s %s %s", account_sid, score, sid) ==
	         REDIS_OK &&
	     ++queued &&
	     redisAppendCommand(rc, "ZREMRANGEBYSCORE fc:notifs:%s -inf %s", account_sid, oldest) ==
	         REDIS_OK &&
	     ++queued;
	if (ok && call_sid && *call_sid)
		ok = redisAppendCommand(rc, "ZADD fc:callnotifs:%s %s %s", call_sid, score, sid) ==
		         REDIS_OK &&
		     ++queued &&
		     redisAppendCommand(rc, "EXPIRE fc:callnotifs:%s %s", call_sid, ttl) ==
		         REDIS_OK &&
		     ++queued;
	if (ok)
		ok = redisAppendCommand(rc, "EXEC") == REDIS_OK && ++queued;
	free(text);
	if (!ok) {
		LOGE("notif_store: cannot queue the commands: %s", rc->errstr);
		/* Leave the caller's connection out of the transaction. */
		if (queued > 0 && redisAppendCommand(rc, "DISCARD") == REDIS_OK)
			queued++;
	}
	/* Read every queued reply so the caller's connection stays in step. */
	int good = ok;
	for (int i = 0; i < queued; i++) {
		void *rep = NULL;
		if (redisGetReply(rc, &rep) != REDIS_OK || !rep) {
			LOGE("notif_store: %s", rc->errstr);
			return -1;
		}
		redisReply *x = rep;
		if (x->type == REDIS_REPLY_ERROR ||
		    (i == queued - 1 && ok && x->type != REDIS_REPLY_ARRAY)) {
			LOGE("notif_store: %s",
			     x->type == REDIS_REPLY_ERROR ? x->str : "EXEC failed");
			good = 0;
		}
		freeReplyObject(x);
	}
	return good ? 0 : -1;
}
