/* test_softswitch.c - the strict softswitch (simterm/softswitch*.c,
 * ss_*.c): transport rules over UDP and TCP (RFC 3261 18), TCP framing,
 * routability of Contacts, several Contacts per user; and the text
 * helpers that make messages look like other stacks' (sipmsg_fold,
 * sipmsg_join), with the phone options that use them.
 *
 * Topology (one link, no NAT, 5 ms each way):
 *
 *   softswitch 10.0.0.1:5060 --+-- lan --+-- probe 10.0.0.99
 *                                        +-- alice 10.0.0.10 (some tests)
 *
 * The probe is the test's hand: it sends hand-written SIP over UDP or over
 * TCP connections it opens, listens on TCP ports of its choosing, and
 * keeps every message that reaches it with the bytes as they came and the
 * way they came. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "host.h"
#include "sipmsg.h"
#include "sipua.h"

#define IP_SS "10.0.0.1"
#define IP_A "10.0.0.10"
#define IP_P "10.0.0.99"
#define PROBE_MAX 32
#define PROBE_CONNS 8

/* ---- the probe ------------------------------------------------------------ */

struct probe;

struct pconn {
	struct probe *p;
	tv_tcp *c;
	sipmsg_stream rx;
	bool peer_closed, gone;
};

struct probe {
	tv_host *h;
	tv_udp *u;
	tv_tcp_listener *l;
	struct pconn conns[PROBE_CONNS];
	int nconns, accepts;
	int n;
	osip_message_t *m[PROBE_MAX];
	char *raw[PROBE_MAX];
	int how[PROBE_MAX];             /* 0: UDP; else the local TCP port it came to */
};

static void probe_keep(struct probe *p, const uint8_t *data, size_t len, int how)
{
	osip_message_t *m;

	cr_assert_lt(p->n, PROBE_MAX);
	cr_assert_eq(sipmsg_parse(data, len, &m), 0, "the probe got something that is not SIP: %.*s", (int)len,
		     (const char *)data);
	p->raw[p->n] = strndup((const char *)data, len);
	p->how[p->n] = how;
	p->m[p->n++] = m;
}

static void probe_udp_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	(void)s, (void)from, (void)now;
	probe_keep(arg, data, len, 0);
}

static void pconn_cb(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	struct pconn *k = arg;
	const uint8_t *msg;
	size_t mlen;
	uint64_t ka = 0;

	(void)now;
	switch (ev) {
	case TV_TCP_DATA:
		cr_assert_eq(sipmsg_stream_feed(&k->rx, data, len), 0);
		while (sipmsg_stream_next(&k->rx, &msg, &mlen, &ka) == 1)
			probe_keep(k->p, msg, mlen, host_tcp_local(c).port);
		break;
	case TV_TCP_PEER_CLOSED:
		k->peer_closed = true;
		host_tcp_close(c);
		break;
	case TV_TCP_CLOSED:
	case TV_TCP_RESET:
	case TV_TCP_TIMEOUT:
		k->gone = true;
		k->c = NULL;
		break;
	default:
		break;
	}
}

static struct pconn *pconn_new(struct probe *p, tv_tcp *c)
{
	struct pconn *k;

	cr_assert_lt(p->nconns, PROBE_CONNS);
	k = &p->conns[p->nconns++];
	k->p = p;
	k->c = c;
	host_tcp_set_cb(c, pconn_cb, k);
	return k;
}

static void probe_accept(void *arg, tv_tcp *c, tv_time now)
{
	struct probe *p = arg;

	(void)now;
	p->accepts++;
	pconn_new(p, c);
}

static void probe_open(struct probe *p, tv_host *h)
{
	tv_ep l = tv_ep4(0, 5060);
	int err;

	memset(p, 0, sizeof(*p));
	p->h = h;
	p->u = host_udp_bind(h, &l, probe_udp_rx, p, &err);
	cr_assert_not_null(p->u);
}

static void probe_listen(struct probe *p, uint16_t port)
{
	int err;

	p->l = host_tcp_listen(p->h, port, probe_accept, p, &err);
	cr_assert_not_null(p->l);
}

/* A connection to the softswitch from lport (0: ephemeral). */
static struct pconn *probe_connect(struct probe *p, uint16_t lport)
{
	tv_ep ss = th_ep(IP_SS ":5060");
	tv_tcp *c;
	int err;

	c = host_tcp_connect(p->h, lport, &ss, pconn_cb, NULL, &err);
	cr_assert_not_null(c, "connect: %d", err);
	return pconn_new(p, c);
}

static void probe_close(struct probe *p)
{
	for (int i = 0; i < p->n; i++) {
		osip_message_free(p->m[i]);
		free(p->raw[i]);
	}
	for (int i = 0; i < p->nconns; i++) {
		if (p->conns[i].c)
			host_tcp_abort(p->conns[i].c);
		sipmsg_stream_free(&p->conns[i].rx);
	}
	if (p->l)
		host_tcp_unlisten(p->l);
	host_udp_close(p->u);
}

static void probe_udp(struct probe *p, const char *text)
{
	tv_ep ss = th_ep(IP_SS ":5060");

	cr_assert_eq(host_udp_send(p->u, &ss, text, strlen(text)), 0);
}

static void probe_tcp(struct pconn *k, const char *text)
{
	cr_assert_eq(host_tcp_send(k->c, text, strlen(text)), 0);
}

/* The last response with code to method, or NULL; *i its index. */
static osip_message_t *probe_rsp(const struct probe *p, const char *method, int code, int *i)
{
	for (int k = p->n - 1; k >= 0; k--) {
		if (p->m[k]->status_code == code && strcmp(p->m[k]->cseq->method, method) == 0) {
			if (i)
				*i = k;
			return p->m[k];
		}
	}
	return NULL;
}

