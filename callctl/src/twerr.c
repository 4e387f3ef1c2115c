/* twerr.c — the catalogue of Twilio error codes Fulcrum emits (code → short
 * standard title, worded after Twilio's error dictionary) and the REST error
 * body {"code","message","more_info","status"} (see twerr.h). */
#include "twerr.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

struct twerr_entry {
	int code;
	const char *message;
};

/* In code order; looked up linearly (error paths only, ~110 entries). */
static const struct twerr_entry twerr_table[] = {
    {10001, "Account is not active"},
    {11100, "Invalid URL format"},
    {11200, "HTTP retrieval failure"},
    {11205, "HTTP connection failure"},
    {11206, "HTTP protocol violation"},
    {11210, "HTTP bad host name"},
    {11215, "HTTP too many redirects"},
    {11217, "HTTP error response code"},
    {11220, "SSL/TLS Handshake Error"},
    {11235, "Certificate Invalid - Domain Mismatch"},
    {11236, "Certificate Invalid - Certificate Expired"},
    {11237, "Certificate Invalid - Could not find path to certificate"},
    {11750, "TwiML response body too large"},
    {12100, "Document parse failure"},
    {12101, "Invalid Twilio Markup XML version"},
    {12102, "The root element must be Response"},
    {12200, "Schema validation warning"},
    {12300, "Invalid Content-Type"},
    {12400, "Internal Failure"},
    {13201, "Dial: Cannot Dial out from a Dial Call Segment"},
    {13210, "Dial: Invalid method value"},
    {13212, "Dial: Invalid timeout value"},
    {13213, "Dial: Invalid hangupOnStar value"},
    {13214, "Dial: Invalid callerId value"},
    {13215, "Dial: Invalid nested element"},
    {13216, "Dial: Invalid timeLimit value"},
    {13217, "Dial: Invalid record value"},
    {13220, "Dial: Invalid ringTone value"},
    {13221, "Dial->Number: Invalid method value"},
    {13222, "Dial->Number: Invalid sendDigits value"},
    {13223, "Dial: Invalid phone number format"},
    {13224, "Dial: Twilio does not support calling this number or the number is invalid"},
    {13225, "Dial: Forbidden phone number"},
    {13226, "Dial: Invalid country code"},
    {13227, "Dial: No International Authorization"},
    {13230, "Dial->Conference: Invalid muted value"},
    {13231, "Dial->Conference: Invalid endConferenceOnExit value"},
    {13232, "Dial->Conference: Invalid startConferenceOnEnter value"},
    {13233, "Dial->Conference: Invalid waitUrl"},
    {13234, "Dial->Conference: Invalid waitMethod"},
    {13235, "Dial->Conference: Invalid beep value"},
    {13236, "Dial->Conference: Invalid Conference Sid"},
    {13237, "Dial->Conference: Invalid Conference Name"},
    {13238, "Dial->Conference: Invalid Verb used in waitUrl TwiML"},
    {13241, "Dial->SIP: Invalid method value"},
    {13242, "Dial->SIP: Invalid sendDigits value"},
    {13243, "Dial->SIP: Invalid SIP URI"},
    {13244, "Dial: No SIP Authorization"},
    {13310, "Gather: Invalid finishOnKey value"},
    {13312, "Gather: Invalid method value"},
    {13313, "Gather: Invalid timeout value"},
    {13314, "Gather: Invalid numDigits value"},
    {13320, "Gather: Invalid nested verb"},
    {13321, "Gather->Say: Invalid voice value"},
    {13322, "Gather->Say: Invalid loop value"},
    {13325, "Gather->Play: Invalid Content-Type"},
    {13410, "Play: Invalid loop value"},
    {13420, "Play: Invalid Content-Type"},
    {13510, "Say: Invalid loop value"},
    {13511, "Say: Invalid voice value"},
    {13520, "Say: Invalid text"},
    {13610, "Record: Invalid method value"},
    {13611, "Record: Invalid timeout value"},
    {13612, "Record: Invalid maxLength value"},
    {13613, "Record: Invalid finishOnKey value"},
    {13614, "Record: Invalid transcribe value"},
    {13615, "Record: maxLength too high for transcription"},
    {13616, "Record: playBeep must be true or false"},
    {13710, "Redirect: Invalid method value"},
    {13801, "Refer: Refer is only supported on SIP calls"},
    {13802, "Refer: REFER received without a referUrl"},
    {13910, "Pause: Invalid length value"},
    {16025, "Duplicate conference participant label"},
    {20001, "Unknown parameters"},
    {20003, "Authenticate"},
    {20004, "Method not allowed"},
    {20404, "The requested resource was not found"},
    {20429, "Too Many Requests"},
    {20500, "Internal Server Error"},
    {20503, "Service Unavailable"},
    {21201, "No 'To' number is specified"},
    {21205, "Invalid URL"},
    {21210, "'From' phone number not verified"},
    {21211, "Invalid 'To' Phone Number"},
    {21212, "Invalid 'From' Phone Number"},
    {21213, "Caller phone number is required"},
    {21216, "Call blocked by Twilio"},
    {21217, "Phone number does not appear to be valid"},
    {21220, "Invalid call state"},
    {21222, "Invalid SipAuthUsername. Illegal chars"},
    {21223, "Invalid SipAuthPassword length"},
    {21224, "Invalid SipAuthPassword. Illegal chars"},
    {21225, "SipAuthPassword is required when providing SipAuthUsername"},
    {21401, "Invalid Phone Number"},
    {21421, "PhoneNumber is invalid"},
    {21422, "PhoneNumber is not available"},
    {21451, "Invalid area code"},
    {21452, "No phone numbers found in area code"},
    {32006, "Too many hops"},
    {32011, "Error communicating with your SIP infrastructure"},
    {32101, "Invalid phone number"},
    {32106, "SIP: Authentication error"},
    {32201, "Source IP address not in ACL"},
    {32202, "Bad user credentials"},
    {32214, "SIP: Invalid SIP domain"},
    {32215, "SIP: Dialing a SIP domain without a region"},
    {32218, "SIP: Transfer not allowed"},
    {32219, "SIP: Redirect failed"},
    {32224, "SIP: Forwarded call blocked"},
};

#define TWERR_N (sizeof twerr_table / sizeof twerr_table[0])

const char *twerr_message(int code)
{
	for (size_t i = 0; i < TWERR_N; i++)
		if (twerr_table[i].code == code)
			return twerr_table[i].message;
	return "Error";
}

static char *pack(int code, int http_status, const char *message)
{
	char more[64];
	snprintf(more, sizeof more, "https://www.twilio.com/docs/errors/%d", code);
	json_t *o = json_pack("{s:i,s:s,s:s,s:i}", "code", code, "message", message, "more_info",
	                      more, "status", http_status);
	if (!o)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* A caller's message that is not valid UTF-8 (jansson refuses it) falls back
 * to the catalogue title rather than losing the whole error body. NULL only
 * when out of memory. */
char *twerr_json(int code, int http_status, const char *message)
{
	char *s = NULL;
	if (message)
		s = pack(code, http_status, message);
	if (!s)
		s = pack(code, http_status, twerr_message(code));
	return s;
}
