/* test_stun.c - the STUN codec, server and behaviour-discovery probe.
 *
 * Topologies:
 *
 *   no NAT:    cli 10.0.0.10 ---- lan ---- srv 10.0.0.1 + 10.0.0.2
 *                                                 (3478, 3479)
 *
 *   fake NAT:  cli 192.168.1.10 -- lan -- [fnat] -- wan -- srv 198.51.100.1
 *                                   inside    203.0.113.1     + 198.51.100.2
 *
 * The fake NAT below is a test double, a few dozen lines with the three
 * mapping and three filtering behaviours of RFC 4787, optional
 * hairpinning and an idle timeout refreshed by outbound packets only. It
 * exists to drive every branch of the probe; the real NAT engine is
 * tested on its own. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "host.h"
#include "pkt.h"
#include "stun.h"


/* Decode from an exactly sized heap copy, so ASan sees any overread. The
 * decoded strings point into the copy: pass keep to hold on to it (and
 * free it later), or NULL to free it at once. */
static int decode_keep(const uint8_t *buf, size_t len, stun_msg *m, uint8_t **keep)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	cr_assert(copy);
	if (len)
		memcpy(copy, buf, len);
	rc = stun_msg_decode(copy, len, m);
	if (keep)
		*keep = copy;
	else
		free(copy);
	return rc;
}

static int decode_exact(const uint8_t *buf, size_t len, stun_msg *m)
{
	return decode_keep(buf, len, m, NULL);
}

/* ---- RFC 5769 test vectors ------------------------------------------- */

