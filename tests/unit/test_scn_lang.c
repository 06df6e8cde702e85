/* test_scn_lang.c - the scenario language's load-time layer (variables,
 * loops, matrices, ${EXPR}), show, run-assigned names, relative time and
 * events, and checks on what arrived (contains/lacks/matches). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "scn.h"


/* Load text; returns scn_load's result and leaves f loaded on success. */
static int load(const char *text, scn_file *f)
{
	char *p = th_write_tmp(text);
	int rc = scn_load(p, f);

	unlink(p);
	free(p);
	return rc;
}

static int run(const char *text, scn_result *r)
{
	scn_file f;
	scn_opts o = { 0 };
	int rc;

	cr_assert_eq(load(text, &f), 0);
	rc = scn_run(&f, &o, r);
	scn_file_free(&f);
	return rc;
}

Test(lang, for_repeat_set_expand_with_lines_and_loop_values)
{
	scn_file f;

	cr_assert_eq(load("set base = 20000\n"
			  "for p in $base..${base+4} step 2 {\n"
			  "  repeat 2 {\n"
			  "    send a:1 -> px:$p size=${p-19990}\n"
			  "  }\n"
			  "}\n"
			  "for w in x,y {\n"
			  "  show ${w}:$$\n"
			  "}\n", &f), 0);
	cr_assert_eq(f.nstmts, 8);
	cr_assert_str_eq(f.stmts[0].argv[3], "px:20000");
	cr_assert_str_eq(f.stmts[0].argv[4], "size=10");
	cr_assert_str_eq(f.stmts[1].argv[3], "px:20000");
	cr_assert_str_eq(f.stmts[5].argv[3], "px:20004");
	cr_assert_str_eq(f.stmts[5].argv[4], "size=14");
	cr_assert_eq(f.stmts[5].line, 4);
	cr_assert_str_eq(f.stmts[5].where, "p=20004");
	cr_assert_str_eq(f.stmts[7].argv[1], "y:$");
	cr_assert_eq(f.stmts[7].line, 8);
	scn_file_free(&f);
}

Test(lang, ranges_count_down_and_lists_keep_order)
{
	scn_file f;

	cr_assert_eq(load("for i in 3..1 {\nx $i\n}\nfor i in 10..0 step -5 {\ny $i\n}\n", &f), 0);
	cr_assert_eq(f.nstmts, 6);
	cr_assert_str_eq(f.stmts[0].argv[1], "3");
	cr_assert_str_eq(f.stmts[2].argv[1], "1");
	cr_assert_str_eq(f.stmts[5].argv[1], "0");
	scn_file_free(&f);
}

Test(lang, expressions_follow_precedence_and_refuse_nonsense)
{
	scn_file f;

	cr_assert_eq(load("set a = 7\nx ${(a+3)*2-a%4/2} ${-a} ${0x10}\n", &f), 0);
	cr_assert_str_eq(f.stmts[0].argv[1], "19");
	cr_assert_str_eq(f.stmts[0].argv[2], "-7");
	cr_assert_str_eq(f.stmts[0].argv[3], "16");
	scn_file_free(&f);
	cr_assert_lt(load("x ${1/0}\n", &f), 0);
	cr_assert_lt(load("x ${9223372036854775807+1}\n", &f), 0);
	cr_assert_lt(load("x ${nope}\n", &f), 0);
	cr_assert_lt(load("x $nope\n", &f), 0);
	cr_assert_lt(load("set s = abc\nx ${s+1}\n", &f), 0);
	cr_assert_lt(load("x ${1 2}\n", &f), 0);
	cr_assert_lt(load("x ${(1}\n", &f), 0);
	cr_assert_lt(load("x $\n", &f), 0);
	cr_assert_lt(load("x ${1\n", &f), 0);
}

Test(lang, blocks_must_balance_and_keep_their_shape)
{
	scn_file f;

	cr_assert_lt(load("repeat 2 {\nx\n", &f), 0);
	cr_assert_lt(load("x\n}\n", &f), 0);
	cr_assert_lt(load("repeat 2\nx\n", &f), 0);
	cr_assert_lt(load("for i 1..2 {\n}\n", &f), 0);
	cr_assert_lt(load("for 1x in 1..2 {\n}\n", &f), 0);
	cr_assert_lt(load("send a {\n}\n", &f), 0);
	cr_assert_lt(load("repeat 2 {\nmatrix m in 1,2\n}\n", &f), 0);
	cr_assert_lt(load("for i in 1..2 {\nfor i in 1..2 {\n}\n}\n", &f), 0);
	cr_assert_lt(load("for i in 1..2 {\nset i = 3\n}\n", &f), 0);
	cr_assert_lt(load("set x 3\n", &f), 0);
	cr_assert_lt(load("for i in 1..2 step 0 {\n}\n", &f), 0);
	cr_assert_lt(load("for i in 1,,2 {\n}\n", &f), 0);
	cr_assert_lt(load("for i in a,b step 2 {\n}\n", &f), 0);
	cr_assert_lt(load("repeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\nrepeat 1 {\n"
			  "repeat 1 {\n}\n}\n}\n}\n}\n}\n}\n}\n}\n", &f), 0);
}

