/* nat.h - NAT/firewall engine (RFC 4787 for UDP, RFC 5382 for TCP).
 *
 * Pure: nat_process() is handed a packet, its direction and the time, and
 * rewrites it in place or returns a drop reason. It owns no sockets, reads
 * no clock, and draws randomness only from the generator given at creation.
 *
 * Timers: one, "earliest binding expiry", reported by nat_next_wake() and
 * served by nat_on_timeout(). Expiry is also checked lazily on every
 * lookup, so what a packet sees never depends on when the sweep ran. */
#ifndef TV_NAT_H
#define TV_NAT_H

#include "tv.h"
#include "rng.h"
#include "pkt.h"

#define NAT_MAX_PUB 8

enum nat_behav { NAT_EI = 0, NAT_AD = 1, NAT_APD = 2 };
enum nat_port_alloc { NAT_PORT_PRESERVE, NAT_PORT_SEQUENTIAL, NAT_PORT_RANDOM };
enum nat_pool { NAT_POOL_PAIRED, NAT_POOL_ARBITRARY };
enum nat_refresh { NAT_REFRESH_OUTBOUND, NAT_REFRESH_BOTH };
enum nat_dir { NAT_OUT = 1, NAT_IN = 2 };      /* OUT: from the inside */
enum nat_alg { NAT_ALG_NONE, NAT_ALG_SIP };

/* SIP ALG faults (alg-fault=), each a bug seen in real CPE ALGs;
 * nat_alg_sip.h and docs/simnat.md say what each does. */
enum {
	NAT_ALGF_NO_SDP = 1 << 0,               /* headers rewritten, SDP left private */
	NAT_ALGF_WRONG_PORT = 1 << 1,           /* public address with the private port */
	NAT_ALGF_NO_CONTENT_LENGTH = 1 << 2,    /* body changed, Content-Length not */
	NAT_ALGF_NO_PINHOLE = 1 << 3,           /* SDP rewritten, no media mapping opened */
	NAT_ALGF_VIA_ONLY = 1 << 4,             /* only the top Via rewritten */
	NAT_ALGF_CONTACT_ONLY = 1 << 5,         /* only Contact rewritten */
};

typedef struct nat_rule {
	bool allow;
	uint8_t dir;            /* NAT_OUT, NAT_IN or both (3) */
	uint8_t proto;          /* 0: any */
	uint32_t src, src_mask, dst, dst_mask;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
} nat_rule;

#define NAT_MAX_RULES 32

typedef struct nat_cfg {
	enum nat_behav mapping, filtering;
	enum nat_port_alloc ports;
	bool parity;                    /* keep the internal port's parity (REQ-4) */
	enum nat_pool pool;             /* paired: one internal IP, one public IP (REQ-2) */
	tv_ip pub[NAT_MAX_PUB];
	int npub;
	uint16_t port_lo, port_hi;      /* public port range, default 1024-65535 */
	tv_time udp_timeout;            /* mapping with outbound traffic only */
	tv_time udp_stream_timeout;     /* after inbound traffic was seen */
	tv_time udp_stream_after;       /* a replied binding goes onto the stream
					 * timer only with a packet more than this
					 * long after its creation (Linux: 2 s);
					 * until then it keeps udp_timeout ("replied").
					 * 0: on the first reply */
	tv_time tcp_established;
	tv_time tcp_transitory;
	enum nat_refresh refresh;       /* REQ-6 */
	bool hairpin;                   /* REQ-9 */
	uint32_t max_bindings;          /* 0: unlimited */
	nat_rule rules[NAT_MAX_RULES];  /* first match wins; no match: allow */
	int nrules;
	enum nat_alg alg;               /* application-level gateway: none or sip */
	uint16_t alg_port;              /* the SIP ALG's port (5060) */
	uint32_t alg_faults;            /* NAT_ALGF_* */
} nat_cfg;

enum nat_drop {
	NAT_DROP_MALFORMED,
	NAT_DROP_FIREWALL,
	NAT_DROP_NO_MAPPING,
	NAT_DROP_FILTERED,
	NAT_DROP_TABLE_FULL,
	NAT_DROP_NO_PORT,
	NAT_DROP_HAIRPIN_OFF,
	NAT_DROP_PROTO,
	NAT_DROP_TTL,
	NAT_DROP__COUNT
};

