/* dash.c - `traverse dash --attach SOCKET`: live curses monitoring of a
 * running traverse-proxy through its control socket (docs/dashboard.md).
 *
 * Two connections to the socket: one asks `stats`, `bindings` and
 * `streams` once per interval, the other is subscribed to `events`. The
 * answers are applied to a dash_model (plain data: the dashboard never
 * holds anything of the proxy's), the panes are tables made from it
 * (dash_model.c), and only this file knows curses. The proxy buffers what
 * a slow terminal has not read and never waits for it. */
#include "dash.h"
#include "dash_priv.h"

#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

const char dash_usage[] =
	"usage: traverse dash --attach SOCKET [--interval SECONDS]\n"
	"\n"
	"Live monitoring of a running traverse-proxy in the terminal (curses):\n"
	"totals and rates, bindings, calls and streams, the event log. It\n"
	"attaches to the proxy's control socket (`control =` in its config) and\n"
	"asks it for a snapshot every interval; it never slows the proxy.\n"
	"\n"
	"  --attach SOCKET    the control socket [$TRAVERSE_CTL]\n"
	"  --interval SECONDS between snapshots, 0.1 to 60 [1]\n"
	"  -h, --help         this help\n"
	"\n"
	"Keys: 1 2 3 4 or Tab: bindings, streams, events, NAT tables (simulation);\n"
	"5 6: SIP calls and their ladders, topology (simulation);\n"
	"Up/Down/PgUp/PgDn: select;\n"
	"Enter: details of the selected row; /: filter (Enter keeps, Esc clears);\n"
	"s: sort by the next column, S: reverse; p: pause; ?: help; q: quit.\n"
	"Works in 80x24 and larger, with or without colour (docs/dashboard.md).\n"
	"A scenario in simulation under the same screen: traverse run --dash FILE.\n"
	"\n"
	"Exit status: 0 on q, 1 if the proxy goes away, 2 on usage errors or when\n"
	"the socket cannot be reached.\n";

static double now_s(const struct dash *d)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - d->t0.tv_sec) + (double)(t.tv_nsec - d->t0.tv_nsec) / 1e9;
}

static int ctl_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_line(int fd, const char *s)
{
	size_t n = strlen(s);

	return write(fd, s, n) == (ssize_t)n ? 0 : -1;
}

/* Read what is there; apply each complete line. -1 when the proxy closed. */
static int pump(struct dash *d, struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - 1 - c->have);
		char *p, *nl;
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->have += (size_t)n;
		c->buf[c->have] = '\0';
		for (p = c->buf; (nl = strchr(p, '\n')); p = nl + 1) {
			*nl = '\0';
			if (nl > p)
				dash_apply_line(&d->m, p, now_s(d));
		}
		c->have -= (size_t)(p - c->buf);
		memmove(c->buf, p, c->have);
		if (c->have == sizeof(c->buf) - 1)
			c->have = 0;    /* a line over 1 MiB: dropped, counted as bad below */
	}
}

/* ---- drawing ---- */

enum { C_BAR = 1, C_HEAD, C_WARN, C_BAD, C_SEL };

static void style_on(struct dash *d, int pair, int extra)
{
	attron(extra | (d->colour ? COLOR_PAIR(pair) : 0));
}

static void style_off(struct dash *d, int pair, int extra)
{
	attroff(extra | (d->colour ? COLOR_PAIR(pair) : 0));
}

/* Print s at (y, x), at most w columns, padded to w if pad. */
static void put(int y, int x, int w, const char *s, bool pad)
{
	int n = (int)strlen(s);

	if (w <= 0)
		return;
	mvaddnstr(y, x, s, n < w ? n : w);
	for (int i = n; pad && i < w; i++)
		addch(' ');
}

