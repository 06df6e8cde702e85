/* livehost.c - the live host and its loop (livehost.h): epoll, non-blocking
 * sockets, recvmmsg/sendmmsg, CLOCK_MONOTONIC. The one file below the
 * runner that talks to the OS for the network (tests/sans_io.sh knows). */
#include "host_ops.h"
#include "livehost.h"
#include "rng.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LIVE_MAX_IPS 4
#define LIVE_TXQ 64
#define LIVE_RX_MAX 65536
#define LIVE_TCP_SNDBUF_MAX (64u << 20)
#define LIVE_EVENTS 64

/* What an epoll event points at. */
enum fd_kind { FD_UDP, FD_TCP, FD_LISTEN, FD_WATCH };

typedef struct live_fd live_fd;
struct live_fd {
	int fd;
	uint8_t kind;           /* enum fd_kind */
	bool gone;              /* closed: freed at the end of the iteration */
	live_fd *zombie_next;
};

typedef struct live_host live_host;

/* One per socket, so kept small (a proxy has one per terminal and four
 * per media stream): 48 bytes on LP64, a 64-byte glibc malloc chunk. */
typedef struct live_udp {
	tv_host *owner;         /* first: host_ops.h; its live_host (UH) */
	live_fd f;
	uint32_t ip;            /* IPv4 address as bound (wildcard: 0) */
	uint16_t port;
	tv_udp_rx_fn fn;
	void *arg;
} live_udp;
_Static_assert(sizeof(live_udp) <= 7 * sizeof(void *), "live_udp: one small malloc chunk");

typedef struct live_tcp {
	tv_host *owner;         /* first: host_ops.h */
	live_fd f;
	live_host *h;
	tv_ep local, remote;
	tv_tcp_fn fn;
	void *arg;
	bool connecting, connected, peer_closed, want_close, wr_shut;
	uint8_t *sbuf;          /* unsent bytes: sbuf[shead .. shead+slen) */
	size_t shead, slen, scap;
	tv_time idle, last_io;
	tv_timer idle_t;
	tv_timer fin_t;         /* both directions closed: CLOSED on the next turn */
	uint32_t ev_mask;
} live_tcp;

typedef struct live_listener live_listener;

/* One listening socket of a listener (one per address of the host). */
typedef struct live_lsock {
	live_fd f;
	live_listener *l;
} live_lsock;

struct live_listener {
	tv_host *owner;         /* first: host_ops.h */
	live_host *h;
	uint16_t port;
	tv_tcp_accept_fn fn;
	void *arg;
	int n;
	live_lsock s[LIVE_MAX_IPS];
};

typedef struct live_watch live_watch;
struct live_watch {
	live_fd f;
	live_fd_fn fn;
	void *arg;
	live_watch *next;
};

struct live_host {
	tv_host base;           /* first: host_ops.h */
	live_loop *lp;
	tv_ip ips[LIVE_MAX_IPS];
	int nips;
	tv_rng rng;
	tv_host_stats st;
};

typedef struct txq_ent {
	int fd;
	struct sockaddr_in dst;
	struct in_pktinfo src;  /* ipi_spec_dst 0: the socket's own */
	size_t len;
	uint8_t buf[LIVE_SLOT];
} txq_ent;

struct live_loop {
	int ep;
	bool stop;
	tv_timerq tq;
	live_loop_stats st;
	live_fd *zombies;
	live_watch *watches;
	/* transmit queue, flushed at the end of each iteration */
	txq_ent txq[LIVE_TXQ];
	int ntx;
	/* receive batch */
	struct mmsghdr rmsg[LIVE_BATCH];
	struct iovec riov[LIVE_BATCH];
	struct sockaddr_in rfrom[LIVE_BATCH];
	uint8_t *rbuf;          /* LIVE_BATCH slots of LIVE_RX_MAX */
	uint8_t tcpbuf[LIVE_RX_MAX];
};

static const tv_host_ops live_ops;

static inline live_host *LH(tv_host *h) { return (live_host *)h; }
static inline const live_host *CLH(const tv_host *h) { return (const live_host *)h; }
static inline live_host *UH(const live_udp *s) { return (live_host *)s->owner; }

static void ep_to_sin(const tv_ep *ep, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(ep->ip.v4);
	sin->sin_port = htons(ep->port);
}

static tv_ep sin_to_ep(const struct sockaddr_in *sin)
{
	return tv_ep4(ntohl(sin->sin_addr.s_addr), ntohs(sin->sin_port));
}

