/* scn_netns.c - `traverse run --netns[=NAME]`: a live run inside a network
 * namespace, with the scenario's own addresses.
 *
 * On loopback (plain --live) every address is moved into 127.SLOT/16, so
 * a phone's private address is as "public" as its NAT's: an SBC's NAT
 * detection (Kamailio's nat_uac_test, a Contact in RFC 1918 space) cannot
 * work as deployed, and a fault that sends to a private address hits an
 * unbound loopback address. In a namespace the scenario's addresses are
 * used as written:
 *
 *   +---------------------- namespace (NAME, or the run's own) -----------+
 *   |  lo: 127.0.0.1, and each address the bridge binds (/32: NAT         |
 *   |      mappings, the softswitch) or the proxy under test holds        |
 *   |  tvtrap (TUN): the default route. Whatever the proxy under test     |
 *   |      sends to an address nobody holds (a phone's private one, a     |
 *   |      wrong port's host) lands here, is read by the run and becomes  |
 *   |      a finding; it never leaves the namespace.                     |
 *   +---------------------------------------------------------------------+
 *
 * Without NAME the run makes a namespace of its own (unshare) and its own
 * traverse-proxy lives there. With NAME it joins a namespace made by the
 * caller (ip netns add NAME), where the SBC under test already runs.
 * Either way it refuses to change the namespace it was started in.
 *
 * Addresses and routes are set with iproute2's `ip`, run directly (no
 * shell): a handful of calls per run, the same commands an operator types.
 * Root (CAP_NET_ADMIN and CAP_SYS_ADMIN) is needed. */
#include "scn_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define NETNS_MAX_ADDRS 256

static struct {
	bool on;
	int trap_fd;
	uint32_t addrs[NETNS_MAX_ADDRS];        /* added to lo by this run */
	int naddrs;
} ns = { .trap_fd = -1 };

static int run_argv(char *const *argv, char *err, size_t cap);

/* argv = prog, then the arguments up to NULL (at most 14), then run it. */
static int run_va(const char *prog, va_list ap, char *err, size_t cap)
{
	char *argv[16];
	int n = 0;

	argv[n++] = (char *)prog;
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	argv[n] = NULL;
	return run_argv(argv, err, cap);
}

int netns_run(char *err, size_t cap, const char *prog, ...)
{
	va_list ap;
	int rc;

	va_start(ap, prog);
	rc = run_va(prog, ap, err, cap);
	va_end(ap);
	return rc;
}

int netns_ip(char *err, size_t cap, ...)
{
	va_list ap;
	int rc;

	va_start(ap, cap);
	rc = run_va("ip", ap, err, cap);
	va_end(ap);
	return rc;
}

/* Run argv[0] (from PATH) with argv, in the current namespace; 0 if it
 * exited 0. Its stderr goes into err on failure. */
static int run_argv(char *const *argv, char *err, size_t cap)
{
	int st, pfd[2];
	pid_t pid;
	posix_spawn_file_actions_t fa;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	st = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (st != 0) {
		close(pfd[0]);
		snprintf(err, cap, "cannot run %s: %s", argv[0], strerror(st));
		return -1;
	}
	{
		char msg[200] = "";
		ssize_t r = read(pfd[0], msg, sizeof(msg) - 1);
		close(pfd[0]);
		msg[r > 0 ? r : 0] = 0;
		msg[strcspn(msg, "\n")] = 0;
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			int k = snprintf(err, cap, "%s", argv[0]);
			for (int i = 1; argv[i] && k > 0 && (size_t)k < cap; i++)
				k += snprintf(err + k, cap - (size_t)k, " %s", argv[i]);
			if (k > 0 && (size_t)k < cap)
				snprintf(err + k, cap - (size_t)k, ": %s", msg[0] ? msg : "failed");
			return -1;
		}
	}
	return 0;
}

static int ns_inode(const char *path, ino_t *ino, dev_t *dev)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return -1;
	*ino = sb.st_ino;
	*dev = sb.st_dev;
	return 0;
}

