/* livehost.h - the live host: the host API (host.h) on real sockets.
 *
 * A live_loop is one epoll set, one timer queue and the real clock
 * (CLOCK_MONOTONIC, in microseconds). Live hosts are created on a loop;
 * each owns a few local addresses (they must exist on the machine), and
 * everything a node does with one goes through host.h, exactly as with a
 * simulated host. One thread: callbacks and timers run from
 * live_loop_run(), never concurrently.
 *
 * Datapath: a readable UDP socket is drained with recvmmsg() in batches
 * of LIVE_BATCH; datagrams sent during an iteration are queued and leave
 * with sendmmsg() (one call per run of datagrams from the same socket) at
 * the end of the iteration or when the queue is full. No allocation and
 * no log line per packet. A datagram over LIVE_SLOT bytes is sent at once
 * with sendmsg() after the queue is flushed, so a socket's datagrams leave
 * in order. The kernel's errors on send (ENETUNREACH, EPERM, a full socket
 * buffer) are counted per loop (live_loop_stats), as on a real network
 * where a sent datagram may be lost; host_udp_send() returns 0 once the
 * datagram is queued.
 *
 * TCP is the kernel's: non-blocking connect/accept, a send queue per
 * connection (TV_EFULL past 64 MiB), the events of host.h: CONNECTED when
 * connect() completes or accept() returns, DATA, PEER_CLOSED on end of
 * stream, CLOSED once both directions are closed, RESET on ECONNRESET,
 * EPIPE or a refused connect, TIMEOUT after the idle time (RST sent).
 * Handles closed from a callback are freed at the end of the iteration. */
#ifndef TV_LIVEHOST_H
#define TV_LIVEHOST_H

#include "host.h"

#define LIVE_BATCH 32           /* datagrams per recvmmsg()/sendmmsg() */
#define LIVE_SLOT 2048          /* queued datagram size; larger ones go at once */

typedef struct live_loop live_loop;

typedef struct live_loop_stats {
	uint64_t wakeups;               /* epoll_wait() returns */
	uint64_t rx_calls, tx_calls;    /* recvmmsg()/sendmmsg()+sendmsg() calls */
	uint64_t rx, tx;                /* datagrams */
	uint64_t tx_errors;             /* datagrams the kernel refused (counted, dropped) */
	uint64_t rx_errors;             /* recvmmsg() errors other than EAGAIN (ICMP errors show here) */
	uint64_t rx_truncated;          /* datagrams over 65,535 bytes (cannot happen on IPv4) */
} live_loop_stats;

/* Returns NULL and sets *err (TV_ENOMEM, or -errno of epoll_create1). */
live_loop *live_loop_new(int *err);
/* Frees the loop; its hosts must be freed first. */
void live_loop_free(live_loop *lp);
/* The real clock: CLOCK_MONOTONIC in microseconds. */
tv_time live_loop_now(const live_loop *lp);
/* Run callbacks and timers until live_loop_stop() or until the clock
 * passes `until` (TV_NEVER: no limit). Returns 0, or a negative error from
 * epoll (EINTR is not one: a signal returns 0 only if it stopped the loop). */
int live_loop_run(live_loop *lp, tv_time until);
void live_loop_stop(live_loop *lp);
/* Run one iteration: wait at most `max_wait` for events or timers, handle
 * them, flush. For drivers that interleave the loop with their own work
 * (the simulator bridge). */
int live_loop_once(live_loop *lp, tv_time max_wait);
const live_loop_stats *live_loop_get_stats(const live_loop *lp);
/* Timers on the loop's queue, for drivers (the hosts use host_timer_*). */
void live_loop_timer_arm(live_loop *lp, tv_timer *t, tv_time when);
void live_loop_timer_cancel(live_loop *lp, tv_timer *t);
/* The earliest armed timer, TV_NEVER if none. */
tv_time live_loop_next_timer(const live_loop *lp);

/* Watch another descriptor (a control socket, a signalfd): fn runs with
 * the epoll events. Returns 0 or -errno. unwatch before closing fd. */
typedef void (*live_fd_fn)(void *arg, int fd, uint32_t events, tv_time now);
int live_loop_watch(live_loop *lp, int fd, uint32_t events, live_fd_fn fn, void *arg);
void live_loop_unwatch(live_loop *lp, int fd);
/* Change the events watched on fd. */
int live_loop_watch_mod(live_loop *lp, int fd, uint32_t events);

/* A live host with nips (1-4) local IPv4 addresses. A wildcard UDP bind
 * (address 0) binds the first address on a host with one, and INADDR_ANY
 * on a host with several (then sends from a given address use
 * IP_PKTINFO). TCP listeners listen on each address. Returns NULL and
 * sets *err (TV_EINVAL, TV_ENOMEM). */
tv_host *livehost_new(live_loop *lp, const char *name, const tv_ip *ips, int nips, int *err);
/* Whether h is a live host. */
bool livehost_is(const tv_host *h);
/* The descriptor of a live UDP socket (tests, benchmarks). */
int livehost_udp_fd(const tv_udp *s);

#endif
