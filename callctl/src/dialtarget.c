/* dialtarget.c — owns the translation of <Dial> nouns into the SIP target of
 * the module's `dial` command (see dialtarget.h): SIP URI validation
 * (RFC 3261 §25.1 shapes plus Twilio's <Sip> limits), custom-header
 * filtering and decoding, and <Number> → trunk R-URI.
 *
 * The SIP URI is parsed by hand rather than with curl's URL API: curl parses
 * RFC 3986 "scheme://authority" URLs, while a SIP URI has no "//", carries
 * ';' parameters after the host and '?' headers with SIP-specific character
 * sets; curl would either refuse it or split it wrongly, and we must keep the
 * user part and parameters byte-for-byte as written. The grammar needed here
 * is small and every accepted byte is checked against an explicit set. */
#include "dialtarget.h"
#include "form.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "phone.h"

#define ERR_URI 13243     /* Dial->SIP: Invalid SIP URI */
#define ERR_ATTR 12200    /* invalid attribute value without a specific code */
#define ERR_NUMFMT 13223  /* Dial: Invalid phone number format */
#define ERR_NOROUTE 13224 /* Dial: cannot call this number (no route) */
#define ERR_INTERNAL 12400

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A printable excerpt of untrusted bytes for an error message: at most 40
 * bytes, anything outside '!'..'~' shown as '?', "..." when cut. */
static const char *excerpt(char *buf, size_t bufsz, const char *s, size_t len)
{
	size_t max = bufsz > 4 ? bufsz - 4 : 0, n = 0;
	if (max > 40)
		max = 40;
	for (; n < len && n < max; n++)
		buf[n] = (s[n] > ' ' && s[n] < 0x7f) ? s[n] : '?';
	if (n < len && bufsz >= 4) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = 0;
	return buf;
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}


/* RFC 3261 unreserved = alphanum / mark. */
static int is_unreserved(unsigned char c)
{
	return is_alnum(c) || (c && strchr("-_.!~*'()", c));
}

/* Checks s[0..len) against unreserved + extra, with %XX escapes that must be
 * well formed and must not encode a control character. */
static int check_chars(const char *s, size_t len, const char *extra, const char **why)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len) {
				*why = "truncated percent-escape";
				return -1;
			}
			int h = hexval((unsigned char)s[i + 1]),
			    l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0) {
				*why = "malformed percent-escape";
				return -1;
			}
			if (is_ctl((unsigned char)(h << 4 | l))) {
				*why = "percent-encoded control character";
				return -1;
			}
			i += 2;
			continue;
		}
		if (!is_unreserved(c) && !(c && strchr(extra, c))) {
			*why = "character not allowed";
			return -1;
		}
	}
	return 0;
}

/* The parts of a sip:/sips: URI; pointers into the input. */
struct sipuri {
	int sips;
	const char *user; /* userinfo without '@' (may hold ":password"), NULL when absent */
	size_t user_len;
	const char *hostport;
	size_t hostport_len;
	char params[256]; /* kept parameters, each with its leading ';' */
	char transport[8];
	char region[32];
	const char *hdrs; /* after '?', NULL when there is no '?' */
	size_t hdrs_len;
};

static int check_host(const char *h, size_t len, char *msg, size_t msglen)
{
	char ex[48];
	size_t i = 0;
	if (len && h[0] == '[') {
		const char *close = memchr(h, ']', len);
		if (!close || close == h + 1) {
			seterr(msg, msglen, "malformed IPv6 host \"%s\"",
			       excerpt(ex, sizeof ex, h, len));
			return -1;
		}
		for (const char *p = h + 1; p < close; p++)
			if (hexval((unsigned char)*p) < 0 && *p != ':' && *p != '.') {
				seterr(msg, msglen, "malformed IPv6 host \"%s\"",
				       excerpt(ex, sizeof ex, h, len));
				return -1;
			}
		i = (size_t)(close - h) + 1;
	} else {
		/* hostname / IPv4: labels of alphanumerics, '-' and '_' (seen in
		 * container names) separated by single dots. */
		int prev_dot = 1;
		for (; i < len && h[i] != ':'; i++) {
			unsigned char c = (unsigned char)h[i];
			if (c == '.' && !prev_dot) {
				prev_dot = 1;
				continue;
			}
			if (!is_alnum(c) && !((c == '-' || c == '_') && !prev_dot)) {
				seterr(msg, msglen,
				       i ? "invalid host \"%s\"" : "missing host in \"%s\"",
				       excerpt(ex, sizeof ex, h, len));
				return -1;
			}
			prev_dot = 0;
		}
		if (i == 0) {
			seterr(msg, msglen, "missing host");
			return -1;
		}
	}
	if (i == len)
		return 0;
	if (h[i] != ':') {
		seterr(msg, msglen, "invalid host \"%s\"", excerpt(ex, sizeof ex, h, len));
		return -1;
	}
	i++;
	unsigned long port = 0;
	size_t digits = 0;
	for (; i < len; i++, digits++) {
		if (h[i] < '0' || h[i] > '9' || digits >= 5) {
			digits = 0;
			break;
		}
		port = port * 10 + (unsigned long)(h[i] - '0');
	}
	if (!digits || port < 1 || port > 65535) {
		seterr(msg, msglen, "invalid port in \"%s\"", excerpt(ex, sizeof ex, h, len));
		return -1;
	}
	return 0;
}

