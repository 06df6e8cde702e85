/* scn_names.c - names for what a run assigns, usable wherever an
 * ADDRESS:PORT is (docs/scenarios.md, "Names the run assigns"):
 *
 *   PROXY.PHONE.STREAM.rtp|rtcp            the proxy's access-side relay port
 *   PROXY.PHONE.STREAM.core-rtp|core-rtcp  its core-side relay port
 *   PROXY.PHONE.STREAM.latched             where the stream latched (RTP)
 *   PROXY.PHONE.STREAM.sdp                 what the terminal wrote in its SDP
 *   PROXY.PHONE.nat|contact|core           the binding: NAT mapping, Contact
 *                                          as written, core-side address
 *   PHONE.STREAM.rtp|rtcp                  the phone's own media ports
 *   PHONE.STREAM.source                    where its last RTP packet came from
 *   NAT[ADDRESS:PORT] / NAT[tcp:ADDRESS:PORT]   the NAT's mapping (external
 *                                          address) of an internal endpoint
 *   any of them +N / -N                    the port moved by N
 * STREAM is audio, video or the m= line index 0-3. A name is looked up when
 * its statement runs; in the dry pass only its shape and symbols are
 * checked, so "check" catches typos but not "no such stream yet".
 *
 * Whose view: a proxy Traverse runs is asked (its engine, or its control
 * socket live). An external proxy (--proxy) cannot be asked, so its relay
 * ports are read from what the phones were told (name_from_sdp): rtp|rtcp
 * from the SDP PHONE last read, core-rtp|core-rtcp from the SDP the other
 * phone of PHONE's call last read. Its other names cannot be read. */
#include "scn_ctx.h"

#include <stdlib.h>
#include <string.h>

int names_stream_index(const char *s, int *idx)
{
	if (!strcmp(s, "audio"))
		*idx = 0;
	else if (!strcmp(s, "video"))
		*idx = 1;
	else if (s[0] >= '0' && s[0] <= '3' && !s[1])
		*idx = s[0] - '0';
	else
		return -1;
	return 0;
}

typedef struct stream_q {
	const char *user;
	int idx, found;
	proxy_stream_info *si;
} stream_q;

static void stream_visit(void *arg, const proxy_stream_info *si)
{
	stream_q *q = arg;

	if (!strcmp(si->user, q->user) && si->index == q->idx && !q->found++)
		*q->si = *si;
}

/* What the proxy knows: its engine in a simulated run, its control socket
 * in a live one (scn_live.c). */
void px_foreach_stream(scn_ctx *c, sym *px, void (*fn)(void *arg, const proxy_stream_info *s), void *arg)
{
	if (c->live)
		live_foreach_stream(c, fn, arg);
	else
		proxy_foreach_stream(px->obj, fn, arg);
}

void px_foreach_binding(scn_ctx *c, sym *px, void (*fn)(void *arg, const proxy_binding_info *b), void *arg)
{
	if (c->live)
		live_foreach_binding(c, fn, arg);
	else
		proxy_foreach_binding(px->obj, fn, arg);
}

int names_find_stream(scn_ctx *c, sym *px, const char *user, int idx, proxy_stream_info *out)
{
	stream_q q = { .user = user, .idx = idx, .si = out };

	px_foreach_stream(c, px, stream_visit, &q);
	return q.found;
}

typedef struct bind_q {
	const char *user;
	int found;
	proxy_binding_info bi;
} bind_q;

static void bind_visit(void *arg, const proxy_binding_info *bi)
{
	bind_q *q = arg;

	if (!strcmp(bi->user, q->user) && !q->found++)
		q->bi = *bi;
}

typedef struct map_q {
	uint8_t proto;
	tv_ep internal, external;
	int found;
} map_q;

static void map_visit(void *arg, const nat_binding_info *b)
{
	map_q *q = arg;

	if (b->proto == q->proto && tv_ep_eq(&b->internal, &q->internal) && !q->found++)
		q->external = b->external;
}

/* Does the URI name this user (sip:USER@...)? */
static bool uri_is_user(const char *uri, const char *user)
{
	size_t n = strlen(user);

	if (!strncmp(uri, "sip:", 4))
		uri += 4;
	return n && !strncmp(uri, user, n) && uri[n] == '@';
}

/* The other phone in ph's call: each names the other as its dialog's
 * remote URI. (Not the Call-ID: a B2BUA such as Traverse's proxy makes one
 * per leg.) */
static sym *call_peer(scn_ctx *c, sym *ph)
{
	for (int i = 0; i < c->nsyms; i++) {
		sym *y = c->syms[i];
		if (y != ph && y->kind == SYM_PHONE && y->obj && uri_is_user(sipua_remote_uri(ph->obj), y->domain) &&
		    uri_is_user(sipua_remote_uri(y->obj), ph->domain))
			return y;
	}
	return NULL;
}

