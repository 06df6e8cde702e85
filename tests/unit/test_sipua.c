/* test_sipua.c - the simulated SIP phone and the softswitch.
 *
 * Topology (one link, no NAT, 5 ms each way):
 *
 *   alice 10.0.0.10 ---+
 *   bob   10.0.0.20 ---+--- lan --- softswitch 10.0.0.1:5060 (example.net)
 *   probe 10.0.0.99 ---+
 *
 * Both phones use the softswitch as outbound proxy. The probe is the
 * test's own hand: it sends hand-made SIP (OPTIONS, keepalives, garbage,
 * damaged copies of real messages), plays a scripted peer that answers
 * and re-INVITEs alice (alice's proxy is then the probe), or is a small
 * TCP registrar that frames and parses on its own; for session timers
 * (sipua_timer) it is also a caller that calls bob directly. The sipmsg suite tests
 * the shared helpers (stream framing, SDP, Via) without a network. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "host.h"
#include "sipmsg.h"
#include "sipua.h"

#define IP_SS "10.0.0.1"
#define IP_A "10.0.0.10"
#define IP_B "10.0.0.20"
#define IP_P "10.0.0.99"


/* ---- the world ------------------------------------------------------------ */

struct world {
	sim_net *net;
	sim_link *lan;
	tv_host *ha, *hb, *hs, *hp;
	softswitch *ss;
	sipua *a, *b;
};

static sipua_cfg ua_cfg(const char *user)
{
	sipua_cfg c = {
		.user = user, .domain = "example.net", .proxy = th_ep(IP_SS ":5060"),
	};

	return c;
}

static void world_init(struct world *w, const sipua_cfg *acfg, const sipua_cfg *bcfg, double loss)
{
	sim_link_cfg lc = { .delay = TV_MS(5), .loss = loss };
	tv_ip is = th_ip(IP_SS), ia = th_ip(IP_A), ib = th_ip(IP_B), ipr = th_ip(IP_P);
	int err;

	memset(w, 0, sizeof(*w));
	w->net = sim_net_new(7);
	w->lan = sim_link_new(w->net, "lan", &lc);
	w->hs = simhost_new(w->net, w->lan, "softswitch", &is);
	w->ha = simhost_new(w->net, w->lan, "alice", &ia);
	w->hb = simhost_new(w->net, w->lan, "bob", &ib);
	w->hp = simhost_new(w->net, w->lan, "probe", &ipr);
	cr_assert(w->net && w->lan && w->hs && w->ha && w->hb && w->hp);
	w->ss = softswitch_new(w->hs, 5060, "example.net", &err);
	cr_assert_not_null(w->ss, "softswitch_new: %d", err);
	if (acfg) {
		w->a = sipua_new(w->ha, acfg, &err);
		cr_assert_not_null(w->a, "sipua_new alice: %d", err);
	}
	if (bcfg) {
		w->b = sipua_new(w->hb, bcfg, &err);
		cr_assert_not_null(w->b, "sipua_new bob: %d", err);
	}
}

static void world_free(struct world *w)
{
	sipua_free(w->a);
	sipua_free(w->b);
	softswitch_free(w->ss);
	host_free(w->ha);
	host_free(w->hb);
	host_free(w->hs);
	host_free(w->hp);
	/* Deliver what is in flight before the network goes (see test_tcp.c). */
	sim_net_run_until(w->net, sim_net_now(w->net) + TV_SEC(60));
	sim_net_free(w->net);
}

static void run(struct world *w, tv_time d)
{
	sim_net_run_until(w->net, sim_net_now(w->net) + d);
}

static const sipua_status *st(const sipua *ua)
{
	return sipua_get_status(ua);
}

static void register_both(struct world *w)
{
	cr_assert_eq(sipua_register(w->a), 0);
	cr_assert_eq(sipua_register(w->b), 0);
	run(w, TV_SEC(1));
	cr_assert(st(w->a)->registered);
	cr_assert(st(w->b)->registered);
}

/* alice calls bob (auto answer after 1 s); both end up established. */
static void call_up(struct world *w)
{
	register_both(w);
	cr_assert_eq(sipua_call(w->a, "bob"), 0);
	cr_assert_eq(st(w->a)->state, SIPUA_CALLING);
	run(w, TV_MS(500));
	cr_assert_eq(st(w->a)->state, SIPUA_RINGING, "alice %s", sipua_state_name(st(w->a)->state));
	cr_assert_eq(st(w->b)->state, SIPUA_RINGING);
	run(w, TV_SEC(1));
	cr_assert_eq(st(w->a)->state, SIPUA_ESTABLISHED, "alice %s", sipua_state_name(st(w->a)->state));
	cr_assert_eq(st(w->b)->state, SIPUA_ESTABLISHED, "bob %s", sipua_state_name(st(w->b)->state));
}

static uint64_t rtp_rx(sipua *ua, int idx)
{
	media_stream *m = sipua_media(ua, idx);

	cr_assert_not_null(m);
	return media_get_stats(m)->rtp_rx;
}

/* RTP received over d, from one source only: from. */
static void expect_rtp(struct world *w, sipua *ua, int idx, tv_time d, const char *from)
{
	uint64_t n0 = rtp_rx(ua, idx), n;
	const media_stats *ms;
	tv_ep src = th_ep(from);
	uint64_t want = (uint64_t)(d / TV_MS(20));

	run(w, d);
	n = rtp_rx(ua, idx) - n0;
	cr_assert(n + 2 >= want && n <= want + 2, "%llu RTP packets in %lld ms, want ~%llu",
		  (unsigned long long)n, (long long)(d / 1000), (unsigned long long)want);
	ms = media_get_stats(sipua_media(ua, idx));
	cr_assert_eq(ms->nsrc, 1);
	cr_assert(tv_ep_eq(&ms->src[0].ep, &src));
}

/* ---- the probe: hand-made SIP ------------------------------------------------ */

#define PROBE_MAX 32

struct probe {
	tv_udp *u;
	int n;
	osip_message_t *m[PROBE_MAX];   /* parsed, in arrival order */
	tv_ep from[PROBE_MAX];
};

static void probe_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	struct probe *p = arg;
	osip_message_t *m;

	(void)s, (void)now;
	if (p->n == PROBE_MAX || sipmsg_parse(data, len, &m) < 0)
		return;
	p->from[p->n] = *from;
	p->m[p->n++] = m;
}

static void probe_open(struct probe *p, tv_host *h, uint16_t port)
{
	tv_ep l = tv_ep4(0, port);
	int err;

	memset(p, 0, sizeof(*p));
	p->u = host_udp_bind(h, &l, probe_rx, p, &err);
	cr_assert_not_null(p->u);
}

static void probe_close(struct probe *p)
{
	for (int i = 0; i < p->n; i++)
		osip_message_free(p->m[i]);
	host_udp_close(p->u);
}

static void probe_send(struct probe *p, const char *to, const char *text)
{
	tv_ep dst = th_ep(to);

	cr_assert_eq(host_udp_send(p->u, &dst, text, strlen(text)), 0);
}

static void probe_send_msg(struct probe *p, const tv_ep *to, osip_message_t *m)
{
	char *buf;
	size_t len;

	cr_assert_eq(sipmsg_to_str(m, &buf, &len), 0);
	cr_assert_eq(host_udp_send(p->u, to, buf, len), 0);
	osip_free(buf);
}

/* The last message received that is a request for method (or, with
 * code != 0, a response with that code to method). */
static osip_message_t *probe_find(struct probe *p, const char *method, int code)
{
	for (int i = p->n - 1; i >= 0; i--) {
		osip_message_t *m = p->m[i];

		if (code && m->status_code == code && strcmp(m->cseq->method, method) == 0)
			return m;
		if (!code && MSG_IS_REQUEST(m) && strcmp(m->sip_method, method) == 0)
			return m;
	}
	return NULL;
}

/* libosip2 reports each parse error on stderr; here there are hundreds.
 * (Process-wide, so only in this test's own process.) */
static void osip_drop(const char *fi, int li, osip_trace_level_t level, const char *fmt, va_list ap)
{
	(void)fi, (void)li, (void)level, (void)fmt, (void)ap;
}

static void osip_quiet(void)
{
	osip_trace_initialize_func(END_TRACE_LEVEL, osip_drop);
}

static const char options_to_alice[] =
	"OPTIONS sip:alice@" IP_A ":5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bKopt1\r\n"
	"From: <sip:probe@example.net>;tag=p1\r\n"
	"To: <sip:alice@example.net>\r\n"
	"Call-ID: opt1@" IP_P "\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n\r\n";

/* ---- registration ------------------------------------------------------------ */

Test(sipua_reg, both_register_and_are_found)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");
	tv_ep c, ca = th_ep(IP_A ":5060"), cb = th_ep(IP_B ":5060");

	world_init(&w, &a, &b, 0);
	register_both(&w);
	cr_assert_eq(st(w.a)->reg_code, 200);
	cr_assert_eq(softswitch_lookup(w.ss, "alice", &c), 0);
	cr_assert(tv_ep_eq(&c, &ca));
	cr_assert_eq(softswitch_lookup(w.ss, "bob", &c), 0);
	cr_assert(tv_ep_eq(&c, &cb));
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &c), TV_ENOENT);
	cr_assert_eq(softswitch_get_stats(w.ss)->bindings, 2);
	cr_assert_eq(softswitch_get_stats(w.ss)->registers, 2);
	world_free(&w);
}

Test(sipua_reg, refreshes_at_half_the_expiry)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");

	a.reg_expires = TV_SEC(60);
	world_init(&w, &a, NULL, 0);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(100));           /* at 0, 30, 60, 90 s */
	cr_assert_eq(softswitch_get_stats(w.ss)->registers, 4);
	cr_assert(st(w.a)->registered);
	world_free(&w);
}

Test(sipua_reg, binding_expires_without_refresh)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	tv_ep c;

	a.reg_expires = TV_SEC(60);
	world_init(&w, &a, NULL, 0);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	sipua_free(w.a);
	w.a = NULL;
	run(&w, TV_SEC(58));
	cr_assert_eq(softswitch_lookup(w.ss, "alice", &c), 0);
	run(&w, TV_SEC(2));
	cr_assert_eq(softswitch_lookup(w.ss, "alice", &c), TV_ENOENT);
	cr_assert_eq(softswitch_get_stats(w.ss)->bindings, 0);
	world_free(&w);
}

