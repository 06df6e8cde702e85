/* sip_sdp.c - SDP in a SIP message: where it is (the body, or the one SDP
 * part of a multipart body, RFC 2046 5.1 / RFC 5621), what it says
 * (libosip2's SDP parser: the leg's streams record it), and which spans
 * change (sdp_rules[], one row per kind of line).
 *
 * A multipart body's SDP part is rewritten like a plain SDP body: the
 * boundaries, the other parts and the part's header stay byte for byte
 * (a Content-Length in the part's header follows its content), and the
 * message's Content-Length is repaired by rw_apply(). A multipart body the
 * proxy cannot read (no closing delimiter, two SDP parts, an SDP that
 * could hide in a nested multipart) is refused by the caller with 488
 * (drop.sip-multipart): forwarded, its SDP would reach the other side
 * unrewritten and its media would have no relay.
 *
 * ICE (RFC 8445, 8839): with topology hiding on, a=candidate,
 * a=remote-candidates, a=ice-* and a=end-of-candidates lines are taken
 * out. The proxy relays the media itself and writes its own address in
 * c=/m=, so the candidates (the terminal's private and NAT addresses, or
 * the core's hosts) could only leak addresses and, with a default
 * candidate that matches none of them, make an ICE agent answer
 * a=ice-mismatch; without them both ends do plain RTP to the relay, as
 * rtpengine's ICE=remove does. */
#include "proxy_priv.h"

#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct sdp_ctx {
	proxy *p;
	px_leg *leg;
	enum px_side to;        /* the side the message goes to */
	const char *ip;         /* our address on that side */
	size_t end;             /* of the SDP (a multipart part ends before the body does) */
} sdp_ctx;

/* o=: the address (field 5, when there is a field 4 before it). */
static void sdp_origin(sdp_ctx *c, sip_rw *rw, rw_span line, int media)
{
	rw_span f;

	(void)media;
	if (rw_field(rw->buf, line, 5, &f) == 1 && rw_field(rw->buf, line, 4, &(rw_span){ 0 }) == 1)
		rw_replace(rw, f, c->ip);
}

static void sdp_conn(sdp_ctx *c, sip_rw *rw, rw_span line, int media)
{
	rw_span f;

	(void)media;
	if (rw_field(rw->buf, line, 2, &f) == 1)
		rw_replace(rw, f, c->ip);
}

static uint16_t our_port(const sdp_ctx *c, const px_stream *s)
{
	return c->to == PX_CORE ? s->c_port : s->a_port;
}

/* m=: the port, to the stream's on that side (a port 0 stays 0). */
static void sdp_media(sdp_ctx *c, sip_rw *rw, rw_span line, int media)
{
	rw_span f;
	char port[8];

	if (media < 0 || media >= c->leg->ns || rw_field(rw->buf, line, 1, &f) != 1 ||
	    (f.len == 1 && rw->buf[f.off] == '0'))
		return;
	snprintf(port, sizeof(port), "%u", our_port(c, c->leg->s[media]));
	rw_replace(rw, f, port);
}

/* a=rtcp:PORT [IN IP4 ADDR] (RFC 3605). */
static void sdp_rtcp(sdp_ctx *c, sip_rw *rw, rw_span line, int media)
{
	const char *b = rw->buf;
	rw_span pf = { line.off + 7, 0 }, f;
	char port[8];

	if (media < 0 || media >= c->leg->ns)
		return;
	while (pf.off + pf.len < line.off + line.len && b[pf.off + pf.len] >= '0' && b[pf.off + pf.len] <= '9')
		pf.len++;
	snprintf(port, sizeof(port), "%u", our_port(c, c->leg->s[media]) + 1);
	if (pf.len)
		rw_replace(rw, pf, port);
	/* "a=rtcp:port IN IP4 addr": the address is field 3 */
	if (rw_field(b, line, 3, &f) == 1)
		rw_replace(rw, f, c->ip);
}

/* An ICE line goes, with its line end. */
static void sdp_ice(sdp_ctx *c, sip_rw *rw, rw_span line, int media)
{
	(void)media;
	if (rw_replace(rw, rw_line_whole(rw->buf, line, c->end), "") == 0)
		c->p->st.ice_removed++;
}

typedef void (*sdp_rule_fn)(sdp_ctx *c, sip_rw *rw, rw_span line, int media);

static const struct sdp_rule {
	const char *prefix;
	sdp_rule_fn fn;
	bool hiding;            /* only with topology hiding on */
} sdp_rules[] = {
	{ "o=", sdp_origin, false },
	{ "c=", sdp_conn, false },
	{ "m=", sdp_media, false },
	{ "a=rtcp:", sdp_rtcp, false },
	{ "a=candidate:", sdp_ice, true },
	{ "a=remote-candidates:", sdp_ice, true },
	{ "a=ice-", sdp_ice, true },                    /* -ufrag -pwd -options -lite -mismatch -pacing */
	{ "a=end-of-candidates", sdp_ice, true },
};

