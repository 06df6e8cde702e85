/* media.c - RTP/RTCP source and sink for simulated terminals (media.h).
 *
 * Timers (one per stream, m->timer, armed at the earlier of the two):
 *   rtp tick   every ptime from media_start: the next RTP packet. While
 *              muted, with the RTP gate closed or without a remote the
 *              packet is skipped but the timestamp still advances, as a
 *              phone's clock would.
 *   rtcp       at start + rtcp_interval / 2 (RFC 3550 6.2 halves the first
 *              interval), then every rtcp_interval: SR (or RR when nothing
 *              was sent since the second-previous report, RFC 3550 6.4)
 *              followed by SDES CNAME.
 * When both are due the RTP packet goes first, so the SR counts it.
 * media_stop cancels the timer; receiving continues until media_free.
 *
 * The sink keeps its per-SSRC state in a fixed array (MEDIA_SSRCS slots,
 * taken in the order SSRCs are first heard, never freed): no allocation
 * per packet, one linear search of at most MEDIA_SSRCS entries.
 *
 * Sockets: rtp (receives RTP, and RTCP too with rtcp_mux), rtcp (unless
 * mux or rtcp_port == 0); with asymmetric, snd_rtp at send_port and
 * snd_rtcp at send_port + 1 carry everything sent. Datagrams arriving on
 * the send-only sockets are ignored. */
#include "media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEDIA_PKT_MAX (MEDIA_RTP_HDR + MEDIA_PAYLOAD_MAX)
#define MEDIA_WIN 1024                  /* duplicate window, in sequence numbers */
#define MEDIA_MAX_DROPOUT 3000          /* RFC 3550 A.1 */
#define MEDIA_MAX_MISORDER 100
/* NTP seconds at virtual time 0 (2026-01-01T00:00:00Z, as in the pcaps). */
#define MEDIA_NTP_EPOCH (2208988800ULL + 1767225600ULL)

enum { RTCP_SR = 200, RTCP_RR = 201, RTCP_SDES = 202, RTCP_BYE = 203, RTCP_APP = 204 };

/* Receive-side state of one SSRC (RFC 3550 A.1, A.8); st is what
 * media_ssrc_at shows. Extended sequence numbers carry an offset of 65536
 * so one older than the first packet is still positive. */
struct media_ssrc {
	media_ssrc_stats st;
	bool have_seq, have_transit;
	int64_t base, max;              /* extended seqs: first and highest */
	int32_t bad_seq;                /* A.1: seq expected after a big jump; -1 none */
	uint64_t received;              /* distinct packets in [base, max] */
	uint64_t lost_before;           /* loss folded in at a sequence restart */
	uint64_t exp_prior, rcv_prior;  /* at the previous report (fraction lost) */
	uint64_t seen[MEDIA_WIN / 64];  /* bit ext % MEDIA_WIN: arrived, for ext in (max - WIN, max] */
	uint32_t transit;
	int64_t jitter_q4;              /* A.8 estimate * 16, timestamp units */
};

