/* scn_rhost.c - `host NAME link=LINK ip=IP kind=netns`: a real host in a
 * scenario. Unmodified programs (sipp, baresip, a STUN client) run there,
 * behind the scenario's NATs (simnat, or the kernel's with kind=linux),
 * and talk to the proxy and the phones as a simulated host would.
 *
 *   [ namespace of its own ]                         the run
 *     program --> eth0 (TUN) --read--> sim iface on LINK, source IP --> NAT --> ...
 *     program <-- eth0 (TUN) <-write-- sim iface on LINK, packets to IP <-- ...
 *
 * The namespace is anonymous (unshare), kept by a descriptor, holds lo and
 * eth0 (IP/24, the default route); it has no other way out, so whatever
 * the program sends enters the scenario and nothing else. The datapath is
 * a TUN device: IPv4 packets as the kernel routes them, no link layer, the
 * same device scn_knat.c and traverse-nat use.
 *
 *   exec NAME "COMMAND"      /bin/sh -c COMMAND there, in the background;
 *                            cwd: the scenario file's directory; stdout and
 *                            stderr to a log the failures quote; env:
 *                            TRAVERSE_HOST, TRAVERSE_HOST_IP, TRAVERSE_TMP
 *                            (a directory of the host's, removed at the end)
 *   expect host NAME [exited=yes|no] [code=N] [rx OP N] [tx OP N] [port=P]
 *                            rx/tx: IPv4 packets into/out of the host; with
 *                            port=P only UDP to/from port P
 *
 * The program is killed (its process group, SIGTERM, then SIGKILL) when
 * the scenario ends and dies with the run (PR_SET_PDEATHSIG). Live runs in
 * a namespace only (traverse run --netns, root); other runs skip the
 * scenario. */
#include "scn_ctx.h"
#include "scn_netns.h"
#include "scn_rhost.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RHOST_PORTS 32

struct rhost {
	scn_ctx *c;
	sym *s;
	sim_iface *ifc;
	int nsfd, tun;
	pid_t pid;              /* the running command, 0 if none */
	int status;             /* of the last command that ended (waitpid) */
	bool ended;             /* a command ran and ended */
	int runs;
	char dir[64];           /* TRAVERSE_TMP, and the logs */
	char log[96];           /* the current command's log */
	uint64_t rx, tx, write_errors;
	struct { uint16_t port; uint64_t rx, tx; } ports[RHOST_PORTS];
	int nports;
};

/* The UDP port of a packet (dst if rx, else src), or 0. */
static uint16_t udp_port(const uint8_t *p, size_t len, bool rx)
{
	size_t ihl;

	if (len < 20 || (p[0] >> 4) != 4 || p[9] != TV_PROTO_UDP || (p[6] & 0x1f) || p[7])
		return 0;       /* not UDP, or a later fragment */
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl + 8)
		return 0;
	p += ihl + (rx ? 2 : 0);
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void count(struct rhost *h, const uint8_t *pkt, size_t len, bool rx)
{
	uint16_t port = udp_port(pkt, len, rx);
	int i;

	if (rx)
		h->rx++;
	else
		h->tx++;
	if (!port)
		return;
	for (i = 0; i < h->nports && h->ports[i].port != port; i++)
		;
	if (i == h->nports) {
		if (h->nports == RHOST_PORTS)
			return;         /* the first 32 ports are counted; enough for a client */
		h->ports[h->nports++].port = port;
	}
	if (rx)
		h->ports[i].rx++;
	else
		h->ports[i].tx++;
}

/* From the scenario into the host. */
static void rhost_deliver(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len)
{
	struct rhost *h = node;

	(void)ifc;
	(void)now;
	count(h, pkt, len, true);
	if (write(h->tun, pkt, len) != (ssize_t)len)
		h->write_errors++;
}

/* From the host into the scenario. */
static void rhost_pkt(void *arg, int fd, uint8_t *pkt, size_t len)
{
	struct rhost *h = arg;

	(void)fd;
	count(h, pkt, len, false);
	sim_iface_send(h->ifc, pkt, len);
}

static void rhost_read(void *arg, int fd)
{
	struct rhost *h = arg;

	live_tun_drain(h->c, fd, rhost_pkt, h);
}

static void rm_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			if (unlink(p) < 0 && errno == EISDIR)
				rm_dir(p);
		}
	closedir(d);
	rmdir(path);
}

struct rhost *rhost_new(scn_ctx *c, sym *s, sim_link *l, char *err, size_t cap)
{
	struct rhost *h;
	char ip[TV_IP_STRLEN + 4];
	int orig;
	bool ok;

