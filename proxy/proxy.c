/* proxy.c - the proxy's life cycle, tables and keepalive.
 *
 * Time is an argument. The host calls the proxy with the time (access_rx,
 * core_rx, tcp_ev, the timer callbacks, relay.c's px_relay_rx) and that
 * `now` is passed down; nothing below reads the clock. The only clock
 * reads are in public functions that have no `now` of their own
 * (tests/proxy_time.sh allows these and no others):
 *   proxy_set_keepalive   restarts a terminal's keepalive from now
 *   proxy_free            ends the remaining legs: their records' end time
 *   proxy_foreach_stream  the age of each stream's last packets
 *   proxy_foreach_binding the time to each terminal's next keepalive
 *
 * Its timers (keepalive, untrusted hold, registration, media, session,
 * BYE guard, Timer C) are px_timers.c's: this file reports events to it
 * and sends the keepalives it asks for (px_ka_send). */
#include "proxy_priv.h"
#include "emodel.h"
#include "stun_msg.h"

#include <osipparser2/osip_parser.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

uint64_t px_hash_mem(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	while (len--)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return h;
}

uint64_t px_hash_str(const char *s)
{
	return px_hash_mem(s, strlen(s));
}

static const char *const drop_names[PX_DROP__COUNT] = {
	[PX_DROP_SIP_MALFORMED] = "sip-malformed", [PX_DROP_SIP_UNKNOWN] = "sip-unknown",
	[PX_DROP_SIP_LENGTH] = "sip-bad-length", [PX_DROP_SIP_TOO_BIG] = "sip-too-big",
	[PX_DROP_SIP_VERSION] = "sip-version", [PX_DROP_SIP_CSEQ] = "sip-cseq-mismatch",
	[PX_DROP_SIP_STATUS] = "sip-bad-status", [PX_DROP_SIP_HOPS] = "sip-too-many-hops",
	[PX_DROP_SIP_CONTACT] = "sip-contact", [PX_DROP_SIP_EXTENSION] = "sip-extension",
	[PX_DROP_SIP_RATE] = "sip-rate", [PX_DROP_SIP_REFLECT] = "sip-reflect",
	[PX_DROP_SIP_VIA_LOST] = "sip-via-lost",
	[PX_DROP_SIP_MULTIPART] = "sip-multipart",
	[PX_DROP_SEND_ACCESS] = "send-access",
	[PX_DROP_SEND_CORE] = "send-core",
	[PX_DROP_RTP_FOREIGN] = "rtp-foreign", [PX_DROP_RTP_STRICT] = "rtp-strict",
	[PX_DROP_RTP_NO_DEST] = "rtp-no-dest", [PX_DROP_RTP_MALFORMED] = "rtp-malformed",
	[PX_DROP_RTP_CONFLICT] = "rtp-conflict",
};

const char *proxy_event_name(enum proxy_event_type t)
{
	static const char *const names[PX_EV__COUNT] = {
		[PX_EV_BINDING_ADDED] = "binding-added", [PX_EV_BINDING_TRUSTED] = "binding-trusted",
		[PX_EV_BINDING_REMOVED] = "binding-removed", [PX_EV_LEG_UP] = "leg-up", [PX_EV_LEG_DOWN] = "leg-down",
		[PX_EV_KA_MISS] = "keepalive-miss", [PX_EV_SIP] = "sip",
		[PX_EV_LATCH] = "latch", [PX_EV_RELATCH] = "relatch",
	};

	return t < PX_EV__COUNT ? names[t] : "?";
}

const char *proxy_drop_name(enum px_drop d) { return d < PX_DROP__COUNT ? drop_names[d] : "?"; }

void proxy_cfg_default(proxy_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sip_port = 5060;
	cfg->core_sig_lo = 5100;
	cfg->core_sig_hi = 5999;
	cfg->media_lo = 20000;
	cfg->media_hi = 29999;
	cfg->keepalive = PX_KA_OPTIONS;
	cfg->keepalive_interval = TV_SEC(20);
	cfg->keepalive_misses = 3;
	cfg->latch = PX_LATCH_SIGNALING_IP;
	cfg->latch_window = TV_SEC(30);
	cfg->trust = PX_TRUST_REGISTER;
	cfg->untrusted_hold = TV_SEC(32);
	cfg->random_ports = true;
	cfg->port_quarantine = TV_SEC(10);
	cfg->timer_c = TV_SEC(181);   /* "larger than 3 minutes" */
	cfg->max_legs = 8;
	cfg->max_untrusted = 450;         /* half the signaling ports */
	cfg->max_untrusted_per_ip = 200;
	cfg->rate = 20;
	cfg->topology_hiding = true;
	cfg->quality_delay = TV_MS(40);
}

/* ---- sending ---------------------------------------------------------- */

static int sent(proxy *p, int rc, uint64_t *ok, enum px_drop fail)
{
	if (rc < 0)
		p->st.drop[fail]++;
	else
		(*ok)++;
	return rc;
}

/* A SIP message seen or sent, for an operator watching (the call-flow
 * ladder): only when someone listens; CRLF keepalives are not messages. */
