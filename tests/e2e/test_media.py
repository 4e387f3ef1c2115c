"""Media through rtpengine (issue 3): RTP both ways between a caller and a
<Dial>ed callee, each side only ever talking to rtpengine's addresses;
ringback to an answered caller while the callee rings; the callee's
re-INVITE hold/resume relayed to the caller and the answers relayed back."""
import os
import time
import unittest

from harness import BUILD, DialTestCase, dial_twiml, sip_noun
from rtp import RtpEndpoint, parse_sdp

TONES = os.path.join(BUILD, "tones")


def last_sdp(msgs):
    """The newest SDP among messages (a 200 OK, later re-INVITEs)."""
    sdps = [parse_sdp(m.body) for m in msgs if parse_sdp(m.body)]
    return sdps[-1] if sdps else None


class MediaTest(DialTestCase):
    stack_env = {"FULCRUM_TONES_DIR": TONES}

    def _bridge(self, caller_ep, callee_ep, call_ms, ring_ms=0, answer_on_bridge=None):
        uas = self.uas("uas_answer", ring_ms=ring_ms, bye_ms=0, rtp_port=callee_ep.port)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri()), answerOnBridge=answer_on_bridge))
        c = self.caller(num, call_ms=call_ms, rtp_port=caller_ep.port)
        return uas, c

    def test_rtp_both_ways_answer_on_bridge(self):
        """The same with answerOnBridge="true" (the caller's SDP answer is
        made when the callee answers)."""
        self.test_rtp_both_ways(answer_on_bridge=True)

    def test_rtp_both_ways(self, answer_on_bridge=None):
        """After the bridge each side sends 50 PCMU packets (20 ms) to the
        address Fulcrum's SDP gave it; each receives >= 45 of the other's, with
        PT 0, ordered sequence numbers and the payload unchanged, through
        rtpengine (never from the other side directly) and from the very
        address its SDP named (symmetric RTP)."""
        with RtpEndpoint() as caller_ep, RtpEndpoint() as callee_ep:
            uas, c = self._bridge(caller_ep, callee_ep, call_ms=3500, answer_on_bridge=answer_on_bridge)
            ack = uas.wait_request("ACK", 1, 8)
            self.assertTrue(ack, "callee never got its ACK\n" + uas.snapshot().summary())
            time.sleep(0.3)  # a re-INVITE of the caller at the bridge, if any, is done by now
            snap = c.snapshot()
            to_caller = last_sdp(snap.received(200, "INVITE") + snap.recv_requests("INVITE"))
            to_callee = last_sdp(uas.snapshot().unique_requests("INVITE"))
            self.assertIsNotNone(to_caller, snap.summary())
            self.assertIsNotNone(to_callee)
            self.assertNotEqual(to_caller.port, callee_ep.port, "caller was given the callee's own address")
            self.assertNotEqual(to_callee.port, caller_ep.port, "callee was given the caller's own address")
            for s in (to_caller, to_callee):
                self.assertTrue(self.stack.rtp.min <= s.port <= self.stack.rtp.max, s)
            self.assertRtpBothWays(caller_ep, to_caller, callee_ep, to_callee)
            for ep, frm in ((callee_ep, caller_ep), (caller_ep, callee_ep)):
                self.assertTrue(ep.stats(frm)["seq_ok"], ep.stats(frm))
                self.assertEqual(len(ep.packets(from_ep=frm)[0].payload), 160)
            # symmetric RTP (RFC 4961): each side hears from the address it
            # was told to send to, as a NAT/SBC/strict phone requires
            for ep, frm, src, side in ((callee_ep, caller_ep, to_callee, "callee"),
                                       (caller_ep, callee_ep, to_caller, "caller")):
                st = ep.stats(frm)
                self.assertEqual(st["sources"], [src.addr], "RTP to the %s comes from %r, but its SDP said %s:%d"
                                 % (side, st["sources"], src.ip, src.port))
            res = c.wait()
            self.assertEqual(res.rc, 0, res.summary())

    def test_ringback_while_the_callee_rings(self):
        """answerOnBridge=false: between the caller's 200 OK and the callee's
        answer (2.5 s of ringing) the caller receives a ringback stream from
        rtpengine; after the bridge the callee's audio replaces it."""
        if not os.path.isdir(TONES):
            self.skipTest("no %s (make all builds the tones)" % TONES)
        with RtpEndpoint() as caller_ep, RtpEndpoint() as callee_ep:
            uas, c = self._bridge(caller_ep, callee_ep, call_ms=5000, ring_ms=2500)
            ok = c.wait_response(200, timeout=5)
            self.assertIsNotNone(ok, c.snapshot().summary())
            to_caller = parse_sdp(ok.body)
            # a phone sends RTP as soon as it is answered
            caller_ep.send_to(to_caller.addr, 175, 0.02)
            answered = None
            ack = uas.wait_request("ACK", 1, 8)
            self.assertTrue(ack, uas.snapshot().summary())
            answered = uas.snapshot().sent_responses(200, "INVITE")[0].time
            ringing = [pk for pk in caller_ep.packets() if not pk.tag and ok.time <= pk.arrived < answered]
            self.assertGreaterEqual(len(ringing), 50, "only %d RTP packets reached the caller during %.1f s of ringing"
                                    % (len(ringing), answered - ok.time))
            self.assertEqual(set(pk.src for pk in ringing), {to_caller.addr})
            to_callee = parse_sdp(uas.snapshot().unique_requests("INVITE")[0].body)
            callee_ep.send_to(to_callee.addr, 60, 0.02)
            got = caller_ep.wait_received(50, 4, from_ep=callee_ep)
            self.assertGreaterEqual(len(got), 50, caller_ep.stats(callee_ep))
            first = got[0].arrived
            late_tone = [pk for pk in caller_ep.packets() if not pk.tag and pk.arrived > first + 0.3]
            self.assertLess(len(late_tone), 5, "ringback still playing after the bridge (%d packets)" % len(late_tone))
            c.wait()

    def test_reinvite_hold_resume_relayed(self):
        """The callee sends re-INVITE a=sendonly (hold), then a=sendrecv
        (resume): each is relayed to the caller as a re-INVITE in the
        caller's dialog with rtpengine's SDP (sendonly, then sendrecv); the
        caller's answers (recvonly, sendrecv) come back to the callee in the
        200 OKs. Then the callee hangs up → the caller gets a BYE."""
        with RtpEndpoint() as caller_ep, RtpEndpoint() as callee_ep:
            uas = self.uas("uas_reinvite", hold_ms=800, bye_ms=800, rtp_port=callee_ep.port)
            num, p = self.route_number(dial_twiml(sip_noun(uas.uri())))
            res = self.caller(num, call_ms=0, rtp_port=caller_ep.port, timeout=30).wait()
            peer = uas.wait(5)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(peer.rc, 0, peer.summary())
        # callee side: both re-INVITEs answered 200 with SDP
        sent = [m for m in peer.sent("INVITE")]
        hold_ok = peer.received(200, "INVITE")
        dirs_sent = [parse_sdp(m.body).direction for m in sent]
        self.assertEqual(dirs_sent[:1] + dirs_sent[-1:], ["sendonly", "sendrecv"])
        uniq_ok = []
        for m in hold_ok:
            if m.cseq_num not in [u.cseq_num for u in uniq_ok]:
                uniq_ok.append(m)
        self.assertEqual(len(uniq_ok), 2, peer.summary())
        answers = [self.assertMediaSdp(m.body, "200 OK to the callee's re-INVITE") for m in uniq_ok]
        self.assertEqual([a.direction for a in answers], ["recvonly", "sendrecv"], [a.raw for a in answers])
        for a in answers:
            self.assertNotEqual(a.port, caller_ep.port)
        # caller side: two re-INVITEs in its dialog, with the callee's directions
        ok = res.received(200, "INVITE")[0]
        our_tag = (res.invite.header("From") or "").split("tag=")[-1]
        their_tag = (ok.header("To") or "").split("tag=")[-1]
        # (Fulcrum may also re-INVITE the caller at the bridge, before the
        # callee's hold: only what came after the callee's re-INVITE counts)
        reinvs = [r for r in PeerSeen.unique(res.recv_requests("INVITE")) if r.time >= sent[0].time - 0.01]
        self.assertEqual(len(reinvs), 2, "re-INVITEs not relayed to the caller\n" + res.summary())
        for r in reinvs:
            self.assertEqual(r.call_id, res.call_id, r.text)
            self.assertEqual((r.header("From") or "").split("tag=")[-1], their_tag, r.text)
            self.assertEqual((r.header("To") or "").split("tag=")[-1], our_tag, r.text)
            self.assertTrue((r.ruri or "").startswith("sip:alice@127.0.0.1:"), r.text)
        self.assertGreater(reinvs[1].cseq_num, reinvs[0].cseq_num)
        offers = [self.assertMediaSdp(r.body, "re-INVITE to the caller") for r in reinvs]
        self.assertEqual([o.direction for o in offers], ["sendonly", "sendrecv"], [o.raw for o in offers])
        for o in offers:
            self.assertNotEqual(o.port, callee_ep.port)
        # order: callee's re-INVITE → caller's re-INVITE → caller's 200 → callee's 200
        self.assertGreaterEqual(reinvs[0].time, sent[0].time - 0.01)
        self.assertGreaterEqual(uniq_ok[0].time, res.sent_responses(200, "INVITE")[0].time - 0.01)
        # the end
        self.assertTrue(res.recv_requests("BYE"), res.summary())
        self.assertGreaterEqual(res.recv_requests("BYE")[0].time, peer.sent("BYE")[0].time - 0.01)