static const uint8_t rfc5769_request[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

static const uint8_t rfc5769_resp4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

static const uint8_t rfc5769_resp6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t rfc5769_tid[STUN_TID_LEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};

Test(stun_codec, crc32_check_value)
{
	cr_assert_eq(stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	cr_assert_eq(stun_crc32(NULL, 0), 0);
}

Test(stun_codec, rfc5769_request)
{
	stun_msg m;

	cr_assert_eq(decode_exact(rfc5769_request, sizeof(rfc5769_request), &m), 0);
	cr_assert_eq(m.type, STUN_BINDING_REQUEST);
	cr_assert_eq(memcmp(m.tid, rfc5769_tid, STUN_TID_LEN), 0);
	cr_assert(m.has & STUN_HAS_FINGERPRINT);
	cr_assert(m.has & STUN_HAS_SOFTWARE);
	cr_assert_eq(m.software_len, 16);
	/* PRIORITY (0x0024) is comprehension-required and unknown here;
	 * ICE-CONTROLLED (0x8029) is optional; USERNAME and
	 * MESSAGE-INTEGRITY are understood and skipped. */
	cr_assert_eq(m.ncr_unknown, 1);
	cr_assert_eq(m.cr_unknown[0], 0x0024);
}

Test(stun_codec, rfc5769_ipv4_response)
{
	stun_msg m;
	tv_ep want = th_ep("192.0.2.1:32853");
	uint8_t *keep;

	cr_assert_eq(decode_keep(rfc5769_resp4, sizeof(rfc5769_resp4), &m, &keep), 0);
	cr_assert_eq(m.type, STUN_BINDING_SUCCESS);
	cr_assert(m.has & STUN_HAS_FINGERPRINT);
	cr_assert(m.has & STUN_HAS_XOR_MAPPED);
	cr_assert(tv_ep_eq(&m.xor_mapped, &want));
	cr_assert_eq(m.software_len, 11);
	cr_assert_eq(memcmp(m.software, "test vector", 11), 0);
	cr_assert_eq(m.ncr_unknown, 0);
	free(keep);
}

Test(stun_codec, rfc5769_ipv6_response)
{
	stun_msg m;
	tv_ip want = th_ip("2001:db8:1234:5678:11:2233:4455:6677");

	cr_assert_eq(decode_exact(rfc5769_resp6, sizeof(rfc5769_resp6), &m), 0);
	cr_assert(m.has & STUN_HAS_XOR_MAPPED);
	cr_assert(tv_ip_eq(&m.xor_mapped.ip, &want));
	cr_assert_eq(m.xor_mapped.port, 32853);
}

/* ---- round trips ---------------------------------------------------- */

static const char full_reason[] = "Unknown Attribute";
static const char full_software[] = "traverse/1";

/* A message with every attribute the encoder knows. */
static void full_msg(stun_msg *m)
{
	static const uint8_t tid[STUN_TID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

	stun_msg_init(m, STUN_BINDING_ERROR, tid);
	m->has = STUN_HAS_MAPPED | STUN_HAS_XOR_MAPPED | STUN_HAS_CHANGE | STUN_HAS_RESPONSE_PORT |
		 STUN_HAS_RESPONSE_ORIGIN | STUN_HAS_OTHER | STUN_HAS_ERROR | STUN_HAS_UNKNOWN_ATTRS |
		 STUN_HAS_SOFTWARE;
	m->mapped = th_ep("203.0.113.7:40000");
	m->xor_mapped = th_ep("203.0.113.7:40001");
	m->response_origin = th_ep("198.51.100.1:3478");
	m->other = th_ep("198.51.100.2:3479");
	m->change = STUN_CHANGE_IP | STUN_CHANGE_PORT;
	m->response_port = 5060;
	m->error_code = 420;
	m->reason = full_reason;
	m->reason_len = (uint16_t)strlen(full_reason);
	m->software = full_software;
	m->software_len = (uint16_t)strlen(full_software);
	m->unknown[0] = 0x0024;
	m->unknown[1] = 0x0025;
	m->unknown[2] = 0x0026;
	m->nunknown = 3;
}

static int encode_full(uint8_t *buf, size_t cap)
{
	stun_msg m;

	full_msg(&m);
	return stun_msg_encode(&m, buf, cap);
}

Test(stun_codec, round_trip_every_attribute)
{
	uint8_t buf[STUN_MSG_MAX];
	stun_msg in, out;
	uint8_t *keep;
	int n;

	full_msg(&in);
	n = stun_msg_encode(&in, buf, sizeof(buf));
	cr_assert_gt(n, STUN_HDR_LEN);
	cr_assert_eq(n % 4, 0, "messages are padded to 32 bits");
	cr_assert_eq(pkt_get16(buf + 2), n - STUN_HDR_LEN);
	cr_assert_eq(pkt_get32(buf + 4), STUN_MAGIC);
	cr_assert_eq(pkt_get16(buf + n - 8), STUN_ATTR_FINGERPRINT, "FINGERPRINT is last");
	cr_assert_eq(pkt_get32(buf + n - 4), stun_crc32(buf, (size_t)n - 8) ^ STUN_FP_XOR);
	cr_assert(stun_msg_is_stun(buf, (size_t)n));

	cr_assert_eq(decode_keep(buf, (size_t)n, &out, &keep), 0);
	cr_assert_eq(out.type, in.type);
	cr_assert_eq(memcmp(out.tid, in.tid, STUN_TID_LEN), 0);
	cr_assert_eq(out.has, in.has | STUN_HAS_FINGERPRINT);
	cr_assert(tv_ep_eq(&out.mapped, &in.mapped));
	cr_assert(tv_ep_eq(&out.xor_mapped, &in.xor_mapped));
	cr_assert(tv_ep_eq(&out.response_origin, &in.response_origin));
	cr_assert(tv_ep_eq(&out.other, &in.other));
	cr_assert_eq(out.change, in.change);
	cr_assert_eq(out.response_port, in.response_port);
	cr_assert_eq(out.error_code, 420);
	cr_assert_eq(out.reason_len, in.reason_len);
	cr_assert_eq(memcmp(out.reason, full_reason, in.reason_len), 0);
	cr_assert_eq(out.software_len, in.software_len);
	cr_assert_eq(memcmp(out.software, full_software, in.software_len), 0);
	cr_assert_eq(out.nunknown, 3);
	cr_assert_eq(out.unknown[2], 0x0026);
	cr_assert_eq(out.ncr_unknown, 0);
	free(keep);
}

Test(stun_codec, xor_mapped_address_wire_bytes)
{
	uint8_t buf[STUN_MSG_MAX], tid[STUN_TID_LEN] = { 0 };
	stun_msg m;

	stun_msg_init(&m, STUN_BINDING_SUCCESS, tid);
	m.has = STUN_HAS_XOR_MAPPED;
	m.xor_mapped = th_ep("203.0.113.7:40001");
	cr_assert_eq(stun_msg_encode(&m, buf, sizeof(buf)), STUN_HDR_LEN + 12 + 8);
	cr_assert_eq(pkt_get16(buf + 20), STUN_ATTR_XOR_MAPPED_ADDRESS);
	cr_assert_eq(pkt_get16(buf + 22), 8);
	cr_assert_eq(buf[25], 1, "family IPv4");
	cr_assert_eq(pkt_get16(buf + 26), 40001 ^ (STUN_MAGIC >> 16));
	cr_assert_eq(pkt_get32(buf + 28), 0xcb007107u ^ STUN_MAGIC);
}

Test(stun_codec, round_trip_ipv6_and_minimal)
{
	uint8_t buf[STUN_MSG_MAX], tid[STUN_TID_LEN];
	tv_rng r;
	stun_msg in, out;
	int n;

	tv_rng_seed(&r, 7);
	stun_msg_tid_new(&r, tid);
	stun_msg_init(&in, STUN_BINDING_SUCCESS, tid);
	in.has = STUN_HAS_XOR_MAPPED | STUN_HAS_MAPPED;
	in.xor_mapped.ip = th_ip("2001:db8::1");
	in.xor_mapped.port = 1234;
	in.mapped = in.xor_mapped;
	n = stun_msg_encode(&in, buf, sizeof(buf));
	cr_assert_eq(n, STUN_HDR_LEN + 2 * 24 + 8);
	cr_assert_eq(decode_exact(buf, (size_t)n, &out), 0);
	cr_assert(tv_ep_eq(&out.xor_mapped, &in.xor_mapped));
	cr_assert(tv_ep_eq(&out.mapped, &in.mapped));

	/* A bare request is header plus FINGERPRINT. */
	stun_msg_init(&in, STUN_BINDING_REQUEST, tid);
	n = stun_msg_encode(&in, buf, sizeof(buf));
	cr_assert_eq(n, STUN_HDR_LEN + 8);
	cr_assert_eq(decode_exact(buf, (size_t)n, &out), 0);
	cr_assert_eq(out.has, STUN_HAS_FINGERPRINT);
}

Test(stun_codec, tids_differ_and_follow_the_seed)
{
	uint8_t a[STUN_TID_LEN], b[STUN_TID_LEN], c[STUN_TID_LEN];
	tv_rng r1, r2;

	tv_rng_seed(&r1, 42);
	tv_rng_seed(&r2, 42);
	stun_msg_tid_new(&r1, a);
	stun_msg_tid_new(&r1, b);
	stun_msg_tid_new(&r2, c);
	cr_assert_neq(memcmp(a, b, STUN_TID_LEN), 0);
	cr_assert_eq(memcmp(a, c, STUN_TID_LEN), 0);
}

Test(stun_codec, encode_never_overruns)
{
	uint8_t full[STUN_MSG_MAX];
	int need = encode_full(full, sizeof(full));

	cr_assert_gt(need, 0);
	for (int cap = 0; cap <= need; cap++) {
		uint8_t *buf = malloc(cap ? (size_t)cap : 1);
		int n = encode_full(buf, (size_t)cap);

		if (cap < need)
			cr_assert_eq(n, TV_ENOSPC, "cap %d", cap);
		else
			cr_assert_eq(memcmp(buf, full, (size_t)n), 0);
		free(buf);
	}
}

Test(stun_codec, encode_rejects_bad_fields)
{
	uint8_t buf[STUN_MSG_MAX], tid[STUN_TID_LEN] = { 0 };
	stun_msg m;

	stun_msg_init(&m, STUN_BINDING_ERROR, tid);
	m.has = STUN_HAS_ERROR;
	m.error_code = 200;
	cr_assert_eq(stun_msg_encode(&m, buf, sizeof(buf)), TV_EINVAL);
	stun_msg_init(&m, STUN_BINDING_SUCCESS, tid);
	m.has = STUN_HAS_MAPPED;        /* address family 0 */
	cr_assert_eq(stun_msg_encode(&m, buf, sizeof(buf)), TV_EINVAL);
	stun_msg_init(&m, 0xc001, tid);
	cr_assert_eq(stun_msg_encode(&m, buf, sizeof(buf)), TV_EINVAL);
}

/* ---- malformed input ------------------------------------------------ */

/* Build a message by hand: header, raw attribute bytes, and optionally a
 * correct FINGERPRINT. */
static size_t raw_msg(uint8_t *buf, uint16_t type, const uint8_t *attrs, size_t alen, bool fp)
{
	size_t n = STUN_HDR_LEN + alen;

	pkt_put16(buf, type);
	pkt_put16(buf + 2, (uint16_t)(alen + (fp ? 8 : 0)));
	pkt_put32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, rfc5769_tid, STUN_TID_LEN);
	memcpy(buf + STUN_HDR_LEN, attrs, alen);
	if (fp) {
		pkt_put16(buf + n, STUN_ATTR_FINGERPRINT);
		pkt_put16(buf + n + 2, 4);
		pkt_put32(buf + n + 4, stun_crc32(buf, n) ^ STUN_FP_XOR);
		n += 8;
	}
	return n;
}

Test(stun_codec, rejects_bad_framing)
{
	uint8_t buf[STUN_MSG_MAX];
	stun_msg m;
	int n = encode_full(buf, sizeof(buf));

	cr_assert_eq(decode_exact(buf, 0, &m), TV_EINVAL);
	buf[0] |= 0x80;
	cr_assert_eq(decode_exact(buf, (size_t)n, &m), TV_EINVAL, "top bits set");
	buf[0] &= 0x3f;
	buf[4] ^= 1;
	cr_assert_eq(decode_exact(buf, (size_t)n, &m), TV_EINVAL, "bad cookie");
	buf[4] ^= 1;
	cr_assert_eq(decode_exact(buf, (size_t)n, &m), 0);
	pkt_put16(buf + 2, (uint16_t)(n - STUN_HDR_LEN - 2));
	cr_assert_eq(decode_exact(buf, (size_t)n, &m), TV_EINVAL, "length not a multiple of 4");
	pkt_put16(buf + 2, (uint16_t)(n - STUN_HDR_LEN + 4));
	cr_assert_eq(decode_exact(buf, (size_t)n, &m), TV_EINVAL, "length beyond the datagram");
	pkt_put16(buf + 2, (uint16_t)(n - STUN_HDR_LEN));
	buf[n] = 0;
	cr_assert_eq(decode_exact(buf, (size_t)n + 4, &m), TV_EINVAL, "datagram longer than message");
}

Test(stun_codec, every_truncation_is_rejected)
{
	const struct {
		const uint8_t *p;
		size_t n;
	} vec[] = {
		{ rfc5769_request, sizeof(rfc5769_request) },
		{ rfc5769_resp4, sizeof(rfc5769_resp4) },
		{ rfc5769_resp6, sizeof(rfc5769_resp6) },
	};
	uint8_t full[STUN_MSG_MAX], cut[STUN_MSG_MAX];
	size_t fn = (size_t)encode_full(full, sizeof(full));
	stun_msg m;

	for (size_t v = 0; v < 4; v++) {
		const uint8_t *p = v < 3 ? vec[v].p : full;
		size_t len = v < 3 ? vec[v].n : fn;

		for (size_t n = 0; n < len; n++) {
			cr_assert_eq(decode_exact(p, n, &m), TV_EINVAL, "vector %zu cut at %zu", v, n);
			/* Same cut with the header length made to agree: framing
			 * is then consistent, attributes may overrun. It may even
			 * be valid (a cut between attributes drops FINGERPRINT),
			 * but it must never crash. */
			if (n >= STUN_HDR_LEN && n % 4 == 0) {
				memcpy(cut, p, n);
				pkt_put16(cut + 2, (uint16_t)(n - STUN_HDR_LEN));
				(void)decode_exact(cut, n, &m);
			}
		}
		cr_assert_eq(decode_exact(p, len, &m), 0);
	}
}

Test(stun_codec, rejects_over_long_attributes)
{
	uint8_t buf[STUN_MSG_MAX];
	uint8_t attrs[] = { 0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd', 'e', 0, 0, 0 };
	stun_msg m;
	size_t n;

	n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), true);
	cr_assert_eq(decode_exact(buf, n, &m), 0);
	cr_assert_eq(m.software_len, 5);
	/* Length 9: value plus padding would run into FINGERPRINT's header,
	 * so FINGERPRINT is misparsed and the message rejected. */
	attrs[3] = 9;
	n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), true);
	cr_assert_eq(decode_exact(buf, n, &m), TV_EINVAL);
	attrs[3] = 9;
	n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), false);
	cr_assert_eq(decode_exact(buf, n, &m), TV_EINVAL, "runs past the end");
	attrs[2] = attrs[3] = 0xff;
	n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), false);
	cr_assert_eq(decode_exact(buf, n, &m), TV_EINVAL, "length 65535");
	/* An unknown optional attribute is skipped, but not past the end. */
	attrs[0] = 0xc0;
	attrs[1] = 0x01;
	attrs[2] = 0;
	attrs[3] = 8;
	n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), false);
	cr_assert_eq(decode_exact(buf, n, &m), 0);
	attrs[3] = 12;
	n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), false);
	cr_assert_eq(decode_exact(buf, n, &m), TV_EINVAL);
}