/* An external proxy's relay ports, as the phones were told them. field:
 * 0 rtp, 1 rtcp, 2 core-rtp, 3 core-rtcp. The access side of ph's stream is
 * where the SBC told ph to send (c= and m= port of the SDP ph read; RTCP:
 * a=rtcp, else port + 1, or the RTP port with rtcp-mux). The core side is
 * the relay port facing the other leg of the call: where the SBC told the
 * other phone to send. An SBC with one media address (rtpengine -i) has
 * both on that address; Traverse's proxy, read this way, gives the other
 * phone's access ports (PROXY.PEER.STREAM.rtp), not PROXY.PHONE's core
 * ports, which no phone is ever told. */
static int name_from_sdp(scn_ctx *c, const char *full, sym *ph, int idx, int field, tv_ep *ep)
{
	sym *who = ph;
	tv_ep rtp, rtcp;

	if (field >= 2 && !(who = call_peer(c, ph)))
		return ctx_err(c, "'%s': %s is in no call with another phone of the scenario now", full, ph->name);
	if (sipua_peer_media(who->obj, idx, &rtp, &rtcp) < 0)
		return ctx_err(c, "'%s': %s has read no SDP with %s stream%s", full, who->name,
			       idx == 0 ? "an audio" : idx == 1 ? "a video" : "such a", who == ph ? "" : " (the other phone)");
	*ep = field & 1 ? rtcp : rtp;
	if (field >= 2 && !c->dry)
		live_core_reach(c, &ep->ip);
	return 0;
}

/* PROXY.PHONE... */
static int name_proxy(scn_ctx *c, const char *full, sym *px, char **part, int n, tv_ep *ep)
{
	bool opaque = live_opaque(c, SYM_PROXY);
	sym *ph = n >= 2 ? ctx_sym(c, part[1], SYM_PHONE) : NULL;
	int idx;

	if (!ph)
		return ctx_err(c, "'%s': expected %s.PHONE.STREAM.rtp|rtcp|core-rtp|core-rtcp|latched|sdp or "
			       "%s.PHONE.nat|contact|core", full, px->name, px->name);
	if (n == 3) {
		static const char *const f[] = { "nat", "contact", "core" };
		bind_q q = { .user = ph->domain };
		int k;
		for (k = 0; k < 3 && strcmp(part[2], f[k]); k++)
			;
		if (k == 3)
			return ctx_err(c, "'%s': a binding has nat, contact and core", full);
		if (opaque)
			return ctx_err(c, "'%s': what an external proxy (--proxy) holds cannot be read", full);
		if (c->dry)
			return 0;
		px_foreach_binding(c, px, bind_visit, &q);
		if (!q.found)
			return ctx_err(c, "'%s': proxy %s has no binding for %s now", full, px->name, ph->name);
		*ep = k == 0 ? q.bi.nat : k == 1 ? q.bi.contact : q.bi.core;
		return 0;
	}
	if (n == 4 && names_stream_index(part[2], &idx) == 0) {
		static const char *const f[] = { "rtp", "rtcp", "core-rtp", "core-rtcp", "latched", "sdp" };
		proxy_stream_info si;
		int k;
		for (k = 0; k < 6 && strcmp(part[3], f[k]); k++)
			;
		if (k == 6)
			return ctx_err(c, "'%s': a relayed stream has rtp, rtcp, core-rtp, core-rtcp, latched and sdp", full);
		if (c->dry)
			return 0;
		if (k < 4 && (opaque || c->o->sdp_names))
			return name_from_sdp(c, full, ph, idx, k, ep);
		if (opaque)
			return ctx_err(c, "'%s': what an external proxy (--proxy) holds cannot be read "
				       "(its rtp, rtcp, core-rtp and core-rtcp are read from the phones' SDP)", full);
		if (!names_find_stream(c, px, ph->domain, idx, &si))
			return ctx_err(c, "'%s': proxy %s relays no %s stream for %s now", full, px->name, part[2], ph->name);
		switch (k) {
		case 0: case 1: *ep = tv_ep4(px->ip.v4, (uint16_t)(si.access_port + k)); break;
		case 2: case 3: *ep = tv_ep4(px->ip2.v4, (uint16_t)(si.core_port + k - 2)); break;
		case 4: *ep = si.latched_rtp; break;
		default: *ep = si.sdp_rtp; break;
		}
		if (k == 4 && !ep->port)
			return ctx_err(c, "'%s': the stream has not latched yet", full);
		return 0;
	}
	return ctx_err(c, "'%s': expected %s.PHONE.STREAM.FIELD (STREAM: audio, video, 0-3) or %s.PHONE.nat|contact|core",
		       full, px->name, px->name);
}

