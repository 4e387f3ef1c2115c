/* fc_sdpcheck.c — an SDP offer parsed line by line (RFC 4566 section 5) and
 * judged answerable or not (fc_sdpcheck.h). Written here rather than taken
 * from Kamailio's parser/sdp: that one allocates a cell per stream before
 * anything is judged (an offer of thousands of m= lines costs thousands of
 * allocations), only finds SDP in multipart/mixed, and cannot be fuzzed
 * outside Kamailio. This one allocates nothing and stops at the first limit. */
#include "fc_sdpcheck.h"
#include "fc_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct media {
	int audio; /* m=audio */
	long port; /* 0: disabled stream (RFC 3264 section 5.1) */
	int rtp;   /* an RTP profile we speak */
	int has_c; /* c= at media level */
	int taken; /* one of the formats is one of FC_SDP_CODECS */
	int nfmt;
	int fmt[FC_SDP_FMTS_MAX];
} media;

typedef struct parse {
	int nmedia;
	int session_c;
	int answerable;
	/* the best reason so far why not, by how far a stream got */
	int stage; /* 0 none, 1 no active audio, 2 not RTP, 3 no codec of ours, 4 no c= */
	media m;
} parse;

static int fail(char *why, size_t whysz, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (whysz)
		vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return code;
}

/* s[0..n) is one of the comma-separated names of list, any case. */
static int in_list(const char *s, size_t n, const char *list)
{
	while (*list) {
		while (*list == ' ' || *list == ',')
			list++;
		size_t k = strcspn(list, ",");
		if (k == n) {
			size_t i = 0;
			while (i < n &&
			       fc_lower((unsigned char)s[i]) == fc_lower((unsigned char)list[i]))
				i++;
			if (i == n)
				return 1;
		}
		list += k;
	}
	return 0;
}

/* Next space-separated field of [*p, end) into (*f, *fn); 0 when none. */
static int field(const char **p, const char *end, const char **f, size_t *fn)
{
	while (*p < end && **p == ' ')
		(*p)++;
	*f = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	*fn = (size_t)(*p - *f);
	return *fn > 0;
}

