/* json.c - see json.h. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(jbuf *j, size_t more)
{
	size_t cap;
	char *ns;

	if (j->oom)
		return false;
	if (j->len + more + 1 <= j->cap)
		return true;
	cap = j->cap ? j->cap : 1024;
	while (cap < j->len + more + 1)
		cap *= 2;
	ns = realloc(j->s, cap);
	if (!ns) {
		j->oom = true;
		return false;
	}
	j->s = ns;
	j->cap = cap;
	return true;
}

static void put(jbuf *j, const char *s, size_t n)
{
	if (!grow(j, n))
		return;
	memcpy(j->s + j->len, s, n);
	j->len += n;
	j->s[j->len] = 0;
}

void jb_raw(jbuf *j, const char *s) { put(j, s, strlen(s)); }

void jb_fmt(jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(j, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(j->s + j->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	j->len += (size_t)n;
}

void jb_str(jbuf *j, const char *s)
{
	put(j, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(j, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(j, esc, 6);
		} else {
			put(j, (const char *)p, 1);
		}
	}
	put(j, "\"", 1);
}

void jb_key(jbuf *j, const char *k)
{
	jb_str(j, k);
	put(j, ":", 1);
}

void jb_field(jbuf *j, const char *key, const char *val)
{
	put(j, ",", 1);
	jb_key(j, key);
	jb_str(j, val);
}

void jb_free(jbuf *j)
{
	free(j->s);
	memset(j, 0, sizeof(*j));
}
