/* ss_transport.c - the softswitch's transport (softswitch_priv.h): UDP,
 * TCP connections and their framing, and where responses go.
 *
 * TCP (RFC 3261 18.3): it listens on its SIP port; each connection frames
 * its own byte stream by Content-Length (sipmsg_stream with need_length:
 * header names in any case, compact "l", blanks before the colon); CRLF
 * keepalives between messages are skipped. A head that cannot be framed
 * (no Content-Length, or a bad one) loses the stream: the connection is
 * closed and counted (tcp_bad_framing).
 *
 * Connections it opens (to send a response whose Via says TCP when the
 * request's connection is gone, or a request to a ;transport=tcp target)
 * leave from an ephemeral port; messages queued before the handshake
 * completes are counted as failed if it never does (RST, no listener,
 * retransmissions exhausted). Once connected, a message handed to TCP
 * counts as delivered. An open connection to the same remote endpoint is
 * reused whichever side opened it.
 *
 * Timers: none of its own; every connection it opens has an idle timeout
 * (SS_TCP_IDLE, held by the host's TCP), so they do not pile up. Accepted
 * connections live as long as the peer keeps them. */
#include "softswitch_priv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SS_TCP_IDLE TV_SEC(300)

/* ---- connections ----------------------------------------------------------- */

static void conn_cb(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now);

static ss_conn *conn_add(softswitch *ss, tv_tcp *c, bool outgoing)
{
	ss_conn *k;

	if (ss->nconns == ss->capconns) {
		size_t cap = ss->capconns ? 2 * ss->capconns : 8;
		ss_conn **nc = realloc(ss->conns, cap * sizeof(*nc));

		if (!nc)
			return NULL;
		ss->conns = nc;
		ss->capconns = cap;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->ss = ss;
	k->c = c;
	k->remote = host_tcp_remote(c);
	k->outgoing = outgoing;
	k->rx.need_length = true;
	ss->conns[ss->nconns++] = k;
	host_tcp_set_cb(c, conn_cb, k);
	return k;
}

/* The handle is gone (or going): forget it. */
static void conn_del(ss_conn *k)
{
	softswitch *ss = k->ss;

	for (size_t i = 0; i < ss->nconns; i++) {
		if (ss->conns[i] == k) {
			ss->conns[i] = ss->conns[--ss->nconns];
			break;
		}
	}
	sipmsg_stream_free(&k->rx);
	free(k);
}

static ss_conn *conn_find(const softswitch *ss, const tv_ep *remote)
{
	for (size_t i = 0; i < ss->nconns; i++)
		if (!ss->conns[i]->closing && tv_ep_eq(&ss->conns[i]->remote, remote))
			return ss->conns[i];
	return NULL;
}

static bool conn_usable(const softswitch *ss, const ss_conn *k)
{
	for (size_t i = 0; k && i < ss->nconns; i++)
		if (ss->conns[i] == k)
			return !k->closing;
	return false;
}

static ss_conn *conn_open(softswitch *ss, const tv_ep *to)
{
	tv_tcp *c;
	ss_conn *k;
	int err;

	c = host_tcp_connect(ss->h, 0, to, conn_cb, NULL, &err);
	if (!c)
		return NULL;
	ss->st.tcp_opened++;
	k = conn_add(ss, c, true);
	if (!k) {
		host_tcp_abort(c);
		return NULL;
	}
	host_tcp_set_idle(c, SS_TCP_IDLE);
	return k;
}

/* The connection's end: what was queued before the handshake is lost. */
static void conn_gone(ss_conn *k)
{
	if (!k->connected) {
		k->ss->st.requests_failed += k->pend_req;
		k->ss->st.responses_failed += k->pend_rsp;
	}
	conn_del(k);
}

/* Framing is lost: nothing more on this stream can be trusted. */
static void conn_bad(ss_conn *k)
{
	k->ss->st.tcp_bad_framing++;
	k->closing = true;
	host_tcp_close(k->c);
}

static void conn_data(ss_conn *k, const uint8_t *data, size_t len, tv_time now)
{
	softswitch *ss = k->ss;
	ss_src src = { .conn = k, .ep = k->remote };
	const uint8_t *msg;
	size_t mlen;
	uint64_t pings = 0;
	int rc;

	if (k->closing)
		return;
	rc = sipmsg_stream_feed(&k->rx, data, len);
	while (rc == 0 && (rc = sipmsg_stream_next(&k->rx, &msg, &mlen, &pings)) == 1) {
		ss->st.rx_tcp++;
		ss_input(ss, msg, mlen, &src, now);
		rc = 0;
		if (k->closing)
			return;
	}
	if (rc < 0)
		conn_bad(k);
}

static void conn_cb(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	ss_conn *k = arg;

	(void)c;
	switch (ev) {
	case TV_TCP_CONNECTED:
		k->connected = true;
		k->pend_req = k->pend_rsp = 0;
		break;
	case TV_TCP_DATA:
		conn_data(k, data, len, now);
		break;
	case TV_TCP_PEER_CLOSED:
		/* Nothing more will come; we have nothing to finish. */
		if (!k->closing) {
			k->closing = true;
			host_tcp_close(k->c);
		}
		break;
	case TV_TCP_CLOSED:
	case TV_TCP_RESET:
	case TV_TCP_TIMEOUT:
		conn_gone(k);
		break;
	}
}

static void on_accept(void *arg, tv_tcp *c, tv_time now)
{
	softswitch *ss = arg;

	(void)now;
	if (!conn_add(ss, c, false)) {
		host_tcp_abort(c);
		return;
	}
	ss->st.tcp_accepted++;
}

/* Queue a message on k; counted as failed now if TCP refuses it, later
 * if the connection never comes up. */
static void conn_send(ss_conn *k, const char *buf, size_t len, bool response)
{
	softswitch *ss = k->ss;

	if (host_tcp_send(k->c, buf, len) < 0) {
		if (response)
			ss->st.responses_failed++;
		else
			ss->st.requests_failed++;
		return;
	}
	ss->st.tx_tcp++;
	if (!k->connected) {
		if (response)
			k->pend_rsp++;
		else
			k->pend_req++;
	}
}

/* ---- UDP ---------------------------------------------------------------------- */

static void udp_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	ss_src src = { .conn = NULL, .ep = *from };

	(void)s;
	ss_input(arg, data, len, &src, now);
}