Test(stun_codec, rejects_bad_attribute_values)
{
	static const struct {
		const char *what;
		uint8_t a[24];
		size_t n;
	} bad[] = {
		{ "family 3", { 0x00, 0x01, 0x00, 0x08, 0, 3, 0, 1, 1, 2, 3, 4 }, 12 },
		{ "IPv4 length 12", { 0x00, 0x20, 0x00, 0x0c, 0, 1, 0, 1, 1, 2, 3, 4, 0, 0, 0, 0 }, 16 },
		{ "IPv6 length 8", { 0x80, 0x2c, 0x00, 0x08, 0, 2, 0, 1, 1, 2, 3, 4 }, 12 },
		{ "address length 2", { 0x80, 0x2b, 0x00, 0x02, 0, 1, 0, 0 }, 8 },
		{ "error class 2", { 0x00, 0x09, 0x00, 0x04, 0, 0, 2, 0 }, 8 },
		{ "error number 100", { 0x00, 0x09, 0x00, 0x04, 0, 0, 4, 100 }, 8 },
		{ "error length 2", { 0x00, 0x09, 0x00, 0x02, 0, 0, 0, 0 }, 8 },
		{ "CHANGE-REQUEST length 8", { 0x00, 0x03, 0x00, 0x08, 0, 0, 0, 6, 0, 0, 0, 0 }, 12 },
		{ "RESPONSE-PORT length 3", { 0x00, 0x27, 0x00, 0x03, 0x13, 0x88, 0, 0 }, 8 },
		{ "UNKNOWN-ATTRIBUTES odd", { 0x00, 0x0a, 0x00, 0x03, 0, 0x24, 0, 0 }, 8 },
		{ "FINGERPRINT length 8", { 0x80, 0x28, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0 }, 12 },
		{ "FINGERPRINT wrong", { 0x80, 0x28, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef }, 8 },
	};
	uint8_t buf[STUN_MSG_MAX];
	stun_msg m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = raw_msg(buf, STUN_BINDING_SUCCESS, bad[i].a, bad[i].n, false);
		cr_assert_eq(decode_exact(buf, n, &m), TV_EINVAL, "%s", bad[i].what);
	}
}

Test(stun_codec, fingerprint_checked_when_present)
{
	uint8_t buf[STUN_MSG_MAX];
	stun_msg m;
	int n = encode_full(buf, sizeof(buf));

	/* Without FINGERPRINT (cut and length fixed) the message is fine. */
	pkt_put16(buf + 2, (uint16_t)(n - 8 - STUN_HDR_LEN));
	cr_assert_eq(decode_exact(buf, (size_t)n - 8, &m), 0);
	cr_assert_eq(m.has & STUN_HAS_FINGERPRINT, 0);
	pkt_put16(buf + 2, (uint16_t)(n - STUN_HDR_LEN));
	cr_assert_eq(decode_exact(buf, (size_t)n, &m), 0);

	/* Any flipped bit before or in the CRC is caught. Not in the length
	 * (framing catches that) nor FINGERPRINT's type: it would turn into
	 * an unknown optional attribute, which is skipped. */
	for (int i = 0; i < n; i++) {
		if ((i >= 2 && i < 4) || (i >= n - 8 && i < n - 6))
			continue;
		buf[i] ^= 0x10;
		cr_assert_eq(decode_exact(buf, (size_t)n, &m), TV_EINVAL, "byte %d", i);
		buf[i] ^= 0x10;
	}

	/* Nothing may follow FINGERPRINT. */
	memcpy(buf + n, "\x80\x22\x00\x00", 4);
	pkt_put16(buf + 2, (uint16_t)(n + 4 - STUN_HDR_LEN));
	cr_assert_eq(decode_exact(buf, (size_t)n + 4, &m), TV_EINVAL);
}

Test(stun_codec, first_of_repeated_attributes_wins)
{
	uint8_t buf[STUN_MSG_MAX];
	const uint8_t attrs[] = {
		0x00, 0x27, 0x00, 0x02, 0x13, 0x88, 0, 0,       /* RESPONSE-PORT 5000 */
		0x00, 0x27, 0x00, 0x04, 0x17, 0x70, 0, 0,       /* RESPONSE-PORT 6000 */
	};
	stun_msg m;
	size_t n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), true);

	cr_assert_eq(decode_exact(buf, n, &m), 0);
	cr_assert_eq(m.response_port, 5000);
}