static void draw_header(struct dash *d, int w)
{
	char l[512], a[16], b[16], e[16], f[16], drops[400];
	const dash_model *m = &d->m;

	style_on(d, C_BAR, A_REVERSE);
	if (d->sim) {
		const char *base = strrchr(m->scn.file, '/');
		/* the file last: a long name is what the edge cuts */
		snprintf(l, sizeof(l), " %s t=%.3fs x%g checks %d, failed %d  %s:%d",
			 m->scn.done ? (m->scn.failed ? "[DONE: FAIL]" : "[DONE: PASS]") : d->paused ? "[PAUSED]"
											 : "[RUNNING]",
			 m->scn.vnow_s, d->speed, m->scn.checks, m->scn.failed, base ? base + 1 : m->scn.file,
			 m->scn.line);
	} else
		snprintf(l, sizeof(l), " traverse dash  %s  t+%.0fs  snapshot %lu%s", d->sock, m->now_s, m->snapshots,
			 d->paused ? "  [PAUSED]" : d->gone ? "  [PROXY GONE]" : "");
	put(0, 0, w, l, true);
	style_off(d, C_BAR, A_REVERSE);
	snprintf(l, sizeof(l), "bindings %llu  calls %d  streams %llu  legs %llu  untrusted %llu  keepalives %llu/%llu",
		 (unsigned long long)dash_stat(m, "bindings"), dash_calls(m), (unsigned long long)dash_stat(m, "streams"),
		 (unsigned long long)dash_stat(m, "legs"), (unsigned long long)dash_stat(m, "untrusted"),
		 (unsigned long long)dash_stat(m, "ka-answered"), (unsigned long long)dash_stat(m, "ka-sent"));
	put(1, 0, w, l, true);
	dash_si(m->pps_core, a, sizeof(a));
	dash_si(m->bps_core, b, sizeof(b));
	dash_si(m->pps_access, e, sizeof(e));
	dash_si(m->bps_access, f, sizeof(f));
	snprintf(l, sizeof(l), "to core %5s pkt/s %6s bit/s   to access %5s pkt/s %6s bit/s", a, b, e, f);
	put(2, 0, w, l, true);
	dash_drops(m, drops, sizeof(drops));
	snprintf(l, sizeof(l), "drops: %s", drops);
	if (strcmp(drops, "none"))
		style_on(d, C_BAD, A_BOLD);
	put(3, 0, w, l, true);
	if (strcmp(drops, "none"))
		style_off(d, C_BAD, A_BOLD);
}

static void draw_tabs(struct dash *d, const dash_table *t, int w)
{
	static const char *const names[] = { "1 Bindings", "2 Streams", "3 Events", "4 NATs", "5 Calls", "6 Topology" };
	char right[128];
	int x = 0;

	move(4, 0);
	clrtoeol();
	for (int i = 0; i < DASH_NPANES; i++) {
		if (i == (int)d->pane)
			style_on(d, C_SEL, A_REVERSE | A_BOLD);
		put(4, x, w - x, names[i], false);
		if (i == (int)d->pane)
			style_off(d, C_SEL, A_REVERSE | A_BOLD);
		x += (int)strlen(names[i]) + (i + 1 < DASH_NPANES ? 2 : 1);
	}
	/* what fits: rows, filter and sort; else rows and one of them; else filter and sort; else the filter */
	char rows[24], fl[96] = "", so[64] = "";
	snprintf(rows, sizeof(rows), "%d rows", t->nrows);
	if (d->pane == DASH_CALLS && d->ladder) {
		const dash_call *c = dash_call_find(&d->m, d->ladder_key);
		snprintf(rows, sizeof(rows), "%d msgs", c ? c->nmsg : 0);
	}
	if (d->filter[0] || d->editing)
		snprintf(fl, sizeof(fl), "filter: %s%s", d->filter, d->editing ? "_" : "");
	if (d->sort[d->pane] >= 0)
		snprintf(so, sizeof(so), "sort: %s%s", t->head[d->sort[d->pane]], d->desc[d->pane] ? " (desc)" : "");
	const char *const parts[5][3] = { { rows, fl, so }, { rows, fl, "" }, { rows, so, "" }, { fl, so, "" },
					  { fl, "", "" } };
	for (int v = 0; v < 5; v++) {
		right[0] = '\0';
		for (int i = 0; i < 3; i++)
			if (parts[v][i][0])
				snprintf(right + strlen(right), sizeof(right) - strlen(right), "%s%s", right[0] ? "  " : "",
					 parts[v][i]);
		if (x + (int)strlen(right) <= w) {
			put(4, w - (int)strlen(right), (int)strlen(right), right, false);
			break;
		}
	}
}

