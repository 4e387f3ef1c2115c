/* fuzz_sdpcheck.c — libFuzzer harness for fc_sdp_check
 * (kamailio-module/fc_sdpcheck.h), which judges a caller's SDP offer
 * (untrusted) before anything else sees it. On an exact-size copy (ASan sees
 * any read past the end): the result is 0 or a Warning code of RFC 3261
 * section 20.43, the reason is printable, quote-free and bounded (it goes
 * into a Warning header), and an accepted offer has an m=audio line (any case). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fc_sdpcheck.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	char why[96];
	memset(why, 'x', sizeof why);
	int rc = fc_sdp_check(s, size, why, sizeof why);
	CHECK(rc == 0 || rc == FC_WARN_PROTO || rc == FC_WARN_MEDIA || rc == FC_WARN_FORMAT ||
	      rc == FC_WARN_MISC);
	CHECK(memchr(why, 0, sizeof why) != NULL);
	for (const char *p = why; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f && *p != '"');
	if (rc == 0) {
		CHECK(why[0] == 0);
		int audio = size >= 8 && strncasecmp(s, "m=audio ", 8) == 0;
		for (size_t i = 0; !audio && i + 9 <= size; i++)
			audio = s[i] == '\n' && strncasecmp(s + i + 1, "m=audio ", 8) == 0;
		CHECK(audio);
	} else {
		CHECK(why[0] != 0);
	}
	free(s);
	return 0;
}
