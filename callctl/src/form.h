/* form.h — application/x-www-form-urlencoded bodies and query strings: an
 * ordered list of name/value pairs (names may repeat), percent coding. */
#ifndef FC_FORM_H
#define FC_FORM_H
#include <stddef.h>

typedef struct form_pair {
	char *name;
	char *value;
} form_pair;

typedef struct form {
	form_pair *v;
	size_t n, cap;
} form;

void form_init(form *f);
void form_free(form *f);
/* Appends a copy of name/value. Returns 0, or -1 when out of memory. */
int form_add(form *f, const char *name, const char *value);
/* Replaces every pair named name by one pair (or appends). 0 / -1. */
int form_set(form *f, const char *name, const char *value);
/* Adds every pair of src to dst, in order. 0 / -1 (out of memory). */
int form_append(form *dst, const form *src);
/* Parses "a=b&c=d" (both '+' and %20 decode to a space) and appends the pairs.
 * Returns 0, or -1 on malformed percent escapes, NUL bytes or invalid UTF-8. */
int form_parse(form *f, const char *body, size_t len);
/* First value for name, or NULL. */
const char *form_get(const form *f, const char *name);
/* Number of pairs named name. */
size_t form_count(const form *f, const char *name);
/* "a=b&c=d" with RFC 3986 unreserved characters kept and everything else
 * %XX-escaped (space as %20). malloc'd; NULL when out of memory. */
char *form_encode(const form *f);
/* Percent-decodes s[0..len); plus_is_space maps '+' to ' '. malloc'd,
 * NUL-terminated, *outlen set when non-NULL; NULL on a bad escape. */
char *pct_decode(const char *s, size_t len, int plus_is_space, size_t *outlen);
/* Percent-encodes every byte outside RFC 3986 unreserved. malloc'd. */
char *pct_encode(const char *s, size_t len);

/* The value of a hex digit, or -1. */
int hexval(unsigned char c);

#endif
