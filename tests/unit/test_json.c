/* test_json.c - the control socket's JSON writer (daemon/json.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "json.h"

Test(json, strings_are_escaped_and_fields_follow)
{
	jbuf j = { 0 };

	jb_raw(&j, "{");
	jb_key(&j, "user");
	jb_str(&j, "a\"b\\c\r\n\x01");
	jb_field(&j, "x", "y");
	jb_raw(&j, "}");
	cr_assert_str_eq(j.s, "{\"user\":\"a\\\"b\\\\c\\u000d\\u000a\\u0001\",\"x\":\"y\"}");
	jb_free(&j);
}

Test(json, formatted_output_is_never_cut)
{
	jbuf j = { 0 };
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	jb_fmt(&j, "[%s|%d]", big, 42);
	cr_assert_eq(j.len, strlen(big) + 5);
	cr_assert_eq(strncmp(j.s + j.len - 4, "|42]", 4), 0);
	cr_assert(!j.oom);
	jb_free(&j);
}

#include "ctl_json.h"

/* A SIP message the proxy sent toward the core becomes the dashboard's
 * "sip" line, its hops named by side; a keepalive CRLF or RTP is not SIP
 * and makes no line. */
Test(json, sip_events_are_lines_for_the_call_flow)
{
	static const char msg[] = "INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5100\r\n"
				  "i: abc@10.0.0.1\r\nCSeq: 1 INVITE\r\nFrom: <sip:alice@example.net>;tag=1\r\n"
				  "To: \"Bob\" <sip:bob@example.net>\r\nContent-Length: 0\r\n\r\n";
	proxy_event e = { .type = PX_EV_SIP, .reason = "core-out", .msg = msg, .len = sizeof(msg) - 1,
			  .src = tv_ep4(0x0a000001, 5100), .dst = tv_ep4(0x0a000064, 5060), .at = 1500000 };
	jbuf j = { 0 };

	ctl_json_event(&e, &j);
	cr_assert_str_eq(j.s, "{\"sip\":{\"t\":1.500000,\"src\":\"10.0.0.1:5100\",\"dst\":\"10.0.0.100:5060\","
			      "\"hop_from\":\"px/core\",\"hop_to\":\"softswitch\",\"proto\":\"udp\","
			      "\"first\":\"INVITE sip:bob@example.net SIP/2.0\",\"call_id\":\"abc@10.0.0.1\","
			      "\"cseq\":\"1 INVITE\",\"from\":\"alice\",\"to\":\"bob\"}}\n");
	jb_free(&j);
	e.reason = "access-in";
	e.src = tv_ep4(0xcb00710a, 5060);
	ctl_json_event(&e, &j);
	cr_assert(strstr(j.s, "\"hop_from\":\"203.0.113.10:5060\",\"hop_to\":\"px\"") != NULL, "%s", j.s);
	jb_free(&j);
	e.msg = "\x80\x00\x01\x02garbage";
	e.len = 11;
	ctl_json_event(&e, &j);
	cr_assert_null(j.s, "RTP is not SIP: %s", j.s ? j.s : "");
	jb_free(&j);
}
