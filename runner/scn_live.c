/* scn_live.c - `traverse run --live`: the scenario's phones, NATs and
 * softswitch stay simulated; its proxy is a real traverse-proxy process on
 * loopback, and a bridge joins the two worlds.
 *
 *   sim: phone -- NAT -- [access link] -- bridge(A) ----+
 *                                                        | real UDP on 127.R.x.y
 *   sim: softswitch -- [core link] -- bridge(K) ---------+---- traverse-proxy (A, K)
 *
 * Addresses: every IPv4 address the scenario names is moved into
 * 127.R.0.0/16 (R = --live-slot), keeping its last octet and giving each
 * distinct /24 its own third octet (live_map_ip). So the proxy sees each
 * NAT mapping as its own loopback address and port, and an address the
 * proxy should never send to (a phone's private one) is an unbound
 * loopback address: a mistake costs an ICMP error, never a packet on a
 * real network.
 *
 * The bridge owns the proxy's two addresses on their simulated links. A
 * UDP packet that reaches it from SRC:PORT leaves through a real socket
 * bound to that same SRC:PORT (made on first use; the softswitch's SIP
 * port is bound at start), and what the proxy sends to that socket comes
 * back into the simulation as a packet from the proxy to SRC:PORT. TCP is
 * not bridged: scenarios that use it are skipped with that reason.
 *
 * Time: the simulation's clock follows the real one (live_advance). */
#include "scn_ctx.h"
#include "scn_findings.h"
#include "scn_netns.h"
#include "livehost.h"
#include "map.h"
#include "pkt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIVE_SOCKS 4096

typedef struct live_sock {
	int fd;
	tv_ep ep;               /* the simulated endpoint it stands for */
	tv_ep real;             /* where it is bound (ep itself, but for --proxy's softswitch) */
	tv_host *via;           /* the bridge host that what it receives comes back through */

	struct scn_live *lv;
} live_sock;

struct scn_live {
	scn_ctx *c;
	live_loop *lp;
	tv_time epoch;          /* real time at virtual time 0 */
	char dir[64];           /* temporary directory: config, socket, log */
	pid_t pid;
	sym *px;
	tv_host *bh;            /* the bridge: a simulated host with the proxy's addresses */
	tv_host *bh_core;       /* --proxy: the SBC's access address as the core link sees it
				 * (live_core_reach), NULL until a name needs it */
	sym *core_link;
	tv_tcp_listener *tl;    /* TCP to the proxy's SIP port */
	struct tcp_splice *splices; /* simulated TCP connections joined to real ones */
	tv_ip owned[4];         /* addresses added for an external proxy */
	int nowned;
	tv_map socks;           /* simulated endpoint (ip << 16 | port) -> its real socket */
	uint64_t tcp_dropped, tcp_spliced, injected, sent, send_errors, trapped;
	uint64_t legs_at_stop;
	struct live_watcher *watchers;  /* live_watch */
	uint16_t ip_id;
};

/* ---- addresses ---- */

void live_map_ip(scn_ctx *c, tv_ip *ip)
{
	uint32_t net = ip->v4 >> 8;
	int k;

	if (!c->o->live || c->o->netns || ip->af != TV_AF_INET || ip->v4 == 0)
		return;         /* --netns: the scenario's own addresses */
	for (k = 0; k < c->lmap_n; k++)
		if (c->lmap[k] == net)
			break;
	if (k == c->lmap_n) {
		if (c->lmap_n == (int)(sizeof(c->lmap) / sizeof(c->lmap[0])))
			return;         /* 256 /24s: left as is, and the proxy will not reach it */
		c->lmap[c->lmap_n++] = net;
	}
	ip->v4 = 0x7f000000u | (uint32_t)(c->o->live_slot & 0xff) << 16 | (uint32_t)k << 8 | (ip->v4 & 0xff);
}

char *live_map_text(scn_ctx *c, const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out;
	bool changed = false;

	if (!c->o->live || c->o->netns || !(out = malloc(n * 2 + 16)))
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned a, b, d, e;
		int used = 0;
		bool start = i == 0 || !(s[i - 1] == '.' || isalnum((unsigned char)s[i - 1]));

		if (start && s[i] >= '0' && s[i] <= '9' && sscanf(s + i, "%3u.%3u.%3u.%3u%n", &a, &b, &d, &e, &used) == 4 &&
		    a < 256 && b < 256 && d < 256 && e < 256 &&
		    !isalnum((unsigned char)s[i + used]) &&
		    !(s[i + used] == '.' && s[i + used + 1] >= '0' && s[i + used + 1] <= '9')) {
			tv_ip ip = tv_ip4(a << 24 | b << 16 | d << 8 | e);
			char buf[TV_IP_STRLEN];
			live_map_ip(c, &ip);
			o += (size_t)sprintf(out + o, "%s", tv_ip_fmt(&ip, buf));
			i += (size_t)used;
			changed = true;
			continue;
		}
		out[o++] = s[i++];
	}
	out[o] = 0;
	if (!changed) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- real sockets ---- */

