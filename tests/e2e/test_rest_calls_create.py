"""REST-created calls (issue 5; twilio-voice.md §5.1, §4): POST /Calls.json
answers 201 with the call queued; Fulcrum places the SIP call itself (SDP
offer from rtpengine), walks it through initiated/ringing/in-progress with
the StatusCallbackEvent callbacks asked for, fetches Url (or runs Twiml)
with Direction=outbound-api when the callee answers, and a <Dial> from
there bridges the callee to a new leg. Timeout, busy callees, REST cancel
and hang-up, the calls-per-second queue, listing 120 calls, bad input."""
import email.utils
import time
import unittest

from harness import XML_DECL, DialTestCase, dial_twiml, sip_noun, wait_until
from rtp import RtpEndpoint, parse_sdp

PAUSE20 = XML_DECL + "<Response><Pause length=\"20\"/></Response>"
HANGUP = XML_DECL + "<Response><Hangup/></Response>"
FROM = "+14155550199"


class CallsCreateTest(DialTestCase):

    def create(self, **params):
        params.setdefault("From", FROM)
        return self.stack.rest("POST", "Calls.json", params)

    def created(self, **params):
        st, body = self.create(**params)
        self.assertEqual(st, 201, body)
        return body

    def callbacks(self, path, n, timeout=15):
        reqs = self.app.wait_requests(path, n, timeout)
        self.assertEqual(len(reqs), n, [r.params for r in reqs])
        for r in reqs:
            self.assertSignature(r)
        return sorted(reqs, key=lambda r: int(r.params["SequenceNumber"]))

    def test_create_dial_lifecycle(self):
        """Inline Twiml <Dial> to a second callee: 201 queued with Twilio's
        JSON; A gets an INVITE with rtpengine's SDP and From = From; when A
        answers B is dialled (parent = the created call); both legs are
        visible over REST in progress; Status=completed hangs both up; the
        four callbacks come once each, SequenceNumber 0..3 in order."""
        a = self.uas("uas_answer", ring_ms=300, bye_ms=0)
        b = self.uas("uas_answer", ring_ms=0, bye_ms=0, user="carol")
        cb = self.path("status")
        body = self.created(To=a.uri(), Twiml=dial_twiml(sip_noun(b.uri())),
                            StatusCallback=self.app.url(cb),
                            StatusCallbackEvent=["initiated", "ringing", "answered", "completed"])
        sid = body["sid"]
        self.assertRegex(sid, r"^CA[0-9a-f]{32}$")
        self.assertEqual(body["status"], "queued")
        self.assertEqual(body["direction"], "outbound-api")
        self.assertEqual(body["to"], a.uri())
        self.assertEqual(body["from"], FROM)
        self.assertEqual(body["from_formatted"], "(415) 555-0199")
        self.assertIsNone(body["start_time"])
        self.assertIsNone(body["parent_call_sid"])
        self.assertRegex(body["queue_time"], r"^\d+$")
        self.assertTrue(body["uri"].endswith("/Calls/%s.json" % sid), body["uri"])
        self.assertIn("notifications", body["subresource_uris"])

        inv = a.wait_request("INVITE", 1, 10)[0]
        self.assertIn("<sip:%s@" % FROM, inv.header("From"))
        self.assertMediaSdp(inv.body, "INVITE to the created call's callee")
        b.wait_request("INVITE", 1, 10)
        st, rec = self.stack.wait_call_status(sid, ("in-progress",))
        self.assertEqual(rec["status"], "in-progress")
        kids = []
        self.assertTrue(wait_until(lambda: kids.__setitem__(slice(None), [
            k for k in self.child_calls(sid) if k["status"] == "in-progress"]) or kids, 10))
        self.assertEqual(kids[0]["direction"], "outbound-dial")
        self.assertEqual(kids[0]["parent_call_sid"], sid)
        st, got = self.stack.rest("GET", "Calls/%s.json" % sid)
        self.assertEqual((st, got["status"], got["direction"]), (200, "in-progress", "outbound-api"))
        self.assertIsNotNone(got["start_time"])

        st, upd = self.stack.rest("POST", "Calls/%s.json" % sid, {"Status": "completed"})
        self.assertEqual(st, 200, upd)
        pa, pb = a.wait(15), b.wait(15)
        self.assertEqual(len(pa.recv_requests("BYE")), 1, pa.summary())
        self.assertEqual(len(pb.recv_requests("BYE")), 1, pb.summary())
        st, rec = self.stack.wait_call_status(sid, ("completed",))
        self.assertEqual(rec["status"], "completed")
        self.wait_children_final(sid, 1)

        reqs = self.callbacks(cb, 4)
        self.assertEqual([r.params["CallStatus"] for r in reqs],
                         ["initiated", "ringing", "in-progress", "completed"])
        self.assertEqual([r.params["SequenceNumber"] for r in reqs], ["0", "1", "2", "3"])
        for r in reqs:
            self.assertEqual(r.params["CallSid"], sid)
            self.assertEqual(r.params["Direction"], "outbound-api")
            self.assertEqual(r.params["CallbackSource"], "call-progress-events")
        self.assertEqual(reqs[3].params["SipResponseCode"], "200")
        time.sleep(0.5)
        self.assertEqual(len(self.app.requests(cb)), 4, "a callback came twice")

    def test_status_callbacks_one_at_a_time(self):
        """The app answers each status callback after 0.4 s: the next one of
        the call leaves only after that answer, so the four arrive in
        SequenceNumber order, at least 0.35 s apart (Twilio does not promise
        an order; Fulcrum keeps it)."""
        a = self.uas("uas_answer", ring_ms=0, bye_ms=0)
        cb = self.path("status")
        self.app.route(cb, "<Response/>", delay=0.4)
        self.created(To=a.uri(), Twiml=HANGUP, StatusCallback=self.app.url(cb),
                     StatusCallbackEvent="initiated ringing answered completed")
        reqs = self.app.wait_requests(cb, 4, 10)
        self.assertEqual([r.params["SequenceNumber"] for r in reqs], ["0", "1", "2", "3"])
        self.assertEqual([r.params["CallStatus"] for r in reqs],
                         ["initiated", "ringing", "in-progress", "completed"])
        gaps = [reqs[i + 1].arrived - reqs[i].arrived for i in range(3)]
        self.assertTrue(all(g > 0.35 for g in gaps), gaps)

    def test_ringing_callback_when_answered_at_once(self):
        """The created call's callee answers with 200 and no 1xx: ringing is
        still reported once, between initiated and in-progress."""
        a = self.uas("uas_answer", early=2, bye_ms=0)
        cb = self.path("status")
        self.app.route(cb, "")
        self.created(To=a.uri(), Twiml=HANGUP, StatusCallback=self.app.url(cb),
                     StatusCallbackEvent="initiated ringing answered completed")
        self.app.wait_requests(cb, 4, 10)
        time.sleep(0.5)
        reqs = self.app.requests(cb)
        self.assertEqual([(r.params["SequenceNumber"], r.params["CallStatus"]) for r in reqs],
                         [("0", "initiated"), ("1", "ringing"), ("2", "in-progress"), ("3", "completed")])

    def test_media_through_created_call(self):
        """RTP between the created call's callee and the leg its <Dial>
        bridges it to flows both ways through rtpengine; the callee is
        re-INVITEd at most once (only when rtpengine moved its side)."""
        with RtpEndpoint() as a_ep, RtpEndpoint() as b_ep:
            a = self.uas("uas_answer", ring_ms=0, bye_ms=0, rtp_port=a_ep.port)
            b = self.uas("uas_answer", ring_ms=200, bye_ms=0, user="carol", rtp_port=b_ep.port)
            sid = self.created(To=a.uri(), Twiml=dial_twiml(sip_noun(b.uri())))["sid"]
            self.assertTrue(b.wait_request("ACK", 1, 10), b.snapshot().summary())
            time.sleep(0.5)
            invites = a.snapshot().unique_requests("INVITE")
            self.assertLessEqual(len(invites), 2, a.snapshot().summary())
            to_a = parse_sdp(invites[-1].body)
            to_b = parse_sdp(b.snapshot().unique_requests("INVITE")[0].body)
            self.assertRtpBothWays(a_ep, to_a, b_ep, to_b)
            self.assertEqual(self.stack.rest("POST", "Calls/%s.json" % sid,
                                             {"Status": "completed"})[0], 200)
            self.assertEqual(len(a.wait(10).recv_requests("BYE")), 1)

    def test_url_fetched_on_answer(self):
        """Url is requested only once the callee answers, signed, with
        Direction=outbound-api and CallStatus=in-progress; its <Hangup>
        sends the callee a BYE; the record ends completed."""
        a = self.uas("uas_answer", ring_ms=1000, bye_ms=0)
        p = self.path()
        self.app.route(p, HANGUP)
        sid = self.created(To=a.uri(headers={"X-Job": "42"}), Url=self.app.url(p),
                           Method="GET")["sid"]
        inv = a.wait_request("INVITE", 1, 10)[0]
        self.assertEqual(inv.header("X-Job"), "42")
        self.assertFalse(self.app.requests(p), "Url fetched before the answer")
        reqs = self.app.wait_requests(p, 1, 10)
        self.assertTrue(reqs)
        r = reqs[0]
        self.assertEqual(r.method, "GET")
        self.assertSignature(r)
        self.assertEqual(r.params["CallSid"], sid)
        self.assertEqual(r.params["Direction"], "outbound-api")
        self.assertEqual(r.params["CallStatus"], "in-progress")
        self.assertEqual(r.params["From"], FROM)
        self.assertEqual(r.params["To"], a.uri())
        pa = a.wait(10)
        self.assertEqual(len(pa.recv_requests("BYE")), 1, pa.summary())
        self.assertEqual(self.stack.wait_call_status(sid, ("completed",))[1]["status"], "completed")

    def test_redirect_created_call(self):
        """A created call running a 20 s <Pause> is redirected with new
        Twiml: the callee gets BYE at once."""
        a = self.uas("uas_answer", ring_ms=0, bye_ms=0)
        sid = self.created(To=a.uri(), Twiml=PAUSE20)["sid"]
        self.stack.wait_call_status(sid, ("in-progress",))
        t0 = time.time()
        st, body = self.stack.rest("POST", "Calls/%s.json" % sid, {"Twiml": HANGUP})
        self.assertEqual(st, 200, body)
        pa = a.wait(10)
        byes = pa.recv_requests("BYE")
        self.assertEqual(len(byes), 1, pa.summary())
        self.assertLess(byes[0].time - t0, 3.0)

    def test_cancel_ringing_call(self):
        """Status=canceled while the callee rings: CANCEL on the wire, the
        record ends canceled, the completed callback says canceled / 487."""
        a = self.uas("uas_ring")
        cb = self.path("status")
        sid = self.created(To=a.uri(), Twiml=HANGUP, StatusCallback=self.app.url(cb))["sid"]
        self.stack.wait_call_status(sid, ("ringing",))
        st, body = self.stack.rest("POST", "Calls/%s.json" % sid, {"Status": "canceled"})
        self.assertEqual(st, 200, body)
        pa = a.wait(10)
        self.assertEqual(len(pa.recv_requests("CANCEL")), 1, pa.summary())
        self.assertEqual(self.stack.wait_call_status(sid, ("canceled",))[1]["status"], "canceled")
        r = self.callbacks(cb, 1)[0]
        self.assertEqual(r.params["CallStatus"], "canceled")
        self.assertEqual(r.params["SipResponseCode"], "487")
        self.assertEqual(r.params["CallDuration"], "0")

    def test_timeout_is_no_answer(self):
        """Timeout=2 against a callee that keeps ringing: CANCEL after about
        2 s, status no-answer, SipResponseCode 487; Url never fetched."""
        a = self.uas("uas_ring")
        p, cb = self.path(), self.path("status")
        self.app.route(p, HANGUP)
        sid = self.created(To=a.uri(), Url=self.app.url(p), Timeout="2",
                           StatusCallback=self.app.url(cb))["sid"]
        inv = a.wait_request("INVITE", 1, 10)[0]
        pa = a.wait(10)
        cancel = pa.recv_requests("CANCEL")
        self.assertEqual(len(cancel), 1, pa.summary())
        self.assertGreater(cancel[0].time - inv.time, 1.5)
        self.assertLess(cancel[0].time - inv.time, 4.0)
        self.assertEqual(self.stack.wait_call_status(sid, ("no-answer",))[1]["status"], "no-answer")
        r = self.callbacks(cb, 1)[0]
        self.assertEqual((r.params["CallStatus"], r.params["SipResponseCode"]), ("no-answer", "487"))
        self.assertFalse(self.app.requests(p))

    def test_busy_callee(self):
        """A 486 from the callee: status busy, callback busy / 486."""
        a = self.uas("uas_reject", code=486)
        cb = self.path("status")
        sid = self.created(To=a.uri(), Twiml=HANGUP, StatusCallback=self.app.url(cb))["sid"]
        self.assertEqual(self.stack.wait_call_status(sid, ("busy",))[1]["status"], "busy")
        r = self.callbacks(cb, 1)[0]
        self.assertEqual((r.params["CallStatus"], r.params["SipResponseCode"]), ("busy", "486"))
        self.assertEqual(a.wait(10).rc, 0)

    def test_bad_input(self):
        """Twilio's codes for bad parameters, and nothing created."""
        st, before = self.stack.rest("GET", "Calls.json", {"PageSize": 1000})
        u = "sip:bob@127.0.0.1:5099"
        cases = [
            ({"From": FROM, "Url": "https://example.com/v"}, 21201),
            ({"To": u, "From": "", "Url": "https://example.com/v"}, 21213),
            ({"To": u, "From": FROM, "Url": "ftp://example.com/v"}, 21205),
            ({"To": u, "From": FROM}, 21205),
            ({"To": u, "From": FROM, "Twiml": "<Response>" + "<Pause/>" * 600 + "</Response>"}, 20001),
            ({"To": u, "From": FROM, "Twiml": "<Response><Pause></Response>"}, 20001),
            ({"To": u, "From": FROM, "Twiml": HANGUP, "Timeout": "soon"}, 20001),
            ({"To": u, "From": FROM, "Twiml": HANGUP, "StatusCallbackEvent": "hungup"}, 20001),
            ({"To": u, "From": FROM, "Twiml": HANGUP, "SipAuthUsername": "u"}, 21225),
            ({"To": u, "From": FROM, "Twiml": HANGUP, "SipAuthUsername": "u",
              "SipAuthPassword": "p" * 300}, 21223),
            ({"To": "client:alice", "From": FROM, "Twiml": HANGUP}, 21211),
            ({"To": "sip:bob@127.0.0.1?Via=evil", "From": FROM, "Twiml": HANGUP}, 21211),
            ({"To": "not a number", "From": FROM, "Twiml": HANGUP}, 21211),
            ({"To": u, "From": "bad<from>", "Twiml": HANGUP}, 21212),
            ({"To": u, "From": FROM, "Twiml": HANGUP, "Record": "true"}, 20001),
            ({"To": u, "From": FROM, "Twiml": HANGUP, "SendDigits": "12x"}, 20001),
        ]
        for params, code in cases:
            st, body = self.stack.rest("POST", "Calls.json", params)
            self.assertEqual((st, body.get("code")), (400, code), (params, body))
            self.assertEqual(body["status"], 400)
            self.assertEqual(body["more_info"], "https://www.twilio.com/docs/errors/%d" % code)
            self.assertTrue(body["message"])
        st, body = self.stack.rest("POST", "Calls.json", {"To": u, "From": FROM, "Twiml": HANGUP},
                                   auth=False)
        self.assertEqual((st, body.get("code")), (401, 20003), body)
        st, after = self.stack.rest("GET", "Calls.json", {"PageSize": 1000})
        self.assertEqual(len(after["calls"]), len(before["calls"]))


