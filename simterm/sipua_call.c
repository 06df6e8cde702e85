/* sipua_call.c - the simulated phone's call (sipua.h): its state machine,
 * dialog, offer/answer, media, the INVITE server transaction, and
 * answer/reject/cancel/hangup/hold/mute. The transport, the client
 * transactions that carry INVITE, CANCEL and BYE, registration and the
 * dispatch of what arrives are sipua.c's (sipua_priv.h).
 *
 * Timers:
 *   srv.t        the INVITE server transaction's final response: resent at
 *                T1 doubling to T2 until the ACK (UDP only), abandoned at
 *                64*T1 (a 2xx never ACKed ends the call with a BYE).
 *   answer       ringing -> automatic answer after cfg.answer_delay.
 *   The session timer's own (RFC 4028: se_refresh, se_expire) are listed
 *   in sipua_timer.c, which is told of 2xx, failures and answers here.
 *   The INVITE, CANCEL and BYE client transactions are timed by sipua.c
 *   (txn[k].t); a CANCEL re-arms the INVITE's timer here to give the 487
 *   64*T1 (RFC 3261 9.1), and the INVITE's timeout comes back as
 *   sipua_invite_timeout.
 *
 * States (sipua_call_state; every transition checked against ua_next):
 *   idle, ended -> calling (INVITE sent) | ringing (INVITE received, 180
 *                  sent) | ended (refused at once: busy, 488, 500)
 *   calling     -> ringing (a 1xx other than 100) | established (2xx) | ended
 *   ringing     -> established (a 2xx received, or ours ACKed) | ended
 *   established -> ended
 *
 * Media: one stream per m= line this phone wrote, opened with the call and
 * kept (stopped) after it ends; RTCP mux is used only if both sides asked;
 * RTP is sent only while established, not holding, and the peer's SDP
 * says it receives (so a=sendonly from the peer silences this phone too).
 *
 * Authentication: a 401/407 to the INVITE of a new call is ACKed, then
 * the INVITE is sent again once with credentials (sipua_auth.c, new CSeq
 * and branch, same Call-ID, tags and offer); the call stays "calling".
 * Giving up ends it "rejected" with that code.
 *
 * Limits: one call; offers come in INVITEs (an INVITE without SDP gets
 * 488); no PRACK, no early media, no glare handling beyond 491; in-dialog
 * requests are not authenticated. */
#include "sipua_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- call state ---------------------------------------------------------------- */

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

/* ---- dialog ------------------------------------------------------------------- */

/* The dialog's route set from the Record-Route headers of m (RFC 3261
 * 12.1.1/12.1.2): in order for the callee, reversed for the caller. One
 * that does not fit is dropped whole: a partial route set would misroute. */
static void route_set_read(ua_call *c, const osip_message_t *m, bool reverse)
{
	osip_record_route_t *rr = NULL;
	char *v[16];
	int n = 0;
	size_t o = 0;

	c->route[0] = 0;
	for (int i = 0; n < 16 && osip_message_get_record_route(m, i, &rr) >= 0 && rr; i++)
		if (osip_record_route_to_str(rr, &v[n]) == 0)
			n++;
	for (int i = 0; i < n; i++) {
		const char *one = v[reverse ? n - 1 - i : i];
		int k = snprintf(c->route + o, sizeof(c->route) - o, "%s\n", one);
		if (k < 0 || (size_t)k >= sizeof(c->route) - o) {
			c->route[0] = 0;
			break;
		}
		o += (size_t)k;
	}
	for (int i = 0; i < n; i++)
		osip_free(v[i]);
}

/* Route headers for a request inside the dialog (loose routing: the
 * Request-URI stays the remote target). */
