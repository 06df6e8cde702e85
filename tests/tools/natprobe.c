/* natprobe.c - traverse-natprobe: measure a NAT's UDP behaviour from a
 * client behind it and a two-address server outside it (RFC 4787 terms,
 * RFC 5780-style tests), or run the very same probes against simnat's
 * engine in virtual time, so the two can be compared row by row
 * (tests/kernelnat.sh).
 *
 * The probes and the server's answers are written once, against a small
 * transport (struct tp): "live" is real sockets and the monotonic clock,
 * "sim" is nat_process() with a virtual clock and the same server code
 * called directly. What the client learns:
 *
 *   mapping     one socket sends to S1:P1, S1:P2 and S2:P1; the server
 *               reports the source it saw each time: all equal is
 *               endpoint-independent, equal for the same address
 *               address-dependent, else address-and-port-dependent
 *   filtering   one socket sends to S1:P1; the server answers from S1:P1
 *               (control), S1:P2 and S2:P2: S2:P2 getting in is
 *               endpoint-independent, S1:P2 address-dependent, neither
 *               address-and-port-dependent
 *   hairpin     two sockets learn their mapped endpoints, then each sends
 *               to the other's: does either arrive?
 *   port-preservation  the mapped port equals the socket's own port
 *   lifetime    NK flows per case, flow k probed once by the server from
 *               S1:P1 at k + 0.5 s after the flow's first packet; the
 *               lifetime lies between the last probe that got in and the
 *               first that did not:
 *                 unreplied   one packet out, no answer
 *                 exchange    one request, one immediate answer
 *                 out-after-2s  the exchange, then a client packet at 3 s
 *                 in-after-2s   the exchange, then a server packet at 3 s
 *                 late-reply  one packet out, its only answer at 3 s
 *
 * Safety: the client sends only to the server addresses and the mapped
 * endpoints it was told of; the server answers only sources it heard
 * from; every loop is bounded by a deadline. */
#include "nat.h"
#include "pkt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: traverse-natprobe server --s1 IP --s2 IP [--p1 PORT] [--p2 PORT] [--for SECONDS]\n"
	"       traverse-natprobe client --client IP --s1 IP --s2 IP [--p1 PORT] [--p2 PORT]\n"
	"       traverse-natprobe sim [--random-fully] [--udp-timeout S] [--udp-stream-timeout S]\n"
	"                             [--udp-stream-after MS]\n"
	"\n"
	"Measures a NAT's UDP mapping, filtering, hairpinning, port preservation\n"
	"and binding lifetime in five cases, with the client behind the NAT and\n"
	"the server (two addresses S1, S2; ports P1, P2, default 3478, 3479)\n"
	"outside it. 'server' answers for --for seconds (default 60) and prints\n"
	"'ready' once listening. 'client' runs the probes (about 25 s) and prints\n"
	"one 'ROW VALUE' line per result. 'sim' runs the same probes through\n"
	"simnat's engine with the linux UDP preset (the 2-second rule), the\n"
	"timeouts given (default 30 and 120), endpoint-independent mapping,\n"
	"address-and-port-dependent filtering, port preservation, no\n"
	"hairpinning and refresh in both directions - what nftables 'masquerade'\n"
	"does; --random-fully switches to address-and-port-dependent mapping and\n"
	"random ports, as 'masquerade random-fully' does. Addresses in sim are\n"
	"those of tests/kernelnat.sh (client 192.168.1.10, NAT 203.0.113.1,\n"
	"servers 203.0.113.100 and .101). --udp-stream-after overrides the\n"
	"preset's 2000 ms (0: the first reply moves a flow to the stream timer).\n"
	"Exit 0 if the probes measured\n"
	"something (a mapped address came back), else 1; 2 for usage.\n";

#define NK 22                   /* lifetime probes per case: 0.5 s .. 21.5 s */
#define NCASE 5
#define MSG_MAX 96
#define SRV_MAX 512
#define SOCK_MAX 128
#define EXTRA_AT TV_SEC(3)      /* the "after 2 s" packet of cases 2, 3 and 4 */

static const char *const case_names[NCASE] = { "unreplied", "exchange", "out-after-2s", "in-after-2s",
							   "late-reply" };

/* ---- the server: answers, possibly later, from one of four sockets ---- */

