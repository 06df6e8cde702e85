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
 *                             and SDP -> access. To the NAT mapping. */
#include "proxy_priv.h"
#include "sip_rw.h"

#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>
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
} sipmsg;

static int msg_parse(proxy *p, const char *buf, size_t len, sipmsg *sm)
{
	char *cid = NULL;

	memset(sm, 0, sizeof(*sm));
	if (len < 16 || len > PX_SIP_MAX || rw_init(&sm->rw, buf, len) < 0)
		goto bad;
	/* Folded header lines (obsolete line folding) would hide values from
	 * the span finders: refuse the message rather than forward it half
	 * rewritten. */
	for (size_t i = 0; i + 2 < sm->rw.body_off; i++)
		if (buf[i] == '\n' && (buf[i + 1] == ' ' || buf[i + 1] == '\t'))
			goto bad;
	if (osip_message_init(&sm->m) != 0)
		goto bad;
	if (osip_message_parse(sm->m, buf, len) != 0 || !sm->m->call_id || !sm->m->cseq ||
	    !sm->m->cseq->method || osip_list_size(&sm->m->vias) < 1 || !sm->m->from || !sm->m->to)
		goto bad;
	if (osip_call_id_to_str(sm->m->call_id, &cid) != 0)
		goto bad;
	snprintf(sm->call_id, sizeof(sm->call_id), "%s", cid);
	osip_free(cid);
	sm->cseq_method = sm->m->cseq->method;
	sm->request = MSG_IS_REQUEST(sm->m);
	if (sm->request && (!sm->m->req_uri || !sm->m->sip_method))
		goto bad;
	return 0;
bad:
	if (sm->m)
		osip_message_free(sm->m);
	sm->m = NULL;
	p->st.drop[PX_DROP_SIP_MALFORMED]++;
	return -1;
}

static void msg_free(sipmsg *sm)
{
	if (sm->m)
		osip_message_free(sm->m);
}

static void span_text(const char *buf, rw_span s, char *out, size_t cap)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	memcpy(out, buf + s.off, n);
	out[n] = '\0';
}

static bool is_method(const sipmsg *sm, const char *m)
{
	return sm->request && !strcmp(sm->m->sip_method, m);
}

/* ---- SDP -------------------------------------------------------------- */

typedef struct sdp_ctx {
	proxy *p;
	px_leg *leg;
	enum px_side to;        /* the side the message goes to */
	const char *ip;         /* our address on that side */
	bool failed;
} sdp_ctx;

