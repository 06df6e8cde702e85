/* sipua.h - a simulated SIP phone (UA) and a NAT-unaware softswitch.
 *
 * Both use libosip2's parser to read and build messages and the host API
 * for everything else (sockets, timers, randomness).
 *
 * The UA behaves like most deployed phones: NAT-unaware, it writes its
 * private address in Via, Contact and SDP. Every request it sends, in or
 * out of a dialog, goes to one configured outbound proxy (the Traverse
 * proxy, or the softswitch itself when a scenario leaves the proxy out);
 * the Request-URI is the remote target (the peer's Contact) for in-dialog
 * requests and sip:user@domain otherwise; no Route header is used.
 * One call at a time. Over UDP it retransmits requests (RFC 3261 timers A/E,
 * T1 = 500 ms) and 2xx to INVITE until the ACK; over TCP it keeps one
 * connection to the outbound proxy, opened from sip_port as phones do
 * (from an ephemeral port if sip_port is still in TIME_WAIT from the
 * previous connection), and does not listen.
 *
 * Registration: refreshed at half the granted expiry; a REGISTER that
 * fails (a final response other than a 2xx granting time, or none within
 * 64*T1) is retried after 30 s, as long as sipua_register was called.
 *
 * Calls: an INVITE for a new call gets 100 Trying, then 180 or a final
 * response (486 if configured busy; 488 if it has no SDP or no usable
 * audio, since offers only come in INVITEs; 500 if media cannot open).
 * While another call is up it gets 486 alone. A re-INVITE gets no 100:
 * 491 while another INVITE is pending, 488 without SDP. sipua_cancel
 * before any provisional response is deferred: the CANCEL leaves when the
 * first 1xx arrives (RFC 3261 9.1). RTCP mux is used only if both offer
 * and answer ask for it (a=rtcp-mux). Hold is a re-INVITE with
 * a=sendonly; the holder then stops sending RTP and RTCP (no music on
 * hold), and the held phone, seeing a=sendonly, stops too. Mute stops RTP
 * only; RTCP continues.
 *
 * Authentication (RFC 3261 22, sipua_auth.c), with cfg.password: a 401
 * or 407 to a REGISTER or to a new call's INVITE is answered once with
 * digest credentials (MD5, qop=auth; the INVITE's 407 is ACKed first), and
 * again only if the next challenge says stale=true; otherwise the request
 * fails with that code (REGISTER: retried 30 s later; a call: ended
 * "rejected"). Later REGISTERs and INVITEs carry credentials for the last
 * challenge at once (nc going up). Without a password a challenge fails
 * the request at once.
 *
 * Session timers (RFC 4028), off unless cfg.session_expires is set on the
 * caller: its INVITE then carries Supported: timer and Session-Expires:
 * <s>;refresher=uac. Any callee (whatever its own setting) answers such an
 * INVITE with Session-Expires echoing the caller's interval and refresher
 * (refresher=uac if the INVITE named none) and Require: timer; if the
 * INVITE did not say Supported: timer it answers refresher=uas, without
 * Require, and refreshes itself (RFC 4028 9). No 422/Min-SE: any interval
 * is accepted. The caller uses the interval and refresher of the 2xx; a
 * 2xx without Session-Expires means no session timer (RFC 4028 7.2). The
 * refresher sends a re-INVITE every interval/2 while established: the
 * same SDP as last written (same version, so a holder stays sendonly),
 * Supported: timer and Session-Expires: <s>;refresher=uac; a 491 to it is
 * retried 2.1-4 s later. The other side answers it like any re-INVITE,
 * echoing Session-Expires, and restarts its expiry. Only re-INVITEs with
 * Session-Expires refresh; hold/resume re-INVITEs carry none and leave the
 * timers alone. The session ends (BYE, end_reason "session-expired") when
 * no refresh came (other side) or no 2xx to one (refresher) within the
 * interval since the last, or at once when a refresh times out (64*T1)
 * or gets 408 or 481 (RFC 4028 10).
 *
 * The softswitch is a registrar (location service: user -> up to
 * SOFTSWITCH_MAX_CONTACTS Contacts, as written, each with its own expiry)
 * and a proxy without Record-Route: a request whose Request-URI host is
 * its domain or its own address is routed to the user's most recently
 * registered Contact (404 if none; no forking); any other request is
 * forwarded to the Request-URI's host:port; one that would come back to
 * the softswitch itself is answered 482 (Loop Detected), one out of
 * Max-Forwards 483. It speaks UDP and TCP on its port (unless udp_only):
 * it stamps received/rport on the top Via of every request it receives
 * (RFC 3261 18.2.1, RFC 3581), adds its Via to requests it forwards (TCP
 * to a ;transport=tcp target, else UDP) and routes responses back by
 * popping it, over the transport the next Via names (RFC 3261 18.2.2).
 * It refuses (403) a REGISTER or INVITE whose Contact host the core cannot
 * reach (softswitch_cfg.reach). With softswitch_cfg.auth it authenticates
 * (ss_auth.c): REGISTER is challenged with 401, other requests it would
 * route outside a dialog with 407, and only good digest credentials of
 * the user the request is about let them through. Otherwise it trusts
 * Contact and SDP: which is why the proxy exists. */
