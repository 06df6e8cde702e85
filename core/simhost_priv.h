/* simhost_priv.h - the simulated host's internals shared by simhost.c and
 * simtcp.c. Each struct starts as host_ops.h requires. */
#ifndef TV_SIMHOST_PRIV_H
#define TV_SIMHOST_PRIV_H

#include "host_ops.h"
#include "simhost.h"
#include "map.h"
#include "pkt.h"

#define HOST_MAX_IPS 4

typedef struct sim_host sim_host;
typedef struct sim_udp sim_udp;
typedef struct sim_tcp sim_tcp;
typedef struct sim_listener sim_listener;

struct sim_udp {
	tv_host *owner;         /* first: host_ops.h */
	sim_host *h;
	uint8_t tos;
	tv_ep local;            /* ip.v4 == 0: any address of the host */
	tv_udp_rx_fn fn;
	void *arg;
};

struct sim_host {
	tv_host base;           /* first: host_ops.h */
	sim_net *net;
	sim_iface *ifc;                 /* the first interface */
	tv_ip ips[HOST_MAX_IPS];
	sim_iface *ip_ifc[HOST_MAX_IPS];        /* the interface owning each address */
	int nips;
	bool icmp;
	simhost_udp_any_fn udp_any;     /* unbound ports, instead of ICMP */
	void *udp_any_arg;
	uint16_t ip_id;
	uint16_t next_udp_eph, next_tcp_eph;
	tv_host_stats st;
	tv_map udp;             /* udp_key(ip, port) -> sim_udp */
	tv_map tcp;             /* tcp_key(lport, remote) -> sim_tcp */
	tv_map tcp_listen;      /* port -> sim_listener */
};

static inline uint64_t host_udp_key(uint32_t ip, uint16_t port) { return (uint64_t)ip << 16 | port; }
static inline uint64_t host_tcp_key(uint16_t lport, const tv_ep *r)
{
	return (uint64_t)r->ip.v4 << 32 | (uint64_t)r->port << 16 | lport;
}

/* Send a raw IP packet (copied) out of the interface owning its source
 * address. Returns what sim_iface_send() does. */
int host_xmit(sim_host *h, const uint8_t *pkt, size_t len);
/* Next IP identification value. */
static inline uint16_t host_next_id(sim_host *h) { return h->ip_id++; }

/* tcp.c */
void host_tcp_input(sim_host *h, const uint8_t *pkt, const pkt_info *pi, tv_time now);
void host_tcp_free_all(sim_host *h);

static inline sim_host *SH(tv_host *h) { return (sim_host *)h; }
static inline const sim_host *CSH(const tv_host *h) { return (const sim_host *)h; }

/* simtcp.c: the TCP operations of host_ops.h */
tv_tcp_listener *sim_tcp_listen(tv_host *h, uint16_t port, tv_tcp_accept_fn fn, void *arg, int *err);
void sim_tcp_unlisten(tv_tcp_listener *l);
tv_tcp *sim_tcp_connect(tv_host *h, const tv_ip *src, uint16_t lport, const tv_ep *remote,
			tv_tcp_fn fn, void *arg, int *err);
void sim_tcp_set_cb(tv_tcp *c, tv_tcp_fn fn, void *arg);
int sim_tcp_send(tv_tcp *c, const void *data, size_t len);
void sim_tcp_close(tv_tcp *c);
void sim_tcp_abort(tv_tcp *c);
void sim_tcp_set_idle(tv_tcp *c, tv_time idle);
tv_ep sim_tcp_local(const tv_tcp *c);
tv_ep sim_tcp_remote(const tv_tcp *c);
const char *sim_tcp_state_name(const tv_tcp *c);

#endif
