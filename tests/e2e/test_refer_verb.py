"""The <Refer> verb (README "Behaviour", <Refer ...>; twilio-voice.md §2.15):
on a SIP-domain call Fulcrum answers the caller if needed, sends it an
in-dialog REFER whose Refer-To is the <Sip> URI exactly as written (headers
kept in it), answers the NOTIFYs of the implicit subscription with 200 and,
on the final NOTIFY, FULCRUM_REFER_TIMEOUT or the caller's hangup, requests
the action with ReferCallStatus, ReferSipResponseCode and
NotifySipResponseCode; without action the next verb runs (none: BYE). On a
call to a phone number the verb is skipped with notification 13801.

The caller is tests/e2e/sipp/uac_refer_recv.xml (it answers the REFER with
refer_code and, after a 2xx and with notify=1, sends NOTIFY 100 then the
final NOTIFY "SIP/2.0 notify_code notify_reason", Subscription-State
terminated, notify_ms before each)."""
import re
import secrets
import time
import unittest

from harness import CALL_SID_RE, XML_DECL, DialTestCase, xml_attr

REFER_TIMEOUT = 3  # FULCRUM_REFER_TIMEOUT of the stack (seconds)
HANGUP = XML_DECL + "<Response><Hangup/></Response>"
UUI_TARGET = "sip:alice@example.com?X-Ticket=42&User-to-User=00ab%3Bencoding%3Dhex"


def sipfrag(msg):
    """The status code of a NOTIFY's sipfrag body, or None."""
    line = (msg.body or "").strip().split("\n")[0].strip()
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit() else None


def tag_of(value):
    m = re.search(r";\s*tag=([^;>\s]+)", value or "")
    return m.group(1) if m else None


def uri_of(value):
    """The URI inside <...> of a Contact/From/To value (or the value)."""
    m = re.search(r"<([^>]*)>", value or "")
    return m.group(1) if m else (value or "").strip()


def refer_twiml(target, after="", **attrs):
    a = "".join(' %s="%s"' % (k, xml_attr(v)) for k, v in attrs.items() if v is not None)
    return XML_DECL + "<Response><Refer%s><Sip>%s</Sip></Refer>%s</Response>" % (a, xml_attr(target), after)


class ReferVerbTestCase(DialTestCase):
    stack_env = {"FULCRUM_REFER_TIMEOUT": str(REFER_TIMEOUT)}

    def domain_call(self, twiml, name="voice", **caller_kw):
        """A fresh SIP domain whose VoiceUrl serves twiml, and a
        uac_refer_recv caller to sip:bob@<domain>; returns (caller, path)."""
        dom = "r%s.example.test" % secrets.token_hex(4)
        p = self.path(name)
        self.app.route(p, twiml)
        self.stack.create_domain(dom, self.app.url(p))
        kw = dict(call_ms=0, timeout=15, from_user="alice")
        kw.update(caller_kw)
        c = self.caller("bob", scenario="uac_refer_recv", ruri_host=dom, **kw)
        return c, p

    def action_route(self, twiml=HANGUP, name="after"):
        p = self.path(name)
        self.app.route(p, twiml)
        return p, self.app.url(p)

    def one_refer(self, res):
        refers = res.unique_requests("REFER")
        self.assertEqual(len(refers), 1, "REFERs received:\n" + res.summary())
        return refers[0]

    def assertInDialogRefer(self, res, refer):
        """The REFER belongs to the caller's dialog: its Call-ID, From tag =
        the tag Fulcrum put in the 200 OK's To, To tag = the caller's tag,
        Request-URI = the caller's Contact; it came after the 200 OK."""
        ok = res.final()
        self.assertIsNotNone(ok, res.summary())
        self.assertEqual(ok.code, 200, res.summary())
        self.assertMediaSdp(ok.body, "in the 200 OK to the caller")
        idx = res.messages.index
        self.assertLess(idx(ok), idx(refer), "REFER before the 200 OK:\n" + res.summary())
        inv = res.invite
        self.assertEqual(refer.call_id, inv.call_id, refer.text)
        self.assertEqual(tag_of(refer.header("From")), tag_of(ok.header("To")), refer.text)
        self.assertEqual(tag_of(refer.header("To")), tag_of(inv.header("From")), refer.text)
        self.assertEqual(refer.ruri, uri_of(inv.header("Contact")), refer.text)
        self.assertEqual(refer.cseq_method, "REFER", refer.text)

    def assertNotifiesAnswered(self, res, final_code):
        """The caller sent NOTIFY 100 then the final one (final_code), and
        each got 200 (and nothing else) from Fulcrum; returns (first, final)."""
        by_cseq = {}
        for n in res.sent("NOTIFY"):
            by_cseq.setdefault(n.cseq_num, n)
        notifies = [by_cseq[k] for k in sorted(by_cseq)]
        self.assertEqual([sipfrag(n) for n in notifies], [100, final_code], res.summary())
        for n in notifies:
            codes = [m.code for m in res.received(method="NOTIFY") if m.cseq_num == n.cseq_num]
            self.assertTrue(codes, "NOTIFY CSeq %s unanswered\n%s" % (n.cseq_num, res.summary()))
            self.assertEqual(set(codes), {200}, "NOTIFY CSeq %s answered %r\n%s" % (n.cseq_num, codes, res.summary()))
        return notifies[0], notifies[1]

    def final_notify_answer(self, res, final):
        """When Fulcrum's 200 to the final NOTIFY arrived."""
        return [m for m in res.received(200, "NOTIFY") if m.cseq_num == final.cseq_num][0]

    def assertByeFromFulcrum(self, res):
        byes = res.recv_requests("BYE")
        self.assertTrue(byes, "the caller got no BYE:\n" + res.summary())
        self.assertFalse(res.sent("BYE"), "the caller hung up itself:\n" + res.summary())
        self.assertTrue(res.sent_responses(200, "BYE"), res.summary())
        return byes[0]


