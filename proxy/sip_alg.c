/* sip_alg.c - the SIP ALG: understand a message with libosip2, record the
 * terminal's addresses, rewrite the spans that must change (sip_rw.c),
 * forward.
 *
 *   access -> core  request:  R-URI (in-dialog to a peer we rewrote) ->
 *                             the peer's real target; top Via sent-by and
 *                             Contact -> the terminal's core address; SDP
 *                             -> core media ports. To the softswitch.
 *                   response: our Via removed; Contact and SDP -> core.
 *   core -> access  request:  R-URI -> the Contact the terminal wrote; our
 *                             Via added on top; Contact -> our access
 *                             address; SDP -> access media ports.
 *                   response: top Via -> what the terminal wrote; Contact
 *                             and SDP -> access. To the NAT mapping.
 * With topology hiding (sip_topo.c) the Vias of the other side are kept
 * back and restored, and the headers of its table rewritten, both ways;
 * SDP is sip_sdp.c's. */
#include "proxy_priv.h"
#include "sip_rw.h"

#include <osipparser2/osip_parser.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KA_BRANCH "z9hG4bK-tvka-"
#define PX_BRANCH "z9hG4bK-tvpx-"

typedef struct sipmsg {
	osip_message_t *m;
	sip_rw rw;
	char call_id[128];
	const char *cseq_method;
	bool request;
	int via_tr_edit;        /* edit index of the top Via's transport toward the core, or -1 */
	rw_span unsupported;    /* Proxy-Require's value, for the 420 */
	px_hidden hide;         /* Vias this message hides, kept once it is sent */
} sipmsg;

/* Why msg_in() refused a message, and what answer a request gets. */
typedef struct refusal {
	int code;               /* 0: drop silently (counted); 200: answer OK ourselves */
	const char *reason;
} refusal;

static int refuse(proxy *p, enum px_drop d, refusal *why, int code, const char *reason)
{
	p->st.drop[d]++;
	why->code = code;
	why->reason = reason;
	return -1;
}

static bool ci_eq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && !strncasecmp(a, b, alen);
}

/* The numeric status of a response's first line, checked by hand: libosip2
 * takes any number of digits and wraps. -1 if not three digits 100-699. */
static int status_code(const char *buf, size_t len)
{
	size_t i = 0;
	int code = 0;

	while (i < len && buf[i] != ' ')
		i++;
	if (i + 4 >= len)
		return -1;
	for (int k = 1; k <= 3; k++) {
		char ch = buf[i + (size_t)k];
		if (ch < '0' || ch > '9')
			return -1;
		code = code * 10 + (ch - '0');
	}
	if (buf[i + 4] != ' ' && buf[i + 4] != '\r')
		return -1;
	return code >= 100 && code <= 699 ? code : -1;
}

/* Max-Forwards (1*DIGIT, leading zeros allowed): its value (capped at
 * 256), -1 if absent, -2 if unreadable. */
static long max_forwards(const sip_rw *rw, rw_span *at)
{
	rw_span v;
	long n = 0;

	if (rw_header(rw->buf, rw->body_off, "Max-Forwards", 0, 0, &v) != 1)
		return -1;
	*at = v;
	if (!v.len)
		return -2;
	for (uint32_t i = 0; i < v.len; i++) {
		char ch = rw->buf[v.off + i];
		if (ch < '0' || ch > '9')
			return -2;
		n = n * 10 + (ch - '0');
		if (n > 256)
			n = 256;
	}
	return n;
}

/* CSeq's number: 32 bits and under 2**31 (RFC 3261 8.1.1.5). */
static bool cseq_ok(const char *num)
{
	unsigned long long v = 0;

	if (!num || !*num)
		return false;
	for (; *num; num++) {
		if (*num < '0' || *num > '9')
			return false;
		v = v * 10 + (unsigned)(*num - '0');
		if (v >= 1ULL << 31)
			return false;
	}
	return true;
}

/* Proxy-Require (RFC 3261 16.3 step 5): the proxy supports no extension,
 * so every option named there is unsupported; their list, as written,
 * goes in the 420's Unsupported header. 1 if there is one. */
static int proxy_require(const sip_rw *rw, rw_span *opts)
{
	return rw_header(rw->buf, rw->body_off, "Proxy-Require", 0, 0, opts) == 1 && opts->len > 0;
}

/* The scheme of a Request-URI libosip2 could not read: sip, sips and tel
 * are ours (a bad one of those is a bad request); another is 416. */
static bool foreign_scheme(const char *buf, size_t len)
{
	rw_span r;
	size_t n = 0;

	if (rw_request_uri(buf, len, &r) != 1)
		return false;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	while (n < r.len && (isalpha((unsigned char)buf[r.off + n]) ||
			     (n && (isdigit((unsigned char)buf[r.off + n]) || strchr("+-.", buf[r.off + n])))))
		n++;
	if (n == 0 || n == r.len || buf[r.off + n] != ':')
		return false;
	return !ci_eq(buf + r.off, n, "sip") && !ci_eq(buf + r.off, n, "sips") && !ci_eq(buf + r.off, n, "tel");
}

/* One pass over the header: every line ends in CRLF (a bare CR or LF is
 * a line end to libosip2 and to other stacks but not to the span
 * finders, which could then rewrite another header than the one the core
 * reads), a NUL only inside a quoted string, and the count of lines and
 * commas (an upper bound on the values libosip2 will put in its lists).
 * -1 if a line end or NUL is out of place. */
static int header_check(const char *buf, size_t hdr_len, size_t *items)
{
	bool quote = false;

	*items = 0;
	for (size_t i = 0; i < hdr_len; i++) {
		char c = buf[i];
		if (c == '\r') {
			if (i + 1 >= hdr_len || buf[i + 1] != '\n')
				return -1;
			quote = false;
		} else if (c == '\n') {
			if (!i || buf[i - 1] != '\r')
				return -1;
			(*items)++;
		} else if (quote) {
			if (c == '\\' && i + 1 < hdr_len && buf[i + 1] != '\r')
				i++;
			else if (c == '"')
				quote = false;
		} else if (c == '"') {
			quote = true;
		} else if (c == ',') {
			(*items)++;
		} else if (c == '\0') {
			return -1;
		}
	}
	return 0;
}

/* Take a message in: frame it (UDP: bytes past Content-Length are
 * discarded, RFC 3261 18.3; TCP: the framer has done it), copy and unfold
 * it into p->inbuf, parse it with libosip2 and check what a SIP element
 * must check before acting on it. On -1 the message is counted and *why
 * says the answer a request gets (code 0: none); sm->rw is usable for that
 * answer whenever why->code is set. */