/* Column positions: as many columns as fit; a column of width 0 takes the
 * rest of the line, the last one visible is cut at the edge. */
static int layout(const dash_table *t, int w, int *xs, int *ws)
{
	int x = 0, n = 0;

	for (int c = 0; c < t->ncols && x < w; c++) {
		int want = t->width[c] ? t->width[c] : w - x;
		xs[c] = x;
		ws[c] = want < w - x ? want : w - x;
		x += ws[c] + 1;
		n = c + 1;
	}
	return n;
}

static void draw_table(struct dash *d, const dash_table *t, int y0, int h, int w)
{
	int xs[DASH_COLS], ws[DASH_COLS], n = layout(t, w, xs, ws);
	int *sel = &d->sel[d->pane], *top = &d->top[d->pane];

	style_on(d, C_HEAD, A_BOLD | A_UNDERLINE);
	move(y0, 0);
	clrtoeol();
	for (int c = 0; c < n; c++) {
		int len = (int)strlen(t->head[c]);
		if (t->numeric[c] && len < ws[c])       /* over right-aligned numbers */
			put(y0, xs[c] + ws[c] - len, len, t->head[c], false);
		else
			put(y0, xs[c], ws[c], t->head[c], true);
	}
	style_off(d, C_HEAD, A_BOLD | A_UNDERLINE);
	if (*sel >= t->nrows)
		*sel = t->nrows - 1;
	if (*sel < 0)
		*sel = 0;
	if (*sel < *top)
		*top = *sel;
	if (*sel >= *top + h - 1)
		*top = *sel - h + 2;
	if (*top < 0)
		*top = 0;
	for (int i = 0; i < h - 1; i++) {
		int r = *top + i, y = y0 + 1 + i;
		move(y, 0);
		clrtoeol();
		if (r >= t->nrows)
			continue;
		bool learning = d->pane == DASH_STREAMS && !strcmp(t->cell[r][7], "(learning)");
		if (r == *sel)
			style_on(d, C_SEL, A_REVERSE);
		else if (learning)
			style_on(d, C_WARN, 0);
		for (int c = 0; c < n; c++) {
			const char *s = t->cell[r][c];
			int len = (int)strlen(s);
			if (t->numeric[c] && len < ws[c])
				put(y, xs[c] + ws[c] - len, len, s, false);
			else
				put(y, xs[c], ws[c], s, r == *sel);
		}
		if (r == *sel)
			style_off(d, C_SEL, A_REVERSE);
		else if (learning)
			style_off(d, C_WARN, 0);
	}
	if (t->nrows == 0)
		put(y0 + 1, 0, w,
		    d->filter[0] ? "(nothing matches the filter)"
		    : d->pane == DASH_NATS && !d->sim ? "(NAT tables: in simulation only, traverse run --dash FILE)"
		    : d->pane == DASH_TOPO && !d->sim ? "(topology: in simulation only, traverse run --dash FILE)"
						      : "(none)",
		    false);
}

/* Pane 5's ladder: the participants' names, then one line per message,
 * scrolled to keep the selected one in view. */
static void draw_ladder(struct dash *d, int y0, int h, int w)
{
	dash_ladder l;

	for (int y = y0; y < y0 + h; y++) {
		move(y, 0);
		clrtoeol();
	}
	if (dash_ladder_make(&d->m, d->ladder_key, w, &l) < 0) {
		put(y0, 0, w, "(the call is no longer kept; Esc: back to the list)", false);
		return;
	}
	style_on(d, C_HEAD, A_BOLD | A_UNDERLINE);
	put(y0, 0, w, l.head, true);
	style_off(d, C_HEAD, A_BOLD | A_UNDERLINE);
	if (d->lsel >= l.nlines)
		d->lsel = l.nlines - 1;
	if (d->lsel < 0)
		d->lsel = 0;
	if (d->lsel < d->ltop)
		d->ltop = d->lsel;
	if (d->lsel >= d->ltop + h - 1)
		d->ltop = d->lsel - h + 2;
	if (d->ltop < 0)
		d->ltop = 0;
	for (int i = 0; i < h - 1 && d->ltop + i < l.nlines; i++) {
		int r = d->ltop + i;
		if (r == d->lsel)
			style_on(d, C_SEL, A_REVERSE);
		put(y0 + 1 + i, 0, w, l.line[r], r == d->lsel);
		if (r == d->lsel)
			style_off(d, C_SEL, A_REVERSE);
	}
	dash_ladder_free(&l);
}

