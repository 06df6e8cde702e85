/* simnet.c - links, interfaces and the event loop of the simulated network.
 *
 * Timers: one per packet in flight (struct sim_pkt), armed at its arrival
 * time; node timers share the same queue.
 *
 * Packet storage: a packet in flight lives in a sim_pkt whose data area is
 * one of SIM_NCLASS sizes, SIM_PKT_SMALL << k (2 KiB, 4 KiB ... 64 KiB).
 * Each class keeps a free list, so once warm neither small packets (the hot
 * path) nor a steady stream of big ones allocate, and a packet never costs
 * more than twice its size (a 3.5 KB datagram takes a 4 KiB slot, not the
 * 64 KiB a maximum-size one needs). Slots are freed with the network; the
 * memory held is the peak number in flight per class, which is fine for
 * simulations and bounded by what a scenario sends at once. */
#include "simnet.h"
#include "map.h"
#include "pkt.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pcap timestamps: virtual time 0 is 2026-01-01T00:00:00Z. */
#define PCAP_EPOCH 1767225600LL

struct sim_iface {
	sim_link *link;
	void *node;
	sim_rx_fn rx;
};

struct sim_link {
	sim_net *net;
	char name[32];
	sim_link_cfg cfg;
	sim_link_stats st;
	tv_map addrs;           /* IPv4 -> sim_iface */
	sim_iface *gateway;
	pcap_t *pcap;
	pcap_dumper_t *dump;
	sim_iface **ifaces;
	size_t nifaces;
	tv_time last_at;        /* latest in-order arrival scheduled */
};

#define SIM_PKT_SMALL 2048
#define SIM_NCLASS 6            /* SIM_PKT_SMALL << 5 = 65536 >= PKT_IP_MAX */

typedef struct sim_pkt {
	tv_timer t;
	sim_iface *to;
	struct sim_pkt *next_free;
	uint32_t len;
	uint8_t cls;            /* data holds SIM_PKT_SMALL << cls bytes */
	uint8_t data[];
} sim_pkt;

struct sim_net {
	tv_time now;
	sim_tap_fn tap;
	void *tap_arg;
	sim_link *tap_link;     /* the link of the packet being tapped */
	tv_rng rng;
	tv_timerq tq;
	uint64_t events;
	sim_link **links;
	size_t nlinks;
	sim_pkt *free_pkts[SIM_NCLASS];
	sim_pkt **all_pkts;     /* every sim_pkt ever allocated, for free() */
	size_t nall, capall;
	size_t pkt_mem;         /* bytes of those */
};

sim_net *sim_net_new(uint64_t seed)
{
	sim_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	tv_rng_seed(&n->rng, seed);
	tv_timerq_init(&n->tq);
	return n;
}

void sim_net_free(sim_net *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nlinks; i++) {
		sim_link *l = n->links[i];
		for (size_t j = 0; j < l->nifaces; j++)
			free(l->ifaces[j]);
		free(l->ifaces);
		if (l->dump)
			pcap_dump_close(l->dump);
		if (l->pcap)
			pcap_close(l->pcap);
		tv_map_free(&l->addrs);
		free(l);
	}
	free(n->links);
	tv_timerq_free(&n->tq);         /* touches the timers of packets in flight */
	for (size_t i = 0; i < n->nall; i++)
		free(n->all_pkts[i]);
	free(n->all_pkts);
	free(n);
}

tv_time sim_net_now(const sim_net *n) { return n->now; }
tv_rng *sim_net_rng(sim_net *n) { return &n->rng; }
tv_timerq *sim_net_timers(sim_net *n) { return &n->tq; }
uint64_t sim_net_events(const sim_net *n) { return n->events; }
size_t sim_net_pkt_mem(const sim_net *n) { return n->pkt_mem; }

void sim_net_run_until(sim_net *n, tv_time t)
{
	tv_timer *tm;

	while ((tm = tv_timerq_pop_due(&n->tq, t)) != NULL) {
		if (tm->when > n->now)
			n->now = tm->when;
		n->events++;
		tm->fn(tm, n->now);
	}
	if (t > n->now)
		n->now = t;
}

sim_link *sim_link_new(sim_net *n, const char *name, const sim_link_cfg *cfg)
{
	sim_link *l, **nl;

	nl = realloc(n->links, (n->nlinks + 1) * sizeof(*nl));
	if (!nl)
		return NULL;
	n->links = nl;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->net = n;
	snprintf(l->name, sizeof(l->name), "%s", name);
	if (cfg)
		l->cfg = *cfg;
	tv_map_init(&l->addrs);
	n->links[n->nlinks++] = l;
	return l;
}

