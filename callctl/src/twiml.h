/* twiml.h — TwiML documents: a hardened XML parse (expat; no DOCTYPE, no
 * entities, 64 kB cap) into a typed model of Twilio's Voice vocabulary, with
 * attribute validation, Twilio's error codes and Twilio's defaults.
 *
 * Conventions of the model:
 * - Strings are NUL-terminated malloc'd copies owned by the document, trimmed
 *   of surrounding whitespace. NULL means "attribute absent"; "" means
 *   present but empty (e.g. <Enqueue waitUrl=""> = silence).
 * - URLs are kept as written (relative or absolute); the engine resolves them
 *   against the document URL.
 * - Methods default to POST (TWIML_POST == 0). Booleans accept true/false in
 *   any case. Event lists are bitmasks.
 * - Unknown attributes are ignored (as Twilio does) and recorded as warnings.
 * - Any invalid attribute value or element fails the whole parse with the
 *   verb-specific Twilio error code (see twiml_parse). */
#ifndef FC_TWIML_H
#define FC_TWIML_H
#include <stdbool.h>
#include <stddef.h>

#define TWIML_MAX_DOC 65536       /* larger bodies fail with 11750 */
#define TWIML_MAX_DIAL_TARGETS 10 /* Number/Client/Sip/... nouns in one Dial */
#define TWIML_LOOP_MAX 1000       /* loop="0" plays this many times */
#define TWIML_MAX_WARNINGS 32

typedef struct twiml_error {
	int code; /* Twilio error code, 0 on success */
	int line; /* 1-based line in the document, 0 when not applicable */
	char msg[256];
} twiml_error;

typedef enum twiml_kind {
	TWIML_NONE = 0,
	TWIML_SAY,
	TWIML_PLAY,
	TWIML_PAUSE,
	TWIML_GATHER,
	TWIML_DIAL,
	TWIML_RECORD,
	TWIML_REDIRECT,
	TWIML_REJECT,
	TWIML_HANGUP,
	TWIML_REFER,
	TWIML_ENQUEUE,
	TWIML_LEAVE,
	/* Known but generic (§2.16): kept as a node with attributes/children. */
	TWIML_CONNECT,
	TWIML_START,
	TWIML_STOP,
	TWIML_PAY,
	TWIML_PROMPT,
	TWIML_SMS,
	TWIML_ECHO,
	TWIML_KIND_COUNT
} twiml_kind;

typedef enum twiml_noun_kind {
	TWIML_NOUN_NONE = 0,
	TWIML_NOUN_NUMBER, /* <Number> or the bare text of <Dial> */
	TWIML_NOUN_CLIENT,
	TWIML_NOUN_SIP,
	TWIML_NOUN_CONFERENCE,
	TWIML_NOUN_QUEUE,
	TWIML_NOUN_APPLICATION, /* generic */
	TWIML_NOUN_WHATSAPP,    /* generic */
	TWIML_NOUN_KIND_COUNT
} twiml_noun_kind;

typedef enum twiml_method { TWIML_POST = 0, TWIML_GET = 1 } twiml_method;

/* Call-progress events of Number/Client/Sip statusCallbackEvent. */
enum {
	TWIML_EV_INITIATED = 1 << 0,
	TWIML_EV_RINGING = 1 << 1,
	TWIML_EV_ANSWERED = 1 << 2,
	TWIML_EV_COMPLETED = 1 << 3,
};
/* recordingStatusCallbackEvent. */
enum {
	TWIML_REC_EV_IN_PROGRESS = 1 << 0,
	TWIML_REC_EV_COMPLETED = 1 << 1,
	TWIML_REC_EV_ABSENT = 1 << 2,
};
/* Conference statusCallbackEvent. */
enum {
	TWIML_CONF_EV_START = 1 << 0,
	TWIML_CONF_EV_END = 1 << 1,
	TWIML_CONF_EV_JOIN = 1 << 2,
	TWIML_CONF_EV_LEAVE = 1 << 3,
	TWIML_CONF_EV_MUTE = 1 << 4,
	TWIML_CONF_EV_HOLD = 1 << 5,
	TWIML_CONF_EV_MODIFY = 1 << 6,
	TWIML_CONF_EV_SPEAKER = 1 << 7,
	TWIML_CONF_EV_ANNOUNCEMENT = 1 << 8,
};
/* Gather input. */
enum { TWIML_INPUT_DTMF = 1 << 0, TWIML_INPUT_SPEECH = 1 << 1 };