class EarlyMediaTest(DialTestCase):

    def test_early_media_from_one_leg_only(self):
        """answerOnBridge="true", two targets both answer 183 with SDP and
        stream early media: the caller hears exactly one of them (the first
        with SDP), never both interleaved."""
        with RtpEndpoint() as caller_ep, RtpEndpoint() as ep1, RtpEndpoint() as ep2:
            u1 = self.uas("uas_answer", ring_ms=3000, early=1, bye_ms=300, rtp_port=ep1.port)
            u2 = self.uas("uas_answer", ring_ms=3500, early=1, bye_ms=300, rtp_port=ep2.port)
            twiml = dial_twiml(sip_noun(u1.uri()) + sip_noun(u2.uri()), answerOnBridge=True)
            num, p = self.route_number(twiml)
            c = self.caller(num, call_ms=0, rtp_port=caller_ep.port)
            for u in (u1, u2):
                self.assertTrue(u.wait_request("INVITE", 1, 5), u.snapshot().summary())
            time.sleep(0.5)  # both 183s are out
            for u, ep in ((u1, ep1), (u2, ep2)):
                sdp = parse_sdp(u.snapshot().unique_requests("INVITE")[0].body)
                ep.send_to(sdp.addr, 40, 0.02)
            got1 = caller_ep.wait_received(30, 3, from_ep=ep1)
            got2 = caller_ep.wait_received(30, 0.5, from_ep=ep2)
            self.assertTrue(caller_ep.stats()["count"] > 0, "no early media reached the caller")
            self.assertFalse(got1 and got2, "early media of both legs reached the caller: %r / %r"
                             % (caller_ep.stats(ep1), caller_ep.stats(ep2)))
            c.wait()


