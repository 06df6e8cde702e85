/* dash_sim.c - `traverse run --dash FILE`: a scenario in simulation under
 * the dashboard. The run calls dash_sim_advance wherever it would run the
 * network; here the virtual clock goes at the chosen speed (x0.1 to
 * x1000), holds on pause, or moves one event at a time (n). Snapshots are
 * the control socket's JSON lines (daemon/ctl_json.c) made from the
 * simulated proxy, plus the NATs' tables and where the scenario is, fed to
 * the same model an attached dashboard reads: the screen never holds a
 * pointer into an engine. */
#include "dash.h"
#include "dash_priv.h"

#include "ctl_json.h"
#include "scn_ctx.h"

#include <curses.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct dash D;

static double real_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double vsec(tv_time t) { return (double)t / 1e6; }

/* Apply every line of j to the model, at virtual time now (rates are per
 * virtual second). */
static void feed(jbuf *j, double now)
{
	char *p = j->s, *nl;

	if (!p || j->oom)
		return;
	for (; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		dash_apply_line(&D.m, p, now);
	}
}

static void nat_row(void *arg, const nat_binding_info *b)
{
	void **a = arg;
	jbuf *j = a[0];
	const char *name = a[1];
	char e[TV_EP_STRLEN];

	if (j->n++)
		jb_raw(j, ",");
	jb_raw(j, "{");
	jb_key(j, "nat");
	jb_str(j, name);
	jb_field(j, "proto", b->proto == TV_PROTO_TCP ? "tcp" : b->proto == TV_PROTO_UDP ? "udp" : "icmp");
	jb_field(j, "internal", tv_ep_fmt(&b->internal, e));
	jb_field(j, "external", tv_ep_fmt(&b->external, e));
	if (b->remote.port || b->remote.ip.v4)
		jb_field(j, "remote", tv_ep_fmt(&b->remote, e));
	jb_field(j, "state", b->state ? b->state : "-");
	jb_fmt(j, ",\"age_s\":%.3f,\"ttl_s\":%.3f,\"pkts_out\":%llu,\"pkts_in\":%llu}", vsec(b->age), vsec(b->ttl),
	       (unsigned long long)b->pkts_out, (unsigned long long)b->pkts_in);
}

static void snapshot(scn_ctx *c)
{
	jbuf j = { 0 };
	tv_time now = sim_net_now(c->net);
	bool px = false;

	for (int i = 0; i < c->nsyms; i++) {
		sym *s = c->syms[i];
		if (s->kind == SYM_PROXY && s->obj && !px) {
			/* the first proxy: the dashboard shows one, as attached */
			ctl_json_stats(s->obj, &j);
			ctl_json_bindings(s->obj, &j);
			ctl_json_streams(s->obj, &j);
			px = true;
		}
	}
	jb_raw(&j, "{\"nats\":[");
	j.n = 0;
	for (int i = 0; i < c->nsyms; i++) {
		sym *s = c->syms[i];
		void *a[2] = { &j, s->name };
		if (s->kind == SYM_NAT && s->obj && !s->obj2)
			nat_table_foreach(nat_node_engine(s->obj), now, nat_row, a);
	}
	jb_raw(&j, "]}\n{\"scenario\":{");
	jb_key(&j, "file");
	jb_str(&j, c->f->path);
	jb_fmt(&j, ",\"line\":%d,\"now_s\":%.6f,\"checks\":%d,\"failed\":%d,\"done\":%s}}\n", c->cur ? c->cur->line : 0,
	       vsec(now), c->r->expects, c->r->failed, "false");
	feed(&j, vsec(now));
	jb_free(&j);
}

static void on_proxy_event(void *arg, const proxy_event *e)
{
	jbuf j = { 0 };

	(void)arg;
	if (D.left)
		return;
	ctl_json_event(e, &j);
	feed(&j, D.m.scn.vnow_s);
	jb_free(&j);
}

/* Keys waiting; false: the user left. */
static bool keys(void)
{
	int k;

	while ((k = getch()) != ERR) {
		if (k == KEY_RESIZE)
			continue;
		if (!dash_key(&D, k)) {
			D.left = true;
			return false;
		}
		dash_draw(&D);
	}
	return true;
}

static void wait_key(int ms)
{
	struct pollfd pf = { .fd = 0, .events = POLLIN };

	poll(&pf, 1, ms);
}

static void advance(void *arg, scn_ctx *c, tv_time t)
{
	double last = real_s(), shown = 0;

	(void)arg;
	while (!D.left && sim_net_now(c->net) < t) {
		tv_time now = sim_net_now(c->net), to;
		double r;
		if (!keys())
			break;
		if (D.paused && !D.step) {
			snapshot(c);
			dash_draw(&D);
			wait_key(100);
			last = real_s();
			continue;
		}
		if (D.step) {
			/* one event on: the next timer or packet, or the statement's end */
			tv_time nx = tv_timerq_next(sim_net_timers(c->net));
			to = nx > now && nx < t ? nx : t;
			D.step = false;
		} else {
			r = real_s();
			to = now + (tv_time)((r - last) * D.speed * 1e6);
			last = r;
			if (to > t)
				to = t;
		}
		sim_net_run_until(c->net, to);
		if (real_s() - shown >= 0.1 || D.paused) {
			snapshot(c);
			dash_draw(&D);
			shown = real_s();
		}
		if (!D.paused)
			wait_key(20);
	}
	/* left: the rest runs at full speed, without the screen */
	sim_net_run_until(c->net, t);
	if (!D.left) {
		snapshot(c);    /* the screen shows where the statement left it */
		dash_draw(&D);
	}
}

static const scn_watcher watcher = { .arg = &D, .advance = advance, .proxy_event = on_proxy_event };

const scn_watcher *dash_sim_open(double speed, bool paused)
{
	memset(&D, 0, sizeof(D));
	D.sim = true;
	D.speed = speed;
	D.paused = paused;
	for (int i = 0; i < DASH_NPANES; i++)
		D.sort[i] = -1;
	dash_model_init(&D.m);
	if (dash_screen_open(&D) < 0)
		return NULL;
	return &watcher;
}

void dash_sim_done(const scn_result *r)
{
	if (!D.left) {
		D.m.scn.done = true;
		D.m.scn.checks = r->expects;
		D.m.scn.failed = r->failed;
		D.paused = false;
		dash_draw(&D);
		/* the end stays on screen until q */
		for (;;) {
			int k;
			wait_key(250);
			k = getch();
			if (k == ERR || k == KEY_RESIZE) {
				dash_draw(&D);
				continue;
			}
			if (k == 'q' || k == 'Q')
				break;
			dash_key(&D, k);
			D.m.scn.done = true;
			dash_draw(&D);
		}
	}
	dash_model_free(&D.m);
	dash_model_init(&D.m);
	D.left = false;
}

void dash_sim_close(void)
{
	dash_screen_close();
	dash_model_free(&D.m);
}