/* A few thousand random mutations of valid messages: flipped bytes,
 * random lengths, sometimes with the FINGERPRINT recomputed so that the
 * mutation reaches the attribute decoders. None may crash or overread. */
Test(stun_codec, random_mutations_never_crash)
{
	uint8_t base[4][STUN_MSG_MAX], buf[STUN_MSG_MAX + 16];
	size_t blen[4];
	tv_rng r;
	stun_msg m;
	int ok = 0;

	blen[0] = (size_t)encode_full(base[0], sizeof(base[0]));
	memcpy(base[1], rfc5769_request, blen[1] = sizeof(rfc5769_request));
	memcpy(base[2], rfc5769_resp4, blen[2] = sizeof(rfc5769_resp4));
	memcpy(base[3], rfc5769_resp6, blen[3] = sizeof(rfc5769_resp6));
	tv_rng_seed(&r, 0x5747);
	for (int iter = 0; iter < 5000; iter++) {
		uint32_t b = tv_rng_below(&r, 4), flips = 1 + tv_rng_below(&r, 4);
		size_t len = blen[b];

		memcpy(buf, base[b], len);
		for (uint32_t f = 0; f < flips; f++) {
			uint32_t what = tv_rng_below(&r, 4);
			size_t at = tv_rng_below(&r, (uint32_t)len);

			if (what == 0)
				buf[at] = (uint8_t)tv_rng_next(&r);
			else if (what == 1)
				buf[at] ^= (uint8_t)(1u << tv_rng_below(&r, 8));
			else if (what == 2 && at >= STUN_HDR_LEN)
				/* an attribute length somewhere */
				pkt_put16(buf + (at & ~(size_t)3) + 2, (uint16_t)tv_rng_next(&r));
			else
				len = STUN_HDR_LEN + 4 * tv_rng_below(&r, (uint32_t)(len - STUN_HDR_LEN) / 4 + 4);
		}
		if (len > STUN_MSG_MAX)
			len = STUN_MSG_MAX;
		if (tv_rng_below(&r, 2) && len >= STUN_HDR_LEN + 8) {
			/* Keep the framing and FINGERPRINT right. */
			buf[0] &= 0x3f;
			pkt_put32(buf + 4, STUN_MAGIC);
			pkt_put16(buf + 2, (uint16_t)(len - STUN_HDR_LEN));
			pkt_put16(buf + len - 8, STUN_ATTR_FINGERPRINT);
			pkt_put16(buf + len - 6, 4);
			pkt_put32(buf + len - 4, stun_crc32(buf, len - 8) ^ STUN_FP_XOR);
		}
		if (decode_exact(buf, len, &m) == 0)
			ok++;
	}
	/* Pure garbage of random lengths, half of it with a valid cookie. */
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = tv_rng_below(&r, 128);

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)tv_rng_next(&r);
		if (len >= STUN_HDR_LEN && (iter & 1)) {
			buf[0] &= 0x3f;
			pkt_put32(buf + 4, STUN_MAGIC);
			pkt_put16(buf + 2, (uint16_t)((len - STUN_HDR_LEN) & ~(size_t)3));
			len = STUN_HDR_LEN + ((len - STUN_HDR_LEN) & ~(size_t)3);
		}
		if (decode_exact(buf, len, &m) == 0)
			ok++;
	}
	/* Some mutations must have got through, or the test is not reaching
	 * the attribute decoders. */
	cr_assert_gt(ok, 100, "only %d mutated messages decoded", ok);
}

Test(stun_codec, names)
{
	enum stun_class c;
	enum stun_class_kind k;
	static const struct {
		const char *s;
		enum stun_class c;
		enum stun_class_kind k;
	} names[] = {
		{ "eim", STUN_ENDPOINT_INDEPENDENT, STUN_KIND_MAPPING },
		{ "adm", STUN_ADDRESS_DEPENDENT, STUN_KIND_MAPPING },
		{ "apdm", STUN_ADDRESS_AND_PORT_DEPENDENT, STUN_KIND_MAPPING },
		{ "eif", STUN_ENDPOINT_INDEPENDENT, STUN_KIND_FILTERING },
		{ "adf", STUN_ADDRESS_DEPENDENT, STUN_KIND_FILTERING },
		{ "APDF", STUN_ADDRESS_AND_PORT_DEPENDENT, STUN_KIND_FILTERING },
		{ "endpoint-independent", STUN_ENDPOINT_INDEPENDENT, STUN_KIND_ANY },
		{ "address-dependent", STUN_ADDRESS_DEPENDENT, STUN_KIND_ANY },
		{ "address-and-port-dependent", STUN_ADDRESS_AND_PORT_DEPENDENT, STUN_KIND_ANY },
		{ "unknown", STUN_UNKNOWN, STUN_KIND_ANY },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cr_assert_eq(stun_class_parse(names[i].s, &c, &k), 0, "%s", names[i].s);
		cr_assert_eq(c, names[i].c, "%s", names[i].s);
		cr_assert_eq(k, names[i].k, "%s", names[i].s);
		if (k == STUN_KIND_ANY)
			cr_assert_str_eq(stun_class_name(c), names[i].s);
		else
			cr_assert_eq(strcasecmp(stun_class_short(c, k), names[i].s), 0);
	}
	cr_assert_eq(stun_class_parse("eimx", &c, NULL), TV_EINVAL);
	cr_assert_eq(stun_class_parse("", &c, NULL), TV_EINVAL);
	cr_assert_str_eq(stun_class_name((enum stun_class)99), "unknown");
	cr_assert_null(stun_class_short(STUN_UNKNOWN, STUN_KIND_MAPPING));
	cr_assert_null(stun_class_short(STUN_ENDPOINT_INDEPENDENT, STUN_KIND_ANY));
	cr_assert_str_eq(stun_msg_type_name(STUN_BINDING_SUCCESS), "Binding Success Response");
	cr_assert_str_eq(stun_msg_type_name(0x0003), "unknown");
}

/* ---- server ---------------------------------------------------------- */

struct sim {
	sim_net *net;
	sim_link *lan, *wan;
	tv_host *srv, *cli;
	stun_server *stun;
};

static const sim_link_cfg lan_cfg = { .delay = TV_MS(1) };

/* Client and server on one link, no NAT. alt: give the server its second
 * address and port. */
static void sim_flat(struct sim *s, bool alt)
{
	tv_ip ip1 = th_ip("10.0.0.1"), ip2 = th_ip("10.0.0.2"), cip = th_ip("10.0.0.10");
	int err;

	memset(s, 0, sizeof(*s));
	s->net = sim_net_new(1);
	s->lan = sim_link_new(s->net, "lan", &lan_cfg);
	s->srv = simhost_new(s->net, s->lan, "srv", &ip1);
	s->cli = simhost_new(s->net, s->lan, "cli", &cip);
	cr_assert(s->net && s->lan && s->srv && s->cli);
	if (alt)
		cr_assert_eq(simhost_add_ip(s->srv, &ip2), 0);
	s->stun = stun_server_new(s->srv, &ip1, alt ? &ip2 : NULL, 3478, 3479, &err);
	cr_assert_not_null(s->stun, "stun_server_new: %d", err);
}

static void sim_free(struct sim *s)
{
	stun_server_free(s->stun);
	host_free(s->cli);
	host_free(s->srv);
	sim_net_free(s->net);
}

