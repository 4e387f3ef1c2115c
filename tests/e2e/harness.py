"""End-to-end test harness for Fulcrum (Python 3 standard library only).

Pieces:
  Stack(name, **env)   one complete stack on free loopback ports: redis-server,
                       rtpengine (userspace), Kamailio with build/modules/fulcrum.so
                       (kamailio-module/run-kamailio.sh) and callctl; waits for
                       every health check; logs in build/e2e-logs/<name>/.
  WebhookApp()         a real HTTP server on a free loopback port that records
                       every request (and checks X-Twilio-Signature) and serves
                       scripted responses per path.
  sipp(scenario, ...)  runs /usr/bin/sipp once (-m 1) with message and error
                       traces and returns the exit code and the parsed trace.
  FulcrumTestCase      unittest base class: a stack and a webhook app shared by
                       the tests of a class, unique numbers/paths per test, log
                       tails printed when a test fails.
  SippUas / SippCaller sipp callees (sipp/uas_*.xml, on free ports or the
                       trunk's port) and callers (sipp/uac_call.xml, ...) for
                       <Dial>, with live message traces; DialTestCase adds
                       self.uas(), self.caller(), child-leg records;
                       dial_twiml()/sip_noun()/number_noun(), digest_check().
                       tests/e2e/rtp.py is the RTP endpoint for media tests.

Everything is bounded in time and every process is killed on teardown (and at
interpreter exit), also when a test fails. Tests talk only to 127.0.0.1.

Environment: FULCRUM_SAN=1 runs build/san/callctl; FULCRUM_E2E_KEEP_LOGS is
not needed (logs are always kept under build/e2e-logs/).
"""

import atexit
import base64
import fcntl
import hashlib
import hmac
import http.server
import itertools
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
LOG_ROOT = os.path.join(BUILD, "e2e-logs")
SIPP_DIR = os.path.join(ROOT, "tests", "e2e", "sipp")
MODULE = os.path.join(BUILD, "modules", "fulcrum.so")
RTPENGINE_CONF = os.path.join(ROOT, "rtp-config", "rtpengine.conf")
RUN_KAMAILIO = os.path.join(ROOT, "kamailio-module", "run-kamailio.sh")
SIPP = "/usr/bin/sipp"
LOOPBACK = "127.0.0.1"
HEALTH_TIMEOUT = 30.0

CALL_SID_RE = re.compile(r"^CA[0-9a-f]{32}$")

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
TWIML_BUSY = XML_DECL + '<Response><Reject reason="busy"/></Response>'
TWIML_REJECT = XML_DECL + '<Response><Reject/></Response>'
# Call statuses after which nothing changes any more (twilio-voice.md §1.3).
TERMINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def callctl_binary():
    flavour = "san" if os.environ.get("FULCRUM_SAN") == "1" else "rel"
    return os.path.join(BUILD, flavour, "callctl")


# --------------------------------------------------------------------- ports

_port_lock = threading.Lock()
_ports_given = set()


def free_port(udp=True, tcp=True):
    """A loopback port that is free for TCP and/or UDP right now (bind to 0),
    never the same one twice in this process."""
    for _ in range(200):
        first = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
        try:
            first.bind((LOOPBACK, 0))
            port = first.getsockname()[1]
            if tcp and udp:
                other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    other.bind((LOOPBACK, port))
                except OSError:
                    continue
                finally:
                    other.close()
        finally:
            first.close()
        with _port_lock:
            if port in _ports_given:
                continue
            _ports_given.add(port)
        return port
    raise RuntimeError("no free port found")


