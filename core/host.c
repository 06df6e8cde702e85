/* host.c - the host API: each call goes to the operations of the host that
 * owns the handle (host_ops.h). Nothing here knows which world it is in. */
#include "host_ops.h"

void host_free(tv_host *h)
{
	if (h)
		h->ops->free(h);
}

const char *host_name(const tv_host *h) { return h->name; }
const char *host_kind(const tv_host *h) { return h->ops->kind; }
const tv_ip *host_ip(const tv_host *h) { return h->ops->ip(h); }
tv_time host_now(const tv_host *h) { return h->ops->now(h); }
tv_rng *host_rng(tv_host *h) { return h->ops->rng(h); }
const tv_host_stats *host_stats(const tv_host *h) { return h->ops->stats(h); }
void host_timer_arm(tv_host *h, tv_timer *t, tv_time when) { h->ops->timer_arm(h, t, when); }
void host_timer_cancel(tv_host *h, tv_timer *t) { h->ops->timer_cancel(h, t); }

tv_udp *host_udp_bind(tv_host *h, const tv_ep *local, tv_udp_rx_fn fn, void *arg, int *err)
{
	return h->ops->udp_bind(h, local, fn, arg, err);
}

void host_udp_close(tv_udp *s)
{
	if (s)
		host_of(s)->ops->udp_close(s);
}

tv_ep host_udp_local(const tv_udp *s) { return host_of(s)->ops->udp_local(s); }
tv_host *host_udp_host(const tv_udp *s) { return host_of(s); }

int host_udp_send(tv_udp *s, const tv_ep *to, const void *data, size_t len)
{
	return host_of(s)->ops->udp_send(s, NULL, to, data, len);
}

int host_udp_send_from(tv_udp *s, const tv_ip *src, const tv_ep *to, const void *data, size_t len)
{
	return host_of(s)->ops->udp_send(s, src, to, data, len);
}

void host_udp_set_tos(tv_udp *s, uint8_t tos) { host_of(s)->ops->udp_set_tos(s, tos); }

tv_tcp_listener *host_tcp_listen(tv_host *h, uint16_t port, tv_tcp_accept_fn fn, void *arg, int *err)
{
	return h->ops->tcp_listen(h, port, fn, arg, err);
}

void host_tcp_unlisten(tv_tcp_listener *l)
{
	if (l)
		host_of(l)->ops->tcp_unlisten(l);
}

tv_tcp *host_tcp_connect(tv_host *h, uint16_t lport, const tv_ep *remote, tv_tcp_fn fn, void *arg, int *err)
{
	return h->ops->tcp_connect(h, NULL, lport, remote, fn, arg, err);
}

tv_tcp *host_tcp_connect_from(tv_host *h, const tv_ip *src, uint16_t lport, const tv_ep *remote,
			      tv_tcp_fn fn, void *arg, int *err)
{
	return h->ops->tcp_connect(h, src, lport, remote, fn, arg, err);
}

void host_tcp_set_cb(tv_tcp *c, tv_tcp_fn fn, void *arg) { host_of(c)->ops->tcp_set_cb(c, fn, arg); }
int host_tcp_send(tv_tcp *c, const void *data, size_t len) { return host_of(c)->ops->tcp_send(c, data, len); }
void host_tcp_close(tv_tcp *c) { host_of(c)->ops->tcp_close(c); }
void host_tcp_abort(tv_tcp *c) { host_of(c)->ops->tcp_abort(c); }
void host_tcp_set_idle(tv_tcp *c, tv_time idle) { host_of(c)->ops->tcp_set_idle(c, idle); }
tv_ep host_tcp_local(const tv_tcp *c) { return host_of(c)->ops->tcp_local(c); }
tv_ep host_tcp_remote(const tv_tcp *c) { return host_of(c)->ops->tcp_remote(c); }
const char *host_tcp_state_name(const tv_tcp *c) { return host_of(c)->ops->tcp_state_name(c); }
