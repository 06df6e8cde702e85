/* test_sip_torture.c - the proxy against the SIP torture test messages of
 * RFC 4475 (exact bytes in tests/data/rfc4475/, origin in its README): each
 * from the access side over UDP and over TCP, each response also from the
 * core, every time in a fresh world whose softswitch takes TCP too. The
 * table says what RFC 3261 and 4475 ask of a stateless ALG in front of a
 * softswitch, not what the proxy happens to do. What is forwarded is checked
 * whole (top Via sent-by and SIP Contacts 10.0.0.1:5100, no IP literal of
 * theirs left, Content-Length right, SDP 10.0.0.1, other bodies unchanged);
 * what the proxy answers must be a well-formed response. Rows with a defect
 * number (Dn) are where this suite found the proxy wrong; each comment
 * says what it did before the fix, and the row fails if it comes back. */
#include "proxy_world.h"
#include "sip_frame.h"

#include <criterion/parameterized.h>
#include <osipparser2/osip_parser.h>
#include <stdlib.h>
#include <strings.h>

enum { NA = -9, WAIT = -2, CLOSE = -1 };

/* fwd messages reach the core; the proxy answers code itself (0: nothing;
 * TCP only: CLOSE, it closes the connection unanswered; WAIT, it waits for
 * the rest of the message). */
typedef struct outcome { int fwd, code; } outcome;

#define FWD { 1, 0 }
#define ANS(c) { 0, c }
#define DROP { 0, 0 }
#define NONE { NA, NA }

typedef struct row {
	const char *name;
	outcome udp, tcp, alt;  /* alt: another outcome the RFC allows, either transport */
	int core;               /* a response from the core: 1 relayed, 0 dropped; NA */
	const char *must;       /* '|'-separated texts the expected message must hold */
	int kf;                 /* the defect this row found (0: none) */
} row;

