/* host_ops.h - for implementers of a host (simhost.c, livehost.c), not for
 * the nodes that use one (they include host.h).
 *
 * A host is a struct tv_host at the start of the implementation's own
 * struct, with a table of operations. Every handle an implementation hands
 * out (tv_udp, tv_tcp, tv_tcp_listener) is its own struct whose first
 * member is a tv_host pointer to the host that made it: host.c reads it to
 * find the operations, and the implementation converts the handle back to
 * its own type. */
#ifndef TV_HOST_OPS_H
#define TV_HOST_OPS_H

#include "host.h"

typedef struct tv_host_ops {
	const char *kind;
	void (*free)(tv_host *h);
	const tv_ip *(*ip)(const tv_host *h);
	tv_time (*now)(const tv_host *h);
	tv_rng *(*rng)(tv_host *h);
	const tv_host_stats *(*stats)(const tv_host *h);
	void (*timer_arm)(tv_host *h, tv_timer *t, tv_time when);
	void (*timer_cancel)(tv_host *h, tv_timer *t);

	tv_udp *(*udp_bind)(tv_host *h, const tv_ep *local, tv_udp_rx_fn fn, void *arg, int *err);
	void (*udp_close)(tv_udp *s);
	tv_ep (*udp_local)(const tv_udp *s);
	/* src NULL: the socket's own address (host_udp_send) */
	int (*udp_send)(tv_udp *s, const tv_ip *src, const tv_ep *to, const void *data, size_t len);
	void (*udp_set_tos)(tv_udp *s, uint8_t tos);

	tv_tcp_listener *(*tcp_listen)(tv_host *h, uint16_t port, tv_tcp_accept_fn fn, void *arg, int *err);
	void (*tcp_unlisten)(tv_tcp_listener *l);
	/* src NULL: the host's first address */
	tv_tcp *(*tcp_connect)(tv_host *h, const tv_ip *src, uint16_t lport, const tv_ep *remote,
			       tv_tcp_fn fn, void *arg, int *err);
	void (*tcp_set_cb)(tv_tcp *c, tv_tcp_fn fn, void *arg);
	int (*tcp_send)(tv_tcp *c, const void *data, size_t len);
	void (*tcp_close)(tv_tcp *c);
	void (*tcp_abort)(tv_tcp *c);
	void (*tcp_set_idle)(tv_tcp *c, tv_time idle);
	tv_ep (*tcp_local)(const tv_tcp *c);
	tv_ep (*tcp_remote)(const tv_tcp *c);
	const char *(*tcp_state_name)(const tv_tcp *c);
} tv_host_ops;

struct tv_host {
	const tv_host_ops *ops;
	char name[32];
};

/* The host that made a handle (its first member). */
static inline tv_host *host_of(const void *handle) { return *(tv_host *const *)handle; }

#endif
