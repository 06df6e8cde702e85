/* scn_exec.c - running a scenario: topology declarations and timeline
 * actions. Expectations are in scn_expect.c, the grammar in
 * docs/scenarios.md. Every handler parses and checks its statement first,
 * then returns early in a dry run, then acts. */
#include "scn_ctx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- errors, symbols, options ----------------------------------------- */

int ctx_err(scn_ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->errors++;
	if (c->dry) {
		fprintf(stderr, "%s:%d: %s\n", c->f->path, c->cur ? c->cur->line : 0, msg);
	} else {
		ctx_expect(c, false, "%s", msg);
	}
	return -1;
}

void ctx_expect(scn_ctx *c, bool ok, const char *fmt, ...)
{
	char msg[600], line[700];
	va_list ap;
	int n;

	c->r->expects++;
	if (ok)
		return;
	c->r->failed++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "%s:%d: %s\n", c->f->path, c->cur ? c->cur->line : 0, msg);
	if (n > 0) {
		char *nf = realloc(c->r->failures, c->r->failures_len + (size_t)n + 1);
		if (nf) {
			memcpy(nf + c->r->failures_len, line, (size_t)n + 1);
			c->r->failures = nf;
			c->r->failures_len += (size_t)n;
		}
	}
}

static const char *const kind_names[] = {
	[SYM_LINK] = "link", [SYM_NAT] = "nat", [SYM_HOST] = "host",
	[SYM_STUN] = "stun-server", [SYM_PROBE] = "probe", [SYM_TCP] = "connection",
};

sym *ctx_sym(scn_ctx *c, const char *name, int kind)
{
	for (int i = 0; i < c->nsyms; i++)
		if (strcmp(c->syms[i].name, name) == 0 && (kind < 0 || (int)c->syms[i].kind == kind))
			return &c->syms[i];
	return NULL;
}

static sym *need_sym(scn_ctx *c, const char *name, enum sym_kind kind)
{
	sym *s = ctx_sym(c, name, (int)kind);

	if (!s)
		ctx_err(c, "no %s named '%s' is declared", kind_names[kind], name);
	return s;
}

static sym *new_sym(scn_ctx *c, const char *name, enum sym_kind kind)
{
	sym *s;
	sym *prev = ctx_sym(c, name, -1);

	if (strlen(name) >= sizeof(s->name) || !name[0]) {
		ctx_err(c, "name '%s' must be 1 to 31 characters", name);
		return NULL;
	}
	if (strchr(name, ':') || strchr(name, '=')) {
		ctx_err(c, "name '%s' must not contain ':' or '='", name);
		return NULL;
	}
	if (prev) {
		ctx_err(c, "'%s' is already declared (line %d)", name, prev->line);
		return NULL;
	}
	if (c->nsyms == c->capsyms) {
		int nc = c->capsyms ? c->capsyms * 2 : 32;
		sym *ns = realloc(c->syms, (size_t)nc * sizeof(*ns));
		if (!ns) {
			ctx_err(c, "out of memory");
			return NULL;
		}
		c->syms = ns;
		c->capsyms = nc;
	}
	s = &c->syms[c->nsyms++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->kind = kind;
	s->line = c->cur ? c->cur->line : 0;
	return s;
}

int ctx_resolve(scn_ctx *c, const char *s, tv_ep *ep, bool allow_noport)
{
	char name[64];
	const char *colon = strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	sym *y;

	if (n >= sizeof(name))
		return ctx_err(c, "'%s' is not an address", s);
	memcpy(name, s, n);
	name[n] = '\0';
	if (!colon && !allow_noport)
		return ctx_err(c, "'%s' needs a port (NAME:PORT or IP:PORT)", s);
	y = ctx_sym(c, name, -1);
	if (y && (y->kind == SYM_HOST || y->kind == SYM_NAT || y->kind == SYM_STUN)) {
		ep->ip = y->ip;
		if (!c->dry && y->kind == SYM_NAT)
			ep->ip = nat_get_cfg(nat_node_engine(y->obj))->pub[0];
	} else if (tv_ip_parse(name, &ep->ip) < 0 || ep->ip.af != TV_AF_INET) {
		return ctx_err(c, "'%s' is neither a declared host/nat/stun-server nor an IPv4 address", name);
	}
	ep->port = 0;
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || p > 65535)
			return ctx_err(c, "bad port in '%s'", s);
		ep->port = (uint16_t)p;
	}
	return 0;
}

int ctx_host_port(scn_ctx *c, const char *s, sym **host, uint16_t *port)
{
	char name[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;

	if (!colon || (size_t)(colon - s) >= sizeof(name))
		return ctx_err(c, "'%s' should be HOST:PORT", s);
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	*host = need_sym(c, name, SYM_HOST);
	if (!*host)
		return -1;
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || p == 0 || p > 65535)
		return ctx_err(c, "bad port in '%s' (1-65535)", s);
	*port = (uint16_t)p;
	return 0;
}

