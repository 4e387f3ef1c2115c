/* test_twerr.c — error catalogue and the REST error JSON body. */
#include "unit.h"

#include <stdio.h>

#include <jansson.h>

#include "twerr.h"

static void test_catalogue(void **state)
{
	(void)state;
	static const int required[] = {
	    11100, 11200, 11205, 11206, 11210, 11215, 11217, 11220, 11235, 11236, 11237, 11750,
	    12100, 12101, 12102, 12200, 12300, 12400, 13201, 13210, 13212, 13213, 13214, 13215,
	    13216, 13217, 13220, 13221, 13222, 13223, 13224, 13225, 13226, 13227, 13230, 13231,
	    13232, 13233, 13234, 13235, 13236, 13237, 13238, 13241, 13242, 13243, 13244, 13310,
	    13312, 13313, 13314, 13320, 13321, 13322, 13325, 13410, 13420, 13510, 13511, 13520,
	    13610, 13611, 13612, 13613, 13614, 13615, 13616, 13710, 13801, 13802, 13910, 16025,
	    20001, 20003, 20404, 20429, 21201, 21205, 21210, 21211, 21212, 21213, 21216, 21217,
	    21220, 21222, 21223, 21224, 21225, 21401, 21421, 21422, 21452, 32011, 32201,
	};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		const char *m = twerr_message(required[i]);
		assert_non_null(m);
		if (!strcmp(m, "Error"))
			fail_msg("code %d has no message", required[i]);
	}
	assert_string_equal(twerr_message(11200), "HTTP retrieval failure");
	assert_string_equal(twerr_message(21211), "Invalid 'To' Phone Number");
	assert_string_equal(twerr_message(20003), "Authenticate");
	assert_string_equal(twerr_message(0), "Error");
	assert_string_equal(twerr_message(-1), "Error");
	assert_string_equal(twerr_message(99999), "Error");
	assert_string_equal(twerr_message(13311), "Error");
}

static void test_json_exact(void **state)
{
	(void)state;
	char *s = twerr_json(21211, 400, NULL);
	assert_non_null(s);
	assert_string_equal(s, "{\"code\":21211,\"message\":\"Invalid 'To' Phone Number\","
	                       "\"more_info\":\"https://www.twilio.com/docs/errors/21211\","
	                       "\"status\":400}");
	free(s);
	s = twerr_json(
	    20404, 404,
	    "The requested resource /2010-04-01/Accounts/AC1/Calls/CA1.json was not found");
	assert_non_null(s);
	assert_string_equal(s, "{\"code\":20404,\"message\":\"The requested resource "
	                       "/2010-04-01/Accounts/AC1/Calls/CA1.json was not found\","
	                       "\"more_info\":\"https://www.twilio.com/docs/errors/20404\","
	                       "\"status\":404}");
	free(s);
}

static void test_json_escaping(void **state)
{
	(void)state;
	char *s = twerr_json(21205, 400, "Url is not a valid URL: \"a\\b\"\n\xc3\xa9");
	assert_non_null(s);
	json_error_t err;
	json_t *o = json_loads(s, 0, &err);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "code")), 21205);
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 400);
	assert_string_equal(json_string_value(json_object_get(o, "message")),
	                    "Url is not a valid URL: \"a\\b\"\n\xc3\xa9");
	assert_string_equal(json_string_value(json_object_get(o, "more_info")),
	                    "https://www.twilio.com/docs/errors/21205");
	json_decref(o);
	free(s);
	/* Invalid UTF-8 in the caller's message: the catalogue title instead. */
	s = twerr_json(21205, 400, "bad \xff");
	assert_non_null(s);
	assert_non_null(strstr(s, "\"message\":\"Invalid URL\""));
	free(s);
	/* Unknown code. */
	s = twerr_json(12345, 500, NULL);
	assert_non_null(s);
	assert_string_equal(s, "{\"code\":12345,\"message\":\"Error\","
	                       "\"more_info\":\"https://www.twilio.com/docs/errors/12345\","
	                       "\"status\":500}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogue),
	    cmocka_unit_test(test_json_exact),
	    cmocka_unit_test(test_json_escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
