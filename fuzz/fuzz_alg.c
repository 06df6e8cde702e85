/* fuzz_alg.c - libFuzzer: arbitrary payloads through the SIP ALG's
 * rewriter (simnat/nat_alg_sip.c), outbound and inbound, with every
 * combination of faults from the first byte, into a buffer exactly as
 * large as the input (so rewrites that grow must be refused cleanly) and
 * into a large one. It must never crash or read out of bounds, and a
 * rewrite it makes must fit the buffer it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat_alg_sip.h"

static int media(void *arg, uint16_t in_port, uint16_t *ext)
{
	(void)arg;
	*ext = (uint16_t)(in_port ^ 0x4000);
	return in_port == 1 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[70000];
	nat_alg_sip_ctx c = { .media = media };
	const char *msg = (const char *)data + 1;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	c.faults = data[0] & 0x3f;
	if ((c.faults & NAT_ALGF_VIA_ONLY) && (c.faults & NAT_ALGF_CONTACT_ONLY))
		c.faults &= ~(uint32_t)NAT_ALGF_CONTACT_ONLY;
	c.dir = data[0] & 0x40 ? NAT_IN : NAT_OUT;
	c.from = c.dir == NAT_OUT ? tv_ep4(0xc0a81664, 5060) : tv_ep4(0xcb007114, 20000);
	c.to = c.dir == NAT_OUT ? tv_ep4(0xcb007114, 20000) : tv_ep4(0xc0a81664, 5060);
	{
		char *tight = malloc(len ? len : 1);
		int n = nat_alg_sip_rewrite(&c, msg, len, tight, len, NULL);
		if (n > (int)len)
			abort();
		free(tight);
	}
	if (nat_alg_sip_rewrite(&c, msg, len, out, sizeof(out), NULL) > (int)sizeof(out))
		abort();
	return 0;
}
