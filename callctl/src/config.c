/* config.c — reads callctl's configuration from the environment (config.h). */
#include "config.h"
#include "sid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static int copy(char *dst, size_t n, const char *src)
{
	if (strlen(src) >= n)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* redis://[:password@]host[:port][/db] */
static int parse_redis_url(fc_config *c, const char *url)
{
	const char *p = url;
	if (strncmp(p, "redis://", 8) != 0)
		return -1;
	p += 8;
	const char *at = strchr(p, '@');
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *pw = colon ? colon + 1 : p;
		size_t n = (size_t)(at - pw);
		if (n >= sizeof c->redis_password)
			return -1;
		memcpy(c->redis_password, pw, n);
		c->redis_password[n] = 0;
		p = at + 1;
	}
	const char *end = p + strcspn(p, ":/");
	size_t hl = (size_t)(end - p);
	if (hl == 0 || hl >= sizeof c->redis_host)
		return -1;
	memcpy(c->redis_host, p, hl);
	c->redis_host[hl] = 0;
	c->redis_port = 6379;
	if (*end == ':') {
		char *e;
		long port = strtol(end + 1, &e, 10);
		if (port <= 0 || port > 65535)
			return -1;
		c->redis_port = (int)port;
		end = e;
	}
	c->redis_db = 0;
	if (*end == '/' && end[1]) {
		char *e;
		long db = strtol(end + 1, &e, 10);
		if (db < 0 || db > 1000 || *e)
			return -1;
		c->redis_db = (int)db;
	}
	return 0;
}

static int int_env(const char *name, int dflt, int lo, int hi, int *out)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		*out = dflt;
		return 0;
	}
	char *e;
	long x = strtol(v, &e, 10);
	if (*e || x < lo || x > hi)
		return -1;
	*out = (int)x;
	return 0;
}

int config_load(fc_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (parse_redis_url(c, env_or("FULCRUM_REDIS_URL", "redis://127.0.0.1:6379")) < 0) {
		snprintf(err, errlen,
		         "FULCRUM_REDIS_URL: expected redis://[:password@]host[:port][/db]");
		return -1;
	}
	if (copy(c->api_addr, sizeof c->api_addr, env_or("FULCRUM_API_ADDR", "127.0.0.1")) < 0 ||
	    int_env("FULCRUM_API_PORT", 8080, 1, 65535, &c->api_port) < 0) {
		snprintf(err, errlen, "FULCRUM_API_ADDR/FULCRUM_API_PORT invalid");
		return -1;
	}
	if (copy(c->account_sid, sizeof c->account_sid, env_or("FULCRUM_ACCOUNT_SID", "")) < 0 ||
	    !sid_valid(c->account_sid, "AC")) {
		snprintf(err, errlen, "FULCRUM_ACCOUNT_SID must be AC followed by 32 hex digits");
		return -1;
	}
	if (copy(c->auth_token, sizeof c->auth_token, env_or("FULCRUM_AUTH_TOKEN", "")) < 0 ||
	    strlen(c->auth_token) < 16) {
		snprintf(err, errlen, "FULCRUM_AUTH_TOKEN must be at least 16 characters");
		return -1;
	}
	char dflt_url[160];
	snprintf(dflt_url, sizeof dflt_url, "http://%s:%d", c->api_addr, c->api_port);
	if (copy(c->public_url, sizeof c->public_url, env_or("FULCRUM_PUBLIC_URL", dflt_url)) < 0 ||
	    copy(c->rtpengine_ng, sizeof c->rtpengine_ng,
	         env_or("FULCRUM_RTPENGINE_NG", "127.0.0.1:2223")) < 0) {
		snprintf(err, errlen, "FULCRUM_PUBLIC_URL/FULCRUM_RTPENGINE_NG too long");
		return -1;
	}
	size_t pl = strlen(c->public_url);
	while (pl > 0 && c->public_url[pl - 1] == '/')
		c->public_url[--pl] = 0;
	if (int_env("FULCRUM_CALL_RETENTION", 2592000, 60, 400000000, &c->call_retention_s) < 0 ||
	    int_env("FULCRUM_API_THREADS", 4, 1, 64, &c->api_threads) < 0 ||
	    int_env("FULCRUM_REFER_TIMEOUT", 60, 1, 3600, &c->refer_timeout_s) < 0 ||
	    int_env("FULCRUM_CPS", 50, 0, 1000, &c->cps) < 0) {
		snprintf(
		    err, errlen,
		    "FULCRUM_CALL_RETENTION/FULCRUM_API_THREADS/FULCRUM_REFER_TIMEOUT/FULCRUM_CPS "
		    "out of range");
		return -1;
	}
	if (copy(c->pstn_trunk, sizeof c->pstn_trunk, env_or("FULCRUM_PSTN_TRUNK", "")) < 0 ||
	    copy(c->pstn_user, sizeof c->pstn_user, env_or("FULCRUM_PSTN_TRUNK_USER", "")) < 0 ||
	    copy(c->pstn_pass, sizeof c->pstn_pass, env_or("FULCRUM_PSTN_TRUNK_PASSWORD", "")) <
	        0 ||
	    copy(c->tones_dir, sizeof c->tones_dir, env_or("FULCRUM_TONES_DIR", "")) < 0 ||
	    copy(c->sip_host, sizeof c->sip_host, env_or("FULCRUM_SIP_DOMAIN", "127.0.0.1")) < 0) {
		snprintf(err, errlen,
		         "FULCRUM_PSTN_TRUNK*/FULCRUM_TONES_DIR/FULCRUM_SIP_DOMAIN too long");
		return -1;
	}
	char host[64] = "callctl";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = 0;
	char rnd[33];
	sid_hex32(rnd);
	rnd[8] = 0;
	snprintf(c->instance, sizeof c->instance, "%s-%d-%s", host, (int)getpid(), rnd);
	return 0;
}
