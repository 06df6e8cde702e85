/* dash_model.c - the dashboard's snapshots and tables (dash_model.h). */
#include "dash_model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dash_model_init(dash_model *m)
{
	memset(m, 0, sizeof(*m));
}

void dash_model_free(dash_model *m)
{
	free(m->bind);
	free(m->str);
	free(m->nat);
	for (int i = 0; i < DASH_EVENTS; i++)
		free(m->events[i]);
	dash_calls_free(m);
	dash_topo_free(m);
	memset(m, 0, sizeof(*m));
}

uint64_t dash_stat(const dash_model *m, const char *name)
{
	for (int i = 0; i < m->nstat; i++)
		if (!strcmp(m->stat[i].name, name))
			return m->stat[i].v;
	return 0;
}

static void str_of(json_t *o, const char *k, char *out, size_t cap)
{
	json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		snprintf(out, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
	else
		snprintf(out, cap, "-");
}

static uint64_t u64_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static int bad(dash_model *m, const char *why)
{
	snprintf(m->err, sizeof(m->err), "%s", why);
	m->bad_answers++;
	return -1;
}

static int apply_stats(dash_model *m, json_t *s, double now)
{
	const char *k;
	json_t *v;
	uint64_t core, acc, bcore, bacc;

	m->nstat = 0;
	json_object_foreach(s, k, v) {
		if (!json_is_integer(v) || m->nstat == DASH_STAT_MAX)
			continue;
		snprintf(m->stat[m->nstat].name, sizeof(m->stat[0].name), "%s", k);
		m->stat[m->nstat++].v = json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	}
	core = dash_stat(m, "relayed-to-core");
	acc = dash_stat(m, "relayed-to-access");
	bcore = dash_stat(m, "bytes-to-core");
	bacc = dash_stat(m, "bytes-to-access");
	if (m->have_prev && now > m->prev_s) {
		double dt = now - m->prev_s;
		/* a counter that went back (a restarted proxy) gives 0, not a spike */
		m->pps_core = core >= m->prev_core ? (double)(core - m->prev_core) / dt : 0;
		m->pps_access = acc >= m->prev_access ? (double)(acc - m->prev_access) / dt : 0;
		m->bps_core = bcore >= m->prev_bcore ? 8.0 * (double)(bcore - m->prev_bcore) / dt : 0;
		m->bps_access = bacc >= m->prev_baccess ? 8.0 * (double)(bacc - m->prev_baccess) / dt : 0;
	}
	m->prev_core = core;
	m->prev_access = acc;
	m->prev_bcore = bcore;
	m->prev_baccess = bacc;
	m->prev_s = now;
	m->have_prev = true;
	m->snapshots++;
	return 0;
}

static double num_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : 0;
}

static int apply_bindings(dash_model *m, json_t *a, double now)
{
	size_t n = json_array_size(a), i;
	dash_binding *b = calloc(n ? n : 1, sizeof(*b));
	json_t *o;

	if (!b)
		return bad(m, "out of memory");
	json_array_foreach(a, i, o) {
		str_of(o, "user", b[i].user, sizeof(b[i].user));
		str_of(o, "nat", b[i].nat, sizeof(b[i].nat));
		str_of(o, "contact", b[i].contact, sizeof(b[i].contact));
		str_of(o, "core", b[i].core, sizeof(b[i].core));
		str_of(o, "transport", b[i].transport, sizeof(b[i].transport));
		b[i].registered = json_is_true(json_object_get(o, "registered"));
		b[i].ka_sent = u64_of(o, "ka_sent");
		b[i].ka_answered = u64_of(o, "ka_answered");
		b[i].ka_misses = u64_of(o, "ka_misses");
		b[i].ka_in_s = json_is_number(json_object_get(o, "ka_in_s")) ? num_of(o, "ka_in_s") : -1;
		b[i].seen_s = now;
	}
	free(m->bind);
	m->bind = b;
	m->nbind = (int)n;
	return 0;
}


