/* twiml_util.c — small helpers of the TwiML parser: allocation wrappers with
 * a test fault-injection budget, growable arrays and text buffers, and the
 * error/warning recorders. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "twiml_int.h"

_Thread_local long tw_alloc_budget = -1;

static int tw_take_budget(void)
{
	if (tw_alloc_budget < 0)
		return 1;
	if (tw_alloc_budget == 0)
		return 0;
	tw_alloc_budget--;
	return 1;
}

void *tw_malloc(size_t n)
{
	if (!tw_take_budget())
		return NULL;
	return malloc(n ? n : 1);
}

void *tw_calloc(size_t n, size_t sz)
{
	if (!tw_take_budget())
		return NULL;
	return calloc(n ? n : 1, sz ? sz : 1);
}

void *tw_realloc(void *p, size_t n)
{
	if (!tw_take_budget())
		return NULL;
	return realloc(p, n ? n : 1);
}

void tw_free(void *p)
{
	free(p);
}

char *tw_strndup(const char *s, size_t n)
{
	char *d = tw_malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *tw_strdup(const char *s)
{
	return tw_strndup(s, strlen(s));
}

void *tw_grow(void *arr, size_t n, size_t sz)
{
	char *a = arr;

	if (n == 0 || (n & (n - 1)) == 0) {
		a = tw_realloc(arr, (n ? 2 * n : 1) * sz);
		if (!a)
			return NULL;
	}
	memset(a + n * sz, 0, sz);
	return a;
}

int tw_is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int tw_all_ws(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tw_is_ws((unsigned char)s[i]))
			return 0;
	return 1;
}

int tw_buf_add(tw_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = tw_realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void tw_buf_free(tw_buf *b)
{
	tw_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *tw_buf_take(const tw_buf *b, int collapse)
{
	const char *s = b->p ? b->p : "";
	size_t i = 0, j = b->len;

	while (i < j && tw_is_ws((unsigned char)s[i]))
		i++;
	while (j > i && tw_is_ws((unsigned char)s[j - 1]))
		j--;
	char *d = tw_strndup(s + i, j - i);
	if (!d || !collapse)
		return d;
	size_t o = 0;
	for (size_t k = 0; d[k]; k++) {
		if (tw_is_ws((unsigned char)d[k])) {
			if (o && d[o - 1] == ' ')
				continue;
			d[o++] = ' ';
		} else {
			d[o++] = d[k];
		}
	}
	d[o] = '\0';
	return d;
}

int tw_line(tw_parser *p)
{
	return p->xp ? (int)XML_GetCurrentLineNumber(p->xp) : 0;
}

int tw_fail(tw_parser *p, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -1;
	p->failed = 1;
	p->err.code = code;
	p->err.line = tw_line(p);
	va_start(ap, fmt);
	vsnprintf(p->err.msg, sizeof p->err.msg, fmt, ap);
	va_end(ap);
	if (p->xp)
		XML_StopParser(p->xp, XML_FALSE);
	return -1;
}

int tw_warn(tw_parser *p, int code, const char *fmt, ...)
{
	twiml_doc *d = p->doc;
	va_list ap;

	if (d->n_warnings >= TWIML_MAX_WARNINGS) {
		d->n_warnings_dropped++;
		return 0;
	}
	twiml_warning *w = tw_grow(d->warnings, d->n_warnings, sizeof *w);
	if (!w)
		return tw_fail(p, TW_OOM, "out of memory");
	d->warnings = w;
	w += d->n_warnings++;
	w->code = code;
	w->line = tw_line(p);
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof w->msg, fmt, ap);
	va_end(ap);
	return 0;
}
