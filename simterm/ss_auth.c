/* ss_auth.c - the softswitch's digest authentication (softswitch_priv.h):
 * RFC 3261 22 with RFC 2617, MD5 and qop=auth only, one realm (its
 * domain), on when cfg.auth is set.
 *
 * Which requests: a REGISTER for its domain is challenged with 401 and
 * WWW-Authenticate, its credentials read from Authorization (a registrar,
 * 22.2); every other request outside a dialog (no To tag) that it would
 * route is challenged with 407 and Proxy-Authenticate, its credentials
 * read from Proxy-Authorization (a proxy, 22.3). ACK and CANCEL cannot be
 * challenged (22.1), requests inside a dialog (a To tag) are not, and an
 * OPTIONS to the softswitch itself is answered before this is asked.
 * Credentials for another realm are ignored: a request with none for ours
 * is challenged, and that is not a failure.
 *
 * Credentials are refused, counted in auth_fail[], in this order:
 *   malformed     a field missing or unreadable, an algorithm other than
 *                 MD5, a qop other than auth, nc not 8 hex digits, or a
 *                 digest uri that is not the Request-URI: 400.
 *   mismatch      username is not the user of the To URI (REGISTER) or the
 *                 From URI (others): 403. Whoever asks may be a real user,
 *                 but not this one: authenticating again cannot help
 *                 (21.4.4), so it is not challenged.
 *   unknown-user  no password for username: a new challenge, as for a
 *                 wrong password, so that the answer does not tell which
 *                 users exist. Such a user can never authenticate.
 *   bad-response  the response is not the digest of the user's password:
 *                 a new challenge (a fresh nonce, no stale), as most
 *                 registrars answer (and RFC 2617 3.2.2 leaves it open).
 *                 A client that retries once per challenge stops there.
 *   bad-nonce     the response is right but the nonce is not one we hold
 *                 (never issued, or forgotten: we keep SS_NONCES): a new
 *                 challenge with stale=true (RFC 2617 3.2.1: the nonce is
 *                 invalid, the digest valid).
 *   stale         the same for a nonce of ours older than
 *                 cfg.nonce_lifetime.
 *   replay        nc is not above the highest accepted for that nonce: a
 *                 new challenge. Except a retransmission, which is
 *                 accepted again: the same nc in the same transaction
 *                 (Call-ID, CSeq, top branch) from the same source within
 *                 64*T1 of its first arrival (a stateless element answers
 *                 retransmissions anew; a stateful one would resend its
 *                 response).
 * Accepted credentials count auth_ok; every 401/407 sent counts
 * auth_challenges.
 *
 * Nonces: 32 hex digits from the host's seeded generator (same seed, same
 * nonces), in a ring of SS_NONCES; a nonce is any user's, for any method.
 *
 * Timers: none (a nonce's age is compared with now when it is used). */
#include "softswitch_priv.h"
#include "digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SS_AUTH_FIELD 256

static const char *const fail_names[SOFTSWITCH_AUTH__COUNT] = {
	[SOFTSWITCH_AUTH_MALFORMED] = "malformed",
	[SOFTSWITCH_AUTH_MISMATCH] = "mismatch",
	[SOFTSWITCH_AUTH_UNKNOWN_USER] = "unknown-user",
	[SOFTSWITCH_AUTH_BAD_RESPONSE] = "bad-response",
	[SOFTSWITCH_AUTH_BAD_NONCE] = "bad-nonce",
	[SOFTSWITCH_AUTH_STALE] = "stale",
	[SOFTSWITCH_AUTH_REPLAY] = "replay",
};

const char *softswitch_auth_fail_name(enum softswitch_auth_fail f)
{
	return (unsigned)f < SOFTSWITCH_AUTH__COUNT ? fail_names[f] : NULL;
}

/* What each refusal is answered with. */
enum ss_auth_answer { SS_ANS_400, SS_ANS_403, SS_ANS_CHALLENGE, SS_ANS_STALE };

static const enum ss_auth_answer fail_answer[SOFTSWITCH_AUTH__COUNT] = {
	[SOFTSWITCH_AUTH_MALFORMED] = SS_ANS_400,
	[SOFTSWITCH_AUTH_MISMATCH] = SS_ANS_403,
	[SOFTSWITCH_AUTH_UNKNOWN_USER] = SS_ANS_CHALLENGE,
	[SOFTSWITCH_AUTH_BAD_RESPONSE] = SS_ANS_CHALLENGE,
	[SOFTSWITCH_AUTH_BAD_NONCE] = SS_ANS_STALE,
	[SOFTSWITCH_AUTH_STALE] = SS_ANS_STALE,
	[SOFTSWITCH_AUTH_REPLAY] = SS_ANS_CHALLENGE,
};