#ifndef TV_SIPUA_H
#define TV_SIPUA_H

#include "host.h"
#include "media.h"

enum sipua_answer { SIPUA_ANSWER_AUTO, SIPUA_ANSWER_MANUAL, SIPUA_ANSWER_BUSY };

typedef struct sipua_cfg {
	const char *user;               /* "alice" */
	const char *domain;             /* "example.net" */
	tv_ep proxy;                    /* outbound proxy: every request goes here */
	uint16_t sip_port;              /* [5060] */
	bool tcp;                       /* SIP over TCP */
	bool rport;                     /* ;rport in Via (RFC 3581) */
	tv_time reg_expires;            /* [3600 s]; refreshed at half the granted time */
	uint16_t rtp_port;              /* [10000]: audio RTP, RTCP +1, video at +2/+3 */
	bool video;                     /* offer a video stream too (and accept one) */
	bool rtcp_mux;                  /* a=rtcp-mux, RTCP on the RTP port */
	bool rtcp_nonadjacent;          /* a=rtcp:<rtp_port + 11> for audio (RFC 3605) */
	bool asymmetric_rtp;            /* send media from rtp_port + 1000 (not symmetric) */
	enum sipua_answer answer;       /* [auto] */
	tv_time answer_delay;           /* ringing before an auto answer [1 s; 0 = 1 s] */
	bool no_options_answer;         /* do not answer OPTIONS (a dead phone) */
	tv_time session_expires;        /* RFC 4028 interval offered in our INVITEs; 0 = none
					 * [0]; whole seconds (rounded down, at least 1 s) */
	int contacts;                   /* Contacts in a REGISTER, 1 or 2 [1; 0 = 1]: the second
					 * is the same address for the other transport
					 * (";transport=tcp" added, or for a TCP phone dropped) */
	bool contact_headers;           /* with 2: one Contact header each, instead of one
					 * header listing both (comma-separated) */
	uint32_t pad;                   /* an X-Pad header of this many bytes in every INVITE
					 * (a large request, RFC 3261 18.1.1) [0: none] */
	bool fold;                      /* fold the Via and Contact lines of every message
					 * it writes onto continuation lines (sipmsg_fold) */
	/* Media of every call (media_cfg); the SDP still offers PCMU (0) and
	 * H.264 (96) whatever pt says. */
	uint32_t ssrc;                  /* SSRC of every stream [0: random per stream] */
	uint8_t pt;                     /* audio RTP payload type [0]; video sends 96 */
	uint16_t payload_len;           /* RTP payload bytes [0: 160] */
	uint64_t media_count;           /* RTP packets each stream sends, then stops [0: no limit] */
	bool media_manual;              /* RTP waits for media_rtp_set on sipua_media */
	/* Digest authentication (sipua_auth.c): answer 401/407 challenges to
	 * REGISTER and INVITE. NULL/"": no password, a challenge fails the
	 * request. At most 63 bytes each. */
	const char *password;
	const char *auth_user;          /* username in credentials [NULL: user] */
} sipua_cfg;

enum sipua_call_state {
	SIPUA_IDLE,
	SIPUA_CALLING,                  /* INVITE sent, no provisional response */
	SIPUA_RINGING,                  /* 180 sent or received */
	SIPUA_ESTABLISHED,              /* 200 + ACK */
	SIPUA_ENDED,                    /* BYE/CANCEL/failure; see last_code */
};

