/* test_nat.c - the NAT engine (simnat/nat.c), one behaviour per test.
 *
 * Addresses used throughout:
 *
 *   inside  A 192.168.1.10, B 192.168.1.11      NAT public 203.0.113.1
 *   outside S 198.51.100.1, T 198.51.100.2      (second: 203.0.113.2)
 *
 * Packets are built with pkt_build_*, handed to nat_process, and every
 * forwarded packet is parsed again, so checksums are checked on every
 * translation. test_nat_diff.c compares the engine with a model on random
 * traffic; these tests pin each behaviour down by name. */
#include <criterion/criterion.h>
#include <string.h>

#include "map.h"
#include "nat.h"
#include "pkt.h"
#include "rng.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define DROP(d) (-1 - (int)(d))

static const uint32_t PUB = IP(203, 0, 113, 1), PUB2 = IP(203, 0, 113, 2);
static const uint32_t A = IP(192, 168, 1, 10), B = IP(192, 168, 1, 11);
static const uint32_t S = IP(198, 51, 100, 1), T = IP(198, 51, 100, 2);

static nat_cfg cfg(void)
{
	nat_cfg c;

	nat_cfg_default(&c);
	c.npub = 1;
	c.pub[0] = tv_ip4(PUB);
	return c;
}

static nat *mk(const nat_cfg *c)
{
	char err[128];
	nat *n = nat_new(c, 42, err, sizeof(err));

	cr_assert_not_null(n, "nat_new: %s", err);
	return n;
}

/* Process a packet; a forwarded one must still parse (checksums valid). */
static int process(nat *n, tv_time t, enum nat_dir dir, uint8_t *buf, int len, pkt_info *out)
{
	pkt_info tmp;
	int v;

	cr_assert_gt(len, 0);
	v = nat_process(n, t, dir, buf, (size_t)len);
	if (v > 0)
		cr_assert_eq(pkt_parse(buf, (size_t)len, out ? out : &tmp), 0,
			     "forwarded packet does not parse");
	return v;
}

static int udp(nat *n, tv_time t, enum nat_dir dir, tv_ep s, tv_ep d, pkt_info *out)
{
	uint8_t buf[PKT_IP_MAX];
	int len = pkt_build_udp(buf, sizeof(buf), &s, &d, 7, "payload", 7);

	return process(n, t, dir, buf, len, out);
}

static int tcp(nat *n, tv_time t, enum nat_dir dir, tv_ep s, tv_ep d, uint8_t flags, pkt_info *out)
{
	uint8_t buf[PKT_IP_MAX];
	int len = pkt_build_tcp(buf, sizeof(buf), &s, &d, 7, flags, 1000, 2000, 8192, "x", 1);

	return process(n, t, dir, buf, len, out);
}

/* Send UDP out from in to rem; must be forwarded. Returns the external
 * endpoint it left with. */
static tv_ep out_udp(nat *n, tv_time t, tv_ep in, tv_ep rem)
{
	pkt_info pi;

	cr_assert_eq(udp(n, t, NAT_OUT, in, rem, &pi), NAT_OUT);
	cr_assert_eq(pi.dst.ip.v4, rem.ip.v4);
	cr_assert_eq(pi.dst.port, rem.port);
	return pi.src;
}

static tv_ep out_tcp(nat *n, tv_time t, tv_ep in, tv_ep rem, uint8_t flags)
{
	pkt_info pi;

	cr_assert_eq(tcp(n, t, NAT_OUT, in, rem, flags, &pi), NAT_OUT);
	return pi.src;
}

static bool ep_eq(tv_ep a, tv_ep b) { return a.ip.v4 == b.ip.v4 && a.port == b.port; }

struct find {
	uint8_t proto;
	tv_ep internal;
	nat_binding_info b;
	int found;
};

static void find_cb(void *arg, const nat_binding_info *b)
{
	struct find *f = arg;

	if (b->proto == f->proto && ep_eq(b->internal, f->internal)) {
		f->b = *b;
		f->found++;
	}
}

/* The binding of an internal endpoint (the only one: mapping EI). */
static bool binding(nat *n, tv_time now, uint8_t proto, tv_ep internal, nat_binding_info *out)
{
	struct find f = { .proto = proto, .internal = internal };

	nat_table_foreach(n, now, find_cb, &f);
	cr_assert_leq(f.found, 1);
	if (out && f.found)
		*out = f.b;
	return f.found == 1;
}

static tv_ep ep(uint32_t ip, uint16_t port) { return tv_ep4(ip, port); }

/* ---- configuration ----------------------------------------------------- */

Test(nat, defaults_are_rfc_minimums)
{
	nat_cfg c;

	nat_cfg_default(&c);
	cr_assert_eq(c.mapping, NAT_EI);
	cr_assert_eq(c.filtering, NAT_APD);
	cr_assert_eq(c.ports, NAT_PORT_PRESERVE);
	cr_assert_eq(c.udp_timeout, TV_SEC(120));
	cr_assert_eq(c.tcp_established, TV_SEC(2 * 3600 + 4 * 60));
	cr_assert_eq(c.tcp_transitory, TV_SEC(240));
	cr_assert_eq(c.refresh, NAT_REFRESH_OUTBOUND);
	cr_assert(c.hairpin);
	cr_assert_eq(c.port_lo, 1024);
	cr_assert_eq(c.port_hi, 65535);
	cr_assert_eq(nat_cfg_udp_preset(&c, "linux"), 0);
	cr_assert_eq(c.udp_timeout, TV_SEC(30));
	cr_assert_eq(c.udp_stream_timeout, TV_SEC(120));
	cr_assert_eq(c.udp_stream_after, TV_SEC(2));
	cr_assert_eq(nat_cfg_udp_preset(&c, "openwrt"), 0);
	cr_assert_eq(c.udp_timeout, TV_SEC(60));
	cr_assert_eq(c.udp_stream_after, 0);
	cr_assert_eq(nat_cfg_udp_preset(&c, "linux"), 0);
	cr_assert_eq(nat_cfg_udp_preset(&c, "rfc4787"), 0);
	cr_assert_eq(c.udp_stream_after, 0);
	cr_assert_eq(nat_cfg_udp_preset(&c, "nonsense"), TV_EINVAL);
}

Test(nat, behaviour_names_parse)
{
	enum nat_behav b;

	cr_assert_eq(nat_behav_parse("eim", &b), 0);
	cr_assert_eq(b, NAT_EI);
	cr_assert_eq(nat_behav_parse("adf", &b), 0);
	cr_assert_eq(b, NAT_AD);
	cr_assert_eq(nat_behav_parse("address-and-port-dependent", &b), 0);
	cr_assert_eq(b, NAT_APD);
	cr_assert_eq(nat_behav_parse("symmetric", &b), TV_EINVAL);
	cr_assert_str_eq(nat_behav_name(NAT_AD), "address-dependent");
	cr_assert_str_eq(nat_drop_name(NAT_DROP_TABLE_FULL), "table-full");
	cr_assert_str_eq(nat_drop_name(NAT_DROP__COUNT), "?");
}

Test(nat, rejects_bad_config)
{
	nat_cfg c = cfg();
	char err[128];

	c.npub = 0;
	cr_assert_null(nat_new(&c, 1, err, sizeof(err)));
	c = cfg();
	c.npub = NAT_MAX_PUB + 1;
	cr_assert_null(nat_new(&c, 1, err, sizeof(err)));
	c = cfg();
	c.port_lo = 3000;
	c.port_hi = 2000;
	cr_assert_null(nat_new(&c, 1, err, sizeof(err)));
	cr_assert(strstr(err, "3000") != NULL, "%s", err);
	c = cfg();
	c.port_lo = 0;
	cr_assert_null(nat_new(&c, 1, err, sizeof(err)));
}

/* ---- mapping (RFC 4787 REQ-1) ------------------------------------------ */

Test(nat, eim_reuses_mapping_for_new_destination)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	tv_ep e1 = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	tv_ep e2 = out_udp(n, 1, ep(A, 5000), ep(T, 3478));
	tv_ep e3 = out_udp(n, 2, ep(A, 5000), ep(S, 9999));

	cr_assert(ep_eq(e1, e2) && ep_eq(e1, e3));
	cr_assert_eq(e1.ip.v4, PUB);
	cr_assert_eq(nat_binding_count(n), 1);
	cr_assert_eq(nat_get_stats(n)->created, 1);
	nat_free(n);
}

Test(nat, adm_allocates_new_port_per_remote_address)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e1, e2, e3;

	c.mapping = NAT_AD;
	n = mk(&c);
	e1 = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	e2 = out_udp(n, 1, ep(A, 5000), ep(S, 9999));  /* same address: same mapping */
	e3 = out_udp(n, 2, ep(A, 5000), ep(T, 3478));  /* new address: new mapping */
	cr_assert(ep_eq(e1, e2));
	cr_assert_neq(e1.port, e3.port);
	cr_assert_eq(nat_binding_count(n), 2);
	nat_free(n);
}

