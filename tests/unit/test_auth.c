/* test_auth.c - digest authentication (RFC 3261 22, RFC 2617 with MD5 and
 * qop=auth): the digest itself (simterm/digest.c) against RFC 2617's
 * example, the softswitch's checks (ss_auth.c) driven by hand-made
 * requests, and the phone's answers to challenges (sipua_auth.c), against
 * the softswitch or against the probe playing a registrar.
 *
 * Topology (one link, no NAT, 5 ms each way):
 *
 *   softswitch 10.0.0.1:5060 --+-- lan --+-- probe 10.0.0.99:5060
 *   (example.net, auth on)               +-- alice 10.0.0.10
 *                                        +-- bob   10.0.0.20
 *
 * The softswitch knows alice:wonderland, bob:builder, carol:secret and
 * probe:probing; its nonces live 60 s. */
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

/* ---- the world --------------------------------------------------------------- */

struct probe {
	tv_udp *u;
	int n;
	osip_message_t *m[PROBE_MAX];
};

struct world {
	sim_net *n;
	sim_link *l;
	tv_host *hs, *ha, *hb, *hp;
	softswitch *ss;
	sipua *a, *b;
	struct probe p;
};

static void probe_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	struct probe *p = arg;
	osip_message_t *m;

	(void)s, (void)from, (void)now;
	cr_assert_lt(p->n, PROBE_MAX);
	cr_assert_eq(sipmsg_parse(data, len, &m), 0, "not SIP: %.*s", (int)len, (const char *)data);
	p->m[p->n++] = m;
}

static softswitch_cfg ss_cfg(void)
{
	softswitch_cfg c = { .domain = "example.net", .auth = true, .nonce_lifetime = TV_SEC(60), .nusers = 4,
			     .users = { { "alice", "wonderland" }, { "bob", "builder" }, { "carol", "secret" },
					{ "probe", "probing" } } };

	return c;
}

static sipua_cfg ua_cfg(const char *user, const char *password)
{
	sipua_cfg c = { .user = user, .domain = "example.net", .proxy = th_ep(IP_SS ":5060"), .password = password };

	return c;
}

/* a, b NULL: no such phone. */
static void world_init(struct world *w, const softswitch_cfg *sc, const sipua_cfg *a, const sipua_cfg *b)
{
	sim_link_cfg lc = { .delay = TV_MS(5) };
	softswitch_cfg def = ss_cfg();
	tv_ip is = th_ip(IP_SS), ia = th_ip(IP_A), ib = th_ip(IP_B), ip = th_ip(IP_P);
	tv_ep l = tv_ep4(0, 5060);
	int err;

	memset(w, 0, sizeof(*w));
	w->n = sim_net_new(11);
	w->l = sim_link_new(w->n, "lan", &lc);
	w->hs = simhost_new(w->n, w->l, "softswitch", &is);
	w->ha = simhost_new(w->n, w->l, "alice", &ia);
	w->hb = simhost_new(w->n, w->l, "bob", &ib);
	w->hp = simhost_new(w->n, w->l, "probe", &ip);
	cr_assert(w->n && w->l && w->hs && w->ha && w->hb && w->hp);
	w->ss = softswitch_new_cfg(w->hs, sc ? sc : &def, &err);
	cr_assert_not_null(w->ss, "softswitch_new_cfg: %d", err);
	w->p.u = host_udp_bind(w->hp, &l, probe_rx, &w->p, &err);
	cr_assert_not_null(w->p.u);
	if (a)
		cr_assert_not_null(w->a = sipua_new(w->ha, a, &err), "alice: %d", err);
	if (b)
		cr_assert_not_null(w->b = sipua_new(w->hb, b, &err), "bob: %d", err);
}

static void world_free(struct world *w)
{
	for (int i = 0; i < w->p.n; i++)
		osip_message_free(w->p.m[i]);
	host_udp_close(w->p.u);
	sipua_free(w->a);
	sipua_free(w->b);
	softswitch_free(w->ss);
	host_free(w->ha);
	host_free(w->hb);
	host_free(w->hp);
	host_free(w->hs);
	sim_net_run_until(w->n, sim_net_now(w->n) + TV_SEC(60));
	sim_net_free(w->n);
}

static void run(struct world *w, tv_time d)
{
	sim_net_run_until(w->n, sim_net_now(w->n) + d);
}

