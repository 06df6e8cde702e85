/* softswitch.c - a NAT-unaware registrar and stateless proxy (sipua.h):
 * requests, responses, the replies it makes, and its life cycle. The
 * location service is ss_registrar.c's, UDP/TCP ss_transport.c's
 * (softswitch_priv.h).
 *
 * It is deliberately naive about NAT: it stores a REGISTER's Contacts as
 * written and routes to them, and forwards in-dialog requests to whatever
 * Request-URI the phones wrote. It is an honest RFC 3261 element
 * otherwise, and strict where a real core would be:
 *
 * - It stamps received/rport on the top Via of requests it receives
 *   (18.2.1, RFC 3581), so its own responses and the responses it routes
 *   back follow the Via path, over the transport the Via names (18.2.2;
 *   ss_transport.c): a request that arrives over UDP saying
 *   "Via: SIP/2.0/TCP" is answered over TCP.
 * - A request to a target with ;transport=tcp is forwarded over TCP, with
 *   "Via: SIP/2.0/TCP".
 * - It refuses a REGISTER or INVITE whose Contact host the core cannot
 *   reach (ss_reg_routable): 403 "Contact Not Routable" with a Warning,
 *   counted as contact_unroutable. 403, not 400: the request is well
 *   formed, the registrar will not act on it, and sending it again will
 *   not help (RFC 3261 21.4.4); this is what an operator's registrar or
 *   SBC policy answers. A REGISTER is refused whole if any Contact it
 *   adds is unroutable (10.3: all or none). Contacts it removes
 *   (expires 0) are not checked.
 * - With cfg.auth it authenticates before anything else (ss_auth.c):
 *   401 for REGISTER, 407 for other requests it would route outside a
 *   dialog, digest MD5/qop=auth against cfg.users' passwords.
 * - A REGISTER may carry several Contacts (several headers, or one with a
 *   comma-separated list); the 200 lists every Contact of the user with
 *   its expires (10.3 step 8).
 *
 * Stateless (RFC 3261 16.11): the branch of the Via it adds is a hash of
 * the incoming top branch and sent-by, so a retransmission, the CANCEL and
 * the non-2xx ACK of an INVITE all leave with the INVITE's branch. The To
 * tag of its own responses is a hash of the request's branch, which also
 * lets it recognise, and absorb, the ACK of a final response it made.
 *
 * Timers: none here (the registrar's expiry is listed in ss_registrar.c). */
#include "softswitch_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SS_DEFAULT_EXPIRES 3600
#define SS_MAX_EXPIRES 86400
#define SS_MAX_FORWARDS 70

const softswitch_stats *softswitch_get_stats(const softswitch *ss) { return &ss->st; }

/* ---- replies ------------------------------------------------------------------ */

/* The To tag of our own responses to req. */
static void own_tag(const osip_message_t *req, char *out, size_t cap)
{
	snprintf(out, cap, "%016llx", (unsigned long long)sipmsg_hash(SIPMSG_HASH_INIT, sipmsg_branch(req)));
}

osip_message_t *ss_answer(const osip_message_t *req, int code, const char *reason)
{
	osip_message_t *r;
	char tag[20];

	own_tag(req, tag, sizeof(tag));
	if (sipmsg_response(req, code, tag, &r) < 0)
		return NULL;
	if (reason) {
		osip_free(r->reason_phrase);
		r->reason_phrase = osip_strdup(reason);
	}
	return r;
}

void ss_answer_send(softswitch *ss, osip_message_t *r, const ss_src *src)
{
	ss_tp_respond(ss, r, src->conn);
	osip_message_free(r);
}

static void ss_reply(softswitch *ss, const osip_message_t *req, const ss_src *src, int code)
{
	osip_message_t *r;

	if (MSG_IS_ACK(req) || !(r = ss_answer(req, code, NULL)))
		return;
	ss_answer_send(ss, r, src);
}

/* 403 for a Contact host the core cannot reach, with a Warning (RFC 3261
 * 20.43) naming it. */
