/* proxy_priv.h - the proxy's tables, shared by proxy.c (bindings, legs,
 * keepalive), sip_alg.c (SIP/SDP rewriting) and relay.c (media). */
#ifndef TV_PROXY_PRIV_H
#define TV_PROXY_PRIV_H

#include "proxy.h"
#include "map.h"
#include "pool.h"
#include "rtpq.h"
#include "sip_frame.h"
#include "sip_rw.h"

#define PX_MAX_STREAMS 4
#define PX_HP 96                /* host:port text */
#define PX_USER_MAX 64          /* a binding's user name, with its NUL */
#define PX_MAX_CONTACTS 4       /* Contacts remembered per terminal (more are rewritten, not remembered) */
#define PX_HDR_ITEMS 256        /* header lines + commas a message may have */
#define PX_SDP_LINES 512        /* lines an SDP body may have */
#define PX_VIA_SLOTS 8          /* Via stacks kept per terminal (sip_topo.c) */
#define PX_VIA_SLOTS_UNTRUSTED 2 /* ... while the core has not accepted it */
#define PX_VIA_SAVE_MAX 2048    /* bytes of one kept Via stack */
#define PX_ROUTE_MAX 1024       /* bytes of a leg's core route set ("Route: ...\r\n") */
#define PX_VIA_MARK ";tvh"      /* on a terminal's top Via toward the core: Vias below it are kept */
/* What goes out: the largest message, every edit at its largest, one kept
 * Via stack and one route set (the only long replacements). */
#define PX_OUT_MAX (SIP_TCP_MAX + RW_MAX_EDITS * RW_REP_MAX + PX_VIA_SAVE_MAX + PX_ROUTE_MAX + 64)

typedef struct px_binding px_binding;
typedef struct px_leg px_leg;
typedef struct px_stream px_stream;

enum px_side { PX_ACCESS = 0, PX_CORE = 1 };

/* A socket's callback context: which stream, which side, RTP or RTCP. */
typedef struct px_sock {
	px_stream *s;
	tv_udp *u;
	uint8_t side, rtcp;
} px_sock;

/* Latching, per stream and per RTP/RTCP: one enum, checked transitions. */
enum px_latch_state { PX_UNLATCHED, PX_LATCHED };

struct px_stream {
	px_leg *leg;
	int idx;
	uint16_t a_port, c_port;        /* even; RTCP = +1 */
	px_sock sock[4];                /* [side * 2 + rtcp] */
	tv_ep sdp_rtp, sdp_rtcp;        /* what the terminal wrote */
	enum px_latch_state latch[2];   /* [rtcp] */
	tv_ep latched[2];
	/* What the RTP latch rests on: the sender's SSRC and last sequence
	 * number (a NAT rebinding keeps both; a neighbour behind the same
	 * address does not), and whether the source port is the one the
	 * terminal wrote in its SDP (a port-preserving NAT: evidence a
	 * stranger on the same IP does not have). */
	uint32_t ssrc;
	uint16_t seq;
	bool by_port;
	tv_ep core_remote[2];           /* peer's core-side RTP/RTCP, from core SDP */
	uint16_t core_rtcp_port;        /* its RTCP port when not multiplexed */
	bool mux_term, mux_core;        /* a=rtcp-mux on each side: in effect only if both (RFC 5761) */
	bool core_known;
	tv_time learn_until;
	bool held;
	tv_time last_media;
	uint64_t to_core[2], to_access[2], bytes_to_core, bytes_to_access, dropped;
	/* Quality measured by the relay: [0] toward the core, [1] toward
	 * the terminal; the codec (clock rate) of the latest SDP's first
	 * payload type. */
	rtpq_dir q[2];
	rtpq_codec codec;
};

