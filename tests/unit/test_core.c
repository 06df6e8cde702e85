/* test_core.c - packets, checksums, maps, timers, parsing of addresses
 * and durations. Random tests use fixed seeds. */
#include <criterion/criterion.h>
#include <string.h>

#include "map.h"
#include "pkt.h"
#include "rng.h"
#include "timerq.h"
#include "tv.h"
#include "harness.h"

Test(pkt, udp_build_matches_reference_and_parses)
{
	uint8_t buf[PKT_IP_MAX];
	tv_ep s = tv_ep4(0xc0a8010a, 5060), d = tv_ep4(0xc6336401, 3478);
	tv_rng r;

	tv_rng_seed(&r, 1);
	for (int len = 0; len < 300; len++) {
		uint8_t payload[300];
		pkt_info pi;
		for (int i = 0; i < len; i++)
			payload[i] = (uint8_t)tv_rng_next(&r);
		int n = pkt_build_udp(buf, sizeof(buf), &s, &d, (uint16_t)len, payload, (size_t)len);
		cr_assert_eq(n, 28 + len);
		cr_assert_eq(th_ref_csum(buf, 20), 0, "IP header checksum");
		cr_assert_eq(th_ref_l4_csum(buf, TV_PROTO_UDP), 0, "UDP checksum, len %d", len);
		cr_assert_eq(pkt_parse(buf, (size_t)n, &pi), 0);
		cr_assert(tv_ep_eq(&pi.src, &s) && tv_ep_eq(&pi.dst, &d));
		cr_assert_eq(pi.data_len, len);
		cr_assert_eq(memcmp(buf + pi.data_off, payload, (size_t)len), 0);
	}
}

Test(pkt, tcp_build_matches_reference)
{
	uint8_t buf[PKT_IP_MAX];
	tv_ep s = tv_ep4(0x0a000001, 40000), d = tv_ep4(0x0a000002, 80);
	pkt_info pi;
	int n = pkt_build_tcp(buf, sizeof(buf), &s, &d, 7, TCP_SYN | TCP_ACK, 1000, 2000, 65535, "abc", 3);

	cr_assert_eq(th_ref_l4_csum(buf, TV_PROTO_TCP), 0);
	cr_assert_eq(pkt_parse(buf, (size_t)n, &pi), 0);
	cr_assert_eq(pi.tcp_flags, TCP_SYN | TCP_ACK);
	cr_assert_eq(pi.tcp_seq, 1000);
	cr_assert_eq(pi.tcp_ack, 2000);
	cr_assert_eq(pi.data_len, 3);
}

Test(pkt, incremental_rewrite_equals_full_recompute)
{
	tv_rng r;

	tv_rng_seed(&r, 2);
	for (int i = 0; i < 20000; i++) {
		uint8_t buf[PKT_IP_MAX];
		pkt_info pi;
		tv_ep s = tv_ep4((uint32_t)tv_rng_next(&r), (uint16_t)tv_rng_next(&r));
		tv_ep d = tv_ep4((uint32_t)tv_rng_next(&r), (uint16_t)tv_rng_next(&r));
		tv_ep ns = tv_ep4((uint32_t)tv_rng_next(&r), (uint16_t)tv_rng_next(&r));
		size_t len = tv_rng_below(&r, 64);
		uint8_t data[64];
		bool tcp = tv_rng_below(&r, 2);
		int n;

		for (size_t k = 0; k < len; k++)
			data[k] = (uint8_t)tv_rng_next(&r);
		n = tcp ? pkt_build_tcp(buf, sizeof(buf), &s, &d, 1, TCP_ACK, 1, 2, 3, data, len)
			: pkt_build_udp(buf, sizeof(buf), &s, &d, 1, data, len);
		cr_assert_eq(pkt_parse(buf, (size_t)n, &pi), 0);
		if (tv_rng_below(&r, 2))
			pkt_rewrite_src(buf, &pi, &ns);
		else
			pkt_rewrite_dst(buf, &pi, &ns);
		cr_assert_eq(th_ref_csum(buf, 20), 0, "IP checksum after rewrite %d", i);
		cr_assert_eq(th_ref_l4_csum(buf, tcp ? TV_PROTO_TCP : TV_PROTO_UDP), 0, "L4 checksum after rewrite %d", i);
		cr_assert_eq(pkt_parse(buf, (size_t)n, &pi), 0);
	}
}

