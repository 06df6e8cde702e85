/* sip_contact.c - every Contact value, both ways, and what a terminal
 * registered.
 *
 * A message may carry several Contact headers and several comma-separated
 * values in each (RFC 3261 20.10); each value is rewritten, never only the
 * first. Toward the core a terminal's values get its core address and lose
 * their ;transport= parameter (the core side is UDP); the proxy remembers
 * each one (userinfo, host:port and transport as written) so that the
 * registrar's answer and requests to that Contact find their way back to
 * exactly what the terminal wrote. Two values with the same userinfo
 * (typically one address written with and without ;transport=tcp) would
 * become the same URI at the core, and a registrar would keep one: the
 * second and later get a ;tvc=n URI parameter, which the registrar stores
 * as part of the URI and the proxy takes off again on the way back. Toward a terminal every other party's
 * Contact becomes the proxy's access address, where the terminal sends its
 * in-dialog requests. A value the span finders cannot read refuses the
 * whole message: nothing half rewritten leaves. */
#include "proxy_priv.h"

#include <osipparser2/osip_parser.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PX_VALUES_MAX 16        /* values in one Contact header we will rewrite */

static px_contact *contact_find(px_binding *b, uint64_t user, int tag)
{
	for (px_contact *c = b->ct; c; c = c->next)
		if (c->user == user && c->tag == tag)
			return c;
	for (px_contact *c = b->ct; c; c = c->next)
		if (c->user == user)
			return c;
	return b->ct;
}

/* The key of a URI's userinfo (none: the key of ""). */
static uint64_t user_key(const char *buf, rw_span val)
{
	rw_span us;

	if (rw_uri_user(buf, val, &us) == 1)
		return px_hash_mem(buf + us.off, us.len);
	return px_hash_mem("", 0);
}

/* The ;tvc=n the proxy put on a URI (in <> or bare): n, else 0; *at the
 * parameter's span (len 0 if none). */
static int tag_of(const char *buf, rw_span val, bool bare, rw_span *at)
{
	int n = 0;

	at->len = 0;
	if ((bare ? rw_bare_uri_param(buf, val, "tvc", at) : rw_uri_param(buf, val, "tvc", at)) != 1)
		return 0;
	for (uint32_t i = 5; i < at->len && buf[at->off + i] >= '0' && buf[at->off + i] <= '9' && n < 100; i++)
		n = n * 10 + (buf[at->off + i] - '0');
	return n;
}

/* The list is kept in the order of an array's entries (tests/unit/
 * test_contacts.c holds it to that array): a new value goes last, or over
 * the last one when there are PX_MAX_CONTACTS; the first value and entry
 * 0 trade places. */
int px_contact_remember(px_binding *b, uint64_t user, uint8_t tag, bool tcp, const char *hp, bool first)
{
	size_t len = strlen(hp);
	px_contact **at = &b->ct, *c;   /* the link to entry i */
	int i = 0;

	for (; *at && ((*at)->user != user || (*at)->tag != tag); i++)
		at = &(*at)->next;
	if (i == PX_MAX_CONTACTS) {     /* forget the last one */
		at = &b->ct;
		for (i = 0; i < PX_MAX_CONTACTS - 1; i++)
			at = &(*at)->next;
	}
	c = *at;
	if (!c || strlen(c->hp) != len) {
		px_contact *n = realloc(c, offsetof(px_contact, hp) + len + 1);
		if (!n)
			return -1;
		if (!c)
			n->next = NULL;
		*at = c = n;
	}
	c->user = user;
	c->tag = tag;
	c->tcp = tcp;
	memcpy(c->hp, hp, len + 1);
	if (first && i != 0) {
		px_contact *h = b->ct;
		if (i == 1) {
			h->next = c->next;
			c->next = h;
		} else {
			px_contact *t = h->next;
			h->next = c->next;
			c->next = t;
			*at = h;
		}
		b->ct = c;
	}
	if (first)
		tv_ep_parse(c->hp, &b->contact, true);
	return 0;
}

