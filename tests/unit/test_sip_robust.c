/* test_sip_robust.c - what other SIP stacks send, and what attackers send,
 * on the wire (issue: folding, several Contacts, odd lengths, big
 * messages, version/CSeq/status/Max-Forwards, TCP terminals, RFC 5626
 * keepalives). Exact bytes in, exact bytes or counters out. */
#include "proxy_world.h"
#include "sip_frame.h"
#include "stun_msg.h"

#include <stdlib.h>

#define SDP_OFFER "v=0\r\no=alice 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n" \
		  "m=audio 10000 RTP/AVP 0\r\na=rtcp:10001\r\na=sendrecv\r\n"

#define HDRS(method, cseq) \
	"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK" method "1\r\n" \
	"Max-Forwards: 70\r\n" \
	"From: <sip:alice@example.net>;tag=a1\r\n" \
	"To: <sip:bob@example.net>\r\n" \
	"Call-ID: c1@192.168.1.10\r\n" \
	"CSeq: " cseq "\r\n"

/* A TCP client on the terminal's host, recording what arrives. */
static struct tcpc {
	tv_tcp *c;
	char rx[BOX_MSG_MAX];
	size_t rxlen;
	bool reset, closed;
} tc;

static void tc_ev(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg;
	(void)c;
	(void)now;
	if (ev == TV_TCP_DATA && tc.rxlen + len < sizeof(tc.rx)) {
		memcpy(tc.rx + tc.rxlen, d, len);
		tc.rxlen += len;
		tc.rx[tc.rxlen] = '\0';
	}
	if (ev == TV_TCP_RESET || ev == TV_TCP_TIMEOUT) {
		tc.reset = true;
		tc.c = NULL;
	}
	if (ev == TV_TCP_CLOSED) {
		tc.closed = true;
		tc.c = NULL;
	}
	if (ev == TV_TCP_PEER_CLOSED)
		host_tcp_close(c);
}

static void tc_open(uint16_t lport)
{
	tv_ep px = tv_ep4(0xc633640a, 5060);
	int err;

	memset(&tc, 0, sizeof(tc));
	tc.c = host_tcp_connect(w.term, lport, &px, tc_ev, NULL, &err);
	cr_assert_not_null(tc.c);
	step();
}

static void tc_send(const char *m, size_t len)
{
	cr_assert_not_null(tc.c);
	host_tcp_send(tc.c, m, len);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(500));
}

static void tc_done(void)
{
	if (tc.c)
		host_tcp_abort(tc.c);
	tc.c = NULL;
}

static const proxy_stats *st(void) { return proxy_get_stats(w.px); }

#define REGISTER_OK \
	"SIP/2.0 200 OK\r\n" \
	"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1;rport=5100;received=10.0.0.1\r\n" \
	"From: <sip:alice@example.net>;tag=a1\r\n" \
	"To: <sip:alice@example.net>;tag=ss\r\n" \
	"Call-ID: reg-1@10.0.0.1\r\n" \
	"CSeq: 1 REGISTER\r\n" \
	"Contact: <sip:alice@10.0.0.1:5100>;expires=60\r\n" \
	"Content-Length: 0\r\n\r\n"

/* ---- 1. folding -------------------------------------------------------- */

