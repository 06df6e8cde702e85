/* sipua.c - the simulated SIP phone (sipua.h).
 *
 * Timers:
 *   txn[k].t     one per client transaction slot (REGISTER, INVITE or
 *                re-INVITE, CANCEL, BYE). Over UDP it resends at T1, 2T1,
 *                4T1 ... (non-INVITE capped at T2, and at T2 once a
 *                provisional came; an INVITE stops resending at the first
 *                provisional); 64*T1 after the first send it ends the
 *                transaction as timed out. Over TCP only the timeout.
 *   srv.t        the INVITE server transaction's final response: resent at
 *                T1 doubling to T2 until the ACK (UDP only), abandoned at
 *                64*T1 (a 2xx never ACKed ends the call with a BYE).
 *   answer       ringing -> automatic answer after cfg.answer_delay.
 *   reg_refresh  re-REGISTER at half the granted expiry, or UA_REG_RETRY
 *                after a failure or timeout.
 *
 * Media: one stream per m= line this phone wrote, opened with the call and
 * kept (stopped) after it ends; RTCP mux is used only if both sides asked;
 * RTP is sent only while established, not holding, and the peer's SDP
 * says it receives (so a=sendonly from the peer silences this phone too).
 *
 * Limits: one call; offers come in INVITEs (an INVITE without SDP gets
 * 488); no PRACK, no early media, no authentication, no glare handling
 * beyond 491; over TCP the phone keeps one connection to the outbound
 * proxy, reopened when needed, and does not listen. */
#include "sipua.h"
#include "sipmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UA_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS"
#define UA_REG_RETRY TV_SEC(30)
#define UA_URI_MAX 256
#define UA_ID_MAX 80

enum ua_txn_kind { UA_TX_REG, UA_TX_INVITE, UA_TX_CANCEL, UA_TX_BYE, UA_TX_N };

/* Where a message came from, or where a response goes. */
typedef struct ua_src {
	bool tcp;
	tv_ep ep;
} ua_src;

typedef struct ua_txn {
	sipua *ua;
	bool active;                    /* no final response yet */
	char *buf;                      /* the request as sent (osip_malloc) */
	size_t len;
	char branch[UA_ID_MAX];
	char method[12];
	tv_time start, interval;
	tv_timer t;
} ua_txn;

typedef struct ua_call {
	bool outgoing;
	char call_id[UA_ID_MAX];
	char local_tag[24], remote_tag[UA_ID_MAX];
	char local_uri[UA_URI_MAX], remote_uri[UA_URI_MAX];
	char target[UA_URI_MAX];        /* remote target: the peer's Contact */
	unsigned long local_cseq, invite_cseq;
	bool cancel_pending;            /* cancel asked before any 1xx */
	bool cancelled;                 /* CANCEL sent */
	bool reinvite;                  /* the INVITE slot holds a re-INVITE */
	bool prev_hold;                 /* local_hold before that re-INVITE */
	bool local_hold, muted;
	uint64_t sess_id, sess_ver;
	sipmsg_sdp local, remote;       /* last SDP written / read */
	char *ack;                      /* last ACK sent, for resent finals */
	size_t ack_len;
	osip_message_t *inv;            /* the INVITE we are answering */
	ua_src inv_src;
	bool got_1xx;                   /* any provisional for our INVITE */
} ua_call;

/* The final response to an INVITE we received, until its ACK. */
typedef struct ua_srv {
	sipua *ua;
	bool active, reinvite;
	int code;
	unsigned long cseq;
	char *buf;                      /* also the last provisional, for resent INVITEs */
	size_t len;
	ua_src dst;
	tv_time start, interval;
	tv_timer t;
} ua_srv;

struct sipua {
	tv_host *h;
	sipua_cfg cfg;
	char user[64], domain[128];
	char ip[TV_IP_STRLEN];
	char contact[UA_URI_MAX];
	char aor[UA_URI_MAX];           /* sip:user@domain */
	tv_udp *udp;
	tv_tcp *tcp;
	sipmsg_stream rxs;
	sipua_status st;
	ua_txn txn[UA_TX_N];
	/* registration */
	bool reg_wanted;
	char reg_call_id[UA_ID_MAX], reg_tag[24];
	unsigned long reg_cseq;
	tv_timer reg_refresh;
	/* the call */
	ua_call c;
	ua_srv srv;
	tv_timer answer;
	media_stream *ms[SIPMSG_NMEDIA];
};

static const char *const ua_state_names[] = {
	[SIPUA_IDLE] = "idle",
	[SIPUA_CALLING] = "calling",
	[SIPUA_RINGING] = "ringing",
	[SIPUA_ESTABLISHED] = "established",
	[SIPUA_ENDED] = "ended",
};