enum { S1P1, S1P2, S2P1, S2P2, NSRV };

typedef struct srv_send {
	tv_time due;
	int sock;               /* S1P1.. */
	tv_ep to;
	char msg[2 * MSG_MAX];  /* a command and a MSG_MAX argument */
} srv_send;

typedef struct srv {
	srv_send q[SRV_MAX];    /* in insertion order */
	int n;
} srv;

static void srv_queue(srv *v, tv_time due, int sock, tv_ep to, const char *cmd, const char *tag)
{
	if (v->n == SRV_MAX)
		return;         /* bounded: extra answers are not sent */
	v->q[v->n] = (srv_send){ .due = due, .sock = sock, .to = to };
	snprintf(v->q[v->n].msg, sizeof(v->q[v->n].msg), "%s %s", cmd, tag);
	v->n++;
}

/* A datagram from 'from' reached server socket 'sock'. Commands:
 *   ECHO tag        SEEN tag IP:PORT from the same socket, now
 *   ASK tag         SEEN now, and OTHER from S1:P2 and S2:P2
 *   HOLD tag MS     LATE from the same socket MS later
 *   EHOLD tag MS    SEEN now, LATE MS later
 *   EHOLD2 tag MS   SEEN now, PING 3 s later, LATE MS later
 *   DHOLD tag MS    PING 3 s later, LATE MS later
 * anything else is ignored. */
static void srv_on_dgram(srv *v, tv_time now, int sock, tv_ep from, const char *msg)
{
	char cmd[16], tag[24], seen[MSG_MAX], ep[TV_EP_STRLEN];
	long ms = 0;
	int n = sscanf(msg, "%15s %23s %ld", cmd, tag, &ms);

	if (n < 2 || ms < 0 || ms > 60000)
		return;
	snprintf(seen, sizeof(seen), "%s %s", tag, tv_ep_fmt(&from, ep));
	if (!strcmp(cmd, "ECHO") || !strcmp(cmd, "ASK") || !strncmp(cmd, "EHOLD", 5))
		srv_queue(v, now, sock, from, "SEEN", seen);
	if (!strcmp(cmd, "ASK")) {
		srv_queue(v, now, S1P2, from, "OTHER", "port");
		srv_queue(v, now, S2P2, from, "OTHER", "both");
	}
	if (!strcmp(cmd, "EHOLD2") || !strcmp(cmd, "DHOLD"))
		srv_queue(v, now + EXTRA_AT, sock, from, "PING", tag);
	if (n == 3 && (!strcmp(cmd, "HOLD") || !strcmp(cmd, "DHOLD") || !strncmp(cmd, "EHOLD", 5)))
		srv_queue(v, now + TV_MS(ms), sock, from, "LATE", tag);
}

static tv_time srv_next(const srv *v)
{
	tv_time t = TV_NEVER;

	for (int i = 0; i < v->n; i++)
		if (v->q[i].due < t)
			t = v->q[i].due;
	return t;
}

/* The earliest answer due at now (first queued among equals). */
static bool srv_pop(srv *v, tv_time now, srv_send *out)
{
	int best = -1;

	for (int i = 0; i < v->n; i++)
		if (v->q[i].due <= now && (best < 0 || v->q[i].due < v->q[best].due))
			best = i;
	if (best < 0)
		return false;
	*out = v->q[best];
	memmove(&v->q[best], &v->q[best + 1], (size_t)(v->n - best - 1) * sizeof(v->q[0]));
	v->n--;
	return true;
}

/* ---- transports -------------------------------------------------------- */

typedef struct tp tp;
struct tp {
	tv_time (*now)(tp *t);
	/* A client socket: its index, its port in *port; -1 on failure. */
	int (*open)(tp *t, uint16_t *port);
	void (*send)(tp *t, int s, tv_ep to, const char *msg);
	/* The next datagram for any client socket, waiting until 'until'.
	 * 1: one in (*s, *from, msg); 0: none came. */
	int (*recv)(tp *t, tv_time until, int *s, tv_ep *from, char *msg);
};

/* live: real sockets. */
typedef struct live_tp {
	tp ops;
	uint32_t ip;
	int fd[SOCK_MAX];
	int n;
} live_tp;