static osip_message_t *probe_req(const struct probe *p, const char *method, int *i)
{
	for (int k = p->n - 1; k >= 0; k--) {
		if (MSG_IS_REQUEST(p->m[k]) && strcmp(p->m[k]->sip_method, method) == 0) {
			if (i)
				*i = k;
			return p->m[k];
		}
	}
	return NULL;
}

/* ---- the world --------------------------------------------------------------- */

struct world {
	sim_net *n;
	sim_link *l;
	tv_host *hs, *hp, *ha;
	softswitch *ss;
	sipua *a;
	struct probe p;
};

static void world_init(struct world *w, const softswitch_cfg *cfg)
{
	sim_link_cfg lc = { .delay = TV_MS(5) };
	softswitch_cfg def = { .domain = "example.net" };
	tv_ip is = th_ip(IP_SS), ip = th_ip(IP_P), ia = th_ip(IP_A);
	int err;

	memset(w, 0, sizeof(*w));
	w->n = sim_net_new(3);
	w->l = sim_link_new(w->n, "lan", &lc);
	w->hs = simhost_new(w->n, w->l, "softswitch", &is);
	w->hp = simhost_new(w->n, w->l, "probe", &ip);
	w->ha = simhost_new(w->n, w->l, "alice", &ia);
	cr_assert(w->n && w->l && w->hs && w->hp && w->ha);
	w->ss = softswitch_new_cfg(w->hs, cfg ? cfg : &def, &err);
	cr_assert_not_null(w->ss, "softswitch_new_cfg: %d", err);
	probe_open(&w->p, w->hp);
}

static void world_alice(struct world *w, const sipua_cfg *extra)
{
	sipua_cfg c = { .user = "alice", .domain = "example.net", .proxy = th_ep(IP_SS ":5060") };
	int err;

	if (extra) {
		c = *extra;
		c.user = "alice";
		c.domain = "example.net";
		if (!c.proxy.port)
			c.proxy = th_ep(IP_SS ":5060");
	}
	w->a = sipua_new(w->ha, &c, &err);
	cr_assert_not_null(w->a, "sipua_new: %d", err);
}

static void world_free(struct world *w)
{
	probe_close(&w->p);
	sipua_free(w->a);
	softswitch_free(w->ss);
	host_free(w->ha);
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

/* A request from the probe: via is the whole Via value, contact a whole
 * Contact header line or "", branch makes the transaction. */
static const char *req(const char *method, const char *ruri, const char *via, const char *to,
		       const char *contact, const char *extra, const char *branch)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
		 "%s %s SIP/2.0\r\n"
		 "Via: %s;branch=z9hG4bK%s\r\n"
		 "From: <sip:probe@example.net>;tag=pt\r\n"
		 "To: <%s>\r\n"
		 "Call-ID: %s@" IP_P "\r\n"
		 "CSeq: 1 %s\r\n"
		 "Max-Forwards: 70\r\n"
		 "%s%s"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri, via, branch, to, branch, method, contact, extra);
	return buf;
}

#define VIA_UDP "SIP/2.0/UDP " IP_P ":5060"

/* REGISTER for carol with these Contact lines (and an Expires header). */
static const char *reg(const char *contacts, const char *branch)
{
	return req("REGISTER", "sip:example.net", VIA_UDP, "sip:carol@example.net", contacts,
		   "Expires: 60\r\n", branch);
}

/* ---- framing ------------------------------------------------------------------ */

static int frame(const char *text, bool need_length, size_t *mlen)
{
	sipmsg_stream s = { .need_length = need_length };
	const uint8_t *msg;
	uint64_t ka = 0;
	int rc;

	cr_assert_eq(sipmsg_stream_feed(&s, (const uint8_t *)text, strlen(text)), 0);
	rc = sipmsg_stream_next(&s, &msg, mlen, &ka);
	sipmsg_stream_free(&s);
	return rc;
}

Test(ss_frame, content_length_forms)
{
	static const struct {
		const char *head;
		int rc;                 /* with need_length */
		size_t body;
	} cases[] = {
		{ "Content-Length: 4\r\n", 1, 4 },
		{ "content-length: 4\r\n", 1, 4 },
		{ "CONTENT-LENGTH:4\r\n", 1, 4 },
		{ "l: 4\r\n", 1, 4 },
		{ "L : 4\r\n", 1, 4 },
		{ "Content-Length \t: 4 \r\n", 1, 4 },
		{ "Content-Length:\r\n 4\r\n", 1, 4 },          /* folded value */
		{ "Content-Length: 4\r\nl: 4\r\n", 1, 4 },      /* twice, agreeing */
		{ "Content-Length: 4\r\nl: 3\r\n", TV_EINVAL, 0 },
		{ "Content-Length: four\r\n", TV_EINVAL, 0 },
		{ "Content-Length: -4\r\n", TV_EINVAL, 0 },
		{ "Content-Length:\r\n", TV_EINVAL, 0 },
		{ "Content-Type: text/plain\r\n", TV_EINVAL, 0 }, /* none */
		{ "X-Content-Length: 4\r\n", TV_EINVAL, 0 },
	};
	char text[512];
	size_t mlen, head;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		head = (size_t)snprintf(text, sizeof(text), "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP a\r\n%s\r\n",
					cases[i].head);
		strcat(text, "abcdEXTRA");
		cr_assert_eq(frame(text, true, &mlen), cases[i].rc, "case %zu: %s", i, cases[i].head);
		if (cases[i].rc == 1)
			cr_assert_eq(mlen, head + cases[i].body, "case %zu", i);
	}
	/* Without need_length, a head without one frames as no body. */
	snprintf(text, sizeof(text), "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP a\r\n\r\nabcd");
	cr_assert_eq(frame(text, false, &mlen), 1);
	cr_assert_eq(mlen, strlen(text) - 4);
	cr_assert_eq(frame(text, true, &mlen), TV_EINVAL);
}

