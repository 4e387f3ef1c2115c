"""What happens after <Dial> (issue 3; twilio-voice.md §2.1, §4): the action
request and the TwiML it returns, the next verb when there is no action, the
Dial* parameters for busy and no-answer, per-noun status callbacks and the
caller's own StatusCallback."""
import email.utils
import time
import unittest

from harness import CALL_SID_RE, XML_DECL, DialTestCase, dial_twiml, free_port, sip_noun

HANGUP = XML_DECL + "<Response><Hangup/></Response>"


class DialActionTest(DialTestCase):

    def test_time_limit_ends_the_bridge(self):
        """timeLimit="2": the bridged callee (which would talk for 20 s) gets
        our BYE about 2 s after it answered; the action reports completed."""
        callee = self.uas("uas_answer", user="talker", bye_ms=20000)
        act = self.path("action")
        self.app.route(act, XML_DECL + "<Response><Hangup/></Response>")
        num, p = self.route_number(dial_twiml(sip_noun(callee.uri()), action=self.app.url(act), timeLimit=2))
        res = self.caller(num, call_ms=0, timeout=30).wait()
        peer = callee.wait(10)
        self.assertEqual(res.rc, 0, res.summary())
        ok = peer.sent_responses(200, "INVITE")
        byes = peer.recv_requests("BYE")
        self.assertTrue(ok and byes, peer.summary())
        self.assertTrue(1.5 <= byes[0].time - ok[0].time <= 3.5, peer.summary())
        a = self.app.wait_requests(act, 1, 5)
        self.assertEqual(a[0].params.get("DialCallStatus"), "completed", a[0].params)

    def test_callee_hangs_up_action_twiml_runs(self):
        """The callee hangs up after ~1 s → the action URL is requested with
        the Dial* parameters → the TwiML it returns (another <Dial>) runs on
        the caller's call: the second target is invited after the action;
        when it hangs up there is nothing left → the caller gets a BYE."""
        first = self.uas("uas_answer", user="first", bye_ms=1000, headers=[("X-Leg", "one")])
        second = self.uas("uas_answer", user="second", bye_ms=500)
        act = self.path("action")
        self.app.route(act, dial_twiml(sip_noun(second.uri())))
        num, p = self.route_number(dial_twiml(sip_noun(first.uri()), action=self.app.url(act), method="POST"))
        res = self.caller(num, call_ms=0, timeout=30).wait()
        p1, p2 = first.wait(5), second.wait(5)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual((p1.rc, p2.rc), (0, 0), p1.summary() + "\n" + p2.summary())
        sid = self.call_sid_of(p)
        a = self.app.wait_requests(act, 1, 5)
        self.assertEqual(len(a), 1, self.app.requests())
        P = a[0].params
        self.assertSignature(a[0])
        self.assertEqual(P.get("CallSid"), sid)
        self.assertEqual(P.get("DialCallStatus"), "completed", P)
        self.assertEqual(P.get("DialBridged"), "true", P)
        self.assertTrue(P.get("DialCallDuration", "").isdigit() and int(P["DialCallDuration"]) <= 3, P)
        self.assertEqual(P.get("DialSipResponseCode"), "200", P)
        self.assertEqual(P.get("SipHeader_X-Leg"), "one", P)
        self.assertEqual(P.get("DialSipCallId"), p1.unique_requests("INVITE")[0].call_id, P)
        inv2 = p2.unique_requests("INVITE")
        self.assertEqual(len(inv2), 1, p2.summary())
        self.assertGreaterEqual(inv2[0].time, a[0].arrived - 0.05, "second Dial before the action was fetched")
        byes = res.recv_requests("BYE")
        self.assertTrue(byes, res.summary())
        self.assertGreaterEqual(byes[0].time, p2.sent("BYE")[0].time - 0.01, res.summary())
        kids = self.wait_children_final(sid, 2)
        self.assertEqual(sorted(k.get("status") for k in kids), ["completed", "completed"], kids)

    def test_no_action_next_verb(self):
        """Without action the document continues after <Dial>: a busy target
        → the <Redirect> after it runs → its <Hangup/> ends the caller."""
        uas = self.uas("uas_reject", code=486)
        nxt = self.path("next")
        self.app.route(nxt, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), after="<Redirect>%s</Redirect>" % self.app.url(nxt)))
        res = self.caller(num, call_ms=0).wait()
        peer = uas.wait(5)
        self.assertEqual(res.rc, 0, res.summary())
        sid = self.call_sid_of(p)
        r = self.app.wait_requests(nxt, 1, 5)
        self.assertEqual(len(r), 1, self.app.requests())
        self.assertEqual(r[0].params.get("CallSid"), sid)
        self.assertNotIn("DialCallStatus", r[0].params, "Dial* parameters belong to the action request only")
        self.assertGreaterEqual(r[0].arrived, peer.sent_responses(486)[0].time - 0.05)
        self.assertTrue(res.recv_requests("BYE"), res.summary())

    def test_busy_action_parameters(self):
        """A 486 with an X- header: DialCallStatus=busy, DialSipResponseCode=486,
        DialSipHeader_X-… from the final response, DialBridged=false,
        DialCallSid of the leg (record busy, ParentCallSid)."""
        uas = self.uas("uas_reject", code=486, headers=[("X-Reason", "in a meeting")])
        act = self.path("action")
        self.app.route(act, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), action=self.app.url(act)))
        res = self.caller(num, call_ms=0).wait()
        self.assertEqual(res.rc, 0, res.summary())
        sid = self.call_sid_of(p)
        P = self.app.wait_requests(act, 1, 5)[0].params
        self.assertEqual(P.get("DialCallStatus"), "busy", P)
        self.assertEqual(P.get("DialSipResponseCode"), "486", P)
        self.assertEqual(P.get("DialSipHeader_X-Reason"), "in a meeting", P)
        self.assertEqual(P.get("DialBridged"), "false", P)
        self.assertNotIn("SipHeader_X-Reason", P, "X- headers of a failure are DialSipHeader_*")
        leg = P.get("DialCallSid", "")
        self.assertRegex(leg, CALL_SID_RE)
        st, rec = self.stack.wait_call_status(leg, {"busy"}, 5)
        self.assertEqual((rec.get("status"), rec.get("parent_call_sid")), ("busy", sid), rec)

    def test_failed_action_parameters(self):
        """A 404 (no such user): DialCallStatus=failed, DialSipResponseCode=404."""
        uas = self.uas("uas_reject", code=404)
        act = self.path("action")
        self.app.route(act, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), action=self.app.url(act)))
        res = self.caller(num, call_ms=0).wait()
        self.assertEqual(res.rc, 0, res.summary())
        P = self.app.wait_requests(act, 1, 5)[0].params
        self.assertEqual((P.get("DialCallStatus"), P.get("DialSipResponseCode")), ("failed", "404"), P)
        self.assertEqual(P.get("DialBridged"), "false", P)

    def test_no_answer_timeout(self):
        """timeout="5" and a target that only rings: CANCEL after ~5 s,
        DialCallStatus=no-answer, DialSipResponseCode=487."""
        uas = self.uas("uas_ring")
        act = self.path("action")
        self.app.route(act, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), action=self.app.url(act), timeout=5))
        res = self.caller(num, call_ms=0, timeout=30).wait()
        peer = uas.wait(5)
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        inv, cancel = peer.unique_requests("INVITE")[0], peer.unique_requests("CANCEL")[0]
        rang = cancel.time - inv.time
        self.assertTrue(4.5 <= rang < 11.0, "CANCEL after %.2f s with timeout=5" % rang)
        P = self.app.wait_requests(act, 1, 5)[0].params
        self.assertEqual(P.get("DialCallStatus"), "no-answer", P)
        self.assertEqual(P.get("DialSipResponseCode"), "487", P)
        self.assertEqual(P.get("DialBridged"), "false", P)

    def test_silent_target_times_out(self):
        """A target that never answers at all (UDP port with nobody behind
        it: no 100, no 180): the Dial still ends at its timeout (5 s, plus
        Twilio's slack) with no-answer or failed, and the caller's call goes
        on to the action."""
        dead = "sip:nobody@127.0.0.1:%d" % free_port(tcp=False)
        act = self.path("action")
        self.app.route(act, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(dead), action=self.app.url(act), timeout=5))
        c = self.caller(num, call_ms=0, timeout=40)
        self.call_sid_of(p)
        t0 = time.time()
        a = self.app.wait_requests(act, 1, 14)
        self.assertTrue(a, "the Dial never ended (no action within 14 s of a 5 s timeout)")
        self.assertLess(a[0].arrived - t0, 12.0)
        self.assertIn(a[0].params.get("DialCallStatus"), {"no-answer", "failed"}, a[0].params)
        res = c.wait()
        self.assertTrue(res.recv_requests("BYE"), res.summary())

    def test_status_callbacks_per_noun(self):
        """Sequential: a busy <Sip> with only statusCallback (GET) → one
        `completed` request (CallStatus=busy, SipResponseCode=486); then a
        <Sip> with statusCallbackEvent="initiated ringing answered completed"
        (POST) → each event once, in order, with CallSid of the leg,
        ParentCallSid, SequenceNumber 0..3, Timestamp, CallbackSource,
        CallDuration and SipResponseCode on completed. The caller's own
        StatusCallback fires `completed` once at the end."""
        busy = self.uas("uas_reject", user="busy", code=486)
        ok = self.uas("uas_answer", user="ok", ring_ms=500, bye_ms=1200)
        sc1, sc2, ccb = self.path("sc1"), self.path("sc2"), self.path("callerstatus")
        for x in (sc1, sc2, ccb):
            self.app.route(x, "")
        num, p = self.route_number(dial_twiml(
            sip_noun(busy.uri(), statusCallback=self.app.url(sc1), statusCallbackMethod="GET"),
            sip_noun(ok.uri(), statusCallback=self.app.url(sc2),
                     statusCallbackEvent="initiated ringing answered completed"),
            sequential=True), StatusCallback=self.app.url(ccb))
        res = self.caller(num, call_ms=0, timeout=30).wait()
        self.assertEqual(res.rc, 0, res.summary())
        sid = self.call_sid_of(p)
        self.app.wait_requests(ccb, 1, 8)
        self.app.wait_requests(sc2, 4, 5)
        time.sleep(0.5)

        r1 = self.app.requests(sc1)
        self.assertEqual(len(r1), 1, r1)
        self.assertEqual(r1[0].method, "GET")
        self.assertSignature(r1[0])
        P1 = r1[0].params
        self.assertEqual(P1.get("CallStatus"), "busy", P1)
        self.assertEqual(P1.get("SipResponseCode"), "486", P1)
        self.assertEqual(P1.get("ParentCallSid"), sid, P1)
        self.assertEqual(P1.get("CallbackSource"), "call-progress-events", P1)

        r2 = self.app.requests(sc2)
        self.assertEqual([r.params.get("CallStatus") for r in r2],
                         ["initiated", "ringing", "in-progress", "completed"], [r.params for r in r2])
        seqs = [r.params.get("SequenceNumber") for r in r2]
        self.assertEqual(seqs, ["0", "1", "2", "3"], seqs)
        legs = set(r.params.get("CallSid") for r in r2)
        self.assertEqual(len(legs), 1, legs)
        leg = legs.pop()
        self.assertRegex(leg, CALL_SID_RE)
        self.assertNotEqual(leg, sid)
        self.assertNotEqual(leg, P1.get("CallSid"))
        for r in r2:
            self.assertEqual(r.method, "POST")
            self.assertSignature(r)
            P = r.params
            self.assertEqual(P.get("ParentCallSid"), sid, P)
            self.assertEqual(P.get("AccountSid"), self.stack.account_sid)
            self.assertEqual(P.get("CallbackSource"), "call-progress-events", P)
            self.assertEqual(P.get("Direction"), "outbound-dial", P)
            self.assertIsNotNone(email.utils.parsedate_to_datetime(P.get("Timestamp", "")), P)
        done = r2[3].params
        self.assertTrue(done.get("CallDuration", "").isdigit(), done)
        self.assertLessEqual(abs(int(done["CallDuration"]) - 1), 1, done)
        self.assertEqual(done.get("SipResponseCode"), "200", done)
        self.assertNotIn("CallDuration", r2[0].params)

        rc = self.app.requests(ccb)
        self.assertEqual(len(rc), 1, rc)
        Pc = rc[0].params
        self.assertEqual((Pc.get("CallSid"), Pc.get("CallStatus")), (sid, "completed"), Pc)
        self.assertTrue(Pc.get("CallDuration", "").isdigit(), Pc)
        self.assertNotIn("ParentCallSid", Pc)

    def test_ringing_callback_when_answered_at_once(self):
        """A callee that answers with 200 and no 1xx at all (and a 180 that
        Kamailio's workers handle after the 200 looks the same): the leg's
        callbacks are still initiated, ringing, in-progress, completed, each
        once and in SequenceNumber order, and its record ends completed."""
        ok = self.uas("uas_answer", user="ok", early=2, bye_ms=800)
        sc = self.path("sc")
        self.app.route(sc, "")
        num, p = self.route_number(dial_twiml(
            sip_noun(ok.uri(), statusCallback=self.app.url(sc),
                     statusCallbackEvent="initiated ringing answered completed")))
        res = self.caller(num, call_ms=0, timeout=30).wait()
        self.assertEqual(res.rc, 0, res.summary())
        snap = ok.snapshot()
        self.assertFalse([m for m in snap.messages if m.direction == "sent" and m.code and 100 < m.code < 200],
                         "the callee sent a 1xx other than 100:\n" + snap.summary())
        r = self.app.wait_requests(sc, 4, 8)
        time.sleep(0.5)
        r = self.app.requests(sc)
        self.assertEqual([(x.params.get("SequenceNumber"), x.params.get("CallStatus")) for x in r],
                         [("0", "initiated"), ("1", "ringing"), ("2", "in-progress"), ("3", "completed")],
                         [x.params for x in r])
        st, body = self.stack.wait_call_status(r[0].params["CallSid"], ("completed",))
        self.assertEqual((st, body.get("status")), (200, "completed"), body)


if __name__ == "__main__":
    unittest.main()
