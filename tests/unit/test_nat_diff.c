/* test_nat_diff.c - differential test of the NAT engine (simnat/nat.c).
 *
 * A slow model of the same NAT, written from the behaviour nat.h documents
 * (RFC 4787 for UDP, RFC 5382 for TCP) and deliberately naive: one plain
 * array of bindings, every lookup a linear scan, the set of used public
 * ports rebuilt from the bindings on every allocation, expiry computed
 * from the stored deadline whenever a binding is looked at (the model has
 * no timers at all). Both the engine and the model are fed the same
 * random traffic from a fixed-seed generator, and for every packet the
 * verdict and the rewritten packet must agree; every so often the whole
 * binding tables and the counters are compared too.
 *
 * Model semantics (what a binding is and when it dies):
 *   - key: (proto, internal ip, internal port) plus, for address-dependent
 *     mapping, the remote address, and for address-and-port-dependent
 *     mapping the remote address and port (REQ-1).
 *   - UDP state and timeout: "unreplied" (udp_timeout) until an inbound
 *     packet is accepted, then "stream" (udp_stream_timeout) - but with
 *     udp_stream_after set (the Linux 2-second rule), the first inbound
 *     packet makes it "replied" (still udp_timeout), and it becomes
 *     "stream" with the first later packet, outbound or an accepted
 *     inbound one, that comes more than udp_stream_after after the
 *     binding's creation. Refresh:
 *     every outbound packet, and inbound ones when refresh is "both"
 *     (REQ-6); a refresh sets the expiry to now + the state's timeout but
 *     never earlier than it was. The inbound packet that makes a binding
 *     "stream" puts it onto the stream timer counted from its last
 *     outbound packet; the outbound one that does is a refresh in "stream".
 *     A binding is live while now < expiry.
 *   - TCP: state and timers are per connection (RFC 5382 REQ-5), a
 *     connection being the traffic between the binding and one remote
 *     endpoint; with endpoint-independent or address-dependent mapping a
 *     binding carries several. A connection is "syn" (transitory) until a
 *     SYN was seen both ways, "established" after, "closing" (transitory)
 *     after a FIN or RST; a SYN on a closing connection starts it over
 *     ("syn" again). An outbound packet starts a connection if there is no
 *     live one to its destination, and refreshes it (now + the state's
 *     timeout, never earlier than it was) - or, if the connection is
 *     closing, sets it to now + transitory. An inbound SYN starts one if
 *     there is none from its source; other inbound packets only touch a
 *     live one. An inbound FIN or RST makes it closing with now +
 *     transitory; an inbound SYN, and any inbound packet under refresh
 *     "both", then refreshes it. A connection is live while now < its
 *     expiry; a binding lives until its last connection's expiry, and
 *     its state is "established" if a live connection is, else "syn" if
 *     one is opening, else "closing".
 *   - filtering (REQ-8): endpoint-independent accepts anything; otherwise
 *     the binding must have sent to the source address (and port, for
 *     APD) within the binding's current timeout (UDP), or, for TCP, on a
 *     live connection to it within that connection's current timeout.
 *     Under refresh "both" an accepted inbound packet renews those
 *     permissions for its source address (and port, for APD): for TCP,
 *     of the live connections sent on.
 *   - ports: preserve tries the internal port, then scans sequentially
 *     from a per-(public address, protocol) cursor that continues after
 *     the last port it handed out and wraps within port_lo..port_hi;
 *     parity (REQ-4) restricts both to the internal port's parity.
 *   - pool: paired, public address index = tv_hash64(internal ip) % npub.
 *   - limits: max_bindings counts live bindings; table full and a limit
 *     reached drop a packet that would need a new binding as table-full.
 *   - hairpin (REQ-9): an outbound packet to a public address is
 *     translated out (source becomes the sender's external endpoint) and
 *     then handled as inbound traffic to that public endpoint.
 *   - ICMP errors: translated using the binding of the quoted packet,
 *     without touching the binding's state or timers (REQ-12).
 *
 * Port allocation is restricted to preserve and sequential here: random
 * allocation is not predictable by a model. Reboot is not exercised
 * (it moves the sequential cursor randomly); test_nat.c covers it.
 *
 * Size: one test per mapping x filtering class, each running refresh x
 * (preserve|sequential) x parity = 8 combinations x SEEDS seeds x PACKETS
 * packets (864,000 packets in all), whole-table comparison every 100.
 * Debugging: NAT_DIFF_VERBOSE=1 prints what each class covered;
 * NAT_DIFF_TRACE=<part of a configuration name> [NAT_DIFF_SEED=n] prints
 * every packet of the matching runs with both verdicts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "nat.h"
#include "pkt.h"
#include "rng.h"

/* ==== the model ========================================================= */

enum m_state { M_UNREPLIED, M_STREAM, M_OPENING, M_ESTABLISHED, M_CLOSING, M_REPLIED, M__COUNT };

static const char *const m_state_name[] = {
	[M_UNREPLIED] = "unreplied", [M_STREAM] = "stream", [M_OPENING] = "syn",
	[M_ESTABLISHED] = "established", [M_CLOSING] = "closing", [M_REPLIED] = "replied",
};

#define M_MAX_PERM 256          /* remotes one binding sent to */
#define M_MAX_CONN 128          /* TCP connections one binding tracks */
#define M_MAX_BIND 1024         /* slots; expired ones are reused */
#define M_MAX_SPAN 512          /* public port range size the model handles */

struct m_perm {
	uint32_t ip;
	uint16_t port;
	tv_time last_out;
};

/* A TCP connection through a binding: one remote endpoint. */
struct m_conn {
	bool used;              /* slot holds a connection (live or not) */
	uint32_t ip;
	uint16_t port;
	enum m_state state;     /* M_OPENING, M_ESTABLISHED or M_CLOSING */
	bool syn_out, syn_in;
	bool sent;              /* the inside sent on it: last_out is a permission */
	tv_time last_out, expires;
};

struct m_bind {
	bool in_use;            /* false: never used, or flushed */
	uint8_t proto;
	uint32_t in_ip, ext_ip, rem_ip;
	uint16_t in_port, ext_port, rem_port;
	enum m_state state;     /* UDP; TCP: see m_state */
	tv_time created, expires, last_out;     /* expires: UDP; TCP: see m_expiry */
	uint64_t pkts_out, pkts_in;
	int nperm;              /* UDP: the filter; TCP: only what the driver replies from */
	struct m_perm perm[M_MAX_PERM];
	int nconn;              /* TCP */
	struct m_conn conn[M_MAX_CONN];
};

struct model {
	nat_cfg cfg;
	bool full;
	struct m_bind *b;
	int nb;                 /* slots ever used */
	uint16_t cursor[NAT_MAX_PUB][2];
	nat_stats st;           /* out, in, hairpin, icmp_in, icmp_out, created, drop[] */
};

/* What the model says the forwarded packet must look like. */
struct expect {
	tv_ep src, dst;
	bool icmp;
	tv_ep qsrc, qdst;       /* the quoted packet's endpoints */
};

static bool m_conn_live(const struct m_conn *c, tv_time now) { return c->used && now < c->expires; }

/* A TCP binding expires with the last of its connections. */
static tv_time m_expiry(const struct m_bind *b)
{
	tv_time e = b->created;

	if (b->proto != TV_PROTO_TCP)
		return b->expires;
	for (int i = 0; i < b->nconn; i++)
		if (b->conn[i].used && b->conn[i].expires > e)
			e = b->conn[i].expires;
	return e;
}

