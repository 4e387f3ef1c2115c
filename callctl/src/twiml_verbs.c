/* twiml_verbs.c — TwiML verbs: attribute tables (names, types, Twilio error
 * codes, ranges), defaults from the Twilio reference §2, and the checks run
 * when a verb's element ends (text content, cross-attribute rules). */
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include "twiml_int.h"

#define END_SPEC                                                                                   \
	{                                                                                          \
		NULL, 0, 0, 0, 0, 0, NULL                                                          \
	}
#define SAY_LIMIT 4096

const tw_enum tw_rec_events[] = {
    {"in-progress", TWIML_REC_EV_IN_PROGRESS},
    {"completed", TWIML_REC_EV_COMPLETED},
    {"absent", TWIML_REC_EV_ABSENT},
    {NULL, 0},
};

static const tw_enum dial_records[] = {
    {"do-not-record", TWIML_DIAL_REC_NONE},
    {"record-from-answer", TWIML_DIAL_REC_FROM_ANSWER},
    {"record-from-ringing", TWIML_DIAL_REC_FROM_RINGING},
    {"record-from-answer-dual", TWIML_DIAL_REC_FROM_ANSWER_DUAL},
    {"record-from-ringing-dual", TWIML_DIAL_REC_FROM_RINGING_DUAL},
    {"true", TWIML_DIAL_REC_FROM_ANSWER},
    {"false", TWIML_DIAL_REC_NONE},
    {NULL, 0},
};

const tw_enum tw_trims[] = {
    {"trim-silence", TWIML_TRIM_SILENCE},
    {"do-not-trim", TWIML_TRIM_NONE},
    {NULL, 0},
};

static const tw_enum tracks[] = {
    {"both", TWIML_TRACK_BOTH},
    {"inbound", TWIML_TRACK_INBOUND},
    {"outbound", TWIML_TRACK_OUTBOUND},
    {NULL, 0},
};

static const tw_enum inputs[] = {
    {"dtmf", TWIML_INPUT_DTMF},
    {"speech", TWIML_INPUT_SPEECH},
    {NULL, 0},
};

static const tw_enum reasons[] = {
    {"rejected", TWIML_REJECT_REJECTED},
    {"busy", TWIML_REJECT_BUSY},
    {NULL, 0},
};

#define SAY(f) offsetof(twiml_say, f)
static const tw_attr_spec say_spec[] = {
    {"voice", A_VOICE, SAY(voice), 13511, 0, 0, NULL},
    {"language", A_LANG, SAY(language), 13512, 0, 0, NULL},
    {"loop", A_LOOP, SAY(loop), 13510, 0, 0, NULL},
    END_SPEC,
};
/* Inside <Gather>: Gather->Say codes. */
static const tw_attr_spec gather_say_spec[] = {
    {"voice", A_VOICE, SAY(voice), 13321, 0, 0, NULL},
    {"language", A_LANG, SAY(language), 13512, 0, 0, NULL},
    {"loop", A_LOOP, SAY(loop), 13322, 0, 0, NULL},
    END_SPEC,
};

#define PLAY(f) offsetof(twiml_play, f)
static const tw_attr_spec play_spec[] = {
    {"loop", A_LOOP, PLAY(loop), 13410, 0, 0, NULL},
    {"digits", A_DTMF, PLAY(digits), 13430, 0, 0, NULL},
    END_SPEC,
};

static const tw_attr_spec pause_spec[] = {
    {"length", A_INT, offsetof(twiml_pause, length), 13910, 1, INT_MAX, NULL},
    END_SPEC,
};