int opts_parse(scn_ctx *c, const scn_stmt *st, int from, const char *const *allowed, bool cmp, opts *out)
{
	static const char *const ops[] = { ">=", "<=", "!=", "=", ">", "<" };

	out->n = 0;
	for (int i = from; i < st->argc; i++) {
		const char *a = st->argv[i];
		size_t klen = strcspn(a, "=<>!");
		opt *o = &out->v[out->n];
		bool known = false;
		size_t oplen = 0;

		if (a[klen] == '\0' || klen == 0)
			return ctx_err(c, "expected key=value, got '%s'", a);
		for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
			if (strncmp(a + klen, ops[k], strlen(ops[k])) == 0) {
				oplen = strlen(ops[k]);
				break;
			}
		}
		if (!oplen || (!cmp && oplen != 1) || (!cmp && a[klen] != '='))
			return ctx_err(c, "expected key=value, got '%s'", a);
		memcpy(o->op, a + klen, oplen);
		o->op[oplen] = '\0';
		o->val = a + klen + oplen;
		o->used = 0;
		for (int k = 0; allowed[k]; k++) {
			if (strlen(allowed[k]) == klen && strncmp(allowed[k], a, klen) == 0) {
				o->key = allowed[k];
				known = true;
				break;
			}
		}
		if (!known) {
			char list[400] = "";
			for (int k = 0; allowed[k]; k++) {
				strncat(list, k ? ", " : "", sizeof(list) - strlen(list) - 1);
				strncat(list, allowed[k], sizeof(list) - strlen(list) - 1);
			}
			return ctx_err(c, "unknown option '%.*s' for '%s' (expected one of: %s)",
				       (int)klen, a, st->argv[0], list);
		}
		/* Comparisons may bound a value from both sides (ttl>3min ttl<=4min). */
		for (int k = 0; k < out->n; k++)
			if (out->v[k].key == o->key && (!cmp || !strcmp(out->v[k].op, o->op)))
				return ctx_err(c, "option '%s%s' given twice", o->key, o->op);
		out->n++;
	}
	return 0;
}

const opt *opts_get(const opts *o, const char *key)
{
	for (int i = 0; i < o->n; i++)
		if (strcmp(o->v[i].key, key) == 0)
			return &o->v[i];
	return NULL;
}

int opt_time(scn_ctx *c, const opt *o, tv_time *out)
{
	if (tv_time_parse(o->val, out) < 0)
		return ctx_err(c, "%s: '%s' is not a duration (e.g. 30s, 250ms, 2h, 4min)", o->key, o->val);
	return 0;
}

int opt_u64(scn_ctx *c, const opt *o, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(o->val, &end, 10);
	if (!o->val[0] || *end || errno || o->val[0] == '-')
		return ctx_err(c, "%s: '%s' is not a non-negative integer", o->key, o->val);
	return 0;
}

