/* sipua_timer.c - the simulated phone's session timer (RFC 4028; the
 * behaviour is described in sipua.h): what INVITEs and their 2xx say about
 * it, the refreshes and the expiry. The re-INVITE itself is built and sent
 * by sipua_call.c (sipua_reinvite), its transaction run by sipua.c.
 *
 * Timers:
 *   se_refresh   refresher only: send a refresh re-INVITE, interval/2
 *                after the session started or was last refreshed; while
 *                another INVITE transaction is under way it tries again
 *                every UA_SE_BUSY; after a 491 to a refresh, 2.1-4 s later
 *                (RFC 3261 14.1).
 *   se_expire    both sides: the interval after the session started or
 *                was last refreshed (the 2xx we got to our refresh, or the
 *                200 we sent to the peer's), the session is over: a BYE,
 *                end_reason "session-expired". A refresh re-INVITE still
 *                pending then is abandoned.
 *   The refresh's own transaction timeout (64*T1) comes back through
 *   sipua_invite_timeout and ends the call the same way (RFC 4028 10).
 *
 * Limits: no UPDATE, no 422/Min-SE (any interval is accepted), and only
 * re-INVITEs carrying Session-Expires are refreshes. */
#include "sipua_priv.h"

#include <string.h>

#define UA_SE_MAX (1ul << 30)           /* seconds */
#define UA_SE_BUSY TV_SEC(1)

static unsigned long se_secs(tv_time t)
{
	tv_time s = t / TV_SEC(1);

	return s < 1 ? 1 : s > (tv_time)UA_SE_MAX ? UA_SE_MAX : (unsigned long)s;
}

/* The session (re)starts now: expiry in secs, a refresh at half that if
 * we are the refresher. */
static void se_start(sipua *ua, unsigned long secs, bool refresher)
{
	tv_time now = host_now(ua->h);

	ua->c.se = TV_SEC(secs);
	ua->c.se_refresher = refresher;
	host_timer_arm(ua->h, &ua->se_expire, now + ua->c.se);
	if (refresher)
		host_timer_arm(ua->h, &ua->se_refresh, now + ua->c.se / 2);
	else
		host_timer_cancel(ua->h, &ua->se_refresh);
}

void sipua_timer_stop(sipua *ua)
{
	ua->c.se = 0;
	ua->c.se_refresher = false;
	host_timer_cancel(ua->h, &ua->se_refresh);
	host_timer_cancel(ua->h, &ua->se_expire);
}

int sipua_timer_request(sipua *ua, osip_message_t *m, bool refresh)
{
	tv_time se = refresh ? ua->c.se : ua->cfg.session_expires;

	if (se <= 0)
		return 0;
	if (osip_message_set_header(m, "Supported", "timer") != 0)
		return TV_ENOMEM;
	return sipmsg_add_session_expires(m, se_secs(se), SIPMSG_REFRESHER_UAC);
}

void sipua_timer_2xx(sipua *ua, const osip_message_t *m)
{
	const ua_call *c = &ua->c;
	unsigned long secs;
	enum sipmsg_refresher r;

	/* Only a new call we offered a timer in, or a refresh, says anything. */
	if (c->reinvite ? !c->refreshing : ua->cfg.session_expires <= 0)
		return;
	/* No Session-Expires in the 2xx: no session timer (RFC 4028 7.2). */
	if (sipmsg_session_expires(m, UA_SE_MAX, &secs, &r) < 0) {
		sipua_timer_stop(ua);
		return;
	}
	se_start(ua, secs, r != SIPMSG_REFRESHER_UAS);
}

void sipua_timer_failed(sipua *ua, int code)
{
	tv_time wait;

	if (code == 408 || code == 481) {
		sipua_bye(ua, "session-expired");       /* RFC 4028 10 */
		return;
	}
	if (code != 491)
		return;                         /* the expiry decides */
	wait = TV_MS(2100) + TV_MS(10) * tv_rng_below(host_rng(ua->h), 191);
	host_timer_arm(ua->h, &ua->se_refresh, host_now(ua->h) + wait);
}

void sipua_timer_answer(sipua *ua, const osip_message_t *req, bool reinvite, ua_rsp *p)
{
	unsigned long secs;
	enum sipmsg_refresher r;
	bool supported;

	if (sipmsg_session_expires(req, UA_SE_MAX, &secs, &r) < 0)
		return;
	supported = sipmsg_has_option(req, "supported", "k", "timer") ||
		    sipmsg_has_option(req, "require", NULL, "timer");
	/* RFC 4028 9: a UAC without timer support cannot refresh. */
	if (!supported)
		r = SIPMSG_REFRESHER_UAS;
	else if (r == SIPMSG_REFRESHER_NONE)
		r = SIPMSG_REFRESHER_UAC;
	p->se = secs;
	p->se_refresher = r;
	p->require_timer = supported;
	if (reinvite)
		ua->st.session_refreshes++;
	se_start(ua, secs, r == SIPMSG_REFRESHER_UAS);
}

static void refresh_fire(tv_timer *t, tv_time now)
{
	sipua *ua = t->arg;

	if (!ua->c.se || !ua->c.se_refresher)
		return;
	if (ua->st.state == SIPUA_ESTABLISHED && !ua->txn[UA_TX_INVITE].active && !ua->srv.active &&
	    sipua_reinvite(ua, true) == 0) {
		ua->st.session_refreshes++;
		return;
	}
	/* Another INVITE transaction is under way (or our 200 awaits its
	 * ACK): try again shortly; the expiry bounds the tries. */
	if (ua->st.state == SIPUA_ESTABLISHED || ua->st.state == SIPUA_RINGING)
		host_timer_arm(ua->h, t, now + UA_SE_BUSY);
}

static void expire_fire(tv_timer *t, tv_time now)
{
	sipua *ua = t->arg;
	ua_call *c = &ua->c;

	(void)now;
	/* A 200 of ours never ACKed ends the call by itself (sipua_call.c). */
	if (ua->st.state != SIPUA_ESTABLISHED)
		return;
	if (c->reinvite) {
		sipua_txn_stop(&ua->txn[UA_TX_INVITE]);
		c->reinvite = c->refreshing = false;
		c->local_hold = c->prev_hold;
	}
	sipua_bye(ua, "session-expired");
}

void sipua_timer_init(sipua *ua)
{
	tv_timer_init(&ua->se_refresh, refresh_fire, ua);
	tv_timer_init(&ua->se_expire, expire_fire, ua);
}