Test(sip_robust, folded_response_reaches_the_terminal_unfolded, .init = setup, .fini = teardown)
{
	from_term(REGISTER);
	from_ss("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1\r\n"
		" ;rport=5100\r\n"
		"\t;received=10.0.0.1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\n"
		"To: <sip:alice@example.net>\r\n ;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact:\r\n <sip:alice@10.0.0.1:5100>;expires=60\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1, "the folded 200 reaches the phone");
	cr_assert_str_eq(w.at_term.msg[0],
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKreg1 ;rport=40000 ;received=203.0.113.10\r\n"
			 "From: <sip:alice@example.net>;tag=a1\r\n"
			 "To: <sip:alice@example.net> ;tag=ss\r\n"
			 "Call-ID: reg-1@192.168.1.10\r\n"
			 "CSeq: 1 REGISTER\r\n"
			 "Contact: <sip:alice@192.168.1.10:5060>;expires=60\r\n"
			 "Content-Length: 0\r\n\r\n");
	cr_assert_eq(st()->sip_unfolded, 1);
	cr_assert(proxy_get_stats(w.px)->bindings == 1);
}

Test(sip_robust, folded_request_is_rewritten_whole, .init = setup, .fini = teardown)
{
	char m[2048];

	snprintf(m, sizeof(m),
		 "INVITE sip:bob@example.net SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP\r\n 192.168.1.10:5060;branch=z9hG4bKinv1\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.net>;tag=a2\r\n"
		 "To: <sip:bob@example.net>\r\n"
		 "Call-ID: call-1@192.168.1.10\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Proxy-Authorization: Digest username=\"alice\", realm=\"example.net\",\r\n"
		 "  nonce=\"abc\", uri=\"sip:bob@example.net\", response=\"0123\"\r\n"
		 "Contact: \"Alice\"\r\n\t<sip:alice@192.168.1.10:5060>\r\n"
		 "Content-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(SDP_OFFER), SDP_OFFER);
	from_term(m);
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_null(strstr(w.at_ss.msg[0], "192.168."), "%s", w.at_ss.msg[0]);
	cr_assert(strstr(w.at_ss.msg[0], "Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKinv1\r\n"), "%s",
		  w.at_ss.msg[0]);
	cr_assert(strstr(w.at_ss.msg[0], "realm=\"example.net\", nonce=\"abc\""), "unfolded, nothing else changed");
	cr_assert(strstr(w.at_ss.msg[0], "Contact: \"Alice\" <sip:alice@10.0.0.1:5100>\r\n"));
	cr_assert_null(strstr(w.at_ss.msg[0], "\r\n "), "no continuation line leaves");
	cr_assert_eq(st()->streams, 1);
}

/* ---- 2. several Contacts ---------------------------------------------- */

Test(sip_robust, every_contact_value_is_rewritten_and_comes_back, .init = setup, .fini = teardown)
{
	from_term("REGISTER sip:example.net SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKreg1;rport\r\n"
		  "Max-Forwards: 70\r\n"
		  "From: <sip:alice@example.net>;tag=a1\r\n"
		  "To: <sip:alice@example.net>\r\n"
		  "Call-ID: reg-1@192.168.1.10\r\n"
		  "CSeq: 1 REGISTER\r\n"
		  "Contact: <sip:alice@192.168.1.10:5060>;q=0.9, \"Desk, two\" <sip:alice-2@192.168.1.10:5062;transport=tcp>\r\n"
		  "m: sip:alice-3@192.168.1.10:5064;expires=30\r\n"
		  "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(strstr(w.at_ss.msg[0],
			 "Contact: <sip:alice@10.0.0.1:5100>;q=0.9, \"Desk, two\" <sip:alice-2@10.0.0.1:5100>\r\n"
			 "m: sip:alice-3@10.0.0.1:5100;expires=30\r\n"), "%s", w.at_ss.msg[0]);
	cr_assert_null(strstr(w.at_ss.msg[0], "192.168."));
	from_ss("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1;rport=5100;received=10.0.0.1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\n"
		"To: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <sip:alice-3@10.0.0.1:5100>;expires=30, <sip:alice@10.0.0.1:5100>;expires=3600\r\n"
		"Contact: <sip:alice-2@10.0.0.1:5100>;expires=3600\r\n"
		"Contact: <sip:alice@10.0.0.77:5104>;expires=3600\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert(strstr(w.at_term.msg[0],
			 "Contact: <sip:alice-3@192.168.1.10:5064>;expires=30, <sip:alice@192.168.1.10:5060>;expires=3600\r\n"
			 "Contact: <sip:alice-2@192.168.1.10:5062;transport=tcp>;expires=3600\r\n"
			 "Contact: <sip:alice@198.51.100.10:5060>;expires=3600\r\n"),
		  "each comes back as written; another device's core address is hidden: %s", w.at_term.msg[0]);
	cr_assert_null(strstr(w.at_term.msg[0], "10.0.0."), "no core address, Via received= included: %s",
		       w.at_term.msg[0]);

	/* a request for the second Contact goes to it, transport and all */
	from_ss("OPTIONS sip:alice-2@10.0.0.1:5100 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKo\r\n"
		"Max-Forwards: 69\r\nFrom: <sip:ss@example.net>;tag=s\r\nTo: <sip:alice@example.net>\r\n"
		"Call-ID: o@10.0.0.100\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 2);
	cr_assert(!strncmp(w.at_term.msg[1], "OPTIONS sip:alice-2@192.168.1.10:5062;transport=tcp SIP/2.0\r\n",
			   strlen("OPTIONS sip:alice-2@192.168.1.10:5062;transport=tcp SIP/2.0\r\n")),
		  "%s", w.at_term.msg[1]);
}

/* userinfo may hold ';' (RFC 3261 25.1 user-unreserved), and a display
 * name may spell a URI: neither moves the host:port the proxy rewrites. */
Test(sip_robust, contact_host_is_found_past_odd_userinfo_and_display_names, .init = setup, .fini = teardown)
{
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("odd", "1 OPTIONS")
		  "Contact: <sip:user;par=u%40example.net@192.168.1.10:5060>, \"sip:x@192.168.1.99\" <sip:a@192.168.1.10:5062>\r\n"
		  "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(strstr(w.at_ss.msg[0], "Contact: <sip:user;par=u%40example.net@10.0.0.1:5100>, "
					 "\"sip:x@192.168.1.99\" <sip:a@10.0.0.1:5100>\r\n"), "%s", w.at_ss.msg[0]);
}

/* One address with and without ;transport=tcp: the same URI at the core
 * unless told apart; the proxy adds ;tvc=1 and takes it off again. */
Test(sip_robust, contacts_that_differ_only_in_transport_stay_two, .init = setup, .fini = teardown)
{
	from_term("REGISTER sip:example.net SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKreg1;rport\r\n"
		  "From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:alice@example.net>\r\n"
		  "Call-ID: reg-1@192.168.1.10\r\nCSeq: 1 REGISTER\r\n"
		  "Contact: <sip:alice@192.168.1.10:5060>, <sip:alice@192.168.1.10:5060;transport=tcp>\r\n"
		  "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(strstr(w.at_ss.msg[0], "Contact: <sip:alice@10.0.0.1:5100>, <sip:alice@10.0.0.1:5100;tvc=1>\r\n"),
		  "%s", w.at_ss.msg[0]);
	from_ss("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\nCSeq: 1 REGISTER\r\n"
		"Contact: <sip:alice@10.0.0.1:5100;tvc=1>;expires=60\r\n"
		"Contact: <sip:alice@10.0.0.1:5100>;expires=60\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert(strstr(w.at_term.msg[0], "Contact: <sip:alice@192.168.1.10:5060;transport=tcp>;expires=60\r\n"
					   "Contact: <sip:alice@192.168.1.10:5060>;expires=60\r\n"), "%s", w.at_term.msg[0]);
	from_ss("OPTIONS sip:alice@10.0.0.1:5100;tvc=1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKo\r\n"
		"Max-Forwards: 69\r\nFrom: <sip:ss@example.net>;tag=s\r\nTo: <sip:alice@example.net>\r\n"
		"Call-ID: o@10.0.0.100\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 2);
	cr_assert(!strncmp(w.at_term.msg[1], "OPTIONS sip:alice@192.168.1.10:5060;transport=tcp SIP/2.0\r\n",
			   strlen("OPTIONS sip:alice@192.168.1.10:5060;transport=tcp SIP/2.0\r\n")), "%s",
		  w.at_term.msg[1]);
}