Test(lang, expansion_is_bounded)
{
	scn_file f;

	cr_assert_lt(load("repeat 1000 {\nrepeat 1000 {\nx\n}\n}\n", &f), 0);
	cr_assert_lt(load("repeat 999999999 {\nx\n}\n", &f), 0);
	cr_assert_lt(load("matrix a in 1..100\nmatrix b in 1..100\nx\n", &f), 0);
}

Test(lang, matrix_selects_every_combination_last_fastest)
{
	scn_file f;

	cr_assert_eq(load("matrix mode in off,on\nmatrix t in 1..3\nx $mode $t\n", &f), 0);
	cr_assert_eq(f.nvariants, 6);
	cr_assert_str_eq(f.variant_name, "mode=off t=1");
	cr_assert_eq(scn_select(&f, 4), 0);
	cr_assert_str_eq(f.variant_name, "mode=on t=2");
	cr_assert_str_eq(f.stmts[0].argv[1], "on");
	cr_assert_str_eq(f.stmts[0].argv[2], "2");
	cr_assert_lt(scn_select(&f, 6), 0);
	scn_file_free(&f);
}

static const char *const one_call =
	"link internet delay=10ms\nlink core delay=1ms\nlink home-a delay=1ms\nlink home-b delay=1ms\n"
	"nat nat-a inside=home-a:192.168.1.1 outside=internet:203.0.113.10\n"
	"nat nat-b inside=home-b:192.168.2.1 outside=internet:203.0.113.20\n"
	"softswitch ss link=core ip=10.0.0.100\n"
	"proxy px access=internet:198.51.100.10 core=core:10.0.0.1 softswitch=ss media-ports=30000-30099 port-alloc=sequential\n"
	"phone alice link=home-a ip=192.168.1.10 via=px\n"
	"phone bob link=home-b ip=192.168.2.10 via=px answer-delay=1s\n"
	"host eve link=internet ip=198.51.100.66\n"
	"register alice\nregister bob\n";

static char *with_call(const char *tail)
{
	char *s = malloc(strlen(one_call) + strlen(tail) + 1);

	strcpy(s, one_call);
	strcat(s, tail);
	return s;
}

Test(lang, names_resolve_to_what_the_run_assigned)
{
	scn_result r;
	char *s = with_call("after registered(bob) call alice bob\n"
			    "after established(alice) wait 1s\n"
			    "show px.alice.audio.rtp px.bob.audio.core-rtcp px.alice.nat nat-a[alice:5060] px.alice.audio.rtp+2\n"
			    "send eve:4000 -> px.bob.audio.rtp count=3 interval=20ms payload=rtp size=172\n"
			    "wait 1s\n"
			    "expect proxy px drop.rtp-foreign=3\n"
			    "expect relay px alice latched-from=nat-a[alice.audio.rtp]\n"
			    "show relay px alice to-core as=to_core\n");

	cr_assert_eq(run(s, &r), 0);
	cr_assert(r.passed, "%s", r.failures);
	cr_assert_not_null(r.shows);
	cr_assert(strstr(r.shows, "px.alice.audio.rtp=198.51.100.10:30000 px.bob.audio.core-rtcp=10.0.0.1:30003 "
				  "px.alice.nat=203.0.113.10:") != NULL, "%s", r.shows);
	cr_assert(strstr(r.shows, "px.alice.audio.rtp+2=198.51.100.10:30002") != NULL, "%s", r.shows);
	cr_assert(strstr(r.shows, "\tto_core=") != NULL, "%s", r.shows);
	scn_result_free(&r);
	free(s);
}

static int run_sdp(const char *text, scn_result *r)
{
	scn_file f;
	scn_opts o = { .sdp_names = true };
	int rc;

	cr_assert_eq(load(text, &f), 0);
	rc = scn_run(&f, &o, r);
	scn_file_free(&f);
	return rc;
}

/* With an external proxy (--proxy) the relay names come from the SDP the
 * phones read (scn_names.c). Read that way, our own proxy must give what it
 * holds inside: alice's access ports are where her SDP told her to send,
 * and the core side of her stream is where bob was told to send, which is
 * bob's access port (one relay hop per leg, as with rtpengine). */