static int msg_in(proxy *p, const char *raw, size_t len, bool stream, sipmsg *sm, refusal *why)
{
	char *cid = NULL, *buf = p->inbuf;
	sip_frame f;
	long mf;
	rw_span mf_at = { 0, 0 };
	int rc = SF_OK;

	memset(sm, 0, sizeof(*sm));
	why->code = 0;
	if (stream) {
		if (len > SIP_TCP_MAX)
			return refuse(p, PX_DROP_SIP_TOO_BIG, why, 0, NULL);
	} else {
		rc = sip_frame_find(raw, len, false, SIP_UDP_MAX, &f);
		if (rc == SF_TOO_BIG)
			return refuse(p, PX_DROP_SIP_TOO_BIG, why, 0, NULL);
		if (rc == SF_NO_HEADER_END)
			return refuse(p, PX_DROP_SIP_MALFORMED, why, 0, NULL);
		if (rc == SF_OK) {
			if (f.extra)
				p->st.sip_trailing++;
			len = f.msg_len;
		}
	}
	memcpy(buf, raw, len);
	if (len < 16 || rw_init(&sm->rw, buf, len) < 0)
		return refuse(p, PX_DROP_SIP_MALFORMED, why, 0, NULL);
	if (sip_unfold(buf, &len, sm->rw.body_off)) {
		p->st.sip_unfolded++;
		rw_init(&sm->rw, buf, len);
	}
	buf[len] = '\0';
	sm->request = strncmp(buf, "SIP/", 4) != 0;
	/* libosip2 appends each header value to a list by walking it: a
	 * message of thousands of tiny lines (or comma-separated values) costs
	 * it milliseconds, quadratically. Real messages carry a few dozen;
	 * more than PX_HDR_ITEMS is refused unanswered (an answer would have
	 * to copy every Via back: a reflector). */
	{
		size_t items;
		if (header_check(buf, sm->rw.body_off, &items) < 0)
			return refuse(p, PX_DROP_SIP_MALFORMED, why, 0, NULL);
		if (items > PX_HDR_ITEMS)
			return refuse(p, PX_DROP_SIP_TOO_BIG, why, 0, NULL);
	}
	if (!stream && rc == SF_BAD_LENGTH)
		return refuse(p, PX_DROP_SIP_LENGTH, why, sm->request ? 400 : 0, "Bad Request (Content-Length)");
	if (osip_message_init(&sm->m) != 0)
		return refuse(p, PX_DROP_SIP_MALFORMED, why, 0, NULL);
	/* libosip2 stops at a NUL byte, which a quoted string may hold (RFC
	 * 4475 3.1.1.2): it reads a copy with NULs as spaces; the message
	 * itself goes on as it came. */
	if (memchr(buf, '\0', sm->rw.body_off)) {
		memcpy(p->outbuf, buf, len);
		for (size_t i = 0; i < sm->rw.body_off; i++)
			if (!p->outbuf[i])
				p->outbuf[i] = ' ';
		rc = osip_message_parse(sm->m, p->outbuf, len);
	} else {
		rc = osip_message_parse(sm->m, buf, len);
	}
	if (rc != 0 || !sm->m->call_id || !sm->m->cseq || !sm->m->cseq->method ||
	    osip_list_size(&sm->m->vias) < 1 || !sm->m->from || !sm->m->to || MSG_IS_REQUEST(sm->m) != sm->request)
		goto malformed;
	if (osip_call_id_to_str(sm->m->call_id, &cid) != 0)
		goto malformed;
	snprintf(sm->call_id, sizeof(sm->call_id), "%s", cid);
	osip_free(cid);
	sm->cseq_method = sm->m->cseq->method;
	if (sm->request && (!sm->m->req_uri || !sm->m->sip_method))
		goto malformed;
	/* RFC 3261 8.2.2.x / 16.3: version, CSeq, Max-Forwards, status. */
	if (!sm->m->sip_version || osip_strcasecmp(sm->m->sip_version, "SIP/2.0"))
		return refuse(p, PX_DROP_SIP_VERSION, why, sm->request ? 505 : 0, "Version Not Supported");
	if (!sm->request) {
		if (status_code(buf, len) < 0)
			return refuse(p, PX_DROP_SIP_STATUS, why, 0, NULL);
		return 0;
	}
	if (strcmp(sm->cseq_method, sm->m->sip_method))
		return refuse(p, PX_DROP_SIP_CSEQ, why, 400, "Bad Request (CSeq method)");
	if (!cseq_ok(sm->m->cseq->number))
		return refuse(p, PX_DROP_SIP_MALFORMED, why, 400, "Bad Request (CSeq)");
	mf = max_forwards(&sm->rw, &mf_at);
	if (mf == -2)
		return refuse(p, PX_DROP_SIP_MALFORMED, why, 400, "Bad Request (Max-Forwards)");
	if (mf == 0) {
		/* OPTIONS to the proxy itself is answered here (16.3 step 3). */
		if (!strcmp(sm->m->sip_method, "OPTIONS") && !sm->m->req_uri->username) {
			rw_span r, hp;
			if (rw_request_uri(buf, sm->rw.body_off, &r) == 1 && rw_uri_hostport(buf, r, &hp) == 1 &&
			    (ci_eq(buf + hp.off, hp.len, p->access_hp) || ci_eq(buf + hp.off, hp.len, p->access_ip_s))) {
				why->code = 200;
				why->reason = "OK";
				return -1;
			}
		}
		return refuse(p, PX_DROP_SIP_HOPS, why, 483, "Too Many Hops");
	}
	/* RFC 3261 16.6 step 3: what goes on carries one hop less, or 70 if
	 * it carried none; a loop through the proxy then ends. */
	if (mf > 0) {
		char n[8];
		snprintf(n, sizeof(n), "%ld", mf - 1);
		if (rw_replace(&sm->rw, mf_at, n) < 0)
			return refuse(p, PX_DROP_SIP_MALFORMED, why, 0, NULL);
	} else {
		const char *eol = memchr(buf, '\n', sm->rw.body_off);
		if (!eol || rw_replace(&sm->rw, (rw_span){ (uint32_t)(eol + 1 - buf), 0 }, "Max-Forwards: 70\r\n") < 0)
			return refuse(p, PX_DROP_SIP_MALFORMED, why, 0, NULL);
	}
	if (proxy_require(&sm->rw, &sm->unsupported))
		return refuse(p, PX_DROP_SIP_EXTENSION, why, 420, "Bad Extension");
	return 0;
malformed:
	/* A request the proxy cannot read gets 400 where it can be answered
	 * at all (its Via is there to route the answer); 416 if only its
	 * Request-URI scheme is foreign (RFC 4475 3.1.2 and 3.3.2). */
	if (sm->request && rw_header(buf, sm->rw.body_off, "Via", 'v', 0, &(rw_span){ 0, 0 }) == 1)
		return refuse(p, PX_DROP_SIP_MALFORMED, why, foreign_scheme(buf, sm->rw.body_off) ? 416 : 400,
			      foreign_scheme(buf, sm->rw.body_off) ? "Unsupported URI Scheme" : "Bad Request");
	return refuse(p, PX_DROP_SIP_MALFORMED, why, 0, NULL);
}