static void sock_rx(void *arg, int fd, uint32_t events, tv_time now);

static live_sock *sock_get_at(struct scn_live *lv, const tv_ep *ep, const tv_ep *real, tv_host *via)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	live_sock *s;
	int fd;

	uint64_t key = (uint64_t)ep->ip.v4 << 16 | ep->port;

	if ((s = tv_map_get(&lv->socks, key)))
		return s;
	if (lv->socks.n == LIVE_SOCKS)
		return NULL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(real->ip.v4);
	sin.sin_port = htons(real->port);
	if (fd >= 0 && netns_on()) {
		/* --netns: a NAT mapping's or the softswitch's address is put on
		 * lo when first used */
		char err[200];
		if (netns_addr_add(&real->ip, err, sizeof(err)) < 0)
			fprintf(stderr, "live: %s\n", err);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || live_loop_watch(lv->lp, fd, EPOLLIN, sock_rx, s) < 0) {
		free(s);
		close(fd);
		return NULL;
	}
	s->fd = fd;
	s->ep = *ep;
	s->real = *real;
	s->via = via;
	s->lv = lv;
	if (tv_map_put(&lv->socks, key, s) < 0) {
		live_loop_unwatch(lv->lp, fd);
		close(fd);
		free(s);
		return NULL;
	}
	return s;
}

static live_sock *sock_get(struct scn_live *lv, const tv_ep *ep, tv_host *via)
{
	return sock_get_at(lv, ep, ep, via);
}

/* An address of the proxy's (an external one's other address) that the
 * simulation must route to the bridge, on the core link. */
static void bridge_own(struct scn_live *lv, const tv_ip *ip)
{
	if (lv->c->o->ext_proxy.port && !tv_ip_eq(ip, &lv->c->o->ext_proxy.ip) && lv->nowned < 4) {
		for (int i = 0; i < lv->nowned; i++)
			if (tv_ip_eq(&lv->owned[i], ip))
				return;
		if (simhost_add_iface(lv->bh, lv->core_link->obj, ip) == 0)
			lv->owned[lv->nowned++] = *ip;
	}
}

/* A core-side relay address of an external proxy that is not one of its
 * core addresses (rtpengine relays both legs on its access address): a
 * host on the core link that is aimed at it (PROXY.PHONE.STREAM.core-rtp)
 * reaches it, as it would through a router. A host of its own, so that
 * the bridge's one source-routed host keeps sending what comes from the
 * access address onto the access link; what the SBC answers to a socket
 * that a core host made goes back onto the core link. */
static void bridge_core_udp(void *arg, const tv_ep *src, const tv_ep *dst, const uint8_t *data, size_t len,
			    tv_time now);

void live_core_reach(scn_ctx *c, const tv_ip *ip)
{
	struct scn_live *lv = c->live;

	if (!lv || !lv->bh || !lv->core_link || !c->o->ext_proxy.port || lv->nowned == 4)
		return;
	for (int i = 0; i < lv->nowned; i++)
		if (tv_ip_eq(&lv->owned[i], ip))
			return;
	if (!tv_ip_eq(ip, &c->o->ext_proxy.ip)) {
		bridge_own(lv, ip);     /* another of its addresses: the bridge's core side */
		return;
	}
	if (lv->bh_core)
		return;
	lv->bh_core = simhost_new(c->net, lv->core_link->obj, "live-bridge-core", ip);
	if (lv->bh_core)
		simhost_set_udp_any(lv->bh_core, bridge_core_udp, lv);
}

/* The virtual time that matches the real clock now. */
static tv_time live_vnow(const struct scn_live *lv) { return live_loop_now(lv->lp) - lv->epoch; }

