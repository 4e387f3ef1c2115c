/* twiml_attrs.c — attribute values of TwiML elements: the typed value
 * parsers (methods, booleans, integers, enums, event lists, DTMF, keys,
 * language tags, voices) and the table-driven application of a spec to a
 * struct, with warnings for unknown attributes. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "twiml_int.h"

/* A_ENUM fields of any enum type are written through an int *: enums must be
 * int-sized (true for GCC and Clang without -fshort-enums). */
_Static_assert(sizeof(twiml_method) == sizeof(int), "enum size");
_Static_assert(sizeof(twiml_dial_record) == sizeof(int), "enum size");
_Static_assert(sizeof(twiml_ringtone) == sizeof(int), "enum size");
_Static_assert(sizeof(twiml_beep) == sizeof(int), "enum size");

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

/* Strict non-negative decimal without sign; -1 when not a number or
 * larger than INT_MAX. */
static int parse_num(const char *s, long *out)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!is_digit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -1;
	}
	*out = v;
	return 0;
}

int tw_valid_dtmf(const char *s)
{
	for (; *s; s++)
		if (!strchr("0123456789*#wWABCDabcd", *s))
			return 0;
	return 1;
}

int tw_valid_nows(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == 0x7f)
			return 0;
	}
	return 1;
}

static int valid_keys(const char *s, size_t max)
{
	if (strlen(s) > max)
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789*#", *s))
			return 0;
	return 1;
}

/* BCP 47-like: 2-3 letters, then "-" subtags of 1-8 alphanumerics. */
static int valid_lang(const char *s)
{
	size_t n = 0;

	while (is_alpha((unsigned char)s[n]))
		n++;
	if (n < 2 || n > 3)
		return 0;
	s += n;
	while (*s == '-') {
		s++;
		n = 0;
		while (is_alnum((unsigned char)s[n]))
			n++;
		if (n < 1 || n > 8)
			return 0;
		s += n;
	}
	return *s == '\0';
}

/* man, woman, alice (any case; rewritten lowercase), Polly.X or Google.X. */
static int valid_voice(char *s)
{
	static const char *const plain[] = {"man", "woman", "alice", NULL};
	static const char *const prov[] = {"Polly.", "Google.", NULL};

	for (int i = 0; plain[i]; i++)
		if (!strcasecmp(s, plain[i])) {
			memcpy(s, plain[i], strlen(plain[i]));
			return 1;
		}
	for (int i = 0; prov[i]; i++) {
		size_t n = strlen(prov[i]);
		if (strncasecmp(s, prov[i], n))
			continue;
		memcpy(s, prov[i], n);
		s += n;
		if (!*s || strlen(s) > 64)
			return 0;
		for (; *s; s++)
			if (!is_alnum((unsigned char)*s) && !strchr("-_.", *s))
				return 0;
		return 1;
	}
	return 0;
}

static int valid_hints(const char *s)
{
	size_t entries = 0;

	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		size_t i = 0, j = n;
		while (i < j && tw_is_ws((unsigned char)s[i]))
			i++;
		while (j > i && tw_is_ws((unsigned char)s[j - 1]))
			j--;
		if (j - i > 100 || ++entries > 500)
			return 0;
		s += n;
		if (*s == ',')
			s++;
	}
	return 1;
}

static const tw_enum *find_enum(const tw_enum *e, const char *s, size_t n)
{
	for (; e && e->name; e++)
		if (strlen(e->name) == n && !strncasecmp(e->name, s, n))
			return e;
	return NULL;
}

/* Space- or comma-separated tokens of e; -1 on an unknown token. */
static int parse_events(const tw_enum *e, const char *s, unsigned *out)
{
	unsigned bits = 0;

	while (*s) {
		while (*s == ',' || tw_is_ws((unsigned char)*s))
			s++;
		size_t n = 0;
		while (s[n] && s[n] != ',' && !tw_is_ws((unsigned char)s[n]))
			n++;
		if (!n)
			break;
		const tw_enum *m = find_enum(e, s, n);
		if (!m)
			return -1;
		bits |= (unsigned)m->value;
		s += n;
	}
	*out = bits;
	return 0;
}

int tw_set_str(tw_parser *p, char **dst, const char *s)
{
	char *d = tw_strdup(s);

	if (!d)
		return tw_fail(p, TW_OOM, "out of memory");
	tw_free(*dst);
	*dst = d;
	return 0;
}

static int bad(tw_parser *p, const char *elem, const tw_attr_spec *s, int code, const char *v)
{
	return tw_fail(p, code, "%s: invalid %s value '%.60s'", elem, s->name, v);
}

