"""Self-checks of the <Dial> test kit, without any Fulcrum stack: every
sipp UAS scenario against a sipp UAC on loopback, the digest checker, and
rtp.py (alone and with SDP read from a live sipp trace). If these fail, the
Dial/answer/media e2e results mean nothing."""
import time
import unittest

from harness import (LOOPBACK, DialTestCase, SippCaller, SippUas, digest_check, dial_twiml,
                     parse_auth_params, sip_noun)
from rtp import PT_PCMU, RtpEndpoint, RtpPacket, make_sdp, parse_sdp, seq_ok


class DialKitTest(DialTestCase):
    shared_stack = False

    def direct(self, uas, scenario="uac_call", user="bob", **kw):
        """A sipp caller straight at the UAS (no Fulcrum)."""
        kw.setdefault("logdir", self.logdir)
        c = SippCaller(scenario, uas.target, ruri_user=user, **kw)
        self.addCleanup(c.stop)
        return c

    def test_answer_caller_hangs_up(self):
        uas = self.uas("uas_answer", ring_ms=300, rtp_port=40002, headers=[("X-Callee", "yes sir")])
        c = self.direct(uas, call_ms=400, headers=[("X-Caller", "1")])
        res, peer = c.wait(), uas.wait()
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(peer.rc, 0, peer.summary())
        self.assertEqual([m.method for m in peer.recv_requests()], ["INVITE", "ACK", "BYE"], peer.summary())
        self.assertEqual(peer.recv_requests("INVITE")[0].header("X-Caller"), "1")
        ok = res.final()
        self.assertEqual(ok.code, 200)
        self.assertEqual(ok.header("X-Callee"), "yes sir")
        self.assertEqual(parse_sdp(ok.body).port, 40002)
        self.assertEqual(parse_sdp(ok.body).ip, LOOPBACK)
        self.assertIn(180, res.codes(), res.summary())
        # ring time honoured
        ring = ok.time - res.received(180)[0].time
        self.assertGreater(ring, 0.25, res.summary())

    def test_answer_callee_hangs_up(self):
        uas = self.uas("uas_answer", ring_ms=0, bye_ms=500)
        c = self.direct(uas, call_ms=0)
        res, peer = c.wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        self.assertEqual(len(res.recv_requests("BYE")), 1, res.summary())
        self.assertEqual(peer.received(200, "BYE")[0].code, 200)
        held = res.recv_requests("BYE")[0].time - res.final().time
        self.assertGreater(held, 0.4, res.summary())

    def test_early_media(self):
        uas = self.uas("uas_answer", ring_ms=300, early=1, rtp_port=40010)
        res, peer = self.direct(uas, call_ms=200).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary())
        p183 = res.received(183)
        self.assertTrue(p183, res.summary())
        self.assertEqual(parse_sdp(p183[0].body).port, 40010)
        self.assertNotIn(180, res.codes())
        self.assertEqual(res.final_code(), 200)

    def test_reject_codes(self):
        for code in (486, 603, 404):
            with self.subTest(code=code):
                uas = self.uas("uas_reject", code=code, headers=[("X-Why", "because")])
                res, peer = self.direct(uas).wait(), uas.wait()
                self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + peer.summary())
                self.assertEqual(res.final_code(), code, res.summary())
                self.assertEqual(res.final().header("X-Why"), "because")
                self.assertEqual(len(peer.recv_requests("ACK")), 1, peer.summary())

    def test_reject_after_ringing(self):
        uas = self.uas("uas_reject", code=486, ring_ms=400)
        res, peer = self.direct(uas).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary())
        self.assertEqual(res.codes()[-1], 486)
        self.assertIn(180, res.codes())

    def test_ring_until_cancel(self):
        uas = self.uas("uas_ring")
        res, peer = self.direct(uas, "uac_cancel_ring", cancel_ms=400).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        self.assertEqual(len(peer.unique_requests("CANCEL")), 1, peer.summary())
        self.assertTrue(peer.sent_responses(487, "INVITE"), peer.summary())
        self.assertTrue(peer.sent_responses(200, "CANCEL"), peer.summary())
        self.assertEqual(len(peer.recv_requests("ACK")), 1, peer.summary())
        inv = peer.recv_requests("INVITE")[0]
        cancel = peer.recv_requests("CANCEL")[0]
        self.assertGreater(cancel.time - inv.time, 0.35)

    def test_ring_early_media_until_cancel(self):
        uas = self.uas("uas_ring", early=1, rtp_port=40020)
        res, peer = self.direct(uas, "uac_cancel_ring", cancel_ms=200).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary())
        self.assertEqual(parse_sdp(res.received(183)[0].body).port, 40020)

    def test_ring_without_cancel_fails(self):
        """uas_ring must fail when no CANCEL comes (so a product that never
        cancels fails the test)."""
        uas = self.uas("uas_ring", timeout=2)
        c = self.direct(uas, "uac_cancel_ring", cancel_ms=5000, timeout=3)
        peer = uas.wait()
        c.stop()
        self.assertNotEqual(peer.rc, 0, peer.summary())

    def test_cancel_while_answer_rings(self):
        uas = self.uas("uas_answer", ring_ms=3000)
        res, peer = self.direct(uas, "uac_cancel_ring", cancel_ms=300).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        self.assertFalse(peer.sent_responses(200, "INVITE"), peer.summary())
        self.assertTrue(peer.sent_responses(487, "INVITE"), peer.summary())

    def test_cancel_while_reject_rings(self):
        uas = self.uas("uas_reject", ring_ms=3000, code=486)
        res, peer = self.direct(uas, "uac_cancel_ring", cancel_ms=300).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        self.assertFalse(peer.sent_responses(486), peer.summary())

    def _challenge(self, proxy, password):
        uas = self.uas("uas_challenge", proxy=proxy, bye_ms=0,
                       keys={"auth_user": "fcuser", "auth_pass": "s3cret", "realm": "kit.test"})
        c = self.direct(uas, "uac_auth", extra_args=["-au", "fcuser", "-ap", password])
        return c.wait(), uas.wait(), uas

    def test_challenge_401(self):
        res, peer, uas = self._challenge(0, "s3cret")
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        self.assertIn(401, res.codes(), res.summary())
        invs = peer.unique_requests("INVITE")
        self.assertEqual(len(invs), 2, peer.summary())
        auth = invs[1].header("Authorization")
        self.assertTrue(auth, invs[1].text)
        ok, why = digest_check(auth, "INVITE", "fcuser", "s3cret", realm="kit.test", nonce=uas.nonce)
        self.assertTrue(ok, why)
        self.assertFalse(digest_check(auth, "INVITE", "fcuser", "wrong")[0])
        self.assertEqual(parse_auth_params(auth)[1].get("qop"), "auth")

    def test_challenge_401_wrong_password(self):
        res, peer, uas = self._challenge(0, "nope")
        self.assertEqual([m.code for m in res.finals()], [401, 403], res.summary())
        self.assertNotEqual(peer.rc, 0, peer.summary())

    def test_challenge_407(self):
        res, peer, uas = self._challenge(1, "s3cret")
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        self.assertIn(407, res.codes(), res.summary())
        inv2 = peer.unique_requests("INVITE")[1]
        ok, why = digest_check(inv2.header("Proxy-Authorization"), "INVITE", "fcuser", "s3cret",
                               realm="kit.test", nonce=uas.nonce)
        self.assertTrue(ok, why)

    def test_reinvite_hold_resume(self):
        uas = self.uas("uas_reinvite", hold_ms=300, bye_ms=300, rtp_port=40030)
        res, peer = self.direct(uas, call_ms=0, rtp_port=40040).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        reinv = res.recv_requests("INVITE")
        self.assertEqual([parse_sdp(m.body).direction for m in reinv], ["sendonly", "sendrecv"], res.summary())
        oks = [m for m in peer.received(200, "INVITE")]
        self.assertEqual([parse_sdp(m.body).direction for m in oks], ["recvonly", "sendrecv"], peer.summary())
        self.assertEqual(len(res.recv_requests("ACK")), 2, res.summary())
        self.assertEqual(len(res.recv_requests("BYE")), 1, res.summary())

    def test_caller_holds_and_resumes(self):
        """uac_hold against uas_answer: re-INVITE sendonly answered recvonly,
        then sendrecv answered sendrecv, then the caller's BYE."""
        uas = self.uas("uas_answer", rtp_port=40050)
        res, peer = self.direct(uas, "uac_hold", hold_ms=300, call_ms=300).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        offers = [parse_sdp(m.body).direction for m in peer.unique_requests("INVITE")]
        self.assertEqual(offers, ["sendrecv", "sendonly", "sendrecv"], peer.summary())
        answers = [parse_sdp(m.body).direction for m in res.received(200, "INVITE")]
        self.assertEqual(answers[-2:], ["recvonly", "sendrecv"], res.summary())
        self.assertEqual(len(peer.recv_requests("ACK")), 3, peer.summary())
        self.assertEqual(len(peer.recv_requests("BYE")), 1, peer.summary())

    def test_info_auto_answered(self):
        """uas_info's INFO reaches the caller, which answers it 200 (-aa)."""
        uas = self.uas("uas_info", hold_ms=300, bye_ms=300)
        res, peer = self.direct(uas, call_ms=0).wait(), uas.wait()
        self.assertEqual((res.rc, peer.rc), (0, 0), res.summary() + "\n" + peer.summary())
        info = res.recv_requests("INFO")
        self.assertEqual(len(info), 1, res.summary())
        self.assertEqual(info[0].header("Content-Type"), "application/dtmf-relay")
        self.assertIn("Signal=5", info[0].body)
        self.assertTrue(res.sent_responses(200, "INFO"), res.summary())
        self.assertTrue(peer.received(200, "INFO"), peer.summary())

    def test_uas_serves_several_calls(self):
        uas = self.uas("uas_reject", calls=3, code=486)
        runs = [self.direct(uas, user="u%d" % i) for i in range(3)]
        results = [r.wait() for r in runs]
        peer = uas.wait()
        self.assertEqual(peer.rc, 0, peer.summary())
        self.assertEqual(len(peer.call_ids()), 3)
        self.assertEqual(sorted(m.ruri.split("@")[0] for m in peer.unique_requests("INVITE")),
                         ["sip:u0", "sip:u1", "sip:u2"])
        self.assertEqual([r.final_code() for r in results], [486] * 3)

    def test_uri_and_twiml(self):
        uas = self.uas("uas_reject")
        uri = uas.uri("bob", headers=[("X-Foo", "a b&c"), ("User-to-User", "00ab;encoding=hex")])
        self.assertEqual(uri, "sip:bob@%s?X-Foo=a%%20b%%26c&User-to-User=00ab%%3Bencoding%%3Dhex" % uas.target)
        doc = dial_twiml(sip_noun(uri, username="u"), timeout=5, answerOnBridge=True)
        self.assertIn('<Dial timeout="5" answerOnBridge="true"><Sip username="u">', doc)
        self.assertIn("&amp;User-to-User", doc)

    def test_digest_vector(self):
        """RFC 2617 §3.5's example (qop=auth), adapted to SIP names."""
        hdr = ('Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
               'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", '
               'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"')
        self.assertTrue(digest_check(hdr, "GET", "Mufasa", "Circle Of Life")[0])
        self.assertFalse(digest_check(hdr, "GET", "Mufasa", "circle of life")[0])
        self.assertFalse(digest_check(hdr, "GET", "Mufasa", "Circle Of Life", nonce="x")[0])


