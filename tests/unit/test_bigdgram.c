/* test_bigdgram.c - UDP datagrams up to the IPv4 maximum (65,507 bytes of
 * payload in a 65,535-byte packet) cross links and NATs whole: no MTU, no
 * fragmentation (core/host.h). Receivers compare every datagram byte for
 * byte with what was sent; every captured packet's IP and UDP checksums are
 * checked over its whole length against the reference in harness.h; tshark
 * decodes the captures. Each test fails if a size cap comes back anywhere
 * on the path (the old one was 2,048 bytes: 2,020 bytes of payload). */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nat.h"
#include "natnode.h"
#include "pkt.h"
#include "proxy.h"
#include "rng.h"

#include <osipparser2/osip_port.h>
#include <stdarg.h>

#define IP_PHONE 0xc0a8010au    /* 192.168.1.10, behind the NAT */
#define IP_NAT_IN 0xc0a80101u   /* 192.168.1.1 */
#define IP_NAT_PUB 0xcb00710au  /* 203.0.113.10 */
#define IP_SERVER 0xc6336450u   /* 198.51.100.80 */

/* The last datagram a socket received, copied. */
typedef struct inbox {
	uint8_t *data;
	size_t len;
	tv_ep from;
	int n;
} inbox;

static void inbox_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *d, size_t len, tv_time now)
{
	inbox *b = arg;

	(void)s;
	(void)now;
	free(b->data);
	b->data = malloc(len ? len : 1);
	cr_assert_not_null(b->data);
	memcpy(b->data, d, len);
	b->len = len;
	b->from = *from;
	b->n++;
}

static void inbox_free(inbox *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static uint8_t *random_bytes(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n);
	tv_rng r;

	cr_assert_not_null(p);
	tv_rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)tv_rng_next(&r);
	return p;
}

static void expect_datagram(const inbox *b, int n, const uint8_t *sent, size_t len, const char *what)
{
	cr_assert_eq(b->n, n, "%s: %d datagrams arrived, expected %d", what, b->n, n);
	cr_assert_eq(b->len, len, "%s: arrived with %zu bytes of %zu", what, b->len, len);
	cr_assert_eq(memcmp(b->data, sent, len), 0, "%s: bytes differ", what);
}

