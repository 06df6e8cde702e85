/* scn_findings.c - what went wrong, in an SBC engineer's words.
 *
 * A failed check says what a phone saw ("bob's state is calling, want
 * established"); a finding names the fault behind it, so that a
 * conformance run against someone's SBC fails for a reason they can act
 * on, and a test can assert that a broken SBC fails for the right one:
 *
 *   Contact not rewritten: bob's INVITE went to 192.168.2.10:5060
 *   Via not honoured: the 200 for alice's REGISTER went to 192.168.1.10:5060
 *   binding expired: no keepalive toward alice
 *   one-way audio: alice hears bob, bob hears nothing
 *   RTP injected: bob heard 50 packets of SSRC 0x5ca1ab1e, which no phone sent
 *
 * Sources: the namespace trap (scn_netns.c; a packet the proxy under test
 * sent to an address nobody holds is a fault by itself and fails the run),
 * and a diagnosis made when a check fails (the NATs' tables and the phones'
 * media counters at that moment; these explain failures, they add none).
 * Findings are kept once each, in the order found. */
#include "scn_ctx.h"
#include "scn_findings.h"

#include <stdarg.h>
#include <stdlib.h>

#include "natnode.h"
#include "media.h"

static bool finding_has(const scn_result *r, const char *text)
{
	size_t n = strlen(text);

	for (const char *p = r->findings; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !memcmp(p, text, n))
			return true;
		p += len + (e ? 1 : 0);
	}
	return false;
}

void ctx_finding(scn_ctx *c, bool fault, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	size_t n;
	char *nf;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (finding_has(c->r, msg))
		return;
	n = strlen(msg);
	nf = realloc(c->r->findings, c->r->findings_len + n + 2);
	if (!nf)
		return;
	memcpy(nf + c->r->findings_len, msg, n);
	nf[c->r->findings_len + n] = '\n';
	nf[c->r->findings_len + n + 1] = 0;
	c->r->findings = nf;
	c->r->findings_len += n + 1;
	if (fault) {
		c->r->expects++;
		c->r->failed++;
	}
}

/* ---- the trap: a packet the proxy under test sent where nobody is ---- */

/* The phones that hold ip, "alice" or "alice or carol"; "" if none. With
 * user set, the one of them with that user name if there is one. */
static void owners(scn_ctx *c, uint32_t ip, const char *user, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = 0;
	for (int i = 0; i < c->nsyms; i++) {
		const sym *s = c->syms[i];
		if (s->kind != SYM_PHONE || s->ip.v4 != ip)
			continue;
		if (user && !strcmp(user, s->domain)) {
			snprintf(out, cap, "%s", s->name);
			return;
		}
		if (o < cap)
			o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? " or " : "", s->name);
	}
}

/* Whether the scenario has ip at all (a phone, NAT, host, proxy,
 * softswitch). An SBC under test keeps its state from one scenario to the
 * next: what it sends to addresses of an earlier scenario (keepalives to a
 * registration that has not expired in its eyes) is not this one's fault. */
static bool known_ip(scn_ctx *c, uint32_t ip)
{
	for (int i = 0; i < c->nsyms; i++)
		if ((c->syms[i]->ip.af == TV_AF_INET && c->syms[i]->ip.v4 == ip) ||
		    (c->syms[i]->ip2.af == TV_AF_INET && c->syms[i]->ip2.v4 == ip))
			return true;
	return false;
}

/* Copy the value of header name (case-insensitive, at a line start) into
 * out, up to the end of its line. */
static bool sip_header(const char *m, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl + 1 < len; i++) {
		if ((i == 0 || m[i - 1] == '\n') && !strncasecmp(m + i, name, nl) && m[i + nl] == ':') {
			size_t k = i + nl + 1, o = 0;
			while (k < len && m[k] == ' ')
				k++;
			while (k < len && m[k] != '\r' && m[k] != '\n' && o + 1 < cap)
				out[o++] = m[k++];
			out[o] = 0;
			return true;
		}
	}
	return false;
}

