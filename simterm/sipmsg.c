/* sipmsg.c - SIP/SDP helpers on top of libosip2 (see sipmsg.h).
 *
 * libosip2's getters take non-const lists and names although they only
 * read them; the casts below that drop const are for that reason only. */
#include "sipmsg.h"

#include <osipparser2/sdp_message.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIPMSG_AGENT "Traverse simterm"

void sipmsg_init(void)
{
	parser_init();
}

bool sipmsg_is_keepalive(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (data[i] != '\r' && data[i] != '\n')
			return false;
	return true;
}

/* The headers every transaction matches on must be there. */
static bool msg_complete(const osip_message_t *m)
{
	osip_via_t *v = NULL;

	if (osip_message_get_via(m, 0, &v) < 0 || !v || !v->host || !v->protocol)
		return false;
	if (!m->from || !m->to || !m->call_id || !m->call_id->number)
		return false;
	if (!m->cseq || !m->cseq->number || !m->cseq->method)
		return false;
	if (MSG_IS_REQUEST(m))
		return m->sip_method && m->req_uri && m->req_uri->host;
	return m->status_code >= 100 && m->status_code <= 699;
}

int sipmsg_parse(const uint8_t *data, size_t len, osip_message_t **out)
{
	osip_message_t *m;

	*out = NULL;
	if (len == 0 || len > SIPMSG_MAX_LEN)
		return TV_EINVAL;
	if (osip_message_init(&m) != 0)
		return TV_ENOMEM;
	if (osip_message_parse(m, (const char *)data, len) != 0 || !msg_complete(m)) {
		osip_message_free(m);
		return TV_EINVAL;
	}
	*out = m;
	return 0;
}

int sipmsg_to_str(osip_message_t *m, char **buf, size_t *len)
{
	int rc = osip_message_to_str(m, buf, len);

	if (rc == OSIP_NOMEM)
		return TV_ENOMEM;
	return rc == 0 ? 0 : TV_EINVAL;
}

