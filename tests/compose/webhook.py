"""TwiML app of the compose tests (service `webhook`, tests/compose/compose.test.yml).

Owns: the TwiML each test number gets, and the log of every request it
receives, which the tests count.

  /voice/hangup        <Response><Hangup/></Response> (answered, then BYE)
  /voice/dial/<port>   <Response><Dial><Sip statusCallback=/status/child
                       statusCallbackEvent="initiated ringing answered completed">
                       sip:callee@peer:<port></Sip></Dial></Response>
  ?sleep=S on a voice path: the answer comes S seconds late (a callctl can
                       be killed while it waits for it)
  /status/<name>       status callbacks (number's StatusCallback, Dial nouns): 204
  /log                 GET: every request above so far, as a JSON list of
                       {t, method, path, CallSid, CallStatus, SequenceNumber,
                       ParentCallSid, CallbackSource, Direction, To, SipCallId}
  /health              200 "ok"

Every logged request is also printed on one line (docker logs).
"""
import http.server
import json
import threading
import time
import urllib.parse

PEER = "peer"
DECL = '<?xml version="1.0" encoding="UTF-8"?>'
FIELDS = ("CallSid", "CallStatus", "SequenceNumber", "ParentCallSid", "CallbackSource", "Direction", "To", "SipCallId")
EVENTS = "initiated ringing answered completed"

log = []
lock = threading.Lock()


def twiml(path):
    """The document for a voice path, or None (404)."""
    if path == "/voice/hangup":
        return DECL + "<Response><Hangup/></Response>"
    if path.startswith("/voice/dial/"):
        port = path.rsplit("/", 1)[1]
        if not port.isdigit():
            return None
        return (DECL + '<Response><Dial><Sip statusCallback="http://webhook:8000/status/child" '
                'statusCallbackEvent="%s">sip:callee@%s:%s</Sip></Dial></Response>' % (EVENTS, PEER, port))
    return None


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def _send(self, code, body=b"", ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, params):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/health":
            return self._send(200, b"ok")
        if path == "/log":
            with lock:
                body = json.dumps(log).encode()
            return self._send(200, body, "application/json")
        entry = {"t": round(time.time(), 3), "method": self.command, "path": path}
        for f in FIELDS:
            entry[f] = params.get(f, [""])[0]
        with lock:
            log.append(entry)
        print("webhook %s %s %s" % (self.command, path, " ".join("%s=%s" % (f, entry[f] or "-") for f in FIELDS[:4])),
              flush=True)
        if path.startswith("/status/"):
            return self._send(204)
        doc = twiml(path)
        delay = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("sleep", ["0"])[0]
        if delay.replace(".", "", 1).isdigit():
            time.sleep(min(float(delay), 30))
        if doc is None:
            return self._send(404, b"no such app")
        return self._send(200, doc.encode(), "application/xml")

    def do_GET(self):
        self._handle(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self._handle(urllib.parse.parse_qs(self.rfile.read(n).decode("utf-8", "replace")))

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", 8000), H).serve_forever()
