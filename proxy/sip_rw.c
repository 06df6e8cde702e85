/* sip_rw.c - see sip_rw.h. */
#include "sip_rw.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int rw_init(sip_rw *rw, const char *buf, size_t len)
{
	memset(rw, 0, sizeof(*rw));
	rw->buf = buf;
	rw->len = len;
	for (size_t i = 0; i + 3 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
			rw->body_off = i + 4;
			return 0;
		}
	}
	return -1;
}

int rw_replace(sip_rw *rw, rw_span at, const char *rep)
{
	size_t n = strlen(rep);

	if (rw->nedits == RW_MAX_EDITS || n >= RW_REP_MAX || at.off + at.len > rw->len) {
		rw->failed = true;
		return -1;
	}
	for (int i = 0; i < rw->nedits; i++) {
		rw_span o = rw->e[i].at;
		if (at.off < o.off + o.len && o.off < at.off + at.len) {
			rw->failed = true;
			return -1;
		}
	}
	rw->e[rw->nedits].at = at;
	memcpy(rw->e[rw->nedits].rep, rep, n + 1);
	rw->e[rw->nedits].replen = (uint16_t)n;
	rw->e[rw->nedits].ref = NULL;
	rw->nedits++;
	return 0;
}

int rw_replace_ref(sip_rw *rw, rw_span at, const char *ref, size_t len)
{
	if (len > UINT32_MAX / 2 || rw_replace(rw, at, "") < 0)
		return -1;
	rw->e[rw->nedits - 1].ref = ref;
	rw->e[rw->nedits - 1].reflen = (uint32_t)len;
	return 0;
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

/* [s, first delimiter or end) as a span; -1 if empty. */
static int span_to(const char *buf, size_t s, size_t end, const char *delims, rw_span *out)
{
	size_t i = s;

	while (i < end && !strchr(delims, buf[i]))
		i++;
	if (i == s)
		return -1;
	out->off = (uint32_t)s;
	out->len = (uint32_t)(i - s);
	return 1;
}

int rw_header_next(const char *buf, size_t hdr_len, size_t *pos, rw_span *name, rw_span *val)
{
	size_t i = *pos, eol, nend, v, end;

	if (i == 0) {                           /* skip the start line */
		while (i < hdr_len && buf[i] != '\n')
			i++;
		i++;
	}
	if (i >= hdr_len)
		return 0;
	{
		/* the line ends at the first CR or LF (two vector scans beat a
		 * byte loop on every line of every message) */
		const char *lf = memchr(buf + i, '\n', hdr_len - i);
		const char *cr = memchr(buf + i, '\r', (lf ? (size_t)(lf - buf) : hdr_len) - i);
		eol = cr ? (size_t)(cr - buf) : lf ? (size_t)(lf - buf) : hdr_len;
	}
	if (eol == i)
		return 0;                       /* blank line: end of header */
	if (is_ws(buf[i]))
		return -1;                      /* folded continuation line */
	nend = i;
	while (nend < eol && buf[nend] != ':' && !is_ws(buf[nend]))
		nend++;
	v = nend;
	while (v < eol && is_ws(buf[v]))
		v++;
	if (v == eol || buf[v] != ':')
		return -1;
	v++;
	while (v < eol && is_ws(buf[v]))
		v++;
	end = eol;
	while (end > v && is_ws(buf[end - 1]))
		end--;
	name->off = (uint32_t)i;
	name->len = (uint32_t)(nend - i);
	val->off = (uint32_t)v;
	val->len = (uint32_t)(end - v);
	i = eol;
	if (i < hdr_len && buf[i] == '\r')
		i++;
	if (i < hdr_len && buf[i] == '\n')
		i++;
	*pos = i;
	return 1;
}

bool rw_name_is(const char *buf, rw_span name, const char *full, char compact)
{
	size_t n = strlen(full);

	return (name.len == n && strncasecmp(buf + name.off, full, n) == 0) ||
	       (compact && name.len == 1 && (buf[name.off] | 0x20) == (compact | 0x20));
}

int rw_header(const char *buf, size_t hdr_len, const char *name, char compact, int idx, rw_span *val)
{
	const char *nl = memchr(buf, '\n', hdr_len);   /* end of the start line */
	char c0 = (char)(name[0] | 0x20), cc = (char)(compact | 0x20);

	/* Most lines are skipped on their first byte; only candidates are
	 * parsed whole. */
	while (nl && (size_t)(nl + 1 - buf) < hdr_len) {
		size_t i = (size_t)(nl + 1 - buf), pos = i;
		char f = (char)(buf[i] | 0x20);
		rw_span n, v;
		int rc;

		if (buf[i] == '\r' || buf[i] == '\n')
			return 0;               /* blank line: end of header */
		if (is_ws(buf[i]))
			return -1;              /* folded continuation line */
		nl = memchr(buf + i, '\n', hdr_len - i);
		if (f != c0 && !(compact && f == cc))
			continue;
		rc = rw_header_next(buf, hdr_len, &pos, &n, &v);
		if (rc < 0)
			return rc;
		if (rc == 1 && rw_name_is(buf, n, name, compact) && idx-- == 0) {
			*val = v;
			return 1;
		}
	}
	return 0;
}

int rw_via_transport(const char *buf, rw_span val, rw_span *out)
{
	size_t i = val.off, end = val.off + val.len;
	int slashes = 0;

	/* SIP / 2.0 / UDP, with optional LWS around the slashes. */
	while (i < end && slashes < 2) {
		if (buf[i] == '/')
			slashes++;
		i++;
	}
	if (slashes < 2)
		return -1;
	while (i < end && is_ws(buf[i]))
		i++;
	return span_to(buf, i, end, " \t;,", out);
}

int rw_via_sentby(const char *buf, rw_span val, rw_span *out)
{
	size_t i, end = val.off + val.len;
	rw_span t;

	if (rw_via_transport(buf, val, &t) != 1)
		return -1;
	i = t.off + t.len;
	while (i < end && is_ws(buf[i]))
		i++;
	return span_to(buf, i, end, ";, \t", out);
}

int rw_values(const char *buf, rw_span val, rw_span *out, int max)
{
	size_t i = val.off, end = val.off + val.len, s = val.off;
	bool quote = false, angle = false;
	int n = 0;

	for (; i <= end; i++) {
		char ch = i < end ? buf[i] : ',';
		if (quote) {
			if (ch == '\\' && i + 1 < end)
				i++;
			else if (ch == '"')
				quote = false;
			else if (i == end)
				return -1;
			continue;
		}
		if (ch == '"' && !angle)
			quote = true;
		else if (ch == '<' && !angle)
			angle = true;
		else if (ch == '>' && angle)
			angle = false;
		else if (ch == ',' && (!angle || i == end)) {
			size_t a = s, b = i;
			if (angle)
				return -1;
			while (a < b && is_ws(buf[a]))
				a++;
			while (b > a && is_ws(buf[b - 1]))
				b--;
			if (a == b || n == max)
				return -1;
			out[n].off = (uint32_t)a;
			out[n].len = (uint32_t)(b - a);
			n++;
			s = i + 1;
		}
	}
	return n;
}

/* The ";name=value" parameter among those starting at i, before end,
 * '>' or '?'. */
static int param_scan(const char *buf, size_t i, size_t end, const char *name, rw_span *out)
{
	size_t nlen = strlen(name);

	while (i < end && buf[i] == ';') {
		size_t s = i++, e;
		while (i < end && buf[i] != ';' && buf[i] != '?' && buf[i] != '>')
			i++;
		e = s + 1;
		while (e < i && buf[e] != '=')
			e++;
		if (e - s - 1 == nlen && !strncasecmp(buf + s + 1, name, nlen)) {
			out->off = (uint32_t)s;
			out->len = (uint32_t)(i - s);
			return 1;
		}
	}
	return 0;
}

static void uri_region(const char *buf, rw_span val, size_t *s, size_t *e);

int rw_uri_param(const char *buf, rw_span val, const char *name, rw_span *out)
{
	size_t s0, e0;
	rw_span hp;

	uri_region(buf, val, &s0, &e0);
	if (s0 == val.off)
		return 0;                       /* no <>: the parameters are the header's */
	if (e0 >= val.off + val.len)
		return -1;                      /* '<' without '>' */
	if (rw_uri_hostport(buf, (rw_span){ (uint32_t)(s0 - 1), (uint32_t)(e0 + 1 - (s0 - 1)) }, &hp) != 1)
		return 0;
	return param_scan(buf, hp.off + hp.len, e0, name, out);
}

int rw_bare_uri_param(const char *buf, rw_span uri, const char *name, rw_span *out)
{
	rw_span hp;

	if (rw_uri_hostport(buf, uri, &hp) != 1)
		return 0;
	return param_scan(buf, hp.off + hp.len, uri.off + uri.len, name, out);
}

int rw_uri_user(const char *buf, rw_span val, rw_span *out)
{
	rw_span hp;
	size_t i, end;

	if (rw_uri_hostport(buf, val, &hp) != 1)
		return 0;
	uri_region(buf, val, &i, &end);
	for (; i + 4 <= end; i++)
		if (strncasecmp(buf + i, "sip:", 4) == 0 || (i + 5 <= end && strncasecmp(buf + i, "sips:", 5) == 0))
			break;
	i += buf[i + 3] == ':' ? 4 : 5;
	if (hp.off <= i)
		return 0;
	out->off = (uint32_t)i;
	out->len = (uint32_t)(hp.off - 1 - i);
	return 1;
}

/* The URI of a name-addr is inside <> (outside quotes: a display name may
 * say "sip:..." too); of an addr-spec, the whole value. */
static void uri_region(const char *buf, rw_span val, size_t *s, size_t *e)
{
	size_t i = val.off, end = val.off + val.len;
	bool quote = false;

	*s = val.off;
	*e = end;
	for (; i < end; i++) {
		if (quote) {
			if (buf[i] == '\\' && i + 1 < end)
				i++;
			else if (buf[i] == '"')
				quote = false;
		} else if (buf[i] == '"') {
			quote = true;
		} else if (buf[i] == '<') {
			*s = i + 1;
			while (++i < end && buf[i] != '>')
				;
			*e = i;
			return;
		}
	}
}

int rw_uri_hostport(const char *buf, rw_span val, rw_span *out)
{
	size_t i, end, s, at = 0;

	uri_region(buf, val, &i, &end);
	for (; i + 4 <= end; i++)
		if (strncasecmp(buf + i, "sip:", 4) == 0 || (i + 5 <= end && strncasecmp(buf + i, "sips:", 5) == 0))
			break;
	if (i + 4 > end)
		return 0;
	i += buf[i + 3] == ':' ? 4 : 5;
	s = i;
	/* The userinfo ends at the first '@' (it may hold ';', '?', '/', ','
	 * ... but no raw '@', RFC 3261 25.1); no '@' before the URI's end: no
	 * userinfo. */
	for (size_t k = i; k < end && buf[k] != '>' && buf[k] != '"' && !is_ws(buf[k]); k++)
		if (buf[k] == '@') {
			at = k + 1;
			break;
		}
	return span_to(buf, at ? at : s, end, ";>?, \t", out);
}

void rw_copy(const char *buf, rw_span s, char *out, size_t cap)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	memcpy(out, buf + s.off, n);
	out[n] = '\0';
}

