#!/usr/bin/env python3
"""The benchmark's TwiML app: a small asyncio HTTP/1.1 server (keep-alive,
Content-Length bodies, pipelining-safe) that answers every POST/GET on any
path with

    <Response><Dial><Sip>sip:bench-{CallSid}@{uas}</Sip></Dial></Response>

(the CallSid in the target's user part lets the benchmark pair the target's
INVITE with the caller's INVITE and the webhook on the wire). No signature
check, no logging per request: it must never be the bottleneck.

    webhook_app.py --port P --uas 127.0.0.1:5090 [--addr 127.0.0.1] [--reject]

(--reject: <Response><Reject reason="busy"/></Response> for every call.)

GET /__stats returns (and with ?reset=1 also clears) JSON:
    {"requests": n, "service_ms": {"p50":..,"p99":..,"max":..}, "cpu_s": ..}
where service time = last byte of the request read by the loop -> response
handed to the kernel (the app's own latency; the wire time is measured by the
benchmark from the capture).
"""

import argparse
import asyncio
import json
import resource
import signal
import sys
import time
import urllib.parse

TWIML = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<Response><Dial><Sip>sip:bench-%s@%s</Sip></Dial></Response>')
# --reject: the pre-answer pipeline only (INVITE -> webhook -> 486).
TWIML_REJECT = '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Reject reason="busy"/></Response>'
REJECT = False


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.n = 0
        self.samples = []  # service times in seconds (bounded)

    def add(self, dt):
        self.n += 1
        if len(self.samples) < 200000:
            self.samples.append(dt)

    def snapshot(self):
        s = sorted(self.samples)

        def pct(p):
            if not s:
                return None
            return round(s[min(len(s) - 1, int(p / 100.0 * len(s)))] * 1000.0, 3)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {"requests": self.n, "service_ms": {"p50": pct(50), "p99": pct(99),
                                                   "max": round(s[-1] * 1000.0, 3) if s else None},
                "cpu_s": round(ru.ru_utime + ru.ru_stime, 3)}


STATS = Stats()
UAS = "127.0.0.1:5090"


def call_sid_of(method, target, body):
    params = body.decode("latin-1") if method == "POST" else target.partition("?")[2]
    for part in params.split("&"):
        if part.startswith("CallSid="):
            return urllib.parse.unquote_plus(part[8:])
    return "nosid"


class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""

    def data_received(self, data):
        t0 = time.perf_counter()
        self.buf += data
        out = []
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buf[:end].decode("latin-1")
            lines = head.split("\r\n")
            try:
                method, target, _ = lines[0].split(" ", 2)
            except ValueError:
                self.t.close()
                return
            clen = 0
            close = False
            for l in lines[1:]:
                k, _, v = l.partition(":")
                k = k.strip().lower()
                if k == "content-length":
                    clen = int(v.strip() or 0)
                elif k == "connection" and v.strip().lower() == "close":
                    close = True
                elif k == "expect" and v.strip().lower() == "100-continue" and \
                        len(self.buf) < end + 4 + clen:
                    self.t.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            if len(self.buf) < end + 4 + clen:
                break
            body = self.buf[end + 4:end + 4 + clen]
            self.buf = self.buf[end + 4 + clen:]
            if target.startswith("/__stats"):
                snap = STATS.snapshot()
                if "reset=1" in target:
                    STATS.reset()
                payload = json.dumps(snap).encode()
                ctype = b"application/json"
            else:
                if REJECT:
                    payload = TWIML_REJECT.encode()
                else:
                    payload = (TWIML % (call_sid_of(method, target, body), UAS)).encode()
                ctype = b"text/xml"
            out.append(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                       + str(len(payload)).encode() + b"\r\n"
                       + (b"Connection: close\r\n" if close else b"") + b"\r\n" + payload)
            if not target.startswith("/__stats"):
                STATS.add(time.perf_counter() - t0)
            if close:
                self.t.write(b"".join(out))
                self.t.close()
                return
        if out:
            self.t.write(b"".join(out))


def main():
    global UAS, REJECT
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--uas", required=True)
    ap.add_argument("--reject", action="store_true", help='answer <Reject reason="busy"/> instead')
    a = ap.parse_args()
    UAS = a.uas
    REJECT = a.reject
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(Http, a.addr, a.port, backlog=1024, reuse_address=True))
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, loop.stop)
    print("webhook_app listening on %s:%d, target %s" % (a.addr, a.port, UAS), flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
