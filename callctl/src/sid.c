/* sid.c — Twilio-style SIDs (two uppercase letters + 32 lowercase hex) and
 * random hex tokens, drawn from the kernel CSPRNG with getrandom(2)
 * (see sid.h). */
#include "sid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"

/* Fills buf with n bytes from the kernel CSPRNG. SIDs double as auth tokens
 * and unguessable resource names, so there is no weaker fallback: if the
 * kernel cannot supply randomness the process stops. */
static void random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			LOGE("getrandom: %s", strerror(errno));
			abort();
		}
		got += (size_t)r;
	}
}

static void hex32(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	random_bytes(b, sizeof b);
	for (size_t i = 0; i < sizeof b; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[32] = 0;
}

static int is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A prefix that is not two uppercase letters is a programming error (every
 * caller passes a literal such as "CA"); it would yield a SID that no
 * sid_valid() accepts, so it stops the process loudly instead. */
void sid_new(char out[SID_LEN + 1], const char *prefix)
{
	if (!prefix || !is_upper(prefix[0]) || !is_upper(prefix[1]) || prefix[2]) {
		LOGE("sid_new: bad SID prefix \"%s\"", prefix ? prefix : "(null)");
		abort();
	}
	out[0] = prefix[0];
	out[1] = prefix[1];
	hex32(out + 2);
}

/* Hex digits of either case are accepted, as Twilio's own pattern
 * ^CA[0-9a-fA-F]{32}$ does. A NULL prefix accepts any two uppercase
 * letters. */
int sid_valid(const char *s, const char *prefix)
{
	if (!s)
		return 0;
	size_t plen = 2;
	if (prefix) {
		plen = strlen(prefix);
		if (strncmp(s, prefix, plen))
			return 0;
	} else if (!is_upper(s[0]) || !is_upper(s[1])) {
		return 0;
	}
	for (size_t i = 0; i < 32; i++)
		if (!is_hex(s[plen + i]))
			return 0;
	return s[plen + 32] == 0;
}

void sid_hex32(char out[33])
{
	hex32(out);
}