static int neg_errno(void) { return errno ? -errno : TV_EINVAL; }

/* ---- loop ---- */

live_loop *live_loop_new(int *err)
{
	live_loop *lp = calloc(1, sizeof(*lp));

	if (!lp || !(lp->rbuf = malloc((size_t)LIVE_BATCH * LIVE_RX_MAX))) {
		free(lp);
		*err = TV_ENOMEM;
		return NULL;
	}
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	if (lp->ep < 0) {
		*err = neg_errno();
		free(lp->rbuf);
		free(lp);
		return NULL;
	}
	tv_timerq_init(&lp->tq);
	for (int i = 0; i < LIVE_BATCH; i++) {
		lp->riov[i].iov_base = lp->rbuf + (size_t)i * LIVE_RX_MAX;
		lp->riov[i].iov_len = LIVE_RX_MAX;
		lp->rmsg[i].msg_hdr.msg_name = &lp->rfrom[i];
		lp->rmsg[i].msg_hdr.msg_iov = &lp->riov[i];
		lp->rmsg[i].msg_hdr.msg_iovlen = 1;
	}
	*err = 0;
	return lp;
}

static void free_zombies(live_loop *lp);

void live_loop_free(live_loop *lp)
{
	if (!lp)
		return;
	free_zombies(lp);
	while (lp->watches) {
		live_watch *w = lp->watches;
		lp->watches = w->next;
		free(w);
	}
	tv_timerq_free(&lp->tq);
	close(lp->ep);
	free(lp->rbuf);
	free(lp);
}

tv_time live_loop_now(const live_loop *lp)
{
	struct timespec ts;

	(void)lp;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (tv_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void live_loop_stop(live_loop *lp) { lp->stop = true; }
const live_loop_stats *live_loop_get_stats(const live_loop *lp) { return &lp->st; }
void live_loop_timer_arm(live_loop *lp, tv_timer *t, tv_time when) { tv_timerq_arm(&lp->tq, t, when); }
void live_loop_timer_cancel(live_loop *lp, tv_timer *t) { tv_timerq_cancel(&lp->tq, t); }
tv_time live_loop_next_timer(const live_loop *lp) { return tv_timerq_next(&lp->tq); }

static int ep_add(live_loop *lp, live_fd *f, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = f };

	return epoll_ctl(lp->ep, EPOLL_CTL_ADD, f->fd, &ev) < 0 ? neg_errno() : 0;
}

static void ep_mod(live_loop *lp, live_fd *f, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = f };

	epoll_ctl(lp->ep, EPOLL_CTL_MOD, f->fd, &ev);
}

