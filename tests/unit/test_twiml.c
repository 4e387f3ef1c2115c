/* test_twiml.c — unit tests of the TwiML parser: every verb and noun with its
 * defaults, every error code path, hardening (size cap, DOCTYPE, entities,
 * XXE), Dial noun limits, Gather nesting, SIP URIs, generic verbs, warnings,
 * and allocation failures at every step (run under ASan for leaks). */
#include "unit.h"
#include <stdio.h>
#include "twiml.h"
#include "twiml_int.h"

#define R(x) "<Response>" x "</Response>"

static twiml_doc *parse_ok(const char *xml)
{
	twiml_error e;
	twiml_doc *d = twiml_parse(xml, strlen(xml), &e);

	if (!d)
		fail_msg("parse failed: %d (line %d) %s\n%s", e.code, e.line, e.msg, xml);
	assert_int_equal(e.code, 0);
	return d;
}

static int parse_err(const char *xml, twiml_error *out)
{
	twiml_error e;
	twiml_doc *d = twiml_parse(xml, strlen(xml), &e);

	if (d) {
		twiml_free(d);
		fail_msg("parse unexpectedly succeeded:\n%s", xml);
	}
	assert_true(e.code != 0);
	assert_true(e.msg[0] != '\0');
	if (out)
		*out = e;
	return e.code;
}

#define ERR(code, xml) assert_int_equal(parse_err((xml), NULL), (code))

/* The one verb of a document. */
static twiml_verb *only(twiml_doc *d, twiml_kind k)
{
	assert_int_equal(d->n_verbs, 1);
	assert_int_equal(d->verbs[0].kind, k);
	return &d->verbs[0];
}

static int has_warning(const twiml_doc *d, int code)
{
	for (size_t i = 0; i < d->n_warnings; i++)
		if (d->warnings[i].code == code)
			return 1;
	return 0;
}

/* ---- document level ---- */

static void test_empty_response(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok("<Response/>");
	assert_int_equal(d->n_verbs, 0);
	assert_int_equal(d->n_warnings, 0);
	twiml_free(d);
	d = parse_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi -->\n<Response>\n  "
	             "<!-- c --> <?pi x?>\n</Response>\n");
	assert_int_equal(d->n_verbs, 0);
	twiml_free(d);
}

static void test_wrong_root(void **state)
{
	(void)state;
	twiml_error e;
	assert_int_equal(parse_err("<Foo/>", &e), 12102);
	assert_int_equal(e.line, 1);
	ERR(12102, "<response><Say>hi</Say></response>");
	ERR(12102, "<?xml version=\"1.0\"?><Say>hi</Say>");
}

static void test_bad_xml(void **state)
{
	(void)state;
	twiml_error e;
	assert_int_equal(parse_err("<Response>\n<Say>hi\n</Response>", &e), 12100);
	assert_int_equal(e.line, 3);
	assert_non_null(strstr(e.msg, "mismatched tag"));
	ERR(12100, "<Response><Say>hi</Say>");
	ERR(12100, "  <?xml version=\"1.0\"?><Response/>"); /* leading whitespace */
	ERR(12100, "<Response/><Response/>");
	ERR(12100, "<Response><Say a=\"1\" a=\"2\">x</Say></Response>");
	ERR(12100, "");
	ERR(12100, "<?xml version=\"1.0\" encoding=\"EBCDIC-XX\"?><Response/>");
	ERR(12100, R("<Say>&undefined;</Say>"));
	const char nul[] = "<Response><Say>a\0b</Say></Response>";
	assert_null(twiml_parse(nul, sizeof nul - 1, &e));
	assert_int_equal(e.code, 12100);
	assert_null(twiml_parse(NULL, 0, &e));
	assert_int_equal(e.code, 12100);
	/* err may be NULL */
	assert_null(twiml_parse("<x", 2, NULL));
}

/* A <Say> document of exactly n bytes (malloc'd, NUL-terminated). */
static char *doc_of_size(size_t n)
{
	const char *head = "<Response><Say>", *tail = "</Say></Response>";
	char *buf = malloc(n + 1);

	assert_non_null(buf);
	memset(buf, 'a', n);
	memcpy(buf, head, strlen(head));
	memcpy(buf + n - strlen(tail), tail, strlen(tail));
	buf[n] = '\0';
	return buf;
}

static void test_oversize(void **state)
{
	(void)state;
	twiml_error e;
	char *buf = doc_of_size(TWIML_MAX_DOC + 1);
	assert_null(twiml_parse(buf, TWIML_MAX_DOC + 1, &e));
	assert_int_equal(e.code, 11750);
	assert_int_equal(e.line, 0);
	free(buf);
	/* Exactly the limit parses (a long Say warns 13521). */
	buf = doc_of_size(TWIML_MAX_DOC);
	twiml_doc *d = twiml_parse(buf, TWIML_MAX_DOC, &e);
	assert_non_null(d);
	assert_int_equal(d->verbs[0].kind, TWIML_SAY);
	assert_true(has_warning(d, 13521));
	twiml_free(d);
	free(buf);
}

static void test_doctype_attacks(void **state)
{
	(void)state;
	twiml_error e;
	const char *laughs =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "]>\n<Response><Say>&lol4;</Say></Response>";
	assert_int_equal(parse_err(laughs, &e), 12100);
	assert_non_null(strstr(e.msg, "DOCTYPE"));
	const char *xxe = "<?xml version=\"1.0\"?>\n"
	                  "<!DOCTYPE Response [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
	                  "<Response><Say>&xxe;</Say></Response>";
	assert_int_equal(parse_err(xxe, &e), 12100);
	assert_non_null(strstr(e.msg, "DOCTYPE"));
	assert_null(strstr(e.msg, "root:"));
	ERR(12100, "<!DOCTYPE Response SYSTEM \"http://127.0.0.1:1/x.dtd\"><Response/>");
	ERR(12100, "<!DOCTYPE Response [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"
	           "<Response/>");
	ERR(12100, "<!DOCTYPE Response><Response/>");
	/* Without a DTD any entity reference is undefined. */
	ERR(12100, R("<Say>&xxe;</Say>"));
}

static void test_predefined_entities(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Say>a &amp; b &lt;c&gt; &#233; &#x41;</Say>"));
	assert_string_equal(only(d, TWIML_SAY)->u.say.text, "a & b <c> \xc3\xa9 A");
	twiml_free(d);
	d = parse_ok(R("<Say><![CDATA[x < y]]></Say>"));
	assert_string_equal(d->verbs[0].u.say.text, "x < y");
	twiml_free(d);
}

static void test_latin1(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
	                        "<Response><Say>caf\xe9</Say></Response>");
	assert_string_equal(d->verbs[0].u.say.text, "caf\xc3\xa9");
	twiml_free(d);
}

static void test_not_nul_terminated(void **state)
{
	(void)state;
	const char *s = "<Response><Hangup/></Response>GARBAGE";
	twiml_error e;
	twiml_doc *d = twiml_parse(s, strlen(s) - 7, &e);
	assert_non_null(d);
	assert_int_equal(d->verbs[0].kind, TWIML_HANGUP);
	twiml_free(d);
}

static void test_unknown_elements(void **state)
{
	(void)state;
	twiml_error e;
	assert_int_equal(parse_err(R("<Speak>hi</Speak>"), &e), 12200);
	assert_non_null(strstr(e.msg, "Speak"));
	ERR(12200, R("<say>hi</say>"));
	ERR(12200, R("<Number>+14155550100</Number>"));
	ERR(12200, "<Response>hello</Response>");
	ERR(12200, R("<Pause>3</Pause>"));
	ERR(12200, R("<Hangup>now</Hangup>"));
	ERR(12200, R("<Hangup><Say>x</Say></Hangup>"));
	ERR(12200, R("<Leave>x</Leave>"));
	ERR(12200, R("<Reject>x</Reject>"));
	ERR(12200, R("<Record>x</Record>"));
	ERR(12200, R("<Play>a.mp3<Say>x</Say></Play>"));
	ERR(12200, R("<Redirect><Say>x</Say></Redirect>"));
}

