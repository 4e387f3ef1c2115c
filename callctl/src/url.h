/* url.h — URL helpers for webhooks: RFC 3986 reference resolution, validity
 * checks, query appending and Twilio's connection-override fragment. */
#ifndef FC_URL_H
#define FC_URL_H

/* Twilio's per-URL overrides in the fragment: #ct=…&rt=…&tt=…&rc=…&rp=…
 * (connect timeout, read timeout, total timeout in ms, retry count, retry
 * policy). Out-of-range values are clamped to Twilio's ranges. */
typedef struct url_overrides {
	int ct_ms; /* 100..10000, default 5000 */
	int rt_ms; /* 100..15000, default 15000 */
	int tt_ms; /* 100..15000, default 15000 */
	int rc;    /* 0..5, default 1 */
	char rp[32]; /* retry policy, default "ct" */
} url_overrides;

void url_overrides_default(url_overrides *o);

/* Resolves ref against base (RFC 3986 §5.2, with dot-segment removal).
 * base may be NULL when ref is absolute. Returns malloc'd absolute URL, or
 * NULL when the result is not an absolute http(s) URL. */
char *url_resolve(const char *base, const char *ref);
/* 1 when s is an absolute http:// or https:// URL with a non-empty host, no
 * whitespace or control characters, and length <= 4096. */
int url_is_http(const char *s);
/* Appends "?query" or "&query". malloc'd. */
char *url_append_query(const char *url, const char *query);
/* Returns a malloc'd copy of url without its fragment; when o is not NULL
 * fills it from the fragment's overrides (defaults for absent keys). */
char *url_strip_fragment(const char *url, url_overrides *o);
/* The host of an absolute URL (malloc'd, lowercase) or NULL. */
char *url_host(const char *url);

#endif
