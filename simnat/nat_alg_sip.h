/* nat_alg_sip.h - the SIP ALG of a NAT (alg=sip): rewrites the addresses a
 * SIP message carries as the NAT rewrites the packet's header.
 *
 * Modelled on Linux nf_nat_sip/nf_conntrack_sip (read, not copied): a
 * value is rewritten only where it names the flow's own endpoint that the
 * NAT translates ("from", the address and port before translation) and
 * becomes the one after it ("to"). Outbound, from is the inside endpoint
 * and to the mapped one; inbound, from is the mapped endpoint and to the
 * inside one. Where it looks, as Linux does:
 *
 *   request line   the Request-URI's host:port
 *   top Via        sent-by; with it, received= (address) and rport= (port)
 *   Contact        every value's URI host:port
 *   From, To       the URI host:port
 *   SDP            o= and c= addresses equal to from's address; outbound,
 *                  each m= port of a stream on that address is mapped
 *                  through the NAT (a "pinhole": a binding for the media
 *                  port and the next one, RTCP, admitting the signalling
 *                  peer's address, opened by the media() callback)
 *
 * A host:port without a port means 5060 (RFC 3261 19.1.2), as in Linux;
 * the replacement always carries the port. Only spans change (sip_rw.h);
 * Content-Length is repaired. Pure: no clock, no sockets, no allocation.
 *
 * Faults (NAT_ALGF_*, nat.h), each a bug of real CPE ALGs:
 *   no-sdp             headers rewritten, the SDP left private, no pinhole
 *   wrong-port         outbound: the public address with the private port
 *                      (signalling and m= lines)
 *   no-content-length  the body grows or shrinks, Content-Length does not
 *   no-pinhole         SDP rewritten, no media mapping opened
 *   via-only           only the top Via rewritten (no Contact, no SDP)
 *   contact-only       only Contact rewritten (no Via, no SDP) */
#ifndef TV_NAT_ALG_SIP_H
#define TV_NAT_ALG_SIP_H

#include "nat.h"

typedef struct nat_alg_sip_ctx {
	enum nat_dir dir;
	tv_ep from, to;         /* IPv4 endpoints */
	uint32_t faults;        /* NAT_ALGF_* */
	/* Outbound SDP: map the inside media port in_port (and in_port + 1)
	 * through the NAT; 0 with the external port of in_port, or < 0 (the
	 * m= line is then left alone). NULL: no mapping is made, the port is
	 * left alone. */
	int (*media)(void *arg, uint16_t in_port, uint16_t *ext_port);
	void *arg;
} nat_alg_sip_ctx;

/* Result codes besides a new length. */
#define NAT_ALG_UNCHANGED 0

/* Rewrite the SIP message in[0..len) into out (cap bytes). Returns the new
 * length (> 0), NAT_ALG_UNCHANGED when nothing in it names from,
 * TV_EINVAL when it cannot be read as SIP (no start line, no blank line
 * ending the header, a folded header line), TV_ENOSPC when the rewrite
 * does not fit cap. *pinholes (may be NULL) counts the media ports mapped. */
int nat_alg_sip_rewrite(const nat_alg_sip_ctx *c, const char *in, size_t len, char *out, size_t cap, int *pinholes);

/* Rewrite the payload of a parsed UDP packet (pkt, *len bytes, room for
 * cap; pi from pkt_parse) into scratch (PKT_UDP_DATA_MAX bytes), then back
 * into the packet with the UDP and IP lengths and checksums recomputed.
 * Returns as nat_alg_sip_rewrite; on a new length *len is the packet's. */
int nat_alg_sip_packet(const nat_alg_sip_ctx *c, uint8_t *pkt, size_t *len, size_t cap, const pkt_info *pi,
		       char *scratch, int *pinholes);

#endif
