/* bench.c - benchmarks: print numbers, assert nothing. Every loop is
 * bounded in count; nothing touches a real network.
 *
 *   nat-out / nat-in   packets per second through one NAT engine, one core
 *   keepalive          10,000 terminals behind one NAT, each refreshing its
 *                      binding every 20 s for one simulated hour, through
 *                      the full simulated network (links, hosts, NAT, echo
 *                      server): wall seconds, events, NAT bytes per binding,
 *                      peak RSS. */
#include "bench.h"
#include "host.h"
#include "nat.h"
#include "natnode.h"
#include "pkt.h"
#include "simnet.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

#define FLOWS 1024
#define NPKT 10000000

static void bench_nat(void)
{
	nat_cfg cfg;
	nat *n;
	char err[128];
	static uint8_t tmpl_out[FLOWS][256], tmpl_in[FLOWS][256];
	static int len_out[FLOWS], len_in[FLOWS];
	uint8_t payload[160] = { 0x80 };
	uint8_t buf[256];
	uint64_t ok = 0;
	double t0, t1;

	nat_cfg_default(&cfg);
	cfg.pub[0] = tv_ip4(0xcb00710a);        /* 203.0.113.10 */
	cfg.npub = 1;
	n = nat_new(&cfg, 1, err, sizeof(err));
	for (int i = 0; i < FLOWS; i++) {
		tv_ep in = tv_ep4(0xc0a80000 + 10 + (uint32_t)i, 40000);       /* 192.168.x.y:40000 */
		tv_ep peer = tv_ep4(0xc6336450, 30000 + (uint16_t)i);           /* 198.51.100.80 */
		len_out[i] = pkt_build_udp(tmpl_out[i], sizeof(tmpl_out[i]), &in, &peer, 1, payload, sizeof(payload));
	}
	/* Open every flow once so the timed loop measures steady state. */
	for (int i = 0; i < FLOWS; i++) {
		pkt_info pi;
		memcpy(buf, tmpl_out[i], (size_t)len_out[i]);
		nat_process(n, 0, NAT_OUT, buf, (size_t)len_out[i]);
		pkt_parse(buf, (size_t)len_out[i], &pi);
		tv_ep peer = tv_ep4(0xc6336450, 30000 + (uint16_t)i);
		len_in[i] = pkt_build_udp(tmpl_in[i], sizeof(tmpl_in[i]), &peer, &pi.src, 2, payload, sizeof(payload));
	}
	t0 = bench_wall();
	for (int i = 0; i < NPKT; i++) {
		int f = i & (FLOWS - 1);
		memcpy(buf, tmpl_out[f], (size_t)len_out[f]);
		ok += nat_process(n, TV_MS(i / 1000), NAT_OUT, buf, (size_t)len_out[f]) == NAT_OUT;
	}
	t1 = bench_wall();
	printf("nat-out:    %.2f Mpps  (%d packets of %d bytes, %d flows, %llu forwarded, one core)\n",
	       NPKT / (t1 - t0) / 1e6, NPKT, len_out[0], FLOWS, (unsigned long long)ok);
	ok = 0;
	t0 = bench_wall();
	for (int i = 0; i < NPKT; i++) {
		int f = i & (FLOWS - 1);
		memcpy(buf, tmpl_in[f], (size_t)len_in[f]);
		ok += nat_process(n, TV_SEC(10) + TV_MS(i / 1000), NAT_IN, buf, (size_t)len_in[f]) == NAT_IN;
	}
	t1 = bench_wall();
	printf("nat-in:     %.2f Mpps  (%d packets, APDF filter check, %llu forwarded)\n",
	       NPKT / (t1 - t0) / 1e6, NPKT, (unsigned long long)ok);
	nat_free(n);
}

/* ---- keepalive through the full simulated network ---------------------- */

#define TERMS 10000

typedef struct term {
	tv_timer t;
	tv_host *h;
	tv_udp *s;
	tv_ep srv;
	uint32_t rx;
} term;

static void term_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *d, size_t len, tv_time now)
{
	term *t = arg;

	(void)s; (void)from; (void)d; (void)len; (void)now;
	t->rx++;
}

static void term_tick(tv_timer *tm, tv_time now)
{
	term *t = tm->arg;
	static const char ka[] = "keepalive";

	host_udp_send(t->s, &t->srv, ka, sizeof(ka));
	host_timer_arm(t->h, &t->t, now + TV_SEC(20));
}

static void echo_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg; (void)now;
	host_udp_send(s, from, d, len);
}

