"""Issue 2 (c): calls to a SIP Domain, webhook by GET."""
import secrets
import unittest
import urllib.parse

from harness import CALL_SID_RE, TWIML_BUSY, FulcrumTestCase


class SipDomainTest(FulcrumTestCase):

    def domain(self):
        return "d%s.example.test" % secrets.token_hex(4)

    def test_domain_call_get_webhook(self):
        """The Request-URI host is a SIP Domain of the account; VoiceMethod=GET:
        params in the query string (after the URL's own query), SipDomain set,
        signature over the full URL."""
        dom, p = self.domain(), self.path()
        self.app.route(p, TWIML_BUSY)
        voice_url = self.app.url(p) + "?tenant=t1"
        sd = self.stack.create_domain(dom, voice_url, method="GET")
        res = self.sipp("uac_invite", ruri_user="bob", ruri_host=dom, from_user="alice",
                        headers=[("X-Route-Id", "7")])
        self.assertEqual(res.rc, 0, res.summary())
        self.assertIn(180, res.codes(), res.summary())
        self.assertFinal(res, 486)

        reqs = self.app.wait_requests(p, 1, 5)
        self.assertEqual(len(reqs), 1)
        r = reqs[0]
        self.assertEqual(r.method, "GET")
        self.assertEqual(r.body, b"")
        self.assertTrue(r.query_string.startswith("tenant=t1&"), r.raw_path)
        self.assertSignature(r)  # over http://127.0.0.1:port/path?tenant=t1&...
        P = r.query
        self.assertRegex(P.get("CallSid", ""), CALL_SID_RE)
        self.assertEqual(P.get("AccountSid"), self.stack.account_sid)
        self.assertEqual(P.get("SipDomain"), dom)
        if "SipDomainSid" in P:
            self.assertEqual(P["SipDomainSid"], sd.get("sid"))
        self.assertIn("bob", P.get("To", ""))
        self.assertIn(dom, P.get("To", ""))
        self.assertIn("alice", P.get("From", ""))
        self.assertEqual(P.get("Called"), P.get("To"))
        self.assertEqual(P.get("Caller"), P.get("From"))
        self.assertEqual(P.get("CallStatus"), "ringing")
        self.assertEqual(P.get("Direction"), "inbound")
        self.assertEqual(P.get("SipCallId"), res.call_id)
        self.assertEqual(P.get("SipSourceIp"), "127.0.0.1")
        self.assertEqual(P.get("SipHeader_X-Route-Id"), "7")
        st, call = self.stack.wait_call_status(P["CallSid"], {"busy"}, 5)
        self.assertEqual(st, 200)
        self.assertEqual(call.get("status"), "busy")

    def test_domain_match_is_case_insensitive(self):
        dom, p = self.domain(), self.path()
        self.app.route(p, TWIML_BUSY)
        self.stack.create_domain(dom, self.app.url(p))
        res = self.sipp("uac_invite", ruri_user="carol", ruri_host=dom.upper())
        self.assertFinal(res, 486)
        reqs = self.app.wait_requests(p, 1, 5)
        self.assertEqual(len(reqs), 1)
        self.assertEqual(reqs[0].method, "POST")
        self.assertSignature(reqs[0])

    def test_unknown_domain_404(self):
        before = len(self.app.requests())
        res = self.sipp("uac_invite", ruri_user="dave", ruri_host=self.domain())
        self.assertFinal(res, 404)
        self.assertEqual(len(self.app.requests()), before)


if __name__ == "__main__":
    unittest.main()
