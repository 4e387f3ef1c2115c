#!/usr/bin/env node
/*
 * drive.js — drives Fulcrum's REST API with Twilio's official Node.js helper
 * library (npm "twilio", pinned in package.json) and checks the webhooks
 * Fulcrum sends with the library's own validateRequest. Run by
 * tests/e2e/test_twilio_node.py, which makes the assertions on the JSON report
 * this script prints (one JSON object on stdout).
 *
 * The library is pointed at Fulcrum through its documented HTTP-client hook:
 * twilio(accountSid, authToken, { httpClient }) with httpClient an instance of
 * a subclass of twilio.RequestClient whose request() rewrites
 * https://api.twilio.com to the local base URL. Nothing else is patched; a
 * request for any other host is refused (nothing leaves the machine).
 *
 * Configuration: --name value (or --name=value) arguments, else environment:
 *   --api-base     FULCRUM_API_BASE     http://127.0.0.1:PORT (the API root)
 *   --account-sid  FULCRUM_ACCOUNT_SID
 *   --auth-token   FULCRUM_AUTH_TOKEN
 *   --to           DRIVE_TO             SIP URI of the callee (a sipp UAS)
 *   --port         DRIVE_PORT           free loopback port for the webhook server
 *   --number       DRIVE_NUMBER         E.164 number for the IncomingPhoneNumbers
 *                                      steps (default: a random +1555…)
 *   --domain       DRIVE_DOMAIN         SIP domain name for the SIP Domains steps
 *   --inbound      DRIVE_INBOUND        inbound calls to wait for on the number
 *                                      (default 0): after its update, one line
 *                                      "DRIVE READY-INBOUND <number>" goes to
 *                                      stderr; the caller places the calls
 *   --deadline     DRIVE_DEADLINE_S     overall budget in seconds (default 60)
 *
 * Exit status 0 when the run reached its end (whatever Fulcrum answered: each
 * step's outcome is in the report); 2 with a message on stderr otherwise (bad
 * configuration, the webhook port taken, the overall deadline passed — the
 * report so far is still printed).
 */
"use strict";

const http = require("http");
const crypto = require("crypto");

for (const k of ["TWILIO_EDGE", "TWILIO_REGION", "TWILIO_LOG_LEVEL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]) {
  delete process.env[k];
}
const twilio = require("twilio");

const FROM = "+15005550006";
const TWILIO_API = "https://api.twilio.com";
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const UPDATE_TWIML = '<Response><Pause length="1"/><Hangup/></Response>';
const T0 = Date.now();

// ------------------------------------------------------------------ config

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error("unexpected argument " + JSON.stringify(a));
    const eq = a.indexOf("=");
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new Error("missing value for " + a);
      out[a.slice(2)] = argv[++i];
    }
  }
  return out;
}

function config() {
  const args = parseArgs(process.argv.slice(2));
  const get = (name, env, dflt) => {
    const v = args[name] !== undefined ? args[name] : process.env[env];
    if (v === undefined || v === "") {
      if (dflt !== undefined) return dflt;
      throw new Error("missing --" + name + " (or " + env + ")");
    }
    return v;
  };
  const cfg = {
    apiBase: get("api-base", "FULCRUM_API_BASE").replace(/\/+$/, ""),
    accountSid: get("account-sid", "FULCRUM_ACCOUNT_SID"),
    authToken: get("auth-token", "FULCRUM_AUTH_TOKEN"),
    to: get("to", "DRIVE_TO"),
    port: Number(get("port", "DRIVE_PORT")),
    number: get("number", "DRIVE_NUMBER", "+1555" + String(crypto.randomInt(0, 10000000)).padStart(7, "0")),
    domain: get("domain", "DRIVE_DOMAIN", "node-" + process.pid + ".sip.fulcrum.test"),
    inbound: Number(get("inbound", "DRIVE_INBOUND", "0")),
    deadline: Number(get("deadline", "DRIVE_DEADLINE_S", "60")),
  };
  if (!/^https?:\/\/[^/]+$/.test(cfg.apiBase)) throw new Error("--api-base must be http(s)://host:port, got " + cfg.apiBase);
  if (!Number.isInteger(cfg.port) || cfg.port <= 0 || cfg.port > 65535) throw new Error("bad --port");
  if (!Number.isInteger(cfg.inbound) || cfg.inbound < 0) throw new Error("bad --inbound");
  if (!(cfg.deadline > 0)) throw new Error("bad --deadline");
  return cfg;
}