Test(sipua_reg, times_out_without_registrar)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");

	a.proxy = th_ep("10.0.0.77:5060");   /* nobody */
	world_init(&w, &a, NULL, 0);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(31));
	cr_assert_not(st(w.a)->registered);
	cr_assert_eq(st(w.a)->reg_code, 0);
	run(&w, TV_SEC(2));
	cr_assert_not(st(w.a)->registered);
	cr_assert_eq(st(w.a)->reg_code, 408);
	/* Sent at 0, .5, 1.5, 3.5, 7.5, then every 4 s to 31.5: 11 in all. */
	cr_assert_eq(host_stats(w.ha)->tx, 11);
	world_free(&w);
}

/* ---- calls -------------------------------------------------------------------- */

Test(sipua_call, media_flows_and_caller_hangs_up)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	b.rtp_port = 20000;
	world_init(&w, &a, &b, 0);
	call_up(&w);
	cr_assert_eq(st(w.a)->last_code, 200);
	cr_assert_eq(st(w.a)->calls_made, 1);
	cr_assert_eq(st(w.b)->calls_answered, 1);
	cr_assert_null(sipua_media(w.a, 1));
	expect_rtp(&w, w.a, 0, TV_SEC(5), IP_B ":20000");
	expect_rtp(&w, w.b, 0, TV_SEC(5), IP_A ":10000");
	cr_assert_eq(sipua_hangup(w.a), 0);
	run(&w, TV_MS(500));
	cr_assert_eq(st(w.a)->state, SIPUA_ENDED);
	cr_assert_str_eq(st(w.a)->end_reason, "bye-sent");
	cr_assert_eq(st(w.b)->state, SIPUA_ENDED);
	cr_assert_str_eq(st(w.b)->end_reason, "bye-received");
	/* The media is kept, readable and silent. */
	{
		uint64_t na = rtp_rx(w.a, 0), nb = rtp_rx(w.b, 0);

		run(&w, TV_SEC(2));
		cr_assert_eq(rtp_rx(w.a, 0), na);
		cr_assert_eq(rtp_rx(w.b, 0), nb);
		cr_assert_gt(na, 500);
	}
	cr_assert_eq(sipua_hangup(w.a), TV_ESTATE);
	world_free(&w);
}

Test(sipua_call, callee_hangs_up)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	world_init(&w, &a, &b, 0);
	call_up(&w);
	run(&w, TV_SEC(1));
	cr_assert_eq(sipua_hangup(w.b), 0);
	run(&w, TV_MS(500));
	cr_assert_str_eq(st(w.b)->end_reason, "bye-sent");
	cr_assert_str_eq(st(w.a)->end_reason, "bye-received");
	/* Both can call again: a new call replaces the old media. */
	run(&w, TV_SEC(1));
	cr_assert_eq(sipua_call(w.b, "alice"), 0);
	run(&w, TV_SEC(2));
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	cr_assert_eq(st(w.b)->state, SIPUA_ESTABLISHED);
	expect_rtp(&w, w.b, 0, TV_SEC(1), IP_A ":10000");
	world_free(&w);
}

Test(sipua_call, busy_gets_486_and_is_acked)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");
	uint64_t routed;

	b.answer = SIPUA_ANSWER_BUSY;
	world_init(&w, &a, &b, 0);
	register_both(&w);
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(st(w.a)->state, SIPUA_ENDED);
	cr_assert_eq(st(w.a)->last_code, 486);
	cr_assert_str_eq(st(w.a)->end_reason, "rejected");
	cr_assert_eq(st(w.b)->last_code, 486);
	/* INVITE, 100, 486, ACK: then quiet (the ACK stopped bob's resends). */
	routed = softswitch_get_stats(w.ss)->requests_routed + softswitch_get_stats(w.ss)->responses_routed;
	cr_assert_eq(routed, 4);
	run(&w, TV_SEC(40));
	cr_assert_eq(softswitch_get_stats(w.ss)->requests_routed + softswitch_get_stats(w.ss)->responses_routed,
		     routed);
	world_free(&w);
}

Test(sipua_call, unknown_user_gets_404)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");

	world_init(&w, &a, NULL, 0);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(sipua_call(w.a, "carol"), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(st(w.a)->state, SIPUA_ENDED);
	cr_assert_eq(st(w.a)->last_code, 404);
	cr_assert_eq(softswitch_get_stats(w.ss)->not_found, 1);
	world_free(&w);
}

Test(sipua_call, cancel_before_answer)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	b.answer = SIPUA_ANSWER_MANUAL;
	world_init(&w, &a, &b, 0);
	register_both(&w);
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_SEC(5));
	cr_assert_eq(st(w.a)->state, SIPUA_RINGING);
	cr_assert_eq(st(w.b)->state, SIPUA_RINGING);
	cr_assert_eq(sipua_cancel(w.a), 0);
	cr_assert_eq(sipua_cancel(w.a), TV_ESTATE);
	run(&w, TV_SEC(1));
	cr_assert_eq(st(w.a)->state, SIPUA_ENDED);
	cr_assert_eq(st(w.a)->last_code, 487);
	cr_assert_str_eq(st(w.a)->end_reason, "cancelled");
	cr_assert_eq(st(w.b)->state, SIPUA_ENDED);
	cr_assert_str_eq(st(w.b)->end_reason, "cancelled");
	cr_assert_eq(sipua_answer(w.b), TV_ESTATE);
	world_free(&w);
}

Test(sipua_call, cancel_right_away_waits_for_a_provisional)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	b.answer = SIPUA_ANSWER_MANUAL;
	world_init(&w, &a, &b, 0);
	register_both(&w);
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	cr_assert_eq(sipua_cancel(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_str_eq(st(w.a)->end_reason, "cancelled");
	cr_assert_str_eq(st(w.b)->end_reason, "cancelled");
	world_free(&w);
}

Test(sipua_call, manual_answer_and_reject)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	b.answer = SIPUA_ANSWER_MANUAL;
	world_init(&w, &a, &b, 0);
	register_both(&w);
	cr_assert_eq(sipua_answer(w.b), TV_ESTATE);
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	cr_assert_eq(sipua_call(w.a, "bob"), TV_ESTATE);
	run(&w, TV_SEC(10));
	cr_assert_eq(st(w.b)->state, SIPUA_RINGING);
	cr_assert_eq(sipua_answer(w.b), 0);
	run(&w, TV_MS(100));
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	cr_assert_eq(st(w.b)->state, SIPUA_ESTABLISHED);
	cr_assert_eq(sipua_hangup(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(sipua_reject(w.b, 200), TV_EINVAL);
	cr_assert_eq(sipua_reject(w.b, 603), 0);
	run(&w, TV_MS(100));
	cr_assert_eq(st(w.a)->last_code, 603);
	cr_assert_str_eq(st(w.a)->end_reason, "rejected");
	cr_assert_str_eq(st(w.b)->end_reason, "rejected");
	world_free(&w);
}

/* Over the hold the sender stops on both sides; after it media resumes. */
static void hold_resume(sipua *holder, sipua *other, struct world *w)
{
	uint64_t h0, o0;

	cr_assert_eq(sipua_hold(holder, true), 0);
	run(w, TV_MS(200));
	cr_assert(st(holder)->held);
	cr_assert(st(other)->held);
	cr_assert_eq(st(holder)->state, SIPUA_ESTABLISHED);
	h0 = rtp_rx(holder, 0);
	o0 = rtp_rx(other, 0);
	run(w, TV_SEC(3));
	cr_assert_eq(rtp_rx(holder, 0), h0);
	cr_assert_eq(rtp_rx(other, 0), o0);
	cr_assert_eq(sipua_hold(holder, false), 0);
	run(w, TV_MS(200));
	cr_assert_not(st(holder)->held);
	cr_assert_not(st(other)->held);
	h0 = rtp_rx(holder, 0);
	o0 = rtp_rx(other, 0);
	run(w, TV_SEC(2));
	cr_assert_geq(rtp_rx(holder, 0) - h0, 98);
	cr_assert_geq(rtp_rx(other, 0) - o0, 98);
}

Test(sipua_call, caller_holds_and_resumes)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	world_init(&w, &a, &b, 0);
	call_up(&w);
	run(&w, TV_SEC(1));
	hold_resume(w.a, w.b, &w);
	world_free(&w);
}

Test(sipua_call, callee_holds_and_resumes)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	world_init(&w, &a, &b, 0);
	call_up(&w);
	run(&w, TV_SEC(1));
	hold_resume(w.b, w.a, &w);
	cr_assert_eq(sipua_hangup(w.b), 0);
	run(&w, TV_SEC(1));
	cr_assert_str_eq(st(w.a)->end_reason, "bye-received");
	world_free(&w);
}

Test(sipua_call, mute_stops_rtp_only)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");
	uint64_t n;

	world_init(&w, &a, &b, 0);
	call_up(&w);
	sipua_mute(w.a, true);
	run(&w, TV_MS(100));
	n = rtp_rx(w.b, 0);
	run(&w, TV_SEC(6));
	cr_assert_eq(rtp_rx(w.b, 0), n);
	cr_assert_gt(media_get_stats(sipua_media(w.b, 0))->rtcp_rx, 0);
	sipua_mute(w.a, false);
	expect_rtp(&w, w.b, 0, TV_SEC(1), IP_A ":10000");
	world_free(&w);
}

Test(sipua_call, video_has_two_streams)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	a.video = b.video = true;
	b.rtp_port = 30000;
	world_init(&w, &a, &b, 0);
	call_up(&w);
	cr_assert_eq(media_rtp_port(sipua_media(w.a, 1)), 10002);
	cr_assert_eq(media_rtcp_port(sipua_media(w.a, 1)), 10003);
	expect_rtp(&w, w.a, 1, TV_SEC(2), IP_B ":30002");
	expect_rtp(&w, w.b, 1, TV_SEC(2), IP_A ":10002");
	expect_rtp(&w, w.b, 0, TV_SEC(1), IP_A ":10000");
	cr_assert_null(sipua_media(w.a, 2));
	world_free(&w);
}

Test(sipua_call, video_declined_by_callee)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	a.video = true;
	world_init(&w, &a, &b, 0);
	call_up(&w);
	cr_assert_null(sipua_media(w.a, 1));
	cr_assert_null(sipua_media(w.b, 1));
	expect_rtp(&w, w.b, 0, TV_SEC(1), IP_A ":10000");
	world_free(&w);
}