typedef struct nat_stats {
	uint64_t out, in, hairpin, icmp_in, icmp_out;
	uint64_t created, expired, flushed;
	uint64_t drop[NAT_DROP__COUNT];
	/* SIP ALG: messages it rewrote, saw but left alone (nothing of
	 * the flow's in them), could not read (passed untouched), could not
	 * fit in the buffer (passed untouched); media mappings it opened. */
	uint64_t alg_rewritten, alg_unchanged, alg_malformed, alg_no_room, alg_pinholes;
} nat_stats;

/* One row of the binding table, for expectations and the dashboard. */
typedef struct nat_binding_info {
	uint8_t proto;
	const char *state;      /* TCP: "established" if a live connection is, else
				 * "syn" if one is opening, else "closing" */
	tv_ep internal, external, remote;       /* remote: key part for AD/APD mapping */
	tv_time age, ttl;       /* TCP: ttl until its last connection expires */
	uint64_t pkts_out, pkts_in;
} nat_binding_info;

typedef struct nat nat;

/* Fill cfg with the behaviour of a typical Linux CPE: endpoint-independent
 * mapping, address-and-port-dependent filtering, port preservation, the
 * RFC 4787 UDP minimum (120 s) and RFC 5382 TCP timers (2 h 4 min, 4 min),
 * outbound refresh, hairpinning on, public port range 1024-65535. */
void nat_cfg_default(nat_cfg *cfg);
/* Apply a UDP timeout preset: "linux" (30 s unreplied / 120 s stream, the
 * stream timer only from a packet more than 2 s after creation, as
 * nf_conntrack_proto_udp.c does), "openwrt" (60 s / 180 s, first reply),
 * "rfc4787" (120 s / 120 s, first reply). TV_EINVAL if unknown. */
int nat_cfg_udp_preset(nat_cfg *cfg, const char *name);
/* Set the option named key (the scenario `nat` statement's and
 * traverse-nat's spelling: mapping=eim, udp-timeout=30s, ...; nat_opts.c)
 * from its text. Returns 0, TV_ENOENT for an unknown key or TV_EINVAL for
 * a bad value, with the reason in err. */
int nat_cfg_set(nat_cfg *cfg, const char *key, const char *val, char *err, size_t errlen);
/* Set n options: the udp= preset first, then the others in order, so an
 * explicit udp-timeout= wins over the preset wherever it is written. Stops
 * at the first error (nat_cfg_set's return and message). */
int nat_cfg_set_many(nat_cfg *cfg, int n, const char *const *key, const char *const *val, char *err, size_t errlen);
/* The keys nat_cfg_set() takes, NULL-terminated. */
const char *const *nat_cfg_keys(void);

nat *nat_new(const nat_cfg *cfg, uint64_t seed, char *err, size_t errlen);
void nat_free(nat *n);
const nat_cfg *nat_get_cfg(const nat *n);

/* Translate one packet in place. dir says which side it arrived on.
 * Returns the side to send it out of (NAT_OUT: to the outside, NAT_IN: to
 * the inside - inbound traffic and hairpinned traffic), or a negative
 * -(1 + enum nat_drop) when it is dropped; drops are counted. */
int nat_process(nat *n, tv_time now, enum nat_dir dir, uint8_t *pkt, size_t len);
/* The same for a packet whose length may change (the SIP ALG rewrites
 * payloads): *len bytes in pkt, which has room for cap; *len is updated.
 * nat_process() is this with cap = len, so an ALG rewrite that would grow
 * the packet is not made there (counted as alg_no_room). */
int nat_process_buf(nat *n, tv_time now, enum nat_dir dir, uint8_t *pkt, size_t *len, size_t cap);

tv_time nat_next_wake(const nat *n);
void nat_on_timeout(nat *n, tv_time now);

/* Faults. */
void nat_reboot(nat *n);                                /* all bindings lost */
int nat_change_pub(nat *n, int idx, const tv_ip *ip);   /* bindings on it lost */
void nat_set_max_bindings(nat *n, uint32_t max);
void nat_set_table_full(nat *n, bool full);
/* Append a firewall rule; TV_EFULL past NAT_MAX_RULES. */
int nat_add_rule(nat *n, const nat_rule *r);    /* no new bindings while set */

const nat_stats *nat_get_stats(const nat *n);
uint32_t nat_binding_count(const nat *n);
/* Call fn for every live binding (unspecified order). */
void nat_table_foreach(nat *n, tv_time now, void (*fn)(void *arg, const nat_binding_info *b), void *arg);

const char *nat_behav_name(enum nat_behav b);
int nat_behav_parse(const char *s, enum nat_behav *out);
const char *nat_drop_name(enum nat_drop d);

#endif
