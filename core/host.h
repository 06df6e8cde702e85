/* host.h - what a node may do: UDP and TCP sockets, timers, the time.
 *
 * Terminals, STUN servers, softswitches and the proxy are written against
 * this API only; they never touch sockets or clocks. A host is a table of
 * operations (host_ops.h) with two implementations behind it: the
 * simulated host (simhost.h: a node on a sim_link with its own small UDP
 * and TCP) and the live host (livehost.h: non-blocking sockets on an epoll
 * loop, CLOCK_MONOTONIC). Both may live in one process; a handle (tv_udp,
 * tv_tcp, tv_tcp_listener) belongs to the host that made it.
 *
 * Buffers passed to callbacks are borrowed for the duration of the call.
 *
 * Size: a UDP datagram of up to 65,507 bytes of payload (PKT_UDP_DATA_MAX)
 * is sent and received whole; a bigger one is refused with TV_EMSGSIZE,
 * never truncated. The simulated links carry IPv4 packets up to 65,535
 * bytes unfragmented (no MTU, no IP fragmentation), so NAT fragment
 * handling (RFC 4787 REQ-14) is not exercised there.
 *
 * The simulated TCP (simtcp.c) does: three-way handshake, in-order data with
 * cumulative ACKs and go-back-N retransmission (RTO 200 ms doubling to
 * 6.4 s, 6 tries, then reset), FIN close in both directions, RST on
 * unknown segments, and an idle timeout per connection. It does not do:
 * options (MSS is fixed at 1400 bytes), window scaling, congestion control,
 * SACK, urgent data, simultaneous open, TIME_WAIT reuse rules. The live
 * host's TCP is the kernel's. */
#ifndef TV_HOST_H
#define TV_HOST_H

#include "tv.h"
#include "timerq.h"
#include "rng.h"

typedef struct tv_host tv_host;
typedef struct tv_udp tv_udp;
typedef struct tv_tcp tv_tcp;

typedef void (*tv_udp_rx_fn)(void *arg, tv_udp *s, const tv_ep *from,
			     const uint8_t *data, size_t len, tv_time now);

typedef struct tv_host_stats {
	uint64_t rx, tx, rx_bad, rx_noport, icmp_rx;
} tv_host_stats;

void host_free(tv_host *h);
const char *host_name(const tv_host *h);
const tv_ip *host_ip(const tv_host *h);
tv_time host_now(const tv_host *h);
tv_rng *host_rng(tv_host *h);
const tv_host_stats *host_stats(const tv_host *h);
/* "sim" or "live". */
const char *host_kind(const tv_host *h);

/* Timers: the caller owns t (see timerq.h); fn runs at or after when. */
void host_timer_arm(tv_host *h, tv_timer *t, tv_time when);
void host_timer_cancel(tv_host *h, tv_timer *t);

/* UDP. Bind to local (ip 0.0.0.0 = any of the host's addresses; port 0 =
 * an ephemeral port from 49152 up). Returns NULL and sets *err on failure
 * (TV_EEXIST if in use). */
tv_udp *host_udp_bind(tv_host *h, const tv_ep *local, tv_udp_rx_fn fn, void *arg, int *err);
void host_udp_close(tv_udp *s);
/* The bound endpoint; for a wildcard bind the address is the host's first. */
tv_ep host_udp_local(const tv_udp *s);
tv_host *host_udp_host(const tv_udp *s);
/* Send a datagram; the source is the socket's address (or the host's first
 * address for a wildcard bind). len may be 0 to PKT_UDP_DATA_MAX (65,507).
 * Returns 0 once the datagram is on the link (loss and no route are the
 * network's, as with a real socket), or, with nothing sent: TV_EMSGSIZE for
 * len above 65,507, TV_EINVAL for a non-IPv4 address, TV_ENOMEM. */
int host_udp_send(tv_udp *s, const tv_ep *to, const void *data, size_t len);
/* Send from a specific local address of this host, still from the socket's
 * port. Same sizes and returns as host_udp_send(). */
int host_udp_send_from(tv_udp *s, const tv_ip *src, const tv_ep *to, const void *data, size_t len);
/* The IPv4 TOS byte (DSCP << 2 | ECN) of what the socket sends from now on
 * (IP_TOS on a live socket) [0]. */
void host_udp_set_tos(tv_udp *s, uint8_t tos);

/* TCP */
enum tv_tcp_event {
	TV_TCP_CONNECTED,       /* handshake complete (both sides) */
	TV_TCP_DATA,            /* in-order bytes arrived */
	TV_TCP_PEER_CLOSED,     /* FIN received: no more data will arrive */
	TV_TCP_CLOSED,          /* fully closed; the handle is freed after the callback */
	TV_TCP_RESET,           /* RST received or retransmissions exhausted; freed after */
	TV_TCP_TIMEOUT,         /* idle timeout hit; an RST was sent; freed after */
};

typedef void (*tv_tcp_fn)(void *arg, tv_tcp *c, enum tv_tcp_event ev,
			  const uint8_t *data, size_t len, tv_time now);
/* Called for each accepted connection; return the callback and arg to use. */
typedef void (*tv_tcp_accept_fn)(void *arg, tv_tcp *c, tv_time now);

typedef struct tv_tcp_listener tv_tcp_listener;

tv_tcp_listener *host_tcp_listen(tv_host *h, uint16_t port, tv_tcp_accept_fn fn, void *arg, int *err);
void host_tcp_unlisten(tv_tcp_listener *l);
/* Active open from local port lport (0 = ephemeral) to remote. */
tv_tcp *host_tcp_connect(tv_host *h, uint16_t lport, const tv_ep *remote,
			 tv_tcp_fn fn, void *arg, int *err);
/* The same from one of the host's addresses (a multi-homed host: the
 * segments leave by the interface that owns src; NULL: the first). */
tv_tcp *host_tcp_connect_from(tv_host *h, const tv_ip *src, uint16_t lport, const tv_ep *remote,
			      tv_tcp_fn fn, void *arg, int *err);
/* Set the event callback (used by an accept callback). */
void host_tcp_set_cb(tv_tcp *c, tv_tcp_fn fn, void *arg);
/* Queue bytes for sending. Returns 0 or TV_ESTATE after close. */
int host_tcp_send(tv_tcp *c, const void *data, size_t len);
/* Orderly close (FIN after queued data). */
void host_tcp_close(tv_tcp *c);
/* Abortive close (RST); the handle is freed without a callback. */
void host_tcp_abort(tv_tcp *c);
/* Idle timeout: no segment in either direction for this long -> RST and
 * TV_TCP_TIMEOUT. 0 disables (default). */
void host_tcp_set_idle(tv_tcp *c, tv_time idle);
tv_ep host_tcp_local(const tv_tcp *c);
tv_ep host_tcp_remote(const tv_tcp *c);
const char *host_tcp_state_name(const tv_tcp *c);

#endif
