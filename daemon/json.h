/* json.h - writing JSON into a growable buffer (the control socket's
 * answers). Strings are escaped per RFC 8259: quote, backslash and every
 * control character; bytes above 0x7f pass as they are (SIP text is UTF-8
 * or should be; a bad byte is the message's, and JSON readers report it). */
#ifndef TPD_JSON_H
#define TPD_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef struct jbuf {
	char *s;
	size_t len, cap;
	bool oom;               /* an append failed: the buffer is incomplete */
	int n;                  /* a counter for the caller (items written) */
} jbuf;

void jb_raw(jbuf *j, const char *s);
void jb_fmt(jbuf *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jb_str(jbuf *j, const char *s);
/* "key": */
void jb_key(jbuf *j, const char *k);
/* ,"key":"val" (a field after the first) */
void jb_field(jbuf *j, const char *key, const char *val);
void jb_free(jbuf *j);

#endif