static void msg_free(sipmsg *sm)
{
	if (sm->m)
		osip_message_free(sm->m);
}

static bool is_method(const sipmsg *sm, const char *m)
{
	return sm->request && !strcmp(sm->m->sip_method, m);
}

/* A body in one of the methods that carry offers and answers (RFC 3264
 * with RFC 3261, 3262, 3311), or in a response to one. */
static bool offer_body(const sipmsg *sm)
{
	static const char *const m[] = { "INVITE", "ACK", "PRACK", "UPDATE" };
	const char *meth = sm->request ? sm->m->sip_method : sm->cseq_method;
	bool offer = false;

	if (osip_list_size(&sm->m->bodies) == 0)
		return false;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		offer |= meth && !strcmp(meth, m[i]);
	return offer;
}

/* May this message open a call leg (and media ports)? Only an SDP body
 * (alone or a multipart body's part) of an offer or answer: a MESSAGE or
 * OPTIONS with a body opens nothing, whatever it carries. */
static bool opens_leg(const sipmsg *sm)
{
	osip_content_type_t *ct = osip_message_get_content_type(sm->m);
	rw_span sdp, part;

	if (!offer_body(sm))
		return false;
	/* no Content-Type: RFC 3261 20.15 says it must be there; libosip2 and
	 * older stacks' SDP is still read as SDP, as before */
	return !ct || !ct->type || !ct->subtype || px_sdp_find(sm->m, &sm->rw, &sdp, &part) == 1;
}

/* An offer or answer in a multipart body the proxy cannot read (sip_sdp.c):
 * refused, never forwarded with its SDP unrewritten. */
static bool bad_multipart(proxy *p, const sipmsg *sm)
{
	rw_span sdp, part;

	if (!offer_body(sm) || px_sdp_find(sm->m, &sm->rw, &sdp, &part) >= 0)
		return false;
	p->st.drop[PX_DROP_SIP_MULTIPART]++;
	return true;
}

/* ---- replies the proxy makes itself ----------------------------------- */

/* Append to out (cap bytes) at *n; false once it no longer fits. */
static bool put(char *out, size_t cap, size_t *n, const char *a, size_t alen)
{
	if (*n > cap || alen > cap - *n)
		return false;
	memcpy(out + *n, a, alen);
	*n += alen;
	return true;
}

/* Does a To/From value carry a tag parameter (outside the URI's <>)?
 * Parameters are ";" name [ "=" value ], with white space allowed around
 * both (RFC 3261 25.1 SEMI, EQUAL). */
static bool has_tag(const char *buf, rw_span v)
{
	size_t i = v.off, end = v.off + v.len;
	const char *gt = memchr(buf + v.off, '>', v.len);

	if (gt)
		i = (size_t)(gt - buf);
	for (; i < end; i++) {
		size_t k;
		if (buf[i] != ';')
			continue;
		k = i + 1;
		while (k < end && (buf[k] == ' ' || buf[k] == '\t'))
			k++;
		if (k + 3 > end || strncasecmp(buf + k, "tag", 3))
			continue;
		k += 3;
		while (k < end && (buf[k] == ' ' || buf[k] == '\t'))
			k++;
		if (k < end && buf[k] == '=')
			return true;
	}
	return false;
}

/* A response the proxy makes itself (400, 483, 503, 505, or 200 to an
 * OPTIONS for itself): the request's Via, From, To, Call-ID and CSeq lines
 * copied as they were, sent back the way the request came: to the
 * terminal (its binding, or the connection or address it came from), or
 * with side PX_CORE to the softswitch from the terminal's core address.
 * Built in p->outbuf with every append checked: a request with many
 * headers makes a reply as long as itself, and one that does not fit is
 * not sent (counted as a send failure). */
static void reply(proxy *p, px_binding *b, tv_tcp *tcp, const tv_ep *from, const sipmsg *sm, int code,
		  const char *reason, enum px_side side, tv_time now)
{
	static const struct { const char *name; char compact; } copy[] = {
		{ "Via", 'v' }, { "From", 'f' }, { "To", 't' }, { "Call-ID", 'i' }, { "CSeq", 0 },
	};
	char *out = p->outbuf, line[160];
	size_t n = 0, cap = PX_OUT_MAX;
	bool ok;
	int k = snprintf(line, sizeof(line), "SIP/2.0 %d %s\r\n", code, reason);

	ok = put(out, cap, &n, line, (size_t)k);
	/* One pass per copied header name keeps their order (all Vias in
	 * order, then From ...); each pass is linear in the header. */
	for (size_t h = 0; ok && h < sizeof(copy) / sizeof(copy[0]); h++) {
		rw_span nm, v;
		size_t pos = 0;
		while (ok && rw_header_next(sm->rw.buf, sm->rw.body_off, &pos, &nm, &v) == 1) {
			if (!rw_name_is(sm->rw.buf, nm, copy[h].name, copy[h].compact))
				continue;
			ok = put(out, cap, &n, copy[h].name, strlen(copy[h].name)) && put(out, cap, &n, ": ", 2) &&
			     put(out, cap, &n, sm->rw.buf + v.off, v.len);
			if (ok && !strcmp(copy[h].name, "To") && !has_tag(sm->rw.buf, v))
				ok = put(out, cap, &n, ";tag=tvpx", 9);
			ok = ok && put(out, cap, &n, "\r\n", 2);
		}
	}
	if (ok && code == 420 && sm->unsupported.len)
		ok = put(out, cap, &n, "Unsupported: ", 13) &&
		     put(out, cap, &n, sm->rw.buf + sm->unsupported.off, sm->unsupported.len) && put(out, cap, &n, "\r\n", 2);
	ok = ok && put(out, cap, &n, "Content-Length: 0\r\n\r\n", 21);
	p->st.sip_replies++;
	if (!ok || (!tcp && !(b && b->tcp) && n > SIP_UDP_MAX)) {
		p->st.drop[side == PX_CORE ? PX_DROP_SEND_CORE : PX_DROP_SEND_ACCESS]++;
		return;
	}
	if (side == PX_CORE)
		px_send_core(p, b, out, n, now);
	else if (b)
		px_send_access(p, b, out, n, now);
	else
		px_send_raw(p, tcp, from, out, n, now);
}

