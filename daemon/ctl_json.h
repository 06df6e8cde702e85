/* ctl_json.h - the control socket's JSON lines (docs/control.md), made
 * from a proxy's state. The daemon answers its clients with them; `traverse
 * run --dash` feeds the same lines, made from a simulated proxy, to the
 * dashboard, so both worlds show one format. Each call appends one line
 * ending in '\n' to j. */
#ifndef TPD_CTL_JSON_H
#define TPD_CTL_JSON_H

#include "json.h"
#include "proxy.h"

void ctl_json_stats(const proxy *px, jbuf *j);
void ctl_json_bindings(const proxy *px, jbuf *j);
void ctl_json_streams(const proxy *px, jbuf *j);
void ctl_json_event(const proxy_event *e, jbuf *j);
void ctl_json_record(const proxy_record *r, jbuf *j);

#endif
