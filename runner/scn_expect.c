/* scn_expect.c - "expect" statements: checks of the state at the current
 * virtual time. Each subject has a table of the options it accepts; every
 * failed check records "file:line: what was expected, what was found". */
#include "scn_ctx.h"
#include "scn_rhost.h"
#include "pkt.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

static int parse_u64(scn_ctx *c, const opt *o, uint64_t *v)
{
	return opt_u64(c, o, v);
}

/* Compare an observed count against "key OP N". */
void check_count(scn_ctx *c, const char *what, const opt *o, uint64_t got)
{
	uint64_t want;

	if (opt_is_show(o)) {
		if (!c->dry)
			show_put(c, what, o->key, "%llu", (unsigned long long)got);
		return;
	}
	if (parse_u64(c, o, &want) < 0)
		return;
	if (!c->dry)
		ctx_expect(c, cmp_u64(o->op, got, want), "%s: expected %s%s%s, got %llu", what, o->key, o->op,
			   o->val, (unsigned long long)got);
}

static bool yesno(scn_ctx *c, const opt *o, bool *v)
{
	return opt_bool(c, o, v) == 0;
}

/* expect probe NAME [mapping=C] [filtering=C] [hairpin=yes|no] [nat=yes|no]
 *                   [lifetime=D] [tolerance=D] */
static int e_probe(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "mapping", "filtering", "hairpin", "nat", "lifetime", "tolerance", NULL };
	opts o;
	const opt *v;
	sym *p;
	enum stun_class mc = STUN_UNKNOWN, fc = STUN_UNKNOWN;
	bool hp = false, natp = false;
	tv_time life = 0, tol = 0;
	const stun_probe_result *r;

	if (st->argc < 4)
		return ctx_err(c, "usage: expect probe NAME [mapping=eim|adm|apdm] [filtering=eif|adf|apdf] "
			       "[hairpin=yes|no] [nat=yes|no] [lifetime=D [tolerance=D]]");
	p = ctx_sym(c, st->argv[2], SYM_PROBE);
	if (!p)
		return ctx_err(c, "no probe named '%s' was started before this line", st->argv[2]);
	if (opts_parse(c, st, 3, keys, false, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "mapping")) && stun_class_parse(v->val, &mc, NULL) < 0)
		return ctx_err(c, "mapping: '%s' (expected eim, adm, apdm or a long name)", v->val);
	if ((v = opts_get(&o, "filtering")) && stun_class_parse(v->val, &fc, NULL) < 0)
		return ctx_err(c, "filtering: '%s' (expected eif, adf, apdf or a long name)", v->val);
	if ((v = opts_get(&o, "hairpin")) && !yesno(c, v, &hp))
		return -1;
	if ((v = opts_get(&o, "nat")) && !yesno(c, v, &natp))
		return -1;
	if ((v = opts_get(&o, "lifetime")) && opt_time(c, v, &life) < 0)
		return -1;
	tol = p->resolution;
	if ((v = opts_get(&o, "tolerance")) && opt_time(c, v, &tol) < 0)
		return -1;
	if (c->dry)
		return 0;
	r = stun_probe_result_get(p->obj);
	if (!r->done) {
		ctx_expect(c, false, "probe %s has not finished (add 'wait %s' before this line)", p->name, p->name);
		return 0;
	}
	if (r->error[0])
		ctx_expect(c, false, "probe %s: %s", p->name, r->error);
	if (opts_get(&o, "mapping"))
		ctx_expect(c, r->mapping == mc, "probe %s: expected mapping %s, found %s", p->name,
			   stun_class_name(mc), stun_class_name(r->mapping));
	if (opts_get(&o, "filtering"))
		ctx_expect(c, r->filtering == fc, "probe %s: expected filtering %s, found %s", p->name,
			   stun_class_name(fc), stun_class_name(r->filtering));
	if (opts_get(&o, "hairpin"))
		ctx_expect(c, r->hairpinning == hp, "probe %s: expected hairpinning %s, found %s", p->name,
			   hp ? "yes" : "no", r->hairpinning ? "yes" : "no");
	if (opts_get(&o, "nat"))
		ctx_expect(c, r->nat == natp, "probe %s: expected nat=%s, found %s", p->name, natp ? "yes" : "no",
			   r->nat ? "yes" : "no");
	if (opts_get(&o, "lifetime")) {
		char a[32], b[32], t[32];
		tv_time d = r->lifetime > life ? r->lifetime - life : life - r->lifetime;
		ctx_expect(c, r->lifetime_tested && d <= tol,
			   "probe %s: expected binding lifetime %s (+-%s), found %s%s", p->name,
			   tv_time_fmt(life, a, sizeof(a)), tv_time_fmt(tol, t, sizeof(t)),
			   tv_time_fmt(r->lifetime, b, sizeof(b)), r->lifetime_tested ? "" : " (not tested: probe needs lifetime=on)");
	}
	return 0;
}