static tv_time mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (tv_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static tv_time live_now(tp *t) { (void)t; return mono_now(); }

static int udp_bind(uint32_t ip, uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		close(fd);
		return -1;
	}
	if (bound)
		*bound = ntohs(sa.sin_port);
	return fd;
}

static int live_open(tp *t, uint16_t *port)
{
	live_tp *l = (live_tp *)t;
	int fd;

	if (l->n == SOCK_MAX || (fd = udp_bind(l->ip, 0, port)) < 0)
		return -1;
	l->fd[l->n] = fd;
	return l->n++;
}

static void udp_sendto(int fd, tv_ep to, const char *msg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(to.port),
				  .sin_addr.s_addr = htonl(to.ip.v4) };

	/* A lost probe is a measurement ("did not get through"), not an error. */
	(void)sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, sizeof(sa));
}

static void live_send(tp *t, int s, tv_ep to, const char *msg) { udp_sendto(((live_tp *)t)->fd[s], to, msg); }

/* One datagram from fd into msg; false if none. */
static bool udp_recv(int fd, tv_ep *from, char *msg)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	ssize_t r = recvfrom(fd, msg, MSG_MAX - 1, MSG_DONTWAIT, (struct sockaddr *)&sa, &sl);

	if (r < 0)
		return false;
	msg[r] = 0;
	*from = tv_ep4(ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port));
	return true;
}

static int live_recv(tp *t, tv_time until, int *s, tv_ep *from, char *msg)
{
	live_tp *l = (live_tp *)t;
	struct pollfd pf[SOCK_MAX];

	for (;;) {
		tv_time now = mono_now();
		for (int i = 0; i < l->n; i++) {
			if (udp_recv(l->fd[i], from, msg)) {
				*s = i;
				return 1;
			}
		}
		if (now >= until)
			return 0;
		for (int i = 0; i < l->n; i++)
			pf[i] = (struct pollfd){ .fd = l->fd[i], .events = POLLIN };
		if (poll(pf, (nfds_t)l->n, (int)((until - now + 999) / 1000)) < 0 && errno != EINTR)
			return 0;
	}
}

/* sim: the client's packets go through nat_process() to the server code. */
#define SIM_CLIENT 0xc0a8010aU  /* 192.168.1.10 */
#define SIM_PUB    0xcb007101U  /* 203.0.113.1 */
#define SIM_S1     0xcb007164U  /* 203.0.113.100 */
#define SIM_S2     0xcb007165U  /* 203.0.113.101 */

typedef struct sim_dgram {
	int s;
	tv_ep from;
	char msg[MSG_MAX];
} sim_dgram;

typedef struct sim_tp {
	tp ops;
	nat *n;
	srv v;
	tv_ep srv_ep[NSRV];
	tv_time now;
	int nsock;
	uint16_t ip_id;
	sim_dgram q[SRV_MAX];   /* delivered to the client, not yet read */
	int qh, qt;
} sim_tp;

static tv_time sim_now(tp *t) { return ((sim_tp *)t)->now; }

static int sim_open(tp *t, uint16_t *port)
{
	sim_tp *m = (sim_tp *)t;

	if (m->nsock == SOCK_MAX)
		return -1;
	*port = (uint16_t)(40000 + m->nsock);
	return m->nsock++;
}

/* A packet for the inside came out of the NAT: queue it for its socket. */
static void sim_deliver(sim_tp *m, const uint8_t *pkt, size_t len)
{
	pkt_info pi;
	sim_dgram *d;

	if (pkt_parse(pkt, len, &pi) < 0 || pi.dst.ip.v4 != SIM_CLIENT || pi.dst.port < 40000 ||
	    pi.dst.port >= 40000 + m->nsock || m->qt - m->qh == SRV_MAX || pi.data_len >= MSG_MAX)
		return;
	d = &m->q[m->qt++ % SRV_MAX];
	d->s = pi.dst.port - 40000;
	d->from = pi.src;
	memcpy(d->msg, pkt + pi.data_off, pi.data_len);
	d->msg[pi.data_len] = 0;
}

