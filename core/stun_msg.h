/* stun_msg.h - the STUN message codec (RFC 5389 format, RFC 5780
 * attributes): Binding requests, success and error responses; every
 * encoded message ends with FINGERPRINT, which the decoder checks when
 * present. Pure: no sockets, no clock. Used by the STUN server and probe
 * (simterm/stun.h) and by the proxy, which answers STUN Binding requests
 * on its SIP port (RFC 5626 section 8).
 *
 * Not implemented: authentication (USERNAME, MESSAGE-INTEGRITY and REALM
 * are skipped when decoding and never produced), the PADDING attribute,
 * ALTERNATE-SERVER, methods other than Binding. */
#ifndef TV_STUN_MSG_H
#define TV_STUN_MSG_H

#include "tv.h"
#include "rng.h"

#define STUN_PORT 3478
#define STUN_MAGIC 0x2112A442u
#define STUN_FP_XOR 0x5354554eu
#define STUN_HDR_LEN 20
#define STUN_TID_LEN 12
/* Big enough for anything this module sends (RFC 5389 suggests 576 bytes
 * on paths with an unknown MTU). */
#define STUN_MSG_MAX 576
#define STUN_UNKNOWN_MAX 8

/* Message types (method Binding; class bits as in RFC 5389 section 6). */
enum {
	STUN_BINDING_REQUEST = 0x0001,
	STUN_BINDING_INDICATION = 0x0011,
	STUN_BINDING_SUCCESS = 0x0101,
	STUN_BINDING_ERROR = 0x0111,
};

/* Attribute types. */
enum {
	STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	STUN_ATTR_CHANGE_REQUEST = 0x0003,     /* RFC 5780 */
	STUN_ATTR_USERNAME = 0x0006,
	STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	STUN_ATTR_ERROR_CODE = 0x0009,
	STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	STUN_ATTR_REALM = 0x0014,
	STUN_ATTR_NONCE = 0x0015,
	STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	STUN_ATTR_RESPONSE_PORT = 0x0027,      /* RFC 5780 */
	STUN_ATTR_SOFTWARE = 0x8022,
	STUN_ATTR_FINGERPRINT = 0x8028,
	STUN_ATTR_RESPONSE_ORIGIN = 0x802B,    /* RFC 5780 */
	STUN_ATTR_OTHER_ADDRESS = 0x802C,      /* RFC 5780 */
};

/* Which attributes a stun_msg carries (stun_msg.has). */
enum {
	STUN_HAS_MAPPED = 1u << 0,
	STUN_HAS_XOR_MAPPED = 1u << 1,
	STUN_HAS_CHANGE = 1u << 2,
	STUN_HAS_RESPONSE_PORT = 1u << 3,
	STUN_HAS_RESPONSE_ORIGIN = 1u << 4,
	STUN_HAS_OTHER = 1u << 5,
	STUN_HAS_ERROR = 1u << 6,
	STUN_HAS_UNKNOWN_ATTRS = 1u << 7,
	STUN_HAS_SOFTWARE = 1u << 8,
	STUN_HAS_FINGERPRINT = 1u << 9,        /* decoder only: present and valid */
};

/* CHANGE-REQUEST flags. */
enum { STUN_CHANGE_PORT = 0x02, STUN_CHANGE_IP = 0x04 };

/* A message, decoded or to be encoded. Strings are borrowed: after
 * decoding they point into the decoded buffer; for encoding they point
 * wherever the caller keeps them. */
typedef struct stun_msg {
	uint16_t type;
	uint8_t tid[STUN_TID_LEN];
	uint32_t has;                   /* STUN_HAS_* */
	tv_ep mapped, xor_mapped, response_origin, other;
	uint8_t change;                 /* STUN_CHANGE_* */
	uint16_t response_port;
	uint16_t error_code;            /* 300..699 */
	const char *reason;             /* ERROR-CODE reason phrase, not NUL-terminated */
	uint16_t reason_len;
	const char *software;           /* not NUL-terminated */
	uint16_t software_len;
	uint16_t unknown[STUN_UNKNOWN_MAX];     /* UNKNOWN-ATTRIBUTES */
	uint8_t nunknown;
	/* Decoder only: comprehension-required attributes (type < 0x8000) it
	 * did not understand (the first STUN_UNKNOWN_MAX of them). A server
	 * answers a request carrying any with 420. */
	uint16_t cr_unknown[STUN_UNKNOWN_MAX];
	uint8_t ncr_unknown;
} stun_msg;

/* Clear m and set its type and transaction id. */
void stun_msg_init(stun_msg *m, uint16_t type, const uint8_t tid[STUN_TID_LEN]);
/* A fresh random transaction id from the given generator. */
void stun_msg_tid_new(tv_rng *r, uint8_t tid[STUN_TID_LEN]);
/* Encode m into buf: header, the attributes named in m->has (except
 * FINGERPRINT) in a fixed order, then FINGERPRINT. Returns the length, or
 * TV_ENOSPC if cap is too small, TV_EINVAL if a field cannot be encoded. */
int stun_msg_encode(const stun_msg *m, uint8_t *buf, size_t cap);
/* Decode one datagram. Returns 0, or TV_EINVAL if it is not a well-formed
 * STUN message: short, bad cookie or length, an attribute overrunning the
 * message, a known attribute with a bad value, a wrong FINGERPRINT or
 * anything after it. Unknown attributes are skipped (and the
 * comprehension-required ones listed). Never reads outside buf[0..len). */
int stun_msg_decode(const uint8_t *buf, size_t len, stun_msg *m);
/* Cheap test whether a datagram looks like STUN (first bits, cookie,
 * length), for demultiplexing it from media on one port. */
bool stun_msg_is_stun(const uint8_t *buf, size_t len);
/* CRC-32 (ISO-HDLC, as zlib's crc32) of data, for FINGERPRINT. */
uint32_t stun_crc32(const uint8_t *data, size_t len);
/* "Binding Request", ... or "unknown". */
const char *stun_msg_type_name(uint16_t type);

#endif
