/* simhost.h - the simulated host: a node on a sim_link with its own small
 * UDP and TCP (host.h says what they do and do not do). Everything else a
 * node does with it goes through host.h. */
#ifndef TV_SIMHOST_H
#define TV_SIMHOST_H

#include "host.h"
#include "simnet.h"

/* A simulated host on link l with one address. */
tv_host *simhost_new(sim_net *n, sim_link *l, const char *name, const tv_ip *ip);
/* Give the host another address on its link (multi-homed servers). */
int simhost_add_ip(tv_host *h, const tv_ip *ip);
/* Attach the host to another link with an address there (a proxy between
 * an access and a core network). Packets leave by the interface that owns
 * their source address. */
int simhost_add_iface(tv_host *h, sim_link *l, const tv_ip *ip);
/* Answer datagrams to closed ports with ICMP port unreachable (default on). */
void simhost_set_icmp(tv_host *h, bool on);
/* Put raw bytes on the host's link as if it had sent them: for injecting
 * malformed or hand-made packets in tests. Returns 0, or TV_EINVAL (empty),
 * TV_EMSGSIZE (over 65,535 bytes) or TV_ENOMEM, and then nothing was sent. */
int simhost_inject(tv_host *h, const uint8_t *pkt, size_t len);
/* Datagrams to ports nothing is bound to go to fn instead of an ICMP
 * error (a bridge to real sockets takes every port); NULL: back to ICMP. */
typedef void (*simhost_udp_any_fn)(void *arg, const tv_ep *src, const tv_ep *dst, const uint8_t *data, size_t len,
				   tv_time now);
void simhost_set_udp_any(tv_host *h, simhost_udp_any_fn fn, void *arg);
/* Whether h is a simulated host. */
bool simhost_is(const tv_host *h);

#endif
