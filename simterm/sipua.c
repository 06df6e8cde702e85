/* sipua.c - the simulated SIP phone (sipua.h): transport, client
 * transactions and their retransmissions, registration, OPTIONS and
 * keepalives, the dispatch of what arrives, and the life cycle. The call
 * itself (state machine, dialog, offer/answer, media, the INVITE server
 * transaction) is sipua_call.c's, its session timer (RFC 4028)
 * sipua_timer.c's; what they share is in sipua_priv.h.
 *
 * Timers:
 *   txn[k].t     one per client transaction slot (REGISTER, INVITE or
 *                re-INVITE, CANCEL, BYE). Over UDP it resends at T1, 2T1,
 *                4T1 ... (non-INVITE capped at T2, and at T2 once a
 *                provisional came; an INVITE stops resending at the first
 *                provisional); 64*T1 after the first send it ends the
 *                transaction as timed out. Over TCP only the timeout.
 *   reg_refresh  re-REGISTER at half the granted expiry, or UA_REG_RETRY
 *                after a failure or timeout.
 *   The call's timers (srv.t, answer) are listed in sipua_call.c, its
 *   session timer's (se_refresh, se_expire) in sipua_timer.c.
 *
 * Authentication: a 401/407 to a REGISTER is answered once with
 * credentials (sipua_auth.c); giving up is a failed REGISTER like any
 * other.
 *
 * Limits: over TCP the phone keeps one connection to the outbound proxy,
 * reopened when needed, and does not listen. */
#include "sipua_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UA_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS"
#define UA_REG_RETRY TV_SEC(30)

void sipua_rand_id(sipua *ua, char *out, size_t nhex)
{
	sipmsg_rand_hex(host_rng(ua->h), out, nhex);
}

/* ---- transport ------------------------------------------------------------- */

static void ua_tcp_cb(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len,
		      tv_time now);

static void tcp_noop(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	(void)arg, (void)c, (void)ev, (void)data, (void)len, (void)now;
}

/* Orderly close; later events on the handle go nowhere. */
static void tcp_drop(sipua *ua)
{
	if (!ua->tcp)
		return;
	host_tcp_set_cb(ua->tcp, tcp_noop, NULL);
	host_tcp_close(ua->tcp);
	ua->tcp = NULL;
	sipmsg_stream_free(&ua->rxs);
}

/* Connect from the SIP port, as phones do (sent-by then names the
 * connection's own port); from an ephemeral one if that is still taken
 * by the previous connection (TIME_WAIT). */
static int ua_send_tcp(sipua *ua, const char *buf, size_t len)
{
	int err;

	if (!ua->tcp) {
		ua->tcp = host_tcp_connect(ua->h, ua->cfg.sip_port, &ua->cfg.proxy, ua_tcp_cb, ua, &err);
		if (!ua->tcp && err == TV_EEXIST)
			ua->tcp = host_tcp_connect(ua->h, 0, &ua->cfg.proxy, ua_tcp_cb, ua, &err);
		if (!ua->tcp)
			return err;
	}
	return host_tcp_send(ua->tcp, buf, len);
}

/* Every request goes to the outbound proxy. */
int sipua_send_req(sipua *ua, const char *buf, size_t len)
{
	if (ua->cfg.tcp)
		return ua_send_tcp(ua, buf, len);
	return host_udp_send(ua->udp, &ua->cfg.proxy, buf, len);
}

int sipua_send_to(sipua *ua, const char *buf, size_t len, const ua_src *dst)
{
	if (dst->tcp)
		return ua_send_tcp(ua, buf, len);
	return host_udp_send(ua->udp, &dst->ep, buf, len);
}

/* Serialize and send a response (RFC 3261 18.2.2: the request's stamped
 * top Via says where over UDP; the connection it came on over TCP). */