static void draw_box(struct dash *d, const char *title, const char *const *lines, int n, int h, int w)
{
	int bw = w - 4 < 76 ? w - 4 : 76, bh = n + 2 < h - 2 ? n + 2 : h - 2, y0 = (h - bh) / 2, x0 = (w - bw) / 2;

	if (bw < 10 || bh < 3)
		return;
	style_on(d, C_BAR, 0);
	for (int y = 0; y < bh; y++) {
		move(y0 + y, x0);
		for (int x = 0; x < bw; x++)
			addch(y == 0 || y == bh - 1 ? '-' : x == 0 || x == bw - 1 ? '|' : ' ');
	}
	put(y0, x0 + 2, bw - 4, title, false);
	for (int i = 0; i < bh - 2; i++)
		put(y0 + 1 + i, x0 + 2, bw - 4, lines[i], false);
	style_off(d, C_BAR, 0);
}

static void draw_help(struct dash *d, int h, int w)
{
	static const char *const l[] = {
		"1 2 3 4, Tab, S-Tab    bindings, streams, event log, NAT tables",
		"5 6                    SIP calls (Enter: ladder, Esc: back), topology",
		"Up Down PgUp PgDn      select a row (Home, End)",
		"Enter                  details of the selected row",
		"/                      filter rows by text (Enter keeps it, Esc clears)",
		"s  S                   sort by the next column; reverse the order",
		"p                      pause: the screen holds still",
		"n  + -                 simulation: one event on; speed x0.1 to x1000",
		"?                      this help (any key closes it)",
		"q                      quit (simulation: the rest runs, then the report)",
		"",
		"Streams: LATCHED FROM is where the relay sends media, (learning) until",
		"the first packet; PKT/S both ways over the last interval; IDLE: seconds",
		"since packets last moved; ACTIVITY: packets/s, last 16 snapshots.",
	};

	draw_box(d, " help ", l, (int)(sizeof(l) / sizeof(l[0])), h, w);
}

static void draw_details(struct dash *d, const dash_table *t, int h, int w)
{
	char lines[DASH_COLS + 10][160];
	const char *lp[DASH_COLS + 10];
	int n = 0, r = d->sel[d->pane];

	if (d->pane == DASH_CALLS && d->ladder) {
		dash_ladder l;
		if (dash_ladder_make(&d->m, d->ladder_key, w, &l) < 0 || d->lsel < 0 || d->lsel >= l.nlines) {
			dash_ladder_free(&l);
			d->details = false;
			return;
		}
		const dash_sip_msg *s = l.msg[d->lsel];
		snprintf(lines[n++], sizeof(lines[0]), "%-9s %.6f s", "time", s->t);
		snprintf(lines[n++], sizeof(lines[0]), "%-9s %s -> %s", "hop", s->hop_from, s->hop_to);
		snprintf(lines[n++], sizeof(lines[0]), "%-9s %s -> %s (%s)", "addresses", s->src, s->dst, s->proto);
		snprintf(lines[n++], sizeof(lines[0]), "%-9s %s", "first", s->first);
		snprintf(lines[n++], sizeof(lines[0]), "%-9s %s", "CSeq", s->cseq);
		snprintf(lines[n++], sizeof(lines[0]), "%-9s %s", "Call-ID", s->call_id);
		dash_ladder_free(&l);
		for (int i = 0; i < n; i++)
			lp[i] = lines[i];
		draw_box(d, " message (any key closes) ", lp, n, h, w);
		return;
	}
	if (r < 0 || r >= t->nrows) {
		d->details = false;
		return;
	}
	for (int c = 0; c < t->ncols && n < DASH_COLS; c++)
		/* a stream's Q, LOSS% and JITMS are in its quality lines below,
		 * in full: the box then fits 24 rows */
		if (d->pane != DASH_STREAMS || c < 4 || c > 6)
			snprintf(lines[n++], sizeof(lines[0]), "%-14s %s", t->head[c], t->cell[r][c]);
	if (d->pane == DASH_STREAMS)
		for (int i = 0; i < d->m.nstr; i++) {
			const dash_stream *s = &d->m.str[i];
			if (strcmp(s->user, t->cell[r][0]) || s->index != atoi(t->cell[r][2]) ||
			    dash_tag(s->call_id) != strtoul(t->cell[r][1], NULL, 16))
				continue;
			snprintf(lines[n++], sizeof(lines[0]), "%-14s %s", "Call-ID", s->call_id);
			snprintf(lines[n++], sizeof(lines[0]), "%-14s %s", "SDP (access)", s->access);
			snprintf(lines[n++], sizeof(lines[0]), "%-14s %llu bytes to core, %llu to access", "bytes",
				 (unsigned long long)s->bytes_core, (unsigned long long)s->bytes_access);
			n += dash_quality_lines(s, lines + n, (int)(sizeof(lines) / sizeof(lines[0])) - n);
			break;
		}
	for (int i = 0; i < n; i++)
		lp[i] = lines[i];
	draw_box(d, " details (any key closes) ", lp, n, h, w);
}