struct px_leg {
	char *call_id;
	px_binding *b;
	px_leg *next;                   /* in the binding's list */
	px_stream *s[PX_MAX_STREAMS];  /* allocated as SDP brings m= lines */
	int ns;
	char peer_target[PX_HP];        /* core-side Contact host:port of the other party */
	bool ending;                    /* BYE/CANCEL seen: free on its final response */
	bool confirmed;                 /* a 2xx to INVITE passed: failures of re-INVITEs keep it */
	tv_timer t;                     /* px_timers.c: ending guard, media timeout, session timer */
	tv_time session_until;          /* RFC 4028: 0 when the dialog has no session timer */
	tv_time started;
	/* Timer C (state: timer_c.c; timer: px_timers.c): the first INVITE,
	 * forwarded toward tc_to */
	tv_timer tc;
	bool tc_on, tc_prov, tc_cancelled;
	uint8_t tc_to;
	char *inv;                      /* a copy of it as forwarded, or NULL */
	size_t inv_len;
	/* The core's route set (its Record-Route, RFC 3261 12.1), as the
	 * "Route: ...\r\n" line the terminal's in-dialog requests get toward
	 * the core; NULL: none. */
	char *core_route;
	size_t core_route_len;
};

/* A Via stack hidden from one side, kept until the answer comes back
 * (sip_topo.c). A slot is free when vias is NULL. */
typedef struct px_via_saved {
	uint64_t key;                   /* the transaction: a hash of the branch */
	tv_time until;                  /* gone after this */
	char *vias;                     /* the hidden Via lines, as they were written */
	uint32_t len;
	uint8_t side;                   /* whose Vias: PX_CORE (a request from the core) or PX_ACCESS */
	bool cancel;                    /* a CANCEL's (its branch is its INVITE's) */
	bool invite, final;             /* an INVITE's; a final response has passed */
} px_via_saved;

/* One Contact a terminal wrote: its userinfo (and, for values that share
 * one, a ;tvc=n parameter the proxy adds) tells it from the others once
 * their host:port are all the terminal's core address. Allocated to the
 * size of its host:port (sip_contact.c). */
typedef struct px_contact {
	struct px_contact *next;        /* b->ct: entry 0, then the others in order */
	uint64_t user;                  /* hash of the userinfo as written (any length) */
	uint8_t tag;                    /* n-th value with this userinfo in one message: ;tvc=n toward the core */
	bool tcp;                       /* ;transport=tcp, taken off toward the UDP core */
	char hp[];                      /* host:port as written, shorter than PX_HP */
} px_contact;

/* A REGISTER from a new address of a (trusted) terminal, on its way to
 * the core: its responses go to that address, and a 2xx moves the
 * binding there. Call-ID and CSeq number name the transaction. Allocated
 * while there is one (sip_alg.c). */
typedef struct px_pend {
	tv_tcp *tcp;
	uint64_t call_id;
	uint64_t instance;
	tv_ep nat;
	uint32_t cseq;
} px_pend;