/* The user part of the request URI: "INVITE sip:bob@..." -> "bob". */
static void ruri_user(const char *m, size_t len, char *out, size_t cap)
{
	const char *sp = memchr(m, ' ', len), *at, *end;
	size_t o = 0;

	out[0] = 0;
	if (!sp || (size_t)(sp - m) + 5 > len || strncasecmp(sp + 1, "sip:", 4))
		return;
	end = memchr(sp + 5, ' ', len - (size_t)(sp + 5 - m));
	at = end ? memchr(sp + 5, '@', (size_t)(end - sp - 5)) : NULL;
	if (!at)
		return;
	for (const char *p = sp + 5; p < at && o + 1 < cap; p++)
		out[o++] = *p;
	out[o] = 0;
}

void findings_trap(scn_ctx *c, const uint8_t *p, size_t len)
{
	char d[TV_EP_STRLEN], s[TV_EP_STRLEN], who[96], what[80], user[64] = "";
	unsigned ihl;
	uint8_t proto;
	tv_ep src, dst;
	const char *m;
	size_t ml;

	if (len < 20 || p[0] >> 4 != 4 || (ihl = (p[0] & 15u) * 4u) < 20 || ihl > len)
		return;         /* not IPv4 (the trap has no IPv6 route) */
	if (pkt_get16(p + 6) & 0x1fff)
		return;         /* a later fragment: its datagram was named by the first */
	proto = p[9];
	src = tv_ep4(pkt_get32(p + 12), 0);
	dst = tv_ep4(pkt_get32(p + 16), 0);
	if ((proto == TV_PROTO_UDP || proto == TV_PROTO_TCP) && len >= ihl + 4) {
		src.port = pkt_get16(p + ihl);
		dst.port = pkt_get16(p + ihl + 2);
	}
	if (!known_ip(c, dst.ip.v4))
		return;
	tv_ep_fmt(&dst, d);
	tv_ep_fmt(&src, s);
	if (proto == TV_PROTO_TCP) {
		owners(c, dst.ip.v4, NULL, who, sizeof(who));
		if (who[0])
			ctx_finding(c, true, "Contact not rewritten: a TCP connection toward %s went to %s", who, d);
		else
			ctx_finding(c, true, "sent where nobody is: a TCP connection from %s to %s", s, d);
		return;
	}
	if (proto != TV_PROTO_UDP) {
		if (proto == TV_PROTO_ICMP)
			return;         /* errors about what it got; not something it delivered */
		ctx_finding(c, true, "sent where nobody is: IP protocol %u from %s to %s", proto, s, d);
		return;
	}
	m = (const char *)p + ihl + 8;
	ml = len > ihl + 8 ? len - ihl - 8 : 0;
	if (ml >= 8 && !memcmp(m, "SIP/2.0 ", 8)) {
		char cseq[64] = "", code[4] = { 0 };
		const char *meth;
		memcpy(code, m + 8, ml >= 11 ? 3 : 0);
		sip_header(m, ml, "CSeq", cseq, sizeof(cseq));
		meth = strchr(cseq, ' ');
		owners(c, dst.ip.v4, NULL, who, sizeof(who));
		if (who[0])
			ctx_finding(c, true, "Via not honoured: the %s for %s's %s went to %s", code, who,
				    meth ? meth + 1 : "request", d);
		else
			ctx_finding(c, true, "sent where nobody is: a %s response (%s) from %s to %s", code,
				    meth ? meth + 1 : "?", s, d);
		return;
	}
	if (ml >= 12 && memmem(m, ml < 200 ? ml : 200, " SIP/2.0\r\n", 10)) {
		size_t k = 0;
		while (k < ml && k + 1 < sizeof(what) && m[k] != ' ')
			k++;
		memcpy(what, m, k);
		what[k] = 0;
		ruri_user(m, ml, user, sizeof(user));
		owners(c, dst.ip.v4, user[0] ? user : NULL, who, sizeof(who));
		if (who[0])
			ctx_finding(c, true, "Contact not rewritten: %s's %s went to %s", who, what, d);
		else
			ctx_finding(c, true, "sent where nobody is: a SIP %s from %s to %s", what, s, d);
		return;
	}
	owners(c, dst.ip.v4, NULL, who, sizeof(who));
	if (ml >= 8 && (m[0] & 0xc0) == 0x80) {
		bool rtcp = (uint8_t)m[1] >= 200 && (uint8_t)m[1] <= 204;
		if (who[0])
			ctx_finding(c, true, "SDP not rewritten: %s for %s went to %s", rtcp ? "RTCP" : "RTP", who, d);
		else
			ctx_finding(c, true, "sent where nobody is: %s from %s to %s", rtcp ? "RTCP" : "RTP", s, d);
		return;
	}
	if (who[0])
		ctx_finding(c, true, "sent to a private address: %zu bytes for %s went to %s", ml, who, d);
	else
		ctx_finding(c, true, "sent where nobody is: %zu bytes of UDP from %s to %s", ml, s, d);
}