int rw_request_uri(const char *buf, size_t len, rw_span *out)
{
	size_t i = 0, s;

	while (i < len && buf[i] != ' ' && buf[i] != '\r')
		i++;
	if (i >= len || buf[i] != ' ')
		return -1;
	s = ++i;
	while (i < len && buf[i] != ' ' && buf[i] != '\r')
		i++;
	if (i >= len || buf[i] != ' ' || i == s)
		return -1;
	out->off = (uint32_t)s;
	out->len = (uint32_t)(i - s);
	return 1;
}

void rw_sdp_lines(sip_rw *rw, rw_sdp_line_fn fn, void *arg)
{
	rw_sdp_lines_in(rw, (rw_span){ (uint32_t)rw->body_off, (uint32_t)(rw->len - rw->body_off) }, fn, arg);
}

void rw_sdp_lines_in(sip_rw *rw, rw_span body, rw_sdp_line_fn fn, void *arg)
{
	size_t i = body.off, end = (size_t)body.off + body.len;
	int media = -1;

	if (end > rw->len)
		return;
	while (i < end) {
		size_t eol = i;
		rw_span line;
		while (eol < end && rw->buf[eol] != '\r' && rw->buf[eol] != '\n')
			eol++;
		line.off = (uint32_t)i;
		line.len = (uint32_t)(eol - i);
		if (line.len >= 2 && rw->buf[i] == 'm' && rw->buf[i + 1] == '=')
			media++;
		if (line.len >= 2)
			fn(arg, rw, line, media);
		i = eol;
		while (i < end && (rw->buf[i] == '\r' || rw->buf[i] == '\n'))
			i++;
	}
}

