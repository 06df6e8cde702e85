/* scn_expand.c - the load-time layer of the scenario language: variables,
 * loops and matrices, expanded into plain statements before anything is
 * checked or run (grammar in docs/scenarios.md, section 4):
 *
 *   set NAME = VALUE                     a variable (a later set replaces it)
 *   repeat N {  ...  }                   the body N times
 *   for X in A..B [step S] {  ...  }     X = A, A+S, ... while not past B
 *   for X in a,b,c {  ...  }             X = each value in turn
 *   if A OP B {  ... [} else {  ...] }   OP: == != (text) < <= > >= (integers)
 *   matrix NAME in a,b,c | A..B [step S] the whole scenario runs once per
 *                                        combination of every matrix line
 *   $NAME  ${NAME}  ${EXPR}  $$          substitution inside any word;
 *                                        EXPR: integers, + - * / % ( )
 *
 * Expansion is pure text: a statement inside a loop is checked and run
 * once per iteration, with its source line and the loop variables of that
 * iteration ("p=20004") for messages. Everything is bounded: at most
 * SCN_MAX_STMTS statements after expansion, 8 nested blocks, 256
 * variables, 1,000 variants. Names the run assigns (px.alice.audio.rtp)
 * are not variables: they are resolved when the statement runs. */
#include "scn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define XP_MAX_VARS 256
#define XP_MAX_DEPTH 8
#define XP_WORD_MAX 4096
#define SCN_MAX_VARIANTS 1000

/* ---- storage for expanded words ----------------------------------------- */

struct scn_arena {
	struct scn_arena *next;
	size_t used, cap;
	char data[];
};

static char *arena_put(struct scn_arena **a, const char *s, size_t n)
{
	struct scn_arena *b = *a;
	char *p;

	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > 65536 ? n + 1 : 65536;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = *a;
		b->used = 0;
		b->cap = cap;
		*a = b;
	}
	p = b->data + b->used;
	memcpy(p, s, n);
	p[n] = '\0';
	b->used += n + 1;
	return p;
}

void scn_arena_free(struct scn_arena *a)
{
	while (a) {
		struct scn_arena *n = a->next;
		free(a);
		a = n;
	}
}

/* ---- the expander ------------------------------------------------------- */

typedef struct xvar {
	const char *name, *val;
} xvar;

typedef struct xp {
	scn_file *f;
	xvar glob[XP_MAX_VARS];
	int nglob;
	xvar loop[XP_MAX_DEPTH];
	int nloop;
	const char *where;      /* the loop variables, for statements emitted now */
	struct scn_arena **store;       /* where range values go */
	int cap, errors, line;
	bool full;
} xp;

