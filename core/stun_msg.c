/* stun_msg.c - the STUN message codec (RFC 5389 format, RFC 5780
 * attributes).
 *
 * Attributes are described once, in stun_attrs[]: the decoder dispatches
 * on it, the encoder writes the attributes in its order. Every read is
 * preceded by a length check against the attribute or the message; the
 * message itself must fill the datagram exactly. */
#include "stun_msg.h"
#include "pkt.h"

#include <string.h>

/* RFC 5389 15.7 and 15.10: reason phrase and SOFTWARE are at most 763 bytes. */
#define STUN_TEXT_MAX 763

/* CRC-32 as in ISO-HDLC / zlib (reflected polynomial 0xEDB88320), four
 * bits at a time: a 16-entry table instead of 256, at half the speed,
 * which does not matter for messages of a hundred bytes. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t stun_crc32(const uint8_t *data, size_t len)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= data[i];
		c = (c >> 4) ^ crc_nibble[c & 15];
		c = (c >> 4) ^ crc_nibble[c & 15];
	}
	return c ^ 0xffffffffu;
}

void stun_msg_init(stun_msg *m, uint16_t type, const uint8_t tid[STUN_TID_LEN])
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	memcpy(m->tid, tid, STUN_TID_LEN);
}

void stun_msg_tid_new(tv_rng *r, uint8_t tid[STUN_TID_LEN])
{
	uint64_t a = tv_rng_next(r), b = tv_rng_next(r);

	for (int i = 0; i < 8; i++)
		tid[i] = (uint8_t)(a >> (8 * i));
	for (int i = 0; i < 4; i++)
		tid[8 + i] = (uint8_t)(b >> (8 * i));
}

static const struct {
	uint16_t type;
	const char *name;
} stun_types[] = {
	{ STUN_BINDING_REQUEST, "Binding Request" },
	{ STUN_BINDING_INDICATION, "Binding Indication" },
	{ STUN_BINDING_SUCCESS, "Binding Success Response" },
	{ STUN_BINDING_ERROR, "Binding Error Response" },
};

const char *stun_msg_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(stun_types) / sizeof(stun_types[0]); i++)
		if (stun_types[i].type == type)
			return stun_types[i].name;
	return "unknown";
}

/* The XOR key for XOR-MAPPED-ADDRESS: magic cookie then transaction id
 * (IPv4 uses the first four bytes, the port the first two). */
static void xor_key(const stun_msg *m, uint8_t key[16])
{
	pkt_put32(key, STUN_MAGIC);
	memcpy(key + 4, m->tid, STUN_TID_LEN);
}

/* Address value: reserved, family (1 IPv4, 2 IPv6), port, address. */
static int get_addr(const stun_msg *m, const uint8_t *v, uint16_t len, bool xor, tv_ep *ep)
{
	uint8_t key[16];

	xor_key(m, key);
	if (len < 4)
		return TV_EINVAL;
	memset(ep, 0, sizeof(*ep));
	ep->port = pkt_get16(v + 2);
	if (xor)
		ep->port ^= pkt_get16(key);
	switch (v[1]) {
	case 1:
		if (len != 8)
			return TV_EINVAL;
		ep->ip = tv_ip4(pkt_get32(v + 4) ^ (xor ? STUN_MAGIC : 0));
		return 0;
	case 2:
		if (len != 20)
			return TV_EINVAL;
		ep->ip.af = TV_AF_INET6;
		for (int i = 0; i < 16; i++)
			ep->ip.v6[i] = v[4 + i] ^ (xor ? key[i] : 0);
		return 0;
	}
	return TV_EINVAL;
}