static void test_unknown_attributes_warn(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok("<Response xmlns=\"urn:x\" xmlns:a=\"urn:a\" foo=\"1\">"
	                        "<Say bogus=\"1\">hi</Say><Hangup x=\"y\"/></Response>");
	assert_int_equal(d->n_verbs, 2);
	assert_int_equal(d->n_warnings, 3);
	assert_int_equal(d->warnings[0].code, 12200);
	assert_non_null(strstr(d->warnings[1].msg, "bogus"));
	assert_int_equal(d->warnings[1].line, 1);
	twiml_free(d);
	/* Beyond TWIML_MAX_WARNINGS only counted. */
	char buf[8192];
	size_t o = (size_t)snprintf(buf, sizeof buf, "<Response>");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "<Hangup a%d=\"1\"/>", i);
	snprintf(buf + o, sizeof buf - o, "</Response>");
	d = parse_ok(buf);
	assert_int_equal(d->n_warnings, TWIML_MAX_WARNINGS);
	assert_int_equal(d->n_warnings_dropped, 40 - TWIML_MAX_WARNINGS);
	twiml_free(d);
}

static void test_depth_limit(void **state)
{
	(void)state;
	char buf[4096];
	size_t o = (size_t)snprintf(buf, sizeof buf, "<Response><Connect>");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "<a>");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "</a>");
	snprintf(buf + o, sizeof buf - o, "</Connect></Response>");
	ERR(12200, buf);
}

static void test_line_numbers(void **state)
{
	(void)state;
	twiml_doc *d =
	    parse_ok("<Response>\n<Say>a</Say>\n\n<Dial>\n<Number>+1415</Number>\n</Dial>"
	             "\n</Response>");
	assert_int_equal(d->verbs[0].line, 2);
	assert_int_equal(d->verbs[1].line, 4);
	assert_int_equal(d->verbs[1].u.dial.nouns[0].line, 5);
	twiml_free(d);
	twiml_error e;
	parse_err("<Response>\n<Say>a</Say>\n<Pause length=\"x\"/>\n</Response>", &e);
	assert_int_equal(e.code, 13910);
	assert_int_equal(e.line, 3);
}

/* ---- Say / Play / Pause ---- */

static void test_say(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Say>\n   Hello   there,\n\twelcome.  \n</Say>"));
	twiml_say *s = &only(d, TWIML_SAY)->u.say;
	assert_string_equal(s->text, "Hello there, welcome.");
	assert_int_equal(s->loop, 1);
	assert_null(s->voice);
	assert_string_equal(s->language, "en-US");
	assert_false(s->ssml);
	twiml_free(d);

	d = parse_ok(
	    R("<Say voice=\"Polly.Joanna-Neural\" language=\"fr-FR\" loop=\"0\">Bonjour</Say>"
	      "<Say voice=\"woman\" loop=\"3\">x</Say><Say voice=\"Google.en-US-Standard-C\" "
	      "loop=\"5000\">y</Say>"));
	assert_string_equal(d->verbs[0].u.say.voice, "Polly.Joanna-Neural");
	assert_string_equal(d->verbs[0].u.say.language, "fr-FR");
	assert_int_equal(d->verbs[0].u.say.loop, TWIML_LOOP_MAX);
	assert_string_equal(d->verbs[1].u.say.voice, "woman");
	assert_int_equal(d->verbs[1].u.say.loop, 3);
	assert_int_equal(d->verbs[2].u.say.loop, TWIML_LOOP_MAX);
	assert_true(has_warning(d, 13510));
	twiml_free(d);

	ERR(13510, R("<Say loop=\"-1\">x</Say>"));
	ERR(13510, R("<Say loop=\"two\">x</Say>"));
	ERR(13510, R("<Say loop=\"99999999999\">x</Say>"));
	d = parse_ok(R("<Say voice=\"WOMAN\">x</Say><Say voice=\"polly.Joanna\">y</Say>"));
	assert_string_equal(d->verbs[0].u.say.voice, "woman");
	assert_string_equal(d->verbs[1].u.say.voice, "Polly.Joanna");
	twiml_free(d);
	ERR(13511, R("<Say voice=\"robot\">x</Say>"));
	ERR(13511, R("<Say voice=\"Polly.\">x</Say>"));
	ERR(13512, R("<Say language=\"english!\">x</Say>"));

	d = parse_ok(R("<Say/>"));
	assert_string_equal(d->verbs[0].u.say.text, "");
	assert_true(has_warning(d, 13520));
	twiml_free(d);
}

static void test_say_ssml(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(
	    R("<Say voice=\"Polly.Joanna\">Hello<break time=\"1s\"/>world, "
	      "<emphasis level=\"strong\">now</emphasis> <say-as interpret-as=\"digits\">123"
	      "</say-as><amazon:effect name=\"whispered\"><prosody rate=\"slow\">psst</prosody>"
	      "</amazon:effect><p>End.</p></Say>"));
	twiml_say *s = &only(d, TWIML_SAY)->u.say;
	assert_true(s->ssml);
	assert_string_equal(s->text, "Hello world, now 123psst End.");
	assert_int_equal(d->n_warnings, 0);
	twiml_free(d);
}

static void test_play(void **state)
{
	(void)state;
	twiml_doc *d =
	    parse_ok(R("<Play>\n https://example.com/a.mp3 \n</Play>"
	               "<Play loop=\"0\" digits=\"wW12#*ABCD\"/><Play loop=\"4\">/rel.wav</Play>"));
	assert_int_equal(d->n_verbs, 3);
	assert_string_equal(d->verbs[0].u.play.url, "https://example.com/a.mp3");
	assert_int_equal(d->verbs[0].u.play.loop, 1);
	assert_null(d->verbs[0].u.play.digits);
	assert_null(d->verbs[1].u.play.url);
	assert_string_equal(d->verbs[1].u.play.digits, "wW12#*ABCD");
	assert_int_equal(d->verbs[1].u.play.loop, TWIML_LOOP_MAX);
	assert_int_equal(d->verbs[2].u.play.loop, 4);
	assert_string_equal(d->verbs[2].u.play.url, "/rel.wav");
	twiml_free(d);
	ERR(13410, R("<Play loop=\"x\">a.mp3</Play>"));
	ERR(13410, R("<Play loop=\"-2\">a.mp3</Play>"));
	ERR(13430, R("<Play digits=\"12x\"/>"));
	ERR(12200, R("<Play/>"));
	ERR(12200, R("<Play>   </Play>"));
}

static void test_pause(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Pause/><Pause length=\"7\"/>"));
	assert_int_equal(d->verbs[0].u.pause.length, 1);
	assert_int_equal(d->verbs[1].u.pause.length, 7);
	twiml_free(d);
	ERR(13910, R("<Pause length=\"0\"/>"));
	ERR(13910, R("<Pause length=\"-1\"/>"));
	ERR(13910, R("<Pause length=\"1.5\"/>"));
	ERR(13910, R("<Pause length=\"\"/>"));
}

/* ---- Gather ---- */

static void test_gather_defaults(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Gather/>"));
	twiml_gather *g = &only(d, TWIML_GATHER)->u.gather;
	assert_null(g->action);
	assert_int_equal(g->method, TWIML_POST);
	assert_int_equal(g->input, TWIML_INPUT_DTMF);
	assert_int_equal(g->timeout, 5);
	assert_string_equal(g->finish_on_key, "#");
	assert_int_equal(g->num_digits, 0);
	assert_int_equal(g->speech_timeout, 5);
	assert_false(g->action_on_empty_result);
	assert_string_equal(g->language, "en-US");
	assert_null(g->hints);
	assert_true(g->profanity_filter);
	assert_true(g->barge_in);
	assert_false(g->enhanced);
	assert_int_equal(g->max_speech_time, 60);
	assert_int_equal(g->partial_result_callback_method, TWIML_POST);
	assert_int_equal(g->n_verbs, 0);
	twiml_free(d);
}

