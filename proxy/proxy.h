/* proxy.h - the Traverse reference proxy (SIP today).
 *
 * It sits outside the terminals' NATs in front of a softswitch. For every
 * signaling message from a terminal it records the terminal's addresses
 * (as written in Via/Contact/SDP, and as seen in the IP header: the NAT
 * mapping), rewrites them to core-side addresses it assigns per terminal
 * (signaling port) and per call and stream (RTP/RTCP port pairs), and
 * forwards to the softswitch; on the way back it restores what the
 * terminal wrote, puts its own access-side media ports in the SDP, and
 * sends to the NAT mapping. It relays the media, latching each stream on
 * the source of its first packet, and keeps NAT mappings open with
 * keepalives. Claims 1-3, 5, 6, 9, 12 of shared/seed-claims.txt.
 *
 * The proxy runs on one host with two addresses: "access" (toward the
 * terminals) and "core" (toward the softswitch); it uses only the host
 * API, so the same code runs in simulation and, later, live. */
#ifndef TV_PROXY_H
#define TV_PROXY_H

#include "host.h"

enum px_keepalive { PX_KA_OFF, PX_KA_OPTIONS, PX_KA_CRLF };
enum px_latch { PX_LATCH_SIGNALING_IP, PX_LATCH_ANY };
/* Who may own a binding (docs/proxy.md, Security):
 *   register  a binding is created for every new source, but it is
 *             trusted - indexed by user, pinged, able to take over from an
 *             earlier address of the same terminal - only once the core
 *             answered 2xx to a REGISTER from that source;
 *   any       the first request naming a user moves that user's binding to
 *             its source (the behaviour before the trust model; for tests
 *             with a core that cannot authenticate). */
enum px_trust { PX_TRUST_REGISTER, PX_TRUST_ANY };
/* What moves a stream's latch (relay.c):
 *   stream  evidence that it is the terminal's stream: its SSRC and
 *           sequence, the port of its SDP; RTCP follows the RTP latch;
 *           the core side takes media only from the core SDP's address
 *   ip      any packet from the terminal's signaling IP; RTCP latches on
 *           its own; the core side takes media from anyone (the relay
 *           before issue 11, kept to show what the evidence rules stop) */
enum px_media_trust { PX_MEDIA_STREAM, PX_MEDIA_IP };

/* An accounting record (claim 9: charging by flow volume), one per call
 * leg, handed out when the leg ends. Packet and byte counts are what the
 * relay forwarded, RTP and RTCP, summed over the leg's streams. */
typedef struct proxy_record {
	const char *user, *call_id;
	const char *reason;     /* shutdown (traverse-proxy stopped), bye, failed, no-ports, bad-sdp, bye-lost, session-expired,
				   media-timeout, binding-removed, not-sent (the message that
				   opened it could not be sent) */
	tv_time started, ended;
	int streams;
	uint64_t pkts_to_core, pkts_to_access, bytes_to_core, bytes_to_access;
} proxy_record;

typedef void (*proxy_record_fn)(void *arg, const proxy_record *r);

/* What happened, for an operator watching (traverse-proxy's control
 * socket); never per relayed packet, only on changes. Strings are borrowed
 * for the call. */
enum proxy_event_type {
	PX_EV_BINDING_ADDED,    /* a new source: addr is its NAT mapping */
	PX_EV_BINDING_TRUSTED,  /* the core accepted its REGISTER */
	PX_EV_BINDING_REMOVED,
	PX_EV_LEG_UP,
	PX_EV_LEG_DOWN,         /* reason as in proxy_record */
	PX_EV_LATCH,            /* a stream latched on addr (rtcp: its RTCP) */
	PX_EV_RELATCH,          /* ... moved to addr */
	PX_EV_KA_MISS,          /* a keepalive OPTIONS went unanswered (reason: "N of M") */
	PX_EV_SIP,              /* a SIP message received or sent: msg/len, src, dst, tcp */
	PX_EV__COUNT
};

typedef struct proxy_event {
	enum proxy_event_type type;
	const char *user, *call_id, *reason;    /* NULL where they do not apply */
	int stream;                             /* m= index (latches) */
	bool rtcp;
	tv_ep addr;
	tv_time at;
	/* PX_EV_SIP: the message as it crossed the wire, and which way */
	const char *msg;
	size_t len;
	tv_ep src, dst;
	bool tcp;
} proxy_event;