/* ---- folding and joining ----------------------------------------------------- */

static const char plain[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKa;received=10.0.0.1\r\n"
	"Via: SIP/2.0/UDP 10.0.0.7:5060\r\n"
	"From: <sip:a@example.net>;tag=1\r\n"
	"To: <sip:a@example.net>;tag=2\r\n"
	"Call-ID: c@h\r\n"
	"CSeq: 1 REGISTER\r\n"
	"Contact: <sip:a@10.0.0.1:5100;transport=tcp>;expires=60\r\n"
	"m: \"A; B, C\" <sip:a@10.0.0.1:5101>\r\n"
	"Content-Length: 4\r\n\r\n"
	"Via:";

Test(ss_fold, exact_bytes_then_parsed_back, .init = sipmsg_init)
{
	static const char want[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKa\r\n ;received=10.0.0.1\r\n"
		"Via:\r\n  SIP/2.0/UDP 10.0.0.7:5060\r\n"
		"From: <sip:a@example.net>;tag=1\r\n"
		"To: <sip:a@example.net>;tag=2\r\n"
		"Call-ID: c@h\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <sip:a@10.0.0.1:5100;transport=tcp>\r\n\t;expires=60\r\n"
		"m:\r\n\t \"A; B, C\" <sip:a@10.0.0.1:5101>\r\n"
		"Content-Length: 4\r\n\r\n"
		"Via:";
	char out[1024], again[1024];
	size_t n, n2;
	osip_message_t *a, *b;
	char *sa, *sb;
	size_t la, lb;

	cr_assert_eq(sipmsg_fold(plain, strlen(plain), out, sizeof(out), &n), 0);
	out[n] = '\0';
	cr_assert_str_eq(out, want);
	/* Already folded headers are left alone. */
	cr_assert_eq(sipmsg_fold(out, n, again, sizeof(again), &n2), 0);
	cr_assert_eq(n2, n);
	cr_assert_eq(memcmp(again, out, n), 0);
	/* Too small a buffer is refused, not overrun. */
	cr_assert_eq(sipmsg_fold(plain, strlen(plain), out, strlen(plain) + 5, &n2), TV_ENOSPC);
	/* libosip2 reads the folded text as the same message. */
	cr_assert_eq(sipmsg_parse((const uint8_t *)plain, strlen(plain), &a), 0);
	cr_assert_eq(sipmsg_parse((const uint8_t *)want, strlen(want), &b), 0);
	cr_assert_eq(sipmsg_to_str(a, &sa, &la), 0);
	cr_assert_eq(sipmsg_to_str(b, &sb, &lb), 0);
	cr_assert_str_eq(sa, sb);
	osip_free(sa);
	osip_free(sb);
	osip_message_free(a);
	osip_message_free(b);
}

Test(ss_fold, join_lists_values_on_the_first_line, .init = sipmsg_init)
{
	static const char in[] =
		"REGISTER sip:example.net SIP/2.0\r\n"
		"Contact: <sip:a@1.2.3.4>\r\n"
		"Via: SIP/2.0/UDP 1.2.3.4\r\n"
		"contact: <sip:a@1.2.3.4;transport=tcp>;q=0.5\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char want[] =
		"REGISTER sip:example.net SIP/2.0\r\n"
		"Contact: <sip:a@1.2.3.4>, <sip:a@1.2.3.4;transport=tcp>;q=0.5\r\n"
		"Via: SIP/2.0/UDP 1.2.3.4\r\n"
		"Content-Length: 0\r\n\r\n";
	char out[512], *buf;
	size_t n;
	osip_message_t *m;
	osip_contact_t *c = NULL;

	cr_assert_eq(sipmsg_join(in, strlen(in), "Contact", 'm', out, sizeof(out), &n), 0);
	out[n] = '\0';
	cr_assert_str_eq(out, want);
	cr_assert_eq(osip_message_init(&m), 0);
	cr_assert_eq(osip_message_parse(m, out, n), 0);
	cr_assert_eq(osip_list_size(&m->contacts), 2);
	osip_message_get_contact(m, 1, &c);
	cr_assert_str_eq(c->url->host, "1.2.3.4");
	osip_message_free(m);
	/* One Contact: nothing to join. */
	cr_assert_eq(sipmsg_join(want, strlen(want), "Contact", 'm', out, sizeof(out), &n), 0);
	cr_assert_eq(n, strlen(want));
	/* Both, through restyle: joined, then folded after the comma. */
	buf = osip_strdup(in);
	n = strlen(in);
	cr_assert_eq(sipmsg_restyle(&buf, &n, SIPMSG_STYLE_JOIN_CONTACTS | SIPMSG_STYLE_FOLD), 0);
	cr_assert_eq(n, strlen(buf));
	cr_assert(strstr(buf, "Contact: <sip:a@1.2.3.4>,\r\n\t <sip:a@1.2.3.4;transport=tcp>;q=0.5\r\n"), "%s", buf);
	cr_assert(strstr(buf, "Via:\r\n  SIP/2.0/UDP 1.2.3.4\r\n"), "%s", buf);
	osip_free(buf);
}

/* ---- TCP: where responses go (RFC 3261 18.2.2) -------------------------------- */

#define OPTIONS_SELF(via, branch) req("OPTIONS", "sip:" IP_SS, via, "sip:" IP_SS, "", "", branch)

Test(ss_tcp, answers_on_the_connection_the_request_came_on)
{
	struct world w;
	struct pconn *k;
	const char *o = OPTIONS_SELF("SIP/2.0/TCP " IP_P ":5070", "t1");
	size_t half = strlen(o) / 2;
	char first[1024];
	int i;

	world_init(&w, NULL);
	k = probe_connect(&w.p, 0);
	/* A keepalive, then the request in two pieces. */
	snprintf(first, sizeof(first), "\r\n\r\n%.*s", (int)half, o);
	probe_tcp(k, first);
	run(&w, TV_MS(50));
	probe_tcp(k, o + half);
	run(&w, TV_MS(50));
	cr_assert_not_null(probe_rsp(&w.p, "OPTIONS", 200, &i));
	cr_assert_eq(w.p.how[i], host_tcp_local(k->c).port, "on the probe's own connection");
	cr_assert_eq(sst(&w)->rx_tcp, 1);
	cr_assert_eq(sst(&w)->tx_tcp, 1);
	cr_assert_eq(sst(&w)->tcp_accepted, 1);
	cr_assert_eq(sst(&w)->tcp_opened, 0);
	cr_assert_eq(sst(&w)->responses_failed, 0);
	world_free(&w);
}

Test(ss_tcp, udp_request_with_tcp_via_is_answered_over_tcp)
{
	struct world w;
	osip_message_t *r;
	int i;

	world_init(&w, NULL);
	probe_listen(&w.p, 5070);
	probe_udp(&w.p, OPTIONS_SELF("SIP/2.0/TCP " IP_P ":5070", "t2"));
	run(&w, TV_MS(100));
	r = probe_rsp(&w.p, "OPTIONS", 200, &i);
	cr_assert_not_null(r);
	cr_assert_eq(w.p.how[i], 5070, "a new connection to the sent-by port, not UDP");
	cr_assert_eq(w.p.accepts, 1);
	cr_assert_eq(sst(&w)->tcp_opened, 1);
	cr_assert_eq(sst(&w)->responses_failed, 0);
	/* received names the source when sent-by lies: it connects there. */
	probe_udp(&w.p, OPTIONS_SELF("SIP/2.0/TCP 192.0.2.7:5070", "t3"));
	run(&w, TV_MS(100));
	cr_assert_eq(w.p.n, 2);
	cr_assert_eq(w.p.how[1], 5070);
	cr_assert_eq(sst(&w)->tcp_opened, 1, "the open connection to " IP_P ":5070 is reused");
	world_free(&w);
}

Test(ss_tcp, no_listener_for_a_tcp_via_counts_a_failed_response)
{
	struct world w;

	world_init(&w, NULL);
	probe_udp(&w.p, OPTIONS_SELF("SIP/2.0/TCP " IP_P ":5100", "t4"));
	run(&w, TV_MS(200));
	cr_assert_eq(w.p.n, 0, "nothing comes back over UDP");
	cr_assert_eq(sst(&w)->tcp_opened, 1);
	cr_assert_eq(sst(&w)->responses_failed, 1);
	/* A UDP Via is still answered over UDP. */
	probe_udp(&w.p, OPTIONS_SELF(VIA_UDP, "t5"));
	run(&w, TV_MS(100));
	cr_assert_eq(w.p.n, 1);
	cr_assert_eq(w.p.how[0], 0);
	cr_assert_eq(sst(&w)->responses_failed, 1);
	world_free(&w);
}

Test(ss_tcp, udp_only_answers_everything_over_udp)
{
	struct world w;
	softswitch_cfg c = { .domain = "example.net", .udp_only = true };

	world_init(&w, &c);
	probe_udp(&w.p, OPTIONS_SELF("SIP/2.0/TCP " IP_P ":5060", "t6"));
	run(&w, TV_MS(100));
	cr_assert_eq(w.p.n, 1);
	cr_assert_eq(w.p.how[0], 0);
	cr_assert_eq(sst(&w)->tcp_opened, 0);
	world_free(&w);
}

/* alice (UDP) answers an OPTIONS the probe sends her through the
 * softswitch over TCP; her 200 is routed back by the probe's Via. */
Test(ss_tcp, routed_response_follows_the_tcp_via)
{
	struct world w;
	struct pconn *k;
	const char *to_alice;
	int i;

	world_init(&w, NULL);
	world_alice(&w, NULL);
	probe_listen(&w.p, 5070);
	k = probe_connect(&w.p, 0);
	/* With rport: the stamped rport names the connection: reused. */
	to_alice = req("OPTIONS", "sip:alice@" IP_A ":5060", "SIP/2.0/TCP " IP_P ":5070;rport", "sip:alice@example.net",
		       "", "", "r1");
	probe_tcp(k, to_alice);
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "OPTIONS", 200, &i));
	cr_assert_eq(w.p.how[i], host_tcp_local(k->c).port);
	cr_assert_eq(sst(&w)->responses_routed, 1);
	cr_assert_eq(sst(&w)->tcp_opened, 0);
	/* Without: to the sent-by port, on a connection of its own. */
	to_alice = req("OPTIONS", "sip:alice@" IP_A ":5060", "SIP/2.0/TCP " IP_P ":5070", "sip:alice@example.net",
		       "", "", "r2");
	probe_tcp(k, to_alice);
	run(&w, TV_MS(100));
	cr_assert_eq(w.p.n, 2);
	cr_assert_eq(w.p.how[1], 5070);
	cr_assert_eq(sst(&w)->tcp_opened, 1);
	cr_assert_eq(sst(&w)->responses_failed, 0);
	world_free(&w);
}

