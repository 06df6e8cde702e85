/* nat_alg_sip.c - the NAT's SIP ALG. See nat_alg_sip.h for the contract.
 *
 * Finders come from proxy/sip_rw.h (spans, 1/0/-1, never a copy); this
 * file decides which spans name the flow's endpoint and what they become.
 * Edits are collected in one sip_rw and applied at once, so a message is
 * either rewritten whole or, if an edit is refused, left as it came. */
#include "nat_alg_sip.h"
#include "sip_rw.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct alg_run {
	const nat_alg_sip_ctx *c;
	sip_rw rw;
	bool sdp_addr;          /* the session-level c= names from's address */
	bool media_c;           /* the current m= section has its own c= */
	bool media_addr;        /* ... naming from's address */
	int pinholes;
	int cur_media;
	rw_span mport;          /* the current m= line's port, pending its c= */
	bool mport_set;
} alg_run;

/* "a.b.c.d" in span s: 1 with the address, 0 if s is not an IPv4 literal. */
static int parse_ip(const char *buf, rw_span s, uint32_t *ip)
{
	size_t pos = s.off;
	rw_span lit;

	if (rw_ipv4_next(buf, s, &pos, &lit) != 1 || lit.off != s.off || lit.len != s.len)
		return 0;
	{
		char tmp[16];
		unsigned a, b, c, d;
		rw_copy(buf, lit, tmp, sizeof(tmp));
		if (sscanf(tmp, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
			return 0;
		*ip = a << 24 | b << 16 | c << 8 | d;
	}
	return 1;
}

/* A decimal port (1 to 5 digits, at most 65535) in span s: 1, else 0. */
static int parse_port(const char *buf, rw_span s, uint16_t *port)
{
	unsigned p = 0;

	if (s.len == 0 || s.len > 5)
		return 0;
	for (uint32_t i = 0; i < s.len; i++) {
		char ch = buf[s.off + i];
		if (ch < '0' || ch > '9')
			return 0;
		p = p * 10 + (unsigned)(ch - '0');
	}
	if (p > 65535)
		return 0;
	*port = (uint16_t)p;
	return 1;
}

/* host[:port] span: 1 with address and port (5060 if absent), 0 if the
 * host is not an IPv4 literal or the port is not a number. */
static int parse_hostport(const char *buf, rw_span hp, uint32_t *ip, uint16_t *port)
{
	rw_span h = hp;
	const char *colon = memchr(buf + hp.off, ':', hp.len);

	*port = 5060;
	if (colon) {
		uint32_t hl = (uint32_t)(colon - (buf + hp.off));
		rw_span ps = { hp.off + hl + 1, hp.len - hl - 1 };
		h.len = hl;
		if (!parse_port(buf, ps, port))
			return 0;
	}
	return parse_ip(buf, h, ip);
}

static void fmt_ip(uint32_t ip, char *out, size_t cap)
{
	snprintf(out, cap, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
}

/* The port written for from's port: to's, or with wrong-port (outbound)
 * the private one. */
static uint16_t new_port(const nat_alg_sip_ctx *c)
{
	return c->dir == NAT_OUT && (c->faults & NAT_ALGF_WRONG_PORT) ? c->from.port : c->to.port;
}

/* Rewrite host:port span hp if it names from. 1 if an edit was made. */
static int map_hostport(alg_run *r, rw_span hp)
{
	uint32_t ip;
	uint16_t port;
	char rep[32], a[16];

	if (!parse_hostport(r->rw.buf, hp, &ip, &port) || ip != r->c->from.ip.v4 || port != r->c->from.port)
		return 0;
	fmt_ip(r->c->to.ip.v4, a, sizeof(a));
	snprintf(rep, sizeof(rep), "%s:%u", a, new_port(r->c));
	return rw_replace(&r->rw, hp, rep) == 0;
}

static int map_uri(alg_run *r, rw_span val)
{
	rw_span hp;

	return rw_uri_hostport(r->rw.buf, val, &hp) == 1 ? map_hostport(r, hp) : 0;
}

/* A ";name=value" parameter of the top Via after its sent-by. */
static int via_param(const char *buf, rw_span via, rw_span sentby, const char *name, rw_span *out)
{
	size_t i = (size_t)sentby.off + sentby.len, end = (size_t)via.off + via.len, n = strlen(name);

	while (i < end && buf[i] != ',') {
		if (buf[i] == ';') {
			size_t s = i + 1, e = s;
			while (e < end && buf[e] != ';' && buf[e] != ',' && buf[e] != ' ' && buf[e] != '\t')
				e++;
			if (e - s > n + 1 && !strncasecmp(buf + s, name, n) && buf[s + n] == '=') {
				out->off = (uint32_t)(s + n + 1);
				out->len = (uint32_t)(e - s - n - 1);
				return 1;
			}
			i = e;
		} else {
			i++;
		}
	}
	return 0;
}

static void map_via(alg_run *r)
{
	const char *buf = r->rw.buf;
	rw_span via, sb, p;
	uint32_t ip;
	char a[16], num[8];

	if (rw_header(buf, r->rw.body_off, "Via", 'v', 0, &via) != 1 || rw_via_sentby(buf, via, &sb) != 1)
		return;
	if (!map_hostport(r, sb))
		return;
	/* received= and rport= name the address and port the next hop saw:
	 * translated with the sent-by they belong to (inbound responses). */
	if (via_param(buf, via, sb, "received", &p) == 1 && parse_ip(buf, p, &ip) && ip == r->c->from.ip.v4) {
		fmt_ip(r->c->to.ip.v4, a, sizeof(a));
		rw_replace(&r->rw, p, a);
	}
	if (via_param(buf, via, sb, "rport", &p) == 1) {
		uint16_t port;
		if (parse_port(buf, p, &port) && port == r->c->from.port) {
			snprintf(num, sizeof(num), "%u", new_port(r->c));
			rw_replace(&r->rw, p, num);
		}
	}
}

static void map_contacts(alg_run *r)
{
	const char *buf = r->rw.buf;
	size_t pos = 0;
	rw_span name, val, vals[16];
	int rc;

	while ((rc = rw_header_next(buf, r->rw.body_off, &pos, &name, &val)) == 1) {
		int n;
		if (!rw_name_is(buf, name, "Contact", 'm'))
			continue;
		n = rw_values(buf, val, vals, 16);
		for (int i = 0; i < n; i++)
			map_uri(r, vals[i]);
	}
}

static void map_header_uri(alg_run *r, const char *name, char compact)
{
	rw_span val;

	if (rw_header(r->rw.buf, r->rw.body_off, name, compact, 0, &val) == 1)
		map_uri(r, val);
}

/* The m= port pending for the current media section, once we know which
 * address it is on (a media-level c= or the session's). */
static void flush_media(alg_run *r)
{
	const nat_alg_sip_ctx *c = r->c;
	uint16_t port, ext;
	char num[8];

	if (!r->mport_set)
		return;
	r->mport_set = false;
	if (!(r->media_c ? r->media_addr : r->sdp_addr) || c->dir != NAT_OUT || !c->media)
		return;
	if (!parse_port(r->rw.buf, r->mport, &port) || port == 0)
		return;         /* 0: a disabled stream */
	if (c->faults & NAT_ALGF_NO_PINHOLE) {
		/* the buggy ALG still writes the port it would have used */
		return;
	}
	if (c->media(c->arg, (uint16_t)port, &ext) < 0)
		return;
	r->pinholes++;
	if (ext == port || (c->faults & NAT_ALGF_WRONG_PORT))
		return;
	snprintf(num, sizeof(num), "%u", ext);
	rw_replace(&r->rw, r->mport, num);
}

static void sdp_line(void *arg, sip_rw *rw, rw_span line, int media_idx)
{
	alg_run *r = arg;
	const char *buf = rw->buf;
	char kind = buf[line.off];
	rw_span f;
	uint32_t ip;
	char a[16];

	if (media_idx != r->cur_media) {
		flush_media(r);
		r->cur_media = media_idx;
		r->media_c = r->media_addr = false;
	}
	if (kind == 'm' && rw_field(buf, line, 1, &f) == 1) {
		r->mport = f;           /* checked when it is used */
		r->mport_set = true;
		return;
	}
	if ((kind == 'c' && rw_field(buf, line, 2, &f) == 1) || (kind == 'o' && rw_field(buf, line, 5, &f) == 1)) {
		bool ours = parse_ip(buf, f, &ip) && ip == r->c->from.ip.v4;
		if (kind == 'c' && media_idx < 0)
			r->sdp_addr = ours;
		else if (kind == 'c')
			r->media_c = true, r->media_addr = ours;
		if (!ours)
			return;
		fmt_ip(r->c->to.ip.v4, a, sizeof(a));
		rw_replace(rw, f, a);
	}
}

static bool body_is_sdp(const sip_rw *rw)
{
	rw_span ct;

	if (rw->body_off >= rw->len || rw_header(rw->buf, rw->body_off, "Content-Type", 'c', 0, &ct) != 1)
		return false;
	return ct.len >= 15 && !strncasecmp(rw->buf + ct.off, "application/sdp", 15);
}

/* Put back the Content-Length value the message came with (the
 * no-content-length fault): rw_apply always repairs it. */
static int restore_length(const char *in, size_t body_off, char *out, int n)
{
	rw_span a, b;
	const char *end = memmem(out, (size_t)n, "\r\n\r\n", 4);

	if (!end || rw_header(in, body_off, "Content-Length", 'l', 0, &a) != 1 ||
	    rw_header(out, (size_t)(end - out) + 4, "Content-Length", 'l', 0, &b) != 1)
		return n;
	memmove(out + b.off + a.len, out + b.off + b.len, (size_t)n - b.off - b.len);
	memcpy(out + b.off, in + a.off, a.len);
	return n + (int)a.len - (int)b.len;
}

int nat_alg_sip_rewrite(const nat_alg_sip_ctx *c, const char *in, size_t len, char *out, size_t cap, int *pinholes)
{
	alg_run r = { .c = c, .cur_media = -1 };
	bool response;
	uint32_t f = c->faults;
	bool headers = !(f & (NAT_ALGF_VIA_ONLY | NAT_ALGF_CONTACT_ONLY));
	int n;

	if (pinholes)
		*pinholes = 0;
	if (len < 8 || rw_init(&r.rw, in, len) < 0)
		return TV_EINVAL;
	response = !strncasecmp(in, "SIP/2.0 ", 8);
	if (!response) {
		rw_span ru;
		if (rw_request_uri(in, len, &ru) != 1)
			return TV_EINVAL;
		{       /* "METHOD URI SIP/2.0" on the first line */
			const char *nl = memchr(in, '\n', r.rw.body_off);
			size_t e = (size_t)ru.off + ru.len;
			if (!nl || (size_t)(nl - in) < e + 8 || strncasecmp(in + e + 1, "SIP/2.0", 7))
				return TV_EINVAL;
		}
		if (headers)
			map_uri(&r, ru);
	}
	{       /* a folded or broken header line: not ours to touch */
		size_t pos = 0;
		rw_span nm, v;
		int rc;
		while ((rc = rw_header_next(in, r.rw.body_off, &pos, &nm, &v)) == 1)
			;
		if (rc < 0)
			return TV_EINVAL;
	}
	if (!(f & NAT_ALGF_CONTACT_ONLY))
		map_via(&r);
	if (!(f & NAT_ALGF_VIA_ONLY))
		map_contacts(&r);
	if (headers) {
		map_header_uri(&r, "From", 'f');
		map_header_uri(&r, "To", 't');
	}
	if (headers && !(f & NAT_ALGF_NO_SDP) && body_is_sdp(&r.rw)) {
		rw_sdp_lines(&r.rw, sdp_line, &r);
		flush_media(&r);
	}
	if (pinholes)
		*pinholes = r.pinholes;
	if (r.rw.nedits == 0)
		return NAT_ALG_UNCHANGED;
	if (r.rw.failed)
		return TV_EINVAL;
	n = rw_apply(&r.rw, out, cap);
	if (n < 0)
		return TV_ENOSPC;
	if (f & NAT_ALGF_NO_CONTENT_LENGTH)
		n = restore_length(in, r.rw.body_off, out, n);
	return n;
}

static uint32_t pseudo(const uint8_t *ip, size_t l4len)
{
	uint32_t s = pkt_csum_add(0, ip + 12, 8);

	return s + TV_PROTO_UDP + (uint32_t)l4len;
}

int nat_alg_sip_packet(const nat_alg_sip_ctx *c, uint8_t *pkt, size_t *len, size_t cap, const pkt_info *pi,
		       char *scratch, int *pinholes)
{
	size_t room = cap > pi->data_off ? cap - pi->data_off : 0;
	int n;
	uint8_t *u = pkt + pi->l4_off;
	uint16_t l4len, sum;

	if (room > PKT_UDP_DATA_MAX)
		room = PKT_UDP_DATA_MAX;
	if ((size_t)pi->data_off + pi->data_len > *len)
		return TV_EINVAL;
	n = nat_alg_sip_rewrite(c, (const char *)pkt + pi->data_off, pi->data_len, scratch, room, pinholes);
	if (n <= 0)
		return n;
	memcpy(pkt + pi->data_off, scratch, (size_t)n);
	l4len = (uint16_t)(UDP_HDR + n);
	pkt_put16(u + 4, l4len);
	pkt_put16(pkt + 2, (uint16_t)(pi->data_off + n));
	pkt_put16(pkt + 10, 0);
	pkt_put16(pkt + 10, pkt_csum_fold(pkt_csum_add(0, pkt, pi->l4_off)));
	if (pkt_get16(u + 6) != 0) {    /* 0: the sender did not checksum */
		pkt_put16(u + 6, 0);
		sum = pkt_csum_fold(pkt_csum_add(pseudo(pkt, l4len), u, l4len));
		pkt_put16(u + 6, sum ? sum : 0xffff);
	}
	*len = (size_t)pi->data_off + (size_t)n;
	return n;
}