class RtpKitTest(unittest.TestCase):

    def test_sdp_roundtrip(self):
        s = parse_sdp(make_sdp("127.0.0.1", 40000, "sendonly"))
        self.assertEqual((s.ip, s.port, s.payloads, s.direction), ("127.0.0.1", 40000, [0, 101], "sendonly"))
        self.assertEqual(s.rtpmap[0], "PCMU/8000")
        s = parse_sdp("v=0\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=recvonly\r\nm=video 5 RTP/AVP 96\r\n"
                      "c=IN IP4 9.9.9.9\r\nm=audio 7078 RTP/AVP 8\r\n")
        self.assertEqual((s.ip, s.port, s.direction), ("10.0.0.1", 7078, "recvonly"))
        self.assertIsNone(parse_sdp("v=0\r\n"))

    def test_packets(self):
        raw = RtpPacket.build(0, 65535, 1, 0x1234, b"x" * 10, marker=True)
        p = RtpPacket.parse(raw)
        self.assertEqual((p.pt, p.seq, p.ts, p.ssrc, p.marker, p.payload), (0, 65535, 1, 0x1234, True, b"x" * 10))
        self.assertIsNone(RtpPacket.parse(b"\x81\xc8" + b"\0" * 30))  # RTCP SR
        self.assertIsNone(RtpPacket.parse(b"hello world!!"))
        self.assertTrue(seq_ok([65534, 65535, 0, 1, 3]))
        self.assertFalse(seq_ok([1, 2, 2]))
        self.assertFalse(seq_ok([10, 11, 1]))

    def test_two_endpoints(self):
        with RtpEndpoint() as a, RtpEndpoint() as b:
            self.assertEqual(a.port % 2, 0)
            a.send_to(b.addr, 30, 0.005)
            b.send_to(a.addr, 30, 0.005)
            got_b = b.wait_received(30, 3, from_ep=a)
            got_a = a.wait_received(30, 3, from_ep=b)
            self.assertEqual((len(got_a), len(got_b)), (30, 30))
            st = b.stats(from_ep=a)
            self.assertEqual(st["pts"], [PT_PCMU])
            self.assertTrue(st["seq_ok"])
            self.assertEqual(st["sources"], [a.addr])
            self.assertTrue(got_b[0].marker)
            self.assertEqual(len(got_b[0].payload), 160)


