"""Fulcrum driven by Twilio's official Node.js helper library (npm "twilio",
pinned in tests/e2e/node/package-lock.json): tests/e2e/node/drive.js points
twilio(accountSid, authToken, {httpClient}) at the stack through a subclass of
twilio.RequestClient (the library's documented HTTP-client hook), runs
IncomingPhoneNumbers and SIP Domains CRUD, creates a call to a sipp UAS,
fetches, lists, pages and updates it, provokes Twilio's error codes, and
checks every webhook it receives with the library's validateRequest. It prints
one JSON report; the assertions are here.

drive.js runs once per class (on the first test that needs it); node_modules
come from `npm ci` when missing or older than package-lock.json. node and npm
must be installed (deploy/install-deps.sh): without them every test fails.
"""
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

from harness import BUILD, CALL_SID_RE, LOOPBACK, DialTestCase, free_port, orphan_guard, wait_until

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
DRIVE = os.path.join(NODE_DIR, "drive.js")
LOCK = os.path.join(NODE_DIR, "package-lock.json")
MODULES = os.path.join(NODE_DIR, "node_modules")
FROM = "+15005550006"
INBOUND_CALLS = 3
DRIVE_TIMEOUT = 90  # s; drive.js keeps itself under 60
PN_RE = re.compile(r"^PN[0-9a-f]{32}$")
SD_RE = re.compile(r"^SD[0-9a-f]{32}$")


def _modules_stamp():
    """mtime of the installed tree (npm writes node_modules/.package-lock.json
    on every install), or None when twilio is not installed."""
    if not os.path.exists(os.path.join(MODULES, "twilio", "package.json")):
        return None
    hidden = os.path.join(MODULES, ".package-lock.json")
    return os.path.getmtime(hidden if os.path.exists(hidden) else MODULES)


def ensure_node_modules():
    """None when node_modules is usable, else the reason (a string)."""
    missing = [t for t in ("node", "npm") if not shutil.which(t)]
    if missing:
        return ("%s not found on PATH: Node.js and npm are needed to run Twilio's Node.js helper "
                "library (install them with deploy/install-deps.sh, Debian packages nodejs and npm)"
                % " and ".join(missing))
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, "npm-ci.lock"), "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)  # two runs must not install into one tree at once
        stamp = _modules_stamp()
        if stamp is not None and stamp >= os.path.getmtime(LOCK):
            return None
        try:
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return "npm ci in %s did not finish within 300 s" % NODE_DIR
        if r.returncode != 0 or _modules_stamp() is None:
            return "npm ci in %s failed (exit %s):\n%s\n%s" % (NODE_DIR, r.returncode, r.stdout[-3000:],
                                                                r.stderr[-3000:])
    return None


class DriveRun:
    """What one run of drive.js left: the report, its stderr, the callee's
    trace, the inbound callers' results; error when there is no report."""

    def __init__(self):
        self.error = None
        self.report = None
        self.stderr = ""
        self.uas = None
        self.callers = []
        self.number = None
        self.webhook_port = None