/* ---- nonces ----------------------------------------------------------------- */

static const ss_nonce *nonce_issue(softswitch *ss, tv_time now)
{
	ss_nonce *n = &ss->nonces[ss->nonce_next++ % SS_NONCES];

	memset(n, 0, sizeof(*n));
	sipmsg_rand_hex(host_rng(ss->h), n->v, SS_NONCE_HEX);
	n->issued = now;
	return n;
}

static ss_nonce *nonce_find(softswitch *ss, const char *v)
{
	for (int i = 0; i < SS_NONCES; i++)
		if (ss->nonces[i].v[0] && strcmp(ss->nonces[i].v, v) == 0)
			return &ss->nonces[i];
	return NULL;
}

/* ---- answers ------------------------------------------------------------- */

static void challenge(softswitch *ss, const osip_message_t *m, const ss_src *src, bool reg, bool stale,
		      tv_time now)
{
	const ss_nonce *n = nonce_issue(ss, now);
	osip_message_t *r = ss_answer(m, reg ? 401 : 407, NULL);
	char hv[SS_AUTH_FIELD + 64];

	if (!r)
		return;
	snprintf(hv, sizeof(hv), "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"%s", ss->domain,
		 n->v, stale ? ", stale=true" : "");
	if ((reg ? osip_message_set_www_authenticate(r, hv) : osip_message_set_proxy_authenticate(r, hv)) != 0) {
		osip_message_free(r);
		return;
	}
	ss->st.auth_challenges++;
	ss_answer_send(ss, r, src);
}

static void refuse(softswitch *ss, const osip_message_t *m, const ss_src *src, bool reg,
		   enum softswitch_auth_fail f, tv_time now)
{
	osip_message_t *r;

	ss->st.auth_failures++;
	ss->st.auth_fail[f]++;
	switch (fail_answer[f]) {
	case SS_ANS_CHALLENGE:
	case SS_ANS_STALE:
		challenge(ss, m, src, reg, fail_answer[f] == SS_ANS_STALE, now);
		return;
	case SS_ANS_403:
		r = ss_answer(m, 403, "Username Mismatch");
		break;
	case SS_ANS_400:
	default:
		r = ss_answer(m, 400, "Malformed Credentials");
		break;
	}
	if (r)
		ss_answer_send(ss, r, src);
}

/* ---- credentials ----------------------------------------------------------- */

/* Our realm's credentials in list, or NULL; *pos their place. */
static osip_authorization_t *creds_find(const softswitch *ss, const osip_list_t *list, int *pos)
{
	char realm[SS_AUTH_FIELD];

	for (int i = 0; i < osip_list_size(list); i++) {
		osip_authorization_t *a = osip_list_get(list, i);

		if (a && a->auth_type && strcasecmp(a->auth_type, "Digest") == 0 &&
		    digest_unquote(a->realm, realm, sizeof(realm)) == 0 && strcmp(realm, ss->domain) == 0) {
			*pos = i;
			return a;
		}
	}
	return NULL;
}

/* The fields of a's credentials, unquoted. */
typedef struct ss_creds {
	char user[SS_USER_MAX], nonce[SS_AUTH_FIELD], uri[SS_URI_MAX], response[DIGEST_HEX_LEN + 2];
	char cnonce[SS_AUTH_FIELD], qop[16], nc[16], alg[16];
	uint32_t ncv;
} ss_creds;

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return s[n] == '\0';
}

/* Whether the digest uri names the Request-URI (both as libosip2 writes
 * them, as the proxy and the softswitch compare URIs elsewhere). */
static bool uri_matches(const osip_message_t *m, const char *uri)
{
	char a[SS_URI_MAX], b[SS_URI_MAX];
	osip_uri_t *u;
	bool same;

	if (sipmsg_uri_str(m->req_uri, a, sizeof(a)) < 0 || osip_uri_init(&u) != 0)
		return false;
	same = osip_uri_parse(u, uri) == 0 && sipmsg_uri_str(u, b, sizeof(b)) == 0 && strcmp(a, b) == 0;
	osip_uri_free(u);
	return same;
}