class RtpWithSippTest(DialTestCase):
    shared_stack = False

    def test_sdp_from_live_trace(self):
        """The caller reads the callee's 200 OK SDP from sipp's trace while
        the call is up and sends RTP there; the callee's socket gets it."""
        with RtpEndpoint() as callee, RtpEndpoint() as caller:
            uas = self.uas("uas_answer", ring_ms=0, rtp_port=callee.port)
            c = SippCaller("uac_call", uas.target, ruri_user="bob", call_ms=1500, rtp_port=caller.port,
                           logdir=self.logdir)
            self.addCleanup(c.stop)
            ok = c.wait_response(200, timeout=5)
            self.assertIsNotNone(ok, c.snapshot().summary())
            inv = uas.wait_request("INVITE", 1, 5)[0]
            t0 = time.time()
            caller.send_to(parse_sdp(ok.body).addr, 20, 0.01)
            callee.send_to(parse_sdp(inv.body).addr, 20, 0.01)
            self.assertEqual(len(callee.wait_received(20, 3, from_ep=caller)), 20)
            self.assertEqual(len(caller.wait_received(20, 3, from_ep=callee)), 20)
            self.assertLess(time.time() - t0, 1.4, "the call should still be up")
            res = c.wait()
            self.assertEqual(res.rc, 0, res.summary())


if __name__ == "__main__":
    unittest.main()