struct media_stream {
	tv_host *h;
	media_cfg cfg;
	tv_udp *rtp, *rtcp, *snd_rtp, *snd_rtcp;
	uint16_t rtp_port, rtcp_port;
	tv_ep rem_rtp, rem_rtcp;
	bool have_rem_rtp, have_rem_rtcp;
	bool rtcp_on, running, started, muted, marker;
	bool rtp_on;                    /* the RTP gate */
	uint64_t rtp_left;              /* packets until the gate closes; 0: no limit */
	tv_timer timer;
	tv_time next_rtp, next_rtcp;
	uint16_t seq;                   /* of the next RTP packet */
	uint32_t ts;                    /* timestamp of the tick at next_rtp */
	uint32_t spp;                   /* timestamp units per packet */
	uint64_t tx_at_report[2];       /* rtp_tx at the second-previous and previous report */
	char cname[64];
	/* sink */
	bool have_rx, have_lsr;
	tv_time last_rx;
	uint32_t lsr, lsr_ssrc;         /* middle 32 bits of the last SR's NTP time, its sender */
	tv_time lsr_at;
	struct media_ssrc rx[MEDIA_SSRCS];      /* per SSRC, in the order heard: [0] is remote_ssrc */
	media_stats st;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

uint64_t media_ntp(tv_time now)
{
	uint64_t sec = MEDIA_NTP_EPOCH + (uint64_t)now / 1000000;
	uint64_t frac = (((uint64_t)now % 1000000) << 32) / 1000000;

	return sec << 32 | frac;
}

static uint32_t media_units(const media_stream *m, tv_time dt)
{
	return (uint32_t)(dt * (int64_t)m->cfg.clock_rate / 1000000);
}

/* ---- sink -------------------------------------------------------------- */

static uint64_t sink_lost(const struct media_ssrc *k)
{
	uint64_t expected = (uint64_t)(k->max - k->base + 1);

	return expected > k->received ? expected - k->received : 0;
}

/* Mark ext as arrived; returns whether it already was. */
static bool sink_seen(struct media_ssrc *k, int64_t ext)
{
	uint64_t *w = &k->seen[(ext % MEDIA_WIN) / 64];
	uint64_t bit = 1ULL << (ext % 64);
	bool was = (*w & bit) != 0;

	*w |= bit;
	return was;
}

static void sink_advance(struct media_ssrc *k, int64_t to)
{
	if (to - k->max >= MEDIA_WIN)
		memset(k->seen, 0, sizeof(k->seen));
	else
		for (int64_t e = k->max + 1; e <= to; e++)
			k->seen[(e % MEDIA_WIN) / 64] &= ~(1ULL << (e % 64));
	k->max = to;
}

static void sink_restart(struct media_ssrc *k, uint16_t seq)
{
	k->have_seq = true;
	k->have_transit = false;
	k->base = k->max = 65536 + (int64_t)seq;
	k->bad_seq = -1;
	k->received = 1;
	k->exp_prior = k->rcv_prior = 0;
	memset(k->seen, 0, sizeof(k->seen));
	sink_seen(k, k->max);
}

/* Sequence accounting for one packet of k's SSRC. Returns true if the
 * packet is new (not a duplicate nor a discarded jump). */
static bool sink_seq(struct media_ssrc *k, uint16_t seq)
{
	uint16_t udelta;
	int64_t ext;

	if (!k->have_seq) {
		sink_restart(k, seq);
		return true;
	}
	udelta = (uint16_t)(seq - (uint16_t)k->max);
	if (udelta == 0) {
		k->st.dup++;
		return false;
	}
	if (udelta < MEDIA_MAX_DROPOUT) {
		sink_advance(k, k->max + udelta);
		sink_seen(k, k->max);
		k->received++;
		k->bad_seq = -1;
		return true;
	}
	if (udelta <= 65536 - MEDIA_MAX_MISORDER) {
		/* A very large jump: believe a restarted sender on the second
		 * packet in sequence after it; drop the first. */
		if (k->bad_seq == (int32_t)seq) {
			k->lost_before += sink_lost(k);
			sink_restart(k, seq);
			return true;
		}
		k->bad_seq = (uint16_t)(seq + 1);
		return false;
	}
	/* Older than the highest by at most MEDIA_MAX_MISORDER < MEDIA_WIN. */
	ext = k->max - (65536 - udelta);
	if (sink_seen(k, ext)) {
		k->st.dup++;
		return false;
	}
	k->st.reordered++;
	k->received++;
	if (ext < k->base)
		k->base = ext;
	return true;
}

/* RFC 3550 A.8, with arrival time in the stream's timestamp units. */
static void sink_jitter(const media_stream *m, struct media_ssrc *k, uint32_t ts, tv_time now)
{
	uint32_t arrival = (uint32_t)((uint64_t)now * m->cfg.clock_rate / 1000000);
	uint32_t transit = arrival - ts;
	int64_t d;

	if (k->have_transit) {
		d = (int32_t)(transit - k->transit);
		if (d < 0)
			d = -d;
		k->jitter_q4 += d - ((k->jitter_q4 + 8) >> 4);
		k->st.jitter_ms = (double)k->jitter_q4 / 16.0 * 1000.0 / m->cfg.clock_rate;
	}
	k->transit = transit;
	k->have_transit = true;
}

static void sink_src(media_src *src, int *nsrc, int max, const tv_ep *from)
{
	for (int i = 0; i < *nsrc; i++) {
		if (tv_ep_eq(&src[i].ep, from)) {
			src[i].n++;
			return;
		}
	}
	if (*nsrc < max) {
		src[*nsrc].ep = *from;
		src[(*nsrc)++].n = 1;
	}
}

/* Where ssrc's state is in m->rx; -1 if it has none. */
static int ssrc_index(const media_stream *m, uint32_t ssrc)
{
	for (int i = 0; i < m->st.nssrc; i++)
		if (m->rx[i].st.ssrc == ssrc)
			return i;
	return -1;
}

/* The state of ssrc, taking a free slot the first time; NULL when all
 * MEDIA_SSRCS are someone else's. */
static struct media_ssrc *sink_ssrc(media_stream *m, uint32_t ssrc, tv_time now)
{
	struct media_ssrc *k;
	int i = ssrc_index(m, ssrc);

