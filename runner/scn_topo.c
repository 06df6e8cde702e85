/* scn_topo.c - topology declarations: link, nat, firewall, host,
 * stun-server (and scenario, seed, impair). Each handler checks its
 * statement, returns early in a dry run, then builds. */
#include "scn_ctx.h"
#include "scn_knat.h"
#include "scn_rhost.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- declarations ------------------------------------------------------ */

int topo_scenario(scn_ctx *c, const scn_stmt *st)
{
	if (st->argc != 2)
		return ctx_err(c, "usage: scenario \"TITLE\"");
	if (!c->dry)
		snprintf(c->r->title, sizeof(c->r->title), "%s", st->argv[1]);
	return 0;
}

int topo_seed(scn_ctx *c, const scn_stmt *st)
{
	char *end;
	unsigned long long v;

	if (st->argc != 2)
		return ctx_err(c, "usage: seed N");
	errno = 0;
	v = strtoull(st->argv[1], &end, 0);
	if (*end || errno)
		return ctx_err(c, "seed: '%s' is not a number", st->argv[1]);
	if (!c->o->seed_set)
		c->seed = v;
	return 0;
}

static const char *const link_keys[] = { "delay", "jitter", "loss", "dup", "reorder", "reorder-delay", NULL };

static int link_cfg(scn_ctx *c, const opts *o, sim_link_cfg *lc)
{
	const opt *v;

	if ((v = opts_get(o, "delay")) && opt_time(c, v, &lc->delay) < 0)
		return -1;
	if ((v = opts_get(o, "jitter")) && opt_time(c, v, &lc->jitter) < 0)
		return -1;
	if ((v = opts_get(o, "reorder-delay")) && opt_time(c, v, &lc->reorder_delay) < 0)
		return -1;
	if ((v = opts_get(o, "loss")) && opt_percent(c, v, &lc->loss) < 0)
		return -1;
	if ((v = opts_get(o, "dup")) && opt_percent(c, v, &lc->dup) < 0)
		return -1;
	if ((v = opts_get(o, "reorder")) && opt_percent(c, v, &lc->reorder) < 0)
		return -1;
	if (lc->jitter > TV_SEC(60) || lc->delay > TV_SEC(60))
		return ctx_err(c, "delay and jitter are limited to 60s");
	if (lc->reorder > 0 && lc->reorder_delay == 0)
		lc->reorder_delay = lc->delay > 0 ? lc->delay : TV_MS(10);
	return 0;
}

int topo_link(scn_ctx *c, const scn_stmt *st)
{
	opts o;
	sim_link_cfg lc = { 0 };
	sym *s;

	if (st->argc < 2)
		return ctx_err(c, "usage: link NAME [delay=D] [jitter=D] [loss=P%%] [dup=P%%] [reorder=P%%]");
	if (opts_parse(c, st, 2, link_keys, false, &o) < 0 || link_cfg(c, &o, &lc) < 0)
		return -1;
	s = new_sym(c, st->argv[1], SYM_LINK);
	if (!s || c->dry)
		return s ? 0 : -1;
	s->obj = sim_link_new(c->net, s->name, &lc);
	if (s->obj && c->o->pcap_dir) {
		char path[700], err[256];
		ctx_run_path(c, s->name, ".pcap", path, sizeof(path));
		if (sim_link_pcap_open(s->obj, path, err, sizeof(err)) < 0)
			return ctx_err(c, "pcap: %s", err);
	}
	return s->obj ? 0 : ctx_err(c, "out of memory");
}

int topo_impair(scn_ctx *c, const scn_stmt *st)
{
	opts o;
	sim_link_cfg lc = { 0 };
	sym *s;

	if (st->argc < 2)
		return ctx_err(c, "usage: impair LINK [delay=D] [jitter=D] [loss=P%%] [dup=P%%] [reorder=P%%]");
	s = need_sym(c, st->argv[1], SYM_LINK);
	if (!s)
		return -1;
	if (!c->dry)
		lc = *sim_link_get_cfg(s->obj);        /* change only what is given */
	if (opts_parse(c, st, 2, link_keys, false, &o) < 0 || link_cfg(c, &o, &lc) < 0)
		return -1;
	if (!c->dry)
		sim_link_set_cfg(s->obj, &lc);
	return 0;
}

