"""A small RTP endpoint for Fulcrum's end-to-end tests (standard library only).

    ep = RtpEndpoint()                       # UDP socket on 127.0.0.1 (even port)
    ep.sdp()                                 # SDP text: PCMU/8000 + telephone-event/8000
    peer = parse_sdp(text)                   # the other side's SDP: .ip .port .payloads .direction
    ep.send_to((peer.ip, peer.port), 50)     # 50 RTP packets, PT 0, 20 ms apart (background)
    ep.wait_received(40, timeout=5)
    ep.stats()                               # count, payload types, sequence check, our tags seen

Every packet sent carries a tag in its payload (b"FCRTP" + endpoint id + a
counter), so the receiving endpoint can tell that what arrived is what the
other endpoint sent (through rtpengine), not something else (a ringback tone,
comfort noise, its own packets looped back).
"""
import os
import random
import re
import socket
import struct
import threading
import time

LOOPBACK = "127.0.0.1"
PT_PCMU = 0
PT_TEL_EVENT = 101
MAGIC = b"FCRTP"


# ------------------------------------------------------------------- SDP

class Sdp:
    """The first audio stream of an SDP body."""

    def __init__(self, ip, port, payloads, rtpmap, direction, raw):
        self.ip = ip
        self.port = port
        self.payloads = payloads  # [int] from the m= line
        self.rtpmap = rtpmap  # {pt: "PCMU/8000"}
        self.direction = direction  # sendrecv (default) | sendonly | recvonly | inactive
        self.raw = raw

    @property
    def addr(self):
        return (self.ip, self.port)

    def __repr__(self):
        return "<Sdp %s:%s %s %s>" % (self.ip, self.port, self.payloads, self.direction)


def parse_sdp(text):
    """Parses the first m=audio stream of an SDP body; None if there is none.
    The connection address is the media-level c= if present, else the
    session-level one; the direction is the media-level attribute, else the
    session-level one, else sendrecv."""
    if not text:
        return None
    lines = [l.strip() for l in text.replace("\r\n", "\n").split("\n") if l.strip()]
    session_c, session_dir = None, None
    media = None  # dict while inside the first audio m= section
    in_other_media = False
    for l in lines:
        if len(l) < 2 or l[1] != "=":
            continue
        t, v = l[0], l[2:]
        if t == "m":
            if media is not None:
                break  # only the first audio stream
            parts = v.split()
            if parts and parts[0] == "audio" and len(parts) >= 3:
                try:
                    port = int(parts[1])
                except ValueError:
                    return None
                pts = [int(p) for p in parts[3:] if p.isdigit()]
                media = {"port": port, "payloads": pts, "c": None, "dir": None, "rtpmap": {}}
                in_other_media = False
            else:
                in_other_media = True
            continue
        if in_other_media:
            continue
        if t == "c":
            m = re.match(r"IN IP[46] (\S+)", v)
            if m:
                if media is None:
                    session_c = m.group(1).split("/")[0]
                else:
                    media["c"] = m.group(1).split("/")[0]
        elif t == "a":
            if v in ("sendrecv", "sendonly", "recvonly", "inactive"):
                if media is None:
                    session_dir = v
                else:
                    media["dir"] = v
            elif v.startswith("rtpmap:") and media is not None:
                m = re.match(r"rtpmap:(\d+)\s+(\S+)", v)
                if m:
                    media["rtpmap"][int(m.group(1))] = m.group(2)
    if media is None:
        return None
    return Sdp(media["c"] or session_c, media["port"], media["payloads"], media["rtpmap"],
               media["dir"] or session_dir or "sendrecv", text)