Test(sip_robust, a_contact_that_cannot_be_read_refuses_the_message, .init = setup, .fini = teardown)
{
	static const char *const bad[] = {
		"Contact: <sip:a@192.168.1.10:1>, <sip:a@192.168.1.10:2>, <sip:a@192.168.1.10:3>, <sip:a@192.168.1.10:4>, "
		"<sip:a@192.168.1.10:5>, <sip:a@192.168.1.10:6>, <sip:a@192.168.1.10:7>, <sip:a@192.168.1.10:8>, "
		"<sip:a@192.168.1.10:9>, <sip:a@192.168.1.10:10>, <sip:a@192.168.1.10:11>, <sip:a@192.168.1.10:12>, "
		"<sip:a@192.168.1.10:13>, <sip:a@192.168.1.10:14>, <sip:a@192.168.1.10:15>, <sip:a@192.168.1.10:16>, "
		"<sip:a@192.168.1.10:17>\r\n",
		"Contact: \"unterminated <sip:alice@192.168.1.10:5060>\r\n",
		"Contact: <sip:alice@192.168.1.10:5060\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char m[2048];
		snprintf(m, sizeof(m), "OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("opt", "1 OPTIONS") "%s"
			 "Content-Length: 0\r\n\r\n", bad[i]);
		from_term(m);
	}
	cr_assert_eq(w.at_ss.n, 0, "%s", w.at_ss.msg[0]);
	cr_assert_eq(st()->drop[PX_DROP_SIP_CONTACT] + st()->drop[PX_DROP_SIP_MALFORMED], 3);
	cr_assert_geq(st()->drop[PX_DROP_SIP_CONTACT], 1);
	for (int i = 0; i < w.at_term.n; i++)
		cr_assert(!strncmp(w.at_term.msg[i], "SIP/2.0 400 ", 12), "%s", w.at_term.msg[i]);
}

/* ---- 3 and 4. lengths ---------------------------------------------------- */

Test(sip_robust, bytes_after_the_body_are_discarded, .init = setup, .fini = teardown)
{
	char m[2048];

	snprintf(m, sizeof(m), "INVITE sip:bob@example.net SIP/2.0\r\n" HDRS("inv", "1 INVITE")
		 "Contact: <sip:alice@192.168.1.10:5060>\r\nContent-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%sc=IN IP4 192.168.1.99\r\nm=audio 9 RTP/AVP 0\r\n",
		 strlen(SDP_OFFER), SDP_OFFER);
	from_term(m);
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_null(strstr(w.at_ss.msg[0], "192.168.1.99"), "%s", w.at_ss.msg[0]);
	cr_assert(strstr(w.at_ss.msg[0], "Content-Length: 116\r\n"));
	cr_assert_eq(strlen(strstr(w.at_ss.msg[0], "\r\n\r\n") + 4), 116);
	cr_assert_eq(st()->sip_trailing, 1);
}

Test(sip_robust, bad_content_length_over_udp_gets_400, .init = setup, .fini = teardown)
{
	static const char *const lens[] = { "-5", "+124", "12x", "", "99999999999999999999", "200" };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char m[2048];
		snprintf(m, sizeof(m), "INVITE sip:bob@example.net SIP/2.0\r\n" HDRS("inv", "1 INVITE")
			 "Contact: <sip:alice@192.168.1.10:5060>\r\nContent-Type: application/sdp\r\n"
			 "Content-Length: %s\r\n\r\n%s", lens[i], SDP_OFFER);
		from_term(m);
	}
	/* two that disagree */
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("opt", "1 OPTIONS")
		  "Content-Length: 0\r\nl: 4\r\n\r\nabcd");
	cr_assert_eq(w.at_ss.n, 0, "nothing reaches the core: %s", w.at_ss.msg[0]);
	cr_assert_eq(w.at_term.n, 7);
	for (int i = 0; i < 7; i++)
		cr_assert(!strncmp(w.at_term.msg[i], "SIP/2.0 400 Bad Request (Content-Length)\r\n", 42), "%s",
			  w.at_term.msg[i]);
	cr_assert_eq(st()->drop[PX_DROP_SIP_LENGTH], 7);
	cr_assert_eq(st()->streams, 0);
	cr_assert_eq(st()->ports_access, 0);

	/* a response with a bad length is dropped, not answered */
	from_term(REGISTER);
	w.at_term.n = 0;
	from_ss("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\nCSeq: 1 REGISTER\r\nContent-Length: -1\r\n\r\n");
	cr_assert_eq(w.at_term.n, 0);
	cr_assert_eq(w.at_ss.n, 1, "only the REGISTER");
	cr_assert_eq(st()->drop[PX_DROP_SIP_LENGTH], 8);
}