static bool m_live(const struct m_bind *b, tv_time now) { return b->in_use && now < m_expiry(b); }

/* A TCP binding's state: from its live connections, the most advanced. */
static enum m_state m_state(const struct m_bind *b, tv_time now)
{
	bool est = false, opening = false;

	if (b->proto != TV_PROTO_TCP)
		return b->state;
	for (int i = 0; i < b->nconn; i++) {
		if (!m_conn_live(&b->conn[i], now))
			continue;
		est |= b->conn[i].state == M_ESTABLISHED;
		opening |= b->conn[i].state == M_OPENING;
	}
	return est ? M_ESTABLISHED : opening ? M_OPENING : M_CLOSING;
}

static tv_time m_conn_timeout(const struct model *m, const struct m_conn *c)
{
	return c->state == M_ESTABLISHED ? m->cfg.tcp_established : m->cfg.tcp_transitory;
}

/* The live connection of b with remote (ip, port), or NULL. */
static struct m_conn *m_conn_find(struct m_bind *b, tv_time now, uint32_t ip, uint16_t port)
{
	for (int i = 0; i < b->nconn; i++)
		if (m_conn_live(&b->conn[i], now) && b->conn[i].ip == ip && b->conn[i].port == port)
			return &b->conn[i];
	return NULL;
}

/* A new connection on b (in a free or dead slot): nothing seen yet, and no
 * time to live until a packet gives it some. */
static struct m_conn *m_conn_new(struct m_bind *b, tv_time now, uint32_t ip, uint16_t port)
{
	int i;

	for (i = 0; i < b->nconn; i++)
		if (!m_conn_live(&b->conn[i], now))
			break;
	if (i == b->nconn) {
		cr_assert_lt(b->nconn, M_MAX_CONN, "model: connection slots exhausted");
		b->nconn++;
	}
	b->conn[i] = (struct m_conn){ .used = true, .ip = ip, .port = port, .state = M_OPENING,
				      .expires = now };
	return &b->conn[i];
}

static int m_live_count(const struct model *m, tv_time now)
{
	int c = 0;

	for (int i = 0; i < m->nb; i++)
		c += m_live(&m->b[i], now);
	return c;
}

static tv_time m_timeout(const struct model *m, const struct m_bind *b)
{
	switch (b->state) {
	case M_UNREPLIED:
	case M_REPLIED:
		return m->cfg.udp_timeout;
	case M_STREAM:
		return m->cfg.udp_stream_timeout;
	case M_ESTABLISHED:
		return m->cfg.tcp_established;
	default:
		return m->cfg.tcp_transitory;
	}
}

static int m_pub_index(const struct model *m, uint32_t ip)
{
	for (int i = 0; i < m->cfg.npub; i++)
		if (m->cfg.pub[i].v4 == ip)
			return i;
	return -1;
}

/* The live binding an outbound packet (internal -> remote) uses. */
static struct m_bind *m_find_out(struct model *m, tv_time now, uint8_t proto, uint32_t iip,
				 uint16_t iport, uint32_t rip, uint16_t rport)
{
	for (int i = 0; i < m->nb; i++) {
		struct m_bind *b = &m->b[i];
		if (!m_live(b, now) || b->proto != proto || b->in_ip != iip || b->in_port != iport)
			continue;
		if (m->cfg.mapping == NAT_EI)
			return b;
		if (m->cfg.mapping == NAT_AD && b->rem_ip == rip)
			return b;
		if (m->cfg.mapping == NAT_APD && b->rem_ip == rip && b->rem_port == rport)
			return b;
	}
	return NULL;
}

/* The live binding that owns a public endpoint. */
static struct m_bind *m_find_ext(struct model *m, tv_time now, uint8_t proto, uint32_t eip, uint16_t eport)
{
	for (int i = 0; i < m->nb; i++) {
		struct m_bind *b = &m->b[i];
		if (m_live(b, now) && b->proto == proto && b->ext_ip == eip && b->ext_port == eport)
			return b;
	}
	return NULL;
}

static bool m_fw_allows(const struct model *m, enum nat_dir dir, const pkt_info *pi)
{
	for (int i = 0; i < m->cfg.nrules; i++) {
		const nat_rule *r = &m->cfg.rules[i];
		bool match = (r->dir & dir) && (r->proto == 0 || r->proto == pi->proto) &&
			     (pi->src.ip.v4 & r->src_mask) == r->src &&
			     (pi->dst.ip.v4 & r->dst_mask) == r->dst &&
			     pi->src.port >= r->sport_lo && pi->src.port <= r->sport_hi &&
			     pi->dst.port >= r->dport_lo && pi->dst.port <= r->dport_hi;
		if (match)
			return r->allow;
	}
	return true;
}

/* A free public port on address index pub for an internal port, or 0. */
static uint16_t m_pick_port(struct model *m, tv_time now, int pub, uint8_t proto, uint16_t in_port)
{
	uint32_t lo = m->cfg.port_lo, hi = m->cfg.port_hi, span = hi - lo + 1;
	bool used[M_MAX_SPAN] = { false };
	uint16_t *cursor = &m->cursor[pub][proto == TV_PROTO_TCP];

	cr_assert_leq(span, M_MAX_SPAN);
	for (int i = 0; i < m->nb; i++) {
		const struct m_bind *b = &m->b[i];
		if (m_live(b, now) && b->proto == proto && b->ext_ip == m->cfg.pub[pub].v4)
			used[b->ext_port - lo] = true;
	}
#define PORT_OK(p) ((p) >= lo && (p) <= hi && !used[(p) - lo] && \
		    (!m->cfg.parity || ((p) & 1) == (in_port & 1u)))
	if (m->cfg.ports == NAT_PORT_PRESERVE && PORT_OK(in_port))
		return in_port;
	for (uint32_t k = 0; k < span; k++) {
		uint32_t p = lo + (*cursor - lo + k) % span;
		if (PORT_OK(p)) {
			*cursor = (uint16_t)(p == hi ? lo : p + 1);
			return (uint16_t)p;
		}
	}
#undef PORT_OK
	return 0;
}

static struct m_bind *m_new_binding(struct model *m, tv_time now)
{
	int i;

	for (i = 0; i < m->nb; i++)
		if (!m_live(&m->b[i], now))
			break;
	if (i == m->nb) {
		cr_assert_lt(m->nb, M_MAX_BIND, "model: binding slots exhausted");
		m->nb++;
	}
	memset(&m->b[i], 0, sizeof(m->b[i]));
	m->b[i].in_use = true;
	return &m->b[i];
}

static void m_tcp(struct m_conn *c, uint8_t flags, enum nat_dir dir)
{
	if (flags & TCP_RST) {
		c->state = M_CLOSING;
		return;
	}
	if (flags & TCP_SYN) {
		if (c->state == M_CLOSING) {    /* the endpoints start over */
			c->state = M_OPENING;
			c->syn_out = c->syn_in = false;
		}
		if (dir == NAT_OUT)
			c->syn_out = true;
		else
			c->syn_in = true;
		if (c->state == M_OPENING && c->syn_out && c->syn_in)
			c->state = M_ESTABLISHED;
	}
	if (flags & TCP_FIN)
		c->state = M_CLOSING;
}

static void m_conn_refresh(const struct model *m, struct m_conn *c, tv_time now)
{
	if (now + m_conn_timeout(m, c) > c->expires)
		c->expires = now + m_conn_timeout(m, c);
}

/* TCP filtering: a live connection to the source (address, or endpoint
 * for APD) that the inside sent on within its timeout. */
