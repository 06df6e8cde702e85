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

#include "sip_peek.h"

#define DASH_STAT_MAX 160
#define DASH_HIST 16            /* samples of a stream's packets/s (the sparkline) */
#define DASH_EVENTS 500         /* lines of the event log kept */
#define DASH_COLS 16
#define DASH_CELL 128

#define DASH_SIP_CALLS 200      /* calls (Call-IDs) kept: the oldest go first */
#define DASH_SIP_MSGS 500       /* messages kept per call: the oldest go first */
#define DASH_LADDER_COLS 10     /* participants drawn; more share the last column */
#define DASH_TOPO_LINKS 4       /* links a node of the topology sits on */

enum dash_pane { DASH_BINDINGS, DASH_STREAMS, DASH_EVENTS_PANE, DASH_NATS, DASH_CALLS, DASH_TOPO, DASH_NPANES };

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
	double ka_in_s;                 /* to its next keepalive, at seen_s; -1: none due */
	double seen_s;
} dash_binding;

/* A NAT's mapping (simulation only: `traverse run --dash`). */
typedef struct dash_nat {
	char nat[32], cls[24], proto[6], internal[24], external[24], remote[24], state[16];
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

/* One SIP message as the simulation delivered it on one link (a hop):
 * simulation only, `{"sip":{...}}` lines (docs/dashboard.md). */
typedef struct dash_sip_msg {
	double t;                       /* virtual time of delivery */
	char src[24], dst[24];          /* the IP header's addresses */
	char hop_from[32], hop_to[32];  /* who handed it over and who took it: names */
	char first[96];                 /* the first line, "(unparsed)" if none */
	char cseq[32];
	char call_id[128];              /* as written on this hop */
	char proto[4];
} dash_sip_msg;

/* The messages of one call: one Call-ID, grouped by its part before '@'
 * (the proxy rewrites the host part toward the core). */
typedef struct dash_call {
	char key[128];                  /* the Call-ID before '@' */
	char call_id[128];              /* the first form seen */
	char method[16];                /* the first request's */
	char from[32], to[32];          /* the users of From and To */
	char state[24];
	double t0, t1;                  /* first and last message */
	dash_sip_msg *msg;              /* oldest first */
	int nmsg, capmsg;
	uint64_t total;                 /* messages seen, kept or not */
} dash_call;

/* The scenario's topology (simulation only): nodes on links. */
typedef struct dash_topo_node {
	char name[32], kind[12], ip[40];
	char link[DASH_TOPO_LINKS][32];
	int nlinks;
} dash_topo_node;

typedef struct dash_topo_link {
	char name[32];
	uint64_t delivered, lost;
	double pps;                     /* packets/s delivered over the last interval */
	double hist[DASH_HIST];
	double active_s;                /* the model's clock when it last carried packets; <0 never */
} dash_topo_link;

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
	dash_call *calls;               /* oldest first, DASH_SIP_CALLS at most */
	int ncalls;
	uint64_t calls_dropped, sip_total;
	dash_topo_node *tnode;
	int ntnode;
	dash_topo_link *tlink;
	int ntlink;
	double topo_prev_s;
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
/* Building a table: a new empty row (its index, or -1 out of memory; cap is
 * the caller's count of rows allocated), and a cell's text. */
int dash_table_add(dash_table *t, int *cap);
void dash_table_set(dash_table *t, int r, int c, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
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

/* ---- calls and their ladders (dash_calls.c; simulation only) ---- */

/* Apply a {"sip":{...}} object's value. 0, or -1 if it is not an object. */
int dash_apply_sip(dash_model *m, json_t *o);
void dash_calls_free(dash_model *m);
/* The call with this key (the Call-ID before '@'), or NULL. */
const dash_call *dash_call_find(const dash_model *m, const char *key);
/* The call list as a table (CALL, METHOD, FROM, TO, STATE, MSGS, START,
 * KEY): dash_rows(DASH_CALLS) uses it. */
int dash_calls_rows(const dash_model *m, dash_table *t);

/* What the simulation reads of a datagram (or of a TCP segment's first
 * message): the first line, Call-ID, CSeq, and the users of From and To
 * (long and compact header names, any case). 1 if it is SIP (a first line
 * of SIP, or a Call-ID header: first is then "(unparsed)"), 0 if not (RTP,
 * STUN, a CRLF keepalive). Reads at most n bytes, copies out printable
 * ASCII only (others as '?'), never fails on malformed input. */
typedef sip_peek_text dash_sip_text;
static inline int dash_sip_scan(const uint8_t *p, size_t n, dash_sip_text *out) { return sip_peek(p, n, out); }

/* A call's ladder drawn in width columns (sngrep's call flow): the
 * participants in the order they first appear, named on the head line, and
 * one line per message: its virtual time, an arrow from who handed it
 * over to who took it, the method or status. */
typedef struct dash_ladder {
	int ncols;
	char col[DASH_LADDER_COLS][32];
	char head[512];
	char (*line)[512];
	const dash_sip_msg **msg;       /* line i shows msg[i] */
	int nlines;
} dash_ladder;
int dash_ladder_make(const dash_model *m, const char *key, int width, dash_ladder *l);
void dash_ladder_free(dash_ladder *l);
/* "INVITE" for a request, "200 OK" for a response, "(unparsed)". */
void dash_sip_label(const dash_sip_msg *s, char *out, size_t cap);

/* ---- topology (dash_topo.c; simulation only) ---- */

/* Apply a {"topo":{"nodes":[...],"links":[...]}} object's value at now_s. */
int dash_apply_topo(dash_model *m, json_t *o, double now_s);
void dash_topo_free(dash_model *m);
/* The topology as a tree table (TOPOLOGY, PKTS, PKT/S, LOST, LIVE,
 * ACTIVITY): dash_rows(DASH_TOPO) uses it. */
int dash_topo_rows(const dash_model *m, dash_table *t);

#endif
