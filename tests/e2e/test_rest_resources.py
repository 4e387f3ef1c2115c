#!/usr/bin/env python3
"""REST resources of callctl against a redis-server and a callctl of their own
(no SIP side): IncomingPhoneNumbers and SIP/Domains CRUD in Twilio's shapes,
paging, validation error codes, Basic auth, other accounts, unknown SIDs, Call
records and Notifications written into Redis as callctl/doc/store.md says and
rendered as Twilio's JSON, request-body rules, and a Redis outage.

    python3 tests/e2e/test_rest_resources.py      (or via tests/e2e/run.py)

Python 3 standard library only; processes and ports come from harness.py.
"""
import base64
import email.utils
import http.client
import json
import os
import re
import secrets
import signal
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import LOOPBACK  # noqa: E402

RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct"
                     r"|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$")
DAY_MS = 86400000

NUMBER_KEYS = {
    "account_sid", "address_requirements", "address_sid", "api_version", "beta", "capabilities",
    "date_created", "date_updated", "emergency_status", "emergency_address_sid",
    "emergency_address_status", "friendly_name", "identity_sid", "origin", "phone_number", "sid",
    "sms_application_sid", "sms_fallback_method", "sms_fallback_url", "sms_method", "sms_url",
    "status_callback", "status_callback_method", "trunk_sid", "uri", "voice_application_sid",
    "voice_caller_id_lookup", "voice_fallback_method", "voice_fallback_url", "voice_method",
    "voice_url", "bundle_sid", "voice_receive_mode", "status", "subresource_uris"}
DOMAIN_KEYS = {
    "account_sid", "api_version", "auth_type", "date_created", "date_updated", "domain_name",
    "friendly_name", "sid", "uri", "voice_fallback_method", "voice_fallback_url", "voice_method",
    "voice_status_callback_method", "voice_status_callback_url", "voice_url", "subresource_uris",
    "sip_registration", "emergency_calling_enabled", "secure", "byoc_trunk_sid",
    "emergency_caller_sid"}
CALL_KEYS = {
    "sid", "date_created", "date_updated", "parent_call_sid", "account_sid", "to", "to_formatted",
    "from", "from_formatted", "phone_number_sid", "status", "start_time", "end_time", "duration",
    "price", "price_unit", "direction", "answered_by", "annotation", "api_version",
    "forwarded_from", "group_sid", "caller_name", "queue_time", "trunk_sid", "uri",
    "subresource_uris"}
CALL_SUBRESOURCES = {
    "notifications": "Notifications", "recordings": "Recordings", "payments": "Payments",
    "events": "Events", "siprec": "Siprec", "streams": "Streams",
    "transcriptions": "Transcriptions",
    "user_defined_message_subscriptions": "UserDefinedMessageSubscriptions",
    "user_defined_messages": "UserDefinedMessages"}
NOTIF_KEYS = {
    "account_sid", "api_version", "call_sid", "date_created", "date_updated", "error_code", "log",
    "message_date", "message_text", "more_info", "request_method", "request_url",
    "request_variables", "response_body", "response_headers", "sid", "uri"}
PAGE_KEYS = {"end", "first_page_uri", "next_page_uri", "page", "page_size", "previous_page_uri",
             "start", "uri"}


def sid(prefix):
    return prefix + secrets.token_hex(16)


def rfc2822_ms(s):
    return int(email.utils.parsedate_to_datetime(s).timestamp() * 1000)


class RestStack:
    """redis-server + callctl on free loopback ports (the SIP side is not
    needed by the REST API). Shares Stack's rest()/redis() helpers."""

    api_root = harness.Stack.api_root
    api_base = harness.Stack.api_base
    account_base = harness.Stack.account_base
    redis_url = harness.Stack.redis_url
    rest = harness.Stack.rest
    redis = harness.Stack.redis

    def __init__(self, logdir):
        self.logdir = logdir
        os.makedirs(logdir, exist_ok=True)
        self.account_sid = sid("AC")
        self.auth_token = secrets.token_hex(16)
        self.redis_port = harness.free_port(udp=False)
        self.api_port = harness.free_port(udp=False)
        self.procs = {}
        try:
            self.start_redis()
            env = dict(os.environ)
            for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                      "ALL_PROXY"):
                env.pop(k, None)
            env.update({
                "FULCRUM_REDIS_URL": self.redis_url,
                "FULCRUM_API_ADDR": LOOPBACK,
                "FULCRUM_API_PORT": str(self.api_port),
                "FULCRUM_ACCOUNT_SID": self.account_sid,
                "FULCRUM_AUTH_TOKEN": self.auth_token,
                "FULCRUM_PUBLIC_URL": self.api_root,
                "FULCRUM_RTPENGINE_NG": "127.0.0.1:1",
                "FULCRUM_LOG_LEVEL": "debug",
                "ASAN_OPTIONS": env.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0"),
                "UBSAN_OPTIONS": env.get("UBSAN_OPTIONS", "print_stacktrace=1"),
            })
            binary = harness.callctl_binary()
            if not os.path.exists(binary):
                raise harness.StackError("not built: %s (run make callctl)" % binary)
            self.procs["callctl"] = harness.Proc("callctl", [binary], env,
                                                 os.path.join(logdir, "callctl.log"))
            self.wait("callctl", lambda: harness.probe_http(self.api_root + "/health"))
        except BaseException:
            self.stop()
            raise

    def start_redis(self):
        rdir = os.path.join(self.logdir, "redis")
        os.makedirs(rdir, exist_ok=True)
        self.procs["redis"] = harness.Proc("redis", [
            "redis-server", "--bind", LOOPBACK, "--port", str(self.redis_port), "--dir", rdir,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""],
            dict(os.environ), os.path.join(self.logdir, "redis.log"))
        self.wait("redis", lambda: harness.probe_redis(self.redis_port))

    def wait(self, name, probe, timeout=harness.HEALTH_TIMEOUT):
        p = self.procs[name]
        ok = harness.wait_until(lambda: probe() or not p.alive(), timeout, 0.05)
        if not ok or not p.alive():
            raise harness.StackError("%s did not start:\n%s" % (name, p.tail()))

    def stop(self):
        for name in ("callctl", "redis"):
            p = self.procs.pop(name, None)
            if p:
                p.stop()

    def http(self, method, path, body=None, headers=None, creds=True):
        """One request with full control. path relative to the account base
        unless it starts with '/'. creds: True (the right ones), None (no
        Authorization header), a (user, password) tuple, or a raw header
        string. Returns (status, headers with lowercase names, body bytes)."""
        if not path.startswith("/"):
            path = "/2010-04-01/Accounts/%s/%s" % (self.account_sid, path)
        h = dict(headers or {})
        if creds is True:
            creds = (self.account_sid, self.auth_token)
        if isinstance(creds, tuple):
            h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % creds).encode()).decode()
        elif isinstance(creds, str):
            h["Authorization"] = creds
        if isinstance(body, str):
            body = body.encode()
        c = http.client.HTTPConnection(LOOPBACK, self.api_port, timeout=10)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def get_uri(self, uri):
        """GET of a Twilio URI as found in a response (path + query)."""
        st, body = self.rest("GET", uri)
        return st, body


class RestResourcesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.logdir = os.path.join(harness.LOG_ROOT, "test_rest_resources")
        cls.stack = RestStack(cls.logdir)
        cls.seq = 0

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            for p in self.stack.procs.values():
                sys.stderr.write("---- tail of %s\n%s\n" % (p.log_path, p.tail(30)))
        return out

    # ------------------------------------------------------------- helpers
    @property
    def acct(self):
        return self.stack.account_sid

    def number(self):
        type(self).seq += 1
        return "+1628%07d" % (os.getpid() % 1000 * 1000 + self.seq)

    def rest(self, method, path, params=None):
        return self.stack.rest(method, path, params)

    def assertError(self, resp, http_status, code, msg_part=None):
        st, body = resp
        self.assertEqual(st, http_status, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body["code"], code, body)
        self.assertEqual(body["status"], http_status, body)
        self.assertEqual(body["more_info"], "https://www.twilio.com/docs/errors/%d" % code)
        self.assertTrue(body["message"])
        if msg_part:
            self.assertIn(msg_part, body["message"])

    def assertDate(self, value, near_ms=None, slack_ms=60000):
        self.assertRegex(value, RFC2822)
        if near_ms is not None:
            self.assertLess(abs(rfc2822_ms(value) - near_ms), slack_ms, value)

    def assertPage(self, body, key, path, page, size):
        self.assertEqual(set(body) - {key}, PAGE_KEYS, body.keys())
        self.assertEqual(body["page"], page)
        self.assertEqual(body["page_size"], size)
        self.assertEqual(body["start"], page * size)
        n = len(body[key])
        self.assertEqual(body["end"], page * size + n - 1 if n else page * size)
        base = "/2010-04-01/Accounts/%s/%s" % (self.acct, path)
        self.assertTrue(body["uri"].startswith(base + "?"), body["uri"])
        self.assertTrue(body["first_page_uri"].startswith(base + "?"))
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(body["first_page_uri"]).query)
        self.assertEqual(q["Page"], ["0"])
        self.assertEqual(q["PageSize"], [str(size)])
        if page == 0:
            self.assertIsNone(body["previous_page_uri"])

    def follow(self, first_path, key, params=None):
        """Lists every page from first_path; returns (pages, items)."""
        st, body = self.rest("GET", first_path, params)
        self.assertEqual(st, 200, body)
        pages = [body]
        while body["next_page_uri"]:
            self.assertLess(len(pages), 100, "paging does not end")
            st, body = self.stack.get_uri(body["next_page_uri"])
            self.assertEqual(st, 200, body)
            pages.append(body)
        return pages, [it for p in pages for it in p[key]]

    def redis_json(self, key):
        raw = self.stack.redis("GET", key)
        return json.loads(raw) if raw else None

    def write_call(self, csid, **fields):
        """A Call record as the engine writes it (store.md): hash of strings
        and its member in fc:calls:{acct} scored by date_created."""
        fields.setdefault("sid", csid)
        fields.setdefault("account_sid", self.acct)
        args = []
        for k, v in fields.items():
            args += [k, str(v)]
        self.stack.redis("HSET", "fc:call:" + csid, *args)
        self.stack.redis("ZADD", "fc:calls:" + self.acct, fields.get("date_created", 0), csid)

    # --------------------------------------------------------------- server
    def test_health(self):
        st, h, body = self.stack.http("GET", "/health", creds=None)
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("application/json"))
        self.assertEqual(json.loads(body), {"status": "ok", "redis": "ok"})

    def test_auth_failures(self):
        cases = [None, (self.acct, "wrong" * 6), (sid("AC"), self.stack.auth_token),
                 (self.acct, self.stack.auth_token + "x"), (self.acct, ""),
                 "Basic !!!notbase64", "Bearer " + self.stack.auth_token,
                 "Basic " + base64.b64encode(self.acct.encode()).decode()]
        for creds in cases:
            for path in ("IncomingPhoneNumbers.json", "Calls/%s.json" % sid("CA")):
                st, h, body = self.stack.http("GET", path, creds=creds)
                self.assertEqual(st, 401, (creds, body))
                self.assertEqual(h.get("www-authenticate"), 'Basic realm="Twilio API"')
                self.assertEqual(json.loads(body), {
                    "code": 20003, "message": "Authenticate",
                    "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})
        # A body sent without credentials is not accepted either.
        st, _, body = self.stack.http(
            "POST", "IncomingPhoneNumbers.json", body="PhoneNumber=%2B15005550006",
            headers={"Content-Type": "application/x-www-form-urlencoded"}, creds=None)
        self.assertEqual(st, 401)

    def test_other_account_is_not_found(self):
        other = sid("AC")
        for path in ("IncomingPhoneNumbers.json", "SIP/Domains.json", "Calls.json",
                     "Calls/%s.json" % sid("CA"), "Notifications.json"):
            full = "/2010-04-01/Accounts/%s/%s" % (other, path)
            st, _, body = self.stack.http("GET", full)
            self.assertError((st, json.loads(body)), 404, 20404, full)

    def test_unknown_paths_methods_and_suffix(self):
        st, h, body = self.stack.http("GET", "IncomingPhoneNumbers")
        self.assertEqual(st, 404)
        self.assertTrue(h["content-type"].startswith("application/xml"), h)
        self.assertIn(b"<Code>20404</Code>", body)
        self.assertIn(b"<Status>404</Status>", body)
        self.assertError(self.rest("GET", "Foo.json"), 404, 20404, "/Foo.json")
        self.assertError(self.rest("GET", "/nowhere"), 404, 20404)
        self.assertError(self.rest("GET", "IncomingPhoneNumbers/%s.json" % sid("CA")), 404, 20404)
        self.assertError(self.rest("GET", "IncomingPhoneNumbers/PNnothex.json"), 404, 20404)
        self.assertError(self.rest("PUT", "IncomingPhoneNumbers.json"), 405, 20004)
        self.assertError(self.rest("DELETE", "SIP/Domains.json"), 405, 20004)
        self.assertError(self.rest("POST", "Notifications.json"), 405, 20004)
        st, h, _ = self.stack.http("PATCH", "Calls.json")
        self.assertEqual(st, 405)
        self.assertIn("GET", h.get("allow", ""))

    def test_request_body_rules(self):
        p = "IncomingPhoneNumbers.json"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        st, _, body = self.stack.http("POST", p, body=json.dumps({"PhoneNumber": self.number()}),
                                      headers={"Content-Type": "application/json"})
        self.assertError((st, json.loads(body)), 400, 20001, "application/x-www-form-urlencoded")
        st, _, body = self.stack.http("POST", p, body="PhoneNumber=%ZZ", headers=form)
        self.assertError((st, json.loads(body)), 400, 20001)
        st, _, body = self.stack.http("POST", p, body=b"FriendlyName=%FF%FE&PhoneNumber=1",
                                      headers=form)
        self.assertError((st, json.loads(body)), 400, 20001, "UTF-8")
        st, _, body = self.stack.http("POST", p, body="PhoneNumber=%2B1&x=" + "a" * 70000,
                                      headers=form)
        self.assertError((st, json.loads(body)), 413, 20001)
        st, _, body = self.stack.http("GET", p + "?PhoneNumber=%GG")
        self.assertError((st, json.loads(body)), 400, 20001)
        # Content-Type parameters and case are fine.
        num = self.number()
        st, _, body = self.stack.http(
            "POST", p, body="PhoneNumber=" + urllib.parse.quote(num),
            headers={"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"})
        self.assertEqual(st, 201, body)
        self.assertEqual(json.loads(body)["phone_number"], num)

    def test_keep_alive_across_errors(self):
        c = http.client.HTTPConnection(LOOPBACK, self.stack.api_port, timeout=10)
        auth = "Basic " + base64.b64encode(
            ("%s:%s" % (self.acct, self.stack.auth_token)).encode()).decode()
        base = "/2010-04-01/Accounts/%s/" % self.acct
        try:
            for path, hdrs, want in [("Calls.json", {"Authorization": auth}, 200),
                                     ("Calls.json", {}, 401),
                                     ("Calls/%s.json" % sid("CA"), {"Authorization": auth}, 404),
                                     ("SIP/Domains.json", {"Authorization": auth}, 200)]:
                c.request("GET", base + path, headers=hdrs)
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, want, path)
        finally:
            c.close()

    # --------------------------------------------------------------- numbers
    def test_number_crud(self):
        num = self.number()
        t0 = int(time.time() * 1000)
        st, n = self.rest("POST", "IncomingPhoneNumbers.json", {
            "PhoneNumber": num, "VoiceUrl": "https://example.com/voice?a=1&b=2",
            "StatusCallback": "http://example.com/status"})
        self.assertEqual(st, 201, n)
        self.assertEqual(set(n), NUMBER_KEYS)
        self.assertRegex(n["sid"], r"^PN[0-9a-f]{32}$")
        pn = n["sid"]
        self.assertEqual(n["account_sid"], self.acct)
        self.assertEqual(n["phone_number"], num)
        self.assertEqual(n["friendly_name"], "(%s) %s-%s" % (num[2:5], num[5:8], num[8:]))
        self.assertEqual(n["voice_url"], "https://example.com/voice?a=1&b=2")
        self.assertEqual(n["voice_method"], "POST")
        self.assertIsNone(n["voice_fallback_url"])
        self.assertEqual(n["voice_fallback_method"], "POST")
        self.assertEqual(n["status_callback"], "http://example.com/status")
        self.assertEqual(n["status_callback_method"], "POST")
        self.assertEqual(n["api_version"], "2010-04-01")
        self.assertEqual(n["capabilities"], {"voice": True, "sms": False, "mms": False,
                                             "fax": False})
        self.assertIs(n["beta"], False)
        self.assertIs(n["voice_caller_id_lookup"], False)
        self.assertEqual(n["address_requirements"], "none")
        self.assertEqual(n["origin"], "fulcrum")
        self.assertEqual(n["status"], "in-use")
        self.assertEqual(n["emergency_status"], "Inactive")
        for k in ("identity_sid", "trunk_sid", "bundle_sid", "sms_url", "address_sid"):
            self.assertIsNone(n[k], k)
        self.assertEqual(n["sms_method"], "POST")
        uri = "/2010-04-01/Accounts/%s/IncomingPhoneNumbers/%s.json" % (self.acct, pn)
        self.assertEqual(n["uri"], uri)
        self.assertEqual(n["subresource_uris"], {
            "assigned_add_ons": uri[:-5] + "/AssignedAddOns.json"})
        self.assertDate(n["date_created"], t0)
        self.assertEqual(n["date_created"], n["date_updated"])

        # The store, as doc/store.md says (the call engine reads it).
        doc = self.redis_json("fc:pn:" + pn)
        self.assertEqual(doc["sid"], pn)
        self.assertEqual(doc["account_sid"], self.acct)
        self.assertEqual(doc["phone_number"], num)
        self.assertEqual(doc["voice_url"], "https://example.com/voice?a=1&b=2")
        self.assertEqual(doc["voice_method"], "POST")
        self.assertLess(abs(int(doc["date_created"]) - t0), 60000)
        self.assertEqual(self.stack.redis("HGET", "fc:pnidx:" + self.acct, num), pn)
        self.assertNotEqual(self.stack.redis("ZSCORE", "fc:pns:" + self.acct, pn), "")

        st, f = self.rest("GET", "IncomingPhoneNumbers/%s.json" % pn)
        self.assertEqual(st, 200)
        self.assertEqual(f, n)

        time.sleep(1.1)
        st, u = self.rest("POST", "IncomingPhoneNumbers/%s.json" % pn, {
            "VoiceUrl": "http://example.org/v2", "VoiceMethod": "get", "FriendlyName": "Front desk",
            "VoiceFallbackUrl": "https://example.org/fb", "VoiceFallbackMethod": "GET",
            "StatusCallback": ""})
        self.assertEqual(st, 200, u)
        self.assertEqual(u["voice_url"], "http://example.org/v2")
        self.assertEqual(u["voice_method"], "GET")
        self.assertEqual(u["voice_fallback_url"], "https://example.org/fb")
        self.assertEqual(u["voice_fallback_method"], "GET")
        self.assertEqual(u["friendly_name"], "Front desk")
        self.assertEqual(u["status_callback"], "")
        self.assertEqual(u["date_created"], n["date_created"])
        self.assertGreater(rfc2822_ms(u["date_updated"]), rfc2822_ms(u["date_created"]))
        doc = self.redis_json("fc:pn:" + pn)
        self.assertEqual(doc["voice_method"], "GET")
        self.assertIsNone(doc["status_callback"])
        # An empty FriendlyName brings the default back; others are untouched.
        st, u2 = self.rest("POST", "IncomingPhoneNumbers/%s.json" % pn, {"FriendlyName": ""})
        self.assertEqual(st, 200)
        self.assertEqual(u2["friendly_name"], n["friendly_name"])
        self.assertEqual(u2["voice_url"], "http://example.org/v2")

        st, lst = self.rest("GET", "IncomingPhoneNumbers.json", {"PhoneNumber": num})
        self.assertEqual(st, 200)
        self.assertEqual([x["sid"] for x in lst["incoming_phone_numbers"]], [pn])

        st, body = self.rest("DELETE", "IncomingPhoneNumbers/%s.json" % pn)
        self.assertEqual((st, body), (204, None))
        self.assertError(self.rest("GET", "IncomingPhoneNumbers/%s.json" % pn), 404, 20404,
                         "/IncomingPhoneNumbers/%s.json" % pn)
        self.assertError(self.rest("DELETE", "IncomingPhoneNumbers/%s.json" % pn), 404, 20404)
        self.assertError(self.rest("POST", "IncomingPhoneNumbers/%s.json" % pn,
                                   {"FriendlyName": "x"}), 404, 20404)
        self.assertEqual(self.stack.redis("EXISTS", "fc:pn:" + pn), "0")
        self.assertEqual(self.stack.redis("HGET", "fc:pnidx:" + self.acct, num), "")
        self.assertEqual(self.stack.redis("ZSCORE", "fc:pns:" + self.acct, pn), "")
        # The number can be created again.
        st, again = self.rest("POST", "IncomingPhoneNumbers.json", {"PhoneNumber": num})
        self.assertEqual(st, 201)
        self.assertNotEqual(again["sid"], pn)

    def test_number_normalisation_and_validation(self):
        base = self.number()
        st, n = self.rest("POST", "IncomingPhoneNumbers.json", {
            "PhoneNumber": "+1 (%s) %s-%s" % (base[2:5], base[5:8], base[8:])})
        self.assertEqual(st, 201, n)
        self.assertEqual(n["phone_number"], base)
        st, uk = self.rest("POST", "IncomingPhoneNumbers.json", {"PhoneNumber": "+442071838750"})
        self.assertIn(st, (201, 400))
        if st == 201:
            self.assertEqual(uk["friendly_name"], "+442071838750")
        p = "IncomingPhoneNumbers.json"
        self.assertError(self.rest("POST", p, {"PhoneNumber": base}), 400, 21422, base)
        self.assertError(self.rest("POST", p, {}), 400, 20001, "PhoneNumber")
        self.assertError(self.rest("POST", p, {"PhoneNumber": ""}), 400, 20001, "PhoneNumber")
        for bad in ("abc", "+", "+0123456", "+1234567890123456789", "sip:alice@example.com"):
            self.assertError(self.rest("POST", p, {"PhoneNumber": bad}), 400, 21421)
        num = self.number()
        for field in ("VoiceUrl", "VoiceFallbackUrl", "StatusCallback"):
            for bad in ("ftp://example.com/x", "example.com/voice", "http://", "http://a b/"):
                self.assertError(self.rest("POST", p, {"PhoneNumber": num, field: bad}), 400,
                                 21205, field)
        for field in ("VoiceMethod", "VoiceFallbackMethod", "StatusCallbackMethod"):
            self.assertError(self.rest("POST", p, {"PhoneNumber": num, field: "PUT"}), 400,
                             20001, field)
        self.assertError(self.rest("POST", p, {"PhoneNumber": num, "FriendlyName": "x" * 65}),
                         400, 20002)
        st, ok = self.rest("POST", p, {"PhoneNumber": num, "FriendlyName": "é" * 64})
        self.assertEqual(st, 201, ok)
        self.assertEqual(ok["friendly_name"], "é" * 64)
        # Invalid updates change nothing.
        path = "IncomingPhoneNumbers/%s.json" % ok["sid"]
        self.assertError(self.rest("POST", path, {"VoiceUrl": "nope", "FriendlyName": "z"}), 400,
                         21205)
        self.assertEqual(self.rest("GET", path)[1]["friendly_name"], "é" * 64)

    def test_number_paging_over_120(self):
        prefix = "+1639%03d" % (os.getpid() % 1000)
        created = []
        for i in range(120):
            st, n = self.rest("POST", "IncomingPhoneNumbers.json",
                              {"PhoneNumber": "%s%04d" % (prefix, i), "FriendlyName": "pg%d" % i})
            self.assertEqual(st, 201, n)
            created.append(n["sid"])
        pages, items = self.follow("IncomingPhoneNumbers.json", "incoming_phone_numbers",
                                   {"PhoneNumber": prefix, "PageSize": 50})
        self.assertEqual([len(p["incoming_phone_numbers"]) for p in pages], [50, 50, 20])
        # Creation order: by creation ms, then SID within one millisecond.
        mine = set(created)
        created = [s for s in self.stack.redis("ZRANGE", "fc:pns:" + self.acct, 0, -1).split()
                   if s in mine]
        self.assertEqual([x["sid"] for x in items], created)
        for i, p in enumerate(pages):
            self.assertPage(p, "incoming_phone_numbers", "IncomingPhoneNumbers.json", i, 50)
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(p["uri"]).query)
            self.assertEqual(q["PhoneNumber"], [prefix])
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(pages[0]["next_page_uri"]).query)
        self.assertEqual(q["Page"], ["1"])
        self.assertEqual(q["PageToken"], ["PA" + created[49]])
        self.assertEqual(q["PhoneNumber"], [prefix])
        # Back from page 2 to page 1.
        st, back = self.stack.get_uri(pages[2]["previous_page_uri"])
        self.assertEqual(st, 200)
        self.assertEqual([x["sid"] for x in back["incoming_phone_numbers"]], created[50:100])
        self.assertEqual(back["page"], 1)
        # Page numbers without tokens reach the same items.
        st, p2 = self.rest("GET", "IncomingPhoneNumbers.json",
                           {"PhoneNumber": prefix, "PageSize": 50, "Page": 2})
        self.assertEqual([x["sid"] for x in p2["incoming_phone_numbers"]], created[100:])
        self.assertIsNone(p2["next_page_uri"])
        # Small pages over the whole (unfiltered) account.
        total = int(self.stack.redis("ZCARD", "fc:pns:" + self.acct))
        pages, items = self.follow("IncomingPhoneNumbers.json", "incoming_phone_numbers",
                                   {"PageSize": 7})
        self.assertEqual(len(items), total)
        self.assertEqual(len(set(x["sid"] for x in items)), total)
        self.assertEqual(len(pages), (total + 6) // 7)
        # Filters: wildcard digits, FriendlyName exact.
        st, w = self.rest("GET", "IncomingPhoneNumbers.json",
                          {"PhoneNumber": prefix[:-1] + "*" + "01**"})
        self.assertEqual(sorted(x["phone_number"] for x in w["incoming_phone_numbers"]),
                         ["%s%04d" % (prefix, i) for i in range(100, 120)])
        seventh = self.rest("GET", "IncomingPhoneNumbers.json",
                            {"PhoneNumber": prefix + "0007"})[1]["incoming_phone_numbers"]
        st, fnl = self.rest("GET", "IncomingPhoneNumbers.json", {"FriendlyName": "pg7"})
        self.assertEqual([x["sid"] for x in fnl["incoming_phone_numbers"]],
                         [x["sid"] for x in seventh])
        self.assertEqual(seventh[0]["friendly_name"], "pg7")
        # Page size limits and bad paging parameters.
        st, big = self.rest("GET", "IncomingPhoneNumbers.json", {"PageSize": 5000})
        self.assertEqual(big["page_size"], 1000)
        for bad in ({"PageSize": 0}, {"PageSize": "x"}, {"Page": "-1"}, {"PageToken": "zz"}):
            self.assertError(self.rest("GET", "IncomingPhoneNumbers.json", bad), 400, 20001)
        for s in created:
            self.assertEqual(self.rest("DELETE", "IncomingPhoneNumbers/%s.json" % s)[0], 204)

    # --------------------------------------------------------------- domains
    def test_domain_crud(self):
        name = "Office-%d.Example.COM" % os.getpid()
        low = name.lower()
        t0 = int(time.time() * 1000)
        st, d = self.rest("POST", "SIP/Domains.json", {
            "DomainName": name, "FriendlyName": "Office", "VoiceUrl": "https://example.com/sip",
            "VoiceStatusCallbackUrl": "https://example.com/st", "VoiceStatusCallbackMethod": "GET"})
        self.assertEqual(st, 201, d)
        self.assertEqual(set(d), DOMAIN_KEYS)
        sd = d["sid"]
        self.assertRegex(sd, r"^SD[0-9a-f]{32}$")
        self.assertEqual(d["domain_name"], low)
        self.assertEqual(d["friendly_name"], "Office")
        self.assertEqual(d["voice_url"], "https://example.com/sip")
        self.assertEqual(d["voice_method"], "POST")
        self.assertIsNone(d["voice_fallback_url"])
        self.assertEqual(d["voice_status_callback_url"], "https://example.com/st")
        self.assertEqual(d["voice_status_callback_method"], "GET")
        self.assertEqual(d["auth_type"], "")
        self.assertEqual(d["api_version"], "2010-04-01")
        for k in ("sip_registration", "emergency_calling_enabled", "secure"):
            self.assertIs(d[k], False)
        self.assertIsNone(d["byoc_trunk_sid"])
        self.assertIsNone(d["emergency_caller_sid"])
        uri = "/2010-04-01/Accounts/%s/SIP/Domains/%s.json" % (self.acct, sd)
        self.assertEqual(d["uri"], uri)
        self.assertEqual(d["subresource_uris"]["credential_list_mappings"],
                         uri[:-5] + "/CredentialListMappings.json")
        self.assertEqual(d["subresource_uris"]["ip_access_control_list_mappings"],
                         uri[:-5] + "/IpAccessControlListMappings.json")
        self.assertIn("auth_calls_credential_list_mappings", d["subresource_uris"])
        self.assertDate(d["date_created"], t0)

        doc = self.redis_json("fc:sd:" + sd)
        self.assertEqual(doc["domain_name"], low)
        self.assertEqual(doc["voice_status_callback_url"], "https://example.com/st")
        self.assertEqual(self.stack.redis("HGET", "fc:sdidx:" + self.acct, low), sd)

        self.assertEqual(self.rest("GET", "SIP/Domains/%s.json" % sd), (200, d))
        self.assertError(self.rest("POST", "SIP/Domains.json", {"DomainName": low.upper()}), 400,
                         21231, low)

        renamed = "pbx-%d.example.net" % os.getpid()
        st, u = self.rest("POST", "SIP/Domains/%s.json" % sd, {
            "DomainName": renamed, "VoiceUrl": "http://example.net/v", "VoiceMethod": "GET",
            "VoiceFallbackUrl": "http://example.net/fb"})
        self.assertEqual(st, 200, u)
        self.assertEqual(u["domain_name"], renamed)
        self.assertEqual(u["voice_method"], "GET")
        self.assertEqual(u["voice_fallback_url"], "http://example.net/fb")
        self.assertEqual(u["friendly_name"], "Office")
        self.assertEqual(self.stack.redis("HGET", "fc:sdidx:" + self.acct, renamed), sd)
        self.assertEqual(self.stack.redis("HGET", "fc:sdidx:" + self.acct, low), "")
        # Renaming onto another domain's name is refused.
        st, other = self.rest("POST", "SIP/Domains.json", {"DomainName": low})
        self.assertEqual(st, 201)
        self.assertError(self.rest("POST", "SIP/Domains/%s.json" % sd, {"DomainName": low}), 400,
                         21231)
        st, lst = self.rest("GET", "SIP/Domains.json")
        self.assertEqual(st, 200)
        self.assertPage(lst, "domains", "SIP/Domains.json", 0, 50)
        sids = [x["sid"] for x in lst["domains"]]
        self.assertIn(sd, sids)
        self.assertLess(sids.index(sd), sids.index(other["sid"]))

        for s in (sd, other["sid"]):
            self.assertEqual(self.rest("DELETE", "SIP/Domains/%s.json" % s), (204, None))
            self.assertError(self.rest("GET", "SIP/Domains/%s.json" % s), 404, 20404)
        self.assertEqual(self.stack.redis("HGET", "fc:sdidx:" + self.acct, renamed), "")
        self.assertEqual(self.stack.redis("ZSCORE", "fc:sds:" + self.acct, sd), "")

    def test_domain_validation(self):
        p = "SIP/Domains.json"
        self.assertError(self.rest("POST", p, {"VoiceUrl": "https://example.com"}), 400, 20001,
                         "DomainName")
        for bad in ("", "-a.example.com", "a-.example.com", "a..b", "under_score.example.com",
                    "x" * 64 + ".example.com", "sip:a.example.com", "a.example.com.",
                    ("a" * 60 + ".") * 5):
            self.assertError(self.rest("POST", p, {"DomainName": bad}), 400, 21231)
        self.assertError(self.rest("POST", p, {"DomainName": "ok.example.org", "VoiceUrl": "x"}),
                         400, 21205)
        self.assertError(self.rest("POST", p, {"DomainName": "ok.example.org",
                                               "VoiceStatusCallbackMethod": "DELETE"}), 400, 20001)
        self.assertEqual(self.stack.redis("HGET", "fc:sdidx:" + self.acct, "ok.example.org"), "")

    # ----------------------------------------------------------------- calls
    def test_call_record_rendered(self):
        csid, parent, pn = sid("CA"), sid("CA"), sid("PN")
        created = 1700000000123
        self.write_call(csid, parent_call_sid=parent, to="+14155550100",
                        to_formatted="(415) 555-0100", **{"from": "+14155550199"},
                        from_formatted="(415) 555-0199", phone_number_sid=pn, status="completed",
                        direction="inbound", api_version="2010-04-01", forwarded_from="+14155550111",
                        caller_name="Alice", date_created=created, date_updated=created + 65000,
                        start_time=created + 1000, answer_time=created + 3000,
                        end_time=created + 65000, duration="62", queue_time="0",
                        sip_call_id="abc@host", proxy="p1", annotation="tag")
        st, c = self.rest("GET", "Calls/%s.json" % csid)
        self.assertEqual(st, 200, c)
        self.assertEqual(set(c), CALL_KEYS)
        self.assertEqual(c["sid"], csid)
        self.assertEqual(c["account_sid"], self.acct)
        self.assertEqual(c["parent_call_sid"], parent)
        self.assertEqual(c["to"], "+14155550100")
        self.assertEqual(c["to_formatted"], "(415) 555-0100")
        self.assertEqual(c["from"], "+14155550199")
        self.assertEqual(c["from_formatted"], "(415) 555-0199")
        self.assertEqual(c["phone_number_sid"], pn)
        self.assertEqual(c["status"], "completed")
        self.assertEqual(c["direction"], "inbound")
        self.assertEqual(c["forwarded_from"], "+14155550111")
        self.assertEqual(c["caller_name"], "Alice")
        self.assertEqual(c["annotation"], "tag")
        self.assertEqual(c["duration"], "62")
        self.assertEqual(c["queue_time"], "0")
        self.assertEqual(c["date_created"], "Tue, 14 Nov 2023 22:13:20 +0000")
        self.assertEqual(c["start_time"], "Tue, 14 Nov 2023 22:13:21 +0000")
        self.assertEqual(c["end_time"], "Tue, 14 Nov 2023 22:14:25 +0000")
        self.assertEqual(c["date_updated"], "Tue, 14 Nov 2023 22:14:25 +0000")
        self.assertEqual(c["api_version"], "2010-04-01")
        self.assertEqual(c["price_unit"], "USD")
        for k in ("price", "answered_by", "group_sid", "trunk_sid"):
            self.assertIsNone(c[k], k)
        uri = "/2010-04-01/Accounts/%s/Calls/%s.json" % (self.acct, csid)
        self.assertEqual(c["uri"], uri)
        self.assertEqual(c["subresource_uris"], {
            k: "%s/%s.json" % (uri[:-5], v) for k, v in CALL_SUBRESOURCES.items()})

        # A ringing call: what is not known yet is null.
        ring = sid("CA")
        self.write_call(ring, status="ringing", direction="inbound", to="+14155550100",
                        **{"from": "sip:bob@example.com"}, date_created=created + 5,
                        date_updated=created + 5, start_time="", caller_name="")
        st, r = self.rest("GET", "Calls/%s.json" % ring)
        self.assertEqual(st, 200, r)
        self.assertEqual(set(r), CALL_KEYS)
        for k in ("parent_call_sid", "to_formatted", "phone_number_sid", "start_time", "end_time",
                  "duration", "forwarded_from", "caller_name", "queue_time", "annotation"):
            self.assertIsNone(r[k], k)
        self.assertEqual(r["from"], "sip:bob@example.com")
        self.assertEqual(r["api_version"], "2010-04-01")

        # Invalid UTF-8 written by someone else is rendered, not fatal.
        odd = sid("CA")
        self.write_call(odd, status="completed", date_created=created + 9)
        subprocess_redis_raw(self.stack.redis_port, "HSET", "fc:call:" + odd, "caller_name",
                             b"\xff\xfeBob")
        st, o = self.rest("GET", "Calls/%s.json" % odd)
        self.assertEqual(st, 200, o)
        self.assertTrue(o["caller_name"].endswith("Bob"))

        self.assertError(self.rest("GET", "Calls/%s.json" % sid("CA")), 404, 20404)
        # A record of another account (never expected, but never shown).
        alien = sid("CA")
        self.stack.redis("HSET", "fc:call:" + alien, "sid", alien, "account_sid", sid("AC"))
        self.assertError(self.rest("GET", "Calls/%s.json" % alien), 404, 20404)

    def test_call_list_filters_and_paging(self):
        day = 1700006400000  # 2023-11-15 00:00:00 UTC
        tag = "+1720%07d" % (os.getpid() % 10000000)
        calls = []
        for i in range(6):
            csid = sid("CA")
            fields = dict(to=tag, status="completed" if i % 2 == 0 else "busy",
                          direction="inbound", date_created=day + i * DAY_MS + 100,
                          date_updated=day + i * DAY_MS + 100, start_time=day + i * DAY_MS + 200,
                          end_time=day + i * DAY_MS + 5000, duration="5")
            fields["from"] = "+1720555%04d" % i
            if i == 5:
                fields["parent_call_sid"] = calls[0]
            self.write_call(csid, **fields)
            calls.append(csid)
        newest_first = list(reversed(calls))

        def listed(**params):
            params.setdefault("To", tag)
            st, body = self.rest("GET", "Calls.json", params)
            self.assertEqual(st, 200, body)
            return [c["sid"] for c in body["calls"]]

        self.assertEqual(listed(), newest_first)
        self.assertEqual(listed(To=tag[:2] + " " + tag[2:]), newest_first)  # same E.164
        self.assertEqual(listed(Status="busy"), [calls[5], calls[3], calls[1]])
        self.assertEqual(listed(From="+17205550002"), [calls[2]])
        self.assertEqual(listed(ParentCallSid=calls[0]), [calls[5]])
        self.assertEqual(listed(StartTime="2023-11-17"), [calls[2]])
        self.assertEqual(listed(**{"StartTime>": "2023-11-18"}), [calls[5], calls[4], calls[3]])
        # StartTime<=D and >=D compare with midnight of D (Twilio's wording).
        self.assertEqual(listed(**{"StartTime<": "2023-11-16"}), [calls[0]])
        self.assertEqual(listed(**{"StartTime<": "2023-11-16T00:00:00.200Z"}),
                         [calls[1], calls[0]])
        self.assertEqual(listed(**{"StartTime>": "2023-11-16", "StartTime<": "2023-11-17"}),
                         [calls[1]])
        self.assertEqual(listed(**{"EndTime<": "2023-11-15T00:00:05Z"}), [calls[0]])
        self.assertEqual(listed(**{"EndTime>": "2023-11-20T00:00:04Z"}), [calls[5]])
        self.assertEqual(listed(EndTime="2023-11-20"), [calls[5]])
        self.assertError(self.rest("GET", "Calls.json", {"StartTime": "yesterday"}), 400, 20001,
                         "StartTime")
        self.assertError(self.rest("GET", "Calls.json", {"EndTime>": "2023-13-01"}), 400, 20001)

        pages, items = self.follow("Calls.json", "calls", {"To": tag, "PageSize": 4})
        self.assertEqual([len(p["calls"]) for p in pages], [4, 2])
        self.assertEqual([c["sid"] for c in items], newest_first)
        self.assertPage(pages[1], "calls", "Calls.json", 1, 4)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(pages[0]["next_page_uri"]).query)
        self.assertEqual(q["PageToken"], ["PA" + newest_first[3]])
        self.assertEqual(q["To"], [tag])
        # Operator names survive in page URIs (Twilio writes StartTime%3E=…).
        st, b = self.rest("GET", "Calls.json", {"To": tag, "StartTime>": "2023-11-15",
                                                "PageSize": 1})
        self.assertIn("StartTime%3E=2023-11-15", b["next_page_uri"])
        st, b2 = self.stack.get_uri(b["next_page_uri"])
        self.assertEqual([c["sid"] for c in b2["calls"]], [newest_first[1]])
        # A record whose hash expired (retention) is skipped; its member stays.
        self.stack.redis("DEL", "fc:call:" + calls[4])
        self.assertEqual(listed(), [c for c in newest_first if c != calls[4]])

    def test_call_delete_create_update(self):
        done, live = sid("CA"), sid("CA")
        self.write_call(done, status="completed", date_created=1700000000000)
        self.write_call(live, status="in-progress", date_created=1700000000001)
        self.assertError(self.rest("DELETE", "Calls/%s.json" % live), 400, 20009, live)
        self.assertEqual(self.stack.redis("EXISTS", "fc:call:" + live), "1")
        self.stack.redis("HSET", "fc:call:" + live, "status", "completed")
        self.stack.redis("HSET", "fc:live:" + live, "state", "answered")
        self.assertError(self.rest("DELETE", "Calls/%s.json" % live), 400, 20009)
        self.assertEqual(self.rest("DELETE", "Calls/%s.json" % done), (204, None))
        self.assertEqual(self.stack.redis("EXISTS", "fc:call:" + done), "0")
        self.assertEqual(self.stack.redis("ZSCORE", "fc:calls:" + self.acct, done), "")
        self.assertError(self.rest("GET", "Calls/%s.json" % done), 404, 20404)
        self.assertError(self.rest("DELETE", "Calls/%s.json" % done), 404, 20404)
        self.assertError(self.rest("POST", "Calls.json", {"To": "+14155550100",
                                                          "From": "+14155550101",
                                                          "Url": "https://example.com"}),
                         400, 21215, "trunk")  # this stack has no PSTN trunk
        # an ended call cannot be changed (live updates: test_rest_calls_update.py)
        self.assertError(self.rest("POST", "Calls/%s.json" % live, {"Status": "completed"}), 400,
                         21220)
        self.assertError(self.rest("POST", "Calls/%s.json" % sid("CA"), {"Status": "completed"}),
                         404, 20404)

    # --------------------------------------------------------- notifications
    def write_notif(self, call, created, code=11200, log=0, **extra):
        nsid = sid("NO")
        doc = {"sid": nsid, "account_sid": self.acct, "call_sid": call, "error_code": code,
               "log": log, "message_text": "ErrorCode=%d&msg=HTTP+retrieval+failure&url="
                                           "https%%3A%%2F%%2Fexample.com%%2Fv" % code,
               "more_info": "https://www.twilio.com/docs/errors/%d" % code,
               "request_url": "https://example.com/v", "request_method": "POST",
               "request_variables": "CallSid=%s&To=%%2B14155550100" % call,
               "response_body": "<html>oops</html>", "response_headers": "",
               "date_created": created}
        doc.update(extra)
        self.stack.redis("SET", "fc:notif:" + nsid, json.dumps(doc))
        self.stack.redis("ZADD", "fc:notifs:" + self.acct, created, nsid)
        if call:
            self.stack.redis("ZADD", "fc:callnotifs:" + call, created, nsid)
        return nsid

    def test_notifications_rendered(self):
        call, other = sid("CA"), sid("CA")
        t = 1700000000000
        n1 = self.write_notif(call, t)
        n2 = self.write_notif(call, t + DAY_MS, code=21609, log=1, date_created=str(t + DAY_MS))
        n3 = self.write_notif(other, t + 2 * DAY_MS)
        st, f = self.rest("GET", "Notifications/%s.json" % n1)
        self.assertEqual(st, 200, f)
        self.assertEqual(set(f), NOTIF_KEYS)
        self.assertEqual(f["sid"], n1)
        self.assertEqual(f["account_sid"], self.acct)
        self.assertEqual(f["call_sid"], call)
        self.assertEqual(f["error_code"], "11200")
        self.assertEqual(f["log"], "0")
        self.assertEqual(f["api_version"], "2010-04-01")
        self.assertEqual(f["date_created"], "Tue, 14 Nov 2023 22:13:20 +0000")
        self.assertEqual(f["message_date"], f["date_created"])
        self.assertEqual(f["date_updated"], f["date_created"])
        self.assertEqual(f["more_info"], "https://www.twilio.com/docs/errors/11200")
        self.assertEqual(f["request_url"], "https://example.com/v")
        self.assertEqual(f["request_method"], "POST")
        self.assertEqual(f["response_body"], "<html>oops</html>")
        self.assertTrue(f["message_text"].startswith("ErrorCode=11200"))
        self.assertEqual(f["uri"], "/2010-04-01/Accounts/%s/Notifications/%s.json" % (self.acct,
                                                                                       n1))
        st, fc = self.rest("GET", "Calls/%s/Notifications/%s.json" % (call, n1))
        self.assertEqual(st, 200)
        self.assertEqual(fc["uri"], "/2010-04-01/Accounts/%s/Calls/%s/Notifications/%s.json" % (
            self.acct, call, n1))
        self.assertError(self.rest("GET", "Calls/%s/Notifications/%s.json" % (other, n1)), 404,
                         20404)
        self.assertError(self.rest("GET", "Notifications/%s.json" % sid("NO")), 404, 20404)

        st, lst = self.rest("GET", "Calls/%s/Notifications.json" % call)
        self.assertEqual(st, 200, lst)
        self.assertPage(lst, "notifications", "Calls/%s/Notifications.json" % call, 0, 50)
        self.assertEqual([x["sid"] for x in lst["notifications"]], [n2, n1])  # newest first
        item = lst["notifications"][0]
        self.assertEqual(item["error_code"], "21609")
        self.assertEqual(item["log"], "1")
        self.assertNotIn("response_body", item)  # as Twilio: fetch only
        st, alln = self.rest("GET", "Notifications.json", {"PageSize": 1000})
        sids = [x["sid"] for x in alln["notifications"]]
        self.assertEqual([s for s in sids if s in (n1, n2, n3)], [n3, n2, n1])
        st, warn = self.rest("GET", "Notifications.json", {"Log": "1", "PageSize": 1000})
        self.assertIn(n2, [x["sid"] for x in warn["notifications"]])
        self.assertNotIn(n1, [x["sid"] for x in warn["notifications"]])
        st, dated = self.rest("GET", "Calls/%s/Notifications.json" % call,
                              {"MessageDate": "2023-11-15"})
        self.assertEqual([x["sid"] for x in dated["notifications"]], [n2])
        self.assertError(self.rest("GET", "Notifications.json", {"Log": "2"}), 400, 20001)

    # ---------------------------------------------------------- Redis outage
    def test_zz_redis_outage_and_recovery(self):
        """Runs last (name order): stops Redis, checks the 500s, restarts it."""
        self.stack.procs.pop("redis").stop()
        st, h, body = self.stack.http("GET", "/health", creds=None)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body), {"status": "ok", "redis": "down"})
        for method, path, params in [("GET", "Calls.json", None),
                                     ("GET", "IncomingPhoneNumbers/%s.json" % sid("PN"), None),
                                     ("POST", "IncomingPhoneNumbers.json",
                                      {"PhoneNumber": self.number()}),
                                     ("POST", "SIP/Domains.json", {"DomainName": "x.example"})]:
            self.assertError(self.rest(method, path, params), 500, 20500)
        self.assertTrue(self.stack.procs["callctl"].alive())
        self.stack.start_redis()
        # Every API thread reconnects on its next request, without a failure.
        for _ in range(12):
            st, body = self.rest("GET", "Calls.json")
            self.assertEqual(st, 200, body)
        st, h, body = self.stack.http("GET", "/health", creds=None)
        self.assertEqual(json.loads(body)["redis"], "ok")


def subprocess_redis_raw(port, *args):
    """Sends one command with binary-safe arguments (RESP) to Redis."""
    import socket
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    msg = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    with socket.create_connection((LOOPBACK, port), timeout=5) as s:
        s.sendall(msg)
        return s.recv(4096)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    unittest.main(verbosity=2)