int opt_bool(scn_ctx *c, const opt *o, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" }, *const no[] = { "off", "no", "false", "0" };

	for (int i = 0; i < 4; i++) {
		if (strcmp(o->val, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(o->val, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return ctx_err(c, "%s: expected on or off, got '%s'", o->key, o->val);
}

int opt_percent(scn_ctx *c, const opt *o, double *out)
{
	char *end;
	double v = strtod(o->val, &end);

	if (end == o->val || (*end && strcmp(end, "%") != 0) || v < 0 || v > 100)
		return ctx_err(c, "%s: expected a percentage 0-100%%, got '%s'", o->key, o->val);
	*out = v / 100.0;
	return 0;
}

bool cmp_u64(const char *op, uint64_t got, uint64_t want)
{
	if (!strcmp(op, "="))
		return got == want;
	if (!strcmp(op, "!="))
		return got != want;
	if (!strcmp(op, ">="))
		return got >= want;
	if (!strcmp(op, "<="))
		return got <= want;
	if (!strcmp(op, ">"))
		return got > want;
	return got < want;
}

static int parse_ip(scn_ctx *c, const char *what, const char *s, tv_ip *ip)
{
	if (tv_ip_parse(s, ip) < 0 || ip->af != TV_AF_INET)
		return ctx_err(c, "%s: '%s' is not an IPv4 address", what, s);
	return 0;
}

/* "LINK:IP[,IP...]" */
static int parse_attach(scn_ctx *c, const char *what, const char *s, sym **link, tv_ip *ips, int max, int *n)
{
	char buf[256], *colon, *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (!colon)
		return ctx_err(c, "%s: expected LINK:ADDRESS, got '%s'", what, s);
	*colon = '\0';
	*link = need_sym(c, buf, SYM_LINK);
	if (!*link)
		return -1;
	*n = 0;
	for (tok = strtok_r(colon + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == max)
			return ctx_err(c, "%s: at most %d addresses", what, max);
		if (parse_ip(c, what, tok, &ips[(*n)++]) < 0)
			return -1;
	}
	if (*n == 0)
		return ctx_err(c, "%s: no address after '%s:'", what, buf);
	return 0;
}

/* ---- declarations ------------------------------------------------------ */

static int c_scenario(scn_ctx *c, const scn_stmt *st)
{
	if (st->argc != 2)
		return ctx_err(c, "usage: scenario \"TITLE\"");
	if (!c->dry)
		snprintf(c->r->title, sizeof(c->r->title), "%s", st->argv[1]);
	return 0;
}

static int c_seed(scn_ctx *c, const scn_stmt *st)
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

static void pcap_path(scn_ctx *c, const char *link, char *out, size_t cap)
{
	/* DIR/<parent>-<file stem>/<link>.pcap */
	const char *path = c->f->path, *base = strrchr(path, '/');
	const char *parent = "";
	size_t plen = 0, blen;
	char dir[512];

	base = base ? base + 1 : path;
	if (base > path + 1) {
		const char *q = base - 1;
		parent = q;
		while (parent > path && parent[-1] != '/')
			parent--;
		plen = (size_t)(q - parent);
	}
	blen = strcspn(base, ".");
	snprintf(dir, sizeof(dir), "%s/%.*s%s%.*s", c->o->pcap_dir, (int)plen, parent, plen ? "-" : "",
		 (int)blen, base);
	mkdir(c->o->pcap_dir, 0755);
	mkdir(dir, 0755);
	snprintf(out, cap, "%s/%s.pcap", dir, link);
}

static int c_link(scn_ctx *c, const scn_stmt *st)
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
		pcap_path(c, s->name, path, sizeof(path));
		if (sim_link_pcap_open(s->obj, path, err, sizeof(err)) < 0)
			return ctx_err(c, "pcap: %s", err);
	}
	return s->obj ? 0 : ctx_err(c, "out of memory");
}

static int c_impair(scn_ctx *c, const scn_stmt *st)
{
	opts o;
	sim_link_cfg lc = { 0 };
	sym *s;

	if (st->argc < 2)
		return ctx_err(c, "usage: impair LINK [delay=D] [jitter=D] [loss=P%%] [dup=P%%] [reorder=P%%]");
	s = need_sym(c, st->argv[1], SYM_LINK);
	if (!s || opts_parse(c, st, 2, link_keys, false, &o) < 0 || link_cfg(c, &o, &lc) < 0)
		return -1;
	if (!c->dry)
		sim_link_set_cfg(s->obj, &lc);
	return 0;
}

static const char *const nat_keys[] = {
	"inside", "outside", "mapping", "filtering", "ports", "parity", "pool", "port-range",
	"udp", "udp-timeout", "udp-stream-timeout", "tcp-established", "tcp-transitory",
	"refresh", "hairpin", "max-bindings", NULL
};

static const struct {
	const char *name;
	int v;
} port_modes[] = {
	{ "preserve", NAT_PORT_PRESERVE }, { "sequential", NAT_PORT_SEQUENTIAL }, { "random", NAT_PORT_RANDOM },
}, pool_modes[] = {
	{ "paired", NAT_POOL_PAIRED }, { "arbitrary", NAT_POOL_ARBITRARY },
}, refresh_modes[] = {
	{ "outbound", NAT_REFRESH_OUTBOUND }, { "both", NAT_REFRESH_BOTH },
};

static int enum_lookup(scn_ctx *c, const opt *o, const void *table, size_t n, int *out)
{
	const struct { const char *name; int v; } *t = table;
	char list[200] = "";

	for (size_t i = 0; i < n; i++) {
		if (strcmp(o->val, t[i].name) == 0) {
			*out = t[i].v;
			return 0;
		}
		strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, t[i].name, sizeof(list) - strlen(list) - 1);
	}
	return ctx_err(c, "%s: unknown value '%s' (expected one of: %s)", o->key, o->val, list);
}
#define LOOKUP(c, o, table, out) enum_lookup(c, o, table, sizeof(table) / sizeof(table[0]), out)

static int nat_cfg_from(scn_ctx *c, const opts *o, nat_cfg *nc)
{
	const opt *v;
	int iv;
	enum nat_behav b;
	static const struct { const char *key; size_t off; } times[] = {
		{ "udp-timeout", offsetof(nat_cfg, udp_timeout) },
		{ "udp-stream-timeout", offsetof(nat_cfg, udp_stream_timeout) },
		{ "tcp-established", offsetof(nat_cfg, tcp_established) },
		{ "tcp-transitory", offsetof(nat_cfg, tcp_transitory) },
	};

	if ((v = opts_get(o, "mapping"))) {
		if (nat_behav_parse(v->val, &b) < 0)
			return ctx_err(c, "mapping: '%s' (expected eim, adm or apdm)", v->val);
		nc->mapping = b;
	}
	if ((v = opts_get(o, "filtering"))) {
		if (nat_behav_parse(v->val, &b) < 0)
			return ctx_err(c, "filtering: '%s' (expected eif, adf or apdf)", v->val);
		nc->filtering = b;
	}
	if ((v = opts_get(o, "ports"))) {
		if (LOOKUP(c, v, port_modes, &iv) < 0)
			return -1;
		nc->ports = (enum nat_port_alloc)iv;
	}
	if ((v = opts_get(o, "pool"))) {
		if (LOOKUP(c, v, pool_modes, &iv) < 0)
			return -1;
		nc->pool = (enum nat_pool)iv;
	}
	if ((v = opts_get(o, "refresh"))) {
		if (LOOKUP(c, v, refresh_modes, &iv) < 0)
			return -1;
		nc->refresh = (enum nat_refresh)iv;
	}
	if ((v = opts_get(o, "parity")) && opt_bool(c, v, &nc->parity) < 0)
		return -1;
	if ((v = opts_get(o, "hairpin")) && opt_bool(c, v, &nc->hairpin) < 0)
		return -1;
	if ((v = opts_get(o, "udp")) && nat_cfg_udp_preset(nc, v->val) < 0)
		return ctx_err(c, "udp: unknown preset '%s' (expected linux, openwrt or rfc4787)", v->val);
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		if ((v = opts_get(o, times[i].key)) && opt_time(c, v, (tv_time *)((char *)nc + times[i].off)) < 0)
			return -1;
	if ((v = opts_get(o, "max-bindings"))) {
		uint64_t m;
		if (opt_u64(c, v, &m) < 0)
			return -1;
		nc->max_bindings = (uint32_t)m;
	}
	if ((v = opts_get(o, "port-range"))) {
		unsigned lo, hi;
		char tail;
		if (sscanf(v->val, "%u-%u%c", &lo, &hi, &tail) != 2 || lo == 0 || lo > hi || hi > 65535)
			return ctx_err(c, "port-range: expected LO-HI within 1-65535, got '%s'", v->val);
		nc->port_lo = (uint16_t)lo;
		nc->port_hi = (uint16_t)hi;
	}
	return 0;
}

static int c_nat(scn_ctx *c, const scn_stmt *st)
{
	opts o;
	nat_cfg nc;
	const opt *in, *out;
	sym *s, *lin, *lout;
	tv_ip inip;
	int nin;
	char err[256];

	if (st->argc < 2)
		return ctx_err(c, "usage: nat NAME inside=LINK:IP outside=LINK:IP[,IP...] [options]");
	if (opts_parse(c, st, 2, nat_keys, false, &o) < 0)
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
	s = new_sym(c, st->argv[1], SYM_NAT);
	if (!s)
		return -1;
	s->ip = nc.pub[0];
	if (c->dry)
		return 0;
	s->obj = nat_node_new(c->net, s->name, lin->obj, &inip, lout->obj, &nc, err, sizeof(err));
	return s->obj ? 0 : ctx_err(c, "nat %s: %s", s->name, err);
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

static int c_firewall(scn_ctx *c, const scn_stmt *st)
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

static int c_host(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "link", "ip", "icmp", NULL };
	opts o;
	const opt *l, *ip, *icmp;
	sym *s, *ls;
	tv_ip a;
	bool icmp_on = true;

	if (st->argc < 2)
		return ctx_err(c, "usage: host NAME link=LINK ip=IP [icmp=on|off]");
	if (opts_parse(c, st, 2, keys, false, &o) < 0)
		return -1;
	l = opts_get(&o, "link");
	ip = opts_get(&o, "ip");
	if (!l || !ip)
		return ctx_err(c, "host needs link=LINK and ip=IP");
	ls = need_sym(c, l->val, SYM_LINK);
	if (!ls || parse_ip(c, "ip", ip->val, &a) < 0)
		return -1;
	if ((icmp = opts_get(&o, "icmp")) && opt_bool(c, icmp, &icmp_on) < 0)
		return -1;
	s = new_sym(c, st->argv[1], SYM_HOST);
	if (!s)
		return -1;
	s->ip = a;
	if (c->dry)
		return 0;
	s->obj = host_new(c->net, ls->obj, s->name, &a);
	if (!s->obj)
		return ctx_err(c, "host %s: address %s already in use on link %s", s->name, ip->val, ls->name);
	host_set_icmp(s->obj, icmp_on);
	return 0;
}

static int c_stun(scn_ctx *c, const scn_stmt *st)
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
	s->obj2 = host_new(c->net, ls->obj, s->name, &a[0]);
	if (!s->obj2 || host_add_ip(s->obj2, &a[1]) < 0)
		return ctx_err(c, "stun-server %s: address already in use", s->name);
	s->obj = stun_server_new(s->obj2, &a[0], &a[1], (uint16_t)p1, (uint16_t)p2, &err);
	return s->obj ? 0 : ctx_err(c, "stun-server %s: cannot bind (%d)", s->name, err);
}