struct px_binding {
	proxy *p;
	/* Texts allocated to size (px_text_set; "" when empty): */
	const char *user;               /* at most PX_USER_MAX - 1 bytes */
	const char *sentby;             /* top Via sent-by as written, shorter than PX_HP */
	/* Its Contacts (sip_contact.c), at most PX_MAX_CONTACTS; the first is
	 * the first value of the last request that wrote any (px_contact_hp),
	 * contact the address in it. */
	px_contact *ct;
	tv_ep contact;
	tv_ep nat;                      /* source of its signaling (NAT mapping) */
	tv_tcp *tcp;                    /* when it signals over TCP */
	tv_udp *core_sock;              /* its core address: core_ip:core_port (px_core_hp) */
	struct px_conn *core_conn;      /* TCP to the softswitch, when a large request needed it */
	struct px_pend *pend;           /* a REGISTER from a new address, or NULL */
	px_leg *legs;
	px_via_saved *vias;             /* [PX_VIA_SLOTS], allocated at the first hidden stack */
	tv_time reg_until;
	tv_time hold_until;             /* untrusted: reclaimed then, if no call holds it */
	tv_time tokens_at;
	uint32_t tokens;                /* request rate: thousandths of a request in hand */
	uint32_t nlegs;
	uint32_t req_len;               /* untrusted: its last request's size */
	uint32_t ka_seq;                /* keepalive (below): the last OPTIONS's number */
	int ka_misses;                  /* keepalive: unanswered in a row */
	uint16_t core_port;
	uint8_t owed;                   /* untrusted: requests not yet answered (at most 8) */
	bool tcp_flow;                  /* it signalled over TCP: never fall back to UDP */
	bool registered;
	bool trusted;                   /* the core accepted a REGISTER from this source (or trust=any) */
	bool ka_pending;                /* keepalive: an OPTIONS awaits its answer */
	char via_tr[8];                 /* top Via transport as written (UDP, TCP, ...) */
	uint64_t instance;              /* its +sip.instance (RFC 5626), hashed; 0 if none */
	/* keepalive; the timer is px_timers.c's (hold, keepalive, registration) */
	tv_timer ka;
	tv_time ka_interval;            /* 0: proxy default */
	uint64_t ka_sent, ka_answered;
};
/* Issue 12: at most 1 KiB per idle binding. Its fields are ordered against
 * padding (264 bytes on LP64, a 272-byte glibc malloc chunk); with its
 * texts, its Contact, its core socket and its share of the maps it comes
 * to about 550 bytes of heap (bench/live/mem.sh). */

/* A TCP connection (accepted on the access side, or opened to the
 * softswitch) and its receive buffer. */
typedef struct px_conn {
	proxy *p;
	tv_tcp *c;                      /* NULL once aborted or closed */
	px_binding *core_b;             /* a connection to the softswitch for this terminal; NULL: access */
	bool busy, dead;                /* delivering frames; dropped meanwhile (free when done) */
	char *rxbuf;
	size_t rxlen;
	size_t scanned;                 /* bytes searched for the header's end so far */
	size_t need;                    /* the message's length, once its header is in */
	struct px_conn *next;
} px_conn;

struct proxy {
	proxy_cfg cfg;
	tv_host *h;
	/* our addresses as text, formatted once for the rewrites */
	char access_ip_s[TV_IP_STRLEN], core_ip_s[TV_IP_STRLEN], access_hp[PX_HP];
	tv_udp *sip;                    /* access_ip:sip_port */
	tv_tcp_listener *tcpl;
	port_pool sig_pool, media_access, media_core;
	tv_map by_nat;                  /* ep key -> binding (UDP terminals) */
	tv_map by_user;                 /* hash(user) -> binding */
	tv_map by_tcp;                  /* tv_tcp * -> binding (TCP terminals) */
	tv_map untrusted_ip;            /* IPv4 -> how many untrusted bindings it has */
	px_binding **all;
	size_t nall, capall;
	px_conn *conns;
	size_t pend_tcp;                /* bindings with a REGISTER pending from a TCP connection */
	char *inbuf;                    /* the message being handled, unfolded [SIP_TCP_MAX + 1] */
	char *outbuf;                   /* what goes out [PX_OUT_MAX] */
	size_t outlen;                  /* of the last message written there */
	uint64_t callid_key;            /* sip_topo.c's Call-ID host code; 0 until first needed */
	proxy_stats st;
};

/* Tell the operator (proxy_cfg.on_event), if anyone listens. */
static inline void px_event(proxy *p, enum proxy_event_type t, const char *user, const char *call_id,
			    const char *reason, int stream, bool rtcp, const tv_ep *addr, tv_time now)
{
	if (p->cfg.on_event) {
		proxy_event e = { .type = t, .user = user, .call_id = call_id, .reason = reason,
				  .stream = stream, .rtcp = rtcp, .at = now };
		if (addr)
			e.addr = *addr;
		p->cfg.on_event(p->cfg.event_arg, &e);
	}
}

static inline uint64_t px_ep_key(const tv_ep *ep) { return (uint64_t)ep->ip.v4 << 16 | ep->port; }
uint64_t px_hash_str(const char *s);
uint64_t px_hash_mem(const char *s, size_t len);