rw_span rw_line_whole(const char *buf, rw_span line, size_t end)
{
	size_t e = (size_t)line.off + line.len;

	if (e < end && buf[e] == '\r')
		e++;
	if (e < end && buf[e] == '\n')
		e++;
	return (rw_span){ line.off, (uint32_t)(e - line.off) };
}

/* A delimiter line "--bnd" (close: "--bnd--"), transport padding and its
 * line end, at i, a line start: true with *next the byte after it. */
static bool mime_delim(const char *buf, size_t i, size_t end, const char *bnd, size_t blen, size_t *next, bool *close)
{
	if (i + 2 + blen > end || buf[i] != '-' || buf[i + 1] != '-' || memcmp(buf + i + 2, bnd, blen))
		return false;
	i += 2 + blen;
	*close = i + 1 < end && buf[i] == '-' && buf[i + 1] == '-';
	if (*close)
		i += 2;
	while (i < end && is_ws(buf[i]))
		i++;
	if (i < end && buf[i] == '\r')
		i++;
	if (i < end && buf[i] == '\n')
		i++;
	else if (i < end && !*close)
		return false;           /* "--bnd" starts a longer line: not a delimiter */
	*next = i;
	return true;
}

/* The next delimiter at a line start in [i, end): its line start, or end. */
static size_t mime_next(const char *buf, size_t i, size_t end, const char *bnd, size_t blen, size_t *next, bool *close)
{
	while (i < end) {
		const char *nl;
		if (mime_delim(buf, i, end, bnd, blen, next, close))
			return i;
		nl = memchr(buf + i, '\n', end - i);
		if (!nl)
			break;
		i = (size_t)(nl + 1 - buf);
	}
	return end;
}