/* One ";name[=value]" URI parameter. strip_region: drop region=/edge= into
 * u->region instead of keeping them. */
static int take_param(struct sipuri *u, const char *p, size_t len, int strip_region, char *msg,
                      size_t msglen)
{
	char ex[48];
	const char *why = NULL;
	/* paramchar = param-unreserved / unreserved / escaped */
	static const char paramchar[] = "[]/:&+$";
	const char *eq = memchr(p, '=', len);
	size_t nlen = eq ? (size_t)(eq - p) : len;
	const char *v = eq ? eq + 1 : NULL;
	size_t vlen = eq ? len - nlen - 1 : 0;
	if (!nlen || (eq && !vlen) || check_chars(p, nlen, paramchar, &why) ||
	    (eq && check_chars(v, vlen, paramchar, &why))) {
		seterr(msg, msglen, "invalid URI parameter \";%s\"%s%s",
		       excerpt(ex, sizeof ex, p, len), why ? ": " : "", why ? why : "");
		return -1;
	}
	if (nlen == 9 && !strncasecmp(p, "transport", 9)) {
		static const char *const ok[] = {"udp", "tcp", "tls"};
		size_t k = 0;
		for (; k < 3; k++)
			if (vlen == 3 && !strncasecmp(v, ok[k], 3))
				break;
		if (!eq || k == 3) {
			seterr(msg, msglen, "unsupported transport \"%s\" (udp, tcp or tls)",
			       excerpt(ex, sizeof ex, v ? v : "", vlen));
			return -1;
		}
		if (u->transport[0]) {
			seterr(msg, msglen, "transport given twice");
			return -1;
		}
		memcpy(u->transport, ok[k], 4);
	} else if (strip_region && ((nlen == 6 && !strncasecmp(p, "region", 6)) ||
	                            (nlen == 4 && !strncasecmp(p, "edge", 4)))) {
		if (!eq || vlen >= sizeof u->region) {
			seterr(msg, msglen, "invalid %.*s value \"%s\"", (int)nlen, p,
			       excerpt(ex, sizeof ex, v ? v : "", vlen));
			return -1;
		}
		if (!u->region[0]) {
			memcpy(u->region, v, vlen);
			u->region[vlen] = 0;
		}
		return 0;
	}
	size_t have = strlen(u->params);
	if (have + 1 + len >= sizeof u->params) { /* cannot happen: the URI is < 255 */
		seterr(msg, msglen, "URI parameters too long");
		return -1;
	}
	u->params[have] = ';';
	memcpy(u->params + have + 1, p, len);
	u->params[have + 1 + len] = 0;
	return 0;
}