static bool creds_read(const osip_message_t *m, const osip_authorization_t *a, ss_creds *c)
{
	if (digest_unquote(a->username, c->user, sizeof(c->user)) < 0 ||
	    digest_unquote(a->nonce, c->nonce, sizeof(c->nonce)) < 0 ||
	    digest_unquote(a->uri, c->uri, sizeof(c->uri)) < 0 ||
	    digest_unquote(a->response, c->response, sizeof(c->response)) < 0 ||
	    digest_unquote(a->cnonce, c->cnonce, sizeof(c->cnonce)) < 0 ||
	    digest_unquote(a->message_qop, c->qop, sizeof(c->qop)) < 0 ||
	    digest_unquote(a->nonce_count, c->nc, sizeof(c->nc)) < 0)
		return false;
	if (a->algorithm && (digest_unquote(a->algorithm, c->alg, sizeof(c->alg)) < 0 || strcasecmp(c->alg, "MD5")))
		return false;
	if (strcasecmp(c->qop, "auth") || !is_hex(c->nc, 8) || !is_hex(c->response, DIGEST_HEX_LEN))
		return false;
	c->ncv = (uint32_t)strtoul(c->nc, NULL, 16);
	return uri_matches(m, c->uri);
}

static const char *password_of(const softswitch *ss, const char *user)
{
	for (int i = 0; i < ss->cfg.nusers; i++)
		if (strcmp(ss->cfg.users[i].name, user) == 0)
			return ss->cfg.users[i].password;
	return NULL;
}

/* One transaction from one source: what a retransmission repeats. */
static uint64_t request_id(const osip_message_t *m, const ss_src *src)
{
	char ep[TV_EP_STRLEN];
	uint64_t h = SIPMSG_HASH_INIT;

	h = sipmsg_hash(h, m->call_id->number);
	h = sipmsg_hash(h, m->call_id->host);
	h = sipmsg_hash(h, m->cseq->number);
	h = sipmsg_hash(h, m->cseq->method);
	h = sipmsg_hash(h, sipmsg_branch(m));
	return sipmsg_hash(h, tv_ep_fmt(&src->ep, ep));
}

/* SOFTSWITCH_AUTH__COUNT if the credentials are good (see the top). */
static enum softswitch_auth_fail verify(softswitch *ss, const osip_message_t *m, const osip_authorization_t *a,
					bool reg, const ss_src *src, tv_time now)
{
	const osip_from_t *who = reg ? m->to : m->from;
	const char *pw;
	char want[DIGEST_HEX_LEN + 1];
	ss_nonce *n;
	ss_creds c;
	uint64_t id;

	if (!creds_read(m, a, &c))
		return SOFTSWITCH_AUTH_MALFORMED;
	if (!who->url || !who->url->username || strcmp(who->url->username, c.user) != 0)
		return SOFTSWITCH_AUTH_MISMATCH;
	if (!(pw = password_of(ss, c.user)))
		return SOFTSWITCH_AUTH_UNKNOWN_USER;
	digest_response(&(digest_in){ .user = c.user, .realm = ss->domain, .password = pw,
				      .method = m->sip_method, .uri = c.uri, .nonce = c.nonce, .nc = c.nc,
				      .cnonce = c.cnonce }, want);
	if (strcasecmp(want, c.response) != 0)
		return SOFTSWITCH_AUTH_BAD_RESPONSE;
	if (!(n = nonce_find(ss, c.nonce)))
		return SOFTSWITCH_AUTH_BAD_NONCE;
	if (now - n->issued >= ss->cfg.nonce_lifetime)
		return SOFTSWITCH_AUTH_STALE;
	id = request_id(m, src);
	if (c.ncv <= n->nc)
		return c.ncv == n->nc && id == n->req && now - n->used < SIPMSG_TIMEOUT ? SOFTSWITCH_AUTH__COUNT
											: SOFTSWITCH_AUTH_REPLAY;
	n->nc = c.ncv;
	n->req = id;
	n->used = now;
	return SOFTSWITCH_AUTH__COUNT;
}

/* ---- the gate -------------------------------------------------------------- */

static bool needs_auth(const osip_message_t *m, bool reg)
{
	if (reg)
		return true;
	return !MSG_IS_ACK(m) && !MSG_IS_CANCEL(m) && !sipmsg_tag(m->to);
}

bool ss_auth_request(softswitch *ss, osip_message_t *m, const ss_src *src, bool reg, tv_time now)
{
	osip_list_t *list = reg ? &m->authorizations : &m->proxy_authorizations;
	osip_authorization_t *a;
	enum softswitch_auth_fail f;
	int pos = 0;

	if (!ss->cfg.auth || !needs_auth(m, reg))
		return true;
	if (!(a = creds_find(ss, list, &pos))) {
		challenge(ss, m, src, reg, false, now);
		return false;
	}
	f = verify(ss, m, a, reg, src, now);
	if (f != SOFTSWITCH_AUTH__COUNT) {
		refuse(ss, m, src, reg, f, now);
		return false;
	}
	ss->st.auth_ok++;
	if (!reg) {
		osip_list_remove(list, pos);
		osip_authorization_free(a);
		osip_message_force_update(m);
	}
	return true;
}