// ----------------------------------------------------------------- report

const report = {
  twilio_version: require("twilio/package.json").version,
  node_version: process.version,
  hook: "httpClient: LocalRequestClient extends twilio.RequestClient (rewrites " + TWILIO_API + ")",
  completed: false,
  http: [], // every request the library made, as rewritten
  steps: {}, // step name -> {ok, ms, error?}
  numbers: {},
  domains: {},
  errors: {},
  calls: {},
  webhooks: [], // every request the webhook server received
};

function emitReport() {
  report.elapsed_ms = Date.now() - T0;
  process.stdout.write(JSON.stringify(report) + "\n");
}

function errInfo(e) {
  if (!e) return null;
  return {
    type: e.constructor ? e.constructor.name : typeof e,
    is_rest_exception: e instanceof twilio.RestException,
    status: e.status === undefined ? null : e.status,
    code: e.code === undefined ? null : e.code,
    message: String(e.message || e),
    more_info: e.moreInfo === undefined ? null : e.moreInfo,
  };
}

async function step(name, fn) {
  const t = Date.now();
  try {
    const v = await fn();
    report.steps[name] = { ok: true, ms: Date.now() - t };
    return v;
  } catch (e) {
    report.steps[name] = { ok: false, ms: Date.now() - t, error: errInfo(e) };
    return undefined;
  }
}

/* Runs fn, which is expected to throw; returns errInfo of what it threw, or
 * {thrown: false, ...} when it did not. */
async function expectError(fn) {
  try {
    const v = await fn();
    return { thrown: false, result: v && v.sid ? { sid: v.sid } : v === undefined ? null : String(v) };
  } catch (e) {
    return Object.assign({ thrown: true }, errInfo(e));
  }
}

function pick(obj, keys) {
  const out = {};
  for (const k of keys) {
    const v = obj ? obj[k] : undefined;
    out[k] = v instanceof Date ? v.toISOString() : v === undefined ? null : v;
  }
  return out;
}

// ------------------------------------------------------ the HTTP-client hook

/* The documented hook: twilio(sid, token, { httpClient }). The library builds
 * every URL on https://api.twilio.com (pages' next_page_uri included); this
 * client sends them to Fulcrum instead and logs each exchange. */
class LocalRequestClient extends twilio.RequestClient {
  constructor(base, opts) {
    super(opts);
    this.base = base;
    this.lastStatus = null;
  }

  async request(opts) {
    const original = opts.uri;
    if (!original.startsWith(TWILIO_API + "/")) {
      throw new Error("LocalRequestClient: refusing to send a request to " + original);
    }
    const uri = this.base + original.slice(TWILIO_API.length);
    const entry = { method: String(opts.method).toUpperCase(), original_uri: original, uri, status: null };
    if (opts.params && Object.keys(opts.params).length) entry.query = opts.params;
    if (opts.data && Object.keys(opts.data).length) entry.data = opts.data;
    report.http.push(entry);
    this.lastStatus = null;
    try {
      const res = await super.request(Object.assign({}, opts, { uri }));
      entry.status = res.statusCode;
      this.lastStatus = res.statusCode;
      if (res.statusCode >= 400) entry.body = res.body;
      return res;
    } catch (e) {
      entry.error = String(e && e.message ? e.message : e);
      throw e;
    }
  }
}

// ------------------------------------------------------------ webhook server

function formParams(body) {
  const params = {};
  for (const [k, v] of new URLSearchParams(body)) {
    if (Object.prototype.hasOwnProperty.call(params, k)) {
      params[k] = [].concat(params[k], v);
    } else {
      params[k] = v;
    }
  }
  return params;
}

const waiters = [];

function notifyWaiters() {
  for (const w of waiters.slice()) {
    if (w.pred()) {
      waiters.splice(waiters.indexOf(w), 1);
      clearTimeout(w.timer);
      w.resolve(true);
    }
  }
}

/* Resolves true once pred() holds (checked at every webhook), false after
 * timeoutMs (never past the overall deadline). */