	if (i >= 0)
		return &m->rx[i];
	if (m->st.nssrc == MEDIA_SSRCS)
		return NULL;
	k = &m->rx[m->st.nssrc++];
	k->st.ssrc = ssrc;
	k->st.first_rx = now;
	return k;
}

/* RFC 3550 A.1's validity checks that need no state, plus RFC 5761's
 * reserved payload types 72-76 (RTCP SR..APP with the marker bit). */
static int rtp_check(const uint8_t *p, size_t len)
{
	size_t hdr;
	uint8_t pt;

	if (len < MEDIA_RTP_HDR || (p[0] >> 6) != 2)
		return TV_EINVAL;
	pt = p[1] & 0x7f;
	if (pt >= 72 && pt <= 76)
		return TV_EINVAL;
	hdr = MEDIA_RTP_HDR + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < hdr + 4)
			return TV_EINVAL;
		hdr += 4 + 4u * get16(p + hdr + 2);
	}
	if (len < hdr)
		return TV_EINVAL;
	if ((p[0] & 0x20) && (p[len - 1] == 0 || p[len - 1] > len - hdr))
		return TV_EINVAL;
	return 0;
}

static void media_rtp_input(media_stream *m, const tv_ep *from, const uint8_t *p,
			    size_t len, tv_time now)
{
	media_stats *st = &m->st;
	struct media_ssrc *k;
	uint64_t lost, dup, reordered;
	uint32_t ssrc;

	if (rtp_check(p, len) < 0) {
		st->bad++;
		return;
	}
	ssrc = get32(p + 8);
	st->rtp_rx++;
	st->rtp_rx_bytes += len;
	sink_src(st->src, &st->nsrc, MEDIA_SOURCES, from);
	st->last_src = *from;
	if (!m->have_rx) {
		m->have_rx = true;
		st->first_rx = now;
	} else if (now - m->last_rx > st->max_gap) {
		st->max_gap = now - m->last_rx;
	}
	m->last_rx = st->last_rx = now;
	if (st->nssrc == 0)
		st->remote_ssrc = ssrc;
	else if (ssrc != st->remote_ssrc)
		st->ssrc_changes++;
	k = sink_ssrc(m, ssrc, now);
	if (!k) {
		st->ssrc_overflow++;
		return;
	}
	k->st.rx++;
	k->st.bytes += len;
	k->st.last_rx = now;
	sink_src(k->st.src, &k->st.nsrc, MEDIA_SSRC_SOURCES, from);
	lost = k->st.lost;
	dup = k->st.dup;
	reordered = k->st.reordered;
	if (sink_seq(k, get16(p + 2)))
		sink_jitter(m, k, get32(p + 4), now);
	k->st.lost = k->lost_before + sink_lost(k);
	/* The stream's sums follow (lost may fall when a late packet comes). */
	st->lost = st->lost - lost + k->st.lost;
	st->dup += k->st.dup - dup;
	st->reordered += k->st.reordered - reordered;
	st->jitter_ms = m->rx[0].st.jitter_ms;
}