class TwilioNodeTest(DialTestCase):
    _run = None

    # ------------------------------------------------------------ the run
    def drive(self):
        """The DriveRun of this class (drive.js runs on the first call)."""
        cls = type(self)
        if cls._run is None:
            run = DriveRun()
            try:
                self._drive(run)
            except Exception as e:  # reported by every test that needs the run
                run.error = run.error or "%s: %s" % (type(e).__name__, e)
            cls._run = run
        run = cls._run
        if run.error:
            self.fail("drive.js: %s\n---- its stderr:\n%s" % (run.error, run.stderr[-4000:]))
        return run

    def _drive(self, run):
        err = ensure_node_modules()
        if err:
            run.error = err
            return
        uas = self.uas("uas_answer", user="bob", ring_ms=500, bye_ms=0, timeout=60)
        run.number = self.number()
        run.webhook_port = free_port(udp=False)
        run.domain = "node-%d-%d.sip.fulcrum.test" % (os.getpid(), run.webhook_port)
        run.to = uas.uri("bob")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("TWILIO_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        env.update({
            "FULCRUM_API_BASE": self.stack.api_root,
            "FULCRUM_ACCOUNT_SID": self.stack.account_sid,
            "FULCRUM_AUTH_TOKEN": self.stack.auth_token,
            "DRIVE_TO": run.to,
            "DRIVE_PORT": str(run.webhook_port),
            "DRIVE_NUMBER": run.number,
            "DRIVE_DOMAIN": run.domain,
            "DRIVE_INBOUND": str(INBOUND_CALLS),
            "DRIVE_DEADLINE_S": "60",
        })
        out_path = os.path.join(self.logdir, "drive-report.json")
        err_path = os.path.join(self.logdir, "drive-stderr.log")
        out_f, err_f = open(out_path, "wb"), open(err_path, "wb")
        ready = threading.Event()
        err_lines = []
        proc = subprocess.Popen(orphan_guard(["node", DRIVE]), cwd=NODE_DIR, env=env, stdin=subprocess.DEVNULL,
                                stdout=out_f, stderr=subprocess.PIPE, start_new_session=True)

        def read_err():
            for line in iter(proc.stderr.readline, b""):
                err_f.write(line)
                err_f.flush()
                text = line.decode("utf-8", "replace")
                err_lines.append(text)
                if text.startswith("DRIVE READY-INBOUND"):
                    ready.set()
        reader = threading.Thread(target=read_err, daemon=True)
        reader.start()
        try:
            # The number's VoiceUrl now points at drive.js' /inbound: callers
            # (started from this, the main thread) seed the Calls list.
            wait_until(lambda: ready.is_set() or proc.poll() is not None, 30, 0.05)
            if ready.is_set():
                run.callers = [self.caller(run.number, call_ms=0, timeout=20) for _ in range(INBOUND_CALLS)]
            try:
                proc.wait(DRIVE_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
                run.error = "did not finish within %d s (killed)" % DRIVE_TIMEOUT
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            reader.join(5)
            out_f.close()
            err_f.close()
            run.stderr = "".join(err_lines)
            run.callers = [c.wait() for c in run.callers]
        with open(out_path, "r", errors="replace") as f:
            text = f.read().strip()
        if text:
            try:
                run.report = json.loads(text.splitlines()[-1])
            except ValueError as e:
                run.error = run.error or "report is not JSON (%s): %r" % (e, text[-500:])
        if proc.returncode != 0 and not run.error:
            run.error = "exit status %s" % proc.returncode
        if run.report is None and not run.error:
            run.error = "no report on stdout"
        # The callee: done once the call ended (calls=1), else stopped now.
        created = ((run.report or {}).get("calls") or {}).get("create")
        run.uas = uas.wait(15) if created else uas.stop()

    # ------------------------------------------------------------ helpers
    def report(self):
        return self.drive().report

    def hooks(self, path):
        return [h for h in self.report()["webhooks"] if h["path"] == path]

    def own(self, path):
        return "http://%s:%d%s" % (LOOPBACK, self.drive().webhook_port, path)

    def assertRestError(self, got, status, code, what):
        self.assertTrue(got, "%s: not recorded" % what)
        self.assertTrue(got.get("thrown"), "%s: no exception: %r" % (what, got))
        self.assertTrue(got.get("is_rest_exception"), "%s: not a twilio.RestException: %r" % (what, got))
        self.assertEqual((got.get("status"), got.get("code")), (status, code), "%s: %r" % (what, got))
        self.assertTrue(got.get("message"), got)
        self.assertEqual(got.get("more_info"), "https://www.twilio.com/docs/errors/%d" % code, got)

    def step_ok(self, name):
        st = self.report()["steps"].get(name)
        self.assertIsNotNone(st, "step %s did not run; steps: %r" % (name, self.report()["steps"]))
        self.assertTrue(st["ok"], "step %s failed: %r" % (name, st.get("error")))

    def created_call(self):
        """The call created through client.calls.create (asserted)."""
        self.step_ok("calls.create")
        c = self.report()["calls"]["create"]
        self.assertRegex(c["sid"], CALL_SID_RE)
        return c

    # --------------------------------------------------------------- tests
    def test_http_client_hook(self):
        """Every request the library made went through the RequestClient
        subclass: built on https://api.twilio.com, sent to the stack; the
        report names the pinned library version."""
        r = self.report()
        self.assertTrue(r["completed"], r["steps"])
        with open(os.path.join(NODE_DIR, "package.json")) as f:
            pinned = json.load(f)["dependencies"]["twilio"]
        self.assertRegex(pinned, r"^\d+\.\d+\.\d+$", "twilio must be pinned to an exact version")
        self.assertEqual(r["twilio_version"], pinned)
        self.assertGreater(len(r["http"]), 15, r["http"])
        for h in r["http"]:
            self.assertTrue(h["original_uri"].startswith("https://api.twilio.com/2010-04-01/"), h)
            self.assertEqual(h["uri"], self.stack.api_root + h["original_uri"][len("https://api.twilio.com"):], h)
            self.assertIsNotNone(h["status"], h)

    def test_error_codes(self):
        """Wrong credentials → RestException 401 20003; an unknown CallSid →
        404 20404; a create without To → 400 21201 (empty To through
        calls.create; no To at all through client.request — the library
        itself refuses a create without `to`)."""
        e = self.report()["errors"]
        self.assertRestError(e["auth"], 401, 20003, "wrong AuthToken")
        self.assertRestError(e["not_found"], 404, 20404, "fetch of an unknown CA sid")
        self.assertTrue(e["missing_to_client_side"]["thrown"], e["missing_to_client_side"])
        self.assertFalse(e["missing_to_client_side"]["is_rest_exception"], e["missing_to_client_side"])
        self.assertIn("to", e["missing_to_client_side"]["message"])
        self.assertRestError(e["missing_to"], 400, 21201, "calls.create with To=''")
        raw = e["missing_to_raw"]
        self.assertEqual((raw.get("status"), raw.get("code")), (400, 21201), raw)

    def test_incoming_phone_numbers(self):
        """create (201), fetch, list and update (200) agree; calls to the
        number reach the updated VoiceUrl only, signed; remove, then 404."""
        r, run = self.report(), self.drive()
        for s in ("numbers.create", "numbers.fetch", "numbers.list", "numbers.update", "numbers.remove"):
            self.step_ok(s)
        n = r["numbers"]
        c = n["create"]
        self.assertEqual(c["http_status"], 201, c)
        self.assertRegex(c["sid"], PN_RE)
        self.assertEqual((c["phoneNumber"], c["voiceUrl"], c["accountSid"]),
                         (run.number, self.own("/number-voice"), self.stack.account_sid), c)
        self.assertEqual(c["uri"], "/2010-04-01/Accounts/%s/IncomingPhoneNumbers/%s.json" % (
            self.stack.account_sid, c["sid"]))
        self.assertEqual(n["fetch"]["http_status"], 200)
        self.assertEqual({k: v for k, v in n["fetch"].items() if k != "http_status"},
                         {k: v for k, v in c.items() if k != "http_status"})
        self.assertEqual(n["list"]["sids"], [c["sid"]], n["list"])
        u = n["update"]
        self.assertEqual((u["http_status"], u["sid"], u["friendlyName"], u["voiceUrl"]),
                         (200, c["sid"], "node helper", self.own("/inbound")), u)
        # user-visible effect of the update: the calls used the new VoiceUrl
        self.assertTrue(n.get("inbound_seen"), "inbound calls did not reach /inbound: %r" % self.hooks("/inbound"))
        inbound = self.hooks("/inbound")
        self.assertEqual(len(inbound), INBOUND_CALLS, inbound)
        self.assertEqual(self.hooks("/number-voice"), [])
        for h in inbound:
            self.assertEqual((h["method"], h["params"].get("Direction"), h["params"].get("To")),
                             ("POST", "inbound", run.number), h)
        self.assertEqual([res.final_code() for res in run.callers], [200] * INBOUND_CALLS,
                         "\n".join(res.summary() for res in run.callers))
        self.assertEqual((n["remove"]["result"], n["remove"]["http_status"]), (True, 204), n["remove"])
        self.assertRestError(n["fetch_after_remove"], 404, 20404, "fetch of a removed number")

    def test_sip_domains(self):
        """client.sip.domains: create (201), fetch, list, update (200),
        remove (204), then 404."""
        r, run = self.report(), self.drive()
        for s in ("domains.create", "domains.fetch", "domains.list", "domains.update", "domains.remove"):
            self.step_ok(s)
        d = r["domains"]
        c = d["create"]
        self.assertEqual(c["http_status"], 201, c)
        self.assertRegex(c["sid"], SD_RE)
        self.assertEqual((c["domainName"], c["friendlyName"], c["voiceUrl"]),
                         (run.domain, "node domain", self.own("/domain-voice")), c)
        self.assertEqual(c["uri"], "/2010-04-01/Accounts/%s/SIP/Domains/%s.json" % (self.stack.account_sid, c["sid"]))
        self.assertEqual({k: v for k, v in d["fetch"].items() if k != "http_status"},
                         {k: v for k, v in c.items() if k != "http_status"})
        self.assertIn(c["sid"], d["list"]["sids"])
        self.assertIn(run.domain, d["list"]["domain_names"])
        u = d["update"]
        self.assertEqual((u["http_status"], u["sid"], u["friendlyName"], u["voiceUrl"], u["domainName"]),
                         (200, c["sid"], "node domain 2", self.own("/domain-voice-2"), run.domain), u)
        self.assertEqual((d["remove"]["result"], d["remove"]["http_status"]), (True, 204), d["remove"])
        self.assertRestError(d["fetch_after_remove"], 404, 20404, "fetch of a removed domain")

    def test_webhooks_validate(self):
        """Every request drive.js' server received carries an
        X-Twilio-Signature that twilio.validateRequest accepts with the
        AuthToken, and rejects with another token or one parameter
        changed."""
        hooks = self.report()["webhooks"]
        self.assertGreaterEqual(len(hooks), INBOUND_CALLS, hooks)
        for h in hooks:
            what = "%s %s %r" % (h["method"], h["url"], h["params"])
            self.assertTrue(h["signature"], "no X-Twilio-Signature: " + what)
            self.assertIs(h["valid"], True, "validateRequest rejected " + what)
            self.assertIs(h["valid_wrong_token"], False, "validateRequest accepted a wrong token: " + what)
            self.assertIs(h["valid_tampered"], False, "validateRequest accepted a changed parameter: " + what)

    def test_call_paging(self):
        """calls.page({pageSize: 2}): two calls and a next_page_uri;
        nextPage() gives the following ones; calls.list({pageSize: 2})
        follows the pages to the same list the REST API gives."""
        self.step_ok("calls.page")
        self.step_ok("calls.list_paged")
        c = self.report()["calls"]
        p1, p2 = c["page1"], c.get("page2")
        self.assertEqual(len(p1["sids"]), 2, p1)
        self.assertEqual(p1["page_size"], 2, p1)
        self.assertTrue(p1["next_page_uri"], p1)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(p1["next_page_uri"]).query)
        self.assertEqual(q.get("Page"), ["1"], p1)
        self.assertEqual(q.get("PageSize"), ["2"], p1)
        self.assertEqual(p1["next_page_url"], "https://api.twilio.com" + p1["next_page_uri"], p1)
        self.assertIsNotNone(p2, "nextPage() returned nothing")
        self.assertEqual(p2["page"], 1, p2)
        self.assertTrue(p2["sids"], p2)
        self.assertFalse(set(p1["sids"]) & set(p2["sids"]), (p1, p2))
        st, body = self.stack.rest("GET", "Calls.json", {"PageSize": 200})
        self.assertEqual(st, 200, body)
        everything = [x["sid"] for x in body["calls"]]
        self.assertGreaterEqual(len(everything), INBOUND_CALLS)
        self.assertEqual(everything[:2], p1["sids"])
        self.assertEqual(everything[2:2 + len(p2["sids"])], p2["sids"])
        self.assertEqual(c["list_paged"]["sids"], everything)
        pages = (len(everything) + 1) // 2  # one more when a full last page still names a next one
        self.assertIn(len(c["list_paged"]["requests"]), (pages, pages + 1), c["list_paged"])

    def test_call_create(self):
        """client.calls.create to a SIP URI: 201, status queued, direction
        outbound-api, To/From as given, the call's own uri."""
        c = self.created_call()
        run = self.drive()
        self.assertEqual(c["http_status"], 201, c)
        self.assertEqual((c["status"], c["direction"]), ("queued", "outbound-api"), c)
        self.assertEqual((c["to"], c["from"], c["accountSid"], c["apiVersion"]),
                         (run.to, FROM, self.stack.account_sid, "2010-04-01"), c)
        self.assertIsNone(c["parentCallSid"], c)
        self.assertEqual(c["uri"], "/2010-04-01/Accounts/%s/Calls/%s.json" % (self.stack.account_sid, c["sid"]))

    def test_call_reaches_the_callee(self):
        """The UAS gets one INVITE from Fulcrum (From user +15005550006),
        answers, and gets BYE after the update's <Hangup/>."""
        self.created_call()
        peer = self.drive().uas
        invites = peer.unique_requests("INVITE")
        self.assertEqual(len(invites), 1, peer.summary())
        self.assertIn("sip:bob@", invites[0].ruri, peer.summary())
        self.assertIn("sip:%s@" % FROM, invites[0].header("From") or "", peer.summary())
        self.assertTrue(peer.sent_responses(200, "INVITE"), peer.summary())
        self.assertEqual(len(peer.unique_requests("BYE")), 1, peer.summary())

    def test_call_voice_webhook(self):
        """The call's Url is requested once the callee answers: POST,
        Direction=outbound-api, the CallSid of the create, To/From."""
        c = self.created_call()
        self.assertTrue(self.report()["calls"].get("voice_webhook_seen"), self.report()["webhooks"])
        voice = self.hooks("/voice")
        self.assertEqual(len(voice), 1, voice)
        p = voice[0]["params"]
        self.assertEqual(voice[0]["method"], "POST")
        self.assertEqual((p.get("CallSid"), p.get("AccountSid"), p.get("Direction"), p.get("From"), p.get("To")),
                         (c["sid"], self.stack.account_sid, "outbound-api", FROM, self.drive().to), p)
        self.assertEqual(p.get("CallStatus"), "in-progress", p)
        self.assertIs(voice[0]["valid"], True, voice[0])

    def test_call_status_callbacks(self):
        """StatusCallbackEvent initiated ringing answered completed: four
        signed POSTs in order, SequenceNumber increasing from 0,
        CallbackSource=call-progress-events, CallDuration on completed."""
        c = self.created_call()
        self.assertTrue(self.report()["calls"].get("completed_seen"), self.hooks("/status"))
        cbs = self.hooks("/status")
        self.assertEqual([h["params"].get("CallStatus") for h in cbs],
                         ["initiated", "ringing", "in-progress", "completed"], [h["params"] for h in cbs])
        seqs = [int(h["params"].get("SequenceNumber", "-1")) for h in cbs]
        self.assertEqual(seqs, [0, 1, 2, 3], seqs)
        self.assertEqual(sorted(h["at_ms"] for h in cbs), [h["at_ms"] for h in cbs])
        for h in cbs:
            p = h["params"]
            self.assertEqual(h["method"], "POST")
            self.assertIs(h["valid"], True, h)
            self.assertEqual((p.get("CallSid"), p.get("Direction"), p.get("CallbackSource")),
                             (c["sid"], "outbound-api", "call-progress-events"), p)
            self.assertTrue(p.get("Timestamp"), p)
        self.assertTrue(cbs[-1]["params"].get("CallDuration", "").isdigit(), cbs[-1]["params"])

    def test_call_fetch_and_list(self):
        """calls(sid).fetch() and calls.list({to}) return the created call;
        fetch shows it answered (in-progress)."""
        c = self.created_call()
        self.step_ok("calls.fetch")
        self.step_ok("calls.list_to")
        calls = self.report()["calls"]
        f = calls["fetch"]
        self.assertEqual((f["http_status"], f["sid"], f["direction"], f["to"], f["from"]),
                         (200, c["sid"], "outbound-api", c["to"], FROM), f)
        self.assertEqual(f["status"], "in-progress", f)
        self.assertTrue(f["startTime"], f)
        self.assertEqual(calls["list_to"]["sids"], [c["sid"]], calls["list_to"])

    def test_call_update(self):
        """calls(sid).update({twiml}) during the <Pause length="20">: 200
        with the call; the new TwiML (Pause 1, Hangup) ends the call about
        a second later; the record ends completed; an update of the ended
        call is refused with 21220."""
        c = self.created_call()
        self.step_ok("calls.update")
        calls = self.report()["calls"]
        u = calls["update"]
        self.assertEqual((u["http_status"], u["sid"]), (200, c["sid"]), u)
        done = [h for h in self.hooks("/status") if h["params"].get("CallStatus") == "completed"]
        self.assertEqual(len(done), 1, self.hooks("/status"))
        dt = (done[0]["at_ms"] - calls["update_at_ms"]) / 1000.0
        self.assertTrue(0.8 <= dt <= 8, "completed %.2f s after the update (Pause 1, then Hangup)" % dt)
        self.step_ok("calls.fetch_final")
        f = calls["fetch_final"]
        self.assertEqual((f["sid"], f["status"]), (c["sid"], "completed"), f)
        self.assertTrue(f["duration"] and f["duration"].isdigit(), f)
        self.assertTrue(f["endTime"], f)
        self.assertRestError(calls["update_ended"], 400, 21220, "update of an ended call")


if __name__ == "__main__":
    import unittest
    unittest.main()