Test(nat, apdm_allocates_new_port_per_remote_port)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e1, e2, e3, e4;

	c.mapping = NAT_APD;
	n = mk(&c);
	e1 = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	e2 = out_udp(n, 1, ep(A, 5000), ep(S, 3479));
	e3 = out_udp(n, 2, ep(A, 5000), ep(T, 3478));
	e4 = out_udp(n, 3, ep(A, 5000), ep(S, 3478));
	cr_assert_neq(e1.port, e2.port);
	cr_assert_neq(e1.port, e3.port);
	cr_assert_neq(e2.port, e3.port);
	cr_assert(ep_eq(e1, e4));
	cr_assert_eq(nat_binding_count(n), 3);
	nat_free(n);
}

/* ---- filtering (REQ-8) ------------------------------------------------- */

Test(nat, eif_accepts_any_source)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e;
	pkt_info pi;

	c.filtering = NAT_EI;
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(T, 1), e, &pi), NAT_IN);
	cr_assert(ep_eq(pi.dst, ep(A, 5000)));
	cr_assert(ep_eq(pi.src, ep(T, 1)));
	nat_free(n);
}

Test(nat, adf_accepts_only_addresses_sent_to)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e;

	c.filtering = NAT_AD;
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 9999), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, 1, NAT_IN, ep(T, 3478), e, NULL), DROP(NAT_DROP_FILTERED));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_FILTERED], 1);
	out_udp(n, 2, ep(A, 5000), ep(T, 1));          /* now T may send too */
	cr_assert_eq(udp(n, 3, NAT_IN, ep(T, 3478), e, NULL), NAT_IN);
	nat_free(n);
}

Test(nat, apdf_accepts_only_endpoints_sent_to)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e;

	c.filtering = NAT_APD;
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 9999), e, NULL), DROP(NAT_DROP_FILTERED));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(T, 3478), e, NULL), DROP(NAT_DROP_FILTERED));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_FILTERED], 2);
	cr_assert_eq(nat_get_stats(n)->in, 1);
	nat_free(n);
}

Test(nat, unsolicited_inbound_has_no_mapping)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);

	cr_assert_eq(udp(n, 0, NAT_IN, ep(S, 3478), ep(PUB, 5000), NULL), DROP(NAT_DROP_NO_MAPPING));
	cr_assert_eq(tcp(n, 0, NAT_IN, ep(S, 80), ep(PUB, 5000), TCP_SYN, NULL), DROP(NAT_DROP_NO_MAPPING));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_NO_MAPPING], 2);
	cr_assert_eq(nat_binding_count(n), 0);
	nat_free(n);
}

/* ---- port allocation (REQ-3, REQ-4) ------------------------------------ */

Test(nat, preserve_keeps_internal_port)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);

	cr_assert_eq(out_udp(n, 0, ep(A, 5000), ep(S, 3478)).port, 5000);
	cr_assert_eq(out_tcp(n, 0, ep(A, 5000), ep(S, 80), TCP_SYN).port, 5000);  /* per protocol */
	cr_assert_eq(out_udp(n, 0, ep(B, 5001), ep(S, 3478)).port, 5001);
	nat_free(n);
}

Test(nat, preserve_falls_back_when_taken)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep ea, eb;

	c.port_lo = 5000;
	c.port_hi = 5100;
	n = mk(&c);
	ea = out_udp(n, 0, ep(A, 5050), ep(S, 3478));
	eb = out_udp(n, 0, ep(B, 5050), ep(S, 3478));
	cr_assert_eq(ea.port, 5050);
	cr_assert_neq(eb.port, 5050);
	cr_assert(eb.port >= 5000 && eb.port <= 5100, "port %u outside the range", eb.port);
	/* An internal port outside the public range cannot be preserved. */
	eb = out_udp(n, 0, ep(B, 80), ep(S, 3478));
	cr_assert(eb.port >= 5000 && eb.port <= 5100, "port %u outside the range", eb.port);
	nat_free(n);
}

Test(nat, sequential_hands_out_consecutive_ports)
{
	nat_cfg c = cfg();
	nat *n;

	c.ports = NAT_PORT_SEQUENTIAL;
	c.port_lo = 2000;
	c.port_hi = 2002;
	n = mk(&c);
	cr_assert_eq(out_udp(n, 0, ep(A, 5000), ep(S, 1)).port, 2000);
	cr_assert_eq(out_udp(n, 0, ep(A, 5001), ep(S, 1)).port, 2001);
	cr_assert_eq(out_udp(n, 0, ep(B, 5000), ep(S, 1)).port, 2002);
	cr_assert_eq(udp(n, 0, NAT_OUT, ep(B, 5001), ep(S, 1), NULL), DROP(NAT_DROP_NO_PORT));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_NO_PORT], 1);
	nat_free(n);
}

Test(nat, parity_keeps_even_and_odd)
{
	for (int alloc = NAT_PORT_PRESERVE; alloc <= NAT_PORT_RANDOM; alloc++) {
		nat_cfg c = cfg();
		nat *n;

		c.ports = (enum nat_port_alloc)alloc;
		c.parity = true;
		c.port_lo = 2000;
		c.port_hi = 2100;
		n = mk(&c);
		for (uint16_t p = 6000; p < 6040; p++) {
			/* Both hosts use the same ports: B never gets its own port back. */
			tv_ep ea = out_udp(n, 0, ep(A, p), ep(S, 1)), eb = out_udp(n, 0, ep(B, p), ep(S, 1));
			cr_assert_eq(ea.port & 1, p & 1, "alloc %d: %u -> %u", alloc, p, ea.port);
			cr_assert_eq(eb.port & 1, p & 1, "alloc %d: %u -> %u", alloc, p, eb.port);
			cr_assert(ea.port >= 2000 && ea.port <= 2100 && eb.port >= 2000 && eb.port <= 2100);
		}
		cr_assert_eq(nat_binding_count(n), 80);
		nat_free(n);
	}
}

Test(nat, parity_exhausts_one_parity_only)
{
	nat_cfg c = cfg();
	nat *n;

	c.ports = NAT_PORT_SEQUENTIAL;
	c.parity = true;
	c.port_lo = 2000;
	c.port_hi = 2003;       /* 2000, 2002 even; 2001, 2003 odd */
	n = mk(&c);
	cr_assert_eq(out_udp(n, 0, ep(A, 10), ep(S, 1)).port, 2000);
	cr_assert_eq(out_udp(n, 0, ep(A, 12), ep(S, 1)).port, 2002);
	cr_assert_eq(udp(n, 0, NAT_OUT, ep(A, 14), ep(S, 1), NULL), DROP(NAT_DROP_NO_PORT));
	cr_assert_eq(out_udp(n, 0, ep(A, 11), ep(S, 1)).port, 2003);  /* cursor after 2002 */
	cr_assert_eq(out_udp(n, 0, ep(A, 13), ep(S, 1)).port, 2001);  /* wrapped */
	nat_free(n);
}

Test(nat, random_ports_are_distinct_and_in_range)
{
	nat_cfg c = cfg();
	nat *n;
	bool seen[65536] = { false };

	c.ports = NAT_PORT_RANDOM;
	c.port_lo = 30000;
	c.port_hi = 30099;
	n = mk(&c);
	for (uint16_t p = 1; p <= 100; p++) {
		tv_ep e = out_udp(n, 0, ep(A, p), ep(S, 1));
		cr_assert(e.port >= 30000 && e.port <= 30099);
		cr_assert(!seen[e.port], "port %u handed out twice", e.port);
		seen[e.port] = true;
	}
	cr_assert_eq(udp(n, 0, NAT_OUT, ep(A, 101), ep(S, 1), NULL), DROP(NAT_DROP_NO_PORT));
	nat_free(n);
}

/* ---- address pooling (REQ-2) ------------------------------------------- */

Test(nat, paired_pool_keeps_an_internal_ip_on_one_public_ip)
{
	nat_cfg c = cfg();
	nat *n;

	c.mapping = NAT_APD;    /* many mappings per internal endpoint */
	c.pool = NAT_POOL_PAIRED;
	c.npub = 4;
	for (int i = 0; i < 4; i++)
		c.pub[i] = tv_ip4(PUB + (uint32_t)i);
	n = mk(&c);
	for (uint32_t h = 0; h < 8; h++) {
		uint32_t first = 0;
		for (uint16_t k = 0; k < 12; k++) {
			tv_ep e = out_udp(n, 0, ep(A + h, (uint16_t)(5000 + k % 3)), ep(S, (uint16_t)(100 + k)));
			if (k == 0)
				first = e.ip.v4;
			cr_assert_eq(e.ip.v4, first, "host %u moved public address", h);
			cr_assert_eq(e.ip.v4, PUB + (uint32_t)(tv_hash64(A + h) % 4));
		}
	}
	nat_free(n);
}

