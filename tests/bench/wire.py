"""Loopback capture for `make bench`: dumpcap in the background, and a small
pcap reader (IPv4 UDP/TCP over the loopback's Ethernet framing) that pairs,
per call, the caller's INVITE arriving at the proxy with the INVITE the proxy
sends to the target, and (Fulcrum) the webhook request/response in between.
All timestamps are the kernel's capture timestamps: one clock.
"""

import re
import shutil
import signal
import struct
import subprocess
import time
import urllib.parse

DUMPCAP = shutil.which("dumpcap") or "/usr/bin/dumpcap"


class Capture:
    """dumpcap -i lo with a capture filter, pcap format, to path."""

    def __init__(self, path, bpf, proc_factory):
        self.path = path
        self.err_path = path + ".stderr"
        argv = [DUMPCAP, "-i", "lo", "-f", bpf, "-P", "-B", "64", "-s", "65535", "-w", path]
        self.proc = proc_factory("dumpcap", argv, self.err_path)
        # dumpcap says "Capturing on 'Loopback: lo'" once the filter is set.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not self.proc.alive():
                raise RuntimeError("dumpcap exited: %s" % self._err())
            if "Capturing on" in self._err():
                time.sleep(0.2)
                return
            time.sleep(0.05)
        raise RuntimeError("dumpcap did not start: %s" % self._err())

    def _err(self):
        try:
            with open(self.err_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """Stops dumpcap (SIGINT lets it flush) and returns (received, dropped)
        as it reports them, or (None, None)."""
        time.sleep(0.3)
        self.proc.signal_group(signal.SIGINT)
        try:
            self.proc.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.proc.stop(grace=1)
        m = re.search(r"received/dropped on interface '[^']*': (\d+)/(\d+)", self._err())
        return (int(m.group(1)), int(m.group(2))) if m else (None, None)


# ------------------------------------------------------------------ reading

def read_pcap(path):
    """Yields (ts, proto, sport, dport, payload, seq) for IPv4 UDP ('u') and
    TCP ('t') packets; seq is the TCP sequence number (None for UDP)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("%s: not a pcap file (use dumpcap -P)" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    div = 1e9 if nano else 1e6
    off = 24
    n = len(data)
    rec = struct.Struct(endian + "IIII")
    while off + 16 <= n:
        sec, frac, incl, _orig = rec.unpack_from(data, off)
        off += 16
        pkt = data[off:off + incl]
        off += incl
        ts = sec + frac / div
        if linktype == 1:  # Ethernet (Linux lo)
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype == 113:  # Linux cooked v1
            if len(pkt) < 16 or pkt[14:16] != b"\x08\x00":
                continue
            ip = pkt[16:]
        elif linktype == 276:  # Linux cooked v2
            if len(pkt) < 20 or pkt[0:2] != b"\x08\x00":
                continue
            ip = pkt[20:]
        elif linktype in (101, 228):  # raw IPv4
            ip = pkt
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        proto = ip[9]
        l4 = ip[ihl:total]
        if proto == 17 and len(l4) >= 8:
            sport, dport = struct.unpack(">HH", l4[:4])
            yield ts, "u", sport, dport, l4[8:], None
        elif proto == 6 and len(l4) >= 20:
            sport, dport, seq = struct.unpack(">HHI", l4[:8])
            doff = (l4[12] >> 4) * 4
            yield ts, "t", sport, dport, l4[doff:], seq


# ---------------------------------------------------------------- SIP bits

def _sip_header(text, names):
    for line in text.split("\r\n")[1:]:
        if not line:
            break
        k, _, v = line.partition(":")
        if k.strip().lower() in names:
            return v.strip()
    return None


def _call_id(text):
    return _sip_header(text, ("call-id", "i"))


# ---------------------------------------------------------------- HTTP bits

class _Stream:
    """One direction of a TCP connection: payload bytes in sequence order
    with the capture time of the segment that carried each byte range."""

    def __init__(self):
        self.segs = {}  # seq -> (ts, payload); first copy wins

    def add(self, seq, ts, payload):
        if payload and seq not in self.segs:
            self.segs[seq] = (ts, payload)

    def assemble(self):
        data = bytearray()
        marks = []  # (start offset, ts)
        nxt = None
        for seq in sorted(self.segs):  # no wrap-around in a short capture
            ts, p = self.segs[seq]
            if nxt is not None and seq < nxt:  # overlap (retransmission)
                cut = nxt - seq
                if cut >= len(p):
                    continue
                p = p[cut:]
                seq = nxt
            marks.append((len(data), ts))
            data += p
            nxt = seq + len(p)
        return bytes(data), marks


def _ts_at(marks, offset):
    lo, hi = 0, len(marks) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if marks[mid][0] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return marks[lo][1]


def _http_messages(data, marks):
    """Splits a byte stream into HTTP messages with Content-Length bodies
    (what callctl sends and the bench app answers). Returns a list of
    (first line, headers dict, body, ts of first byte, ts of last byte)."""
    out = []
    off = 0
    while off < len(data):
        end = data.find(b"\r\n\r\n", off)
        if end < 0:
            break
        head = data[off:end].decode("latin-1").split("\r\n")
        hdrs = {}
        for l in head[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        first = head[0]
        if first.startswith("HTTP/1.1 100") or first.startswith("HTTP/1.0 100"):
            off = end + 4
            continue
        clen = int(hdrs.get("content-length") or 0)
        stop = end + 4 + clen
        if stop > len(data):
            break
        out.append((first, hdrs, data[end + 4:stop], _ts_at(marks, off), _ts_at(marks, stop - 1)))
        off = stop
    return out


# ----------------------------------------------------------------- analysis

def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100.0 * len(s)))]


def analyze(path, proxy_port, uas_port, webhook_port=None, out="invite"):
    """Per-call delays from a capture. Returns a dict:
      calls           caller INVITEs seen
      paired          calls with a target INVITE (and, Fulcrum, a webhook)
      forward_ms      list: target INVITE out - caller INVITE in
      webhook_ms      list: webhook response's last byte - request's first byte
      added_ms        list: forward - webhook (equals forward without webhook)
      pre_ms/post_ms  list: caller INVITE -> webhook request, webhook
                      response -> target INVITE (Fulcrum only)
    out="final" (reject mode): the end point is the proxy's first final
    response (>= 300) to the caller instead of the target's INVITE.
    """
    caller_inv = {}  # Call-ID -> ts of the first copy
    target_inv = {}  # key (Call-ID for the plain proxy, CallSid for Fulcrum) -> ts
    tcp = {}  # (client port, to_server) -> _Stream
    for ts, proto, sport, dport, payload, seq in read_pcap(path):
        if proto == "u":
            if out == "final" and payload.startswith(b"SIP/2.0 ") and sport == proxy_port \
                    and dport != uas_port and payload[8:9] in b"3456":
                text = payload.decode("latin-1")
                if (_sip_header(text, ("cseq",)) or "").upper().endswith("INVITE"):
                    target_inv.setdefault(_call_id(text), ts)
                continue
            if not payload.startswith(b"INVITE "):
                continue
            text = payload.decode("latin-1")
            cid = _call_id(text)
            if dport == proxy_port and sport != uas_port:
                caller_inv.setdefault(cid, ts)
            elif sport == proxy_port and dport == uas_port:
                if webhook_port is None:
                    target_inv.setdefault(cid, ts)
                else:
                    ruri = text.split(" ", 2)[1]
                    m = re.match(r"sips?:bench-([^@;?]+)@", ruri)
                    if m:
                        target_inv.setdefault(m.group(1), ts)
        elif webhook_port is not None and proto == "t":
            if dport == webhook_port:
                tcp.setdefault((sport, True), _Stream()).add(seq, ts, payload)
            elif sport == webhook_port:
                tcp.setdefault((dport, False), _Stream()).add(seq, ts, payload)

    res = {"calls": len(caller_inv), "paired": 0, "forward_ms": [], "webhook_ms": [],
           "added_ms": [], "pre_ms": [], "post_ms": [], "webhooks": 0}
    if webhook_port is None:
        for cid, t_in in caller_inv.items():
            t_out = target_inv.get(cid)
            if t_out is None:
                continue
            d = (t_out - t_in) * 1000.0
            res["forward_ms"].append(d)
            res["added_ms"].append(d)
        res["paired"] = len(res["forward_ms"])
        return res

    hooks = {}  # SipCallId -> (CallSid, request first byte, response last byte)
    for (cport, to_server), stream in tcp.items():
        if not to_server:
            continue
        back = tcp.get((cport, False))
        if back is None:
            continue
        reqs = _http_messages(*stream.assemble())
        resps = _http_messages(*back.assemble())
        for req, resp in zip(reqs, resps):
            first, hdrs, body, t_req, _ = req
            if first.startswith("GET "):
                q = first.split(" ")[1].partition("?")[2]
            else:
                q = body.decode("latin-1")
            params = dict(urllib.parse.parse_qsl(q, keep_blank_values=True))
            sid, scid = params.get("CallSid"), params.get("SipCallId")
            if not sid or not scid:
                continue
            res["webhooks"] += 1
            hooks.setdefault(scid, (sid, t_req, resp[4]))
    for cid, t_in in caller_inv.items():
        h = hooks.get(cid)
        if not h:
            continue
        sid, t_req, t_resp = h
        hook = (t_resp - t_req) * 1000.0
        res["webhook_ms"].append(hook)
        res["pre_ms"].append((t_req - t_in) * 1000.0)
        t_out = target_inv.get(cid if out == "final" else sid)
        if t_out is None:
            continue
        fwd = (t_out - t_in) * 1000.0
        res["forward_ms"].append(fwd)
        res["added_ms"].append(fwd - hook)
        res["post_ms"].append((t_out - t_resp) * 1000.0)
    res["paired"] = len(res["added_ms"])
    return res


def summary(res):
    """{"name": {"p50":..,"p99":..,"max":..}} in ms for each non-empty list."""
    out = {}
    for k in ("added_ms", "forward_ms", "webhook_ms", "pre_ms", "post_ms"):
        v = res.get(k) or []
        if v:
            out[k] = {"p50": pct(v, 50), "p99": pct(v, 99), "max": max(v), "n": len(v)}
    return out


if __name__ == "__main__":  # python3 wire.py file.pcap proxy_port uas_port [webhook_port [final]]
    import sys
    a = sys.argv[1:]
    r = analyze(a[0], int(a[1]), int(a[2]), int(a[3]) if len(a) > 3 else None,
                a[4] if len(a) > 4 else "invite")
    print("calls %d paired %d webhooks %d" % (r["calls"], r["paired"], r.get("webhooks", 0)))
    for k, v in summary(r).items():
        print("%-11s p50 %.3f  p99 %.3f  max %.3f  (n=%d)" % (k, v["p50"], v["p99"], v["max"], v["n"]))