Test(lang, relay_names_from_the_phones_sdp_match_the_proxys_own)
{
	scn_result in, sdp;
	const char *tail = "after registered(bob) call alice bob\n"
			   "after established(alice) wait 1s\n"
			   "show px.alice.audio.rtp px.alice.audio.rtcp px.bob.audio.rtp px.bob.audio.rtcp\n"
			   "show px.alice.audio.core-rtp px.alice.audio.core-rtcp px.bob.audio.core-rtp\n"
			   "expect phone alice state=established\n";
	char *s = with_call(tail), *want, *got;

	cr_assert_eq(run(s, &in), 0);
	cr_assert(in.passed, "%s", in.failures);
	cr_assert_eq(run_sdp(s, &sdp), 0);
	cr_assert(sdp.passed, "%s", sdp.failures);
	/* the first show line, the same in both views */
	want = strstr(in.shows, "px.alice.audio.rtp=");
	got = strstr(sdp.shows, "px.alice.audio.rtp=");
	cr_assert(want && got);
	cr_assert_eq(strcspn(want, "\n"), strcspn(got, "\n"));
	cr_assert(!strncmp(want, got, strcspn(want, "\n")), "%s\n%s", in.shows, sdp.shows);
	cr_assert(strstr(in.shows, "px.alice.audio.rtp=198.51.100.10:30000 px.alice.audio.rtcp=198.51.100.10:30001 "
				   "px.bob.audio.rtp=198.51.100.10:30002 px.bob.audio.rtcp=198.51.100.10:30003"),
		  "%s", in.shows);
	/* the core side: the proxy's own core ports, or where bob was told */
	cr_assert(strstr(in.shows, "px.alice.audio.core-rtp=10.0.0.1:30000 px.alice.audio.core-rtcp=10.0.0.1:30001 "
				   "px.bob.audio.core-rtp=10.0.0.1:30002"), "%s", in.shows);
	cr_assert(strstr(sdp.shows, "px.alice.audio.core-rtp=198.51.100.10:30002 px.alice.audio.core-rtcp=198.51.100.10:30003 "
				    "px.bob.audio.core-rtp=198.51.100.10:30000"), "%s", sdp.shows);
	scn_result_free(&in);
	scn_result_free(&sdp);
	free(s);
}

/* RTCP from the SDP: a=rtcp when written (RFC 3605), the RTP port under
 * rtcp-mux; the video stream by name; and no SDP yet is a failed check. */
Test(lang, relay_names_from_sdp_follow_a_rtcp_mux_and_the_stream)
{
	scn_result r;
	/* alice offers video and rtcp-mux; bob takes both and writes a=rtcp */
	const char *s =
		"link internet delay=10ms\nlink core delay=1ms\n"
		"softswitch ss link=core ip=10.0.0.100\n"
		"proxy px access=internet:198.51.100.10 core=core:10.0.0.1 softswitch=ss media-ports=30000-30099 "
		"port-alloc=sequential\n"
		"phone alice link=internet ip=198.51.100.20 via=px video=on rtcp-mux=on\n"
		"phone bob link=internet ip=198.51.100.30 via=px video=on rtcp-nonadjacent=on\n"
		"register alice\nregister bob\n"
		"show px.alice.audio.rtp\n"
		"after registered(bob) call alice bob\n"
		"after established(alice) wait 1s\n"
		"show px.alice.audio.rtp px.alice.audio.rtcp px.alice.video.rtcp px.bob.audio.rtcp px.bob.video.rtcp\n"
		"show px.alice.audio.core-rtcp px.alice.video.core-rtcp+1\n"
		"expect phone alice state=established\n";

	cr_assert_eq(run_sdp(s, &r), 0);
	cr_assert_eq(r.failed, 1, "%s", r.failures);
	cr_assert(strstr(r.failures, "'px.alice.audio.rtp': alice has read no SDP with an audio stream"), "%s",
		  r.failures);
	cr_assert_not_null(r.shows);
	/* the proxy answers alice without rtcp-mux and rewrites bob's a=rtcp
	 * to RTP+1 (test_sipua.c has both read straight from a peer) */
	cr_assert(strstr(r.shows, "px.alice.audio.rtp=198.51.100.10:30000 px.alice.audio.rtcp=198.51.100.10:30001 "
				  "px.alice.video.rtcp=198.51.100.10:30003 px.bob.audio.rtcp=198.51.100.10:30005 "
				  "px.bob.video.rtcp=198.51.100.10:30007"), "%s", r.shows);
	cr_assert(strstr(r.shows, "px.alice.audio.core-rtcp=198.51.100.10:30005 "
				  "px.alice.video.core-rtcp+1=198.51.100.10:30008"), "%s", r.shows);
	scn_result_free(&r);
}

