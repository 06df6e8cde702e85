/* softswitch.c - a NAT-unaware registrar and stateless proxy (sipua.h).
 *
 * It is deliberately naive about NAT: it stores a REGISTER's Contact as
 * written and routes to it, and forwards in-dialog requests to whatever
 * Request-URI the phones wrote. It is an honest RFC 3261 element
 * otherwise: it stamps received/rport on the top Via of requests it
 * receives (18.2.1, RFC 3581), so its own responses and the responses it
 * routes back follow the Via path.
 *
 * Stateless (RFC 3261 16.11): the branch of the Via it adds is a hash of
 * the incoming top branch and sent-by, so a retransmission, the CANCEL and
 * the non-2xx ACK of an INVITE all leave with the INVITE's branch.
 *
 * Timers:
 *   expiry   armed at the earliest binding expiry; drops the bindings that
 *            are due and re-arms for the next one. */
#include "sipua.h"
#include "sipmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SS_DEFAULT_EXPIRES 3600
#define SS_MAX_EXPIRES 86400
#define SS_MAX_FORWARDS 70
#define SS_USER_MAX 64
#define SS_URI_MAX 256

typedef struct ss_binding {
	char user[SS_USER_MAX];
	char contact[SS_URI_MAX];       /* the Contact URI as written */
	tv_ep ep;                       /* its host:port */
	tv_time expires;
} ss_binding;

struct softswitch {
	tv_host *h;
	tv_udp *udp;
	tv_ep self;
	char self_ip[TV_IP_STRLEN];
	char domain[128];
	ss_binding *b;
	size_t nb, cap;
	tv_timer expiry;
	softswitch_stats st;
};

const softswitch_stats *softswitch_get_stats(const softswitch *ss) { return &ss->st; }

/* ---- location service ---------------------------------------------------- */

static ss_binding *binding_find(const softswitch *ss, const char *user)
{
	for (size_t i = 0; i < ss->nb; i++)
		if (strcmp(ss->b[i].user, user) == 0)
			return &ss->b[i];
	return NULL;
}

static void binding_del(softswitch *ss, ss_binding *b)
{
	*b = ss->b[--ss->nb];
	ss->st.bindings = (uint32_t)ss->nb;
}

static void expiry_arm(softswitch *ss)
{
	tv_time next = TV_NEVER;

	for (size_t i = 0; i < ss->nb; i++)
		if (ss->b[i].expires < next)
			next = ss->b[i].expires;
	if (next == TV_NEVER)
		host_timer_cancel(ss->h, &ss->expiry);
	else
		host_timer_arm(ss->h, &ss->expiry, next);
}

static void expiry_fire(tv_timer *t, tv_time now)
{
	softswitch *ss = t->arg;

	for (size_t i = 0; i < ss->nb;) {
		if (ss->b[i].expires <= now)
			binding_del(ss, &ss->b[i]);
		else
			i++;
	}
	expiry_arm(ss);
}

static int binding_set(softswitch *ss, const char *user, const char *contact, const tv_ep *ep,
		       tv_time expires)
{
	ss_binding *b = binding_find(ss, user);

	if (strlen(user) >= SS_USER_MAX || strlen(contact) >= SS_URI_MAX)
		return TV_EINVAL;
	if (!b) {
		if (ss->nb == ss->cap) {
			size_t cap = ss->cap ? 2 * ss->cap : 16;
			ss_binding *nb = realloc(ss->b, cap * sizeof(*nb));

			if (!nb)
				return TV_ENOMEM;
			ss->b = nb;
			ss->cap = cap;
		}
		b = &ss->b[ss->nb++];
		snprintf(b->user, sizeof(b->user), "%s", user);
	}
	snprintf(b->contact, sizeof(b->contact), "%s", contact);
	b->ep = *ep;
	b->expires = expires;
	ss->st.bindings = (uint32_t)ss->nb;
	expiry_arm(ss);
	return 0;
}

