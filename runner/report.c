/* report.c - run summaries: text for people, JUnit XML for CI, JSON for tools. */
#include <stdio.h>
#include "scn.h"

#include <stdlib.h>
#include <string.h>

/* The show lines of a result, "FILE:LINE\tTIME_US\tTEXT\n" each (written
 * by show_flush): the next one's parts, *p moved past it; false at the end.
 * ok is false for a line without its two tabs. */
typedef struct show_line {
	bool ok;
	const char *at, *time, *text;
	int at_len, time_len, text_len;
} show_line;

static bool show_next(const char **p, show_line *sl)
{
	const char *s = *p, *e, *t1, *t2;
	size_t len;

	if (!s || !*s)
		return false;
	e = strchr(s, '\n');
	len = e ? (size_t)(e - s) : strlen(s);
	t1 = memchr(s, '\t', len);
	t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(s + len - t1 - 1)) : NULL;
	sl->ok = t1 && t2;
	if (sl->ok) {
		sl->at = s;
		sl->at_len = (int)(t1 - s);
		sl->time = t1 + 1;
		sl->time_len = (int)(t2 - t1 - 1);
		sl->text = t2 + 1;
		sl->text_len = (int)(s + len - t2 - 1);
	}
	*p = s + len + (e ? 1 : 0);
	return true;
}

#define TBL_COLS 24
#define TBL_CELL 48

/* A row's cells: "k=v" pairs of the variant, then of every show line (the
 * text after "what: "; a later value of the same key replaces an earlier). */
typedef struct tbl_row {
	char key[TBL_COLS][TBL_CELL], val[TBL_COLS][TBL_CELL];
	int n;
} tbl_row;

static void row_put(tbl_row *r, const char *k, size_t kl, const char *v, size_t vl)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (strlen(r->key[i]) == kl && !strncmp(r->key[i], k, kl))
			break;
	if (i == TBL_COLS)
		return;
	if (i == r->n)
		r->n++;
	snprintf(r->key[i], TBL_CELL, "%.*s", (int)kl, k);
	snprintf(r->val[i], TBL_CELL, "%.*s", (int)vl, v);
}

/* "a=1 b=x y c=3": a value runs to the next word holding '='. */
static void row_pairs(tbl_row *r, const char *s, size_t len)
{
	const char *end = s + len;

	while (s < end) {
		const char *eq, *v, *next;
		while (s < end && *s == ' ')
			s++;
		eq = memchr(s, '=', (size_t)(end - s));
		if (!eq)
			return;
		v = eq + 1;
		next = v;
		for (;;) {
			const char *sp = memchr(next, ' ', (size_t)(end - next));
			const char *weq = sp ? memchr(sp + 1, '=', (size_t)(end - sp - 1)) : NULL;
			const char *sp2 = sp ? memchr(sp + 1, ' ', (size_t)(end - sp - 1)) : NULL;
			if (!sp) {
				next = end;
				break;
			}
			if (weq && (!sp2 || weq < sp2)) {
				next = sp;
				break;
			}
			next = sp + 1;
		}
		row_put(r, s, (size_t)(eq - s), v, (size_t)(next - v));
		s = next;
	}
}

static void row_of(tbl_row *row, const scn_result *r)
{
	show_line sl;

	memset(row, 0, sizeof(*row));
	row_pairs(row, r->variant, strlen(r->variant));
	row_put(row, "result", 6, r->passed ? "PASS" : "FAIL", 4);
	for (const char *p = r->shows; show_next(&p, &sl);) {
		const char *text = sl.text, *colon;
		if (!sl.ok)
			continue;
		colon = memmem(text, (size_t)sl.text_len, ": ", 2);
		if (colon && !memchr(text, '=', (size_t)(colon - text)))
			text = colon + 2;
		row_pairs(row, text, (size_t)(sl.text + sl.text_len - text));
	}
}

/* One table per matrix: a row per run, a column per matrix value, the
 * verdict and every value its show lines printed (Markdown). */
