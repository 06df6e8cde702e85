/* test_trust.c - the proxy's trust model at the wire (issue 11): what a
 * source the core has not accepted gets, and what it does not. */
#include <criterion/criterion.h>

#include "proxy_world.h"

static void trust_any_keepalive(proxy_cfg *pc)
{
	pc->trust = PX_TRUST_ANY;
	pc->keepalive = PX_KA_OPTIONS;
	pc->keepalive_interval = TV_SEC(1);
}

static const char options_no_contact[] =
	"OPTIONS sip:example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKo1\r\n"
	"From: <sip:alice@example.net>;tag=o1\r\nTo: <sip:example.net>\r\n"
	"Call-ID: o-1@192.168.1.10\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

/* A binding that wrote no Contact is pinged at the address it signals
 * from, never at "sip:alice@" with an empty host. */
Test(trust, keepalive_without_a_contact_names_the_nat_mapping, .fini = teardown)
{
	setup_with(trust_any_keepalive);
	from_term(options_no_contact);
	w.at_term.n = 0;
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(1100));
	cr_assert_geq(w.at_term.n, 1);
	static const char want[] = "OPTIONS sip:alice@203.0.113.10:40000 SIP/2.0\r\n";
	cr_assert(!strncmp(w.at_term.msg[0], want, strlen(want)), "%s", w.at_term.msg[0]);
}

static void keepalive_on(proxy_cfg *pc)
{
	pc->keepalive = PX_KA_OPTIONS;
	pc->keepalive_interval = TV_SEC(1);
}

/* trust=register: a source the core has not accepted is never pinged,
 * and its binding is gone 32 s after its last request. */
Test(trust, an_untrusted_source_is_never_pinged_and_is_reclaimed, .fini = teardown)
{
	setup_with(keepalive_on);
	from_term(options_no_contact);
	cr_assert_eq(proxy_get_stats(w.px)->untrusted, 1);
	w.at_term.n = 0;
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(31));
	cr_assert_eq(w.at_term.n, 0, "nothing sent to it");
	cr_assert_eq(proxy_get_stats(w.px)->ka_sent, 0);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(2));
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 0);
	cr_assert_eq(proxy_get_stats(w.px)->untrusted_expired, 1);
}

/* The core's 2xx to its REGISTER makes it the terminal's: indexed,
 * pinged. */
Test(trust, a_register_2xx_makes_the_binding_trusted, .fini = teardown)
{
	setup_with(keepalive_on);
	from_term(REGISTER);
	cr_assert_eq(proxy_get_stats(w.px)->untrusted, 1);
	from_ss(REG_200);
	cr_assert_eq(proxy_get_stats(w.px)->untrusted, 0);
	w.at_term.n = 0;
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(1100));
	cr_assert_eq(proxy_get_stats(w.px)->ka_sent, 1);
}

/* A REGISTER from a new address with the terminal's Contact goes through
 * its binding; a 401 goes back to the new address and moves nothing. */
Test(trust, a_challenged_register_from_a_new_address_moves_nothing, .init = setup, .fini = teardown)
{
	tv_ep px = tv_ep4(0xc633640a, 5060), other = tv_ep4(0, 41234);
	tv_udp *o;
	int err;

	from_term(REGISTER);
	from_ss(REG_200);
	o = host_udp_bind(w.term, &other, rec, &w.at_term, &err);
	cr_assert_not_null(o);
	w.at_term.n = 0;
	w.at_ss.n = 0;
	host_udp_send(o, &px, REGISTER, strlen(REGISTER));
	step();
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_eq(w.at_ss.from[0].port, 5100, "through the terminal's own binding");
	from_ss("SIP/2.0 401 Unauthorized\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1;rport=5100;received=10.0.0.1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\nCSeq: 1 REGISTER\r\n"
		"WWW-Authenticate: Digest realm=\"example.net\", nonce=\"n1\"\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_eq(w.at_term.from[0].port, 5060);
	cr_assert(!strncmp(w.at_term.msg[0], "SIP/2.0 401", 11));
	cr_assert_eq(proxy_get_stats(w.px)->moved, 0);
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 1);
	host_udp_close(o);
}