/* A part's Content-Type: 1 application/sdp, 2 any multipart type, 0 anything else. */
static int mime_kind(const char *buf, rw_span hdr)
{
	size_t i = hdr.off, end = (size_t)hdr.off + hdr.len;

	while (i < end) {
		size_t eol = i, v;
		while (eol < end && buf[eol] != '\r' && buf[eol] != '\n')
			eol++;
		if (eol - i > 13 && !strncasecmp(buf + i, "Content-Type", 12)) {
			v = i + 12;
			while (v < eol && is_ws(buf[v]))
				v++;
			if (v < eol && buf[v] == ':') {
				v++;
				while (v < eol && is_ws(buf[v]))
					v++;
				if (eol - v >= 15 && !strncasecmp(buf + v, "application/sdp", 15) &&
				    (eol - v == 15 || buf[v + 15] == ';' || is_ws(buf[v + 15])))
					return 1;
				if (eol - v >= 10 && !strncasecmp(buf + v, "multipart/", 10))
					return 2;
				return 0;
			}
		}
		i = eol;
		while (i < end && (buf[i] == '\r' || buf[i] == '\n'))
			i++;
	}
	return 0;
}

int rw_mime_sdp(const char *buf, rw_span body, const char *bnd, size_t blen, rw_span *hdr, rw_span *content)
{
	size_t end = (size_t)body.off + body.len, next, i;
	bool close = false;
	int found = 0;

	if (!blen || blen > 70)         /* RFC 2046: 1 to 70 characters */
		return -1;
	i = mime_next(buf, body.off, end, bnd, blen, &next, &close);
	if (i == end || close)
		return -1;
	while (!close) {
		size_t ps = next, dl = mime_next(buf, ps, end, bnd, blen, &next, &close), pe = dl, h;
		rw_span ph, pc;
		int kind;

		if (dl == end)
			return -1;              /* no closing delimiter */
		/* the line end before a delimiter belongs to the delimiter */
		if (pe > ps && buf[pe - 1] == '\n')
			pe--;
		if (pe > ps && buf[pe - 1] == '\r')
			pe--;
		if (pe - ps >= 2 && buf[ps] == '\r' && buf[ps + 1] == '\n') {
			ph = (rw_span){ (uint32_t)ps, 0 };
			pc = (rw_span){ (uint32_t)(ps + 2), (uint32_t)(pe - ps - 2) };
		} else {
			for (h = ps; h + 3 < pe && memcmp(buf + h, "\r\n\r\n", 4); h++)
				;
			if (h + 3 >= pe)
				h = pe;         /* headers only */
			ph = (rw_span){ (uint32_t)ps, (uint32_t)((h < pe ? h + 2 : pe) - ps) };
			pc = h < pe ? (rw_span){ (uint32_t)(h + 4), (uint32_t)(pe - h - 4) } : (rw_span){ (uint32_t)pe, 0 };
		}
		kind = mime_kind(buf, ph);
		if (kind == 2)
			return -1;
		if (kind == 1) {
			if (found)
				return -1;
			found = 1;
			*hdr = ph;
			*content = pc;
		}
	}
	return found;
}