static const softswitch_stats *sst(const struct world *w)
{
	return softswitch_get_stats(w->ss);
}

static const sipua_status *st(const sipua *ua)
{
	return sipua_get_status(ua);
}

static void send_text(struct world *w, const char *to, const char *text)
{
	tv_ep dst = th_ep(to);

	cr_assert_eq(host_udp_send(w->p.u, &dst, text, strlen(text)), 0);
}

/* A request from the probe (sip:probe@example.net) to the softswitch;
 * branch also names the Call-ID; hdrs are whole header lines. */
static void preq(struct world *w, const char *method, const char *ruri, const char *to, const char *hdrs,
		 const char *branch, unsigned cseq)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP " IP_P ":5060;branch=z9hG4bK%s\r\n"
		 "From: <sip:probe@example.net>;tag=pt\r\n"
		 "To: %s\r\n"
		 "Call-ID: %s@" IP_P "\r\n"
		 "CSeq: %u %s\r\n"
		 "Max-Forwards: 70\r\n"
		 "Contact: <sip:probe@" IP_P ":5060>\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri, branch, to, branch, cseq, method, hdrs);
	send_text(w, IP_SS ":5060", buf);
}

/* A REGISTER of user (To) from the probe's address. */
static void preg(struct world *w, const char *user, const char *hdrs, const char *branch, unsigned cseq)
{
	char to[128];

	snprintf(to, sizeof(to), "<sip:%s@example.net>", user);
	preq(w, "REGISTER", "sip:example.net", to, hdrs, branch, cseq);
}

/* A credentials header line (hdr "Authorization" or "Proxy-Authorization")
 * with the response computed from pw, cnonce 0a4f113b. */
static const char *creds(const char *hdr, const char *user, const char *pw, const char *method, const char *uri,
			 const char *nonce, const char *nc)
{
	static char buf[640];
	char resp[DIGEST_HEX_LEN + 1];

	digest_response(&(digest_in){ .user = user, .realm = "example.net", .password = pw, .method = method,
				      .uri = uri, .nonce = nonce, .nc = nc, .cnonce = "0a4f113b" }, resp);
	snprintf(buf, sizeof(buf),
		 "%s: Digest username=\"%s\", realm=\"example.net\", nonce=\"%s\", uri=\"%s\", response=\"%s\", "
		 "algorithm=MD5, cnonce=\"0a4f113b\", qop=auth, nc=%s\r\n", hdr, user, nonce, uri, resp, nc);
	return buf;
}

#define REG_CREDS(user, pw, nonce, nc) creds("Authorization", user, pw, "REGISTER", "sip:example.net", nonce, nc)

/* The last message the probe got. */
static osip_message_t *last(const struct world *w)
{
	cr_assert_gt(w->p.n, 0, "the probe got nothing");
	return w->p.m[w->p.n - 1];
}

/* The challenge in the probe's last message, which must be a 401 or 407
 * with one: its nonce (static) and whether it says stale=true. */
static const char *challenge_of(const struct world *w, int code, bool *stale)
{
	static char nonce[64];
	osip_message_t *r = last(w);
	osip_www_authenticate_t *c = NULL;
	char v[64];

	cr_assert_eq(r->status_code, code, "got %d", r->status_code);
	if (code == 401) {
		cr_assert_eq(osip_list_size(&r->proxy_authenticates), 0);
		osip_message_get_www_authenticate(r, 0, &c);
	} else {
		cr_assert_eq(osip_list_size(&r->www_authenticates), 0);
		osip_message_get_proxy_authenticate(r, 0, &c);
	}
	cr_assert_not_null(c);
	cr_assert_str_eq(c->auth_type, "Digest");
	cr_assert_str_eq(c->realm, "\"example.net\"");
	cr_assert_str_eq(c->algorithm, "MD5");
	cr_assert_str_eq(c->qop_options, "\"auth\"");
	cr_assert_eq(digest_unquote(c->nonce, nonce, sizeof(nonce)), 0);
	cr_assert_eq(strlen(nonce), 32);
	*stale = c->stale && digest_unquote(c->stale, v, sizeof(v)) == 0 && strcmp(v, "true") == 0;
	return nonce;
}

/* Register carol from the probe: the challenge, then the credentials
 * (nc 1, branch br2); returns the nonce (static). */