/* Close now, free later: events already fetched may still point at it. */
static void fd_bury(live_loop *lp, live_fd *f)
{
	if (f->fd >= 0) {
		epoll_ctl(lp->ep, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
		f->fd = -1;
	}
	f->gone = true;
	f->zombie_next = lp->zombies;
	lp->zombies = f;
}

static void tcp_free(live_tcp *c);

static void free_zombies(live_loop *lp)
{
	while (lp->zombies) {
		live_fd *f = lp->zombies;
		lp->zombies = f->zombie_next;
		switch (f->kind) {
		case FD_UDP:
			free((char *)f - offsetof(live_udp, f));
			break;
		case FD_TCP:
			tcp_free((live_tcp *)((char *)f - offsetof(live_tcp, f)));
			break;
		case FD_WATCH:
			free((char *)f - offsetof(live_watch, f));
			break;
		case FD_LISTEN: {
			/* part of its listener: freed with the last of them */
			live_listener *l = ((live_lsock *)f)->l;
			if (--l->n == 0)
				free(l);
			break;
		}
		}
	}
}

int live_loop_watch(live_loop *lp, int fd, uint32_t events, live_fd_fn fn, void *arg)
{
	live_watch *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return TV_ENOMEM;
	w->f.kind = FD_WATCH;
	w->f.fd = fd;
	w->fn = fn;
	w->arg = arg;
	rc = ep_add(lp, &w->f, events);
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->next = lp->watches;
	lp->watches = w;
	return 0;
}

int live_loop_watch_mod(live_loop *lp, int fd, uint32_t events)
{
	for (live_watch *w = lp->watches; w; w = w->next)
		if (w->f.fd == fd) {
			ep_mod(lp, &w->f, events);
			return 0;
		}
	return TV_ENOENT;
}

void live_loop_unwatch(live_loop *lp, int fd)
{
	for (live_watch **pp = &lp->watches; *pp; pp = &(*pp)->next) {
		live_watch *w = *pp;
		if (w->f.fd != fd)
			continue;
		*pp = w->next;
		epoll_ctl(lp->ep, EPOLL_CTL_DEL, fd, NULL);
		w->f.fd = -1;           /* the caller closes it */
		w->f.gone = true;
		w->f.zombie_next = lp->zombies;
		lp->zombies = &w->f;
		return;
	}
}

/* Send the queued datagrams: one sendmmsg() per run from one socket. A
 * datagram the kernel refuses is counted and skipped. */
static void txq_flush(live_loop *lp)
{
	struct mmsghdr m[LIVE_TXQ];
	struct iovec iov[LIVE_TXQ];
	char cbuf[LIVE_TXQ][CMSG_SPACE(sizeof(struct in_pktinfo))];
	int i = 0;

	for (int k = 0; k < lp->ntx; k++) {
		txq_ent *e = &lp->txq[k];
		memset(&m[k], 0, sizeof(m[k]));
		iov[k].iov_base = e->buf;
		iov[k].iov_len = e->len;
		m[k].msg_hdr.msg_name = &e->dst;
		m[k].msg_hdr.msg_namelen = sizeof(e->dst);
		m[k].msg_hdr.msg_iov = &iov[k];
		m[k].msg_hdr.msg_iovlen = 1;
		if (e->src.ipi_spec_dst.s_addr) {
			struct cmsghdr *cm;
			memset(cbuf[k], 0, sizeof(cbuf[k]));
			m[k].msg_hdr.msg_control = cbuf[k];
			m[k].msg_hdr.msg_controllen = sizeof(cbuf[k]);
			cm = CMSG_FIRSTHDR(&m[k].msg_hdr);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
			memcpy(CMSG_DATA(cm), &e->src, sizeof(e->src));
		}
	}
	while (i < lp->ntx) {
		int j = i + 1, n;

		while (j < lp->ntx && lp->txq[j].fd == lp->txq[i].fd)
			j++;
		n = sendmmsg(lp->txq[i].fd, &m[i], (unsigned)(j - i), MSG_DONTWAIT);
		lp->st.tx_calls++;
		if (n < 0) {
			/* the first datagram failed: skip it, try the rest */
			lp->st.tx_errors++;
			n = 1;
		} else {
			lp->st.tx += (uint64_t)n;
		}
		i += n;
	}
	lp->ntx = 0;
}

static void fire_timers(live_loop *lp, tv_time now)
{
	tv_timer *t;

	while ((t = tv_timerq_pop_due(&lp->tq, now)))
		t->fn(t, now);
}

static void udp_readable(live_loop *lp, live_udp *s, tv_time now);
static void tcp_event(live_loop *lp, live_tcp *c, uint32_t ev, tv_time now);
static void listen_readable(live_loop *lp, live_listener *l, int fd, tv_time now);

int live_loop_once(live_loop *lp, tv_time max_wait)
{
	struct epoll_event evs[LIVE_EVENTS];
	tv_time now = live_loop_now(lp), next, wait;
	struct timespec ts;
	int n;

	fire_timers(lp, now);
	txq_flush(lp);
	next = tv_timerq_next(&lp->tq);
	wait = next == TV_NEVER ? max_wait : next - now;
	if (wait > max_wait)
		wait = max_wait;
	if (wait < 0)
		wait = 0;
	ts.tv_sec = wait / 1000000;
	ts.tv_nsec = (long)(wait % 1000000) * 1000;
	n = epoll_pwait2(lp->ep, evs, LIVE_EVENTS, &ts, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : neg_errno();
	lp->st.wakeups++;
	now = live_loop_now(lp);
	for (int i = 0; i < n; i++) {
		live_fd *f = evs[i].data.ptr;

		if (f->gone)
			continue;
		switch (f->kind) {
		case FD_UDP:
			udp_readable(lp, (live_udp *)((char *)f - offsetof(live_udp, f)), now);
			break;
		case FD_TCP:
			tcp_event(lp, (live_tcp *)((char *)f - offsetof(live_tcp, f)), evs[i].events, now);
			break;
		case FD_LISTEN:
			listen_readable(lp, ((live_lsock *)f)->l, f->fd, now);
			break;
		case FD_WATCH: {
			live_watch *w = (live_watch *)((char *)f - offsetof(live_watch, f));
			w->fn(w->arg, f->fd, evs[i].events, now);
			break;
		}
		}
		if (lp->ntx > LIVE_TXQ / 2)
			txq_flush(lp);
	}
	fire_timers(lp, now);
	txq_flush(lp);
	free_zombies(lp);
	return 0;
}

int live_loop_run(live_loop *lp, tv_time until)
{
	lp->stop = false;
	while (!lp->stop) {
		tv_time now = live_loop_now(lp);
		int rc;

		if (until != TV_NEVER && now >= until)
			break;
		rc = live_loop_once(lp, until == TV_NEVER ? TV_SEC(1) : until - now);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- host ---- */

tv_host *livehost_new(live_loop *lp, const char *name, const tv_ip *ips, int nips, int *err)
{
	live_host *h;
	uint64_t seed;

	if (nips < 1 || nips > LIVE_MAX_IPS) {
		*err = TV_EINVAL;
		return NULL;
	}
	for (int i = 0; i < nips; i++)
		if (ips[i].af != TV_AF_INET) {
			*err = TV_EINVAL;
			return NULL;
		}
	h = calloc(1, sizeof(*h));
	if (!h) {
		*err = TV_ENOMEM;
		return NULL;
	}
	h->base.ops = &live_ops;
	snprintf(h->base.name, sizeof(h->base.name), "%s", name);
	h->lp = lp;
	memcpy(h->ips, ips, sizeof(*ips) * (size_t)nips);
	h->nips = nips;
	/* Port allocation and Call-IDs draw from this: unpredictable to a
	 * stranger, not a cryptographic generator. */
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)live_loop_now(lp) ^ (uint64_t)(uintptr_t)h;
	tv_rng_seed(&h->rng, seed);
	*err = 0;
	return &h->base;
}

bool livehost_is(const tv_host *h) { return h->ops == &live_ops; }

/* Sockets and listeners must be closed by their owners first. */
static void live_free(tv_host *h) { free(LH(h)); }
static const tv_ip *live_ip(const tv_host *h) { return &CLH(h)->ips[0]; }
static tv_time live_now(const tv_host *h) { return live_loop_now(CLH(h)->lp); }
static tv_rng *live_rng(tv_host *h) { return &LH(h)->rng; }
static const tv_host_stats *live_stats(const tv_host *h) { return &CLH(h)->st; }
static void live_timer_arm(tv_host *h, tv_timer *t, tv_time when) { tv_timerq_arm(&LH(h)->lp->tq, t, when); }
static void live_timer_cancel(tv_host *h, tv_timer *t) { tv_timerq_cancel(&LH(h)->lp->tq, t); }

static bool live_owns(const live_host *h, uint32_t ip)
{
	for (int i = 0; i < h->nips; i++)
		if (h->ips[i].v4 == ip)
			return true;
	return false;
}

/* ---- UDP ---- */

static tv_udp *live_udp_bind(tv_host *base, const tv_ep *local, tv_udp_rx_fn fn, void *arg, int *err)
{
	live_host *h = LH(base);
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	uint32_t ip = local ? local->ip.v4 : 0;
	live_udp *s;
	int fd, one = 1;

	if (ip && !live_owns(h, ip)) {
		*err = TV_EINVAL;
		return NULL;
	}
	if (!ip && h->nips == 1)
		ip = h->ips[0].v4;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno == EMFILE || errno == ENFILE ? TV_EFULL : neg_errno();
		return NULL;
	}
	if (!ip)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	ep_to_sin(&(tv_ep){ .ip = tv_ip4(ip), .port = local ? local->port : 0 }, &sin);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		*err = errno == EADDRINUSE ? TV_EEXIST : errno == EADDRNOTAVAIL ? TV_EINVAL : neg_errno();
		close(fd);
		return NULL;
	}
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		*err = TV_ENOMEM;
		return NULL;
	}
	s->owner = base;
	s->f.kind = FD_UDP;
	s->f.fd = fd;
	s->ip = ip;
	s->port = ntohs(sin.sin_port);
	s->fn = fn;
	s->arg = arg;
	*err = ep_add(h->lp, &s->f, EPOLLIN);
	if (*err < 0) {
		close(fd);
		free(s);
		return NULL;
	}
	return (tv_udp *)s;
}

