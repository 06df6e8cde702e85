/* sip_topo.c - topology hiding, both ways (docs/proxy.md, Security,
 * "Topology hiding"). The proxy faces the internet: a terminal must not
 * learn the core's hosts, and the core must not learn what is behind a
 * terminal's NAT.
 *
 *   Via        core -> terminal: the terminal sees only the proxy's Via;
 *              the core's lines are kept per terminal under the proxy's
 *              branch and put back, in order, on the terminal's answer.
 *              terminal -> core: Vias below the terminal's top one (a
 *              terminal behind its own proxy or B2BUA) are kept under its
 *              branch, its top Via carries PX_VIA_MARK, and the core's
 *              answer gets them back. A response whose kept stack is gone
 *              is dropped (drop.sip-via-lost).
 *   Route      the core's Record-Route is taken off (as every header of
 *              topo_hdrs[] below) and kept per leg as its route set; the
 *              terminal's in-dialog requests get it back as Route (RFC
 *              3261 12.1, 12.2.1.1: loose routing). The proxy adds no
 *              Record-Route: it stays on the path because every Contact
 *              names it.
 *   headers    topo_hdrs[]: removed, removed if they name an address, or
 *              their IPv4 addresses replaced by the proxy's own on the
 *              side they go to.
 *   Call-ID    an IPv4 host part (a core host's; a terminal's public
 *              address) is coded both ways, so the same value comes back
 *              (px_topo_callid_host).
 *
 * The table of kept stacks: PX_VIA_SLOTS per terminal (PX_VIA_SLOTS_UNTRUSTED
 * while the core has not accepted it), allocated at the first stack kept,
 * each at most PX_VIA_SAVE_MAX bytes. No timers: a slot carries its
 * deadline and is looked at lazily, and px_topo_expire() (from the
 * binding's keepalive timer) frees what has run out:
 *   a pending INVITE   Timer C (or 181 s) + 32 s after the request or its
 *                      last provisional
 *   a pending other    32 s (64*T1, Timer F)
 *   after a final      32 s, for its retransmissions (a 2xx is repeated
 *                      until the ACK, 64*T1 at most)
 * When the table is full a completed transaction's slot goes first, then
 * the oldest pending one (counted: via_table_full). */
#include "proxy_priv.h"

#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define T64 TV_SEC(32)
#define CALLID_CODE "tvc-"

/* ---- Via lines -------------------------------------------------------- */

typedef struct via_set {
	int n;
	rw_span line[PX_HDR_ITEMS + 1];         /* whole lines, CRLF included */
	rw_span name0, val0;                    /* of the first */
} via_set;

/* Every Via line of the header, in order. -1 if the header cannot be
 * walked or there is none. */
static int via_lines(const sip_rw *rw, via_set *vs)
{
	rw_span nm, v;
	size_t pos = 0;
	int rc;

	vs->n = 0;
	for (;;) {
		rc = rw_header_next(rw->buf, rw->body_off, &pos, &nm, &v);
		if (rc <= 0)
			break;
		if (!rw_name_is(rw->buf, nm, "Via", 'v'))
			continue;
		if (vs->n == PX_HDR_ITEMS + 1)
			return -1;
		if (vs->n == 0) {
			vs->name0 = nm;
			vs->val0 = v;
		}
		vs->line[vs->n++] = (rw_span){ nm.off, (uint32_t)(pos - nm.off) };
	}
	return rc < 0 || vs->n == 0 ? -1 : 0;
}

/* The end of the first value in a Via value span (before a comma outside
 * quotes, trailing blanks excluded) and where the next value starts (0:
 * none). */