/* Legal transitions: bit s of ua_next[from] is set if from -> s is allowed. */
#define US(s) (1u << (s))
static const uint8_t ua_next[] = {
	[SIPUA_IDLE] = US(SIPUA_CALLING) | US(SIPUA_RINGING) | US(SIPUA_ENDED),
	[SIPUA_CALLING] = US(SIPUA_RINGING) | US(SIPUA_ESTABLISHED) | US(SIPUA_ENDED),
	[SIPUA_RINGING] = US(SIPUA_ESTABLISHED) | US(SIPUA_ENDED),
	[SIPUA_ESTABLISHED] = US(SIPUA_ENDED),
	[SIPUA_ENDED] = US(SIPUA_CALLING) | US(SIPUA_RINGING) | US(SIPUA_ENDED),
};

const char *sipua_state_name(enum sipua_call_state s)
{
	if ((unsigned)s >= sizeof(ua_state_names) / sizeof(ua_state_names[0]))
		return "?";
	return ua_state_names[s];
}

static bool state_set(sipua *ua, enum sipua_call_state s)
{
	if (!(ua_next[ua->st.state] & US(s)))
		return false;
	ua->st.state = s;
	return true;
}

static bool in_call(const sipua *ua)
{
	return ua->st.state == SIPUA_CALLING || ua->st.state == SIPUA_RINGING ||
	       ua->st.state == SIPUA_ESTABLISHED;
}

static void rand_id(sipua *ua, char *out, size_t nhex)
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
static int ua_send_req(sipua *ua, const char *buf, size_t len)
{
	if (ua->cfg.tcp)
		return ua_send_tcp(ua, buf, len);
	return host_udp_send(ua->udp, &ua->cfg.proxy, buf, len);
}

static int ua_send_to(sipua *ua, const char *buf, size_t len, const ua_src *dst)
{
	if (dst->tcp)
		return ua_send_tcp(ua, buf, len);
	return host_udp_send(ua->udp, &dst->ep, buf, len);
}

/* What a response carries beyond what sipmsg_response copies. */
typedef struct ua_rsp {
	int code;
	const char *tag;                /* To tag to add */
	bool contact;                   /* Contact and Allow */
	const sipmsg_sdp *sdp;
	ua_srv *keep;                   /* keep the bytes and destination here */
} ua_rsp;

/* Serialize and send a response (RFC 3261 18.2.2: the request's stamped
 * top Via says where over UDP; the connection it came on over TCP). */
static int ua_respond(sipua *ua, const osip_message_t *req, const ua_src *src, const ua_rsp *p)
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
	if (rc == 0 && p->sdp)
		rc = sipmsg_sdp_attach(r, ua->user, host_ip(ua->h), ua->c.sess_id, ua->c.sess_ver, p->sdp);
	if (rc == 0)
		rc = sipmsg_to_str(r, &buf, &len);
	osip_message_free(r);
	if (rc < 0)
		return rc;
	rc = ua_send_to(ua, buf, len, &dst);
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

static int ua_reply(sipua *ua, const osip_message_t *req, const ua_src *src, int code, const char *tag)
{
	ua_rsp p = { .code = code, .tag = tag };

	return ua_respond(ua, req, src, &p);
}

/* ---- building requests ------------------------------------------------------- */

/* Our request: Via, From, Contact and the rest filled in by sipmsg. */
static int ua_build(sipua *ua, sipmsg_req *r, const char *branch, bool contact, osip_message_t **out)
{
	char via[160];

	snprintf(via, sizeof(via), "SIP/2.0/%s %s:%u;branch=%s%s", ua->cfg.tcp ? "TCP" : "UDP",
		 ua->ip, ua->cfg.sip_port, branch, ua->cfg.rport ? ";rport" : "");
	r->via = via;
	r->contact = contact ? ua->contact : NULL;
	r->allow = UA_ALLOW;
	return sipmsg_request(r, out);
}

/* A request inside the call's dialog, to the remote target. */
static int ua_build_dialog(sipua *ua, const char *method, unsigned long cseq, const char *branch,
			   bool contact, osip_message_t **out)
{
	const ua_call *c = &ua->c;
	sipmsg_req r = {
		.method = method, .ruri = c->target, .call_id = c->call_id,
		.from_uri = c->local_uri, .from_tag = c->local_tag,
		.to_uri = c->remote_uri, .to_tag = c->remote_tag, .cseq = cseq,
	};

	return ua_build(ua, &r, branch, contact, out);
}

/* ---- client transactions ------------------------------------------------------ */

static void txn_timeout(sipua *ua, enum ua_txn_kind k);

static void txn_stop(ua_txn *x)
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
		txn_stop(x);
		txn_timeout(ua, (enum ua_txn_kind)(x - ua->txn));
		return;
	}
	ua_send_req(ua, x->buf, x->len);
	x->interval *= 2;
	if (x != &ua->txn[UA_TX_INVITE] && x->interval > SIPMSG_T2)
		x->interval = SIPMSG_T2;
	next = now + x->interval;
	if (next > x->start + SIPMSG_TIMEOUT)
		next = x->start + SIPMSG_TIMEOUT;
	host_timer_arm(ua->h, &x->t, next);
}

