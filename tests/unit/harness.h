/* harness.h - what the unit tests share: test addresses and the smallest
 * simulated world (one link "lan", hosts a = 10.0.0.1 and b = 10.0.0.2).
 * Header-only, static: each test file is its own translation unit. */
#ifndef TV_TEST_HARNESS_H
#define TV_TEST_HARNESS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simhost.h"
#include "simnet.h"

#define TH_IP_A 0x0a000001u
#define TH_IP_B 0x0a000002u

/* "a.b.c.d" / "a.b.c.d:port", asserting it parses. */
static inline tv_ip th_ip(const char *s)
{
	tv_ip x;

	cr_assert_eq(tv_ip_parse(s, &x), 0, "bad test address %s", s);
	return x;
}

static inline tv_ep th_ep(const char *s)
{
	tv_ep x;

	cr_assert_eq(tv_ep_parse(s, &x, false), 0, "bad test endpoint %s", s);
	return x;
}

/* Reference RFC 1071 checksum, written the slow obvious way (bytes at even
 * offsets are the high half of a word), independent of core/pkt.c on
 * purpose: th_ref_csum() is 0 over data that carries its own correct
 * checksum. */
static inline uint64_t th_ref_sum(uint64_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	return sum;
}

static inline uint16_t th_ref_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint16_t th_ref_csum(const uint8_t *p, size_t n)
{
	return th_ref_fold(th_ref_sum(0, p, n));
}

/* The UDP or TCP checksum check of the IPv4 packet ip, pseudo-header
 * included, over its whole length whatever that is: 0 when it is right. */
static inline uint16_t th_ref_l4_csum(const uint8_t *ip, uint8_t proto)
{
	size_t hl = (size_t)(ip[0] & 15) * 4, l4 = ((size_t)ip[2] << 8 | ip[3]) - hl;
	uint64_t sum = th_ref_sum(0, ip + 12, 8) + proto + l4;

	return th_ref_fold(th_ref_sum(sum, ip + hl, l4));
}

typedef struct th_world {
	sim_net *n;
	sim_link *l;
	tv_host *a, *b;
} th_world;

/* cfg NULL: a 5 ms link. */
static inline void th_world_init(th_world *w, uint64_t seed, const sim_link_cfg *cfg)
{
	sim_link_cfg def = { .delay = TV_MS(5) };
	tv_ip a = tv_ip4(TH_IP_A), b = tv_ip4(TH_IP_B);

	memset(w, 0, sizeof(*w));
	w->n = sim_net_new(seed);
	cr_assert_not_null(w->n);
	w->l = sim_link_new(w->n, "lan", cfg ? cfg : &def);
	cr_assert_not_null(w->l);
	w->a = simhost_new(w->n, w->l, "a", &a);
	w->b = simhost_new(w->n, w->l, "b", &b);
	cr_assert_not_null(w->a);
	cr_assert_not_null(w->b);
}

/* Frees hosts and network; packets still in flight are freed with it. */
static inline void th_world_free(th_world *w)
{
	host_free(w->a);
	host_free(w->b);
	sim_net_free(w->n);
}

/* text written to a new file under /tmp; its path (free it, unlink it) */
static inline char *th_write_tmp(const char *text)
{
	char *path = strdup("/tmp/traverse-test-XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

#endif