/* ---- what arrived: contains= / lacks= / matches= ----------------------- */

/* The delivery tap: every UDP datagram or TCP segment delivered to a
 * watched address is counted and its payload checked. */
static void watch_tap(void *arg, const uint8_t *pkt, size_t len, tv_time now)
{
	scn_ctx *c = arg;
	size_t ihl, off;
	uint8_t proto;
	tv_ep dst;

	(void)now;
	if (len < 20 || pkt[0] >> 4 != 4)
		return;
	ihl = (size_t)(pkt[0] & 15) * 4;
	proto = pkt[9];
	if (ihl < 20 || len < ihl + 8 || (proto != TV_PROTO_UDP && proto != TV_PROTO_TCP))
		return;
	dst = tv_ep4((uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19],
		     (uint16_t)(pkt[ihl + 2] << 8 | pkt[ihl + 3]));
	off = proto == TV_PROTO_UDP ? ihl + 8 : ihl + (size_t)(pkt[ihl + 12] >> 4) * 4;
	if (off > len)
		return;
	for (int i = 0; i < c->nwatches; i++) {
		watch *w = &c->watches[i];
		bool hit;

		if (w->proto != proto || !tv_ep_eq(&w->ep, &dst))
			continue;
		if (proto == TV_PROTO_TCP && off == len)
			continue;       /* a bare ACK, SYN or FIN carries no bytes */
		w->seen++;
		if (w->kind == 'm') {
			/* regexec wants a C string: a copy, NUL bytes read as '.' */
			if (!c->tapbuf && !(c->tapbuf = malloc(PKT_IP_MAX + 1)))
				continue;
			for (size_t j = off; j < len; j++)
				c->tapbuf[j - off] = pkt[j] ? (char)pkt[j] : '.';
			c->tapbuf[len - off] = '\0';
			hit = regexec(w->re, c->tapbuf, 0, NULL, 0) == 0;
		} else {
			const char *t = w->live_text ? w->live_text : w->text;
			hit = memmem(pkt + off, len - off, t, strlen(t)) != NULL;
		}
		if (hit && !w->hits++) {
			size_t k = 0;
			for (size_t j = off; j < len && k < sizeof(w->first) - 5; j++) {
				uint8_t ch = pkt[j];
				if (ch == '\r' || ch == '\n') {
					w->first[k++] = '|';
					if (ch == '\r' && j + 1 < len && pkt[j + 1] == '\n')
						j++;
				} else {
					w->first[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
				}
			}
			if (len - off > k)
				memcpy(w->first + k, "...", 4);
			else
				w->first[k] = '\0';
		}
	}
}

void watches_start(scn_ctx *c)
{
	if (c->nwatches)
		sim_net_set_tap(c->net, watch_tap, c);
}

void watches_free(scn_ctx *c)
{
	for (int i = 0; i < c->nwatches; i++) {
		free(c->watches[i].live_text);
		if (c->watches[i].re) {
			regfree(c->watches[i].re);
			free(c->watches[i].re);
		}
	}
	free(c->watches);
	free(c->tapbuf);
	c->tapbuf = NULL;
	c->watches = NULL;
	c->nwatches = 0;
}

/* The watch for this statement's option: made in the dry pass (before
 * anything runs, so nothing delivered is missed), found in the run. */
static watch *watch_for(scn_ctx *c, const opt *v, const tv_ep *ep, uint8_t proto)
{
	char kind = v->key[0];
	watch *w, *nw;

	for (int i = 0; i < c->nwatches; i++) {
		w = &c->watches[i];
		if (w->st == c->cur && w->kind == kind && !strcmp(w->text, v->val))
			return w;
	}
	if (!c->dry) {
		ctx_err(c, "internal: no watch for %s=%s", v->key, v->val);
		return NULL;
	}
	nw = realloc(c->watches, (size_t)(c->nwatches + 1) * sizeof(*nw));
	if (!nw) {
		ctx_err(c, "out of memory");
		return NULL;
	}
	c->watches = nw;
	w = &c->watches[c->nwatches];
	memset(w, 0, sizeof(*w));
	w->st = c->cur;
	w->ep = *ep;
	w->proto = proto;
	w->kind = kind;
	w->text = (char *)v->val;       /* the statement's words outlive the run */
	if (kind != 'm')
		w->live_text = live_map_text(c, v->val);
	if (kind == 'm') {
		int rc = REG_ESPACE;
		w->re = malloc(sizeof(regex_t));
		if (!w->re || (rc = regcomp(w->re, v->val, REG_EXTENDED | REG_NOSUB)) != 0) {
			char msg[160] = "out of memory";
			if (w->re)
				regerror(rc, w->re, msg, sizeof(msg));
			free(w->re);
			ctx_err(c, "matches: '%s' is not a regular expression: %s", v->val, msg);
			return NULL;
		}
	}
	c->nwatches++;
	return w;
}

/* expect received ADDRESS:PORT [tcp] contains=TEXT|lacks=TEXT|matches=RE ... */
static int received_text(scn_ctx *c, const scn_stmt *st, const opts *o, int first)
{
	tv_ep ep;
	uint8_t proto = TV_PROTO_UDP;
	tv_ep probe;

	if (names_resolve(c, st->argv[2], &probe) != 0)
		return ctx_err(c, "expect received ... %s: name a declared HOST:PORT or IP:PORT, not a run-assigned name",
			       o->v[0].key);
	if (ctx_resolve(c, st->argv[2], &ep, false) < 0)
		return -1;
	if (first == 4)
		proto = TV_PROTO_TCP;
	for (int i = 0; i < o->n; i++) {
		const opt *v = &o->v[i];
		watch *w;

		if (strcmp(v->op, "=") || !v->val[0])
			return ctx_err(c, "%s: use %s=TEXT (non-empty)", v->key, v->key);
		w = watch_for(c, v, &ep, proto);
		if (!w)
			return -1;
		if (c->dry)
			continue;
		if (opt_is_show(v))
			continue;
		if (w->kind == 'l')
			ctx_expect(c, w->hits == 0, "received on %s: expected nothing containing \"%s\"; %llu of %llu did, "
				   "the first: \"%s\"", st->argv[2], w->text, (unsigned long long)w->hits,
				   (unsigned long long)w->seen, w->first);
		else
			ctx_expect(c, w->hits > 0, "received on %s: expected a %s %s \"%s\"; none of %llu did",
				   st->argv[2], proto == TV_PROTO_TCP ? "segment" : "datagram",
				   w->kind == 'c' ? "containing" : "matching", w->text, (unsigned long long)w->seen);
	}
	return 0;
}

/* expect received HOST:PORT count OP N [from=ADDR[:PORT]] [bytes OP N] */
static int e_received(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "count", "from", "bytes", "sources", NULL };
	static const char *const tkeys[] = { "contains", "lacks", "matches", NULL };
	opts o;
	const opt *v, *cnt;
	sym *h;
	uint16_t port;
	tv_ep from = { 0 };
	bool from_port = false;
	rsock *rs;
	uint64_t got = 0;
	char what[128];

	if (st->argc < 4)
		return ctx_err(c, "usage: expect received HOST:PORT count=N|count>=N... [from=ADDR[:PORT]] [bytes=N] [sources=N]"
			       " | expect received ADDRESS:PORT [tcp] contains=TEXT|lacks=TEXT|matches=RE...");
	{
		int first = strcmp(st->argv[3], "tcp") ? 3 : 4;
		const char *a = st->argv[first < st->argc ? first : 3];
		if (!strncmp(a, "contains=", 9) || !strncmp(a, "lacks=", 6) || !strncmp(a, "matches=", 8)) {
			if (opts_parse(c, st, first, tkeys, false, &o) < 0)
				return -1;
			return received_text(c, st, &o, first);
		}
	}
	if (ctx_host_port(c, st->argv[2], &h, &port) < 0 || opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "from"))) {
		if (strcmp(v->op, "="))
			return ctx_err(c, "from: use from=ADDR[:PORT]");
		if (ctx_resolve(c, v->val, &from, true) < 0)
			return -1;
		from_port = strchr(v->val, ':') != NULL;
	}
	if (opts_get(&o, "from") && (opts_get(&o, "bytes") || opts_get(&o, "sources")))
		return ctx_err(c, "expect received: from= restricts count only; check bytes/sources without from=");
	cnt = opts_get(&o, "count");
	if (!cnt && !opts_get(&o, "bytes") && !opts_get(&o, "sources"))
		return ctx_err(c, "expect received needs count, bytes or sources");
	rs = c->dry ? NULL : ctx_rsock(c, h, port, false);
	if (rs) {
		if (opts_get(&o, "from")) {
			for (int i = 0; i < rs->nsrcs; i++)
				if (tv_ip_eq(&rs->srcs[i].ep.ip, &from.ip) && (!from_port || rs->srcs[i].ep.port == from.port))
					got += rs->srcs[i].n;
		} else {
			got = rs->rx;
		}
	}
	snprintf(what, sizeof(what), "received on %s%s%s", st->argv[2], opts_get(&o, "from") ? " from " : "",
		 opts_get(&o, "from") ? opts_get(&o, "from")->val : "");
	if (cnt)
		check_count(c, what, cnt, got);
	if ((v = opts_get(&o, "bytes")))
		check_count(c, what, v, rs ? rs->rx_bytes : 0);
	if ((v = opts_get(&o, "sources")))
		check_count(c, what, v, rs ? (uint64_t)rs->nsrcs : 0);
	return 0;
}

