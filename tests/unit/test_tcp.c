/* test_tcp.c - the simulated host's TCP (core/tcp.c).
 *
 * Topology of every test:
 *
 *     host a 10.0.0.1 ----[ link "lan" ]---- host b 10.0.0.2
 *
 * b usually listens; a connects. The clock is virtual (sim_net_run_until).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define IP_A TH_IP_A
#define IP_B TH_IP_B
#define NEV 6

/* One end of a connection: what it saw, and what it does on events. */
struct side {
	tv_tcp *c;
	int ev[NEV];
	tv_time ev_at[NEV];
	uint8_t *rx;
	size_t rxlen, rxcap;
	/* behaviour */
	const uint8_t *tx;      /* sent on CONNECTED */
	size_t txlen;
	bool close_after_tx, echo, close_on_peer_closed, close_on_data, abort_on_data;
	bool abort_in_accept;
	struct side *close_other_on_end;  /* host_tcp_close(other->c) on a final event */
};

static void side_cb(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data,
		    size_t len, tv_time now)
{
	struct side *s = arg;

	cr_assert(ev < NEV);
	cr_assert(s->c == NULL || s->c == c);
	s->ev[ev]++;
	s->ev_at[ev] = now;
	switch (ev) {
	case TV_TCP_CONNECTED:
		s->c = c;
		if (s->tx)
			cr_assert_eq(host_tcp_send(c, s->tx, s->txlen), 0);
		if (s->close_after_tx)
			host_tcp_close(c);
		break;
	case TV_TCP_DATA:
		cr_assert_gt(len, 0);
		if (s->rxlen + len > s->rxcap) {
			s->rxcap = (s->rxlen + len) * 2;
			s->rx = realloc(s->rx, s->rxcap);
			cr_assert_not_null(s->rx);
		}
		memcpy(s->rx + s->rxlen, data, len);
		s->rxlen += len;
		if (s->echo)
			cr_assert_eq(host_tcp_send(c, data, len), 0);
		if (s->close_on_data)
			host_tcp_close(c);
		if (s->abort_on_data) {
			host_tcp_abort(c);
			s->c = NULL;
		}
		break;
	case TV_TCP_PEER_CLOSED:
		if (s->close_on_peer_closed)
			host_tcp_close(c);
		break;
	case TV_TCP_CLOSED:
	case TV_TCP_RESET:
	case TV_TCP_TIMEOUT:
		s->c = NULL;
		if (s->close_other_on_end && s->close_other_on_end->c)
			host_tcp_close(s->close_other_on_end->c);
		break;
	}
}

static void accept_cb(void *arg, tv_tcp *c, tv_time now)
{
	struct side *s = arg;

	(void)now;
	cr_assert_str_eq(host_tcp_state_name(c), "SYN_RCVD");
	if (s->abort_in_accept) {
		host_tcp_abort(c);
		return;
	}
	s->c = c;
	host_tcp_set_cb(c, side_cb, s);
}

static void side_free(struct side *s)
{
	free(s->rx);
}

/* b listens on port 7 with srv; a connects with cli. */
static tv_tcp_listener *start(th_world *w, struct side *cli, struct side *srv)
{
	tv_ep to = tv_ep4(IP_B, 7);
	int err = 1;
	tv_tcp_listener *l = host_tcp_listen(w->b, 7, accept_cb, srv, &err);
	tv_tcp *c;

	cr_assert_not_null(l);
	cr_assert_eq(err, 0);
	c = host_tcp_connect(w->a, 0, &to, side_cb, cli, &err);
	cr_assert_not_null(c);
	cr_assert_eq(err, 0);
	cr_assert_str_eq(host_tcp_state_name(c), "SYN_SENT");
	cli->c = c;
	return l;
}