static bool m_tcp_allows(const struct model *m, const struct m_bind *b, tv_time now, tv_ep src)
{
	if (m->cfg.filtering == NAT_EI)
		return true;
	for (int i = 0; i < b->nconn; i++) {
		const struct m_conn *c = &b->conn[i];
		if (m_conn_live(c, now) && c->sent && c->ip == src.ip.v4 &&
		    (m->cfg.filtering == NAT_AD || c->port == src.port) &&
		    now < c->last_out + m_conn_timeout(m, c))
			return true;
	}
	return false;
}

static void m_refresh(const struct model *m, struct m_bind *b, tv_time now)
{
	if (now + m_timeout(m, b) > b->expires)
		b->expires = now + m_timeout(m, b);
}

static int m_drop(struct model *m, enum nat_drop why)
{
	m->st.drop[why]++;
	return -1 - (int)why;
}

/* Inbound packet from src to the public endpoint dst (also the second half
 * of a hairpin). */
static int m_inbound(struct model *m, tv_time now, uint8_t proto, tv_ep src, tv_ep dst,
		     uint8_t flags, bool hairpin, struct expect *e)
{
	struct m_bind *b = m_find_ext(m, now, proto, dst.ip.v4, dst.port);
	bool allowed = m->cfg.filtering == NAT_EI;

	if (!b)
		return m_drop(m, NAT_DROP_NO_MAPPING);
	if (proto == TV_PROTO_TCP) {
		struct m_conn *c;

		if (!m_tcp_allows(m, b, now, src))
			return m_drop(m, NAT_DROP_FILTERED);
		c = m_conn_find(b, now, src.ip.v4, src.port);
		if (!c && (flags & TCP_SYN))    /* a connection from outside */
			c = m_conn_new(b, now, src.ip.v4, src.port);
		if (c) {
			enum m_state before = c->state;
			m_tcp(c, flags, NAT_IN);
			if (before != M_CLOSING && c->state == M_CLOSING)       /* FIN/RST */
				c->expires = now + m->cfg.tcp_transitory;
			if (m->cfg.refresh == NAT_REFRESH_BOTH || (flags & TCP_SYN))
				m_conn_refresh(m, c, now);
		}
		if (m->cfg.refresh == NAT_REFRESH_BOTH)
			for (int i = 0; i < b->nconn; i++) {
				struct m_conn *x = &b->conn[i];
				if (m_conn_live(x, now) && x->sent && x->ip == src.ip.v4 &&
				    (m->cfg.filtering != NAT_APD || x->port == src.port))
					x->last_out = now;
			}
	} else {
		for (int i = 0; i < b->nperm && !allowed; i++) {
			const struct m_perm *p = &b->perm[i];
			if (p->ip == src.ip.v4 && now < p->last_out + m_timeout(m, b) &&
			    (m->cfg.filtering == NAT_AD || p->port == src.port))
				allowed = true;
		}
		if (!allowed)
			return m_drop(m, NAT_DROP_FILTERED);
		if (b->state == M_UNREPLIED && m->cfg.udp_stream_after) {
			b->state = M_REPLIED;
		} else if (b->state == M_UNREPLIED ||
			   (b->state == M_REPLIED && now > b->created + m->cfg.udp_stream_after)) {
			/* Stream timer from the last refresh (the last outbound
			 * packet under outbound refresh); never shortened. */
			b->state = M_STREAM;
			if (b->last_out + m->cfg.udp_stream_timeout > b->expires)
				b->expires = b->last_out + m->cfg.udp_stream_timeout;
		}
		if (m->cfg.refresh == NAT_REFRESH_BOTH)
			m_refresh(m, b, now);
		/* Inbound refresh renews the permissions that admitted the packet. */
		if (m->cfg.refresh == NAT_REFRESH_BOTH)
			for (int i = 0; i < b->nperm; i++)
				if (b->perm[i].ip == src.ip.v4 && (m->cfg.filtering != NAT_APD || b->perm[i].port == src.port))
					b->perm[i].last_out = now;
	}
	b->pkts_in++;
	e->src = src;
	e->dst = tv_ep4(b->in_ip, b->in_port);
	if (hairpin)
		m->st.hairpin++;
	else
		m->st.in++;
	return NAT_IN;
}

static int m_outbound(struct model *m, tv_time now, const pkt_info *pi, struct expect *e)
{
	bool hairpin = m_pub_index(m, pi->dst.ip.v4) >= 0;
	struct m_bind *b;
	int k;

	if (hairpin && !m->cfg.hairpin)
		return m_drop(m, NAT_DROP_HAIRPIN_OFF);
	b = m_find_out(m, now, pi->proto, pi->src.ip.v4, pi->src.port, pi->dst.ip.v4, pi->dst.port);
	if (!b) {
		int pub = (int)(tv_hash64(pi->src.ip.v4) % (uint64_t)m->cfg.npub);
		uint16_t port;

		if (pi->proto == TV_PROTO_TCP && !(pi->tcp_flags & TCP_SYN))
			return m_drop(m, NAT_DROP_NO_MAPPING);
		if (m->full || (m->cfg.max_bindings && m_live_count(m, now) >= (int)m->cfg.max_bindings))
			return m_drop(m, NAT_DROP_TABLE_FULL);
		port = m_pick_port(m, now, pub, pi->proto, pi->src.port);
		if (!port)
			return m_drop(m, NAT_DROP_NO_PORT);
		b = m_new_binding(m, now);
		b->proto = pi->proto;
		b->in_ip = pi->src.ip.v4;
		b->in_port = pi->src.port;
		b->ext_ip = m->cfg.pub[pub].v4;
		b->ext_port = port;
		b->rem_ip = m->cfg.mapping == NAT_EI ? 0 : pi->dst.ip.v4;
		b->rem_port = m->cfg.mapping == NAT_APD ? pi->dst.port : 0;
		b->state = M_UNREPLIED;         /* UDP; a TCP binding's is its connections' */
		b->created = b->expires = now;
		m->st.created++;
	}
	if (pi->proto == TV_PROTO_TCP) {
		struct m_conn *c = m_conn_find(b, now, pi->dst.ip.v4, pi->dst.port);

		if (!c)
			c = m_conn_new(b, now, pi->dst.ip.v4, pi->dst.port);
		m_tcp(c, pi->tcp_flags, NAT_OUT);
		c->sent = true;
		c->last_out = now;
		if (c->state == M_CLOSING)
			c->expires = now + m->cfg.tcp_transitory;
		else
			m_conn_refresh(m, c, now);
	}
	for (k = 0; k < b->nperm; k++)
		if (b->perm[k].ip == pi->dst.ip.v4 && b->perm[k].port == pi->dst.port)
			break;
	if (k == b->nperm) {
		cr_assert_lt(b->nperm, M_MAX_PERM, "model: permission list full");
		b->perm[b->nperm++] = (struct m_perm){ pi->dst.ip.v4, pi->dst.port, now };
	}
	b->perm[k].last_out = now;
	b->last_out = now;
	if (b->state == M_REPLIED && now > b->created + m->cfg.udp_stream_after)
		b->state = M_STREAM;
	if (pi->proto != TV_PROTO_TCP)
		m_refresh(m, b, now);
	b->pkts_out++;
	e->src = tv_ep4(b->ext_ip, b->ext_port);
	e->dst = pi->dst;
	if (hairpin)
		return m_inbound(m, now, pi->proto, e->src, pi->dst, pi->tcp_flags, true, e);
	m->st.out++;
	return NAT_OUT;
}

