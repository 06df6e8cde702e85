/* metrics.c - see metrics.h. */
#include "metrics.h"
#include "json.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

struct tpd_metrics {
	live_loop *lp;
	proxy *px;
	struct MHD_Daemon *d;
	int epfd;
	tv_timer tick;          /* MHD's own timeouts */
};

/* "drop.rtp-foreign" -> name traverse_proxy_drops_total{reason="rtp-foreign"};
 * "ka-sent" -> traverse_proxy_ka_sent_total; gauges have no _total. */
char *tpd_metrics_text(const proxy *px, const live_loop *lp, size_t *len)
{
	const proxy_stats *s = proxy_get_stats(px);
	const live_loop_stats *ls = live_loop_get_stats(lp);
	jbuf j = { 0 };
	char nb[64], name[96];
	bool drops_typed = false;

	for (int i = 0; i < proxy_stat_count(); i++) {
		const char *n = proxy_stat_name(i, nb, sizeof(nb));
		unsigned long long v = (unsigned long long)proxy_stat_value(s, i);

		if (!strncmp(n, "drop.", 5)) {
			if (!drops_typed) {
				jb_raw(&j, "# HELP traverse_proxy_drops_total Messages and packets dropped, by reason.\n"
					   "# TYPE traverse_proxy_drops_total counter\n");
				drops_typed = true;
			}
			jb_fmt(&j, "traverse_proxy_drops_total{reason=\"%s\"} %llu\n", n + 5, v);
			continue;
		}
		snprintf(name, sizeof(name), "traverse_proxy_%s%s", n, proxy_stat_is_gauge(i) ? "" : "_total");
		for (char *p = name; *p; p++)
			if (*p == '-' || *p == '.')
				*p = '_';
		jb_fmt(&j, "# TYPE %s %s\n%s %llu\n", name, proxy_stat_is_gauge(i) ? "gauge" : "counter", name, v);
	}
	jb_fmt(&j, "# TYPE traverse_proxy_udp_rx_datagrams_total counter\ntraverse_proxy_udp_rx_datagrams_total %llu\n"
	       "# TYPE traverse_proxy_udp_tx_datagrams_total counter\ntraverse_proxy_udp_tx_datagrams_total %llu\n"
	       "# TYPE traverse_proxy_udp_tx_errors_total counter\ntraverse_proxy_udp_tx_errors_total %llu\n"
	       "# TYPE traverse_proxy_syscalls_total counter\n"
	       "traverse_proxy_syscalls_total{call=\"recvmmsg\"} %llu\ntraverse_proxy_syscalls_total{call=\"sendmmsg\"} %llu\n",
	       (unsigned long long)ls->rx, (unsigned long long)ls->tx, (unsigned long long)ls->tx_errors,
	       (unsigned long long)ls->rx_calls, (unsigned long long)ls->tx_calls);
	if (j.oom) {
		jb_free(&j);
		return NULL;
	}
	*len = j.len;
	return j.s;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **state)
{
	tpd_metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result rc;
	unsigned code = MHD_HTTP_OK;
	char *body;
	size_t len = 0;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		body = strdup("only GET\n");
		len = body ? strlen(body) : 0;
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics")) {
		body = strdup("not found: try /metrics\n");
		len = body ? strlen(body) : 0;
		code = MHD_HTTP_NOT_FOUND;
	} else {
		body = tpd_metrics_text(m->px, m->lp, &len);
	}
	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

static void on_ready(void *arg, int fd, uint32_t events, tv_time now)
{
	tpd_metrics *m = arg;

	(void)fd;
	(void)events;
	(void)now;
	MHD_run(m->d);
}

static void on_tick(tv_timer *t, tv_time now)
{
	tpd_metrics *m = t->arg;

	MHD_run(m->d);
	live_loop_timer_arm(m->lp, &m->tick, now + TV_SEC(1));
}

tpd_metrics *tpd_metrics_new(live_loop *lp, const tv_ep *addr, proxy *px, int *err)
{
	tpd_metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *di;

	if (!m) {
		*err = TV_ENOMEM;
		return NULL;
	}
	m->lp = lp;
	m->px = px;
	sin.sin_addr.s_addr = htonl(addr->ip.v4);
	sin.sin_port = htons(addr->port);
	m->d = MHD_start_daemon(MHD_USE_EPOLL, addr->port, NULL, NULL, answer, m,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	di = m->d ? MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!di || live_loop_watch(lp, di->epoll_fd, EPOLLIN, on_ready, m) < 0) {
		if (m->d)
			MHD_stop_daemon(m->d);
		free(m);
		*err = TV_EINVAL;
		return NULL;
	}
	m->epfd = di->epoll_fd;
	tv_timer_init(&m->tick, on_tick, m);
	live_loop_timer_arm(lp, &m->tick, live_loop_now(lp) + TV_SEC(1));
	*err = 0;
	return m;
}

void tpd_metrics_free(tpd_metrics *m)
{
	if (!m)
		return;
	live_loop_timer_cancel(m->lp, &m->tick);
	live_loop_unwatch(m->lp, m->epfd);
	MHD_stop_daemon(m->d);
	free(m);
}