/* expect binding NAT udp|tcp INTERNAL [exists|absent] [external=EP] [port=preserved|even|odd|N]
 *                [state=S] [count OP N] [ttl OP D] */
typedef struct bind_q {
	scn_ctx *c;
	uint8_t proto;
	tv_ep internal;
	const opts *o;
	tv_ep external;
	int matched, total;
	char seen[256];
} bind_q;

static bool port_matches(const char *want, const nat_binding_info *b)
{
	if (!strcmp(want, "preserved"))
		return b->external.port == b->internal.port;
	if (!strcmp(want, "even"))
		return b->external.port % 2 == 0;
	if (!strcmp(want, "odd"))
		return b->external.port % 2 == 1;
	if (!strcmp(want, "same-parity"))
		return b->external.port % 2 == b->internal.port % 2;
	if (!strcmp(want, "changed"))
		return b->external.port != b->internal.port;
	return strtoul(want, NULL, 10) == b->external.port;
}

static void bind_visit(void *arg, const nat_binding_info *b)
{
	bind_q *q = arg;
	const opt *v;
	bool ok = true;
	char e[TV_EP_STRLEN];

	if (b->proto != q->proto || !tv_ep_eq(&b->internal, &q->internal))
		return;
	q->total++;
	if (strlen(q->seen) < sizeof(q->seen) - 80) {
		char t[32];
		snprintf(q->seen + strlen(q->seen), sizeof(q->seen) - strlen(q->seen), "%s%s (%s, ttl %s)",
			 q->total > 1 ? ", " : "", tv_ep_fmt(&b->external, e), b->state, tv_time_fmt(b->ttl, t, sizeof(t)));
	}
	if (opts_get(q->o, "external") && !tv_ep_eq(&b->external, &q->external))
		ok = false;
	if ((v = opts_get(q->o, "port")) && !port_matches(v->val, b))
		ok = false;
	if ((v = opts_get(q->o, "state")) && strcmp(v->val, b->state))
		ok = false;
	for (int i = 0; i < q->o->n; i++) {
		tv_time want;
		v = &q->o->v[i];
		if (!strcmp(v->key, "ttl") && tv_time_parse(v->val, &want) == 0 &&
		    !cmp_u64(v->op, (uint64_t)b->ttl, (uint64_t)want))
			ok = false;
	}
	if (ok)
		q->matched++;
}