void px_contacts_free(px_binding *b)
{
	while (b->ct) {
		px_contact *c = b->ct;
		b->ct = c->next;
		free(c);
	}
}

/* Call fn for each Contact value that holds a SIP URI host:port. -1 if a
 * header or value cannot be read (or there are too many), else 0. */
typedef int (*value_fn)(void *arg, sip_rw *rw, rw_span val, rw_span hp, int nth);

static int each_contact(sip_rw *rw, value_fn fn, void *arg)
{
	rw_span nm, v, vals[PX_VALUES_MAX], hp;
	size_t pos = 0;
	int rc, nth = 0;

	while ((rc = rw_header_next(rw->buf, rw->body_off, &pos, &nm, &v)) == 1) {
		int nv;
		if (!rw_name_is(rw->buf, nm, "Contact", 'm'))
			continue;
		nv = rw_values(rw->buf, v, vals, PX_VALUES_MAX);
		if (nv < 0)
			return -1;
		for (int k = 0; k < nv; k++) {
			int r = rw_uri_hostport(rw->buf, vals[k], &hp);
			if (r < 0)
				return -1;
			if (r == 0)
				continue;       /* "*", tel:, another scheme: no address */
			if (fn(arg, rw, vals[k], hp, nth++) < 0)
				return -1;
		}
	}
	return rc < 0 ? -1 : 0;
}

static int first_hp(void *arg, sip_rw *rw, rw_span val, rw_span hp, int nth)
{
	char *out = arg;

	(void)val;
	if (nth == 0)
		rw_copy(rw->buf, hp, out, PX_HP);
	return 0;
}

int px_first_contact_hp(sip_rw *rw, char out[PX_HP])
{
	out[0] = '\0';
	return each_contact(rw, first_hp, out) == 0 && out[0] ? 1 : 0;
}

typedef struct to_core {
	proxy *p;
	px_binding *b;
	bool remember;
	int nseen;
	uint64_t seen[PX_VALUES_MAX];   /* userinfo hashes of the values so far */
} to_core;

static int value_to_core(void *arg, sip_rw *rw, rw_span val, rw_span hp, int nth)
{
	to_core *c = arg;
	uint64_t user;
	uint8_t tag = 0;
	rw_span tp;
	char hpt[PX_HP], rep[RW_REP_MAX], chp[TV_EP_STRLEN];
	int t = rw_uri_param(rw->buf, val, "transport", &tp);
	bool angle = memchr(rw->buf + val.off, '<', val.len) != NULL;

	if (t < 0 || hp.len >= sizeof(hpt))
		return -1;
	user = user_key(rw->buf, val);
	for (int i = 0; i < c->nseen; i++)
		tag += c->seen[i] == user;
	if (c->nseen < PX_VALUES_MAX)
		c->seen[c->nseen++] = user;
	if (c->remember) {
		bool tcp = t == 1 && tp.len == 14 && !strncasecmp(rw->buf + tp.off, ";transport=tcp", 14);
		rw_copy(rw->buf, hp, hpt, sizeof(hpt));
		if (px_contact_remember(c->b, user, tag, tcp, hpt, nth == 0) < 0)
			return -1;
	}
	if (tag && angle)
		snprintf(rep, sizeof(rep), "%s;tvc=%u", px_core_hp(c->b, chp), tag);
	else
		snprintf(rep, sizeof(rep), "%s", px_core_hp(c->b, chp));
	if (rw_replace(rw, hp, rep) < 0)
		return -1;
	if (t == 1 && rw_replace(rw, tp, "") < 0)
		return -1;
	return 0;
}

int px_contacts_to_core(proxy *p, px_binding *b, sip_rw *rw, bool remember)
{
	to_core c = { .p = p, .b = b, .remember = remember };

	return each_contact(rw, value_to_core, &c);
}

typedef struct to_access {
	proxy *p;
	px_binding *b;
	bool reg;               /* a 2xx to REGISTER: the terminal's own come back */
	char *peer;             /* the first value's host:port, for in-dialog routing */
	size_t peer_cap;
} to_access;