static int parse_uri(const char *uri, int strip_region, struct sipuri *u, char *msg, size_t msglen)
{
	char ex[48];
	memset(u, 0, sizeof *u);
	if (!uri || !*uri) {
		seterr(msg, msglen, "empty SIP URI");
		return -1;
	}
	for (const char *p = uri; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f) {
			seterr(msg, msglen, "%s at offset %zu of the SIP URI",
			       c == ' ' || c == '\t'  ? "whitespace"
			       : c < ' ' || c == 0x7f ? "control character"
			                              : "non-ASCII byte",
			       (size_t)(p - uri));
			return -1;
		}
	}
	const char *rest;
	if (!strncasecmp(uri, "sip:", 4)) {
		rest = uri + 4;
	} else if (!strncasecmp(uri, "sips:", 5)) {
		u->sips = 1;
		rest = uri + 5;
	} else {
		seterr(msg, msglen, "\"%s\" is not a sip: or sips: URI",
		       excerpt(ex, sizeof ex, uri, strlen(uri)));
		return -1;
	}
	const char *q = strchr(rest, '?');
	size_t base_len = q ? (size_t)(q - uri) : strlen(uri);
	if (base_len > DIALTARGET_MAX_URI) {
		seterr(msg, msglen,
		       "SIP URI of %zu characters (must be under 255, headers excluded)", base_len);
		return -1;
	}
	if (q) {
		u->hdrs = q + 1;
		u->hdrs_len = strlen(q + 1);
		if (u->hdrs_len > DIALTARGET_MAX_HDR_BLOCK) {
			seterr(msg, msglen,
			       "SIP URI header block of %zu characters (must be under 1024)",
			       u->hdrs_len);
			return -1;
		}
	}
	const char *end = uri + base_len;
	const char *at = memchr(rest, '@', (size_t)(end - rest));
	const char *hp = rest;
	if (at) {
		/* userinfo = user [":" password]; user may carry ';' parameters
		 * (telephone-subscriber) and escapes, kept as written. */
		const char *why = NULL;
		u->user = rest;
		u->user_len = (size_t)(at - rest);
		if (!u->user_len || rest[0] == ':' ||
		    check_chars(u->user, u->user_len, "&=+$,;/:", &why)) {
			seterr(msg, msglen, "invalid user part \"%s\"%s%s",
			       excerpt(ex, sizeof ex, u->user, u->user_len), why ? ": " : "",
			       why ? why : "");
			return -1;
		}
		hp = at + 1;
	}
	const char *semi = memchr(hp, ';', (size_t)(end - hp));
	u->hostport = hp;
	u->hostport_len = (size_t)((semi ? semi : end) - hp);
	if (check_host(u->hostport, u->hostport_len, msg, msglen))
		return -1;
	for (const char *p = semi; p && p < end;) {
		const char *s = p + 1;
		const char *n = memchr(s, ';', (size_t)(end - s));
		const char *e = n ? n : end;
		if (take_param(u, s, (size_t)(e - s), strip_region, msg, msglen))
			return -1;
		p = n;
	}
	if (u->sips) {
		if (!strcmp(u->transport, "udp")) {
			seterr(msg, msglen, "sips: URI with transport=udp");
			return -1;
		}
		strcpy(u->transport, "tls");
	} else if (!u->transport[0]) {
		strcpy(u->transport, "udp");
	}
	return 0;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF):
 * header values travel in the bus's JSON. */
static int utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n;
		unsigned long cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Percent-decodes s[0..len) into out (room for len + 1). Returns the decoded
 * length, or -1 for a malformed escape or a decoded control character. */
static long dt_pct_decode(const char *s, size_t len, char *out, const char **why)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int h = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
			int l = h >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
			if (h < 0 || l < 0) {
				*why = "malformed percent-escape";
				return -1;
			}
			c = (unsigned char)(h << 4 | l);
			i += 2;
		}
		if (is_ctl(c)) {
			*why = "control character (CR, LF, NUL, ...)";
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = 0;
	return (long)o;
}

/* RFC 3261 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
static int is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!is_alnum((unsigned char)*s) && !strchr("-.!%*_+`'~", *s))
			return 0;
	return 1;
}

/* Twilio §2.4: any x- header except X-Twilio*, and four standard ones;
 * Fulcrum adds Replaces (RFC 3891), which completes an attended transfer
 * when the referUrl dials the ReferTransferTarget as it came. */
static int header_allowed(const char *name)
{
	if (!strncasecmp(name, "x-", 2))
		return strncasecmp(name, "x-twilio", 8) != 0;
	return !strcasecmp(name, "User-to-User") || !strcasecmp(name, "Remote-Party-ID") ||
	       !strcasecmp(name, "P-Preferred-Identity") || !strcasecmp(name, "P-Called-Party-ID") ||
	       !strcasecmp(name, "Replaces");
}