static int put_addr(const stun_msg *m, const tv_ep *ep, bool xor, uint8_t *v, size_t cap)
{
	uint8_t key[16];
	uint16_t port = ep->port;

	xor_key(m, key);
	if (xor)
		port ^= pkt_get16(key);
	if (ep->ip.af == TV_AF_INET) {
		if (cap < 8)
			return TV_ENOSPC;
		v[0] = 0;
		v[1] = 1;
		pkt_put16(v + 2, port);
		pkt_put32(v + 4, ep->ip.v4 ^ (xor ? STUN_MAGIC : 0));
		return 8;
	}
	if (ep->ip.af == TV_AF_INET6) {
		if (cap < 20)
			return TV_ENOSPC;
		v[0] = 0;
		v[1] = 2;
		pkt_put16(v + 2, port);
		for (int i = 0; i < 16; i++)
			v[4 + i] = ep->ip.v6[i] ^ (xor ? key[i] : 0);
		return 20;
	}
	return TV_EINVAL;
}

static int get_mapped(stun_msg *m, const uint8_t *v, uint16_t len)
{
	return get_addr(m, v, len, false, &m->mapped);
}
static int put_mapped(const stun_msg *m, uint8_t *v, size_t cap)
{
	return put_addr(m, &m->mapped, false, v, cap);
}
static int get_xor_mapped(stun_msg *m, const uint8_t *v, uint16_t len)
{
	return get_addr(m, v, len, true, &m->xor_mapped);
}
static int put_xor_mapped(const stun_msg *m, uint8_t *v, size_t cap)
{
	return put_addr(m, &m->xor_mapped, true, v, cap);
}
static int get_origin(stun_msg *m, const uint8_t *v, uint16_t len)
{
	return get_addr(m, v, len, false, &m->response_origin);
}
static int put_origin(const stun_msg *m, uint8_t *v, size_t cap)
{
	return put_addr(m, &m->response_origin, false, v, cap);
}
static int get_other(stun_msg *m, const uint8_t *v, uint16_t len)
{
	return get_addr(m, v, len, false, &m->other);
}
static int put_other(const stun_msg *m, uint8_t *v, size_t cap)
{
	return put_addr(m, &m->other, false, v, cap);
}

/* CHANGE-REQUEST: 32 bits, of which only the change-IP (A) and
 * change-port (B) flags mean anything. */
static int get_change(stun_msg *m, const uint8_t *v, uint16_t len)
{
	if (len != 4)
		return TV_EINVAL;
	m->change = (uint8_t)(pkt_get32(v) & (STUN_CHANGE_IP | STUN_CHANGE_PORT));
	return 0;
}
static int put_change(const stun_msg *m, uint8_t *v, size_t cap)
{
	if (cap < 4)
		return TV_ENOSPC;
	pkt_put32(v, m->change & (STUN_CHANGE_IP | STUN_CHANGE_PORT));
	return 4;
}

/* RESPONSE-PORT: a 16-bit port followed by padding. RFC 5780 is read both
 * ways (attribute length 2 plus padding, or length 4); we send 2 and
 * accept either. Wireshark 4.0 shows type 0x0027 under its older draft
 * name XOR-RESPONSE-TARGET (without calling it malformed). */
static int get_response_port(stun_msg *m, const uint8_t *v, uint16_t len)
{
	if (len != 2 && len != 4)
		return TV_EINVAL;
	m->response_port = pkt_get16(v);
	return 0;
}
static int put_response_port(const stun_msg *m, uint8_t *v, size_t cap)
{
	if (cap < 2)
		return TV_ENOSPC;
	pkt_put16(v, m->response_port);
	return 2;
}

/* ERROR-CODE: 21 reserved bits, class (3..6), number (0..99), reason. */
static int get_error(stun_msg *m, const uint8_t *v, uint16_t len)
{
	uint8_t cls, num;

	if (len < 4 || len - 4 > STUN_TEXT_MAX)
		return TV_EINVAL;
	cls = v[2] & 7;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return TV_EINVAL;
	m->error_code = (uint16_t)(cls * 100 + num);
	m->reason = (const char *)v + 4;
	m->reason_len = (uint16_t)(len - 4);
	return 0;
}
static int put_error(const stun_msg *m, uint8_t *v, size_t cap)
{
	if (m->error_code < 300 || m->error_code > 699 || m->reason_len > STUN_TEXT_MAX)
		return TV_EINVAL;
	if (cap < 4u + m->reason_len)
		return TV_ENOSPC;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(m->error_code / 100);
	v[3] = (uint8_t)(m->error_code % 100);
	if (m->reason_len)
		memcpy(v + 4, m->reason, m->reason_len);
	return 4 + m->reason_len;
}

