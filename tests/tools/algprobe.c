/* algprobe.c - traverse-algprobe: the same SIP messages through a NAT's
 * SIP ALG, either the Linux kernel's (nf_nat_sip, in network namespaces,
 * tests/kernelalg.sh) or simnat's (alg=sip, nat_process_buf() in memory),
 * written to files so the two can be compared field by field.
 *
 * The exchange, written once (the server's answers and the client's steps
 * are the same functions in both modes):
 *   [taken]  a datagram from 192.168.22.101:5060 first, so that the
 *            phone's port 5060 is taken on the NAT and its mapping moves
 *   1. the phone (192.168.22.100:5060) sends a REGISTER to the server
 *      (S:5060); the server saves what came (register-out) and answers
 *      200 OK with received= and rport= naming the source it saw
 *   2. the phone saves the answer as it arrives (register-reply)
 *   3. the phone sends an INVITE with SDP (RTP 10000); the server saves it
 *      (invite-out) and sends one datagram to the SDP's c= address and m=
 *      port from S:40000 and one from S2:40000 (another address)
 *   4. the phone reports which arrived on its port 10000 (media-peer,
 *      media-other): the ALG's pinhole, and whom it admits
 * Files: DIR/PREFIX-register-out.sip, -register-reply.sip, -invite-out.sip,
 * DIR/PREFIX-media.txt, DIR/PREFIX-mapped.txt (the phone's signalling
 * port as the server saw it), PREFIX kernel or simnat; DIR/before-*.sip: the
 * messages as they reached the NAT (the phone's two, written by sim; the
 * server's reply in the kernel run, written by server). 'fields FILE' prints a saved message's addresses.
 *
 * Safety: the live client sends only to the server address it is given
 * and the server only answers the source it heard and the address the
 * SDP names; every wait is bounded (2 s). */
#include "nat.h"
#include "pkt.h"
#include "sip_rw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const char usage[] =
	"usage: traverse-algprobe client --server IP DIR [--taken]   (in the phone's namespace)\n"
	"       traverse-algprobe server --server IP --other IP DIR   (in the server's namespace)\n"
	"       traverse-algprobe sim --server IP --other IP --nat IP DIR [--taken] [--fault LIST]\n"
	"       traverse-algprobe fields FILE\n";

static const uint32_t PHONE = IP(192, 168, 22, 100), PHONE2 = IP(192, 168, 22, 101);

static const char REGISTER[] =
	"REGISTER sip:example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.22.100:5060;branch=z9hG4bK-r1\r\n"
	"From: <sip:bob@example.net>;tag=1\r\n"
	"To: <sip:bob@example.net>\r\n"
	"Call-ID: r1@192.168.22.100\r\n"
	"CSeq: 1 REGISTER\r\n"
	"Contact: <sip:bob@192.168.22.100:5060>\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char INVITE[] =
	"INVITE sip:alice@example.net SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.168.22.100;branch=z9hG4bK-i1\r\n"
	"From: <sip:bob@192.168.22.100>;tag=2\r\n"
	"To: <sip:alice@example.net>\r\n"
	"Call-ID: i1@192.168.22.100\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:bob@192.168.22.100:5060>\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 122\r\n"
	"\r\n"
	"v=0\r\n"
	"o=bob 1 1 IN IP4 192.168.22.100\r\n"
	"s=-\r\n"
	"c=IN IP4 192.168.22.100\r\n"
	"t=0 0\r\n"
	"m=audio 10000 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

#define MSG_MAX 4096

/* ---- the server's side, shared ---------------------------------------- */

