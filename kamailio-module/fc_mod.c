/* fc_mod.c — the fulcrum Kamailio module: exports, parameters, init, the
 * fulcrum_invite() script function (park an initial INVITE and publish
 * call.incoming), tm callbacks, and the reply path used by commands.
 * The bus process lives in fc_bus.c, command execution in fc_cmd.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../core/sr_module.h"
#include "../../core/dprint.h"
#include "../../core/mod_fix.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/pt.h"
#include "../../core/data_lump_rpl.h"
#include "../../core/cfg/cfg_struct.h"
#include "../../modules/tm/tm_load.h"
#include "../../modules/tm/t_lookup.h"
#include "../../modules/tm/h_table.h"

#include "fc_mod.h"
#include "fc_leg.h"
#include "fc_queue.h"
#include "fc_sipmsg.h"
#include "fc_uas.h"
#include "fc_bus.h"
#include "fc_dlg.h"
#include "fc_indialog.h"
#include "fc_replace.h"
#include "fc_drain.h"
#include "fc_ack.h"

MODULE_VERSION

struct tm_binds tmb;
char *fc_redis_url = NULL;
char *fc_proxy_id = NULL;
char *fc_advertise = NULL;
int fc_max_ring_ms = 300000;

static int mod_init(void);
static int child_init(int rank);
/* True (1) while the proxy drains (fc_drain.c). */
static int w_fulcrum_draining(struct sip_msg *msg, char *p1, char *p2)
{
	(void)msg;
	(void)p1;
	(void)p2;
	return fc_draining() ? 1 : -1;
}

static void mod_destroy(void);
static int w_fulcrum_invite(struct sip_msg *msg, char *p1, char *p2);
static int w_fulcrum_dialog(struct sip_msg *msg, char *p1, char *p2);
static int w_fulcrum_draining(struct sip_msg *msg, char *p1, char *p2);
static int w_fulcrum_ack(struct sip_msg *msg, char *p1, char *p2);
static int w_fulcrum_unsupported(struct sip_msg *msg, char *p1, char *p2);
static int w_fulcrum_bad_scheme(struct sip_msg *msg, char *p1, char *p2);

static cmd_export_t cmds[] = {
    {"fulcrum_invite", (cmd_function)w_fulcrum_invite, 0, 0, 0, REQUEST_ROUTE},
    {"fulcrum_dialog", (cmd_function)w_fulcrum_dialog, 0, 0, 0, REQUEST_ROUTE},
    {"fulcrum_draining", (cmd_function)w_fulcrum_draining, 0, 0, 0, ANY_ROUTE},
    {"fulcrum_ack", (cmd_function)w_fulcrum_ack, 0, 0, 0, REQUEST_ROUTE},
    {"fulcrum_unsupported", (cmd_function)w_fulcrum_unsupported, 0, 0, 0, REQUEST_ROUTE},
    {"fulcrum_bad_scheme", (cmd_function)w_fulcrum_bad_scheme, 0, 0, 0, REQUEST_ROUTE},
    {0, 0, 0, 0, 0, 0}};

static param_export_t params[] = {{"redis_url", PARAM_STRING, &fc_redis_url},
                                  {"proxy_id", PARAM_STRING, &fc_proxy_id},
                                  {"advertise", PARAM_STRING, &fc_advertise},
                                  {"max_ring_time", PARAM_INT, &fc_max_ring_ms},
                                  {0, 0, 0}};

struct module_exports exports = {
    "fulcrum",       /* module name */
    DEFAULT_DLFLAGS, /* dlopen flags */
    cmds,            /* exported functions */
    params,          /* exported parameters */
    fc_drain_rpc,    /* RPC method exports */
    0,               /* exported pseudo-variables */
    0,               /* response handling function */
    mod_init,        /* module init function */
    child_init,      /* per-child init function */
    mod_destroy      /* destroy function */
};

long long fc_now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Environment defaults let one kamailio.cfg serve every deployment. */
static char *default_str(char *v, const char *env, const char *dflt)
{
	if (v && *v)
		return v;
	const char *e = getenv(env);
	return (char *)(e && *e ? e : dflt);
}

