/* dash_calls.c - the SIP calls a simulation delivered, and the ladder
 * (call flow) of one of them (dash_model.h).
 *
 * Fed `{"sip":{...}}` lines, one per SIP message delivered on a link (a
 * message crossing a NAT is seen on both sides: two hops, two lines). A
 * call is the messages of one Call-ID, grouped by the part before '@': the
 * proxy swaps the host part between a phone's private address and its own
 * core address (topology hiding), so both sides of the proxy are one call.
 * Behind a B2BUA softswitch each leg has a Call-ID of its own: two calls.
 * Bounded: DASH_SIP_CALLS calls and DASH_SIP_MSGS messages per call, the
 * oldest going first; nothing here points into an engine. */
#include "dash_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void copy(char *out, size_t cap, json_t *o, const char *k, const char *dflt)
{
	json_t *v = json_object_get(o, k);

	snprintf(out, cap, "%s", json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : dflt);
}

void dash_sip_label(const dash_sip_msg *s, char *out, size_t cap)
{
	char meth[32];

	if (sip_peek_status(s->first))
		snprintf(out, cap, "%s", s->first + 8);
	else if (sip_peek_method(s->first, meth, sizeof(meth)))
		snprintf(out, cap, "%s", meth);
	else
		snprintf(out, cap, "(unparsed)");
}

/* A call's state after message s: what its first request became. */
static void call_step(dash_call *c, const dash_sip_msg *s)
{
	char meth[32];
	int code = sip_peek_status(s->first);
	const char *cm = strchr(s->cseq, ' ');
	bool invite = !strcmp(c->method, "INVITE");

	cm = cm ? cm + strspn(cm, " \t") : "";
	if (!code && sip_peek_method(s->first, meth, sizeof(meth))) {
		if (!c->method[0])
			snprintf(c->method, sizeof(c->method), "%.15s", meth);
		if (!strcmp(meth, "BYE"))
			snprintf(c->state, sizeof(c->state), "ended");
		else if (!strcmp(meth, "CANCEL") && strcmp(c->state, "answered"))
			snprintf(c->state, sizeof(c->state), "cancelling");
		else if (!c->state[0])
			snprintf(c->state, sizeof(c->state), "%s", !strcmp(meth, "INVITE") ? "calling" : "sent");
		return;
	}
	if (!code || strcmp(cm, c->method) || !strcmp(c->state, "ended"))
		return;         /* only the first request's own answers move it */
	if (invite && !strcmp(c->state, "answered"))
		return;
	if (code < 200)
		snprintf(c->state, sizeof(c->state), "%s", code == 100 ? c->state : "ringing");
	else if (code < 300)
		snprintf(c->state, sizeof(c->state), "%s",
			 invite ? "answered" : !strcmp(c->method, "REGISTER") ? "registered" : "ok");
	else if (code == 487)
		snprintf(c->state, sizeof(c->state), "cancelled");
	else
		snprintf(c->state, sizeof(c->state), "%s %d", code == 401 || code == 407 ? "challenged" : "failed", code);
}

void dash_calls_free(dash_model *m)
{
	for (int i = 0; i < m->ncalls; i++)
		free(m->calls[i].msg);
	free(m->calls);
	m->calls = NULL;
	m->ncalls = 0;
}

const dash_call *dash_call_find(const dash_model *m, const char *key)
{
	for (int i = m->ncalls - 1; i >= 0; i--)
		if (!strcmp(m->calls[i].key, key))
			return &m->calls[i];
	return NULL;
}

static dash_call *call_get(dash_model *m, const char *key, const char *call_id)
{
	dash_call *c = (dash_call *)dash_call_find(m, key);

	if (c)
		return c;
	if (!m->calls && !(m->calls = calloc(DASH_SIP_CALLS, sizeof(*m->calls))))
		return NULL;
	if (m->ncalls == DASH_SIP_CALLS) {
		free(m->calls[0].msg);
		memmove(m->calls, m->calls + 1, (DASH_SIP_CALLS - 1) * sizeof(*m->calls));
		m->ncalls--;
		m->calls_dropped++;
	}
	c = &m->calls[m->ncalls++];
	memset(c, 0, sizeof(*c));
	snprintf(c->key, sizeof(c->key), "%s", key);
	snprintf(c->call_id, sizeof(c->call_id), "%s", call_id);
	return c;
}

