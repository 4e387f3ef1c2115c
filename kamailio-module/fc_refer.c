/* fc_refer.c — parsers for the REFER headers (fc_refer.h): Refer-To with its
 * embedded URI headers and Replaces, the Replaces value itself, and
 * Referred-By. Strict about anything that could end up in a header we write
 * (control characters, %-encoded CR/LF, unbalanced quotes or brackets, lists
 * of values) and about sizes: every field has a fixed bound, and a value that
 * does not fit is refused, never truncated. libc only, no Kamailio headers. */
#include "fc_refer.h"
#include "fc_text.h"

#include <string.h>

/* Longest header value looked at; anything longer is refused. */
#define IN_MAX 8192

/* ---- characters -------------------------------------------------------- */

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Controls other than HTAB (NUL, CR, LF included), and DEL. */
static int is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* RFC 3261 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
static int is_token(unsigned char c)
{
	return is_alnum(c) || (c && strchr("-.!%*_+`'~", c) != NULL);
}

/* RFC 3261 word (Call-ID = word [ "@" word ]); '@' accepted anywhere. */
static int is_word(unsigned char c)
{
	return is_token(c) || (c && strchr("()<>:\\\"/[]?{}@", c) != NULL);
}

/* Copies a constant reason into err: at most errlen - 1 bytes and 80 chars. */
static void set_err(char *err, size_t errlen, const char *why)
{
	if (!err || !errlen)
		return;
	size_t n = strlen(why);
	if (n > 80)
		n = 80;
	if (n > errlen - 1)
		n = errlen - 1;
	memcpy(err, why, n);
	err[n] = 0;
}

/* Copies s[0..n) NUL-terminated into dst (dstsz bytes); -1 when it does not fit. */
static int copy_field(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n >= dstsz)
		return -1;
	memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

/* The first check of every parser: a value of a sane length, free of
 * control characters, without its surrounding SP/HTAB. Sets *p, *end. */
static int prepare(const char *s, size_t len, const char **p, const char **end, const char **why)
{
	if (!s) {
		*why = "missing value";
		return -1;
	}
	if (len > IN_MAX) {
		*why = "value too long";
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (is_ctl((unsigned char)s[i])) {
			*why = "control character in value";
			return -1;
		}
	*p = s;
	*end = s + len;
	while (*p < *end && is_ws((unsigned char)**p))
		(*p)++;
	while (*end > *p && is_ws((unsigned char)(*end)[-1]))
		(*end)--;
	if (*p == *end) {
		*why = "empty value";
		return -1;
	}
	return 0;
}

/* ---- name-addr / addr-spec -------------------------------------------- */

/* Where the URI of a name-addr or addr-spec is (inside the input). */
struct addr {
	const char *uri;
	size_t ulen;
};

/* Reads a quoted-string at *p (which is '"'), resolving \-escapes into dst
 * (dstsz bytes, NULL: not stored). Leaves *p after the closing quote. */
static int read_quoted(const char **p, const char *end, char *dst, size_t dstsz, const char **why)
{
	size_t n = 0;
	(*p)++;
	for (;;) {
		if (*p >= end) {
			*why = "unbalanced quote";
			return -1;
		}
		unsigned char c = (unsigned char)*(*p)++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (*p >= end) {
				*why = "unbalanced quote";
				return -1;
			}
			c = (unsigned char)*(*p)++;
		}
		if (dst) {
			if (n + 1 >= dstsz) {
				*why = "display name too long";
				return -1;
			}
			dst[n] = (char)c;
		}
		n++;
	}
	if (dst)
		dst[n] = 0;
	return 0;
}

/* The header parameters after the address: *( ";" name [ "=" value ] ),
 * value a quoted-string or a run of printable ASCII without ; , " < > and
 * white space. Only checked, not kept. */
static int check_params(const char *p, const char *end, const char **why)
{
	while (p < end && is_ws((unsigned char)*p))
		p++;
	while (p < end) {
		if (*p == ',') {
			*why = "more than one value (comma)";
			return -1;
		}
		if (*p != ';') {
			*why = "unexpected text after the URI";
			return -1;
		}
		p++;
		while (p < end && is_ws((unsigned char)*p))
			p++;
		const char *name = p;
		while (p < end && is_token((unsigned char)*p))
			p++;
		if (p == name) {
			*why = "invalid header parameter";
			return -1;
		}
		while (p < end && is_ws((unsigned char)*p))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && is_ws((unsigned char)*p))
				p++;
			if (p < end && *p == '"') {
				if (read_quoted(&p, end, NULL, 0, why) < 0)
					return -1;
			} else {
				const char *v = p;
				while (p < end && !is_ws((unsigned char)*p) && *p != ';' &&
				       *p != ',') {
					unsigned char c = (unsigned char)*p;
					if (c == '"' || c == '<' || c == '>' || c >= 0x80) {
						*why = "invalid header parameter value";
						return -1;
					}
					p++;
				}
				if (p == v) {
					*why = "empty header parameter value";
					return -1;
				}
			}
		}
		while (p < end && is_ws((unsigned char)*p))
			p++;
	}
	return 0;
}