static void via_first(const char *buf, rw_span val, size_t *end, size_t *rest)
{
	size_t i = val.off, e = (size_t)val.off + val.len;
	bool quote = false;

	*rest = 0;
	for (; i < e; i++) {
		if (quote) {
			if (buf[i] == '\\' && i + 1 < e)
				i++;
			else if (buf[i] == '"')
				quote = false;
		} else if (buf[i] == '"') {
			quote = true;
		} else if (buf[i] == ',') {
			break;
		}
	}
	*end = i;
	while (*end > val.off && (buf[*end - 1] == ' ' || buf[*end - 1] == '\t'))
		(*end)--;
	if (i < e) {
		i++;
		while (i < e && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		*rest = i < e ? i : 0;
	}
}

/* Replace the Via lines from index `from` on: the run of adjacent lines
 * starting there with first (a C string, copied: our Via line; or, with
 * first_len, a kept stack that outlives the rewrite), every later run
 * with nothing. */
static void via_runs(sip_rw *rw, const via_set *vs, int from, const char *first, size_t first_len)
{
	for (int i = from; i < vs->n;) {
		rw_span run = vs->line[i];
		while (++i < vs->n && vs->line[i].off == run.off + run.len)
			run.len += vs->line[i].len;
		if (first && first_len)
			rw_replace_ref(rw, run, first, first_len);
		else
			rw_replace(rw, run, first ? first : "");
		first = NULL;
	}
}

static bool put(px_hidden *h, const char *s, size_t n)
{
	if (n > sizeof(h->buf) - h->len)
		return false;
	memcpy(h->buf + h->len, s, n);
	h->len += (uint32_t)n;
	return true;
}

int px_topo_core_request(proxy *p, sip_rw *rw, const char *ours, px_hidden *h)
{
	via_set vs;

	if (via_lines(rw, &vs) < 0)
		return -1;
	h->len = 0;
	for (int i = 0; i < vs.n; i++)
		if (!put(h, rw->buf + vs.line[i].off, vs.line[i].len))
			return TV_EFULL;
	h->side = PX_CORE;
	via_runs(rw, &vs, 0, ours, 0);
	p->st.vias_hidden++;
	return rw->failed ? -1 : 0;
}

int px_topo_access_request(proxy *p, sip_rw *rw, px_hidden *h)
{
	via_set vs;
	size_t end, rest;

	if (via_lines(rw, &vs) < 0)
		return -1;
	via_first(rw->buf, vs.val0, &end, &rest);
	if (vs.n == 1 && !rest)
		return 0;
	h->len = 0;
	if (rest) {
		/* "Via: top, v2, v3": the values after the top one, as a line */
		size_t ve = (size_t)vs.val0.off + vs.val0.len;
		if (!put(h, rw->buf + vs.name0.off, vs.name0.len) || !put(h, ": ", 2) ||
		    !put(h, rw->buf + rest, ve - rest) || !put(h, "\r\n", 2))
			return TV_EFULL;
		rw_replace(rw, (rw_span){ (uint32_t)end, (uint32_t)(ve - end) }, "");
	}
	for (int i = 1; i < vs.n; i++)
		if (!put(h, rw->buf + vs.line[i].off, vs.line[i].len))
			return TV_EFULL;
	h->side = PX_ACCESS;
	via_runs(rw, &vs, 1, NULL, 0);
	p->st.vias_hidden++;
	return rw->failed ? -1 : 1;
}

int px_topo_mark(const char *buf, rw_span val, rw_span *mark)
{
	size_t end, rest, n = strlen(PX_VIA_MARK);

	via_first(buf, val, &end, &rest);
	for (size_t i = val.off; i + n <= end; i++) {
		if (buf[i] != ';' || strncasecmp(buf + i, PX_VIA_MARK, n))
			continue;
		if (i + n == end || buf[i + n] == ';' || buf[i + n] == ' ' || buf[i + n] == '\t') {
			mark->off = (uint32_t)i;
			mark->len = (uint32_t)n;
			return 1;
		}
	}
	return 0;
}

/* ---- the table of kept stacks ----------------------------------------- */

static px_via_saved *slot_find(px_binding *b, uint8_t side, uint64_t key, bool cancel, tv_time now)
{
	for (int i = 0; b->vias && i < PX_VIA_SLOTS; i++) {
		px_via_saved *e = &b->vias[i];
		if (e->vias && e->until > now && e->side == side && e->key == key && e->cancel == cancel)
			return e;
	}
	return NULL;
}

static void slot_free(px_via_saved *e)
{
	free(e->vias);
	memset(e, 0, sizeof(*e));
}

/* How long a pending INVITE's stack is kept: until Timer C would have
 * ended it (or 181 s with Timer C off), and 32 s more for its answer. */
static tv_time invite_hold(const proxy *p)
{
	return (p->cfg.timer_c ? p->cfg.timer_c : TV_SEC(181)) + T64;
}

void px_topo_keep(proxy *p, px_binding *b, const px_hidden *h, tv_time now)
{
	int cap = b->trusted ? PX_VIA_SLOTS : PX_VIA_SLOTS_UNTRUSTED;
	px_via_saved *e = NULL, *victim = NULL;
	char *copy;

	if (!h->on)
		return;
	if (!b->vias && !(b->vias = calloc(PX_VIA_SLOTS, sizeof(*b->vias))))
		return;
	/* the same transaction again (a retransmission): its slot */
	for (int i = 0; i < PX_VIA_SLOTS && !e; i++)
		if (b->vias[i].vias && b->vias[i].side == h->side && b->vias[i].key == h->key &&
		    b->vias[i].cancel == h->cancel)
			e = &b->vias[i];
	/* else a free or run-out slot, else a completed one, else the oldest */
	for (int i = 0; i < cap && !e; i++)
		if (!b->vias[i].vias || b->vias[i].until <= now)
			e = &b->vias[i];
	for (int i = 0; i < cap && !e; i++) {
		px_via_saved *c = &b->vias[i];
		if (!victim || (c->final && !victim->final) ||
		    (c->final == victim->final && c->until < victim->until))
			victim = c;
	}
	if (!e) {
		e = victim;
		if (!e->final)
			p->st.via_table_full++;
	}
	copy = realloc(e->vias, h->len ? h->len : 1);
	if (!copy) {
		slot_free(e);
		return;
	}
	memcpy(copy, h->buf, h->len);
	e->vias = copy;
	e->len = h->len;
	e->key = h->key;
	e->side = h->side;
	e->cancel = h->cancel;
	e->invite = h->invite;
	e->final = false;
	e->until = now + (h->invite ? invite_hold(p) : T64);
}

/* A response passed with this stack: keep it for the retransmissions of a
 * final one, or as long as an INVITE may still ring. */
static void slot_answered(const proxy *p, px_via_saved *e, int code, tv_time now)
{
	if (code >= 200) {
		e->final = true;
		e->until = now + T64;
	} else if (e->invite && !e->final) {
		e->until = now + invite_hold(p);
	}
}

/* No stack for a response to a CANCEL, but its INVITE has one: the CANCEL
 * was the proxy's own (Timer C), and its answer is for nobody beyond. */
static int lost(proxy *p, px_binding *b, uint8_t side, uint64_t key, bool cancel, tv_time now)
{
	if (cancel && slot_find(b, side, key, false, now))
		return 2;
	p->st.drop[PX_DROP_SIP_VIA_LOST]++;
	return 0;
}

int px_topo_core_response(proxy *p, px_binding *b, sip_rw *rw, uint64_t key, bool cancel, int code, tv_time now)
{
	px_via_saved *e = slot_find(b, PX_CORE, key, cancel, now);
	via_set vs;

	if (!e)
		return lost(p, b, PX_CORE, key, cancel, now);
	if (via_lines(rw, &vs) < 0) {
		p->st.drop[PX_DROP_SIP_MALFORMED]++;
		return 0;
	}
	/* the terminal got one Via, ours: its answer carries exactly the
	 * core's stack again, whatever else it wrote */
	via_runs(rw, &vs, 0, e->vias, e->len);
	slot_answered(p, e, code, now);
	p->st.vias_restored++;
	return 1;
}

int px_topo_access_response(proxy *p, px_binding *b, sip_rw *rw, rw_span mark, uint64_t key, bool cancel, int code,
			    tv_time now)
{
	px_via_saved *e = NULL;
	via_set vs;
	size_t end, rest;

	if (mark.len && !(e = slot_find(b, PX_ACCESS, key, cancel, now)))
		return lost(p, b, PX_ACCESS, key, cancel, now);
	if (via_lines(rw, &vs) < 0) {
		p->st.drop[PX_DROP_SIP_MALFORMED]++;
		return 0;
	}
	/* the core got one Via: anything it returned beyond it goes */
	via_first(rw->buf, vs.val0, &end, &rest);
	if (rest)
		rw_replace(rw, (rw_span){ (uint32_t)end, (uint32_t)(vs.val0.off + vs.val0.len - end) }, "");
	via_runs(rw, &vs, 1, NULL, 0);
	if (!e)
		return 1;
	rw_replace(rw, mark, "");
	rw_replace_ref(rw, (rw_span){ vs.line[0].off + vs.line[0].len, 0 }, e->vias, e->len);
	slot_answered(p, e, code, now);
	p->st.vias_restored++;
	return 1;
}

void px_topo_expire(px_binding *b, tv_time now)
{
	bool used = false;

	for (int i = 0; b->vias && i < PX_VIA_SLOTS; i++) {
		if (b->vias[i].vias && b->vias[i].until <= now)
			slot_free(&b->vias[i]);
		used |= b->vias[i].vias != NULL;
	}
	if (b->vias && !used) {
		free(b->vias);
		b->vias = NULL;
	}
}

void px_topo_free(px_binding *b)
{
	for (int i = 0; b->vias && i < PX_VIA_SLOTS; i++)
		free(b->vias[i].vias);
	free(b->vias);
	b->vias = NULL;
}

/* ---- the header table ------------------------------------------------- */

enum topo_act {
	TA_KEEP,
	TA_DROP,        /* the line goes */
	TA_DROP_ADDR,   /* the line goes if it names an IPv4 address not the proxy's */
	TA_HOSTS,       /* such addresses become the proxy's on the side it goes to */
};

/* One place: what each header becomes on its way to each side (docs/proxy.md
 * has the same table with the reasons). Via, Contact, Call-ID and the
 * Request-URI have rewrites of their own; From and To are left (RFC 3261
 * 8.1.1.2/3). */
#define NAME(n) n, sizeof(n) - 1
static const struct topo_hdr {
	const char *name;
	uint8_t len;            /* of name: compared first, every line meets the table */
	char compact;
	uint8_t to[2];          /* [PX_ACCESS], [PX_CORE] */
} topo_hdrs[] = {
	{ NAME("Record-Route"), 0, { TA_DROP, TA_DROP } },            /* the core's kept per leg as its route set */
	{ NAME("Route"), 0, { TA_DROP, TA_DROP } },                   /* the proxy routes each side itself */
	{ NAME("Path"), 0, { TA_DROP, TA_DROP } },                    /* RFC 3327: edge proxies */
	{ NAME("Service-Route"), 0, { TA_DROP, TA_DROP } },           /* RFC 3608: the core's routes */
	{ NAME("P-Asserted-Identity"), 0, { TA_DROP, TA_DROP } },     /* RFC 3325: a trust domain's boundary */
	{ NAME("Remote-Party-ID"), 0, { TA_DROP, TA_DROP } },         /* its pre-standard form */
	{ NAME("P-Charging-Vector"), 0, { TA_DROP, TA_DROP } },       /* RFC 7315: never outside the domain */
	{ NAME("P-Charging-Function-Addresses"), 0, { TA_DROP, TA_DROP } },
	{ NAME("Call-Info"), 0, { TA_DROP_ADDR, TA_DROP_ADDR } },    /* URLs the other side cannot reach */
	{ NAME("Alert-Info"), 0, { TA_DROP_ADDR, TA_DROP_ADDR } },
	{ NAME("Error-Info"), 0, { TA_DROP_ADDR, TA_DROP_ADDR } },
	{ NAME("Warning"), 0, { TA_HOSTS, TA_HOSTS } },               /* warn-agent: host of who warned */
	{ NAME("Server"), 0, { TA_HOSTS, TA_HOSTS } },
	{ NAME("User-Agent"), 0, { TA_HOSTS, TA_HOSTS } },
	{ NAME("P-Preferred-Identity"), 0, { TA_HOSTS, TA_HOSTS } },
	{ NAME("Diversion"), 0, { TA_HOSTS, TA_HOSTS } },
	{ NAME("History-Info"), 0, { TA_HOSTS, TA_HOSTS } },
	{ NAME("Reply-To"), 0, { TA_HOSTS, TA_HOSTS } },
	{ NAME("Referred-By"), 'b', { TA_HOSTS, TA_HOSTS } },
};
#undef NAME

/* An IPv4 address in val other than own: 1 with its span (from *pos on). */
static int foreign_addr(const char *buf, rw_span val, const char *own, size_t *pos, rw_span *a)
{
	size_t n = strlen(own);

	while (rw_ipv4_next(buf, val, pos, a) == 1)
		if (a->len != n || memcmp(buf + a->off, own, n))
			return 1;
	return 0;
}

/* Remove a line, merged with the run of removals it follows. */
static void drop_line(sip_rw *rw, rw_span *run, rw_span line)
{
	if (run->len && run->off + run->len == line.off) {
		run->len += line.len;
		return;
	}
	if (run->len)
		rw_replace(rw, *run, "");
	*run = line;
}

void px_topo_headers(proxy *p, sip_rw *rw, enum px_side to)
{
	const char *own = to == PX_ACCESS ? p->access_ip_s : p->core_ip_s;
	rw_span nm, v, a, run = { 0, 0 };
	size_t pos = 0;

	while (rw_header_next(rw->buf, rw->body_off, &pos, &nm, &v) == 1) {
		rw_span line = { nm.off, (uint32_t)(pos - nm.off) };
		enum topo_act act = TA_KEEP;
		size_t at = v.off;

		for (size_t i = 0; i < sizeof(topo_hdrs) / sizeof(topo_hdrs[0]) && act == TA_KEEP; i++) {
			const struct topo_hdr *t = &topo_hdrs[i];
			if ((nm.len == t->len && !strncasecmp(rw->buf + nm.off, t->name, t->len)) ||
			    (t->compact && nm.len == 1 && (rw->buf[nm.off] | 0x20) == t->compact))
				act = (enum topo_act)t->to[to];
		}
		if (act == TA_DROP || (act == TA_DROP_ADDR && foreign_addr(rw->buf, v, own, &at, &a))) {
			drop_line(rw, &run, line);
			p->st.hdrs_removed++;
		} else if (act == TA_HOSTS && foreign_addr(rw->buf, v, own, &at, &a)) {
			do
				rw_replace(rw, a, own);
			while (foreign_addr(rw->buf, v, own, &at, &a));
			p->st.hdrs_rewritten++;
		}
	}
	if (run.len)
		rw_replace(rw, run, "");
}

/* ---- the core's route set ---------------------------------------------- */

#define PX_ROUTE_VALUES 16

void px_topo_route_learn(px_leg *l, const sip_rw *rw, bool response)
{
	rw_span nm, v, vals[PX_ROUTE_VALUES], all[PX_ROUTE_VALUES];
	size_t pos = 0, n = 0;
	int nall = 0;
	char line[PX_ROUTE_MAX];

	while (rw_header_next(rw->buf, rw->body_off, &pos, &nm, &v) == 1) {
		int k;
		if (!rw_name_is(rw->buf, nm, "Record-Route", 0))
			continue;
		k = rw_values(rw->buf, v, vals, PX_ROUTE_VALUES - nall);
		if (k < 0)
			return;         /* unreadable or too long: the route set stays as it was */
		for (int i = 0; i < k; i++)
			all[nall++] = vals[i];
	}
	free(l->core_route);
	l->core_route = NULL;
	l->core_route_len = 0;
	if (!nall)
		return;
	n = (size_t)snprintf(line, sizeof(line), "Route: ");
	for (int i = 0; i < nall; i++) {
		rw_span s = all[response ? nall - 1 - i : i];
		if (n + s.len + 4 > sizeof(line))
			return;         /* too long to keep: none (documented) */
		if (i) {
			memcpy(line + n, ", ", 2);
			n += 2;
		}
		memcpy(line + n, rw->buf + s.off, s.len);
		n += s.len;
	}
	memcpy(line + n, "\r\n", 2);
	n += 2;
	l->core_route = malloc(n);
	if (!l->core_route)
		return;
	memcpy(l->core_route, line, n);
	l->core_route_len = n;
}

void px_topo_route_put(px_leg *l, sip_rw *rw)
{
	const char *nl = memchr(rw->buf, '\n', rw->body_off);

	if (l->core_route && nl)
		rw_replace_ref(rw, (rw_span){ (uint32_t)(nl + 1 - rw->buf), 0 }, l->core_route, l->core_route_len);
}

/* ---- Call-ID hosts ------------------------------------------------------ */

/* A 4-round Feistel permutation of 32 bits under key: a code that names no
 * address to whoever does not hold the key, and maps back. */
static uint32_t feistel(uint64_t key, uint32_t x, bool back)
{
	uint32_t l = x >> 16, r = x & 0xffff;

	for (int i = 0; i < 4; i++) {
		uint64_t k = key ^ ((uint64_t)(back ? 3 - i : i) << 32 | (back ? l : r));
		uint32_t f = (uint32_t)tv_splitmix64(&k) & 0xffff;
		if (back) {
			uint32_t t = l;
			l = r ^ f;
			r = t;
		} else {
			uint32_t t = r;
			r = l ^ f;
			l = t;
		}
	}
	return l << 16 | r;
}

int px_topo_callid_host(proxy *p, const char *host, char *out, size_t cap)
{
	size_t n = strlen(CALLID_CODE);
	rw_span whole = { 0, (uint32_t)strlen(host) }, a;
	size_t pos = 0;
	bool code = !strncmp(host, CALLID_CODE, n) && whole.len == n + 8 && strspn(host + n, "0123456789abcdef") == 8;
	tv_ip ip;

	if (!code && (rw_ipv4_next(host, whole, &pos, &a) != 1 || a.off != 0 || a.len != whole.len ||
		      tv_ip_parse(host, &ip) < 0 || ip.af != TV_AF_INET))
		return 0;
	if (!p->callid_key)             /* drawn when first needed: runs without it keep their random sequence */
		p->callid_key = tv_rng_next(host_rng(p->h)) | 1;
	if (code) {
		ip = tv_ip4(feistel(p->callid_key, (uint32_t)strtoul(host + n, NULL, 16), true));
		tv_ip_fmt(&ip, out);
	} else {
		snprintf(out, cap, CALLID_CODE "%08x", feistel(p->callid_key, ip.v4, false));
	}
	return 1;
}