int dash_apply_sip(dash_model *m, json_t *o)
{
	dash_sip_msg s = { 0 };
	json_t *t = json_object_get(o, "t");
	char key[128], user[32];
	dash_call *c;

	if (!json_is_object(o))
		return -1;
	s.t = json_is_number(t) ? json_number_value(t) : 0;
	copy(s.src, sizeof(s.src), o, "src", "?");
	copy(s.dst, sizeof(s.dst), o, "dst", "?");
	/* a participant without a name is its address */
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(s.src, ":"), s.src);
	copy(s.hop_from, sizeof(s.hop_from), o, "hop_from", key);
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(s.dst, ":"), s.dst);
	copy(s.hop_to, sizeof(s.hop_to), o, "hop_to", key);
	copy(s.first, sizeof(s.first), o, "first", "(unparsed)");
	copy(s.cseq, sizeof(s.cseq), o, "cseq", "-");
	copy(s.call_id, sizeof(s.call_id), o, "call_id", "(no Call-ID)");
	copy(s.proto, sizeof(s.proto), o, "proto", "udp");
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(s.call_id, "@"), s.call_id);
	if (!(c = call_get(m, key, s.call_id)))
		return -1;
	if (!c->from[0]) {
		copy(user, sizeof(user), o, "from", "");
		snprintf(c->from, sizeof(c->from), "%s", user);
		copy(user, sizeof(user), o, "to", "");
		snprintf(c->to, sizeof(c->to), "%s", user);
	}
	if (c->nmsg == DASH_SIP_MSGS) {
		memmove(c->msg, c->msg + 1, (DASH_SIP_MSGS - 1) * sizeof(*c->msg));
		c->nmsg--;
	}
	if (c->nmsg == c->capmsg) {
		int nc = c->capmsg ? c->capmsg * 2 : 16;
		void *p = realloc(c->msg, (size_t)(nc < DASH_SIP_MSGS ? nc : DASH_SIP_MSGS) * sizeof(*c->msg));
		if (!p)
			return -1;
		c->msg = p;
		c->capmsg = nc < DASH_SIP_MSGS ? nc : DASH_SIP_MSGS;
	}
	if (!c->total)
		c->t0 = s.t;
	c->t1 = s.t;
	c->total++;
	m->sip_total++;
	call_step(c, &s);
	c->msg[c->nmsg++] = s;
	return 0;
}

int dash_calls_rows(const dash_model *m, dash_table *t)
{
	static const char *const h[] = { "CALL", "METHOD", "FROM", "TO", "STATE", "MSGS", "START", "CALL-ID" };
	static const int w[] = { 6, 8, 10, 10, 13, 5, 8, 0 };
	int cap = 0, r;

	t->title = "Calls";
	t->ncols = 8;
	for (int c = 0; c < t->ncols; c++) {
		t->head[c] = h[c];
		t->width[c] = w[c];
		t->numeric[c] = c == 5 || c == 6;
	}
	for (int i = 0; i < m->ncalls; i++) {
		const dash_call *c = &m->calls[i];
		if ((r = dash_table_add(t, &cap)) < 0)
			return -1;
		dash_table_set(t, r, 0, "%06x", dash_tag(c->key));
		dash_table_set(t, r, 1, "%s", c->method[0] ? c->method : "-");
		dash_table_set(t, r, 2, "%s", c->from[0] ? c->from : "-");
		dash_table_set(t, r, 3, "%s", c->to[0] ? c->to : "-");
		dash_table_set(t, r, 4, "%s", c->state[0] ? c->state : "-");
		dash_table_set(t, r, 5, "%llu", (unsigned long long)c->total);
		dash_table_set(t, r, 6, "%.3f", c->t0);
		dash_table_set(t, r, 7, "%s", c->key);
	}
	return 0;
}

/* ---- the ladder ---- */

