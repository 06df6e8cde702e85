/* test_live_map.c - --live's address plan (runner/scn_live.c): every
 * scenario address moves into 127.SLOT.0.0/16, one third octet per /24,
 * the last octet kept; texts move the same way, and only whole addresses. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "scn_ctx.h"

static scn_opts o = { .live = true, .live_slot = 100 };

static const char *mapped(scn_ctx *c, const char *s, char *b)
{
	tv_ip ip;

	cr_assert_eq(tv_ip_parse(s, &ip), 0);
	live_map_ip(c, &ip);
	return tv_ip_fmt(&ip, b);
}

static tv_ip map(scn_ctx *c, const char *s)
{
	tv_ip ip;

	cr_assert_eq(tv_ip_parse(s, &ip), 0);
	live_map_ip(c, &ip);
	return ip;
}

Test(live_map, one_third_octet_per_24_last_octet_kept)
{
	scn_ctx c = { .o = &o };
	char b[TV_IP_STRLEN];

	cr_assert_str_eq(mapped(&c, "198.51.100.10", b), "127.100.0.10");
	cr_assert_str_eq(mapped(&c, "203.0.113.20", b), "127.100.1.20");
	cr_assert_str_eq(mapped(&c, "198.51.100.99", b), "127.100.0.99");
	cr_assert_str_eq(mapped(&c, "192.168.1.10", b), "127.100.2.10");
	cr_assert_eq(c.lmap_n, 3);
	/* the same address maps the same way again: the map is a function */
	cr_assert_eq(map(&c, "203.0.113.20").v4, 0x7f640114u);
}

Test(live_map, simulation_runs_are_untouched)
{
	scn_opts sim = { 0 };
	scn_ctx c = { .o = &sim };

	cr_assert_eq(map(&c, "198.51.100.10").v4, 0xc633640au);
	cr_assert_null(live_map_text(&c, "c=IN IP4 198.51.100.10"));
}

Test(live_map, texts_move_whole_addresses_only)
{
	scn_ctx c = { .o = &o };
	char *t;

	map(&c, "10.0.0.1");    /* /24 number 0 */
	t = live_map_text(&c, "Via: SIP/2.0/UDP 10.0.0.1:5060;received=10.0.0.200");
	cr_assert_str_eq(t, "Via: SIP/2.0/UDP 127.100.0.1:5060;received=127.100.0.200");
	free(t);
	/* a prefix, a version number, a longer dotted run: not addresses */
	cr_assert_null(live_map_text(&c, "lacks=192.168."));
	cr_assert_null(live_map_text(&c, "SIP/2.0 1.2.3.4.5 v10.0.0.1x"));
	cr_assert_null(live_map_text(&c, "999.1.1.1"));
	t = live_map_text(&c, "c=IN IP4 10.0.0.9\r\n");
	cr_assert_str_eq(t, "c=IN IP4 127.100.0.9\r\n");
	free(t);
}
