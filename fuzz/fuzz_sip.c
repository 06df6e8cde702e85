/* fuzz_sip.c - libFuzzer: arbitrary bytes as SIP into a proxy, after a
 * registration: from the access side over UDP or over TCP (the proxy's
 * own framing, tcp_frames), or from the core side.
 *
 * Input: [mode] [split, 2 bytes big-endian] [A: split bytes] [B: the rest]
 *   mode & 3    where A goes:
 *                 0  access, one UDP datagram from the terminal's NAT mapping
 *                 1  access, over a new TCP connection to the proxy's SIP port
 *                 2  core, one UDP datagram from the softswitch to the
 *                    terminal's core port
 *                 3  access, over TCP, on a connection that first carried
 *                    the REGISTER (the binding lives on that connection)
 *   mode >> 2 & 31  TCP only: A goes in chunks of that many times 45 bytes,
 *                 one every millisecond, so framing sees messages split
 *                 anywhere (0: all at once)
 *   mode & 128  TCP only: the terminal closes (FIN) after A
 *   B           then one UDP datagram from the softswitch to the terminal's
 *               core port (the core's answer to what A started).
 * UDP datagrams are cut at 65,507 bytes, the most a host sends.
 *
 * Deterministic: one freshly seeded network per input, virtual time only. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include <osipparser2/osip_port.h>

#include "host.h"
#include "pkt.h"
#include "proxy.h"

enum { PATH_UDP, PATH_TCP, PATH_CORE, PATH_TCP_REG };
#define CHUNK_UNIT 45
#define HDR 3                   /* mode + split */

static void quiet(const char *fi, int li, osip_trace_level_t l, const char *f, va_list ap)
{
	(void)fi; (void)li; (void)l; (void)f; (void)ap;
}

static void sink(void *arg, tv_udp *s, const tv_ep *f, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg; (void)s; (void)f; (void)d; (void)len; (void)now;
}

/* The terminal's TCP connection: NULL again once it is gone. */
static void tcp_sink(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *d, size_t len, tv_time now)
{
	tv_tcp **cp = arg;

	(void)c; (void)d; (void)len; (void)now;
	if (ev == TV_TCP_CLOSED || ev == TV_TCP_RESET || ev == TV_TCP_TIMEOUT)
		*cp = NULL;
}

static const char reg[] =
	"REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKr\r\n"
	"From: <sip:alice@example.net>;tag=r\r\nTo: <sip:alice@example.net>\r\nCall-ID: r@192.168.1.10\r\n"
	"CSeq: 1 REGISTER\r\nContact: <sip:alice@192.168.1.10:5060>\r\nContent-Length: 0\r\n\r\n";

static size_t udp_cut(size_t n) { return n > PKT_UDP_DATA_MAX ? PKT_UDP_DATA_MAX : n; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sim_link_cfg d = { .delay = TV_MS(1) };
	sim_net *net;
	sim_link *inet, *core;
	tv_host *pxh, *t, *ss;
	tv_udp *ts, *sss;
	tv_tcp *tc = NULL;
	proxy_cfg pc;
	proxy *px;
	tv_ip ip;
	tv_ep ep, px_sip, core_port;
	const uint8_t *a, *b;
	size_t alen, blen;
	int e, path;
	uint8_t mode;

	osip_trace_initialize_func(END_TRACE_LEVEL, quiet);
	net = sim_net_new(1);
	inet = sim_link_new(net, "i", &d);
	core = sim_link_new(net, "c", &d);
	proxy_cfg_default(&pc);
	pc.access_ip = tv_ip4(0xc633640a);
	pc.core_ip = tv_ip4(0x0a000001);
	pc.softswitch = tv_ep4(0x0a000064, 5060);
	pxh = host_new(net, inet, "px", &pc.access_ip);
	host_add_iface(pxh, core, &pc.core_ip);
	px = proxy_new(pxh, &pc, &e);
	ip = tv_ip4(0xcb00710a);
	t = host_new(net, inet, "t", &ip);
	ep = tv_ep4(0, 5060);
	ts = host_udp_bind(t, &ep, sink, NULL, &e);
	ip = tv_ip4(0x0a000064);
	ss = host_new(net, core, "ss", &ip);
	sss = host_udp_bind(ss, &ep, sink, NULL, &e);
	host_set_icmp(t, false);
	host_set_icmp(ss, false);
	px_sip = tv_ep4(0xc633640a, 5060);
	core_port = tv_ep4(0x0a000001, 5100);   /* the first terminal's core port */
	mode = size ? data[0] : 0;
	path = mode & 3;
	if (path == PATH_TCP || path == PATH_TCP_REG) {
		tc = host_tcp_connect(t, 0, &px_sip, tcp_sink, &tc, &e);
		sim_net_run_until(net, TV_MS(5));
	}
	if (path == PATH_TCP_REG && tc)
		host_tcp_send(tc, reg, sizeof(reg) - 1);
	else
		host_udp_send(ts, &px_sip, reg, sizeof(reg) - 1);
	sim_net_run_until(net, TV_MS(10));
	if (size < HDR)
		goto out;
	alen = (size_t)(data[1] << 8 | data[2]);
	if (alen > size - HDR)
		alen = size - HDR;
	a = data + HDR;
	b = a + alen;
	blen = size - HDR - alen;
	switch (path) {
	case PATH_UDP:
		host_udp_send(ts, &px_sip, a, udp_cut(alen));
		break;
	case PATH_CORE:
		host_udp_send(sss, &core_port, a, udp_cut(alen));
		break;
	default: {
		size_t chunk = (size_t)(mode >> 2 & 31) * CHUNK_UNIT;
		for (size_t off = 0; tc && off < alen;) {
			size_t n = chunk && alen - off > chunk ? chunk : alen - off;
			host_tcp_send(tc, a + off, n);
			off += n;
			sim_net_run_until(net, sim_net_now(net) + TV_MS(1));
		}
		if (tc && (mode & 128))
			host_tcp_close(tc);
		break;
	}
	}
	sim_net_run_until(net, sim_net_now(net) + TV_MS(10));
	host_udp_send(sss, &core_port, b, udp_cut(blen));
	sim_net_run_until(net, TV_SEC(120));
out:
	if (tc)
		host_tcp_abort(tc);
	proxy_free(px);
	host_udp_close(ts);
	host_udp_close(sss);
	host_free(pxh);
	host_free(t);
	host_free(ss);
	sim_net_free(net);
	return 0;
}

