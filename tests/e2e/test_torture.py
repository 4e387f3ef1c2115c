"""Fulcrum's SIP torture suite: RFC 4475 section 3 and RFC 5118 section 4.

Every message of tests/e2e/torture/*.sip (the RFCs' messages under their RFC
names, plus INVITE variants named <name>-inv / wsinv-notag, see README.md
there) is sent with sipraw over UDP and over TCP, each from a socket of its
own, and its answer is checked against CASES: the exact final status or no
answer at all, the headers that status needs (Allow, Unsupported, Accept,
Warning), and whether the number's webhook was fetched (an INVITE that is
processed reaches <Reject reason="busy"/> → 486; one that must be refused
never reaches the webhook). The exchanges run in parallel once per class;
each (message, transport) is its own test. Then: percent-escaped Request-URI
users, a folded header in SipHeader_*, SDP Fulcrum cannot answer (488),
oversized messages (513), a stray response that must not be relayed, and at
the end every process of the stack alive and still answering.
"""
import concurrent.futures
import os
import re
import secrets
import threading
import time
import unittest

from harness import LOOPBACK, TWIML_BUSY, FulcrumTestCase, tail_file, wait_until
from sipraw import Client, listen_udp

TORTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torture")

SILENT_WINDOW = 1.5  # how long "no answer" is waited for
ANSWER_TIMEOUT = 4.0  # how long an expected answer may take
PARALLEL = 8

BUSY = "busy"  # processed: the webhook is fetched, its <Reject reason="busy"/> gives 486
SILENT = "silent"  # no answer at all (dropped)
SKIP = "skip"  # not sent on this transport

SDP = ("v=0\n"
       "o=- 1 1 IN IP4 127.0.0.1\n"
       "s=-\n"
       "c=IN IP4 127.0.0.1\n"
       "t=0 0\n"
       "m=audio 40000 RTP/AVP 0 101\n"
       "a=rtpmap:0 PCMU/8000\n"
       "a=rtpmap:101 telephone-event/8000\n")


class Case:
    """One message and what Fulcrum must answer to it on each transport.
    udp/tcp: a status code, BUSY, SILENT or SKIP. needs: header -> tokens
    that must be among its values (beyond the defaults of the code). only:
    that final answer is the only message that comes back, within linger
    seconds after it. gap: why Fulcrum does not answer as it should yet (the
    test is an expected failure, and turns red once it does)."""

    # Headers a status code implies (RFC 3261 21.4.6, 21.4.13, 21.4.16; 488 carries why)
    CODE_NEEDS = {405: {"Allow": ["INVITE"]}, 415: {"Accept": ["application/sdp"]},
                  420: {"Unsupported": []}, 488: {"Warning": []}}

    def __init__(self, name, udp, tcp=None, needs=None, only=False, gap=None):
        self.name = name
        self.gap = gap
        self.expect = {"udp": udp, "tcp": udp if tcp is None else tcp}
        self.needs = dict(needs or {})
        self.only = only
        self.linger = SILENT_WINDOW if only else 0.0

    @property
    def transports(self):
        return [t for t in ("udp", "tcp") if self.expect[t] != SKIP]

    def needs_for(self, code):
        out = dict(self.CODE_NEEDS.get(code, {}))
        out.update(self.needs)
        return out


