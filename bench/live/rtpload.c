/* rtpload.c - traverse-rtpload: RTP-shaped load through a relay on loopback.
 *
 * For each of N streams the generator owns two sockets, side 1 and side 2.
 * Side 1 sends to the relay's address for side 1 (which relays to side 2's
 * socket), side 2 to the relay's address for side 2. With --direct each
 * side sends straight to the other side's socket: nothing in between, so
 * the numbers are the generator's own ceiling.
 *
 * Packet: 12-byte RTP header (v2, PT 0, seq, timestamp, SSRC) + 160 bytes:
 *   [0..3] "TRVB" (counted) or "TRVP" (priming, never counted)
 *   [4..7] sending side index (2*stream + side), [8..11] 32-bit sequence,
 *   [12..19] CLOCK_MONOTONIC send time in ns, the rest zero.
 * A packet counts as received only if its magic, SSRC, side index and RTP
 * seq agree, it arrives on the other side's socket of the same stream, its
 * sequence was sent and was not already counted (a bitmap per side): what
 * a relay makes up or duplicates is never counted as relayed.
 *
 * Phases: priming (one packet per side, resent every 50 ms until each side
 * has been heard through the relay, so latching relays learn both peers;
 * bounded by --warmup-ms), then the measured phase (bounded by --count AND
 * --duration), then draining (--drain-ms). Only the measured phase counts.
 *
 * Rate: --rate PPS paces the total; 0 sends flat out, limited by --window
 * packets in flight in all (sent, not yet received) and --side-window per
 * socket; a socket whose window filled sends again only once its packets
 * are back (--side-refill) and --side-gap-us more have passed, so the
 * relay's queue for it empties between bursts (rtpengine gives up on a
 * socket it reads 50 times in one go). When nothing comes back for 20 ms while the windows are full, what
 * is in flight is written off as lost, so one loss cannot stall the run.
 * With windows, a relay that is the bottleneck leaves the generator
 * waiting; a generator that seldom waits, or uses most of a core, is the
 * bottleneck itself and the line says gen_bound=1.
 *
 * Every destination must be in 127.0.0.0/8: others are refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RL_BATCH     32
#define RL_PAYLOAD   160
#define RL_PKT       (12 + RL_PAYLOAD)
#define RL_RXMAX     2048
#define RL_SSRC_BASE 0x54520000u
#define RL_MAXSIDES  40000
#define RL_HIST_NS   100                     /* latency histogram bucket */
#define RL_HIST_N    1000000                 /* 100 ns x 1e6 = 100 ms */
#define RL_STALL_NS  20000000LL              /* window write-off */
#define RL_BOUND_PCT 90.0                    /* generator CPU flagged as bottleneck */

typedef struct rl_cfg {
	const char *targets_file;
	const char *target_ip;
	int target_base, stride;
	int direct;
	int streams;
	const char *local_ip;
	int local_base;
	double rate;
	uint64_t count;
	double duration;
	int burst, window, side_window, side_refill, side_gap_us, warmup_ms, drain_ms, rcvbuf;
	const char *label;
} rl_cfg;

typedef struct rl_side {
	int fd;
	struct sockaddr_in dst;
	uint32_t next_seq;       /* measured packets sent */
	uint32_t cap;            /* bitmap size in bits */
	uint8_t *seen;           /* sequence numbers received from this side */
	uint32_t rx;             /* of those, received on the other side */
	uint32_t written_off;    /* of those, given up as lost (window stall) */
	int primed;              /* a priming packet from this side came through */
	int blocked;             /* window full; open again at --side-refill */
	int64_t drained_at;      /* when it got there (the gap runs from here) */
} rl_side;

typedef struct rl_stats {
	uint64_t sent, received, dup, stray, late_prime, written_off, hist_over;
	int64_t t_last_rx, wait_ns;
	uint32_t *hist;
} rl_stats;

