/* proxy_admin.c - what an operator does to a running proxy: reload its
 * options, shut it down. */
#include "proxy_priv.h"

/* The options read at the moment of use; the rest (addresses, ports,
 * pools, trust, topology hiding) keep their start-up values. */
void proxy_reload(proxy *p, const proxy_cfg *n)
{
	proxy_cfg *c = &p->cfg;

	c->keepalive = n->keepalive;
	c->keepalive_interval = n->keepalive_interval;
	c->keepalive_misses = n->keepalive_misses;
	c->latch = n->latch;
	c->latch_window = n->latch_window;
	c->strict_source = n->strict_source;
	c->media_timeout = n->media_timeout;
	c->max_bindings = n->max_bindings;
	c->media_trust = n->media_trust;
	c->max_legs = n->max_legs;
	c->max_untrusted = n->max_untrusted;
	c->max_untrusted_per_ip = n->max_untrusted_per_ip;
	c->rate = n->rate;
	c->timer_c = n->timer_c;
	c->port_quarantine = n->port_quarantine;
	c->untrusted_hold = n->untrusted_hold;
	c->quality_delay = n->quality_delay;
}

/* Nothing is read after this: the caller frees the proxy without running
 * its loop again, so the sockets can stay until proxy_free(). */
void proxy_shutdown(proxy *p, tv_time now)
{
	for (size_t i = 0; i < p->nall; i++)
		while (p->all[i]->legs)
			px_leg_end(p->all[i]->legs, "shutdown", now);
}