/* Call-ID topology hiding. Phones commonly write "random@PRIVATE-IP"; on
 * the core side that host part becomes the proxy's core address, and back.
 * The swap is per terminal and symmetric (private <-> core address), so it
 * needs no state: whatever a terminal's messages carry toward the core is
 * turned back the same way in what comes to it. With topology hiding any
 * other IPv4 host part (a core host's, a terminal's public address) is
 * coded, and a code decoded, both ways (sip_topo.c). The leg is always
 * looked up by the access-side form. */
static void callid_swap(proxy *p, const px_binding *b, sipmsg *sm, enum px_side from)
{
	char priv[TV_IP_STRLEN], host[TV_IP_STRLEN], code[TV_IP_STRLEN];
	const char *want, *put;
	size_t plen = strcspn(b->sentby, ":");
	rw_span v, h;
	char *at;

	if (plen >= sizeof(priv) || rw_header(sm->rw.buf, sm->rw.body_off, "Call-ID", 'i', 0, &v) != 1)
		return;
	memcpy(priv, b->sentby, plen);
	priv[plen] = '\0';
	want = from == PX_ACCESS ? priv : p->core_ip_s;
	put = from == PX_ACCESS ? p->core_ip_s : priv;
	for (h.off = v.off + v.len; h.off > v.off && sm->rw.buf[h.off - 1] != '@'; h.off--)
		;
	if (h.off == v.off)
		return;
	h.len = v.off + v.len - h.off;
	if (h.len >= sizeof(host))
		return;
	memcpy(host, sm->rw.buf + h.off, h.len);
	host[h.len] = '\0';
	if (plen && !strcmp(host, want))
		;
	else if (p->cfg.topology_hiding && px_topo_callid_host(p, host, code, sizeof(code)))
		put = code;
	else
		return;
	rw_replace(&sm->rw, h, put);
	if (from == PX_CORE && (at = strrchr(sm->call_id, '@')) != NULL &&
	    (size_t)(at + 1 - sm->call_id) + strlen(put) < sizeof(sm->call_id))
		strcpy(at + 1, put);
}

static uint32_t cseq_number(const sipmsg *sm)
{
	return sm->m->cseq && sm->m->cseq->number ? (uint32_t)strtoul(sm->m->cseq->number, NULL, 10) : 0;
}

/* Is this core response to the pending REGISTER of a new address? */
static bool is_pending(const px_binding *b, const sipmsg *sm)
{
	return !sm->request && b->pend && !strcmp(sm->cseq_method, "REGISTER") && cseq_number(sm) == b->pend->cseq &&
	       px_hash_str(sm->call_id) == b->pend->call_id;
}

/* A 2xx to REGISTER: the granted lifetime bounds the binding (0:
 * unregistered). The Contacts themselves are restored by
 * px_contacts_to_access(). */
static void register_ok(proxy *p, px_binding *b, sipmsg *sm, tv_time now)
{
	long expires = px_register_expires(p, b, sm->m);

	if (is_pending(b, sm) && expires <= 0)
		return;         /* a new address un-registering: the binding stays where it is */
	b->registered = expires > 0;
	if (b->registered)
		px_binding_trust(p, b, now);
	px_timers_registered(b, expires, now);
}

/* ---- forwarding ------------------------------------------------------- */

/* Write the rewritten message into p->outbuf and send it. Toward the core,
 * a request over 1,300 bytes goes over TCP where the core takes TCP (RFC
 * 3261 18.1.1), its Via transport saying so (sm->via_tr_edit, the edit of
 * the top Via's transport: UDP and TCP are the same length). */
static int emit(proxy *p, px_binding *b, sipmsg *sm, enum px_side to, tv_time now)
{
	int n = rw_apply(&sm->rw, p->outbuf, PX_OUT_MAX), rc;

	if (n < 0) {
		p->st.drop[PX_DROP_SIP_MALFORMED]++;
		return -1;
	}
	if (to == PX_CORE && sm->request && n > 1300 && p->cfg.core_tcp && sm->via_tr_edit >= 0) {
		memcpy(sm->rw.e[sm->via_tr_edit].rep, "TCP", 4);
		n = rw_apply(&sm->rw, p->outbuf, PX_OUT_MAX);
		if (n < 0) {
			p->st.drop[PX_DROP_SIP_MALFORMED]++;
			return -1;
		}
		p->st.core_tcp++;
		p->outlen = (size_t)n;
		rc = px_send_core_tcp(p, b, p->outbuf, (size_t)n, now);
	} else {
		if (to == PX_CORE && sm->request && n > 1300)
			p->st.core_udp_large++;
		p->outlen = (size_t)n;
		rc = to == PX_CORE ? px_send_core(p, b, p->outbuf, (size_t)n, now) : px_send_access(p, b, p->outbuf, (size_t)n, now);
	}
	/* what it hid is kept only for a message that left: nothing answers
	 * one that did not */
	if (rc == 0)
		px_topo_keep(p, b, &sm->hide, now);
	return rc;
}

/* Toward a source the core has not accepted (it may be spoofed: a
 * victim), the proxy is no amplifier: one final response per request, no
 * provisional, nothing over 3 times the request's size (a 2xx to its
 * REGISTER, which makes it trusted, excepted). */
static bool reflect_ok(proxy *p, px_binding *b, const sipmsg *sm, size_t len)
{
	if (sm->m->status_code < 200 || !b->owed || len > 3 * (size_t)b->req_len) {
		p->st.drop[PX_DROP_SIP_REFLECT]++;
		return false;
	}
	b->owed--;
	return true;
}

/* Timer C follows a leg's first INVITE and the responses to it. */
static void tc_after(proxy *p, px_binding *b, const sipmsg *sm, enum px_side to, tv_time now)
{
	px_leg *leg = px_leg_find(b, sm->call_id);

	if (!leg)
		return;
	if (is_method(sm, "INVITE"))
		px_tc_start(leg, to, p->outbuf, p->outlen, now);
	else if (!sm->request && !strcmp(sm->cseq_method, "INVITE"))
		px_tc_response(leg, sm->m->status_code, now);
}

