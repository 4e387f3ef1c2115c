"""Issue 2: the first inbound call through every component.

INVITE (X- headers, User-to-User) to a number configured over REST → webhook
with Twilio's parameters and a valid signature → <Reject> → SIP final on the
wire; the Call record over REST; unknown destinations; the module build.
"""
import re
import subprocess
import time
import unittest

from harness import (CALL_SID_RE, MODULE, TWIML_BUSY, TWIML_REJECT, XML_DECL, FulcrumTestCase,
                     wait_until)


class InboundBasicTest(FulcrumTestCase):

    def test_reject_busy_with_x_headers(self):
        """(a) + (i): 100, 180, 486 on the wire; every webhook parameter; the
        signature; ACK absorbs the 486; the bus event; the Call record."""
        num, frm = self.number(), "+14155550123"
        p = self.path()
        self.app.route(p, TWIML_BUSY)
        self.stack.create_number(num, self.app.url(p))
        uui = "56a390f3d2b7310023a2;encoding=hex"
        res = self.sipp("uac_invite", ruri_user=num, from_user=frm, from_disp="Alice",
                        headers=[("X-Route-Id", "42"), ("X-Test-Case", "busy with spaces"),
                                 ("User-to-User", uui)], d_ms=1500)
        self.assertEqual(res.rc, 0, res.summary())

        # On the wire: 100 Trying, 180 Ringing, 486, in this order; one 486 only
        # (a retransmitted 486 would mean our ACK was not matched).
        codes = res.codes()
        self.assertIn(100, codes, res.summary())
        self.assertIn(180, codes, res.summary())
        self.assertFinal(res, 486)
        self.assertLess(codes.index(100), codes.index(180), res.summary())
        self.assertLess(codes.index(180), codes.index(486), res.summary())
        self.assertEqual(len(res.received(486)), 1, "486 retransmitted after ACK?\n" + res.summary())
        self.assertEqual([c for c in codes if c >= 200], [486], res.summary())
        self.assertEqual(res.final().header("Call-ID"), res.call_id)

        # The webhook request.
        reqs = self.app.wait_requests(p, 1, timeout=5)
        self.assertEqual(len(reqs), 1, "webhook requests: %r" % reqs)
        r = reqs[0]
        self.assertEqual(r.method, "POST")
        self.assertTrue((r.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"))
        self.assertSignature(r)
        P = r.params
        self.assertRegex(P.get("CallSid", ""), CALL_SID_RE)
        self.assertEqual(P.get("AccountSid"), self.stack.account_sid)
        self.assertEqual(P.get("To"), num)
        self.assertEqual(P.get("Called"), num)
        self.assertIn("4155550123", P.get("From", ""))
        self.assertEqual(P.get("Caller"), P.get("From"))
        self.assertEqual(P.get("CallStatus"), "ringing")
        self.assertEqual(P.get("Direction"), "inbound")
        self.assertEqual(P.get("ApiVersion"), "2010-04-01")
        self.assertEqual(P.get("SipCallId"), res.call_id)
        self.assertEqual(P.get("SipSourceIp"), "127.0.0.1")
        self.assertEqual(P.get("SipHeader_X-Route-Id"), "42")
        self.assertEqual(P.get("SipHeader_X-Test-Case"), "busy with spaces")
        self.assertNotIn("SipDomain", P, "number call must not carry SipDomain")
        # The request was made while the caller was ringing: before the 486.
        self.assertLessEqual(r.arrived, res.final().time + 0.5)
        sid = P["CallSid"]

        # The module's call.incoming event carries what it parsed.
        evs = [e for e in self.stack.events(sid) if e.get("type") == "call.incoming"]
        self.assertTrue(evs, "no call.incoming event for %s on fc:events" % sid)
        sip = evs[0].get("sip", {})
        self.assertEqual(sip.get("call_id"), res.call_id)
        self.assertEqual(sip.get("ruri_user"), num)
        self.assertEqual(sip.get("src_ip"), "127.0.0.1")
        self.assertEqual(sip.get("transport"), "udp")
        self.assertEqual(sip.get("uui"), uui)
        self.assertIn(["X-Route-Id", "42"], sip.get("headers", []))
        self.assertIn(["X-Test-Case", "busy with spaces"], sip.get("headers", []))
        self.assertIn("v=0", sip.get("sdp", ""))

        # (i) The Call record.
        st, call = self.stack.wait_call_status(sid, {"busy"}, timeout=5)
        self.assertEqual(st, 200, call)
        self.assertEqual(call.get("sid"), sid)
        self.assertEqual(call.get("account_sid"), self.stack.account_sid)
        self.assertEqual(call.get("status"), "busy", call)
        self.assertEqual(call.get("direction"), "inbound")
        self.assertEqual(call.get("to"), num)
        self.assertIn("4155550123", call.get("from") or "")
        self.assertEqual(call.get("api_version"), "2010-04-01")
        self.assertTrue(call.get("start_time"), call)
        self.assertTrue(call.get("end_time"), call)
        self.assertTrue(call.get("date_created"), call)
        # A call that is over leaves no live state behind.
        self.assertTrue(wait_until(lambda: not self.stack.redis_keys("fc:live:" + sid), 5),
                        self.stack.redis_keys("fc:live:*"))

    def test_reject_default_is_404(self):
        """(b) <Reject/> and <Reject reason="rejected"/> → 404 (twilio-voice.md
        §2.12); the call ends as no-answer (CALLRES maps rejected → no-answer)."""
        for twiml in (TWIML_REJECT, XML_DECL + '<Response><Reject reason="rejected"/></Response>'):
            with self.subTest(twiml=twiml):
                num, p = self.number(), self.path("v%d" % len(self.app.requests()))
                self.app.route(p, twiml)
                self.stack.create_number(num, self.app.url(p))
                res = self.sipp("uac_invite", ruri_user=num)
                self.assertEqual(res.rc, 0, res.summary())
                self.assertIn(180, res.codes(), res.summary())
                self.assertFinal(res, 404)
                self.assertEqual(len(res.received(404)), 1, res.summary())
                reqs = self.app.wait_requests(p, 1, 5)
                self.assertEqual(len(reqs), 1)
                sid = reqs[0].params["CallSid"]
                st, call = self.stack.wait_call_status(sid, {"no-answer"}, timeout=5)
                self.assertEqual((st, call.get("status") if isinstance(call, dict) else call),
                                 (200, "no-answer"))

    def test_unknown_destination_404_without_webhook(self):
        """(d) A number no account has and a host that is no SIP domain → 404,
        and nobody's webhook is requested."""
        before = len(self.app.requests())
        res = self.sipp("uac_invite", ruri_user="+19995550000")
        self.assertEqual(res.rc, 0, res.summary())
        self.assertFinal(res, 404)
        self.assertEqual([c for c in res.codes() if c >= 200], [404], res.summary())
        self.assertNotIn(180, res.codes(), "no ringing for a call that has no application")
        time.sleep(0.3)
        self.assertEqual(len(self.app.requests()), before, self.app.requests()[before:])
        # and nothing stays live
        self.assertTrue(wait_until(lambda: not self.stack.redis_keys("fc:live:*"), 5),
                        self.stack.redis_keys("fc:live:*"))

    def test_number_matching_is_e164_normalised(self):
        """The Request-URI user is normalised to E.164 before the lookup: the
        number without '+' still reaches its application."""
        num, p = self.number(), self.path()
        self.app.route(p, TWIML_BUSY)
        self.stack.create_number(num, self.app.url(p))
        res = self.sipp("uac_invite", ruri_user=num.lstrip("+"))
        self.assertFinal(res, 486)
        reqs = self.app.wait_requests(p, 1, 5)
        self.assertEqual(len(reqs), 1)
        self.assertEqual(reqs[0].params.get("Called"), num)

    def test_invite_over_tcp(self):
        """The same call over TCP: 486 comes back on the connection, and the
        module reports transport tcp."""
        num, p = self.number(), self.path()
        self.app.route(p, TWIML_BUSY)
        self.stack.create_number(num, self.app.url(p))
        res = self.sipp("uac_invite", ruri_user=num, transport="t1")
        self.assertEqual(res.rc, 0, res.summary())
        self.assertFinal(res, 486)
        reqs = self.app.wait_requests(p, 1, 5)
        self.assertEqual(len(reqs), 1)
        sid = reqs[0].params["CallSid"]
        evs = [e for e in self.stack.events(sid) if e.get("type") == "call.incoming"]
        self.assertTrue(evs)
        self.assertEqual(evs[0]["sip"].get("transport"), "tcp")


class ModuleTest(FulcrumTestCase):

    def test_module_version_strings(self):
        """(l) fulcrum.so embeds the exact version and flags lines of `kamailio -V`."""
        out = subprocess.run(["kamailio", "-V"], capture_output=True, text=True, timeout=10).stdout
        ver = re.search(r"^version: (.*\S)\s*$", out, re.M).group(1)
        flags = re.search(r"^flags: (.*\S)\s*$", out, re.M).group(1)
        strings = subprocess.run(["strings", MODULE], capture_output=True, text=True, timeout=30).stdout
        lines = set(strings.splitlines())
        self.assertIn(ver, lines, "version line %r not in %s" % (ver, MODULE))
        self.assertIn(flags, lines, "flags line not in %s" % MODULE)

    def test_kamailio_loaded_the_module(self):
        """(l) The running Kamailio loaded our module: the module announces its
        proxy on the bus (fc:proxy:{id}) and OPTIONS is answered."""
        key = "fc:proxy:" + self.stack.proxy_id
        got = wait_until(lambda: self.stack.redis("GET", key), 5)
        self.assertTrue(got, "no %s in Redis; keys: %s" % (key, self.stack.redis_keys("fc:*")))
        self.assertIn(str(self.stack.sip_port), got)
        ttl = int(self.stack.redis("TTL", key) or -2)
        self.assertTrue(0 < ttl <= 15, "TTL of %s is %s" % (key, ttl))


if __name__ == "__main__":
    unittest.main()
