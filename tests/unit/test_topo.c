/* test_topo.c - topology hiding on the wire (issue 11, finding 7;
 * docs/proxy.md, Security, "Topology hiding"): what each side may see of
 * the other, exact bytes in, exact bytes out. The core's Via stack,
 * Record-Route and the headers of the table never reach the terminal, and
 * come back (Vias), or are kept (the route set), for the core; a
 * terminal's hidden Vias come back to it; ICE lines go; a multipart body's
 * SDP part is rewritten in place. */
#include "proxy_world.h"

#include <stdlib.h>

static const proxy_stats *st(void) { return proxy_get_stats(w.px); }

/* The proxy's branch toward a terminal: PX_BRANCH and a 64-bit FNV-1a of
 * the core's branch, in hex. */
static const char *our_branch(const char *core_branch)
{
	static char out[64];
	uint64_t h = 1469598103934665603ULL;

	for (const char *s = core_branch; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	snprintf(out, sizeof(out), "z9hG4bK-tvpx-%016llx", (unsigned long long)h);
	return out;
}

/* m with "%s" for the body, and the body: Content-Length is body's. */
static char *with_body(const char *fmt, const char *body)
{
	static char out[8][4096];
	static int k;
	char *o = out[k++ % 8];

	snprintf(o, 4096, fmt, strlen(body), body);
	return o;
}

static void registered(void)
{
	from_term(REGISTER);
	from_ss(REG_200);
	w.at_term.n = w.at_ss.n = 0;
}

/* ---- core -> terminal -------------------------------------------------- */

#define CORE_SDP "v=0\r\no=carol 7 7 IN IP4 10.0.0.60\r\ns=-\r\nc=IN IP4 10.0.0.60\r\nt=0 0\r\n" \
		 "m=audio 30000 RTP/AVP 0\r\na=candidate:1 1 UDP 2130706431 10.0.0.60 30000 typ host\r\n" \
		 "a=ice-ufrag:8hhY\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\na=sendrecv\r\n"

/* The core's INVITE to alice: the softswitch's Via, two more below it on
 * one line, the core's Record-Route, and headers naming core hosts. */
#define CORE_INVITE \
	"INVITE sip:alice@10.0.0.1:5100 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss1\r\n" \
	"Via: SIP/2.0/UDP 10.0.0.50:5060;branch=z9hG4bKcore1;received=10.0.0.50, SIP/2.0/UDP 10.0.0.60;branch=z9hG4bKas1\r\n" \
	"Record-Route: <sip:10.0.0.100;lr>\r\n" \
	"Record-Route: <sip:10.0.0.50;lr>\r\n" \
	"Max-Forwards: 68\r\n" \
	"From: <sip:carol@example.net>;tag=c1\r\n" \
	"To: <sip:alice@example.net>\r\n" \
	"Call-ID: in-1@example.net\r\n" \
	"CSeq: 1 INVITE\r\n" \
	"Contact: <sip:carol@10.0.0.60:5060>\r\n" \
	"P-Asserted-Identity: \"Carol\" <sip:carol@10.0.0.60>\r\n" \
	"User-Agent: CoreAS/1.0 (10.0.0.60)\r\n" \
	"Call-Info: <http://10.0.0.60/carol.jpg>;purpose=icon\r\n" \
	"Content-Type: application/sdp\r\n" \
	"Content-Length: %zu\r\n\r\n%s"

/* ... as alice receives it */
#define CORE_INVITE_AT_TERM \
	"INVITE sip:alice@192.168.1.10:5060 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 198.51.100.10:5060;branch=%s;rport\r\n" \
	"Max-Forwards: 67\r\n" \
	"From: <sip:carol@example.net>;tag=c1\r\n" \
	"To: <sip:alice@example.net>\r\n" \
	"Call-ID: in-1@example.net\r\n" \
	"CSeq: 1 INVITE\r\n" \
	"Contact: <sip:carol@198.51.100.10:5060>\r\n" \
	"User-Agent: CoreAS/1.0 (198.51.100.10)\r\n" \
	"Content-Type: application/sdp\r\n" \
	"Content-Length: 112\r\n\r\n" \
	"v=0\r\no=carol 7 7 IN IP4 198.51.100.10\r\ns=-\r\nc=IN IP4 198.51.100.10\r\nt=0 0\r\n" \
	"m=audio 20000 RTP/AVP 0\r\na=sendrecv\r\n"

#define CORE_STACK \
	"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss1\r\n" \
	"Via: SIP/2.0/UDP 10.0.0.50:5060;branch=z9hG4bKcore1;received=10.0.0.50, SIP/2.0/UDP 10.0.0.60;branch=z9hG4bKas1\r\n"

/* alice's answer (what a UAS copies: our Via, with the rport it stamped) */
static void term_answers(const char *status, const char *cseq)
{
	char m[1024];

	snprintf(m, sizeof(m),
		 "SIP/2.0 %s\r\n"
		 "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=%s;rport=5060\r\n"
		 "From: <sip:carol@example.net>;tag=c1\r\n"
		 "To: <sip:alice@example.net>;tag=a9\r\n"
		 "Call-ID: in-1@example.net\r\n"
		 "CSeq: %s\r\n"
		 "Contact: <sip:alice@192.168.1.10:5060>\r\n"
		 "Content-Length: 0\r\n\r\n", status, our_branch("z9hG4bKss1"), cseq);
	from_term(m);
}

#define AT_CORE(status, cseq, stack) \
	"SIP/2.0 " status "\r\n" stack \
	"From: <sip:carol@example.net>;tag=c1\r\n" \
	"To: <sip:alice@example.net>;tag=a9\r\n" \
	"Call-ID: in-1@example.net\r\n" \
	"CSeq: " cseq "\r\n" \
	"Contact: <sip:alice@10.0.0.1:5100>\r\n" \
	"Content-Length: 0\r\n\r\n"

Test(topo, the_terminal_sees_only_our_via_and_the_core_gets_its_stack_back, .init = setup, .fini = teardown)
{
	char want[2048];

	registered();
	from_ss(with_body(CORE_INVITE, CORE_SDP));
	cr_assert_eq(w.at_term.n, 1);
	snprintf(want, sizeof(want), CORE_INVITE_AT_TERM, our_branch("z9hG4bKss1"));
	cr_assert_str_eq(w.at_term.msg[0], want);
	cr_assert_eq(st()->vias_hidden, 1);
	cr_assert_eq(st()->hdrs_removed, 4, "2 Record-Route, P-Asserted-Identity, Call-Info");
	cr_assert_eq(st()->hdrs_rewritten, 1, "User-Agent");
	cr_assert_eq(st()->ice_removed, 3);

	term_answers("180 Ringing", "1 INVITE");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_str_eq(w.at_ss.msg[0], AT_CORE("180 Ringing", "1 INVITE", CORE_STACK));
	term_answers("486 Busy Here", "1 INVITE");
	cr_assert_eq(w.at_ss.n, 2);
	cr_assert_str_eq(w.at_ss.msg[1], AT_CORE("486 Busy Here", "1 INVITE", CORE_STACK));
	/* the 486 again (its ACK was lost): the stack is still there */
	term_answers("486 Busy Here", "1 INVITE");
	cr_assert_eq(w.at_ss.n, 3);
	cr_assert_str_eq(w.at_ss.msg[2], AT_CORE("486 Busy Here", "1 INVITE", CORE_STACK));
	cr_assert_eq(st()->vias_restored, 3);
	cr_assert_eq(st()->drop[PX_DROP_SIP_VIA_LOST], 0);
}

Test(topo, a_retransmitted_request_is_hidden_the_same_way, .init = setup, .fini = teardown)
{
	char want[2048];

	registered();
	from_ss(with_body(CORE_INVITE, CORE_SDP));
	from_ss(with_body(CORE_INVITE, CORE_SDP));
	cr_assert_eq(w.at_term.n, 2);
	snprintf(want, sizeof(want), CORE_INVITE_AT_TERM, our_branch("z9hG4bKss1"));
	cr_assert_str_eq(w.at_term.msg[1], want, "the same branch, the same bytes");
	term_answers("180 Ringing", "1 INVITE");
	cr_assert_str_eq(w.at_ss.msg[0], AT_CORE("180 Ringing", "1 INVITE", CORE_STACK));
	cr_assert_eq(st()->via_table_full, 0, "one slot, not two");
}

/* CANCEL has its INVITE's branch but a stack of its own (16.10: hop by
 * hop); the ACK of a non-2xx has the branch too and is kept nowhere. */
Test(topo, cancel_and_ack_keep_their_invites_stack_apart, .init = setup, .fini = teardown)
{
	char want[1024];

	registered();
	from_ss(with_body(CORE_INVITE, CORE_SDP));
	from_ss("CANCEL sip:alice@10.0.0.1:5100 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss1\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:carol@example.net>;tag=c1\r\n"
		"To: <sip:alice@example.net>\r\n"
		"Call-ID: in-1@example.net\r\n"
		"CSeq: 1 CANCEL\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 2);
	snprintf(want, sizeof(want),
		 "CANCEL sip:alice@192.168.1.10:5060 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=%s;rport\r\n"
		 "Max-Forwards: 69\r\n"
		 "From: <sip:carol@example.net>;tag=c1\r\n"
		 "To: <sip:alice@example.net>\r\n"
		 "Call-ID: in-1@example.net\r\n"
		 "CSeq: 1 CANCEL\r\n"
		 "Content-Length: 0\r\n\r\n", our_branch("z9hG4bKss1"));
	cr_assert_str_eq(w.at_term.msg[1], want);
	term_answers("200 OK", "1 CANCEL");
	cr_assert_str_eq(w.at_ss.msg[0], AT_CORE("200 OK", "1 CANCEL",
						 "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss1\r\n"));
	term_answers("487 Request Terminated", "1 INVITE");
	cr_assert_str_eq(w.at_ss.msg[1], AT_CORE("487 Request Terminated", "1 INVITE", CORE_STACK));
	from_ss("ACK sip:alice@10.0.0.1:5100 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss1\r\n"
		"Via: SIP/2.0/UDP 10.0.0.50:5060;branch=z9hG4bKother\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:carol@example.net>;tag=c1\r\n"
		"To: <sip:alice@example.net>;tag=a9\r\n"
		"Call-ID: in-1@example.net\r\n"
		"CSeq: 1 ACK\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 3);
	cr_assert_null(strstr(w.at_term.msg[2], "10.0.0."), "%s", w.at_term.msg[2]);
	/* the ACK took no slot and changed none: a late 487 still finds its stack */
	term_answers("487 Request Terminated", "1 INVITE");
	cr_assert_str_eq(w.at_ss.msg[2], AT_CORE("487 Request Terminated", "1 INVITE", CORE_STACK));
	cr_assert_eq(st()->vias_hidden, 3);
	cr_assert_eq(st()->vias_restored, 3);
}

static void core_options(int n)
{
	char m[1024];

	snprintf(m, sizeof(m),
		 "OPTIONS sip:alice@10.0.0.1:5100 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKo%d\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:ss@example.net>;tag=s%d\r\n"
		 "To: <sip:alice@example.net>\r\n"
		 "Call-ID: opt-%d@example.net\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "Content-Length: 0\r\n\r\n", n, n, n);
	from_ss(m);
}

static void term_options_ok(int n)
{
	char m[1024], b[32];

	snprintf(b, sizeof(b), "z9hG4bKo%d", n);
	snprintf(m, sizeof(m),
		 "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=%s;rport=5060\r\n"
		 "From: <sip:ss@example.net>;tag=s%d\r\n"
		 "To: <sip:alice@example.net>;tag=a%d\r\n"
		 "Call-ID: opt-%d@example.net\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "Content-Length: 0\r\n\r\n", our_branch(b), n, n, n);
	from_term(m);
}

/* A non-INVITE's stack is kept 32 s (64*T1); an answer after that has
 * nowhere to go and is dropped, counted. */
Test(topo, an_answer_after_the_stack_expired_is_dropped, .init = setup, .fini = teardown)
{
	registered();
	core_options(1);
	core_options(2);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(20));
	term_options_ok(2);
	cr_assert_eq(w.at_ss.n, 1, "within 32 s");
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(13));
	term_options_ok(1);
	cr_assert_eq(w.at_ss.n, 1, "33 s after the request: gone");
	cr_assert_eq(st()->drop[PX_DROP_SIP_VIA_LOST], 1);
	/* a retransmission of the answered one within 32 s of its answer */
	term_options_ok(2);
	cr_assert_eq(w.at_ss.n, 2);
	cr_assert(strstr(w.at_ss.msg[1], "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKo2\r\n"));
}

/* 8 slots per trusted terminal: a 9th pending transaction evicts the
 * oldest pending one (counted), whose answer is then dropped (counted). A
 * completed one goes first when there is one. */
Test(topo, a_full_table_evicts_and_counts, .init = setup, .fini = teardown)
{
	registered();
	for (int i = 1; i <= 8; i++)
		core_options(i);
	term_options_ok(3);             /* completed: the first to go */
	core_options(9);
	cr_assert_eq(st()->via_table_full, 0);
	core_options(10);
	cr_assert_eq(st()->via_table_full, 1, "a pending one had to go");
	w.at_ss.n = 0;
	term_options_ok(1);
	cr_assert_eq(w.at_ss.n, 0, "the oldest pending was evicted");
	cr_assert_eq(st()->drop[PX_DROP_SIP_VIA_LOST], 1);
	for (int i = 2; i <= 10; i++)
		if (i != 3)
			term_options_ok(i);
	cr_assert_eq(w.at_ss.n, 8);
	cr_assert_eq(st()->drop[PX_DROP_SIP_VIA_LOST], 1);
}

/* A terminal the core has not accepted keeps 2. */
Test(topo, an_untrusted_terminal_keeps_two_stacks, .init = setup, .fini = teardown)
{
	from_term(REGISTER);            /* no 200: untrusted */
	w.at_ss.n = 0;
	core_options(1);
	core_options(2);
	core_options(3);
	cr_assert_eq(st()->via_table_full, 1);
	term_options_ok(1);
	term_options_ok(2);
	term_options_ok(3);
	cr_assert_eq(w.at_ss.n, 2);
}

/* ---- terminal -> core --------------------------------------------------- */

/* A PBX behind its NAT, registering a phone behind it: two Vias. */
#define PBX_REGISTER \
	"REGISTER sip:example.net SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKpbx1;rport\r\n" \
	"Via: SIP/2.0/UDP 192.168.50.20:5060;branch=z9hG4bKph1;received=192.168.50.20\r\n" \
	"Max-Forwards: 69\r\n" \
	"From: <sip:alice@example.net>;tag=a1\r\n" \
	"To: <sip:alice@example.net>\r\n" \
	"Call-ID: reg-2@192.168.1.10\r\n" \
	"CSeq: 1 REGISTER\r\n" \
	"Contact: <sip:alice@192.168.1.10:5060>\r\n" \
	"P-Asserted-Identity: <sip:admin@example.net>\r\n" \
	"Path: <sip:192.168.1.10;lr>\r\n" \
	"User-Agent: PBX/2 (192.168.50.20)\r\n" \
	"Expires: 3600\r\n" \
	"Content-Length: 0\r\n\r\n"

Test(topo, a_terminals_lower_vias_are_hidden_from_the_core_and_come_back, .init = setup, .fini = teardown)
{
	from_term(PBX_REGISTER);
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_str_eq(w.at_ss.msg[0],
			 "REGISTER sip:example.net SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.1:5100;tvh;branch=z9hG4bKpbx1;rport\r\n"
			 "Max-Forwards: 68\r\n"
			 "From: <sip:alice@example.net>;tag=a1\r\n"
			 "To: <sip:alice@example.net>\r\n"
			 "Call-ID: reg-2@10.0.0.1\r\n"
			 "CSeq: 1 REGISTER\r\n"
			 "Contact: <sip:alice@10.0.0.1:5100>\r\n"
			 "User-Agent: PBX/2 (10.0.0.1)\r\n"
			 "Expires: 3600\r\n"
			 "Content-Length: 0\r\n\r\n");
	from_ss("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;tvh;branch=z9hG4bKpbx1;rport=5100;received=10.0.0.1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\n"
		"To: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-2@10.0.0.1\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <sip:alice@10.0.0.1:5100>;expires=3600\r\n"
		"Service-Route: <sip:10.0.0.100;lr>\r\n"
		"Server: Softswitch 10.0.0.100\r\n"
		"Warning: 399 10.0.0.100:5060 \"Registered via 10.0.0.1\"\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_str_eq(w.at_term.msg[0],
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKpbx1;rport=40000;received=203.0.113.10\r\n"
			 "Via: SIP/2.0/UDP 192.168.50.20:5060;branch=z9hG4bKph1;received=192.168.50.20\r\n"
			 "From: <sip:alice@example.net>;tag=a1\r\n"
			 "To: <sip:alice@example.net>;tag=ss\r\n"
			 "Call-ID: reg-2@192.168.1.10\r\n"
			 "CSeq: 1 REGISTER\r\n"
			 "Contact: <sip:alice@192.168.1.10:5060>;expires=3600\r\n"
			 "Server: Softswitch 198.51.100.10\r\n"
			 "Warning: 399 198.51.100.10:5060 \"Registered via 198.51.100.10\"\r\n"
			 "Content-Length: 0\r\n\r\n");
	cr_assert_eq(st()->vias_hidden, 1);
	cr_assert_eq(st()->vias_restored, 1);
	cr_assert_eq(st()->hdrs_removed, 3, "P-Asserted-Identity, Path; Service-Route");
	cr_assert_eq(st()->hdrs_rewritten, 3, "User-Agent; Server, Warning");
	cr_assert_eq(st()->bindings, 1);
}

/* Several values on the top line, and the core's answer whose mark has no
 * kept stack behind it (gone, or forged): dropped. */
Test(topo, values_after_the_top_one_are_hidden_and_a_lost_stack_drops, .init = setup, .fini = teardown)
{
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\n"
		  "v: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKo1 , SIP/2.0/TCP 192.168.50.20;branch=z9hG4bKo0\r\n"
		  "From: <sip:alice@example.net>;tag=a1\r\n"
		  "To: <sip:bob@example.net>\r\n"
		  "Call-ID: o1@192.168.1.10\r\n"
		  "CSeq: 1 OPTIONS\r\n"
		  "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 1);
	/* it had no Max-Forwards: the proxy adds one (RFC 3261 16.6 step 3) */
	{
		static const char head[] = "OPTIONS sip:bob@example.net SIP/2.0\r\nMax-Forwards: 70\r\n"
					   "v: SIP/2.0/UDP 10.0.0.1:5100;tvh;branch=z9hG4bKo1\r\nFrom:";
		cr_assert(!strncmp(w.at_ss.msg[0], head, sizeof(head) - 1), "%s", w.at_ss.msg[0]);
	}
	from_ss("SIP/2.0 200 OK\r\n"
		"v: SIP/2.0/UDP 10.0.0.1:5100;tvh;branch=z9hG4bKo1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\n"
		"To: <sip:bob@example.net>;tag=b\r\n"
		"Call-ID: o1@10.0.0.1\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_str_eq(w.at_term.msg[0],
			 "SIP/2.0 200 OK\r\n"
			 "v: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKo1\r\n"
			 "v: SIP/2.0/TCP 192.168.50.20;branch=z9hG4bKo0\r\n"
			 "From: <sip:alice@example.net>;tag=a1\r\n"
			 "To: <sip:bob@example.net>;tag=b\r\n"
			 "Call-ID: o1@192.168.1.10\r\n"
			 "CSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n");
	from_ss("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;tvh;branch=z9hG4bKforged\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\n"
		"To: <sip:bob@example.net>;tag=b\r\n"
		"Call-ID: o2@10.0.0.1\r\n"
		"CSeq: 2 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_eq(st()->drop[PX_DROP_SIP_VIA_LOST], 1);
}

/* ---- the core's route set ---------------------------------------------- */

#define ALICE_SDP "v=0\r\no=alice 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n" \
		  "m=audio 10000 RTP/AVP 0\r\n"

/* As the callee (12.1.1): the route set is the INVITE's Record-Route in
 * order, on every request of the dialog from the terminal. */
Test(topo, a_callees_in_dialog_requests_carry_the_cores_route_set, .init = setup, .fini = teardown)
{
	registered();
	from_ss(with_body(CORE_INVITE, CORE_SDP));
	from_term("BYE sip:carol@198.51.100.10:5060 SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKbye1\r\n"
		  "Max-Forwards: 70\r\n"
		  "From: <sip:alice@example.net>;tag=a9\r\n"
		  "To: <sip:carol@example.net>;tag=c1\r\n"
		  "Call-ID: in-1@example.net\r\n"
		  "CSeq: 1 BYE\r\n"
		  "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_str_eq(w.at_ss.msg[0],
			 "BYE sip:carol@10.0.0.60:5060 SIP/2.0\r\n"
			 "Route: <sip:10.0.0.100;lr>, <sip:10.0.0.50;lr>\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKbye1\r\n"
			 "Max-Forwards: 69\r\n"
			 "From: <sip:alice@example.net>;tag=a9\r\n"
			 "To: <sip:carol@example.net>;tag=c1\r\n"
			 "Call-ID: in-1@example.net\r\n"
			 "CSeq: 1 BYE\r\n"
			 "Content-Length: 0\r\n\r\n");
}

/* As the caller (12.1.2): the 2xx's Record-Route reversed; the
 * terminal's own Route (to the proxy) does not go on. */
Test(topo, a_callers_in_dialog_requests_carry_the_reversed_route_set, .init = setup, .fini = teardown)
{
	registered();
	from_term(with_body("INVITE sip:bob@example.net SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKinv1\r\n"
			    "Route: <sip:198.51.100.10;lr>\r\n"
			    "Max-Forwards: 70\r\n"
			    "From: <sip:alice@example.net>;tag=a2\r\n"
			    "To: <sip:bob@example.net>\r\n"
			    "Call-ID: call-1@192.168.1.10\r\n"
			    "CSeq: 1 INVITE\r\n"
			    "Contact: <sip:alice@192.168.1.10:5060>\r\n"
			    "Content-Type: application/sdp\r\n"
			    "Content-Length: %zu\r\n\r\n%s", ALICE_SDP));
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_null(strstr(w.at_ss.msg[0], "Route:"), "%s", w.at_ss.msg[0]);
	from_ss("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKinv1\r\n"
		"Record-Route: <sip:10.0.0.50;lr>, <sip:10.0.0.100;lr>\r\n"
		"From: <sip:alice@example.net>;tag=a2\r\n"
		"To: <sip:bob@example.net>;tag=b2\r\n"
		"Call-ID: call-1@10.0.0.1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:bob@10.0.0.70:5060>\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_str_eq(w.at_term.msg[0],
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKinv1\r\n"
			 "From: <sip:alice@example.net>;tag=a2\r\n"
			 "To: <sip:bob@example.net>;tag=b2\r\n"
			 "Call-ID: call-1@192.168.1.10\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Contact: <sip:bob@198.51.100.10:5060>\r\n"
			 "Content-Length: 0\r\n\r\n");
	from_term("ACK sip:bob@198.51.100.10:5060 SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKack1\r\n"
		  "Max-Forwards: 70\r\n"
		  "From: <sip:alice@example.net>;tag=a2\r\n"
		  "To: <sip:bob@example.net>;tag=b2\r\n"
		  "Call-ID: call-1@192.168.1.10\r\n"
		  "CSeq: 1 ACK\r\n"
		  "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 2);
	cr_assert_str_eq(w.at_ss.msg[1],
			 "ACK sip:bob@10.0.0.70:5060 SIP/2.0\r\n"
			 "Route: <sip:10.0.0.100;lr>, <sip:10.0.0.50;lr>\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKack1\r\n"
			 "Max-Forwards: 69\r\n"
			 "From: <sip:alice@example.net>;tag=a2\r\n"
			 "To: <sip:bob@example.net>;tag=b2\r\n"
			 "Call-ID: call-1@10.0.0.1\r\n"
			 "CSeq: 1 ACK\r\n"
			 "Content-Length: 0\r\n\r\n");
}

/* ---- SDP: ICE and multipart ------------------------------------------- */

#define ICE_SDP "v=0\r\no=alice 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n" \
		"a=ice-options:trickle\r\n" \
		"m=audio 10000 RTP/AVP 0\r\n" \
		"a=candidate:1 1 UDP 2130706431 192.168.1.10 10000 typ host\r\n" \
		"a=candidate:2 1 UDP 1694498815 203.0.113.10 10000 typ srflx raddr 192.168.1.10 rport 10000\r\n" \
		"a=remote-candidates:1 198.51.100.10 20000\r\n" \
		"a=end-of-candidates\r\n" \
		"a=rtcp-mux\r\n"

#define MULTI_INVITE \
	"INVITE sip:bob@example.net SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKmp1\r\n" \
	"Max-Forwards: 70\r\n" \
	"From: <sip:alice@example.net>;tag=a3\r\n" \
	"To: <sip:bob@example.net>\r\n" \
	"Call-ID: mp-1@192.168.1.10\r\n" \
	"CSeq: 1 INVITE\r\n" \
	"Contact: <sip:alice@192.168.1.10:5060>\r\n" \
	"Content-Type: multipart/mixed;boundary=\"b1-x\"\r\n" \
	"Content-Length: %zu\r\n\r\n%s"

Test(topo, ice_lines_go_and_a_multipart_sdp_part_is_rewritten_in_place, .init = setup, .fini = teardown)
{
	static const char body[] =
		"preamble\r\n"
		"--b1-x\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 349\r\n"
		"\r\n" ICE_SDP
		"\r\n--b1-x\r\n"
		"Content-Type: application/pidf+xml\r\n"
		"\r\n"
		"<presence entity=\"sip:alice@192.168.1.10\"/>\r\n"
		"--b1-x--\r\n";
	static const char want[] =
		"preamble\r\n"
		"--b1-x\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 102\r\n"
		"\r\n"
		"v=0\r\no=alice 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
		"m=audio 20000 RTP/AVP 0\r\n"
		"a=rtcp-mux\r\n"
		"\r\n--b1-x\r\n"
		"Content-Type: application/pidf+xml\r\n"
		"\r\n"
		"<presence entity=\"sip:alice@192.168.1.10\"/>\r\n"
		"--b1-x--\r\n";
	const char *out;

	cr_assert_eq(strlen(ICE_SDP), 349);
	from_term(with_body(MULTI_INVITE, body));
	cr_assert_eq(w.at_ss.n, 1);
	out = strstr(w.at_ss.msg[0], "\r\n\r\n") + 4;
	cr_assert_str_eq(out, want);
	{
		char cl[40];
		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", strlen(want));
		cr_assert(strstr(w.at_ss.msg[0], cl), "%s", w.at_ss.msg[0]);
	}
	cr_assert_eq(st()->streams, 1, "the SDP part opened the relay");
	cr_assert_eq(st()->multipart_sdp, 1);
	cr_assert_eq(st()->ice_removed, 5);
}

Test(topo, a_multipart_body_that_cannot_be_read_is_refused, .init = setup, .fini = teardown)
{
	static const struct { const char *body; const char *answer; } bad[] = {
		/* two SDP parts */
		{ "--b1-x\r\nContent-Type: application/sdp\r\n\r\n" ALICE_SDP "\r\n--b1-x\r\n"
		  "Content-Type: application/sdp\r\n\r\n" ALICE_SDP "\r\n--b1-x--\r\n",
		  "SIP/2.0 488 Not Acceptable Here (multipart)\r\n" },
		/* an SDP could hide in a nested multipart */
		{ "--b1-x\r\nContent-Type: multipart/alternative;boundary=in\r\n\r\n--in\r\n"
		  "Content-Type: application/sdp\r\n\r\n" ALICE_SDP "\r\n--in--\r\n--b1-x--\r\n",
		  "SIP/2.0 488 Not Acceptable Here (multipart)\r\n" },
		/* no closing delimiter: libosip2 refuses the message itself */
		{ "--b1-x\r\nContent-Type: application/sdp\r\n\r\n" ALICE_SDP, "SIP/2.0 400 Bad Request\r\n" },
	};

	for (int i = 0; i < 3; i++) {
		from_term(with_body(MULTI_INVITE, bad[i].body));
		cr_assert_eq(w.at_ss.n, 0, "case %d forwarded", i);
		cr_assert_eq(w.at_term.n, i + 1);
		cr_assert(!strncmp(w.at_term.msg[i], bad[i].answer, strlen(bad[i].answer)), "case %d: %s", i,
			  w.at_term.msg[i]);
	}
	cr_assert_eq(st()->drop[PX_DROP_SIP_MULTIPART], 2);
	cr_assert_eq(st()->drop[PX_DROP_SIP_MALFORMED], 1);
	cr_assert_eq(st()->streams, 0);
	cr_assert_eq(st()->legs, 0);
}

/* ---- TCP, Timer C, and off ---------------------------------------------- */

static struct { tv_tcp *c; char rx[BOX_MSG_MAX]; size_t n; } tcpt;

static void tcpt_ev(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg;
	(void)now;
	if (ev == TV_TCP_DATA && tcpt.n + len < sizeof(tcpt.rx)) {
		memcpy(tcpt.rx + tcpt.n, d, len);
		tcpt.rx[tcpt.n += len] = '\0';
	}
	if (ev == TV_TCP_PEER_CLOSED)
		host_tcp_close(c);
	if (ev == TV_TCP_RESET || ev == TV_TCP_TIMEOUT || ev == TV_TCP_CLOSED)
		tcpt.c = NULL;
}

Test(topo, a_tcp_terminal_gets_one_via_and_its_answer_restores_the_stack, .init = setup, .fini = teardown)
{
	tv_ep px = tv_ep4(0xc633640a, 5060);
	static const char reg[] =
		"REGISTER sip:example.net SIP/2.0\r\n"
		"Via: SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bKtreg\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\n"
		"To: <sip:alice@example.net>\r\n"
		"Call-ID: treg@192.168.1.10\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <sip:alice@192.168.1.10:5060;transport=tcp>\r\n"
		"Content-Length: 0\r\n\r\n";
	char resp[1024];
	int err;

	memset(&tcpt, 0, sizeof(tcpt));
	tcpt.c = host_tcp_connect(w.term, 41000, &px, tcpt_ev, NULL, &err);
	cr_assert_not_null(tcpt.c);
	step();
	host_tcp_send(tcpt.c, reg, strlen(reg));
	step();
	cr_assert_eq(w.at_ss.n, 1);
	core_options(7);
	cr_assert(strstr(tcpt.rx, "OPTIONS sip:alice@192.168.1.10:5060;transport=tcp SIP/2.0\r\n"), "%s", tcpt.rx);
	cr_assert(strstr(tcpt.rx, "\r\nVia: SIP/2.0/TCP 198.51.100.10:5060;branch="), "%s", tcpt.rx);
	cr_assert_null(strstr(tcpt.rx, "10.0.0."), "%s", tcpt.rx);
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/TCP 198.51.100.10:5060;branch=%s;rport\r\n"
		 "From: <sip:ss@example.net>;tag=s7\r\n"
		 "To: <sip:alice@example.net>;tag=a7\r\n"
		 "Call-ID: opt-7@example.net\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "Content-Length: 0\r\n\r\n", our_branch("z9hG4bKo7"));
	host_tcp_send(tcpt.c, resp, strlen(resp));
	step();
	cr_assert_eq(w.at_ss.n, 2);
	cr_assert_str_eq(w.at_ss.msg[1],
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKo7\r\n"
			 "From: <sip:ss@example.net>;tag=s7\r\n"
			 "To: <sip:alice@example.net>;tag=a7\r\n"
			 "Call-ID: opt-7@example.net\r\n"
			 "CSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n");
	host_tcp_abort(tcpt.c);
}

/* Timer C CANCELs toward the terminal with our Via: the terminal's 200 to
 * that CANCEL is for nobody in the core (it sent none) and stops at the
 * proxy, uncounted as lost; the 487 goes back with the INVITE's stack. */
Test(topo, the_answer_to_the_proxys_own_cancel_stops_at_the_proxy, .init = setup, .fini = teardown)
{
	registered();
	from_ss(with_body(CORE_INVITE, CORE_SDP));
	term_answers("180 Ringing", "1 INVITE");
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(182));
	cr_assert_eq(st()->timer_c_cancels, 1);
	cr_assert(!strncmp(w.at_term.msg[w.at_term.n - 1], "CANCEL ", 7));
	w.at_ss.n = 0;
	term_answers("200 OK", "1 CANCEL");
	cr_assert_eq(w.at_ss.n, 0);
	cr_assert_eq(st()->drop[PX_DROP_SIP_VIA_LOST], 0);
	term_answers("487 Request Terminated", "1 INVITE");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_str_eq(w.at_ss.msg[0], AT_CORE("487 Request Terminated", "1 INVITE", CORE_STACK));
}

static void hiding_off(proxy_cfg *pc) { pc->topology_hiding = false; }

/* topology-hiding=off: the behaviour before it, for comparison. */
Test(topo, off_lets_everything_through, .fini = teardown)
{
	setup_with(hiding_off);
	registered();
	from_ss(with_body(CORE_INVITE, CORE_SDP));
	cr_assert_eq(w.at_term.n, 1);
	cr_assert(strstr(w.at_term.msg[0], ";rport\r\n" CORE_STACK "Record-Route: <sip:10.0.0.100;lr>\r\n"), "%s",
		  w.at_term.msg[0]);
	cr_assert(strstr(w.at_term.msg[0], "a=candidate:1 1 UDP 2130706431 10.0.0.60 30000 typ host\r\n"));
	cr_assert(strstr(w.at_term.msg[0], "P-Asserted-Identity: \"Carol\" <sip:carol@10.0.0.60>\r\n"));
	cr_assert_eq(st()->vias_hidden + st()->hdrs_removed + st()->hdrs_rewritten + st()->ice_removed, 0);
}

/* A Call-ID naming a core host reaches the terminal coded, and the
 * terminal's echo of the code reaches the core as the core wrote it; the
 * same for a terminal that writes its public address there. One leg. */
Test(topo, an_address_in_a_call_id_is_coded_both_ways, .init = setup, .fini = teardown)
{
	char m[2048], cid[64];
	const char *c;
	size_t cl;

	registered();
	from_ss(with_body("INVITE sip:alice@10.0.0.1:5100 SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKgw1\r\n"
			  "From: <sip:gw@example.net>;tag=g1\r\n"
			  "To: <sip:alice@example.net>\r\n"
			  "Call-ID: gw-9@10.0.0.77\r\n"
			  "CSeq: 1 INVITE\r\n"
			  "Contact: <sip:gw@10.0.0.77>\r\n"
			  "Content-Type: application/sdp\r\n"
			  "Content-Length: %zu\r\n\r\n%s", CORE_SDP));
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_null(strstr(w.at_term.msg[0], "10.0.0."), "%s", w.at_term.msg[0]);
	c = strstr(w.at_term.msg[0], "Call-ID: gw-9@tvc-");
	cr_assert_not_null(c, "%s", w.at_term.msg[0]);
	cl = (size_t)(strstr(c, "\r\n") - c);
	cr_assert_eq(cl, 9 + 5 + 12, "tvc- and 8 hex digits");
	memcpy(cid, c, cl);
	cid[cl] = '\0';
	snprintf(m, sizeof(m),
		 "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=%s;rport\r\n"
		 "From: <sip:gw@example.net>;tag=g1\r\n"
		 "To: <sip:alice@example.net>;tag=a1\r\n"
		 "%s\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Contact: <sip:alice@192.168.1.10:5060>\r\n"
		 "Content-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", our_branch("z9hG4bKgw1"), cid, strlen(ALICE_SDP), ALICE_SDP);
	from_term(m);
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(strstr(w.at_ss.msg[0], "\r\nCall-ID: gw-9@10.0.0.77\r\n"), "%s", w.at_ss.msg[0]);
	cr_assert_eq(st()->legs, 1, "the access form names one leg");
	cr_assert_eq(st()->streams, 1);

	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKpub\r\n"
		  "From: <sip:alice@example.net>;tag=a1\r\n"
		  "To: <sip:bob@example.net>\r\n"
		  "Call-ID: stun-1@203.0.113.10\r\n"
		  "CSeq: 1 OPTIONS\r\n"
		  "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 2);
	cr_assert_null(strstr(w.at_ss.msg[1], "203.0.113."), "%s", w.at_ss.msg[1]);
	c = strstr(w.at_ss.msg[1], "Call-ID: ");
	cl = (size_t)(strstr(c, "\r\n") - c);
	memcpy(cid, c, cl);
	cid[cl] = '\0';
	snprintf(m, sizeof(m),
		 "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKpub\r\n"
		 "From: <sip:alice@example.net>;tag=a1\r\n"
		 "To: <sip:bob@example.net>;tag=b1\r\n"
		 "%s\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "Content-Length: 0\r\n\r\n", cid);
	from_ss(m);
	cr_assert_eq(w.at_term.n, 2);
	cr_assert(strstr(w.at_term.msg[1], "\r\nCall-ID: stun-1@203.0.113.10\r\n"), "%s", w.at_term.msg[1]);
}
