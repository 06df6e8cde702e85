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
 * connection to the outbound proxy.
 *
 * The softswitch is a registrar (location service: user -> Contact, as
 * written) and a proxy without Record-Route: a request whose Request-URI
 * host is its domain or its own address is routed to the registered
 * Contact of the user (404 if none); any other request is forwarded to the
 * Request-URI's host:port. It adds its Via to requests it forwards and
 * routes responses back by popping it, sending to the next Via's received/
 * rport or sent-by (RFC 3261 18.2.2, RFC 3581). It trusts Contact and SDP:
 * which is why the proxy exists. */
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
	tv_time answer_delay;           /* ringing before an auto answer [1 s] */
	bool no_options_answer;         /* do not answer OPTIONS (a dead phone) */
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
	const char *end_reason;         /* "bye-sent", "bye-received", "cancelled", "rejected", "timeout" */
	uint64_t options_rx, options_answered, keepalive_rx;    /* keepalive_rx: CRLF/empty pings */
	uint64_t rx_bad;                /* unparseable datagrams */
	uint64_t calls_answered, calls_made;
	tv_time established_at;
} sipua_status;

typedef struct sipua sipua;

sipua *sipua_new(tv_host *h, const sipua_cfg *cfg, int *err);
void sipua_free(sipua *ua);
int sipua_register(sipua *ua);                  /* and keep refreshing */
int sipua_call(sipua *ua, const char *user);    /* INVITE sip:user@domain */
int sipua_answer(sipua *ua);                    /* for SIPUA_ANSWER_MANUAL */
int sipua_reject(sipua *ua, int code);          /* e.g. 486 */
int sipua_cancel(sipua *ua);
int sipua_hangup(sipua *ua);                    /* BYE */
int sipua_hold(sipua *ua, bool hold);           /* re-INVITE a=sendonly / a=sendrecv */
void sipua_mute(sipua *ua, bool mute);          /* stop/resume sending RTP */
const sipua_status *sipua_get_status(const sipua *ua);
/* The call's media: 0 audio, 1 video; NULL if absent. Valid while the UA
 * lives (kept after the call ends so scenarios can read the counters). */
media_stream *sipua_media(sipua *ua, int idx);
const char *sipua_state_name(enum sipua_call_state s);

typedef struct softswitch softswitch;

typedef struct softswitch_stats {
	uint64_t rx, rx_bad, registers, invites, requests_routed, responses_routed, not_found;
	uint32_t bindings;              /* registered users now */
} softswitch_stats;

softswitch *softswitch_new(tv_host *h, uint16_t port, const char *domain, int *err);
void softswitch_free(softswitch *ss);
const softswitch_stats *softswitch_get_stats(const softswitch *ss);
/* The Contact registered for user, as written; TV_ENOENT if none. */
int softswitch_lookup(const softswitch *ss, const char *user, tv_ep *contact);

#endif