/* The statement's own keys (where the NAT stands), then every NAT option
 * (nat_cfg_set, simnat/nat_opts.c: shared with traverse-nat). */
static const char *const *nat_keys(void)
{
	static const char *k[64];

	if (!k[0]) {
		const char *const *nk = nat_cfg_keys();
		int n = 0;
		k[n++] = "inside";
		k[n++] = "outside";
		k[n++] = "kind";
		k[n++] = "random-fully";
		for (int i = 0; nk[i] && n < 63; i++)
			k[n++] = nk[i];
	}
	return k;
}

static int nat_cfg_from(scn_ctx *c, const opts *o, nat_cfg *nc)
{
	const char *key[SCN_MAX_ARGS], *val[SCN_MAX_ARGS];
	char msg[256];
	int n = 0;

	for (int i = 0; i < o->n; i++) {
		if (!strcmp(o->v[i].key, "inside") || !strcmp(o->v[i].key, "outside") || !strcmp(o->v[i].key, "kind") ||
		    !strcmp(o->v[i].key, "random-fully"))
			continue;
		key[n] = o->v[i].key;
		val[n++] = o->v[i].val;
	}
	if (nat_cfg_set_many(nc, n, key, val, msg, sizeof(msg)) < 0)
		return ctx_err(c, "%s", msg);
	return 0;
}

int topo_nat(scn_ctx *c, const scn_stmt *st)
{
	opts o;
	nat_cfg nc;
	const opt *in, *out;
	sym *s, *lin, *lout;
	tv_ip inip;
	int nin;
	char err[256];
	const opt *v;
	bool kernel = false;
	knat_opts ko = { 0 };

	if (st->argc < 2)
		return ctx_err(c, "usage: nat NAME inside=LINK:IP outside=LINK:IP[,IP...] [options]");
	if (opts_parse(c, st, 2, nat_keys(), false, &o) < 0)
		return -1;
	in = opts_get(&o, "inside");
	out = opts_get(&o, "outside");
	if (!in || !out)
		return ctx_err(c, "nat needs inside=LINK:IP and outside=LINK:IP[,IP...]");
	nat_cfg_default(&nc);
	if (parse_attach(c, "inside", in->val, &lin, &inip, 1, &nin) < 0 ||
	    parse_attach(c, "outside", out->val, &lout, nc.pub, NAT_MAX_PUB, &nc.npub) < 0 ||
	    nat_cfg_from(c, &o, &nc) < 0)
		return -1;
	if (lin == lout)
		return ctx_err(c, "inside and outside must be different links");
	if (claim_ip(c, lin, &inip) < 0)
		return -1;
	for (int i = 0; i < nc.npub; i++)
		if (claim_ip(c, lout, &nc.pub[i]) < 0)
			return -1;
	if ((v = opts_get(&o, "kind"))) {
		if (strcmp(v->val, "linux") && strcmp(v->val, "sim"))
			return ctx_err(c, "kind: '%s' (expected sim or linux)", v->val);
		kernel = !strcmp(v->val, "linux");
		/* the kernel's masquerade decides what simnat's options would */
		static const char *const kernel_keys[] = { "inside", "outside", "kind", "random-fully", "udp-timeout",
							   "udp-stream-timeout" };
		for (int i = 0; kernel && i < o.n; i++) {
			size_t k = 0;
			while (k < sizeof(kernel_keys) / sizeof(kernel_keys[0]) && strcmp(kernel_keys[k], o.v[i].key))
				k++;
			if (k == sizeof(kernel_keys) / sizeof(kernel_keys[0]))
				return ctx_err(c, "kind=linux: '%s' is simnat's; the kernel's NAT takes inside, outside, "
					       "random-fully, udp-timeout and udp-stream-timeout", o.v[i].key);
		}
	}
	if ((v = opts_get(&o, "random-fully")) && opt_bool(c, v, &ko.random_fully) < 0)
		return -1;
	if (c->o->nat_kind) {           /* --nat-kind: every NAT of every scenario */
		kernel = true;
		ko.random_fully |= c->o->nat_kind == 2;
	}
	if (kernel && nc.npub > 1)
		return ctx_err(c, "kind=linux: one public address");
	s = new_sym(c, st->argv[1], SYM_NAT);
	if (!s)
		return -1;
	s->ip = nc.pub[0];
	if (c->dry)
		return 0;
	s->link = lin->obj;
	s->obj = nat_node_new(c->net, s->name, lin->obj, &inip, lout->obj, &nc, err, sizeof(err));
	if (!s->obj)
		return ctx_err(c, "nat %s: %s", s->name, err);
	if (kernel) {
		ko.udp_timeout = opts_get(&o, "udp-timeout") ? nc.udp_timeout : 0;
		ko.udp_stream_timeout = opts_get(&o, "udp-stream-timeout") ? nc.udp_stream_timeout : 0;
		s->obj2 = knat_new(c, s->obj, &inip, &nc.pub[0], &ko, err, sizeof(err));
		if (!s->obj2)
			return ctx_err(c, "nat %s: %s", s->name, err);
	}
	return 0;
}