static void test_gather_attrs(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(
	    R("<Gather action=\"/next\" method=\"get\" input=\"dtmf speech\" timeout=\"10\" "
	      "finishOnKey=\"\" numDigits=\"4\" actionOnEmptyResult=\"TRUE\" language=\"es-MX\" "
	      "hints=\"yes, no, maybe\" speechModel=\"phone_call\" profanityFilter=\"false\" "
	      "enhanced=\"true\" partialResultCallback=\"/p\" partialResultCallbackMethod=\"GET\" "
	      "bargeIn=\"false\" debug=\"true\" maxSpeechTime=\"30\"/>"
	      "<Gather input=\"speech\" speechTimeout=\"auto\" finishOnKey=\"*\"/>"));
	twiml_gather *g = &d->verbs[0].u.gather;
	assert_string_equal(g->action, "/next");
	assert_int_equal(g->method, TWIML_GET);
	assert_int_equal(g->input, TWIML_INPUT_DTMF | TWIML_INPUT_SPEECH);
	assert_int_equal(g->timeout, 10);
	assert_string_equal(g->finish_on_key, "");
	assert_int_equal(g->num_digits, 4);
	assert_int_equal(g->speech_timeout, 10);
	assert_true(g->action_on_empty_result);
	assert_string_equal(g->language, "es-MX");
	assert_string_equal(g->hints, "yes, no, maybe");
	assert_string_equal(g->speech_model, "phone_call");
	assert_false(g->profanity_filter);
	assert_true(g->enhanced);
	assert_string_equal(g->partial_result_callback, "/p");
	assert_int_equal(g->partial_result_callback_method, TWIML_GET);
	assert_false(g->barge_in);
	assert_true(g->debug);
	assert_int_equal(g->max_speech_time, 30);
	g = &d->verbs[1].u.gather;
	assert_int_equal(g->input, TWIML_INPUT_SPEECH);
	assert_int_equal(g->speech_timeout, TWIML_SPEECH_TIMEOUT_AUTO);
	assert_string_equal(g->finish_on_key, "*");
	twiml_free(d);
}

static void test_gather_errors(void **state)
{
	(void)state;
	ERR(13310, R("<Gather finishOnKey=\"##\"/>"));
	ERR(13310, R("<Gather finishOnKey=\"x\"/>"));
	ERR(13312, R("<Gather method=\"PUT\"/>"));
	ERR(13313, R("<Gather timeout=\"-1\"/>"));
	ERR(13313, R("<Gather timeout=\"soon\"/>"));
	ERR(13314, R("<Gather numDigits=\"0\"/>"));
	ERR(13314, R("<Gather numDigits=\"x\"/>"));
	ERR(13326, R("<Gather input=\"voice\"/>"));
	ERR(13326, R("<Gather input=\"\"/>"));
	ERR(13327, R("<Gather speechTimeout=\"later\"/>"));
	ERR(13328, R("<Gather maxSpeechTime=\"61\"/>"));
	ERR(13329, R("<Gather partialResultCallbackMethod=\"PUT\"/>"));
	ERR(13331, R("<Gather language=\"e\"/>"));
	ERR(13332, R("<Gather bargeIn=\"maybe\"/>"));
	ERR(13333, R("<Gather profanityFilter=\"1\"/>"));
	ERR(13338, R("<Gather actionOnEmptyResult=\"yes\"/>"));
	ERR(12200, R("<Gather enhanced=\"yes\"/>"));
	char hint[102], buf[512];
	memset(hint, 'h', 101);
	hint[101] = '\0';
	snprintf(buf, sizeof buf, R("<Gather hints=\"ok, %s\"/>"), hint);
	ERR(13330, buf);
}

static void test_gather_nesting(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Gather numDigits=\"1\">\n  <Say loop=\"2\">Press 1</Say>\n"
	                          "  <Pause length=\"2\"/>\n  <Play>/beep.wav</Play>\n</Gather>"
	                          "<Say>No input</Say>"));
	assert_int_equal(d->n_verbs, 2);
	twiml_gather *g = &d->verbs[0].u.gather;
	assert_int_equal(g->n_verbs, 3);
	assert_int_equal(g->verbs[0].kind, TWIML_SAY);
	assert_string_equal(g->verbs[0].u.say.text, "Press 1");
	assert_int_equal(g->verbs[0].u.say.loop, 2);
	assert_int_equal(g->verbs[1].kind, TWIML_PAUSE);
	assert_int_equal(g->verbs[1].u.pause.length, 2);
	assert_int_equal(g->verbs[2].kind, TWIML_PLAY);
	assert_string_equal(g->verbs[2].u.play.url, "/beep.wav");
	assert_int_equal(d->verbs[1].kind, TWIML_SAY);
	twiml_free(d);

	ERR(13320, R("<Gather><Dial>+1415</Dial></Gather>"));
	ERR(13320, R("<Gather><Gather/></Gather>"));
	ERR(13320, R("<Gather><Record/></Gather>"));
	ERR(13320, R("<Gather><Bogus/></Gather>"));
	ERR(13320, R("<Gather><Play digits=\"1\"/></Gather>"));
	ERR(13322, R("<Gather><Say loop=\"x\">a</Say></Gather>"));
	ERR(13321, R("<Gather><Say voice=\"robot\">a</Say></Gather>"));
	ERR(13410, R("<Gather><Play loop=\"x\">a.mp3</Play></Gather>"));
	ERR(13910, R("<Gather><Pause length=\"0\"/></Gather>"));
	ERR(12200, R("<Gather>Press 1</Gather>"));
}

/* ---- Dial ---- */

static void test_dial_defaults(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Dial> +14155550100 </Dial>"));
	twiml_dial *g = &only(d, TWIML_DIAL)->u.dial;
	assert_null(g->action);
	assert_int_equal(g->method, TWIML_POST);
	assert_int_equal(g->timeout, 30);
	assert_int_equal(g->time_limit, 14400);
	assert_false(g->hangup_on_star);
	assert_null(g->caller_id);
	assert_int_equal(g->record, TWIML_DIAL_REC_NONE);
	assert_int_equal(g->trim, TWIML_TRIM_NONE);
	assert_null(g->recording_status_callback);
	assert_int_equal(g->recording_status_callback_method, TWIML_POST);
	assert_int_equal(g->recording_status_callback_event, TWIML_REC_EV_COMPLETED);
	assert_int_equal(g->recording_track, TWIML_TRACK_BOTH);
	assert_false(g->answer_on_bridge);
	assert_int_equal(g->ring_tone, TWIML_RING_NONE);
	assert_null(g->refer_url);
	assert_int_equal(g->refer_method, TWIML_POST);
	assert_false(g->sequential);
	assert_null(g->call_reason);
	assert_int_equal(g->n_nouns, 1);
	twiml_number *n = &g->nouns[0].u.number;
	assert_int_equal(g->nouns[0].kind, TWIML_NOUN_NUMBER);
	assert_true(n->bare);
	assert_string_equal(n->number, "+14155550100");
	assert_null(n->send_digits);
	assert_null(n->leg.url);
	assert_int_equal(n->leg.status_callback_event, 0);
	assert_int_equal(n->amd.mode, TWIML_AMD_NONE);
	assert_int_equal(n->amd.timeout, 30);
	assert_int_equal(n->amd.speech_threshold, 2400);
	assert_int_equal(n->amd.speech_end_threshold, 1200);
	assert_int_equal(n->amd.silence_timeout, 5000);
	twiml_free(d);
}

static void test_dial_attrs(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R(
	    "<Dial action=\"/after\" method=\"GET\" timeout=\"20\" timeLimit=\"600\" "
	    "hangupOnStar=\"true\" callerId=\"+15005550006\" record=\"record-from-ringing-dual\" "
	    "trim=\"trim-silence\" recordingStatusCallback=\"/rec\" "
	    "recordingStatusCallbackMethod=\"GET\" recordingStatusCallbackEvent=\"in-progress "
	    "completed absent\" recordingTrack=\"inbound\" answerOnBridge=\"true\" ringTone=\"uk\" "
	    "referUrl=\"/refer\" referMethod=\"GET\" sequential=\"true\" callReason=\"Order "
	    "update\" "
	    "recordingConfigurationId=\"RC1\" events=\"call-progress-event\">"
	    "<Number>+14155550100</Number></Dial>"
	    "<Dial record=\"true\" ringTone=\"us-old\" timeout=\"2\">1234</Dial>"
	    "<Dial record=\"false\" timeout=\"1000\">1234</Dial>"));
	twiml_dial *g = &d->verbs[0].u.dial;
	assert_string_equal(g->action, "/after");
	assert_int_equal(g->method, TWIML_GET);
	assert_int_equal(g->timeout, 20);
	assert_int_equal(g->time_limit, 600);
	assert_true(g->hangup_on_star);
	assert_string_equal(g->caller_id, "+15005550006");
	assert_int_equal(g->record, TWIML_DIAL_REC_FROM_RINGING_DUAL);
	assert_int_equal(g->trim, TWIML_TRIM_SILENCE);
	assert_string_equal(g->recording_status_callback, "/rec");
	assert_int_equal(g->recording_status_callback_method, TWIML_GET);
	assert_int_equal(g->recording_status_callback_event,
	                 TWIML_REC_EV_IN_PROGRESS | TWIML_REC_EV_COMPLETED | TWIML_REC_EV_ABSENT);
	assert_int_equal(g->recording_track, TWIML_TRACK_INBOUND);
	assert_true(g->answer_on_bridge);
	assert_int_equal(g->ring_tone, TWIML_RING_UK);
	assert_string_equal(twiml_ringtone_name(g->ring_tone), "uk");
	assert_string_equal(g->refer_url, "/refer");
	assert_int_equal(g->refer_method, TWIML_GET);
	assert_true(g->sequential);
	assert_string_equal(g->call_reason, "Order update");
	assert_string_equal(g->recording_configuration_id, "RC1");
	assert_string_equal(g->events, "call-progress-event");
	assert_false(g->nouns[0].u.number.bare);
	g = &d->verbs[1].u.dial;
	assert_int_equal(g->record, TWIML_DIAL_REC_FROM_ANSWER);
	assert_int_equal(g->ring_tone, TWIML_RING_US_OLD);
	assert_int_equal(g->timeout, 5);
	g = &d->verbs[2].u.dial;
	assert_int_equal(g->record, TWIML_DIAL_REC_NONE);
	assert_int_equal(g->timeout, 600);
	assert_true(has_warning(d, 13212));
	twiml_free(d);
}

