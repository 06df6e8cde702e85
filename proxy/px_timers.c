/* px_timers.c - every timer of the proxy, and the only code that arms or
 * cancels one. Callers report what happened ("registration accepted",
 * "BYE forwarded", "media seen"); this module decides the deadlines.
 *
 * Timers (each a tv_timer in the object it serves, one fire path each):
 *
 *   binding ka  (b->ka, binding_on_timeout) one of three deadlines, by
 *               the binding's state:
 *     untrusted hold  untrusted_hold (32 s) after the terminal's last
 *                     message; then the binding goes, or while a call
 *                     holds it, look again untrusted_hold later. Never a
 *                     ping: a forged source must not make us send.
 *     keepalive       trusted, keepalive on: every interval (the
 *                     terminal's own, else keepalive_interval, 20 s),
 *                     started by its first message or registration if
 *                     idle, whatever other traffic flows. An OPTIONS
 *                     unanswered at the next fire is a miss;
 *                     keepalive_misses (3) in a row: the binding goes.
 *     registration    trusted, keepalive off (or interval 0): at the end
 *                     of the registration the core granted; the binding
 *                     goes if no call holds it, else look again at the
 *                     end or in 60 s.
 *               Any fire first drops a lapsed registration with no call,
 *               and sweeps the binding's expired hidden Via stacks.
 *   leg t       (l->t, leg_on_timeout) the earliest of:
 *     ending guard    32 s (64*T1) after a BYE was forwarded: the leg
 *                     ends ("bye-lost") if its final response never came.
 *     media timeout   media_timeout (0: off) after the last packet (RTP
 *                     or RTCP) from the terminal on any of its streams,
 *                     armed when its first stream opens; the far side's
 *                     media does not keep a dead terminal's leg;
 *                     a held stream keeps the leg. Ends "media-timeout".
 *     session timer   RFC 4028: the Session-Expires of the last 2xx
 *                     establishing or refreshing the session. Ends
 *                     "session-expired".
 *   leg tc      (l->tc, timer_c_on_timeout) Timer C, RFC 3261 16.6 step
 *               11: timer_c (181 s) after the leg's first INVITE was
 *               forwarded, restarted by each provisional response other
 *               than 100, stopped by a final response. Fire: timer_c.c
 *               CANCELs the INVITE if it rang, and then the far side has
 *               32 s (64*T1) to answer before the 408; else the 408 now.
 *
 * Deadlines that need no timer of their own: a hidden Via stack's (checked
 * when the table is used, swept by the binding timer), a port's
 * quarantine (checked by pool.c at allocation), a stream's latch window
 * (checked by relay.c per packet).
 *
 * Order matters: timers with one deadline fire in the order they were
 * armed (timerq.h), so an event arms exactly where its caller used to. */
#include "proxy_priv.h"

#include <stdio.h>

#define T64 TV_SEC(32)  /* 64*T1: a transaction's lifetime (RFC 3261 17) */

static void binding_on_timeout(tv_timer *t, tv_time now);
static void leg_on_timeout(tv_timer *t, tv_time now);
static void timer_c_on_timeout(tv_timer *t, tv_time now);

static tv_time ka_interval(const proxy *p, const px_binding *b)
{
	return b->ka_interval ? b->ka_interval : p->cfg.keepalive_interval;
}

/* ---- binding ---------------------------------------------------------- */

/* The binding timer after an event: an untrusted hold restarts; a trusted
 * binding's timer, if idle, starts toward its next keepalive or the end
 * of its registration. */
static void binding_schedule(px_binding *b, tv_time now)
{
	proxy *p = b->p;
	tv_time iv = ka_interval(p, b);

	if (!b->trusted) {
		b->hold_until = now + p->cfg.untrusted_hold;
		host_timer_arm(p->h, &b->ka, b->hold_until);
		return;
	}
	if (tv_timer_armed(&b->ka))
		return;
	if (p->cfg.keepalive != PX_KA_OFF && iv > 0)
		host_timer_arm(p->h, &b->ka, now + iv);
	else if (b->reg_until)
		host_timer_arm(p->h, &b->ka, b->reg_until);
}

tv_time px_timers_keepalive_in(const px_binding *b, tv_time now)
{
	const proxy *p = b->p;

	/* the binding's one timer is its next keepalive only when trusted with
	 * keepalive on; otherwise it is a hold or the registration's end */
	if (!b->trusted || p->cfg.keepalive == PX_KA_OFF || ka_interval(p, b) <= 0 || !tv_timer_armed(&b->ka))
		return -1;
	return b->ka.when > now ? b->ka.when - now : 0;
}

void px_timers_binding_init(px_binding *b)
{
	tv_timer_init(&b->ka, binding_on_timeout, b);
}

void px_timers_binding_stop(px_binding *b)
{
	host_timer_cancel(b->p->h, &b->ka);
}

void px_timers_terminal_msg(px_binding *b, tv_time now)
{
	binding_schedule(b, now);
}

void px_timers_trusted(px_binding *b)
{
	host_timer_cancel(b->p->h, &b->ka);     /* the hold is over; the keepalive starts at the next event */
}

void px_timers_registered(px_binding *b, long expires, tv_time now)
{
	b->reg_until = expires > 0 ? now + TV_SEC(expires) : 0;
	if (expires > 0)
		binding_schedule(b, now);
}

void px_timers_keepalive_interval(px_binding *b, tv_time interval, tv_time now)
{
	b->ka_interval = interval;
	host_timer_cancel(b->p->h, &b->ka);
	binding_schedule(b, now);
}