/* firewall NAT allow|deny in|out|any [proto=P] [src=NET[:PORTS]] [dst=NET[:PORTS]] */
static int parse_net_ports(scn_ctx *c, const char *what, const char *s, uint32_t *ip, uint32_t *mask,
			   uint16_t *lo, uint16_t *hi)
{
	char buf[80], *colon, *slash;
	tv_ip a;
	unsigned plen = 32, plo, phi;
	char tail;

	snprintf(buf, sizeof(buf), "%s", s);
	*lo = 0;
	*hi = 65535;
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		int n = sscanf(colon + 1, "%u-%u%c", &plo, &phi, &tail);
		if (n == 1)
			phi = plo;
		if ((n != 1 && n != 2) || plo > phi || phi > 65535)
			return ctx_err(c, "%s: bad port or range in '%s'", what, s);
		*lo = (uint16_t)plo;
		*hi = (uint16_t)phi;
	}
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (sscanf(slash + 1, "%u%c", &plen, &tail) != 1 || plen > 32)
			return ctx_err(c, "%s: bad prefix length in '%s'", what, s);
	}
	if (strcmp(buf, "any") == 0 || buf[0] == '\0') {
		*ip = *mask = 0;
		return 0;
	}
	if (parse_ip(c, what, buf, &a) < 0)
		return -1;
	*mask = plen ? 0xffffffffu << (32 - plen) : 0;
	*ip = a.v4 & *mask;
	return 0;
}

int topo_firewall(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "proto", "src", "dst", NULL };
	opts o;
	const opt *v;
	sym *s;
	nat_rule r = { .src_mask = 0, .sport_hi = 65535, .dport_hi = 65535 };

	if (st->argc < 4)
		return ctx_err(c, "usage: firewall NAT allow|deny in|out|any [proto=udp|tcp|icmp] [src=NET[:PORTS]] [dst=NET[:PORTS]]");
	s = need_sym(c, st->argv[1], SYM_NAT);
	if (!s)
		return -1;
	if (strcmp(st->argv[2], "allow") && strcmp(st->argv[2], "deny"))
		return ctx_err(c, "firewall: expected allow or deny, got '%s'", st->argv[2]);
	r.allow = st->argv[2][0] == 'a';
	if (!strcmp(st->argv[3], "in"))
		r.dir = NAT_IN;
	else if (!strcmp(st->argv[3], "out"))
		r.dir = NAT_OUT;
	else if (!strcmp(st->argv[3], "any"))
		r.dir = NAT_IN | NAT_OUT;
	else
		return ctx_err(c, "firewall: expected in, out or any, got '%s'", st->argv[3]);
	if (opts_parse(c, st, 4, keys, false, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "proto"))) {
		static const struct { const char *name; int v; } protos[] = {
			{ "udp", TV_PROTO_UDP }, { "tcp", TV_PROTO_TCP }, { "icmp", TV_PROTO_ICMP }, { "any", 0 },
		};
		int p;
		if (LOOKUP(c, v, protos, &p) < 0)
			return -1;
		r.proto = (uint8_t)p;
	}
	if ((v = opts_get(&o, "src")) &&
	    parse_net_ports(c, "src", v->val, &r.src, &r.src_mask, &r.sport_lo, &r.sport_hi) < 0)
		return -1;
	if ((v = opts_get(&o, "dst")) &&
	    parse_net_ports(c, "dst", v->val, &r.dst, &r.dst_mask, &r.dport_lo, &r.dport_hi) < 0)
		return -1;
	if (c->dry)
		return 0;
	return nat_add_rule(nat_node_engine(s->obj), &r) < 0 ? ctx_err(c, "too many firewall rules (max %d)", NAT_MAX_RULES) : 0;
}