typedef void (*proxy_event_fn)(void *arg, const proxy_event *e);
const char *proxy_event_name(enum proxy_event_type t);

typedef struct proxy_cfg {
	tv_ip access_ip, core_ip;
	uint16_t sip_port;                      /* access side, UDP and TCP [5060] */
	tv_ep softswitch;
	uint16_t core_sig_lo, core_sig_hi;      /* per-terminal core signaling ports [5100-5999] */
	uint16_t media_lo, media_hi;            /* RTP/RTCP pairs, both realms [20000-29999] */
	enum px_keepalive keepalive;            /* [OPTIONS] */
	tv_time keepalive_interval;             /* [20 s]; must beat the NAT's UDP timer */
	int keepalive_misses;                   /* unanswered OPTIONS before a terminal is dropped [3] */
	enum px_latch latch;                    /* whose first packet may latch [signaling IP] */
	tv_time latch_window;                   /* learning allowed this long after SDP [30 s] */
	bool strict_source;                     /* after latching, drop everyone else */
	tv_time media_timeout;                  /* no RTP either way (not on hold) -> call torn down [0: off] */
	uint32_t max_bindings;                  /* [0: unlimited] */
	bool core_tcp;                          /* the softswitch takes TCP on its port: requests over
						   1,300 bytes go that way (RFC 3261 18.1.1) [off] */
	enum px_trust trust;                    /* [register] */
	enum px_media_trust media_trust;        /* [stream] */
	bool random_ports;                      /* ports from a random place in the pool, not in order [on] */
	uint32_t max_legs;                      /* call legs one binding may hold [8] */
	uint32_t max_untrusted;                 /* bindings of sources the core has not accepted: each
						   holds a core signaling port, so at most part of that
						   pool [450: half of the default 900] */
	uint32_t max_untrusted_per_ip;          /* of those, from one IP address [200] */
	uint32_t rate;                          /* requests per second per source (twice that in a burst)
						   [20; 0: no limit] */
	tv_time timer_c;                        /* an INVITE with no final response: CANCEL / 408 after
						   this, restarted by each provisional [181 s; 0: off] */
	tv_time port_quarantine;                /* a freed port or pair is not handed out again this long
						   (late packets of the old call); a binding's core port not
						   before its registration ends either [10 s; 0: neither] */
	tv_time untrusted_hold;                 /* an untrusted source's state lives this long after its
						   last request, unless a call holds it [32 s = 64*T1] */
	tv_time quality_delay;                  /* one-way network delay the quality estimate assumes when
						   RTCP gives no round trip [40 ms] */
	bool topology_hiding;                   /* neither side sees the other's Vias, route set, the
						   headers of sip_topo.c's table, nor ICE candidates [on] */
	proxy_record_fn on_record;              /* accounting records, or NULL */
	void *record_arg;
	proxy_event_fn on_event;                /* events for an operator, or NULL */
	void *event_arg;
} proxy_cfg;

enum px_drop {
	PX_DROP_SIP_MALFORMED,
	PX_DROP_SIP_UNKNOWN,            /* core message for nothing we know */
	PX_DROP_SIP_LENGTH,             /* Content-Length bad, missing on TCP, or beyond the datagram */
	PX_DROP_SIP_TOO_BIG,            /* over 65,507 bytes (UDP) or 65,536 (TCP) */
	PX_DROP_SIP_VERSION,            /* not SIP/2.0: requests get 505 */
	PX_DROP_SIP_CSEQ,               /* CSeq method is not the request's: 400 */
	PX_DROP_SIP_STATUS,             /* response code outside 100-699 */
	PX_DROP_SIP_HOPS,               /* Max-Forwards 0: 483 */
	PX_DROP_SIP_CONTACT,            /* a Contact value that cannot be read or rewritten */
	PX_DROP_SIP_EXTENSION,          /* Proxy-Require names an extension: 420 */
	PX_DROP_SIP_RATE,               /* a source over its request rate: dropped, no answer */
	PX_DROP_SIP_REFLECT,            /* toward an unaccepted source: a provisional, a second final
					   response, or one over 3x its request */
	PX_DROP_SIP_VIA_LOST,           /* a response whose hidden Via stack is gone (expired, evicted) */
	PX_DROP_SIP_MULTIPART,          /* a multipart body the proxy cannot read: 488 */
	PX_DROP_SEND_ACCESS,            /* a send toward a terminal failed */
	PX_DROP_SEND_CORE,              /* a send toward the core failed */
	PX_DROP_RTP_FOREIGN,            /* media from an address that may not latch */
	PX_DROP_RTP_STRICT,             /* strict source: not the latched address */
	PX_DROP_RTP_NO_DEST,            /* nowhere to send yet */
	PX_DROP_RTP_MALFORMED,
	PX_DROP_RTP_CONFLICT,           /* from the terminal's IP, but not its stream (SSRC, sequence, port) */
	PX_DROP__COUNT
};

