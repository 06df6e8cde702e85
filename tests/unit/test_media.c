/* test_media.c - RTP/RTCP source and sink (simterm/media.c).
 *
 * Topology of every test:
 *
 *     host a 10.0.0.1 ----[ link "lan", 5 ms ]---- host b 10.0.0.2
 *     media 4000/4001                                media 6000/6001
 *
 * The clock is virtual (sim_net_run_until); the default stream is G.711:
 * 20 ms, 160 bytes of payload, 172-byte RTP packets, RTCP every 5 s. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "media.h"

#define IP_A TH_IP_A
#define IP_B TH_IP_B
#define PA 4000
#define PB 6000
#define NCAP 16
#define NTP_EPOCH (2208988800ULL + 1767225600ULL)

struct world {
	sim_net *n;
	sim_link *l;
	tv_host *a, *b;
	media_stream *ma, *mb;
};

/* What a plain UDP socket received. */
struct cap {
	int n;
	uint8_t pkt[NCAP][256];
	size_t len[NCAP];
	tv_time at[NCAP];
};

static void world_init(struct world *w, uint64_t seed, const sim_link_cfg *cfg)
{
	th_world t;

	th_world_init(&t, seed, cfg);
	memset(w, 0, sizeof(*w));
	w->n = t.n;
	w->l = t.l;
	w->a = t.a;
	w->b = t.b;
}

static void world_free(struct world *w)
{
	th_world t = { .n = w->n, .l = w->l, .a = w->a, .b = w->b };

	media_free(w->ma);
	media_free(w->mb);
	th_world_free(&t);
}

static media_stream *stream(tv_host *h, uint16_t rtp, uint16_t rtcp, const media_cfg *cfg)
{
	int err = 1;
	media_stream *m = media_new(h, rtp, rtcp, cfg, &err);

	cr_assert_not_null(m);
	cr_assert_eq(err, 0);
	return m;
}

/* Send to ip:rtp and ip:rtcp (no RTCP if rtcp is 0). */
static void aim(media_stream *m, uint32_t ip, uint16_t rtp, uint16_t rtcp)
{
	tv_ep r = tv_ep4(ip, rtp), c = tv_ep4(ip, rtcp);

	media_set_remote(m, &r, rtcp ? &c : NULL);
}

static void run(struct world *w, tv_time dur)
{
	sim_net_run_until(w->n, sim_net_now(w->n) + dur);
}

/* Both streams talk for dur (packets at t0 .. t0 + dur - ptime), then stop;
 * what is in flight still arrives. */
static void talk(struct world *w, tv_time dur)
{
	if (w->ma)
		media_start(w->ma);
	if (w->mb)
		media_start(w->mb);
	run(w, dur - 1);
	if (w->ma)
		media_stop(w->ma);
	if (w->mb)
		media_stop(w->mb);
	run(w, TV_SEC(1));
}

/* A default call: a on 4000/4001 <-> b on 6000/6001. */
static void call_setup(struct world *w, const media_cfg *ca, const media_cfg *cb)
{
	w->ma = stream(w->a, PA, PA + 1, ca);
	w->mb = stream(w->b, PB, PB + 1, cb);
	aim(w->ma, IP_B, PB, PB + 1);
	aim(w->mb, IP_A, PA, PA + 1);
}

static void cap_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len,
		   tv_time now)
{
	struct cap *c = arg;

	(void)s;
	(void)from;
	if (c->n == NCAP || len > sizeof(c->pkt[0]))
		return;
	memcpy(c->pkt[c->n], data, len);
	c->len[c->n] = len;
	c->at[c->n++] = now;
}

