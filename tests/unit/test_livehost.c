/* test_livehost.c - the live host (core/livehost.c) on real loopback
 * sockets: the host API's contract, as the simulated host keeps it.
 *
 *     host a 127.0.0.1 ---- loopback ---- host b 127.0.0.2 (+127.0.0.3)
 *
 * Ports are the kernel's ephemeral ones, so tests may run in parallel.
 * Every loop is bounded by a deadline a few seconds out; nothing asserts
 * how long anything took. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "livehost.h"

static tv_ip ip4(const char *s)
{
	tv_ip ip;

	cr_assert_eq(tv_ip_parse(s, &ip), 0);
	return ip;
}

struct world {
	live_loop *lp;
	tv_host *a, *b;
};

static void world_up(struct world *w, bool b_two_ips)
{
	tv_ip ia = ip4("127.0.0.1"), ib[2] = { ip4("127.0.0.2"), ip4("127.0.0.3") };
	int err;

	w->lp = live_loop_new(&err);
	cr_assert_not_null(w->lp, "loop: %d", err);
	w->a = livehost_new(w->lp, "a", &ia, 1, &err);
	w->b = livehost_new(w->lp, "b", ib, b_two_ips ? 2 : 1, &err);
	cr_assert(w->a && w->b);
	cr_assert_str_eq(host_kind(w->a), "live");
}

static void world_down(struct world *w)
{
	host_free(w->a);
	host_free(w->b);
	live_loop_free(w->lp);
}

/* Run until *flag or 5 s. */
static void run_until(struct world *w, const bool *flag)
{
	tv_time end = live_loop_now(w->lp) + TV_SEC(5);

	while (!*flag && live_loop_now(w->lp) < end)
		cr_assert_eq(live_loop_once(w->lp, TV_MS(50)), 0);
}

struct rx {
	int n, close_at;
	size_t last_len;
	uint32_t next_seq;
	bool in_order, done;
	int want;
	tv_ep from;
	tv_time last_now;
};

static void on_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *d, size_t len, tv_time now)
{
	struct rx *r = arg;
	uint32_t seq = 0;

	if (len >= 4)
		memcpy(&seq, d, 4);
	if (seq != r->next_seq)
		r->in_order = false;
	r->next_seq = seq + 1;
	r->n++;
	r->last_len = len;
	r->from = *from;
	cr_assert_geq(now, r->last_now, "time goes forward");
	r->last_now = now;
	if (r->n == r->close_at)
		host_udp_close(s);      /* from inside its own callback */
	if (r->n >= r->want)
		r->done = true;
}

Test(livehost, udp_batch_in_order_with_source)
{
	struct world w;
	struct rx r = { .in_order = true, .want = 500 };
	tv_udp *sa, *sb;
	tv_ep to;
	int err;
	uint8_t buf[172] = { 0 };

	world_up(&w, false);
	sa = host_udp_bind(w.a, NULL, on_rx, NULL, &err);
	sb = host_udp_bind(w.b, NULL, on_rx, &r, &err);
	cr_assert(sa && sb);
	to = host_udp_local(sb);
	cr_assert_eq(to.ip.v4, 0x7f000002);
	cr_assert_neq(to.port, 0);
	/* more than the transmit queue and the receive batch hold */
	for (uint32_t i = 0; i < 500; i++) {
		memcpy(buf, &i, 4);
		cr_assert_eq(host_udp_send(sa, &to, buf, sizeof(buf)), 0);
		if (i % 100 == 99)
			live_loop_once(w.lp, 0);
	}
	run_until(&w, &r.done);
	cr_assert_eq(r.n, 500);
	cr_assert(r.in_order);
	cr_assert_eq(r.last_len, sizeof(buf));
	cr_assert(tv_ep_eq(&r.from, &(tv_ep){ host_udp_local(sa).ip, host_udp_local(sa).port }));
	cr_assert_geq(live_loop_get_stats(w.lp)->tx, 500);
	cr_assert_lt(live_loop_get_stats(w.lp)->tx_calls, 500, "sendmmsg batches");
	host_udp_close(sa);
	host_udp_close(sb);
	world_down(&w);
}

Test(livehost, big_datagram_whole_or_refused)
{
	struct world w;
	struct rx r = { .in_order = true, .want = 1 };
	tv_udp *sa, *sb;
	tv_ep to;
	uint8_t *big = calloc(1, 65508);
	int err;

	world_up(&w, false);
	sa = host_udp_bind(w.a, NULL, on_rx, NULL, &err);
	sb = host_udp_bind(w.b, NULL, on_rx, &r, &err);
	to = host_udp_local(sb);
	cr_assert_eq(host_udp_send(sa, &to, big, 65508), TV_EMSGSIZE);
	cr_assert_eq(host_udp_send(sa, &to, big, 65507), 0);
	run_until(&w, &r.done);
	cr_assert_eq(r.last_len, 65507);
	host_udp_close(sa);
	host_udp_close(sb);
	free(big);
	world_down(&w);
}

