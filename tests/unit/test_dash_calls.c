/* test_dash_calls.c - the dashboard's calls, ladders and topology
 * (tui/dash_calls.c, tui/dash_topo.c): made from the JSON lines `traverse
 * run --dash` feeds, without a terminal; tests/dash.sh checks the screen. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dash_model.h"

static int sip(dash_model *m, double t, const char *from, const char *to, const char *cid, const char *first,
	       const char *cseq)
{
	char b[1024];

	snprintf(b, sizeof(b),
		 "{\"sip\":{\"t\":%.3f,\"src\":\"10.0.0.1:5060\",\"dst\":\"10.0.0.2:5060\",\"hop_from\":\"%s\","
		 "\"hop_to\":\"%s\",\"call_id\":\"%s\",\"first\":\"%s\",\"cseq\":\"%s\",\"from\":\"alice\",\"to\":\"bob\"}}",
		 t, from, to, cid, first, cseq);
	return dash_apply_line(m, b, t);
}

/* alice's INVITE through her NAT and the proxy to the softswitch, answered */
static void call(dash_model *m)
{
	sip(m, 1.000, "alice", "nat-a", "abc@192.168.1.10", "INVITE sip:bob@example.net SIP/2.0", "1 INVITE");
	sip(m, 1.010, "nat-a", "px", "abc@192.168.1.10", "INVITE sip:bob@example.net SIP/2.0", "1 INVITE");
	/* the proxy swaps the host part toward the core: the same call */
	sip(m, 1.011, "px/core", "ss", "abc@10.0.0.1", "INVITE sip:bob@example.net SIP/2.0", "1 INVITE");
	sip(m, 1.012, "ss", "px/core", "abc@10.0.0.1", "SIP/2.0 100 Trying", "1 INVITE");
	sip(m, 1.020, "ss", "px/core", "abc@10.0.0.1", "SIP/2.0 180 Ringing", "1 INVITE");
	sip(m, 1.030, "px", "nat-a", "abc@192.168.1.10", "SIP/2.0 200 OK", "1 INVITE");
	sip(m, 1.040, "nat-a", "alice", "abc@192.168.1.10", "SIP/2.0 200 OK", "1 INVITE");
	sip(m, 1.050, "alice", "nat-a", "abc@192.168.1.10", "ACK sip:bob@10.0.0.100 SIP/2.0", "1 ACK");
}

Test(dash_calls, messages_group_per_call_id_before_the_at)
{
	dash_model m;
	dash_table t;

	dash_model_init(&m);
	call(&m);
	sip(&m, 2.0, "alice", "nat-a", "other@192.168.1.10", "REGISTER sip:example.net SIP/2.0", "2 REGISTER");
	sip(&m, 2.1, "nat-a", "alice", "other@192.168.1.10", "SIP/2.0 200 OK", "2 REGISTER");
	cr_assert_eq(m.ncalls, 2);
	cr_assert_eq(m.calls[0].nmsg, 8);
	cr_assert_str_eq(m.calls[0].key, "abc");
	cr_assert_str_eq(m.calls[0].call_id, "abc@192.168.1.10");
	cr_assert_str_eq(m.calls[0].method, "INVITE");
	cr_assert_str_eq(m.calls[0].state, "answered");
	cr_assert_str_eq(m.calls[1].state, "registered");
	cr_assert_eq(dash_rows(&m, DASH_CALLS, NULL, -1, false, &t), 0);
	cr_assert_eq(t.nrows, 2);
	cr_assert_str_eq(t.cell[0][1], "INVITE");
	cr_assert_str_eq(t.cell[0][2], "alice");
	cr_assert_str_eq(t.cell[0][3], "bob");
	cr_assert_str_eq(t.cell[0][5], "8");
	cr_assert_str_eq(t.cell[0][7], "abc");
	dash_table_free(&t);
	/* the list filters like every pane */
	cr_assert_eq(dash_rows(&m, DASH_CALLS, "register", -1, false, &t), 0);
	cr_assert_eq(t.nrows, 1);
	dash_table_free(&t);
	sip(&m, 9.0, "alice", "nat-a", "abc@192.168.1.10", "BYE sip:bob@10.0.0.100 SIP/2.0", "2 BYE");
	cr_assert_str_eq(m.calls[0].state, "ended");
	dash_model_free(&m);
}