/* A scratch directory for captures; removed by rm_dir(). */
static void tmp_dir(char *dir, size_t cap)
{
	snprintf(dir, cap, "/tmp/tv-bigdgram-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void tap(sim_link *l, const char *dir, const char *name, char *path, size_t cap)
{
	char err[256];

	snprintf(path, cap, "%s/%s.pcap", dir, name);
	cr_assert_eq(sim_link_pcap_open(l, path, err, sizeof(err)), 0, "%s", err);
}

/* Read a capture (the network must be freed first, which flushes it) and
 * check every packet: captured whole, IPv4 total length equal to the
 * captured length, IP header and UDP checksums right by the reference
 * over the whole datagram, and the UDP checksum actually present. Returns
 * the number of packets; lens[] and srcs[] get each one's length and IP
 * source. */
static int pcap_check_udp(const char *path, size_t *lens, uint32_t *srcs, int max)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0;

	cr_assert_not_null(p, "%s: %s", path, err);
	cr_assert_eq(pcap_snapshot(p), 65535, "%s: snaplen", path);
	while (pcap_next_ex(p, &h, &d) == 1) {
		size_t hl = (size_t)(d[0] & 15) * 4;

		cr_assert_lt(n, max, "%s: more than %d packets", path, max);
		cr_assert_eq(h->caplen, h->len, "%s #%d: cut to %u of %u bytes", path, n, h->caplen, h->len);
		cr_assert_geq(h->caplen, 28);
		cr_assert_eq(d[0] >> 4, 4);
		cr_assert_eq((size_t)(d[2] << 8 | d[3]), h->caplen, "%s #%d: IP total length", path, n);
		cr_assert_eq(d[9], TV_PROTO_UDP);
		cr_assert_eq(th_ref_csum(d, hl), 0, "%s #%d: IP header checksum", path, n);
		cr_assert_eq((size_t)(d[hl + 4] << 8 | d[hl + 5]), h->caplen - hl, "%s #%d: UDP length", path, n);
		cr_assert_neq(d[hl + 6] << 8 | d[hl + 7], 0, "%s #%d: no UDP checksum", path, n);
		cr_assert_eq(th_ref_l4_csum(d, TV_PROTO_UDP), 0, "%s #%d: UDP checksum (%u bytes)", path, n, h->caplen);
		lens[n] = h->caplen;
		srcs[n] = (uint32_t)d[12] << 24 | (uint32_t)d[13] << 16 | (uint32_t)d[14] << 8 | d[15];
		n++;
	}
	pcap_close(p);
	return n;
}

/* One link, two hosts: 2,021 bytes (one past the old cap), 3,500 and the
 * maximum 65,507 arrive whole and identical, and the capture holds each as
 * one packet with the right checksums. */
Test(bigdgram, link_carries_udp_payloads_up_to_65507_bytes_whole)
{
	static const size_t sizes[] = { 2021, 3500, PKT_UDP_DATA_MAX };
	char dir[64], path[128];
	size_t lens[8];
	uint32_t srcs[8];
	th_world w;
	inbox at_b = { 0 };
	tv_ep la = tv_ep4(0, 5000), lb = tv_ep4(0, 6000), to = tv_ep4(TH_IP_B, 6000);
	tv_udp *sa, *sb;
	int err;

	cr_assert_eq(PKT_UDP_DATA_MAX, 65507);
	tmp_dir(dir, sizeof(dir));
	th_world_init(&w, 1, NULL);
	tap(w.l, dir, "lan", path, sizeof(path));
	sa = host_udp_bind(w.a, &la, NULL, NULL, &err);
	sb = host_udp_bind(w.b, &lb, inbox_rx, &at_b, &err);
	cr_assert(sa && sb);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *d = random_bytes(sizes[i], i + 1);

		cr_assert_eq(host_udp_send(sa, &to, d, sizes[i]), 0, "send %zu bytes", sizes[i]);
		sim_net_run_until(w.n, sim_net_now(w.n) + TV_MS(10));
		expect_datagram(&at_b, (int)i + 1, d, sizes[i], "a -> b");
		cr_assert_eq(at_b.from.ip.v4, TH_IP_A);
		cr_assert_eq(at_b.from.port, 5000);
		free(d);
	}
	cr_assert_eq(host_stats(w.b)->rx_bad, 0);
	cr_assert_eq(sim_link_stats_get(w.l)->bytes, 3 * 28 + 2021 + 3500 + 65507);
	host_udp_close(sa);
	host_udp_close(sb);
	th_world_free(&w);
	cr_assert_eq(pcap_check_udp(path, lens, srcs, 8), 3);
	cr_assert_eq(lens[0], 28 + 2021);
	cr_assert_eq(lens[1], 28 + 3500);
	cr_assert_eq(lens[2], 65535);
	inbox_free(&at_b);
	rm_dir(dir);
}

/* phone (192.168.1.10) -- home -- NAT (203.0.113.10) -- internet -- server */
typedef struct nat_world {
	sim_net *n;
	sim_link *home, *inet;
	nat_node *nat;
	tv_host *phone, *server;
} nat_world;

static void nat_world_init(nat_world *w, const char *dir, char *home_pcap, char *inet_pcap, size_t cap)
{
	sim_link_cfg d = { .delay = TV_MS(2) };
	nat_cfg nc;
	tv_ip ip;
	char err[128];

	memset(w, 0, sizeof(*w));
	w->n = sim_net_new(7);
	w->home = sim_link_new(w->n, "home", &d);
	w->inet = sim_link_new(w->n, "internet", &d);
	cr_assert(w->n && w->home && w->inet);
	if (dir) {
		tap(w->home, dir, "home", home_pcap, cap);
		tap(w->inet, dir, "internet", inet_pcap, cap);
	}
	nat_cfg_default(&nc);
	nc.pub[0] = tv_ip4(IP_NAT_PUB);
	nc.npub = 1;
	ip = tv_ip4(IP_NAT_IN);
	w->nat = nat_node_new(w->n, "nat", w->home, &ip, w->inet, &nc, err, sizeof(err));
	cr_assert_not_null(w->nat, "%s", err);
	ip = tv_ip4(IP_PHONE);
	w->phone = simhost_new(w->n, w->home, "phone", &ip);
	ip = tv_ip4(IP_SERVER);
	w->server = simhost_new(w->n, w->inet, "server", &ip);
	cr_assert(w->phone && w->server);
}

