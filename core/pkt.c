/* pkt.c - IPv4/UDP/TCP/ICMP wire format. See pkt.h for the contract. */
#include "pkt.h"

#include <arpa/inet.h>
#include <string.h>

uint32_t pkt_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	/* 32-bit big-endian words: 2^16 = 1 (mod 2^16 - 1), so summing them
	 * and folding gives the same one's complement sum as 16-bit words. */
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		s += ntohl(w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		s += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		s += (uint32_t)p[0] << 8;
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	uint32_t sum = pkt_csum_add(0, ip + 12, 8);

	return sum + proto + (uint32_t)l4len;
}

static int build_ip(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t proto,
		    uint16_t ip_id, size_t l4len)
{
	size_t total = IP4_HDR + l4len;

	if (total > cap || total > 65535)
		return TV_ENOSPC;
	buf[0] = 0x45;
	buf[1] = 0;
	pkt_put16(buf + 2, (uint16_t)total);
	pkt_put16(buf + 4, ip_id);
	pkt_put16(buf + 6, 0x4000);             /* DF */
	buf[8] = 64;
	buf[9] = proto;
	pkt_put16(buf + 10, 0);
	pkt_put32(buf + 12, src);
	pkt_put32(buf + 16, dst);
	pkt_put16(buf + 10, pkt_csum_fold(pkt_csum_add(0, buf, IP4_HDR)));
	return (int)total;
}

int pkt_build_udp(uint8_t *buf, size_t cap, const tv_ep *src, const tv_ep *dst,
		  uint16_t ip_id, const void *data, size_t len)
{
	uint8_t *u = buf + IP4_HDR;
	size_t l4 = UDP_HDR + len;
	uint16_t c;
	int total;

	if (src->ip.af != TV_AF_INET || dst->ip.af != TV_AF_INET)
		return TV_EINVAL;
	if (len > PKT_UDP_DATA_MAX)
		return TV_EMSGSIZE;
	total = build_ip(buf, cap, src->ip.v4, dst->ip.v4, TV_PROTO_UDP, ip_id, l4);
	if (total < 0)
		return total;
	pkt_put16(u, src->port);
	pkt_put16(u + 2, dst->port);
	pkt_put16(u + 4, (uint16_t)l4);
	pkt_put16(u + 6, 0);
	if (len)
		memmove(u + UDP_HDR, data, len);
	c = pkt_csum_fold(pkt_csum_add(pseudo_sum(buf, TV_PROTO_UDP, l4), u, l4));
	pkt_put16(u + 6, c ? c : 0xffff);
	return total;
}

int pkt_build_tcp(uint8_t *buf, size_t cap, const tv_ep *src, const tv_ep *dst,
		  uint16_t ip_id, uint8_t flags, uint32_t seq, uint32_t ack,
		  uint16_t win, const void *data, size_t len)
{
	uint8_t *t = buf + IP4_HDR;
	size_t l4 = TCP_HDR + len;
	int total;

	if (src->ip.af != TV_AF_INET || dst->ip.af != TV_AF_INET)
		return TV_EINVAL;
	total = build_ip(buf, cap, src->ip.v4, dst->ip.v4, TV_PROTO_TCP, ip_id, l4);
	if (total < 0)
		return total;
	pkt_put16(t, src->port);
	pkt_put16(t + 2, dst->port);
	pkt_put32(t + 4, seq);
	pkt_put32(t + 8, (flags & TCP_ACK) ? ack : 0);
	t[12] = (TCP_HDR / 4) << 4;
	t[13] = flags;
	pkt_put16(t + 14, win);
	pkt_put16(t + 16, 0);
	pkt_put16(t + 18, 0);
	if (len)
		memmove(t + TCP_HDR, data, len);
	pkt_put16(t + 16, pkt_csum_fold(pkt_csum_add(pseudo_sum(buf, TV_PROTO_TCP, l4), t, l4)));
	return total;
}

int pkt_build_icmp_error(uint8_t *buf, size_t cap, const tv_ip *src, uint16_t ip_id,
			 uint8_t type, uint8_t code, const uint8_t *orig, size_t orig_len)
{
	size_t ohl, quote;
	uint8_t *m = buf + IP4_HDR;
	int total;

	if (orig_len < IP4_HDR || src->af != TV_AF_INET)
		return TV_EINVAL;
	ohl = (size_t)(orig[0] & 15) * 4;
	quote = ohl + 8 < orig_len ? ohl + 8 : orig_len;
	total = build_ip(buf, cap, src->v4, pkt_get32(orig + 12), TV_PROTO_ICMP, ip_id,
			 ICMP_HDR + quote);
	if (total < 0)
		return total;
	m[0] = type;
	m[1] = code;
	memset(m + 2, 0, 6);
	memcpy(m + ICMP_HDR, orig, quote);
	pkt_put16(m + 2, pkt_csum_fold(pkt_csum_add(0, m, ICMP_HDR + quote)));
	return total;
}

