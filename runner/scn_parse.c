/* scn_parse.c - reading a scenario file into statements.
 *
 * Lexical rules: '#' starts a comment (outside quotes); a line ending in
 * '\' continues on the next; tokens are separated by blanks; "double
 * quotes" make one token (no escapes), also inside a word: key="a b". Tokens point into f->text. */
#include <stdio.h>
#include "scn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int perr(const char *path, int line, const char *msg)
{
	fprintf(stderr, "%s:%d: %s\n", path, line, msg);
	return -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && n < (1 << 24) &&
	    fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(fp);
	return buf;
}

/* *p at a '"': copy what runs to the next '"' on the line to *out and
 * step past it; -1 (p left at the line's end) if there is none. */
static int take_quoted(char **p, char **out)
{
	char *q = *p + 1;

	while (*q && *q != '"' && *q != '\n')
		q++;
	if (*q != '"') {
		*p = q;
		return -1;
	}
	memcpy(*out, *p + 1, (size_t)(q - *p - 1));
	*out += q - *p - 1;
	*p = q + 1;
	return 0;
}

static int push_stmt(scn_file *f, int *cap, const scn_stmt *st)
{
	if (f->nraw == *cap) {
		int nc = *cap ? *cap * 2 : 64;
		scn_stmt *ns = realloc(f->raw, (size_t)nc * sizeof(*ns));
		if (!ns)
			return -1;
		f->raw = ns;
		*cap = nc;
	}
	f->raw[f->nraw++] = *st;
	return 0;
}

int scn_load(const char *path, scn_file *f)
{
	size_t len = 0;
	char *src, *p, *out;
	int line = 1, errors = 0, cap = 0;

	memset(f, 0, sizeof(*f));
	errno = 0;
	src = slurp(path, &len);
	f->path = strdup(path);
	if (!src || !f->path) {
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno ? errno : EIO));
		free(src);
		scn_file_free(f);
		return -1;
	}
	if (memchr(src, '\0', len)) {
		perr(path, 1, "file contains a NUL byte; scenario files are text");
		free(src);
		scn_file_free(f);
		return -1;
	}
	/* Tokens are copied NUL-terminated into f->text: at most len bytes of
	 * token text plus one NUL per token. */
	f->text = malloc(2 * len + 2);
	if (!f->text) {
		free(src);
		scn_file_free(f);
		return -1;
	}
	out = f->text;
	p = src;
	while (*p) {
		scn_stmt st = { .line = line };

		for (;;) {
			while (*p == ' ' || *p == '\t' || *p == '\r')
				p++;
			if (*p == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
				p += p[1] == '\n' ? 2 : 3;
				line++;
				continue;
			}
			if (*p == '#')
				while (*p && *p != '\n')
					p++;
			if (*p == '\0' || *p == '\n')
				break;
			if (st.argc == SCN_MAX_ARGS) {
				errors += -perr(path, line, "too many words in one statement (at most 32)");
				while (*p && *p != '\n')
					p++;
				break;
			}
			st.argv[st.argc++] = out;
			if (*p == '"') {
				if (take_quoted(&p, &out) < 0) {
					errors += -perr(path, line, "unterminated \"quoted string\"");
					break;
				}
			} else {
				while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '#') {
					/* a backslash ending the line continues it, even right after a word */
					if (*p == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')))
						break;
					if (*p == '"') {        /* key="a value with blanks" */
						if (take_quoted(&p, &out) < 0) {
							errors += -perr(path, line, "unterminated \"quoted string\"");
							break;
						}
						continue;
					}
					*out++ = *p++;
				}
			}
			*out++ = '\0';
		}
		if (st.argc > 0 && push_stmt(f, &cap, &st) < 0) {
			free(src);
			scn_file_free(f);
			return -1;
		}
		if (*p == '\n')
			p++;
		line++;
	}
	free(src);
	if (errors || scn_structure(f) > 0 || scn_select(f, 0) < 0) {
		scn_file_free(f);
		return -1;
	}
	return 0;
}

void scn_file_free(scn_file *f)
{
	free(f->path);
	free(f->text);
	free(f->raw);
	free(f->close);
	for (int i = 0; i < f->ndims; i++)
		free(f->dims[i].vals);
	free(f->dims);
	scn_arena_free(f->dim_arena);
	scn_arena_free(f->arena);
	free(f->stmts);
	memset(f, 0, sizeof(*f));
}
