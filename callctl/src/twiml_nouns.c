/* twiml_nouns.c — the nouns of <Dial> (Number, Client, Sip, Conference,
 * Queue, generic Application/WhatsApp): attribute tables, defaults, text
 * checks (phone numbers, SIP URIs and their headers), the noun mix and
 * target limit of a <Dial>, and Client <Parameter>s. */
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include "twiml_int.h"

#define END_SPEC                                                                                   \
	{                                                                                          \
		NULL, 0, 0, 0, 0, 0, NULL                                                          \
	}
#define SIP_URI_MAX 254   /* "< 255 chars" */
#define SIP_HDRS_MAX 1023 /* "< 1024 chars" */

static const tw_enum leg_events[] = {
    {"initiated", TWIML_EV_INITIATED},
    {"ringing", TWIML_EV_RINGING},
    {"answered", TWIML_EV_ANSWERED},
    {"completed", TWIML_EV_COMPLETED},
    {NULL, 0},
};

static const tw_enum amd_modes[] = {
    {"Enable", TWIML_AMD_ENABLE},
    {"DetectMessageEnd", TWIML_AMD_DETECT_MESSAGE_END},
    {NULL, 0},
};

static const tw_enum beeps[] = {
    {"true", TWIML_BEEP_TRUE},
    {"false", TWIML_BEEP_FALSE},
    {"onEnter", TWIML_BEEP_ON_ENTER},
    {"onExit", TWIML_BEEP_ON_EXIT},
    {NULL, 0},
};

static const tw_enum jitters[] = {
    {"large", TWIML_JITTER_LARGE},
    {"small", TWIML_JITTER_SMALL},
    {"medium", TWIML_JITTER_MEDIUM},
    {"off", TWIML_JITTER_OFF},
    {NULL, 0},
};

static const tw_enum conf_records[] = {
    {"do-not-record", TWIML_CONF_REC_NONE},
    {"record-from-start", TWIML_CONF_REC_FROM_START},
    {NULL, 0},
};

static const tw_enum regions[] = {
    {"us1", 1}, {"ie1", 2}, {"de1", 3}, {"sg1", 4}, {"br1", 5}, {"au1", 6}, {"jp1", 7}, {NULL, 0},
};

static const tw_enum conf_events[] = {
    {"start", TWIML_CONF_EV_START},
    {"end", TWIML_CONF_EV_END},
    {"join", TWIML_CONF_EV_JOIN},
    {"leave", TWIML_CONF_EV_LEAVE},
    {"mute", TWIML_CONF_EV_MUTE},
    {"hold", TWIML_CONF_EV_HOLD},
    {"modify", TWIML_CONF_EV_MODIFY},
    {"speaker", TWIML_CONF_EV_SPEAKER},
    {"announcement", TWIML_CONF_EV_ANNOUNCEMENT},
    {NULL, 0},
};

/* Method attributes with code 0 use the noun's method code. */
/* clang-format off */
#define LEG_SPEC(st) \
	{"url", A_STR, offsetof(st, leg.url), 0, 0, 0, NULL}, \
	{"method", A_METHOD, offsetof(st, leg.method), 0, 0, 0, NULL}, \
	{"statusCallback", A_STR, offsetof(st, leg.status_callback), 0, 0, 0, NULL}, \
	{"statusCallbackMethod", A_METHOD, offsetof(st, leg.status_callback_method), 0, 0, 0, \
	 NULL}, \
	{"statusCallbackEvent", A_EVENTS, offsetof(st, leg.status_callback_event), 12200, 0, 0, \
	 leg_events}