Test(nat, arbitrary_pool_spreads_over_public_ips)
{
	nat_cfg c = cfg();
	nat *n;
	int used[4] = { 0 };

	c.pool = NAT_POOL_ARBITRARY;
	c.npub = 4;
	for (int i = 0; i < 4; i++)
		c.pub[i] = tv_ip4(PUB + (uint32_t)i);
	n = mk(&c);
	for (uint16_t k = 0; k < 8; k++) {
		tv_ep e = out_udp(n, 0, ep(A, (uint16_t)(5000 + k)), ep(S, 1));
		cr_assert(e.ip.v4 >= PUB && e.ip.v4 < PUB + 4);
		used[e.ip.v4 - PUB]++;
	}
	for (int i = 0; i < 4; i++)
		cr_assert_eq(used[i], 2, "address %d used %d times", i, used[i]);
	nat_free(n);
}

/* ---- UDP timers and refresh (REQ-5, REQ-6) ----------------------------- */

Test(nat, udp_unreplied_binding_expires_after_udp_timeout)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep e;

	nat_cfg_udp_preset(&c, "linux");        /* 30 s unreplied, 120 s stream */
	c.filtering = NAT_EI;
	n = mk(&c);
	e = out_udp(n, TV_SEC(10), ep(A, 5000), ep(S, 3478));
	cr_assert(binding(n, TV_SEC(10), TV_PROTO_UDP, ep(A, 5000), &b));
	cr_assert_str_eq(b.state, "unreplied");
	cr_assert_eq(b.ttl, TV_SEC(30));
	cr_assert(binding(n, TV_SEC(40) - 1, TV_PROTO_UDP, ep(A, 5000), NULL));
	cr_assert(!binding(n, TV_SEC(40), TV_PROTO_UDP, ep(A, 5000), NULL));
	cr_assert_eq(udp(n, TV_SEC(40), NAT_IN, ep(S, 3478), e, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

Test(nat, udp_reply_moves_binding_to_stream_timeout)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep e;

	nat_cfg_udp_preset(&c, "linux");
	c.udp_stream_after = 0;                 /* the first reply, whenever it comes */
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, TV_SEC(1), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(1), TV_PROTO_UDP, ep(A, 5000), &b));
	cr_assert_str_eq(b.state, "stream");
	/* Stream timer, counted from the last refresh (the outbound packet). */
	cr_assert_eq(b.ttl, TV_SEC(119));
	cr_assert_eq(udp(n, TV_SEC(100), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, TV_SEC(120), NAT_IN, ep(S, 3478), e, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

/* The Linux 2-second rule (udp_stream_after, the linux preset's 2 s). */

Test(nat, udp_exchange_within_2s_stays_on_unreplied_timer)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep e;

	nat_cfg_udp_preset(&c, "linux");
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, TV_MS(100), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(1), TV_PROTO_UDP, ep(A, 5000), &b));
	cr_assert_str_eq(b.state, "replied");
	cr_assert_eq(b.ttl, TV_SEC(29));
	cr_assert(binding(n, TV_SEC(30) - 1, TV_PROTO_UDP, ep(A, 5000), NULL));
	cr_assert(!binding(n, TV_SEC(30), TV_PROTO_UDP, ep(A, 5000), NULL));
	cr_assert_eq(udp(n, TV_SEC(30), NAT_IN, ep(S, 3478), e, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

Test(nat, udp_packet_after_2s_moves_replied_flow_to_stream)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep e;

	nat_cfg_udp_preset(&c, "linux");
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, TV_MS(100), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	/* A packet at exactly 2 s is not "after" 2 s (the kernel's time_after). */
	cr_assert(ep_eq(out_udp(n, TV_SEC(2), ep(A, 5000), ep(S, 3478)), e));
	cr_assert(binding(n, TV_SEC(2), TV_PROTO_UDP, ep(A, 5000), &b));
	cr_assert_str_eq(b.state, "replied");
	cr_assert(ep_eq(out_udp(n, TV_SEC(3), ep(A, 5000), ep(S, 3478)), e));
	cr_assert(binding(n, TV_SEC(3), TV_PROTO_UDP, ep(A, 5000), &b));
	cr_assert_str_eq(b.state, "stream");
	cr_assert_eq(b.ttl, TV_SEC(120));
	cr_assert(binding(n, TV_SEC(100), TV_PROTO_UDP, ep(A, 5000), NULL));
	cr_assert_eq(udp(n, TV_SEC(100), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, TV_SEC(123), NAT_IN, ep(S, 3478), e, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

Test(nat, udp_late_inbound_packet_moves_replied_flow_to_stream)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep e;

	nat_cfg_udp_preset(&c, "linux");
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, TV_MS(100), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	/* The server's second packet, after 2 s: stream, counted (outbound
	 * refresh) from alice's last packet at 0. */
	cr_assert_eq(udp(n, TV_MS(2001), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(3), TV_PROTO_UDP, ep(A, 5000), &b));
	cr_assert_str_eq(b.state, "stream");
	cr_assert_eq(b.ttl, TV_SEC(117));
	nat_free(n);
}

Test(nat, udp_late_first_reply_stays_on_unreplied_timer)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep e;

	/* The kernel marks a flow replied only after the reply was handled:
	 * a first reply at 5 s still gets the short timer; the next packet
	 * (either way) moves the flow to the stream timer. */
	nat_cfg_udp_preset(&c, "linux");
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5001), ep(S, 3478));
	cr_assert_eq(udp(n, TV_SEC(5), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(5), TV_PROTO_UDP, ep(A, 5001), &b));
	cr_assert_str_eq(b.state, "replied");
	cr_assert_eq(b.ttl, TV_SEC(25));
	cr_assert_eq(udp(n, TV_SEC(6), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(6), TV_PROTO_UDP, ep(A, 5001), &b));
	cr_assert_str_eq(b.state, "stream");
	cr_assert_eq(b.ttl, TV_SEC(114));
	nat_free(n);
}

Test(nat, udp_unreplied_flow_ignores_the_2s_rule)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;

	nat_cfg_udp_preset(&c, "linux");
	n = mk(&c);
	out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	out_udp(n, TV_SEC(5), ep(A, 5000), ep(S, 3478));
	cr_assert(binding(n, TV_SEC(5), TV_PROTO_UDP, ep(A, 5000), &b));
	cr_assert_str_eq(b.state, "unreplied");
	cr_assert_eq(b.ttl, TV_SEC(30));
	cr_assert(!binding(n, TV_SEC(35), TV_PROTO_UDP, ep(A, 5000), NULL));
	nat_free(n);
}

Test(nat, refresh_outbound_only_inbound_does_not_extend)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e;

	c.refresh = NAT_REFRESH_OUTBOUND;
	c.udp_timeout = c.udp_stream_timeout = TV_SEC(60);
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, TV_SEC(50), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, TV_SEC(60) - 1, NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, TV_SEC(60), NAT_IN, ep(S, 3478), e, NULL), DROP(NAT_DROP_NO_MAPPING));
	/* Outbound traffic does extend it. */
	e = out_udp(n, TV_SEC(100), ep(A, 5000), ep(S, 3478));
	out_udp(n, TV_SEC(150), ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, TV_SEC(200), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, TV_SEC(210), NAT_IN, ep(S, 3478), e, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

Test(nat, refresh_both_inbound_extends)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep e;

	c.refresh = NAT_REFRESH_BOTH;
	c.filtering = NAT_EI;   /* APD permissions follow outbound traffic only */
	c.udp_timeout = c.udp_stream_timeout = TV_SEC(60);
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, TV_SEC(50), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(50), TV_PROTO_UDP, ep(A, 5000), &b));
	cr_assert_eq(b.ttl, TV_SEC(60));
	cr_assert_eq(udp(n, TV_SEC(100), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, TV_SEC(159), NAT_IN, ep(S, 3478), e, NULL), NAT_IN);
	cr_assert_eq(udp(n, TV_SEC(300), NAT_IN, ep(S, 3478), e, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

Test(nat, filtered_packets_do_not_refresh)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e;

	c.refresh = NAT_REFRESH_BOTH;
	c.filtering = NAT_APD;
	c.udp_timeout = c.udp_stream_timeout = TV_SEC(60);
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, TV_SEC(50), NAT_IN, ep(T, 3478), e, NULL), DROP(NAT_DROP_FILTERED));
	cr_assert(!binding(n, TV_SEC(60), TV_PROTO_UDP, ep(A, 5000), NULL));
	nat_free(n);
}

/* ---- TCP (RFC 5382) ---------------------------------------------------- */