int sipua_respond(sipua *ua, const osip_message_t *req, const ua_src *src, const ua_rsp *p)
{
	osip_message_t *r;
	ua_src dst = *src;
	char *buf;
	size_t len;
	int rc;

	if (!src->tcp && sipmsg_via_target(req, 0, &dst.ep) < 0)
		return TV_EINVAL;
	rc = sipmsg_response(req, p->code, p->tag, &r);
	if (rc < 0)
		return rc;
	if (p->contact)
		rc = sipmsg_add_contact(r, ua->contact, UA_ALLOW);
	if (rc == 0 && p->se && p->require_timer && osip_message_set_header(r, "Require", "timer") != 0)
		rc = TV_ENOMEM;
	if (rc == 0 && p->se)
		rc = sipmsg_add_session_expires(r, p->se, p->se_refresher);
	if (rc == 0 && p->sdp)
		rc = sipmsg_sdp_attach(r, ua->user, host_ip(ua->h), ua->c.sess_id, ua->c.sess_ver, p->sdp);
	if (rc == 0)
		rc = sipua_to_str(ua, r, &buf, &len);
	osip_message_free(r);
	if (rc < 0)
		return rc;
	rc = sipua_send_to(ua, buf, len, &dst);
	if (p->keep) {
		osip_free(p->keep->buf);
		p->keep->buf = buf;
		p->keep->len = len;
		p->keep->dst = dst;
	} else {
		osip_free(buf);
	}
	return rc;
}

int sipua_reply(sipua *ua, const osip_message_t *req, const ua_src *src, int code, const char *tag)
{
	ua_rsp p = { .code = code, .tag = tag };

	return sipua_respond(ua, req, src, &p);
}

/* ---- building requests ------------------------------------------------------- */

