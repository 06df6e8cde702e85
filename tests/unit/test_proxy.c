/* test_proxy.c - the proxy's SIP ALG on the wire: hand-written messages in,
 * exact bytes out (as curl's tests do). A raw "terminal" on the access
 * link (as if already behind its NAT: 203.0.113.10) and a raw "softswitch"
 * on the core link record every datagram the proxy sends them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "proxy_world.h"

Test(proxy_wire, register_is_rewritten_byte_exactly, .init = setup, .fini = teardown)
{
	from_term(REGISTER);
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_str_eq(w.at_ss.msg[0],
			 "REGISTER sip:example.net SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1;rport\r\n"
			 "Max-Forwards: 69\r\n"
			 "From: <sip:alice@example.net>;tag=a1\r\n"
			 "To: <sip:alice@example.net>\r\n"
			 "Call-ID: reg-1@10.0.0.1\r\n"
			 "CSeq: 1 REGISTER\r\n"
			 "Contact: <sip:alice@10.0.0.1:5100>\r\n"
			 "Expires: 3600\r\n"
			 "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_ss.from[0].ip.v4, 0x0a000001);
	cr_assert_eq(w.at_ss.from[0].port, 5100, "IP header source is the terminal's core address");

	from_ss(REG_200);
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_str_eq(w.at_term.msg[0],
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKreg1;rport=40000;received=203.0.113.10\r\n"
			 "From: <sip:alice@example.net>;tag=a1\r\n"
			 "To: <sip:alice@example.net>;tag=ss\r\n"
			 "Call-ID: reg-1@192.168.1.10\r\n"
			 "CSeq: 1 REGISTER\r\n"
			 "Contact: <sip:alice@192.168.1.10:5060>;expires=3600\r\n"
			 "Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.from[0].port, 5060);
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 1);
}

#define SDP_OFFER "v=0\r\no=alice 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n" \
		  "m=audio 10000 RTP/AVP 0\r\na=rtcp:10001\r\na=sendrecv\r\n"

static void invite_with(const char *sdp)
{
	char m[2048];

	snprintf(m, sizeof(m),
		 "INVITE sip:bob@example.net SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKinv1\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.net>;tag=a2\r\n"
		 "To: <sip:bob@example.net>\r\n"
		 "Call-ID: call-1@192.168.1.10\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Contact: <sip:alice@192.168.1.10:5060>\r\n"
		 "Content-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(sdp), sdp);
	from_term(m);
}

Test(proxy_wire, invite_sdp_goes_to_core_ports_with_right_length, .init = setup, .fini = teardown)
{
	const char *body;

	invite_with(SDP_OFFER);
	cr_assert_eq(w.at_ss.n, 1);
	body = strstr(w.at_ss.msg[0], "\r\n\r\n") + 4;
	cr_assert_str_eq(body, "v=0\r\no=alice 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
			       "m=audio 20000 RTP/AVP 0\r\na=rtcp:20001\r\na=sendrecv\r\n");
	cr_assert(strstr(w.at_ss.msg[0], "Content-Length: 116\r\n") != NULL, "%s", w.at_ss.msg[0]);
	cr_assert_eq(strlen(body), 116);
	cr_assert_eq(strlen(SDP_OFFER), 124, "the terminal's body was 8 bytes longer");
	cr_assert_eq(proxy_get_stats(w.px)->streams, 1);
	cr_assert_null(strstr(w.at_ss.msg[0], "192.168."), "no private address reaches the core, Call-ID included");
	cr_assert(strstr(w.at_ss.msg[0], "Call-ID: call-1@10.0.0.1\r\n") != NULL);
}

Test(proxy_wire, bad_sdp_gets_400_and_allocates_nothing, .init = setup, .fini = teardown)
{
	invite_with("v=0\r\no=alice 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n"
		    "m=audio tenthousand RTP/AVP 0\r\n");
	cr_assert_eq(w.at_ss.n, 0, "nothing forwarded");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert(!strncmp(w.at_term.msg[0], "SIP/2.0 400 ", 12), "%s", w.at_term.msg[0]);
	cr_assert(strstr(w.at_term.msg[0], "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKinv1\r\n") != NULL);
	cr_assert_eq(proxy_get_stats(w.px)->streams, 0);
	cr_assert_eq(proxy_get_stats(w.px)->ports_access, 0);
	cr_assert_eq(proxy_get_stats(w.px)->legs, 0);
}

Test(proxy_wire, port_exhaustion_gets_503_and_leaks_nothing, .init = setup, .fini = teardown)
{
	char sdp[512];

	/* three m= lines, the pool has two pairs */
	snprintf(sdp, sizeof(sdp), "v=0\r\no=a 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n"
		 "m=audio 10000 RTP/AVP 0\r\nm=video 10002 RTP/AVP 96\r\nm=audio 10004 RTP/AVP 0\r\n");
	invite_with(sdp);
	cr_assert_eq(w.at_ss.n, 0);
	cr_assert_eq(w.at_term.n, 1);
	cr_assert(!strncmp(w.at_term.msg[0], "SIP/2.0 503 ", 12), "%s", w.at_term.msg[0]);
	cr_assert_eq(proxy_get_stats(w.px)->ports_access, 0);
	cr_assert_eq(proxy_get_stats(w.px)->ports_core, 1, "only the terminal's signaling port");
	cr_assert_eq(proxy_get_stats(w.px)->legs, 0);
	cr_assert_geq(proxy_get_stats(w.px)->no_ports, 1);
}

