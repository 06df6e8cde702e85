/* sipua_priv.h - what the parts of the simulated phone share.
 *
 * sipua.c owns the transport, the client transactions and their
 * retransmissions, registration, OPTIONS and keepalives, the dispatch of
 * what arrives, and the life cycle; sipua_call.c owns the call: its state
 * machine, dialog, offer/answer, media, the INVITE server transaction and
 * hold/mute/cancel/hangup; sipua_timer.c owns the call's session timer
 * (RFC 4028); sipua_auth.c its digest credentials. Not for use outside
 * these four files.
 *
 * The types keep their ua_ prefix (sipua_call is already the public
 * "place a call"); the functions shared across the two files are sipua_*,
 * everything else stays static. */
#ifndef TV_SIPUA_PRIV_H
#define TV_SIPUA_PRIV_H

#include "sipua.h"
#include "sipmsg.h"

#define UA_URI_MAX 256
#define UA_ID_MAX 80
#define UA_ROUTE_MAX 1024

/* Client transaction slots: one of each kind at a time. */
enum ua_txn_kind { UA_TX_REG, UA_TX_INVITE, UA_TX_CANCEL, UA_TX_BYE, UA_TX_N };

/* Where a message came from, or where a response goes. */
typedef struct ua_src {
	bool tcp;
	tv_ep ep;
} ua_src;

typedef struct ua_txn {
	sipua *ua;
	bool active;                    /* no final response yet */
	int auth_tries;                 /* times the request was resent for a challenge */
	char *buf;                      /* the request as sent (osip_malloc) */
	size_t len;
	char branch[UA_ID_MAX];
	char method[12];
	tv_time start, interval;
	tv_timer t;
} ua_txn;

typedef struct ua_call {
	bool outgoing;
	char call_id[UA_ID_MAX];
	char local_tag[24], remote_tag[UA_ID_MAX];
	char local_uri[UA_URI_MAX], remote_uri[UA_URI_MAX];
	char target[UA_URI_MAX];        /* remote target: the peer's Contact */
	char route[UA_ROUTE_MAX];       /* route set (RFC 3261 12.1): "<uri>" lines, in sending order */
	unsigned long local_cseq, invite_cseq;
	bool cancel_pending;            /* cancel asked before any 1xx */
	bool cancelled;                 /* CANCEL sent */
	bool reinvite;                  /* the INVITE slot holds a re-INVITE */
	bool prev_hold;                 /* local_hold before that re-INVITE */
	bool local_hold, muted;
	uint64_t sess_id, sess_ver;
	sipmsg_sdp local, remote;       /* last SDP written / read */
	char *ack;                      /* last ACK sent, for resent finals */
	size_t ack_len;
	osip_message_t *inv;            /* the INVITE we are answering */
	ua_src inv_src;
	bool got_1xx;                   /* any provisional for our INVITE */
	/* RFC 4028 session timer (sipua_timer.c) */
	tv_time se;                     /* the session interval; 0: no session timer */
	bool se_refresher;              /* we send the refreshes */
	bool refreshing;                /* the INVITE slot holds a refresh re-INVITE */
} ua_call;

#define UA_AUTH_FIELD 128

/* The challenge a kind of request last got (sipua_auth.c). */
typedef struct ua_auth {
	bool valid;
	bool proxy;                     /* 407: Proxy-Authenticate, answered in Proxy-Authorization */
	char realm[UA_AUTH_FIELD], nonce[UA_AUTH_FIELD], opaque[UA_AUTH_FIELD];
	uint32_t nc;                    /* nonce-count of the last request sent with it */
} ua_auth;

/* The final response to an INVITE we received, until its ACK. */
typedef struct ua_srv {
	sipua *ua;
	bool active, reinvite;
	int code;
	unsigned long cseq;
	char *buf;                      /* also the last provisional, for resent INVITEs */
	size_t len;
	ua_src dst;
	tv_time start, interval;
	tv_timer t;
} ua_srv;

struct sipua {
	tv_host *h;
	sipua_cfg cfg;
	char user[64], domain[128];
	char ip[TV_IP_STRLEN];
	char contact[UA_URI_MAX];
	char contact2[UA_URI_MAX];      /* the second Contact of a REGISTER (cfg.contacts 2) */
	char aor[UA_URI_MAX];           /* sip:user@domain */
	char password[64], auth_user[64];       /* cfg.password ("" none), cfg.auth_user */
	ua_auth auth[UA_TX_N];          /* per slot; REGISTER and INVITE use theirs */
	tv_udp *udp;
	tv_tcp *tcp;
	sipmsg_stream rxs;
	sipua_status st;
	ua_txn txn[UA_TX_N];
	/* registration */
	bool reg_wanted;
	bool unregistering;             /* REGISTERs say Expires: 0 (sipua_unregister) */
	char reg_call_id[UA_ID_MAX], reg_tag[24];
	unsigned long reg_cseq;
	tv_timer reg_refresh;
	/* the call */
	ua_call c;
	ua_srv srv;
	tv_timer answer;
	tv_timer se_refresh, se_expire; /* sipua_timer.c */
	media_stream *ms[SIPMSG_NMEDIA];
};

/* What a response carries beyond what sipmsg_response copies. */
typedef struct ua_rsp {
	int code;
	const char *tag;                /* To tag to add */
	bool contact;                   /* Contact and Allow */
	const sipmsg_sdp *sdp;
	ua_srv *keep;                   /* keep the bytes and destination here */
	unsigned long se;               /* Session-Expires: se;refresher=... if non-zero */
	enum sipmsg_refresher se_refresher;
	bool require_timer;             /* with se: Require: timer */
} ua_rsp;

