#!/usr/bin/env python3
"""make bench: call-rate capacity of Fulcrum against a plain stateful proxy.

Both run on this machine in the same run, with the same sipp load:

  caller (sipp uac.xml)  INVITE+SDP -> 1xx* -> 200 -> ACK -> hold -> BYE -> 200
                         (a re-INVITE at any time is answered)
  target (sipp uas.xml)  200+SDP to the INVITE, 200 to the BYE

  plain:    caller -> Kamailio (tests/bench/plain-proxy.cfg: tm, sl, rr,
            maxfwd; record_route, t_relay) -> target
  Fulcrum:  caller -> Kamailio+fulcrum.so -> Redis -> callctl -> webhook app
            (tests/bench/webhook_app.py, asyncio, keep-alive) answering
            <Dial><Sip>sip:bench-{CallSid}@target</Sip></Dial> -> callctl ->
            Redis -> Kamailio (B2BUA, rtpengine) -> target

The rate climbs (--rates, default 25, 50, 100, 200, 300, ...), each step
rate x --step-seconds calls; the climb stops after the first step that is not
sustained (< 99.9 % of the calls completed the scenario, or sipp could not
place them at >= 90 % of the rate). During the --delay-rate step (100/s) the
loopback is captured (dumpcap) and every call's caller INVITE (in) is paired
with the target INVITE (out) and, for Fulcrum, with its webhook request and
response: added delay = (INVITE out - INVITE in) - (webhook response - webhook
request), all on the kernel's capture clock. CPU of every process (by process
group: kamailio and its children, callctl, redis, rtpengine, webhook app,
both sipps, dumpcap; everything else is "other") is sampled from /proc
during each step, with kernel UDP receive-buffer drops and the error lines
the components logged.

Both Kamailios get the same listen sockets, workers (--children) and memory
(--shm, 2048 MB: with 128 MB even the plain proxy runs out of shared memory
near 1000 calls/s, completed transactions linger 5 s). Fulcrum's rtpengine
gets the ports above the kernel's ephemeral range (61000-65535): each call
holds 6 RTP/RTCP ports, and an e2e-sized block of 100 runs out at once.

--reject measures the pre-answer pipeline only (webhook <Reject> -> 486).
Logs, sipp statistics and captures: build/bench-logs/<time>/. Options:
--help. Only loopback is used; one bench at a time (/tmp/fulcrum-bench.lock).
The whole run is bounded by --budget seconds (default 600).
"""

import argparse
import csv
import fcntl
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
sys.path.insert(0, HERE)
import harness  # noqa: E402  (tests/e2e/harness.py)
import wire  # noqa: E402

LOOPBACK = harness.LOOPBACK
SIPP = harness.SIPP
UAC_XML = os.path.join(HERE, "uac.xml")
UAS_XML = os.path.join(HERE, "uas.xml")
UAC_REJECT_XML = os.path.join(HERE, "uac-reject.xml")
UAS_REJECT_XML = os.path.join(HERE, "uas-reject.xml")
PLAIN_CFG = os.path.join(HERE, "plain-proxy.cfg")
WEBHOOK_APP = os.path.join(HERE, "webhook_app.py")
NUMBER = "+14155550199"
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def log(msg=""):
    print(msg, flush=True)


# ------------------------------------------------------------ RTP port range

def ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = f.read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


class HighRtpRange(harness.RtpRange):
    """The ports above the kernel's ephemeral range (61000-65535 on Linux'
    defaults): no e2e stack (20000-29999), no `make run` (30000-30999) and no
    outgoing connection ever uses them. One bench at a time (bench lock)."""

    def __init__(self):
        self.fd = None
        hi = ephemeral_range()[1]
        self.min = (hi + 2) // 2 * 2
        self.max = 65535
        if self.max - self.min < 2000:
            raise RuntimeError("fewer than 2000 ports above the ephemeral range")

    def release(self):
        pass


