/* fuzz_nat.c - libFuzzer: packets into a NAT, both ways, with time moving.
 * Most records become well-formed UDP/TCP packets between a few hosts (so
 * the fuzzer explores bindings, filtering, hairpin, TCP states, expiry);
 * some are raw bytes (malformed input). The engine must never crash, leak
 * or read out of bounds. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "nat.h"

static const uint32_t inside[] = { 0xc0a8010a, 0xc0a8010b };
static const uint32_t outside[] = { 0xc6336450, 0xc6336451, 0xcb00710a /* the NAT itself */ };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nat_cfg cfg;
	char err[64];
	nat *n;
	tv_time now = 0;
	uint8_t buf[PKT_IP_MAX];

	if (size < 2)
		return 0;
	nat_cfg_default(&cfg);
	cfg.pub[0] = tv_ip4(0xcb00710a);
	cfg.npub = 1;
	cfg.mapping = (enum nat_behav)(data[0] % 3);
	cfg.filtering = (enum nat_behav)((data[0] >> 2) % 3);
	cfg.ports = (enum nat_port_alloc)((data[0] >> 4) % 3);
	cfg.parity = data[0] >> 6 & 1;
	cfg.refresh = data[0] >> 7 ? NAT_REFRESH_BOTH : NAT_REFRESH_OUTBOUND;
	cfg.hairpin = data[1] & 1;
	cfg.max_bindings = data[1] >> 1 & 7;
	cfg.port_lo = 1024;
	cfg.port_hi = 1040;
	n = nat_new(&cfg, 1, err, sizeof(err));
	for (size_t i = 2; i + 6 <= size; i += 6) {
		const uint8_t *r = data + i;
		int len;
		bool in = r[0] & 1, tcp = r[0] & 2;
		tv_ep a = tv_ep4(inside[r[1] & 1], (uint16_t)(5000 + (r[1] >> 1 & 3)));
		tv_ep b = tv_ep4(outside[r[2] % 3], (uint16_t)(7000 + (r[2] >> 2 & 3)));
		tv_ep pub = tv_ep4(0xcb00710a, (uint16_t)(1024 + (r[3] & 15)));

		now += (tv_time)r[4] * TV_SEC(r[0] >> 7 ? 60 : 1);
		if (in)
			len = tcp ? pkt_build_tcp(buf, sizeof(buf), &b, &pub, 1, r[5], 1, 1, 100, "x", 1)
				  : pkt_build_udp(buf, sizeof(buf), &b, &pub, 1, "x", 1);
		else
			len = tcp ? pkt_build_tcp(buf, sizeof(buf), &a, &b, 1, r[5], 1, 1, 100, "x", 1)
				  : pkt_build_udp(buf, sizeof(buf), &a, &b, 1, "x", 1);
		if (r[0] & 4)           /* damage it */
			buf[r[3] % (unsigned)len] ^= r[5];
		if (r[0] & 8)
			len = r[3] % (len + 1);
		nat_process(n, now, in ? NAT_IN : NAT_OUT, buf, (size_t)len);
		if (r[0] & 16)
			nat_on_timeout(n, now);
		if ((r[0] & 0x60) == 0x60)
			nat_reboot(n);
	}
	nat_free(n);
	return 0;
}
