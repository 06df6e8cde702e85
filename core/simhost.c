/* simhost.c - the simulated host: addresses, UDP sockets, ICMP, timers.
 * TCP lives in simtcp.c. */
#include "simhost_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void host_rx(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len);
static void sim_free(tv_host *base);
static const tv_host_ops sim_ops;

tv_host *simhost_new(sim_net *n, sim_link *l, const char *name, const tv_ip *ip)
{
	sim_host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->base.ops = &sim_ops;
	h->net = n;
	snprintf(h->base.name, sizeof(h->base.name), "%s", name);
	h->icmp = true;
	h->next_udp_eph = 49152;
	h->next_tcp_eph = 49152;
	h->ip_id = 1;
	tv_map_init(&h->udp);
	tv_map_init(&h->tcp);
	tv_map_init(&h->tcp_listen);
	h->ifc = sim_iface_new(l, h, host_rx);
	if (!h->ifc || simhost_add_ip(&h->base, ip) < 0) {
		sim_free(&h->base);
		return NULL;
	}
	return &h->base;
}

bool simhost_is(const tv_host *h) { return h->ops == &sim_ops; }

static void sim_free(tv_host *base)
{
	sim_host *h = SH(base);

	host_tcp_free_all(h);
	for (size_t i = 0; h->udp.slots && i <= h->udp.mask; i++)
		free(h->udp.slots[i].val);
	tv_map_free(&h->udp);
	tv_map_free(&h->tcp);
	tv_map_free(&h->tcp_listen);
	/* The interface belongs to the link and is freed with the network. */
	for (int i = 0; i < h->nips; i++) {
		sim_iface_del_ip(h->ip_ifc[i], &h->ips[i]);
		sim_iface_set_node(h->ip_ifc[i], NULL, NULL);
	}
	free(h);
}

int simhost_add_ip(tv_host *base, const tv_ip *ip)
{
	sim_host *h = SH(base);
	int rc;

	if (h->nips == HOST_MAX_IPS || ip->af != TV_AF_INET)
		return TV_EINVAL;
	rc = sim_iface_add_ip(h->ifc, ip);
	if (rc < 0)
		return rc;
	h->ip_ifc[h->nips] = h->ifc;
	h->ips[h->nips++] = *ip;
	return 0;
}

int simhost_add_iface(tv_host *base, sim_link *l, const tv_ip *ip)
{
	sim_host *h = SH(base);
	sim_iface *ifc;
	int rc;

	if (h->nips == HOST_MAX_IPS || ip->af != TV_AF_INET)
		return TV_EINVAL;
	ifc = sim_iface_new(l, h, host_rx);
	if (!ifc)
		return TV_ENOMEM;
	rc = sim_iface_add_ip(ifc, ip);
	if (rc < 0) {
		sim_iface_set_node(ifc, NULL, NULL);
		return rc;
	}
	h->ip_ifc[h->nips] = ifc;
	h->ips[h->nips++] = *ip;
	return 0;
}

static const tv_ip *sim_ip(const tv_host *h) { return &CSH(h)->ips[0]; }
static tv_time sim_now(const tv_host *h) { return sim_net_now(CSH(h)->net); }
static tv_rng *sim_rng(tv_host *h) { return sim_net_rng(SH(h)->net); }
static const tv_host_stats *sim_stats(const tv_host *h) { return &CSH(h)->st; }
void simhost_set_icmp(tv_host *h, bool on) { SH(h)->icmp = on; }

void simhost_set_udp_any(tv_host *h, simhost_udp_any_fn fn, void *arg)
{
	SH(h)->udp_any = fn;
	SH(h)->udp_any_arg = arg;
}

static void sim_timer_arm(tv_host *h, tv_timer *t, tv_time when)
{
	tv_timerq_arm(sim_net_timers(SH(h)->net), t, when);
}

static void sim_timer_cancel(tv_host *h, tv_timer *t)
{
	tv_timerq_cancel(sim_net_timers(SH(h)->net), t);
}

/* The interface a packet from src leaves by: the one owning src, else the
 * first. */
static sim_iface *host_out_ifc(const sim_host *h, uint32_t src)
{
	for (int i = h->nips - 1; i >= 0; i--)
		if (h->ips[i].v4 == src)
			return h->ip_ifc[i];
	return h->ifc;
}

int host_xmit(sim_host *h, const uint8_t *pkt, size_t len)
{
	sim_iface *out = len >= IP4_HDR ? host_out_ifc(h, pkt_get32(pkt + 12)) : h->ifc;

	h->st.tx++;
	return sim_iface_send(out, pkt, len);
}

int simhost_inject(tv_host *h, const uint8_t *pkt, size_t len)
{
	return host_xmit(SH(h), pkt, len);
}

static bool host_owns(const sim_host *h, const tv_ip *ip)
{
	for (int i = 0; i < h->nips; i++)
		if (tv_ip_eq(&h->ips[i], ip))
			return true;
	return false;
}