function waitFor(pred, timeoutMs) {
  if (pred()) return Promise.resolve(true);
  const left = Math.max(0, Math.min(timeoutMs, deadlineAt - Date.now() - 1000));
  return new Promise((resolve) => {
    const w = { pred, resolve };
    w.timer = setTimeout(() => {
      const i = waiters.indexOf(w);
      if (i >= 0) waiters.splice(i, 1);
      resolve(pred());
    }, left);
    waiters.push(w);
  });
}

function hooks(path) {
  return report.webhooks.filter((h) => h.path === path);
}

function startServer(cfg) {
  const token = cfg.authToken;
  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= 1 << 20) chunks.push(c);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const host = req.headers.host || "127.0.0.1:" + cfg.port;
      const url = "http://" + host + req.url;
      const path = req.url.split("?")[0];
      const ctype = String(req.headers["content-type"] || "").split(";")[0].trim().toLowerCase();
      const params = req.method === "POST" && ctype === "application/x-www-form-urlencoded" ? formParams(body) : {};
      const signature = req.headers["x-twilio-signature"] || "";
      // The negative checks: another token, one parameter changed (or, for a
      // GET, the query), must not validate.
      const tampered = Object.assign({}, params);
      const names = Object.keys(tampered);
      let tamperedUrl = url;
      if (names.length) tampered[names[0]] = String(tampered[names[0]]) + "x";
      else tamperedUrl = url + (url.includes("?") ? "&" : "?") + "x=1";
      const rec = {
        at_ms: Date.now(),
        method: req.method,
        path,
        url,
        headers: req.headers,
        params,
        query: Object.fromEntries(new URL(url).searchParams),
        signature: signature || null,
        valid: twilio.validateRequest(token, signature, url, params),
        valid_wrong_token: twilio.validateRequest(token.slice(0, -1) + (token.endsWith("0") ? "1" : "0"),
          signature, url, params),
        valid_tampered: twilio.validateRequest(token, signature, tamperedUrl, tampered),
      };
      report.webhooks.push(rec);
      let status = 200;
      let reply = XML_DECL + "<Response/>";
      if (path === "/voice") {
        // The REST-created call's Url: keep it up until the update redirects it.
        reply = XML_DECL + '<Response><Pause length="20"/></Response>';
      } else if (path === "/inbound") {
        reply = XML_DECL + "<Response><Hangup/></Response>";
      } else if (path === "/status") {
        reply = "";
      } else if (path !== "/number-voice" && path !== "/domain-voice" && path !== "/domain-voice-2") {
        status = 404;
        reply = "no route";
      }
      res.writeHead(status, { "Content-Type": status === 200 ? "text/xml" : "text/plain",
                              "Content-Length": Buffer.byteLength(reply) });
      res.end(reply);
      notifyWaiters();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(cfg.port, "127.0.0.1", () => resolve(server));
  });
}

// -------------------------------------------------------------------- main

let deadlineAt = T0 + 60000;