/* ---- sending ------------------------------------------------------------------ */

static int serialize(softswitch *ss, osip_message_t *m, bool response, char **buf, size_t *len)
{
	int rc = sipmsg_to_str(m, buf, len);

	if (rc == 0 && response && ss->cfg.fold && (rc = sipmsg_restyle(buf, len, SIPMSG_STYLE_FOLD)) < 0)
		osip_free(*buf);
	return rc;
}

static bool via_is_tcp(const osip_message_t *m)
{
	osip_via_t *v = NULL;

	return osip_message_get_via(m, 0, &v) >= 0 && v && v->protocol && strcasecmp(v->protocol, "TCP") == 0;
}

/* RFC 3261 18.2.2 for a reliable transport, when the request's connection
 * is gone: received (else the sent-by host) and the sent-by port. */
static int via_connect_target(const osip_message_t *m, tv_ep *out)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *recv = NULL;
	unsigned long port = 5060;
	const char *host;

	if (osip_message_get_via(m, 0, &v) < 0 || !v || !v->host)
		return TV_ENOENT;
	osip_via_param_get_byname(v, "received", &recv);
	host = recv && recv->gvalue ? recv->gvalue : v->host;
	if (tv_ip_parse(host, &out->ip) < 0 || (v->port && sipmsg_uint(v->port, 65535, &port) < 0) || !port)
		return TV_EINVAL;
	out->port = (uint16_t)port;
	return 0;
}

void ss_tp_respond(softswitch *ss, osip_message_t *r, ss_conn *in)
{
	ss_conn *k = NULL;
	tv_ep to;
	char *buf;
	size_t len;

	if (serialize(ss, r, true, &buf, &len) < 0) {
		ss->st.responses_failed++;
		return;
	}
	if (ss->cfg.udp_only || !via_is_tcp(r)) {
		if (sipmsg_via_target(r, 0, &to) < 0 || host_udp_send(ss->udp, &to, buf, len) < 0)
			ss->st.responses_failed++;
		osip_free(buf);
		return;
	}
	if (conn_usable(ss, in))
		k = in;
	if (!k && sipmsg_via_target(r, 0, &to) == 0)
		k = conn_find(ss, &to);         /* where received/rport say it came from */
	if (!k && via_connect_target(r, &to) == 0 && !(k = conn_find(ss, &to)))
		k = conn_open(ss, &to);
	if (k)
		conn_send(k, buf, len, true);
	else
		ss->st.responses_failed++;
	osip_free(buf);
}

void ss_tp_forward(softswitch *ss, osip_message_t *m, const tv_ep *dst, bool tcp)
{
	ss_conn *k;
	char *buf;
	size_t len;

	if (serialize(ss, m, false, &buf, &len) < 0) {
		ss->st.requests_failed++;
		return;
	}
	if (!tcp || ss->cfg.udp_only) {
		if (host_udp_send(ss->udp, dst, buf, len) < 0)
			ss->st.requests_failed++;
	} else if ((k = conn_find(ss, dst)) != NULL || (k = conn_open(ss, dst)) != NULL) {
		conn_send(k, buf, len, false);
	} else {
		ss->st.requests_failed++;
	}
	osip_free(buf);
}

/* ---- life cycle ------------------------------------------------------------------ */

int ss_tp_open(softswitch *ss)
{
	tv_ep local = tv_ep4(0, ss->cfg.port);
	int err;

	ss->udp = host_udp_bind(ss->h, &local, udp_rx, ss, &err);
	if (!ss->udp)
		return err;
	ss->self = host_udp_local(ss->udp);
	tv_ip_fmt(&ss->self.ip, ss->self_ip);
	if (ss->cfg.udp_only)
		return 0;
	ss->tl = host_tcp_listen(ss->h, ss->cfg.port, on_accept, ss, &err);
	if (!ss->tl) {
		host_udp_close(ss->udp);
		ss->udp = NULL;
		return err;
	}
	return 0;
}

/* Connections are aborted: no callback comes back for them. */
void ss_tp_close(softswitch *ss)
{
	while (ss->nconns) {
		ss_conn *k = ss->conns[ss->nconns - 1];

		host_tcp_abort(k->c);
		conn_del(k);
	}
	free(ss->conns);
	ss->conns = NULL;
	ss->capconns = 0;
	if (ss->tl)
		host_tcp_unlisten(ss->tl);
	ss->tl = NULL;
	host_udp_close(ss->udp);
	ss->udp = NULL;
}