static void sip_seen(proxy *p, const char *dir, const tv_ep *src, const tv_ep *dst, bool tcp, const char *msg,
		     size_t len, tv_time now)
{
	if (p->cfg.on_event && len > 4) {
		proxy_event e = { .type = PX_EV_SIP, .reason = dir, .msg = msg, .len = len, .src = *src, .dst = *dst,
				  .tcp = tcp, .at = now };
		p->cfg.on_event(p->cfg.event_arg, &e);
	}
}

static tv_ep access_ep(const proxy *p) { return tv_ep4(p->cfg.access_ip.v4, p->cfg.sip_port); }

int px_send_access(proxy *p, px_binding *b, const char *msg, size_t len, tv_time now)
{
	tv_ep me = access_ep(p);
	int rc;

	if (b->tcp_flow && !b->tcp) {
		/* Its connection is gone and its NAT only has a TCP binding:
		 * nothing reaches it until it connects again (RFC 5626 flow). */
		p->st.drop[PX_DROP_SIP_UNKNOWN]++;
		return TV_ESTATE;
	}
	if (b->tcp) {
		tv_ep to = host_tcp_remote(b->tcp);
		rc = sent(p, host_tcp_send(b->tcp, msg, len), &p->st.sip_out_access, PX_DROP_SEND_ACCESS);
		if (rc >= 0)
			sip_seen(p, "access-out", &me, &to, true, msg, len, now);
		return rc;
	}
	if (len > SIP_UDP_MAX)
		return sent(p, TV_EINVAL, &p->st.sip_out_access, PX_DROP_SEND_ACCESS);
	rc = sent(p, host_udp_send(p->sip, &b->nat, msg, len), &p->st.sip_out_access, PX_DROP_SEND_ACCESS);
	if (rc >= 0)
		sip_seen(p, "access-out", &me, &b->nat, false, msg, len, now);
	return rc;
}

int px_send_raw(proxy *p, tv_tcp *tcp, const tv_ep *from, const char *msg, size_t len, tv_time now)
{
	tv_ep me = access_ep(p);
	int rc;

	if (tcp) {
		tv_ep to = host_tcp_remote(tcp);
		rc = sent(p, host_tcp_send(tcp, msg, len), &p->st.sip_out_access, PX_DROP_SEND_ACCESS);
		if (rc >= 0)
			sip_seen(p, "access-out", &me, &to, true, msg, len, now);
		return rc;
	}
	if (!from || len > SIP_UDP_MAX)
		return sent(p, TV_EINVAL, &p->st.sip_out_access, PX_DROP_SEND_ACCESS);
	rc = sent(p, host_udp_send(p->sip, from, msg, len), &p->st.sip_out_access, PX_DROP_SEND_ACCESS);
	if (rc >= 0)
		sip_seen(p, "access-out", &me, from, false, msg, len, now);
	return rc;
}

int px_send_core(proxy *p, px_binding *b, const char *msg, size_t len, tv_time now)
{
	tv_ep me = tv_ep4(p->cfg.core_ip.v4, b->core_port);
	int rc;

	if (len > SIP_UDP_MAX)
		return sent(p, TV_EINVAL, &p->st.sip_out_core, PX_DROP_SEND_CORE);
	rc = sent(p, host_udp_send(b->core_sock, &p->cfg.softswitch, msg, len), &p->st.sip_out_core,
		  PX_DROP_SEND_CORE);
	if (rc >= 0)
		sip_seen(p, "core-out", &me, &p->cfg.softswitch, false, msg, len, now);
	return rc;
}

/* ---- bindings --------------------------------------------------------- */

static void core_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	px_binding *b = arg;

	(void)s;
	b->p->st.sip_in_core++;
	{
		tv_ep me = tv_ep4(b->p->cfg.core_ip.v4, b->core_port);
		sip_seen(b->p, "core-in", from, &me, false, (const char *)data, len, now);
	}
	px_sip_from_core(b->p, b, false, (const char *)data, len, now);
}

/* Where a terminal's signaling comes from: a NAT mapping (UDP) or a TCP
 * connection. Keeps the by_nat / by_tcp indexes in step. */
static void binding_transport(proxy *p, px_binding *b, const tv_ep *nat, tv_tcp *tcp)
{
	if (tv_map_get(&p->by_nat, px_ep_key(&b->nat)) == b)
		tv_map_del(&p->by_nat, px_ep_key(&b->nat));
	if (b->tcp && tv_map_get(&p->by_tcp, (uintptr_t)b->tcp) == b)
		tv_map_del(&p->by_tcp, (uintptr_t)b->tcp);
	b->nat = *nat;
	b->tcp = tcp;
	b->tcp_flow = tcp != NULL;
	if (tcp)
		tv_map_put(&p->by_tcp, (uintptr_t)tcp, b);
	else
		tv_map_put(&p->by_nat, px_ep_key(nat), b);
}

/* Untrusted bindings per source IP (a TCP terminal counts by its
 * connection's first address as seen: b->nat stays 0 for TCP). */
static void untrusted_count(proxy *p, const px_binding *b, int d)
{
	uint64_t k = b->nat.ip.v4;
	uintptr_t n = (uintptr_t)tv_map_get(&p->untrusted_ip, k);

	n = d > 0 ? n + 1 : n ? n - 1 : 0;
	if (n)
		tv_map_put(&p->untrusted_ip, k, (void *)n);
	else if (tv_map_del(&p->untrusted_ip, k) && !p->untrusted_ip.n)
		tv_map_free(&p->untrusted_ip);  /* the table a burst of new terminals grew goes with it */
	p->st.untrusted = (uint32_t)((int64_t)p->st.untrusted + d);
}

