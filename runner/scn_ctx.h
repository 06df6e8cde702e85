/* scn_ctx.h - the state of one scenario run, shared by the statement
 * handlers (scn_exec.c: topology and actions; scn_expect.c: expectations). */
#ifndef TV_SCN_CTX_H
#define TV_SCN_CTX_H

#include <stdio.h>

#include "scn.h"
#include "simnet.h"
#include "simhost.h"
#include "natnode.h"
#include "stun.h"
#include "sipua.h"

#include <string.h>
#include "proxy.h"

enum sym_kind { SYM_LINK, SYM_NAT, SYM_HOST, SYM_STUN, SYM_PROBE, SYM_TCP, SYM_SOFTSWITCH, SYM_PROXY, SYM_PHONE, SYM_RHOST };

typedef struct sym {
	char name[32];
	enum sym_kind kind;
	int line;
	tv_ip ip;               /* host: its address; nat: first public; stun: primary */
	tv_ip ip2;              /* proxy: its core-side address */
	tv_time resolution;     /* probe: lifetime resolution */
	uint16_t port;          /* stun: primary port */
	void *obj;              /* NULL in a dry run */
	void *obj2;             /* stun, softswitch, proxy, phone: its host */
	char domain[64];        /* softswitch: its domain */
	FILE *records;          /* proxy: its accounting records (CSV), with --pcap */
	void *cfg;              /* softswitch: its softswitch_cfg, for restart */
	void *link;             /* phone: its link; nat: its inside link (findings) */
} sym;

#define RSOCK_SRCS 16

/* A UDP socket a scenario opened with listen/send; counts what arrives. */
typedef struct rsock {
	tv_host *h;
	char host[32];
	uint16_t port;
	tv_udp *s;
	bool echo;
	uint64_t rx, rx_bytes;
	struct { tv_ep ep; uint64_t n; } srcs[RSOCK_SRCS];
	int nsrcs;
} rsock;

/* A TCP listener opened with "listen ... tcp". */
typedef struct rlisten {
	char host[32];
	uint16_t port;
	tv_tcp_listener *l;
	bool echo;
	uint64_t accepted, rx_bytes;
} rlisten;

/* A TCP connection opened with "connect". */
typedef struct rconn {
	sym *sym;
	tv_tcp *c;
	const char *state;      /* connecting, established, peer-closed, closed, reset, timeout */
	uint64_t rx_bytes;
} rconn;

/* A repeating "send". */
enum send_payload {
	SEND_TEXT,              /* "traverse seq=N", zero-padded */
	SEND_RTP,               /* an RTP header, zero payload */
	SEND_RTCP,              /* an RTCP compound: SR or RR, SDES CNAME */
	SEND_RAW,               /* payload=hex:/file: buf holds the exact datagram */
};

typedef struct sender {
	tv_timer t;
	rsock *rs;
	tv_ep to;
	uint32_t left, seq;     /* seq: datagrams sent so far */
	tv_time interval;
	uint16_t size;          /* 1 to PKT_UDP_DATA_MAX; RTCP: set per packet */
	enum send_payload payload;
	uint32_t ssrc;          /* RTP, RTCP */
	uint16_t seq0;          /* RTP: sequence number of the first packet */
	uint8_t pt;             /* RTP */
	bool sr;                /* RTCP: SR, else RR */
	char cname[48];         /* RTCP: HOST@IP */
	uint8_t *buf;           /* size bytes (RTCP: MEDIA_RTCP_MAX), allocated with the sender */
} sender;

/* A check on the bytes delivered to an address (expect received ...
 * contains=/lacks=/matches=): set up from the dry pass, fed by the
 * network's delivery tap during the run. */
typedef struct watch {
	const scn_stmt *st;     /* the expect statement it serves */
	tv_ep ep;
	uint8_t proto;          /* TV_PROTO_UDP or TV_PROTO_TCP */
	char kind;              /* 'c' contains, 'l' lacks, 'm' matches */
	char *text;
	char *live_text;        /* --live: text with its addresses moved (live_map_text), owned */
	void *re;               /* regex_t for matches */
	uint64_t seen, hits;    /* datagrams/segments delivered; of those, matching */
	char first[96];         /* the start of the first matching one, for messages */
} watch;