Test(livehost, bind_rules)
{
	struct world w;
	tv_udp *s1, *s2;
	tv_ep ep;
	int err;

	world_up(&w, false);
	s1 = host_udp_bind(w.a, NULL, on_rx, NULL, &err);
	cr_assert_not_null(s1);
	ep = host_udp_local(s1);
	s2 = host_udp_bind(w.a, &ep, on_rx, NULL, &err);
	cr_assert_null(s2);
	cr_assert_eq(err, TV_EEXIST);
	ep.ip = ip4("127.0.0.9");       /* not the host's */
	cr_assert_null(host_udp_bind(w.a, &ep, on_rx, NULL, &err));
	cr_assert_eq(err, TV_EINVAL);
	host_udp_close(s1);
	world_down(&w);
}

Test(livehost, close_inside_callback)
{
	struct world w;
	struct rx r = { .in_order = true, .want = 1000, .close_at = 3 };
	tv_udp *sa, *sb;
	tv_ep to;
	uint8_t buf[20] = { 0 };
	int err;
	bool never = false;

	world_up(&w, false);
	sa = host_udp_bind(w.a, NULL, on_rx, NULL, &err);
	sb = host_udp_bind(w.b, NULL, on_rx, &r, &err);
	to = host_udp_local(sb);
	for (int i = 0; i < 40; i++)
		host_udp_send(sa, &to, buf, sizeof(buf));
	live_loop_once(w.lp, 0);
	for (int i = 0; i < 5; i++)
		live_loop_once(w.lp, TV_MS(10));
	(void)never;
	cr_assert_eq(r.n, 3, "no datagram after the close (got %d)", r.n);
	host_udp_close(sa);
	world_down(&w);
}

Test(livehost, multihomed_wildcard_sends_from_chosen_address)
{
	struct world w;
	struct rx r = { .in_order = true, .want = 2 };
	tv_udp *sa, *sb;
	tv_ep to;
	tv_ip src = ip4("127.0.0.3");
	uint8_t buf[8] = { 0 };
	int err;

	world_up(&w, true);
	sa = host_udp_bind(w.a, NULL, on_rx, &r, &err);
	sb = host_udp_bind(w.b, NULL, on_rx, NULL, &err);       /* INADDR_ANY */
	cr_assert_not_null(sb);
	to = host_udp_local(sa);
	cr_assert_eq(host_udp_send_from(sb, &src, &to, buf, sizeof(buf)), 0);
	r.want = 1;
	run_until(&w, &r.done);
	cr_assert_eq(r.from.ip.v4, 0x7f000003);
	cr_assert_eq(r.from.port, host_udp_local(sb).port);
	host_udp_close(sa);
	host_udp_close(sb);
	world_down(&w);
}

Test(livehost, tos_is_set_on_the_socket)
{
	struct world w;
	tv_udp *s;
	int err, v = 0;
	socklen_t l = sizeof(v);

	world_up(&w, false);
	s = host_udp_bind(w.a, NULL, on_rx, NULL, &err);
	host_udp_set_tos(s, 0xb8);      /* EF */
	cr_assert_eq(getsockopt(livehost_udp_fd(s), IPPROTO_IP, IP_TOS, &v, &l), 0);
	cr_assert_eq(v, 0xb8);
	host_udp_close(s);
	world_down(&w);
}

struct tfire {
	int n;
	tv_time at[3], when[3];
	bool done;
};

static void on_timer(tv_timer *t, tv_time now)
{
	struct tfire *f = t->arg;

	f->at[f->n] = now;
	f->when[f->n] = t->when;
	if (++f->n == 3)
		f->done = true;
}

