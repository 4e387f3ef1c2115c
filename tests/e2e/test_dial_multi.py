"""<Dial> with several targets (issue 3; twilio-voice.md §2.1): simultaneous
ringing where the first 2xx wins and every other leg gets CANCEL; sequential
dialing through busy, no-answer (Dial timeout → CANCEL) and success; ten
targets that all fail; the caller hanging up while the targets ring."""
import time
import unittest

from harness import TERMINAL_STATUSES, XML_DECL, DialTestCase, dial_twiml, sip_noun

HANGUP = XML_DECL + "<Response><Hangup/></Response>"


class DialMultiTest(DialTestCase):

    def _records(self, caller_sid, n):
        kids = self.wait_children_final(caller_sid, n, 10)
        self.assertEqual(len(kids), n, kids)
        for k in kids:
            self.assertEqual(k.get("parent_call_sid"), caller_sid, k)
            self.assertIn(k.get("status"), TERMINAL_STATUSES, k)
        return kids

    def test_simultaneous_second_answers(self):
        """Three <Sip> at once; the second answers after 1 s: the other two
        get CANCEL (200 + 487 + ACK) after that 200 and are never bridged; the
        winner is bridged until the caller hangs up (BYE relayed to it). The
        action reports the winner; the losers' records are not completed."""
        a = self.uas("uas_ring", user="a")
        b = self.uas("uas_answer", user="b", ring_ms=1000, headers=[("X-Who", "b")])
        c = self.uas("uas_ring", user="c")
        act = self.path("action")
        self.app.route(act, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(a.uri()), sip_noun(b.uri()), sip_noun(c.uri()),
                                              action=self.app.url(act), timeout=15))
        res = self.caller(num, call_ms=3500).wait()
        pa, pb, pc = a.wait(8), b.wait(8), c.wait(8)
        self.assertEqual(res.rc, 0, res.summary())
        for peer in (pa, pb, pc):
            self.assertEqual(len(peer.unique_requests("INVITE")), 1, peer.summary())
        invs = [x.unique_requests("INVITE")[0] for x in (pa, pb, pc)]
        self.assertLess(max(i.time for i in invs) - min(i.time for i in invs), 1.0, "not simultaneous")
        self.assertEqual(len(set(i.call_id for i in invs) | {res.call_id}), 4, "Call-IDs must all differ")
        b_ok = pb.sent_responses(200, "INVITE")[0]
        for loser in (pa, pc):
            cancels = loser.unique_requests("CANCEL")
            self.assertEqual(len(cancels), 1, "a losing leg was not cancelled:\n" + loser.summary())
            self.assertGreaterEqual(cancels[0].time, b_ok.time - 0.01, loser.summary())
            self.assertLess(cancels[0].time - b_ok.time, 2.0, loser.summary())
            self.assertTrue(loser.sent_responses(487, "INVITE"), loser.summary())
            self.assertEqual(loser.rc, 0, loser.summary())
            self.assertFalse(loser.recv_requests("BYE"), loser.summary())
        self.assertEqual(pb.rc, 0, pb.summary())
        self.assertEqual(len(pb.recv_requests("BYE")), 1, "the winner was not hung up after the caller left\n" + pb.summary())
        self.assertGreaterEqual(pb.recv_requests("BYE")[0].time, res.sent("BYE")[0].time - 0.01)

        sid = self.call_sid_of(p)
        acts = self.app.wait_requests(act, 1, 5)
        kids = self._records(sid, 3)
        by_status = sorted(k.get("status") for k in kids)
        self.assertEqual(by_status.count("completed"), 1, kids)
        for k in kids:
            if k.get("status") != "completed":
                self.assertIn(k.get("status"), {"canceled", "no-answer"}, k)
                self.assertIn(str(k.get("duration")), {"0", "None"}, k)
        if acts:  # the caller hung up: Twilio does not document whether action is requested then
            P = acts[0].params
            self.assertEqual(P.get("DialCallStatus"), "completed", P)
            self.assertEqual(P.get("DialSipCallId"), invs[1].call_id, P)
            winner = [k for k in kids if k.get("status") == "completed"][0]
            self.assertEqual(P.get("DialCallSid"), winner.get("sid"), P)

    def test_two_answers_one_wins(self):
        """Two targets answer at about the same time: exactly one is bridged; the other
        is either CANCELled before its 200 or, if its 200 raced, ACKed and
        hung up with a BYE at once; never both connected."""
        # 150 ms apart: when the two 200s cross our CANCEL exactly, sipp
        # cannot take the CANCEL, ACK and BYE that reach it in one burst.
        a = self.uas("uas_answer", user="a", ring_ms=1000)
        b = self.uas("uas_answer", user="b", ring_ms=1150)
        num, p = self.route_number(dial_twiml(sip_noun(a.uri()), sip_noun(b.uri()), timeout=10))
        res = self.caller(num, call_ms=3000).wait()
        pa, pb = a.wait(8), b.wait(8)
        self.assertEqual(res.rc, 0, res.summary())
        caller_bye = res.sent("BYE")[0]
        bridged, lost = [], []
        for peer in (pa, pb):
            self.assertEqual(peer.rc, 0, peer.summary())
            answered = peer.sent_responses(200, "INVITE")
            byes = peer.recv_requests("BYE")
            if answered and byes and byes[0].time >= caller_bye.time - 0.01:
                bridged.append(peer)
            else:
                lost.append(peer)
        self.assertEqual(len(bridged), 1, "\n".join(x.summary() for x in (pa, pb)))
        loser = lost[0]
        if loser.sent_responses(200, "INVITE"):
            ok = loser.sent_responses(200, "INVITE")[0]
            self.assertTrue(loser.recv_requests("ACK"), loser.summary())
            bye = loser.recv_requests("BYE")
            self.assertTrue(bye, "the late answerer stays connected\n" + loser.summary())
            self.assertLess(bye[0].time - ok.time, 2.0, loser.summary())
        else:
            self.assertTrue(loser.unique_requests("CANCEL"), loser.summary())
        sid = self.call_sid_of(p)
        kids = self._records(sid, 2)
        self.assertIn("completed", [k.get("status") for k in kids], kids)

    def test_sequential_busy_noanswer_success(self):
        """sequential="true" timeout="5": the first target is busy (486), the
        second declines (603), the third rings and is CANCELled after ~5 s,
        the fourth answers; each INVITE only after the previous attempt ended.
        The action: completed, DialSipCallId of the fourth. Records: busy,
        (the decline), no-answer, completed."""
        a = self.uas("uas_reject", user="a", code=486, ring_ms=200)
        d = self.uas("uas_reject", user="d", code=603)
        b = self.uas("uas_ring", user="b")
        c = self.uas("uas_answer", user="c", ring_ms=200, bye_ms=700)
        act = self.path("action")
        self.app.route(act, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(a.uri()), sip_noun(d.uri()), sip_noun(b.uri()),
                                              sip_noun(c.uri()), action=self.app.url(act), timeout=5,
                                              sequential=True))
        res = self.caller(num, call_ms=0, timeout=40).wait()
        pa, pd, pb, pc = a.wait(5), d.wait(5), b.wait(5), c.wait(5)
        self.assertEqual(res.rc, 0, res.summary())
        ia, idd, ib, ic = (x.unique_requests("INVITE") for x in (pa, pd, pb, pc))
        self.assertEqual((len(ia), len(idd), len(ib), len(ic)), (1, 1, 1, 1),
                         "\n".join(x.summary() for x in (pa, pd, pb, pc)))
        a486 = pa.sent_responses(486, "INVITE")[0]
        self.assertGreaterEqual(idd[0].time, a486.time - 0.01, "second target invited before the first failed")
        d603 = pd.sent_responses(603, "INVITE")[0]
        self.assertGreaterEqual(ib[0].time, d603.time - 0.01, "third target invited before the second declined")
        cancels = pb.unique_requests("CANCEL")
        self.assertEqual(len(cancels), 1, pb.summary())
        rang = cancels[0].time - ib[0].time
        self.assertGreaterEqual(rang, 4.5, "CANCEL after %.2f s, Dial timeout is 5 s" % rang)
        self.assertLess(rang, 11.0, "CANCEL after %.2f s, Dial timeout is 5 s" % rang)
        self.assertGreaterEqual(ic[0].time, cancels[0].time - 0.01, "third target invited before the second ended")
        self.assertEqual(pb.rc, 0, pb.summary())
        self.assertEqual(pc.rc, 0, pc.summary())
        sid = self.call_sid_of(p)
        P = self.app.wait_requests(act, 1, 5)[0].params
        self.assertEqual(P.get("DialCallStatus"), "completed", P)
        self.assertEqual(P.get("DialSipCallId"), ic[0].call_id, P)
        self.assertEqual(P.get("DialBridged"), "true", P)
        kids = self._records(sid, 4)
        by_sid = {k["sid"]: k for k in kids}
        self.assertEqual(by_sid[P["DialCallSid"]].get("status"), "completed")
        statuses = [k.get("status") for k in kids]
        self.assertEqual(statuses.count("completed"), 1, kids)
        self.assertGreaterEqual(statuses.count("busy"), 1, kids)  # the 486
        self.assertGreaterEqual(statuses.count("no-answer"), 1, kids)  # the Dial timeout
        self.assertTrue(res.recv_requests("BYE"), res.summary())

    def test_ten_targets_all_fail(self):
        """Ten simultaneous <Sip> targets (Twilio's maximum), all busy: every
        one gets its INVITE (ten Call-IDs), the action is requested once with
        DialCallStatus=busy, ten busy records; the caller is hung up."""
        uas = self.uas("uas_reject", calls=10, code=486, ring_ms=300)
        act = self.path("action")
        self.app.route(act, HANGUP)
        nouns = [sip_noun(uas.uri("t%d" % i)) for i in range(10)]
        num, p = self.route_number(dial_twiml(*nouns, action=self.app.url(act), timeout=10))
        res = self.caller(num, call_ms=0).wait()
        peer = uas.wait(10)
        self.assertEqual(res.rc, 0, res.summary())
        invs = peer.unique_requests("INVITE")
        self.assertEqual(sorted(i.ruri.split("@")[0] for i in invs), sorted("sip:t%d" % i for i in range(10)),
                         peer.summary())
        self.assertEqual(len(set(i.call_id for i in invs)), 10)
        self.assertEqual(peer.rc, 0, peer.summary())
        sid = self.call_sid_of(p)
        acts = self.app.wait_requests(act, 1, 5)
        time.sleep(0.5)
        self.assertEqual(len(self.app.requests(act)), 1, "action requested more than once")
        P = acts[0].params
        self.assertEqual(P.get("DialCallStatus"), "busy", P)
        self.assertEqual(P.get("DialBridged"), "false", P)
        kids = self._records(sid, 10)
        self.assertEqual([k.get("status") for k in kids], ["busy"] * 10, kids)
        self.assertTrue(res.recv_requests("BYE"), res.summary())

    def test_caller_hangs_up_while_targets_ring(self):
        """answerOnBridge=false: the caller is answered, two targets ring; the
        caller's BYE after ~1.5 s cancels both (CANCEL → 487 → ACK). Every leg
        record ends (canceled or no-answer) with ParentCallSid and Duration 0;
        the caller's record is completed and its StatusCallback fires once."""
        a = self.uas("uas_ring", user="a")
        b = self.uas("uas_ring", user="b", early=1)
        scb = self.path("status")
        self.app.route(scb, "")
        num, p = self.route_number(dial_twiml(sip_noun(a.uri()), sip_noun(b.uri()), timeout=20),
                                   StatusCallback=self.app.url(scb))
        res = self.caller(num, call_ms=1500).wait()
        pa, pb = a.wait(8), b.wait(8)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(res.final_code(), 200, res.summary())
        bye = res.sent("BYE")[0]
        for peer in (pa, pb):
            cancels = peer.unique_requests("CANCEL")
            self.assertEqual(len(cancels), 1, "a ringing leg was not cancelled:\n" + peer.summary())
            self.assertGreaterEqual(cancels[0].time, bye.time - 0.01)
            self.assertLess(cancels[0].time - bye.time, 2.0, peer.summary())
            self.assertEqual(peer.rc, 0, peer.summary())
        sid = self.call_sid_of(p)
        kids = self._records(sid, 2)
        for k in kids:
            self.assertIn(k.get("status"), {"canceled", "no-answer"}, k)
            self.assertEqual(str(k.get("duration")), "0", k)
        st, call = self.stack.wait_call_status(sid, {"completed"}, 5)
        self.assertEqual(call.get("status"), "completed", call)
        cbs = self.app.wait_requests(scb, 1, 5)
        time.sleep(0.3)
        cbs = self.app.requests(scb)
        self.assertEqual([r.params.get("CallStatus") for r in cbs], ["completed"], cbs)
        self.assertEqual(cbs[0].params.get("CallSid"), sid)

    def test_caller_cancels_while_targets_ring_answer_on_bridge(self):
        """answerOnBridge=true: the caller is never answered; its CANCEL
        while two targets ring → 487 to the caller, CANCEL to both targets;
        the caller's record is canceled (never answered)."""
        a = self.uas("uas_ring", user="a")
        b = self.uas("uas_ring", user="b")
        num, p = self.route_number(dial_twiml(sip_noun(a.uri()), sip_noun(b.uri()), timeout=20,
                                              answerOnBridge=True))
        res = self.caller(num, "uac_cancel_ring", cancel_ms=1500).wait()
        pa, pb = a.wait(8), b.wait(8)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertNotIn(200, res.codes(), res.summary())
        self.assertEqual([m.code for m in res.finals()][:1], [487], res.summary())
        cancel = res.sent("CANCEL")[0]
        for peer in (pa, pb):
            cancels = peer.unique_requests("CANCEL")
            self.assertEqual(len(cancels), 1, peer.summary())
            self.assertGreaterEqual(cancels[0].time, cancel.time - 0.01)
            self.assertEqual(peer.rc, 0, peer.summary())
        sid = self.call_sid_of(p)
        kids = self._records(sid, 2)
        for k in kids:
            self.assertIn(k.get("status"), {"canceled", "no-answer"}, k)
        st, call = self.stack.wait_call_status(sid, {"canceled"}, 5)
        self.assertEqual(call.get("status"), "canceled", call)


if __name__ == "__main__":
    unittest.main()