static int route_set_put(const ua_call *c, osip_message_t *m)
{
	char one[UA_ROUTE_MAX];

	for (const char *p = c->route; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		memcpy(one, p, len);
		one[len] = 0;
		if (osip_message_set_route(m, one) != 0)
			return TV_ENOMEM;
		p += len + (e ? 1 : 0);
	}
	return 0;
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
	int rc = sipua_build(ua, &r, branch, contact, out);

	if (rc == 0 && (rc = route_set_put(c, *out)) < 0) {
		osip_message_free(*out);
		*out = NULL;
	}
	return rc;
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

/* Open (or re-open, if its ports changed) the stream for what we wrote. A
 * new stream starts afresh: counters, RTP gate (cfg.media_manual) and
 * budget (cfg.media_count). */
static int media_open(sipua *ua, int k, const sipmsg_media *mine)
{
	media_cfg mc = { .pt = k == SIPMSG_VIDEO ? 96 : ua->cfg.pt, .clock_rate = k == SIPMSG_VIDEO ? 90000 : 0,
			 .rtcp_mux = mine->mux, .asymmetric = ua->cfg.asymmetric_rtp, .ssrc = ua->cfg.ssrc,
			 .payload_len = ua->cfg.payload_len, .count = ua->cfg.media_count,
			 .manual = ua->cfg.media_manual };
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

/* Where the peer's m= line says to send: RTP to c= and the port; RTCP to
 * a=rtcp (RFC 3605), else port + 1, or the RTP port when mux is agreed. */
static void media_targets(const sipmsg_media *peer, bool mux, tv_ep *rtp, tv_ep *rtcp)
{
	*rtp = (tv_ep){ .ip = peer->addr, .port = peer->port };
	*rtcp = *rtp;
	if (mux)
		rtcp->port = peer->port;
	else if (peer->rtcp_port)
		*rtcp = (tv_ep){ .ip = peer->rtcp_has_addr ? peer->rtcp_addr : peer->addr, .port = peer->rtcp_port };
	else
		rtcp->port = (uint16_t)(peer->port + 1);
}

/* Point stream k at what the peer wrote. */
static void media_remote(sipua *ua, int k, const sipmsg_media *peer, bool mux)
{
	tv_ep rtp, rtcp;

	if (!ua->ms[k] || !peer->present || peer->port == 0)
		return;
	media_targets(peer, mux, &rtp, &rtcp);
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
	sipua_timer_stop(ua);
	media_apply(ua);
}

/* Forget the previous call: its media, messages and timers. */
void sipua_call_reset(sipua *ua)
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
	sipua_timer_stop(ua);
	sipua_txn_stop(&ua->txn[UA_TX_INVITE]);
	sipua_txn_stop(&ua->txn[UA_TX_CANCEL]);
	ua->st.held = false;
	ua->st.last_code = 0;
	ua->st.end_reason = NULL;
	ua->st.established_at = 0;
}

/* A new call: a clean slate and a new SDP session. */
static void call_begin(sipua *ua, bool outgoing)
{
	sipua_call_reset(ua);
	ua->c.outgoing = outgoing;
	ua->c.sess_id = tv_rng_below(host_rng(ua->h), 1000000000u) + 1;
	ua->c.sess_ver = 1;
}

void sipua_bye(sipua *ua, const char *reason)
{
	osip_message_t *m;
	char br[24] = "z9hG4bK";

	sipua_rand_id(ua, br + 7, 16);
	call_end(ua, reason);
	if (ua_build_dialog(ua, "BYE", ++ua->c.local_cseq, br, false, &m) == 0) {
		sipua_txn_start(ua, UA_TX_BYE, m);
		osip_message_free(m);
	}
}

/* ---- outgoing call ---------------------------------------------------------------- */

/* The INVITE of a new call, CSeq c->invite_cseq, branch br, our offer
 * (c->local); with credentials if we hold a challenge (tries: times it was
 * resent for one). */
static int invite_send(sipua *ua, const char *br, int tries)
{
	ua_call *c = &ua->c;
	osip_message_t *m;
	sipmsg_req r = {
		.method = "INVITE", .ruri = c->remote_uri, .to_uri = c->remote_uri, .call_id = c->call_id,
		.from_uri = c->local_uri, .from_tag = c->local_tag, .cseq = c->invite_cseq,
	};
	int rc = sipua_build(ua, &r, br, true, &m);

	if (rc < 0)
		return rc;
	rc = sipmsg_sdp_attach(m, ua->user, host_ip(ua->h), c->sess_id, c->sess_ver, &c->local);
	if (rc == 0)
		rc = sipua_timer_request(ua, m, false);
	if (rc == 0)
		rc = sipua_auth_add(ua, UA_TX_INVITE, m);
	ua->txn[UA_TX_INVITE].auth_tries = tries;
	if (rc == 0)
		rc = sipua_txn_start(ua, UA_TX_INVITE, m);
	osip_message_free(m);
	return rc;
}

int sipua_call(sipua *ua, const char *user)
{
	ua_call *c = &ua->c;
	char br[24] = "z9hG4bK";
	int rc = 0;

	if (!user || !*user || strlen(user) > 64)
		return TV_EINVAL;
	if (in_call(ua))
		return TV_ESTATE;
	call_begin(ua, true);
	sipua_callid_new(ua, c->call_id, sizeof(c->call_id));
	sipua_rand_id(ua, c->local_tag, 12);
	sipua_rand_id(ua, br + 7, 16);
	snprintf(c->local_uri, sizeof(c->local_uri), "%s", ua->aor);
	snprintf(c->remote_uri, sizeof(c->remote_uri), "sip:%s@%s", user, ua->domain);
	snprintf(c->target, sizeof(c->target), "%s", c->remote_uri);
	c->local_cseq = c->invite_cseq = 1;
	sdp_local(ua, NULL, &c->local);
	for (int k = 0; rc == 0 && k < SIPMSG_NMEDIA; k++)
		rc = media_open(ua, k, &c->local.m[k]);
	if (rc == 0)
		rc = invite_send(ua, br, 0);
	if (rc < 0) {
		media_release(ua);
		return rc;
	}
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
	if (sipua_build(ua, &r, inv->branch, false, &m) < 0)
		return;
	sipua_txn_start(ua, UA_TX_CANCEL, m);
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
		sipua_rand_id(ua, br + 7, 16);
	else if (!c->reinvite)
		r.ruri = c->remote_uri;
	if (sipua_build(ua, &r, ok ? br : x->branch, false, &m) < 0)
		return;
	/* the ACK of a 2xx is a request of the dialog; the other, hop by hop */
	if (ok && route_set_put(c, m) < 0) {
		osip_message_free(m);
		return;
	}
	osip_free(c->ack);
	c->ack = NULL;
	if (sipua_to_str(ua, m, &c->ack, &c->ack_len) == 0)
		sipua_send_req(ua, c->ack, c->ack_len);
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
		route_set_read(c, m, true);
	}
	ack_send(ua, m, true);
	if (sipmsg_sdp_read(m, &peer) == 0)
		media_update(ua, &peer);
	if (!c->reinvite) {
		ua->st.last_code = m->status_code;
		state_set(ua, SIPUA_ESTABLISHED);
		ua->st.established_at = host_now(ua->h);
	}
	sipua_timer_2xx(ua, m);
	c->reinvite = c->refreshing = false;
	media_apply(ua);
	if (c->cancelled && ua->st.state == SIPUA_ESTABLISHED)
		sipua_bye(ua, "cancelled");     /* the 200 crossed our CANCEL */
}