Test(tcp, handshake_and_echo)
{
	th_world w;
	struct side cli = { .tx = (const uint8_t *)"hello", .txlen = 5 };
	struct side srv = { .echo = true };
	tv_ep ca, cb;

	th_world_init(&w, 1, NULL);
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_MS(100));
	cr_assert_eq(cli.ev[TV_TCP_CONNECTED], 1);
	cr_assert_eq(srv.ev[TV_TCP_CONNECTED], 1);
	/* SYN at 0, SYN-ACK at 5 ms, ACK at 10 ms */
	cr_assert_eq(cli.ev_at[TV_TCP_CONNECTED], TV_MS(10));
	cr_assert_eq(srv.ev_at[TV_TCP_CONNECTED], TV_MS(15));
	cr_assert_str_eq(host_tcp_state_name(cli.c), "ESTABLISHED");
	cr_assert_str_eq(host_tcp_state_name(srv.c), "ESTABLISHED");
	ca = host_tcp_local(cli.c);
	cb = host_tcp_remote(srv.c);
	cr_assert(tv_ep_eq(&ca, &cb));
	cr_assert_geq(ca.port, 49152);
	ca = host_tcp_remote(cli.c);
	cb = host_tcp_local(srv.c);
	cr_assert(tv_ep_eq(&ca, &cb));
	cr_assert_eq(cb.port, 7);
	cr_assert_eq(srv.rxlen, 5);
	cr_assert_eq(memcmp(srv.rx, "hello", 5), 0);
	cr_assert_eq(cli.rxlen, 5);
	cr_assert_eq(memcmp(cli.rx, "hello", 5), 0);

	/* server -> client without an echo */
	cr_assert_eq(host_tcp_send(srv.c, "world", 5), 0);
	sim_net_run_until(w.n, TV_MS(200));
	cr_assert_eq(cli.rxlen, 10);
	cr_assert_eq(memcmp(cli.rx, "helloworld", 10), 0);
	cr_assert_eq(srv.rxlen, 5);
	th_world_free(&w);
	side_free(&cli);
	side_free(&srv);
}

/* 100 KB over a bad link, client closes after sending, server closes on
 * the FIN. Returns when both ends are finished. */
#define BULK 100000
static void bulk_run(uint64_t seed, sim_link_stats *st, uint8_t **got, size_t *gotlen,
		     int *cli_end, int *srv_end)
{
	sim_link_cfg cfg = {
		.delay = TV_MS(10), .jitter = TV_MS(5), .loss = 0.2, .dup = 0.05,
		.reorder = 0.1, .reorder_delay = TV_MS(30),
	};
	th_world w;
	static uint8_t data[BULK];
	struct side cli = { .tx = data, .txlen = BULK, .close_after_tx = true };
	struct side srv = { .close_on_peer_closed = true };
	tv_rng r;

	tv_rng_seed(&r, 42);
	for (size_t i = 0; i < BULK; i++)
		data[i] = (uint8_t)tv_rng_next(&r);
	th_world_init(&w, seed, &cfg);
	start(&w, &cli, &srv);
	for (tv_time t = 0; t < TV_SEC(600) && (cli.c || srv.c); t += TV_SEC(1))
		sim_net_run_until(w.n, t);
	cr_assert_null(cli.c, "client still open: %s", cli.c ? host_tcp_state_name(cli.c) : "");
	cr_assert_null(srv.c, "server still open");
	cr_assert_eq(srv.ev[TV_TCP_CONNECTED], 1);
	cr_assert_eq(srv.ev[TV_TCP_PEER_CLOSED], 1);
	cr_assert_eq(srv.rxlen, BULK);
	cr_assert_eq(memcmp(srv.rx, data, BULK), 0, "stream corrupted");
	*st = *sim_link_stats_get(w.l);
	*cli_end = cli.ev[TV_TCP_CLOSED] ? TV_TCP_CLOSED : TV_TCP_RESET;
	*srv_end = srv.ev[TV_TCP_CLOSED] ? TV_TCP_CLOSED : TV_TCP_RESET;
	cr_assert_eq(cli.ev[TV_TCP_CLOSED] + cli.ev[TV_TCP_RESET], 1);
	cr_assert_eq(srv.ev[TV_TCP_CLOSED] + srv.ev[TV_TCP_RESET], 1);
	th_world_free(&w);
	side_free(&cli);
	*got = srv.rx;
	*gotlen = srv.rxlen;
}