typedef struct scn_ctx {
	const scn_file *f;
	const scn_opts *o;
	scn_result *r;
	bool dry;
	bool in_timeline;
	int errors;
	uint64_t seed;
	tv_time cursor;
	sim_net *net;
	sym **syms;                     /* each allocated once: a sym * stays valid as names are added */
	int nsyms, capsyms;
	struct addr_claim { char link[32]; tv_ip ip; int line; } *claims;  /* addresses in use */
	int nclaims, capclaims;
	rsock **socks;
	int nsocks;
	rlisten **listens;
	int nlistens;
	sender **senders;
	int nsenders;
	const scn_stmt *cur;
	bool show;              /* a "show" runs the expect handlers: bare keys print */
	char showbuf[1024];     /* what the current "show" prints */
	int show_keys;          /* bare keys the current "show" named */
	watch *watches;         /* expect received ... contains/lacks/matches */
	int nwatches;
	char *tapbuf;           /* a payload as a C string, for matches= */
	struct scn_live *live;  /* --live: the bridge and the proxy process (scn_live.c) */
	uint32_t lmap[256];     /* --live: the /24s the scenario names, in order (live_map_ip) */
	int lmap_n;
	char live_skip[160];    /* --live: why this scenario runs in simulation only */
} scn_ctx;

/* Report a problem with the current statement: in a dry run it is a
 * validation error; in a real run, a runtime error (the scenario fails). */
