/* main.c - traverse-nat: the loop. Reads IPv4 packets from the two TUN
 * devices (natd.h), hands each to nat_process() with CLOCK_MONOTONIC time
 * from the live loop, and writes what comes back to the side it names.
 *
 * Timers: one, the engine's earliest binding expiry (nat_next_wake),
 * served by nat_on_timeout() and re-armed after every batch of packets.
 * Signals: SIGTERM and SIGINT stop the loop through a signalfd; the
 * counters are printed on the way out. */
#include "natd.h"
#include "livehost.h"

#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define NATD_BURST 64           /* packets read from one device per wake-up */

enum { SIDE_IN = 0, SIDE_OUT = 1 };

typedef struct natd {
	live_loop *lp;
	nat *eng;
	int fd[2];
	char dev[2][IFNAMSIZ];
	tv_timer wake;
	int sfd;
	uint64_t rx[2], tx[2];          /* packets read from / written to each side */
	uint64_t not_ipv4[2];           /* dropped before the engine (IPv6 router solicitations...) */
	uint64_t tx_err[2];             /* write() refused */
	uint8_t buf[65536];
} natd;

static void rearm(natd *d)
{
	tv_time w = nat_next_wake(d->eng);

	if (w == TV_NEVER)
		live_loop_timer_cancel(d->lp, &d->wake);
	else if (!tv_timer_armed(&d->wake) || d->wake.when != w)
		live_loop_timer_arm(d->lp, &d->wake, w);
}

static void on_wake(tv_timer *t, tv_time now)
{
	natd *d = t->arg;

	nat_on_timeout(d->eng, now);
	rearm(d);
}

static void emit(natd *d, int side, size_t len)
{
	if (write(d->fd[side], d->buf, len) == (ssize_t)len)
		d->tx[side]++;
	else
		d->tx_err[side]++;
}

static void on_tun(void *arg, int fd, uint32_t events, tv_time now)
{
	natd *d = arg;
	int side = fd == d->fd[SIDE_IN] ? SIDE_IN : SIDE_OUT;

	(void)events;
	for (int i = 0; i < NATD_BURST; i++) {
		ssize_t n = read(fd, d->buf, sizeof(d->buf));
		int v;

		if (n <= 0)
			break;
		d->rx[side]++;
		if ((d->buf[0] >> 4) != 4) {
			d->not_ipv4[side]++;
			continue;
		}
		{
			size_t len = (size_t)n;
			v = nat_process_buf(d->eng, now, side == SIDE_IN ? NAT_OUT : NAT_IN, d->buf, &len, sizeof(d->buf));
			if (v == NAT_OUT)
				emit(d, SIDE_OUT, len);
			else if (v == NAT_IN)
				emit(d, SIDE_IN, len);
		}
	}
	if (!tv_timer_armed(&d->wake) || d->wake.when > nat_next_wake(d->eng))
		rearm(d);
}

static void on_signal(void *arg, int fd, uint32_t events, tv_time now)
{
	natd *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	(void)now;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		live_loop_stop(d->lp);
}

static void report(const natd *d)
{
	const nat_stats *st = nat_get_stats(d->eng);

	printf("traverse-nat: packets from-inside=%llu from-outside=%llu to-outside=%llu to-inside=%llu hairpin=%llu\n",
	       (unsigned long long)d->rx[SIDE_IN], (unsigned long long)d->rx[SIDE_OUT],
	       (unsigned long long)d->tx[SIDE_OUT], (unsigned long long)d->tx[SIDE_IN],
	       (unsigned long long)st->hairpin);
	printf("traverse-nat: bindings created=%llu expired=%llu live=%u\n", (unsigned long long)st->created,
	       (unsigned long long)st->expired, nat_binding_count(d->eng));
	printf("traverse-nat: dropped not-ipv4=%llu", (unsigned long long)(d->not_ipv4[0] + d->not_ipv4[1]));
	for (int i = 0; i < NAT_DROP__COUNT; i++)
		printf(" %s=%llu", nat_drop_name((enum nat_drop)i), (unsigned long long)st->drop[i]);
	printf(" write-error=%llu\n", (unsigned long long)(d->tx_err[0] + d->tx_err[1]));
	fflush(stdout);
}

