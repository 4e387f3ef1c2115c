"""Inbound SIP REFER: blind transfer with Fulcrum as the pivot (issue 4;
twilio-voice.md §3). A leg of a <Dial> bridge sends REFER; Fulcrum answers
202, NOTIFYs the transferor (message/sipfrag 100 Trying, then the outcome
with Subscription-State: terminated), fetches the Dial's referUrl with
ReferTransferTarget and friends, and runs the TwiML it gets on the
transferee. answerOnBridge of the original Dial decides whether the
transferor stays bridged until the target answers (and comes back on a
failure) or is dropped at once."""
import os
import unittest
import urllib.parse

import time
import types

from harness import XML_DECL, DialTestCase, SippRun, dial_twiml, sip_noun
from rtp import RtpEndpoint, parse_sdp

UUI = "00fa3b;encoding=hex"


def sipfrag(msg):
    """The status code of a NOTIFY's sipfrag body, or None."""
    line = (msg.body or "").strip().split("\n")[0].strip()
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit() else None


def unique(msgs):
    """Requests once per CSeq (retransmissions dropped)."""
    seen, out = set(), []
    for m in msgs:
        k = (m.call_id, m.header("CSeq"))
        if k not in seen:
            seen.add(k)
            out.append(m)
    return out


REFER_OOD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="refer outside a dialog">
  <send retrans="500"><![CDATA[

      REFER sip:+15550001111@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:alice@[local_ip]>;tag=[pid]x[call_number]
      To: <sip:+15550001111@[remote_ip]>%s
      Call-ID: [call_id]
      CSeq: 1 REFER
      Contact: <sip:alice@[local_ip]:[local_port]>
      Refer-To: <sip:carol@example.com>
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="403" optional="true" next="end"/>
  <recv response="481"/>
  <label id="end"/>
</scenario>
"""


class TransferTestCase(DialTestCase):

    def refer_route(self, twiml):
        """A referUrl path serving twiml; returns (path, url)."""
        p = self.path("refer")
        self.app.route(p, twiml)
        return p, self.app.url(p)

    def assertNotifies(self, peer, final_code, msg=""):
        """The transferor got NOTIFY 100 Trying first, then exactly one final
        NOTIFY (final_code, Subscription-State: terminated), each with Event:
        refer and Content-Type message/sipfrag; returns the final one."""
        notifies = unique(peer.recv_requests("NOTIFY"))
        self.assertGreaterEqual(len(notifies), 2, "%s: NOTIFYs %r\n%s" % (msg, notifies, peer.summary()))
        for n in notifies:
            self.assertEqual((n.header("Event") or "").split(";")[0].strip().lower(), "refer", n.text)
            self.assertTrue((n.header("Content-Type") or "").lower().startswith("message/sipfrag"), n.text)
        self.assertEqual(sipfrag(notifies[0]), 100, notifies[0].text)
        self.assertTrue(notifies[0].header("Subscription-State").startswith("active"), notifies[0].text)
        finals = [n for n in notifies if (n.header("Subscription-State") or "").startswith("terminated")]
        self.assertEqual(len(finals), 1, "%s\n%s" % (msg, peer.summary()))
        self.assertIs(finals[0], notifies[-1])
        self.assertEqual(sipfrag(finals[0]), final_code, finals[0].text)
        return finals[0]

    def setup_transfer(self, aob, refer_twiml, transferor_kw=None, caller_ms=5000, target_headers=None,
                       refer_to=None, referred_by=True, target=None, caller_kw=None):
        """caller A → Dial(referUrl, answerOnBridge=aob) → B (uas_transferor),
        which REFERs to target C; returns (caller, B, C, refer_path)."""
        c_uas = target if target is not None else self.uas("uas_answer", bye_ms=0)
        hdrs = target_headers if target_headers is not None else [("X-Ticket", "T-42"), ("User-to-User", UUI)]
        rto = refer_to or "<%s>" % (c_uas.uri(headers=hdrs) if c_uas else "sip:nobody@127.0.0.1:9")
        rpath, rurl = self.refer_route(refer_twiml(c_uas) if callable(refer_twiml) else refer_twiml)
        extra = "\r\nX-Reason: agent-transfer"
        if referred_by:
            extra = "\r\nReferred-By: <sip:agent7@pbx.example.com>" + extra
        kw = dict(refer_ms=500, bye_ms=0)
        kw.update(transferor_kw or {})
        b_uas = self.uas("uas_transferor", keys={"refer_to": rto, "refer_hdrs": extra}, **kw)
        num, p = self.route_number(dial_twiml(sip_noun(b_uas.uri()), answerOnBridge=aob, referUrl=rurl))
        a = self.caller(num, call_ms=caller_ms, **(caller_kw or {}))
        return a, b_uas, c_uas, rpath, rto, p


class BlindTransferTest(TransferTestCase):

    def test_unbridged_transferor_dropped_after_fetch(self):
        """answerOnBridge unset: REFER → 202 at once; the referUrl gets
        ReferTransferTarget exactly as sent, ReferredBy, the REFER's X-
        headers, the decoded embedded headers and the transferee's
        CallSid; the transferor gets NOTIFY 100 then 200 (terminated) and
        then BYE, before the target answers; the target's INVITE carries the
        embedded X-Ticket and User-to-User; the caller stays answered once
        and talks to the target until it hangs up."""
        a, b, c, rpath, rto, vpath = self.setup_transfer(
            False, lambda c: dial_twiml(sip_noun(c.uri())), caller_ms=4000)
        c.keys  # the target rings 0 ms
        res = a.wait()
        peer_b = b.wait(10)
        peer_c = c.wait(10)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(peer_b.rc, 0, peer_b.summary())
        self.assertEqual(peer_c.rc, 0, peer_c.summary())
        # REFER answered 202 without waiting for the webhook
        refer_resp = [m for m in peer_b.received(method="REFER") if m.code >= 200]
        self.assertEqual(refer_resp[0].code, 202, peer_b.summary())
        final = self.assertNotifies(peer_b, 200)
        byes = peer_b.recv_requests("BYE")
        self.assertTrue(byes, "transferor never got BYE\n" + peer_b.summary())
        self.assertLess(final.time, byes[0].time, "BYE before the final NOTIFY\n" + peer_b.summary())
        # the webhook
        caller_sid = self.call_sid_of(vpath)
        req = self.app.wait_requests(rpath, 1)[0]
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.params["ReferTransferTarget"], rto)
        self.assertEqual(req.params["CallSid"], caller_sid)
        self.assertEqual(req.params["ReferredBy"], "<sip:agent7@pbx.example.com>")
        self.assertEqual(req.params["ReferSipHeader_X-Reason"], "agent-transfer")
        self.assertEqual(req.params["ReferToHeader_X-Ticket"], "T-42")
        self.assertEqual(req.params["ReferToHeader_User-to-User"], UUI)
        self.assertTrue(req.params["TransferorCallSid"].startswith("CA"))
        self.assertNotEqual(req.params["TransferorCallSid"], caller_sid)
        # the target got the embedded headers
        inv = peer_c.unique_requests("INVITE")[0]
        self.assertEqual(inv.header("X-Ticket"), "T-42", inv.text)
        self.assertEqual(inv.header("User-to-User"), UUI, inv.text)
        # the transferor was dropped before the target even answered
        c_ok = peer_c.sent_responses(200, "INVITE")[0]
        self.assertLess(final.time, c_ok.time + 0.5)
        # caller: answered once, the call with the target ends by its BYE
        self.assertEqual(len(res.finals()), 1)
        self.assertEqual(len(peer_c.recv_requests("BYE")), 1, peer_c.summary())

    def test_bridged_transferor_kept_until_target_answers(self):
        """answerOnBridge="true": after 202 + NOTIFY 100 the transferor stays
        in the call while the target rings 1.5 s; when the target answers
        it gets NOTIFY 200 (terminated) and then BYE; the caller is
        re-INVITEd to the new media path (its 200 OK to that re-INVITE
        is what rtpengine expects) and stays answered exactly once."""
        a, b, c, rpath, rto, vpath = self.setup_transfer(
            True, lambda c: dial_twiml(sip_noun(c.uri())), caller_ms=5000,
            target=self.uas("uas_answer", ring_ms=1500, bye_ms=0))
        res = a.wait()
        peer_b, peer_c = b.wait(10), c.wait(10)
        for r in (res, peer_b, peer_c):
            self.assertEqual(r.rc, 0, r.summary())
        final = self.assertNotifies(peer_b, 200)
        bye = peer_b.recv_requests("BYE")[0]
        c_ok = peer_c.sent_responses(200, "INVITE")[0]
        self.assertGreaterEqual(final.time, c_ok.time - 0.05,
                                "transferor dropped before the target answered\n" + peer_b.summary())
        self.assertLess(final.time, bye.time)
        self.assertEqual(len(res.finals()), 1, res.summary())
        reinv = [m for m in res.recv_requests("INVITE")]
        self.assertTrue(reinv, "caller not moved to the new media path\n" + res.summary())
        self.assertIsNotNone(parse_sdp(reinv[0].body))
        self.assertGreater(reinv[0].time, c_ok.time - 0.05)
        self.assertEqual(len(peer_c.recv_requests("BYE")), 1, peer_c.summary())

    def test_bridged_target_busy_restores_the_call(self):
        """answerOnBridge="true" and a busy target: the transferor gets
        NOTIFY 486 (terminated) and no BYE, stays bridged, and the call
        ends normally when the caller hangs up (BYE to the transferor)."""
        a, b, c, rpath, rto, vpath = self.setup_transfer(
            True, lambda c: dial_twiml(sip_noun(c.uri())), caller_ms=4000,
            target=self.uas("uas_reject", code=486))
        res = a.wait()
        peer_b, peer_c = b.wait(10), c.wait(10)
        for r in (res, peer_b, peer_c):
            self.assertEqual(r.rc, 0, r.summary())
        final = self.assertNotifies(peer_b, 486)
        byes = peer_b.recv_requests("BYE")
        self.assertEqual(len(byes), 1, peer_b.summary())
        caller_bye = res.sent("BYE")[0]
        self.assertGreater(byes[0].time, caller_bye.time - 0.01,
                           "transferor hung up before the caller did\n" + peer_b.summary())
        self.assertGreater(byes[0].time, final.time + 1.0)
        self.assertFalse(res.recv_requests("BYE"), res.summary())

    def test_bridged_refer_url_failure_restores_the_call(self):
        """answerOnBridge="true" and a referUrl answering HTTP 500: NOTIFY
        503 (terminated), the bridge stays, an 11200 notification."""
        a, b, c, rpath, rto, vpath = self.setup_transfer(True, "", caller_ms=3000, target=False)
        self.app.route(rpath, "oops", status=500, content_type="text/plain")
        res = a.wait()
        peer_b = b.wait(10)
        self.assertEqual((res.rc, peer_b.rc), (0, 0), res.summary() + peer_b.summary())
        self.assertNotifies(peer_b, 503)
        self.assertEqual(len(peer_b.recv_requests("BYE")), 1)
        self.assertGreater(peer_b.recv_requests("BYE")[0].time, res.sent("BYE")[0].time - 0.01)
        codes = self.notification_codes(self.call_sid_of(vpath))
        self.assertIn(11200, codes)

    def test_unbridged_refer_url_failure_ends_the_call(self):
        """answerOnBridge unset and a referUrl that fails: NOTIFY 503 then
        BYE to the transferor, and the caller's call ends too (BYE)."""
        a, b, c, rpath, rto, vpath = self.setup_transfer(False, "", caller_ms=6000, target=False)
        self.app.route(rpath, "oops", status=500, content_type="text/plain")
        res = a.wait()
        peer_b = b.wait(10)
        self.assertEqual((res.rc, peer_b.rc), (0, 0), res.summary() + peer_b.summary())
        final = self.assertNotifies(peer_b, 503)
        self.assertLess(final.time, peer_b.recv_requests("BYE")[0].time)
        self.assertTrue(res.recv_requests("BYE"), "caller not hung up\n" + res.summary())
        self.assertEqual(self.notification_codes(self.call_sid_of(vpath)).count(11200), 1)

    def test_no_refer_url_declined(self):
        """A Dial without referUrl: REFER → 603, notification 13802, no
        NOTIFY, the call goes on until the caller hangs up."""
        b = self.uas("uas_transferor", refer_ms=300, bye_ms=0,
                     keys={"refer_to": "<sip:carol@127.0.0.1:9>", "refer_hdrs": ""})
        num, vpath = self.route_number(dial_twiml(sip_noun(b.uri())))
        res = self.caller(num, call_ms=2000).wait()
        peer_b = b.wait(10)
        self.assertEqual((res.rc, peer_b.rc), (0, 0), res.summary() + peer_b.summary())
        self.assertEqual([m.code for m in peer_b.received(method="REFER") if m.code >= 200][0], 603)
        self.assertFalse(peer_b.recv_requests("NOTIFY"), peer_b.summary())
        self.assertGreater(peer_b.recv_requests("BYE")[0].time, res.sent("BYE")[0].time - 0.01)
        self.assertIn(13802, self.notification_codes(self.call_sid_of(vpath)))

    def refused(self, refer_to, refer_hdrs=""):
        """A REFER with this Refer-To on a Dial with a referUrl: returns the
        final code, reason, the transferor's result and the caller's sid."""
        rpath, rurl = self.refer_route(dial_twiml(sip_noun("sip:nobody@127.0.0.1:9")))
        b = self.uas("uas_transferor", refer_ms=300, bye_ms=800,
                     keys={"refer_to": refer_to, "refer_hdrs": refer_hdrs})
        num, vpath = self.route_number(dial_twiml(sip_noun(b.uri()), referUrl=rurl))
        res = self.caller(num, call_ms=0).wait()
        peer_b = b.wait(10)
        self.assertEqual((res.rc, peer_b.rc), (0, 0), res.summary() + peer_b.summary())
        self.assertFalse(self.app.requests(rpath), "referUrl fetched for a refused REFER")
        self.assertFalse(peer_b.recv_requests("NOTIFY"), peer_b.summary())
        fin = [m for m in peer_b.received(method="REFER") if m.code >= 200][0]
        return fin, peer_b, self.call_sid_of(vpath)

    def test_refer_to_over_256_characters_refused(self):
        """A 257-character Refer-To: 400 with a reason that says so,
        notification 32218; the call goes on (the transferor hangs up
        itself later)."""
        uri = "<sip:%s@example.com>" % ("a" * (257 - len("<sip:@example.com>")))
        self.assertEqual(len(uri), 257)
        fin, peer_b, sid = self.refused(uri)
        self.assertEqual(fin.code, 400)
        self.assertIn("256", fin.reason)
        self.assertIn(32218, self.notification_codes(sid))

    def test_malformed_refer_to_refused(self):
        """Refer-To with a bad escape in its headers → 400; an http: URI →
        416 Unsupported URI Scheme."""
        fin, _, _ = self.refused("<sip:carol@example.com?X-A=%ZZ>")
        self.assertEqual(fin.code, 400, fin.text)
        fin, _, _ = self.refused("<http://example.com/x>")
        self.assertEqual(fin.code, 416, fin.text)

    def test_refer_storm_refused_cleanly(self):
        """Ten REFERs back to back on one call: the first is accepted (202),
        every other one gets 491 while it is under way (or 481 once the
        transferor's dialog is gone); one referUrl request; the transfer
        completes."""
        c_uas = self.uas("uas_answer", bye_ms=0, ring_ms=1000)
        rpath, rurl = self.refer_route(dial_twiml(sip_noun(c_uas.uri()), answerOnBridge=True))
        b = self.uas("uas_transferor", refer_ms=300, bye_ms=0, refer_count=10,
                     keys={"refer_to": "<%s>" % c_uas.uri(), "refer_hdrs": ""})
        num, vpath = self.route_number(dial_twiml(sip_noun(b.uri()), referUrl=rurl, answerOnBridge=True))
        res = self.caller(num, call_ms=5000).wait()
        peer_b, peer_c = b.wait(10), c_uas.wait(10)
        for r in (res, peer_b, peer_c):
            self.assertEqual(r.rc, 0, r.summary())
        finals = {}
        for m in peer_b.received(method="REFER"):
            if m.code >= 200:
                finals.setdefault(m.header("CSeq"), m.code)
        self.assertEqual(len(finals), 10, peer_b.summary())
        codes = list(finals.values())
        self.assertEqual(codes[0], 202)
        self.assertTrue(all(c in (491, 481) for c in codes[1:]), codes)
        self.assertEqual(len(self.app.requests(rpath)), 1)
        self.assertNotifies(peer_b, 200)
        self.assertEqual(len(peer_c.recv_requests("BYE")), 1, peer_c.summary())

    def test_tel_target_passed_as_is(self):
        """Refer-To: <tel:+15551234567> reaches the app unchanged (not
        rewritten to sip:)."""
        a, b, c, rpath, rto, vpath = self.setup_transfer(
            False, XML_DECL + "<Response><Hangup/></Response>", caller_ms=3000,
            refer_to="<tel:+15551234567>", target=False, referred_by=False)
        res = a.wait()
        peer_b = b.wait(10)
        self.assertEqual((res.rc, peer_b.rc), (0, 0), res.summary() + peer_b.summary())
        req = self.app.wait_requests(rpath, 1)[0]
        self.assertEqual(req.params["ReferTransferTarget"], "<tel:+15551234567>")
        self.assertNotIn("ReferredBy", req.params)
        self.assertNotifies(peer_b, 200)
        self.assertTrue(res.recv_requests("BYE"), res.summary())

    def _media_after_transfer(self, aob):
        with RtpEndpoint() as a_ep, RtpEndpoint() as c_ep, RtpEndpoint() as b_ep:
            c = self.uas("uas_answer", ring_ms=300, bye_ms=0, rtp_port=c_ep.port)
            a, b, c, rpath, rto, vpath = self.setup_transfer(
                aob, lambda c: dial_twiml(sip_noun(c.uri())), caller_ms=5000, target=c,
                transferor_kw={"rtp_port": b_ep.port}, caller_kw={"rtp_port": a_ep.port})
            ack = c.wait_request("ACK", 1, 10)
            self.assertTrue(ack, "target never answered\n" + c.snapshot().summary())
            time.sleep(0.5)  # the caller's re-INVITE (answerOnBridge) is done by now
            snap = a.snapshot()
            sdps = [parse_sdp(m.body) for m in snap.received(200, "INVITE") + snap.recv_requests("INVITE")
                    if parse_sdp(m.body)]
            to_caller = sdps[-1]
            to_target = parse_sdp(c.snapshot().unique_requests("INVITE")[0].body)
            self.assertRtpBothWays(a_ep, to_caller, c_ep, to_target)
            self.assertFalse(b_ep.packets(from_ep=a_ep), "the dropped transferor still gets the caller's RTP")
            res = a.wait()
            self.assertEqual(res.rc, 0, res.summary())
            return res

    def assertNoNeedlessReinvite(self, res):
        """Every re-INVITE the caller got moved its media: its SDP names
        another address than the one the caller had."""
        seen, sdps = set(), []
        for m in res.messages:
            if m.direction == "recv" and (m.code == 200 and m.cseq_method == "INVITE" or m.method == "INVITE"):
                key = (m.first_line, m.header("CSeq"))
                if key not in seen and parse_sdp(m.body):
                    seen.add(key)
                    sdps.append(parse_sdp(m.body).addr)
        for prev, cur in zip(sdps, sdps[1:]):
            self.assertNotEqual(prev, cur, "re-INVITE without a media change\n" + res.summary())
        return len(sdps) - 1

    def test_media_moves_to_the_target_unbridged(self):
        """answerOnBridge unset: after the transfer the caller's RTP
        reaches the target and the target's the caller, through rtpengine
        (never directly), the dropped transferor gets none of it, and a
        re-INVITE of the caller only comes with new rtpengine ports."""
        res = self._media_after_transfer(False)
        self.assertNoNeedlessReinvite(res)

    def test_media_moves_to_the_target_bridged(self):
        """answerOnBridge="true": the same; here the caller must be
        re-INVITEd when the target answers (it was offered to the target
        under a second rtpengine tag while the transferor still talked)."""
        res = self._media_after_transfer(True)
        self.assertGreaterEqual(self.assertNoNeedlessReinvite(res), 1, res.summary())

    def test_refer_outside_a_dialog_and_unknown_dialog(self):
        """A REFER without To-tag → 403; one with the To-tag of no dialog
        → 481."""
        for scenario_totag, want in (("", 403), (";tag=nosuchdialog", 481)):
            p = os.path.join(self.logdir, "refer-ood%d.xml" % want)
            with open(p, "w") as f:
                f.write(REFER_OOD % scenario_totag)
            r = SippRun(p, self.stack.sip_target, logdir=self.logdir, timeout=10).wait()
            self.assertEqual(r.rc, 0, r.summary())
            self.assertEqual(r.final_code("REFER"), want, r.summary())

    def setup_caller_transfer(self, aob, target, caller_ms=0, b_kw=None, caller_kw=None):
        """caller A (uac_transferor) → Dial(referUrl, answerOnBridge=aob) →
        B; A REFERs to target C (TwiML: Dial C). The number has a
        StatusCallback, B's noun one for `completed`. Returns a namespace."""
        b = self.uas("uas_answer", bye_ms=0, **(b_kw or {}))
        hdrs = [("X-Ticket", "T-42"), ("User-to-User", UUI)]
        rto = "<%s>" % target.uri(headers=hdrs)
        rpath, rurl = self.refer_route(dial_twiml(sip_noun(target.uri())))
        a_sc, b_sc = self.path("a-status"), self.path("b-status")
        self.app.route(a_sc, "")
        self.app.route(b_sc, "")
        num, vpath = self.route_number(
            dial_twiml(sip_noun(b.uri(), statusCallback=self.app.url(b_sc)), answerOnBridge=aob, referUrl=rurl),
            StatusCallback=self.app.url(a_sc))
        a = self.caller(num, scenario="uac_transferor", refer_ms=500, call_ms=caller_ms, refer_to=rto,
                        refer_hdrs="\r\nReferred-By: <sip:alice@pbx.example.com>", **(caller_kw or {}))
        return types.SimpleNamespace(a=a, b=b, c=target, rpath=rpath, rto=rto, vpath=vpath, a_sc=a_sc, b_sc=b_sc)

    def assertCallerSideWebhook(self, t):
        """The referUrl ran on the transferee B: B's parameters, the caller
        as TransferorCallSid; returns (caller sid, B's sid)."""
        a_sid = self.call_sid_of(t.vpath)
        req = self.app.wait_requests(t.rpath, 1)[0]
        b_sid = req.params["CallSid"]
        self.assertTrue(b_sid.startswith("CA") and b_sid != a_sid, req.params)
        self.assertEqual(req.params["Direction"], "outbound-dial")
        self.assertEqual(req.params["ParentCallSid"], a_sid)
        self.assertEqual(req.params["TransferorCallSid"], a_sid)
        self.assertEqual(req.params["CallStatus"], "in-progress")
        self.assertEqual(req.params["ReferTransferTarget"], t.rto)
        self.assertEqual(req.params["ReferredBy"], "<sip:alice@pbx.example.com>")
        return a_sid, b_sid

    def test_caller_side_transfer_unbridged(self):
        """The caller of a <Dial> bridge sends REFER (answerOnBridge unset):
        202, NOTIFY 100 then 200 and BYE to the caller; the referUrl runs on
        the dialled leg B (its CallSid, Direction outbound-dial,
        TransferorCallSid = the caller), whose new Dial reaches C with the
        embedded headers and ParentCallSid B; B is re-INVITEd at most once,
        and only with new rtpengine ports; when C hangs up B gets BYE. Records and status
        callbacks: the caller's completed once (number's StatusCallback),
        B's completed once (its noun's), C is B's child."""
        c = self.uas("uas_answer", bye_ms=2000)
        t = self.setup_caller_transfer(False, c)
        res = t.a.wait()
        peer_b, peer_c = t.b.wait(15), c.wait(15)
        for r in (res, peer_b, peer_c):
            self.assertEqual(r.rc, 0, r.summary())
        self.assertEqual(res.final_code("REFER"), 202, res.summary())
        final = self.assertNotifies(res, 200)
        byes = res.recv_requests("BYE")
        self.assertTrue(byes, "transferor never got BYE\n" + res.summary())
        self.assertLess(final.time, byes[0].time)
        a_sid, b_sid = self.assertCallerSideWebhook(t)
        inv = peer_c.unique_requests("INVITE")[0]
        self.assertEqual(inv.header("X-Ticket"), "T-42", inv.text)
        self.assertEqual(inv.header("User-to-User"), UUI, inv.text)
        self.assertLessEqual(self.assertNoNeedlessReinvite(peer_b), 1, peer_b.summary())
        self.assertEqual(len(peer_b.recv_requests("BYE")), 1, peer_b.summary())
        self.assertGreater(peer_b.recv_requests("BYE")[0].time, peer_c.sent("BYE")[0].time - 0.01)
        kids = self.wait_children_final(b_sid, 1)
        self.assertEqual(len(kids), 1, kids)
        self.assertEqual(kids[0]["status"], "completed", kids)
        for sid in (a_sid, b_sid):
            st, body = self.stack.wait_call_status(sid, ("completed",))
            self.assertEqual(body.get("status"), "completed", body)
            self.assertIsNotNone(body.get("end_time"), body)
        self.assertEqual(self.stack.call_record(a_sid)[1]["parent_call_sid"], None)
        a_cbs = self.app.wait_requests(t.a_sc, 1)
        b_cbs = self.app.wait_requests(t.b_sc, 1)
        time.sleep(0.5)
        self.assertEqual([(r.params["CallSid"], r.params["CallStatus"]) for r in self.app.requests(t.a_sc)],
                         [(a_sid, "completed")])
        self.assertEqual([(r.params["CallSid"], r.params["CallStatus"]) for r in self.app.requests(t.b_sc)],
                         [(b_sid, "completed")])
        self.assertTrue(a_cbs and b_cbs)

    def test_caller_side_transfer_bridged(self):
        """answerOnBridge="true" and a caller-side REFER: the caller stays
        bridged to B while C rings 1.5 s, gets NOTIFY 200 and BYE once C
        answers; B is re-INVITEd to the new media path then, once."""
        c = self.uas("uas_answer", ring_ms=1500, bye_ms=1000)
        t = self.setup_caller_transfer(True, c)
        res = t.a.wait()
        peer_b, peer_c = t.b.wait(15), c.wait(15)
        for r in (res, peer_b, peer_c):
            self.assertEqual(r.rc, 0, r.summary())
        final = self.assertNotifies(res, 200)
        c_ok = peer_c.sent_responses(200, "INVITE")[0]
        self.assertGreaterEqual(final.time, c_ok.time - 0.05, "caller dropped before C answered\n" + res.summary())
        self.assertLess(final.time, res.recv_requests("BYE")[0].time)
        self.assertCallerSideWebhook(t)
        reinv = unique(peer_b.recv_requests("INVITE"))[1:]
        self.assertEqual(len(reinv), 1, "B must move to the new media path once\n" + peer_b.summary())
        self.assertGreater(reinv[0].time, c_ok.time - 0.05)
        self.assertEqual(len(peer_b.recv_requests("BYE")), 1, peer_b.summary())

    def test_caller_side_transfer_target_busy_restores(self):
        """answerOnBridge="true", caller-side REFER, C busy: NOTIFY 486 to
        the caller and no BYE; the caller and B stay bridged (B's re-INVITE
        from the old bridge still reaches the caller), and when the caller
        hangs up B gets BYE; each record and status callback once."""
        c = self.uas("uas_reject", code=486)
        t = self.setup_caller_transfer(True, c, caller_ms=3000)
        res = t.a.wait()
        peer_b, peer_c = t.b.wait(15), c.wait(15)
        for r in (res, peer_b, peer_c):
            self.assertEqual(r.rc, 0, r.summary())
        final = self.assertNotifies(res, 486)
        self.assertFalse(res.recv_requests("BYE"), res.summary())
        byes = peer_b.recv_requests("BYE")
        self.assertEqual(len(byes), 1, peer_b.summary())
        self.assertGreater(byes[0].time, res.sent("BYE")[0].time - 0.01)
        self.assertGreater(byes[0].time, final.time + 1.0)
        a_sid, b_sid = self.assertCallerSideWebhook(t)
        self.app.wait_requests(t.a_sc, 1)
        self.app.wait_requests(t.b_sc, 1)
        time.sleep(0.5)
        self.assertEqual([r.params["CallSid"] for r in self.app.requests(t.a_sc)], [a_sid])
        self.assertEqual([r.params["CallSid"] for r in self.app.requests(t.b_sc)], [b_sid])

    def test_media_after_caller_side_transfer(self):
        """After a caller-side transfer B's RTP reaches C and C's reaches B
        through rtpengine; the dropped caller gets none of it."""
        with RtpEndpoint() as a_ep, RtpEndpoint() as b_ep, RtpEndpoint() as c_ep:
            c = self.uas("uas_answer", ring_ms=300, bye_ms=0, rtp_port=c_ep.port)
            t = self.setup_caller_transfer(False, c, b_kw={"rtp_port": b_ep.port},
                                           caller_kw={"rtp_port": a_ep.port})
            ack = c.wait_request("ACK", 1, 10)
            self.assertTrue(ack, "target never answered\n" + c.snapshot().summary())
            time.sleep(0.5)
            snap = t.b.snapshot()
            to_b = parse_sdp(snap.unique_requests("INVITE")[-1].body)
            to_c = parse_sdp(c.snapshot().unique_requests("INVITE")[0].body)
            self.assertRtpBothWays(b_ep, to_b, c_ep, to_c)
            self.assertFalse(a_ep.packets(from_ep=b_ep), "the dropped caller still gets B's RTP")
            res = t.a.wait()
            self.assertEqual(res.rc, 0, res.summary())

    def test_caller_reinvite_while_transfer_rings(self):
        """answerOnBridge="true": while the transfer's Dial rings, the
        caller's re-INVITE (hold) is answered 491 (its media is being
        offered to the target; RFC 3261 §14.2, try later) and reaches
        nobody; when the caller then hangs up, the transferor gets NOTIFY
        487 and BYE and the ringing target CANCEL."""
        c = self.uas("uas_answer", ring_ms=8000, bye_ms=0)
        a, b, c, rpath, rto, vpath = self.setup_transfer(
            True, lambda c: dial_twiml(sip_noun(c.uri())), caller_ms=1000, target=c,
            caller_kw={"scenario": "uac_hold", "hold_ms": 1500})
        res = a.wait()
        peer_b, peer_c = b.wait(10), c.wait(10)
        for r in (res, peer_b, peer_c):
            self.assertEqual(r.rc, 0, r.summary())
        self.assertTrue(res.received(491, "INVITE"), res.summary())
        self.assertEqual(len(peer_b.unique_requests("INVITE")), 1, peer_b.summary())
        self.assertEqual(len(peer_c.unique_requests("INVITE")), 1, peer_c.summary())
        self.assertTrue(peer_c.recv_requests("CANCEL"), peer_c.summary())
        self.assertNotifies(peer_b, 487)
        self.assertEqual(len(peer_b.recv_requests("BYE")), 1, peer_b.summary())

    def test_replaces_names_a_call_fulcrum_holds(self):
        """Attended transfer: the Refer-To carries ?Replaces= naming the
        dialog of another call Fulcrum holds (a consultation call): the
        referUrl gets it parsed (ReferReplacesCallId/ToTag/FromTag/
        EarlyOnly) and ReferReplacesCallSid = that call's CallSid."""
        d = self.uas("uas_answer", bye_ms=0)
        consult_num, consult_path = self.route_number(dial_twiml(sip_noun(d.uri())), name="consult")
        consult = self.caller(consult_num, call_ms=6000)
        snap = consult.wait_for(lambda s: s.received(200, "INVITE"), 10)
        ok = snap.received(200, "INVITE")[0]
        cid = ok.call_id
        our_tag = ok.header("To").split("tag=")[1].split(";")[0]
        their_tag = ok.header("From").split("tag=")[1].split(";")[0]
        consult_sid = self.call_sid_of(consult_path)
        rep = urllib.parse.quote("%s;to-tag=%s;from-tag=%s;early-only" % (cid, our_tag, their_tag), safe="")
        rto = "<sip:carol@127.0.0.1:9?Replaces=%s>" % rep
        a, b, c, rpath, _, vpath = self.setup_transfer(
            False, XML_DECL + "<Response><Hangup/></Response>", caller_ms=3000, refer_to=rto, target=False)
        res = a.wait()
        self.assertEqual(res.rc, 0, res.summary())
        req = self.app.wait_requests(rpath, 1)[0]
        self.assertEqual(req.params["ReferTransferTarget"], rto)
        self.assertEqual(req.params["ReferReplacesCallId"], cid)
        self.assertEqual(req.params["ReferReplacesToTag"], our_tag)
        self.assertEqual(req.params["ReferReplacesFromTag"], their_tag)
        self.assertEqual(req.params["ReferReplacesEarlyOnly"], "true")
        self.assertEqual(req.params["ReferReplacesCallSid"], consult_sid)
        self.assertNotIn("ReferToHeader_Replaces", req.params)
        consult.stop()

    def test_attended_transfer_between_two_calls_fulcrum_holds(self):
        """Attended transfer with Fulcrum as the pivot of both calls: A is
        bridged to agent B (call 1); B consulted C through Fulcrum (call 2:
        B → Fulcrum → C); B REFERs call 1 with Refer-To naming Fulcrum's
        side of call 2 in ?Replaces=. The referUrl answers the documented
        <Dial><Sip>{ReferTransferTarget}</Sip></Dial>: Fulcrum's INVITE with
        Replaces comes back to Fulcrum itself, takes B's place in call 2,
        B's consultation leg gets BYE, B's transfer NOTIFY 200 and BYE; A and
        C then exchange RTP (through rtpengine), and when A hangs up, C gets
        BYE. The consultation call's record ends completed."""
        with RtpEndpoint() as a_ep, RtpEndpoint() as c_ep:
            c = self.uas("uas_answer", bye_ms=0, rtp_port=c_ep.port)
            consult_num, consult_path = self.route_number(dial_twiml(sip_noun(c.uri())), name="consult")
            consult = self.caller(consult_num, call_ms=0)
            snap = consult.wait_for(lambda s: s.received(200, "INVITE"), 10)
            self.assertTrue(snap.received(200, "INVITE"), snap.summary())
            ok = snap.received(200, "INVITE")[0]
            our_tag = ok.header("To").split("tag=")[1].split(";")[0]
            their_tag = ok.header("From").split("tag=")[1].split(";")[0]
            rep = urllib.parse.quote("%s;to-tag=%s;from-tag=%s" % (ok.call_id, our_tag, their_tag), safe="")
            rto = "<sip:transfer@%s?Replaces=%s>" % (self.stack.sip_target, rep)
            consult_sid = self.call_sid_of(consult_path)
            a, b, _, rpath, _, vpath = self.setup_transfer(
                False, dial_twiml(sip_noun(rto.strip("<>"))), caller_ms=4000, refer_to=rto, target=False,
                caller_kw={"rtp_port": a_ep.port})
            res_consult = consult.wait()
            self.assertEqual(res_consult.rc, 0, res_consult.summary())
            self.assertTrue(res_consult.recv_requests("BYE"), "B's consultation leg not replaced\n" +
                            res_consult.summary())
            req = self.app.wait_requests(rpath, 1)[0]
            self.assertEqual(req.params["ReferReplacesCallSid"], consult_sid)
            time.sleep(0.3)
            snap = a.snapshot()
            to_a = [parse_sdp(m.body) for m in snap.received(200, "INVITE") + snap.recv_requests("INVITE")
                    if parse_sdp(m.body)][-1]
            c_snap = c.snapshot()
            to_c = [parse_sdp(m.body) for m in c_snap.unique_requests("INVITE") if parse_sdp(m.body)][-1]
            self.assertRtpBothWays(a_ep, to_a, c_ep, to_c)
            res, peer_b, peer_c = a.wait(), b.wait(10), c.wait(10)
            for r in (res, peer_b, peer_c):
                self.assertEqual(r.rc, 0, r.summary())
            self.assertNotifies(peer_b, 200)
            self.assertEqual(len(peer_b.recv_requests("BYE")), 1, peer_b.summary())
            self.assertEqual(len(peer_c.recv_requests("BYE")), 1, peer_c.summary())
            self.assertGreater(peer_c.recv_requests("BYE")[0].time, res.sent("BYE")[0].time - 0.01)
            st, body = self.stack.wait_call_status(consult_sid, ("completed",))
            self.assertEqual(body.get("status"), "completed", body)

    def test_invite_with_replaces_refused_cleanly(self):
        """INVITE with Replaces naming no dialog Fulcrum holds → 481; a
        malformed Replaces → 400; early-only naming a confirmed call → 486;
        nothing reaches the application."""
        d = self.uas("uas_answer", bye_ms=0)
        num, vpath = self.route_number(dial_twiml(sip_noun(d.uri())), name="held")
        held = self.caller(num, call_ms=4000)
        snap = held.wait_for(lambda s: s.received(200, "INVITE"), 10)
        ok = snap.received(200, "INVITE")[0]
        our_tag = ok.header("To").split("tag=")[1].split(";")[0]
        their_tag = ok.header("From").split("tag=")[1].split(";")[0]
        cases = [("nosuch@h;to-tag=1;from-tag=2", 481),
                 ("%s;to-tag=%s;from-tag=%s;early-only=yes" % (ok.call_id, our_tag, their_tag), 400),
                 ("%s;to-tag=%s;from-tag=%s;early-only" % (ok.call_id, our_tag, their_tag), 486),
                 ("%s;to-tag=%s;from-tag=%s" % (ok.call_id, their_tag, our_tag), 481)]
        before = len(self.app.requests())
        for value, code in cases:
            r = self.caller("+15550009999", headers=[("Replaces", value)]).wait()
            self.assertEqual(r.final_code(), code, "%s\n%s" % (value, r.summary()))
        self.assertEqual(len(self.app.requests()), before)
        self.assertEqual(held.wait().rc, 0)

    def test_second_transfer_uses_the_initial_refer_url(self):
        """The transfer's new Dial has no referUrl: when the new party
        transfers again, the initial Dial's referUrl is requested (Twilio: a
        referUrl is not needed on the new <Dial>). B → C → D; each
        transferor gets NOTIFY 200 and BYE; D stays with the caller."""
        d = self.uas("uas_answer", bye_ms=0)
        c = self.uas("uas_transferor", refer_ms=500, bye_ms=0,
                     keys={"refer_to": "<%s>" % d.uri(), "refer_hdrs": ""})
        b = self.uas("uas_transferor", refer_ms=500, bye_ms=0,
                     keys={"refer_to": "<%s>" % c.uri(), "refer_hdrs": ""})

        def refer_twiml(req):
            return dial_twiml(sip_noun(req.params["ReferTransferTarget"].strip("<>")))
        rpath, rurl = self.refer_route(refer_twiml)
        num, vpath = self.route_number(dial_twiml(sip_noun(b.uri()), referUrl=rurl))
        res = self.caller(num, call_ms=5000).wait()
        peers = [x.wait(10) for x in (b, c, d)]
        for r in [res] + peers:
            self.assertEqual(r.rc, 0, r.summary())
        self.assertEqual(len(self.app.requests(rpath)), 2)
        for peer in peers[:2]:
            final = self.assertNotifies(peer, 200)
            self.assertLess(final.time, peer.recv_requests("BYE")[0].time)
        self.assertEqual(len(peers[2].recv_requests("BYE")), 1, peers[2].summary())

    def test_transferor_hangs_up_right_after_202(self):
        """Many phones send BYE as soon as their REFER is accepted: the
        transfer still happens (the referUrl answers 1 s later, its Dial
        reaches the target, the caller talks to it), the original Dial's
        action is not requested, and the transferor's BYE got 200."""
        target = self.uas("uas_answer", bye_ms=0)
        a, b, c, rpath, rto, vpath = self.setup_transfer(
            False, "", caller_ms=4000, target=target, transferor_kw={"bye_ms": 1})
        self.app.route(rpath, dial_twiml(sip_noun(target.uri())), delay=1.0)
        res = a.wait()
        peer_b, peer_c = b.wait(10), target.wait(10)
        for r in (res, peer_b, peer_c):
            self.assertEqual(r.rc, 0, r.summary())
        self.assertTrue(peer_b.received(200, "BYE"), peer_b.summary())
        self.assertEqual(len(peer_c.unique_requests("INVITE")), 1, peer_c.summary())
        self.assertEqual(len(peer_c.recv_requests("BYE")), 1, peer_c.summary())
        self.assertEqual(len(res.finals()), 1)

    def notification_codes(self, sid):
        st, body = self.stack.rest("GET", "Calls/%s/Notifications.json" % sid)
        self.assertEqual(st, 200, body)
        return [int(n["error_code"]) for n in body.get("notifications", [])]


if __name__ == "__main__":
    unittest.main()
