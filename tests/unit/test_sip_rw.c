/* test_sip_rw.c - span finding and rewriting of SIP/SDP text, and the
 * proxy's port pools. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "rng.h"
#include "sip_rw.h"

static const char invite[] =
	"INVITE sip:bob@example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
	"v: SIP/2.0/UDP 10.9.9.9:5070;branch=z9hG4bKx\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@example.net>\r\n"
	"From: Alice <sip:alice@example.net>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.example.net\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: \"Alice\" <sip:alice@192.168.1.10:5060;transport=udp>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 130\r\n"
	"\r\n"
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 192.168.1.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.168.1.10\r\n"
	"t=0 0\r\n"
	"m=audio 10000 RTP/AVP 0\r\n"
	"a=rtcp:10011\r\n";

static char *text(const char *buf, rw_span s)
{
	static char out[256];

	snprintf(out, sizeof(out), "%.*s", (int)s.len, buf + s.off);
	return out;
}

Test(sip_rw, finds_the_spans)
{
	sip_rw rw;
	rw_span v, s;

	cr_assert_eq(rw_init(&rw, invite, strlen(invite)), 0);
	cr_assert_eq(strcmp(invite + rw.body_off, "v=0\r\n") > 0 || !strncmp(invite + rw.body_off, "v=0", 3), 1);
	cr_assert_eq(rw_header(invite, rw.body_off, "Via", 'v', 0, &v), 1);
	cr_assert_eq(rw_via_sentby(invite, v, &s), 1);
	cr_assert_str_eq(text(invite, s), "192.168.1.10:5060");
	cr_assert_eq(rw_header(invite, rw.body_off, "Via", 'v', 1, &v), 1, "compact form is the second Via");
	cr_assert_eq(rw_via_sentby(invite, v, &s), 1);
	cr_assert_str_eq(text(invite, s), "10.9.9.9:5070");
	cr_assert_eq(rw_header(invite, rw.body_off, "Via", 'v', 2, &v), 0);
	cr_assert_eq(rw_header(invite, rw.body_off, "contact", 'm', 0, &v), 1);
	cr_assert_eq(rw_uri_hostport(invite, v, &s), 1);
	cr_assert_str_eq(text(invite, s), "192.168.1.10:5060");
	cr_assert_eq(rw_request_uri(invite, rw.body_off, &v), 1);
	cr_assert_eq(rw_uri_hostport(invite, v, &s), 1);
	cr_assert_str_eq(text(invite, s), "example.net");
	cr_assert_eq(rw_header(invite, rw.body_off, "Record-Route", 0, 0, &v), 0);
}

typedef struct sdp_seen {
	char lines[16][64];
	int media[16];
	int n;
} sdp_seen;

static void collect(void *arg, sip_rw *rw, rw_span line, int media)
{
	sdp_seen *s = arg;

	snprintf(s->lines[s->n], sizeof(s->lines[0]), "%.*s", (int)line.len, rw->buf + line.off);
	s->media[s->n++] = media;
}

Test(sip_rw, walks_sdp_lines_with_media_index)
{
	sip_rw rw;
	sdp_seen seen = { 0 };
	rw_span f;

	rw_init(&rw, invite, strlen(invite));
	rw_sdp_lines(&rw, collect, &seen);
	cr_assert_eq(seen.n, 7);
	cr_assert_str_eq(seen.lines[5], "m=audio 10000 RTP/AVP 0");
	cr_assert_eq(seen.media[4], -1);
	cr_assert_eq(seen.media[5], 0);
	cr_assert_eq(seen.media[6], 0);
	cr_assert_eq(rw_field(invite, (rw_span){ (uint32_t)(strstr(invite, "m=audio") - invite), 23 }, 1, &f), 1);
	cr_assert_str_eq(text(invite, f), "10000");
}

Test(sip_rw, rewrite_keeps_other_bytes_and_fixes_content_length)
{
	sip_rw rw;
	rw_span v, s;
	char out[2048], expect[2048];
	int n;
	const char *c_line = strstr(invite, "c=IN IP4 ") + 9, *m_port = strstr(invite, "m=audio ") + 8;

	rw_init(&rw, invite, strlen(invite));
	rw_header(invite, rw.body_off, "Via", 'v', 0, &v);
	rw_via_sentby(invite, v, &s);
	cr_assert_eq(rw_replace(&rw, s, "10.0.0.1:5100"), 0);
	cr_assert_eq(rw_replace(&rw, (rw_span){ (uint32_t)(c_line - invite), 12 }, "10.0.0.1"), 0);
	cr_assert_eq(rw_replace(&rw, (rw_span){ (uint32_t)(m_port - invite), 5 }, "20000"), 0);
	{
		sip_rw bad = rw;
		cr_assert_lt(rw_replace(&bad, (rw_span){ (uint32_t)(m_port - invite + 1), 2 }, "x"), 0, "overlap refused");
		cr_assert_lt(rw_apply(&bad, out, sizeof(out)), 0, "and the half-rewritten message is refused");
	}
	n = rw_apply(&rw, out, sizeof(out));
	cr_assert_gt(n, 0);
	out[n] = '\0';
	/* the same text built by hand: body lost 4 bytes (192.168.1.10 -> 10.0.0.1) */
	snprintf(expect, sizeof(expect), "%s", invite);
	{
		char *p = strstr(expect, "192.168.1.10:5060;branch");
		memmove(p + 13, p + 17, strlen(p + 17) + 1);
		memcpy(p, "10.0.0.1:5100", 13);
		p = strstr(expect, "c=IN IP4 192.168.1.10") + 9;
		memmove(p + 8, p + 12, strlen(p + 12) + 1);
		memcpy(p, "10.0.0.1", 8);
		p = strstr(expect, "Content-Length: 130");
		memcpy(p + 16, "126", 3);
		p = strstr(expect, "m=audio 10000") + 8;
		memcpy(p, "20000", 5);
	}
	cr_assert_str_eq(out, expect);
	cr_assert_eq(strlen(strstr(out, "\r\n\r\n") + 4), 126);
}