static int get_unknown_attrs(stun_msg *m, const uint8_t *v, uint16_t len)
{
	if (len % 2)
		return TV_EINVAL;
	for (uint16_t i = 0; i + 2 <= len && m->nunknown < STUN_UNKNOWN_MAX; i += 2)
		m->unknown[m->nunknown++] = pkt_get16(v + i);
	return 0;
}
static int put_unknown_attrs(const stun_msg *m, uint8_t *v, size_t cap)
{
	size_t n = m->nunknown < STUN_UNKNOWN_MAX ? m->nunknown : STUN_UNKNOWN_MAX;

	if (cap < 2 * n)
		return TV_ENOSPC;
	for (size_t i = 0; i < n; i++)
		pkt_put16(v + 2 * i, m->unknown[i]);
	return (int)(2 * n);
}

static int get_software(stun_msg *m, const uint8_t *v, uint16_t len)
{
	if (len > STUN_TEXT_MAX)
		return TV_EINVAL;
	m->software = (const char *)v;
	m->software_len = len;
	return 0;
}
static int put_software(const stun_msg *m, uint8_t *v, size_t cap)
{
	if (m->software_len > STUN_TEXT_MAX)
		return TV_EINVAL;
	if (cap < m->software_len)
		return TV_ENOSPC;
	if (m->software_len)
		memcpy(v, m->software, m->software_len);
	return m->software_len;
}

/* Known attributes, in the order the encoder writes them. Entries without
 * a decoder are understood and skipped (authentication, which this
 * module does not do). FINGERPRINT is handled apart: it must come last. */
static const struct stun_attr_def {
	uint16_t type;
	uint32_t bit;
	int (*get)(stun_msg *m, const uint8_t *v, uint16_t len);
	int (*put)(const stun_msg *m, uint8_t *v, size_t cap);
} stun_attrs[] = {
	{ STUN_ATTR_ERROR_CODE, STUN_HAS_ERROR, get_error, put_error },
	{ STUN_ATTR_UNKNOWN_ATTRIBUTES, STUN_HAS_UNKNOWN_ATTRS, get_unknown_attrs, put_unknown_attrs },
	{ STUN_ATTR_XOR_MAPPED_ADDRESS, STUN_HAS_XOR_MAPPED, get_xor_mapped, put_xor_mapped },
	{ STUN_ATTR_MAPPED_ADDRESS, STUN_HAS_MAPPED, get_mapped, put_mapped },
	{ STUN_ATTR_RESPONSE_ORIGIN, STUN_HAS_RESPONSE_ORIGIN, get_origin, put_origin },
	{ STUN_ATTR_OTHER_ADDRESS, STUN_HAS_OTHER, get_other, put_other },
	{ STUN_ATTR_CHANGE_REQUEST, STUN_HAS_CHANGE, get_change, put_change },
	{ STUN_ATTR_RESPONSE_PORT, STUN_HAS_RESPONSE_PORT, get_response_port, put_response_port },
	{ STUN_ATTR_SOFTWARE, STUN_HAS_SOFTWARE, get_software, put_software },
	{ STUN_ATTR_USERNAME, 0, NULL, NULL },
	{ STUN_ATTR_MESSAGE_INTEGRITY, 0, NULL, NULL },
	{ STUN_ATTR_REALM, 0, NULL, NULL },
	{ STUN_ATTR_NONCE, 0, NULL, NULL },
};

#define STUN_NATTRS (sizeof(stun_attrs) / sizeof(stun_attrs[0]))

