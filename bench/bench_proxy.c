/* bench_proxy.c - the proxy engine alone, fed canned traffic by raw hosts:
 *
 *   proxy-calls  call set-ups per second through the proxy: REGISTER once,
 *                then per call INVITE (SDP) / 100 / 180 / 200 (SDP) / ACK /
 *                BYE / 200, written by a raw "phone" on the access link and
 *                a raw "softswitch" on the core link (no SIP stacks, no
 *                NAT: what is measured is the proxy plus the simulated
 *                links)
 *   proxy-relay  RTP packets per second relayed by the proxy, one stream
 *                each way on 100 calls, from raw senders
 *   proxy-worst  the costliest messages an attacker can send: 60 KB UDP
 *                INVITEs of one repeated compact header (Via, Contact,
 *                Call-ID) and a bad SDP (refused: too many header items),
 *                and one just under that limit (240 Vias: parsed, answered
 *                400); messages per second and microseconds each
 * Prints numbers; asserts nothing; loops are bounded in count. */
#include "bench.h"
#include "host.h"
#include "proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct rig {
	sim_net *net;
	tv_host *pxh, *ph, *ssh;
	tv_udp *phs, *sss;
	proxy *px;
	uint64_t ph_rx, ss_rx;
	char last_ss[2048];
	size_t last_ss_len;
} rig;

static void ph_rx(void *arg, tv_udp *s, const tv_ep *f, const uint8_t *d, size_t len, tv_time now)
{
	rig *r = arg;

	(void)s; (void)f; (void)d; (void)len; (void)now;
	r->ph_rx++;
}

static void ss_rx(void *arg, tv_udp *s, const tv_ep *f, const uint8_t *d, size_t len, tv_time now)
{
	rig *r = arg;

	(void)s; (void)f; (void)now;
	r->ss_rx++;
	if (len < sizeof(r->last_ss)) {
		memcpy(r->last_ss, d, len);
		r->last_ss_len = len;
	}
}

static void rig_new(rig *r)
{
	sim_link_cfg d = { .delay = TV_US(100) };
	sim_link *inet, *core;
	proxy_cfg pc;
	tv_ip ip;
	tv_ep ep;
	int e;

	memset(r, 0, sizeof(*r));
	r->net = sim_net_new(1);
	inet = sim_link_new(r->net, "internet", &d);
	core = sim_link_new(r->net, "core", &d);
	proxy_cfg_default(&pc);
	pc.port_quarantine = 0; /* calls follow each other in virtual ms: measure the engine, not the pool's size */
	pc.rate = 0;            /* one load generator stands for many terminals: no per-source limits */
	pc.max_legs = 0;
	pc.max_untrusted = 0;
	pc.max_untrusted_per_ip = 0;    /* ... all behind one NAT */
	pc.random_ports = false;        /* the load generator names the ports */
	pc.access_ip = tv_ip4(0xc633640a);
	pc.core_ip = tv_ip4(0x0a000001);
	pc.softswitch = tv_ep4(0x0a000064, 5060);
	pc.keepalive = PX_KA_OFF;
	r->pxh = simhost_new(r->net, inet, "px", &pc.access_ip);
	simhost_add_iface(r->pxh, core, &pc.core_ip);
	r->px = proxy_new(r->pxh, &pc, &e);
	ip = tv_ip4(0xcb00710a);
	r->ph = simhost_new(r->net, inet, "phone", &ip);
	ep = tv_ep4(0, 5060);
	r->phs = host_udp_bind(r->ph, &ep, ph_rx, r, &e);
	ip = tv_ip4(0x0a000064);
	r->ssh = simhost_new(r->net, core, "ss", &ip);
	r->sss = host_udp_bind(r->ssh, &ep, ss_rx, r, &e);
}

static void rig_free(rig *r)
{
	proxy_free(r->px);
	host_udp_close(r->phs);
	host_udp_close(r->sss);
	host_free(r->pxh);
	host_free(r->ph);
	host_free(r->ssh);
	sim_net_free(r->net);
}

static void to_px(rig *r, const char *m)
{
	tv_ep to = tv_ep4(0xc633640a, 5060);

	host_udp_send(r->phs, &to, m, strlen(m));
}

static void to_core(rig *r, const char *m)
{
	tv_ep to = tv_ep4(0x0a000001, 5100);

	host_udp_send(r->sss, &to, m, strlen(m));
}

static const char sdp[] = "v=0\r\no=a 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n"
			  "m=audio 10000 RTP/AVP 0\r\na=sendrecv\r\n";
static const char sdp_core[] = "v=0\r\no=b 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n"
			       "m=audio 30000 RTP/AVP 0\r\na=sendrecv\r\n";

/* INVITE with SDP from the phone, then (100, 180 if ringing) 200 with SDP
 * from the core; returns once the proxy has handled them. */
