/* scn_rhost.h - real hosts in a scenario (scn_rhost.c). */
#ifndef TV_SCN_RHOST_H
#define TV_SCN_RHOST_H

#include "scn_ctx.h"

struct rhost;

/* s (a host with kind=netns, s->ip set) in a namespace of its own on link l.
 * NULL with err when it cannot be (not a --netns run, not root). */
struct rhost *rhost_new(scn_ctx *c, sym *s, sim_link *l, char *err, size_t cap);
/* Stop its command, remove its namespace and files. */
void rhost_free(scn_ctx *c, struct rhost *h);
/* The statements: exec HOST "COMMAND"; expect host HOST ... */
int rhost_exec(scn_ctx *c, const scn_stmt *st);
int rhost_expect(scn_ctx *c, const scn_stmt *st);

#endif
