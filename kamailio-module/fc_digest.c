/* fc_digest.c — UAC side of SIP digest authentication (fc_digest.h): a strict
 * parser for MD5 Digest challenges and the writer of the credentials that
 * answer them. The challenge comes from an untrusted dial target: every value
 * is length-checked, and nothing containing CR, LF or a stray quote is ever
 * written into a header. No Kamailio headers; MD5 through OpenSSL EVP. */
#include "fc_digest.h"
#include "fc_text.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

/* ---- parsing ---------------------------------------------------------- */

static int is_ws(unsigned char c)
{
	/* LWS, including folded lines: the value may or may not be unfolded. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 7230 tchar. */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte that may not appear in a value: controls other than HTAB, and DEL. */
static int is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

struct cursor {
	const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && is_ws((unsigned char)*c->p))
		c->p++;
}

/* Reads a parameter value (quoted-string or unquoted run) at c->p. When dst is
 * not NULL, stores the unescaped value NUL-terminated; a value that does not
 * fit dstsz (with its NUL) fails. Returns 0 or -1. */
static int read_value(struct cursor *c, char *dst, size_t dstsz)
{
	size_t n = 0;
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		for (;;) {
			if (c->p >= c->end)
				return -1; /* unterminated */
			unsigned char ch = (unsigned char)*c->p++;
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (c->p >= c->end)
					return -1;
				ch = (unsigned char)*c->p++;
			}
			if (is_ctl(ch))
				return -1;
			if (dst) {
				if (n + 1 >= dstsz)
					return -1;
				dst[n] = (char)ch;
			}
			n++;
		}
	} else {
		/* Unquoted: a token in the RFCs; accepted more loosely (nonces
		 * in base64 with '/', '=' are seen unquoted in the wild). */
		while (c->p < c->end) {
			unsigned char ch = (unsigned char)*c->p;
			if (is_ws(ch) || ch == ',')
				break;
			if (ch == '"' || ch == '\\' || is_ctl(ch))
				return -1;
			if (dst) {
				if (n + 1 >= dstsz)
					return -1;
				dst[n] = (char)ch;
			}
			n++;
			c->p++;
		}
		if (n == 0)
			return -1;
	}
	if (dst)
		dst[n] = 0;
	return 0;
}