int sipua_to_str(sipua *ua, osip_message_t *m, char **buf, size_t *len)
{
	unsigned styles = (ua->cfg.fold ? SIPMSG_STYLE_FOLD : 0) |
			  (ua->cfg.contacts > 1 && !ua->cfg.contact_headers ? SIPMSG_STYLE_JOIN_CONTACTS : 0);
	int rc = sipmsg_to_str(m, buf, len);

	if (rc == 0 && styles && (rc = sipmsg_restyle(buf, len, styles)) < 0) {
		osip_free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* Our request: Via, From, Contact and the rest filled in by sipmsg. */
int sipua_build(sipua *ua, sipmsg_req *r, const char *branch, bool contact, osip_message_t **out)
{
	char via[160];
	int rc;

	snprintf(via, sizeof(via), "SIP/2.0/%s %s:%u;branch=%s%s", ua->cfg.tcp ? "TCP" : "UDP",
		 ua->ip, ua->cfg.sip_port, branch, ua->cfg.rport ? ";rport" : "");
	r->via = via;
	r->contact = contact ? ua->contact : NULL;
	r->allow = UA_ALLOW;
	rc = sipmsg_request(r, out);
	if (rc == 0 && ua->cfg.pad && !strcmp(r->method, "INVITE")) {
		char *pad = malloc(ua->cfg.pad + 1);
		if (!pad) {
			osip_message_free(*out);
			*out = NULL;
			return TV_ENOMEM;
		}
		memset(pad, 'x', ua->cfg.pad);
		pad[ua->cfg.pad] = '\0';
		rc = osip_message_set_header(*out, "X-Pad", pad) == 0 ? 0 : TV_ENOMEM;
		free(pad);
		if (rc < 0) {
			osip_message_free(*out);
			*out = NULL;
		}
	}
	return rc;
}

/* ---- client transactions ------------------------------------------------------ */

static void txn_timeout(sipua *ua, enum ua_txn_kind k);

void sipua_txn_stop(ua_txn *x)
{
	x->active = false;
	host_timer_cancel(x->ua->h, &x->t);
}

static void txn_fire(tv_timer *t, tv_time now)
{
	ua_txn *x = t->arg;
	sipua *ua = x->ua;
	tv_time next;

	if (now - x->start >= SIPMSG_TIMEOUT) {
		sipua_txn_stop(x);
		txn_timeout(ua, (enum ua_txn_kind)(x - ua->txn));
		return;
	}
	sipua_send_req(ua, x->buf, x->len);
	x->interval *= 2;
	if (x != &ua->txn[UA_TX_INVITE] && x->interval > SIPMSG_T2)
		x->interval = SIPMSG_T2;
	next = now + x->interval;
	if (next > x->start + SIPMSG_TIMEOUT)
		next = x->start + SIPMSG_TIMEOUT;
	host_timer_arm(ua->h, &x->t, next);
}

/* Send m as a new client transaction in slot k (replacing what was there). */
int sipua_txn_start(sipua *ua, enum ua_txn_kind k, osip_message_t *m)
{
	ua_txn *x = &ua->txn[k];
	const char *br = sipmsg_branch(m);
	tv_time now = host_now(ua->h);
	int rc;

	sipua_txn_stop(x);
	osip_free(x->buf);
	x->buf = NULL;
	rc = sipua_to_str(ua, m, &x->buf, &x->len);
	if (rc < 0)
		return rc;
	snprintf(x->branch, sizeof(x->branch), "%s", br ? br : "");
	snprintf(x->method, sizeof(x->method), "%s", m->sip_method);
	x->active = true;
	x->start = now;
	x->interval = SIPMSG_T1;
	host_timer_arm(ua->h, &x->t, now + (ua->cfg.tcp ? SIPMSG_TIMEOUT : SIPMSG_T1));
	return sipua_send_req(ua, x->buf, x->len);
}

static ua_txn *txn_match(sipua *ua, const osip_message_t *rsp)
{
	const char *br = sipmsg_branch(rsp);

	for (int k = 0; br && k < UA_TX_N; k++)
		if (ua->txn[k].buf && strcmp(ua->txn[k].branch, br) == 0 &&
		    strcmp(ua->txn[k].method, rsp->cseq->method) == 0)
			return &ua->txn[k];
	return NULL;
}

/* ---- registration -------------------------------------------------------------- */

/* A REGISTER: fresh (tries 0), or resent for a challenge for the tries-th
 * time; with credentials if we hold a challenge. */
static int reg_send(sipua *ua, int tries)
{
	osip_message_t *m;
	char br[24] = "z9hG4bK", ruri[sizeof(ua->domain) + 4], exp[24];
	sipmsg_req r = {
		.method = "REGISTER", .ruri = ruri, .call_id = ua->reg_call_id,
		.from_uri = ua->aor, .from_tag = ua->reg_tag, .to_uri = ua->aor,
	};
	int rc;

	if (ua->txn[UA_TX_REG].active)
		return 0;
	r.cseq = ++ua->reg_cseq;
	sipua_rand_id(ua, br + 7, 16);
	snprintf(ruri, sizeof(ruri), "sip:%s", ua->domain);
	rc = sipua_build(ua, &r, br, true, &m);
	if (rc == 0 && ua->cfg.contacts > 1 && sipmsg_add_contact(m, ua->contact2, NULL) < 0) {
		osip_message_free(m);
		rc = TV_ENOMEM;
	}
	if (rc < 0)
		return rc;
	snprintf(exp, sizeof(exp), "%lld", ua->unregistering ? 0LL : (long long)(ua->cfg.reg_expires / TV_SEC(1)));
	osip_message_set_expires(m, exp);
	rc = sipua_auth_add(ua, UA_TX_REG, m);
	ua->txn[UA_TX_REG].auth_tries = tries;
	if (rc == 0)
		rc = sipua_txn_start(ua, UA_TX_REG, m);
	osip_message_free(m);
	return rc;
}

static void reg_refresh_fire(tv_timer *t, tv_time now)
{
	(void)now;
	reg_send(t->arg, 0);
}

int sipua_register(sipua *ua)
{
	ua->reg_wanted = true;
	ua->unregistering = false;
	return reg_send(ua, 0);
}

int sipua_unregister(sipua *ua)
{
	ua->reg_wanted = false;
	host_timer_cancel(ua->h, &ua->reg_refresh);
	if (!ua->st.registered)
		return 0;
	ua->unregistering = true;
	return reg_send(ua, 0);
}

/* The expiry granted: our Contact's expires, else Expires, else asked. */
static tv_time reg_granted(const sipua *ua, const osip_message_t *m)
{
	osip_contact_t *c = NULL, *mine = NULL;
	char uri[UA_URI_MAX];

	for (int i = 0; !mine && osip_message_get_contact(m, i, &c) >= 0 && c; i++)
		if (sipmsg_uri_str(c->url, uri, sizeof(uri)) == 0 && strcmp(uri, ua->contact) == 0)
			mine = c;
	return TV_SEC(sipmsg_expires(m, mine, (unsigned long)(ua->cfg.reg_expires / TV_SEC(1)), 1ul << 30));
}

static void reg_final(sipua *ua, int code, tv_time granted)
{
	tv_time now = host_now(ua->h);

	ua->st.reg_code = code;
	ua->st.registered = code >= 200 && code < 300 && granted > 0;
	if (ua->st.registered)
		host_timer_arm(ua->h, &ua->reg_refresh, now + granted / 2);
	else if (ua->reg_wanted)
		host_timer_arm(ua->h, &ua->reg_refresh, now + UA_REG_RETRY);
}

/* How many of our own Contacts a 2xx lists. */
static int reg_listed(const sipua *ua, const osip_message_t *m)
{
	osip_contact_t *c = NULL;
	char uri[UA_URI_MAX];
	int n = 0;

	for (int k = 0; k < (ua->cfg.contacts > 1 ? 2 : 1); k++) {
		const char *mine = k ? ua->contact2 : ua->contact;

		for (int i = 0; osip_message_get_contact(m, i, &c) >= 0 && c; i++) {
			if (sipmsg_uri_str(c->url, uri, sizeof(uri)) == 0 && strcmp(uri, mine) == 0) {
				n++;
				break;
			}
		}
	}
	return n;
}

static void reg_response(sipua *ua, ua_txn *x, const osip_message_t *m)
{
	int code = m->status_code;

	if (code < 200 || !x->active)
		return;
	sipua_txn_stop(x);
	if ((code == 401 || code == 407) && sipua_auth_retry(ua, UA_TX_REG, m, x->auth_tries) &&
	    reg_send(ua, x->auth_tries + 1) == 0)
		return;
	ua->st.reg_contacts = m->status_code < 300 ? reg_listed(ua, m) : 0;
	reg_final(ua, m->status_code, m->status_code < 300 && !ua->unregistering ? reg_granted(ua, m) : 0);
}

/* A client transaction got no final response within 64*T1. */
static void txn_timeout(sipua *ua, enum ua_txn_kind k)
{
	switch (k) {
	case UA_TX_REG:
		reg_final(ua, 408, 0);
		break;
	case UA_TX_INVITE:
		sipua_invite_timeout(ua);
		break;
	default:
		break;
	}
}

/* ---- OPTIONS ------------------------------------------------------------------------ */

/* Answered out of any dialog (a fresh To tag), unless configured dead. */
static void uas_options(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	char tag[24];
	ua_rsp p = { .code = 200, .tag = tag, .contact = true };

	ua->st.options_rx++;
	if (ua->cfg.no_options_answer)
		return;
	sipua_rand_id(ua, tag, 12);
	if (sipua_respond(ua, m, src, &p) == 0)
		ua->st.options_answered++;
}

/* ---- receiving --------------------------------------------------------------------- */

typedef void (*ua_req_fn)(sipua *ua, const osip_message_t *m, const ua_src *src);

static const struct {
	const char *method;
	ua_req_fn fn;
} ua_methods[] = {
	{ "INVITE", sipua_uas_invite },
	{ "ACK", sipua_uas_ack },
	{ "CANCEL", sipua_uas_cancel },
	{ "BYE", sipua_uas_bye },
	{ "OPTIONS", uas_options },
};

typedef void (*ua_rsp_fn)(sipua *ua, ua_txn *x, const osip_message_t *m);

static void nict_response(sipua *ua, ua_txn *x, const osip_message_t *m)
{
	(void)ua;
	if (m->status_code >= 200)
		sipua_txn_stop(x);
	else if (x->active)
		x->interval = SIPMSG_T2 / 2;    /* doubled at the next firing */
}

static const ua_rsp_fn ua_responses[UA_TX_N] = {
	[UA_TX_REG] = reg_response,
	[UA_TX_INVITE] = sipua_invite_response,
	[UA_TX_CANCEL] = nict_response,
	[UA_TX_BYE] = nict_response,
};

static void ua_input(sipua *ua, const uint8_t *data, size_t len, const ua_src *src)
{
	osip_message_t *m;
	ua_txn *x;

	if (sipmsg_is_keepalive(data, len)) {
		ua->st.keepalive_rx++;
		return;
	}
	if (sipmsg_parse(data, len, &m) < 0) {
		ua->st.rx_bad++;
		return;
	}
	if (MSG_IS_RESPONSE(m)) {
		x = txn_match(ua, m);
		if (x)
			ua_responses[x - ua->txn](ua, x, m);
		osip_message_free(m);
		return;
	}
	if (!src->tcp)
		sipmsg_via_stamp(m, &src->ep);
	for (size_t i = 0; i < sizeof(ua_methods) / sizeof(ua_methods[0]); i++) {
		if (strcmp(m->sip_method, ua_methods[i].method) == 0) {
			ua_methods[i].fn(ua, m, src);
			osip_message_free(m);
			return;
		}
	}
	sipua_reply(ua, m, src, 501, NULL);
	osip_message_free(m);
}

static void ua_udp_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	ua_src src = { .tcp = false, .ep = *from };

	(void)s, (void)now;
	ua_input(arg, data, len, &src);
}

static void ua_tcp_cb(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len,
		      tv_time now)
{
	sipua *ua = arg;
	ua_src src = { .tcp = true, .ep = host_tcp_remote(c) };
	const uint8_t *msg;
	size_t mlen;
	int rc;

	(void)now;
	if (c != ua->tcp)
		return;
	switch (ev) {
	case TV_TCP_DATA:
		rc = sipmsg_stream_feed(&ua->rxs, data, len);
		while (rc == 0 && (rc = sipmsg_stream_next(&ua->rxs, &msg, &mlen, &ua->st.keepalive_rx)) == 1) {
			ua_input(ua, msg, mlen, &src);
			rc = 0;
		}
		if (rc < 0) {
			ua->st.rx_bad++;
			tcp_drop(ua);           /* lost framing: start over */
		}
		break;
	case TV_TCP_PEER_CLOSED:
		tcp_drop(ua);
		break;
	case TV_TCP_CLOSED:
	case TV_TCP_RESET:
	case TV_TCP_TIMEOUT:
		ua->tcp = NULL;
		sipmsg_stream_free(&ua->rxs);
		break;
	default:
		break;
	}
}

/* ---- life cycle ---------------------------------------------------------------------- */

sipua *sipua_new(tv_host *h, const sipua_cfg *cfg, int *err)
{
	sipua *ua;
	tv_ep local;

	if (!h || !cfg || !cfg->user || !cfg->domain || !*cfg->user || !*cfg->domain ||
	    cfg->proxy.ip.af != TV_AF_INET || cfg->contacts < 0 || cfg->contacts > 2 ||
	    strlen(cfg->user) >= sizeof(ua->user) || strlen(cfg->domain) >= sizeof(ua->domain) ||
	    (cfg->password && strlen(cfg->password) >= sizeof(ua->password)) ||
	    (cfg->auth_user && (!*cfg->auth_user || strlen(cfg->auth_user) >= sizeof(ua->auth_user)))) {
		*err = TV_EINVAL;
		return NULL;
	}
	ua = calloc(1, sizeof(*ua));
	if (!ua) {
		*err = TV_ENOMEM;
		return NULL;
	}
	sipmsg_init();
	ua->h = h;
	ua->cfg = *cfg;
	snprintf(ua->user, sizeof(ua->user), "%s", cfg->user);
	snprintf(ua->domain, sizeof(ua->domain), "%s", cfg->domain);
	snprintf(ua->password, sizeof(ua->password), "%s", cfg->password ? cfg->password : "");
	snprintf(ua->auth_user, sizeof(ua->auth_user), "%s", cfg->auth_user ? cfg->auth_user : cfg->user);
	ua->cfg.user = ua->user;
	ua->cfg.domain = ua->domain;
	ua->cfg.password = ua->password;
	ua->cfg.auth_user = ua->auth_user;
	if (!ua->cfg.sip_port)
		ua->cfg.sip_port = 5060;
	if (!ua->cfg.reg_expires)
		ua->cfg.reg_expires = TV_SEC(3600);
	if (!ua->cfg.rtp_port)
		ua->cfg.rtp_port = 10000;
	if (!ua->cfg.answer_delay)
		ua->cfg.answer_delay = TV_SEC(1);
	if (!ua->cfg.proxy.port)
		ua->cfg.proxy.port = 5060;
	tv_ip_fmt(host_ip(h), ua->ip);
	snprintf(ua->aor, sizeof(ua->aor), "sip:%s@%s", ua->user, ua->domain);
	snprintf(ua->contact, sizeof(ua->contact), "sip:%s@%s:%u%s", ua->user, ua->ip, ua->cfg.sip_port,
		 ua->cfg.tcp ? ";transport=tcp" : "");
	snprintf(ua->contact2, sizeof(ua->contact2), "sip:%s@%s:%u%s", ua->user, ua->ip, ua->cfg.sip_port,
		 ua->cfg.tcp ? "" : ";transport=tcp");
	for (int k = 0; k < UA_TX_N; k++) {
		ua->txn[k].ua = ua;
		tv_timer_init(&ua->txn[k].t, txn_fire, &ua->txn[k]);
	}
	sipua_call_init(ua);
	tv_timer_init(&ua->reg_refresh, reg_refresh_fire, ua);
	sipua_callid_new(ua, ua->reg_call_id, sizeof(ua->reg_call_id));
	sipua_rand_id(ua, ua->reg_tag, 12);
	local = tv_ep4(0, ua->cfg.sip_port);
	ua->udp = host_udp_bind(h, &local, ua_udp_rx, ua, err);
	if (!ua->udp) {
		free(ua);
		return NULL;
	}
	*err = 0;
	return ua;
}

void sipua_free(sipua *ua)
{
	if (!ua)
		return;
	sipua_call_reset(ua);
	for (int k = 0; k < UA_TX_N; k++) {
		sipua_txn_stop(&ua->txn[k]);
		osip_free(ua->txn[k].buf);
	}
	host_timer_cancel(ua->h, &ua->reg_refresh);
	tcp_drop(ua);
	sipmsg_stream_free(&ua->rxs);
	host_udp_close(ua->udp);
	free(ua);
}

const sipua_status *sipua_get_status(const sipua *ua) { return &ua->st; }

void sipua_callid_full(const osip_message_t *m, char *out, size_t cap)
{
	const osip_call_id_t *c = m->call_id;

	snprintf(out, cap, "%s%s%s", c && c->number ? c->number : "", c && c->host ? "@" : "",
		 c && c->host ? c->host : "");
}

bool sipua_callid_is(const osip_message_t *m, const char *full)
{
	char id[2 * UA_ID_MAX];

	sipua_callid_full(m, id, sizeof(id));
	return strcmp(id, full) == 0;
}

void sipua_callid_new(sipua *ua, char *out, size_t cap)
{
	char ip[TV_IP_STRLEN];
	size_t n;

	sipua_rand_id(ua, out, 24);
	n = strlen(out);
	snprintf(out + n, cap - n, "@%s", tv_ip_fmt(host_ip(ua->h), ip));
}
