"""A small raw SIP client for Fulcrum's end-to-end tests (standard library only).

Unlike sipp it sends exactly the bytes it is given, malformed or not, and
reports whatever comes back:

    with Client(stack.sip_port, "tcp") as c:          # socket bound first:
        data = render(template, via_host=c.host, via_port=c.port, ...)
        ex = c.request(data, timeout=3)                # c.port goes in the Via
        ex.final.code, ex.final.header("Allow"), ex.codes, ex.closed

Client.request() collects every response for up to `timeout` seconds and
stops as soon as a final answer arrived (plus `linger` seconds). A final
answer to an INVITE it sent is acknowledged like a UAC's transaction layer
does it: a non-2xx with the hop-by-hop ACK of RFC 3261 17.1.1.3 (same
Request-URI, top Via and branch, From, Call-ID, CSeq number and Route as the
INVITE, To of the response), a 2xx with an ACK and a BYE of its own, so no
call is left up.

parse() reads one message (folded header lines joined with one space,
compact header names given their long form); split_stream() cuts a TCP
byte stream into messages by Content-Length. listen_udp() binds a UDP
socket that watches for packets that must NOT arrive.
"""
import re
import secrets
import socket
import time

LOOPBACK = "127.0.0.1"

# RFC 3261 7.3.3 and later registrations (RFC 3515, 3892, 3903, 4028, 4474, 3841)
COMPACT = {"i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
           "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To",
           "v": "Via", "o": "Event", "u": "Allow-Events", "r": "Refer-To", "b": "Referred-By",
           "x": "Session-Expires", "y": "Identity", "a": "Accept-Contact", "j": "Reject-Contact",
           "d": "Request-Disposition"}
_CANONICAL = {n.lower(): n for n in list(COMPACT.values()) + [
    "CSeq", "Max-Forwards", "Allow", "Accept", "Unsupported", "Require", "Proxy-Require",
    "Warning", "Record-Route", "Route", "Server", "User-Agent", "Retry-After", "WWW-Authenticate",
    "Proxy-Authenticate", "Authorization", "Date", "Expires", "Reason"]}

_STATUS_RE = re.compile(r"^SIP/(\d+\.\d+)[ \t]+(\d{3})(?:[ \t](.*))?$")


def canonical(name):
    """Header name in its usual spelling: 'v' -> 'Via', 'CALL-ID' -> 'Call-ID'."""
    n = name.strip()
    low = n.lower()
    if low in COMPACT:
        return COMPACT[low]
    return _CANONICAL.get(low, n)


def split_list(value):
    """A header value split at commas that are outside quotes and <>."""
    out, cur, quoted, angle, i = [], "", False, False, 0
    while i < len(value):
        ch = value[i]
        if quoted and ch == "\\" and i + 1 < len(value):
            cur += value[i:i + 2]
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            angle = True
        elif not quoted and ch == ">":
            angle = False
        elif ch == "," and not quoted and not angle:
            out.append(cur.strip())
            cur = ""
            i += 1
            continue
        cur += ch
        i += 1
    if cur.strip():
        out.append(cur.strip())
    return out