/* The qop value offers "auth": a comma/space-separated list of tokens. */
static int qop_has_auth(const char *s)
{
	while (*s) {
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		const char *t = s;
		while (*s && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		if (s > t && fc_ieq(t, (size_t)(s - t), "auth"))
			return 1;
	}
	return 0;
}

enum {
	SEEN_REALM = 1,
	SEEN_NONCE = 2,
	SEEN_OPAQUE = 4,
	SEEN_ALG = 8,
	SEEN_QOP = 16,
	SEEN_STALE = 32
};

static int parse(const char *value, size_t len, fc_challenge *out)
{
	struct cursor c = {value, value + len};
	unsigned seen = 0;
	char tmp[256];

	skip_ws(&c);
	if ((size_t)(c.end - c.p) < 7 || !fc_ieq(c.p, 6, "digest") || !is_ws((unsigned char)c.p[6]))
		return -1;
	c.p += 6;

	for (;;) {
		skip_ws(&c);
		if (c.p >= c.end)
			break;
		if (*c.p == ',') { /* empty list element (RFC 7230 §7) */
			c.p++;
			continue;
		}
		const char *name = c.p;
		while (c.p < c.end && is_tchar((unsigned char)*c.p))
			c.p++;
		size_t nlen = (size_t)(c.p - name);
		if (nlen == 0)
			return -1;
		skip_ws(&c);
		if (c.p >= c.end || *c.p != '=')
			return -1; /* a bare token: token68 or a second scheme */
		c.p++;
		skip_ws(&c);

		char *dst = NULL;
		size_t dstsz = 0;
		unsigned bit = 0;
		if (fc_ieq(name, nlen, "realm")) {
			dst = out->realm, dstsz = sizeof out->realm, bit = SEEN_REALM;
		} else if (fc_ieq(name, nlen, "nonce")) {
			dst = out->nonce, dstsz = sizeof out->nonce, bit = SEEN_NONCE;
		} else if (fc_ieq(name, nlen, "opaque")) {
			dst = out->opaque, dstsz = sizeof out->opaque, bit = SEEN_OPAQUE;
			out->has_opaque = 1;
		} else if (fc_ieq(name, nlen, "algorithm")) {
			dst = out->algorithm, dstsz = sizeof out->algorithm, bit = SEEN_ALG;
		} else if (fc_ieq(name, nlen, "qop")) {
			dst = tmp, dstsz = sizeof tmp, bit = SEEN_QOP;
		} else if (fc_ieq(name, nlen, "stale")) {
			dst = tmp, dstsz = sizeof tmp, bit = SEEN_STALE;
		}
		if (seen & bit)
			return -1; /* ambiguous: each parameter at most once */
		seen |= bit;
		if (read_value(&c, dst, dstsz) < 0)
			return -1;
		if (bit == SEEN_QOP && !qop_has_auth(tmp))
			return -1;
		if (bit == SEEN_QOP)
			out->qop_auth = 1;
		if (bit == SEEN_STALE)
			out->stale = fc_ieq(tmp, strlen(tmp), "true");

		skip_ws(&c);
		if (c.p < c.end && *c.p != ',')
			return -1;
	}

	if (!(seen & SEEN_REALM) || !(seen & SEEN_NONCE) || !out->nonce[0])
		return -1;
	if (!(seen & SEEN_ALG))
		strcpy(out->algorithm, "MD5");
	else if (!fc_ieq(out->algorithm, strlen(out->algorithm), "md5"))
		return -1; /* MD5-sess, SHA-256, ... */
	return 0;
}

int fc_digest_parse(const char *value, size_t len, fc_challenge *out)
{
	if (!out)
		return -1;
	memset(out, 0, sizeof *out);
	if (!value || parse(value, len, out) < 0) {
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}

/* ---- credentials ------------------------------------------------------ */

/* s is usable in a header: no control characters (so no CR/LF) and no '"'. */
static int safe_str(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || is_ctl((unsigned char)*s))
			return 0;
	return 1;
}

/* A challenge field is NUL-terminated within its array and safe. */
static int safe_field(const char *f, size_t sz)
{
	return memchr(f, 0, sz) != NULL && safe_str(f);
}

struct md5 {
	EVP_MD_CTX *ctx;
	int ok;
};

static void md5_begin(struct md5 *m)
{
	m->ctx = EVP_MD_CTX_new();
	m->ok = m->ctx && EVP_DigestInit_ex(m->ctx, EVP_md5(), NULL) == 1;
}

static void md5_add(struct md5 *m, const char *s)
{
	if (m->ok)
		m->ok = EVP_DigestUpdate(m->ctx, s, strlen(s)) == 1;
}

/* Finishes into 32 lower-case hex digits and a NUL. Returns 0 or -1. */
static int md5_end(struct md5 *m, char hex[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (m->ok)
		m->ok = EVP_DigestFinal_ex(m->ctx, md, &mdlen) == 1 && mdlen == 16;
	EVP_MD_CTX_free(m->ctx);
	m->ctx = NULL;
	if (!m->ok)
		return -1;
	for (unsigned i = 0; i < 16; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[32] = 0;
	return 0;
}

struct wbuf {
	char *p;
	size_t cap, n;
	int over;
};

static void put_raw(struct wbuf *w, const char *s)
{
	for (; *s; s++) {
		if (w->n + 1 >= w->cap) {
			w->over = 1;
			return;
		}
		w->p[w->n++] = *s;
	}
}

/* name="value", with backslashes escaped as quoted-pairs. */
static void put_quoted(struct wbuf *w, const char *sep, const char *name, const char *v)
{
	put_raw(w, sep);
	put_raw(w, name);
	put_raw(w, "=\"");
	for (; *v; v++) {
		char one[3] = {'\\', *v, 0};
		put_raw(w, *v == '\\' ? one : one + 1);
	}
	put_raw(w, "\"");
}

int fc_digest_authorization(const fc_challenge *ch, const char *method, const char *uri,
                            const char *user, const char *pass, const char *cnonce, unsigned nc,
                            char *out, size_t outlen)
{
	if (out && outlen)
		out[0] = 0;
	if (!ch || !method || !uri || !user || !pass || !out || !outlen)
		return -1;
	int qop = ch->qop_auth != 0;
	if (!safe_field(ch->realm, sizeof ch->realm) || !safe_field(ch->nonce, sizeof ch->nonce) ||
	    !ch->nonce[0] || !safe_field(ch->algorithm, sizeof ch->algorithm))
		return -1;
	if (ch->algorithm[0] && !fc_ieq(ch->algorithm, strlen(ch->algorithm), "md5"))
		return -1;
	if (ch->has_opaque && !safe_field(ch->opaque, sizeof ch->opaque))
		return -1;
	if (!method[0] || !uri[0] || !safe_str(method) || !safe_str(uri) || !safe_str(user))
		return -1;
	if (qop && (!cnonce || !cnonce[0] || !safe_str(cnonce) || nc == 0))
		return -1;

	char ha1[33], ha2[33], resp[33], ncbuf[9];
	struct md5 m;
	md5_begin(&m);
	md5_add(&m, user);
	md5_add(&m, ":");
	md5_add(&m, ch->realm);
	md5_add(&m, ":");
	md5_add(&m, pass);
	if (md5_end(&m, ha1) < 0)
		return -1;
	md5_begin(&m);
	md5_add(&m, method);
	md5_add(&m, ":");
	md5_add(&m, uri);
	if (md5_end(&m, ha2) < 0)
		return -1;
	snprintf(ncbuf, sizeof ncbuf, "%08x", nc);
	md5_begin(&m);
	md5_add(&m, ha1);
	md5_add(&m, ":");
	md5_add(&m, ch->nonce);
	md5_add(&m, ":");
	if (qop) {
		md5_add(&m, ncbuf);
		md5_add(&m, ":");
		md5_add(&m, cnonce);
		md5_add(&m, ":auth:");
	}
	md5_add(&m, ha2);
	if (md5_end(&m, resp) < 0)
		return -1;

	struct wbuf w = {out, outlen, 0, 0};
	put_quoted(&w, "Digest ", "username", user);
	put_quoted(&w, ", ", "realm", ch->realm);
	put_quoted(&w, ", ", "nonce", ch->nonce);
	put_quoted(&w, ", ", "uri", uri);
	put_quoted(&w, ", ", "response", resp);
	put_raw(&w, ", algorithm=MD5");
	if (qop) {
		put_quoted(&w, ", ", "cnonce", cnonce);
		put_raw(&w, ", nc=");
		put_raw(&w, ncbuf);
		put_raw(&w, ", qop=auth");
	}
	if (ch->has_opaque)
		put_quoted(&w, ", ", "opaque", ch->opaque);
	if (w.over || w.n > INT_MAX) {
		out[0] = 0;
		return -1;
	}
	out[w.n] = 0;
	return (int)w.n;
}