Test(proxy_wire, request_from_core_gets_our_via_and_the_terminals_target, .init = setup, .fini = teardown)
{
	from_term(REGISTER);
	w.at_ss.n = 0;
	from_ss("OPTIONS sip:alice@10.0.0.1:5100 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss1\r\n"
		"Max-Forwards: 69\r\n"
		"From: <sip:ss@example.net>;tag=s1\r\n"
		"To: <sip:alice@example.net>\r\n"
		"Call-ID: opt-1@10.0.0.100\r\n"
		"CSeq: 7 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert(!strncmp(w.at_term.msg[0], "OPTIONS sip:alice@192.168.1.10:5060 SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK-tvpx-", 98), "%s", w.at_term.msg[0]);
	/* topology hiding: our Via is the only one the terminal sees */
	cr_assert(strstr(w.at_term.msg[0], ";rport\r\nMax-Forwards: 68\r\n") != NULL, "%s", w.at_term.msg[0]);
	cr_assert_null(strstr(w.at_term.msg[0], "10.0.0."), "no core address, the Call-ID's host coded: %s",
		       w.at_term.msg[0]);
	cr_assert_eq(w.at_term.from[0].port, 5060, "sent from the proxy's SIP port to the NAT mapping");

	/* the terminal answers; our Via gives way to the softswitch's again */
	{
		char resp[2048], via[256], cid[64];
		const char *v = strstr(w.at_term.msg[0], "Via: SIP/2.0/UDP 198.51.100.10");
		const char *c = strstr(w.at_term.msg[0], "Call-ID: ");
		size_t vl = (size_t)(strstr(v, "\r\n") - v), cl = (size_t)(strstr(c, "\r\n") - c);
		memcpy(via, v, vl);
		via[vl] = '\0';
		memcpy(cid, c, cl);
		cid[cl] = '\0';
		snprintf(resp, sizeof(resp),
			 "SIP/2.0 200 OK\r\n%s\r\n"
			 "From: <sip:ss@example.net>;tag=s1\r\n"
			 "To: <sip:alice@example.net>;tag=t9\r\n"
			 "%s\r\n"
			 "CSeq: 7 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n", via, cid);
		from_term(resp);
	}
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert_str_eq(w.at_ss.msg[0],
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss1\r\n"
			 "From: <sip:ss@example.net>;tag=s1\r\n"
			 "To: <sip:alice@example.net>;tag=t9\r\n"
			 "Call-ID: opt-1@10.0.0.100\r\n"
			 "CSeq: 7 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n");
}

Test(proxy_wire, garbage_is_counted_and_dropped, .init = setup, .fini = teardown)
{
	static const char *const junk[] = {
		"hello", "INVITE\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n",
		"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n",   /* no Call-ID/CSeq/From/To */
	};

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		from_term(junk[i]);
	cr_assert_eq(w.at_ss.n, 0);
	cr_assert_eq(proxy_get_stats(w.px)->drop[PX_DROP_SIP_MALFORMED], 4);
	from_term(REGISTER);
	cr_assert_eq(w.at_ss.n, 1, "still works");
}

/* Random damage to valid messages, from both sides: the proxy must never
 * crash or read out of bounds (ASan), must keep its books balanced, and
 * must still work afterwards. */
Test(proxy_wire, survives_mutated_messages_from_both_sides, .init = setup, .fini = teardown)
{
	static const char *const seeds[] = {
		REGISTER,
		"INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKm\r\n"
		"From: <sip:alice@example.net>;tag=a\r\nTo: <sip:bob@example.net>\r\nCall-ID: m@x\r\n"
		"CSeq: 1 INVITE\r\nContact: <sip:alice@192.168.1.10:5060>\r\nContent-Type: application/sdp\r\n"
		"Content-Length: 124\r\n\r\n" SDP_OFFER,
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKm\r\nFrom: <sip:a@x>;tag=a\r\n"
		"To: <sip:b@x>;tag=b\r\nCall-ID: m@x\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@10.0.0.1:5101>\r\n"
		"Content-Type: application/sdp\r\nContent-Length: 124\r\n\r\n" SDP_OFFER,
		"BYE sip:alice@10.0.0.1:5100 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKb\r\n"
		"From: <sip:b@x>;tag=b\r\nTo: <sip:a@x>;tag=a\r\nCall-ID: m@x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
	};
	tv_rng r;
	char buf[2048];

	tv_rng_seed(&r, 77);
	from_term(REGISTER);
	for (int i = 0; i < 3000; i++) {
		const char *src = seeds[tv_rng_below(&r, 4)];
		size_t len = strlen(src);
		memcpy(buf, src, len);
		for (int k = 0, n = 1 + (int)tv_rng_below(&r, 4); k < n; k++) {
			switch (tv_rng_below(&r, 4)) {
			case 0: buf[tv_rng_below(&r, (uint32_t)len)] = (char)tv_rng_next(&r); break;
			case 1: len = tv_rng_below(&r, (uint32_t)len) + 1; break;
			case 2: buf[tv_rng_below(&r, (uint32_t)len)] = "\r\n:;@<> 0\0"[tv_rng_below(&r, 10)]; break;
			default: {
				size_t at = tv_rng_below(&r, (uint32_t)len);
				if (len + 8 < sizeof(buf)) {
					memmove(buf + at + 8, buf + at, len - at);
					memcpy(buf + at, "\r\nX: ;\r\n", 8);
					len += 8;
				}
			}
			}
		}
		if (tv_rng_below(&r, 2)) {
			tv_ep to = tv_ep4(0xc633640a, 5060);
			host_udp_send(w.term_s, &to, buf, len);
		} else {
			tv_ep to = tv_ep4(0x0a000001, 5100);
			host_udp_send(w.ss_s, &to, buf, len);
		}
		if (i % 50 == 0)
			step();
		w.at_ss.n = w.at_term.n = 0;
	}
	step();
	{
		const proxy_stats *st = proxy_get_stats(w.px);
		cr_assert_eq(st->ports_access, 2 * st->streams, "access ports match open streams");
		cr_assert_eq(st->ports_core, 2 * st->streams + st->bindings, "core ports match streams + bindings");
	}
	w.at_ss.n = 0;
	from_term(REGISTER);
	cr_assert_eq(w.at_ss.n, 1, "still forwards a good REGISTER");
}

Test(proxy_wire, unregister_removes_the_binding, .init = setup, .fini = teardown)
{
	from_term(REGISTER);
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 1);
	from_ss("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1;rport\r\n"
		"From: <sip:alice@example.net>;tag=a1\r\n"
		"To: <sip:alice@example.net>;tag=ss\r\n"
		"Call-ID: reg-1@10.0.0.1\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Expires: 0\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1, "the 200 still reaches the phone");
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 0);
	cr_assert_eq(proxy_get_stats(w.px)->ports_core, 0, "its core port is back");
	cr_assert_eq(proxy_get_stats(w.px)->unregistered, 1);
}