static int parse_headers(const char *b, size_t len, dial_target *t, char *msg, size_t msglen)
{
	char ex[48];
	const char *end = b + len;
	for (const char *p = b;;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		const char *why = NULL;
		size_t nraw = (size_t)((eq ? eq : e) - p);
		char name[DIALTARGET_MAX_HDR_NAME + 1];
		if (!eq || !nraw) {
			seterr(msg, msglen, "SIP URI header \"%s\" is not name=value",
			       excerpt(ex, sizeof ex, p, (size_t)(e - p)));
			return ERR_URI;
		}
		if (nraw > 3 * DIALTARGET_MAX_HDR_NAME) { /* cannot decode to <= 64 */
			seterr(msg, msglen, "SIP URI header name \"%s\" too long",
			       excerpt(ex, sizeof ex, p, nraw));
			return ERR_URI;
		}
		char nbuf[3 * DIALTARGET_MAX_HDR_NAME + 1];
		long nlen = dt_pct_decode(p, nraw, nbuf, &why);
		if (nlen < 0 || nlen > DIALTARGET_MAX_HDR_NAME || !is_token(nbuf)) {
			seterr(msg, msglen, "invalid SIP URI header name \"%s\"%s%s",
			       excerpt(ex, sizeof ex, p, nraw), why ? ": " : "", why ? why : "");
			return ERR_URI;
		}
		memcpy(name, nbuf, (size_t)nlen + 1);
		if (!header_allowed(name)) {
			seterr(msg, msglen,
			       "SIP URI header %s is not allowed (X- headers except X-Twilio*, "
			       "User-to-User, Remote-Party-ID, P-Preferred-Identity, "
			       "P-Called-Party-ID, Replaces)",
			       name);
			return ERR_URI;
		}
		if (t->n_hdrs >= DIALTARGET_MAX_HDRS) {
			seterr(msg, msglen, "more than %d SIP URI headers", DIALTARGET_MAX_HDRS);
			return ERR_URI;
		}
		size_t vraw = (size_t)(e - eq - 1);
		char *val = malloc(vraw + 1);
		char *nm = strdup(name);
		if (!val || !nm) {
			free(val);
			free(nm);
			seterr(msg, msglen, "out of memory");
			return ERR_INTERNAL;
		}
		long vlen = dt_pct_decode(eq + 1, vraw, val, &why);
		if (vlen < 0 || vlen > DIALTARGET_MAX_HDR_VALUE ||
		    !utf8_valid((const unsigned char *)val, (size_t)vlen)) {
			seterr(msg, msglen, "invalid value of SIP URI header %s: %s", name,
			       vlen < 0                          ? why
			       : vlen > DIALTARGET_MAX_HDR_VALUE ? "longer than 1024 bytes"
			                                         : "not UTF-8");
			free(val);
			free(nm);
			return ERR_URI;
		}
		t->hdr_names[t->n_hdrs] = nm;
		t->hdr_values[t->n_hdrs] = val;
		t->n_hdrs++;
		if (!amp)
			return 0;
		p = amp + 1;
	}
}

/* Digest credentials: < 128 bytes, no control characters; the username also
 * goes into a quoted-string, so no '"' or '\'. */
static int take_creds(dial_target *t, const char *user, const char *pass, char *msg, size_t msglen)
{
	if (!user)
		user = "";
	if (!pass)
		pass = "";
	if (!*user && *pass) {
		seterr(msg, msglen, "password given without username");
		return -1;
	}
	if (strlen(user) >= sizeof t->auth_user || strlen(pass) >= sizeof t->auth_pass) {
		seterr(msg, msglen, "username or password longer than %zu bytes",
		       sizeof t->auth_user - 1);
		return -1;
	}
	for (const char *p = user; *p; p++)
		if (is_ctl((unsigned char)*p) || *p == '"' || *p == '\\') {
			seterr(msg, msglen, "username contains a control character, '\"' or '\\'");
			return -1;
		}
	for (const char *p = pass; *p; p++)
		if (is_ctl((unsigned char)*p)) {
			seterr(msg, msglen, "password contains a control character");
			return -1;
		}
	strcpy(t->auth_user, user);
	strcpy(t->auth_pass, pass);
	return 0;
}