static void sdp_line(void *arg, sip_rw *rw, rw_span line, int media)
{
	sdp_ctx *c = arg;

	for (size_t i = 0; i < sizeof(sdp_rules) / sizeof(sdp_rules[0]); i++) {
		const struct sdp_rule *r = &sdp_rules[i];
		size_t n = strlen(r->prefix);
		if (line.len >= n && !memcmp(rw->buf + line.off, r->prefix, n)) {
			if (!r->hiding || c->p->cfg.topology_hiding)
				r->fn(c, rw, line, media);
			return;
		}
	}
}

/* SDP lines, ended by CR, LF or CRLF as libosip2 reads them. */
static size_t sdp_lines(const char *body, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (body[i] == '\n' || (body[i] == '\r' && (i + 1 >= len || body[i + 1] != '\n')))
			n++;
	return n;
}

static int sdp_port(const char *s)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : -1;

	return (s && *end == '\0' && v >= 0 && v <= 65535) ? (int)v : -1;
}

/* libosip2's SDP parser wants a C string and, on a last line that ends in
 * a bare CR, reads past the end (found by fuzz/fuzz_sip.c). Parse a copy:
 * refuse NUL bytes (SDP is text), and end it with CRLF and zeros. */
static int sdp_parse_text(sdp_message_t *sdp, const char *body, size_t len)
{
	char *t;
	int rc;

	if (memchr(body, '\0', len))
		return -1;
	/* the same quadratic list appends as for headers (sip_alg.c, msg_in) */
	if (sdp_lines(body, len) > PX_SDP_LINES)
		return -1;
	t = malloc(len + 8);
	if (!t)
		return -1;
	memcpy(t, body, len);
	if (len == 0 || t[len - 1] != '\n') {
		t[len++] = '\r';
		t[len++] = '\n';
	}
	memset(t + len, 0, 4);
	rc = sdp_message_parse(sdp, t);
	free(t);
	return rc;
}

int px_sdp_find(const osip_message_t *m, const sip_rw *rw, rw_span *sdp, rw_span *part)
{
	const osip_content_type_t *ct = m->content_type;
	osip_generic_param_t *bp = NULL;
	rw_span body = { (uint32_t)rw->body_off, (uint32_t)(rw->len - rw->body_off) };
	const char *bnd;
	size_t blen;

	*part = (rw_span){ 0, 0 };
	if (!body.len || !ct || !ct->type || !ct->subtype)
		return 0;
	if (!osip_strcasecmp(ct->subtype, "sdp")) {
		*sdp = body;
		return 1;
	}
	if (osip_strcasecmp(ct->type, "multipart"))
		return 0;
	if (osip_content_type_param_get_byname((osip_content_type_t *)ct, "boundary", &bp) != 0 || !bp ||
	    !bp->gvalue)
		return -1;
	bnd = bp->gvalue;
	blen = strlen(bnd);
	if (blen >= 2 && bnd[0] == '"' && bnd[blen - 1] == '"') {
		bnd++;
		blen -= 2;
	}
	return rw_mime_sdp(rw->buf, body, bnd, blen, part, sdp);
}

/* The SDP part's own Content-Length, if its header has one, follows its
 * rewritten content. */
static void part_length(sip_rw *rw, rw_span part, rw_span sdp, int first_edit)
{
	size_t i = part.off, end = (size_t)part.off + part.len;
	long len = sdp.len;
	char num[24];

	for (int k = first_edit; k < rw->nedits; k++)
		len += (long)(rw->e[k].ref ? rw->e[k].reflen : rw->e[k].replen) - (long)rw->e[k].at.len;
	while (i < end) {
		size_t eol = i, v;
		while (eol < end && rw->buf[eol] != '\r' && rw->buf[eol] != '\n')
			eol++;
		if (eol - i > 15 && !strncasecmp(rw->buf + i, "Content-Length", 14)) {
			for (v = i + 14; v < eol && (rw->buf[v] == ' ' || rw->buf[v] == '\t' || rw->buf[v] == ':'); v++)
				;
			if (v < eol) {
				size_t e = v;
				while (e < eol && rw->buf[e] >= '0' && rw->buf[e] <= '9')
					e++;
				snprintf(num, sizeof(num), "%ld", len);
				rw_replace(rw, (rw_span){ (uint32_t)v, (uint32_t)(e - v) }, num);
			}
		}
		i = eol;
		while (i < end && (rw->buf[i] == '\r' || rw->buf[i] == '\n'))
			i++;
	}
}

/* Record what the SDP says (through libosip2's parser) and rewrite it.
 * Returns 0, or TV_EFULL when media ports ran out, TV_EINVAL if bad. */