/* ---- timeline ---------------------------------------------------------- */

static void advance(scn_ctx *c)
{
	if (!c->dry)
		sim_net_run_until(c->net, c->cursor);
}

static int c_wait(scn_ctx *c, const scn_stmt *st)
{
	tv_time d, max = TV_SEC(4 * 3600);
	sym *p;

	if (st->argc == 2 && !ctx_sym(c, st->argv[1], SYM_PROBE)) {
		if (tv_time_parse(st->argv[1], &d) < 0)
			return ctx_err(c, "wait: '%s' is neither a duration nor a probe", st->argv[1]);
		c->cursor += d;
		advance(c);
		return 0;
	}
	/* wait PROBE [max=D]: until the probe has finished. */
	if (st->argc > 3)
		return ctx_err(c, "usage: wait DURATION | wait PROBE [max=D]");
	p = need_sym(c, st->argv[1], SYM_PROBE);
	if (!p)
		return -1;
	if (st->argc == 3 && (strncmp(st->argv[2], "max=", 4) || tv_time_parse(st->argv[2] + 4, &max) < 0))
		return ctx_err(c, "wait %s: expected max=DURATION, got '%s'", p->name, st->argv[2]);
	if (c->dry)
		return 0;
	for (tv_time end = c->cursor + max; c->cursor < end;) {
		if (stun_probe_result_get(p->obj)->done)
			return 0;
		c->cursor += TV_MS(100);
		advance(c);
	}
	return stun_probe_result_get(p->obj)->done ? 0 : ctx_err(c, "probe %s did not finish within the wait", p->name);
}

