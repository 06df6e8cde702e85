/* sipmsg.h - SIP and SDP helpers shared by the simulated phone (sipua.c)
 * and the softswitch (softswitch.c). Everything here reads and builds
 * messages through libosip2; nothing here sends, and the only state is
 * the caller-owned stream reassembly buffer (sipmsg_stream).
 *
 * Strings returned by the osip-based builders are allocated with
 * osip_malloc and released with osip_free. Parsed messages belong to the
 * caller (osip_message_free). */
#ifndef TV_SIPMSG_H
#define TV_SIPMSG_H

#include <osipparser2/osip_parser.h>

#include "host.h"

/* RFC 3261 timer values (17.1.1.1). */
#define SIPMSG_T1 TV_MS(500)
#define SIPMSG_T2 TV_SEC(4)
#define SIPMSG_TIMEOUT (64 * SIPMSG_T1)

#define SIPMSG_MAX_LEN 65535            /* largest message we frame over TCP */

/* Prepare libosip2's parser; idempotent but not free (it rebuilds
 * libosip2's tables), so call it once per engine: sipua_new and
 * softswitch_new do. Every other function here needs it done. */
void sipmsg_init(void);

/* A datagram holding nothing but CR/LF (or nothing): a keepalive ping. */
bool sipmsg_is_keepalive(const uint8_t *data, size_t len);

/* Parse data (borrowed; need not be NUL-terminated) into *out. Returns 0,
 * TV_ENOMEM, or TV_EINVAL if it is not a SIP message with the headers a
 * transaction needs (Via with host, From, To, Call-ID, CSeq). */
int sipmsg_parse(const uint8_t *data, size_t len, osip_message_t **out);

/* Serialize m (Content-Length is recomputed by libosip2). *buf is
 * osip_malloc'd. Returns 0 or TV_ENOMEM/TV_EINVAL. */
int sipmsg_to_str(osip_message_t *m, char **buf, size_t *len);

/* A request's fields. via is the whole Via value; to_tag may be NULL or
 * empty; contact is a URI (NULL: no Contact), allow an Allow value (NULL:
 * none). Max-Forwards is 70. */
typedef struct sipmsg_req {
	const char *method, *ruri, *via, *call_id;
	const char *from_uri, *from_tag, *to_uri, *to_tag;
	unsigned long cseq;
	const char *contact, *allow;
} sipmsg_req;

/* Build a request (also sets User-Agent). Returns 0, TV_ENOMEM, or
 * TV_EINVAL if the Request-URI does not parse. */
int sipmsg_request(const sipmsg_req *r, osip_message_t **out);

/* Add Contact: <uri> and, if allow is non-NULL, Allow. */
int sipmsg_add_contact(osip_message_t *m, const char *uri, const char *allow);

/* A response to req with its Via list, From, To (plus to_tag if To has
 * none and to_tag is non-NULL), Call-ID and CSeq, and the standard reason
 * phrase. Returns 0 or a TV_E* code. */
int sipmsg_response(const osip_message_t *req, int code, const char *to_tag, osip_message_t **out);

/* RFC 3261 18.2.1 and RFC 3581 on a received request: add received= to
 * the top Via if its sent-by host differs from the source address, and
 * fill an empty rport with the source port (adding received as well). */
int sipmsg_via_stamp(osip_message_t *req, const tv_ep *from);

/* Where to send a response according to Via number pos (RFC 3261 18.2.2,
 * RFC 3581 4): received (or sent-by host) at rport (or sent-by port,
 * default 5060). TV_ENOENT if no such Via, TV_EINVAL if the address is
 * not an IPv4 literal. */
int sipmsg_via_target(const osip_message_t *m, int pos, tv_ep *out);

/* host:port of a URI (port default 5060); TV_EINVAL if host is not an
 * IPv4 literal. */
int sipmsg_uri_ep(const osip_uri_t *u, tv_ep *out);

/* Top Via's branch parameter, or NULL. Borrowed from m. */
const char *sipmsg_branch(const osip_message_t *m);
/* Value of the first header named name (case-insensitive, any header
 * libosip2 keeps in its generic list), or NULL. Borrowed from m. */