Test(nat, tcp_syn_opens_a_transitory_binding)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;

	out_tcp(n, 0, ep(A, 40000), ep(S, 80), TCP_SYN);
	cr_assert(binding(n, 0, TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "syn");
	cr_assert_eq(b.ttl, c.tcp_transitory);
	cr_assert(!binding(n, c.tcp_transitory, TV_PROTO_TCP, ep(A, 40000), NULL));
	nat_free(n);
}

Test(nat, tcp_non_syn_without_mapping_is_dropped)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);

	cr_assert_eq(tcp(n, 0, NAT_OUT, ep(A, 40000), ep(S, 80), TCP_ACK, NULL), DROP(NAT_DROP_NO_MAPPING));
	cr_assert_eq(tcp(n, 0, NAT_OUT, ep(A, 40000), ep(S, 80), TCP_FIN | TCP_ACK, NULL),
		     DROP(NAT_DROP_NO_MAPPING));
	cr_assert_eq(tcp(n, 0, NAT_OUT, ep(A, 40000), ep(S, 80), TCP_RST, NULL), DROP(NAT_DROP_NO_MAPPING));
	cr_assert_eq(nat_binding_count(n), 0);
	cr_assert_eq(nat_get_stats(n)->created, 0);
	nat_free(n);
}

/* SYN out, SYN|ACK in, ACK out: established. Returns the external endpoint. */
static tv_ep tcp_open(nat *n, tv_time t, tv_ep in, tv_ep rem)
{
	tv_ep e = out_tcp(n, t, in, rem, TCP_SYN);
	pkt_info pi;

	cr_assert_eq(tcp(n, t, NAT_IN, rem, e, TCP_SYN | TCP_ACK, &pi), NAT_IN);
	cr_assert(ep_eq(pi.dst, in));
	out_tcp(n, t, in, rem, TCP_ACK);
	return e;
}

