/* media.c — rtpengine recipes for call trees (media.h). */
#include "media.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rtpe.h"

static rtpe_client *ng;

int media_init(uv_loop_t *loop, const char *ng_addr)
{
	ng = rtpe_new(loop, ng_addr);
	return ng ? 0 : -1;
}

void media_shutdown(void)
{
	rtpe_free(ng);
	ng = NULL;
}

typedef struct mreq {
	media_cb cb;
	void *ud;
	/* For media_answer_alone: the second step. */
	char *root, *a_tag, *bh_sdp;
} mreq;

static void mreq_free(mreq *m)
{
	free(m->root);
	free(m->a_tag);
	free(m->bh_sdp);
	free(m);
}

static void sdp_cb(json_t *reply, const char *err, void *ud)
{
	mreq *m = ud;
	const char *sdp = reply ? json_string_value(json_object_get(reply, "sdp")) : NULL;
	if (!err && !sdp)
		err = "no SDP in the reply";
	m->cb(err ? NULL : sdp, err, m->ud);
	mreq_free(m);
}

static json_t *base(const char *cmd, const char *root, const char *from_tag, const char *to_tag)
{
	json_t *j = json_pack("{s:s,s:s}", "command", cmd, "call-id", root);
	if (j && from_tag)
		json_object_set_new(j, "from-tag", json_string(from_tag));
	if (j && to_tag)
		json_object_set_new(j, "to-tag", json_string(to_tag));
	return j;
}

/* Options every offer/answer carries: plain RTP/AVP towards SIP peers,
 * rewritten origin and session connection. */
static void sdp_opts(json_t *j, const char *sdp)
{
	json_object_set_new(j, "sdp", json_string(sdp));
	json_object_set_new(j, "replace", json_pack("[s,s]", "origin", "session-connection"));
	json_object_set_new(j, "ICE", json_string("remove"));
	json_object_set_new(j, "transport-protocol", json_string("RTP/AVP"));
}

static int send_sdp(const char *cmd, const char *root, const char *from_tag, const char *to_tag,
                    const char *sdp, rtpe_cb rcb, mreq *m)
{
	json_t *j = base(cmd, root, from_tag, to_tag);
	if (!j) {
		mreq_free(m);
		return -1;
	}
	sdp_opts(j, sdp);
	int rc = rtpe_send(ng, j, rcb, m);
	json_decref(j);
	if (rc < 0)
		mreq_free(m);
	return rc;
}

static mreq *mreq_new(media_cb cb, void *ud)
{
	mreq *m = calloc(1, sizeof *m);
	if (m) {
		m->cb = cb;
		m->ud = ud;
	}
	return m;
}

int media_offer(const char *root, const char *from_tag, const char *to_tag, const char *sdp,
                media_cb cb, void *ud)
{
	mreq *m = mreq_new(cb, ud);
	return m && sdp ? send_sdp("offer", root, from_tag, to_tag, sdp, sdp_cb, m) : (free(m), -1);
}

int media_answer(const char *root, const char *from_tag, const char *to_tag, const char *sdp,
                 media_cb cb, void *ud)
{
	mreq *m = mreq_new(cb, ud);
	return m && sdp ? send_sdp("answer", root, from_tag, to_tag, sdp, sdp_cb, m)
	                : (free(m), -1);
}

static void alone_offer_cb(json_t *reply, const char *err, void *ud)
{
	(void)reply;
	mreq *m = ud;
	if (err) {
		m->cb(NULL, err, m->ud);
		mreq_free(m);
		return;
	}
	char vtag[64];
	json_t *j = base("answer", m->root, m->a_tag, media_virtual_tag(m->root, vtag));
	if (j)
		sdp_opts(j, m->bh_sdp);
	if (!j || rtpe_send(ng, j, sdp_cb, m) < 0) {
		m->cb(NULL, "cannot send the answer", m->ud);
		mreq_free(m);
	}
	json_decref(j);
}

int media_answer_alone(const char *root, const char *a_tag, const char *a_sdp, media_cb cb,
                       void *ud)
{
	mreq *m = mreq_new(cb, ud);
	if (!m || !a_sdp)
		return free(m), -1;
	m->root = strdup(root);
	m->a_tag = strdup(a_tag);
	m->bh_sdp = media_blackhole_sdp(a_sdp);
	if (!m->root || !m->a_tag || !m->bh_sdp) {
		mreq_free(m);
		return -1;
	}
	char vtag[64];
	return send_sdp("offer", root, a_tag, media_virtual_tag(root, vtag), a_sdp, alone_offer_cb,
	                m);
}

const char *media_virtual_tag(const char *root, char out[64])
{
	snprintf(out, 64, "V%s", root);
	return out;
}

int media_offer_alone(const char *root, const char *tag, media_cb cb, void *ud)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
	                          "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 8 101\r\n"
	                          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
	                          "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
	                          "a=sendrecv\r\n";
	char vtag[64];
	return media_offer(root, media_virtual_tag(root, vtag), tag, sdp, cb, ud);
}