static void end_leg_after(proxy *p, px_binding *b, const sipmsg *sm, tv_time now)
{
	px_leg *leg = px_leg_find(b, sm->call_id);
	int code = sm->m->status_code;

	(void)p;
	if (!leg || sm->request || code < 200)
		return;
	if (!strcmp(sm->cseq_method, "INVITE") && code < 300)
		leg->confirmed = true;
	if ((!strcmp(sm->cseq_method, "INVITE") || !strcmp(sm->cseq_method, "UPDATE")) && code < 300) {
		/* A 2xx establishing or refreshing a session timer (RFC 4028). */
		osip_header_t *h = NULL;
		if ((osip_message_header_get_byname(sm->m, "session-expires", 0, &h) >= 0 && h && h->hvalue) ||
		    (osip_message_header_get_byname(sm->m, "x", 0, &h) >= 0 && h && h->hvalue)) {
			long se = strtol(h->hvalue, NULL, 10);
			if (se >= 1 && se <= 86400)
				px_timers_session_refreshed(leg, TV_SEC(se), now);
		}
	}
	/* A failed re-INVITE (491, 488...) leaves the call as it was. */
	if (!strcmp(sm->cseq_method, "INVITE") && code >= 300 && !leg->confirmed)
		px_leg_end(leg, "failed", now);
	else if (!strcmp(sm->cseq_method, "BYE"))
		px_leg_end(leg, "bye", now);
}

static void mark_ending(proxy *p, px_binding *b, const sipmsg *sm, tv_time now)
{
	px_leg *leg = px_leg_find(b, sm->call_id);

	if (!leg || !(is_method(sm, "BYE") || is_method(sm, "CANCEL")))
		return;
	if (is_method(sm, "BYE")) {
		p->st.byes++;
		leg->ending = true;
		px_timers_leg_ending(leg, now);
	} else {
		p->st.cancels++;
	}
}

/* The top Via line, whole (for removing the one we added). */
static int top_via_line(const sip_rw *rw, rw_span *line, rw_span *val)
{
	size_t s, e;

	if (rw_header(rw->buf, rw->body_off, "Via", 'v', 0, val) != 1)
		return -1;
	s = val->off;
	while (s > 0 && rw->buf[s - 1] != '\n')
		s--;
	e = val->off + val->len;
	while (e < rw->body_off && rw->buf[e] != '\n')
		e++;
	line->off = (uint32_t)s;
	line->len = (uint32_t)(e + 1 - s);
	return 0;
}

/* Answer a refused request the way it came (a response is only counted). */
static void refused(proxy *p, px_binding *b, tv_tcp *tcp, const tv_ep *from, const sipmsg *sm, const refusal *why,
		    enum px_side side, tv_time now)
{
	if (why->code && sm->request && sm->rw.buf && strncmp(sm->rw.buf, "ACK ", 4))
		reply(p, b, tcp, from, sm, why->code, why->reason, side, now);
}

/* The top Via of a request from a terminal: remember its sent-by and
 * transport as written, put the terminal's core address and the core's
 * transport (UDP; emit() may make it TCP). When Vias below it are kept
 * (sm->hide), the sent-by gets PX_VIA_MARK after it, which the core
 * echoes and its answer brings back. */
static void via_to_core(px_binding *b, sipmsg *sm)
{
	rw_span via, span;
	char sb[PX_HP], rep[PX_HP + 8], chp[TV_EP_STRLEN];

	sm->via_tr_edit = -1;
	if (rw_header(sm->rw.buf, sm->rw.body_off, "Via", 'v', 0, &via) != 1)
		return;
	if (rw_via_sentby(sm->rw.buf, via, &span) == 1) {
		if (span.len >= sizeof(sb)) {
			sm->rw.failed = true;   /* could not be restored whole: refuse */
			return;
		}
		rw_copy(sm->rw.buf, span, sb, sizeof(sb));
		if (strcmp(sb, b->sentby) && px_text_set(&b->sentby, sb, strlen(sb)) < 0) {
			sm->rw.failed = true;   /* no memory to keep it */
			return;
		}
		snprintf(rep, sizeof(rep), "%s%s", px_core_hp(b, chp), sm->hide.on ? PX_VIA_MARK : "");
		rw_replace(&sm->rw, span, rep);
	} else if (sm->hide.on) {
		sm->rw.failed = true;           /* nowhere to mark it */
		return;
	}
	if (rw_via_transport(sm->rw.buf, via, &span) == 1) {
		rw_copy(sm->rw.buf, span, b->via_tr, sizeof(b->via_tr));
		sm->via_tr_edit = sm->rw.nedits;
		rw_replace(&sm->rw, span, "UDP");
	}
}

/* The value of parameter name (";name=value") of the first Via value
 * in via, whose sent-by is span sb: 1 found, 0 not. */
static int via_param(const char *buf, rw_span via, rw_span sb, const char *name, rw_span *out)
{
	size_t i = sb.off + sb.len, end = via.off + via.len, n = strlen(name);

	while (i < end && buf[i] != ',') {
		size_t s, e;
		if (buf[i++] != ';')
			continue;
		while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		s = i;
		while (i < end && buf[i] != ';' && buf[i] != ',' && buf[i] != '=')
			i++;
		if (i - s != n || strncasecmp(buf + s, name, n) || i >= end || buf[i] != '=')
			continue;
		e = ++i;
		while (e < end && buf[e] != ';' && buf[e] != ',' && buf[e] != ' ' && buf[e] != '\t')
			e++;
		out->off = (uint32_t)i;
		out->len = (uint32_t)(e - i);
		return e > i;
	}
	return 0;
}

/* The top Via of a response from the core: back to what the terminal
 * wrote. Where the core stamped received/rport (RFC 3581), they become
 * what the proxy saw: the terminal's NAT mapping, never a core address. */
static void via_to_access(proxy *p, px_binding *b, sipmsg *sm)
{
	rw_span via, span, v;
	char tr[8], txt[TV_IP_STRLEN];

	if (rw_header(sm->rw.buf, sm->rw.body_off, "Via", 'v', 0, &via) != 1)
		return;
	if (rw_via_sentby(sm->rw.buf, via, &span) == 1) {
		if (b->sentby[0])
			rw_replace(&sm->rw, span, b->sentby);
		if (via_param(sm->rw.buf, via, span, "received", &v) == 1)
			rw_replace(&sm->rw, v, tv_ip_fmt(&b->nat.ip, txt));
		if (via_param(sm->rw.buf, via, span, "rport", &v) == 1) {
			snprintf(txt, sizeof(txt), "%u", b->nat.port);
			rw_replace(&sm->rw, v, txt);
		}
	}
	(void)p;
	if (rw_via_transport(sm->rw.buf, via, &span) == 1 && b->via_tr[0]) {
		rw_copy(sm->rw.buf, span, tr, sizeof(tr));
		if (strcmp(tr, b->via_tr))
			rw_replace(&sm->rw, span, b->via_tr);
	}
}