static int save(const char *dir, const char *prefix, const char *name, const char *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%s", dir, prefix, name);
	f = fopen(path, "w");
	if (!f || fwrite(buf, 1, len, f) != len) {
		fprintf(stderr, "algprobe: cannot write %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

static void hdr_copy(const char *m, size_t hl, const char *name, char c, char *out, size_t cap)
{
	rw_span v;

	if (rw_header(m, hl, name, c, 0, &v) == 1)
		rw_copy(m, v, out, cap);
	else
		snprintf(out, cap, "-");
}

/* 200 OK to a REGISTER received from src: the request's Via with
 * received= and rport= (RFC 3581) naming src, its Contact registered. */
static int build_reply(const char *req, size_t len, tv_ep src, char *out, size_t cap)
{
	sip_rw rw;
	char via[256], from[256], to[256], cid[128], cseq[64], ct[256], ip[TV_IP_STRLEN];

	if (rw_init(&rw, req, len) < 0)
		return -1;
	hdr_copy(req, rw.body_off, "Via", 'v', via, sizeof(via));
	hdr_copy(req, rw.body_off, "From", 'f', from, sizeof(from));
	hdr_copy(req, rw.body_off, "To", 't', to, sizeof(to));
	hdr_copy(req, rw.body_off, "Call-ID", 'i', cid, sizeof(cid));
	hdr_copy(req, rw.body_off, "CSeq", 0, cseq, sizeof(cseq));
	hdr_copy(req, rw.body_off, "Contact", 'm', ct, sizeof(ct));
	return snprintf(out, cap,
			"SIP/2.0 200 OK\r\nVia: %s;received=%s;rport=%u\r\nFrom: %s\r\nTo: %s;tag=s1\r\n"
			"Call-ID: %s\r\nCSeq: %s\r\nContact: %s;expires=3600\r\nContent-Length: 0\r\n\r\n",
			via, tv_ip_fmt(&src.ip, ip), src.port, from, to, cid, cseq, ct);
}

static void set_media(void *arg, sip_rw *rw, rw_span line, int media_idx)
{
	tv_ep *to = arg;
	rw_span f;
	char tmp[64];

	(void)media_idx;
	if (rw->buf[line.off] == 'c' && rw_field(rw->buf, line, 2, &f) == 1) {
		rw_copy(rw->buf, f, tmp, sizeof(tmp));
		tv_ip_parse(tmp, &to->ip);
	} else if (rw->buf[line.off] == 'm' && rw_field(rw->buf, line, 1, &f) == 1) {
		rw_copy(rw->buf, f, tmp, sizeof(tmp));
		to->port = (uint16_t)atoi(tmp);
	}
}

/* Where the INVITE's SDP says to send media. */
static int media_target(const char *msg, size_t len, tv_ep *to)
{
	sip_rw rw;

	memset(to, 0, sizeof(*to));
	if (rw_init(&rw, msg, len) < 0)
		return -1;
	rw_sdp_lines(&rw, set_media, to);
	return to->port ? 0 : -1;
}

/* ---- fields ------------------------------------------------------------ */

static void put_span(const char *m, int rc, rw_span s)
{
	if (rc == 1)
		printf("%.*s", (int)s.len, m + s.off);
	else
		printf("-");
}

static void via_param(const char *m, rw_span via, const char *name)
{
	char pat[32];
	const char *p, *end = m + via.off + via.len;

	snprintf(pat, sizeof(pat), ";%s=", name);
	p = memmem(m + via.off, via.len, pat, strlen(pat));
	if (!p) {
		printf("-");
		return;
	}
	p += strlen(pat);
	while (p < end && *p != ';' && *p != ',' && *p != ' ')
		putchar(*p++);
}

static void sdp_field(void *arg, sip_rw *rw, rw_span line, int media_idx)
{
	const char *which = arg;
	rw_span f;

	(void)media_idx;
	if (rw->buf[line.off] != which[0])
		return;
	if (rw_field(rw->buf, line, which[0] == 'o' ? 5 : which[0] == 'c' ? 2 : 1, &f) == 1)
		printf("%.*s", (int)f.len, rw->buf + f.off);
}

static int run_fields(const char *path)
{
	static char m[MSG_MAX + 1];
	FILE *f = fopen(path, "r");
	size_t len;
	sip_rw rw;
	rw_span v, s;
	int rc;

	if (!f) {
		fprintf(stderr, "algprobe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	len = fread(m, 1, MSG_MAX, f);
	fclose(f);
	m[len] = '\0';
	if (rw_init(&rw, m, len) < 0) {
		printf("unreadable yes\n");
		return 0;
	}
	if (strncmp(m, "SIP/2.0", 7)) {
		printf("request-uri ");
		rc = rw_request_uri(m, len, &v);
		if (rc == 1)
			rc = rw_uri_hostport(m, v, &s);
		put_span(m, rc, s);
		printf("\n");
	}
	rc = rw_header(m, rw.body_off, "Via", 'v', 0, &v);
	printf("via-sent-by ");
	put_span(m, rc == 1 ? rw_via_sentby(m, v, &s) : 0, s);
	printf("\nvia-received ");
	if (rc == 1)
		via_param(m, v, "received");
	printf("\nvia-rport ");
	if (rc == 1)
		via_param(m, v, "rport");
	printf("\n");
	{
		static const struct { const char *name; char c; const char *key; } hs[] = {
			{ "Contact", 'm', "contact" }, { "From", 'f', "from" }, { "To", 't', "to" },
		};
		for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
			rc = rw_header(m, rw.body_off, hs[i].name, hs[i].c, 0, &v);
			printf("%s ", hs[i].key);
			put_span(m, rc == 1 ? rw_uri_hostport(m, v, &s) : 0, s);
			printf("\n");
		}
	}
	rc = rw_header(m, rw.body_off, "Content-Length", 'l', 0, &v);
	printf("content-length ");
	put_span(m, rc, v);
	printf("\nbody-length %zu\n", len - rw.body_off);
	if (len > rw.body_off) {
		printf("sdp-o ");
		rw_sdp_lines(&rw, sdp_field, "o");
		printf("\nsdp-c ");
		rw_sdp_lines(&rw, sdp_field, "c");
		printf("\nsdp-m ");
		rw_sdp_lines(&rw, sdp_field, "m");
		printf("\n");
	}
	return 0;
}

/* ---- live -------------------------------------------------------------- */

static int udp_bind(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "algprobe: bind %u: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void udp_send(int fd, tv_ep to, const char *msg, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(to.port), .sin_addr.s_addr = htonl(to.ip.v4) };

	if (sendto(fd, msg, len, 0, (struct sockaddr *)&a, sizeof(a)) < 0)
		fprintf(stderr, "algprobe: sendto: %s\n", strerror(errno));
}

/* One datagram within ms milliseconds: its length, or -1. */
static int udp_recv(int fd, int ms, char *buf, size_t cap, tv_ep *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&a, &al);
	if (n < 0)
		return -1;
	*from = tv_ep4(ntohl(a.sin_addr.s_addr), ntohs(a.sin_port));
	return (int)n;
}

static int run_client(uint32_t server, const char *dir, bool taken)
{
	static char buf[MSG_MAX];
	tv_ep s = tv_ep4(server, 5060), from;
	int fd = udp_bind(PHONE, 5060), media = udp_bind(PHONE, 10000), n;
	bool peer = false, other = false;
	char line[64];

	if (fd < 0 || media < 0)
		return 1;
	if (taken) {
		int f2 = udp_bind(PHONE2, 5060);
		if (f2 < 0)
			return 1;
		udp_send(f2, s, "x", 1);
		close(f2);
		usleep(100000);
	}
	udp_send(fd, s, REGISTER, strlen(REGISTER));
	n = udp_recv(fd, 2000, buf, sizeof(buf), &from);
	if (n < 0 || save(dir, "kernel", "register-reply.sip", buf, (size_t)n) < 0)
		return 1;
	udp_send(fd, s, INVITE, strlen(INVITE));
	for (int i = 0; i < 2 && (n = udp_recv(media, 2000, buf, sizeof(buf), &from)) >= 0; i++) {
		peer |= n >= 4 && !memcmp(buf, "peer", 4);
		other |= n >= 5 && !memcmp(buf, "other", 5);
	}
	n = snprintf(line, sizeof(line), "media-peer %s\nmedia-other %s\n", peer ? "yes" : "no", other ? "yes" : "no");
	return save(dir, "kernel", "media.txt", line, (size_t)n) < 0;
}

static int run_server(uint32_t server, uint32_t other, const char *dir)
{
	static char buf[MSG_MAX], rep[MSG_MAX];
	int fd = udp_bind(server, 5060), m1 = udp_bind(server, 40000), m2 = udp_bind(other, 40000), n;
	tv_ep from, to;
	bool reg = false;

	if (fd < 0 || m1 < 0 || m2 < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < 4 && (n = udp_recv(fd, 5000, buf, sizeof(buf), &from)) >= 0; i++) {
		if (n > 9 && !memcmp(buf, "REGISTER ", 9) && !reg) {
			int r = build_reply(buf, (size_t)n, from, rep, sizeof(rep));
			reg = true;
			char mp[32];
			int ml = snprintf(mp, sizeof(mp), "mapped-port %u\n", from.port);
			if (save(dir, "kernel", "register-out.sip", buf, (size_t)n) < 0 || r < 0 ||
			    save(dir, "kernel", "mapped.txt", mp, (size_t)ml) < 0 ||
			    save(dir, "before", "register-reply.sip", rep, (size_t)r) < 0)
				return 1;
			udp_send(fd, from, rep, (size_t)r);
		} else if (n > 7 && !memcmp(buf, "INVITE ", 7)) {
			if (save(dir, "kernel", "invite-out.sip", buf, (size_t)n) < 0 || media_target(buf, (size_t)n, &to) < 0)
				return 1;
			udp_send(m1, to, "peer", 4);
			udp_send(m2, to, "other", 5);
			return 0;
		}
	}
	fprintf(stderr, "algprobe: server: no INVITE\n");
	return 1;
}

/* ---- sim --------------------------------------------------------------- */

static uint8_t pkt[PKT_IP_MAX];

/* Through the engine: the payload as it leaves the NAT, or -1 if dropped. */
static int sim_pass(nat *n, tv_time now, enum nat_dir dir, tv_ep src, tv_ep dst, const char *msg, size_t len,
		    char *out, tv_ep *osrc, tv_ep *odst)
{
	int l = pkt_build_udp(pkt, sizeof(pkt), &src, &dst, 1, msg, len);
	size_t plen;
	pkt_info pi;

	if (l < 0)
		return -1;
	plen = (size_t)l;
	if (nat_process_buf(n, now, dir, pkt, &plen, sizeof(pkt)) != (dir == NAT_OUT ? NAT_OUT : NAT_IN))
		return -1;
	if (pkt_parse(pkt, plen, &pi) < 0) {
		fprintf(stderr, "algprobe: sim: the NAT forwarded a packet that does not parse\n");
		exit(1);
	}
	memcpy(out, pkt + pi.data_off, pi.data_len);
	*osrc = pi.src;
	*odst = pi.dst;
	return pi.data_len;
}

static int run_sim(uint32_t server, uint32_t other, uint32_t pub, const char *dir, bool taken, const char *faults)
{
	static char buf[MSG_MAX], rep[MSG_MAX];
	nat_cfg c;
	char err[300];
	nat *n;
	tv_ep s = tv_ep4(server, 5060), src, dst, to;
	int len, r;
	bool peer, oth;
	char line[64];

	/* a plain masquerade (docs/simnat.md) with the SIP helper */
	nat_cfg_default(&c);
	c.npub = 1;
	c.pub[0] = tv_ip4(pub);
	c.hairpin = false;
	c.refresh = NAT_REFRESH_BOTH;
	nat_cfg_udp_preset(&c, "linux");
	c.alg = NAT_ALG_SIP;
	if (faults && nat_cfg_set(&c, "alg-fault", faults, err, sizeof(err)) < 0) {
		fprintf(stderr, "algprobe: %s\n", err);
		return 2;
	}
	n = nat_new(&c, 1, err, sizeof(err));
	if (!n) {
		fprintf(stderr, "algprobe: %s\n", err);
		return 1;
	}
	if (save(dir, "before", "register-out.sip", REGISTER, strlen(REGISTER)) < 0 ||
	    save(dir, "before", "invite-out.sip", INVITE, strlen(INVITE)) < 0)
		goto fail;
	if (taken)
		sim_pass(n, 0, NAT_OUT, tv_ep4(PHONE2, 5060), s, "x", 1, buf, &src, &dst);
	len = sim_pass(n, TV_MS(100), NAT_OUT, tv_ep4(PHONE, 5060), s, REGISTER, strlen(REGISTER), buf, &src, &dst);
	if (len < 0 || save(dir, "simnat", "register-out.sip", buf, (size_t)len) < 0)
		goto fail;
	{
		char mp[32];
		int ml = snprintf(mp, sizeof(mp), "mapped-port %u\n", src.port);
		if (save(dir, "simnat", "mapped.txt", mp, (size_t)ml) < 0)
			goto fail;
	}
	r = build_reply(buf, (size_t)len, src, rep, sizeof(rep));
	len = r < 0 ? -1 : sim_pass(n, TV_MS(110), NAT_IN, s, src, rep, (size_t)r, buf, &src, &dst);
	if (len < 0 || save(dir, "simnat", "register-reply.sip", buf, (size_t)len) < 0)
		goto fail;
	len = sim_pass(n, TV_MS(200), NAT_OUT, tv_ep4(PHONE, 5060), s, INVITE, strlen(INVITE), buf, &src, &dst);
	if (len < 0 || save(dir, "simnat", "invite-out.sip", buf, (size_t)len) < 0 || media_target(buf, (size_t)len, &to) < 0)
		goto fail;
	peer = sim_pass(n, TV_MS(210), NAT_IN, tv_ep4(server, 40000), to, "peer", 4, buf, &src, &dst) >= 0 &&
	       dst.ip.v4 == PHONE && dst.port == 10000;
	oth = sim_pass(n, TV_MS(210), NAT_IN, tv_ep4(other, 40000), to, "other", 5, buf, &src, &dst) >= 0 &&
	      dst.ip.v4 == PHONE && dst.port == 10000;
	len = snprintf(line, sizeof(line), "media-peer %s\nmedia-other %s\n", peer ? "yes" : "no", oth ? "yes" : "no");
	if (save(dir, "simnat", "media.txt", line, (size_t)len) < 0)
		goto fail;
	nat_free(n);
	return 0;
fail:
	fprintf(stderr, "algprobe: sim: a message did not get through\n");
	nat_free(n);
	return 1;
}

static int ip_arg(const char *s, uint32_t *out)
{
	tv_ip ip;

	if (tv_ip_parse(s, &ip) < 0 || ip.af != TV_AF_INET) {
		fprintf(stderr, "algprobe: '%s' is not an IPv4 address\n", s);
		return -1;
	}
	*out = ip.v4;
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t server = 0, other = 0, pub = 0;
	const char *dir = NULL, *faults = NULL;
	bool taken = false;

	if (argc == 3 && !strcmp(argv[1], "fields"))
		return run_fields(argv[2]);
	if (argc < 3) {
		fputs(usage, stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--taken"))
			taken = true;
		else if (i + 1 < argc && !strcmp(argv[i], "--server")) {
			if (ip_arg(argv[++i], &server) < 0)
				return 2;
		} else if (i + 1 < argc && !strcmp(argv[i], "--other")) {
			if (ip_arg(argv[++i], &other) < 0)
				return 2;
		} else if (i + 1 < argc && !strcmp(argv[i], "--nat")) {
			if (ip_arg(argv[++i], &pub) < 0)
				return 2;
		} else if (i + 1 < argc && !strcmp(argv[i], "--fault"))
			faults = argv[++i];
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!dir || !server) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "client"))
		return run_client(server, dir, taken);
	if (!strcmp(argv[1], "server") && other)
		return run_server(server, other, dir);
	if (!strcmp(argv[1], "sim") && other && pub)
		return run_sim(server, other, pub, dir, taken, faults);
	fputs(usage, stderr);
	return 2;
}