class Message:
    """One SIP message as received or sent. Text is decoded as UTF-8 with
    surrogateescape, so every byte survives a round trip (see .enc())."""

    def __init__(self, raw, head_lines, body, arrived=None):
        self.raw = raw
        self.body = body
        self.time = arrived if arrived is not None else time.time()
        self.first_line = head_lines[0] if head_lines else ""
        self.headers = []  # [(canonical name, value)], folding undone
        for line in head_lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                self.headers.append((canonical(name), value.strip()))
        m = _STATUS_RE.match(self.first_line)
        self.code = int(m.group(2)) if m else None
        self.reason = (m.group(3) or "") if m else None
        parts = self.first_line.split()
        self.method = parts[0] if not m and parts else None
        self.ruri = parts[1] if not m and len(parts) > 1 else None

    @property
    def is_request(self):
        return self.code is None

    def header(self, name):
        """First value of a header (any spelling, compact forms too), or None."""
        want = canonical(name).lower()
        for k, v in self.headers:
            if k.lower() == want:
                return v
        return None

    def header_all(self, name):
        want = canonical(name).lower()
        return [v for k, v in self.headers if k.lower() == want]

    def values(self, name):
        """Every comma-separated element of every instance of a header."""
        out = []
        for v in self.header_all(name):
            out += split_list(v)
        return out

    @property
    def cseq(self):
        """(number as str, method) of CSeq, or (None, None)."""
        parts = (self.header("CSeq") or "").split()
        return (parts[0] if parts else None, parts[1] if len(parts) > 1 else None)

    @property
    def cseq_method(self):
        return self.cseq[1]

    @property
    def call_id(self):
        return self.header("Call-ID")

    @property
    def top_via(self):
        vias = self.values("Via")
        return vias[0] if vias else None

    @property
    def branch(self):
        m = re.search(r";\s*branch\s*=\s*([^;,\s]+)", self.top_via or "", re.I)
        return m.group(1) if m else None

    def __repr__(self):
        return "<%s>" % self.first_line


def enc(text):
    return text.encode("utf-8", "surrogateescape")


def _dec(data):
    return data.decode("utf-8", "surrogateescape")


def parse(data, arrived=None):
    """One message from bytes; None when there is no start line at all.
    The body is everything after the first empty line."""
    text = _dec(data)
    text = text.lstrip("\r\n")
    if not text:
        return None
    m = re.search(r"\r?\n\r?\n", text)
    head, body = (text[:m.start()], text[m.end():]) if m else (text, "")
    lines = []
    for line in re.split(r"\r?\n", head):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] = lines[-1].rstrip() + " " + line.strip()  # folding = one SP
        else:
            lines.append(line)
    return Message(data, lines, body, arrived)