/* trust=register: a REGISTER from a source we do not know, naming a user
 * whose trusted binding wrote the same first Contact (the same device,
 * its NAT mapping changed): it goes to the core through that binding (the
 * core keeps seeing one address for the terminal), its responses go back
 * to the new source, and only a 2xx moves the binding there
 * (px_sip_from_core). Anything else from a new source gets a binding of
 * its own, untrusted. */
/* The device a REGISTER speaks for: its first Contact's +sip.instance
 * (RFC 5626 4.1), hashed; 0 if it names none. */
static uint64_t reg_instance(const sipmsg *sm)
{
	osip_contact_t *ct = NULL;
	osip_generic_param_t *inst = NULL;

	if (osip_message_get_contact(sm->m, 0, &ct) < 0 || !ct ||
	    osip_contact_param_get_byname(ct, "+sip.instance", &inst) != 0 || !inst || !inst->gvalue)
		return 0;
	return px_hash_str(inst->gvalue);
}

static px_binding *pend_register(proxy *p, const tv_ep *from, tv_tcp *tcp, const char *user, sipmsg *sm)
{
	px_binding *a = tv_map_get(&p->by_user, px_hash_str(user));
	uint64_t inst = reg_instance(sm);
	char hp[PX_HP];

	if (p->cfg.trust != PX_TRUST_REGISTER || !a || !a->trusted || strcmp(a->user, user))
		return NULL;
	/* the same device: the same +sip.instance where both name one, else
	 * the same first Contact as written */
	if (inst && a->instance ? inst != a->instance
				: (!px_contact_hp(a)[0] || px_first_contact_hp(&sm->rw, hp) != 1 || strcmp(hp, px_contact_hp(a))))
		return NULL;
	if (!a->pend && !(a->pend = calloc(1, sizeof(*a->pend))))
		return NULL;
	p->pend_tcp -= a->pend->tcp != NULL;
	a->pend->instance = inst;
	a->pend->nat = from ? *from : tv_ep4(0, 0);
	a->pend->tcp = tcp;
	p->pend_tcp += tcp != NULL;
	a->pend->cseq = cseq_number(sm);
	a->pend->call_id = px_hash_str(sm->call_id);
	return a;
}

/* Send toward the pending new address without moving the binding. */
static int emit_pending(proxy *p, px_binding *b, const px_pend *pd, sipmsg *sm, tv_time now)
{
	tv_ep nat = b->nat;
	tv_tcp *tcp = b->tcp;
	bool flow = b->tcp_flow;
	int rc;

	b->nat = pd->nat;
	b->tcp = pd->tcp;
	b->tcp_flow = pd->tcp != NULL;
	rc = emit(p, b, sm, PX_ACCESS, now);
	b->nat = nat;
	b->tcp = tcp;
	b->tcp_flow = flow;
	return rc;
}

/* A transaction's key: a hash of the top Via's branch (the same for an
 * INVITE, its CANCEL and the ACK of a non-2xx, RFC 3261 17.2.3), or of
 * Call-ID and CSeq number for an RFC 2543 request that has none. Our
 * branch toward a terminal is PX_BRANCH and this key in hex. */
static uint64_t txn_key(const sipmsg *sm)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *br = NULL;
	char k[160];

	if (osip_message_get_via(sm->m, 0, &v) >= 0 && v)
		osip_via_param_get_byname(v, "branch", &br);
	if (br && br->gvalue)
		return px_hash_str(br->gvalue);
	snprintf(k, sizeof(k), "%s %u", sm->call_id, cseq_number(sm));
	return px_hash_str(k);
}

static bool has_to_tag(const sipmsg *sm)
{
	osip_generic_param_t *tag = NULL;

	return sm->m->to && osip_to_get_tag(sm->m->to, &tag) == 0 && tag && tag->gvalue;
}

/* What this message hides is kept, once sent, under its transaction. */
static void hide_keep(sipmsg *sm, uint64_t key)
{
	sm->hide.on = !is_method(sm, "ACK");  /* nothing answers an ACK */
	sm->hide.key = key;
	sm->hide.cancel = !strcmp(sm->cseq_method, "CANCEL");
	sm->hide.invite = !strcmp(sm->cseq_method, "INVITE");
}

