"""Issue 6: draining a proxy (`kamcmd fulcrum.drain`, what the proxy
container runs on SIGTERM). While it drains, new INVITEs and OPTIONS probes
get 503, the proxy leaves fc:proxies (edges and callctl stop choosing it)
with its heartbeat still up and saying so, and a call in progress goes on
to its end; `fulcrum.drain 0` takes calls again."""
import json
import time
import unittest

from harness import DialTestCase, sip_options, wait_until


class DrainTest(DialTestCase):
    shared_stack = False

    def _status(self, st):
        rc, out = st.kamcmd("fulcrum.status")
        self.assertEqual(rc, 0, out)
        return out

    def test_drain_refuses_new_calls_keeps_the_call_up(self):
        st = self.new_stack("drain")
        app = self.new_app(auth_token=st.auth_token)
        self.assertIn("draining: 0", self._status(st))
        self.assertEqual(sip_options(st.sip_port, 2), 200)

        a, b, sid, num = self.dial_bridged(st, app, call_ms=6000)

        rc, out = st.kamcmd("fulcrum.drain")
        self.assertEqual(rc, 0, out)
        self.assertIn("draining: 1", self._status(st))
        self.assertRegex(self._status(st), r"legs: [1-9]")
        # Probes and new calls are refused; the heartbeat says why.
        self.assertEqual(sip_options(st.sip_port, 2), 503)
        res = self.sipp("uac_invite", stack=st, ruri_user=num)
        self.assertFinal(res, 503)
        self.assertTrue(wait_until(lambda: st.redis("ZSCORE", "fc:proxies", st.proxy_id) == "", 3),
                        st.redis("ZRANGE", "fc:proxies", "0", "-1"))
        hb = json.loads(st.redis("GET", "fc:proxy:" + st.proxy_id))
        self.assertTrue(hb["draining"], hb)
        # A REST-created call finds no proxy to go out on.
        code, body = st.rest("POST", "Calls.json", {"To": b.uri(), "From": "+14155550100",
                                                    "Twiml": "<Response/>"})
        self.assertEqual(code, 201, body)
        self.assertEqual(st.wait_call_status(body["sid"], ("failed",), 10)[1]["status"], "failed")

        # The call in progress goes on until the caller hangs up.
        self.assertEqual(st.call_record(sid)[1]["status"], "in-progress")
        r = a.wait()
        self.assertEqual(r.rc, 0, r.summary())
        self.assertEqual(st.wait_call_status(sid, ("completed",), 10)[1]["status"], "completed")
        self.assertTrue(b.wait_request("BYE", 1, 10), b.snapshot().summary())
        self.assertTrue(wait_until(lambda: "legs: 0" in self._status(st), 5), self._status(st))

        # Undrained: back in the index, probes and calls answered.
        rc, out = st.kamcmd("fulcrum.drain", "0")
        self.assertEqual(rc, 0, out)
        self.assertEqual(sip_options(st.sip_port, 2), 200)
        self.assertTrue(wait_until(lambda: st.redis("ZSCORE", "fc:proxies", st.proxy_id) != "", 3))
        self.assertFalse(json.loads(st.redis("GET", "fc:proxy:" + st.proxy_id))["draining"])


if __name__ == "__main__":
    unittest.main()


class DrainHangupTest(DialTestCase):
    shared_stack = False

    def test_hangup_all_ends_what_is_left(self):
        """When the drain's time is up, `fulcrum.hangup_all` ends the calls
        still on the proxy: BYE to the caller and to the callee, records
        completed, the status callback once, no live state left."""
        st = self.new_stack("drainhup")
        app = self.new_app(auth_token=st.auth_token)
        cb = self.path("status")
        a, b, sid, _ = self.dial_bridged(st, app, status=cb)
        self.assertEqual(st.kamcmd("fulcrum.drain")[0], 0)
        rc, out = st.kamcmd("fulcrum.hangup_all")
        self.assertEqual(rc, 0, out)
        self.assertIn("legs: 2", out)
        ra, rb = a.wait(), b.wait()
        self.assertEqual(len(ra.recv_requests("BYE")), 1, ra.summary())
        self.assertEqual(len(rb.recv_requests("BYE")), 1, rb.summary())
        self.assertEqual(st.wait_call_status(sid, ("completed",), 10)[1]["status"], "completed")
        self.assertTrue(wait_until(lambda: "legs: 0" in st.kamcmd("fulcrum.status")[1], 5))
        self.assertTrue(wait_until(lambda: not st.redis_keys("fc:live:*"), 5))
        time.sleep(1)
        self.assertEqual([r.params["CallStatus"] for r in app.requests(cb)], ["completed"])
