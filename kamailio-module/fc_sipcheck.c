/* fc_sipcheck.c — RFC 3261 section 8.2 checks of an incoming INVITE and the
 * text jobs around them (fc_sipcheck.h). Kamailio's parsers have already
 * split the message into headers; what is left here works on single values
 * and on the body, so it is plain C over bounded slices. */
#include "fc_sipcheck.h"
#include "fc_text.h"

#include <string.h>

static int is_lws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 3261 token characters. */
static int is_token(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("-.!%*_+`'~", c) != NULL;
}

/* s[0..n) without leading and trailing LWS. */
static void trim_lws(const char **s, size_t *n)
{
	while (*n && is_lws((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_lws((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* s[0..n) equals word, ignoring ASCII case (word of any case). */
static int ieq_any(const char *s, size_t n, const char *word, size_t wn)
{
	if (n != wn)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (fc_lower((unsigned char)s[i]) != fc_lower((unsigned char)word[i]))
			return 0;
	return 1;
}

/* ---- Request-URI -------------------------------------------------------- */

int fc_uri_scheme_ok(const char *uri, size_t n)
{
	const char *c = memchr(uri, ':', n);
	if (!c)
		return -1;
	size_t sl = (size_t)(c - uri);
	if (fc_ieq(uri, sl, "sip") || fc_ieq(uri, sl, "sips") || fc_ieq(uri, sl, "tel"))
		return 1;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (sl == 0 || fc_lower((unsigned char)uri[0]) < 'a' ||
	    fc_lower((unsigned char)uri[0]) > 'z')
		return -1;
	for (size_t i = 1; i < sl; i++) {
		unsigned char ch = (unsigned char)fc_lower((unsigned char)uri[i]);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
		      ch == '-' || ch == '.'))
			return -1;
	}
	return 0;
}

int fc_uri_user_unescape(const char *s, size_t n, char *out, size_t outsz)
{
	size_t len;
	if (fc_pct_decode(s, n, out, outsz, 0, &len) != FC_PCT_OK)
		return -1;
	return (int)len;
}

/* ---- Require ------------------------------------------------------------ */

/* 1 when tag[0..n) is one of FC_SUPPORTED_TAGS. */
static int tag_supported(const char *tag, size_t n)
{
	const char *p = FC_SUPPORTED_TAGS;
	while (*p) {
		size_t k = strcspn(p, ",");
		const char *t = p;
		size_t tn = k;
		trim_lws(&t, &tn);
		if (ieq_any(tag, n, t, tn))
			return 1;
		p += k;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void append(char *out, size_t outsz, size_t *o, const char *s, size_t n)
{
	if (*o + n + 1 > outsz)
		return; /* the list is a courtesy; the 420 goes out anyway */
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = 0;
}

int fc_require_unsupported(const char *val, size_t n, char *out, size_t outsz)
{
	int bad = 0;
	size_t o = 0;
	if (outsz)
		out[0] = 0;
	size_t i = 0;
	while (i <= n) {
		size_t j = i;
		while (j < n && val[j] != ',')
			j++;
		const char *t = val + i;
		size_t tn = j - i;
		trim_lws(&t, &tn);
		if (tn > 0 && !tag_supported(t, tn)) {
			int token = 1;
			for (size_t k = 0; k < tn; k++)
				token &= is_token((unsigned char)t[k]);
			if (bad)
				append(out, outsz, &o, ", ", 2);
			append(out, outsz, &o, token ? t : "?", token ? tn : 1);
			bad++;
		}
		i = j + 1;
	}
	return bad;
}

/* ---- header values ------------------------------------------------------ */

size_t fc_unfold(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (!is_lws((unsigned char)s[i])) {
			s[o++] = s[i++];
			continue;
		}
		size_t j = i;
		int fold = 0;
		while (j < n && is_lws((unsigned char)s[j])) {
			fold |= s[j] == '\r' || s[j] == '\n';
			j++;
		}
		if (fold) {
			s[o++] = ' ';
		} else {
			memmove(s + o, s + i, j - i);
			o += j - i;
		}
		i = j;
	}
	return o;
}

/* ---- bodies ------------------------------------------------------------- */

int fc_ctype_is(const char *ctype, size_t n, const char *type_subtype)
{
	const char *s = ctype;
	size_t k = 0;
	while (n && is_lws((unsigned char)*s)) {
		s++;
		n--;
	}
	while (k < n && s[k] != ';' && !is_lws((unsigned char)s[k]))
		k++;
	return fc_ieq(s, k, type_subtype);
}

#define BOUNDARY_MAX 200 /* RFC 2046 allows 70; be lenient, not unbounded */

/* The boundary parameter of a multipart Content-Type, unquoted, into b. */
static int boundary_of(const char *ct, size_t n, char *b, size_t bsz)
{
	const char *end = ct + n;
	const char *p = memchr(ct, ';', n);
	while (p && p < end) {
		p++;
		while (p < end && is_lws((unsigned char)*p))
			p++;
		const char *name = p;
		while (p < end && *p != '=' && *p != ';' && !is_lws((unsigned char)*p))
			p++;
		size_t nl = (size_t)(p - name);
		while (p < end && is_lws((unsigned char)*p))
			p++;
		if (p >= end || *p != '=') {
			p = memchr(p, ';', (size_t)(end - p));
			continue;
		}
		p++;
		while (p < end && is_lws((unsigned char)*p))
			p++;
		const char *v = p;
		size_t vl;
		if (p < end && *p == '"') {
			v = ++p;
			while (p < end && *p != '"')
				p++;
			if (p >= end)
				return -1;
			vl = (size_t)(p - v);
			p++;
		} else {
			while (p < end && *p != ';' && !is_lws((unsigned char)*p))
				p++;
			vl = (size_t)(p - v);
		}
		if (fc_ieq(name, nl, "boundary")) {
			if (vl == 0 || vl >= bsz)
				return -1;
			memcpy(b, v, vl);
			b[vl] = 0;
			return (int)vl;
		}
		p = memchr(p, ';', (size_t)(end - p));
	}
	return -1;
}

/* The next delimiter line "--boundary" at or after p that starts a line
 * (or the body), or NULL. */
static const char *next_delim(const char *body, const char *p, const char *end, const char *b,
                              size_t bl)
{
	for (; p + 2 + bl <= end; p++) {
		if ((p == body || p[-1] == '\n') && p[0] == '-' && p[1] == '-' &&
		    memcmp(p + 2, b, bl) == 0)
			return p;
	}
	return NULL;
}

/* The end of the line that starts at p (after its LF), or end. */
static const char *line_end(const char *p, const char *end)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	return lf ? lf + 1 : end;
}

/* 1 when the header block [p, hend) has Content-Type application/sdp. */
static int part_is_sdp(const char *p, const char *hend)
{
	while (p < hend) {
		const char *le = line_end(p, hend);
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (colon) {
			const char *name = p;
			size_t nl = (size_t)(colon - p);
			trim_lws(&name, &nl);
			if (fc_ieq(name, nl, "content-type") || fc_ieq(name, nl, "c"))
				return fc_ctype_is(colon + 1, (size_t)(le - colon - 1),
				                   "application/sdp");
		}
		p = le;
	}
	return 0;
}

int fc_multipart_sdp(const char *ctype, size_t ctype_len, const char *body, size_t body_len,
                     const char **sdp, size_t *sdp_len)
{
	char b[BOUNDARY_MAX + 1];
	int bl = boundary_of(ctype, ctype_len, b, sizeof b);
	if (bl <= 0)
		return -1;
	const char *end = body + body_len;
	const char *d = next_delim(body, body, end, b, (size_t)bl);
	if (!d)
		return -1;
	for (;;) {
		const char *after = d + 2 + bl;
		if (after + 2 <= end && after[0] == '-' && after[1] == '-')
			return 0; /* close delimiter: no SDP part */
		const char *part = line_end(after, end);
		const char *next = next_delim(body, part, end, b, (size_t)bl);
		if (!next)
			return -1; /* no close delimiter */
		/* The CRLF before the next delimiter belongs to the delimiter. */
		const char *pend = next;
		if (pend > part && pend[-1] == '\n')
			pend--;
		if (pend > part && pend[-1] == '\r')
			pend--;
		/* Headers end at the first empty line. */
		const char *hend = part, *content = NULL;
		while (hend < pend) {
			if (hend[0] == '\n') {
				content = hend + 1;
				break;
			}
			if (hend[0] == '\r' && hend + 1 < pend && hend[1] == '\n') {
				content = hend + 2;
				break;
			}
			hend = line_end(hend, pend);
		}
		if (content && part_is_sdp(part, hend)) {
			*sdp = content;
			*sdp_len = (size_t)(pend - content);
			return 1;
		}
		d = next;
	}
}