static void sdp_line(void *arg, sip_rw *rw, rw_span line, int media)
{
	sdp_ctx *c = arg;
	const char *b = rw->buf;
	rw_span f;
	char port[8];

	if (b[line.off] == 'o' && rw_field(b, line, 5, &f) == 1 && rw_field(b, line, 4, &(rw_span){0}) == 1) {
		rw_replace(rw, f, c->ip);
	} else if (b[line.off] == 'c' && rw_field(b, line, 2, &f) == 1) {
		rw_replace(rw, f, c->ip);
	} else if (b[line.off] == 'm' && media >= 0 && media < c->leg->ns && rw_field(b, line, 1, &f) == 1) {
		px_stream *s = c->leg->s[media];
		if (!(f.len == 1 && b[f.off] == '0')) {
			snprintf(port, sizeof(port), "%u", c->to == PX_CORE ? s->c_port : s->a_port);
			rw_replace(rw, f, port);
		}
	} else if (b[line.off] == 'a' && line.len > 7 && !strncmp(b + line.off, "a=rtcp:", 7) && media >= 0 &&
		   media < c->leg->ns) {
		px_stream *s = c->leg->s[media];
		rw_span pf = { line.off + 7, 0 };
		while (pf.off + pf.len < line.off + line.len && b[pf.off + pf.len] >= '0' && b[pf.off + pf.len] <= '9')
			pf.len++;
		snprintf(port, sizeof(port), "%u", (c->to == PX_CORE ? s->c_port : s->a_port) + 1);
		if (pf.len)
			rw_replace(rw, pf, port);
		/* "a=rtcp:port IN IP4 addr": the address is field 3 */
		if (rw_field(b, line, 3, &f) == 1)
			rw_replace(rw, f, c->ip);
	}
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

/* Record what the SDP says (through libosip2's parser) and rewrite it.
 * Returns 0, or TV_EFULL when media ports ran out, TV_EINVAL if bad. */
static int sdp_handle(proxy *p, px_leg *leg, sipmsg *sm, enum px_side from)
{
	osip_body_t *body = NULL;
	sdp_message_t *sdp = NULL;
	sdp_ctx c = { .p = p, .leg = leg, .to = from == PX_ACCESS ? PX_CORE : PX_ACCESS };
	tv_time now = host_now(p->h);
	int rc = 0;

	if (osip_message_get_body(sm->m, 0, &body) != 0 || !body || !body->body || !body->length)
		return 0;
	if (!sm->m->content_type || !sm->m->content_type->subtype ||
	    osip_strcasecmp(sm->m->content_type->subtype, "sdp") != 0)
		return 0;
	if (sdp_message_init(&sdp) != 0)
		return TV_ENOMEM;
	if (sdp_parse_text(sdp, body->body, body->length) != 0) {
		sdp_message_free(sdp);
		return TV_EINVAL;
	}
	for (int i = 0; !sdp_message_endof_media(sdp, i); i++) {
		const char *caddr = sdp_message_c_addr_get(sdp, i, 0);
		int port = sdp_port(sdp_message_m_port_get(sdp, i)), rtcp = -1;
		bool held = false, mux = false;
		tv_ip a;
		px_stream *s;

		if (!caddr)
			caddr = sdp_message_c_addr_get(sdp, -1, 0);
		if (port < 0 || !caddr || tv_ip_parse(caddr, &a) < 0) {
			rc = TV_EINVAL;
			break;
		}
		if (px_stream_open(leg, i) < 0) {
			rc = TV_EFULL;
			break;
		}
		for (int k = 0; sdp_message_a_att_field_get(sdp, i, k); k++) {
			const char *f = sdp_message_a_att_field_get(sdp, i, k);
			if (!strcmp(f, "rtcp-mux"))
				mux = true;
			if (!strcmp(f, "sendonly") || !strcmp(f, "inactive") || !strcmp(f, "recvonly"))
				held = true;
		}
		/* a=rtcp:PORT [IN IP4 addr] (RFC 3605) */
		for (int k = 0; sdp_message_a_att_field_get(sdp, i, k); k++) {
			if (!strcmp(sdp_message_a_att_field_get(sdp, i, k), "rtcp")) {
				const char *v = sdp_message_a_att_value_get(sdp, i, k);
				rtcp = v ? (int)strtol(v, NULL, 10) : -1;
			}
		}
		if (rtcp <= 0 || rtcp > 65535)
			rtcp = port + 1;
		s = leg->s[i];
		s->held = held;
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
	rw_sdp_lines(&sm->rw, sdp_line, &c);
	return 0;
}

/* ---- replies the proxy makes itself ----------------------------------- */

/* A response the proxy makes itself (400 for bad SDP, 503 when ports ran
 * out): the request's Via, From, To, Call-ID and CSeq lines copied as they
 * were, sent back the way the request came (to the terminal, or with
 * side PX_CORE to the softswitch from the terminal's core address). */
static void reply(proxy *p, px_binding *b, const tv_ep *from, const sipmsg *sm, int code, const char *reason,
		  enum px_side side)
{
	static const struct { const char *name; char compact; } copy[] = {
		{ "Via", 'v' }, { "From", 'f' }, { "To", 't' }, { "Call-ID", 'i' }, { "CSeq", 0 },
	};
	char out[PX_SIP_MAX];
	int n = snprintf(out, sizeof(out), "SIP/2.0 %d %s\r\n", code, reason);

	for (size_t h = 0; h < sizeof(copy) / sizeof(copy[0]); h++) {
		rw_span v;
		for (int i = 0; rw_header(sm->rw.buf, sm->rw.body_off, copy[h].name, copy[h].compact, i, &v) == 1; i++)
			n += snprintf(out + n, sizeof(out) - (size_t)n, "%s: %.*s%s\r\n", copy[h].name, (int)v.len,
				      sm->rw.buf + v.off, (!strcmp(copy[h].name, "To") && !sm->m->to->gen_params.nb_elt) ?
				      ";tag=tvpx" : "");
		if ((size_t)n >= sizeof(out))
			return;
	}
	n += snprintf(out + n, sizeof(out) - (size_t)n, "Content-Length: 0\r\n\r\n");
	if ((size_t)n >= sizeof(out))
		return;
	if (side == PX_CORE) {
		px_send_core(p, b, out, (size_t)n);
	} else if (b) {
		px_send_access(p, b, out, (size_t)n);
	} else {
		p->st.sip_out_access++;
		host_udp_send(p->sip, from, out, (size_t)n);
	}
}

/* Call-ID topology hiding. Phones commonly write "random@PRIVATE-IP"; on
 * the core side that host part becomes the proxy's core address, and back.
 * The swap is per terminal and symmetric (private <-> core address), so it
 * needs no state: whatever a terminal's messages carry toward the core is
 * turned back the same way in what comes to it. The leg is always looked
 * up by the access-side form. */
static void callid_swap(proxy *p, const px_binding *b, sipmsg *sm, enum px_side from)
{
	char priv[TV_IP_STRLEN], host[TV_IP_STRLEN];
	const char *want, *put;
	size_t plen = strcspn(b->sentby, ":");
	rw_span v, h;
	char *at;

	if (!plen || plen >= sizeof(priv) || rw_header(sm->rw.buf, sm->rw.body_off, "Call-ID", 'i', 0, &v) != 1)
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
	if (strcmp(host, want))
		return;
	rw_replace(&sm->rw, h, put);
	if (from == PX_CORE && (at = strrchr(sm->call_id, '@')) != NULL &&
	    (size_t)(at + 1 - sm->call_id) + strlen(put) < sizeof(sm->call_id))
		strcpy(at + 1, put);
}

/* A 2xx to REGISTER: the registrar's Contact (our core address for this
 * terminal) goes back as the terminal wrote it, and the granted lifetime
 * bounds the binding (0: unregistered). */
static void register_ok(proxy *p, px_binding *b, sipmsg *sm)
{
	osip_contact_t *ct = NULL;
	osip_generic_param_t *ex = NULL;
	osip_header_t *eh = NULL;
	long expires = 3600;
	rw_span v, hp;

	if (osip_message_get_contact(sm->m, 0, &ct) == 0 && ct && osip_contact_param_get_byname(ct, "expires", &ex) == 0 &&
	    ex && ex->gvalue)
		expires = strtol(ex->gvalue, NULL, 10);
	else if (osip_message_get_expires(sm->m, 0, &eh) == 0 && eh && eh->hvalue)
		expires = strtol(eh->hvalue, NULL, 10);
	if (!ct)
		expires = 0;                    /* no binding left at the registrar */
	b->registered = expires > 0;
	b->reg_until = expires > 0 ? host_now(p->h) + TV_SEC(expires) : 0;
	for (int i = 0; rw_header(sm->rw.buf, sm->rw.body_off, "Contact", 'm', i, &v) == 1; i++) {
		char t[PX_HP];
		if (rw_uri_hostport(sm->rw.buf, v, &hp) != 1 || !b->contact_hp[0])
			continue;
		span_text(sm->rw.buf, hp, t, sizeof(t));
		if (!strcmp(t, b->core_hp))
			rw_replace(&sm->rw, hp, b->contact_hp);
	}
	if (b->registered)
		px_ka_schedule(b);
}

/* ---- forwarding ------------------------------------------------------- */

static int emit(proxy *p, px_binding *b, sipmsg *sm, enum px_side to)
{
	char out[PX_SIP_MAX + 512];
	int n = rw_apply(&sm->rw, out, sizeof(out));

	if (n < 0) {
		p->st.drop[PX_DROP_SIP_MALFORMED]++;
		return -1;
	}
	if (to == PX_CORE)
		px_send_core(p, b, out, (size_t)n);
	else
		px_send_access(p, b, out, (size_t)n);
	return 0;
}

static void end_leg_after(proxy *p, px_binding *b, const sipmsg *sm)
{
	px_leg *leg = px_leg_find(b, sm->call_id, false);
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
				px_leg_session(leg, TV_SEC(se));
		}
	}
	/* A failed re-INVITE (491, 488...) leaves the call as it was. */
	if (!strcmp(sm->cseq_method, "INVITE") && code >= 300 && !leg->confirmed)
		px_leg_end(leg, "failed");
	else if (!strcmp(sm->cseq_method, "BYE"))
		px_leg_end(leg, "bye");
}