Test(pkt, parse_rejects_every_truncation_and_corruption)
{
	uint8_t buf[PKT_IP_MAX], copy[PKT_IP_MAX];
	tv_ep s = tv_ep4(1, 2), d = tv_ep4(3, 4);
	pkt_info pi;
	int n = pkt_build_udp(buf, sizeof(buf), &s, &d, 1, "hello world", 11);

	for (int len = 0; len < n; len++)
		cr_assert_lt(pkt_parse(buf, (size_t)len, &pi), 0, "truncated to %d", len);
	for (int i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, buf, (size_t)n);
			copy[i] ^= (uint8_t)(1 << bit);
			/* Any single bit flip breaks a checksum or a length, or
			 * (TTL/ID/ToS) is caught by the IP header checksum. */
			cr_assert_lt(pkt_parse(copy, (size_t)n, &pi), 0, "byte %d bit %d", i, bit);
		}
	}
}

Test(pkt, icmp_error_quotes_original)
{
	uint8_t orig[PKT_IP_MAX], buf[PKT_IP_MAX];
	tv_ep s = tv_ep4(0x0a000001, 5000), d = tv_ep4(0x0a000002, 9);
	tv_ip me = tv_ip4(0x0a000002);
	pkt_info pi;
	int n = pkt_build_udp(orig, sizeof(orig), &s, &d, 1, "0123456789abcdef", 16);
	int m = pkt_build_icmp_error(buf, sizeof(buf), &me, 9, ICMP_UNREACH, 3, orig, (size_t)n);

	cr_assert_eq(m, 20 + 8 + 28);
	cr_assert_eq(pkt_parse(buf, (size_t)m, &pi), 0);
	cr_assert_eq(pi.icmp_type, ICMP_UNREACH);
	cr_assert_eq(pi.dst.ip.v4, 0x0a000001);
	cr_assert_eq(memcmp(buf + pi.data_off, orig, 28), 0);
}

Test(map, agrees_with_array_model)
{
	enum { K = 512 };
	static void *model[K];
	tv_map m;
	tv_rng r;

	tv_map_init(&m);
	tv_rng_seed(&r, 3);
	memset(model, 0, sizeof(model));
	for (int i = 0; i < 200000; i++) {
		uint64_t k = tv_rng_below(&r, K);
		void *v = (void *)(uintptr_t)(i + 1);
		switch (tv_rng_below(&r, 3)) {
		case 0:
			cr_assert_eq(tv_map_put(&m, k * 0x10001, v), 0);
			model[k] = v;
			break;
		case 1:
			cr_assert_eq(tv_map_del(&m, k * 0x10001), model[k]);
			model[k] = NULL;
			break;
		default:
			cr_assert_eq(tv_map_get(&m, k * 0x10001), model[k], "op %d key %llu", i, (unsigned long long)k);
		}
	}
	size_t n = 0;
	for (int k = 0; k < K; k++) {
		n += model[k] != NULL;
		cr_assert_eq(tv_map_get(&m, (uint64_t)k * 0x10001), model[k]);
	}
	cr_assert_eq(m.n, n);
	tv_map_free(&m);
}

static int fired[64], nfired;

static void on_fire(tv_timer *t, tv_time now)
{
	(void)now;
	fired[nfired++] = (int)(intptr_t)t->arg;
}