/* What a client socket received: the last datagram, decoded. */
struct cap {
	int n;
	tv_ep from;
	uint8_t buf[STUN_MSG_MAX];
	size_t len;
	int rc;
	stun_msg m;
};

static void cap_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	struct cap *c = arg;

	(void)s;
	(void)now;
	c->n++;
	c->from = *from;
	c->len = len < sizeof(c->buf) ? len : sizeof(c->buf);
	memcpy(c->buf, data, c->len);
	c->rc = stun_msg_decode(c->buf, c->len, &c->m);
}

static tv_udp *cap_bind(tv_host *h, struct cap *c)
{
	int err;
	tv_udp *u;

	memset(c, 0, sizeof(*c));
	u = host_udp_bind(h, NULL, cap_rx, c, &err);
	cr_assert_not_null(u);
	return u;
}

static void send_req(tv_udp *u, const char *to, uint8_t change, uint16_t rport, uint8_t tid[STUN_TID_LEN])
{
	uint8_t buf[STUN_MSG_MAX];
	stun_msg m;
	tv_ep dst = th_ep(to);
	int n;

	stun_msg_tid_new(host_rng(host_udp_host(u)), tid);
	stun_msg_init(&m, STUN_BINDING_REQUEST, tid);
	if (change) {
		m.has |= STUN_HAS_CHANGE;
		m.change = change;
	}
	if (rport) {
		m.has |= STUN_HAS_RESPONSE_PORT;
		m.response_port = rport;
	}
	n = stun_msg_encode(&m, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(host_udp_send(u, &dst, buf, (size_t)n), 0);
}

static void run_for(struct sim *s, tv_time d)
{
	sim_net_run_until(s->net, sim_net_now(s->net) + d);
}

Test(stun_server, answers_with_xor_mapped_address)
{
	struct sim s;
	struct cap c;
	uint8_t tid[STUN_TID_LEN];
	tv_udp *u;
	tv_ep local, want_origin = th_ep("10.0.0.1:3478"), want_other = th_ep("10.0.0.2:3479");
	const stun_server_stats *st;

	sim_flat(&s, true);
	u = cap_bind(s.cli, &c);
	local = host_udp_local(u);
	send_req(u, "10.0.0.1:3478", 0, 0, tid);
	run_for(&s, TV_MS(10));
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.rc, 0);
	cr_assert_eq(c.m.type, STUN_BINDING_SUCCESS);
	cr_assert_eq(memcmp(c.m.tid, tid, STUN_TID_LEN), 0);
	cr_assert(c.m.has & STUN_HAS_FINGERPRINT);
	cr_assert(c.m.has & STUN_HAS_SOFTWARE);
	cr_assert(tv_ep_eq(&c.m.xor_mapped, &local));
	cr_assert(tv_ep_eq(&c.m.mapped, &local));
	cr_assert(tv_ep_eq(&c.m.response_origin, &want_origin));
	cr_assert(tv_ep_eq(&c.m.other, &want_other));
	cr_assert(tv_ep_eq(&c.from, &want_origin));
	st = stun_server_stats_get(s.stun);
	cr_assert_eq(st->rx, 1);
	cr_assert_eq(st->requests, 1);
	cr_assert_eq(st->success, 1);
	cr_assert_eq(st->malformed, 0);
	host_udp_close(u);
	sim_free(&s);
}

Test(stun_server, honors_change_request)
{
	static const struct {
		const char *to;
		uint8_t change;
		const char *from;
	} cases[] = {
		{ "10.0.0.1:3478", 0, "10.0.0.1:3478" },
		{ "10.0.0.1:3478", STUN_CHANGE_PORT, "10.0.0.1:3479" },
		{ "10.0.0.1:3478", STUN_CHANGE_IP, "10.0.0.2:3478" },
		{ "10.0.0.1:3478", STUN_CHANGE_IP | STUN_CHANGE_PORT, "10.0.0.2:3479" },
		{ "10.0.0.2:3479", STUN_CHANGE_IP | STUN_CHANGE_PORT, "10.0.0.1:3478" },
		{ "10.0.0.2:3478", STUN_CHANGE_PORT, "10.0.0.2:3479" },
		{ "10.0.0.1:3479", STUN_CHANGE_IP, "10.0.0.2:3479" },
	};
	struct sim s;
	struct cap c;
	uint8_t tid[STUN_TID_LEN];
	tv_udp *u;

	sim_flat(&s, true);
	u = cap_bind(s.cli, &c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tv_ep want = th_ep(cases[i].from), local = host_udp_local(u);

		c.n = 0;
		send_req(u, cases[i].to, cases[i].change, 0, tid);
		run_for(&s, TV_MS(10));
		cr_assert_eq(c.n, 1, "case %zu", i);
		cr_assert_eq(memcmp(c.m.tid, tid, STUN_TID_LEN), 0);
		cr_assert(tv_ep_eq(&c.from, &want), "case %zu", i);
		cr_assert(tv_ep_eq(&c.m.response_origin, &want), "case %zu", i);
		cr_assert(tv_ep_eq(&c.m.xor_mapped, &local));
	}
	cr_assert_eq(stun_server_stats_get(s.stun)->change_ip, 4);
	cr_assert_eq(stun_server_stats_get(s.stun)->change_port, 4);
	host_udp_close(u);
	sim_free(&s);
}

Test(stun_server, honors_response_port)
{
	struct sim s;
	struct cap c1, c2;
	uint8_t tid[STUN_TID_LEN];
	tv_udp *u1, *u2;
	tv_ep l1, l2;

	sim_flat(&s, true);
	u1 = cap_bind(s.cli, &c1);
	u2 = cap_bind(s.cli, &c2);
	l1 = host_udp_local(u1);
	l2 = host_udp_local(u2);
	send_req(u1, "10.0.0.1:3478", 0, l2.port, tid);
	run_for(&s, TV_MS(10));
	cr_assert_eq(c1.n, 0, "the response goes to RESPONSE-PORT, not the source port");
	cr_assert_eq(c2.n, 1);
	cr_assert_eq(memcmp(c2.m.tid, tid, STUN_TID_LEN), 0);
	cr_assert(tv_ep_eq(&c2.m.xor_mapped, &l1), "the mapped address is still the source's");
	cr_assert_eq(stun_server_stats_get(s.stun)->response_port, 1);

	/* Combined with CHANGE-REQUEST. */
	send_req(u1, "10.0.0.1:3478", STUN_CHANGE_IP, l2.port, tid);
	run_for(&s, TV_MS(10));
	cr_assert_eq(c2.n, 2);
	cr_assert_eq(c2.from.ip.v4, th_ip("10.0.0.2").v4);

	/* RESPONSE-PORT 0 is an error, sent back to the source. */
	send_req(u1, "10.0.0.1:3478", 0, 0, tid);
	run_for(&s, TV_MS(10));
	cr_assert_eq(c1.n, 1);
	{
		uint8_t buf[STUN_MSG_MAX];
		const uint8_t attrs[] = { 0x00, 0x27, 0x00, 0x02, 0, 0, 0, 0 };
		size_t n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), true);
		tv_ep dst = th_ep("10.0.0.1:3478");

		cr_assert_eq(host_udp_send(u1, &dst, buf, n), 0);
		run_for(&s, TV_MS(10));
		cr_assert_eq(c1.n, 2);
		cr_assert_eq(c1.m.type, STUN_BINDING_ERROR);
		cr_assert_eq(c1.m.error_code, 400);
	}
	host_udp_close(u2);
	host_udp_close(u1);
	sim_free(&s);
}

