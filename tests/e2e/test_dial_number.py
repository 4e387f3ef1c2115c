"""<Dial><Number> (issue 3; twilio-voice.md §2.2): numbers go out through the
trunk FULCRUM_PSTN_TRUNK (a SIP URI) with FULCRUM_PSTN_TRUNK_USER /
FULCRUM_PSTN_TRUNK_PASSWORD for its digest challenges."""
import unittest

from harness import DialTestCase, dial_twiml, digest_check, free_port, number_noun


class DialNumberTest(DialTestCase):
    """<Number> goes out through FULCRUM_PSTN_TRUNK (a SIP URI) with the
    trunk's digest credentials; the trunk here is a sipp UAS on a fixed
    port chosen before the stack starts."""

    @classmethod
    def setUpClass(cls):
        cls.trunk_port = free_port(tcp=False)
        cls.stack_env = {"FULCRUM_PSTN_TRUNK": "sip:127.0.0.1:%d" % cls.trunk_port,
                         "FULCRUM_PSTN_TRUNK_USER": "trunk-user",
                         "FULCRUM_PSTN_TRUNK_PASSWORD": "trunk-secret"}
        super().setUpClass()

    def test_number_via_trunk_with_auth(self):
        """<Dial callerId="+14155550999"><Number>+15551230001</Number>: the
        INVITE reaches the trunk for +15551230001 with From +14155550999;
        the trunk's 407 is answered with Proxy-Authorization for the trunk
        credentials; the callee answers, hangs up; statusCallback on the
        noun reports completed."""
        trunk = self.uas("uas_challenge", port=self.trunk_port, proxy=1, bye_ms=600,
                         keys={"auth_user": "trunk-user", "auth_pass": "trunk-secret", "realm": "carrier.test"})
        sc = self.path("sc")
        self.app.route(sc, "")
        num, p = self.route_number(dial_twiml(number_noun("+15551230001", statusCallback=self.app.url(sc)),
                                              callerId="+14155550999"))
        res = self.caller(num, call_ms=0).wait()
        peer = trunk.wait(5)
        self.assertEqual(res.rc, 0, res.summary())
        invs = peer.unique_requests("INVITE")
        self.assertEqual(len(invs), 2, peer.summary())
        self.assertIn("15551230001", invs[0].ruri or "", invs[0].text)
        self.assertIn("15551230001", invs[0].header("To") or "", invs[0].text)
        self.assertIn("4155550999", invs[0].header("From") or "", invs[0].text)
        ok, why = digest_check(invs[1].header("Proxy-Authorization"), "INVITE", "trunk-user", "trunk-secret",
                               realm="carrier.test", nonce=trunk.nonce)
        self.assertTrue(ok, "%s\n%s" % (why, invs[1].text))
        self.assertEqual(peer.rc, 0, peer.summary())
        sid = self.call_sid_of(p)
        r = self.app.wait_requests(sc, 1, 5)
        self.assertEqual([x.params.get("CallStatus") for x in r], ["completed"], r)
        self.assertEqual(r[0].params.get("ParentCallSid"), sid)
        self.assertIn("15551230001", r[0].params.get("To", ""))


if __name__ == "__main__":
    unittest.main()
