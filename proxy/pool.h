/* pool.h - port pools of a realm: single ports (per-terminal signaling)
 * and even/odd RTP/RTCP pairs (media), from one range, one bitmap.
 *
 * Allocation starts at a random place in the range (or, sequential, after
 * the last port handed out) and takes the first free port or pair from
 * there: an attacker cannot predict the next port, and a port freed
 * moments ago is not the next one handed out. A pair is only handed out
 * when both halves are free, so there is nothing to roll back.
 * Quarantine: a port put back with a time is not handed out again before
 * it (late packets of an old call, a core still routing to an old
 * registration); the times live in a per-port array made on first use.
 * O(range) worst case per allocation, one bit test per step. */
#ifndef TV_POOL_H
#define TV_POOL_H

#include "tv.h"
#include "rng.h"

typedef struct port_pool {
	uint16_t lo, hi;
	bool random;                    /* else sequential from cursor */
	uint32_t cursor;
	uint32_t in_use;
	uint64_t bits[65536 / 64];
	uint32_t *hold;                 /* [port - lo]: not before this second of virtual time */
} port_pool;

void pool_init(port_pool *p, uint16_t lo, uint16_t hi, bool random);
void pool_free(port_pool *p);
/* One port; 0 if exhausted. rng: where a random pool starts. */
uint16_t pool_get(port_pool *p, tv_rng *rng, tv_time now);
/* An even port whose odd successor is free too; 0 if exhausted. */
uint16_t pool_get_pair(port_pool *p, tv_rng *rng, tv_time now);
/* Back to the pool, not to be handed out before until (0: at once). */
void pool_put(port_pool *p, uint16_t port, tv_time until);
void pool_put_pair(port_pool *p, uint16_t even, tv_time until);
bool pool_used(const port_pool *p, uint16_t port);

#endif