/* Time is an argument: a function that needs the time takes the `now` of
 * the entry point (a host callback) that led to it; nothing below an
 * entry point reads the clock (tests/proxy_time.sh). */

/* proxy.c */
/* Set a text of a binding's to a copy of s[0..len) (no NUL in it), or to
 * the shared "" when len is 0: 0, or TV_ENOMEM with *dst unchanged. */
int px_text_set(const char **dst, const char *s, size_t len);
void px_text_free(const char **dst);
/* b's core address as the rewrites write it, "core-ip:port", formatted
 * into out (>= TV_EP_STRLEN); returns out. */
const char *px_core_hp(const px_binding *b, char *out);
px_binding *px_binding_get(proxy *p, const tv_ep *nat, tv_tcp *tcp, const char *user, bool create, tv_time now);
/* May b send one more request now? (its rate; counts the drop if not) */
bool px_rate_take(proxy *p, px_binding *b, tv_time now);
/* The core accepted a REGISTER from b's source: b is the terminal's now. */
void px_binding_trust(proxy *p, px_binding *b, tv_time now);
/* b's pending REGISTER from a new address is over (answered, or its
 * connection is gone). */
void px_pend_clear(proxy *p, px_binding *b);
/* b's signaling now comes from nat / tcp. */
void px_binding_move(proxy *p, px_binding *b, const tv_ep *nat, tv_tcp *tcp);
void px_binding_remove(proxy *p, px_binding *b, tv_time now);
px_leg *px_leg_find(px_binding *b, const char *call_id);
/* The leg of call_id, opened if there is none (NULL: over max-legs, or no memory). */
px_leg *px_leg_get(px_binding *b, const char *call_id, tv_time now);
/* End a leg: emit its accounting record, close its streams, free it. */
void px_leg_end(px_leg *l, const char *reason, tv_time now);
int px_stream_open(px_leg *l, int idx, tv_time now);
/* Send b one keepalive: a CRLF ping, or an OPTIONS whose answer comes back
 * as px_timers_keepalive_answered(). Counted in ka_sent. */
void px_ka_send(proxy *p, px_binding *b, tv_time now);
/* Send a SIP message to a terminal (its NAT mapping, or its TCP
 * connection). 0, or a negative error, counted as drop "send-access". */
int px_send_access(proxy *p, px_binding *b, const char *msg, size_t len, tv_time now);
/* To the softswitch from the terminal's core address; counted likewise. */
int px_send_core(proxy *p, px_binding *b, const char *msg, size_t len, tv_time now);
/* Timer C (timer_c.c): its state and the CANCEL or 408 it makes; the
 * deadlines are px_timers.c's. */
void px_tc_start(px_leg *l, enum px_side to, const char *msg, size_t len, tv_time now);
void px_tc_response(px_leg *l, int code, tv_time now);
void px_tc_stop(px_leg *l);
/* Timer C ran out: 1 if a CANCEL went (l waits for its answer), 0 if l
 * is done (a 408 went through the response path, or it ended; l may be
 * gone). */
int px_tc_expired(px_leg *l, tv_time now);
/* To the softswitch over TCP from the terminal's core address (large
 * requests, RFC 3261 18.1.1); the connection is opened on first use. */
int px_send_core_tcp(proxy *p, px_binding *b, const char *msg, size_t len, tv_time now);
/* To whoever sent from (UDP) or on connection tcp, without a binding. */
int px_send_raw(proxy *p, tv_tcp *tcp, const tv_ep *from, const char *msg, size_t len, tv_time now);

/* px_timers.c: every proxy timer (the list is at the top of that file),
 * and the only caller of host_timer_arm/cancel in the proxy. Callers
 * report events; the module sets the deadlines. */