int sipmsg_request(const sipmsg_req *r, osip_message_t **out)
{
	osip_message_t *m;
	osip_uri_t *u;
	char hdr[512];
	int rc = 0;

	*out = NULL;
	if (osip_message_init(&m) != 0)
		return TV_ENOMEM;
	osip_message_set_method(m, osip_strdup(r->method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (osip_uri_init(&u) != 0) {
		osip_message_free(m);
		return TV_ENOMEM;
	}
	if (osip_uri_parse(u, r->ruri) != 0) {
		osip_uri_free(u);
		osip_message_free(m);
		return TV_EINVAL;
	}
	osip_message_set_uri(m, u);
	rc |= osip_message_set_via(m, r->via);
	snprintf(hdr, sizeof(hdr), "<%s>;tag=%s", r->from_uri, r->from_tag);
	rc |= osip_message_set_from(m, hdr);
	if (r->to_tag && r->to_tag[0])
		snprintf(hdr, sizeof(hdr), "<%s>;tag=%s", r->to_uri, r->to_tag);
	else
		snprintf(hdr, sizeof(hdr), "<%s>", r->to_uri);
	rc |= osip_message_set_to(m, hdr);
	rc |= osip_message_set_call_id(m, r->call_id);
	snprintf(hdr, sizeof(hdr), "%lu %s", r->cseq, r->method);
	rc |= osip_message_set_cseq(m, hdr);
	if (r->contact)
		rc |= sipmsg_add_contact(m, r->contact, r->allow);
	rc |= osip_message_set_max_forwards(m, "70");
	rc |= osip_message_set_header(m, "User-Agent", SIPMSG_AGENT);
	if (rc != 0) {
		osip_message_free(m);
		return TV_ENOMEM;
	}
	*out = m;
	return 0;
}

int sipmsg_add_contact(osip_message_t *m, const char *uri, const char *allow)
{
	char hdr[512];

	snprintf(hdr, sizeof(hdr), "<%s>", uri);
	if (osip_message_set_contact(m, hdr) != 0 ||
	    (allow && osip_message_set_header(m, "Allow", allow) != 0))
		return TV_ENOMEM;
	return 0;
}

static int vias_copy(const osip_message_t *from, osip_message_t *to)
{
	osip_via_t *v, *c;

	for (int i = 0; osip_message_get_via(from, i, &v) >= 0 && v; i++) {
		if (osip_via_clone(v, &c) != 0)
			return TV_ENOMEM;
		if (osip_list_add(&to->vias, c, -1) < 0) {
			osip_via_free(c);
			return TV_ENOMEM;
		}
	}
	return 0;
}

int sipmsg_response(const osip_message_t *req, int code, const char *to_tag, osip_message_t **out)
{
	osip_message_t *r;
	const char *reason = osip_message_get_reason(code);
	int rc = 0;

	*out = NULL;
	if (osip_message_init(&r) != 0)
		return TV_ENOMEM;
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(r, code);
	osip_message_set_reason_phrase(r, osip_strdup(reason ? reason : "Unknown"));
	if (vias_copy(req, r) != 0 ||
	    osip_from_clone(req->from, &r->from) != 0 ||
	    osip_to_clone(req->to, &r->to) != 0 ||
	    osip_call_id_clone(req->call_id, &r->call_id) != 0 ||
	    osip_cseq_clone(req->cseq, &r->cseq) != 0) {
		rc = TV_ENOMEM;
		goto fail;
	}
	if (to_tag && !sipmsg_tag(r->to) && osip_to_set_tag(r->to, osip_strdup(to_tag)) != 0) {
		rc = TV_ENOMEM;
		goto fail;
	}
	/* RFC 3261 12.1.1: the Record-Route of a request is copied into the
	 * responses that can make a dialog, so the caller learns the route set */
	if (code > 100 && code < 300) {
		osip_record_route_t *rr = NULL, *cp;
		for (int i = 0; osip_message_get_record_route(req, i, &rr) >= 0 && rr; i++) {
			if (osip_record_route_clone(rr, &cp) != 0) {
				rc = TV_ENOMEM;
				goto fail;
			}
			osip_list_add(&r->record_routes, cp, -1);
		}
	}
	osip_message_set_header(r, "User-Agent", SIPMSG_AGENT);
	*out = r;
	return 0;
fail:
	osip_message_free(r);
	return rc;
}

static osip_generic_param_t *via_param(const osip_via_t *v, const char *name)
{
	osip_generic_param_t *p = NULL;

	if (osip_via_param_get_byname((osip_via_t *)v, (char *)name, &p) != 0)
		return NULL;
	return p;
}

static int param_set(osip_via_t *v, const char *name, const char *value)
{
	osip_generic_param_t *p = via_param(v, name);
	char *dup = osip_strdup(value);

	if (!dup)
		return TV_ENOMEM;
	if (p) {
		osip_free(p->gvalue);
		p->gvalue = dup;
		return 0;
	}
	if (osip_via_param_add(v, osip_strdup(name), dup) != 0) {
		osip_free(dup);
		return TV_ENOMEM;
	}
	return 0;
}

int sipmsg_via_stamp(osip_message_t *req, const tv_ep *from)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *rport;
	char ip[TV_IP_STRLEN], port[8];
	tv_ip host;
	int rc = 0;

	if (osip_message_get_via(req, 0, &v) < 0 || !v)
		return TV_ENOENT;
	tv_ip_fmt(&from->ip, ip);
	rport = via_param(v, "rport");
	if (rport && (!rport->gvalue || !rport->gvalue[0])) {
		snprintf(port, sizeof(port), "%u", from->port);
		rc = param_set(v, "rport", port);
		if (rc == 0)
			rc = param_set(v, "received", ip);
	} else if (tv_ip_parse(v->host, &host) < 0 || !tv_ip_eq(&host, &from->ip)) {
		rc = param_set(v, "received", ip);
	}
	osip_message_force_update(req);
	return rc;
}

int sipmsg_via_target(const osip_message_t *m, int pos, tv_ep *out)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *recv, *rport;
	const char *host;
	unsigned long port = 5060;

	if (osip_message_get_via(m, pos, &v) < 0 || !v || !v->host)
		return TV_ENOENT;
	recv = via_param(v, "received");
	rport = via_param(v, "rport");
	host = recv && recv->gvalue ? recv->gvalue : v->host;
	if (tv_ip_parse(host, &out->ip) < 0)
		return TV_EINVAL;
	if (rport && rport->gvalue && rport->gvalue[0]) {
		if (sipmsg_uint(rport->gvalue, 65535, &port) < 0)
			return TV_EINVAL;
	} else if (v->port && sipmsg_uint(v->port, 65535, &port) < 0) {
		return TV_EINVAL;
	}
	if (port == 0)
		return TV_EINVAL;
	out->port = (uint16_t)port;
	return 0;
}

