/* dash_model.h - what the dashboard shows, as plain data (no curses).
 *
 * The dashboard never holds pointers into an engine: it reads snapshots.
 * Attached to a traverse-proxy, a snapshot is the JSON its control socket
 * answers (docs/control.md): `stats`, `bindings`, `streams`, and the event
 * lines of `events`. Each pane is a table of text cells made from the
 * latest snapshot (dash_rows), filtered and sorted here, drawn by
 * dash_view.c; so everything a user sees is testable without a terminal. */
#ifndef TV_DASH_MODEL_H
#define TV_DASH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define DASH_STAT_MAX 160
#define DASH_HIST 16            /* samples of a stream's packets/s (the sparkline) */
#define DASH_EVENTS 500         /* lines of the event log kept */
#define DASH_COLS 16
#define DASH_CELL 128

enum dash_pane { DASH_BINDINGS, DASH_STREAMS, DASH_EVENTS_PANE, DASH_NATS, DASH_NPANES };

typedef struct dash_stream {
	char key[160];          /* call_id/user/index: a stream across snapshots */
	char user[64], call_id[96], state[16], latched[24], access[24], core_remote[24];
	int index;
	bool held;
	uint64_t to_core, to_access, bytes_core, bytes_access, dropped;
	double pps_core, pps_access;    /* packets/s each way over the last interval */
	double hist[DASH_HIST];         /* total packets/s, oldest first */
	double seen_s;                  /* the model's clock when packets last moved */
	/* Quality as the proxy measured and estimated it (docs/control.md);
	 * [0] toward the core, [1] toward the terminal. Negative: not known
	 * (null in the answer, or an older proxy without the field). */
	struct dash_quality {
		uint64_t expected, lost;
		double loss, jitter_ms, age_ms, delay_ms, r, mos;
	} q[2];
	char codec[16], delay_src[8];   /* delay_src "rtcp", "config" or "" */
	unsigned clock_rate;
	bool clock_known;
	double rtt_ms, rtt_access_ms, rtt_core_ms;
} dash_stream;

typedef struct dash_binding {
	char user[64], nat[24], contact[24], core[24], transport[8];
	bool registered;
	uint64_t ka_sent, ka_answered, ka_misses;
} dash_binding;

/* A NAT's mapping (simulation only: `traverse run --dash`). */
typedef struct dash_nat {
	char nat[32], proto[6], internal[24], external[24], remote[24], state[16];
	double age_s, ttl_s;
	uint64_t out, in;
} dash_nat;

/* Where a scenario run is (simulation only). */
typedef struct dash_scn {
	char file[160];
	int line;
	double vnow_s;
	int checks, failed;
	bool done;
} dash_scn;

typedef struct dash_model {
	/* stats: name and value, in the proxy's order */
	struct { char name[48]; uint64_t v; } stat[DASH_STAT_MAX];
	int nstat;
	dash_binding *bind;
	int nbind;
	dash_stream *str;
	int nstr;
	dash_nat *nat;
	int nnat;
	dash_scn scn;
	bool have_scn;                  /* a scenario run feeds this model */
	char *events[DASH_EVENTS];      /* a ring: the newest at (ev_head - 1) */
	int ev_head, nev;
	uint64_t ev_total;
	double now_s;                   /* the model's clock: seconds since attach */
	double prev_s;                  /* when the previous stats came */
	double str_prev_s;              /* when the previous streams came */
	/* rates from the last two stats snapshots */
	double pps_core, pps_access, bps_core, bps_access;
	uint64_t prev_core, prev_access, prev_bcore, prev_baccess;
	bool have_prev;
	unsigned long snapshots;        /* stats answers applied */
	char err[160];                  /* the last malformed answer, if any */
	uint64_t bad_answers;
} dash_model;

/* One table of text: the pane's rows, each DASH_COLS cells at most. */
typedef struct dash_table {
	const char *title;
	int ncols;
	const char *head[DASH_COLS];
	int width[DASH_COLS];           /* wanted width; 0: the rest of the line */
	bool numeric[DASH_COLS];        /* right-aligned, sorted as numbers */
	char (*cell)[DASH_COLS][DASH_CELL];
	int nrows;
} dash_table;

void dash_model_init(dash_model *m);
void dash_model_free(dash_model *m);
/* Apply one line the control socket answered, at the model's time now_s.
 * 0, or -1 (counted in bad_answers, the reason in err) if it is not an
 * answer the dashboard knows. */
int dash_apply_line(dash_model *m, const char *line, double now_s);
/* A stats value by name (0 if absent). */
uint64_t dash_stat(const dash_model *m, const char *name);
/* Distinct calls (Call-IDs) among the streams. */
int dash_calls(const dash_model *m);
/* "rtp-foreign 3, sip-bad 1" from the drop.* counters; "none" if none. */
void dash_drops(const dash_model *m, char *out, size_t cap);
/* The pane as a table: filter keeps rows with the text in any cell
 * (case-insensitive; NULL or "" keeps all); sort_col < 0 keeps the model's
 * order, else sorts by that column (numbers as numbers), descending if
 * desc. The table's cells are allocated: dash_table_free. */
int dash_rows(const dash_model *m, enum dash_pane p, const char *filter, int sort_col, bool desc, dash_table *t);
void dash_table_free(dash_table *t);
/* The Streams pane's quality cells of s: Q (the lower MOS of the two
 * directions with one decimal and where the delay came from: "4.3r" RTCP
 * round trip, "4.3c" the configured delay; "-" no estimate), LOSS (the
 * higher loss in percent) and JITTER (the higher, ms). */
void dash_quality_cells(const dash_stream *s, char *q, char *loss, char *jit, size_t cap);
/* The details box's quality lines of s: at most max lines of cap bytes;
 * returns how many. */
int dash_quality_lines(const dash_stream *s, char (*lines)[160], int max);
/* A short tag of a Call-ID (24 bits of FNV-1a): the CALL column. */
unsigned dash_tag(const char *call_id);
/* A sparkline of n samples in ASCII (" .:-=+*#%@"), scaled to the largest. */
void dash_spark(const double *v, int n, char *out, size_t cap);
/* "12.3k" style: n with a unit prefix, 5 characters at most. */
void dash_si(double n, char *out, size_t cap);

#endif