static const char *carol_registers(struct world *w, const char *br1, const char *br2)
{
	static char nonce[64];
	bool stale;

	preg(w, "carol", "", br1, 1);
	run(w, TV_MS(50));
	snprintf(nonce, sizeof(nonce), "%s", challenge_of(w, 401, &stale));
	cr_assert_not(stale);
	preg(w, "carol", REG_CREDS("carol", "secret", nonce, "00000001"), br2, 2);
	run(w, TV_MS(50));
	cr_assert_eq(last(w)->status_code, 200);
	return nonce;
}

/* ---- the softswitch ------------------------------------------------------------- */

Test(auth_softswitch, register_is_challenged_then_accepted)
{
	struct world w;
	tv_ep ep;

	world_init(&w, NULL, NULL, NULL);
	carol_registers(&w, "r1", "r2");
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &ep), 0);
	cr_assert_eq(sst(&w)->auth_challenges, 1);
	cr_assert_eq(sst(&w)->auth_ok, 1);
	cr_assert_eq(sst(&w)->auth_failures, 0);
	cr_assert_eq(sst(&w)->registers, 2);
	world_free(&w);
}

Test(auth_softswitch, wrong_password_gets_a_fresh_challenge)
{
	struct world w;
	char n1[64];
	bool stale;
	tv_ep ep;

	world_init(&w, NULL, NULL, NULL);
	preg(&w, "carol", "", "w1", 1);
	run(&w, TV_MS(50));
	snprintf(n1, sizeof(n1), "%s", challenge_of(&w, 401, &stale));
	preg(&w, "carol", REG_CREDS("carol", "guess", n1, "00000001"), "w2", 2);
	run(&w, TV_MS(50));
	cr_assert_str_neq(challenge_of(&w, 401, &stale), n1, "a new nonce");
	cr_assert_not(stale);
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &ep), TV_ENOENT);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_BAD_RESPONSE], 1);
	cr_assert_eq(sst(&w)->auth_failures, 1);
	cr_assert_eq(sst(&w)->auth_challenges, 2);
	/* The right password with the first nonce still works: refused
	 * credentials do not spend a nonce. */
	preg(&w, "carol", REG_CREDS("carol", "secret", n1, "00000001"), "w3", 3);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 200);
	world_free(&w);
}

Test(auth_softswitch, unknown_user_is_challenged_like_a_wrong_password)
{
	struct world w;
	char n1[64];
	bool stale;

	world_init(&w, NULL, NULL, NULL);
	preg(&w, "dave", "", "u1", 1);
	run(&w, TV_MS(50));
	snprintf(n1, sizeof(n1), "%s", challenge_of(&w, 401, &stale));
	preg(&w, "dave", REG_CREDS("dave", "anything", n1, "00000001"), "u2", 2);
	run(&w, TV_MS(50));
	challenge_of(&w, 401, &stale);
	cr_assert_not(stale);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_UNKNOWN_USER], 1);
	cr_assert_eq(sst(&w)->auth_failures, 1);
	world_free(&w);
}

Test(auth_softswitch, username_other_than_the_to_user_is_403)
{
	struct world w;
	char n1[64];
	bool stale;

	world_init(&w, NULL, NULL, NULL);
	preg(&w, "alice", "", "m1", 1);
	run(&w, TV_MS(50));
	snprintf(n1, sizeof(n1), "%s", challenge_of(&w, 401, &stale));
	/* carol's own good credentials, registering alice. */
	preg(&w, "alice", REG_CREDS("carol", "secret", n1, "00000001"), "m2", 2);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 403);
	cr_assert_str_eq(last(&w)->reason_phrase, "Username Mismatch");
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_MISMATCH], 1);
	cr_assert_eq(sst(&w)->auth_challenges, 1);
	cr_assert_eq(sst(&w)->contacts, 0);
	world_free(&w);
}

