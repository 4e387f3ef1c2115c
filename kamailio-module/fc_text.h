/* fc_text.h — ASCII helpers shared by the module's pure-C parsers
 * (fc_digest.c, fc_refer.c): case folding and case-insensitive word
 * comparison on unterminated slices. Header-only; no Kamailio header. */
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

#endif
