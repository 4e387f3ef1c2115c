/* update.c — a REST update of a live call (twilio-voice.md §5.2,
 * bus-protocol.md §12), delivered as an `api.update` event to the instance
 * running the call: Status=completed hangs it up (BYE, or 487 before the
 * answer), Status=canceled only a call not answered yet; Url/Twiml stop the
 * current verb at once (a Dial's legs are hung up, its action is not
 * requested) and run the new TwiML; StatusCallback replaces the call's own.
 * A dialled leg can be hung up the same way. Runs on the engine's loop. */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"
#include "twiml.h"

static void set(char **slot, const char *v)
{
	if (!v)
		return;
	free(*slot);
	*slot = strdup(v);
}

void update_on_event(call *c, json_t *ev)
{
	const char *sid = json_string_value(json_object_get(ev, "call_sid"));
	const char *status = json_string_value(json_object_get(ev, "status"));
	const char *url = json_string_value(json_object_get(ev, "url"));
	const char *twiml = json_string_value(json_object_get(ev, "twiml"));
	const char *method = json_string_value(json_object_get(ev, "method"));
	if (!sid || c->dead || c->ending)
		return;
	if (strcmp(sid, c->leg)) {
		/* A leg of this call's tree: only hanging up applies to it. */
		if (status)
			eng_cmd(c, c->proxy, sid, json_pack("{s:s}", "op", "hangup"));
		return;
	}
	set(&c->sc_url, json_string_value(json_object_get(ev, "status_callback")));
	set(&c->sc_method, json_string_value(json_object_get(ev, "status_callback_method")));
	if (outbound_update(c, ev))
		return; /* a REST-created call not answered yet */
	if (status && !strcmp(status, "canceled") && (c->answered || c->answering))
		status = NULL; /* no effect on a call in progress (§5.2) */
	if (status) {
		LOGI("call %s: REST Status=%s", c->sid, status);
		eng_interrupt(c);
		if (c->answered)
			eng_end_call(c, 0, NULL, "completed");
		else
			eng_end_call(c, 487, "Request Terminated", "canceled");
		return;
	}
	if (!url && !twiml)
		return;
	if (c->xfer || c->rep) {
		LOGW("call %s: REST redirect ignored: a transfer is under way", c->sid);
		return;
	}
	LOGI("call %s: REST redirect to %s", c->sid, url ? url : "inline TwiML");
	eng_interrupt(c);
	set(&c->fallback_url, json_string_value(json_object_get(ev, "fallback_url")));
	set(&c->fallback_method, json_string_value(json_object_get(ev, "fallback_method")));
	c->in_fallback = 0;
	if (url) {
		eng_fetch(c, url, method, NULL);
		return;
	}
	twiml_error err;
	twiml_doc *doc = twiml_parse(twiml, strlen(twiml), &err);
	if (!doc) { /* checked by the API already */
		eng_record_error(c, err.code, err.msg, NULL);
		eng_fail(c, err.code, err.msg);
		return;
	}
	eng_run_doc(c, doc, c->doc_url ? c->doc_url : "");
}