Test(auth_softswitch, malformed_credentials_get_400)
{
	struct world w;
	char n1[64], h[700];
	const char *good;
	bool stale;
	static const struct {
		const char *from, *to;
	} damage[] = {
		{ "qop=auth, ", "" },                           /* no qop (RFC 2069) */
		{ "algorithm=MD5", "algorithm=SHA-256" },
		{ "nc=00000001", "nc=1" },
		{ "uri=\"sip:example.net\"", "uri=\"sip:elsewhere.net\"" },
		{ "cnonce=\"0a4f113b\", ", "" },
	};

	world_init(&w, NULL, NULL, NULL);
	preg(&w, "carol", "", "x0", 1);
	run(&w, TV_MS(50));
	snprintf(n1, sizeof(n1), "%s", challenge_of(&w, 401, &stale));
	good = REG_CREDS("carol", "secret", n1, "00000001");
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		const char *at = strstr(good, damage[i].from);
		char br[8];

		cr_assert_not_null(at, "%s", damage[i].from);
		snprintf(h, sizeof(h), "%.*s%s%s", (int)(at - good), good, damage[i].to, at + strlen(damage[i].from));
		snprintf(br, sizeof(br), "x%zu", i + 1);
		preg(&w, "carol", h, br, 2);
		run(&w, TV_MS(50));
		cr_assert_eq(last(&w)->status_code, 400, "case %zu: %s", i, h);
	}
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_MALFORMED], 5);
	cr_assert_eq(sst(&w)->auth_failures, 5);
	/* Credentials for another realm only: a challenge, not a failure. */
	preg(&w, "carol", "Authorization: Digest username=\"carol\", realm=\"other.net\", nonce=\"1\", "
		 "uri=\"sip:example.net\", response=\"00000000000000000000000000000000\"\r\n", "x9", 2);
	run(&w, TV_MS(50));
	challenge_of(&w, 401, &stale);
	cr_assert_eq(sst(&w)->auth_failures, 5);
	cr_assert_eq(sst(&w)->auth_challenges, 2);
	world_free(&w);
}

Test(auth_softswitch, reused_nc_is_a_replay_unless_it_is_a_retransmission)
{
	struct world w;
	char nonce[64];

	world_init(&w, NULL, NULL, NULL);
	snprintf(nonce, sizeof(nonce), "%s", carol_registers(&w, "p1", "p2"));
	/* The same request again (same branch, Call-ID, CSeq, source):
	 * answered as the first was. */
	preg(&w, "carol", REG_CREDS("carol", "secret", nonce, "00000001"), "p2", 2);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 200);
	cr_assert_eq(sst(&w)->auth_ok, 2);
	/* Another request with the used nc: a replay. */
	preg(&w, "carol", REG_CREDS("carol", "secret", nonce, "00000001"), "p3", 3);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 401);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_REPLAY], 1);
	/* The next nc is fine; going back is not. */
	preg(&w, "carol", REG_CREDS("carol", "secret", nonce, "00000003"), "p4", 4);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 200);
	preg(&w, "carol", REG_CREDS("carol", "secret", nonce, "00000002"), "p5", 5);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 401);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_REPLAY], 2);
	/* A retransmission long after the transaction is a replay too. */
	run(&w, TV_SEC(33));
	preg(&w, "carol", REG_CREDS("carol", "secret", nonce, "00000003"), "p4", 4);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 401);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_REPLAY], 3);
	cr_assert_eq(sst(&w)->auth_ok, 3);
	world_free(&w);
}

Test(auth_softswitch, stale_and_unknown_nonces_are_rechallenged_with_stale_true)
{
	struct world w;
	char nonce[64];
	bool stale;

	world_init(&w, NULL, NULL, NULL);
	snprintf(nonce, sizeof(nonce), "%s", carol_registers(&w, "s1", "s2"));
	run(&w, TV_SEC(60));
	/* Right digest, expired nonce. */
	preg(&w, "carol", REG_CREDS("carol", "secret", nonce, "00000002"), "s3", 3);
	run(&w, TV_MS(50));
	challenge_of(&w, 401, &stale);
	cr_assert(stale);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_STALE], 1);
	/* Wrong digest, expired nonce: a wrong password, not stale. */
	preg(&w, "carol", REG_CREDS("carol", "guess", nonce, "00000003"), "s4", 4);
	run(&w, TV_MS(50));
	challenge_of(&w, 401, &stale);
	cr_assert_not(stale);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_BAD_RESPONSE], 1);
	/* Right digest over a nonce never issued. */
	preg(&w, "carol", REG_CREDS("carol", "secret", "00112233445566778899aabbccddeeff", "00000001"), "s5", 5);
	run(&w, TV_MS(50));
	challenge_of(&w, 401, &stale);
	cr_assert(stale);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_BAD_NONCE], 1);
	cr_assert_eq(sst(&w)->auth_failures, 3);
	cr_assert_eq(sst(&w)->auth_challenges, 4);
	world_free(&w);
}

