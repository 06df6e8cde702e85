/* scn_findings.h - faults named in an SBC engineer's words (scn_findings.c). */
#ifndef TV_SCN_FINDINGS_H
#define TV_SCN_FINDINGS_H

#include "scn_ctx.h"

/* Record a finding once. fault: it fails the run by itself (a check that
 * failed); else it explains failures already counted. */
void ctx_finding(scn_ctx *c, bool fault, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A packet the namespace trap caught (IPv4, no link header). */
void findings_trap(scn_ctx *c, const uint8_t *pkt, size_t len);
/* A check failed: look at the NATs and phones for the fault behind it. */
void findings_diagnose(scn_ctx *c);

#endif