/* What the real proxy sent to a socket: into the simulation, now. */
static void sock_rx(void *arg, int fd, uint32_t events, tv_time now)
{
	live_sock *s = arg;
	struct scn_live *lv = s->lv;
	static uint8_t buf[65536], pkt[65536 + 28];

	(void)events;
	(void)now;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		tv_ep src;
		int len;

		if (n < 0)
			return;
		src = tv_ep4(ntohl(from.sin_addr.s_addr), ntohs(from.sin_port));
		bridge_own(lv, &src.ip);
		len = pkt_build_udp(pkt, sizeof(pkt), &src, &s->ep, lv->ip_id++, buf, (size_t)n);
		if (len < 0)
			continue;
		sim_net_run_until(lv->c->net, live_vnow(lv));
		if (simhost_inject(s->via, pkt, (size_t)len) == 0)
			lv->injected++;
	}
}

/* A datagram reached the bridge in the simulation: out through the real
 * socket that stands for its source. */
static void bridge_send(struct scn_live *lv, tv_host *via, const tv_ep *src, const tv_ep *dst, const uint8_t *data,
			size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	live_sock *s = sock_get(lv, src, via);

	if (!s) {
		lv->send_errors++;
		return;
	}
	to.sin_addr.s_addr = htonl(dst->ip.v4);
	to.sin_port = htons(dst->port);
	if (sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
		lv->send_errors++;
	else
		lv->sent++;
}

static void bridge_udp(void *arg, const tv_ep *src, const tv_ep *dst, const uint8_t *data, size_t len, tv_time now)
{
	struct scn_live *lv = arg;

	(void)now;
	bridge_send(lv, lv->bh, src, dst, data, len);
}

static void bridge_core_udp(void *arg, const tv_ep *src, const tv_ep *dst, const uint8_t *data, size_t len,
			    tv_time now)
{
	struct scn_live *lv = arg;

	(void)now;
	bridge_send(lv, lv->bh_core, src, dst, data, len);
}

/* ---- TCP: a simulated connection to the proxy joined to a real one from
 * the same address and port ---- */

typedef struct tcp_splice {
	struct scn_live *lv;
	tv_tcp *sim;
	int fd;
	bool real_eof, sim_eof;
	struct tcp_splice *next;
} tcp_splice;

static void splice_end(tcp_splice *k, bool abort)
{
	struct scn_live *lv = k->lv;

	if (k->fd >= 0) {
		live_loop_unwatch(lv->lp, k->fd);
		close(k->fd);
		k->fd = -1;
	}
	if (k->sim) {
		if (abort)
			host_tcp_abort(k->sim);
		else
			host_tcp_close(k->sim);
	}
	if (abort)
		k->sim = NULL;
}

static void splice_real(void *arg, int fd, uint32_t events, tv_time now)
{
	tcp_splice *k = arg;
	uint8_t buf[16384];
	ssize_t n;

	(void)events;
	(void)now;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	sim_net_run_until(k->lv->c->net, live_vnow(k->lv));
	if (n <= 0) {
		/* the proxy closed (or reset): so does the simulated side */
		live_loop_unwatch(k->lv->lp, fd);
		close(fd);
		k->fd = -1;
		if (k->sim) {
			if (n < 0)
				host_tcp_abort(k->sim), k->sim = NULL;
			else
				host_tcp_close(k->sim);
		}
		return;
	}
	if (k->sim && host_tcp_send(k->sim, buf, (size_t)n) < 0)
		splice_end(k, true);
}

static void splice_sim(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	tcp_splice *k = arg;

	(void)c;
	(void)now;
	switch (ev) {
	case TV_TCP_DATA:
		/* loopback: a blocking write of what a SIP message holds */
		if (k->fd >= 0 && send(k->fd, data, len, MSG_NOSIGNAL) != (ssize_t)len)
			splice_end(k, true);
		break;
	case TV_TCP_PEER_CLOSED:
		if (k->fd >= 0)
			shutdown(k->fd, SHUT_WR);
		host_tcp_close(c);
		break;
	case TV_TCP_CLOSED:
	case TV_TCP_RESET:
	case TV_TCP_TIMEOUT:
		k->sim = NULL;  /* freed after this callback */
		if (k->fd >= 0) {
			if (ev != TV_TCP_CLOSED) {
				struct linger lg = { 1, 0 };
				setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			}
			live_loop_unwatch(k->lv->lp, k->fd);
			close(k->fd);
			k->fd = -1;
		}
		break;
	default:
		break;
	}
}

static void splice_accept(void *arg, tv_tcp *c, tv_time now)
{
	struct scn_live *lv = arg;
	tv_ep src = host_tcp_remote(c), dst = host_tcp_local(c);
	struct sockaddr_in a = { .sin_family = AF_INET }, b = { .sin_family = AF_INET };
	tcp_splice *k = calloc(1, sizeof(*k));
	int one = 1, fd;

	(void)now;
	if (!k) {
		host_tcp_abort(c);
		return;
	}
	k->lv = lv;
	k->sim = c;
	k->fd = -1;
	k->next = lv->splices;
	lv->splices = k;
	host_tcp_set_cb(c, splice_sim, k);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(src.ip.v4);
	a.sin_port = htons(src.port);
	b.sin_addr.s_addr = htonl(dst.ip.v4);
	b.sin_port = htons(dst.port);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* from the NAT mapping's own address and port, so the proxy sees the
	 * mapping; a connect to a loopback listener completes at once */
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || connect(fd, (struct sockaddr *)&b, sizeof(b)) < 0 ||
	    live_loop_watch(lv->lp, fd, EPOLLIN, splice_real, k) < 0) {
		if (fd >= 0)
			close(fd);
		lv->send_errors++;
		host_tcp_abort(c);
		k->sim = NULL;
		return;
	}
	k->fd = fd;
	lv->tcp_spliced++;
}