static int m_icmp_error(struct model *m, tv_time now, enum nat_dir dir, const uint8_t *pkt,
			const pkt_info *pi, struct expect *e)
{
	const uint8_t *q = pkt + pi->data_off;
	size_t qhl;
	uint8_t qproto;
	tv_ep qs, qd;
	struct m_bind *b;

	if (pi->icmp_type != ICMP_UNREACH && pi->icmp_type != ICMP_TIMXCEED)
		return m_drop(m, NAT_DROP_PROTO);
	if (pi->data_len < IP4_HDR + 8 || q[0] >> 4 != 4)
		return m_drop(m, NAT_DROP_MALFORMED);
	qhl = (size_t)(q[0] & 15) * 4;
	if (qhl < IP4_HDR || pi->data_len < qhl + 8)
		return m_drop(m, NAT_DROP_MALFORMED);
	qproto = q[9];
	if (qproto != TV_PROTO_UDP && qproto != TV_PROTO_TCP)
		return m_drop(m, NAT_DROP_PROTO);
	qs = tv_ep4(pkt_get32(q + 12), pkt_get16(q + qhl));
	qd = tv_ep4(pkt_get32(q + 16), pkt_get16(q + qhl + 2));
	e->icmp = true;
	e->src = pi->src;
	e->dst = pi->dst;
	if (dir == NAT_IN) {            /* quoted: our public endpoint -> remote */
		b = m_find_ext(m, now, qproto, qs.ip.v4, qs.port);
		if (!b)
			return m_drop(m, NAT_DROP_NO_MAPPING);
		e->dst = tv_ep4(b->in_ip, 0);
		e->qsrc = tv_ep4(b->in_ip, b->in_port);
		e->qdst = qd;
		m->st.icmp_in++;
		return NAT_IN;
	}
	/* quoted: remote -> internal endpoint */
	b = m_find_out(m, now, qproto, qd.ip.v4, qd.port, qs.ip.v4, qs.port);
	if (!b)
		return m_drop(m, NAT_DROP_NO_MAPPING);
	e->src = tv_ep4(b->ext_ip, 0);
	e->qsrc = qs;
	e->qdst = tv_ep4(b->ext_ip, b->ext_port);
	m->st.icmp_out++;
	return NAT_OUT;
}

static int m_process(struct model *m, tv_time now, enum nat_dir dir, const uint8_t *pkt,
		     size_t len, struct expect *e)
{
	pkt_info pi;

	memset(e, 0, sizeof(*e));
	if (pkt_parse(pkt, len, &pi) < 0)
		return m_drop(m, NAT_DROP_MALFORMED);
	if (!m_fw_allows(m, dir, &pi))
		return m_drop(m, NAT_DROP_FIREWALL);
	if (pi.ttl <= 1)
		return m_drop(m, NAT_DROP_TTL);
	if (pi.proto == TV_PROTO_ICMP)
		return m_icmp_error(m, now, dir, pkt, &pi, e);
	if (dir == NAT_OUT)
		return m_outbound(m, now, &pi, e);
	return m_inbound(m, now, pi.proto, pi.src, pi.dst, pi.tcp_flags, false, e);
}

/* ==== the driver ======================================================== */

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const uint32_t hosts[] = { IP(192, 168, 1, 10), IP(192, 168, 1, 11), IP(192, 168, 1, 12) };
static const uint16_t host_ports[] = { 1030, 1031, 1050, 40000 };
static const uint32_t remotes[] = { IP(203, 0, 113, 1), IP(203, 0, 113, 2), IP(203, 0, 113, 3) };
static const uint16_t remote_ports[] = { 3478, 5000 };
static const uint32_t pubs[] = { IP(198, 51, 100, 1), IP(198, 51, 100, 2) };
static const uint32_t pub_alt = IP(198, 51, 100, 101);
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Everything the run saw, summed over runs, to prove the traffic reaches
 * every branch (a differential test that never drops is no test). */
struct cover {
	uint64_t packets, runs;
	uint64_t verdict[2 + NAT_DROP__COUNT];  /* [0] out, [1] in, [2 + d] drop d */
	uint64_t hairpin, icmp_in, icmp_out, created, expired, jumps, table_checks, sweeps;
	uint64_t state_rows[M__COUNT];  /* live bindings seen in each state at table checks */
	/* TCP bindings at table checks: with two or more live connections;
	 * with a live established one beside a live closing one; still live
	 * after a closed connection of theirs expired, on an established one. */
	uint64_t multi_conn, est_and_closing, outlived_closed;
};

static void cover_conns(struct cover *cov, const struct model *m, const struct m_bind *b, tv_time now)
{
	int live = 0;
	bool est = false, closing = false, gone_closed = false;

	(void)m;
	for (int i = 0; i < b->nconn; i++) {
		const struct m_conn *c = &b->conn[i];
		if (!c->used)
			continue;
		if (!m_conn_live(c, now)) {
			gone_closed |= c->state == M_CLOSING;
			continue;
		}
		live++;
		est |= c->state == M_ESTABLISHED;
		closing |= c->state == M_CLOSING;
	}
	cov->multi_conn += live >= 2;
	cov->est_and_closing += est && closing;
	cov->outlived_closed += est && gone_closed;
}

struct run {
	nat *n;
	struct model m;
	tv_rng g;
	tv_time now;
	uint64_t seed;
	int idx;                /* packet number */
	char what[160];         /* the current packet, for failure messages */
	char cfgname[200];
	struct cover *cov;
	bool trace;             /* NAT_DIFF_TRACE=<part of cfgname>: print every packet */
};

static uint32_t rnd(struct run *r, uint32_t n) { return tv_rng_below(&r->g, n); }

static tv_ep rand_int_ep(struct run *r)
{
	return tv_ep4(hosts[rnd(r, N(hosts))], host_ports[rnd(r, N(host_ports))]);
}

static tv_ep rand_rem_ep(struct run *r)
{
	return tv_ep4(remotes[rnd(r, N(remotes))], remote_ports[rnd(r, N(remote_ports))]);
}

static uint8_t rand_proto(struct run *r) { return rnd(r, 100) < 55 ? TV_PROTO_UDP : TV_PROTO_TCP; }

static uint8_t rand_flags(struct run *r)
{
	static const uint8_t f[] = {
		TCP_SYN, TCP_SYN, TCP_SYN | TCP_ACK, TCP_SYN | TCP_ACK, TCP_ACK, TCP_ACK, TCP_ACK,
		TCP_ACK | TCP_PSH, TCP_FIN | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK,
	};
	return f[rnd(r, N(f))];
}

/* A public endpoint: usually one some live binding holds, else any port
 * near the range on one of the public addresses. */
static tv_ep rand_pub_ep(struct run *r, uint8_t proto)
{
	const struct model *m = &r->m;

	if (rnd(r, 100) < 75) {
		int live[M_MAX_BIND], nl = 0;
		for (int i = 0; i < m->nb; i++)
			if (m_live(&m->b[i], r->now) && (m->b[i].proto == proto || rnd(r, 8) == 0))
				live[nl++] = i;
		if (nl) {
			const struct m_bind *b = &m->b[live[rnd(r, (uint32_t)nl)]];
			return tv_ep4(b->ext_ip, b->ext_port);
		}
	}
	return tv_ep4(m->cfg.pub[rnd(r, (uint32_t)m->cfg.npub)].v4,
		      (uint16_t)(m->cfg.port_lo - 3 + rnd(r, (uint32_t)(m->cfg.port_hi - m->cfg.port_lo) + 7)));
}