typedef struct sipua_status {
	bool registered;
	int reg_code;                   /* last final response to REGISTER */
	enum sipua_call_state state;
	bool held;                      /* we put the call on hold / were put on hold */
	int last_code;                  /* last final response code seen for the call */
	/* Why the call ended; NULL until it does.
	 *   "bye-sent"      we hung up (sipua_hangup).
	 *   "bye-received"  the peer hung up (also while our 200 awaited its ACK).
	 *   "cancelled"     caller: we cancelled; the 487, the 200 that crossed
	 *                   the CANCEL (ACKed, then BYE) or no final response
	 *                   at all ended it. Callee: the caller cancelled while
	 *                   we rang (we answered 487).
	 *   "rejected"      caller: a final response >= 300 to our INVITE (in
	 *                   last_code). Callee: we refused it: sipua_reject,
	 *                   busy (486), 488 (no usable SDP) or 500.
	 *   "timeout"       caller: no response to our INVITE within 64*T1.
	 *                   Callee: our 200 never ACKed (then a BYE, RFC 3261
	 *                   13.3.1.4). Either side: a re-INVITE (hold) we sent
	 *                   got no response in 64*T1 (then a BYE, RFC 3261 14.1).
	 *   "session-expired" session timers (RFC 4028, see above): the
	 *                   session was not refreshed in time; we sent a BYE. */
	const char *end_reason;
	uint64_t options_rx, options_answered, keepalive_rx;    /* keepalive_rx: CRLF/empty pings */
	uint64_t rx_bad;                /* unparseable datagrams */
	uint64_t calls_answered, calls_made;
	tv_time established_at;
	uint64_t session_refreshes;     /* RFC 4028 refresh re-INVITEs sent, or answered with 200 */
	int reg_contacts;               /* of its own Contacts, how many the last 2xx to
					 * REGISTER listed */
} sipua_status;

typedef struct sipua sipua;

/* Indexes for sipua_media. */
enum { SIPUA_AUDIO = 0, SIPUA_VIDEO = 1 };

sipua *sipua_new(tv_host *h, const sipua_cfg *cfg, int *err);
void sipua_free(sipua *ua);
int sipua_register(sipua *ua);                  /* and keep refreshing (retry 30 s after a failure) */
int sipua_unregister(sipua *ua);                /* REGISTER Expires: 0, no more refreshes */
int sipua_call(sipua *ua, const char *user);    /* INVITE sip:user@domain */
int sipua_answer(sipua *ua);                    /* for SIPUA_ANSWER_MANUAL */
int sipua_reject(sipua *ua, int code);          /* e.g. 486 */
int sipua_cancel(sipua *ua);                    /* deferred until a provisional response */
int sipua_hangup(sipua *ua);                    /* BYE */
int sipua_hold(sipua *ua, bool hold);           /* re-INVITE a=sendonly / a=sendrecv; no RTP/RTCP while held */
void sipua_mute(sipua *ua, bool mute);          /* stop/resume sending RTP (RTCP goes on) */
const sipua_status *sipua_get_status(const sipua *ua);
/* The call's media: SIPUA_AUDIO or SIPUA_VIDEO; NULL if absent. Valid
 * while the UA lives (kept after the call ends so scenarios can read the
 * counters). */
media_stream *sipua_media(sipua *ua, int idx);
const char *sipua_state_name(enum sipua_call_state s);
/* Where the last SDP this phone read (the peer's offer or answer, as the
 * proxies on the way left it) tells it to send stream idx: RTP to c= and
 * the m= port; RTCP to a=rtcp if present, else the port + 1, or the RTP
 * port when both sides agreed on rtcp-mux. The read-only view of what the
 * phone's media follows. TV_ENOENT if no SDP read has that stream (absent,
 * or port 0). Kept after the call ends, until the next call begins. */
int sipua_peer_media(const sipua *ua, int idx, tv_ep *rtp, tv_ep *rtcp);
/* The current (or last) call's remote URI (the To of our INVITE, the From
 * of the peer's, as they arrived); "" before the first call. */
const char *sipua_remote_uri(const sipua *ua);

typedef struct softswitch softswitch;

#define SOFTSWITCH_MAX_CONTACTS 8       /* per address of record */
#define SOFTSWITCH_MAX_REACH 8

/* Which Contact hosts the softswitch accepts in REGISTER and INVITE: a
 * host the core cannot route to is refused with 403 (see softswitch.c). */
enum softswitch_reach {
	SOFTSWITCH_REACH_DEFAULT,       /* its own /24 (its link), and any address outside
					 * RFC 1918, loopback, link-local, 100.64/10, 0/8
					 * and 224/3 */
	SOFTSWITCH_REACH_LIST,          /* only addresses in reach_list */
	SOFTSWITCH_REACH_ANY,           /* no check: every Contact is believed */
};

typedef struct softswitch_prefix {
	tv_ip net;
	uint8_t len;                    /* 0-32 */
} softswitch_prefix;

#define SOFTSWITCH_MAX_USERS 32
#define SOFTSWITCH_NAME_MAX 64          /* user names and passwords, NUL included */

/* A user the softswitch can authenticate (cfg.auth). */
typedef struct softswitch_user {
	char name[SOFTSWITCH_NAME_MAX];
	char password[SOFTSWITCH_NAME_MAX];
} softswitch_user;