#define GA(f) offsetof(twiml_gather, f)
static const tw_attr_spec gather_spec[] = {
    {"action", A_STR, GA(action), 0, 0, 0, NULL},
    {"method", A_METHOD, GA(method), 13312, 0, 0, NULL},
    {"input", A_EVENTS, GA(input), 13326, 1, 0, inputs},
    {"timeout", A_INT, GA(timeout), 13313, 0, INT_MAX, NULL},
    {"finishOnKey", A_KEY1, GA(finish_on_key), 13310, 0, 0, NULL},
    {"numDigits", A_INT, GA(num_digits), 13314, 1, INT_MAX, NULL},
    {"speechTimeout", A_STIMEOUT, GA(speech_timeout), 13327, 0, 0, NULL},
    {"actionOnEmptyResult", A_BOOL, GA(action_on_empty_result), 13338, 0, 0, NULL},
    {"language", A_LANG, GA(language), 13331, 0, 0, NULL},
    {"hints", A_HINTS, GA(hints), 13330, 0, 0, NULL},
    {"speechModel", A_STR, GA(speech_model), 13334, 0, 128, NULL},
    {"profanityFilter", A_BOOL, GA(profanity_filter), 13333, 0, 0, NULL},
    {"enhanced", A_BOOL, GA(enhanced), 12200, 0, 0, NULL},
    {"partialResultCallback", A_STR, GA(partial_result_callback), 0, 0, 0, NULL},
    {"partialResultCallbackMethod", A_METHOD, GA(partial_result_callback_method), 13329, 0, 0,
     NULL},
    {"bargeIn", A_BOOL, GA(barge_in), 13332, 0, 0, NULL},
    {"debug", A_BOOL, GA(debug), 12200, 0, 0, NULL},
    {"maxSpeechTime", A_INT, GA(max_speech_time), 13328, 1, 60, NULL},
    END_SPEC,
};

#define DI(f) offsetof(twiml_dial, f)
static const tw_attr_spec dial_spec[] = {
    {"action", A_STR, DI(action), 0, 0, 0, NULL},
    {"method", A_METHOD, DI(method), 0, 0, 0, NULL},
    {"timeout", A_CLAMP, DI(timeout), 13212, 5, 600, NULL},
    {"timeLimit", A_INT, DI(time_limit), 13216, 1, 86400, NULL},
    {"hangupOnStar", A_BOOL, DI(hangup_on_star), 13213, 0, 0, NULL},
    {"callerId", A_NOWS, DI(caller_id), 13214, 0, 256, NULL},
    {"record", A_ENUM, DI(record), 13217, 0, 0, dial_records},
    {"trim", A_ENUM, DI(trim), 12200, 0, 0, tw_trims},
    {"recordingStatusCallback", A_STR, DI(recording_status_callback), 0, 0, 0, NULL},
    {"recordingStatusCallbackMethod", A_METHOD, DI(recording_status_callback_method), 0, 0, 0,
     NULL},
    {"recordingStatusCallbackEvent", A_EVENTS, DI(recording_status_callback_event), 13621, 0, 0,
     tw_rec_events},
    {"recordingTrack", A_ENUM, DI(recording_track), 12200, 0, 0, tracks},
    {"answerOnBridge", A_BOOL, DI(answer_on_bridge), 13219, 0, 0, NULL},
    {"ringTone", A_ENUM, DI(ring_tone), 13220, 0, 0, tw_ringtones},
    {"referUrl", A_STR, DI(refer_url), 0, 0, 0, NULL},
    {"referMethod", A_METHOD, DI(refer_method), 0, 0, 0, NULL},
    {"sequential", A_BOOL, DI(sequential), 13218, 0, 0, NULL},
    {"callReason", A_STR, DI(call_reason), 12200, 0, 50, NULL},
    {"recordingConfigurationId", A_STR, DI(recording_configuration_id), 0, 0, 0, NULL},
    {"events", A_STR, DI(events), 0, 0, 0, NULL},
    END_SPEC,
};

#define RE(f) offsetof(twiml_record, f)
static const tw_attr_spec record_spec[] = {
    {"action", A_STR, RE(action), 0, 0, 0, NULL},
    {"method", A_METHOD, RE(method), 0, 0, 0, NULL},
    {"timeout", A_INT, RE(timeout), 13611, 0, INT_MAX, NULL},
    {"finishOnKey", A_KEYS, RE(finish_on_key), 13613, 0, 0, NULL},
    {"maxLength", A_INT, RE(max_length), 13612, 2, 86400, NULL},
    {"playBeep", A_BOOL, RE(play_beep), 13616, 0, 0, NULL},
    {"trim", A_ENUM, RE(trim), 13699, 0, 0, tw_trims},
    {"recordingStatusCallback", A_STR, RE(recording_status_callback), 0, 0, 0, NULL},
    {"recordingStatusCallbackMethod", A_METHOD, RE(recording_status_callback_method), 0, 0, 0,
     NULL},
    {"recordingStatusCallbackEvent", A_EVENTS, RE(recording_status_callback_event), 13621, 0, 0,
     tw_rec_events},
    {"transcribe", A_BOOL, RE(transcribe), 13614, 0, 0, NULL},
    {"transcribeCallback", A_STR, RE(transcribe_callback), 0, 0, 0, NULL},
    {"recordingConfigurationId", A_STR, RE(recording_configuration_id), 0, 0, 0, NULL},
    END_SPEC,
};