Test(stun_server, drops_malformed_and_counts)
{
	struct sim s;
	struct cap c;
	tv_udp *u;
	uint8_t buf[STUN_MSG_MAX];
	tv_ep dst = th_ep("10.0.0.1:3478");
	int n;
	const stun_server_stats *st;

	sim_flat(&s, true);
	u = cap_bind(s.cli, &c);
	cr_assert_eq(host_udp_send(u, &dst, "hello, world", 12), 0);
	n = encode_full(buf, sizeof(buf));
	cr_assert_eq(host_udp_send(u, &dst, buf, (size_t)n - 1), 0);
	buf[30] ^= 1;           /* FINGERPRINT no longer matches */
	cr_assert_eq(host_udp_send(u, &dst, buf, (size_t)n), 0);
	buf[30] ^= 1;
	/* A well-formed error response is not a request: ignored. */
	cr_assert_eq(host_udp_send(u, &dst, buf, (size_t)n), 0);
	run_for(&s, TV_MS(10));
	cr_assert_eq(c.n, 0);
	st = stun_server_stats_get(s.stun);
	cr_assert_eq(st->rx, 4);
	cr_assert_eq(st->malformed, 3);
	cr_assert_eq(st->ignored, 1);
	cr_assert_eq(st->requests, 0);
	host_udp_close(u);
	sim_free(&s);
}

Test(stun_server, unknown_required_attribute_gets_420)
{
	struct sim s;
	struct cap c;
	tv_udp *u;
	uint8_t buf[STUN_MSG_MAX];
	const uint8_t attrs[] = { 0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4, 0x80, 0x29, 0x00, 0x00 };
	size_t n = raw_msg(buf, STUN_BINDING_REQUEST, attrs, sizeof(attrs), true);
	tv_ep dst = th_ep("10.0.0.1:3478");

	sim_flat(&s, true);
	u = cap_bind(s.cli, &c);
	cr_assert_eq(host_udp_send(u, &dst, buf, n), 0);
	run_for(&s, TV_MS(10));
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m.type, STUN_BINDING_ERROR);
	cr_assert_eq(c.m.error_code, 420);
	cr_assert_eq(c.m.nunknown, 1);
	cr_assert_eq(c.m.unknown[0], 0x0024);
	cr_assert_eq(memcmp(c.m.tid, rfc5769_tid, STUN_TID_LEN), 0);
	cr_assert_eq(stun_server_stats_get(s.stun)->errors, 1);
	host_udp_close(u);
	sim_free(&s);
}

Test(stun_server, single_address_server)
{
	struct sim s;
	struct cap c;
	uint8_t tid[STUN_TID_LEN];
	tv_udp *u;

	sim_flat(&s, false);
	u = cap_bind(s.cli, &c);
	send_req(u, "10.0.0.1:3478", 0, 0, tid);
	run_for(&s, TV_MS(10));
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m.type, STUN_BINDING_SUCCESS);
	cr_assert_eq(c.m.has & STUN_HAS_OTHER, 0);
	send_req(u, "10.0.0.1:3478", STUN_CHANGE_PORT, 0, tid);
	run_for(&s, TV_MS(10));
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m.type, STUN_BINDING_ERROR);
	cr_assert_eq(c.m.error_code, 420);
	cr_assert_eq(c.m.unknown[0], STUN_ATTR_CHANGE_REQUEST);
	host_udp_close(u);
	sim_free(&s);
}

Test(stun_server, bind_failures)
{
	struct sim s;
	tv_ip ip1 = th_ip("10.0.0.1"), ip2 = th_ip("10.0.0.2"), other = th_ip("10.0.0.99");
	int err = 0;

	sim_flat(&s, true);
	cr_assert_null(stun_server_new(s.srv, &ip1, &ip2, 3478, 3479, &err));
	cr_assert_eq(err, TV_EEXIST);
	/* The first three sockets bind, the fourth fails: all released. */
	cr_assert_null(stun_server_new(s.srv, &ip1, &ip2, 5000, 3479, &err));
	cr_assert_eq(err, TV_EEXIST);
	cr_assert_null(stun_server_new(s.srv, &ip1, &other, 5000, 5001, &err));
	cr_assert_eq(err, TV_EINVAL);
	cr_assert_null(stun_server_new(s.srv, &ip1, &ip2, 5000, 5000, &err));
	cr_assert_eq(err, TV_EINVAL);
	sim_free(&s);
	/* Leaks, if any, are ASan's to report. */
}

/* ---- probe, no NAT --------------------------------------------------- */

static stun_probe *probe_start(struct sim *s, const char *server, const stun_probe_cfg *cfg)
{
	tv_ep srv = th_ep(server);
	int err;
	stun_probe *p = stun_probe_start(s->cli, &srv, cfg, &err);

	cr_assert_not_null(p, "stun_probe_start: %d", err);
	return p;
}

/* Run until the probe is done, at most limit of virtual time. */
static const stun_probe_result *probe_run(struct sim *s, stun_probe *p, tv_time limit)
{
	const stun_probe_result *r = stun_probe_result_get(p);
	tv_time end = sim_net_now(s->net) + limit;

	while (!r->done && sim_net_now(s->net) < end)
		run_for(s, TV_SEC(1));
	cr_assert(r->done, "probe still running after the limit");
	return r;
}

Test(stun_probe, no_nat)
{
	struct sim s;
	stun_probe *p;
	const stun_probe_result *r;

	sim_flat(&s, true);
	p = probe_start(&s, "10.0.0.1:3478", NULL);
	r = probe_run(&s, p, TV_SEC(10));
	cr_assert_str_empty(r->error, "error: %s", r->error);
	cr_assert_not(r->nat);
	cr_assert(tv_ep_eq(&r->local, &r->mapped));
	cr_assert_eq(r->local.ip.v4, th_ip("10.0.0.10").v4);
	cr_assert_eq(r->mapping, STUN_ENDPOINT_INDEPENDENT);
	cr_assert_eq(r->filtering, STUN_ENDPOINT_INDEPENDENT);
	cr_assert(r->hairpinning);
	cr_assert_not(r->lifetime_tested);
	cr_assert_eq(r->lifetime, 0);
	/* Nothing timed out: a handful of round trips. */
	cr_assert_lt(r->finished - r->started, TV_MS(50));
	stun_probe_free(p);
	sim_free(&s);
}

Test(stun_probe, no_nat_lifetime_is_max)
{
	struct sim s;
	stun_probe *p;
	const stun_probe_result *r;
	stun_probe_cfg cfg = { .test_lifetime = true, .lifetime_max = TV_SEC(7200),
			       .lifetime_resolution = TV_SEC(1) };

	sim_flat(&s, true);
	p = probe_start(&s, "10.0.0.1:3478", &cfg);
	r = probe_run(&s, p, TV_SEC(4 * 3600));
	cr_assert_str_empty(r->error, "error: %s", r->error);
	cr_assert(r->lifetime_tested);
	cr_assert_eq(r->lifetime, TV_SEC(7200));
	/* Trials of 1, 4, 16 ... 4096 s, then 7200 s. */
	cr_assert_geq(r->finished - r->started, TV_SEC(5461 + 7200));
	cr_assert_lt(r->finished - r->started, TV_SEC(5461 + 7200 + 10));
	stun_probe_free(p);
	sim_free(&s);
}