/* ---- the proxy process ---- */

static int ctl_connect(struct scn_live *lv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ctl.sock", lv->dir);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Ask the proxy; the answer's JSON (NULL if none within 5 s). */
static json_t *ctl_ask(struct scn_live *lv, const char *cmd)
{
	int fd = ctl_connect(lv);
	size_t have = 0, cap = 1 << 16;
	char *buf;
	json_t *j = NULL;
	time_t end = time(NULL) + 5;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf || dprintf(fd, "%s\n", cmd) < 0)
		goto out;
	while (time(NULL) < end) {
		ssize_t n;
		if (have + 1 == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				goto out;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		if (memchr(buf, '\n', have)) {
			buf[have] = 0;
			j = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
			break;
		}
	}
out:
	free(buf);
	close(fd);
	return j;
}

static const char *self_dir(char *buf, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = 0;
	slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return buf;
}

int live_proxy(scn_ctx *c, sym *px, sym *la, sym *lc, const proxy_cfg *pc, const opts *o)
{
	struct scn_live *lv = c->live;
	int err;
	char path[256], bin[512], dir[400], a[TV_IP_STRLEN], k[TV_IP_STRLEN], ss[TV_EP_STRLEN];
	FILE *fp;
	time_t end;

	if (!lv)
		return ctx_err(c, "live: not started");
	if (lv->px)
		return ctx_err(c, "live: one proxy per scenario");
	lv->px = px;
	/* the bridge stands where the proxy would */
	lv->core_link = lc;
	lv->bh = simhost_new(c->net, la->obj, "live-bridge", &pc->access_ip);
	if (!lv->bh || simhost_add_iface(lv->bh, lc->obj, &pc->core_ip) < 0)
		return ctx_err(c, "live: cannot place the bridge");
	simhost_set_udp_any(lv->bh, bridge_udp, lv);
	lv->tl = host_tcp_listen(lv->bh, px->port ? px->port : pc->sip_port, splice_accept, lv, &err);
	if (!lv->tl)
		return ctx_err(c, "live: cannot listen for TCP on the proxy's SIP port (%d)", err);
	/* the softswitch's SIP port, where the proxy sends first; an external
	 * proxy finds it where --softswitch-listen says */
	if (!c->o->ext_softswitch.port)
		for (int i = 0; i < c->nsyms; i++)
			if (c->syms[i]->kind == SYM_SOFTSWITCH && tv_ip_eq(&c->syms[i]->ip, &pc->softswitch.ip)) {
				const tv_ep *at = c->o->ext_proxy.port && c->o->ss_listen.port ? &c->o->ss_listen
												   : &pc->softswitch;
				if (!sock_get_at(lv, &pc->softswitch, at, lv->bh))
					return ctx_err(c, "live: cannot bind the softswitch's address %s", tv_ep_fmt(at, ss));
			}
	if (c->o->ext_proxy.port)
		return 0;       /* not ours to start */
	if (netns_on()) {
		char why[200];
		if (netns_addr_add(&pc->access_ip, why, sizeof(why)) < 0 || netns_addr_add(&pc->core_ip, why, sizeof(why)) < 0)
			return ctx_err(c, "live: %s", why);
	}
	snprintf(path, sizeof(path), "%s/proxy.conf", lv->dir);
	fp = fopen(path, "w");
	if (!fp)
		return ctx_err(c, "live: cannot write %s", path);
	fprintf(fp, "# written by traverse run --live for %s\naccess = %s\ncore = %s\nsoftswitch = %s\n"
		"control = %s/ctl.sock\naccounting = %s/records.csv\nlog-level = warn\n",
		c->f->path, tv_ip_fmt(&pc->access_ip, a), tv_ip_fmt(&pc->core_ip, k),
		tv_ep_fmt(c->o->ext_softswitch.port ? &c->o->ext_softswitch : &pc->softswitch, ss), lv->dir, lv->dir);
	for (int i = 0; i < o->n; i++)
		if (!proxy_place_key(o->v[i].key))
			fprintf(fp, "%s = %s\n", o->v[i].key, o->v[i].val);
	fclose(fp);
	if (!self_dir(dir, sizeof(dir)))
		return ctx_err(c, "live: cannot find traverse-proxy");
	snprintf(bin, sizeof(bin), "%s/traverse-proxy", dir);
	fflush(NULL);
	lv->pid = fork();
	if (lv->pid == 0) {
		char logp[300];
		int fd;
		/* if the run dies (Ctrl-C, a crash), the proxy goes with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		snprintf(logp, sizeof(logp), "%s/proxy.log", lv->dir);
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execl(bin, "traverse-proxy", "-f", "-c", path, (char *)NULL);
		_exit(127);
	}
	if (lv->pid < 0)
		return ctx_err(c, "live: fork: %s", strerror(errno));
	end = time(NULL) + 10;
	while (time(NULL) < end) {
		int fd = ctl_connect(lv);
		int st;
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(lv->pid, &st, WNOHANG) == lv->pid) {
			lv->pid = 0;
			return ctx_err(c, "live: traverse-proxy exited at start (see %s/proxy.log)", lv->dir);
		}
		usleep(10000);
	}
	return ctx_err(c, "live: traverse-proxy did not open its control socket in 10 s (%s/proxy.log)", lv->dir);
}

/* ---- descriptors of the run's own (the trap, scn_knat.c's devices) ---- */

void live_sync(scn_ctx *c)
{
	sim_net_run_until(c->net, live_vnow(c->live));
}

void live_tun_drain(scn_ctx *c, int fd, void (*pkt)(void *arg, int fd, uint8_t *p, size_t len), void *arg)
{
	uint8_t buf[65536];

	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		if ((buf[0] >> 4) != 4)
			continue;       /* IPv6 (router solicitations): not part of the scenario */
		live_sync(c);
		pkt(arg, fd, buf, (size_t)n);
	}
}

struct live_watcher {
	void (*fn)(void *arg, int fd);
	void *arg;
	int fd;
	struct live_watcher *next;
};

static void watcher_rx(void *arg, int fd, uint32_t events, tv_time now)
{
	struct live_watcher *w = arg;

	(void)events;
	(void)now;
	w->fn(w->arg, fd);
}

int live_watch(scn_ctx *c, int fd, void (*fn)(void *arg, int fd), void *arg)
{
	struct scn_live *lv = c->live;
	struct live_watcher *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	w->fn = fn;
	w->arg = arg;
	w->fd = fd;
	if (live_loop_watch(lv->lp, fd, EPOLLIN, watcher_rx, w) < 0) {
		free(w);
		return -1;
	}
	w->next = lv->watchers;
	lv->watchers = w;
	return 0;
}

void live_unwatch(scn_ctx *c, int fd)
{
	struct scn_live *lv = c->live;

	for (struct live_watcher **pp = &lv->watchers; *pp; pp = &(*pp)->next) {
		if ((*pp)->fd == fd) {
			struct live_watcher *w = *pp;
			live_loop_unwatch(lv->lp, fd);
			*pp = w->next;
			free(w);            /* the loop calls nothing more for fd */
			return;
		}
	}
}

/* ---- the namespace trap: what the proxy sent where nobody is ---- */

static void trap_rx(void *arg, int fd)
{
	struct scn_live *lv = arg;
	uint8_t buf[65536];

	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		lv->trapped++;
		findings_trap(lv->c, buf, (size_t)n);
	}
}

/* ---- the run ---- */

/* Ctrl-C or SIGTERM during a live run: stop the proxy, remove the files,
 * leave. The runner is a driver, so one static for the run in progress. */
static struct scn_live *live_now_running;

static void live_on_signal(int sig)
{
	struct scn_live *lv = live_now_running;
	static const char *const files[] = { "proxy.conf", "proxy.log", "records.csv", "ctl.sock" };
	char path[128];

	if (lv) {
		if (lv->pid > 0) {
			kill(lv->pid, SIGTERM);
			waitpid(lv->pid, NULL, 0);
		}
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", lv->dir, files[i]);
			unlink(path);
		}
		rmdir(lv->dir);
	}
	_exit(128 + sig);
}