int px_sdp_handle(proxy *p, px_leg *leg, const osip_message_t *m, sip_rw *rw, enum px_side from, tv_time now)
{
	sdp_message_t *sdp = NULL;
	sdp_ctx c = { .p = p, .leg = leg, .to = from == PX_ACCESS ? PX_CORE : PX_ACCESS };
	rw_span body, part;
	int rc = 0, first;

	if (px_sdp_find(m, rw, &body, &part) != 1 || !body.len)
		return 0;
	if (sdp_message_init(&sdp) != 0)
		return TV_ENOMEM;
	if (sdp_parse_text(sdp, rw->buf + body.off, body.len) != 0) {
		sdp_message_free(sdp);
		return TV_EINVAL;
	}
	for (int i = 0; !sdp_message_endof_media(sdp, i); i++) {
		const char *caddr = sdp_message_c_addr_get(sdp, i, 0);
		int port = sdp_port(sdp_message_m_port_get(sdp, i)), rtcp = -1;
		/* the codec: the first payload type of the m= line, and its
		 * a=rtpmap if it has one */
		int pt = sdp_port(sdp_message_m_payload_get(sdp, i, 0));
		const char *enc = NULL;
		bool held = false, mux = false;
		tv_ip a;
		px_stream *s;

		if (!caddr)
			caddr = sdp_message_c_addr_get(sdp, -1, 0);
		if (port < 0 || !caddr || tv_ip_parse(caddr, &a) < 0) {
			rc = TV_EINVAL;
			break;
		}
		if (px_stream_open(leg, i, now) < 0) {
			rc = TV_EFULL;
			break;
		}
		/* One walk over the attributes (indexed access is O(k) each). */
		{
			sdp_media_t *med = osip_list_get(&sdp->m_medias, i);
			osip_list_iterator_t it;
			for (sdp_attribute_t *at = med ? osip_list_get_first(&med->a_attributes, &it) : NULL; at;
			     at = osip_list_get_next(&it)) {
				const char *f = at->a_att_field;
				if (!f)
					continue;
				if (!strcmp(f, "rtcp-mux"))
					mux = true;
				if (!strcmp(f, "sendonly") || !strcmp(f, "inactive") || !strcmp(f, "recvonly"))
					held = true;
				/* a=rtcp:PORT [IN IP4 addr] (RFC 3605) */
				if (!strcmp(f, "rtcp"))
					rtcp = at->a_att_value ? (int)strtol(at->a_att_value, NULL, 10) : -1;
				/* a=rtpmap:PT NAME/RATE (RFC 4566 6) */
				if (!strcmp(f, "rtpmap") && !enc && pt >= 0 && at->a_att_value) {
					char *e;
					long v = strtol(at->a_att_value, &e, 10);
					if (e != at->a_att_value && v == pt && (*e == ' ' || *e == '\t')) {
						while (*e == ' ' || *e == '\t')
							e++;
						enc = e;
					}
				}
			}
		}
		if (rtcp <= 0 || rtcp > 65535)
			rtcp = port + 1;
		s = leg->s[i];
		s->held = held;
		/* the latest offer or answer names the codec (an answer's first
		 * payload type is the one both ends use) */
		if (pt >= 0 && port)
			rtpq_codec_of(pt, enc, &s->codec);
		/* Learning is allowed for a while after any offer or answer, so a
		 * call answered after long ringing still latches. */
		s->learn_until = now + p->cfg.latch_window;
		if (from == PX_ACCESS) {
			s->mux_term = mux;
			s->sdp_rtp = tv_ep4(a.v4, (uint16_t)port);
			s->sdp_rtcp = tv_ep4(a.v4, (uint16_t)(mux ? port : rtcp));
			if (p->cfg.strict_source)       /* a new offer/answer: learn again */
				s->latch[0] = s->latch[1] = PX_UNLATCHED;
		} else {
			s->mux_core = mux;
			s->core_remote[0] = tv_ep4(a.v4, (uint16_t)port);
			s->core_rtcp_port = (uint16_t)rtcp;
			s->core_known = port != 0;
		}
		/* Multiplexing holds only when offer and answer both ask for it. */
		s->core_remote[1] = s->core_remote[0];
		if (!(s->mux_term && s->mux_core))
			s->core_remote[1].port = s->core_rtcp_port;
	}
	sdp_message_free(sdp);
	if (rc < 0)
		return rc;
	c.ip = c.to == PX_CORE ? p->core_ip_s : p->access_ip_s;
	c.end = (size_t)body.off + body.len;
	first = rw->nedits;
	rw_sdp_lines_in(rw, body, sdp_line, &c);
	if (part.off) {
		part_length(rw, part, body, first);
		p->st.multipart_sdp++;
	}
	return 0;
}