static void report_table(FILE *out, const scn_result *rs, int n)
{
	tbl_row *rows = calloc((size_t)n, sizeof(*rows)), cols;

	if (!rows)
		return;
	memset(&cols, 0, sizeof(cols));
	for (int i = 0; i < n; i++) {
		row_of(&rows[i], &rs[i]);
		for (int k = 0; k < rows[i].n; k++)
			row_put(&cols, rows[i].key[k], strlen(rows[i].key[k]), "", 0);
	}
	fprintf(out, "\nmatrix %s (%d runs):\n\n|", rs[0].path, n);
	for (int k = 0; k < cols.n; k++)
		fprintf(out, " %s |", cols.key[k]);
	fputs("\n|", out);
	for (int k = 0; k < cols.n; k++)
		fputs(" --- |", out);
	for (int i = 0; i < n; i++) {
		fputs("\n|", out);
		for (int k = 0; k < cols.n; k++) {
			const char *v = "";
			for (int j = 0; j < rows[i].n; j++)
				if (!strcmp(rows[i].key[j], cols.key[k]))
					v = rows[i].val[j];
			fprintf(out, " %s |", v);
		}
	}
	fputc('\n', out);
	free(rows);
}

void report_text(FILE *out, const scn_result *rs, int n)
{
	int passed = 0, failed = 0, expects = 0, skipped = 0;

	for (int i = 0; i < n; i++) {
		const scn_result *r = &rs[i];
		char t[32];
		show_line sl;
		expects += r->expects;
		if (r->skipped) {
			skipped++;
			fprintf(out, "SKIP  %-44s %s\n", r->path, r->skip_reason);
			continue;
		}
		if (r->passed)
			passed++;
		else
			failed++;
		fprintf(out, "%s  %-44s %3d checks  sim %-9s %7.1f ms  %s%s%s%s\n", r->passed ? "PASS" : "FAIL",
			r->path, r->expects, tv_time_fmt(r->sim_time, t, sizeof(t)), r->wall_ms, r->title,
			r->variant[0] ? " [" : "", r->variant, r->variant[0] ? "]" : "");
		if (r->unchecked)
			fprintf(out, "        (%d checks of what an external peer knows inside were not made)\n",
				r->unchecked);
		for (const char *p = r->shows; show_next(&p, &sl);)
			if (sl.ok)
				fprintf(out, "        show %-9s %.*s: %.*s\n",
					tv_time_fmt((tv_time)strtoll(sl.time, NULL, 10), t, sizeof(t)), sl.at_len, sl.at,
					sl.text_len, sl.text);
		for (const char *p = r->findings; p && *p;) {
			const char *e = strchr(p, '\n');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			fprintf(out, "        finding: %.*s\n", (int)len, p);
			p += len + (e ? 1 : 0);
		}
		if (!r->passed && r->failures)
			for (const char *p = r->failures; *p;) {
				const char *e = strchr(p, '\n');
				size_t len = e ? (size_t)(e - p) : strlen(p);
				fprintf(out, "        %.*s\n", (int)len, p);
				p += len + (e ? 1 : 0);
			}
	}
	for (int i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && rs[i].variant[0] && !strcmp(rs[j].path, rs[i].path); j++)
			;
		if (j - i > 1)
			report_table(out, rs + i, j - i);
	}
	if (skipped)
		fprintf(out, "\nscenarios: %d passed, %d failed, %d skipped (%d checks)\n", passed, failed, skipped,
			expects);
	else
		fprintf(out, "\nscenarios: %d passed, %d failed (%d checks)\n", passed, failed, expects);
}

static void xml_esc(FILE *fp, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '&': fputs("&amp;", fp); break;
		case '"': fputs("&quot;", fp); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, fp);
		}
	}
}

