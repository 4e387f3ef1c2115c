"""A real softphone's view (issue 14): Debian's baresip, called by Fulcrum
and calling Fulcrum. baresip reports a call established only once the ACK of
its 200 is one it accepts (a transaction of its own, RFC 3261 section
13.2.2.4), and closed when the other side's BYE arrives."""
import time
import unittest

from harness import XML_DECL, DialTestCase, dial_twiml, sip_noun, tail_file
from softphone import Softphone


class SoftphoneTest(DialTestCase):

    def phone(self, user):
        p = Softphone(self.logdir, user)
        self.addCleanup(p.stop)
        return p

    def assertEstablishedThenClosed(self, phone, min_up):
        est = phone.wait_event("CALL_ESTABLISHED", 10)
        self.assertIsNotNone(est, "baresip never saw the call established: %s\n%s" % (
            phone.event_types(), tail_file(phone.proc.log_path, 30)))
        t_est = time.monotonic()
        closed = phone.wait_event("CALL_CLOSED", 15)
        self.assertIsNotNone(closed, "the call was not closed at baresip: %s" % phone.event_types())
        self.assertGreaterEqual(time.monotonic() - t_est + 0.5, min_up,
                                "closed too soon: %s\n%s" % (closed, tail_file(phone.proc.log_path, 30)))
        return est, closed

    def test_fulcrum_dials_the_softphone(self):
        """<Dial><Sip> to baresip (auto-answer): baresip sees the call
        established (it accepted our ACK), keeps it while the caller talks
        (2 s), and closes it on the BYE Fulcrum sends when the caller hangs
        up."""
        phone = self.phone("bob")
        num, p = self.route_number(dial_twiml(sip_noun(phone.uri)))
        c = self.caller(num, call_ms=2000, timeout=30)
        est, closed = self.assertEstablishedThenClosed(phone, 1.5)
        self.assertEqual(est.get("direction"), "incoming", est)
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())

    def test_softphone_calls_fulcrum(self):
        """baresip calls a number whose TwiML <Dial>s a sipp callee that hangs
        up after 2 s: baresip sees the call established (its ACK of our 200
        is taken), goes through the bridge's re-INVITE, and closes on our
        BYE."""
        callee = self.uas("uas_answer", user="carol", bye_ms=2000)
        num, p = self.route_number(dial_twiml(sip_noun(callee.uri())))
        phone = self.phone("alice")
        phone.dial("sip:%s@%s" % (num, self.stack.sip_target))
        est, closed = self.assertEstablishedThenClosed(phone, 1.5)
        self.assertEqual(est.get("direction"), "outgoing", est)
        self.assertTrue(self.app.wait_requests(p, 1, 5), "the webhook was not fetched")


if __name__ == "__main__":
    unittest.main()
