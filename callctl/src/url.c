/* url.c — webhook URL helpers: RFC 3986 reference resolution, the http(s)
 * validity check, host extraction, query appending, and Twilio's
 * connection-override fragment #ct=..&rt=..&tt=..&rc=..&rp=.. (see url.h).
 *
 * Parsing, resolution and dot-segment removal (RFC 3986 §5.2) are libcurl's
 * URL API (curl_url_set of a relative reference on a handle holding the
 * base). Written by hand is only what curl 7.88 lacks or gets wrong here:
 *  - the empty reference and fragment-only references ("", "#s"): curl
 *    resolves them against the base's directory ("http://a/b/c/" instead of
 *    "http://a/b/c/d;p?q#s"), so they are applied with CURLUPART_FRAGMENT;
 *  - the base's own fragment is dropped first (§5.2.2 never uses it; curl
 *    would append "?y" after it);
 *  - shape checks curl is lenient about: it accepts "http:/g", "http:///g"
 *    and "///g" (all three become host "g"), and percent-encodes a space in
 *    a relative reference while rejecting it in an absolute one. Here an
 *    http(s) URL must read scheme "://" host, the host must not be
 *    percent-encoded, and whitespace or control bytes are refused
 *    everywhere (only the reference's leading/trailing blanks are trimmed,
 *    as TwiML attribute values may carry them);
 *  - url_append_query and url_strip_fragment work on the string, so the
 *    rest of the URL stays byte-for-byte what the caller resolved (the
 *    webhook signature covers the URL as sent) — curl's CURLU_APPENDQUERY
 *    would re-serialise the whole URL;
 *  - the override fragment, which is Twilio's convention, not a URL rule.
 * curl normalises what it serialises: scheme lowercased, an empty path
 * becomes "/", an empty query or fragment is dropped ("//g" → "http://g/").
 */
#include "url.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "form.h"

#define URL_MAX_LEN 4096

void url_overrides_default(url_overrides *o)
{
	o->ct_ms = 5000;
	o->rt_ms = 15000;
	o->tt_ms = 15000;
	o->rc = 1;
	strcpy(o->rp, "ct");
}

/* 1 when s[0..n) holds a space or a control byte. */
static int has_bad_char(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f)
			return 1;
	}
	return 0;
}

/* Length of an RFC 3986 scheme at s (ALPHA *(ALPHA / DIGIT / + - .) ":"),
 * the ':' excluded; 0 when s does not start with one. */
static size_t scheme_len(const char *s)
{
	if (!isalpha((unsigned char)s[0]))
		return 0;
	size_t i = 1;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

/* 1 when the authority starting at auth (just after "//") is usable: it
 * begins with a host character (not '/', '?', '#' or the end) and its host
 * is not percent-encoded. curl decodes such a host only after its IPv4
 * rewriting, so "https://%30/" reads as "https://0/" and then as
 * "https://0.0.0.0/", and a filter on the host could be fooled; no webhook
 * needs one. Userinfo may be percent-encoded. */
static int authority_ok(const char *auth)
{
	if (!auth[0] || strchr("/?#", auth[0]))
		return 0;
	size_t alen = strcspn(auth, "/?#");
	const char *host = auth;
	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			host = p + 1;
	return memchr(host, '%', alen - (size_t)(host - auth)) == NULL;
}

/* 1 when s reads "http://" or "https://" (any case) and a usable
 * authority. */
static int http_shape(const char *s)
{
	size_t n = scheme_len(s);
	if (!((n == 4 && !strncasecmp(s, "http", 4)) || (n == 5 && !strncasecmp(s, "https", 5))))
		return 0;
	s += n + 1;
	return s[0] == '/' && s[1] == '/' && authority_ok(s + 2);
}

/* Sets an absolute URL into a new handle; NULL on any error. */
static CURLU *curl_parse(const char *url, unsigned int flags)
{
	CURLU *h = curl_url();
	if (!h)
		return NULL;
	if (curl_url_set(h, CURLUPART_URL, url, flags) != CURLUE_OK) {
		curl_url_cleanup(h);
		return NULL;
	}
	return h;
}

/* malloc'd copy of a curl-allocated string, which is released. */
static char *take(char *curl_str)
{
	if (!curl_str)
		return NULL;
	char *s = strdup(curl_str);
	curl_free(curl_str);
	return s;
}

int url_is_http(const char *s)
{
	if (!s)
		return 0;
	size_t n = strlen(s);
	if (n > URL_MAX_LEN || has_bad_char(s, n) || !http_shape(s))
		return 0;
	CURLU *h = curl_parse(s, 0);
	if (!h)
		return 0;
	char *host = NULL;
	int ok = curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host;
	curl_free(host);
	curl_url_cleanup(h);
	return ok;
}

/* The URL held by h, when it is an http(s) URL per url_is_http. */
static char *result_of(CURLU *h)
{
	char *out = NULL;
	if (curl_url_get(h, CURLUPART_URL, &out, 0) != CURLUE_OK)
		return NULL;
	out = take(out);
	if (out && !url_is_http(out)) {
		free(out);
		out = NULL;
	}
	return out;
}

/* Resolves a reference that has no scheme against base. */
static char *resolve_relative(const char *base, const char *ref)
{
	if (!base || !url_is_http(base))
		return NULL;
	/* "//host...": a network-path reference needs a usable authority. */
	if (ref[0] == '/' && ref[1] == '/' && !authority_ok(ref + 2))
		return NULL;
	CURLU *h = curl_parse(base, 0);
	if (!h)
		return NULL;
	char *out = NULL;
	CURLUcode rc = curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0);
	if (rc == CURLUE_OK && ref[0] == '#')
		rc = curl_url_set(h, CURLUPART_FRAGMENT, ref[1] ? ref + 1 : NULL, 0);
	else if (rc == CURLUE_OK && ref[0])
		rc = curl_url_set(h, CURLUPART_URL, ref, 0);
	if (rc == CURLUE_OK)
		out = result_of(h);
	curl_url_cleanup(h);
	return out;
}