Test(tcp, lossy_bulk_transfer)
{
	sim_link_stats st;
	uint8_t *got;
	size_t len;
	int ce, se;

	bulk_run(7, &st, &got, &len, &ce, &se);
	cr_assert_gt(st.lost, 0);
	cr_assert_gt(st.dup, 0);
	/* with go-back-N, far more than the 72 data segments went out */
	cr_assert_gt(st.tx, 150);
	free(got);
}

Test(tcp, determinism)
{
	sim_link_stats s1, s2, s3;
	uint8_t *g1, *g2, *g3;
	size_t l1, l2, l3;
	int c1, c2, c3, e1, e2, e3;

	bulk_run(11, &s1, &g1, &l1, &c1, &e1);
	bulk_run(11, &s2, &g2, &l2, &c2, &e2);
	bulk_run(12, &s3, &g3, &l3, &c3, &e3);
	cr_assert_eq(memcmp(&s1, &s2, sizeof(s1)), 0, "same seed, different link stats");
	cr_assert_eq(c1, c2);
	cr_assert_eq(e1, e2);
	cr_assert_neq(memcmp(&s1, &s3, sizeof(s1)), 0, "different seeds, same link stats");
	free(g1);
	free(g2);
	free(g3);
}

/* A clean link: the first flight is exactly 64 KiB - 1 of data (47
 * segments), all sent when the handshake completes at 10 ms, and nothing
 * more until the first ACK returns at 20 ms; then 100 KB arrive intact. */
Test(tcp, window_limits_flight)
{
	th_world w;
	static uint8_t data[BULK];
	struct side cli = { .tx = data, .txlen = BULK }, srv = { 0 };
	const sim_link_stats *st;

	for (size_t i = 0; i < BULK; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
	th_world_init(&w, 16, NULL);
	start(&w, &cli, &srv);
	st = sim_link_stats_get(w.l);
	sim_net_run_until(w.n, TV_MS(14));
	cr_assert_eq(st->tx, 2 + 47);
	cr_assert_eq(st->bytes, 2 * 40 + 47 * 40 + 65535);
	/* the server ACKs each segment at 15 ms; the client waits */
	sim_net_run_until(w.n, TV_MS(19));
	cr_assert_eq(st->tx, 2 + 47 + 47);
	sim_net_run_until(w.n, TV_SEC(1));
	cr_assert_eq(srv.rxlen, BULK);
	cr_assert_eq(memcmp(srv.rx, data, BULK), 0);
	th_world_free(&w);
	side_free(&srv);
}

/* Establish, send a little, then close from one side; the other closes
 * when it sees the FIN. */
static void close_test(bool client_closes)
{
	th_world w;
	struct side cli = { 0 }, srv = { 0 };
	struct side *act = client_closes ? &cli : &srv, *pas = client_closes ? &srv : &cli;
	tv_tcp *ac;

	th_world_init(&w, 3, NULL);
	pas->close_on_peer_closed = true;
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_MS(100));
	cr_assert_eq(cli.ev[TV_TCP_CONNECTED] + srv.ev[TV_TCP_CONNECTED], 2);
	ac = act->c;
	cr_assert_eq(host_tcp_send(ac, "bye", 3), 0);
	host_tcp_close(ac);
	cr_assert_str_eq(host_tcp_state_name(ac), "FIN_WAIT_1");
	cr_assert_eq(host_tcp_send(ac, "x", 1), TV_ESTATE);
	sim_net_run_until(w.n, TV_MS(200));
	/* the passive side saw data, FIN, closed, and got its FIN acked */
	cr_assert_eq(pas->rxlen, 3);
	cr_assert_eq(pas->ev[TV_TCP_PEER_CLOSED], 1);
	cr_assert_eq(pas->ev[TV_TCP_CLOSED], 1);
	cr_assert_eq(act->ev[TV_TCP_PEER_CLOSED], 1);
	cr_assert_eq(act->ev[TV_TCP_CLOSED], 0);
	cr_assert_str_eq(host_tcp_state_name(ac), "TIME_WAIT");
	sim_net_run_until(w.n, TV_SEC(3));
	cr_assert_eq(act->ev[TV_TCP_CLOSED], 1);
	cr_assert_geq(act->ev_at[TV_TCP_CLOSED] - TV_MS(100), TV_SEC(2));
	cr_assert_eq(cli.ev[TV_TCP_RESET] + srv.ev[TV_TCP_RESET], 0);
	cr_assert_null(cli.c);
	cr_assert_null(srv.c);
	th_world_free(&w);
	side_free(&cli);
	side_free(&srv);
}