int topo_host(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "link", "ip", "icmp", "kind", NULL };
	opts o;
	const opt *l, *ip, *icmp, *kind;
	sym *s, *ls;
	tv_ip a;
	bool icmp_on = true, real = false;
	char err[256];

	if (st->argc < 2)
		return ctx_err(c, "usage: host NAME link=LINK ip=IP [icmp=on|off] [kind=sim|netns]");
	if (opts_parse(c, st, 2, keys, false, &o) < 0)
		return -1;
	l = opts_get(&o, "link");
	ip = opts_get(&o, "ip");
	if (!l || !ip)
		return ctx_err(c, "host needs link=LINK and ip=IP");
	if ((kind = opts_get(&o, "kind"))) {
		if (strcmp(kind->val, "sim") && strcmp(kind->val, "netns"))
			return ctx_err(c, "kind: '%s' (expected sim or netns)", kind->val);
		real = !strcmp(kind->val, "netns");
	}
	ls = need_sym(c, l->val, SYM_LINK);
	if (!ls || parse_ip(c, "ip", ip->val, &a) < 0 || claim_ip(c, ls, &a) < 0)
		return -1;
	if ((icmp = opts_get(&o, "icmp")) && (real || opt_bool(c, icmp, &icmp_on) < 0))
		return real ? ctx_err(c, "icmp: a real host (kind=netns) answers as its kernel does") : -1;
	s = new_sym(c, st->argv[1], real ? SYM_RHOST : SYM_HOST);
	if (!s)
		return -1;
	s->ip = a;
	if (c->dry)
		return 0;
	if (real) {
		s->obj = rhost_new(c, s, ls->obj, err, sizeof(err));
		return s->obj ? 0 : ctx_err(c, "host %s: %s", s->name, err);
	}
	s->obj = simhost_new(c->net, ls->obj, s->name, &a);
	if (!s->obj)
		return ctx_err(c, "host %s: address %s already in use on link %s", s->name, ip->val, ls->name);
	simhost_set_icmp(s->obj, icmp_on);
	return 0;
}

int topo_stun(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "link", "ip", "port", NULL };
	opts o;
	const opt *l, *ip, *port;
	sym *s, *ls;
	tv_ip a[2];
	unsigned p1 = STUN_PORT, p2 = STUN_PORT + 1;
	char tail;
	int n = 0, err;

	if (st->argc < 2)
		return ctx_err(c, "usage: stun-server NAME link=LINK ip=IP1,IP2 [port=P1,P2]");
	if (opts_parse(c, st, 2, keys, false, &o) < 0)
		return -1;
	l = opts_get(&o, "link");
	ip = opts_get(&o, "ip");
	if (!l || !ip)
		return ctx_err(c, "stun-server needs link=LINK and ip=IP1,IP2");
	{
		char buf[100];
		snprintf(buf, sizeof(buf), "%s:%s", l->val, ip->val);
		if (parse_attach(c, "ip", buf, &ls, a, 2, &n) < 0)
			return -1;
	}
	if (n != 2)
		return ctx_err(c, "stun-server needs two addresses (RFC 5780): ip=IP1,IP2");
	if (claim_ip(c, ls, &a[0]) < 0 || claim_ip(c, ls, &a[1]) < 0)
		return -1;
	if ((port = opts_get(&o, "port")) &&
	    (sscanf(port->val, "%u,%u%c", &p1, &p2, &tail) != 2 || !p1 || !p2 || p1 > 65535 || p2 > 65535 || p1 == p2))
		return ctx_err(c, "port: expected two different ports P1,P2, got '%s'", port->val);
	s = new_sym(c, st->argv[1], SYM_STUN);
	if (!s)
		return -1;
	s->ip = a[0];
	s->port = (uint16_t)p1;
	if (c->dry)
		return 0;
	s->obj2 = simhost_new(c->net, ls->obj, s->name, &a[0]);
	if (!s->obj2 || simhost_add_ip(s->obj2, &a[1]) < 0)
		return ctx_err(c, "stun-server %s: address already in use", s->name);
	s->obj = stun_server_new(s->obj2, &a[0], &a[1], (uint16_t)p1, (uint16_t)p2, &err);
	return s->obj ? 0 : ctx_err(c, "stun-server %s: cannot bind (%d)", s->name, err);
}
