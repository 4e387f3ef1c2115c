"""Issue 2 (e): a CANCEL from the caller ends the call cleanly, whatever
callctl is doing (waiting for the webhook, running <Pause>)."""
import time
import unittest

from harness import XML_DECL, TWIML_BUSY, FulcrumTestCase, wait_until


class CancelTest(FulcrumTestCase):

    def _check_cancelled(self, res, p):
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(res.codes("CANCEL"), [200], res.summary())
        # exactly one final to the INVITE, the 487, and nothing after it
        finals = [m.code for m in res.finals("INVITE")]
        self.assertEqual(finals, [487], res.summary())
        reqs = self.app.wait_requests(p, 1, 5)
        self.assertEqual(len(reqs), 1, reqs)
        sid = reqs[0].params["CallSid"]
        st, call = self.stack.wait_call_status(sid, {"canceled"}, timeout=8)
        self.assertEqual(st, 200, call)
        self.assertEqual(call.get("status"), "canceled", call)
        self.assertTrue(call.get("end_time"), call)
        self.assertTrue(wait_until(lambda: not self.stack.redis_keys("fc:live:" + sid), 5),
                        "fc:live:%s left behind" % sid)
        return sid, reqs[0]

    def test_cancel_during_webhook(self):
        """The webhook takes 3 s; the caller CANCELs 1 s after 180 → 200 to the
        CANCEL, 487 to the INVITE, no further response when the (late) TwiML
        arrives; status canceled; no fc:live key."""
        num, p = self.number(), self.path()
        self.app.route(p, TWIML_BUSY, delay=3)
        self.stack.create_number(num, self.app.url(p))
        res = self.sipp("uac_cancel", ruri_user=num, d_ms=1000, timeout=20)
        sid, req = self._check_cancelled(res, p)
        # the CANCEL really came while the webhook was in flight
        cancel = res.sent("CANCEL")[0]
        self.assertLess(req.arrived, cancel.time + 0.2)
        # the late TwiML must not produce anything: wait for it to be served
        self.assertTrue(self.app.wait_responded(req, 5))
        time.sleep(0.5)
        evs = [e for e in self.stack.events(sid) if e.get("type") == "call.ended"]
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0].get("reason"), "canceled")
        self.assertEqual(evs[0].get("code"), 487)

    def test_cancel_during_pause(self):
        """<Pause length="5"/> before answer; the caller CANCELs during it."""
        num, p = self.number(), self.path()
        self.app.route(p, XML_DECL + '<Response><Pause length="5"/><Reject reason="busy"/></Response>')
        self.stack.create_number(num, self.app.url(p))
        res = self.sipp("uac_cancel", ruri_user=num, d_ms=1500, timeout=20)
        self._check_cancelled(res, p)
        self.assertEqual(len(self.app.requests(p)), 1)


if __name__ == "__main__":
    unittest.main()