Test(dash_calls, ladder_columns_in_order_of_appearance_and_arrows)
{
	dash_model m;
	dash_ladder l;

	dash_model_init(&m);
	call(&m);
	cr_assert_eq(dash_ladder_make(&m, "abc", 80, &l), 0);
	cr_assert_eq(l.ncols, 5);
	cr_assert_str_eq(l.col[0], "alice");
	cr_assert_str_eq(l.col[1], "nat-a");
	cr_assert_str_eq(l.col[2], "px");
	cr_assert_str_eq(l.col[3], "px/core");
	cr_assert_str_eq(l.col[4], "ss");
	cr_assert_eq(l.nlines, 8);
	cr_assert(strstr(l.head, "alice") && strstr(l.head, "px/core"));
	/* names in order along the head line */
	cr_assert(strstr(l.head, "alice") < strstr(l.head, "nat-a"));
	cr_assert(strstr(l.head, "nat-a") < strstr(l.head, " px "));
	cr_assert(strstr(l.head, "px/core") < strstr(l.head, "ss"));
	/* line 0: alice -> nat-a, to the right, INVITE on the arrow */
	cr_assert(strstr(l.line[0], "   1.000"), "%s", l.line[0]);
	cr_assert(strstr(l.line[0], "INVITE"), "%s", l.line[0]);
	cr_assert(strchr(l.line[0], '>') && !strchr(l.line[0], '<'), "%s", l.line[0]);
	/* the arrow's head is just before nat-a's lifeline, its tail after alice's */
	{
		const char *hd = strchr(l.line[0], '>');
		int ha = (int)(strstr(l.head, "alice") - l.head) + 2, hn = (int)(strstr(l.head, "nat-a") - l.head) + 2;
		cr_assert_eq(hd - l.line[0], hn - 1, "%s\n%s", l.head, l.line[0]);
		cr_assert_eq(l.line[0][ha], '|', "%s\n%s", l.head, l.line[0]);
		cr_assert_eq(l.line[0][ha + 1], '-', "%s\n%s", l.head, l.line[0]);
	}
	/* line 3: ss -> px/core, to the left, a response */
	cr_assert(strchr(l.line[3], '<') && !strchr(l.line[3], '>'), "%s", l.line[3]);
	cr_assert(strstr(l.line[3], "100"), "%s", l.line[3]);
	cr_assert(strstr(l.line[6], "200 OK"), "%s", l.line[6]);
	cr_assert(strstr(l.line[7], "ACK"), "%s", l.line[7]);
	cr_assert_eq(l.msg[7], &m.calls[0].msg[7]);
	for (int i = 0; i < l.nlines; i++)
		cr_assert_leq(strlen(l.line[i]), 80);
	dash_ladder_free(&l);
	cr_assert_eq(dash_ladder_make(&m, "no-such", 80, &l), -1);
	dash_ladder_free(&l);
	/* narrow: the labels shrink, nothing goes past the edge */
	cr_assert_eq(dash_ladder_make(&m, "abc", 40, &l), 0);
	for (int i = 0; i < l.nlines; i++)
		cr_assert_leq(strlen(l.line[i]), 40);
	dash_ladder_free(&l);
	dash_model_free(&m);
}

Test(dash_calls, bounded_calls_and_messages)
{
	dash_model m;
	char cid[32];

	dash_model_init(&m);
	for (int i = 0; i < DASH_SIP_CALLS + 5; i++) {
		snprintf(cid, sizeof(cid), "c%d@h", i);
		sip(&m, i, "a", "b", cid, "OPTIONS sip:x SIP/2.0", "1 OPTIONS");
	}
	cr_assert_eq(m.ncalls, DASH_SIP_CALLS);
	cr_assert_eq(m.calls_dropped, 5);
	cr_assert_str_eq(m.calls[0].key, "c5");          /* the oldest went first */
	for (int i = 0; i < DASH_SIP_MSGS + 7; i++)
		sip(&m, 1000 + i, "a", "b", "long@h", "OPTIONS sip:x SIP/2.0", "1 OPTIONS");
	const dash_call *c = dash_call_find(&m, "long");
	cr_assert_not_null(c);
	cr_assert_eq(c->nmsg, DASH_SIP_MSGS);
	cr_assert_eq(c->total, DASH_SIP_MSGS + 7);
	cr_assert_float_eq(c->msg[0].t, 1007, 1e-9);    /* the oldest went first */
	dash_model_free(&m);
}

