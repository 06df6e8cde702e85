/* host_priv.h - the simulated host's internals shared by host.c and tcp.c. */
#ifndef TV_HOST_PRIV_H
#define TV_HOST_PRIV_H

#include "host.h"
#include "map.h"
#include "pkt.h"

#define HOST_MAX_IPS 4

struct tv_udp {
	tv_host *h;
	tv_ep local;            /* ip.v4 == 0: any address of the host */
	tv_udp_rx_fn fn;
	void *arg;
};

struct tv_host {
	sim_net *net;
	sim_iface *ifc;                 /* the first interface */
	char name[32];
	tv_ip ips[HOST_MAX_IPS];
	sim_iface *ip_ifc[HOST_MAX_IPS];        /* the interface owning each address */
	int nips;
	bool icmp;
	uint16_t ip_id;
	uint16_t next_udp_eph, next_tcp_eph;
	tv_host_stats st;
	tv_map udp;             /* udp_key(ip, port) -> tv_udp */
	tv_map tcp;             /* tcp_key(lport, remote) -> tv_tcp */
	tv_map tcp_listen;      /* port -> tv_tcp_listener */
};

static inline uint64_t host_udp_key(uint32_t ip, uint16_t port) { return (uint64_t)ip << 16 | port; }
static inline uint64_t host_tcp_key(uint16_t lport, const tv_ep *r)
{
	return (uint64_t)r->ip.v4 << 32 | (uint64_t)r->port << 16 | lport;
}

/* Send a raw IP packet (copied) out of the interface owning its source
 * address. Returns what sim_iface_send() does. */
int host_xmit(tv_host *h, const uint8_t *pkt, size_t len);
/* Next IP identification value. */
static inline uint16_t host_next_id(tv_host *h) { return h->ip_id++; }

/* tcp.c */
void host_tcp_input(tv_host *h, const uint8_t *pkt, const pkt_info *pi, tv_time now);
void host_tcp_free_all(tv_host *h);

#endif
