/* pkt.h - IPv4/UDP/TCP/ICMP packet building and parsing.
 *
 * Packets are real wire bytes (no link header, as LINKTYPE_RAW). The parser
 * never copies: it validates lengths and checksums and fills a pkt_info
 * with offsets into the caller's buffer. Builders write into a buffer the
 * caller owns and return the packet length, or a negative TV_E*.
 *
 * Why not libnet: Debian 12 ships libnet 1.1.6, whose contexts always open a
 * raw socket (LIBNET_NONE arrived in 1.2), so it cannot build packets in an
 * unprivileged simulation. The builder below is RFC 791/768/793 header
 * layout plus the RFC 1071 checksum; the tests check it against an
 * independent checksum and tshark decodes every pcap. */
#ifndef TV_PKT_H
#define TV_PKT_H

#include "tv.h"

/* The largest IPv4 packet: the total length field is 16 bits. Simulated
 * links carry packets up to this size whole (no MTU, no fragmentation).
 * Minus a 20-byte IP header and an 8-byte UDP header, 65,507 bytes is the
 * largest UDP payload. */
#define PKT_IP_MAX 65535
#define PKT_UDP_DATA_MAX (PKT_IP_MAX - 20 - 8)
#define IP4_HDR 20
#define UDP_HDR 8
#define TCP_HDR 20
#define ICMP_HDR 8

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };

enum { ICMP_ECHOREPLY = 0, ICMP_UNREACH = 3, ICMP_ECHO = 8, ICMP_TIMXCEED = 11 };

typedef struct pkt_info {
	uint8_t proto;          /* TV_PROTO_* */
	uint8_t ttl;
	uint16_t ip_len;        /* total length from the IP header */
	uint16_t l4_off;        /* offset of the UDP/TCP/ICMP header */
	uint16_t data_off;      /* offset of the payload */
	uint16_t data_len;
	tv_ep src, dst;         /* ports are 0 for ICMP */
	/* TCP */
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	/* ICMP */
	uint8_t icmp_type, icmp_code;
} pkt_info;

/* Parse and validate (header sanity, lengths, IP and L4 checksums).
 * Returns 0, or TV_EINVAL for anything malformed. */
int pkt_parse(const uint8_t *buf, size_t len, pkt_info *pi);

/* Build a UDP datagram. Returns total length, TV_EMSGSIZE for a payload
 * over PKT_UDP_DATA_MAX, TV_ENOSPC if it does not fit in cap, or TV_EINVAL.
 * data may lie inside buf (it is moved, not copied). */
int pkt_build_udp(uint8_t *buf, size_t cap, const tv_ep *src, const tv_ep *dst,
		  uint16_t ip_id, const void *data, size_t len);
int pkt_build_tcp(uint8_t *buf, size_t cap, const tv_ep *src, const tv_ep *dst,
		  uint16_t ip_id, uint8_t flags, uint32_t seq, uint32_t ack,
		  uint16_t win, const void *data, size_t len);
/* ICMP error (e.g. port unreachable) quoting the offending packet's IP
 * header and first 8 bytes of its payload (RFC 792), however long that
 * packet was: an error is at most PKT_ICMP_ERR_MAX bytes. */
#define PKT_ICMP_ERR_MAX (IP4_HDR + ICMP_HDR + 60 + 8)
int pkt_build_icmp_error(uint8_t *buf, size_t cap, const tv_ip *src, uint16_t ip_id,
			 uint8_t type, uint8_t code, const uint8_t *orig, size_t orig_len);

/* RFC 1071 one's complement sum helpers. */
uint32_t pkt_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t pkt_csum_fold(uint32_t sum);
/* RFC 1624 incremental update of a checksum field when a 16-bit word
 * changes from old to new. */
static inline uint16_t pkt_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	uint32_t s = (uint16_t)~csum + (uint16_t)~old + new_;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}
static inline uint16_t pkt_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
	csum = pkt_csum_update16(csum, (uint16_t)(old >> 16), (uint16_t)(new_ >> 16));
	return pkt_csum_update16(csum, (uint16_t)old, (uint16_t)new_);
}

static inline uint16_t pkt_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t pkt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void pkt_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void pkt_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Set an IPv4 packet's TOS byte (DSCP << 2 | ECN), fixing the header
 * checksum incrementally. */
static inline void pkt_set_tos(uint8_t *ip, uint8_t tos)
{
	uint16_t old = pkt_get16(ip);

	ip[1] = tos;
	pkt_put16(ip + 10, pkt_csum_update16(pkt_get16(ip + 10), old, pkt_get16(ip)));
}

/* Rewrite the source (or destination) address and port of a parsed UDP or
 * TCP packet in place, fixing IP and L4 checksums incrementally. For ICMP
 * only the address changes. */
void pkt_rewrite_src(uint8_t *buf, pkt_info *pi, const tv_ep *ep);
void pkt_rewrite_dst(uint8_t *buf, pkt_info *pi, const tv_ep *ep);

#endif
