/* bench_flood.c - the proxy under a flood of forged requests (issue 11):
 * 100,000 OPTIONS from 100,000 distinct spoofed sources, 10,000 a second
 * of virtual time, while alice calls bob through the proxy with its
 * default limits. Prints the wall time, the proxy's heap at its peak,
 * what the flood was answered, whether the call set up and its audio
 * arrived whole, and how long the strangers' state took to go. Bounded:
 * 10 s of flood, 40 s after it, then stop. */
#include "bench.h"
#include "host.h"
#include "natnode.h"
#include "pkt.h"
#include "proxy_priv.h"
#include "sipua.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#define FLOOD_N 100000
#define FLOOD_PER_MS 10

static const char forged[] =
	"OPTIONS sip:example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKflood;rport\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:alice@example.net>;tag=f\r\nTo: <sip:example.net>\r\n"
	"Call-ID: flood@198.18.0.1\r\nCSeq: 1 OPTIONS\r\n"
	"Contact: <sip:alice@198.18.0.1:5060>\r\nContent-Length: 0\r\n\r\n";

void bench_flood(void)
{
	sim_link_cfg d10 = { .delay = TV_MS(10) }, d1 = { .delay = TV_MS(1) };
	sim_net *net = sim_net_new(1);
	sim_link *inet = sim_link_new(net, "internet", &d10), *core = sim_link_new(net, "core", &d1),
		 *home = sim_link_new(net, "home", &d1);
	nat_cfg nc;
	proxy_cfg pc;
	tv_ip ip;
	tv_host *ssh, *pxh, *bots, *ph[2];
	softswitch *ss;
	proxy *px;
	nat_node *nn;
	sipua *ua[2];
	char err[128];
	int e, sent = 0;
	size_t heap0, peak = 0;
	uint32_t untrusted_peak = 0;
	tv_time now, gone = 0;
	double t0, t1;
	const proxy_stats *st;
	const media_stats *ma, *mb;

	nat_cfg_default(&nc);
	nc.pub[0] = tv_ip4(0xcb00710a);
	nc.npub = 1;
	ip = tv_ip4(0xc0a80101);
	nn = nat_node_new(net, "nat", home, &ip, inet, &nc, err, sizeof(err));
	ip = tv_ip4(0x0a000064);
	ssh = simhost_new(net, core, "ss", &ip);
	ss = softswitch_new(ssh, 5060, "example.net", &e);
	proxy_cfg_default(&pc);         /* the defaults, limits and all */
	pc.access_ip = tv_ip4(0xc633640a);
	pc.core_ip = tv_ip4(0x0a000001);
	pc.softswitch = tv_ep4(0x0a000064, 5060);
	pxh = simhost_new(net, inet, "px", &pc.access_ip);
	simhost_add_iface(pxh, core, &pc.core_ip);
	heap0 = mallinfo2().uordblks;
	px = proxy_new(pxh, &pc, &e);
	ip = tv_ip4(0xc6120001);        /* 198.18.0.1: the flood's host; sources spoofed */
	bots = simhost_new(net, inet, "bots", &ip);
	for (int i = 0; i < 2; i++) {
		sipua_cfg uc = { .user = i ? "bob" : "alice", .domain = "example.net",
				 .proxy = tv_ep4(0xc633640a, 5060), .reg_expires = TV_SEC(3600) };
		ip = tv_ip4(0xc0a8010a + (uint32_t)i);
		ph[i] = simhost_new(net, home, uc.user, &ip);
		ua[i] = sipua_new(ph[i], &uc, &e);
		sipua_register(ua[i]);
	}
	sim_net_run_until(net, TV_SEC(1));
	sipua_call(ua[0], "bob");
	t0 = bench_wall();
	for (now = TV_SEC(1); sent < FLOOD_N; now += TV_MS(1)) {
		for (int k = 0; k < FLOOD_PER_MS && sent < FLOOD_N; k++, sent++) {
			uint8_t pkt[1024];
			/* 198.18.0.0/15 (RFC 2544), a new address and port each */
			tv_ep from = tv_ep4(0xc6120000 + (uint32_t)(sent * 7 % 131072), (uint16_t)(1024 + sent % 60000));
			tv_ep to = tv_ep4(0xc633640a, 5060);
			int n = pkt_build_udp(pkt, sizeof(pkt), &from, &to, (uint16_t)sent, forged, strlen(forged));
			if (n > 0)
				simhost_inject(bots, pkt, (size_t)n);
		}
		sim_net_run_until(net, now);
		if (now % TV_MS(100) == 0) {
			size_t h = mallinfo2().uordblks - heap0;
			peak = h > peak ? h : peak;
		}
		untrusted_peak = proxy_get_stats(px)->untrusted > untrusted_peak ? proxy_get_stats(px)->untrusted
										  : untrusted_peak;
	}
	t1 = bench_wall();
	st = proxy_get_stats(px);
	ma = sipua_media(ua[0], 0) ? media_get_stats(sipua_media(ua[0], 0)) : NULL;
	mb = sipua_media(ua[1], 0) ? media_get_stats(sipua_media(ua[1], 0)) : NULL;
	printf("proxy-flood: %d forged OPTIONS from %d spoofed sources in %.1f s simulated, %.2f wall s (%.0f/s); "
	       "proxy heap peak %.1f MiB; untrusted bindings at most %u (limit %u), %llu refused 503, %llu over the rate; "
	       "alice->bob call %s, audio %llu of %llu and %llu of %llu packets (lost %llu/%llu)\n",
	       FLOOD_N, FLOOD_N, (double)(now - TV_SEC(1)) / 1e6, t1 - t0, FLOOD_N / (t1 - t0), (double)peak / 1048576,
	       untrusted_peak, pc.max_untrusted, (unsigned long long)st->limit_untrusted,
	       (unsigned long long)st->drop[PX_DROP_SIP_RATE],
	       sipua_get_status(ua[0])->state == SIPUA_ESTABLISHED ? "established" : "NOT established",
	       (unsigned long long)(mb ? mb->rtp_rx : 0), (unsigned long long)(ma ? ma->rtp_tx : 0),
	       (unsigned long long)(ma ? ma->rtp_rx : 0), (unsigned long long)(mb ? mb->rtp_tx : 0),
	       (unsigned long long)(ma ? ma->lost : 0), (unsigned long long)(mb ? mb->lost : 0));
	for (tv_time end = now + TV_SEC(60); now < end && !gone; now += TV_SEC(1)) {
		sim_net_run_until(net, now);
		if (proxy_get_stats(px)->untrusted == 0)
			gone = now;
	}
	printf("proxy-flood: strangers' state gone %.0f s after the flood ended (untrusted-hold 32 s); "
	       "bindings left %u (alice, bob), untrusted reclaimed %llu\n",
	       gone ? (double)(gone - (TV_SEC(1) + TV_MS(FLOOD_N / FLOOD_PER_MS))) / 1e6 : -1.0,
	       proxy_get_stats(px)->bindings, (unsigned long long)proxy_get_stats(px)->untrusted_expired);
	for (int i = 0; i < 2; i++) {
		sipua_free(ua[i]);
		host_free(ph[i]);
	}
	proxy_free(px);
	host_free(pxh);
	host_free(bots);
	softswitch_free(ss);
	host_free(ssh);
	nat_node_free(nn);
	sim_net_free(net);
}