# The expectations table (README.md in tests/e2e/torture/ explains each row).
CASES = [
    # RFC 4475 3.1.1: valid messages
    Case("wsinv", 481, gap="Kamailio 5.6's core parser refuses this valid message: no answer"),  # its To has a tag: a dialog Fulcrum does not have
    Case("wsinv-notag", BUSY, gap="Kamailio 5.6's core parser refuses this valid message: no answer"),
    Case("intmeth", 405, gap="Kamailio 5.6's core parser refuses this valid message: no answer"),
    Case("intmeth-inv", BUSY, gap="Kamailio 5.6's core parser refuses this valid message: no answer"),
    Case("esc01", BUSY),  # R-URI user: the number, percent-escaped
    Case("escnull", 405),  # a REGISTER
    Case("escnull-inv", 404),  # null-%00-null is nobody's number
    Case("esc02", 405, gap="Kamailio 5.6's core parser refuses this valid message: no answer"),  # RE%47IST%45R is an unknown method, not REGISTER
    Case("esc02-inv", BUSY, gap="Kamailio 5.6's core parser refuses this valid message: no answer"),
    Case("lwsdisp", 200),
    Case("lwsdisp-inv", BUSY),
    Case("longreq", BUSY),
    Case("dblreq", 405, tcp=SKIP, only=True),  # the REGISTER is answered, the INVITE ignored
    Case("semiuri", 200),
    Case("semiuri-inv", BUSY),
    Case("transports", 200),
    Case("transports-inv", BUSY),
    Case("mpart01", 405),  # a MESSAGE
    Case("mpart01-inv", BUSY),
    Case("unreason", SILENT),  # responses matching nothing
    Case("noreason", SILENT),
    # RFC 4475 3.1.2: invalid messages (400 or dropped, as Fulcrum does it)
    Case("badinv01", SILENT),
    Case("clerr", 400, tcp=SILENT),  # TCP: waits for the 9999 octets announced
    Case("ncl", SILENT),
    Case("scalar02", 400),
    Case("scalarlg", SILENT),
    Case("quotbal", SILENT),
    Case("ltgtruri", 400),
    Case("lwsruri", SILENT),
    Case("lwsstart", SILENT),
    Case("trws", 200),  # an OPTIONS answered leniently: it creates no state
    Case("escruri", 400),
    Case("baddate", BUSY),  # Fulcrum reads no Date header: nothing to refuse
    Case("regbadct", 405),  # REGISTER is refused before its Contact is read
    Case("badaspec", 200),  # an OPTIONS answered leniently: it creates no state
    Case("baddn", 200),  # an OPTIONS answered leniently: it creates no state
    Case("badvers", SILENT),  # its Via says SIP/7.0 too: nowhere to answer
    Case("mismatch01", 400),
    Case("mismatch02", 400),
    Case("bigcode", SILENT),
    # RFC 4475 3.2: transaction layer
    Case("badbranch", 200),  # an OPTIONS answered leniently: it creates no state
    # RFC 4475 3.3: application layer
    Case("insuf", SILENT),
    Case("unkscm", 416),
    Case("novelsc", 416),
    Case("unksm2", 405),
    Case("unksm2-inv", BUSY),
    Case("bext01", 420, needs={"Unsupported": ["nothingSupportsThis", "nothingSupportsThisEither",
                                               "noProxiesSupportThis", "norDoAnyProxiesSupportThis"]}),
    Case("bext01-inv", 420, needs={"Unsupported": ["nothingpastthis"]}),
    Case("bext01-inv-proxy", 420, needs={"Unsupported": ["nothingpastthis"]}),
    Case("invut", 415),
    Case("regaut01", 405),
    Case("multi01", 400, gap="Kamailio 5.6's core parser drops it instead of answering 400"),
    Case("mcl01", 400, gap="Kamailio 5.6's core parser drops it instead of answering 400"),
    Case("bcast", SILENT),
    Case("zeromf", 483),
    Case("cparam01", 405),
    Case("cparam02", 405),
    Case("regescrt", 405),
    Case("sdp01", BUSY),
    # RFC 4475 3.4: RFC 2543 syntax (no Content-Length: datagrams only)
    Case("inv2543", BUSY, tcp=SKIP),
    # RFC 5118 section 4 (IPv6 in headers, Request-URI and SDP, sent over IPv4)
    Case("ipv6-good", 405),
    Case("ipv6-bad", 400),
    Case("port-ambiguous", 405),
    Case("port-unambiguous", 405),
    Case("via-received-param-with-delim", 481),  # a BYE for no dialog
    Case("via-received-param-no-delim", 200),
    Case("ipv6-in-sdp", 488),  # audio is G726-32 only
    Case("mult-ip-in-header", 481),  # a BYE for no dialog
    Case("mult-ip-in-sdp", BUSY),
    Case("ipv4-mapped-ipv6", 488),  # audio is G726-32 only
    Case("ipv6-bug-abnf-3-colons", 200),
    Case("ipv6-correct-abnf-2-colons", 200),
]

# ------------------------------------------------------------ the templates

_PLACEHOLDER = re.compile(r"\{(via_host|via_port|transport|uniq|branch|callid|user|user_esc|"
                          r"stack_host|stack_port)\}")
_HEX = re.compile(rb"\{hex:([0-9a-fA-F]*)\}")


def load(name):
    with open(os.path.join(TORTURE_DIR, name + ".sip"), encoding="utf-8", newline="") as f:
        return f.read()