#define AMD_SPEC(st) \
	{"machineDetection", A_ENUM, offsetof(st, amd.mode), 12200, 0, 0, amd_modes}, \
	{"machineDetectionTimeout", A_INT, offsetof(st, amd.timeout), 12200, 3, 60, NULL}, \
	{"machineDetectionSpeechThreshold", A_INT, offsetof(st, amd.speech_threshold), 12200, \
	 1000, 6000, NULL}, \
	{"machineDetectionSpeechEndThreshold", A_INT, offsetof(st, amd.speech_end_threshold), \
	 12200, 500, 5000, NULL}, \
	{"machineDetectionSilenceTimeout", A_INT, offsetof(st, amd.silence_timeout), 12200, \
	 2000, 10000, NULL}, \
	{"amdStatusCallback", A_STR, offsetof(st, amd.status_callback), 0, 0, 0, NULL}, \
	{"amdStatusCallbackMethod", A_METHOD, offsetof(st, amd.status_callback_method), 0, 0, 0, \
	 NULL}
/* clang-format on */

static const tw_attr_spec number_spec[] = {
    {"sendDigits", A_DTMF, offsetof(twiml_number, send_digits), 13222, 0, 0, NULL},
    {"byoc", A_STR, offsetof(twiml_number, byoc), 0, 0, 0, NULL},
    LEG_SPEC(twiml_number),
    AMD_SPEC(twiml_number),
    END_SPEC,
};

static const tw_attr_spec client_spec[] = {
    {"clientNotificationUrl", A_STR, offsetof(twiml_client, client_notification_url), 0, 0, 0,
     NULL},
    LEG_SPEC(twiml_client),
    END_SPEC,
};

static const tw_attr_spec sip_spec[] = {
    {"username", A_STR, offsetof(twiml_sip, username), 13249, 0, 255, NULL},
    {"password", A_STR, offsetof(twiml_sip, password), 13249, 0, 255, NULL},
    LEG_SPEC(twiml_sip),
    AMD_SPEC(twiml_sip),
    END_SPEC,
};

#define CO(f) offsetof(twiml_conference, f)
static const tw_attr_spec conference_spec[] = {
    {"muted", A_BOOL, CO(muted), 13230, 0, 0, NULL},
    {"beep", A_ENUM, CO(beep), 13235, 0, 0, beeps},
    {"startConferenceOnEnter", A_BOOL, CO(start_conference_on_enter), 13232, 0, 0, NULL},
    {"endConferenceOnExit", A_BOOL, CO(end_conference_on_exit), 13231, 0, 0, NULL},
    {"participantLabel", A_STR, CO(participant_label), 16023, 0, 128, NULL},
    {"jitterBufferSize", A_ENUM, CO(jitter_buffer_size), 12200, 0, 0, jitters},
    {"waitUrl", A_STR, CO(wait_url), 13233, 0, 0, NULL},
    {"waitMethod", A_METHOD, CO(wait_method), 13234, 0, 0, NULL},
    {"maxParticipants", A_INT, CO(max_participants), 12200, 2, 250, NULL},
    {"record", A_ENUM, CO(record), 12200, 0, 0, conf_records},
    {"region", A_STRSET, CO(region), 12200, 0, 0, regions},
    {"trim", A_ENUM, CO(trim), 13239, 0, 0, tw_trims},
    {"coach", A_STR, CO(coach), 0, 0, 0, NULL},
    {"statusCallbackEvent", A_EVENTS, CO(status_callback_event), 12200, 0, 0, conf_events},
    {"statusCallback", A_STR, CO(status_callback), 0, 0, 0, NULL},
    {"statusCallbackMethod", A_METHOD, CO(status_callback_method), 0, 0, 0, NULL},
    {"recordingStatusCallback", A_STR, CO(recording_status_callback), 0, 0, 0, NULL},
    {"recordingStatusCallbackMethod", A_METHOD, CO(recording_status_callback_method), 0, 0, 0,
     NULL},
    {"recordingStatusCallbackEvent", A_EVENTS, CO(recording_status_callback_event), 13621, 0, 0,
     tw_rec_events},
    {"eventCallbackUrl", A_STR, CO(event_callback_url), 0, 0, 0, NULL},
    {"recordingConfigurationId", A_STR, CO(recording_configuration_id), 0, 0, 0, NULL},
    END_SPEC,
};