static int apply_nats(dash_model *m, json_t *a)
{
	size_t n = json_array_size(a), i;
	dash_nat *x = calloc(n ? n : 1, sizeof(*x));
	json_t *o;

	if (!x)
		return bad(m, "out of memory");
	json_array_foreach(a, i, o) {
		str_of(o, "nat", x[i].nat, sizeof(x[i].nat));
		str_of(o, "class", x[i].cls, sizeof(x[i].cls));
		str_of(o, "proto", x[i].proto, sizeof(x[i].proto));
		str_of(o, "internal", x[i].internal, sizeof(x[i].internal));
		str_of(o, "external", x[i].external, sizeof(x[i].external));
		str_of(o, "remote", x[i].remote, sizeof(x[i].remote));
		str_of(o, "state", x[i].state, sizeof(x[i].state));
		x[i].age_s = num_of(o, "age_s");
		x[i].ttl_s = num_of(o, "ttl_s");
		x[i].out = u64_of(o, "pkts_out");
		x[i].in = u64_of(o, "pkts_in");
	}
	free(m->nat);
	m->nat = x;
	m->nnat = (int)n;
	return 0;
}

static int apply_scenario(dash_model *m, json_t *o)
{
	str_of(o, "file", m->scn.file, sizeof(m->scn.file));
	m->scn.line = (int)u64_of(o, "line");
	m->scn.vnow_s = num_of(o, "now_s");
	m->scn.checks = (int)u64_of(o, "checks");
	m->scn.failed = (int)u64_of(o, "failed");
	m->scn.done = json_is_true(json_object_get(o, "done"));
	m->have_scn = true;
	return 0;
}

/* A number, or -1 when null or absent (not known). */
static double num_or_unknown(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : -1;
}

static void apply_quality(json_t *o, dash_stream *x)
{
	static const char *const dir[2] = { "to_core", "to_access" };
	char k[48];

	for (int d = 0; d < 2; d++) {
		struct dash_quality *q = &x->q[d];
		snprintf(k, sizeof(k), "expected_%s", dir[d]);
		q->expected = u64_of(o, k);
		snprintf(k, sizeof(k), "lost_%s", dir[d]);
		q->lost = u64_of(o, k);
		snprintf(k, sizeof(k), "loss_%s", dir[d]);
		q->loss = num_or_unknown(o, k);
		snprintf(k, sizeof(k), "jitter_ms_%s", dir[d]);
		q->jitter_ms = num_or_unknown(o, k);
		snprintf(k, sizeof(k), "last_rx_age_ms_%s", dir[d]);
		q->age_ms = num_or_unknown(o, k);
		snprintf(k, sizeof(k), "delay_ms_%s", dir[d]);
		q->delay_ms = num_or_unknown(o, k);
		snprintf(k, sizeof(k), "r_%s", dir[d]);
		q->r = num_or_unknown(o, k);
		snprintf(k, sizeof(k), "mos_%s", dir[d]);
		q->mos = num_or_unknown(o, k);
		if (!q->expected)
			q->loss = -1;   /* nothing measured that way yet */
	}
	str_of(o, "codec", x->codec, sizeof(x->codec));
	str_of(o, "delay_source", x->delay_src, sizeof(x->delay_src));
	x->clock_rate = (unsigned)u64_of(o, "clock_rate");
	x->clock_known = json_is_true(json_object_get(o, "clock_rate_known"));
	x->rtt_ms = num_or_unknown(o, "rtt_ms");
	x->rtt_access_ms = num_or_unknown(o, "rtt_access_ms");
	x->rtt_core_ms = num_or_unknown(o, "rtt_core_ms");
}

