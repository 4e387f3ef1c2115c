/* twiml_free.c — releases a parsed TwiML document: every verb, noun,
 * generic node, attribute bag and string, including partially built ones
 * left by a failed parse. */
#include "twiml_int.h"

static void attrs_free(twiml_attr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tw_free(a[i].name);
		tw_free(a[i].value);
	}
	tw_free(a);
}

void tw_node_clear(twiml_node *n)
{
	tw_free(n->name);
	tw_free(n->text);
	attrs_free(n->attrs, n->n_attrs);
	for (size_t i = 0; i < n->n_children; i++)
		tw_node_clear(&n->children[i]);
	tw_free(n->children);
}

static void leg_clear(twiml_leg *l)
{
	tw_free(l->url);
	tw_free(l->status_callback);
}

static void conference_clear(twiml_conference *c)
{
	tw_free(c->name);
	tw_free(c->participant_label);
	tw_free(c->wait_url);
	tw_free(c->region);
	tw_free(c->coach);
	tw_free(c->status_callback);
	tw_free(c->recording_status_callback);
	tw_free(c->event_callback_url);
	tw_free(c->recording_configuration_id);
}

void tw_noun_clear(twiml_noun *n)
{
	switch (n->kind) {
	case TWIML_NOUN_NUMBER:
		tw_free(n->u.number.number);
		tw_free(n->u.number.send_digits);
		tw_free(n->u.number.byoc);
		leg_clear(&n->u.number.leg);
		tw_free(n->u.number.amd.status_callback);
		break;
	case TWIML_NOUN_CLIENT:
		tw_free(n->u.client.identity);
		attrs_free(n->u.client.params, n->u.client.n_params);
		tw_free(n->u.client.client_notification_url);
		leg_clear(&n->u.client.leg);
		break;
	case TWIML_NOUN_SIP:
		tw_free(n->u.sip.uri);
		tw_free(n->u.sip.username);
		tw_free(n->u.sip.password);
		leg_clear(&n->u.sip.leg);
		tw_free(n->u.sip.amd.status_callback);
		break;
	case TWIML_NOUN_CONFERENCE:
		conference_clear(&n->u.conference);
		break;
	case TWIML_NOUN_QUEUE:
		tw_free(n->u.queue.name);
		tw_free(n->u.queue.url);
		tw_free(n->u.queue.reservation_sid);
		tw_free(n->u.queue.post_work_activity_sid);
		break;
	case TWIML_NOUN_APPLICATION:
	case TWIML_NOUN_WHATSAPP:
		tw_node_clear(&n->u.generic);
		break;
	default:
		break;
	}
}

static void dial_clear(twiml_dial *d)
{
	tw_free(d->action);
	tw_free(d->caller_id);
	tw_free(d->recording_status_callback);
	tw_free(d->refer_url);
	tw_free(d->call_reason);
	tw_free(d->recording_configuration_id);
	tw_free(d->events);
	for (size_t i = 0; i < d->n_nouns; i++)
		tw_noun_clear(&d->nouns[i]);
	tw_free(d->nouns);
}

static void gather_clear(twiml_gather *g)
{
	tw_free(g->action);
	tw_free(g->finish_on_key);
	tw_free(g->language);
	tw_free(g->hints);
	tw_free(g->speech_model);
	tw_free(g->partial_result_callback);
	for (size_t i = 0; i < g->n_verbs; i++)
		tw_verb_clear(&g->verbs[i]);
	tw_free(g->verbs);
}

static void record_clear(twiml_record *r)
{
	tw_free(r->action);
	tw_free(r->finish_on_key);
	tw_free(r->recording_status_callback);
	tw_free(r->transcribe_callback);
	tw_free(r->recording_configuration_id);
}

static void enqueue_clear(twiml_enqueue *e)
{
	tw_free(e->name);
	tw_free(e->action);
	tw_free(e->wait_url);
	tw_free(e->workflow_sid);
	tw_free(e->task);
}

void tw_verb_clear(twiml_verb *v)
{
	switch (v->kind) {
	case TWIML_SAY:
		tw_free(v->u.say.text);
		tw_free(v->u.say.voice);
		tw_free(v->u.say.language);
		break;
	case TWIML_PLAY:
		tw_free(v->u.play.url);
		tw_free(v->u.play.digits);
		break;
	case TWIML_GATHER:
		gather_clear(&v->u.gather);
		break;
	case TWIML_DIAL:
		dial_clear(&v->u.dial);
		break;
	case TWIML_RECORD:
		record_clear(&v->u.record);
		break;
	case TWIML_REDIRECT:
		tw_free(v->u.redirect.url);
		break;
	case TWIML_REFER:
		tw_free(v->u.refer.action);
		tw_free(v->u.refer.target);
		break;
	case TWIML_ENQUEUE:
		enqueue_clear(&v->u.enqueue);
		break;
	case TWIML_PAUSE:
	case TWIML_REJECT:
	case TWIML_HANGUP:
	case TWIML_LEAVE:
	case TWIML_NONE:
	case TWIML_KIND_COUNT:
		break;
	default:
		tw_node_clear(&v->u.generic);
		break;
	}
}

void twiml_free(twiml_doc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_verbs; i++)
		tw_verb_clear(&d->verbs[i]);
	tw_free(d->verbs);
	tw_free(d->warnings);
	tw_free(d->src);
	tw_free(d);
}