static void sim_send(tp *t, int s, tv_ep to, const char *msg)
{
	sim_tp *m = (sim_tp *)t;
	uint8_t pkt[256];
	tv_ep from = tv_ep4(SIM_CLIENT, (uint16_t)(40000 + s));
	int len = pkt_build_udp(pkt, sizeof(pkt), &from, &to, m->ip_id++, msg, strlen(msg));
	int r;
	pkt_info pi;

	if (len < 0)
		return;
	r = nat_process(m->n, m->now, NAT_OUT, pkt, (size_t)len);
	if (r == NAT_IN) {              /* hairpinned */
		sim_deliver(m, pkt, (size_t)len);
		return;
	}
	if (r != NAT_OUT || pkt_parse(pkt, (size_t)len, &pi) < 0)
		return;
	for (int i = 0; i < NSRV; i++)
		if (tv_ep_eq(&pi.dst, &m->srv_ep[i]))
			srv_on_dgram(&m->v, m->now, i, pi.src, msg);
}

static void sim_srv_run(sim_tp *m)
{
	srv_send o;
	uint8_t pkt[256];

	while (srv_pop(&m->v, m->now, &o)) {
		int len = pkt_build_udp(pkt, sizeof(pkt), &m->srv_ep[o.sock], &o.to, m->ip_id++, o.msg, strlen(o.msg));
		if (len > 0 && nat_process(m->n, m->now, NAT_IN, pkt, (size_t)len) == NAT_IN)
			sim_deliver(m, pkt, (size_t)len);
	}
}

static int sim_recv(tp *t, tv_time until, int *s, tv_ep *from, char *msg)
{
	sim_tp *m = (sim_tp *)t;

	for (;;) {
		tv_time next;
		sim_srv_run(m);
		if (m->qh < m->qt) {
			sim_dgram *d = &m->q[m->qh++ % SRV_MAX];
			*s = d->s;
			*from = d->from;
			memcpy(msg, d->msg, MSG_MAX);
			return 1;
		}
		next = srv_next(&m->v);
		if (next > until) {
			if (until > m->now)
				m->now = until;
			nat_on_timeout(m->n, m->now);
			return 0;
		}
		if (next > m->now)
			m->now = next;
		nat_on_timeout(m->n, m->now);
	}
}

/* ---- the probes -------------------------------------------------------- */

typedef struct probe {
	tp *t;
	tv_ep srv[NSRV];
	tv_ep mapped[3];                /* mapping test: as seen at S1:P1, S1:P2, S2:P1 */
	uint16_t map_port;              /* the mapping socket's own port */
	bool filt_port, filt_both, filt_ctl;
	bool hairpin;
	bool alive[NCASE][NK];
} probe;

static bool parse_seen(const char *msg, const char *tag, tv_ep *out)
{
	char t[24], e[32];

	return sscanf(msg, "SEEN %23s %31s", t, e) == 2 && !strcmp(t, tag) && tv_ep_parse(e, out, false) == 0;
}

/* Read what comes until 'until' (at most COLLECT_MAX datagrams, so that
 * a flood cannot hold the client past its deadline), handing each to fn. */
#define COLLECT_MAX 4096
static void collect(probe *p, tv_time until, void (*fn)(probe *p, int s, tv_ep from, const char *msg, void *arg),
		    void *arg)
{
	int s;
	tv_ep from;
	char msg[MSG_MAX];

	for (int i = 0; i < COLLECT_MAX && p->t->recv(p->t, until, &s, &from, msg) == 1; i++)
		fn(p, s, from, msg, arg);
}

static void on_map(probe *p, int s, tv_ep from, const char *msg, void *arg)
{
	static const char *const tags[3] = { "m0", "m1", "m2" };

	(void)s, (void)from, (void)arg;
	for (int i = 0; i < 3; i++)
		parse_seen(msg, tags[i], &p->mapped[i]);
}

static void on_filt(probe *p, int s, tv_ep from, const char *msg, void *arg)
{
	tv_ep e;

	(void)s, (void)arg;
	if (parse_seen(msg, "f", &e))
		p->filt_ctl = true;
	else if (!strcmp(msg, "OTHER port") && tv_ep_eq(&from, &p->srv[S1P2]))
		p->filt_port = true;
	else if (!strcmp(msg, "OTHER both") && tv_ep_eq(&from, &p->srv[S2P2]))
		p->filt_both = true;
}

struct hair { int s[2]; tv_ep m[2]; };