void px_timers_binding_init(px_binding *b);
/* b goes away. */
void px_timers_binding_stop(px_binding *b);
/* A message from the terminal was handled and passed on (or tried): an
 * untrusted binding's hold restarts; a trusted one's keepalive starts if
 * its timer is idle. */
void px_timers_terminal_msg(px_binding *b, tv_time now);
/* The core accepted a REGISTER from b's source: no more untrusted hold. */
void px_timers_trusted(px_binding *b);
/* A 2xx to REGISTER granted expires seconds (0: unregistered). */
void px_timers_registered(px_binding *b, long expires, tv_time now);
/* A keepalive interval of b's own (0: the proxy's): restarts the timer. */
void px_timers_keepalive_interval(px_binding *b, tv_time interval, tv_time now);
void px_timers_keepalive_answered(px_binding *b);
/* Time until b's next keepalive from now; -1 if none is due (keepalive off,
 * or the binding untrusted). */
tv_time px_timers_keepalive_in(const px_binding *b, tv_time now);
void px_timers_leg_init(px_leg *l);
/* l ends: all its timers stop. */
void px_timers_leg_stop(px_leg *l);
/* Stream s of l was opened / relayed a packet. */
void px_timers_media_open(px_leg *l, px_stream *s, tv_time now);
void px_timers_media_seen(px_stream *s, tv_time now);
/* A BYE of l (marked ending) is being forwarded. */
void px_timers_leg_ending(px_leg *l, tv_time now);
/* A 2xx with Session-Expires: the session must be refreshed within expires. */
void px_timers_session_refreshed(px_leg *l, tv_time expires, tv_time now);
/* Timer C: l's first INVITE was forwarded; a provisional other than 100
 * passed; a final response passed (or Timer C is over). */
void px_timers_invite_sent(px_leg *l, tv_time now);
void px_timers_invite_provisional(px_leg *l, tv_time now);
void px_timers_invite_final(px_leg *l);

/* sip_alg.c */
/* A message from a terminal: over UDP from 'from', or on TCP connection tcp. */
void px_sip_from_access(proxy *p, tv_tcp *tcp, const tv_ep *from, const char *msg, size_t len, tv_time now);
/* A message from the softswitch to terminal b's core address; stream: it
 * came framed over TCP. */
void px_sip_from_core(proxy *p, px_binding *b, bool stream, const char *msg, size_t len, tv_time now);

/* sip_contact.c: every Contact value; 0, or -1 if one cannot be read
 * or rewritten (the message must then be refused). */
int px_contacts_to_core(proxy *p, px_binding *b, sip_rw *rw, bool remember);
/* Remember a Contact value b wrote (in px_contacts_to_core; exported for
 * its test): upsert by userinfo and tag; the first value of a request
 * becomes entry 0 (the terminal's main Contact, used for keepalive and
 * binding info). 0, or -1 if there is no memory for it (b unchanged). */
int px_contact_remember(px_binding *b, uint64_t user, uint8_t tag, bool tcp, const char *hp, bool first);
/* The first Contact host:port b wrote, as written; "" if none. */
static inline const char *px_contact_hp(const px_binding *b) { return b->ct ? b->ct->hp : ""; }
/* b goes away: its Contacts too. */
void px_contacts_free(px_binding *b);
/* The first Contact value's host:port as written: 1, or 0 if none. */
int px_first_contact_hp(sip_rw *rw, char out[PX_HP]);
/* reg: a 2xx to REGISTER (the terminal's own come back as written); peer
 * (if not NULL) gets the first value's host:port. */
int px_contacts_to_access(proxy *p, px_binding *b, sip_rw *rw, bool reg, char *peer, size_t peer_cap);
/* A request's R-URI toward the terminal: the Contact it wrote. */
int px_ruri_to_access(proxy *p, px_binding *b, sip_rw *rw);
struct osip_message;
long px_register_expires(const proxy *p, const px_binding *b, const struct osip_message *m);

/* sip_sdp.c: where a message's SDP is: 1 with its span (the body, or the
 * one SDP part of a multipart body, *part then that part's header; else
 * *part is {0, 0}), 0 none, -1 a multipart body that cannot be read. */
