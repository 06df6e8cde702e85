/* rtpq.c - quality of a relayed media stream (rtpq.h). */
#include "rtpq.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTPQ_SEQ_MOD 65536u
#define RTPQ_MAX_DROPOUT 3000u          /* RFC 3550 A.1 */
#define RTPQ_MAX_MISORDER 100u

static uint32_t get32(const uint8_t *d) { return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]; }

void rtpq_init(rtpq_dir *q)
{
	memset(q, 0, sizeof(*q));
	q->bad_seq = RTPQ_SEQ_MOD + 1;
	q->rtt = -1;
}

static uint64_t epoch_expected(const rtpq_dir *q)
{
	return q->have_seq ? (uint64_t)q->cycles + q->max_seq - q->base_seq + 1 : 0;
}

/* A new epoch at seq (A.1 init_seq); what the last one counted stays. */
static void restart(rtpq_dir *q, uint16_t seq, tv_time now)
{
	q->exp_before += epoch_expected(q);
	q->rcv_before += q->received;
	q->have_seq = true;
	q->have_transit = false;
	q->base_seq = q->max_seq = seq;
	q->bad_seq = RTPQ_SEQ_MOD + 1;
	q->cycles = 0;
	q->received = 0;
	q->t0 = now;
}

/* RFC 3550 A.1 update_seq without probation: the relay forwards only
 * what latched (the evidence rules of relay.c), so the first packet of a
 * source is believed. Returns false for a packet that is not counted (the
 * first after a very large jump). */
static bool update_seq(rtpq_dir *q, uint16_t seq, tv_time now)
{
	uint16_t udelta = (uint16_t)(seq - q->max_seq);

	if (udelta < RTPQ_MAX_DROPOUT) {
		if (seq < q->max_seq)
			q->cycles += RTPQ_SEQ_MOD;      /* wrapped */
		q->max_seq = seq;
	} else if (udelta <= RTPQ_SEQ_MOD - RTPQ_MAX_MISORDER) {
		/* A very large jump: a restarted sender is believed on the
		 * second packet in sequence after it. */
		if (seq != q->bad_seq) {
			q->bad_seq = (uint32_t)(uint16_t)(seq + 1);
			return false;
		}
		restart(q, seq, now);
	}
	/* else a duplicate or a reordered packet: counted, max unchanged */
	q->received++;
	return true;
}

void rtpq_rtp(rtpq_dir *q, const uint8_t *h, uint32_t rate, tv_time now)
{
	uint16_t seq = (uint16_t)(h[2] << 8 | h[3]);
	uint32_t ts = get32(h + 4), ssrc = get32(h + 8), arrival, transit;
	int64_t d;

	q->last = now;
	if (!q->have_seq || ssrc != q->ssrc) {
		q->ssrc = ssrc;
		restart(q, seq, now);
		q->received = 1;
	} else if (!update_seq(q, seq, now)) {
		return;
	}
	/* A.8: arrival in timestamp units; only differences matter, so the
	 * epoch's start is the origin (now * rate could overflow 64 bits on a
	 * live clock; a day at 90 kHz is 2^43); units per microsecond as a
	 * 32.32 fixed-point factor, not a division per packet. */
	if (rate != q->rate) {
		q->rate = rate;
		q->per_us = (((uint64_t)rate << 32) + 999999) / 1000000;     /* rounded up: whole units stay whole */
	}
	arrival = (uint32_t)((unsigned __int128)(uint64_t)(now - q->t0) * q->per_us >> 32);
	transit = arrival - ts;
	if (q->have_transit) {
		d = (int32_t)(transit - q->transit);
		if (d < 0)
			d = -d;
		q->jitter_q4 = q->jitter_q4 + (uint64_t)d - ((q->jitter_q4 + 8) >> 4);
	}
	q->transit = transit;
	q->have_transit = true;
}

/* A report block (24 bytes) about someone else's stream: if it answers
 * the SR noted in back, the round trip beyond the relay that way. */
