/* sip_frame.c - see sip_frame.h. */
#include "sip_frame.h"

#include <string.h>
#include <strings.h>

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

/* The end of the header: the offset after the first CRLFCRLF, or 0. */
static size_t header_end(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p + 3 < end && (p = memchr(p, '\r', (size_t)(end - p - 3))) != NULL) {
		if (p[1] == '\n' && p[2] == '\r' && p[3] == '\n')
			return (size_t)(p - buf) + 4;
		p++;
	}
	return 0;
}

/* The value of a Content-Length line starting at i (the header field's
 * first byte); -1 if malformed, else 0 and *v. Continuation lines (a
 * folded value) count as white space. */
static int length_value(const char *buf, size_t i, size_t hdr, unsigned long *v)
{
	size_t digits = 0;

	*v = 0;
	for (;;) {
		if (i + 2 < hdr && buf[i] == '\r' && buf[i + 1] == '\n' && is_ws(buf[i + 2]))
			i += 3;
		else if (i < hdr && is_ws(buf[i]))
			i++;
		else
			break;
	}
	while (i < hdr && buf[i] >= '0' && buf[i] <= '9') {
		if (*v > SIP_TCP_MAX * 16UL)
			return -1;              /* absurd: refuse rather than overflow */
		*v = *v * 10 + (unsigned long)(buf[i] - '0');
		i++;
		digits++;
	}
	while (i < hdr && is_ws(buf[i]))
		i++;
	if (!digits || i >= hdr || buf[i] != '\r')
		return -1;
	return 0;
}

/* Find Content-Length in the header [0, hdr): 1 found, 0 absent, -1 bad. */
static int find_length(const char *buf, size_t hdr, unsigned long *out)
{
	size_t i = 0;
	int found = 0;

	/* skip the start line */
	while (i < hdr && buf[i] != '\n')
		i++;
	i++;
	while (i < hdr) {
		size_t n = i, c;
		unsigned long v;

		if (buf[i] == '\r')
			break;                  /* the blank line */
		if (!is_ws(buf[i])) {
			/* the name ends at the line's end too: a run of bare
			 * LFs must not make every line rescan the rest */
			while (n < hdr && buf[n] != ':' && !is_ws(buf[n]) && buf[n] != '\r' && buf[n] != '\n')
				n++;
			c = n;
			while (c < hdr && is_ws(buf[c]))
				c++;
			if (c < hdr && buf[c] == ':' &&
			    ((n - i == 14 && !strncasecmp(buf + i, "Content-Length", 14)) ||
			     (n - i == 1 && (buf[i] | 0x20) == 'l'))) {
				if (length_value(buf, c + 1, hdr, &v) < 0)
					return -1;
				if (found && v != *out)
					return -1;      /* two that disagree */
				*out = v;
				found = 1;
			}
		}
		{
			const char *nl = memchr(buf + i, '\n', hdr - i);
			i = nl ? (size_t)(nl - buf) + 1 : hdr;
		}
	}
	return found;
}

int sip_frame_find(const char *buf, size_t len, bool stream, size_t max, sip_frame *f)
{
	unsigned long clen = 0;
	int rc;

	memset(f, 0, sizeof(*f));
	f->hdr_len = header_end(buf, len < max ? len : max);
	if (!f->hdr_len) {
		if (!stream)
			return len > max ? SF_TOO_BIG : SF_NO_HEADER_END;
		return len >= max ? SF_TOO_BIG : SF_MORE;
	}
	rc = find_length(buf, f->hdr_len, &clen);
	if (rc < 0 || (rc == 0 && stream))
		return SF_BAD_LENGTH;
	f->has_length = rc == 1;
	if (!f->has_length)
		clen = len - f->hdr_len;        /* UDP without it: the rest */
	if (f->hdr_len + clen > max)
		return SF_TOO_BIG;
	if (f->hdr_len + clen > len) {
		if (stream) {
			f->body_len = clen;     /* what the caller must wait for */
			f->msg_len = f->hdr_len + clen;
			return SF_MORE;
		}
		return SF_BAD_LENGTH;           /* the body is shorter than it says */
	}
	f->body_len = clen;
	f->msg_len = f->hdr_len + clen;
	f->extra = stream ? 0 : len - f->msg_len;
	return SF_OK;
}

int sip_unfold(char *buf, size_t *len, size_t hdr_len)
{
	size_t r = 0, o = 0;
	int folds = 0;
	const char *nl;

	/* Jump from line end to line end; copy only once a fold was seen.
	 * The final CRLFCRLF is not a fold; a fold is CRLF then SP/HTAB. */
	while (r < hdr_len && (nl = memchr(buf + r, '\n', hdr_len - r)) != NULL) {
		size_t e = (size_t)(nl - buf);  /* the '\n' */
		bool fold = e >= 1 && buf[e - 1] == '\r' && e + 1 < hdr_len && is_ws(buf[e + 1]);
		size_t keep = fold ? e - 1 - r : e + 1 - r;

		if (o != r)
			memmove(buf + o, buf + r, keep);
		o += keep;
		r += keep;
		if (!fold)
			continue;
		r = e + 1;
		while (r < hdr_len && is_ws(buf[r]))
			r++;
		buf[o++] = ' ';
		folds++;
	}
	if (o != r)
		memmove(buf + o, buf + r, hdr_len - r);
	o += hdr_len - r;
	if (folds) {
		memmove(buf + o, buf + hdr_len, *len - hdr_len);
		*len -= hdr_len - o;
	}
	return folds;
}