	if (!netns_on() || !c->live) {
		snprintf(err, cap, "kind=netns needs a live run in a network namespace (traverse run --netns, as root)");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	h->c = c;
	h->s = s;
	h->tun = -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/traverse-host-%s-XXXXXX", s->name);
	if (!mkdtemp(h->dir)) {
		snprintf(err, cap, "%s: %s", h->dir, strerror(errno));
		free(h);
		return NULL;
	}
	h->ifc = sim_iface_new(l, h, rhost_deliver);
	if (!h->ifc || sim_iface_add_ip(h->ifc, &s->ip) != 0) {
		snprintf(err, cap, "address already in use on the link");
		rhost_free(c, h);
		return NULL;
	}
	h->nsfd = netns_unshare(&orig, err, cap);
	if (h->nsfd < 0) {
		h->nsfd = -1;
		rhost_free(c, h);
		return NULL;
	}
	tv_ip_fmt(&s->ip, ip);
	strcat(ip, "/24");
	ok = (h->tun = netns_tun_open("eth0", err, cap)) >= 0 &&
	     netns_ip(err, cap, "link", "set", "lo", "up", (char *)NULL) == 0 &&
	     netns_ip(err, cap, "addr", "add", ip, "dev", "eth0", (char *)NULL) == 0 &&
	     netns_ip(err, cap, "link", "set", "eth0", "up", (char *)NULL) == 0 &&
	     netns_ip(err, cap, "route", "add", "default", "dev", "eth0", (char *)NULL) == 0;
	if (netns_leave(orig, err, ok ? cap : 0) < 0)
		ok = false;
	if (ok && live_watch(c, h->tun, rhost_read, h) < 0) {
		snprintf(err, cap, "cannot watch the host's device");
		ok = false;
	}
	if (!ok) {
		rhost_free(c, h);
		return NULL;
	}
	return h;
}

/* Reap the command if it ended. */
static void reap(struct rhost *h, bool block)
{
	int st;

	if (h->pid > 0 && waitpid(h->pid, &st, block ? 0 : WNOHANG) == h->pid) {
		h->status = st;
		h->ended = true;
		h->pid = 0;
	}
}

static void stop(struct rhost *h)
{
	if (h->pid <= 0)
		return;
	kill(-h->pid, SIGTERM);
	for (int i = 0; i < 100 && h->pid > 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		reap(h, false);
	}
	if (h->pid > 0) {
		kill(-h->pid, SIGKILL);
		reap(h, true);
	}
}

void rhost_free(scn_ctx *c, struct rhost *h)
{
	if (!h)
		return;
	stop(h);
	if (h->tun >= 0) {
		if (c->live)
			live_unwatch(c, h->tun);
		close(h->tun);
	}
	if (h->nsfd >= 0)
		close(h->nsfd);         /* the namespace goes with its last reference */
	if (h->ifc)
		sim_iface_set_node(h->ifc, NULL, NULL);
	if (c->o->verbose)
		fprintf(stderr, "host %s: %llu packets in, %llu out, %llu write errors\n", h->s->name,
			(unsigned long long)h->rx, (unsigned long long)h->tx, (unsigned long long)h->write_errors);
	rm_dir(h->dir);
	free(h);
}

/* The scenario file's directory, for the command's cwd. */
static void scn_dir(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, cap, ".");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* exec NAME "COMMAND" */
int rhost_exec(scn_ctx *c, const scn_stmt *st)
{
	sym *s;
	struct rhost *h;
	char dir[PATH_MAX], ip[TV_IP_STRLEN];
	int logfd;
	pid_t pid;

	if (st->argc != 3 || !st->argv[2][0])
		return ctx_err(c, "usage: exec HOST \"COMMAND\" (a host declared with kind=netns)");
	s = need_sym(c, st->argv[1], SYM_RHOST);
	if (!s || c->dry)
		return s ? 0 : -1;
	h = s->obj;
	reap(h, false);
	if (h->pid > 0)
		return ctx_err(c, "exec %s: its command from an earlier exec still runs", s->name);
	scn_dir(c->f->path, dir, sizeof(dir));
	tv_ip_fmt(&s->ip, ip);
	snprintf(h->log, sizeof(h->log), "%s/exec%d.log", h->dir, ++h->runs);
	logfd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0)
		return ctx_err(c, "exec %s: %s: %s", s->name, h->log, strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		if (setns(h->nsfd, CLONE_NEWNET) < 0 || chdir(dir) < 0) {
			dprintf(logfd, "traverse: cannot enter the host's namespace or %s: %s\n", dir, strerror(errno));
			_exit(126);
		}
		dup2(logfd, 1);
		dup2(logfd, 2);
		close_range(3, ~0u, 0);
		setenv("TRAVERSE_HOST", s->name, 1);
		setenv("TRAVERSE_HOST_IP", ip, 1);
		setenv("TRAVERSE_TMP", h->dir, 1);
		execl("/bin/sh", "sh", "-c", st->argv[2], (char *)NULL);
		_exit(127);
	}
	close(logfd);
	if (pid < 0)
		return ctx_err(c, "exec %s: fork: %s", s->name, strerror(errno));
	setpgid(pid, pid);      /* both sides: no race with the kill at the end */
	h->pid = pid;
	h->ended = false;
	return 0;
}

