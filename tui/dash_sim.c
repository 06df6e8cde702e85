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
	const nat_cfg *nc = a[2];
	char e[TV_EP_STRLEN], cls[32];

	if (j->n++)
		jb_raw(j, ",");
	jb_raw(j, "{");
	jb_key(j, "nat");
	jb_str(j, name);
	/* RFC 4787's classes as the scenario language spells them */
	static const char *const pre[] = { [NAT_EI] = "ei", [NAT_AD] = "ad", [NAT_APD] = "apd" };
	snprintf(cls, sizeof(cls), "%sm/%sf", pre[nc->mapping % 3], pre[nc->filtering % 3]);
	jb_field(j, "class", cls);
	jb_field(j, "proto", b->proto == TV_PROTO_TCP ? "tcp" : b->proto == TV_PROTO_UDP ? "udp" : "icmp");
	jb_field(j, "internal", tv_ep_fmt(&b->internal, e));
	jb_field(j, "external", tv_ep_fmt(&b->external, e));
	if (b->remote.port || b->remote.ip.v4)
		jb_field(j, "remote", tv_ep_fmt(&b->remote, e));
	jb_field(j, "state", b->state ? b->state : "-");
	jb_fmt(j, ",\"age_s\":%.3f,\"ttl_s\":%.3f,\"pkts_out\":%llu,\"pkts_in\":%llu}", vsec(b->age), vsec(b->ttl),
	       (unsigned long long)b->pkts_out, (unsigned long long)b->pkts_in);
}

/* ---- what the network delivers: SIP, one line per message per hop ---- */

static struct {
	sim_net *net;           /* the run's network, once tapped */
	scn_ctx *c;
	sim_tap_fn prev;        /* the run's own tap (expect received ...), chained */
	void *prev_arg;
} T;

/* Nodes with addresses a ladder or the topology names. */
static bool named_kind(int k)
{
	return k == SYM_PHONE || k == SYM_NAT || k == SYM_PROXY || k == SYM_SOFTSWITCH || k == SYM_HOST ||
	       k == SYM_STUN;
}

/* Who owns ip on link l: the node's name ("px/core" for a proxy's core
 * side), else the address itself. An address on no link names a node
 * with it anywhere. */
static void name_of(scn_ctx *c, sim_link *l, const tv_ip *ip, char *out, size_t cap)
{
	char b[TV_IP_STRLEN];

	for (int i = 0; i < c->nsyms; i++) {
		sym *s = c->syms[i];
		if (!named_kind((int)s->kind) || (l && s->kind == SYM_PHONE && s->link != l))
			continue;
		if (tv_ip_eq(&s->ip, ip)) {
			snprintf(out, cap, "%s", s->name);
			return;
		}
		if (s->kind == SYM_PROXY && tv_ip_eq(&s->ip2, ip)) {
			snprintf(out, cap, "%s/core", s->name);
			return;
		}
	}
	snprintf(out, cap, "%s", tv_ip_fmt(ip, b));
}

/* The end of a hop on link l: the owner of ip if it is on l, else the
 * link's gateway (the NAT whose inside it is: it took the packet, or
 * handed it over). */
static void hop_end(scn_ctx *c, sim_link *l, const tv_ip *ip, char *out, size_t cap)
{
	if (l && !sim_link_has_ip(l, ip))
		for (int i = 0; i < c->nsyms; i++)
			if (c->syms[i]->kind == SYM_NAT && c->syms[i]->link == l) {
				snprintf(out, cap, "%s", c->syms[i]->name);
				return;
			}
	name_of(c, l, ip, out, cap);
}

static void sip_tap(void *arg, const uint8_t *pkt, size_t len, tv_time now)
{
	size_t ihl, off;
	uint8_t proto;
	tv_ep src, dst;
	dash_sip_text st;
	char a[TV_EP_STRLEN], hf[48], ht[48];
	sim_link *l;
	jbuf j = { 0 };

	(void)arg;
	if (T.prev)
		T.prev(T.prev_arg, pkt, len, now);
	if (D.left || len < 20 || pkt[0] >> 4 != 4)
		return;
	ihl = (size_t)(pkt[0] & 15) * 4;
	proto = pkt[9];
	if (ihl < 20 || len < ihl + 20 || (proto != TV_PROTO_UDP && proto != TV_PROTO_TCP))
		return;
	off = proto == TV_PROTO_UDP ? ihl + 8 : ihl + (size_t)(pkt[ihl + 12] >> 4) * 4;
	if (off >= len || !dash_sip_scan(pkt + off, len - off, &st))
		return;
	src = tv_ep4((uint32_t)pkt[12] << 24 | (uint32_t)pkt[13] << 16 | (uint32_t)pkt[14] << 8 | pkt[15],
		     (uint16_t)(pkt[ihl] << 8 | pkt[ihl + 1]));
	dst = tv_ep4((uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19],
		     (uint16_t)(pkt[ihl + 2] << 8 | pkt[ihl + 3]));
	l = sim_net_tap_link(T.net);
	hop_end(T.c, l, &src.ip, hf, sizeof(hf));
	hop_end(T.c, l, &dst.ip, ht, sizeof(ht));
	jb_fmt(&j, "{\"sip\":{\"t\":%.6f", vsec(now));
	jb_field(&j, "src", tv_ep_fmt(&src, a));
	jb_field(&j, "dst", tv_ep_fmt(&dst, a));
	jb_field(&j, "hop_from", hf);
	jb_field(&j, "hop_to", ht);
	jb_field(&j, "proto", proto == TV_PROTO_UDP ? "udp" : "tcp");
	jb_field(&j, "first", st.first);
	if (st.call_id[0])
		jb_field(&j, "call_id", st.call_id);
	if (st.cseq[0])
		jb_field(&j, "cseq", st.cseq);
	if (st.from[0])
		jb_field(&j, "from", st.from);
	if (st.to[0])
		jb_field(&j, "to", st.to);
	jb_raw(&j, "}}\n");
	feed(&j, vsec(now));
	jb_free(&j);
}

