/* tun.c - TUN devices made inside network namespaces and configured with
 * the classic ioctls (address, peer, MTU, flags, SIOCADDRT routes): no
 * netlink library and no ip(8) child. The process enters the namespace
 * with setns(2) (it must be single-threaded, which traverse-nat is), makes
 * the device there, and returns: a TUN descriptor stays bound to its
 * device whatever namespace its opener is in. */
#include "natd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void sin_set(struct sockaddr *sa, uint32_t host_order)
{
	struct sockaddr_in *s = (struct sockaddr_in *)sa;

	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	s->sin_addr.s_addr = htonl(host_order);
}

static int ns_open(const char *ns, char *err, size_t errlen)
{
	char path[300];
	int fd;

	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		snprintf(err, errlen, "namespace %s: %s: %s", ns, path, strerror(errno));
	return fd;
}

/* No IPv6 on the device (router solicitations, MLD reports: the engine
 * would only drop them). Best effort: a kernel without IPv6 has no file.
 * /proc/sys/net is the opener's namespace's, so this runs in the target. */
static void ipv6_off(const char *ifname)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1) {
		/* still only IPv4 reaches the engine: main.c counts the rest */
	}
	close(fd);
}

/* Everything done while in the target namespace. */
static int tun_make(const char *name, const tv_ip *local, const tv_ip *peer, const tv_ip *dst, const int *plen,
		    int nroutes, char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, s = -1;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "TUNSETIFF %s: %s", name, strerror(errno));
		goto fail;
	}
	snprintf(ifname, IFNAMSIZ, "%s", ifr.ifr_name);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	ifr.ifr_mtu = 65535;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
		snprintf(err, errlen, "%s: MTU 65535: %s", ifname, strerror(errno));
		goto fail;
	}
	if (local && local->v4) {
		sin_set(&ifr.ifr_addr, local->v4);
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0) {
			snprintf(err, errlen, "%s: address: %s", ifname, strerror(errno));
			goto fail;
		}
	}
	if (peer && peer->v4) {
		sin_set(&ifr.ifr_dstaddr, peer->v4);
		if (ioctl(s, SIOCSIFDSTADDR, &ifr) < 0) {
			snprintf(err, errlen, "%s: peer address: %s", ifname, strerror(errno));
			goto fail;
		}
	}
	ipv6_off(ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		snprintf(err, errlen, "%s: flags: %s", ifname, strerror(errno));
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		snprintf(err, errlen, "%s: up: %s", ifname, strerror(errno));
		goto fail;
	}
	for (int i = 0; i < nroutes; i++) {
		struct rtentry rt;
		uint32_t mask = plen[i] ? 0xffffffffu << (32 - plen[i]) : 0;
		char a[TV_IP_STRLEN];

		memset(&rt, 0, sizeof(rt));
		sin_set(&rt.rt_dst, dst[i].v4 & mask);
		sin_set(&rt.rt_genmask, mask);
		sin_set(&rt.rt_gateway, 0);
		rt.rt_flags = RTF_UP | (plen[i] == 32 ? RTF_HOST : 0);
		rt.rt_dev = ifname;
		if (ioctl(s, SIOCADDRT, &rt) < 0) {
			snprintf(err, errlen, "%s: route %s/%d: %s", ifname, tv_ip_fmt(&dst[i], a), plen[i],
				 strerror(errno));
			goto fail;
		}
	}
	close(s);
	return fd;
fail:
	if (s >= 0)
		close(s);
	close(fd);
	return -1;
}

int natd_tun_open(const char *ns, const char *name, const tv_ip *local, const tv_ip *peer,
		  const tv_ip *dst, const int *plen, int nroutes, char *ifname, char *err, size_t errlen)
{
	int self = -1, target = -1, fd;

	if (ns) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0) {
			snprintf(err, errlen, "/proc/self/ns/net: %s", strerror(errno));
			return -1;
		}
		target = ns_open(ns, err, errlen);
		if (target < 0) {
			close(self);
			return -1;
		}
		if (setns(target, CLONE_NEWNET) < 0) {
			snprintf(err, errlen, "enter namespace %s: %s", ns, strerror(errno));
			close(target);
			close(self);
			return -1;
		}
	}
	fd = tun_make(name, local, peer, dst, plen, nroutes, ifname, err, errlen);
	if (ns) {
		if (setns(self, CLONE_NEWNET) < 0) {
			/* Cannot happen for a process that could leave it; but
			 * going on in the wrong namespace would be worse. */
			snprintf(err, errlen, "return from namespace %s: %s", ns, strerror(errno));
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		close(target);
		close(self);
	}
	return fd;
}
