/* pool.c - see pool.h. */
#include "pool.h"

#include <string.h>

void pool_init(port_pool *p, uint16_t lo, uint16_t hi)
{
	memset(p, 0, sizeof(*p));
	p->lo = lo;
	p->hi = hi;
	p->cursor = lo;
}

bool pool_used(const port_pool *p, uint16_t port)
{
	return p->bits[port >> 6] >> (port & 63) & 1;
}

static void mark(port_pool *p, uint16_t port, bool on)
{
	if (on)
		p->bits[port >> 6] |= 1ULL << (port & 63);
	else
		p->bits[port >> 6] &= ~(1ULL << (port & 63));
}

uint16_t pool_get(port_pool *p)
{
	uint32_t span = (uint32_t)p->hi - p->lo + 1;

	for (uint32_t i = 0; i < span; i++) {
		uint32_t c = p->lo + (p->cursor - p->lo + i) % span;
		if (!pool_used(p, (uint16_t)c)) {
			mark(p, (uint16_t)c, true);
			p->cursor = c + 1 > p->hi ? p->lo : c + 1;
			p->in_use++;
			return (uint16_t)c;
		}
	}
	return 0;
}

uint16_t pool_get_pair(port_pool *p)
{
	uint32_t first = (p->lo + 1) & ~1u, last = p->hi;   /* even ports whose +1 is in range */
	uint32_t n, start;

	if (last < first + 1)
		return 0;
	n = (last - first + 1) / 2;
	start = p->cursor < first || p->cursor > last ? 0 : (p->cursor - first) / 2;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = first + 2 * ((start + i) % n);
		if (c + 1 > last)
			continue;
		if (!pool_used(p, (uint16_t)c) && !pool_used(p, (uint16_t)(c + 1))) {
			mark(p, (uint16_t)c, true);
			mark(p, (uint16_t)(c + 1), true);
			p->cursor = c + 2;
			p->in_use += 2;
			return (uint16_t)c;
		}
	}
	return 0;
}

void pool_put(port_pool *p, uint16_t port)
{
	if (port && pool_used(p, port)) {
		mark(p, port, false);
		p->in_use--;
	}
}

void pool_put_pair(port_pool *p, uint16_t even)
{
	pool_put(p, even);
	pool_put(p, (uint16_t)(even + 1));
}