typedef enum twiml_dial_record {
	TWIML_DIAL_REC_NONE = 0,    /* do-not-record, "false" */
	TWIML_DIAL_REC_FROM_ANSWER, /* record-from-answer, "true" */
	TWIML_DIAL_REC_FROM_RINGING,
	TWIML_DIAL_REC_FROM_ANSWER_DUAL,
	TWIML_DIAL_REC_FROM_RINGING_DUAL,
} twiml_dial_record;

typedef enum twiml_trim { TWIML_TRIM_NONE = 0 /* do-not-trim */, TWIML_TRIM_SILENCE } twiml_trim;
typedef enum twiml_track {
	TWIML_TRACK_BOTH = 0,
	TWIML_TRACK_INBOUND,
	TWIML_TRACK_OUTBOUND
} twiml_track;
typedef enum twiml_reject_reason {
	TWIML_REJECT_REJECTED = 0,
	TWIML_REJECT_BUSY
} twiml_reject_reason;
typedef enum twiml_amd {
	TWIML_AMD_NONE = 0,
	TWIML_AMD_ENABLE,
	TWIML_AMD_DETECT_MESSAGE_END
} twiml_amd;
typedef enum twiml_beep {
	TWIML_BEEP_TRUE = 0,
	TWIML_BEEP_FALSE,
	TWIML_BEEP_ON_ENTER,
	TWIML_BEEP_ON_EXIT
} twiml_beep;
typedef enum twiml_jitter {
	TWIML_JITTER_LARGE = 0,
	TWIML_JITTER_SMALL,
	TWIML_JITTER_MEDIUM,
	TWIML_JITTER_OFF
} twiml_jitter;
typedef enum twiml_conf_record {
	TWIML_CONF_REC_NONE = 0, /* do-not-record */
	TWIML_CONF_REC_FROM_START
} twiml_conf_record;

/* Dial ringTone (§2.1); TWIML_RING_NONE = carrier ringback. */
typedef enum twiml_ringtone {
	TWIML_RING_NONE = 0,
	TWIML_RING_AT,
	TWIML_RING_AU,
	TWIML_RING_BG,
	TWIML_RING_BR,
	TWIML_RING_BE,
	TWIML_RING_CH,
	TWIML_RING_CL,
	TWIML_RING_CN,
	TWIML_RING_CZ,
	TWIML_RING_DE,
	TWIML_RING_DK,
	TWIML_RING_EE,
	TWIML_RING_ES,
	TWIML_RING_FI,
	TWIML_RING_FR,
	TWIML_RING_GR,
	TWIML_RING_HU,
	TWIML_RING_IL,
	TWIML_RING_IN,
	TWIML_RING_IT,
	TWIML_RING_LT,
	TWIML_RING_JP,
	TWIML_RING_MX,
	TWIML_RING_MY,
	TWIML_RING_NL,
	TWIML_RING_NO,
	TWIML_RING_NZ,
	TWIML_RING_PH,
	TWIML_RING_PL,
	TWIML_RING_PT,
	TWIML_RING_RU,
	TWIML_RING_SE,
	TWIML_RING_SG,
	TWIML_RING_TH,
	TWIML_RING_UK,
	TWIML_RING_US,
	TWIML_RING_US_OLD,
	TWIML_RING_TW,
	TWIML_RING_VE,
	TWIML_RING_ZA,
	TWIML_RING_COUNT
} twiml_ringtone;

#define TWIML_SPEECH_TIMEOUT_AUTO (-1)

/* Attribute bag entry (generic elements, Client <Parameter>). */
typedef struct twiml_attr {
	char *name;
	char *value;
} twiml_attr;

/* A generic element: §2.16 verbs, <Application>/<WhatsApp> nouns and all
 * their descendants. Attributes and text are kept verbatim (text trimmed). */
typedef struct twiml_node {
	char *name;
	int line;
	twiml_attr *attrs;
	size_t n_attrs;
	char *text; /* NULL when the element has no text */
	struct twiml_node *children;
	size_t n_children;
} twiml_node;

/* Options shared by the <Number>, <Client> and <Sip> legs. */
typedef struct twiml_leg {
	char *url; /* screening TwiML run on the callee before bridging */
	twiml_method method;
	char *status_callback;
	twiml_method status_callback_method;
	unsigned status_callback_event; /* TWIML_EV_*; COMPLETED when only a
	                                   statusCallback is given */
} twiml_leg;

/* Answering-machine detection (Number, Sip). */
typedef struct twiml_amd_opts {
	twiml_amd mode;           /* machineDetection, NONE when absent */
	int timeout;              /* 3..60, default 30 */
	int speech_threshold;     /* 1000..6000, default 2400 */
	int speech_end_threshold; /* 500..5000, default 1200 */
	int silence_timeout;      /* 2000..10000, default 5000 */
	char *status_callback;    /* amdStatusCallback */
	twiml_method status_callback_method;
} twiml_amd_opts;

