/* test_contacts.c - the Contacts a binding remembers (proxy/sip_contact.c),
 * against a slow model: the fixed array of PX_MAX_CONTACTS full-size
 * entries the proxy kept before issue 12, its upsert copied as it was.
 * The proxy now keeps a list of entries allocated to the size of their
 * host:port; fed the same random values (few userinfos and tags, so
 * entries are found, added, overwritten when full and moved to the
 * front; host:port texts of changing lengths, so entries are
 * reallocated), both must hold the same entries in the same order and
 * parse the same main Contact address. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_priv.h"

typedef struct model_contact {
	uint64_t user;
	char hp[PX_HP];
	uint8_t tag;
	bool tcp;
} model_contact;

typedef struct model {
	model_contact ct[PX_MAX_CONTACTS];
	int nct;
	char contact_hp[PX_HP];
	tv_ep contact;
} model;

static void model_remember(model *b, const model_contact *c, bool first)
{
	int i;

	for (i = 0; i < b->nct && (b->ct[i].user != c->user || b->ct[i].tag != c->tag); i++)
		;
	if (i == b->nct) {
		if (b->nct == PX_MAX_CONTACTS)
			i = b->nct - 1;         /* forget the last one */
		else
			b->nct++;
	}
	b->ct[i] = *c;
	if (first && i != 0) {
		model_contact t = b->ct[0];
		b->ct[0] = b->ct[i];
		b->ct[i] = t;
	}
	if (first) {
		snprintf(b->contact_hp, sizeof(b->contact_hp), "%s", c->hp);
		tv_ep_parse(b->contact_hp, &b->contact, true);
	}
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void same(const model *m, const px_binding *b, int step)
{
	const px_contact *c = b->ct;
	int i = 0;

	for (; c; c = c->next, i++) {
		cr_assert_lt(i, m->nct, "step %d: more entries than the model's %d", step, m->nct);
		cr_assert_eq(c->user, m->ct[i].user, "step %d entry %d", step, i);
		cr_assert_eq(c->tag, m->ct[i].tag, "step %d entry %d", step, i);
		cr_assert_eq(c->tcp, m->ct[i].tcp, "step %d entry %d", step, i);
		cr_assert_str_eq(c->hp, m->ct[i].hp, "step %d entry %d", step, i);
	}
	cr_assert_eq(i, m->nct, "step %d: %d entries, the model %d", step, i, m->nct);
	cr_assert_str_eq(px_contact_hp(b), m->contact_hp, "step %d", step);
	/* field by field: the address may be none yet (af 0) */
	cr_assert_eq(b->contact.ip.af, m->contact.ip.af, "step %d", step);
	cr_assert_eq(b->contact.port, m->contact.port, "step %d", step);
	if (m->contact.ip.af == TV_AF_INET)
		cr_assert_eq(b->contact.ip.v4, m->contact.ip.v4, "step %d", step);
	else if (m->contact.ip.af == TV_AF_INET6)
		cr_assert_arr_eq(b->contact.ip.v6, m->contact.ip.v6, 16, "step %d", step);
}

Test(contacts, list_keeps_the_arrays_entries_and_order)
{
	static const char *hosts[] = { "192.168.1.10", "10.0.0.7", "phone.example.com", "[2001:db8::1]",
				       "172.16.254.254", "" };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (int run = 0; run < 200; run++) {
		px_binding *b = calloc(1, sizeof(*b));
		model *m = calloc(1, sizeof(*m));
		cr_assert(b && m);
		/* requests of 1 to 6 Contact values, as px_contacts_to_core
		 * hands them over: the first is first, a value's tag counts the
		 * values before it with its userinfo */
		for (int step = 0; step < 40; step++) {
			uint64_t seen[6];
			int nv = 1 + (int)(rnd(&seed) % 6);
			for (int j = 0; j < nv; j++) {
				model_contact c = { .user = rnd(&seed) % 6, .tcp = rnd(&seed) & 1 };
				const char *h = hosts[rnd(&seed) % 6];
				for (int k = 0; k < j; k++)
					c.tag += seen[k] == c.user;
				seen[j] = c.user;
				if (*h)
					snprintf(c.hp, sizeof(c.hp), "%s:%u", h, (unsigned)(rnd(&seed) % 70000));
				else
					snprintf(c.hp, sizeof(c.hp), "%.*s", (int)(rnd(&seed) % PX_HP),
						 "a-host-name-as-long-as-a-Contact-may-be.example.net:5060;"
						 "and-more-to-fill-the-whole-buffer-up-to-its-end");
				model_remember(m, &c, j == 0);
				cr_assert_eq(px_contact_remember(b, c.user, c.tag, c.tcp, c.hp, j == 0), 0);
				same(m, b, step);
			}
		}
		px_contacts_free(b);
		cr_assert_null(b->ct);
		free(b);
		free(m);
	}
}