class CallsQueueTest(DialTestCase):
    """FULCRUM_CPS=2: creates beyond two a second wait in a queue."""
    stack_env = {"FULCRUM_CPS": "2"}

    def test_cps_queue_and_cancel_queued(self):
        """Five creates at once: queue_time 0, 500, 1000, 1500, 2000 ms
        (±300); the INVITEs reach the callee at least 0.4 s apart; the fifth,
        canceled while queued, ends canceled at once, is never dialled and,
        as on Twilio, gets no status callback."""
        a = self.uas("uas_reject", code=486, calls=4)
        cb = self.path("status")
        sids, qt = [], []
        for i in range(5):
            st, body = self.stack.rest("POST", "Calls.json", {
                "To": a.uri(), "From": FROM, "Twiml": HANGUP, "StatusCallback": self.app.url(cb)})
            self.assertEqual(st, 201, body)
            sids.append(body["sid"])
            qt.append(int(body["queue_time"]))
        for i, q in enumerate(qt):
            self.assertLess(abs(q - 500 * i), 300, qt)
        st, body = self.stack.rest("POST", "Calls/%s.json" % sids[4], {"Status": "canceled"})
        self.assertEqual((st, body["status"]), (200, "canceled"), body)
        pa = a.wait(15)
        invites = pa.recv_requests("INVITE")
        self.assertEqual(len(invites), 4, pa.summary())
        gaps = [invites[i + 1].time - invites[i].time for i in range(3)]
        self.assertTrue(all(g > 0.4 for g in gaps), gaps)
        for s in sids[:4]:
            self.assertEqual(self.stack.wait_call_status(s, ("busy",))[1]["status"], "busy")
        reqs = self.app.wait_requests(cb, 4, 10)
        time.sleep(0.5)
        by_sid = {r.params["CallSid"]: r.params["CallStatus"] for r in self.app.requests(cb)}
        self.assertEqual(by_sid, {s: "busy" for s in sids[:4]})
        self.assertEqual(len(self.app.requests(cb)), 4)