/* ---- diagnosis of a failed check ---- */

struct find_map {
	tv_ep want;
	bool found;
};

static void find_map_fn(void *arg, const nat_binding_info *b)
{
	struct find_map *f = arg;

	if ((b->proto == TV_PROTO_UDP || b->proto == TV_PROTO_TCP) && tv_ep_eq(&b->internal, &f->want))
		f->found = true;
}

/* A phone that believes it is registered, behind a NAT that no longer maps
 * its SIP port: nothing kept the mapping open. */
/* The simulated NAT in front of phone ph (the gateway of its link), or
 * NULL: none, or the kernel's (kind=linux), whose table is not ours. */
static const sym *nat_of(scn_ctx *c, const sym *ph)
{
	for (int k = 0; k < c->nsyms; k++) {
		const sym *n = c->syms[k];
		if (n->kind == SYM_NAT && n->obj && !n->obj2 && n->link == ph->link)
			return n;
	}
	return NULL;
}

static bool nat_flushed(const sym *n) { return nat_get_stats(nat_node_engine(n->obj))->flushed > 0; }

static void diagnose_keepalive(scn_ctx *c)
{
	tv_time now = sim_net_now(c->net);

	for (int i = 0; i < c->nsyms; i++) {
		const sym *ph = c->syms[i];
		struct find_map f = { .want = tv_ep4(ph->ip.v4, ph->port) };
		const sym *n;

		if (ph->kind != SYM_PHONE || !ph->obj || !sipua_get_status(ph->obj)->registered ||
		    !(n = nat_of(c, ph)))
			continue;
		/* a NAT the scenario rebooted lost its mappings by design */
		if (nat_flushed(n))
			continue;
		nat_table_foreach(nat_node_engine(n->obj), now, find_map_fn, &f);
		if (!f.found)
			ctx_finding(c, false, "binding expired: no keepalive toward %s", ph->name);
	}
}

/* Whether a phone in a call other than ph sent RTP within the last 500 ms:
 * media ph stopped hearing is then missing, not paused on purpose (mute,
 * hold, a scenario's media control). */
static bool peer_sending(scn_ctx *c, const sym *ph)
{
	tv_time now = sim_net_now(c->net);

	for (int i = 0; i < c->nsyms; i++) {
		const sym *o = c->syms[i];
		media_stream *ms;
		const media_stats *m;

		if (o == ph || o->kind != SYM_PHONE || !o->obj || sipua_get_status(o->obj)->state != SIPUA_ESTABLISHED)
			continue;
		if ((ms = sipua_media(o->obj, 0)) && (m = media_get_stats(ms)) && m->last_tx &&
		    now - m->last_tx <= TV_MS(500))
			return true;
	}
	return false;
}

/* Phones in a call that send RTP: who hears and who does not; who heard
 * and stopped hearing while the other side still sends. */