class WideRtpRange(harness.RtpRange):
    """Like the harness' RtpRange (blocks of 100 ports held with flock, so
    that concurrent e2e runs never share them) but several consecutive
    blocks: a call through rtpengine holds a few ports, and hundreds of
    calls are up at once at high rates."""

    BLOCKS = 20

    def __init__(self):
        os.makedirs(self.LOCK_DIR, exist_ok=True)
        self.fd = None
        self.fds = []
        for blocks in (self.BLOCKS, self.BLOCKS // 2, self.BLOCKS // 4):
            for first in range(self.COUNT - blocks, -1, -blocks):
                fds = []
                for slot in range(first, first + blocks):
                    fd = os.open(os.path.join(self.LOCK_DIR, "%d.lock" % slot), os.O_CREAT | os.O_RDWR, 0o666)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        os.close(fd)
                        break
                    fds.append(fd)
                if len(fds) == blocks:
                    self.fds = fds
                    self.fd = fds[0]
                    self.min = self.BASE + first * self.SIZE
                    self.max = self.min + blocks * self.SIZE - 1
                    return
                for fd in fds:
                    os.close(fd)
        raise RuntimeError("no free range of RTP port blocks in %s" % self.LOCK_DIR)

    def release(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.fd = None


# --------------------------------------------------------------- CPU sampler

def _read_stat(pid):
    try:
        with open("/proc/%s/stat" % pid, "rb") as f:
            s = f.read().decode("latin-1")
    except OSError:
        return None
    lp, rp = s.find("("), s.rfind(")")
    comm = s[lp + 1:rp]
    f = s[rp + 2:].split()
    # f[0]=state f[1]=ppid f[2]=pgrp ... f[11]=utime f[12]=stime
    return comm, int(f[2]), int(f[11]) + int(f[12])


def udp_drops():
    """Kernel UDP receive-buffer drops so far (all sockets of this network
    namespace): /proc/net/snmp Udp RcvbufErrors."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [l.split() for l in f if l.startswith("Udp:")]
        return int(rows[1][rows[0].index("RcvbufErrors")])
    except (OSError, ValueError, IndexError):
        return None


def _sys_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle, sum(v[:8])


OTHER = "other"


class CpuSampler(threading.Thread):
    """Samples utime+stime of every process once per interval, grouped by
    process group (watched groups: name -> group leader pid; the rest is
    "other"). The machine's load is taken from these per-process sums (and
    /proc/stat, whichever is higher): in this VM /proc/stat loses most of the
    busy time under a loopback packet load, per-process times do not, but
    processes that start and end within a window are missed by them."""

    def __init__(self, interval=0.5):
        super().__init__(daemon=True)
        self.interval = interval
        self.groups = {}  # pgid -> name
        self.samples = []  # (monotonic, {pid: (group name, comm, ticks)}, (busy, total))
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()

    def watch(self, name, pgid):
        with self.lock:
            self.groups[pgid] = name

    def unwatch(self, pgid):
        with self.lock:
            self.groups.pop(pgid, None)

    def sample(self):
        with self.lock:
            groups = dict(self.groups)
        procs = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            st = _read_stat(d)
            if st:
                procs[int(d)] = (groups.get(st[1], OTHER), st[0], st[2])
        snap = (time.monotonic(), procs, _sys_cpu())
        with self.lock:
            self.samples.append(snap)
            if len(self.samples) > 20000:
                del self.samples[:10000]
        return snap

    def run(self):
        while not self.stop_ev.wait(self.interval):
            try:
                self.sample()
            except Exception:  # a process vanishing mid-read, ...
                pass

    def window(self, t0, t1):
        """CPU over [t0, t1] (monotonic): {group: {"pct": % of one core, summed
        over the group's processes; "max_proc": (pct, "comm pid") of its
        busiest process}} ("other": every process not watched), and the
        machine's busy % (of all cores)."""
        with self.lock:
            s = list(self.samples)
        if len(s) < 2:
            return {}, None
        a = min(s, key=lambda x: abs(x[0] - t0))
        b = min(s, key=lambda x: abs(x[0] - t1))
        dt = b[0] - a[0]
        if dt <= 0:
            return {}, None
        out = {}
        for pid, (grp, comm, ticks) in b[1].items():
            before = a[1].get(pid)
            if before is None and grp == OTHER:
                continue  # started within the window: its start time is unknown
            base = before[2] if before else 0
            pct = (ticks - base) / CLK_TCK / dt * 100.0
            g = out.setdefault(grp, {"pct": 0.0, "max_proc": (0.0, "")})
            g["pct"] += pct
            if pct > g["max_proc"][0]:
                g["max_proc"] = (pct, "%s[%d]" % (comm, pid))
        stat_busy = (b[2][0] - a[2][0]) / max(1, (b[2][1] - a[2][1])) * 100.0
        proc_busy = sum(g["pct"] for g in out.values()) / NCPU
        return out, max(stat_busy, proc_busy)


# ------------------------------------------------------------------- helpers

def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = socket.socket()
        try:
            s.settimeout(0.3)
            s.connect((LOOPBACK, port))
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    return False


def read_sipp_stat(path):
    """Last row of a sipp -trace_stat file as a dict (None if absent)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
    except OSError:
        return None
    if len(rows) < 2:
        return None
    head = rows[0]
    last = rows[-1]
    return {head[i]: last[i] for i in range(min(len(head), len(last)))}


def intval(d, k):
    try:
        return int(float(d.get(k, 0) or 0))
    except (TypeError, ValueError):
        return 0


def read_rtt(dirpath):
    """[(ms since sipp started, INVITE -> 200 in ms)] from sipp -trace_rtt
    files in dirpath (sipp measures whole milliseconds)."""
    out = []
    for p in glob.glob(os.path.join(dirpath, "*_rtt.csv")):
        with open(p, newline="") as f:
            for row in csv.reader(f, delimiter=";"):
                # Date_ms (since sipp started);response_time_ms;rtd_no
                if len(row) < 2 or not row[0].replace(".", "").isdigit():
                    continue
                try:
                    out.append((float(row[0]), float(row[1])))
                except ValueError:
                    continue
    out.sort()
    return out


def pct(values, p):
    return wire.pct(values, p)


class LogWatch:
    """Counts interesting lines that logs gained since the last call."""

    PATTERNS = (("shm exhausted", ("out of mem", "could not allocate shared memory", "no more shm")),
                ("pkg exhausted", ("no more pkg",)),
                ("errors", (" ERROR:", " ERROR ", "error:", "CRITICAL")))

    def __init__(self, paths):
        self.pos = {p: self._size(p) for p in paths}

    @staticmethod
    def _size(p):
        try:
            return os.path.getsize(p)
        except OSError:
            return 0

    def delta(self):
        counts = {}
        for p, pos in self.pos.items():
            try:
                with open(p, "rb") as f:
                    f.seek(pos)
                    data = f.read()
                    self.pos[p] = f.tell()
            except OSError:
                continue
            name = os.path.splitext(os.path.basename(p))[0]
            for line in data.decode("utf-8", "replace").splitlines():
                for label, pats in self.PATTERNS:
                    if any(x in line for x in pats):
                        key = "%s %s" % (name, label)
                        counts[key] = counts.get(key, 0) + 1
                        break
        return counts


def fmt_ms(v):
    return "-" if v is None else ("%.2f" % v)


def fmt_int(v):
    return "-" if v is None else ("%.0f" % v)


# --------------------------------------------------------------------- Bench

class Bench:
    def __init__(self, args):
        self.a = args
        self.t_start = time.monotonic()
        self.deadline = self.t_start + args.budget
        self.logdir = args.logdir or os.path.join(harness.BUILD, "bench-logs", time.strftime("%Y%m%d-%H%M%S"))
        os.makedirs(self.logdir, exist_ok=True)
        self.cpu = CpuSampler()
        self.cpu.start()
        self.env = dict(os.environ)
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            self.env.pop(k, None)

    def proc(self, name, argv, log_path, cwd=None):
        return harness.Proc(name, argv, self.env, log_path, cwd=cwd or self.logdir)

    # -- components
    def start_uas(self, label):
        port = harness.free_port(tcp=False)
        d = os.path.join(self.logdir, label)
        os.makedirs(d, exist_ok=True)
        argv = [SIPP, "-sf", UAS_REJECT_XML if self.a.reject else UAS_XML, "-i", LOOPBACK, "-p", str(port),
                "-mp", str(harness.free_port(tcp=False)), "-t", "u1", "-nostdin", "-buff_size", "4194304",
                "-trace_stat", "-stf", os.path.join(d, "uas-stat.csv"), "-fd", "1",
                "-trace_err", "-error_file", os.path.join(d, "uas-errors.log")]
        p = self.proc("sipp-uas", argv, os.path.join(d, "uas.log"), cwd=d)
        time.sleep(0.5)
        if not p.alive():
            raise RuntimeError("sipp UAS exited:\n" + p.tail())
        self.cpu.watch("sipp-uas", p.pid)
        return p, port, os.path.join(d, "uas-stat.csv")

    def start_plain_proxy(self, uas_port):
        port = harness.free_port()
        d = os.path.join(self.logdir, "plain")
        run = os.path.join(d, "run")
        os.makedirs(run, exist_ok=True)
        kam = ["kamailio", "-DD", "-E", "-f", PLAIN_CFG, "-m", str(self.a.shm), "-M", "16",
               "-n", str(self.a.children), "-Y", run, "-P", os.path.join(run, "kamailio.pid"),
               "-l", "udp:%s:%d" % (LOOPBACK, port), "-l", "tcp:%s:%d" % (LOOPBACK, port),
               "-A", 'BENCH_TARGET="udp:%s:%d"' % (LOOPBACK, uas_port)]
        # As the harness does for Fulcrum's Kamailio: the wrapper kills the
        # whole group (workers too) if this process dies.
        wrapper = 'trap "kill -KILL 0" USR1; "$@" & wait $!; exit $?'
        argv = ["bash", "-c", wrapper, "bash"] + kam
        if harness._SETPRIV:
            argv = [harness._SETPRIV, "--pdeathsig", "USR1", "--"] + argv
        p = harness.Proc("kamailio-plain", argv, self.env, os.path.join(d, "kamailio.log"), cwd=d, guard=False)
        if not harness.wait_until(lambda: not p.alive() or harness.sip_options(port) == 200, 20, 0.2) \
                or not p.alive():
            raise RuntimeError("plain Kamailio did not start:\n" + p.tail())
        self.cpu.watch("kamailio", p.pid)
        return p, port

    def start_webhook_app(self, uas_port):
        port = harness.free_port(udp=False)
        argv = [sys.executable, WEBHOOK_APP, "--port", str(port), "--uas", "%s:%d" % (LOOPBACK, uas_port)]
        if self.a.reject:
            argv.append("--reject")
        p = self.proc("webhook", argv, os.path.join(self.logdir, "fulcrum", "webhook_app.log"))
        if not wait_port(port):
            raise RuntimeError("webhook app did not start:\n" + p.tail())
        self.cpu.watch("webhook", p.pid)
        return p, port

    def webhook_stats(self, port, reset=True):
        try:
            url = "http://%s:%d/__stats%s" % (LOOPBACK, port, "?reset=1" if reset else "")
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(url, timeout=3) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    # -- one sipp UAC run
    def uac(self, target_port, rate, calls, d, trace_msg=False):
        os.makedirs(d, exist_ok=True)
        for p in glob.glob(os.path.join(d, "*_rtt.csv")):
            os.unlink(p)
        planned = calls / float(rate)
        run_timeout = int(planned + self.a.recv_timeout / 1000.0 * 2 + 20)
        argv = [SIPP, "-sf", UAC_REJECT_XML if self.a.reject else UAC_XML, "%s:%d" % (LOOPBACK, target_port),
                "-i", LOOPBACK, "-p", str(harness.free_port(tcp=False)), "-mp", str(harness.free_port(tcp=False)),
                "-t", "u1", "-nostdin", "-buff_size", "4194304",
                "-r", str(rate), "-rp", "1000", "-m", str(calls),
                # Calls up at once: ~0.6 x rate when all is well; the cap
                # turns a slow proxy into a lower placed rate, not a pile-up.
                "-l", str(min(15000, max(50, rate * 4))),
                "-d", str(self.a.hold_ms), "-recv_timeout", str(self.a.recv_timeout),
                "-timeout", "%ds" % run_timeout,
                "-key", "ruri_user", NUMBER,
                "-trace_stat", "-stf", os.path.join(d, "uac-stat.csv"), "-fd", "1",
                "-trace_rtt", "-rtt_freq", "1",
                "-trace_err", "-error_file", os.path.join(d, "uac-errors.log")]
        if trace_msg:
            argv += ["-trace_msg", "-message_file", os.path.join(d, "uac-messages.log")]
        p = self.proc("sipp-uac", argv, os.path.join(d, "uac.log"), cwd=d)
        self.cpu.watch("sipp-uac", p.pid)
        t0 = time.monotonic()
        try:
            rc = p.popen.wait(run_timeout + 15)
        except subprocess.TimeoutExpired:
            p.stop(grace=1)
            rc = None
        t1 = time.monotonic()
        p.stop(grace=0)
        self.cpu.unwatch(p.pid)
        st = read_sipp_stat(os.path.join(d, "uac-stat.csv")) or {}
        rtt = read_rtt(d)
        return {"rc": rc, "t0": t0, "t1": t1, "stat": st, "rtt": rtt}

    def drain(self, uas_stat, timeout=15):
        """Waits until the target has no call left (its stat file, once per s)."""
        time.sleep(1.2)

        def idle():
            s = read_sipp_stat(uas_stat)
            return s is not None and intval(s, "CurrentCall") == 0
        harness.wait_until(idle, timeout, 0.3)

    # -- a ladder of rates against one proxy
    def ladder(self, label, target_port, uas_stat, phase_deadline, capture_bpf=None, capture_args=None,
               webhook_port=None, logs=()):
        steps = []
        watch = LogWatch(logs)
        d0 = os.path.join(self.logdir, label)
        for rate in self.a.rates:
            calls = int(round(rate * self.a.step_seconds))
            est = self.a.step_seconds + self.a.hold_ms / 1000.0 + 4
            if time.monotonic() + est > phase_deadline:
                log("  %-7s stop: time budget (next step %d/s needs ~%.0f s)" % (label, rate, est))
                steps.append({"rate": rate, "skipped": "budget"})
                break
            d = os.path.join(d0, "rate-%04d" % rate)
            cap = None
            if capture_bpf and rate == self.a.delay_rate:
                os.makedirs(d, exist_ok=True)
                try:
                    cap = wire.Capture(os.path.join(d, "capture.pcap"), capture_bpf,
                                       lambda n, argv, lp: self.proc(n, argv, lp, cwd=d))
                    self.cpu.watch("dumpcap", cap.proc.pid)
                except RuntimeError as e:
                    log("  capture not possible: %s" % e)
                    cap = None
            if webhook_port:
                self.webhook_stats(webhook_port)  # reset
            drops0 = udp_drops()
            r = self.uac(target_port, rate, calls, d)
            drops1 = udp_drops()
            hook = self.webhook_stats(webhook_port) if webhook_port else None
            st = r["stat"]
            created = intval(st, "TotalCallCreated")
            ok = intval(st, "SuccessfulCall(C)")
            failed = intval(st, "FailedCall(C)")
            ratio = ok / float(calls) if calls else 0.0
            rtt = r["rtt"]
            if len(rtt) >= 2 and rtt[-1][0] > rtt[0][0]:
                achieved = (len(rtt) - 1) / ((rtt[-1][0] - rtt[0][0]) / 1000.0)
            else:
                achieved = 0.0
            setup = [x[1] for x in rtt]
            load_t1 = r["t0"] + min(self.a.step_seconds, r["t1"] - r["t0"])
            cpu, busy = self.cpu.window(r["t0"] + 0.5, load_t1)
            sustained = ratio >= 0.999 and created >= calls and achieved >= 0.9 * rate
            step = {"rate": rate, "calls": calls, "created": created, "ok": ok, "failed": failed,
                    "ratio": ratio, "achieved": achieved, "setup_p50": pct(setup, 50),
                    "setup_p99": pct(setup, 99), "cpu": cpu, "busy": busy, "sustained": sustained,
                    "rc": r["rc"], "elapsed": r["t1"] - r["t0"], "webhook": hook,
                    "udp_drops": (drops1 - drops0) if drops0 is not None and drops1 is not None else None,
                    "fail_kinds": {k: intval(st, k) for k in st
                                   if k.startswith(("Failed", "OutOfCall", "DeadCall", "Retransmissions"))
                                   and k.endswith("(C)") and intval(st, k) and k != "FailedCall(C)"}}
            if cap:
                recv, dropped = cap.stop()
                self.cpu.unwatch(cap.proc.pid)
                try:
                    res = wire.analyze(cap.path, **capture_args)
                    step["delay"] = {"summary": wire.summary(res), "calls": res["calls"], "paired": res["paired"],
                                     "webhooks": res.get("webhooks"), "captured": recv, "dropped": dropped}
                except Exception as e:  # noqa: BLE001 - report, keep going
                    step["delay"] = {"error": "%s: %s" % (type(e).__name__, e)}
            self.drain(uas_stat)
            step["log_lines"] = watch.delta()
            steps.append(step)
            self.print_step(label, step)
            if not sustained:
                break
        return steps

    def print_step(self, label, s):
        cpu = s["cpu"]
        order = ["kamailio", "callctl", "redis", "rtpengine", "webhook", "sipp-uac", "sipp-uas", "dumpcap", "bench"]
        parts = []
        for g in order:
            if g in cpu:
                c = cpu[g]
                extra = ""
                if g == "kamailio":
                    extra = " (max 1 proc %.0f)" % c["max_proc"][0]
                parts.append("%s %.0f%s" % (g, c["pct"], extra))
        log("  %-7s %5d/s  %6d calls  ok %6d  failed %5d  %7.3f%%  placed %6.1f/s  setup p50 %s p99 %s ms  %s"
            % (label, s["rate"], s["calls"], s["ok"], s["failed"], s["ratio"] * 100.0, s["achieved"],
               fmt_int(s["setup_p50"]), fmt_int(s["setup_p99"]), "SUSTAINED" if s["sustained"] else "NOT sustained"))
        log("           CPU %% of one core: %s; machine %.0f%% of %d cores, of which not ours ~%.0f%% of one core"
            % (", ".join(parts), s["busy"] or 0, NCPU, self.other_cpu(s)))
        if s.get("webhook"):
            w = s["webhook"]
            log("           webhook app: %d requests, service p50 %s p99 %s max %s ms"
                % (w["requests"], fmt_ms(w["service_ms"]["p50"]), fmt_ms(w["service_ms"]["p99"]),
                   fmt_ms(w["service_ms"]["max"])))
        if s.get("udp_drops"):
            log("           UDP datagrams dropped by the kernel (receive buffer full): %d" % s["udp_drops"])
        if s.get("log_lines"):
            log("           log lines: " + ", ".join("%s %d" % kv for kv in sorted(s["log_lines"].items())))
        if s["fail_kinds"]:
            log("           sipp counters: "
                + ", ".join("%s=%d" % (k[:-3], v) for k, v in sorted(s["fail_kinds"].items())))
        if "delay" in s:
            dl = s["delay"]
            if "error" in dl:
                log("           capture analysis failed: " + dl["error"])
            else:
                log("           capture: %d caller INVITEs, %d paired (%s packets captured, %s dropped)"
                    % (dl["calls"], dl["paired"], dl["captured"], dl["dropped"]))
                names = {"added_ms": "added delay", "forward_ms": "INVITE in->out", "webhook_ms": "webhook time",
                         "pre_ms": "INVITE in->webhook req", "post_ms": "webhook resp->INVITE out"}
                for k, v in dl["summary"].items():
                    log("           %-26s p50 %7.3f  p99 %7.3f  max %8.3f ms"
                        % (names[k], v["p50"], v["p99"], v["max"]))

    # -- phases
    def phase_plain(self, deadline):
        log("== plain stateful Kamailio proxy (tm + sl + rr + maxfwd), %d workers/socket" % self.a.children)
        uas, uas_port, uas_stat = self.start_uas("plain")
        prox = None
        try:
            prox, port = self.start_plain_proxy(uas_port)
            log("   proxy udp:%s:%d -> target udp:%s:%d" % (LOOPBACK, port, LOOPBACK, uas_port))
            return self.ladder("plain", port, uas_stat, deadline, capture_bpf="udp port %d" % port,
                               capture_args={"proxy_port": port, "uas_port": uas_port},
                               logs=[prox.log_path])
        finally:
            if prox:
                self.cpu.unwatch(prox.pid)
                prox.stop()
            self.cpu.unwatch(uas.pid)
            uas.stop()

    def phase_fulcrum(self, deadline):
        log("== Fulcrum (Kamailio + fulcrum.so, callctl, Redis, rtpengine), %d workers/socket" % self.a.children)
        uas, uas_port, uas_stat = self.start_uas("fulcrum")
        app = stack = None
        try:
            app, hport = self.start_webhook_app(uas_port)
            try:
                HighRtpRange()
                harness.RtpRange = HighRtpRange
            except RuntimeError:
                harness.RtpRange = WideRtpRange
            if self.a.rtpengine_log_level is not None:
                conf = os.path.join(self.logdir, "fulcrum", "rtpengine.conf")
                with open(harness.RTPENGINE_CONF) as f:
                    text = f.read()
                text = re.sub(r"(?m)^log-level\s*=.*$", "log-level = %d" % self.a.rtpengine_log_level, text)
                with open(conf, "w") as f:
                    f.write(text)
                harness.RTPENGINE_CONF = conf
            stack = harness.Stack("bench", logdir=os.path.join(self.logdir, "fulcrum", "stack"),
                                  FULCRUM_LOG_LEVEL=self.a.log_level, FULCRUM_SIP_CHILDREN=str(self.a.children),
                                  FULCRUM_KAMAILIO_SHM=str(self.a.shm))
            log("   proxy udp:%s:%d, REST %s, webhook app :%d, target udp:%s:%d, RTP %d-%d"
                % (LOOPBACK, stack.sip_port, stack.api_root, hport, LOOPBACK, uas_port, stack.rtp.min, stack.rtp.max))
            for name in ("kamailio", "callctl", "redis", "rtpengine"):
                self.cpu.watch(name, stack.procs[name].pid)
            stack.create_number(NUMBER, "http://%s:%d/voice" % (LOOPBACK, hport))
            bpf = "udp port %d or tcp port %d" % (stack.sip_port, hport)
            cargs = {"proxy_port": stack.sip_port, "uas_port": uas_port, "webhook_port": hport,
                     "out": "final" if self.a.reject else "invite"}
            # One call first (captured): is the pipeline there at all?
            d = os.path.join(self.logdir, "fulcrum", "smoke")
            os.makedirs(d, exist_ok=True)
            cap = None
            try:
                cap = wire.Capture(os.path.join(d, "capture.pcap"), bpf,
                                   lambda n, argv, lp: self.proc(n, argv, lp, cwd=d))
            except RuntimeError as e:
                log("   capture not possible: %s" % e)
            r = self.uac(stack.sip_port, 1, 1, d, trace_msg=True)
            ok = intval(r["stat"], "SuccessfulCall(C)")
            if cap:
                cap.stop()
                try:
                    sm = wire.summary(wire.analyze(cap.path, **cargs))
                    log("   smoke call on the wire: " + ", ".join(
                        "%s %.2f ms" % (k, v["p50"]) for k, v in sm.items()))
                except Exception as e:  # noqa: BLE001
                    log("   smoke capture analysis failed: %s: %s" % (type(e).__name__, e))
            if ok != 1:
                log("   the single smoke call did not complete: not climbing. Caller's view:")
                try:
                    res = harness.parse_sipp_trace(open(os.path.join(d, "uac-messages.log"), errors="replace").read())
                    for m in res:
                        extra = ""
                        if m.code and m.code >= 300:
                            extra = "  " + " ".join("%s: %s" % (k, v) for k, v in m.headers
                                                     if k.lower().startswith(("x-", "reason", "warning")))
                        log("     %s %s%s" % ("->" if m.direction == "sent" else "<-", m.first_line, extra))
                except OSError:
                    pass
                w = self.webhook_stats(hport, reset=False)
                log("   webhook requests received: %s" % (w["requests"] if w else "?"))
                st, body = stack.rest("GET", "Notifications.json")
                if st == 200 and isinstance(body, dict):
                    for n in (body.get("notifications") or [])[:3]:
                        log("   notification %s: %s" % (n.get("error_code"), (n.get("message_text") or "")[:200]))
                log("   logs: %s" % stack.logdir)
                return [{"rate": 1, "smoke_failed": True}]
            self.drain(uas_stat, 5)
            self.webhook_stats(hport)  # reset
            return self.ladder("fulcrum", stack.sip_port, uas_stat, deadline, capture_bpf=bpf,
                               capture_args=cargs, webhook_port=hport,
                               logs=[stack.procs[c].log_path for c in ("kamailio", "callctl", "rtpengine", "redis")])
        finally:
            if stack:
                for name in ("kamailio", "callctl", "redis", "rtpengine"):
                    if name in stack.procs:
                        self.cpu.unwatch(stack.procs[name].pid)
                stack.stop()
            if app:
                self.cpu.unwatch(app.pid)
                app.stop()
            self.cpu.unwatch(uas.pid)
            uas.stop()

    # -- report
    @staticmethod
    def best(steps):
        best = None
        for s in steps:
            if s.get("sustained"):
                best = s["rate"]
        return best

    @staticmethod
    def other_cpu(s):
        """CPU (% of one core) of processes that are not part of the bench."""
        if s.get("busy") is None:
            return 0.0
        ours = sum(c["pct"] for g, c in s["cpu"].items() if g != OTHER)
        return max(0.0, s["busy"] * NCPU - ours)

    @classmethod
    def limit_text(cls, steps):
        """Where the limit was: the first unsustained step (or the last one)."""
        run = [s for s in steps if "cpu" in s]
        if not run:
            return "not measured"
        bad = [s for s in run if not s["sustained"]]
        if not bad:
            s = run[-1]
            top = ", ".join("%s %.0f%%" % (g, c["pct"])
                            for g, c in sorted(s["cpu"].items(), key=lambda x: -x[1]["pct"]) if g != OTHER)
            return ("not reached: every step was sustained, up to %d/s (end of the ladder or of the time "
                    "budget); CPU there: %s" % (s["rate"], top))
        s = bad[0]
        cpu = s["cpu"]
        procs = sorted(((c["max_proc"][0], g, c["max_proc"][1]) for g, c in cpu.items() if g != OTHER),
                       reverse=True)
        groups = sorted(((c["pct"], g) for g, c in cpu.items() if g != OTHER), reverse=True)
        why = []
        for k, v in sorted((s.get("log_lines") or {}).items()):
            if "exhausted" in k:
                why.append("%s (%d log lines)" % (k.replace("kamailio", "Kamailio"), v))
        if s.get("udp_drops"):
            why.append("%d UDP datagrams dropped on full receive buffers" % s["udp_drops"])
        if s["busy"] is not None and s["busy"] >= 85:
            why.append("the machine's CPU was saturated (%.0f%% of %d cores)" % (s["busy"], NCPU))
        if procs and procs[0][0] >= 85:
            why.append("one process at ~100%% of a core: %s %s (%.0f%%)" % (procs[0][1], procs[0][2], procs[0][0]))
        if not why:
            why.append("no CPU saturation (%.0f%% of %d cores): latency/timeouts, see the sipp counters"
                       % (s["busy"] or 0, NCPU))
        other = cls.other_cpu(s)
        if other >= 20:
            why.append("other processes on this machine used ~%.0f%% of a core meanwhile" % other)
        top = ", ".join("%s %.0f%%" % (g, p) for p, g in groups[:5])
        state = "at %d/s (not sustained)" % s["rate"]
        return "%s: %s; CPU by component: %s" % (state, "; ".join(why), top)

    def report(self, plain, fulcrum):
        log("")
        log("=" * 78)
        log("make bench summary (%d cores, %d SIP workers per socket, calls held %d ms, steps of %g s)"
            % (NCPU, self.a.children, self.a.hold_ms, self.a.step_seconds))
        bp, bf = self.best(plain), self.best(fulcrum)

        def top_note(steps, best):
            if steps and steps[-1].get("skipped") == "budget":
                return " (time budget reached: a lower bound)"
            if steps and all(s.get("sustained") for s in steps if "cpu" in s) and best == self.a.rates[-1]:
                return " (top of the ladder: a lower bound)"
            return ""
        if self.a.reject:
            log("  REJECT MODE: calls end with 486 (Fulcrum: webhook <Reject>; plain: the target answers 486)")
        if self.a.no_plain:
            log("  plain proxy:  skipped")
        else:
            log("  plain proxy:  highest sustained rate %s%s" % ("%d calls/s" % bp if bp else "none",
                                                                 top_note(plain, bp)))
        if self.a.no_fulcrum:
            log("  Fulcrum:      skipped")
        elif fulcrum and fulcrum[0].get("smoke_failed"):
            log("  Fulcrum:      the single smoke call failed (the <Dial> pipeline does not complete a call)")
        else:
            log("  Fulcrum:      highest sustained rate %s%s" % ("%d calls/s" % bf if bf else "none",
                                                                 top_note(fulcrum, bf)))
        if bp and bf:
            log("  ratio:        %.1f %% of the plain proxy (target >= 25 %%)" % (100.0 * bf / bp))
        for name, steps in (("plain", plain), ("Fulcrum", fulcrum)):
            if (name == "plain" and self.a.no_plain) or (name == "Fulcrum" and self.a.no_fulcrum):
                continue
            ds = [s for s in steps if s.get("rate") == self.a.delay_rate and "delay" in s]
            if not ds or "summary" not in ds[0]["delay"]:
                log("  %-13s delay at %d/s: not measured" % (name + ":", self.a.delay_rate))
                continue
            sm = ds[0]["delay"]["summary"]
            a = sm.get("added_ms")
            if not a:
                log("  %-13s delay at %d/s: no call could be paired" % (name + ":", self.a.delay_rate))
                continue
            if name == "Fulcrum":
                what = "added delay (INVITE in -> %s out, webhook time excluded)" % (
                    "486" if self.a.reject else "INVITE")
            else:
                what = "forwarding delay (INVITE in -> INVITE out)"
            log("  %-13s %s at %d/s: p50 %.2f ms, p99 %.2f ms (n=%d)%s"
                % (name + ":", what, self.a.delay_rate, a["p50"], a["p99"], a["n"],
                   "  (target p99 <= 5 ms)" if name == "Fulcrum" else ""))
            other = self.other_cpu(ds[0]) if ds[0].get("cpu") else 0.0
            if other >= 20:
                log("                 (other processes on this machine used ~%.0f%% of a core during this step: "
                    "the delays may be inflated)" % other)
            if name == "Fulcrum" and sm.get("webhook_ms"):
                w = sm["webhook_ms"]
                log("                 webhook time on the wire (excluded): p50 %.2f ms, p99 %.2f ms"
                    % (w["p50"], w["p99"]))
        if not self.a.no_plain:
            log("  limit, plain:   " + self.limit_text(plain))
        if fulcrum and not fulcrum[0].get("smoke_failed"):
            log("  limit, Fulcrum: " + self.limit_text(fulcrum))
        for name, steps, comps in (("plain", plain, ("kamailio",)),
                                   ("Fulcrum", fulcrum, ("kamailio", "callctl", "redis", "rtpengine", "webhook"))):
            ok = [x for x in steps if x.get("sustained") and x.get("cpu")]
            if not ok:
                continue
            x = max(ok, key=lambda y: y["rate"])
            parts = ["%s %.3f" % (c, x["cpu"][c]["pct"] * 10.0 / x["rate"]) for c in comps if c in x["cpu"]]
            total = sum(x["cpu"][c]["pct"] * 10.0 / x["rate"] for c in comps if c in x["cpu"])
            log("  CPU per call, %s at %d/s (ms of one core): %s; total %.3f"
                % (name, x["rate"], ", ".join(parts), total))
        log("  logs, statistics and captures: %s" % self.logdir)
        with open(os.path.join(self.logdir, "results.json"), "w") as f:
            json.dump({"plain": plain, "fulcrum": fulcrum, "args": vars(self.a)}, f, indent=1, default=str)

    def run(self):
        plain, fulcrum = [], []
        try:
            if not self.a.no_plain:
                share = self.a.budget * (0.5 if not self.a.no_fulcrum else 0.95)
                try:
                    plain = self.phase_plain(min(self.deadline, time.monotonic() + share))
                except Exception as e:  # noqa: BLE001
                    log("plain proxy phase failed: %s: %s" % (type(e).__name__, e))
            if not self.a.no_fulcrum:
                try:
                    fulcrum = self.phase_fulcrum(self.deadline)
                except Exception as e:  # noqa: BLE001
                    log("Fulcrum phase failed: %s: %s" % (type(e).__name__, e))
        finally:
            self.cpu.stop_ev.set()
        self.report(plain, fulcrum)
        ok_p = self.a.no_plain or bool(self.best(plain))
        ok_f = self.a.no_fulcrum or bool(self.best(fulcrum))
        return 0 if ok_p and ok_f else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="25,50,100,200,300,400,500,600,800,1000,1500,2000,3000,4000,5000,6000,8000",
                    help="calls/s of the steps, in climbing order")
    ap.add_argument("--step-seconds", type=float, default=10.0, help="each step places rate x this many calls")
    ap.add_argument("--hold-ms", type=int, default=500, help="ACK -> BYE pause of the caller")
    ap.add_argument("--recv-timeout", type=int, default=8000, help="ms a caller waits for a message (sipp)")
    ap.add_argument("--delay-rate", type=int, default=100, help="the step that is captured for the delays")
    ap.add_argument("--budget", type=float, default=600.0, help="seconds for the whole run")
    ap.add_argument("--children", type=int, default=4, help="Kamailio SIP workers per socket (both proxies)")
    ap.add_argument("--shm", type=int, default=2048,
                    help="Kamailio shared memory MB (both proxies; 128, run-kamailio.sh's default, runs out "
                         "at ~1000 calls/s even for the plain proxy: transactions linger 5 s after completion)")
    ap.add_argument("--log-level", default="info", help="callctl's FULCRUM_LOG_LEVEL")
    ap.add_argument("--rtpengine-log-level", type=int, default=None,
                    help="run rtpengine with this log-level instead of rtp-config/rtpengine.conf's (6)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain proxy")
    ap.add_argument("--no-fulcrum", action="store_true", help="skip Fulcrum")
    ap.add_argument("--reject", action="store_true",
                    help="pre-answer pipeline only: the webhook answers <Reject reason=\"busy\"/>, callers "
                         "expect 486 (the plain proxy's target answers 486)")
    ap.add_argument("--logdir", help="default build/bench-logs/<time>")
    a = ap.parse_args()
    a.rates = [int(x) for x in a.rates.split(",") if x.strip()]
    for tool in (SIPP, "kamailio", wire.DUMPCAP):
        if not shutil.which(tool) and not os.access(tool, os.X_OK):
            log("bench: %s is not installed (deploy/install-deps.sh)" % tool)
            return 2
    lock = open("/tmp/fulcrum-bench.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        log("bench: another make bench is running (/tmp/fulcrum-bench.lock); one at a time")
        return 2
    b = Bench(a)
    b.cpu.watch("bench", os.getpgrp())
    log("make bench: logs in %s, budget %.0f s" % (b.logdir, a.budget))
    return b.run()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    sys.exit(main())