int netns_enter(const char *name, char *err, size_t cap)
{
	ino_t before, after;
	dev_t d1, d2;

	if (ns_inode("/proc/self/ns/net", &before, &d1) < 0) {
		snprintf(err, cap, "cannot read /proc/self/ns/net: %s", strerror(errno));
		return -1;
	}
	if (name && *name) {
		char path[300];
		int fd;

		if (strchr(name, '/')) {
			snprintf(err, cap, "namespace '%s': a name from `ip netns list`, not a path", name);
			return -1;
		}
		snprintf(path, sizeof(path), "/run/netns/%s", name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, cap, "namespace '%s': %s (make it with `ip netns add %s`)", name, strerror(errno),
				 name);
			return -1;
		}
		if (setns(fd, CLONE_NEWNET) < 0) {
			snprintf(err, cap, "namespace '%s': setns: %s (needs root)", name, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	} else if (unshare(CLONE_NEWNET) < 0) {
		snprintf(err, cap, "a namespace of the run's own: unshare: %s (needs root)", strerror(errno));
		return -1;
	}
	if (ns_inode("/proc/self/ns/net", &after, &d2) < 0 || (after == before && d1 == d2)) {
		snprintf(err, cap, "namespace '%s' is the one the run started in: refusing to change its addresses "
			 "and routes", name ? name : "");
		return -1;
	}
	ns.on = true;
	if (netns_ip(err, cap, "link", "set", "lo", "up", (char *)NULL) < 0)
		return -1;
	ns.trap_fd = netns_tun_open("tvtrap", err, cap);
	if (ns.trap_fd < 0)
		return -1;
	/* The trap is the only way out: every address not held in here goes
	 * to it, and nothing else has a route. */
	if (netns_ip(err, cap, "link", "set", "tvtrap", "up", (char *)NULL) < 0 ||
	    netns_ip(err, cap, "route", "replace", "default", "dev", "tvtrap", (char *)NULL) < 0)
		return -1;
	return 0;
}

int netns_tun_open(const char *name, char *err, size_t cap)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(err, cap, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, cap, "TUN device %s: %s%s", name, strerror(errno),
			 errno == EBUSY ? " (another run is using this namespace)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

bool netns_on(void) { return ns.on; }

int netns_unshare(int *orig, char *err, size_t cap)
{
	int fd;

	*orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*orig < 0 || unshare(CLONE_NEWNET) < 0) {
		snprintf(err, cap, "a new network namespace: %s", strerror(errno));
		if (*orig >= 0)
			close(*orig);
		*orig = -1;
		return -1;
	}
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, cap, "the new namespace: %s", strerror(errno));
		netns_leave(*orig, err, 0);
		*orig = -1;
	}
	return fd;
}

int netns_leave(int orig, char *err, size_t cap)
{
	int rc = setns(orig, CLONE_NEWNET);

	if (rc < 0 && cap)
		snprintf(err, cap, "back to the run's namespace: %s", strerror(errno));
	close(orig);
	return rc < 0 ? -1 : 0;
}

int netns_sysctl(const char *path, const char *val, char *err, size_t cap)
{
	FILE *fp = fopen(path, "w");
	int bad;

	if (!fp) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	bad = fputs(val, fp) < 0;
	bad |= fclose(fp) != 0;
	if (bad) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int netns_trap_fd(void) { return ns.trap_fd; }

int netns_addr_add(const tv_ip *ip, char *err, size_t cap)
{
	char a[TV_IP_STRLEN + 4];

	if (!ns.on || ip->af != TV_AF_INET)
		return -1;
	for (int i = 0; i < ns.naddrs; i++)
		if (ns.addrs[i] == ip->v4)
			return 0;
	if (ns.naddrs == NETNS_MAX_ADDRS) {
		snprintf(err, cap, "more than %d addresses in one run", NETNS_MAX_ADDRS);
		return -1;
	}
	tv_ip_fmt(ip, a);
	strcat(a, "/32");
	/* an address the SBC's script already put there is fine */
	if (netns_ip(err, cap, "addr", "replace", a, "dev", "lo", (char *)NULL) < 0)
		return -1;
	ns.addrs[ns.naddrs++] = ip->v4;
	return 0;
}
