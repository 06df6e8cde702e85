/* tcp.c - the simulated host's small TCP (host.h lists what it does and
 * what it leaves out).
 *
 * Timers, two per connection:
 *   rtx    armed while anything (SYN, data, FIN) is unacknowledged. RTO
 *          starts at 200 ms and doubles on each timeout up to 6.4 s; a
 *          timeout resends everything from snd_una (go-back-N); the 6th
 *          consecutive timeout sends RST and reports TV_TCP_RESET. A new
 *          ACK resets the RTO and the count. In TIME_WAIT nothing is
 *          outstanding, and the same timer holds the 2 s TIME_WAIT expiry.
 *   idle   armed while an idle timeout is set: fires at the last segment
 *          time + idle, re-arms itself if a segment passed since, else
 *          sends RST and reports TV_TCP_TIMEOUT.
 *
 * Lifetime: a connection leaves the host's map ("gone") when it is reset,
 * times out, finishes TIME_WAIT/LAST_ACK, or is aborted. It is freed once
 * no callback on it is running, so a callback may close or abort its own
 * handle; code that calls back checks tcp_notify()'s result and never
 * touches the handle after it returns false.
 *
 * Sequence space: the SYN is iss, stream byte i is iss + 1 + i, and the FIN
 * follows the last byte queued before sim_tcp_close(). sbuf holds every
 * byte from the oldest unacknowledged one (sbuf_seq) on, sent or not. */
#include "simhost_priv.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define TCP_MSS 1400
#define TCP_SEG_MAX (IP4_HDR + TCP_HDR + TCP_MSS)      /* the largest segment we send */
#define TCP_WIN 65535u          /* advertised, and the most we keep in flight */
#define TCP_RTO_INIT TV_MS(200)
#define TCP_RTO_MAX TV_MS(6400)
#define TCP_RTX_TRIES 6
/* 2 s instead of 2*MSL (minutes): scenarios open many short connections
 * and re-use ports quickly, and the simulated links never hold a segment
 * anywhere near that long, so no old duplicate can outlive it. */
#define TCP_TW_TIME TV_SEC(2)
#define TCP_SNDBUF_MAX ((size_t)64 << 20)   /* keeps sequence arithmetic sane */
#define TCP_EPH_LO 49152

enum tcp_state {
	TCPS_CLOSED,
	TCPS_SYN_SENT,
	TCPS_SYN_RCVD,
	TCPS_ESTABLISHED,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_CLOSING,
	TCPS_TIME_WAIT,
	TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,
};

static const char *const tcp_state_names[] = {
	[TCPS_CLOSED] = "CLOSED",
	[TCPS_SYN_SENT] = "SYN_SENT",
	[TCPS_SYN_RCVD] = "SYN_RCVD",
	[TCPS_ESTABLISHED] = "ESTABLISHED",
	[TCPS_FIN_WAIT_1] = "FIN_WAIT_1",
	[TCPS_FIN_WAIT_2] = "FIN_WAIT_2",
	[TCPS_CLOSING] = "CLOSING",
	[TCPS_TIME_WAIT] = "TIME_WAIT",
	[TCPS_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCPS_LAST_ACK] = "LAST_ACK",
};

/* Legal transitions: bit s of tcp_next[from] is set if from -> s is allowed.
 * Every state may drop to CLOSED (reset, timeout, abort). */
#define TS(s) (1u << (s))
static const uint16_t tcp_next[] = {
	[TCPS_CLOSED] = TS(TCPS_SYN_SENT) | TS(TCPS_SYN_RCVD),
	[TCPS_SYN_SENT] = TS(TCPS_ESTABLISHED) | TS(TCPS_CLOSED),
	[TCPS_SYN_RCVD] = TS(TCPS_ESTABLISHED) | TS(TCPS_CLOSED),
	[TCPS_ESTABLISHED] = TS(TCPS_FIN_WAIT_1) | TS(TCPS_CLOSE_WAIT) | TS(TCPS_CLOSED),
	[TCPS_FIN_WAIT_1] = TS(TCPS_FIN_WAIT_2) | TS(TCPS_CLOSING) | TS(TCPS_CLOSED),
	[TCPS_FIN_WAIT_2] = TS(TCPS_TIME_WAIT) | TS(TCPS_CLOSED),
	[TCPS_CLOSING] = TS(TCPS_TIME_WAIT) | TS(TCPS_CLOSED),
	[TCPS_TIME_WAIT] = TS(TCPS_CLOSED),
	[TCPS_CLOSE_WAIT] = TS(TCPS_LAST_ACK) | TS(TCPS_CLOSED),
	[TCPS_LAST_ACK] = TS(TCPS_CLOSED),
};