int sipmsg_uri_ep(const osip_uri_t *u, tv_ep *out)
{
	unsigned long port = 5060;

	if (!u || !u->host || tv_ip_parse(u->host, &out->ip) < 0)
		return TV_EINVAL;
	if (u->port && u->port[0] && (sipmsg_uint(u->port, 65535, &port) < 0 || port == 0))
		return TV_EINVAL;
	out->port = (uint16_t)port;
	return 0;
}

const char *sipmsg_branch(const osip_message_t *m)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *p;

	if (osip_message_get_via(m, 0, &v) < 0 || !v)
		return NULL;
	p = via_param(v, "branch");
	return p ? p->gvalue : NULL;
}

const char *sipmsg_header(const osip_message_t *m, const char *name)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(m, name, 0, &h) < 0 || !h)
		return NULL;
	return h->hvalue;
}

const char *sipmsg_tag(const osip_from_t *f)
{
	osip_generic_param_t *p = NULL;

	if (!f || osip_from_get_tag((osip_from_t *)f, &p) != 0 || !p)
		return NULL;
	return p->gvalue;
}

int sipmsg_uri_str(const osip_uri_t *u, char *buf, size_t cap)
{
	char *s = NULL;
	int rc = 0;

	if (!u || osip_uri_to_str(u, &s) != 0)
		return TV_EINVAL;
	if (strlen(s) >= cap)
		rc = TV_ENOSPC;
	else
		memcpy(buf, s, strlen(s) + 1);
	osip_free(s);
	return rc;
}

int sipmsg_contact_uri(const osip_message_t *m, char *buf, size_t cap)
{
	osip_contact_t *c = NULL;

	if (osip_message_get_contact(m, 0, &c) < 0 || !c || !c->url)
		return TV_ENOENT;
	return sipmsg_uri_str(c->url, buf, cap);
}

unsigned long sipmsg_expires(const osip_message_t *m, const osip_contact_t *c, unsigned long dflt,
			     unsigned long max)
{
	osip_generic_param_t *p = NULL;
	const char *h = sipmsg_header(m, "expires");
	unsigned long v = dflt;

	if (c && osip_contact_param_get_byname((osip_contact_t *)c, "expires", &p) == 0 && p &&
	    sipmsg_uint(p->gvalue, ULONG_MAX, &v) == 0)
		return v > max ? max : v;
	if (h && sipmsg_uint(h, ULONG_MAX, &v) < 0)
		v = dflt;
	return v > max ? max : v;
}

bool sipmsg_has_option(const osip_message_t *m, const char *name, const char *compact, const char *tag)
{
	osip_header_t *h = NULL;
	size_t tl = strlen(tag);

	for (int k = 0; k < 2; k++) {
		const char *n = k == 0 ? name : compact;

		for (int pos = 0; n && (pos = osip_message_header_get_byname(m, n, pos, &h)) >= 0 && h; pos++) {
			for (const char *v = h->hvalue; v && *v;) {
				size_t len;

				v += strspn(v, " \t,");
				len = strcspn(v, " \t,");
				if (len == tl && strncasecmp(v, tag, tl) == 0)
					return true;
				v += len;
			}
		}
	}
	return false;
}

/* The value of a "name = value" parameter spanning [p, p + len), spaces
 * trimmed, into out; false if it is some other parameter. */
static bool param_value(const char *p, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len <= nl || strncasecmp(p, name, nl) != 0)
		return false;
	p += nl, len -= nl;
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (!len || *p != '=')
		return false;
	p++, len--;
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (len >= cap)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

int sipmsg_session_expires(const osip_message_t *m, unsigned long max, unsigned long *secs,
			   enum sipmsg_refresher *refresher)
{
	const char *v = sipmsg_header(m, "session-expires");
	char num[16], val[8];
	size_t n;

	if (!v)
		v = sipmsg_header(m, "x");
	if (!v)
		return TV_ENOENT;
	n = strcspn(v, ";");
	if (n >= sizeof(num))
		return TV_EINVAL;
	memcpy(num, v, n);
	num[n] = '\0';
	if (sipmsg_uint(num, max, secs) < 0 || *secs == 0)
		return TV_EINVAL;
	*refresher = SIPMSG_REFRESHER_NONE;
	for (v += n; *v == ';'; v += n) {
		v++;
		n = strcspn(v, ";");
		if (!param_value(v, n, "refresher", val, sizeof(val)))
			continue;
		if (strcasecmp(val, "uac") == 0)
			*refresher = SIPMSG_REFRESHER_UAC;
		else if (strcasecmp(val, "uas") == 0)
			*refresher = SIPMSG_REFRESHER_UAS;
	}
	return 0;
}

