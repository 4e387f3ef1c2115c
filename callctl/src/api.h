/* api.h — callctl's REST server: Twilio's 2010-04-01 REST API
 * (IncomingPhoneNumbers, SIP/Domains, Calls, Notifications) served by
 * libmicrohttpd from the Redis store of doc/store.md.
 * Part 1 is the public API (main.c, the call engine). Part 2 is shared by the
 * api_*.c files only. */
#ifndef FC_API_H
#define FC_API_H
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "form.h"

/* ---- Part 1: public ---------------------------------------------------- */

typedef struct api_server api_server;

/* Starts the HTTP server on cfg->api_addr:cfg->api_port with
 * cfg->api_threads threads (each with its own Redis connection). cfg must
 * outlive the server. Returns NULL with a message in err on failure. */
api_server *api_start(const fc_config *cfg, char *err, size_t errlen);
/* Stops the server (waits for its threads) and frees it. NULL is allowed. */
void api_stop(api_server *a);

/* Records a Notification (a Twilio "debugger" error or warning) for the REST
 * API: fc:notif:{NOsid} (expiring after retention_s), fc:notifs:{acct} and,
 * when call_sid is given, fc:callnotifs:{call_sid}. log_level: 0 error,
 * 1 warning. message, request_url, request_method, response_body may be NULL.
 * Runs synchronously on rc (the caller's connection, not shared with another
 * thread meanwhile). Returns 0, or -1 on a Redis or memory failure. */
int notif_store(redisContext *rc, const char *account_sid, const char *call_sid, int error_code,
                int log_level, const char *message, const char *request_url,
                const char *request_method, const char *response_body, int retention_s);

/* ---- Part 2: internal to the REST server -------------------------------- */

/* Twilio error codes used by the REST layer (see the report/README). */
enum {
	TW_BAD_PARAM = 20001,    /* missing/invalid parameter, unsupported feature */
	TW_BAD_FRIENDLY = 20002, /* FriendlyName too long */
	TW_AUTH = 20003,         /* authentication failed */
	TW_METHOD = 20004,       /* HTTP method not allowed */
	TW_INCOMPLETE = 20009,   /* cannot delete a resource still in progress */
	TW_NOT_FOUND = 20404,    /* unknown resource */
	TW_INTERNAL = 20500,     /* store or memory failure */
	TW_BAD_URL = 21205,      /* a URL parameter is not an http(s) URL */
	TW_CALL_STATE = 21220,   /* the call is not in a state that allows the change */
	TW_BAD_DOMAIN = 21231,   /* DomainName invalid or already in use */
	TW_BAD_NUMBER = 21421,   /* PhoneNumber is invalid */
	TW_NUMBER_TAKEN = 21422, /* PhoneNumber already in this account */
};

enum { API_GET = 1, API_POST = 2, API_DELETE = 4 };

typedef struct api_req {
	const fc_config *cfg;
	int method;        /* API_GET (also HEAD), API_POST, API_DELETE */
	const char *path;  /* decoded request path */
	const char *base;  /* "/2010-04-01/Accounts/{AccountSid}" */
	const form *query; /* query-string parameters */
	const form *body;  /* POST form parameters (empty otherwise) */
	char sid[2][36];   /* the SIDs in the path, in order ("" when absent) */
} api_req;

typedef struct api_resp {
	int status;
	char *body;        /* malloc'd; NULL: no body */
	const char *ctype; /* static */
} api_resp;

