/* timer_c.c - Timer C (RFC 3261 16.6 step 11, 16.7, 16.8): an INVITE the
 * proxy forwarded that gets no final response is not allowed to hold its
 * call leg and relay ports for ever.
 *
 * The timer (one per leg, l->tc, armed by px_timers.c, which holds the
 * deadlines) starts when the proxy forwards a leg's first INVITE, either
 * way; every provisional response other than 100 restarts it; a final
 * response stops it. This file keeps its state and, when it fires
 * (px_tc_expired):
 *   - a provisional came: CANCEL the INVITE toward where it went, and give
 *     the far side 32 s (64*T1) to answer it with the final response;
 *   - none came (or the CANCEL got nothing): answer 408 Request Timeout
 *     as if from the far side, through the proxy's own response path, so
 *     the caller hears it rewritten as usual and the leg ends ("failed").
 * The CANCEL and the 408 are built from a copy of the INVITE as forwarded
 * (at most PX_TC_COPY bytes; a larger one is not copied and its leg just
 * ends). */
#include "proxy_priv.h"

#include <osipparser2/osip_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PX_TC_COPY 8192

void px_tc_start(px_leg *l, enum px_side to, const char *msg, size_t len, tv_time now)
{
	proxy *p = l->b->p;

	if (!p->cfg.timer_c || l->tc_on || l->confirmed)
		return;
	l->tc_on = true;
	l->tc_to = (uint8_t)to;
	l->tc_prov = l->tc_cancelled = false;
	free(l->inv);
	l->inv = len <= PX_TC_COPY ? malloc(len + 1) : NULL;
	if (l->inv) {
		memcpy(l->inv, msg, len);
		l->inv[len] = '\0';
		l->inv_len = len;
	}
	px_timers_invite_sent(l, now);
}

void px_tc_response(px_leg *l, int code, tv_time now)
{
	if (!l->tc_on || code == 100)
		return;
	if (code >= 200) {
		px_tc_stop(l);
		return;
	}
	l->tc_prov = true;
	px_timers_invite_provisional(l, now);
}

void px_tc_stop(px_leg *l)
{
	if (!l->tc_on)
		return;
	px_timers_invite_final(l);
	l->tc_on = false;
	free(l->inv);
	l->inv = NULL;
	l->inv_len = 0;
}

/* The headers a CANCEL or a 408 copies from the INVITE (RFC 3261 9.1,
 * 8.2.6.2): written into out; -1 if the copy cannot be read. */
static int tc_build(const px_leg *l, bool cancel, char *out, size_t cap)
{
	osip_message_t *m = NULL;
	char *s = NULL;
	size_t n = 0;
	int rc = -1;

	if (!l->inv || osip_message_init(&m) != 0)
		return -1;
	if (osip_message_parse(m, l->inv, l->inv_len) != 0 || !m->req_uri || !m->from || !m->to || !m->call_id ||
	    !m->cseq || !m->cseq->number)
		goto out;
#define PUT(...) do { int k_ = snprintf(out + n, cap - n, __VA_ARGS__); if (k_ < 0 || (size_t)k_ >= cap - n) goto out; n += (size_t)k_; } while (0)
	if (cancel) {
		osip_via_t *v = NULL;
		if (osip_uri_to_str(m->req_uri, &s) != 0 || osip_message_get_via(m, 0, &v) < 0 || !v)
			goto out;
		PUT("CANCEL %s SIP/2.0\r\n", s);
		osip_free(s);
		s = NULL;
		if (osip_via_to_str(v, &s) != 0)
			goto out;
		PUT("Via: %s\r\nMax-Forwards: 70\r\n", s);
	} else {
		PUT("SIP/2.0 408 Request Timeout\r\n");
		for (int i = 0; i < osip_list_size(&m->vias); i++) {
			osip_via_t *v = osip_list_get(&m->vias, i);
			if (osip_via_to_str(v, &s) != 0)
				goto out;
			PUT("Via: %s\r\n", s);
			osip_free(s);
			s = NULL;
		}
	}
	osip_free(s);
	s = NULL;
	if (osip_from_to_str(m->from, &s) != 0)
		goto out;
	PUT("From: %s\r\n", s);
	osip_free(s);
	s = NULL;
	if (osip_to_to_str(m->to, &s) != 0)
		goto out;
	PUT("To: %s%s\r\n", s, cancel ? "" : ";tag=tvtimerc");
	osip_free(s);
	s = NULL;
	if (osip_call_id_to_str(m->call_id, &s) != 0)
		goto out;
	PUT("Call-ID: %s\r\nCSeq: %s %s\r\nContent-Length: 0\r\n\r\n", s, m->cseq->number, cancel ? "CANCEL" : "INVITE");
#undef PUT
	rc = (int)n;
out:
	osip_free(s);
	osip_message_free(m);
	return rc;
}

int px_tc_expired(px_leg *l, tv_time now)
{
	px_binding *b = l->b;
	proxy *p = b->p;
	char msg[PX_TC_COPY + 512];
	int n;

	if (l->tc_prov && !l->tc_cancelled && (n = tc_build(l, true, msg, sizeof(msg))) > 0) {
		l->tc_cancelled = true;
		p->st.timer_c_cancels++;
		if (l->tc_to == PX_CORE)
			px_send_core(p, b, msg, (size_t)n, now);
		else
			px_send_access(p, b, msg, (size_t)n, now);
		return 1;       /* px_timers.c gives the far side 32 s to answer it */
	}
	p->st.timer_c_408++;
	n = tc_build(l, false, msg, sizeof(msg));
	px_tc_stop(l);
	if (n > 0) {
		/* as if the far side said it: the usual path rewrites it for
		 * the caller and ends the leg */
		if (l->tc_to == PX_CORE)
			px_sip_from_core(p, b, false, msg, (size_t)n, now);
		else
			px_sip_from_access(p, b->tcp, &b->nat, msg, (size_t)n, now);
		return 0;       /* l may be gone */
	}
	px_leg_end(l, "timer-c", now);
	return 0;
}