/* carol is registered at the probe, which calls her: it gets its own
 * INVITE back once authenticated. */
Test(auth_softswitch, invite_gets_407_then_is_routed_without_the_credentials)
{
	struct world w;
	osip_message_t *inv;
	char nonce[64], ack[700];
	const char *tag;
	bool stale;

	world_init(&w, NULL, NULL, NULL);
	carol_registers(&w, "i0", "i00");
	preq(&w, "INVITE", "sip:carol@example.net", "<sip:carol@example.net>", "", "i1", 1);
	run(&w, TV_MS(50));
	snprintf(nonce, sizeof(nonce), "%s", challenge_of(&w, 407, &stale));
	cr_assert_eq(sst(&w)->requests_routed, 0);
	/* Its ACK (the 407's To tag, the INVITE's branch) is absorbed. */
	tag = sipmsg_tag(last(&w)->to);
	cr_assert_not_null(tag);
	snprintf(ack, sizeof(ack), "<sip:carol@example.net>;tag=%s", tag);
	preq(&w, "ACK", "sip:carol@example.net", ack, "", "i1", 1);
	run(&w, TV_MS(50));
	cr_assert_eq(sst(&w)->requests_routed, 0);
	/* Authorization is not what a proxy reads. */
	preq(&w, "INVITE", "sip:carol@example.net", "<sip:carol@example.net>",
	     creds("Authorization", "probe", "probing", "INVITE", "sip:carol@example.net", nonce, "00000001"), "i2", 2);
	run(&w, TV_MS(50));
	challenge_of(&w, 407, &stale);
	preq(&w, "INVITE", "sip:carol@example.net", "<sip:carol@example.net>",
	     creds("Proxy-Authorization", "probe", "probing", "INVITE", "sip:carol@example.net", nonce, "00000001"),
	     "i3", 3);
	run(&w, TV_MS(50));
	cr_assert_eq(sst(&w)->requests_routed, 1);
	cr_assert_eq(sst(&w)->auth_ok, 2, "carol's REGISTER and the INVITE");
	cr_assert_eq(sst(&w)->auth_challenges, 3);
	cr_assert_eq(sst(&w)->auth_failures, 0);
	cr_assert_eq(sst(&w)->invites, 3);
	inv = last(&w);
	cr_assert(MSG_IS_INVITE(inv));
	cr_assert_str_eq(inv->req_uri->host, IP_P);
	cr_assert_eq(osip_list_size(&inv->proxy_authorizations), 0, "our realm's credentials are consumed");
	world_free(&w);
}

Test(auth_softswitch, invite_username_must_be_the_from_user)
{
	struct world w;
	char nonce[64];
	bool stale;

	world_init(&w, NULL, NULL, NULL);
	preq(&w, "INVITE", "sip:alice@example.net", "<sip:alice@example.net>", "", "f1", 1);
	run(&w, TV_MS(50));
	snprintf(nonce, sizeof(nonce), "%s", challenge_of(&w, 407, &stale));
	/* The From is sip:probe@...: carol's credentials do not do. */
	preq(&w, "INVITE", "sip:alice@example.net", "<sip:alice@example.net>",
	     creds("Proxy-Authorization", "carol", "secret", "INVITE", "sip:alice@example.net", nonce, "00000001"),
	     "f2", 2);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 403);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_MISMATCH], 1);
	world_free(&w);
}

Test(auth_softswitch, ack_cancel_in_dialog_and_options_to_itself_are_not_challenged)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", "wonderland");

	world_init(&w, NULL, &a, NULL);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(sst(&w)->auth_challenges, 1);
	preq(&w, "CANCEL", "sip:alice@example.net", "<sip:alice@example.net>", "", "c1", 1);
	preq(&w, "ACK", "sip:alice@example.net", "<sip:alice@example.net>;tag=x", "", "c2", 1);
	preq(&w, "BYE", "sip:alice@" IP_A ":5060", "<sip:alice@example.net>;tag=x", "", "c3", 2);
	preq(&w, "OPTIONS", "sip:" IP_SS, "<sip:" IP_SS ">", "", "c4", 1);
	run(&w, TV_MS(100));
	cr_assert_eq(sst(&w)->requests_routed, 3);
	cr_assert_eq(sst(&w)->auth_challenges, 1);
	/* An OPTIONS to a user is routed only with credentials. */
	preq(&w, "OPTIONS", "sip:alice@example.net", "<sip:alice@example.net>", "", "c5", 1);
	run(&w, TV_MS(100));
	cr_assert_eq(last(&w)->status_code, 407);
	cr_assert_eq(sst(&w)->requests_routed, 3);
	world_free(&w);
}

