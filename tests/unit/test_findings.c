/* test_findings.c - what the namespace trap names (runner/scn_findings.c):
 * a packet the SBC under test sent where nobody is becomes one finding in
 * an SBC engineer's words, kept once, and fails the run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "scn_ctx.h"
#include "scn_findings.h"
#include "pkt.h"

static scn_opts o;
static scn_result r;
static scn_ctx c;

static void phone(const char *name, const char *ip)
{
	sym *s = new_sym(&c, name, SYM_PHONE);

	cr_assert_not_null(s);
	cr_assert_eq(tv_ip_parse(ip, &s->ip), 0);
	snprintf(s->domain, sizeof(s->domain), "%s", name);
}

static void setup(void)
{
	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	c.o = &o;
	c.r = &r;
	phone("alice", "192.168.1.10");
	phone("bob", "192.168.2.10");
	phone("carol", "192.168.2.10");        /* behind another NAT, the same plan */
}

static void teardown(void)
{
	syms_free(&c);
	scn_result_free(&r);
}

/* The trap gets a UDP datagram from the SBC's address to dst. */
static void trap_n(const char *dst, const char *payload, size_t len)
{
	uint8_t pkt[2048];
	tv_ep s, d;
	int n;

	cr_assert_eq(tv_ep_parse("198.51.100.10:5060", &s, false), 0);
	cr_assert_eq(tv_ep_parse(dst, &d, false), 0);
	n = pkt_build_udp(pkt, sizeof(pkt), &s, &d, 1, (const uint8_t *)payload, len);
	cr_assert_gt(n, 0);
	findings_trap(&c, pkt, (size_t)n);
}

static void trap(const char *dst, const char *payload) { trap_n(dst, payload, strlen(payload)); }

#define INVITE_BOB                                                                                                  \
	"INVITE sip:bob@192.168.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.10;branch=z9hG4bK1\r\n"            \
	"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"

TestSuite(findings, .init = setup, .fini = teardown);

Test(findings, a_request_to_a_private_address_names_the_callee_by_its_uri)
{
	trap("192.168.2.10:5060", INVITE_BOB);
	cr_assert_str_eq(r.findings, "Contact not rewritten: bob's INVITE went to 192.168.2.10:5060\n",
			 "bob, not carol, who shares the address: the Request-URI says whom");
	cr_assert_eq(r.failed, 1);
	cr_assert_eq(r.expects, 1);
	trap("192.168.2.10:5060", INVITE_BOB);          /* a retransmission */
	cr_assert_eq(r.failed, 1, "one finding, kept once");
}

Test(findings, a_response_to_a_private_address_is_the_via_not_honoured)
{
	trap("192.168.1.10:5060", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK2\r\n"
				  "cseq: 7 REGISTER\r\nContent-Length: 0\r\n\r\n");
	cr_assert_str_eq(r.findings, "Via not honoured: the 200 for alice's REGISTER went to 192.168.1.10:5060\n");
}

Test(findings, media_to_a_private_address_is_the_sdp_not_rewritten)
{
	static const char rtp[] = "\x80\x00\x00\x01\x00\x00\x00\xa0\x0a\x11\xce\x00xxxx";
	static const char rtcp[] = "\x80\xc9\x00\x01\x0a\x11\xce\x00";

	trap_n("192.168.1.10:10000", rtp, sizeof(rtp) - 1);
	trap_n("192.168.2.10:10001", rtcp, sizeof(rtcp) - 1);
	cr_assert_str_eq(r.findings, "SDP not rewritten: RTP for alice went to 192.168.1.10:10000\n"
				     "SDP not rewritten: RTCP for bob or carol went to 192.168.2.10:10001\n");
	cr_assert_eq(r.failed, 2);
}

Test(findings, an_address_of_the_scenario_nobody_holds_here)
{
	sym *h = new_sym(&c, "eve", SYM_HOST);

	cr_assert_eq(tv_ip_parse("203.0.113.99", &h->ip), 0);
	trap("203.0.113.99:5060", INVITE_BOB);
	trap("203.0.113.99:7000", "hello");
	/* an address this scenario never had: an earlier one's, that the SBC
	 * still keeps alive, not this scenario's fault */
	trap("203.0.113.200:5060", INVITE_BOB);
	cr_assert_str_eq(r.findings, "sent where nobody is: a SIP INVITE from 198.51.100.10:5060 to 203.0.113.99:5060\n"
				     "sent where nobody is: 5 bytes of UDP from 198.51.100.10:5060 to 203.0.113.99:7000\n");
}

Test(findings, not_ipv4_truncated_packets_and_later_fragments_are_ignored)
{
	uint8_t v6[40] = { 0x60 }, short_[12] = { 0x45 }, frag[2048];
	tv_ep s, d;
	int n;

	findings_trap(&c, v6, sizeof(v6));
	findings_trap(&c, short_, sizeof(short_));
	/* the second fragment of a big INVITE: no UDP header, no SIP start */
	cr_assert_eq(tv_ep_parse("198.51.100.10:5060", &s, false), 0);
	cr_assert_eq(tv_ep_parse("192.168.2.10:5060", &d, false), 0);
	n = pkt_build_udp(frag, sizeof(frag), &s, &d, 1, (const uint8_t *)"xxxxxxxxxxxxxxxx", 16);
	cr_assert_gt(n, 0);
	frag[6] = 0x00;
	frag[7] = 0xb9;         /* offset 185 x 8 bytes */
	findings_trap(&c, frag, (size_t)n);
	cr_assert_null(r.findings);
	cr_assert_eq(r.failed, 0);
}
