/* natnode.c - glue between the NAT engine and the simulated network.
 *
 * Timers: one, armed at nat_next_wake() after every packet and sweep. */
#include "natnode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nat_node {
	char name[32];
	sim_net *net;
	nat *eng;
	sim_iface *in, *out;
	tv_ip inside_ip;
	tv_timer wake;
	nat_node_fwd_fn fwd;            /* set: packets bypass the engine */
	void *fwd_arg;
	uint8_t *alg_buf;       /* alg=sip: room for a packet the ALG grows */
};

static void rearm(nat_node *nn)
{
	tv_time w = nat_next_wake(nn->eng);

	if (w == TV_NEVER)
		tv_timerq_cancel(sim_net_timers(nn->net), &nn->wake);
	else if (!tv_timer_armed(&nn->wake) || nn->wake.when != w)
		tv_timerq_arm(sim_net_timers(nn->net), &nn->wake, w);
}

static void on_wake(tv_timer *t, tv_time now)
{
	nat_node *nn = t->arg;

	nat_on_timeout(nn->eng, now);
	rearm(nn);
}

static void on_rx(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len)
{
	nat_node *nn = node;
	int v;

	if (nn->fwd) {
		nn->fwd(nn->fwd_arg, ifc == nn->in, pkt, len, now);
		return;
	}
	/* The link's buffer has room for len bytes only: a message the ALG
	 * may lengthen is translated in the node's own. */
	if (nn->alg_buf) {
		memcpy(nn->alg_buf, pkt, len);
		pkt = nn->alg_buf;
		v = nat_process_buf(nn->eng, now, ifc == nn->in ? NAT_OUT : NAT_IN, pkt, &len, PKT_IP_MAX);
	} else {
		v = nat_process(nn->eng, now, ifc == nn->in ? NAT_OUT : NAT_IN, pkt, len);
	}

	if (v == NAT_OUT)
		sim_iface_send(nn->out, pkt, len);
	else if (v == NAT_IN)
		sim_iface_send(nn->in, pkt, len);
	/* Expiry deadlines only move later while packets flow, and a new
	 * binding's deadline is "now": rearm only when the wake is not armed
	 * or could be too late. */
	if (!tv_timer_armed(&nn->wake) || nn->wake.when > nat_next_wake(nn->eng))
		rearm(nn);
}

nat_node *nat_node_new(sim_net *net, const char *name, sim_link *inside, const tv_ip *inside_ip,
		       sim_link *outside, const nat_cfg *cfg, char *err, size_t errlen)
{
	nat_node *nn = calloc(1, sizeof(*nn));

	if (!nn) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(nn->name, sizeof(nn->name), "%s", name);
	nn->net = net;
	nn->inside_ip = *inside_ip;
	tv_timer_init(&nn->wake, on_wake, nn);
	nn->eng = nat_new(cfg, tv_rng_next(sim_net_rng(net)), err, errlen);
	if (!nn->eng)
		goto fail;
	if (cfg->alg != NAT_ALG_NONE && !(nn->alg_buf = malloc(PKT_IP_MAX))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	nn->in = sim_iface_new(inside, nn, on_rx);
	nn->out = sim_iface_new(outside, nn, on_rx);
	if (!nn->in || !nn->out) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (sim_iface_add_ip(nn->in, inside_ip) < 0) {
		snprintf(err, errlen, "inside address already in use on link %s", sim_link_name(inside));
		goto fail;
	}
	for (int i = 0; i < cfg->npub; i++) {
		if (sim_iface_add_ip(nn->out, &cfg->pub[i]) < 0) {
			char ip[TV_IP_STRLEN];
			snprintf(err, errlen, "public address %s already in use on link %s",
				 tv_ip_fmt(&cfg->pub[i], ip), sim_link_name(outside));
			goto fail;
		}
	}
	sim_link_set_gateway(inside, nn->in);
	return nn;
fail:
	nat_node_free(nn);
	return NULL;
}

void nat_node_free(nat_node *nn)
{
	if (!nn)
		return;
	tv_timerq_cancel(sim_net_timers(nn->net), &nn->wake);
	if (nn->in)
		sim_iface_set_node(nn->in, NULL, NULL);
	if (nn->out)
		sim_iface_set_node(nn->out, NULL, NULL);
	nat_free(nn->eng);
	free(nn->alg_buf);
	free(nn);
}

const char *nat_node_name(const nat_node *nn) { return nn->name; }

void nat_node_set_forward(nat_node *nn, nat_node_fwd_fn fn, void *arg)
{
	nn->fwd = fn;
	nn->fwd_arg = arg;
}

int nat_node_emit(nat_node *nn, bool to_inside, const uint8_t *pkt, size_t len)
{
	return sim_iface_send(to_inside ? nn->in : nn->out, pkt, len);
}
nat *nat_node_engine(nat_node *nn) { return nn->eng; }

void nat_node_reboot(nat_node *nn)
{
	nat_reboot(nn->eng);
	rearm(nn);
}

int nat_node_change_addr(nat_node *nn, const tv_ip *new_ip)
{
	tv_ip old = nat_get_cfg(nn->eng)->pub[0];
	int rc = sim_iface_add_ip(nn->out, new_ip);

	if (rc < 0)
		return rc;
	sim_iface_del_ip(nn->out, &old);
	rc = nat_change_pub(nn->eng, 0, new_ip);
	rearm(nn);
	return rc;
}

void nat_node_table_full(nat_node *nn, bool on)
{
	nat_set_table_full(nn->eng, on);
}