Test(sip_robust, bad_content_length_over_tcp_closes_the_connection, .init = setup, .fini = teardown)
{
	static const char m[] = "OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("opt", "1 OPTIONS")
				"Content-Length: -1\r\n\r\n";

	tc_open(41000);
	tc_send(m, strlen(m));
	cr_assert(tc.reset, "the stream cannot be framed any more: closed");
	cr_assert_eq(st()->drop[PX_DROP_SIP_LENGTH], 1);
	cr_assert_eq(w.at_ss.n, 0);
	tc_open(41001);
	tc_send("OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("opt", "1 OPTIONS") "\r\n",
		strlen("OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("opt", "1 OPTIONS") "\r\n"));
	cr_assert(tc.reset, "no Content-Length on TCP: closed (RFC 3261 18.3)");
	cr_assert_eq(st()->drop[PX_DROP_SIP_LENGTH], 2);
	tc_done();
}

Test(sip_robust, tcp_frames_every_form_of_content_length, .init = setup, .fini = teardown)
{
	char m[4096];
	int n;

	/* three messages in one send: long form with spaces before the colon,
	 * compact form in lower case, upper-case name; a CRLF between them */
	n = snprintf(m, sizeof(m),
		     "INVITE sip:bob@example.net SIP/2.0\r\n" HDRS("inv", "1 INVITE")
		     "Contact: <sip:alice@192.168.1.10:5060>\r\nContent-Type: application/sdp\r\n"
		     "Content-Length  : %zu\r\n\r\n%s\r\n"
		     "OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("opt", "2 OPTIONS") "l:0\r\n\r\n"
		     "OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("op2", "3 OPTIONS") "CONTENT-LENGTH:\t0\r\n\r\n",
		     strlen(SDP_OFFER), SDP_OFFER);
	tc_open(41000);
	tc_send(m, (size_t)n);
	cr_assert_eq(w.at_ss.n, 3, "all three framed and forwarded");
	cr_assert(!strncmp(w.at_ss.msg[0], "INVITE ", 7));
	cr_assert(strstr(w.at_ss.msg[0], "m=audio 20000 "));
	cr_assert(!strncmp(w.at_ss.msg[1], "OPTIONS ", 8));
	cr_assert(strstr(w.at_ss.msg[2], "CSeq: 3 OPTIONS\r\n"));
	cr_assert(!tc.reset);
	tc_done();
}

/* Two agreeing Content-Length headers frame, but libosip2 refuses the
 * message: it is dropped and counted, never forwarded with one stale. */
Test(sip_robust, a_second_content_length_is_refused_not_left_stale, .init = setup, .fini = teardown)
{
	char m[2048];

	snprintf(m, sizeof(m), "INVITE sip:bob@example.net SIP/2.0\r\n" HDRS("inv", "1 INVITE")
		 "Contact: <sip:alice@192.168.1.10:5060>\r\nContent-Length: %zu\r\nContent-Type: application/sdp\r\n"
		 "l: %zu\r\n\r\n%s", strlen(SDP_OFFER), strlen(SDP_OFFER), SDP_OFFER);
	from_term(m);
	cr_assert_eq(w.at_ss.n, 0);
	cr_assert_eq(st()->drop[PX_DROP_SIP_MALFORMED], 1);
	cr_assert_eq(st()->streams, 0);
}

/* A message that trickles in a byte at a time is framed once whole (and
 * each byte is searched only once for the header's end). */
Test(sip_robust, tcp_message_a_byte_at_a_time, .init = setup, .fini = teardown)
{
	char m[2048];
	int n = snprintf(m, sizeof(m), "\r\n\r\nINVITE sip:bob@example.net SIP/2.0\r\n" HDRS("inv", "1 INVITE")
			 "Contact: <sip:alice@192.168.1.10:5060>\r\nContent-Type: application/sdp\r\n"
			 "Content-Length: %zu\r\n\r\n%s", strlen(SDP_OFFER), SDP_OFFER);

	tc_open(41000);
	for (int i = 0; i < n; i++) {
		host_tcp_send(tc.c, m + i, 1);
		sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(2));
	}
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(200));
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(strstr(w.at_ss.msg[0], "m=audio 20000 RTP/AVP 0\r\n"), "%s", w.at_ss.msg[0]);
	cr_assert_eq(st()->pongs, 1, "the ping before it answered");
	cr_assert(!tc.reset);
	tc_done();
}

/* ---- 5. big messages ---------------------------------------------------- */

/* An OPTIONS padded with an X-Pad header to total bytes. */
static char *padded(const char *first, const char *hdrs, size_t total)
{
	char *m = malloc(total + 1);
	int n = snprintf(m, total + 1, "%s%sX-Pad: ", first, hdrs);
	size_t tail = strlen("\r\nContent-Length: 0\r\n\r\n");

	cr_assert(n > 0 && (size_t)n + tail < total);
	memset(m + n, 'x', total - tail - (size_t)n);
	memcpy(m + total - tail, "\r\nContent-Length: 0\r\n\r\n", tail + 1);
	return m;
}

static void core_tcp_on(proxy_cfg *pc) { pc->core_tcp = true; }

static struct core_side {
	tv_tcp_listener *l;
	tv_tcp *c;
	char rx[BOX_MSG_MAX];
	size_t rxlen;
} cs;

static void cs_ev(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg;
	(void)now;
	if (ev == TV_TCP_DATA && cs.rxlen + len < sizeof(cs.rx)) {
		memcpy(cs.rx + cs.rxlen, d, len);
		cs.rxlen += len;
		cs.rx[cs.rxlen] = '\0';
	}
	if (ev >= TV_TCP_CLOSED)
		cs.c = NULL;
	(void)c;
}

static void cs_accept(void *arg, tv_tcp *c, tv_time now)
{
	(void)arg;
	(void)now;
	cs.c = c;
	host_tcp_set_cb(c, cs_ev, NULL);
}

Test(sip_robust, large_request_goes_to_the_core_over_tcp, .init = NULL, .fini = teardown)
{
	char *m;
	int err;

	setup_with(core_tcp_on);
	memset(&cs, 0, sizeof(cs));
	cs.l = host_tcp_listen(w.ss, 5060, cs_accept, NULL, &err);
	cr_assert_not_null(cs.l);
	m = padded("OPTIONS sip:bob@example.net SIP/2.0\r\n", HDRS("big", "1 OPTIONS")
		   "Contact: <sip:alice@192.168.1.10:5060;transport=tcp>\r\n", 60000);
	tc_open(41000);
	tc_send(m, 60000);
	cr_assert_eq(w.at_ss.n, 0, "not over UDP");
	cr_assert_geq(cs.rxlen, 59000, "arrived over TCP: %zu bytes", cs.rxlen);
	cr_assert(!strncmp(cs.rx, "OPTIONS sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5100;", 68), "%.100s",
		  cs.rx);
	cr_assert_null(memmem(cs.rx, cs.rxlen, "192.168.", 8));
	cr_assert_eq(st()->core_tcp, 1);
	/* the answer comes back on that connection and reaches the terminal */
	{
		static const char ok[] = "SIP/2.0 200 OK\r\n"
					 "Via: SIP/2.0/TCP 10.0.0.1:5100;branch=z9hG4bKbig1;received=10.0.0.1\r\n"
					 "From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:bob@example.net>;tag=b\r\n"
					 "Call-ID: c1@10.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
		cr_assert_not_null(cs.c);
		host_tcp_send(cs.c, ok, strlen(ok));
		sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(200));
	}
	/* the core's TCP becomes again what the terminal wrote (UDP here) */
	cr_assert(strstr(tc.rx, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKbig1;"
			 "received=203.0.113.10\r\n"), "%s", tc.rx);
	tc_done();
	free(m);
	host_tcp_unlisten(cs.l);
}

Test(sip_robust, too_big_for_udp_toward_the_core_is_counted, .init = setup, .fini = teardown)
{
	char *m = padded("OPTIONS sip:bob@example.net SIP/2.0\r\n", HDRS("big", "1 OPTIONS"), 65530);

	tc_open(41000);
	tc_send(m, 65530);
	cr_assert_eq(w.at_ss.n, 0);
	cr_assert_eq(st()->drop[PX_DROP_SEND_CORE], 1, "a send that cannot happen is counted under its name");
	cr_assert_eq(st()->sip_out_core, 0);
	free(m);
	/* over 64 KiB on TCP: the connection is closed */
	m = padded("OPTIONS sip:bob@example.net SIP/2.0\r\n", HDRS("big", "1 OPTIONS"), 70000);
	tc_send(m, 69000);
	cr_assert(tc.reset);
	cr_assert_eq(st()->drop[PX_DROP_SIP_TOO_BIG], 1);
	free(m);
	tc_done();
}