bool px_rate_take(proxy *p, px_binding *b, tv_time now)
{
	uint64_t cap = 2000ULL * p->cfg.rate, t;

	if (!p->cfg.rate)
		return true;
	t = b->tokens + (uint64_t)(now - b->tokens_at) * p->cfg.rate / 1000;
	b->tokens = (uint32_t)(t > cap ? cap : t);
	b->tokens_at = now;
	if (b->tokens < 1000) {
		p->st.drop[PX_DROP_SIP_RATE]++;
		return false;
	}
	b->tokens -= 1000;
	return true;
}

void px_pend_clear(proxy *p, px_binding *b)
{
	if (!b->pend)
		return;
	p->pend_tcp -= b->pend->tcp != NULL;
	free(b->pend);
	b->pend = NULL;
}

void px_binding_move(proxy *p, px_binding *b, const tv_ep *nat, tv_tcp *tcp)
{
	binding_transport(p, b, nat, tcp);
}

void px_binding_trust(proxy *p, px_binding *b, tv_time now)
{
	px_binding *old;

	if (b->trusted)
		return;
	b->trusted = true;
	px_event(p, PX_EV_BINDING_TRUSTED, b->user, NULL, NULL, 0, false, &b->nat, now);
	untrusted_count(p, b, -1);
	px_timers_trusted(b);
	if (!b->user[0])
		return;
	old = tv_map_get(&p->by_user, px_hash_str(b->user));
	if (!old || !old->trusted || strcmp(old->user, b->user))
		tv_map_put(&p->by_user, px_hash_str(b->user), b);
}

int px_text_set(const char **dst, const char *s, size_t len)
{
	char *t = NULL;

	if (len) {
		t = malloc(len + 1);
		if (!t)
			return TV_ENOMEM;
		memcpy(t, s, len);
		t[len] = '\0';
	}
	px_text_free(dst);
	*dst = t ? t : "";
	return 0;
}

void px_text_free(const char **dst)
{
	if (*dst && **dst)
		free((char *)*dst);
	*dst = "";
}

const char *px_core_hp(const px_binding *b, char *out)
{
	snprintf(out, TV_EP_STRLEN, "%s:%u", b->p->core_ip_s, b->core_port);
	return out;
}