static void nat_world_free(nat_world *w)
{
	host_free(w->phone);
	host_free(w->server);
	nat_node_free(w->nat);
	sim_net_free(w->n);
}

/* 3,500 and 65,507 bytes out through the NAT and back in: translated
 * (the server sees the NAT's public address, the phone the server's),
 * byte-identical, and the UDP checksum right on both sides of the NAT,
 * which repairs it over the whole datagram. */
Test(bigdgram, nat_translates_big_datagrams_both_ways)
{
	static const size_t sizes[] = { 3500, PKT_UDP_DATA_MAX };
	char dir[64], home_pcap[128], inet_pcap[128];
	size_t lens[8];
	uint32_t srcs[8];
	nat_world w;
	inbox at_phone = { 0 }, at_server = { 0 };
	tv_ep l = tv_ep4(0, 5060), srv = tv_ep4(IP_SERVER, 5060);
	tv_udp *sp, *ss;
	const nat_stats *st;
	int err;

	tmp_dir(dir, sizeof(dir));
	nat_world_init(&w, dir, home_pcap, inet_pcap, sizeof(home_pcap));
	sp = host_udp_bind(w.phone, &l, inbox_rx, &at_phone, &err);
	ss = host_udp_bind(w.server, &l, inbox_rx, &at_server, &err);
	cr_assert(sp && ss);
	for (size_t i = 0; i < 2; i++) {
		uint8_t *out = random_bytes(sizes[i], 10 + i), *back = random_bytes(sizes[i], 20 + i);

		cr_assert_eq(host_udp_send(sp, &srv, out, sizes[i]), 0);
		sim_net_run_until(w.n, sim_net_now(w.n) + TV_MS(10));
		expect_datagram(&at_server, (int)i + 1, out, sizes[i], "phone -> server through the NAT");
		cr_assert_eq(at_server.from.ip.v4, IP_NAT_PUB, "the server sees the NAT's address");

		cr_assert_eq(host_udp_send(ss, &at_server.from, back, sizes[i]), 0);
		sim_net_run_until(w.n, sim_net_now(w.n) + TV_MS(10));
		expect_datagram(&at_phone, (int)i + 1, back, sizes[i], "server -> phone through the NAT");
		cr_assert_eq(at_phone.from.ip.v4, IP_SERVER);
		cr_assert_eq(at_phone.from.port, 5060);
		free(out);
		free(back);
	}
	st = nat_get_stats(nat_node_engine(w.nat));
	cr_assert_eq(st->out, 2);
	cr_assert_eq(st->in, 2);
	cr_assert_eq(st->drop[NAT_DROP_MALFORMED], 0);
	cr_assert_eq(host_stats(w.phone)->rx_bad + host_stats(w.server)->rx_bad, 0);
	host_udp_close(sp);
	host_udp_close(ss);
	nat_world_free(&w);

	/* Each link saw out, back, out, back; the public side carries the NAT's
	 * address, the home side the phone's. */
	cr_assert_eq(pcap_check_udp(home_pcap, lens, srcs, 8), 4);
	cr_assert(lens[0] == 3528 && lens[1] == 3528 && lens[2] == 65535 && lens[3] == 65535);
	cr_assert(srcs[0] == IP_PHONE && srcs[1] == IP_SERVER && srcs[2] == IP_PHONE && srcs[3] == IP_SERVER);
	cr_assert_eq(pcap_check_udp(inet_pcap, lens, srcs, 8), 4);
	cr_assert(lens[0] == 3528 && lens[1] == 3528 && lens[2] == 65535 && lens[3] == 65535);
	cr_assert(srcs[0] == IP_NAT_PUB && srcs[1] == IP_SERVER && srcs[2] == IP_NAT_PUB && srcs[3] == IP_SERVER);
	inbox_free(&at_phone);
	inbox_free(&at_server);
	rm_dir(dir);
}

/* A maximum-size datagram to a closed port: the ICMP error quotes only
 * its IP header and first 8 bytes (RFC 792), and finds its way back
 * through the NAT to the sender. */
