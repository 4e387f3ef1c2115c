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

/* Why fc_pct_decode failed. */
enum { FC_PCT_OK = 0, FC_PCT_ESCAPE = -1, FC_PCT_CRLFNUL = -2, FC_PCT_CTL = -3, FC_PCT_LONG = -4 };

/* %-decodes s[0..n) into dst (dstsz bytes, NUL-terminated); the length
 * decoded goes to *len. Fails on a bad escape, on a decoded CR, LF or NUL
 * (header injection), on any other control byte (HTAB only when allow_tab)
 * and when the result does not fit. */
static inline int fc_pct_decode(const char *s, size_t n, char *dst, size_t dstsz, int allow_tab,
                                size_t *len)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int h = i + 2 < n ? fc_hexval((unsigned char)s[i + 1]) : -1;
			int l = i + 2 < n ? fc_hexval((unsigned char)s[i + 2]) : -1;
			if (h < 0 || l < 0)
				return FC_PCT_ESCAPE;
			c = (unsigned char)(h << 4 | l);
			i += 2;
		}
		if (c == '\r' || c == '\n' || c == 0)
			return FC_PCT_CRLFNUL;
		if ((c < 0x20 && !(c == '\t' && allow_tab)) || c == 0x7f)
			return FC_PCT_CTL;
		if (o + 1 >= dstsz)
			return FC_PCT_LONG;
		dst[o++] = (char)c;
	}
	if (dstsz == 0)
		return FC_PCT_LONG;
	dst[o] = 0;
	if (len)
		*len = o;
	return FC_PCT_OK;
}

#endif
