/* map.c - see map.h. */
#include "map.h"
#include "tv.h"

#include <stdlib.h>

void tv_map_init(tv_map *m)
{
	m->slots = NULL;
	m->n = 0;
	m->mask = 0;
}

void tv_map_free(tv_map *m)
{
	free(m->slots);
	tv_map_init(m);
}

void *tv_map_get(const tv_map *m, uint64_t key)
{
	if (!m->slots)
		return NULL;
	for (size_t i = tv_hash64(key) & m->mask;; i = (i + 1) & m->mask) {
		if (!m->slots[i].val)
			return NULL;
		if (m->slots[i].key == key)
			return m->slots[i].val;
	}
}

static int grow(tv_map *m)
{
	size_t ncap = m->slots ? (m->mask + 1) * 2 : 16;
	tv_map_slot *old = m->slots;
	size_t oldcap = m->slots ? m->mask + 1 : 0;

	m->slots = calloc(ncap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return TV_ENOMEM;
	}
	m->mask = ncap - 1;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].val)
			continue;
		size_t j = tv_hash64(old[i].key) & m->mask;
		while (m->slots[j].val)
			j = (j + 1) & m->mask;
		m->slots[j] = old[i];
	}
	free(old);
	return 0;
}

int tv_map_put(tv_map *m, uint64_t key, void *val)
{
	size_t i;

	if (!val)
		return TV_EINVAL;
	if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
		if (grow(m) < 0)
			return TV_ENOMEM;
	}
	for (i = tv_hash64(key) & m->mask; m->slots[i].val; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key) {
			m->slots[i].val = val;
			return 0;
		}
	}
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->n++;
	return 0;
}

void *tv_map_del(tv_map *m, uint64_t key)
{
	size_t i, j;
	void *old;

	if (!m->slots)
		return NULL;
	for (i = tv_hash64(key) & m->mask;; i = (i + 1) & m->mask) {
		if (!m->slots[i].val)
			return NULL;
		if (m->slots[i].key == key)
			break;
	}
	old = m->slots[i].val;
	/* Backward-shift: pull later members of the probe run into the hole. */
	for (j = (i + 1) & m->mask; m->slots[j].val; j = (j + 1) & m->mask) {
		size_t home = tv_hash64(m->slots[j].key) & m->mask;
		/* Move j to i if home is not cyclically within (i, j]. */
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].val = NULL;
	m->n--;
	return old;
}