Test(nat, tcp_established_binding_lives_2h4min)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep e = tcp_open(n, 0, ep(A, 40000), ep(S, 80));

	cr_assert(binding(n, 0, TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, TV_SEC(2 * 3600 + 4 * 60));
	cr_assert_eq(tcp(n, TV_SEC(2 * 3600 + 3 * 60), NAT_IN, ep(S, 80), e, TCP_ACK, NULL), NAT_IN);
	cr_assert_eq(tcp(n, TV_SEC(2 * 3600 + 4 * 60), NAT_IN, ep(S, 80), e, TCP_ACK, NULL),
		     DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

Test(nat, tcp_fin_makes_binding_transitory)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep e = tcp_open(n, 0, ep(A, 40000), ep(S, 80));

	out_tcp(n, TV_SEC(10), ep(A, 40000), ep(S, 80), TCP_FIN | TCP_ACK);
	cr_assert(binding(n, TV_SEC(10), TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "closing");
	cr_assert_eq(b.ttl, TV_SEC(240));
	cr_assert_eq(tcp(n, TV_SEC(11), NAT_IN, ep(S, 80), e, TCP_FIN | TCP_ACK, NULL), NAT_IN);
	cr_assert_eq(tcp(n, TV_SEC(250), NAT_IN, ep(S, 80), e, TCP_ACK, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

Test(nat, tcp_fin_from_outside_makes_binding_transitory)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep e = tcp_open(n, 0, ep(A, 40000), ep(S, 80));

	cr_assert_eq(tcp(n, TV_SEC(10), NAT_IN, ep(S, 80), e, TCP_FIN | TCP_ACK, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(10), TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "closing");
	cr_assert_eq(b.ttl, TV_SEC(240), "the server's FIN shortens the timer as an inside FIN would");
	cr_assert_eq(tcp(n, TV_SEC(251), NAT_IN, ep(S, 80), e, TCP_ACK, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

Test(nat, tcp_rst_makes_binding_transitory)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;

	tcp_open(n, 0, ep(A, 40000), ep(S, 80));
	out_tcp(n, TV_SEC(10), ep(A, 40000), ep(S, 80), TCP_RST);
	cr_assert(binding(n, TV_SEC(10), TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "closing");
	cr_assert_eq(b.ttl, TV_SEC(240));
	nat_free(n);
}

/* A new connection on a closing binding (same ports again, within the
 * transitory time) is tracked afresh and gets the established timer. */
Test(nat, tcp_new_connection_on_closing_binding_is_established)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep e = tcp_open(n, 0, ep(A, 40000), ep(S, 80));

	out_tcp(n, TV_SEC(10), ep(A, 40000), ep(S, 80), TCP_FIN | TCP_ACK);
	cr_assert_eq(tcp(n, TV_SEC(10), NAT_IN, ep(S, 80), e, TCP_FIN | TCP_ACK, NULL), NAT_IN);
	cr_assert(ep_eq(tcp_open(n, TV_SEC(20), ep(A, 40000), ep(S, 80)), e));
	cr_assert(binding(n, TV_SEC(20), TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, TV_SEC(2 * 3600 + 4 * 60));
	nat_free(n);
}

/* Refused, then retried (TCP hole punching does this): the retry that
 * completes gets the established timer, not the transitory one. */
Test(nat, tcp_retry_after_rst_is_established)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep e;

	c.filtering = NAT_EI;
	n = mk(&c);
	e = out_tcp(n, 0, ep(A, 40000), ep(S, 80), TCP_SYN);
	cr_assert_eq(tcp(n, TV_MS(10), NAT_IN, ep(S, 80), e, TCP_RST | TCP_ACK, NULL), NAT_IN);
	cr_assert(binding(n, TV_MS(10), TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "closing");
	out_tcp(n, TV_SEC(1), ep(A, 40000), ep(S, 80), TCP_SYN);
	cr_assert_eq(tcp(n, TV_SEC(1), NAT_IN, ep(S, 80), e, TCP_SYN | TCP_ACK, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(1), TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, TV_SEC(2 * 3600 + 4 * 60));
	nat_free(n);
}

/* Simultaneous open (RFC 5382 REQ-2): SYN out, then the peer's SYN in. */
Test(nat, tcp_simultaneous_open_is_established)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep e = out_tcp(n, 0, ep(A, 40000), ep(S, 9000), TCP_SYN);

	cr_assert_eq(tcp(n, TV_MS(5), NAT_IN, ep(S, 9000), e, TCP_SYN, NULL), NAT_IN);
	cr_assert(binding(n, TV_MS(5), TV_PROTO_TCP, ep(A, 40000), &b));
	cr_assert_str_eq(b.state, "established");
	nat_free(n);
}

/* ---- TCP: state per connection (RFC 5382 REQ-5) ------------------------ */

#define EST_TO TV_SEC(2 * 3600 + 4 * 60)
#define TRANS_TO TV_SEC(240)

/* Two connections on one endpoint-independent binding: a FIN on one does
 * not cut the other short; the binding lives for 2 h 4 min of the other's
 * idleness. */
Test(nat, tcp_fin_on_one_connection_leaves_the_other_established)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep a = ep(A, 40000), e = tcp_open(n, 0, a, ep(S, 80));

	cr_assert(ep_eq(tcp_open(n, TV_SEC(5), a, ep(T, 443)), e), "one binding (EIM)");
	cr_assert_eq(nat_binding_count(n), 1);
	out_tcp(n, TV_SEC(10), a, ep(S, 80), TCP_FIN | TCP_ACK);
	cr_assert_eq(tcp(n, TV_SEC(11), NAT_IN, ep(S, 80), e, TCP_FIN | TCP_ACK, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(11), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, TV_SEC(5) + EST_TO - TV_SEC(11), "ttl %lld", (long long)b.ttl);
	/* Past the closed connection's transitory time: it is gone (its
	 * permission with it), the binding and the other connection are not. */
	nat_on_timeout(n, TV_SEC(10) + TRANS_TO);
	cr_assert_eq(nat_binding_count(n), 1);
	cr_assert_eq(tcp(n, TV_SEC(10) + TRANS_TO, NAT_IN, ep(S, 80), e, TCP_ACK, NULL), DROP(NAT_DROP_FILTERED));
	cr_assert_eq(tcp(n, TV_SEC(5) + EST_TO - 1, NAT_IN, ep(T, 443), e, TCP_ACK, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(5) + EST_TO - 1, TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "established");
	/* Idle (outbound) for 2 h 4 min: expired with its last connection. */
	cr_assert_leq(nat_next_wake(n), TV_SEC(5) + EST_TO);
	nat_on_timeout(n, TV_SEC(5) + EST_TO);
	cr_assert_eq(nat_binding_count(n), 0);
	cr_assert_eq(nat_get_stats(n)->expired, 1);
	cr_assert_eq(tcp(n, TV_SEC(5) + EST_TO, NAT_IN, ep(T, 443), e, TCP_ACK, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

/* Address-dependent mapping: one binding per remote address, one
 * connection per remote port on it. */
Test(nat, tcp_adm_connections_to_one_address_close_separately)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep a = ep(A, 40000), e;

	c.mapping = NAT_AD;
	n = mk(&c);
	e = tcp_open(n, 0, a, ep(S, 80));
	cr_assert(ep_eq(tcp_open(n, 0, a, ep(S, 81)), e));
	out_tcp(n, TV_SEC(1), a, ep(S, 80), TCP_RST);
	cr_assert(binding(n, TV_SEC(1), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, EST_TO - TV_SEC(1));
	cr_assert_eq(tcp(n, TV_SEC(3600), NAT_IN, ep(S, 81), e, TCP_ACK, NULL), NAT_IN);
	nat_free(n);
}

/* The binding expires when its last connection does, including when the
 * connection that held it longest closes and the others' timers remain. */
Test(nat, tcp_binding_expires_with_its_last_connection)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep a = ep(A, 40000), e = tcp_open(n, 0, a, ep(S, 80));

	tcp_open(n, TV_SEC(100), a, ep(T, 80));
	nat_on_timeout(n, TV_SEC(100));
	/* T held the binding longest; closing it falls back to S's timer. */
	out_tcp(n, TV_SEC(200), a, ep(T, 80), TCP_FIN | TCP_ACK);
	cr_assert(binding(n, TV_SEC(200), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, EST_TO - TV_SEC(200));
	cr_assert_leq(nat_next_wake(n), EST_TO);
	/* S closes too, later: the binding lives until the later of the two
	 * transitory timers. */
	cr_assert_eq(tcp(n, TV_SEC(300), NAT_IN, ep(S, 80), e, TCP_FIN | TCP_ACK, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(300), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "closing");
	cr_assert_eq(b.ttl, TRANS_TO);
	cr_assert_leq(nat_next_wake(n), TV_SEC(300) + TRANS_TO);
	nat_on_timeout(n, TV_SEC(200) + TRANS_TO);     /* T's connection is gone */
	cr_assert(binding(n, TV_SEC(200) + TRANS_TO, TV_PROTO_TCP, a, NULL));
	nat_on_timeout(n, TV_SEC(300) + TRANS_TO - 1);
	cr_assert_eq(nat_binding_count(n), 1);
	nat_on_timeout(n, TV_SEC(300) + TRANS_TO);
	cr_assert_eq(nat_binding_count(n), 0);
	cr_assert_eq(nat_get_stats(n)->expired, 1);
	nat_free(n);
}

/* A closing connection beside an established one, reopened by a SYN: it
 * is established again, and keeps the binding once the other closes. */
Test(nat, tcp_closing_connection_reopened_by_syn_is_established)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep a = ep(A, 40000), e = tcp_open(n, 0, a, ep(S, 80));

	tcp_open(n, 0, a, ep(T, 80));
	out_tcp(n, TV_SEC(10), a, ep(T, 80), TCP_FIN | TCP_ACK);
	cr_assert_eq(tcp(n, TV_SEC(10), NAT_IN, ep(T, 80), e, TCP_FIN | TCP_ACK, NULL), NAT_IN);
	/* Same endpoints again within the transitory time. */
	out_tcp(n, TV_SEC(20), a, ep(T, 80), TCP_SYN);
	cr_assert_eq(tcp(n, TV_SEC(20), NAT_IN, ep(T, 80), e, TCP_SYN | TCP_ACK, NULL), NAT_IN);
	out_tcp(n, TV_SEC(20), a, ep(T, 80), TCP_ACK);
	/* S closes: T's reopened connection is what keeps the binding. */
	out_tcp(n, TV_SEC(30), a, ep(S, 80), TCP_RST);
	cr_assert(binding(n, TV_SEC(30), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, TV_SEC(20) + EST_TO - TV_SEC(30));
	cr_assert_eq(tcp(n, TV_SEC(20) + EST_TO - 1, NAT_IN, ep(T, 80), e, TCP_ACK, NULL), NAT_IN);
	cr_assert_eq(tcp(n, TV_SEC(20) + EST_TO, NAT_IN, ep(T, 80), e, TCP_ACK, NULL), DROP(NAT_DROP_NO_MAPPING));
	nat_free(n);
}

/* A SYN from another remote is another connection: it does not complete
 * the handshake of the one the inside opened. */
Test(nat, tcp_syn_from_another_remote_is_another_connection)
{
	nat_cfg c = cfg();
	nat *n;
	nat_binding_info b;
	tv_ep a = ep(A, 40000), e;

	c.filtering = NAT_EI;
	n = mk(&c);
	e = out_tcp(n, 0, a, ep(S, 80), TCP_SYN);
	cr_assert_eq(tcp(n, TV_SEC(1), NAT_IN, ep(T, 5000), e, TCP_SYN, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(1), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "syn");
	cr_assert_eq(b.ttl, TRANS_TO);  /* T's SYN started (and timed) its own */
	/* The inside answers T: that connection is established. */
	out_tcp(n, TV_SEC(2), a, ep(T, 5000), TCP_SYN | TCP_ACK);
	cr_assert(binding(n, TV_SEC(2), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, EST_TO);
	nat_free(n);
}

/* nat_table_foreach: a TCP binding reports established if a live
 * connection is, else syn if one is opening, else closing; connections
 * that expired no longer count. */
Test(nat, tcp_table_state_summarises_live_connections)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep a = ep(A, 40000), e = out_tcp(n, 0, a, ep(S, 80), TCP_SYN);

	cr_assert(binding(n, 0, TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "syn");
	tcp_open(n, TV_SEC(1), a, ep(T, 80));
	cr_assert(binding(n, TV_SEC(1), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.pkts_out, 3);
	cr_assert_eq(b.pkts_in, 1);
	out_tcp(n, TV_SEC(10), a, ep(T, 80), TCP_FIN | TCP_ACK);       /* T: closing until 250 */
	cr_assert(binding(n, TV_SEC(10), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "syn");                              /* S still opening */
	cr_assert_eq(tcp(n, TV_SEC(20), NAT_IN, ep(S, 80), e, TCP_RST | TCP_ACK, NULL), NAT_IN);
	cr_assert(binding(n, TV_SEC(20), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "closing");                          /* S: closing until 260 */
	cr_assert_eq(b.ttl, TRANS_TO);
	out_tcp(n, TV_SEC(100), a, ep(S, 81), TCP_SYN);                /* until 340 */
	cr_assert(binding(n, TV_SEC(100), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "syn");
	out_tcp(n, TV_SEC(200), a, ep(S, 81), TCP_FIN | TCP_ACK);      /* until 440 */
	cr_assert(binding(n, TV_SEC(200), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "closing");
	/* A new opening beside the closing one: syn; the closing one then
	 * expiring leaves it alone in the summary and the timer. */
	out_tcp(n, TV_SEC(300), a, ep(T, 81), TCP_SYN);
	cr_assert(binding(n, TV_SEC(300), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "syn");
	cr_assert_eq(b.ttl, TRANS_TO);
	cr_assert(binding(n, TV_SEC(440), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "syn");
	cr_assert_eq(b.ttl, TV_SEC(300) + TRANS_TO - TV_SEC(440));
	nat_free(n);
}

/* Many connections on one binding (more than fit inline), opened and
 * closed in turn: each keeps its own state, freed slots are reused. */
Test(nat, tcp_many_connections_on_one_binding)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_binding_info b;
	tv_ep a = ep(A, 40000), e = tcp_open(n, 0, a, ep(S, 1));

	for (uint16_t p = 2; p <= 40; p++)
		cr_assert(ep_eq(tcp_open(n, TV_SEC(p), a, ep(T, p)), e));
	for (uint16_t p = 2; p <= 40; p++)
		out_tcp(n, TV_SEC(100), a, ep(T, p), TCP_FIN | TCP_ACK);
	cr_assert(binding(n, TV_SEC(100), TV_PROTO_TCP, a, &b));
	cr_assert_str_eq(b.state, "established");
	cr_assert_eq(b.ttl, EST_TO - TV_SEC(100));
	for (uint16_t p = 2; p <= 40; p++)
		cr_assert_eq(tcp(n, TV_SEC(100) + TRANS_TO, NAT_IN, ep(T, p), e, TCP_ACK, NULL),
			     DROP(NAT_DROP_FILTERED), "port %u", p);
	/* Round two on the same and new remote ports. */
	for (uint16_t p = 20; p <= 60; p++)
		tcp_open(n, TV_SEC(1000), a, ep(T, p));
	cr_assert_eq(tcp(n, TV_SEC(1000) + EST_TO - 1, NAT_IN, ep(T, 60), e, TCP_ACK, NULL), NAT_IN);
	cr_assert_eq(tcp(n, TV_SEC(1000) + EST_TO - 1, NAT_IN, ep(T, 19), e, TCP_ACK, NULL),
		     DROP(NAT_DROP_FILTERED));
	cr_assert_eq(nat_binding_count(n), 1);
	nat_free(n);
}

/* ---- hairpinning (REQ-9) ----------------------------------------------- */

Test(nat, hairpin_on_source_is_external_address)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep ea, eb;
	pkt_info pi;

	c.filtering = NAT_EI;
	n = mk(&c);
	ea = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	eb = out_udp(n, 0, ep(B, 6000), ep(S, 3478));
	cr_assert_eq(udp(n, 1, NAT_OUT, ep(B, 6000), ea, &pi), NAT_IN);
	cr_assert(ep_eq(pi.src, eb), "hairpinned source %08x:%u, want B's external %08x:%u",
		  pi.src.ip.v4, pi.src.port, eb.ip.v4, eb.port);
	cr_assert(ep_eq(pi.dst, ep(A, 5000)));
	cr_assert_eq(pi.ttl, 63);
	cr_assert_eq(nat_get_stats(n)->hairpin, 1);
	nat_free(n);
}

Test(nat, hairpin_is_filtered_like_inbound)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep ea, eb;

	c.filtering = NAT_APD;
	n = mk(&c);
	ea = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	eb = out_udp(n, 0, ep(B, 6000), ep(S, 3478));
	cr_assert_eq(udp(n, 1, NAT_OUT, ep(B, 6000), ea, NULL), DROP(NAT_DROP_FILTERED));
	/* A sends to B's external endpoint (hairpinned, accepted: B sent to A). */
	cr_assert_eq(udp(n, 2, NAT_OUT, ep(A, 5000), eb, NULL), NAT_IN);
	cr_assert_eq(udp(n, 3, NAT_OUT, ep(B, 6000), ea, NULL), NAT_IN);
	nat_free(n);
}

Test(nat, hairpin_off_is_dropped)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep ea;

	c.hairpin = false;
	c.filtering = NAT_EI;
	n = mk(&c);
	ea = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	cr_assert_eq(udp(n, 1, NAT_OUT, ep(B, 6000), ea, NULL), DROP(NAT_DROP_HAIRPIN_OFF));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_HAIRPIN_OFF], 1);
	cr_assert(!binding(n, 1, TV_PROTO_UDP, ep(B, 6000), NULL));
	nat_free(n);
}

/* ---- firewall ---------------------------------------------------------- */

Test(nat, firewall_denies_by_port_and_direction)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e1, e2;
	nat_rule deny_in = { .allow = false, .dir = NAT_IN, .proto = TV_PROTO_UDP,
			     .sport_hi = 65535, .dport_lo = 5000, .dport_hi = 5000 };
	nat_rule allow_smtp_s = { .allow = true, .dir = NAT_OUT, .dst = S, .dst_mask = 0xffffffff,
				  .sport_hi = 65535, .dport_lo = 25, .dport_hi = 25 };
	nat_rule deny_smtp = { .allow = false, .dir = NAT_OUT, .sport_hi = 65535, .dport_lo = 25,
			       .dport_hi = 25 };

	c.filtering = NAT_EI;
	n = mk(&c);
	cr_assert_eq(nat_add_rule(n, &deny_in), 0);
	cr_assert_eq(nat_add_rule(n, &allow_smtp_s), 0);
	cr_assert_eq(nat_add_rule(n, &deny_smtp), 0);
	e1 = out_udp(n, 0, ep(A, 5000), ep(S, 3478));   /* outbound: rule is inbound only */
	e2 = out_udp(n, 0, ep(A, 6000), ep(S, 3478));
	cr_assert_eq(e1.port, 5000);
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 3478), e1, NULL), DROP(NAT_DROP_FIREWALL));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 3478), e2, NULL), NAT_IN);
	/* TCP to the same port is another protocol: not matched. */
	out_tcp(n, 1, ep(A, 5000), ep(S, 80), TCP_SYN);
	cr_assert_eq(tcp(n, 1, NAT_IN, ep(S, 80), ep(PUB, 5000), TCP_SYN | TCP_ACK, NULL), NAT_IN);
	/* First match wins: SMTP to S allowed, to T denied, no binding made. */
	out_tcp(n, 2, ep(B, 7000), ep(S, 25), TCP_SYN);
	cr_assert_eq(tcp(n, 2, NAT_OUT, ep(B, 7001), ep(T, 25), TCP_SYN, NULL), DROP(NAT_DROP_FIREWALL));
	cr_assert(!binding(n, 2, TV_PROTO_TCP, ep(B, 7001), NULL));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_FIREWALL], 2);
	nat_free(n);
}

Test(nat, firewall_rule_table_has_a_limit)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	nat_rule r = { .allow = true, .dir = 3 };

	for (int i = 0; i < NAT_MAX_RULES; i++)
		cr_assert_eq(nat_add_rule(n, &r), 0);
	cr_assert_eq(nat_add_rule(n, &r), TV_EFULL);
	nat_free(n);
}

/* ---- table limits ------------------------------------------------------ */

Test(nat, max_bindings_drops_as_table_full)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e;

	c.max_bindings = 2;
	c.filtering = NAT_EI;
	c.udp_timeout = c.udp_stream_timeout = TV_SEC(30);
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 1), ep(S, 1));
	out_udp(n, 0, ep(A, 2), ep(S, 1));
	cr_assert_eq(udp(n, 1, NAT_OUT, ep(A, 3), ep(S, 1), NULL), DROP(NAT_DROP_TABLE_FULL));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_TABLE_FULL], 1);
	/* Existing bindings keep working, in and out. */
	out_udp(n, 2, ep(A, 1), ep(T, 1));
	cr_assert_eq(udp(n, 2, NAT_IN, ep(T, 9), e, NULL), NAT_IN);
	/* Raising the limit makes room. */
	nat_set_max_bindings(n, 3);
	out_udp(n, 3, ep(A, 3), ep(S, 1));
	cr_assert_eq(nat_binding_count(n), 3);
	nat_free(n);
}

/* Expired bindings free their slot even if the timer has not run yet. */
Test(nat, expired_binding_frees_its_slot_before_the_sweep)
{
	nat_cfg c = cfg();
	nat *n;

	c.max_bindings = 1;
	c.udp_timeout = c.udp_stream_timeout = TV_SEC(30);
	n = mk(&c);
	out_udp(n, 0, ep(A, 1), ep(S, 1));
	cr_assert_eq(udp(n, TV_SEC(29), NAT_OUT, ep(B, 1), ep(S, 1), NULL), DROP(NAT_DROP_TABLE_FULL));
	out_udp(n, TV_SEC(30), ep(B, 1), ep(S, 1));     /* no nat_on_timeout in between */
	cr_assert_eq(nat_binding_count(n), 1);
	nat_free(n);
}

/* ... and their port: preservation gives it to the next host at once. */
Test(nat, expired_binding_frees_its_port_before_the_sweep)
{
	nat_cfg c = cfg();
	nat *n;

	c.udp_timeout = c.udp_stream_timeout = TV_SEC(30);
	n = mk(&c);
	cr_assert_eq(out_udp(n, 0, ep(A, 5000), ep(S, 1)).port, 5000);
	cr_assert_neq(out_udp(n, TV_SEC(29), ep(B, 5000), ep(S, 1)).port, 5000);
	cr_assert_eq(out_udp(n, TV_SEC(31), ep(A + 2, 5000), ep(S, 1)).port, 5000);
	nat_free(n);
}

Test(nat, table_full_fault_blocks_new_bindings_only)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e;

	c.filtering = NAT_EI;
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 1), ep(S, 1));
	nat_set_table_full(n, true);
	cr_assert_eq(udp(n, 1, NAT_OUT, ep(A, 2), ep(S, 1), NULL), DROP(NAT_DROP_TABLE_FULL));
	cr_assert_eq(tcp(n, 1, NAT_OUT, ep(A, 2), ep(S, 1), TCP_SYN, NULL), DROP(NAT_DROP_TABLE_FULL));
	out_udp(n, 1, ep(A, 1), ep(S, 1));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 1), e, NULL), NAT_IN);
	nat_set_table_full(n, false);
	out_udp(n, 2, ep(A, 2), ep(S, 1));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_TABLE_FULL], 2);
	nat_free(n);
}

