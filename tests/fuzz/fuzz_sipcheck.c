/* fuzz_sipcheck.c — libFuzzer harness for the INVITE checks of
 * kamailio-module/fc_sipcheck.h, all on untrusted header values and bodies.
 * The first byte picks the function, the rest is the input (an exact-size
 * copy). Checks: fc_require_unsupported's list is bounded and printable (it
 * becomes the Unsupported header); fc_uri_user_unescape returns -1 or a
 * control-free string of that length; fc_unfold leaves no CR or LF and never
 * grows; fc_multipart_sdp (input split at the first NUL into Content-Type and
 * body) returns an SDP slice inside the body; fc_uri_scheme_ok says -1, 0 or
 * 1, and 1 only for sip, sips and tel. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fc_sipcheck.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void require(const char *s, size_t n)
{
	char out[48];
	int bad = fc_require_unsupported(s, n, out, sizeof out);
	CHECK(bad >= 0);
	CHECK(memchr(out, 0, sizeof out) != NULL);
	for (const char *p = out; *p; p++)
		CHECK(*p > 0x20 ? *p < 0x7f : *p == ' ');
	if (bad == 0)
		CHECK(out[0] == 0);
}

static void unescape(const char *s, size_t n)
{
	char out[64];
	int len = fc_uri_user_unescape(s, n, out, sizeof out);
	CHECK(len >= -1 && len < (int)sizeof out);
	if (len >= 0) {
		CHECK(strlen(out) == (size_t)len && (size_t)len <= n);
		for (int i = 0; i < len; i++)
			CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
	}
}

static void unfold(char *s, size_t n)
{
	size_t m = fc_unfold(s, n);
	CHECK(m <= n);
	CHECK(!memchr(s, '\r', m) && !memchr(s, '\n', m));
}

static void multipart(const char *s, size_t n)
{
	const char *nul = memchr(s, 0, n);
	if (!nul)
		return;
	const char *body = nul + 1;
	size_t blen = n - (size_t)(body - s);
	const char *sdp = NULL;
	size_t sl = 0;
	int rc = fc_multipart_sdp(s, (size_t)(nul - s), body, blen, &sdp, &sl);
	CHECK(rc >= -1 && rc <= 1);
	if (rc == 1)
		CHECK(sdp >= body && sdp + sl <= body + blen);
}

static void scheme(const char *s, size_t n)
{
	int rc = fc_uri_scheme_ok(s, n);
	CHECK(rc >= -1 && rc <= 1);
	if (rc == 1)
		CHECK(n >= 4 && (s[3] == ':' || s[4] == ':'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = size - 1;
	char *s = malloc(n ? n : 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, n);
	switch (data[0] % 5) {
	case 0:
		require(s, n);
		break;
	case 1:
		unescape(s, n);
		break;
	case 2:
		unfold(s, n);
		break;
	case 3:
		multipart(s, n);
		break;
	default:
		scheme(s, n);
		break;
	}
	free(s);
	return 0;
}