Test(ss_tcp, unframeable_stream_closes_the_connection)
{
	struct world w;
	struct pconn *k;
	const char *ok = OPTIONS_SELF("SIP/2.0/TCP " IP_P ":5070", "f1");
	char nolen[1024];

	world_init(&w, NULL);
	k = probe_connect(&w.p, 0);
	probe_tcp(k, ok);
	run(&w, TV_MS(50));
	cr_assert_eq(w.p.n, 1);
	/* The same request without Content-Length: RFC 3261 18.3 requires it. */
	snprintf(nolen, sizeof(nolen), "%.*s\r\n", (int)(strstr(ok, "Content-Length") - ok), ok);
	probe_tcp(k, nolen);
	run(&w, TV_MS(50));
	cr_assert_eq(sst(&w)->tcp_bad_framing, 1);
	cr_assert(k->peer_closed, "the softswitch closed the connection");
	cr_assert_eq(w.p.n, 1, "and answered nothing");
	cr_assert_eq(sst(&w)->rx_tcp, 1);
	/* A new connection works. */
	k = probe_connect(&w.p, 0);
	probe_tcp(k, req("OPTIONS", "sip:" IP_SS, "SIP/2.0/TCP " IP_P ":5070", "sip:" IP_SS, "", "", "f2"));
	run(&w, TV_MS(100));
	cr_assert_eq(w.p.n, 2);
	cr_assert_eq(sst(&w)->tcp_accepted, 2);
	world_free(&w);
}