/* Where ua's last SDP read tells it to send stream 0 (sipua_peer_media). */
static void peer_media_is(sipua *ua, const char *ip, uint16_t rtp, uint16_t rtcp)
{
	tv_ep r, c;

	cr_assert_eq(sipua_peer_media(ua, 0, &r, &c), 0);
	cr_assert(tv_ip_eq(&r.ip, &(tv_ip){ .af = TV_AF_INET, .v4 = th_ip(ip).v4 }));
	cr_assert_eq(r.port, rtp);
	cr_assert_eq(c.port, rtcp, "RTCP at %u, want %u", c.port, rtcp);
	cr_assert(tv_ip_eq(&c.ip, &r.ip));
}

Test(sipua_call, rtcp_mux)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");
	const media_stats *ms;

	a.rtcp_mux = b.rtcp_mux = true;
	world_init(&w, &a, &b, 0);
	cr_assert_eq(sipua_peer_media(w.a, 0, &(tv_ep){ 0 }, &(tv_ep){ 0 }), TV_ENOENT, "no SDP read yet");
	call_up(&w);
	cr_assert_eq(media_rtcp_port(sipua_media(w.a, 0)), 10000);
	cr_assert_eq(media_rtcp_port(sipua_media(w.b, 0)), 10000);
	peer_media_is(w.a, IP_B, 10000, 10000);
	peer_media_is(w.b, IP_A, 10000, 10000);
	cr_assert_eq(sipua_peer_media(w.a, 1, &(tv_ep){ 0 }, &(tv_ep){ 0 }), TV_ENOENT, "no video");
	cr_assert_str_eq(sipua_remote_uri(w.a), "sip:bob@example.net");
	cr_assert_str_eq(sipua_remote_uri(w.b), "sip:alice@example.net");
	run(&w, TV_SEC(6));
	ms = media_get_stats(sipua_media(w.a, 0));
	cr_assert_gt(ms->rtcp_rx, 0);
	cr_assert_eq(ms->bad, 0);
	world_free(&w);
}

Test(sipua_call, rtcp_mux_offered_but_not_answered)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	a.rtcp_mux = true;
	world_init(&w, &a, &b, 0);
	call_up(&w);
	cr_assert_eq(media_rtcp_port(sipua_media(w.a, 0)), 10001);
	peer_media_is(w.a, IP_B, 10000, 10001);
	peer_media_is(w.b, IP_A, 10000, 10001);
	run(&w, TV_SEC(6));
	cr_assert_gt(media_get_stats(sipua_media(w.a, 0))->rtcp_rx, 0);
	cr_assert_gt(media_get_stats(sipua_media(w.b, 0))->rtcp_rx, 0);
	world_free(&w);
}

Test(sipua_call, rtcp_nonadjacent)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	a.rtcp_nonadjacent = true;
	world_init(&w, &a, &b, 0);
	call_up(&w);
	cr_assert_eq(media_rtcp_port(sipua_media(w.a, 0)), 10011);
	peer_media_is(w.b, IP_A, 10000, 10011);
	peer_media_is(w.a, IP_B, 10000, 10001);
	run(&w, TV_SEC(6));
	cr_assert_gt(media_get_stats(sipua_media(w.a, 0))->rtcp_rx, 0);
	world_free(&w);
}

Test(sipua_call, asymmetric_rtp_sends_from_another_port)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	a.asymmetric_rtp = true;
	world_init(&w, &a, &b, 0);
	call_up(&w);
	expect_rtp(&w, w.b, 0, TV_SEC(1), IP_A ":11000");
	expect_rtp(&w, w.a, 0, TV_SEC(1), IP_B ":10000");
	world_free(&w);
}

Test(sipua_call, survives_loss)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	world_init(&w, &a, &b, 0.2);
	cr_assert_eq(sipua_register(w.a), 0);
	cr_assert_eq(sipua_register(w.b), 0);
	run(&w, TV_SEC(10));
	cr_assert(st(w.a)->registered && st(w.b)->registered);
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_SEC(10));
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	cr_assert_eq(st(w.b)->state, SIPUA_ESTABLISHED);
	cr_assert_eq(sipua_hangup(w.a), 0);
	run(&w, TV_SEC(10));
	cr_assert_eq(st(w.b)->state, SIPUA_ENDED);
	world_free(&w);
}

Test(sipua_call, invite_times_out)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	world_init(&w, &a, &b, 0);
	register_both(&w);
	sipua_free(w.b);                /* bob's phone dies, its binding stays */
	w.b = NULL;
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_SEC(31));
	cr_assert_eq(st(w.a)->state, SIPUA_CALLING);
	run(&w, TV_SEC(2));
	cr_assert_eq(st(w.a)->state, SIPUA_ENDED);
	cr_assert_str_eq(st(w.a)->end_reason, "timeout");
	world_free(&w);
}

/* ---- OPTIONS, keepalives, garbage ------------------------------------------------- */

Test(sipua_misc, options_answered)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	struct probe p;
	osip_message_t *r;

	world_init(&w, &a, NULL, 0);
	probe_open(&p, w.hp, 5060);
	probe_send(&p, IP_A ":5060", options_to_alice);
	run(&w, TV_MS(100));
	cr_assert_eq(st(w.a)->options_rx, 1);
	cr_assert_eq(st(w.a)->options_answered, 1);
	r = probe_find(&p, "OPTIONS", 200);
	cr_assert_not_null(r);
	cr_assert_not_null(sipmsg_tag(r->to));
	probe_close(&p);
	world_free(&w);
}

Test(sipua_misc, options_ignored_by_a_dead_phone)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	struct probe p;

	a.no_options_answer = true;
	world_init(&w, &a, NULL, 0);
	probe_open(&p, w.hp, 5060);
	probe_send(&p, IP_A ":5060", options_to_alice);
	run(&w, TV_MS(100));
	cr_assert_eq(st(w.a)->options_rx, 1);
	cr_assert_eq(st(w.a)->options_answered, 0);
	cr_assert_eq(p.n, 0);
	probe_close(&p);
	world_free(&w);
}

Test(sipua_misc, keepalives_and_garbage, .init = osip_quiet)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	struct probe p;

	world_init(&w, &a, NULL, 0);
	probe_open(&p, w.hp, 5060);
	probe_send(&p, IP_A ":5060", "\r\n\r\n");
	probe_send(&p, IP_A ":5060", "\r\n");
	probe_send(&p, IP_A ":5060", "this is not SIP\r\n\r\n");
	probe_send(&p, IP_A ":5060", "INVITE sip:alice@x SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n");
	probe_send(&p, IP_SS ":5060", "garbage");
	probe_send(&p, IP_SS ":5060", "\r\n\r\n");
	run(&w, TV_MS(100));
	cr_assert_eq(st(w.a)->keepalive_rx, 2);
	cr_assert_eq(st(w.a)->rx_bad, 2);
	cr_assert_eq(softswitch_get_stats(w.ss)->rx_bad, 1);
	cr_assert_eq(softswitch_get_stats(w.ss)->rx, 2);
	cr_assert_eq(p.n, 0);
	probe_close(&p);
	world_free(&w);
}

static char *invite_text(size_t *len)
{
	sipmsg_req r = {
		.method = "INVITE", .ruri = "sip:bob@example.net",
		.via = "SIP/2.0/TCP " IP_A ":5060;branch=z9hG4bKs1", .call_id = "s1",
		.from_uri = "sip:alice@example.net", .from_tag = "a", .to_uri = "sip:bob@example.net",
		.cseq = 1, .contact = "sip:alice@" IP_A, .allow = "INVITE",
	};
	sipmsg_sdp d = { .m[SIPMSG_AUDIO] = { .present = true, .port = 4000, .dir = SIPMSG_DIR_SENDRECV } };
	tv_ip a = th_ip(IP_A);
	osip_message_t *m;
	char *buf;

	cr_assert_eq(sipmsg_request(&r, &m), 0);
	cr_assert_eq(sipmsg_sdp_attach(m, "alice", &a, 1, 1, &d), 0);
	cr_assert_eq(sipmsg_to_str(m, &buf, len), 0);
	osip_message_free(m);
	return buf;
}

/* Random byte damage to real messages (alice's INVITE and bob's answers,
 * as captured by the probe playing softswitch for both): nothing crashes,
 * and the phones still work afterwards. */
Test(sipua_misc, survives_mutated_messages, .init = osip_quiet)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");
	struct probe p;
	tv_rng r;
	char *text[3];
	size_t len[3];
	int nt = 0;

	world_init(&w, &a, &b, 0);
	probe_open(&p, w.hp, 5070);
	tv_rng_seed(&r, 99);
	text[nt] = invite_text(&len[nt]);
	nt++;
	{
		osip_message_t *m, *rsp;

		cr_assert_eq(sipmsg_parse((const uint8_t *)text[0], len[0], &m), 0);
		for (int code = 180; nt < 3; code += 20) {
			cr_assert_eq(sipmsg_response(m, code, "t", &rsp), 0);
			cr_assert_eq(sipmsg_to_str(rsp, &text[nt], &len[nt]), 0);
			osip_message_free(rsp);
			nt++;
		}
		osip_message_free(m);
	}
	for (int i = 0; i < 600; i++) {
		int k = (int)tv_rng_below(&r, (uint32_t)nt);
		char buf[2048];
		size_t n = len[k];
		tv_ep to = th_ep(i % 3 == 0 ? IP_SS ":5060" : i % 3 == 1 ? IP_A ":5060" : IP_B ":5060");

		memcpy(buf, text[k], n);
		for (int j = 0, flips = 1 + (int)tv_rng_below(&r, 8); j < flips; j++)
			buf[tv_rng_below(&r, (uint32_t)n)] = (char)tv_rng_below(&r, 256);
		if (tv_rng_below(&r, 4) == 0)
			n = tv_rng_below(&r, (uint32_t)n) + 1;
		cr_assert_eq(host_udp_send(p.u, &to, buf, n), 0);
		run(&w, TV_MS(5));
	}
	run(&w, TV_SEC(40));
	for (int i = 0; i < nt; i++)
		osip_free(text[i]);
	/* Still a working pair of phones. */
	sipua_free(w.a);
	sipua_free(w.b);
	w.a = sipua_new(w.ha, &a, &(int){ 0 });
	w.b = sipua_new(w.hb, &b, &(int){ 0 });
	cr_assert(w.a && w.b);
	call_up(&w);
	probe_close(&p);
	world_free(&w);
}

