/* digest.c - RFC 2617 request-digest with MD5 and qop=auth (digest.h). */
#include "digest.h"

#include <osipparser2/osip_md5.h>
#include <string.h>

/* MD5 over the parts joined by ':', in lowercase hex. */
static void md5_hex(const char *const *parts, size_t n, char out[DIGEST_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	osip_MD5_CTX ctx;
	unsigned char d[16];

	osip_MD5Init(&ctx);
	for (size_t i = 0; i < n; i++) {
		if (i)
			osip_MD5Update(&ctx, (unsigned char *)":", 1);
		osip_MD5Update(&ctx, (unsigned char *)parts[i], (unsigned int)strlen(parts[i]));
	}
	osip_MD5Final(d, &ctx);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[DIGEST_HEX_LEN] = '\0';
}

void digest_response(const digest_in *in, char out[DIGEST_HEX_LEN + 1])
{
	char ha1[DIGEST_HEX_LEN + 1], ha2[DIGEST_HEX_LEN + 1];
	const char *a1[] = { in->user, in->realm, in->password };
	const char *a2[] = { in->method, in->uri };
	const char *kd[] = { ha1, in->nonce, in->nc, in->cnonce, "auth", ha2 };

	md5_hex(a1, 3, ha1);
	md5_hex(a2, 2, ha2);
	md5_hex(kd, 6, out);
}

int digest_unquote(const char *v, char *out, size_t cap)
{
	size_t n = 0;

	if (!v || !*v || cap == 0)
		return TV_EINVAL;
	if (*v != '"') {
		if (strlen(v) >= cap)
			return TV_ENOSPC;
		memcpy(out, v, strlen(v) + 1);
		return 0;
	}
	for (v++; *v != '"'; v++) {
		if (*v == '\\' && v[1])
			v++;
		if (!*v)
			return TV_EINVAL;
		if (n + 1 >= cap)
			return TV_ENOSPC;
		out[n++] = *v;
	}
	if (v[1])
		return TV_EINVAL;               /* bytes after the closing quote */
	out[n] = '\0';
	return 0;
}
