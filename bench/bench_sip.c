/* bench_sip.c - SIP through NAT and proxy in one process, in simulation.
 *
 *   sip-calls   call set-ups per wall second: 200 phone pairs behind one
 *               NAT; each pair calls, hangs up as soon as the call is up
 *               (INVITE/100/180/200/ACK/BYE/200 with SDP through NAT, proxy
 *               and softswitch), and calls again
 *   sip-relay   RTP packets relayed per wall second with 100 calls talking
 *               (the whole path: phones' media, NATs, links, proxy)
 * Prints numbers; asserts nothing. Every loop is bounded in virtual time. */
#include "bench.h"
#include "host.h"
#include "natnode.h"
#include "proxy_priv.h"
#include "simhost_priv.h"
#include "sipua.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct world {
	sim_net *net;
	nat_node *nat;
	tv_host *ssh, *pxh;
	softswitch *ss;
	proxy *px;
	int nph;
	tv_host **ph;
	sipua **ua;
} world;

static void world_new(world *w, int pairs)
{
	sim_link_cfg d10 = { .delay = TV_MS(10) }, d1 = { .delay = TV_MS(1) };
	sim_link *inet, *core, *home;
	nat_cfg nc;
	proxy_cfg pc;
	tv_ip ip;
	char err[128], user[16];
	int e;

	memset(w, 0, sizeof(*w));
	w->net = sim_net_new(1);
	inet = sim_link_new(w->net, "internet", &d10);
	core = sim_link_new(w->net, "core", &d1);
	home = sim_link_new(w->net, "home", &d1);
	nat_cfg_default(&nc);
	nc.pub[0] = tv_ip4(0xcb00710a);
	nc.npub = 1;
	ip = tv_ip4(0x0a010001);
	w->nat = nat_node_new(w->net, "cgn", home, &ip, inet, &nc, err, sizeof(err));
	ip = tv_ip4(0x0a000064);
	w->ssh = simhost_new(w->net, core, "ss", &ip);
	w->ss = softswitch_new(w->ssh, 5060, "example.net", &e);
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
	pc.core_sig_lo = 5100;
	pc.core_sig_hi = 9999;
	w->pxh = simhost_new(w->net, inet, "px", &pc.access_ip);
	simhost_add_iface(w->pxh, core, &pc.core_ip);
	w->px = proxy_new(w->pxh, &pc, &e);
	w->nph = 2 * pairs;
	w->ph = calloc((size_t)w->nph, sizeof(*w->ph));
	w->ua = calloc((size_t)w->nph, sizeof(*w->ua));
	for (int i = 0; i < w->nph; i++) {
		sipua_cfg uc = { 0 };
		snprintf(user, sizeof(user), "u%d", i);
		uc.user = user;
		uc.domain = "example.net";
		uc.proxy = tv_ep4(0xc633640a, 5060);
		uc.answer_delay = TV_MS(1);
		uc.reg_expires = TV_SEC(7200);
		ip = tv_ip4(0x0a010100 + (uint32_t)i);
		w->ph[i] = simhost_new(w->net, home, user, &ip);
		w->ua[i] = sipua_new(w->ph[i], &uc, &e);
		sipua_register(w->ua[i]);
	}
	sim_net_run_until(w->net, TV_SEC(2));
}

static void world_free(world *w)
{
	for (int i = 0; i < w->nph; i++) {
		sipua_free(w->ua[i]);
		host_free(w->ph[i]);
	}
	free(w->ua);
	free(w->ph);
	proxy_free(w->px);
	host_free(w->pxh);
	softswitch_free(w->ss);
	host_free(w->ssh);
	nat_node_free(w->nat);
	sim_net_free(w->net);
}

/* TRAVERSE_BENCH_SECS shortens the call loop (for profiling). */
static tv_time bench_secs(void)
{
	const char *e = getenv("TRAVERSE_BENCH_SECS");

	return TV_SEC(e ? atoi(e) : 30);
}

static void bench_calls(void)
{
	enum { PAIRS = 200 };
	world w;
	uint64_t setups = 0;
	double t0, t1;
	tv_time now;
	char user[16];

	world_new(&w, PAIRS);
	t0 = bench_wall();
	for (now = TV_SEC(2); now < TV_SEC(2) + bench_secs(); now += TV_MS(5)) {
		for (int i = 0; i < PAIRS; i++) {
			sipua *a = w.ua[2 * i];
			enum sipua_call_state s = sipua_get_status(a)->state;
			if (s == SIPUA_IDLE || s == SIPUA_ENDED) {
				snprintf(user, sizeof(user), "u%d", 2 * i + 1);
				sipua_call(a, user);
			} else if (s == SIPUA_ESTABLISHED) {
				setups++;
				sipua_hangup(a);
			}
		}
		sim_net_run_until(w.net, now);
	}
	t1 = bench_wall();
	/* Let every call in progress finish, then nothing may be left. */
	for (tv_time end = now + TV_SEC(60); now < end; now += TV_MS(100)) {
		for (int i = 0; i < PAIRS; i++)
			if (sipua_get_status(w.ua[2 * i])->state == SIPUA_ESTABLISHED)
				sipua_hangup(w.ua[2 * i]);
		sim_net_run_until(w.net, now);
	}
	printf("sip-calls:  %.0f call set-ups/s  (%llu calls set up and torn down in %.2f wall s, %d phone pairs "
	       "behind one NAT, proxy + softswitch, 30 s simulated; proxy legs left after all calls ended: %u)\n",
	       (double)setups / (t1 - t0), (unsigned long long)setups, t1 - t0, PAIRS,
	       proxy_get_stats(w.px)->legs);
	world_free(&w);
}

