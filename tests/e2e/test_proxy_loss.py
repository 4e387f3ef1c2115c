"""Issue 6 (first part): a proxy that dies takes its legs with it. The
callctl running its calls notices the expired heartbeat (fc:proxy:{id},
TTL 15 s) and ends them in the records within a bounded time: answered
calls completed, their dialled legs ended, status callbacks fired once, no
live state left."""
import time
import unittest

from harness import DialTestCase, dial_twiml, sip_noun, wait_until


class ProxyLossTest(DialTestCase):
    shared_stack = False

    def test_killed_proxy_calls_end(self):
        st = self.new_stack("loss")
        app = self.new_app(auth_token=st.auth_token)
        b = self.uas("uas_answer", ring_ms=0, bye_ms=0, timeout=60)
        num, p, cb = self.number(), self.path(), self.path("status")
        app.route(p, dial_twiml(sip_noun(b.uri())))
        st.create_number(num, app.url(p), StatusCallback=app.url(cb))
        a = self.caller(num, stack=st, call_ms=0, timeout=60)
        self.assertTrue(b.wait_request("ACK", 1, 10), b.snapshot().summary())
        sid = app.wait_requests(p, 1)[0].params["CallSid"]
        self.assertEqual(st.wait_call_status(sid, ("in-progress",))[1]["status"], "in-progress")
        st.procs["kamailio"].kill()
        killed = time.time()
        code, rec = st.wait_call_status(sid, ("completed",), timeout=30)
        self.assertEqual(rec["status"], "completed", rec)
        self.assertLess(time.time() - killed, 25)
        reqs = app.wait_requests(cb, 1, 5)
        self.assertEqual([r.params["CallStatus"] for r in reqs], ["completed"])
        st2, kids = st.rest("GET", "Calls.json", {"ParentCallSid": sid})
        self.assertEqual([k["status"] for k in kids["calls"]], ["completed"], kids)
        self.assertTrue(wait_until(lambda: not st.redis_keys("fc:live:*"), 5), st.redis_keys("fc:live:*"))
        time.sleep(6)
        self.assertEqual(len(app.requests(cb)), 1, "callback fired twice")


if __name__ == "__main__":
    unittest.main()
