/* main.c - traverse-proxy: the reference proxy as a daemon on real sockets.
 *
 * The proxy engine (proxy/) on a live host (core/livehost.h) with two
 * addresses, access and core, driven by one epoll loop; around it the
 * control socket (ctl.c), the Prometheus endpoint (metrics.c), the
 * accounting file, logs and signals:
 *   SIGTERM, SIGINT  stop: every leg ends and writes its accounting
 *                    record, the file is flushed, exit 0;
 *   SIGHUP           reread the config: what can change at run time does
 *                    (proxy_reload), what cannot is named in the log. */
#include "conf.h"
#include "ctl.h"
#include "livehost.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const char usage[] =
	"usage: traverse-proxy -c FILE [--foreground] [--pidfile FILE] [--check-config]\n"
	"\n"
	"The Traverse reference proxy on real sockets: it sits outside the\n"
	"terminals' NATs in front of a softswitch, rewrites SIP and SDP, relays\n"
	"and latches media, keeps NAT bindings open and writes one accounting\n"
	"record per call leg.\n"
	"\n"
	"  -c, --config FILE   configuration (docs/proxy.md; etc/traverse-proxy.conf)\n"
	"  -f, --foreground    stay in the foreground (default: detach)\n"
	"  -p, --pidfile FILE  write the process id there\n"
	"  -t, --check-config  read the configuration, report, exit 0 or 2\n"
	"  -h, --help          this help\n"
	"\n"
	"Signals: SIGTERM/SIGINT end every call with its accounting record and\n"
	"exit 0; SIGHUP rereads the configuration.\n"
	"Control: 'traverse ctl -s SOCKET help' (docs/control.md).\n"
	"Exit status: 0 after a clean stop, 1 on a run-time failure, 2 on a bad\n"
	"command line or configuration.\n";

typedef struct tpd {
	tpd_conf conf;
	live_loop *lp;
	tv_host *h;
	proxy *px;
	FILE *acct;
	tpd_ctl *ctl;
	tpd_metrics *metrics;
	int sigfd;
	bool stopping;
	tv_timer tick;          /* once a second: drops to the event stream */
} tpd;

static void on_event(void *arg, const proxy_event *e)
{
	tpd *d = arg;

	if (d->ctl)
		tpd_ctl_event(d->ctl, e);
	if (e->type == PX_EV_BINDING_TRUSTED || e->type == PX_EV_BINDING_REMOVED) {
		char a[TV_EP_STRLEN];
		tpd_log(TPD_DEBUG, "%s %s at %s", proxy_event_name(e->type), e->user ? e->user : "?",
			tv_ep_fmt(&e->addr, a));
	}
}

static void on_tick(tv_timer *t, tv_time now)
{
	tpd *d = t->arg;

	if (d->ctl)
		tpd_ctl_tick(d->ctl, now);
	live_loop_timer_arm(d->lp, &d->tick, now + TV_SEC(1));
}

static void write_record(void *arg, const proxy_record *r)
{
	tpd *d = arg;

	if (d->ctl)
		tpd_ctl_record(d->ctl, r);
	if (!d->acct)
		return;
	fprintf(d->acct, "%s,%s,%s,%.6f,%.6f,%d,%llu,%llu,%llu,%llu\n", r->user, r->call_id, r->reason,
		(double)r->started / 1e6, (double)r->ended / 1e6, r->streams, (unsigned long long)r->pkts_to_core,
		(unsigned long long)r->bytes_to_core, (unsigned long long)r->pkts_to_access,
		(unsigned long long)r->bytes_to_access);
	fflush(d->acct);
}

static int open_accounting(tpd *d)
{
	long size;

	if (!d->conf.accounting[0])
		return 0;
	d->acct = fopen(d->conf.accounting, "a");
	if (!d->acct) {
		tpd_log(TPD_ERR, "accounting: cannot open %s: %s", d->conf.accounting, strerror(errno));
		return -1;
	}
	fseek(d->acct, 0, SEEK_END);
	size = ftell(d->acct);
	if (size == 0)
		fprintf(d->acct, "user,call_id,reason,started_s,ended_s,streams,pkts_to_core,bytes_to_core,"
			"pkts_to_access,bytes_to_access\n");
	fflush(d->acct);
	return 0;
}

static void reload(tpd *d)
{
	tpd_conf nc;
	char err[600], fixed[300];

	if (tpd_conf_load(d->conf.path, &nc, err, sizeof(err)) < 0) {
		tpd_log(TPD_ERR, "SIGHUP: configuration not reloaded: %s", err);
		return;
	}
	tpd_conf_fixed_diff(&d->conf, &nc, fixed, sizeof(fixed));
	proxy_reload(d->px, &nc.pc);
	d->conf.pc = nc.pc;
	d->conf.level = nc.level;
	tpd_log_set_level(nc.level);
	if (strcmp(nc.accounting, d->conf.accounting)) {
		if (d->acct)
			fclose(d->acct);
		d->acct = NULL;
		snprintf(d->conf.accounting, sizeof(d->conf.accounting), "%s", nc.accounting);
		open_accounting(d);
	}
	if (fixed[0])
		tpd_log(TPD_WARN, "SIGHUP: reloaded %s; these need a restart and keep their old values: %s",
			d->conf.path, fixed);
	else
		tpd_log(TPD_INFO, "SIGHUP: reloaded %s", d->conf.path);
}