static void on_hair(probe *p, int s, tv_ep from, const char *msg, void *arg)
{
	struct hair *h = arg;

	(void)from;
	if (s == h->s[0])
		parse_seen(msg, "h0", &h->m[0]);
	if (s == h->s[1])
		parse_seen(msg, "h1", &h->m[1]);
	if ((s == h->s[0] && !strcmp(msg, "HP h1")) || (s == h->s[1] && !strcmp(msg, "HP h0")))
		p->hairpin = true;
}

static void on_life(probe *p, int s, tv_ep from, const char *msg, void *arg)
{
	int c, k;

	(void)s, (void)arg;
	if (tv_ep_eq(&from, &p->srv[S1P1]) && sscanf(msg, "LATE L%d-%d", &c, &k) == 2 &&
	    c >= 0 && c < NCASE && k >= 0 && k < NK)
		p->alive[c][k] = true;
}

static int probe_run(probe *p)
{
	tp *t = p->t;
	uint16_t port;
	int s, ls[NCASE][NK];
	struct hair h = { { -1, -1 }, { { { 0 }, 0 }, { { 0 }, 0 } } };
	tv_time t0;
	char msg[MSG_MAX];
	static const char *const life_cmd[NCASE] = { "HOLD", "EHOLD", "EHOLD", "EHOLD2", "DHOLD" };

	/* Mapping: one socket, three destinations. */
	if ((s = t->open(t, &p->map_port)) < 0)
		return -1;
	t->send(t, s, p->srv[S1P1], "ECHO m0");
	t->send(t, s, p->srv[S1P2], "ECHO m1");
	t->send(t, s, p->srv[S2P1], "ECHO m2");
	collect(p, t->now(t) + TV_MS(500), on_map, NULL);

	/* Filtering: a fresh socket that only ever sent to S1:P1. */
	if ((s = t->open(t, &port)) < 0)
		return -1;
	t->send(t, s, p->srv[S1P1], "ASK f");
	collect(p, t->now(t) + TV_MS(500), on_filt, NULL);

	/* Hairpinning: each of two sockets sends to the other's mapping. */
	for (int i = 0; i < 2; i++) {
		if ((h.s[i] = t->open(t, &port)) < 0)
			return -1;
		t->send(t, h.s[i], p->srv[S1P1], i ? "ECHO h1" : "ECHO h0");
	}
	collect(p, t->now(t) + TV_MS(500), on_hair, &h);
	if (h.m[0].port && h.m[1].port) {
		t->send(t, h.s[0], h.m[1], "HP h0");
		t->send(t, h.s[1], h.m[0], "HP h1");
		collect(p, t->now(t) + TV_MS(500), on_hair, &h);
	}

	/* Lifetimes: every flow starts now; flow k is probed at k + 0.5 s. */
	for (int c = 0; c < NCASE; c++) {
		for (int k = 0; k < NK; k++) {
			if ((ls[c][k] = t->open(t, &port)) < 0)
				return -1;
		}
	}
	t0 = t->now(t);
	for (int c = 0; c < NCASE; c++) {
		for (int k = 0; k < NK; k++) {
			snprintf(msg, sizeof(msg), "%s L%d-%d %d", life_cmd[c], c, k, k * 1000 + 500);
			t->send(t, ls[c][k], p->srv[S1P1], msg);
		}
	}
	collect(p, t0 + EXTRA_AT, on_life, NULL);
	for (int k = 0; k < NK; k++)
		t->send(t, ls[2][k], p->srv[S1P1], "NOP");
	collect(p, t0 + TV_SEC(NK) + TV_MS(700), on_life, NULL);
	return 0;
}

static const char *behav(bool a, bool b, bool c)
{
	return a ? "endpoint-independent" : b ? "address-dependent" : c ? "address-and-port-dependent" : "?";
}

/* "A-Bs": alive at A s, gone at B s; "<0.5s", ">21.5s"; "?" if a probe
 * that got in came after one that did not. */