rsock *ctx_rsock(scn_ctx *c, sym *host, uint16_t port, bool create)
{
	rsock *rs, **ns;

	for (int i = 0; i < c->nsocks; i++)
		if (c->socks[i]->port == port && strcmp(c->socks[i]->host, host->name) == 0)
			return c->socks[i];
	if (!create)
		return NULL;
	ns = realloc(c->socks, (size_t)(c->nsocks + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	c->socks = ns;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	snprintf(rs->host, sizeof(rs->host), "%s", host->name);
	rs->port = port;
	rs->h = host->obj;
	c->socks[c->nsocks++] = rs;
	return rs;
}

rlisten *ctx_rlisten(scn_ctx *c, const char *host, uint16_t port)
{
	for (int i = 0; i < c->nlistens; i++)
		if (c->listens[i]->port == port && strcmp(c->listens[i]->host, host) == 0)
			return c->listens[i];
	return NULL;
}

static void rsock_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	rsock *rs = arg;
	int i;

	(void)now;
	rs->rx++;
	rs->rx_bytes += len;
	for (i = 0; i < rs->nsrcs; i++)
		if (tv_ep_eq(&rs->srcs[i].ep, from))
			break;
	if (i == rs->nsrcs && i < RSOCK_SRCS) {
		rs->srcs[i].ep = *from;
		rs->srcs[i].n = 0;
		rs->nsrcs++;
	}
	if (i < RSOCK_SRCS)
		rs->srcs[i].n++;
	if (rs->echo)
		host_udp_send(s, from, data, len);
}

static int rsock_open(scn_ctx *c, rsock *rs)
{
	int err;
	tv_ep local = tv_ep4(0, rs->port);

	if (rs->s)
		return 0;
	rs->s = host_udp_bind(rs->h, &local, rsock_rx, rs, &err);
	return rs->s ? 0 : ctx_err(c, "cannot open %s:%u (%d)", rs->host, rs->port, err);
}

static void tcp_listen_ev(void *arg, tv_tcp *t, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	rlisten *rl = arg;

	(void)now;
	if (ev == TV_TCP_DATA) {
		rl->rx_bytes += len;
		if (rl->echo)
			host_tcp_send(t, data, len);
	} else if (ev == TV_TCP_PEER_CLOSED) {
		host_tcp_close(t);
	}
}

static void tcp_accept(void *arg, tv_tcp *t, tv_time now)
{
	rlisten *rl = arg;

	(void)now;
	rl->accepted++;
	host_tcp_set_cb(t, tcp_listen_ev, rl);
}

static int c_listen(scn_ctx *c, const scn_stmt *st)
{
	sym *h;
	uint16_t port;
	bool tcp = false, echo = false;

	if (st->argc < 2)
		return ctx_err(c, "usage: listen HOST:PORT [udp|tcp] [echo]");
	if (ctx_host_port(c, st->argv[1], &h, &port) < 0)
		return -1;
	for (int i = 2; i < st->argc; i++) {
		if (!strcmp(st->argv[i], "tcp"))
			tcp = true;
		else if (!strcmp(st->argv[i], "echo"))
			echo = true;
		else if (strcmp(st->argv[i], "udp"))
			return ctx_err(c, "listen: unexpected '%s' (expected udp, tcp or echo)", st->argv[i]);
	}
	if (c->dry)
		return 0;
	if (tcp) {
		rlisten *rl = calloc(1, sizeof(*rl)), **nl;
		int err;
		if (!rl)
			return ctx_err(c, "out of memory");
		nl = realloc(c->listens, (size_t)(c->nlistens + 1) * sizeof(*nl));
		if (!nl) {
			free(rl);
			return ctx_err(c, "out of memory");
		}
		c->listens = nl;
		c->listens[c->nlistens++] = rl;
		snprintf(rl->host, sizeof(rl->host), "%s", h->name);
		rl->port = port;
		rl->echo = echo;
		rl->l = host_tcp_listen(h->obj, port, tcp_accept, rl, &err);
		return rl->l ? 0 : ctx_err(c, "cannot listen on %s (%d)", st->argv[1], err);
	}
	{
		rsock *rs = ctx_rsock(c, h, port, true);
		if (!rs)
			return ctx_err(c, "out of memory");
		rs->echo = echo;
		return rsock_open(c, rs);
	}
}

static void sender_fire(tv_timer *t, tv_time now)
{
	sender *s = t->arg;
	uint8_t buf[1500];
	int n;

	(void)now;
	memset(buf, 0, s->size);
	n = snprintf((char *)buf, s->size, "traverse seq=%u", s->seq++);
	(void)n;
	host_udp_send(s->rs->s, &s->to, buf, s->size);
	if (--s->left > 0)
		host_timer_arm(s->rs->h, &s->t, now + s->interval);
}

static int c_send(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "count", "interval", "size", NULL };
	opts o;
	const opt *v;
	sym *h;
	uint16_t port;
	tv_ep to;
	uint64_t count = 1, size = 64;
	tv_time interval = TV_SEC(1);
	sender *s, **ns;
	rsock *rs;

	if (st->argc < 4 || strcmp(st->argv[2], "->"))
		return ctx_err(c, "usage: send HOST:PORT -> DEST:PORT [count=N] [interval=D] [size=BYTES]");
	if (ctx_host_port(c, st->argv[1], &h, &port) < 0 || ctx_resolve(c, st->argv[3], &to, false) < 0 ||
	    opts_parse(c, st, 4, keys, false, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "count")) && opt_u64(c, v, &count) < 0)
		return -1;
	if ((v = opts_get(&o, "interval")) && opt_time(c, v, &interval) < 0)
		return -1;
	if ((v = opts_get(&o, "size")) && opt_u64(c, v, &size) < 0)
		return -1;
	if (count < 1 || count > 10000000)
		return ctx_err(c, "count: must be 1 to 10000000");
	if (size < 1 || size > 1400)
		return ctx_err(c, "size: must be 1 to 1400 bytes");
	if (interval < TV_US(1))
		return ctx_err(c, "interval: must be positive");
	if (c->dry)
		return 0;
	rs = ctx_rsock(c, h, port, true);
	if (!rs || rsock_open(c, rs) < 0)
		return -1;
	ns = realloc(c->senders, (size_t)(c->nsenders + 1) * sizeof(*ns));
	s = calloc(1, sizeof(*s));
	if (!ns || !s) {
		free(s);
		if (ns)
			c->senders = ns;
		return ctx_err(c, "out of memory");
	}
	c->senders = ns;
	c->senders[c->nsenders++] = s;
	s->rs = rs;
	s->to = to;
	s->left = (uint32_t)count;
	s->interval = interval;
	s->size = (uint16_t)size;
	tv_timer_init(&s->t, sender_fire, s);
	host_timer_arm(rs->h, &s->t, c->cursor);
	return 0;
}