const char *sipmsg_header(const osip_message_t *m, const char *name);
/* The tag of a From/To header, or NULL. */
const char *sipmsg_tag(const osip_from_t *f);
/* u as a string into buf; TV_EINVAL if absent, TV_ENOSPC if too long. */
int sipmsg_uri_str(const osip_uri_t *u, char *buf, size_t cap);
/* The first Contact's URI as a string into buf; TV_ENOENT if none,
 * TV_ENOSPC if it does not fit. */
int sipmsg_contact_uri(const osip_message_t *m, char *buf, size_t cap);
/* A registration's expiry in seconds (RFC 3261 10.2.1.1): c's expires
 * parameter if c is given and has one, else the Expires header, else dflt;
 * values above max are clamped. */
unsigned long sipmsg_expires(const osip_message_t *m, const osip_contact_t *c, unsigned long dflt,
			     unsigned long max);
/* Whether an option tag (e.g. "timer") is listed in any header named name
 * (case-insensitive; compact, if non-NULL, is its compact form, "k" for
 * Supported), whose values are comma-separated lists. */
bool sipmsg_has_option(const osip_message_t *m, const char *name, const char *compact, const char *tag);

/* RFC 4028 Session-Expires (compact form "x"): its delta-seconds (at least
 * 1, at most max) and its refresher parameter. TV_ENOENT if absent,
 * TV_EINVAL if it does not parse. */
enum sipmsg_refresher { SIPMSG_REFRESHER_NONE, SIPMSG_REFRESHER_UAC, SIPMSG_REFRESHER_UAS };
int sipmsg_session_expires(const osip_message_t *m, unsigned long max, unsigned long *secs,
			   enum sipmsg_refresher *refresher);
/* Add Session-Expires: secs[;refresher=uac|uas] (none: no parameter). */
int sipmsg_add_session_expires(osip_message_t *m, unsigned long secs, enum sipmsg_refresher refresher);

/* Parse a decimal header value into [0, max]; TV_EINVAL otherwise. */
int sipmsg_uint(const char *s, unsigned long max, unsigned long *out);

/* 64-bit FNV-1a over s (NULL hashes as empty), chained through h. */
uint64_t sipmsg_hash(uint64_t h, const char *s);
#define SIPMSG_HASH_INIT 0xcbf29ce484222325ULL
/* nhex lowercase hex digits from r into out (cap >= nhex + 1). */
void sipmsg_rand_hex(tv_rng *r, char *out, size_t nhex);

/* ---- stream framing (RFC 3261 18.3) ------------------------------------ */

/* Reassembles messages from a byte stream by Content-Length (or "l"; any
 * case, blanks before the colon, a folded value). Set need_length for an
 * RFC 3261 18.3 element: a head without Content-Length cannot be framed
 * (TV_EINVAL); unset, it frames as a message without body. */
typedef struct sipmsg_stream {
	uint8_t *buf;
	size_t len, cap;
	size_t taken;                   /* bytes of the message handed out last */
	unsigned crlf;                  /* CR/LF bytes skipped in the current run */
	bool need_length;               /* Content-Length is required */
} sipmsg_stream;

void sipmsg_stream_free(sipmsg_stream *s);
/* Append bytes. TV_ENOMEM, or TV_EFULL past SIPMSG_MAX_LEN buffered. */
int sipmsg_stream_feed(sipmsg_stream *s, const uint8_t *data, size_t len);
/* Take the next complete message: returns 1 and sets *msg and *mlen (borrowed,
 * valid until the next call on s, feed included), 0 if more bytes are needed, TV_EINVAL
 * if the head cannot be framed (the stream is then unusable). CR/LF
 * between messages is skipped; each CRLF CRLF ping and each lone CRLF
 * pong adds one to *keepalives. */
int sipmsg_stream_next(sipmsg_stream *s, const uint8_t **msg, size_t *mlen, uint64_t *keepalives);

/* ---- writing the way other stacks do ------------------------------------ */

