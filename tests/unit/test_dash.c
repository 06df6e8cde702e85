/* test_dash.c - the dashboard's model (tui/dash_model.c): what the panes
 * show is made from the control socket's answers here, without a
 * terminal; tests/dash.sh drives the curses side in tmux. */
#include <criterion/criterion.h>
#include <string.h>

#include "dash_model.h"

static const char *stats(unsigned core, unsigned bytes)
{
	static char b[512];
	snprintf(b, sizeof(b),
		 "{\"stats\":{\"bindings\":2,\"legs\":2,\"streams\":2,\"relayed-to-core\":%u,\"relayed-to-access\":%u,"
		 "\"bytes-to-core\":%u,\"bytes-to-access\":0,\"drop.rtp-foreign\":3,\"drop.sip-bad\":0,"
		 "\"drop.rtp-no-dest\":1}}",
		 core, core / 2, bytes);
	return b;
}

Test(dash, stats_give_totals_rates_and_drops)
{
	dash_model m;
	char d[128];

	dash_model_init(&m);
	cr_assert_eq(dash_apply_line(&m, stats(1000, 100000), 10.0), 0);
	cr_assert_eq(dash_stat(&m, "bindings"), 2);
	cr_assert_eq(dash_stat(&m, "no-such"), 0);
	cr_assert_float_eq(m.pps_core, 0, 1e-9);        /* one snapshot: no rate yet */
	cr_assert_eq(dash_apply_line(&m, stats(1100, 116000), 12.0), 0);
	cr_assert_float_eq(m.pps_core, 50, 1e-9);       /* 100 packets in 2 s */
	cr_assert_float_eq(m.pps_access, 25, 1e-9);
	cr_assert_float_eq(m.bps_core, 64000, 1e-9);    /* 16000 bytes in 2 s */
	/* a restarted proxy's counters go back: no negative spike */
	cr_assert_eq(dash_apply_line(&m, stats(10, 1000), 13.0), 0);
	cr_assert_float_eq(m.pps_core, 0, 1e-9);
	dash_drops(&m, d, sizeof(d));
	cr_assert_str_eq(d, "rtp-foreign 3, rtp-no-dest 1");
	cr_assert_eq(m.snapshots, 3);
	dash_model_free(&m);
}

static const char *streams(unsigned a, unsigned b)
{
	static char s[1024];
	snprintf(s, sizeof(s),
		 "{\"streams\":[{\"user\":\"alice\",\"call_id\":\"c1@x\",\"index\":0,\"state\":\"latched\","
		 "\"latched_rtp\":\"203.0.113.10:4000\",\"pkts_to_core\":%u,\"pkts_to_access\":%u,\"dropped\":0},"
		 "{\"user\":\"bob\",\"call_id\":\"c2@x\",\"index\":0,\"state\":\"learning\",\"latched_rtp\":null,"
		 "\"pkts_to_core\":%u,\"pkts_to_access\":0,\"dropped\":7,\"held\":true}]}",
		 a, a, b);
	return s;
}

Test(dash, streams_keep_their_rates_idle_time_and_history)
{
	dash_model m;
	dash_table t;

	dash_model_init(&m);
	cr_assert_eq(dash_apply_line(&m, streams(100, 0), 1.0), 0);
	cr_assert_eq(dash_apply_line(&m, streams(150, 0), 2.0), 0);
	cr_assert_eq(dash_apply_line(&m, streams(150, 0), 4.0), 0);
	cr_assert_eq(m.nstr, 2);
	cr_assert_eq(dash_calls(&m), 2);
	/* alice moved 50+50 packets between 1 s and 2 s, then nothing */
	cr_assert_float_eq(m.str[0].hist[DASH_HIST - 2], 100, 1e-9);
	cr_assert_float_eq(m.str[0].hist[DASH_HIST - 1], 0, 1e-9);
	cr_assert_float_eq(m.str[0].seen_s, 2.0, 1e-9);
	cr_assert_eq(dash_rows(&m, DASH_STREAMS, NULL, -1, false, &t), 0);
	cr_assert_eq(t.nrows, 2);
	cr_assert_str_eq(t.cell[0][0], "alice");
	cr_assert_str_eq(t.cell[0][7], "203.0.113.10:4000");
	cr_assert_str_eq(t.cell[0][8], "150");
	cr_assert_str_eq(t.cell[0][11], "2");            /* idle since 2 s, now 4 s */
	cr_assert_str_eq(t.cell[1][3], "learning/h");
	cr_assert_str_eq(t.cell[1][7], "(learning)");
	cr_assert_str_eq(t.cell[1][12], "7");
	cr_assert_neq(strcmp(t.cell[0][1], t.cell[1][1]), 0, "two Call-IDs, two tags");
	dash_table_free(&t);
	dash_model_free(&m);
}