void dash_draw(struct dash *d)
{
	int h, w;
	dash_table t;

	getmaxyx(stdscr, h, w);
	erase();
	if (h < 10 || w < 40) {
		put(0, 0, w, "traverse dash: the terminal is too small (40x10 at least)", false);
		refresh();
		return;
	}
	if (dash_rows(&d->m, d->pane, d->filter, d->sort[d->pane], d->desc[d->pane], &t) < 0) {
		put(0, 0, w, "traverse dash: out of memory", false);
		refresh();
		return;
	}
	draw_header(d, w);
	draw_tabs(d, &t, w);
	if (d->pane == DASH_CALLS && d->ladder)
		draw_ladder(d, 5, h - 6, w);
	else
		draw_table(d, &t, 5, h - 6, w);
	style_on(d, C_BAR, A_REVERSE);
	if (d->m.err[0] && d->m.bad_answers)
		put(h - 1, 0, w, d->m.err, true);
	else
		put(h - 1, 0, w, d->sim && d->m.scn.done ? " q quit (the report follows)  1-6 pane  / filter  s sort  ? help"
				 : d->sim ? " q leave  1-6 pane  p pause  n step  + - speed  / filter  s sort  ? help"
				       : " q quit  1-6/Tab pane  / filter  s sort  p pause  Enter details  ? help",
		    true);
	style_off(d, C_BAR, A_REVERSE);
	if (d->help)
		draw_help(d, h, w);
	else if (d->details)
		draw_details(d, &t, h, w);
	dash_table_free(&t);
	refresh();
}

static FILE *tty_out, *tty_in;

int dash_screen_open(struct dash *d)
{
	if (isatty(STDOUT_FILENO) && isatty(STDIN_FILENO))
		initscr();
	else {
		/* stdout is the report's (traverse run --dash >report.txt): the
		 * screen goes to the terminal itself */
		tty_out = fopen("/dev/tty", "w");
		tty_in = fopen("/dev/tty", "r");
		if (!tty_out || !tty_in || !newterm(NULL, tty_out, tty_in)) {
			if (tty_out)
				fclose(tty_out);
			if (tty_in)
				fclose(tty_in);
			tty_out = tty_in = NULL;
			return -1;
		}
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors()) {
		d->colour = true;
		start_color();
		use_default_colors();
		init_pair(C_BAR, COLOR_CYAN, -1);
		init_pair(C_HEAD, COLOR_CYAN, -1);
		init_pair(C_WARN, COLOR_YELLOW, -1);
		init_pair(C_BAD, COLOR_RED, -1);
		init_pair(C_SEL, COLOR_GREEN, -1);
	}
	return 0;
}

void dash_screen_close(void)
{
	endwin();
	if (tty_out) {
		fclose(tty_out);
		fclose(tty_in);
		tty_out = tty_in = NULL;
	}
}