static int64_t rl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double rl_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void rl_usage(FILE *f)
{
	fprintf(f,
		"usage: traverse-rtpload --streams N (--targets FILE | --target-base IP:PORT | --direct)\n"
		"                        [--rate PPS] [--count N] [--duration S] [options]\n"
		"\n"
		"Sends RTP-shaped packets (12-byte header + 160 bytes) through a relay on\n"
		"loopback and counts what comes out the other side.\n"
		"\n"
		"  --streams N          streams; each has a socket per side (default 1)\n"
		"  --targets FILE       one line per stream: 'IP:PORT IP:PORT', where side 1\n"
		"                       and side 2 send ('#' starts a comment)\n"
		"  --target-base IP:PORT  stream i: side 1 -> PORT+S*i, side 2 -> PORT+S*i+1\n"
		"  --stride S           for --target-base (default 2, as traverse-plainrelay)\n"
		"  --direct             no relay: each side sends to the other side's socket\n"
		"  --local-ip ADDR      generator address (default 127.0.0.1)\n"
		"  --local-base P       side s of stream i binds P+4i+2s (odd ports stay free\n"
		"                       for RTCP); 0 = any port (default)\n"
		"  --rate PPS           total packets per second, both sides; 0 = flat out (default)\n"
		"  --count N            measured packets to send, at most (default 1000000)\n"
		"  --duration S         measured seconds, at most (default 3, at most 120)\n"
		"  --burst B            packets per socket per turn, 1..%d (default 8; 1 when paced)\n"
		"  --window W           flat out: packets in flight at most (default 1024; 0 = none)\n"
		"  --side-window W      flat out: packets in flight per socket at most (default 16;\n"
		"                       0 = none). rtpengine stops reading a socket that had 50\n"
		"                       packets in one go 5 times: keep this well under 50\n"
		"  --side-refill L      a socket whose window filled sends again once its packets\n"
		"                       in flight are down to L (default 0: the relay's queue for\n"
		"                       it empties between bursts, as with real RTP)\n"
		"  --side-gap-us G      and only G microseconds after that (default 200)\n"
		"  --warmup-ms MS       priming phase bound (default 1000)\n"
		"  --drain-ms MS        wait for late packets after sending (default 200)\n"
		"  --rcvbuf BYTES       generator socket receive buffer (default 1048576)\n"
		"  --label TEXT         first word of the result line\n"
		"\n"
		"Prints one line of key=value: sent received lost dup stray elapsed_s pps\n"
		"p50_us p99_us (one-way, send to receive) gen_cpu_pct (getrusage over the\n"
		"sending phase) gen_wait_pct (time blocked on the windows or the pace)\n"
		"gen_bound (1 flat out when the generator used >= %.0f%% of a core or waited\n"
		"less than %.0f%% of the time; paced, when it fell behind: then it, not the\n"
		"relay, was the limit) unprimed (sides never heard while priming).\n",
		RL_BATCH, RL_BOUND_PCT, 100.0 - RL_BOUND_PCT);
}

