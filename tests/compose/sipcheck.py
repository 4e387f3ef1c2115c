"""One SIP request, one answer: runs in the peer container (on the compose
network, where the proxies' own addresses are reachable) and prints the
final status line it got, or "timeout".

  sipcheck.py options HOST PORT          OPTIONS sip:HOST:PORT
  sipcheck.py invite HOST PORT USER      INVITE sip:USER@HOST:PORT (with SDP);
                                         a non-2xx final answer is ACKed
  sipcheck.py poke HOST PORT CALLID      sends "FC-HANGUP" in that call to the sipp
                                         caller at HOST:PORT (sipp/uac_talk.xml
                                         hangs up); nothing is awaited
  sipcheck.py stray HOST PORT            sends HOST:PORT a 200 OK that matches no
                                         transaction, its top Via HOST:PORT's own
                                         (as if it had sent the request) or ours,
                                         its second Via a socket of ours; prints
                                         "dropped" (exit 0) when nothing arrives
                                         at either within 2 s, else "relayed"

Used to see what a draining proxy answers (503) without going through the
edge, and to make a caller hang up when the test says so.
"""
import os
import random
import socket
import sys
import time


def poke(host, port, callid):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    me, lport = s.getsockname()
    msg = "\r\n".join([
        "FC-HANGUP sip:caller@%s:%d SIP/2.0" % (host, port),
        "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-poke%08x" % (me, lport, random.getrandbits(32)),
        "Max-Forwards: 70",
        "From: <sip:test@%s>;tag=poke" % me,
        "To: <sip:caller@%s>" % host,
        "Call-ID: " + callid,
        "CSeq: 1 FC-HANGUP",
        "Content-Length: 0", "", ""])
    s.send(msg.encode())
    return 0


def stray(host, port):
    me = socket.gethostbyname(socket.gethostname())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((me, 0))
    trap = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    trap.bind((me, 0))
    for top in ("%s:%d" % (host, port), "%s:%d" % s.getsockname()):
        tag = "%08x" % random.getrandbits(32)
        msg = "\r\n".join([
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP %s;branch=z9hG4bK-stray%s" % (top, tag),
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-trap%s" % (me, trap.getsockname()[1], tag),
            "From: <sip:a@%s>;tag=%s" % (me, tag),
            "To: <sip:b@%s>;tag=x%s" % (host, tag),
            "Call-ID: stray-%s@%s" % (tag, me),
            "CSeq: 1 INVITE",
            "Content-Length: 0", "", ""])
        s.sendto(msg.encode(), (host, port))
    deadline = time.time() + 2
    for sock in (trap, s):
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            data, src = sock.recvfrom(65535)
            print("relayed: %r from %s" % (data.split(b"\r\n", 1)[0], src))
            return 1
        except socket.timeout:
            pass
    print("dropped")
    return 0


def main():
    kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if kind == "poke":
        return poke(host, port, sys.argv[4].strip())
    if kind == "stray":
        return stray(host, port)
    user = sys.argv[4] if len(sys.argv) > 4 else ""
    me = socket.gethostbyname(socket.gethostname())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((me, 0))
    lport = s.getsockname()[1]
    tag = "%08x" % random.getrandbits(32)
    branch = "z9hG4bK-chk%08x" % random.getrandbits(32)
    callid = "chk-%s-%d@%s" % (tag, os.getpid(), me)
    ruri = "sip:%s%s:%d" % (user + "@" if user else "", host, port)
    method = "OPTIONS" if kind == "options" else "INVITE"
    body = ""
    if method == "INVITE":
        body = ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (me, me))
    head = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (me, lport, branch),
        "Max-Forwards: 70",
        "From: <sip:check@%s:%d>;tag=%s" % (me, lport, tag),
        "To: <%s>" % ruri,
        "Call-ID: " + callid,
        "CSeq: 1 " + method,
        "Contact: <sip:check@%s:%d>" % (me, lport),
    ]
    if body:
        head.append("Content-Type: application/sdp")
    head.append("Content-Length: %d" % len(body))
    msg = ("\r\n".join(head) + "\r\n\r\n" + body).encode()
    deadline = time.time() + 5
    s.settimeout(0.5)
    s.sendto(msg, (host, port))
    while time.time() < deadline:
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            s.sendto(msg, (host, port))
            continue
        text = data.decode("utf-8", "replace")
        first = text.split("\r\n", 1)[0]
        if not first.startswith("SIP/2.0 "):
            continue
        code = int(first.split()[1])
        if code < 200:
            continue
        if method == "INVITE" and code >= 300:
            to = [l for l in text.split("\r\n") if l.lower().startswith("to:")]
            ack = [
                "ACK %s SIP/2.0" % ruri, head[1], "Max-Forwards: 70", head[3],
                to[0] if to else head[4], head[5], "CSeq: 1 ACK", "Content-Length: 0",
            ]
            s.sendto(("\r\n".join(ack) + "\r\n\r\n").encode(), (host, port))
        print(first)
        return 0
    print("timeout")
    return 1


sys.exit(main())