static int e_binding(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "external", "port", "state", "count", "ttl", NULL };
	static const char *const ports[] = { "preserved", "even", "odd", "same-parity", "changed" };
	bind_q q = { .c = c };
	opts o;
	const opt *v;
	sym *n;
	int first_opt = 4;
	bool absent = false;

	if (st->argc < 4)
		return ctx_err(c, "usage: expect binding NAT udp|tcp ADDR:PORT [exists|absent] [external=ADDR:PORT] "
			       "[port=preserved|even|odd|same-parity|changed|N] [state=S] [ttl<D] [count=N]");
	n = ctx_sym(c, st->argv[2], SYM_NAT);
	if (!n)
		return ctx_err(c, "no nat named '%s' is declared", st->argv[2]);
	if (!c->dry && n->obj2) {
		c->r->unchecked++;      /* the kernel's NAT (kind=linux): its table is not ours to read */
		return 0;
	}
	if (!strcmp(st->argv[3], "udp"))
		q.proto = TV_PROTO_UDP;
	else if (!strcmp(st->argv[3], "tcp"))
		q.proto = TV_PROTO_TCP;
	else
		return ctx_err(c, "expect binding: protocol must be udp or tcp, got '%s'", st->argv[3]);
	if (st->argc < 5)
		return ctx_err(c, "expect binding: missing the internal ADDR:PORT");
	if (ctx_resolve(c, st->argv[4], &q.internal, false) < 0)
		return -1;
	first_opt = 5;
	if (st->argc > 5 && (!strcmp(st->argv[5], "exists") || !strcmp(st->argv[5], "absent"))) {
		absent = st->argv[5][0] == 'a';
		first_opt = 6;
	}
	if (opts_parse(c, st, first_opt, keys, true, &o) < 0)
		return -1;
	for (int i = 0; i < o.n; i++)
		if ((!strcmp(o.v[i].key, "external") || !strcmp(o.v[i].key, "port") || !strcmp(o.v[i].key, "state")) &&
		    strcmp(o.v[i].op, "="))
			return ctx_err(c, "expect binding: %s takes '=' only", o.v[i].key);
	if ((v = opts_get(&o, "state"))) {
		static const char *const states[] = { "unreplied", "replied", "stream", "syn", "established", "closing", "icmp" };
		bool ok = false;
		for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			ok |= !strcmp(v->val, states[i]);
		if (!ok)
			return ctx_err(c, "state: expected unreplied, replied, stream, syn, established, closing or icmp, got '%s'", v->val);
	}
	if ((v = opts_get(&o, "external")) && ctx_resolve(c, v->val, &q.external, false) < 0)
		return -1;
	if ((v = opts_get(&o, "port"))) {
		char *end;
		unsigned long pn = strtoul(v->val, &end, 10);
		bool ok = pn > 0 && pn <= 65535 && *end == '\0';
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
			ok |= !strcmp(v->val, ports[i]);
		if (!ok)
			return ctx_err(c, "port: expected preserved, even, odd, same-parity, changed or a number, got '%s'", v->val);
	}
	for (int i = 0; i < o.n; i++) {
		tv_time t;
		if (!strcmp(o.v[i].key, "ttl") && opt_time(c, &o.v[i], &t) < 0)
			return -1;
	}
	if ((v = opts_get(&o, "count"))) {
		uint64_t x;
		if (opt_u64(c, v, &x) < 0)
			return -1;
	}
	if (absent && opts_get(&o, "count"))
		return ctx_err(c, "expect binding: use either 'absent' or 'count'");
	if (c->dry)
		return 0;
	q.o = &o;
	nat_table_foreach(nat_node_engine(n->obj), sim_net_now(c->net), bind_visit, &q);
	if (!q.seen[0])
		snprintf(q.seen, sizeof(q.seen), "none");
	if (absent) {
		char want[300] = "";
		for (int i = first_opt; i < st->argc; i++)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), " %s", st->argv[i]);
		ctx_expect(c, q.matched == 0, "nat %s: expected no %s binding for %s%s, found %s", n->name,
			   st->argv[3], st->argv[4], want, q.seen);
	} else if ((v = opts_get(&o, "count"))) {
		uint64_t want;
		opt_u64(c, v, &want);
		ctx_expect(c, cmp_u64(v->op, (uint64_t)q.matched, want), "nat %s: expected %s%s%s matching %s bindings for %s, found %s",
			   n->name, v->key, v->op, v->val, st->argv[3], st->argv[4], q.seen);
	} else {
		char want[300] = "";
		for (int i = first_opt; i < st->argc; i++)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), " %s", st->argv[i]);
		ctx_expect(c, q.matched > 0, "nat %s: expected a %s binding for %s%s, found %s", n->name, st->argv[3],
			   st->argv[4], want, q.seen);
	}
	return 0;
}