/* PHONE.STREAM.rtp|rtcp|source */
static int name_phone(scn_ctx *c, const char *full, sym *ph, char **part, int n, tv_ep *ep)
{
	media_stream *m;
	const media_stats *ms;
	int idx, k;
	static const char *const f[] = { "rtp", "rtcp", "source" };

	if (n != 3 || names_stream_index(part[1], &idx) < 0)
		return ctx_err(c, "'%s': expected %s.STREAM.rtp|rtcp|source (STREAM: audio, video, 0-3)", full, ph->name);
	for (k = 0; k < 3 && strcmp(part[2], f[k]); k++)
		;
	if (k == 3)
		return ctx_err(c, "'%s': a phone's stream has rtp, rtcp and source", full);
	if (c->dry)
		return 0;
	m = sipua_media(ph->obj, idx);
	if (!m)
		return ctx_err(c, "'%s': phone %s has no %s stream now", full, ph->name, part[1]);
	if (k < 2) {
		*ep = tv_ep4(ph->ip.v4, k ? media_rtcp_port(m) : media_rtp_port(m));
		return 0;
	}
	ms = media_get_stats(m);
	if (!ms->rtp_rx)
		return ctx_err(c, "'%s': phone %s has received no RTP yet", full, ph->name);
	*ep = ms->last_src;
	return 0;
}

/* NAT[ADDRESS:PORT] or NAT[tcp:ADDRESS:PORT] */
static int name_nat(scn_ctx *c, const char *full, sym *nt, const char *inner, tv_ep *ep)
{
	map_q q = { .proto = TV_PROTO_UDP };

	if (!strncmp(inner, "tcp:", 4) || !strncmp(inner, "udp:", 4)) {
		q.proto = inner[0] == 't' ? TV_PROTO_TCP : TV_PROTO_UDP;
		inner += 4;
	}
	if (ctx_resolve(c, inner, &q.internal, false) < 0)
		return -1;
	if (c->dry)
		return 0;
	nat_table_foreach(nat_node_engine(nt->obj), sim_net_now(c->net), map_visit, &q);
	if (!q.found)
		return ctx_err(c, "'%s': nat %s has no %s mapping for %s now", full, nt->name,
			       q.proto == TV_PROTO_TCP ? "tcp" : "udp", inner);
	*ep = q.external;
	return 0;
}

/* 1: s is a run-assigned name (resolved into *ep, or an error counted);
 * 0: it is not one (the caller reads NAME:PORT or IP:PORT); -1: error. */
int names_resolve(scn_ctx *c, const char *s, tv_ep *ep)
{
	char buf[160], *part[6], *off;
	const char *br = strchr(s, '[');
	long delta = 0;
	int n = 0, rc;
	sym *y;

	if (strlen(s) >= sizeof(buf))
		return 0;
	snprintf(buf, sizeof(buf), "%s", s);
	/* a trailing +N / -N after the name moves the port */
	{
		size_t k = strlen(buf);
		while (k > 0 && buf[k - 1] >= '0' && buf[k - 1] <= '9')
			k--;
		if (k >= 2 && buf[k] && (buf[k - 1] == '+' || buf[k - 1] == '-') &&
		    (buf[k - 2] == ']' || (buf[k - 2] | 0x20) >= 'a') && strlen(buf + k) <= 5) {
			off = buf + k - 1;
			delta = strtol(off, NULL, 10);
			*off = '\0';
		}
	}
	if (br) {
		char *close = strrchr(buf, ']');
		buf[br - s] = '\0';
		y = ctx_sym(c, buf, SYM_NAT);
		if (!y)
			return 0;
		if (!close || close[1])
			return ctx_err(c, "'%s': expected %s[ADDRESS:PORT]", s, y->name);
		*close = '\0';
		rc = name_nat(c, s, y, buf + (br - s) + 1, ep);
	} else {
		for (char *p = buf, *save = NULL, *t; n < 6 && (t = strtok_r(p, ".", &save)); p = NULL)
			part[n++] = t;
		if (n < 2 || strchr(s, ':'))
			return 0;
		y = ctx_sym(c, part[0], -1);
		if (!y || (y->kind != SYM_PROXY && y->kind != SYM_PHONE))
			return 0;
		rc = y->kind == SYM_PROXY ? name_proxy(c, s, y, part, n, ep) : name_phone(c, s, y, part, n, ep);
	}
	if (rc < 0)
		return -1;
	if (c->dry) {
		*ep = tv_ep4(0, 1);
		return 1;
	}
	if (delta && (ep->port + delta < 1 || ep->port + delta > 65535))
		return ctx_err(c, "'%s': port %ld is out of range", s, ep->port + delta);
	ep->port = (uint16_t)(ep->port + delta);
	return 1;
}
