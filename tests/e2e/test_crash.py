"""Issue 2 (j): callctl dies (SIGKILL) while an INVITE waits for its
webhook; another callctl takes the pending event over (XAUTOCLAIM) and the
caller still gets the answer from the TwiML."""
import time
import unittest

from harness import TWIML_BUSY, FulcrumTestCase, wait_until


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


if __name__ == "__main__":
    unittest.main()