/* ---- sipua.c ---- */

/* nhex random hex digits from the host's seeded generator into out
 * (which holds nhex + 1). */
void sipua_rand_id(sipua *ua, char *out, size_t nhex);

/* Serialize m as this phone writes it (cfg.fold, the Contact list form);
 * *buf is osip_malloc'd. 0 or a TV_E* code. */
int sipua_to_str(sipua *ua, osip_message_t *m, char **buf, size_t *len);

/* Send a request to the outbound proxy (UDP, or the one TCP connection,
 * opened on demand). 0 or a negative error. */
int sipua_send_req(sipua *ua, const char *buf, size_t len);
/* Send bytes to dst: its UDP address, or the TCP connection. */
int sipua_send_to(sipua *ua, const char *buf, size_t len, const ua_src *dst);
/* Build and send a response to req, which came from src (RFC 3261 18.2.2:
 * over UDP to its stamped top Via). With p->keep the serialized bytes and
 * destination stay there (for retransmission) even if sending failed. */
int sipua_respond(sipua *ua, const osip_message_t *req, const ua_src *src, const ua_rsp *p);
/* A bare response: code and To tag only. */
int sipua_reply(sipua *ua, const osip_message_t *req, const ua_src *src, int code, const char *tag);
/* Our request from r (its Via, Contact if asked, and Allow filled in here);
 * *out is the caller's to free. */
int sipua_build(sipua *ua, sipmsg_req *r, const char *branch, bool contact, osip_message_t **out);

/* Send m as a new client transaction in slot k, replacing what was there;
 * its retransmissions and timeout are then sipua.c's business. */
int sipua_txn_start(sipua *ua, enum ua_txn_kind k, osip_message_t *m);
/* No final response expected any more: stop retransmitting and timing. */
void sipua_txn_stop(ua_txn *x);

/* ---- sipua_call.c ---- */

/* Set up the call's timers (from sipua_new). */
void sipua_call_init(sipua *ua);
/* Forget the call: its media, kept messages and timers (sipua_free too). */
void sipua_call_reset(sipua *ua);
/* A response matched to the INVITE slot (an INVITE or re-INVITE). */
void sipua_invite_response(sipua *ua, ua_txn *x, const osip_message_t *m);
/* The INVITE slot timed out (64*T1 without a final response). */
void sipua_invite_timeout(sipua *ua);

/* Send a BYE in the call's dialog and end the call with reason. */
void sipua_bye(sipua *ua, const char *reason);
/* Send a re-INVITE offering the SDP last written (c->local, version
 * c->sess_ver): an RFC 4028 refresh (with its headers) if refresh, else a
 * hold/resume whose caller set local_hold, prev_hold and the SDP. */
int sipua_reinvite(sipua *ua, bool refresh);

/* Requests for the call, from the dispatch table; the Via is stamped
 * already, m and src are borrowed for the call. */
void sipua_uas_invite(sipua *ua, const osip_message_t *m, const ua_src *src);
void sipua_uas_ack(sipua *ua, const osip_message_t *m, const ua_src *src);
void sipua_uas_cancel(sipua *ua, const osip_message_t *m, const ua_src *src);
void sipua_uas_bye(sipua *ua, const osip_message_t *m, const ua_src *src);

/* ---- sipua_auth.c ---- */

/* rsp is a 401 or 407 to the request of slot k (UA_TX_REG, or
 * UA_TX_INVITE for a new call), which had been resent tries times for
 * challenges: keep the challenge for slot k, and whether to send the
 * request again with credentials. false (give up): no password, no
 * challenge we can answer (Digest, MD5, qop auth), or already resent once
 * (twice if this challenge says stale=true). */
bool sipua_auth_retry(sipua *ua, enum ua_txn_kind k, const osip_message_t *rsp, int tries);
/* Add credentials to m, the request of slot k, if we have a password and
 * a challenge for that slot: the challenge's next nc, a new cnonce.
 * 0 or a TV_E* code. */
int sipua_auth_add(sipua *ua, enum ua_txn_kind k, osip_message_t *m);

/* ---- sipua_timer.c ---- */

/* Set up the session timer's timers (from sipua_call_init). */
void sipua_timer_init(sipua *ua);
/* No session timer any more: the call ended or was reset. */
void sipua_timer_stop(sipua *ua);
/* Add Supported: timer and Session-Expires: <s>;refresher=uac to an
 * INVITE: cfg.session_expires for a new call (nothing if 0), the call's
 * interval for a refresh. */
int sipua_timer_request(sipua *ua, osip_message_t *m, bool refresh);
/* A 2xx to our INVITE or re-INVITE (before c->reinvite is cleared): start,
 * restart or stop the session timer as it says. */
void sipua_timer_2xx(sipua *ua, const osip_message_t *m);
/* Our refresh got final response code >= 300. */
void sipua_timer_failed(sipua *ua, int code);
/* We answer req (an INVITE, or a re-INVITE if reinvite) with a 2xx: if it
 * asks for a session timer, put Session-Expires in p and (re)start ours. */
void sipua_timer_answer(sipua *ua, const osip_message_t *req, bool reinvite, ua_rsp *p);

/* Call-IDs are compared and kept whole ("number@host"), as RFC 3261 does. */
void sipua_callid_full(const osip_message_t *m, char *out, size_t cap);
bool sipua_callid_is(const osip_message_t *m, const char *full);
/* A new Call-ID the way deployed phones write it: random@private-address. */
void sipua_callid_new(sipua *ua, char *out, size_t cap);

#endif