Test(proxy_wire, core_invite_without_ports_gets_503_toward_the_core, .init = setup, .fini = teardown)
{
	static const char sdp3[] = "v=0\r\no=b 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
				   "m=audio 20000 RTP/AVP 0\r\nm=video 20002 RTP/AVP 96\r\nm=audio 20004 RTP/AVP 0\r\n";
	char m[2048];

	from_term(REGISTER);
	w.at_ss.n = w.at_term.n = 0;
	snprintf(m, sizeof(m),
		 "INVITE sip:alice@10.0.0.1:5100 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss9\r\n"
		 "From: <sip:bob@example.net>;tag=b9\r\n"
		 "To: <sip:alice@example.net>\r\n"
		 "Call-ID: in-1@10.9.9.9\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Contact: <sip:bob@10.0.0.1:5101>\r\n"
		 "Content-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(sdp3), sdp3);
	from_ss(m);
	cr_assert_eq(w.at_term.n, 0, "nothing reaches the phone");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(!strncmp(w.at_ss.msg[0], "SIP/2.0 503 ", 12), "%s", w.at_ss.msg[0]);
	cr_assert(strstr(w.at_ss.msg[0], "Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKss9\r\n") != NULL);
	cr_assert_eq(w.at_ss.from[0].port, 5100, "from the terminal's core address");
	cr_assert_eq(proxy_get_stats(w.px)->legs, 0);
	cr_assert_eq(proxy_get_stats(w.px)->ports_access, 0);
	cr_assert_eq(proxy_get_stats(w.px)->ports_core, 1);
}

static void ok_from_ss(const char *extra)
{
	static const char sdp[] = "v=0\r\no=b 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
				  "m=audio 20002 RTP/AVP 0\r\n";
	char m[2048];

	snprintf(m, sizeof(m),
		 "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKinv1\r\n"
		 "From: <sip:alice@example.net>;tag=a2\r\n"
		 "To: <sip:bob@example.net>;tag=b2\r\n"
		 "Call-ID: call-1@10.0.0.1\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Contact: <sip:bob@10.0.0.1:5101>\r\n"
		 "%s"
		 "Content-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", extra, strlen(sdp), sdp);
	from_ss(m);
}

Test(proxy_wire, session_timer_ends_an_unrefreshed_leg, .init = setup, .fini = teardown)
{
	invite_with(SDP_OFFER);
	ok_from_ss("Session-Expires: 90;refresher=uac\r\nRequire: timer\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert_eq(proxy_get_stats(w.px)->legs, 1);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(60));
	ok_from_ss("Session-Expires: 90;refresher=uac\r\n");        /* a refresh's 2xx */
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(60));
	cr_assert_eq(proxy_get_stats(w.px)->legs, 1, "refreshed at 60 s: alive at 120 s");
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(31));
	cr_assert_eq(proxy_get_stats(w.px)->legs, 0, "90 s after the last refresh: gone");
	cr_assert_eq(proxy_get_stats(w.px)->session_expired, 1);
	cr_assert_eq(proxy_get_stats(w.px)->ports_access, 0);
}

