/* form.c — application/x-www-form-urlencoded: an ordered, growable array of
 * name/value pairs (names may repeat), its parser and encoder, and the
 * percent-coding primitives they share (see form.h).
 *
 * Parsing is strict where it matters for a webhook/REST server: a bad %XX
 * escape, a NUL byte (raw or %00) or invalid UTF-8 rejects the whole input
 * and leaves the form as it was. Empty segments ("a=1&&b=2") are skipped; a
 * segment without '=' is a name with an empty value. */
#include "form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void form_init(form *f)
{
	f->v = NULL;
	f->n = 0;
	f->cap = 0;
}

static void pair_free(form_pair *p)
{
	free(p->name);
	free(p->value);
	p->name = NULL;
	p->value = NULL;
}

/* Drops pairs [keep, n). */
static void form_truncate(form *f, size_t keep)
{
	while (f->n > keep)
		pair_free(&f->v[--f->n]);
}

void form_free(form *f)
{
	if (!f)
		return;
	form_truncate(f, 0);
	free(f->v);
	form_init(f);
}

/* Room for one more pair. 0 / -1. */
static int form_grow(form *f)
{
	if (f->n < f->cap)
		return 0;
	size_t cap = f->cap ? f->cap * 2 : 8;
	if (cap < f->cap || cap > SIZE_MAX / sizeof(form_pair))
		return -1;
	form_pair *v = realloc(f->v, cap * sizeof(form_pair));
	if (!v)
		return -1;
	f->v = v;
	f->cap = cap;
	return 0;
}

/* Appends a pair taking ownership of name and value (freed on failure). */
static int form_push(form *f, char *name, char *value)
{
	if (!name || !value || form_grow(f) < 0) {
		free(name);
		free(value);
		return -1;
	}
	f->v[f->n].name = name;
	f->v[f->n].value = value;
	f->n++;
	return 0;
}

int form_add(form *f, const char *name, const char *value)
{
	if (!name || !value)
		return -1;
	return form_push(f, strdup(name), strdup(value));
}

int form_append(form *dst, const form *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (form_add(dst, src->v[i].name, src->v[i].value) < 0)
			return -1;
	return 0;
}

int form_set(form *f, const char *name, const char *value)
{
	if (!name || !value)
		return -1;
	size_t i = 0;
	while (i < f->n && strcmp(f->v[i].name, name))
		i++;
	if (i == f->n)
		return form_add(f, name, value);
	char *nv = strdup(value);
	if (!nv)
		return -1;
	free(f->v[i].value);
	f->v[i].value = nv;
	/* Remove every later pair of that name, keeping the order of the rest. */
	size_t w = i + 1;
	for (size_t r = i + 1; r < f->n; r++) {
		if (!strcmp(f->v[r].name, name))
			pair_free(&f->v[r]);
		else
			f->v[w++] = f->v[r];
	}
	f->n = w;
	return 0;
}

const char *form_get(const form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].name, name))
			return f->v[i].value;
	return NULL;
}

size_t form_count(const form *f, const char *name)
{
	size_t c = 0;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].name, name))
			c++;
	return c;
}

int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *pct_decode(const char *s, size_t len, int plus_is_space, size_t *outlen)
{
	if (!s && len)
		return NULL;
	char *out = malloc(len + 1); /* decoding never grows */
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
			int lo = hi < 0 ? -1 : hexval((unsigned char)s[i + 2]);
			if (lo < 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			out[o++] = ' ';
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = 0;
	if (outlen)
		*outlen = o;
	return out;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Encoded length of s[0..len), or SIZE_MAX on overflow. */
static size_t pct_encoded_len(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		size_t add = unreserved((unsigned char)s[i]) ? 1 : 3;
		if (n > SIZE_MAX - 1 - add)
			return SIZE_MAX;
		n += add;
	}
	return n;
}

/* Writes the encoding of s[0..len) at out; returns the bytes written. */
static size_t pct_encode_into(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

char *pct_encode(const char *s, size_t len)
{
	if (!s && len)
		return NULL;
	size_t n = pct_encoded_len(s, len);
	if (n == SIZE_MAX)
		return NULL;
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	out[pct_encode_into(out, s, len)] = 0;
	return out;
}

char *form_encode(const form *f)
{
	size_t total = 0;
	for (size_t i = 0; i < f->n; i++) {
		size_t a = pct_encoded_len(f->v[i].name, strlen(f->v[i].name));
		size_t b = pct_encoded_len(f->v[i].value, strlen(f->v[i].value));
		/* Invariant: total <= SIZE_MAX - 3, so the final NUL always fits. */
		size_t room = SIZE_MAX - 3 - total;
		if (a == SIZE_MAX || b == SIZE_MAX || room < 2 || a > room - 2 || b > room - 2 - a)
			return NULL;
		total += a + b + 2; /* '=' and '&' */
	}
	char *out = malloc(total + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (i)
			out[o++] = '&';
		o += pct_encode_into(out + o, f->v[i].name, strlen(f->v[i].name));
		out[o++] = '=';
		o += pct_encode_into(out + o, f->v[i].value, strlen(f->v[i].value));
	}
	out[o] = 0;
	return out;
}

/* 1 when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t need;
		unsigned char lo = 0x80, hi = 0xBF; /* range of the 2nd byte */
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return 0;
		}
		if (len - i <= need)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= need; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += need + 1;
	}
	return 1;
}

/* Decodes one name or value; NULL on a bad escape, a NUL byte (raw or %00),
 * invalid UTF-8, or no memory. */
static char *decode_part(const char *s, size_t len)
{
	size_t n;
	char *d = pct_decode(s, len, 1, &n);
	if (d && (memchr(d, 0, n) || !utf8_valid((const unsigned char *)d, n))) {
		free(d);
		return NULL;
	}
	return d;
}

int form_parse(form *f, const char *body, size_t len)
{
	if (!body)
		return len ? -1 : 0;
	size_t keep = f->n;
	size_t i = 0;
	while (i < len) {
		const char *seg = body + i;
		const char *amp = memchr(seg, '&', len - i);
		size_t slen = amp ? (size_t)(amp - seg) : len - i;
		i += slen + 1;
		if (!slen)
			continue;
		const char *eq = memchr(seg, '=', slen);
		size_t nlen = eq ? (size_t)(eq - seg) : slen;
		char *name = decode_part(seg, nlen);
		char *value = eq ? decode_part(eq + 1, slen - nlen - 1) : strdup("");
		/* form_push frees both on any failure, including a NULL one. */
		if (form_push(f, name, value) < 0) {
			form_truncate(f, keep);
			return -1;
		}
	}
	return 0;
}
