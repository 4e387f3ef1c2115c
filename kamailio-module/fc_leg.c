/* fc_leg.c — shared-memory table of call legs (see fc_leg.h). A fixed array
 * of buckets, each a singly linked list with its own lock, and a second
 * array indexing the same legs by (Call-ID, local tag). Lock order: a leg's
 * bucket before a Call-ID bucket, never the other way round. */
#include "fc_leg.h"

#include <string.h>

#include "../../core/mem/shm_mem.h"
#include "../../core/hashes.h"
#include "../../core/dprint.h"

#define FC_BUCKETS 4096

typedef struct fc_bucket {
	gen_lock_t lock;
	fc_leg *head;
} fc_bucket;

static fc_bucket *buckets;
static fc_bucket *cid_buckets; /* chained through fc_leg.next_cid */
static int *leg_count;

static unsigned int bucket_of(const char *sid)
{
	str s = {(char *)sid, (int)strlen(sid)};
	return core_hash(&s, NULL, FC_BUCKETS);
}

static unsigned int cid_bucket_of(const char *cid, int len)
{
	str s = {(char *)cid, len};
	return core_hash(&s, NULL, FC_BUCKETS);
}

int fc_copy(char *dst, size_t cap, const char *s, int n)
{
	if (n < 0 || (size_t)n >= cap)
		return -1;
	if (n)
		memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

int fc_leg_init(void)
{
	buckets = shm_malloc(sizeof(fc_bucket) * FC_BUCKETS);
	cid_buckets = shm_malloc(sizeof(fc_bucket) * FC_BUCKETS);
	leg_count = shm_malloc(sizeof(int));
	if (!buckets || !cid_buckets || !leg_count) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(buckets, 0, sizeof(fc_bucket) * FC_BUCKETS);
	memset(cid_buckets, 0, sizeof(fc_bucket) * FC_BUCKETS);
	*leg_count = 0;
	for (int i = 0; i < FC_BUCKETS; i++)
		if (!lock_init(&buckets[i].lock) || !lock_init(&cid_buckets[i].lock))
			return -1;
	return 0;
}

void fc_leg_destroy(void)
{
	if (!buckets)
		return;
	for (int i = 0; i < FC_BUCKETS; i++) {
		fc_leg *l = buckets[i].head;
		while (l) {
			fc_leg *n = l->next;
			shm_free(l);
			l = n;
		}
		lock_destroy(&buckets[i].lock);
		lock_destroy(&cid_buckets[i].lock);
	}
	shm_free(buckets);
	shm_free(cid_buckets);
	shm_free(leg_count);
	buckets = NULL;
}

fc_leg *fc_leg_lock(const char *sid)
{
	fc_bucket *b = &buckets[bucket_of(sid)];
	lock_get(&b->lock);
	for (fc_leg *l = b->head; l; l = l->next)
		if (strcmp(l->sid, sid) == 0)
			return l;
	return NULL;
}

void fc_leg_unlock(const char *sid)
{
	lock_release(&buckets[bucket_of(sid)].lock);
}

fc_leg *fc_leg_add(const char *sid, int kind, const char *root, const str *to_tag)
{
	fc_leg *l = shm_malloc(sizeof *l);
	if (!l) {
		SHM_MEM_ERROR;
		return NULL;
	}
	memset(l, 0, sizeof *l);
	memcpy(l->sid, sid, FC_SID_LEN);
	memcpy(l->root, root && strlen(root) == FC_SID_LEN ? root : sid, FC_SID_LEN);
	l->kind = kind;
	if (to_tag && to_tag->len > 0) {
		int n = to_tag->len > FC_TOTAG_MAX ? FC_TOTAG_MAX : to_tag->len;
		memcpy(l->to_tag, to_tag->s, n);
	}
	fc_bucket *b = &buckets[bucket_of(sid)];
	lock_get(&b->lock);
	l->next = b->head;
	b->head = l;
	lock_release(&b->lock);
	__atomic_add_fetch(leg_count, 1, __ATOMIC_RELAXED);
	return l;
}

void fc_leg_index(fc_leg *l)
{
	if (l->indexed || !l->dlg.call_id[0] || !l->dlg.loc_tag[0])
		return;
	fc_bucket *c = &cid_buckets[cid_bucket_of(l->dlg.call_id, strlen(l->dlg.call_id))];
	lock_get(&c->lock);
	l->next_cid = c->head;
	c->head = l;
	l->indexed = 1;
	lock_release(&c->lock);
}

/* The leg of dialog call_id with our tag loc_tag (and, unless rem_tag is
 * NULL, the peer's tag rem_tag): copies its CallSid and root. */
static int find_dialog(const str *call_id, const str *loc_tag, const str *rem_tag,
                       char sid[FC_SID_LEN + 1], char root[FC_SID_LEN + 1], int *confirmed)
{
	int found = 0;
	fc_bucket *c = &cid_buckets[cid_bucket_of(call_id->s, call_id->len)];
	lock_get(&c->lock);
	for (fc_leg *l = c->head; l; l = l->next_cid) {
		if ((int)strlen(l->dlg.call_id) == call_id->len &&
		    memcmp(l->dlg.call_id, call_id->s, call_id->len) == 0 &&
		    (int)strlen(l->dlg.loc_tag) == loc_tag->len &&
		    memcmp(l->dlg.loc_tag, loc_tag->s, loc_tag->len) == 0 &&
		    (!rem_tag ||
		     ((int)strlen(l->dlg.rem_tag) == rem_tag->len &&
		      memcmp(l->dlg.rem_tag, rem_tag->s, rem_tag->len) == 0 && !l->ended))) {
			memcpy(sid, l->sid, FC_SID_LEN + 1);
			memcpy(root, l->root, FC_SID_LEN + 1);
			*confirmed = l->state == FC_CONFIRMED;
			found = 1;
			break;
		}
	}
	lock_release(&c->lock);
	return found;
}

int fc_leg_find_dialog(const str *call_id, const str *loc_tag, char sid[FC_SID_LEN + 1])
{
	char root[FC_SID_LEN + 1];
	int confirmed;
	return find_dialog(call_id, loc_tag, NULL, sid, root, &confirmed);
}

int fc_leg_find_replaced(const str *call_id, const str *loc_tag, const str *rem_tag,
                         char sid[FC_SID_LEN + 1], char root[FC_SID_LEN + 1], int *confirmed)
{
	return find_dialog(call_id, loc_tag, rem_tag, sid, root, confirmed);
}

static void unindex(fc_leg *l)
{
	if (!l->indexed)
		return;
	fc_bucket *c = &cid_buckets[cid_bucket_of(l->dlg.call_id, strlen(l->dlg.call_id))];
	lock_get(&c->lock);
	for (fc_leg **pp = &c->head; *pp; pp = &(*pp)->next_cid) {
		if (*pp == l) {
			*pp = l->next_cid;
			break;
		}
	}
	l->indexed = 0;
	lock_release(&c->lock);
}

void fc_leg_remove(const char *sid)
{
	fc_bucket *b = &buckets[bucket_of(sid)];
	lock_get(&b->lock);
	for (fc_leg **pp = &b->head; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->sid, sid) == 0) {
			fc_leg *l = *pp;
			*pp = l->next;
			unindex(l);
			if (l->invite)
				shm_free(l->invite);
			if (l->held)
				shm_free(l->held);
			shm_free(l);
			__atomic_sub_fetch(leg_count, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	lock_release(&b->lock);
}

int fc_leg_seen_cmd(fc_leg *l, const char *id)
{
	if (!id || !*id)
		return 0;
	for (int i = 0; i < FC_CMD_IDS; i++)
		if (strncmp(l->cmd_ids[i], id, FC_CMD_ID_MAX) == 0)
			return 1;
	strncpy(l->cmd_ids[l->cmd_next], id, FC_CMD_ID_MAX);
	l->cmd_ids[l->cmd_next][FC_CMD_ID_MAX] = 0;
	l->cmd_next = (l->cmd_next + 1) % FC_CMD_IDS;
	return 0;
}

int fc_leg_each(void (*fn)(const char *sid, void *arg), void *arg)
{
	/* sids are copied under the bucket lock; fn runs without it */
	char sids[64][FC_SID_LEN + 1];
	int total = 0;
	for (int b = 0; b < FC_BUCKETS; b++) {
		int n = 0;
		lock_get(&buckets[b].lock);
		for (fc_leg *l = buckets[b].head; l && n < 64; l = l->next)
			if (!l->ended)
				memcpy(sids[n++], l->sid, FC_SID_LEN + 1);
		lock_release(&buckets[b].lock);
		for (int i = 0; i < n; i++)
			fn(sids[i], arg);
		total += n;
	}
	return total;
}

int fc_leg_count(void)
{
	return __atomic_load_n(leg_count, __ATOMIC_RELAXED);
}