/* The last line of the log that has text, for a failure message. */
static void log_tail(const struct rhost *h, char *out, size_t cap)
{
	FILE *fp = fopen(h->log, "r");
	char line[256];

	out[0] = '\0';
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		size_t n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n)
			snprintf(out, cap, "%.160s", line);
	}
	fclose(fp);
}

/* expect host NAME [exited=yes|no] [code=N] [rx OP N] [tx OP N] [port=P] */
int rhost_expect(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "exited", "code", "rx", "tx", "port", NULL };
	opts o;
	sym *s;
	struct rhost *h;
	const opt *v;
	uint64_t port = 0;
	char what[64], tail[200];

	if (st->argc < 4)
		return ctx_err(c, "usage: expect host NAME [exited=yes|no] [code=N] [rx OP N] [tx OP N] [port=P]");
	s = need_sym(c, st->argv[2], SYM_RHOST);
	if (!s || opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "port")) && (strcmp(v->op, "=") || opt_u64(c, v, &port) < 0 || !port || port > 65535))
		return ctx_err(c, "port=P: a UDP port, 1 to 65535");
	for (int i = 0; i < o.n; i++)
		if ((!strcmp(o.v[i].key, "exited") || !strcmp(o.v[i].key, "code")) && strcmp(o.v[i].op, "="))
			return ctx_err(c, "%s takes '=' only", o.v[i].key);
	if ((v = opts_get(&o, "exited"))) {
		bool b;
		if (opt_bool(c, v, &b) < 0)
			return -1;
	}
	if (c->dry)
		return 0;
	h = s->obj;
	reap(h, false);
	log_tail(h, tail, sizeof(tail));
	snprintf(what, sizeof(what), "host %s", s->name);
	for (int i = 0; i < o.n; i++) {
		const opt *p = &o.v[i];
		if (!strcmp(p->key, "exited")) {
			bool want;
			opt_bool(c, p, &want);
			ctx_expect(c, h->ended == want && h->runs, "host %s: expected exited=%s, its command %s%s%s%s",
				   s->name, p->val, !h->runs ? "never ran" : h->pid > 0 ? "still runs" : "ended",
				   tail[0] ? " (log: " : "", tail, tail[0] ? ")" : "");
		} else if (!strcmp(p->key, "code")) {
			uint64_t want;
			char got[48];
			bool ok = false;
			if (opt_u64(c, p, &want) < 0)
				return -1;
			if (!h->ended)
				snprintf(got, sizeof(got), "its command has not ended");
			else if (WIFEXITED(h->status)) {
				ok = (uint64_t)WEXITSTATUS(h->status) == want;
				snprintf(got, sizeof(got), "got %d", WEXITSTATUS(h->status));
			} else
				snprintf(got, sizeof(got), "killed by signal %d", WTERMSIG(h->status));
			ctx_expect(c, ok, "host %s: expected code=%s, %s%s%s%s", s->name, p->val, got,
				   tail[0] ? " (log: " : "", tail, tail[0] ? ")" : "");
		} else if (!strcmp(p->key, "rx") || !strcmp(p->key, "tx")) {
			bool rx = p->key[0] == 'r';
			uint64_t got = rx ? h->rx : h->tx;
			if (port) {
				got = 0;
				for (int k = 0; k < h->nports; k++)
					if (h->ports[k].port == port)
						got = rx ? h->ports[k].rx : h->ports[k].tx;
				snprintf(what, sizeof(what), "host %s port %llu", s->name, (unsigned long long)port);
			}
			check_count(c, what, p, got);
		}
	}
	return 0;
}