void dash_quality_cells(const dash_stream *s, char *q, char *loss, char *jit, size_t cap)
{
	double mos = -1, l = -1, j = -1;

	for (int d = 0; d < 2; d++) {
		if (s->q[d].mos >= 0 && (mos < 0 || s->q[d].mos < mos))
			mos = s->q[d].mos;
		if (s->q[d].loss > l)
			l = s->q[d].loss;
		if (s->q[d].expected && s->q[d].jitter_ms > j)
			j = s->q[d].jitter_ms;
	}
	if (mos >= 0)
		snprintf(q, cap, "%.1f%c", mos, !strcmp(s->delay_src, "rtcp") ? 'r' : 'c');
	else
		snprintf(q, cap, "-");
	if (l >= 0)
		snprintf(loss, cap, "%.1f", l * 100);
	else
		snprintf(loss, cap, "-");
	if (j >= 0)
		snprintf(jit, cap, j < 100 ? "%.1f" : "%.0f", j);
	else
		snprintf(jit, cap, "-");
}

int dash_quality_lines(const dash_stream *s, char (*lines)[160], int max)
{
	static const char *const name[2] = { "to core", "to access" };
	int n = 0;

	if (n < max)
		snprintf(lines[n++], 160, "%-14s %s, %u Hz%s", "codec", s->codec[0] ? s->codec : "unknown", s->clock_rate,
			 s->clock_known ? "" : " (assumed)");
	for (int d = 0; d < 2 && n < max; d++) {
		const struct dash_quality *q = &s->q[d];
		char age[24], est[32];
		if (!q->expected) {
			snprintf(lines[n++], 160, "%-14s no RTP yet", name[d]);
			continue;
		}
		if (q->age_ms >= 0)
			snprintf(age, sizeof(age), "%.0fms", q->age_ms);
		else
			snprintf(age, sizeof(age), "-");
		if (q->mos >= 0)
			snprintf(est, sizeof(est), "MOS %.2f R %.1f", q->mos, q->r);
		else
			snprintf(est, sizeof(est), "no MOS (codec)");
		/* 76 columns: an 80-column screen's box */
		snprintf(lines[n++], 160, "%-14s loss %.2f%% (%llu/%llu) jitter %.1fms last %s %s", name[d], q->loss * 100,
			 (unsigned long long)q->lost, (unsigned long long)q->expected, q->jitter_ms, age, est);
	}
	if (n < max) {
		if (!strcmp(s->delay_src, "rtcp"))
			snprintf(lines[n++], 160, "%-14s RTCP: rtt %.1f ms (terminal %.1f + core %.1f) + 2x jitter", "delay",
				 s->rtt_ms, s->rtt_access_ms, s->rtt_core_ms);
		else if (s->delay_src[0])
			snprintf(lines[n++], 160, "%-14s configured: %.1f ms one-way (no RTCP rtt) + 2x jitter", "delay",
				 s->q[0].delay_ms >= 0 ? s->q[0].delay_ms - 2 * (s->q[0].jitter_ms > 0 ? s->q[0].jitter_ms : 0) : 0);
		else
			snprintf(lines[n++], 160, "%-14s not reported by this proxy", "delay");
	}
	return n;
}

static const dash_stream *find_stream(const dash_stream *s, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s[i].key, key))
			return &s[i];
	return NULL;
}