static const tw_attr_spec queue_spec[] = {
    {"url", A_STR, offsetof(twiml_queue, url), 14211, 0, 0, NULL},
    {"method", A_METHOD, offsetof(twiml_queue, method), 0, 0, 0, NULL},
    {"reservationSid", A_STR, offsetof(twiml_queue, reservation_sid), 14215, 0, 64, NULL},
    {"postWorkActivitySid", A_STR, offsetof(twiml_queue, post_work_activity_sid), 14216, 0, 64,
     NULL},
    END_SPEC,
};

static void amd_defaults(twiml_amd_opts *a)
{
	a->timeout = 30;
	a->speech_threshold = 2400;
	a->speech_end_threshold = 1200;
	a->silence_timeout = 5000;
}

static int is_target(twiml_noun_kind k)
{
	return k != TWIML_NOUN_CONFERENCE && k != TWIML_NOUN_QUEUE;
}

twiml_noun *tw_dial_add(tw_parser *p, twiml_dial *d, twiml_noun_kind k)
{
	size_t targets = 0;

	for (size_t i = 0; i < d->n_nouns; i++) {
		twiml_noun_kind o = d->nouns[i].kind;
		if (!is_target(o) || !is_target(k)) {
			tw_fail(p, 13215, "Dial: <%s> must be the only noun of a <Dial>",
			        twiml_noun_name(is_target(k) ? o : k));
			return NULL;
		}
		targets++;
	}
	if (targets >= TWIML_MAX_DIAL_TARGETS) {
		tw_fail(p, 13250, "Dial: too many nouns (max %d)", TWIML_MAX_DIAL_TARGETS);
		return NULL;
	}
	twiml_noun *a = tw_grow(d->nouns, d->n_nouns, sizeof *a);
	if (!a) {
		tw_fail(p, TW_OOM, "out of memory");
		return NULL;
	}
	d->nouns = a;
	a += d->n_nouns++;
	a->kind = k;
	a->line = tw_line(p);
	return a;
}

int tw_noun_start(tw_parser *p, twiml_noun *n, const char **atts)
{
	const char *name = twiml_noun_name(n->kind);
	twiml_conference *c = &n->u.conference;

	switch (n->kind) {
	case TWIML_NOUN_NUMBER:
		amd_defaults(&n->u.number.amd);
		return tw_apply_attrs(p, "Number", number_spec, &n->u.number, atts, 13221);
	case TWIML_NOUN_CLIENT:
		return tw_apply_attrs(p, "Client", client_spec, &n->u.client, atts, 12200);
	case TWIML_NOUN_SIP:
		amd_defaults(&n->u.sip.amd);
		return tw_apply_attrs(p, "Sip", sip_spec, &n->u.sip, atts, 13241);
	case TWIML_NOUN_CONFERENCE:
		c->beep = TWIML_BEEP_TRUE;
		c->start_conference_on_enter = true;
		c->max_participants = 250;
		c->trim = TWIML_TRIM_SILENCE;
		c->recording_status_callback_event = TWIML_REC_EV_COMPLETED;
		return tw_apply_attrs(p, "Conference", conference_spec, c, atts, 12200);
	case TWIML_NOUN_QUEUE:
		return tw_apply_attrs(p, "Queue", queue_spec, &n->u.queue, atts, 14210);
	default:
		n->u.generic.line = n->line;
		if (tw_set_str(p, &n->u.generic.name, name))
			return -1;
		return tw_copy_attrs(p, &n->u.generic.attrs, &n->u.generic.n_attrs, atts);
	}
}

