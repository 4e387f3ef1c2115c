/* fuzz_sdp.c — libFuzzer harness for media_blackhole_sdp, which reads the
 * caller's SDP offer (untrusted): whatever it returns must be a small,
 * printable SDP with exactly one media line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	char *a = media_blackhole_sdp(s);
	if (a) {
		CHECK(strlen(a) < 1024);
		CHECK(!strncmp(a, "v=0\r\n", 5));
		const char *m = strstr(a, "\nm=audio 9 RTP/AVP ");
		CHECK(m && !strstr(m + 1, "\nm="));
		for (const char *p = a; *p; p++)
			CHECK(*p == '\r' || *p == '\n' || (*p >= 0x20 && *p < 0x7f) ||
			      (unsigned char)*p >= 0x80);
		free(a);
	}
	free(s);
	return 0;
}
