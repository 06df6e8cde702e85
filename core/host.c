/* host.c - the simulated host: addresses, UDP sockets, ICMP, timers.
 * TCP lives in tcp.c. */
#include "host_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void host_rx(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len);

tv_host *host_new(sim_net *n, sim_link *l, const char *name, const tv_ip *ip)
{
	tv_host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->net = n;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->icmp = true;
	h->next_udp_eph = 49152;
	h->next_tcp_eph = 49152;
	h->ip_id = 1;
	tv_map_init(&h->udp);
	tv_map_init(&h->tcp);
	tv_map_init(&h->tcp_listen);
	h->ifc = sim_iface_new(l, h, host_rx);
	if (!h->ifc || host_add_ip(h, ip) < 0) {
		host_free(h);
		return NULL;
	}
	return h;
}

void host_free(tv_host *h)
{
	if (!h)
		return;
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

int host_add_ip(tv_host *h, const tv_ip *ip)
{
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

int host_add_iface(tv_host *h, sim_link *l, const tv_ip *ip)
{
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

const char *host_name(const tv_host *h) { return h->name; }
const tv_ip *host_ip(const tv_host *h) { return &h->ips[0]; }
tv_time host_now(const tv_host *h) { return sim_net_now(h->net); }
tv_rng *host_rng(tv_host *h) { return sim_net_rng(h->net); }
const tv_host_stats *host_stats(const tv_host *h) { return &h->st; }
void host_set_icmp(tv_host *h, bool on) { h->icmp = on; }

void host_timer_arm(tv_host *h, tv_timer *t, tv_time when)
{
	tv_timerq_arm(sim_net_timers(h->net), t, when);
}

void host_timer_cancel(tv_host *h, tv_timer *t)
{
	tv_timerq_cancel(sim_net_timers(h->net), t);
}

/* The interface a packet from src leaves by: the one owning src, else the
 * first. */
static sim_iface *host_out_ifc(const tv_host *h, uint32_t src)
{
	for (int i = h->nips - 1; i >= 0; i--)
		if (h->ips[i].v4 == src)
			return h->ip_ifc[i];
	return h->ifc;
}

int host_xmit(tv_host *h, const uint8_t *pkt, size_t len)
{
	sim_iface *out = len >= IP4_HDR ? host_out_ifc(h, pkt_get32(pkt + 12)) : h->ifc;

	h->st.tx++;
	return sim_iface_send(out, pkt, len);
}

int host_inject(tv_host *h, const uint8_t *pkt, size_t len)
{
	return host_xmit(h, pkt, len);
}

static bool host_owns(const tv_host *h, const tv_ip *ip)
{
	for (int i = 0; i < h->nips; i++)
		if (tv_ip_eq(&h->ips[i], ip))
			return true;
	return false;
}

tv_udp *host_udp_bind(tv_host *h, const tv_ep *local, tv_udp_rx_fn fn, void *arg, int *err)
{
	tv_udp *s;
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
	return s;
}

void host_udp_close(tv_udp *s)
{
	if (!s)
		return;
	tv_map_del(&s->h->udp, host_udp_key(s->local.ip.v4, s->local.port));
	free(s);
}

tv_ep host_udp_local(const tv_udp *s)
{
	tv_ep ep = s->local;

	if (ep.ip.v4 == 0)
		ep.ip = s->h->ips[0];
	return ep;
}

tv_host *host_udp_host(const tv_udp *s) { return s->h; }

/* The datagram is built straight into the storage the network carries it
 * in (no stack buffer, no copy), sized to it. */
int host_udp_send_from(tv_udp *s, const tv_ip *src, const tv_ep *to, const void *data, size_t len)
{
	tv_host *h = s->h;
	tv_ep from = tv_ep4(src->v4, s->local.port);
	size_t cap = IP4_HDR + UDP_HDR + len;
	sim_iface *out;
	uint8_t *buf;
	int n;

	if (len > PKT_UDP_DATA_MAX)
		return TV_EMSGSIZE;
	out = host_out_ifc(h, src->v4);
	buf = sim_iface_tx_buf(out, cap);
	if (!buf)
		return TV_ENOMEM;
	n = pkt_build_udp(buf, cap, &from, to, host_next_id(h), data, len);
	if (n < 0) {
		sim_iface_tx_abort(out, buf);
		return n;
	}
	h->st.tx++;
	return sim_iface_tx_send(out, buf, (size_t)n);
}

int host_udp_send(tv_udp *s, const tv_ep *to, const void *data, size_t len)
{
	tv_ep l = host_udp_local(s);

	return host_udp_send_from(s, &l.ip, to, data, len);
}

static void udp_input(tv_host *h, const uint8_t *pkt, const pkt_info *pi, tv_time now)
{
	tv_udp *s = tv_map_get(&h->udp, host_udp_key(pi->dst.ip.v4, pi->dst.port));

	if (!s)
		s = tv_map_get(&h->udp, host_udp_key(0, pi->dst.port));
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
	s->fn(s->arg, s, &pi->src, pkt + pi->data_off, pi->data_len, now);
}

static void host_rx(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len)
{
	tv_host *h = node;
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