Test(timerq, fires_in_deadline_then_arm_order_with_cancel_and_rearm)
{
	tv_timerq q;
	tv_timer t[64];
	tv_time when[64];
	bool live[64];
	tv_rng r;

	tv_timerq_init(&q);
	tv_rng_seed(&r, 4);
	nfired = 0;
	for (int i = 0; i < 64; i++) {
		tv_timer_init(&t[i], on_fire, (void *)(intptr_t)i);
		when[i] = tv_rng_below(&r, 10);        /* many ties */
		tv_timerq_arm(&q, &t[i], when[i]);
		live[i] = true;
	}
	for (int i = 0; i < 64; i += 5) {
		tv_timerq_cancel(&q, &t[i]);
		live[i] = false;
	}
	for (int i = 1; i < 64; i += 7) {      /* re-arm moves to the back of its tie group */
		when[i] = tv_rng_below(&r, 10);
		tv_timerq_arm(&q, &t[i], when[i]);
		live[i] = true;
	}
	tv_timer *x;
	while ((x = tv_timerq_pop_due(&q, 100)) != NULL)
		x->fn(x, x->when);
	int expect = 0;
	for (int i = 0; i < 64; i++)
		expect += live[i];
	cr_assert_eq(nfired, expect);
	for (int k = 1; k < nfired; k++) {
		int a = fired[k - 1], b = fired[k];
		cr_assert(when[a] < when[b] || (when[a] == when[b] && t[a].seq < t[b].seq), "order at %d", k);
	}
	tv_timerq_free(&q);
}

Test(parse, durations)
{
	static const struct { const char *s; tv_time v; } ok[] = {
		{ "30s", TV_SEC(30) }, { "250ms", TV_MS(250) }, { "2h", TV_SEC(7200) }, { "4min", TV_SEC(240) },
		{ "2h4min", TV_SEC(7440) }, { "1.5s", TV_MS(1500) }, { "10us", 10 }, { "30", TV_SEC(30) },
		{ "1m30s", TV_SEC(90) }, { "0s", 0 },
	};
	static const char *const bad[] = { "", "s", "10parsecs", "-1s", "1s2", "abc", "1 s", "5x" };
	tv_time t;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(tv_time_parse(ok[i].s, &t), 0, "%s", ok[i].s);
		cr_assert_eq(t, ok[i].v, "%s", ok[i].s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_lt(tv_time_parse(bad[i], &t), 0, "'%s' should not parse", bad[i]);
}

Test(parse, endpoints)
{
	tv_ep ep;
	char buf[TV_EP_STRLEN];

	cr_assert_eq(tv_ep_parse("192.168.1.10:5060", &ep, false), 0);
	cr_assert_str_eq(tv_ep_fmt(&ep, buf), "192.168.1.10:5060");
	cr_assert_lt(tv_ep_parse("192.168.1.10", &ep, false), 0);
	cr_assert_eq(tv_ep_parse("192.168.1.10", &ep, true), 0);
	cr_assert_lt(tv_ep_parse("192.168.1.10:70000", &ep, false), 0);
	cr_assert_lt(tv_ep_parse("192.168.1:5", &ep, false), 0);
	cr_assert_lt(tv_ep_parse(":5", &ep, false), 0);
	cr_assert_lt(tv_ep_parse("1.2.3.4:", &ep, false), 0);
}

static void drop_rx(void *arg, tv_udp *s, const tv_ep *f, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg; (void)s; (void)f; (void)d; (void)len; (void)now;
}

/* Freeing a network with packets still in flight releases them without
 * touching freed memory (the timer queue goes first; ASan checks). */
Test(simnet, free_with_packets_in_flight)
{
	th_world w;
	tv_ep to = tv_ep4(TH_IP_B, 9);
	tv_udp *s;
	int err;

	th_world_init(&w, 1, NULL);
	s = host_udp_bind(w.a, NULL, drop_rx, NULL, &err);
	for (int i = 0; i < 100; i++)
		host_udp_send(s, &to, "x", 1);
	cr_assert_eq(sim_link_stats_get(w.l)->delivered, 0, "all still in flight");
	host_udp_close(s);
	th_world_free(&w);
}