int live_start(scn_ctx *c)
{
	struct scn_live *lv = calloc(1, sizeof(*lv));
	int err;

	if (!lv)
		return -1;
	lv->c = c;
	lv->ip_id = 1;
	tv_map_init(&lv->socks);
	lv->lp = live_loop_new(&err);
	snprintf(lv->dir, sizeof(lv->dir), "/tmp/traverse-live-XXXXXX");
	if (!lv->lp || !mkdtemp(lv->dir)) {
		live_loop_free(lv->lp);
		free(lv);
		return -1;
	}
	lv->epoch = live_loop_now(lv->lp);
	c->live = lv;
	if (netns_trap_fd() >= 0) {
		uint8_t junk[2048];
		/* what an earlier scenario's proxy sent late is not this one's */
		while (read(netns_trap_fd(), junk, sizeof(junk)) > 0)
			;
		if (live_watch(c, netns_trap_fd(), trap_rx, lv) < 0) {
			c->live = NULL;
			live_loop_free(lv->lp);
			rmdir(lv->dir);
			free(lv);
			return -1;
		}
	}
	live_now_running = lv;
	signal(SIGINT, live_on_signal);
	signal(SIGTERM, live_on_signal);
	return 0;
}

/* Run the simulation up to virtual time t, in step with the real clock,
 * serving the real sockets meanwhile. */