/* A compound RTCP packet (RFC 3550 A.2): every part version 2 with a
 * length inside the datagram, the lengths adding up to it exactly, the
 * first an SR or RR, padding only on the last. Counted only if all of it
 * is valid. */
static void media_rtcp_input(media_stream *m, const uint8_t *p, size_t len, tv_time now)
{
	uint64_t nsr = 0, nrr = 0;
	uint32_t lsr = 0, lsr_ssrc = 0;
	bool have_lsr = false;
	size_t off = 0;

	if (len < 8 || len % 4 || (p[1] != RTCP_SR && p[1] != RTCP_RR))
		goto bad;
	while (off < len) {
		const uint8_t *q = p + off;
		size_t plen, rc;

		if (len - off < 4 || (q[0] >> 6) != 2 || q[1] < 192 || q[1] > 223)
			goto bad;
		plen = 4 * ((size_t)get16(q + 2) + 1);
		rc = q[0] & 0x1f;
		if (plen > len - off || ((q[0] & 0x20) && off + plen != len))
			goto bad;
		if (q[1] == RTCP_SR) {
			if (plen < 28 + 24 * rc)
				goto bad;
			nsr++;
			lsr_ssrc = get32(q + 4);
			lsr = get32(q + 10);
			have_lsr = true;
		} else if (q[1] == RTCP_RR) {
			if (plen < 8 + 24 * rc)
				goto bad;
			nrr++;
		}
		off += plen;
	}
	m->st.rtcp_rx++;
	{
		uint32_t from = get32(p + 4);
		int i;
		for (i = 0; i < m->st.nrtcp_from && m->st.rtcp_from[i].ssrc != from; i++)
			;
		if (i == m->st.nrtcp_from && i < MEDIA_SSRCS)
			m->st.rtcp_from[m->st.nrtcp_from++].ssrc = from;
		if (i < MEDIA_SSRCS)
			m->st.rtcp_from[i].n++;
	}
	m->st.rtcp_sr_rx += nsr;
	m->st.rtcp_rr_rx += nrr;
	if (have_lsr) {
		m->have_lsr = true;
		m->lsr = lsr;
		m->lsr_ssrc = lsr_ssrc;
		m->lsr_at = now;
	}
	return;
bad:
	m->st.bad++;
}

static void media_rx_rtp(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data,
			 size_t len, tv_time now)
{
	media_stream *m = arg;

	(void)s;
	/* RFC 5761 4: the second byte tells RTCP (200-204) from RTP. */
	if (m->cfg.rtcp_mux && len >= 2 && data[1] >= RTCP_SR && data[1] <= RTCP_APP)
		media_rtcp_input(m, data, len, now);
	else
		media_rtp_input(m, from, data, len, now);
}

static void media_rx_rtcp(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data,
			  size_t len, tv_time now)
{
	(void)s;
	(void)from;
	media_rtcp_input(arg, data, len, now);
}

static void media_rx_ignore(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data,
			    size_t len, tv_time now)
{
	(void)arg;
	(void)s;
	(void)from;
	(void)data;
	(void)len;
	(void)now;
}

/* ---- source ------------------------------------------------------------ */

static void media_send_rtp(media_stream *m)
{
	uint8_t b[MEDIA_PKT_MAX];
	size_t len = MEDIA_RTP_HDR + m->cfg.payload_len;
	tv_udp *s = m->snd_rtp ? m->snd_rtp : m->rtp;

	b[0] = 0x80;
	b[1] = (uint8_t)((m->marker ? 0x80 : 0) | (m->cfg.pt & 0x7f));
	put16(b + 2, m->seq);
	put32(b + 4, m->ts);
	put32(b + 8, m->cfg.ssrc);
	if (m->cfg.pt >= 96 && m->cfg.payload_len >= 2) {
		/* A dynamic payload type is video here (H.264 in the phones' SDP):
		 * send a well-formed filler-data NAL unit (RFC 6184 single NAL
		 * unit packet, type 12: 0xff bytes, RBSP trailing bits) so
		 * protocol analysers decode it cleanly. */
		b[MEDIA_RTP_HDR] = 0x0c;
		memset(b + MEDIA_RTP_HDR + 1, 0xff, len - MEDIA_RTP_HDR - 1);
		b[len - 1] = 0x80;
	} else {
		for (size_t i = MEDIA_RTP_HDR; i < len; i++)
			b[i] = (uint8_t)(m->seq + i);
	}
	if (host_udp_send(s, &m->rem_rtp, b, len) < 0)
		return;
	m->marker = false;
	m->seq++;
	m->st.rtp_tx++;
	m->st.rtp_tx_bytes += len;
	if (m->rtp_left && --m->rtp_left == 0)
		m->rtp_on = false;
}