static const struct stun_attr_def *attr_find(uint16_t type)
{
	for (size_t i = 0; i < STUN_NATTRS; i++)
		if (stun_attrs[i].type == type)
			return &stun_attrs[i];
	return NULL;
}

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

int stun_msg_encode(const stun_msg *m, uint8_t *buf, size_t cap)
{
	size_t off = STUN_HDR_LEN;

	if (m->type & 0xc000)
		return TV_EINVAL;
	if (cap < STUN_HDR_LEN + 8)
		return TV_ENOSPC;
	pkt_put16(buf, m->type);
	pkt_put32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, m->tid, STUN_TID_LEN);
	for (size_t i = 0; i < STUN_NATTRS; i++) {
		const struct stun_attr_def *d = &stun_attrs[i];
		int n;

		if (!d->put || !(m->has & d->bit))
			continue;
		/* Keep 8 bytes for FINGERPRINT. */
		if (cap - off < 4 + 8)
			return TV_ENOSPC;
		n = d->put(m, buf + off + 4, cap - off - 4 - 8);
		if (n < 0)
			return n;
		if (pad4((size_t)n) > cap - off - 4 - 8)
			return TV_ENOSPC;
		pkt_put16(buf + off, d->type);
		pkt_put16(buf + off + 2, (uint16_t)n);
		memset(buf + off + 4 + n, 0, pad4((size_t)n) - (size_t)n);
		off += 4 + pad4((size_t)n);
	}
	/* The length covers FINGERPRINT before the CRC is taken (15.5). */
	pkt_put16(buf + 2, (uint16_t)(off + 8 - STUN_HDR_LEN));
	pkt_put16(buf + off, STUN_ATTR_FINGERPRINT);
	pkt_put16(buf + off + 2, 4);
	pkt_put32(buf + off + 4, stun_crc32(buf, off) ^ STUN_FP_XOR);
	return (int)(off + 8);
}

bool stun_msg_is_stun(const uint8_t *buf, size_t len)
{
	size_t mlen;

	if (len < STUN_HDR_LEN || (buf[0] & 0xc0))
		return false;
	mlen = pkt_get16(buf + 2);
	return mlen % 4 == 0 && STUN_HDR_LEN + mlen == len && pkt_get32(buf + 4) == STUN_MAGIC;
}

int stun_msg_decode(const uint8_t *buf, size_t len, stun_msg *m)
{
	size_t off = STUN_HDR_LEN;

	memset(m, 0, sizeof(*m));
	if (!stun_msg_is_stun(buf, len))
		return TV_EINVAL;
	m->type = pkt_get16(buf);
	memcpy(m->tid, buf + 8, STUN_TID_LEN);
	while (off < len) {
		const struct stun_attr_def *d;
		uint16_t type, alen;
		const uint8_t *v;

		if (len - off < 4 || (m->has & STUN_HAS_FINGERPRINT))
			return TV_EINVAL;
		type = pkt_get16(buf + off);
		alen = pkt_get16(buf + off + 2);
		if (pad4(alen) > len - off - 4)
			return TV_EINVAL;
		v = buf + off + 4;
		if (type == STUN_ATTR_FINGERPRINT) {
			if (alen != 4 || pkt_get32(v) != (stun_crc32(buf, off) ^ STUN_FP_XOR))
				return TV_EINVAL;
			m->has |= STUN_HAS_FINGERPRINT;
		} else if ((d = attr_find(type)) != NULL) {
			/* Only the first of repeated attributes counts (15). */
			if (d->get && !(m->has & d->bit)) {
				if (d->get(m, v, alen) < 0)
					return TV_EINVAL;
				m->has |= d->bit;
			}
		} else if (type < 0x8000) {
			if (m->ncr_unknown < STUN_UNKNOWN_MAX)
				m->cr_unknown[m->ncr_unknown++] = type;
		}
		off += 4 + pad4(alen);
	}
	return 0;
}