static void call_setup(rig *r, unsigned n, bool ringing)
{
	char m[2048];
	char hdr[512];

	snprintf(hdr, sizeof(hdr),
		 "From: <sip:alice@example.net>;tag=a%u\r\nTo: <sip:bob@example.net>\r\n"
		 "Call-ID: c%u@192.168.1.10\r\n", n, n);
	snprintf(m, sizeof(m), "INVITE sip:bob@example.net SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKi%u\r\nMax-Forwards: 70\r\n%s"
		 "CSeq: 1 INVITE\r\nContact: <sip:alice@192.168.1.10:5060>\r\nContent-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", n, hdr, strlen(sdp), sdp);
	to_px(r, m);
	snprintf(hdr, sizeof(hdr),
		 "From: <sip:alice@example.net>;tag=a%u\r\nTo: <sip:bob@example.net>;tag=b%u\r\n"
		 "Call-ID: c%u@10.0.0.1\r\n", n, n, n);
	if (ringing) {
		snprintf(m, sizeof(m), "SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKi%u\r\n%s"
			 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", n, hdr);
		to_core(r, m);
		snprintf(m, sizeof(m), "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKi%u\r\n%s"
			 "CSeq: 1 INVITE\r\nContact: <sip:bob@10.0.0.1:5101>\r\nContent-Length: 0\r\n\r\n", n, hdr);
		to_core(r, m);
	}
	snprintf(m, sizeof(m), "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKi%u\r\n%s"
		 "CSeq: 1 INVITE\r\nContact: <sip:bob@10.0.0.1:5101>\r\nContent-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", n, hdr, strlen(sdp_core), sdp_core);
	to_core(r, m);
	sim_net_run_until(r->net, sim_net_now(r->net) + TV_MS(1));
}

/* ACK, BYE from the phone, 200 from the core. */
static void call_end(rig *r, unsigned n)
{
	char m[2048];
	char hdr[512];

	snprintf(hdr, sizeof(hdr),
		 "From: <sip:alice@example.net>;tag=a%u\r\nTo: <sip:bob@example.net>;tag=b%u\r\n"
		 "Call-ID: c%u@192.168.1.10\r\n", n, n, n);
	snprintf(m, sizeof(m), "ACK sip:bob@198.51.100.10:5060 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKa%u\r\nMax-Forwards: 70\r\n%s"
		 "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n", n, hdr);
	to_px(r, m);
	snprintf(m, sizeof(m), "BYE sip:bob@198.51.100.10:5060 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKb%u\r\nMax-Forwards: 70\r\n%s"
		 "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n", n, hdr);
	to_px(r, m);
	snprintf(hdr, sizeof(hdr),
		 "From: <sip:alice@example.net>;tag=a%u\r\nTo: <sip:bob@example.net>;tag=b%u\r\n"
		 "Call-ID: c%u@10.0.0.1\r\n", n, n, n);
	snprintf(m, sizeof(m), "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKb%u\r\n%s"
		 "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n", n, hdr);
	to_core(r, m);
	sim_net_run_until(r->net, sim_net_now(r->net) + TV_MS(1));
}

/* One call through the proxy; returns after the last message was handled. */
static void one_call(rig *r, unsigned n)
{
	call_setup(r, n, true);
	call_end(r, n);
}

void bench_proxy_calls(void)
{
	enum { CALLS = 50000 };
	rig r;
	double t0, t1;
	const proxy_stats *st;

	rig_new(&r);
	to_px(&r, "REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKr\r\n"
		  "Max-Forwards: 70\r\nFrom: <sip:alice@example.net>;tag=r\r\nTo: <sip:alice@example.net>\r\n"
		  "Call-ID: r@192.168.1.10\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@192.168.1.10:5060>\r\n"
		  "Content-Length: 0\r\n\r\n");
	sim_net_run_until(r.net, TV_MS(10));
	t0 = bench_wall();
	for (unsigned i = 0; i < CALLS; i++)
		one_call(&r, i);
	t1 = bench_wall();
	st = proxy_get_stats(r.px);
	printf("proxy-calls: %.0f call set-ups/s through the proxy alone (%d calls, INVITE/100/180/200/ACK/BYE/200 "
	       "with SDP, %llu + %llu messages in, %.2f wall s; legs left %u, calls ended %llu)\n",
	       CALLS / (t1 - t0), CALLS, (unsigned long long)st->sip_in_access, (unsigned long long)st->sip_in_core,
	       t1 - t0, st->legs, (unsigned long long)st->calls_ended);
	rig_free(&r);
}

static void bench_proxy_relay(void)
{
	enum { CALLS = 100, ROUNDS = 20000 };
	rig r;
	tv_udp *src[CALLS], *csrc[CALLS];
	uint8_t rtp[172] = { 0x80, 0x00 };
	double t0, t1;
	const proxy_stats *st;
	uint64_t before;
	int e;

	rig_new(&r);
	/* 100 calls set up by hand; each call's access pair is 20000 + 2i and
	 * its core pair the same number on the core address. */
	for (unsigned i = 0; i < CALLS; i++) {
		call_setup(&r, i, false);
		{
			tv_ep l = tv_ep4(0, (uint16_t)(40000 + i));
			src[i] = host_udp_bind(r.ph, &l, ph_rx, &r, &e);
			l = tv_ep4(0, (uint16_t)(30000 + i));
			csrc[i] = host_udp_bind(r.ssh, &l, ss_rx, &r, &e);
		}
	}
	/* the core peer (10.0.0.9) does not exist: core-side sends from the
	 * softswitch host stand in for it, so give that host the address */
	{
		tv_ip peer = tv_ip4(0x0a000009);
		simhost_add_ip(r.ssh, &peer);
	}
	st = proxy_get_stats(r.px);
	before = st->relayed_to_core + st->relayed_to_access;
	t0 = bench_wall();
	for (unsigned k = 0; k < ROUNDS; k++) {
		for (unsigned i = 0; i < CALLS; i++) {
			tv_ep a = tv_ep4(0xc633640a, (uint16_t)(20000 + 2 * i));
			tv_ep c = tv_ep4(0x0a000001, (uint16_t)(20000 + 2 * i));
			tv_ip peer = tv_ip4(0x0a000009);
			/* a real stream's header: sequence +1, timestamp +160
			 * (20 ms at 8 kHz), one SSRC per call and direction */
			rtp[2] = (uint8_t)(k >> 8);
			rtp[3] = (uint8_t)k;
			rtp[4] = (uint8_t)(k * 160 >> 24);
			rtp[5] = (uint8_t)(k * 160 >> 16);
			rtp[6] = (uint8_t)(k * 160 >> 8);
			rtp[7] = (uint8_t)(k * 160);
			rtp[10] = (uint8_t)(i >> 8);
			rtp[11] = (uint8_t)i;
			host_udp_send(src[i], &a, rtp, sizeof(rtp));
			host_udp_send_from(csrc[i], &peer, &c, rtp, sizeof(rtp));
		}
		sim_net_run_until(r.net, sim_net_now(r.net) + TV_MS(20));
	}
	t1 = bench_wall();
	printf("proxy-relay: %.2f M relayed packets/s through the proxy alone (%llu packets of 172 bytes RTP, %d calls, "
	       "both directions, %.2f wall s including the senders and links)\n",
	       (double)(st->relayed_to_core + st->relayed_to_access - before) / (t1 - t0) / 1e6,
	       (unsigned long long)(st->relayed_to_core + st->relayed_to_access - before), CALLS, t1 - t0);
	for (unsigned i = 0; i < CALLS; i++) {
		host_udp_close(src[i]);
		host_udp_close(csrc[i]);
	}
	rig_free(&r);
}

/* 60 KB: the start line, N copies of one header line, the rest, a bad SDP. */
static char *worst_msg(const char *line, size_t maxlines, size_t *len)
{
	static const char tail[] = "f: <sip:alice@example.net>;tag=w\r\nt: <sip:bob@example.net>\r\ni: w@x\r\n"
				   "CSeq: 1 INVITE\r\nc: application/sdp\r\nl: 36\r\n\r\n"
				   "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x\r\n\r\n";
	size_t cap = 60000, n = 0, ll = strlen(line);
	char *m = malloc(cap + 1);

	n += (size_t)sprintf(m, "INVITE sip:bob@example.net SIP/2.0\r\nv: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKw\r\n");
	for (size_t k = 0; k < maxlines && n + ll + sizeof(tail) < cap; k++) {
		memcpy(m + n, line, ll);
		n += ll;
	}
	memcpy(m + n, tail, sizeof(tail));
	*len = n + sizeof(tail) - 1;
	return m;
}

void bench_proxy_worst(void)
{
	static const struct { const char *line; size_t n; } lines[] = {
		{ "v: SIP/2.0/UDP h\r\n", 100000 }, { "m: <sip:a@1.2.3.4>\r\n", 100000 }, { "i: x\r\n", 100000 },
		{ "v: SIP/2.0/UDP h\r\n", 240 },     /* just under the proxy's limit: parsed, answered */
	};
	enum { MSGS = 300 };

	for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
		rig r;
		size_t len;
		char *m = worst_msg(lines[k].line, lines[k].n, &len);
		tv_ep to = tv_ep4(0xc633640a, 5060);
		double t0, t1;

		rig_new(&r);
		t0 = bench_wall();
		for (int i = 0; i < MSGS; i++) {
			host_udp_send(r.phs, &to, m, len);
			sim_net_run_until(r.net, sim_net_now(r.net) + TV_MS(1));
		}
		t1 = bench_wall();
		printf("proxy-worst: %.0f msgs/s, %.0f us each (%zu-byte INVITE of repeated '%.2s' lines, %d sent, "
		       "%llu answered by the proxy)\n", MSGS / (t1 - t0), (t1 - t0) / MSGS * 1e6, len, lines[k].line, MSGS,
		       (unsigned long long)proxy_get_stats(r.px)->sip_replies);
		rig_free(&r);
		free(m);
	}
}

void bench_proxy_relay_only(void)
{
	bench_proxy_relay();
}

void bench_proxy(void)
{
	bench_proxy_calls();
	bench_proxy_relay();
	bench_proxy_worst();
}