/* Send m as a new client transaction in slot k (replacing what was there). */
static int txn_start(sipua *ua, enum ua_txn_kind k, osip_message_t *m)
{
	ua_txn *x = &ua->txn[k];
	const char *br = sipmsg_branch(m);
	tv_time now = host_now(ua->h);
	int rc;

	txn_stop(x);
	osip_free(x->buf);
	x->buf = NULL;
	rc = sipmsg_to_str(m, &x->buf, &x->len);
	if (rc < 0)
		return rc;
	snprintf(x->branch, sizeof(x->branch), "%s", br ? br : "");
	snprintf(x->method, sizeof(x->method), "%s", m->sip_method);
	x->active = true;
	x->start = now;
	x->interval = SIPMSG_T1;
	host_timer_arm(ua->h, &x->t, now + (ua->cfg.tcp ? SIPMSG_TIMEOUT : SIPMSG_T1));
	return ua_send_req(ua, x->buf, x->len);
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

/* ---- media -------------------------------------------------------------------- */

/* What this phone writes: an offer (peer == NULL) or an answer to peer. */
static void sdp_local(const sipua *ua, const sipmsg_sdp *peer, sipmsg_sdp *out)
{
	sipmsg_sdp_pref p = {
		.rtp_port = ua->cfg.rtp_port, .video = ua->cfg.video, .mux = ua->cfg.rtcp_mux,
		.rtcp_port = ua->cfg.rtcp_nonadjacent ? (uint16_t)(ua->cfg.rtp_port + 11) : 0,
		.dir = ua->c.local_hold ? SIPMSG_DIR_SEND : SIPMSG_DIR_SENDRECV,
	};

	sipmsg_sdp_local(&p, peer, out);
}

/* Open (or re-open, if its ports changed) the stream for what we wrote. */
static int media_open(sipua *ua, int k, const sipmsg_media *mine)
{
	media_cfg mc = { .pt = k == SIPMSG_VIDEO ? 96 : 0, .clock_rate = k == SIPMSG_VIDEO ? 90000 : 0,
			 .rtcp_mux = mine->mux, .asymmetric = ua->cfg.asymmetric_rtp };
	uint16_t rtcp = mine->mux ? mine->port : mine->rtcp_port ? mine->rtcp_port : (uint16_t)(mine->port + 1);
	media_stream *m = ua->ms[k];
	int err;

	if (!mine->present || mine->port == 0) {
		media_free(m);
		ua->ms[k] = NULL;
		return 0;
	}
	if (m && media_rtp_port(m) == mine->port && media_rtcp_port(m) == rtcp)
		return 0;
	media_free(m);
	ua->ms[k] = media_new(ua->h, mine->port, rtcp, &mc, &err);
	if (!ua->ms[k])
		return err;
	media_mute(ua->ms[k], ua->c.muted);
	return 0;
}

/* Point stream k at what the peer wrote. */
static void media_remote(sipua *ua, int k, const sipmsg_media *peer, bool mux)
{
	tv_ep rtp = { .ip = peer->addr, .port = peer->port }, rtcp = rtp;

	if (!ua->ms[k] || !peer->present || peer->port == 0)
		return;
	if (mux)
		rtcp.port = peer->port;
	else if (peer->rtcp_port)
		rtcp = (tv_ep){ .ip = peer->rtcp_has_addr ? peer->rtcp_addr : peer->addr, .port = peer->rtcp_port };
	else
		rtcp.port = (uint16_t)(peer->port + 1);
	media_set_remote(ua->ms[k], &rtp, &rtcp);
}

/* Negotiate: our streams follow what we wrote in ua->c.local (mux only if
 * both sides said so), their remotes follow the peer's SDP. */
static int media_update(sipua *ua, const sipmsg_sdp *peer)
{
	int rc = 0;

	ua->c.remote = *peer;
	for (int k = 0; k < SIPMSG_NMEDIA; k++) {
		sipmsg_media *mine = &ua->c.local.m[k];

		if (!peer->m[k].present || peer->m[k].port == 0)
			mine->port = 0;
		mine->mux = mine->mux && peer->m[k].mux;
		if (rc == 0)
			rc = media_open(ua, k, mine);
		media_remote(ua, k, &peer->m[k], mine->mux);
	}
	return rc;
}

/* Send on a stream only while established, not holding, and the peer
 * receives. */
static void media_apply(sipua *ua)
{
	const ua_call *c = &ua->c;
	const sipmsg_media *pa = &c->remote.m[SIPMSG_AUDIO];

	for (int k = 0; k < SIPMSG_NMEDIA; k++) {
		const sipmsg_media *p = &c->remote.m[k];

		if (!ua->ms[k])
			continue;
		if (ua->st.state == SIPUA_ESTABLISHED && !c->local_hold && p->port && (p->dir & SIPMSG_DIR_RECV))
			media_start(ua->ms[k]);
		else
			media_stop(ua->ms[k]);
	}
	ua->st.held = c->local_hold || (pa->present && pa->port && !(pa->dir & SIPMSG_DIR_RECV));
}

static void media_release(sipua *ua)
{
	for (int k = 0; k < SIPMSG_NMEDIA; k++) {
		media_free(ua->ms[k]);
		ua->ms[k] = NULL;
	}
}

/* ---- call life ---------------------------------------------------------------- */

static void srv_stop(sipua *ua)
{
	ua->srv.active = false;
	host_timer_cancel(ua->h, &ua->srv.t);
}

static void call_end(sipua *ua, const char *reason)
{
	if (!state_set(ua, SIPUA_ENDED))
		return;
	ua->st.end_reason = reason;
	host_timer_cancel(ua->h, &ua->answer);
	media_apply(ua);
}

/* Forget the previous call: its media, messages and timers. */
static void call_reset(sipua *ua)
{
	ua_call *c = &ua->c;

	media_release(ua);
	osip_free(c->ack);
	if (c->inv)
		osip_message_free(c->inv);
	memset(c, 0, sizeof(*c));
	srv_stop(ua);
	osip_free(ua->srv.buf);
	ua->srv.buf = NULL;
	host_timer_cancel(ua->h, &ua->answer);
	txn_stop(&ua->txn[UA_TX_INVITE]);
	txn_stop(&ua->txn[UA_TX_CANCEL]);
	ua->st.held = false;
	ua->st.last_code = 0;
	ua->st.end_reason = NULL;
	ua->st.established_at = 0;
}

/* A new call: a clean slate and a new SDP session. */
static void call_begin(sipua *ua, bool outgoing)
{
	call_reset(ua);
	ua->c.outgoing = outgoing;
	ua->c.sess_id = tv_rng_below(host_rng(ua->h), 1000000000u) + 1;
	ua->c.sess_ver = 1;
}

static void bye_send(sipua *ua, const char *reason)
{
	osip_message_t *m;
	char br[24] = "z9hG4bK";

	rand_id(ua, br + 7, 16);
	call_end(ua, reason);
	if (ua_build_dialog(ua, "BYE", ++ua->c.local_cseq, br, false, &m) == 0) {
		txn_start(ua, UA_TX_BYE, m);
		osip_message_free(m);
	}
}

/* ---- registration -------------------------------------------------------------- */

static int reg_send(sipua *ua)
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
	rand_id(ua, br + 7, 16);
	snprintf(ruri, sizeof(ruri), "sip:%s", ua->domain);
	rc = ua_build(ua, &r, br, true, &m);
	if (rc < 0)
		return rc;
	snprintf(exp, sizeof(exp), "%lld", (long long)(ua->cfg.reg_expires / TV_SEC(1)));
	osip_message_set_expires(m, exp);
	rc = txn_start(ua, UA_TX_REG, m);
	osip_message_free(m);
	return rc;
}

