"""Issue 6: Redis restarts (four times, about a second down each) while a
bridged call is up. The proxy's bus process and callctl reconnect by
themselves every time: the heartbeat comes back, a new call is answered
each time, and the bridged call, hung up over REST after the last restart, ends normally
(BYE to both sides, records completed, status callback once)."""
import time
import unittest

from harness import XML_DECL, DialTestCase, wait_until


class RedisRestartTest(DialTestCase):
    shared_stack = False

    def test_restarts_under_a_call(self):
        st = self.new_stack("redisrs")
        app = self.new_app(auth_token=st.auth_token)
        hang, ph = self.number(), self.path("hangup")
        app.route(ph, XML_DECL + "<Response><Hangup/></Response>")
        st.create_number(hang, app.url(ph))
        cb = self.path("status")
        a, b, sid, _ = self.dial_bridged(st, app, timeout=120, status=cb)

        for i in range(4):
            st.restart_redis(down_s=1.0)
            t0 = time.time()

            def beat_again():  # a heartbeat written after the restart
                v = st.redis("ZSCORE", "fc:proxies", st.proxy_id)
                return v and float(v) > t0 * 1000 and st.redis("GET", "fc:proxy:" + st.proxy_id)
            self.assertTrue(wait_until(beat_again, 12), "restart %d: no heartbeat after 12 s" % i)
            res = None
            for _ in range(10):  # new INVITEs get 503 until both ends are back
                res = self.sipp("uac_invite", stack=st, ruri_user=hang)
                if res.final_code() == 200:
                    break
                time.sleep(0.5)
            self.assertEqual(res.final_code(), 200, "restart %d: %s" % (i, res.summary()))
            print("restart %d: heartbeat and calls back after %.1f s" % (i, time.time() - t0))

        self.assertEqual(st.call_record(sid)[1]["status"], "in-progress")
        code, body = st.rest("POST", "Calls/%s.json" % sid, {"Status": "completed"})
        self.assertEqual(code, 200, body)
        self.assertEqual(len(b.wait().recv_requests("BYE")), 1)
        self.assertEqual(len(a.wait().recv_requests("BYE")), 1)
        self.assertEqual(st.wait_call_status(sid, ("completed",), 10)[1]["status"], "completed")
        time.sleep(1)
        self.assertEqual([r.params["CallStatus"] for r in app.requests(cb)], ["completed"])


if __name__ == "__main__":
    unittest.main()