void px_timers_keepalive_answered(px_binding *b)
{
	b->ka_pending = false;
	b->ka_misses = 0;
	b->ka_answered++;
	b->p->st.ka_answered++;
}

static void binding_on_timeout(tv_timer *t, tv_time now)
{
	px_binding *b = t->arg;
	proxy *p = b->p;

	px_topo_expire(b, now);         /* hidden Via stacks whose time is up */
	if (!b->trusted) {
		if (b->legs) {  /* a call holds it: look again later */
			host_timer_arm(p->h, &b->ka, now + p->cfg.untrusted_hold);
			return;
		}
		p->st.untrusted_expired++;
		px_binding_remove(p, b, now);
		return;
	}
	if (b->reg_until && now >= b->reg_until && !b->legs) {
		/* Its registration lapsed and it is in no call: forget it. */
		p->st.unregistered++;
		px_binding_remove(p, b, now);
		return;
	}
	if (p->cfg.keepalive == PX_KA_OFF || ka_interval(p, b) <= 0) {
		/* Only the registration is watched: look again when it ends
		 * (or, while a call holds the binding, in a minute). */
		if (b->reg_until)
			host_timer_arm(p->h, &b->ka, b->reg_until > now ? b->reg_until : now + TV_SEC(60));
		return;
	}
	if (p->cfg.keepalive != PX_KA_CRLF && b->ka_pending) {
		char why[32];
		snprintf(why, sizeof(why), "%d of %d", b->ka_misses + 1, p->cfg.keepalive_misses);
		px_event(p, PX_EV_KA_MISS, b->user, NULL, why, 0, false, &b->nat, now);
		if (++b->ka_misses >= p->cfg.keepalive_misses) {
			p->st.dead++;
			px_binding_remove(p, b, now);
			return;
		}
	}
	px_ka_send(p, b, now);
	if (p->cfg.keepalive != PX_KA_CRLF)
		b->ka_pending = true;   /* until px_timers_keepalive_answered() */
	binding_schedule(b, now);
}

/* ---- leg -------------------------------------------------------------- */

void px_timers_leg_init(px_leg *l)
{
	tv_timer_init(&l->t, leg_on_timeout, l);
	tv_timer_init(&l->tc, timer_c_on_timeout, l);
}

void px_timers_leg_stop(px_leg *l)
{
	host_timer_cancel(l->b->p->h, &l->t);
	host_timer_cancel(l->b->p->h, &l->tc);
}

void px_timers_media_open(px_leg *l, px_stream *s, tv_time now)
{
	proxy *p = l->b->p;

	s->last_media = now;
	if (p->cfg.media_timeout && !tv_timer_armed(&l->t))
		host_timer_arm(p->h, &l->t, now + p->cfg.media_timeout);
}

void px_timers_media_seen(px_stream *s, tv_time now)
{
	s->last_media = now;    /* leg_on_timeout looks at it: no timer moves per packet */
}

void px_timers_leg_ending(px_leg *l, tv_time now)
{
	host_timer_arm(l->b->p->h, &l->t, now + T64);
}

void px_timers_session_refreshed(px_leg *l, tv_time expires, tv_time now)
{
	proxy *p = l->b->p;

	l->session_until = now + expires;
	if (!l->ending && (!tv_timer_armed(&l->t) || l->t.when > l->session_until))
		host_timer_arm(p->h, &l->t, l->session_until);
}

static void leg_on_timeout(tv_timer *t, tv_time now)
{
	px_leg *l = t->arg;
	proxy *p = l->b->p;
	tv_time last = 0, next = TV_NEVER;
	bool held = false;

	if (l->ending) {
		px_leg_end(l, "bye-lost", now);   /* the final response to BYE never came */
		return;
	}
	if (l->session_until && now >= l->session_until) {
		p->st.session_expired++;        /* nobody refreshed the session */
		px_leg_end(l, "session-expired", now);
		return;
	}
	for (int i = 0; i < l->ns; i++) {
		if (l->s[i]->last_media > last)
			last = l->s[i]->last_media;
		held |= l->s[i]->held;
	}
	if (!held && p->cfg.media_timeout && now - last >= p->cfg.media_timeout) {
		p->st.media_expired++;
		px_leg_end(l, "media-timeout", now);
		return;
	}
	if (p->cfg.media_timeout)
		next = (held ? now : last) + p->cfg.media_timeout;
	if (l->session_until && l->session_until < next)
		next = l->session_until;
	if (next != TV_NEVER)
		host_timer_arm(p->h, &l->t, next);
}

/* ---- Timer C (its state and messages: timer_c.c) ---------------------- */

void px_timers_invite_sent(px_leg *l, tv_time now)
{
	host_timer_arm(l->b->p->h, &l->tc, now + l->b->p->cfg.timer_c);
}

void px_timers_invite_provisional(px_leg *l, tv_time now)
{
	if (!l->tc_cancelled)   /* after our CANCEL the far side's 32 s stand */
		host_timer_arm(l->b->p->h, &l->tc, now + l->b->p->cfg.timer_c);
}

void px_timers_invite_final(px_leg *l)
{
	host_timer_cancel(l->b->p->h, &l->tc);
}

static void timer_c_on_timeout(tv_timer *t, tv_time now)
{
	px_leg *l = t->arg;

	if (px_tc_expired(l, now))
		host_timer_arm(l->b->p->h, &l->tc, now + T64);  /* l still here: its CANCEL went */
}
