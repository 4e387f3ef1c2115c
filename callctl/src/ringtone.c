/* ringtone.c — the path of the ringback WAV for a <Dial ringTone> value. */
#include "ringtone.h"

#include <stdio.h>
#include <string.h>

int ringtone_path(twiml_ringtone r, const char *dir, char *out, size_t outlen)
{
	if (out && outlen)
		out[0] = '\0';
	if (!out || !outlen || !dir || !*dir)
		return -1;
	const char *code = twiml_ringtone_name(r == TWIML_RING_NONE ? TWIML_RING_US : r);
	if (!code)
		return -1;
	size_t dl = strlen(dir);
	const char *sep = dir[dl - 1] == '/' ? "" : "/";
	int n = snprintf(out, outlen, "%s%s%s.wav", dir, sep, code);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