/* A reply: from a remote some live binding sent to, to that binding. */
static bool rand_reply(struct run *r, uint8_t *proto, tv_ep *src, tv_ep *dst)
{
	const struct model *m = &r->m;
	int live[M_MAX_BIND], nl = 0;
	const struct m_bind *b;
	const struct m_perm *p;

	for (int i = 0; i < m->nb; i++)
		if (m_live(&m->b[i], r->now) && m->b[i].nperm)
			live[nl++] = i;
	if (!nl)
		return false;
	b = &m->b[live[rnd(r, (uint32_t)nl)]];
	p = &b->perm[rnd(r, (uint32_t)b->nperm)];
	*proto = b->proto;
	*src = tv_ep4(p->ip, p->port);
	if (rnd(r, 4) == 0)     /* same address, other port: AD vs APD filtering */
		src->port = remote_ports[rnd(r, N(remote_ports))];
	*dst = tv_ep4(b->ext_ip, b->ext_port);
	return true;
}

static int build(struct run *r, uint8_t *buf, uint8_t proto, tv_ep s, tv_ep d, uint8_t flags)
{
	uint8_t data[24];
	size_t dlen = rnd(r, sizeof(data) + 1);
	int len;

	for (size_t i = 0; i < dlen; i++)
		data[i] = (uint8_t)rnd(r, 256);
	if (proto == TV_PROTO_UDP)
		len = pkt_build_udp(buf, PKT_IP_MAX, &s, &d, (uint16_t)rnd(r, 65536), data, dlen);
	else
		len = pkt_build_tcp(buf, PKT_IP_MAX, &s, &d, (uint16_t)rnd(r, 65536), flags,
				    (uint32_t)tv_rng_next(&r->g), (uint32_t)tv_rng_next(&r->g), 65535, data, dlen);
	cr_assert_gt(len, 0);
	snprintf(r->what, sizeof(r->what), "%s %08x:%u -> %08x:%u flags %#x len %d",
		 proto == TV_PROTO_UDP ? "udp" : "tcp", s.ip.v4, s.port, d.ip.v4, d.port,
		 proto == TV_PROTO_TCP ? flags : 0, len);
	return len;
}

/* An ICMP error quoting a packet orig (of olen bytes, possibly cut short). */
static int build_icmp(struct run *r, uint8_t *buf, uint32_t from, uint8_t type, const uint8_t *orig, size_t olen)
{
	tv_ip src = tv_ip4(from);
	int len = pkt_build_icmp_error(buf, PKT_IP_MAX, &src, (uint16_t)rnd(r, 65536), type,
				       3, orig, olen);

	cr_assert_gt(len, 0);
	snprintf(r->what, sizeof(r->what), "icmp type %u from %08x quoting %08x:%u -> %08x:%u (%zu bytes)",
		 type, from, pkt_get32(orig + 12), olen >= 24 ? pkt_get16(orig + 20) : 0,
		 pkt_get32(orig + 16), olen >= 24 ? pkt_get16(orig + 22) : 0, olen);
	return len;
}

static void fix_ip_csum(uint8_t *buf)
{
	pkt_put16(buf + 10, 0);
	pkt_put16(buf + 10, pkt_csum_fold(pkt_csum_add(0, buf, IP4_HDR)));
}

#define FAIL_CTX "%s seed %llu packet %d t=%lld: %s: "
#define CTX(r) (r)->cfgname, (unsigned long long)(r)->seed, (r)->idx, (long long)(r)->now, (r)->what

static void check_ep(struct run *r, const char *which, tv_ep got, tv_ep want)
{
	cr_assert(got.ip.v4 == want.ip.v4 && got.port == want.port,
		  FAIL_CTX "%s is %08x:%u, model says %08x:%u", CTX(r), which,
		  got.ip.v4, got.port, want.ip.v4, want.port);
}

/* Feed one packet to both and compare. */
static void step_packet(struct run *r, enum nat_dir dir, const uint8_t *pkt, int len)
{
	uint8_t eng[PKT_IP_MAX];
	struct expect e;
	pkt_info in, out;
	int mv, ev;
	bool parsed = pkt_parse(pkt, (size_t)len, &in) == 0;

	memcpy(eng, pkt, (size_t)len);
	mv = m_process(&r->m, r->now, dir, pkt, (size_t)len, &e);
	ev = nat_process(r->n, r->now, dir, eng, (size_t)len);
	cr_assert_eq(ev, mv, FAIL_CTX "%s: engine says %d (%s), model says %d (%s)", CTX(r),
		     dir == NAT_OUT ? "from inside" : "from outside",
		     ev, ev > 0 ? "forward" : nat_drop_name((enum nat_drop)(-1 - ev)),
		     mv, mv > 0 ? "forward" : nat_drop_name((enum nat_drop)(-1 - mv)));
	if (r->trace)
		fprintf(stderr, "%d t=%lld %s %s: engine %d model %d\n", r->idx, (long long)r->now,
			dir == NAT_OUT ? "out" : "in", r->what, ev, mv);
	r->cov->packets++;
	r->cov->verdict[ev > 0 ? ev - 1 : 2 + (-1 - ev)]++;
	if (ev < 0)
		return;
	cr_assert(parsed);
	cr_assert_eq(pkt_parse(eng, (size_t)len, &out), 0, FAIL_CTX "forwarded packet does not parse "
		     "(checksum or length broken)", CTX(r));
	check_ep(r, "source", out.src, e.src);
	check_ep(r, "destination", out.dst, e.dst);
	cr_assert_eq(out.ttl, in.ttl - 1, FAIL_CTX "ttl %u -> %u", CTX(r), in.ttl, out.ttl);
	cr_assert_eq(out.proto, in.proto);
	cr_assert_eq(out.ip_len, in.ip_len);
	cr_assert_eq(out.data_len, in.data_len);
	if (in.proto == TV_PROTO_ICMP) {
		const uint8_t *q = eng + out.data_off;
		size_t qhl = (size_t)(q[0] & 15) * 4;

		cr_assert(e.icmp);
		cr_assert_eq(out.icmp_type, in.icmp_type);
		cr_assert_eq(pkt_csum_fold(pkt_csum_add(0, q, qhl)), 0,
			     FAIL_CTX "quoted IP header checksum broken", CTX(r));
		check_ep(r, "quoted source", tv_ep4(pkt_get32(q + 12), pkt_get16(q + qhl)), e.qsrc);
		check_ep(r, "quoted destination", tv_ep4(pkt_get32(q + 16), pkt_get16(q + qhl + 2)), e.qdst);
		cr_assert_eq(q[9], pkt[in.data_off + 9]);
		return;
	}
	cr_assert_eq(memcmp(eng + out.data_off, pkt + in.data_off, in.data_len), 0,
		     FAIL_CTX "payload changed", CTX(r));
	if (in.proto == TV_PROTO_TCP) {
		cr_assert_eq(out.tcp_flags, in.tcp_flags);
		cr_assert_eq(out.tcp_seq, in.tcp_seq);
		cr_assert_eq(out.tcp_ack, in.tcp_ack);
	}
}

/* ---- whole-table comparison ---- */

struct row {
	uint8_t proto;
	uint32_t ext_ip, in_ip, rem_ip;
	uint16_t ext_port, in_port, rem_port;
	const char *state;
	tv_time ttl, age;
	uint64_t pkts_out, pkts_in;
};

struct rows {
	struct row r[M_MAX_BIND];
	int n;
};