static void test_dial_errors(void **state)
{
	(void)state;
	ERR(13210, R("<Dial method=\"PUT\">1</Dial>"));
	ERR(13210, R("<Dial recordingStatusCallbackMethod=\"x\">1</Dial>"));
	ERR(13210, R("<Dial referMethod=\"DELETE\">1</Dial>"));
	ERR(13212, R("<Dial timeout=\"abc\">1</Dial>"));
	ERR(13212, R("<Dial timeout=\"0\">1</Dial>"));
	ERR(13212, R("<Dial timeout=\"-5\">1</Dial>"));
	ERR(13213, R("<Dial hangupOnStar=\"yes\">1</Dial>"));
	ERR(13214, R("<Dial callerId=\"+1 415 555\">1</Dial>"));
	ERR(13214, R("<Dial callerId=\"client:alice\"><Sip>sip:a@b</Sip></Dial>"));
	ERR(13214, R("<Dial callerId=\"a@b\"><Sip>sip:a@b</Sip></Dial>"));
	ERR(13216, R("<Dial timeLimit=\"0\">1</Dial>"));
	ERR(13216, R("<Dial timeLimit=\"86401\">1</Dial>"));
	ERR(13217, R("<Dial record=\"always\">1</Dial>"));
	ERR(13218, R("<Dial sequential=\"1\">1</Dial>"));
	ERR(13219, R("<Dial answerOnBridge=\"on\">1</Dial>"));
	ERR(13220, R("<Dial ringTone=\"xx\">1</Dial>"));
	ERR(13621, R("<Dial recordingStatusCallbackEvent=\"done\">1</Dial>"));
	ERR(12200, R("<Dial trim=\"yes\">1</Dial>"));
	ERR(12200, R("<Dial recordingTrack=\"left\">1</Dial>"));
	ERR(12200, R("<Dial callReason=\"123456789012345678901234567890123456789012345678901\">1"
	             "</Dial>"));
	/* 50 characters are fine; Sip callerId with the allowed set too. */
	twiml_doc *d =
	    parse_ok(R("<Dial callReason=\"12345678901234567890123456789012345678901234567890\">"
	               "1</Dial><Dial callerId=\"Alice_B-2.0+x\"><Sip>sip:a@b</Sip></Dial>"));
	twiml_free(d);
}

static void test_dial_nesting(void **state)
{
	(void)state;
	ERR(13215, R("<Dial><Say>hi</Say></Dial>"));
	ERR(13215, R("<Dial><Bogus/></Dial>"));
	ERR(13215, R("<Dial>+1415<Number>+1416</Number></Dial>"));
	ERR(13215, R("<Dial><Number>+1416</Number>+1415</Dial>"));
	ERR(13215, R("<Dial><Conference>a</Conference><Number>+1</Number></Dial>"));
	ERR(13215, R("<Dial><Number>+1</Number><Queue>q</Queue></Dial>"));
	ERR(13215, R("<Dial><Queue>q</Queue><Queue>r</Queue></Dial>"));
	ERR(13215, R("<Dial><Conference>a</Conference><Conference>b</Conference></Dial>"));
	ERR(13223, R("<Dial/>"));
	ERR(13223, R("<Dial>   </Dial>"));
	ERR(13223, R("<Dial>alice</Dial>"));
	ERR(13223, R("<Dial><Number/></Dial>"));
	ERR(13223, R("<Dial><Number>call me</Number></Dial>"));
	ERR(12200, R("<Dial><Number>1<Say>x</Say></Number></Dial>"));
	ERR(12200, R("<Dial><Sip>sip:a@b<Uri>sip:c@d</Uri></Sip></Dial>"));
	ERR(12200, R("<Dial><Conference>a<Number>1</Number></Conference></Dial>"));
}

static void test_dial_noun_limit(void **state)
{
	(void)state;
	char buf[4096];
	size_t o = (size_t)snprintf(buf, sizeof buf, "<Response><Dial>");
	for (int i = 0; i < 4; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "<Number>+1415555010%d</Number>", i);
	for (int i = 0; i < 3; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "<Client>agent%d</Client>", i);
	for (int i = 0; i < 3; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "<Sip>sip:%d@pbx.example.com</Sip>",
		                      i);
	size_t mark = o;
	snprintf(buf + o, sizeof buf - o, "</Dial></Response>");
	twiml_doc *d = parse_ok(buf);
	assert_int_equal(d->verbs[0].u.dial.n_nouns, 10);
	assert_int_equal(d->verbs[0].u.dial.nouns[4].kind, TWIML_NOUN_CLIENT);
	assert_int_equal(d->verbs[0].u.dial.nouns[9].kind, TWIML_NOUN_SIP);
	twiml_free(d);
	snprintf(buf + mark, sizeof buf - mark, "<Number>+14155550199</Number></Dial></Response>");
	twiml_error e;
	assert_int_equal(parse_err(buf, &e), 13250);
	assert_string_equal(e.msg, "Dial: too many nouns (max 10)");
}

static void test_number(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(
	    R("<Dial><Number sendDigits=\"wwww1928\" url=\"/whisper\" method=\"GET\" byoc=\"BY1\" "
	      "statusCallback=\"/s\" statusCallbackMethod=\"GET\" "
	      "statusCallbackEvent=\"initiated ringing answered completed\" "
	      "machineDetection=\"DetectMessageEnd\" machineDetectionTimeout=\"45\" "
	      "machineDetectionSpeechThreshold=\"3000\" machineDetectionSpeechEndThreshold=\"800\" "
	      "machineDetectionSilenceTimeout=\"6000\" amdStatusCallback=\"/amd\" "
	      "amdStatusCallbackMethod=\"GET\">(415) 555-0100</Number>"
	      "<Number statusCallback=\"/only\">+44 20 7946 0000</Number>"
	      "<Number statusCallbackEvent=\"ringing,answered\">+33</Number></Dial>"));
	twiml_dial *g = &d->verbs[0].u.dial;
	twiml_number *n = &g->nouns[0].u.number;
	assert_string_equal(n->number, "(415) 555-0100");
	assert_false(n->bare);
	assert_string_equal(n->send_digits, "wwww1928");
	assert_string_equal(n->leg.url, "/whisper");
	assert_int_equal(n->leg.method, TWIML_GET);
	assert_string_equal(n->byoc, "BY1");
	assert_string_equal(n->leg.status_callback, "/s");
	assert_int_equal(n->leg.status_callback_method, TWIML_GET);
	assert_int_equal(n->leg.status_callback_event, TWIML_EV_INITIATED | TWIML_EV_RINGING |
	                                                   TWIML_EV_ANSWERED | TWIML_EV_COMPLETED);
	assert_int_equal(n->amd.mode, TWIML_AMD_DETECT_MESSAGE_END);
	assert_int_equal(n->amd.timeout, 45);
	assert_int_equal(n->amd.speech_threshold, 3000);
	assert_int_equal(n->amd.speech_end_threshold, 800);
	assert_int_equal(n->amd.silence_timeout, 6000);
	assert_string_equal(n->amd.status_callback, "/amd");
	assert_int_equal(n->amd.status_callback_method, TWIML_GET);
	assert_int_equal(g->nouns[1].u.number.leg.status_callback_event, TWIML_EV_COMPLETED);
	assert_int_equal(g->nouns[2].u.number.leg.status_callback_event,
	                 TWIML_EV_RINGING | TWIML_EV_ANSWERED);
	twiml_free(d);

	ERR(13221, R("<Dial><Number method=\"PUT\">1</Number></Dial>"));
	ERR(13221, R("<Dial><Number statusCallbackMethod=\"x\">1</Number></Dial>"));
	ERR(13222, R("<Dial><Number sendDigits=\"12x\">1</Number></Dial>"));
	ERR(12200, R("<Dial><Number statusCallbackEvent=\"hungup\">1</Number></Dial>"));
	ERR(12200, R("<Dial><Number machineDetection=\"Maybe\">1</Number></Dial>"));
	ERR(12200, R("<Dial><Number machineDetectionTimeout=\"2\">1</Number></Dial>"));
	ERR(12200, R("<Dial><Number machineDetectionSpeechThreshold=\"6001\">1</Number></Dial>"));
	ERR(12200, R("<Dial><Number machineDetectionSpeechEndThreshold=\"499\">1</Number></Dial>"));
	ERR(12200, R("<Dial><Number machineDetectionSilenceTimeout=\"10001\">1</Number></Dial>"));
}

