/* resume.c — calls that outlive the callctl instance running them
 * (bus-protocol.md §9). While a call rests in a <Dial> bridge (caller
 * answered, the dialled leg answered and bridged, no webhook, timer,
 * transfer or REST change under way), the instance running it keeps a
 * snapshot of its working copy in fc:live:{root} field `snap`, rewritten
 * whenever it changes and dropped when the call leaves that state. An
 * instance that takes the call over from a dead owner rebuilds the call
 * from the snapshot and handles the event that brought it as the owner
 * would have: the bridge goes on, a hang-up ends it, the Dial's action is
 * requested, the TwiML after it runs, status callbacks go on with their
 * SequenceNumbers. Calls caught in any other state are ended in order
 * (engine.c, orphan_event). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "lua_scripts.h"
#include "rbus.h"
#include "sid.h"
#include "twiml.h"

json_t *jsnap_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int resting(call *c)
{
	return !c->dead && !c->ending && c->answered && !c->answering && !c->wh &&
	       !c->timer_active && !c->xfer && !c->refer && !c->rep && !c->was && !c->pdial &&
	       !c->event_id[0];
}

static json_t *snapshot(call *c)
{
	int64_t out_limit;
	json_t *dial = resting(c) && !outbound_snapshot(c, &out_limit) ? dial_snapshot(c) : NULL;
	if (!dial)
		return NULL;
	json_t *params = json_array();
	for (size_t i = 0; params && i < c->params.n; i++)
		json_array_append_new(params,
		                      json_pack("[ss]", c->params.v[i].name, c->params.v[i].value));
	json_t *s = json_pack(
	    "{s:i,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:i,s:i,s:i,s:i}", "v", 1, "leg", c->leg,
	    "proxy", c->proxy, "params", params, "voice_url", jsnap_str(c->voice_url),
	    "voice_method", jsnap_str(c->voice_method), "fallback_url", jsnap_str(c->fallback_url),
	    "fallback_method", jsnap_str(c->fallback_method), "doc_url", jsnap_str(c->doc_url),
	    "doc", jsnap_str(c->doc ? c->doc->src : NULL), "pc", (json_int_t)c->pc, "in_fallback",
	    c->in_fallback, "cmd_n", c->cmd_n, "media", c->media, "sc_fired", c->sc_fired);
	json_t *t = json_pack(
	    "{s:I,s:I,s:o,s:o,s:o,s:o,s:i,s:i,s:s,s:s,s:s,s:o,s:o,s:s,s:i,s:i,s:i,s:o,s:I}",
	    "start_ms", (json_int_t)c->start_ms, "answer_ms", (json_int_t)c->answer_ms, "a_sdp",
	    jsnap_str(c->a_sdp), "our_sdp", jsnap_str(c->our_sdp), "sc_url", jsnap_str(c->sc_url),
	    "sc_method", jsnap_str(c->sc_method), "sc_seq", c->sc_seq, "sip_leg", c->sip_leg,
	    "bridged", c->bridged, "bridged_proxy", c->bridged_proxy, "btag", c->btag, "b_sdp",
	    jsnap_str(c->b_sdp), "b_our_sdp", jsnap_str(c->b_our_sdp), "mtag", c->mtag, "mtag_n",
	    c->mtag_n, "sc_events", (int)c->sc_events, "sip_code", c->sip_code, "dial", dial,
	    "out_limit_at", (json_int_t)out_limit);
	if (!s || !t || json_object_update(s, t) < 0) {
		json_decref(s);
		s = NULL;
	}
	json_decref(t);
	return s;
}

void resume_save(call *c)
{
	char key[64];
	snprintf(key, sizeof key, "fc:live:%s", c->sid);
	json_t *s = snapshot(c);
	char *js = s ? json_dumps(s, JSON_COMPACT) : NULL;
	json_decref(s);
	if (js && c->snap && !strcmp(js, c->snap)) {
		free(js);
		return;
	}
	if (js) {
		const char *argv[] = {"EVAL", LUA_SNAP_SET, "1", key, eng_cfg->instance, js};
		if (rbus_cmdargv(NULL, NULL, 6, argv, NULL) < 0) {
			free(js);
			return;
		}
	} else if (c->snap) {
		rbus_cmd(NULL, NULL, "HDEL %s snap", key);
	}
	free(c->snap);
	c->snap = js;
}

/* ---- taking over ----------------------------------------------------------- */

char *jsnap_dup(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? strdup(s) : NULL;
}

void jsnap_copy(char *dst, size_t n, json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	snprintf(dst, n, "%s", s ? s : "");
}

int jsnap_int(json_t *o, const char *k)
{
	return (int)json_integer_value(json_object_get(o, k));
}

