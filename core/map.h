/* map.h - open-addressing hash map from a 64-bit key to a pointer.
 *
 * Linear probing with backward-shift deletion (no tombstones), load kept
 * under 1/2. Keys are arbitrary 64-bit values; NULL values are not stored.
 * Used for address->interface, port->socket and similar small indexes. */
#ifndef TV_MAP_H
#define TV_MAP_H

#include <stdint.h>
#include <stddef.h>

typedef struct tv_map_slot {
	uint64_t key;
	void *val;              /* NULL: empty slot */
} tv_map_slot;

typedef struct tv_map {
	tv_map_slot *slots;
	size_t n, mask;
} tv_map;

static inline uint64_t tv_hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

void tv_map_init(tv_map *m);
void tv_map_free(tv_map *m);
void *tv_map_get(const tv_map *m, uint64_t key);
/* Insert or replace. Returns 0 or TV_ENOMEM. */
int tv_map_put(tv_map *m, uint64_t key, void *val);
/* Remove; returns the old value or NULL. */
void *tv_map_del(tv_map *m, uint64_t key);
/* Iterate: for (size_t i = 0; i <= m->mask && m->slots; i++) if (m->slots[i].val) ... */

#endif