Test(proxy_wire, no_session_timer_without_session_expires, .init = setup, .fini = teardown)
{
	invite_with(SDP_OFFER);
	ok_from_ss("");
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(3600));
	cr_assert_eq(proxy_get_stats(w.px)->legs, 1);
	cr_assert_eq(proxy_get_stats(w.px)->session_expired, 0);
}

static void tcp_noop(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg; (void)c; (void)ev; (void)d; (void)len; (void)now;
}

Test(proxy_wire, tcp_terminal_that_reconnects_keeps_its_binding, .init = setup, .fini = teardown)
{
	tv_ep px = tv_ep4(0xc633640a, 5060);
	tv_tcp *c;
	int err;

	c = host_tcp_connect(w.term, 41000, &px, tcp_noop, NULL, &err);
	cr_assert_not_null(c);
	step();
	host_tcp_send(c, REGISTER, strlen(REGISTER));
	step();
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 1);
	cr_assert_eq(w.at_ss.n, 1);
	from_ss(REG_200);       /* the core accepts it: the binding is the terminal's */
	cr_assert_eq(proxy_get_stats(w.px)->untrusted, 0);
	host_tcp_close(c);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(5));
	c = host_tcp_connect(w.term, 41001, &px, tcp_noop, NULL, &err);
	step();
	host_tcp_send(c, REGISTER, strlen(REGISTER));
	step();
	cr_assert_eq(proxy_get_stats(w.px)->bindings, 1, "the same binding, not a second one");
	cr_assert_eq(proxy_get_stats(w.px)->ports_core, 1);
	cr_assert_eq(w.at_ss.n, 2);
	cr_assert_eq(w.at_ss.from[1].port, 5100, "same core address as before the reconnect");
	from_ss(REG_200);
	cr_assert_eq(proxy_get_stats(w.px)->moved, 1, "the 2xx moved it to the new connection");
	host_tcp_abort(c);
}