Test(auth_softswitch, off_by_default)
{
	struct world w;
	softswitch_cfg c = ss_cfg();

	c.auth = false;
	world_init(&w, &c, NULL, NULL);
	preg(&w, "carol", "", "o1", 1);
	run(&w, TV_MS(50));
	cr_assert_eq(last(&w)->status_code, 200);
	cr_assert_eq(sst(&w)->auth_challenges, 0);
	world_free(&w);
}

/* ---- the phone against the softswitch ------------------------------------------- */

Test(auth_phone, registers_through_a_challenge_and_refreshes_with_the_same_nonce)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", "wonderland");

	a.reg_expires = TV_SEC(60);
	world_init(&w, NULL, &a, NULL);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert(st(w.a)->registered);
	cr_assert_eq(st(w.a)->reg_code, 200);
	cr_assert_eq(sst(&w)->auth_challenges, 1);
	cr_assert_eq(sst(&w)->auth_ok, 1);
	/* The refresh at 30 s carries nc 2 for the same nonce: no challenge. */
	run(&w, TV_SEC(30));
	cr_assert_eq(sst(&w)->registers, 3);
	cr_assert_eq(sst(&w)->auth_ok, 2);
	cr_assert_eq(sst(&w)->auth_challenges, 1);
	/* At 60 s the nonce is 60 s old: stale, answered with the new one. */
	run(&w, TV_SEC(30));
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_STALE], 1);
	cr_assert_eq(sst(&w)->auth_challenges, 2);
	cr_assert_eq(sst(&w)->auth_ok, 3);
	cr_assert_eq(sst(&w)->registers, 5);
	cr_assert(st(w.a)->registered);
	world_free(&w);
}

Test(auth_phone, wrong_password_gives_up_after_one_retry)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", "rabbit");

	world_init(&w, NULL, &a, NULL);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_not(st(w.a)->registered);
	cr_assert_eq(st(w.a)->reg_code, 401);
	cr_assert_eq(sst(&w)->registers, 2);
	cr_assert_eq(sst(&w)->auth_challenges, 2);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_BAD_RESPONSE], 1);
	/* 30 s later it tries again: the kept challenge first (refused), then
	 * the new one (refused). */
	run(&w, TV_SEC(30));
	cr_assert_eq(sst(&w)->registers, 4);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_BAD_RESPONSE], 3);
	cr_assert_eq(sst(&w)->auth_challenges, 4);
	cr_assert_eq(sst(&w)->auth_ok, 0);
	world_free(&w);
}

Test(auth_phone, no_password_gives_up_at_once)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", NULL);

	world_init(&w, NULL, &a, NULL);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_not(st(w.a)->registered);
	cr_assert_eq(st(w.a)->reg_code, 401);
	cr_assert_eq(sst(&w)->registers, 1);
	cr_assert_eq(sst(&w)->auth_failures, 0);
	world_free(&w);
}

Test(auth_phone, auth_user_names_the_credentials)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", "secret");

	a.auth_user = "carol";
	world_init(&w, NULL, &a, NULL);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(st(w.a)->reg_code, 403, "carol may not register alice");
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_MISMATCH], 1);
	world_free(&w);
}

static void both_registered(struct world *w)
{
	cr_assert_eq(sipua_register(w->a), 0);
	cr_assert_eq(sipua_register(w->b), 0);
	run(w, TV_SEC(1));
	cr_assert(st(w->a)->registered);
	cr_assert(st(w->b)->registered);
}