/* ---- faults ------------------------------------------------------------ */

Test(nat, reboot_empties_the_table_and_later_mappings_work)
{
	nat_cfg c = cfg();
	nat *n;
	tv_ep e;
	pkt_info pi;

	c.filtering = NAT_EI;
	c.ports = NAT_PORT_SEQUENTIAL;
	n = mk(&c);
	e = out_udp(n, 0, ep(A, 1), ep(S, 1));
	out_udp(n, 0, ep(A, 2), ep(S, 1));
	tcp_open(n, 0, ep(B, 3), ep(S, 80));
	cr_assert_eq(nat_binding_count(n), 3);
	nat_reboot(n);
	cr_assert_eq(nat_binding_count(n), 0);
	cr_assert_eq(nat_get_stats(n)->flushed, 3);
	cr_assert_eq(nat_next_wake(n), TV_NEVER);
	cr_assert(!binding(n, 1, TV_PROTO_UDP, ep(A, 1), NULL));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 1), e, NULL), DROP(NAT_DROP_NO_MAPPING));
	cr_assert_eq(tcp(n, 1, NAT_OUT, ep(B, 3), ep(S, 80), TCP_ACK, NULL), DROP(NAT_DROP_NO_MAPPING));
	e = out_udp(n, 2, ep(A, 1), ep(S, 1));
	cr_assert_eq(udp(n, 3, NAT_IN, ep(S, 1), e, &pi), NAT_IN);
	cr_assert(ep_eq(pi.dst, ep(A, 1)));
	nat_on_timeout(n, TV_SEC(1000));
	cr_assert_eq(nat_binding_count(n), 0);
	nat_free(n);
}

