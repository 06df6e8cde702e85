/* scn_util.c - shared helpers of the statement handlers: error reporting,
 * the symbol table, address resolution and option parsing. */
#include "scn_ctx.h"
#include "scn_findings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		const char *w = c->cur ? c->cur->where : NULL;
		fprintf(stderr, "%s:%d: %s%s%s%s\n", c->f->path, c->cur ? c->cur->line : 0, w ? "[" : "", w ? w : "",
			w ? "] " : "", msg);
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
	{
		const char *w = c->cur ? c->cur->where : NULL;
		n = snprintf(line, sizeof(line), "%s:%d: %s%s%s%s\n", c->f->path, c->cur ? c->cur->line : 0,
			     w ? "[" : "", w ? w : "", w ? "] " : "", msg);
	}
	if (n > 0) {
		char *nf = realloc(c->r->failures, c->r->failures_len + (size_t)n + 1);
		if (nf) {
			memcpy(nf + c->r->failures_len, line, (size_t)n + 1);
			c->r->failures = nf;
			c->r->failures_len += (size_t)n;
		}
	}
	findings_diagnose(c);
}

void show_put(scn_ctx *c, const char *what, const char *key, const char *fmt, ...)
{
	size_t n = strlen(c->showbuf);
	va_list ap;

	if (what && !n)
		n += (size_t)snprintf(c->showbuf, sizeof(c->showbuf), "%s:", what);
	if (n >= sizeof(c->showbuf) - 2)
		return;
	n += (size_t)snprintf(c->showbuf + n, sizeof(c->showbuf) - n, " %s=", key);
	if (n >= sizeof(c->showbuf) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(c->showbuf + n, sizeof(c->showbuf) - n, fmt, ap);
	va_end(ap);
}

/* The show line goes to the result ("FILE:LINE\tTIME_US\tTEXT\n") and,
 * with -v, to the terminal at once. With a label, TEXT is "LABEL=VALUE". */
void show_flush(scn_ctx *c, const char *label)
{
	char line[1400], at[300];
	const char *text = c->showbuf[0] == ' ' ? c->showbuf + 1 : c->showbuf;
	const char *w = c->cur ? c->cur->where : NULL;
	int n;

	char lab[sizeof(c->showbuf)];

	if (label) {
		const char *eq = strrchr(text, '=');
		snprintf(lab, sizeof(lab), "%.64s=%.900s", label, eq ? eq + 1 : "");
		text = lab;
	}
	snprintf(at, sizeof(at), "%s:%d%s%s%s", c->f->path, c->cur ? c->cur->line : 0, w ? " [" : "", w ? w : "",
		 w ? "]" : "");
	n = snprintf(line, sizeof(line), "%s\t%lld\t%s\n", at, (long long)c->cursor, text);
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		char *ns = realloc(c->r->shows, c->r->shows_len + len + 1);
		if (ns) {
			memcpy(ns + c->r->shows_len, line, len + 1);
			c->r->shows = ns;
			c->r->shows_len += len;
		}
	}
	if (c->o->verbose) {
		char t[32];
		fprintf(stderr, "  [%10s] %s: show %s\n", tv_time_fmt(c->cursor, t, sizeof(t)), at, text);
	}
}

static const char *const kind_names[] = {
	[SYM_LINK] = "link", [SYM_NAT] = "nat", [SYM_HOST] = "host",
	[SYM_STUN] = "stun-server", [SYM_PROBE] = "probe", [SYM_TCP] = "connection",
	[SYM_SOFTSWITCH] = "softswitch", [SYM_PROXY] = "proxy", [SYM_PHONE] = "phone", [SYM_RHOST] = "real host",
};

sym *ctx_sym(scn_ctx *c, const char *name, int kind)
{
	for (int i = 0; i < c->nsyms; i++)
		if (strcmp(c->syms[i]->name, name) == 0 && (kind < 0 || (int)c->syms[i]->kind == kind))
			return c->syms[i];
	return NULL;
}

sym *need_sym(scn_ctx *c, const char *name, enum sym_kind kind)
{
	sym *s = ctx_sym(c, name, (int)kind);

	if (!s) {
		sym *other = ctx_sym(c, name, -1);
		if (other)
			ctx_err(c, "'%s' is a %s (line %d), not a %s", name, kind_names[other->kind], other->line,
				kind_names[kind]);
		else
			ctx_err(c, "no %s named '%s' is declared", kind_names[kind], name);
	}
	return s;
}