char *url_resolve(const char *base, const char *ref)
{
	if (!ref)
		return NULL;
	size_t n = strlen(ref);
	while (n && strchr(" \t\r\n", ref[n - 1]))
		n--;
	while (n && strchr(" \t\r\n", ref[0])) {
		ref++;
		n--;
	}
	if (has_bad_char(ref, n))
		return NULL;
	char *r = strndup(ref, n);
	if (!r)
		return NULL;
	char *out = NULL;
	if (!scheme_len(r)) {
		out = resolve_relative(base, r);
	} else if (http_shape(r)) {
		CURLU *h = curl_parse(r, 0);
		if (h) {
			out = result_of(h);
			curl_url_cleanup(h);
		}
	}
	free(r);
	return out;
}

char *url_append_query(const char *url, const char *query)
{
	if (!url)
		return NULL;
	if (!query || !*query)
		return strdup(url);
	size_t ulen = strlen(url), qlen = strlen(query);
	const char *hash = strchr(url, '#');
	size_t at = hash ? (size_t)(hash - url) : ulen; /* insertion point */
	const char *q = memchr(url, '?', at);
	const char *sep = "&";
	if (!q)
		sep = "?";
	else if (url[at - 1] == '?' || url[at - 1] == '&')
		sep = "";
	size_t slen = strlen(sep);
	if (qlen > SIZE_MAX - ulen - slen - 1)
		return NULL;
	char *out = malloc(ulen + slen + qlen + 1);
	if (!out)
		return NULL;
	memcpy(out, url, at);
	memcpy(out + at, sep, slen);
	memcpy(out + at + slen, query, qlen);
	memcpy(out + at + slen + qlen, url + at, ulen - at + 1);
	return out;
}

/* Decimal integer (optional sign) clamped to [lo, hi]; *v untouched when s
 * is not a number. */
static void clamp_int(const char *s, int lo, int hi, int *v)
{
	if (!s)
		return;
	const char *p = s + (*s == '-' || *s == '+');
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return;
	long x = strtol(s, NULL, 10); /* ERANGE saturates, then clamps */
	*v = x < lo ? lo : x > hi ? hi : (int)x;
}

/* Retry policy: a list such as "4xx,5xx,ct,rt" or "all". Kept when it fits
 * rp[] and uses only letters, digits and the separators ',' '|' ' '; stored
 * lowercase. Token meaning is left to the fetcher. */
static void set_policy(const char *s, char rp[32])
{
	if (!s || !*s || strlen(s) >= 32)
		return;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(",| ", *p))
			return;
	size_t i = 0;
	for (; s[i]; i++)
		rp[i] = (char)tolower((unsigned char)s[i]);
	rp[i] = 0;
}

/* Fills o from "ct=..&rt=..": unknown keys are ignored, a key given twice
 * counts once (its first value), and a fragment that is not valid form
 * syntax leaves every default in place. */
static void parse_overrides(const char *frag, url_overrides *o)
{
	form f;
	form_init(&f);
	if (form_parse(&f, frag, strlen(frag)) == 0) {
		clamp_int(form_get(&f, "ct"), 100, 10000, &o->ct_ms);
		clamp_int(form_get(&f, "rt"), 100, 15000, &o->rt_ms);
		clamp_int(form_get(&f, "tt"), 100, 15000, &o->tt_ms);
		clamp_int(form_get(&f, "rc"), 0, 5, &o->rc);
		set_policy(form_get(&f, "rp"), o->rp);
	}
	form_free(&f);
}

char *url_strip_fragment(const char *url, url_overrides *o)
{
	if (o)
		url_overrides_default(o);
	if (!url)
		return NULL;
	const char *hash = strchr(url, '#');
	if (!hash)
		return strdup(url);
	if (o)
		parse_overrides(hash + 1, o);
	return strndup(url, (size_t)(hash - url));
}

char *url_host(const char *url)
{
	if (!url)
		return NULL;
	CURLU *h = curl_parse(url, CURLU_NON_SUPPORT_SCHEME);
	if (!h)
		return NULL;
	char *host = NULL;
	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		host = NULL;
	curl_url_cleanup(h);
	host = take(host);
	if (host && !*host) {
		free(host);
		return NULL;
	}
	for (char *p = host; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return host;
}