int softswitch_lookup(const softswitch *ss, const char *user, tv_ep *contact)
{
	const ss_binding *b = binding_find(ss, user);

	if (!b || b->expires <= host_now(ss->h))
		return TV_ENOENT;
	*contact = b->ep;
	return 0;
}

/* ---- sending --------------------------------------------------------------- */

static void ss_send(softswitch *ss, osip_message_t *m, const tv_ep *to)
{
	char *buf;
	size_t len;

	if (sipmsg_to_str(m, &buf, &len) < 0)
		return;
	host_udp_send(ss->udp, to, buf, len);
	osip_free(buf);
}

/* Answer req as a UAS (the stamped top Via says where). The To tag is
 * derived from the branch so retransmissions get the same answer. */
static void ss_reply(softswitch *ss, const osip_message_t *req, int code, const char *contact)
{
	osip_message_t *r;
	char tag[20];
	tv_ep to;

	if (MSG_IS_ACK(req) || sipmsg_via_target(req, 0, &to) < 0)
		return;
	snprintf(tag, sizeof(tag), "%016llx",
		 (unsigned long long)sipmsg_hash(SIPMSG_HASH_INIT, sipmsg_branch(req)));
	if (sipmsg_response(req, code, tag, &r) < 0)
		return;
	if (contact)
		osip_message_set_contact(r, contact);
	ss_send(ss, r, &to);
	osip_message_free(r);
}

/* ---- registrar --------------------------------------------------------------- */