/* ---- forwarding over TCP ---------------------------------------------------------- */

Test(ss_tcp, forwards_to_a_tcp_contact_over_tcp)
{
	struct world w;
	osip_message_t *m;
	osip_via_t *v = NULL;
	int i;

	world_init(&w, NULL);
	probe_udp(&w.p, reg("Contact: <sip:carol@" IP_P ":5080;transport=tcp>\r\n", "g1"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 200, NULL));
	/* No listener yet: the OPTIONS to carol cannot be delivered. */
	probe_udp(&w.p, req("OPTIONS", "sip:carol@example.net", VIA_UDP, "sip:carol@example.net", "", "", "g2"));
	run(&w, TV_MS(100));
	cr_assert_eq(sst(&w)->requests_routed, 1);
	cr_assert_eq(sst(&w)->requests_failed, 1);
	probe_listen(&w.p, 5080);
	probe_udp(&w.p, req("OPTIONS", "sip:carol@example.net", VIA_UDP, "sip:carol@example.net", "", "", "g3"));
	run(&w, TV_MS(100));
	m = probe_req(&w.p, "OPTIONS", &i);
	cr_assert_not_null(m);
	cr_assert_eq(w.p.how[i], 5080);
	osip_message_get_via(m, 0, &v);
	cr_assert_str_eq(v->protocol, "TCP");
	cr_assert_str_eq(v->host, IP_SS);
	cr_assert_str_eq(m->req_uri->host, IP_P);
	cr_assert_eq(sst(&w)->requests_failed, 1);
	/* A Request-URI that is not ours, with ;transport=tcp: TCP as well. */
	probe_udp(&w.p, req("OPTIONS", "sip:dave@" IP_P ":5080;transport=tcp", VIA_UDP, "sip:dave@example.net", "", "",
			    "g4"));
	run(&w, TV_MS(100));
	m = probe_req(&w.p, "OPTIONS", &i);
	cr_assert_str_eq(m->req_uri->username, "dave");
	cr_assert_eq(w.p.how[i], 5080);
	cr_assert_eq(sst(&w)->requests_routed, 3);
	world_free(&w);
}

/* ---- routability -------------------------------------------------------------------- */

/* The code a REGISTER of carol at host gets. */
static int reg_code(struct world *w, const char *host, const char *branch)
{
	char c[128];
	osip_message_t *r;
	int n0 = w->p.n;

	snprintf(c, sizeof(c), "Contact: <sip:carol@%s:5062>\r\n", host);
	probe_udp(&w->p, reg(c, branch));
	run(w, TV_MS(100));
	cr_assert_eq(w->p.n, n0 + 1, "one answer for %s", host);
	r = w->p.m[n0];
	return r->status_code;
}

Test(ss_reach, default_is_own_network_and_public_addresses)
{
	static const struct {
		const char *host;
		int code;
	} cases[] = {
		{ "10.0.0.77", 200 },   /* its own /24 */
		{ "10.0.1.77", 403 },   /* RFC 1918, not its own */
		{ "172.16.4.4", 403 }, { "172.31.255.1", 403 }, { "172.32.0.1", 200 },
		{ "192.168.1.10", 403 }, { "100.64.0.1", 403 }, { "100.127.255.254", 403 }, { "100.128.0.1", 200 },
		{ "127.0.0.1", 403 }, { "169.254.3.3", 403 }, { "0.0.0.0", 403 }, { "224.0.0.5", 403 },
		{ "198.51.100.10", 200 }, { "203.0.113.10", 200 }, { "8.8.8.8", 200 },
		{ "pbx.example.net", 403 },     /* no DNS in the core */
	};
	struct world w;
	char br[16];
	int refused = 0;

	world_init(&w, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(br, sizeof(br), "d%zu", i);
		cr_assert_eq(reg_code(&w, cases[i].host, br), cases[i].code, "%s", cases[i].host);
		refused += cases[i].code == 403;
	}
	cr_assert_eq(sst(&w)->contact_unroutable, (uint64_t)refused);
	world_free(&w);
}