static void conn_ev(void *arg, tv_tcp *t, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	rconn *rc = arg;

	(void)data;
	(void)now;
	switch (ev) {
	case TV_TCP_CONNECTED:
		rc->state = "established";
		break;
	case TV_TCP_DATA:
		rc->rx_bytes += len;
		break;
	case TV_TCP_PEER_CLOSED:
		rc->state = "peer-closed";
		host_tcp_close(t);
		break;
	case TV_TCP_CLOSED:
		rc->state = "closed";
		rc->c = NULL;
		break;
	case TV_TCP_RESET:
		rc->state = "reset";
		rc->c = NULL;
		break;
	case TV_TCP_TIMEOUT:
		rc->state = "timeout";
		rc->c = NULL;
		break;
	}
}

static int c_connect(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "idle", NULL };
	opts o;
	const opt *v;
	sym *h, *s;
	uint16_t port;
	tv_ep to;
	tv_time idle = 0;
	rconn *rc;
	int err;

	if (st->argc < 5 || strcmp(st->argv[3], "->"))
		return ctx_err(c, "usage: connect NAME HOST:PORT -> DEST:PORT [idle=D]");
	if (ctx_host_port(c, st->argv[2], &h, &port) < 0 || ctx_resolve(c, st->argv[4], &to, false) < 0 ||
	    opts_parse(c, st, 5, keys, false, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "idle")) && opt_time(c, v, &idle) < 0)
		return -1;
	s = new_sym(c, st->argv[1], SYM_TCP);
	if (!s || c->dry)
		return s ? 0 : -1;
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return ctx_err(c, "out of memory");
	s->obj = rc;
	rc->sym = s;
	rc->state = "connecting";
	rc->c = host_tcp_connect(h->obj, port, &to, conn_ev, rc, &err);
	if (!rc->c)
		return ctx_err(c, "connect %s: failed (%d)", s->name, err);
	if (idle)
		host_tcp_set_idle(rc->c, idle);
	return 0;
}

static int c_tcp_send(scn_ctx *c, const scn_stmt *st)
{
	sym *s;
	uint64_t size;
	opts o;
	static const char *const keys[] = { "size", NULL };
	rconn *rc;
	uint8_t *buf;

	if (st->argc != 3)
		return ctx_err(c, "usage: tcp-send CONNECTION size=BYTES");
	s = need_sym(c, st->argv[1], SYM_TCP);
	if (!s || opts_parse(c, st, 2, keys, false, &o) < 0 || !opts_get(&o, "size") ||
	    opt_u64(c, opts_get(&o, "size"), &size) < 0)
		return s ? ctx_err(c, "tcp-send needs size=BYTES") : -1;
	if (size < 1 || size > (1u << 24))
		return ctx_err(c, "size: must be 1 byte to 16 MiB");
	if (c->dry)
		return 0;
	rc = s->obj;
	if (!rc->c)
		return ctx_err(c, "tcp-send: connection %s is %s", s->name, rc->state);
	buf = malloc(size);
	if (!buf)
		return ctx_err(c, "out of memory");
	for (uint64_t i = 0; i < size; i++)
		buf[i] = (uint8_t)('a' + i % 26);
	if (host_tcp_send(rc->c, buf, size) < 0) {
		free(buf);
		return ctx_err(c, "tcp-send: connection %s is %s", s->name, rc->state);
	}
	free(buf);
	return 0;
}

