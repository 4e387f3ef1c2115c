/* api_page.c — Twilio list paging over a sorted set of SIDs: PageSize
 * (1..1000, default 50), Page, PageToken (PA<last SID> forward, PB<first
 * SID> backward), filters applied while scanning, the page envelope with its
 * URIs; and the date-range filters (NAME, NAME<, NAME>) of list requests. */
#include "api.h"
#include "log.h"
#include "rstore.h"
#include "sid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define PAGE_SIZE_DEFAULT 50
#define PAGE_SIZE_MAX 1000

/* ---- date filters -------------------------------------------------------- */

int time_filter_parse(const api_req *q, const char *name, time_filter *f, api_resp *r)
{
	static const char *const ops[] = {"", "<", ">"};
	f->lo = INT64_MIN;
	f->hi = INT64_MAX;
	f->active = 0;
	for (int i = 0; i < 3; i++) {
		char pname[64];
		snprintf(pname, sizeof pname, "%s%s", name, ops[i]);
		const char *v = form_get(q->query, pname);
		if (!v || !*v)
			continue;
		int64_t ms;
		if (parse_filter_date(v, &ms) < 0) {
			api_error(r, 400, TW_BAD_PARAM,
			          "Invalid %s: %.60s (expected YYYY-MM-DD or "
			          "YYYY-MM-DDTHH:MM:SSZ)",
			          pname, v);
			return -1;
		}
		/* NAME: during that UTC day; NAME>: at or after, NAME<: at or before
		 * the instant (a date alone means its midnight, as Twilio says). */
		int64_t day0 = ms - ((ms % DAY_MS) + DAY_MS) % DAY_MS;
		int64_t lo = i == 2 ? ms : i == 0 ? day0 : INT64_MIN;
		int64_t hi = i == 1 ? ms + 1 : i == 0 ? day0 + DAY_MS : INT64_MAX;
		if (lo > f->lo)
			f->lo = lo;
		if (hi < f->hi)
			f->hi = hi;
		f->active = 1;
	}
	return 0;
}

int time_filter_match(const time_filter *f, int64_t ms)
{
	if (!f->active)
		return 1;
	return ms >= 0 && ms >= f->lo && ms < f->hi;
}

/* ---- paging parameters ------------------------------------------------------- */

struct page_params {
	long size, page;
	char dir; /* 0, 'A' after tok, 'B' before tok */
	char tok[SID_LEN + 1];
};

static int parse_count(const char *s, long *out)
{
	size_t n = strlen(s);
	if (!n || n > 9 || s[strspn(s, "0123456789")])
		return -1;
	*out = strtol(s, NULL, 10);
	return 0;
}