/* libosip2's lists grow quadratically: more than 256 header lines and
 * commas are refused unanswered (an answer would copy every Via back). */
Test(sip_robust, too_many_header_items_are_refused_unanswered, .init = setup, .fini = teardown)
{
	char *m = malloc(20000);
	size_t n;

	for (int count = 200; count <= 300; count += 100) {
		n = (size_t)sprintf(m, "OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("many", "1 OPTIONS"));
		for (int i = 0; i < count; i++)
			n += (size_t)sprintf(m + n, "X-Many: %d\r\n", i);
		n += (size_t)sprintf(m + n, "Content-Length: 0\r\n\r\n");
		from_term(m);
	}
	cr_assert_eq(w.at_ss.n, 1, "200 extra lines pass, 300 do not");
	cr_assert_eq(w.at_term.n, 0, "no answer to the refused one");
	cr_assert_eq(st()->drop[PX_DROP_SIP_TOO_BIG], 1);
	free(m);
}

/* ---- 6. version, CSeq, status, Max-Forwards ------------------------------ */

Test(sip_robust, version_cseq_and_max_forwards_are_checked, .init = setup, .fini = teardown)
{
	from_term("OPTIONS sip:bob@example.net SIP/7.0\r\n" HDRS("v7", "1 OPTIONS") "Content-Length: 0\r\n\r\n");
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("cs", "1 INVITE") "Content-Length: 0\r\n\r\n");
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKmf\r\nMax-Forwards: 0\r\n"
		  "From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:bob@example.net>\r\nCall-ID: mf@x\r\n"
		  "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	from_term("OPTIONS sip:198.51.100.10:5060 SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKme\r\nMax-Forwards: 0\r\n"
		  "From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:198.51.100.10>\r\nCall-ID: me@x\r\n"
		  "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 0, "%s", w.at_ss.msg[0]);
	cr_assert_eq(w.at_term.n, 4);
	cr_assert(!strncmp(w.at_term.msg[0], "SIP/2.0 505 Version Not Supported\r\n", 35), "%s", w.at_term.msg[0]);
	cr_assert(!strncmp(w.at_term.msg[1], "SIP/2.0 400 Bad Request (CSeq method)\r\n", 39), "%s", w.at_term.msg[1]);
	cr_assert(!strncmp(w.at_term.msg[2], "SIP/2.0 483 Too Many Hops\r\n", 27), "%s", w.at_term.msg[2]);
	cr_assert(!strncmp(w.at_term.msg[3], "SIP/2.0 200 OK\r\n", 16), "OPTIONS to the proxy itself: %s",
		  w.at_term.msg[3]);
	cr_assert(strstr(w.at_term.msg[3], "To: <sip:198.51.100.10>;tag=tvpx\r\n"));
	cr_assert_eq(st()->drop[PX_DROP_SIP_VERSION], 1);
	cr_assert_eq(st()->drop[PX_DROP_SIP_CSEQ], 1);
	cr_assert_eq(st()->drop[PX_DROP_SIP_HOPS], 1);
}