Test(tcp, close_from_client) { close_test(true); }
Test(tcp, close_from_server) { close_test(false); }

Test(tcp, simultaneous_close)
{
	th_world w;
	struct side cli = { 0 }, srv = { 0 };

	th_world_init(&w, 4, NULL);
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_MS(100));
	host_tcp_close(cli.c);
	host_tcp_close(srv.c);
	sim_net_run_until(w.n, TV_MS(107));
	cr_assert_str_eq(host_tcp_state_name(cli.c), "CLOSING");
	sim_net_run_until(w.n, TV_MS(200));
	cr_assert_str_eq(host_tcp_state_name(cli.c), "TIME_WAIT");
	cr_assert_str_eq(host_tcp_state_name(srv.c), "TIME_WAIT");
	sim_net_run_until(w.n, TV_SEC(3));
	cr_assert_eq(cli.ev[TV_TCP_CLOSED], 1);
	cr_assert_eq(srv.ev[TV_TCP_CLOSED], 1);
	cr_assert_eq(cli.ev[TV_TCP_PEER_CLOSED], 1);
	cr_assert_eq(srv.ev[TV_TCP_PEER_CLOSED], 1);
	th_world_free(&w);
}

Test(tcp, connect_closed_port_resets)
{
	th_world w;
	struct side cli = { 0 };
	tv_ep to = tv_ep4(IP_B, 9);
	int err;

	th_world_init(&w, 5, NULL);
	cli.c = host_tcp_connect(w.a, 0, &to, side_cb, &cli, &err);
	cr_assert_not_null(cli.c);
	sim_net_run_until(w.n, TV_SEC(1));
	cr_assert_eq(cli.ev[TV_TCP_RESET], 1);
	cr_assert_eq(cli.ev_at[TV_TCP_RESET], TV_MS(10));
	cr_assert_eq(cli.ev[TV_TCP_CONNECTED], 0);
	cr_assert_null(cli.c);
	cr_assert_eq(host_stats(w.b)->rx_noport, 1);
	th_world_free(&w);
}

Test(tcp, idle_timeout)
{
	th_world w;
	struct side cli = { 0 }, srv = { 0 };

	th_world_init(&w, 6, NULL);
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_MS(100));
	host_tcp_set_idle(cli.c, TV_SEC(3));
	/* traffic at 2 s pushes the deadline out */
	sim_net_run_until(w.n, TV_SEC(2));
	cr_assert_eq(host_tcp_send(srv.c, "ping", 4), 0);
	sim_net_run_until(w.n, TV_SEC(4));
	cr_assert_eq(cli.ev[TV_TCP_TIMEOUT], 0);
	sim_net_run_until(w.n, TV_SEC(10));
	cr_assert_eq(cli.ev[TV_TCP_TIMEOUT], 1);
	/* the ping arrived at 2.005 s; the client's ACK left then too */
	cr_assert_eq(cli.ev_at[TV_TCP_TIMEOUT], TV_SEC(2) + TV_MS(5) + TV_SEC(3));
	cr_assert_eq(srv.ev[TV_TCP_RESET], 1);
	cr_assert_eq(srv.ev_at[TV_TCP_RESET], cli.ev_at[TV_TCP_TIMEOUT] + TV_MS(5));
	cr_assert_null(cli.c);
	cr_assert_null(srv.c);
	th_world_free(&w);
	side_free(&cli);
}