static void live_udp_close(tv_udp *us)
{
	live_udp *s = (live_udp *)us;
	live_loop *lp = UH(s)->lp;

	/* datagrams it queued still leave: the descriptor closes after */
	txq_flush(lp);
	fd_bury(lp, &s->f);
}

static tv_ep live_udp_local(const tv_udp *us)
{
	const live_udp *s = (const live_udp *)us;
	tv_ep ep = tv_ep4(s->ip, s->port);

	if (ep.ip.v4 == 0)
		ep.ip = UH(s)->ips[0];
	return ep;
}

int livehost_udp_fd(const tv_udp *s) { return ((const live_udp *)s)->f.fd; }

static int live_udp_send(tv_udp *us, const tv_ip *src, const tv_ep *to, const void *data, size_t len)
{
	live_udp *s = (live_udp *)us;
	live_loop *lp = UH(s)->lp;
	txq_ent *e;

	if (len > 65507)
		return TV_EMSGSIZE;
	if (to->ip.af != TV_AF_INET || (src && src->af != TV_AF_INET))
		return TV_EINVAL;
	if (src && s->ip && src->v4 != s->ip)
		return TV_EINVAL;       /* a bound socket sends from its address only */
	UH(s)->st.tx++;
	if (len > LIVE_SLOT) {
		struct sockaddr_in dst;
		struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
		struct msghdr m = { .msg_name = &dst, .msg_namelen = sizeof(dst), .msg_iov = &iov, .msg_iovlen = 1 };
		char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];

		txq_flush(lp);
		ep_to_sin(to, &dst);
		if (src && !s->ip) {
			struct cmsghdr *cm;
			struct in_pktinfo pi = { .ipi_spec_dst.s_addr = htonl(src->v4) };
			memset(cbuf, 0, sizeof(cbuf));
			m.msg_control = cbuf;
			m.msg_controllen = sizeof(cbuf);
			cm = CMSG_FIRSTHDR(&m);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		}
		lp->st.tx_calls++;
		if (sendmsg(s->f.fd, &m, MSG_DONTWAIT) < 0) {
			lp->st.tx_errors++;
			return errno == EMSGSIZE ? TV_EMSGSIZE : 0;
		}
		lp->st.tx++;
		return 0;
	}
	if (lp->ntx == LIVE_TXQ)
		txq_flush(lp);
	e = &lp->txq[lp->ntx++];
	e->fd = s->f.fd;
	ep_to_sin(to, &e->dst);
	memset(&e->src, 0, sizeof(e->src));
	if (src && !s->ip)
		e->src.ipi_spec_dst.s_addr = htonl(src->v4);
	e->len = len;
	memcpy(e->buf, data, len);
	return 0;
}

