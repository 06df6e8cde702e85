/* pool.c - see pool.h. */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

void pool_init(port_pool *p, uint16_t lo, uint16_t hi, bool random)
{
	memset(p, 0, sizeof(*p));
	p->lo = lo;
	p->hi = hi;
	p->cursor = lo;
	p->random = random;
}

void pool_free(port_pool *p)
{
	free(p->hold);
	p->hold = NULL;
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

/* Free and out of quarantine at now? */
static bool usable(const port_pool *p, uint32_t port, uint32_t now_s)
{
	return !pool_used(p, (uint16_t)port) && (!p->hold || p->hold[port - p->lo] <= now_s);
}

static uint32_t start_at(port_pool *p, tv_rng *rng, uint32_t n, uint32_t seq)
{
	return p->random && rng ? (uint32_t)(tv_rng_next(rng) % n) : seq % n;
}

uint16_t pool_get(port_pool *p, tv_rng *rng, tv_time now)
{
	uint32_t span = (uint32_t)p->hi - p->lo + 1, now_s = (uint32_t)(now / 1000000);
	uint32_t start = start_at(p, rng, span, p->cursor - p->lo);

	for (uint32_t i = 0; i < span; i++) {
		uint32_t c = p->lo + (start + i) % span;
		if (usable(p, c, now_s)) {
			mark(p, (uint16_t)c, true);
			p->cursor = c + 1 > p->hi ? p->lo : c + 1;
			p->in_use++;
			return (uint16_t)c;
		}
	}
	return 0;
}

uint16_t pool_get_pair(port_pool *p, tv_rng *rng, tv_time now)
{
	uint32_t first = (p->lo + 1) & ~1u, last = p->hi;   /* even ports whose +1 is in range */
	uint32_t n, start, now_s = (uint32_t)(now / 1000000);

	if (last < first + 1)
		return 0;
	n = (last - first + 1) / 2;
	start = start_at(p, rng, n, p->cursor < first || p->cursor > last ? 0 : (p->cursor - first) / 2);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = first + 2 * ((start + i) % n);
		if (c + 1 > last)
			continue;
		if (usable(p, c, now_s) && usable(p, c + 1, now_s)) {
			mark(p, (uint16_t)c, true);
			mark(p, (uint16_t)(c + 1), true);
			p->cursor = c + 2;
			p->in_use += 2;
			return (uint16_t)c;
		}
	}
	return 0;
}

void pool_put(port_pool *p, uint16_t port, tv_time until)
{
	if (!port || !pool_used(p, port))
		return;
	mark(p, port, false);
	p->in_use--;
	if (until <= 0 || port < p->lo || port > p->hi)
		return;
	if (!p->hold && !(p->hold = calloc((size_t)p->hi - p->lo + 1, sizeof(*p->hold))))
		return;         /* no memory: no quarantine, the port is free at once */
	/* rounded up to the next whole second */
	p->hold[port - p->lo] = (uint32_t)((until + 999999) / 1000000);
}

void pool_put_pair(port_pool *p, uint16_t even, tv_time until)
{
	pool_put(p, even, until);
	pool_put(p, (uint16_t)(even + 1), until);
}