int tw_param_start(tw_parser *p, twiml_client *c, const char **atts)
{
	const char *name = NULL, *value = "";

	for (size_t i = 0; atts && atts[i]; i += 2) {
		if (!strcmp(atts[i], "name"))
			name = atts[i + 1];
		else if (!strcmp(atts[i], "value"))
			value = atts[i + 1];
		else if (tw_warn(p, 12200, "Parameter: unknown attribute '%.40s' ignored", atts[i]))
			return -1;
	}
	if (!name || !*name)
		return tw_fail(p, 12200, "Client: <Parameter> without a name");
	twiml_attr *a = tw_grow(c->params, c->n_params, sizeof *a);
	if (!a)
		return tw_fail(p, TW_OOM, "out of memory");
	c->params = a;
	a += c->n_params++;
	if (tw_set_str(p, &a->name, name) || tw_set_str(p, &a->value, value))
		return -1;
	return 0;
}

static void leg_defaults(twiml_leg *l)
{
	if (l->status_callback && !l->status_callback_event)
		l->status_callback_event = TWIML_EV_COMPLETED;
}

/* Digits and the usual separators; at least one digit. */
static int valid_number(const char *s)
{
	int digits = 0;

	if (strlen(s) > 64)
		return 0;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (!strchr("+-(). *#", *s))
			return 0;
	}
	return digits > 0;
}

static int check_number(tw_parser *p, const char *num)
{
	if (!valid_number(num))
		return tw_fail(p, 13223, "Dial: invalid phone number format '%.40s'", num);
	return 0;
}

