"""Issue 2 (k): two stacks on different ports side by side, each handling a
call at the same time, without seeing each other's configuration."""
import unittest

from harness import TWIML_BUSY, TWIML_REJECT, FulcrumTestCase, WebhookApp


class TwoStacksTest(FulcrumTestCase):
    shared_stack = False

    def test_two_stacks_concurrently(self):
        a = self.new_stack("A")
        b = self.new_stack("B")
        self.assertEqual(len({a.sip_port, b.sip_port, a.api_port, b.api_port,
                              a.redis_port, b.redis_port}), 6)
        self.assertNotEqual((a.rtp.min, a.rtp.max), (b.rtp.min, b.rtp.max))
        app = self.new_app(auth_token={a.account_sid: a.auth_token, b.account_sid: b.auth_token})
        # The same number in both stacks, with different applications.
        num = self.number()
        pa, pb = self.path("a"), self.path("b")
        app.route(pa, TWIML_BUSY, delay=1)
        app.route(pb, TWIML_REJECT, delay=1)
        a.create_number(num, app.url(pa))
        b.create_number(num, app.url(pb))

        ra = self.sipp_start("uac_invite", stack=a, ruri_user=num)
        rb = self.sipp_start("uac_invite", stack=b, ruri_user=num)
        res_a, res_b = ra.wait(), rb.wait()
        self.assertEqual(res_a.rc, 0, res_a.summary())
        self.assertEqual(res_b.rc, 0, res_b.summary())
        self.assertFinal(res_a, 486)
        self.assertFinal(res_b, 404)

        qa, qb = app.wait_requests(pa, 1, 5), app.wait_requests(pb, 1, 5)
        self.assertEqual((len(qa), len(qb)), (1, 1), app.requests())
        self.assertEqual(qa[0].params.get("AccountSid"), a.account_sid)
        self.assertEqual(qb[0].params.get("AccountSid"), b.account_sid)
        self.assertSignature(qa[0])
        self.assertSignature(qb[0])
        # Both calls were in their webhook at the same time.
        self.assertLess(max(qa[0].arrived, qb[0].arrived), min(qa[0].responded, qb[0].responded))
        sa, sb = qa[0].params["CallSid"], qb[0].params["CallSid"]
        self.assertEqual(a.wait_call_status(sa, {"busy"}, 5)[1].get("status"), "busy")
        self.assertEqual(b.wait_call_status(sb, {"no-answer"}, 5)[1].get("status"), "no-answer")
        # Each stack knows only its own call.
        self.assertEqual(a.call_record(sb)[0], 404)
        self.assertEqual(b.call_record(sa)[0], 404)


if __name__ == "__main__":
    unittest.main()