Test(tcp, retransmissions_exhausted)
{
	th_world w;
	struct side cli = { 0 }, srv = { 0 };
	sim_link_cfg dead = { .delay = TV_MS(5), .loss = 1.0 };

	th_world_init(&w, 8, NULL);
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_MS(100));
	sim_link_set_cfg(w.l, &dead);
	cr_assert_eq(host_tcp_send(cli.c, "lost", 4), 0);
	sim_net_run_until(w.n, TV_SEC(12));
	cr_assert_eq(cli.ev[TV_TCP_RESET], 0);
	sim_net_run_until(w.n, TV_SEC(30));
	cr_assert_eq(cli.ev[TV_TCP_RESET], 1);
	/* 0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 6.4 s */
	cr_assert_eq(cli.ev_at[TV_TCP_RESET], TV_MS(100) + TV_MS(12600));
	/* the server heard nothing and is freed by host_free */
	cr_assert_eq(srv.ev[TV_TCP_RESET], 0);
	cr_assert_str_eq(host_tcp_state_name(srv.c), "ESTABLISHED");
	th_world_free(&w);
}

Test(tcp, syn_to_dead_host_resets)
{
	th_world w;
	struct side cli = { 0 };
	tv_ep to = tv_ep4(0x0a000063, 80);   /* nobody */
	int err;

	th_world_init(&w, 9, NULL);
	cli.c = host_tcp_connect(w.a, 0, &to, side_cb, &cli, &err);
	cr_assert_not_null(cli.c);
	sim_net_run_until(w.n, TV_SEC(30));
	cr_assert_eq(cli.ev[TV_TCP_RESET], 1);
	cr_assert_eq(cli.ev_at[TV_TCP_RESET], TV_MS(12600));
	th_world_free(&w);
}

Test(tcp, abort_inside_data_callback)
{
	th_world w;
	struct side cli = { .tx = (const uint8_t *)"x", .txlen = 1 };
	struct side srv = { .abort_on_data = true };

	th_world_init(&w, 10, NULL);
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_SEC(1));
	cr_assert_eq(srv.ev[TV_TCP_DATA], 1);
	cr_assert_eq(srv.ev[TV_TCP_RESET] + srv.ev[TV_TCP_CLOSED], 0);
	cr_assert_eq(cli.ev[TV_TCP_RESET], 1);
	cr_assert_null(cli.c);
	th_world_free(&w);
	side_free(&cli);
	side_free(&srv);
}

Test(tcp, close_inside_data_callback)
{
	th_world w;
	struct side cli = { .tx = (const uint8_t *)"abc", .txlen = 3, .close_on_peer_closed = true };
	struct side srv = { .echo = true, .close_on_data = true };

	th_world_init(&w, 11, NULL);
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_SEC(5));
	cr_assert_eq(cli.rxlen, 3);
	cr_assert_eq(memcmp(cli.rx, "abc", 3), 0);
	cr_assert_eq(cli.ev[TV_TCP_CLOSED], 1);
	cr_assert_eq(srv.ev[TV_TCP_CLOSED], 1);
	th_world_free(&w);
	side_free(&cli);
	side_free(&srv);
}

Test(tcp, reject_in_accept)
{
	th_world w;
	struct side cli = { 0 }, srv = { .abort_in_accept = true };

	th_world_init(&w, 12, NULL);
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_SEC(1));
	cr_assert_eq(cli.ev[TV_TCP_RESET], 1);
	cr_assert_eq(cli.ev[TV_TCP_CONNECTED], 0);
	cr_assert_null(srv.c);
	th_world_free(&w);
}