typedef struct softswitch_cfg {
	uint16_t port;                  /* [5060]: SIP over UDP and TCP */
	const char *domain;             /* required */
	bool udp_only;                  /* no TCP at all, and transport ignored: answers
					 * and forwards over UDP whatever Via or
					 * ;transport say (lenient, like many UDP-only
					 * stacks; the softswitch before issue #9) */
	bool fold;                      /* fold the Via and Contact lines of every
					 * response it sends (sipmsg_fold) */
	enum softswitch_reach reach;
	int nreach;
	softswitch_prefix reach_list[SOFTSWITCH_MAX_REACH];
	/* Digest authentication (ss_auth.c): REGISTER is challenged with
	 * 401, other requests it would route outside a dialog with 407. */
	bool auth;
	tv_time nonce_lifetime;         /* a nonce is stale this long after it was issued
					 * [0: 300 s] */
	int nusers;                     /* users[] it knows the passwords of (also kept
					 * with auth off, then unused) */
	softswitch_user users[SOFTSWITCH_MAX_USERS];
} softswitch_cfg;

/* Why credentials were refused (softswitch_stats.auth_fail). */
enum softswitch_auth_fail {
	SOFTSWITCH_AUTH_MALFORMED,      /* unreadable, not MD5/qop=auth, uri not the Request-URI: 400 */
	SOFTSWITCH_AUTH_MISMATCH,       /* username is not the To (REGISTER) / From user: 403 */
	SOFTSWITCH_AUTH_UNKNOWN_USER,   /* no password for username: a new challenge */
	SOFTSWITCH_AUTH_BAD_RESPONSE,   /* wrong response (password): a new challenge */
	SOFTSWITCH_AUTH_BAD_NONCE,      /* right response, nonce not one it holds: stale=true */
	SOFTSWITCH_AUTH_STALE,          /* right response, nonce expired: stale=true */
	SOFTSWITCH_AUTH_REPLAY,         /* nc not above the last accepted for the nonce, and
					 * not a retransmission: a new challenge */
	SOFTSWITCH_AUTH__COUNT,
};

typedef struct softswitch_stats {
	uint64_t rx, rx_bad, registers, invites, requests_routed, responses_routed, not_found;
	uint64_t contact_unroutable;    /* REGISTER/INVITE refused (403): a Contact host the core cannot reach */
	uint64_t contacts_full;         /* REGISTER refused (503): more than SOFTSWITCH_MAX_CONTACTS */
	uint64_t responses_failed;      /* responses not delivered: a TCP connection refused or timed
					 * out, or a send error */
	uint64_t requests_failed;       /* forwarded requests not delivered, likewise */
	uint64_t rx_tcp, tx_tcp;        /* messages received / sent over TCP */
	uint64_t tcp_accepted, tcp_opened;      /* connections accepted / opened by the softswitch */
	uint64_t tcp_bad_framing;       /* connections closed: no or bad Content-Length */
	uint64_t auth_challenges;       /* 401/407 challenges sent (stale ones included) */
	uint64_t auth_ok;               /* requests whose credentials were accepted
					 * (retransmissions included) */
	uint64_t auth_failures;         /* requests whose credentials were refused: the sum
					 * of auth_fail[] */
	uint64_t auth_fail[SOFTSWITCH_AUTH__COUNT];
	uint32_t bindings;              /* users with at least one Contact now */
	uint32_t contacts;              /* Contacts registered now, all users */
} softswitch_stats;

/* A registered Contact. */
typedef struct softswitch_contact {
	char uri[256];                  /* as written */
	tv_ep ep;                       /* its host:port */
	bool tcp;                       /* ;transport=tcp */
	tv_time expires;
} softswitch_contact;

/* cfg is copied. NULL and *err set on failure (TV_EINVAL: bad cfg; the
 * host's errors if port is taken). */
softswitch *softswitch_new_cfg(tv_host *h, const softswitch_cfg *cfg, int *err);
/* The defaults: UDP and TCP on port, REACH_DEFAULT, no folding. */
softswitch *softswitch_new(tv_host *h, uint16_t port, const char *domain, int *err);
void softswitch_free(softswitch *ss);
const softswitch_stats *softswitch_get_stats(const softswitch *ss);
/* "malformed", "mismatch", "unknown-user", "bad-response", "bad-nonce",
 * "stale", "replay"; NULL out of range. */
const char *softswitch_auth_fail_name(enum softswitch_auth_fail f);
/* Where a request for user goes: the Contact registered most recently
 * (among those one REGISTER wrote, the first listed); TV_ENOENT if none. */
/* Is ip outside every private, shared, loopback, link-local and reserved
 * range (what the default reach routes to besides its own /24)? */
bool softswitch_public_ip(const tv_ip *ip);
int softswitch_lookup(const softswitch *ss, const char *user, tv_ep *contact);
/* The live Contacts of user, in the order they were first registered,
 * into out (at most max); returns how many there are (may exceed max). */
int softswitch_contacts(const softswitch *ss, const char *user, softswitch_contact *out, int max);

#endif
