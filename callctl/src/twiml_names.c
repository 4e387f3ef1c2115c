/* twiml_names.c — names of the TwiML vocabulary: verb and noun element
 * names and their kinds, Dial ringTone codes, methods, and the lookup of a
 * generic node's attribute. */
#include <string.h>
#include "twiml_int.h"

static const char *const verb_names[TWIML_KIND_COUNT] = {
    [TWIML_SAY] = "Say",           [TWIML_PLAY] = "Play",       [TWIML_PAUSE] = "Pause",
    [TWIML_GATHER] = "Gather",     [TWIML_DIAL] = "Dial",       [TWIML_RECORD] = "Record",
    [TWIML_REDIRECT] = "Redirect", [TWIML_REJECT] = "Reject",   [TWIML_HANGUP] = "Hangup",
    [TWIML_REFER] = "Refer",       [TWIML_ENQUEUE] = "Enqueue", [TWIML_LEAVE] = "Leave",
    [TWIML_CONNECT] = "Connect",   [TWIML_START] = "Start",     [TWIML_STOP] = "Stop",
    [TWIML_PAY] = "Pay",           [TWIML_PROMPT] = "Prompt",   [TWIML_SMS] = "Sms",
    [TWIML_ECHO] = "Echo",
};

static const char *const noun_names[TWIML_NOUN_KIND_COUNT] = {
    [TWIML_NOUN_NUMBER] = "Number",     [TWIML_NOUN_CLIENT] = "Client",
    [TWIML_NOUN_SIP] = "Sip",           [TWIML_NOUN_CONFERENCE] = "Conference",
    [TWIML_NOUN_QUEUE] = "Queue",       [TWIML_NOUN_APPLICATION] = "Application",
    [TWIML_NOUN_WHATSAPP] = "WhatsApp",
};

/* clang-format off */
const tw_enum tw_ringtones[] = {
	{"at", TWIML_RING_AT}, {"au", TWIML_RING_AU}, {"bg", TWIML_RING_BG},
	{"br", TWIML_RING_BR}, {"be", TWIML_RING_BE}, {"ch", TWIML_RING_CH},
	{"cl", TWIML_RING_CL}, {"cn", TWIML_RING_CN}, {"cz", TWIML_RING_CZ},
	{"de", TWIML_RING_DE}, {"dk", TWIML_RING_DK}, {"ee", TWIML_RING_EE},
	{"es", TWIML_RING_ES}, {"fi", TWIML_RING_FI}, {"fr", TWIML_RING_FR},
	{"gr", TWIML_RING_GR}, {"hu", TWIML_RING_HU}, {"il", TWIML_RING_IL},
	{"in", TWIML_RING_IN}, {"it", TWIML_RING_IT}, {"lt", TWIML_RING_LT},
	{"jp", TWIML_RING_JP}, {"mx", TWIML_RING_MX}, {"my", TWIML_RING_MY},
	{"nl", TWIML_RING_NL}, {"no", TWIML_RING_NO}, {"nz", TWIML_RING_NZ},
	{"ph", TWIML_RING_PH}, {"pl", TWIML_RING_PL}, {"pt", TWIML_RING_PT},
	{"ru", TWIML_RING_RU}, {"se", TWIML_RING_SE}, {"sg", TWIML_RING_SG},
	{"th", TWIML_RING_TH}, {"uk", TWIML_RING_UK}, {"us", TWIML_RING_US},
	{"us-old", TWIML_RING_US_OLD}, {"tw", TWIML_RING_TW}, {"ve", TWIML_RING_VE},
	{"za", TWIML_RING_ZA}, {NULL, 0},
};
/* clang-format on */

const char *twiml_verb_name(int kind)
{
	if (kind <= TWIML_NONE || kind >= TWIML_KIND_COUNT)
		return "?";
	return verb_names[kind];
}

const char *twiml_noun_name(int kind)
{
	if (kind <= TWIML_NOUN_NONE || kind >= TWIML_NOUN_KIND_COUNT)
		return "?";
	return noun_names[kind];
}

int tw_verb_kind(const char *name)
{
	for (int k = TWIML_NONE + 1; k < TWIML_KIND_COUNT; k++)
		if (!strcmp(verb_names[k], name))
			return k;
	return 0;
}

int tw_noun_kind(const char *name)
{
	for (int k = TWIML_NOUN_NONE + 1; k < TWIML_NOUN_KIND_COUNT; k++)
		if (!strcmp(noun_names[k], name))
			return k;
	return 0;
}

const char *twiml_method_name(twiml_method m)
{
	return m == TWIML_GET ? "GET" : "POST";
}

const char *twiml_ringtone_name(twiml_ringtone r)
{
	for (const tw_enum *e = tw_ringtones; e->name; e++)
		if (e->value == (int)r)
			return e->name;
	return NULL;
}

const char *twiml_attr_get(const twiml_node *n, const char *name)
{
	for (size_t i = 0; n && i < n->n_attrs; i++)
		if (!strcmp(n->attrs[i].name, name))
			return n->attrs[i].value;
	return NULL;
}
