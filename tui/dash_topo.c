/* dash_topo.c - the scenario's topology as a tree, its links' traffic
 * (dash_model.h; simulation only).
 *
 * Fed `{"topo":{"nodes":[...],"links":[...]}}`: every node (phone, host,
 * NAT, proxy, softswitch, STUN server) with the links it sits on, and every
 * link's counters. Drawn as a tree from the core outward: the softswitch,
 * its link, the proxy, the access link, the NATs on it, their inside links,
 * the phones behind them; a chain of NATs is one level deeper per NAT. A
 * link's row carries its packets, packets/s over the last interval, losses,
 * LIVE (`<=>`) when it carried packets in the last virtual second, and a
 * sparkline of its packets/s. */
#include "dash_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPO_LIVE_S 1.0         /* a link is live this long after its last packet */

void dash_topo_free(dash_model *m)
{
	free(m->tnode);
	free(m->tlink);
	m->tnode = NULL;
	m->tlink = NULL;
	m->ntnode = m->ntlink = 0;
}

static void copy(char *out, size_t cap, json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	snprintf(out, cap, "%s", json_is_string(v) ? json_string_value(v) : "-");
}

static uint64_t u64(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

int dash_apply_topo(dash_model *m, json_t *o, double now)
{
	json_t *na = json_object_get(o, "nodes"), *la = json_object_get(o, "links"), *v;
	size_t nn = json_array_size(na), nl = json_array_size(la), i;
	dash_topo_node *n = calloc(nn ? nn : 1, sizeof(*n));
	dash_topo_link *l = calloc(nl ? nl : 1, sizeof(*l));
	double dt = now - m->topo_prev_s;

	if (!n || !l) {
		free(n);
		free(l);
		return -1;
	}
	json_array_foreach(na, i, v) {
		json_t *ls = json_object_get(v, "links"), *x;
		size_t k;
		copy(n[i].name, sizeof(n[i].name), v, "name");
		copy(n[i].kind, sizeof(n[i].kind), v, "kind");
		copy(n[i].ip, sizeof(n[i].ip), v, "ip");
		json_array_foreach(ls, k, x)
			if (json_is_string(x) && n[i].nlinks < DASH_TOPO_LINKS)
				snprintf(n[i].link[n[i].nlinks++], sizeof(n[i].link[0]), "%s", json_string_value(x));
	}
	json_array_foreach(la, i, v) {
		const dash_topo_link *p = NULL;
		copy(l[i].name, sizeof(l[i].name), v, "name");
		l[i].delivered = u64(v, "delivered");
		l[i].lost = u64(v, "lost");
		l[i].active_s = -1;
		for (int k = 0; k < m->ntlink && !p; k++)
			if (!strcmp(m->tlink[k].name, l[i].name))
				p = &m->tlink[k];
		if (!p)
			continue;
		memcpy(l[i].hist, p->hist + 1, sizeof(l[i].hist) - sizeof(l[i].hist[0]));
		l[i].active_s = p->active_s;
		l[i].pps = p->pps;
		if (l[i].delivered < p->delivered)
			continue;       /* a new run's link of the same name */
		if (dt > 0)
			l[i].pps = (double)(l[i].delivered - p->delivered) / dt;
		if (l[i].delivered > p->delivered)
			l[i].active_s = now;
		l[i].hist[DASH_HIST - 1] = l[i].pps;
	}
	dash_topo_free(m);
	m->tnode = n;
	m->ntnode = (int)nn;
	m->tlink = l;
	m->ntlink = (int)nl;
	if (dt > 0 || m->topo_prev_s == 0)
		m->topo_prev_s = now;
	return 0;
}

/* ---- the tree ---- */

enum { T_NODE, T_LINK };

struct walk {
	const dash_model *m;
	dash_table *t;
	int cap;
	bool *node_seen, *link_seen;
	char prefix[128];       /* the lines of the levels above: "|  " or "   " */
	int err;
};

static int link_index(const dash_model *m, const char *name)
{
	for (int i = 0; i < m->ntlink; i++)
		if (!strcmp(m->tlink[i].name, name))
			return i;
	return -1;
}

static bool on_link(const dash_topo_node *n, const char *link)
{
	for (int k = 0; k < n->nlinks; k++)
		if (!strcmp(n->link[k], link))
			return true;
	return false;
}

static void row(struct walk *w, int kind, int idx, bool root, bool last)
{
	const dash_model *m = w->m;
	char text[sizeof(w->prefix) + 4], spark[DASH_HIST + 1], pps[16];
	int r = dash_table_add(w->t, &w->cap);

	if (r < 0) {
		w->err = -1;
		return;
	}
	snprintf(text, sizeof(text), "%s%s", w->prefix, root ? "" : last ? "`-" : "|-");
	if (kind == T_NODE) {
		const dash_topo_node *n = &m->tnode[idx];
		dash_table_set(w->t, r, 0, "%s%s%s (%s) %s", text, root ? "" : " ", n->name, n->kind, n->ip);
		return;
	}
	const dash_topo_link *l = &m->tlink[idx];
	dash_spark(l->hist, DASH_HIST, spark, sizeof(spark));
	dash_si(l->pps, pps, sizeof(pps));
	dash_table_set(w->t, r, 0, "%s[%s]", text, l->name);
	dash_table_set(w->t, r, 1, "%llu", (unsigned long long)l->delivered);
	dash_table_set(w->t, r, 2, "%s", pps);
	dash_table_set(w->t, r, 3, "%llu", (unsigned long long)l->lost);
	dash_table_set(w->t, r, 4, "%s", l->active_s >= 0 && m->now_s - l->active_s <= TOPO_LIVE_S ? "<=>" : "");
	dash_table_set(w->t, r, 5, "%s", spark);
}

static void walk_link(struct walk *w, int li, bool root, bool last);

/* A node's row, then its other links below it. */
static void walk_node(struct walk *w, int ni, bool root, bool last)
{
	const dash_topo_node *n = &w->m->tnode[ni];
	size_t plen = strlen(w->prefix);
	int kids[DASH_TOPO_LINKS], nk = 0;

	w->node_seen[ni] = true;
	row(w, T_NODE, ni, root, last);
	for (int k = 0; k < n->nlinks; k++) {
		int li = link_index(w->m, n->link[k]);
		if (li >= 0 && !w->link_seen[li]) {
			w->link_seen[li] = true;        /* claimed here, so a sibling does not draw it */
			kids[nk++] = li;
		}
	}
	if (!root && plen + 3 < sizeof(w->prefix))
		strcat(w->prefix, last ? "   " : "|  ");
	for (int k = 0; k < nk && !w->err; k++)
		walk_link(w, kids[k], false, k == nk - 1);
	w->prefix[plen] = '\0';
}

/* A link's row, then the nodes on it not drawn yet. */
static void walk_link(struct walk *w, int li, bool root, bool last)
{
	const dash_model *m = w->m;
	size_t plen = strlen(w->prefix);
	int kids[256], nk = 0;

	w->link_seen[li] = true;
	row(w, T_LINK, li, root, last);
	for (int i = 0; i < m->ntnode && nk < 256; i++)
		if (!w->node_seen[i] && on_link(&m->tnode[i], m->tlink[li].name)) {
			w->node_seen[i] = true;
			kids[nk++] = i;
		}
	if (!root && plen + 3 < sizeof(w->prefix))
		strcat(w->prefix, last ? "   " : "|  ");
	for (int k = 0; k < nk && !w->err; k++)
		walk_node(w, kids[k], false, k == nk - 1);
	w->prefix[plen] = '\0';
}

int dash_topo_rows(const dash_model *m, dash_table *t)
{
	static const char *const h[] = { "TOPOLOGY", "PKTS", "PKT/S", "LOST", "LIVE", "ACTIVITY" };
	static const int w[] = { 50, 7, 5, 4, 4, 0 };
	static const char *const roots[] = { "softswitch", "proxy", "nat", NULL };
	struct walk wk = { .m = m, .t = t };

	t->title = "Topology";
	t->ncols = 6;
	for (int c = 0; c < t->ncols; c++) {
		t->head[c] = h[c];
		t->width[c] = w[c];
		t->numeric[c] = c >= 1 && c <= 3;
	}
	wk.node_seen = calloc((size_t)m->ntnode + 1, sizeof(bool));
	wk.link_seen = calloc((size_t)m->ntlink + 1, sizeof(bool));
	if (!wk.node_seen || !wk.link_seen) {
		free(wk.node_seen);
		free(wk.link_seen);
		return -1;
	}
	/* from the core outward: softswitches first, then proxies, NATs, the rest */
	for (int k = 0; k <= 3 && !wk.err; k++)
		for (int i = 0; i < m->ntnode && !wk.err; i++)
			if (!wk.node_seen[i] && (!roots[k] || !strcmp(m->tnode[i].kind, roots[k])))
				walk_node(&wk, i, true, true);
	for (int i = 0; i < m->ntlink && !wk.err; i++)
		if (!wk.link_seen[i])
			walk_link(&wk, i, true, true);
	free(wk.node_seen);
	free(wk.link_seen);
	return wk.err;
}