const char *sim_link_name(const sim_link *l) { return l->name; }
void sim_link_set_cfg(sim_link *l, const sim_link_cfg *cfg) { l->cfg = *cfg; }
const sim_link_cfg *sim_link_get_cfg(const sim_link *l) { return &l->cfg; }
void sim_link_set_gateway(sim_link *l, sim_iface *gw) { l->gateway = gw; }
const sim_link_stats *sim_link_stats_get(const sim_link *l) { return &l->st; }
sim_link *sim_net_link_at(sim_net *n, size_t i) { return i < n->nlinks ? n->links[i] : NULL; }

sim_link *sim_link_find(sim_net *n, const char *name)
{
	for (size_t i = 0; i < n->nlinks; i++)
		if (strcmp(n->links[i]->name, name) == 0)
			return n->links[i];
	return NULL;
}

int sim_link_pcap_open(sim_link *l, const char *path, char *err, size_t errlen)
{
	l->pcap = pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_MICRO);
	if (!l->pcap) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return TV_ENOMEM;
	}
	l->dump = pcap_dump_open(l->pcap, path);
	if (!l->dump) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(l->pcap));
		pcap_close(l->pcap);
		l->pcap = NULL;
		return TV_EINVAL;
	}
	return 0;
}

sim_iface *sim_iface_new(sim_link *l, void *node, sim_rx_fn rx)
{
	sim_iface *ifc, **ni;

	ni = realloc(l->ifaces, (l->nifaces + 1) * sizeof(*ni));
	if (!ni)
		return NULL;
	l->ifaces = ni;
	ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return NULL;
	ifc->link = l;
	ifc->node = node;
	ifc->rx = rx;
	l->ifaces[l->nifaces++] = ifc;
	return ifc;
}

sim_link *sim_iface_link(const sim_iface *ifc) { return ifc->link; }

void sim_iface_set_node(sim_iface *ifc, void *node, sim_rx_fn rx)
{
	ifc->node = node;
	ifc->rx = rx;
}

int sim_iface_add_ip(sim_iface *ifc, const tv_ip *ip)
{
	if (ip->af != TV_AF_INET)
		return TV_EINVAL;
	if (tv_map_get(&ifc->link->addrs, ip->v4))
		return TV_EEXIST;
	return tv_map_put(&ifc->link->addrs, ip->v4, ifc);
}

void sim_iface_del_ip(sim_iface *ifc, const tv_ip *ip)
{
	if (tv_map_get(&ifc->link->addrs, ip->v4) == ifc)
		tv_map_del(&ifc->link->addrs, ip->v4);
}

static sim_pkt *pkt_of(uint8_t *data)
{
	return (sim_pkt *)(void *)(data - offsetof(sim_pkt, data));
}

static void pkt_release(sim_net *n, sim_pkt *p)
{
	p->next_free = n->free_pkts[p->cls];
	n->free_pkts[p->cls] = p;
}

static void pkt_arrive(tv_timer *t, tv_time now)
{
	sim_pkt *p = t->arg;
	sim_net *n = p->to->link->net;

	p->to->link->st.delivered++;
	if (n->tap) {
		n->tap_link = p->to->link;
		n->tap(n->tap_arg, p->data, p->len, now);
		n->tap_link = NULL;
	}
	if (p->to->rx)
		p->to->rx(p->to->node, p->to, now, p->data, p->len);
	pkt_release(n, p);
}

void sim_net_set_tap(sim_net *n, sim_tap_fn fn, void *arg)
{
	n->tap = fn;
	n->tap_arg = arg;
}

void sim_net_get_tap(const sim_net *n, sim_tap_fn *fn, void **arg)
{
	*fn = n->tap;
	*arg = n->tap_arg;
}

sim_link *sim_net_tap_link(const sim_net *n) { return n->tap_link; }

bool sim_link_has_ip(const sim_link *l, const tv_ip *ip)
{
	return ip->af == TV_AF_INET && tv_map_get(&l->addrs, ip->v4) != NULL;
}

/* Allocate a new slot of class cls, or NULL when out of memory. */
static sim_pkt *pkt_grow(sim_net *n, unsigned cls)
{
	size_t sz = sizeof(sim_pkt) + ((size_t)SIM_PKT_SMALL << cls);
	sim_pkt *p;

	if (n->nall == n->capall) {
		size_t nc = n->capall ? n->capall * 2 : 256;
		sim_pkt **na = realloc(n->all_pkts, nc * sizeof(*na));
		if (!na)
			return NULL;
		n->all_pkts = na;
		n->capall = nc;
	}
	p = malloc(sz);
	if (!p)
		return NULL;
	n->pkt_mem += sz;
	tv_timer_init(&p->t, pkt_arrive, p);
	p->cls = (uint8_t)cls;
	n->all_pkts[n->nall++] = p;
	return p;
}

/* A slot for a packet of up to len bytes (len <= PKT_IP_MAX), or NULL when
 * out of memory. Warm, it is a free-list pop. */
