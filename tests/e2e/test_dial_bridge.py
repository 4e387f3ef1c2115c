"""<Dial answerOnBridge> (issue 3; twilio-voice.md §1.4, §2.1): false (the
default) answers the caller before dialing; true keeps the caller at
180/183 (early media relayed) and answers only when a leg answers."""
import unittest

from harness import XML_DECL, DialTestCase, dial_twiml, sip_noun
from rtp import parse_sdp

HANGUP = XML_DECL + "<Response><Hangup/></Response>"


class DialBridgeTest(DialTestCase):

    def test_false_answers_caller_before_dialing(self):
        """answerOnBridge="false": the caller's 200 OK comes before the
        callee's INVITE, and there is exactly one 200 (no second answer
        when the callee answers 1.5 s later)."""
        uas = self.uas("uas_answer", ring_ms=1500, bye_ms=500)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), answerOnBridge=False))
        res = self.caller(num, call_ms=0).wait()
        peer = uas.wait(5)
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        inv = peer.unique_requests("INVITE")[0]
        oks = res.received(200, "INVITE")
        self.assertEqual(len(oks), 1, res.summary())
        self.assertLessEqual(oks[0].time, inv.time + 0.05, "caller not answered before dialing\n" + res.summary())
        self.assertLess(oks[0].time, peer.sent_responses(200, "INVITE")[0].time)

    def test_true_rings_until_the_callee_answers(self):
        """answerOnBridge="true": 180 (or 183) to the caller while the callee
        rings 1.5 s, the caller's 200 OK only after the callee's, with an
        rtpengine SDP; the caller hangs up → BYE to the callee."""
        uas = self.uas("uas_answer", ring_ms=1500, bye_ms=0)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), answerOnBridge=True))
        res = self.caller(num, call_ms=1000).wait()
        peer = uas.wait(5)
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        callee_ok = peer.sent_responses(200, "INVITE")[0]
        oks = res.received(200, "INVITE")
        self.assertEqual(len(oks), 1, res.summary())
        self.assertGreaterEqual(oks[0].time, callee_ok.time - 0.01, "caller answered before the callee\n" + res.summary())
        early = [m for m in res.received() if m.code in (180, 183) and m.time < oks[0].time]
        self.assertTrue(early, "no 180/183 while the callee rang\n" + res.summary())
        self.assertGreater(oks[0].time - early[0].time, 1.0, res.summary())
        self.assertMediaSdp(oks[0].body, "caller's 200 OK")
        self.assertEqual(len(peer.recv_requests("BYE")), 1, peer.summary())

    def test_true_relays_early_media(self):
        """answerOnBridge="true" and a callee that sends 183 with SDP: the
        caller gets a 183 with SDP (through rtpengine, not the callee's own
        address) before its 200 OK."""
        uas = self.uas("uas_answer", ring_ms=1000, early=1, bye_ms=500)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), answerOnBridge=True))
        res = self.caller(num, call_ms=0).wait()
        peer = uas.wait(5)
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        ok = res.received(200, "INVITE")[0]
        with_sdp = [m for m in res.received(183) if parse_sdp(m.body)]
        self.assertTrue(with_sdp, "no 183 with SDP relayed to the caller\n" + res.summary())
        self.assertLess(with_sdp[0].time, ok.time)
        sdp = self.assertMediaSdp(with_sdp[0].body, "183 to the caller")
        self.assertNotEqual(sdp.port, int(uas.keys["rtp_port"]), "callee's SDP passed through unanchored")

    def test_true_never_answers_when_the_dial_fails(self):
        """answerOnBridge="true", the only target is busy, nothing follows the
        Dial: the caller is never answered; it gets a final error response."""
        uas = self.uas("uas_reject", code=486)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), answerOnBridge=True))
        res = self.caller(num, call_ms=0).wait()
        self.assertEqual(res.rc, 0, res.summary())
        sid = self.call_sid_of(p)
        st, call = self.stack.wait_call_status(sid, {"busy", "no-answer", "failed", "completed", "canceled"}, 5)
        self.assertNotIn(200, res.codes(), "%s\ncaller's record: %s" % (res.summary(), call.get("status")))
        code = res.final_code()
        self.assertIsNotNone(code, res.summary())
        self.assertGreaterEqual(code, 300, res.summary())
        self.assertNotEqual(call.get("status"), "completed", call)


if __name__ == "__main__":
    unittest.main()