/* expect nat NAT [bindings OP N] [created OP N] [expired OP N] [out..] [drop.REASON OP N] */
static int e_nat(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = {
		"bindings", "created", "expired", "out", "in", "hairpin", "icmp-in", "icmp-out",
		"drop.malformed", "drop.firewall", "drop.no-mapping", "drop.filtered", "drop.table-full",
		"drop.no-port", "drop.hairpin-off", "drop.protocol", "drop.ttl",
		"alg.rewritten", "alg.unchanged", "alg.malformed", "alg.no-room", "alg.pinholes", NULL
	};
	opts o;
	sym *n;

	if (st->argc < 4)
		return ctx_err(c, "usage: expect nat NAT COUNTER OP N ... (counters: bindings, created, expired, out, in, "
			       "hairpin, icmp-in, icmp-out, drop.REASON, alg.COUNTER)");
	n = ctx_sym(c, st->argv[2], SYM_NAT);
	if (!n)
		return ctx_err(c, "no nat named '%s' is declared", st->argv[2]);
	if (!c->dry && n->obj2) {
		c->r->unchecked++;      /* the kernel's NAT (kind=linux): its table is not ours to read */
		return 0;
	}
	if (opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	for (int i = 0; i < o.n; i++) {
		const opt *v = &o.v[i];
		uint64_t got = 0;
		char what[64];
		if (!c->dry) {
			nat *e = nat_node_engine(n->obj);
			const nat_stats *s = nat_get_stats(e);
			if (!strcmp(v->key, "bindings")) {
				nat_on_timeout(e, sim_net_now(c->net));  /* count only live ones */
				got = nat_binding_count(e);
			} else if (!strcmp(v->key, "created")) got = s->created;
			else if (!strcmp(v->key, "expired")) got = s->expired;
			else if (!strcmp(v->key, "out")) got = s->out;
			else if (!strcmp(v->key, "in")) got = s->in;
			else if (!strcmp(v->key, "hairpin")) got = s->hairpin;
			else if (!strcmp(v->key, "icmp-in")) got = s->icmp_in;
			else if (!strcmp(v->key, "icmp-out")) got = s->icmp_out;
			else if (!strcmp(v->key, "alg.rewritten")) got = s->alg_rewritten;
			else if (!strcmp(v->key, "alg.unchanged")) got = s->alg_unchanged;
			else if (!strcmp(v->key, "alg.malformed")) got = s->alg_malformed;
			else if (!strcmp(v->key, "alg.no-room")) got = s->alg_no_room;
			else if (!strcmp(v->key, "alg.pinholes")) got = s->alg_pinholes;
			else {
				for (int d = 0; d < NAT_DROP__COUNT; d++)
					if (!strcmp(v->key + 5, nat_drop_name((enum nat_drop)d)))
						got = s->drop[d];
			}
		}
		snprintf(what, sizeof(what), "nat %s", n->name);
		check_count(c, what, v, got);
	}
	return 0;
}

/* expect link LINK [tx OP N] [delivered OP N] [lost OP N] [dup OP N] [noroute OP N] */
static int e_link(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "tx", "delivered", "lost", "dup", "noroute", NULL };
	opts o;
	sym *l;

	if (st->argc < 4)
		return ctx_err(c, "usage: expect link LINK tx|delivered|lost|dup|noroute OP N ...");
	l = ctx_sym(c, st->argv[2], SYM_LINK);
	if (!l)
		return ctx_err(c, "no link named '%s' is declared", st->argv[2]);
	if (opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	for (int i = 0; i < o.n; i++) {
		uint64_t got = 0;
		char what[64];
		if (!c->dry) {
			const sim_link_stats *s = sim_link_stats_get(l->obj);
			const uint64_t vals[] = { s->tx, s->delivered, s->lost, s->dup, s->noroute };
			for (int k = 0; keys[k]; k++)
				if (!strcmp(o.v[i].key, keys[k]))
					got = vals[k];
		}
		snprintf(what, sizeof(what), "link %s", l->name);
		check_count(c, what, &o.v[i], got);
	}
	return 0;
}

/* expect tcp CONN state=S [received OP N] */
static int e_tcp(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "state", "received", NULL };
	static const char *const states[] = { "connecting", "established", "peer-closed", "closed", "reset",
					      "timeout", "aborted" };
	opts o;
	const opt *v;
	sym *s;
	rconn *rc;

	if (st->argc < 4)
		return ctx_err(c, "usage: expect tcp CONNECTION [state=S] [received OP N]");
	s = ctx_sym(c, st->argv[2], SYM_TCP);
	if (!s)
		return ctx_err(c, "no connection named '%s' was opened before this line", st->argv[2]);
	if (opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "state"))) {
		bool ok = false;
		for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			ok |= !strcmp(v->val, states[i]);
		if (!opt_is_show(v) && (!ok || strcmp(v->op, "=")))
			return ctx_err(c, "state: expected state=connecting|established|peer-closed|closed|reset|timeout|aborted");
	}
	rc = s->obj;
	if (v && !c->dry && opt_is_show(v))
		show_put(c, s->name, "state", "%s", rc->state);
	else if (v && !c->dry)
		ctx_expect(c, !strcmp(rc->state, v->val), "connection %s: expected state %s, found %s", s->name,
			   v->val, rc->state);
	if ((v = opts_get(&o, "received"))) {
		char what[64];
		snprintf(what, sizeof(what), "connection %s", s->name);
		check_count(c, what, v, rc ? rc->rx_bytes : 0);
	}
	return 0;
}