void px_sip_from_access(proxy *p, tv_tcp *tcp, const tv_ep *from, const char *msg, size_t len, tv_time now)
{
	px_binding *b;
	sipmsg sm;
	rw_span span, via;
	osip_via_t *v;
	osip_generic_param_t *branch = NULL;
	px_leg *leg;
	refusal why;
	int rc;

	b = px_binding_get(p, from, tcp, NULL, false, now);
	if (msg_in(p, msg, len, tcp != NULL, &sm, &why) < 0) {
		refused(p, b, tcp, from, &sm, &why, PX_ACCESS, now);
		goto out;
	}
	osip_message_get_via(sm.m, 0, &v);
	osip_via_param_get_byname(v, "branch", &branch);
	if (!sm.request) {
		if (branch && branch->gvalue && !strncmp(branch->gvalue, KA_BRANCH, strlen(KA_BRANCH))) {
			if (b)
				px_timers_keepalive_answered(b);
			goto out;
		}
		if (!b || !branch || !branch->gvalue || strncmp(branch->gvalue, PX_BRANCH, strlen(PX_BRANCH))) {
			p->st.drop[PX_DROP_SIP_UNKNOWN]++;
			goto out;
		}
		if (p->cfg.topology_hiding) {
			/* its Vias become the core's again, or it goes nowhere */
			uint64_t key = strtoull(branch->gvalue + strlen(PX_BRANCH), NULL, 16);
			if (px_topo_core_response(p, b, &sm.rw, key, !strcmp(sm.cseq_method, "CANCEL"),
						  sm.m->status_code, now) != 1)
				goto out;
		} else if (top_via_line(&sm.rw, &span, &via) < 0) {
			goto out;
		} else {
			/* our Via may share a line with others: remove "ours," only */
			const char *comma = memchr(sm.rw.buf + via.off, ',', via.len);
			if (comma) {
				size_t e = (size_t)(comma - sm.rw.buf) + 1;
				while (e < via.off + via.len && (sm.rw.buf[e] == ' ' || sm.rw.buf[e] == '\t'))
					e++;
				span.off = via.off;
				span.len = (uint32_t)(e - via.off);
			}
			rw_replace(&sm.rw, span, "");
		}
		sm.via_tr_edit = -1;
	} else {
		const char *user = is_method(&sm, "REGISTER") ? sm.m->to->url ? sm.m->to->url->username : NULL
							  : sm.m->from->url ? sm.m->from->url->username : NULL;
		bool pend = false;
		if (!b && is_method(&sm, "REGISTER") && user && user[0])
			pend = (b = pend_register(p, from, tcp, user, &sm)) != NULL;
		if (!b)
			b = px_binding_get(p, from, tcp, user, true, now);
		if (!b) {
			reply(p, NULL, tcp, from, &sm, 503, "Service Unavailable", PX_ACCESS, now);
			goto out;
		}
		/* (a new address of a terminal is not charged to the terminal) */
		if (!pend && !px_rate_take(p, b, now))
			goto out;       /* no answer: an answer is what a flood wants */
		if (!pend && is_method(&sm, "REGISTER") && reg_instance(&sm))
			b->instance = reg_instance(&sm);
		if (!b->trusted) {      /* bounds what goes back (reflect_ok) */
			b->req_len = (uint32_t)len;
			if (b->owed < 8)
				b->owed++;
		}
		if (!b->user[0] && user && px_text_set(&b->user, user, strnlen(user, PX_USER_MAX - 1)) == 0) {
			if (b->trusted)
				tv_map_put(&p->by_user, px_hash_str(b->user), b);
		}
		/* Vias below the terminal's own (a proxy or B2BUA behind it) */
		if (p->cfg.topology_hiding && (rc = px_topo_access_request(p, &sm.rw, &sm.hide)) != 0) {
			if (rc < 0) {
				p->st.drop[rc == TV_EFULL ? PX_DROP_SIP_TOO_BIG : PX_DROP_SIP_MALFORMED]++;
				if (!is_method(&sm, "ACK"))
					reply(p, b, tcp, from, &sm, rc == TV_EFULL ? 513 : 400,
					      rc == TV_EFULL ? "Message Too Large (Via)" : "Bad Request (Via)", PX_ACCESS, now);
				goto out;
			}
			hide_keep(&sm, txn_key(&sm));
		}
		via_to_core(b, &sm);
		/* In-dialog request to a peer whose Contact we rewrote; a
		 * transport parameter (the core side is UDP) goes. */
		if (rw_request_uri(sm.rw.buf, sm.rw.body_off, &via) == 1 &&
		    rw_uri_hostport(sm.rw.buf, via, &span) == 1) {
			char ruri[PX_HP];
			rw_copy(sm.rw.buf, span, ruri, sizeof(ruri));
			leg = px_leg_find(b, sm.call_id);
			if (leg && leg->peer_target[0] && !strcmp(ruri, p->access_hp))
				rw_replace(&sm.rw, span, leg->peer_target);
			if (rw_bare_uri_param(sm.rw.buf, via, "transport", &span) == 1)
				rw_replace(&sm.rw, span, "");
		}
		if (is_method(&sm, "REGISTER"))
			p->st.registers++;
		if (is_method(&sm, "INVITE"))
			p->st.invites++;
	}
	/* Every Contact -> our core address for this terminal. */
	if (px_contacts_to_core(p, b, &sm.rw, sm.request) < 0) {
		p->st.drop[PX_DROP_SIP_CONTACT]++;
		if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, tcp, from, &sm, 400, "Bad Request (Contact)", PX_ACCESS, now);
		goto out;
	}
	callid_swap(p, b, &sm, PX_ACCESS);
	if (bad_multipart(p, &sm)) {
		if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, tcp, from, &sm, 488, "Not Acceptable Here (multipart)", PX_ACCESS, now);
		goto out;
	}
	leg = px_leg_find(b, sm.call_id);
	if (!leg && opens_leg(&sm) && !(leg = px_leg_get(b, sm.call_id, now))) {
		/* over max-legs: nothing with an unrewritten SDP goes on */
		if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, tcp, from, &sm, 503, "Service Unavailable (too many calls)", PX_ACCESS, now);
		goto out;
	}
	if (leg && (rc = px_sdp_handle(p, leg, sm.m, &sm.rw, PX_ACCESS, now)) < 0) {
		if (sm.request && rc == TV_EFULL)
			reply(p, b, tcp, from, &sm, 503, "Service Unavailable (no media ports)", PX_ACCESS, now);
		else if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, tcp, from, &sm, 400, "Bad Request (SDP)", PX_ACCESS, now);
		if (rc != TV_EFULL)
			p->st.drop[PX_DROP_SIP_MALFORMED]++;
		if (leg->ns == 0 || !leg->confirmed)
			px_leg_end(leg, rc == TV_EFULL ? "no-ports" : "bad-sdp", now);
		goto out;
	}
	if (p->cfg.topology_hiding) {
		px_topo_headers(p, &sm.rw, PX_CORE);
		/* in a dialog (RFC 3261 12.2.1.1): the core's route set */
		if (leg && sm.request && has_to_tag(&sm) && !is_method(&sm, "CANCEL"))
			px_topo_route_put(leg, &sm.rw);
	}
	mark_ending(p, b, &sm, now);
	if (emit(p, b, &sm, PX_CORE, now) == 0) {
		tc_after(p, b, &sm, PX_CORE, now);
		end_leg_after(p, b, &sm, now);
	} else if (leg && !leg->confirmed) {
		px_leg_end(leg, "not-sent", now);    /* nobody will ever answer it: free its ports */
	}
	px_timers_terminal_msg(b, now);
out:
	msg_free(&sm);
}