Test(ss_reach, a_list_replaces_the_default_and_any_believes_all)
{
	struct world w;
	softswitch_cfg c = { .domain = "example.net", .reach = SOFTSWITCH_REACH_LIST, .nreach = 2,
			     .reach_list = { { th_ip("192.168.1.0"), 24 }, { th_ip("203.0.113.10"), 32 } } };

	world_init(&w, &c);
	cr_assert_eq(reg_code(&w, "192.168.1.10", "l1"), 200);
	cr_assert_eq(reg_code(&w, "203.0.113.10", "l2"), 200);
	cr_assert_eq(reg_code(&w, "203.0.113.11", "l3"), 403);
	cr_assert_eq(reg_code(&w, "10.0.0.77", "l4"), 403, "its own network only if listed");
	world_free(&w);
	c.reach = SOFTSWITCH_REACH_ANY;
	world_init(&w, &c);
	cr_assert_eq(reg_code(&w, "192.168.7.10", "a1"), 200);
	cr_assert_eq(reg_code(&w, "127.0.0.1", "a2"), 200);
	cr_assert_eq(sst(&w)->contact_unroutable, 0);
	world_free(&w);
}

Test(ss_reach, refusal_is_403_with_a_warning_and_all_or_nothing)
{
	struct world w;
	osip_message_t *r;
	osip_header_t *h = NULL;
	tv_ep ep;

	world_init(&w, NULL);
	probe_udp(&w.p, reg("Contact: <sip:carol@10.0.0.50:5062>, <sip:carol@192.168.1.10:5062>\r\n", "w1"));
	run(&w, TV_MS(100));
	r = probe_rsp(&w.p, "REGISTER", 403, NULL);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->reason_phrase, "Contact Not Routable");
	cr_assert_geq(osip_message_header_get_byname(r, "warning", 0, &h), 0);
	cr_assert(strstr(h->hvalue, "399 " IP_SS) == h->hvalue && strstr(h->hvalue, "192.168.1.10"), "%s", h->hvalue);
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &ep), TV_ENOENT, "the routable one is not kept either");
	cr_assert_eq(sst(&w)->contact_unroutable, 1);
	cr_assert_eq(sst(&w)->contacts, 0);
	/* Removing an unroutable Contact is not refused. */
	probe_udp(&w.p, reg("Contact: <sip:carol@192.168.1.10:5062>;expires=0\r\n", "w2"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 200, NULL));
	cr_assert_eq(sst(&w)->contact_unroutable, 1);
	world_free(&w);
}

Test(ss_reach, invite_with_a_private_contact_is_refused_and_its_ack_absorbed)
{
	struct world w;
	osip_message_t *r;
	char ack[1024];
	const char *tag;

	world_init(&w, NULL);
	world_alice(&w, NULL);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	probe_udp(&w.p, req("INVITE", "sip:alice@example.net", VIA_UDP, "sip:alice@example.net",
			    "Contact: <sip:probe@192.168.9.9:5060>\r\n", "", "i1"));
	run(&w, TV_MS(100));
	r = probe_rsp(&w.p, "INVITE", 403, NULL);
	cr_assert_not_null(r);
	cr_assert_eq(sst(&w)->contact_unroutable, 1);
	cr_assert_eq(sst(&w)->requests_routed, 0);
	cr_assert_eq(sipua_get_status(w.a)->state, SIPUA_IDLE);
	/* The ACK for the 403 carries its To tag and the INVITE's branch. */
	tag = sipmsg_tag(r->to);
	cr_assert_not_null(tag);
	snprintf(ack, sizeof(ack),
		 "ACK sip:alice@example.net SIP/2.0\r\n"
		 "Via: " VIA_UDP ";branch=z9hG4bKi1\r\n"
		 "From: <sip:probe@example.net>;tag=pt\r\n"
		 "To: <sip:alice@example.net>;tag=%s\r\n"
		 "Call-ID: i1@" IP_P "\r\n"
		 "CSeq: 1 ACK\r\n"
		 "Max-Forwards: 70\r\n"
		 "Content-Length: 0\r\n\r\n", tag);
	probe_udp(&w.p, ack);
	run(&w, TV_MS(100));
	cr_assert_eq(sst(&w)->requests_routed, 0, "the ACK of our own 403 goes nowhere");
	/* A routable Contact goes through. */
	probe_udp(&w.p, req("INVITE", "sip:alice@example.net", VIA_UDP, "sip:alice@example.net",
			    "Contact: <sip:probe@" IP_P ":5060>\r\n", "", "i2"));
	run(&w, TV_MS(100));
	cr_assert_eq(sst(&w)->requests_routed, 1);
	cr_assert_eq(sst(&w)->contact_unroutable, 1);
	world_free(&w);
}

/* ---- several Contacts ---------------------------------------------------------------- */

static int contacts(struct world *w, softswitch_contact *out)
{
	return softswitch_contacts(w->ss, "carol", out, SOFTSWITCH_MAX_CONTACTS);
}

Test(ss_reg, several_contacts_each_with_its_expiry)
{
	struct world w;
	softswitch_contact c[SOFTSWITCH_MAX_CONTACTS];
	osip_message_t *r;
	osip_contact_t *ct = NULL;
	osip_generic_param_t *e = NULL;

	world_init(&w, NULL);
	/* Two in one header, one in another. */
	probe_udp(&w.p, reg("Contact: <sip:carol@" IP_P ":5062>;expires=10, <sip:carol@" IP_P ":5064>\r\n"
			    "Contact: <sip:carol@" IP_P ":5066;transport=tcp>;expires=100\r\n", "m1"));
	run(&w, TV_MS(100));
	r = probe_rsp(&w.p, "REGISTER", 200, NULL);
	cr_assert_not_null(r);
	cr_assert_eq(osip_list_size(&r->contacts), 3, "the 200 lists every Contact");
	osip_message_get_contact(r, 0, &ct);
	cr_assert_eq(osip_contact_param_get_byname(ct, "expires", &e), 0);
	cr_assert_str_eq(e->gvalue, "10");
	osip_message_get_contact(r, 1, &ct);
	cr_assert_eq(osip_contact_param_get_byname(ct, "expires", &e), 0);
	cr_assert_str_eq(e->gvalue, "60");      /* the Expires header */
	cr_assert_eq(contacts(&w, c), 3);
	cr_assert_str_eq(c[2].uri, "sip:carol@" IP_P ":5066;transport=tcp");
	cr_assert(c[2].tcp && !c[0].tcp);
	cr_assert_eq(sst(&w)->contacts, 3);
	cr_assert_eq(sst(&w)->bindings, 1);
	run(&w, TV_SEC(10));
	cr_assert_eq(contacts(&w, c), 2, "the 10 s one is gone");
	cr_assert_eq(c[0].ep.port, 5064);
	cr_assert_eq(sst(&w)->contacts, 2);
	run(&w, TV_SEC(50));
	cr_assert_eq(contacts(&w, c), 1);
	run(&w, TV_SEC(50));
	cr_assert_eq(contacts(&w, c), 0);
	cr_assert_eq(sst(&w)->bindings, 0);
	world_free(&w);
}