static void mark_ending(proxy *p, px_binding *b, const sipmsg *sm)
{
	px_leg *leg = px_leg_find(b, sm->call_id, false);

	if (!leg || !(is_method(sm, "BYE") || is_method(sm, "CANCEL")))
		return;
	if (is_method(sm, "BYE")) {
		p->st.byes++;
		leg->ending = true;
		host_timer_arm(p->h, &leg->t, host_now(p->h) + TV_SEC(32));
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

void px_sip_from_access(proxy *p, tv_tcp *tcp, const tv_ep *from, const char *msg, size_t len)
{
	px_binding *b;
	sipmsg sm;
	rw_span span, via;
	osip_via_t *v;
	osip_generic_param_t *branch = NULL;
	px_leg *leg;
	int rc;

	if (msg_parse(p, msg, len, &sm) < 0)
		return;
	osip_message_get_via(sm.m, 0, &v);
	osip_via_param_get_byname(v, "branch", &branch);
	b = px_binding_get(p, from, tcp, NULL, false);
	if (!sm.request) {
		if (branch && branch->gvalue && !strncmp(branch->gvalue, KA_BRANCH, strlen(KA_BRANCH))) {
			if (b)
				px_ka_answered(p, b);
			goto out;
		}
		if (!b || !branch || !branch->gvalue || strncmp(branch->gvalue, PX_BRANCH, strlen(PX_BRANCH))) {
			p->st.drop[PX_DROP_SIP_UNKNOWN]++;
			goto out;
		}
		if (top_via_line(&sm.rw, &span, &via) < 0)
			goto out;
		{
			/* our Via may share a line with others: remove "ours," only */
			const char *comma = memchr(sm.rw.buf + via.off, ',', via.len);
			if (comma) {
				size_t e = (size_t)(comma - sm.rw.buf) + 1;
				while (e < via.off + via.len && (sm.rw.buf[e] == ' ' || sm.rw.buf[e] == '\t'))
					e++;
				span.off = via.off;
				span.len = (uint32_t)(e - via.off);
			}
		}
		rw_replace(&sm.rw, span, "");
	} else {
		const char *user = is_method(&sm, "REGISTER") ? sm.m->to->url ? sm.m->to->url->username : NULL
							  : sm.m->from->url ? sm.m->from->url->username : NULL;
		if (!b)
			b = px_binding_get(p, from, tcp, user, true);
		if (!b) {
			reply(p, NULL, from, &sm, 503, "Service Unavailable", PX_ACCESS);
			goto out;
		}
		if (!b->user[0] && user) {
			snprintf(b->user, sizeof(b->user), "%s", user);
			tv_map_put(&p->by_user, px_hash_str(b->user), b);
		}
		/* Record the terminal's own view of its signaling address. */
		if (rw_header(sm.rw.buf, sm.rw.body_off, "Via", 'v', 0, &via) == 1 &&
		    rw_via_sentby(sm.rw.buf, via, &span) == 1) {
			span_text(sm.rw.buf, span, b->sentby, sizeof(b->sentby));
			rw_replace(&sm.rw, span, b->core_hp);
		}
		/* In-dialog request to a peer whose Contact we rewrote. */
		if (rw_request_uri(sm.rw.buf, sm.rw.body_off, &span) == 1 &&
		    rw_uri_hostport(sm.rw.buf, span, &span) == 1) {
			char ruri[PX_HP];
			span_text(sm.rw.buf, span, ruri, sizeof(ruri));
			leg = px_leg_find(b, sm.call_id, false);
			if (leg && leg->peer_target[0] && !strcmp(ruri, p->access_hp))
				rw_replace(&sm.rw, span, leg->peer_target);
		}
		if (is_method(&sm, "REGISTER"))
			p->st.registers++;
		if (is_method(&sm, "INVITE"))
			p->st.invites++;
	}
	/* Contact -> our core address for this terminal. */
	if (rw_header(sm.rw.buf, sm.rw.body_off, "Contact", 'm', 0, &via) == 1 &&
	    rw_uri_hostport(sm.rw.buf, via, &span) == 1) {
		if (sm.request) {
			span_text(sm.rw.buf, span, b->contact_hp, sizeof(b->contact_hp));
			tv_ep_parse(b->contact_hp, &b->contact, true);
		}
		rw_replace(&sm.rw, span, b->core_hp);
	}
	callid_swap(p, b, &sm, PX_ACCESS);
	leg = px_leg_find(b, sm.call_id, false);
	if (!leg && osip_list_size(&sm.m->bodies) > 0)
		leg = px_leg_find(b, sm.call_id, true);
	if (leg && (rc = sdp_handle(p, leg, &sm, PX_ACCESS)) < 0) {
		if (sm.request && rc == TV_EFULL)
			reply(p, b, from, &sm, 503, "Service Unavailable (no media ports)", PX_ACCESS);
		else if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, from, &sm, 400, "Bad Request (SDP)", PX_ACCESS);
		if (rc != TV_EFULL)
			p->st.drop[PX_DROP_SIP_MALFORMED]++;
		if (leg->ns == 0 || !leg->confirmed)
			px_leg_end(leg, rc == TV_EFULL ? "no-ports" : "bad-sdp");
		goto out;
	}
	mark_ending(p, b, &sm);
	if (emit(p, b, &sm, PX_CORE) == 0)
		end_leg_after(p, b, &sm);
	px_ka_schedule(b);
out:
	msg_free(&sm);
}

void px_sip_from_core(proxy *p, px_binding *b, const char *msg, size_t len)
{
	sipmsg sm;
	rw_span span, val;
	px_leg *leg;
	int rc;

	if (msg_parse(p, msg, len, &sm) < 0)
		return;
	callid_swap(p, b, &sm, PX_CORE);
	leg = px_leg_find(b, sm.call_id, false);
	if (sm.request) {
		osip_via_t *v;
		osip_generic_param_t *branch = NULL;
		char line[256];
		rw_span at;

		/* Request-URI: the terminal's core address -> what it registered. */
		if (rw_request_uri(sm.rw.buf, sm.rw.body_off, &span) == 1 &&
		    rw_uri_hostport(sm.rw.buf, span, &span) == 1 && b->contact_hp[0])
			rw_replace(&sm.rw, span, b->contact_hp);
		/* Our Via on top, so the terminal answers us. */
		osip_message_get_via(sm.m, 0, &v);
		osip_via_param_get_byname(v, "branch", &branch);
		if (top_via_line(&sm.rw, &at, &val) < 0)
			goto out;
		at.len = 0;
		snprintf(line, sizeof(line), "Via: SIP/2.0/%s %s;branch=" PX_BRANCH "%016llx;rport\r\n",
			 b->tcp ? "TCP" : "UDP", p->access_hp,
			 (unsigned long long)px_hash_str(branch && branch->gvalue ? branch->gvalue : sm.call_id));
		if (strlen(line) >= RW_REP_MAX) {
			/* keep the line short enough for one edit */
			p->st.drop[PX_DROP_SIP_MALFORMED]++;
			goto out;
		}
		rw_replace(&sm.rw, at, line);
		mark_ending(p, b, &sm);
	} else {
		/* Top Via: ours for this terminal -> what the terminal wrote. */
		if (rw_header(sm.rw.buf, sm.rw.body_off, "Via", 'v', 0, &val) == 1 &&
		    rw_via_sentby(sm.rw.buf, val, &span) == 1 && b->sentby[0])
			rw_replace(&sm.rw, span, b->sentby);
		if (!strcmp(sm.cseq_method, "REGISTER") && sm.m->status_code >= 200 && sm.m->status_code < 300)
			register_ok(p, b, &sm);
	}
	/* Contact of the other party -> our access address; remember it. */
	if (rw_header(sm.rw.buf, sm.rw.body_off, "Contact", 'm', 0, &val) == 1 &&
	    rw_uri_hostport(sm.rw.buf, val, &span) == 1 && strcmp(sm.cseq_method, "REGISTER")) {
		if (!leg)
			leg = px_leg_find(b, sm.call_id, true);
		if (leg)
			span_text(sm.rw.buf, span, leg->peer_target, sizeof(leg->peer_target));
		rw_replace(&sm.rw, span, p->access_hp);
	}
	if (!leg && osip_list_size(&sm.m->bodies) > 0)
		leg = px_leg_find(b, sm.call_id, true);
	if (leg && (rc = sdp_handle(p, leg, &sm, PX_CORE)) < 0) {
		if (sm.request && !is_method(&sm, "ACK"))
			reply(p, b, NULL, &sm, rc == TV_EFULL ? 503 : 400,
			      rc == TV_EFULL ? "Service Unavailable (no media ports)" : "Bad Request (SDP)", PX_CORE);
		if (rc != TV_EFULL)
			p->st.drop[PX_DROP_SIP_MALFORMED]++;
		if (!leg->confirmed)
			px_leg_end(leg, rc == TV_EFULL ? "no-ports" : "bad-sdp");
		goto out;
	}
	if (emit(p, b, &sm, PX_ACCESS) == 0)
		end_leg_after(p, b, &sm);
	if (!sm.request && !strcmp(sm.cseq_method, "REGISTER") && sm.m->status_code >= 200 &&
	    sm.m->status_code < 300 && !b->registered && !b->legs) {
		p->st.unregistered++;
		px_binding_remove(p, b);
	}
out:
	msg_free(&sm);
}