static void on_signal(void *arg, int fd, uint32_t events, tv_time now)
{
	tpd *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	(void)now;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
		} else {
			tpd_log(TPD_INFO, "signal %d: stopping", (int)si.ssi_signo);
			d->stopping = true;
			live_loop_stop(d->lp);
		}
	}
}

static int write_pidfile(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (!fp)
		return -1;
	fprintf(fp, "%ld\n", (long)getpid());
	return fclose(fp);
}

static int start(tpd *d)
{
	tv_ip ips[2] = { d->conf.pc.access_ip, d->conf.pc.core_ip };
	char a[TV_IP_STRLEN], k[TV_IP_STRLEN], s[TV_EP_STRLEN];
	sigset_t set;
	int err;

	d->lp = live_loop_new(&err);
	if (!d->lp) {
		tpd_log(TPD_ERR, "event loop: error %d", err);
		return -1;
	}
	d->h = livehost_new(d->lp, "traverse-proxy", ips, 2, &err);
	if (!d->h)
		return -1;
	if (open_accounting(d) < 0)
		return -1;
	d->conf.pc.on_record = write_record;
	d->conf.pc.record_arg = d;
	d->conf.pc.on_event = on_event;
	d->conf.pc.event_arg = d;
	d->px = proxy_new(d->h, &d->conf.pc, &err);
	if (!d->px) {
		tpd_log(TPD_ERR, "cannot start the proxy on access %s:%u, core %s (error %d: %s)",
			tv_ip_fmt(&d->conf.pc.access_ip, a), d->conf.pc.sip_port, tv_ip_fmt(&d->conf.pc.core_ip, k),
			err, err == TV_EEXIST ? "address in use" : err == TV_EINVAL ? "address not on this machine" : "");
		return -1;
	}
	if (d->conf.control[0] && !(d->ctl = tpd_ctl_new(d->lp, d->conf.control, d->px, &err))) {
		tpd_log(TPD_ERR, "control socket %s: %s", d->conf.control, strerror(-err));
		return -1;
	}
	if (d->conf.metrics_on && !(d->metrics = tpd_metrics_new(d->lp, &d->conf.metrics, d->px, &err))) {
		tpd_log(TPD_ERR, "metrics %s: cannot listen", tv_ep_fmt(&d->conf.metrics, s));
		return -1;
	}
	tv_timer_init(&d->tick, on_tick, d);
	live_loop_timer_arm(d->lp, &d->tick, live_loop_now(d->lp) + TV_SEC(1));
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0 || live_loop_watch(d->lp, d->sigfd, EPOLLIN, on_signal, d) < 0)
		return -1;
	tpd_log(TPD_INFO, "traverse-proxy: access %s:%u, core %s, softswitch %s, media %u-%u",
		tv_ip_fmt(&d->conf.pc.access_ip, a), d->conf.pc.sip_port, tv_ip_fmt(&d->conf.pc.core_ip, k),
		tv_ep_fmt(&d->conf.pc.softswitch, s), d->conf.pc.media_lo, d->conf.pc.media_hi);
	return 0;
}

static void stop(tpd *d)
{
	if (d->px) {
		const proxy_stats *st = proxy_get_stats(d->px);
		uint64_t before = st->records;
		uint32_t legs = st->legs;

		proxy_shutdown(d->px, live_loop_now(d->lp));
		tpd_log(TPD_INFO, "stopped: %u legs ended, %llu accounting records written at stop",
			legs, (unsigned long long)(st->records - before));
	}
	if (d->lp)
		live_loop_timer_cancel(d->lp, &d->tick);
	/* proxy_free() still reports the bindings it removes: nobody listens */
	tpd_metrics_free(d->metrics);
	d->metrics = NULL;
	tpd_ctl_free(d->ctl);
	d->ctl = NULL;
	proxy_free(d->px);
	d->px = NULL;
	if (d->sigfd >= 0) {
		live_loop_unwatch(d->lp, d->sigfd);
		close(d->sigfd);
	}
	host_free(d->h);
	live_loop_free(d->lp);
	if (d->acct)
		fclose(d->acct);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' }, { "foreground", no_argument, NULL, 'f' },
		{ "pidfile", required_argument, NULL, 'p' }, { "check-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *cfg = NULL, *pidfile = NULL;
	bool fg = false, check = false;
	char err[600];
	tpd d = { .sigfd = -1 };
	int o, rc;

	while ((o = getopt_long(argc, argv, "c:fp:th", lo, NULL)) != -1) {
		switch (o) {
		case 'c': cfg = optarg; break;
		case 'f': fg = true; break;
		case 'p': pidfile = optarg; break;
		case 't': check = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!cfg || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (tpd_conf_load(cfg, &d.conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "traverse-proxy: %s\n", err);
		return 2;
	}
	if (check) {
		printf("%s: configuration OK\n", cfg);
		return 0;
	}
	tpd_log_open(d.conf.log, d.conf.level);
	if (!fg && daemon(0, 0) < 0) {
		tpd_log(TPD_ERR, "cannot detach: %s", strerror(errno));
		return 1;
	}
	if (pidfile && write_pidfile(pidfile) < 0) {
		tpd_log(TPD_ERR, "pidfile %s: %s", pidfile, strerror(errno));
		return 1;
	}
	rc = start(&d);
	if (rc == 0)
		rc = live_loop_run(d.lp, TV_NEVER);
	stop(&d);
	if (pidfile)
		unlink(pidfile);
	return rc < 0 ? 1 : 0;
}