def render(template, **values):
    """The bytes on the wire (README.md: LF -> CRLF, placeholders filled,
    {hex:..} octets, {content_length} = the octets after the first empty
    line). A placeholder without a value is an error (KeyError)."""
    text = _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template.replace("\r\n", "\n"))
    data = text.replace("\n", "\r\n").encode("utf-8")
    data = _HEX.sub(lambda m: bytes.fromhex(m.group(1).decode()), data)
    if b"{content_length}" in data:
        head, sep, body = data.partition(b"\r\n\r\n")
        data = head.replace(b"{content_length}", str(len(body)).encode()) + sep + body
    return data


def escape_user(number):
    """+14155550100 -> %2B1415555010%30 (the '+' and the last digit escaped)."""
    return "%2B" + number[1:-1] + "%3" + number[-1]


def invite(headers="", body=SDP, content_type="application/sdp"):
    """A plain INVITE template of our own (headers: extra lines, each ending in \\n)."""
    return ("INVITE sip:{user}@{stack_host}:{stack_port} SIP/2.0\n"
            "Via: SIP/2.0/{transport} {via_host}:{via_port};branch={branch}\n"
            "Max-Forwards: 70\n"
            "From: \"Torture\" <sip:+14155550123@{via_host}>;tag={uniq}\n"
            "To: <sip:{user}@{stack_host}>\n"
            "Call-ID: {callid}\n"
            "CSeq: 1 INVITE\n"
            "Contact: <sip:caller@{via_host}:{via_port}>\n"
            + headers +
            "Content-Type: " + content_type + "\n"
            "Content-Length: {content_length}\n"
            "\n" + body)


OPTIONS = ("OPTIONS sip:{stack_host}:{stack_port} SIP/2.0\n"
           "Via: SIP/2.0/{transport} {via_host}:{via_port};branch={branch}\n"
           "Max-Forwards: 70\n"
           "From: <sip:torture@{via_host}>;tag={uniq}\n"
           "To: <sip:{stack_host}:{stack_port}>\n"
           "Call-ID: {callid}\n"
           "CSeq: 1 OPTIONS\n"
           "Content-Length: 0\n"
           "\n")

# A 200 to an INVITE nobody sent; the second Via is where a proxy would relay it.
STRAY_200 = ("SIP/2.0 200 OK\n"
             "Via: SIP/2.0/{transport} %s;branch=z9hG4bK1324923{uniq}\n"
             "Via: SIP/2.0/UDP %s;branch=z9hG4bK1saber23{uniq}\n"
             "Call-ID: stray.{uniq}@192.0.2.198\n"
             "CSeq: 35 INVITE\n"
             "From: sip:user@example.com;tag=11141343\n"
             "To: sip:user@example.edu;tag=2229\n"
             "Contact: <sip:user@host28.example.com>\n"
             "Content-Type: application/sdp\n"
             "Content-Length: {content_length}\n"
             "\n" + SDP)


def parallel(fn, items):
    """[fn(item)] computed PARALLEL at a time, in the order of items."""
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(fn, items))


class Result:
    """One exchange of the batch."""

    def __init__(self, case, transport, number, path):
        self.case, self.transport, self.number, self.path = case, transport, number, path
        self.ex = None
        self.error = None
        self.alive_after = None
        self.started = self.ended = None