Test(sip_rw, malformed_inputs_are_refused_without_reading_past_the_end)
{
	sip_rw rw;
	rw_span v, s;
	char buf[600];
	size_t len = strlen(invite);

	cr_assert_lt(rw_init(&rw, "INVITE sip:x SIP/2.0\r\nVia: x\r\n", 29), 0, "no blank line");
	/* every truncation of the header: finders stay in bounds (ASan checks) */
	for (size_t cut = 0; cut < 600 && cut < len; cut++) {
		char *heap = malloc(cut + 1);
		memcpy(heap, invite, cut);
		heap[cut] = 'X';
		rw_header(heap, cut, "Via", 'v', 0, &v);
		rw_request_uri(heap, cut, &v);
		if (rw_header(heap, cut, "Contact", 'm', 0, &v) == 1)
			rw_uri_hostport(heap, v, &s);
		free(heap);
	}
	snprintf(buf, sizeof(buf), "INVITE sip:x SIP/2.0\r\n Via: folded\r\n\r\n");
	cr_assert_lt(rw_header(buf, strlen(buf), "Via", 'v', 0, &v), 0, "folded lines are refused");
}

Test(pool, pairs_are_even_and_odd_and_never_overlap)
{
	port_pool p;
	uint16_t got[64];
	int n = 0;

	pool_init(&p, 20001, 20130, false);     /* odd start: the first pair is 20002/20003 */
	for (;;) {
		uint16_t e = pool_get_pair(&p, NULL, 0);
		if (!e)
			break;
		cr_assert_eq(e % 2, 0);
		cr_assert(e >= 20002 && e + 1 <= 20130);
		got[n++] = e;
	}
	cr_assert_eq(n, 64);
	cr_assert_eq(p.in_use, 128);
	pool_put_pair(&p, got[10], 0);
	cr_assert_eq(pool_get_pair(&p, NULL, 0), got[10], "a freed pair is found again");
	for (int i = 0; i < n; i++)
		pool_put_pair(&p, got[i], 0);
	cr_assert_eq(p.in_use, 0);
	pool_free(&p);
}