int report_junit(const char *path, const scn_result *rs, int n)
{
	FILE *fp = fopen(path, "w");
	int failed = 0;
	double total = 0;

	if (!fp)
		return -1;
	for (int i = 0; i < n; i++) {
		failed += !rs[i].passed;
		total += rs[i].wall_ms;
	}
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(fp, "<testsuite name=\"traverse-scenarios\" tests=\"%d\" failures=\"%d\" time=\"%.3f\">\n", n,
		failed, total / 1e3);
	for (int i = 0; i < n; i++) {
		const scn_result *r = &rs[i];
		fprintf(fp, "  <testcase classname=\"scenarios\" name=\"");
		xml_esc(fp, r->path);
		if (r->variant[0]) {
			fputs(" [", fp);
			xml_esc(fp, r->variant);
			fputc(']', fp);
		}
		fprintf(fp, "\" time=\"%.3f\">\n", r->wall_ms / 1e3);
		if (r->skipped) {
			fprintf(fp, "    <skipped message=\"");
			xml_esc(fp, r->skip_reason);
			fprintf(fp, "\"/>\n");
		}
		if (!r->passed) {
			fprintf(fp, "    <failure message=\"%d of %d checks failed\">", r->failed, r->expects);
			if (r->findings) {
				xml_esc(fp, r->findings);
				fputc('\n', fp);
			}
			xml_esc(fp, r->failures);
			fprintf(fp, "</failure>\n");
		}
		fprintf(fp, "    <system-out>");
		xml_esc(fp, r->title);
		fprintf(fp, " (seed %llu)\n", (unsigned long long)r->seed);
		xml_esc(fp, r->shows);
		fprintf(fp, "</system-out>\n  </testcase>\n");
	}
	fprintf(fp, "</testsuite>\n");
	return fclose(fp) == 0 ? 0 : -1;
}

static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if ((unsigned char)*s < 0x20)
			fprintf(fp, "\\u%04x", *s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

/* Each show line as {"at": "FILE:LINE", "time_us": N, "text": "..."}. */
static void json_shows(FILE *fp, const char *s)
{
	bool first = true;
	show_line sl;
	char buf[1024];

	for (const char *p = s; show_next(&p, &sl);) {
		if (!sl.ok)
			continue;
		fprintf(fp, "%s{\"at\": ", first ? "" : ", ");
		snprintf(buf, sizeof(buf), "%.*s", sl.at_len, sl.at);
		json_str(fp, buf);
		fprintf(fp, ", \"time_us\": %.*s, \"text\": ", sl.time_len, sl.time);
		snprintf(buf, sizeof(buf), "%.*s", sl.text_len, sl.text);
		json_str(fp, buf);
		fputc('}', fp);
		first = false;
	}
}

int report_json(const char *path, const scn_result *rs, int n)
{
	FILE *fp = fopen(path, "w");

	if (!fp)
		return -1;
	fprintf(fp, "{\"scenarios\": [\n");
	for (int i = 0; i < n; i++) {
		const scn_result *r = &rs[i];
		fprintf(fp, "  {\"path\": ");
		json_str(fp, r->path);
		fprintf(fp, ", \"title\": ");
		json_str(fp, r->title);
		fprintf(fp, ", \"passed\": %s, \"checks\": %d, \"failed\": %d, \"seed\": %llu, "
			"\"sim_time_us\": %lld, \"events\": %llu, \"wall_ms\": %.3f, \"failures\": ",
			r->passed ? "true" : "false", r->expects, r->failed, (unsigned long long)r->seed,
			(long long)r->sim_time, (unsigned long long)r->events, r->wall_ms);
		json_str(fp, r->failures ? r->failures : "");
		fprintf(fp, ", \"findings\": ");
		json_str(fp, r->findings ? r->findings : "");
		fprintf(fp, ", \"variant\": ");
		json_str(fp, r->variant);
		if (r->skipped) {
			fprintf(fp, ", \"skipped\": ");
			json_str(fp, r->skip_reason);
		}
		fprintf(fp, ", \"shows\": [");
		json_shows(fp, r->shows);
		fprintf(fp, "]}%s\n", i + 1 < n ? "," : "");
	}
	fprintf(fp, "]}\n");
	return fclose(fp) == 0 ? 0 : -1;
}