static void diagnose_audio(scn_ctx *c)
{
	char deaf[128] = "", hear[128] = "";
	size_t nd = 0, nh = 0;
	int ndeaf = 0, nhear = 0;

	for (int i = 0; i < c->nsyms; i++) {
		const sym *ph = c->syms[i];
		media_stream *ms;
		const media_stats *m;

		if (ph->kind != SYM_PHONE || !ph->obj || sipua_get_status(ph->obj)->state != SIPUA_ESTABLISHED)
			continue;
		ms = sipua_media(ph->obj, 0);
		if (!ms || !(m = media_get_stats(ms)) || m->rtp_tx == 0)
			continue;
		if (m->rtp_rx && sim_net_now(c->net) - m->last_rx > TV_SEC(1) && peer_sending(c, ph)) {
			const sym *n = nat_of(c, ph);
			if (n && nat_flushed(n))
				ctx_finding(c, false, "media not re-latched: %s hears nothing since %s lost its mappings",
					    ph->name, n->name);
			else
				ctx_finding(c, false, "audio stopped: %s heard RTP, then nothing for over a second",
					    ph->name);
		}
		if (m->rtp_rx == 0) {
			if (nd < sizeof(deaf))
				nd += (size_t)snprintf(deaf + nd, sizeof(deaf) - nd, "%s%s", nd ? ", " : "", ph->name);
			ndeaf++;
		} else {
			if (nh < sizeof(hear))
				nh += (size_t)snprintf(hear + nh, sizeof(hear) - nh, "%s%s", nh ? ", " : "", ph->name);
			nhear++;
		}
	}
	if (ndeaf && nhear)
		ctx_finding(c, false, "one-way audio: %s %s RTP, %s %s nothing", hear, nhear > 1 ? "receive" : "receives",
			    deaf, ndeaf > 1 ? "receive" : "receives");
	else if (ndeaf > 1)
		ctx_finding(c, false, "no audio: %s send RTP and receive none", deaf);
}

/* Whether some phone of the scenario sends with ssrc (on any stream). */
static bool phone_ssrc(scn_ctx *c, uint32_t ssrc)
{
	for (int i = 0; i < c->nsyms; i++) {
		const sym *ph = c->syms[i];
		media_stream *ms;

		for (int k = 0; ph->kind == SYM_PHONE && ph->obj && k < 4; k++)
			if ((ms = sipua_media(ph->obj, k)) && media_ssrc(ms) == ssrc)
				return true;
	}
	return false;
}

/* What a phone heard that no phone sent: RTP of a stranger's SSRC (the
 * relay let an injector through, or latched onto one), and datagrams that
 * are neither RTP nor RTCP (the relay passed garbage on). */
static void diagnose_injected(scn_ctx *c)
{
	for (int i = 0; i < c->nsyms; i++) {
		const sym *ph = c->syms[i];
		media_stream *ms;
		const media_stats *m;

		for (int k = 0; ph->kind == SYM_PHONE && ph->obj && k < 4; k++) {
			if (!(ms = sipua_media(ph->obj, k)) || !(m = media_get_stats(ms)))
				continue;
			for (int j = 0; j < media_ssrc_count(ms); j++) {
				const media_ssrc_stats *x = media_ssrc_at(ms, j);
				if (x && x->rx && !phone_ssrc(c, x->ssrc))
					ctx_finding(c, false, "RTP injected: %s heard %llu packets of SSRC 0x%08x, which no phone sent",
						    ph->name, (unsigned long long)x->rx, x->ssrc);
			}
			if (m->ssrc_overflow)
				ctx_finding(c, false, "RTP injected: %s heard %llu packets of more SSRCs than the call has",
					    ph->name, (unsigned long long)m->ssrc_overflow);
			if (m->bad)
				ctx_finding(c, false, "malformed media: %s received %llu datagrams that are neither RTP nor RTCP",
					    ph->name, (unsigned long long)m->bad);
		}
	}
}

void findings_diagnose(scn_ctx *c)
{
	static bool busy;

	if (busy || c->dry || !c->net)
		return;
	busy = true;
	diagnose_keepalive(c);
	if (c->cur && c->cur->argc > 1 && !strcmp(c->cur->argv[0], "expect") &&
	    (!strcmp(c->cur->argv[1], "media") || !strcmp(c->cur->argv[1], "relay"))) {
		diagnose_audio(c);
		diagnose_injected(c);
	}
	busy = false;
}