void live_advance(scn_ctx *c, tv_time t)
{
	struct scn_live *lv = c->live;

	for (;;) {
		tv_time vnow = live_vnow(lv), next;

		if (vnow >= t) {
			sim_net_run_until(c->net, t);
			return;
		}
		sim_net_run_until(c->net, vnow);
		next = tv_timerq_next(sim_net_timers(c->net));
		if (next > t)
			next = t;
		live_loop_once(lv->lp, next > vnow ? next - vnow : 0);
	}
}

/* Stop the proxy (SIGTERM: it ends every leg and exits 0). A failure to
 * stop cleanly is a failure of the scenario. */
static void live_stop_proxy(scn_ctx *c, struct scn_live *lv)
{
	int st = 0;
	time_t end = time(NULL) + 10;

	if (lv->pid <= 0)
		return;
	kill(lv->pid, SIGTERM);
	while (waitpid(lv->pid, &st, WNOHANG) == 0) {
		if (time(NULL) >= end) {
			kill(lv->pid, SIGKILL);
			waitpid(lv->pid, &st, 0);
			ctx_expect(c, false, "live: traverse-proxy did not stop within 10 s of SIGTERM");
			lv->pid = 0;
			return;
		}
		usleep(10000);
	}
	lv->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char path[128], line[512];
		FILE *fp;
		ctx_expect(c, false, "live: traverse-proxy exited with status %d%s; its log follows",
			   WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
			   WIFSIGNALED(st) ? ", killed by a signal" : "");
		snprintf(path, sizeof(path), "%s/proxy.log", lv->dir);
		fp = fopen(path, "r");
		while (fp && fgets(line, sizeof(line), fp))
			fprintf(stderr, "traverse-proxy: %s", line);
		if (fp)
			fclose(fp);
	}
}

/* An SBC under test outlives the scenario: leave it as phones that are
 * switched off would (calls ended, registrations removed), so that it does
 * not keep calls, relays and keepalives of this scenario into the next. */
static void live_farewell(scn_ctx *c)
{
	for (int i = 0; i < c->nsyms; i++) {
		sym *ph = c->syms[i];
		const sipua_status *st;

		if (ph->kind != SYM_PHONE || !ph->obj)
			continue;
		st = sipua_get_status(ph->obj);
		if (st->state == SIPUA_ESTABLISHED)
			sipua_hangup(ph->obj);
		else if ((st->state == SIPUA_CALLING || st->state == SIPUA_RINGING) && sipua_cancel(ph->obj) < 0)
			sipua_reject(ph->obj, 480);
		sipua_unregister(ph->obj);
	}
	live_advance(c, sim_net_now(c->net) + TV_MS(1500));
}

