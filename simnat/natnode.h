/* natnode.h - a NAT engine placed in the simulated network.
 *
 * The node has an inside interface (the gateway of its inside link) and an
 * outside interface owning the public addresses on the outside link. NATs
 * chain by putting one NAT's outside on another NAT's inside link. */
#ifndef TV_NATNODE_H
#define TV_NATNODE_H

#include "nat.h"
#include "simnet.h"
#include "timerq.h"

typedef struct nat_node nat_node;

nat_node *nat_node_new(sim_net *net, const char *name, sim_link *inside, const tv_ip *inside_ip,
		       sim_link *outside, const nat_cfg *cfg, char *err, size_t errlen);
void nat_node_free(nat_node *nn);
const char *nat_node_name(const nat_node *nn);
nat *nat_node_engine(nat_node *nn);

/* Hand the node's packets to fn instead of the engine (a NAT made of
 * something else: the kernel's, in `traverse run --netns`), and put what
 * it forwards back on a link. from_inside/to_inside: which interface. */
typedef void (*nat_node_fwd_fn)(void *arg, bool from_inside, const uint8_t *pkt, size_t len, tv_time now);
void nat_node_set_forward(nat_node *nn, nat_node_fwd_fn fn, void *arg);
int nat_node_emit(nat_node *nn, bool to_inside, const uint8_t *pkt, size_t len);

/* Faults a scenario can trigger. */
void nat_node_reboot(nat_node *nn);
int nat_node_change_addr(nat_node *nn, const tv_ip *new_ip);  /* replaces the first public address */
void nat_node_table_full(nat_node *nn, bool on);

#endif
