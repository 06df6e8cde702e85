/* ss_registrar.c - the softswitch's location service (RFC 3261 10.3) and
 * its idea of which addresses the core can reach (softswitch_priv.h).
 *
 * Each address of record holds up to SOFTSWITCH_MAX_CONTACTS Contacts,
 * each with its own expiry. A REGISTER's Contacts are applied all or none
 * (10.3 step 7); a Contact is the same as a stored one when its URI is
 * written the same (libosip2's rendering of it), which is stricter than
 * the URI comparison of 19.1.4 but agrees with it for the URIs phones
 * write. Requests go to one Contact, the one registered most recently
 * (among those of one REGISTER, the first listed): no forking, no q.
 *
 * Routability: a private address the softswitch is not on leads nowhere
 * from the core; see ss_reg_routable.
 *
 * Timers:
 *   expiry   armed at the earliest Contact expiry; drops the Contacts
 *            that are due (and users left with none) and re-arms. */
#include "softswitch_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- routability ----------------------------------------------------------- */

static const struct {
	uint32_t net;
	uint8_t len;
} ss_unroutable[] = {
	{ 0x0a000000u, 8 },     /* 10/8, RFC 1918 */
	{ 0xac100000u, 12 },    /* 172.16/12, RFC 1918 */
	{ 0xc0a80000u, 16 },    /* 192.168/16, RFC 1918 */
	{ 0x64400000u, 10 },    /* 100.64/10, RFC 6598 (carrier-grade NAT) */
	{ 0x7f000000u, 8 },     /* loopback */
	{ 0xa9fe0000u, 16 },    /* 169.254/16, link-local */
	{ 0x00000000u, 8 },     /* "this network" */
	{ 0xe0000000u, 3 },     /* multicast, reserved, broadcast */
};

static bool in_prefix(uint32_t ip, uint32_t net, uint8_t len)
{
	uint32_t mask = len ? ~0u << (32 - len) : 0;

	return ((ip ^ net) & mask) == 0;
}

/* The default models a core network: the softswitch reaches its own link
 * (taken as its /24, since simulated links carry no prefix) and the public
 * internet, not somebody else's private network. */
bool ss_reg_routable(const softswitch *ss, const tv_ip *ip)
{
	const softswitch_cfg *c = &ss->cfg;

	if (ip->af != TV_AF_INET)
		return false;
	switch (c->reach) {
	case SOFTSWITCH_REACH_ANY:
		return true;
	case SOFTSWITCH_REACH_LIST:
		for (int i = 0; i < c->nreach; i++)
			if (in_prefix(ip->v4, c->reach_list[i].net.v4, c->reach_list[i].len))
				return true;
		return false;
	case SOFTSWITCH_REACH_DEFAULT:
		break;
	}
	if (in_prefix(ip->v4, ss->self.ip.v4, 24))
		return true;
	return softswitch_public_ip(ip);
}

bool softswitch_public_ip(const tv_ip *ip)
{
	for (size_t i = 0; i < sizeof(ss_unroutable) / sizeof(ss_unroutable[0]); i++)
		if (in_prefix(ip->v4, ss_unroutable[i].net, ss_unroutable[i].len))
			return false;
	return true;
}

/* ---- the table ------------------------------------------------------------- */

static ss_aor *aor_find(const softswitch *ss, const char *user)
{
	for (size_t i = 0; i < ss->naors; i++)
		if (strcmp(ss->aors[i].user, user) == 0)
			return &ss->aors[i];
	return NULL;
}

static void stats_update(softswitch *ss)
{
	uint32_t n = 0;

	for (size_t i = 0; i < ss->naors; i++)
		n += (uint32_t)ss->aors[i].n;
	ss->st.bindings = (uint32_t)ss->naors;
	ss->st.contacts = n;
}

/* An address of record with no Contact left is removed (the last one
 * moves into its place). */
static void aor_prune(softswitch *ss, ss_aor *a)
{
	if (a->n == 0)
		*a = ss->aors[--ss->naors];
}

/* Remove Contact i, keeping the others in order. */
static void contact_del(ss_aor *a, int i)
{
	memmove(&a->c[i], &a->c[i + 1], (size_t)(a->n - i - 1) * sizeof(a->c[0]));
	a->n--;
}

static int contact_find(const ss_aor *a, const char *uri)
{
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->c[i].uri, uri) == 0)
			return i;
	return -1;
}

static void expiry_arm(softswitch *ss)
{
	tv_time next = TV_NEVER;

	for (size_t i = 0; i < ss->naors; i++)
		for (int k = 0; k < ss->aors[i].n; k++)
			if (ss->aors[i].c[k].expires < next)
				next = ss->aors[i].c[k].expires;
	if (next == TV_NEVER)
		host_timer_cancel(ss->h, &ss->expiry);
	else
		host_timer_arm(ss->h, &ss->expiry, next);
}

