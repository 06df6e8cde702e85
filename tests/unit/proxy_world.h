/* proxy_world.h - the wire-level proxy tests' world: a raw "terminal"
 * on the access link (as if already behind its NAT: 203.0.113.10) and a
 * raw "softswitch" on the core link record every datagram the proxy sends
 * them. Header-only, static: each test file is its own translation unit. */
#ifndef TV_TEST_PROXY_WORLD_H
#define TV_TEST_PROXY_WORLD_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "simhost.h"
#include "proxy.h"
#include "rng.h"

#include <osipparser2/osip_port.h>
#include <stdarg.h>

static void quiet(const char *fi, int li, osip_trace_level_t l, const char *f, va_list ap)
{
	(void)fi;
	(void)li;
	(void)l;
	(void)f;
	(void)ap;
}

#define BOX_MSG_MAX 70000

typedef struct box {
	char msg[8][BOX_MSG_MAX];
	size_t len[8];
	tv_ep from[8];
	int n;
} box;

static void rec(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *d, size_t len, tv_time now)
{
	box *b = arg;

	(void)s;
	(void)now;
	if (b->n < 8 && len < BOX_MSG_MAX) {
		memcpy(b->msg[b->n], d, len);
		b->msg[b->n][len] = '\0';
		b->len[b->n] = len;
		b->from[b->n++] = *from;
	}
}

static struct world {
	proxy_record rec[4];
	char rec_reason[4][32];
	int nrec;
	sim_net *net;
	tv_host *px_h, *term, *ss;
	tv_udp *term_s, *ss_s;
	proxy *px;
	box at_term, at_ss;
} w;

static void on_record(void *arg, const proxy_record *r)
{
	(void)arg;
	if (w.nrec < 4) {
		snprintf(w.rec_reason[w.nrec], sizeof(w.rec_reason[0]), "%s", r->reason);
		w.rec[w.nrec++] = *r;
	}
}

static void setup_with(void (*tweak)(proxy_cfg *pc))
{
	sim_link_cfg d = { .delay = TV_MS(1) };
	sim_link *inet, *core;
	proxy_cfg pc;
	tv_ip ip;
	tv_ep ep;
	int err;

	osip_trace_initialize_func(END_TRACE_LEVEL, quiet);    /* drops are counted, not printed */
	memset(&w, 0, sizeof(w));
	w.net = sim_net_new(1);
	inet = sim_link_new(w.net, "internet", &d);
	core = sim_link_new(w.net, "core", &d);
	proxy_cfg_default(&pc);
	pc.access_ip = tv_ip4(0xc633640a);      /* 198.51.100.10 */
	pc.core_ip = tv_ip4(0x0a000001);        /* 10.0.0.1 */
	pc.softswitch = tv_ep4(0x0a000064, 5060);
	pc.keepalive = PX_KA_OFF;
	pc.media_lo = 20000;
	pc.media_hi = 20003;                    /* two pairs per realm */
	pc.random_ports = false;                /* ports in order, reused at once: the */
	pc.port_quarantine = 0;                 /* expected bytes name them */
	pc.on_record = on_record;
	if (tweak)
		tweak(&pc);
	w.px_h = simhost_new(w.net, inet, "px", &pc.access_ip);
	cr_assert_eq(simhost_add_iface(w.px_h, core, &pc.core_ip), 0);
	w.px = proxy_new(w.px_h, &pc, &err);
	cr_assert_not_null(w.px);
	ip = tv_ip4(0xcb00710a);                /* 203.0.113.10: the NAT's mapping */
	w.term = simhost_new(w.net, inet, "term", &ip);
	ep = tv_ep4(0, 40000);
	w.term_s = host_udp_bind(w.term, &ep, rec, &w.at_term, &err);
	ip = tv_ip4(0x0a000064);
	w.ss = simhost_new(w.net, core, "ss", &ip);
	ep = tv_ep4(0, 5060);
	w.ss_s = host_udp_bind(w.ss, &ep, rec, &w.at_ss, &err);
}

static void setup(void) { setup_with(NULL); }

static void teardown(void)
{
	proxy_free(w.px);
	host_udp_close(w.term_s);
	host_udp_close(w.ss_s);
	host_free(w.px_h);
	host_free(w.term);
	host_free(w.ss);
	sim_net_free(w.net);
}

static void step(void)
{
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(50));
}

static void from_term(const char *m)
{
	tv_ep to = tv_ep4(0xc633640a, 5060);

	host_udp_send(w.term_s, &to, m, strlen(m));
	step();
}

static void from_ss(const char *m)
{
	tv_ep to = tv_ep4(0x0a000001, 5100);

	host_udp_send(w.ss_s, &to, m, strlen(m));
	step();
}

#define REGISTER \
	"REGISTER sip:example.net SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKreg1;rport\r\n" \
	"Max-Forwards: 70\r\n" \
	"From: <sip:alice@example.net>;tag=a1\r\n" \
	"To: <sip:alice@example.net>\r\n" \
	"Call-ID: reg-1@192.168.1.10\r\n" \
	"CSeq: 1 REGISTER\r\n" \
	"Contact: <sip:alice@192.168.1.10:5060>\r\n" \
	"Expires: 3600\r\n" \
	"Content-Length: 0\r\n\r\n"

/* The core's 2xx to REGISTER above, as the proxy forwarded it. */
#define REG_200 \
	"SIP/2.0 200 OK\r\n" \
	"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1;rport=5100;received=10.0.0.1\r\n" \
	"From: <sip:alice@example.net>;tag=a1\r\n" \
	"To: <sip:alice@example.net>;tag=ss\r\n" \
	"Call-ID: reg-1@10.0.0.1\r\n" \
	"CSeq: 1 REGISTER\r\n" \
	"Contact: <sip:alice@10.0.0.1:5100>;expires=3600\r\n" \
	"Content-Length: 0\r\n\r\n"

#endif
