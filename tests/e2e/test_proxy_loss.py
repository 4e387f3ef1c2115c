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
        """A killed proxy's call ends in the records; once the proxy is back
        (same id, new start), its new calls live."""
        st = self.new_stack("loss")
        app = self.new_app(auth_token=st.auth_token)
        cb = self.path("status")
        a, b, sid, _ = self.dial_bridged(st, app, status=cb)
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

        # The proxy comes back (same id, new start): its new calls are not
        # taken for calls of the process that died.
        st.restart_kamailio()
        b2 = self.uas("uas_answer", ring_ms=0, bye_ms=0, timeout=60)
        p2 = self.path("voice2")
        num2 = self.number()
        app.route(p2, dial_twiml(sip_noun(b2.uri())))
        st.create_number(num2, app.url(p2))
        a2 = self.caller(num2, stack=st, call_ms=13000, timeout=60)
        self.assertTrue(b2.wait_request("ACK", 1, 10), b2.snapshot().summary())
        sid2 = app.wait_requests(p2, 1)[0].params["CallSid"]
        time.sleep(11)  # two heartbeat checks
        self.assertEqual(st.call_record(sid2)[1]["status"], "in-progress")
        r = a2.wait()
        self.assertEqual(r.rc, 0, r.summary())
        self.assertEqual(len(b2.wait().recv_requests("BYE")), 1)
        self.assertEqual(st.wait_call_status(sid2, ("completed",), 10)[1]["status"], "completed")


if __name__ == "__main__":
    unittest.main()


class DoubleFaultTest(DialTestCase):
    shared_stack = False

    def test_owner_and_proxy_killed(self):
        """The callctl running a bridged call and the call's proxy both die:
        no event will ever come. Another instance finds the call among the
        live ones whose owner is dead (sweep), takes it over, sees its proxy
        gone and ends it in the records: completed, its dialled leg too,
        the status callback once, no live state left."""
        st = self.new_stack("double")
        app = self.new_app(auth_token=st.auth_token)
        cb = self.path("status")
        a, b, sid, _ = self.dial_bridged(st, app, timeout=90, status=cb)
        self.assertTrue(wait_until(lambda: st.redis("HGET", "fc:live:" + sid, "snap"), 5))
        st.kill_callctl()
        st.procs["kamailio"].kill()
        killed = time.time()
        st.start_callctl()
        code, rec = st.wait_call_status(sid, ("completed",), timeout=40)
        self.assertEqual(rec["status"], "completed", rec)
        self.assertLess(time.time() - killed, 35)
        st2, kids = st.rest("GET", "Calls.json", {"ParentCallSid": sid})
        self.assertEqual([k["status"] for k in kids["calls"]], ["completed"], kids)
        self.assertTrue(wait_until(lambda: not st.redis_keys("fc:live:*"), 5), st.redis_keys("fc:live:*"))
        time.sleep(1)
        self.assertEqual([r.params["CallStatus"] for r in app.requests(cb)], ["completed"])