Test(dash, rows_filter_and_sort)
{
	dash_model m;
	dash_table t;

	dash_model_init(&m);
	cr_assert_eq(dash_apply_line(&m,
				     "{\"bindings\":[{\"user\":\"zed\",\"nat\":\"203.0.113.9:5060\",\"registered\":true,"
				     "\"ka_sent\":12},{\"user\":\"amy\",\"nat\":\"203.0.113.10:5060\",\"ka_sent\":3},"
				     "{\"user\":\"bob\",\"nat\":\"198.51.100.1:1\",\"ka_sent\":100}]}",
				     1.0),
		     0);
	cr_assert_eq(dash_rows(&m, DASH_BINDINGS, "203.0.113", -1, false, &t), 0);
	cr_assert_eq(t.nrows, 2);
	cr_assert_str_eq(t.cell[0][0], "zed");          /* the proxy's order */
	cr_assert_str_eq(t.cell[0][5], "yes");
	dash_table_free(&t);
	cr_assert_eq(dash_rows(&m, DASH_BINDINGS, "AMY", -1, false, &t), 0);   /* any case */
	cr_assert_eq(t.nrows, 1);
	dash_table_free(&t);
	cr_assert_eq(dash_rows(&m, DASH_BINDINGS, NULL, 0, false, &t), 0);
	cr_assert_str_eq(t.cell[0][0], "amy");
	cr_assert_str_eq(t.cell[2][0], "zed");
	dash_table_free(&t);
	/* numbers sort as numbers: 3 < 12 < 100, reversed (KA SENT) */
	cr_assert_eq(dash_rows(&m, DASH_BINDINGS, NULL, 8, true, &t), 0);
	cr_assert_str_eq(t.cell[0][8], "100");
	cr_assert_str_eq(t.cell[1][8], "12");
	cr_assert_str_eq(t.cell[2][8], "3");
	dash_table_free(&t);
	dash_model_free(&m);
}

Test(dash, events_are_kept_newest_first_in_columns_and_bounded)
{
	dash_model m;
	dash_table t;
	char line[256];

	dash_model_init(&m);
	cr_assert_eq(dash_apply_line(&m, "{\"events\":\"subscribed\"}", 0), 0);
	cr_assert_eq(dash_apply_line(&m,
				     "{\"event\":\"latch\",\"at_s\":12.5,\"user\":\"alice\",\"stream\":0,\"rtcp\":true,"
				     "\"addr\":\"203.0.113.10:4001\"}",
				     1),
		     0);
	cr_assert_eq(dash_apply_line(&m, "{\"event\":\"drops\",\"at_s\":13,\"since_last\":{\"rtp-foreign\":4}}", 1), 0);
	cr_assert_eq(dash_rows(&m, DASH_EVENTS_PANE, NULL, -1, false, &t), 0);
	cr_assert_eq(t.nrows, 2);
	cr_assert_str_eq(t.cell[0][1], "drops");
	cr_assert_str_eq(t.cell[0][3], "rtp-foreign=4");
	cr_assert_str_eq(t.cell[1][0], "12.500");
	cr_assert_str_eq(t.cell[1][2], "alice");
	cr_assert_str_eq(t.cell[1][3], "addr=203.0.113.10:4001 stream=0 rtcp");
	dash_table_free(&t);
	for (int i = 0; i < DASH_EVENTS + 20; i++) {
		snprintf(line, sizeof(line), "{\"event\":\"leg-up\",\"at_s\":%d,\"user\":\"u%d\"}", i, i);
		dash_apply_line(&m, line, 2);
	}
	cr_assert_eq(m.nev, DASH_EVENTS);
	cr_assert_eq(m.ev_total, DASH_EVENTS + 22);
	cr_assert_eq(dash_rows(&m, DASH_EVENTS_PANE, NULL, -1, false, &t), 0);
	snprintf(line, sizeof(line), "u%d", DASH_EVENTS + 19);
	cr_assert_str_eq(t.cell[0][2], line);
	dash_table_free(&t);
	dash_model_free(&m);
}