int sipmsg_add_session_expires(osip_message_t *m, unsigned long secs, enum sipmsg_refresher refresher)
{
	char v[48];

	snprintf(v, sizeof(v), "%lu%s", secs,
		 refresher == SIPMSG_REFRESHER_UAC ? ";refresher=uac" :
		 refresher == SIPMSG_REFRESHER_UAS ? ";refresher=uas" : "");
	return osip_message_set_header(m, "Session-Expires", v) == 0 ? 0 : TV_ENOMEM;
}

int sipmsg_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	while (s && (*s == ' ' || *s == '\t'))
		s++;
	if (!s || *s < '0' || *s > '9')
		return TV_EINVAL;
	v = strtoul(s, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end || v > max)
		return TV_EINVAL;
	*out = v;
	return 0;
}

uint64_t sipmsg_hash(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	/* A separator, so ("ab", "c") and ("a", "bc") differ. */
	h ^= 0xff;
	return h * 0x100000001b3ULL;
}

void sipmsg_rand_hex(tv_rng *r, char *out, size_t nhex)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t x = 0;

	for (size_t i = 0; i < nhex; i++) {
		if (i % 16 == 0)
			x = tv_rng_next(r);
		out[i] = hex[x & 15];
		x >>= 4;
	}
	out[nhex] = '\0';
}

/* ---- stream framing ---------------------------------------------------- */