static inline sim_pkt *pkt_alloc(sim_net *n, size_t len)
{
	unsigned cls = 0;
	sim_pkt *p;

	while ((size_t)SIM_PKT_SMALL << cls < len)
		cls++;
	p = n->free_pkts[cls];
	if (!p)
		return pkt_grow(n, cls);
	n->free_pkts[cls] = p->next_free;
	return p;
}

/* Put p (holding len bytes) in flight to to, with the link's delay, jitter
 * and reordering drawn now. */
static void schedule(sim_link *l, sim_iface *to, sim_pkt *p, size_t len, tv_time extra)
{
	sim_net *n = l->net;
	tv_time at = n->now + l->cfg.delay + extra;

	if (l->cfg.jitter > 0)
		at += (tv_time)tv_rng_below(&n->rng, (uint32_t)l->cfg.jitter + 1);
	/* Jitter alone keeps the link FIFO (a queue varies delay, it does not
	 * reorder); only packets picked for reordering overtake or fall behind. */
	if (l->cfg.reorder > 0 && tv_rng_unit(&n->rng) < l->cfg.reorder) {
		at += l->cfg.reorder_delay;
	} else {
		if (at < l->last_at)
			at = l->last_at;
		l->last_at = at;
	}
	p->to = to;
	p->len = (uint32_t)len;
	tv_timerq_arm(&n->tq, &p->t, at);
}

/* Count and tap a packet sent from ifc, and pick where it goes: NULL when
 * nowhere (no route, or lost on the way). */
static inline sim_iface *route(sim_iface *ifc, const uint8_t *pkt, size_t len)
{
	sim_link *l = ifc->link;
	sim_net *n = l->net;
	sim_iface *to = NULL;

	l->st.tx++;
	l->st.bytes += len;
	if (l->dump) {
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(PCAP_EPOCH + n->now / 1000000);
		h.ts.tv_usec = (suseconds_t)(n->now % 1000000);
		h.caplen = h.len = (bpf_u_int32)len;
		pcap_dump((u_char *)l->dump, &h, pkt);
	}
	if (len >= IP4_HDR && (pkt[0] >> 4) == 4)
		to = tv_map_get(&l->addrs, pkt_get32(pkt + 16));
	if (!to && l->gateway && l->gateway != ifc)
		to = l->gateway;
	if (!to) {
		l->st.noroute++;
		return NULL;
	}
	if (l->cfg.loss > 0 && tv_rng_unit(&n->rng) < l->cfg.loss) {
		l->st.lost++;
		return NULL;
	}
	return to;
}

/* A link with dup > 0 may deliver a packet twice; the copy trails the
 * original by 1 us. */
static void maybe_dup(sim_link *l, sim_iface *to, const uint8_t *pkt, size_t len)
{
	sim_net *n = l->net;
	sim_pkt *p;

	if (tv_rng_unit(&n->rng) < l->cfg.dup) {
		l->st.dup++;
		p = pkt_alloc(n, len);
		if (!p)
			return;
		memcpy(p->data, pkt, len);
		schedule(l, to, p, len, 1);
	}
}

int sim_iface_send(sim_iface *ifc, const uint8_t *pkt, size_t len)
{
	sim_link *l = ifc->link;
	sim_iface *to;
	sim_pkt *p;

	if (len == 0)
		return TV_EINVAL;
	if (len > PKT_IP_MAX)
		return TV_EMSGSIZE;
	to = route(ifc, pkt, len);
	if (!to)
		return 0;
	p = pkt_alloc(l->net, len);
	if (!p)
		return TV_ENOMEM;
	memcpy(p->data, pkt, len);
	schedule(l, to, p, len, 0);
	if (l->cfg.dup > 0)
		maybe_dup(l, to, pkt, len);
	return 0;
}

uint8_t *sim_iface_tx_buf(sim_iface *ifc, size_t cap)
{
	sim_pkt *p;

	if (cap == 0 || cap > PKT_IP_MAX)
		return NULL;
	p = pkt_alloc(ifc->link->net, cap);
	return p ? p->data : NULL;
}

void sim_iface_tx_abort(sim_iface *ifc, uint8_t *buf)
{
	pkt_release(ifc->link->net, pkt_of(buf));
}

int sim_iface_tx_send(sim_iface *ifc, uint8_t *buf, size_t len)
{
	sim_link *l = ifc->link;
	sim_pkt *p = pkt_of(buf);
	sim_iface *to;

	if (len == 0 || len > ((size_t)SIM_PKT_SMALL << p->cls)) {
		pkt_release(l->net, p);
		return len ? TV_EMSGSIZE : TV_EINVAL;
	}
	to = route(ifc, buf, len);
	if (!to) {
		pkt_release(l->net, p);
		return 0;
	}
	schedule(l, to, p, len, 0);
	if (l->cfg.dup > 0)
		maybe_dup(l, to, buf, len);
	return 0;
}