static void test_client(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R(
	    "<Dial><Client url=\"/screen\" method=\"GET\" statusCallback=\"/cs\" "
	    "clientNotificationUrl=\"https://push.example.com\"> alice </Client>"
	    "<Client><Identity>bob</Identity><Parameter name=\"FirstName\" value=\"Bob &amp; Co\"/>"
	    "<Parameter name=\"Empty\"/></Client></Dial>"));
	twiml_dial *g = &d->verbs[0].u.dial;
	twiml_client *c = &g->nouns[0].u.client;
	assert_int_equal(g->nouns[0].kind, TWIML_NOUN_CLIENT);
	assert_string_equal(c->identity, "alice");
	assert_string_equal(c->leg.url, "/screen");
	assert_int_equal(c->leg.method, TWIML_GET);
	assert_int_equal(c->leg.status_callback_event, TWIML_EV_COMPLETED);
	assert_string_equal(c->client_notification_url, "https://push.example.com");
	assert_int_equal(c->n_params, 0);
	c = &g->nouns[1].u.client;
	assert_string_equal(c->identity, "bob");
	assert_int_equal(c->n_params, 2);
	assert_string_equal(c->params[0].name, "FirstName");
	assert_string_equal(c->params[0].value, "Bob & Co");
	assert_string_equal(c->params[1].name, "Empty");
	assert_string_equal(c->params[1].value, "");
	assert_int_equal(c->leg.status_callback_event, 0);
	twiml_free(d);

	ERR(12200, R("<Dial><Client>alice<Identity>bob</Identity></Client></Dial>"));
	ERR(12200, R("<Dial><Client><Identity>a</Identity><Identity>b</Identity></Client></Dial>"));
	ERR(12200, R("<Dial><Client/></Dial>"));
	ERR(12200, R("<Dial><Client><Identity> </Identity></Client></Dial>"));
	ERR(12200, R("<Dial><Client><Parameter value=\"x\"/>a</Client></Dial>"));
	ERR(12200, R("<Dial><Client>a<Bogus/></Client></Dial>"));
	ERR(12200, R("<Dial><Client><Parameter name=\"a\">text</Parameter>a</Client></Dial>"));
	ERR(12200, R("<Dial><Client method=\"PUT\">a</Client></Dial>"));
	char buf[512];
	char id[258];
	memset(id, 'a', 257);
	id[257] = '\0';
	snprintf(buf, sizeof buf, R("<Dial><Client>%s</Client></Dial>"), id);
	ERR(12200, buf);
	id[256] = '\0';
	snprintf(buf, sizeof buf, R("<Dial><Client>%s</Client></Dial>"), id);
	twiml_free(parse_ok(buf));
}

static void test_sip(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(
	    R("<Dial callerId=\"+15005550006\"><Sip username=\"u\" password=\"p&amp;w\" url=\"/s\" "
	      "method=\"GET\" statusCallbackEvent=\"answered\" statusCallbackMethod=\"GET\" "
	      "machineDetection=\"Enable\">\n"
	      "  sip:alice@pbx.example.com;transport=tls?X-Account=42&amp;User-to-User=abcd;"
	      "encoding=hex&amp;x-b=c\n"
	      "</Sip><Sip statusCallback=\"/cb\">SIPS:bob@example.com</Sip></Dial>"));
	twiml_dial *g = &d->verbs[0].u.dial;
	twiml_sip *s = &g->nouns[0].u.sip;
	assert_int_equal(g->nouns[0].kind, TWIML_NOUN_SIP);
	assert_string_equal(s->uri, "sip:alice@pbx.example.com;transport=tls?X-Account=42&"
	                            "User-to-User=abcd;encoding=hex&x-b=c");
	assert_string_equal(s->username, "u");
	assert_string_equal(s->password, "p&w");
	assert_string_equal(s->leg.url, "/s");
	assert_int_equal(s->leg.method, TWIML_GET);
	assert_int_equal(s->leg.status_callback_event, TWIML_EV_ANSWERED);
	assert_null(s->leg.status_callback);
	assert_int_equal(s->amd.mode, TWIML_AMD_ENABLE);
	s = &g->nouns[1].u.sip;
	assert_string_equal(s->uri, "SIPS:bob@example.com");
	assert_int_equal(s->leg.status_callback_event, TWIML_EV_COMPLETED);
	twiml_free(d);

	ERR(13241, R("<Dial><Sip method=\"PUT\">sip:a@b</Sip></Dial>"));
	ERR(13241, R("<Dial><Sip statusCallbackMethod=\"PUT\">sip:a@b</Sip></Dial>"));
	ERR(13243, R("<Dial><Sip>alice@example.com</Sip></Dial>"));
	ERR(13243, R("<Dial><Sip>sip:</Sip></Dial>"));
	ERR(13243, R("<Dial><Sip>sip:?x-a=b</Sip></Dial>"));
	ERR(13243, R("<Dial><Sip>sip:a b@c</Sip></Dial>"));
	ERR(13243, R("<Dial><Sip>tel:+14155550100</Sip></Dial>"));
	ERR(13243, R("<Dial><Sip/></Dial>"));
	ERR(13252, R("<Dial><Sip>sip:a@b?x-a</Sip></Dial>"));
	ERR(13252, R("<Dial><Sip>sip:a@b?=v</Sip></Dial>"));
	ERR(13252, R("<Dial><Sip>sip:a@b?x(a)=v</Sip></Dial>"));
	ERR(13249, R("<Dial><Sip password=\"p\">sip:a@b</Sip></Dial>"));

	/* URI part: < 255 characters; header block: < 1024 characters. */
	char uri[2048], buf[4096];
	memcpy(uri, "sip:", 4);
	memset(uri + 4, 'a', 250);
	uri[254] = '\0';
	snprintf(buf, sizeof buf, R("<Dial><Sip>%s</Sip></Dial>"), uri);
	twiml_free(parse_ok(buf));
	strcat(uri, "b");
	snprintf(buf, sizeof buf, R("<Dial><Sip>%s</Sip></Dial>"), uri);
	ERR(13243, buf);
	char h[1100];
	memcpy(h, "x-h=", 4);
	memset(h + 4, 'v', 1019);
	h[1023] = '\0';
	snprintf(buf, sizeof buf, R("<Dial><Sip>sip:a@b?%s</Sip></Dial>"), h);
	twiml_free(parse_ok(buf));
	strcat(h, "v");
	snprintf(buf, sizeof buf, R("<Dial><Sip>sip:a@b?%s</Sip></Dial>"), h);
	ERR(13253, buf);
}

