/* ctl.h - traverse-proxy's control socket (docs/control.md): a UNIX stream
 * socket; a client writes one command per line and reads one JSON object
 * per line back. `events` keeps the connection open and streams events. */
#ifndef TPD_CTL_H
#define TPD_CTL_H

#include "livehost.h"
#include "proxy.h"

typedef struct tpd_ctl tpd_ctl;

/* Listen on path (an old socket file there is replaced). NULL with *err =
 * -errno on failure. */
tpd_ctl *tpd_ctl_new(live_loop *lp, const char *path, proxy *px, int *err);
void tpd_ctl_free(tpd_ctl *c);
/* Tell the `events` subscribers: a leg's accounting record, a proxy
 * event, and (once a second, from tpd_ctl_tick) the drops since the last. */
void tpd_ctl_record(tpd_ctl *c, const proxy_record *r);
void tpd_ctl_event(tpd_ctl *c, const proxy_event *e);
void tpd_ctl_tick(tpd_ctl *c, tv_time now);

#endif