static void life_fmt(const bool *alive, char *buf, size_t cap)
{
	int last = -1, first_dead = -1;

	for (int k = 0; k < NK; k++) {
		if (alive[k])
			last = k;
		else if (first_dead < 0)
			first_dead = k;
	}
	if (first_dead >= 0 && last > first_dead)
		snprintf(buf, cap, "?");
	else if (last < 0)
		snprintf(buf, cap, "<0.5s");
	else if (first_dead < 0)
		snprintf(buf, cap, ">%d.5s", NK - 1);
	else
		snprintf(buf, cap, "%d.5-%d.5s", last, first_dead);
}

/* Print the rows; false if nothing was measured. */
static bool probe_report(const probe *p)
{
	char e[TV_EP_STRLEN], ip[TV_IP_STRLEN], buf[32];
	bool got = p->mapped[0].port != 0;

	printf("mapped-address %s\n", got ? tv_ip_fmt(&p->mapped[0].ip, ip) : "none");
	printf("mapped-example %s\n", got ? tv_ep_fmt(&p->mapped[0], e) : "none");
	if (got && p->mapped[1].port && p->mapped[2].port) {
		bool same_addr = tv_ep_eq(&p->mapped[0], &p->mapped[1]);
		printf("mapping %s\n", behav(same_addr && tv_ep_eq(&p->mapped[0], &p->mapped[2]), same_addr, true));
	} else {
		printf("mapping ?\n");
	}
	printf("filtering %s\n", p->filt_ctl ? behav(p->filt_both, p->filt_port, true) : "?");
	printf("hairpin %s\n", p->hairpin ? "yes" : "no");
	printf("port-preservation %s\n", !got ? "?" : p->mapped[0].port == p->map_port ? "yes" : "no");
	for (int c = 0; c < NCASE; c++) {
		life_fmt(p->alive[c], buf, sizeof(buf));
		printf("lifetime-%s %s\n", case_names[c], buf);
	}
	return got && p->filt_ctl;
}

/* ---- modes ------------------------------------------------------------- */

struct args {
	uint32_t client, s1, s2;
	uint16_t p1, p2;
	int secs;
	bool random_fully;
	int udp_timeout, udp_stream_timeout;
	int stream_after_ms;    /* -1: the preset's */
};

static void srv_eps(const struct args *a, tv_ep *eps)
{
	eps[S1P1] = tv_ep4(a->s1, a->p1);
	eps[S1P2] = tv_ep4(a->s1, a->p2);
	eps[S2P1] = tv_ep4(a->s2, a->p1);
	eps[S2P2] = tv_ep4(a->s2, a->p2);
}

static int run_server(const struct args *a)
{
	static srv v;
	tv_ep eps[NSRV], from;
	struct pollfd pf[NSRV];
	int fd[NSRV];
	tv_time end = mono_now() + TV_SEC(a->secs);
	char msg[MSG_MAX];
	srv_send o;

	srv_eps(a, eps);
	for (int i = 0; i < NSRV; i++) {
		if ((fd[i] = udp_bind(eps[i].ip.v4, eps[i].port, NULL)) < 0) {
			perror("natprobe server: bind");
			return 1;
		}
		pf[i] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
	}
	printf("ready\n");
	fflush(stdout);
	for (tv_time now = mono_now(); now < end; now = mono_now()) {
		tv_time wake = srv_next(&v) < end ? srv_next(&v) : end;
		int ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
		if (poll(pf, NSRV, ms) < 0 && errno != EINTR)
			break;
		now = mono_now();
		for (int i = 0; i < NSRV; i++)
			for (int j = 0; j < 64 && udp_recv(fd[i], &from, msg); j++)
				srv_on_dgram(&v, now, i, from, msg);
		while (srv_pop(&v, now, &o))
			udp_sendto(fd[o.sock], o.to, o.msg);
	}
	for (int i = 0; i < NSRV; i++)
		close(fd[i]);
	return 0;
}

static int run_client(const struct args *a)
{
	static live_tp l;
	static probe p;
	int rc;

	l.ops = (tp){ live_now, live_open, live_send, live_recv };
	l.ip = a->client;
	p.t = &l.ops;
	srv_eps(a, p.srv);
	rc = probe_run(&p);
	for (int i = 0; i < l.n; i++)
		close(l.fd[i]);
	if (rc < 0) {
		perror("natprobe client: socket");
		return 1;
	}
	return probe_report(&p) ? 0 : 1;
}