static void bench_relay(void)
{
	enum { PAIRS = 100 };
	world w;
	char user[16];
	double t0, t1;
	uint64_t r0;
	const proxy_stats *st;
	struct mallinfo2 m0, m1;

	world_new(&w, PAIRS);
	/* The proxy's own heap per idle binding, counted object by object:
	 * the binding, its texts, Contacts and core socket, and its share of
	 * the proxy's tables and of the host's port index. (On a live host
	 * the socket is livehost.c's: bench/live/mem.sh.) */
	{
		size_t bytes = 0, n = w.px->nall, nsock = SH(w.pxh)->udp.n ? SH(w.pxh)->udp.n : 1;
		for (size_t i = 0; i < n; i++) {
			const px_binding *b = w.px->all[i];
			bytes += malloc_usable_size((void *)b) + malloc_usable_size(b->core_sock) +
				 malloc_usable_size(b->vias) + malloc_usable_size(b->pend);
			bytes += (b->user[0] ? malloc_usable_size((char *)b->user) : 0) +
				 (b->sentby[0] ? malloc_usable_size((char *)b->sentby) : 0);
			for (const px_contact *c = b->ct; c; c = c->next)
				bytes += malloc_usable_size((void *)c);
			bytes += (SH(w.pxh)->udp.mask + 1) * sizeof(tv_map_slot) / nsock;
		}
		bytes += (w.px->by_nat.mask + 1 + w.px->by_user.mask + 1) * sizeof(tv_map_slot) +
			 w.px->capall * sizeof(*w.px->all);
		printf("sip-memory: proxy heap per idle binding (%zu registered terminals; binding, texts, Contacts, "
		       "core socket, tables): %.0f bytes\n", n, n ? (double)bytes / n : 0.0);
	}
	m0 = mallinfo2();
	for (int i = 0; i < PAIRS; i++) {
		snprintf(user, sizeof(user), "u%d", 2 * i + 1);
		sipua_call(w.ua[2 * i], user);
	}
	sim_net_run_until(w.net, TV_SEC(5));
	m1 = mallinfo2();
	/* The proxy's own heap per call, counted object by object: legs,
	 * streams, their sockets and the sockets' share of the host's port
	 * index. */
	{
		size_t bytes = 0, socks = 0;
		for (size_t i = 0; i < w.px->nall; i++)
			for (px_leg *l = w.px->all[i]->legs; l; l = l->next) {
				bytes += malloc_usable_size(l) + malloc_usable_size(l->call_id);
				for (int k = 0; k < l->ns; k++) {
					bytes += malloc_usable_size(l->s[k]);
					for (int j = 0; j < 4; j++, socks++)
						bytes += malloc_usable_size(l->s[k]->sock[j].u);
				}
			}
		bytes += socks * (SH(w.pxh)->udp.mask + 1) * sizeof(tv_map_slot) / (SH(w.pxh)->udp.n ? SH(w.pxh)->udp.n : 1);
		printf("sip-memory: proxy heap per active call (2 legs, 1 audio stream each, 8 relay sockets): %.0f bytes\n",
		       (double)bytes / PAIRS);
	}
	st = proxy_get_stats(w.px);
	r0 = st->relayed_to_core + st->relayed_to_access;
	t0 = bench_wall();
	sim_net_run_until(w.net, TV_SEC(35));
	t1 = bench_wall();
	printf("sip-relay:  %.2f M relayed packets/s through the whole simulated path (%llu packets, %d calls, "
	       "30 s simulated, %.2f wall s); heap growth while setting up %u legs: %.0f bytes per call "
	       "(proxy + phones + NAT)\n",
	       (double)(st->relayed_to_core + st->relayed_to_access - r0) / (t1 - t0) / 1e6,
	       (unsigned long long)(st->relayed_to_core + st->relayed_to_access - r0), PAIRS, t1 - t0, st->legs,
	       (double)(m1.uordblks - m0.uordblks) / PAIRS);
	world_free(&w);
}

void bench_sip(void)
{
	const char *only = getenv("TRAVERSE_BENCH_ONLY");

	if (!only || !strcmp(only, "calls"))
		bench_calls();
	if ((!only && !getenv("TRAVERSE_BENCH_SECS")) || (only && !strcmp(only, "relay")))
		bench_relay();
}