/* expect accepted HOST:PORT count OP N [received OP N] */
static int e_accepted(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "count", "received", NULL };
	opts o;
	sym *h;
	uint16_t port;
	rlisten *rl;

	if (st->argc < 4)
		return ctx_err(c, "usage: expect accepted HOST:PORT count OP N [received OP N]");
	if (ctx_host_port(c, st->argv[2], &h, &port) < 0 || opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	rl = c->dry ? NULL : ctx_rlisten(c, h->name, port);
	if (!c->dry && !rl)
		return ctx_err(c, "no 'listen %s tcp' before this line", st->argv[2]);
	for (int i = 0; i < o.n; i++) {
		char what[80];
		snprintf(what, sizeof(what), "tcp listener %s", st->argv[2]);
		check_count(c, what, &o.v[i], rl ? (!strcmp(o.v[i].key, "count") ? rl->accepted : rl->rx_bytes) : 0);
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(scn_ctx *c, const scn_stmt *st);
} subjects[] = {
	{ "probe", e_probe }, { "received", e_received }, { "binding", e_binding }, { "nat", e_nat },
	{ "link", e_link }, { "tcp", e_tcp }, { "accepted", e_accepted },
	{ "phone", sip_expect_phone }, { "media", sip_expect_media }, { "proxy", sip_expect_proxy },
	{ "relay", sip_expect_relay }, { "softswitch", sip_expect_softswitch }, { "host", rhost_expect },
};

/* show probe NAME: the whole result. */
static int show_probe(scn_ctx *c, const scn_stmt *st)
{
	sym *p;
	const stun_probe_result *r;
	char t[32];

	if (st->argc != 3)
		return ctx_err(c, "usage: show probe NAME");
	p = ctx_sym(c, st->argv[2], SYM_PROBE);
	if (!p)
		return ctx_err(c, "no probe named '%s' was started before this line", st->argv[2]);
	if (c->dry)
		return 0;
	r = stun_probe_result_get(p->obj);
	if (!r->done) {
		show_put(c, p->name, "done", "no");
		return 0;
	}
	show_put(c, p->name, "mapping", "%s", stun_class_name(r->mapping));
	show_put(c, p->name, "filtering", "%s", stun_class_name(r->filtering));
	show_put(c, p->name, "hairpin", "%s", r->hairpinning ? "yes" : "no");
	show_put(c, p->name, "nat", "%s", r->nat ? "yes" : "no");
	if (r->lifetime_tested)
		show_put(c, p->name, "lifetime", "%s", tv_time_fmt(r->lifetime, t, sizeof(t)));
	return 0;
}

/* show binding NAT udp|tcp INTERNAL: every mapping of that endpoint. */
static int show_binding(scn_ctx *c, const scn_stmt *st)
{
	bind_q q = { .c = c };
	opts none = { .n = 0 };
	sym *n;
	char what[96];

	if (st->argc != 5 || (strcmp(st->argv[3], "udp") && strcmp(st->argv[3], "tcp")))
		return ctx_err(c, "usage: show binding NAT udp|tcp ADDRESS:PORT");
	n = ctx_sym(c, st->argv[2], SYM_NAT);
	if (!n)
		return ctx_err(c, "no nat named '%s' is declared", st->argv[2]);
	if (!c->dry && n->obj2) {
		c->r->unchecked++;      /* the kernel's NAT (kind=linux): its table is not ours to read */
		return 0;
	}
	q.proto = st->argv[3][0] == 'u' ? TV_PROTO_UDP : TV_PROTO_TCP;
	if (ctx_resolve(c, st->argv[4], &q.internal, false) < 0 || c->dry)
		return c->dry ? 0 : -1;
	q.o = &none;
	nat_table_foreach(nat_node_engine(n->obj), sim_net_now(c->net), bind_visit, &q);
	snprintf(what, sizeof(what), "nat %s %s %s", n->name, st->argv[3], st->argv[4]);
	show_put(c, what, "bindings", "%s", q.seen[0] ? q.seen : "none");
	return 0;
}

/* show NAME... (run-assigned names, addresses) or show SUBJECT ... KEY...
 * with the subjects and keys of expect: writes "what key=value" to the
 * report with the virtual time. as=LABEL names a single value (a column
 * of the matrix table). */
int scn_show(scn_ctx *c, const scn_stmt *st)
{
	scn_stmt sub = *st;
	const char *label = NULL;
	int rc = -1;

	if (st->argc < 2)
		return ctx_err(c, "usage: show SUBJECT ARGS KEY... [as=LABEL] | show NAME...");
	sub.argc = 0;
	for (int i = 0; i < st->argc; i++) {
		if (!strncmp(st->argv[i], "as=", 3) && i > 1) {
			label = st->argv[i] + 3;
			if (!*label || strpbrk(label, " =|"))
				return ctx_err(c, "as=LABEL: a label is a word without '=' or '|'");
			continue;
		}
		sub.argv[sub.argc++] = st->argv[i];
	}
	ctx_advance(c);
	c->show = true;
	c->show_keys = 0;
	c->showbuf[0] = '\0';
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++)
		if (!strcmp(sub.argv[1], subjects[i].name)) {
			bool whole = !strcmp(sub.argv[1], "probe") || !strcmp(sub.argv[1], "binding");
			if (label && whole)
				rc = ctx_err(c, "show %s prints several values; as= names one", sub.argv[1]);
			else if (whole)
				rc = sub.argv[1][0] == 'p' ? show_probe(c, &sub) : show_binding(c, &sub);
			else
				rc = subjects[i].fn(c, &sub);
			if (rc == 0 && !whole && c->show_keys == 0)
				rc = ctx_err(c, "show %s: name at least one value to show (a key without =)", sub.argv[1]);
			else if (rc == 0 && label && !whole && c->show_keys != 1)
				rc = ctx_err(c, "show ... as=%s names one value; this show has %d", label, c->show_keys);
			goto done;
		}
	if (label && sub.argc != 2) {
		rc = ctx_err(c, "show ... as=%s names one value; this show has %d", label, sub.argc - 1);
		goto done;
	}
	rc = 0;
	for (int i = 1; i < sub.argc && rc == 0; i++) {
		tv_ep ep;
		char e[TV_EP_STRLEN];
		rc = ctx_resolve(c, sub.argv[i], &ep, true);
		if (rc == 0 && !c->dry)
			show_put(c, NULL, sub.argv[i], "%s", ep.port ? tv_ep_fmt(&ep, e) : tv_ip_fmt(&ep.ip, e));
	}
done:
	c->show = false;
	if (rc == 0 && !c->dry)
		show_flush(c, label);
	return rc;
}

int scn_expect(scn_ctx *c, const scn_stmt *st)
{
	if (st->argc < 2)
		return ctx_err(c, "usage: expect probe|received|binding|nat|link|tcp|accepted ...");
	ctx_advance(c);
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++)
		if (!strcmp(st->argv[1], subjects[i].name))
			return subjects[i].fn(c, st);
	return ctx_err(c, "expect: unknown subject '%s' (expected probe, received, binding, nat, link, tcp, accepted, "
		       "phone, media, proxy, relay or softswitch)",
		       st->argv[1]);
}
