/* relay.c - the media relay: the hot path.
 *
 * Each stream has four sockets: access RTP/RTCP and core RTP/RTCP. What
 * arrives on an access socket comes from the terminal and goes out of the
 * matching core socket to the peer's core-side address (from the core
 * SDP); what arrives on a core socket goes out of the access socket to the
 * address latched for that stream ("first-packet refresh").
 *
 * Access side, RTP (docs/proxy.md, "Media relay and latching"):
 *   UNLATCHED -> LATCHED   the first RTP packet from an allowed source
 *                          within the learning window after SDP; its SSRC
 *                          and sequence number are kept, and whether its
 *                          port is the one the terminal wrote in its SDP
 *   LATCHED -> LATCHED'    a packet from another source moves the latch
 *                          only with evidence that it is the same stream:
 *                          - the same SSRC with the next sequence numbers
 *                            (the terminal's NAT rebound; not strict);
 *                          - or, when the latch has no port evidence, the
 *                            terminal's signaling IP with the very port of
 *                            its SDP (a port-preserving NAT: a neighbour on
 *                            the same IP who sent first loses the stream
 *                            to the terminal once, never back).
 *                          Anything else from the terminal's IP is a
 *                          conflict (drop.rtp-conflict); from elsewhere,
 *                          foreign. So nothing ever alternates.
 * Access side, RTCP follows RTP: it latches (and moves) only from the IP
 * the RTP latched on, with the RTP's SSRC as its sender SSRC; before any
 * RTP (a silent or receive-only terminal) only from the signaling IP with
 * the very RTCP port of the terminal's SDP.
 * Core side: only from the address the core's SDP gave (the peer's
 * media); anyone else on the core network is foreign.
 * Allowed sources for the first RTP latch: the IP address of the
 * terminal's signaling (its binding's NAT mapping); with latch=any,
 * anyone inside the window. No allocation, no log, one O(1) lookup (the
 * socket's context) per packet.
 * Quality (rtpq.c): what is forwarded is measured per direction, q[0]
 * toward the core and q[1] toward the terminal: RTP for loss, jitter and
 * the last packet's time, RTCP for the round trip. Only what passed the
 * checks above is measured: a malformed packet (too short, not version 2)
 * is dropped before, and so is anything the latch refuses. */
#include "proxy_priv.h"

#define RELAY_SEQ_GAP 3000              /* RFC 3550 A.1 MAX_DROPOUT */

static bool may_latch(const proxy *p, const px_stream *s, const tv_ep *from, tv_time now)
{
	if (p->cfg.latch == PX_LATCH_ANY)
		return now <= s->learn_until;
	return from->ip.v4 == s->leg->b->nat.ip.v4 && now <= s->learn_until;
}

static void drop(proxy *p, px_stream *s, enum px_drop why)
{
	p->st.drop[why]++;
	s->dropped++;
}

static uint32_t get32(const uint8_t *d) { return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]; }

/* The RTP latch: 0 to forward, else the drop reason. */
static int latch_rtp(proxy *p, px_stream *s, const tv_ep *from, uint32_t ssrc, uint16_t seq, tv_time now)
{
	bool by_port = from->ip.v4 == s->leg->b->nat.ip.v4 && from->port == s->sdp_rtp.port;

	if (s->latch[0] == PX_UNLATCHED) {
		if (!may_latch(p, s, from, now))
			return PX_DROP_RTP_FOREIGN;
		s->latch[0] = PX_LATCHED;
		s->latched[0] = *from;
		s->ssrc = ssrc;
		s->by_port = by_port;
		p->st.latches++;
	} else if (!tv_ep_eq(&s->latched[0], from)) {
		if (from->ip.v4 != s->leg->b->nat.ip.v4 && from->ip.v4 != s->latched[0].ip.v4)
			return p->cfg.strict_source ? PX_DROP_RTP_STRICT : PX_DROP_RTP_FOREIGN;
		if (by_port && !s->by_port && now <= s->learn_until) {
			/* the terminal's own port: it outranks whoever came first */
			s->ssrc = ssrc;
			s->by_port = true;
		} else if (p->cfg.strict_source) {
			return PX_DROP_RTP_STRICT;
		} else if (ssrc != s->ssrc || (uint16_t)(seq - s->seq) > RELAY_SEQ_GAP) {
			return PX_DROP_RTP_CONFLICT;
		} else {
			s->by_port = by_port;
		}
		s->latched[0] = *from;
		p->st.relatches++;
	} else if (ssrc != s->ssrc) {
		s->ssrc = ssrc;         /* the latched source restarted its stream */
	}
	s->seq = seq;
	return 0;
}

/* RTCP follows the RTP latch: from its IP, with its SSRC as sender. */
static int latch_rtcp(proxy *p, px_stream *s, const tv_ep *from, uint32_t sender, tv_time now)
{
	if (s->latch[1] == PX_LATCHED && tv_ep_eq(&s->latched[1], from))
		return 0;
	if (s->latch[0] != PX_LATCHED && s->latch[1] == PX_UNLATCHED && from->ip.v4 == s->leg->b->nat.ip.v4 &&
	    from->port == s->sdp_rtcp.port && now <= s->learn_until) {
		/* no RTP yet (a silent or receive-only terminal): its own RTCP
		 * port is evidence enough */
		s->latch[1] = PX_LATCHED;
		s->latched[1] = *from;
		p->st.latches++;
		return 0;
	}
	if (s->latch[0] != PX_LATCHED || from->ip.v4 != s->latched[0].ip.v4)
		return from->ip.v4 == s->leg->b->nat.ip.v4 ? PX_DROP_RTP_CONFLICT : PX_DROP_RTP_FOREIGN;
	if (sender != s->ssrc)
		return PX_DROP_RTP_CONFLICT;
	if (s->latch[1] == PX_LATCHED) {
		if (p->cfg.strict_source)
			return PX_DROP_RTP_STRICT;
		p->st.relatches++;
	} else {
		p->st.latches++;
	}
	s->latch[1] = PX_LATCHED;
	s->latched[1] = *from;
	return 0;
}