def make_sdp(ip, port, direction="sendrecv", session_id=None, version=1):
    """SDP offer/answer text (CRLF line ends) for PCMU/8000 + telephone-event."""
    sid = session_id or random.randint(1, 2 ** 31)
    lines = ["v=0", "o=- %d %d IN IP4 %s" % (sid, version, ip), "s=fulcrum-e2e", "c=IN IP4 %s" % ip, "t=0 0",
             "m=audio %d RTP/AVP %d %d" % (port, PT_PCMU, PT_TEL_EVENT),
             "a=rtpmap:%d PCMU/8000" % PT_PCMU, "a=rtpmap:%d telephone-event/8000" % PT_TEL_EVENT,
             "a=fmtp:%d 0-15" % PT_TEL_EVENT, "a=ptime:20", "a=%s" % direction]
    return "\r\n".join(lines) + "\r\n"


# ------------------------------------------------------------------- RTP

class RtpPacket:
    __slots__ = ("version", "padding", "extension", "cc", "marker", "pt", "seq", "ts", "ssrc", "payload",
                 "arrived", "src")

    @classmethod
    def parse(cls, data, arrived=None, src=None):
        """An RTP packet from bytes, or None if it is not RTP version 2
        (RTCP packet types 200-204 are not RTP either)."""
        if len(data) < 12:
            return None
        b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
        if b0 >> 6 != 2:
            return None
        if 72 <= (b1 & 0x7F) <= 76:  # RTCP SR/RR/SDES/BYE/APP (PT 200-204 with the marker bit)
            return None
        p = cls()
        p.version, p.padding, p.extension, p.cc = b0 >> 6, bool(b0 & 0x20), bool(b0 & 0x10), b0 & 0x0F
        p.marker, p.pt, p.seq, p.ts, p.ssrc = bool(b1 & 0x80), b1 & 0x7F, seq, ts, ssrc
        off = 12 + 4 * p.cc
        if p.extension and len(data) >= off + 4:
            ext_len = struct.unpack("!H", data[off + 2:off + 4])[0]
            off += 4 + 4 * ext_len
        end = len(data)
        if p.padding and end > off:
            end -= data[-1]
        p.payload = data[off:end]
        p.arrived, p.src = arrived, src
        return p

    @staticmethod
    def build(pt, seq, ts, ssrc, payload, marker=False):
        return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | (pt & 0x7F), seq & 0xFFFF,
                           ts & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload

    @property
    def tag(self):
        """(endpoint id, counter) when the payload carries an rtp.py tag."""
        i = self.payload.find(MAGIC)
        if i < 0 or len(self.payload) < i + len(MAGIC) + 8:
            return None
        ep, n = struct.unpack("!II", self.payload[i + len(MAGIC):i + len(MAGIC) + 8])
        return ep, n

    def __repr__(self):
        return "<RTP pt=%d seq=%d ts=%d ssrc=%08x len=%d>" % (self.pt, self.seq, self.ts, self.ssrc, len(self.payload))


def seq_ok(seqs):
    """True when seqs increase by 1 (mod 2^16) most of the time and never go
    backwards by more than a reorder window: a forwarded stream, not a
    shuffled or replayed one. Gaps (loss) are allowed."""
    if len(seqs) < 2:
        return True
    for a, b in zip(seqs, seqs[1:]):
        d = (b - a) & 0xFFFF
        if d == 0 or d > 0x8000 - 1 and (0x10000 - d) > 3:
            return False
    return True


_ep_ids = iter(range(1, 1 << 30))
_ep_lock = threading.Lock()