Test(sipua_misc, unknown_method_gets_501)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	struct probe p;
	char msg[sizeof(options_to_alice) + 8];

	world_init(&w, &a, NULL, 0);
	probe_open(&p, w.hp, 5060);
	snprintf(msg, sizeof(msg), "%s", options_to_alice);
	memcpy(msg, "MESSAGE", 7);                      /* same length as OPTIONS */
	memcpy(strstr(msg, "1 OPTIONS") + 2, "MESSAGE", 7);
	probe_send(&p, IP_A ":5060", msg);
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_find(&p, "MESSAGE", 501));
	probe_close(&p);
	world_free(&w);
}

Test(sipua_names, states)
{
	cr_assert_str_eq(sipua_state_name(SIPUA_IDLE), "idle");
	cr_assert_str_eq(sipua_state_name(SIPUA_ESTABLISHED), "established");
	cr_assert_str_eq(sipua_state_name((enum sipua_call_state)42), "?");
}

Test(sipua_names, bad_config)
{
	sim_net *n = sim_net_new(1);
	sim_link *l = sim_link_new(n, "lan", &(sim_link_cfg){ .delay = TV_MS(1) });
	tv_ip i = th_ip(IP_A);
	tv_host *h = simhost_new(n, l, "h", &i);
	sipua_cfg c = ua_cfg("");
	int err = 0;
	sipua *ua;

	cr_assert_null(sipua_new(h, &c, &err));
	cr_assert_eq(err, TV_EINVAL);
	cr_assert_null(softswitch_new(h, 5060, "", &err));
	cr_assert_eq(err, TV_EINVAL);
	c = ua_cfg("alice");
	ua = sipua_new(h, &c, &err);
	cr_assert_not_null(ua);
	cr_assert_null(sipua_new(h, &c, &err));         /* port taken */
	cr_assert_eq(err, TV_EEXIST);
	cr_assert_eq(sipua_call(ua, ""), TV_EINVAL);
	cr_assert_eq(sipua_hold(ua, true), TV_ESTATE);
	cr_assert_eq(sipua_cancel(ua), TV_ESTATE);
	cr_assert_null(sipua_media(ua, 0));
	cr_assert_null(sipua_media(ua, -1));
	sipua_free(ua);
	host_free(h);
	sim_net_free(n);
}

/* ---- sipmsg helpers ------------------------------------------------------------------- */

Test(sipmsg, stream_frames_byte_by_byte, .init = sipmsg_init)
{
	sipmsg_stream s = { 0 };
	size_t len, mlen;
	char *inv = invite_text(&len);
	const uint8_t *msg;
	uint64_t ka = 0;
	int n = 0, rc;
	char all[4096];
	size_t total = 0;

	memcpy(all, "\r\n\r\n", 4);
	total = 4;
	memcpy(all + total, inv, len);
	total += len;
	memcpy(all + total, inv, len);
	total += len;
	for (size_t i = 0; i < total; i++) {
		cr_assert_eq(sipmsg_stream_feed(&s, (const uint8_t *)all + i, 1), 0);
		while ((rc = sipmsg_stream_next(&s, &msg, &mlen, &ka)) == 1) {
			osip_message_t *m;
			sipmsg_sdp d;

			cr_assert_eq(mlen, len);
			cr_assert_eq(sipmsg_parse(msg, mlen, &m), 0);
			cr_assert_eq(sipmsg_sdp_read(m, &d), 0);
			cr_assert_eq(d.m[SIPMSG_AUDIO].port, 4000);
			osip_message_free(m);
			n++;
		}
		cr_assert_eq(rc, 0);
	}
	cr_assert_eq(n, 2);
	cr_assert_eq(ka, 1);
	sipmsg_stream_free(&s);
	osip_free(inv);
	/* A Content-Length that is not a number cannot be framed. */
	cr_assert_eq(sipmsg_stream_feed(&s, (const uint8_t *)"OPTIONS sip:x SIP/2.0\r\nl: x1\r\n\r\n", 33), 0);
	cr_assert_eq(sipmsg_stream_next(&s, &msg, &mlen, &ka), TV_EINVAL);
	sipmsg_stream_free(&s);
}

Test(sipmsg, sdp_reads_what_peers_write, .init = sipmsg_init)
{
	static const char body[] =
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
		"a=sendonly\r\n"
		"m=video 5002 RTP/AVP 96\r\nc=IN IP4 192.0.2.9\r\na=rtcp-mux\r\n"
		"m=audio 5000 RTP/AVP 0 8\r\na=rtcp:6001 IN IP4 192.0.2.7\r\na=recvonly\r\n"
		"m=audio 7000 RTP/AVP 0\r\n";
	tv_ip want1 = th_ip("192.0.2.1"), want7 = th_ip("192.0.2.7"), want9 = th_ip("192.0.2.9");
	osip_message_t *m;
	sipmsg_sdp d;

	cr_assert_eq(osip_message_init(&m), 0);
	osip_message_set_body(m, body, strlen(body));
	cr_assert_eq(sipmsg_sdp_read(m, &d), 0);
	cr_assert_eq(d.m[SIPMSG_AUDIO].port, 5000);
	cr_assert(tv_ip_eq(&d.m[SIPMSG_AUDIO].addr, &want1));
	cr_assert_eq(d.m[SIPMSG_AUDIO].rtcp_port, 6001);
	cr_assert(d.m[SIPMSG_AUDIO].rtcp_has_addr);
	cr_assert(tv_ip_eq(&d.m[SIPMSG_AUDIO].rtcp_addr, &want7));
	cr_assert_eq(d.m[SIPMSG_AUDIO].dir, SIPMSG_DIR_RECV);
	cr_assert_eq(d.m[SIPMSG_VIDEO].port, 5002);
	cr_assert(tv_ip_eq(&d.m[SIPMSG_VIDEO].addr, &want9));
	cr_assert(d.m[SIPMSG_VIDEO].mux);
	cr_assert_eq(d.m[SIPMSG_VIDEO].dir, SIPMSG_DIR_SEND);        /* session level */
	osip_message_free(m);

	/* RFC 2543 hold: c=0.0.0.0 reads as inactive. */
	cr_assert_eq(osip_message_init(&m), 0);
	{
		static const char hold[] = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
					   "m=audio 5000 RTP/AVP 0\r\n";

		osip_message_set_body(m, hold, strlen(hold));
	}
	cr_assert_eq(sipmsg_sdp_read(m, &d), 0);
	cr_assert_eq(d.m[SIPMSG_AUDIO].dir, 0);
	osip_message_free(m);

	cr_assert_eq(osip_message_init(&m), 0);
	cr_assert_eq(sipmsg_sdp_read(m, &d), TV_ENOENT);
	{
		static const char bad[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
					  "m=audio 99999 RTP/AVP 0\r\n";

		osip_message_set_body(m, bad, strlen(bad));
	}
	cr_assert_eq(sipmsg_sdp_read(m, &d), TV_EINVAL);
	osip_message_free(m);
}

Test(sipmsg, sdp_answer_follows_offer, .init = sipmsg_init)
{
	sipmsg_sdp_pref p = { .rtp_port = 8000, .mux = true, .dir = SIPMSG_DIR_SENDRECV };
	sipmsg_sdp offer = { .m = {
		[SIPMSG_AUDIO] = { .present = true, .port = 5000, .dir = SIPMSG_DIR_SEND },
		[SIPMSG_VIDEO] = { .present = true, .port = 5002, .dir = SIPMSG_DIR_SENDRECV, .mux = true },
	} }, ans;

	sipmsg_sdp_local(&p, &offer, &ans);
	cr_assert(ans.m[SIPMSG_AUDIO].present);
	cr_assert_eq(ans.m[SIPMSG_AUDIO].port, 8000);
	cr_assert_eq(ans.m[SIPMSG_AUDIO].dir, SIPMSG_DIR_RECV);
	cr_assert_not(ans.m[SIPMSG_AUDIO].mux);
	cr_assert(ans.m[SIPMSG_VIDEO].present);
	cr_assert_eq(ans.m[SIPMSG_VIDEO].port, 0);              /* no video here */
	p.video = true;
	p.dir = SIPMSG_DIR_SEND;
	sipmsg_sdp_local(&p, &offer, &ans);
	cr_assert_eq(ans.m[SIPMSG_VIDEO].port, 8002);
	cr_assert(ans.m[SIPMSG_VIDEO].mux);
	cr_assert_eq(ans.m[SIPMSG_VIDEO].dir, SIPMSG_DIR_SEND);
	cr_assert_eq(ans.m[SIPMSG_AUDIO].dir, 0);               /* sendonly vs sendonly */
}

Test(sipmsg, via_stamp_and_target, .init = sipmsg_init)
{
	osip_message_t *m;
	tv_ep from = th_ep("203.0.113.5:40000"), to, want;
	size_t len;
	char *text = invite_text(&len);
	osip_via_t *v = NULL;

	cr_assert_eq(sipmsg_parse((const uint8_t *)text, len, &m), 0);
	cr_assert_eq(sipmsg_via_target(m, 0, &to), 0);
	want = th_ep(IP_A ":5060");
	cr_assert(tv_ep_eq(&to, &want));
	/* NATed source, no rport: received only, port from sent-by. */
	cr_assert_eq(sipmsg_via_stamp(m, &from), 0);
	cr_assert_eq(sipmsg_via_target(m, 0, &to), 0);
	want = th_ep("203.0.113.5:5060");
	cr_assert(tv_ep_eq(&to, &want));
	osip_message_free(m);
	/* With ;rport the source port comes back too (RFC 3581). */
	cr_assert_eq(sipmsg_parse((const uint8_t *)text, len, &m), 0);
	osip_message_get_via(m, 0, &v);
	osip_via_param_add(v, osip_strdup("rport"), NULL);
	cr_assert_eq(sipmsg_via_stamp(m, &from), 0);
	cr_assert_eq(sipmsg_via_target(m, 0, &to), 0);
	cr_assert(tv_ep_eq(&to, &from));
	cr_assert_eq(sipmsg_via_target(m, 1, &to), TV_ENOENT);
	osip_message_free(m);
	osip_free(text);
}

/* ---- the softswitch on its own ------------------------------------------------------ */

static void probe_sendf(struct probe *p, const char *to, const char *method, const char *ruri,
			const char *via_extra, const char *extra_hdrs, const char *branch)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bK%s%s\r\n"
		 "From: <sip:probe@example.net>;tag=pt\r\n"
		 "To: <%s>\r\n"
		 "Call-ID: %s@" IP_P "\r\n"
		 "CSeq: 1 %s\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri, branch, via_extra, ruri, branch, method, extra_hdrs);
	probe_send(p, to, buf);
}