/* One report block about the first SSRC heard (RFC 3550 6.4.1). */
static void rtcp_put_block(media_stream *m, uint8_t *q, tv_time now)
{
	struct media_ssrc *k = &m->rx[0];
	uint64_t expected = (uint64_t)(k->max - k->base + 1);
	uint64_t exp_int = expected - k->exp_prior, rcv_int = k->received - k->rcv_prior;
	uint64_t cum = k->st.lost > 0x7fffff ? 0x7fffff : k->st.lost;
	uint32_t fraction = 0, dlsr = 0, lsr = 0;

	if (exp_int > rcv_int)
		fraction = (uint32_t)(((exp_int - rcv_int) << 8) / exp_int);
	k->exp_prior = expected;
	k->rcv_prior = k->received;
	if (m->have_lsr && m->lsr_ssrc == k->st.ssrc) {
		lsr = m->lsr;
		dlsr = (uint32_t)((uint64_t)(now - m->lsr_at) * 65536 / 1000000);
	}
	put32(q, k->st.ssrc);
	put32(q + 4, (fraction > 255 ? 255 : fraction) << 24 | (uint32_t)cum);
	put32(q + 8, (uint32_t)(k->max - 65536));
	put32(q + 12, (uint32_t)(k->jitter_q4 >> 4));
	put32(q + 16, lsr);
	put32(q + 20, dlsr);
}

size_t media_rtcp_write(uint8_t *b, uint32_t ssrc, const media_sr *sr, const uint8_t *blocks, int nblocks,
			const char *cname)
{
	size_t off = sr ? 28 : 8, clen = strnlen(cname, 63), sdes;

	if (nblocks < 0 || nblocks > 4)
		nblocks = 0;
	b[0] = (uint8_t)(0x80 | nblocks);
	b[1] = sr ? RTCP_SR : RTCP_RR;
	put32(b + 4, ssrc);
	if (sr) {
		put32(b + 8, (uint32_t)(sr->ntp >> 32));
		put32(b + 12, (uint32_t)sr->ntp);
		put32(b + 16, sr->rtp_ts);
		put32(b + 20, sr->packets);
		put32(b + 24, sr->octets);
	}
	if (nblocks)
		memcpy(b + off, blocks, 24 * (size_t)nblocks);
	off += 24 * (size_t)nblocks;
	put16(b + 2, (uint16_t)(off / 4 - 1));
	/* SDES: chunk = SSRC, CNAME item, END, zero padding to 32 bits. */
	sdes = 4 + 4 + ((2 + clen + 1 + 3) & ~(size_t)3);
	memset(b + off, 0, sdes);
	b[off] = 0x81;
	b[off + 1] = RTCP_SDES;
	put16(b + off + 2, (uint16_t)(sdes / 4 - 1));
	put32(b + off + 4, ssrc);
	b[off + 8] = 1;
	b[off + 9] = (uint8_t)clen;
	memcpy(b + off + 10, cname, clen);
	return off + sdes;
}

/* SR (if RTP went out since the second-previous report, RFC 3550 6.4) or
 * RR, with a block about the first SSRC heard, then SDES CNAME. */