static int rl_parse_ep(const char *s, struct sockaddr_in *sa)
{
	char ip[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = 0;
	port = strtol(colon + 1, NULL, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (port < 1 || port > 65535 || inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
		return -1;
	return (ntohl(sa->sin_addr.s_addr) >> 24) == 127 ? 0 : -2;
}

/* Returns 0, 1 for --help, -1 on error (message printed). */
static int rl_parse(int argc, char **argv, rl_cfg *c)
{
	*c = (rl_cfg){ .stride = 2, .streams = 1, .local_ip = "127.0.0.1", .count = 1000000,
		       .duration = 3, .burst = -1, .window = 1024, .side_window = 16, .side_gap_us = 200, .warmup_ms = 1000,
		       .drain_ms = 200, .rcvbuf = 1 << 20, .label = "rtpload" };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return 1;
		if (!strcmp(a, "--direct")) {
			c->direct = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "traverse-rtpload: %s needs a value (see --help)\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--targets"))
			c->targets_file = v;
		else if (!strcmp(a, "--target-base")) {
			struct sockaddr_in sa;
			static char ip[INET_ADDRSTRLEN];

			if (rl_parse_ep(v, &sa) != 0) {
				fprintf(stderr, "traverse-rtpload: --target-base %s: not IP:PORT in 127.0.0.0/8\n", v);
				return -1;
			}
			inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
			c->target_ip = ip;
			c->target_base = ntohs(sa.sin_port);
		} else if (!strcmp(a, "--stride"))
			c->stride = atoi(v);
		else if (!strcmp(a, "--streams"))
			c->streams = atoi(v);
		else if (!strcmp(a, "--local-ip"))
			c->local_ip = v;
		else if (!strcmp(a, "--local-base"))
			c->local_base = atoi(v);
		else if (!strcmp(a, "--rate"))
			c->rate = atof(v);
		else if (!strcmp(a, "--count"))
			c->count = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--duration"))
			c->duration = atof(v);
		else if (!strcmp(a, "--burst"))
			c->burst = atoi(v);
		else if (!strcmp(a, "--window"))
			c->window = atoi(v);
		else if (!strcmp(a, "--side-window"))
			c->side_window = atoi(v);
		else if (!strcmp(a, "--side-refill"))
			c->side_refill = atoi(v);
		else if (!strcmp(a, "--side-gap-us"))
			c->side_gap_us = atoi(v);
		else if (!strcmp(a, "--warmup-ms"))
			c->warmup_ms = atoi(v);
		else if (!strcmp(a, "--drain-ms"))
			c->drain_ms = atoi(v);
		else if (!strcmp(a, "--rcvbuf"))
			c->rcvbuf = atoi(v);
		else if (!strcmp(a, "--label"))
			c->label = v;
		else {
			fprintf(stderr, "traverse-rtpload: unknown option %s (see --help)\n", a);
			return -1;
		}
	}
	if (c->burst < 0)
		c->burst = c->rate > 0 ? 1 : 8;
	if (!c->direct && !c->targets_file && !c->target_ip) {
		fprintf(stderr, "traverse-rtpload: give --targets, --target-base or --direct\n");
		return -1;
	}
	if (c->streams < 1 || 2 * c->streams > RL_MAXSIDES || c->count < 1 || c->count > 100000000ULL ||
	    c->duration <= 0 || c->duration > 120 || c->burst < 1 || c->burst > RL_BATCH ||
	    c->window < 0 || c->side_window < 0 || c->side_refill < 0 || c->side_gap_us < 0 ||
	    c->side_gap_us > 1000000 ||
	    (c->side_window && c->side_refill >= c->side_window) || c->rate < 0 || c->warmup_ms < 0 || c->warmup_ms > 10000 ||
	    c->drain_ms < 0 || c->drain_ms > 10000 || c->stride < 2 ||
	    (c->local_base && c->local_base + 4 * c->streams > 65536)) {
		fprintf(stderr, "traverse-rtpload: an option is out of range (see --help)\n");
		return -1;
	}
	return 0;
}

/* Fills sides[].dst from the targets file. Returns 0 or -1 (message printed). */
static int rl_read_targets(const char *path, rl_side *sides, int streams)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int n = 0, lineno = 0;

	if (!f) {
		fprintf(stderr, "traverse-rtpload: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (n < streams && fgets(line, sizeof(line), f)) {
		char a[80], b[80];

		lineno++;
		if (line[0] == '#' || sscanf(line, "%79s %79s", a, b) != 2)
			continue;
		if (rl_parse_ep(a, &sides[2 * n].dst) || rl_parse_ep(b, &sides[2 * n + 1].dst)) {
			fprintf(stderr, "traverse-rtpload: %s:%d: want 'IP:PORT IP:PORT' in 127.0.0.0/8\n",
				path, lineno);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	if (n < streams) {
		fprintf(stderr, "traverse-rtpload: %s has %d streams, %d asked\n", path, n, streams);
		return -1;
	}
	return 0;
}

static int rl_open(const rl_cfg *c, rl_side *s, int idx, int ep)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)idx };
	socklen_t len = sizeof(sa);
	int fd;

	if (inet_pton(AF_INET, c->local_ip, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "traverse-rtpload: --local-ip %s is not in 127.0.0.0/8\n", c->local_ip);
		return -1;
	}
	if (c->local_base)
		sa.sin_port = htons((uint16_t)(c->local_base + 4 * (idx / 2) + 2 * (idx % 2)));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "traverse-rtpload: socket: %s\n", strerror(errno));
		return -1;
	}
	/* FORCE (root) passes net.core.rmem_max; the generator is the instrument
	 * and must not drop what the relay delivered. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &c->rcvbuf, sizeof(c->rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &c->rcvbuf, sizeof(c->rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		fprintf(stderr, "traverse-rtpload: bind %s:%d: %s\n", c->local_ip, ntohs(sa.sin_port),
			strerror(errno));
		close(fd);
		return -1;
	}
	s[idx].fd = fd;
	if (c->direct) {
		/* The other side's socket is opened next (or was just opened). */
		s[idx ^ 1].dst = sa;
	}
	return 0;
}