void live_finish(scn_ctx *c)
{
	struct scn_live *lv = c->live;

	if (!lv)
		return;
	if (c->o->ext_proxy.port) {
		live_farewell(c);
		if (c->o->verbose)
			fprintf(stderr, "live: %s: %llu datagrams to %s's side, %llu back\n", c->f->path,
				(unsigned long long)lv->sent, lv->px ? lv->px->name : "the proxy",
				(unsigned long long)lv->injected);
		return;         /* not ours to stop */
	}
	/* every leg up at the stop must leave its record: count them */
	if (lv->pid > 0) {
		proxy_stats st;
		uint64_t legs = 0, records = 0, shutdown = 0, lines = 0;
		char path[128], line[512];
		FILE *fp;

		if (live_stats(c, &st) == 0) {
			legs = st.legs;
			records = st.records;
		}
		live_stop_proxy(c, lv);
		snprintf(path, sizeof(path), "%s/records.csv", lv->dir);
		fp = fopen(path, "r");
		while (fp && fgets(line, sizeof(line), fp))
			if (lines++ && strstr(line, ",shutdown,"))
				shutdown++;
		if (fp)
			fclose(fp);
		lines = lines ? lines - 1 : 0;  /* the header */
		if (shutdown != legs || lines != records + legs)
			ctx_expect(c, false, "live: %llu legs were up when traverse-proxy was stopped and %llu records "
				   "existed; its accounting file has %llu records, %llu of them 'shutdown'",
				   (unsigned long long)legs, (unsigned long long)records, (unsigned long long)lines,
				   (unsigned long long)shutdown);
		lv->legs_at_stop = legs;
	}
	if (c->o->verbose)
		fprintf(stderr, "live: %s: %llu datagrams to the proxy, %llu from it, %llu send errors, %llu "
			"trapped; %llu legs ended by the stop; files in %s\n", c->f->path, (unsigned long long)lv->sent,
			(unsigned long long)lv->injected, (unsigned long long)lv->send_errors,
			(unsigned long long)lv->trapped, (unsigned long long)lv->legs_at_stop, lv->dir);
}

void live_free(scn_ctx *c)
{
	struct scn_live *lv = c->live;
	char path[300];

	if (!lv)
		return;
	live_now_running = NULL;
	if (lv->pid > 0) {
		kill(lv->pid, SIGKILL);
		waitpid(lv->pid, NULL, 0);
	}
	for (size_t i = 0; lv->socks.slots && i <= lv->socks.mask; i++) {
		live_sock *k = lv->socks.slots[i].val;
		if (!k)
			continue;
		live_loop_unwatch(lv->lp, k->fd);
		close(k->fd);
		free(k);
	}
	tv_map_free(&lv->socks);
	while (lv->watchers) {
		struct live_watcher *w = lv->watchers;
		live_loop_unwatch(lv->lp, w->fd);
		lv->watchers = w->next;
		free(w);
	}
	while (lv->splices) {
		tcp_splice *k = lv->splices;
		lv->splices = k->next;
		if (k->fd >= 0) {
			live_loop_unwatch(lv->lp, k->fd);
			close(k->fd);
		}
		free(k);        /* the simulated connections go with the bridge host */
	}
	host_tcp_unlisten(lv->tl);
	host_free(lv->bh_core);
	host_free(lv->bh);
	live_loop_once(lv->lp, 0);      /* frees what unwatch left */
	live_loop_free(lv->lp);
	if (!c->o->verbose) {
		static const char *const files[] = { "proxy.conf", "proxy.log", "records.csv", "ctl.sock" };
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", lv->dir, files[i]);
			unlink(path);
		}
		rmdir(lv->dir);
	}
	free(lv);
	c->live = NULL;
}

/* ---- what the proxy knows, through its control socket ---- */

bool live_opaque(scn_ctx *c, int kind)
{
	if (!c->live || c->dry)
		return false;
	if (kind == SYM_PROXY && c->o->ext_proxy.port)
		return true;
	return kind == SYM_SOFTSWITCH && c->o->ext_softswitch.port;
}

int live_stats(scn_ctx *c, proxy_stats *out)
{
	json_t *j = ctl_ask(c->live, "stats"), *s;
	char nb[64];

	memset(out, 0, sizeof(*out));
	s = j ? json_object_get(j, "stats") : NULL;
	if (!s) {
		json_decref(j);
		return -1;
	}
	for (int i = 0; i < proxy_stat_count(); i++) {
		json_t *v = json_object_get(s, proxy_stat_name(i, nb, sizeof(nb)));
		proxy_stat_set(out, i, v ? (uint64_t)json_integer_value(v) : 0);
	}
	json_decref(j);
	return 0;
}

static tv_ep j_ep(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	tv_ep ep = { 0 };

	if (s)
		tv_ep_parse(s, &ep, false);
	return ep;
}

static uint64_t j_u(json_t *o, const char *k) { return (uint64_t)json_integer_value(json_object_get(o, k)); }