int rw_ipv4_next(const char *buf, rw_span s, size_t *pos, rw_span *out)
{
	size_t i = *pos < s.off ? s.off : *pos, end = (size_t)s.off + s.len;

	while (i < end) {
		size_t k = i;
		int oct = 0;
		bool ok = true;

		if (buf[i] < '0' || buf[i] > '9' || (i > s.off && ((buf[i - 1] >= '0' && buf[i - 1] <= '9') || buf[i - 1] == '.'))) {
			i++;
			continue;
		}
		for (; oct < 4 && ok; oct++) {
			int v = 0, nd = 0;
			while (k < end && buf[k] >= '0' && buf[k] <= '9' && nd < 4) {
				v = v * 10 + (buf[k++] - '0');
				nd++;
			}
			ok = nd >= 1 && nd <= 3 && v <= 255;
			if (ok && oct < 3) {
				ok = k < end && buf[k] == '.';
				k++;
			}
		}
		/* not followed by more digits, nor by ".digit" (a longer dotted run) */
		if (ok && k < end && (buf[k] >= '0' && buf[k] <= '9'))
			ok = false;
		if (ok && k + 1 < end && buf[k] == '.' && buf[k + 1] >= '0' && buf[k + 1] <= '9')
			ok = false;
		if (ok) {
			out->off = (uint32_t)i;
			out->len = (uint32_t)(k - i);
			*pos = k;
			return 1;
		}
		/* skip the whole run of digits and dots */
		while (i < end && ((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '.'))
			i++;
	}
	*pos = end;
	return 0;
}

int rw_field(const char *buf, rw_span line, int n, rw_span *out)
{
	size_t i = line.off + 2, end = line.off + line.len;

	if (line.len < 2 || buf[line.off + 1] != '=')
		return -1;
	for (int f = 0;; f++) {
		size_t s;
		while (i < end && buf[i] == ' ')
			i++;
		s = i;
		while (i < end && buf[i] != ' ')
			i++;
		if (s == i)
			return 0;
		if (f == n) {
			out->off = (uint32_t)s;
			out->len = (uint32_t)(i - s);
			return 1;
		}
	}
}

int rw_apply(const sip_rw *rw, char *out, size_t cap)
{
	int order[RW_MAX_EDITS + 1], n = rw->nedits;
	long body_delta = 0;
	rw_span cl;
	char clbuf[40];
	size_t pos = 0, o = 0;
	struct { rw_span at; const char *rep; size_t replen; } ed[RW_MAX_EDITS + 1];

	if (rw->failed)
		return -1;
	for (int i = 0; i < n; i++) {
		ed[i].at = rw->e[i].at;
		ed[i].rep = rw->e[i].ref ? rw->e[i].ref : rw->e[i].rep;
		ed[i].replen = rw->e[i].ref ? rw->e[i].reflen : rw->e[i].replen;
		if (rw->e[i].at.off >= rw->body_off)
			body_delta += (long)ed[i].replen - (long)rw->e[i].at.len;
	}
	/* Content-Length follows the body. Absent (allowed over UDP: "the
	 * rest"), it is added before the blank line: the message may go on
	 * over a stream, where a missing length would let its body be read
	 * as the next message. */
	if (rw_header(rw->buf, rw->body_off, "Content-Length", 'l', 0, &cl) == 1) {
		snprintf(clbuf, sizeof(clbuf), "%ld", (long)(rw->len - rw->body_off) + body_delta);
	} else {
		snprintf(clbuf, sizeof(clbuf), "Content-Length: %ld\r\n", (long)(rw->len - rw->body_off) + body_delta);
		cl.off = (uint32_t)(rw->body_off - 2);
		cl.len = 0;
	}
	ed[n].at = cl;
	ed[n].rep = clbuf;
	ed[n].replen = strlen(clbuf);
	n++;
	for (int i = 0; i < n; i++)
		order[i] = i;
	/* insertion sort by offset, an insertion before an edit at the same
	 * offset: at most a few dozen edits */
#define RW_BEFORE(a, b) ((a).at.off < (b).at.off || ((a).at.off == (b).at.off && !(a).at.len && (b).at.len))
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && RW_BEFORE(ed[order[j]], ed[order[j - 1]]); j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
#undef RW_BEFORE
	for (int k = 0; k < n; k++) {
		int i = order[k];
		size_t keep = ed[i].at.off - pos;
		if (ed[i].at.off < pos || o + keep + ed[i].replen > cap)
			return -1;
		memcpy(out + o, rw->buf + pos, keep);
		o += keep;
		memcpy(out + o, ed[i].rep, ed[i].replen);
		o += ed[i].replen;
		pos = ed[i].at.off + ed[i].at.len;
	}
	if (o + (rw->len - pos) > cap)
		return -1;
	memcpy(out + o, rw->buf + pos, rw->len - pos);
	o += rw->len - pos;
	return (int)o;
}