px_binding *px_binding_get(proxy *p, const tv_ep *nat, tv_tcp *tcp, const char *user, bool create, tv_time now)
{
	px_binding *b = NULL, **na;
	tv_ep core;
	int err;

	b = tcp ? tv_map_get(&p->by_tcp, (uintptr_t)tcp) : tv_map_get(&p->by_nat, px_ep_key(nat));
	if (b || !create)
		return b;
	/* trust=any: a terminal moving to a new NAT mapping or a new TCP
	 * connection keeps its binding (and its core-side port) on its first
	 * request. (trust=register moves it only on the core's 2xx to a
	 * REGISTER from the new address: sip_alg.c.) */
	if (p->cfg.trust == PX_TRUST_ANY && user && user[0]) {
		b = tv_map_get(&p->by_user, px_hash_str(user));
		if (b && !strcmp(b->user, user)) {
			binding_transport(p, b, nat, tcp);
			return b;
		}
	}
	if (p->cfg.max_bindings && p->nall >= p->cfg.max_bindings)
		return NULL;
	if (p->cfg.trust == PX_TRUST_REGISTER &&
	    ((p->cfg.max_untrusted && p->st.untrusted >= p->cfg.max_untrusted) ||
	     (p->cfg.max_untrusted_per_ip && !tcp &&
	      (uintptr_t)tv_map_get(&p->untrusted_ip, nat->ip.v4) >= p->cfg.max_untrusted_per_ip))) {
		p->st.limit_untrusted++;
		return NULL;
	}
	if (p->nall == p->capall) {
		size_t nc = p->capall ? p->capall * 2 : 16;
		na = realloc(p->all, nc * sizeof(*na));
		if (!na)
			return NULL;
		p->all = na;
		p->capall = nc;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->p = p;
	b->user = b->sentby = "";
	if (user && px_text_set(&b->user, user, strnlen(user, PX_USER_MAX - 1)) < 0) {
		free(b);
		return NULL;
	}
	b->core_port = pool_get(&p->sig_pool, host_rng(p->h), now);
	if (!b->core_port) {
		px_text_free(&b->user);
		free(b);
		return NULL;
	}
	core = tv_ep4(p->cfg.core_ip.v4, b->core_port);
	b->core_sock = host_udp_bind(p->h, &core, core_rx, b, &err);
	if (!b->core_sock) {
		pool_put(&p->sig_pool, b->core_port, 0);
		px_text_free(&b->user);
		free(b);
		return NULL;
	}
	px_timers_binding_init(b);
	p->all[p->nall++] = b;
	binding_transport(p, b, nat, tcp);
	b->trusted = p->cfg.trust == PX_TRUST_ANY;
	b->tokens = 2000 * p->cfg.rate;
	b->tokens_at = now;
	if (!b->trusted)
		untrusted_count(p, b, +1);      /* px_timers_terminal_msg() arms its reclaim */
	else if (b->user[0])
		tv_map_put(&p->by_user, px_hash_str(b->user), b);
	p->st.bindings++;
	p->st.ports_core++;
	px_event(p, PX_EV_BINDING_ADDED, b->user, NULL, NULL, 0, false, nat, now);
	return b;
}

static void conn_drop(px_conn *k);

void px_binding_remove(proxy *p, px_binding *b, tv_time now)
{
	px_event(p, PX_EV_BINDING_REMOVED, b->user, NULL, NULL, 0, false, &b->nat, now);
	px_pend_clear(p, b);
	while (b->legs)
		px_leg_end(b->legs, "binding-removed", now);
	if (b->core_conn)
		conn_drop(b->core_conn);
	px_timers_binding_stop(b);
	if (tv_map_get(&p->by_nat, px_ep_key(&b->nat)) == b)
		tv_map_del(&p->by_nat, px_ep_key(&b->nat));
	if (b->tcp && tv_map_get(&p->by_tcp, (uintptr_t)b->tcp) == b)
		tv_map_del(&p->by_tcp, (uintptr_t)b->tcp);
	if (b->user[0] && tv_map_get(&p->by_user, px_hash_str(b->user)) == b)
		tv_map_del(&p->by_user, px_hash_str(b->user));
	host_udp_close(b->core_sock);
	px_topo_free(b);
	px_contacts_free(b);
	px_text_free(&b->user);
	px_text_free(&b->sentby);
	/* The core may still route to this port until the registration it
	 * granted runs out (the proxy has no credentials to un-register it):
	 * nobody else gets the port before then, nor within the quarantine. */
	{
		tv_time until = now + p->cfg.port_quarantine;
		if (!p->cfg.port_quarantine)
			until = 0;      /* no quarantine at all (tests, benches) */
		else if (b->reg_until > until)
			until = b->reg_until;
		pool_put(&p->sig_pool, b->core_port, until);
	}
	p->st.ports_core--;
	if (!b->trusted)
		untrusted_count(p, b, -1);
	for (size_t i = 0; i < p->nall; i++) {
		if (p->all[i] == b) {
			p->all[i] = p->all[--p->nall];
			break;
		}
	}
	p->st.bindings--;
	free(b);
}

/* ---- legs and streams ------------------------------------------------- */

px_leg *px_leg_find(px_binding *b, const char *call_id)
{
	for (px_leg *l = b->legs; l; l = l->next)
		if (strcmp(l->call_id, call_id) == 0)
			return l;
	return NULL;
}

px_leg *px_leg_get(px_binding *b, const char *call_id, tv_time now)
{
	px_leg *l = px_leg_find(b, call_id);

	if (l)
		return l;
	if (b->p->cfg.max_legs && b->nlegs >= b->p->cfg.max_legs) {
		b->p->st.limit_legs++;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->call_id = strdup(call_id);
	if (!l->call_id) {
		free(l);
		return NULL;
	}
	l->b = b;
	l->next = b->legs;
	b->legs = l;
	b->nlegs++;
	px_timers_leg_init(l);
	l->started = now;
	b->p->st.legs++;
	b->p->st.calls_started++;
	px_event(b->p, PX_EV_LEG_UP, b->user, l->call_id, NULL, 0, false, &b->nat, now);
	return l;
}

static void stream_close(proxy *p, px_stream *s, tv_time now)
{
	for (int i = 0; i < 4; i++) {
		host_udp_close(s->sock[i].u);
		s->sock[i].u = NULL;
	}
	if (s->a_port) {
		pool_put_pair(&p->media_access, s->a_port, now + p->cfg.port_quarantine);
		p->st.ports_access -= 2;
	}
	if (s->c_port) {
		pool_put_pair(&p->media_core, s->c_port, now + p->cfg.port_quarantine);
		p->st.ports_core -= 2;
	}
	s->a_port = s->c_port = 0;
	p->st.streams--;
}

void px_leg_end(px_leg *l, const char *reason, tv_time now)
{
	px_binding *b = l->b;
	proxy *p = b->p;
	proxy_record r = {
		.user = b->user, .call_id = l->call_id, .reason = reason,
		.started = l->started, .ended = now, .streams = l->ns,
	};

	for (int i = 0; i < l->ns; i++) {
		const px_stream *s = l->s[i];
		r.pkts_to_core += s->to_core[0] + s->to_core[1];
		r.pkts_to_access += s->to_access[0] + s->to_access[1];
		r.bytes_to_core += s->bytes_to_core;
		r.bytes_to_access += s->bytes_to_access;
	}
	px_event(p, PX_EV_LEG_DOWN, b->user, l->call_id, reason, 0, false, &b->nat, now);
	p->st.records++;
	if (p->cfg.on_record)
		p->cfg.on_record(p->cfg.record_arg, &r);

	for (px_leg **pp = &b->legs; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			b->nlegs--;
			break;
		}
	}
	for (int i = 0; i < l->ns; i++) {
		stream_close(p, l->s[i], now);
		free(l->s[i]);
	}
	px_tc_stop(l);
	px_timers_leg_stop(l);
	p->st.legs--;
	p->st.calls_ended++;
	free(l->core_route);
	free(l->call_id);
	free(l);
}

int px_stream_open(px_leg *l, int idx, tv_time now)
{
	proxy *p = l->b->p;
	px_stream *s;
	int err;

	if (idx < l->ns)
		return 0;
	if (idx != l->ns || idx >= PX_MAX_STREAMS)
		return TV_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return TV_ENOMEM;
	s->leg = l;
	s->idx = idx;
	rtpq_init(&s->q[0]);
	rtpq_init(&s->q[1]);
	rtpq_codec_of(-1, NULL, &s->codec);
	s->a_port = pool_get_pair(&p->media_access, host_rng(p->h), now);
	s->c_port = s->a_port ? pool_get_pair(&p->media_core, host_rng(p->h), now) : 0;
	if (!s->a_port || !s->c_port) {
		if (s->a_port)
			pool_put_pair(&p->media_access, s->a_port, 0);
		p->st.no_ports++;
		free(s);
		return TV_EFULL;
	}
	for (int i = 0; i < 4; i++) {
		int side = i / 2, rtcp = i % 2;
		tv_ep local = tv_ep4(side ? p->cfg.core_ip.v4 : p->cfg.access_ip.v4,
				     (uint16_t)((side ? s->c_port : s->a_port) + rtcp));
		s->sock[i].s = s;
		s->sock[i].side = (uint8_t)side;
		s->sock[i].rtcp = (uint8_t)rtcp;
		s->sock[i].u = host_udp_bind(p->h, &local, px_relay_rx, &s->sock[i], &err);
		if (!s->sock[i].u) {
			for (int k = 0; k < i; k++)
				host_udp_close(s->sock[k].u);
			pool_put_pair(&p->media_access, s->a_port, 0);
			pool_put_pair(&p->media_core, s->c_port, 0);
			p->st.no_ports++;
			free(s);
			return TV_EFULL;
		}
	}
	l->s[l->ns++] = s;
	p->st.streams++;
	p->st.ports_access += 2;
	p->st.ports_core += 2;
	px_timers_media_open(l, s, now);
	return 0;
}

/* ---- keepalive -------------------------------------------------------- */

void px_ka_send(proxy *p, px_binding *b, tv_time now)
{
	char msg[768];
	int n;

	if (p->cfg.keepalive == PX_KA_CRLF) {
		px_send_access(p, b, "\r\n\r\n", 4, now);
	} else {
		b->ka_seq++;
		/* sip:user@contact, or where it signals from when it wrote no
		 * Contact; no "user@" without a user (never "sip:@host") */
		char host[TV_EP_STRLEN], to[PX_USER_MAX + PX_HP + 1];
		const char *hp = px_contact_hp(b)[0] ? px_contact_hp(b) : tv_ep_fmt(&b->nat, host);
		snprintf(to, sizeof(to), "%s%s%s", b->user, b->user[0] ? "@" : "", hp);
		n = snprintf(msg, sizeof(msg),
			     "OPTIONS sip:%s SIP/2.0\r\n"
			     "Via: SIP/2.0/%s %s:%u;branch=z9hG4bK-tvka-%u-%u\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:keepalive@%s>;tag=tvka%u\r\n"
			     "To: <sip:%s>\r\n"
			     "Call-ID: tvka-%u-%u@%s\r\n"
			     "CSeq: %u OPTIONS\r\n"
			     "Content-Length: 0\r\n\r\n",
			     to, b->tcp ? "TCP" : "UDP", p->access_ip_s, p->cfg.sip_port, b->core_port, b->ka_seq,
			     p->access_ip_s, b->core_port, to, b->core_port, b->ka_seq, p->access_ip_s, b->ka_seq);
		if (n > 0 && (size_t)n < sizeof(msg))
			px_send_access(p, b, msg, (size_t)n, now);
	}
	b->ka_sent++;
	p->st.ka_sent++;
}

int proxy_set_keepalive(proxy *p, const char *user, tv_time interval)
{
	px_binding *b = tv_map_get(&p->by_user, px_hash_str(user));

	if (!b || strcmp(b->user, user))
		return TV_ENOENT;
	px_timers_keepalive_interval(b, interval, host_now(p->h));     /* an entry point: no now of its own */
	return 0;
}

/* ---- access side receive ---------------------------------------------- */

static bool is_ping(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (d[i] != '\r' && d[i] != '\n')
			return false;
	return true;
}

/* RFC 5626 section 8: a UA using outbound keeps its UDP flow alive with
 * STUN Binding requests to the SIP port; the answer tells it the mapping
 * it was seen from (a change means its NAT rebound). */
static void stun_answer(proxy *p, const tv_ep *from, const uint8_t *data, size_t len)
{
	stun_msg req, res;
	uint8_t out[STUN_MSG_MAX];
	int n;

	if (stun_msg_decode(data, len, &req) < 0 || req.type != STUN_BINDING_REQUEST) {
		p->st.drop[PX_DROP_SIP_MALFORMED]++;
		return;
	}
	stun_msg_init(&res, STUN_BINDING_SUCCESS, req.tid);
	res.has = STUN_HAS_XOR_MAPPED;
	res.xor_mapped = *from;
	if (req.ncr_unknown) {
		res.type = STUN_BINDING_ERROR;
		res.has = STUN_HAS_ERROR | STUN_HAS_UNKNOWN_ATTRS;
		res.error_code = 420;
		res.reason = "Unknown Attribute";
		res.reason_len = 17;
		memcpy(res.unknown, req.cr_unknown, sizeof(res.unknown));
		res.nunknown = req.ncr_unknown;
	}
	n = stun_msg_encode(&res, out, sizeof(out));
	if (n > 0 && host_udp_send(p->sip, from, out, (size_t)n) == 0)
		p->st.stun_answered++;
}

static void access_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	proxy *p = arg;

	(void)s;
	if (is_ping(data, len))
		return;
	if (stun_msg_is_stun(data, len)) {
		stun_answer(p, from, data, len);
		return;
	}
	p->st.sip_in_access++;
	{
		tv_ep me = access_ep(p);
		sip_seen(p, "access-in", from, &me, false, (const char *)data, len, now);
	}
	px_sip_from_access(p, NULL, from, (const char *)data, len, now);
}

