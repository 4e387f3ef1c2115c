"""Inbound SIP REFER: blind transfer with Fulcrum as the pivot (issue 4;
twilio-voice.md §3). A leg of a <Dial> bridge sends REFER; Fulcrum answers
202, NOTIFYs the transferor (message/sipfrag 100 Trying, then the outcome
with Subscription-State: terminated), fetches the Dial's referUrl with
ReferTransferTarget and friends, and runs the TwiML it gets on the
transferee. answerOnBridge of the original Dial decides whether the
transferor stays bridged until the target answers (and comes back on a
failure) or is dropped at once."""
import unittest
import urllib.parse

from harness import XML_DECL, DialTestCase, dial_twiml, sip_noun
from rtp import parse_sdp

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
                       refer_to=None, referred_by=True, target=None):
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
        a = self.caller(num, call_ms=caller_ms)
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


if __name__ == "__main__":
    unittest.main()