Test(softswitch, answers_options_to_itself)
{
	struct world w;
	struct probe p;
	osip_message_t *r;

	world_init(&w, NULL, NULL, 0);
	probe_open(&p, w.hp, 5060);
	probe_sendf(&p, IP_SS ":5060", "OPTIONS", "sip:" IP_SS, "", "Max-Forwards: 70\r\n", "o1");
	probe_sendf(&p, IP_SS ":5060", "OPTIONS", "sip:example.net", "", "", "o2");
	run(&w, TV_MS(100));
	cr_assert_eq(p.n, 2);
	r = probe_find(&p, "OPTIONS", 200);
	cr_assert_not_null(r);
	cr_assert_not_null(sipmsg_tag(r->to));
	probe_close(&p);
	world_free(&w);
}

Test(softswitch, registrar_binding_life)
{
	struct world w;
	struct probe p;
	osip_message_t *r;
	osip_contact_t *c = NULL;
	osip_generic_param_t *e = NULL;
	tv_ep got, want = th_ep(IP_P ":5062");

	world_init(&w, NULL, NULL, 0);
	probe_open(&p, w.hp, 5060);
	probe_sendf(&p, IP_SS ":5060", "REGISTER", "sip:example.net", "",
		    "Contact: <sip:carol@" IP_P ":5062>;expires=60\r\n", "r1");
	run(&w, TV_MS(100));
	/* To is sip:example.net here: no user, so 400. */
	cr_assert_not_null(probe_find(&p, "REGISTER", 400));
	probe_send(&p, IP_SS ":5060",
		   "REGISTER sip:example.net SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bKr2\r\n"
		   "From: <sip:carol@example.net>;tag=c1\r\n"
		   "To: <sip:carol@example.net>\r\n"
		   "Call-ID: reg@" IP_P "\r\n"
		   "CSeq: 1 REGISTER\r\n"
		   "Contact: <sip:carol@" IP_P ":5062>\r\n"
		   "Expires: 60\r\n"
		   "Content-Length: 0\r\n\r\n");
	run(&w, TV_MS(100));
	r = probe_find(&p, "REGISTER", 200);
	cr_assert_not_null(r);
	cr_assert_eq(osip_message_get_contact(r, 0, &c), 0);
	cr_assert_eq(osip_contact_param_get_byname(c, "expires", &e), 0);
	cr_assert_str_eq(e->gvalue, "60");
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &got), 0);
	cr_assert(tv_ep_eq(&got, &want));
	probe_send(&p, IP_SS ":5060",
		   "REGISTER sip:example.net SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bKr3\r\n"
		   "From: <sip:carol@example.net>;tag=c1\r\n"
		   "To: <sip:carol@example.net>\r\n"
		   "Call-ID: reg@" IP_P "\r\n"
		   "CSeq: 2 REGISTER\r\n"
		   "Contact: <sip:carol@" IP_P ":5062>\r\n"
		   "Expires: 0\r\n"
		   "Content-Length: 0\r\n\r\n");
	run(&w, TV_MS(100));
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &got), TV_ENOENT);
	cr_assert_eq(softswitch_get_stats(w.ss)->bindings, 0);
	cr_assert_eq(softswitch_get_stats(w.ss)->registers, 3);
	probe_close(&p);
	world_free(&w);
}

Test(softswitch, max_forwards_zero_gets_483)
{
	struct world w;
	sipua_cfg b = ua_cfg("bob");
	struct probe p;

	world_init(&w, NULL, &b, 0);
	cr_assert_eq(sipua_register(w.b), 0);
	run(&w, TV_SEC(1));
	probe_open(&p, w.hp, 5060);
	probe_sendf(&p, IP_SS ":5060", "OPTIONS", "sip:bob@example.net", "", "Max-Forwards: 0\r\n", "m0");
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_find(&p, "OPTIONS", 483));
	cr_assert_eq(st(w.b)->options_rx, 0);
	probe_sendf(&p, IP_SS ":5060", "OPTIONS", "sip:bob@example.net", "", "Max-Forwards: 1\r\n", "m1");
	run(&w, TV_MS(100));
	cr_assert_eq(st(w.b)->options_rx, 1);
	cr_assert_not_null(probe_find(&p, "OPTIONS", 200));
	probe_close(&p);
	world_free(&w);
}

/* Responses come back along the Via path: to rport when asked (RFC 3581),
 * else to sent-by, whatever port the request left from. */
Test(softswitch, routes_responses_by_via)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	struct probe p, q;
	osip_message_t *r;
	osip_via_t *v = NULL;

	world_init(&w, &a, NULL, 0);
	probe_open(&p, w.hp, 5060);
	probe_open(&q, w.hp, 5070);
	/* q sends, claiming sent-by port 5060 */
	probe_sendf(&q, IP_SS ":5060", "OPTIONS", "sip:alice@" IP_A ":5060", ";rport", "", "v1");
	run(&w, TV_MS(100));
	cr_assert_eq(q.n, 1);
	cr_assert_eq(p.n, 0);
	r = q.m[0];
	cr_assert_eq(r->status_code, 200);
	cr_assert_eq(osip_list_size(&r->vias), 1);
	osip_message_get_via(r, 0, &v);
	cr_assert_str_eq(v->host, IP_P);
	probe_sendf(&q, IP_SS ":5060", "OPTIONS", "sip:alice@" IP_A ":5060", "", "", "v2");
	run(&w, TV_MS(100));
	cr_assert_eq(q.n, 1);
	cr_assert_eq(p.n, 1);
	cr_assert_eq(softswitch_get_stats(w.ss)->responses_routed, 2);
	/* A response whose top Via is not the softswitch's is dropped. */
	probe_send(&q, IP_SS ":5060",
		   "SIP/2.0 200 OK\r\n"
		   "Via: SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bKx\r\n"
		   "From: <sip:probe@example.net>;tag=pt\r\n"
		   "To: <sip:alice@example.net>;tag=x\r\n"
		   "Call-ID: x@" IP_P "\r\n"
		   "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: 0\r\n\r\n");
	run(&w, TV_MS(100));
	cr_assert_eq(softswitch_get_stats(w.ss)->responses_routed, 2);
	cr_assert_eq(p.n + q.n, 2);
	probe_close(&p);
	probe_close(&q);
	world_free(&w);
}

/* ---- a scripted peer: re-INVITEs re-target and hold ---------------------------------- */

struct sink {
	tv_udp *u;
	uint64_t n;
};

static void sink_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	(void)s, (void)from, (void)data, (void)len, (void)now;
	((struct sink *)arg)->n++;
}

static void sink_open(struct sink *k, tv_host *h, uint16_t port)
{
	tv_ep l = tv_ep4(0, port);
	int err;

	k->n = 0;
	k->u = host_udp_bind(h, &l, sink_rx, k, &err);
	cr_assert_not_null(k->u);
}

/* The peer's side of the dialog alice opened. */
struct peer {
	struct probe p;
	char call_id[128], alice_tag[64], alice_contact[128];
	unsigned long cseq;
};

static void peer_sdp(osip_message_t *m, uint16_t port, int dir, uint64_t ver)
{
	sipmsg_sdp d = { .m[SIPMSG_AUDIO] = { .present = true, .port = port, .dir = dir } };
	tv_ip pip = th_ip(IP_P);

	cr_assert_eq(sipmsg_sdp_attach(m, "peer", &pip, 42, ver, &d), 0);
}

