/* test_nat_alg.c - the NAT's SIP ALG (simnat/nat_alg_sip.c, alg=sip).
 *
 * Addresses: inside phone 192.168.22.100 (port 5060, RTP 10000), NAT
 * public 203.0.113.20, proxy 198.51.100.10:5060. The inside address is 2
 * characters longer than the public one, so every SDP rewrite changes the
 * body's length and Content-Length must follow.
 *
 * The rewriter is tested on fixed messages with exact output bytes; the
 * engine on whole packets (checksums checked by pkt_parse on every
 * forwarded packet); malformed, truncated and random payloads must pass
 * untouched, counted, and never crash. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "nat.h"
#include "nat_alg_sip.h"
#include "pkt.h"
#include "rng.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const uint32_t PHONE = IP(192, 168, 22, 100), PUB = IP(203, 0, 113, 20), PX = IP(198, 51, 100, 10);

static const char REGISTER[] =
	"REGISTER sip:example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.22.100:5060;branch=z9hG4bK1\r\n"
	"From: <sip:bob@example.net>;tag=1\r\n"
	"To: <sip:bob@example.net>\r\n"
	"Call-ID: r1@192.168.22.100\r\n"
	"CSeq: 1 REGISTER\r\n"
	"Contact: <sip:bob@192.168.22.100:5060>\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char INVITE[] =
	"INVITE sip:alice@example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.22.100;branch=z9hG4bK2\r\n"
	"From: <sip:bob@192.168.22.100>;tag=2\r\n"
	"To: <sip:alice@example.net>\r\n"
	"Call-ID: i1@192.168.22.100\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: \"Bob\" <sip:bob@192.168.22.100:5060;transport=udp>, <sip:bob@192.168.22.99:5060>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 122\r\n"
	"\r\n"
	"v=0\r\n"
	"o=bob 1 1 IN IP4 192.168.22.100\r\n"
	"s=-\r\n"
	"c=IN IP4 192.168.22.100\r\n"
	"t=0 0\r\n"
	"m=audio 10000 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

/* What a correct ALG sends out for INVITE when the NAT mapped 5060 to
 * 20000 and the media port 10000 to 20001. */
static const char INVITE_OUT[] =
	"INVITE sip:alice@example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 203.0.113.20:20000;branch=z9hG4bK2\r\n"
	"From: <sip:bob@203.0.113.20:20000>;tag=2\r\n"
	"To: <sip:alice@example.net>\r\n"
	"Call-ID: i1@192.168.22.100\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: \"Bob\" <sip:bob@203.0.113.20:20000;transport=udp>, <sip:bob@192.168.22.99:5060>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 118\r\n"
	"\r\n"
	"v=0\r\n"
	"o=bob 1 1 IN IP4 203.0.113.20\r\n"
	"s=-\r\n"
	"c=IN IP4 203.0.113.20\r\n"
	"t=0 0\r\n"
	"m=audio 20001 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

typedef struct media_log {
	int calls;
	uint16_t port[4];
} media_log;

static int media_cb(void *arg, uint16_t in_port, uint16_t *ext)
{
	media_log *l = arg;

	if (l->calls < 4)
		l->port[l->calls] = in_port;
	l->calls++;
	*ext = (uint16_t)(in_port + 10001);
	return 0;
}

static nat_alg_sip_ctx out_ctx(uint32_t faults, media_log *l)
{
	nat_alg_sip_ctx c = {
		.dir = NAT_OUT, .from = tv_ep4(PHONE, 5060), .to = tv_ep4(PUB, 20000),
		.faults = faults, .media = media_cb, .arg = l,
	};
	return c;
}

static char out[8192];

static int rewrite(const nat_alg_sip_ctx *c, const char *msg, int *pinholes)
{
	int n = nat_alg_sip_rewrite(c, msg, strlen(msg), out, sizeof(out) - 1, pinholes);

	if (n > 0)
		out[n] = '\0';
	return n;
}

/* The body length after the blank line, and the Content-Length value. */
static void lengths(const char *msg, int *body, int *cl)
{
	const char *b = strstr(msg, "\r\n\r\n"), *h = strstr(msg, "Content-Length:");

	cr_assert(b && h);
	*body = (int)strlen(b + 4);
	*cl = atoi(h + 15);
}

