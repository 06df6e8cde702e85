/* nat.c - the NAT/firewall engine. See nat.h for the contract.
 *
 * Data model: a binding (struct nat_map) maps an internal endpoint (and,
 * for address[-and-port]-dependent mapping, the remote address[/port]) to
 * an external endpoint. Two indexes:
 *   by_ext: (proto, ext ip, ext port)  -> binding     (inbound lookup)
 *   by_int: (proto, int ip, int port)  -> chain of bindings of that endpoint
 * Each binding keeps the remotes it has sent to (its filter list), used by
 * address-dependent and address-and-port-dependent filtering.
 *
 * TCP: the per-remote list of a TCP binding is a list of connections
 * (struct nat_conn, one per remote endpoint), each with its own state
 * (syn, established, closing) and its own expiry (RFC 5382 REQ-5: the
 * idle timeout is per connection). One binding carries several
 * connections under endpoint-independent or address-dependent mapping; it
 * lives while any of them does: its expiry is the latest of theirs. A
 * connection whose expiry has passed is gone (a packet for it starts a new
 * one; its slot is reused). Filtering admits a remote while a live
 * connection to it has been sent on within that connection's timeout.
 *
 * Timers: one lazy min-heap of (deadline, binding). Every binding has
 * exactly one heap entry. When an entry comes due, a binding whose expiry
 * moved later is re-queued; an expired binding is unlinked and freed.
 * Lookups check expiry themselves; an expired binding found by a lookup is
 * unlinked at once and freed when its heap entry comes due. */
#include "nat.h"
#include "nat_alg_sip.h"
#include "map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum map_state {
	MS_UDP_NEW,             /* outbound only so far */
	MS_UDP_STREAM,          /* inbound seen: stream timer */
	MS_TCP_SYN,             /* transitory: opening */
	MS_TCP_EST,
	MS_TCP_FIN,             /* transitory: closing (FIN or RST seen) */
	MS_ICMP,
	MS_UDP_REPLIED,         /* inbound seen, still on the unreplied timer */
};

static const char *const map_state_names[] = {
	[MS_UDP_NEW] = "unreplied", [MS_UDP_STREAM] = "stream",
	[MS_TCP_SYN] = "syn", [MS_TCP_EST] = "established",
	[MS_TCP_FIN] = "closing", [MS_ICMP] = "icmp",
	[MS_UDP_REPLIED] = "replied",
};

typedef struct nat_filt {
	uint32_t ip;
	uint16_t port;
	uint8_t cstate, cflags;         /* TCP only: connection state, CF_* */
	tv_time last_out;
} nat_filt;

enum { CF_SYN_OUT = 1, CF_SYN_IN = 2, CF_SENT = 4 };   /* SENT: last_out is valid */

/* A TCP binding's per-remote record: the filter entry plus the connection's
 * own expiry. UDP and ICMP bindings keep plain nat_filt entries. */
typedef struct nat_conn {
	nat_filt f;
	tv_time expires;
} nat_conn;

#define FILT_INLINE 2
#define CONN_INLINE (sizeof(nat_filt) * FILT_INLINE / sizeof(nat_conn))
_Static_assert(CONN_INLINE >= 1, "a TCP binding holds one connection inline");
#define RECS_MAX 4096                   /* per binding: keep the list bounded */

typedef struct nat_map {
	uint32_t in_ip, ext_ip, rem_ip;
	uint16_t in_port, ext_port, rem_port;
	uint8_t proto, state;   /* state: UDP and ICMP; TCP state is per connection */
	bool dead;              /* unlinked; freed when its heap entry pops */
	uint16_t nfilt, capfilt;        /* entries of filt (conn for TCP) */
	uint32_t alg_peer;              /* opened by the SIP ALG for media: this
					 * address may send in from any port, and
					 * the binding serves any remote */
	struct nat_map *next_int;       /* chain in by_int */
	tv_time created, last_out;
	tv_time expires;                /* TCP: the latest expiry of its connections */
	uint64_t pkts_out, pkts_in;
	union {                         /* points at the inline array or the heap */
		nat_filt *filt;         /* UDP, ICMP */
		nat_conn *conn;         /* TCP */
	};
	union {
		nat_filt filt_inline[FILT_INLINE];
		nat_conn conn_inline[CONN_INLINE];
	};
} nat_map;

typedef struct heap_ent {
	tv_time when;
	nat_map *m;
} heap_ent;

typedef struct port_pool {
	uint64_t used[2][65536 / 64];   /* [udp,tcp] bitmap */
	uint16_t cursor[2];
} port_pool;

struct nat {
	nat_cfg cfg;
	tv_rng rng;
	tv_map by_ext, by_int;
	uint32_t count;
	heap_ent *heap;
	size_t nheap, capheap;
	port_pool *pools[NAT_MAX_PUB];
	nat_stats st;
	uint32_t rr;                    /* arbitrary pooling: round robin */
	bool full;                      /* fault: table full */
	char *alg_buf;                  /* alg=sip: PKT_UDP_DATA_MAX bytes of scratch */
};

/* ---- configuration ---------------------------------------------------- */

void nat_cfg_default(nat_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mapping = NAT_EI;
	cfg->filtering = NAT_APD;
	cfg->ports = NAT_PORT_PRESERVE;
	cfg->pool = NAT_POOL_PAIRED;
	cfg->port_lo = 1024;
	cfg->port_hi = 65535;
	cfg->udp_timeout = TV_SEC(120);
	cfg->udp_stream_timeout = TV_SEC(120);
	cfg->tcp_established = TV_SEC(2 * 3600 + 4 * 60);
	cfg->tcp_transitory = TV_SEC(4 * 60);
	cfg->refresh = NAT_REFRESH_OUTBOUND;
	cfg->hairpin = true;
	cfg->alg_port = 5060;
}

