/* twiml_int.h — internals shared by the twiml_*.c files: the parser state,
 * the allocation wrappers (with a fault-injection hook for tests), growable
 * text buffers and the table-driven attribute specifications. */
#ifndef FC_TWIML_INT_H
#define FC_TWIML_INT_H
#include <stddef.h>
#include <expat.h>
#include "twiml.h"

#define TW_MAX_DEPTH 32
#define TW_OOM 12400

/* Allocation. Tests set tw_alloc_budget to N >= 0 so that the N+1th
 * allocation (expat's included) fails; -1 (default) disables. */
extern _Thread_local long tw_alloc_budget;
void *tw_malloc(size_t n);
void *tw_calloc(size_t n, size_t sz);
void *tw_realloc(void *p, size_t n);
void tw_free(void *p);
char *tw_strndup(const char *s, size_t n);
char *tw_strdup(const char *s);
/* Makes room for element n (zeroed) of an array of n elements of size sz
 * whose capacity is the next power of two. Returns the possibly moved
 * array, or NULL (arr intact) when out of memory. */
void *tw_grow(void *arr, size_t n, size_t sz);

typedef struct tw_buf {
	char *p;
	size_t len, cap;
} tw_buf;
int tw_buf_add(tw_buf *b, const char *s, size_t n);
void tw_buf_free(tw_buf *b);
/* malloc'd copy of b's content trimmed of surrounding whitespace; collapse
 * also folds inner whitespace runs into one space. */
char *tw_buf_take(const tw_buf *b, int collapse);
int tw_is_ws(int c);
int tw_all_ws(const char *s, size_t n);

enum {
	FR_RESPONSE = 1,
	FR_VERB,      /* obj: twiml_verb */
	FR_NOUN,      /* obj: twiml_noun */
	FR_SSML,      /* obj: the enclosing twiml_verb (Say) */
	FR_IDENTITY,  /* obj: twiml_client */
	FR_PARAM,     /* obj: twiml_client */
	FR_REFER_SIP, /* obj: twiml_refer */
	FR_TASK,      /* obj: twiml_enqueue */
	FR_GENERIC,   /* obj: twiml_node */
};

typedef struct tw_frame {
	int type;
	int in_gather; /* FR_VERB nested in <Gather> */
	void *obj;
	const char *name; /* element name (expat's storage, valid until end) */
	tw_buf text;      /* own character data */
	tw_buf *textp;    /* where character data goes; NULL: not allowed */
} tw_frame;

typedef struct tw_parser {
	XML_Parser xp;
	twiml_doc *doc;
	twiml_error err;
	int failed;
	int depth;
	tw_frame st[TW_MAX_DEPTH];
} tw_parser;

/* Records the first error and stops expat. Always returns -1. */
int tw_fail(tw_parser *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds a warning to the document (0), or fails with 12400 (-1). */
int tw_warn(tw_parser *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int tw_line(tw_parser *p);

/* Attribute specifications. */
typedef struct tw_enum {
	const char *name;
	int value; /* enum value, or the bit for event lists */
} tw_enum;

enum {
	A_STR = 1,  /* char *, max: length limit (0 none) */
	A_NOWS,     /* char * without whitespace or control characters */
	A_METHOD,   /* twiml_method; code 0: the element's method code */
	A_BOOL,     /* bool */
	A_INT,      /* int in min..max */
	A_CLAMP,    /* int >= 1, clamped to min..max with a warning */
	A_LOOP,     /* int >= 0, 0 and > TWIML_LOOP_MAX give TWIML_LOOP_MAX */
	A_ENUM,     /* int from e (case-insensitive) */
	A_EVENTS,   /* unsigned bitmask from e, space/comma separated; min 1:
	               at least one */
	A_STRSET,   /* char *, one of e's names */
	A_DTMF,     /* char *: 0-9 A-D a-d * # w W */
	A_KEY1,     /* char *: "" or one of 0-9 * # */
	A_KEYS,     /* char *: any of 0-9 * # */
	A_LANG,     /* char *: language tag like en-US */
	A_VOICE,    /* char *: man, woman, alice, Polly.X, Google.X */
	A_STIMEOUT, /* int seconds or "auto" */
	A_HINTS,    /* char *: <= 500 comma-separated entries of <= 100 chars */
};

typedef struct tw_attr_spec {
	const char *name;
	int type;
	size_t off; /* offset of the field in the element's struct */
	int code;   /* error code when invalid */
	long min, max;
	const tw_enum *e;
} tw_attr_spec;

extern const tw_enum tw_ringtones[]; /* twiml_names.c */
extern const tw_enum tw_trims[];     /* twiml_verbs.c */
extern const tw_enum tw_rec_events[];
/* Verb/noun kind of an element name, 0 when unknown. */
int tw_verb_kind(const char *name);
int tw_noun_kind(const char *name);

/* Applies expat's attribute list atts to the struct at base per spec.
 * method_code is used for A_METHOD entries with code 0. Unknown attributes
 * become warnings. 0, or -1 after tw_fail. */
int tw_apply_attrs(tw_parser *p, const char *elem, const tw_attr_spec *spec, void *base,
                   const char **atts, int method_code);
/* Copies all attributes into a bag (generic nodes). 0 / -1. */
int tw_copy_attrs(tw_parser *p, twiml_attr **arr, size_t *n, const char **atts);
int tw_set_str(tw_parser *p, char **dst, const char *s);

/* Value checks used by tables and post-validation (1 = valid). */
int tw_valid_dtmf(const char *s);
int tw_valid_nows(const char *s);

/* Per element (twiml_verbs.c, twiml_nouns.c). start: defaults + attributes;
 * end: text, cross-field checks, string defaults. 0, or -1 after tw_fail. */
int tw_verb_start(tw_parser *p, twiml_verb *v, int in_gather, const char **atts);
int tw_verb_end(tw_parser *p, twiml_verb *v, int in_gather, const tw_buf *text);
int tw_noun_start(tw_parser *p, twiml_noun *n, const char **atts);
int tw_noun_end(tw_parser *p, twiml_noun *n, const tw_buf *text);
/* Adds the bare text of a <Dial> as a Number and checks the noun set. */
int tw_dial_end(tw_parser *p, twiml_dial *d, const tw_buf *text);
int tw_param_start(tw_parser *p, twiml_client *c, const char **atts);
int tw_task_start(tw_parser *p, twiml_enqueue *e, const char **atts);
/* Checks a <Sip> URI (13243 scheme/length/characters, 13253 headers too
 * long, 13252 bad header name); allow_tel also accepts tel: (Refer). */
int tw_valid_sip_uri(tw_parser *p, const char *uri, int allow_tel, const char *what);
/* Appends a noun of kind k to d, enforcing the noun mix (13215) and the
 * target limit (13250). NULL after tw_fail. */
twiml_noun *tw_dial_add(tw_parser *p, twiml_dial *d, twiml_noun_kind k);

/* Frees the contents (not the struct itself). */
void tw_verb_clear(twiml_verb *v);
void tw_noun_clear(twiml_noun *n);
void tw_node_clear(twiml_node *n);

#endif
