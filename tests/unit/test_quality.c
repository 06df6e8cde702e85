/* test_quality.c - what the relay measures of a stream (proxy/rtpq.c):
 * loss by extended sequence number (RFC 3550 A.1, A.3) across a wrap, a
 * reordered packet, a duplicate, a new SSRC and a restart; jitter (A.8)
 * against a hand-computed sequence; the round trip from an SR and the
 * report that answers it (6.4.1); clock rates from rtpmap and RFC 3551;
 * and the E-model (proxy/emodel.c) against published values. The
 * relay's own use of them is in test_proxy.c (proxy_wire). */
#include <criterion/criterion.h>
#include <string.h>

#include "emodel.h"
#include "rtpq.h"

static void rtp_hdr(uint8_t h[12], uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	h[0] = 0x80;
	h[1] = 0;
	h[2] = (uint8_t)(seq >> 8);
	h[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		h[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		h[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
}

/* One packet of a 20 ms, 8 kHz stream: seq n has timestamp 160 n and
 * arrives at 20 n ms (no jitter). */
static void pkt(rtpq_dir *q, uint16_t seq, uint32_t ssrc, tv_time base)
{
	uint8_t h[12];

	rtp_hdr(h, seq, (uint32_t)seq * 160, ssrc);
	rtpq_rtp(q, h, 8000, base + TV_MS(20) * seq);
}

Test(rtpq, a_lost_packet_across_a_wrap_with_one_reordered)
{
	rtpq_dir q;
	static const uint16_t seqs[] = { 65533, 65534, 65535, 1, 0, 3, 4 };   /* 0 late, 2 lost */
	uint8_t h[12];

	rtpq_init(&q);
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		rtp_hdr(h, seqs[i], 0, 7);
		rtpq_rtp(&q, h, 8000, TV_MS(20) * (tv_time)(i + 1));
	}
	cr_assert_eq(rtpq_expected(&q), 8, "65533 to 65536+4: %llu", (unsigned long long)rtpq_expected(&q));
	cr_assert_eq(rtpq_received(&q), 7);
	cr_assert_eq(rtpq_lost(&q), 1);
	cr_assert_eq(q.last, TV_MS(140));
	/* a duplicate is received twice (A.3): the loss it hides shows as 0, not negative */
	rtp_hdr(h, 4, 0, 7);
	rtpq_rtp(&q, h, 8000, TV_MS(160));
	cr_assert_eq(rtpq_lost(&q), 0);
}

Test(rtpq, a_new_ssrc_keeps_what_the_old_one_lost)
{
	rtpq_dir q;

	rtpq_init(&q);
	for (uint16_t s = 100; s < 110; s++)
		if (s != 105)
			pkt(&q, s, 0xaaaa, 0);
	cr_assert_eq(rtpq_lost(&q), 1);
	for (uint16_t s = 5000; s < 5005; s++)
		pkt(&q, s, 0xbbbb, TV_SEC(1));
	cr_assert_eq(rtpq_expected(&q), 15);
	cr_assert_eq(rtpq_received(&q), 14);
	cr_assert_eq(rtpq_lost(&q), 1);
}

Test(rtpq, a_sender_that_jumps_is_believed_on_its_second_packet)
{
	rtpq_dir q;

	rtpq_init(&q);
	for (uint16_t s = 10; s < 20; s++)
		pkt(&q, s, 1, 0);
	pkt(&q, 40000, 1, 0);           /* not counted: could be a stray */
	cr_assert_eq(rtpq_expected(&q), 10);
	cr_assert_eq(rtpq_received(&q), 10);
	pkt(&q, 40001, 1, 0);           /* in sequence with it: a restart */
	pkt(&q, 40002, 1, 0);
	cr_assert_eq(rtpq_expected(&q), 12, "%llu", (unsigned long long)rtpq_expected(&q));
	cr_assert_eq(rtpq_received(&q), 12);
	cr_assert_eq(rtpq_lost(&q), 0, "not 40000 packets lost");
}

/* Arrivals at 0, 20, 45, 60, 80 ms of timestamps 0, 160, 320, 480, 640 at
 * 8 kHz: transit 0, 0, 40, 0, 0 units, |D| 0, 40, 40, 0. A.8 in integers
 * (J*16): 0 -> 0 -> 40 -> 40+40-3 = 77 -> 77-5 = 72, i.e. 4.5 units,
 * 0.5625 ms. */
Test(rtpq, jitter_of_a_hand_computed_sequence)
{
	static const int at_ms[] = { 0, 20, 45, 60, 80 };
	rtpq_dir q;
	uint8_t h[12];

	rtpq_init(&q);
	for (int i = 0; i < 5; i++) {
		rtp_hdr(h, (uint16_t)(1000 + i), 0x10000000u + (uint32_t)i * 160, 9);
		rtpq_rtp(&q, h, 8000, TV_SEC(3600) + TV_MS(at_ms[i]));
	}
	cr_assert_eq(q.jitter_q4, 72, "%llu", (unsigned long long)q.jitter_q4);
	cr_assert_float_eq(rtpq_jitter_ms(&q, 8000), 0.5625, 1e-9);
	cr_assert_eq(rtpq_lost(&q), 0);
}

Test(rtpq, no_jitter_on_a_steady_stream_at_any_clock)
{
	rtpq_dir q;
	uint8_t h[12];

	rtpq_init(&q);
	/* 90 kHz video, 40 ms frames, on a clock far from zero (live) */
	for (int i = 0; i < 100; i++) {
		rtp_hdr(h, (uint16_t)(65500 + i), (uint32_t)i * 3600, 3);
		rtpq_rtp(&q, h, 90000, (tv_time)1700000000 * 1000000 + TV_MS(40) * i);
	}
	cr_assert_eq(q.jitter_q4, 0);
	cr_assert_eq(rtpq_lost(&q), 0);
	cr_assert_eq(rtpq_expected(&q), 100);
}

/* An SR of NTP time 0x00001234.56780000 from SSRC 0x1111 passes toward the
 * core at 1 s; the core's RR naming it (LSR 0x12345678) with DLSR 0.1 s
 * (6554/65536 s = 100006 us) comes back at 1.3 s: 199994 us beyond the
 * relay toward the core. */
Test(rtpq, round_trip_from_an_sr_and_the_report_that_answers_it)
{
	static const uint8_t sr[28] = { 0x80, 200, 0, 6, 0, 0, 0x11, 0x11, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78,
					0x00, 0x00 };
	uint8_t rr[32] = { 0x81, 201, 0, 7, 0, 0, 0x22, 0x22, 0, 0, 0x11, 0x11, 0, 0, 0, 0,
			   0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0x19, 0x9a };
	rtpq_dir to_core, to_access;

	rtpq_init(&to_core);
	rtpq_init(&to_access);
	rtpq_rtcp(&to_core, &to_access, sr, sizeof(sr), TV_SEC(1));
	cr_assert_eq(to_core.rtt, -1, "no round trip before the answer");
	rtpq_rtcp(&to_access, &to_core, rr, sizeof(rr), TV_MS(1300));
	cr_assert_eq(to_core.rtt, 199994, "%lld", (long long)to_core.rtt);
	cr_assert_eq(to_access.rtt, -1, "the other half is not known");
	/* a report about another SR, or cut short, changes nothing */
	rr[27] = 0x79;
	rtpq_rtcp(&to_access, &to_core, rr, sizeof(rr), TV_MS(1500));
	rr[27] = 0x78;
	rtpq_rtcp(&to_access, &to_core, rr, 20, TV_MS(1500));
	rtpq_rtcp(&to_access, &to_core, rr, 3, TV_MS(1500));
	cr_assert_eq(to_core.rtt_n, 1);
	cr_assert_eq(to_core.rtt, 199994);
}

Test(rtpq, clock_rates_from_rtpmap_and_rfc3551)
{
	static const struct {
		int pt;
		const char *enc, *name;
		uint32_t rate;
		bool known;
	} c[] = {
		{ 0, NULL, "PCMU", 8000, true },   { 8, NULL, "PCMA", 8000, true },
		{ 9, NULL, "G722", 8000, true },   { 18, NULL, "G729", 8000, true },
		{ 10, NULL, "L16", 44100, true },  { 0, "PCMU/8000", "PCMU", 8000, true },
		{ 96, "opus/48000/2", "OPUS", 48000, true }, { 97, "H264/90000", "H264", 90000, true },
		{ 101, "telephone-event/8000", "TELEPHONE-EVENT", 8000, true },
		{ 96, NULL, "", 8000, false },     { 96, "speex", "SPEEX", 8000, false },
		{ 96, "x/zero", "X", 8000, false }, { 2, NULL, "", 8000, false },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rtpq_codec k;
		rtpq_codec_of(c[i].pt, c[i].enc, &k);
		cr_expect_str_eq(k.name, c[i].name, "pt %d %s", c[i].pt, c[i].enc ? c[i].enc : "-");
		cr_expect_eq(k.rate, c[i].rate, "pt %d %s: %u", c[i].pt, c[i].enc ? c[i].enc : "-", k.rate);
		cr_expect_eq(k.rate_known, c[i].known, "pt %d", c[i].pt);
	}
}

Test(emodel, default_r_and_its_mos)
{
	emodel_codec g711;

	cr_assert(emodel_codec_find("PCMU", true, &g711));
	cr_assert_float_eq(emodel_r(&g711, 0, 0), 93.2, 1e-9, "G.711, no loss, no delay: the default R");
	cr_assert_float_eq(emodel_mos(93.2), 4.409, 5e-4);
	/* the MOS formula: 1 + 0.035 R + 7e-6 R (R - 60) (100 - R) */
	cr_assert_float_eq(emodel_mos(80), 1 + 0.035 * 80 + 7e-6 * 80 * 20 * 20, 1e-12);
	cr_assert_float_eq(emodel_mos(50), 2.575, 1e-9);
	cr_assert_eq(emodel_mos(-5), 1);
	cr_assert_eq(emodel_mos(0), 1);
	cr_assert_eq(emodel_mos(100), 4.5);
}

Test(emodel, loss_per_codec_after_g113)
{
	emodel_codec c;

	cr_assert(emodel_codec_find("pcma", true, &c));
	cr_assert_float_eq(emodel_ie_eff(&c, 2), 95.0 * 2 / 27.1, 1e-9, "G.711 PLC: Bpl 25.1");
	cr_assert_float_eq(emodel_r(&c, 1, 0), 89.560, 1e-3);
	cr_assert(emodel_codec_find("PCMU", false, &c));
	cr_assert_float_eq(emodel_r(&c, 1, 0), 75.275, 1e-3, "G.711 without PLC: Bpl 4.3");
	cr_assert(emodel_codec_find("G729", true, &c));
	cr_assert_float_eq(emodel_r(&c, 0, 0), 82.2, 1e-9, "G.729: Ie 11");
	cr_assert_float_eq(emodel_mos(82.2), 4.104, 1e-3);
	cr_assert_float_eq(emodel_r(&c, 2, 0), 74.2, 1e-9, "Ie,eff = 11 + 84 * 2 / 21");
	cr_assert_float_eq(emodel_ie_eff(&c, 100), 11 + 84 * 100 / 119.0, 1e-9);
	cr_assert_not(emodel_codec_find("OPUS", true, &c), "not in the table: no estimate");
	cr_assert_not(emodel_codec_find(NULL, true, &c));
}

Test(emodel, delay_after_g107_idd)
{
	emodel_codec c;

	cr_assert_eq(emodel_idd(0), 0);
	cr_assert_eq(emodel_idd(100), 0, "no delay impairment up to 100 ms");
	cr_assert_float_eq(emodel_idd(200), 3.0444, 1e-4);
	cr_assert_float_eq(emodel_idd(300), 14.7607, 1e-4);
	cr_assert_float_eq(emodel_idd(400), 24.0701, 1e-4);
	cr_assert(emodel_codec_find("PCMU", true, &c));
	cr_assert_float_eq(emodel_r(&c, 2, 200), 93.2 - 95.0 * 2 / 27.1 - 3.04441, 1e-4);
	cr_assert(emodel_r(&c, 0, 150) < 93.2 && emodel_r(&c, 0, 150) > 93.0);
}
