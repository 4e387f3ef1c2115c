#!/usr/bin/env python3
"""check_tones.py — dev check: rtpengine plays the ringback WAVs to a caller.

    python3 tests/e2e/check_tones.py [-v] [--tones DIR] [--codec PCMU|PCMA|both]

Not part of the e2e suite (tests/e2e/run.py only runs test_*.py). Starts its
own userspace rtpengine on 127.0.0.1 with free ports and the project's
rtp-config/rtpengine.conf, generates the tones with deploy/gen-tones.py into a
temporary directory (or uses --tones DIR), and for each codec:

  1. offer  {from-tag A, sdp: caller's SDP (our UDP socket)}           (A rings in)
     answer {from-tag A, to-tag V, sdp: virtual peer (our blackhole)}   (§5.3)
  2. play media {from-tag A, file: us.wav, repeat-times 1000}
     → RTP arrives at the caller socket in the offered codec, the reply has a
       duration, and the energy follows the us cadence (2 s on, 4 s off, loop)
  3. offer {from-tag A, to-tag B1, sdp: A's SDP}    (a B leg being dialled)
     → does the ringback towards A continue?
  4. a second B leg (to-tag B2), then answer {A, B1}, then delete {A, B2}
     → does the ringback towards A continue after each? (Measured with
       rtpengine 10.5: offers and the answer leave it playing; the delete of
       a leg stops it — a new play media resumes it.)
  5. play media of every WAV: each plays, with duration = its cadence cycle
  6. stop media {from-tag A} → RTP towards A stops; the virtual peer and the
     B legs never received the tone.

The caller also sends 20 ms RTP (silence) to rtpengine like a real phone,
unless --quiet-caller. Prints every ng message and reply with -v. Exit status
0 when every check passed. Needs rtpengine (10.5) and python3.
"""
import argparse
import json
import math
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONF = os.path.join(ROOT, "rtp-config", "rtpengine.conf")
GEN = os.path.join(ROOT, "deploy", "gen-tones.py")

VERBOSE = False
FAILED = []


def log(*a):
    print(*a, flush=True)


