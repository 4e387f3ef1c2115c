/* fc_text.h — ASCII helpers shared by the module's pure-C parsers
 * (fc_digest.c, fc_refer.c, fc_sipcheck.c, fc_sdpcheck.c): case folding,
 * case-insensitive word comparison on unterminated slices, hex digits.
 * Header-only; no Kamailio header. */
#ifndef FC_TEXT_H
#define FC_TEXT_H

#include <stddef.h>

static inline int fc_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* s[0..n) equals the lower-case NUL-terminated word, ignoring ASCII case. */
static inline int fc_ieq(const char *s, size_t n, const char *word)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!word[i] || fc_lower((unsigned char)s[i]) != (unsigned char)word[i])
			return 0;
	return word[i] == 0;
}

/* The value of a hex digit, or -1. */
static inline int fc_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