static int mod_init(void)
{
	static char host_id[128];
	if (load_tm_api(&tmb) < 0) {
		LM_ERR("cannot load the tm API (load tm.so before fulcrum.so)\n");
		return -1;
	}
	gethostname(host_id, sizeof host_id - 1);
	fc_redis_url = default_str(fc_redis_url, "FULCRUM_REDIS_URL", "redis://127.0.0.1:6379");
	fc_proxy_id = default_str(fc_proxy_id, "FULCRUM_PROXY_ID", host_id);
	fc_advertise = default_str(fc_advertise, "FULCRUM_SIP_ADVERTISE", "127.0.0.1:5060");
	for (const char *p = fc_proxy_id; *p; p++) {
		if (!(isalnum((unsigned char)*p) || strchr("._:-", *p))) {
			LM_ERR("proxy_id '%s' may only contain [A-Za-z0-9._:-]\n", fc_proxy_id);
			return -1;
		}
	}
	if (fc_max_ring_ms < 1000)
		fc_max_ring_ms = 1000;
	if (fc_leg_init() < 0 || fc_queue_init() < 0)
		return -1;
	/* One extra process: the bus process (fc_bus.c). */
	register_procs(1);
	cfg_register_child(1);
	LM_INFO("fulcrum: proxy '%s', bus %s\n", fc_proxy_id, fc_redis_url);
	return 0;
}

static int child_init(int rank)
{
	if (rank != PROC_MAIN)
		return 0;
	int pid = fork_process(PROC_XWORKER, "fulcrum bus", 1);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (cfg_child_init())
			return -1;
		fc_bus_run(); /* never returns */
		exit(-1);
	}
	return 0;
}

static void mod_destroy(void)
{
	if (fc_sh)
		fc_sh->shutting_down = 1;
}