/* The call of snapshot s, or NULL when s cannot be used. */
static call *restore(const char *root, json_t *s)
{
	const char *leg = json_string_value(json_object_get(s, "leg"));
	const char *proxy = json_string_value(json_object_get(s, "proxy"));
	if (jsnap_int(s, "v") != 1 || !leg || !sid_valid(leg, "CA") || !proxy || !*proxy)
		return NULL;
	call *c = call_new(eng_loop, root);
	if (!c)
		return NULL;
	snprintf(c->leg, sizeof c->leg, "%s", leg);
	snprintf(c->proxy, sizeof c->proxy, "%s", proxy);
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(s, "params"), i, p)
	{
		const char *n = json_string_value(json_array_get(p, 0));
		const char *v = json_string_value(json_array_get(p, 1));
		if (n && v)
			form_add(&c->params, n, v);
	}
	c->voice_url = jsnap_dup(s, "voice_url");
	c->voice_method = jsnap_dup(s, "voice_method");
	c->fallback_url = jsnap_dup(s, "fallback_url");
	c->fallback_method = jsnap_dup(s, "fallback_method");
	c->doc_url = jsnap_dup(s, "doc_url");
	const char *doc = json_string_value(json_object_get(s, "doc"));
	if (doc && !(c->doc = twiml_parse(doc, strlen(doc), NULL)))
		goto bad;
	c->pc = (size_t)json_integer_value(json_object_get(s, "pc"));
	if (c->doc && c->pc > c->doc->n_verbs)
		goto bad;
	c->in_fallback = jsnap_int(s, "in_fallback");
	/* Command ids must not repeat those the dead owner sent (the module
	 * drops a repeated id): a wide step past them. */
	c->cmd_n = jsnap_int(s, "cmd_n") + 10000;
	c->media = jsnap_int(s, "media");
	c->sc_fired = jsnap_int(s, "sc_fired");
	c->answered = 1;
	c->start_ms = json_integer_value(json_object_get(s, "start_ms"));
	c->answer_ms = json_integer_value(json_object_get(s, "answer_ms"));
	c->a_sdp = jsnap_dup(s, "a_sdp");
	c->our_sdp = jsnap_dup(s, "our_sdp");
	c->sc_url = jsnap_dup(s, "sc_url");
	c->sc_method = jsnap_dup(s, "sc_method");
	c->sc_seq = jsnap_int(s, "sc_seq");
	c->sip_leg = jsnap_int(s, "sip_leg");
	jsnap_copy(c->bridged, sizeof c->bridged, s, "bridged");
	jsnap_copy(c->bridged_proxy, sizeof c->bridged_proxy, s, "bridged_proxy");
	jsnap_copy(c->btag, sizeof c->btag, s, "btag");
	c->b_sdp = jsnap_dup(s, "b_sdp");
	c->b_our_sdp = jsnap_dup(s, "b_our_sdp");
	jsnap_copy(c->mtag, sizeof c->mtag, s, "mtag");
	c->mtag_n = jsnap_int(s, "mtag_n");
	c->sc_events = (unsigned)json_integer_value(json_object_get(s, "sc_events"));
	c->sip_code = jsnap_int(s, "sip_code");
	if (!c->mtag[0] || !c->bridged[0] || dial_restore(c, json_object_get(s, "dial")) < 0 ||
	    outbound_restore(c, json_integer_value(json_object_get(s, "out_limit_at"))) < 0)
		goto bad;
	return c;
bad:
	call_kill(c);
	return NULL;
}

typedef struct take_ctx {
	char id[64], root[40], type[32];
	json_t *ev;
	resume_then then;
} take_ctx;

static void snap_cb(redisAsyncContext *rc, void *r, void *priv)
{
	(void)rc;
	redisReply *reply = r;
	take_ctx *t = priv;
	call *c = call_find(t->root); /* rebuilt for an earlier event meanwhile */
	if (!c && reply && reply->type == REDIS_REPLY_STRING) {
		json_t *s = json_loadb(reply->str, reply->len, 0, NULL);
		c = s ? restore(t->root, s) : NULL;
		json_decref(s);
		if (c) {
			c->snap = strndup(reply->str, reply->len);
			LOGI("call %s: taken over from a dead instance; it goes on (bridged to %s)",
			     t->root, c->bridged);
		} else {
			LOGW("call %s: taken over, but its snapshot is unusable", t->root);
		}
	}
	if (reply) /* else Redis went away: the event stays pending and comes back */
		t->then(t->id, t->root, t->type, t->ev, c);
	json_decref(t->ev);
	free(t);
}

void resume_take(const char *id, const char *root, const char *type, json_t *ev, resume_then then)
{
	take_ctx *t = calloc(1, sizeof *t);
	if (!t)
		return;
	snprintf(t->id, sizeof t->id, "%s", id);
	snprintf(t->root, sizeof t->root, "%s", root);
	snprintf(t->type, sizeof t->type, "%s", type);
	t->ev = json_incref(ev);
	t->then = then;
	if (rbus_cmd(snap_cb, t, "HGET fc:live:%s snap", root) < 0) {
		json_decref(t->ev);
		free(t);
	}
}
