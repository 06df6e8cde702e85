/* pool.h - port pools of a realm: single ports (per-terminal signaling)
 * and even/odd RTP/RTCP pairs (media), from one range, one bitmap.
 *
 * Pairs are taken as an even port and the next odd one, stepping by 2
 * from a cursor; a pair is only handed out when both halves are free, so
 * there is nothing to roll back. O(range) worst case per allocation, one
 * bit test per step. */
#ifndef TV_POOL_H
#define TV_POOL_H

#include "tv.h"

typedef struct port_pool {
	uint16_t lo, hi;
	uint32_t cursor;
	uint32_t in_use;
	uint64_t bits[65536 / 64];
} port_pool;

void pool_init(port_pool *p, uint16_t lo, uint16_t hi);
/* One port; 0 if exhausted. */
uint16_t pool_get(port_pool *p);
/* An even port whose odd successor is free too; 0 if exhausted. */
uint16_t pool_get_pair(port_pool *p);
void pool_put(port_pool *p, uint16_t port);
void pool_put_pair(port_pool *p, uint16_t even);
bool pool_used(const port_pool *p, uint16_t port);

#endif