static int run_sim(const struct args *a)
{
	static sim_tp m;
	static probe p;
	struct args sa = *a;
	nat_cfg c;
	char err[128];
	int rc;

	nat_cfg_default(&c);
	nat_cfg_udp_preset(&c, "linux");
	c.udp_timeout = TV_SEC(a->udp_timeout);
	c.udp_stream_timeout = TV_SEC(a->udp_stream_timeout);
	if (a->stream_after_ms >= 0)
		c.udp_stream_after = TV_MS(a->stream_after_ms);
	c.mapping = a->random_fully ? NAT_APD : NAT_EI;
	c.ports = a->random_fully ? NAT_PORT_RANDOM : NAT_PORT_PRESERVE;
	c.filtering = NAT_APD;
	c.hairpin = false;
	c.refresh = NAT_REFRESH_BOTH;
	c.npub = 1;
	c.pub[0] = tv_ip4(SIM_PUB);
	m.n = nat_new(&c, 1, err, sizeof(err));
	if (!m.n) {
		fprintf(stderr, "natprobe sim: %s\n", err);
		return 1;
	}
	m.ops = (tp){ sim_now, sim_open, sim_send, sim_recv };
	m.now = TV_SEC(1);
	sa.s1 = SIM_S1;
	sa.s2 = SIM_S2;
	srv_eps(&sa, m.srv_ep);
	memcpy(p.srv, m.srv_ep, sizeof(p.srv));
	p.t = &m.ops;
	rc = probe_run(&p);
	nat_free(m.n);
	if (rc < 0)
		return 1;
	return probe_report(&p) ? 0 : 1;
}

static int parse_ip(const char *s, uint32_t *out)
{
	tv_ip ip;

	if (tv_ip_parse(s, &ip) < 0 || ip.af != TV_AF_INET)
		return -1;
	*out = ip.v4;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client", 1, NULL, 'c' }, { "s1", 1, NULL, '1' }, { "s2", 1, NULL, '2' },
		{ "p1", 1, NULL, 'p' }, { "p2", 1, NULL, 'q' }, { "for", 1, NULL, 'f' },
		{ "random-fully", 0, NULL, 'r' }, { "udp-timeout", 1, NULL, 'u' },
		{ "udp-stream-timeout", 1, NULL, 's' }, { "udp-stream-after", 1, NULL, 'a' },
		{ "help", 0, NULL, 'h' }, { 0 },
	};
	struct args a = { .p1 = 3478, .p2 = 3479, .secs = 60, .udp_timeout = 30, .udp_stream_timeout = 120,
			  .stream_after_ms = -1 };
	const char *mode;
	int o;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	mode = argv[1];
	optind = 2;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		bool bad = false;
		switch (o) {
		case 'c': bad = parse_ip(optarg, &a.client) < 0; break;
		case '1': bad = parse_ip(optarg, &a.s1) < 0; break;
		case '2': bad = parse_ip(optarg, &a.s2) < 0; break;
		case 'p': a.p1 = (uint16_t)atoi(optarg); bad = !a.p1; break;
		case 'q': a.p2 = (uint16_t)atoi(optarg); bad = !a.p2; break;
		case 'f': a.secs = atoi(optarg); bad = a.secs < 1 || a.secs > 3600; break;
		case 'r': a.random_fully = true; break;
		case 'u': a.udp_timeout = atoi(optarg); bad = a.udp_timeout < 1; break;
		case 's': a.udp_stream_timeout = atoi(optarg); bad = a.udp_stream_timeout < 1; break;
		case 'a': a.stream_after_ms = atoi(optarg); bad = a.stream_after_ms < 0; break;
		case 'h': fputs(usage, stdout); return 0;
		default: bad = true; break;
		}
		if (bad) {
			fprintf(stderr, "natprobe: bad option value\n%s", usage);
			return 2;
		}
	}
	if (!strcmp(mode, "sim"))
		return run_sim(&a);
	if (!a.s1 || !a.s2 || a.p1 == a.p2) {
		fprintf(stderr, "natprobe: --s1 and --s2 are required, --p1 and --p2 must differ\n%s", usage);
		return 2;
	}
	if (!strcmp(mode, "server"))
		return run_server(&a);
	if (!strcmp(mode, "client") && a.client)
		return run_client(&a);
	fputs(usage, stderr);
	return 2;
}