Test(nat_alg, register_out_exact_bytes)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(0, &l);
	static const char want[] =
		"REGISTER sip:example.net SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.20:20000;branch=z9hG4bK1\r\n"
		"From: <sip:bob@example.net>;tag=1\r\n"
		"To: <sip:bob@example.net>\r\n"
		"Call-ID: r1@192.168.22.100\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <sip:bob@203.0.113.20:20000>\r\n"
		"Content-Length: 0\r\n"
		"\r\n";

	cr_assert_eq(rewrite(&c, REGISTER, NULL), (int)strlen(want));
	cr_assert_str_eq(out, want);
	cr_assert_eq(l.calls, 0, "no SDP, no pinhole");
}

Test(nat_alg, invite_out_exact_bytes_content_length_and_pinhole)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(0, &l);
	int body, cl, ph;

	cr_assert_eq(rewrite(&c, INVITE, &ph), (int)strlen(INVITE_OUT));
	cr_assert_str_eq(out, INVITE_OUT);
	lengths(out, &body, &cl);
	cr_assert_eq(body, cl, "Content-Length %d for a body of %d", cl, body);
	cr_assert_eq(ph, 1);
	cr_assert_eq(l.calls, 1);
	cr_assert_eq(l.port[0], 10000);
}

Test(nat_alg, response_in_restores_via_received_and_rport)
{
	nat_alg_sip_ctx c = { .dir = NAT_IN, .from = tv_ep4(PUB, 20000), .to = tv_ep4(PHONE, 5060) };
	static const char in[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 203.0.113.20:20000;branch=z9hG4bK1;received=203.0.113.20;rport=20000\r\n"
		"Contact: <sip:bob@203.0.113.20:20000>;expires=3600\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char want[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.168.22.100:5060;branch=z9hG4bK1;received=192.168.22.100;rport=5060\r\n"
		"Contact: <sip:bob@192.168.22.100:5060>;expires=3600\r\n"
		"Content-Length: 0\r\n\r\n";

	cr_assert_gt(rewrite(&c, in, NULL), 0);
	cr_assert_str_eq(out, want);
}

Test(nat_alg, request_in_to_the_mapped_contact_goes_to_the_inside_one)
{
	nat_alg_sip_ctx c = { .dir = NAT_IN, .from = tv_ep4(PUB, 20000), .to = tv_ep4(PHONE, 5060) };
	static const char in[] =
		"INVITE sip:bob@203.0.113.20:20000 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK9\r\n"
		"Content-Length: 0\r\n\r\n";

	cr_assert_gt(rewrite(&c, in, NULL), 0);
	cr_assert(!strncmp(out, "INVITE sip:bob@192.168.22.100:5060 SIP/2.0\r\n", 44), "%s", out);
	cr_assert(strstr(out, "Via: SIP/2.0/UDP 198.51.100.10:5060;"), "the proxy's Via is not ours");
}

Test(nat_alg, nothing_of_the_flow_is_unchanged)
{
	nat_alg_sip_ctx c = { .dir = NAT_OUT, .from = tv_ep4(IP(192, 168, 22, 7), 5060), .to = tv_ep4(PUB, 20000) };

	cr_assert_eq(rewrite(&c, INVITE, NULL), NAT_ALG_UNCHANGED);
	/* the address with another port is another endpoint (as in Linux) */
	c.from = tv_ep4(PHONE, 5062);
	cr_assert_eq(rewrite(&c, REGISTER, NULL), NAT_ALG_UNCHANGED);
}

Test(nat_alg, fault_no_sdp)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(NAT_ALGF_NO_SDP, &l);

	cr_assert_gt(rewrite(&c, INVITE, NULL), 0);
	cr_assert(strstr(out, "Contact: \"Bob\" <sip:bob@203.0.113.20:20000;"));
	cr_assert(strstr(out, "Content-Length: 122\r\n\r\nv=0\r\no=bob 1 1 IN IP4 192.168.22.100\r\n"), "%s", out);
	cr_assert(strstr(out, "m=audio 10000 "));
	cr_assert_eq(l.calls, 0);
}

