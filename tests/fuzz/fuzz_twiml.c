/* fuzz_twiml.c — libFuzzer harness for twiml_parse/twiml_free. Every parsed
 * document is walked and its model invariants checked (strings valid, Dial
 * noun limits, Gather nesting, ranges); a failed parse must carry a code and
 * a NUL-terminated message. Each input is parsed a second time with an
 * allocation budget so the out-of-memory paths are fuzzed too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "twiml.h"
#include "twiml_int.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static volatile size_t sink;

static void str(const char *s)
{
	if (s)
		sink += strlen(s);
}

static void leg(const twiml_leg *l)
{
	str(l->url);
	str(l->status_callback);
	CHECK(!l->status_callback || l->status_callback_event);
}

static void node(const twiml_node *n)
{
	CHECK(n->name);
	str(n->text);
	for (size_t i = 0; i < n->n_attrs; i++) {
		CHECK(n->attrs[i].name && n->attrs[i].value);
		str(n->attrs[i].name);
		str(n->attrs[i].value);
	}
	for (size_t i = 0; i < n->n_children; i++)
		node(&n->children[i]);
}

static void noun(const twiml_noun *n)
{
	switch (n->kind) {
	case TWIML_NOUN_NUMBER:
		CHECK(n->u.number.number && *n->u.number.number);
		str(n->u.number.send_digits);
		str(n->u.number.byoc);
		leg(&n->u.number.leg);
		CHECK(n->u.number.amd.timeout >= 3 && n->u.number.amd.timeout <= 60);
		break;
	case TWIML_NOUN_CLIENT:
		CHECK(n->u.client.identity && *n->u.client.identity);
		CHECK(strlen(n->u.client.identity) <= 256);
		for (size_t i = 0; i < n->u.client.n_params; i++)
			str(n->u.client.params[i].value);
		leg(&n->u.client.leg);
		break;
	case TWIML_NOUN_SIP:
		CHECK(n->u.sip.uri && !strncasecmp(n->u.sip.uri, "sip", 3));
		str(n->u.sip.username);
		str(n->u.sip.password);
		leg(&n->u.sip.leg);
		break;
	case TWIML_NOUN_CONFERENCE:
		CHECK(n->u.conference.name && *n->u.conference.name);
		CHECK(n->u.conference.max_participants >= 2 &&
		      n->u.conference.max_participants <= 250);
		str(n->u.conference.wait_url);
		str(n->u.conference.region);
		break;
	case TWIML_NOUN_QUEUE:
		CHECK(n->u.queue.name && *n->u.queue.name && strlen(n->u.queue.name) <= 64);
		str(n->u.queue.url);
		break;
	case TWIML_NOUN_APPLICATION:
	case TWIML_NOUN_WHATSAPP:
		node(&n->u.generic);
		break;
	default:
		abort();
	}
}

static void verbs(const twiml_verb *v, size_t n, int in_gather)
{
	for (size_t i = 0; i < n; i++, v++) {
		CHECK(strcmp(twiml_verb_name(v->kind), "?"));
		CHECK(!in_gather || v->kind == TWIML_SAY || v->kind == TWIML_PLAY ||
		      v->kind == TWIML_PAUSE);
		switch (v->kind) {
		case TWIML_SAY:
			CHECK(v->u.say.text && v->u.say.language);
			CHECK(v->u.say.loop >= 1 && v->u.say.loop <= TWIML_LOOP_MAX);
			str(v->u.say.voice);
			break;
		case TWIML_PLAY:
			CHECK(v->u.play.url || v->u.play.digits);
			CHECK(v->u.play.loop >= 1 && v->u.play.loop <= TWIML_LOOP_MAX);
			str(v->u.play.url);
			break;
		case TWIML_PAUSE:
			CHECK(v->u.pause.length >= 1);
			break;
		case TWIML_GATHER:
			CHECK(v->u.gather.finish_on_key && strlen(v->u.gather.finish_on_key) <= 1);
			CHECK(v->u.gather.language && v->u.gather.input);
			verbs(v->u.gather.verbs, v->u.gather.n_verbs, 1);
			break;
		case TWIML_DIAL: {
			const twiml_dial *d = &v->u.dial;
			CHECK(d->n_nouns >= 1 && d->n_nouns <= TWIML_MAX_DIAL_TARGETS);
			CHECK(d->timeout >= 5 && d->timeout <= 600);
			str(d->action);
			str(d->caller_id);
			for (size_t k = 0; k < d->n_nouns; k++) {
				noun(&d->nouns[k]);
				if (d->nouns[k].kind == TWIML_NOUN_CONFERENCE ||
				    d->nouns[k].kind == TWIML_NOUN_QUEUE)
					CHECK(d->n_nouns == 1);
			}
			break;
		}
		case TWIML_RECORD:
			CHECK(v->u.record.finish_on_key);
			CHECK(v->u.record.max_length >= 2 && v->u.record.max_length <= 86400);
			break;
		case TWIML_REDIRECT:
			CHECK(v->u.redirect.url && *v->u.redirect.url);
			break;
		case TWIML_REFER:
			CHECK(v->u.refer.target);
			break;
		case TWIML_ENQUEUE:
			CHECK(v->u.enqueue.name && strlen(v->u.enqueue.name) <= 64);
			str(v->u.enqueue.task);
			break;
		case TWIML_REJECT:
		case TWIML_HANGUP:
		case TWIML_LEAVE:
			break;
		default:
			node(&v->u.generic);
			break;
		}
	}
}

static void one(const uint8_t *data, size_t size)
{
	twiml_error err;
	twiml_doc *d = twiml_parse((const char *)data, size, &err);

	if (!d) {
		CHECK(err.code >= 11750 && err.code < 20000);
		CHECK(memchr(err.msg, '\0', sizeof err.msg));
		return;
	}
	CHECK(err.code == 0);
	CHECK(d->n_warnings <= TWIML_MAX_WARNINGS);
	for (size_t i = 0; i < d->n_warnings; i++)
		CHECK(memchr(d->warnings[i].msg, '\0', sizeof d->warnings[i].msg));
	verbs(d->verbs, d->n_verbs, 0);
	twiml_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size);
	tw_alloc_budget = (long)(size % 97);
	one(data, size);
	tw_alloc_budget = -1;
	return 0;
}