class TortureTest(FulcrumTestCase):

    _batch = None
    _batch_lock = threading.Lock()

    # ------------------------------------------------------------- helpers

    def busy_number(self, path):
        """A fresh number whose webhook (at path) answers <Reject reason="busy"/>."""
        num = self.number()
        self.app.route(path, TWIML_BUSY)
        self.stack.create_number(num, self.app.url(path))
        return num

    def exchange(self, template, transport, expect_answer=True, linger=0.0, **values):
        """Sends template (rendered for a socket of its own) and returns the
        sipraw Exchange; waits ANSWER_TIMEOUT for a final answer, or the
        whole SILENT_WINDOW when none is expected."""
        with Client(self.stack.sip_port, transport) as c:
            uniq = secrets.token_hex(6)
            v = {"via_host": c.host, "via_port": c.port, "transport": transport.upper(), "uniq": uniq,
                 "branch": "z9hG4bK-" + uniq, "callid": "torture-%s@%s" % (uniq, LOOPBACK),
                 "stack_host": LOOPBACK, "stack_port": self.stack.sip_port}
            if "user" in values and "user_esc" not in values:
                values["user_esc"] = escape_user(values["user"])
            v.update(values)
            data = render(template, **v)
            if expect_answer:
                return c.request(data, timeout=ANSWER_TIMEOUT, linger=linger)
            return c.request(data, timeout=SILENT_WINDOW)

    def stack_alive(self):
        procs = list(self.stack.procs.values()) + list(self.stack.callctls)
        return all(p.alive() for p in procs)

    def assertWebhooks(self, path, n, ex, number=None):
        # A refused INVITE is answered (or its window is over) before we look;
        # one that was processed got its 486 only after the webhook.
        reqs = self.app.wait_requests(path, n, timeout=3) if n else self.app.requests(path)
        self.assertEqual(len(reqs), n, "webhook requests on %s: %r\n%s" % (path, reqs, ex.summary()))
        if n and number:
            self.assertEqual(reqs[0].params.get("Called"), number, reqs[0].params)
        return reqs

    def assertAnswer(self, ex, expect, needs=None):
        """expect: a status code (the only final status received, no 2xx
        unless it is one), BUSY (486) or SILENT (nothing came back)."""
        if expect == SILENT:
            self.assertEqual(ex.responses, [], "expected no answer\n" + ex.summary())
            return
        code = 486 if expect == BUSY else expect
        self.assertIsNotNone(ex.final, "expected %d, got no final answer\n%s" % (code, ex.summary()))
        self.assertEqual(sorted(set(r.code for r in ex.finals)), [code], ex.summary())
        for header, tokens in (needs or {}).items():
            values = ex.final.values(header)
            self.assertTrue(values, "%d without %s\n%s" % (code, header, ex.final.raw[:1500]))
            have = [v.split(";")[0].strip().lower() for v in values]
            for t in tokens:
                self.assertIn(t.lower(), have, "%s: %r\n%s" % (header, values, ex.summary()))

    # --------------------------------------------------------- the batch

    def batch(self):
        """Every (case, transport) exchange, run once per class, in parallel."""
        with self._batch_lock:
            if type(self)._batch is None:
                type(self)._batch = self._run_batch()
            return type(self)._batch

    def _run_batch(self):
        templates = {c.name: load(c.name) for c in CASES}
        results = {}
        for case in CASES:
            for tr in case.transports:
                number = None
                path = "/torture/%s/%s" % (case.name, tr)
                if "{user" in templates[case.name]:
                    number = self.busy_number(path)
                results[(case.name, tr)] = Result(case, tr, number, path)

        def run(r):
            r.started = time.monotonic()
            want = r.case.expect[r.transport]
            try:
                values = {"user": r.number} if r.number else {}
                r.ex = self.exchange(templates[r.case.name], r.transport, expect_answer=want != SILENT,
                                     linger=r.case.linger, **values)
            except Exception as e:  # reported by the case's own test
                r.error = "%s: %s" % (type(e).__name__, e)
            r.ended = time.monotonic()
            r.alive_after = self.stack_alive()
            return r
        parallel(run, list(results.values()))
        return results

    def check_case(self, name, transport):
        r = self.batch()[(name, transport)]
        want = r.case.expect[transport]
        self.assertIsNone(r.error, r.error)
        self.assertTrue(r.alive_after, "the stack died (at the latest) during this exchange\n" + r.ex.summary())
        code = 486 if want == BUSY else want
        self.assertAnswer(r.ex, want, r.case.needs_for(code))
        if r.case.only:
            self.assertEqual(r.ex.codes, [code], r.ex.summary())
        if r.number:
            self.assertWebhooks(r.path, 1 if want == BUSY else 0, r.ex, r.number)

    # ------------------------------------------------------- own tests

    def test_torture_files_match_cases(self):
        """Every .sip file has a row in CASES and the other way round, and
        each renders to a message with a header/body separator."""
        files = sorted(f[:-4] for f in os.listdir(TORTURE_DIR) if f.endswith(".sip"))
        self.assertEqual(files, sorted(c.name for c in CASES))
        for name in files:
            data = render(load(name), via_host=LOOPBACK, via_port=5060, transport="UDP", uniq="u",
                          branch="z9hG4bKu", callid="c", user="+1", user_esc="%2B1",
                          stack_host=LOOPBACK, stack_port=5060)
            self.assertIn(b"\r\n\r\n", data, name)
            self.assertNotRegex(data, rb"\{(hex:|content_length\})", name)

    def test_escaped_ruri_user_matches_number(self):
        """sip:%2B1415555010%30@host (and every octet escaped, lower-case hex)
        is the number +14155550100: its webhook is fetched, 486."""
        def full(n):
            return "".join("%%%02x" % ord(ch) for ch in n)
        items = []
        for label, esc in (("digit", escape_user), ("all", full)):
            for tr in ("udp", "tcp"):
                path = self.path("%s-%s" % (label, tr))
                items.append((label, tr, path, self.busy_number(path), esc))
        tmpl = invite().replace("INVITE sip:{user}@", "INVITE sip:{user_esc}@", 1)
        exs = parallel(lambda it: self.exchange(tmpl, it[1], user=it[3], user_esc=it[4](it[3])), items)
        for (label, tr, path, num, esc), ex in zip(items, exs):
            with self.subTest(escaped=esc(num), transport=tr):
                self.assertAnswer(ex, BUSY)
                self.assertWebhooks(path, 1, ex, num)

    def test_folded_header_reaches_webhook_unfolded(self):
        """X-Folded: one CRLF SP two → SipHeader_X-Folded = "one two"."""
        for tr in ("udp", "tcp"):
            with self.subTest(transport=tr):
                path = self.path(tr)
                num = self.busy_number(path)
                ex = self.exchange(invite("X-Folded: one\n two\n"), tr, user=num)
                self.assertAnswer(ex, BUSY)
                req = self.assertWebhooks(path, 1, ex, num)[0]
                self.assertEqual(req.params.get("SipHeader_X-Folded"), "one two", req.params)

    def test_x_headers_beyond_the_limit_said(self):
        """70 X- headers, one of them 2000 bytes: the webhook gets the first
        64 (the long one cut to 1024 bytes), and callctl's log says what was
        left out."""
        path = self.path()
        num = self.busy_number(path)
        hdrs = "X-Long: %s\n" % ("L" * 2000) + "".join("X-H%02d: v%d\n" % (i, i) for i in range(69))
        ex = self.exchange(invite(hdrs), "tcp", user=num)
        self.assertAnswer(ex, BUSY)
        req = self.assertWebhooks(path, 1, ex, num)[0]
        got = [k for k in req.params if k.startswith("SipHeader_")]
        self.assertEqual(len(got), 64, got)
        self.assertEqual(req.params.get("SipHeader_X-Long"), "L" * 1024)
        self.assertNotIn("SipHeader_X-H68", req.params)
        log = self.stack.procs["callctl"].log_path
        self.assertTrue(wait_until(lambda: "beyond the first 64 (6)" in tail_file(log, 100000), 5),
                        "callctl did not say that X- headers were left out")

    def test_unanswerable_sdp_488(self):
        """An offer Fulcrum cannot answer → 488 with a Warning, no webhook:
        no m= line, only a codec we do not take, 2000 m= lines (48 kB: a
        datagram, and within what a TCP read takes), a line that is no SDP
        at all."""
        head = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
        bodies = {
            "no-m-line": head,
            "unknown-codec": head + "m=audio 9 RTP/AVP 99\na=rtpmap:99 X-unknown/8000\n",
            "2000-m-lines": head + "m=audio 40000 RTP/AVP 0\n" * 2000,
            "garbage-line": "v=0\nthis line has no equals sign at all\n" + head[4:]
                            + "m=audio 40000 RTP/AVP 0\n",
        }
        items = []
        for label, body in bodies.items():
            for tr in ("udp", "tcp"):
                if tr == "udp" and len(body) > 60000:
                    continue
                path = self.path("%s-%s" % (label, tr))
                items.append((label, tr, path, self.busy_number(path), body))
        exs = parallel(lambda it: self.exchange(invite(body=it[4]), it[1], user=it[3]), items)
        for (label, tr, path, num, body), ex in zip(items, exs):
            with self.subTest(sdp=label, transport=tr):
                self.assertAnswer(ex, 488, Case.CODE_NEEDS[488])
                self.assertWebhooks(path, 0, ex)

    def test_message_too_large_513(self):
        """A 3000-character Call-ID, a 20 KB header → 513 Message Too Large on
        UDP and on TCP (the connection gets the 513, it is not just closed);
        no webhook."""
        cases = {"callid-3000": ("", {"callid": "c" * 2992 + "@torture"}),
                 "header-20k": ("X-Big: %s\n" % ("b" * 20480), {})}
        items = []
        for label, (hdrs, values) in cases.items():
            for tr in ("udp", "tcp"):
                path = self.path("%s-%s" % (label, tr))
                items.append((label, tr, path, self.busy_number(path), hdrs, values))
        exs = parallel(lambda it: self.exchange(invite(it[4]), it[1], user=it[3], **it[5]), items)
        for (label, tr, path, num, hdrs, values), ex in zip(items, exs):
            with self.subTest(message=label, transport=tr):
                self.assertAnswer(ex, 513)
                self.assertWebhooks(path, 0, ex)

    def test_stray_response_not_relayed(self):
        """A 200 OK matching no transaction, whose second Via is a UDP socket
        of the test (first Via: the test's own, or the stack's as if Fulcrum
        had sent the request), over UDP and TCP: nothing reaches that socket
        and nothing comes back (dropped, never relayed along its Via)."""
        items = [(tr, first) for tr in ("udp", "tcp") for first in ("test", "stack")]
        traps = [listen_udp() for _ in items]
        try:
            def send(i):
                tr, first = items[i]
                via1 = "{via_host}:{via_port}" if first == "test" else "{stack_host}:{stack_port}"
                return self.exchange(STRAY_200 % (via1, "%s:%d" % (LOOPBACK, traps[i].port)), tr,
                                     expect_answer=False)
            exs = parallel(send, range(len(items)))
            for i, ((tr, first), ex) in enumerate(zip(items, exs)):
                with self.subTest(transport=tr, first_via=first):
                    self.assertEqual(traps[i].packets(0.05), [], "relayed to the second Via")
                    self.assertEqual(ex.responses + ex.requests, [], ex.summary())
        finally:
            for t in traps:
                t.close()

    def test_zz_stack_survived(self):
        """After everything above (the batch is run if it was not): every
        process alive and healthy, OPTIONS and a call answered on UDP and
        TCP, no refused message ever reached a webhook (late ones too), no
        Kamailio child died."""
        results = self.batch()
        dead = sorted((r for r in results.values() if r.alive_after is False), key=lambda r: r.ended)
        if dead:
            first = dead[0]
            suspects = [r for r in results.values() if r.started <= first.ended and r.ended >= first.started]
            self.fail("the stack died during the batch; in flight then: %s" % sorted(
                "%s/%s" % (r.case.name, r.transport) for r in suspects))
        for name, p in list(self.stack.procs.items()):
            self.assertTrue(p.alive(), "%s exited: %s" % (name, p.tail(20)))
        for comp in ("redis", "rtpengine", "callctl", "kamailio"):
            self.assertTrue(self.stack.check(comp), "%s fails its health check" % comp)
        for tr in ("udp", "tcp"):
            with self.subTest(transport=tr):
                self.assertAnswer(self.exchange(OPTIONS, tr), 200)
                path = self.path(tr)
                num = self.busy_number(path)
                ex = self.exchange(invite(), tr, user=num)
                self.assertAnswer(ex, BUSY)
                self.assertWebhooks(path, 1, ex, num)
        late = ["%s/%s" % (r.case.name, r.transport) for r in results.values()
                if r.number and r.case.expect[r.transport] != BUSY and self.app.requests(r.path)]
        self.assertEqual(late, [], "refused messages that reached their webhook")
        log = tail_file(self.stack.procs["kamailio"].log_path, 100000)
        self.assertNotRegex(log, r"exited by a signal|SIGSEGV|core dumped")


def _case_test(name, transport):
    def test(self):
        self.check_case(name, transport)
    if CASES_BY_NAME[name].gap:
        test = unittest.expectedFailure(test)
    want = CASES_BY_NAME[name].expect[transport]
    test.__doc__ = "%s over %s → %s" % (name, transport.upper(),
                                         "486 via the webhook" if want == BUSY else
                                         "no answer" if want == SILENT else want)
    return test


CASES_BY_NAME = {c.name: c for c in CASES}
for _c in CASES:
    for _tr in _c.transports:
        setattr(TortureTest, "test_msg_%s_%s" % (re.sub(r"\W", "_", _c.name), _tr), _case_test(_c.name, _tr))


if __name__ == "__main__":
    unittest.main()