/* A request from the peer inside the dialog, sent straight to alice. */
static void peer_request(struct peer *pr, const char *method, const char *branch, int port, int dir, int ver)
{
	osip_message_t *m;
	osip_uri_t *u;
	char hdr[256];
	tv_ep to = th_ep(IP_A ":5060");

	cr_assert_eq(osip_message_init(&m), 0);
	osip_message_set_method(m, osip_strdup(method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	osip_uri_init(&u);
	cr_assert_eq(osip_uri_parse(u, pr->alice_contact), 0);
	osip_message_set_uri(m, u);
	snprintf(hdr, sizeof(hdr), "SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bK%s", branch);
	osip_message_set_via(m, hdr);
	osip_message_set_from(m, "<sip:peer@example.net>;tag=ptag");
	snprintf(hdr, sizeof(hdr), "<sip:alice@example.net>;tag=%s", pr->alice_tag);
	osip_message_set_to(m, hdr);
	osip_message_set_call_id(m, pr->call_id);
	if (strcmp(method, "INVITE") == 0)
		pr->cseq++;
	snprintf(hdr, sizeof(hdr), "%lu %s", pr->cseq, method);
	osip_message_set_cseq(m, hdr);
	osip_message_set_contact(m, "<sip:peer@" IP_P ":5060>");
	osip_message_set_max_forwards(m, "70");
	if (port)
		peer_sdp(m, (uint16_t)port, dir, (uint64_t)ver);
	probe_send_msg(&pr->p, &to, m);
	osip_message_free(m);
}

Test(sipua_reinvite, peer_retargets_and_holds)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	struct peer pr = { .cseq = 0 };
	struct sink s1, s2;
	osip_message_t *inv, *r, *ack;
	sipmsg_sdp got;
	tv_ip aip = th_ip(IP_A);
	tv_ep to;
	uint64_t n;

	a.proxy = th_ep(IP_P ":5060");
	world_init(&w, &a, NULL, 0);
	probe_open(&pr.p, w.hp, 5060);
	sink_open(&s1, w.hp, 20000);
	sink_open(&s2, w.hp, 30000);
	cr_assert_eq(sipua_call(w.a, "peer"), 0);
	run(&w, TV_MS(50));
	inv = probe_find(&pr.p, "INVITE", 0);
	cr_assert_not_null(inv);
	cr_assert_eq(sipmsg_sdp_read(inv, &got), 0);
	cr_assert_eq(got.m[SIPMSG_AUDIO].port, 10000);
	cr_assert_eq(got.m[SIPMSG_AUDIO].dir, SIPMSG_DIR_SENDRECV);
	cr_assert(tv_ip_eq(&got.m[SIPMSG_AUDIO].addr, &aip));
	snprintf(pr.call_id, sizeof(pr.call_id), "%s%s%s", inv->call_id->number, inv->call_id->host ? "@" : "",
		 inv->call_id->host ? inv->call_id->host : "");
	snprintf(pr.alice_tag, sizeof(pr.alice_tag), "%s", sipmsg_tag(inv->from));
	cr_assert_eq(sipmsg_contact_uri(inv, pr.alice_contact, sizeof(pr.alice_contact)), 0);
	cr_assert_str_eq(pr.alice_contact, "sip:alice@" IP_A ":5060");

	/* 200 with media at 20000 */
	cr_assert_eq(sipmsg_response(inv, 200, "ptag", &r), 0);
	osip_message_set_contact(r, "<sip:peer@" IP_P ":5060>");
	peer_sdp(r, 20000, SIPMSG_DIR_SENDRECV, 1);
	cr_assert_eq(sipmsg_via_target(inv, 0, &to), 0);
	probe_send_msg(&pr.p, &to, r);
	osip_message_free(r);
	run(&w, TV_MS(50));
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	ack = probe_find(&pr.p, "ACK", 0);
	cr_assert_not_null(ack);
	{
		char ruri[128];
		char *s = NULL;

		osip_uri_to_str(ack->req_uri, &s);
		snprintf(ruri, sizeof(ruri), "%s", s);
		osip_free(s);
		cr_assert_str_eq(ruri, "sip:peer@" IP_P ":5060");
	}
	cr_assert_str_eq(sipmsg_tag(ack->to), "ptag");
	cr_assert_str_eq(ack->cseq->number, "1");
	run(&w, TV_SEC(1));
	cr_assert_geq(s1.n, 49);

	/* re-INVITE: media moves to 30000 */
	peer_request(&pr, "INVITE", "re1", 30000, SIPMSG_DIR_SENDRECV, 2);
	run(&w, TV_MS(50));
	r = probe_find(&pr.p, "INVITE", 200);
	cr_assert_not_null(r);
	cr_assert_eq(sipmsg_sdp_read(r, &got), 0);
	cr_assert_eq(got.m[SIPMSG_AUDIO].dir, SIPMSG_DIR_SENDRECV);
	peer_request(&pr, "ACK", "ack1", 0, 0, 0);
	n = s1.n;
	run(&w, TV_SEC(1));
	cr_assert_leq(s1.n - n, 1);
	cr_assert_geq(s2.n, 49);

	/* re-INVITE sendonly: alice answers recvonly and falls silent */
	peer_request(&pr, "INVITE", "re2", 30000, SIPMSG_DIR_SEND, 3);
	run(&w, TV_MS(50));
	r = probe_find(&pr.p, "INVITE", 200);
	cr_assert_eq(sipmsg_sdp_read(r, &got), 0);
	cr_assert_eq(got.m[SIPMSG_AUDIO].dir, SIPMSG_DIR_RECV);
	cr_assert(st(w.a)->held);
	peer_request(&pr, "ACK", "ack2", 0, 0, 0);
	n = s2.n;
	run(&w, TV_SEC(1));
	cr_assert_eq(s2.n, n);

	/* without the ACK alice resends her 200 */
	peer_request(&pr, "INVITE", "re3", 30000, SIPMSG_DIR_SENDRECV, 4);
	run(&w, TV_MS(100));
	pr.cseq--;                      /* and the peer resends its re-INVITE */
	peer_request(&pr, "INVITE", "re3", 30000, SIPMSG_DIR_SENDRECV, 4);
	run(&w, TV_MS(1900));
	cr_assert_null(probe_find(&pr.p, "INVITE", 491));
	n = 0;
	for (int i = 0; i < pr.p.n; i++)
		n += pr.p.m[i]->status_code == 200 && strcmp(pr.p.m[i]->cseq->number, "3") == 0;
	cr_assert_geq(n, 3);
	cr_assert_not(st(w.a)->held);
	peer_request(&pr, "ACK", "ack3", 0, 0, 0);

	peer_request(&pr, "BYE", "bye1", 0, 0, 0);
	run(&w, TV_MS(50));
	cr_assert_not_null(probe_find(&pr.p, "BYE", 200));
	cr_assert_str_eq(st(w.a)->end_reason, "bye-received");
	host_udp_close(s1.u);
	host_udp_close(s2.u);
	probe_close(&pr.p);
	world_free(&w);
}

/* ---- SIP over TCP: a small registrar on the probe ------------------------------------- */

struct tcpreg {
	tv_tcp *c;
	int accepts, registers, options_ok, invites, acks;
	size_t invite_body;
	char buf[8192];
	size_t len;
};

/* Frame by Content-Length the simple way (independent of sipmsg_stream). */
static void tcpreg_cb(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	struct tcpreg *t = arg;
	char *end, *cl;
	size_t mlen;

	(void)now;
	if (ev == TV_TCP_PEER_CLOSED)
		host_tcp_close(c);
	if (ev != TV_TCP_DATA) {
		if (ev != TV_TCP_CONNECTED && ev != TV_TCP_PEER_CLOSED && c == t->c)
			t->c = NULL;
		return;
	}
	cr_assert_lt(t->len + len, sizeof(t->buf));
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	t->buf[t->len] = '\0';
	while ((end = strstr(t->buf, "\r\n\r\n")) != NULL) {
		osip_message_t *m, *r;
		char *out;
		size_t olen;

		cl = strcasestr(t->buf, "\r\nContent-Length:");
		cr_assert(cl && cl < end);
		mlen = (size_t)(end + 4 - t->buf) + strtoul(cl + 17, NULL, 10);
		if (t->len < mlen)
			return;
		cr_assert_eq(osip_message_init(&m), 0);
		cr_assert_eq(osip_message_parse(m, t->buf, mlen), 0);
		if (MSG_IS_REGISTER(m)) {
			osip_via_t *v = NULL;

			osip_message_get_via(m, 0, &v);
			cr_assert_str_eq(v->protocol, "TCP");
			t->registers++;
			cr_assert_eq(sipmsg_response(m, 200, "reg", &r), 0);
			osip_message_set_contact(r, "<sip:alice@" IP_A ":5060;transport=tcp>;expires=120");
			cr_assert_eq(sipmsg_to_str(r, &out, &olen), 0);
			cr_assert_eq(host_tcp_send(c, out, olen), 0);
			osip_free(out);
			osip_message_free(r);
		} else if (MSG_IS_INVITE(m)) {
			osip_body_t *b = NULL;

			t->invites++;
			osip_message_get_body(m, 0, &b);
			t->invite_body = b ? b->length : 0;
			cr_assert_eq(sipmsg_response(m, 486, "busy", &r), 0);
			cr_assert_eq(sipmsg_to_str(r, &out, &olen), 0);
			cr_assert_eq(host_tcp_send(c, out, olen), 0);
			osip_free(out);
			osip_message_free(r);
		} else if (MSG_IS_ACK(m)) {
			t->acks++;
		} else if (MSG_IS_RESPONSE(m) && m->status_code == 200 && strcmp(m->cseq->method, "OPTIONS") == 0) {
			t->options_ok++;
		}
		osip_message_free(m);
		memmove(t->buf, t->buf + mlen, t->len - mlen + 1);
		t->len -= mlen;
	}
}

static void tcpreg_accept(void *arg, tv_tcp *c, tv_time now)
{
	struct tcpreg *t = arg;
	tv_ep want = th_ep(IP_A ":5060"), from = host_tcp_remote(c);

	(void)now;
	if (t->accepts == 0)
		cr_assert(tv_ep_eq(&from, &want), "the phone connects from its SIP port");
	t->accepts++;
	t->c = c;
	host_tcp_set_cb(c, tcpreg_cb, t);
}

Test(sipua_tcp, registers_and_answers_on_its_connection)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	struct tcpreg t = { .accepts = 0 };
	tv_tcp_listener *l;
	int err;
	const char *opt1 = "\r\n\r\nOPTIONS sip:alice@" IP_A ":5060;transport=tcp SIP/2.0\r\n"
			   "Via: SIP/2.0/TCP " IP_P ":5060;branch=z9hG4bKt1\r\n"
			   "From: <sip:probe@example.net>;tag=t1\r\n",
		   *opt2 = "To: <sip:alice@example.net>\r\n"
			   "Call-ID: t1@" IP_P "\r\n"
			   "CSeq: 7 OPTIONS\r\n"
			   "Content-Length: 4\r\n\r\nabcd",
		   *bad = "OPTIONS x SIP/2.0\r\nl: many\r\n\r\n";

	a.tcp = true;
	a.reg_expires = TV_SEC(120);
	a.proxy = th_ep(IP_P ":5060");
	world_init(&w, &a, NULL, 0);
	l = host_tcp_listen(w.hp, 5060, tcpreg_accept, &t, &err);
	cr_assert_not_null(l);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert(st(w.a)->registered);
	cr_assert_eq(t.registers, 1);
	/* A keepalive and an OPTIONS cut in two: answered on the connection. */
	cr_assert_eq(host_tcp_send(t.c, opt1, strlen(opt1)), 0);
	run(&w, TV_MS(50));
	cr_assert_eq(host_tcp_send(t.c, opt2, strlen(opt2)), 0);
	run(&w, TV_MS(100));
	cr_assert_eq(st(w.a)->keepalive_rx, 1);
	cr_assert_eq(st(w.a)->options_answered, 1);
	cr_assert_eq(t.options_ok, 1);
	/* An INVITE with its SDP, a 486, the ACK: all on the connection. */
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_MS(100));
	cr_assert_eq(t.invites, 1);
	cr_assert_gt(t.invite_body, 100);
	cr_assert_eq(t.acks, 1);
	cr_assert_eq(st(w.a)->last_code, 486);
	/* Refresh at 60 s on the same connection. */
	run(&w, TV_SEC(61));
	cr_assert_eq(t.registers, 2);
	cr_assert_eq(t.accepts, 1);
	/* The registrar closes; the next refresh opens a new connection. */
	host_tcp_close(t.c);
	run(&w, TV_SEC(61));
	cr_assert_eq(t.registers, 3);
	cr_assert_eq(t.accepts, 2);
	cr_assert(st(w.a)->registered);
	/* Unframeable bytes: the phone drops the connection (and sits in
	 * TIME_WAIT on its SIP port), so the next one leaves from another. */
	cr_assert_eq(host_tcp_send(t.c, bad, strlen(bad)), 0);
	run(&w, TV_MS(50));
	cr_assert_eq(st(w.a)->rx_bad, 1);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_MS(100));
	cr_assert_eq(t.registers, 4);
	cr_assert_eq(t.accepts, 3);
	cr_assert_neq(host_tcp_remote(t.c).port, 5060);
	if (t.c)
		host_tcp_abort(t.c);
	host_tcp_unlisten(l);
	world_free(&w);
}