static int c_close(scn_ctx *c, const scn_stmt *st)
{
	sym *s;
	rconn *rc;
	bool abort_ = !strcmp(st->argv[0], "abort");

	if (st->argc != 2)
		return ctx_err(c, "usage: %s CONNECTION", st->argv[0]);
	s = need_sym(c, st->argv[1], SYM_TCP);
	if (!s || c->dry)
		return s ? 0 : -1;
	rc = s->obj;
	if (!rc->c)
		return ctx_err(c, "%s: connection %s is already %s", st->argv[0], s->name, rc->state);
	if (abort_) {
		host_tcp_abort(rc->c);
		rc->c = NULL;
		rc->state = "aborted";
	} else {
		host_tcp_close(rc->c);
	}
	return 0;
}

static int c_probe(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "server", "lifetime", "lifetime-max", "resolution", NULL };
	opts o;
	const opt *v;
	sym *h, *srv, *p;
	stun_probe_cfg pc = { 0 };
	tv_ep to;
	int err;

	if (st->argc < 4)
		return ctx_err(c, "usage: probe NAME HOST server=STUN-SERVER [lifetime=on] [lifetime-max=D] [resolution=D]");
	h = need_sym(c, st->argv[2], SYM_HOST);
	if (!h || opts_parse(c, st, 3, keys, false, &o) < 0)
		return -1;
	if (!(v = opts_get(&o, "server")))
		return ctx_err(c, "probe needs server=STUN-SERVER");
	srv = need_sym(c, v->val, SYM_STUN);
	if (!srv)
		return -1;
	if ((v = opts_get(&o, "lifetime")) && opt_bool(c, v, &pc.test_lifetime) < 0)
		return -1;
	if ((v = opts_get(&o, "lifetime-max")) && opt_time(c, v, &pc.lifetime_max) < 0)
		return -1;
	if ((v = opts_get(&o, "resolution")) && opt_time(c, v, &pc.lifetime_resolution) < 0)
		return -1;
	p = new_sym(c, st->argv[1], SYM_PROBE);
	if (!p)
		return -1;
	p->resolution = pc.lifetime_resolution ? pc.lifetime_resolution : TV_SEC(1);
	if (c->dry)
		return 0;
	to = tv_ep4(srv->ip.v4, srv->port);
	p->obj = stun_probe_start(h->obj, &to, &pc, &err);
	return p->obj ? 0 : ctx_err(c, "probe %s: cannot start (%d)", p->name, err);
}

static int c_fault(scn_ctx *c, const scn_stmt *st)
{
	sym *s;
	tv_ip ip;
	const char *what;

	if (st->argc < 3)
		return ctx_err(c, "usage: fault NAT reboot | fault NAT address IP | fault NAT table-full on|off");
	s = need_sym(c, st->argv[1], SYM_NAT);
	if (!s)
		return -1;
	what = st->argv[2];
	if (!strcmp(what, "reboot") && st->argc == 3) {
		if (!c->dry)
			nat_node_reboot(s->obj);
		return 0;
	}
	if (!strcmp(what, "address") && st->argc == 4) {
		if (parse_ip(c, "address", st->argv[3], &ip) < 0)
			return -1;
		if (!c->dry && nat_node_change_addr(s->obj, &ip) < 0)
			return ctx_err(c, "fault %s address: %s is already in use", s->name, st->argv[3]);
		return 0;
	}
	if (!strcmp(what, "table-full") && st->argc == 4) {
		bool on;
		opt o = { .key = "table-full", .val = st->argv[3] };
		if (opt_bool(c, &o, &on) < 0)
			return -1;
		if (!c->dry)
			nat_node_table_full(s->obj, on);
		return 0;
	}
	return ctx_err(c, "fault: expected 'reboot', 'address IP' or 'table-full on|off', got '%s'", what);
}

/* ---- dispatch ------------------------------------------------------------ */

typedef int (*stmt_fn)(scn_ctx *c, const scn_stmt *st);

static const struct cmd {
	const char *name;
	stmt_fn fn;
	bool decl;              /* topology: must come before the timeline */
} cmds[] = {
	{ "scenario", c_scenario, true }, { "seed", c_seed, true }, { "link", c_link, true },
	{ "nat", c_nat, true }, { "firewall", c_firewall, true }, { "host", c_host, true },
	{ "stun-server", c_stun, true },
	{ "wait", c_wait, false }, { "listen", c_listen, false }, { "send", c_send, false },
	{ "connect", c_connect, false }, { "tcp-send", c_tcp_send, false }, { "close", c_close, false },
	{ "abort", c_close, false }, { "probe", c_probe, false }, { "fault", c_fault, false },
	{ "impair", c_impair, false }, { "expect", scn_expect, false },
};

