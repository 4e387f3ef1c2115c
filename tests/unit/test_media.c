/* test_media.c — the crafted virtual-peer answer (media_blackhole_sdp). */
#include "unit.h"
#include "media.h"

static void first_codec_and_telephone_event(void **state)
{
	(void)state;
	const char *offer =
	    "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	    "m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\n"
	    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
	char *a = media_blackhole_sdp(offer);
	assert_non_null(a);
	assert_non_null(strstr(a, "m=audio 9 RTP/AVP 8 101\r\n"));
	assert_non_null(strstr(a, "a=rtpmap:8 PCMA/8000\r\n"));
	assert_non_null(strstr(a, "a=rtpmap:101 telephone-event/8000\r\n"));
	assert_non_null(strstr(a, "a=sendrecv\r\n"));
	assert_null(strstr(a, "PCMU"));
	free(a);
}

static void static_payload_without_rtpmap(void **state)
{
	(void)state;
	char *a = media_blackhole_sdp("v=0\r\nm=audio 4000 RTP/AVP 0\r\n");
	assert_non_null(a);
	assert_non_null(strstr(a, "m=audio 9 RTP/AVP 0\r\n"));
	assert_null(strstr(a, "telephone-event"));
	free(a);
}

static void no_audio(void **state)
{
	(void)state;
	assert_null(media_blackhole_sdp("v=0\r\nm=video 4000 RTP/AVP 96\r\n"));
	assert_null(media_blackhole_sdp("v=0\r\nm=audio 4000 RTP/AVP\r\n"));
	assert_null(media_blackhole_sdp(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(first_codec_and_telephone_event),
	    cmocka_unit_test(static_payload_without_rtpmap),
	    cmocka_unit_test(no_audio),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