static const struct {
	const char *name;
	int unreplied, stream;
	int stream_after;       /* seconds; 0: the first reply */
} udp_presets[] = {
	{ "linux", 30, 120, 2 }, { "openwrt", 60, 180, 0 }, { "rfc4787", 120, 120, 0 },
};

int nat_cfg_udp_preset(nat_cfg *cfg, const char *name)
{
	for (size_t i = 0; i < sizeof(udp_presets) / sizeof(udp_presets[0]); i++) {
		if (strcmp(name, udp_presets[i].name) == 0) {
			cfg->udp_timeout = TV_SEC(udp_presets[i].unreplied);
			cfg->udp_stream_timeout = TV_SEC(udp_presets[i].stream);
			cfg->udp_stream_after = TV_SEC(udp_presets[i].stream_after);
			return 0;
		}
	}
	return TV_EINVAL;
}

static const char *const behav_names[] = {
	[NAT_EI] = "endpoint-independent",
	[NAT_AD] = "address-dependent",
	[NAT_APD] = "address-and-port-dependent",
};

static const struct {
	const char *name;
	enum nat_behav b;
} behav_aliases[] = {
	{ "eim", NAT_EI }, { "eif", NAT_EI }, { "ei", NAT_EI },
	{ "adm", NAT_AD }, { "adf", NAT_AD }, { "ad", NAT_AD },
	{ "apdm", NAT_APD }, { "apdf", NAT_APD }, { "apd", NAT_APD },
	{ "endpoint-independent", NAT_EI }, { "address-dependent", NAT_AD },
	{ "address-and-port-dependent", NAT_APD },
};

const char *nat_behav_name(enum nat_behav b) { return behav_names[b]; }

int nat_behav_parse(const char *s, enum nat_behav *out)
{
	for (size_t i = 0; i < sizeof(behav_aliases) / sizeof(behav_aliases[0]); i++) {
		if (strcmp(s, behav_aliases[i].name) == 0) {
			*out = behav_aliases[i].b;
			return 0;
		}
	}
	return TV_EINVAL;
}

static const char *const drop_names[NAT_DROP__COUNT] = {
	[NAT_DROP_MALFORMED] = "malformed", [NAT_DROP_FIREWALL] = "firewall",
	[NAT_DROP_NO_MAPPING] = "no-mapping", [NAT_DROP_FILTERED] = "filtered",
	[NAT_DROP_TABLE_FULL] = "table-full", [NAT_DROP_NO_PORT] = "no-port",
	[NAT_DROP_HAIRPIN_OFF] = "hairpin-off", [NAT_DROP_PROTO] = "protocol",
	[NAT_DROP_TTL] = "ttl",
};

const char *nat_drop_name(enum nat_drop d) { return d < NAT_DROP__COUNT ? drop_names[d] : "?"; }

/* ---- life cycle ------------------------------------------------------- */