static void ss_register(softswitch *ss, const osip_message_t *m, tv_time now)
{
	const char *user = m->to->url ? m->to->url->username : NULL;
	osip_contact_t *c = NULL;
	char uri[SS_URI_MAX], hdr[SS_URI_MAX + 32];
	unsigned long exp;
	ss_binding *b;
	tv_ep ep;

	ss->st.registers++;
	if (!user || !*user) {
		ss_reply(ss, m, 400, NULL);
		return;
	}
	osip_message_get_contact(m, 0, &c);
	exp = sipmsg_expires(m, c, SS_DEFAULT_EXPIRES, SS_MAX_EXPIRES);
	if (c && !c->url && exp == 0) {                 /* Contact: * */
		if ((b = binding_find(ss, user)) != NULL)
			binding_del(ss, b);
		ss_reply(ss, m, 200, NULL);
		return;
	}
	if (c) {
		if (sipmsg_contact_uri(m, uri, sizeof(uri)) < 0 || sipmsg_uri_ep(c->url, &ep) < 0) {
			ss_reply(ss, m, 400, NULL);
			return;
		}
		if (exp == 0) {
			if ((b = binding_find(ss, user)) != NULL)
				binding_del(ss, b);
			expiry_arm(ss);
		} else if (binding_set(ss, user, uri, &ep, now + TV_SEC(exp)) < 0) {
			ss_reply(ss, m, 500, NULL);
			return;
		}
	}
	b = binding_find(ss, user);
	if (b) {
		snprintf(hdr, sizeof(hdr), "<%s>;expires=%lld", b->contact,
			 (long long)((b->expires - now) / TV_SEC(1)));
	}
	ss_reply(ss, m, 200, b ? hdr : NULL);
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
static void ss_not_found(softswitch *ss, const osip_message_t *m)
{
	if (MSG_IS_ACK(m))
		return;
	ss->st.not_found++;
	ss_reply(ss, m, 404, NULL);
}

static void ss_forward(softswitch *ss, osip_message_t *m, tv_time now)
{
	const osip_uri_t *u = m->req_uri;
	const ss_binding *b = NULL;
	char branch[32], via[128];
	tv_ep dst;
	int mf;

	if (uri_is_local(ss, u)) {
		if (u->username)
			b = binding_find(ss, u->username);
		if (!b || b->expires <= now) {
			ss_not_found(ss, m);
			return;
		}
		dst = b->ep;
	} else if (sipmsg_uri_ep(u, &dst) < 0) {
		/* No DNS here: a name we are not is a place we cannot reach. */
		ss_not_found(ss, m);
		return;
	}
	if (tv_ep_eq(&dst, &ss->self)) {
		ss_reply(ss, m, 482, NULL);
		return;
	}
	mf = max_forwards_take(m);
	if (mf <= 0) {
		ss_reply(ss, m, mf == 0 ? 483 : 400, NULL);
		return;
	}
	branch_make(m, branch, sizeof(branch));
	if (b && ruri_set(m, b->contact) < 0) {
		ss_reply(ss, m, 500, NULL);
		return;
	}
	snprintf(via, sizeof(via), "SIP/2.0/UDP %s:%u;branch=%s", ss->self_ip, ss->self.port, branch);
	if (osip_message_append_via(m, via) != 0)
		return;
	osip_message_force_update(m);
	ss->st.requests_routed++;
	ss_send(ss, m, &dst);
}

static void ss_request(softswitch *ss, osip_message_t *m, const tv_ep *from, tv_time now)
{
	const osip_uri_t *u = m->req_uri;

	sipmsg_via_stamp(m, from);
	if (MSG_IS_INVITE(m))
		ss->st.invites++;
	if (uri_is_local(ss, u) && MSG_IS_REGISTER(m)) {
		ss_register(ss, m, now);
		return;
	}
	if (uri_is_local(ss, u) && !u->username && MSG_IS_OPTIONS(m)) {
		ss_reply(ss, m, 200, NULL);
		return;
	}
	ss_forward(ss, m, now);
}

/* Pop our Via and send to the next one's received/rport or sent-by. */
static void ss_response(softswitch *ss, osip_message_t *m)
{
	osip_via_t *v = NULL;
	unsigned long port = 5060;
	tv_ip ip;
	tv_ep to;

	osip_message_get_via(m, 0, &v);
	if (tv_ip_parse(v->host, &ip) < 0 || !tv_ip_eq(&ip, &ss->self.ip) ||
	    (v->port && sipmsg_uint(v->port, 65535, &port) < 0) || port != ss->self.port)
		return;
	osip_list_remove(&m->vias, 0);
	osip_via_free(v);
	osip_message_force_update(m);
	if (sipmsg_via_target(m, 0, &to) < 0)
		return;
	ss->st.responses_routed++;
	ss_send(ss, m, &to);
}

static void ss_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	softswitch *ss = arg;
	osip_message_t *m;

	(void)s;
	ss->st.rx++;
	if (sipmsg_is_keepalive(data, len))
		return;
	if (sipmsg_parse(data, len, &m) < 0) {
		ss->st.rx_bad++;
		return;
	}
	if (MSG_IS_REQUEST(m))
		ss_request(ss, m, from, now);
	else
		ss_response(ss, m);
	osip_message_free(m);
}

/* ---- life cycle --------------------------------------------------------------- */

softswitch *softswitch_new(tv_host *h, uint16_t port, const char *domain, int *err)
{
	softswitch *ss;
	tv_ep local = tv_ep4(0, port ? port : 5060);

	if (!h || !domain || !*domain || strlen(domain) >= sizeof(ss->domain)) {
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
	snprintf(ss->domain, sizeof(ss->domain), "%s", domain);
	tv_timer_init(&ss->expiry, expiry_fire, ss);
	ss->udp = host_udp_bind(h, &local, ss_rx, ss, err);
	if (!ss->udp) {
		free(ss);
		return NULL;
	}
	ss->self = host_udp_local(ss->udp);
	tv_ip_fmt(&ss->self.ip, ss->self_ip);
	*err = 0;
	return ss;
}

void softswitch_free(softswitch *ss)
{
	if (!ss)
		return;
	host_timer_cancel(ss->h, &ss->expiry);
	host_udp_close(ss->udp);
	free(ss->b);
	free(ss);
}