Test(lang, show_checks_its_words_like_expect)
{
	scn_file f;
	char *s = with_call("show relay px alice latched-from to-core as=both\n"
			    "show proxy px no-such-counter\n"
			    "show px.carol.audio.rtp\n"
			    "show px.alice.audio.rtcpx\n"
			    "show nat-b[nobody:5060]\n"
			    "show media bob\n"
			    "expect proxy px latches=0\n");

	cr_assert_eq(load(s, &f), 0);
	cr_assert_eq(scn_check(&f), 6);
	scn_file_free(&f);
	free(s);
}

Test(lang, show_writes_values_with_the_virtual_time)
{
	scn_result r;
	char *s = with_call("wait 1s\ncall alice bob\nat +5s show media bob rtp-rx as=heard\n"
			    "show proxy px latches relayed-to-core\nexpect phone bob state=established\n");

	cr_assert_eq(run(s, &r), 0);
	cr_assert(r.passed, "%s", r.failures);
	cr_assert(strstr(r.shows, ":16\t6000000\theard=") != NULL, "%s", r.shows);
	cr_assert(strstr(r.shows, ":17\t6000000\tproxy px: latches=") != NULL, "%s", r.shows);
	cr_assert_eq(r.expects, 1, "show is not a check");
	scn_result_free(&r);
	free(s);
}

Test(lang, events_give_exact_times)
{
	scn_result r;
	char *s = with_call("wait 1s\ncall alice bob\n"
			    "at media-start(alice)+1s show media alice rtp-tx as=sent\n"
			    "expect media alice rtp-tx=51\n"
			    "at 100s expect phone alice state=established\n");

	cr_assert_eq(run(s, &r), 0);
	cr_assert(r.passed, "%s", r.failures);
	scn_result_free(&r);
	free(s);
	/* an event that never comes fails the run after an hour, with a reason */
	s = with_call("after media-start(alice) expect phone alice state=established\n");
	cr_assert_eq(run(s, &r), 0);
	cr_assert_not(r.passed);
	cr_assert(strstr(r.failures, "did not happen within an hour") != NULL, "%s", r.failures);
	scn_result_free(&r);
	free(s);
}

Test(lang, received_text_checks_see_every_delivery)
{
	scn_result r;
	char *s = with_call("wait 1s\ncall alice bob\nwait 3s\n"
			    "expect received ss:5060 contains=INVITE lacks=192.168. matches=\"^REGISTER sip:[a-z.]+ SIP/2.0\"\n"
			    "expect received alice:5060 lacks=10.0.0.\n"
			    "expect received alice:5060 lacks=\"200 OK\"\n"
			    "expect received bob:5060 matches=^BYE\n");

	cr_assert_eq(run(s, &r), 0);
	cr_assert_eq(r.expects, 6);
	cr_assert_eq(r.failed, 2, "%s", r.failures);
	cr_assert(strstr(r.failures, ":19: received on alice:5060: expected nothing containing \"200 OK\"; 2 of ") != NULL,
		  "%s", r.failures);
	cr_assert(strstr(r.failures, ":20: received on bob:5060: expected a datagram matching \"^BYE\"; none of ") != NULL,
		  "%s", r.failures);
	scn_result_free(&r);
	free(s);
}

Test(lang, if_else_picks_per_variant)
{
	scn_file f;

	cr_assert_eq(load("matrix mode in a,b,c\n"
			  "if $mode == a {\nx one\n} else {\n  if $mode != b {\n    x three\n  } else {\n    x two\n  }\n}\n"
			  "if 3 < 10 {\ny\n}\nif 10 <= 3 {\nz\n}\n", &f), 0);
	cr_assert_eq(f.nstmts, 2);
	cr_assert_str_eq(f.stmts[0].argv[1], "one");
	cr_assert_str_eq(f.stmts[1].argv[0], "y");
	cr_assert_eq(scn_select(&f, 1), 0);
	cr_assert_str_eq(f.stmts[0].argv[1], "two");
	cr_assert_eq(scn_select(&f, 2), 0);
	cr_assert_str_eq(f.stmts[0].argv[1], "three");
	cr_assert_eq(f.stmts[0].line, 6);
	scn_file_free(&f);
	cr_assert_lt(load("if a < 3 {\n}\n", &f), 0);
	cr_assert_lt(load("if a = 3 {\n}\n", &f), 0);
	cr_assert_lt(load("} else {\n", &f), 0);
	cr_assert_lt(load("repeat 2 {\n} else {\n}\n", &f), 0);
	cr_assert_lt(load("if 1 == 1 {\n} else {\n} else {\n}\n", &f), 0);
}
