/* scn_knat.h - a scenario NAT made of the Linux kernel's (scn_knat.c). */
#ifndef TV_SCN_KNAT_H
#define TV_SCN_KNAT_H

#include "scn_ctx.h"

typedef struct knat_opts {
	bool random_fully;              /* masquerade fully-random */
	tv_time udp_timeout;            /* 0: the kernel's (30 s) */
	tv_time udp_stream_timeout;     /* 0: the kernel's (120 s) */
} knat_opts;

struct knat;

/* Put the kernel's NAT in nn's place: nn's packets go through it. NULL with
 * err on failure (not a --netns run, no root, no nft). */
struct knat *knat_new(scn_ctx *c, nat_node *nn, const tv_ip *inside_ip, const tv_ip *pub, const knat_opts *ko,
		      char *err, size_t cap);
void knat_free(scn_ctx *c, struct knat *k);

#endif