void sipmsg_stream_free(sipmsg_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

int sipmsg_stream_feed(sipmsg_stream *s, const uint8_t *data, size_t len)
{
	if (len > SIPMSG_MAX_LEN || s->len + len > 2 * SIPMSG_MAX_LEN)
		return TV_EFULL;
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		uint8_t *nb;

		while (cap < s->len + len)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (!nb)
			return TV_ENOMEM;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

/* Content-Length (or its compact form "l") from a message head ending in
 * CRLF CRLF: framing only (RFC 3261 18.3), the message itself is parsed
 * by libosip2 once it is whole. Header names in any case, blanks before
 * the colon, a value folded onto continuation lines. Returns 1 with *out
 * set, 0 if the head has none, TV_EINVAL if a value is not a number or
 * two Content-Length headers disagree (which one frames the message?). */
static int head_content_length(const uint8_t *h, size_t hlen, unsigned long *out)
{
	const uint8_t *line = h, *end = h + hlen, *eol, *colon;
	char val[32];
	size_t n, vl;
	unsigned long v;
	int found = 0;

	*out = 0;
	for (; line < end && (eol = memmem(line, (size_t)(end - line), "\r\n", 2)) != NULL; line = eol + 2) {
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || line[0] == ' ' || line[0] == '\t')
			continue;
		n = (size_t)(colon - line);
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (!((n == 14 && strncasecmp((const char *)line, "Content-Length", 14) == 0) ||
		      (n == 1 && (line[0] == 'l' || line[0] == 'L'))))
			continue;
		/* The value, with any continuation lines (LWS) joined. */
		vl = 0;
		for (const uint8_t *p = colon + 1;;) {
			size_t k = (size_t)(eol - p);
			if (vl + k + 1 >= sizeof(val))
				return TV_EINVAL;
			memcpy(val + vl, p, k);
			vl += k;
			val[vl++] = ' ';
			if (eol + 2 >= end || (eol[2] != ' ' && eol[2] != '\t'))
				break;
			p = eol + 2;
			eol = memmem(p, (size_t)(end - p), "\r\n", 2);
			if (!eol)
				return TV_EINVAL;
		}
		val[vl] = '\0';
		if (sipmsg_uint(val, SIPMSG_MAX_LEN, &v) < 0 || (found && v != *out))
			return TV_EINVAL;
		*out = v;
		found = 1;
	}
	return found;
}

/* s->buf holds [message handed out last time][rest]; the first is
 * dropped here, so the caller could read it until now. */
int sipmsg_stream_next(sipmsg_stream *s, const uint8_t **msg, size_t *mlen, uint64_t *keepalives)
{
	const uint8_t *end;
	size_t skip = 0, hlen;
	unsigned long clen;
	int rc;

	if (s->taken) {
		memmove(s->buf, s->buf + s->taken, s->len - s->taken);
		s->len -= s->taken;
		s->taken = 0;
	}
	/* RFC 5626 4.4.1: a ping is CRLF CRLF, a pong CRLF; runs may arrive
	 * in pieces, so the run length carries over. */
	while (skip < s->len && (s->buf[skip] == '\r' || s->buf[skip] == '\n')) {
		skip++;
		if (++s->crlf % 4 == 0)
			(*keepalives)++;
	}
	if (skip < s->len && s->crlf) {
		if (s->crlf % 4 >= 2)
			(*keepalives)++;
		s->crlf = 0;
	}
	if (skip) {
		memmove(s->buf, s->buf + skip, s->len - skip);
		s->len -= skip;
	}
	end = s->len >= 4 ? memmem(s->buf, s->len, "\r\n\r\n", 4) : NULL;
	if (!end)
		return s->len > SIPMSG_MAX_LEN ? TV_EINVAL : 0;
	hlen = (size_t)(end - s->buf) + 4;
	rc = head_content_length(s->buf, hlen, &clen);
	if (rc < 0 || (rc == 0 && s->need_length) || hlen + clen > SIPMSG_MAX_LEN)
		return TV_EINVAL;
	if (s->len < hlen + clen)
		return 0;
	*msg = s->buf;
	*mlen = hlen + clen;
	s->taken = *mlen;
	return 1;
}

/* ---- writing the way other stacks do ------------------------------------ */

/* The end of the head (after its CRLF CRLF), 0 if none. */
static size_t head_end(const char *in, size_t len)
{
	const char *e = len >= 4 ? memmem(in, len, "\r\n\r\n", 4) : NULL;

	return e ? (size_t)(e - in) + 4 : 0;
}

/* Whether the header line [l, l + n) is named name (or compact c): the
 * offset of its colon, or 0. */
static size_t line_is(const char *l, size_t n, const char *name, char c)
{
	const char *colon = memchr(l, ':', n);
	size_t k, nl = strlen(name);

	if (!colon || l[0] == ' ' || l[0] == '\t')
		return 0;
	k = (size_t)(colon - l);
	while (k && (l[k - 1] == ' ' || l[k - 1] == '\t'))
		k--;
	if ((k == nl && strncasecmp(l, name, nl) == 0) || (k == 1 && c && (l[0] == c || l[0] == c - 32)))
		return (size_t)(colon - l);
	return 0;
}

/* Where to fold a header value [v, v + n): after the last top-level
 * comma, else before the last top-level ';', else at 0 (after the colon). */
static size_t fold_point(const char *v, size_t n)
{
	size_t comma = 0, semi = 0;
	int angle = 0;
	bool quoted = false;

	for (size_t i = 0; i < n; i++) {
		char ch = v[i];

		if (quoted) {
			if (ch == '\\' && i + 1 < n)
				i++;
			else if (ch == '"')
				quoted = false;
		} else if (ch == '"') {
			quoted = true;
		} else if (ch == '<') {
			angle++;
		} else if (ch == '>' && angle) {
			angle--;
		} else if (!angle && ch == ',') {
			comma = i + 1;
		} else if (!angle && ch == ';') {
			semi = i;
		}
	}
	return comma ? comma : semi;
}

/* Append n bytes at *o; false once out is full. */
static bool put(char *out, size_t cap, size_t *o, const char *p, size_t n)
{
	if (n > cap - *o)
		return false;
	memcpy(out + *o, p, n);
	*o += n;
	return true;
}

/* The logical header line starting at i: through its continuation lines,
 * without the final CRLF. */
static size_t logical_line(const char *in, size_t hend, size_t i)
{
	size_t e = i;

	for (;;) {
		const char *eol = memmem(in + e, hend - e, "\r\n", 2);

		e = (size_t)(eol - in);
		if (e + 2 >= hend || (in[e + 2] != ' ' && in[e + 2] != '\t'))
			return e - i;
		e += 2;
	}
}

int sipmsg_fold(const char *in, size_t len, char *out, size_t cap, size_t *outlen)
{
	size_t hend = head_end(in, len), o = 0, i, n, colon = 0, at;

	if (!hend)
		return TV_EINVAL;
	for (i = 0; i < hend; i += n + 2) {
		const char *l = in + i;
		char ws = 0;

		n = logical_line(in, hend, i);
		if (i > 0 && !memmem(l, n, "\r\n", 2)) {
			if ((colon = line_is(l, n, "Via", 'v')) != 0)
				ws = ' ';
			else if ((colon = line_is(l, n, "Contact", 'm')) != 0)
				ws = '\t';
		}
		if (!ws) {
			if (!put(out, cap, &o, l, n + 2))
				return TV_ENOSPC;
			continue;
		}
		at = colon + 1 + fold_point(l + colon + 1, n - colon - 1);
		if (!put(out, cap, &o, l, at) || !put(out, cap, &o, "\r\n", 2) || !put(out, cap, &o, &ws, 1) ||
		    !put(out, cap, &o, l + at, n + 2 - at))
			return TV_ENOSPC;
	}
	if (!put(out, cap, &o, in + hend, len - hend))
		return TV_ENOSPC;
	*outlen = o;
	return 0;
}

int sipmsg_join(const char *in, size_t len, const char *name, char compact, char *out, size_t cap,
		size_t *outlen)
{
	size_t hend = head_end(in, len), o = 0, i, n, colon, v;
	int count = 0;
	bool joined = false;

	if (!hend)
		return TV_EINVAL;
	for (i = 0; i < hend; i += n + 2) {
		n = logical_line(in, hend, i);
		if (i > 0 && line_is(in + i, n, name, compact))
			count++;
	}
	if (count < 2) {
		if (!put(out, cap, &o, in, len))
			return TV_ENOSPC;
		*outlen = o;
		return 0;
	}
	for (i = 0; i < hend; i += n + 2) {
		n = logical_line(in, hend, i);
		colon = i > 0 ? line_is(in + i, n, name, compact) : 0;
		if (!colon) {
			if (!put(out, cap, &o, in + i, n + 2))
				return TV_ENOSPC;
			continue;
		}
		if (joined)
			continue;       /* its value went onto the first line */
		joined = true;
		if (!put(out, cap, &o, in + i, n))
			return TV_ENOSPC;
		/* The values of the later lines, in order. */
		for (size_t j = i + n + 2, m; j < hend; j += m + 2) {
			m = logical_line(in, hend, j);
			if (!(colon = line_is(in + j, m, name, compact)))
				continue;
			for (v = colon + 1; v < m && (in[j + v] == ' ' || in[j + v] == '\t'); v++)
				;
			if (!put(out, cap, &o, ", ", 2) || !put(out, cap, &o, in + j + v, m - v))
				return TV_ENOSPC;
		}
		if (!put(out, cap, &o, "\r\n", 2))
			return TV_ENOSPC;
	}
	if (!put(out, cap, &o, in + hend, len - hend))
		return TV_ENOSPC;
	*outlen = o;
	return 0;
}

int sipmsg_restyle(char **buf, size_t *len, unsigned styles)
{
	static const unsigned order[] = { SIPMSG_STYLE_JOIN_CONTACTS, SIPMSG_STYLE_FOLD };
	size_t cap = *len + 1, n = *len;
	char *cur = *buf, *next;
	int rc = 0;

	for (size_t i = 0; i < *len; i++)
		cap += (*buf)[i] == '\n' ? 3 : 0;       /* room for one fold per line */
	for (size_t k = 0; rc == 0 && k < sizeof(order) / sizeof(order[0]); k++) {
		if (!(styles & order[k]))
			continue;
		next = osip_malloc(cap);
		if (!next) {
			rc = TV_ENOMEM;
			break;
		}
		rc = order[k] == SIPMSG_STYLE_FOLD ? sipmsg_fold(cur, n, next, cap - 1, &n)
						   : sipmsg_join(cur, n, "Contact", 'm', next, cap - 1, &n);
		if (rc == 0)
			next[n] = '\0';
		if (cur != *buf)
			osip_free(cur);
		cur = next;
	}
	if (rc < 0) {
		if (cur != *buf)
			osip_free(cur);
		return rc;
	}
	if (cur != *buf) {
		osip_free(*buf);
		*buf = cur;
		*len = n;
	}
	return 0;
}

/* ---- SDP ----------------------------------------------------------------- */

static const struct {
	const char *name;
	int dir;
} sdp_dirs[] = {
	{ "sendrecv", SIPMSG_DIR_SENDRECV },
	{ "sendonly", SIPMSG_DIR_SEND },
	{ "recvonly", SIPMSG_DIR_RECV },
	{ "inactive", 0 },
};

#define SDP_NDIRS (sizeof(sdp_dirs) / sizeof(sdp_dirs[0]))

static const struct {
	const char *media;
	const char *pt;
	const char *rtpmap;
} sdp_codecs[SIPMSG_NMEDIA] = {
	[SIPMSG_AUDIO] = { "audio", "0", "0 PCMU/8000" },
	[SIPMSG_VIDEO] = { "video", "96", "96 H264/90000" },
};

/* Direction attribute at pos_media (-1: session level); -1 if none. */
static int sdp_dir_get(sdp_message_t *sdp, int pos_media)
{
	const char *f;

	for (int i = 0; (f = sdp_message_a_att_field_get(sdp, pos_media, i)) != NULL; i++)
		for (size_t k = 0; k < SDP_NDIRS; k++)
			if (strcasecmp(f, sdp_dirs[k].name) == 0)
				return sdp_dirs[k].dir;
	return -1;
}

/* "port" or "port IN IP4 addr" (RFC 3605). */
static int sdp_rtcp_attr(const char *v, sipmsg_media *md)
{
	char addr[TV_IP_STRLEN];
	unsigned long port;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return TV_EINVAL;
	port = strtoul(v, &end, 10);
	if (port == 0 || port > 65535)
		return TV_EINVAL;
	md->rtcp_port = (uint16_t)port;
	if (*end == '\0')
		return 0;
	if (sscanf(end, " IN IP4 %45s", addr) != 1 || tv_ip_parse(addr, &md->rtcp_addr) < 0)
		return TV_EINVAL;
	md->rtcp_has_addr = true;
	return 0;
}

static int sdp_media_read(sdp_message_t *sdp, int pos, sipmsg_media *md, int session_dir)
{
	const char *port = sdp_message_m_port_get(sdp, pos);
	const char *c = sdp_message_c_addr_get(sdp, pos, 0);
	const char *f;
	unsigned long p;
	int dir;

	if (!c)
		c = sdp_message_c_addr_get(sdp, -1, 0);
	if (!port || sipmsg_uint(port, 65535, &p) < 0)
		return TV_EINVAL;
	md->present = true;
	md->port = (uint16_t)p;
	if (p == 0)
		return 0;
	if (!c || tv_ip_parse(c, &md->addr) < 0)
		return TV_EINVAL;
	dir = sdp_dir_get(sdp, pos);
	md->dir = dir >= 0 ? dir : session_dir;
	if (md->addr.v4 == 0)
		md->dir = 0;
	for (int i = 0; (f = sdp_message_a_att_field_get(sdp, pos, i)) != NULL; i++) {
		if (strcasecmp(f, "rtcp-mux") == 0)
			md->mux = true;
		else if (strcasecmp(f, "rtcp") == 0 &&
			 sdp_rtcp_attr(sdp_message_a_att_value_get(sdp, pos, i), md) < 0)
			return TV_EINVAL;
	}
	return 0;
}

int sipmsg_sdp_read(const osip_message_t *m, sipmsg_sdp *out)
{
	osip_body_t *b = NULL;
	sdp_message_t *sdp;
	const char *media;
	int rc = 0, sdir;

	memset(out, 0, sizeof(*out));
	if (osip_message_get_body(m, 0, &b) < 0 || !b || !b->body || !b->length)
		return TV_ENOENT;
	if (m->content_type && m->content_type->type && m->content_type->subtype &&
	    (strcasecmp(m->content_type->type, "application") != 0 ||
	     strcasecmp(m->content_type->subtype, "sdp") != 0))
		return TV_EINVAL;
	if (memchr(b->body, '\0', b->length))
		return TV_EINVAL;       /* SDP is text */
	if (sdp_message_init(&sdp) != 0)
		return TV_ENOMEM;
	/* libosip2's SDP parser reads past the end of a last line ending in a
	 * bare CR: parse a copy that ends in CRLF and zeros. */
	{
		char *t = malloc(b->length + 8);
		size_t n = b->length;
		if (!t) {
			sdp_message_free(sdp);
			return TV_ENOMEM;
		}
		memcpy(t, b->body, n);
		if (t[n - 1] != '\n') {
			t[n++] = '\r';
			t[n++] = '\n';
		}
		memset(t + n, 0, 4);
		rc = sdp_message_parse(sdp, t);
		free(t);
		if (rc != 0) {
			sdp_message_free(sdp);
			return TV_EINVAL;
		}
	}
	sdir = sdp_dir_get(sdp, -1);
	if (sdir < 0)
		sdir = SIPMSG_DIR_SENDRECV;
	for (int i = 0; rc == 0 && (media = sdp_message_m_media_get(sdp, i)) != NULL; i++)
		for (int k = 0; k < SIPMSG_NMEDIA; k++)
			if (strcasecmp(media, sdp_codecs[k].media) == 0 && !out->m[k].present)
				rc = sdp_media_read(sdp, i, &out->m[k], sdir);
	sdp_message_free(sdp);
	if (rc == 0 && !out->m[SIPMSG_AUDIO].present && !out->m[SIPMSG_VIDEO].present)
		rc = TV_EINVAL;
	return rc;
}

/* We may send what the peer receives and receive what it sends. */
static int dir_mirror(int peer)
{
	return (peer & SIPMSG_DIR_SEND ? SIPMSG_DIR_RECV : 0) | (peer & SIPMSG_DIR_RECV ? SIPMSG_DIR_SEND : 0);
}

void sipmsg_sdp_local(const sipmsg_sdp_pref *p, const sipmsg_sdp *peer, sipmsg_sdp *out)
{
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < SIPMSG_NMEDIA; k++) {
		sipmsg_media *md = &out->m[k];
		bool want = k == SIPMSG_AUDIO || p->video;

		md->present = peer ? peer->m[k].present : want;
		if (!md->present || (peer && (!want || peer->m[k].port == 0)))
			continue;               /* absent, or refused: port 0 */
		md->port = (uint16_t)(p->rtp_port + 2 * k);
		if (k == SIPMSG_AUDIO)
			md->rtcp_port = p->rtcp_port;
		md->mux = p->mux && (!peer || peer->m[k].mux);
		md->dir = peer ? p->dir & dir_mirror(peer->m[k].dir) : p->dir;
	}
}