struct sim_listener {
	tv_host *owner;         /* first: host_ops.h */
	sim_host *h;
	uint16_t port;
	tv_tcp_accept_fn fn;
	void *arg;
};

struct sim_tcp {
	tv_host *owner;         /* first: host_ops.h */
	sim_host *h;
	enum tcp_state state;
	tv_ep local, remote;
	tv_tcp_fn fn;
	void *arg;
	/* send side; snd_max is the highest sequence ever sent, since a
	 * timeout pulls snd_nxt back to snd_una */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t sbuf_seq;      /* sequence number of sbuf[shead] */
	uint32_t fin_seq;       /* valid once fin_queued */
	bool fin_queued;
	uint8_t *sbuf;
	size_t shead, slen, scap;
	/* receive side */
	uint32_t rcv_nxt;
	bool ack_pending;       /* something arrived that we must acknowledge */
	/* timers */
	tv_timer rtx, idle_t;
	tv_time rto;
	int ntimeouts;
	tv_time idle, last_seg;
	/* lifetime */
	int in_cb;
	bool gone;
};

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

static inline void tcp_err(int *err, int v)
{
	if (err)
		*err = v;
}

static void tcp_set_state(sim_tcp *c, enum tcp_state s)
{
	assert(tcp_next[c->state] & TS(s));
	c->state = s;
}

/* States in which the peer's data and FIN are still expected. */
static bool tcp_rcv_open(enum tcp_state s)
{
	return s == TCPS_ESTABLISHED || s == TCPS_FIN_WAIT_1 || s == TCPS_FIN_WAIT_2;
}

/* ---- segments out ---- */

static void tcp_xmit(sim_tcp *c, uint8_t flags, uint32_t seq, const uint8_t *data, size_t len,
		     tv_time now)
{
	uint8_t buf[TCP_SEG_MAX];
	int n = pkt_build_tcp(buf, sizeof(buf), &c->local, &c->remote, host_next_id(c->h), flags,
			      seq, c->rcv_nxt, (uint16_t)TCP_WIN, data, len);

	if (n < 0)
		return;
	host_xmit(c->h, buf, (size_t)n);
	c->last_seg = now;
	if (flags & TCP_ACK)
		c->ack_pending = false;
}

/* RST answering a segment that matches no connection (RFC 793 "Reset
 * Generation"): take the sequence from its ACK, or acknowledge it. */
static void tcp_reply_rst(sim_host *h, const pkt_info *pi)
{
	uint8_t buf[TCP_SEG_MAX];
	uint8_t flags = TCP_RST;
	uint32_t seq = 0, ack = 0;
	int n;

	if (pi->tcp_flags & TCP_ACK) {
		seq = pi->tcp_ack;
	} else {
		flags |= TCP_ACK;
		ack = pi->tcp_seq + pi->data_len + !!(pi->tcp_flags & TCP_SYN) +
		      !!(pi->tcp_flags & TCP_FIN);
	}
	n = pkt_build_tcp(buf, sizeof(buf), &pi->dst, &pi->src, host_next_id(h), flags, seq, ack,
			  0, NULL, 0);
	if (n > 0)
		host_xmit(h, buf, (size_t)n);
}

/* RST for our own connection. snd_max, not snd_nxt: after a timeout
 * snd_nxt may sit below what the peer has already received, and the
 * peer only accepts an RST at or above its rcv_nxt. */
static void tcp_send_rst(sim_tcp *c, tv_time now)
{
	switch (c->state) {
	case TCPS_CLOSED:
	case TCPS_SYN_SENT:
	case TCPS_TIME_WAIT:
		return;
	default:
		tcp_xmit(c, TCP_RST | TCP_ACK, c->snd_max, NULL, 0, now);
	}
}

/* Send what the state and window allow, then any ACK still owed, and keep
 * the retransmission timer running while anything is outstanding. */