static size_t rtcp_build(media_stream *m, uint8_t *b, tv_time now)
{
	media_sr sr = {
		.ntp = media_ntp(now),
		/* The timestamp of the tick at next_rtp, wound back to now. */
		.rtp_ts = m->ts - media_units(m, m->next_rtp - now),
		.packets = (uint32_t)m->st.rtp_tx,
		.octets = (uint32_t)(m->st.rtp_tx * m->cfg.payload_len),
	};
	bool is_sr = m->st.rtp_tx != m->tx_at_report[0];
	uint8_t blk[24];
	int nblk = m->st.nssrc > 0;

	if (nblk)
		rtcp_put_block(m, blk, now);
	m->tx_at_report[0] = m->tx_at_report[1];
	m->tx_at_report[1] = m->st.rtp_tx;
	return media_rtcp_write(b, m->cfg.ssrc, is_sr ? &sr : NULL, blk, nblk, m->cname);
}

static void media_send_rtcp(media_stream *m, tv_time now)
{
	uint8_t b[MEDIA_RTCP_MAX];
	tv_udp *s;
	size_t len = rtcp_build(m, b, now);

	if (m->cfg.rtcp_mux)
		s = m->snd_rtp ? m->snd_rtp : m->rtp;
	else
		s = m->snd_rtcp ? m->snd_rtcp : m->rtcp;
	if (host_udp_send(s, &m->rem_rtcp, b, len) == 0)
		m->st.rtcp_tx++;
}

static void media_arm(media_stream *m)
{
	host_timer_arm(m->h, &m->timer, m->next_rtp < m->next_rtcp ? m->next_rtp : m->next_rtcp);
}

static void media_on_timeout(tv_timer *t, tv_time now)
{
	media_stream *m = t->arg;

	if (now >= m->next_rtp) {
		if (!m->muted && m->rtp_on && m->have_rem_rtp) {
			media_send_rtp(m);
			m->st.last_tx = now;
		}
		if (m->st.rtp_tx && !m->st.first_tx)
			m->st.first_tx = now;
		m->ts += m->spp;
		m->next_rtp += m->cfg.ptime;
	}
	if (now >= m->next_rtcp) {
		if (m->have_rem_rtcp)
			media_send_rtcp(m, now);
		m->next_rtcp += m->cfg.rtcp_interval;
	}
	media_arm(m);
}

/* ---- API --------------------------------------------------------------- */

static tv_udp *media_bind(media_stream *m, uint16_t port, tv_udp_rx_fn fn, int *err)
{
	tv_ep local = tv_ep4(0, port);

	return host_udp_bind(m->h, &local, fn, m, err);
}

media_stream *media_new(tv_host *h, uint16_t rtp_port, uint16_t rtcp_port, const media_cfg *cfg, int *err)
{
	media_stream *m = calloc(1, sizeof(*m));
	tv_rng *rng = host_rng(h);
	char ip[TV_IP_STRLEN];
	uint32_t send_port;

	if (!m) {
		*err = TV_ENOMEM;
		return NULL;
	}
	m->h = h;
	tv_timer_init(&m->timer, media_on_timeout, m);
	if (cfg)
		m->cfg = *cfg;
	if (m->cfg.ptime <= 0)
		m->cfg.ptime = TV_MS(20);
	if (m->cfg.payload_len == 0)
		m->cfg.payload_len = 160;
	if (m->cfg.clock_rate == 0)
		m->cfg.clock_rate = 8000;
	if (m->cfg.rtcp_interval <= 0)
		m->cfg.rtcp_interval = TV_SEC(5);
	if (m->cfg.payload_len > MEDIA_PAYLOAD_MAX || m->cfg.pt > 127) {
		*err = TV_EINVAL;
		goto fail;
	}
	while (m->cfg.ssrc == 0)
		m->cfg.ssrc = (uint32_t)tv_rng_next(rng);
	m->seq = (uint16_t)tv_rng_next(rng);
	m->ts = (uint32_t)tv_rng_next(rng);
	m->spp = media_units(m, m->cfg.ptime);
	m->rtp_on = !m->cfg.manual;
	m->rtp_left = m->cfg.count;
	snprintf(m->cname, sizeof(m->cname), "%.31s@%s", host_name(h), tv_ip_fmt(host_ip(h), ip));

	m->rtp = media_bind(m, rtp_port, media_rx_rtp, err);
	if (!m->rtp)
		goto fail;
	m->rtp_port = host_udp_local(m->rtp).port;
	if (m->cfg.rtcp_mux) {
		m->rtcp_port = m->rtp_port;
	} else if (rtcp_port) {
		m->rtcp = media_bind(m, rtcp_port, media_rx_rtcp, err);
		if (!m->rtcp)
			goto fail;
		m->rtcp_port = rtcp_port;
	}
	m->rtcp_on = m->rtcp_port != 0;
	if (m->cfg.asymmetric) {
		send_port = m->cfg.send_port ? m->cfg.send_port : m->rtp_port + 1000u;
		if (send_port > 65535 || (m->rtcp && send_port + 1 > 65535)) {
			*err = TV_EINVAL;
			goto fail;
		}
		m->cfg.send_port = (uint16_t)send_port;
		m->snd_rtp = media_bind(m, (uint16_t)send_port, media_rx_ignore, err);
		if (!m->snd_rtp)
			goto fail;
		if (m->rtcp) {
			m->snd_rtcp = media_bind(m, (uint16_t)(send_port + 1), media_rx_ignore, err);
			if (!m->snd_rtcp)
				goto fail;
		}
	}
	*err = 0;
	return m;
fail:
	media_free(m);
	return NULL;
}