static void live_udp_set_tos(tv_udp *us, uint8_t tos)
{
	int v = tos;

	setsockopt(((live_udp *)us)->f.fd, IPPROTO_IP, IP_TOS, &v, sizeof(v));
}

/* Drain up to four batches, then let other sockets have their turn. */
static void udp_readable(live_loop *lp, live_udp *s, tv_time now)
{
	for (int round = 0; round < 4; round++) {
		int n;

		/* the headers point at the loop's buffers since live_loop_new;
		 * the kernel rewrites only the address length and the flags */
		for (int i = 0; i < LIVE_BATCH; i++)
			lp->rmsg[i].msg_hdr.msg_namelen = sizeof(lp->rfrom[i]);
		n = recvmmsg(s->f.fd, lp->rmsg, LIVE_BATCH, MSG_DONTWAIT, NULL);
		lp->st.rx_calls++;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				lp->st.rx_errors++;
			return;
		}
		lp->st.rx += (uint64_t)n;
		for (int i = 0; i < n; i++) {
			tv_ep from;

			if (lp->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				lp->st.rx_truncated++;
				continue;
			}
			from = sin_to_ep(&lp->rfrom[i]);
			UH(s)->st.rx++;
			s->fn(s->arg, (tv_udp *)s, &from, lp->riov[i].iov_base, lp->rmsg[i].msg_len, now);
			if (s->f.gone)
				return;
		}
		if (n < LIVE_BATCH)
			return;
	}
}

/* ---- TCP ---- */

static void tcp_idle_fire(tv_timer *t, tv_time now);
static void tcp_fin_fire(tv_timer *t, tv_time now);