Test(nat, public_address_change_flushes_bindings_on_it)
{
	nat_cfg c = cfg();
	nat *n;
	uint32_t h0 = 0, h1 = 0;
	tv_ip nip = tv_ip4(IP(203, 0, 113, 99)), v6 = { .af = TV_AF_INET6 };
	tv_ep e0, e1;

	c.npub = 2;
	c.pub[1] = tv_ip4(PUB2);
	c.filtering = NAT_EI;
	n = mk(&c);
	/* One internal host paired with each public address. */
	for (uint32_t h = A; !h0 || !h1; h++)
		*(tv_hash64(h) % 2 ? &h1 : &h0) = h;
	e0 = out_udp(n, 0, ep(h0, 1), ep(S, 1));
	e1 = out_udp(n, 0, ep(h1, 1), ep(S, 1));
	cr_assert_eq(e0.ip.v4, PUB);
	cr_assert_eq(e1.ip.v4, PUB2);
	cr_assert_eq(nat_change_pub(n, 0, &nip), 0);
	cr_assert_eq(nat_binding_count(n), 1);
	cr_assert_eq(nat_get_stats(n)->flushed, 1);
	cr_assert(!binding(n, 1, TV_PROTO_UDP, ep(h0, 1), NULL));
	cr_assert(binding(n, 1, TV_PROTO_UDP, ep(h1, 1), NULL));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 1), e0, NULL), DROP(NAT_DROP_NO_MAPPING));
	cr_assert_eq(udp(n, 1, NAT_IN, ep(S, 1), e1, NULL), NAT_IN);
	cr_assert_eq(out_udp(n, 2, ep(h0, 1), ep(S, 1)).ip.v4, nip.v4);
	cr_assert_eq(nat_get_cfg(n)->pub[0].v4, nip.v4);
	cr_assert_eq(nat_change_pub(n, 2, &nip), TV_EINVAL);
	cr_assert_eq(nat_change_pub(n, 0, &v6), TV_EINVAL);
	nat_free(n);
}

/* ---- malformed input --------------------------------------------------- */

Test(nat, every_truncation_is_dropped_as_malformed)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	uint8_t good[PKT_IP_MAX], buf[PKT_IP_MAX];
	tv_ep a = ep(A, 5000), s = ep(S, 3478);
	uint64_t expect = 0;

	for (int kind = 0; kind < 3; kind++) {
		int len = kind == 0 ? pkt_build_udp(good, sizeof(good), &a, &s, 1, "0123456789", 10)
			: kind == 1 ? pkt_build_tcp(good, sizeof(good), &a, &s, 1, TCP_SYN, 1, 0, 100, "abc", 3)
			: 0;
		if (kind == 2) {        /* an ICMP error quoting a UDP packet */
			uint8_t orig[PKT_IP_MAX];
			int olen = pkt_build_udp(orig, sizeof(orig), &s, &a, 1, "x", 1);
			len = pkt_build_icmp_error(good, sizeof(good), &a.ip, 1, ICMP_UNREACH, 3, orig, (size_t)olen);
		}
		cr_assert_gt(len, 0);
		for (int cut = 0; cut < len; cut++) {
			for (int dir = NAT_OUT; dir <= NAT_IN; dir++) {
				memcpy(buf, good, (size_t)len);
				cr_assert_eq(nat_process(n, 0, (enum nat_dir)dir, buf, (size_t)cut),
					     DROP(NAT_DROP_MALFORMED), "kind %d cut at %d", kind, cut);
				expect++;
			}
		}
	}
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_MALFORMED], expect);
	cr_assert_eq(nat_binding_count(n), 0);
	nat_free(n);
}

Test(nat, bad_checksums_are_dropped_as_malformed)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	uint8_t buf[PKT_IP_MAX];
	tv_ep a = ep(A, 5000), s = ep(S, 3478);
	int len;

	len = pkt_build_udp(buf, sizeof(buf), &a, &s, 1, "payload", 7);
	buf[len - 1] ^= 0x40;                   /* payload: UDP checksum */
	cr_assert_eq(nat_process(n, 0, NAT_OUT, buf, (size_t)len), DROP(NAT_DROP_MALFORMED));
	len = pkt_build_udp(buf, sizeof(buf), &a, &s, 1, "payload", 7);
	buf[10] ^= 0x01;                        /* IP header checksum */
	cr_assert_eq(nat_process(n, 0, NAT_OUT, buf, (size_t)len), DROP(NAT_DROP_MALFORMED));
	len = pkt_build_tcp(buf, sizeof(buf), &a, &s, 1, TCP_SYN, 1, 0, 100, NULL, 0);
	buf[IP4_HDR + 4] ^= 0x80;               /* sequence number: TCP checksum */
	cr_assert_eq(nat_process(n, 0, NAT_OUT, buf, (size_t)len), DROP(NAT_DROP_MALFORMED));
	len = pkt_build_udp(buf, sizeof(buf), &a, &s, 1, "payload", 7);
	buf[0] = 0x65;                          /* IPv6 version nibble */
	cr_assert_eq(nat_process(n, 0, NAT_OUT, buf, (size_t)len), DROP(NAT_DROP_MALFORMED));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_MALFORMED], 4);
	cr_assert_eq(nat_binding_count(n), 0);
	nat_free(n);
}

Test(nat, garbage_never_crashes_and_is_counted)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	tv_rng g;
	uint8_t buf[256], copy[256];
	uint64_t unparsable = 0;
	pkt_info pi;

	tv_rng_seed(&g, 7);
	for (int i = 0; i < 20000; i++) {
		size_t len = tv_rng_below(&g, sizeof(buf) + 1);
		int v;

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)tv_rng_next(&g);
		if (i % 2 && len >= IP4_HDR) {  /* plausible header, garbage after */
			buf[0] = 0x45;
			pkt_put16(buf + 2, (uint16_t)len);
			pkt_put16(buf + 6, 0);
			buf[9] = (uint8_t[]){ TV_PROTO_UDP, TV_PROTO_TCP, TV_PROTO_ICMP }[i % 3];
			pkt_put16(buf + 10, 0);
			pkt_put16(buf + 10, pkt_csum_fold(pkt_csum_add(0, buf, IP4_HDR)));
		}
		memcpy(copy, buf, len);
		if (pkt_parse(copy, len, &pi) < 0)
			unparsable++;
		v = nat_process(n, TV_MS(i), (enum nat_dir)(1 + i % 2), buf, len);
		cr_assert(v == NAT_OUT || v == NAT_IN || (v < 0 && v > DROP(NAT_DROP__COUNT)));
	}
	cr_assert_gt(unparsable, 10000);
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_MALFORMED] >= unparsable, true);
	nat_free(n);
}

/* ---- ICMP errors (REQ-12 / RFC 5508) ----------------------------------- */

/* The packet as it left the NAT: external endpoint -> remote. */
static int sent_packet(uint8_t *buf, tv_ep ext, tv_ep rem)
{
	return pkt_build_udp(buf, PKT_IP_MAX, &ext, &rem, 9, "probe", 5);
}

