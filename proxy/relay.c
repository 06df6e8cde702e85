/* relay.c - the media relay: the hot path.
 *
 * Each stream has four sockets: access RTP/RTCP and core RTP/RTCP. What
 * arrives on an access socket comes from the terminal and goes out of the
 * matching core socket to the peer's core-side address (from the core
 * SDP); what arrives on a core socket goes out of the access socket to the
 * address latched for that stream ("first-packet refresh").
 *
 * Latching, per stream and separately for RTP and RTCP (RTCP never
 * latches RTP, nor the reverse):
 *   UNLATCHED -> LATCHED   on the first packet from an allowed source
 *                          within the learning window after SDP
 *   LATCHED -> LATCHED'    non-strict: a packet from the terminal's
 *                          signaling IP on a new port (its NAT rebound,
 *                          e.g. after a reboot) moves the latch
 * Allowed sources: by default only the IP address of the terminal's
 * signaling NAT mapping (a stranger spraying the relay port can't hijack
 * the stream); with latch=any, anyone inside the window. No allocation,
 * no log, one O(1) lookup (the socket's context) per packet. */
#include "proxy_priv.h"

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

void px_relay_rx(void *arg, tv_udp *u, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	px_sock *k = arg;
	px_stream *s = k->s;
	proxy *p = s->leg->b->p;
	int r = k->rtcp;
	bool rtp;

	(void)u;
	if (len < 8 || (data[0] >> 6) != 2) {   /* RTP and RTCP are version 2 */
		drop(p, s, PX_DROP_RTP_MALFORMED);
		return;
	}
	/* Media activity for the silence timeout is RTP only: a muted phone
	 * keeps sending RTCP (RFC 5761 demux for RTCP on the RTP port). */
	rtp = !r && !(data[1] >= 200 && data[1] <= 204);
	if (k->side == PX_ACCESS) {
		if (s->latch[r] == PX_UNLATCHED) {
			if (!may_latch(p, s, from, now)) {
				drop(p, s, PX_DROP_RTP_FOREIGN);
				return;
			}
			s->latch[r] = PX_LATCHED;
			s->latched[r] = *from;
			p->st.latches++;
		} else if (!tv_ep_eq(&s->latched[r], from)) {
			if (p->cfg.strict_source) {
				drop(p, s, PX_DROP_RTP_STRICT);
				return;
			}
			if (from->ip.v4 != s->leg->b->nat.ip.v4 && from->ip.v4 != s->latched[r].ip.v4) {
				drop(p, s, PX_DROP_RTP_FOREIGN);
				return;
			}
			s->latched[r] = *from;
			p->st.relatches++;
		}
		if (rtp)
			s->last_media = now;
		if (!s->core_known) {
			drop(p, s, PX_DROP_RTP_NO_DEST);
			return;
		}
		host_udp_send(s->sock[2 + r].u, &s->core_remote[r], data, len);
		s->to_core[r]++;
		s->bytes_to_core += len;
		p->st.relayed_to_core++;
		p->st.bytes_to_core += len;
	} else {
		if (rtp)
			s->last_media = now;
		if (s->latch[r] != PX_LATCHED) {
			drop(p, s, PX_DROP_RTP_NO_DEST);
			return;
		}
		host_udp_send(s->sock[r].u, &s->latched[r], data, len);
		s->to_access[r]++;
		s->bytes_to_access += len;
		p->st.relayed_to_access++;
		p->st.bytes_to_access += len;
	}
}