static live_tcp *tcp_new(live_host *h, int fd)
{
	live_tcp *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->owner = &h->base;
	c->h = h;
	c->f.kind = FD_TCP;
	c->f.fd = fd;
	tv_timer_init(&c->idle_t, tcp_idle_fire, c);
	tv_timer_init(&c->fin_t, tcp_fin_fire, c);
	return c;
}

static void tcp_free(live_tcp *c)
{
	free(c->sbuf);
	free(c);
}

static void tcp_set_events(live_tcp *c)
{
	uint32_t ev = EPOLLIN | EPOLLRDHUP;

	if (c->peer_closed && c->wr_shut && !tv_timer_armed(&c->fin_t))
		live_loop_timer_arm(c->h->lp, &c->fin_t, live_loop_now(c->h->lp));

	if (c->connecting || c->slen)
		ev |= EPOLLOUT;
	if (c->peer_closed)
		ev &= ~(uint32_t)(EPOLLIN | EPOLLRDHUP);
	if (ev != c->ev_mask) {
		ep_mod(c->h->lp, &c->f, ev);
		c->ev_mask = ev;
	}
}

static void tcp_bury(live_tcp *c)
{
	live_loop_timer_cancel(c->h->lp, &c->idle_t);
	live_loop_timer_cancel(c->h->lp, &c->fin_t);
	fd_bury(c->h->lp, &c->f);
}

/* Tell the owner; for the final events the handle goes after. */
static void tcp_notify(live_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	bool final = ev == TV_TCP_CLOSED || ev == TV_TCP_RESET || ev == TV_TCP_TIMEOUT;

	if (final) {
		live_loop_timer_cancel(c->h->lp, &c->idle_t);
		live_loop_timer_cancel(c->h->lp, &c->fin_t);
	}
	if (c->fn)
		c->fn(c->arg, (tv_tcp *)c, ev, data, len, now);
	if (final && !c->f.gone)
		tcp_bury(c);
}

static void tcp_touch(live_tcp *c, tv_time now)
{
	c->last_io = now;
	if (c->idle)
		live_loop_timer_arm(c->h->lp, &c->idle_t, now + c->idle);
}

static void tcp_abort_fd(live_tcp *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->f.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void tcp_fin_fire(tv_timer *t, tv_time now)
{
	live_tcp *c = t->arg;

	if (!c->f.gone)
		tcp_notify(c, TV_TCP_CLOSED, NULL, 0, now);
}

static void tcp_idle_fire(tv_timer *t, tv_time now)
{
	live_tcp *c = t->arg;

	if (c->f.gone)
		return;
	tcp_abort_fd(c);
	tcp_notify(c, TV_TCP_TIMEOUT, NULL, 0, now);
}

/* Write what is queued; shut the write side once a close is asked and
 * nothing is left. Returns false if the connection reset. */
static bool tcp_flush(live_tcp *c)
{
	while (c->slen) {
		ssize_t n = send(c->f.fd, c->sbuf + c->shead, c->slen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		c->shead += (size_t)n;
		c->slen -= (size_t)n;
	}
	if (!c->slen)
		c->shead = 0;
	if (c->want_close && !c->slen && !c->wr_shut) {
		shutdown(c->f.fd, SHUT_WR);
		c->wr_shut = true;
	}
	return true;
}

static void tcp_event(live_loop *lp, live_tcp *c, uint32_t ev, tv_time now)
{
	if (c->connecting && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int e = 0;
		socklen_t el = sizeof(e);

		getsockopt(c->f.fd, SOL_SOCKET, SO_ERROR, &e, &el);
		c->connecting = false;
		if (e) {
			tcp_notify(c, TV_TCP_RESET, NULL, 0, now);
			return;
		}
		c->connected = true;
		tcp_touch(c, now);
		tcp_notify(c, TV_TCP_CONNECTED, NULL, 0, now);
		if (c->f.gone)
			return;
	}
	if (ev & EPOLLOUT) {
		if (!tcp_flush(c)) {
			tcp_notify(c, TV_TCP_RESET, NULL, 0, now);
			return;
		}
	}
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (int round = 0; round < 4 && !c->peer_closed; round++) {
			ssize_t n = recv(c->f.fd, lp->tcpbuf, sizeof(lp->tcpbuf), MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				tcp_notify(c, TV_TCP_RESET, NULL, 0, now);
				return;
			}
			tcp_touch(c, now);
			if (n == 0) {
				c->peer_closed = true;
				tcp_notify(c, TV_TCP_PEER_CLOSED, NULL, 0, now);
				if (c->f.gone)
					return;
				break;
			}
			tcp_notify(c, TV_TCP_DATA, lp->tcpbuf, (size_t)n, now);
			if (c->f.gone)
				return;
		}
	}
	if (c->peer_closed && c->wr_shut) {
		tcp_notify(c, TV_TCP_CLOSED, NULL, 0, now);
		return;
	}
	tcp_set_events(c);
}

static void listen_readable(live_loop *lp, live_listener *l, int fd, tv_time now)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in peer, me;
		socklen_t pl = sizeof(peer), ml = sizeof(me);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		live_tcp *c;

		if (cfd < 0)
			return;         /* EAGAIN, or out of descriptors: the next readiness retries */
		getsockname(cfd, (struct sockaddr *)&me, &ml);
		c = tcp_new(l->h, cfd);
		if (!c || ep_add(lp, &c->f, EPOLLIN | EPOLLRDHUP) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->ev_mask = EPOLLIN | EPOLLRDHUP;
		c->local = sin_to_ep(&me);
		c->remote = sin_to_ep(&peer);
		c->connected = true;
		tcp_touch(c, now);
		l->fn(l->arg, (tv_tcp *)c, now);
		if (c->f.gone)
			continue;
		tcp_notify(c, TV_TCP_CONNECTED, NULL, 0, now);
		if (l->s[0].f.gone)
			return;         /* unlistened from the callback */
	}
}

