/* phone.c — E.164 normalisation and validation of dialled strings
 * (see phone.h). No numbering-plan knowledge: only the shape is checked. */
#include "phone.h"

#include <string.h>
#include <strings.h>

#define E164_MAX_DIGITS 15

int e164_valid(const char *s)
{
	if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return 0;
	size_t n = 0;
	for (const char *p = s + 1; *p; p++, n++)
		if (*p < '0' || *p > '9' || n >= E164_MAX_DIGITS)
			return 0;
	return 1;
}

static int visual_separator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

int e164_normalize(const char *in, char *out, size_t outsz)
{
	if (!in || !out || outsz < E164_MAX_DIGITS + 2)
		return -1;
	if (!strncasecmp(in, "tel:", 4))
		in += 4;
	/* Collect '+' (only as the very first significant character) and the
	 * digits, up to the first ';' (tel: URI parameters such as ";ext=").
	 * Room for "00" + 15 digits; anything longer cannot be E.164. */
	char buf[E164_MAX_DIGITS + 3];
	size_t n = 0;
	int plus = 0;
	out[0] = 0;
	for (const char *p = in; *p && *p != ';'; p++) {
		if (visual_separator(*p))
			continue;
		if (*p == '+' && !plus && n == 0) {
			plus = 1;
			continue;
		}
		if (*p < '0' || *p > '9' || n >= sizeof buf - 1)
			return -1;
		buf[n++] = *p;
	}
	buf[n] = 0;
	const char *digits = buf;
	if (!plus && n >= 2 && buf[0] == '0' && buf[1] == '0') {
		digits += 2; /* international prefix 00 */
		n -= 2;
	} else if (!plus && n < 8) {
		return -1; /* too short to be a number with its country code */
	}
	if (n < 1 || n > E164_MAX_DIGITS || digits[0] == '0')
		return -1;
	out[0] = '+';
	memcpy(out + 1, digits, n + 1);
	return 0;
}