/* Inputs the fuzzer (fuzz/fuzz_sip.c) once crashed on, replayed the way
 * the fuzzer feeds them: a mode byte (mode & 3: 0 the terminal sends A over
 * UDP, 1 or 3 over TCP, 2 the softswitch sends it), 2 bytes of split point,
 * A, then B from the softswitch.
 * - regress-sdp-bare-cr: an SDP body whose last line ends in a bare CR
 *   made libosip2's SDP parser read past it.
 * - tcp-186-compact-via: 186 compact Via lines and an SDP libosip2 refuses
 *   over TCP: the 400 grew past the proxy's 4,096-byte stack buffer.
 * - udp-940-compact-callid: the same overflow, found by the fuzzer itself
 *   from 940 compact Call-ID lines over UDP.
 * - regress-bare-lf-lines: 65 KB of bare LF lines after a Via; the
 *   Content-Length finder rescanned the rest of the header from every
 *   line (minutes of CPU for one datagram; the timeout catches it). */
Test(proxy_wire, fuzzer_regressions_replay_safely, .init = setup, .fini = teardown, .timeout = 60)
{
	static const char *const files[] = { "fuzz/seeds/sip/regress-sdp-bare-cr", "fuzz/seeds/sip/tcp-186-compact-via",
					     "fuzz/seeds/sip/udp-940-compact-callid", "fuzz/seeds/sip/regress-bare-lf-lines" };
	static uint8_t d[70000];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *fp = fopen(files[i], "rb");
		size_t n, half;
		tv_ep to = tv_ep4(0xc633640a, 5060), core = tv_ep4(0x0a000001, 5100);
		int mode, err;

		cr_assert_not_null(fp, "%s (tests run from the repository root)", files[i]);
		n = fread(d, 1, sizeof(d), fp);
		fclose(fp);
		cr_assert_geq(n, 3);
		mode = d[0] & 3;
		half = (size_t)(d[1] << 8 | d[2]);
		if (half > n - 3)
			half = n - 3;
		from_term(REGISTER);
		if (mode == 0) {
			host_udp_send(w.term_s, &to, d + 3, half);
		} else if (mode == 2) {
			host_udp_send(w.ss_s, &core, d + 3, half);
		} else {
			tv_tcp *c = host_tcp_connect(w.term, (uint16_t)(42000 + i), &to, tcp_noop, NULL, &err);
			cr_assert_not_null(c);
			step();
			host_tcp_send(c, d + 3, half);
			sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(500));
			host_tcp_abort(c);
		}
		host_udp_send(w.ss_s, &core, d + 3 + half, n - 3 - half);
		step();
	}
	w.at_ss.n = 0;
	from_term(REGISTER);
	cr_assert_gt(w.at_ss.n, 0, "still working");
}

