/* fuzz_sip.c - libFuzzer: arbitrary bytes as SIP into a proxy, from the
 * access side and from the core side, after a registration. */
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <osipparser2/osip_port.h>

#include "host.h"
#include "proxy.h"

static void quiet(const char *fi, int li, osip_trace_level_t l, const char *f, va_list ap)
{
	(void)fi; (void)li; (void)l; (void)f; (void)ap;
}

static void sink(void *arg, tv_udp *s, const tv_ep *f, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg; (void)s; (void)f; (void)d; (void)len; (void)now;
}

static const char reg[] =
	"REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKr\r\n"
	"From: <sip:alice@example.net>;tag=r\r\nTo: <sip:alice@example.net>\r\nCall-ID: r@192.168.1.10\r\n"
	"CSeq: 1 REGISTER\r\nContact: <sip:alice@192.168.1.10:5060>\r\nContent-Length: 0\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sim_link_cfg d = { .delay = TV_MS(1) };
	sim_net *net;
	sim_link *inet, *core;
	tv_host *pxh, *t, *ss;
	tv_udp *ts, *sss;
	proxy_cfg pc;
	proxy *px;
	tv_ip ip;
	tv_ep ep, to;
	int e;
	size_t half;

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
	to = tv_ep4(0xc633640a, 5060);
	host_udp_send(ts, &to, reg, sizeof(reg) - 1);
	sim_net_run_until(net, TV_MS(10));
	/* input: 2 bytes of split point, then what the terminal sends, then
	 * what the softswitch sends */
	if (size < 2)
		goto out;
	half = (size_t)(data[0] << 8 | data[1]);
	data += 2;
	size -= 2;
	if (half > size)
		half = size;
	host_udp_send(ts, &to, data, half > 1400 ? 1400 : half);
	to = tv_ep4(0x0a000001, 5100);
	host_udp_send(sss, &to, data + half, size - half > 1400 ? 1400 : size - half);
	sim_net_run_until(net, TV_SEC(120));
out:
	proxy_free(px);
	host_udp_close(ts);
	host_udp_close(sss);
	host_free(pxh);
	host_free(t);
	host_free(ss);
	sim_net_free(net);
	return 0;
}