/* Parses [display-name] "<" URI ">" *(;param), or addr-spec *(;param).
 * display (disp, dispsz; NULL: not kept) gets the display name.
 *
 * The addr-spec form (no angle brackets): RFC 3261 §20 says its URI cannot
 * contain ';', ',' or '?', so the URI ends at the first ';' (what follows is
 * header parameters, e.g. "sip:a@b;tag=x") or white space, and a ',' is a
 * list of values. A '?' is accepted, leniently, as the start of embedded
 * headers (some UAs send "Refer-To: sip:a@b?Replaces=..." unbracketed). */
static int parse_addr(const char *s, size_t len, char *disp, size_t dispsz, struct addr *a,
                      const char **why)
{
	const char *p, *end;
	if (prepare(s, len, &p, &end, why) < 0)
		return -1;
	if (disp && dispsz)
		disp[0] = 0;

	if (*p == '"') {
		if (read_quoted(&p, end, disp, dispsz, why) < 0)
			return -1;
		while (p < end && is_ws((unsigned char)*p))
			p++;
		if (p >= end || *p != '<') {
			*why = "display name not followed by <URI>";
			return -1;
		}
	} else if (*p != '<') {
		/* A display name of tokens (and, leniently, UTF-8 bytes) separated
		 * by white space, if a '<' follows; otherwise an addr-spec. */
		const char *q = p;
		while (q < end && (is_token((unsigned char)*q) || is_ws((unsigned char)*q) ||
		                   (unsigned char)*q >= 0x80))
			q++;
		if (q < end && *q == '<') {
			const char *de = q;
			while (de > p && is_ws((unsigned char)de[-1]))
				de--;
			if (disp && copy_field(disp, dispsz, p, (size_t)(de - p)) < 0) {
				*why = "display name too long";
				return -1;
			}
			p = q;
		}
	}

	if (*p == '<') {
		const char *u = ++p;
		while (p < end && *p != '>') {
			unsigned char c = (unsigned char)*p;
			if (c == '<' || c == '"' || is_ws(c) || c >= 0x80) {
				*why = "invalid character in URI";
				return -1;
			}
			p++;
		}
		if (p >= end) {
			*why = "unterminated <URI>";
			return -1;
		}
		a->uri = u;
		a->ulen = (size_t)(p - u);
		p++;
	} else {
		const char *u = p;
		while (p < end && *p != ';' && !is_ws((unsigned char)*p)) {
			unsigned char c = (unsigned char)*p;
			if (c == ',') {
				*why = "more than one value (comma)";
				return -1;
			}
			if (c == '<' || c == '>' || c == '"' || c >= 0x80) {
				*why = "invalid character in URI";
				return -1;
			}
			p++;
		}
		a->uri = u;
		a->ulen = (size_t)(p - u);
	}
	if (a->ulen == 0) {
		*why = "empty URI";
		return -1;
	}
	if (check_params(p, end, why) < 0)
		return -1;

	/* scheme ":" then something (RFC 3986 scheme) */
	size_t i = 0;
	if (!is_alpha((unsigned char)a->uri[0])) {
		*why = "URI without a scheme";
		return -1;
	}
	while (i < a->ulen && (is_alnum((unsigned char)a->uri[i]) || a->uri[i] == '+' ||
	                       a->uri[i] == '-' || a->uri[i] == '.'))
		i++;
	if (i >= a->ulen || a->uri[i] != ':') {
		*why = "URI without a scheme";
		return -1;
	}
	if (i + 1 >= a->ulen) {
		*why = "nothing after the URI scheme";
		return -1;
	}
	return 0;
}

/* Length of the scheme of a URI that parse_addr accepted. */
static size_t scheme_len(const struct addr *a)
{
	return (size_t)((const char *)memchr(a->uri, ':', a->ulen) - a->uri);
}

/* ---- Replaces ----------------------------------------------------------- */