Test(dash, answers_it_does_not_know_are_counted_not_fatal)
{
	dash_model m;

	dash_model_init(&m);
	cr_assert_lt(dash_apply_line(&m, "not json", 0), 0);
	cr_assert_lt(dash_apply_line(&m, "[1,2]", 0), 0);
	cr_assert_lt(dash_apply_line(&m, "{\"what\":1}", 0), 0);
	cr_assert_lt(dash_apply_line(&m, "{\"error\":\"unknown command (try help)\"}", 0), 0);
	cr_assert(strstr(m.err, "unknown command") != NULL, "%s", m.err);
	cr_assert_eq(m.bad_answers, 4);
	/* wrong types inside a known answer: shown as "-" or 0, never a crash */
	cr_assert_eq(dash_apply_line(&m, "{\"bindings\":[{\"user\":5,\"nat\":[],\"ka_sent\":-3},7]}", 0), 0);
	cr_assert_eq(m.nbind, 2);
	cr_assert_str_eq(m.bind[0].user, "5");
	cr_assert_str_eq(m.bind[0].nat, "-");
	cr_assert_eq(m.bind[0].ka_sent, 0);
	dash_model_free(&m);
}

Test(dash, numbers_and_sparklines_fit_their_columns)
{
	char b[16];
	double v[] = { 0, 1, 50, 100, 0.1 };

	dash_si(0, b, sizeof(b));
	cr_assert_str_eq(b, "0");
	dash_si(999, b, sizeof(b));
	cr_assert_str_eq(b, "999");
	dash_si(1500, b, sizeof(b));
	cr_assert_str_eq(b, "1.5k");
	dash_si(137000, b, sizeof(b));
	cr_assert_str_eq(b, "137k");
	dash_si(2.5e9, b, sizeof(b));
	cr_assert_str_eq(b, "2.5G");
	dash_spark(v, 5, b, sizeof(b));
	cr_assert_str_eq(b, " .+@.");   /* anything above 0 shows */
}

/* In simulation (traverse run --dash) the model also gets the NATs'
 * tables and where the scenario is. */
