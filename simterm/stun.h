/* stun.h - STUN (RFC 5389) messages, a test server with an alternate
 * address (RFC 5780), and the RFC 5780 NAT behaviour-discovery client.
 *
 * Three parts:
 *   stun_msg_*     the codec (stun_msg.c): Binding requests, success and
 *                  error responses; every encoded message ends with
 *                  FINGERPRINT, which the decoder checks when present.
 *   stun_server_*  a server on two addresses and two ports (stun.c).
 *   stun_probe_*   an asynchronous client that classifies the NAT in
 *                  front of it: mapping, filtering, hairpinning, binding
 *                  lifetime (stun.c).
 *
 * Server and probe use only the host API (host.h): sockets, timers and
 * randomness come from the tv_host they run on. Free them before the host.
 *
 * Not implemented: authentication (USERNAME, MESSAGE-INTEGRITY and REALM
 * are skipped when decoding and never produced), TCP/TLS transport, the
 * PADDING attribute, ALTERNATE-SERVER, methods other than Binding. */
#ifndef TV_STUN_H
#define TV_STUN_H

#include "host.h"

#include "stun_msg.h"


/* The server. */
typedef struct stun_server stun_server;

typedef struct stun_server_stats {
	uint64_t rx;            /* datagrams received on any socket */
	uint64_t malformed;     /* not STUN or failed to decode: dropped */
	uint64_t ignored;       /* well-formed but not a Binding Request */
	uint64_t requests;      /* Binding Requests answered */
	uint64_t success, errors;       /* responses sent, by class */
	uint64_t change_ip, change_port, response_port;  /* requests asking for these */
	uint64_t send_fail;
} stun_server_stats;

/* Bind ip1:port1, ip1:port2, ip2:port1, ip2:port2 on h, which must own
 * both addresses. ip2 may be NULL for a plain one-socket server on
 * ip1:port1: it sends no OTHER-ADDRESS and answers CHANGE-REQUEST with 420.
 * Returns NULL and sets *err on failure. */
stun_server *stun_server_new(tv_host *h, const tv_ip *ip1, const tv_ip *ip2,
			     uint16_t port1, uint16_t port2, int *err);
void stun_server_free(stun_server *s);
const stun_server_stats *stun_server_stats_get(const stun_server *s);

/* Behaviour classes (RFC 4787 terms) for both mapping and filtering. */
enum stun_class {
	STUN_ENDPOINT_INDEPENDENT,
	STUN_ADDRESS_DEPENDENT,
	STUN_ADDRESS_AND_PORT_DEPENDENT,
	STUN_UNKNOWN,
};

enum stun_class_kind { STUN_KIND_ANY, STUN_KIND_MAPPING, STUN_KIND_FILTERING };

/* "endpoint-independent", "address-dependent",
 * "address-and-port-dependent", "unknown". */
const char *stun_class_name(enum stun_class c);
/* "eim"/"adm"/"apdm" (mapping) or "eif"/"adf"/"apdf" (filtering); NULL
 * for STUN_UNKNOWN or kind ANY. */
const char *stun_class_short(enum stun_class c, enum stun_class_kind kind);
/* Parse a long name (kind ANY), a short one (kind MAPPING or FILTERING)
 * or "unknown". Case-insensitive. Returns 0 or TV_EINVAL; kind may be NULL. */
int stun_class_parse(const char *s, enum stun_class *c, enum stun_class_kind *kind);

/* The behaviour-discovery client. */
typedef struct stun_probe stun_probe;

typedef struct stun_probe_result {
	bool done;
	char error[128];        /* empty if every requested test ran */
	tv_ep local;            /* the local endpoint of the mapping tests */
	tv_ep mapped;           /* its mapping, from test I */
	bool nat;               /* mapped != local */
	enum stun_class mapping, filtering;
	bool hairpinning;
	bool lifetime_tested;
	/* Longest wait a binding survived, to the resolution; lifetime_max if
	 * it survived that; 0 if not tested or shorter than the resolution. */
	tv_time lifetime;
	tv_time started, finished;
} stun_probe_result;

typedef void (*stun_probe_done_fn)(void *arg, const stun_probe_result *r);

/* Zero fields take the defaults in brackets.
 *
 * The lifetime test searches T in [resolution, max], one trial at a time,
 * each on fresh sockets: X sends a Binding Request and learns its mapped
 * port Px; after T, another socket Y sends one with RESPONSE-PORT Px; the
 * binding survived T if X gets the response. It assumes X and Y are
 * mapped to the same public address (true of NATs with "paired" pooling,
 * RFC 4787 REQ-2). Trials grow T fourfold from the resolution until a
 * binding dies, then bisect; the result is the longest surviving T, to
 * the resolution. Time taken, as every trial waits its T: a few times
 * the lifetime found (about 5 min for a 30 s binding), 1.75 max when
 * bindings outlive max, and up to about log2(max / resolution) * max in
 * the worst case, a lifetime just under max. */
typedef struct stun_probe_cfg {
	bool test_lifetime;
	tv_time lifetime_max;           /* [2 h] */
	tv_time lifetime_resolution;    /* [1 s] */
	/* Retransmission (RFC 5389 section 7.2.1): send at 0, rto, 3 rto,
	 * 7 rto ... tries times in all, then wait rm * rto for the answer.
	 * RFC values are 500 ms, 7, 16; the defaults [100 ms, 5, 16] conclude
	 * a lost transaction after 3.1 s. */
	tv_time rto;
	int tries;
	int rm;
	/* Called once when the probe finishes; it may free the probe. */
	stun_probe_done_fn on_done;
	void *arg;
} stun_probe_cfg;

/* Start probing the server at server (its primary address and port).
 * Sockets are ephemeral wildcard binds on h; the tests run one after
 * another: mapping, hairpinning (while the mapping's binding is fresh),
 * filtering (on a fresh socket), then lifetime. A test that gets no answer
 * or an error leaves its class STUN_UNKNOWN and a note in error; the
 * others still run. Returns NULL and sets *err on failure. */
stun_probe *stun_probe_start(tv_host *h, const tv_ep *server, const stun_probe_cfg *cfg, int *err);
const stun_probe_result *stun_probe_result_get(const stun_probe *p);
/* Stops a running probe, closes its sockets, cancels its timer. */
void stun_probe_free(stun_probe *p);

#endif