Test(sip_robust, bad_status_and_version_from_the_core_are_dropped, .init = setup, .fini = teardown)
{
	from_term(REGISTER);
	from_ss("SIP/2.0 999 Odd\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n");
	from_ss("SIP/2.0 1200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n");
	from_ss("SIP/3.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\nTo: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 0, "%s", w.at_term.msg[0]);
	cr_assert_eq(st()->drop[PX_DROP_SIP_STATUS] + st()->drop[PX_DROP_SIP_MALFORMED], 2);
	cr_assert_geq(st()->drop[PX_DROP_SIP_STATUS], 1);
	cr_assert_eq(st()->drop[PX_DROP_SIP_VERSION], 1);
	/* Max-Forwards 0 from the core: 483 back to the core */
	from_ss("OPTIONS sip:alice@10.0.0.1:5100 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKo\r\n"
		"Max-Forwards: 0\r\nFrom: <sip:ss@example.net>;tag=s\r\nTo: <sip:alice@example.net>\r\n"
		"Call-ID: o@10.0.0.100\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 0);
	cr_assert(!strncmp(w.at_ss.msg[w.at_ss.n - 1], "SIP/2.0 483 ", 12), "%s", w.at_ss.msg[w.at_ss.n - 1]);
}

/* ---- 8 and 9. TCP terminals ---------------------------------------------- */

Test(sip_robust, tcp_terminal_transport_stays_on_the_access_side, .init = setup, .fini = teardown)
{
	static const char reg[] = "REGISTER sip:example.net SIP/2.0\r\n"
				  "Via: SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bKreg1;rport\r\n"
				  "Max-Forwards: 70\r\n"
				  "From: <sip:alice@example.net>;tag=a1\r\n"
				  "To: <sip:alice@example.net>\r\n"
				  "Call-ID: reg-1@192.168.1.10\r\n"
				  "CSeq: 1 REGISTER\r\n"
				  "Contact: <sip:alice@192.168.1.10:5060;transport=tcp;ob>\r\n"
				  "Content-Length: 0\r\n\r\n";

	tc_open(41000);
	tc_send(reg, strlen(reg));
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(strstr(w.at_ss.msg[0], "Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1;rport\r\n"), "%s",
		  w.at_ss.msg[0]);
	cr_assert(strstr(w.at_ss.msg[0], "Contact: <sip:alice@10.0.0.1:5100;ob>\r\n"), "%s", w.at_ss.msg[0]);
	cr_assert_null(strcasestr(w.at_ss.msg[0], "tcp"), "no TCP token reaches the UDP core");
	from_ss(REGISTER_OK);
	cr_assert(strstr(tc.rx, "Via: SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bKreg1;"), "%s", tc.rx);
	cr_assert(strstr(tc.rx, "Contact: <sip:alice@192.168.1.10:5060;transport=tcp>;expires=60\r\n"), "%s", tc.rx);
	tc_done();
}

static void one_binding(proxy_cfg *pc) { pc->max_bindings = 1; }

Test(sip_robust, the_proxys_own_503_to_a_tcp_terminal_goes_over_its_connection, .init = NULL, .fini = teardown)
{
	static const char reg[] = "REGISTER sip:example.net SIP/2.0\r\n"
				  "Via: SIP/2.0/TCP 192.168.1.11:5060;branch=z9hG4bKreg9\r\n"
				  "From: <sip:carol@example.net>;tag=c1\r\nTo: <sip:carol@example.net>\r\n"
				  "Call-ID: reg-9@192.168.1.11\r\nCSeq: 1 REGISTER\r\n"
				  "Contact: <sip:carol@192.168.1.11:5060;transport=tcp>\r\nContent-Length: 0\r\n\r\n";

	setup_with(one_binding);
	from_term(REGISTER);                    /* alice takes the only binding */
	w.at_term.n = 0;
	tc_open(41000);
	tc_send(reg, strlen(reg));
	cr_assert(!strncmp(tc.rx, "SIP/2.0 503 Service Unavailable\r\n", 33), "over TCP: '%s'", tc.rx);
	cr_assert_eq(w.at_term.n, 0, "nothing over UDP");
	tc_done();
}

/* ---- 10. the reply that overflowed, and lapsed registrations ------------ */

Test(sip_robust, a_reply_longer_than_the_request_buffer_is_safe, .init = setup, .fini = teardown)
{
	static const char sdp[] = "v=0\r\no=a 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n"
				  "m=audio tenthousand RTP/AVP 0\r\n";
	char *m = malloc(16384);
	size_t n = 0;

	n += (size_t)sprintf(m + n, "INVITE sip:bob@example.net SIP/2.0\r\n");
	for (int i = 0; i < 186; i++)
		n += (size_t)sprintf(m + n, "v: SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bK%04d\r\n", i);
	n += (size_t)sprintf(m + n, "f: <sip:alice@example.net>;tag=a\r\nt: <sip:bob@example.net>\r\ni: x@y\r\n"
			     "CSeq: 1 INVITE\r\nm: <sip:alice@192.168.1.10:5060>\r\nc: application/sdp\r\n"
			     "l: %zu\r\n\r\n%s", strlen(sdp), sdp);
	cr_assert_gt(n, 3900);
	tc_open(41000);
	tc_send(m, n);
	/* 185 Vias below the top one are more than the proxy keeps to hide
	 * them from the core (PX_VIA_SAVE_MAX): 513, before the SDP is read */
	cr_assert(!strncmp(tc.rx, "SIP/2.0 513 Message Too Large (Via)\r\n", 37), "%.60s", tc.rx);
	cr_assert_gt(tc.rxlen, 4096 + 186 * 2, "every Via copied back, long form: %zu bytes", tc.rxlen);
	cr_assert(strstr(tc.rx, "Via: SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bK0185\r\n"));
	cr_assert_eq(w.at_ss.n, 0);
	free(m);
	tc_done();
}

Test(sip_robust, a_lapsed_registration_is_removed_without_keepalives, .init = setup, .fini = teardown)
{
	from_term(REGISTER);
	from_ss(REGISTER_OK);                   /* 60 s */
	cr_assert_eq(st()->bindings, 1);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(59));
	cr_assert_eq(st()->bindings, 1);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(2));
	cr_assert_eq(st()->bindings, 0, "keepalive is off in this world, and the registration lapsed");
	cr_assert_eq(st()->unregistered, 1);
	cr_assert_eq(st()->ports_core, 0);
}

/* ---- 11. RFC 5626 keepalives --------------------------------------------- */