static void tcp_output(sim_tcp *c, tv_time now)
{
	switch (c->state) {
	case TCPS_SYN_SENT:
	case TCPS_SYN_RCVD:
		if (c->snd_nxt == c->iss) {
			tcp_xmit(c, c->state == TCPS_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK, c->iss,
				 NULL, 0, now);
			c->snd_nxt = c->iss + 1;
		}
		break;
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		for (;;) {
			uint32_t flight = c->snd_nxt - c->snd_una;
			uint32_t off = c->snd_nxt - c->sbuf_seq;

			if (flight >= TCP_WIN)
				break;
			if (off < c->slen) {
				size_t n = c->slen - off;
				if (n > TCP_MSS)
					n = TCP_MSS;
				if (n > TCP_WIN - flight)
					n = TCP_WIN - flight;
				tcp_xmit(c, TCP_ACK | TCP_PSH, c->snd_nxt, c->sbuf + c->shead + off, n, now);
				c->snd_nxt += (uint32_t)n;
			} else if (c->fin_queued && c->snd_nxt == c->fin_seq) {
				tcp_xmit(c, TCP_FIN | TCP_ACK, c->snd_nxt, NULL, 0, now);
				c->snd_nxt++;
			} else {
				break;
			}
		}
		break;
	default:
		break;
	}
	if (seq_gt(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	if (c->ack_pending && c->state != TCPS_SYN_SENT && c->state != TCPS_CLOSED)
		tcp_xmit(c, TCP_ACK, c->snd_nxt, NULL, 0, now);
	if (c->snd_una != c->snd_max && !tv_timer_armed(&c->rtx))
		host_timer_arm(&c->h->base, &c->rtx, now + c->rto);
}

/* ---- lifetime ---- */

static void tcp_destroy(sim_tcp *c)
{
	free(c->sbuf);
	free(c);
}

/* Take the connection out of the host: no more segments or timers reach it. */
static void tcp_detach(sim_tcp *c)
{
	if (c->gone)
		return;
	tv_map_del(&c->h->tcp, host_tcp_key(c->local.port, &c->remote));
	host_timer_cancel(&c->h->base, &c->rtx);
	host_timer_cancel(&c->h->base, &c->idle_t);
	tcp_set_state(c, TCPS_CLOSED);
	c->gone = true;
}

/* Deliver an event. Returns false if the handle is gone (and then freed,
 * unless an outer callback on it is still running); the caller must not
 * touch it again. */
static bool tcp_notify(sim_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len,
		       tv_time now)
{
	c->in_cb++;
	if (c->fn)
		c->fn(c->arg, (tv_tcp *)c, ev, data, len, now);
	c->in_cb--;
	if (!c->gone)
		return true;
	if (c->in_cb == 0)
		tcp_destroy(c);
	return false;
}

/* Final event: detach, report, free. */
static void tcp_finish(sim_tcp *c, enum tv_tcp_event ev, tv_time now)
{
	tcp_detach(c);
	tcp_notify(c, ev, NULL, 0, now);
}

static void tcp_rtx_fire(tv_timer *t, tv_time now);
static void tcp_idle_fire(tv_timer *t, tv_time now);

static sim_tcp *tcp_new(sim_host *h, const tv_ep *local, const tv_ep *remote, tv_time now)
{
	sim_tcp *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->owner = &h->base;
	c->h = h;
	c->state = TCPS_CLOSED;
	c->local = *local;
	c->remote = *remote;
	c->iss = (uint32_t)(tv_rng_next(host_rng(&h->base)) >> 32);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->sbuf_seq = c->iss + 1;
	c->rto = TCP_RTO_INIT;
	c->last_seg = now;
	tv_timer_init(&c->rtx, tcp_rtx_fire, c);
	tv_timer_init(&c->idle_t, tcp_idle_fire, c);
	return c;
}

static void tcp_enter_time_wait(sim_tcp *c, tv_time now)
{
	tcp_set_state(c, TCPS_TIME_WAIT);
	host_timer_cancel(&c->h->base, &c->idle_t);
	host_timer_arm(&c->h->base, &c->rtx, now + TCP_TW_TIME);
}

/* Handshake complete; a close requested during it takes effect now. */
static void tcp_established(sim_tcp *c)
{
	tcp_set_state(c, TCPS_ESTABLISHED);
	if (c->fin_queued)
		tcp_set_state(c, TCPS_FIN_WAIT_1);
}

/* ---- timers ---- */

static void tcp_rtx_fire(tv_timer *t, tv_time now)
{
	sim_tcp *c = t->arg;

	if (c->state == TCPS_TIME_WAIT) {
		tcp_finish(c, TV_TCP_CLOSED, now);
		return;
	}
	if (c->snd_una == c->snd_max)
		return;
	if (++c->ntimeouts >= TCP_RTX_TRIES) {
		tcp_send_rst(c, now);
		tcp_finish(c, TV_TCP_RESET, now);
		return;
	}
	c->rto = c->rto * 2 > TCP_RTO_MAX ? TCP_RTO_MAX : c->rto * 2;
	c->snd_nxt = c->snd_una;
	tcp_output(c, now);
}

static void tcp_idle_fire(tv_timer *t, tv_time now)
{
	sim_tcp *c = t->arg;

	if (!c->idle || c->state == TCPS_TIME_WAIT)
		return;
	if (now - c->last_seg < c->idle) {
		host_timer_arm(&c->h->base, &c->idle_t, c->last_seg + c->idle);
		return;
	}
	tcp_send_rst(c, now);
	tcp_finish(c, TV_TCP_TIMEOUT, now);
}

/* ---- segments in ---- */

/* A new cumulative ACK (snd_una < ack <= snd_max): drop acknowledged bytes
 * and restart the retransmission clock. */
static void tcp_ack_advance(sim_tcp *c, uint32_t ack, tv_time now)
{
	if (seq_gt(ack, c->sbuf_seq)) {
		size_t n = ack - c->sbuf_seq;
		if (n > c->slen)
			n = c->slen;        /* the rest is the FIN */
		c->shead += n;
		c->slen -= n;
		c->sbuf_seq += (uint32_t)n;
		if (c->slen == 0)
			c->shead = 0;
	}
	c->snd_una = ack;
	if (seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	c->ntimeouts = 0;
	c->rto = TCP_RTO_INIT;
	if (c->snd_una == c->snd_max)
		host_timer_cancel(&c->h->base, &c->rtx);
	else
		host_timer_arm(&c->h->base, &c->rtx, now + c->rto);
}

static void tcp_syn_sent_input(sim_tcp *c, const pkt_info *pi, tv_time now)
{
	uint8_t fl = pi->tcp_flags;

	if ((fl & TCP_ACK) && pi->tcp_ack != c->iss + 1) {
		if (!(fl & TCP_RST))
			tcp_reply_rst(c->h, pi);
		return;
	}
	if (fl & TCP_RST) {
		if (fl & TCP_ACK)
			tcp_finish(c, TV_TCP_RESET, now);
		return;
	}
	/* Only a SYN-ACK moves us on: no simultaneous open. */
	if (!(fl & TCP_SYN) || !(fl & TCP_ACK))
		return;
	c->rcv_nxt = pi->tcp_seq + 1;
	tcp_ack_advance(c, pi->tcp_ack, now);
	tcp_established(c);
	c->ack_pending = true;
	if (!tcp_notify(c, TV_TCP_CONNECTED, NULL, 0, now))
		return;
	tcp_output(c, now);
}

/* Our FIN has been acknowledged. Returns false if the connection ended. */
static bool tcp_fin_acked(sim_tcp *c, tv_time now)
{
	switch (c->state) {
	case TCPS_FIN_WAIT_1:
		tcp_set_state(c, TCPS_FIN_WAIT_2);
		break;
	case TCPS_CLOSING:
		tcp_enter_time_wait(c, now);
		break;
	case TCPS_LAST_ACK:
		tcp_finish(c, TV_TCP_CLOSED, now);
		return false;
	default:
		break;
	}
	return true;
}

/* Segment for a connection past SYN_SENT: RST, SYN, ACK, then data and FIN
 * (RFC 793 order). State changes are made first, events delivered after,
 * then whatever the events queued goes out with the owed ACK. */
static void tcp_segment(sim_tcp *c, const uint8_t *pkt, const pkt_info *pi, tv_time now)
{
	uint8_t fl = pi->tcp_flags;
	uint32_t seq = pi->tcp_seq, ack = pi->tcp_ack;
	const uint8_t *data = pkt + pi->data_off;
	size_t dlen = pi->data_len, seglen = dlen + !!(fl & TCP_FIN);
	bool connected = false, peer_fin = false;

	c->last_seg = now;
	if (c->state == TCPS_SYN_SENT) {
		tcp_syn_sent_input(c, pi, now);
		return;
	}
	if (fl & TCP_RST) {
		/* Both FINs were acknowledged in TIME_WAIT: an RST ends it cleanly. */
		if (seq - c->rcv_nxt <= TCP_WIN)
			tcp_finish(c, c->state == TCPS_TIME_WAIT ? TV_TCP_CLOSED : TV_TCP_RESET, now);
		return;
	}
	if (fl & TCP_SYN) {
		/* A retransmitted SYN means our SYN-ACK was lost: resend it. Any
		 * other SYN is an old duplicate; answer with an ACK. */
		if (c->state == TCPS_SYN_RCVD && seq == c->rcv_nxt - 1)
			c->snd_nxt = c->iss;
		else
			c->ack_pending = true;
		tcp_output(c, now);
		return;
	}
	if (!(fl & TCP_ACK))
		return;
	if (c->state == TCPS_SYN_RCVD) {
		if (ack != c->iss + 1) {
			tcp_reply_rst(c->h, pi);
			return;
		}
		tcp_established(c);
		connected = true;
	}
	if (seq_gt(ack, c->snd_max)) {
		c->ack_pending = true;
		tcp_output(c, now);
		return;
	}
	if (seq_gt(ack, c->snd_una))
		tcp_ack_advance(c, ack, now);
	if (c->fin_queued && seq_gt(c->snd_una, c->fin_seq) && !tcp_fin_acked(c, now))
		return;

	if (seglen > 0) {
		c->ack_pending = true;
		/* Keep the part of a resent segment that is new to us. */
		if (seq_lt(seq, c->rcv_nxt)) {
			uint32_t skip = c->rcv_nxt - seq;
			if (skip >= seglen) {
				seglen = 0;
			} else {
				data += skip;
				dlen -= skip;
				seglen -= skip;
				seq = c->rcv_nxt;
			}
		}
		if (seglen > 0 && seq == c->rcv_nxt && tcp_rcv_open(c->state)) {
			c->rcv_nxt += (uint32_t)dlen;
			if (fl & TCP_FIN) {
				c->rcv_nxt++;
				peer_fin = true;
				if (c->state == TCPS_ESTABLISHED)
					tcp_set_state(c, TCPS_CLOSE_WAIT);
				else if (c->state == TCPS_FIN_WAIT_1)
					tcp_set_state(c, TCPS_CLOSING);
				else
					tcp_enter_time_wait(c, now);
			}
		} else {
			/* Out of order, duplicate, or after the peer's FIN:
			 * drop it; the ACK we owe repeats rcv_nxt. A resent
			 * FIN in TIME_WAIT restarts the wait (RFC 793). */
			dlen = 0;
			if (c->state == TCPS_TIME_WAIT && (fl & TCP_FIN))
				host_timer_arm(&c->h->base, &c->rtx, now + TCP_TW_TIME);
		}
	}

	if (connected && !tcp_notify(c, TV_TCP_CONNECTED, NULL, 0, now))
		return;
	if (dlen > 0 && !tcp_notify(c, TV_TCP_DATA, data, dlen, now))
		return;
	if (peer_fin && !tcp_notify(c, TV_TCP_PEER_CLOSED, NULL, 0, now))
		return;
	tcp_output(c, now);
}

static void tcp_accept(sim_host *h, sim_listener *l, const pkt_info *pi, tv_time now)
{
	sim_tcp *c = tcp_new(h, &pi->dst, &pi->src, now);

	if (!c)
		return;             /* the peer will resend its SYN */
	c->rcv_nxt = pi->tcp_seq + 1;
	tcp_set_state(c, TCPS_SYN_RCVD);
	if (tv_map_put(&h->tcp, host_tcp_key(c->local.port, &c->remote), c) < 0) {
		tcp_destroy(c);
		return;
	}
	/* The accept callback may unlisten l or abort c: l is not used after. */
	c->in_cb++;
	l->fn(l->arg, (tv_tcp *)c, now);
	c->in_cb--;
	if (c->gone) {
		if (c->in_cb == 0)
			tcp_destroy(c);
		return;
	}
	tcp_output(c, now);
}

void host_tcp_input(sim_host *h, const uint8_t *pkt, const pkt_info *pi, tv_time now)
{
	sim_tcp *c = tv_map_get(&h->tcp, host_tcp_key(pi->dst.port, &pi->src));
	sim_listener *l;

	if (c) {
		tcp_segment(c, pkt, pi, now);
		return;
	}
	if (pi->tcp_flags & TCP_RST)
		return;
	l = tv_map_get(&h->tcp_listen, pi->dst.port);
	if (l && (pi->tcp_flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) == TCP_SYN) {
		tcp_accept(h, l, pi, now);
		return;
	}
	h->st.rx_noport++;
	tcp_reply_rst(h, pi);
}

/* Frees everything without callbacks; only for host_free(), never from
 * inside a TCP callback. */
void host_tcp_free_all(sim_host *h)
{
	for (size_t i = 0; h->tcp.slots && i <= h->tcp.mask; i++) {
		sim_tcp *c = h->tcp.slots[i].val;

		if (!c)
			continue;
		host_timer_cancel(&h->base, &c->rtx);
		host_timer_cancel(&h->base, &c->idle_t);
		tcp_destroy(c);
	}
	tv_map_free(&h->tcp);
	for (size_t i = 0; h->tcp_listen.slots && i <= h->tcp_listen.mask; i++)
		free(h->tcp_listen.slots[i].val);
	tv_map_free(&h->tcp_listen);
}

/* ---- API ---- */

tv_tcp_listener *sim_tcp_listen(tv_host *base, uint16_t port, tv_tcp_accept_fn fn, void *arg, int *err)
{
	sim_host *h = SH(base);
	sim_listener *l;

	if (port == 0 || !fn) {
		tcp_err(err, TV_EINVAL);
		return NULL;
	}
	if (tv_map_get(&h->tcp_listen, port)) {
		tcp_err(err, TV_EEXIST);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		tcp_err(err, TV_ENOMEM);
		return NULL;
	}
	l->owner = base;
	l->h = h;
	l->port = port;
	l->fn = fn;
	l->arg = arg;
	if (tv_map_put(&h->tcp_listen, port, l) < 0) {
		free(l);
		tcp_err(err, TV_ENOMEM);
		return NULL;
	}
	tcp_err(err, 0);
	return (tv_tcp_listener *)l;
}

/* Connections already accepted stay open. */
void sim_tcp_unlisten(tv_tcp_listener *tl)
{
	sim_listener *l = (sim_listener *)tl;

	tv_map_del(&l->h->tcp_listen, l->port);
	free(l);
}

/* A port is in use if it listens or is the local port of any connection,
 * whatever the remote. O(connections); fine for simulated hosts. */
static bool tcp_port_used(const sim_host *h, uint16_t port)
{
	if (tv_map_get(&h->tcp_listen, port))
		return true;
	for (size_t i = 0; h->tcp.slots && i <= h->tcp.mask; i++) {
		const sim_tcp *c = h->tcp.slots[i].val;
		if (c && c->local.port == port)
			return true;
	}
	return false;
}

static int tcp_eph_port(sim_host *h, uint16_t *out)
{
	for (int tries = 0; tries <= 65535 - TCP_EPH_LO; tries++) {
		uint16_t p = h->next_tcp_eph < TCP_EPH_LO ? TCP_EPH_LO : h->next_tcp_eph;

		h->next_tcp_eph = p == 65535 ? TCP_EPH_LO : p + 1;
		if (!tcp_port_used(h, p)) {
			*out = p;
			return 0;
		}
	}
	return TV_EFULL;
}

tv_tcp *sim_tcp_connect(tv_host *base, const tv_ip *src, uint16_t lport, const tv_ep *remote,
			tv_tcp_fn fn, void *arg, int *err)
{
	sim_host *h = SH(base);
	tv_time now = host_now(base);
	tv_ep local;
	sim_tcp *c;
	int rc;

	if (!remote || remote->ip.af != TV_AF_INET || remote->port == 0) {
		tcp_err(err, TV_EINVAL);
		return NULL;
	}
	if (lport == 0) {
		rc = tcp_eph_port(h, &lport);
		if (rc < 0) {
			tcp_err(err, rc);
			return NULL;
		}
	} else if (tv_map_get(&h->tcp, host_tcp_key(lport, remote))) {
		tcp_err(err, TV_EEXIST);
		return NULL;
	}
	local = tv_ep4(src ? src->v4 : h->ips[0].v4, lport);
	c = tcp_new(h, &local, remote, now);
	if (!c) {
		tcp_err(err, TV_ENOMEM);
		return NULL;
	}
	c->fn = fn;
	c->arg = arg;
	tcp_set_state(c, TCPS_SYN_SENT);
	if (tv_map_put(&h->tcp, host_tcp_key(lport, remote), c) < 0) {
		tcp_destroy(c);
		tcp_err(err, TV_ENOMEM);
		return NULL;
	}
	tcp_output(c, now);
	tcp_err(err, 0);
	return (tv_tcp *)c;
}

void sim_tcp_set_cb(tv_tcp *tc, tv_tcp_fn fn, void *arg)
{
	sim_tcp *c = (sim_tcp *)tc;

	c->fn = fn;
	c->arg = arg;
}

/* Make room for len more bytes. Compacts only when the tail is full, and
 * grows so that at least half the buffer is free after compacting, which
 * keeps the copying linear in the bytes sent. */
static int tcp_sbuf_reserve(sim_tcp *c, size_t len)
{
	size_t need = c->slen + len;

	if (c->shead + need <= c->scap)
		return 0;
	if (need > c->scap / 2) {
		size_t cap = c->scap ? c->scap : 4096;
		uint8_t *nb;

		while (cap < need * 2)
			cap *= 2;
		nb = realloc(c->sbuf, cap);
		if (!nb)
			return TV_ENOMEM;
		c->sbuf = nb;
		c->scap = cap;
	}
	if (c->shead + need > c->scap) {
		memmove(c->sbuf, c->sbuf + c->shead, c->slen);
		c->shead = 0;
	}
	return 0;
}

/* Also TV_EFULL past 64 MiB queued and TV_ENOMEM. Data queued before the
 * handshake completes goes out once it does. */
int sim_tcp_send(tv_tcp *tc, const void *data, size_t len)
{
	sim_tcp *c = (sim_tcp *)tc;
	int rc;

	if (c->gone || c->fin_queued)
		return TV_ESTATE;
	switch (c->state) {
	case TCPS_SYN_SENT:
	case TCPS_SYN_RCVD:
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		break;
	default:
		return TV_ESTATE;
	}
	if (len == 0)
		return 0;
	if (len > TCP_SNDBUF_MAX - c->slen)
		return TV_EFULL;
	rc = tcp_sbuf_reserve(c, len);
	if (rc < 0)
		return rc;
	memcpy(c->sbuf + c->shead + c->slen, data, len);
	c->slen += len;
	tcp_output(c, host_now(&c->h->base));
	return 0;
}

/* Closing before the handshake completes sends the FIN once it does. */
void sim_tcp_close(tv_tcp *tc)
{
	sim_tcp *c = (sim_tcp *)tc;

	if (c->gone || c->fin_queued)
		return;
	switch (c->state) {
	case TCPS_SYN_SENT:
	case TCPS_SYN_RCVD:
		break;
	case TCPS_ESTABLISHED:
		tcp_set_state(c, TCPS_FIN_WAIT_1);
		break;
	case TCPS_CLOSE_WAIT:
		tcp_set_state(c, TCPS_LAST_ACK);
		break;
	default:
		return;
	}
	c->fin_queued = true;
	c->fin_seq = c->sbuf_seq + (uint32_t)c->slen;
	tcp_output(c, host_now(&c->h->base));
}

void sim_tcp_abort(tv_tcp *tc)
{
	sim_tcp *c = (sim_tcp *)tc;

	if (!c || c->gone)
		return;
	tcp_send_rst(c, host_now(&c->h->base));
	tcp_detach(c);
	if (c->in_cb == 0)
		tcp_destroy(c);
}

void sim_tcp_set_idle(tv_tcp *tc, tv_time idle)
{
	sim_tcp *c = (sim_tcp *)tc;

	if (c->gone)
		return;
	c->idle = idle > 0 ? idle : 0;
	if (!c->idle || c->state == TCPS_TIME_WAIT)
		host_timer_cancel(&c->h->base, &c->idle_t);
	else
		host_timer_arm(&c->h->base, &c->idle_t, c->last_seg + c->idle);
}

tv_ep sim_tcp_local(const tv_tcp *c) { return ((const sim_tcp *)c)->local; }
tv_ep sim_tcp_remote(const tv_tcp *c) { return ((const sim_tcp *)c)->remote; }
const char *sim_tcp_state_name(const tv_tcp *c) { return tcp_state_names[((const sim_tcp *)c)->state]; }