Test(nat, icmp_port_unreachable_reaches_internal_host_and_keeps_binding)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	uint8_t orig[PKT_IP_MAX], buf[PKT_IP_MAX];
	nat_binding_info before, after;
	tv_ep e = out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	tv_ip router = tv_ip4(IP(198, 51, 100, 254));
	int olen = sent_packet(orig, e, ep(S, 3478)), len;
	pkt_info pi;
	const uint8_t *q;

	cr_assert(binding(n, TV_SEC(10), TV_PROTO_UDP, ep(A, 5000), &before));
	len = pkt_build_icmp_error(buf, sizeof(buf), &router, 1, ICMP_UNREACH, 3, orig, (size_t)olen);
	cr_assert_eq(process(n, TV_SEC(10), NAT_IN, buf, len, &pi), NAT_IN);
	cr_assert_eq(pi.proto, TV_PROTO_ICMP);
	cr_assert_eq(pi.icmp_type, ICMP_UNREACH);
	cr_assert_eq(pi.icmp_code, 3);
	cr_assert_eq(pi.src.ip.v4, router.v4);
	cr_assert_eq(pi.dst.ip.v4, A);
	q = buf + pi.data_off;
	cr_assert_eq(pkt_csum_fold(pkt_csum_add(0, q, IP4_HDR)), 0, "quoted IP checksum broken");
	cr_assert_eq(pkt_get32(q + 12), A);             /* quoted source: the internal host */
	cr_assert_eq(pkt_get16(q + IP4_HDR), 5000);
	cr_assert_eq(pkt_get32(q + 16), S);             /* quoted destination unchanged */
	cr_assert_eq(pkt_get16(q + IP4_HDR + 2), 3478);
	cr_assert_eq(nat_get_stats(n)->icmp_in, 1);
	/* REQ-12: the binding is neither removed nor shortened nor refreshed. */
	cr_assert(binding(n, TV_SEC(10), TV_PROTO_UDP, ep(A, 5000), &after));
	cr_assert_eq(after.ttl, before.ttl);
	cr_assert_str_eq(after.state, before.state);
	cr_assert_eq(after.pkts_in, before.pkts_in);
	cr_assert(ep_eq(out_udp(n, TV_SEC(11), ep(A, 5000), ep(S, 3478)), e));
	nat_free(n);
}

Test(nat, icmp_time_exceeded_for_tcp_is_translated)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	uint8_t orig[PKT_IP_MAX], buf[PKT_IP_MAX];
	tv_ep e = out_tcp(n, 0, ep(A, 40000), ep(S, 80), TCP_SYN), s = ep(S, 80);
	tv_ip router = tv_ip4(IP(198, 51, 100, 254));
	int olen = pkt_build_tcp(orig, sizeof(orig), &e, &s, 1, TCP_SYN, 1, 0, 100, NULL, 0), len;
	pkt_info pi;

	len = pkt_build_icmp_error(buf, sizeof(buf), &router, 1, ICMP_TIMXCEED, 0, orig, (size_t)olen);
	cr_assert_eq(process(n, 1, NAT_IN, buf, len, &pi), NAT_IN);
	cr_assert_eq(pi.dst.ip.v4, A);
	cr_assert_eq(pkt_get16(buf + pi.data_off + IP4_HDR), 40000);
	nat_free(n);
}

Test(nat, icmp_error_from_inside_is_translated_out)
{
	nat_cfg c = cfg();
	nat *n;
	uint8_t orig[PKT_IP_MAX], buf[PKT_IP_MAX];
	tv_ep e, a = ep(A, 5000), s = ep(S, 3478);
	int olen, len;
	pkt_info pi;
	const uint8_t *q;

	c.filtering = NAT_EI;
	n = mk(&c);
	e = out_udp(n, 0, a, s);
	/* S's packet as delivered inside, and A's port unreachable about it. */
	olen = pkt_build_udp(orig, sizeof(orig), &s, &a, 1, "hi", 2);
	len = pkt_build_icmp_error(buf, sizeof(buf), &a.ip, 1, ICMP_UNREACH, 3, orig, (size_t)olen);
	cr_assert_eq(process(n, 1, NAT_OUT, buf, len, &pi), NAT_OUT);
	cr_assert_eq(pi.src.ip.v4, PUB);
	cr_assert_eq(pi.dst.ip.v4, S);
	q = buf + pi.data_off;
	cr_assert_eq(pkt_csum_fold(pkt_csum_add(0, q, IP4_HDR)), 0);
	cr_assert_eq(pkt_get32(q + 16), e.ip.v4);
	cr_assert_eq(pkt_get16(q + IP4_HDR + 2), e.port);
	cr_assert_eq(pkt_get32(q + 12), S);
	cr_assert_eq(nat_get_stats(n)->icmp_out, 1);
	nat_free(n);
}

Test(nat, icmp_errors_without_binding_or_not_errors_are_dropped)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);
	uint8_t orig[PKT_IP_MAX], buf[PKT_IP_MAX];
	tv_ip router = tv_ip4(IP(198, 51, 100, 254));
	int olen = sent_packet(orig, ep(PUB, 5000), ep(S, 3478)), len;

	len = pkt_build_icmp_error(buf, sizeof(buf), &router, 1, ICMP_UNREACH, 3, orig, (size_t)olen);
	cr_assert_eq(process(n, 0, NAT_IN, buf, len, NULL), DROP(NAT_DROP_NO_MAPPING));
	out_udp(n, 0, ep(A, 5000), ep(S, 3478));
	len = pkt_build_icmp_error(buf, sizeof(buf), &router, 1, ICMP_ECHO, 0, orig, (size_t)olen);
	cr_assert_eq(process(n, 0, NAT_IN, buf, len, NULL), DROP(NAT_DROP_PROTO));
	/* A quote too short to hold the ports. */
	len = pkt_build_icmp_error(buf, sizeof(buf), &router, 1, ICMP_UNREACH, 3, orig, IP4_HDR + 4);
	cr_assert_eq(process(n, 0, NAT_IN, buf, len, NULL), DROP(NAT_DROP_MALFORMED));
	nat_free(n);
}

/* ---- TTL and timers ---------------------------------------------------- */

Test(nat, ttl_1_is_dropped)
{
	nat_cfg c = cfg();
	nat *n;
	uint8_t buf[PKT_IP_MAX];
	tv_ep a = ep(A, 5000), s = ep(S, 3478), e;
	int len;
	pkt_info pi;

	c.filtering = NAT_EI;
	n = mk(&c);
	len = pkt_build_udp(buf, sizeof(buf), &a, &s, 1, "x", 1);
	buf[8] = 1;
	pkt_put16(buf + 10, 0);
	pkt_put16(buf + 10, pkt_csum_fold(pkt_csum_add(0, buf, IP4_HDR)));
	cr_assert_eq(process(n, 0, NAT_OUT, buf, len, NULL), DROP(NAT_DROP_TTL));
	cr_assert_eq(nat_binding_count(n), 0);
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_TTL], 1);
	/* TTL 2 goes through with TTL 1; inbound TTL 1 is dropped too. */
	len = pkt_build_udp(buf, sizeof(buf), &a, &s, 1, "x", 1);
	buf[8] = 2;
	pkt_put16(buf + 10, 0);
	pkt_put16(buf + 10, pkt_csum_fold(pkt_csum_add(0, buf, IP4_HDR)));
	cr_assert_eq(process(n, 0, NAT_OUT, buf, len, &pi), NAT_OUT);
	cr_assert_eq(pi.ttl, 1);
	e = pi.src;
	len = pkt_build_udp(buf, sizeof(buf), &s, &e, 1, "x", 1);
	buf[8] = 1;
	pkt_put16(buf + 10, 0);
	pkt_put16(buf + 10, pkt_csum_fold(pkt_csum_add(0, buf, IP4_HDR)));
	cr_assert_eq(process(n, 0, NAT_IN, buf, len, NULL), DROP(NAT_DROP_TTL));
	cr_assert_eq(nat_get_stats(n)->drop[NAT_DROP_TTL], 2);
	nat_free(n);
}

Test(nat, sweep_expires_bindings_at_next_wake)
{
	nat_cfg c = cfg();
	nat *n;
	tv_time w;

	c.udp_timeout = c.udp_stream_timeout = TV_SEC(30);
	n = mk(&c);
	cr_assert_eq(nat_next_wake(n), TV_NEVER);
	out_udp(n, TV_SEC(1), ep(A, 1), ep(S, 1));
	out_udp(n, TV_SEC(5), ep(A, 2), ep(S, 1));
	/* Serve wakes until nothing is left; the wake is never late. */
	while ((w = nat_next_wake(n)) != TV_NEVER) {
		cr_assert_leq(w, TV_SEC(35));
		nat_on_timeout(n, w);
		cr_assert_gt(nat_next_wake(n), w);
	}
	cr_assert_eq(nat_binding_count(n), 0);
	cr_assert_eq(nat_get_stats(n)->expired, 2);
	nat_free(n);
}

/* Closing shortens a binding's life: the wake must follow it. */
Test(nat, next_wake_follows_a_closing_binding)
{
	nat_cfg c = cfg();
	nat *n = mk(&c);

	tcp_open(n, 0, ep(A, 40000), ep(S, 80));
	nat_on_timeout(n, TV_SEC(1));   /* the entry is re-queued at 2 h 4 min */
	out_tcp(n, TV_SEC(10), ep(A, 40000), ep(S, 80), TCP_FIN | TCP_ACK);
	cr_assert_leq(nat_next_wake(n), TV_SEC(10 + 240));
	nat_on_timeout(n, TV_SEC(10 + 240));
	cr_assert_eq(nat_binding_count(n), 0);
	cr_assert_eq(nat_get_stats(n)->expired, 1);
	nat_free(n);
}