class ReferVerbTest(ReferVerbTestCase):

    def test_success_refer_to_exact_and_action(self):
        """202 + NOTIFY 100/200: the caller is answered (200 with SDP) before
        the REFER; Refer-To is the <Sip> URI exactly, embedded headers kept;
        both NOTIFYs get 200; the action (POST) has the caller's params plus
        ReferCallStatus=in-progress, ReferSipResponseCode=202,
        NotifySipResponseCode=200; its <Hangup/> ends the call with BYE."""
        ap, aurl = self.action_route()
        c, p = self.domain_call(refer_twiml(UUI_TARGET, action=aurl), refer_code=202, notify=1, notify_ms=300,
                                notify_code=200, notify_reason="OK")
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())
        voice = self.app.wait_requests(p, 1)[0]
        sid = voice.params["CallSid"]
        self.assertRegex(sid, CALL_SID_RE)
        self.assertTrue(voice.params.get("SipDomainSid"), voice.params)
        refer = self.one_refer(res)
        self.assertInDialogRefer(res, refer)
        self.assertEqual(refer.header_all("Refer-To"),
                         ["<sip:alice@example.com?X-Ticket=42&User-to-User=00ab%3Bencoding%3Dhex>"], refer.text)
        self.assertEqual(len(res.sent_responses(202, "REFER")), len(res.recv_requests("REFER")), res.summary())
        _, final = self.assertNotifiesAnswered(res, 200)
        reqs = self.app.wait_requests(ap, 1)
        self.assertEqual(len(reqs), 1, reqs)
        a = reqs[0]
        self.assertEqual(a.method, "POST")
        self.assertSignature(a)
        P = a.params
        self.assertEqual(P.get("CallSid"), sid)
        self.assertEqual(P.get("AccountSid"), self.stack.account_sid)
        self.assertEqual(P.get("From"), voice.params.get("From"))
        self.assertEqual(P.get("To"), voice.params.get("To"))
        self.assertEqual(P.get("ReferCallStatus"), "in-progress", P)
        self.assertEqual(P.get("ReferSipResponseCode"), "202", P)
        self.assertEqual(P.get("NotifySipResponseCode"), "200", P)
        # the action came after the final NOTIFY was answered, not at the timeout
        ans = self.final_notify_answer(res, final)
        self.assertGreaterEqual(a.arrived, final.time - 0.05)
        self.assertLess(a.arrived - ans.time, 1.5, "action long after the final NOTIFY")
        bye = self.assertByeFromFulcrum(res)
        self.assertGreaterEqual(bye.time, a.arrived - 0.05, "BYE before the action was fetched")
        self.assertEqual(bye.call_id, res.call_id)
        self.assertEqual(tag_of(bye.header("From")), tag_of(refer.header("From")), bye.text)
        self.assertGreater(bye.cseq_num, refer.cseq_num, "BYE CSeq not above the REFER's\n" + bye.text)

    def test_refer_declined_603(self):
        """REFER answered 603: the action has ReferCallStatus=failed,
        ReferSipResponseCode=603 and no NotifySipResponseCode; its <Hangup/>
        → BYE."""
        ap, aurl = self.action_route()
        c, p = self.domain_call(refer_twiml("sip:x@example.com", action=aurl), refer_code=603, notify=1,
                                notify_reason="OK")
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())
        refer = self.one_refer(res)
        self.assertInDialogRefer(res, refer)
        self.assertEqual(refer.header("Refer-To"), "<sip:x@example.com>", refer.text)
        self.assertTrue(res.sent_responses(603, "REFER"), res.summary())
        self.assertFalse(res.sent("NOTIFY"), res.summary())
        a = self.app.wait_requests(ap, 1)[0]
        P = a.params
        self.assertEqual(P.get("CallSid"), self.call_sid_of(p))
        self.assertEqual(P.get("ReferCallStatus"), "failed", P)
        self.assertEqual(P.get("ReferSipResponseCode"), "603", P)
        self.assertNotIn("NotifySipResponseCode", P)
        self.assertLess(a.arrived - refer.time, 1.5, "action not right after the 603")
        self.assertByeFromFulcrum(res)

    def test_refer_refused_405(self):
        """REFER answered 405 Method Not Allowed: ReferCallStatus=failed,
        ReferSipResponseCode=405, no NotifySipResponseCode."""
        ap, aurl = self.action_route()
        c, p = self.domain_call(refer_twiml("sip:x@example.com", action=aurl), refer_code=405, notify=0,
                                notify_reason="OK")
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())
        self.one_refer(res)
        P = self.app.wait_requests(ap, 1)[0].params
        self.assertEqual(P.get("ReferCallStatus"), "failed", P)
        self.assertEqual(P.get("ReferSipResponseCode"), "405", P)
        self.assertNotIn("NotifySipResponseCode", P)
        self.assertByeFromFulcrum(res)

    def test_target_busy_via_notify_get_action(self):
        """202 then a final NOTIFY "SIP/2.0 486 Busy Here": ReferCallStatus
        busy, NotifySipResponseCode 486; method="GET": the parameters come in
        the action's query string."""
        ap, aurl = self.action_route()
        c, p = self.domain_call(refer_twiml("sip:x@example.com", action=aurl, method="GET"), refer_code=202,
                                notify=1, notify_ms=300, notify_code=486, notify_reason="Busy Here")
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())
        self.one_refer(res)
        self.assertNotifiesAnswered(res, 486)
        a = self.app.wait_requests(ap, 1)[0]
        self.assertEqual(a.method, "GET")
        self.assertEqual(a.body, b"")
        P = a.query
        self.assertEqual(P.get("CallSid"), self.call_sid_of(p))
        self.assertEqual(P.get("ReferCallStatus"), "busy", P)
        self.assertEqual(P.get("ReferSipResponseCode"), "202", P)
        self.assertEqual(P.get("NotifySipResponseCode"), "486", P)
        self.assertByeFromFulcrum(res)

    def test_notify_outcome_mapping(self):
        """The final sipfrag code → ReferCallStatus: 600 busy; 480, 487 and
        603 no-answer; 503 failed; 202 in-progress (calls in parallel)."""
        cases = [(600, "Busy Everywhere", "busy"), (480, "Temporarily Unavailable", "no-answer"),
                 (487, "Request Terminated", "no-answer"), (603, "Decline", "no-answer"),
                 (503, "Service Unavailable", "failed"), (202, "Accepted", "in-progress")]
        runs = []
        for code, reason, want in cases:
            ap, aurl = self.action_route(name="after%d" % code)
            c, p = self.domain_call(refer_twiml("sip:x@example.com", action=aurl), name="voice%d" % code,
                                    refer_code=202, notify=1, notify_ms=200, notify_code=code,
                                    notify_reason=reason)
            runs.append((code, want, ap, c))
        for code, want, ap, c in runs:
            with self.subTest(notify_code=code):
                res = c.wait()
                self.assertEqual(res.rc, 0, res.summary())
                self.assertNotifiesAnswered(res, code)
                reqs = self.app.wait_requests(ap, 1, 5)
                self.assertEqual(len(reqs), 1, reqs)
                P = reqs[0].params
                self.assertEqual(P.get("ReferCallStatus"), want, P)
                self.assertEqual(P.get("ReferSipResponseCode"), "202", P)
                self.assertEqual(P.get("NotifySipResponseCode"), str(code), P)

    def test_no_notify_timeout(self):
        """202 and no NOTIFY: the action comes after FULCRUM_REFER_TIMEOUT
        (not before) with ReferSipResponseCode=202 and neither
        ReferCallStatus nor NotifySipResponseCode."""
        ap, aurl = self.action_route()
        c, p = self.domain_call(refer_twiml("sip:x@example.com", action=aurl), refer_code=202, notify=0,
                                notify_reason="OK")
        refer = c.wait_request("REFER", 1, 10)
        self.assertTrue(refer, c.snapshot().summary())
        reqs = self.app.wait_requests(ap, 1, REFER_TIMEOUT + 4)
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(len(reqs), 1, reqs)
        refer = self.one_refer(res)
        self.assertFalse(res.sent("NOTIFY"), res.summary())
        a = reqs[0]
        waited = a.arrived - refer.time
        self.assertGreaterEqual(waited, REFER_TIMEOUT - 0.5, "action %.2f s after the REFER" % waited)
        self.assertLess(waited, REFER_TIMEOUT + 2, "action %.2f s after the REFER" % waited)
        P = a.params
        self.assertEqual(P.get("CallSid"), self.call_sid_of(p))
        self.assertEqual(P.get("ReferSipResponseCode"), "202", P)
        self.assertNotIn("ReferCallStatus", P)
        self.assertNotIn("NotifySipResponseCode", P)
        self.assertByeFromFulcrum(res)

    def test_no_action_last_verb_bye(self):
        """No action, <Refer> the last verb: after the final NOTIFY Fulcrum
        sends BYE (well before the timeout); no other webhook request."""
        c, p = self.domain_call(refer_twiml("sip:x@example.com"), refer_code=202, notify=1, notify_ms=300,
                                notify_code=200, notify_reason="OK")
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())
        refer = self.one_refer(res)
        self.assertInDialogRefer(res, refer)
        self.assertEqual(refer.header("Refer-To"), "<sip:x@example.com>", refer.text)
        _, final = self.assertNotifiesAnswered(res, 200)
        bye = self.assertByeFromFulcrum(res)
        self.assertGreaterEqual(bye.time, final.time, res.summary())
        self.assertLess(bye.time - final.time, 1.5, "BYE not right after the final NOTIFY\n" + res.summary())
        self.assertLess(bye.time - refer.time, REFER_TIMEOUT - 0.5, "BYE at the timeout?\n" + res.summary())
        time.sleep(0.3)
        self.assertEqual([r.path for r in self.app.requests() if r.path.startswith("/%s/" % self._testMethodName)],
                         [p])

    def test_no_action_next_verb_runs(self):
        """No action, <Redirect> after <Refer>: the Redirect URL is requested
        after the final NOTIFY (not at the timeout), without the Refer*
        parameters; its <Hangup/> → BYE."""
        np_, nurl = self.action_route(name="next")
        c, p = self.domain_call(refer_twiml("sip:x@example.com", after="<Redirect>%s</Redirect>" % xml_attr(nurl)),
                                refer_code=202, notify=1, notify_ms=300, notify_code=200, notify_reason="OK")
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())
        refer = self.one_refer(res)
        _, final = self.assertNotifiesAnswered(res, 200)
        reqs = self.app.wait_requests(np_, 1)
        self.assertEqual(len(reqs), 1, reqs)
        n = reqs[0]
        self.assertGreaterEqual(n.arrived, final.time - 0.05, "Redirect before the final NOTIFY")
        self.assertLess(n.arrived - refer.time, REFER_TIMEOUT - 0.5, "Redirect at the timeout?")
        self.assertEqual(n.params.get("CallSid"), self.call_sid_of(p))
        for k in ("ReferCallStatus", "ReferSipResponseCode", "NotifySipResponseCode"):
            self.assertNotIn(k, n.params)
        self.assertByeFromFulcrum(res)

    def test_number_call_skips_refer_13801(self):
        """On a call to a phone number <Refer> is skipped: no answer, no
        REFER, the next verb runs (<Redirect> → its <Reject reason="busy"/>
        → 486) and notification 13801 is recorded for the call."""
        np_, nurl = self.action_route(XML_DECL + '<Response><Reject reason="busy"/></Response>', name="next")
        num, p = self.route_number(refer_twiml("sip:x@example.com", after="<Redirect>%s</Redirect>" % xml_attr(nurl)))
        res = self.caller(num, scenario="uac_refer_recv", call_ms=0, timeout=15, notify_reason="OK").wait()
        self.assertEqual(res.rc, 0, res.summary())
        sid = self.call_sid_of(p)
        self.assertNotIn("SipDomainSid", self.app.requests(p)[0].params)
        self.assertEqual(len(self.app.wait_requests(np_, 1)), 1)
        self.assertFalse(res.recv_requests("REFER"), res.summary())
        self.assertEqual(res.final_code(), 486, res.summary())
        self.assertNotIn(200, res.codes(), res.summary())
        st, body = self.stack.rest("GET", "Calls/%s/Notifications.json" % sid)
        self.assertEqual(st, 200, body)
        codes = [str(n.get("error_code")) for n in body.get("notifications", [])]
        self.assertIn("13801", codes, body)

    def test_caller_hangs_up_mid_transfer(self):
        """The caller answers the REFER 202 and hangs up 1 s later, before
        any NOTIFY (uac_refer_recv cannot hang up between its two NOTIFYs:
        call_ms starts after them, so notify=0 is used): the action is
        requested at once (not at the timeout) with ReferCallStatus=canceled,
        ReferSipResponseCode=202, no NotifySipResponseCode,
        CallStatus=completed; Fulcrum sends nothing more to the caller."""
        ap, aurl = self.action_route(XML_DECL + "<Response><Say>never played</Say></Response>")
        c, p = self.domain_call(refer_twiml("sip:x@example.com", action=aurl), refer_code=202, notify=0,
                                call_ms=1000, notify_reason="OK")
        res = c.wait()
        self.assertEqual(res.rc, 0, res.summary())
        refer = self.one_refer(res)
        byes = res.sent("BYE")
        self.assertTrue(byes, res.summary())
        self.assertTrue(res.received(200, "BYE"), res.summary())
        self.assertFalse(res.recv_requests("BYE"), res.summary())
        reqs = self.app.wait_requests(ap, 1, REFER_TIMEOUT + 3)
        self.assertEqual(len(reqs), 1, reqs)
        a = reqs[0]
        self.assertGreaterEqual(a.arrived, byes[0].time - 0.05, "action before the caller's BYE")
        self.assertLess(a.arrived - byes[0].time, 1.5, "action not right after the BYE")
        P = a.params
        self.assertEqual(P.get("CallSid"), self.call_sid_of(p))
        self.assertEqual(P.get("ReferCallStatus"), "canceled", P)
        self.assertEqual(P.get("ReferSipResponseCode"), "202", P)
        self.assertNotIn("NotifySipResponseCode", P)
        self.assertEqual(P.get("CallStatus"), "completed", P)
        # nothing else reached the caller after its BYE
        self.assertEqual([m.first_line for m in res.messages if m.direction == "recv" and m.time > byes[0].time
                          and m.cseq_method != "BYE"], [], res.summary())


if __name__ == "__main__":
    unittest.main()