static void report_block(rtpq_dir *back, const uint8_t *b, tv_time now)
{
	uint32_t ssrc = get32(b), lsr = get32(b + 16), dlsr = get32(b + 20);
	tv_time rtt;

	if (!lsr || !back->sr_at || ssrc != back->sr_ssrc || lsr != back->sr_mid)
		return;
	/* DLSR is in 1/65536 s */
	rtt = now - back->sr_at - (tv_time)((uint64_t)dlsr * 1000000 / 65536);
	back->rtt = rtt < 0 ? 0 : rtt;
	back->rtt_n++;
}

void rtpq_rtcp(rtpq_dir *q, rtpq_dir *back, const uint8_t *d, size_t len, tv_time now)
{
	size_t plen, off, rc;

	if (len < 8 || (d[1] != 200 && d[1] != 201))
		return;
	/* the first packet of the compound: its own length, in 32-bit words - 1 */
	plen = ((size_t)(d[2] << 8 | d[3]) + 1) * 4;
	if (plen > len)
		plen = len;
	rc = d[0] & 0x1f;
	off = 8;
	if (d[1] == 200) {
		if (plen < 28)
			return;
		q->sr_ssrc = get32(d + 4);
		q->sr_mid = get32(d + 10);      /* NTP seconds' low 16 bits, fraction's high 16 */
		q->sr_at = now;
		off = 28;
	}
	for (size_t i = 0; i < rc && off + 24 <= plen; i++, off += 24)
		report_block(back, d + off, now);
}

uint64_t rtpq_expected(const rtpq_dir *q)
{
	return q->exp_before + epoch_expected(q);
}

uint64_t rtpq_received(const rtpq_dir *q)
{
	return q->rcv_before + q->received;
}

uint64_t rtpq_lost(const rtpq_dir *q)
{
	uint64_t e = rtpq_expected(q), r = rtpq_received(q);

	return e > r ? e - r : 0;
}

double rtpq_jitter_ms(const rtpq_dir *q, uint32_t rate)
{
	return rate ? (double)q->jitter_q4 / 16.0 * 1000.0 / rate : 0;
}

/* RFC 3551 table 4: the static payload types of audio and video. */
static const struct {
	uint8_t pt;
	const char *name;
	uint32_t rate;
} static_pt[] = {
	{ 0, "PCMU", 8000 }, { 3, "GSM", 8000 }, { 4, "G723", 8000 }, { 5, "DVI4", 8000 },
	{ 6, "DVI4", 16000 }, { 7, "LPC", 8000 }, { 8, "PCMA", 8000 }, { 9, "G722", 8000 },
	{ 10, "L16", 44100 }, { 11, "L16", 44100 }, { 12, "QCELP", 8000 }, { 13, "CN", 8000 },
	{ 14, "MPA", 90000 }, { 15, "G728", 8000 }, { 16, "DVI4", 11025 }, { 17, "DVI4", 22050 },
	{ 18, "G729", 8000 }, { 25, "CelB", 90000 }, { 26, "JPEG", 90000 }, { 28, "nv", 90000 },
	{ 31, "H261", 90000 }, { 32, "MPV", 90000 }, { 33, "MP2T", 90000 }, { 34, "H263", 90000 },
};

void rtpq_codec_of(int pt, const char *enc, rtpq_codec *c)
{
	memset(c, 0, sizeof(*c));
	c->rate = 8000;
	for (size_t i = 0; i < sizeof(static_pt) / sizeof(static_pt[0]); i++) {
		if (static_pt[i].pt == pt) {
			snprintf(c->name, sizeof(c->name), "%s", static_pt[i].name);
			c->rate = static_pt[i].rate;
			c->rate_known = true;
		}
	}
	if (enc) {
		/* "NAME/RATE[/CHANNELS]" (RFC 4566 6): it outranks the table */
		const char *sl = strchr(enc, '/');
		size_t n = sl ? (size_t)(sl - enc) : strlen(enc);
		char *end;
		unsigned long r;

		while (n && isspace((unsigned char)enc[n - 1]))
			n--;
		if (n && n < sizeof(c->name)) {
			for (size_t i = 0; i < n; i++)
				c->name[i] = (char)toupper((unsigned char)enc[i]);
			c->name[n] = '\0';
		}
		if (sl) {
			r = strtoul(sl + 1, &end, 10);
			if (end != sl + 1 && r > 0 && r <= 1000000) {
				c->rate = (uint32_t)r;
				c->rate_known = true;
			}
		}
	}
}