/* A decimal number of at most 5 digits, or -1. */
static long number(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return -1;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The stream just ended: does it count? */
static void close_media(parse *ps)
{
	if (ps->nmedia == 0)
		return;
	media *m = &ps->m;
	int stage = (!m->audio || m->port == 0)    ? 1
	            : !m->rtp                      ? 2
	            : !m->taken                    ? 3
	            : !(m->has_c || ps->session_c) ? 4
	                                           : 5;
	if (stage == 5)
		ps->answerable = 1;
	else if (stage > ps->stage)
		ps->stage = stage;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... */
static int media_line(parse *ps, const char *v, const char *end, char *why, size_t whysz)
{
	close_media(ps);
	if (++ps->nmedia > FC_SDP_MEDIA_MAX)
		return fail(why, whysz, FC_WARN_MISC, "SDP has more than %d media lines",
		            FC_SDP_MEDIA_MAX);
	media *m = &ps->m;
	memset(m, 0, sizeof *m);
	const char *f;
	size_t fn;
	if (v < end && *v == ' ') /* RFC 4566 section 5: no space after "=" */
		return fail(why, whysz, FC_WARN_MISC, "SDP media line %d starts with a space",
		            ps->nmedia);
	if (!field(&v, end, &f, &fn))
		return fail(why, whysz, FC_WARN_MISC, "SDP media line %d is empty", ps->nmedia);
	m->audio = fc_ieq(f, fn, "audio");
	if (!field(&v, end, &f, &fn))
		return fail(why, whysz, FC_WARN_MISC, "SDP media line %d has no port", ps->nmedia);
	const char *slash = memchr(f, '/', fn);
	m->port = number(f, slash ? (size_t)(slash - f) : fn);
	if (m->port < 0 || m->port > 65535 ||
	    (slash && number(slash + 1, fn - (size_t)(slash + 1 - f)) < 0))
		return fail(why, whysz, FC_WARN_MISC, "SDP media line %d has a bad port",
		            ps->nmedia);
	if (!field(&v, end, &f, &fn))
		return fail(why, whysz, FC_WARN_MISC, "SDP media line %d has no protocol",
		            ps->nmedia);
	m->rtp = in_list(
	    f, fn, "RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP, UDP/TLS/RTP/SAVPF");
	while (field(&v, end, &f, &fn)) {
		if (m->nfmt == FC_SDP_FMTS_MAX)
			return fail(why, whysz, FC_WARN_MISC,
			            "SDP media line %d has more than %d formats", ps->nmedia,
			            FC_SDP_FMTS_MAX);
		long pt = m->rtp ? number(f, fn) : 0;
		if (pt < 0 || pt > 127)
			return fail(why, whysz, FC_WARN_MISC,
			            "SDP media line %d has a bad payload type", ps->nmedia);
		m->fmt[m->nfmt++] = (int)pt;
		/* RFC 3551 static types: 0 PCMU, 8 PCMA, 9 G722 */
		if (m->rtp && (pt == 0 || pt == 8 || pt == 9))
			m->taken = 1;
	}
	if (m->nfmt == 0)
		return fail(why, whysz, FC_WARN_MISC, "SDP media line %d has no formats",
		            ps->nmedia);
	return 0;
}

/* a=rtpmap:<pt> <encoding>/<clock>[/<channels>] in the current stream. */
static void rtpmap_line(parse *ps, const char *v, const char *end)
{
	if (ps->nmedia == 0 || !ps->m.rtp || (size_t)(end - v) < 7 || memcmp(v, "rtpmap:", 7) != 0)
		return;
	v += 7;
	const char *f, *e;
	size_t fn, en;
	if (!field(&v, end, &f, &fn) || !field(&v, end, &e, &en))
		return;
	long pt = number(f, fn);
	const char *slash = memchr(e, '/', en);
	if (pt < 0 || !slash)
		return;
	for (int i = 0; i < ps->m.nfmt; i++)
		if (ps->m.fmt[i] == pt && in_list(e, (size_t)(slash - e), FC_SDP_CODECS))
			ps->m.taken = 1;
}

/* c=IN IP4|IP6 <address> */
static int conn_line(const char *v, const char *end)
{
	const char *f;
	size_t fn;
	if (!field(&v, end, &f, &fn) || !fc_ieq(f, fn, "in"))
		return 0;
	if (!field(&v, end, &f, &fn) || !(fc_ieq(f, fn, "ip4") || fc_ieq(f, fn, "ip6")))
		return 0;
	return field(&v, end, &f, &fn);
}

int fc_sdp_check(const char *sdp, size_t n, char *why, size_t whysz)
{
	parse ps;
	memset(&ps, 0, sizeof ps);
	const char *p = sdp, *end = sdp + n;
	int lines = 0;
	if (whysz)
		why[0] = 0;
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *le = lf ? lf : end;
		const char *next = lf ? lf + 1 : end;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			/* Only blank lines may follow the last line. */
			for (const char *q = next; q < end; q++)
				if (*q != '\r' && *q != '\n')
					return fail(why, whysz, FC_WARN_MISC,
					            "SDP has an empty line %d", lines + 1);
			break;
		}
		if (++lines > FC_SDP_LINES_MAX)
			return fail(why, whysz, FC_WARN_MISC, "SDP has more than %d lines",
			            FC_SDP_LINES_MAX);
		if (le - p > FC_SDP_LINE_MAX)
			return fail(why, whysz, FC_WARN_MISC, "SDP line %d is longer than %d bytes",
			            lines, FC_SDP_LINE_MAX);
		if (le - p < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
			return fail(why, whysz, FC_WARN_MISC, "SDP line %d is not <type>=<value>",
			            lines);
		for (const char *q = p + 2; q < le; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return fail(why, whysz, FC_WARN_MISC,
				            "SDP line %d has a control character", lines);
		const char *v = p + 2;
		if (lines == 1 && !(le - v == 1 && v[0] == '0'))
			return fail(why, whysz, FC_WARN_MISC, "SDP does not start with v=0");
		switch (p[0]) {
		case 'm': {
			int rc = media_line(&ps, v, le, why, whysz);
			if (rc)
				return rc;
			break;
		}
		case 'c':
			if (!conn_line(v, le))
				return fail(why, whysz, FC_WARN_MISC,
				            "SDP line %d is not a connection line", lines);
			if (ps.nmedia)
				ps.m.has_c = 1;
			else
				ps.session_c = 1;
			break;
		case 'a':
			rtpmap_line(&ps, v, le);
			break;
		default:
			break;
		}
		p = next;
	}
	if (lines == 0)
		return fail(why, whysz, FC_WARN_MISC, "SDP is empty");
	close_media(&ps);
	if (ps.answerable)
		return 0;
	switch (ps.stage) {
	case 0:
		return fail(why, whysz, FC_WARN_MEDIA, "SDP has no media line");
	case 1:
		return fail(why, whysz, FC_WARN_MEDIA,
		            "Media type not available: no active audio stream");
	case 2:
		return fail(why, whysz, FC_WARN_PROTO,
		            "Incompatible transport protocol: no RTP audio stream");
	case 3:
		return fail(why, whysz, FC_WARN_FORMAT,
		            "Incompatible media format: none of " FC_SDP_CODECS);
	default:
		return fail(why, whysz, FC_WARN_MISC, "SDP audio stream has no connection address");
	}
}