int px_sdp_find(const struct osip_message *m, const sip_rw *rw, rw_span *sdp, rw_span *part);
/* Record what the SDP says in leg's streams (opening them) and rewrite it
 * for the other side. 0, TV_EFULL (no relay ports), TV_EINVAL (bad SDP). */
int px_sdp_handle(proxy *p, px_leg *leg, const struct osip_message *m, sip_rw *rw, enum px_side from, tv_time now);

/* sip_topo.c: topology hiding (docs/proxy.md, Security). A Via stack
 * being hidden in a message, kept by px_topo_keep() once it is sent. */
typedef struct px_hidden {
	bool on;                        /* something to keep */
	uint8_t side;
	bool cancel, invite;
	uint64_t key;
	uint32_t len;
	char buf[PX_VIA_SAVE_MAX];
} px_hidden;
/* A request from the core to a terminal: every Via line of it (all the
 * core's) gives way to ours, a whole line; unless it is an ACK (nothing
 * answers it) the lines go into h. 0, TV_EFULL (the stack is over
 * PX_VIA_SAVE_MAX) or -1 (cannot be rewritten). */
int px_topo_core_request(proxy *p, sip_rw *rw, const char *ours, px_hidden *h);
/* A terminal's response carrying our Via with key: its Via lines become
 * the core's again. 1 restored; 0 nothing kept for it (dropped and
 * counted); 2 an answer to the proxy's own CANCEL (Timer C: it stops here). */
int px_topo_core_response(proxy *p, px_binding *b, sip_rw *rw, uint64_t key, bool cancel, int code, tv_time now);
/* A request from a terminal: the Vias below its top one are taken out,
 * into h unless it is an ACK. 1 hidden (the top Via must carry
 * PX_VIA_MARK when h->on), 0 nothing to hide, TV_EFULL, -1. */
int px_topo_access_request(proxy *p, sip_rw *rw, px_hidden *h);
/* A response from the core to a terminal: nothing but the top Via
 * stays, and if it carries the mark (span mark) the kept stack is put
 * back below it. 1 restored or nothing to restore; 0 the kept stack is
 * gone (dropped and counted); 2 an answer to the proxy's own CANCEL. */
int px_topo_access_response(proxy *p, px_binding *b, sip_rw *rw, rw_span mark, uint64_t key, bool cancel, int code,
			    tv_time now);
/* The mark on the top Via value val: 1 with its span, else 0. */
int px_topo_mark(const char *buf, rw_span val, rw_span *mark);
/* Keep what a sent message hid, in b's table (upsert). */
void px_topo_keep(proxy *p, px_binding *b, const px_hidden *h, tv_time now);
/* The header table for a message going to side `to`. */
void px_topo_headers(proxy *p, sip_rw *rw, enum px_side to);
/* The core's Record-Route as l's route set: reversed for a response (RFC
 * 3261 12.1.1, 12.1.2); none clears it. */
void px_topo_route_learn(px_leg *l, const sip_rw *rw, bool response);
/* An in-dialog request from the terminal: the core's route set on top. */
void px_topo_route_put(px_leg *l, sip_rw *rw);
/* A Call-ID's host part crossing the proxy (after the swap of the
 * terminal's private address for the proxy's core address, which
 * sip_alg.c does): an IPv4 literal becomes a code ("tvc-" and 8 hex
 * digits, a keyed permutation of the address), a code becomes its address
 * again. The same both ways, so whatever one side wrote comes back to it
 * as it wrote it. 1 with out (cap >= TV_IP_STRLEN) set, 0 if host is
 * neither. */
int px_topo_callid_host(proxy *p, const char *host, char *out, size_t cap);
/* Free the expired stacks of b (and its table when empty). */
void px_topo_expire(px_binding *b, tv_time now);
void px_topo_free(px_binding *b);

/* relay.c */
void px_relay_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now);

#endif