void fc_rand_hex(char *out, int bytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];
	if (bytes > 32)
		bytes = 32;
	size_t got = 0;
	while (got < (size_t)bytes) {
		ssize_t n = getrandom(r + got, (size_t)bytes - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	for (int i = 0; i < bytes; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * bytes] = 0;
}

static void new_call_sid(char out[FC_SID_LEN + 1])
{
	out[0] = 'C';
	out[1] = 'A';
	fc_rand_hex(out + 2, 16);
}

int fc_emit(fc_leg *l, const char *type, json_t *ev)
{
	if (!ev)
		return -1;
	l->seq++;
	if (json_object_set_new(ev, "v", json_integer(1)) < 0 ||
	    json_object_set_new(ev, "type", json_string(type)) < 0 ||
	    json_object_set_new(ev, "call_sid", json_string(l->sid)) < 0 ||
	    json_object_set_new(ev, "root", json_string(l->root)) < 0 ||
	    json_object_set_new(ev, "proxy", json_string(fc_proxy_id)) < 0 ||
	    json_object_set_new(ev, "seq", json_integer(l->seq)) < 0 ||
	    json_object_set_new(ev, "ts", json_integer(fc_now_ms())) < 0) {
		json_decref(ev);
		return -1;
	}
	return fc_queue_push(ev);
}

void fc_emit_ended(const char *sid, const char *reason, int code)
{
	fc_leg *l = fc_leg_lock(sid);
	if (l && !l->ended) {
		l->ended = 1;
		fc_emit(l, "call.ended", json_pack("{s:s,s:i}", "reason", reason, "code", code));
	}
	fc_leg_unlock(sid);
}

void fc_end_leg(const char *sid, json_t *ev)
{
	fc_leg *l = fc_leg_lock(sid);
	if (l && !l->ended && ev) {
		/* The reason of an end carries headers, never a body. */
		json_object_del(ev, "sdp");
		json_object_del(ev, "body");
		json_object_del(ev, "content_type");
		l->ended = 1;
		fc_emit(l, "call.ended", ev);
		ev = NULL;
	}
	fc_leg_unlock(sid);
	json_decref(ev);
	fc_leg_remove(sid);
}

void fc_end_leg_code(const char *sid, const char *reason, int code)
{
	fc_end_leg(sid, json_pack("{s:s,s:i}", "reason", reason, "code", code));
}

/* One callback for every transaction event of a parked INVITE; param is a
 * shm copy of the CallSid, released by tm with the transaction. */
static void tm_cb(struct cell *t, int type, struct tmcb_params *ps)
{
	const char *sid = *ps->param;
	if (!sid)
		return;
	if (type & TMCB_E2ECANCEL_IN) {
		fc_emit_ended(sid, "canceled", 487);
	} else if (type & TMCB_ON_FAILURE) {
		int code = t->uas.status >= 300 ? (int)t->uas.status : 408;
		fc_emit_ended(sid, code == 487 ? "canceled" : "timeout", code == 487 ? 487 : 408);
	} else if (type & TMCB_DESTROY) {
		/* An answered leg outlives its INVITE transaction. */
		fc_leg *l = fc_leg_lock(sid);
		int keep = l && !l->ended && l->state == FC_CONFIRMED;
		fc_leg_unlock(sid);
		if (!keep) {
			fc_end_leg_code(sid, "failed", t->uas.status ? (int)t->uas.status : 500);
		} else {
			fc_ack_done(sid); /* a BYE that waited for the ACK goes now */
		}
	}
}

static void release_sid(void *p)
{
	shm_free(p);
}

/* Reply from a SIP worker on the current request before it is parked, with
 * extra header lines (CRLF-terminated) when hdrs is not empty. */
static int reply_hdrs(struct sip_msg *msg, int code, const char *reason, const char *hdrs)
{
	if (hdrs && *hdrs && !add_lump_rpl(msg, (char *)hdrs, (int)strlen(hdrs), LUMP_RPL_HDR))
		LM_ERR("cannot add headers to the %d\n", code);
	if (tmb.t_reply(msg, code, (char *)reason) < 0)
		LM_ERR("cannot send %d\n", code);
	return 0; /* the script exits */
}

static int reply_now(struct sip_msg *msg, int code, const char *reason)
{
	return reply_hdrs(msg, code, reason, NULL);
}

static int w_fulcrum_invite(struct sip_msg *msg, char *p1, char *p2)
{
	(void)p1;
	(void)p2;
	if (msg->first_line.type != SIP_REQUEST || msg->REQ_METHOD != METHOD_INVITE)
		return -1;
	int r = tmb.t_newtran(msg);
	if (r == 0)
		return 0; /* retransmission, absorbed by tm */
	if (r < 0) {
		LM_ERR("t_newtran failed\n");
		return -1; /* cfg answers with sl */
	}
	if (!fc_bus_accepting())
		return reply_now(msg, 503, "Service Unavailable");

	fc_refusal no;
	str sdp;
	if (fc_uas_check_invite(msg, &sdp, &no) < 0)
		return reply_hdrs(msg, no.code, no.reason, no.hdrs);
	int code;
	const char *reason;
	json_t *sip = fc_sipmsg_invite(msg, &sdp, &code, &reason);
	if (!sip)
		return reply_now(msg, code, reason);
	/* An INVITE with Replaces joins the call tree of the leg it replaces
	 * (bus-protocol.md §11). */
	char replaced[FC_SID_LEN + 1] = "", root[FC_SID_LEN + 1] = "";
	int rep = fc_invite_replaces(msg, replaced, root, &code, &reason);
	if (rep < 0) {
		json_decref(sip);
		return reply_now(msg, code, reason);
	}

	char sid[FC_SID_LEN + 1];
	new_call_sid(sid);
	str totag = {0, 0};
	if (tmb.t_get_reply_totag(msg, &totag) < 0 || totag.len <= 0) {
		json_decref(sip);
		return reply_now(msg, 500, "Server Internal Error");
	}
	char *sid_shm = shm_malloc(FC_SID_LEN + 1);
	if (!sid_shm) {
		json_decref(sip);
		return reply_now(msg, 500, "Server Internal Error");
	}
	memcpy(sid_shm, sid, FC_SID_LEN + 1);
	if (tmb.register_tmcb(msg, NULL, TMCB_E2ECANCEL_IN | TMCB_ON_FAILURE | TMCB_DESTROY, tm_cb,
	                      sid_shm, release_sid) <= 0) {
		shm_free(sid_shm);
		json_decref(sip);
		return reply_now(msg, 500, "Server Internal Error");
	}
	/* The parked INVITE lives until callctl answers or max_ring_time. */
	tmb.set_fr(msg, (unsigned int)fc_max_ring_ms, (unsigned int)fc_max_ring_ms);

	/* The dialog we will have once we answer (tm's own To-tag). */
	dlg_t *uas = NULL;
	if (tmb.new_dlg_uas(msg, 200, &uas) < 0 || !uas) {
		json_decref(sip);
		return reply_now(msg, 400, "Bad Request - Missing Contact");
	}
	fc_leg *l = fc_leg_add(sid, FC_LEG_IN, rep ? root : NULL, &totag);
	if (!l) {
		tmb.free_dlg(uas);
		json_decref(sip);
		return reply_now(msg, 500, "Server Internal Error");
	}
	l = fc_leg_lock(sid);
	int bad = !l || fc_dlg_store(&l->dlg, uas) < 0;
	if (!bad) {
		l->dlg.send_sock = msg->rcv.bind_address;
		const char *tp = json_string_value(json_object_get(sip, "transport"));
		snprintf(l->transport, sizeof l->transport, "%s", tp ? tp : "udp");
		fc_leg_index(l);
	}
	fc_leg_unlock(sid);
	tmb.free_dlg(uas);
	if (bad) {
		fc_leg_remove(sid);
		json_decref(sip);
		/* A Call-ID, tag, URI or route set beyond what a leg keeps
		 * (fc_leg.h): RFC 3261 section 21.5.14. */
		return reply_now(msg, 513, "Message Too Large");
	}
	unsigned int h, lbl;
	r = tmb.t_suspend(msg, &h, &lbl);
	if (r != 0) {
		json_decref(sip);
		/* Already cancelled (1) or replied; the DESTROY callback cleans up. */
		fc_emit_ended(sid, "canceled", 487);
		return 0;
	}
	int failed;
	l = fc_leg_lock(sid);
	if (l && !l->ended) {
		l->t_hash = h;
		l->t_label = lbl;
		failed = fc_emit(l, rep ? "call.replaces" : "call.incoming",
		                 rep ? json_pack("{s:o,s:s}", "sip", sip, "replaces", replaced)
		                     : json_pack("{s:o}", "sip", sip)) < 0;
	} else {
		json_decref(sip);
		failed = !l; /* ended already: CANCEL won the race, nothing to publish */
	}
	fc_leg_unlock(sid);
	if (failed) {
		char err[128];
		fc_reply_leg(sid, 503, "Service Unavailable", "Retry-After: 5\r\n", NULL, NULL,
		             NULL, err, sizeof err);
	}
	return 0;
}

static int w_fulcrum_dialog(struct sip_msg *msg, char *p1, char *p2)
{
	(void)p1;
	(void)p2;
	return fc_dialog_request(msg) < 0 ? -1 : 1;
}

/* True (with Unsupported added to the reply) when the request Requires an
 * extension we do not implement: the script answers 420 (fc_uas.h). */
static int w_fulcrum_unsupported(struct sip_msg *msg, char *p1, char *p2)
{
	(void)p1;
	(void)p2;
	return fc_uas_require(msg) ? 1 : -1;
}

/* True when the Request-URI's scheme is one we do not serve: 416. */
static int w_fulcrum_bad_scheme(struct sip_msg *msg, char *p1, char *p2)
{
	(void)p1;
	(void)p2;
	return msg->first_line.type == SIP_REQUEST && fc_uas_unsupported_scheme(msg) ? 1 : -1;
}

static int w_fulcrum_ack(struct sip_msg *msg, char *p1, char *p2)
{
	(void)p1;
	(void)p2;
	return fc_ack_request(msg);
}

int fc_reply_leg(const char *sid, int code, const char *reason, const char *hdrs, const char *body,
                 const char *txn, const char *cmd_id, char *err, size_t errlen)
{
	unsigned int h, lbl;
	char totag_buf[FC_TAG_MAX + 1];
	char contact[FC_DIALOG_HDRS_MAX];
	fc_leg *l = fc_leg_lock(sid);
	if (!l || l->ended || (cmd_id && fc_leg_seen_cmd(l, cmd_id))) {
		int dup = l && !l->ended;
		snprintf(err, errlen, "%s", !l ? "no such call" : dup ? "duplicate" : "call ended");
		fc_leg_unlock(sid);
		return dup ? 0 : -1;
	}
	if (txn) {
		if (sscanf(txn, "%u:%u", &h, &lbl) != 2) {
			fc_leg_unlock(sid);
			snprintf(err, errlen, "bad txn");
			return -1;
		}
		memcpy(totag_buf, l->dlg.loc_tag, sizeof totag_buf);
	} else if (l->kind != FC_LEG_IN || l->state == FC_CONFIRMED) {
		fc_leg_unlock(sid);
		snprintf(err, errlen, "%s",
		         l->kind != FC_LEG_IN ? "not an inbound leg" : "already answered");
		return -1;
	} else {
		h = l->t_hash;
		lbl = l->t_label;
		memcpy(totag_buf, l->to_tag, sizeof totag_buf);
	}
	fc_dialog_hdrs(contact, sizeof contact, l->kind == FC_LEG_IN ? l->transport : "");
	fc_leg_unlock(sid);

	struct cell *t = NULL;
	if (tmb.t_lookup_ident(&t, h, lbl) < 0 || !t) {
		tmb.t_sett(T_UNDEFINED, T_BR_UNDEFINED);
		snprintf(err, errlen, "transaction gone");
		return -1;
	}
	if (t->uas.status >= 200) {
		int st = (int)t->uas.status;
		tmb.unref_cell(t);
		tmb.t_sett(T_UNDEFINED, T_BR_UNDEFINED);
		snprintf(err, errlen, "already answered with %d", st);
		return -1;
	}
	/* Contact for responses that create or refresh a dialog. */
	int with_contact = code > 100 && code < 300;
	size_t hl = strlen(contact) + (hdrs ? strlen(hdrs) : 0) + 1;
	char *all = malloc(hl);
	if (!all) {
		tmb.unref_cell(t);
		tmb.t_sett(T_UNDEFINED, T_BR_UNDEFINED);
		snprintf(err, errlen, "no memory");
		return -1;
	}
	snprintf(all, hl, "%s%s", with_contact ? contact : "", hdrs ? hdrs : "");
	str text = {(char *)reason, (int)strlen(reason)};
	str b = {(char *)(body ? body : ""), body ? (int)strlen(body) : 0};
	str nh = {all, (int)strlen(all)};
	str totag = {totag_buf, (int)strlen(totag_buf)};
	int r = tmb.t_reply_with_body(t, (unsigned int)code, &text, &b, &nh, &totag);
	free(all);
	if (r < 0) {
		int st = (int)t->uas.status;
		tmb.unref_cell(t); /* t_reply_with_body unrefs only on success */
		tmb.t_sett(T_UNDEFINED, T_BR_UNDEFINED);
		snprintf(err, errlen, "reply failed (status %d)", st);
		if (st >= 200 && !txn)
			fc_emit_ended(sid, st == 487 ? "canceled" : "failed", st);
		return -1;
	}
	tmb.t_sett(T_UNDEFINED, T_BR_UNDEFINED);
	if (txn)
		return 0;
	if (code >= 300) {
		fc_emit_ended(sid, "replied", code);
	} else if (code >= 200) {
		l = fc_leg_lock(sid);
		if (l)
			l->state = FC_CONFIRMED;
		fc_leg_unlock(sid);
	}
	return 0;
}
