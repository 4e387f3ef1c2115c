"""Issue 2 (f), (g): <Redirect> (relative URLs, the caller stays in 180) and
<Pause> before answer."""
import unittest

from harness import TERMINAL_STATUSES, TWIML_BUSY, XML_DECL, FulcrumTestCase


class TwimlFlowTest(FulcrumTestCase):

    def test_redirect_relative(self):
        """a → <Redirect>b</Redirect> (POST, resolved against a's URL) →
        <Redirect method="GET">../other/c?x=1</Redirect> → Reject busy.
        The caller sees 180 and then 486, never 200/183."""
        base = "/%s" % self._testMethodName
        pa, pb, pc = base + "/app/a", base + "/app/b", base + "/other/c"
        self.app.route(pa, XML_DECL + "<Response><Redirect>b</Redirect><Reject/></Response>")
        self.app.route(pb, XML_DECL + '<Response><Redirect method="GET">../other/c?x=1</Redirect></Response>')
        self.app.route(pc, TWIML_BUSY)
        num = self.number()
        self.stack.create_number(num, self.app.url(pa))
        res = self.sipp("uac_invite", ruri_user=num)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertFinal(res, 486)
        codes = res.codes()
        self.assertIn(180, codes, res.summary())
        self.assertNotIn(200, codes, res.summary())
        self.assertNotIn(183, codes, res.summary())

        ra = self.app.wait_requests(pa, 1, 5)
        rb = self.app.wait_requests(pb, 1, 5)
        rc = self.app.wait_requests(pc, 1, 5)
        self.assertEqual((len(ra), len(rb), len(rc)), (1, 1, 1), self.app.requests())
        sid = ra[0].params["CallSid"]
        self.assertEqual(rb[0].method, "POST")
        self.assertEqual(rb[0].params.get("CallSid"), sid)
        self.assertSignature(rb[0])
        self.assertEqual(rc[0].method, "GET")
        self.assertEqual(rc[0].query.get("x"), "1")
        self.assertEqual(rc[0].query.get("CallSid"), sid)
        self.assertEqual(rc[0].query.get("CallStatus"), "ringing")
        self.assertSignature(rc[0])
        # order: a before b before c
        self.assertLessEqual(ra[0].arrived, rb[0].arrived)
        self.assertLessEqual(rb[0].arrived, rc[0].arrived)
        st, call = self.stack.wait_call_status(sid, {"busy"}, 5)
        self.assertEqual(call.get("status") if isinstance(call, dict) else call, "busy")

    def test_pause_before_reject(self):
        """(g) <Pause length="2"/> then <Reject reason="busy"/>: the 486 comes
        at least ~2 s after the TwiML was served (bound 1.5 s), no answer."""
        num, p = self.number(), self.path()
        self.app.route(p, XML_DECL + '<Response><Pause length="2"/><Reject reason="busy"/></Response>')
        self.stack.create_number(num, self.app.url(p))
        res = self.sipp("uac_invite", ruri_user=num, timeout=20)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertFinal(res, 486)
        self.assertNotIn(200, res.codes(), res.summary())
        req = self.app.wait_requests(p, 1, 5)[0]
        self.assertTrue(self.app.wait_responded(req, 5))
        elapsed = res.final().time - req.responded
        self.assertGreaterEqual(elapsed, 1.5, "486 only %.2f s after the TwiML\n%s" % (elapsed, res.summary()))
        self.assertLess(elapsed, 6.0, res.summary())

    def test_empty_response_ends_call(self):
        """An empty <Response/> before answer ends the call (end of document):
        the caller gets a final response, not silence."""
        num, p = self.number(), self.path()
        self.app.route(p, XML_DECL + "<Response></Response>")
        self.stack.create_number(num, self.app.url(p))
        res = self.sipp("uac_invite", ruri_user=num, timeout=15)
        # (how it ends — a final error or 200 then BYE — is not asserted here)
        code = res.final_code()
        self.assertIsNotNone(code, res.summary())
        self.assertGreaterEqual(code, 200, res.summary())
        sid = self.app.wait_requests(p, 1, 5)[0].params["CallSid"]
        st, call = self.stack.wait_call_status(sid, TERMINAL_STATUSES, 5)
        self.assertEqual(st, 200, call)


if __name__ == "__main__":
    unittest.main()