Test(bigdgram, icmp_error_for_a_big_datagram_crosses_the_nat)
{
	nat_world w;
	tv_ep l = tv_ep4(0, 5060), closed = tv_ep4(IP_SERVER, 9);
	uint8_t *d = random_bytes(PKT_UDP_DATA_MAX, 3);
	tv_udp *sp;
	int err;

	nat_world_init(&w, NULL, NULL, NULL, 0);
	sp = host_udp_bind(w.phone, &l, NULL, NULL, &err);
	cr_assert_eq(host_udp_send(sp, &closed, d, PKT_UDP_DATA_MAX), 0);
	sim_net_run_until(w.n, TV_MS(20));
	cr_assert_eq(host_stats(w.server)->rx_noport, 1);
	cr_assert_eq(sim_link_stats_get(w.inet)->bytes, 65535 + 56,
		     "the error is 56 bytes: IP and ICMP headers and the quoted 28");
	cr_assert_eq(nat_get_stats(nat_node_engine(w.nat))->icmp_in, 1);
	cr_assert_eq(host_stats(w.phone)->icmp_rx, 1);
	host_udp_close(sp);
	nat_world_free(&w);
	free(d);
}

/* One byte over the maximum is refused with TV_EMSGSIZE by every sending
 * call, and nothing (not a truncated datagram) reaches the link. */
Test(bigdgram, over_65507_bytes_is_refused_not_truncated)
{
	th_world w;
	inbox at_b = { 0 };
	tv_ep lb = tv_ep4(0, 6000), to = tv_ep4(TH_IP_B, 6000);
	tv_ip src = tv_ip4(TH_IP_A);
	tv_ep from = tv_ep4(TH_IP_A, 5000);
	uint8_t *d = random_bytes(PKT_IP_MAX + 1, 4);
	uint8_t *pkt = malloc(PKT_IP_MAX + 64);
	tv_udp *sa, *sb;
	int err;

	cr_assert_not_null(pkt);
	th_world_init(&w, 1, NULL);
	sa = host_udp_bind(w.a, NULL, NULL, NULL, &err);
	sb = host_udp_bind(w.b, &lb, inbox_rx, &at_b, &err);
	cr_assert_eq(host_udp_send(sa, &to, d, 65508), TV_EMSGSIZE);
	cr_assert_eq(host_udp_send_from(sa, &src, &to, d, 65508), TV_EMSGSIZE);
	cr_assert_eq(host_udp_send(sa, &to, d, (size_t)1 << 20), TV_EMSGSIZE);
	cr_assert_eq(pkt_build_udp(pkt, PKT_IP_MAX + 64, &from, &to, 1, d, 65508), TV_EMSGSIZE);
	cr_assert_eq(simhost_inject(w.a, d, PKT_IP_MAX + 1), TV_EMSGSIZE);
	cr_assert_eq(simhost_inject(w.a, d, 0), TV_EINVAL);
	sim_net_run_until(w.n, TV_MS(50));
	cr_assert_eq(sim_link_stats_get(w.l)->tx, 0, "nothing went on the link");
	cr_assert_eq(at_b.n, 0);

	/* The boundary itself goes through, from both calls. */
	cr_assert_eq(host_udp_send(sa, &to, d, 65507), 0);
	cr_assert_eq(host_udp_send_from(sa, &src, &to, d, 65507), 0);
	sim_net_run_until(w.n, TV_MS(100));
	expect_datagram(&at_b, 2, d, 65507, "the maximum");
	host_udp_close(sa);
	host_udp_close(sb);
	th_world_free(&w);
	inbox_free(&at_b);
	free(pkt);
	free(d);
}

/* Packet storage is sized per packet: 100 datagrams of 3,500 bytes in
 * flight hold 4 KiB slots, not 64 KiB ones; and once warm, sending (big or
 * small) reuses slots instead of allocating. */