Test(ss_reg, requests_go_to_the_most_recent)
{
	struct world w;
	tv_ep ep;
	osip_message_t *m;

	world_init(&w, NULL);
	probe_udp(&w.p, reg("Contact: <sip:carol@" IP_P ":5060>, <sip:carol@" IP_P ":5064>\r\n", "o1"));
	run(&w, TV_MS(100));
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &ep), 0);
	cr_assert_eq(ep.port, 5060, "of one REGISTER, the first listed");
	probe_udp(&w.p, reg("Contact: <sip:carol@" IP_P ":5064>\r\n", "o2"));
	run(&w, TV_MS(100));
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &ep), 0);
	cr_assert_eq(ep.port, 5064, "refreshed last");
	probe_udp(&w.p, reg("Contact: <sip:carol@" IP_P ":5064>;expires=0\r\n", "o3"));
	run(&w, TV_MS(100));
	cr_assert_eq(softswitch_lookup(w.ss, "carol", &ep), 0);
	cr_assert_eq(ep.port, 5060);
	/* An OPTIONS to carol goes there. */
	probe_udp(&w.p, req("OPTIONS", "sip:carol@example.net", VIA_UDP, "sip:carol@example.net", "", "", "o4"));
	run(&w, TV_MS(100));
	cr_assert_eq(sst(&w)->requests_routed, 1);
	m = probe_req(&w.p, "OPTIONS", NULL);
	cr_assert_not_null(m);
	cr_assert_str_eq(m->req_uri->port, "5060");
	world_free(&w);
}

Test(ss_reg, limit_and_star)
{
	struct world w;
	char many[2048] = "Contact: ";
	softswitch_contact c[SOFTSWITCH_MAX_CONTACTS];
	size_t n;

	world_init(&w, NULL);
	for (int i = 0; i <= SOFTSWITCH_MAX_CONTACTS; i++) {
		n = strlen(many);
		snprintf(many + n, sizeof(many) - n, "%s<sip:carol@" IP_P ":%d>", i ? ", " : "", 6000 + i);
	}
	strcat(many, "\r\n");
	probe_udp(&w.p, reg(many, "x1"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 503, NULL));
	cr_assert_eq(sst(&w)->contacts_full, 1);
	cr_assert_eq(contacts(&w, c), 0, "none kept");
	/* Exactly the limit is fine. */
	*strrchr(many, ',') = '\0';
	strcat(many, "\r\n");
	probe_udp(&w.p, reg(many, "x2"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 200, NULL));
	cr_assert_eq(contacts(&w, c), SOFTSWITCH_MAX_CONTACTS);
	/* Contact: * with Expires: 0 removes them all; with a lifetime it is 400. */
	probe_udp(&w.p, req("REGISTER", "sip:example.net", VIA_UDP, "sip:carol@example.net", "Contact: *\r\n",
			    "Expires: 60\r\n", "x3"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 400, NULL));
	cr_assert_eq(contacts(&w, c), SOFTSWITCH_MAX_CONTACTS);
	probe_udp(&w.p, req("REGISTER", "sip:example.net", VIA_UDP, "sip:carol@example.net", "Contact: *\r\n",
			    "Expires: 0\r\n", "x4"));
	run(&w, TV_MS(100));
	cr_assert_eq(contacts(&w, c), 0);
	cr_assert_eq(sst(&w)->bindings, 0);
	world_free(&w);
}

/* ---- folding, from the softswitch and the phone ------------------------------------- */

Test(ss_fold, softswitch_folds_the_responses_it_makes_and_routes)
{
	struct world w;
	softswitch_cfg c = { .domain = "example.net", .fold = true };
	int i;

	world_init(&w, &c);
	world_alice(&w, NULL);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert(sipua_get_status(w.a)->registered, "the phone reads a folded 200");
	cr_assert_eq(sipua_get_status(w.a)->reg_contacts, 1);
	probe_udp(&w.p, reg("Contact: <sip:carol@" IP_P ":5062>\r\n", "h1"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 200, &i));
	cr_assert(strstr(w.p.raw[i], "Via: " VIA_UDP "\r\n ;branch=z9hG4bKh1\r\n"), "%s", w.p.raw[i]);
	cr_assert(strstr(w.p.raw[i], "Contact: <sip:carol@" IP_P ":5062>\r\n\t;expires=60\r\n"), "%s", w.p.raw[i]);
	/* A response alice makes, routed back: folded too; requests are not. */
	probe_udp(&w.p, req("OPTIONS", "sip:alice@example.net", VIA_UDP ";rport", "sip:alice@example.net", "", "",
			    "h2"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "OPTIONS", 200, &i));
	cr_assert(strstr(w.p.raw[i], "Via: " VIA_UDP ";rport=5060;branch=z9hG4bKh2\r\n ;received=" IP_P "\r\n"),
		  "%s", w.p.raw[i]);
	cr_assert(strstr(w.p.raw[i], "Contact:\r\n\t <sip:alice@" IP_A ":5060>"), "%s", w.p.raw[i]);
	cr_assert_eq(sst(&w)->responses_routed, 1);
	world_free(&w);
}