void media_free(media_stream *m)
{
	if (!m)
		return;
	host_timer_cancel(m->h, &m->timer);
	host_udp_close(m->snd_rtcp);
	host_udp_close(m->snd_rtp);
	host_udp_close(m->rtcp);
	host_udp_close(m->rtp);
	free(m);
}

void media_set_remote(media_stream *m, const tv_ep *rtp, const tv_ep *rtcp)
{
	if (rtp && !m->have_rem_rtp)
		m->marker = true;
	m->have_rem_rtp = rtp != NULL;
	if (rtp)
		m->rem_rtp = *rtp;
	m->have_rem_rtcp = rtcp != NULL;
	if (rtcp)
		m->rem_rtcp = *rtcp;
}

tv_ep media_remote_rtp(const media_stream *m)
{
	return m->have_rem_rtp ? m->rem_rtp : (tv_ep){ 0 };
}

void media_start(media_stream *m)
{
	tv_time now = host_now(m->h);

	if (m->running)
		return;
	/* After a stop the timestamp keeps pace with the time that passed. */
	if (m->started)
		m->ts += media_units(m, now - m->next_rtp);
	m->started = m->running = true;
	m->marker = true;
	m->next_rtp = now;
	m->next_rtcp = m->rtcp_on ? now + m->cfg.rtcp_interval / 2 : TV_NEVER;
	media_arm(m);
}

void media_stop(media_stream *m)
{
	if (!m->running)
		return;
	host_timer_cancel(m->h, &m->timer);
	m->running = false;
}

void media_mute(media_stream *m, bool mute)
{
	/* RFC 3551 4.1: the marker flags the first packet of a talkspurt. */
	if (m->muted && !mute)
		m->marker = true;
	m->muted = mute;
}

void media_rtp_set(media_stream *m, bool on, uint64_t count)
{
	if (on && !m->rtp_on)
		m->marker = true;
	m->rtp_on = on;
	m->rtp_left = on ? count : 0;
}

const media_stats *media_get_stats(const media_stream *m) { return &m->st; }
uint32_t media_ssrc(const media_stream *m) { return m->cfg.ssrc; }
int media_ssrc_count(const media_stream *m) { return m->st.nssrc; }

const media_ssrc_stats *media_ssrc_at(const media_stream *m, int i)
{
	return i >= 0 && i < m->st.nssrc ? &m->rx[i].st : NULL;
}

uint64_t media_rtcp_from(const media_stream *m, uint32_t ssrc)
{
	for (int i = 0; i < m->st.nrtcp_from; i++)
		if (m->st.rtcp_from[i].ssrc == ssrc)
			return m->st.rtcp_from[i].n;
	return 0;
}

const media_ssrc_stats *media_ssrc_find(const media_stream *m, uint32_t ssrc)
{
	return media_ssrc_at(m, ssrc_index(m, ssrc));
}
uint16_t media_rtp_port(const media_stream *m) { return m->rtp_port; }
uint16_t media_rtcp_port(const media_stream *m) { return m->rtcp_port; }
