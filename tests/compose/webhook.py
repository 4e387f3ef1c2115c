"""TwiML app of the compose smoke test: answers every voice webhook with
<Response><Hangup/></Response> (Fulcrum answers the call, then hangs up with
BYE) and logs each request on one line (method, path, CallSid, SipCallId)."""
import http.server
import urllib.parse

TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>'


class H(http.server.BaseHTTPRequestHandler):
    def _answer(self, params):
        if self.path.startswith("/health"):
            body, ctype = b"ok", "text/plain"
        else:
            body, ctype = TWIML, "application/xml"
            print("webhook %s %s CallSid=%s CallStatus=%s SipCallId=%s" % (
                self.command, self.path.split("?")[0], params.get("CallSid", ["-"])[0],
                params.get("CallStatus", ["-"])[0], params.get("SipCallId", ["-"])[0]), flush=True)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._answer(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self._answer(urllib.parse.parse_qs(self.rfile.read(n).decode("utf-8", "replace")))

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", 8000), H).serve_forever()