static void bench_keepalive(void)
{
	sim_net *net = sim_net_new(1);
	sim_link_cfg lc = { .delay = TV_MS(5) };
	sim_link *inet = sim_link_new(net, "internet", &lc), *lan = sim_link_new(net, "access", &lc);
	nat_cfg cfg;
	nat_node *nn;
	tv_host *srv;
	tv_udp *es;
	term *terms = calloc(TERMS, sizeof(*terms));
	tv_ip ip;
	char err[128];
	int e;
	double t0, t1;
	size_t h0, h1;
	uint64_t rx = 0, alive = 0;
	struct rusage ru;

	nat_cfg_default(&cfg);
	cfg.pub[0] = tv_ip4(0xcb00710a);
	cfg.npub = 1;
	nat_cfg_udp_preset(&cfg, "linux");
	ip = tv_ip4(0x64400001);        /* 100.64.0.1 */
	nn = nat_node_new(net, "cgn", lan, &ip, inet, &cfg, err, sizeof(err));
	ip = tv_ip4(0xc6336450);
	srv = simhost_new(net, inet, "server", &ip);
	{
		tv_ep l = tv_ep4(0, 7000);
		es = host_udp_bind(srv, &l, echo_rx, NULL, &e);
	}
	for (int i = 0; i < TERMS; i++) {
		tv_ep l = tv_ep4(0, 5060);
		ip = tv_ip4(0x64400000 + 16 + (uint32_t)i);     /* 100.64.0.16 ... */
		terms[i].h = simhost_new(net, lan, "t", &ip);
		terms[i].s = host_udp_bind(terms[i].h, &l, term_rx, &terms[i], &e);
		terms[i].srv = tv_ep4(0xc6336450, 7000);
		tv_timer_init(&terms[i].t, term_tick, &terms[i]);
		/* Stagger the first keepalive over the first 20 s. */
		host_timer_arm(terms[i].h, &terms[i].t, (tv_time)i * TV_SEC(20) / TERMS);
	}
	h0 = heap_used();
	sim_net_run_until(net, TV_SEC(20));
	h1 = heap_used();
	printf("keepalive:  NAT + sim growth while %u bindings appeared: %.0f bytes per binding\n",
	       nat_binding_count(nat_node_engine(nn)), (double)(h1 - h0) / TERMS);
	t0 = bench_wall();
	sim_net_run_until(net, TV_SEC(3600));
	t1 = bench_wall();
	for (int i = 0; i < TERMS; i++)
		rx += terms[i].rx;
	alive = nat_binding_count(nat_node_engine(nn));
	getrusage(RUSAGE_SELF, &ru);
	printf("keepalive:  %d terminals x 1 simulated hour, 20 s refresh: %.2f wall s, %llu events, "
	       "%llu echoes received, %llu bindings alive, %llu expired, peak RSS %ld MiB\n",
	       TERMS, t1 - t0, (unsigned long long)sim_net_events(net), (unsigned long long)rx,
	       (unsigned long long)alive, (unsigned long long)nat_get_stats(nat_node_engine(nn))->expired,
	       ru.ru_maxrss / 1024);
	for (int i = 0; i < TERMS; i++) {
		tv_timerq_cancel(sim_net_timers(net), &terms[i].t);
		host_free(terms[i].h);
	}
	free(terms);
	host_udp_close(es);
	host_free(srv);
	nat_node_free(nn);
	sim_net_free(net);
}

/* Bytes per binding in the NAT engine alone. */
static void bench_nat_mem(void)
{
	nat_cfg cfg;
	nat *n;
	char err[128];
	uint8_t buf[256];
	size_t h0, h1;
	const int N = 100000;

	nat_cfg_default(&cfg);
	cfg.pub[0] = tv_ip4(0xcb00710a);
	cfg.pub[1] = tv_ip4(0xcb00710b);
	cfg.npub = 2;
	n = nat_new(&cfg, 1, err, sizeof(err));
	h0 = heap_used();
	for (int i = 0; i < N; i++) {
		tv_ep in = tv_ep4(0x0a000000 + (uint32_t)i, 5060), peer = tv_ep4(0xc6336450, 5060);
		int len = pkt_build_udp(buf, sizeof(buf), &in, &peer, 1, "x", 1);
		nat_process(n, 0, NAT_OUT, buf, (size_t)len);
	}
	nat_on_timeout(n, 0);
	h1 = heap_used();
	printf("nat-memory: %u bindings, %.0f bytes per binding (engine heap, indexes included)\n",
	       nat_binding_count(n), (double)(h1 - h0) / N);
	nat_free(n);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		printf("usage: traverse-bench\n\n"
		       "Runs the benchmarks and prints numbers (it asserts nothing):\n"
		       "  nat-out / nat-in   packets per second through one NAT engine, one core\n"
		       "  nat-memory         bytes per binding in the NAT engine\n"
		       "  keepalive          10,000 terminals x 1 simulated hour, 20 s refresh\n"
		       "  proxy-calls        call set-ups per second through the proxy alone\n"
		       "  proxy-relay        RTP packets per second relayed by the proxy alone\n"
		       "  proxy-worst        60 KB attack INVITEs (one header repeated) per second\n"
		       "  proxy-flood        100,000 forged requests from distinct sources during a call: heap, answers, service\n"
		       "  sip-calls          call set-ups per second through NAT, proxy, softswitch\n"
		       "  sip-memory         proxy heap per active call\n"
		       "  sip-relay          RTP packets relayed per second, whole simulated path\n"
		       "TRAVERSE_BENCH_SECS=N shortens the sip-calls loop (and skips sip-relay).\n"
		       "TRAVERSE_BENCH_ONLY=calls|relay runs only that part of the sip benchmarks; =worst only proxy-worst; =proxy-calls, =proxy-relay, =flood only that.\n");
		return strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? 2 : 0;
	}
	if (getenv("TRAVERSE_BENCH_ONLY") && !strcmp(getenv("TRAVERSE_BENCH_ONLY"), "worst")) {
		bench_proxy_worst();
		return 0;
	}
	if (getenv("TRAVERSE_BENCH_ONLY") && !strcmp(getenv("TRAVERSE_BENCH_ONLY"), "proxy-calls")) {
		bench_proxy_calls();
		return 0;
	}
	if (getenv("TRAVERSE_BENCH_ONLY") && !strcmp(getenv("TRAVERSE_BENCH_ONLY"), "proxy-relay")) {
		bench_proxy_relay_only();
		return 0;
	}
	if (getenv("TRAVERSE_BENCH_ONLY") && !strcmp(getenv("TRAVERSE_BENCH_ONLY"), "flood")) {
		bench_flood();
		return 0;
	}
	bench_nat();
	bench_nat_mem();
	bench_keepalive();
	bench_proxy();
	bench_flood();
	bench_sip();
	return 0;
}
