"""Issue 2 (j): callctl dies (SIGKILL) while an INVITE waits for its
webhook; another callctl takes the pending event over (XAUTOCLAIM) and the
caller still gets the answer from the TwiML. Issue 5: the same for calls
created over REST, ringing or queued."""
import time
import unittest

from harness import (TWIML_BUSY, XML_DECL, DialTestCase, FulcrumTestCase, SippUas, dial_twiml,
                     sip_noun, wait_until)


class CrashTest(FulcrumTestCase):
    shared_stack = False

    def test_callctl_killed_during_webhook(self):
        st = self.new_stack("crash")
        app = self.new_app(auth_token=st.auth_token)
        num, p = self.number(), self.path()
        app.route(p, TWIML_BUSY, delay=4)
        st.create_number(num, app.url(p))

        run = self.sipp_start("uac_invite", stack=st, ruri_user=num, timeout=45)
        first = app.wait_requests(p, 1, 10)
        if not first:
            res = run.wait()
            self.fail("the webhook was never requested\n" + res.summary())
        sid = first[0].params.get("CallSid")
        st.kill_callctl()
        killed = time.time()
        st.start_callctl()

        # The new instance claims the event (idle > 5 s) and re-fetches.
        later = wait_until(lambda: [r for r in app.requests(p) if r.arrived > killed], 25, 0.1)
        res = run.wait()
        self.assertTrue(later, "no webhook request after the restart\n" + res.summary())
        self.assertEqual(res.rc, 0, res.summary())
        self.assertFinal(res, 486)
        self.assertEqual(len(res.received(486)), 1, res.summary())
        self.assertEqual(later[0].params.get("CallSid"), sid, "resumed, not a new call")
        self.assertSignature(later[0])
        status, call = st.wait_call_status(sid, {"busy"}, 5)
        self.assertEqual(status, 200, call)
        self.assertEqual(call.get("status"), "busy", call)
        # one Call record for the call, not two
        self.assertEqual(len({r.params.get("CallSid") for r in app.requests(p)}), 1)
        self.assertTrue(wait_until(lambda: not st.redis_keys("fc:live:" + sid), 5))

    def test_callctl_killed_with_created_calls(self):
        """Issue 5: callctl dies while one REST-created call rings and two
        wait in the calls-per-second queue (FULCRUM_CPS=1). The instance
        that takes the pending api.create events over ends the ringing one in
        order (CANCEL, record failed) and places the queued ones (their
        callee answers 486: records busy), each exactly once."""
        st = self.new_stack("crash", FULCRUM_CPS="1")
        ring = SippUas("uas_ring", logdir=self.logdir, timeout=40)
        self.addCleanup(ring.stop)
        busy = SippUas("uas_reject", logdir=self.logdir, calls=2, code=486, timeout=40)
        self.addCleanup(busy.stop)
        twiml = XML_DECL + "<Response><Hangup/></Response>"
        sids = []
        for to in (ring.uri(), busy.uri(), busy.uri()):
            code, body = st.rest("POST", "Calls.json", {"To": to, "From": "+14155550100",
                                                        "Twiml": twiml})
            self.assertEqual(code, 201, body)
            sids.append(body["sid"])
        self.assertTrue(ring.wait_request("INVITE", 1, 10), ring.snapshot().summary())
        st.kill_callctl()
        self.assertFalse(busy.snapshot().recv_requests("INVITE"), "dialled before the kill")
        st.start_callctl()
        peer = ring.wait(30)
        self.assertEqual(len(peer.recv_requests("CANCEL")), 1, peer.summary())
        pb = busy.wait(30)
        self.assertEqual(len(pb.unique_requests("INVITE")), 2, pb.summary())
        self.assertEqual(st.wait_call_status(sids[0], {"failed"}, 10)[1]["status"], "failed")
        for s in sids[1:]:
            self.assertEqual(st.wait_call_status(s, {"busy"}, 10)[1]["status"], "busy")
        self.assertTrue(wait_until(lambda: not st.redis_keys("fc:live:*"), 5))


