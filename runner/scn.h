/* scn.h - scenario files: parsing, validation, execution, reports.
 *
 * A scenario is a line-oriented file (grammar in docs/scenarios.md):
 * declarations build a topology, then statements run in order on a virtual
 * clock; "wait" and "at" move the clock; "expect" checks the state at that
 * moment. The same statement handlers run twice: once dry (names and
 * options checked, nothing built) and once for real, so a file that checks
 * clean cannot fail later on a typo. */
#ifndef TV_SCN_H
#define TV_SCN_H

#include <stdio.h>

#include "tv.h"

#define SCN_MAX_ARGS 32
#define SCN_MAX_STMTS 200000    /* after loops are expanded */

typedef struct scn_stmt {
	int line;
	int argc;
	char *argv[SCN_MAX_ARGS];
	const char *where;      /* inside loops: "p=20004 i=2", for messages; else NULL */
} scn_stmt;

/* One "matrix NAME in ..." line: the values the variant takes. */
typedef struct scn_dim {
	const char *name;
	int line;
	int nvals;
	char **vals;
} scn_dim;

struct scn_arena;

typedef struct scn_file {
	char *path;
	char *title;
	char *text;             /* owns the raw token storage */
	scn_stmt *raw;          /* as written, set/repeat/for/matrix included */
	int nraw;
	int *close;             /* close[i]: the '}' of a block opened at raw[i] */
	scn_dim *dims;
	int ndims;
	struct scn_arena *dim_arena;
	int nvariants;          /* product of the matrix sizes; 1 without a matrix */
	int variant;            /* the one selected */
	bool live;              /* expand with LIVE=1 (traverse run --live), else LIVE=0 */
	char variant_name[256]; /* "mode=strict when=mid"; "" without a matrix */
	struct scn_arena *arena;        /* words made by substitution */
	scn_stmt *stmts;        /* the selected variant, expanded: what runs */
	int nstmts;
} scn_file;

typedef struct scn_result {
	const char *path;
	char title[160];
	char variant[256];      /* the matrix values of this run; "" if none */
	char *shows;            /* "show" lines: "file:line\tTIME_US\tTEXT\n"... */
	size_t shows_len;
	bool passed;
	bool skipped;           /* --live: not run; skip_reason says why */
	int unchecked;          /* checks of what a proxy or softswitch knows inside, not made
				   because it is external (--proxy, --softswitch) */
	char skip_reason[160];
	int expects, failed;
	char *failures;         /* newline-separated "file:line: message" */
	char *findings;         /* newline-separated faults named (scn_findings.c) */
	size_t findings_len;
	size_t failures_len;
	tv_time sim_time;
	uint64_t events;
	double wall_ms;
	uint64_t seed;
} scn_result;

struct scn_ctx;
struct proxy_event;

/* --dash: a watcher of a run in simulation (tui/dash_sim.c). */
typedef struct scn_watcher {
	void *arg;
	/* Run the network to virtual time t (sim_net_run_until on the run's
	 * network), at the watcher's own pace; called wherever a run would. */
	void (*advance)(void *arg, struct scn_ctx *c, tv_time t);
	/* The simulated proxies' events (docs/control.md), or NULL. */
	void (*proxy_event)(void *arg, const struct proxy_event *e);
	/* An action of the timeline about to run (call, fault, send, ...; not
	 * wait, expect or show), or NULL. */
	void (*action)(void *arg, struct scn_ctx *c, const struct scn_stmt *st);
} scn_watcher;

typedef struct scn_opts {
	uint64_t seed;
	bool seed_set;
	const char *pcap_dir;   /* NULL: no captures */
	int verbose;
	bool live;              /* --live: the proxy is a real traverse-proxy (scn_live.c) */
	int live_slot;          /* its addresses: 127.SLOT.0.0/16 */
	tv_time live_max;       /* longer scenarios are skipped live */
	tv_ep ext_proxy;        /* --proxy: a proxy Traverse did not start (port 0: none) */
	tv_ep ext_softswitch;   /* --softswitch: a real softswitch instead of the simulated one */
	tv_ep ss_listen;        /* with --proxy: where the simulated softswitch listens for it */
	bool netns;             /* --netns: live, inside a network namespace, addresses as written */
	int nat_kind;           /* --nat-kind: 0 as written, 1 linux, 2 linux with random-fully */
	bool sdp_names;         /* PROXY.PHONE.STREAM.rtp|rtcp|core-rtp|core-rtcp from the
				 * phones' SDP (scn_names.c), as with --proxy, even for a
				 * proxy Traverse runs: tests compare the two views */
	const scn_watcher *watch;       /* --dash: NULL, or who runs the clock */
} scn_opts;

/* Read, tokenize, check the block structure and expand variant 0. On
 * error prints "file:line: ..." to stderr and returns a negative value. */
int scn_load(const char *path, scn_file *f);
void scn_file_free(scn_file *f);
/* Expand variant k (0 <= k < f->nvariants) into f->stmts: 0, or -1 with
 * the errors printed. (scn_expand.c) */
int scn_select(scn_file *f, int variant);
int scn_structure(scn_file *f);
void scn_arena_free(struct scn_arena *a);
/* Validate without running: 0 or the number of errors (printed). */
int scn_check(const scn_file *f);
/* Run. Fills r (r->failures is malloc'd; free with scn_result_free). */
int scn_run(const scn_file *f, const scn_opts *o, scn_result *r);
void scn_result_free(scn_result *r);

/* Reports. */
void report_text(FILE *out, const scn_result *rs, int n);
int report_junit(const char *path, const scn_result *rs, int n);
int report_json(const char *path, const scn_result *rs, int n);

#endif