Test(stun_probe, no_server_times_out)
{
	struct sim s;
	stun_probe *p;
	const stun_probe_result *r;

	sim_flat(&s, true);
	p = probe_start(&s, "10.0.0.77:3478", NULL);
	r = probe_run(&s, p, TV_SEC(10));
	cr_assert_str_eq(r->error, "mapping test I: no response");
	cr_assert_eq(r->mapping, STUN_UNKNOWN);
	cr_assert_eq(r->filtering, STUN_UNKNOWN);
	/* RTO 100 ms, 5 sends, then 16 RTO: 3.1 s. */
	cr_assert_eq(r->finished - r->started, TV_MS(3100));
	stun_probe_free(p);
	sim_free(&s);
}

Test(stun_probe, server_without_alternate_address)
{
	struct sim s;
	stun_probe *p;
	const stun_probe_result *r;

	sim_flat(&s, false);
	p = probe_start(&s, "10.0.0.1:3478", NULL);
	r = probe_run(&s, p, TV_SEC(10));
	cr_assert(strstr(r->error, "OTHER-ADDRESS"), "error: %s", r->error);
	cr_assert_not(r->nat);
	cr_assert_eq(r->mapping, STUN_ENDPOINT_INDEPENDENT);
	cr_assert_eq(r->filtering, STUN_UNKNOWN);
	stun_probe_free(p);
	sim_free(&s);
}

Test(stun_probe, survives_loss)
{
	struct sim s;
	stun_probe *p;
	const stun_probe_result *r;
	sim_link_cfg lossy = { .delay = TV_MS(5), .jitter = TV_MS(3), .loss = 0.15 };

	sim_flat(&s, true);
	sim_link_set_cfg(s.lan, &lossy);
	p = probe_start(&s, "10.0.0.1:3478", NULL);
	r = probe_run(&s, p, TV_SEC(20));
	cr_assert_str_empty(r->error, "error: %s", r->error);
	cr_assert_eq(r->mapping, STUN_ENDPOINT_INDEPENDENT);
	cr_assert_eq(r->filtering, STUN_ENDPOINT_INDEPENDENT);
	cr_assert_gt(sim_link_stats_get(s.lan)->lost, 0);
	stun_probe_free(p);
	sim_free(&s);
}

Test(stun_probe, free_while_running)
{
	struct sim s;
	stun_probe *p;

	sim_flat(&s, true);
	simhost_set_icmp(s.cli, false);
	p = probe_start(&s, "10.0.0.1:3478", NULL);
	run_for(&s, TV_US(1500));
	stun_probe_free(p);
	/* Responses in flight now reach a closed port; the timer is gone. */
	run_for(&s, TV_SEC(10));
	sim_free(&s);
}

static void free_on_done(void *arg, const stun_probe_result *r)
{
	stun_probe **pp = arg;

	cr_assert(r->done);
	stun_probe_free(*pp);
	*pp = NULL;
}

Test(stun_probe, on_done_may_free)
{
	struct sim s;
	stun_probe *p;
	stun_probe_cfg cfg = { .on_done = free_on_done };

	cfg.arg = &p;
	sim_flat(&s, true);
	p = probe_start(&s, "10.0.0.1:3478", &cfg);
	run_for(&s, TV_SEC(10));
	cr_assert_null(p);
	sim_free(&s);
}

/* ---- probe behind the fake NAT -------------------------------------- */

#define FNAT_MAX 64

struct fnat_binding {
	tv_ep priv;             /* inside endpoint */
	tv_ep dst;              /* the mapping key's remote part (per mapping class) */
	uint16_t port;          /* public port */
	tv_time expires;
	tv_ep peers[16];        /* where it sent to (for filtering) */
	int npeers;
};

struct fnat {
	sim_net *net;
	sim_iface *in, *out;
	tv_ip pub;
	enum stun_class map, filt;
	bool hairpin;
	tv_time timeout;
	tv_ip blackhole;        /* outbound packets to it are dropped */
	uint16_t next_port;
	struct fnat_binding b[FNAT_MAX];
	int nb;
};

static bool fnat_key_eq(const struct fnat *n, const struct fnat_binding *b, const tv_ep *priv, const tv_ep *dst)
{
	if (!tv_ep_eq(&b->priv, priv))
		return false;
	if (n->map == STUN_ADDRESS_DEPENDENT)
		return tv_ip_eq(&b->dst.ip, &dst->ip);
	if (n->map == STUN_ADDRESS_AND_PORT_DEPENDENT)
		return tv_ep_eq(&b->dst, dst);
	return true;
}

/* The binding for an outbound packet, made if needed and refreshed. */
static struct fnat_binding *fnat_out(struct fnat *n, const tv_ep *priv, const tv_ep *dst, tv_time now)
{
	struct fnat_binding *b = NULL;

	for (int i = 0; i < n->nb; i++)
		if (n->b[i].expires > now && fnat_key_eq(n, &n->b[i], priv, dst))
			b = &n->b[i];
	if (!b) {
		cr_assert_lt(n->nb, FNAT_MAX);
		b = &n->b[n->nb++];
		memset(b, 0, sizeof(*b));
		b->priv = *priv;
		b->dst = *dst;
		b->port = n->next_port++;
	}
	b->expires = now + n->timeout;
	for (int i = 0; i < b->npeers; i++)
		if (tv_ep_eq(&b->peers[i], dst))
			return b;
	if (b->npeers < 16)
		b->peers[b->npeers++] = *dst;
	return b;
}

/* The binding an inbound packet may use, or NULL (dropped). */
static struct fnat_binding *fnat_in(struct fnat *n, const tv_ep *src, uint16_t port, tv_time now)
{
	for (int i = 0; i < n->nb; i++) {
		struct fnat_binding *b = &n->b[i];

		if (b->port != port || b->expires <= now)
			continue;
		for (int j = 0; j < b->npeers; j++) {
			if (n->filt == STUN_ENDPOINT_INDEPENDENT ||
			    (n->filt == STUN_ADDRESS_DEPENDENT && tv_ip_eq(&b->peers[j].ip, &src->ip)) ||
			    tv_ep_eq(&b->peers[j], src))
				return b;
		}
	}
	return NULL;
}

static void fnat_rx_in(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len)
{
	struct fnat *n = node;
	struct fnat_binding *b, *to;
	pkt_info pi;
	tv_ep src;

	(void)ifc;
	if (pkt_parse(pkt, len, &pi) < 0 || pi.proto != TV_PROTO_UDP || tv_ip_eq(&pi.dst.ip, &n->blackhole))
		return;
	b = fnat_out(n, &pi.src, &pi.dst, now);
	src = tv_ep4(n->pub.v4, b->port);
	if (!tv_ip_eq(&pi.dst.ip, &n->pub)) {
		pkt_rewrite_src(pkt, &pi, &src);
		sim_iface_send(n->out, pkt, len);
		return;
	}
	/* Hairpin: out and straight back in. */
	if (!n->hairpin || !(to = fnat_in(n, &src, pi.dst.port, now)))
		return;
	pkt_rewrite_src(pkt, &pi, &src);
	pkt_rewrite_dst(pkt, &pi, &to->priv);
	sim_iface_send(n->in, pkt, len);
}

