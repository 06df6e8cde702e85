/* digest.h - HTTP Digest authentication (RFC 2617) as SIP uses it (RFC
 * 3261 22.4): MD5 and qop=auth only, no auth-int, no MD5-sess, no SHA-256
 * (RFC 8760). Shared by the phone (sipua_auth.c) and the softswitch
 * (ss_auth.c); MD5 itself is libosip2's (osipparser2/osip_md5.h).
 *
 * libosip2 parses Authorization, Proxy-Authorization, WWW-Authenticate and
 * Proxy-Authenticate into fields kept as written, quoted-strings with
 * their quotes; digest_unquote reads such a field. */
#ifndef TV_DIGEST_H
#define TV_DIGEST_H

#include <stddef.h>

#include "tv.h"

#define DIGEST_HEX_LEN 32               /* an MD5 digest in lowercase hex */

/* What request-digest (RFC 2617 3.2.2.1) is computed over, with qop=auth:
 * A1 = user:realm:password, A2 = method:uri. nc is the 8 hex digits as
 * written. */
typedef struct digest_in {
	const char *user, *realm, *password;
	const char *method, *uri;
	const char *nonce, *nc, *cnonce;
} digest_in;

/* KD(H(A1), nonce:nc:cnonce:auth:H(A2)) in lowercase hex into out. */
void digest_response(const digest_in *in, char out[DIGEST_HEX_LEN + 1]);

/* A field as libosip2 keeps it: a quoted-string loses its quotes and its
 * backslash escapes (RFC 3261 25.1), a token is copied. Into out (cap
 * bytes). 0; TV_EINVAL if v is NULL, empty, or an unterminated
 * quoted-string; TV_ENOSPC if it does not fit. */
int digest_unquote(const char *v, char *out, size_t cap);

#endif