/* TCP: one px_conn per connection (accepted from a terminal, or opened to
 * the softswitch for a terminal's large requests) frames messages by the
 * blank line and Content-Length (RFC 3261 18.3, sip_frame.h). Which
 * terminal an access message is from is decided per message (by its
 * connection, else its user), so a terminal that reconnects keeps its
 * binding and core port. A connection whose stream cannot be framed (bad
 * or missing Content-Length, a message over 64 KiB) is closed: nothing
 * after it could be trusted to start a message. */
/* Unlink a connection from the terminal or binding that uses it; safe to
 * call twice. Must run while k->c still names the connection. */
static void conn_detach(px_conn *k)
{
	proxy *p = k->p;

	if (k->c && !k->core_b && tv_map_get(&p->by_tcp, (uintptr_t)k->c)) {
		px_binding *b = tv_map_del(&p->by_tcp, (uintptr_t)k->c);
		if (b && b->tcp == k->c)
			b->tcp = NULL;  /* it waits for a new connection */
	}
	/* A REGISTER pending from this connection has nowhere to answer. */
	for (size_t i = 0; k->c && p->pend_tcp && i < p->nall; i++)
		if (p->all[i]->pend && p->all[i]->pend->tcp == k->c)
			px_pend_clear(p, p->all[i]);
	if (k->core_b)
		k->core_b->core_conn = NULL;
	k->core_b = NULL;
	k->c = NULL;
}