def content_length(head_text):
    m = re.search(r"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head_text)
    return int(m.group(1)) if m else 0


def split_stream(buf):
    """Complete messages at the start of a TCP byte stream: (list of bytes,
    the rest). CRLF keep-alives between messages are skipped."""
    out = []
    while True:
        stripped = buf.lstrip(b"\r\n")
        if not stripped:
            return out, b""
        buf = stripped
        m = re.search(rb"\r?\n\r?\n", buf)
        if not m:
            return out, buf
        n = content_length(_dec(buf[:m.start()]))
        end = m.end() + n
        if len(buf) < end:
            return out, buf
        out.append(buf[:end])
        buf = buf[end:]


def split_datagram(data):
    """The messages one datagram carries, each cut at its Content-Length
    (RFC 3261 18.3: what follows is ignored by a server, but dblreq needs
    to know both requests to acknowledge the right one)."""
    msgs, rest = split_stream(data)
    return msgs + ([rest] if rest.strip() else [])


class Exchange:
    """What one request (or any message) sent by Client.request() got back."""

    def __init__(self, sent, transport):
        self.sent = sent  # the bytes
        self.transport = transport
        self.responses = []  # Message, in arrival order, retransmissions too
        self.requests = []  # requests the server sent us
        self.acks = []  # ACK/BYE bytes we sent
        self.own_branches = set()  # their branches: answers to them are not "the" answer
        self.closed = False  # the server closed the TCP connection
        self.started = time.time()
        self.ended = None

    def ours(self, resp):
        """Whether resp answers a request the client made up (ACK, BYE)."""
        return resp.branch in self.own_branches

    @property
    def finals(self):
        """Final responses, not counting those to our own BYE."""
        return [r for r in self.responses if r.code >= 200 and not self.ours(r)]

    @property
    def final(self):
        f = self.finals
        return f[0] if f else None

    @property
    def codes(self):
        return [r.code for r in self.responses if not self.ours(r)]

    def summary(self):
        lines = ["%s exchange, %.2f s%s:" % (self.transport.upper(), (self.ended or time.time()) - self.started,
                                             ", connection closed by the server" if self.closed else "")]
        first = _dec(self.sent).split("\r\n", 1)[0]
        lines.append("  -> %s" % first[:160])
        for r in self.responses + self.requests:
            lines.append("  <- %.3f %s" % (r.time - self.started, r.first_line[:160]))
        if not self.responses and not self.requests:
            lines.append("  (nothing came back)")
        return "\n".join(lines)

    def __repr__(self):
        return self.summary()


class Client:
    """A UDP socket or a TCP connection from 127.0.0.1:<free port> to the
    stack; .host/.port are what goes in the Via of what it sends."""

    def __init__(self, port, transport="udp", host=LOOPBACK, connect_timeout=3.0):
        self.transport = transport.lower()
        self.peer = (host, port)
        self.closed = False
        self._buf = b""
        if self.transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((host, 0))
        elif self.transport == "tcp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.bind((host, 0))
            self.sock.settimeout(connect_timeout)
            self.sock.connect(self.peer)
        else:
            raise ValueError("transport %r" % transport)
        self.host, self.port = self.sock.getsockname()[:2]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if self.transport == "udp":
            self.sock.sendto(data, self.peer)
        else:
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True

    def recv(self, timeout):
        """Messages that arrive within timeout seconds (returns as soon as
        something arrived); [] on timeout or when the connection is closed."""
        if self.transport == "tcp":
            msgs, self._buf = split_stream(self._buf)
            if msgs:
                return [parse(m) for m in msgs]
            if self.closed:
                return []
        self.sock.settimeout(max(0.001, timeout))
        try:
            if self.transport == "udp":
                data, _ = self.sock.recvfrom(65535)
                msg = parse(data)
                return [msg] if msg else []
            data = self.sock.recv(65535)
        except socket.timeout:
            return []
        except OSError:  # reset
            self.closed = True
            return []
        if not data:
            self.closed = True
            return []
        self._buf += data
        msgs, self._buf = split_stream(self._buf)
        return [parse(m) for m in msgs]

    # ------------------------------------------------------------- exchange

    def request(self, data, timeout=3.0, linger=0.0, ack=True):
        """Sends data (one message, or several in one datagram), then collects
        what comes back until a final answer arrived and linger more seconds
        passed, or timeout. Finals to INVITEs are acknowledged (see the
        module docstring); a BYE from the server gets a 200."""
        ex = Exchange(data, self.transport)
        sent = [m for m in (parse(d) for d in split_datagram(data)) if m and m.is_request]
        self.send(data)
        deadline = time.monotonic() + timeout
        final_at = None
        bye_pending = False
        while True:
            now = time.monotonic()
            until = deadline
            if final_at is not None and not bye_pending:
                until = min(deadline, final_at + linger)
            if now >= until:
                break
            for m in self.recv(until - now):
                if m.is_request:
                    ex.requests.append(m)
                    if m.method == "BYE":
                        self.send(_reply(m, 200, "OK"))
                    continue
                ex.responses.append(m)
                if ex.ours(m):
                    if m.code >= 200 and m.cseq_method == "BYE":
                        bye_pending = False
                    continue
                if m.code < 200:
                    continue
                if final_at is None:
                    final_at = time.monotonic()
                inv = _invite_for(sent, m)
                if ack and inv is not None:
                    if 200 <= m.code < 300:
                        for out in self._ack_and_bye(inv, m):
                            ex.acks.append(out)
                            ex.own_branches.add(parse(out).branch)
                            self.send(out)
                        bye_pending = True
                    else:
                        out = ack_non2xx(inv, m)
                        ex.acks.append(out)
                        self.send(out)
            if self.closed:
                ex.closed = True
                break
        ex.ended = time.time()
        return ex

    def _ack_and_bye(self, inv, resp):
        return ack_and_bye_2xx(inv, resp, self.transport, self.host, self.port)

    def collect(self, timeout):
        """Every message that arrives within timeout seconds."""
        got, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            got += self.recv(deadline - time.monotonic())
        return got


def _invite_for(sent, resp):
    """The INVITE we sent that resp answers (by Call-ID; the only request
    sent when the response has none), or None."""
    if resp.cseq_method != "INVITE":
        return None
    for req in sent:
        if req.method == "INVITE" and req.call_id is not None and req.call_id == resp.call_id:
            return req
    if len(sent) == 1 and sent[0].method == "INVITE" and resp.call_id is None:
        return sent[0]
    return None


def _lines(*pairs):
    return "".join("%s: %s\r\n" % (k, v) for k, v in pairs if v is not None)


def ack_non2xx(inv, resp):
    """RFC 3261 17.1.1.3: the ACK of a non-2xx final answer."""
    num = inv.cseq[0] or "1"
    text = "ACK %s SIP/2.0\r\n" % inv.ruri
    text += _lines(("Via", inv.top_via), ("Max-Forwards", "70"), ("From", inv.header("From")),
                   ("To", resp.header("To")), ("Call-ID", inv.call_id), ("CSeq", "%s ACK" % num))
    text += "".join("Route: %s\r\n" % r for r in inv.header_all("Route"))
    text += "Content-Length: 0\r\n\r\n"
    return enc(text)


def _uri_of(value):
    """The URI of a name-addr/addr-spec header value."""
    if not value:
        return None
    m = re.search(r"<([^>]*)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def ack_and_bye_2xx(inv, resp, transport, host, port):
    """The ACK of a 2xx (a new transaction to the Contact, the route set
    from Record-Route reversed) and a BYE that ends the dialog."""
    target = _uri_of(resp.header("Contact")) or inv.ruri
    routes = list(reversed(resp.values("Record-Route")))
    num = int(inv.cseq[0]) if (inv.cseq[0] or "").isdigit() else 1
    out = []
    for method, n in (("ACK", num), ("BYE", num + 1)):
        text = "%s %s SIP/2.0\r\n" % (method, target)
        text += _lines(("Via", "SIP/2.0/%s %s:%d;branch=z9hG4bK-raw%s;rport" % (
                           transport.upper(), host, port, secrets.token_hex(6))),
                       ("Max-Forwards", "70"), ("From", inv.header("From")), ("To", resp.header("To")),
                       ("Call-ID", inv.call_id), ("CSeq", "%d %s" % (n, method)))
        text += "".join("Route: %s\r\n" % r for r in routes)
        text += "Content-Length: 0\r\n\r\n"
        out.append(enc(text))
    return out


def _reply(req, code, reason):
    text = "SIP/2.0 %d %s\r\n" % (code, reason)
    text += "".join("Via: %s\r\n" % v for v in req.header_all("Via"))
    text += _lines(("From", req.header("From")), ("To", req.header("To")), ("Call-ID", req.call_id),
                   ("CSeq", req.header("CSeq")))
    text += "Content-Length: 0\r\n\r\n"
    return enc(text)


def exchange(port, transport, build, timeout=3.0, linger=0.0):
    """One request on a fresh socket/connection: build(host, port) returns
    the bytes to send (the Via needs the socket's address)."""
    with Client(port, transport) as c:
        return c.request(build(c.host, c.port), timeout=timeout, linger=linger)


class UdpListener:
    """A UDP socket on 127.0.0.1:<free port> that records what arrives."""

    def __init__(self, host=LOOPBACK):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]

    def packets(self, timeout):
        """Every datagram that arrives within timeout seconds: [(bytes, addr)]."""
        got, deadline = [], time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            self.sock.settimeout(left)
            try:
                got.append(self.sock.recvfrom(65535))
            except socket.timeout:
                return got
            except OSError:
                return got

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def listen_udp(host=LOOPBACK):
    """A UdpListener: give its port where nothing should ever be sent, then
    check .packets(window) == []."""
    return UdpListener(host)