static int is_token(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

static int check_headers(tw_parser *p, const char *h, const char *what)
{
	if (strlen(h) > SIP_HDRS_MAX)
		return tw_fail(p, 13253, "%s: SIP headers longer than %d characters", what,
		               SIP_HDRS_MAX);
	while (*h) {
		size_t n = strcspn(h, "&");
		size_t k = 0;
		while (k < n && is_token((unsigned char)h[k]))
			k++;
		if (n && (k == 0 || k == n || h[k] != '='))
			return tw_fail(p, 13252, "%s: invalid SIP header '%.*s'", what,
			               (int)(n > 40 ? 40 : n), h);
		h += n;
		if (*h == '&')
			h++;
	}
	return 0;
}

int tw_valid_sip_uri(tw_parser *p, const char *uri, int allow_tel, const char *what)
{
	size_t skip;

	if (!strncasecmp(uri, "sip:", 4))
		skip = 4;
	else if (!strncasecmp(uri, "sips:", 5))
		skip = 5;
	else if (allow_tel && !strncasecmp(uri, "tel:", 4))
		skip = 4;
	else
		return tw_fail(p, 13243, "%s: invalid SIP URI '%.60s'", what, uri);
	if (!tw_valid_nows(uri))
		return tw_fail(p, 13243, "%s: SIP URI contains whitespace or control characters",
		               what);
	const char *q = strchr(uri, '?');
	size_t base = q ? (size_t)(q - uri) : strlen(uri);
	if (base <= skip || uri[skip] == '?')
		return tw_fail(p, 13243, "%s: invalid SIP URI '%.60s'", what, uri);
	if (base > SIP_URI_MAX)
		return tw_fail(p, 13243, "%s: SIP URI longer than %d characters", what,
		               SIP_URI_MAX);
	return q ? check_headers(p, q + 1, what) : 0;
}

static int text_of(tw_parser *p, const tw_buf *text, char **dst)
{
	if (!(*dst = tw_buf_take(text, 0)))
		return tw_fail(p, TW_OOM, "out of memory");
	return 0;
}

static int client_end(tw_parser *p, twiml_client *c, const tw_buf *text)
{
	char *t = tw_buf_take(text, 0);

	if (!t)
		return tw_fail(p, TW_OOM, "out of memory");
	if (*t && c->identity) {
		tw_free(t);
		return tw_fail(p, 12200, "Client: both text and <Identity>");
	}
	if (!c->identity)
		c->identity = t;
	else
		tw_free(t);
	if (!*c->identity)
		return tw_fail(p, 12200, "Client: empty identity");
	if (strlen(c->identity) > 256)
		return tw_fail(p, 12200, "Client: identity longer than 256 characters");
	leg_defaults(&c->leg);
	return 0;
}

static int sip_end(tw_parser *p, twiml_sip *s, const tw_buf *text)
{
	if (text_of(p, text, &s->uri) || tw_valid_sip_uri(p, s->uri, 0, "Dial->Sip"))
		return -1;
	if (s->password && !s->username)
		return tw_fail(p, 13249, "Dial->Sip: password without username");
	leg_defaults(&s->leg);
	return 0;
}

static int looks_like_call_sid(const char *s)
{
	if (strlen(s) != 34 || strncmp(s, "CA", 2))
		return 0;
	for (s += 2; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return 0;
	return 1;
}

static int conference_end(tw_parser *p, twiml_conference *c, const tw_buf *text)
{
	if (text_of(p, text, &c->name))
		return -1;
	if (!*c->name)
		return tw_fail(p, 13237, "Dial->Conference: empty conference name");
	const char *l = c->participant_label;
	if (l && (strchr(l, '/') || looks_like_call_sid(l)))
		return tw_fail(p, 16023,
		               "Dial->Conference: participantLabel must not contain '/' or be a "
		               "CallSid");
	return 0;
}

static int queue_end(tw_parser *p, twiml_queue *q, const tw_buf *text)
{
	if (text_of(p, text, &q->name))
		return -1;
	if (!*q->name)
		return tw_fail(p, 14212, "Dial->Queue: empty queue name");
	if (strlen(q->name) > 64)
		return tw_fail(p, 14213, "Dial->Queue: queue name longer than 64 characters");
	return 0;
}

int tw_noun_end(tw_parser *p, twiml_noun *n, const tw_buf *text)
{
	char *t;

	switch (n->kind) {
	case TWIML_NOUN_NUMBER:
		if (text_of(p, text, &n->u.number.number) || check_number(p, n->u.number.number))
			return -1;
		leg_defaults(&n->u.number.leg);
		return 0;
	case TWIML_NOUN_CLIENT:
		return client_end(p, &n->u.client, text);
	case TWIML_NOUN_SIP:
		return sip_end(p, &n->u.sip, text);
	case TWIML_NOUN_CONFERENCE:
		return conference_end(p, &n->u.conference, text);
	case TWIML_NOUN_QUEUE:
		return queue_end(p, &n->u.queue, text);
	default:
		if (text_of(p, text, &t))
			return -1;
		if (!*t) {
			tw_free(t);
			t = NULL;
		}
		n->u.generic.text = t;
		return 0;
	}
}

/* callerId towards <Sip>: alphanumerics and + - _ . only. */
static int valid_sip_caller_id(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("+-_.", c)))
			return 0;
	}
	return 1;
}

int tw_dial_end(tw_parser *p, twiml_dial *d, const tw_buf *text)
{
	char *t = tw_buf_take(text, 0);

	if (!t)
		return tw_fail(p, TW_OOM, "out of memory");
	if (*t) {
		if (d->n_nouns) {
			tw_free(t);
			return tw_fail(p, 13215, "Dial: text mixed with nested nouns");
		}
		twiml_noun *n = tw_dial_add(p, d, TWIML_NOUN_NUMBER);
		if (!n) {
			tw_free(t);
			return -1;
		}
		n->u.number.number = t;
		n->u.number.bare = true;
		amd_defaults(&n->u.number.amd);
		if (check_number(p, t))
			return -1;
	} else {
		tw_free(t);
		if (!d->n_nouns)
			return tw_fail(p, 13223, "Dial: nothing to dial");
	}
	for (size_t i = 0; d->caller_id && i < d->n_nouns; i++)
		if (d->nouns[i].kind == TWIML_NOUN_SIP && !valid_sip_caller_id(d->caller_id))
			return tw_fail(p, 13214, "Dial: invalid callerId '%.40s' for <Sip>",
			               d->caller_id);
	return 0;
}