static int run(natd *d, const natd_args *a)
{
	char err[300], ip[2][TV_IP_STRLEN];
	int plen[NAT_MAX_PUB], zero = 0, rc = 1;
	tv_ip any = tv_ip4(0);
	sigset_t mask;

	d->eng = nat_new(&a->cfg, a->seed, err, sizeof(err));
	if (!d->eng) {
		fprintf(stderr, "traverse-nat: %s\n", err);
		return 2;
	}
	/* Inside: the hosts' address, the NAT as the peer, the default route. */
	d->fd[SIDE_IN] = natd_tun_open(a->inside_ns, a->inside_dev, &a->inside_host, &a->inside_addr, &any, &zero, 1,
				       d->dev[SIDE_IN], err, sizeof(err));
	if (d->fd[SIDE_IN] < 0) {
		fprintf(stderr, "traverse-nat: inside: %s\n", err);
		return 1;
	}
	/* Outside: no address of its own, a host route to each public one. */
	for (int i = 0; i < a->cfg.npub; i++)
		plen[i] = 32;
	d->fd[SIDE_OUT] = natd_tun_open(a->outside_ns, a->outside_dev, NULL, NULL, a->cfg.pub, plen, a->cfg.npub,
					d->dev[SIDE_OUT], err, sizeof(err));
	if (d->fd[SIDE_OUT] < 0) {
		fprintf(stderr, "traverse-nat: outside: %s\n", err);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fprintf(stderr, "traverse-nat: signalfd: %s\n", strerror(errno));
		return 1;
	}
	if (live_loop_watch(d->lp, d->fd[SIDE_IN], EPOLLIN, on_tun, d) < 0 ||
	    live_loop_watch(d->lp, d->fd[SIDE_OUT], EPOLLIN, on_tun, d) < 0 ||
	    live_loop_watch(d->lp, d->sfd, EPOLLIN, on_signal, d) < 0) {
		fprintf(stderr, "traverse-nat: epoll: cannot watch the devices\n");
		return 1;
	}
	tv_timer_init(&d->wake, on_wake, d);
	printf("traverse-nat: ready: inside %s in %s (%s, peer %s), outside %s in %s; %s mapping, %s filtering\n",
	       d->dev[SIDE_IN], a->inside_ns, tv_ip_fmt(&a->inside_host, ip[0]), tv_ip_fmt(&a->inside_addr, ip[1]),
	       d->dev[SIDE_OUT], a->outside_ns, nat_behav_name(a->cfg.mapping), nat_behav_name(a->cfg.filtering));
	fflush(stdout);
	if ((rc = live_loop_run(d->lp, TV_NEVER)) < 0)
		fprintf(stderr, "traverse-nat: epoll: %d\n", rc);
	live_loop_timer_cancel(d->lp, &d->wake);
	report(d);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	natd_args a;
	natd *d;
	char err[400];
	int rc;

	rc = natd_args_parse(&a, argc, argv, err, sizeof(err));
	if (rc == NATD_ARGS_HELP) {
		fputs(natd_usage(), stdout);
		return 0;
	}
	if (rc != NATD_ARGS_OK) {
		fprintf(stderr, "traverse-nat: %s\n", err);
		return 2;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(stderr, "traverse-nat: out of memory\n");
		return 1;
	}
	d->fd[0] = d->fd[1] = d->sfd = -1;
	d->lp = live_loop_new(&rc);
	if (!d->lp) {
		fprintf(stderr, "traverse-nat: epoll: %d\n", rc);
		free(d);
		return 1;
	}
	rc = run(d, &a);
	for (int i = 0; i < 2; i++)
		if (d->fd[i] >= 0) {
			live_loop_unwatch(d->lp, d->fd[i]);
			close(d->fd[i]);        /* the device goes with it */
		}
	if (d->sfd >= 0) {
		live_loop_unwatch(d->lp, d->sfd);
		close(d->sfd);
	}
	live_loop_free(d->lp);
	nat_free(d->eng);
	free(d);
	return rc;
}