static tv_udp *sim_udp_bind(tv_host *base, const tv_ep *local, tv_udp_rx_fn fn, void *arg, int *err)
{
	sim_host *h = SH(base);
	sim_udp *s;
	uint32_t ip = local ? local->ip.v4 : 0;
	uint16_t port = local ? local->port : 0;

	if (local && ip != 0 && !host_owns(h, &local->ip)) {
		*err = TV_EINVAL;
		return NULL;
	}
	if (port == 0) {
		for (int tries = 0; tries < 16384; tries++) {
			uint16_t p = h->next_udp_eph;
			h->next_udp_eph = p == 65535 ? 49152 : p + 1;
			if (!tv_map_get(&h->udp, host_udp_key(ip, p)) &&
			    !tv_map_get(&h->udp, host_udp_key(0, p))) {
				port = p;
				break;
			}
		}
		if (port == 0) {
			*err = TV_EFULL;
			return NULL;
		}
	} else if (tv_map_get(&h->udp, host_udp_key(ip, port))) {
		*err = TV_EEXIST;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		*err = TV_ENOMEM;
		return NULL;
	}
	s->owner = base;
	s->h = h;
	s->local = tv_ep4(ip, port);
	s->fn = fn;
	s->arg = arg;
	if (tv_map_put(&h->udp, host_udp_key(ip, port), s) < 0) {
		free(s);
		*err = TV_ENOMEM;
		return NULL;
	}
	*err = 0;
	return (tv_udp *)s;
}

static void sim_udp_close(tv_udp *us)
{
	sim_udp *s = (sim_udp *)us;

	tv_map_del(&s->h->udp, host_udp_key(s->local.ip.v4, s->local.port));
	free(s);
}

static tv_ep sim_udp_local(const tv_udp *us)
{
	const sim_udp *s = (const sim_udp *)us;
	tv_ep ep = s->local;

	if (ep.ip.v4 == 0)
		ep.ip = s->h->ips[0];
	return ep;
}

/* The datagram is built straight into the storage the network carries it
 * in (no stack buffer, no copy), sized to it. */
static int sim_udp_send(tv_udp *us, const tv_ip *src, const tv_ep *to, const void *data, size_t len)
{
	sim_udp *s = (sim_udp *)us;
	sim_host *h = s->h;
	tv_ep l = sim_udp_local(us);
	tv_ep from = tv_ep4(src ? src->v4 : l.ip.v4, s->local.port);
	size_t cap = IP4_HDR + UDP_HDR + len;
	sim_iface *out;
	uint8_t *buf;
	int n;

	if (len > PKT_UDP_DATA_MAX)
		return TV_EMSGSIZE;
	out = host_out_ifc(h, from.ip.v4);
	buf = sim_iface_tx_buf(out, cap);
	if (!buf)
		return TV_ENOMEM;
	n = pkt_build_udp(buf, cap, &from, to, host_next_id(h), data, len);
	if (n < 0) {
		sim_iface_tx_abort(out, buf);
		return n;
	}
	if (s->tos)
		pkt_set_tos(buf, s->tos);
	h->st.tx++;
	return sim_iface_tx_send(out, buf, (size_t)n);
}

static void sim_udp_set_tos(tv_udp *s, uint8_t tos) { ((sim_udp *)s)->tos = tos; }

static void udp_input(sim_host *h, const uint8_t *pkt, const pkt_info *pi, tv_time now)
{
	sim_udp *s = tv_map_get(&h->udp, host_udp_key(pi->dst.ip.v4, pi->dst.port));

	if (!s)
		s = tv_map_get(&h->udp, host_udp_key(0, pi->dst.port));
	if (!s && h->udp_any) {
		h->udp_any(h->udp_any_arg, &pi->src, &pi->dst, pkt + pi->data_off, pi->data_len, now);
		return;
	}
	if (!s) {
		h->st.rx_noport++;
		if (h->icmp) {
			uint8_t buf[PKT_ICMP_ERR_MAX];
			int n = pkt_build_icmp_error(buf, sizeof(buf), &pi->dst.ip, host_next_id(h),
						     ICMP_UNREACH, 3, pkt, pi->ip_len);
			if (n > 0)
				host_xmit(h, buf, (size_t)n);
		}
		return;
	}
	s->fn(s->arg, (tv_udp *)s, &pi->src, pkt + pi->data_off, pi->data_len, now);
}

static void host_rx(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len)
{
	sim_host *h = node;
	pkt_info pi;

	(void)ifc;
	if (!h)
		return;
	if (pkt_parse(pkt, len, &pi) < 0 || !host_owns(h, &pi.dst.ip)) {
		h->st.rx_bad++;
		return;
	}
	h->st.rx++;
	switch (pi.proto) {
	case TV_PROTO_UDP:
		udp_input(h, pkt, &pi, now);
		break;
	case TV_PROTO_TCP:
		host_tcp_input(h, pkt, &pi, now);
		break;
	case TV_PROTO_ICMP:
		h->st.icmp_rx++;
		break;
	}
}

static const tv_host_ops sim_ops = {
	.kind = "sim",
	.free = sim_free,
	.ip = sim_ip,
	.now = sim_now,
	.rng = sim_rng,
	.stats = sim_stats,
	.timer_arm = sim_timer_arm,
	.timer_cancel = sim_timer_cancel,
	.udp_bind = sim_udp_bind,
	.udp_close = sim_udp_close,
	.udp_local = sim_udp_local,
	.udp_send = sim_udp_send,
	.udp_set_tos = sim_udp_set_tos,
	.tcp_listen = sim_tcp_listen,
	.tcp_unlisten = sim_tcp_unlisten,
	.tcp_connect = sim_tcp_connect,
	.tcp_set_cb = sim_tcp_set_cb,
	.tcp_send = sim_tcp_send,
	.tcp_close = sim_tcp_close,
	.tcp_abort = sim_tcp_abort,
	.tcp_set_idle = sim_tcp_set_idle,
	.tcp_local = sim_tcp_local,
	.tcp_remote = sim_tcp_remote,
	.tcp_state_name = sim_tcp_state_name,
};
