/* scn_time.c - when a timed statement runs: "at TIME", "at +D",
 * "at EVENT[+D|-D]" and "after EVENT[+D]" (docs/scenarios.md, Timeline).
 *
 * Events and where their time comes from:
 *   media-start(PHONE[.video])  the phone's first RTP packet sent (exact)
 *   media-rx(PHONE[.video])     its first RTP packet received (exact)
 *   established(PHONE)          its call became established (exact)
 *   registered(PHONE)           it is registered (seen at 1 ms resolution)
 *   latched(PROXY.PHONE[.STREAM])   the proxy latched that stream's RTP
 *                               (seen at 1 ms resolution)
 * An event that has not happened yet is waited for: the clock runs in 1 ms
 * steps, for at most an hour of virtual time, then the statement fails.
 * An event that happened earlier gives an absolute time, which must not be
 * before the clock (as for "at TIME"). */
#include "scn_ctx.h"

#include <string.h>

enum ev_kind { EV_MEDIA_START, EV_MEDIA_RX, EV_ESTABLISHED, EV_REGISTERED, EV_LATCHED };

static const struct {
	const char *name;
	enum ev_kind k;
} ev_names[] = {
	{ "media-start", EV_MEDIA_START }, { "media-rx", EV_MEDIA_RX }, { "established", EV_ESTABLISHED },
	{ "registered", EV_REGISTERED }, { "latched", EV_LATCHED },
};

typedef struct scn_event {
	enum ev_kind kind;
	sym *phone, *proxy;
	int idx;
} scn_event;

/* "NAME(ARG)" then an optional +D or -D. */
static int ev_parse(scn_ctx *c, const char *s, scn_event *e, tv_time *delta, bool *neg)
{
	const char *open = strchr(s, '('), *close = strchr(s, ')');
	char arg[96], *dot;
	size_t k, n;

	if (!open || !close || close < open || (size_t)(close - open - 1) >= sizeof(arg))
		return ctx_err(c, "'%s' is not an event (e.g. media-start(alice)+2s)", s);
	n = (size_t)(open - s);
	for (k = 0; k < sizeof(ev_names) / sizeof(ev_names[0]); k++)
		if (strlen(ev_names[k].name) == n && !strncmp(s, ev_names[k].name, n))
			break;
	if (k == sizeof(ev_names) / sizeof(ev_names[0]))
		return ctx_err(c, "'%.*s' is not an event (expected media-start, media-rx, established, registered or "
			       "latched)", (int)n, s);
	memset(e, 0, sizeof(*e));
	e->kind = ev_names[k].k;
	memcpy(arg, open + 1, (size_t)(close - open - 1));
	arg[close - open - 1] = '\0';
	*delta = 0;
	*neg = false;
	if (close[1]) {
		if ((close[1] != '+' && close[1] != '-') || tv_time_parse(close + 2, delta) < 0)
			return ctx_err(c, "'%s': after the event, expected +DURATION or -DURATION", s);
		*neg = close[1] == '-';
	}
	if (e->kind == EV_LATCHED) {
		char *d2;
		dot = strchr(arg, '.');
		if (!dot)
			return ctx_err(c, "latched(PROXY.PHONE[.STREAM]): got '%s'", arg);
		*dot = '\0';
		d2 = strchr(dot + 1, '.');
		if (d2)
			*d2 = '\0';
		e->proxy = need_sym(c, arg, SYM_PROXY);
		e->phone = e->proxy ? need_sym(c, dot + 1, SYM_PHONE) : NULL;
		if (!e->phone)
			return -1;
		if (d2 && names_stream_index(d2 + 1, &e->idx) < 0)
			return ctx_err(c, "'%s': the stream is audio, video or 0-3", s);
		return 0;
	}
	dot = strchr(arg, '.');
	if (dot)
		*dot = '\0';
	e->phone = need_sym(c, arg, SYM_PHONE);
	if (!e->phone)
		return -1;
	if (dot && (e->kind == EV_ESTABLISHED || e->kind == EV_REGISTERED))
		return ctx_err(c, "'%s': %s takes a phone, not a stream", s, ev_names[k].name);
	if (dot && names_stream_index(dot + 1, &e->idx) < 0)
		return ctx_err(c, "'%s': the stream is audio, video or 0-3", s);
	return 0;
}

typedef struct latch_q {
	const char *user;
	int idx;
	bool latched;
} latch_q;

static void latch_visit(void *arg, const proxy_stream_info *si)
{
	latch_q *q = arg;

	if (!strcmp(si->user, q->user) && si->index == q->idx && si->latched_rtp.port)
		q->latched = true;
}

/* Has the event happened? If so, *at is when (exact, or now when only
 * its state can be seen). */
static bool ev_happened(scn_ctx *c, const scn_event *e, tv_time *at)
{
	tv_time now = sim_net_now(c->net);

	switch (e->kind) {
	case EV_MEDIA_START:
	case EV_MEDIA_RX: {
		media_stream *m = sipua_media(e->phone->obj, e->idx);
		const media_stats *ms = m ? media_get_stats(m) : NULL;
		if (!ms || !(e->kind == EV_MEDIA_START ? ms->rtp_tx : ms->rtp_rx))
			return false;
		*at = e->kind == EV_MEDIA_START ? ms->first_tx : ms->first_rx;
		return true;
	}
	case EV_ESTABLISHED: {
		const sipua_status *s = sipua_get_status(e->phone->obj);
		if (s->state != SIPUA_ESTABLISHED && !s->established_at)
			return false;
		*at = s->established_at;
		return true;
	}
	case EV_REGISTERED:
		*at = now;
		return sipua_get_status(e->phone->obj)->registered;
	case EV_LATCHED: {
		latch_q q = { .user = e->phone->domain, .idx = e->idx };
		px_foreach_stream(c, e->proxy, latch_visit, &q);
		*at = now;
		return q.latched;
	}
	}
	return false;
}

/* The time a timed statement names; in the dry pass only the syntax and
 * names are checked (*t is the cursor). */
int scn_when(scn_ctx *c, const char *what, const char *spec, bool event_only, tv_time *t)
{
	scn_event e;
	tv_time d, at = 0, start = c->cursor;
	bool neg = false, seen;

	if (spec[0] == '+' && !event_only) {
		if (tv_time_parse(spec + 1, &d) < 0)
			return ctx_err(c, "%s: '%s' is not +DURATION", what, spec);
		*t = c->cursor + d;
		return 0;
	}
	if (!strchr(spec, '(')) {
		if (event_only)
			return ctx_err(c, "%s: '%s' is not an event (e.g. media-start(alice), registered(bob)+1s)", what,
				       spec);
		if (tv_time_parse(spec, t) < 0)
			return ctx_err(c, "%s: '%s' is not a time, +DURATION or EVENT", what, spec);
		return 0;
	}
	if (ev_parse(c, spec, &e, &d, &neg) < 0)
		return -1;
	if (c->dry) {
		*t = c->cursor;
		return 0;
	}
	seen = ev_happened(c, &e, &at);
	for (tv_time end = start + TV_SEC(3600); !seen && c->cursor < end;) {
		c->cursor += TV_MS(1);
		ctx_advance(c);
		seen = ev_happened(c, &e, &at);
	}
	if (!seen)
		return ctx_err(c, "%s %s: the event did not happen within an hour", what, spec);
	if (neg && d > at)
		return ctx_err(c, "%s %s: before time 0", what, spec);
	*t = neg ? at - d : at + d;
	if (*t < c->cursor && c->cursor > start)
		*t = c->cursor; /* it happened while we stepped: the step's end */
	return 0;
}