static void log_cb(json_t *reply, const char *err, void *ud)
{
	(void)reply;
	if (err)
		LOGW("rtpengine %s: %s", (const char *)ud, err);
}

static void fire(json_t *j, const char *what)
{
	if (j && rtpe_send(ng, j, log_cb, (void *)what) < 0)
		LOGW("rtpengine %s: cannot send", what);
	json_decref(j);
}

void media_play(const char *root, const char *tag, const char *file)
{
	json_t *j = base("play media", root, tag, NULL);
	if (j) {
		json_object_set_new(j, "file", json_string(file));
		json_object_set_new(j, "repeat-times", json_integer(100000));
	}
	fire(j, "play media");
}

void media_stop(const char *root, const char *tag)
{
	fire(base("stop media", root, tag, NULL), "stop media");
}

void media_block(const char *root, const char *tag)
{
	fire(base("block media", root, tag, NULL), "block media");
}

void media_unblock(const char *root, const char *tag)
{
	fire(base("unblock media", root, tag, NULL), "unblock media");
}

void media_delete(const char *root)
{
	fire(base("delete", root, NULL, NULL), "delete");
}

/* Finds the value after "a=rtpmap:<pt> " for pt in sdp; copies the line's
 * encoding ("PCMU/8000") into out. */
static int rtpmap_of(const char *sdp, int pt, char *out, size_t n)
{
	char key[32];
	snprintf(key, sizeof key, "a=rtpmap:%d ", pt);
	const char *p = strstr(sdp, key);
	if (!p)
		return -1;
	p += strlen(key);
	size_t i = 0;
	/* encoding/rate[/channels]: printable, no spaces (it is copied into
	 * the SDP we send). */
	while ((unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f && i + 1 < n) {
		out[i] = p[i];
		i++;
	}
	out[i] = 0;
	return 0;
}

char *media_blackhole_sdp(const char *offer)
{
	const char *m = strstr(offer, "m=audio ");
	if (!m)
		return NULL;
	/* m=audio <port> <proto> <pt> <pt> ... */
	const char *p = m + 8;
	int field = 0;
	int first = -1, te = -1;
	char enc[64] = "", te_enc[64] = "";
	while (*p && *p != '\r' && *p != '\n') {
		while (*p == ' ')
			p++;
		char *end;
		if (field >= 2) {
			long pt = strtol(p, &end, 10);
			if (end == p)
				break;
			char e[64];
			int has = rtpmap_of(offer, (int)pt, e, sizeof e) == 0;
			if (first < 0) {
				first = (int)pt;
				if (has)
					snprintf(enc, sizeof enc, "%s", e);
			} else if (te < 0 && has && strncasecmp(e, "telephone-event/", 16) == 0) {
				te = (int)pt;
				snprintf(te_enc, sizeof te_enc, "%s", e);
			}
			p = end;
		} else {
			while (*p && *p != ' ' && *p != '\r' && *p != '\n')
				p++;
		}
		field++;
	}
	if (first < 0)
		return NULL;
	char *out = malloc(1024);
	if (!out)
		return NULL;
	int n = snprintf(out, 1024,
	                 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	                 "m=audio 9 RTP/AVP %d",
	                 first);
	if (te >= 0)
		n += snprintf(out + n, 1024 - n, " %d", te);
	n += snprintf(out + n, 1024 - n, "\r\n");
	if (enc[0])
		n += snprintf(out + n, 1024 - n, "a=rtpmap:%d %s\r\n", first, enc);
	if (te >= 0)
		n += snprintf(out + n, 1024 - n, "a=rtpmap:%d %s\r\na=fmtp:%d 0-16\r\n", te, te_enc,
		              te);
	snprintf(out + n, 1024 - n, "a=sendrecv\r\n");
	return out;
}

/* Copies the rest of the line starting with key (first occurrence) into out. */
static void line_of(const char *sdp, const char *key, char *out, size_t n)
{
	out[0] = 0;
	const char *p = strstr(sdp, key);
	if (!p)
		return;
	size_t i = 0;
	while (p[i] && p[i] != '\r' && p[i] != '\n' && i + 1 < n) {
		out[i] = p[i];
		i++;
	}
	out[i] = 0;
}

int media_same_address(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	char ca[128], cb[128], ma[64], mb[64];
	line_of(a, "c=", ca, sizeof ca);
	line_of(b, "c=", cb, sizeof cb);
	line_of(a, "m=audio ", ma, sizeof ma);
	line_of(b, "m=audio ", mb, sizeof mb);
	/* m=audio <port> <proto>: compare up to the proto */
	char *sa = strchr(ma + 8, ' '), *sb = strchr(mb + 8, ' ');
	if (sa)
		*sa = 0;
	if (sb)
		*sb = 0;
	return !strcmp(ca, cb) && !strcmp(ma, mb) && ma[0];
}
