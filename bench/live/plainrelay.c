/* plainrelay.c - traverse-plainrelay: the machine's limit for a UDP media
 * relay. The simplest relay that does what every media relay must do, and
 * nothing else: no SIP, no RTP parsing, no timers, one thread.
 *
 *   stream i = two sockets on 127.0.0.1: A = base + 2i, B = base + 2i + 1
 *   the first packet on A latches A's peer (its source); likewise B
 *   a packet from A's peer on A is sent from B to B's peer, and vice versa
 *
 * Once a side has latched, its socket is connect()ed to the peer, so the
 * kernel drops other sources and sends need no address: the cheapest path
 * a latching relay can take (--no-connect keeps the sockets unconnected and
 * names the destination on every send, as rtpengine does). The source of
 * every packet is checked against the latched peer either way.
 *
 * One epoll set, level-triggered; per ready socket recvmmsg(32) and one
 * sendmmsg of what arrived. The batch buffers are static: nothing is
 * allocated per packet. A packet that cannot be sent (the peer side has not
 * latched yet, or the send would block) is dropped and counted, never queued.
 *
 * Only 127.0.0.0/8 is bound; the relay sends only to peers it latched, and
 * refuses to latch a source outside 127.0.0.0/8. It exits by itself after
 * --duration-limit seconds, or on SIGINT/SIGTERM, printing its counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PR_BATCH   32
#define PR_PKTMAX  2048
#define PR_MAXSTREAMS 20000

typedef struct pr_side {
	int fd;
	int latched;
	struct sockaddr_in peer;
	struct pr_side *other;
} pr_side;

typedef struct pr_cfg {
	const char *ip;
	int base_port;
	int streams;
	double duration_limit;
	int connect_peer;
} pr_cfg;

typedef struct pr_stats {
	uint64_t rx, tx, drop_unlatched, drop_send, drop_foreign, wakes, batches;
} pr_stats;

static volatile sig_atomic_t pr_stop;

static void pr_on_signal(int sig)
{
	(void)sig;
	pr_stop = 1;
}

static double pr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pr_usage(FILE *f)
{
	fprintf(f,
		"usage: traverse-plainrelay [--ip 127.0.0.1] [--base-port P] [--streams N]\n"
		"                           [--duration-limit SECS] [--no-connect]\n"
		"\n"
		"A plain single-threaded UDP relay on loopback: the machine's limit.\n"
		"Stream i has sockets A = P+2i and B = P+2i+1; each side latches the\n"
		"source of its first packet; packets on A go out of B to B's peer and\n"
		"vice versa (epoll, recvmmsg batch %d, sendmmsg).\n"
		"\n"
		"  --ip ADDR             address to bind, in 127.0.0.0/8 (default 127.0.0.1)\n"
		"  --base-port P         first port (default 16000)\n"
		"  --streams N           stream pairs, 1..%d (default 1)\n"
		"  --duration-limit S    exit after S seconds (default 60, at most 3600)\n"
		"  --no-connect          keep sockets unconnected; check sources in user space\n"
		"\n"
		"Prints 'ready' on stdout once every socket is bound, and its counters on\n"
		"stderr when it exits (duration limit, SIGINT or SIGTERM).\n",
		PR_BATCH, PR_MAXSTREAMS);
}

static int pr_is_loopback(const struct sockaddr_in *a)
{
	return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
}

/* Parses the command line into cfg. Returns 0, 1 for --help, -1 on error
 * (with the message printed). */
static int pr_parse(int argc, char **argv, pr_cfg *cfg)
{
	cfg->ip = "127.0.0.1";
	cfg->base_port = 16000;
	cfg->streams = 1;
	cfg->duration_limit = 60;
	cfg->connect_peer = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return 1;
		if (!strcmp(a, "--no-connect")) {
			cfg->connect_peer = 0;
			continue;
		}
		if (!v) {
			fprintf(stderr, "traverse-plainrelay: %s needs a value (see --help)\n", a);
			return -1;
		}
		if (!strcmp(a, "--ip"))
			cfg->ip = v;
		else if (!strcmp(a, "--base-port"))
			cfg->base_port = atoi(v);
		else if (!strcmp(a, "--streams"))
			cfg->streams = atoi(v);
		else if (!strcmp(a, "--duration-limit"))
			cfg->duration_limit = atof(v);
		else {
			fprintf(stderr, "traverse-plainrelay: unknown option %s (see --help)\n", a);
			return -1;
		}
		i++;
	}
	if (cfg->streams < 1 || cfg->streams > PR_MAXSTREAMS || cfg->base_port < 1 ||
	    cfg->base_port + 2 * cfg->streams > 65536 || cfg->duration_limit <= 0 ||
	    cfg->duration_limit > 3600) {
		fprintf(stderr, "traverse-plainrelay: bad --streams, --base-port or --duration-limit\n");
		return -1;
	}
	return 0;
}

/* Opens one non-blocking UDP socket bound to ip:port. Returns the fd or -1
 * with errbuf filled. */