static tv_tcp_listener *live_tcp_listen(tv_host *base, uint16_t port, tv_tcp_accept_fn fn, void *arg, int *err)
{
	live_host *h = LH(base);
	live_listener *l;
	int one = 1;

	if (port == 0 || !fn) {
		*err = TV_EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		*err = TV_ENOMEM;
		return NULL;
	}
	l->owner = base;
	l->h = h;
	l->port = port;
	l->fn = fn;
	l->arg = arg;
	for (int i = 0; i < h->nips; i++) {
		struct sockaddr_in sin;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		ep_to_sin(&(tv_ep){ .ip = h->ips[i], .port = port }, &sin);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0) {
			*err = errno == EADDRINUSE ? TV_EEXIST : neg_errno();
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		l->s[i].f.kind = FD_LISTEN;
		l->s[i].f.fd = fd;
		l->s[i].l = l;
		l->n++;
		if ((*err = ep_add(h->lp, &l->s[i].f, EPOLLIN)) < 0)
			goto fail;
	}
	*err = 0;
	return (tv_tcp_listener *)l;
fail:
	for (int i = 0; i < l->n; i++) {
		epoll_ctl(h->lp->ep, EPOLL_CTL_DEL, l->s[i].f.fd, NULL);
		close(l->s[i].f.fd);
	}
	free(l);
	return NULL;
}

/* Connections already accepted stay open. */
static void live_tcp_unlisten(tv_tcp_listener *tl)
{
	live_listener *l = (live_listener *)tl;
	int n = l->n;

	for (int i = 0; i < n; i++)
		fd_bury(l->h->lp, &l->s[i].f);
}

static tv_tcp *live_tcp_connect(tv_host *base, const tv_ip *src, uint16_t lport, const tv_ep *remote,
				tv_tcp_fn fn, void *arg, int *err)
{
	live_host *h = LH(base);
	struct sockaddr_in sin, me;
	socklen_t ml = sizeof(me);
	live_tcp *c;
	int fd;

	if (!remote || remote->ip.af != TV_AF_INET || remote->port == 0 || (src && !live_owns(h, src->v4))) {
		*err = TV_EINVAL;
		return NULL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno == EMFILE || errno == ENFILE ? TV_EFULL : neg_errno();
		return NULL;
	}
	ep_to_sin(&(tv_ep){ .ip = src ? *src : h->ips[0], .port = lport }, &sin);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		*err = errno == EADDRINUSE ? TV_EEXIST : neg_errno();
		close(fd);
		return NULL;
	}
	ep_to_sin(remote, &sin);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		*err = neg_errno();
		close(fd);
		return NULL;
	}
	getsockname(fd, (struct sockaddr *)&me, &ml);
	c = tcp_new(h, fd);
	if (!c) {
		close(fd);
		*err = TV_ENOMEM;
		return NULL;
	}
	c->local = sin_to_ep(&me);
	c->remote = *remote;
	c->fn = fn;
	c->arg = arg;
	c->connecting = true;
	c->ev_mask = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
	if ((*err = ep_add(h->lp, &c->f, c->ev_mask)) < 0) {
		close(fd);
		tcp_free(c);
		return NULL;
	}
	return (tv_tcp *)c;
}