int pkt_parse(const uint8_t *buf, size_t len, pkt_info *pi)
{
	size_t hl, total, l4len;
	const uint8_t *l4;

	if (len < IP4_HDR || (buf[0] >> 4) != 4)
		return TV_EINVAL;
	hl = (size_t)(buf[0] & 15) * 4;
	total = pkt_get16(buf + 2);
	if (hl < IP4_HDR || total < hl || total > len)
		return TV_EINVAL;
	if (pkt_csum_fold(pkt_csum_add(0, buf, hl)) != 0)
		return TV_EINVAL;
	if (pkt_get16(buf + 6) & 0x3fff)        /* fragments are not modelled */
		return TV_EINVAL;
	memset(pi, 0, sizeof(*pi));
	pi->proto = buf[9];
	pi->ttl = buf[8];
	pi->ip_len = (uint16_t)total;
	pi->l4_off = (uint16_t)hl;
	pi->src.ip = tv_ip4(pkt_get32(buf + 12));
	pi->dst.ip = tv_ip4(pkt_get32(buf + 16));
	l4 = buf + hl;
	l4len = total - hl;
	switch (pi->proto) {
	case TV_PROTO_UDP:
		if (l4len < UDP_HDR || pkt_get16(l4 + 4) != l4len)
			return TV_EINVAL;
		if (pkt_get16(l4 + 6) != 0 &&
		    pkt_csum_fold(pkt_csum_add(pseudo_sum(buf, TV_PROTO_UDP, l4len), l4, l4len)) != 0)
			return TV_EINVAL;
		pi->src.port = pkt_get16(l4);
		pi->dst.port = pkt_get16(l4 + 2);
		pi->data_off = (uint16_t)(hl + UDP_HDR);
		break;
	case TV_PROTO_TCP: {
		size_t doff;

		if (l4len < TCP_HDR)
			return TV_EINVAL;
		doff = (size_t)(l4[12] >> 4) * 4;
		if (doff < TCP_HDR || doff > l4len)
			return TV_EINVAL;
		if (pkt_csum_fold(pkt_csum_add(pseudo_sum(buf, TV_PROTO_TCP, l4len), l4, l4len)) != 0)
			return TV_EINVAL;
		pi->src.port = pkt_get16(l4);
		pi->dst.port = pkt_get16(l4 + 2);
		pi->tcp_seq = pkt_get32(l4 + 4);
		pi->tcp_ack = pkt_get32(l4 + 8);
		pi->tcp_flags = l4[13];
		pi->tcp_win = pkt_get16(l4 + 14);
		pi->data_off = (uint16_t)(hl + doff);
		break;
	}
	case TV_PROTO_ICMP:
		if (l4len < ICMP_HDR || pkt_csum_fold(pkt_csum_add(0, l4, l4len)) != 0)
			return TV_EINVAL;
		pi->icmp_type = l4[0];
		pi->icmp_code = l4[1];
		pi->data_off = (uint16_t)(hl + ICMP_HDR);
		break;
	default:
		return TV_EINVAL;
	}
	pi->data_len = (uint16_t)(total - pi->data_off);
	return 0;
}

static void rewrite(uint8_t *buf, pkt_info *pi, const tv_ep *ep, int ip_off, int port_off)
{
	uint8_t *l4 = buf + pi->l4_off;
	uint32_t old_ip = pkt_get32(buf + ip_off);
	uint16_t old_port = pkt_get16(l4 + port_off);
	uint16_t c;

	pkt_put32(buf + ip_off, ep->ip.v4);
	pkt_put16(buf + 10, pkt_csum_update32(pkt_get16(buf + 10), old_ip, ep->ip.v4));
	if (pi->proto == TV_PROTO_UDP) {
		pkt_put16(l4 + port_off, ep->port);
		c = pkt_get16(l4 + 6);
		if (c != 0) {
			c = pkt_csum_update32(c, old_ip, ep->ip.v4);
			c = pkt_csum_update16(c, old_port, ep->port);
			pkt_put16(l4 + 6, c ? c : 0xffff);
		}
	} else if (pi->proto == TV_PROTO_TCP) {
		pkt_put16(l4 + port_off, ep->port);
		c = pkt_csum_update32(pkt_get16(l4 + 16), old_ip, ep->ip.v4);
		pkt_put16(l4 + 16, pkt_csum_update16(c, old_port, ep->port));
	}
}

void pkt_rewrite_src(uint8_t *buf, pkt_info *pi, const tv_ep *ep)
{
	rewrite(buf, pi, ep, 12, 0);
	pi->src.ip = ep->ip;
	if (pi->proto != TV_PROTO_ICMP)
		pi->src.port = ep->port;
}

void pkt_rewrite_dst(uint8_t *buf, pkt_info *pi, const tv_ep *ep)
{
	rewrite(buf, pi, ep, 16, 2);
	pi->dst.ip = ep->ip;
	if (pi->proto != TV_PROTO_ICMP)
		pi->dst.port = ep->port;
}