static void expiry_fire(tv_timer *t, tv_time now)
{
	softswitch *ss = t->arg;

	for (size_t i = 0; i < ss->naors;) {
		ss_aor *a = &ss->aors[i];

		for (int k = 0; k < a->n;) {
			if (a->c[k].expires <= now)
				contact_del(a, k);
			else
				k++;
		}
		if (a->n == 0)
			aor_prune(ss, a);
		else
			i++;
	}
	stats_update(ss);
	expiry_arm(ss);
}

void ss_reg_init(softswitch *ss)
{
	tv_timer_init(&ss->expiry, expiry_fire, ss);
}

void ss_reg_free(softswitch *ss)
{
	host_timer_cancel(ss->h, &ss->expiry);
	free(ss->aors);
	ss->aors = NULL;
	ss->naors = ss->capaors = 0;
}

/* Work on a copy; commit it only if every update fits. */
int ss_reg_update(softswitch *ss, const char *user, const ss_update *u, int n, tv_time now)
{
	ss_aor *a = aor_find(ss, user), next;
	int i;

	if (strlen(user) >= SS_USER_MAX)
		return TV_EINVAL;
	memset(&next, 0, sizeof(next));
	if (a)
		next = *a;
	else
		snprintf(next.user, sizeof(next.user), "%s", user);
	for (i = 0; i < next.n;) {                      /* expired ones first */
		if (next.c[i].expires <= now)
			contact_del(&next, i);
		else
			i++;
	}
	ss->reg_seq++;
	for (int k = 0; k < n; k++) {
		int at = contact_find(&next, u[k].uri);
		ss_contact *c;

		if (u[k].expires == 0) {
			if (at >= 0)
				contact_del(&next, at);
			continue;
		}
		if (at < 0) {
			if (next.n == SOFTSWITCH_MAX_CONTACTS)
				return TV_EFULL;
			at = next.n++;
		}
		c = &next.c[at];
		snprintf(c->uri, sizeof(c->uri), "%s", u[k].uri);
		c->ep = u[k].ep;
		c->tcp = u[k].tcp;
		c->path = u[k].path;
		c->expires = now + TV_SEC(u[k].expires);
		c->reg_seq = ss->reg_seq;
		c->pos = k;
	}
	if (!a && next.n > 0) {
		if (ss->naors == ss->capaors) {
			size_t cap = ss->capaors ? 2 * ss->capaors : 16;
			ss_aor *na = realloc(ss->aors, cap * sizeof(*na));

			if (!na)
				return TV_ENOMEM;
			ss->aors = na;
			ss->capaors = cap;
		}
		a = &ss->aors[ss->naors++];
	}
	if (a) {
		*a = next;
		aor_prune(ss, a);
	}
	stats_update(ss);
	expiry_arm(ss);
	return 0;
}

void ss_reg_clear(softswitch *ss, const char *user)
{
	ss_aor *a = aor_find(ss, user);

	if (!a)
		return;
	a->n = 0;
	aor_prune(ss, a);
	stats_update(ss);
	expiry_arm(ss);
}

const ss_aor *ss_reg_find(const softswitch *ss, const char *user, tv_time now)
{
	const ss_aor *a = aor_find(ss, user);

	return a && ss_reg_target(a, now) ? a : NULL;
}

const ss_contact *ss_reg_target(const ss_aor *a, tv_time now)
{
	const ss_contact *best = NULL;

	for (int i = 0; i < a->n; i++) {
		const ss_contact *c = &a->c[i];

		if (c->expires <= now)
			continue;
		if (!best || c->reg_seq > best->reg_seq || (c->reg_seq == best->reg_seq && c->pos < best->pos))
			best = c;
	}
	return best;
}

/* ---- public look-ups --------------------------------------------------------- */

int softswitch_lookup(const softswitch *ss, const char *user, tv_ep *contact)
{
	const ss_aor *a = aor_find(ss, user);
	const ss_contact *c = a ? ss_reg_target(a, host_now(ss->h)) : NULL;

	if (!c)
		return TV_ENOENT;
	*contact = c->ep;
	return 0;
}

int softswitch_contacts(const softswitch *ss, const char *user, softswitch_contact *out, int max)
{
	const ss_aor *a = aor_find(ss, user);
	tv_time now = host_now(ss->h);
	int n = 0;

	for (int i = 0; a && i < a->n; i++) {
		const ss_contact *c = &a->c[i];

		if (c->expires <= now)
			continue;
		if (n < max) {
			snprintf(out[n].uri, sizeof(out[n].uri), "%s", c->uri);
			out[n].ep = c->ep;
			out[n].tcp = c->tcp;
			out[n].expires = c->expires;
		}
		n++;
	}
	return n;
}
