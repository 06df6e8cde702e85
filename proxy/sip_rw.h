/* sip_rw.h - finding and rewriting spans of a SIP message in place.
 *
 * libosip2 tells the ALG what a message means; these helpers find where,
 * byte for byte, the few values that must change are written (top Via
 * sent-by, Contact and Request-URI host:port, SDP c=/o=/m=/a=rtcp), so the
 * rewrite replaces only those spans, keeps every other byte as it arrived,
 * and then repairs Content-Length. Finders never copy; they return
 * 1 (found, with offset and length), 0 (absent) or -1 (malformed) and read
 * only inside [0, len). */
#ifndef TV_SIP_RW_H
#define TV_SIP_RW_H

#include "tv.h"

#define RW_MAX_EDITS 64
#define RW_REP_MAX 128

typedef struct rw_span {
	uint32_t off, len;
} rw_span;

typedef struct sip_rw {
	const char *buf;
	size_t len;
	size_t body_off;        /* first byte after the blank line */
	int nedits;
	bool failed;            /* an edit was refused: the message must not go out */
	struct {
		rw_span at;
		char rep[RW_REP_MAX];
		uint16_t replen;
		const char *ref;        /* rw_replace_ref(): the replacement lives there */
		uint32_t reflen;
	} e[RW_MAX_EDITS];
} sip_rw;

/* Start a rewrite of buf; finds the end of the header. -1 if there is no
 * blank line ending the header. */
int rw_init(sip_rw *rw, const char *buf, size_t len);
/* Replace span with rep. Edits must not overlap; -1 if they do or the
 * table is full, and then rw_apply refuses the whole message (a half
 * rewritten message could leak an address). */
int rw_replace(sip_rw *rw, rw_span at, const char *rep);
/* The same with a replacement of any length that the caller keeps alive
 * (unchanged) until rw_apply() has run: a saved Via stack, a route set. */
int rw_replace_ref(sip_rw *rw, rw_span at, const char *ref, size_t len);
/* Write the rewritten message into out (cap bytes), with Content-Length
 * set to the new body length. Returns the new length or -1. An insertion
 * (an edit of length 0) goes before an edit starting at the same offset. */
int rw_apply(const sip_rw *rw, char *out, size_t cap);

/* The value of the idx-th header line named name (or its compact form c,
 * 0 if none), case-insensitive; folded lines are not supported (-1). */
int rw_header(const char *buf, size_t hdr_len, const char *name, char compact, int idx, rw_span *val);
/* Walk the header lines: from *pos (0 at first) the next line's name and
 * value; 1, 0 at the blank line or the end, -1 if malformed (a folded
 * line, no colon). One pass over a message of n lines is O(n), where
 * rw_header() for each index would be O(n^2). */
int rw_header_next(const char *buf, size_t hdr_len, size_t *pos, rw_span *name, rw_span *val);
/* Is a header name span full or its compact form (0: none), any case? */
bool rw_name_is(const char *buf, rw_span name, const char *full, char compact);
/* host[:port] of the first Via value in a Via header value span. */
int rw_via_sentby(const char *buf, rw_span val, rw_span *out);
/* host[:port] of the first SIP URI in a span (Contact value, Request-URI). */
int rw_uri_hostport(const char *buf, rw_span val, rw_span *out);
/* The transport token (UDP, TCP, ...) of the first Via value. */
int rw_via_transport(const char *buf, rw_span val, rw_span *out);
/* Split a header value into its comma-separated values (commas inside
 * quotes or <> do not split). Returns the count (at most max), or -1 if
 * the value is malformed (unbalanced quote or bracket, an empty value) or
 * has more than max values. */
int rw_values(const char *buf, rw_span val, rw_span *out, int max);
/* In a Contact-like value whose URI is in <>: the whole ";name=value"
 * URI parameter (with its ';'), 1/0/-1. Without <> the parameters belong
 * to the header, not the URI: 0. */
int rw_uri_param(const char *buf, rw_span val, const char *name, rw_span *out);
/* The same in a bare URI (a Request-URI): its parameters follow host:port. */
int rw_bare_uri_param(const char *buf, rw_span uri, const char *name, rw_span *out);
/* The userinfo of the first SIP URI in a span (without '@'): 1, or 0 if none. */
int rw_uri_user(const char *buf, rw_span val, rw_span *out);
/* Copy a span into out as a C string (cut to cap - 1 bytes). */
void rw_copy(const char *buf, rw_span s, char *out, size_t cap);
/* The Request-URI of a request's first line. */
int rw_request_uri(const char *buf, size_t len, rw_span *out);

/* SDP: call fn for each line of the body in order; it may add edits. */
typedef void (*rw_sdp_line_fn)(void *arg, sip_rw *rw, rw_span line, int media_idx);
void rw_sdp_lines(sip_rw *rw, rw_sdp_line_fn fn, void *arg);
/* The same for the lines of an SDP inside span body (a multipart part). */
void rw_sdp_lines_in(sip_rw *rw, rw_span body, rw_sdp_line_fn fn, void *arg);
/* A line span and its line end (CRLF, CR or LF, if any before end): the
 * span to remove for the whole line. */
rw_span rw_line_whole(const char *buf, rw_span line, size_t end);

/* A multipart body (RFC 2046 5.1) in span body, with boundary bnd (its
 * text without quotes): the one part whose Content-Type is
 * application/sdp. 1 found (*hdr: the part's header lines, possibly
 * empty; *content: its content, up to the CRLF that belongs to the next
 * delimiter), 0 if no part is SDP, -1 if it cannot be read: no delimiter
 * or no closing one, more than one SDP part, or a nested multipart part
 * (which could hold an SDP the proxy would not see). */
int rw_mime_sdp(const char *buf, rw_span body, const char *bnd, size_t blen, rw_span *hdr, rw_span *content);

/* The next IPv4 address literal (four decimal octets 0-255, not part of
 * a longer run of digits and dots) in span s at or after *pos: 1 with its
 * span (and *pos past it), 0 when there is none left. */
int rw_ipv4_next(const char *buf, rw_span s, size_t *pos, rw_span *out);
/* Within a line span: the n-th blank-separated field (0-based), after
 * the "x=" prefix for n = 0. */
int rw_field(const char *buf, rw_span line, int n, rw_span *out);

#endif