static void live_tcp_set_cb(tv_tcp *tc, tv_tcp_fn fn, void *arg)
{
	live_tcp *c = (live_tcp *)tc;

	c->fn = fn;
	c->arg = arg;
}

/* Bytes queued before the connection completes go out once it does. */
static int live_tcp_send(tv_tcp *tc, const void *data, size_t len)
{
	live_tcp *c = (live_tcp *)tc;

	if (c->f.gone || c->want_close)
		return TV_ESTATE;
	if (len == 0)
		return 0;
	if (len > LIVE_TCP_SNDBUF_MAX - c->slen)
		return TV_EFULL;
	if (c->shead + c->slen + len > c->scap) {
		if (c->shead) {
			memmove(c->sbuf, c->sbuf + c->shead, c->slen);
			c->shead = 0;
		}
		if (c->slen + len > c->scap) {
			size_t cap = c->scap ? c->scap : 4096;
			uint8_t *nb;
			while (cap < c->slen + len)
				cap *= 2;
			nb = realloc(c->sbuf, cap);
			if (!nb)
				return TV_ENOMEM;
			c->sbuf = nb;
			c->scap = cap;
		}
	}
	memcpy(c->sbuf + c->shead + c->slen, data, len);
	c->slen += len;
	if (c->connected && !tcp_flush(c))
		return 0;       /* the reset shows as an event */
	tcp_set_events(c);
	return 0;
}

/* Orderly close: FIN after the queued bytes. CLOSED follows once the peer
 * has closed too. */
static void live_tcp_close(tv_tcp *tc)
{
	live_tcp *c = (live_tcp *)tc;

	if (c->f.gone || c->want_close)
		return;
	c->want_close = true;
	if (c->connected)
		tcp_flush(c);
	tcp_set_events(c);
}

static void live_tcp_abort(tv_tcp *tc)
{
	live_tcp *c = (live_tcp *)tc;

	if (!c || c->f.gone)
		return;
	tcp_abort_fd(c);
	tcp_bury(c);
}

static void live_tcp_set_idle(tv_tcp *tc, tv_time idle)
{
	live_tcp *c = (live_tcp *)tc;

	if (c->f.gone)
		return;
	c->idle = idle > 0 ? idle : 0;
	if (!c->idle)
		live_loop_timer_cancel(c->h->lp, &c->idle_t);
	else
		live_loop_timer_arm(c->h->lp, &c->idle_t, (c->last_io ? c->last_io : live_loop_now(c->h->lp)) + c->idle);
}

static tv_ep live_tcp_local(const tv_tcp *c) { return ((const live_tcp *)c)->local; }
static tv_ep live_tcp_remote(const tv_tcp *c) { return ((const live_tcp *)c)->remote; }

static const char *live_tcp_state_name(const tv_tcp *tc)
{
	const live_tcp *c = (const live_tcp *)tc;

	if (c->f.gone)
		return "CLOSED";
	if (c->connecting)
		return "SYN_SENT";
	if (c->want_close)
		return c->peer_closed ? "LAST_ACK" : "FIN_WAIT_1";
	return c->peer_closed ? "CLOSE_WAIT" : "ESTABLISHED";
}

static const tv_host_ops live_ops = {
	.kind = "live",
	.free = live_free,
	.ip = live_ip,
	.now = live_now,
	.rng = live_rng,
	.stats = live_stats,
	.timer_arm = live_timer_arm,
	.timer_cancel = live_timer_cancel,
	.udp_bind = live_udp_bind,
	.udp_close = live_udp_close,
	.udp_local = live_udp_local,
	.udp_send = live_udp_send,
	.udp_set_tos = live_udp_set_tos,
	.tcp_listen = live_tcp_listen,
	.tcp_unlisten = live_tcp_unlisten,
	.tcp_connect = live_tcp_connect,
	.tcp_set_cb = live_tcp_set_cb,
	.tcp_send = live_tcp_send,
	.tcp_close = live_tcp_close,
	.tcp_abort = live_tcp_abort,
	.tcp_set_idle = live_tcp_set_idle,
	.tcp_local = live_tcp_local,
	.tcp_remote = live_tcp_remote,
	.tcp_state_name = live_tcp_state_name,
};
