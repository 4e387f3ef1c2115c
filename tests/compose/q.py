"""Reads what the compose tests look at and prints plain lines for bash.
Owns: parsing of REST JSON, the webhook log, sipp message logs and bus events.

  q.py get FIELD < json                 a member (dotted path) or ""
  q.py calls < Calls.json               "sid status parent_call_sid" per call
  q.py hooks [--since T] [--field F] [KEY=VALUE ...] < /log JSON
                                        field F (default CallSid) of each
                                        webhook request matching all KEY=VALUE
                                        (KEY=a|b: any of them), in order
  q.py sip FILE sent|received WHAT      Call-IDs (one per line, each once) for
                                        which a message WHAT was sent/received;
                                        WHAT: a method (BYE) or a code (200)
  q.py callids FILE                     Call-IDs of the INVITEs sent, in order
  q.py legproxy [SID ...] < XRANGE      "call_sid proxy" from the first event
                                        of each leg (all legs without SIDs);
                                        input: redis-cli --raw XRANGE fc:events
"""
import json
import re
import signal
import sys


def get(doc, path):
    for k in path.split("."):
        if isinstance(doc, dict):
            doc = doc.get(k)
        elif isinstance(doc, list) and k.isdigit() and int(k) < len(doc):
            doc = doc[int(k)]
        else:
            return ""
    return "" if doc is None else doc


def sipp_messages(path):
    """(direction, first line, Call-ID) of each message of a sipp -trace_msg log."""
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return []
    out = []
    for block in re.split(r"^-{20,}[^\n]*\n", text, flags=re.M):
        lines = block.replace("\r", "").split("\n")
        if not lines or "message" not in lines[0]:
            continue
        direction = "sent" if "message sent" in lines[0] else "received" if "message received" in lines[0] else ""
        body = [l for l in lines[1:] if l.strip() or False]
        if not body or not direction:
            continue
        first = body[0].strip()
        cid = ""
        for l in body:
            m = re.match(r"(?i)(call-id|i)\s*:\s*(\S+)", l)
            if m:
                cid = m.group(2)
                break
        out.append((direction, first, cid))
    return out


def is_match(first, what):
    if what.isdigit():
        return first.startswith("SIP/2.0 " + what)
    return first.startswith(what + " ")


def main(argv):
    cmd = argv[1]
    if cmd == "get":
        try:
            doc = json.load(sys.stdin)
        except ValueError:
            doc = {}
        v = get(doc, argv[2])
        print(json.dumps(v) if isinstance(v, (dict, list)) else v)
    elif cmd == "calls":
        try:
            doc = json.load(sys.stdin)
        except ValueError:
            doc = {}
        for c in doc.get("calls", []) if isinstance(doc, dict) else []:
            print(c.get("sid"), c.get("status"), c.get("parent_call_sid") or "-")
    elif cmd == "hooks":
        since, field, conds = 0.0, "CallSid", []
        args = argv[2:]
        while args:
            a = args.pop(0)
            if a == "--since":
                since = float(args.pop(0))
            elif a == "--field":
                field = args.pop(0)
            else:
                k, _, v = a.partition("=")
                conds.append((k, v.split("|")))
        try:
            log = json.load(sys.stdin)
        except ValueError:
            log = []
        for e in log:
            if e.get("t", 0) < since:
                continue
            if all(e.get(k, "") in vs for k, vs in conds):
                print(e.get(field, ""))
    elif cmd == "sip":
        path, direction, what = argv[2], argv[3], argv[4]
        seen = []
        for d, first, cid in sipp_messages(path):
            if d == direction and is_match(first, what) and cid not in seen:
                seen.append(cid)
        print("\n".join(seen))
    elif cmd == "callids":
        seen = []
        for d, first, cid in sipp_messages(argv[2]):
            if d == "sent" and first.startswith("INVITE ") and cid not in seen:
                seen.append(cid)
        print("\n".join(seen))
    elif cmd == "legproxy":
        want = argv[2:]
        first = {}
        for line in sys.stdin:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            sid, proxy = ev.get("call_sid"), ev.get("proxy")
            if sid and proxy and sid not in first:
                first[sid] = proxy
        for sid in want or list(first):
            print(sid, first.get(sid, "-"))
    else:
        sys.exit("q.py: unknown command " + cmd)


signal.signal(signal.SIGPIPE, signal.SIG_DFL)
main(sys.argv)