static int parse_replaces(const char *s, size_t len, fc_replaces *out, const char **why)
{
	const char *p, *end;
	if (prepare(s, len, &p, &end, why) < 0)
		return -1;

	const char *cid = p;
	while (p < end && *p != ';')
		p++;
	const char *cend = p;
	while (cend > cid && is_ws((unsigned char)cend[-1]))
		cend--;
	if (cend == cid) {
		*why = "Replaces without a Call-ID";
		return -1;
	}
	for (const char *c = cid; c < cend; c++)
		if (!is_word((unsigned char)*c)) {
			*why = "invalid Call-ID in Replaces";
			return -1;
		}
	if (copy_field(out->call_id, sizeof out->call_id, cid, (size_t)(cend - cid)) < 0) {
		*why = "Call-ID in Replaces too long";
		return -1;
	}

	int have_to = 0, have_from = 0;
	while (p < end) {
		/* *p == ';' */
		p++;
		while (p < end && is_ws((unsigned char)*p))
			p++;
		const char *name = p;
		while (p < end && is_token((unsigned char)*p))
			p++;
		size_t nlen = (size_t)(p - name);
		if (nlen == 0) {
			*why = "invalid Replaces parameter";
			return -1;
		}
		while (p < end && is_ws((unsigned char)*p))
			p++;
		const char *v = NULL;
		size_t vlen = 0;
		if (p < end && *p == '=') {
			p++;
			while (p < end && is_ws((unsigned char)*p))
				p++;
			v = p;
			if (p < end && *p == '"') {
				if (read_quoted(&p, end, NULL, 0, why) < 0)
					return -1;
			} else {
				while (p < end && !is_ws((unsigned char)*p) && *p != ';') {
					if (*p == '"') {
						*why = "invalid Replaces parameter";
						return -1;
					}
					p++;
				}
			}
			vlen = (size_t)(p - v);
			if (vlen == 0) {
				*why = "empty Replaces parameter value";
				return -1;
			}
		}
		while (p < end && is_ws((unsigned char)*p))
			p++;
		if (p < end && *p != ';') {
			*why = "invalid Replaces parameter";
			return -1;
		}

		int is_to = fc_ieq(name, nlen, "to-tag"), is_from = fc_ieq(name, nlen, "from-tag");
		if (is_to || is_from) {
			if (!v) {
				*why = "Replaces tag without a value";
				return -1;
			}
			if ((is_to && have_to) || (is_from && have_from)) {
				*why = "Replaces tag given twice";
				return -1;
			}
			for (size_t i = 0; i < vlen; i++)
				if (!is_token((unsigned char)v[i])) {
					*why = "invalid tag in Replaces";
					return -1;
				}
			char *dst = is_to ? out->to_tag : out->from_tag;
			size_t dstsz = is_to ? sizeof out->to_tag : sizeof out->from_tag;
			if (copy_field(dst, dstsz, v, vlen) < 0) {
				*why = "tag in Replaces too long";
				return -1;
			}
			if (is_to)
				have_to = 1;
			else
				have_from = 1;
		} else if (fc_ieq(name, nlen, "early-only")) {
			if (v) {
				*why = "early-only with a value in Replaces";
				return -1;
			}
			out->early_only = 1;
		}
	}
	if (!have_to || !have_from) {
		*why = "Replaces without to-tag and from-tag";
		return -1;
	}
	return 0;
}

int fc_replaces_parse(const char *s, size_t len, fc_replaces *out, char *err, size_t errlen)
{
	const char *why = "invalid Replaces";
	set_err(err, errlen, "");
	if (!out) {
		set_err(err, errlen, "no output");
		return FC_REFER_ESYNTAX;
	}
	memset(out, 0, sizeof *out);
	if (parse_replaces(s, len, out, &why) < 0) {
		memset(out, 0, sizeof *out);
		set_err(err, errlen, why);
		return FC_REFER_ESYNTAX;
	}
	return FC_REFER_OK;
}

/* ---- Refer-To ----------------------------------------------------------- */

/* %-decodes s[0..n) into dst (dstsz bytes, NUL-terminated). A bad escape, a
 * decoded control character (CR, LF, NUL: header injection) or a value that
 * does not fit fails. */
static int decode(const char *s, size_t n, char *dst, size_t dstsz, const char **why)
{
	switch (fc_pct_decode(s, n, dst, dstsz, 1, NULL)) {
	case FC_PCT_OK:
		return 0;
	case FC_PCT_ESCAPE:
		*why = "bad %-escape in URI header";
		break;
	case FC_PCT_CRLFNUL:
		*why = "CR, LF or NUL in URI header value";
		break;
	case FC_PCT_CTL:
		*why = "control character in URI header value";
		break;
	default:
		*why = "URI header value too long";
		break;
	}
	return -1;
}

/* The ?headers part of the URI (after the '?'): hname "=" hvalue *( "&" ... ).
 * hvalue: any URI character but '&' (leniently: '=', '?', ';', '@' unescaped
 * too), %-decoded. */