/* ---- session timers (RFC 4028) ---------------------------------------------------------- */

/* The first datagram's bytes, as sent. */
struct capture {
	char text[4096];
	size_t len;
};

static void capture_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	struct capture *c = arg;

	(void)s, (void)from, (void)now;
	if (c->len || len >= sizeof(c->text))
		return;
	memcpy(c->text, data, len);
	c->text[len] = '\0';
	c->len = len;
}

/* The INVITE alice sends to the probe (playing her proxy), as text. */
static char *first_invite_text(const sipua_cfg *a)
{
	struct world w;
	sipua_cfg c = *a;
	struct capture cap = { .len = 0 };
	tv_ep l = tv_ep4(0, 5060);
	tv_udp *u;
	int err;
	char *t;

	c.proxy = th_ep(IP_P ":5060");
	world_init(&w, &c, NULL, 0);
	u = host_udp_bind(w.hp, &l, capture_rx, &cap, &err);
	cr_assert_not_null(u);
	cr_assert_eq(sipua_call(w.a, "peer"), 0);
	run(&w, TV_MS(50));
	cr_assert(cap.len > 0 && strncmp(cap.text, "INVITE ", 7) == 0);
	t = strdup(cap.text);
	host_udp_close(u);
	world_free(&w);
	return t;
}

Test(sipua_timer, invite_headers_only_when_configured)
{
	sipua_cfg a = ua_cfg("alice");
	char *t;

	t = first_invite_text(&a);
	cr_assert_null(strcasestr(t, "Session-Expires"), "%s", t);
	cr_assert_null(strcasestr(t, "\r\nx:"), "%s", t);
	cr_assert_null(strcasestr(t, "timer"), "%s", t);
	free(t);
	a.session_expires = TV_SEC(90);
	t = first_invite_text(&a);
	cr_assert_not_null(strstr(t, "\r\nSession-Expires: 90;refresher=uac\r\n"), "%s", t);
	cr_assert_not_null(strstr(t, "\r\nSupported: timer\r\n"), "%s", t);
	free(t);
}

Test(sipmsg, session_expires_parses, .init = sipmsg_init)
{
	static const struct {
		const char *hdr;
		int rc;
		unsigned long secs;
		enum sipmsg_refresher r;
	} cases[] = {
		{ "Session-Expires: 90;refresher=uac", 0, 90, SIPMSG_REFRESHER_UAC },
		{ "session-expires: 1800 ; Refresher = UAS ; x=y", 0, 1800, SIPMSG_REFRESHER_UAS },
		{ "x: 120", 0, 120, SIPMSG_REFRESHER_NONE },
		{ "Session-Expires: 90;refresher=uax", 0, 90, SIPMSG_REFRESHER_NONE },
		{ "Session-Expires: 0", TV_EINVAL, 0, 0 },
		{ "Session-Expires: soon", TV_EINVAL, 0, 0 },
		{ "Subject: none", TV_ENOENT, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		osip_message_t *m;
		unsigned long secs = 0;
		enum sipmsg_refresher r = SIPMSG_REFRESHER_NONE;

		snprintf(text, sizeof(text),
			 "INVITE sip:bob@example.net SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP " IP_A ":5060;branch=z9hG4bKse\r\n"
			 "From: <sip:alice@example.net>;tag=a\r\nTo: <sip:bob@example.net>\r\n"
			 "Call-ID: se@" IP_A "\r\nCSeq: 1 INVITE\r\n%s\r\n"
			 "Supported: 100rel, Timer\r\nk: path\r\nContent-Length: 0\r\n\r\n", cases[i].hdr);
		cr_assert_eq(sipmsg_parse((const uint8_t *)text, strlen(text), &m), 0);
		cr_assert_eq(sipmsg_session_expires(m, 86400, &secs, &r), cases[i].rc, "%s", cases[i].hdr);
		if (cases[i].rc == 0) {
			cr_assert_eq(secs, cases[i].secs, "%s", cases[i].hdr);
			cr_assert_eq(r, cases[i].r, "%s", cases[i].hdr);
		}
		cr_assert(sipmsg_has_option(m, "supported", "k", "timer"));
		cr_assert(sipmsg_has_option(m, "supported", "k", "path"));
		cr_assert_not(sipmsg_has_option(m, "supported", NULL, "path"));
		cr_assert_not(sipmsg_has_option(m, "supported", "k", "time"));
		cr_assert_not(sipmsg_has_option(m, "require", NULL, "timer"));
		osip_message_free(m);
	}
}

/* 10 minutes with a 90 s session: alice refreshes every 45 s, bob answers,
 * and the media never notices. */
Test(sipua_timer, refreshes_keep_a_long_call_up)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");

	a.session_expires = TV_SEC(90);
	b.rtp_port = 20000;
	world_init(&w, &a, &b, 0);
	call_up(&w);
	run(&w, TV_SEC(1));
	expect_rtp(&w, w.a, 0, TV_SEC(600), IP_B ":20000");
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	cr_assert_eq(st(w.b)->state, SIPUA_ESTABLISHED);
	cr_assert_geq(st(w.a)->session_refreshes, 12, "%llu", (unsigned long long)st(w.a)->session_refreshes);
	cr_assert_geq(st(w.b)->session_refreshes, 12, "%llu", (unsigned long long)st(w.b)->session_refreshes);
	cr_assert_eq(st(w.a)->session_refreshes, st(w.b)->session_refreshes);
	cr_assert_not(st(w.a)->held);
	cr_assert_not(st(w.b)->held);
	expect_rtp(&w, w.b, 0, TV_SEC(5), IP_A ":10000");
	cr_assert_eq(sipua_hangup(w.a), 0);
	run(&w, TV_MS(500));
	cr_assert_str_eq(st(w.a)->end_reason, "bye-sent");
	cr_assert_str_eq(st(w.b)->end_reason, "bye-received");
	world_free(&w);
}

/* A refresh offers the SDP in effect: the holder stays sendonly. */
Test(sipua_timer, refresh_keeps_hold)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");
	uint64_t na, nb;

	a.session_expires = TV_SEC(90);
	world_init(&w, &a, &b, 0);
	call_up(&w);
	cr_assert_eq(sipua_hold(w.a, true), 0);
	run(&w, TV_MS(200));
	cr_assert(st(w.b)->held);
	na = rtp_rx(w.a, 0);
	nb = rtp_rx(w.b, 0);
	run(&w, TV_SEC(100));
	cr_assert_eq(st(w.a)->session_refreshes, 2);
	cr_assert_eq(st(w.b)->session_refreshes, 2);
	cr_assert(st(w.a)->held);
	cr_assert(st(w.b)->held);
	cr_assert_eq(rtp_rx(w.a, 0), na);
	cr_assert_eq(rtp_rx(w.b, 0), nb);
	cr_assert_eq(sipua_hold(w.a, false), 0);
	run(&w, TV_MS(200));
	cr_assert_not(st(w.b)->held);
	expect_rtp(&w, w.b, 0, TV_SEC(2), IP_A ":10000");
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	world_free(&w);
}

/* The network dies: alice's refresh gets nothing and she ends the call
 * when it times out, bob when his session expires; both within the
 * interval after the last refresh that got through. */
Test(sipua_timer, dead_link_expires_the_session)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice"), b = ua_cfg("bob");
	sim_link_cfg dead = { .delay = TV_MS(5), .loss = 1.0 };
	uint64_t nref = 0;
	tv_time last = 0, end_a = 0, end_b = 0, t;

	a.session_expires = TV_SEC(90);
	world_init(&w, &a, &b, 0);
	call_up(&w);
	for (int i = 0; i < 1000; i++) {       /* 100 s in 100 ms steps */
		run(&w, TV_MS(100));
		if (st(w.b)->session_refreshes != nref) {
			nref = st(w.b)->session_refreshes;
			last = sim_net_now(w.net);
		}
	}
	cr_assert_eq(nref, 2);
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	sim_link_set_cfg(w.lan, &dead);
	for (int i = 0; i < 2000 && !(end_a && end_b); i++) {
		run(&w, TV_MS(100));
		t = sim_net_now(w.net);
		if (!end_a && st(w.a)->state == SIPUA_ENDED)
			end_a = t;
		if (!end_b && st(w.b)->state == SIPUA_ENDED)
			end_b = t;
	}
	cr_assert(end_a && end_b);
	cr_assert_str_eq(st(w.a)->end_reason, "session-expired");
	cr_assert_str_eq(st(w.b)->end_reason, "session-expired");
	cr_assert_eq(st(w.b)->session_refreshes, 2);
	/* alice: refresh at +45 s, its transaction times out 32 s later. */
	cr_assert(end_a - last > TV_SEC(45) && end_a - last <= TV_SEC(90), "alice after %lld ms",
		  (long long)((end_a - last) / 1000));
	cr_assert(end_b - last > TV_SEC(85) && end_b - last <= TV_SEC(90), "bob after %lld ms",
		  (long long)((end_b - last) / 1000));
	world_free(&w);
}

/* The probe calls bob straight, asking for a session timer. */
static void probe_invite_bob(struct probe *p, const char *se, bool supported)
{
	sipmsg_req r = {
		.method = "INVITE", .ruri = "sip:bob@" IP_B ":5060",
		.via = "SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bKpse1", .call_id = "pse1@" IP_P,
		.from_uri = "sip:peer@example.net", .from_tag = "ptag", .to_uri = "sip:bob@example.net",
		.cseq = 1, .contact = "sip:peer@" IP_P ":5060", .allow = "INVITE, ACK, BYE",
	};
	osip_message_t *m;
	tv_ep to = th_ep(IP_B ":5060");

	cr_assert_eq(sipmsg_request(&r, &m), 0);
	if (supported)
		osip_message_set_header(m, "Supported", "timer");
	osip_message_set_header(m, "Session-Expires", se);
	peer_sdp(m, 20000, SIPMSG_DIR_SENDRECV, 1);
	probe_send_msg(p, &to, m);
	osip_message_free(m);
}

