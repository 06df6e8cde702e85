/* sipua_auth.c - the simulated phone's digest credentials (RFC 3261
 * 22.2-22.4, RFC 2617 with MD5 and qop=auth), when cfg.password is set.
 *
 * A 401 or 407 to a REGISTER or to the INVITE of a new call makes the
 * phone send the request once more (a new CSeq and branch, the same
 * Call-ID; sipua.c and sipua_call.c do that) with Authorization (401) or
 * Proxy-Authorization (407) answering the first Digest challenge it can:
 * algorithm MD5 (or none) and qop offering auth. If that is challenged
 * again the phone gives up (a wrong password: the request fails with the
 * code), unless the new challenge says stale=true, which earns one more
 * try. The challenge is kept per kind of request, and later REGISTERs
 * (refreshes) and INVITEs carry credentials for it at once, nc going up
 * by one each time with a new cnonce, as deployed phones do; when the
 * nonce has gone stale the server challenges again and the phone answers
 * the new one.
 *
 * Limits: no auth-int, MD5-sess or SHA-256; a challenge without qop=auth
 * (RFC 2069) is not answered; in-dialog requests (BYE, re-INVITE) and
 * CANCEL never carry credentials, and a challenge to them fails them.
 *
 * Timers: none. */
#include "sipua_priv.h"
#include "digest.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Whether a qop-options list ("auth,auth-int") offers auth. */
static bool offers_auth(const char *list)
{
	const char *p = list;

	while (*p) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 4 && strncasecmp(p, "auth", 4) == 0)
			return true;
		p += n;
	}
	return false;
}

/* What we can write back inside quotes as it is. */
static bool plain(const char *s)
{
	return !strpbrk(s, "\"\\");
}

/* The first challenge of rsp we can answer, into a (nc 0); false if none. */
static bool challenge_read(const osip_message_t *rsp, ua_auth *a, bool *stale)
{
	bool proxy = rsp->status_code == 407;
	const osip_list_t *list = proxy ? &rsp->proxy_authenticates : &rsp->www_authenticates;
	char v[UA_AUTH_FIELD];

	for (int i = 0; i < osip_list_size(list); i++) {
		osip_www_authenticate_t *w = osip_list_get(list, i);

		memset(a, 0, sizeof(*a));
		if (!w || !w->auth_type || strcasecmp(w->auth_type, "Digest") != 0 ||
		    digest_unquote(w->realm, a->realm, sizeof(a->realm)) < 0 ||
		    digest_unquote(w->nonce, a->nonce, sizeof(a->nonce)) < 0 ||
		    digest_unquote(w->qop_options, v, sizeof(v)) < 0 || !offers_auth(v))
			continue;
		if (w->algorithm && (digest_unquote(w->algorithm, v, sizeof(v)) < 0 || strcasecmp(v, "MD5") != 0))
			continue;
		if (w->opaque && digest_unquote(w->opaque, a->opaque, sizeof(a->opaque)) < 0)
			continue;
		if (!plain(a->realm) || !plain(a->nonce) || !plain(a->opaque))
			continue;
		*stale = w->stale && digest_unquote(w->stale, v, sizeof(v)) == 0 && strcasecmp(v, "true") == 0;
		a->proxy = proxy;
		a->valid = true;
		return true;
	}
	return false;
}

bool sipua_auth_retry(sipua *ua, enum ua_txn_kind k, const osip_message_t *rsp, int tries)
{
	ua_auth a;
	bool stale = false;

	if (!ua->password[0] || !challenge_read(rsp, &a, &stale))
		return false;
	ua->auth[k] = a;
	return tries == 0 || (stale && tries == 1);
}

int sipua_auth_add(sipua *ua, enum ua_txn_kind k, osip_message_t *m)
{
	ua_auth *a = &ua->auth[k];
	char uri[UA_URI_MAX], nc[12], cnonce[17], resp[DIGEST_HEX_LEN + 1], opaque[UA_AUTH_FIELD + 12] = "";
	char hv[4 * UA_AUTH_FIELD + UA_URI_MAX + 256];
	int rc;

	if (!ua->password[0] || !a->valid)
		return 0;
	rc = sipmsg_uri_str(m->req_uri, uri, sizeof(uri));
	if (rc < 0)
		return rc;
	snprintf(nc, sizeof(nc), "%08x", ++a->nc);
	sipua_rand_id(ua, cnonce, 16);
	digest_response(&(digest_in){ .user = ua->auth_user, .realm = a->realm, .password = ua->password,
				      .method = m->sip_method, .uri = uri, .nonce = a->nonce, .nc = nc,
				      .cnonce = cnonce }, resp);
	if (a->opaque[0])
		snprintf(opaque, sizeof(opaque), ", opaque=\"%s\"", a->opaque);
	snprintf(hv, sizeof(hv),
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\", "
		 "algorithm=MD5, cnonce=\"%s\"%s, qop=auth, nc=%s",
		 ua->auth_user, a->realm, a->nonce, uri, resp, cnonce, opaque, nc);
	rc = a->proxy ? osip_message_set_proxy_authorization(m, hv) : osip_message_set_authorization(m, hv);
	return rc == 0 ? 0 : TV_ENOMEM;
}