static int apply_streams(dash_model *m, json_t *a, double now)
{
	size_t n = json_array_size(a), i;
	dash_stream *s = calloc(n ? n : 1, sizeof(*s));
	json_t *o;

	if (!s)
		return bad(m, "out of memory");
	json_array_foreach(a, i, o) {
		dash_stream *x = &s[i];
		const dash_stream *p;
		str_of(o, "user", x->user, sizeof(x->user));
		str_of(o, "call_id", x->call_id, sizeof(x->call_id));
		str_of(o, "state", x->state, sizeof(x->state));
		str_of(o, "latched_rtp", x->latched, sizeof(x->latched));
		str_of(o, "sdp", x->access, sizeof(x->access));
		str_of(o, "core_remote", x->core_remote, sizeof(x->core_remote));
		x->index = (int)u64_of(o, "index");
		x->held = json_is_true(json_object_get(o, "held"));
		x->to_core = u64_of(o, "pkts_to_core");
		x->to_access = u64_of(o, "pkts_to_access");
		x->bytes_core = u64_of(o, "bytes_to_core");
		x->bytes_access = u64_of(o, "bytes_to_access");
		x->dropped = u64_of(o, "dropped");
		apply_quality(o, x);
		snprintf(x->key, sizeof(x->key), "%s/%s/%d", x->call_id, x->user, x->index);
		x->seen_s = now;
		p = m->str ? find_stream(m->str, m->nstr, x->key) : NULL;
		if (p) {
			double dt = now - m->str_prev_s;
			memcpy(x->hist, p->hist + 1, sizeof(x->hist) - sizeof(x->hist[0]));
			if (x->to_core == p->to_core && x->to_access == p->to_access)
				x->seen_s = p->seen_s;  /* nothing moved: keep when it last did */
			if (dt > 0) {
				x->pps_core = x->to_core >= p->to_core ? (double)(x->to_core - p->to_core) / dt : 0;
				x->pps_access = x->to_access >= p->to_access ? (double)(x->to_access - p->to_access) / dt : 0;
			}
			x->hist[DASH_HIST - 1] = x->pps_core + x->pps_access;
		}
	}
	m->str_prev_s = now;
	free(m->str);
	m->str = s;
	m->nstr = (int)n;
	return 0;
}

/* An event as "AT\tEVENT\tUSER\tDETAILS" (the events pane's columns). */
static void fmt_event(json_t *o, char *out, size_t cap)
{
	static const char *const keys[] = { "addr", "reason", "stream", "call_id", NULL };
	json_t *at = json_object_get(o, "at_s"), *ev = json_object_get(o, "event");
	char user[64];
	size_t n;

	str_of(o, "user", user, sizeof(user));
	n = (size_t)snprintf(out, cap, "%.3f\t%s\t%s\t", json_is_number(at) ? json_number_value(at) : 0.0,
			     json_is_string(ev) ? json_string_value(ev) : "?", user);
	if (json_is_string(json_object_get(o, "text")) && n < cap)   /* a scenario's action, as written */
		n += (size_t)snprintf(out + n, cap - n, "line %lld: %s ", (long long)json_integer_value(json_object_get(o, "line")),
				      json_string_value(json_object_get(o, "text")));
	for (int i = 0; keys[i] && n < cap; i++) {
		char v[96];
		if (!json_object_get(o, keys[i]))
			continue;
		str_of(o, keys[i], v, sizeof(v));
		n += (size_t)snprintf(out + n, cap - n, "%s=%s ", keys[i], v);
	}
	if (n < cap && json_is_true(json_object_get(o, "rtcp")))
		n += (size_t)snprintf(out + n, cap - n, "rtcp ");
	if (n < cap && json_is_object(json_object_get(o, "since_last"))) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(o, "since_last"), k, v) {
			if (n >= cap)
				break;
			n += (size_t)snprintf(out + n, cap - n, "%s=%lld ", k, (long long)json_integer_value(v));
		}
	}
	if (n > 0 && n < cap && out[n - 1] == ' ')
		out[n - 1] = '\0';
}

static void add_event(dash_model *m, const char *text)
{
	char *dup = strdup(text);

	if (!dup)
		return;
	free(m->events[m->ev_head]);
	m->events[m->ev_head] = dup;
	m->ev_head = (m->ev_head + 1) % DASH_EVENTS;
	if (m->nev < DASH_EVENTS)
		m->nev++;
	m->ev_total++;
}