/* Tap the run's network once, keeping its own tap working. */
static void tap_start(scn_ctx *c)
{
	T.net = c->net;
	T.c = c;
	sim_net_get_tap(c->net, &T.prev, &T.prev_arg);
	sim_net_set_tap(c->net, sip_tap, NULL);
}

/* ---- the topology: nodes on links, the links' counters ---- */

static void topo_link_name(jbuf *j, sim_net *n, const tv_ip *ip, sim_link *known)
{
	sim_link *l;

	for (size_t i = 0; (l = sim_net_link_at(n, i)); i++)
		if (l != known && ip->af == TV_AF_INET && sim_link_has_ip(l, ip)) {
			jb_raw(j, j->n++ ? "," : "");
			jb_str(j, sim_link_name(l));
			return;
		}
}

static void topo(scn_ctx *c, jbuf *j)
{
	static const char *const kinds[] = { [SYM_PHONE] = "phone", [SYM_NAT] = "nat", [SYM_PROXY] = "proxy",
					     [SYM_SOFTSWITCH] = "softswitch", [SYM_HOST] = "host", [SYM_STUN] = "stun" };
	char a[TV_IP_STRLEN], b[TV_IP_STRLEN], ips[2 * TV_IP_STRLEN + 4];
	sim_link *l;

	jb_raw(j, "{\"topo\":{\"nodes\":[");
	for (int i = 0, n = 0; i < c->nsyms; i++) {
		sym *s = c->syms[i];
		if (!named_kind((int)s->kind) || !s->obj)
			continue;
		jb_raw(j, n++ ? ",{" : "{");
		jb_key(j, "name");
		jb_str(j, s->name);
		jb_field(j, "kind", kinds[s->kind]);
		snprintf(ips, sizeof(ips), "%s", tv_ip_fmt(&s->ip, a));
		if (s->kind == SYM_PROXY)
			snprintf(ips, sizeof(ips), "%s / %s", tv_ip_fmt(&s->ip, a), tv_ip_fmt(&s->ip2, b));
		jb_field(j, "ip", ips);
		jb_raw(j, ",\"links\":[");
		j->n = 0;
		if ((s->kind == SYM_PHONE || s->kind == SYM_NAT) && s->link) {
			/* a NAT: its inside first, then where its public address is */
			jb_str(j, sim_link_name(s->link));
			j->n++;
		}
		if (s->kind != SYM_PHONE)
			topo_link_name(j, c->net, &s->ip, s->link);
		if (s->kind == SYM_PROXY)
			topo_link_name(j, c->net, &s->ip2, NULL);
		jb_raw(j, "]}");
	}
	jb_raw(j, "],\"links\":[");
	for (size_t i = 0; (l = sim_net_link_at(c->net, i)); i++) {
		const sim_link_stats *st = sim_link_stats_get(l);
		jb_raw(j, i ? ",{" : "{");
		jb_key(j, "name");
		jb_str(j, sim_link_name(l));
		jb_fmt(j, ",\"tx\":%llu,\"delivered\":%llu,\"lost\":%llu}", (unsigned long long)st->tx,
		       (unsigned long long)st->delivered, (unsigned long long)st->lost);
	}
	jb_raw(j, "]}}\n");
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
		if (s->kind == SYM_NAT && s->obj && !s->obj2) {
			void *a[3] = { &j, s->name, (void *)nat_get_cfg(nat_node_engine(s->obj)) };
			nat_table_foreach(nat_node_engine(s->obj), now, nat_row, a);
		}
	}
	jb_raw(&j, "]}\n{\"scenario\":{");
	jb_key(&j, "file");
	jb_str(&j, c->f->path);
	jb_fmt(&j, ",\"line\":%d,\"now_s\":%.6f,\"checks\":%d,\"failed\":%d,\"done\":%s}}\n", c->cur ? c->cur->line : 0,
	       vsec(now), c->r->expects, c->r->failed, "false");
	topo(c, &j);
	feed(&j, vsec(now));
	jb_free(&j);
}

static void on_proxy_event(void *arg, const proxy_event *e)
{
	jbuf j = { 0 };

	(void)arg;
	if (D.left || e->type == PX_EV_SIP)
		return;         /* the run's tap sees every message on every link */
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
	if (T.net != c->net)
		tap_start(c);
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

/* The scenario's own actions go into the event log: "line 31: fault nat-a reboot". */
static void on_action(void *arg, scn_ctx *c, const scn_stmt *st)
{
	jbuf j = { 0 };
	char text[200];
	size_t n = 0;

	(void)arg;
	if (D.left)
		return;
	text[0] = '\0';
	for (int i = 0; i < st->argc && n < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", i ? " " : "", st->argv[i]);
	jb_fmt(&j, "{\"event\":\"action\",\"at_s\":%.6f,\"line\":%d", vsec(sim_net_now(c->net)), st->line);
	jb_field(&j, "text", text);
	jb_raw(&j, "}\n");
	feed(&j, vsec(sim_net_now(c->net)));
	jb_free(&j);
}

static const scn_watcher watcher = { .arg = &D, .advance = advance, .proxy_event = on_proxy_event, .action = on_action };

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
	memset(&T, 0, sizeof(T));       /* the next run has a network of its own */
}

void dash_sim_close(void)
{
	dash_screen_close();
	dash_model_free(&D.m);
}