/* ---- keys ---- */

/* false: quit */
/* x0.1 x0.2 x0.5 x1 x2 x5 ... x1000 */
static double speed_next(double v, bool up)
{
	static const double steps[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
	int n = (int)(sizeof(steps) / sizeof(steps[0])), i = 0;

	while (i < n - 1 && steps[i] < v - 1e-9)
		i++;
	i += up ? 1 : -1;
	return steps[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* Enter on the call list: the selected call's ladder, from its start. */
static void open_ladder(struct dash *d)
{
	dash_table t;
	int r = d->sel[DASH_CALLS];

	if (dash_rows(&d->m, DASH_CALLS, d->filter, d->sort[DASH_CALLS], d->desc[DASH_CALLS], &t) < 0)
		return;
	if (r >= 0 && r < t.nrows) {
		snprintf(d->ladder_key, sizeof(d->ladder_key), "%s", t.cell[r][7]);
		d->ladder = true;
		d->lsel = d->ltop = 0;
	}
	dash_table_free(&t);
}

/* A key the ladder takes (true), else the panes' own. */
static bool ladder_key(struct dash *d, int k)
{
	switch (k) {
	case 27: case KEY_BACKSPACE: case 127: case 8: case KEY_LEFT: case 'b':
		d->ladder = false;
		return true;
	case KEY_UP: case 'k':
		d->lsel--;
		return true;
	case KEY_DOWN: case 'j':
		d->lsel++;
		return true;
	case KEY_PPAGE:
		d->lsel -= 10;
		return true;
	case KEY_NPAGE:
		d->lsel += 10;
		return true;
	case KEY_HOME:
		d->lsel = 0;
		return true;
	case KEY_END:
		d->lsel = 1 << 30;
		return true;
	case '\n': case KEY_ENTER:
		d->details = true;
		return true;
	case '/': case 's': case 'S':
		return true;    /* the list's filter and sort stay as they were */
	default:
		return false;
	}
}

bool dash_key(struct dash *d, int k)
{
	int *sel = &d->sel[d->pane];

	if (d->help || d->details) {
		d->help = d->details = false;
		return true;
	}
	if (d->editing) {
		size_t n = strlen(d->filter);
		if (k == '\n' || k == KEY_ENTER)
			d->editing = false;
		else if (k == 27) {
			d->editing = false;
			d->filter[0] = '\0';
		} else if ((k == KEY_BACKSPACE || k == 127 || k == 8) && n)
			d->filter[n - 1] = '\0';
		else if (k >= 32 && k < 127 && n + 1 < sizeof(d->filter)) {
			d->filter[n] = (char)k;
			d->filter[n + 1] = '\0';
		}
		return true;
	}
	if (d->pane == DASH_CALLS && d->ladder && ladder_key(d, k))
		return true;
	switch (k) {
	case 'q': case 'Q':
		return false;
	case '1': case '2': case '3': case '4': case '5': case '6':
		d->pane = (enum dash_pane)(k - '1');
		break;
	case 'n':
		if (d->sim) {
			d->paused = true;
			d->step = true;
		}
		break;
	case '+': case '=':
		if (d->sim && d->speed < 1000)
			d->speed = speed_next(d->speed, true);
		break;
	case '-':
		if (d->sim && d->speed > 0.1)
			d->speed = speed_next(d->speed, false);
		break;
	case '\t':
		d->pane = (enum dash_pane)((d->pane + 1) % DASH_NPANES);
		break;
	case KEY_BTAB:
		d->pane = (enum dash_pane)((d->pane + DASH_NPANES - 1) % DASH_NPANES);
		break;
	case KEY_UP: case 'k':
		(*sel)--;
		break;
	case KEY_DOWN: case 'j':
		(*sel)++;
		break;
	case KEY_PPAGE:
		*sel -= 10;
		break;
	case KEY_NPAGE:
		*sel += 10;
		break;
	case KEY_HOME:
		*sel = 0;
		break;
	case KEY_END:
		*sel = 1 << 30;
		break;
	case '\n': case KEY_ENTER:
		if (d->pane == DASH_CALLS) {
			open_ladder(d);
			break;
		}
		d->details = true;
		break;
	case '/':
		d->editing = true;
		break;
	case 27:
		d->filter[0] = '\0';
		break;
	case 's': {
		dash_table t;
		int nc = dash_rows(&d->m, d->pane, NULL, -1, false, &t) == 0 ? t.ncols : 1;
		dash_table_free(&t);
		d->sort[d->pane] = d->sort[d->pane] + 1 >= nc ? -1 : d->sort[d->pane] + 1;
		break;
	}
	case 'S':
		d->desc[d->pane] = !d->desc[d->pane];
		break;
	case 'p': case 'P': case ' ':
		d->paused = !d->paused;
		break;
	case '?': case 'h':
		d->help = true;
		break;
	default:
		break;
	}
	return true;
}

static volatile sig_atomic_t stop_sig;
static void on_sig(int s) { stop_sig = s; }

int cmd_dash(int argc, char **argv)
{
	static struct dash d;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	d.sock = getenv("TRAVERSE_CTL");
	d.interval = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(dash_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--attach") && i + 1 < argc) {
			d.sock = argv[++i];
		} else if (!strncmp(argv[i], "--attach=", 9)) {
			d.sock = argv[i] + 9;
		} else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			char *end;
			d.interval = strtod(argv[++i], &end);
			if (*end || !(d.interval >= 0.1 && d.interval <= 60)) {
				fprintf(stderr, "traverse dash: --interval: '%s' (0.1 to 60 seconds)\n", argv[i]);
				return 2;
			}
		} else {
			fputs(dash_usage, stderr);
			return 2;
		}
	}
	if (!d.sock) {
		fprintf(stderr, "traverse dash: which proxy? --attach SOCKET (its `control =`), or $TRAVERSE_CTL\n");
		return 2;
	}
	d.ask.fd = ctl_open(d.sock);
	d.ev.fd = d.ask.fd >= 0 ? ctl_open(d.sock) : -1;
	if (d.ev.fd < 0 || send_line(d.ev.fd, "events\nsip\n") < 0) {
		fprintf(stderr, "traverse dash: %s: %s\n", d.sock, strerror(errno));
		if (d.ask.fd >= 0)
			close(d.ask.fd);
		return 2;
	}
	for (int i = 0; i < DASH_NPANES; i++)
		d.sort[i] = -1;
	clock_gettime(CLOCK_MONOTONIC, &d.t0);
	dash_model_init(&d.m);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	signal(SIGPIPE, SIG_IGN);
	if (dash_screen_open(&d) < 0) {
		fprintf(stderr, "traverse dash: needs a terminal\n");
		close(d.ask.fd);
		close(d.ev.fd);
		return 2;
	}
	while (!stop_sig) {
		struct pollfd pf[3] = { { .fd = 0, .events = POLLIN }, { .fd = d.gone ? -1 : d.ask.fd, .events = POLLIN },
					{ .fd = d.paused || d.gone ? -1 : d.ev.fd, .events = POLLIN } };
		double t = now_s(&d);
		int k;
		if (!d.paused && !d.gone && t >= d.next_ask) {
			if (send_line(d.ask.fd, "stats\nbindings\nstreams\n") < 0)
				d.gone = true;
			d.next_ask = t + d.interval;
		}
		if (!d.paused)
			dash_draw(&d);
		poll(pf, 3, d.paused ? 250 : (int)((d.next_ask - t) * 1000) + 1);
		if (pf[1].revents && !d.gone && pump(&d, &d.ask) < 0)
			d.gone = true;
		if (pf[2].revents && !d.gone && pump(&d, &d.ev) < 0)
			d.gone = true;
		while ((k = getch()) != ERR) {
			if (k == KEY_RESIZE)
				continue;
			if (!dash_key(&d, k)) {
				stop_sig = -1;
				break;
			}
			dash_draw(&d);
		}
	}
	dash_screen_close();
	if (d.gone) {
		fprintf(stderr, "traverse dash: the proxy went away (%s)\n", d.sock);
		rc = 1;
	}
	close(d.ask.fd);
	close(d.ev.fd);
	dash_model_free(&d.m);
	return rc;
}