static void test_conference(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Dial><Conference>Room 1234</Conference></Dial>"));
	twiml_conference *c = &d->verbs[0].u.dial.nouns[0].u.conference;
	assert_int_equal(d->verbs[0].u.dial.nouns[0].kind, TWIML_NOUN_CONFERENCE);
	assert_string_equal(c->name, "Room 1234");
	assert_false(c->muted);
	assert_int_equal(c->beep, TWIML_BEEP_TRUE);
	assert_true(c->start_conference_on_enter);
	assert_false(c->end_conference_on_exit);
	assert_null(c->participant_label);
	assert_int_equal(c->jitter_buffer_size, TWIML_JITTER_LARGE);
	assert_null(c->wait_url);
	assert_int_equal(c->wait_method, TWIML_POST);
	assert_int_equal(c->max_participants, 250);
	assert_int_equal(c->record, TWIML_CONF_REC_NONE);
	assert_null(c->region);
	assert_int_equal(c->trim, TWIML_TRIM_SILENCE);
	assert_int_equal(c->status_callback_event, 0);
	assert_int_equal(c->recording_status_callback_event, TWIML_REC_EV_COMPLETED);
	twiml_free(d);

	d = parse_ok(R(
	    "<Dial><Conference muted=\"true\" beep=\"onExit\" startConferenceOnEnter=\"false\" "
	    "endConferenceOnExit=\"true\" participantLabel=\"agent\" jitterBufferSize=\"off\" "
	    "waitUrl=\"\" waitMethod=\"GET\" maxParticipants=\"10\" record=\"record-from-start\" "
	    "region=\"IE1\" trim=\"do-not-trim\" coach=\"CA0123\" statusCallbackEvent=\"start end "
	    "join leave mute hold modify speaker announcement\" statusCallback=\"/c\" "
	    "statusCallbackMethod=\"GET\" recordingStatusCallback=\"/r\" "
	    "recordingStatusCallbackMethod=\"GET\" recordingStatusCallbackEvent=\"in-progress\" "
	    "eventCallbackUrl=\"/e\" recordingConfigurationId=\"RC\">Room</Conference></Dial>"));
	c = &d->verbs[0].u.dial.nouns[0].u.conference;
	assert_true(c->muted);
	assert_int_equal(c->beep, TWIML_BEEP_ON_EXIT);
	assert_false(c->start_conference_on_enter);
	assert_true(c->end_conference_on_exit);
	assert_string_equal(c->participant_label, "agent");
	assert_int_equal(c->jitter_buffer_size, TWIML_JITTER_OFF);
	assert_string_equal(c->wait_url, "");
	assert_int_equal(c->wait_method, TWIML_GET);
	assert_int_equal(c->max_participants, 10);
	assert_int_equal(c->record, TWIML_CONF_REC_FROM_START);
	assert_string_equal(c->region, "ie1");
	assert_int_equal(c->trim, TWIML_TRIM_NONE);
	assert_string_equal(c->coach, "CA0123");
	assert_int_equal(c->status_callback_event, 0x1ff);
	assert_string_equal(c->status_callback, "/c");
	assert_int_equal(c->status_callback_method, TWIML_GET);
	assert_string_equal(c->recording_status_callback, "/r");
	assert_int_equal(c->recording_status_callback_method, TWIML_GET);
	assert_int_equal(c->recording_status_callback_event, TWIML_REC_EV_IN_PROGRESS);
	assert_string_equal(c->event_callback_url, "/e");
	assert_string_equal(c->recording_configuration_id, "RC");
	twiml_free(d);

	ERR(13230, R("<Dial><Conference muted=\"1\">a</Conference></Dial>"));
	ERR(13231, R("<Dial><Conference endConferenceOnExit=\"x\">a</Conference></Dial>"));
	ERR(13232, R("<Dial><Conference startConferenceOnEnter=\"x\">a</Conference></Dial>"));
	ERR(13234, R("<Dial><Conference waitMethod=\"PUT\">a</Conference></Dial>"));
	ERR(13235, R("<Dial><Conference beep=\"loud\">a</Conference></Dial>"));
	ERR(13237, R("<Dial><Conference> </Conference></Dial>"));
	ERR(13239, R("<Dial><Conference trim=\"x\">a</Conference></Dial>"));
	ERR(13621, R("<Dial><Conference recordingStatusCallbackEvent=\"x\">a</Conference></Dial>"));
	ERR(16023, R("<Dial><Conference participantLabel=\"a/b\">a</Conference></Dial>"));
	ERR(16023, R("<Dial><Conference participantLabel=\"CA0123456789abcdef0123456789abcdef\">a"
	             "</Conference></Dial>"));
	ERR(12200, R("<Dial><Conference maxParticipants=\"251\">a</Conference></Dial>"));
	ERR(12200, R("<Dial><Conference maxParticipants=\"1\">a</Conference></Dial>"));
	ERR(12200, R("<Dial><Conference region=\"xx1\">a</Conference></Dial>"));
	ERR(12200, R("<Dial><Conference jitterBufferSize=\"huge\">a</Conference></Dial>"));
	ERR(12200, R("<Dial><Conference record=\"true\">a</Conference></Dial>"));
	ERR(12200, R("<Dial><Conference statusCallbackEvent=\"x\">a</Conference></Dial>"));
	ERR(12200, R("<Dial><Conference statusCallbackMethod=\"x\">a</Conference></Dial>"));
	char label[130], buf[512];
	memset(label, 'l', 129);
	label[129] = '\0';
	snprintf(buf, sizeof buf,
	         R("<Dial><Conference participantLabel=\"%s\">a</Conference></Dial>"), label);
	ERR(16023, buf);
}

static void test_queue(void **state)
{
	(void)state;
	twiml_doc *d =
	    parse_ok(R("<Dial><Queue url=\"/about\" method=\"GET\" reservationSid=\"WR1\" "
	               "postWorkActivitySid=\"WA1\">support</Queue></Dial>"));
	twiml_queue *q = &d->verbs[0].u.dial.nouns[0].u.queue;
	assert_int_equal(d->verbs[0].u.dial.nouns[0].kind, TWIML_NOUN_QUEUE);
	assert_string_equal(q->name, "support");
	assert_string_equal(q->url, "/about");
	assert_int_equal(q->method, TWIML_GET);
	assert_string_equal(q->reservation_sid, "WR1");
	assert_string_equal(q->post_work_activity_sid, "WA1");
	twiml_free(d);
	d = parse_ok(R("<Dial><Queue>q</Queue></Dial>"));
	assert_int_equal(d->verbs[0].u.dial.nouns[0].u.queue.method, TWIML_POST);
	assert_null(d->verbs[0].u.dial.nouns[0].u.queue.url);
	twiml_free(d);
	ERR(14210, R("<Dial><Queue method=\"PUT\">q</Queue></Dial>"));
	ERR(14212, R("<Dial><Queue/></Dial>"));
	ERR(14213,
	    R("<Dial><Queue>12345678901234567890123456789012345678901234567890123456789012345"
	      "</Queue></Dial>"));
}

static void test_generic_nouns(void **state)
{
	(void)state;
	twiml_doc *d =
	    parse_ok(R("<Dial><Application copyParentTo=\"true\"><ApplicationSid>AP123"
	               "</ApplicationSid><Parameter name=\"a\" value=\"b\"/></Application>"
	               "<WhatsApp>+14155550100</WhatsApp></Dial>"));
	twiml_dial *g = &d->verbs[0].u.dial;
	assert_int_equal(g->n_nouns, 2);
	twiml_node *n = &g->nouns[0].u.generic;
	assert_int_equal(g->nouns[0].kind, TWIML_NOUN_APPLICATION);
	assert_string_equal(n->name, "Application");
	assert_string_equal(twiml_attr_get(n, "copyParentTo"), "true");
	assert_null(n->text);
	assert_int_equal(n->n_children, 2);
	assert_string_equal(n->children[0].name, "ApplicationSid");
	assert_string_equal(n->children[0].text, "AP123");
	assert_string_equal(twiml_attr_get(&n->children[1], "value"), "b");
	assert_int_equal(g->nouns[1].kind, TWIML_NOUN_WHATSAPP);
	assert_string_equal(g->nouns[1].u.generic.text, "+14155550100");
	twiml_free(d);
}

/* ---- Record / Redirect / Reject / Hangup / Leave ---- */