static int pr_bind(const char *ip, int port, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1 || !pr_is_loopback(&sa)) {
		snprintf(err, errlen, "%s is not an address in 127.0.0.0/8", ip);
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "bind %s:%d: %s", ip, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The per-packet path: everything readable on s goes out of s->other. */
static void pr_relay(pr_side *s, int connect_peer, pr_stats *st)
{
	static uint8_t buf[PR_BATCH][PR_PKTMAX];
	static struct iovec iov[PR_BATCH];
	static struct mmsghdr in[PR_BATCH], out[PR_BATCH];
	static struct sockaddr_in src[PR_BATCH];
	pr_side *o = s->other;

	st->wakes++;
	/* At most 4 batches per wake so one busy socket cannot starve others. */
	for (int round = 0; round < 4; round++) {
		int n, m = 0, sent;

		for (int k = 0; k < PR_BATCH; k++) {
			iov[k].iov_base = buf[k];
			iov[k].iov_len = PR_PKTMAX;
			in[k].msg_hdr = (struct msghdr){ .msg_name = &src[k], .msg_namelen = sizeof(src[k]),
							 .msg_iov = &iov[k], .msg_iovlen = 1 };
		}
		n = recvmmsg(s->fd, in, PR_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		st->batches++;
		st->rx += (uint64_t)n;
		if (!s->latched) {
			if (!pr_is_loopback(&src[0])) {
				st->drop_foreign += (uint64_t)n;
				continue;
			}
			s->peer = src[0];
			s->latched = 1;
			if (connect_peer && connect(s->fd, (struct sockaddr *)&s->peer, sizeof(s->peer)) < 0)
				fprintf(stderr, "traverse-plainrelay: connect: %s\n", strerror(errno));
		}
		if (!o->latched) {
			st->drop_unlatched += (uint64_t)n;
			continue;
		}
		for (int k = 0; k < n; k++) {
			if (src[k].sin_addr.s_addr != s->peer.sin_addr.s_addr ||
			    src[k].sin_port != s->peer.sin_port) {
				st->drop_foreign++;
				continue;
			}
			iov[k].iov_len = in[k].msg_len;
			out[m].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
			if (!connect_peer) {
				out[m].msg_hdr.msg_name = &o->peer;
				out[m].msg_hdr.msg_namelen = sizeof(o->peer);
			}
			m++;
		}
		sent = m ? sendmmsg(o->fd, out, (unsigned)m, MSG_DONTWAIT) : 0;
		if (sent < 0)
			sent = 0;
		st->tx += (uint64_t)sent;
		st->drop_send += (uint64_t)(m - sent);
		if (n < PR_BATCH)
			return;
	}
}

int main(int argc, char **argv)
{
	pr_cfg cfg;
	pr_stats st = { 0 };
	pr_side *sides = NULL;
	struct epoll_event evs[256];
	struct rlimit rl;
	struct sigaction sa = { .sa_handler = pr_on_signal };
	char err[160];
	double t0, t_end, cpu;
	struct rusage ru;
	int ep = -1, rc = 1, nsides, opened = 0;

	switch (pr_parse(argc, argv, &cfg)) {
	case 1:
		pr_usage(stdout);
		return 0;
	case -1:
		return 2;
	}
	nsides = 2 * cfg.streams;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nsides + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sides = calloc((size_t)nsides, sizeof(*sides));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!sides || ep < 0) {
		fprintf(stderr, "traverse-plainrelay: out of memory or epoll: %s\n", strerror(errno));
		goto out;
	}
	for (opened = 0; opened < nsides; opened++) {
		pr_side *s = &sides[opened];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };

		s->fd = pr_bind(cfg.ip, cfg.base_port + opened, err, sizeof(err));
		if (s->fd < 0) {
			fprintf(stderr, "traverse-plainrelay: %s\n", err);
			goto out;
		}
		s->other = &sides[opened ^ 1];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
			fprintf(stderr, "traverse-plainrelay: epoll_ctl: %s\n", strerror(errno));
			close(s->fd);
			goto out;
		}
	}
	printf("ready %s:%d-%d streams=%d\n", cfg.ip, cfg.base_port, cfg.base_port + nsides - 1, cfg.streams);
	fflush(stdout);

	t0 = pr_now();
	t_end = t0 + cfg.duration_limit;
	while (!pr_stop) {
		int n = epoll_wait(ep, evs, 256, 100);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "traverse-plainrelay: epoll_wait: %s\n", strerror(errno));
			goto out;
		}
		for (int k = 0; k < n; k++)
			pr_relay(evs[k].data.ptr, cfg.connect_peer, &st);
		if (pr_now() >= t_end)
			break;
	}
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr,
		"traverse-plainrelay: streams=%d rx=%llu tx=%llu drop_unlatched=%llu drop_send=%llu "
		"drop_foreign=%llu pkts_per_batch=%.1f cpu_s=%.2f wall_s=%.2f\n",
		cfg.streams, (unsigned long long)st.rx, (unsigned long long)st.tx,
		(unsigned long long)st.drop_unlatched, (unsigned long long)st.drop_send,
		(unsigned long long)st.drop_foreign, st.batches ? (double)st.rx / (double)st.batches : 0.0,
		cpu, pr_now() - t0);
	rc = 0;
out:
	for (int k = opened - 1; k >= 0; k--)
		close(sides[k].fd);
	if (ep >= 0)
		close(ep);
	free(sides);
	return rc;
}