Test(sip_robust, crlf_ping_over_tcp_gets_a_pong, .init = setup, .fini = teardown)
{
	tc_open(41000);
	tc_send("\r\n\r\n", 4);
	cr_assert_eq(tc.rxlen, 2);
	cr_assert_str_eq(tc.rx, "\r\n");
	tc_send("\r\n", 2);                     /* half a ping */
	cr_assert_eq(tc.rxlen, 2);
	tc_send("\r\n" "OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("o", "1 OPTIONS") "Content-Length: 0\r\n\r\n",
		strlen("\r\n" "OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("o", "1 OPTIONS") "Content-Length: 0\r\n\r\n"));
	cr_assert_eq(tc.rxlen, 4, "the second ping answered too");
	cr_assert_eq(st()->pongs, 2);
	cr_assert_eq(w.at_ss.n, 1, "and the message after it framed");
	tc_done();
}

Test(sip_robust, stun_binding_request_on_the_sip_port_is_answered, .init = setup, .fini = teardown)
{
	static const uint8_t tid[STUN_TID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	stun_msg req, res;
	uint8_t buf[STUN_MSG_MAX];
	tv_ep to = tv_ep4(0xc633640a, 5060);
	int n;

	stun_msg_init(&req, STUN_BINDING_REQUEST, tid);
	n = stun_msg_encode(&req, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	host_udp_send(w.term_s, &to, buf, (size_t)n);
	step();
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_eq(stun_msg_decode((const uint8_t *)w.at_term.msg[0], w.at_term.len[0], &res), 0);
	cr_assert_eq(res.type, STUN_BINDING_SUCCESS);
	cr_assert_arr_eq(res.tid, tid, STUN_TID_LEN);
	cr_assert(res.has & STUN_HAS_XOR_MAPPED);
	cr_assert_eq(res.xor_mapped.ip.v4, 0xcb00710a, "the NAT mapping it came from");
	cr_assert_eq(res.xor_mapped.port, 40000);
	cr_assert_eq(st()->stun_answered, 1);
	cr_assert_eq(st()->drop[PX_DROP_SIP_MALFORMED], 0);
}

/* ---- the framer alone ---------------------------------------------------- */

Test(sip_frame, finds_lengths_in_every_form)
{
	/* msg_len is the whole string less extra */
	static const struct { const char *m; bool stream; int rc; size_t unused, extra; } t[] = {
		{ "OPTIONS x SIP/2.0\r\nContent-Length: 3\r\n\r\nabcdef", false, SF_OK, 44, 3 },
		{ "OPTIONS x SIP/2.0\r\nl:3\r\n\r\nabc", true, SF_OK, 30, 0 },
		{ "OPTIONS x SIP/2.0\r\nL  :  3 \r\n\r\nabc", true, SF_OK, 35, 0 },
		{ "OPTIONS x SIP/2.0\r\ncontent-length:\r\n 3\r\n\r\nabc", true, SF_OK, 46, 0 },
		{ "OPTIONS x SIP/2.0\r\nContent-Length: 3\r\n\r\nab", true, SF_MORE, 0, 0 },
		{ "OPTIONS x SIP/2.0\r\nContent-Length: 3\r\n\r\nab", false, SF_BAD_LENGTH, 0, 0 },
		{ "OPTIONS x SIP/2.0\r\nContent-Length: -3\r\n\r\n", false, SF_BAD_LENGTH, 0, 0 },
		{ "OPTIONS x SIP/2.0\r\nContent-Length: 3\r\nl: 4\r\n\r\nabcd", false, SF_BAD_LENGTH, 0, 0 },
		{ "OPTIONS x SIP/2.0\r\nX: 1\r\n\r\nabc", false, SF_OK, 30, 0 },
		{ "OPTIONS x SIP/2.0\r\nX: 1\r\n\r\nabc", true, SF_BAD_LENGTH, 0, 0 },
		{ "OPTIONS x SIP/2.0\r\nX-Content-Length: 1\r\n\r\n", false, SF_OK, 43, 0 },
		{ "OPTIONS x SIP/2.0\r\nX: 1\r\n", true, SF_MORE, 0, 0 },
		{ "OPTIONS x SIP/2.0\r\nX: 1\r\n", false, SF_NO_HEADER_END, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sip_frame f;
		int rc = sip_frame_find(t[i].m, strlen(t[i].m), t[i].stream, SIP_TCP_MAX, &f);
		cr_assert_eq(rc, t[i].rc, "case %zu: rc %d", i, rc);
		if (rc == SF_OK) {
			cr_assert_eq(f.msg_len, strlen(t[i].m) - t[i].extra, "case %zu: %zu", i, f.msg_len);
			cr_assert_eq(f.extra, t[i].extra, "case %zu", i);
		}
	}
}

Test(sip_frame, unfolds_in_place_one_space_per_fold)
{
	char m[] = "INVITE x SIP/2.0\r\nVia: a\r\n b\r\n\tc\r\nX: y\r\n\r\nbody\r\n continues";
	size_t hdr = (size_t)(strstr(m, "\r\n\r\n") - m) + 4;

	size_t len = strlen(m);

	cr_assert_eq(sip_unfold(m, &len, hdr), 2);
	m[len] = '\0';
	cr_assert_str_eq(m, "INVITE x SIP/2.0\r\nVia: a b c\r\nX: y\r\n\r\nbody\r\n continues");
	cr_assert_eq(len, strlen(m));
}

/* ---- found by review: smuggling, hidden headers, odd userinfo ----------- */

/* Over UDP Content-Length may be missing; toward a stream it may not, or
 * the body would be read as the next message on the core's connection. */
Test(sip_robust, a_length_is_added_where_the_message_had_none, .init = NULL, .fini = teardown)
{
	char *m = malloc(4096), *body;
	int err, n;

	setup_with(core_tcp_on);
	memset(&cs, 0, sizeof(cs));
	cs.l = host_tcp_listen(w.ss, 5060, cs_accept, NULL, &err);
	n = snprintf(m, 4096, "OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("sm", "1 OPTIONS")
		     "X-Pad: %01400d\r\n\r\n"
		     "OPTIONS sip:evil@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 10.9.9.9\r\n\r\n", 0);
	host_udp_send(w.term_s, &(tv_ep){ .ip = tv_ip4(0xc633640a), .port = 5060 }, m, (size_t)n);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(200));
	cr_assert_gt(cs.rxlen, 1300, "went over TCP");
	body = strstr(cs.rx, "\r\n\r\n");
	cr_assert_not_null(body);
	cr_assert(strstr(cs.rx, "\r\nContent-Length: 67\r\n\r\nOPTIONS sip:evil"), "the body is framed as body: %.80s",
		  body - 40);
	free(m);
	host_tcp_unlisten(cs.l);
}

/* A bare CR ends a line for libosip2 and the core but not for the span
 * finders: such a message is refused, never rewritten on the wrong line. */
Test(sip_robust, bare_cr_or_lf_in_the_header_is_refused, .init = setup, .fini = teardown)
{
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\nX: y\rVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKh\r\n"
		  HDRS("cr", "1 OPTIONS") "Content-Length: 0\r\n\r\n");
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\nX: y\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKh\r\n"
		  HDRS("lf", "1 OPTIONS") "Content-Length: 0\r\n\r\n");
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("ok", "1 OPTIONS")
		  "From: \"a\\\"b\" <sip:x@y>;tag=q\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(st()->drop[PX_DROP_SIP_MALFORMED] + st()->drop[PX_DROP_SIP_VERSION], 3 - w.at_ss.n);
	cr_assert_geq(st()->drop[PX_DROP_SIP_MALFORMED], 2);
	for (int i = 0; i < w.at_ss.n; i++)
		cr_assert_null(strstr(w.at_ss.msg[i], "10.0.0.5"), "%s", w.at_ss.msg[i]);
}

Test(sip_robust, comma_in_userinfo_and_quoted_angle_in_display_name, .init = setup, .fini = teardown)
{
	from_term("OPTIONS sip:bob@example.net SIP/2.0\r\n" HDRS("cm", "1 OPTIONS")
		  "Contact: <sip:a,b@192.168.1.10:5060>, \"Bob <x>\" <sip:bob@192.168.1.10:5062;transport=tcp>\r\n"
		  "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(strstr(w.at_ss.msg[0], "Contact: <sip:a,b@10.0.0.1:5100>, \"Bob <x>\" <sip:bob@10.0.0.1:5100>\r\n"), "%s",
		  w.at_ss.msg[0]);
}

/* A message that cannot be sent (here: more edits than the rewrite table
 * takes) leaves no leg and no ports behind. */
Test(sip_robust, an_unsendable_invite_leaves_no_ports, .init = setup, .fini = teardown)
{
	char sdp[4096], m[6144];
	size_t n = 0;

	n += (size_t)snprintf(sdp + n, sizeof(sdp) - n, "v=0\r\no=a 1 1 IN IP4 192.168.1.10\r\ns=-\r\nt=0 0\r\n");
	for (int k = 0; k < 2; k++) {
		n += (size_t)snprintf(sdp + n, sizeof(sdp) - n, "m=audio %d RTP/AVP 0\r\n", 10000 + 2 * k);
		for (int c = 0; c < 40; c++)
			n += (size_t)snprintf(sdp + n, sizeof(sdp) - n, "c=IN IP4 192.168.1.10\r\n");
	}
	snprintf(m, sizeof(m), "INVITE sip:bob@example.net SIP/2.0\r\n" HDRS("ed", "1 INVITE")
		 "Contact: <sip:alice@192.168.1.10:5060>\r\nContent-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", n, sdp);
	from_term(m);
	cr_assert_eq(w.at_ss.n, 0);
	cr_assert_eq(st()->legs, 0);
	cr_assert_eq(st()->ports_access, 0);
	cr_assert_eq(st()->ports_core, 1, "only the terminal's signaling port");
}

/* ---- mutations: other stacks' shapes, damaged, over UDP and TCP ---------- */

/* Damage shaped like what other stacks and attackers send: folds, commas
 * in Contact, odd lengths, compact forms, bytes after the body. The proxy
 * must never crash or read out of bounds (ASan), keep its port books
 * balanced, and still work afterwards. */
Test(sip_robust, survives_mutations_over_udp_and_tcp, .init = setup, .fini = teardown)
{
	static const char *const seeds[] = {
		"REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bKr;rport\r\n"
		"From: <sip:alice@example.net>;tag=a\r\nTo: <sip:alice@example.net>\r\nCall-ID: r@192.168.1.10\r\n"
		"CSeq: 1 REGISTER\r\nContact: <sip:alice@192.168.1.10:5060;transport=tcp>, <sip:a2@192.168.1.10:5062>\r\n"
		"Content-Length: 0\r\n\r\n",
		"INVITE sip:bob@example.net SIP/2.0\r\nv: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKm\r\n"
		"f: <sip:alice@example.net>;tag=a\r\nt: <sip:bob@example.net>\r\ni: m@x\r\n"
		"CSeq: 1 INVITE\r\nm: \"A, B\" <sip:alice@192.168.1.10:5060>\r\nc: application/sdp\r\n"
		"l: 124\r\n\r\n" SDP_OFFER,
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKm\r\n ;received=10.0.0.1;rport=5100\r\n"
		"From: <sip:a@x>;tag=a\r\nTo: <sip:b@x>;tag=b\r\nCall-ID: m@10.0.0.1\r\nCSeq: 1 INVITE\r\n"
		"Contact: <sip:bob@10.0.0.1:5101>, <sip:bob@10.0.0.1:5102>\r\n"
		"Content-Type: application/sdp\r\nContent-Length: 124\r\n\r\n" SDP_OFFER,
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKr\r\nFrom: <sip:alice@example.net>;tag=a\r\n"
		"To: <sip:alice@example.net>;tag=s\r\nCall-ID: r@10.0.0.1\r\nCSeq: 1 REGISTER\r\n"
		"Contact: <sip:alice@10.0.0.1:5100>;expires=60, <sip:a2@10.0.0.1:5100>;expires=60\r\nContent-Length: 0\r\n\r\n",
	};
	static const char *const inserts[] = { "\r\n ", "\r\n\t", ",", ", <sip:x@192.168.1.10>", "\r\nl: 7",
					       "\r\nContent-Length  : -1", "\"", "<", ">", "\r\nMax-Forwards: 0",
					       ";transport=tcp", "SIP/7.0", "\r\n\r\n", "\r\nv: SIP/2.0/TCP a" };
	tv_rng r;
	char buf[4096];
	tv_ep px = tv_ep4(0xc633640a, 5060), core = tv_ep4(0x0a000001, 5100);

	tv_rng_seed(&r, 2026);
	from_term(REGISTER);
	tc_open(41000);
	for (int i = 0; i < 4000; i++) {
		int which = (int)tv_rng_below(&r, 4);
		const char *src = seeds[which];
		size_t len = strlen(src);

		memcpy(buf, src, len);
		for (int k = 0, n = 1 + (int)tv_rng_below(&r, 3); k < n; k++) {
			size_t at = tv_rng_below(&r, (uint32_t)len);
			switch (tv_rng_below(&r, 4)) {
			case 0: buf[at] = (char)tv_rng_next(&r); break;
			case 1: len = at + 1; break;
			default: {
				const char *ins = inserts[tv_rng_below(&r, sizeof(inserts) / sizeof(inserts[0]))];
				size_t il = strlen(ins);
				if (len + il < sizeof(buf)) {
					memmove(buf + at + il, buf + at, len - at);
					memcpy(buf + at, ins, il);
					len += il;
				}
			}
			}
		}
		if (which == 2 || which == 3) {
			host_udp_send(w.ss_s, &core, buf, len);
		} else if (tv_rng_below(&r, 2)) {
			host_udp_send(w.term_s, &px, buf, len);
		} else {
			if (!tc.c)
				tc_open((uint16_t)(41001 + i));
			host_tcp_send(tc.c, buf, len);
		}
		if (i % 40 == 0)
			sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(50));
		w.at_ss.n = w.at_term.n = 0;
	}
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(2));
	cr_assert_eq(st()->ports_access, 2 * st()->streams, "access ports match open streams");
	cr_assert_eq(st()->ports_core, 2 * st()->streams + st()->bindings, "core ports match streams + bindings");
	cr_assert_gt(st()->sip_unfolded, 0, "the folds were exercised");
	cr_assert_gt(st()->drop[PX_DROP_SIP_LENGTH], 0);
	tc_done();
	w.at_ss.n = 0;
	from_term(REGISTER);
	cr_assert_eq(w.at_ss.n, 1, "still forwards a good REGISTER");
}