/* What alice sends to the probe, playing her softswitch. */
static char *alice_register_text(const sipua_cfg *cfg)
{
	struct world w;
	sipua_cfg c = *cfg;
	char *t;

	c.proxy = th_ep(IP_P ":5060");
	world_init(&w, NULL);
	if (c.tcp)
		probe_listen(&w.p, 5060);
	world_alice(&w, &c);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_MS(50));
	cr_assert_not_null(probe_req(&w.p, "REGISTER", NULL));
	t = strdup(w.p.raw[0]);
	world_free(&w);
	return t;
}

Test(ss_phone, two_contacts_in_one_header_or_two)
{
	sipua_cfg c = { .contacts = 2 };
	char *t;

	t = alice_register_text(&c);
	cr_assert(strstr(t, "\r\nContact: <sip:alice@" IP_A ":5060>, <sip:alice@" IP_A ":5060;transport=tcp>\r\n"),
		  "%s", t);
	free(t);
	c.contact_headers = true;
	t = alice_register_text(&c);
	cr_assert(strstr(t, "\r\nContact: <sip:alice@" IP_A ":5060>\r\nContact: <sip:alice@" IP_A
			    ":5060;transport=tcp>\r\n"), "%s", t);
	free(t);
	c.contacts = 1;
	t = alice_register_text(&c);
	cr_assert_null(strstr(t, "transport=tcp"), "%s", t);
	free(t);
	c.tcp = true;
	c.contacts = 2;
	c.contact_headers = false;
	t = alice_register_text(&c);
	cr_assert(strstr(t, "\r\nContact: <sip:alice@" IP_A ":5060;transport=tcp>, <sip:alice@" IP_A ":5060>\r\n"),
		  "a TCP phone's second Contact is the UDP one: %s", t);
	free(t);
}

Test(ss_phone, folded_requests_register_and_both_contacts_come_back)
{
	struct world w;
	sipua_cfg c = { .contacts = 2, .fold = true };
	softswitch_contact ct[SOFTSWITCH_MAX_CONTACTS];
	char *t = alice_register_text(&c);

	cr_assert(strstr(t, "\r\nVia: SIP/2.0/UDP " IP_A ":5060\r\n ;branch=z9hG4bK"), "%s", t);
	cr_assert(strstr(t, "\r\nContact: <sip:alice@" IP_A ":5060>,\r\n\t <sip:alice@" IP_A ":5060;transport=tcp>\r\n"),
		  "%s", t);
	free(t);
	world_init(&w, NULL);
	world_alice(&w, &c);
	cr_assert_eq(sipua_register(w.a), 0);
	run(&w, TV_SEC(1));
	cr_assert(sipua_get_status(w.a)->registered);
	cr_assert_eq(sipua_get_status(w.a)->reg_contacts, 2);
	cr_assert_eq(softswitch_contacts(w.ss, "alice", ct, SOFTSWITCH_MAX_CONTACTS), 2);
	cr_assert_str_eq(ct[1].uri, "sip:alice@" IP_A ":5060;transport=tcp");
	world_free(&w);
}

/* ---- Path (RFC 3327) ------------------------------------------------------------ */

/* An edge proxy (the probe, at IP_P:5070) puts itself in the REGISTER's
 * Path with the NAT's address in ;received: a request for carol then goes
 * to the proxy, with the Path as its Route set and carol's Contact (private,
 * unreachable from the core) as its Request-URI. */
Test(ss_path, requests_follow_the_registered_path, .init = sipmsg_init)
{
	struct world w;
	osip_message_t *m;
	osip_route_t *r0 = NULL, *r1 = NULL;
	char *s0 = NULL;

	world_init(&w, NULL);
	probe_udp(&w.p, reg("Contact: <sip:carol@192.168.1.10:5060>\r\n"
			    "Path: <sip:" IP_P ":5060;lr;received=sip:203.0.113.10:1024>\r\n"
			    "Path: <sip:" IP_P ":5090;lr>\r\n", "p1"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 200, NULL), "a private Contact behind a Path is accepted");
	probe_udp(&w.p, req("OPTIONS", "sip:carol@example.net", VIA_UDP, "sip:carol@example.net", "", "", "p2"));
	run(&w, TV_MS(100));
	m = probe_req(&w.p, "OPTIONS", NULL);
	cr_assert_not_null(m, "sent to the first Path hop (the probe)");
	cr_assert_str_eq(m->req_uri->host, "192.168.1.10");
	cr_assert_eq(osip_message_get_route(m, 0, &r0), 0);
	cr_assert_eq(osip_message_get_route(m, 1, &r1), 1);
	cr_assert_eq(osip_route_to_str(r0, &s0), 0);
	cr_assert_str_eq(s0, "<sip:" IP_P ":5060;lr;received=sip:203.0.113.10:1024>");
	osip_free(s0);
	cr_assert_str_eq(r1->url->port, "5090");
	/* Without a Path the same private Contact is refused as unreachable. */
	probe_udp(&w.p, reg("Contact: <sip:carol@192.168.1.11:5060>\r\n", "p3"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 403, NULL));
	/* A Path whose first hop is not an address is a bad request. */
	probe_udp(&w.p, reg("Contact: <sip:carol@192.168.1.10:5060>\r\nPath: <sip:edge.example.net;lr>\r\n", "p4"));
	run(&w, TV_MS(100));
	cr_assert_not_null(probe_rsp(&w.p, "REGISTER", 400, NULL));
	world_free(&w);
}