static int exec_stmt(scn_ctx *c, const scn_stmt *st)
{
	scn_stmt sub;

	if (!strcmp(st->argv[0], "at")) {
		tv_time t;
		if (st->argc < 3)
			return ctx_err(c, "usage: at TIME STATEMENT...");
		if (tv_time_parse(st->argv[1], &t) < 0)
			return ctx_err(c, "at: '%s' is not a time", st->argv[1]);
		if (t < c->cursor) {
			char a[32], b[32];
			return ctx_err(c, "at %s is earlier than the clock (%s); statements run in order",
				       tv_time_fmt(t, a, sizeof(a)), tv_time_fmt(c->cursor, b, sizeof(b)));
		}
		c->cursor = t;
		c->in_timeline = true;
		advance(c);
		sub = *st;
		sub.argc -= 2;
		memmove(sub.argv, st->argv + 2, (size_t)sub.argc * sizeof(char *));
		if (!strcmp(sub.argv[0], "at"))
			return ctx_err(c, "at: nested 'at'");
		return exec_stmt(c, &sub);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(st->argv[0], cmds[i].name))
			continue;
		if (cmds[i].decl && c->in_timeline)
			return ctx_err(c, "'%s' declares topology and must come before the first action", cmds[i].name);
		if (!cmds[i].decl)
			c->in_timeline = true;
		if (c->o->verbose && !c->dry) {
			char t[32];
			fprintf(stderr, "  [%10s] %s:%d: %s\n", tv_time_fmt(c->cursor, t, sizeof(t)),
				c->f->path, st->line, st->argv[0]);
		}
		return cmds[i].fn(c, st);
	}
	return ctx_err(c, "unknown statement '%s' (expected one of: scenario, seed, link, nat, firewall, host, "
		       "stun-server, at, wait, listen, send, connect, tcp-send, close, abort, probe, fault, impair, expect)",
		       st->argv[0]);
}

static void ctx_free(scn_ctx *c)
{
	for (int i = 0; i < c->nsenders; i++) {
		if (c->net)
			tv_timerq_cancel(sim_net_timers(c->net), &c->senders[i]->t);
		free(c->senders[i]);
	}
	free(c->senders);
	for (int i = c->nsyms - 1; i >= 0; i--) {
		sym *s = &c->syms[i];
		if (!s->obj && !s->obj2)
			continue;
		switch (s->kind) {
		case SYM_PROBE:
			stun_probe_free(s->obj);
			break;
		case SYM_STUN:
			stun_server_free(s->obj);
			host_free(s->obj2);
			break;
		case SYM_TCP:
			free(s->obj);   /* the tv_tcp itself is freed with its host */
			break;
		default:
			break;
		}
	}
	for (int i = 0; i < c->nlistens; i++) {
		host_tcp_unlisten(c->listens[i]->l);
		free(c->listens[i]);
	}
	free(c->listens);
	for (int i = 0; i < c->nsocks; i++) {
		host_udp_close(c->socks[i]->s);
		free(c->socks[i]);
	}
	free(c->socks);
	for (int i = c->nsyms - 1; i >= 0; i--) {
		sym *s = &c->syms[i];
		if (s->kind == SYM_HOST)
			host_free(s->obj);
		else if (s->kind == SYM_NAT)
			nat_node_free(s->obj);
	}
	free(c->syms);
	sim_net_free(c->net);
}

static int run_all(scn_ctx *c)
{
	for (int i = 0; i < c->f->nstmts; i++) {
		c->cur = &c->f->stmts[i];
		exec_stmt(c, c->cur);
		if (c->dry && c->errors >= 20) {
			fprintf(stderr, "%s: too many errors, stopping\n", c->f->path);
			break;
		}
	}
	c->cur = NULL;
	return c->errors;
}

int scn_check(const scn_file *f)
{
	scn_opts o = { 0 };
	scn_result r = { 0 };
	scn_ctx c = { .f = f, .o = &o, .r = &r, .dry = true };
	int n = run_all(&c);

	ctx_free(&c);
	return n;
}

int scn_run(const scn_file *f, const scn_opts *o, scn_result *r)
{
	scn_ctx c = { .f = f, .o = o, .r = r, .dry = true, .seed = 1 };
	struct timespec t0, t1;

	memset(r, 0, sizeof(*r));
	r->path = f->path;
	snprintf(r->title, sizeof(r->title), "%s", f->path);
	if (o->seed_set)
		c.seed = o->seed;
	/* The dry pass reads "seed"; then the real run starts from scratch. */
	run_all(&c);
	if (c.errors) {
		ctx_free(&c);
		return -1;
	}
	free(c.syms);
	c.syms = NULL;
	c.nsyms = c.capsyms = 0;
	c.cursor = 0;
	c.in_timeline = false;
	c.dry = false;
	r->seed = c.seed;
	c.net = sim_net_new(c.seed);
	if (!c.net)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_all(&c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->sim_time = sim_net_now(c.net);
	r->events = sim_net_events(c.net);
	r->wall_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (r->expects == 0)
		ctx_expect(&c, false, "scenario has no expectations; a scenario must check something");
	r->passed = r->failed == 0;
	ctx_free(&c);
	return 0;
}

void scn_result_free(scn_result *r)
{
	free(r->failures);
	r->failures = NULL;
}