int dash_apply_line(dash_model *m, const char *line, double now_s)
{
	json_error_t je;
	json_t *j = json_loads(line, 0, &je), *v;
	int rc = 0;

	m->now_s = now_s;
	if (!json_is_object(j)) {
		json_decref(j);
		return bad(m, "an answer that is not a JSON object");
	}
	if ((v = json_object_get(j, "stats")) && json_is_object(v))
		rc = apply_stats(m, v, now_s);
	else if ((v = json_object_get(j, "bindings")) && json_is_array(v))
		rc = apply_bindings(m, v, now_s);
	else if ((v = json_object_get(j, "streams")) && json_is_array(v))
		rc = apply_streams(m, v, now_s);
	else if ((v = json_object_get(j, "nats")) && json_is_array(v))
		rc = apply_nats(m, v);
	else if ((v = json_object_get(j, "scenario")) && json_is_object(v))
		rc = apply_scenario(m, v);
	else if ((v = json_object_get(j, "sip")) && json_is_object(v))
		rc = dash_apply_sip(m, v);
	else if ((v = json_object_get(j, "topo")) && json_is_object(v))
		rc = dash_apply_topo(m, v, now_s);
	else if (json_is_string(json_object_get(j, "event"))) {
		char text[320];
		fmt_event(j, text, sizeof(text));
		add_event(m, text);
	} else if (json_object_get(j, "events") || json_is_string(json_object_get(j, "sip"))) {
		/* "subscribed" */
	} else if ((v = json_object_get(j, "error"))) {
		char why[160];
		snprintf(why, sizeof(why), "the proxy answered: %s", json_is_string(v) ? json_string_value(v) : "error");
		rc = bad(m, why);
	} else
		rc = bad(m, "an answer the dashboard does not know");
	json_decref(j);
	return rc;
}

int dash_calls(const dash_model *m)
{
	int n = 0;

	for (int i = 0; i < m->nstr; i++) {
		int k = 0;
		while (k < i && strcmp(m->str[k].call_id, m->str[i].call_id))
			k++;
		n += k == i;
	}
	return n;
}

void dash_drops(const dash_model *m, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < m->nstat && n < cap; i++)
		if (!strncmp(m->stat[i].name, "drop.", 5) && m->stat[i].v)
			n += (size_t)snprintf(out + n, cap - n, "%s%s %llu", n ? ", " : "", m->stat[i].name + 5,
					      (unsigned long long)m->stat[i].v);
	if (!out[0])
		snprintf(out, cap, "none");
}

void dash_si(double n, char *out, size_t cap)
{
	static const char pre[] = " kMGT";
	int i = 0;

	while (n >= 999.5 && i < 4) {
		n /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(out, cap, "%.0f", n);
	else
		snprintf(out, cap, n < 9.95 ? "%.1f%c" : "%.0f%c", n, pre[i]);
}

void dash_spark(const double *v, int n, char *out, size_t cap)
{
	static const char lv[] = " .:-=+*#%@";
	double max = 0;
	int i;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = 0; i < n && (size_t)i + 1 < cap; i++) {
		int k = max > 0 ? (int)lround(v[i] / max * 9) : 0;
		if (v[i] > 0 && k == 0)
			k = 1;
		out[i] = lv[k < 0 ? 0 : k > 9 ? 9 : k];
	}
	out[i] = '\0';
}

unsigned dash_tag(const char *s)
{
	uint32_t h = 2166136261u;       /* FNV-1a, folded to 24 bits */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return (h >> 24 ^ h) & 0xffffff;
}

/* ---- tables ---- */

static int add_row(dash_table *t, int *cap)
{
	if (t->nrows == *cap) {
		int nc = *cap ? *cap * 2 : 32;
		void *p = realloc(t->cell, (size_t)nc * sizeof(*t->cell));
		if (!p)
			return -1;
		t->cell = p;
		*cap = nc;
	}
	memset(t->cell[t->nrows], 0, sizeof(t->cell[0]));
	return t->nrows++;
}

static bool row_has(const dash_table *t, int r, const char *f)
{
	if (!f || !f[0])
		return true;
	for (int c = 0; c < t->ncols; c++)
		if (strcasestr(t->cell[r][c], f))
			return true;
	return false;
}

static int sort_col, sort_desc;
static const dash_table *sort_t;

static int cmp_rows(const void *a, const void *b)
{
	const char *x = (*(const char(*)[DASH_COLS][DASH_CELL])a)[sort_col];
	const char *y = (*(const char(*)[DASH_COLS][DASH_CELL])b)[sort_col];
	int r;

	if (sort_t->numeric[sort_col]) {
		double dx = strtod(x, NULL), dy = strtod(y, NULL);
		r = dx < dy ? -1 : dx > dy;
	} else
		r = strcmp(x, y);
	return sort_desc ? -r : r;
}