void live_foreach_stream(scn_ctx *c, void (*fn)(void *arg, const proxy_stream_info *s), void *arg)
{
	json_t *j = ctl_ask(c->live, "streams"), *a = j ? json_object_get(j, "streams") : NULL, *o;
	size_t i;

	json_array_foreach(a, i, o) {
		proxy_stream_info si = {
			.user = json_string_value(json_object_get(o, "user")),
			.call_id = json_string_value(json_object_get(o, "call_id")),
			.index = (int)j_u(o, "index"),
			.access_port = (uint16_t)j_u(o, "access_port"), .core_port = (uint16_t)j_u(o, "core_port"),
			.sdp_rtp = j_ep(o, "sdp"), .latched_rtp = j_ep(o, "latched_rtp"),
			.latched_rtcp = j_ep(o, "latched_rtcp"), .core_remote = j_ep(o, "core_remote"),
			.to_core = j_u(o, "pkts_to_core"), .to_access = j_u(o, "pkts_to_access"),
			.bytes_to_core = j_u(o, "bytes_to_core"), .bytes_to_access = j_u(o, "bytes_to_access"),
			.rtcp_to_core = j_u(o, "rtcp_to_core"), .rtcp_to_access = j_u(o, "rtcp_to_access"),
			.dropped = j_u(o, "dropped"), .held = json_is_true(json_object_get(o, "held")),
		};
		fn(arg, &si);
	}
	json_decref(j);
}

void live_foreach_binding(scn_ctx *c, void (*fn)(void *arg, const proxy_binding_info *b), void *arg)
{
	json_t *j = ctl_ask(c->live, "bindings"), *a = j ? json_object_get(j, "bindings") : NULL, *o;
	size_t i;

	json_array_foreach(a, i, o) {
		const char *tr = json_string_value(json_object_get(o, "transport"));
		proxy_binding_info bi = {
			.user = json_string_value(json_object_get(o, "user")),
			.nat = j_ep(o, "nat"), .contact = j_ep(o, "contact"), .core = j_ep(o, "core"),
			.registered = json_is_true(json_object_get(o, "registered")),
			.tcp = tr && !strcmp(tr, "tcp"),
			.ka_sent = j_u(o, "ka_sent"), .ka_answered = j_u(o, "ka_answered"),
			.ka_misses = (int)j_u(o, "ka_misses"),
		};
		fn(arg, &bi);
	}
	json_decref(j);
}

/* The softswitch's reach, moved into the live address plan: what it could
 * reach in simulation it reaches live, by the scenario's own addresses
 * (c->lmap holds each /24 as the scenario wrote it). A prefix shorter than
 * /24 covers the mapped /24s inside it. */
void live_reach(scn_ctx *c, softswitch_cfg *sc, const tv_ip *self)
{
	softswitch_prefix out[SOFTSWITCH_MAX_REACH];
	int n = 0;

	if (sc->reach == SOFTSWITCH_REACH_ANY)
		return;
	if (c->o->ext_proxy.port) {
		/* the proxy under test signals from addresses only it knows; the
		 * phones' private ones have no route from the core link anyway */
		sc->reach = SOFTSWITCH_REACH_ANY;
		return;
	}
	if (c->o->netns)
		return;         /* the addresses are the scenario's own */
	for (int k = 0; k < c->lmap_n && n < SOFTSWITCH_MAX_REACH; k++) {
		uint32_t orig = c->lmap[k] << 8;
		bool in = false;

		if (sc->reach == SOFTSWITCH_REACH_LIST) {
			for (int i = 0; i < sc->nreach && !in; i++) {
				int len = sc->reach_list[i].len < 24 ? sc->reach_list[i].len : 24;
				uint32_t mask = len ? ~0u << (32 - len) : 0;
				in = ((orig ^ sc->reach_list[i].net.v4) & mask) == 0;
			}
		} else {
			in = softswitch_public_ip(&(tv_ip){ .af = TV_AF_INET, .v4 = orig });
		}
		if (in) {
			out[n].net = tv_ip4(orig);
			live_map_ip(c, &out[n].net);    /* the same /24, moved */
			out[n++].len = 24;
		}
	}
	/* the default also reaches the softswitch's own /24 */
	if (sc->reach == SOFTSWITCH_REACH_DEFAULT && n < SOFTSWITCH_MAX_REACH) {
		out[n].net = tv_ip4(self->v4 & 0xffffff00u);
		out[n++].len = 24;
	}
	memcpy(sc->reach_list, out, sizeof(out[0]) * (size_t)n);
	sc->nreach = n;
	sc->reach = SOFTSWITCH_REACH_LIST;
}