async function main() {
  let cfg;
  try {
    cfg = config();
  } catch (e) {
    process.stderr.write("drive.js: " + e.message + "\n");
    process.exit(2);
  }
  deadlineAt = T0 + cfg.deadline * 1000;
  const watchdog = setTimeout(() => {
    process.stderr.write("drive.js: overall deadline of " + cfg.deadline + " s passed\n");
    emitReport();
    process.exit(2);
  }, cfg.deadline * 1000 + 2000);
  watchdog.unref();

  const own = (p) => "http://127.0.0.1:" + cfg.port + p;
  report.config = { api_base: cfg.apiBase, to: cfg.to, port: cfg.port, number: cfg.number, domain: cfg.domain,
                    inbound: cfg.inbound, from: FROM };
  let server;
  try {
    server = await startServer(cfg);
  } catch (e) {
    process.stderr.write("drive.js: webhook server on 127.0.0.1:" + cfg.port + ": " + e.message + "\n");
    process.exit(2);
  }

  const httpClient = new LocalRequestClient(cfg.apiBase, { timeout: 10000, keepAlive: false });
  const client = twilio(cfg.accountSid, cfg.authToken, { httpClient });
  const lastStatus = () => httpClient.lastStatus;

  // --- errors that need no resource
  report.errors.auth = await expectError(() =>
    twilio(cfg.accountSid, cfg.authToken + "-wrong", { httpClient }).calls.list({ limit: 1 }));
  report.errors.not_found = await expectError(() =>
    client.calls("CA" + crypto.randomBytes(16).toString("hex")).fetch());

  // --- IncomingPhoneNumbers
  const N = report.numbers;
  const numKeys = ["sid", "accountSid", "phoneNumber", "friendlyName", "voiceUrl", "voiceMethod", "uri"];
  const pn = await step("numbers.create", async () => {
    const n = await client.incomingPhoneNumbers.create({ phoneNumber: cfg.number, voiceUrl: own("/number-voice") });
    N.create = Object.assign({ http_status: lastStatus() }, pick(n, numKeys));
    return n;
  });
  if (pn) {
    await step("numbers.fetch", async () => {
      const n = await client.incomingPhoneNumbers(pn.sid).fetch();
      N.fetch = Object.assign({ http_status: lastStatus() }, pick(n, numKeys));
    });
    await step("numbers.list", async () => {
      const all = await client.incomingPhoneNumbers.list({ phoneNumber: cfg.number, limit: 20 });
      N.list = { sids: all.map((n) => n.sid), phone_numbers: all.map((n) => n.phoneNumber) };
    });
    await step("numbers.update", async () => {
      const n = await client.incomingPhoneNumbers(pn.sid).update({ friendlyName: "node helper", voiceUrl: own("/inbound") });
      N.update = Object.assign({ http_status: lastStatus() }, pick(n, numKeys));
    });
    if (cfg.inbound > 0) {
      // The test places cfg.inbound calls to the number now: they must reach
      // the updated VoiceUrl (/inbound), never the first one (/number-voice).
      process.stderr.write("DRIVE READY-INBOUND " + cfg.number + "\n");
    }
  }

  // --- SIP Domains (client.sip is client.api.v2010.account.sip)
  const D = report.domains;
  const domKeys = ["sid", "accountSid", "domainName", "friendlyName", "voiceUrl", "voiceMethod", "uri"];
  const sd = await step("domains.create", async () => {
    const d = await client.sip.domains.create({ domainName: cfg.domain, friendlyName: "node domain",
                                                voiceUrl: own("/domain-voice") });
    D.create = Object.assign({ http_status: lastStatus() }, pick(d, domKeys));
    return d;
  });
  if (sd) {
    await step("domains.fetch", async () => {
      const d = await client.sip.domains(sd.sid).fetch();
      D.fetch = Object.assign({ http_status: lastStatus() }, pick(d, domKeys));
    });
    await step("domains.list", async () => {
      const all = await client.sip.domains.list({ limit: 50 });
      D.list = { sids: all.map((d) => d.sid), domain_names: all.map((d) => d.domainName) };
    });
    await step("domains.update", async () => {
      const d = await client.api.v2010.account.sip.domains(sd.sid).update({ friendlyName: "node domain 2",
                                                                            voiceUrl: own("/domain-voice-2") });
      D.update = Object.assign({ http_status: lastStatus() }, pick(d, domKeys));
    });
    await step("domains.remove", async () => {
      D.remove = { result: await client.sip.domains(sd.sid).remove(), http_status: lastStatus() };
    });
    D.fetch_after_remove = await expectError(() => client.sip.domains(sd.sid).fetch());
  }

  // --- inbound calls on the number (they seed the Calls list for paging)
  if (pn && cfg.inbound > 0) {
    N.inbound_seen = await waitFor(() => hooks("/inbound").length >= cfg.inbound, 20000);
    // their records end (BYE) right after the webhook; let the last settle
    await new Promise((r) => setTimeout(r, 500));
  }
  if (pn) {
    await step("numbers.remove", async () => {
      N.remove = { result: await client.incomingPhoneNumbers(pn.sid).remove(), http_status: lastStatus() };
    });
    N.fetch_after_remove = await expectError(() => client.incomingPhoneNumbers(pn.sid).fetch());
  }

  // --- Calls
  const C = report.calls;
  const callKeys = ["sid", "accountSid", "parentCallSid", "to", "from", "status", "direction", "apiVersion", "uri",
                    "duration", "startTime", "endTime"];
  // To missing: the library refuses before sending anything (its own check);
  // an empty To reaches Fulcrum, which must answer 400 21201.
  report.errors.missing_to_client_side = await expectError(() =>
    client.calls.create({ from: FROM, url: own("/voice") }));
  report.errors.missing_to = await expectError(() =>
    client.calls.create({ to: "", from: FROM, url: own("/voice") }));
  report.errors.missing_to_raw = await (async () => {
    // The same without any To parameter, through the client's generic request().
    try {
      const r = await client.request({
        method: "post",
        uri: TWILIO_API + "/2010-04-01/Accounts/" + cfg.accountSid + "/Calls.json",
        data: { From: FROM, Url: own("/voice") },
      });
      const b = typeof r.body === "string" ? JSON.parse(r.body || "null") : r.body;
      return { status: r.statusCode, code: b && b.code !== undefined ? b.code : null, body: b };
    } catch (e) {
      return { error: errInfo(e) };
    }
  })();

  const call = await step("calls.create", async () => {
    const c = await client.calls.create({
      to: cfg.to,
      from: FROM,
      url: own("/voice"),
      statusCallback: own("/status"),
      statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
    });
    C.create = Object.assign({ http_status: lastStatus(), at_ms: Date.now() }, pick(c, callKeys));
    return c;
  });
  if (call) {
    const sid = call.sid;
    C.voice_webhook_seen = await waitFor(() => hooks("/voice").some((h) => h.params.CallSid === sid), 20000);
    C.answered_seen = await waitFor(() => hooks("/status").some((h) => h.params.CallStatus === "in-progress"), 5000);
    await step("calls.fetch", async () => {
      const c = await client.calls(sid).fetch();
      C.fetch = Object.assign({ http_status: lastStatus() }, pick(c, callKeys));
    });
    await step("calls.list_to", async () => {
      const all = await client.calls.list({ to: cfg.to, limit: 20 });
      C.list_to = { sids: all.map((c) => c.sid), tos: all.map((c) => c.to) };
    });
    await step("calls.update", async () => {
      C.update_at_ms = Date.now();
      const c = await client.calls(sid).update({ twiml: UPDATE_TWIML });
      C.update = Object.assign({ http_status: lastStatus() }, pick(c, callKeys));
    });
    C.completed_seen = await waitFor(() => hooks("/status").some((h) => h.params.CallStatus === "completed"), 20000);
    await new Promise((r) => setTimeout(r, 300)); // a late or duplicate callback would show
    await step("calls.fetch_final", async () => {
      C.fetch_final = pick(await client.calls(sid).fetch(), callKeys);
    });
    C.update_ended = await expectError(() => client.calls(sid).update({ status: "completed" }));
  }

  // Paging (independent of the create: the inbound calls are records too).
  await step("calls.page", async () => {
    const p1 = await client.calls.page({ pageSize: 2 });
    C.page1 = {
      sids: p1.instances.map((c) => c.sid),
      next_page_uri: p1._payload.next_page_uri === undefined ? null : p1._payload.next_page_uri,
      next_page_url: p1.nextPageUrl || null,
      page: p1._payload.page === undefined ? null : p1._payload.page,
      page_size: p1._payload.page_size === undefined ? null : p1._payload.page_size,
    };
    const next = p1.nextPage();
    if (next) {
      const p2 = await next;
      C.page2 = {
        sids: p2.instances.map((c) => c.sid),
        page: p2._payload.page === undefined ? null : p2._payload.page,
        previous_page_uri: p2._payload.previous_page_uri || null,
      };
    }
  });
  await step("calls.list_paged", async () => {
    // list() follows next_page_uri by itself (pageSize 2: several pages)
    const before = report.http.length;
    const all = await client.calls.list({ pageSize: 2, limit: 200 });
    C.list_paged = { sids: all.map((c) => c.sid), requests: report.http.slice(before).map((h) => h.uri) };
  });

  report.completed = true;
  clearTimeout(watchdog);
  server.close();
  emitReport();
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write("drive.js: " + (e && e.stack ? e.stack : String(e)) + "\n");
  emitReport();
  process.exit(2);
});