/* A final callback on one connection closes another one. */
Test(tcp, final_callback_closes_other)
{
	th_world w;
	struct side cli = { 0 }, srv = { .close_on_peer_closed = true }, doomed = { 0 };
	tv_ep to = tv_ep4(IP_B, 9);
	int err;

	th_world_init(&w, 13, NULL);
	start(&w, &cli, &srv);
	sim_net_run_until(w.n, TV_MS(100));
	doomed.close_other_on_end = &cli;
	doomed.c = host_tcp_connect(w.a, 0, &to, side_cb, &doomed, &err);
	cr_assert_not_null(doomed.c);
	sim_net_run_until(w.n, TV_SEC(5));
	cr_assert_eq(doomed.ev[TV_TCP_RESET], 1);
	cr_assert_eq(cli.ev[TV_TCP_CLOSED], 1);
	cr_assert_eq(srv.ev[TV_TCP_CLOSED], 1);
	th_world_free(&w);
}

/* Data and close queued before the handshake completes go out after it. */
Test(tcp, send_and_close_before_connected)
{
	th_world w;
	struct side cli = { .close_on_peer_closed = true }, srv = { .close_on_peer_closed = true };

	th_world_init(&w, 14, NULL);
	start(&w, &cli, &srv);
	cr_assert_eq(host_tcp_send(cli.c, "early", 5), 0);
	host_tcp_close(cli.c);
	cr_assert_str_eq(host_tcp_state_name(cli.c), "SYN_SENT");
	sim_net_run_until(w.n, TV_SEC(5));
	cr_assert_eq(srv.rxlen, 5);
	cr_assert_eq(memcmp(srv.rx, "early", 5), 0);
	cr_assert_eq(cli.ev[TV_TCP_CONNECTED], 1);
	cr_assert_eq(cli.ev[TV_TCP_CLOSED], 1);
	cr_assert_eq(srv.ev[TV_TCP_CLOSED], 1);
	th_world_free(&w);
	side_free(&srv);
}

Test(tcp, ports_and_errors)
{
	th_world w;
	struct side s1 = { 0 }, s2 = { 0 }, s3 = { 0 }, srv = { 0 };
	tv_ep to = tv_ep4(IP_B, 7), bad = tv_ep4(IP_B, 0);
	tv_tcp_listener *l;
	tv_tcp *c1, *c2, *c3;
	tv_ep e1, e2;
	int err;

	th_world_init(&w, 15, NULL);
	l = host_tcp_listen(w.b, 7, accept_cb, &srv, &err);
	cr_assert_not_null(l);
	cr_assert_null(host_tcp_listen(w.b, 7, accept_cb, &srv, &err));
	cr_assert_eq(err, TV_EEXIST);
	cr_assert_null(host_tcp_listen(w.b, 0, accept_cb, &srv, &err));
	cr_assert_eq(err, TV_EINVAL);
	cr_assert_null(host_tcp_connect(w.a, 0, &bad, side_cb, &s1, &err));
	cr_assert_eq(err, TV_EINVAL);

	c1 = host_tcp_connect(w.a, 0, &to, side_cb, &s1, &err);
	c2 = host_tcp_connect(w.a, 0, &to, side_cb, &s2, &err);
	cr_assert_not_null(c1);
	cr_assert_not_null(c2);
	e1 = host_tcp_local(c1);
	e2 = host_tcp_local(c2);
	cr_assert_eq(e1.port, 49152);
	cr_assert_eq(e2.port, 49153);
	c3 = host_tcp_connect(w.a, 5000, &to, side_cb, &s3, &err);
	cr_assert_not_null(c3);
	cr_assert_null(host_tcp_connect(w.a, 5000, &to, side_cb, &s3, &err));
	cr_assert_eq(err, TV_EEXIST);
	/* the ephemeral allocator skips a port taken explicitly, whatever
	 * the remote */
	to.port = 8;
	cr_assert_not_null(host_tcp_connect(w.a, 49154, &to, side_cb, &s3, &err));
	c3 = host_tcp_connect(w.a, 0, &to, side_cb, &s3, &err);
	cr_assert_not_null(c3);
	e1 = host_tcp_local(c3);
	cr_assert_eq(e1.port, 49155);
	host_tcp_abort(c3);
	host_tcp_unlisten(l);
	l = host_tcp_listen(w.b, 7, accept_cb, &srv, &err);
	cr_assert_not_null(l);
	/* nothing ran: everything still open is freed by host_free */
	th_world_free(&w);
}