class CallerHoldTest(DialTestCase):

    def test_caller_hold_resume_relayed(self):
        """The other direction: the caller's re-INVITEs (sendonly, then
        sendrecv) reach the callee in the callee's dialog with rtpengine's
        SDP; the callee's answers (recvonly, sendrecv) come back to the caller;
        the caller's BYE ends the callee's leg."""
        with RtpEndpoint() as caller_ep, RtpEndpoint() as callee_ep:
            uas = self.uas("uas_answer", rtp_port=callee_ep.port)
            num, p = self.route_number(dial_twiml(sip_noun(uas.uri())))
            res = self.caller(num, "uac_hold", hold_ms=800, call_ms=600, rtp_port=caller_ep.port, timeout=30).wait()
            peer = uas.wait(5)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(peer.rc, 0, peer.summary())
        invs = PeerSeen.unique(peer.recv_requests("INVITE"))
        self.assertEqual(len(invs), 3, "re-INVITEs not relayed to the callee\n" + peer.summary())
        first_ok = peer.sent_responses(200, "INVITE")[0]
        callee_tag = (first_ok.header("To") or "").split("tag=")[-1]
        for r in invs[1:]:
            self.assertEqual(r.call_id, invs[0].call_id, r.text)
            self.assertEqual((r.header("To") or "").split("tag=")[-1], callee_tag, r.text)
        offers = [self.assertMediaSdp(r.body, "re-INVITE to the callee") for r in invs[1:]]
        self.assertEqual([o.direction for o in offers], ["sendonly", "sendrecv"], [o.raw for o in offers])
        for o in offers:
            self.assertNotEqual(o.port, caller_ep.port)
        oks = []
        for m in res.received(200, "INVITE"):
            if m.cseq_num not in [o.cseq_num for o in oks]:
                oks.append(m)
        self.assertEqual(len(oks), 3, res.summary())
        answers = [self.assertMediaSdp(m.body, "200 OK to the caller's re-INVITE") for m in oks[1:]]
        self.assertEqual([a.direction for a in answers], ["recvonly", "sendrecv"], [a.raw for a in answers])
        self.assertEqual(len(peer.recv_requests("BYE")), 1, peer.summary())


class InfoRelayTest(DialTestCase):

    def test_info_relayed_to_the_caller(self):
        """An INFO (application/dtmf-relay) from the bridged callee reaches the
        caller in its dialog with the same Content-Type and body; the
        callee's INFO gets a 200."""
        uas = self.uas("uas_info", hold_ms=500, bye_ms=500)
        num, p = self.route_number(dial_twiml(sip_noun(uas.uri())))
        res = self.caller(num, call_ms=0).wait()
        peer = uas.wait(5)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(peer.rc, 0, peer.summary())
        infos = PeerSeen.unique(res.recv_requests("INFO"))
        self.assertEqual(len(infos), 1, "INFO not relayed to the caller\n" + res.summary())
        info = infos[0]
        self.assertEqual(info.call_id, res.call_id)
        self.assertEqual((info.header("Content-Type") or "").lower(), "application/dtmf-relay", info.text)
        self.assertEqual([l.strip() for l in info.body.strip().splitlines()], ["Signal=5", "Duration=160"], info.text)
        self.assertEqual([m.code for m in peer.received(method="INFO")][-1:], [200], peer.summary())
        self.assertGreaterEqual(info.time, peer.sent("INFO")[0].time - 0.01)


class PeerSeen:
    @staticmethod
    def unique(msgs):
        """Requests without retransmissions (same Call-ID and CSeq)."""
        out, seen = [], set()
        for m in msgs:
            k = (m.call_id, m.header("CSeq"))
            if k not in seen:
                seen.add(k)
                out.append(m)
        return out


if __name__ == "__main__":
    unittest.main()