static void conn_free(px_conn *k)
{
	proxy *p = k->p;

	conn_detach(k);
	for (px_conn **pp = &p->conns; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	free(k->rxbuf);
	free(k);
}

/* Abort and forget a connection; while its frames are being delivered the
 * free waits for tcp_frames() to return. */
static void conn_drop(px_conn *k)
{
	tv_tcp *c = k->c;

	conn_detach(k);
	if (c)
		host_tcp_abort(c);      /* no callback follows an abort */
	if (k->busy)
		k->dead = true;
	else
		conn_free(k);
}

static void tcp_frames(px_conn *k, tv_time now)
{
	proxy *p = k->p;

	while (k->rxlen) {
		sip_frame f;
		size_t skip = 0;
		int rc;

		/* RFC 5626 3.5.1: CRLFCRLF is a ping, answered with a CRLF pong;
		 * a lone CRLF is a pong. Wait while a ping may be incomplete. */
		if (k->rxbuf[0] == '\r' || k->rxbuf[0] == '\n') {
			if (k->rxlen >= 4 && !memcmp(k->rxbuf, "\r\n\r\n", 4)) {
				skip = 4;
				if (!k->core_b && host_tcp_send(k->c, "\r\n", 2) == 0)
					p->st.pongs++;
			} else if (k->rxlen < 4 && !memcmp(k->rxbuf, "\r\n\r", k->rxlen)) {
				return;
			} else {
				skip = k->rxbuf[0] == '\r' && k->rxlen >= 2 && k->rxbuf[1] == '\n' ? 2 : 1;
			}
			memmove(k->rxbuf, k->rxbuf + skip, k->rxlen - skip);
			k->rxlen -= skip;
			continue;
		}
		/* Bytes may come one at a time: search each only once for the
		 * header's end, and once the length is known just wait for it. */
		if (k->need && k->rxlen < k->need)
			return;
		if (!k->need) {
			size_t from = k->scanned > 3 ? k->scanned - 3 : 0;
			if (!memmem(k->rxbuf + from, k->rxlen - from, "\r\n\r\n", 4)) {
				k->scanned = k->rxlen;
				if (k->rxlen < SIP_TCP_MAX)
					return;
			}
		}
		rc = sip_frame_find(k->rxbuf, k->rxlen, true, SIP_TCP_MAX, &f);
		if (rc == SF_MORE) {
			k->need = f.msg_len;
			return;
		}
		k->need = k->scanned = 0;
		if (rc < 0) {
			p->st.drop[rc == SF_TOO_BIG ? PX_DROP_SIP_TOO_BIG : PX_DROP_SIP_LENGTH]++;
			conn_drop(k);
			return;
		}
		k->busy = true;
		if (k->core_b) {
			tv_ep me = tv_ep4(p->cfg.core_ip.v4, k->core_b->core_port);
			p->st.sip_in_core++;
			sip_seen(p, "core-in", &p->cfg.softswitch, &me, true, k->rxbuf, f.msg_len, now);
			px_sip_from_core(p, k->core_b, true, k->rxbuf, f.msg_len, now);
		} else {
			tv_ep from = host_tcp_remote(k->c), me = access_ep(p);
			p->st.sip_in_access++;
			sip_seen(p, "access-in", &from, &me, true, k->rxbuf, f.msg_len, now);
			px_sip_from_access(p, k->c, &from, k->rxbuf, f.msg_len, now);
		}
		k->busy = false;
		if (k->dead) {
			conn_free(k);
			return;
		}
		memmove(k->rxbuf, k->rxbuf + f.msg_len, k->rxlen - f.msg_len);
		k->rxlen -= f.msg_len;
	}
}

static void tcp_ev(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	px_conn *k = arg;

	switch (ev) {
	case TV_TCP_DATA: {
		char *nb;
		if (k->rxlen + len > 2 * SIP_TCP_MAX || !(nb = realloc(k->rxbuf, k->rxlen + len))) {
			k->p->st.drop[PX_DROP_SIP_TOO_BIG]++;
			conn_drop(k);
			return;
		}
		k->rxbuf = nb;
		memcpy(k->rxbuf + k->rxlen, data, len);
		k->rxlen += len;
		tcp_frames(k, now);
		break;
	}
	case TV_TCP_PEER_CLOSED:
		if (k->core_b) {
			/* the next large request opens a new connection */
			k->core_b->core_conn = NULL;
			k->core_b = NULL;
		}
		host_tcp_close(c);
		break;
	case TV_TCP_CLOSED:
	case TV_TCP_RESET:
	case TV_TCP_TIMEOUT:
		conn_free(k);           /* the handle is freed after this callback */
		break;
	default:
		break;
	}
}

static px_conn *conn_new(proxy *p, tv_tcp *c, px_binding *core_b)
{
	px_conn *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->p = p;
	k->c = c;
	k->core_b = core_b;
	k->next = p->conns;
	p->conns = k;
	return k;
}

static void tcp_accept(void *arg, tv_tcp *c, tv_time now)
{
	proxy *p = arg;
	px_conn *k = conn_new(p, c, NULL);

	(void)now;
	if (!k) {
		host_tcp_abort(c);
		return;
	}
	host_tcp_set_cb(c, tcp_ev, k);
}

int px_send_core_tcp(proxy *p, px_binding *b, const char *msg, size_t len, tv_time now)
{
	px_conn *k = b->core_conn;
	int err = 0;

	if (!k) {
		tv_tcp *c = host_tcp_connect_from(p->h, &p->cfg.core_ip, b->core_port, &p->cfg.softswitch, tcp_ev,
						  NULL, &err);
		if (!c)
			return sent(p, err ? err : TV_ENOMEM, &p->st.sip_out_core, PX_DROP_SEND_CORE);
		k = conn_new(p, c, b);
		if (!k) {
			host_tcp_abort(c);
			return sent(p, TV_ENOMEM, &p->st.sip_out_core, PX_DROP_SEND_CORE);
		}
		host_tcp_set_cb(c, tcp_ev, k);
		b->core_conn = k;
	}
	{
		tv_ep me = tv_ep4(p->cfg.core_ip.v4, b->core_port);
		int rc = sent(p, host_tcp_send(k->c, msg, len), &p->st.sip_out_core, PX_DROP_SEND_CORE);
		if (rc >= 0)
			sip_seen(p, "core-out", &me, &p->cfg.softswitch, true, msg, len, now);
		return rc;
	}
}

/* ---- life cycle ------------------------------------------------------- */

proxy *proxy_new(tv_host *h, const proxy_cfg *cfg, int *err)
{
	proxy *p = calloc(1, sizeof(*p));
	tv_ep sip;

	if (!p) {
		*err = TV_ENOMEM;
		return NULL;
	}
	parser_init();          /* libosip2's tables; idempotent */
	p->cfg = *cfg;
	p->inbuf = malloc(SIP_TCP_MAX + 1);
	p->outbuf = malloc(PX_OUT_MAX);
	if (!p->inbuf || !p->outbuf) {
		free(p->inbuf);
		free(p->outbuf);
		free(p);
		*err = TV_ENOMEM;
		return NULL;
	}
	p->h = h;
	tv_ip_fmt(&cfg->access_ip, p->access_ip_s);
	tv_ip_fmt(&cfg->core_ip, p->core_ip_s);
	snprintf(p->access_hp, sizeof(p->access_hp), "%s:%u", p->access_ip_s, cfg->sip_port);
	pool_init(&p->sig_pool, cfg->core_sig_lo, cfg->core_sig_hi, cfg->random_ports);
	pool_init(&p->media_access, cfg->media_lo, cfg->media_hi, cfg->random_ports);
	pool_init(&p->media_core, cfg->media_lo, cfg->media_hi, cfg->random_ports);
	tv_map_init(&p->by_nat);
	tv_map_init(&p->by_user);
	tv_map_init(&p->untrusted_ip);
	tv_map_init(&p->by_tcp);
	sip = tv_ep4(cfg->access_ip.v4, cfg->sip_port);
	p->sip = host_udp_bind(h, &sip, access_rx, p, err);
	if (!p->sip) {
		proxy_free(p);
		return NULL;
	}
	p->tcpl = host_tcp_listen(h, cfg->sip_port, tcp_accept, p, err);
	if (!p->tcpl) {
		proxy_free(p);
		return NULL;
	}
	*err = 0;
	return p;
}

void proxy_free(proxy *p)
{
	tv_time now;

	if (!p)
		return;
	now = host_now(p->h);   /* an entry point: the records of the legs it ends */
	while (p->conns)
		conn_drop(p->conns);
	while (p->nall)
		px_binding_remove(p, p->all[p->nall - 1], now);
	free(p->all);
	host_udp_close(p->sip);
	host_tcp_unlisten(p->tcpl);
	tv_map_free(&p->by_nat);
	tv_map_free(&p->by_user);
	tv_map_free(&p->by_tcp);
	tv_map_free(&p->untrusted_ip);
	pool_free(&p->sig_pool);
	pool_free(&p->media_access);
	pool_free(&p->media_core);
	free(p->inbuf);
	free(p->outbuf);
	free(p);
}

const proxy_stats *proxy_get_stats(const proxy *p) { return &p->st; }

void proxy_foreach_binding(const proxy *p, void (*fn)(void *arg, const proxy_binding_info *b), void *arg)
{
	tv_time now = host_now(p->h);   /* an entry point: the time to the next keepalives */

	for (size_t i = 0; i < p->nall; i++) {
		const px_binding *b = p->all[i];
		proxy_binding_info bi = {
			.user = b->user, .nat = b->nat, .contact = b->contact,
			.core = tv_ep4(p->cfg.core_ip.v4, b->core_port), .registered = b->registered,
			.tcp = b->tcp != NULL, .ka_sent = b->ka_sent, .ka_answered = b->ka_answered,
			.ka_misses = b->ka_misses, .ka_in = px_timers_keepalive_in(b, now),
		};
		fn(arg, &bi);
	}
}

/* One direction's numbers and its E-model estimate; net_ms the one-way
 * network delay, to which a jitter buffer of twice the jitter is added. */
static void stream_quality(const px_stream *s, const rtpq_dir *q, double net_ms, proxy_stream_quality *o)
{
	emodel_codec ec;

	o->expected = rtpq_expected(q);
	o->received = rtpq_received(q);
	o->lost = rtpq_lost(q);
	o->loss = o->expected ? (double)o->lost / (double)o->expected : 0;
	o->jitter_ms = rtpq_jitter_ms(q, s->codec.rate);
	o->last_rx = q->last;
	o->delay_ms = net_ms + 2 * o->jitter_ms;
	o->r = o->mos = -1;
	/* G.711 receivers conceal loss (G.711 Appendix I) in nearly every
	 * phone: Bpl 25.1 */
	if (o->expected && emodel_codec_find(s->codec.name, true, &ec)) {
		o->r = emodel_r(&ec, o->loss * 100, o->delay_ms);
		o->mos = emodel_mos(o->r);
	}
}

void proxy_foreach_stream(const proxy *p, void (*fn)(void *arg, const proxy_stream_info *s), void *arg)
{
	tv_time now = host_now(p->h);   /* an entry point: the age of the last packets */

	for (size_t i = 0; i < p->nall; i++) {
		for (const px_leg *l = p->all[i]->legs; l; l = l->next) {
			for (int k = 0; k < l->ns; k++) {
				const px_stream *s = l->s[k];
				proxy_stream_info si = {
					.user = p->all[i]->user, .call_id = l->call_id, .index = k,
					.access_port = s->a_port, .core_port = s->c_port, .sdp_rtp = s->sdp_rtp,
					.latched_rtp = s->latched[0], .latched_rtcp = s->latched[1],
					.core_remote = s->core_remote[0], .to_core = s->to_core[0],
					.to_access = s->to_access[0], .bytes_to_core = s->bytes_to_core,
					.bytes_to_access = s->bytes_to_access, .rtcp_to_core = s->to_core[1],
					.rtcp_to_access = s->to_access[1], .dropped = s->dropped, .held = s->held,
					.clock_rate = s->codec.rate, .clock_known = s->codec.rate_known, .now = now,
				};
				double net;

				memcpy(si.codec, s->codec.name, sizeof(si.codec));
				/* q[1] noted the core's SRs: the terminal's reports
				 * answer them, a round trip toward the terminal */
				si.rtt_access_ms = s->q[1].rtt >= 0 ? (double)s->q[1].rtt / 1000 : -1;
				si.rtt_core_ms = s->q[0].rtt >= 0 ? (double)s->q[0].rtt / 1000 : -1;
				si.rtt_ms = si.rtt_access_ms >= 0 && si.rtt_core_ms >= 0 ? si.rtt_access_ms + si.rtt_core_ms : -1;
				si.delay_from = si.rtt_ms >= 0 ? 'r' : 'c';
				net = si.rtt_ms >= 0 ? si.rtt_ms / 2 : (double)p->cfg.quality_delay / 1000;
				stream_quality(s, &s->q[0], net, &si.q_to_core);
				stream_quality(s, &s->q[1], net, &si.q_to_access);
				fn(arg, &si);
			}
		}
	}
}