Test(dash, nat_tables_and_the_scenario_in_simulation)
{
	dash_model m;
	dash_table t;

	dash_model_init(&m);
	cr_assert_eq(dash_apply_line(&m,
				     "{\"nats\":[{\"nat\":\"nat-a\",\"class\":\"eim/apdf\",\"proto\":\"udp\",\"internal\":\"192.168.1.10:5060\","
				     "\"external\":\"203.0.113.10:5060\",\"state\":\"stream\",\"age_s\":4.25,\"ttl_s\":117.75,"
				     "\"pkts_out\":9,\"pkts_in\":8},{\"nat\":\"nat-b\",\"proto\":\"tcp\",\"internal\":\"192.168.2.10:1\","
				     "\"external\":\"203.0.113.20:2\",\"remote\":\"198.51.100.10:5060\",\"state\":\"syn\"}]}",
				     1),
		     0);
	cr_assert_eq(dash_apply_line(&m,
				     "{\"scenario\":{\"file\":\"a/b.scn\",\"line\":31,\"now_s\":4.2,\"checks\":6,\"failed\":1,"
				     "\"done\":false}}",
				     1),
		     0);
	cr_assert(m.have_scn);
	cr_assert_str_eq(m.scn.file, "a/b.scn");
	cr_assert_eq(m.scn.line, 31);
	cr_assert_eq(m.scn.failed, 1);
	cr_assert_float_eq(m.scn.vnow_s, 4.2, 1e-9);
	cr_assert_eq(dash_rows(&m, DASH_NATS, NULL, -1, false, &t), 0);
	cr_assert_eq(t.nrows, 2);
	cr_assert_str_eq(t.cell[0][2], "192.168.1.10:5060");
	cr_assert_str_eq(t.cell[0][4], "stream");
	cr_assert_str_eq(t.cell[0][5], "4.2");         /* age */
	cr_assert_str_eq(t.cell[0][6], "117.8");       /* expires in */
	cr_assert_str_eq(t.cell[0][9], "eim/apdf");
	cr_assert_str_eq(t.cell[0][10], "-");          /* no remote: endpoint-independent */
	cr_assert_str_eq(t.cell[1][10], "198.51.100.10:5060");
	dash_table_free(&t);
	/* sorted by time to expiry, soonest first */
	cr_assert_eq(dash_rows(&m, DASH_NATS, NULL, 6, false, &t), 0);
	cr_assert_str_eq(t.cell[0][0], "nat-b");
	dash_table_free(&t);
	dash_model_free(&m);
}

/* The quality fields of a `streams` answer (docs/control.md): Q is the
 * lower MOS with where the delay came from, LOSS% and JITMS the worse
 * direction; an older proxy without them shows "-". */
Test(dash, streams_show_quality_and_where_the_delay_came_from)
{
	dash_model m;
	dash_table t;
	char lines[8][160];
	int n;

	dash_model_init(&m);
	cr_assert_eq(dash_apply_line(&m,
		"{\"streams\":[{\"user\":\"alice\",\"call_id\":\"c1@x\",\"index\":0,\"state\":\"latched\","
		"\"latched_rtp\":\"203.0.113.10:4000\",\"pkts_to_core\":100,\"pkts_to_access\":100,\"dropped\":0,"
		"\"expected_to_core\":100,\"lost_to_core\":0,\"loss_to_core\":0,\"jitter_ms_to_core\":0.5,"
		"\"last_rx_age_ms_to_core\":20,\"delay_ms_to_core\":41,\"r_to_core\":93.2,\"mos_to_core\":4.41,"
		"\"expected_to_access\":200,\"lost_to_access\":10,\"loss_to_access\":0.05,\"jitter_ms_to_access\":12.25,"
		"\"last_rx_age_ms_to_access\":null,\"delay_ms_to_access\":64.5,\"r_to_access\":77.4,\"mos_to_access\":3.92,"
		"\"codec\":\"PCMU\",\"clock_rate\":8000,\"clock_rate_known\":true,\"rtt_ms\":null,\"rtt_access_ms\":null,"
		"\"rtt_core_ms\":3.5,\"delay_source\":\"config\"},"
		"{\"user\":\"bob\",\"call_id\":\"c2@x\",\"index\":0,\"state\":\"latched\",\"latched_rtp\":null,"
		"\"expected_to_core\":50,\"lost_to_core\":0,\"loss_to_core\":0,\"jitter_ms_to_core\":1,"
		"\"r_to_core\":90,\"mos_to_core\":4.33,\"mos_to_access\":null,\"codec\":\"PCMA\",\"clock_rate\":8000,"
		"\"rtt_ms\":30.5,\"rtt_access_ms\":10.5,\"rtt_core_ms\":20,\"delay_source\":\"rtcp\"},"
		"{\"user\":\"old\",\"call_id\":\"c3@x\",\"index\":0,\"state\":\"latched\"}]}", 1.0), 0);
	cr_assert_eq(dash_rows(&m, DASH_STREAMS, NULL, -1, false, &t), 0);
	cr_assert_str_eq(t.head[4], "Q");
	cr_assert_str_eq(t.cell[0][4], "3.9c", "the worse direction, delay configured");
	cr_assert_str_eq(t.cell[0][5], "5.0");
	cr_assert_str_eq(t.cell[0][6], "12.2");
	cr_assert_str_eq(t.cell[1][4], "4.3r", "delay from the RTCP round trip");
	cr_assert_str_eq(t.cell[1][5], "0.0");
	cr_assert_str_eq(t.cell[2][4], "-", "no quality fields: nothing made up");
	cr_assert_str_eq(t.cell[2][5], "-");
	cr_assert_str_eq(t.cell[2][6], "-");
	n = dash_quality_lines(&m.str[0], lines, 8);
	cr_assert_eq(n, 4);
	cr_assert(strstr(lines[0], "PCMU, 8000 Hz"), "%s", lines[0]);
	cr_assert(strstr(lines[1], "loss 0.00% (0/100) jitter 0.5ms last 20ms MOS 4.41 R 93.2"), "%s", lines[1]);
	cr_assert(strstr(lines[2], "loss 5.00% (10/200) jitter 12.2ms last - MOS 3.92 R 77.4"), "%s", lines[2]);
	cr_assert(strstr(lines[3], "configured: 40.0 ms one-way"), "%s", lines[3]);
	n = dash_quality_lines(&m.str[1], lines, 8);
	cr_assert(strstr(lines[2], "no RTP yet"), "%s", lines[2]);
	cr_assert(strstr(lines[3], "RTCP: rtt 30.5 ms (terminal 10.5 + core 20.0)"), "%s", lines[3]);
	dash_table_free(&t);
	dash_model_free(&m);
}