Test(nat_alg, fault_wrong_port)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(NAT_ALGF_WRONG_PORT, &l);

	cr_assert_gt(rewrite(&c, INVITE, NULL), 0);
	cr_assert(strstr(out, "Via: SIP/2.0/UDP 203.0.113.20:5060;"), "%s", out);
	cr_assert(strstr(out, "<sip:bob@203.0.113.20:5060;transport=udp>"));
	cr_assert(strstr(out, "c=IN IP4 203.0.113.20\r\n"));
	cr_assert(strstr(out, "m=audio 10000 "), "the private media port");
	cr_assert_eq(l.calls, 1, "the pinhole is opened, on the mapped port");
}

Test(nat_alg, fault_no_content_length)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(NAT_ALGF_NO_CONTENT_LENGTH, &l);
	int n = rewrite(&c, INVITE, NULL), body, cl;

	cr_assert_eq(n, (int)strlen(INVITE_OUT));
	lengths(out, &body, &cl);
	cr_assert_eq(cl, 122);
	cr_assert_eq(body, 118);
	/* every byte but the length is the correct rewrite */
	cr_assert(!memcmp(out, INVITE_OUT, (size_t)(strstr(INVITE_OUT, "Content-Length") - INVITE_OUT)));
}

Test(nat_alg, fault_no_pinhole)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(NAT_ALGF_NO_PINHOLE, &l);

	cr_assert_gt(rewrite(&c, INVITE, NULL), 0);
	cr_assert(strstr(out, "c=IN IP4 203.0.113.20\r\n"));
	cr_assert(strstr(out, "m=audio 10000 "));
	cr_assert_eq(l.calls, 0);
}

Test(nat_alg, fault_via_only_and_contact_only)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(NAT_ALGF_VIA_ONLY, &l);

	cr_assert_gt(rewrite(&c, INVITE, NULL), 0);
	cr_assert(strstr(out, "Via: SIP/2.0/UDP 203.0.113.20:20000;"));
	cr_assert(strstr(out, "<sip:bob@192.168.22.100:5060;transport=udp>"));
	cr_assert(strstr(out, "From: <sip:bob@192.168.22.100>"));
	cr_assert(strstr(out, "c=IN IP4 192.168.22.100\r\n"));
	cr_assert_eq(l.calls, 0);

	c = out_ctx(NAT_ALGF_CONTACT_ONLY, &l);
	cr_assert_gt(rewrite(&c, INVITE, NULL), 0);
	cr_assert(strstr(out, "Via: SIP/2.0/UDP 192.168.22.100;"));
	cr_assert(strstr(out, "<sip:bob@203.0.113.20:20000;transport=udp>"));
	cr_assert(strstr(out, "c=IN IP4 192.168.22.100\r\n"));
	cr_assert_eq(l.calls, 0);
}

Test(nat_alg, malformed_is_refused_untouched)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(0, &l);
	static const char *const bad[] = {
		"",
		"hello",
		"REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.22.100:5060\r\n",  /* no blank line */
		"REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP\r\n 192.168.22.100:5060\r\n\r\n", /* folded */
		"REGISTER\r\nContact: <sip:bob@192.168.22.100:5060>\r\n\r\n",   /* no URI */
		"REGISTER sip:x HTTP/1.1\r\nContact: <sip:bob@192.168.22.100:5060>\r\n\r\n",
	};

	memset(out, 'x', 64);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(nat_alg_sip_rewrite(&c, bad[i], strlen(bad[i]), out, sizeof(out), NULL), TV_EINVAL, "case %zu", i);
	cr_assert_eq(out[0], 'x', "nothing written");
	cr_assert_eq(l.calls, 0);
}

Test(nat_alg, no_room_is_refused)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(0, &l);

	cr_assert_eq(nat_alg_sip_rewrite(&c, REGISTER, strlen(REGISTER), out, strlen(REGISTER) - 10, NULL), TV_ENOSPC);
}

/* ---- the engine: whole packets ---------------------------------------- */