static char *dupf(const char *fmt, unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), fmt, v);
	return osip_strdup(buf);
}

/* libosip2's setters take ownership of the strings they are given. */
static int sdp_media_write(sdp_message_t *sdp, int pos, int kind, const sipmsg_media *md)
{
	const char *dir = "inactive";
	int rc;

	rc = sdp_message_m_media_add(sdp, osip_strdup(sdp_codecs[kind].media), dupf("%llu", md->port),
				     NULL, osip_strdup("RTP/AVP"));
	rc |= sdp_message_m_payload_add(sdp, pos, osip_strdup(sdp_codecs[kind].pt));
	if (md->port == 0)
		return rc ? TV_ENOMEM : 0;
	rc |= sdp_message_a_attribute_add(sdp, pos, osip_strdup("rtpmap"), osip_strdup(sdp_codecs[kind].rtpmap));
	if (md->rtcp_port)
		rc |= sdp_message_a_attribute_add(sdp, pos, osip_strdup("rtcp"), dupf("%llu", md->rtcp_port));
	if (md->mux)
		rc |= sdp_message_a_attribute_add(sdp, pos, osip_strdup("rtcp-mux"), NULL);
	for (size_t k = 0; k < SDP_NDIRS; k++)
		if (sdp_dirs[k].dir == md->dir)
			dir = sdp_dirs[k].name;
	rc |= sdp_message_a_attribute_add(sdp, pos, osip_strdup(dir), NULL);
	return rc ? TV_ENOMEM : 0;
}

