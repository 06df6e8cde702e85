/* scn_knat.c - `nat ... kind=linux` (and `traverse run --nat-kind=linux`):
 * the scenario's NAT is the Linux kernel's own (conntrack + nftables
 * masquerade), in a network namespace of its own, instead of simnat.
 *
 *   sim inside link --> nat node --write--> [tin]  kernel NAT  [tout] --read--> nat node --> sim outside link
 *   sim inside link <-- nat node <--read--- [tin]  namespace   [tout] <-write-- nat node <-- sim outside link
 *
 * The NAT's namespace is anonymous: made with unshare(2), kept alive by a
 * descriptor, configured while the run is inside it (iproute2's `ip`, nft,
 * /proc/sys), then left. When the run ends, for whatever reason, it goes
 * with its devices and rules; nothing is left to clean up. There:
 *   tin   the NAT's inside address, with its /24 (the inside hosts' net)
 *   tout  the NAT's public address; the default route
 *   nft   masquerade on tout (optionally fully-random); ip_forward=1,
 *         rp_filter off; nf_conntrack_udp_timeout(_stream) as the
 *         scenario's udp-timeout / udp-stream-timeout say.
 * Live runs only (--netns): the kernel's timers run on the real clock. */
#include "scn_ctx.h"
#include "scn_knat.h"
#include "scn_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct knat {
	scn_ctx *c;
	nat_node *nn;
	int nsfd, tin, tout;
	uint64_t to_kernel, from_kernel, write_errors;
};

/* From the scenario to the kernel. */
static void knat_fwd(void *arg, bool from_inside, const uint8_t *pkt, size_t len, tv_time now)
{
	struct knat *k = arg;

	(void)now;
	if (write(from_inside ? k->tin : k->tout, pkt, len) == (ssize_t)len)
		k->to_kernel++;
	else
		k->write_errors++;
}

/* From the kernel back into the scenario. */
static void knat_pkt(void *arg, int fd, uint8_t *pkt, size_t len)
{
	struct knat *k = arg;

	if (nat_node_emit(k->nn, fd == k->tin, pkt, len) == 0)
		k->from_kernel++;
}

static void knat_rx(void *arg, int fd)
{
	struct knat *k = arg;

	live_tun_drain(k->c, fd, knat_pkt, k);
}

struct knat *knat_new(scn_ctx *c, nat_node *nn, const tv_ip *inside_ip, const tv_ip *pub, const knat_opts *ko,
		      char *err, size_t cap)
{
	struct knat *k;
	char in[TV_IP_STRLEN + 4], out[TV_IP_STRLEN + 4], rules[400], path[] = "/tmp/traverse-knat-XXXXXX";
	int orig, fd;
	bool ok = false;

	if (!netns_on() || !c->live) {
		snprintf(err, cap, "kind=linux needs a live run in a network namespace (traverse run --netns, as root)");
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	k->c = c;
	k->nn = nn;
	k->tin = k->tout = -1;
	k->nsfd = netns_unshare(&orig, err, cap);
	if (k->nsfd < 0) {
		free(k);
		return NULL;
	}
	tv_ip_fmt(inside_ip, in);
	strcat(in, "/24");
	tv_ip_fmt(pub, out);
	strcat(out, "/32");
	snprintf(rules, sizeof(rules),
		 "table ip traverse {\n chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n"
		 "  oifname \"tout\" masquerade%s\n }\n}\n", ko->random_fully ? " fully-random" : "");
	if ((k->tin = netns_tun_open("tin", err, cap)) >= 0 && (k->tout = netns_tun_open("tout", err, cap)) >= 0 &&
	    netns_ip(err, cap, "link", "set", "lo", "up", (char *)NULL) == 0 &&
	    netns_ip(err, cap, "addr", "add", in, "dev", "tin", (char *)NULL) == 0 &&
	    netns_ip(err, cap, "addr", "add", out, "dev", "tout", (char *)NULL) == 0 &&
	    netns_ip(err, cap, "link", "set", "tin", "up", (char *)NULL) == 0 &&
	    netns_ip(err, cap, "link", "set", "tout", "up", (char *)NULL) == 0 &&
	    netns_ip(err, cap, "route", "add", "default", "dev", "tout", (char *)NULL) == 0 &&
	    netns_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err, cap) == 0 &&
	    netns_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "0", err, cap) == 0 &&
	    netns_sysctl("/proc/sys/net/ipv4/conf/tin/rp_filter", "0", err, cap) == 0 &&
	    netns_sysctl("/proc/sys/net/ipv4/conf/tout/rp_filter", "0", err, cap) == 0 && (fd = mkstemp(path)) >= 0) {
		ok = write(fd, rules, strlen(rules)) == (ssize_t)strlen(rules);
		close(fd);
		ok = ok && netns_run(err, cap, "nft", "-f", path, (char *)NULL) == 0;
		unlink(path);
		if (ok && ko->udp_timeout) {
			char v[24];
			snprintf(v, sizeof(v), "%lld", (long long)(ko->udp_timeout / TV_SEC(1)));
			ok = netns_sysctl("/proc/sys/net/netfilter/nf_conntrack_udp_timeout", v, err, cap) == 0;
		}
		if (ok && ko->udp_stream_timeout) {
			char v[24];
			snprintf(v, sizeof(v), "%lld", (long long)(ko->udp_stream_timeout / TV_SEC(1)));
			ok = netns_sysctl("/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream", v, err, cap) == 0;
		}
	}
	/* back to the run's namespace, whatever happened */
	if (netns_leave(orig, err, ok ? cap : 0) < 0)
		ok = false;       /* a failure before this one keeps its own message */
	if (ok && (live_watch(c, k->tin, knat_rx, k) < 0 || live_watch(c, k->tout, knat_rx, k) < 0)) {
		snprintf(err, cap, "cannot watch the kernel NAT's devices");
		ok = false;
	}
	if (!ok) {
		knat_free(c, k);
		return NULL;
	}
	nat_node_set_forward(nn, knat_fwd, k);
	return k;
}

void knat_free(scn_ctx *c, struct knat *k)
{
	if (!k)
		return;
	if (k->nn)
		nat_node_set_forward(k->nn, NULL, NULL);
	if (c->live) {
		if (k->tin >= 0)
			live_unwatch(c, k->tin);
		if (k->tout >= 0)
			live_unwatch(c, k->tout);
	}
	if (c->o->verbose)
		fprintf(stderr, "knat %s: %llu packets to the kernel, %llu back, %llu write errors\n",
			nat_node_name(k->nn), (unsigned long long)k->to_kernel, (unsigned long long)k->from_kernel,
			(unsigned long long)k->write_errors);
	if (k->tin >= 0)
		close(k->tin);
	if (k->tout >= 0)
		close(k->tout);
	if (k->nsfd >= 0)
		close(k->nsfd);         /* the namespace goes with its last reference */
	free(k);
}