Test(dash_calls, unparsed_and_wrong_input_never_crash)
{
	dash_model m;
	dash_sip_text st;
	dash_ladder l;
	const char *inv = "INVITE sip:bob@x SIP/2.0\r\ni: k1@h\r\nf: \"A\" <sip:alice@x>;tag=1\r\nt: <sip:bob@x>\r\n"
			  "cseq:  7 INVITE\r\nContent-Length: 0\r\n\r\n";
	const char *junk = "HELLO there\r\nCall-ID: j@h\r\n\r\n";
	const uint8_t rtp[] = { 0x80, 0x00, 0x01, 0x02 };

	/* compact forms, any case */
	cr_assert_eq(dash_sip_scan((const uint8_t *)inv, strlen(inv), &st), 1);
	cr_assert_str_eq(st.first, "INVITE sip:bob@x SIP/2.0");
	cr_assert_str_eq(st.call_id, "k1@h");
	cr_assert_str_eq(st.cseq, "7 INVITE");
	cr_assert_str_eq(st.from, "alice");
	cr_assert_str_eq(st.to, "bob");
	/* a Call-ID without a SIP first line: SIP, unparsed */
	cr_assert_eq(dash_sip_scan((const uint8_t *)junk, strlen(junk), &st), 1);
	cr_assert_str_eq(st.first, "(unparsed)");
	/* not SIP: RTP, a CRLF keepalive, nothing, text without a Call-ID */
	cr_assert_eq(dash_sip_scan(rtp, sizeof(rtp), &st), 0);
	cr_assert_eq(dash_sip_scan((const uint8_t *)"\r\n\r\n", 4, &st), 0);
	cr_assert_eq(dash_sip_scan((const uint8_t *)"", 0, &st), 0);
	cr_assert_eq(dash_sip_scan((const uint8_t *)"hello", 5, &st), 0);
	/* cut anywhere: never reads past n */
	for (size_t n = 0; n <= strlen(inv); n++)
		dash_sip_scan((const uint8_t *)inv, n, &st);

	dash_model_init(&m);
	/* a message without its fields: shown, as (unparsed), under (no Call-ID) */
	cr_assert_eq(dash_apply_line(&m, "{\"sip\":{}}", 1), 0);
	cr_assert_eq(dash_apply_line(&m, "{\"sip\":{\"t\":\"x\",\"first\":7,\"call_id\":[1]}}", 1), 0);
	cr_assert_eq(m.ncalls, 1);
	cr_assert_str_eq(m.calls[0].msg[0].first, "(unparsed)");
	cr_assert_eq(dash_ladder_make(&m, m.calls[0].key, 80, &l), 0);
	cr_assert(strstr(l.line[0], "(unparsed)"), "%s", l.line[0]);
	dash_ladder_free(&l);
	/* not an object: counted as a bad answer */
	cr_assert_eq(dash_apply_line(&m, "{\"sip\":3}", 1), -1);
	cr_assert_eq(m.bad_answers, 1);
	dash_model_free(&m);
}

Test(dash_calls, topology_tree_with_link_rates_and_live_marks)
{
	dash_model m;
	dash_table t;
	const char *topo =
		"{\"topo\":{\"nodes\":["
		"{\"name\":\"ss\",\"kind\":\"softswitch\",\"ip\":\"10.0.0.100\",\"links\":[\"core\"]},"
		"{\"name\":\"px\",\"kind\":\"proxy\",\"ip\":\"198.51.100.10 / 10.0.0.1\",\"links\":[\"internet\",\"core\"]},"
		"{\"name\":\"nat-a\",\"kind\":\"nat\",\"ip\":\"203.0.113.10\",\"links\":[\"home-a\",\"internet\"]},"
		"{\"name\":\"alice\",\"kind\":\"phone\",\"ip\":\"192.168.1.10\",\"links\":[\"home-a\"]}],"
		"\"links\":[{\"name\":\"internet\",\"delivered\":%d},{\"name\":\"core\",\"delivered\":10},"
		"{\"name\":\"home-a\",\"delivered\":5},{\"name\":\"spare\",\"delivered\":0}]}}";
	char b[1024];

	dash_model_init(&m);
	snprintf(b, sizeof(b), topo, 100);
	cr_assert_eq(dash_apply_line(&m, b, 1.0), 0);
	snprintf(b, sizeof(b), topo, 300);
	cr_assert_eq(dash_apply_line(&m, b, 3.0), 0);
	cr_assert_eq(dash_rows(&m, DASH_TOPO, NULL, -1, false, &t), 0);
	cr_assert_eq(t.nrows, 8);
	cr_assert_str_eq(t.cell[0][0], "ss (softswitch) 10.0.0.100");
	cr_assert_str_eq(t.cell[1][0], "`-[core]");
	cr_assert_str_eq(t.cell[2][0], "   `- px (proxy) 198.51.100.10 / 10.0.0.1");
	cr_assert_str_eq(t.cell[3][0], "      `-[internet]");
	cr_assert_str_eq(t.cell[4][0], "         `- nat-a (nat) 203.0.113.10");
	cr_assert_str_eq(t.cell[5][0], "            `-[home-a]");
	cr_assert_str_eq(t.cell[6][0], "               `- alice (phone) 192.168.1.10");
	cr_assert_str_eq(t.cell[7][0], "[spare]");   /* a link nobody is on */
	/* internet: 200 packets in 2 s, live; core carried nothing since */
	cr_assert_str_eq(t.cell[3][1], "300");
	cr_assert_str_eq(t.cell[3][2], "100");
	cr_assert_str_eq(t.cell[3][4], "<=>");
	cr_assert_str_eq(t.cell[1][2], "0");
	cr_assert_str_eq(t.cell[1][4], "");
	dash_table_free(&t);
	/* two more virtual seconds without packets: no longer live */
	cr_assert_eq(dash_apply_line(&m, b, 5.0), 0);
	cr_assert_eq(dash_rows(&m, DASH_TOPO, NULL, -1, false, &t), 0);
	cr_assert_str_eq(t.cell[3][4], "");
	cr_assert_str_eq(t.cell[3][2], "0");
	dash_table_free(&t);
	dash_model_free(&m);
}