void dash_ladder_free(dash_ladder *l)
{
	free(l->line);
	free(l->msg);
	memset(l, 0, sizeof(*l));
}

static int col_of(dash_ladder *l, const char *name)
{
	for (int i = 0; i < l->ncols; i++)
		if (!strcmp(l->col[i], name))
			return i;
	if (l->ncols == DASH_LADDER_COLS) {
		/* the rest share the last column */
		snprintf(l->col[DASH_LADDER_COLS - 1], sizeof(l->col[0]), "(others)");
		return DASH_LADDER_COLS - 1;
	}
	snprintf(l->col[l->ncols], sizeof(l->col[0]), "%s", name);
	return l->ncols++;
}

/* Write s into line at x, at most n characters, inside [0, w). */
static void put(char *line, int w, int x, const char *s, int n)
{
	for (int i = 0; i < n && s[i] && x + i < w; i++)
		if (x + i >= 0)
			line[x + i] = s[i];
}

#define LADDER_TIME 9   /* "%8.3f " */

int dash_ladder_make(const dash_model *m, const char *key, int width, dash_ladder *l)
{
	const dash_call *c = dash_call_find(m, key);
	int x[DASH_LADDER_COLS], seg, w = width < (int)sizeof(l->head) ? width : (int)sizeof(l->head) - 1;

	memset(l, 0, sizeof(*l));
	if (!c)
		return -1;
	for (int i = 0; i < c->nmsg; i++) {
		col_of(l, c->msg[i].hop_from);
		col_of(l, c->msg[i].hop_to);
	}
	if (w < LADDER_TIME + 4 || !l->ncols)
		return 0;
	seg = (w - LADDER_TIME) / l->ncols;
	for (int i = 0; i < l->ncols; i++)
		x[i] = LADDER_TIME + seg / 2 + i * seg;
	/* the head: each name centred over its lifeline */
	memset(l->head, ' ', (size_t)w);
	l->head[w] = '\0';
	put(l->head, w, 0, "  TIME s", LADDER_TIME - 1);
	for (int i = 0; i < l->ncols; i++) {
		int n = (int)strlen(l->col[i]) < seg - 1 ? (int)strlen(l->col[i]) : seg - 1;
		put(l->head, w, x[i] - n / 2, l->col[i], n);
	}
	l->line = calloc((size_t)c->nmsg + 1, sizeof(*l->line));
	l->msg = calloc((size_t)c->nmsg + 1, sizeof(*l->msg));
	if (!l->line || !l->msg) {
		dash_ladder_free(l);
		return -1;
	}
	for (int i = 0; i < c->nmsg; i++) {
		const dash_sip_msg *s = &c->msg[i];
		char *line = l->line[i], t[32], lab[96];
		int a = x[col_of(l, s->hop_from)], b = x[col_of(l, s->hop_to)];
		int lo = a < b ? a : b, hi = a < b ? b : a, span, n;

		memset(line, ' ', (size_t)w);
		line[w] = '\0';
		snprintf(t, sizeof(t), "%8.3f", s->t);
		put(line, w, 0, t, LADDER_TIME - 1);
		for (int k = 0; k < l->ncols; k++)
			put(line, w, x[k], "|", 1);
		dash_sip_label(s, lab, sizeof(lab));
		if (a == b) {   /* to itself (or both among "others") */
			put(line, w, a + 1, "<", 1);
			put(line, w, a + 2, lab, seg - 3);
		} else {
			for (int k = lo + 1; k < hi; k++)
				line[k] = '-';
			line[a < b ? hi - 1 : lo + 1] = a < b ? '>' : '<';
			span = hi - lo - 3;     /* a dash each side, and the head */
			if ((int)strlen(lab) > span && sip_peek_status(s->first))
				lab[3] = '\0';         /* a response that does not fit: its code */
			n = (int)strlen(lab) < span ? (int)strlen(lab) : span;
			if (n > 0)
				put(line, w, lo + 2 + (span - n) / 2, lab, n);
		}
		l->msg[i] = s;
		l->nlines++;
	}
	return 0;
}

