/* metrics.h - traverse-proxy's Prometheus endpoint: GET /metrics on a TCP
 * address, the proxy's counters and gauges in the Prometheus text format
 * (docs/proxy.md lists the names). HTTP is libmicrohttpd's, run from the
 * proxy's own loop (no thread). */
#ifndef TPD_METRICS_H
#define TPD_METRICS_H

#include "livehost.h"
#include "proxy.h"

typedef struct tpd_metrics tpd_metrics;

tpd_metrics *tpd_metrics_new(live_loop *lp, const tv_ep *addr, proxy *px, int *err);
void tpd_metrics_free(tpd_metrics *m);
/* The body GET /metrics answers (for tests); the caller frees it. */
char *tpd_metrics_text(const proxy *px, const live_loop *lp, size_t *len);

#endif