static int page_params_parse(const api_req *q, struct page_params *p, api_resp *r)
{
	const char *v;
	p->size = PAGE_SIZE_DEFAULT;
	p->page = 0;
	p->dir = 0;
	p->tok[0] = 0;
	if ((v = form_get(q->query, "PageSize")) && *v) {
		if (parse_count(v, &p->size) < 0 || p->size < 1) {
			api_error(r, 400, TW_BAD_PARAM, "Invalid PageSize: %.20s (1 to %d)", v,
			          PAGE_SIZE_MAX);
			return -1;
		}
		if (p->size > PAGE_SIZE_MAX)
			p->size = PAGE_SIZE_MAX;
	}
	if ((v = form_get(q->query, "Page")) && *v && parse_count(v, &p->page) < 0) {
		api_error(r, 400, TW_BAD_PARAM, "Invalid Page: %.20s", v);
		return -1;
	}
	if ((v = form_get(q->query, "PageToken")) && *v) {
		size_t n = strlen(v);
		if (n != 2 + SID_LEN || v[0] != 'P' || (v[1] != 'A' && v[1] != 'B') ||
		    v[2 + strspn(v + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef")]) {
			api_error(r, 400, TW_BAD_PARAM, "Invalid PageToken: %.40s", v);
			return -1;
		}
		p->dir = v[1];
		memcpy(p->tok, v + 2, SID_LEN + 1);
	}
	return 0;
}

/* ---- loading documents ------------------------------------------------------- */

json_t *api_hash_doc(const redisReply *h, const char *sid)
{
	if (!h || h->type != REDIS_REPLY_ARRAY || h->elements == 0)
		return NULL;
	json_t *o = json_object();
	if (!o)
		return NULL;
	int ok = 1;
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || !k->len ||
		    k->str[strspn(k->str, "abcdefghijklmnopqrstuvwxyz0123456789_")])
			continue; /* not a field of doc/store.md */
		if (v->len == 0)
			continue; /* written empty: rendered as absent (null) */
		jput(o, k->str, jtext(v->str), &ok);
	}
	if (!jstr(o, "sid"))
		jput(o, "sid", json_string(sid), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Loads the documents of the SIDs in ids into docs[] (NULL when gone).
 * Returns 0, or -1 on a store failure. */
static int load_docs(const page_src *s, const redisReply *ids, json_t **docs)
{
	size_t n = ids->elements;
	char(*keys)[96] = calloc(n, sizeof *keys);
	const char **argv = calloc(n + 1, sizeof *argv);
	int rc = -1;
	if (!keys || !argv)
		goto out;
	for (size_t i = 0; i < n; i++)
		snprintf(keys[i], sizeof keys[i], "%s%.64s", s->doc_prefix, ids->element[i]->str);
	if (s->doc_is_hash) {
		size_t queued = 0;
		for (; queued < n; queued++)
			if (rstore_append("HGETALL %s", keys[queued]) < 0)
				break;
		for (size_t i = 0; i < queued; i++) {
			redisReply *h = rstore_reply();
			if (!h)
				goto out;
			docs[i] = api_hash_doc(h, ids->element[i]->str);
			int bad = h->type != REDIS_REPLY_ARRAY;
			freeReplyObject(h);
			if (bad)
				goto out;
		}
		if (queued < n)
			goto out;
	} else {
		argv[0] = "MGET";
		for (size_t i = 0; i < n; i++)
			argv[i + 1] = keys[i];
		redisReply *m = rstore_cmdargv((int)n + 1, argv, NULL);
		if (!m)
			goto out;
		if (m->type != REDIS_REPLY_ARRAY || m->elements != n) {
			freeReplyObject(m);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			const redisReply *e = m->element[i];
			if (e->type != REDIS_REPLY_STRING)
				continue;
			json_t *j = json_loadb(e->str, e->len, 0, NULL);
			if (!json_is_object(j)) {
				LOGW("store: %s does not hold a JSON object; skipped", keys[i]);
				json_decref(j);
				continue;
			}
			docs[i] = j;
		}
		freeReplyObject(m);
	}
	rc = 0;
out:
	free(keys);
	free(argv);
	return rc;
}

/* One chunk of SIDs by rank [from, to] in list order, with their documents.
 * Returns the reply (NULL on failure) and *docs (caller frees both). */
static redisReply *chunk(const page_src *s, long from, long to, json_t ***docs)
{
	*docs = NULL;
	redisReply *ids = rstore_cmd(s->newest_first ? "ZREVRANGE %s %ld %ld" : "ZRANGE %s %ld %ld",
	                             s->zkey, from, to);
	if (!ids)
		return NULL;
	if (ids->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(ids);
		return NULL;
	}
	for (size_t i = 0; i < ids->elements; i++)
		if (ids->element[i]->type != REDIS_REPLY_STRING) {
			freeReplyObject(ids);
			return NULL;
		}
	if (ids->elements == 0)
		return ids;
	*docs = calloc(ids->elements, sizeof **docs);
	if (!*docs || load_docs(s, ids, *docs) < 0) {
		if (*docs)
			for (size_t i = 0; i < ids->elements; i++)
				json_decref((*docs)[i]);
		free(*docs);
		*docs = NULL;
		freeReplyObject(ids);
		return NULL;
	}
	return ids;
}

static void free_chunk(redisReply *ids, json_t **docs)
{
	if (docs)
		for (size_t i = 0; i < ids->elements; i++)
			json_decref(docs[i]);
	free(docs);
	freeReplyObject(ids);
}

static int matches(const page_src *s, const json_t *d)
{
	return d && (!s->match || s->match(d, s->ctx));
}

/* Forward from rank pos: skips `skip` matches, then collects up to size
 * matches into items; *more when one more match exists. 0 / -1. */
static int scan_forward(const api_req *q, const page_src *s, long pos, long skip, long size,
                        json_t *items, int *more)
{
	long step = size + 1 < 50 ? 50 : size + 1;
	long got = 0;
	*more = 0;
	for (;;) {
		json_t **docs;
		redisReply *ids = chunk(s, pos, pos + step - 1, &docs);
		if (!ids)
			return -1;
		size_t n = ids->elements;
		int fail = 0;
		for (size_t i = 0; i < n && !*more && !fail; i++) {
			if (!matches(s, docs[i]))
				continue;
			if (skip > 0) {
				skip--;
				continue;
			}
			if (got == size) {
				*more = 1;
				break;
			}
			json_t *it = s->render(q, docs[i], 1);
			if (!it || json_array_append_new(items, it) != 0)
				fail = 1;
			got++;
		}
		free_chunk(ids, docs);
		if (fail)
			return -1;
		if (*more || (long)n < step)
			return 0;
		pos += (long)n;
	}
}

/* Backward from rank pos-1: collects up to size matches (in list order). */
static int scan_backward(const api_req *q, const page_src *s, long pos, long size, json_t *items)
{
	long step = size < 50 ? 50 : size;
	long got = 0, end = pos - 1;
	while (got < size && end >= 0) {
		long from = end - step + 1 < 0 ? 0 : end - step + 1;
		json_t **docs;
		redisReply *ids = chunk(s, from, end, &docs);
		if (!ids)
			return -1;
		int fail = 0;
		for (size_t i = ids->elements; i-- > 0 && got < size && !fail;) {
			if (!matches(s, docs[i]))
				continue;
			json_t *it = s->render(q, docs[i], 1);
			if (!it || json_array_insert_new(items, 0, it) != 0)
				fail = 1;
			got++;
		}
		free_chunk(ids, docs);
		if (fail)
			return -1;
		end = from - 1;
	}
	return 0;
}

/* Rank of sid in list order, -1 when absent, -2 on failure. */
static long rank_of(const page_src *s, const char *sid)
{
	redisReply *r =
	    rstore_cmd(s->newest_first ? "ZREVRANK %s %s" : "ZRANK %s %s", s->zkey, sid);
	if (!r)
		return -2;
	long v = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -1;
	freeReplyObject(r);
	return v;
}

/* ---- the page envelope ------------------------------------------------------- */

static int carried(const page_src *s, const char *name)
{
	for (const char *const *c = s->carry; c && *c; c++)
		if (!strcmp(*c, name))
			return 1;
	return 0;
}

static json_t *page_uri(const api_req *q, const page_src *s, long size, long page, char dir,
                        const char *tok)
{
	form f;
	form_init(&f);
	int ok = 1;
	for (size_t i = 0; i < q->query->n && ok; i++)
		if (carried(s, q->query->v[i].name))
			ok = form_add(&f, q->query->v[i].name, q->query->v[i].value) == 0;
	char num[24], t[2 + SID_LEN + 1];
	snprintf(num, sizeof num, "%ld", size);
	ok = ok && form_add(&f, "PageSize", num) == 0;
	snprintf(num, sizeof num, "%ld", page);
	ok = ok && form_add(&f, "Page", num) == 0;
	if (ok && dir && tok && *tok) {
		snprintf(t, sizeof t, "P%c%s", dir, tok);
		ok = form_add(&f, "PageToken", t) == 0;
	}
	char *qs = ok ? form_encode(&f) : NULL;
	form_free(&f);
	if (!qs)
		return NULL;
	char *u = NULL;
	json_t *j = asprintf(&u, "%s?%s", q->path, qs) >= 0 ? json_string(u) : NULL;
	free(u);
	free(qs);
	return j;
}

void page_list(const api_req *q, const page_src *s, api_resp *r)
{
	struct page_params p;
	if (page_params_parse(q, &p, r) < 0)
		return;
	json_t *items = json_array();
	if (!items) {
		api_internal(r);
		return;
	}
	int more = 0, rc;
	long skip = p.page * p.size;
	long rank = p.dir ? rank_of(s, p.tok) : -1;
	if (rank == -2)
		rc = -1;
	else if (p.dir == 'A' && rank >= 0)
		rc = scan_forward(q, s, rank + 1, 0, p.size, items, &more);
	else if (p.dir == 'B' && rank >= 0) {
		rc = scan_backward(q, s, rank, p.size, items);
		more = 1;
	} else
		rc = scan_forward(q, s, 0, skip, p.size, items, &more);
	if (rc < 0) {
		json_decref(items);
		api_internal(r);
		return;
	}
	size_t n = json_array_size(items);
	char first[64] = "", last[64] = "";
	if (n) {
		const char *f = jstr(json_array_get(items, 0), "sid");
		const char *l = jstr(json_array_get(items, n - 1), "sid");
		snprintf(first, sizeof first, "%s", f ? f : "");
		snprintf(last, sizeof last, "%s", l ? l : "");
	}
	json_t *o = json_object();
	int ok = o != NULL;
	if (ok) {
		jput(o, s->list_key, items, &ok);
		items = NULL;
		jput(o, "end", json_integer(n ? skip + (long)n - 1 : skip), &ok);
		jput(o, "first_page_uri", page_uri(q, s, p.size, 0, 0, NULL), &ok);
		jput(o, "next_page_uri",
		     more && *last ? page_uri(q, s, p.size, p.page + 1, 'A', last) : json_null(),
		     &ok);
		jput(o, "page", json_integer(p.page), &ok);
		jput(o, "page_size", json_integer(p.size), &ok);
		jput(o, "previous_page_uri",
		     p.page > 0 ? page_uri(q, s, p.size, p.page - 1, 'B', first) : json_null(),
		     &ok);
		jput(o, "start", json_integer(skip), &ok);
		jput(o, "uri", page_uri(q, s, p.size, p.page, p.dir, p.tok), &ok);
	}
	json_decref(items);
	if (!ok) {
		json_decref(o);
		api_internal(r);
		return;
	}
	api_json(r, 200, o);
}