typedef struct twiml_number {
	char *number;      /* as written (not normalised), non-empty */
	bool bare;         /* plain text inside <Dial> rather than <Number> */
	char *send_digits; /* 0-9 A-D * # w W */
	char *byoc;
	twiml_leg leg;
	twiml_amd_opts amd;
} twiml_number;

typedef struct twiml_client {
	char *identity;     /* text or <Identity>, 1..256 chars */
	twiml_attr *params; /* <Parameter name value>, in order */
	size_t n_params;
	char *client_notification_url;
	twiml_leg leg;
} twiml_client;

typedef struct twiml_sip {
	char *uri; /* sip:/sips: URI, entities decoded, with ?headers */
	char *username;
	char *password;
	twiml_leg leg;
	twiml_amd_opts amd;
} twiml_sip;

typedef struct twiml_conference {
	char *name;
	bool muted;                      /* false */
	twiml_beep beep;                 /* true */
	bool start_conference_on_enter;  /* true */
	bool end_conference_on_exit;     /* false */
	char *participant_label;         /* <= 128 chars, no '/' */
	twiml_jitter jitter_buffer_size; /* large */
	char *wait_url;                  /* NULL = default music, "" = silence */
	twiml_method wait_method;
	int max_participants; /* 2..250, default 250 */
	twiml_conf_record record;
	char *region;    /* us1 ie1 de1 sg1 br1 au1 jp1, NULL = default */
	twiml_trim trim; /* trim-silence */
	char *coach;
	unsigned status_callback_event; /* TWIML_CONF_EV_*, 0 when absent */
	char *status_callback;
	twiml_method status_callback_method;
	char *recording_status_callback;
	twiml_method recording_status_callback_method;
	unsigned recording_status_callback_event; /* TWIML_REC_EV_*, COMPLETED */
	char *event_callback_url;
	char *recording_configuration_id;
} twiml_conference;

typedef struct twiml_queue {
	char *name; /* 1..64 chars */
	char *url;  /* TwiML played to the dequeued caller */
	twiml_method method;
	char *reservation_sid;
	char *post_work_activity_sid;
} twiml_queue;

typedef struct twiml_noun {
	twiml_noun_kind kind;
	int line;
	union {
		twiml_number number;
		twiml_client client;
		twiml_sip sip;
		twiml_conference conference;
		twiml_queue queue;
		twiml_node generic; /* APPLICATION, WHATSAPP */
	} u;
} twiml_noun;

typedef struct twiml_dial {
	char *action; /* NULL: continue with the next verb */
	twiml_method method;
	int timeout;    /* 30; out-of-range values clamped to 5..600 */
	int time_limit; /* 14400; 1..86400 */
	bool hangup_on_star;
	char *caller_id;
	twiml_dial_record record;
	twiml_trim trim; /* do-not-trim */
	char *recording_status_callback;
	twiml_method recording_status_callback_method;
	unsigned recording_status_callback_event; /* TWIML_REC_EV_*, COMPLETED */
	twiml_track recording_track;              /* both */
	bool answer_on_bridge;
	twiml_ringtone ring_tone;
	char *refer_url;
	twiml_method refer_method;
	bool sequential;
	char *call_reason; /* <= 50 chars */
	char *recording_configuration_id;
	char *events; /* lib-only "call-progress-event", verbatim */
	/* Either 1..10 Number/Client/Sip/Application/WhatsApp nouns, or exactly
	 * one Conference, or exactly one Queue. Never empty. */
	twiml_noun *nouns;
	size_t n_nouns;
} twiml_dial;

typedef struct twiml_say {
	char *text;     /* text content incl. SSML children's text; whitespace runs
	                   collapsed; may be "" (warning 13520) */
	bool ssml;      /* the element had SSML children (tags dropped) */
	char *voice;    /* NULL: account default (Twilio's table: "man") */
	char *language; /* "en-US" */
	int loop;       /* 1; loop="0" gives TWIML_LOOP_MAX */
} twiml_say;

typedef struct twiml_play {
	char *url;    /* NULL when only digits are played */
	char *digits; /* NULL or DTMF 0-9 A-D * # w W */
	int loop;     /* 1; loop="0" gives TWIML_LOOP_MAX */
} twiml_play;

typedef struct twiml_pause {
	int length; /* seconds, >= 1, default 1 */
} twiml_pause;

struct twiml_verb;

