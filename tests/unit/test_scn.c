/* test_scn.c - the scenario reader: tokens, comments, quotes, continuation
 * lines, line numbers; validation errors and a tiny end-to-end run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "scn.h"


Test(scn, tokens_comments_quotes_continuations)
{
	char *p = th_write_tmp("# header comment\n"
			    "\n"
			    "scenario \"a  title # not a comment\"   # trailing\n"
			    "link internet \\\n"
			    "    delay=10ms\t loss=1%\n"
			    "   \n"
			    "link home#comment right after\n");
	scn_file f;

	cr_assert_eq(scn_load(p, &f), 0);
	cr_assert_eq(f.nstmts, 3);
	cr_assert_eq(f.stmts[0].line, 3);
	cr_assert_eq(f.stmts[0].argc, 2);
	cr_assert_str_eq(f.stmts[0].argv[1], "a  title # not a comment");
	cr_assert_eq(f.stmts[1].line, 4);
	cr_assert_eq(f.stmts[1].argc, 4);
	cr_assert_str_eq(f.stmts[1].argv[3], "loss=1%");
	cr_assert_eq(f.stmts[2].line, 7);
	cr_assert_eq(f.stmts[2].argc, 2);
	cr_assert_str_eq(f.stmts[2].argv[1], "home");
	scn_file_free(&f);
	unlink(p);
	free(p);
}

Test(scn, unterminated_quote_is_an_error)
{
	char *p = th_write_tmp("link a\nscenario \"oops\n");
	scn_file f;

	cr_assert_lt(scn_load(p, &f), 0);
	unlink(p);
	free(p);
}

Test(scn, nul_byte_is_an_error)
{
	char *p = th_write_tmp("link a\n");
	FILE *fp = fopen(p, "ab");
	scn_file f;

	fputc(0, fp);
	fclose(fp);
	cr_assert_lt(scn_load(p, &f), 0);
	unlink(p);
	free(p);
}

Test(scn, check_counts_errors)
{
	char *p = th_write_tmp("link internet\n"
			    "host a link=internet ip=1.2.3.4 colour=blue\n"
			    "host b link=nowhere ip=1.2.3.5\n"
			    "expect received a:5000 count=1\n");
	scn_file f;

	cr_assert_eq(scn_load(p, &f), 0);
	cr_assert_eq(scn_check(&f), 3);   /* the third: "a" was never declared */
	scn_file_free(&f);
	unlink(p);
	free(p);
}

Test(scn, run_passes_and_fails_on_what_it_sees)
{
	char *p = th_write_tmp("link l delay=1ms\n"
			    "host a link=l ip=10.0.0.1\n"
			    "host b link=l ip=10.0.0.2\n"
			    "listen b:7\n"
			    "send a:1000 -> b:7 count=4 interval=10ms\n"
			    "wait 1s\n"
			    "expect received b:7 count=4 from=a:1000\n"
			    "expect received b:7 count=5\n");
	scn_file f;
	scn_opts o = { 0 };
	scn_result r;

	cr_assert_eq(scn_load(p, &f), 0);
	cr_assert_eq(scn_run(&f, &o, &r), 0);
	cr_assert_eq(r.expects, 2);
	cr_assert_eq(r.failed, 1);
	cr_assert_not(r.passed);
	cr_assert(strstr(r.failures, ":8: received on b:7: expected count=5, got 4") != NULL, "%s", r.failures);
	scn_result_free(&r);
	scn_file_free(&f);
	unlink(p);
	free(p);
}

Test(scn, scenario_without_expectations_fails)
{
	char *p = th_write_tmp("link l\nwait 1s\n");
	scn_file f;
	scn_opts o = { 0 };
	scn_result r;

	cr_assert_eq(scn_load(p, &f), 0);
	cr_assert_eq(scn_check(&f), 1);
	cr_assert_lt(scn_run(&f, &o, &r), 0);
	cr_assert_not(r.passed);
	scn_result_free(&r);
	scn_file_free(&f);
	unlink(p);
	free(p);
}

/* 'media' on a stream the phone does not have (no call yet) is a failed
 * check at its line, as is 'expect media'; the run goes on. */
Test(scn, media_without_a_stream_fails_at_run_time)
{
	char *p = th_write_tmp("link internet\n"
			    "link core\n"
			    "softswitch ss link=core ip=10.0.0.100\n"
			    "proxy px access=internet:198.51.100.10 core=core:10.0.0.1 softswitch=ss\n"
			    "phone a link=internet ip=198.51.100.20 via=px media=manual ssrc=0x10\n"
			    "media a start count=5\n"
			    "media a stop stream=video\n"
			    "expect media a ssrc=0x5ca1ab1e rx=0\n"
			    "expect phone a state=idle\n");
	scn_file f;
	scn_opts o = { 0 };
	scn_result r;

	cr_assert_eq(scn_load(p, &f), 0);
	cr_assert_eq(scn_check(&f), 0);
	cr_assert_eq(scn_run(&f, &o, &r), 0);
	cr_assert_eq(r.failed, 3, "%s", r.failures);
	cr_assert_eq(r.expects, 4);
	cr_assert(strstr(r.failures, ":6: media a start: audio media of a: there is no such stream now\n"), "%s", r.failures);
	cr_assert(strstr(r.failures, ":7: media a stop: video media of a: there is no such stream now\n"), "%s", r.failures);
	cr_assert(strstr(r.failures, ":8: audio media of a, SSRC 0x5ca1ab1e: there is no such stream\n"), "%s", r.failures);
	scn_result_free(&r);
	scn_file_free(&f);
	unlink(p);
	free(p);
}

/* Real hosts (host ... kind=netns): their statements are checked like any
 * other; a run that is not in a namespace skips the scenario, saying why,
 * instead of failing it or running it half. */
Test(scn, real_hosts_are_checked_and_skipped_outside_a_namespace)
{
	char *bad = th_write_tmp("link l\n"
			      "host a link=l ip=10.0.0.1 kind=netns icmp=off\n"   /* icmp: the kernel's */
			      "host b link=l ip=10.0.0.2 kind=vm\n"                /* no such kind */
			      "host s link=l ip=10.0.0.3\n"
			      "host r link=l ip=10.0.0.4 kind=netns\n"
			      "exec s \"true\"\n"                                   /* a simulated host */
			      "exec nobody \"true\"\n"
			      "exec r\n"                                            /* no command */
			      "expect host r code>=1\n"                             /* code takes = only */
			      "expect host r port=70000 rx>=1\n"
			      "expect host r exited=yes\n");
	char *good = th_write_tmp("link l\n"
			       "host r link=l ip=10.0.0.4 kind=netns\n"
			       "exec r \"true\"\n"
			       "wait 1s\n"
			       "expect host r exited=yes code=0 rx=0\n");
	scn_file f;
	scn_opts o = { 0 };
	scn_result r;

	cr_assert_eq(scn_load(bad, &f), 0);
	cr_assert_eq(scn_check(&f), 7);   /* all but the last line */
	scn_file_free(&f);
	cr_assert_eq(scn_load(good, &f), 0);
	cr_assert_eq(scn_check(&f), 0);
	cr_assert_eq(scn_run(&f, &o, &r), 0);
	cr_assert(r.skipped && r.passed);
	cr_assert(strstr(r.skip_reason, "--netns") != NULL, "%s", r.skip_reason);
	cr_assert_eq(r.expects, 0);
	scn_result_free(&r);
	scn_file_free(&f);
	unlink(bad);
	unlink(good);
	free(bad);
	free(good);
}
