/* tvcalls.c - traverse-tvcalls: sets up N calls through a running
 * traverse-proxy with Traverse's own engines on real loopback sockets, for
 * the relay benchmark (bench/live/run.sh), then prints where the media of
 * each call goes and exits, leaving the calls up in the proxy.
 *
 *   caller_i (127.61.x.y, behind the proxy) --SIP--> traverse-proxy access
 *   traverse-proxy core --SIP--> softswitch (127.0.0.3 by default)
 *   callee_i (127.62.x.y, on the core side, registered with the softswitch
 *            directly: a media gateway, say)
 *
 * So each call's media crosses the proxy once each way (access port <->
 * core port), as a call crosses rtpengine or the plain relay once. Phones
 * send no media (media=manual); the load generator (traverse-rtpload) binds
 * their RTP addresses after this program exits and sends from there, so the
 * proxy's latching sees the terminals it signalled with.
 *
 * Output, one line per call:
 *   CALLER_RTP PROXY_ACCESS_RTP CALLEE_RTP PROXY_CORE_RTP
 * (what the caller sends to and from, and the same for the callee). */
#include "livehost.h"
#include "sipua.h"
#include "media.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char usage[] =
	"usage: traverse-tvcalls --proxy IP:PORT [--softswitch IP:PORT] [--calls N] [--timeout S]\n"
	"                        [--register-only] [--ip A --sip-base S --rtp-base R]\n"
	"\n"
	"Registers N callers through traverse-proxy and N callees at a softswitch\n"
	"(run here, on the given address), calls each callee, and prints per call\n"
	"'CALLER_RTP PROXY_ACCESS_RTP CALLEE_RTP PROXY_CORE_RTP'. --register-only:\n"
	"the callers register and nothing more (idle terminals). --ip puts every\n"
	"phone on address A: caller i on SIP port S+i and RTP R+4i, callee i on\n"
	"S+N+i and R+4i+2 (traverse-rtpload --local-base R binds the same). The proxy must\n"
	"have softswitch = that address. Exit 0 once every call is up, 1 if not\n"
	"within the timeout (default 30 s), 2 on usage errors.\n";

typedef struct phone {
	tv_host *h;
	sipua *ua;
	char user[32];
} phone;