Test(auth_phone, call_is_challenged_once_then_carries_credentials)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", "wonderland"), b = ua_cfg("bob", "builder");

	world_init(&w, NULL, &a, &b);
	both_registered(&w);
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_SEC(2));
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED, "%s", sipua_state_name(st(w.a)->state));
	cr_assert_eq(st(w.b)->state, SIPUA_ESTABLISHED);
	cr_assert_eq(st(w.a)->calls_made, 1);
	cr_assert_eq(sst(&w)->invites, 2);
	cr_assert_eq(sst(&w)->auth_challenges, 3);
	cr_assert_eq(sst(&w)->auth_ok, 3);
	cr_assert_gt(media_get_stats(sipua_media(w.b, SIPUA_AUDIO))->rtp_rx, 0);
	cr_assert_eq(sipua_hangup(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_str_eq(st(w.b)->end_reason, "bye-received");
	/* The next call answers the kept challenge at once (nc 2). */
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_SEC(2));
	cr_assert_eq(st(w.a)->state, SIPUA_ESTABLISHED);
	cr_assert_eq(sst(&w)->invites, 3);
	cr_assert_eq(sst(&w)->auth_challenges, 3);
	cr_assert_eq(sst(&w)->auth_ok, 4);
	cr_assert_eq(sipua_hangup(w.a), 0);
	run(&w, TV_SEC(1));
	world_free(&w);
}

Test(auth_phone, cancel_after_the_challenge)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", "wonderland"), b = ua_cfg("bob", "builder");

	b.answer = SIPUA_ANSWER_MANUAL;
	world_init(&w, NULL, &a, &b);
	both_registered(&w);
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_MS(500));
	cr_assert_eq(st(w.b)->state, SIPUA_RINGING);
	cr_assert_eq(sipua_cancel(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert_str_eq(st(w.a)->end_reason, "cancelled");
	cr_assert_str_eq(st(w.b)->end_reason, "cancelled");
	cr_assert_eq(st(w.a)->last_code, 487);
	cr_assert_eq(sst(&w)->auth_challenges, 3, "the CANCEL was not challenged");
	world_free(&w);
}

Test(auth_phone, call_with_a_wrong_password_is_rejected_407)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", "rabbit"), b = ua_cfg("bob", "builder");

	world_init(&w, NULL, &a, &b);
	cr_assert_eq(sipua_register(w.b), 0);
	run(&w, TV_SEC(1));
	cr_assert_eq(sipua_call(w.a, "bob"), 0);
	run(&w, TV_SEC(2));
	cr_assert_eq(st(w.a)->state, SIPUA_ENDED);
	cr_assert_str_eq(st(w.a)->end_reason, "rejected");
	cr_assert_eq(st(w.a)->last_code, 407);
	cr_assert_eq(st(w.b)->state, SIPUA_IDLE, "bob never rang");
	cr_assert_eq(sst(&w)->invites, 2);
	cr_assert_eq(sst(&w)->auth_fail[SOFTSWITCH_AUTH_BAD_RESPONSE], 1);
	cr_assert_eq(sst(&w)->requests_routed, 0);
	world_free(&w);
}

/* ---- the phone against a scripted registrar ------------------------------------- */

/* The probe's answer to req: code with a challenge header (or none). */
static void answer(struct world *w, const osip_message_t *req, int code, const char *hdr)
{
	osip_message_t *r;
	char *buf;
	size_t len;
	tv_ep to = th_ep(IP_A ":5060");

	cr_assert_eq(sipmsg_response(req, code, "reg", &r), 0);
	if (hdr)
		cr_assert_eq(osip_message_set_www_authenticate(r, hdr), 0);
	cr_assert_eq(sipmsg_to_str(r, &buf, &len), 0);
	cr_assert_eq(host_udp_send(w->p.u, &to, buf, len), 0);
	osip_free(buf);
	osip_message_free(r);
}

static void field(const char *v, char *out, size_t cap)
{
	cr_assert_eq(digest_unquote(v, out, cap), 0, "%s", v ? v : "(none)");
}