void px_sip_from_core(proxy *p, px_binding *b, bool stream, const char *msg, size_t len, tv_time now)
{
	sipmsg sm;
	rw_span val;
	px_leg *leg;
	refusal why;
	char peer[PX_HP] = "";
	bool reg_ok, silent = false;
	int rc;

	if (msg_in(p, msg, len, stream, &sm, &why) < 0) {
		refused(p, b, NULL, NULL, &sm, &why, PX_CORE, now);
		goto out;
	}
	callid_swap(p, b, &sm, PX_CORE);
	leg = px_leg_find(b, sm.call_id);
	reg_ok = !sm.request && !strcmp(sm.cseq_method, "REGISTER") && sm.m->status_code >= 200 &&
		 sm.m->status_code < 300;
	if (sm.request) {
		char line[256];
		rw_span at;

		/* Request-URI: the terminal's core address -> the Contact it wrote. */
		if (px_contact_hp(b)[0] && px_ruri_to_access(p, b, &sm.rw) < 0)
			goto out;
		/* Our Via on top, so the terminal answers us; with topology
		 * hiding the only one, the core's kept until it does. */
		uint64_t key = txn_key(&sm);
		if (top_via_line(&sm.rw, &at, &val) < 0)
			goto out;
		at.len = 0;
		snprintf(line, sizeof(line), "Via: SIP/2.0/%s %s;branch=" PX_BRANCH "%016llx;rport\r\n",
			 b->tcp_flow ? "TCP" : "UDP", p->access_hp, (unsigned long long)key);
		if (strlen(line) >= RW_REP_MAX) {
			/* keep the line short enough for one edit */
			p->st.drop[PX_DROP_SIP_MALFORMED]++;
			goto out;
		}
		if (!p->cfg.topology_hiding) {
			rw_replace(&sm.rw, at, line);
		} else if ((rc = px_topo_core_request(p, &sm.rw, line, &sm.hide)) < 0) {
			p->st.drop[rc == TV_EFULL ? PX_DROP_SIP_TOO_BIG : PX_DROP_SIP_MALFORMED]++;
			if (rc == TV_EFULL && !is_method(&sm, "ACK"))
				reply(p, b, NULL, NULL, &sm, 513, "Message Too Large (Via)", PX_CORE, now);
			goto out;
		} else {
			hide_keep(&sm, key);
		}
		mark_ending(p, b, &sm, now);
	} else {
		/* A response is ours only if its top Via is the one we wrote
		 * (RFC 3261 18.1.2: else discard it). */
		rw_span sb, mark = { 0, 0 };
		char chp[TV_EP_STRLEN];
		if (rw_header(sm.rw.buf, sm.rw.body_off, "Via", 'v', 0, &val) != 1 ||
		    rw_via_sentby(sm.rw.buf, val, &sb) != 1 || !ci_eq(sm.rw.buf + sb.off, sb.len, px_core_hp(b, chp))) {
			p->st.drop[PX_DROP_SIP_UNKNOWN]++;
			goto out;
		}
		silent = !b->trusted && !reg_ok && !reflect_ok(p, b, &sm, len);
		/* only the terminal's top Via comes back, and below it what it
		 * marked as kept, or it goes nowhere */
		if (p->cfg.topology_hiding) {
			px_topo_mark(sm.rw.buf, val, &mark);
			if (px_topo_access_response(p, b, &sm.rw, mark, txn_key(&sm), !strcmp(sm.cseq_method, "CANCEL"),
						    sm.m->status_code, now) != 1)
				goto out;
		}
		via_to_access(p, b, &sm);
		if (reg_ok)
			register_ok(p, b, &sm, now);
	}
	/* Every Contact: the other party's -> our access address (the first
	 * remembered for in-dialog requests); in a 2xx to REGISTER the
	 * terminal's own come back as it wrote them. */
	if (px_contacts_to_access(p, b, &sm.rw, reg_ok, peer, sizeof(peer)) < 0) {
		p->st.drop[PX_DROP_SIP_CONTACT]++;
		if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, NULL, NULL, &sm, 400, "Bad Request (Contact)", PX_CORE, now);
		goto out;
	}
	if (bad_multipart(p, &sm)) {
		if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, NULL, NULL, &sm, 488, "Not Acceptable Here (multipart)", PX_CORE, now);
		goto out;
	}
	if (peer[0] && (leg || opens_leg(&sm) || !strcmp(sm.cseq_method, "INVITE"))) {
		if (!leg)
			leg = px_leg_get(b, sm.call_id, now);
		if (leg)
			snprintf(leg->peer_target, sizeof(leg->peer_target), "%s", peer);
	}
	if (!leg && opens_leg(&sm) && !(leg = px_leg_get(b, sm.call_id, now))) {
		if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, NULL, NULL, &sm, 503, "Service Unavailable (too many calls)", PX_CORE, now);
		goto out;
	}
	if (leg && (rc = px_sdp_handle(p, leg, sm.m, &sm.rw, PX_CORE, now)) < 0) {
		if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, NULL, NULL, &sm, rc == TV_EFULL ? 503 : 400,
			      rc == TV_EFULL ? "Service Unavailable (no media ports)" : "Bad Request (SDP)", PX_CORE, now);
		if (rc != TV_EFULL)
			p->st.drop[PX_DROP_SIP_MALFORMED]++;
		if (!leg->confirmed)
			px_leg_end(leg, rc == TV_EFULL ? "no-ports" : "bad-sdp", now);
		goto out;
	}
	if (p->cfg.topology_hiding) {
		/* the core's Record-Route, before the table takes it off: the
		 * route set of a dialog it creates (RFC 3261 12.1.1, 12.1.2) */
		if (leg && !strcmp(sm.cseq_method, "INVITE") &&
		    (sm.request ? !has_to_tag(&sm)
				: sm.m->status_code > 100 && sm.m->status_code < 300 && has_to_tag(&sm) && !leg->confirmed))
			px_topo_route_learn(leg, &sm.rw, !sm.request);
		px_topo_headers(p, &sm.rw, PX_ACCESS);
	}
	if (is_pending(b, &sm)) {
		px_pend pd = *b->pend;
		if (sm.m->status_code >= 200)
			px_pend_clear(p, b);
		if (reg_ok && px_register_expires(p, b, sm.m) > 0) {
			/* the core accepted the terminal at its new address */
			px_binding_move(p, b, &pd.nat, pd.tcp);
			if (pd.instance)
				b->instance = pd.instance;
			p->st.moved++;
			emit(p, b, &sm, PX_ACCESS, now);
		} else {
			emit_pending(p, b, &pd, &sm, now);
		}
		goto out;
	}
	if (silent || emit(p, b, &sm, PX_ACCESS, now) == 0) {
		tc_after(p, b, &sm, PX_ACCESS, now);
		end_leg_after(p, b, &sm, now);
	} else if (leg && !leg->confirmed) {
		px_leg_end(leg, "not-sent", now);
	}
	if (reg_ok && !b->registered && !b->legs) {
		p->st.unregistered++;
		px_binding_remove(p, b, now);
	}
out:
	msg_free(&sm);
}