int sipmsg_sdp_attach(osip_message_t *m, const char *user, const tv_ip *ip,
		      uint64_t sess_id, uint64_t sess_ver, const sipmsg_sdp *d)
{
	sdp_message_t *sdp;
	char ipstr[TV_IP_STRLEN], *body = NULL;
	int rc = 0, pos = 0;

	tv_ip_fmt(ip, ipstr);
	if (sdp_message_init(&sdp) != 0)
		return TV_ENOMEM;
	rc |= sdp_message_v_version_set(sdp, osip_strdup("0"));
	rc |= sdp_message_o_origin_set(sdp, osip_strdup(user), dupf("%llu", sess_id), dupf("%llu", sess_ver),
				       osip_strdup("IN"), osip_strdup("IP4"), osip_strdup(ipstr));
	rc |= sdp_message_s_name_set(sdp, osip_strdup("Traverse"));
	rc |= sdp_message_c_connection_add(sdp, -1, osip_strdup("IN"), osip_strdup("IP4"),
					   osip_strdup(ipstr), NULL, NULL);
	rc |= sdp_message_t_time_descr_add(sdp, osip_strdup("0"), osip_strdup("0"));
	for (int k = 0; rc == 0 && k < SIPMSG_NMEDIA; k++)
		if (d->m[k].present)
			rc = sdp_media_write(sdp, pos++, k, &d->m[k]);
	if (rc == 0 && sdp_message_to_str(sdp, &body) != 0)
		rc = TV_ENOMEM;
	sdp_message_free(sdp);
	if (rc != 0)
		return TV_ENOMEM;
	if (osip_message_set_body(m, body, strlen(body)) != 0 ||
	    osip_message_set_content_type(m, "application/sdp") != 0)
		rc = TV_ENOMEM;
	osip_free(body);
	return rc;
}