static int value_to_access(void *arg, sip_rw *rw, rw_span val, rw_span hp, int nth)
{
	to_access *c = arg;
	px_binding *b = c->b;
	char hpt[PX_HP], rep[RW_REP_MAX], chp[TV_EP_STRLEN];
	rw_span tp;
	int t = rw_uri_param(rw->buf, val, "transport", &tp);
	bool angle = memchr(rw->buf + val.off, '<', val.len) != NULL;
	const px_contact *ct = NULL;
	rw_span tg;
	int tag = tag_of(rw->buf, val, false, &tg);

	if (t < 0)
		return -1;
	rw_copy(rw->buf, hp, hpt, sizeof(hpt));
	if (c->reg && !strcmp(hpt, px_core_hp(b, chp)))
		ct = contact_find(b, user_key(rw->buf, val), tag);
	if (ct) {
		snprintf(rep, sizeof(rep), "%s%s", ct->hp, ct->tcp && angle ? ";transport=tcp" : "");
	} else {
		if (!c->reg && nth == 0 && c->peer)
			snprintf(c->peer, c->peer_cap, "%s", hpt);
		snprintf(rep, sizeof(rep), "%s%s", c->p->access_hp, b->tcp_flow && angle ? ";transport=tcp" : "");
	}
	if (tg.len && rw_replace(rw, tg, "") < 0)
		return -1;
	if (rw_replace(rw, hp, rep) < 0)
		return -1;
	if (t == 1 && rw_replace(rw, tp, "") < 0)
		return -1;
	return 0;
}

int px_contacts_to_access(proxy *p, px_binding *b, sip_rw *rw, bool reg, char *peer, size_t peer_cap)
{
	to_access c = { p, b, reg, peer, peer_cap };

	return each_contact(rw, value_to_access, &c);
}

int px_ruri_to_access(proxy *p, px_binding *b, sip_rw *rw)
{
	rw_span r, hp, tg;
	char rep[RW_REP_MAX];
	const px_contact *ct;
	int tag;

	(void)p;
	if (rw_request_uri(rw->buf, rw->body_off, &r) != 1 || rw_uri_hostport(rw->buf, r, &hp) != 1)
		return 0;
	tag = tag_of(rw->buf, r, true, &tg);
	ct = contact_find(b, user_key(rw->buf, r), tag);
	if (!ct)
		return 0;
	snprintf(rep, sizeof(rep), "%s%s", ct->hp, ct->tcp ? ";transport=tcp" : "");
	if (tg.len && rw_replace(rw, tg, "") < 0)
		return -1;
	return rw_replace(rw, hp, rep);
}

/* A 2xx to REGISTER: the lifetime the registrar granted this terminal's
 * Contacts (those with its core address), the longest of them; 0 if none
 * is left registered. */
long px_register_expires(const proxy *p, const px_binding *b, const osip_message_t *m)
{
	osip_header_t *eh = NULL;
	long hdr = 3600, best = 0;
	char port[8];

	snprintf(port, sizeof(port), "%u", b->core_port);
	if (osip_message_get_expires(m, 0, &eh) == 0 && eh && eh->hvalue)
		hdr = strtol(eh->hvalue, NULL, 10);
	for (int i = 0;; i++) {
		osip_contact_t *ct = NULL;
		osip_generic_param_t *ex = NULL;
		long e = hdr;

		if (osip_message_get_contact(m, i, &ct) < 0 || !ct)
			break;
		if (!ct->url || !ct->url->host || strcmp(ct->url->host, p->core_ip_s) || !ct->url->port ||
		    strcmp(ct->url->port, port))
			continue;
		if (osip_contact_param_get_byname(ct, "expires", &ex) == 0 && ex && ex->gvalue)
			e = strtol(ex->gvalue, NULL, 10);
		if (e > best)
			best = e;
	}
	return best > 86400 * 365L ? 86400 * 365L : best;
}