Test(bigdgram, packets_in_flight_cost_their_size_and_reuse_slots)
{
	th_world w;
	tv_ep to = tv_ep4(TH_IP_B, 9);
	uint8_t *d = random_bytes(3500, 5);
	size_t m0, m1, m2, m3;
	tv_udp *sa;
	int err;

	th_world_init(&w, 1, NULL);
	simhost_set_icmp(w.b, false);
	sa = host_udp_bind(w.a, NULL, NULL, NULL, &err);
	m0 = sim_net_pkt_mem(w.n);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(host_udp_send(sa, &to, d, 3500), 0);
	m1 = sim_net_pkt_mem(w.n);
	cr_assert_geq(m1 - m0, 100 * 3528);
	cr_assert_leq(m1 - m0, 100 * (4096 + 256), "%zu bytes for 100 x 3.5 KB in flight", m1 - m0);
	sim_net_run_until(w.n, TV_MS(10));
	for (int i = 0; i < 100; i++)
		cr_assert_eq(host_udp_send(sa, &to, d, 3500), 0);
	cr_assert_eq(sim_net_pkt_mem(w.n), m1, "slots were reused");
	sim_net_run_until(w.n, TV_MS(20));

	for (int i = 0; i < 1000; i++)
		cr_assert_eq(host_udp_send(sa, &to, d, 160), 0);
	m2 = sim_net_pkt_mem(w.n);
	cr_assert_leq(m2 - m1, 1000 * (2048 + 256), "small packets take small slots");
	sim_net_run_until(w.n, TV_MS(30));
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(host_udp_send(sa, &to, d, 160), 0);
	m3 = sim_net_pkt_mem(w.n);
	cr_assert_eq(m3, m2, "the hot path allocates nothing once warm");
	cr_assert_eq(sim_link_stats_get(w.l)->tx, 2200);
	host_udp_close(sa);
	th_world_free(&w);
	free(d);
}

/* A SIP MESSAGE of exactly len bytes: its text/plain body is padded with
 * 64-character lines, and Content-Length is right. */
static char *sip_message(size_t len)
{
	char head[512];
	char *m = malloc(len + 1);
	size_t hl = 0, prev, body;

	cr_assert_not_null(m);
	do {    /* the header's length depends on the Content-Length's digits */
		prev = hl;
		hl = (size_t)snprintf(head, sizeof(head),
				      "MESSAGE sip:bob@example.net SIP/2.0\r\n"
				      "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKbig%zu\r\n"
				      "Max-Forwards: 70\r\n"
				      "From: <sip:alice@example.net>;tag=a%zu\r\n"
				      "To: <sip:bob@example.net>\r\n"
				      "Call-ID: big-%zu@10.0.0.1\r\n"
				      "CSeq: 1 MESSAGE\r\n"
				      "Content-Type: text/plain\r\n"
				      "Content-Length: %zu\r\n\r\n", len, len, len, len - prev);
	} while (hl != prev);
	cr_assert_lt(hl + 2, len);
	memcpy(m, head, hl);
	body = len - hl;
	for (size_t i = 0; i < body; i++) {
		size_t col = i % 66;
		m[hl + i] = col == 64 ? '\r' : col == 65 ? '\n' : (char)('a' + (i / 66) % 26);
	}
	m[len - 2] = '\r';
	m[len - 1] = '\n';
	m[len] = '\0';
	return m;
}