/* A 401/407 to our INVITE (ACKed already): the same INVITE again with
 * credentials, a new CSeq and branch (RFC 3261 22.2), unless we give up
 * (sipua_auth_retry) or the caller is cancelling. 0 if it was sent. */
static int invite_retry(sipua *ua, const ua_txn *x, const osip_message_t *rsp)
{
	ua_call *c = &ua->c;
	char br[24] = "z9hG4bK";
	int tries = x->auth_tries;

	if (c->cancelled || c->cancel_pending || !sipua_auth_retry(ua, UA_TX_INVITE, rsp, tries))
		return TV_ESTATE;
	sipua_rand_id(ua, br + 7, 16);
	c->invite_cseq = ++c->local_cseq;
	c->got_1xx = false;
	return invite_send(ua, br, tries + 1);
}

void sipua_invite_response(sipua *ua, ua_txn *x, const osip_message_t *m)
{
	ua_call *c = &ua->c;
	int code = m->status_code;

	if (!x->active || !sipua_callid_is(m, c->call_id)) {
		/* A resent final after ours was ACKed: ACK it again. */
		if (code >= 200 && c->ack && sipua_callid_is(m, c->call_id))
			sipua_send_req(ua, c->ack, c->ack_len);
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
	sipua_txn_stop(x);
	if (code < 300) {
		invite_2xx(ua, m);
		return;
	}
	ack_send(ua, m, false);
	if (c->reinvite) {
		bool refresh = c->refreshing;

		c->reinvite = c->refreshing = false;
		c->local_hold = c->prev_hold;
		media_apply(ua);
		if (refresh)
			sipua_timer_failed(ua, code);
		return;
	}
	if ((code == 401 || code == 407) && invite_retry(ua, x, m) == 0)
		return;
	ua->st.last_code = code;
	call_end(ua, c->cancelled && code == 487 ? "cancelled" : "rejected");
}

/* The INVITE slot timed out: the call ends; a re-INVITE that timed out
 * ends it with a BYE (RFC 3261 14.1). */
void sipua_invite_timeout(sipua *ua)
{
	ua_call *c = &ua->c;

	if (c->reinvite) {
		bool refresh = c->refreshing;

		c->reinvite = c->refreshing = false;
		sipua_bye(ua, refresh ? "session-expired" : "timeout");     /* RFC 4028 10 */
	} else {
		call_end(ua, c->cancelled ? "cancelled" : "timeout");
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
			sipua_bye(ua, "timeout");       /* RFC 3261 13.3.1.4: no ACK */
		return;
	}
	sipua_send_to(ua, s->buf, s->len, &s->dst);
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

	if (ok)
		sipua_timer_answer(ua, c->inv, reinvite, &p);
	rc = sipua_respond(ua, c->inv, &c->inv_src, &p);
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
	return sipua_callid_is(m, ua->c.call_id);
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
		sipua_reply(ua, m, src, 491, c->local_tag);
		return;
	}
	if (sipmsg_sdp_read(m, &peer) < 0) {
		sipua_reply(ua, m, src, 488, c->local_tag);
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

void sipua_uas_invite(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	ua_call *c = &ua->c;
	const char *tag = sipmsg_tag(m->to);
	sipmsg_sdp peer;
	char rtag[24];
	int rc;

	if (same_call(ua, m) && c->inv && strcmp(m->cseq->number, c->inv->cseq->number) == 0) {
		if (ua->srv.buf)                /* a resent INVITE: say it again */
			sipua_send_to(ua, ua->srv.buf, ua->srv.len, &ua->srv.dst);
		return;
	}
	if (tag && same_call(ua, m) && strcmp(tag, c->local_tag) == 0 && ua->st.state == SIPUA_ESTABLISHED) {
		uas_reinvite(ua, m, src);
		return;
	}
	if (tag) {
		sipua_reply(ua, m, src, 481, NULL);
		return;
	}
	sipua_rand_id(ua, rtag, 12);
	if (in_call(ua) || ua->srv.active) {
		sipua_reply(ua, m, src, 486, rtag);
		return;
	}
	call_begin(ua, false);
	snprintf(c->local_tag, sizeof(c->local_tag), "%s", rtag);
	sipua_callid_full(m, c->call_id, sizeof(c->call_id));
	tag = sipmsg_tag(m->from);
	snprintf(c->remote_tag, sizeof(c->remote_tag), "%s", tag ? tag : "");
	sipmsg_uri_str(m->from->url, c->remote_uri, sizeof(c->remote_uri));
	sipmsg_uri_str(m->to->url, c->local_uri, sizeof(c->local_uri));
	if (sipmsg_contact_uri(m, c->target, sizeof(c->target)) < 0)
		snprintf(c->target, sizeof(c->target), "%s", c->remote_uri);
	route_set_read(c, m, false);
	c->invite_cseq = strtoul(m->cseq->number, NULL, 10);
	c->local_cseq = 1;
	if (inv_keep(ua, m, src) < 0)
		return;
	sipua_reply(ua, m, src, 100, NULL);
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
	sipua_respond(ua, m, src, &(ua_rsp){ .code = 180, .tag = c->local_tag, .contact = true, .keep = &ua->srv });
	if (ua->cfg.answer == SIPUA_ANSWER_AUTO)
		host_timer_arm(ua->h, &ua->answer, host_now(ua->h) + ua->cfg.answer_delay);
}

void sipua_uas_ack(sipua *ua, const osip_message_t *m, const ua_src *src)
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

void sipua_uas_cancel(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	ua_call *c = &ua->c;
	const char *br = sipmsg_branch(m), *ibr = c->inv ? sipmsg_branch(c->inv) : NULL;

	if (!same_call(ua, m) || c->outgoing || !br || !ibr || strcmp(br, ibr) != 0) {
		sipua_reply(ua, m, src, 481, NULL);
		return;
	}
	sipua_reply(ua, m, src, 200, c->local_tag);
	if (ua->st.state == SIPUA_RINGING && !ua->srv.active) {
		host_timer_cancel(ua->h, &ua->answer);
		uas_final(ua, 487, false);
	}
}

void sipua_uas_bye(sipua *ua, const osip_message_t *m, const ua_src *src)
{
	if (!same_call(ua, m) || ua->c.call_id[0] == '\0') {
		sipua_reply(ua, m, src, 481, NULL);
		return;
	}
	sipua_reply(ua, m, src, 200, ua->c.local_tag);
	if (ua->st.state == SIPUA_ESTABLISHED || (ua->st.state == SIPUA_RINGING && ua->srv.active)) {
		srv_stop(ua);
		call_end(ua, "bye-received");
	}
}

/* ---- dialog operations ------------------------------------------------------------- */

int sipua_hangup(sipua *ua)
{
	if (ua->st.state != SIPUA_ESTABLISHED)
		return TV_ESTATE;
	sipua_bye(ua, "bye-sent");
	return 0;
}

int sipua_reinvite(sipua *ua, bool refresh)
{
	ua_call *c = &ua->c;
	osip_message_t *m = NULL;
	char br[24] = "z9hG4bK";
	int rc;

	sipua_rand_id(ua, br + 7, 16);
	if (refresh)
		c->prev_hold = c->local_hold;
	c->invite_cseq = ++c->local_cseq;
	rc = ua_build_dialog(ua, "INVITE", c->invite_cseq, br, true, &m);
	if (rc == 0)
		rc = sipmsg_sdp_attach(m, ua->user, host_ip(ua->h), c->sess_id, c->sess_ver, &c->local);
	if (rc == 0 && refresh)
		rc = sipua_timer_request(ua, m, true);
	if (rc == 0) {
		c->reinvite = true;
		c->refreshing = refresh;
		rc = sipua_txn_start(ua, UA_TX_INVITE, m);
	}
	if (m)
		osip_message_free(m);
	if (rc < 0)
		c->reinvite = c->refreshing = false;
	return rc;
}

int sipua_hold(sipua *ua, bool hold)
{
	ua_call *c = &ua->c;
	int rc;

	if (ua->st.state != SIPUA_ESTABLISHED || ua->txn[UA_TX_INVITE].active || ua->srv.active)
		return TV_ESTATE;
	if (hold == c->local_hold)
		return 0;
	c->prev_hold = c->local_hold;
	c->local_hold = hold;
	for (int k = 0; k < SIPMSG_NMEDIA; k++)
		c->local.m[k].dir = hold ? SIPMSG_DIR_SEND : SIPMSG_DIR_SENDRECV;
	c->sess_ver++;
	rc = sipua_reinvite(ua, false);
	if (rc < 0)
		c->local_hold = c->prev_hold;
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

/* ---- life cycle ---------------------------------------------------------------------- */

void sipua_call_init(sipua *ua)
{
	ua->srv.ua = ua;
	tv_timer_init(&ua->srv.t, srv_fire, &ua->srv);
	tv_timer_init(&ua->answer, answer_fire, ua);
	sipua_timer_init(ua);
}

_Static_assert((int)SIPUA_AUDIO == (int)SIPMSG_AUDIO && (int)SIPUA_VIDEO == (int)SIPMSG_VIDEO,
	       "sipua_media indexes are ua->ms's");

media_stream *sipua_media(sipua *ua, int idx)
{
	if (idx < 0 || idx >= SIPMSG_NMEDIA)
		return NULL;
	return ua->ms[idx];
}

int sipua_peer_media(const sipua *ua, int idx, tv_ep *rtp, tv_ep *rtcp)
{
	const sipmsg_media *p;

	if (idx < 0 || idx >= SIPMSG_NMEDIA)
		return TV_ENOENT;
	p = &ua->c.remote.m[idx];
	if (!p->present || p->port == 0)
		return TV_ENOENT;
	media_targets(p, ua->c.local.m[idx].mux && p->mux, rtp, rtcp);
	return 0;
}

const char *sipua_remote_uri(const sipua *ua) { return ua->c.remote_uri; }
