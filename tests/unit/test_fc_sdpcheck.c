/* test_fc_sdpcheck.c — whether an SDP offer can be answered (fc_sdpcheck.h):
 * offers we take (static and dynamic codecs, session- or media-level c=,
 * several streams, LF-only lines), offers refused with the Warning code of
 * RFC 3261 section 20.43, and the limits (media lines, lines, line length,
 * formats) that keep a hostile offer cheap. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "fc_sdpcheck.h"

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

static int check(const char *sdp, char *why)
{
	return fc_sdp_check(sdp, strlen(sdp), why, 160);
}

static void test_accepted(void **state)
{
	(void)state;
	char why[160];
	assert_int_equal(
	    check(HEAD "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", why),
	    0);
	assert_int_equal(check(HEAD "m=audio 4000 RTP/AVP 8\r\n", why), 0);
	assert_int_equal(
	    check(HEAD "m=audio 4000 RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", why), 0);
	assert_int_equal(
	    check(HEAD "m=audio 4000 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 pcmu/8000\r\n", why), 0);
	/* media-level c= only, video first, LF line ends, trailing blank line */
	assert_int_equal(check("v=0\no=- 1 1 IN IP6 ::1\ns=-\nt=0 0\nm=video 5000 RTP/AVP 31\n"
	                       "m=audio 4000/2 RTP/AVP 9\nc=IN IP6 ::1\n\n",
	                       why),
	                 0);
	/* one disabled stream and one usable */
	assert_int_equal(check(HEAD "m=audio 0 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n", why), 0);
}

static void expect(const char *sdp, int code, const char *needle)
{
	char why[160];
	int rc = check(sdp, why);
	if (rc != code || !strstr(why, needle))
		fail_msg("got %d \"%s\", want %d \"%s\" for:\n%s", rc, why, code, needle, sdp);
	for (const char *p = why; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f && *p != '"');
}

static void test_refused(void **state)
{
	(void)state;
	expect(HEAD, FC_WARN_MEDIA, "no media line");
	expect(HEAD "m=video 5000 RTP/AVP 31\r\n", FC_WARN_MEDIA, "no active audio");
	expect(HEAD "m=audio 0 RTP/AVP 0\r\n", FC_WARN_MEDIA, "no active audio");
	expect(HEAD "m=audio 4000 TCP/MSRP *\r\n", FC_WARN_PROTO, "transport");
	expect(HEAD "m=audio 4000 RTP/AVP 99\r\na=rtpmap:99 X-unknown/8000\r\n", FC_WARN_FORMAT,
	       "media format");
	expect(HEAD "m=audio 4000 RTP/AVP 18\r\n", FC_WARN_FORMAT, "media format");
	expect("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	       FC_WARN_MISC, "connection");
	expect("", FC_WARN_MISC, "empty");
	expect("v=1\r\n", FC_WARN_MISC, "v=0");
	expect(HEAD "this is not sdp\r\n", FC_WARN_MISC, "<type>=<value>");
	expect(HEAD "m=audio 4000 RTP/AVP 0\r\n\r\na=x\r\n", FC_WARN_MISC, "empty line");
	expect(HEAD "m=audio 70000 RTP/AVP 0\r\n", FC_WARN_MISC, "bad port");
	expect(HEAD "m=audio x RTP/AVP 0\r\n", FC_WARN_MISC, "bad port");
	expect(HEAD "m=audio 4000 RTP/AVP 128\r\n", FC_WARN_MISC, "payload type");
	expect(HEAD "m=audio 4000 RTP/AVP\r\n", FC_WARN_MISC, "no formats");
	expect(HEAD "m=audio\r\n", FC_WARN_MISC, "no port");
	expect(HEAD "m= audio 4000 RTP/AVP 0\r\n", FC_WARN_MISC, "starts with a space");
	expect(HEAD "c=IN IP4\r\nm=audio 4000 RTP/AVP 0\r\n", FC_WARN_MISC, "connection line");
	expect(HEAD "a=x\001y\r\n", FC_WARN_MISC, "control");
}

/* A buffer of head followed by count copies of line. */
static char *repeat(const char *head, const char *line, int count)
{
	size_t hl = strlen(head), ll = strlen(line);
	char *b = malloc(hl + ll * (size_t)count + 1);
	assert_non_null(b);
	memcpy(b, head, hl);
	for (int i = 0; i < count; i++)
		memcpy(b + hl + ll * (size_t)i, line, ll);
	b[hl + ll * (size_t)count] = 0;
	return b;
}

static void test_limits(void **state)
{
	(void)state;
	char *b = repeat(HEAD, "m=audio 4000 RTP/AVP 0\r\n", FC_SDP_MEDIA_MAX);
	char why[160];
	assert_int_equal(check(b, why), 0);
	free(b);
	b = repeat(HEAD, "m=audio 4000 RTP/AVP 0\r\n", 5000);
	expect(b, FC_WARN_MISC, "media lines");
	free(b);
	b = repeat(HEAD "m=audio 4000 RTP/AVP 0\r\n", "a=x\r\n", FC_SDP_LINES_MAX);
	expect(b, FC_WARN_MISC, "lines");
	free(b);
	b = repeat(HEAD "m=audio 4000 RTP/AVP 0\r\na=", "x", FC_SDP_LINE_MAX);
	expect(b, FC_WARN_MISC, "longer than");
	free(b);
	b = repeat(HEAD "m=audio 4000 RTP/AVP", " 0", FC_SDP_FMTS_MAX + 1);
	expect(b, FC_WARN_MISC, "formats");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepted),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
