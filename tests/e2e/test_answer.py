"""Answering (issue 3): a call is answered with 200 OK carrying rtpengine's
SDP (with Allow and Supported); <Hangup> answers and then sends BYE; <Reject> never answers. The
number's StatusCallback fires `completed` at the end."""
import email.utils
import time
import unittest

from harness import CALL_SID_RE, XML_DECL, DialTestCase, dial_twiml, sip_noun, wait_until
from rtp import RtpEndpoint, parse_sdp


class AnswerTest(DialTestCase):

    def test_hangup_answers_then_byes(self):
        """<Hangup/> as the first verb: 100/180, then 200 OK with an SDP
        answer from rtpengine (not the caller's own address), our ACK, then
        an in-dialog BYE from Fulcrum; the record ends completed; the
        number's StatusCallback gets `completed` once."""
        scb = self.path("status")
        self.app.route(scb, "")
        num, p = self.route_number(XML_DECL + "<Response><Hangup/></Response>",
                                   StatusCallback=self.app.url(scb))
        with RtpEndpoint() as ep:
            res = self.caller(num, call_ms=0, rtp_port=ep.port, from_user="+14155550123").wait()
        self.assertEqual(res.rc, 0, res.summary())
        ok = res.final()
        self.assertIsNotNone(ok, res.summary())
        self.assertEqual(ok.code, 200, res.summary())
        self.assertTrue((ok.header("Content-Type") or "").startswith("application/sdp"), ok.text)
        self.assertTrue(ok.header("Contact"), "200 OK without Contact:\n" + ok.text)
        self.assertDialogHeaders(ok, "200 OK to the caller")
        for ringing in res.received(180, "INVITE"):
            self.assertDialogHeaders(ringing, "180 to the caller")
        self.assertIn(";tag=", ok.header("To") or "", ok.text)
        sdp = self.assertMediaSdp(ok.body, "200 OK to the caller")
        self.assertNotEqual(sdp.port, ep.port, "the caller's own SDP came back: media not anchored")
        # BYE from Fulcrum, in the caller's dialog, after the 200
        byes = res.recv_requests("BYE")
        self.assertEqual(len(set(b.header("Via") for b in byes)), 1, res.summary())
        bye = byes[0]
        self.assertGreaterEqual(bye.time, ok.time)
        self.assertEqual(bye.call_id, res.call_id)
        from_tag = (bye.header("From") or "").split("tag=")[-1]
        self.assertEqual(from_tag, (ok.header("To") or "").split("tag=")[-1], bye.text)
        self.assertIn("tag=", bye.header("To") or "")
        # the BYE goes to the caller's Contact
        self.assertTrue((bye.ruri or "").startswith("sip:+14155550123@127.0.0.1:"), bye.text)
        # answered once: no error final, no second 200 after our ACK
        self.assertFalse([c for c in res.codes() if c >= 300], res.summary())
        self.assertEqual(len(res.received(200, "INVITE")), 1, "200 OK retransmitted after the ACK?\n" + res.summary())

        sid = self.call_sid_of(p)
        self.assertRegex(sid, CALL_SID_RE)
        st, call = self.stack.wait_call_status(sid, {"completed"}, 8)
        self.assertEqual(call.get("status"), "completed", call)
        self.assertTrue(call.get("start_time") and call.get("end_time"), call)
        self.assertIsNotNone(call.get("duration"), call)
        cbs = self.app.wait_requests(scb, 1, 8)
        self.assertEqual(len(cbs), 1, cbs)
        time.sleep(0.5)
        cbs = self.app.requests(scb)
        self.assertEqual(len(cbs), 1, "StatusCallback must fire once: %r" % cbs)
        P = cbs[0].params
        self.assertSignature(cbs[0])
        self.assertEqual(P.get("CallSid"), sid)
        self.assertEqual(P.get("CallStatus"), "completed")
        self.assertEqual(P.get("Direction"), "inbound")
        self.assertTrue(P.get("CallDuration", "").isdigit(), P)
        if P.get("Timestamp"):
            self.assertIsNotNone(email.utils.parsedate_to_datetime(P["Timestamp"]), P)

    def test_pause_then_hangup(self):
        """<Pause length="1"/> first delays the answer (caller stays at 180),
        then <Hangup/> answers and hangs up."""
        num, p = self.route_number(XML_DECL + '<Response><Pause length="1"/><Hangup/></Response>')
        res = self.caller(num, call_ms=0).wait()
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(res.final_code(), 200, res.summary())
        req = self.app.wait_requests(p, 1, 5)[0]
        self.assertTrue(self.app.wait_responded(req, 5))
        self.assertGreaterEqual(res.final().time - req.responded, 0.8, res.summary())
        self.assertEqual(len(set(b.header("Via") for b in res.recv_requests("BYE"))), 1, res.summary())

    def test_hangup_waits_for_the_ack(self):
        """RFC 3261 §15.1.1: a caller that sends its ACK 1.5 s after the
        200 OK gets Fulcrum's BYE (for <Hangup/>) only after that ACK, not
        with the 200; the 200 is retransmitted meanwhile; record completed."""
        num, p = self.route_number(XML_DECL + "<Response><Hangup/></Response>")
        res = self.caller(num, scenario="uac_late_ack", ack_ms=1500, timeout=20).wait()
        self.assertEqual(res.rc, 0, res.summary())
        ok = res.final()
        self.assertEqual(ok.code if ok else None, 200, res.summary())
        acks = res.sent("ACK")
        byes = res.recv_requests("BYE")
        self.assertTrue(acks and byes, res.summary())
        self.assertGreaterEqual(acks[0].time - ok.time, 1.4, res.summary())
        self.assertGreaterEqual(byes[0].time, acks[0].time, "BYE before the caller's ACK:\n" + res.summary())
        self.assertLess(byes[0].time - acks[0].time, 2.0, res.summary())
        self.assertGreaterEqual(len(res.received(200, "INVITE")), 2, "200 OK not retransmitted before the ACK\n" + res.summary())
        st, call = self.stack.wait_call_status(self.call_sid_of(p), {"completed"}, 8)
        self.assertEqual(call.get("status"), "completed", call)

    def test_no_ack_ends_the_call(self):
        """RFC 3261 §13.3.1.4: a caller that never ACKs the 200 OK of a
        <Dial> bridge gets the 200 retransmitted until tm's transaction ends
        (wait_timer, 5 s), then a BYE; the bridge's re-INVITE, which waited
        for the ACK (§14.1), is never sent; the callee gets BYE; records
        completed."""
        callee = self.uas("uas_answer", user="bob", bye_ms=0)
        num, p = self.route_number(dial_twiml(sip_noun(callee.uri())))
        res = self.caller(num, scenario="uac_late_ack", ack_ms=-1, timeout=30).wait()
        self.assertEqual(res.rc, 0, res.summary())
        ok = res.final()
        self.assertEqual(ok.code if ok else None, 200, res.summary())
        self.assertFalse(res.sent("ACK"), res.summary())
        self.assertFalse(res.recv_requests("INVITE"), "re-INVITE before the ACK:\n" + res.summary())
        byes = res.recv_requests("BYE")
        self.assertTrue(byes, res.summary())
        self.assertGreaterEqual(byes[0].time - ok.time, 4.5, res.summary())
        self.assertLess(byes[0].time - ok.time, 8.0, res.summary())
        oks = [m.time for m in res.received(200, "INVITE")]
        self.assertGreaterEqual(len(oks), 3, "200 OK not retransmitted:\n" + res.summary())
        self.assertTrue(callee.wait_request("BYE", 1, 10), callee.snapshot().summary())
        sid = self.call_sid_of(p)
        st, call = self.stack.wait_call_status(sid, {"completed"}, 10)
        self.assertEqual(call.get("status"), "completed", call)

    def test_bridge_reinvite_waits_for_the_ack(self):
        """§14.1: a caller that ACKs 1.5 s late while its <Dial> callee
        answers at once gets the bridge's re-INVITE only after its ACK (with
        Allow and Supported; its 200 is ACKed in a transaction of its own),
        and the call goes on until the callee hangs up."""
        callee = self.uas("uas_answer", user="bob", early=2, bye_ms=3000)
        num, p = self.route_number(dial_twiml(sip_noun(callee.uri())))
        res = self.caller(num, scenario="uac_late_ack", ack_ms=1500, timeout=30).wait()
        self.assertEqual(res.rc, 0, res.summary())
        acks = [m for m in res.sent("ACK") if "1 ACK" in (m.header("CSeq") or "")]
        reinv = res.recv_requests("INVITE")
        self.assertTrue(acks, res.summary())
        self.assertTrue(reinv, "no re-INVITE at the bridge:\n" + res.summary())
        self.assertGreaterEqual(reinv[0].time, acks[0].time, "re-INVITE before the ACK:\n" + res.summary())
        self.assertDialogHeaders(reinv[0], "the bridge's re-INVITE")
        self.assertAckOf2xx(res, reinv[0], "the caller's 200 to the re-INVITE")
        byes = res.recv_requests("BYE")
        self.assertTrue(byes, res.summary())
        self.assertGreaterEqual(byes[0].time - acks[0].time, 1.0, res.summary())

    def test_reject_never_answers(self):
        """<Reject/> → 404 and <Reject reason="busy"/> → 486: no 200, no
        183/SDP, no BYE, on a scenario that would accept an answer."""
        for twiml, code, status in ((XML_DECL + "<Response><Reject/></Response>", 404, "no-answer"),
                                    (XML_DECL + '<Response><Reject reason="busy"/></Response>', 486, "busy")):
            with self.subTest(code=code):
                num, p = self.route_number(twiml, name="v%d" % code)
                res = self.caller(num, call_ms=0).wait()
                self.assertEqual(res.rc, 0, res.summary())
                self.assertEqual([m.code for m in res.finals()][:1], [code], res.summary())
                self.assertNotIn(200, res.codes(), res.summary())
                self.assertFalse([m for m in res.received() if m.body.strip()], "a body (SDP) was sent:\n" + res.summary())
                self.assertFalse(res.recv_requests("BYE"), res.summary())
                sid = self.call_sid_of(p)
                st, call = self.stack.wait_call_status(sid, {status}, 5)
                self.assertEqual(call.get("status"), status, call)


if __name__ == "__main__":
    unittest.main()