static tv_udp *raw_bind(tv_host *h, uint16_t port, struct cap *c)
{
	tv_ep l = tv_ep4(0, port);
	int err = 1;
	tv_udp *s = host_udp_bind(h, &l, cap_rx, c, &err);

	cr_assert_not_null(s);
	return s;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* A minimal RTP header (V=2, PT 0) with seq, ts and ssrc. */
static void rtp_hdr(uint8_t *p, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	memset(p, 0, 12);
	p[0] = 0x80;
	p[2] = seq >> 8;
	p[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
}

static void check_clean(const media_stats *st, uint32_t ssrc)
{
	cr_assert_eq(st->rtp_rx, 500);
	cr_assert_eq(st->rtp_rx_bytes, 500 * 172);
	cr_assert_eq(st->remote_ssrc, ssrc);
	cr_assert_eq(st->lost, 0);
	cr_assert_eq(st->dup, 0);
	cr_assert_eq(st->reordered, 0);
	cr_assert_eq(st->bad, 0);
	cr_assert_eq(st->ssrc_changes, 0);
	cr_assert_eq(st->jitter_ms, 0.0);
	cr_assert_eq(st->first_rx, TV_MS(5));
	cr_assert_eq(st->last_rx, TV_MS(9980 + 5));
	cr_assert_eq(st->max_gap, TV_MS(20));
	cr_assert_eq(st->nsrc, 1);
	cr_assert_eq(st->src[0].n, 500);
}

Test(media, two_way_clean)
{
	struct world w;
	media_cfg ca = { .ssrc = 0x11111111 };
	const media_stats *sa, *sb;

	world_init(&w, 1, NULL);
	call_setup(&w, &ca, NULL);
	talk(&w, TV_SEC(10));
	sa = media_get_stats(w.ma);
	sb = media_get_stats(w.mb);
	cr_assert_eq(sa->rtp_tx, 500);
	cr_assert_eq(sa->rtp_tx_bytes, 500 * 172);
	cr_assert_eq(sb->rtp_tx, 500);
	check_clean(sb, 0x11111111);
	check_clean(sa, sa->remote_ssrc);
	cr_assert_neq(sa->remote_ssrc, 0);
	cr_assert_neq(sa->remote_ssrc, 0x11111111);
	cr_assert(tv_ep_eq(&sb->src[0].ep, &(tv_ep){ tv_ip4(IP_A), PA }));
	cr_assert(tv_ep_eq(&sa->src[0].ep, &(tv_ep){ tv_ip4(IP_B), PB }));
	/* Reports at 2.5 s and 7.5 s, both SRs. */
	cr_assert_eq(sa->rtcp_tx, 2);
	cr_assert_eq(sb->rtcp_rx, 2);
	cr_assert_eq(sb->rtcp_sr_rx, 2);
	cr_assert_eq(sa->rtcp_sr_rx, 2);
	cr_assert_eq(sa->rtcp_rr_rx, 0);
	cr_assert_eq(host_stats(w.a)->rx_noport, 0);
	world_free(&w);
}

/* a's RTP and RTCP land on plain sockets at b; a stream c on b (port 7000)
 * sends to a, so a's reports carry a block about c. */
Test(media, wire_format)
{
	struct world w;
	media_cfg ca = { .ssrc = 0xa0a0a0a0 }, cc = { .ssrc = 0xc0c0c0c0 };
	struct cap rtp = { 0 }, rtcp = { 0 };
	tv_udp *s1, *s2;
	const uint8_t *p, *q;
	uint64_t lsr = ((NTP_EPOCH + 2) << 16 | 0x8000) & 0xffffffff;

	world_init(&w, 2, NULL);
	s1 = raw_bind(w.b, PB, &rtp);
	s2 = raw_bind(w.b, PB + 1, &rtcp);
	w.ma = stream(w.a, PA, PA + 1, &ca);
	w.mb = stream(w.b, 7000, 7001, &cc);
	aim(w.ma, IP_B, PB, PB + 1);
	aim(w.mb, IP_A, PA, PA + 1);
	talk(&w, TV_SEC(10));

	cr_assert_eq(rtp.n, NCAP);
	p = rtp.pkt[0];
	cr_assert_eq(rtp.len[0], 172);
	cr_assert_eq(p[0], 0x80);
	cr_assert_eq(p[1], 0x80, "marker and PT 0 on the first packet");
	cr_assert_eq(rd32(p + 8), 0xa0a0a0a0);
	q = rtp.pkt[1];
	cr_assert_eq(q[1], 0x00);
	cr_assert_eq(rd16(q + 2), (uint16_t)(rd16(p + 2) + 1));
	cr_assert_eq(rd32(q + 4), rd32(p + 4) + 160);
	cr_assert_eq(rtp.at[1] - rtp.at[0], TV_MS(20));

	cr_assert_eq(rtcp.n, 2);
	p = rtcp.pkt[0];
	cr_assert_eq(rtcp.at[0], TV_MS(2505));
	cr_assert_eq(p[0], 0x81, "SR with one report block");
	cr_assert_eq(p[1], 200);
	cr_assert_eq(rd16(p + 2), 12);
	cr_assert_eq(rd32(p + 4), 0xa0a0a0a0);
	cr_assert_eq(rd32(p + 8), NTP_EPOCH + 2);
	cr_assert_eq(rd32(p + 12), 0x80000000u);
	cr_assert_eq(rd32(p + 16), rd32(rtp.pkt[0] + 4) + 20000);
	cr_assert_eq(rd32(p + 20), 126);
	cr_assert_eq(rd32(p + 24), 126 * 160);
	cr_assert_eq(rd32(p + 28), 0xc0c0c0c0);
	cr_assert_eq(rd32(p + 32), 0, "no loss");
	cr_assert_eq(rd32(p + 40), 0, "no jitter");
	cr_assert_eq(rd32(p + 44), 0, "no SR from c yet");
	/* SDES CNAME */
	q = p + 52;
	cr_assert_eq(q[0], 0x81);
	cr_assert_eq(q[1], 202);
	cr_assert_eq(rtcp.len[0], 52 + 4 * (rd16(q + 2) + 1));
	cr_assert_eq(rd32(q + 4), 0xa0a0a0a0);
	cr_assert_eq(q[8], 1);
	cr_assert_eq(q[9], strlen("a@10.0.0.1"));
	cr_assert_eq(memcmp(q + 10, "a@10.0.0.1", 10), 0);
	cr_assert_eq(q[20], 0, "END item");

	/* The second report: 250 more packets from c, and LSR/DLSR about
	 * c's SR of 2.5 s that arrived at 2.505 s. */
	q = rtcp.pkt[1];
	cr_assert_eq(rd32(q + 36) - rd32(p + 36), 250);
	cr_assert_eq(rd32(q + 44), lsr);
	cr_assert_eq(rd32(q + 48), (uint32_t)(4995000ULL * 65536 / 1000000));
	host_udp_close(s1);
	host_udp_close(s2);
	world_free(&w);
}

/* One way, a -> b; loss only in the middle so none hides at the ends. */
Test(media, loss_matches_link)
{
	struct world w;
	sim_link_cfg lossy = { .delay = TV_MS(5), .loss = 0.1 }, clean = { .delay = TV_MS(5) };
	const media_stats *sa, *sb;
	const sim_link_stats *ls;

	world_init(&w, 3, NULL);
	w.ma = stream(w.a, PA, 0, NULL);
	w.mb = stream(w.b, PB, PB + 1, NULL);
	aim(w.ma, IP_B, PB, 0);
	media_start(w.ma);
	run(&w, TV_SEC(1));
	sim_link_set_cfg(w.l, &lossy);
	run(&w, TV_SEC(10));
	sim_link_set_cfg(w.l, &clean);
	run(&w, TV_SEC(1));
	media_stop(w.ma);
	run(&w, TV_SEC(1));
	sa = media_get_stats(w.ma);
	sb = media_get_stats(w.mb);
	ls = sim_link_stats_get(w.l);
	cr_assert_eq(sa->rtcp_tx, 0);
	cr_assert_eq(ls->tx, sa->rtp_tx);
	cr_assert_gt(ls->lost, 20);
	cr_assert_eq(sb->lost, ls->lost);
	cr_assert_eq(sb->rtp_rx, ls->delivered);
	cr_assert_eq(sb->rtp_rx + sb->lost, sa->rtp_tx);
	cr_assert_eq(sb->jitter_ms, 0.0);
	cr_assert_eq(sb->dup + sb->reordered + sb->bad, 0);
	world_free(&w);
}

Test(media, duplicates_counted)
{
	struct world w;
	sim_link_cfg cfg = { .delay = TV_MS(5), .dup = 0.1 };
	const media_stats *sb;

	world_init(&w, 4, &cfg);
	w.ma = stream(w.a, PA, 0, NULL);
	w.mb = stream(w.b, PB, PB + 1, NULL);
	aim(w.ma, IP_B, PB, 0);
	talk(&w, TV_SEC(10));
	sb = media_get_stats(w.mb);
	cr_assert_gt(sim_link_stats_get(w.l)->dup, 20);
	cr_assert_eq(sb->dup, sim_link_stats_get(w.l)->dup);
	cr_assert_eq(sb->rtp_rx, 500 + sb->dup);
	cr_assert_eq(sb->lost, 0);
	cr_assert_eq(sb->reordered, 0);
	world_free(&w);
}

Test(media, reordering_counted)
{
	struct world w;
	sim_link_cfg cfg = { .delay = TV_MS(5), .reorder = 0.05, .reorder_delay = TV_MS(50) };
	const media_stats *sb;

	world_init(&w, 5, &cfg);
	call_setup(&w, NULL, NULL);
	talk(&w, TV_SEC(10));
	sb = media_get_stats(w.mb);
	cr_assert_gt(sb->reordered, 5);
	cr_assert_lt(sb->reordered, 60);
	cr_assert_eq(sb->rtp_rx, 500);
	cr_assert_eq(sb->lost, 0);
	cr_assert_eq(sb->dup, 0);
	cr_assert_gt(sb->jitter_ms, 0.0);
	world_free(&w);
}

Test(media, jitter_measured)
{
	struct world w;
	sim_link_cfg cfg = { .delay = TV_MS(5), .jitter = TV_MS(10) };
	const media_stats *sa, *sb;

	world_init(&w, 6, &cfg);
	call_setup(&w, NULL, NULL);
	talk(&w, TV_SEC(10));
	sa = media_get_stats(w.ma);
	sb = media_get_stats(w.mb);
	cr_assert_gt(sb->jitter_ms, 0.5);
	cr_assert_lt(sb->jitter_ms, 10.0);
	cr_assert_gt(sa->jitter_ms, 0.5);
	cr_assert_eq(sb->rtp_rx, 500);
	cr_assert_eq(sb->lost + sb->reordered + sb->dup, 0);
	cr_assert_gt(sb->max_gap, TV_MS(20));
	world_free(&w);
}

/* a mutes from 2 s to 6 s; RTCP every second goes on (RR once nothing was
 * sent since the second-previous report: at 4.5 s and 5.5 s). */
Test(media, mute_keeps_rtcp)
{
	struct world w;
	media_cfg cfg = { .rtcp_interval = TV_SEC(1) };
	const media_stats *sb;
	uint64_t rtcp_at_mute;

	world_init(&w, 7, NULL);
	call_setup(&w, &cfg, &cfg);
	sb = media_get_stats(w.mb);
	media_start(w.ma);
	media_start(w.mb);
	run(&w, TV_SEC(2) - 1);
	media_mute(w.ma, true);
	run(&w, TV_MS(20));
	rtcp_at_mute = sb->rtcp_rx;
	cr_assert_eq(sb->rtp_rx, 100);
	run(&w, TV_SEC(4) - TV_MS(20));
	cr_assert_eq(sb->rtp_rx, 100);
	cr_assert_eq(sb->rtcp_rx - rtcp_at_mute, 4);
	media_mute(w.ma, false);
	run(&w, TV_SEC(2));
	media_stop(w.ma);
	media_stop(w.mb);
	run(&w, TV_SEC(1));
	cr_assert_eq(media_get_stats(w.ma)->rtp_tx, 200);
	cr_assert_eq(sb->rtp_rx, 200);
	cr_assert_eq(sb->max_gap, TV_SEC(6) - TV_MS(1980));
	cr_assert_eq(sb->lost, 0);
	cr_assert_eq(sb->jitter_ms, 0.0, "the timestamp kept pace through the silence");
	cr_assert_eq(sb->rtcp_rr_rx, 2);
	cr_assert_eq(sb->rtcp_sr_rx, 6);
	world_free(&w);
}

Test(media, rtcp_mux_one_port)
{
	struct world w;
	media_cfg cfg = { .rtcp_mux = true };
	tv_ep ea = tv_ep4(IP_A, PA), eb = tv_ep4(IP_B, PB);
	const media_stats *sa, *sb;

	world_init(&w, 8, NULL);
	w.ma = stream(w.a, PA, 0, &cfg);
	w.mb = stream(w.b, PB, PB + 1, &cfg);
	cr_assert_eq(media_rtcp_port(w.ma), PA);
	cr_assert_eq(media_rtcp_port(w.mb), PB);
	media_set_remote(w.ma, &eb, &eb);
	media_set_remote(w.mb, &ea, &ea);
	talk(&w, TV_SEC(10));
	sa = media_get_stats(w.ma);
	sb = media_get_stats(w.mb);
	check_clean(sa, sa->remote_ssrc);
	check_clean(sb, sb->remote_ssrc);
	cr_assert_neq(sa->remote_ssrc, sb->remote_ssrc);
	cr_assert_eq(sa->rtcp_sr_rx, 2);
	cr_assert_eq(sb->rtcp_sr_rx, 2);
	cr_assert_eq(host_stats(w.a)->rx_noport + host_stats(w.b)->rx_noport, 0);
	world_free(&w);
}

/* a sends from 5000/5001 but listens on 4000/4001. */
Test(media, asymmetric_source)
{
	struct world w;
	media_cfg cfg = { .asymmetric = true };
	const media_stats *sa, *sb;

	world_init(&w, 9, NULL);
	call_setup(&w, &cfg, NULL);
	talk(&w, TV_SEC(10));
	sa = media_get_stats(w.ma);
	sb = media_get_stats(w.mb);
	cr_assert_eq(sb->nsrc, 1);
	cr_assert(tv_ep_eq(&sb->src[0].ep, &(tv_ep){ tv_ip4(IP_A), PA + 1000 }));
	cr_assert_eq(sb->src[0].n, 500);
	cr_assert_eq(sb->rtcp_sr_rx, 2);
	cr_assert_eq(sa->rtp_rx, 500);
	cr_assert_eq(sa->rtcp_sr_rx, 2);
	cr_assert_eq(media_rtp_port(w.ma), PA);
	world_free(&w);
}

Test(media, garbage_is_bad)
{
	struct world w;
	tv_ep to_rtp = tv_ep4(IP_B, PB), to_rtcp = tv_ep4(IP_B, PB + 1);
	struct cap unused = { 0 };
	tv_udp *s;
	uint8_t p[64];
	const media_stats *sb;
	int nbad = 0;

	world_init(&w, 10, NULL);
	w.mb = stream(w.b, PB, PB + 1, NULL);
	s = raw_bind(w.a, PA, &unused);
	sb = media_get_stats(w.mb);
#define SEND(ep, n) cr_assert_eq(host_udp_send(s, &(ep), p, (n)), 0)
#define BAD(ep, n) do { SEND(ep, n); nbad++; } while (0)
	memcpy(p, "hello", 5);
	BAD(to_rtp, 5);
	rtp_hdr(p, 1, 1, 1);
	p[0] = 0x40;                            /* version 1 */
	BAD(to_rtp, 12);
	rtp_hdr(p, 1, 1, 1);
	p[0] = 0x8f;                            /* 15 CSRCs in 20 bytes */
	BAD(to_rtp, 20);
	rtp_hdr(p, 1, 1, 1);
	p[0] = 0x90;                            /* extension of 100 words */
	p[14] = 0;
	p[15] = 100;
	BAD(to_rtp, 16);
	rtp_hdr(p, 1, 1, 1);
	p[0] = 0xa0;                            /* padding longer than the packet */
	p[15] = 200;
	BAD(to_rtp, 16);
	rtp_hdr(p, 1, 1, 1);
	p[1] = 0xc8;                            /* RTCP SR on the RTP port, no mux */
	BAD(to_rtp, 12);
	memset(p, 0, sizeof(p));
	p[0] = 0x80;
	p[1] = 201;
	p[3] = 5;                               /* RR claiming 24 bytes in 8 */
	BAD(to_rtcp, 8);
	p[3] = 1;
	BAD(to_rtcp, 10);              /* not a multiple of 4 */
	p[1] = 200;                             /* SR too short for sender info */
	BAD(to_rtcp, 8);
	p[1] = 203;                             /* BYE first */
	BAD(to_rtcp, 8);
	p[1] = 201;
	p[3] = 1;
	p[8] = 0x40;                            /* second part is version 1 */
	p[9] = 202;
	BAD(to_rtcp, 12);
	rtp_hdr(p, 1, 1, 1);                    /* RTP on the RTCP port */
	BAD(to_rtcp, 12);
	run(&w, TV_SEC(1));
	cr_assert_eq(sb->bad, nbad);
	cr_assert_eq(sb->rtp_rx + sb->rtcp_rx, 0);
	cr_assert_eq(sb->first_rx, 0);

	/* Valid ones still count: RTP with a CSRC, extension and padding, and
	 * a compound RR + SDES. */
	memset(p, 0, sizeof(p));
	rtp_hdr(p, 7, 7, 7);
	p[0] = 0xb1;
	p[15] = 1;                              /* CSRC 1 */
	p[18] = 0;
	p[19] = 1;                              /* 1-word extension */
	p[27] = 4;                              /* 4 bytes of padding */
	SEND(to_rtp, 28);
	memset(p, 0, sizeof(p));
	p[0] = 0x80;
	p[1] = 201;
	p[3] = 1;
	p[8] = 0x81;
	p[9] = 202;
	p[11] = 1;
	SEND(to_rtcp, 16);
#undef SEND
#undef BAD
	run(&w, TV_SEC(1));
	cr_assert_eq(sb->bad, nbad);
	cr_assert_eq(sb->rtp_rx, 1);
	cr_assert_eq(sb->remote_ssrc, 7);
	cr_assert_eq(sb->rtcp_rx, 1);
	cr_assert_eq(sb->rtcp_rr_rx, 1);
	host_udp_close(s);
	world_free(&w);
}

/* Two senders to b: the second SSRC is counted, not used for the stats. */
Test(media, ssrc_change)
{
	struct world w;
	media_cfg c1 = { .ssrc = 0x1111 }, c2 = { .ssrc = 0x2222 };
	media_stream *m2;
	const media_stats *sb;
	const media_ssrc_stats *r1, *r2;

	world_init(&w, 11, NULL);
	w.ma = stream(w.a, PA, PA + 1, &c1);
	m2 = stream(w.a, PA + 100, PA + 101, &c2);
	w.mb = stream(w.b, PB, PB + 1, NULL);
	aim(w.ma, IP_B, PB, PB + 1);
	aim(m2, IP_B, PB, PB + 1);
	media_start(w.ma);
	run(&w, TV_SEC(1));
	media_start(m2);
	run(&w, TV_SEC(1));
	media_stop(w.ma);
	media_stop(m2);
	run(&w, TV_SEC(1));
	sb = media_get_stats(w.mb);
	cr_assert_eq(sb->remote_ssrc, 0x1111);
	cr_assert_eq(sb->ssrc_changes, media_get_stats(m2)->rtp_tx);
	cr_assert_eq(sb->rtp_rx, media_get_stats(w.ma)->rtp_tx + sb->ssrc_changes);
	cr_assert_eq(sb->lost + sb->dup + sb->reordered, 0);
	cr_assert_eq(sb->nsrc, 2);
	/* One row per SSRC, in the order heard, each with its own source. */
	cr_assert_eq(sb->nssrc, 2);
	cr_assert_eq(media_ssrc_count(w.mb), 2);
	r1 = media_ssrc_at(w.mb, 0);
	r2 = media_ssrc_at(w.mb, 1);
	cr_assert_null(media_ssrc_at(w.mb, 2));
	cr_assert_null(media_ssrc_at(w.mb, -1));
	cr_assert_eq(media_ssrc_find(w.mb, 0x2222), r2);
	cr_assert_null(media_ssrc_find(w.mb, 0x3333));
	cr_assert_eq(r1->ssrc, 0x1111);
	cr_assert_eq(r1->rx, 101);
	cr_assert_eq(r1->bytes, 101 * 172);
	cr_assert_eq(r1->first_rx, TV_MS(5));
	cr_assert_eq(r1->last_rx, TV_MS(2005));
	cr_assert_eq(r1->nsrc, 1);
	cr_assert(tv_ep_eq(&r1->src[0].ep, &(tv_ep){ tv_ip4(IP_A), PA }));
	cr_assert_eq(r2->ssrc, 0x2222);
	cr_assert_eq(r2->rx, 51);
	cr_assert_eq(r2->first_rx, TV_MS(1005));
	cr_assert_eq(r2->nsrc, 1);
	cr_assert(tv_ep_eq(&r2->src[0].ep, &(tv_ep){ tv_ip4(IP_A), PA + 100 }));
	cr_assert_eq(r2->src[0].n, 51);
	cr_assert_eq(r1->lost + r1->dup + r2->lost + r2->dup, 0);
	media_free(m2);
	world_free(&w);
}

/* The A.1 sequence logic on hand-made packets. */
Test(media, sequence_rules)
{
	static const uint16_t seqs[] = {
		65534, 65535, 1, 0, 1,  /* wrap; 0 late; 1 again */
		2, 5, 3,                /* 4 missing, 3 late */
		30000,                  /* big jump: dropped ... */
		30001, 30002,           /* ... believed on the next in order */
	};
	struct world w;
	tv_ep to = tv_ep4(IP_B, PB);
	struct cap unused = { 0 };
	const media_stats *sb;
	uint8_t p[12];
	tv_udp *s;

	world_init(&w, 12, NULL);
	w.mb = stream(w.b, PB, 0, NULL);
	s = raw_bind(w.a, PA, &unused);
	sb = media_get_stats(w.mb);
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		rtp_hdr(p, seqs[i], 160u * seqs[i], 99);
		cr_assert_eq(host_udp_send(s, &to, p, sizeof(p)), 0);
		run(&w, TV_MS(20));
		if (seqs[i] == 5)
			cr_assert_eq(sb->lost, 2);
	}
	cr_assert_eq(sb->rtp_rx, 11);
	cr_assert_eq(sb->dup, 1);
	cr_assert_eq(sb->reordered, 2);
	cr_assert_eq(sb->lost, 1, "4 only; the restart carries it over");
	cr_assert_eq(sb->bad, 0);
	host_udp_close(s);
	world_free(&w);
}

/* The remote arrives after start; a stop and restart keeps the sequence
 * and the timestamp's pace. */
Test(media, late_remote_and_restart)
{
	struct world w;
	const media_stats *sa, *sb;

	world_init(&w, 13, NULL);
	w.ma = stream(w.a, PA, PA + 1, NULL);
	w.mb = stream(w.b, PB, PB + 1, NULL);
	sa = media_get_stats(w.ma);
	sb = media_get_stats(w.mb);
	media_start(w.ma);
	run(&w, TV_SEC(1) - 1);
	cr_assert_eq(sa->rtp_tx + sa->rtcp_tx, 0);
	aim(w.ma, IP_B, PB, PB + 1);
	run(&w, TV_SEC(1));
	cr_assert_eq(sa->rtp_tx, 50);
	media_stop(w.ma);
	run(&w, TV_SEC(1));
	cr_assert_eq(sb->rtp_rx, 50);
	media_start(w.ma);
	run(&w, TV_SEC(1) - 1);
	media_stop(w.ma);
	run(&w, TV_SEC(1));
	cr_assert_eq(sa->rtp_tx, 100);
	cr_assert_eq(sb->rtp_rx, 100);
	cr_assert_eq(sb->lost + sb->dup + sb->reordered, 0);
	cr_assert_eq(sb->jitter_ms, 0.0);
	cr_assert_eq(sb->max_gap, TV_SEC(1) + TV_MS(20) - 1);
	cr_assert_eq(sa->rtcp_tx, 0, "stopped before the first report was due");
	world_free(&w);
}

Test(media, bad_config)
{
	struct world w;
	media_cfg big = { .payload_len = 1500 }, asym = { .asymmetric = true };
	media_stream *m;
	int err = 0;

	world_init(&w, 14, NULL);
	cr_assert_null(media_new(w.a, PA, PA + 1, &big, &err));
	cr_assert_eq(err, TV_EINVAL);
	cr_assert_null(media_new(w.a, 65000, 0, &asym, &err));
	cr_assert_eq(err, TV_EINVAL);
	m = stream(w.a, PA, PA + 1, NULL);
	cr_assert_null(media_new(w.a, PA + 1, 0, NULL, &err));
	cr_assert_eq(err, TV_EEXIST);
	/* The send port (4000) is taken: everything opened so far is closed. */
	cr_assert_null(media_new(w.a, PA - 1000, PA - 999, &asym, &err));
	cr_assert_eq(err, TV_EEXIST);
	media_free(m);
	m = stream(w.a, PA - 1000, PA - 999, NULL);
	media_free(m);
	world_free(&w);
}

/* Hand-made RTP from a plain socket on a, to b's stream on PB. */
struct inj {
	struct world w;
	struct cap unused;
	tv_udp *s;
	const media_stats *sb;
};

static void inj_init(struct inj *t, uint64_t seed)
{
	world_init(&t->w, seed, NULL);
	t->w.mb = stream(t->w.b, PB, PB + 1, NULL);
	memset(&t->unused, 0, sizeof(t->unused));
	t->s = raw_bind(t->w.a, PA, &t->unused);
	t->sb = media_get_stats(t->w.mb);
}

static void inj_free(struct inj *t)
{
	host_udp_close(t->s);
	world_free(&t->w);
}

static void inj_rtp(struct inj *t, uint32_t ssrc, uint16_t seq)
{
	tv_ep to = tv_ep4(IP_B, PB);
	uint8_t p[12];

	rtp_hdr(p, seq, 160u * seq, ssrc);
	cr_assert_eq(host_udp_send(t->s, &to, p, sizeof(p)), 0);
	run(&t->w, TV_MS(20));
}

/* A stranger heard first: the real stream is counted in its own sequence
 * space, so its loss is its own (3) and the stranger adds none, whatever
 * the two sequence spaces. */
Test(media, stranger_first_does_not_inflate_loss)
{
	struct inj t;
	const media_ssrc_stats *x, *r;

	inj_init(&t, 15);
	for (uint16_t q = 0; q < 5; q++)
		inj_rtp(&t, 0x5ca1ab1e, q);
	for (uint16_t q = 40000; q < 40050; q++) {
		if (q % 10 == 0)        /* the stranger goes on, in its own space */
			inj_rtp(&t, 0x5ca1ab1e, (uint16_t)(5 + (q - 40000) / 10));
		if (q < 40010 || q >= 40013)
			inj_rtp(&t, 0x1234, q);         /* the real stream loses 3 */
	}
	cr_assert_eq(t.sb->remote_ssrc, 0x5ca1ab1e, "the first SSRC heard");
	cr_assert_eq(t.sb->nssrc, 2);
	x = media_ssrc_at(t.w.mb, 0);
	r = media_ssrc_find(t.w.mb, 0x1234);
	cr_assert_not_null(r);
	cr_assert_eq(x->rx, 10);
	cr_assert_eq(x->lost, 0);
	cr_assert_eq(x->nsrc, 1);
	cr_assert(tv_ep_eq(&x->src[0].ep, &(tv_ep){ tv_ip4(IP_A), PA }));
	cr_assert_eq(r->rx, 47);
	cr_assert_eq(r->bytes, 47 * 12);
	cr_assert_eq(r->lost, 3);
	cr_assert_eq(r->dup + r->reordered, 0);
	cr_assert_eq(t.sb->lost, 3, "the sum over SSRCs");
	cr_assert_eq(t.sb->ssrc_changes, 47, "packets not from the first SSRC");
	cr_assert_eq(t.sb->rtp_rx, 57);
	cr_assert_eq(t.sb->dup + t.sb->reordered + t.sb->ssrc_overflow, 0);
	/* A late packet of the real stream brings its loss, and the sum, down;
	 * a duplicate counts for its SSRC and the stream. */
	inj_rtp(&t, 0x1234, 40011);
	inj_rtp(&t, 0x1234, 40011);
	cr_assert_eq(r->lost, 2);
	cr_assert_eq(r->reordered, 1);
	cr_assert_eq(r->dup, 1);
	cr_assert_eq(t.sb->lost, 2);
	cr_assert_eq(t.sb->reordered, 1);
	cr_assert_eq(t.sb->dup, 1);
	inj_free(&t);
}

/* Beyond MEDIA_SSRCS SSRCs, packets are counted in ssrc_overflow only. */
Test(media, ssrc_overflow)
{
	struct inj t;

	inj_init(&t, 16);
	for (uint32_t k = 0; k < MEDIA_SSRCS + 2; k++)
		for (uint16_t q = 0; q < 3; q++)
			inj_rtp(&t, 0x100 + k, (uint16_t)(q * 2));     /* every other: 2 lost each */
	cr_assert_eq(t.sb->nssrc, MEDIA_SSRCS);
	cr_assert_eq(t.sb->ssrc_overflow, 6);
	cr_assert_eq(t.sb->rtp_rx, 3 * (MEDIA_SSRCS + 2));
	cr_assert_eq(t.sb->ssrc_changes, 3 * (MEDIA_SSRCS + 1));
	cr_assert_eq(t.sb->lost, 2 * MEDIA_SSRCS);
	cr_assert_eq(media_ssrc_at(t.w.mb, MEDIA_SSRCS - 1)->ssrc, 0x100 + MEDIA_SSRCS - 1);
	cr_assert_null(media_ssrc_at(t.w.mb, MEDIA_SSRCS));
	cr_assert_null(media_ssrc_find(t.w.mb, 0x100 + MEDIA_SSRCS));
	inj_free(&t);
}

/* cfg.count: exactly that many RTP packets, then RTP stops while RTCP
 * goes on; media_rtp_set gives a new budget, its first packet marked. */
Test(media, count_stops_after_n)
{
	struct world w;
	media_cfg ca = { .count = 7, .rtcp_interval = TV_SEC(1), .pt = 8, .payload_len = 80, .ssrc = 0xabc };
	struct cap rtp = { 0 };
	tv_udp *s;
	const media_stats *sa;

	world_init(&w, 17, NULL);
	s = raw_bind(w.b, PB, &rtp);
	w.ma = stream(w.a, PA, PA + 1, &ca);
	w.mb = stream(w.b, PB + 10, PB + 1, NULL);
	aim(w.ma, IP_B, PB, PB + 1);
	sa = media_get_stats(w.ma);
	media_start(w.ma);
	run(&w, TV_SEC(3));
	cr_assert_eq(sa->rtp_tx, 7);
	cr_assert_eq(sa->rtp_tx_bytes, 7 * 92);
	cr_assert_eq(rtp.n, 7);
	cr_assert_eq(rtp.len[0], 92);
	cr_assert_eq(rtp.pkt[0][1], 0x88, "marker, PT 8");
	cr_assert_eq(rtp.pkt[6][1], 0x08);
	cr_assert_eq(rd32(rtp.pkt[6] + 8), 0xabc);
	cr_assert_eq(media_get_stats(w.mb)->rtcp_rx, 3, "RTCP at 0.5, 1.5, 2.5 s");
	media_rtp_set(w.ma, true, 3);
	run(&w, TV_SEC(1));
	cr_assert_eq(sa->rtp_tx, 10);
	cr_assert_eq(rtp.n, 10);
	cr_assert_eq(rtp.pkt[7][1], 0x88, "a new talkspurt");
	cr_assert_eq(rd16(rtp.pkt[7] + 2), (uint16_t)(rd16(rtp.pkt[6] + 2) + 1), "no gap in sequence");
	cr_assert_eq(rd32(rtp.pkt[7] + 4) - rd32(rtp.pkt[6] + 4), (uint32_t)(rtp.at[7] - rtp.at[6]) / 125,
		     "the timestamp kept pace");
	cr_assert_eq(rtp.pkt[8][1], 0x08);
	host_udp_close(s);
	world_free(&w);
}

/* cfg.manual: the stream runs (RTCP) but sends no RTP until the gate
 * opens; closing it stops RTP again; the receiver sees no loss. */
Test(media, manual_start_and_stop)
{
	struct world w;
	media_cfg ca = { .manual = true, .rtcp_interval = TV_SEC(1) };
	const media_stats *sa, *sb;

	world_init(&w, 18, NULL);
	call_setup(&w, &ca, NULL);
	sa = media_get_stats(w.ma);
	sb = media_get_stats(w.mb);
	media_start(w.ma);
	run(&w, TV_SEC(2));
	cr_assert_eq(sa->rtp_tx, 0);
	cr_assert_eq(sa->rtcp_tx, 2);
	cr_assert_eq(sb->rtcp_rr_rx, 2, "nothing sent: RR");
	media_rtp_set(w.ma, true, 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(sa->rtp_tx, 50);
	media_rtp_set(w.ma, false, 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(sa->rtp_tx, 50);
	media_rtp_set(w.ma, true, 0);
	run(&w, TV_SEC(1));
	media_stop(w.ma);
	run(&w, TV_SEC(1));
	cr_assert_eq(sa->rtp_tx, 100);
	cr_assert_eq(sb->rtp_rx, 100);
	cr_assert_eq(sb->lost + sb->dup + sb->reordered, 0);
	cr_assert_eq(sb->jitter_ms, 0.0, "the timestamp kept pace while closed");
	cr_assert_eq(media_ssrc_at(w.mb, 0)->rx, 100);
	world_free(&w);
}

/* media_rtcp_write: an SR and an RR with no block, each a valid compound
 * the sink counts, with the lengths RFC 3550 6.4 asks. */
Test(media, rtcp_write)
{
	struct world w;
	struct cap unused = { 0 };
	media_sr sr = { .ntp = media_ntp(TV_MS(1500)), .rtp_ts = 12000, .packets = 3, .octets = 480 };
	uint8_t b[MEDIA_RTCP_MAX];
	tv_ep to;
	tv_udp *s;
	size_t n;
	const media_stats *sb;

	cr_assert_eq(media_ntp(TV_MS(1500)), (NTP_EPOCH + 1) << 32 | 0x80000000u);
	n = media_rtcp_write(b, 0x5ca1ab1e, &sr, NULL, 0, "x@1.2.3.4");
	cr_assert_eq(n, 28 + 8 + 12);
	cr_assert_eq(b[0], 0x80);
	cr_assert_eq(b[1], 200);
	cr_assert_eq(rd16(b + 2), 6);
	cr_assert_eq(rd32(b + 8), NTP_EPOCH + 1);
	cr_assert_eq(rd32(b + 16), 12000);
	cr_assert_eq(rd32(b + 20), 3);
	cr_assert_eq(rd32(b + 24), 480);
	cr_assert_eq(b[28], 0x81);
	cr_assert_eq(b[29], 202);
	cr_assert_eq(rd16(b + 30), 4);
	cr_assert_eq(rd32(b + 32), 0x5ca1ab1e);
	cr_assert_eq(b[37], 9);
	cr_assert_eq(memcmp(b + 38, "x@1.2.3.4", 9), 0);
	cr_assert_eq(b[47], 0, "END, padded to 32 bits");

	world_init(&w, 19, NULL);
	w.mb = stream(w.b, PB, PB + 1, NULL);
	s = raw_bind(w.a, PA, &unused);
	sb = media_get_stats(w.mb);
	to = tv_ep4(IP_B, PB + 1);
	cr_assert_eq(host_udp_send(s, &to, b, n), 0);
	n = media_rtcp_write(b, 7, NULL, NULL, 0, "a-much-longer-name-that-pads@192.168.100.200");
	cr_assert_eq(n % 4, 0);
	cr_assert_eq(b[1], 201);
	cr_assert_eq(rd16(b + 2), 1);
	cr_assert_eq(host_udp_send(s, &to, b, n), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(sb->rtcp_rx, 2);
	cr_assert_eq(sb->rtcp_sr_rx, 1);
	cr_assert_eq(sb->rtcp_rr_rx, 1);
	cr_assert_eq(sb->bad, 0);
	host_udp_close(s);
	world_free(&w);
}
