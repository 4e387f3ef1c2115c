"""REST update of a live call (issue 5, first part; twilio-voice.md §5.2):
POST /Calls/{Sid}.json with Status=completed hangs the call up, Status=
canceled only a call not answered yet, Url/Twiml redirect it at once (a
<Dial> in progress loses its legs and its action), and bad input gets
Twilio's error JSON."""
import time
import unittest

from harness import XML_DECL, DialTestCase, dial_twiml, sip_noun, wait_until

PAUSE = XML_DECL + "<Response><Pause length=\"20\"/></Response>"
HANGUP = XML_DECL + "<Response><Hangup/></Response>"


class CallsUpdateTest(DialTestCase):

    def live_call(self, twiml=PAUSE, **caller_kw):
        """A caller on a number running twiml; returns (caller, CallSid)."""
        num, p = self.route_number(twiml)
        a = self.caller(num, call_ms=0, **caller_kw)
        sid = self.call_sid_of(p)
        self.stack.wait_call_status(sid, ("ringing", "in-progress"))
        return a, sid

    def answered_call(self):
        """A caller answered and dialing a callee that rings for 20 s (a
        parent executing <Dial> is in-progress, §5.2); returns (caller,
        CallSid, callee)."""
        b = self.uas("uas_answer", ring_ms=20000, bye_ms=0)
        a, sid = self.live_call(dial_twiml(sip_noun(b.uri())))
        b.wait_request("INVITE", 1, 10)
        return a, sid, b

    def update(self, sid, **params):
        return self.stack.rest("POST", "Calls/%s.json" % sid, params)

    def test_canceled_ends_a_ringing_call(self):
        """Status=canceled on a call not answered yet (its TwiML pauses
        before picking up): the caller gets 487, the record ends canceled."""
        a, sid = self.live_call()
        st, body = self.update(sid, Status="canceled")
        self.assertEqual(st, 200, body)
        res = a.wait()
        self.assertEqual(res.final_code(), 487, res.summary())
        st, rec = self.stack.wait_call_status(sid, ("canceled",))
        self.assertEqual(rec["status"], "canceled", rec)

    def test_completed_hangs_up_a_call_in_progress(self):
        """Status=completed on an answered caller whose Dial rings: 200
        with the call JSON, the caller gets BYE within seconds, the ringing
        callee CANCEL, the record ends completed."""
        a, sid, b = self.answered_call()
        t0 = time.time()
        st, body = self.update(sid, Status="completed")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["sid"], sid)
        res = a.wait()
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(len(res.recv_requests("BYE")), 1, res.summary())
        self.assertLess(res.recv_requests("BYE")[0].time - t0, 3.0)
        st, rec = self.stack.wait_call_status(sid, ("completed",))
        self.assertEqual(rec["status"], "completed", rec)
        peer_b = b.wait(10)
        self.assertTrue(peer_b.recv_requests("CANCEL"), peer_b.summary())

    def test_canceled_has_no_effect_in_progress(self):
        """Status=canceled on an answered call changes nothing (§5.2): no
        BYE for 1.5 s; Status=completed then ends it."""
        a, sid, b = self.answered_call()
        st, body = self.update(sid, Status="canceled")
        self.assertEqual(st, 200, body)
        time.sleep(1.5)
        self.assertFalse(a.snapshot().recv_requests("BYE"), a.snapshot().summary())
        self.assertEqual(self.update(sid, Status="completed")[0], 200)
        self.assertEqual(a.wait().rc, 0)

    def test_twiml_redirect_interrupts_the_pause(self):
        """Twiml=<Response><Hangup/></Response> during a 20 s <Pause>: the
        pause is cut short and the caller gets BYE at once."""
        a, sid = self.live_call()
        t0 = time.time()
        st, body = self.update(sid, Twiml=HANGUP)
        self.assertEqual(st, 200, body)
        res = a.wait()
        self.assertEqual(res.rc, 0, res.summary())
        self.assertLess(res.recv_requests("BYE")[0].time - t0, 3.0, res.summary())

    def test_url_redirect_during_dial(self):
        """Url redirect of a caller bridged by <Dial>: the callee gets BYE,
        the Dial's action is not requested, the new Url is requested
        (Method=GET) with the caller's CallSid and its TwiML runs (hangs
        up the caller)."""
        b = self.uas("uas_answer", bye_ms=0)
        action = self.path("action")
        self.app.route(action, HANGUP)
        a, sid = self.live_call(dial_twiml(sip_noun(b.uri()), action=self.app.url(action)))
        b.wait_request("ACK", 1, 10)
        newp = self.path("new")
        self.app.route(newp, HANGUP)
        st, body = self.update(sid, Url=self.app.url(newp), Method="GET")
        self.assertEqual(st, 200, body)
        req = self.app.wait_requests(newp, 1)[0]
        self.assertEqual(req.method, "GET")
        self.assertEqual(req.params["CallSid"], sid)
        res, peer_b = a.wait(), b.wait(10)
        self.assertEqual((res.rc, peer_b.rc), (0, 0), res.summary() + peer_b.summary())
        self.assertEqual(len(peer_b.recv_requests("BYE")), 1, peer_b.summary())
        self.assertEqual(len(res.recv_requests("BYE")), 1, res.summary())
        self.assertFalse(self.app.requests(action))
        kids = self.wait_children_final(sid, 1)
        self.assertEqual(kids[0]["status"], "completed", kids)

    def test_bad_updates(self):
        """Bad Status, a non-http Url, Url and Twiml together, unparsable
        Twiml → 400 20001/21205 with Twilio's error JSON; an unknown Sid →
        404 20404; a call that has ended → 400 21220."""
        a, sid = self.live_call()
        cases = [({"Status": "busy"}, 400, 20001), ({"Url": "ftp://x/y"}, 400, 21205),
                 ({"Url": "http://127.0.0.1:9/x", "Twiml": HANGUP}, 400, 20001),
                 ({"Twiml": "<Response><Nope/>"}, 400, 20001)]
        for params, http, code in cases:
            st, body = self.update(sid, **params)
            self.assertEqual((st, body.get("code"), body.get("status")), (http, code, http), (params, body))
            self.assertTrue(body.get("message") and body.get("more_info"), body)
        self.assertFalse(a.snapshot().recv_requests("BYE"))
        st, body = self.update("CA" + "0" * 32, Status="completed")
        self.assertEqual((st, body.get("code")), (404, 20404), body)
        self.assertEqual(self.update(sid, Status="completed")[0], 200)
        self.assertEqual(a.wait().rc, 0)
        self.stack.wait_call_status(sid, ("completed",))
        self.assertTrue(wait_until(lambda: self.update(sid, Url="http://127.0.0.1:9/x")[0] == 400, 5))
        st, body = self.update(sid, Url="http://127.0.0.1:9/x")
        self.assertEqual((st, body.get("code")), (400, 21220), body)


if __name__ == "__main__":
    unittest.main()