static void probe_ack_bob(struct probe *p, const osip_message_t *ok)
{
	sipmsg_req r = {
		.method = "ACK", .ruri = "sip:bob@" IP_B ":5060",
		.via = "SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bKpse2", .call_id = "pse1@" IP_P,
		.from_uri = "sip:peer@example.net", .from_tag = "ptag", .to_uri = "sip:bob@example.net",
		.to_tag = sipmsg_tag(ok->to), .cseq = 1,
	};
	osip_message_t *m;
	tv_ep to = th_ep(IP_B ":5060");

	cr_assert_eq(sipmsg_request(&r, &m), 0);
	probe_send_msg(p, &to, m);
	osip_message_free(m);
}

/* bob has a smaller interval of his own but echoes the caller's; nobody
 * refreshes, so he ends the call when the session expires. */
Test(sipua_timer, callee_echoes_and_expires)
{
	struct world w;
	sipua_cfg b = ua_cfg("bob");
	struct probe p;
	osip_message_t *ok, *bye;
	unsigned long secs;
	enum sipmsg_refresher r;

	b.session_expires = TV_SEC(60);
	world_init(&w, NULL, &b, 0);
	probe_open(&p, w.hp, 5060);
	probe_invite_bob(&p, "120;refresher=uac", true);
	run(&w, TV_MS(1100));
	ok = probe_find(&p, "INVITE", 200);
	cr_assert_not_null(ok);
	cr_assert_eq(sipmsg_session_expires(ok, 86400, &secs, &r), 0);
	cr_assert_eq(secs, 120);
	cr_assert_eq(r, SIPMSG_REFRESHER_UAC);
	cr_assert(sipmsg_has_option(ok, "require", NULL, "timer"));
	probe_ack_bob(&p, ok);
	run(&w, TV_SEC(118));
	cr_assert_eq(st(w.b)->state, SIPUA_ESTABLISHED);
	cr_assert_null(probe_find(&p, "INVITE", 0), "bob is not the refresher");
	run(&w, TV_SEC(2));
	cr_assert_eq(st(w.b)->state, SIPUA_ENDED);
	cr_assert_str_eq(st(w.b)->end_reason, "session-expired");
	bye = probe_find(&p, "BYE", 0);
	cr_assert_not_null(bye);
	cr_assert_str_eq(bye->call_id->number, "pse1");
	cr_assert_eq(st(w.b)->session_refreshes, 0);
	probe_close(&p);
	world_free(&w);
}

/* A caller without "Supported: timer" cannot refresh (RFC 4028 9): bob
 * answers refresher=uas without Require, and refreshes himself; when the
 * refresh gets no answer he ends the call. */
Test(sipua_timer, callee_refreshes_for_a_caller_without_support)
{
	struct world w;
	sipua_cfg b = ua_cfg("bob");
	struct probe p;
	osip_message_t *ok, *re;
	unsigned long secs;
	enum sipmsg_refresher r;
	sipmsg_sdp got;

	world_init(&w, NULL, &b, 0);
	probe_open(&p, w.hp, 5060);
	probe_invite_bob(&p, "100", false);
	run(&w, TV_MS(1100));
	ok = probe_find(&p, "INVITE", 200);
	cr_assert_not_null(ok);
	cr_assert_eq(sipmsg_session_expires(ok, 86400, &secs, &r), 0);
	cr_assert_eq(secs, 100);
	cr_assert_eq(r, SIPMSG_REFRESHER_UAS);
	cr_assert_not(sipmsg_has_option(ok, "require", NULL, "timer"));
	probe_ack_bob(&p, ok);
	run(&w, TV_SEC(51));
	re = probe_find(&p, "INVITE", 0);
	cr_assert_not_null(re);
	cr_assert_eq(st(w.b)->session_refreshes, 1);
	cr_assert_eq(sipmsg_session_expires(re, 86400, &secs, &r), 0);
	cr_assert_eq(secs, 100);
	cr_assert_eq(r, SIPMSG_REFRESHER_UAC);
	cr_assert(sipmsg_has_option(re, "supported", "k", "timer"));
	cr_assert_str_eq(sipmsg_tag(re->from), sipmsg_tag(ok->to));
	cr_assert_eq(sipmsg_sdp_read(re, &got), 0);
	cr_assert_eq(got.m[SIPMSG_AUDIO].dir, SIPMSG_DIR_SENDRECV);
	run(&w, TV_SEC(33));
	cr_assert_eq(st(w.b)->state, SIPUA_ENDED);
	cr_assert_str_eq(st(w.b)->end_reason, "session-expired");
	cr_assert_not_null(probe_find(&p, "BYE", 0));
	probe_close(&p);
	world_free(&w);
}

/* ---- route set (RFC 3261 12.1) ------------------------------------------------ */

static void routes_are(osip_message_t *m, const char *first, const char *second)
{
	osip_route_t *r = NULL;
	char *s = NULL;

	cr_assert_eq(osip_list_size(&m->routes), 2, "%s with two Route headers", m->sip_method);
	cr_assert_eq(osip_message_get_route(m, 0, &r), 0);
	cr_assert_eq(osip_route_to_str(r, &s), 0);
	cr_assert_str_eq(s, first);
	osip_free(s);
	cr_assert_eq(osip_message_get_route(m, 1, &r), 1);
	cr_assert_eq(osip_route_to_str(r, &s), 0);
	cr_assert_str_eq(s, second);
	osip_free(s);
}

/* The caller takes the route set from the 2xx's Record-Route, reversed, and
 * puts it on every request of the dialog (its ACK, its BYE), whose
 * Request-URI stays the callee's Contact: what a record-routing SBC needs
 * to stay on the path. */
Test(sipua_call, caller_keeps_the_route_set_of_the_2xx)
{
	struct world w;
	struct probe p;
	sipua_cfg a = ua_cfg("alice");
	osip_message_t *inv, *r, *ack, *bye;
	tv_ep to = th_ep(IP_A ":5060");

	a.proxy = th_ep(IP_P ":5060");
	world_init(&w, &a, NULL, 0);
	probe_open(&p, w.hp, 5060);
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_MS(100));
	inv = probe_find(&p, "INVITE", 0);
	cr_assert_not_null(inv);
	cr_assert_eq(osip_list_size(&inv->routes), 0, "no route set before the dialog");
	cr_assert_eq(sipmsg_response(inv, 200, "bobtag", &r), 0);
	osip_message_set_record_route(r, "<sip:10.0.0.98;lr>");     /* nearest the callee */
	osip_message_set_record_route(r, "<sip:" IP_P ";lr;ftag=x>");
	osip_message_set_contact(r, "<sip:bob@" IP_B ":5062>");
	probe_send_msg(&p, &to, r);
	osip_message_free(r);
	run(&w, TV_MS(100));
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	ack = probe_find(&p, "ACK", 0);
	cr_assert_not_null(ack);
	cr_assert_str_eq(ack->req_uri->host, IP_B);
	routes_are(ack, "<sip:" IP_P ";lr;ftag=x>", "<sip:10.0.0.98;lr>");
	cr_assert_eq(sipua_hangup(w.a), 0);
	run(&w, TV_MS(100));
	bye = probe_find(&p, "BYE", 0);
	cr_assert_not_null(bye);
	cr_assert_str_eq(bye->req_uri->port, "5062");
	routes_are(bye, "<sip:" IP_P ";lr;ftag=x>", "<sip:10.0.0.98;lr>");
	probe_close(&p);
	world_free(&w);
}

/* A UAS copies the request's Record-Route into responses that can make a
 * dialog (101-299), and only those. */
Test(sipua_call, responses_copy_the_record_route)
{
	static const char inv[] =
		"INVITE sip:alice@" IP_A " SIP/2.0\r\n"
		"Via: SIP/2.0/UDP " IP_P ";branch=z9hG4bKrr1\r\n"
		"Record-Route: <sip:" IP_P ";lr>\r\n"
		"Record-Route: <sip:10.0.0.98;lr>\r\n"
		"From: <sip:bob@example.net>;tag=b\r\nTo: <sip:alice@example.net>\r\n"
		"Call-ID: rr1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	osip_message_t *m, *r;

	sipmsg_init();
	cr_assert_eq(sipmsg_parse((const uint8_t *)inv, sizeof(inv) - 1, &m), 0);
	cr_assert_eq(sipmsg_response(m, 180, "t", &r), 0);
	cr_assert_eq(osip_list_size(&r->record_routes), 2);
	osip_message_free(r);
	cr_assert_eq(sipmsg_response(m, 200, "t", &r), 0);
	cr_assert_eq(osip_list_size(&r->record_routes), 2);
	osip_message_free(r);
	cr_assert_eq(sipmsg_response(m, 100, NULL, &r), 0);
	cr_assert_eq(osip_list_size(&r->record_routes), 0);
	osip_message_free(r);
	cr_assert_eq(sipmsg_response(m, 486, "t", &r), 0);
	cr_assert_eq(osip_list_size(&r->record_routes), 0);
	osip_message_free(r);
	osip_message_free(m);
}

/* Switched off: a REGISTER with Expires: 0 removes the binding, and no
 * refresh follows. */
Test(sipua_reg, unregister_removes_the_binding_and_stops_refreshing)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice");
	tv_ep c;

	a.reg_expires = TV_SEC(60);
	world_init(&w, &a, NULL, 0);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(softswitch_lookup(w.ss, "alice", &c), 0);
	cr_assert_eq(sipua_unregister(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(softswitch_lookup(w.ss, "alice", &c), TV_ENOENT);
	cr_assert_not(st(w.a)->registered);
	run(&w, TV_SEC(100));
	cr_assert_eq(softswitch_get_stats(w.ss)->registers, 2, "no refresh after the unregister");
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(softswitch_lookup(w.ss, "alice", &c), 0, "registering again asks for the full expiry");
	world_free(&w);
}