static void finish(dial_target *t, const struct sipuri *u, const char *user, size_t user_len)
{
	/* All parts come from a URI of < 255 chars (plus a <= 16-char number),
	 * so ruri (512) and to (600) cannot be truncated. */
	snprintf(t->ruri, sizeof t->ruri, "%s:%.*s%s%.*s%s", u->sips ? "sips" : "sip",
	         (int)user_len, user ? user : "", user ? "@" : "", (int)u->hostport_len,
	         u->hostport, u->params);
	snprintf(t->to, sizeof t->to, "<%s>", t->ruri);
	memcpy(t->transport, u->transport, sizeof t->transport);
	memcpy(t->region, u->region, sizeof t->region);
}

static int fail(dial_target *t, int code)
{
	dialtarget_free(t);
	memset(t, 0, sizeof *t);
	return code;
}

int dialtarget_sip(const char *uri, const char *user, const char *pass, dial_target *out, char *err,
                   size_t errlen)
{
	struct sipuri u;
	char msg[320];
	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = 0;
	if (parse_uri(uri, 1, &u, msg, sizeof msg)) {
		seterr(err, errlen, "Dial->Sip: %s", msg);
		return fail(out, ERR_URI);
	}
	if (u.hdrs) {
		int rc = parse_headers(u.hdrs, u.hdrs_len, out, msg, sizeof msg);
		if (rc) {
			seterr(err, errlen, "Dial->Sip: %s", msg);
			return fail(out, rc);
		}
	}
	if (take_creds(out, user, pass, msg, sizeof msg)) {
		seterr(err, errlen, "Dial->Sip: %s", msg);
		return fail(out, ERR_ATTR);
	}
	finish(out, &u, u.user, u.user_len);
	return 0;
}

/* A bare 10-digit NANP number ("4155551212", "(415) 555-1212"): Twilio
 * accepts unformatted US numbers; phone.h alone would make it "+415...". */
static int nanp10(const char *in, char *out, size_t outsz)
{
	char d[11];
	size_t n = 0;
	if (!strncasecmp(in, "tel:", 4))
		in += 4;
	for (; *in && *in != ';'; in++) {
		if (strchr(" -.()", *in))
			continue;
		if (*in < '0' || *in > '9' || n >= 10)
			return -1;
		d[n++] = *in;
	}
	if (n != 10 || d[0] < '2' || d[3] < '2' || outsz < 13)
		return -1;
	out[0] = '+';
	out[1] = '1';
	memcpy(out + 2, d, 10);
	out[12] = 0;
	return 0;
}

int dialtarget_number(const char *number, const char *trunk, const char *trunk_user,
                      const char *trunk_pass, dial_target *out, char *err, size_t errlen)
{
	struct sipuri u;
	char msg[320], ex[48], e164[20];
	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = 0;
	if (!number || !*number) {
		seterr(err, errlen, "Dial->Number: empty phone number");
		return fail(out, ERR_NUMFMT);
	}
	if ((nanp10(number, e164, sizeof e164) && e164_normalize(number, e164, sizeof e164)) ||
	    !e164_valid(e164)) {
		seterr(err, errlen, "Dial->Number: \"%s\" is not an E.164 phone number",
		       excerpt(ex, sizeof ex, number, strlen(number)));
		return fail(out, ERR_NUMFMT);
	}
	if (!trunk || !*trunk) {
		seterr(err, errlen,
		       "Dial->Number: no route to %s: no PSTN trunk configured "
		       "(FULCRUM_PSTN_TRUNK)",
		       e164);
		return fail(out, ERR_NOROUTE);
	}
	msg[0] = 0; /* parse_uri always explains a failure */
	if (!parse_uri(trunk, 0, &u, msg, sizeof msg) && (u.user || u.hdrs))
		seterr(msg, sizeof msg, "it must not have a user part or headers");
	if (msg[0]) {
		seterr(err, errlen, "Dial->Number: no route to %s: invalid PSTN trunk URI: %s",
		       e164, msg);
		return fail(out, ERR_NOROUTE);
	}
	if (take_creds(out, trunk_user, trunk_pass, msg, sizeof msg)) {
		seterr(err, errlen, "Dial->Number: invalid PSTN trunk credentials: %s", msg);
		return fail(out, ERR_NOROUTE);
	}
	finish(out, &u, e164, strlen(e164));
	strcpy(out->number, e164);
	return 0;
}

void dialtarget_free(dial_target *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n_hdrs && i < DIALTARGET_MAX_HDRS; i++) {
		free(t->hdr_names[i]);
		free(t->hdr_values[i]);
		t->hdr_names[i] = t->hdr_values[i] = NULL;
	}
	t->n_hdrs = 0;
}