static void test_record(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Record/>"));
	twiml_record *r = &only(d, TWIML_RECORD)->u.record;
	assert_null(r->action);
	assert_int_equal(r->method, TWIML_POST);
	assert_int_equal(r->timeout, 5);
	assert_string_equal(r->finish_on_key, "1234567890*#");
	assert_int_equal(r->max_length, 3600);
	assert_true(r->play_beep);
	assert_int_equal(r->trim, TWIML_TRIM_SILENCE);
	assert_null(r->recording_status_callback);
	assert_int_equal(r->recording_status_callback_method, TWIML_POST);
	assert_int_equal(r->recording_status_callback_event, TWIML_REC_EV_COMPLETED);
	assert_false(r->transcribe);
	assert_null(r->transcribe_callback);
	twiml_free(d);

	d = parse_ok(R("<Record action=\"/done\" method=\"GET\" timeout=\"0\" finishOnKey=\"\" "
	               "maxLength=\"20\" playBeep=\"false\" trim=\"do-not-trim\" "
	               "recordingStatusCallback=\"/rs\" recordingStatusCallbackMethod=\"GET\" "
	               "recordingStatusCallbackEvent=\"absent completed\" transcribe=\"true\" "
	               "transcribeCallback=\"/t\" recordingConfigurationId=\"RC\"/>"
	               "<Record transcribe=\"true\" finishOnKey=\"*#\"/>"));
	r = &d->verbs[0].u.record;
	assert_string_equal(r->action, "/done");
	assert_int_equal(r->method, TWIML_GET);
	assert_int_equal(r->timeout, 0);
	assert_string_equal(r->finish_on_key, "");
	assert_int_equal(r->max_length, 20);
	assert_false(r->play_beep);
	assert_int_equal(r->trim, TWIML_TRIM_NONE);
	assert_string_equal(r->recording_status_callback, "/rs");
	assert_int_equal(r->recording_status_callback_method, TWIML_GET);
	assert_int_equal(r->recording_status_callback_event,
	                 TWIML_REC_EV_ABSENT | TWIML_REC_EV_COMPLETED);
	assert_true(r->transcribe);
	assert_string_equal(r->transcribe_callback, "/t");
	assert_string_equal(r->recording_configuration_id, "RC");
	r = &d->verbs[1].u.record;
	assert_int_equal(r->max_length, 120);
	assert_string_equal(r->finish_on_key, "*#");
	twiml_free(d);

	ERR(13610, R("<Record method=\"PUT\"/>"));
	ERR(13610, R("<Record recordingStatusCallbackMethod=\"PUT\"/>"));
	ERR(13611, R("<Record timeout=\"-1\"/>"));
	ERR(13612, R("<Record maxLength=\"1\"/>"));
	ERR(13612, R("<Record maxLength=\"86401\"/>"));
	ERR(13612, R("<Record maxLength=\"long\"/>"));
	ERR(13613, R("<Record finishOnKey=\"a\"/>"));
	ERR(13614, R("<Record transcribe=\"yes\"/>"));
	ERR(13615, R("<Record transcribe=\"true\" maxLength=\"121\"/>"));
	ERR(13616, R("<Record playBeep=\"no\"/>"));
	ERR(13621, R("<Record recordingStatusCallbackEvent=\"done\"/>"));
	ERR(13699, R("<Record trim=\"yes\"/>"));
}

static void test_redirect(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Redirect>\n  /next?a=1&amp;b=2\n</Redirect>"
	                          "<Redirect method=\"get\">https://x.example/y</Redirect>"));
	assert_string_equal(d->verbs[0].u.redirect.url, "/next?a=1&b=2");
	assert_int_equal(d->verbs[0].u.redirect.method, TWIML_POST);
	assert_int_equal(d->verbs[1].u.redirect.method, TWIML_GET);
	twiml_free(d);
	ERR(13710, R("<Redirect method=\"PUT\">/x</Redirect>"));
	ERR(12200, R("<Redirect/>"));
	ERR(12200, R("<Redirect>  </Redirect>"));
}

static void test_reject_hangup_leave(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(R("<Reject/><Reject reason=\"busy\"/><Reject reason=\"Rejected\"/>"
	                          "<Hangup/><Leave/>"));
	assert_int_equal(d->n_verbs, 5);
	assert_int_equal(d->verbs[0].u.reject.reason, TWIML_REJECT_REJECTED);
	assert_int_equal(d->verbs[1].u.reject.reason, TWIML_REJECT_BUSY);
	assert_int_equal(d->verbs[2].u.reject.reason, TWIML_REJECT_REJECTED);
	assert_int_equal(d->verbs[3].kind, TWIML_HANGUP);
	assert_int_equal(d->verbs[4].kind, TWIML_LEAVE);
	assert_int_equal(d->n_warnings, 0);
	twiml_free(d);
	ERR(13810, R("<Reject reason=\"declined\"/>"));
}

/* ---- Refer / Enqueue ---- */

static void test_refer(void **state)
{
	(void)state;
	twiml_doc *d =
	    parse_ok(R("<Refer action=\"/refer-done\" method=\"GET\">\n"
	               "  <Sip>sip:bob@example.com?X-Ticket=7&amp;User-to-User=aa</Sip>\n"
	               "</Refer><Refer><Sip>tel:+14155550100</Sip></Refer>"));
	twiml_refer *r = &d->verbs[0].u.refer;
	assert_string_equal(r->action, "/refer-done");
	assert_int_equal(r->method, TWIML_GET);
	assert_string_equal(r->target, "sip:bob@example.com?X-Ticket=7&User-to-User=aa");
	assert_null(d->verbs[1].u.refer.action);
	assert_int_equal(d->verbs[1].u.refer.method, TWIML_POST);
	assert_string_equal(d->verbs[1].u.refer.target, "tel:+14155550100");
	twiml_free(d);
	ERR(12200, R("<Refer/>"));
	ERR(12200, R("<Refer>sip:a@b</Refer>"));
	ERR(12200, R("<Refer><Sip>sip:a@b</Sip><Sip>sip:c@d</Sip></Refer>"));
	ERR(12200, R("<Refer><Number>1</Number></Refer>"));
	ERR(12200, R("<Refer method=\"PUT\"><Sip>sip:a@b</Sip></Refer>"));
	ERR(13243, R("<Refer><Sip>http://x</Sip></Refer>"));
	ERR(13243, R("<Refer><Sip/></Refer>"));
}

static void test_enqueue(void **state)
{
	(void)state;
	twiml_doc *d =
	    parse_ok(R("<Enqueue action=\"/left\" method=\"GET\" waitUrl=\"\" "
	               "waitUrlMethod=\"GET\"> support </Enqueue><Enqueue "
	               "workflowSid=\"WW0123\"><Task priority=\"5\" timeout=\"200\">"
	               "{\"selected_language\": \"es\"}</Task></Enqueue><Enqueue>q</Enqueue>"));
	twiml_enqueue *e = &d->verbs[0].u.enqueue;
	assert_string_equal(e->name, "support");
	assert_string_equal(e->action, "/left");
	assert_int_equal(e->method, TWIML_GET);
	assert_string_equal(e->wait_url, "");
	assert_int_equal(e->wait_url_method, TWIML_GET);
	assert_null(e->task);
	assert_int_equal(e->task_priority, -1);
	e = &d->verbs[1].u.enqueue;
	assert_string_equal(e->name, "");
	assert_string_equal(e->workflow_sid, "WW0123");
	assert_string_equal(e->task, "{\"selected_language\": \"es\"}");
	assert_int_equal(e->task_priority, 5);
	assert_int_equal(e->task_timeout, 200);
	e = &d->verbs[2].u.enqueue;
	assert_null(e->wait_url);
	assert_int_equal(e->method, TWIML_POST);
	assert_int_equal(e->wait_url_method, TWIML_POST);
	twiml_free(d);
	ERR(14201, R("<Enqueue method=\"PUT\">q</Enqueue>"));
	ERR(14206, R("<Enqueue waitUrlMethod=\"PUT\">q</Enqueue>"));
	ERR(14204, R("<Enqueue/>"));
	ERR(14205, R("<Enqueue>12345678901234567890123456789012345678901234567890123456789012345"
	             "</Enqueue>"));
	ERR(12200, R("<Enqueue>q<Task/><Task/></Enqueue>"));
	ERR(12200, R("<Enqueue>q<Say>x</Say></Enqueue>"));
	ERR(12200, R("<Enqueue>q<Task priority=\"high\"/></Enqueue>"));
}

/* ---- generic verbs ---- */