static void reg_refresh_fire(tv_timer *t, tv_time now)
{
	(void)now;
	reg_send(t->arg);
}

int sipua_register(sipua *ua)
{
	ua->reg_wanted = true;
	return reg_send(ua);
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

static void reg_response(sipua *ua, ua_txn *x, const osip_message_t *m)
{
	if (m->status_code < 200 || !x->active)
		return;
	txn_stop(x);
	reg_final(ua, m->status_code, m->status_code < 300 ? reg_granted(ua, m) : 0);
}

/* ---- outgoing call ---------------------------------------------------------------- */

int sipua_call(sipua *ua, const char *user)
{
	ua_call *c = &ua->c;
	osip_message_t *m;
	char br[24] = "z9hG4bK";
	sipmsg_req r = { .method = "INVITE", .cseq = 1 };
	int rc = 0;

	if (!user || !*user || strlen(user) > 64)
		return TV_EINVAL;
	if (in_call(ua))
		return TV_ESTATE;
	call_begin(ua, true);
	rand_id(ua, c->call_id, 24);
	rand_id(ua, c->local_tag, 12);
	rand_id(ua, br + 7, 16);
	snprintf(c->local_uri, sizeof(c->local_uri), "%s", ua->aor);
	snprintf(c->remote_uri, sizeof(c->remote_uri), "sip:%s@%s", user, ua->domain);
	snprintf(c->target, sizeof(c->target), "%s", c->remote_uri);
	c->local_cseq = c->invite_cseq = 1;
	sdp_local(ua, NULL, &c->local);
	for (int k = 0; rc == 0 && k < SIPMSG_NMEDIA; k++)
		rc = media_open(ua, k, &c->local.m[k]);
	r.ruri = r.to_uri = c->remote_uri;
	r.call_id = c->call_id;
	r.from_uri = c->local_uri;
	r.from_tag = c->local_tag;
	if (rc == 0)
		rc = ua_build(ua, &r, br, true, &m);
	if (rc < 0) {
		media_release(ua);
		return rc;
	}
	rc = sipmsg_sdp_attach(m, ua->user, host_ip(ua->h), c->sess_id, c->sess_ver, &c->local);
	if (rc == 0)
		rc = txn_start(ua, UA_TX_INVITE, m);
	osip_message_free(m);
	if (rc < 0)
		return rc;
	state_set(ua, SIPUA_CALLING);
	ua->st.calls_made++;
	return 0;
}

static void cancel_send(sipua *ua)
{
	const ua_call *c = &ua->c;
	osip_message_t *m;
	sipmsg_req r = {
		.method = "CANCEL", .ruri = c->remote_uri, .call_id = c->call_id,
		.from_uri = c->local_uri, .from_tag = c->local_tag,
		.to_uri = c->remote_uri, .cseq = c->invite_cseq,
	};
	ua_txn *inv = &ua->txn[UA_TX_INVITE];

	ua->c.cancel_pending = false;
	ua->c.cancelled = true;
	if (ua_build(ua, &r, inv->branch, false, &m) < 0)
		return;
	txn_start(ua, UA_TX_CANCEL, m);
	osip_message_free(m);
	/* RFC 3261 9.1: give the 487 64*T1 to come. */
	inv->start = host_now(ua->h);
	host_timer_arm(ua->h, &inv->t, inv->start + SIPMSG_TIMEOUT);
}

int sipua_cancel(sipua *ua)
{
	ua_call *c = &ua->c;

	if (!c->outgoing || c->reinvite || c->cancelled ||
	    (ua->st.state != SIPUA_CALLING && ua->st.state != SIPUA_RINGING))
		return TV_ESTATE;
	/* RFC 3261 9.1: not before a provisional response. */
	if (c->got_1xx)
		cancel_send(ua);
	else
		c->cancel_pending = true;
	return 0;
}

/* The ACK: a new transaction for a 2xx (to the remote target), the
 * INVITE's own branch and Request-URI for anything else. */
static void ack_send(sipua *ua, const osip_message_t *rsp, bool ok)
{
	ua_call *c = &ua->c;
	const ua_txn *x = &ua->txn[UA_TX_INVITE];
	osip_message_t *m;
	char br[24] = "z9hG4bK";
	sipmsg_req r = {
		.method = "ACK", .ruri = c->target, .call_id = c->call_id,
		.from_uri = c->local_uri, .from_tag = c->local_tag, .to_uri = c->remote_uri,
		.to_tag = sipmsg_tag(rsp->to), .cseq = strtoul(rsp->cseq->number, NULL, 10),
	};

	if (ok)
		rand_id(ua, br + 7, 16);
	else if (!c->reinvite)
		r.ruri = c->remote_uri;
	if (ua_build(ua, &r, ok ? br : x->branch, false, &m) < 0)
		return;
	osip_free(c->ack);
	c->ack = NULL;
	if (sipmsg_to_str(m, &c->ack, &c->ack_len) == 0)
		ua_send_req(ua, c->ack, c->ack_len);
	osip_message_free(m);
}

static void invite_2xx(sipua *ua, const osip_message_t *m)
{
	ua_call *c = &ua->c;
	const char *tag = sipmsg_tag(m->to);
	sipmsg_sdp peer;

	if (!c->reinvite) {
		snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", tag ? tag : "");
		sipmsg_contact_uri(m, c->target, sizeof(c->target));
	}
	ack_send(ua, m, true);
	if (sipmsg_sdp_read(m, &peer) == 0)
		media_update(ua, &peer);
	if (!c->reinvite) {
		ua->st.last_code = m->status_code;
		state_set(ua, SIPUA_ESTABLISHED);
		ua->st.established_at = host_now(ua->h);
	}
	c->reinvite = false;
	media_apply(ua);
	if (c->cancelled && ua->st.state == SIPUA_ESTABLISHED)
		bye_send(ua, "cancelled");      /* the 200 crossed our CANCEL */
}

static void invite_response(sipua *ua, ua_txn *x, const osip_message_t *m)
{
	ua_call *c = &ua->c;
	int code = m->status_code;

	if (!x->active || strcmp(m->call_id->number, c->call_id) != 0) {
		/* A resent final after ours was ACKed: ACK it again. */
		if (code >= 200 && c->ack && strcmp(m->call_id->number, c->call_id) == 0)
			ua_send_req(ua, c->ack, c->ack_len);
		return;
	}
	if (code < 200) {
		c->got_1xx = true;
		if (!c->cancelled)
			host_timer_cancel(ua->h, &x->t);        /* timer A stops; no B in Proceeding */
		if (code > 100 && !c->reinvite && ua->st.state == SIPUA_CALLING)
			state_set(ua, SIPUA_RINGING);
		if (c->cancel_pending)
			cancel_send(ua);
		return;
	}
	txn_stop(x);
	if (code < 300) {
		invite_2xx(ua, m);
		return;
	}
	ack_send(ua, m, false);
	if (c->reinvite) {
		c->reinvite = false;
		c->local_hold = c->prev_hold;
		media_apply(ua);
		return;
	}
	ua->st.last_code = code;
	call_end(ua, c->cancelled && code == 487 ? "cancelled" : "rejected");
}

static void txn_timeout(sipua *ua, enum ua_txn_kind k)
{
	ua_call *c = &ua->c;

	switch (k) {
	case UA_TX_REG:
		reg_final(ua, 408, 0);
		break;
	case UA_TX_INVITE:
		if (c->reinvite) {
			c->reinvite = false;
			bye_send(ua, "timeout");        /* RFC 3261 14.1 */
		} else {
			call_end(ua, c->cancelled ? "cancelled" : "timeout");
		}
		break;
	default:
		break;
	}
}

/* ---- incoming call ---------------------------------------------------------------- */

static void srv_fire(tv_timer *t, tv_time now)
{
	ua_srv *s = t->arg;
	sipua *ua = s->ua;

	if (now - s->start >= SIPMSG_TIMEOUT) {
		srv_stop(ua);
		if (s->code < 300 && !s->reinvite)
			bye_send(ua, "timeout");        /* RFC 3261 13.3.1.4: no ACK */
		return;
	}
	ua_send_to(ua, s->buf, s->len, &s->dst);
	s->interval = s->interval * 2 > SIPMSG_T2 ? SIPMSG_T2 : s->interval * 2;
	host_timer_arm(ua->h, &s->t, now + s->interval < s->start + SIPMSG_TIMEOUT ?
		       now + s->interval : s->start + SIPMSG_TIMEOUT);
}

/* The final response to c->inv (a re-INVITE if reinvite); a 2xx carries
 * Contact and our SDP. Resent until the ACK. */
static int uas_final(sipua *ua, int code, bool reinvite)
{
	ua_call *c = &ua->c;
	ua_srv *s = &ua->srv;
	tv_time now = host_now(ua->h);
	bool ok = code < 300;
	ua_rsp p = { .code = code, .tag = c->local_tag, .contact = ok, .sdp = ok ? &c->local : NULL, .keep = s };
	int rc;

	rc = ua_respond(ua, c->inv, &c->inv_src, &p);
	if (rc < 0 && !s->buf)
		return rc;
	s->active = true;
	s->reinvite = reinvite;
	s->code = code;
	s->cseq = strtoul(c->inv->cseq->number, NULL, 10);
	s->start = now;
	s->interval = SIPMSG_T1;
	if (!s->dst.tcp)
		host_timer_arm(ua->h, &s->t, now + SIPMSG_T1);
	else
		host_timer_arm(ua->h, &s->t, now + SIPMSG_TIMEOUT);
	if (!ok && !reinvite) {
		ua->st.last_code = code;
		call_end(ua, code == 487 ? "cancelled" : "rejected");
	}
	if (ok && !reinvite)
		ua->st.calls_answered++;
	return 0;
}

/* Answer (200) or refuse a call that is ringing here. */
static int uas_decide(sipua *ua, int code)
{
	if (ua->c.outgoing || ua->st.state != SIPUA_RINGING || ua->srv.active)
		return TV_ESTATE;
	host_timer_cancel(ua->h, &ua->answer);
	return uas_final(ua, code, false);
}

int sipua_answer(sipua *ua)
{
	return uas_decide(ua, 200);
}

int sipua_reject(sipua *ua, int code)
{
	return code < 300 || code > 699 ? TV_EINVAL : uas_decide(ua, code);
}

static void answer_fire(tv_timer *t, tv_time now)
{
	(void)now;
	sipua_answer(t->arg);
}

static bool same_call(const sipua *ua, const osip_message_t *m)
{
	return strcmp(m->call_id->number, ua->c.call_id) == 0;
}

static int inv_keep(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	if (ua->c.inv)
		osip_message_free(ua->c.inv);
	ua->c.inv = NULL;
	ua->c.inv_src = *src;
	return osip_message_clone(m, &ua->c.inv) == 0 ? 0 : TV_ENOMEM;
}

static void uas_reinvite(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	ua_call *c = &ua->c;
	sipmsg_sdp peer;

	if (ua->txn[UA_TX_INVITE].active || ua->srv.active) {
		ua_reply(ua, m, src, 491, c->local_tag);
		return;
	}
	if (sipmsg_sdp_read(m, &peer) < 0) {
		ua_reply(ua, m, src, 488, c->local_tag);
		return;
	}
	if (inv_keep(ua, m, src) < 0)
		return;
	sipmsg_contact_uri(m, c->target, sizeof(c->target));
	sdp_local(ua, &peer, &c->local);
	c->sess_ver++;
	media_update(ua, &peer);
	uas_final(ua, 200, true);
	media_apply(ua);
}

static void uas_invite(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	ua_call *c = &ua->c;
	const char *tag = sipmsg_tag(m->to);
	sipmsg_sdp peer;
	char rtag[24];
	int rc;

	if (same_call(ua, m) && c->inv && strcmp(m->cseq->number, c->inv->cseq->number) == 0) {
		if (ua->srv.buf)                /* a resent INVITE: say it again */
			ua_send_to(ua, ua->srv.buf, ua->srv.len, &ua->srv.dst);
		return;
	}
	if (tag && same_call(ua, m) && strcmp(tag, c->local_tag) == 0 && ua->st.state == SIPUA_ESTABLISHED) {
		uas_reinvite(ua, m, src);
		return;
	}
	if (tag) {
		ua_reply(ua, m, src, 481, NULL);
		return;
	}
	rand_id(ua, rtag, 12);
	if (in_call(ua) || ua->srv.active) {
		ua_reply(ua, m, src, 486, rtag);
		return;
	}
	call_begin(ua, false);
	snprintf(c->local_tag, sizeof(c->local_tag), "%s", rtag);
	snprintf(c->call_id, sizeof(c->call_id), "%s", m->call_id->number);
	tag = sipmsg_tag(m->from);
	snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", tag ? tag : "");
	sipmsg_uri_str(m->from->url, c->remote_uri, sizeof(c->remote_uri));
	sipmsg_uri_str(m->to->url, c->local_uri, sizeof(c->local_uri));
	if (sipmsg_contact_uri(m, c->target, sizeof(c->target)) < 0)
		snprintf(c->target, sizeof(c->target), "%s", c->remote_uri);
	c->invite_cseq = strtoul(m->cseq->number, NULL, 10);
	c->local_cseq = 1;
	if (inv_keep(ua, m, src) < 0)
		return;
	ua_reply(ua, m, src, 100, NULL);
	if (ua->cfg.answer == SIPUA_ANSWER_BUSY) {
		uas_final(ua, 486, false);
		return;
	}
	rc = sipmsg_sdp_read(m, &peer);
	if (rc == 0 && !peer.m[SIPMSG_AUDIO].port)
		rc = TV_EINVAL;
	if (rc == 0) {
		sdp_local(ua, &peer, &c->local);
		rc = media_update(ua, &peer);
	}
	if (rc < 0) {
		uas_final(ua, rc == TV_EINVAL || rc == TV_ENOENT ? 488 : 500, false);
		return;
	}
	state_set(ua, SIPUA_RINGING);
	ua_respond(ua, m, src, &(ua_rsp){ .code = 180, .tag = c->local_tag, .contact = true, .keep = &ua->srv });
	if (ua->cfg.answer == SIPUA_ANSWER_AUTO)
		host_timer_arm(ua->h, &ua->answer, host_now(ua->h) + ua->cfg.answer_delay);
}

static void uas_ack(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	ua_srv *s = &ua->srv;

	(void)src;
	if (!s->active || !same_call(ua, m) || strtoul(m->cseq->number, NULL, 10) != s->cseq)
		return;
	srv_stop(ua);
	if (s->code < 300 && !s->reinvite && ua->st.state == SIPUA_RINGING) {
		state_set(ua, SIPUA_ESTABLISHED);
		ua->st.established_at = host_now(ua->h);
		ua->st.last_code = s->code;
		media_apply(ua);
	}
}

static void uas_cancel(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	ua_call *c = &ua->c;
	const char *br = sipmsg_branch(m), *ibr = c->inv ? sipmsg_branch(c->inv) : NULL;

	if (!same_call(ua, m) || c->outgoing || !br || !ibr || strcmp(br, ibr) != 0) {
		ua_reply(ua, m, src, 481, NULL);
		return;
	}
	ua_reply(ua, m, src, 200, c->local_tag);
	if (ua->st.state == SIPUA_RINGING && !ua->srv.active) {
		host_timer_cancel(ua->h, &ua->answer);
		uas_final(ua, 487, false);
	}
}

static void uas_bye(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	if (!same_call(ua, m) || ua->c.call_id[0] == '\0') {
		ua_reply(ua, m, src, 481, NULL);
		return;
	}
	ua_reply(ua, m, src, 200, ua->c.local_tag);
	if (ua->st.state == SIPUA_ESTABLISHED || (ua->st.state == SIPUA_RINGING && ua->srv.active)) {
		srv_stop(ua);
		call_end(ua, "bye-received");
	}
}

static void uas_options(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	char tag[24];
	ua_rsp p = { .code = 200, .tag = tag, .contact = true };

	ua->st.options_rx++;
	if (ua->cfg.no_options_answer)
		return;
	rand_id(ua, tag, 12);
	if (ua_respond(ua, m, src, &p) == 0)
		ua->st.options_answered++;
}

/* ---- dialog operations ------------------------------------------------------------- */

int sipua_hangup(sipua *ua)
{
	if (ua->st.state != SIPUA_ESTABLISHED)
		return TV_ESTATE;
	bye_send(ua, "bye-sent");
	return 0;
}

int sipua_hold(sipua *ua, bool hold)
{
	ua_call *c = &ua->c;
	osip_message_t *m;
	char br[24] = "z9hG4bK";
	int rc;

	if (ua->st.state != SIPUA_ESTABLISHED || ua->txn[UA_TX_INVITE].active || ua->srv.active)
		return TV_ESTATE;
	if (hold == c->local_hold)
		return 0;
	rand_id(ua, br + 7, 16);
	c->prev_hold = c->local_hold;
	c->local_hold = hold;
	for (int k = 0; k < SIPMSG_NMEDIA; k++)
		c->local.m[k].dir = hold ? SIPMSG_DIR_SEND : SIPMSG_DIR_SENDRECV;
	c->sess_ver++;
	c->invite_cseq = ++c->local_cseq;
	rc = ua_build_dialog(ua, "INVITE", c->invite_cseq, br, true, &m);
	if (rc == 0)
		rc = sipmsg_sdp_attach(m, ua->user, host_ip(ua->h), c->sess_id, c->sess_ver, &c->local);
	if (rc == 0) {
		c->reinvite = true;
		rc = txn_start(ua, UA_TX_INVITE, m);
	}
	if (m)
		osip_message_free(m);
	if (rc < 0) {
		c->reinvite = false;
		c->local_hold = c->prev_hold;
	}
	media_apply(ua);
	return rc;
}

void sipua_mute(sipua *ua, bool mute)
{
	ua->c.muted = mute;
	for (int k = 0; k < SIPMSG_NMEDIA; k++)
		if (ua->ms[k])
			media_mute(ua->ms[k], mute);
}

/* ---- receiving --------------------------------------------------------------------- */

typedef void (*ua_req_fn)(sipua *ua, const osip_message_t *m, const ua_src *src);

static const struct {
	const char *method;
	ua_req_fn fn;
} ua_methods[] = {
	{ "INVITE", uas_invite },
	{ "ACK", uas_ack },
	{ "CANCEL", uas_cancel },
	{ "BYE", uas_bye },
	{ "OPTIONS", uas_options },
};

typedef void (*ua_rsp_fn)(sipua *ua, ua_txn *x, const osip_message_t *m);

static void nict_response(sipua *ua, ua_txn *x, const osip_message_t *m)
{
	(void)ua;
	if (m->status_code >= 200)
		txn_stop(x);
	else if (x->active)
		x->interval = SIPMSG_T2 / 2;    /* doubled at the next firing */
}

static const ua_rsp_fn ua_responses[UA_TX_N] = {
	[UA_TX_REG] = reg_response,
	[UA_TX_INVITE] = invite_response,
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
	ua_reply(ua, m, src, 501, NULL);
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
	    cfg->proxy.ip.af != TV_AF_INET ||
	    strlen(cfg->user) >= sizeof(ua->user) || strlen(cfg->domain) >= sizeof(ua->domain)) {
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
	ua->cfg.user = ua->user;
	ua->cfg.domain = ua->domain;
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
	for (int k = 0; k < UA_TX_N; k++) {
		ua->txn[k].ua = ua;
		tv_timer_init(&ua->txn[k].t, txn_fire, &ua->txn[k]);
	}
	ua->srv.ua = ua;
	tv_timer_init(&ua->srv.t, srv_fire, &ua->srv);
	tv_timer_init(&ua->answer, answer_fire, ua);
	tv_timer_init(&ua->reg_refresh, reg_refresh_fire, ua);
	rand_id(ua, ua->reg_call_id, 24);
	rand_id(ua, ua->reg_tag, 12);
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
	call_reset(ua);
	for (int k = 0; k < UA_TX_N; k++) {
		txn_stop(&ua->txn[k]);
		osip_free(ua->txn[k].buf);
	}
	host_timer_cancel(ua->h, &ua->reg_refresh);
	tcp_drop(ua);
	sipmsg_stream_free(&ua->rxs);
	host_udp_close(ua->udp);
	free(ua);
}

const sipua_status *sipua_get_status(const sipua *ua) { return &ua->st; }

media_stream *sipua_media(sipua *ua, int idx)
{
	if (idx < 0 || idx >= SIPMSG_NMEDIA)
		return NULL;
	return ua->ms[idx];
}