sym *new_sym(scn_ctx *c, const char *name, enum sym_kind kind)
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
	/* callers hold other syms (a host's link) across this call: the table
	 * of pointers may move, the syms never do */
	if (c->nsyms == c->capsyms) {
		int nc = c->capsyms ? c->capsyms * 2 : 32;
		sym **ns = realloc(c->syms, (size_t)nc * sizeof(*ns));
		if (!ns) {
			ctx_err(c, "out of memory");
			return NULL;
		}
		c->syms = ns;
		c->capsyms = nc;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		ctx_err(c, "out of memory");
		return NULL;
	}
	c->syms[c->nsyms++] = s;
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
	int named = names_resolve(c, s, ep);

	if (named)
		return named < 0 ? -1 : 0;
	if (n >= sizeof(name))
		return ctx_err(c, "'%s' is not an address", s);
	memcpy(name, s, n);
	name[n] = '\0';
	if (!colon && !allow_noport)
		return ctx_err(c, "'%s' needs a port (NAME:PORT or IP:PORT)", s);
	y = ctx_sym(c, name, -1);
	if (y && y->kind != SYM_LINK && y->kind != SYM_PROBE && y->kind != SYM_TCP) {
		ep->ip = y->ip;
		if (!c->dry && y->kind == SYM_NAT)
			ep->ip = nat_get_cfg(nat_node_engine(y->obj))->pub[0];
	} else if (tv_ip_parse(name, &ep->ip) < 0 || ep->ip.af != TV_AF_INET) {
		return ctx_err(c, "'%s' is neither a declared host/nat/stun-server nor an IPv4 address", name);
	} else {
		live_map_ip(c, &ep->ip);
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
	*host = ctx_sym(c, name, SYM_HOST);
	if (!*host)
		*host = ctx_sym(c, name, SYM_PHONE);    /* a phone is a host too */
	if (!*host)
		return ctx_err(c, "no host named '%s' is declared", name);
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

		if (c->show && a[klen] == '\0' && klen) {
			/* show: a bare key names a value to print */
			o->op[0] = '\0';
			o->val = "";
			o->used = 0;
			o->key = NULL;
			for (int k = 0; allowed[k]; k++)
				if (!strcmp(allowed[k], a))
					o->key = allowed[k];
			if (!o->key)
				goto unknown;
			out->n++;
			c->show_keys++;
			continue;
		}
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
			char list[400];
unknown:
			list[0] = '\0';
			klen = strcspn(a, "=<>!");
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

int parse_ip(scn_ctx *c, const char *what, const char *s, tv_ip *ip)
{
	if (tv_ip_parse(s, ip) < 0 || ip->af != TV_AF_INET)
		return ctx_err(c, "%s: '%s' is not an IPv4 address", what, s);
	live_map_ip(c, ip);
	return 0;
}

/* "LINK:IP[,IP...]" */
int parse_attach(scn_ctx *c, const char *what, const char *s, sym **link, tv_ip *ips, int max, int *n)
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

int enum_lookup(scn_ctx *c, const opt *o, const void *table, size_t n, int *out)
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

int claim_ip(scn_ctx *c, const sym *link, const tv_ip *ip)
{
	char a[TV_IP_STRLEN];

	for (int i = 0; i < c->nclaims; i++)
		if (!strcmp(c->claims[i].link, link->name) && tv_ip_eq(&c->claims[i].ip, ip))
			return ctx_err(c, "address %s is already used on link %s (line %d)", tv_ip_fmt(ip, a), link->name,
				       c->claims[i].line);
	if (c->nclaims == c->capclaims) {
		int nc = c->capclaims ? c->capclaims * 2 : 32;
		struct addr_claim *na = realloc(c->claims, (size_t)nc * sizeof(*na));
		if (!na)
			return ctx_err(c, "out of memory");
		c->claims = na;
		c->capclaims = nc;
	}
	snprintf(c->claims[c->nclaims].link, sizeof(c->claims[0].link), "%s", link->name);
	c->claims[c->nclaims].ip = *ip;
	c->claims[c->nclaims].line = c->cur ? c->cur->line : 0;
	c->nclaims++;
	return 0;
}

void syms_free(scn_ctx *c)
{
	for (int i = 0; i < c->nsyms; i++)
		free(c->syms[i]);
	free(c->syms);
	c->syms = NULL;
	c->nsyms = c->capsyms = 0;
}

void ctx_run_path(scn_ctx *c, const char *name, const char *ext, char *out, size_t cap)
{
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
	if (c->f->variant_name[0]) {
		/* a matrix run: DIR/<dir>-<stem>/<k>-<v>_<k>-<v>/ */
		char sub[300];
		size_t n = 0;
		for (const char *p = c->f->variant_name; *p && n < sizeof(sub) - 1; p++)
			sub[n++] = *p == ' ' ? '_' : *p == '=' ? '-' : *p == '/' ? '%' : *p;
		sub[n] = '\0';
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s", sub);
		mkdir(dir, 0755);
	}
	snprintf(out, cap, "%s/%s%s", dir, name, ext);
}

