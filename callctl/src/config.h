/* config.h — callctl's configuration, read once from the environment.
 * Every variable and its default is documented in README.md. */
#ifndef FC_CONFIG_H
#define FC_CONFIG_H

#include <stddef.h>

typedef struct fc_config {
	char redis_host[256]; /* from FULCRUM_REDIS_URL, default redis://127.0.0.1:6379 */
	int redis_port;
	int redis_db;
	char redis_password[256];
	char api_addr[64];      /* FULCRUM_API_ADDR, default 127.0.0.1 */
	int api_port;           /* FULCRUM_API_PORT, default 8080 */
	char account_sid[40];   /* FULCRUM_ACCOUNT_SID (required: AC + 32 hex) */
	char auth_token[128];   /* FULCRUM_AUTH_TOKEN (required) */
	char public_url[512];   /* FULCRUM_PUBLIC_URL, default http://{api_addr}:{api_port} */
	char rtpengine_ng[128]; /* FULCRUM_RTPENGINE_NG, default 127.0.0.1:2223 */
	int call_retention_s;   /* FULCRUM_CALL_RETENTION, default 2592000 */
	int api_threads;        /* FULCRUM_API_THREADS, default 4 */
	int refer_timeout_s;    /* FULCRUM_REFER_TIMEOUT: <Refer> waits this long for its final
	                           NOTIFY, default 60 */
	char pstn_trunk[512]; /* FULCRUM_PSTN_TRUNK: SIP URI of the outbound trunk for <Number>, ""
	                         = none */
	char pstn_user[128];  /* FULCRUM_PSTN_TRUNK_USER (digest), "" = none */
	char pstn_pass[128];  /* FULCRUM_PSTN_TRUNK_PASSWORD */
	char tones_dir[512];  /* FULCRUM_TONES_DIR: ringback WAVs, readable by rtpengine */
	char sip_host[256];   /* FULCRUM_SIP_DOMAIN: host part of From URIs we build, default
	                         127.0.0.1 */
	int cps; /* FULCRUM_CPS: REST-created calls started per second and account (more wait
	            in a queue, queue_time), default 50; 0 = no limit */
	char instance[128]; /* consumer name: hostname-pid-random */
} fc_config;

/* Fills c from the environment. Returns 0, or -1 with a message in err. */
int config_load(fc_config *c, char *err, size_t errlen);

#endif
