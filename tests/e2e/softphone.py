"""A real softphone for the tests: Debian's baresip, auto-answering, on its
own loopback ports, driven and watched over its ctrl_tcp socket (netstring
framed JSON: commands in, call events out).

    with Softphone(logdir, user="bob") as phone:
        phone.uri                         -> "sip:bob@127.0.0.1:PORT"
        phone.dial("sip:+1415...@127.0.0.1:5060")
        phone.wait_event("CALL_ESTABLISHED", timeout=10)  -> the event (dict)
        phone.events                      -> every event so far

Audio: it sends a 440 Hz tone from a WAV file (aufile) and plays nothing.
"""
import json
import math
import os
import shutil
import socket
import struct
import threading
import time
import wave

from harness import LOOPBACK, Proc, free_port, wait_until

BARESIP = shutil.which("baresip") or "/usr/bin/baresip"
MODULES = "/usr/lib/baresip/modules"


def _tone_wav(path, seconds=5, rate=8000):
    w = wave.open(path, "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                           for i in range(rate * seconds)))
    w.close()


def _port_pair():
    """A free SIP port whose next port is free for TCP too: baresip 1.0 also
    listens for SIP over TLS on port + 1, whatever sip_transports says."""
    for _ in range(50):
        port = free_port()
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind((LOOPBACK, port + 1))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise RuntimeError("no free port pair for baresip")


class Softphone:
    def __init__(self, logdir, user="bob"):
        self.user = user
        self.dir = os.path.join(logdir, "baresip-%s" % user)
        os.makedirs(self.dir, exist_ok=True)
        self.sip_port = _port_pair()
        self.ctrl_port = free_port(udp=False)
        _tone_wav(os.path.join(self.dir, "tone.wav"))
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("\n".join([
                "poll_method epoll",
                "sip_listen %s:%d" % (LOOPBACK, self.sip_port),
                "sip_transports udp,tcp",
                "audio_source aufile,%s" % os.path.join(self.dir, "tone.wav"),
                "module_path %s" % MODULES,
                "module g711.so",
                "module aufile.so",
                "module_app account.so",
                "module_app menu.so",  # the dial command
                "module_app ctrl_tcp.so",
                "ctrl_tcp_listen %s:%d" % (LOOPBACK, self.ctrl_port),
                ""]))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<sip:%s@%s>;regint=0;answermode=auto\n" % (user, LOOPBACK))
        self.events = []
        self.responses = []
        self._cond = threading.Condition()
        self.proc = Proc("baresip-" + user, [BARESIP, "-f", self.dir], dict(os.environ),
                         os.path.join(self.dir, "baresip.log"))
        self.sock = None
        if not wait_until(self._connect, 10, 0.1):
            self.stop()
            raise RuntimeError("baresip did not open its ctrl_tcp socket:\n" + self.proc.tail())
        threading.Thread(target=self._reader, daemon=True).start()

    @property
    def uri(self):
        return "sip:%s@%s:%d" % (self.user, LOOPBACK, self.sip_port)

    def _connect(self):
        try:
            self.sock = socket.create_connection((LOOPBACK, self.ctrl_port), timeout=1)
            self.sock.settimeout(None)
            return True
        except OSError:
            return False

    def _reader(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while True:  # netstring: <len>:<payload>,
                colon = buf.find(b":")
                if colon < 0 or not buf[:colon].isdigit():
                    break
                n = int(buf[:colon])
                if len(buf) < colon + 1 + n + 1:
                    break
                msg = json.loads(buf[colon + 1:colon + 1 + n])
                buf = buf[colon + 2 + n:]
                with self._cond:
                    (self.events if msg.get("event") else self.responses).append(msg)
                    self._cond.notify_all()

    def command(self, command, params=""):
        body = json.dumps({"command": command, "params": params, "token": str(time.time())}).encode()
        self.sock.sendall(b"%d:%s," % (len(body), body))

    def dial(self, uri):
        self.command("dial", uri)

    def wait_event(self, type_, timeout=10.0, n=1):
        """The n-th event of that type (e.g. CALL_ESTABLISHED), or None."""
        def found():
            got = [e for e in self.events if e.get("type") == type_]
            return got[n - 1] if len(got) >= n else None
        with self._cond:
            self._cond.wait_for(found, timeout)
            return found()

    def event_types(self):
        with self._cond:
            return [e.get("type") for e in self.events]

    def stop(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.proc.stop(grace=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