static const tw_attr_spec redirect_spec[] = {
    {"method", A_METHOD, offsetof(twiml_redirect, method), 0, 0, 0, NULL},
    END_SPEC,
};

static const tw_attr_spec reject_spec[] = {
    {"reason", A_ENUM, offsetof(twiml_reject, reason), 13810, 0, 0, reasons},
    END_SPEC,
};

static const tw_attr_spec refer_spec[] = {
    {"action", A_STR, offsetof(twiml_refer, action), 0, 0, 0, NULL},
    {"method", A_METHOD, offsetof(twiml_refer, method), 0, 0, 0, NULL},
    END_SPEC,
};

#define EN(f) offsetof(twiml_enqueue, f)
static const tw_attr_spec enqueue_spec[] = {
    {"action", A_STR, EN(action), 0, 0, 0, NULL},
    {"method", A_METHOD, EN(method), 0, 0, 0, NULL},
    {"waitUrl", A_STR, EN(wait_url), 0, 0, 0, NULL},
    {"waitUrlMethod", A_METHOD, EN(wait_url_method), 14206, 0, 0, NULL},
    {"workflowSid", A_STR, EN(workflow_sid), 14220, 0, 64, NULL},
    END_SPEC,
};

static const tw_attr_spec task_spec[] = {
    {"priority", A_INT, EN(task_priority), 12200, 0, INT_MAX, NULL},
    {"timeout", A_INT, EN(task_timeout), 12200, 1, INT_MAX, NULL},
    END_SPEC,
};

static const tw_attr_spec no_spec[] = {END_SPEC};

static int method_code(twiml_kind k)
{
	switch (k) {
	case TWIML_DIAL:
		return 13210;
	case TWIML_GATHER:
		return 13312;
	case TWIML_RECORD:
		return 13610;
	case TWIML_REDIRECT:
		return 13710;
	case TWIML_ENQUEUE:
		return 14201;
	default:
		return 12200;
	}
}

static int start_generic(tw_parser *p, twiml_node *n, const char *name, const char **atts)
{
	n->line = tw_line(p);
	if (tw_set_str(p, &n->name, name))
		return -1;
	return tw_copy_attrs(p, &n->attrs, &n->n_attrs, atts);
}

int tw_verb_start(tw_parser *p, twiml_verb *v, int in_gather, const char **atts)
{
	const char *name = twiml_verb_name(v->kind);
	const tw_attr_spec *spec = no_spec;
	void *base = &v->u;

	switch (v->kind) {
	case TWIML_SAY:
		v->u.say.loop = 1;
		spec = in_gather ? gather_say_spec : say_spec;
		break;
	case TWIML_PLAY:
		v->u.play.loop = 1;
		spec = play_spec;
		break;
	case TWIML_PAUSE:
		v->u.pause.length = 1;
		spec = pause_spec;
		break;
	case TWIML_GATHER:
		v->u.gather.input = TWIML_INPUT_DTMF;
		v->u.gather.timeout = 5;
		v->u.gather.speech_timeout = INT_MIN; /* unset: timeout */
		v->u.gather.profanity_filter = true;
		v->u.gather.barge_in = true;
		v->u.gather.max_speech_time = 60;
		spec = gather_spec;
		break;
	case TWIML_DIAL:
		v->u.dial.timeout = 30;
		v->u.dial.time_limit = 14400;
		v->u.dial.recording_status_callback_event = TWIML_REC_EV_COMPLETED;
		spec = dial_spec;
		break;
	case TWIML_RECORD:
		v->u.record.timeout = 5;
		v->u.record.max_length = -1; /* unset: 3600, or 120 transcribing */
		v->u.record.play_beep = true;
		v->u.record.trim = TWIML_TRIM_SILENCE;
		v->u.record.recording_status_callback_event = TWIML_REC_EV_COMPLETED;
		spec = record_spec;
		break;
	case TWIML_REDIRECT:
		spec = redirect_spec;
		break;
	case TWIML_REJECT:
		spec = reject_spec;
		break;
	case TWIML_REFER:
		spec = refer_spec;
		break;
	case TWIML_ENQUEUE:
		v->u.enqueue.task_priority = -1;
		v->u.enqueue.task_timeout = -1;
		spec = enqueue_spec;
		break;
	case TWIML_HANGUP:
	case TWIML_LEAVE:
		break;
	default:
		return start_generic(p, &v->u.generic, name, atts);
	}
	if (tw_apply_attrs(p, name, spec, base, atts, method_code(v->kind)))
		return -1;
	if (v->kind == TWIML_PLAY && in_gather && v->u.play.digits)
		return tw_fail(p, 13320, "Gather: <Play digits> cannot be nested in <Gather>");
	return 0;
}