static void collect(void *arg, const nat_binding_info *b)
{
	struct rows *rs = arg;

	cr_assert_lt(rs->n, M_MAX_BIND);
	rs->r[rs->n++] = (struct row){
		b->proto, b->external.ip.v4, b->internal.ip.v4, b->remote.ip.v4,
		b->external.port, b->internal.port, b->remote.port, b->state,
		b->ttl, b->age, b->pkts_out, b->pkts_in,
	};
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->ext_ip != y->ext_ip)
		return x->ext_ip < y->ext_ip ? -1 : 1;
	if (x->ext_port != y->ext_port)
		return x->ext_port < y->ext_port ? -1 : 1;
	return 0;
}

static struct rows eng_rows, mod_rows;      /* large: not on the stack */

static void compare_tables(struct run *r)
{
	const nat_stats *st = nat_get_stats(r->n);
	const struct model *m = &r->m;

	eng_rows.n = mod_rows.n = 0;
	nat_table_foreach(r->n, r->now, collect, &eng_rows);
	for (int i = 0; i < m->nb; i++) {
		const struct m_bind *b = &m->b[i];
		if (!m_live(b, r->now))
			continue;
		mod_rows.r[mod_rows.n++] = (struct row){
			b->proto, b->ext_ip, b->in_ip, b->rem_ip, b->ext_port, b->in_port, b->rem_port,
			m_state_name[m_state(b, r->now)], m_expiry(b) - r->now, r->now - b->created,
			b->pkts_out, b->pkts_in,
		};
		r->cov->state_rows[m_state(b, r->now)]++;
		if (b->proto == TV_PROTO_TCP)
			cover_conns(r->cov, &r->m, b, r->now);
	}
	snprintf(r->what, sizeof(r->what), "binding table");
	cr_assert_eq(eng_rows.n, mod_rows.n, FAIL_CTX "engine lists %d live bindings, model has %d",
		     CTX(r), eng_rows.n, mod_rows.n);
	qsort(eng_rows.r, (size_t)eng_rows.n, sizeof(struct row), row_cmp);
	qsort(mod_rows.r, (size_t)mod_rows.n, sizeof(struct row), row_cmp);
	for (int i = 0; i < eng_rows.n; i++) {
		const struct row *x = &eng_rows.r[i], *y = &mod_rows.r[i];
		cr_assert(row_cmp(x, y) == 0 && x->in_ip == y->in_ip && x->in_port == y->in_port &&
			  x->rem_ip == y->rem_ip && x->rem_port == y->rem_port,
			  FAIL_CTX "row %d: engine proto %u %08x:%u <- %08x:%u (remote %08x:%u), "
			  "model proto %u %08x:%u <- %08x:%u (remote %08x:%u)", CTX(r), i,
			  x->proto, x->ext_ip, x->ext_port, x->in_ip, x->in_port, x->rem_ip, x->rem_port,
			  y->proto, y->ext_ip, y->ext_port, y->in_ip, y->in_port, y->rem_ip, y->rem_port);
		cr_assert(x->ttl == y->ttl && strcmp(x->state, y->state) == 0 && x->age == y->age,
			  FAIL_CTX "binding %08x:%u (proto %u): engine %s ttl %lld age %lld, model %s ttl %lld age %lld",
			  CTX(r), x->ext_ip, x->ext_port, x->proto, x->state, (long long)x->ttl,
			  (long long)x->age, y->state, (long long)y->ttl, (long long)y->age);
		cr_assert(x->pkts_out == y->pkts_out && x->pkts_in == y->pkts_in,
			  FAIL_CTX "binding %08x:%u: engine counted %llu out %llu in, model %llu out %llu in",
			  CTX(r), x->ext_ip, x->ext_port, (unsigned long long)x->pkts_out,
			  (unsigned long long)x->pkts_in, (unsigned long long)y->pkts_out,
			  (unsigned long long)y->pkts_in);
	}
	cr_assert(st->out == m->st.out && st->in == m->st.in && st->hairpin == m->st.hairpin &&
		  st->icmp_in == m->st.icmp_in && st->icmp_out == m->st.icmp_out &&
		  st->created == m->st.created,
		  FAIL_CTX "counters differ: out %llu/%llu in %llu/%llu hairpin %llu/%llu icmp %llu/%llu "
		  "%llu/%llu created %llu/%llu", CTX(r),
		  (unsigned long long)st->out, (unsigned long long)m->st.out,
		  (unsigned long long)st->in, (unsigned long long)m->st.in,
		  (unsigned long long)st->hairpin, (unsigned long long)m->st.hairpin,
		  (unsigned long long)st->icmp_in, (unsigned long long)m->st.icmp_in,
		  (unsigned long long)st->icmp_out, (unsigned long long)m->st.icmp_out,
		  (unsigned long long)st->created, (unsigned long long)m->st.created);
	for (int d = 0; d < NAT_DROP__COUNT; d++)
		cr_assert_eq(st->drop[d], m->st.drop[d], FAIL_CTX "drop.%s: engine %llu, model %llu",
			     CTX(r), nat_drop_name((enum nat_drop)d),
			     (unsigned long long)st->drop[d], (unsigned long long)m->st.drop[d]);
	r->cov->table_checks++;
}

/* The sweep: after nat_on_timeout(now) the engine holds exactly the live
 * bindings and its next wake is in the future, no later than the earliest
 * expiry (nat.h: one timer, "earliest binding expiry"). */
static void sweep(struct run *r)
{
	tv_time earliest = TV_NEVER, wake;

	nat_on_timeout(r->n, r->now);
	wake = nat_next_wake(r->n);
	for (int i = 0; i < r->m.nb; i++)
		if (m_live(&r->m.b[i], r->now) && m_expiry(&r->m.b[i]) < earliest)
			earliest = m_expiry(&r->m.b[i]);
	snprintf(r->what, sizeof(r->what), "sweep");
	cr_assert_eq(nat_binding_count(r->n), (uint32_t)m_live_count(&r->m, r->now),
		     FAIL_CTX "after the sweep the engine counts %u bindings, model has %d live",
		     CTX(r), nat_binding_count(r->n), m_live_count(&r->m, r->now));
	cr_assert_gt(wake, r->now, FAIL_CTX "next wake %lld not in the future", CTX(r), (long long)wake);
	cr_assert_leq(wake, earliest, FAIL_CTX "next wake %lld after the earliest expiry %lld",
		      CTX(r), (long long)wake, (long long)earliest);
	r->cov->sweeps++;
}

static void advance(struct run *r)
{
	uint32_t u = rnd(r, 100);
	tv_time dt;

	if (u < 55)
		dt = rnd(r, 50000);                     /* < 50 ms */
	else if (u < 85)
		dt = (tv_time)rnd(r, 3000) * 1000;      /* < 3 s */
	else if (u < 97)
		dt = (tv_time)rnd(r, 40000) * 1000;     /* < 40 s */
	else
		dt = (tv_time)rnd(r, 600) * 1000000;    /* < 10 min */
	r->now += dt;
}

/* Jump to exactly some binding's expiry (or just before it). */
static void jump_to_expiry(struct run *r)
{
	int live[M_MAX_BIND], nl = 0;

	for (int i = 0; i < r->m.nb; i++)
		if (m_live(&r->m.b[i], r->now))
			live[nl++] = i;
	if (nl) {
		r->now = m_expiry(&r->m.b[live[rnd(r, (uint32_t)nl)]]) - (tv_time)rnd(r, 2);
		r->cov->jumps++;
	}
}