static void fnat_rx_out(void *node, sim_iface *ifc, tv_time now, uint8_t *pkt, size_t len)
{
	struct fnat *n = node;
	struct fnat_binding *b;
	pkt_info pi;

	(void)ifc;
	if (pkt_parse(pkt, len, &pi) < 0 || pi.proto != TV_PROTO_UDP)
		return;
	if (!(b = fnat_in(n, &pi.src, pi.dst.port, now)))
		return;
	pkt_rewrite_dst(pkt, &pi, &b->priv);
	sim_iface_send(n->in, pkt, len);
}

struct natsim {
	struct sim s;
	struct fnat nat;
};

static void sim_natted(struct natsim *ns, enum stun_class map, enum stun_class filt, bool hairpin,
		       tv_time timeout)
{
	struct sim *s = &ns->s;
	struct fnat *n = &ns->nat;
	tv_ip ip1 = th_ip("198.51.100.1"), ip2 = th_ip("198.51.100.2"), cip = th_ip("192.168.1.10");
	int err;

	memset(ns, 0, sizeof(*ns));
	s->net = sim_net_new(3);
	s->lan = sim_link_new(s->net, "lan", &lan_cfg);
	s->wan = sim_link_new(s->net, "wan", &lan_cfg);
	n->net = s->net;
	n->pub = th_ip("203.0.113.1");
	n->map = map;
	n->filt = filt;
	n->hairpin = hairpin;
	n->timeout = timeout;
	n->next_port = 20000;
	n->in = sim_iface_new(s->lan, n, fnat_rx_in);
	n->out = sim_iface_new(s->wan, n, fnat_rx_out);
	cr_assert_eq(sim_iface_add_ip(n->out, &n->pub), 0);
	sim_link_set_gateway(s->lan, n->in);
	s->srv = simhost_new(s->net, s->wan, "srv", &ip1);
	s->cli = simhost_new(s->net, s->lan, "cli", &cip);
	cr_assert(s->srv && s->cli);
	cr_assert_eq(simhost_add_ip(s->srv, &ip2), 0);
	s->stun = stun_server_new(s->srv, &ip1, &ip2, 3478, 3479, &err);
	cr_assert_not_null(s->stun);
}

Test(stun_probe, classifies_every_nat_behaviour)
{
	static const enum stun_class cls[] = {
		STUN_ENDPOINT_INDEPENDENT, STUN_ADDRESS_DEPENDENT, STUN_ADDRESS_AND_PORT_DEPENDENT,
	};

	for (int mi = 0; mi < 3; mi++) {
		for (int fi = 0; fi < 3; fi++) {
			struct natsim ns;
			stun_probe *p;
			const stun_probe_result *r;

			sim_natted(&ns, cls[mi], cls[fi], true, TV_SEC(120));
			p = probe_start(&ns.s, "198.51.100.1:3478", NULL);
			r = probe_run(&ns.s, p, TV_SEC(20));
			cr_assert_str_empty(r->error, "%d/%d: %s", mi, fi, r->error);
			cr_assert(r->nat);
			cr_assert_eq(r->mapped.ip.v4, ns.nat.pub.v4);
			cr_assert_eq(r->local.ip.v4, th_ip("192.168.1.10").v4);
			cr_assert_eq(r->mapping, cls[mi], "mapping %s, want %s", stun_class_name(r->mapping),
				     stun_class_name(cls[mi]));
			cr_assert_eq(r->filtering, cls[fi], "filtering %s, want %s",
				     stun_class_name(r->filtering), stun_class_name(cls[fi]));
			/* The fake NAT filters hairpinned packets too. */
			cr_assert_eq(r->hairpinning, cls[fi] == STUN_ENDPOINT_INDEPENDENT);
			stun_probe_free(p);
			sim_free(&ns.s);
		}
	}
}

Test(stun_probe, no_hairpinning)
{
	struct natsim ns;
	stun_probe *p;
	const stun_probe_result *r;

	sim_natted(&ns, STUN_ENDPOINT_INDEPENDENT, STUN_ENDPOINT_INDEPENDENT, false, TV_SEC(120));
	p = probe_start(&ns.s, "198.51.100.1:3478", NULL);
	r = probe_run(&ns.s, p, TV_SEC(20));
	cr_assert_str_empty(r->error, "%s", r->error);
	cr_assert_not(r->hairpinning);
	cr_assert_eq(r->filtering, STUN_ENDPOINT_INDEPENDENT);
	stun_probe_free(p);
	sim_free(&ns.s);
}

Test(stun_probe, alternate_address_unreachable)
{
	struct natsim ns;
	stun_probe *p;
	const stun_probe_result *r;

	sim_natted(&ns, STUN_ADDRESS_DEPENDENT, STUN_ENDPOINT_INDEPENDENT, true, TV_SEC(120));
	ns.nat.blackhole = th_ip("198.51.100.2");
	p = probe_start(&ns.s, "198.51.100.1:3478", NULL);
	r = probe_run(&ns.s, p, TV_SEC(20));
	cr_assert_str_eq(r->error, "mapping test II: no response");
	cr_assert(r->nat);
	cr_assert_eq(r->mapping, STUN_UNKNOWN);
	/* The other tests still ran: replies from the alternate address
	 * come in, only requests to it are lost. */
	cr_assert_eq(r->filtering, STUN_ENDPOINT_INDEPENDENT);
	cr_assert(r->hairpinning);
	stun_probe_free(p);
	sim_free(&ns.s);
}

Test(stun_probe, finds_binding_lifetime)
{
	static const struct {
		tv_time timeout, max, res, want, took;
	} cases[] = {
		/* A binding made at t0 dies at t0 + timeout; the check arrives
		 * a few ms after T, so T = timeout - res is the last survivor.
		 * took bounds the probe's whole run, including about 9.3 s of
		 * time-outs in the hairpinning and filtering tests (the fake
		 * NAT filters by address and port). */
		{ TV_SEC(30), TV_SEC(7200), TV_SEC(1), TV_SEC(29), TV_SEC(330) },
		{ TV_SEC(30), TV_SEC(120), TV_SEC(5), TV_SEC(25), TV_SEC(300) },
		{ TV_SEC(300), TV_SEC(120), TV_SEC(1), TV_SEC(120), TV_SEC(300) },
		{ TV_MS(500), TV_SEC(60), TV_SEC(1), 0, TV_SEC(14) },
		{ TV_SEC(3600), TV_SEC(7200), TV_SEC(10), TV_SEC(3590), TV_SEC(47000) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct natsim ns;
		stun_probe *p;
		const stun_probe_result *r;
		stun_probe_cfg cfg = { .test_lifetime = true, .lifetime_max = cases[i].max,
				       .lifetime_resolution = cases[i].res };

		sim_natted(&ns, STUN_ENDPOINT_INDEPENDENT, STUN_ADDRESS_AND_PORT_DEPENDENT, true,
			   cases[i].timeout);
		p = probe_start(&ns.s, "198.51.100.1:3478", &cfg);
		r = probe_run(&ns.s, p, cases[i].took);
		cr_assert(r->lifetime_tested, "case %zu: %s", i, r->error);
		cr_assert_eq(r->lifetime, cases[i].want, "case %zu: lifetime %lld", i, (long long)r->lifetime);
		cr_assert_lt(r->finished - r->started, cases[i].took, "case %zu took %lld us", i,
			     (long long)(r->finished - r->started));
		stun_probe_free(p);
		sim_free(&ns.s);
	}
}
