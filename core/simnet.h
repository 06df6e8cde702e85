/* simnet.h - the simulated network: links, interfaces, a virtual clock.
 *
 * A link is an L3 segment (think: a LAN or an ISP's access network). Every
 * interface attached to it owns one or more IPv4 addresses; a packet sent on
 * a link is delivered to the interface owning its destination address, or
 * else to the link's gateway (a NAT's inside interface), or dropped as
 * "no route". Each link applies its impairments (delay, jitter, loss,
 * duplication, reordering) drawn from the network's one seeded generator,
 * and can be tapped into a pcap file (LINKTYPE_RAW, virtual timestamps).
 *
 * Links carry IPv4 packets up to 65,535 bytes (PKT_IP_MAX) unfragmented:
 * there is no MTU and no IP fragmentation, so a UDP datagram of up to
 * 65,507 bytes of payload crosses every link and NAT as one packet (and is
 * tapped whole: the pcap snaplen is 65,535). A consequence: NAT handling of
 * fragments (RFC 4787 REQ-14) is not exercised; packets with MF or a
 * fragment offset do not parse and a NAT drops them as malformed.
 *
 * Everything runs on one virtual clock: packet arrivals and node timers
 * share one timer queue; sim_net_run_until() jumps from event to event.
 * Same seed, same topology, same actions: same pcap, byte for byte. */
#ifndef TV_SIMNET_H
#define TV_SIMNET_H

#include "tv.h"
#include "timerq.h"
#include "rng.h"

typedef struct sim_net sim_net;
typedef struct sim_link sim_link;
typedef struct sim_iface sim_iface;

/* Called when a packet arrives at an interface. pkt is owned by the
 * network and valid for the duration of the call; the receiver may modify
 * it in place (a NAT rewrites and re-sends it). */
typedef void (*sim_rx_fn)(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len);

/* Sees every packet as it is delivered, before the receiver does (the
 * scenario runner checks what arrived where). */
typedef void (*sim_tap_fn)(void *arg, const uint8_t *pkt, size_t len, tv_time now);

typedef struct sim_link_cfg {
	tv_time delay;          /* one-way base delay */
	tv_time jitter;         /* uniform extra delay in [0, jitter] */
	double loss;            /* probability a packet is lost */
	double dup;             /* probability a packet is delivered twice */
	double reorder;         /* probability a packet is held back ... */
	tv_time reorder_delay;  /* ... by this much extra */
} sim_link_cfg;

typedef struct sim_link_stats {
	uint64_t tx, delivered, lost, dup, noroute, bytes;
} sim_link_stats;

sim_net *sim_net_new(uint64_t seed);
void sim_net_free(sim_net *n);
tv_time sim_net_now(const sim_net *n);
tv_rng *sim_net_rng(sim_net *n);
tv_timerq *sim_net_timers(sim_net *n);
/* Run every event due up to and including t, then set the clock to t. */
void sim_net_run_until(sim_net *n, tv_time t);
/* Events processed so far (packets delivered + timers fired). */
uint64_t sim_net_events(const sim_net *n);
/* Bytes of packet storage the network holds: every slot ever allocated,
 * in flight or free for reuse. It grows only when more packets (or bigger
 * ones) are in flight at once than ever before. */
size_t sim_net_pkt_mem(const sim_net *n);

void sim_net_set_tap(sim_net *n, sim_tap_fn fn, void *arg);
/* The tap now set (NULL fn if none): a second watcher chains to it. */
void sim_net_get_tap(const sim_net *n, sim_tap_fn *fn, void **arg);
/* During a tap call: the link the packet is being delivered on (its
 * addresses tell who handed it over and who takes it); NULL otherwise. */
sim_link *sim_net_tap_link(const sim_net *n);
sim_link *sim_link_new(sim_net *n, const char *name, const sim_link_cfg *cfg);
const char *sim_link_name(const sim_link *l);
sim_link *sim_link_find(sim_net *n, const char *name);
void sim_link_set_cfg(sim_link *l, const sim_link_cfg *cfg);
const sim_link_cfg *sim_link_get_cfg(const sim_link *l);
/* Start writing every packet sent on the link to a pcap file. */
int sim_link_pcap_open(sim_link *l, const char *path, char *err, size_t errlen);
void sim_link_set_gateway(sim_link *l, sim_iface *gw);
const sim_link_stats *sim_link_stats_get(const sim_link *l);
/* Does an interface on the link own ip? */
bool sim_link_has_ip(const sim_link *l, const tv_ip *ip);
/* Iterate links in creation order: i = 0.. until NULL. */
sim_link *sim_net_link_at(sim_net *n, size_t i);

sim_iface *sim_iface_new(sim_link *l, void *node, sim_rx_fn rx);
sim_link *sim_iface_link(const sim_iface *ifc);
/* Detach the node from an interface (packets to it are then dropped). */
void sim_iface_set_node(sim_iface *ifc, void *node, sim_rx_fn rx);
/* Address ownership on the interface's link. TV_EEXIST if taken. */
int sim_iface_add_ip(sim_iface *ifc, const tv_ip *ip);
void sim_iface_del_ip(sim_iface *ifc, const tv_ip *ip);
/* Send a packet on the interface's link (copied). Packets that do not
 * parse as IPv4 are still carried (and counted) so malformed traffic can be
 * injected; they are routed by the destination field if present.
 * Returns 0 once the packet is on the link, whatever then becomes of it (no
 * route and loss are the network's business, counted in the link's stats);
 * TV_EINVAL for an empty packet, TV_EMSGSIZE above PKT_IP_MAX bytes,
 * TV_ENOMEM if no storage: those are not sent at all. */
int sim_iface_send(sim_iface *ifc, const uint8_t *pkt, size_t len);

/* Zero-copy sending, for a sender that builds the packet itself (the hosts'
 * UDP): sim_iface_tx_buf() lends storage for a packet of up to cap bytes
 * (NULL if cap is 0 or above PKT_IP_MAX, or out of memory). The caller
 * writes the packet there, then hands it back exactly once: to
 * sim_iface_tx_send() with its length (<= cap; same results as
 * sim_iface_send(), and the buffer is taken back in every case), or unsent
 * to sim_iface_tx_abort(). The storage is sized to the packet, so a small
 * send does not cost a 64 KiB buffer, and small ones come from a free list. */
uint8_t *sim_iface_tx_buf(sim_iface *ifc, size_t cap);
int sim_iface_tx_send(sim_iface *ifc, uint8_t *buf, size_t len);
void sim_iface_tx_abort(sim_iface *ifc, uint8_t *buf);

#endif