typedef struct twiml_gather {
	char *action; /* NULL: the current document URL */
	twiml_method method;
	unsigned input;      /* TWIML_INPUT_*, default DTMF */
	int timeout;         /* 5 */
	char *finish_on_key; /* "#" default; "" disables; else one of 0-9 * # */
	int num_digits;      /* 0 = unlimited */
	int speech_timeout;  /* seconds or TWIML_SPEECH_TIMEOUT_AUTO; default timeout */
	bool action_on_empty_result;
	char *language; /* "en-US" */
	char *hints;
	char *speech_model;
	bool profanity_filter; /* true */
	bool enhanced;
	char *partial_result_callback;
	twiml_method partial_result_callback_method;
	bool barge_in; /* true */
	bool debug;
	int max_speech_time;      /* 60 (1..60) */
	struct twiml_verb *verbs; /* nested Say/Play/Pause only */
	size_t n_verbs;
} twiml_gather;

typedef struct twiml_record {
	char *action; /* NULL: the current document URL */
	twiml_method method;
	int timeout;         /* 5; 0 disables silence detection */
	char *finish_on_key; /* "1234567890*#"; any set of 0-9 * #, may be "" */
	int max_length;      /* 3600 (120 when transcribing); 2..86400 */
	bool play_beep;      /* true */
	twiml_trim trim;     /* trim-silence */
	char *recording_status_callback;
	twiml_method recording_status_callback_method;
	unsigned recording_status_callback_event; /* TWIML_REC_EV_*, COMPLETED */
	bool transcribe;
	char *transcribe_callback;
	char *recording_configuration_id;
} twiml_record;

typedef struct twiml_redirect {
	char *url; /* non-empty */
	twiml_method method;
} twiml_redirect;

typedef struct twiml_reject {
	twiml_reject_reason reason;
} twiml_reject;

typedef struct twiml_refer {
	char *action;
	twiml_method method;
	char *target; /* the nested <Sip> URI (sip:, sips: or tel:), with ?headers */
} twiml_refer;

typedef struct twiml_enqueue {
	char *name; /* <= 64 chars; "" only with workflowSid */
	char *action;
	twiml_method method;
	char *wait_url; /* NULL = default music, "" = silence */
	twiml_method wait_url_method;
	char *workflow_sid;
	char *task;        /* <Task> JSON text, NULL when absent */
	int task_priority; /* -1 when absent */
	int task_timeout;  /* -1 when absent */
} twiml_enqueue;

typedef struct twiml_verb {
	twiml_kind kind;
	int line;
	union {
		twiml_say say;
		twiml_play play;
		twiml_pause pause;
		twiml_gather gather;
		twiml_dial dial;
		twiml_record record;
		twiml_redirect redirect;
		twiml_reject reject;
		twiml_refer refer;
		twiml_enqueue enqueue;
		twiml_node generic; /* CONNECT .. ECHO; name is the verb name */
	} u;
} twiml_verb;

typedef struct twiml_warning {
	int code; /* 12200 unknown attribute, 13212 clamped timeout, 13520 ... */
	int line;
	char msg[160];
} twiml_warning;

typedef struct twiml_doc {
	twiml_verb *verbs;
	size_t n_verbs;
	twiml_warning *warnings; /* at most TWIML_MAX_WARNINGS */
	size_t n_warnings;
	size_t n_warnings_dropped;
	char *src; /* the document as parsed (NUL-terminated): a call's snapshot
	              keeps it so that another instance can go on with it */
	size_t src_len;
} twiml_doc;

/* Parses a TwiML document of len bytes (need not be NUL-terminated).
 * Returns the document, or NULL with *err filled (err may be NULL):
 *   11750 len > TWIML_MAX_DOC
 *   12100 malformed XML (expat's message and line), any DOCTYPE, entities
 *   12102 root element is not <Response>
 *   12200 unknown verb/noun/element, text or children where not allowed,
 *         invalid value of an attribute without a specific code
 *   12400 out of memory
 *   13xxx/14xxx/16023 the verb/noun specific code of an invalid value
 * No external resource is ever read. */
twiml_doc *twiml_parse(const char *xml, size_t len, twiml_error *err);
void twiml_free(twiml_doc *d);

/* "Say", "Dial", ... or "?" for an unknown kind. */
const char *twiml_verb_name(int kind);
/* "Number", "Client", ... or "?". */
const char *twiml_noun_name(int kind);
/* "GET" or "POST". */
const char *twiml_method_name(twiml_method m);
/* "us", "us-old", ... or NULL for TWIML_RING_NONE / out of range. */
const char *twiml_ringtone_name(twiml_ringtone r);
/* First value of attribute name on a generic node, or NULL. */
const char *twiml_attr_get(const twiml_node *n, const char *name);

#endif