Test(auth_phone, retry_is_the_same_register_with_credentials)
{
	struct world w;
	sipua_cfg a = ua_cfg("alice", "wonderland");
	osip_message_t *r1, *r2, *r3;
	osip_authorization_t *au = NULL;
	char user[64], realm[64], nonce[64], uri[64], resp[64], cnonce[64], want[DIGEST_HEX_LEN + 1];

	a.proxy = th_ep(IP_P ":5060");
	world_init(&w, NULL, &a, NULL);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_MS(50));
	cr_assert_eq(w.p.n, 1);
	r1 = w.p.m[0];
	cr_assert_eq(osip_list_size(&r1->authorizations), 0, "nothing to answer yet");
	answer(&w, r1, 401, "Digest realm=\"lab\", nonce=\"n-1\", opaque=\"op\", qop=\"auth-int,auth\"");
	run(&w, TV_MS(50));
	cr_assert_eq(w.p.n, 2);
	r2 = w.p.m[1];
	cr_assert_str_eq(r1->call_id->number, r2->call_id->number);
	cr_assert_str_eq(r1->call_id->host, r2->call_id->host);
	cr_assert_str_eq(r2->cseq->number, "2");
	cr_assert_str_neq(sipmsg_branch(r1), sipmsg_branch(r2));
	cr_assert_eq(osip_message_get_authorization(r2, 0, &au), 0);
	cr_assert_str_eq(au->auth_type, "Digest");
	field(au->username, user, sizeof(user));
	field(au->realm, realm, sizeof(realm));
	field(au->nonce, nonce, sizeof(nonce));
	field(au->uri, uri, sizeof(uri));
	field(au->response, resp, sizeof(resp));
	field(au->cnonce, cnonce, sizeof(cnonce));
	cr_assert_str_eq(user, "alice");
	cr_assert_str_eq(realm, "lab");
	cr_assert_str_eq(nonce, "n-1");
	cr_assert_str_eq(uri, "sip:example.net");
	cr_assert_str_eq(au->opaque, "\"op\"");
	cr_assert_str_eq(au->message_qop, "auth");
	cr_assert_str_eq(au->nonce_count, "00000001");
	cr_assert_str_eq(au->algorithm, "MD5");
	cr_assert_eq(strlen(cnonce), 16);
	digest_response(&(digest_in){ .user = "alice", .realm = "lab", .password = "wonderland", .method = "REGISTER",
				      .uri = "sip:example.net", .nonce = "n-1", .nc = "00000001", .cnonce = cnonce },
			want);
	cr_assert_str_eq(resp, want);
	/* Stale: one more try, with the new nonce, nc from 1 again. */
	answer(&w, r2, 401, "Digest realm=\"lab\", nonce=\"n-2\", qop=\"auth\", stale=true");
	run(&w, TV_MS(50));
	cr_assert_eq(w.p.n, 3);
	r3 = w.p.m[2];
	cr_assert_eq(osip_message_get_authorization(r3, 0, &au), 0);
	cr_assert_str_eq(au->nonce, "\"n-2\"");
	cr_assert_str_eq(au->nonce_count, "00000001");
	cr_assert_null(au->opaque);
	/* Challenged again, not stale: it gives up. */
	answer(&w, r3, 401, "Digest realm=\"lab\", nonce=\"n-3\", qop=\"auth\"");
	run(&w, TV_SEC(1));
	cr_assert_eq(w.p.n, 3);
	cr_assert_eq(st(w.a)->reg_code, 401);
	cr_assert_not(st(w.a)->registered);
	/* 30 s after giving up a fresh REGISTER answers n-3 at once. */
	run(&w, TV_SEC(29) + TV_MS(100));
	cr_assert_eq(w.p.n, 4, "%d", w.p.n);
	cr_assert_eq(osip_message_get_authorization(w.p.m[3], 0, &au), 0);
	cr_assert_str_eq(au->nonce, "\"n-3\"");
	answer(&w, w.p.m[3], 200, NULL);
	run(&w, TV_MS(50));
	cr_assert(st(w.a)->registered);
	world_free(&w);
}

Test(auth_phone, challenges_it_cannot_answer_fail_the_request)
{
	static const char *const bad[] = {
		"Digest realm=\"lab\", nonce=\"n\"",                            /* no qop: RFC 2069 */
		"Digest realm=\"lab\", nonce=\"n\", qop=\"auth-int\"",
		"Digest realm=\"lab\", nonce=\"n\", qop=\"auth\", algorithm=SHA-256",
		"Basic realm=\"lab\"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct world w;
		sipua_cfg a = ua_cfg("alice", "wonderland");

		a.proxy = th_ep(IP_P ":5060");
		world_init(&w, NULL, &a, NULL);
		cr_assert_eq(sipua_register(w.a), 0);
		run(&w, TV_MS(50));
		answer(&w, w.p.m[0], 401, bad[i]);
		run(&w, TV_SEC(1));
		cr_assert_eq(w.p.n, 1, "case %zu: no retry", i);
		cr_assert_eq(st(w.a)->reg_code, 401);
		world_free(&w);
	}
}