int tw_task_start(tw_parser *p, twiml_enqueue *e, const char **atts)
{
	if (tw_set_str(p, &e->task, ""))
		return -1;
	return tw_apply_attrs(p, "Task", task_spec, e, atts, 12200);
}

static int say_end(tw_parser *p, twiml_say *s, const tw_buf *text)
{
	if (!(s->text = tw_buf_take(text, 1)))
		return tw_fail(p, TW_OOM, "out of memory");
	if (!*s->text && tw_warn(p, 13520, "Say: empty text"))
		return -1;
	if (strlen(s->text) > SAY_LIMIT &&
	    tw_warn(p, 13521, "Say: text longer than %d characters", SAY_LIMIT))
		return -1;
	if (!s->language && tw_set_str(p, &s->language, "en-US"))
		return -1;
	return 0;
}

/* Text content as a malloc'd trimmed string, NULL when empty; -1 on OOM. */
static int take_text(tw_parser *p, const tw_buf *text, char **dst)
{
	char *t = tw_buf_take(text, 0);

	if (!t)
		return tw_fail(p, TW_OOM, "out of memory");
	if (!*t) {
		tw_free(t);
		t = NULL;
	}
	*dst = t;
	return 0;
}

static int gather_end(tw_parser *p, twiml_gather *g)
{
	if (g->speech_timeout == INT_MIN)
		g->speech_timeout = g->timeout;
	if (!g->finish_on_key && tw_set_str(p, &g->finish_on_key, "#"))
		return -1;
	if (!g->language && tw_set_str(p, &g->language, "en-US"))
		return -1;
	return 0;
}

static int record_end(tw_parser *p, twiml_record *r)
{
	if (r->max_length < 0)
		r->max_length = r->transcribe ? 120 : 3600;
	else if (r->transcribe && r->max_length > 120)
		return tw_fail(p, 13615,
		               "Record: maxLength %d too high for transcription (max 120)",
		               r->max_length);
	if (!r->finish_on_key && tw_set_str(p, &r->finish_on_key, "1234567890*#"))
		return -1;
	return 0;
}

static int enqueue_end(tw_parser *p, twiml_enqueue *e, const tw_buf *text)
{
	if (!(e->name = tw_buf_take(text, 0)))
		return tw_fail(p, TW_OOM, "out of memory");
	if (strlen(e->name) > 64)
		return tw_fail(p, 14205, "Enqueue: queue name longer than 64 characters");
	if (!*e->name && !e->workflow_sid)
		return tw_fail(p, 14204, "Enqueue: queue name missing");
	return 0;
}

int tw_verb_end(tw_parser *p, twiml_verb *v, int in_gather, const tw_buf *text)
{
	(void)in_gather;
	switch (v->kind) {
	case TWIML_SAY:
		return say_end(p, &v->u.say, text);
	case TWIML_PLAY:
		if (take_text(p, text, &v->u.play.url))
			return -1;
		if (!v->u.play.url && !v->u.play.digits)
			return tw_fail(p, 12200, "Play: no URL");
		return 0;
	case TWIML_REDIRECT:
		if (take_text(p, text, &v->u.redirect.url))
			return -1;
		if (!v->u.redirect.url)
			return tw_fail(p, 12200, "Redirect: no URL");
		return 0;
	case TWIML_GATHER:
		return gather_end(p, &v->u.gather);
	case TWIML_RECORD:
		return record_end(p, &v->u.record);
	case TWIML_DIAL:
		return tw_dial_end(p, &v->u.dial, text);
	case TWIML_REFER:
		if (!v->u.refer.target)
			return tw_fail(p, 12200, "Refer: a nested <Sip> is required");
		return 0;
	case TWIML_ENQUEUE:
		return enqueue_end(p, &v->u.enqueue, text);
	case TWIML_PAUSE:
	case TWIML_REJECT:
	case TWIML_HANGUP:
	case TWIML_LEAVE:
		return 0;
	default:
		return take_text(p, text, &v->u.generic.text);
	}
}