typedef struct proxy_stats {
	uint64_t sip_in_access, sip_in_core, sip_out_access, sip_out_core;
	uint64_t registers, invites, byes, cancels;
	uint64_t calls_started, calls_ended, no_ports;
	uint64_t relayed_to_core, relayed_to_access, bytes_to_core, bytes_to_access;
	uint64_t latches, relatches;
	uint64_t ka_sent, ka_answered, dead;
	uint64_t unregistered;           /* bindings removed: Expires 0, or registration lapsed */
	uint64_t session_expired;        /* legs ended: no session refresh in time (RFC 4028) */
	uint64_t media_expired;          /* legs ended: no RTP either way for media_timeout */
	uint64_t records;                /* accounting records emitted (one per ended leg) */
	uint64_t sip_unfolded;           /* messages that arrived with folded header lines */
	uint64_t sip_trailing;           /* datagrams with bytes after Content-Length (discarded) */
	uint64_t sip_replies;            /* responses the proxy made itself (400, 483, 503, 505 ...) */
	uint64_t pongs;                  /* CRLF answers to RFC 5626 CRLFCRLF pings over TCP */
	uint64_t stun_answered;          /* STUN Binding requests answered on the SIP port (RFC 5626 8) */
	uint64_t core_tcp;               /* requests sent to the core over TCP (large, RFC 3261 18.1.1) */
	uint64_t core_udp_large;         /* large requests sent over UDP: the core offers no TCP */
	uint64_t moved;                  /* trusted bindings moved to a new address on a REGISTER 2xx */
	uint64_t untrusted_expired;      /* untrusted sources' bindings reclaimed */
	uint64_t timer_c_cancels;        /* Timer C: CANCELs sent for INVITEs that only rang */
	uint64_t timer_c_408;            /* Timer C: 408s made for INVITEs nobody answered */
	uint64_t limit_legs;             /* requests refused (503): the binding holds max_legs legs */
	uint64_t limit_untrusted;        /* requests refused (503): too many untrusted sources */
	uint64_t vias_hidden;            /* messages forwarded with Vias hidden (either way) */
	uint64_t vias_restored;          /* responses whose hidden Vias were put back */
	uint64_t via_table_full;         /* hidden stacks of pending transactions evicted: table full */
	uint64_t hdrs_removed;           /* header lines removed by the topology table */
	uint64_t hdrs_rewritten;         /* header lines whose addresses the topology table replaced */
	uint64_t ice_removed;            /* SDP ICE attribute lines removed */
	uint64_t multipart_sdp;          /* SDP parts of multipart bodies rewritten */
	uint64_t drop[PX_DROP__COUNT];
	uint32_t bindings, legs, streams;
	uint32_t untrusted;                     /* bindings not (yet) accepted by the core, now */
	uint32_t ports_access, ports_core;      /* in use now */
} proxy_stats;

/* What the relay measured of one direction of a stream (RTP it
 * forwarded; rtpq.h), and the E-model estimate made from it (emodel.h). */
typedef struct proxy_stream_quality {
	uint64_t expected, received, lost;      /* by extended sequence number, RFC 3550 A.3 */
	double loss;                            /* lost / expected, 0 to 1 (0 with nothing expected) */
	double jitter_ms;                       /* RFC 3550 A.8 at the stream's clock rate */
	tv_time last_rx;                        /* the last RTP packet; 0: none yet */
	double delay_ms;                        /* one-way delay the estimate used: network plus 2 x jitter */
	double r, mos;                          /* the estimate; < 0: none (no RTP yet, or an unknown codec) */
} proxy_stream_quality;