/* Responses (api_server.c). Each replaces what r held. */
void api_json(api_resp *r, int status, json_t *j); /* steals j; NULL j → 500 */
void api_error(api_resp *r, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void api_internal(api_resp *r);                    /* 500 / 20500 */
void api_not_found(api_resp *r, const api_req *q); /* 404 / 20404 naming the path */
void api_no_content(api_resp *r);                  /* 204 */

/* Reads the stored JSON document at key for a fetch/update/delete of the
 * request's path: 1 found and owned by this account (doc, and raw when not
 * NULL, set), 0 answered 404, -1 answered 500. */
int api_load_owned(const api_req *q, api_resp *r, const char *key, json_t **doc, char **raw);

/* s, or NULL when s is NULL or empty (an empty parameter is an absent one). */
const char *api_nonempty(const char *s);

/* JSON helpers (api_server.c). */
const char *jstr(const json_t *o, const char *k); /* string member, or NULL */
/* Member holding ms since the epoch (decimal string or integer), or -1. */
int64_t jms(const json_t *o, const char *k);
/* JSON string of s (invalid UTF-8 replaced by U+FFFD), json null for NULL;
 * NULL when out of memory. */
json_t *jtext(const char *s);
/* o[k] = v, stealing v; clears *ok when v is NULL or the set fails. */
void jput(json_t *o, const char *k, json_t *v, int *ok);
/* o[k] = RFC 2822 date of ms, or null when ms < 0. */
void jput_date(json_t *o, const char *k, int64_t ms, int *ok);
/* Decimal string of ms as stored in documents. */
json_t *jms_text(int64_t ms);

/* Form parameter helpers (api_server.c). Each returns 0 when the parameter is
 * absent, 1 when present and valid (*out set: NULL means "clear"), -1 when
 * invalid (r holds the 400). */
int param_url(const api_req *q, const char *name, const char **out, api_resp *r);
int param_method(const api_req *q, const char *name, const char **out, api_resp *r);
int param_friendly(const api_req *q, const char **out, api_resp *r);
/* A form parameter copied into a stored document field. */
enum { P_NAME, P_URL, P_METHOD };
typedef struct param_map {
	const char *param; /* "VoiceUrl" */
	const char *field; /* "voice_url" */
	int kind;          /* P_NAME (FriendlyName), P_URL, P_METHOD */
} param_map;
/* Validates the present parameters of m[0..n) and sets them in doc (a cleared
 * value becomes null, an empty method "POST"). 0, or -1 with r set. */
int apply_params(const api_req *q, const param_map *m, size_t n, json_t *doc, api_resp *r);
/* "(415) 555-0100" for a +1 NANP number, else a copy of the E.164. */
void format_number(const char *e164, char *out, size_t n);
/* Parses a list date filter: "YYYY-MM-DD" (its midnight UTC),
 * "YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|±HH:MM]" or RFC 2822 into ms. 0 / -1. */
int parse_filter_date(const char *s, int64_t *ms);

/* Time-range filter built from NAME (that UTC day), NAME< (at or before)
 * and NAME> (at or after); a date alone stands for its midnight UTC, as in
 * Twilio's StartTime<=YYYY-MM-DD (api_page.c). */
typedef struct time_filter {
	int64_t lo, hi; /* inclusive lo, exclusive hi; INT64_MIN/MAX when open */
	int active;
} time_filter;
/* Reads the three parameters; -1 with r set when a date is invalid. */
int time_filter_parse(const api_req *q, const char *name, time_filter *f, api_resp *r);
/* 1 when ms (-1: absent) passes. */
int time_filter_match(const time_filter *f, int64_t ms);

/* A Twilio list over a sorted set of SIDs (api_page.c). */
typedef struct page_src {
	const char *zkey;         /* sorted set of SIDs scored by creation ms */
	int newest_first;         /* list order */
	const char *doc_prefix;   /* document key = prefix + SID */
	int doc_is_hash;          /* 1: hash (HGETALL), 0: JSON string */
	const char *list_key;     /* "calls", "domains", … */
	const char *const *carry; /* filter parameters repeated in page URIs, NULL-ended */
	/* 1 when doc passes the request's filters; NULL: every doc passes. */
	int (*match)(const json_t *doc, const void *ctx);
	/* Twilio JSON for doc (new reference), NULL when out of memory. */
	json_t *(*render)(const api_req *q, const json_t *doc, int in_list);
	const void *ctx;
} page_src;
void page_list(const api_req *q, const page_src *s, api_resp *r);
/* The JSON object of an HGETALL reply (string fields; empty ones are left
 * out, i.e. null), with "sid" set from sid when the hash lacks it. NULL when
 * the hash is empty or out of memory. */
json_t *api_hash_doc(const redisReply *h, const char *sid);

/* Resource handlers. */
void numbers_list(const api_req *q, api_resp *r);
void numbers_create(const api_req *q, api_resp *r);
void numbers_fetch(const api_req *q, api_resp *r);
void numbers_update(const api_req *q, api_resp *r);
void numbers_delete(const api_req *q, api_resp *r);
void domains_list(const api_req *q, api_resp *r);
void domains_create(const api_req *q, api_resp *r);
void domains_fetch(const api_req *q, api_resp *r);
void domains_update(const api_req *q, api_resp *r);
void domains_delete(const api_req *q, api_resp *r);
void calls_list(const api_req *q, api_resp *r);
void calls_create(const api_req *q, api_resp *r);
void calls_fetch(const api_req *q, api_resp *r);
void calls_update(const api_req *q, api_resp *r);
void calls_delete(const api_req *q, api_resp *r);
/* Answers with call sid's JSON and HTTP status (api_calls.c). */
void calls_answer(const api_req *q, api_resp *r, const char *sid, int status);
/* The same from an HGETALL reply h of the call's hash. */
void calls_answer_reply(const api_req *q, api_resp *r, const redisReply *h, const char *sid,
                        int status);
void notifs_list(const api_req *q, api_resp *r); /* account-wide */
void notifs_fetch(const api_req *q, api_resp *r);
void notifs_list_call(const api_req *q, api_resp *r); /* …/Calls/{CA}/Notifications */
void notifs_fetch_call(const api_req *q, api_resp *r);

#endif