class CallsListTest(DialTestCase):
    """Listing and paging over 120 created calls."""
    stack_env = {"FULCRUM_CPS": "200"}

    def test_list_and_page_120_calls(self):
        """120 calls (60 from each of two numbers) to a busy callee: the list
        pages 50/50/20 newest first with next_page_uri/previous_page_uri,
        From/To/Status filters select the right ones."""
        a = self.uas("uas_reject", code=486, calls=120, timeout=60)
        other = "+14155550142"
        made = []
        for i in range(120):
            st, body = self.stack.rest("POST", "Calls.json", {
                "To": a.uri(), "From": FROM if i % 2 else other, "Twiml": HANGUP})
            self.assertEqual(st, 201, body)
            made.append(body["sid"])
        self.assertEqual(a.wait(60).rc, 0)
        for s in made[-3:]:
            self.stack.wait_call_status(s, ("busy",), timeout=10)
        seen, stamps, uri, pages = [], [], "Calls.json", 0
        params = {"To": a.uri(), "PageSize": 50}
        while uri:
            st, page = self.stack.rest("GET", uri, params)
            self.assertEqual(st, 200, page)
            pages += 1
            self.assertEqual(page["page_size"], 50)
            self.assertEqual(page["page"], pages - 1)
            seen += [c["sid"] for c in page["calls"]]
            stamps += [email.utils.parsedate_to_datetime(c["date_created"]) for c in page["calls"]]
            nxt = page["next_page_uri"]
            uri, params = nxt, None  # "/2010-04-01/...": relative to the API root
        self.assertEqual(pages, 3)
        self.assertEqual(sorted(seen), sorted(made))
        # newest first (calls created in the same millisecond in SID order)
        self.assertEqual(stamps, sorted(stamps, reverse=True), "not newest first")
        self.assertIn(seen[0], made[-10:])
        st, busy = self.stack.rest("GET", "Calls.json", {"From": other, "Status": "busy", "PageSize": 100})
        self.assertEqual(st, 200)
        self.assertEqual(sorted(c["sid"] for c in busy["calls"]), sorted(made[0::2]))
        st, none = self.stack.rest("GET", "Calls.json", {"From": other, "Status": "completed"})
        self.assertEqual(none["calls"], [])
        day = time.strftime("%Y-%m-%d", time.gmtime())
        st, today = self.stack.rest("GET", "Calls.json", {"To": a.uri(), "StartTime>": day, "PageSize": 200})
        self.assertEqual(len(today["calls"]), 120)


if __name__ == "__main__":
    unittest.main()