static int parse_hdrs(const char *h, size_t hlen, fc_refer_to *out, const char **why)
{
	const char *p = h, *end = h + hlen;
	for (;;) {
		const char *seg = p;
		while (p < end && *p != '&')
			p++;
		const char *eq = memchr(seg, '=', (size_t)(p - seg));
		if (!eq) {
			*why = "URI header without '='";
			return -1;
		}
		size_t nlen = (size_t)(eq - seg);
		if (nlen == 0) {
			*why = "URI header without a name";
			return -1;
		}
		if (nlen > FC_REFER_HNAME_MAX) {
			*why = "URI header name too long";
			return -1;
		}
		for (size_t i = 0; i < nlen; i++)
			if (!is_token((unsigned char)seg[i])) {
				*why = "invalid URI header name";
				return -1;
			}
		const char *v = eq + 1;
		size_t vlen = (size_t)(p - v);
		if (fc_ieq(seg, nlen, "replaces")) {
			char buf[FC_REFER_HVALUE_MAX + 1];
			if (out->has_replaces) {
				*why = "more than one Replaces";
				return -1;
			}
			if (decode(v, vlen, buf, sizeof buf, why) < 0 ||
			    parse_replaces(buf, strlen(buf), &out->replaces, why) < 0)
				return -1;
			out->has_replaces = 1;
		} else {
			if (out->n_hdrs >= FC_REFER_MAX_HDRS) {
				*why = "too many URI headers";
				return -1;
			}
			fc_uri_hdr *hd = &out->hdrs[out->n_hdrs];
			memcpy(hd->name, seg, nlen);
			hd->name[nlen] = 0;
			if (decode(v, vlen, hd->value, sizeof hd->value, why) < 0)
				return -1;
			out->n_hdrs++;
		}
		if (p >= end)
			return 0;
		p++; /* '&' */
	}
}

static int refer_to(const char *s, size_t len, fc_refer_to *out, const char **why)
{
	struct addr a;
	if (parse_addr(s, len, out->display, sizeof out->display, &a, why) < 0)
		return FC_REFER_ESYNTAX;
	size_t sl = scheme_len(&a);
	if (!fc_ieq(a.uri, sl, "sip") && !fc_ieq(a.uri, sl, "sips") && !fc_ieq(a.uri, sl, "tel")) {
		*why = "unsupported URI scheme";
		return FC_REFER_ESCHEME;
	}
	for (size_t i = 0; i < sl; i++)
		out->scheme[i] = (char)fc_lower((unsigned char)a.uri[i]);
	out->scheme[sl] = 0;

	const char *q = memchr(a.uri, '?', a.ulen);
	size_t blen = q ? (size_t)(q - a.uri) : a.ulen;
	if (blen <= sl + 1) {
		*why = "nothing after the URI scheme";
		return FC_REFER_ESYNTAX;
	}
	if (copy_field(out->uri, sizeof out->uri, a.uri, blen) < 0) {
		*why = "URI too long";
		return FC_REFER_ESYNTAX;
	}
	if (q && parse_hdrs(q + 1, a.ulen - blen - 1, out, why) < 0)
		return FC_REFER_ESYNTAX;
	return FC_REFER_OK;
}

int fc_refer_to_parse(const char *s, size_t len, fc_refer_to *out, char *err, size_t errlen)
{
	const char *why = "invalid Refer-To";
	set_err(err, errlen, "");
	if (!out) {
		set_err(err, errlen, "no output");
		return FC_REFER_ESYNTAX;
	}
	memset(out, 0, sizeof *out);
	int rc = refer_to(s, len, out, &why);
	if (rc != FC_REFER_OK) {
		memset(out, 0, sizeof *out);
		set_err(err, errlen, why);
	}
	return rc;
}

/* ---- Referred-By -------------------------------------------------------- */

int fc_referred_by_parse(const char *s, size_t len, char *uri, size_t urilen, char *err,
                         size_t errlen)
{
	const char *why = "invalid Referred-By";
	struct addr a;
	set_err(err, errlen, "");
	if (uri && urilen)
		uri[0] = 0;
	if (!uri || !urilen) {
		set_err(err, errlen, "no output");
		return FC_REFER_ESYNTAX;
	}
	if (parse_addr(s, len, NULL, 0, &a, &why) < 0) {
		set_err(err, errlen, why);
		return FC_REFER_ESYNTAX;
	}
	if (copy_field(uri, urilen, a.uri, a.ulen) < 0) {
		uri[0] = 0;
		set_err(err, errlen, "URI too long");
		return FC_REFER_ESYNTAX;
	}
	return FC_REFER_OK;
}
