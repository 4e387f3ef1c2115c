"""Self-checks of the e2e harness itself (no Fulcrum stack needed): the
independent signature implementation, the webhook app, and the sipp
scenarios against a minimal in-process UAS. If these fail, the other e2e
results mean nothing."""
import socket
import threading
import time
import unittest
import urllib.parse
import urllib.request

from harness import (LOOPBACK, TWIML_BUSY, FulcrumTestCase, WebhookApp, free_port, sipp,
                     twilio_signature, LOG_ROOT)


class FakeUAS(threading.Thread):
    """Answers INVITE with 100, 180, then `final` after `delay` s
    (retransmitted every 0.5 s until ACKed); CANCEL → 200 + 487."""

    def __init__(self, final=486, delay=0.2, cancel_487_first=False):
        super().__init__(daemon=True)
        self.final, self.delay, self.cancel_487_first = final, delay, cancel_487_first
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.acks = 0
        self.invite = None
        self.pending = None  # (due time, code, request, addr)
        self.start()

    @staticmethod
    def resp(req, code, reason, tag=True):
        out = ["SIP/2.0 %d %s" % (code, reason)]
        for l in req.split("\r\n")[1:]:
            if not l:
                break
            n = l.split(":", 1)[0].strip().lower()
            if n in ("via", "from", "call-id", "cseq"):
                out.append(l)
            elif n == "to":
                out.append(l + (";tag=fake1" if tag and ";tag=" not in l else ""))
        return ("\r\n".join(out + ["Content-Length: 0", "", ""])).encode()

    def run(self):
        acked = False
        while not self.stopping:
            now = time.monotonic()
            if self.pending and now >= self.pending[0] and not acked:
                due, code, req, addr = self.pending
                self.sock.sendto(self.resp(req, code, "X"), addr)
                self.pending = (now + 0.5, code, req, addr)
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            m = data.decode("utf-8", "replace")
            if m.startswith("INVITE"):
                self.invite = m
                self.sock.sendto(self.resp(m, 100, "Trying", False), addr)
                self.sock.sendto(self.resp(m, 180, "Ringing"), addr)
                self.pending = (time.monotonic() + self.delay, self.final, m, addr)
            elif m.startswith("CANCEL"):
                if self.cancel_487_first and self.invite:
                    self.sock.sendto(self.resp(self.invite, 487, "Request Terminated"), addr)
                self.sock.sendto(self.resp(m, 200, "OK"), addr)
                if self.invite:
                    self.pending = (time.monotonic() + (0.5 if self.cancel_487_first else 0), 487,
                                    self.invite, addr)
            elif m.startswith("ACK"):
                self.acks += 1
                acked = True
                self.pending = None

    def stop(self):
        self.stopping = True
        self.join(2)
        self.sock.close()


class HarnessSelfTest(FulcrumTestCase):
    shared_stack = False

    def test_signature_worked_example(self):
        """twilio-voice.md §6.2 worked example."""
        params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675310"), ("Digits", "1234"),
                  ("From", "+14158675310"), ("To", "+18005551212")]
        self.assertEqual(twilio_signature("12345", "https://example.com/myapp.php?foo=1&bar=2", params),
                         "L/OH5YylLD5NRKLltdqwSvS0BnU=")

    def test_webhook_app_records_and_validates(self):
        app = self.new_app(auth_token="secret-token-123456")
        app.route("/v", TWIML_BUSY, delay=0.2)
        # POST, correctly signed
        body = [("To", "+1 415"), ("CallSid", "CAx"), ("a", "é")]
        url = app.url("/v?q=1")
        sig = twilio_signature("secret-token-123456", url, body)
        req = urllib.request.Request(url, data=urllib.parse.urlencode(body).encode(),
                                     headers={"X-Twilio-Signature": sig,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=5) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers.get("Content-Type"), "text/xml")
            self.assertEqual(r.read().decode(), TWIML_BUSY)
        # GET, wrong signature; unknown path → 404
        gurl = app.url("/v?" + urllib.parse.urlencode({"CallSid": "CAy", "From": "+1"}))
        with opener.open(urllib.request.Request(gurl, headers={"X-Twilio-Signature": "bad"}), timeout=5) as r:
            self.assertEqual(r.status, 200)
        try:
            opener.open(app.url("/nope"), timeout=5)
            self.fail("404 expected")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 404)
        reqs = app.wait_requests("/v", 2, 2)
        self.assertEqual(len(reqs), 2)
        self.assertEqual(reqs[0].method, "POST")
        self.assertEqual(reqs[0].params["a"], "é")
        self.assertEqual(reqs[0].query["q"], "1")
        self.assertTrue(reqs[0].signature_ok)
        self.assertGreaterEqual(reqs[0].responded - reqs[0].arrived, 0.2)
        self.assertEqual(reqs[1].method, "GET")
        self.assertEqual(reqs[1].params["CallSid"], "CAy")
        self.assertFalse(reqs[1].signature_ok)
        self.assertEqual(len(app.requests("/nope")), 1)

    def test_sipp_invite_scenario(self):
        uas = FakeUAS(final=486)
        self.addCleanup(uas.stop)
        res = sipp("uac_invite", "%s:%d" % (LOOPBACK, uas.port), logdir=self.logdir,
                   ruri_user="+14155550100", ruri_host="sip.example.test",
                   headers=[("X-Route-Id", "42"), ("X-Test-Case", "a b")], d_ms=800)
        self.assertEqual(res.rc, 0, res.summary())
        self.assertEqual(res.codes(), [100, 180, 486], res.summary())
        self.assertEqual(res.final_code(), 486)
        inv = res.invite
        self.assertEqual(inv.first_line, "INVITE sip:+14155550100@sip.example.test SIP/2.0")
        self.assertEqual(inv.header("X-Test-Case"), "a b")
        self.assertEqual(inv.header("x-route-id"), "42")
        self.assertTrue(res.call_id)
        self.assertEqual(len(res.sent("ACK")), 1)
        self.assertEqual(uas.acks, 1)

    def test_sipp_cancel_scenario(self):
        """Both orders of 200 (CANCEL) and 487 (INVITE) are accepted."""
        for first in (False, True):
            with self.subTest(cancel_487_first=first):
                uas = FakeUAS(final=486, delay=5, cancel_487_first=first)
                self.addCleanup(uas.stop)
                res = sipp("uac_cancel", "%s:%d" % (LOOPBACK, uas.port), logdir=self.logdir,
                           ruri_user="+14155550100", d_ms=300)
                self.assertEqual(res.rc, 0, res.summary())
                self.assertEqual(res.codes("CANCEL"), [200])
                self.assertEqual([m.code for m in res.finals()], [487], res.summary())
                cancel = res.sent("CANCEL")[0]
                self.assertEqual(cancel.header("Via"), res.invite.header("Via"),
                                 "CANCEL must reuse the INVITE's branch")
                self.assertEqual(uas.acks, 1)

    def test_sipp_timeout_is_bounded(self):
        """Nobody answers: sipp gives up by its -timeout, with a failure code."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((LOOPBACK, 0))
        self.addCleanup(s.close)
        t = time.monotonic()
        res = sipp("uac_invite", "%s:%d" % (LOOPBACK, s.getsockname()[1]), logdir=self.logdir,
                   ruri_user="1", timeout=2)
        self.assertNotEqual(res.rc, 0)
        self.assertLess(time.monotonic() - t, 8)
        self.assertIsNone(res.final_code())


if __name__ == "__main__":
    unittest.main()