nat *nat_new(const nat_cfg *cfg, uint64_t seed, char *err, size_t errlen)
{
	nat *n;

	if (cfg->npub < 1 || cfg->npub > NAT_MAX_PUB) {
		snprintf(err, errlen, "a NAT needs 1 to %d public addresses", NAT_MAX_PUB);
		return NULL;
	}
	if (cfg->port_lo == 0 || cfg->port_lo > cfg->port_hi) {
		snprintf(err, errlen, "bad public port range %u-%u", cfg->port_lo, cfg->port_hi);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->cfg = *cfg;
	tv_rng_seed(&n->rng, seed);
	tv_map_init(&n->by_ext);
	tv_map_init(&n->by_int);
	if (cfg->alg == NAT_ALG_SIP && !(n->alg_buf = malloc(PKT_UDP_DATA_MAX))) {
		nat_free(n);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < cfg->npub; i++) {
		n->pools[i] = calloc(1, sizeof(port_pool));
		if (!n->pools[i]) {
			nat_free(n);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		n->pools[i]->cursor[0] = n->pools[i]->cursor[1] = cfg->port_lo;
	}
	return n;
}

static void map_free(nat_map *m)
{
	if (m->filt != m->filt_inline)  /* conn_inline shares the address */
		free(m->filt);
	free(m);
}

static void flush_all(nat *n)
{
	for (size_t i = 0; i < n->nheap; i++)
		map_free(n->heap[i].m);
	n->nheap = 0;
	n->st.flushed += n->count;
	n->count = 0;
	tv_map_free(&n->by_ext);
	tv_map_free(&n->by_int);
	for (int i = 0; i < n->cfg.npub; i++)
		if (n->pools[i])
			memset(n->pools[i]->used, 0, sizeof(n->pools[i]->used));
}

void nat_free(nat *n)
{
	if (!n)
		return;
	flush_all(n);
	free(n->heap);
	free(n->alg_buf);
	for (int i = 0; i < NAT_MAX_PUB; i++)
		free(n->pools[i]);
	free(n);
}

const nat_cfg *nat_get_cfg(const nat *n) { return &n->cfg; }
const nat_stats *nat_get_stats(const nat *n) { return &n->st; }
uint32_t nat_binding_count(const nat *n) { return n->count; }
void nat_set_max_bindings(nat *n, uint32_t max) { n->cfg.max_bindings = max; }
void nat_set_table_full(nat *n, bool full) { n->full = full; }

int nat_add_rule(nat *n, const nat_rule *r)
{
	if (n->cfg.nrules == NAT_MAX_RULES)
		return TV_EFULL;
	n->cfg.rules[n->cfg.nrules++] = *r;
	return 0;
}

/* ---- keys, ports, heap ------------------------------------------------ */

static int proto_idx(uint8_t proto) { return proto == TV_PROTO_TCP; }

static uint64_t ext_key(uint8_t proto, uint32_t ip, uint16_t port)
{
	return (uint64_t)proto << 48 | (uint64_t)ip << 16 | port;
}

static int pub_index(const nat *n, uint32_t ip)
{
	for (int i = 0; i < n->cfg.npub; i++)
		if (n->cfg.pub[i].v4 == ip)
			return i;
	return -1;
}

static bool port_used(const port_pool *p, int pi, uint16_t port)
{
	return p->used[pi][port >> 6] >> (port & 63) & 1;
}

static void port_set(port_pool *p, int pi, uint16_t port, bool on)
{
	if (on)
		p->used[pi][port >> 6] |= 1ULL << (port & 63);
	else
		p->used[pi][port >> 6] &= ~(1ULL << (port & 63));
}

static bool port_ok(const nat *n, const port_pool *p, int pi, uint32_t port, uint16_t want_parity)
{
	if (port < n->cfg.port_lo || port > n->cfg.port_hi || port_used(p, pi, (uint16_t)port))
		return false;
	return !n->cfg.parity || (port & 1) == want_parity;
}

/* Pick a free public port on pool p. Returns 0 if the range is exhausted. */
static uint16_t port_pick(nat *n, port_pool *p, int pi, uint16_t in_port)
{
	uint32_t lo = n->cfg.port_lo, span = (uint32_t)n->cfg.port_hi - lo + 1;
	uint16_t parity = in_port & 1;
	uint32_t start;

	switch (n->cfg.ports) {
	case NAT_PORT_PRESERVE:
		if (port_ok(n, p, pi, in_port, parity))
			return in_port;
		start = p->cursor[pi];
		break;
	case NAT_PORT_RANDOM:
		for (int tries = 0; tries < 32; tries++) {
			uint32_t c = lo + tv_rng_below(&n->rng, span);
			if (port_ok(n, p, pi, c, parity))
				return (uint16_t)c;
		}
		start = lo + tv_rng_below(&n->rng, span);
		break;
	default:
		start = p->cursor[pi];
		break;
	}
	/* Sequential scan from the cursor, wrapping once: O(range) worst case,
	 * fine for a simulator; the bitmap makes each step one bit test. */
	for (uint32_t i = 0; i < span; i++) {
		uint32_t c = lo + (start - lo + i) % span;
		if (port_ok(n, p, pi, c, parity)) {
			p->cursor[pi] = (uint16_t)(c == n->cfg.port_hi ? lo : c + 1);
			return (uint16_t)c;
		}
	}
	return 0;
}

static int heap_push(nat *n, tv_time when, nat_map *m)
{
	size_t i;

	if (n->nheap == n->capheap) {
		size_t nc = n->capheap ? n->capheap * 2 : 64;
		heap_ent *nh = realloc(n->heap, nc * sizeof(*nh));
		if (!nh)
			return TV_ENOMEM;
		n->heap = nh;
		n->capheap = nc;
	}
	i = n->nheap++;
	while (i > 0 && n->heap[(i - 1) / 2].when > when) {
		n->heap[i] = n->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	n->heap[i].when = when;
	n->heap[i].m = m;
	return 0;
}

/* m->expires moved earlier: move m's heap entry up to it, so that it
 * never comes due after the binding expires (nat_next_wake and the sweep
 * in map_create rely on that). Linear search: only when the connection
 * that held a TCP binding's expiry closes. */
static void heap_advance(nat *n, nat_map *m)
{
	size_t i;

	for (i = 0; i < n->nheap && n->heap[i].m != m; i++)
		;
	if (i == n->nheap || n->heap[i].when <= m->expires)
		return;
	while (i > 0 && n->heap[(i - 1) / 2].when > m->expires) {
		n->heap[i] = n->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	n->heap[i].when = m->expires;
	n->heap[i].m = m;
}

static heap_ent heap_pop(nat *n)
{
	heap_ent top = n->heap[0], last = n->heap[--n->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n->nheap)
			break;
		if (c + 1 < n->nheap && n->heap[c + 1].when < n->heap[c].when)
			c++;
		if (n->heap[c].when >= last.when)
			break;
		n->heap[i] = n->heap[c];
		i = c;
	}
	if (n->nheap)
		n->heap[i] = last;
	return top;
}

/* ---- bindings --------------------------------------------------------- */

static tv_time map_timeout(const nat *n, const nat_map *m)
{
	switch (m->state) {
	case MS_UDP_NEW:
	case MS_UDP_REPLIED:
	case MS_ICMP:
		return n->cfg.udp_timeout;
	case MS_UDP_STREAM:
		return n->cfg.udp_stream_timeout;
	case MS_TCP_EST:
		return n->cfg.tcp_established;
	default:
		return n->cfg.tcp_transitory;
	}
}

static void map_unlink(nat *n, nat_map *m)
{
	uint64_t ik = ext_key(m->proto, m->in_ip, m->in_port);
	nat_map *head = tv_map_get(&n->by_int, ik);
	int pi = pub_index(n, m->ext_ip);

	if (m->dead)
		return;
	m->dead = true;
	tv_map_del(&n->by_ext, ext_key(m->proto, m->ext_ip, m->ext_port));
	if (head == m) {
		if (m->next_int)
			tv_map_put(&n->by_int, ik, m->next_int);
		else
			tv_map_del(&n->by_int, ik);
	} else {
		for (nat_map **pp = &head->next_int; *pp; pp = &(*pp)->next_int) {
			if (*pp == m) {
				*pp = m->next_int;
				break;
			}
		}
	}
	if (pi >= 0)
		port_set(n->pools[pi], proto_idx(m->proto), m->ext_port, false);
	n->count--;
}

static void map_expire(nat *n, nat_map *m)
{
	if (m->dead)
		return;
	map_unlink(n, m);
	n->st.expired++;
}

/* Live binding of internal endpoint (in_ip, in_port) for remote (rip, rport),
 * under the NAT's mapping behaviour. */
static nat_map *find_out(nat *n, tv_time now, uint8_t proto, uint32_t in_ip, uint16_t in_port,
			 uint32_t rip, uint16_t rport)
{
	nat_map *m = tv_map_get(&n->by_int, ext_key(proto, in_ip, in_port));

	while (m) {
		nat_map *next = m->next_int;
		if (m->expires <= now) {
			map_expire(n, m);
		} else if (n->cfg.mapping == NAT_EI || m->alg_peer ||
			   (m->rem_ip == rip && (n->cfg.mapping == NAT_AD || m->rem_port == rport))) {
			return m;
		}
		m = next;
	}
	return NULL;
}

static nat_map *find_in(nat *n, tv_time now, uint8_t proto, uint32_t ext_ip, uint16_t ext_port)
{
	nat_map *m = tv_map_get(&n->by_ext, ext_key(proto, ext_ip, ext_port));

	if (m && m->expires <= now) {
		map_expire(n, m);
		return NULL;
	}
	return m;
}

static int map_create(nat *n, tv_time now, uint8_t proto, uint32_t in_ip, uint16_t in_port,
		      uint32_t rip, uint16_t rport, nat_map **out)
{
	int pi, idx = proto_idx(proto);
	uint16_t port;
	nat_map *m;

	/* Expired bindings still hold a slot and a port until their heap
	 * entry pops: free them first, so that whether this packet gets a
	 * binding (and which port) does not depend on when the sweep ran. */
	nat_on_timeout(n, now);
	if (n->full || (n->cfg.max_bindings && n->count >= n->cfg.max_bindings))
		return NAT_DROP_TABLE_FULL;
	if (n->cfg.pool == NAT_POOL_PAIRED || n->cfg.npub == 1)
		pi = (int)(tv_hash64(in_ip) % (uint64_t)n->cfg.npub);
	else
		pi = (int)(n->rr++ % (uint32_t)n->cfg.npub);
	port = port_pick(n, n->pools[pi], idx, in_port);
	if (port == 0)
		return NAT_DROP_NO_PORT;
	m = calloc(1, sizeof(*m));
	if (!m || heap_push(n, now, m) < 0) {
		free(m);
		return NAT_DROP_TABLE_FULL;
	}
	m->proto = proto;
	m->in_ip = in_ip;
	m->in_port = in_port;
	m->ext_ip = n->cfg.pub[pi].v4;
	m->ext_port = port;
	if (n->cfg.mapping != NAT_EI) {
		m->rem_ip = rip;
		m->rem_port = n->cfg.mapping == NAT_APD ? rport : 0;
	}
	m->state = proto == TV_PROTO_UDP ? MS_UDP_NEW : proto == TV_PROTO_TCP ? MS_TCP_SYN : MS_ICMP;
	m->created = now;
	m->expires = now;       /* set by the caller's refresh */
	if (proto == TV_PROTO_TCP) {
		m->conn = m->conn_inline;
		m->capfilt = CONN_INLINE;
	} else {
		m->filt = m->filt_inline;
		m->capfilt = FILT_INLINE;
	}
	port_set(n->pools[pi], idx, port, true);
	tv_map_put(&n->by_ext, ext_key(proto, m->ext_ip, port), m);
	m->next_int = tv_map_get(&n->by_int, ext_key(proto, in_ip, in_port));
	tv_map_put(&n->by_int, ext_key(proto, in_ip, in_port), m);
	n->count++;
	n->st.created++;
	*out = m;
	return 0;
}

/* Make room for one more entry of size sz in m's per-remote list. False
 * if the list is at its bound (oldest entries still work) or out of memory. */
static bool recs_grow(nat_map *m, size_t sz)
{
	uint16_t nc = (uint16_t)(m->capfilt * 2);
	void *nf;

	if (m->nfilt < m->capfilt)
		return true;
	if (nc > RECS_MAX)
		return false;
	nf = malloc(nc * sz);
	if (!nf)
		return false;
	memcpy(nf, m->filt, m->nfilt * sz);
	if (m->filt != m->filt_inline)
		free(m->filt);
	m->filt = nf;
	m->capfilt = nc;
	return true;
}

static void filt_note(nat_map *m, uint32_t rip, uint16_t rport, tv_time now)
{
	for (uint16_t i = 0; i < m->nfilt; i++) {
		if (m->filt[i].ip == rip && m->filt[i].port == rport) {
			m->filt[i].last_out = now;
			return;
		}
	}
	if (!recs_grow(m, sizeof(nat_filt)))
		return;
	m->filt[m->nfilt].ip = rip;
	m->filt[m->nfilt].port = rport;
	m->filt[m->nfilt].last_out = now;
	m->nfilt++;
}

/* Inbound filtering (REQ-8): has this binding sent to the remote, recently
 * enough that the permission has not expired? */
static bool filt_allows(const nat *n, const nat_map *m, uint32_t rip, uint16_t rport, tv_time now)
{
	tv_time life = map_timeout(n, m);

	if (n->cfg.filtering == NAT_EI || (m->alg_peer && m->alg_peer == rip))
		return true;
	for (uint16_t i = 0; i < m->nfilt; i++) {
		if (m->filt[i].ip != rip || m->filt[i].last_out + life <= now)
			continue;
		if (n->cfg.filtering == NAT_AD || m->filt[i].port == rport)
			return true;
	}
	return false;
}

/* ---- TCP connections -------------------------------------------------- */

static tv_time conn_timeout(const nat *n, uint8_t cstate)
{
	return cstate == MS_TCP_EST ? n->cfg.tcp_established : n->cfg.tcp_transitory;
}

/* The live connection of TCP binding m with remote (rip, rport). With
 * create, a missing or expired one is started afresh ("syn", nothing seen,
 * expiring now: the caller's packet sets its timer), in the slot of an
 * expired connection if there is one. NULL: none (or the list is full). */
static nat_conn *conn_get(nat_map *m, uint32_t rip, uint16_t rport, tv_time now, bool create)
{
	nat_conn *c = NULL, *expired = NULL;

	for (uint16_t i = 0; i < m->nfilt; i++) {
		nat_conn *x = &m->conn[i];
		if (x->f.ip == rip && x->f.port == rport) {
			c = x;
			break;
		}
		if (!expired && x->expires <= now)
			expired = x;
	}
	if (c && c->expires > now)
		return c;
	if (!create)
		return NULL;
	if (!c)
		c = expired;
	if (!c) {
		if (!recs_grow(m, sizeof(nat_conn)))
			return NULL;
		c = &m->conn[m->nfilt++];
	}
	*c = (nat_conn){ .f = { .ip = rip, .port = rport, .cstate = MS_TCP_SYN }, .expires = now };
	return c;
}

static void conn_track(nat_conn *c, uint8_t flags, enum nat_dir dir)
{
	if (flags & TCP_RST) {
		c->f.cstate = MS_TCP_FIN;
		return;
	}
	if (flags & TCP_SYN) {
		if (c->f.cstate == MS_TCP_FIN) {        /* a new connection, same endpoints */
			c->f.cstate = MS_TCP_SYN;
			c->f.cflags &= (uint8_t)~(CF_SYN_OUT | CF_SYN_IN);
		}
		c->f.cflags |= dir == NAT_OUT ? CF_SYN_OUT : CF_SYN_IN;
		if (c->f.cstate == MS_TCP_SYN && (c->f.cflags & (CF_SYN_OUT | CF_SYN_IN)) == (CF_SYN_OUT | CF_SYN_IN))
			c->f.cstate = MS_TCP_EST;
	}
	if (flags & TCP_FIN)
		c->f.cstate = MS_TCP_FIN;
}

/* Set connection c's expiry to e. The binding's expiry is the latest of
 * its connections'; when it moves earlier, its heap entry follows. */
static void conn_set_expiry(nat *n, nat_map *m, nat_conn *c, tv_time e)
{
	tv_time old = c->expires, latest;

	c->expires = e;
	if (e >= old) {
		if (e > m->expires)
			m->expires = e;
		return;
	}
	if (old < m->expires)
		return;                 /* another connection holds the binding */
	latest = e;
	for (uint16_t i = 0; i < m->nfilt; i++)
		if (m->conn[i].expires > latest)
			latest = m->conn[i].expires;
	m->expires = latest;
	heap_advance(n, m);
}

/* Refresh: now + the state's timeout, never earlier than it was. */
static void conn_refresh(nat *n, nat_map *m, nat_conn *c, tv_time now)
{
	tv_time e = now + conn_timeout(n, c->f.cstate);

	if (e > c->expires)
		conn_set_expiry(n, m, c, e);
}

/* Filtering for TCP: as filt_allows, from the live connections sent on. */
static bool conn_allows(const nat *n, const nat_map *m, uint32_t rip, uint16_t rport, tv_time now)
{
	if (n->cfg.filtering == NAT_EI)
		return true;
	for (uint16_t i = 0; i < m->nfilt; i++) {
		const nat_conn *c = &m->conn[i];
		if (c->f.ip != rip || !(c->f.cflags & CF_SENT) || c->expires <= now ||
		    c->f.last_out + conn_timeout(n, c->f.cstate) <= now)
			continue;
		if (n->cfg.filtering == NAT_AD || c->f.port == rport)
			return true;
	}
	return false;
}

/* Outbound TCP packet to (rip, rport) on m: its connection (new if need
 * be) sees the flags, is sent on, and is refreshed - or, closing, set to
 * the transitory timer from now (which may shorten it). */
static void conn_out(nat *n, nat_map *m, uint32_t rip, uint16_t rport, uint8_t flags, tv_time now)
{
	nat_conn *c = conn_get(m, rip, rport, now, true);

	if (!c)
		return;         /* list full: forwarded, not tracked */
	conn_track(c, flags, NAT_OUT);
	c->f.cflags |= CF_SENT;
	c->f.last_out = now;
	if (c->f.cstate == MS_TCP_FIN)
		conn_set_expiry(n, m, c, now + n->cfg.tcp_transitory);
	else
		conn_refresh(n, m, c, now);
}

/* Inbound TCP packet from (rip, rport), past the filter. A SYN may start a
 * connection; other packets only touch an existing live one. A FIN or RST
 * from outside makes it transitory from now as one from inside does; a SYN
 * (the handshake) and, under refresh "both", anything refreshes it. */
static void conn_in(nat *n, nat_map *m, uint32_t rip, uint16_t rport, uint8_t flags, tv_time now)
{
	nat_conn *c = conn_get(m, rip, rport, now, flags & TCP_SYN);

	if (c) {
		bool was_closing = c->f.cstate == MS_TCP_FIN;
		conn_track(c, flags, NAT_IN);
		if (!was_closing && c->f.cstate == MS_TCP_FIN)
			conn_set_expiry(n, m, c, now + n->cfg.tcp_transitory);
		if (n->cfg.refresh == NAT_REFRESH_BOTH || (flags & TCP_SYN))
			conn_refresh(n, m, c, now);
	}
	/* Refreshing on inbound traffic also renews the permissions that let
	 * it in (an expired connection's is never looked at again). */
	if (n->cfg.refresh == NAT_REFRESH_BOTH)
		for (uint16_t i = 0; i < m->nfilt; i++) {
			nat_conn *x = &m->conn[i];
			if (x->f.ip == rip && (x->f.cflags & CF_SENT) &&
			    (n->cfg.filtering != NAT_APD || x->f.port == rport))
				x->f.last_out = now;
		}
}

/* A TCP binding's state: established if any live connection is, else syn
 * if any is opening, else closing. */
static uint8_t conn_summary(const nat_map *m, tv_time now)
{
	uint8_t st = MS_TCP_FIN;

	for (uint16_t i = 0; i < m->nfilt; i++) {
		const nat_conn *c = &m->conn[i];
		if (c->expires <= now)
			continue;
		if (c->f.cstate == MS_TCP_EST)
			return MS_TCP_EST;
		if (c->f.cstate == MS_TCP_SYN)
			st = MS_TCP_SYN;
	}
	return st;
}

/* UDP binding states, after a packet accepted in direction dir:
 *
 *   udp_stream_after == 0:  unreplied --in--> stream
 *   udp_stream_after > 0:   unreplied --in--> replied --any, late--> stream
 *
 * A packet is late when it comes more than udp_stream_after after the
 * binding's creation. This is the Linux conntrack rule: a flow is put on
 * the long timer only by a packet, either way, that comes after its first
 * reply and past its first two seconds; a bare request/response exchange
 * keeps the short one, and so does a first reply that comes late (the
 * kernel marks a flow replied only after the reply has been handled). */
static uint8_t udp_next(const nat *n, const nat_map *m, enum nat_dir dir, tv_time now)
{
	bool late = now - m->created > n->cfg.udp_stream_after;

	switch (m->state) {
	case MS_UDP_NEW:
		if (dir == NAT_OUT)
			return MS_UDP_NEW;
		return n->cfg.udp_stream_after == 0 ? MS_UDP_STREAM : MS_UDP_REPLIED;
	case MS_UDP_REPLIED:
		return late ? MS_UDP_STREAM : MS_UDP_REPLIED;
	default:
		return m->state;
	}
}

static void refresh(nat *n, nat_map *m, tv_time now)
{
	tv_time e = now + map_timeout(n, m);

	if (e > m->expires)
		m->expires = e;
}

/* ---- firewall --------------------------------------------------------- */

static bool fw_allows(const nat *n, enum nat_dir dir, const pkt_info *pi)
{
	for (int i = 0; i < n->cfg.nrules; i++) {
		const nat_rule *r = &n->cfg.rules[i];
		if (!(r->dir & dir) || (r->proto && r->proto != pi->proto))
			continue;
		if ((pi->src.ip.v4 & r->src_mask) != r->src || (pi->dst.ip.v4 & r->dst_mask) != r->dst)
			continue;
		if (pi->src.port < r->sport_lo || pi->src.port > r->sport_hi ||
		    pi->dst.port < r->dport_lo || pi->dst.port > r->dport_hi)
			continue;
		return r->allow;
	}
	return true;
}

/* ---- translation ------------------------------------------------------ */

static int drop(nat *n, enum nat_drop why)
{
	n->st.drop[why]++;
	return -1 - (int)why;
}

static void ttl_dec(uint8_t *pkt)
{
	uint16_t old = pkt_get16(pkt + 8);

	pkt[8]--;
	pkt_put16(pkt + 10, pkt_csum_update16(pkt_get16(pkt + 10), old, pkt_get16(pkt + 8)));
}

/* ICMP errors carry the start of the packet that caused them. Translate the
 * outer destination and the quoted packet's source (inbound) for the binding
 * it names; the binding's state and timers are left alone (REQ-12). */
static int icmp_error(nat *n, tv_time now, enum nat_dir dir, uint8_t *pkt, pkt_info *pi)
{
	uint8_t *q = pkt + pi->data_off;
	size_t qlen = pi->data_len, qhl;
	uint32_t qsrc, qdst;
	uint16_t qsport, qdport;
	uint8_t qproto;
	nat_map *m;
	uint8_t *l4 = pkt + pi->l4_off;
	size_t l4len = (size_t)pi->ip_len - pi->l4_off;

	if (pi->icmp_type != ICMP_UNREACH && pi->icmp_type != ICMP_TIMXCEED)
		return drop(n, NAT_DROP_PROTO);
	if (qlen < IP4_HDR + 8 || (q[0] >> 4) != 4)
		return drop(n, NAT_DROP_MALFORMED);
	qhl = (size_t)(q[0] & 15) * 4;
	if (qhl < IP4_HDR || qlen < qhl + 8)
		return drop(n, NAT_DROP_MALFORMED);
	qproto = q[9];
	if (qproto != TV_PROTO_UDP && qproto != TV_PROTO_TCP)
		return drop(n, NAT_DROP_PROTO);
	qsrc = pkt_get32(q + 12);
	qdst = pkt_get32(q + 16);
	qsport = pkt_get16(q + qhl);
	qdport = pkt_get16(q + qhl + 2);
	if (dir == NAT_IN) {
		/* The quoted packet went out from our external endpoint. */
		m = find_in(n, now, qproto, qsrc, qsport);
		if (!m)
			return drop(n, NAT_DROP_NO_MAPPING);
		pkt_put32(q + 12, m->in_ip);
		pkt_put16(q + qhl, m->in_port);
		tv_ep d = tv_ep4(m->in_ip, 0);
		pkt_rewrite_dst(pkt, pi, &d);
		n->st.icmp_in++;
	} else {
		/* The quoted packet came in to the internal endpoint. */
		m = find_out(n, now, qproto, qdst, qdport, qsrc, qsport);
		if (!m)
			return drop(n, NAT_DROP_NO_MAPPING);
		pkt_put32(q + 16, m->ext_ip);
		pkt_put16(q + qhl + 2, m->ext_port);
		tv_ep s = tv_ep4(m->ext_ip, 0);
		pkt_rewrite_src(pkt, pi, &s);
		n->st.icmp_out++;
	}
	/* The quoted header's checksum and the ICMP checksum are recomputed. */
	pkt_put16(q + 10, 0);
	pkt_put16(q + 10, pkt_csum_fold(pkt_csum_add(0, q, qhl)));
	pkt_put16(l4 + 2, 0);
	pkt_put16(l4 + 2, pkt_csum_fold(pkt_csum_add(0, l4, l4len)));
	return dir == NAT_IN ? NAT_IN : NAT_OUT;
}

/* ---- SIP ALG ---------------------------------------------------------- */

typedef struct alg_media {
	nat *n;
	tv_time now;
	uint32_t in_ip, peer;
} alg_media;

/* A media port named in outbound SDP: its binding and its RTCP neighbour's,
 * opened now if need be (a pinhole), admitting the signalling peer's
 * address from any port (Linux's expectation with sip_direct_media). */
static int alg_media_map(void *arg, uint16_t in_port, uint16_t *ext)
{
	alg_media *a = arg;
	nat *n = a->n;

	for (int k = 0; k < 2; k++) {
		uint16_t p = (uint16_t)(in_port + k);
		nat_map *m;
		if (p == 0)
			break;
		m = find_out(n, a->now, TV_PROTO_UDP, a->in_ip, p, a->peer, 0);
		if (!m) {
			if (map_create(n, a->now, TV_PROTO_UDP, a->in_ip, p, a->peer, 0, &m) != 0)
				return k ? 0 : -1;      /* RTP without RTCP still goes */
			refresh(n, m, a->now);
			n->st.alg_pinholes++;
		}
		m->alg_peer = a->peer;
		if (k == 0)
			*ext = m->ext_port;
	}
	return 0;
}

/* The ALG looks at UDP to or from its port on either side, as a
 * conntrack helper assigned to the port's flows sees both directions. */
static bool alg_wants(const nat *n, const pkt_info *pi, uint16_t in_port, uint16_t remote_port)
{
	return n->cfg.alg == NAT_ALG_SIP && pi->proto == TV_PROTO_UDP &&
	       (in_port == n->cfg.alg_port || remote_port == n->cfg.alg_port);
}

static void alg_sip(nat *n, tv_time now, enum nat_dir dir, const nat_map *m, uint8_t *pkt, pkt_info *pi,
		    size_t *len, size_t cap)
{
	alg_media am = { n, now, m->in_ip, dir == NAT_OUT ? pi->dst.ip.v4 : pi->src.ip.v4 };
	nat_alg_sip_ctx c = { .dir = dir, .faults = n->cfg.alg_faults, .media = alg_media_map, .arg = &am };
	tv_ep in = tv_ep4(m->in_ip, m->in_port), ext = tv_ep4(m->ext_ip, m->ext_port);
	size_t i;
	int rc;

	c.from = dir == NAT_OUT ? in : ext;
	c.to = dir == NAT_OUT ? ext : in;
	/* CRLF keepalives (RFC 5626) are not messages */
	for (i = 0; i < pi->data_len && (pkt[pi->data_off + i] == '\r' || pkt[pi->data_off + i] == '\n'); i++)
		;
	if (i == pi->data_len) {
		n->st.alg_unchanged++;
		return;
	}
	rc = nat_alg_sip_packet(&c, pkt, len, cap, pi, n->alg_buf, NULL);
	if (rc > 0)
		n->st.alg_rewritten++;
	else if (rc == NAT_ALG_UNCHANGED)
		n->st.alg_unchanged++;
	else if (rc == TV_ENOSPC)
		n->st.alg_no_room++;
	else
		n->st.alg_malformed++;
}

static int translate_in(nat *n, tv_time now, uint8_t *pkt, pkt_info *pi, bool hairpin, size_t *len, size_t cap)
{
	nat_map *m = find_in(n, now, pi->proto, pi->dst.ip.v4, pi->dst.port);
	tv_ep to;
	bool alg;

	if (!m)
		return drop(n, NAT_DROP_NO_MAPPING);
	if (m->proto == TV_PROTO_TCP) {
		if (!conn_allows(n, m, pi->src.ip.v4, pi->src.port, now))
			return drop(n, NAT_DROP_FILTERED);
		conn_in(n, m, pi->src.ip.v4, pi->src.port, pi->tcp_flags, now);
	} else {
		uint8_t next = udp_next(n, m, NAT_IN, now);

		if (!filt_allows(n, m, pi->src.ip.v4, pi->src.port, now))
			return drop(n, NAT_DROP_FILTERED);
		if (next == MS_UDP_STREAM && m->state != MS_UDP_STREAM) {
			/* Onto the stream timer, still anchored on the last outbound
			 * packet under outbound refresh. */
			m->state = next;
			if (m->last_out + map_timeout(n, m) > m->expires)
				m->expires = m->last_out + map_timeout(n, m);
		}
		m->state = next;
		if (n->cfg.refresh == NAT_REFRESH_BOTH) {
			refresh(n, m, now);
			/* Refreshing on inbound traffic also renews the permission that let
			 * it in; otherwise the filter would close on a live binding. */
			for (uint16_t i = 0; i < m->nfilt; i++)
				if (m->filt[i].ip == pi->src.ip.v4 && (n->cfg.filtering != NAT_APD || m->filt[i].port == pi->src.port))
					m->filt[i].last_out = now;
		}
	}
	m->pkts_in++;
	to = tv_ep4(m->in_ip, m->in_port);
	alg = !hairpin && alg_wants(n, pi, m->in_port, pi->src.port);
	pkt_rewrite_dst(pkt, pi, &to);
	if (alg)
		alg_sip(n, now, NAT_IN, m, pkt, pi, len, cap);
	if (hairpin)
		n->st.hairpin++;
	else
		n->st.in++;
	return NAT_IN;
}

static int translate_out(nat *n, tv_time now, uint8_t *pkt, pkt_info *pi, size_t *len, size_t cap)
{
	nat_map *m = find_out(n, now, pi->proto, pi->src.ip.v4, pi->src.port,
			      pi->dst.ip.v4, pi->dst.port);
	bool hairpin = pub_index(n, pi->dst.ip.v4) >= 0;
	tv_ep from;

	if (hairpin && !n->cfg.hairpin)
		return drop(n, NAT_DROP_HAIRPIN_OFF);
	if (!m) {
		int why;
		if (pi->proto == TV_PROTO_TCP && !(pi->tcp_flags & TCP_SYN))
			return drop(n, NAT_DROP_NO_MAPPING);    /* no mid-stream pickup */
		why = map_create(n, now, pi->proto, pi->src.ip.v4, pi->src.port,
				 pi->dst.ip.v4, pi->dst.port, &m);
		if (why)
			return drop(n, (enum nat_drop)why);
	}
	if (m->proto == TV_PROTO_TCP) {
		conn_out(n, m, pi->dst.ip.v4, pi->dst.port, pi->tcp_flags, now);
	} else {
		if (m->proto == TV_PROTO_UDP)
			m->state = udp_next(n, m, NAT_OUT, now);
		filt_note(m, pi->dst.ip.v4, pi->dst.port, now);
		refresh(n, m, now);
	}
	m->last_out = now;
	m->pkts_out++;
	from = tv_ep4(m->ext_ip, m->ext_port);
	if (hairpin) {
		pkt_rewrite_src(pkt, pi, &from);
		return translate_in(n, now, pkt, pi, true, len, cap);
	}
	if (alg_wants(n, pi, pi->src.port, pi->dst.port)) {
		pkt_rewrite_src(pkt, pi, &from);
		alg_sip(n, now, NAT_OUT, m, pkt, pi, len, cap);
	} else {
		pkt_rewrite_src(pkt, pi, &from);
	}
	n->st.out++;
	return NAT_OUT;
}

int nat_process(nat *n, tv_time now, enum nat_dir dir, uint8_t *pkt, size_t len)
{
	return nat_process_buf(n, now, dir, pkt, &len, len);
}

int nat_process_buf(nat *n, tv_time now, enum nat_dir dir, uint8_t *pkt, size_t *len, size_t cap)
{
	pkt_info pi;

	if (pkt_parse(pkt, *len, &pi) < 0)
		return drop(n, NAT_DROP_MALFORMED);
	if (!fw_allows(n, dir, &pi))
		return drop(n, NAT_DROP_FIREWALL);
	if (pi.ttl <= 1)
		return drop(n, NAT_DROP_TTL);
	ttl_dec(pkt);
	if (pi.proto == TV_PROTO_ICMP)
		return icmp_error(n, now, dir, pkt, &pi);
	if (dir == NAT_OUT)
		return translate_out(n, now, pkt, &pi, len, cap);
	return translate_in(n, now, pkt, &pi, false, len, cap);
}

/* ---- timers and faults ------------------------------------------------ */

tv_time nat_next_wake(const nat *n) { return n->nheap ? n->heap[0].when : TV_NEVER; }

void nat_on_timeout(nat *n, tv_time now)
{
	while (n->nheap && n->heap[0].when <= now) {
		heap_ent e = heap_pop(n);
		nat_map *m = e.m;
		if (!m->dead && m->expires > now) {
			heap_push(n, m->expires, m);    /* cannot fail: we just popped */
			continue;
		}
		map_expire(n, m);       /* no-op if a lookup or a fault got there first */
		map_free(m);
	}
}

void nat_reboot(nat *n)
{
	flush_all(n);
	/* A rebooted box starts its sequential cursor somewhere new. */
	for (int i = 0; i < n->cfg.npub; i++) {
		uint32_t span = (uint32_t)n->cfg.port_hi - n->cfg.port_lo + 1;
		n->pools[i]->cursor[0] = (uint16_t)(n->cfg.port_lo + tv_rng_below(&n->rng, span));
		n->pools[i]->cursor[1] = (uint16_t)(n->cfg.port_lo + tv_rng_below(&n->rng, span));
	}
}

int nat_change_pub(nat *n, int idx, const tv_ip *ip)
{
	if (idx < 0 || idx >= n->cfg.npub || ip->af != TV_AF_INET)
		return TV_EINVAL;
	/* Bindings on other addresses survive; rebuild without those on idx. */
	for (size_t i = 0; i < n->nheap; i++) {
		nat_map *m = n->heap[i].m;
		if (!m->dead && m->ext_ip == n->cfg.pub[idx].v4) {
			map_unlink(n, m);
			n->st.flushed++;
		}
	}
	n->cfg.pub[idx] = *ip;
	return 0;
}

void nat_table_foreach(nat *n, tv_time now, void (*fn)(void *arg, const nat_binding_info *b), void *arg)
{
	for (size_t i = 0; i < n->nheap; i++) {
		const nat_map *m = n->heap[i].m;
		nat_binding_info b;
		if (m->dead || m->expires <= now)
			continue;
		b.proto = m->proto;
		b.state = map_state_names[m->proto == TV_PROTO_TCP ? conn_summary(m, now) : m->state];
		b.internal = tv_ep4(m->in_ip, m->in_port);
		b.external = tv_ep4(m->ext_ip, m->ext_port);
		b.remote = tv_ep4(m->rem_ip, m->rem_port);
		b.age = now - m->created;
		b.ttl = m->expires - now;
		b.pkts_out = m->pkts_out;
		b.pkts_in = m->pkts_in;
		fn(arg, &b);
	}
}
