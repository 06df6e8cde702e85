/* softswitch_priv.h - what the parts of the simulated softswitch share.
 *
 * softswitch.c handles requests and responses (registrar front end,
 * stateless proxy, the replies it makes) and the life cycle;
 * ss_registrar.c is the location service (several Contacts per address of
 * record, each with its expiry) and the routability rule; ss_transport.c
 * moves bytes: UDP, TCP connections and their framing, and where a
 * response goes (RFC 3261 18.2.2); ss_auth.c is digest authentication
 * (cfg.auth). Not for use outside these four files. */
#ifndef TV_SOFTSWITCH_PRIV_H
#define TV_SOFTSWITCH_PRIV_H

#include "sipua.h"
#include "sipmsg.h"

#define SS_USER_MAX 64
#define SS_URI_MAX 256

/* One TCP connection, accepted or opened by the softswitch. */
typedef struct ss_conn {
	softswitch *ss;
	tv_tcp *c;
	tv_ep remote;
	sipmsg_stream rx;
	bool outgoing;
	bool connected;                 /* handshake complete */
	bool closing;                   /* FIN sent or received, or framing lost: not for sending */
	uint32_t pend_req, pend_rsp;    /* messages queued before the handshake completed */
} ss_conn;

/* Where a message came from: over UDP (conn NULL) or a connection. */
typedef struct ss_src {
	ss_conn *conn;
	tv_ep ep;
} ss_src;

#define SS_PATH_MAX 512

/* The Path a REGISTER carried (RFC 3327): the route set toward the
 * contact, its URIs comma-separated in the order they came, and where its
 * first hop is. Empty: the contact is reached directly. */
typedef struct ss_path {
	char set[SS_PATH_MAX];
	tv_ep first;
	bool tcp;
} ss_path;

typedef struct ss_contact {
	char uri[SS_URI_MAX];           /* as written (libosip2's rendering) */
	tv_ep ep;
	bool tcp;                       /* ;transport=tcp */
	ss_path path;
	tv_time expires;
	uint64_t reg_seq;               /* the REGISTER that last wrote it */
	int pos;                        /* its place among that REGISTER's Contacts */
} ss_contact;

typedef struct ss_aor {
	char user[SS_USER_MAX];
	ss_contact c[SOFTSWITCH_MAX_CONTACTS];
	int n;
} ss_aor;

/* A Contact a REGISTER asks for: add or refresh it, or remove it
 * (expires 0). */
typedef struct ss_update {
	char uri[SS_URI_MAX];
	tv_ep ep;
	bool tcp;
	ss_path path;
	unsigned long expires;          /* seconds */
} ss_update;

#define SS_NONCES 64                    /* nonces remembered; the oldest is forgotten first */
#define SS_NONCE_HEX 32

/* A nonce the softswitch issued (ss_auth.c). */
typedef struct ss_nonce {
	char v[SS_NONCE_HEX + 1];       /* "" if the slot is unused */
	tv_time issued;
	uint32_t nc;                    /* highest nonce-count accepted; 0 none yet */
	uint64_t req;                   /* the request that used nc (its transaction and source) */
	tv_time used;                   /* when */
} ss_nonce;

struct softswitch {
	tv_host *h;
	softswitch_cfg cfg;
	char domain[128];
	tv_udp *udp;
	tv_tcp_listener *tl;
	tv_ep self;
	char self_ip[TV_IP_STRLEN];
	ss_conn **conns;
	size_t nconns, capconns;
	ss_aor *aors;
	size_t naors, capaors;
	uint64_t reg_seq;
	tv_timer expiry;
	ss_nonce nonces[SS_NONCES];
	unsigned nonce_next;            /* the ring slot the next nonce takes */
	softswitch_stats st;
};

/* ---- softswitch.c ---- */

/* A message from the transport: data is borrowed for the call. */
void ss_input(softswitch *ss, const uint8_t *data, size_t len, const ss_src *src, tv_time now);
/* A response to req as a UAS (our To tag); reason NULL: the standard
 * phrase. NULL if out of memory. */
osip_message_t *ss_answer(const osip_message_t *req, int code, const char *reason);
/* Send r back the way the request came (ss_tp_respond) and free it. */
void ss_answer_send(softswitch *ss, osip_message_t *r, const ss_src *src);

/* ---- ss_auth.c ---- */

/* Whether request m (top Via stamped) may go on: cfg.auth is off, m needs
 * no credentials, or it carries good ones (then a Proxy-Authorization for
 * our realm is removed: consumed, RFC 3261 22.3). false: it was answered
 * (a challenge, 403 or 400) and counted. reg: m is a REGISTER for our
 * domain (401/Authorization, else 407/Proxy-Authorization). */
bool ss_auth_request(softswitch *ss, osip_message_t *m, const ss_src *src, bool reg, tv_time now);

/* ---- ss_registrar.c ---- */

void ss_reg_init(softswitch *ss);
void ss_reg_free(softswitch *ss);
/* Whether the core can send to ip (cfg.reach). */
bool ss_reg_routable(const softswitch *ss, const tv_ip *ip);
/* Apply one REGISTER's n updates for user, all or none (RFC 3261 10.3
 * step 7): 0, TV_EFULL if the user would have more than
 * SOFTSWITCH_MAX_CONTACTS, TV_EINVAL if user is too long. */
int ss_reg_update(softswitch *ss, const char *user, const ss_update *u, int n, tv_time now);
/* Contact: * with Expires: 0 - every Contact of user goes. */
void ss_reg_clear(softswitch *ss, const char *user);
/* user's live Contacts (NULL if none), and the one requests go to. */
const ss_aor *ss_reg_find(const softswitch *ss, const char *user, tv_time now);
const ss_contact *ss_reg_target(const ss_aor *a, tv_time now);

/* ---- ss_transport.c ---- */

/* Open UDP (and TCP unless cfg.udp_only) on cfg.port. */
int ss_tp_open(softswitch *ss);
void ss_tp_close(softswitch *ss);
/* Send a response (RFC 3261 18.2.2): a UDP top Via (or cfg.udp_only)
 * over UDP to its received/rport or sent-by; a TCP one on the connection
 * in (the one the request came on, NULL if unknown) if still open, else
 * on an open connection to where the Via points, else on a new
 * connection to received (else sent-by host) and the sent-by port.
 * Folded if cfg.fold. Failures are counted (responses_failed). */
void ss_tp_respond(softswitch *ss, osip_message_t *r, ss_conn *in);
/* Send a forwarded request to dst, over TCP (an open connection to dst,
 * else a new one) if tcp, else UDP. Failures are counted
 * (requests_failed). */
void ss_tp_forward(softswitch *ss, osip_message_t *m, const tv_ep *dst, bool tcp);

#endif