Test(proxy_wire, an_ended_call_leaves_an_accounting_record, .init = setup, .fini = teardown)
{
	static const uint8_t rtp[172] = { 0x80, 0x00 };
	tv_ep relay = tv_ep4(0xc633640a, 20000);
	tv_udp *media;
	tv_ep l = tv_ep4(0, 10000);
	int err;

	invite_with(SDP_OFFER);
	ok_from_ss("");
	media = host_udp_bind(w.term, &l, rec, &w.at_term, &err);
	for (int i = 0; i < 25; i++)
		host_udp_send(media, &relay, rtp, sizeof(rtp));
	step();
	from_term("BYE sip:bob@198.51.100.10:5060 SIP/2.0\r\n"
		  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKbye\r\n"
		  "From: <sip:alice@example.net>;tag=a2\r\nTo: <sip:bob@example.net>;tag=b2\r\n"
		  "Call-ID: call-1@192.168.1.10\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n");
	from_ss("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKbye\r\n"
		"From: <sip:alice@example.net>;tag=a2\r\nTo: <sip:bob@example.net>;tag=b2\r\n"
		"Call-ID: call-1@10.0.0.1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(proxy_get_stats(w.px)->legs, 0);
	cr_assert_eq(w.nrec, 1);
	cr_assert_str_eq(w.rec_reason[0], "bye");
	cr_assert_eq(w.rec[0].streams, 1);
	cr_assert_eq(w.rec[0].pkts_to_core, 25, "every packet the relay forwarded, counted");
	cr_assert_eq(w.rec[0].bytes_to_core, 25 * 172);
	cr_assert_eq(w.rec[0].pkts_to_access, 0);
	cr_assert_gt(w.rec[0].ended, w.rec[0].started);
	cr_assert_eq(proxy_get_stats(w.px)->records, 1);
	host_udp_close(media);
}

/* RFC 3261 16.6 step 3: one hop less each way, so a loop through the
 * proxy ends (a 483 from whoever sees 0), and a request with no
 * Max-Forwards goes on with 70. */
Test(proxy_wire, max_forwards_goes_down_by_one, .init = setup, .fini = teardown)
{
	from_term(REGISTER);
	from_ss(REG_200);
	w.at_ss.n = w.at_term.n = 0;
	from_ss("OPTIONS sip:alice@10.0.0.1:5100 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKmf1\r\n"
		"Max-Forwards: 1\r\n"
		"From: <sip:ss@example.net>;tag=s1\r\n"
		"To: <sip:alice@example.net>\r\n"
		"Call-ID: mf-1@10.0.0.100\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1);
	cr_assert(strstr(w.at_term.msg[0], "\r\nMax-Forwards: 0\r\n"), "%s", w.at_term.msg[0]);
	from_ss("OPTIONS sip:alice@10.0.0.1:5100 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.100:5060;branch=z9hG4bKmf2\r\n"
		"Max-Forwards: 0\r\n"
		"From: <sip:ss@example.net>;tag=s1\r\n"
		"To: <sip:alice@example.net>\r\n"
		"Call-ID: mf-2@10.0.0.100\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n");
	cr_assert_eq(w.at_term.n, 1, "not forwarded with 0 left");
	cr_assert_eq(w.at_ss.n, 1);
	cr_assert(!strncmp(w.at_ss.msg[0], "SIP/2.0 483 ", 12), "%s", w.at_ss.msg[0]);
}

static void first_stream(void *arg, const proxy_stream_info *s)
{
	proxy_stream_info *o = arg;

	if (!o->user)
		*o = *s;
}

/* The relay measures what it forwards (proxy/rtpq.c): a gap is loss, a
 * malformed packet (too short, not version 2) is dropped before and
 * counted nowhere in the quality, and the codec comes from the answer's
 * first payload type. */
Test(proxy_wire, the_relay_measures_loss_and_not_malformed_packets, .init = setup, .fini = teardown)
{
	uint8_t rtp[172] = { 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };
	static const uint8_t bad_version[172] = { 0x40, 0x00, 0x7f, 0xff };
	tv_ep relay = tv_ep4(0xc633640a, 20000);
	tv_udp *media;
	tv_ep l = tv_ep4(0, 10000);
	proxy_stream_info si = { 0 };
	int err;

	invite_with(SDP_OFFER);
	ok_from_ss("");
	media = host_udp_bind(w.term, &l, rec, &w.at_term, &err);
	for (int i = 0; i < 20; i++) {
		if (i == 7 || i == 8)
			continue;               /* two lost before the relay */
		rtp[3] = (uint8_t)i;
		rtp[7] = (uint8_t)(i * 160);
		rtp[6] = (uint8_t)(i * 160 >> 8);
		host_udp_send(media, &relay, rtp, sizeof(rtp));
		if (i == 10) {
			host_udp_send(media, &relay, bad_version, sizeof(bad_version));
			host_udp_send(media, &relay, rtp, 11);  /* too short for RTP */
		}
		step();
	}
	proxy_foreach_stream(w.px, first_stream, &si);
	cr_assert_not_null(si.user);
	cr_assert_eq(si.to_core, 18);
	cr_assert_eq(proxy_get_stats(w.px)->drop[PX_DROP_RTP_MALFORMED], 2);
	cr_assert_eq(si.q_to_core.expected, 20, "%llu", (unsigned long long)si.q_to_core.expected);
	cr_assert_eq(si.q_to_core.received, 18);
	cr_assert_eq(si.q_to_core.lost, 2);
	cr_assert_float_eq(si.q_to_core.loss, 0.1, 1e-9);
	cr_assert_gt(si.q_to_core.last_rx, 0);
	cr_assert_eq(si.q_to_access.expected, 0, "nothing from the core");
	cr_assert_lt(si.q_to_access.mos, 0, "no estimate without packets");
	cr_assert_str_eq(si.codec, "PCMU");
	cr_assert_eq(si.clock_rate, 8000);
	cr_assert(si.clock_known);
	cr_assert_eq(si.delay_from, 'c', "no RTCP: the configured delay");
	cr_assert_lt(si.rtt_ms, 0);
	cr_assert_gt(si.q_to_core.mos, 1);
	cr_assert_lt(si.q_to_core.mos, 4.0, "10%% loss costs G.711 more than half a point: %f", si.q_to_core.mos);
	host_udp_close(media);
}

Test(proxy_wire, the_clock_rate_comes_from_the_rtpmap, .init = setup, .fini = teardown)
{
	proxy_stream_info si = { 0 };

	invite_with("v=0\r\no=alice 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n"
		    "m=audio 10000 RTP/AVP 96 0\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 opus/48000/2\r\n");
	proxy_foreach_stream(w.px, first_stream, &si);
	cr_assert_not_null(si.user);
	cr_assert_str_eq(si.codec, "OPUS");
	cr_assert_eq(si.clock_rate, 48000);
	cr_assert(si.clock_known);
}