static int phone_up(live_loop *lp, phone *p, const char *user, uint32_t ip, const tv_ep *via, uint16_t sip_port,
		    uint16_t rtp_port)
{
	tv_ip a = tv_ip4(ip);
	sipua_cfg c = { 0 };
	int err;

	snprintf(p->user, sizeof(p->user), "%s", user);
	p->h = livehost_new(lp, user, &a, 1, &err);
	if (!p->h)
		return -1;
	c.user = p->user;
	c.domain = "bench.example";
	c.proxy = *via;
	c.sip_port = sip_port;
	c.rport = true;
	c.reg_expires = TV_SEC(3600);
	c.rtp_port = rtp_port;
	c.answer = SIPUA_ANSWER_AUTO;
	c.media_manual = true;
	p->ua = sipua_new(p->h, &c, &err);
	return p->ua ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "proxy", required_argument, NULL, 'p' }, { "softswitch", required_argument, NULL, 's' },
		{ "calls", required_argument, NULL, 'n' }, { "timeout", required_argument, NULL, 't' },
		{ "register-only", no_argument, NULL, 'r' }, { "ip", required_argument, NULL, 'i' },
		{ "sip-base", required_argument, NULL, 'S' }, { "rtp-base", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	tv_ep px = { 0 }, ssep = tv_ep4(0x7f000003, 5060);
	int n = 1, timeout = 30, o, err, up = 0;
	bool reg_only = false;
	tv_ip one_ip = { 0 };
	int sip_base = 0, rtp_base = 0;
	live_loop *lp;
	tv_host *ssh;
	softswitch *ss;
	softswitch_cfg sc = { .port = 5060, .domain = "bench.example", .udp_only = true,
			      .reach = SOFTSWITCH_REACH_ANY };
	phone *callers, *callees;
	struct rlimit rl;
	tv_time end;

	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'p': if (tv_ep_parse(optarg, &px, false) < 0) return 2; break;
		case 's': if (tv_ep_parse(optarg, &ssep, false) < 0) return 2; break;
		case 'n': n = atoi(optarg); break;
		case 't': timeout = atoi(optarg); break;
		case 'r': reg_only = true; break;
		case 'i': if (tv_ip_parse(optarg, &one_ip) < 0) return 2; break;
		case 'S': sip_base = atoi(optarg); break;
		case 'R': rtp_base = atoi(optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!px.port || n < 1 || n > 60000 || timeout < 1 || (one_ip.v4 && (!sip_base || !rtp_base)) ||
	    (sip_base && sip_base + 2 * n > 65535) || (rtp_base && rtp_base + 4 * n > 65535)) {
		fputs(usage, stderr);
		return 2;
	}
	/* three sockets a phone */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	lp = live_loop_new(&err);
	ssh = lp ? livehost_new(lp, "softswitch", &ssep.ip, 1, &err) : NULL;
	sc.port = ssep.port;
	ss = ssh ? softswitch_new_cfg(ssh, &sc, &err) : NULL;
	callers = calloc((size_t)n, sizeof(*callers));
	callees = calloc((size_t)n, sizeof(*callees));
	if (!ss || !callers || !callees) {
		fprintf(stderr, "traverse-tvcalls: cannot start the softswitch on %s (%d)\n",
			tv_ep_fmt(&ssep, (char[TV_EP_STRLEN]){ 0 }), err);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char u[32];
		uint32_t lo16 = (uint32_t)(i / 250) << 8 | (uint32_t)(i % 250 + 1);
		uint32_t ca = one_ip.v4 ? one_ip.v4 : 0x7f3d0000u | lo16, ce = one_ip.v4 ? one_ip.v4 : 0x7f3e0000u | lo16;
		snprintf(u, sizeof(u), "caller%d", i);
		if (phone_up(lp, &callers[i], u, ca, &px, (uint16_t)(sip_base ? sip_base + i : 5060),
			     (uint16_t)(rtp_base ? rtp_base + 4 * i : 10000)) < 0)
			return 1;
		snprintf(u, sizeof(u), "callee%d", i);
		if (phone_up(lp, &callees[i], u, ce, &ssep, (uint16_t)(sip_base ? sip_base + n + i : 5060),
			     (uint16_t)(rtp_base ? rtp_base + 4 * i + 2 : 10000)) < 0)
			return 1;
	}
	/* register in bursts of 50 a loop turn, so no socket buffer overflows */
	for (int i = 0; i < n; i++) {
		sipua_register(callers[i].ua);
		sipua_register(callees[i].ua);
		if (i % 50 == 49)
			live_loop_once(lp, TV_MS(5));
	}
	end = live_loop_now(lp) + TV_SEC(timeout);
	for (int reg = 0; reg < 2 * n && live_loop_now(lp) < end;) {
		live_loop_once(lp, TV_MS(20));
		reg = 0;
		for (int i = 0; i < n; i++)
			reg += sipua_get_status(callers[i].ua)->registered + sipua_get_status(callees[i].ua)->registered;
	}
	if (reg_only) {
		int reg = 0;
		for (int i = 0; i < n; i++)
			reg += sipua_get_status(callers[i].ua)->registered;
		printf("%d of %d callers registered\n", reg, n);
		fflush(stdout);
		_exit(reg == n ? 0 : 1);
	}
	for (int i = 0; i < n; i++) {
		sipua_call(callers[i].ua, callees[i].user);
		if (i % 50 == 49)
			live_loop_once(lp, TV_MS(5));
	}
	while (up < n && live_loop_now(lp) < end) {
		live_loop_once(lp, TV_MS(20));
		up = 0;
		for (int i = 0; i < n; i++)
			up += sipua_get_status(callers[i].ua)->state == SIPUA_ESTABLISHED &&
			      sipua_get_status(callees[i].ua)->state == SIPUA_ESTABLISHED;
	}
	if (up < n) {
		fprintf(stderr, "traverse-tvcalls: %d of %d calls up after %d s\n", up, n, timeout);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		media_stream *a = sipua_media(callers[i].ua, 0), *b = sipua_media(callees[i].ua, 0);
		char s1[TV_EP_STRLEN], s2[TV_EP_STRLEN], s3[TV_EP_STRLEN], s4[TV_EP_STRLEN];
		tv_ep la = tv_ep4(host_ip(callers[i].h)->v4, media_rtp_port(a));
		tv_ep lb = tv_ep4(host_ip(callees[i].h)->v4, media_rtp_port(b));
		tv_ep ra = media_remote_rtp(a), rb = media_remote_rtp(b);
		printf("%s %s %s %s\n", tv_ep_fmt(&la, s1), tv_ep_fmt(&ra, s2), tv_ep_fmt(&lb, s3), tv_ep_fmt(&rb, s4));
	}
	fflush(stdout);
	/* Leave without a BYE: the calls stay up in the proxy; the process's
	 * sockets close with it. */
	_exit(0);
}