static void one_packet(struct run *r)
{
	uint8_t buf[PKT_IP_MAX], orig[PKT_IP_MAX];
	uint32_t k = rnd(r, 1000);
	uint8_t proto = rand_proto(r), flags = proto == TV_PROTO_TCP ? rand_flags(r) : 0;
	enum nat_dir dir;
	int len, olen;

	if (k < 440) {                  /* outbound */
		dir = NAT_OUT;
		len = build(r, buf, proto, rand_int_ep(r), rand_rem_ep(r), flags);
	} else if (k < 720) {           /* inbound: replies, or anything to mostly mapped ports */
		tv_ep src, dst;
		dir = NAT_IN;
		if (rnd(r, 2) && rand_reply(r, &proto, &src, &dst))
			len = build(r, buf, proto, src, dst, proto == TV_PROTO_TCP ? rand_flags(r) : 0);
		else
			len = build(r, buf, proto, rand_rem_ep(r), rand_pub_ep(r, proto), flags);
	} else if (k < 800) {           /* hairpin */
		dir = NAT_OUT;
		len = build(r, buf, proto, rand_int_ep(r), rand_pub_ep(r, proto), flags);
	} else if (k < 840) {           /* ICMP error about a packet we sent out */
		tv_ep pub = rand_pub_ep(r, proto), rem = rand_rem_ep(r);
		dir = NAT_IN;
		olen = build(r, orig, proto, pub, rem, flags);
		len = build_icmp(r, buf, rnd(r, 2) ? rem.ip.v4 : IP(203, 0, 113, 254), ICMP_UNREACH, orig,
				 (size_t)olen);
	} else if (k < 865) {           /* ICMP error from inside about an inbound packet */
		tv_ep in = rand_int_ep(r), rem = rand_rem_ep(r);
		dir = NAT_OUT;
		olen = build(r, orig, proto, rem, in, flags);
		len = build_icmp(r, buf, in.ip.v4, rnd(r, 4) ? ICMP_UNREACH : ICMP_TIMXCEED, orig, (size_t)olen);
	} else if (k < 875) {           /* ICMP that is not translated: echo, short quote */
		dir = rnd(r, 2) ? NAT_IN : NAT_OUT;
		olen = build(r, orig, proto, rand_pub_ep(r, proto), rand_rem_ep(r), flags);
		if (rnd(r, 2))
			len = build_icmp(r, buf, IP(203, 0, 113, 1), ICMP_ECHO, orig, (size_t)olen);
		else
			len = build_icmp(r, buf, IP(203, 0, 113, 1), ICMP_UNREACH, orig, IP4_HDR + rnd(r, 8));
	} else if (k < 895) {           /* damaged: a bit flipped or cut short */
		dir = rnd(r, 2) ? NAT_IN : NAT_OUT;
		len = build(r, buf, proto, rand_int_ep(r), rand_rem_ep(r), flags);
		if (rnd(r, 2)) {
			uint32_t bit = rnd(r, (uint32_t)len * 8);
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		} else {
			len = (int)rnd(r, (uint32_t)len);
		}
	} else {                        /* ttl 1 or 2, either way */
		dir = rnd(r, 2) ? NAT_IN : NAT_OUT;
		if (dir == NAT_OUT)
			len = build(r, buf, proto, rand_int_ep(r), rand_rem_ep(r), flags);
		else
			len = build(r, buf, proto, rand_rem_ep(r), rand_pub_ep(r, proto), flags);
		buf[8] = (uint8_t)(1 + rnd(r, 2));
		fix_ip_csum(buf);
	}
	step_packet(r, dir, buf, len);
}

/* Firewall rules used by some runs: first match wins. */
static void add_rules(nat_cfg *c)
{
	static const nat_rule rules[] = {
		/* allow TCP in from 203.0.113.3:5000 ... */
		{ .allow = true, .dir = NAT_IN, .proto = TV_PROTO_TCP, .src = IP(203, 0, 113, 3),
		  .src_mask = 0xffffffff, .sport_lo = 5000, .sport_hi = 5000, .dport_hi = 65535 },
		/* ... but nothing else from there */
		{ .allow = false, .dir = NAT_IN, .src = IP(203, 0, 113, 3), .src_mask = 0xffffffff,
		  .sport_lo = 5000, .sport_hi = 5000, .dport_hi = 65535 },
		/* host .12 may not send UDP to port 3478 */
		{ .allow = false, .dir = NAT_OUT, .proto = TV_PROTO_UDP, .src = IP(192, 168, 1, 12),
		  .src_mask = 0xffffffff, .sport_hi = 65535, .dport_lo = 3478, .dport_hi = 3478 },
		/* nothing to or from 203.0.113.2's port 5000 range in either direction */
		{ .allow = false, .dir = NAT_IN | NAT_OUT, .dst = IP(203, 0, 113, 2), .dst_mask = 0xffffffff,
		  .sport_hi = 65535, .dport_lo = 4990, .dport_hi = 5010 },
	};
	for (size_t i = 0; i < N(rules); i++)
		c->rules[c->nrules++] = rules[i];
}

static void run_one(struct cover *cov, enum nat_behav mapping, enum nat_behav filtering,
		    enum nat_refresh refresh, enum nat_port_alloc ports, bool parity, uint64_t seed,
		    int npackets, struct m_bind *slots)
{
	static const tv_time udp_to[] = { TV_SEC(10), TV_SEC(30), TV_SEC(120) };
	static const uint16_t port_his[] = { 1031, 1040, 1100 };
	struct run r = { .seed = seed, .cov = cov };
	nat_cfg c;
	char err[128];
	int since_check = 0;

	tv_rng_seed(&r.g, seed * 0x9e3779b97f4a7c15ULL + (uint64_t)mapping * 131 + (uint64_t)filtering * 17 +
			  (uint64_t)refresh * 7 + (uint64_t)ports * 3 + parity);
	nat_cfg_default(&c);
	c.mapping = mapping;
	c.filtering = filtering;
	c.refresh = refresh;
	c.ports = ports;
	c.parity = parity;
	c.pool = NAT_POOL_PAIRED;
	c.npub = 1 + (int)(seed % 2);
	c.pub[0] = tv_ip4(pubs[0]);
	c.pub[1] = tv_ip4(pubs[1]);
	c.port_lo = 1024;
	c.port_hi = port_his[rnd(&r, N(port_his))];
	c.udp_timeout = udp_to[rnd(&r, N(udp_to))];
	switch (rnd(&r, 3)) {   /* stream timeout: shorter, equal or longer */
	case 0: c.udp_stream_timeout = TV_SEC(5); break;
	case 1: c.udp_stream_timeout = c.udp_timeout; break;
	default: c.udp_stream_timeout = TV_SEC(180); break;
	}
	c.udp_stream_after = rnd(&r, 2) ? TV_SEC(2) : 0;       /* Linux's rule, or the first reply */
	c.tcp_transitory = rnd(&r, 2) ? TV_SEC(20) : TV_SEC(240);
	c.tcp_established = rnd(&r, 2) ? TV_SEC(300) : TV_SEC(2 * 3600 + 4 * 60);
	c.hairpin = rnd(&r, 4) != 0;
	c.max_bindings = rnd(&r, 3) == 0 ? 4 + rnd(&r, 30) : 0;
	if (seed % 3 == 0)
		add_rules(&c);
	snprintf(r.cfgname, sizeof(r.cfgname), "%s-map %s-filt refresh-%s %s%s npub %d ports %u-%u%s",
		 nat_behav_name(mapping), nat_behav_name(filtering),
		 refresh == NAT_REFRESH_BOTH ? "both" : "out",
		 ports == NAT_PORT_PRESERVE ? "preserve" : "sequential", parity ? " parity" : "",
		 c.npub, c.port_lo, c.port_hi, c.udp_stream_after ? " stream-after-2s" : "");

	if (getenv("NAT_DIFF_TRACE") && strstr(r.cfgname, getenv("NAT_DIFF_TRACE")) &&
	    (!getenv("NAT_DIFF_SEED") || strtoull(getenv("NAT_DIFF_SEED"), NULL, 10) == seed))
		r.trace = true;
	r.n = nat_new(&c, seed, err, sizeof(err));
	cr_assert_not_null(r.n, "%s", err);
	r.m.cfg = c;
	r.m.b = slots;
	for (int i = 0; i < NAT_MAX_PUB; i++)
		r.m.cursor[i][0] = r.m.cursor[i][1] = c.port_lo;
	r.now = TV_SEC(1000);

	for (r.idx = 0; r.idx < npackets; r.idx++) {
		uint32_t ev = rnd(&r, 1000);

		advance(&r);
		if (ev < 30) {
			sweep(&r);
		} else if (ev < 35) {
			r.m.full = !r.m.full;
			nat_set_table_full(r.n, r.m.full);
		} else if (ev < 38) {
			r.m.cfg.max_bindings = rnd(&r, 2) ? 0 : 2 + rnd(&r, 40);
			nat_set_max_bindings(r.n, r.m.cfg.max_bindings);
		} else if (ev < 40) {
			/* The address changes: bindings on it are lost, others stay. */
			tv_ip nip = tv_ip4(r.m.cfg.pub[0].v4 == pubs[0] ? pub_alt : pubs[0]);
			for (int i = 0; i < r.m.nb; i++)
				if (r.m.b[i].in_use && r.m.b[i].ext_ip == r.m.cfg.pub[0].v4)
					r.m.b[i].in_use = false;
			r.m.cfg.pub[0] = nip;
			cr_assert_eq(nat_change_pub(r.n, 0, &nip), 0);
		} else if (ev < 55) {
			jump_to_expiry(&r);
		}
		if (r.m.full && rnd(&r, 4) == 0) {      /* faults do not last */
			r.m.full = false;
			nat_set_table_full(r.n, false);
		}
		one_packet(&r);
		if (++since_check == 100) {
			compare_tables(&r);
			since_check = 0;
		}
	}
	compare_tables(&r);
	sweep(&r);
	cov->runs++;
	cov->created += r.m.st.created;
	cov->hairpin += r.m.st.hairpin;
	cov->icmp_in += r.m.st.icmp_in;
	cov->icmp_out += r.m.st.icmp_out;
	cov->expired += nat_get_stats(r.n)->expired;
	nat_free(r.n);
}