if __name__ == "__main__":
    unittest.main()


class CrashBridgeTest(DialTestCase):
    """Issue 6: the callctl running two bridged <Dial> calls dies (SIGKILL).
    The calls go on; another instance rebuilds each from its snapshot in
    fc:live when the next event comes and finishes it as the owner would:
    the first caller hangs up ~2 s after the kill (its event is forwarded to
    the dead owner, whose inbox is handed back to fc:events once its
    liveness key expires), the second callee ~10 s after (taken over at
    once). BYEs reach the other sides, the Dial action is requested once,
    its TwiML runs, records complete, and every status callback arrives
    exactly once, SequenceNumbers going on from the dead owner's."""
    shared_stack = False

    def test_callctl_killed_bridged_calls_go_on(self):
        st = self.new_stack("crashbr")
        app = self.new_app(auth_token=st.auth_token)
        cb, lcb, act = self.path("status"), self.path("legstatus"), self.path("action")
        app.route(act, XML_DECL + "<Response><Hangup/></Response>")
        app.route(cb, "")
        app.route(lcb, "")
        b1 = self.uas("uas_answer", ring_ms=0, bye_ms=0, timeout=60)
        b2 = self.uas("uas_answer", ring_ms=0, bye_ms=14000, timeout=60)
        calls = []
        for i, (b, call_ms) in enumerate(((b1, 2500), (b2, 0))):
            num, p = self.number(), self.path("voice%d" % i)
            noun = sip_noun(b.uri(), statusCallback=app.url(lcb),
                            statusCallbackEvent="initiated ringing answered completed")
            app.route(p, dial_twiml(noun, action=app.url(act)))
            st.create_number(num, app.url(p), StatusCallback=app.url(cb))
            a = self.caller(num, stack=st, call_ms=call_ms, timeout=60)
            calls.append((a, b, p))
        sids = []
        for a, b, p in calls:
            self.assertTrue(b.wait_request("ACK", 1, 10), b.snapshot().summary())
            sids.append(app.wait_requests(p, 1)[0].params["CallSid"])
        # Leg callbacks initiated, ringing, answered of both calls arrived;
        # each call's snapshot is in fc:live.
        self.assertTrue(wait_until(lambda: len(app.requests(lcb)) >= 6, 10), app.requests(lcb))
        self.assertTrue(wait_until(lambda: all(st.redis("HGET", "fc:live:" + s, "snap") for s in sids), 5),
                        [st.redis("HGETALL", "fc:live:" + s) for s in sids])
        st.kill_callctl()
        st.start_callctl()

        for a, b, _ in calls:
            ra, rb = a.wait(), b.wait()
            self.assertEqual(ra.rc, 0, ra.summary())
            self.assertEqual(rb.rc, 0, rb.summary())
        self.assertEqual(len(calls[0][1].wait().recv_requests("BYE")), 1, "callee 1 got the BYE")
        self.assertEqual(len(calls[1][0].wait().recv_requests("BYE")), 1, "caller 2 got the BYE")
        for s in sids:
            self.assertEqual(st.wait_call_status(s, ("completed",), 10)[1]["status"], "completed")
            kids = []
            wait_until(lambda: kids.__setitem__(slice(None), st.rest(
                "GET", "Calls.json", {"ParentCallSid": s})[1]["calls"]) or
                kids and kids[0]["status"] == "completed", 10, 0.2)
            self.assertEqual([k["status"] for k in kids], ["completed"], kids)
            self.assertGreaterEqual(int(kids[0]["duration"]), 2, kids)
        time.sleep(2)
        acts = app.requests(act)
        self.assertEqual(sorted(r.params["CallSid"] for r in acts), sorted(sids), acts)
        for r in acts:
            self.assertEqual(r.params["DialCallStatus"], "completed", r.params)
            self.assertSignature(r)
        parent = app.requests(cb)
        self.assertEqual(sorted((r.params["CallSid"], r.params["CallStatus"]) for r in parent),
                         sorted((s, "completed") for s in sids), parent)
        legs = {}
        for r in app.requests(lcb):
            legs.setdefault(r.params["CallSid"], []).append(
                (int(r.params["SequenceNumber"]), r.params["CallStatus"]))
        self.assertEqual(len(legs), 2, legs)
        for seq in legs.values():
            self.assertEqual(sorted(seq), [(0, "initiated"), (1, "ringing"), (2, "in-progress"),
                                           (3, "completed")], legs)
        self.assertTrue(wait_until(lambda: not st.redis_keys("fc:live:*"), 5),
                        st.redis_keys("fc:live:*"))
        self.assertFalse(st.redis_keys("fc:inbox:*") and
                         any(st.redis("XLEN", k) != "0" for k in st.redis_keys("fc:inbox:*")),
                         "events left in an inbox")

    def test_callbacks_queued_at_a_kill_are_sent_by_another_instance(self):
        """Status callbacks waiting in a callctl that is killed are not lost
        (its Redis outbox): the app answers leg callbacks after 3 s, so at
        the kill `initiated` is in flight and `ringing`, `in-progress` wait
        behind it. Another instance takes the dead one's outbox over and
        sends them in order; the one in flight is sent again (at least
        once); `completed` follows at the end of the call; no outbox is
        left."""
        st = self.new_stack("crashcb")
        app = self.new_app(auth_token=st.auth_token)
        lcb = self.path("legstatus")
        app.route(lcb, "", delay=3)
        b = self.uas("uas_answer", ring_ms=0, bye_ms=0, timeout=60)
        num, p = self.number(), self.path()
        app.route(p, dial_twiml(sip_noun(b.uri(), statusCallback=app.url(lcb),
                                         statusCallbackEvent="initiated ringing answered completed")))
        st.create_number(num, app.url(p))
        a = self.caller(num, stack=st, call_ms=20000, timeout=60)
        self.assertTrue(b.wait_request("ACK", 1, 10), b.snapshot().summary())
        sid = app.wait_requests(p, 1)[0].params["CallSid"]
        self.assertTrue(app.wait_requests(lcb, 1, 5), "no leg callback in flight")
        self.assertTrue(wait_until(lambda: st.redis("HGET", "fc:live:" + sid, "snap"), 5))
        self.assertEqual([r.params["CallStatus"] for r in app.requests(lcb)], ["initiated"],
                         "the app should still be answering the first callback")
        st.kill_callctl()
        t_kill = time.time()
        st.start_callctl()
        self.assertTrue(wait_until(lambda: len(app.requests(lcb)) >= 3, 25), app.requests(lcb))
        ra, rb = a.wait(), b.wait()
        self.assertEqual(ra.rc, 0, ra.summary())
        self.assertEqual(len(rb.recv_requests("BYE")), 1, rb.summary())
        self.assertTrue(wait_until(lambda: any(r.params["CallStatus"] == "completed"
                                               for r in app.requests(lcb)), 10), app.requests(lcb))
        time.sleep(1)
        got = [(int(r.params["SequenceNumber"]), r.params["CallStatus"], r.arrived > t_kill)
               for r in app.requests(lcb)]
        counts = {}
        for _, status, _ in got:
            counts[status] = counts.get(status, 0) + 1
        self.assertEqual({k: counts.get(k) for k in ("ringing", "in-progress", "completed")},
                         {"ringing": 1, "in-progress": 1, "completed": 1}, got)
        self.assertIn(counts.get("initiated"), (1, 2), got)
        after = [seq for seq, _, late in got if late]
        self.assertEqual(after, sorted(after), "sent out of order after the takeover: %r" % got)
        for r in app.requests(lcb):
            self.assertSignature(r)
        self.assertTrue(wait_until(lambda: all(st.redis("HLEN", k) == "0"
                                               for k in st.redis_keys("fc:outbox:*")), 5),
                        st.redis_keys("fc:outbox:*"))

    def test_created_call_taken_over_then_hung_up_over_rest(self):
        """A REST-created call whose inline <Dial> is bridged survives its
        owner's death; Status=completed over REST then reaches the instance
        that took it over: BYE to both callees, records completed, the
        created call's callbacks (initiated ringing answered completed) once
        each in order."""
        st = self.new_stack("crashapi")
        app = self.new_app(auth_token=st.auth_token)
        cb = self.path("status")
        app.route(cb, "")
        a = self.uas("uas_answer", ring_ms=200, bye_ms=0, timeout=60)
        b = self.uas("uas_answer", ring_ms=0, bye_ms=0, user="carol", timeout=60)
        code, body = st.rest("POST", "Calls.json", {
            "To": a.uri(), "From": "+14155550199", "Twiml": dial_twiml(sip_noun(b.uri())),
            "StatusCallback": app.url(cb),
            "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"]})
        self.assertEqual(code, 201, body)
        sid = body["sid"]
        self.assertTrue(b.wait_request("ACK", 1, 10), b.snapshot().summary())
        self.assertTrue(wait_until(lambda: st.redis("HGET", "fc:live:" + sid, "snap"), 5),
                        st.redis("HGETALL", "fc:live:" + sid))
        self.assertTrue(wait_until(lambda: len(app.requests(cb)) >= 3, 5), app.requests(cb))
        st.kill_callctl()
        st.start_callctl()
        time.sleep(6)  # the dead owner's liveness key has expired
        self.assertEqual(st.call_record(sid)[1]["status"], "in-progress")
        code, upd = st.rest("POST", "Calls/%s.json" % sid, {"Status": "completed"})
        self.assertEqual(code, 200, upd)
        pa, pb = a.wait(), b.wait()
        self.assertEqual(len(pa.recv_requests("BYE")), 1, pa.summary())
        self.assertEqual(len(pb.recv_requests("BYE")), 1, pb.summary())
        self.assertEqual(st.wait_call_status(sid, ("completed",), 10)[1]["status"], "completed")
        time.sleep(1)
        got = [(int(r.params["SequenceNumber"]), r.params["CallStatus"]) for r in app.requests(cb)]
        self.assertEqual(got, [(0, "initiated"), (1, "ringing"), (2, "in-progress"),
                               (3, "completed")], got)
        self.assertTrue(wait_until(lambda: not st.redis_keys("fc:live:*"), 5))

    def test_callctl_stopped_bridged_call_goes_on(self):
        """SIGTERM (docker stop, an upgrade) of the callctl running a
        bridged call: it exits at once (status 0) without touching the
        call, releases its liveness so another instance takes the call over
        with the next event, and the call ends normally later."""
        st = self.new_stack("stopbr")
        app = self.new_app(auth_token=st.auth_token)
        cb = self.path("status")
        a, b, sid, _ = self.dial_bridged(st, app, call_ms=4000, status=cb)
        self.assertTrue(wait_until(lambda: st.redis("HGET", "fc:live:" + sid, "snap"), 5))
        owner = st.redis("HGET", "fc:live:" + sid, "owner")
        old = st.procs["callctl"]
        t0 = time.time()
        old.stop(grace=8)
        self.assertEqual(old.popen.returncode, 0, old.tail())
        self.assertLess(time.time() - t0, 3, "callctl took long to stop")
        self.assertEqual(st.redis("EXISTS", "fc:cc:" + owner), "0", "liveness not released")
        self.assertNotIn("Sanitizer", "".join(old.tail(200)))
        st.start_callctl()
        ra, rb = a.wait(), b.wait()
        self.assertEqual(ra.rc, 0, ra.summary())
        self.assertEqual(len(rb.recv_requests("BYE")), 1, rb.summary())
        self.assertEqual(st.wait_call_status(sid, ("completed",), 10)[1]["status"], "completed")
        time.sleep(1)
        self.assertEqual([r.params["CallStatus"] for r in app.requests(cb)], ["completed"])
        self.assertTrue(wait_until(lambda: not st.redis_keys("fc:live:*"), 5))