static int xerr(xp *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int xerr(xp *x, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", x->f->path, x->line);
	if (x->where)
		fprintf(stderr, "[%s] ", x->where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	x->errors++;
	return -1;
}

static bool is_ident(const char *s, size_t n)
{
	if (n == 0 || n >= 32 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static const char *var_get(const xp *x, const char *name, size_t n)
{
	for (int i = x->nloop - 1; i >= 0; i--)
		if (strlen(x->loop[i].name) == n && !strncmp(x->loop[i].name, name, n))
			return x->loop[i].val;
	for (int i = 0; i < x->nglob; i++)
		if (strlen(x->glob[i].name) == n && !strncmp(x->glob[i].name, name, n))
			return x->glob[i].val;
	return NULL;
}

/* A whole word as an integer: decimal, or hex with 0x. */
static int int_of(const char *s, int64_t *v)
{
	char *end;
	bool neg = *s == '-';
	const char *d = neg ? s + 1 : s;
	unsigned long long u;

	if (!*d || *d == '-' || *d == '+')
		return -1;
	errno = 0;
	u = (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) ? strtoull(d + 2, &end, 16) : strtoull(d, &end, 10);
	if (errno || *end || end == d || u > INT64_MAX)
		return -1;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

/* ${EXPR}: integers, variables holding integers, + - * / % and ( ).
 * Recursive descent over [*p, end); every error names the expression. */
typedef struct ex {
	xp *x;
	const char *p, *end, *text;
	int depth;
	bool bad;
} ex;

static void ex_ws(ex *e)
{
	while (e->p < e->end && (*e->p == ' ' || *e->p == '\t'))
		e->p++;
}

static int64_t ex_fail(ex *e, const char *why)
{
	if (!e->bad)
		xerr(e->x, "${%.*s}: %s", (int)(e->end - e->text), e->text, why);
	e->bad = true;
	return 0;
}

static int64_t ex_sum(ex *e);

static int64_t ex_atom(ex *e)
{
	int64_t v = 0;
	const char *s;

	ex_ws(e);
	if (e->p >= e->end)
		return ex_fail(e, "the expression ends too early");
	if (++e->depth > 32)
		return ex_fail(e, "nested too deeply");
	if (*e->p == '-') {
		e->p++;
		v = ex_atom(e);
		e->depth--;
		return v == INT64_MIN ? ex_fail(e, "overflow") : -v;
	}
	if (*e->p == '(') {
		e->p++;
		v = ex_sum(e);
		ex_ws(e);
		if (e->p >= e->end || *e->p != ')')
			return ex_fail(e, "missing ')'");
		e->p++;
		e->depth--;
		return v;
	}
	s = e->p;
	while (e->p < e->end && (is_ident(e->p, 1) || (*e->p >= '0' && *e->p <= '9')))
		e->p++;
	if (e->p == s)
		return ex_fail(e, "expected a number, a variable or '('");
	e->depth--;
	if (*s >= '0' && *s <= '9') {
		char num[32];
		if ((size_t)(e->p - s) >= sizeof(num))
			return ex_fail(e, "number too long");
		memcpy(num, s, (size_t)(e->p - s));
		num[e->p - s] = '\0';
		if (int_of(num, &v) < 0)
			return ex_fail(e, "not a number");
		return v;
	}
	{
		const char *val = var_get(e->x, s, (size_t)(e->p - s));
		if (!val) {
			char msg[80];
			snprintf(msg, sizeof(msg), "unknown variable '%.*s'", (int)(e->p - s), s);
			return ex_fail(e, msg);
		}
		if (int_of(val, &v) < 0) {
			char msg[120];
			snprintf(msg, sizeof(msg), "'%.*s' is '%.40s', not an integer", (int)(e->p - s), s, val);
			return ex_fail(e, msg);
		}
	}
	return v;
}

static int64_t ex_prod(ex *e)
{
	int64_t v = ex_atom(e), r;

	for (;;) {
		char op;
		ex_ws(e);
		if (e->bad || e->p >= e->end || (*e->p != '*' && *e->p != '/' && *e->p != '%'))
			return v;
		op = *e->p++;
		r = ex_atom(e);
		if (e->bad)
			return 0;
		if (op == '*') {
			if (__builtin_mul_overflow(v, r, &v))
				return ex_fail(e, "overflow");
		} else if (r == 0) {
			return ex_fail(e, "division by zero");
		} else if (v == INT64_MIN && r == -1) {
			return ex_fail(e, "overflow");
		} else {
			v = op == '/' ? v / r : v % r;
		}
	}
}

static int64_t ex_sum(ex *e)
{
	int64_t v = ex_prod(e), r;

	for (;;) {
		char op;
		ex_ws(e);
		if (e->bad || e->p >= e->end || (*e->p != '+' && *e->p != '-'))
			return v;
		op = *e->p++;
		r = ex_prod(e);
		if (e->bad)
			return 0;
		if (op == '+' ? __builtin_add_overflow(v, r, &v) : __builtin_sub_overflow(v, r, &v))
			return ex_fail(e, "overflow");
	}
}

/* Substitute $NAME, ${NAME}, ${EXPR} and $$ in w; the result lives in the
 * file's arena. NULL after an error (printed). */
static const char *subst(xp *x, const char *w)
{
	char out[XP_WORD_MAX];
	size_t n = 0;

	if (!strchr(w, '$'))
		return w;
	for (const char *p = w; *p;) {
		const char *val = NULL, *name;
		char num[32];
		size_t vl;

		if (*p != '$') {
			if (n + 1 >= sizeof(out))
				goto long_;
			out[n++] = *p++;
			continue;
		}
		if (p[1] == '$') {
			val = "$";
			p += 2;
		} else if (p[1] == '{') {
			const char *close = strchr(p + 2, '}');
			if (!close) {
				xerr(x, "'%s': '${' without '}'", w);
				return NULL;
			}
			name = p + 2;
			while (*name == ' ')
				name++;
			vl = (size_t)(close - name);
			while (vl && name[vl - 1] == ' ')
				vl--;
			if (is_ident(name, vl)) {
				val = var_get(x, name, vl);
				if (!val) {
					xerr(x, "unknown variable '%.*s' (define it with set, for or matrix)", (int)vl, name);
					return NULL;
				}
			} else {
				ex e = { .x = x, .p = p + 2, .end = close, .text = p + 2 };
				int64_t v = ex_sum(&e);
				ex_ws(&e);
				if (!e.bad && e.p != e.end)
					ex_fail(&e, "unexpected text after the expression");
				if (e.bad)
					return NULL;
				snprintf(num, sizeof(num), "%lld", (long long)v);
				val = num;
			}
			p = close + 1;
		} else {
			name = p + 1;
			vl = 0;
			while (is_ident(name, vl + 1))
				vl++;
			if (!vl) {
				xerr(x, "'%s': a lone '$' (write $$ for a dollar sign)", w);
				return NULL;
			}
			val = var_get(x, name, vl);
			if (!val) {
				xerr(x, "unknown variable '%.*s' (define it with set, for or matrix)", (int)vl, name);
				return NULL;
			}
			p = name + vl;
		}
		vl = strlen(val);
		if (n + vl >= sizeof(out))
			goto long_;
		memcpy(out + n, val, vl);
		n += vl;
	}
	return arena_put(&x->f->arena, out, n);
long_:
	xerr(x, "a word is over %d bytes after substitution", XP_WORD_MAX - 1);
	return NULL;
}

static int emit(xp *x, const scn_stmt *raw)
{
	scn_file *f = x->f;
	scn_stmt *st;

	if (x->full)
		return -1;
	if (f->nstmts == SCN_MAX_STMTS) {
		x->full = true;
		return xerr(x, "over %d statements after expansion; use fewer or shorter loops", SCN_MAX_STMTS);
	}
	if (f->nstmts == x->cap) {
		int nc = x->cap ? x->cap * 2 : 64;
		scn_stmt *ns = realloc(f->stmts, (size_t)nc * sizeof(*ns));
		if (!ns)
			return xerr(x, "out of memory");
		f->stmts = ns;
		x->cap = nc;
	}
	st = &f->stmts[f->nstmts];
	memset(st, 0, sizeof(*st));
	st->line = raw->line;
	st->where = x->where;
	for (int i = 0; i < raw->argc; i++) {
		const char *w = subst(x, raw->argv[i]);
		if (!w)
			return -1;
		st->argv[st->argc++] = (char *)w;
	}
	f->nstmts++;
	return 0;
}

static int set_global(xp *x, const char *name, const char *val)
{
	for (int i = 0; i < x->nloop; i++)
		if (!strcmp(x->loop[i].name, name))
			return xerr(x, "set: '%s' is a loop variable here", name);
	for (int i = 0; i < x->nglob; i++)
		if (!strcmp(x->glob[i].name, name)) {
			x->glob[i].val = val;
			return 0;
		}
	if (x->nglob == XP_MAX_VARS)
		return xerr(x, "more than %d variables", XP_MAX_VARS);
	x->glob[x->nglob].name = name;
	x->glob[x->nglob++].val = val;
	return 0;
}

/* The values of "A..B [step S]" or "a,b,c" (one word after substitution,
 * plus an optional step); calls fn for each until it fails. */
typedef int (*each_fn)(xp *x, void *arg, const char *val);

static int range_each(xp *x, const char *list, const char *step_w, each_fn fn, void *arg)
{
	const char *dots = strstr(list, "..");

	if (dots) {
		char a[40], b[40], v[32];
		int64_t lo, hi, step = 1, n;

		if ((size_t)(dots - list) >= sizeof(a) || strlen(dots + 2) >= sizeof(b))
			return xerr(x, "'%s' is not a range A..B", list);
		memcpy(a, list, (size_t)(dots - list));
		a[dots - list] = '\0';
		snprintf(b, sizeof(b), "%s", dots + 2);
		if (int_of(a, &lo) < 0 || int_of(b, &hi) < 0)
			return xerr(x, "'%s': a range needs integers at both ends (A..B)", list);
		if (step_w && (int_of(step_w, &step) < 0 || step == 0))
			return xerr(x, "step: '%s' is not a non-zero integer", step_w);
		if (!step_w && hi < lo)
			step = -1;
		if ((step > 0 && hi < lo) || (step < 0 && hi > lo))
			return xerr(x, "'%s' with step %lld is empty", list, (long long)step);
		n = (hi - lo) / step + 1;
		if (n > SCN_MAX_STMTS)
			return xerr(x, "'%s' has %lld values; at most %d", list, (long long)n, SCN_MAX_STMTS);
		for (int64_t i = 0; i < n; i++) {
			snprintf(v, sizeof(v), "%lld", (long long)(lo + i * step));
			const char *val = arena_put(x->store, v, strlen(v));
			if (!val || fn(x, arg, val) < 0)
				return -1;
		}
		return 0;
	}
	if (step_w)
		return xerr(x, "step applies to a range A..B, not to a list");
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const char *val;

		if (n == 0)
			return xerr(x, "'%s': an empty value in the list", list);
		val = arena_put(x->store, p, n);
		if (!val || fn(x, arg, val) < 0)
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int expand(xp *x, int from, int to);

/* if A OP B: == and != compare text (so 10 != 010), the others integers.
 * 1 true, 0 false, -1 error. */
static int compare(xp *x, const char *a, const char *op, const char *b)
{
	int64_t ia, ib;

	if (!strcmp(op, "=="))
		return !strcmp(a, b);
	if (!strcmp(op, "!="))
		return strcmp(a, b) != 0;
	if (int_of(a, &ia) < 0 || int_of(b, &ib) < 0)
		return xerr(x, "if %s %s %s: %s compares integers", a, op, b, op);
	if (!strcmp(op, "<"))
		return ia < ib;
	if (!strcmp(op, "<="))
		return ia <= ib;
	if (!strcmp(op, ">"))
		return ia > ib;
	return ia >= ib;
}

struct loop_arg {
	int body, close;
	const char *var;
};

static int loop_once(xp *x, void *arg, const char *val)
{
	struct loop_arg *la = arg;
	const char *saved = x->where;
	char where[512] = "";
	int rc;

	if (la->var) {
		x->loop[x->nloop].name = la->var;
		x->loop[x->nloop++].val = val;
		for (int i = 0; i < x->nloop; i++)
			snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s%s=%s", i ? " " : "",
				 x->loop[i].name, x->loop[i].val);
		x->where = arena_put(&x->f->arena, where, strlen(where));
	}
	rc = expand(x, la->body, la->close);
	if (la->var) {
		x->nloop--;
		x->where = saved;
	}
	return rc;
}

/* raw[from..to): close[i] is the index of the '}' ending a block opened
 * at i (checked at load). */
static int expand(xp *x, int from, int to)
{
	const scn_file *f = x->f;

	for (int i = from; i < to && !x->full; i++) {
		const scn_stmt *st = &f->raw[i];
		const char *cmd = st->argv[0];

		x->line = st->line;
		if (!strcmp(cmd, "set")) {
			const char *v = subst(x, st->argv[3]);
			if (v)
				set_global(x, st->argv[1], v);
		} else if (!strcmp(cmd, "repeat")) {
			const char *nw = subst(x, st->argv[1]);
			int64_t n;
			struct loop_arg la = { .body = i + 1, .close = f->close[i] };
			if (nw && (int_of(nw, &n) < 0 || n < 0 || n > SCN_MAX_STMTS))
				xerr(x, "repeat: '%s' is not a count from 0 to %d", nw, SCN_MAX_STMTS);
			else if (nw)
				for (int64_t k = 0; k < n && !x->full; k++)
					if (loop_once(x, &la, NULL) < 0)
						break;
			i = f->close[i];
		} else if (!strcmp(cmd, "for")) {
			const char *list = subst(x, st->argv[3]);
			const char *step = st->argc == 7 ? subst(x, st->argv[5]) : NULL;
			struct loop_arg la = { .body = i + 1, .close = f->close[i], .var = st->argv[1] };
			bool inner = false;
			for (int k = 0; k < x->nloop; k++)
				inner |= !strcmp(x->loop[k].name, la.var);
			if (inner)
				xerr(x, "for: '%s' is already the variable of an enclosing loop", la.var);
			else if (list && (st->argc != 7 || step))
				range_each(x, list, step, loop_once, &la);
			i = f->close[i];
		} else if (!strcmp(cmd, "if")) {
			int end = f->close[i];
			bool has_else = f->raw[end].argc == 3;
			int last = has_else ? f->close[end] : end;
			const char *a = subst(x, st->argv[1]), *b = subst(x, st->argv[3]);
			int cond = a && b ? compare(x, a, st->argv[2], b) : -1;
			if (cond > 0)
				expand(x, i + 1, end);
			else if (cond == 0 && has_else)
				expand(x, end + 1, last);
			i = last;
		} else if (strcmp(cmd, "matrix") && strcmp(cmd, "sweep")) {
			emit(x, st);
		}
	}
	return x->errors ? -1 : 0;
}

/* ---- load-time structure -------------------------------------------------- */

static int serr(const scn_file *f, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int serr(const scn_file *f, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", f->path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int dim_val(xp *x, void *arg, const char *val)
{
	scn_dim *d = arg;
	char **nv;

	(void)x;
	if (d->nvals >= SCN_MAX_VARIANTS)
		return xerr(x, "matrix %s: more than %d values", d->name, SCN_MAX_VARIANTS);
	nv = realloc(d->vals, (size_t)(d->nvals + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	d->vals = nv;
	d->vals[d->nvals++] = (char *)val;
	return 0;
}

/* Check the block structure and the shape of set/repeat/for/matrix lines,
 * match braces, and read the matrix. Returns the number of errors. */
int scn_structure(scn_file *f)
{
	int stack[XP_MAX_DEPTH], depth = 0, errors = 0;
	long variants = 1;
	xp x = { .f = f, .store = &f->dim_arena };

	f->close = calloc((size_t)(f->nraw ? f->nraw : 1), sizeof(int));
	if (!f->close)
		return serr(f, 0, "out of memory");
	for (int i = 0; i < f->nraw; i++) {
		const scn_stmt *st = &f->raw[i];
		const char *cmd = st->argv[0];
		bool opens = st->argc > 1 && !strcmp(st->argv[st->argc - 1], "{");

		if (!strcmp(cmd, "}") && st->argc == 3 && !strcmp(st->argv[1], "else") && opens) {
			const scn_stmt *top = depth ? &f->raw[stack[depth - 1]] : NULL;
			if (!top || strcmp(top->argv[0], "if"))
				errors += serr(f, st->line, "'} else {' without an open if");
			else
				f->close[stack[depth - 1]] = i, stack[depth - 1] = i;
			continue;
		}
		if (!strcmp(cmd, "}")) {
			if (st->argc != 1)
				errors += serr(f, st->line, "'}' must be alone on its line (or '} else {')");
			else if (!depth)
				errors += serr(f, st->line, "'}' without an open block");
			else
				f->close[stack[--depth]] = i;
			continue;
		}
		if (!strcmp(cmd, "{") || (opens && strcmp(cmd, "repeat") && strcmp(cmd, "for") && strcmp(cmd, "if"))) {
			errors += serr(f, st->line, "'{' must end a repeat, for or if line");
			continue;
		}
		if (!strcmp(cmd, "if")) {
			static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };
			bool ok = opens && st->argc == 5;
			for (size_t k = 0; ok && k < sizeof(ops) / sizeof(ops[0]); k++)
				if (!strcmp(st->argv[2], ops[k]))
					break;
				else if (k + 1 == sizeof(ops) / sizeof(ops[0]))
					ok = false;
			if (!ok) {
				errors += serr(f, st->line, "usage: if A ==|!=|<|<=|>|>= B {");
				continue;
			}
			if (depth == XP_MAX_DEPTH) {
				errors += serr(f, st->line, "blocks nested more than %d deep", XP_MAX_DEPTH);
				continue;
			}
			stack[depth++] = i;
			continue;
		}
		if (!strcmp(cmd, "set")) {
			if (st->argc != 4 || strcmp(st->argv[2], "="))
				errors += serr(f, st->line, "usage: set NAME = VALUE (one word; quote it if it has blanks)");
			else if (!is_ident(st->argv[1], strlen(st->argv[1])))
				errors += serr(f, st->line, "set: '%s' is not a name (letters, digits, _; at most 31)", st->argv[1]);
		} else if (!strcmp(cmd, "repeat") || !strcmp(cmd, "for")) {
			bool isfor = cmd[0] == 'f';
			if (!opens || (!isfor && st->argc != 3) ||
			    (isfor && ((st->argc != 5 && st->argc != 7) || strcmp(st->argv[2], "in") ||
				       (st->argc == 7 && strcmp(st->argv[4], "step"))))) {
				errors += serr(f, st->line, isfor ? "usage: for NAME in A..B [step S] {   or   for NAME in a,b,c {"
							  : "usage: repeat N {");
				continue;
			}
			if (isfor && !is_ident(st->argv[1], strlen(st->argv[1]))) {
				errors += serr(f, st->line, "for: '%s' is not a name (letters, digits, _; at most 31)", st->argv[1]);
				continue;
			}
			if (depth == XP_MAX_DEPTH) {
				errors += serr(f, st->line, "blocks nested more than %d deep", XP_MAX_DEPTH);
				continue;
			}
			stack[depth++] = i;
		} else if (!strcmp(cmd, "matrix") || !strcmp(cmd, "sweep")) {
			scn_dim *nd, *d;
			if ((st->argc != 4 && st->argc != 6) || strcmp(st->argv[2], "in") ||
			    (st->argc == 6 && strcmp(st->argv[4], "step"))) {
				errors += serr(f, st->line, "usage: %s NAME in a,b,c | A..B [step S]", cmd);
				continue;
			}
			if (depth) {
				errors += serr(f, st->line, "%s belongs at the top of the file, not inside a block", cmd);
				continue;
			}
			if (!is_ident(st->argv[1], strlen(st->argv[1]))) {
				errors += serr(f, st->line, "%s: '%s' is not a name (letters, digits, _; at most 31)", cmd,
					       st->argv[1]);
				continue;
			}
			for (int k = 0; k < f->ndims; k++)
				if (!strcmp(f->dims[k].name, st->argv[1]))
					errors += serr(f, st->line, "matrix '%s' is already declared (line %d)", st->argv[1],
						       f->dims[k].line);
			nd = realloc(f->dims, (size_t)(f->ndims + 1) * sizeof(*nd));
			if (!nd)
				return errors + serr(f, st->line, "out of memory");
			f->dims = nd;
			d = &f->dims[f->ndims++];
			memset(d, 0, sizeof(*d));
			d->name = st->argv[1];
			d->line = st->line;
			x.line = st->line;
			if (range_each(&x, st->argv[3], st->argc == 6 ? st->argv[5] : NULL, dim_val, d) < 0) {
				errors++;
				continue;
			}
			variants *= d->nvals;
			if (variants > SCN_MAX_VARIANTS)
				errors += serr(f, st->line, "the matrix has over %d combinations", SCN_MAX_VARIANTS);
		}
	}
	for (int k = 0; k < depth; k++)
		errors += serr(f, f->raw[stack[k]].line, "this block is never closed with '}'");
	f->nvariants = errors ? 1 : (int)variants;
	return errors + x.errors;
}

int scn_select(scn_file *f, int variant)
{
	xp x = { .f = f, .store = &f->arena };
	int k = variant;

	if (variant < 0 || variant >= f->nvariants)
		return -1;
	free(f->stmts);
	f->stmts = NULL;
	f->nstmts = 0;
	scn_arena_free(f->arena);
	f->arena = NULL;
	f->variant = variant;
	f->variant_name[0] = '\0';
	/* The last matrix line varies fastest. */
	for (int d = f->ndims - 1; d >= 0; d--) {
		const scn_dim *dim = &f->dims[d];
		x.glob[d].name = dim->name;
		x.glob[d].val = dim->vals[k % dim->nvals];
		k /= dim->nvals;
	}
	x.nglob = f->ndims;
	/* LIVE: 1 in a --live run, so a file can shorten its timers there */
	x.glob[x.nglob].name = "LIVE";
	x.glob[x.nglob++].val = f->live ? "1" : "0";
	for (int d = 0; d < f->ndims; d++) {
		size_t l = strlen(f->variant_name);
		snprintf(f->variant_name + l, sizeof(f->variant_name) - l, "%s%s=%s", d ? " " : "", x.glob[d].name,
			 x.glob[d].val);
	}
	expand(&x, 0, f->nraw);
	return x.errors ? -1 : 0;
}