#define SEEDS 4
#define PACKETS 3000

static void run_class(enum nat_behav mapping, enum nat_behav filtering)
{
	struct cover cov = { 0 };
	struct m_bind *slots = calloc(M_MAX_BIND, sizeof(struct m_bind));
	int combos = 0;

	cr_assert_not_null(slots);
	for (int refresh = 0; refresh < 2; refresh++)
		for (int ports = 0; ports < 2; ports++)
			for (int parity = 0; parity < 2; parity++) {
				for (uint64_t seed = 1; seed <= SEEDS; seed++)
					run_one(&cov, mapping, filtering,
						refresh ? NAT_REFRESH_BOTH : NAT_REFRESH_OUTBOUND,
						ports ? NAT_PORT_SEQUENTIAL : NAT_PORT_PRESERVE,
						parity, seed, PACKETS, slots);
				combos++;
			}
	free(slots);
	cr_assert_eq(combos, 8);
	cr_assert_eq(cov.packets, (uint64_t)combos * SEEDS * PACKETS);
	/* Every verdict the traffic is meant to reach, was reached. */
	cr_assert_gt(cov.verdict[0], cov.packets / 10, "too few packets went out");
	cr_assert_gt(cov.verdict[1], cov.packets / 20, "too few packets came in");
	for (int d = 0; d < NAT_DROP__COUNT; d++) {
		if (d == NAT_DROP_FILTERED && filtering == NAT_EI)
			continue;
		cr_assert_gt(cov.verdict[2 + d], 0, "no packet was dropped as %s",
			     nat_drop_name((enum nat_drop)d));
	}
	cr_assert_gt(cov.hairpin, 0);
	cr_assert_gt(cov.icmp_in, 0);
	cr_assert_gt(cov.icmp_out, 0);
	cr_assert_gt(cov.created, cov.packets / 50);
	cr_assert_gt(cov.table_checks, 0);
	cr_assert_gt(cov.sweeps, 0);
	cr_assert_gt(cov.jumps, 0);
	cr_assert_gt(cov.expired, cov.created / 4, "too few bindings expired");
	for (int st = 0; st < M__COUNT; st++)
		cr_assert_gt(cov.state_rows[st], 0, "no binding was ever seen %s", m_state_name[st]);
	/* Several TCP connections per binding (endpoint-independent and
	 * address-dependent mapping): one closing or gone, another established. */
	if (mapping != NAT_APD) {
		cr_assert_gt(cov.multi_conn, 0, "no TCP binding carried two live connections");
		cr_assert_gt(cov.est_and_closing, 0, "no established connection beside a closing one");
		cr_assert_gt(cov.outlived_closed, 0, "no binding outlived a closed connection");
	}
	if (getenv("NAT_DIFF_VERBOSE")) {
		fprintf(stderr, "%s/%s: %llu packets in %llu runs, %llu bindings created, %llu table checks, "
			"%llu sweeps; out %llu in %llu hairpin %llu icmp %llu/%llu;",
			nat_behav_name(mapping), nat_behav_name(filtering),
			(unsigned long long)cov.packets, (unsigned long long)cov.runs,
			(unsigned long long)cov.created, (unsigned long long)cov.table_checks,
			(unsigned long long)cov.sweeps, (unsigned long long)cov.verdict[0],
			(unsigned long long)cov.verdict[1], (unsigned long long)cov.hairpin,
			(unsigned long long)cov.icmp_in, (unsigned long long)cov.icmp_out);
		fprintf(stderr, " expired %llu; tcp: multi-connection %llu, established+closing %llu, "
			"outlived a closed one %llu;", (unsigned long long)cov.expired,
			(unsigned long long)cov.multi_conn, (unsigned long long)cov.est_and_closing,
			(unsigned long long)cov.outlived_closed);
		for (int st = 0; st < M__COUNT; st++)
			fprintf(stderr, " %s %llu", m_state_name[st], (unsigned long long)cov.state_rows[st]);
		fprintf(stderr, ";");
		for (int d = 0; d < NAT_DROP__COUNT; d++)
			fprintf(stderr, " %s %llu", nat_drop_name((enum nat_drop)d),
				(unsigned long long)cov.verdict[2 + d]);
		fprintf(stderr, "\n");
	}
}

Test(nat_diff, eim_eif) { run_class(NAT_EI, NAT_EI); }
Test(nat_diff, eim_adf) { run_class(NAT_EI, NAT_AD); }
Test(nat_diff, eim_apdf) { run_class(NAT_EI, NAT_APD); }
Test(nat_diff, adm_eif) { run_class(NAT_AD, NAT_EI); }
Test(nat_diff, adm_adf) { run_class(NAT_AD, NAT_AD); }
Test(nat_diff, adm_apdf) { run_class(NAT_AD, NAT_APD); }
Test(nat_diff, apdm_eif) { run_class(NAT_APD, NAT_EI); }
Test(nat_diff, apdm_adf) { run_class(NAT_APD, NAT_AD); }
Test(nat_diff, apdm_apdf) { run_class(NAT_APD, NAT_APD); }
