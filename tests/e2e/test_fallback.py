"""Issue 2 (h): fetch and document failures → VoiceFallbackUrl with ErrorCode
and ErrorUrl (twilio-voice.md §7); every error readable over REST as a
Notification of the call; a failing fallback gives the caller a final error
at once instead of silence."""
import time
import unittest

from harness import TERMINAL_STATUSES, TWIML_BUSY, XML_DECL, FulcrumTestCase, wait_until

# HTTP 4xx/5xx from the VoiceUrl: callctl reports 11200 (HTTP retrieval
# failure) to the fallback and in the Notification, as Twilio does for TwiML
# fetches (callctl/src/engine.c maps the fetch layer's 11217 to 11200).
HTTP_ERROR_CODES = {"11200"}


class FallbackTest(FulcrumTestCase):

    def _notifications(self, sid):
        st, body = self.stack.rest("GET", "Calls/%s/Notifications.json" % sid)
        if st != 200 or not isinstance(body, dict):
            return st, []
        return st, body.get("notifications") or []

    def _wait_notification(self, sid, codes, timeout=5):
        found = wait_until(lambda: [n for n in self._notifications(sid)[1]
                                    if str(n.get("error_code")) in codes], timeout, 0.1)
        return found

    def _fallback_case(self, codes, voice_body=TWIML_BUSY, status=200, content_type="text/xml",
                       delay=0, fragment=""):
        num = self.number()
        pv, pf = self.path("voice"), self.path("fallback")
        self.app.route(pv, voice_body, status=status, content_type=content_type, delay=delay)
        self.app.route(pf, TWIML_BUSY)
        voice_url = self.app.url(pv)
        self.stack.create_number(num, voice_url + fragment, fallback_url=self.app.url(pf))
        t0 = time.time()
        res = self.sipp("uac_invite", ruri_user=num, timeout=25)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertFinal(res, 486, "the fallback's <Reject reason=busy> must decide the call")
        self.assertLess(res.final().time - t0, 10 + delay, res.summary())

        rv = self.app.wait_requests(pv, 1, 5)
        rf = self.app.wait_requests(pf, 1, 5)
        self.assertEqual(len(rv), 1, "VoiceUrl requests: %r" % rv)
        self.assertEqual(len(rf), 1, "fallback requests: %r" % rf)
        sid = rv[0].params.get("CallSid")
        f = rf[0]
        self.assertEqual(f.method, "POST")
        self.assertSignature(f)
        P = f.params
        self.assertEqual(P.get("CallSid"), sid)
        self.assertEqual(P.get("AccountSid"), self.stack.account_sid)
        self.assertEqual(P.get("CallStatus"), "ringing")
        self.assertIn(P.get("ErrorCode"), codes, P)
        self.assertTrue(P.get("ErrorUrl", "").startswith(voice_url), P)
        self.assertNotIn("#", P.get("ErrorUrl", ""), "the fragment is not part of the URL requested")
        self.assertGreaterEqual(f.arrived, rv[0].arrived)

        notes = self._wait_notification(sid, {P.get("ErrorCode")})
        self.assertTrue(notes, "no notification with error_code %s for %s: %r" % (
            P.get("ErrorCode"), sid, self._notifications(sid)))
        n = notes[0]
        self.assertEqual(n.get("call_sid"), sid)
        self.assertEqual(n.get("account_sid"), self.stack.account_sid)
        self.assertTrue(str(n.get("request_url", "")).startswith(voice_url), n)
        st, call = self.stack.wait_call_status(sid, {"busy"}, 5)
        self.assertEqual(call.get("status") if isinstance(call, dict) else call, "busy")
        return res, rv[0], f

    def test_http_500(self):
        self._fallback_case(HTTP_ERROR_CODES, voice_body="oops", status=500, content_type="text/plain")

    def test_http_404(self):
        self._fallback_case(HTTP_ERROR_CODES, voice_body="not here", status=404, content_type="text/html")

    def test_bad_xml(self):
        self._fallback_case({"12100"}, voice_body=XML_DECL + "<Response><Reject></Response")

    def test_wrong_root(self):
        self._fallback_case({"12102"}, voice_body=XML_DECL + "<Respond><Reject/></Respond>")

    def test_bad_content_type(self):
        self._fallback_case({"12300"}, voice_body=TWIML_BUSY, content_type="text/plain")

    def test_timeout(self):
        """#rt=500&tt=500 on the VoiceUrl; the app answers after 2.5 s → 11205
        and the fallback decides the call well before the app would have."""
        res, rv, rf = self._fallback_case({"11205"}, delay=2.5, fragment="#rt=500&tt=500")
        self.assertLess(rf.arrived - rv.arrived, 2.0, "fallback only after %.2f s" % (rf.arrived - rv.arrived))

    def _failing_case(self, with_fallback):
        num = self.number()
        pv, pf = self.path("voice"), self.path("fallback")
        self.app.route(pv, "boom", status=500, content_type="text/plain")
        self.app.route(pf, "boom too", status=503, content_type="text/plain")
        kw = {"fallback_url": self.app.url(pf)} if with_fallback else {}
        self.stack.create_number(num, self.app.url(pv), **kw)
        t0 = time.time()
        res = self.sipp("uac_invite", ruri_user=num, timeout=25)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertFinal(res, 500)
        self.assertLess(res.final().time - t0, 5.0, "caller waited too long\n" + res.summary())
        self.assertEqual([c for c in res.codes() if c >= 200], [500], res.summary())
        rv = self.app.wait_requests(pv, 1, 5)
        self.assertEqual(len(rv), 1)
        if with_fallback:
            rf = self.app.wait_requests(pf, 1, 5)
            self.assertEqual(len(rf), 1)
            self.assertIn(rf[0].params.get("ErrorCode"), HTTP_ERROR_CODES)
        sid = rv[0].params["CallSid"]
        notes = self._wait_notification(sid, HTTP_ERROR_CODES)
        self.assertTrue(notes, self._notifications(sid))
        st, call = self.stack.wait_call_status(sid, TERMINAL_STATUSES, 5)
        self.assertIn(call.get("status") if isinstance(call, dict) else call, TERMINAL_STATUSES)
        self.assertTrue(wait_until(lambda: not self.stack.redis_keys("fc:live:" + sid), 5))

    def test_fallback_fails_too(self):
        """VoiceUrl 500, fallback 503 → final 500 quickly, not a hanging call."""
        self._failing_case(with_fallback=True)

    def test_no_fallback(self):
        """VoiceUrl 500 and no fallback configured → final 500 quickly."""
        self._failing_case(with_fallback=False)


if __name__ == "__main__":
    unittest.main()