static void rl_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t rl_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void rl_build(uint8_t *p, int idx, uint32_t seq, int64_t now, int prime)
{
	p[0] = 0x80;
	p[1] = 0;                                           /* PT 0, PCMU */
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	rl_put32(p + 4, seq * 160);
	rl_put32(p + 8, RL_SSRC_BASE + (uint32_t)idx);
	memcpy(p + 12, prime ? "TRVP" : "TRVB", 4);
	rl_put32(p + 16, (uint32_t)idx);
	rl_put32(p + 20, seq);
	rl_put32(p + 24, (uint32_t)((uint64_t)now >> 32));
	rl_put32(p + 28, (uint32_t)now);
}

/* Sends up to n measured packets (or one priming packet) from side idx.
 * Returns the number sent. */
static int rl_send(rl_side *sides, int idx, int n, int prime, int64_t now)
{
	static uint8_t pkt[RL_BATCH][RL_PKT];
	static struct iovec iov[RL_BATCH];
	static struct mmsghdr m[RL_BATCH];
	rl_side *s = &sides[idx];
	int sent;

	if (!prime && s->next_seq + (uint32_t)n > s->cap)
		n = (int)(s->cap - s->next_seq);
	if (n <= 0)
		return 0;
	for (int k = 0; k < n; k++) {
		rl_build(pkt[k], idx, prime ? 0 : s->next_seq + (uint32_t)k, now, prime);
		iov[k] = (struct iovec){ .iov_base = pkt[k], .iov_len = RL_PKT };
		m[k].msg_hdr = (struct msghdr){ .msg_name = &s->dst, .msg_namelen = sizeof(s->dst),
						.msg_iov = &iov[k], .msg_iovlen = 1 };
	}
	sent = sendmmsg(s->fd, m, (unsigned)n, MSG_DONTWAIT);
	if (sent < 0)
		sent = 0;
	if (!prime)
		s->next_seq += (uint32_t)sent;
	return sent;
}

static void rl_account(rl_side *sides, int nsides, int at, const uint8_t *p, size_t len,
		       int64_t now, int measuring, rl_stats *st)
{
	uint32_t ssrc, idx, seq;
	int64_t sent_at, lat;
	int prime;

	if (len != RL_PKT || p[0] != 0x80) {
		st->stray++;
		return;
	}
	prime = !memcmp(p + 12, "TRVP", 4);
	ssrc = rl_get32(p + 8);
	idx = rl_get32(p + 16);
	seq = rl_get32(p + 20);
	if ((!prime && memcmp(p + 12, "TRVB", 4)) || ssrc != RL_SSRC_BASE + idx ||
	    idx >= (uint32_t)nsides || (int)(idx ^ 1) != at ||
	    ((uint32_t)p[2] << 8 | p[3]) != (seq & 0xffff)) {
		st->stray++;
		return;
	}
	if (prime) {
		sides[idx].primed = 1;
		st->late_prime += measuring;
		return;
	}
	if (seq >= sides[idx].next_seq) {
		st->stray++;
		return;
	}
	if (sides[idx].seen[seq >> 3] & (1u << (seq & 7))) {
		st->dup++;
		return;
	}
	sides[idx].seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
	sides[idx].rx++;
	st->received++;
	st->t_last_rx = now;
	sent_at = (int64_t)((uint64_t)rl_get32(p + 24) << 32 | rl_get32(p + 28));
	lat = now - sent_at;
	if (lat < 0)
		lat = 0;
	if (lat / RL_HIST_NS >= RL_HIST_N)
		st->hist_over++;
	else
		st->hist[lat / RL_HIST_NS]++;
}