static nat *mk(uint32_t faults, bool sequential)
{
	nat_cfg c;
	char err[128];
	nat *n;

	nat_cfg_default(&c);
	c.npub = 1;
	c.pub[0] = tv_ip4(PUB);
	c.alg = NAT_ALG_SIP;
	c.alg_faults = faults;
	if (sequential) {
		c.ports = NAT_PORT_SEQUENTIAL;
		c.port_lo = 20000;
		c.port_hi = 29999;
	}
	n = nat_new(&c, 1, err, sizeof(err));
	cr_assert_not_null(n, "%s", err);
	return n;
}

static uint8_t pbuf[PKT_IP_MAX];

static int send_sip(nat *n, enum nat_dir dir, tv_ep s, tv_ep d, const char *msg, size_t *len, pkt_info *pi)
{
	int l = pkt_build_udp(pbuf, sizeof(pbuf), &s, &d, 1, msg, strlen(msg));
	int v;

	cr_assert_gt(l, 0);
	*len = (size_t)l;
	v = nat_process_buf(n, TV_MS(10), dir, pbuf, len, sizeof(pbuf));
	if (v > 0)
		cr_assert_eq(pkt_parse(pbuf, *len, pi), 0, "forwarded packet does not parse (checksums)");
	return v;
}

static int count_rows;
static void count_row(void *arg, const nat_binding_info *b) { (void)arg; (void)b; count_rows++; }

Test(nat_alg, engine_invite_rewritten_checksums_valid_pinholes_open)
{
	nat *n = mk(0, true);
	size_t len;
	pkt_info pi;
	const nat_stats *st = nat_get_stats(n);

	cr_assert_eq(send_sip(n, NAT_OUT, tv_ep4(PHONE, 5060), tv_ep4(PX, 5060), INVITE, &len, &pi), NAT_OUT);
	cr_assert_eq(pi.data_len, strlen(INVITE_OUT));
	cr_assert(!memcmp(pbuf + pi.data_off, INVITE_OUT, pi.data_len), "%.*s", (int)pi.data_len, (char *)pbuf + pi.data_off);
	cr_assert_eq(pi.src.port, 20000);
	cr_assert_eq(st->alg_rewritten, 1);
	cr_assert_eq(st->alg_pinholes, 2, "RTP and RTCP");
	count_rows = 0;
	nat_table_foreach(n, TV_MS(10), count_row, NULL);
	cr_assert_eq(count_rows, 3);
	/* the pinhole admits the proxy's address from any port, before the
	 * phone has sent a packet of media */
	{
		tv_ep s = tv_ep4(PX, 40000), d = tv_ep4(PUB, 20001);
		int l = pkt_build_udp(pbuf, sizeof(pbuf), &s, &d, 2, "rtp", 3);
		cr_assert_eq(nat_process(n, TV_MS(20), NAT_IN, pbuf, (size_t)l), NAT_IN);
		cr_assert_eq(pkt_parse(pbuf, (size_t)l, &pi), 0);
		cr_assert_eq(pi.dst.port, 10000);
		/* and no one else */
		s = tv_ep4(IP(198, 51, 100, 66), 40000);
		l = pkt_build_udp(pbuf, sizeof(pbuf), &s, &d, 3, "rtp", 3);
		cr_assert_lt(nat_process(n, TV_MS(20), NAT_IN, pbuf, (size_t)l), 0);
	}
	nat_free(n);
}

Test(nat_alg, engine_no_pinhole_fault_filters_early_media)
{
	nat *n = mk(NAT_ALGF_NO_PINHOLE, true);
	size_t len;
	pkt_info pi;
	tv_ep s = tv_ep4(PX, 40000), d = tv_ep4(PUB, 20001);
	int l;

	cr_assert_eq(send_sip(n, NAT_OUT, tv_ep4(PHONE, 5060), tv_ep4(PX, 5060), INVITE, &len, &pi), NAT_OUT);
	cr_assert_eq(nat_get_stats(n)->alg_pinholes, 0);
	l = pkt_build_udp(pbuf, sizeof(pbuf), &s, &d, 2, "rtp", 3);
	cr_assert_eq(nat_process(n, TV_MS(20), NAT_IN, pbuf, (size_t)l), -1 - NAT_DROP_NO_MAPPING);
	nat_free(n);
}