static void ss_unroutable(softswitch *ss, const osip_message_t *req, const ss_src *src, const char *host)
{
	osip_message_t *r;
	char w[160];

	ss->st.contact_unroutable++;
	if (MSG_IS_ACK(req) || !(r = ss_answer(req, 403, "Contact Not Routable")))
		return;
	snprintf(w, sizeof(w), "399 %s \"Contact host %.48s is not reachable from the core\"", ss->self_ip, host);
	osip_message_set_header(r, "Warning", w);
	ss_answer_send(ss, r, src);
}

/* ---- Contacts -------------------------------------------------------------- */

static bool uri_is_tcp(const osip_uri_t *u)
{
	osip_uri_param_t *p = NULL;

	return osip_uri_uparam_get_byname((osip_uri_t *)u, "transport", &p) == 0 && p && p->gvalue &&
	       strcasecmp(p->gvalue, "tcp") == 0;
}

/* Whether the core can reach a Contact: an IPv4 literal (there is no DNS
 * here) within cfg.reach. */
static bool contact_routable(const softswitch *ss, const osip_contact_t *c)
{
	tv_ip ip;

	return c->url && c->url->host && tv_ip_parse(c->url->host, &ip) == 0 && ss_reg_routable(ss, &ip);
}

/* ---- registrar --------------------------------------------------------------- */

/* The Path headers of a REGISTER (RFC 3327), joined: 1 found, 0 none, -1
 * malformed or too long. The first URI must name an address: there is no
 * DNS here. */