/* Drains every ready socket, waiting up to timeout_us for one to be ready
 * (0: do not wait). Returns packets handed to rl_account. */
static int rl_receive(int ep, rl_side *sides, int nsides, int64_t timeout_us, int measuring, rl_stats *st)
{
	static uint8_t buf[RL_BATCH][RL_RXMAX];
	static struct iovec iov[RL_BATCH];
	static struct mmsghdr m[RL_BATCH];
	struct epoll_event evs[256];
	struct timespec ts = { .tv_sec = timeout_us / 1000000, .tv_nsec = (timeout_us % 1000000) * 1000 };
	int n, total = 0;

	/* epoll_pwait2 (Linux 5.11) waits in microseconds; before it, whole
	 * milliseconds, rounded up. */
	n = epoll_pwait2(ep, evs, 256, &ts, NULL);
	if (n < 0 && errno == ENOSYS)
		n = epoll_wait(ep, evs, 256, (int)((timeout_us + 999) / 1000));
	for (int e = 0; e < n; e++) {
		int at = (int)evs[e].data.u32;

		for (int round = 0; round < 8; round++) {
			int got;
			int64_t now;

			for (int k = 0; k < RL_BATCH; k++) {
				iov[k] = (struct iovec){ .iov_base = buf[k], .iov_len = RL_RXMAX };
				m[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
			}
			got = recvmmsg(sides[at].fd, m, RL_BATCH, MSG_DONTWAIT, NULL);
			if (got <= 0)
				break;
			now = rl_now();
			for (int k = 0; k < got; k++)
				rl_account(sides, nsides, at, buf[k], m[k].msg_len, now, measuring, st);
			total += got;
			if (got < RL_BATCH)
				break;
		}
	}
	return total;
}

/* Priming: every side sends one packet every 50 ms until it was heard on the
 * other side, or the bound passes. Returns the sides not heard. */
static int rl_prime(const rl_cfg *c, int ep, rl_side *sides, int nsides, rl_stats *st)
{
	int64_t end = rl_now() + (int64_t)c->warmup_ms * 1000000LL;
	int left = nsides;

	while (left > 0 && rl_now() < end) {
		int64_t next = rl_now() + 50000000LL;

		for (int i = 0; i < nsides; i++)
			if (!sides[i].primed)
				rl_send(sides, i, 1, 1, rl_now());
		while (rl_now() < next && rl_now() < end) {
			rl_receive(ep, sides, nsides, 5000, 0, st);
			left = 0;
			for (int i = 0; i < nsides; i++)
				left += !sides[i].primed;
			if (!left)
				break;
		}
	}
	/* Let stragglers of the priming phase arrive before counting starts. */
	for (int64_t quiet = rl_now() + 20000000LL; rl_now() < quiet;)
		rl_receive(ep, sides, nsides, 5000, 0, st);
	return left;
}

static double rl_percentile(const rl_stats *st, double q)
{
	uint64_t want, acc = 0;

	if (!st->received)
		return 0;
	want = (uint64_t)(q * (double)st->received);
	if (want >= st->received)
		want = st->received - 1;
	for (int b = 0; b < RL_HIST_N; b++) {
		acc += st->hist[b];
		if (acc > want)
			return (b + 0.5) * RL_HIST_NS / 1000.0;
	}
	return RL_HIST_N * (double)RL_HIST_NS / 1000.0;     /* in the overflow: at least this */
}

/* Packets of side s sent and neither received nor written off. */
static int64_t rl_inflight(const rl_side *s)
{
	return (int64_t)s->next_seq - (int64_t)s->rx - (int64_t)s->written_off;
}

/* The measured phase. *cpu_end is the process CPU time when sending ended:
 * the generator's share is taken over the sending phase only, since the
 * drain after it sleeps by design. st->wait_ns adds up the time the
 * generator blocked because the window or the pace let it send nothing. */
static void rl_measure(const rl_cfg *c, int ep, rl_side *sides, int nsides, rl_stats *st,
		       int64_t *t0, int64_t *t_send_end, double *cpu_end)
{
	int64_t start = rl_now(), end = start + (int64_t)(c->duration * 1e9);
	int64_t last_progress = start;
	uint64_t last_rx = 0;
	int cursor = 0, sweep = nsides < 64 ? nsides : 64, done = 0;
	int flat = c->rate <= 0;
	int64_t gap_ns = (int64_t)c->side_gap_us * 1000;

	*t0 = start;
	while (done < nsides) {
		int64_t now = rl_now();
		int64_t allow = (int64_t)(c->count - st->sent);
		int64_t wake = now + 1000000;           /* when to look again if nothing is sent */
		int sent_any = 0;

		if (now >= end || allow <= 0)
			break;
		if (!flat) {
			int64_t due = (int64_t)(c->rate * (double)(now - start) / 1e9) + 1;

			if (due - (int64_t)st->sent < allow)
				allow = due - (int64_t)st->sent;
			if (allow <= 0)
				wake = start + (int64_t)((double)(st->sent + 1) * 1e9 / c->rate);
		}
		if (flat && c->window > 0) {
			int64_t inflight = (int64_t)(st->sent - st->received - st->written_off);

			if (c->window - inflight < allow)
				allow = c->window - inflight;
		}
		for (int k = 0; k < sweep && allow > 0; k++) {
			rl_side *s = &sides[cursor];
			int n = allow < c->burst ? (int)allow : c->burst;
			int sent;

			if (flat && c->side_window > 0) {
				int64_t fl = rl_inflight(s);

				if (fl >= c->side_window) {
					s->blocked = 1;
					s->drained_at = 0;
				} else if (s->blocked && fl <= c->side_refill) {
					/* Drained: open again after the gap. */
					if (!s->drained_at)
						s->drained_at = now;
					if (now - s->drained_at >= gap_ns)
						s->blocked = 0;
					else if (s->drained_at + gap_ns < wake)
						wake = s->drained_at + gap_ns;
				}
				n = s->blocked ? 0 : n < c->side_window - fl ? n : (int)(c->side_window - fl);
			}
			if (n > 0 && s->next_seq < s->cap) {
				sent = rl_send(sides, cursor, n, 0, now);
				st->sent += (uint64_t)sent;
				allow -= sent;
				sent_any += sent;
				done += s->next_seq >= s->cap;
			}
			cursor = cursor + 1 == nsides ? 0 : cursor + 1;
		}
		if (sent_any) {
			rl_receive(ep, sides, nsides, 0, 1, st);
		} else {
			int64_t w0 = rl_now();
			int64_t us = (wake - w0) / 1000;

			rl_receive(ep, sides, nsides, us < 1 ? 1 : us > 1000 ? 1000 : us, 1, st);
			st->wait_ns += rl_now() - w0;
		}
		if (st->received != last_rx) {
			last_rx = st->received;
			last_progress = rl_now();
		} else if (!sent_any && rl_now() - last_progress > RL_STALL_NS) {
			/* Nothing came back for a while: what is in flight is lost. */
			for (int i = 0; i < nsides; i++)
				sides[i].written_off += (uint32_t)rl_inflight(&sides[i]);
			st->written_off = st->sent - st->received;
			last_progress = rl_now();
		}
	}
	*t_send_end = rl_now();
	*cpu_end = rl_cpu();
	for (int64_t stop = *t_send_end + (int64_t)c->drain_ms * 1000000LL; rl_now() < stop;) {
		if (st->received >= st->sent)
			break;
		rl_receive(ep, sides, nsides, 5000, 1, st);
	}
}

int main(int argc, char **argv)
{
	rl_cfg c;
	rl_stats st = { 0 };
	rl_side *sides = NULL;
	struct rlimit rl;
	int nsides, ep = -1, opened = 0, rc = 1, unprimed;
	int64_t t0 = 0, t_send_end = 0;
	double cpu0, cpu1, elapsed, send_s, cpu_pct, wait_pct;
	int gen_bound;
	uint32_t cap;

	switch (rl_parse(argc, argv, &c)) {
	case 1:
		rl_usage(stdout);
		return 0;
	case -1:
		return 2;
	}
	nsides = 2 * c.streams;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nsides + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	cap = (uint32_t)(c.count / (uint64_t)nsides) + (uint32_t)c.burst + 1;
	sides = calloc((size_t)nsides, sizeof(*sides));
	st.hist = calloc(RL_HIST_N, sizeof(*st.hist));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!sides || !st.hist || ep < 0) {
		fprintf(stderr, "traverse-rtpload: out of memory or epoll\n");
		goto out;
	}
	for (int i = 0; i < nsides; i++) {
		sides[i].cap = cap;
		sides[i].seen = calloc(cap / 8 + 1, 1);
		if (!sides[i].seen) {
			fprintf(stderr, "traverse-rtpload: out of memory\n");
			goto out;
		}
		if (c.target_ip) {
			int port = c.target_base + c.stride * (i / 2) + i % 2;

			if (port > 65535) {
				fprintf(stderr, "traverse-rtpload: target ports pass 65535\n");
				goto out;
			}
			sides[i].dst = (struct sockaddr_in){ .sin_family = AF_INET,
							     .sin_port = htons((uint16_t)port) };
			inet_pton(AF_INET, c.target_ip, &sides[i].dst.sin_addr);
		}
	}
	if (c.targets_file && !c.direct && rl_read_targets(c.targets_file, sides, c.streams) < 0)
		goto out;
	for (opened = 0; opened < nsides; opened++)
		if (rl_open(&c, sides, opened, ep) < 0)
			goto out;

	unprimed = rl_prime(&c, ep, sides, nsides, &st);
	st.stray = 0;
	cpu0 = rl_cpu();
	rl_measure(&c, ep, sides, nsides, &st, &t0, &t_send_end, &cpu1);
	send_s = (double)(t_send_end - t0) / 1e9;
	if (send_s <= 0)
		send_s = 1e-9;
	elapsed = (double)((st.t_last_rx > t_send_end ? st.t_last_rx : t_send_end) - t0) / 1e9;
	cpu_pct = 100.0 * (cpu1 - cpu0) / send_s;
	wait_pct = 100.0 * (double)st.wait_ns / 1e9 / send_s;
	/* Flat out, a generator that hardly ever had to wait for the relay (or
	 * used most of a core) was the limit; paced, one that fell behind its
	 * pace was. CPU alone misleads on a VM whose vCPUs are not always
	 * scheduled: wall time passes while neither process runs. */
	if (c.rate > 0)
		gen_bound = (double)st.sent < 0.95 * c.rate * send_s && st.sent < c.count;
	else
		gen_bound = cpu_pct >= RL_BOUND_PCT || wait_pct < 100.0 - RL_BOUND_PCT;
	printf("%s mode=%s streams=%d rate=%.0f sent=%llu received=%llu lost=%llu dup=%llu stray=%llu "
	       "elapsed_s=%.3f pps=%.0f p50_us=%.1f p99_us=%.1f over100ms=%llu gen_cpu_pct=%.0f "
	       "gen_wait_pct=%.0f gen_bound=%d unprimed=%d\n",
	       c.label, c.direct ? "direct" : "relay", c.streams, c.rate, (unsigned long long)st.sent,
	       (unsigned long long)st.received, (unsigned long long)(st.sent - st.received),
	       (unsigned long long)st.dup, (unsigned long long)st.stray, elapsed,
	       elapsed > 0 ? (double)st.received / elapsed : 0.0, rl_percentile(&st, 0.50),
	       rl_percentile(&st, 0.99), (unsigned long long)st.hist_over, cpu_pct, wait_pct,
	       gen_bound, unprimed);
	rc = st.received > 0 ? 0 : 3;
out:
	for (int k = opened - 1; k >= 0; k--)
		close(sides[k].fd);
	for (int k = 0; sides && k < nsides; k++)
		free(sides[k].seen);
	if (ep >= 0)
		close(ep);
	free(st.hist);
	free(sides);
	return rc;
}
