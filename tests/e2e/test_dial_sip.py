"""<Dial><Sip> to one target (issue 3; twilio-voice.md §2.1, §2.4): the
outbound INVITE on the wire (fresh Call-ID, From from callerId, the allowed
URI headers percent-decoded, UUI, nothing refused), digest authentication
on 401/407, the action request with its Dial* parameters, the leg's record."""
import re
import time
import unittest

from harness import CALL_SID_RE, TERMINAL_STATUSES, XML_DECL, DialTestCase, dial_twiml, digest_check, sip_noun
from rtp import parse_sdp

HANGUP = XML_DECL + "<Response><Hangup/></Response>"


def user_of(uri_or_header):
    m = re.search(r"sips?:([^@;>]+)@", uri_or_header or "")
    return m.group(1) if m else None


class DialSipTest(DialTestCase):

    def test_single_target_headers_uui_action(self):
        """Caller → <Dial action callerId><Sip>bob?X-…&User-to-User=…</Sip>;
        the callee answers (with an X- header in its 200) and hangs up after
        1 s. On the wire: one INVITE with a fresh Call-ID, From user =
        callerId, To/R-URI = the target, the X- headers and UUI decoded, an
        rtpengine SDP. Then the action request (DialCallStatus=completed,
        DialCallSid, DialCallDuration, DialBridged=true, DialSipCallId,
        DialSipResponseCode=200, SipHeader_X-… of the 200 OK); its <Hangup/>
        ends the caller with a BYE. The leg's record: completed, ParentCallSid,
        outbound-dial."""
        uas = self.uas("uas_answer", ring_ms=300, bye_ms=1000,
                       headers=[("X-Callee-Id", "bob-42"), ("X-Other", "x")])
        act = self.path("action")
        self.app.route(act, HANGUP)
        uri = uas.uri("bob", headers=[("X-Custom", "hello world"), ("x-lower", "a&b=c"),
                                      ("User-to-User", "56a390f3d2b7310023a2;encoding=hex"),
                                      ("P-Called-Party-ID", "<sip:+15550001111@example.com>")])
        caller_id = "fulcrum_test.1-x+y"
        num, p = self.route_number(dial_twiml(sip_noun(uri), action=self.app.url(act), callerId=caller_id,
                                              timeout=10))
        c = self.caller(num, call_ms=0, from_user="+14155550123", timeout=30)
        res = c.wait()
        peer = uas.wait(10)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(peer.rc, 0, peer.summary())

        # -- the outbound INVITE
        invs = peer.unique_requests("INVITE")
        self.assertEqual(len(invs), 1, peer.summary())
        inv = invs[0]
        self.assertEqual(inv.ruri, "sip:bob@%s" % uas.target, inv.text)
        self.assertEqual(user_of(inv.header("To")), "bob", inv.text)
        self.assertNotEqual(inv.call_id, res.call_id, "the leg must have its own Call-ID")
        self.assertEqual(user_of(inv.header("From")), caller_id, inv.text)
        self.assertIn("tag=", inv.header("From") or "")
        self.assertNotIn("tag=", inv.header("To") or "")
        self.assertDialogHeaders(inv, "the outbound INVITE")
        self.assertAckOf2xx(peer, inv, "the callee's 200")
        self.assertEqual(inv.header("X-Custom"), "hello world", inv.text)
        got_lower = [v for k, v in inv.headers if k.lower() == "x-lower"]
        self.assertEqual(got_lower, ["a&b=c"], inv.text)
        self.assertEqual(inv.header("User-to-User"), "56a390f3d2b7310023a2;encoding=hex", inv.text)
        self.assertEqual(inv.header("P-Called-Party-ID"), "<sip:+15550001111@example.com>", inv.text)
        self.assertTrue(inv.header("Contact"), inv.text)
        self.assertTrue(inv.header("Max-Forwards"), inv.text)
        self.assertTrue((inv.header("Content-Type") or "").startswith("application/sdp"), inv.text)
        sdp = self.assertMediaSdp(inv.body, "INVITE to the callee")
        caller_sdp = parse_sdp(res.invite.body)
        self.assertNotEqual(sdp.port, caller_sdp.port, "the caller's SDP was passed through: media not anchored")
        self.assertFalse([k for k, v in inv.headers if k.lower().startswith("x-twilio")], inv.text)
        # the dialog with the callee: ACK for its 200, BYE from it answered 200
        self.assertEqual(len(peer.recv_requests("ACK")), 1, peer.summary())
        self.assertEqual([m.code for m in peer.received(method="BYE") if m.code >= 200], [200], peer.summary())

        # -- the caller: answered before the dial (answerOnBridge=false), BYE at the end
        ok = res.final()
        self.assertEqual(ok.code, 200, res.summary())
        self.assertLessEqual(ok.time, inv.time + 0.05, "caller answered only after the callee was invited\n" + res.summary())
        byes = res.recv_requests("BYE")
        self.assertTrue(byes, "Fulcrum never hung up the caller\n" + res.summary())
        callee_bye = peer.sent("BYE")[0]
        self.assertGreaterEqual(byes[0].time, callee_bye.time, res.summary())

        # -- the action request
        sid = self.call_sid_of(p)
        reqs = self.app.wait_requests(act, 1, 5)
        self.assertEqual(len(reqs), 1, self.app.requests())
        a = reqs[0]
        self.assertEqual(a.method, "POST")
        self.assertSignature(a)
        P = a.params
        self.assertEqual(P.get("CallSid"), sid)
        self.assertEqual(P.get("AccountSid"), self.stack.account_sid)
        self.assertEqual(P.get("To"), num)
        self.assertEqual(P.get("Direction"), "inbound")
        self.assertEqual(P.get("DialCallStatus"), "completed", P)
        leg = P.get("DialCallSid", "")
        self.assertRegex(leg, CALL_SID_RE)
        self.assertNotEqual(leg, sid)
        self.assertTrue(P.get("DialCallDuration", "").isdigit(), P)
        self.assertLessEqual(abs(int(P["DialCallDuration"]) - 1), 1, P)
        self.assertEqual(P.get("DialBridged"), "true", P)
        self.assertEqual(P.get("DialSipCallId"), inv.call_id, P)
        self.assertEqual(P.get("DialSipResponseCode"), "200", P)
        self.assertEqual(P.get("SipHeader_X-Callee-Id"), "bob-42", P)
        self.assertEqual(P.get("SipHeader_X-Other"), "x", P)
        self.assertGreaterEqual(a.arrived, callee_bye.time - 0.05)

        # -- records
        st, rec = self.stack.wait_call_status(leg, TERMINAL_STATUSES, 5)
        self.assertEqual(st, 200, rec)
        self.assertEqual(rec.get("status"), "completed", rec)
        self.assertEqual(rec.get("parent_call_sid"), sid, rec)
        self.assertEqual(rec.get("direction"), "outbound-dial", rec)
        self.assertTrue(str(rec.get("duration") or "").isdigit(), rec)
        self.assertTrue(rec.get("start_time") and rec.get("end_time"), rec)
        st, crec = self.stack.wait_call_status(sid, {"completed"}, 5)
        self.assertEqual(crec.get("status"), "completed", crec)
        self.assertEqual([c.get("sid") for c in self.child_calls(sid)], [leg])

    def test_refused_headers_never_on_the_wire(self):
        """X-Twilio-* and headers outside Twilio's list (x-*, User-to-User,
        Remote-Party-ID, P-Preferred-Identity, P-Called-Party-ID) are refused:
        never on the wire; the allowed ones beside them still arrive if the
        call is placed; the refusal is recorded as an error (Notification)."""
        uas = self.uas("uas_answer", bye_ms=300, timeout=12)
        uri = uas.uri("bob", headers=[("X-Twilio-Foo", "1"), ("X-TWILIO-Bar", "2"), ("Subject", "evil"),
                                      ("P-Asserted-Identity", "<sip:spoof@x>"), ("X-Fine", "ok"),
                                      ("Remote-Party-ID", "<sip:+15550002222@x>;party=calling")])
        num, p = self.route_number(dial_twiml(sip_noun(uri), timeout=5))
        res = self.caller(num, call_ms=0, timeout=20).wait()
        sid = self.call_sid_of(p)
        time.sleep(0.5)
        peer = uas.stop()
        for inv in peer.recv_requests("INVITE"):
            names = [k.lower() for k, v in inv.headers]
            for bad in ("x-twilio-foo", "x-twilio-bar", "subject", "p-asserted-identity"):
                self.assertNotIn(bad, names, "refused header on the wire:\n" + inv.text)
            self.assertEqual(inv.header("X-Fine"), "ok", inv.text)
            self.assertEqual(inv.header("Remote-Party-ID"), "<sip:+15550002222@x>;party=calling", inv.text)
        self.assertIsNotNone(res.final_code(), res.summary())
        st, body = self.stack.rest("GET", "Calls/%s/Notifications.json" % sid)
        self.assertEqual(st, 200, body)
        self.assertTrue(body.get("notifications"), "no Notification recorded for the refused headers: %r" % body)

    def test_caller_id_default_and_digest_401(self):
        """No callerId: the leg's From user is the caller's. <Sip username
        password> against a 401 challenge: the INVITE is repeated once with an
        Authorization that verifies (nonce, realm, MD5, qop=auth), same
        Call-ID, higher CSeq; the callee then answers."""
        self._digest(proxy=0, header="Authorization")

    def test_digest_407(self):
        """The same against 407 Proxy Authentication Required:
        Proxy-Authorization."""
        self._digest(proxy=1, header="Proxy-Authorization")

    def _digest(self, proxy, header):
        uas = self.uas("uas_challenge", proxy=proxy, bye_ms=500,
                       keys={"auth_user": "alice-sip", "auth_pass": "p@ss w0rd", "realm": "pbx.test"})
        act = self.path("action")
        self.app.route(act, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri("bob"), username="alice-sip", password="p@ss w0rd"),
                                              action=self.app.url(act), timeout=10))
        res = self.caller(num, call_ms=0, from_user="+14155550177").wait()
        peer = uas.wait(10)
        self.assertEqual(res.rc, 0, res.summary())
        invs = peer.unique_requests("INVITE")
        self.assertEqual(len(invs), 2, peer.summary())
        first, second = invs
        self.assertFalse(first.header(header), first.text)
        self.assertEqual(first.call_id, second.call_id)
        self.assertGreater(second.cseq_num, first.cseq_num)
        self.assertEqual(user_of(first.header("From")), "+14155550177", first.text)
        auth = second.header(header)
        self.assertTrue(auth, "no %s on the second INVITE:\n%s" % (header, second.text))
        ok, why = digest_check(auth, "INVITE", "alice-sip", "p@ss w0rd", realm="pbx.test", nonce=uas.nonce)
        self.assertTrue(ok, "%s does not verify: %s\n%s" % (header, why, auth))
        self.assertEqual(peer.rc, 0, peer.summary())
        P = self.app.wait_requests(act, 1, 5)[0].params
        self.assertEqual(P.get("DialCallStatus"), "completed", P)
        self.assertEqual(P.get("DialSipCallId"), second.call_id, P)

    def test_digest_wrong_password(self):
        """A wrong password: one retry only, the 403 ends the leg; the action
        gets DialSipResponseCode=403 and a status that is not completed."""
        uas = self.uas("uas_challenge", keys={"auth_user": "u", "auth_pass": "right"}, timeout=10)
        act = self.path("action")
        self.app.route(act, HANGUP)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri("bob"), username="u", password="wrong"),
                                              action=self.app.url(act), timeout=10))
        res = self.caller(num, call_ms=0).wait()
        self.assertEqual(res.rc, 0, res.summary())
        time.sleep(0.3)
        peer = uas.stop()
        self.assertEqual(len(peer.unique_requests("INVITE")), 2, peer.summary())
        P = self.app.wait_requests(act, 1, 5)[0].params
        self.assertEqual(P.get("DialSipResponseCode"), "403", P)
        self.assertIn(P.get("DialCallStatus"), {"failed", "busy", "no-answer"}, P)
        self.assertEqual(P.get("DialBridged"), "false", P)


if __name__ == "__main__":
    unittest.main()