/* libosip2 writes one header per line, each value on its own line. Real
 * stacks also fold long headers onto continuation lines (RFC 3261 7.3.1)
 * and list several values in one header. These edit serialized text only:
 * the body, and every byte not named here, stay as they were.
 *
 * sipmsg_fold: every Via (or "v") and Contact (or "m") header line of the
 * head gets one fold, CRLF plus SP (Via) or HTAB (Contact) inserted after
 * its last comma between values, else before its last parameter's ';',
 * else right after the colon; quoted strings and <...> are not looked
 * into, and a header already folded is left alone. Each fold adds 3 bytes.
 * sipmsg_join: the values of every further line of header name (or its
 * compact form) are appended to its first line, ", "-separated, and those
 * lines removed.
 * Both write into out (cap bytes) and set *outlen; TV_ENOSPC if it does
 * not fit, TV_EINVAL if in has no blank line ending its head. */
int sipmsg_fold(const char *in, size_t len, char *out, size_t cap, size_t *outlen);
int sipmsg_join(const char *in, size_t len, const char *name, char compact, char *out, size_t cap,
		size_t *outlen);

enum { SIPMSG_STYLE_FOLD = 1, SIPMSG_STYLE_JOIN_CONTACTS = 2 };
/* Apply the styles (SIPMSG_STYLE_* bits; join first) to *buf, an
 * osip_malloc'd message of *len bytes, replacing it. 0 or a TV_E* code
 * (then *buf is unchanged). */
int sipmsg_restyle(char **buf, size_t *len, unsigned styles);

/* ---- SDP ----------------------------------------------------------------- */

enum { SIPMSG_DIR_SEND = 1, SIPMSG_DIR_RECV = 2, SIPMSG_DIR_SENDRECV = 3 };
enum { SIPMSG_AUDIO, SIPMSG_VIDEO, SIPMSG_NMEDIA };

/* One m= line as written or read. */
typedef struct sipmsg_media {
	bool present;                   /* the m= line exists */
	uint16_t port;                  /* 0: rejected / disabled */
	tv_ip addr;                     /* c= (media level, else session level) */
	uint16_t rtcp_port;             /* a=rtcp (RFC 3605); 0 if absent */
	bool rtcp_has_addr;             /* a=rtcp carried an address ... */
	tv_ip rtcp_addr;                /* ... this one */
	bool mux;                       /* a=rtcp-mux */
	int dir;                        /* SIPMSG_DIR_* bits; 0 = inactive */
} sipmsg_media;

typedef struct sipmsg_sdp {
	sipmsg_media m[SIPMSG_NMEDIA];
} sipmsg_sdp;

/* What a phone wants to write: audio at rtp_port (RTCP at rtcp_port if
 * non-zero, a=rtcp), video at rtp_port + 2 if video, a=rtcp-mux if mux,
 * direction dir (SIPMSG_DIR_* bits). */
typedef struct sipmsg_sdp_pref {
	uint16_t rtp_port, rtcp_port;
	bool video, mux;
	int dir;
} sipmsg_sdp_pref;

/* An offer (peer == NULL) or the RFC 3264 answer to peer: the same m=
 * lines, port 0 for those refused (video when !video), mux only if both
 * ask, the direction what we want within what the peer allows. */
void sipmsg_sdp_local(const sipmsg_sdp_pref *p, const sipmsg_sdp *peer, sipmsg_sdp *out);

/* Read the first audio and video m= lines of m's body. TV_ENOENT if there
 * is no body, TV_EINVAL if it is not SDP we can use (no usable c=, bad
 * ports). c=0.0.0.0 (RFC 2543 hold) reads as direction inactive. */
int sipmsg_sdp_read(const osip_message_t *m, sipmsg_sdp *out);

/* Write an SDP body (audio PCMU/0, video H264/96) for user at ip with the
 * given session id/version and attach it to m with its Content-Type.
 * m[].addr is ignored (ip is used). Returns 0 or a TV_E* code. */
int sipmsg_sdp_attach(osip_message_t *m, const char *user, const tv_ip *ip,
		      uint64_t sess_id, uint64_t sess_ver, const sipmsg_sdp *sdp);

#endif