static int path_read(const osip_message_t *m, ss_path *out)
{
	osip_header_t *h = NULL;
	size_t o = 0;
	char first[SS_URI_MAX];
	const char *lt, *gt;
	osip_uri_t *u = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	for (int pos = 0; (pos = osip_message_header_get_byname(m, "path", pos, &h)) >= 0 && h; pos++) {
		int n;
		if (!h->hvalue || !*h->hvalue)
			return -1;
		n = snprintf(out->set + o, sizeof(out->set) - o, "%s%s", o ? "," : "", h->hvalue);
		if (n < 0 || (size_t)n >= sizeof(out->set) - o)
			return -1;
		o += (size_t)n;
	}
	if (!o)
		return 0;
	lt = strchr(out->set, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (!gt || (size_t)(gt - lt - 1) >= sizeof(first))
		return -1;
	memcpy(first, lt + 1, (size_t)(gt - lt - 1));
	first[gt - lt - 1] = 0;
	if (osip_uri_init(&u) != 0)
		return -1;
	rc = osip_uri_parse(u, first) == 0 && sipmsg_uri_ep(u, &out->first) == 0 ? 1 : -1;
	out->tcp = rc == 1 && uri_is_tcp(u);
	osip_uri_free(u);
	return rc;
}

/* Route the request along a stored Path: one Route header per URI, in
 * order; the caller sends it to the first. */
static int path_route(osip_message_t *m, const ss_path *p)
{
	const char *s = p->set;

	while (*s) {
		const char *e = s;
		bool in = false;
		char one[SS_PATH_MAX];

		for (; *e && (in || *e != ','); e++)
			in = *e == '<' ? true : *e == '>' ? false : in;
		while (s < e && *s == ' ')
			s++;
		memcpy(one, s, (size_t)(e - s));
		one[e - s] = 0;
		if (one[0] && osip_message_set_route(m, one) != 0)
			return TV_EINVAL;
		s = *e ? e + 1 : e;
	}
	return 0;
}

/* The 200: every live Contact of user with its remaining lifetime. */
static void register_ok(softswitch *ss, const osip_message_t *m, const ss_src *src, const char *user, tv_time now)
{
	const ss_aor *a = ss_reg_find(ss, user, now);
	osip_message_t *r = ss_answer(m, 200, NULL);
	char hdr[SS_URI_MAX + 32];

	if (!r)
		return;
	for (int i = 0; a && i < a->n; i++) {
		if (a->c[i].expires <= now)
			continue;
		snprintf(hdr, sizeof(hdr), "<%s>;expires=%lld", a->c[i].uri,
			 (long long)((a->c[i].expires - now) / TV_SEC(1)));
		osip_message_set_contact(r, hdr);
	}
	ss_answer_send(ss, r, src);
}

static void ss_register(softswitch *ss, const osip_message_t *m, const ss_src *src, tv_time now)
{
	const char *user = m->to->url ? m->to->url->username : NULL;
	ss_update u[SOFTSWITCH_MAX_CONTACTS + 1];
	osip_contact_t *c = NULL;
	ss_path path;
	int n = 0, rc, has_path;

	if (!user || !*user || (has_path = path_read(m, &path)) < 0) {
		ss_reply(ss, m, src, 400);
		return;
	}
	if (has_path && !ss_reg_routable(ss, &path.first.ip)) {
		char h[TV_IP_STRLEN];
		ss_unroutable(ss, m, src, tv_ip_fmt(&path.first.ip, h));
		return;
	}
	for (int i = 0; osip_message_get_contact(m, i, &c) >= 0 && c; i++) {
		unsigned long exp = sipmsg_expires(m, c, SS_DEFAULT_EXPIRES, SS_MAX_EXPIRES);

		if (!c->url) {                  /* Contact: * (10.3 step 6) */
			if (exp != 0 || osip_list_size(&m->contacts) != 1) {
				ss_reply(ss, m, src, 400);
				return;
			}
			ss_reg_clear(ss, user);
			register_ok(ss, m, src, user, now);
			return;
		}
		if (n == SOFTSWITCH_MAX_CONTACTS + 1)
			break;                  /* too many either way */
		/* behind a Path, the edge proxy reaches the contact, not we */
		if (exp > 0 && !has_path && !contact_routable(ss, c)) {
			ss_unroutable(ss, m, src, c->url->host ? c->url->host : "");
			return;
		}
		if (sipmsg_uri_str(c->url, u[n].uri, sizeof(u[n].uri)) < 0 || sipmsg_uri_ep(c->url, &u[n].ep) < 0) {
			if (exp == 0)
				continue;       /* removing what could never have been stored */
			ss_reply(ss, m, src, 400);
			return;
		}
		u[n].tcp = uri_is_tcp(c->url);
		u[n].path = path;
		u[n].expires = exp;
		n++;
	}
	rc = ss_reg_update(ss, user, u, n, now);
	if (rc == TV_EFULL) {
		osip_message_t *r = ss_answer(m, 503, "Too Many Registered Contacts");

		ss->st.contacts_full++;
		if (r)
			ss_answer_send(ss, r, src);
		return;
	}
	if (rc < 0) {
		ss_reply(ss, m, src, 500);
		return;
	}
	register_ok(ss, m, src, user, now);
}

/* ---- proxy --------------------------------------------------------------- */

static bool uri_is_local(const softswitch *ss, const osip_uri_t *u)
{
	tv_ip ip;

	if (strcasecmp(u->host, ss->domain) == 0)
		return true;
	return tv_ip_parse(u->host, &ip) == 0 && tv_ip_eq(&ip, &ss->self.ip);
}

/* Checks and decrements Max-Forwards (adding it if absent). Returns the
 * value it had, or TV_EINVAL if unreadable. */
static int max_forwards_take(osip_message_t *m)
{
	osip_header_t *h = NULL;
	unsigned long v;
	char buf[24];

	if (osip_message_get_max_forwards(m, 0, &h) < 0 || !h) {
		snprintf(buf, sizeof(buf), "%d", SS_MAX_FORWARDS);
		osip_message_set_max_forwards(m, buf);
		return SS_MAX_FORWARDS + 1;
	}
	if (sipmsg_uint(h->hvalue, 255, &v) < 0)
		return TV_EINVAL;
	if (v == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%lu", v - 1);
	osip_free(h->hvalue);
	h->hvalue = osip_strdup(buf);
	return (int)v;
}

/* RFC 3261 16.11: stable for retransmissions, and the same for an INVITE,
 * its CANCEL and its non-2xx ACK. */
static void branch_make(const osip_message_t *m, char *out, size_t cap)
{
	const char *br = sipmsg_branch(m);
	osip_via_t *v = NULL;
	uint64_t x = SIPMSG_HASH_INIT;

	osip_message_get_via(m, 0, &v);
	if (br && strncmp(br, "z9hG4bK", 7) == 0) {
		x = sipmsg_hash(x, br);
		x = sipmsg_hash(x, v->host);
		x = sipmsg_hash(x, v->port);
	} else {
		x = sipmsg_hash(x, m->call_id->number);
		x = sipmsg_hash(x, m->cseq->number);
		x = sipmsg_hash(x, sipmsg_tag(m->from));
		x = sipmsg_hash(x, m->req_uri->username);
		x = sipmsg_hash(x, m->req_uri->host);
	}
	snprintf(out, cap, "z9hG4bK%016llx", (unsigned long long)x);
}

static int ruri_set(osip_message_t *m, const char *uri)
{
	osip_uri_t *u;

	if (osip_uri_init(&u) != 0)
		return TV_ENOMEM;
	if (osip_uri_parse(u, uri) != 0) {
		osip_uri_free(u);
		return TV_EINVAL;
	}
	osip_uri_free(m->req_uri);
	m->req_uri = NULL;
	osip_message_set_uri(m, u);
	return 0;
}

/* 404; the ACK for it (nowhere to go either) is dropped, not counted. */
static void ss_not_found(softswitch *ss, const osip_message_t *m, const ss_src *src)
{
	if (MSG_IS_ACK(m))
		return;
	ss->st.not_found++;
	ss_reply(ss, m, src, 404);
}

static void ss_forward(softswitch *ss, osip_message_t *m, const ss_src *src, tv_time now)
{
	const osip_uri_t *u = m->req_uri;
	const ss_contact *to = NULL;
	char branch[32], via[128];
	tv_ep dst;
	bool tcp;
	int mf;

	if (uri_is_local(ss, u)) {
		const ss_aor *a = u->username ? ss_reg_find(ss, u->username, now) : NULL;

		if (!a || !(to = ss_reg_target(a, now))) {
			ss_not_found(ss, m, src);
			return;
		}
		dst = to->path.set[0] ? to->path.first : to->ep;
		tcp = to->path.set[0] ? to->path.tcp : to->tcp;
	} else if (sipmsg_uri_ep(u, &dst) == 0) {
		tcp = uri_is_tcp(u);
	} else {
		/* No DNS here: a name we are not is a place we cannot reach. */
		ss_not_found(ss, m, src);
		return;
	}
	tcp = tcp && !ss->cfg.udp_only;
	if (tv_ep_eq(&dst, &ss->self)) {
		ss_reply(ss, m, src, 482);
		return;
	}
	mf = max_forwards_take(m);
	if (mf <= 0) {
		ss_reply(ss, m, src, mf == 0 ? 483 : 400);
		return;
	}
	branch_make(m, branch, sizeof(branch));
	if (to && (ruri_set(m, to->uri) < 0 || (to->path.set[0] && path_route(m, &to->path) < 0))) {
		ss_reply(ss, m, src, 500);
		return;
	}
	snprintf(via, sizeof(via), "SIP/2.0/%s %s:%u;branch=%s", tcp ? "TCP" : "UDP", ss->self_ip, ss->self.port,
		 branch);
	if (osip_message_append_via(m, via) != 0)
		return;
	osip_message_force_update(m);
	ss->st.requests_routed++;
	ss_tp_forward(ss, m, &dst, tcp);
}

/* Authentication (ss_auth.c) comes before anything that could tell an
 * unauthenticated sender about users or policy: routability, 404. */
static void ss_request(softswitch *ss, osip_message_t *m, const ss_src *src, tv_time now)
{
	const osip_uri_t *u = m->req_uri;
	bool reg = uri_is_local(ss, u) && MSG_IS_REGISTER(m);
	osip_contact_t *c = NULL;
	char tag[20];

	sipmsg_via_stamp(m, &src->ep);
	if (MSG_IS_ACK(m)) {
		const char *tt = sipmsg_tag(m->to);

		own_tag(m, tag, sizeof(tag));
		if (tt && strcmp(tt, tag) == 0)
			return;                 /* the ACK of a final response we made */
	}
	if (MSG_IS_INVITE(m))
		ss->st.invites++;
	if (reg)
		ss->st.registers++;
	if (uri_is_local(ss, u) && !u->username && MSG_IS_OPTIONS(m)) {
		ss_reply(ss, m, src, 200);
		return;
	}
	if (!ss_auth_request(ss, m, src, reg, now))
		return;
	if (MSG_IS_INVITE(m) && osip_message_get_contact(m, 0, &c) >= 0 && c && !contact_routable(ss, c)) {
		ss_unroutable(ss, m, src, c->url && c->url->host ? c->url->host : "");
		return;
	}
	if (reg) {
		ss_register(ss, m, src, now);
		return;
	}
	ss_forward(ss, m, src, now);
}

/* Pop our Via and send on by the next one (ss_tp_respond). */
static void ss_response(softswitch *ss, osip_message_t *m)
{
	osip_via_t *v = NULL;
	unsigned long port = 5060;
	tv_ip ip;

	osip_message_get_via(m, 0, &v);
	if (tv_ip_parse(v->host, &ip) < 0 || !tv_ip_eq(&ip, &ss->self.ip) ||
	    (v->port && sipmsg_uint(v->port, 65535, &port) < 0) || port != ss->self.port)
		return;
	osip_list_remove(&m->vias, 0);
	osip_via_free(v);
	osip_message_force_update(m);
	if (osip_list_size(&m->vias) < 1)
		return;
	ss->st.responses_routed++;
	ss_tp_respond(ss, m, NULL);
}

void ss_input(softswitch *ss, const uint8_t *data, size_t len, const ss_src *src, tv_time now)
{
	osip_message_t *m;

	ss->st.rx++;
	if (sipmsg_is_keepalive(data, len))
		return;
	if (sipmsg_parse(data, len, &m) < 0) {
		ss->st.rx_bad++;
		return;
	}
	if (MSG_IS_REQUEST(m))
		ss_request(ss, m, src, now);
	else
		ss_response(ss, m);
	osip_message_free(m);
}

/* ---- life cycle --------------------------------------------------------------- */

static bool cfg_ok(const softswitch_cfg *c)
{
	if (!c || !c->domain || !*c->domain || strlen(c->domain) >= sizeof(((softswitch *)0)->domain))
		return false;
	if (c->reach == SOFTSWITCH_REACH_LIST && (c->nreach < 1 || c->nreach > SOFTSWITCH_MAX_REACH))
		return false;
	for (int i = 0; c->reach == SOFTSWITCH_REACH_LIST && i < c->nreach; i++)
		if (c->reach_list[i].len > 32 || c->reach_list[i].net.af != TV_AF_INET)
			return false;
	if (c->nusers < 0 || c->nusers > SOFTSWITCH_MAX_USERS || c->nonce_lifetime < 0)
		return false;
	for (int i = 0; i < c->nusers; i++)
		if (!c->users[i].name[0] || !memchr(c->users[i].name, 0, SOFTSWITCH_NAME_MAX) ||
		    !memchr(c->users[i].password, 0, SOFTSWITCH_NAME_MAX))
			return false;
	return c->reach == SOFTSWITCH_REACH_DEFAULT || c->reach == SOFTSWITCH_REACH_LIST ||
	       c->reach == SOFTSWITCH_REACH_ANY;
}

softswitch *softswitch_new_cfg(tv_host *h, const softswitch_cfg *cfg, int *err)
{
	softswitch *ss;
	int rc;

	if (!h || !cfg_ok(cfg)) {
		*err = TV_EINVAL;
		return NULL;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		*err = TV_ENOMEM;
		return NULL;
	}
	sipmsg_init();
	ss->h = h;
	ss->cfg = *cfg;
	snprintf(ss->domain, sizeof(ss->domain), "%s", cfg->domain);
	ss->cfg.domain = ss->domain;
	if (!ss->cfg.port)
		ss->cfg.port = 5060;
	if (!ss->cfg.nonce_lifetime)
		ss->cfg.nonce_lifetime = TV_SEC(300);
	ss_reg_init(ss);
	rc = ss_tp_open(ss);
	if (rc < 0) {
		free(ss);
		*err = rc;
		return NULL;
	}
	*err = 0;
	return ss;
}

softswitch *softswitch_new(tv_host *h, uint16_t port, const char *domain, int *err)
{
	softswitch_cfg c = { .port = port, .domain = domain };

	return softswitch_new_cfg(h, &c, err);
}

void softswitch_free(softswitch *ss)
{
	if (!ss)
		return;
	ss_reg_free(ss);
	ss_tp_close(ss);
	free(ss);
}