/* The keepalive countdown: the proxy's time to the next keepalive at the
 * snapshot, counting down until the next one; "-" when none is due. */
Test(dash, keepalive_countdown_counts_down_between_snapshots)
{
	dash_model m;
	dash_table t;

	dash_model_init(&m);
	cr_assert_eq(dash_apply_line(&m,
				     "{\"bindings\":[{\"user\":\"alice\",\"ka_in_s\":17.4,\"ka_misses\":1},"
				     "{\"user\":\"eve\",\"ka_in_s\":null}]}",
				     10.0),
		     0);
	cr_assert_eq(dash_rows(&m, DASH_BINDINGS, NULL, -1, false, &t), 0);
	cr_assert_str_eq(t.head[3], "KA IN");
	cr_assert_str_eq(t.cell[0][3], "17");
	cr_assert_str_eq(t.cell[0][4], "1");
	cr_assert_str_eq(t.cell[1][3], "-");
	dash_table_free(&t);
	/* 5 s later (another answer moved the model's clock) */
	cr_assert_eq(dash_apply_line(&m, "{\"events\":\"subscribed\"}", 15.0), 0);
	cr_assert_eq(dash_rows(&m, DASH_BINDINGS, NULL, -1, false, &t), 0);
	cr_assert_str_eq(t.cell[0][3], "12");
	dash_table_free(&t);
	dash_model_free(&m);
}

/* In simulation the scenario's own actions join the event log, as written. */
Test(dash, scenario_actions_in_the_event_log)
{
	dash_model m;
	dash_table t;

	dash_model_init(&m);
	cr_assert_eq(dash_apply_line(&m, "{\"event\":\"action\",\"at_s\":4.5,\"line\":31,\"text\":\"fault nat-a reboot\"}", 4.5),
		     0);
	cr_assert_eq(dash_apply_line(&m, "{\"event\":\"keepalive-miss\",\"at_s\":40,\"user\":\"bob\",\"reason\":\"1 of 3\"}", 40),
		     0);
	cr_assert_eq(dash_rows(&m, DASH_EVENTS_PANE, NULL, -1, false, &t), 0);
	cr_assert_str_eq(t.cell[1][1], "action");
	cr_assert_str_eq(t.cell[1][3], "line 31: fault nat-a reboot");
	cr_assert_str_eq(t.cell[0][1], "keepalive-miss");
	cr_assert_str_eq(t.cell[0][3], "reason=1 of 3");
	dash_table_free(&t);
	dash_model_free(&m);
}