Test(livehost, timers_fire_in_order_not_early)
{
	struct world w;
	struct tfire f = { 0 };
	tv_timer t[3];
	tv_time now;

	world_up(&w, false);
	now = host_now(w.a);
	for (int i = 0; i < 3; i++)
		tv_timer_init(&t[i], on_timer, &f);
	host_timer_arm(w.a, &t[2], now + TV_MS(30));
	host_timer_arm(w.b, &t[0], now + TV_MS(10));
	host_timer_arm(w.a, &t[1], now + TV_MS(20));
	run_until(&w, &f.done);
	cr_assert_eq(f.n, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_geq(f.at[i], f.when[i], "timer %d fired early", i);
	cr_assert(f.when[0] < f.when[1] && f.when[1] < f.when[2]);
	world_down(&w);
}

/* TCP: b listens, a connects and sends 1 MiB, b echoes the byte count by
 * closing after reading all; both ends see CLOSED. */
struct tside {
	tv_tcp *c;
	size_t got, sent_total;
	int ev[6];
	bool close_when_all, echo;
	size_t want;
};

static void tcb(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *d, size_t len, tv_time now)
{
	struct tside *s = arg;

	(void)now;
	(void)d;
	s->ev[ev]++;
	if (ev == TV_TCP_DATA) {
		s->got += len;
		if (s->close_when_all && s->got == s->want)
			host_tcp_close(c);
	}
	if (ev == TV_TCP_PEER_CLOSED)
		host_tcp_close(c);
}

static struct tside srv;

static void on_accept(void *arg, tv_tcp *c, tv_time now)
{
	(void)arg;
	(void)now;
	srv.c = c;
	host_tcp_set_cb(c, tcb, &srv);
}

Test(livehost, tcp_bulk_and_orderly_close)
{
	struct world w;
	struct tside cli = { 0 };
	tv_tcp_listener *l;
	tv_tcp *c;
	size_t total = 1 << 20;
	uint8_t *data = calloc(1, total);
	bool both = false;
	tv_time end;
	int err;
	uint16_t port;

	memset(&srv, 0, sizeof(srv));
	srv.want = total;
	srv.close_when_all = true;
	world_up(&w, false);
	/* find a free port: bind UDP ephemeral, reuse its number for TCP */
	{
		tv_udp *u = host_udp_bind(w.b, NULL, on_rx, NULL, &err);
		port = host_udp_local(u).port;
		host_udp_close(u);
	}
	l = host_tcp_listen(w.b, port, on_accept, NULL, &err);
	cr_assert_not_null(l, "listen: %d", err);
	c = host_tcp_connect(w.a, 0, &(tv_ep){ ip4("127.0.0.2"), port }, tcb, &cli, &err);
	cr_assert_not_null(c, "connect: %d", err);
	cr_assert_eq(host_tcp_send(c, data, total), 0, "queued before connected");
	cr_assert_str_eq(host_tcp_state_name(c), "SYN_SENT");
	end = live_loop_now(w.lp) + TV_SEC(5);
	while (!both && live_loop_now(w.lp) < end) {
		live_loop_once(w.lp, TV_MS(50));
		both = cli.ev[TV_TCP_CLOSED] && srv.ev[TV_TCP_CLOSED];
	}
	cr_assert_eq(srv.got, total);
	cr_assert_eq(cli.ev[TV_TCP_CONNECTED], 1);
	cr_assert_eq(srv.ev[TV_TCP_CONNECTED], 1);
	cr_assert_eq(cli.ev[TV_TCP_PEER_CLOSED], 1);
	cr_assert(both, "both ends closed (cli %d srv %d)", cli.ev[TV_TCP_CLOSED], srv.ev[TV_TCP_CLOSED]);
	cr_assert_eq(cli.ev[TV_TCP_RESET] + srv.ev[TV_TCP_RESET], 0);
	host_tcp_unlisten(l);
	live_loop_once(w.lp, 0);
	free(data);
	world_down(&w);
}

Test(livehost, tcp_refused_is_reset)
{
	struct world w;
	struct tside cli = { 0 };
	tv_udp *u;
	uint16_t port;
	int err;
	bool done = false;
	tv_time end;

	world_up(&w, false);
	u = host_udp_bind(w.b, NULL, on_rx, NULL, &err);
	port = host_udp_local(u).port;  /* nothing listens on it for TCP */
	host_udp_close(u);
	cr_assert_not_null(host_tcp_connect(w.a, 0, &(tv_ep){ ip4("127.0.0.2"), port }, tcb, &cli, &err));
	end = live_loop_now(w.lp) + TV_SEC(5);
	while (!done && live_loop_now(w.lp) < end) {
		live_loop_once(w.lp, TV_MS(50));
		done = cli.ev[TV_TCP_RESET] > 0;
	}
	cr_assert_eq(cli.ev[TV_TCP_RESET], 1);
	cr_assert_eq(cli.ev[TV_TCP_CONNECTED], 0);
	world_down(&w);
}

Test(livehost, tcp_idle_timeout)
{
	struct world w;
	struct tside cli = { 0 };
	tv_tcp_listener *l;
	tv_tcp *c;
	tv_udp *u;
	uint16_t port;
	int err;
	tv_time end;

	memset(&srv, 0, sizeof(srv));
	world_up(&w, false);
	u = host_udp_bind(w.b, NULL, on_rx, NULL, &err);
	port = host_udp_local(u).port;
	host_udp_close(u);
	l = host_tcp_listen(w.b, port, on_accept, NULL, &err);
	c = host_tcp_connect(w.a, 0, &(tv_ep){ ip4("127.0.0.2"), port }, tcb, &cli, &err);
	host_tcp_set_idle(c, TV_MS(50));
	end = live_loop_now(w.lp) + TV_SEC(5);
	while (!(cli.ev[TV_TCP_TIMEOUT] && srv.ev[TV_TCP_RESET]) && live_loop_now(w.lp) < end)
		live_loop_once(w.lp, TV_MS(20));
	cr_assert_eq(cli.ev[TV_TCP_TIMEOUT], 1);
	cr_assert_eq(srv.ev[TV_TCP_RESET], 1, "the peer saw the RST");
	host_tcp_unlisten(l);
	live_loop_once(w.lp, 0);
	world_down(&w);
}