/* media-trust=ip: the relay before issue 11, for scenarios that show
 * what the evidence rules stop. */
static int latch_ip(proxy *p, px_stream *s, int r, const tv_ep *from, tv_time now)
{
	if (s->latch[r] == PX_UNLATCHED) {
		if (!may_latch(p, s, from, now))
			return PX_DROP_RTP_FOREIGN;
		s->latch[r] = PX_LATCHED;
		s->latched[r] = *from;
		p->st.latches++;
	} else if (!tv_ep_eq(&s->latched[r], from)) {
		if (p->cfg.strict_source)
			return PX_DROP_RTP_STRICT;
		if (from->ip.v4 != s->leg->b->nat.ip.v4 && from->ip.v4 != s->latched[r].ip.v4)
			return PX_DROP_RTP_FOREIGN;
		s->latched[r] = *from;
		p->st.relatches++;
	}
	return 0;
}

void px_relay_rx(void *arg, tv_udp *u, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	px_sock *k = arg;
	px_stream *s = k->s;
	proxy *p = s->leg->b->p;
	int r = k->rtcp, why;
	bool rtp;

	(void)u;
	if (len < 8 || (data[0] >> 6) != 2) {   /* RTP and RTCP are version 2 */
		drop(p, s, PX_DROP_RTP_MALFORMED);
		return;
	}
	/* RTCP on the RTP port (RFC 5761 demux) counts as RTCP; media
	 * activity for the silence timeout is RTP only (a muted phone keeps
	 * sending RTCP). */
	rtp = !r && !(data[1] >= 200 && data[1] <= 204);
	if (rtp && len < 12) {
		drop(p, s, PX_DROP_RTP_MALFORMED);
		return;
	}
	if (k->side == PX_ACCESS) {
		int slot = p->cfg.media_trust == PX_MEDIA_IP ? r : rtp ? 0 : r;
		tv_ep was = s->latched[slot];
		enum px_latch_state was_state = s->latch[slot];

		if (p->cfg.media_trust == PX_MEDIA_IP)
			why = latch_ip(p, s, r, from, now);
		else if (rtp)
			why = latch_rtp(p, s, from, get32(data + 8), (uint16_t)(data[2] << 8 | data[3]), now);
		else if (r)
			why = latch_rtcp(p, s, from, get32(data + 4), now);
		else            /* multiplexed RTCP: from the RTP latch, with its SSRC */
			why = s->latch[0] == PX_LATCHED && tv_ep_eq(&s->latched[0], from) && get32(data + 4) == s->ssrc
				      ? 0 : PX_DROP_RTP_CONFLICT;
		if (why) {
			drop(p, s, (enum px_drop)why);
			return;
		}
		if (p->cfg.on_event && (was_state != s->latch[slot] || !tv_ep_eq(&was, &s->latched[slot])))
			px_event(p, was_state == PX_LATCHED ? PX_EV_RELATCH : PX_EV_LATCH, s->leg->b->user,
				 s->leg->call_id, NULL, s->idx, slot == 1, &s->latched[slot], now);
		/* the terminal is there while it sends anything: RTP, or the
		 * RTCP a muted phone goes on sending (RFC 3550 6.3.5) */
		px_timers_media_seen(s, now);
		if (!s->core_known) {
			drop(p, s, PX_DROP_RTP_NO_DEST);
			return;
		}
		host_udp_send(s->sock[2 + r].u, &s->core_remote[r], data, len);
		if (rtp)
			rtpq_rtp(&s->q[0], data, s->codec.rate, now);
		else
			rtpq_rtcp(&s->q[0], &s->q[1], data, len, now);
		s->to_core[r]++;
		s->bytes_to_core += len;
		p->st.relayed_to_core++;
		p->st.bytes_to_core += len;
	} else {
		const tv_ep *sdp = r ? &s->sdp_rtcp : &s->sdp_rtp, *dst;

		if (p->cfg.media_trust == PX_MEDIA_STREAM && (!s->core_known || from->ip.v4 != s->core_remote[r].ip.v4)) {
			drop(p, s, PX_DROP_RTP_FOREIGN);
			return;
		}
		if (s->latch[r] == PX_LATCHED) {
			dst = &s->latched[r];
		} else if (sdp->port && sdp->ip.v4 == s->leg->b->nat.ip.v4) {
			/* Not latched yet, but the terminal wrote the address it
			 * signals from (no NAT, or one that keeps addresses): its
			 * SDP port is where it listens, and a terminal that only
			 * answers media (an echo, a receive-only one) hears it.
			 * Never a third party: the address is the one the
			 * terminal's own signalling came from. */
			dst = sdp;
		} else {
			drop(p, s, PX_DROP_RTP_NO_DEST);
			return;
		}
		host_udp_send(s->sock[r].u, dst, data, len);
		if (rtp)
			rtpq_rtp(&s->q[1], data, s->codec.rate, now);
		else
			rtpq_rtcp(&s->q[1], &s->q[0], data, len, now);
		s->to_access[r]++;
		s->bytes_to_access += len;
		p->st.relayed_to_access++;
		p->st.bytes_to_access += len;
	}
}
