"""Issue 2 (j): callctl dies (SIGKILL) while an INVITE waits for its
webhook; another callctl takes the pending event over (XAUTOCLAIM) and the
caller still gets the answer from the TwiML. Issue 5: the same for calls
created over REST, ringing or queued."""
import time
import unittest

from harness import TWIML_BUSY, XML_DECL, FulcrumTestCase, SippUas, wait_until


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