class RtpEndpoint:
    """A UDP socket on 127.0.0.1 that sends tagged PCMU RTP packets and
    records every RTP packet it receives (in a background thread)."""

    def __init__(self, ip=LOOPBACK, port=0):
        self.ip = ip
        self.sock = self._bind(ip, port)
        self.port = self.sock.getsockname()[1]
        with _ep_lock:
            self.id = (os.getpid() << 12 ^ next(_ep_ids)) & 0xFFFFFFFF
        self.ssrc = random.randint(1, 0xFFFFFFFF)
        self.seq = random.randint(0, 0xFFFF)
        self.ts = random.randint(0, 0xFFFFFFFF)
        self.sent = []  # (time, dest, seq, counter)
        self.received = []  # RtpPacket (with .arrived, .src)
        self.garbage = 0  # datagrams that were not RTP
        self._counter = 0
        self._cond = threading.Condition()
        self._closed = False
        self._senders = []
        self._rx = threading.Thread(target=self._recv_loop, daemon=True)
        self._rx.start()

    @staticmethod
    def _bind(ip, port):
        if port:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ip, port))
            return s
        # an even port, as RTP wants (RTCP would be the odd one above)
        for _ in range(50):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ip, 0))
            if s.getsockname()[1] % 2 == 0:
                return s
            s.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, 0))
        return s

    @property
    def addr(self):
        return (self.ip, self.port)

    def sdp(self, direction="sendrecv", version=1):
        return make_sdp(self.ip, self.port, direction, session_id=self.id, version=version)

    # -- receiving
    def _recv_loop(self):
        self.sock.settimeout(0.1)
        while not self._closed:
            try:
                data, src = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            p = RtpPacket.parse(data, time.time(), src)
            with self._cond:
                if p is None:
                    self.garbage += 1
                else:
                    self.received.append(p)
                self._cond.notify_all()

    def packets(self, pt=None, from_ep=None):
        """Received packets (optionally one payload type / only those tagged
        by the RtpEndpoint from_ep)."""
        with self._cond:
            got = list(self.received)
        if pt is not None:
            got = [p for p in got if p.pt == pt]
        if from_ep is not None:
            got = [p for p in got if p.tag and p.tag[0] == from_ep.id]
        return got

    def wait_received(self, n, timeout=5.0, pt=None, from_ep=None):
        """Waits until n packets (filtered as packets()) arrived; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.packets(pt, from_ep)
            left = deadline - time.monotonic()
            if len(got) >= n or left <= 0:
                return got
            with self._cond:
                self._cond.wait(min(left, 0.1))

    def stats(self, from_ep=None):
        got = self.packets(from_ep=from_ep)
        return {
            "count": len(got),
            "pts": sorted(set(p.pt for p in got)),
            "ssrcs": sorted(set(p.ssrc for p in got)),
            "sources": sorted(set(p.src for p in got)),
            "seq_ok": seq_ok([p.seq for p in got]),
            "tags": len([p for p in got if p.tag]),
            "garbage": self.garbage,
        }

    # -- sending
    def _packet(self, pt, payload_size, marker):
        self._counter += 1
        tag = MAGIC + struct.pack("!II", self.id, self._counter)
        fill = b"\xff" if pt == PT_PCMU else b"\x00"
        payload = tag + fill * max(0, payload_size - len(tag))
        pkt = RtpPacket.build(pt, self.seq, self.ts, self.ssrc, payload, marker)
        seq, n = self.seq, self._counter
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + 160) & 0xFFFFFFFF
        return pkt, seq, n

    def send(self, dest, count=50, interval=0.02, pt=PT_PCMU, payload_size=160):
        """Sends count packets to dest=(ip, port), interval seconds apart
        (blocking). The first has the marker bit."""
        dest = (dest[0], int(dest[1]))
        next_t = time.monotonic()
        for i in range(count):
            if self._closed:
                return
            pkt, seq, n = self._packet(pt, payload_size, marker=(i == 0))
            try:
                self.sock.sendto(pkt, dest)
            except OSError:
                pass
            self.sent.append((time.time(), dest, seq, n))
            next_t += interval
            d = next_t - time.monotonic()
            if d > 0:
                time.sleep(d)

    def send_to(self, dest, count=50, interval=0.02, pt=PT_PCMU, payload_size=160):
        """Like send() but in a background thread; returns the thread."""
        t = threading.Thread(target=self.send, args=(dest, count, interval, pt, payload_size), daemon=True)
        t.start()
        self._senders.append(t)
        return t

    def close(self):
        self._closed = True
        for t in self._senders:
            t.join(5)
        self._rx.join(1)
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