Test(pool, a_quarantined_port_waits_and_random_pools_do_not_repeat)
{
	port_pool p;
	tv_rng r;
	uint16_t a, b, seq[2][8];

	pool_init(&p, 5000, 5001, false);
	a = pool_get(&p, NULL, 0);
	b = pool_get(&p, NULL, 0);
	cr_assert(a && b && !pool_get(&p, NULL, 0));
	pool_put(&p, a, TV_SEC(60));
	cr_assert_eq(pool_get(&p, NULL, TV_SEC(59)), 0, "quarantined until 60 s");
	cr_assert_eq(pool_get(&p, NULL, TV_SEC(60)), a);
	pool_free(&p);
	/* two seeds, two orders; each from a random place, not 5000 up */
	for (int k = 0; k < 2; k++) {
		pool_init(&p, 5000, 5999, true);
		tv_rng_seed(&r, (uint64_t)k + 1);
		for (int i = 0; i < 8; i++)
			seq[k][i] = pool_get(&p, &r, 0);
		pool_free(&p);
	}
	cr_assert(memcmp(seq[0], seq[1], sizeof(seq[0])) != 0);
	cr_assert(seq[0][0] != 5000 || seq[0][1] != 5001);
}

/* The pool against a plain model, random mode and quarantine included:
 * virtual time moves 100 ms a step, ports go back with 0-3 s of hold. */
Test(pool, agrees_with_a_model_under_random_use)
{
	port_pool p;
	static tv_time hold[65536];
	bool used[65536] = { 0 };
	uint16_t pairs[512], singles[512];
	int np = 0, ns = 0, inuse = 0;
	tv_rng r, alloc;
	tv_time now = 0;

	memset(hold, 0, sizeof(hold));
	pool_init(&p, 5000, 5299, true);
	tv_rng_seed(&r, 9);
	tv_rng_seed(&alloc, 10);
	for (int i = 0; i < 20000; i++) {
		/* what the pool may hand out at now: free and out of quarantine
		 * (held to whole seconds, as the pool keeps them) */
#define FREE_AT(k) (!used[k] && (hold[k] + 999999) / 1000000 <= now / 1000000)
		now += TV_MS(100);
		switch (tv_rng_below(&r, 4)) {
		case 0: {
			uint16_t e = pool_get_pair(&p, &alloc, now);
			bool any = false;
			for (int k = 5000; k + 1 <= 5299; k += 2)
				any |= FREE_AT(k) && FREE_AT(k + 1);
			cr_assert_eq(e != 0, any, "pair available iff the model has one");
			if (e) {
				cr_assert(FREE_AT(e) && FREE_AT(e + 1));
				used[e] = used[e + 1] = true;
				pairs[np++] = e;
				inuse += 2;
			}
			break;
		}
		case 1: {
			uint16_t s = pool_get(&p, &alloc, now);
			if (s) {
				cr_assert(FREE_AT(s) && s >= 5000 && s <= 5299);
				used[s] = true;
				singles[ns++] = s;
				inuse++;
			} else {
				for (int k = 5000; k <= 5299; k++)
					cr_assert(!FREE_AT(k));
			}
			break;
		}
		case 2:
			if (np) {
				int k = (int)tv_rng_below(&r, (uint32_t)np);
				tv_time until = now + TV_MS(tv_rng_below(&r, 3000));
				pool_put_pair(&p, pairs[k], until);
				used[pairs[k]] = used[pairs[k] + 1] = false;
				hold[pairs[k]] = hold[pairs[k] + 1] = until;
				pairs[k] = pairs[--np];
				inuse -= 2;
			}
			break;
		default:
			if (ns) {
				int k = (int)tv_rng_below(&r, (uint32_t)ns);
				tv_time until = now + TV_MS(tv_rng_below(&r, 3000));
				pool_put(&p, singles[k], until);
				used[singles[k]] = false;
				hold[singles[k]] = until;
				singles[k] = singles[--ns];
				inuse--;
			}
		}
#undef FREE_AT
		cr_assert_eq(p.in_use, (uint32_t)inuse);
		if (np >= 500 || ns >= 500)
			break;
	}
	pool_free(&p);
}


/* ---- for topology hiding ------------------------------------------------ */

Test(sip_rw, ipv4_literals_are_found_whole_and_only_whole)
{
	static const char s[] = "v 1.2 10.0.0.1, 1.2.3.4.5 256.1.1.1 0010.1.1.1 (10.0.0.100). 3.3.3.3";
	rw_span all = { 0, sizeof(s) - 1 }, a;
	size_t pos = 0;

	cr_assert_eq(rw_ipv4_next(s, all, &pos, &a), 1);
	cr_assert_str_eq(text(s, a), "10.0.0.1");
	cr_assert_eq(rw_ipv4_next(s, all, &pos, &a), 1, "not a run of five, not 256, not four digits");
	cr_assert_str_eq(text(s, a), "10.0.0.100", "a sentence's full stop after it is no fifth part");
	cr_assert_eq(rw_ipv4_next(s, all, &pos, &a), 1);
	cr_assert_str_eq(text(s, a), "3.3.3.3", "up to the very end");
	cr_assert_eq(rw_ipv4_next(s, all, &pos, &a), 0);
	pos = 0;
	cr_assert_eq(rw_ipv4_next(s, (rw_span){ 0, 13 }, &pos, &a), 0, "cut by the span: 10.0.0 is none");
}

