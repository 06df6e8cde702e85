/* natd.h - traverse-nat: the simnat engine as a transparent NAT between two
 * TUN devices, one in an inside network namespace, one in an outside one.
 *
 * Datapath: a TUN device (IFF_TUN | IFF_NO_PI) on each side. The kernel
 * hands us exactly the IPv4 packets routed to the device (the inside
 * namespace's default route, the outside namespace's route to the public
 * addresses), whole and without a link header, and takes back whatever we
 * write. That is simpler than capturing with libpcap and injecting with
 * libnet: no promiscuous capture, no raw socket, no packets seen twice, and
 * the kernel's own stack in each namespace is unchanged (docs/netns.md).
 *
 * args.c parses the command line (pure: unit-tested); tun.c makes and
 * configures the devices inside the namespaces (I/O); main.c is the loop. */
#ifndef TV_NATD_H
#define TV_NATD_H

#include "nat.h"

#define NATD_MAX_OPTS 32

typedef struct natd_args {
	const char *inside_ns, *outside_ns;     /* names under /run/netns, or paths */
	const char *inside_dev, *outside_dev;   /* device names; "tvnat%d" by default */
	tv_ip inside_addr;      /* the NAT's address on the inside: the inside TUN's peer */
	tv_ip inside_host;      /* the inside namespace's address on its TUN */
	nat_cfg cfg;            /* cfg.pub: --outside-addr */
	uint64_t seed;          /* the engine's port randomness */
	bool verbose;
} natd_args;

enum { NATD_ARGS_OK = 0, NATD_ARGS_HELP = 1, NATD_ARGS_BAD = 2 };

/* Parse argv (argv[0] is the program). Returns NATD_ARGS_OK,
 * NATD_ARGS_HELP (--help: print natd_usage), or NATD_ARGS_BAD with the
 * reason in err. The strings in a point into argv. */
int natd_args_parse(natd_args *a, int argc, char **argv, char *err, size_t errlen);
const char *natd_usage(void);

/* Make a TUN device in namespace ns (NULL: the current one), named after
 * name ("tvnat%d": the kernel picks a free number), MTU 65535 (so the
 * kernel never fragments what it hands us), up, with local address `local`
 * and point-to-point peer `peer` (either may be 0: none), and the routes
 * dst[i]/plen[i] through it. The calling process returns to its own
 * namespace; the descriptor stays bound to the device, and the device goes
 * with the descriptor. Returns the non-blocking descriptor, the device's
 * name in ifname (IFNAMSIZ), or -1 with the reason in err. */
int natd_tun_open(const char *ns, const char *name, const tv_ip *local, const tv_ip *peer,
		  const tv_ip *dst, const int *plen, int nroutes, char *ifname, char *err, size_t errlen);

#endif