int ctx_err(scn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record an expectation outcome. */
void ctx_expect(scn_ctx *c, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

sym *ctx_sym(scn_ctx *c, const char *name, int kind);   /* kind -1: any */
/* "NAME:PORT" or "IP:PORT" (port required unless allow_noport). */
int ctx_resolve(scn_ctx *c, const char *s, tv_ep *ep, bool allow_noport);
/* Run-assigned names (scn_names.c): 1 resolved, 0 not such a name, -1 error. */
int names_resolve(scn_ctx *c, const char *s, tv_ep *ep);
/* "audio", "video" or an m= index "0"-"3": 0, else -1. */
int names_stream_index(const char *s, int *idx);
/* user's streams with m= index idx at the proxy: how many (0: none); the
 * first into *out. */
int names_find_stream(scn_ctx *c, sym *px, const char *user, int idx, proxy_stream_info *out);
void px_foreach_stream(scn_ctx *c, sym *px, void (*fn)(void *arg, const proxy_stream_info *s), void *arg);
void px_foreach_binding(scn_ctx *c, sym *px, void (*fn)(void *arg, const proxy_binding_info *b), void *arg);

/* "HOST:PORT" naming a declared host. */
int ctx_host_port(scn_ctx *c, const char *s, sym **host, uint16_t *port);
rsock *ctx_rsock(scn_ctx *c, sym *host, uint16_t port, bool create);
rlisten *ctx_rlisten(scn_ctx *c, const char *host, uint16_t port);

/* The tv_host behind a host or phone symbol. */
#define SYM_HOSTOF(s) ((tv_host *)((s)->kind == SYM_PHONE ? (s)->obj2 : (s)->obj))

/* Options: key[op]value words after the positional ones. */
typedef struct opt {
	const char *key;
	char op[3];             /* "=", ">=", "<=", "!=", ">", "<" */
	const char *val;
	int used;
} opt;

typedef struct opts {
	opt v[SCN_MAX_ARGS];
	int n;
} opts;

/* Split argv[from..] into options; keys must be in allowed (NULL-ended).
 * Only "=" is accepted unless cmp is set. */
int opts_parse(scn_ctx *c, const scn_stmt *st, int from, const char *const *allowed, bool cmp, opts *out);
const opt *opts_get(const opts *o, const char *key);
int opt_time(scn_ctx *c, const opt *o, tv_time *out);
int opt_u64(scn_ctx *c, const opt *o, uint64_t *out);
int opt_bool(scn_ctx *c, const opt *o, bool *out);
int opt_percent(scn_ctx *c, const opt *o, double *out);
bool cmp_u64(const char *op, uint64_t got, uint64_t want);
/* "show": is o a bare key to print rather than a check? */
static inline bool opt_is_show(const opt *o) { return o->op[0] == '\0'; }
/* Add "key=value" to the current show line (what: the subject, once). */
void show_put(scn_ctx *c, const char *what, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void show_flush(scn_ctx *c, const char *label);


/* Check (or show) a counter against o: "WHAT: expected KEY OP N, got G". */
void check_count(scn_ctx *c, const char *what, const opt *o, uint64_t got);

sym *need_sym(scn_ctx *c, const char *name, enum sym_kind kind);
sym *new_sym(scn_ctx *c, const char *name, enum sym_kind kind);
/* Free every sym (not what they own) and the table. */
void syms_free(scn_ctx *c);
int parse_ip(scn_ctx *c, const char *what, const char *s, tv_ip *ip);
/* Note that ip is in use on link; an error (with the earlier line) if it
 * already is, so duplicates are caught by 'check', not at run time. */
int claim_ip(scn_ctx *c, const sym *link, const tv_ip *ip);
/* Where a run's files go (with --pcap DIR): DIR/<dir>-<stem>/<name><ext>;
 * creates the directories. */
void ctx_run_path(scn_ctx *c, const char *name, const char *ext, char *out, size_t cap);
/* "LINK:IP[,IP...]" */
int parse_attach(scn_ctx *c, const char *what, const char *s, sym **link, tv_ip *ips, int max, int *n);
/* Look a value up in a {name, v} table; error lists the choices. */
int enum_lookup(scn_ctx *c, const opt *o, const void *table, size_t n, int *out);
#define LOOKUP(c, o, table, out) enum_lookup(c, o, table, sizeof(table) / sizeof(table[0]), out)

/* scn_topo.c: topology statements. */
int topo_scenario(scn_ctx *c, const scn_stmt *st);
int topo_seed(scn_ctx *c, const scn_stmt *st);
int topo_link(scn_ctx *c, const scn_stmt *st);
int topo_impair(scn_ctx *c, const scn_stmt *st);
int topo_nat(scn_ctx *c, const scn_stmt *st);
int topo_firewall(scn_ctx *c, const scn_stmt *st);
int topo_host(scn_ctx *c, const scn_stmt *st);
int topo_stun(scn_ctx *c, const scn_stmt *st);

/* scn_sip.c: SIP statements and expectations. */
int sip_softswitch(scn_ctx *c, const scn_stmt *st);
int sip_restart(scn_ctx *c, const scn_stmt *st);
int sip_proxy(scn_ctx *c, const scn_stmt *st);
int sip_phone(scn_ctx *c, const scn_stmt *st);
int sip_action(scn_ctx *c, const scn_stmt *st);
int sip_keepalive(scn_ctx *c, const scn_stmt *st);
int sip_media(scn_ctx *c, const scn_stmt *st);
int sip_expect_phone(scn_ctx *c, const scn_stmt *st);
int sip_expect_media(scn_ctx *c, const scn_stmt *st);
int sip_expect_proxy(scn_ctx *c, const scn_stmt *st);
int sip_expect_relay(scn_ctx *c, const scn_stmt *st);
int sip_expect_softswitch(scn_ctx *c, const scn_stmt *st);
void sip_free(scn_ctx *c, sym *s);
/* A 32-bit value written in decimal or 0x hex (an SSRC). */
int opt_u32x(scn_ctx *c, const opt *o, uint32_t *out);

/* scn_expect.c */
int scn_expect(scn_ctx *c, const scn_stmt *st);
int scn_show(scn_ctx *c, const scn_stmt *st);
void watches_start(scn_ctx *c);
void watches_free(scn_ctx *c);

/* scn_time.c: the time an "at"/"after" names (event_only: "after"). */
int scn_when(scn_ctx *c, const char *what, const char *spec, bool event_only, tv_time *t);

/* The proxy statement's own keys, where it stands (access=, core=,
 * softswitch=); every other key is a proxy option (proxy_cfg_set). */
static inline bool proxy_place_key(const char *k)
{
	return !strcmp(k, "access") || !strcmp(k, "core") || !strcmp(k, "softswitch");
}

/* scn_live.c: --live runs */
void live_map_ip(scn_ctx *c, tv_ip *ip);
int live_start(scn_ctx *c);
void live_advance(scn_ctx *c, tv_time t);
int live_proxy(scn_ctx *c, sym *px, sym *la, sym *lc, const proxy_cfg *pc, const opts *o);
void live_finish(scn_ctx *c);
void live_free(scn_ctx *c);
/* Run the simulation up to the real clock's now (before injecting what a
 * real socket or device delivered). */
void live_sync(scn_ctx *c);
/* Read up to 64 packets from a TUN device of the run's (a kernel NAT's, a
 * real host's): each IPv4 one, after live_sync, goes to pkt. */
void live_tun_drain(scn_ctx *c, int fd, void (*pkt)(void *arg, int fd, uint8_t *p, size_t len), void *arg);
/* Watch a descriptor of the run's (readable: fn); 0 or -1. */
int live_watch(scn_ctx *c, int fd, void (*fn)(void *arg, int fd), void *arg);
void live_unwatch(scn_ctx *c, int fd);
void live_reach(scn_ctx *c, softswitch_cfg *sc, const tv_ip *self);
/* --proxy / --softswitch: what that peer knows inside cannot be read
 * (kind SYM_PROXY or SYM_SOFTSWITCH); such checks are counted, not made. */
bool live_opaque(scn_ctx *c, int kind);
/* With --proxy: let the core link reach ip, an address of the proxy under
 * test that a core-side relay name resolved to. */
void live_core_reach(scn_ctx *c, const tv_ip *ip);
/* --live: a copy of s with every dotted-quad address moved as live_map_ip
 * moves it, or NULL if s names none (or not live). */
char *live_map_text(scn_ctx *c, const char *s);
int live_stats(scn_ctx *c, proxy_stats *out);
void live_foreach_stream(scn_ctx *c, void (*fn)(void *arg, const proxy_stream_info *s), void *arg);
void live_foreach_binding(scn_ctx *c, void (*fn)(void *arg, const proxy_binding_info *b), void *arg);
/* Run the network up to the cursor (in step with the real clock when live). */
void ctx_advance(scn_ctx *c);

#endif
