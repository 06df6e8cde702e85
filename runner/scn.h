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

typedef struct scn_stmt {
	int line;
	int argc;
	char *argv[SCN_MAX_ARGS];
} scn_stmt;

typedef struct scn_file {
	char *path;
	char *title;
	char *text;             /* owns the token storage */
	scn_stmt *stmts;
	int nstmts;
} scn_file;

typedef struct scn_result {
	const char *path;
	char title[160];
	bool passed;
	int expects, failed;
	char *failures;         /* newline-separated "file:line: message" */
	size_t failures_len;
	tv_time sim_time;
	uint64_t events;
	double wall_ms;
	uint64_t seed;
} scn_result;

typedef struct scn_opts {
	uint64_t seed;
	bool seed_set;
	const char *pcap_dir;   /* NULL: no captures */
	int verbose;
} scn_opts;

/* Read and tokenize. On error prints "file:line: ..." to stderr and
 * returns a negative value. */
int scn_load(const char *path, scn_file *f);
void scn_file_free(scn_file *f);
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