Test(nat_alg, engine_response_in_is_restored)
{
	nat *n = mk(0, true);
	size_t len;
	pkt_info pi;
	static const char ok[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 203.0.113.20:20000;branch=z9hG4bK1;rport=20000;received=203.0.113.20\r\n"
		"Content-Length: 0\r\n\r\n";

	cr_assert_eq(send_sip(n, NAT_OUT, tv_ep4(PHONE, 5060), tv_ep4(PX, 5060), REGISTER, &len, &pi), NAT_OUT);
	cr_assert_eq(send_sip(n, NAT_IN, tv_ep4(PX, 5060), tv_ep4(PUB, 20000), ok, &len, &pi), NAT_IN);
	cr_assert(strstr((char *)pbuf + pi.data_off, "UDP 192.168.22.100:5060;branch=z9hG4bK1;rport=5060;received=192.168.22.100\r\n"));
	cr_assert_eq(nat_get_stats(n)->alg_rewritten, 2);
	nat_free(n);
}

Test(nat_alg, engine_without_room_passes_untouched)
{
	nat *n = mk(0, true);
	tv_ep s = tv_ep4(IP(192, 168, 2, 1), 5060), d = tv_ep4(PX, 5060);
	static const char reg[] =
		"REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.2.1:5060\r\nContent-Length: 0\r\n\r\n";
	int l = pkt_build_udp(pbuf, sizeof(pbuf), &s, &d, 1, reg, strlen(reg));
	pkt_info pi;

	/* nat_process: cap = len, and 203.0.113.20:20000 is longer than
	 * 192.168.2.1:5060 */
	cr_assert_eq(nat_process(n, 0, NAT_OUT, pbuf, (size_t)l), NAT_OUT);
	cr_assert_eq(pkt_parse(pbuf, (size_t)l, &pi), 0);
	cr_assert(!memcmp(pbuf + pi.data_off, reg, strlen(reg)));
	cr_assert_eq(nat_get_stats(n)->alg_no_room, 1);
	nat_free(n);
}

Test(nat_alg, engine_other_ports_and_keepalives_are_not_touched)
{
	nat *n = mk(0, false);
	size_t len;
	pkt_info pi;

	cr_assert_eq(send_sip(n, NAT_OUT, tv_ep4(PHONE, 5070), tv_ep4(PX, 5070), INVITE, &len, &pi), NAT_OUT);
	cr_assert(!memcmp(pbuf + pi.data_off, INVITE, strlen(INVITE)));
	cr_assert_eq(send_sip(n, NAT_OUT, tv_ep4(PHONE, 5060), tv_ep4(PX, 5060), "\r\n\r\n", &len, &pi), NAT_OUT);
	cr_assert_eq(nat_get_stats(n)->alg_unchanged, 1);
	cr_assert_eq(nat_get_stats(n)->alg_malformed, 0);
	cr_assert_eq(nat_get_stats(n)->alg_rewritten, 0);
	nat_free(n);
}

/* Every prefix of a real INVITE, and random garbage: forwarded, parseable,
 * never a crash; what cannot be read is counted and left as it came. */
Test(nat_alg, engine_truncated_and_garbage_payloads)
{
	nat *n = mk(0, true);
	size_t len;
	pkt_info pi;
	tv_rng rng;
	char junk[600];
	uint64_t seen = 0;

	for (size_t cut = 0; cut <= strlen(INVITE); cut++) {
		char msg[sizeof(INVITE)];
		memcpy(msg, INVITE, cut);
		msg[cut] = '\0';
		cr_assert_eq(send_sip(n, NAT_OUT, tv_ep4(PHONE, 5060), tv_ep4(PX, 5060), msg, &len, &pi), NAT_OUT);
	}
	tv_rng_seed(&rng, 7);
	for (int i = 0; i < 2000; i++) {
		size_t jl = 1 + tv_rng_below(&rng, sizeof(junk) - 1);
		for (size_t k = 0; k < jl; k++)
			junk[k] = (char)(1 + tv_rng_below(&rng, 255));
		if (i % 3 == 0)
			memcpy(junk, INVITE, jl < 40 ? jl : 40);        /* a SIP-looking start */
		junk[jl - 1] = '\0';
		cr_assert_eq(send_sip(n, i % 2 ? NAT_IN : NAT_OUT,
				      i % 2 ? tv_ep4(PX, 5060) : tv_ep4(PHONE, 5060),
				      i % 2 ? tv_ep4(PUB, 20000) : tv_ep4(PX, 5060), junk, &len, &pi),
			     i % 2 ? NAT_IN : NAT_OUT);
	}
	seen = nat_get_stats(n)->alg_malformed;
	cr_assert_gt(seen, 2000, "garbage and truncated messages are counted (%llu)", (unsigned long long)seen);
	nat_free(n);
}

Test(nat_alg, options)
{
	nat_cfg c;
	char err[300];

	nat_cfg_default(&c);
	cr_assert_eq(c.alg, NAT_ALG_NONE);
	cr_assert_eq(c.alg_port, 5060);
	cr_assert_eq(nat_cfg_set(&c, "alg", "sip", err, sizeof(err)), 0);
	cr_assert_eq(c.alg, NAT_ALG_SIP);
	cr_assert_eq(nat_cfg_set(&c, "alg-port", "5080", err, sizeof(err)), 0);
	cr_assert_eq(c.alg_port, 5080);
	cr_assert_eq(nat_cfg_set(&c, "alg-fault", "no-sdp,wrong-port", err, sizeof(err)), 0);
	cr_assert_eq(c.alg_faults, NAT_ALGF_NO_SDP | NAT_ALGF_WRONG_PORT);
	cr_assert_eq(nat_cfg_set(&c, "alg-fault", "none", err, sizeof(err)), 0);
	cr_assert_eq(c.alg_faults, 0);
	cr_assert_eq(nat_cfg_set(&c, "alg-fault", "none,no-pinhole", err, sizeof(err)), 0);
	cr_assert_eq(c.alg_faults, NAT_ALGF_NO_PINHOLE);
	cr_assert_eq(nat_cfg_set(&c, "alg", "h323", err, sizeof(err)), TV_EINVAL);
	cr_assert_str_eq(err, "alg: unknown value 'h323' (expected one of: none, sip)");
	cr_assert_eq(nat_cfg_set(&c, "alg-port", "0", err, sizeof(err)), TV_EINVAL);
	cr_assert_str_eq(err, "alg-port: expected a port 1-65535, got '0'");
	cr_assert_eq(nat_cfg_set(&c, "alg-fault", "no-sdp,bogus", err, sizeof(err)), TV_EINVAL);
	cr_assert_str_eq(err, "alg-fault: unknown fault 'bogus' (expected a comma-separated list of: none, no-sdp, "
			      "wrong-port, no-content-length, no-pinhole, via-only, contact-only)");
	cr_assert_eq(nat_cfg_set(&c, "alg-fault", "via-only,contact-only", err, sizeof(err)), TV_EINVAL);
	cr_assert_str_eq(err, "alg-fault: via-only and contact-only exclude each other");
	cr_assert_eq(c.alg_faults, NAT_ALGF_NO_PINHOLE, "a refused value changes nothing");
}

/* A stream whose own c= names another host is not ours: its port is not
 * mapped, though the session-level address is rewritten. */
Test(nat_alg, media_on_another_address_is_not_mapped)
{
	media_log l = { 0 };
	nat_alg_sip_ctx c = out_ctx(0, &l);
	static const char msg[] =
		"INVITE sip:alice@example.net SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.168.22.100:5060;branch=z9hG4bK3\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 104\r\n"
		"\r\n"
		"v=0\r\n"
		"c=IN IP4 192.168.22.100\r\n"
		"m=audio 10000 RTP/AVP 0\r\n"
		"m=video 10002 RTP/AVP 96\r\n"
		"c=IN IP4 192.168.22.7\r\n";
	int body, cl;

	cr_assert_gt(rewrite(&c, msg, NULL), 0);
	cr_assert_eq(l.calls, 1);
	cr_assert_eq(l.port[0], 10000);
	cr_assert(strstr(out, "m=audio 20001 RTP/AVP 0\r\nm=video 10002 RTP/AVP 96\r\nc=IN IP4 192.168.22.7\r\n"), "%s", out);
	lengths(out, &body, &cl);
	cr_assert_eq(body, cl);
}