static void set(dash_table *t, int r, int c, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set(dash_table *t, int r, int c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->cell[r][c], DASH_CELL, fmt, ap);
	va_end(ap);
}

int dash_table_add(dash_table *t, int *cap) { return add_row(t, cap); }

void dash_table_set(dash_table *t, int r, int c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->cell[r][c], DASH_CELL, fmt, ap);
	va_end(ap);
}

int dash_rows(const dash_model *m, enum dash_pane p, const char *filter, int scol, bool desc, dash_table *t)
{
	int cap = 0, r;

	memset(t, 0, sizeof(*t));
	if (p == DASH_BINDINGS) {
		/* what changes first: the keepalive countdown and misses fit 80 columns */
		static const char *const h[] = { "USER", "NAT MAPPING", "PRIVATE", "KA IN", "MISS", "REG", "PROTO",
						 "CORE", "KA SENT", "KA ANS" };
		static const int w[] = { 10, 21, 21, 5, 4, 3, 5, 21, 7, 6 };
		t->title = "Bindings";
		t->ncols = 10;
		for (int c = 0; c < t->ncols; c++) {
			t->head[c] = h[c];
			t->width[c] = w[c];
			t->numeric[c] = c == 3 || c == 4 || c >= 8;
		}
		for (int i = 0; i < m->nbind; i++) {
			const dash_binding *b = &m->bind[i];
			if ((r = add_row(t, &cap)) < 0)
				return -1;
			set(t, r, 0, "%s", b->user);
			set(t, r, 1, "%s", b->nat);
			set(t, r, 2, "%s", b->contact);
			if (b->ka_in_s < 0)
				set(t, r, 3, "-");
			else    /* counting down between snapshots */
				set(t, r, 3, "%.0f", b->ka_in_s > m->now_s - b->seen_s ? b->ka_in_s - (m->now_s - b->seen_s) : 0);
			set(t, r, 4, "%llu", (unsigned long long)b->ka_misses);
			set(t, r, 5, "%s", b->registered ? "yes" : "no");
			set(t, r, 6, "%s", b->transport);
			set(t, r, 7, "%s", b->core);
			set(t, r, 8, "%llu", (unsigned long long)b->ka_sent);
			set(t, r, 9, "%llu", (unsigned long long)b->ka_answered);
		}
	} else if (p == DASH_STREAMS) {
		/* quality next to the state: at 80 columns everything up to
		 * >CORE shows, >ACCESS is cut */
		static const char *const h[] = { "USER", "CALL", "M", "STATE", "Q", "LOSS%", "JITMS", "LATCHED FROM",
						 ">CORE", ">ACCESS", "PKT/S", "IDLE", "DROP", "ACTIVITY" };
		static const int w[] = { 10, 6, 1, 8, 4, 5, 5, 21, 7, 7, 5, 4, 4, 16 };
		t->title = "Calls and streams";
		t->ncols = 14;
		for (int c = 0; c < t->ncols; c++) {
			t->head[c] = h[c];
			t->width[c] = w[c];
			t->numeric[c] = c == 2 || (c >= 4 && c <= 6) || (c >= 8 && c <= 12);
		}
		for (int i = 0; i < m->nstr; i++) {
			const dash_stream *s = &m->str[i];
			char spark[DASH_HIST + 1], pps[16];
			if ((r = add_row(t, &cap)) < 0)
				return -1;
			dash_spark(s->hist, DASH_HIST, spark, sizeof(spark));
			dash_si(s->pps_core + s->pps_access, pps, sizeof(pps));
			set(t, r, 0, "%s", s->user);
			set(t, r, 1, "%06x", dash_tag(s->call_id));
			set(t, r, 2, "%d", s->index);
			set(t, r, 3, "%s%s", s->state, s->held ? "/h" : "");
			dash_quality_cells(s, t->cell[r][4], t->cell[r][5], t->cell[r][6], DASH_CELL);
			set(t, r, 7, "%s", strcmp(s->latched, "-") ? s->latched : "(learning)");
			set(t, r, 8, "%llu", (unsigned long long)s->to_core);
			set(t, r, 9, "%llu", (unsigned long long)s->to_access);
			set(t, r, 10, "%s", pps);
			set(t, r, 11, "%.0f", m->now_s - s->seen_s);
			set(t, r, 12, "%llu", (unsigned long long)s->dropped);
			set(t, r, 13, "%s", spark);
		}
	} else if (p == DASH_NATS) {
		static const char *const h[] = { "NAT", "PROT", "INTERNAL", "EXTERNAL", "STATE", "AGE", "EXPIRE",
						 "OUT", "IN", "CLASS", "REMOTE" };
		static const int w[] = { 7, 4, 21, 21, 9, 5, 6, 6, 6, 9, 21 };
		t->title = "NAT tables";
		t->ncols = 11;
		for (int c = 0; c < t->ncols; c++) {
			t->head[c] = h[c];
			t->width[c] = w[c];
			t->numeric[c] = c >= 5 && c <= 8;
		}
		for (int i = 0; i < m->nnat; i++) {
			const dash_nat *x = &m->nat[i];
			if ((r = add_row(t, &cap)) < 0)
				return -1;
			set(t, r, 0, "%s", x->nat);
			set(t, r, 1, "%s", x->proto);
			set(t, r, 2, "%s", x->internal);
			set(t, r, 3, "%s", x->external);
			set(t, r, 4, "%s", x->state);
			set(t, r, 5, "%.1f", x->age_s);
			set(t, r, 6, "%.1f", x->ttl_s);
			set(t, r, 7, "%llu", (unsigned long long)x->out);
			set(t, r, 8, "%llu", (unsigned long long)x->in);
			set(t, r, 9, "%s", x->cls);
			set(t, r, 10, "%s", x->remote);
		}
	} else if (p == DASH_CALLS) {
		if (dash_calls_rows(m, t) < 0)
			return -1;
	} else if (p == DASH_TOPO) {
		if (dash_topo_rows(m, t) < 0)
			return -1;
	} else {
		static const char *const h[] = { "AT (s)", "EVENT", "USER", "DETAILS" };
		static const int w[] = { 12, 15, 10, 0 };
		t->title = "Events";
		t->ncols = 4;
		for (int c = 0; c < t->ncols; c++) {
			t->head[c] = h[c];
			t->width[c] = w[c];
			t->numeric[c] = c == 0;
		}
		for (int i = 0; i < m->nev; i++) {
			/* newest first */
			int k = ((m->ev_head - 1 - i) % DASH_EVENTS + DASH_EVENTS) % DASH_EVENTS;
			const char *e = m->events[k];
			if ((r = add_row(t, &cap)) < 0)
				return -1;
			for (int c = 0; c < 4 && e; c++) {
				const char *tab = c < 3 ? strchr(e, '\t') : NULL;
				int len = tab ? (int)(tab - e) : (int)strlen(e);
				set(t, r, c, "%.*s", len, e);
				e = tab ? tab + 1 : NULL;
			}
		}
	}
	/* filter, then sort what is left */
	for (int i = 0, k = 0, n = t->nrows; i < n; i++) {
		if (!row_has(t, i, filter)) {
			t->nrows--;
			continue;
		}
		if (k != i)
			memcpy(t->cell[k], t->cell[i], sizeof(t->cell[0]));
		k++;
	}
	if (scol >= 0 && scol < t->ncols && t->nrows > 1) {
		sort_col = scol;
		sort_desc = desc;
		sort_t = t;
		qsort(t->cell, (size_t)t->nrows, sizeof(t->cell[0]), cmp_rows);
	}
	return 0;
}

void dash_table_free(dash_table *t)
{
	free(t->cell);
	t->cell = NULL;
	t->nrows = 0;
}
