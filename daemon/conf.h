/* conf.h - traverse-proxy's configuration file (docs/proxy.md, "The
 * daemon"; etc/traverse-proxy.conf is an annotated example).
 *
 * One "key = value" per line; '#' starts a comment; blank lines are
 * ignored. The daemon's own keys are below; every other key is a proxy
 * option with the spelling of the scenario `proxy` statement
 * (proxy_opts.c). A bad line stops start-up with FILE:LINE and the
 * reason. */
#ifndef TPD_CONF_H
#define TPD_CONF_H

#include "proxy.h"

enum tpd_log_target { TPD_LOG_STDERR, TPD_LOG_SYSLOG };
enum tpd_log_level { TPD_ERR, TPD_WARN, TPD_INFO, TPD_DEBUG };

typedef struct tpd_conf {
	proxy_cfg pc;                   /* access, core, sip-port, softswitch and the options */
	char control[108];              /* UNIX socket path, "" = none */
	bool metrics_on;
	tv_ep metrics;                  /* Prometheus endpoint (TCP) */
	char accounting[512];           /* CSV file records are appended to, "" = none */
	enum tpd_log_target log;
	enum tpd_log_level level;
	char path[512];
} tpd_conf;

/* Read path into c (defaults first). Returns 0, or -1 with
 * "FILE:LINE: reason" in err. */
int tpd_conf_load(const char *path, tpd_conf *c, char *err, size_t errlen);
/* A human summary of what differs between a and b and cannot change
 * without a restart (addresses, ports, the control socket...), or "". */
void tpd_conf_fixed_diff(const tpd_conf *a, const tpd_conf *b, char *out, size_t cap);

#endif