static void test_generic_verbs(void **state)
{
	(void)state;
	twiml_doc *d = parse_ok(
	    R("<Connect action=\"/c\"><Stream url=\"wss://media.example.com/s\">"
	      "<Parameter name=\"k\" value=\"v\"/></Stream></Connect>"
	      "<Start><Siprec connectorName=\"x\"/></Start><Stop><Stream name=\"s\"/></Stop>"
	      "<Pay chargeAmount=\"1.00\"><Prompt "
	      "for=\"payment-card-number\"><Say>Card</Say></Prompt>"
	      "</Pay><Prompt/><Sms to=\"+1\">hello</Sms><Echo/>"));
	assert_int_equal(d->n_verbs, 7);
	twiml_node *n = &d->verbs[0].u.generic;
	assert_int_equal(d->verbs[0].kind, TWIML_CONNECT);
	assert_string_equal(n->name, "Connect");
	assert_string_equal(twiml_attr_get(n, "action"), "/c");
	assert_null(twiml_attr_get(n, "nope"));
	assert_int_equal(n->n_children, 1);
	assert_string_equal(n->children[0].name, "Stream");
	assert_string_equal(twiml_attr_get(&n->children[0], "url"), "wss://media.example.com/s");
	assert_string_equal(n->children[0].children[0].name, "Parameter");
	assert_int_equal(d->verbs[1].kind, TWIML_START);
	assert_int_equal(d->verbs[2].kind, TWIML_STOP);
	assert_int_equal(d->verbs[3].kind, TWIML_PAY);
	n = &d->verbs[3].u.generic;
	assert_string_equal(n->children[0].children[0].name, "Say");
	assert_string_equal(n->children[0].children[0].text, "Card");
	assert_int_equal(d->verbs[4].kind, TWIML_PROMPT);
	assert_int_equal(d->verbs[5].kind, TWIML_SMS);
	assert_string_equal(d->verbs[5].u.generic.text, "hello");
	assert_int_equal(d->verbs[6].kind, TWIML_ECHO);
	assert_null(d->verbs[6].u.generic.text);
	assert_int_equal(d->n_warnings, 0);
	twiml_free(d);
}

/* ---- names ---- */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(twiml_verb_name(TWIML_SAY), "Say");
	assert_string_equal(twiml_verb_name(TWIML_DIAL), "Dial");
	assert_string_equal(twiml_verb_name(TWIML_ECHO), "Echo");
	assert_string_equal(twiml_verb_name(TWIML_NONE), "?");
	assert_string_equal(twiml_verb_name(-1), "?");
	assert_string_equal(twiml_verb_name(TWIML_KIND_COUNT), "?");
	assert_string_equal(twiml_noun_name(TWIML_NOUN_SIP), "Sip");
	assert_string_equal(twiml_noun_name(99), "?");
	assert_string_equal(twiml_method_name(TWIML_GET), "GET");
	assert_string_equal(twiml_method_name(TWIML_POST), "POST");
	assert_string_equal(twiml_ringtone_name(TWIML_RING_ZA), "za");
	assert_string_equal(twiml_ringtone_name(TWIML_RING_AT), "at");
	assert_null(twiml_ringtone_name(TWIML_RING_NONE));
	for (int k = TWIML_NONE + 1; k < TWIML_KIND_COUNT; k++)
		assert_string_not_equal(twiml_verb_name(k), "?");
	for (int r = TWIML_RING_NONE + 1; r < TWIML_RING_COUNT; r++)
		assert_non_null(twiml_ringtone_name((twiml_ringtone)r));
	twiml_free(NULL);
}

/* ---- allocation failures ---- */

static const char *const rich[] = {
    R("<Say voice=\"alice\" bogus=\"1\">Hello <break/> <emphasis>there</emphasis></Say>"
      "<Play loop=\"2\">a.mp3</Play><Pause length=\"2\"/>"
      "<Gather input=\"dtmf speech\" hints=\"a,b\"><Say>Press</Say><Play>b.wav</Play><Pause/>"
      "</Gather>"
      "<Dial action=\"/a\" callerId=\"+1\" recordingStatusCallback=\"/r\"><Number sendDigits=\"1\" "
      "url=\"/u\" statusCallback=\"/s\" amdStatusCallback=\"/amd\" byoc=\"b\">+1415</Number>"
      "<Client clientNotificationUrl=\"/n\"><Identity>bob</Identity><Parameter name=\"a\" "
      "value=\"b\"/></Client><Sip username=\"u\" password=\"p\">sip:a@b?x-a=1</Sip>"
      "<Application><ApplicationSid>AP1</ApplicationSid></Application></Dial>"
      "<Dial><Conference participantLabel=\"l\" waitUrl=\"/w\" region=\"us1\" coach=\"c\" "
      "statusCallback=\"/s\" recordingStatusCallback=\"/r\" eventCallbackUrl=\"/e\" "
      "recordingConfigurationId=\"x\">room</Conference></Dial>"
      "<Dial><Queue url=\"/q\" reservationSid=\"r\" postWorkActivitySid=\"p\">q</Queue></Dial>"
      "<Record action=\"/x\" recordingStatusCallback=\"/r\" transcribeCallback=\"/t\" "
      "finishOnKey=\"#\"/>"
      "<Redirect>/r</Redirect><Reject/><Refer action=\"/a\"><Sip>sip:x@y</Sip></Refer>"
      "<Enqueue action=\"/a\" waitUrl=\"/w\" workflowSid=\"W\">q<Task>{}</Task></Enqueue>"
      "<Leave/><Hangup/><Connect><Stream url=\"wss://x\"><Parameter name=\"a\"/></Stream>"
      "</Connect><Sms>hi</Sms>"),
    R("<Say>a</Say><Dial><Number>1</Number><Number>2</Number><Number>3</Number>"
      "<Number>4</Number><Number>5</Number></Dial><Dial>+1 415 555 0100</Dial>"),
    /* failing documents free their partial state too */
    R("<Say>ok</Say><Gather><Say>x</Say><Dial>1</Dial></Gather>"),
    R("<Dial><Client><Identity>a</Identity><Parameter name=\"x\" value=\"y\"/>"
      "</Client><Sip>bad</Sip></Dial>"),
};

static void test_alloc_failures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rich / sizeof rich[0]; i++) {
		twiml_error e0;
		twiml_doc *d = twiml_parse(rich[i], strlen(rich[i]), &e0);
		int expect = d ? 0 : e0.code;
		twiml_free(d);
		long b;
		for (b = 0; b < 100000; b++) {
			twiml_error e;
			tw_alloc_budget = b;
			d = twiml_parse(rich[i], strlen(rich[i]), &e);
			tw_alloc_budget = -1;
			if (d) {
				assert_int_equal(expect, 0);
				twiml_free(d);
				break;
			}
			if (e.code == expect)
				break;
			if (e.code != TW_OOM)
				fail_msg("doc %zu budget %ld: code %d (%s)", i, b, e.code, e.msg);
		}
		assert_true(b > 5);
		assert_true(b < 100000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_response),
	    cmocka_unit_test(test_wrong_root),
	    cmocka_unit_test(test_bad_xml),
	    cmocka_unit_test(test_oversize),
	    cmocka_unit_test(test_doctype_attacks),
	    cmocka_unit_test(test_predefined_entities),
	    cmocka_unit_test(test_latin1),
	    cmocka_unit_test(test_not_nul_terminated),
	    cmocka_unit_test(test_unknown_elements),
	    cmocka_unit_test(test_unknown_attributes_warn),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_line_numbers),
	    cmocka_unit_test(test_say),
	    cmocka_unit_test(test_say_ssml),
	    cmocka_unit_test(test_play),
	    cmocka_unit_test(test_pause),
	    cmocka_unit_test(test_gather_defaults),
	    cmocka_unit_test(test_gather_attrs),
	    cmocka_unit_test(test_gather_errors),
	    cmocka_unit_test(test_gather_nesting),
	    cmocka_unit_test(test_dial_defaults),
	    cmocka_unit_test(test_dial_attrs),
	    cmocka_unit_test(test_dial_errors),
	    cmocka_unit_test(test_dial_nesting),
	    cmocka_unit_test(test_dial_noun_limit),
	    cmocka_unit_test(test_number),
	    cmocka_unit_test(test_client),
	    cmocka_unit_test(test_sip),
	    cmocka_unit_test(test_conference),
	    cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_generic_nouns),
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_redirect),
	    cmocka_unit_test(test_reject_hangup_leave),
	    cmocka_unit_test(test_refer),
	    cmocka_unit_test(test_enqueue),
	    cmocka_unit_test(test_generic_verbs),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