/* Applies one value; takes ownership of *v for string fields (sets it NULL). */
static int apply_one(tw_parser *p, const char *elem, const tw_attr_spec *s, void *base, char **v,
                     int method_code)
{
	void *f = (char *)base + s->off;
	const char *val = *v;
	long n = 0;
	unsigned bits;
	const tw_enum *m;

	switch (s->type) {
	case A_NOWS:
		if (!tw_valid_nows(val))
			return bad(p, elem, s, s->code, val);
		/* fall through */
	case A_STR:
		if (s->max && strlen(val) > (size_t)s->max)
			return tw_fail(p, s->code, "%s: %s longer than %ld characters", elem,
			               s->name, s->max);
		break;
	case A_METHOD:
		if (!strcasecmp(val, "GET"))
			*(twiml_method *)f = TWIML_GET;
		else if (!strcasecmp(val, "POST"))
			*(twiml_method *)f = TWIML_POST;
		else
			return bad(p, elem, s, s->code ? s->code : method_code, val);
		return 0;
	case A_BOOL:
		if (!strcasecmp(val, "true"))
			*(bool *)f = true;
		else if (!strcasecmp(val, "false"))
			*(bool *)f = false;
		else
			return bad(p, elem, s, s->code, val);
		return 0;
	case A_INT:
		if (parse_num(val, &n) || n < s->min || n > s->max)
			return bad(p, elem, s, s->code, val);
		*(int *)f = (int)n;
		return 0;
	case A_CLAMP:
		if (parse_num(val, &n) || n < 1)
			return bad(p, elem, s, s->code, val);
		if (n < s->min || n > s->max) {
			long c = n < s->min ? s->min : s->max;
			if (tw_warn(p, s->code, "%s: %s %ld out of %ld..%ld, using %ld", elem,
			            s->name, n, s->min, s->max, c))
				return -1;
			n = c;
		}
		*(int *)f = (int)n;
		return 0;
	case A_LOOP:
		if (parse_num(val, &n))
			return bad(p, elem, s, s->code, val);
		if (n > TWIML_LOOP_MAX &&
		    tw_warn(p, s->code, "%s: loop %ld capped at %d", elem, n, TWIML_LOOP_MAX))
			return -1;
		*(int *)f = n == 0 || n > TWIML_LOOP_MAX ? TWIML_LOOP_MAX : (int)n;
		return 0;
	case A_ENUM:
		if (!(m = find_enum(s->e, val, strlen(val))))
			return bad(p, elem, s, s->code, val);
		*(int *)f = m->value;
		return 0;
	case A_EVENTS:
		if (parse_events(s->e, val, &bits) || (s->min && !bits))
			return bad(p, elem, s, s->code, val);
		*(unsigned *)f = bits;
		return 0;
	case A_STRSET:
		if (!(m = find_enum(s->e, val, strlen(val))))
			return bad(p, elem, s, s->code, val);
		memcpy(*v, m->name, strlen(m->name)); /* canonical case */
		break;
	case A_DTMF:
		if (!tw_valid_dtmf(val))
			return bad(p, elem, s, s->code, val);
		break;
	case A_KEY1:
		if (!valid_keys(val, 1))
			return bad(p, elem, s, s->code, val);
		break;
	case A_KEYS:
		if (!valid_keys(val, 12))
			return bad(p, elem, s, s->code, val);
		break;
	case A_LANG:
		if (!valid_lang(val))
			return bad(p, elem, s, s->code, val);
		break;
	case A_VOICE:
		if (!valid_voice(*v))
			return bad(p, elem, s, s->code, val);
		break;
	case A_STIMEOUT:
		if (!strcasecmp(val, "auto"))
			n = TWIML_SPEECH_TIMEOUT_AUTO;
		else if (parse_num(val, &n))
			return bad(p, elem, s, s->code, val);
		*(int *)f = (int)n;
		return 0;
	case A_HINTS:
		if (!valid_hints(val))
			return bad(p, elem, s, s->code, val);
		break;
	default:
		return tw_fail(p, 12400, "%s: internal error (attribute type)", elem);
	}
	/* String field: take ownership. */
	tw_free(*(char **)f);
	*(char **)f = *v;
	*v = NULL;
	return 0;
}

static char *dup_trimmed(const char *s)
{
	size_t i = 0, j = strlen(s);

	while (i < j && tw_is_ws((unsigned char)s[i]))
		i++;
	while (j > i && tw_is_ws((unsigned char)s[j - 1]))
		j--;
	return tw_strndup(s + i, j - i);
}

static int is_xmlns(const char *name)
{
	return !strcmp(name, "xmlns") || !strncmp(name, "xmlns:", 6);
}

int tw_apply_attrs(tw_parser *p, const char *elem, const tw_attr_spec *spec, void *base,
                   const char **atts, int method_code)
{
	for (size_t i = 0; atts && atts[i]; i += 2) {
		const tw_attr_spec *s = spec;
		while (s && s->name && strcmp(s->name, atts[i]))
			s++;
		if (!s || !s->name) {
			if (is_xmlns(atts[i]))
				continue;
			if (tw_warn(p, 12200, "%s: unknown attribute '%.40s' ignored", elem,
			            atts[i]))
				return -1;
			continue;
		}
		char *v = dup_trimmed(atts[i + 1]);
		if (!v)
			return tw_fail(p, TW_OOM, "out of memory");
		int rc = apply_one(p, elem, s, base, &v, method_code);
		tw_free(v);
		if (rc)
			return -1;
	}
	return 0;
}

int tw_copy_attrs(tw_parser *p, twiml_attr **arr, size_t *n, const char **atts)
{
	for (size_t i = 0; atts && atts[i]; i += 2) {
		twiml_attr *a = tw_grow(*arr, *n, sizeof *a);
		if (!a)
			return tw_fail(p, TW_OOM, "out of memory");
		*arr = a;
		a += (*n)++;
		a->name = tw_strdup(atts[i]);
		a->value = tw_strdup(atts[i + 1]);
		if (!a->name || !a->value)
			return tw_fail(p, TW_OOM, "out of memory");
	}
	return 0;
}