/* One media stream of one terminal's call leg, for expectations. */
typedef struct proxy_stream_info {
	const char *user;
	const char *call_id;
	int index;
	uint16_t access_port, core_port;        /* RTP; RTCP is +1 */
	tv_ep sdp_rtp;                          /* what the terminal wrote */
	tv_ep latched_rtp, latched_rtcp;        /* port 0: not latched */
	tv_ep core_remote;                      /* where core-side RTP goes */
	uint64_t to_core, to_access, bytes_to_core, bytes_to_access;
	uint64_t rtcp_to_core, rtcp_to_access;
	uint64_t dropped;
	bool held;
	/* Quality: to_core is what the terminal sent, as it reached the
	 * relay; to_access what the core side sent, as it reached the relay
	 * (the relay cannot see past itself). */
	proxy_stream_quality q_to_core, q_to_access;
	char codec[16];                         /* of the latest SDP's first payload type; "" unknown */
	uint32_t clock_rate;                    /* its RTP clock rate */
	bool clock_known;                       /* false: not in the SDP nor RFC 3551, 8000 assumed */
	/* Round trips beyond the relay from RTCP LSR/DLSR (RFC 3550 6.4.1),
	 * in ms, < 0 when not measured: toward the terminal (the core's SR,
	 * the terminal's report), toward the core (the other way round), and
	 * their sum, the terminals' round trip. */
	double rtt_access_ms, rtt_core_ms, rtt_ms;
	/* Where the network one-way delay of the estimates came from: 'r'
	 * rtt_ms / 2 (both halves measured), 'c' the quality-delay option. */
	char delay_from;
	tv_time now;                            /* the proxy's time when this was made */
} proxy_stream_info;

typedef struct proxy_binding_info {
	const char *user;
	tv_ep nat;                      /* the NAT mapping the terminal signals from */
	tv_ep contact;                  /* as the terminal wrote it */
	tv_ep core;                     /* assigned core-side signaling address */
	bool registered, tcp;
	uint64_t ka_sent, ka_answered;
	int ka_misses;
	tv_time ka_in;                  /* until its next keepalive; -1: none due (off, untrusted) */
} proxy_binding_info;

typedef struct proxy proxy;

void proxy_cfg_default(proxy_cfg *cfg);
/* Set the option named key (the scenario `proxy` statement's and the config
 * file's spelling, proxy_opts.c) from its text. Returns 0, TV_ENOENT for an
 * unknown key or TV_EINVAL for a bad value, with the reason in err. */
int proxy_cfg_set(proxy_cfg *cfg, const char *key, const char *val, char *err, size_t errlen);
/* The keys proxy_cfg_set() takes, NULL-terminated. */
const char *const *proxy_cfg_keys(void);
/* h must own access_ip and core_ip. */
proxy *proxy_new(tv_host *h, const proxy_cfg *cfg, int *err);
void proxy_free(proxy *p);
const proxy_stats *proxy_get_stats(const proxy *p);
void proxy_foreach_binding(const proxy *p, void (*fn)(void *arg, const proxy_binding_info *b), void *arg);
void proxy_foreach_stream(const proxy *p, void (*fn)(void *arg, const proxy_stream_info *s), void *arg);
/* Take the options that can change while running from cfg (keepalive,
 * latching, timeouts, limits); the others keep their start-up values. */
void proxy_reload(proxy *p, const proxy_cfg *cfg);
/* Stop taking signalling and end every call leg (reason "shutdown"), each
 * with its accounting record. proxy_free() follows. */
void proxy_shutdown(proxy *p, tv_time now);
/* Per-terminal keepalive interval (0: the realm's). */
int proxy_set_keepalive(proxy *p, const char *user, tv_time interval);
const char *proxy_drop_name(enum px_drop d);

/* The counters and gauges of proxy_stats by name (proxy_stats.c): i from 0
 * to proxy_stat_count() - 1; names as in `expect proxy` ("ka-sent",
 * "drop.rtp-foreign"); buf (>= 64 bytes) may hold the name. */
int proxy_stat_count(void);
const char *proxy_stat_name(int i, char *buf, size_t cap);
bool proxy_stat_is_gauge(int i);
uint64_t proxy_stat_value(const proxy_stats *s, int i);
void proxy_stat_set(proxy_stats *s, int i, uint64_t v);
/* The index of a name, or -1. */
int proxy_stat_find(const char *name);

#endif