/* The core's answer to the OPTIONS above, as the proxy forwarded it, with
 * extra header lines of padding. */
static void core_answers(int code, size_t pad)
{
	char m[8192];
	int n = snprintf(m, sizeof(m),
			 "SIP/2.0 %d %s\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKo1\r\n"
			 "From: <sip:alice@example.net>;tag=o1\r\nTo: <sip:example.net>;tag=s\r\n"
			 "Call-ID: o-1@10.0.0.1\r\nCSeq: 1 OPTIONS\r\n", code, code < 200 ? "Trying" : "OK");
	for (size_t i = 0; i < pad; i++)
		n += snprintf(m + n, sizeof(m) - (size_t)n, "X-Pad: %040zu\r\n", i);
	snprintf(m + n, sizeof(m) - (size_t)n, "Content-Length: 0\r\n\r\n");
	from_ss(m);
}

/* Toward a source the core has not accepted (perhaps a spoofed victim):
 * one final answer per request, no provisional, nothing over 3x the
 * request. */
Test(trust, no_amplification_toward_an_unaccepted_source, .init = setup, .fini = teardown)
{
	from_term(options_no_contact);
	w.at_term.n = 0;
	core_answers(100, 0);
	cr_assert_eq(w.at_term.n, 0, "no provisional");
	core_answers(200, 20);  /* ~1.2 KB for a ~200-byte request */
	cr_assert_eq(w.at_term.n, 0, "not over 3x the request");
	core_answers(200, 0);
	cr_assert_eq(w.at_term.n, 1, "one final answer");
	core_answers(200, 0);
	cr_assert_eq(w.at_term.n, 1, "and only one per request");
	cr_assert_eq(proxy_get_stats(w.px)->drop[PX_DROP_SIP_REFLECT], 3);
	from_term(options_no_contact); /* a retransmission earns one more */
	core_answers(200, 0);
	cr_assert_eq(w.at_term.n, 2);
}

/* RFC 5626: the same +sip.instance is the same device, whatever Contact
 * it writes from its new address; another instance is another device. */
static const char reg_inst[] =
	"REGISTER sip:example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKreg1;rport\r\n"
	"From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:alice@example.net>\r\n"
	"Call-ID: reg-1@192.168.1.10\r\nCSeq: 1 REGISTER\r\n"
	"Contact: <sip:alice@%s>;+sip.instance=\"<urn:uuid:%s>\";reg-id=1\r\n"
	"Expires: 3600\r\nContent-Length: 0\r\n\r\n";

static void register_from(tv_udp *s, const char *contact, const char *uuid)
{
	char m[1024];
	tv_ep px = tv_ep4(0xc633640a, 5060);

	snprintf(m, sizeof(m), reg_inst, contact, uuid);
	host_udp_send(s, &px, m, strlen(m));
	step();
}

Test(trust, the_same_instance_from_a_new_address_moves_its_binding, .init = setup, .fini = teardown)
{
	tv_ep other = tv_ep4(0, 41234);
	tv_udp *o;
	int err;

	register_from(w.term_s, "192.168.1.10:5060", "00000000-0000-0000-0000-00000000a11c");
	from_ss(REG_200);
	o = host_udp_bind(w.term, &other, rec, &w.at_term, &err);
	cr_assert_not_null(o);
	w.at_ss.n = 0;
	/* a new private address (DHCP), the same instance: through alice's binding */
	register_from(o, "192.168.1.77:5060", "00000000-0000-0000-0000-00000000a11c");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_eq(w.at_ss.from[0].port, 5100);
	from_ss(REG_200);
	cr_assert_eq(proxy_get_stats(w.px)->moved, 1);
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 1);
	/* the old Contact but another instance: another device, its own binding */
	w.at_ss.n = 0;
	register_from(w.term_s, "192.168.1.77:5060", "00000000-0000-0000-0000-0000000000b2");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_neq(w.at_ss.from[0].port, 5100);
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 2);
	host_udp_close(o);
}