static const row rows[] = {
	/* 3.1.1 valid. Defect D1, fixed (was: 400 (Max-Forwards): "0068" is 1*DIGIT;
	 * and (D9) that 400 adds a second To tag: "tag    = 1918181833n" missed) */
	{ "wsinv", FWD, FWD, NONE, NA, "Via  : SIP  /   2.0 /UDP 10.0.0.1:5100;tvh;branch=390skdjuw\r\n|"
	  "NewFangledHeader:   newfangled value continued newfangled value\r\n", 1 },
	/* (with topology hiding, docs/proxy.md: its Route and the Vias below
	 * the top one stay with the proxy; the top Via is marked ;tvh, and
	 * the core's answer gets them back) */
	/* Defect D2, fixed (was: dropped unanswered: libosip2 stops at the NUL in To) */
	{ "intmeth", FWD, FWD, NONE, NA, "\r\nextensionHeader-!.%*+_`'~:", 2 },
	{ "esc01", FWD, FWD, NONE, NA, "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\r\n", 0 },
	{ "escnull", FWD, FWD, NONE, NA, "<sip:%00@10.0.0.1:5100>|<sip:%00%00@10.0.0.1:5100>", 0 },
	/* an unknown method; C%6Fntact is an extension header, not Contact */
	{ "esc02", FWD, FWD, NONE, NA, "RE%47IST%45R sip:|C%6Fntact: <sip:alias2@host2.example.com>\r\n", 0 },
	{ "lwsdisp", FWD, FWD, NONE, NA, "From: caller<sip:caller@example.com>;tag=323\r\n", 0 },
	/* Defect D3, fixed (was: 400 (Contact): its userinfo has 120 bytes) */
	{ "longreq", FWD, FWD, NONE, NA, "\r\nVia: SIP/2.0/TCP 10.0.0.1:5100;tvh\r\n", 3 },
	/* UDP: the octets after Content-Length go, the INVITE in them too. On
	 * a stream they are the next message: its SDP ("m =video", cut by its
	 * length) cannot be rewritten, 400, and the framing is lost after it. */
	{ "dblreq", FWD, { 1, 400 }, NONE, NA, "REGISTER sip:example.com SIP/2.0\r\n", 0 },
	{ "semiuri", FWD, FWD, NONE, NA, "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\r\n", 0 },
	{ "transports", FWD, FWD, NONE, NA,
	  "\r\nVia: SIP/2.0/UDP 10.0.0.1:5100;tvh;branch=z9hG4bKkdjuw\r\nl: 0\r\n", 0 },
	{ "mpart01", FWD, FWD, NONE, NA, "Max-Forwards: 69\r\nIdentity: |\r\n--7a9cbec02ceef655\r\nContent-Type: text/plain\r\n", 0 },
	/* A response whose top Via the proxy did not write is discarded (RFC
	 * 3261 18.1.2). Defect D4, fixed (was: from the core they are relayed.) */
	{ "unreason", DROP, DROP, NONE, 0, NULL, 4 },
	{ "noreason", DROP, DROP, NONE, 0, NULL, 4 },
	/* 3.1.2 invalid. Defect D5, fixed (was: requests libosip2 cannot read
	 * are dropped unanswered where RFC 4475 asks for 400.) */
	{ "badinv01", ANS(400), ANS(400), NONE, NA, NULL, 5 },
	{ "clerr", ANS(400), { 0, WAIT }, NONE, NA, NULL, 0 },
	{ "ncl", ANS(400), { 0, CLOSE }, NONE, NA, NULL, 0 },
	/* Defect D6, fixed (was: forwarded; CSeq 36893488147419103232 > 2^31 - 1) */
	{ "scalar02", ANS(400), ANS(400), NONE, NA, NULL, 6 },
	{ "scalarlg", DROP, DROP, NONE, 0, NULL, 4 },   /* defect D4, fixed */
	{ "quotbal", ANS(400), ANS(400), NONE, NA, NULL, 5 },
	{ "ltgtruri", ANS(400), ANS(400), NONE, NA, NULL, 5 },
	{ "lwsruri", ANS(400), ANS(400), NONE, NA, NULL, 5 },
	{ "lwsstart", ANS(400), ANS(400), NONE, NA, NULL, 5 },
	{ "trws", ANS(400), ANS(400), NONE, NA, NULL, 5 },
	{ "escruri", ANS(400), ANS(400), FWD, NA, NULL, 0 },
	/* the Date header is not the proxy's business: forwarded unchanged */
	{ "baddate", FWD, FWD, NONE, NA, "Date: Fri, 01 Jan 2010 16:00:00 EST\r\n", 0 },
	{ "regbadct", ANS(400), ANS(400), FWD, NA, NULL, 0 },
	{ "badaspec", ANS(400), ANS(400), FWD, NA, NULL, 5 },
	{ "baddn", ANS(400), ANS(400), FWD, NA, NULL, 5 },
	{ "badvers", ANS(505), ANS(505), NONE, NA, NULL, 0 },
	{ "mismatch01", ANS(400), ANS(400), NONE, NA, NULL, 0 },
	{ "mismatch02", ANS(400), ANS(400), NONE, NA, NULL, 0 },
	{ "bigcode", DROP, DROP, NONE, 0, NULL, 0 },
	{ "badbranch", FWD, FWD, ANS(400), NA, NULL, 0 },
	/* 3.3. The ALG does not route on the Request-URI: the softswitch
	 * answers 416 for a scheme it does not know. */
	{ "insuf", ANS(400), ANS(400), NONE, NA, NULL, 5 },
	{ "unkscm", FWD, FWD, ANS(416), NA, "OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0\r\n", 0 },
	/* Defect D7, fixed (was: a well-formed request dropped unanswered) */
	{ "novelsc", FWD, FWD, ANS(416), NA, "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\r\n", 7 },
	{ "unksm2", FWD, FWD, NONE, NA, "Contact: <name:John_Smith>\r\n", 0 },
	/* Defect D8, fixed (was: forwarded; 420 listing both (RFC 3261 16.3 step 5)) */
	{ "bext01", ANS(420), ANS(420), NONE, NA, "Unsupported|noProxiesSupportThis|norDoAnyProxiesSupportThis", 8 },
	{ "invut", FWD, FWD, NONE, NA, NULL, 0 },
	{ "regaut01", FWD, FWD, NONE, NA, "Authorization: NoOneKnowsThisScheme opaque-data=here\r\n", 0 },
	{ "multi01", ANS(400), ANS(400), NONE, NA, NULL, 5 },
	{ "mcl01", ANS(400), { 0, CLOSE }, NONE, NA, NULL, 0 },
	{ "bcast", DROP, DROP, NONE, 0, NULL, 4 },
	{ "zeromf", ANS(483), ANS(483), NONE, NA, NULL, 0 },
	/* unknownparam stays a header parameter, or a URI one, as written */
	{ "cparam01", FWD, FWD, NONE, NA, "Contact: sip:+19725552222@10.0.0.1:5100;unknownparam\r\n", 0 },
	{ "cparam02", FWD, FWD, NONE, NA, "Contact: <sip:+19725552222@10.0.0.1:5100;unknownparam>\r\n", 0 },
	{ "regescrt", FWD, FWD, NONE, NA, "M: <sip:user@10.0.0.1:5100?Route=%3Csip:sip.example.com%3E>\r\n", 0 },
	{ "sdp01", FWD, FWD, NONE, NA, "Accept: text/nobodyKnowsThis\r\n", 0 },
	/* 3.4: RFC 2543 syntax; without Content-Length a stream cannot be framed */
	{ "inv2543", FWD, { 0, CLOSE }, NONE, NA, "Via: SIP/2.0/UDP 10.0.0.1:5100\r\n", 0 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* ---- the world: a TCP client at the terminal, a TCP server at the softswitch */

static struct tcpc { tv_tcp *c; char rx[BOX_MSG_MAX]; size_t n; bool reset; } tc, ssc;
static tv_tcp_listener *ss_l;

static void tcp_rec(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *d, size_t len, tv_time now)
{
	struct tcpc *k = arg;

	(void)now;
	if (ev == TV_TCP_DATA && k->n + len < sizeof(k->rx)) {
		memcpy(k->rx + k->n, d, len);
		k->rx[k->n += len] = '\0';
	}
	if (ev == TV_TCP_PEER_CLOSED)
		host_tcp_close(c);
	if (ev == TV_TCP_RESET || ev == TV_TCP_TIMEOUT || ev == TV_TCP_CLOSED) {
		k->reset = ev != TV_TCP_CLOSED;
		k->c = NULL;
	}
}

static void ss_accept(void *arg, tv_tcp *c, tv_time now)
{
	(void)arg;
	(void)now;
	ssc.c = c;
	host_tcp_set_cb(c, tcp_rec, &ssc);
}

static void core_tcp_on(proxy_cfg *pc) { pc->core_tcp = true; }

static void up(void)
{
	int err;

	setup_with(core_tcp_on);
	memset(&tc, 0, sizeof(tc));
	memset(&ssc, 0, sizeof(ssc));
	ss_l = host_tcp_listen(w.ss, 5060, ss_accept, NULL, &err);
	cr_assert_not_null(ss_l);
}

static void down(void)
{
	if (tc.c)
		host_tcp_abort(tc.c);
	if (ssc.c)
		host_tcp_abort(ssc.c);
	host_tcp_unlisten(ss_l);
	teardown();
}

/* On a new connection from the terminal's host. */
static void tc_send(uint16_t lport, const char *m, size_t len)
{
	tv_ep px = tv_ep4(0xc633640a, 5060);
	int err;

	memset(&tc, 0, sizeof(tc));
	tc.c = host_tcp_connect(w.term, lport, &px, tcp_rec, &tc, &err);
	cr_assert_not_null(tc.c);
	step();
	host_tcp_send(tc.c, m, len);
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_MS(500));
}

static char *load(const char *name, size_t *len)
{
	char path[128], *m = malloc(BOX_MSG_MAX);
	FILE *f;

	snprintf(path, sizeof(path), "tests/data/rfc4475/%s.dat", name);
	f = fopen(path, "rb");
	cr_assert(f && m, "%s (tests run from the repository root)", path);
	*len = fread(m, 1, BOX_MSG_MAX - 1, f);
	m[*len] = '\0';
	fclose(f);
	return m;
}

static uint64_t drops(void)
{
	uint64_t n = 0;

	for (int i = 0; i < PX_DROP__COUNT; i++)
		n += proxy_get_stats(w.px)->drop[i];
	return n;
}

/* ---- what arrived ------------------------------------------------------ */

/* The idx-th value of header name (or compact form c), read apart from the
 * proxy's own finders; what the proxy sends is unfolded. */
static const char *hval(const char *m, size_t len, const char *name, char c, int idx, size_t *vlen)
{
	const char *end = m + len, *p = memchr(m, '\n', len);
	size_t nl = strlen(name);

	while (p && ++p < end && *p != '\r') {
		const char *eol = memchr(p, '\r', (size_t)(end - p)), *e = p;
		if (!eol)
			return NULL;
		while (e < eol && *e != ':' && *e != ' ' && *e != '\t')
			e++;
		if (((size_t)(e - p) == nl && !strncasecmp(p, name, nl)) || (c && e - p == 1 && (*p | 0x20) == c)) {
			e += strspn(e, " \t");
			if (e < eol && *e == ':' && idx-- == 0) {
				e += 1 + strspn(e + 1, " \t");
				*vlen = (size_t)(eol - e);
				return e;
			}
		}
		p = memchr(eol, '\n', (size_t)(end - eol));
	}
	return NULL;
}

static size_t body_off(const char *m, size_t len)
{
	const char *b = memmem(m, len, "\r\n\r\n", 4);

	return b ? (size_t)(b - m) + 4 : len;
}

static void contains(const char *m, size_t len, const char *must, const char *who)
{
	for (const char *s = must; s && *s; s += strcspn(s, "|") + (s[strcspn(s, "|")] == '|'))
		cr_expect(memmem(m, len, s, strcspn(s, "|")), "%s: no '%.*s' in:\n%.*s", who, (int)strcspn(s, "|"), s,
			  (int)len, m);
}

/* A response the proxy made: its status; its shape is checked (one To tag). */
static int answer_code(const char *a, size_t len, const char *who)
{
	static const char end[] = "\r\nContent-Length: 0\r\n\r\n";
	size_t vl, tl = 0, tags = 0;
	const char *to = hval(a, len, "To", 't', 0, &tl);

	cr_assert(len > 12 && !strncmp(a, "SIP/2.0 ", 8), "%s: not a response: %.60s", who, a);
	cr_expect(len >= sizeof(end) && !memcmp(a + len - sizeof(end) + 1, end, sizeof(end) - 1) &&
		  hval(a, len, "Via", 'v', 0, &vl), "%s: not a well-formed response:\n%s", who, a);
	for (size_t i = 0; to && i < tl; i++)
		if (to[i] == ';' && !strncasecmp(to + i + 1 + strspn(to + i + 1, " \t"), "tag", 3))
			tags++;
	cr_expect(!to || tags == 1, "%s: %zu tags in the answer's To: %.*s", who, tags, (int)tl, to);
	return atoi(a + 8);
}

/* A forwarded request, against what the terminal sent. */
static void check_forwarded(const char *in, size_t inlen, const char *out, size_t n, const char *who)
{
	osip_message_t *mi = NULL, *mo = NULL;
	sip_frame f;
	size_t vl, bo = body_off(out, n), bi = body_off(in, inlen);
	const char *v = hval(out, n, "Via", 'v', 0, &vl), *cl = hval(out, n, "Content-Length", 'l', 0, &vl);

	cr_assert_not_null(v, "%s: no Via", who);
	for (int slash = 0; slash < 2 && *v != '\r';)
		slash += *v++ == '/';
	v += strspn(v, " \t"), v += strcspn(v, " \t\r"), v += strspn(v, " \t");      /* past the transport */
	cr_expect(!strncmp(v, "10.0.0.1:5100", 13) && strchr(";, \t\r", v[13]), "%s: top Via sent-by %.30s", who, v);
	cr_expect(cl || !hval(in, inlen, "Content-Length", 'l', 0, &vl), "%s: Content-Length lost", who);
	cr_expect(!cl || strtoul(cl, NULL, 10) == n - bo, "%s: Content-Length %.8s, body %zu", who, cl, n - bo);
	if (memmem(out, bo, "application/sdp", 15)) {
		for (const char *a = out + bo; (a = memmem(a, (size_t)(out + n - a), "IN IP4 ", 7)); a += 7)
			cr_expect(!strncmp(a + 7, "10.0.0.1\r\n", 10), "%s: SDP address %.20s", who, a);
	} else {
		cr_expect(n - bo <= inlen - bi && !memcmp(out + bo, in + bi, n - bo), "%s: body changed", who);
	}
	/* Contacts and IP literals, wherever libosip2 reads what was sent */
	osip_message_init(&mi);
	osip_message_init(&mo);
	if (sip_frame_find(in, inlen, false, SIP_UDP_MAX, &f) == SF_OK && osip_message_parse(mi, in, f.msg_len) == 0) {
		osip_contact_t *ct;
		osip_via_t *via;
		int i = 0;
		cr_assert_eq(osip_message_parse(mo, out, n), 0, "%s: what left does not parse", who);
		for (; osip_message_get_contact(mo, i, &ct) >= 0 && ct; i++)
			if (ct->url && ct->url->host && ct->url->scheme && !strncasecmp(ct->url->scheme, "sip", 3))
				cr_expect(!strcmp(ct->url->host, "10.0.0.1") && ct->url->port && !strcmp(ct->url->port, "5100"),
					  "%s: Contact %d host %s", who, i, ct->url->host);
		cr_expect_eq(osip_list_size(&mi->contacts), i, "%s: Contacts lost", who);
		for (i = -1; i < osip_list_size(&mi->contacts); i++) {
			const char *h = NULL;
			tv_ip ip;
			if (i < 0 && osip_message_get_via(mi, 0, &via) >= 0 && via)
				h = via->host;
			else if (i >= 0 && osip_message_get_contact(mi, i, &ct) >= 0 && ct->url)
				h = ct->url->host;
			for (int k = 0; h && tv_ip_parse(h, &ip) == 0 &&
					(v = hval(out, n, k ? "Contact" : "Via", k ? 'm' : 'v', k ? k - 1 : 0, &vl)); k++)
				cr_expect_null(memmem(v, vl, h, strlen(h)), "%s: %s reaches the core", who, h);
		}
	}
	osip_message_free(mi);
	osip_message_free(mo);
}

static const char *say(outcome o, char *buf, size_t cap)
{
	if (o.code == WAIT || o.code == CLOSE)
		return o.code == WAIT ? "waits for more" : "closes the connection";
	snprintf(buf, cap, "%s%.0d%s%.0d", o.fwd ? "forwards " : o.code ? "" : "drops", o.fwd,
		 o.code ? o.fwd ? ", answers " : "answers " : "", o.code);
	return buf;
}

static bool same(outcome a, outcome b) { return a.fwd == b.fwd && a.code == b.code; }

/* After one message: what came of it, each thing checked on the way, then
 * against the table. */
static void expect(const row *r, const char *in, size_t inlen, bool tcp, outcome want)
{
	const proxy_stats *st = proxy_get_stats(w.px);
	outcome o = { w.at_ss.n, 0 };
	const char *fwd = w.at_ss.msg[0], *ans = tcp ? tc.rx : w.at_term.msg[0];
	size_t flen = w.at_ss.len[0], alen = tcp ? tc.n : w.at_term.n ? w.at_term.len[0] : 0;
	char who[40], a[40], b[40], c[40];
	sip_frame f;

	snprintf(who, sizeof(who), "%s over %s", r->name, tcp ? "TCP" : "UDP");
	for (size_t off = 0; off < ssc.n && sip_frame_find(ssc.rx + off, ssc.n - off, true, SIP_TCP_MAX, &f) == SF_OK;
	     off += f.msg_len)
		if (!o.fwd++) {
			fwd = ssc.rx + off;
			flen = f.msg_len;
		}
	if (o.fwd)
		check_forwarded(in, inlen, fwd, flen, who);
	if (alen) {
		cr_expect(tcp || w.at_term.n == 1, "%s: %d answers", who, w.at_term.n);
		o.code = answer_code(ans, alen, who);
	} else if (tcp && tc.reset) {
		o.code = CLOSE;
	} else if (tcp && !o.fwd && !drops()) {
		o.code = WAIT;
	}
	if (!o.fwd && (o.code == 0 || o.code == CLOSE))
		cr_expect_gt(drops(), 0, "%s: dropped but not counted", who);
	cr_expect(st->ports_access == 2 * st->streams && st->ports_core == 2 * st->streams + st->bindings,
		  "%s: port books: access %u, core %u, streams %u, bindings %u", who, st->ports_access, st->ports_core,
		  st->streams, st->bindings);
	cr_expect(same(o, want) || same(o, r->alt), "%s: RFC: %s%s%s; the proxy %s%s", who, say(want, a, sizeof(a)),
		  r->alt.fwd != NA ? ", or " : "", r->alt.fwd != NA ? say(r->alt, b, sizeof(b)) : "",
		  say(o, c, sizeof(c)), r->kf ? " [defect found by this suite is back, see the table]" : "");
	if (same(o, want) && (want.fwd || want.code > 0))
		contains(want.fwd ? fwd : ans, want.fwd ? flen : alen, r->must, who);
}

/* Parameters are row numbers: each test runs in a process of its own,
 * where the table's pointers would not hold (Criterion re-executes). */
ParameterizedTestParameters(sip_torture, each_message)
{
	static size_t ix[NROWS];

	for (size_t i = 0; i < NROWS; i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, NROWS);
}

/* Over UDP, over TCP, and a response from the softswitch to a registered
 * terminal's core address, each in a new world. */
ParameterizedTest(size_t *i, sip_torture, each_message, .init = up, .fini = down)
{
	const row *r = &rows[*i];
	size_t len;
	char *m = load(r->name, &len);
	tv_ep px = tv_ep4(0xc633640a, 5060);

	cr_assert_eq(host_udp_send(w.term_s, &px, m, len), 0);
	step();
	expect(r, m, len, false, r->udp);
	down();
	up();
	tc_send(41000, m, len);
	expect(r, m, len, true, r->tcp);
	if (r->core != NA) {
		down();
		up();
		from_term(REGISTER);
		cr_assert_eq(w.at_ss.n, 1);
		from_ss(m);
		cr_expect_eq(w.at_term.n, r->core, "%s from the core: RFC: %s; the proxy %s%s", r->name,
			     r->core ? "relays it" : "drops it", w.at_term.n ? "relays it" : "drops it",
			     r->kf ? " [defect found by this suite is back, see the table]" : "");
		cr_expect(w.at_term.n || drops() > 0, "%s from the core: dropped but not counted", r->name);
	}
	free(m);
}

/* The two valid responses, their top Via made the one the proxy wrote:
 * to the terminal, status line byte for byte, Via as the terminal wrote it. */
Test(sip_torture, valid_responses_with_our_via_reach_the_terminal, .init = setup, .fini = teardown)
{
	static const char *const names[] = { "unreason", "noreason" };
	static const char back[] = "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKreg1\r\n";
	char out[BOX_MSG_MAX];

	from_term(REGISTER);
	from_ss(REG_200);       /* a terminal the core accepted: not held to one answer per request */
	for (size_t i = 0, len; i < 2; i++) {
		char *m = load(names[i], &len);
		size_t sl = (size_t)(strstr(m, "\r\nVia: ") - m) + 2;

		snprintf(out, sizeof(out), "%.*sVia: SIP/2.0/UDP 10.0.0.1:5100;branch=z9hG4bKreg1%s", (int)sl, m,
			 strstr(m + sl, "\r\n"));
		w.at_term.n = 0;
		from_ss(out);
		cr_assert_eq(w.at_term.n, 1, "%s", names[i]);
		cr_expect(!strncmp(w.at_term.msg[0], m, sl), "%s: %.80s", names[i], w.at_term.msg[0]);
		cr_expect(!strncmp(w.at_term.msg[0] + sl, back, strlen(back)), "%s: %s", names[i], w.at_term.msg[0]);
		free(m);
	}
}

/* All of them through one world, every way they can come: nothing crashes
 * (ASan), the port books balance, and a good REGISTER still goes through. */
Test(sip_torture, all_in_one_world, .init = up, .fini = down)
{
	tv_ep px = tv_ep4(0xc633640a, 5060), core = tv_ep4(0x0a000001, 5100);
	const proxy_stats *st = proxy_get_stats(w.px);

	from_term(REGISTER);
	for (size_t i = 0, len; i < NROWS; i++) {
		char *m = load(rows[i].name, &len);

		host_udp_send(w.term_s, &px, m, len);
		step();
		tc_send((uint16_t)(42000 + i), m, len);
		if (tc.c)
			host_tcp_abort(tc.c);
		tc.c = NULL;
		if (rows[i].core != NA)
			host_udp_send(w.ss_s, &core, m, len);
		step();
		free(m);
	}
	sim_net_run_until(w.net, sim_net_now(w.net) + TV_SEC(2));
	cr_assert_eq(st->ports_access, 2 * st->streams, "access ports %u, streams %u", st->ports_access, st->streams);
	cr_assert_eq(st->ports_core, 2 * st->streams + st->bindings, "core ports %u, streams %u, bindings %u",
		     st->ports_core, st->streams, st->bindings);
	w.at_ss.n = 0;
	from_term(REGISTER);
	cr_assert_eq(w.at_ss.n, 1, "a good REGISTER still goes through");
	cr_assert(strstr(w.at_ss.msg[0], "Contact: <sip:alice@10.0.0.1:"), "%s", w.at_ss.msg[0]);
}