Test(sip_rw, the_sdp_part_of_a_multipart_body)
{
	static const char b[] =
		"preamble\r\n--xyz \r\nContent-Type: text/plain\r\n\r\nhi\r\n--xyzzy is not it\r\n"
		"--xyz\r\ncontent-type:  Application/SDP ; x=1\r\nContent-Length: 5\r\n\r\nv=0\r\n\r\n"
		"--xyz\r\n\r\nno header: text/plain\r\n--xyz--\r\nepilogue --xyz\r\n";
	rw_span all = { 0, sizeof(b) - 1 }, h, c;

	cr_assert_eq(rw_mime_sdp(b, all, "xyz", 3, &h, &c), 1);
	cr_assert_str_eq(text(b, h), "content-type:  Application/SDP ; x=1\r\nContent-Length: 5\r\n");
	cr_assert_str_eq(text(b, c), "v=0\r\n", "the CRLF before a delimiter is the delimiter's");
	cr_assert_eq(rw_mime_sdp(b, all, "abc", 3, &h, &c), -1, "no delimiter");
	{
		static const char none[] = "--q\r\nContent-Type: text/plain\r\n\r\nx\r\n--q--";
		cr_assert_eq(rw_mime_sdp(none, (rw_span){ 0, sizeof(none) - 1 }, "q", 1, &h, &c), 0);
	}
	{
		static const char two[] = "--q\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--q\r\n"
					  "Content-Type: application/sdp\r\n\r\nv=0\r\n--q--\r\n";
		cr_assert_eq(rw_mime_sdp(two, (rw_span){ 0, sizeof(two) - 1 }, "q", 1, &h, &c), -1);
	}
	{
		static const char nest[] = "--q\r\nContent-Type: multipart/mixed;boundary=r\r\n\r\n--r--\r\n--q--\r\n";
		cr_assert_eq(rw_mime_sdp(nest, (rw_span){ 0, sizeof(nest) - 1 }, "q", 1, &h, &c), -1);
	}
	{
		static const char open_[] = "--q\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n";
		cr_assert_eq(rw_mime_sdp(open_, (rw_span){ 0, sizeof(open_) - 1 }, "q", 1, &h, &c), -1, "no close");
	}
}

/* A kept text of any length replaces a span; an insertion at the offset
 * where a removal starts goes before it, whatever the order of the edits. */
Test(sip_rw, long_replacements_and_insertions_before_removals)
{
	static const char m[] = "OPTIONS sip:x SIP/2.0\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n";
	char big[300], out[1024];
	const char *b = strstr(m, "B: 2");
	sip_rw rw;
	int n;

	memset(big, 'z', sizeof(big));
	rw_init(&rw, m, sizeof(m) - 1);
	cr_assert_eq(rw_replace(&rw, (rw_span){ (uint32_t)(b - m), 6 }, ""), 0);
	cr_assert_eq(rw_replace_ref(&rw, (rw_span){ (uint32_t)(b - m), 0 }, "C: 3\r\n", 6), 0);
	cr_assert_eq(rw_replace_ref(&rw, (rw_span){ (uint32_t)(strstr(m, "1\r\n") - m), 1 }, big, sizeof(big)), 0);
	n = rw_apply(&rw, out, sizeof(out));
	cr_assert_eq(n, (int)(sizeof(m) - 1 - 6 + 6 - 1 + sizeof(big)));
	out[n] = '\0';
	cr_assert(!strncmp(out, "OPTIONS sip:x SIP/2.0\r\nA: zzz", 29));
	cr_assert(strstr(out, "z\r\nC: 3\r\nContent-Length: 0\r\n\r\n"), "%s", out);
	cr_assert_lt(rw_apply(&rw, out, 100), 0, "and it must fit");
}