/* Run tshark on a capture and return its output (caller frees). */
static char *tshark(const char *args)
{
	char cmd[1024];
	size_t cap = 4096, n = 0, r;
	char *out = malloc(cap);
	FILE *f;

	cr_assert_not_null(out);
	cr_assert_eq(system("command -v tshark >/dev/null"), 0, "tshark is not installed (make deps)");
	snprintf(cmd, sizeof(cmd), "tshark -n %s 2>/dev/null", args);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while ((r = fread(out + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 == cap) {
			out = realloc(out, cap *= 2);
			cr_assert_not_null(out);
		}
	}
	out[n] = '\0';
	cr_assert_eq(pclose(f), 0, "tshark %s failed:\n%s", args, out);
	return out;
}

/* tshark decodes SIP in 3,500- and 65,507-byte datagrams from a capture,
 * with no malformed packet and no bad checksum (the filter of
 * tests/tshark_check.sh), and sees them whole. */
Test(bigdgram, tshark_decodes_big_sip_datagrams, .timeout = 60)
{
	static const size_t sizes[] = { 3500, PKT_UDP_DATA_MAX };
	char dir[64], path[128], args[512];
	th_world w;
	inbox at_b = { 0 };
	tv_ep l = tv_ep4(0, 5060), to = tv_ep4(TH_IP_B, 5060);
	tv_udp *sa, *sb;
	char *out, expect[256];
	size_t body[2];
	int err;

	tmp_dir(dir, sizeof(dir));
	th_world_init(&w, 1, NULL);
	tap(w.l, dir, "lan", path, sizeof(path));
	sa = host_udp_bind(w.a, &l, NULL, NULL, &err);
	sb = host_udp_bind(w.b, &l, inbox_rx, &at_b, &err);
	for (size_t i = 0; i < 2; i++) {
		char *m = sip_message(sizes[i]);
		cr_assert_eq(strlen(m), sizes[i]);
		body[i] = sizes[i] - (size_t)(strstr(m, "\r\n\r\n") + 4 - m);
		cr_assert_eq(host_udp_send(sa, &to, m, sizes[i]), 0);
		sim_net_run_until(w.n, sim_net_now(w.n) + TV_MS(10));
		expect_datagram(&at_b, (int)i + 1, (const uint8_t *)m, sizes[i], "SIP a -> b");
		free(m);
	}
	host_udp_close(sa);
	host_udp_close(sb);
	th_world_free(&w);

	snprintf(args, sizeof(args),
		 "-r '%s' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
		 "-Y '_ws.malformed || _ws.expert.severity >= \"error\" || ip.checksum.status == \"Bad\" "
		 "|| udp.checksum.status == \"Bad\"'", path);
	out = tshark(args);
	cr_assert_str_eq(out, "", "tshark flags packets:\n%s", out);
	free(out);
	snprintf(args, sizeof(args),
		 "-r '%s' -o udp.check_checksum:TRUE -T fields -e frame.cap_len -e ip.len -e udp.length "
		 "-e udp.checksum.status -e sip.Method -e sip.Content-Length -e frame.protocols", path);
	out = tshark(args);
	/* whole frames; IP and UDP lengths; checksum status 1 = "Good" */
	snprintf(expect, sizeof(expect),
		 "3528\t3528\t3508\t1\tMESSAGE\t%zu\traw:ip:udp:sip:data-text-lines\n"
		 "65535\t65535\t65515\t1\tMESSAGE\t%zu\traw:ip:udp:sip:data-text-lines\n", body[0], body[1]);
	cr_assert_str_eq(out, expect);
	free(out);
	inbox_free(&at_b);
	rm_dir(dir);
}

static void quiet(const char *fi, int li, osip_trace_level_t lv, const char *f, va_list ap)
{
	(void)fi;
	(void)li;
	(void)lv;
	(void)f;
	(void)ap;
}

/* 48 extension headers of 70 bytes: 3,360 bytes the proxy must forward
 * untouched. */
static const char *pad_block(void)
{
	static char pad[48 * 70 + 1];
	size_t n = 0;

	for (int i = 0; i < 48; i++)
		n += (size_t)snprintf(pad + n, sizeof(pad) - n, "X-Pad-%02d: %058d\r\n", i, i);
	cr_assert_eq(n, 48 * 70);
	return pad;
}

/* The case: a 3.5 KB SIP request over UDP from a phone behind a
 * NAT reaches the softswitch through the proxy, and a 3.5 KB answer
 * comes back the whole way; before, neither was sent. */
Test(bigdgram, big_sip_over_udp_crosses_nat_and_proxy_both_ways)
{
	nat_world w;
	sim_link_cfg d = { .delay = TV_MS(2) };
	sim_link *core;
	proxy_cfg pc;
	proxy *px;
	tv_host *px_h, *ss;
	tv_ip ip;
	tv_ep l = tv_ep4(0, 5060), px_sip = tv_ep4(0xc633640a, 5060);
	inbox at_phone = { 0 }, at_ss = { 0 };
	tv_udp *sp, *sss;
	char reg[4096], ok[4096];
	char *got;
	int err, n;

	osip_trace_initialize_func(END_TRACE_LEVEL, quiet);
	nat_world_init(&w, NULL, NULL, NULL, 0);
	core = sim_link_new(w.n, "core", &d);
	proxy_cfg_default(&pc);
	pc.access_ip = tv_ip4(0xc633640a);      /* 198.51.100.10 */
	pc.core_ip = tv_ip4(0x0a000001);        /* 10.0.0.1 */
	pc.softswitch = tv_ep4(0x0a000064, 5060);
	pc.keepalive = PX_KA_OFF;
	pc.random_ports = false;                /* the expected bytes name the ports */
	px_h = simhost_new(w.n, w.inet, "px", &pc.access_ip);
	cr_assert_eq(simhost_add_iface(px_h, core, &pc.core_ip), 0);
	px = proxy_new(px_h, &pc, &err);
	cr_assert_not_null(px);
	ip = tv_ip4(0x0a000064);
	ss = simhost_new(w.n, core, "ss", &ip);
	sp = host_udp_bind(w.phone, &l, inbox_rx, &at_phone, &err);
	sss = host_udp_bind(ss, &l, inbox_rx, &at_ss, &err);
	cr_assert(sp && sss);

	n = snprintf(reg, sizeof(reg),
		     "REGISTER sip:example.net SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKbig1;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@example.net>;tag=a1\r\n"
		     "To: <sip:alice@example.net>\r\n"
		     "Call-ID: big-reg@192.168.1.10\r\n"
		     "CSeq: 1 REGISTER\r\n"
		     "Contact: <sip:alice@192.168.1.10:5060>\r\n"
		     "%s"
		     "Expires: 3600\r\n"
		     "Content-Length: 0\r\n\r\n", pad_block());
	cr_assert_gt(n, 3500);
	cr_assert_eq(host_udp_send(sp, &px_sip, reg, (size_t)n), 0);
	sim_net_run_until(w.n, TV_MS(50));
	cr_assert_eq(at_ss.n, 1, "the REGISTER reached the softswitch");
	cr_assert_gt(at_ss.len, 3500);
	got = strndup((const char *)at_ss.data, at_ss.len);
	cr_assert(strstr(got, pad_block()) != NULL, "extension headers forwarded byte for byte");
	cr_assert(strstr(got, "Via: SIP/2.0/UDP 10.0.0.1:") != NULL, "%s", got);
	cr_assert_null(strstr(got, "192.168."), "no private address reaches the core");
	cr_assert_eq(at_ss.from.ip.v4, 0x0a000001);
	free(got);

	n = snprintf(ok, sizeof(ok),
		     "SIP/2.0 200 OK\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.1:%u;branch=z9hG4bKbig1;rport=%u;received=10.0.0.1\r\n"
		     "From: <sip:alice@example.net>;tag=a1\r\n"
		     "To: <sip:alice@example.net>;tag=ss\r\n"
		     "Call-ID: big-reg@10.0.0.1\r\n"
		     "CSeq: 1 REGISTER\r\n"
		     "Contact: <sip:alice@10.0.0.1:%u>;expires=3600\r\n"
		     "%s"
		     "Content-Length: 0\r\n\r\n",
		     at_ss.from.port, at_ss.from.port, at_ss.from.port, pad_block());
	cr_assert_gt(n, 3500);
	cr_assert_eq(host_udp_send(sss, &at_ss.from, ok, (size_t)n), 0);
	sim_net_run_until(w.n, TV_MS(100));
	cr_assert_eq(at_phone.n, 1, "the 200 came back through the proxy and the NAT");
	cr_assert_gt(at_phone.len, 3500);
	got = strndup((const char *)at_phone.data, at_phone.len);
	cr_assert(strncmp(got, "SIP/2.0 200 OK\r\n", 16) == 0, "%s", got);
	cr_assert(strstr(got, pad_block()) != NULL, "extension headers forwarded byte for byte");
	cr_assert(strstr(got, "Via: SIP/2.0/UDP 192.168.1.10:5060;") != NULL, "%s", got);
	cr_assert_eq(at_phone.from.ip.v4, 0xc633640a);
	cr_assert_eq(proxy_get_stats(px)->bindings, 1);
	free(got);

	host_udp_close(sp);
	host_udp_close(sss);
	proxy_free(px);
	host_free(px_h);
	host_free(ss);
	nat_world_free(&w);
	inbox_free(&at_phone);
	inbox_free(&at_ss);
}