class RtpRange:
    """A block of RTP ports reserved for one stack. Blocks of 100 ports in
    20000-29999 (below Linux's ephemeral range, away from stack.sh's default
    30000-30999); a block is held with flock on a file in /tmp, so concurrent
    test runs on one machine never share a block."""

    BASE, SIZE, COUNT = 20000, 100, 100
    LOCK_DIR = "/tmp/fulcrum-e2e-rtp"

    def __init__(self):
        os.makedirs(self.LOCK_DIR, exist_ok=True)
        start = (os.getpid() * 7) % self.COUNT
        for i in range(self.COUNT):
            slot = (start + i) % self.COUNT
            fd = os.open(os.path.join(self.LOCK_DIR, "%d.lock" % slot), os.O_CREAT | os.O_RDWR, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.fd = fd
            self.min = self.BASE + slot * self.SIZE
            self.max = self.min + self.SIZE - 1
            return
        raise RuntimeError("no free RTP port block")

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# ------------------------------------------------------------------ processes

_live_procs = set()
_live_lock = threading.Lock()


_SETPRIV = "/usr/bin/setpriv" if os.access("/usr/bin/setpriv", os.X_OK) else None


def orphan_guard(argv):
    """Prefix argv so that the process gets SIGKILL when this Python process
    dies (even by SIGKILL): setpriv --pdeathsig KILL (util-linux) execs the
    command, so the pid stays the same. Processes must be started from the
    main thread (the death signal follows the thread that forked)."""
    if _SETPRIV and threading.current_thread() is threading.main_thread():
        return [_SETPRIV, "--pdeathsig", "KILL", "--"] + list(argv)
    return list(argv)


class Proc:
    """A child process in its own session (process group), output to a log."""

    def __init__(self, name, argv, env, log_path, cwd=ROOT, guard=True):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        self._log = open(log_path, "ab")
        self._log.write(("---- %s starting: %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv))).encode())
        self._log.flush()
        self.popen = subprocess.Popen(
            orphan_guard(argv) if guard else argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.popen.pid
        with _live_lock:
            _live_procs.add(self)

    def alive(self):
        return self.popen.poll() is None

    def signal_group(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            pass

    def kill(self):
        """SIGKILL the whole group at once (crash simulation)."""
        self.signal_group(signal.SIGKILL)
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._done()

    def stop(self, grace=5.0):
        """SIGTERM to the group, SIGKILL after grace seconds. The group is
        signalled even when the leader is gone (Kamailio children)."""
        self.signal_group(signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        self.signal_group(signal.SIGKILL)
        try:
            self.popen.wait(2)
        except subprocess.TimeoutExpired:
            pass
        self._done()

    def _done(self):
        with _live_lock:
            _live_procs.discard(self)
        try:
            self._log.close()
        except OSError:
            pass

    def tail(self, n=40):
        return tail_file(self.log_path, n)


def tail_file(path, n=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return "(no log: %s)" % e


def _kill_everything():
    with _live_lock:
        procs = list(_live_procs)
    for p in procs:
        p.signal_group(signal.SIGKILL)
    with _live_lock:
        _live_procs.clear()


atexit.register(_kill_everything)


def _sigterm(signum, frame):
    _kill_everything()
    sys.exit(128 + signum)


if threading.current_thread() is threading.main_thread():
    try:
        signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:
        pass


def wait_until(pred, timeout, interval=0.05):
    """Polls pred() until it returns a true value (returned) or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ------------------------------------------------------------ health probes

def probe_redis(port):
    try:
        out = subprocess.run(["redis-cli", "-h", LOOPBACK, "-p", str(port), "ping"],
                             capture_output=True, text=True, timeout=2)
        return out.stdout.strip() == "PONG"
    except (OSError, subprocess.TimeoutExpired):
        return False


def probe_rtpengine(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        cookie = secrets.token_hex(4).encode()
        s.sendto(cookie + b" d7:command4:pinge", (LOOPBACK, port))
        data, _ = s.recvfrom(65535)
        return data.startswith(cookie) and b"pong" in data
    except OSError:
        return False
    finally:
        s.close()


def sip_options(port, timeout=0.5):
    """Sends OPTIONS sip:127.0.0.1:port over UDP; returns the final status
    code received, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.bind((LOOPBACK, 0))
        lp = s.getsockname()[1]
        tag = secrets.token_hex(6)
        msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:health@%s>;tag=%s\r\n"
               "To: <sip:%s:%d>\r\n"
               "Call-ID: health-%s@%s\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n") % (LOOPBACK, port, LOOPBACK, lp, tag, LOOPBACK, tag,
                                               LOOPBACK, port, tag, LOOPBACK)
        s.sendto(msg.encode(), (LOOPBACK, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data, _ = s.recvfrom(65535)
            m = re.match(rb"SIP/2\.0 (\d{3})", data)
            if m and int(m.group(1)) >= 200:
                return int(m.group(1))
        return None
    except OSError:
        return None
    finally:
        s.close()


def probe_http(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


# ---------------------------------------------------------------------- Stack

_stack_seq = itertools.count(1)


def _safe(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120]


class StackError(AssertionError):
    pass


class Stack:
    """One Fulcrum stack on its own ports:

        st = Stack("test_x", FULCRUM_WEBHOOK_TIMEOUT_MS="3000")
        st.sip_port, st.api_base, st.account_sid, st.auth_token
        st.rest("POST", "IncomingPhoneNumbers.json", {...}) -> (status, json)
        st.redis("KEYS", "fc:live:*") -> str
        st.stop()

    env overrides are given to every component (after the harness' own
    settings, so they win)."""

    def __init__(self, name, logdir=None, **env_overrides):
        self.name = name
        self.logdir = logdir or os.path.join(LOG_ROOT, _safe(name))
        os.makedirs(self.logdir, exist_ok=True)
        self.procs = {}
        self.callctls = []
        self.stopped = False
        self.rtp = None
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.env_overrides = {k: str(v) for k, v in env_overrides.items()}
        self._check_built()
        # A port found free can be taken by someone else before our process
        # binds it (ephemeral ports of outgoing connections): one retry on
        # fresh ports when a component reports an address in use.
        for attempt in (1, 2):
            self.redis_port = free_port(udp=False)
            self.ng_port = free_port(tcp=False)
            self.sip_port = free_port()
            self.api_port = free_port(udp=False)
            self.proxy_id = "e2e-%d-%d" % (os.getpid(), self.sip_port)
            self.procs, self.callctls, self.stopped = {}, [], False
            try:
                self.rtp = RtpRange()
                self._start()
                return
            except StackError as e:
                self.stop()
                if attempt == 1 and re.search(r"in use|bind", str(e), re.I):
                    continue
                raise
            except BaseException:
                self.stop()
                raise

    # -- addresses
    @property
    def api_root(self):
        return "http://%s:%d" % (LOOPBACK, self.api_port)

    @property
    def api_base(self):
        return self.api_root + "/2010-04-01"

    @property
    def account_base(self):
        return "%s/Accounts/%s" % (self.api_base, self.account_sid)

    @property
    def redis_url(self):
        return "redis://%s:%d" % (LOOPBACK, self.redis_port)

    @property
    def ctl_socket(self):
        """Kamailio's ctl socket (kamcmd -s unix:<it>), short enough for a Unix socket."""
        return "/tmp/fc-ctl-%d-%d" % (os.getpid(), self.sip_port)

    def kamcmd(self, *args):
        """Runs kamcmd against this stack's proxy; returns (rc, output)."""
        r = subprocess.run(["kamcmd", "-s", "unix:" + self.ctl_socket] + list(args),
                           capture_output=True, text=True, timeout=10)
        return r.returncode, r.stdout + r.stderr

    @property
    def sip_target(self):
        return "%s:%d" % (LOOPBACK, self.sip_port)

    # -- lifecycle
    def _check_built(self):
        missing = [p for p in (callctl_binary(), MODULE) if not os.path.exists(p)]
        if missing:
            raise StackError("not built: %s (run make all)" % ", ".join(missing))
        for b in ("redis-server", "redis-cli", "rtpengine", "kamailio"):
            if not any(os.access(os.path.join(d, b), os.X_OK)
                       for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin", "/usr/bin"]):
                raise StackError("%s not installed (run deploy/install-deps.sh)" % b)

    def env(self, **extra):
        e = dict(os.environ)
        e.update({
            "FULCRUM_REDIS_URL": self.redis_url,
            "FULCRUM_API_ADDR": LOOPBACK,
            "FULCRUM_API_PORT": str(self.api_port),
            "FULCRUM_ACCOUNT_SID": self.account_sid,
            "FULCRUM_AUTH_TOKEN": self.auth_token,
            "FULCRUM_PUBLIC_URL": self.api_root,
            "FULCRUM_RTPENGINE_NG": "%s:%d" % (LOOPBACK, self.ng_port),
            "FULCRUM_LOG_LEVEL": "debug",
            "FULCRUM_SIP_ADDR": LOOPBACK,
            "FULCRUM_SIP_PORT": str(self.sip_port),
            "FULCRUM_PROXY_ID": self.proxy_id,
            "FULCRUM_RUN_DIR": os.path.join(self.logdir, "run-%d-%d" % (os.getpid(), self.sip_port)),
            "FULCRUM_CTL_SOCKET": self.ctl_socket,
            "FULCRUM_MODULE": MODULE,
            "FULCRUM_SIP_CHILDREN": "2",
            "FULCRUM_KAMAILIO_SHM": "64",
            "ASAN_OPTIONS": e.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0"),
            "UBSAN_OPTIONS": e.get("UBSAN_OPTIONS", "print_stacktrace=1"),
        })
        # A proxy set in the outer environment must never catch loopback traffic.
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            e.pop(k, None)
        e.update(self.env_overrides)
        e.update(extra)
        return e

    def _log(self, comp):
        return os.path.join(self.logdir, comp + ".log")

    def _start(self):
        deadline = time.monotonic() + HEALTH_TIMEOUT
        env = self.env()
        self._start_redis_proc(env)
        self._wait_healthy(["redis"], deadline)
        self.procs["rtpengine"] = Proc("rtpengine", [
            "rtpengine", "--config-file=" + RTPENGINE_CONF, "--config-section=rtpengine",
            "--foreground", "--table=-1", "--listen-ng=%s:%d" % (LOOPBACK, self.ng_port),
            "--interface=" + LOOPBACK, "--port-min=%d" % self.rtp.min,
            "--port-max=%d" % self.rtp.max], env, self._log("rtpengine"))
        self._start_callctl_proc()
        self._start_kamailio_proc(env)
        self._wait_healthy(["rtpengine", "callctl", "kamailio"], deadline)

    def _start_redis_proc(self, env, appendonly="no"):
        redis_dir = os.path.join(self.logdir, "redis")
        os.makedirs(redis_dir, exist_ok=True)
        self.procs["redis"] = Proc("redis", [
            "redis-server", "--bind", LOOPBACK, "--port", str(self.redis_port),
            "--dir", redis_dir, "--save", "", "--appendonly", appendonly,
            "--daemonize", "no", "--logfile", "", "--protected-mode", "yes"],
            env, self._log("redis"))

    def restart_redis(self, down_s=1.0, timeout=HEALTH_TIMEOUT):
        """Stops Redis (SIGTERM), waits down_s, starts it again on the same
        port with an append-only file, so what it had is loaded back."""
        if self.procs["redis"].alive():
            self.redis("CONFIG", "SET", "appendonly", "yes")

            def aof_ready():
                info = self.redis("INFO", "persistence")
                return all(k in info for k in ("aof_enabled:1", "aof_rewrite_in_progress:0",
                                               "aof_rewrite_scheduled:0"))
            wait_until(aof_ready, 10, 0.1)
        self.procs["redis"].stop()
        time.sleep(down_s)
        self._start_redis_proc(self.env(), appendonly="yes")
        self._wait_healthy(["redis"], time.monotonic() + timeout)

    def _start_kamailio_proc(self, env):
        # Kamailio forks its workers; should this Python process die without
        # cleaning up (SIGKILL), the wrapper gets SIGUSR1 (parent death
        # signal) and kills the whole group, workers included. A normal
        # SIGTERM to the group reaches Kamailio directly (graceful stop).
        wrapper = 'trap "kill -KILL 0" USR1; bash "$0" & wait $!; exit $?'
        argv = ["bash", "-c", wrapper, RUN_KAMAILIO]
        if _SETPRIV:
            argv = [_SETPRIV, "--pdeathsig", "USR1", "--"] + argv
        self.procs["kamailio"] = Proc("kamailio", argv, env, self._log("kamailio"), guard=False)

    def restart_kamailio(self, timeout=HEALTH_TIMEOUT):
        """Starts the proxy again (same id and port) after it was killed."""
        self._start_kamailio_proc(self.env())
        self._wait_healthy(["kamailio"], time.monotonic() + timeout)

    def _start_callctl_proc(self):
        n = len(self.callctls) + 1
        log = self._log("callctl" if n == 1 else "callctl-%d" % n)
        p = Proc("callctl", [callctl_binary()], self.env(), log)
        self.callctls.append(p)
        self.procs["callctl"] = p
        return p

    def check(self, comp):
        if comp == "redis":
            return probe_redis(self.redis_port)
        if comp == "rtpengine":
            return probe_rtpengine(self.ng_port)
        if comp == "kamailio":
            return sip_options(self.sip_port) == 200
        if comp == "callctl":
            return probe_http(self.api_root + "/health")
        raise ValueError(comp)

    def _wait_healthy(self, comps, deadline):
        pending = list(comps)
        while pending:
            for c in list(pending):
                p = self.procs[c]
                if not p.alive():
                    raise StackError("%s[%s]: %s exited during startup (status %s)\n%s" % (
                        self.name, self.logdir, c, p.popen.returncode, self._tail_msg(c)))
                if self.check(c):
                    pending.remove(c)
            if not pending:
                return
            if time.monotonic() > deadline:
                c = pending[0]
                raise StackError("%s[%s]: %s did not pass its health check within %.0f s\n%s" % (
                    self.name, self.logdir, c, HEALTH_TIMEOUT, self._tail_msg(c)))
            time.sleep(0.1)

    def _tail_msg(self, comp, n=30):
        p = self.procs.get(comp)
        path = p.log_path if p else self._log(comp)
        return "---- last lines of %s:\n%s\n----" % (path, tail_file(path, n))

    def log_files(self):
        out = []
        for name in sorted(os.listdir(self.logdir)):
            if name.endswith(".log"):
                out.append(os.path.join(self.logdir, name))
        return out

    def kill_callctl(self):
        """SIGKILL the current callctl (no cleanup of any kind)."""
        p = self.procs.get("callctl")
        if p:
            p.kill()

    def start_callctl(self, new_port=True, timeout=HEALTH_TIMEOUT):
        """Starts another callctl instance for this stack and waits for its
        /health. new_port=True gives it a fresh API port (.api_port follows),
        so a dead instance's socket state can never interfere."""
        if new_port:
            self.api_port = free_port(udp=False)
        self._start_callctl_proc()
        self._wait_healthy(["callctl"], time.monotonic() + timeout)

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        order = ["kamailio", "callctl", "rtpengine", "redis"]
        procs = [self.procs[c] for c in order if c in self.procs]
        procs += [p for p in self.callctls if p not in procs]
        for p in procs:
            p.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for p in procs:
            try:
                p.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            p.stop(grace=0)
        if self.rtp:
            self.rtp.release()
            self.rtp = None

    # -- access
    def redis(self, *args):
        """redis-cli -p <port> --raw args...; returns stdout (stripped)."""
        r = subprocess.run(["redis-cli", "-h", LOOPBACK, "-p", str(self.redis_port), "--raw"]
                           + [str(a) for a in args], capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def redis_keys(self, pattern):
        out = self.redis("--scan", "--pattern", pattern)
        return sorted(set(l for l in out.splitlines() if l))

    def rest(self, method, path, params=None, auth=True, timeout=10):
        """REST call with Basic auth. path: "IncomingPhoneNumbers.json" is
        relative to /2010-04-01/Accounts/{AccountSid}/; "/..." is relative to
        the API root. Returns (status, parsed JSON or text or None)."""
        if path.startswith("/"):
            url = self.api_root + path
        else:
            url = self.account_base + "/" + path
        data = None
        if params:
            enc = urllib.parse.urlencode(params, doseq=True)
            if method.upper() in ("GET", "DELETE"):
                url += ("&" if "?" in url else "?") + enc
            else:
                data = enc.encode()
        req = urllib.request.Request(url, data=data, method=method.upper())
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        if auth:
            cred = base64.b64encode(("%s:%s" % (self.account_sid, self.auth_token)).encode()).decode()
            req.add_header("Authorization", "Basic " + cred)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        text = body.decode("utf-8", "replace")
        if not text:
            return status, None
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    # -- convenience for tests
    def create_number(self, number, voice_url, method=None, fallback_url=None,
                      fallback_method=None, **more):
        p = {"PhoneNumber": number, "VoiceUrl": voice_url}
        if method:
            p["VoiceMethod"] = method
        if fallback_url:
            p["VoiceFallbackUrl"] = fallback_url
        if fallback_method:
            p["VoiceFallbackMethod"] = fallback_method
        p.update(more)
        st, body = self.rest("POST", "IncomingPhoneNumbers.json", p)
        if st not in (200, 201) or not isinstance(body, dict):
            raise AssertionError("creating number %s: HTTP %s %r" % (number, st, body))
        return body

    def create_domain(self, domain, voice_url, method=None, fallback_url=None,
                      fallback_method=None, **more):
        p = {"DomainName": domain, "VoiceUrl": voice_url}
        if method:
            p["VoiceMethod"] = method
        if fallback_url:
            p["VoiceFallbackUrl"] = fallback_url
        if fallback_method:
            p["VoiceFallbackMethod"] = fallback_method
        p.update(more)
        st, body = self.rest("POST", "SIP/Domains.json", p)
        if st not in (200, 201) or not isinstance(body, dict):
            raise AssertionError("creating domain %s: HTTP %s %r" % (domain, st, body))
        return body

    def call_record(self, call_sid):
        return self.rest("GET", "Calls/%s.json" % call_sid)

    def wait_call_status(self, call_sid, statuses, timeout=5.0):
        """Polls the Call record until its status is one of statuses;
        returns the last (status, body) seen."""
        last = [None]

        def done():
            last[0] = self.call_record(call_sid)
            st, body = last[0]
            return st == 200 and isinstance(body, dict) and body.get("status") in statuses
        wait_until(done, timeout, 0.1)
        return last[0]

    def events(self, call_sid=None):
        """The JSON documents of fc:events (optionally only one call's)."""
        out = subprocess.run(["redis-cli", "-h", LOOPBACK, "-p", str(self.redis_port), "--json",
                              "XRANGE", "fc:events", "-", "+"],
                             capture_output=True, text=True, timeout=10).stdout
        docs = []
        try:
            entries = json.loads(out) if out.strip() else []
        except ValueError:
            entries = []
        for entry in entries or []:
            # [id, [field, value, ...]]
            fields = entry[1] if len(entry) > 1 else []
            for i in range(0, len(fields) - 1, 2):
                if fields[i] == "j":
                    try:
                        d = json.loads(fields[i + 1])
                    except ValueError:
                        continue
                    if call_sid is None or d.get("call_sid") == call_sid:
                        docs.append(d)
        return docs


# ----------------------------------------------------------------- WebhookApp

def twilio_signature(auth_token, url, params=None):
    """X-Twilio-Signature as Twilio computes it (twilio-voice.md §6.2),
    written independently of callctl: url + every POST param name+value,
    names in byte order (values of a repeated name sorted too), HMAC-SHA1
    with the auth token, Base64."""
    s = url
    if params:
        by_name = {}
        for k, v in params:
            by_name.setdefault(k, []).append(v)
        for k in sorted(by_name):
            for v in sorted(by_name[k]):
                s += k + v
    mac = hmac.new(auth_token.encode(), s.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class WebhookRequest:
    """One request the app received."""

    def __init__(self, method, raw_path, headers, body, url, arrived):
        self.method = method
        self.raw_path = raw_path
        split = urllib.parse.urlsplit(raw_path)
        self.path = split.path
        self.query_string = split.query
        self.query_list = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        self.query = dict(self.query_list)
        self.headers = headers  # email.message.Message (case-insensitive get)
        self.body = body
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if method == "POST" and ctype == "application/x-www-form-urlencoded":
            self.form_list = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        else:
            self.form_list = []
        self.form = dict(self.form_list)
        self.url = url  # as requested: http://127.0.0.1:port/path?query
        self.signature = headers.get("X-Twilio-Signature")
        self.signature_ok = None  # set by the app when it knows the token
        self.arrived = arrived  # time.time() when the request line was read
        self.responded = None  # time.time() when the response was written
        self.status = None  # status served

    @property
    def params(self):
        """Twilio parameters: the form for POST, the query for GET."""
        return self.form if self.method == "POST" else self.query

    def __repr__(self):
        return "<%s %s %s>" % (self.method, self.raw_path, self.params)


class WebhookApp:
    """A scripted TwiML web server on 127.0.0.1:<free port>.

        app = WebhookApp(auth_token=stack.auth_token)
        app.route("/voice", "<Response><Reject/></Response>", delay=1.0)
        stack.create_number("+14155550100", app.url("/voice"))
        ...
        reqs = app.wait_requests("/voice", 1, timeout=5)
        reqs[0].params["CallSid"], reqs[0].signature_ok

    Unknown paths get 404 (and are recorded). auth_token may be a string or a
    dict AccountSid -> token (several stacks sharing one app)."""

    def __init__(self, auth_token=None):
        self.auth_token = auth_token
        self._routes = {}
        self._reqs = []
        self._cond = threading.Condition()
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, fmt, *args):
                pass

            def _handle(self):
                arrived = time.time()
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n > 0 else b""
                host = self.headers.get("Host") or "%s:%d" % (LOOPBACK, app.port)
                url = "http://%s%s" % (host, self.path)
                req = WebhookRequest(self.command, self.path, self.headers, body, url, arrived)
                req.signature_ok = app._check_signature(req)
                with app._cond:
                    app._reqs.append(req)
                    app._cond.notify_all()
                route = app._routes.get(req.path)
                if route is None:
                    status, rbody, ctype, delay, hdrs = 404, b"no route", "text/plain", 0, {}
                else:
                    status, rbody, ctype, delay, hdrs = route
                    if callable(rbody):
                        r = rbody(req)
                        if isinstance(r, tuple):
                            status, rbody, ctype = (list(r) + [ctype])[:3]
                        else:
                            rbody = r
                if isinstance(rbody, str):
                    rbody = rbody.encode()
                if delay:
                    time.sleep(delay)
                req.status = status
                try:
                    self.send_response(status)
                    if ctype:
                        self.send_header("Content-Type", ctype)
                    for k, v in hdrs.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(rbody)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(rbody)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass
                req.responded = time.time()
                with app._cond:
                    app._cond.notify_all()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass

        self._server = Server((LOOPBACK, 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()

    def _token_for(self, req):
        if isinstance(self.auth_token, dict):
            return self.auth_token.get(req.params.get("AccountSid"))
        return self.auth_token

    def _check_signature(self, req):
        token = self._token_for(req)
        if not token or not req.signature:
            return False if token else None
        expected = twilio_signature(token, req.url, req.form_list if req.method == "POST" else None)
        return hmac.compare_digest(expected, req.signature)

    def url(self, path):
        return "http://%s:%d%s" % (LOOPBACK, self.port, path)

    def route(self, path, body, status=200, content_type="text/xml", delay=0, headers=None):
        """Serve body (str/bytes, or a function(request) returning a body or
        (status, body[, content_type])) at path (query ignored), after delay
        seconds."""
        self._routes[path] = (status, body, content_type, delay, dict(headers or {}))

    def requests(self, path=None):
        with self._cond:
            return [r for r in self._reqs if path is None or r.path == path]

    def wait_requests(self, path, n, timeout=10.0):
        """Waits until at least n requests for path arrived; returns them all
        (maybe fewer than n after timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self._reqs if path is None or r.path == path]
                left = deadline - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self._cond.wait(min(left, 0.2))

    def wait_responded(self, req, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while req.responded is None and time.monotonic() < deadline:
                self._cond.wait(0.1)
        return req.responded is not None

    def stop(self):
        try:
            self._server.shutdown()
            self._server.server_close()
        except OSError:
            pass


# ----------------------------------------------------------------------- sipp

class SipMessage:
    def __init__(self, direction, ts, text):
        self.direction = direction  # "sent" | "recv"
        self.time = ts  # epoch seconds
        self.text = text
        head, _, self.body = text.partition("\n\n")
        lines = head.split("\n")
        self.first_line = lines[0].strip()
        self.headers = []
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                self.headers.append((k.strip(), v.strip()))
        m = re.match(r"SIP/2\.0 (\d{3})\s*(.*)", self.first_line)
        self.code = int(m.group(1)) if m else None
        self.reason = m.group(2) if m else None
        self.method = None if m else self.first_line.split(" ", 1)[0]

    def header(self, name):
        """First value of header name (case-insensitive), or None."""
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v
        return None

    def header_all(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    @property
    def cseq_method(self):
        c = self.header("CSeq") or ""
        parts = c.split()
        return parts[1] if len(parts) > 1 else None

    def __repr__(self):
        return "<%s %s>" % (self.direction, self.first_line)


_TRACE_SPLIT = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s*$", re.M)


def parse_sipp_trace(text):
    """Parses sipp's -trace_msg file into SipMessage objects."""
    msgs = []
    parts = _TRACE_SPLIT.split(text)
    # parts: [pre, ts1, chunk1, ts2, chunk2, ...]
    for i in range(1, len(parts) - 1, 2):
        ts_s, chunk = parts[i], parts[i + 1]
        try:
            whole, _, frac = ts_s.partition(".")
            ts = time.mktime(time.strptime(whole, "%Y-%m-%d %H:%M:%S")) + (float("0." + frac) if frac else 0)
        except ValueError:
            ts = 0.0
        chunk = chunk.replace("\r\n", "\n").lstrip("\n")
        first, _, rest = chunk.partition("\n")
        if "message sent" in first:
            direction = "sent"
        elif "message received" in first:
            direction = "recv"
        else:
            continue
        rest = rest.lstrip("\n").rstrip("\n")
        if rest:
            msgs.append(SipMessage(direction, ts, rest + "\n"))
    return msgs


class SippResult:
    def __init__(self, rc, trace, errors, output, scenario, started, ended):
        self.rc = rc
        self.trace = trace
        self.errors = errors
        self.output = output
        self.scenario = scenario
        self.started = started
        self.ended = ended
        self.messages = parse_sipp_trace(trace)

    @property
    def ok(self):
        return self.rc == 0

    def received(self, code=None, method=None):
        """Responses received (optionally only a code / a CSeq method)."""
        return [m for m in self.messages if m.direction == "recv" and m.code is not None
                and (code is None or m.code == code)
                and (method is None or m.cseq_method == method)]

    def sent(self, method=None):
        return [m for m in self.messages if m.direction == "sent" and m.method is not None
                and (method is None or m.method == method)]

    def codes(self, method="INVITE"):
        """Status codes received for method (in order, retransmissions too)."""
        return [m.code for m in self.received(method=method)]

    def finals(self, method="INVITE"):
        return [m for m in self.received(method=method) if m.code >= 200]

    def final(self, method="INVITE"):
        f = self.finals(method)
        return f[0] if f else None

    def final_code(self, method="INVITE"):
        f = self.final(method)
        return f.code if f else None

    @property
    def invite(self):
        inv = self.sent("INVITE")
        return inv[0] if inv else None

    @property
    def call_id(self):
        inv = self.invite
        return inv.header("Call-ID") if inv else None

    def summary(self):
        lines = ["sipp %s rc=%s" % (os.path.basename(self.scenario), self.rc)]
        for m in self.messages:
            lines.append("  %.3f %s %s" % (m.time - self.started if m.time else 0,
                                           "->" if m.direction == "sent" else "<-", m.first_line))
        if self.errors.strip():
            lines.append("  errors: " + self.errors.strip()[-1500:])
        return "\n".join(lines)

    def __repr__(self):
        return self.summary()


_sipp_seq = itertools.count(1)


class SippRun:
    """A sipp process started in the background; .wait() -> SippResult."""

    def __init__(self, scenario, target, logdir=None, headers=(), ruri_user="+15550000000",
                 ruri_host=None, from_user="alice", from_disp="Alice", d_ms=1000,
                 timeout=20, transport="u1", extra_args=(), **keys):
        if not os.path.isabs(scenario):
            scenario = os.path.join(SIPP_DIR, scenario if scenario.endswith(".xml") else scenario + ".xml")
        self.scenario = scenario
        self.timeout = timeout
        logdir = logdir or os.path.join(LOG_ROOT, "sipp")
        os.makedirs(logdir, exist_ok=True)
        n = next(_sipp_seq)
        base = os.path.join(logdir, "sipp-%d-%d-%s" % (os.getpid(), n,
                                                       os.path.splitext(os.path.basename(scenario))[0]))
        self.msg_file = base + "-messages.log"
        self.err_file = base + "-errors.log"
        self.out_file = base + "-out.log"
        for f in (self.msg_file, self.err_file):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        hdrs = "".join("\r\n%s: %s" % (k, v) for k, v in headers)
        allkeys = {"ruri_user": ruri_user, "ruri_host": ruri_host or target, "from_user": from_user,
                   "from_disp": from_disp, "hdrs": hdrs}
        allkeys.update(_REFER_KEYS)
        allkeys.update(keys)
        self.local_port = free_port(tcp=False)
        argv = [SIPP, "-sf", scenario, target, "-m", "1", "-nostdin", "-t", transport,
                "-i", LOOPBACK, "-p", str(self.local_port), "-mp", str(free_port(tcp=False)),
                "-trace_msg", "-message_file", self.msg_file,
                "-trace_err", "-error_file", self.err_file,
                "-timeout", "%ds" % int(timeout), "-timeout_error",
                "-d", str(int(d_ms)), "-max_recv_loops", "1000"]
        for k, v in allkeys.items():
            argv += ["-key", k, str(v)]
        argv += list(extra_args)
        self.argv = argv
        self._out = open(self.out_file, "wb")
        self.started = time.time()
        self.popen = subprocess.Popen(orphan_guard(argv), cwd=logdir, stdin=subprocess.DEVNULL, stdout=self._out,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self):
        try:
            rc = self.popen.wait(self.timeout + 10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            rc = self.popen.wait(5)
        ended = time.time()
        self._out.close()

        def read(p):
            try:
                with open(p, "r", errors="replace") as f:
                    return f.read()
            except FileNotFoundError:
                return ""
        return SippResult(rc, read(self.msg_file), read(self.err_file), read(self.out_file),
                          self.scenario, self.started, ended)


def sipp(scenario, target, **kw):
    """Runs a sipp scenario once and returns SippResult (rc, trace, parsed
    messages). Keyword arguments: logdir, headers=[(name, value)], ruri_user,
    ruri_host (default: target), from_user, from_disp, d_ms (the scenario's
    <pause/>), timeout (s), any other -key name=value."""
    return SippRun(scenario, target, **kw).wait()


def sipp_start(scenario, target, **kw):
    """Like sipp() but returns at once; call .wait() for the result."""
    return SippRun(scenario, target, **kw)


# ------------------------------------------------------------ test base class

_number_seq = itertools.count(1)


class FulcrumTestCase(unittest.TestCase):
    """Base class: one Stack and one WebhookApp per test class (started in
    setUpClass, stopped in tearDownClass). A stack that cannot start makes
    every test of the class fail with the reason (not one anonymous error).
    When a test fails, the tails of the stack's logs are printed."""

    stack_env = {}
    shared_stack = True

    @classmethod
    def setUpClass(cls):
        cls.stack = None
        cls.app = None
        cls.stack_error = None
        cls.class_logdir = os.path.join(LOG_ROOT, _safe("%s.%s" % (cls.__module__, cls.__name__)))
        if not cls.shared_stack:
            return
        try:
            cls.stack = Stack("%s.%s" % (cls.__module__, cls.__name__), logdir=cls.class_logdir,
                              **cls.stack_env)
            cls.app = WebhookApp(auth_token=cls.stack.auth_token)
        except Exception as e:  # reported by every test
            cls.stack_error = "%s: %s" % (type(e).__name__, e)
            if cls.stack:
                cls.stack.stop()
                cls.stack = None

    @classmethod
    def tearDownClass(cls):
        if cls.app:
            cls.app.stop()
        if cls.stack:
            cls.stack.stop()

    def setUp(self):
        if self.stack_error:
            self.fail("stack did not start: " + self.stack_error)
        self._extra_stacks = []
        self.logdir = os.path.join(self.class_logdir, _safe(self._testMethodName))
        os.makedirs(self.logdir, exist_ok=True)
        self.t0 = time.time()

    def new_stack(self, label, **env):
        """A stack of this test only (stopped after the test)."""
        st = Stack("%s.%s" % (self.id(), label), logdir=os.path.join(self.logdir, label), **env)
        self._extra_stacks.append(st)
        self.addCleanup(st.stop)
        return st

    def new_app(self, auth_token=None):
        app = WebhookApp(auth_token=auth_token)
        self.addCleanup(app.stop)
        return app

    def path(self, name="voice"):
        """A webhook path unique to this test."""
        return "/%s/%s" % (self._testMethodName, name)

    @staticmethod
    def number():
        """A fresh E.164 number (unique within this run)."""
        return "+1415555%04d" % ((os.getpid() * 37 + next(_number_seq)) % 10000)

    def sipp(self, scenario, stack=None, **kw):
        st = stack or self.stack
        kw.setdefault("logdir", self.logdir)
        return sipp(scenario, st.sip_target, **kw)

    def sipp_start(self, scenario, stack=None, **kw):
        st = stack or self.stack
        kw.setdefault("logdir", self.logdir)
        return sipp_start(scenario, st.sip_target, **kw)

    # assertion helpers
    def assertFinal(self, res, code, msg=None):
        self.assertEqual(res.final_code(), code, "%s\n%s" % (msg or "final response", res.summary()))

    def assertDialogHeaders(self, msg, what):
        """msg (a SIP message that creates or refreshes a dialog) says what
        Fulcrum allows and supports (RFC 3261 sections 20.5, 20.37): a
        softphone offers transfer only when REFER is allowed."""
        allow = [m.strip().upper() for m in (msg.header("Allow") or "").split(",")]
        for m in ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "UPDATE", "INFO", "REFER", "NOTIFY"):
            self.assertIn(m, allow, "%s: Allow lacks %s\n%s" % (what, m, msg.text))
        supported = [t.strip().lower() for t in (msg.header("Supported") or "").split(",")]
        self.assertIn("replaces", supported, "%s: Supported lacks replaces\n%s" % (what, msg.text))

    def assertAckOf2xx(self, peer, invite, what):
        """The ACK of the 2xx to invite, as peer (a PeerResult) got it, is a
        transaction of its own (RFC 3261 sections 13.2.2.4, 17.1.1.3): its
        own Via branch, Max-Forwards, the INVITE's CSeq number."""
        def branch(m):
            return re.search(r";\s*branch=([^;,\s]+)", m.header("Via") or "").group(1)
        acks = [m for m in peer.recv_requests("ACK") if m.call_id == invite.call_id
                and m.cseq_num == invite.cseq_num]
        self.assertTrue(acks, "%s: no ACK\n%s" % (what, peer.summary()))
        ack = acks[0]
        self.assertNotEqual(branch(ack), branch(invite), "%s: ACK reuses the INVITE's branch\n%s" % (what, ack.text))
        self.assertTrue((ack.header("Max-Forwards") or "").strip().isdigit(),
                        "%s: ACK without Max-Forwards\n%s" % (what, ack.text))

    def assertSignature(self, req):
        self.assertTrue(req.signature, "no X-Twilio-Signature on %r" % req)
        self.assertTrue(req.signature_ok, "X-Twilio-Signature %r does not validate for URL %s params %r" % (
            req.signature, req.url, req.form_list))

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            self._print_tails()
        return out

    def _print_tails(self):
        stacks = [s for s in [self.stack] + getattr(self, "_extra_stacks", []) if s]
        sys.stderr.write("\n==== %s failed; logs in %s\n" % (self.id(), self.class_logdir))
        for st in stacks:
            for path in st.log_files():
                sys.stderr.write("---- tail of %s\n%s\n" % (path, tail_file(path, 25)))
        sys.stderr.flush()


# ===================================================== sipp peers for <Dial>
#
# Callees (and the PSTN trunk) are real sipp UAS processes on free loopback
# ports (tests/e2e/sipp/uas_*.xml); the caller is a sipp UAC
# (tests/e2e/sipp/uac_call.xml, uac_cancel_ring.xml). Every run keeps its
# message trace (-trace_msg), which sipp flushes per message, so tests can
# read what arrived on the wire while the call is still up.
#
#   uas = SippUas("uas_answer", logdir, ring_ms=500, bye_ms=1000, headers=[("X-A", "1")])
#   twiml = dial_twiml(sip_noun(uas.uri("bob", headers={"X-Foo": "bar"})), action="/a")
#   caller = SippCaller("uac_call", stack.sip_target, ruri_user=num, call_ms=0)
#   res = caller.wait(); peer = uas.wait()
#   peer.recv_requests("INVITE")[0].header("X-Foo")

# sipp's error trace also gets one line per <recv timeout=... ontimeout=...>
# used for timed waits in the scenarios: not errors, dropped from summaries.
_SIPP_EVENT_SPLIT = re.compile(r"(?=\d{4}-\d\d-\d\d\t\d\d:\d\d:\d\d\.\d+\t\d+\.\d+: )")
_SIPP_NOISE = re.compile(r"receive timeout on message .* jumping to label|^The following events occurred:\s*$")


def clean_sipp_errors(text):
    """sipp's error file without the timed-wait noise (one event a line)."""
    out = []
    for ev in _SIPP_EVENT_SPLIT.split(text or ""):
        ev = ev.strip()
        if ev and not _SIPP_NOISE.search(ev):
            out.append(ev)
    return "\n".join(out)


def scenario_path(scenario):
    if os.path.isabs(scenario):
        return scenario
    return os.path.join(SIPP_DIR, scenario if scenario.endswith(".xml") else scenario + ".xml")


def scenario_variables(path):
    """Names declared in the scenario's <Global variables="a,b"/> (sipp
    refuses -set for anything else)."""
    with open(path, "r", encoding="iso-8859-1") as f:
        text = f.read()
    names = set()
    for m in re.finditer(r'<Global\s+variables="([^"]*)"', text):
        names.update(n.strip() for n in m.group(1).split(",") if n.strip())
    return names


def _sipp_sets(path, variables):
    declared = scenario_variables(path)
    unknown = set(variables) - declared - _COMMON_SIPP_VARS
    if unknown:
        raise ValueError("%s does not declare variable(s) %s" % (os.path.basename(path), sorted(unknown)))
    argv = []
    for k, v in variables.items():
        if k in declared:
            argv += ["-set", k, str(int(v) if isinstance(v, bool) else v)]
    return argv


# variables every helper passes; scenarios that do not declare one ignore it
_REFER_VARS = {"refer_ms": 500, "refer_count": 1, "refer_code": 202, "notify": 1, "notify_ms": 300,
               "notify_code": 200}
# keys of the REFER scenarios (sipp/*transferor*.xml, *refer_recv*.xml)
_REFER_KEYS = {"refer_to": "<sip:nobody@127.0.0.1>", "refer_hdrs": "", "refer_reason": "Accepted",
               "notify_reason": "OK"}
_COMMON_SIPP_VARS = {"ring_ms", "bye_ms", "hold_ms", "early", "code", "proxy", "call_ms", "ack_ms",
                     "cancel_ms"} | set(_REFER_VARS)
_UAS_VAR_DEFAULTS = dict({"ring_ms": 0, "bye_ms": 0, "hold_ms": 1000, "early": 0, "code": 486, "proxy": 0},
                         **_REFER_VARS)
_UAC_VAR_DEFAULTS = dict({"call_ms": 0, "cancel_ms": 1000, "hold_ms": 1000}, **_REFER_VARS)


def _sipp_headers(headers):
    if isinstance(headers, dict):
        headers = list(headers.items())
    return "".join("\r\n%s: %s" % (k, v) for k, v in headers or ())


# -- additions to SipMessage / SippResult (no existing behaviour changes)

def _msg_is_request(self):
    return self.code is None


def _msg_call_id(self):
    return self.header("Call-ID") or self.header("i")


def _msg_cseq_num(self):
    c = (self.header("CSeq") or "").split()
    return int(c[0]) if c and c[0].isdigit() else None


def _msg_ruri(self):
    parts = self.first_line.split()
    return parts[1] if self.code is None and len(parts) > 1 else None


SipMessage.is_request = property(_msg_is_request)
SipMessage.call_id = property(_msg_call_id)
SipMessage.cseq_num = property(_msg_cseq_num)
SipMessage.ruri = property(_msg_ruri)


def _res_recv_requests(self, method=None):
    """Requests received (optionally only one method), in order,
    retransmissions too."""
    return [m for m in self.messages if m.direction == "recv" and m.code is None
            and (method is None or m.method == method)]


def _res_sent_responses(self, code=None, method=None):
    """Responses sent (optionally only a code / CSeq method)."""
    return [m for m in self.messages if m.direction == "sent" and m.code is not None
            and (code is None or m.code == code) and (method is None or m.cseq_method == method)]


def _res_call_ids(self):
    seen = []
    for m in self.messages:
        if m.call_id and m.call_id not in seen:
            seen.append(m.call_id)
    return seen


def _res_for_call(self, call_id):
    """The messages of one Call-ID (a UAS serving several calls)."""
    return [m for m in self.messages if m.call_id == call_id]


SippResult.recv_requests = _res_recv_requests
SippResult.sent_responses = _res_sent_responses
SippResult.call_ids = _res_call_ids
SippResult.for_call = _res_for_call


class PeerResult(SippResult):
    """SippResult of a dial-kit sipp run: errors without timed-wait noise."""

    def __init__(self, rc, trace, errors, output, scenario, started, ended):
        super().__init__(rc, trace, clean_sipp_errors(errors), output, scenario, started, ended)

    @classmethod
    def of(cls, res):
        return cls(res.rc, res.trace, res.errors, res.output, res.scenario, res.started, res.ended)

    def unique_requests(self, method):
        """Received requests of method, retransmissions (same Call-ID, CSeq
        and Via branch) counted once."""
        seen, out = set(), []
        for m in self.recv_requests(method):
            via = m.header("Via") or ""
            key = (m.call_id, m.header("CSeq"), re.sub(r".*branch=([^;, ]+).*", r"\1", via))
            if key not in seen:
                seen.add(key)
                out.append(m)
        return out


def _read_text(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _udp_port_taken(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((LOOPBACK, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


class _LiveTrace:
    """Mixin: reading a running sipp's message trace."""

    def messages(self):
        return parse_sipp_trace(_read_text(self.msg_file))

    def snapshot(self):
        return PeerResult(None, _read_text(self.msg_file), _read_text(self.err_file), "",
                          self.scenario, self.started, time.time())

    def wait_for(self, pred, timeout=10.0, interval=0.05):
        """Polls the trace until pred(PeerResult) is true; returns the last
        snapshot (check pred yourself)."""
        deadline = time.monotonic() + timeout
        while True:
            snap = self.snapshot()
            if pred(snap) or time.monotonic() >= deadline:
                return snap
            time.sleep(interval)

    def wait_request(self, method, n=1, timeout=10.0):
        """Waits until n distinct requests of method arrived; returns them
        (maybe fewer after timeout)."""
        snap = self.wait_for(lambda s: len(s.unique_requests(method)) >= n, timeout)
        return snap.unique_requests(method)

    def wait_response(self, code, method="INVITE", timeout=10.0):
        """Caller side: waits for a received response; returns it or None."""
        snap = self.wait_for(lambda s: s.received(code, method), timeout)
        got = snap.received(code, method)
        return got[0] if got else None


class SippUas(_LiveTrace):
    """A sipp UAS (tests/e2e/sipp/uas_*.xml) on a free loopback UDP port (or
    `port`), serving `calls` calls then exiting; at most `timeout` s.

    Variables (passed with -set when the scenario declares them): ring_ms,
    bye_ms, hold_ms, early, code, proxy. Keys: user (Contact user),
    rtp_port (the SDP's m= port; default: a port nobody listens on),
    headers (list of (name, value) or dict) for the final response, and any
    other -key through keys={...} (realm, nonce, auth_user, auth_pass have
    defaults).

    .uri(user, params, headers) is the SIP URI to dial; .wait() -> PeerResult
    (the process is killed when it has not finished in time); .stop()."""

    def __init__(self, scenario, logdir=None, port=None, calls=1, user="bob", rtp_port=None,
                 headers=(), timeout=30, keys=None, extra_args=(), **variables):
        self.scenario = scenario_path(scenario)
        self.timeout = timeout
        self.user = user
        logdir = logdir or os.path.join(LOG_ROOT, "sipp")
        os.makedirs(logdir, exist_ok=True)
        n = next(_sipp_seq)
        base = os.path.join(logdir, "uas-%d-%d-%s" % (os.getpid(), n,
                                                      os.path.splitext(os.path.basename(self.scenario))[0]))
        self.msg_file, self.err_file, self.out_file = base + "-messages.log", base + "-errors.log", base + "-out.log"
        for f in (self.msg_file, self.err_file):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        self.nonce = secrets.token_hex(12)
        allkeys = {"user": user, "rtp_port": rtp_port or free_port(tcp=False), "hdrs": _sipp_headers(headers),
                   "realm": "fulcrum.test", "nonce": self.nonce, "auth_user": "", "auth_pass": ""}
        allkeys.update(_REFER_KEYS)
        allkeys.update(keys or {})
        self.keys = allkeys
        # every declared variable gets a value (sipp complains about unset ones)
        self.variables = dict(_UAS_VAR_DEFAULTS, **variables)
        for attempt in range(3):
            self.port = port or free_port(tcp=False)
            argv = [SIPP, "-sf", self.scenario, "-i", LOOPBACK, "-p", str(self.port),
                    "-mp", str(free_port(tcp=False)), "-m", str(int(calls)), "-nostdin", "-t", "u1",
                    "-trace_msg", "-message_file", self.msg_file,
                    "-trace_err", "-error_file", self.err_file,
                    "-timeout", "%ds" % int(timeout), "-timeout_error", "-max_recv_loops", "1000",
                    "-aa"]  # 200 OK to INFO/OPTIONS/UPDATE/NOTIFY outside the scenario
            for k, v in allkeys.items():
                argv += ["-key", k, str(v)]
            argv += _sipp_sets(self.scenario, self.variables)
            argv += list(extra_args)
            self.argv = argv
            self._out = open(self.out_file, "wb")
            self.started = time.time()
            self.popen = subprocess.Popen(orphan_guard(argv), cwd=logdir, stdin=subprocess.DEVNULL,
                                          stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)
            ready = wait_until(lambda: self.popen.poll() is not None or _udp_port_taken(self.port), 5, 0.02)
            if self.popen.poll() is None and ready:
                return
            self._out.close()
            if self.popen.poll() is None:
                self.stop()
            if port:  # a fixed port (trunk): no other choice
                break
        raise AssertionError("sipp UAS %s did not start on port %d:\n%s\n%s" % (
            os.path.basename(self.scenario), self.port, _read_text(self.out_file)[-2000:],
            clean_sipp_errors(_read_text(self.err_file))[-2000:]))

    @property
    def target(self):
        return "%s:%d" % (LOOPBACK, self.port)

    def uri(self, user=None, params="", headers=None):
        """sip:user@127.0.0.1:port[;params][?h=v&...] (header values
        percent-encoded, as in <Sip>)."""
        u = "sip:%s@%s" % (user or self.user, self.target)
        if params:
            u += ";" + params.lstrip(";")
        if headers:
            items = headers.items() if isinstance(headers, dict) else headers
            u += "?" + "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="")) for k, v in items)
        return u

    def alive(self):
        return self.popen.poll() is None

    def wait(self, timeout=None):
        """Waits for sipp to finish (default: its own -timeout + 5 s), kills
        it otherwise; returns PeerResult (rc None when it had to be
        killed)."""
        limit = self.timeout + 5 if timeout is None else timeout
        try:
            rc = self.popen.wait(limit)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(5)
            rc = None
        try:
            self._out.close()
        except OSError:
            pass
        return PeerResult(rc, _read_text(self.msg_file), _read_text(self.err_file), _read_text(self.out_file),
                          self.scenario, self.started, time.time())

    def stop(self):
        """Kills sipp now (if still running); returns PeerResult."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.wait(5)


class SippCaller(SippRun, _LiveTrace):
    """The caller: a SippRun (uac_call.xml by default) whose variables
    (call_ms, cancel_ms) go with -set and whose rtp_port key defaults to a
    port nobody listens on. .wait() -> PeerResult; live trace as SippUas."""

    def __init__(self, scenario, target, rtp_port=None, extra_args=(), timeout=30, **kw):
        path = scenario_path(scenario)
        variables = dict(_UAC_VAR_DEFAULTS, **{k: kw.pop(k) for k in list(kw) if k in _COMMON_SIPP_VARS})
        if isinstance(kw.get("headers"), dict):
            kw["headers"] = list(kw["headers"].items())
        sets = _sipp_sets(path, variables)
        # -aa: 200 OK to INFO/OPTIONS/UPDATE/NOTIFY outside the scenario
        super().__init__(path, target, rtp_port=rtp_port or free_port(tcp=False), timeout=timeout,
                         extra_args=["-aa"] + list(sets) + list(extra_args), **kw)

    def wait(self):
        return PeerResult.of(super().wait())

    def stop(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.wait()


# -------------------------------------------------------------- TwiML helpers

def xml_attr(v):
    return (str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _attrs(attrs):
    out = ""
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        out += ' %s="%s"' % (k, xml_attr(v))
    return out


def sip_noun(uri, **attrs):
    """<Sip attrs>uri</Sip> (uri XML-escaped: & -> &amp;)."""
    return "<Sip%s>%s</Sip>" % (_attrs(attrs), xml_attr(uri))


def number_noun(number, **attrs):
    return "<Number%s>%s</Number>" % (_attrs(attrs), xml_attr(number))


def dial_twiml(*nouns, after="", before="", **attrs):
    """A whole document: <Response>before<Dial attrs>nouns</Dial>after</Response>."""
    return XML_DECL + "<Response>%s<Dial%s>%s</Dial>%s</Response>" % (before, _attrs(attrs), "".join(nouns), after)


# ------------------------------------------------------------- SIP digest

def parse_auth_params(value):
    """'Digest a="b", c=d' -> ("Digest", {"a": "b", "c": "d"})."""
    scheme, _, rest = (value or "").strip().partition(" ")
    params = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)', rest):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return scheme, params


def digest_check(value, method, username, password, realm=None, nonce=None):
    """Verifies an Authorization / Proxy-Authorization value (RFC 2617
    MD5, with or without qop=auth) independently of sipp. Returns
    (ok, reason)."""
    scheme, p = parse_auth_params(value)
    if scheme.lower() != "digest":
        return False, "scheme %r" % scheme
    if p.get("username") != username:
        return False, "username %r" % p.get("username")
    if realm is not None and p.get("realm") != realm:
        return False, "realm %r" % p.get("realm")
    if nonce is not None and p.get("nonce") != nonce:
        return False, "nonce %r" % p.get("nonce")
    if (p.get("algorithm") or "MD5").upper() != "MD5":
        return False, "algorithm %r" % p.get("algorithm")

    def md5(s):
        return hashlib.md5(s.encode()).hexdigest()
    ha1 = md5("%s:%s:%s" % (username, p.get("realm", ""), password))
    ha2 = md5("%s:%s" % (method, p.get("uri", "")))
    qop = p.get("qop")
    if qop:
        if qop != "auth":
            return False, "qop %r" % qop
        for k in ("nc", "cnonce"):
            if not p.get(k):
                return False, "qop=auth without %s" % k
        want = md5("%s:%s:%s:%s:%s:%s" % (ha1, p.get("nonce", ""), p["nc"], p["cnonce"], qop, ha2))
    else:
        want = md5("%s:%s:%s" % (ha1, p.get("nonce", ""), ha2))
    if (p.get("response") or "").lower() != want:
        return False, "response %r != %r" % (p.get("response"), want)
    return True, "ok"


# ---------------------------------------------------------- test base class

class DialTestCase(FulcrumTestCase):
    """FulcrumTestCase with sipp peers: self.uas(...), self.caller(...),
    self.call_sid_of(path), child legs over REST."""

    def dial_bridged(self, st, app, call_ms=0, timeout=60, status=None):
        """One call on stack st whose VoiceUrl (on app) is <Dial><Sip> to a
        callee that answers at once; returns when the callee has its ACK:
        (caller, callee, CallSid, the number called). status: a path routed
        to an empty answer and set as the number's StatusCallback."""
        b = self.uas("uas_answer", ring_ms=0, bye_ms=0, timeout=timeout)
        num, p = self.number(), self.path()
        app.route(p, dial_twiml(sip_noun(b.uri())))
        params = {}
        if status:
            app.route(status, "")
            params["StatusCallback"] = app.url(status)
        st.create_number(num, app.url(p), **params)
        a = self.caller(num, stack=st, call_ms=call_ms, timeout=timeout)
        self.assertTrue(b.wait_request("ACK", 1, 10), b.snapshot().summary())
        return a, b, app.wait_requests(p, 1)[0].params["CallSid"], num

    def uas(self, scenario="uas_answer", **kw):
        kw.setdefault("logdir", self.logdir)
        u = SippUas(scenario, **kw)
        self.addCleanup(u.stop)
        return u

    def caller(self, number, scenario="uac_call", stack=None, **kw):
        st = stack or self.stack
        kw.setdefault("logdir", self.logdir)
        c = SippCaller(scenario, st.sip_target, ruri_user=number, **kw)
        self.addCleanup(c.stop)
        return c

    def route_number(self, twiml, name="voice", **number_params):
        """A fresh number whose VoiceUrl serves twiml; returns (number, path)."""
        num, p = self.number(), self.path(name)
        self.app.route(p, twiml)
        self.stack.create_number(num, self.app.url(p), **number_params)
        return num, p

    def call_sid_of(self, path, timeout=10):
        reqs = self.app.wait_requests(path, 1, timeout)
        self.assertTrue(reqs, "no webhook request on %s" % path)
        return reqs[0].params["CallSid"]

    def child_calls(self, parent_sid):
        st, body = self.stack.rest("GET", "Calls.json", {"ParentCallSid": parent_sid, "PageSize": 50})
        self.assertEqual(st, 200, body)
        return body.get("calls", [])

    def wait_children_final(self, parent_sid, n, timeout=10):
        """Waits until n child legs exist and all are in a terminal status."""
        last = []

        def done():
            last[:] = self.child_calls(parent_sid)
            return len(last) >= n and all(c.get("status") in TERMINAL_STATUSES for c in last)
        wait_until(done, timeout, 0.2)
        return list(last)

    def assertNoRequest(self, res, method, msg=None):
        got = res.recv_requests(method)
        self.assertFalse(got, "%s: unexpected %s\n%s" % (msg or "", method, res.summary()))


def _dial_assert_media_sdp(self, body, msg=""):
    """body is an SDP written by rtpengine for this stack: audio on
    127.0.0.1 at a port of the stack's RTP range, PCMU offered. Returns the
    parsed Sdp."""
    from rtp import parse_sdp  # tests/e2e/rtp.py
    sdp = parse_sdp(body)
    self.assertIsNotNone(sdp, "no audio SDP %s:\n%s" % (msg, body))
    self.assertEqual(sdp.ip, LOOPBACK, "%s: c= %r\n%s" % (msg, sdp.ip, body))
    rng = self.stack.rtp
    if rng is not None:
        self.assertTrue(rng.min <= sdp.port <= rng.max, "%s: m=audio port %d not from rtpengine's range %d-%d\n%s" % (
            msg, sdp.port, rng.min, rng.max, body))
    self.assertIn(0, sdp.payloads, "%s: PCMU not in the m= line\n%s" % (msg, body))
    return sdp


def _dial_wait_status_callbacks(self, path, n, timeout=10):
    """Status callback requests on path (waits for n), sorted by
    SequenceNumber when present."""
    reqs = self.app.wait_requests(path, n, timeout)
    return reqs


DialTestCase.assertMediaSdp = _dial_assert_media_sdp
DialTestCase.status_callbacks = _dial_wait_status_callbacks


def _dial_assert_rtp_both_ways(self, ep1, sdp1, ep2, sdp2, n=50):
    """ep1 sends n RTP packets to sdp1 (the SDP Fulcrum gave ep1's side),
    ep2 to sdp2 (background, 20 ms apart); each must get at least n-5 of
    the other's, PCMU, and never straight from the other's address (they
    went through rtpengine)."""
    from rtp import PT_PCMU  # tests/e2e/rtp.py
    t1 = ep1.send_to(sdp1.addr, n, 0.02)
    t2 = ep2.send_to(sdp2.addr, n, 0.02)
    got2 = ep2.wait_received(n - 5, 4, from_ep=ep1)
    got1 = ep1.wait_received(n - 5, 4, from_ep=ep2)
    t1.join(3)
    t2.join(3)
    self.assertGreaterEqual(len(got2), n - 5, "→ %r: %r" % (ep2.addr, ep2.stats(ep1)))
    self.assertGreaterEqual(len(got1), n - 5, "→ %r: %r" % (ep1.addr, ep1.stats(ep2)))
    for ep, frm in ((ep2, ep1), (ep1, ep2)):
        st = ep.stats(frm)
        self.assertEqual(st["pts"], [PT_PCMU], st)
        self.assertNotIn(frm.addr, st["sources"], "RTP bypassed rtpengine: %r" % st)


DialTestCase.assertRtpBothWays = _dial_assert_rtp_both_ways