def check(ok, what):
    log("  %s  %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        FAILED.append(what)
    return ok


# ------------------------------------------------------------------ G.711

def ulaw_to_lin(b):
    b = ~b & 0xFF
    t = ((b & 0x0F) << 3) + 0x84
    t <<= (b & 0x70) >> 4
    return (0x84 - t) if b & 0x80 else (t - 0x84)


def alaw_to_lin(b):
    b ^= 0x55
    t = (b & 0x0F) << 4
    seg = (b & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t += 0x108
        t <<= seg - 1
    return t if b & 0x80 else -t


ULAW = [ulaw_to_lin(i) for i in range(256)]
ALAW = [alaw_to_lin(i) for i in range(256)]
CODECS = {"PCMU": (0, ULAW), "PCMA": (8, ALAW)}


def dbm0(payload, table):
    """Level of a G.711 payload in dBm0 (0 dBm0 = sine of RMS 22832/sqrt 2)."""
    if not payload:
        return -99.0
    p = sum(table[b] ** 2 for b in payload) / len(payload)
    ref = (32767 * 10 ** (-3.17 / 20)) ** 2 / 2
    return 10 * math.log10(p / ref) if p > 0 else -99.0


# ------------------------------------------------------------------ helpers

def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def free_port_range(n=100):
    """A range of n UDP ports on 127.0.0.1 that are all free right now."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - n, 2)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base, base + n - 1
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


class Ng:
    def __init__(self, port):
        self.addr = ("127.0.0.1", port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(2.0)

    def __call__(self, msg):
        cookie = "%08x" % random.getrandbits(32)
        body = json.dumps(msg)
        if VERBOSE:
            log("    ng> " + body)
        for _ in range(3):
            self.s.sendto((cookie + " " + body).encode(), self.addr)
            try:
                while True:
                    data, _ = self.s.recvfrom(65535)
                    c, _, rest = data.decode().partition(" ")
                    if c == cookie:
                        break
                rep = json.loads(rest)
                if VERBOSE:
                    log("    ng< " + json.dumps(rep))
                return rep
            except socket.timeout:
                continue
        raise RuntimeError("no reply from rtpengine to %s" % msg["command"])


class RtpSink:
    """A UDP socket that records (arrival time, payload type, payload)."""

    def __init__(self, name):
        self.name = name
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.05)
        self.port = self.s.getsockname()[1]
        self.pkts = []
        self.lock = threading.Lock()
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            try:
                data, _ = self.s.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) < 12 or data[0] >> 6 != 2:
                continue
            cc = data[0] & 0x0F
            pt = data[1] & 0x7F
            seq, ts, ssrc = struct.unpack("!HII", data[2:12])
            with self.lock:
                self.pkts.append((time.monotonic(), pt, seq, ts, ssrc, data[12 + 4 * cc:]))

    def since(self, t0, t1=None):
        with self.lock:
            return [p for p in self.pkts if p[0] >= t0 and (t1 is None or p[0] < t1)]

    def close(self):
        self.stop = True
        self.t.join()
        self.s.close()


class Sender:
    """Sends 20 ms of silence every 20 ms from a sink's socket to dest."""

    def __init__(self, sink, pt, silence_byte):
        self.sink, self.pt, self.byte = sink, pt, silence_byte
        self.dest = None
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        seq, ts, ssrc = random.getrandbits(16), random.getrandbits(32), random.getrandbits(32)
        nxt = time.monotonic()
        while not self.stop:
            if self.dest:
                hdr = struct.pack("!BBHII", 0x80, self.pt, seq, ts, ssrc)
                try:
                    self.sink.s.sendto(hdr + bytes([self.byte]) * 160, self.dest)
                except OSError:
                    return
                seq = (seq + 1) & 0xFFFF
                ts = (ts + 160) & 0xFFFFFFFF
            nxt += 0.02
            time.sleep(max(0, nxt - time.monotonic()))


def sdp(port, pt, name, sess):
    return ("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP %d 101\r\na=rtpmap:%d %s/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\na=ptime:20\r\n"
            % (sess, port, pt, pt, name))


def media_port(s):
    for line in s.splitlines():
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise ValueError("no m=audio in SDP")


def rate(pkts, window):
    return len(pkts) / window if window > 0 else 0


def tone_packets(pkts, table, floor=-30.0):
    return [p for p in pkts if dbm0(p[5], table) > floor]


# ------------------------------------------------------------------ scenario

def run_codec(ng, codec, tones, quiet_caller):
    pt, table = CODECS[codec]
    silence = 0xFF if codec == "PCMU" else 0xD5
    log("\n== %s (payload type %d)" % (codec, pt))
    cid = "tones-%s-%08x" % (codec, random.getrandbits(32))
    A, V = "A-" + codec, "V-" + codec
    caller, virt, b1, b2 = RtpSink("A"), RtpSink("V"), RtpSink("B1"), RtpSink("B2")
    snd = None if quiet_caller else Sender(caller, pt, silence)
    a_sdp = sdp(caller.port, pt, codec, 1001)
    res = {}
    try:
        r = ng({"command": "offer", "call-id": cid, "from-tag": A, "sdp": a_sdp})
        check(r.get("result") == "ok", "offer A: result ok")
        r = ng({"command": "answer", "call-id": cid, "from-tag": A, "to-tag": V,
                "sdp": sdp(virt.port, pt, codec, 2002)})
        check(r.get("result") == "ok", "answer A/V (virtual peer): result ok")
        a_port = media_port(r["sdp"])
        if snd:
            snd.dest = ("127.0.0.1", a_port)
        time.sleep(0.3)

        path = os.path.join(tones, "us.wav")
        t0 = time.monotonic()
        r = ng({"command": "play media", "call-id": cid, "from-tag": A, "file": path,
                "repeat-times": 1000})
        check(r.get("result") == "ok", "play media us.wav: result ok")
        res["duration"] = r.get("duration")
        check(isinstance(r.get("duration"), int) and 5900 <= r["duration"] <= 6100,
              "play media reply has duration %r (us.wav is 6000 ms)" % r.get("duration"))

        # 7 s: 2 s tone, 4 s silence, and the start of the repeat.
        time.sleep(7.0)
        pk = caller.since(t0)
        pts = sorted(set(p[1] for p in pk))
        check(len(pk) > 300, "%d RTP packets at the caller in 7 s (%.1f/s)" % (len(pk), rate(pk, 7.0)))
        check(pts == [pt], "payload types seen at the caller: %s" % pts)
        # The cadence, on the RTP timestamp clock (arrival times jitter).
        ssrcs = sorted(set(p[4] for p in pk))
        check(len(ssrcs) == 1, "one SSRC at the caller (%d)" % len(ssrcs))
        ts0 = pk[0][3] if pk else 0
        tp = tone_packets(pk, table)
        on = [((p[3] - ts0) & 0xFFFFFFFF) / 8000.0 for p in tp]
        lv = [dbm0(p[5], table) for p in tp]
        if on:
            first_on = [t for t in on if t < 3.0]
            second_on = [t for t in on if t >= 3.0]
            span1 = (max(first_on) - min(first_on) + 0.02) if first_on else 0
            log("     tone packets (RTP time): first burst %.2f-%.2f s, repeat starts at %s s,"
                " level %.1f dBm0; first packet %.3f s after the play media request"
                % (min(first_on), max(first_on) + 0.02 if first_on else 0,
                   "%.2f" % min(second_on) if second_on else "-", sum(lv) / len(lv),
                   pk[0][0] - t0))
            check(1.9 <= span1 <= 2.1, "first burst lasts %.2f s (us: 2 s on)" % span1)
            check(bool(second_on) and 5.95 <= min(second_on) - min(first_on) <= 6.05,
                  "the file loops seamlessly: the next burst starts 6 s after the first")
            check(not [t for t in on if min(first_on) + 2.1 < t < min(first_on) + 5.9],
                  "silence between bursts (us: 4 s off)")
            check(-15.0 <= sum(lv) / len(lv) <= -8.0,
                  "tone level %.1f dBm0 (two tones at -13 dBm0 each = -10)" % (sum(lv) / len(lv)))
        else:
            check(False, "tone energy at the caller")
        res["pps_playing"] = rate(caller.since(time.monotonic() - 1.0), 1.0)

        # A B leg is dialled while the ringback plays.
        r = ng({"command": "offer", "call-id": cid, "from-tag": A, "to-tag": "B1",
                "sdp": a_sdp})
        check(r.get("result") == "ok", "offer A/B1 (a B leg being dialled): result ok")
        b1_port = media_port(r["sdp"])
        t1 = time.monotonic()
        time.sleep(1.5)
        n = len(caller.since(t1 + 0.2))
        res["after_offer_b1"] = n
        check(n > 40, "ringback continues after offer {A, B1}: %d packets in 1.3 s" % n)

        r = ng({"command": "offer", "call-id": cid, "from-tag": A, "to-tag": "B2",
                "sdp": a_sdp})
        check(r.get("result") == "ok", "offer A/B2 (a second parallel leg): result ok")
        t2 = time.monotonic()
        time.sleep(1.5)
        n = len(caller.since(t2 + 0.2))
        res["after_offer_b2"] = n
        check(n > 40, "ringback continues after offer {A, B2}: %d packets in 1.3 s" % n)

        # B1 answers early (183 with SDP) — the answer of a ringing leg.
        r = ng({"command": "answer", "call-id": cid, "from-tag": A, "to-tag": "B1",
                "sdp": sdp(b1.port, pt, codec, 3003)})
        check(r.get("result") == "ok", "answer A/B1: result ok")
        t3 = time.monotonic()
        time.sleep(1.5)
        n = len(caller.since(t3 + 0.2))
        res["after_answer_b1"] = n
        log("     after answer {A, B1}: %d packets at the caller in 1.3 s (%s)"
            % (n, "ringback still playing" if n > 40 else "ringback STOPPED"))

        r = ng({"command": "delete", "call-id": cid, "from-tag": A, "to-tag": "B2"})
        check(r.get("result") == "ok", "delete A/B2 (losing leg): result ok")
        t4 = time.monotonic()
        time.sleep(1.5)
        n = len(caller.since(t4 + 0.2))
        res["after_delete_b2"] = n
        log("     after delete {A, B2}: %d packets at the caller in 1.3 s (%s)"
            % (n, "ringback still playing" if n > 40 else "ringback STOPPED"))
        if n <= 40:
            r = ng({"command": "play media", "call-id": cid, "from-tag": A, "file": path,
                    "repeat-times": 1000})
            check(r.get("result") == "ok", "play media again after the delete: result ok")
            t4 = time.monotonic()
            time.sleep(1.0)
            n = len(caller.since(t4 + 0.2))
            res["after_replay"] = n
            check(n > 30, "a new play media resumes the ringback: %d packets in 0.8 s" % n)

        # Every file plays, and its duration is its cadence cycle.
        durs = {}
        for f in sorted(os.listdir(tones)):
            if not f.endswith(".wav"):
                continue
            r = ng({"command": "play media", "call-id": cid, "from-tag": A,
                    "file": os.path.join(tones, f), "repeat-times": 1000})
            durs[f[:-4]] = r.get("duration") if r.get("result") == "ok" else r
        res["durations"] = durs
        bad = {k: v for k, v in durs.items() if not isinstance(v, int) or v < 1000}
        check(len(durs) == 40 and not bad, "play media of all %d files: durations (ms) %s"
              % (len(durs), " ".join("%s=%s" % kv for kv in sorted(durs.items()))))

        r = ng({"command": "stop media", "call-id": cid, "from-tag": A})
        res["stop_reply"] = r
        check(r.get("result") == "ok", "stop media: result ok")
        t5 = time.monotonic()
        time.sleep(1.3)
        late = [p for p in caller.since(t5 + 0.3)
                if p[1] == pt and dbm0(p[5], table) > -30.0]
        # B1 is answered, so rtpengine may now forward B1's RTP (none: B1
        # sends nothing), so any packet here would be the player's.
        allp = caller.since(t5 + 0.3)
        check(not allp, "stop media: no RTP at the caller 0.3-1.3 s after (%d packets, %d with tone)"
              % (len(allp), len(late)))
        for sink in (virt, b1, b2):
            tp = tone_packets(sink.pkts, table)
            check(not tp, "no ringback leaked to %s (%d packets, %d with tone)"
                  % (sink.name, len(sink.pkts), len(tp)))
        ng({"command": "delete", "call-id": cid})
    finally:
        if snd:
            snd.stop = True
            snd.t.join()
        for s in (caller, virt, b1, b2):
            s.close()
    return res


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true", help="print ng messages and replies")
    ap.add_argument("--tones", help="directory with the WAVs (default: generate into a temp dir)")
    ap.add_argument("--codec", default="both", choices=["PCMU", "PCMA", "both"])
    ap.add_argument("--quiet-caller", action="store_true", help="the caller sends no RTP")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (rtpengine log)")
    args = ap.parse_args()
    VERBOSE = args.verbose
    if not shutil.which("rtpengine"):
        log("rtpengine not found")
        return 2

    tmp = tempfile.mkdtemp(prefix="fc-check-tones-")
    tones = args.tones
    if not tones:
        tones = os.path.join(tmp, "tones")
        subprocess.run([sys.executable, GEN, tones], check=True)
    tones = os.path.abspath(tones)

    ng_port = free_udp_port()
    lo, hi = free_port_range()
    logf = open(os.path.join(tmp, "rtpengine.log"), "w")
    cmd = ["rtpengine", "--config-file=" + CONF, "--config-section=rtpengine", "--foreground",
           "--table=-1", "--listen-ng=127.0.0.1:%d" % ng_port, "--interface=127.0.0.1",
           "--port-min=%d" % lo, "--port-max=%d" % hi, "--log-level=7"]
    log("starting: " + " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    results = {}
    try:
        ng = Ng(ng_port)
        deadline = time.monotonic() + 10
        while True:
            try:
                if ng({"command": "ping"}).get("result") == "pong":
                    break
            except RuntimeError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("rtpengine did not start (log: %s)" % logf.name)
            time.sleep(0.2)
        for codec in (["PCMU", "PCMA"] if args.codec == "both" else [args.codec]):
            results[codec] = run_codec(ng, codec, tones, args.quiet_caller)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        logf.close()
        if args.keep or FAILED:
            log("rtpengine log: %s" % logf.name)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    log("\nsummary: " + json.dumps(results, default=str))
    log("%d failed" % len(FAILED) if FAILED else "all checks passed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
