/* test_auth.c - digest authentication (RFC 3261 22, RFC 2617 with MD5 and
 * qop=auth): the digest itself (simterm/digest.c) against RFC 2617's
 * example.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "harness.h"
#include "host.h"
#include "sipmsg.h"
#include "sipua.h"

#define IP_SS "10.0.0.1"
#define IP_A "10.0.0.10"
#define IP_B "10.0.0.20"
#define IP_P "10.0.0.99"
#define PROBE_MAX 48

/* ---- the digest ------------------------------------------------------------ */

Test(auth_digest, rfc2617_example)
{
	char out[DIGEST_HEX_LEN + 1];
	digest_in in = {
		.user = "Mufasa", .realm = "testrealm@host.com", .password = "Circle Of Life",
		.method = "GET", .uri = "/dir/index.html", .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		.nc = "00000001", .cnonce = "0a4f113b",
	};

	digest_response(&in, out);
	cr_assert_str_eq(out, "6629fae49393a05397450978507c4ef1");
	in.nc = "00000002";
	digest_response(&in, out);
	cr_assert_str_neq(out, "6629fae49393a05397450978507c4ef1", "nc is part of the digest");
}

Test(auth_digest, unquote)
{
	char out[8];

	cr_assert_eq(digest_unquote("\"abc\"", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "abc");
	cr_assert_eq(digest_unquote("auth", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "auth");
	cr_assert_eq(digest_unquote("\"a\\\"b\"", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a\"b");
	cr_assert_eq(digest_unquote("\"\"", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(digest_unquote("\"abc", out, sizeof(out)), TV_EINVAL);
	cr_assert_eq(digest_unquote("\"abc\\", out, sizeof(out)), TV_EINVAL);
	cr_assert_eq(digest_unquote("\"a\"b", out, sizeof(out)), TV_EINVAL);
	cr_assert_eq(digest_unquote("", out, sizeof(out)), TV_EINVAL);
	cr_assert_eq(digest_unquote(NULL, out, sizeof(out)), TV_EINVAL);
	cr_assert_eq(digest_unquote("\"12345678\"", out, sizeof(out)), TV_ENOSPC);
	cr_assert_eq(digest_unquote("12345678", out, sizeof(out)), TV_ENOSPC);
}

