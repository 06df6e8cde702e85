/* ngcall.c - traverse-ngcall: a minimal client of rtpengine's ng control
 * protocol, enough to set up calls for traverse-rtpload.
 *
 * ng is bencode over UDP: each datagram is "COOKIE SPACE DICT", and the
 * reply carries the same cookie. For call i (call-id PREFIX-i):
 *   offer  from-tag f-i, SDP naming the generator's side 1 socket
 *          (LOCAL_IP:BASE+4i); the SDP returned is what side 2 would get,
 *          so its c=/m= are where side 2 must send
 *   answer to-tag t-i, SDP naming side 2 (LOCAL_IP:BASE+4i+2); the SDP
 *          returned is for side 1: where side 1 must send
 * and writes "SIDE1_DST SIDE2_DST" per call, the --targets format of
 * traverse-rtpload (whose --local-base lays out the same ports).
 * --delete removes calls PREFIX-0 .. PREFIX-(N-1); --ping asks for a pong.
 *
 * Requests are sent one at a time, resent every 300 ms, three times at most.
 * Only control addresses in 127.0.0.0/8 are accepted, and every address
 * rtpengine returns must be in 127.0.0.0/8 too, or the run stops. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NG_MSG 8192

typedef struct ng_cfg {
	struct sockaddr_in ng;
	const char *local_ip;
	int local_base;
	int calls;
	const char *prefix;
	const char *out;
	int delete, ping;
} ng_cfg;

typedef struct ng_span {
	const char *p;
	size_t len;
} ng_span;

static void ng_usage(FILE *f)
{
	fprintf(f,
		"usage: traverse-ngcall --ng IP:PORT [--ping]\n"
		"       traverse-ngcall --ng IP:PORT --calls N --local-base P [--local-ip IP]\n"
		"                       [--prefix ID] [--out FILE]\n"
		"       traverse-ngcall --ng IP:PORT --calls N --delete [--prefix ID]\n"
		"\n"
		"Sets up N calls in rtpengine through its ng protocol (offer, then answer),\n"
		"with SDP naming side 1 of call i at IP:P+4i and side 2 at IP:P+4i+2, and\n"
		"writes per call 'SIDE1_DST SIDE2_DST' (traverse-rtpload --targets) to\n"
		"FILE or stdout. --delete deletes the calls; --ping checks the daemon.\n"
		"Call-ids are ID-0 .. ID-(N-1) (default ID: tvb).\n");
}

static int ng_is_loopback_str(const char *ip)
{
	struct in_addr a;

	return inet_pton(AF_INET, ip, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static int ng_parse(int argc, char **argv, ng_cfg *c)
{
	*c = (ng_cfg){ .local_ip = "127.0.0.1", .prefix = "tvb" };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return 1;
		if (!strcmp(a, "--delete") || !strcmp(a, "--ping")) {
			*(a[2] == 'd' ? &c->delete : &c->ping) = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "traverse-ngcall: %s needs a value (see --help)\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--ng")) {
			char ip[64];
			const char *colon = strrchr(v, ':');

			if (!colon || (size_t)(colon - v) >= sizeof(ip)) {
				fprintf(stderr, "traverse-ngcall: --ng wants IP:PORT\n");
				return -1;
			}
			memcpy(ip, v, (size_t)(colon - v));
			ip[colon - v] = 0;
			c->ng.sin_family = AF_INET;
			c->ng.sin_port = htons((uint16_t)atoi(colon + 1));
			if (!ng_is_loopback_str(ip) || inet_pton(AF_INET, ip, &c->ng.sin_addr) != 1) {
				fprintf(stderr, "traverse-ngcall: --ng %s is not in 127.0.0.0/8\n", v);
				return -1;
			}
		} else if (!strcmp(a, "--calls"))
			c->calls = atoi(v);
		else if (!strcmp(a, "--local-ip"))
			c->local_ip = v;
		else if (!strcmp(a, "--local-base"))
			c->local_base = atoi(v);
		else if (!strcmp(a, "--prefix"))
			c->prefix = v;
		else if (!strcmp(a, "--out"))
			c->out = v;
		else {
			fprintf(stderr, "traverse-ngcall: unknown option %s (see --help)\n", a);
			return -1;
		}
	}
	if (!c->ng.sin_family) {
		fprintf(stderr, "traverse-ngcall: --ng is required\n");
		return -1;
	}
	if (!c->ping && (c->calls < 1 || c->calls > 20000 ||
			 (!c->delete && (c->local_base < 1 || c->local_base + 4 * c->calls > 65536)) ||
			 !ng_is_loopback_str(c->local_ip))) {
		fprintf(stderr, "traverse-ngcall: bad --calls, --local-base or --local-ip\n");
		return -1;
	}
	return 0;
}

/* Bencode: returns the end of the element at p, or NULL if malformed. */
static const char *ng_bc_skip(const char *p, const char *end, int depth)
{
	if (p >= end || depth > 16)
		return NULL;
	if (*p == 'i') {
		const char *e = memchr(p, 'e', (size_t)(end - p));
		return e ? e + 1 : NULL;
	}
	if (*p == 'l' || *p == 'd') {
		p++;
		while (p < end && *p != 'e') {
			p = ng_bc_skip(p, end, depth + 1);
			if (!p)
				return NULL;
		}
		return p < end ? p + 1 : NULL;
	}
	if (*p >= '0' && *p <= '9') {
		size_t len = 0;

		while (p < end && *p >= '0' && *p <= '9') {
			len = len * 10 + (size_t)(*p - '0');
			if (len > NG_MSG)
				return NULL;
			p++;
		}
		if (p >= end || *p != ':' || (size_t)(end - p - 1) < len)
			return NULL;
		return p + 1 + len;
	}
	return NULL;
}

/* Finds the string value of key in the dictionary [p, end). Returns 1 found,
 * 0 absent, -1 malformed. */
static int ng_bc_find(const char *p, const char *end, const char *key, ng_span *val)
{
	size_t klen = strlen(key);

	if (p >= end || *p != 'd')
		return -1;
	p++;
	while (p < end && *p != 'e') {
		const char *k = p, *kend = ng_bc_skip(p, end, 1), *vend, *colon;

		if (!kend || *k < '0' || *k > '9')
			return -1;
		vend = ng_bc_skip(kend, end, 1);
		if (!vend)
			return -1;
		colon = memchr(k, ':', (size_t)(kend - k));
		if (colon && (size_t)(kend - colon - 1) == klen && !memcmp(colon + 1, key, klen)) {
			const char *vc = memchr(kend, ':', (size_t)(vend - kend));

			if (*kend < '0' || *kend > '9' || !vc)
				return -1;
			val->p = vc + 1;
			val->len = (size_t)(vend - vc - 1);
			return 1;
		}
		p = vend;
	}
	return 0;
}

/* One request, one reply. Returns 0 with the reply dictionary in reply,
 * -1 on timeout or error (message printed). */
static int ng_request(int fd, const ng_cfg *c, const char *dict, size_t dlen, char *reply,
		      ng_span *rdict)
{
	static unsigned serial;
	char msg[NG_MSG], cookie[32];
	int clen, mlen;

	clen = snprintf(cookie, sizeof(cookie), "%u_%u", (unsigned)getpid(), ++serial);
	mlen = snprintf(msg, sizeof(msg), "%s %.*s", cookie, (int)dlen, dict);
	if (mlen < 0 || mlen >= (int)sizeof(msg))
		return -1;
	for (int attempt = 0; attempt < 3; attempt++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (sendto(fd, msg, (size_t)mlen, 0, (const struct sockaddr *)&c->ng, sizeof(c->ng)) < 0) {
			fprintf(stderr, "traverse-ngcall: send: %s\n", strerror(errno));
			return -1;
		}
		while (poll(&pfd, 1, 300) == 1) {
			ssize_t n = recv(fd, reply, NG_MSG - 1, 0);

			if (n > clen && !memcmp(reply, cookie, (size_t)clen) && reply[clen] == ' ') {
				reply[n] = 0;
				rdict->p = reply + clen + 1;
				rdict->len = (size_t)n - (size_t)clen - 1;
				return 0;
			}
		}
	}
	fprintf(stderr, "traverse-ngcall: no answer from rtpengine\n");
	return -1;
}

/* Checks result=ok (or pong) and, when sdp_out, pulls "ADDR:PORT" of the
 * audio stream from the returned SDP. Returns 0 or -1 (message printed). */
static int ng_check(const ng_span *d, const char *what, char *ep_out, size_t ep_len)
{
	ng_span res, sdp, reason;
	const char *end = d->p + d->len;
	char ip[64] = "";
	int port = 0;

	if (ng_bc_find(d->p, end, "result", &res) != 1) {
		fprintf(stderr, "traverse-ngcall: %s: malformed reply\n", what);
		return -1;
	}
	if (!(res.len == 2 && !memcmp(res.p, "ok", 2)) && !(res.len == 4 && !memcmp(res.p, "pong", 4))) {
		if (ng_bc_find(d->p, end, "error-reason", &reason) != 1)
			reason = (ng_span){ "?", 1 };
		fprintf(stderr, "traverse-ngcall: %s: %.*s: %.*s\n", what, (int)res.len, res.p,
			(int)reason.len, reason.p);
		return -1;
	}
	if (!ep_out)
		return 0;
	if (ng_bc_find(d->p, end, "sdp", &sdp) != 1) {
		fprintf(stderr, "traverse-ngcall: %s: no sdp in the reply\n", what);
		return -1;
	}
	for (const char *l = sdp.p; l < sdp.p + sdp.len;) {
		const char *nl = memchr(l, '\n', (size_t)(sdp.p + sdp.len - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(sdp.p + sdp.len - l);
		char line[160];

		if (len < sizeof(line)) {
			memcpy(line, l, len);
			line[len] = 0;
			/* The media-level c= comes after m=, and wins. */
			sscanf(line, "c=IN IP4 %63[0-9.]", ip);
			if (!port)
				sscanf(line, "m=audio %d", &port);
		}
		l = nl ? nl + 1 : sdp.p + sdp.len;
	}
	if (port < 1 || port > 65535 || !ng_is_loopback_str(ip)) {
		fprintf(stderr, "traverse-ngcall: %s: SDP names %s:%d, not a port in 127.0.0.0/8\n", what, ip, port);
		return -1;
	}
	snprintf(ep_out, ep_len, "%s:%d", ip, port);
	return 0;
}

static int ng_bstr(char *out, size_t cap, size_t at, const char *s)
{
	int n = snprintf(out + at, cap - at, "%zu:%s", strlen(s), s);

	return n < 0 || (size_t)n >= cap - at ? -1 : n;
}

/* Builds a ng dictionary. Keys must be given sorted; NULL ends. Returns the
 * length or -1. */
static int ng_dict(char *out, size_t cap, const char *const *kv)
{
	size_t at = 1;

	out[0] = 'd';
	for (; kv[0]; kv += 2) {
		int n = ng_bstr(out, cap, at, kv[0]);

		if (n < 0)
			return -1;
		at += (size_t)n;
		n = ng_bstr(out, cap, at, kv[1]);
		if (n < 0)
			return -1;
		at += (size_t)n;
	}
	if (at + 1 >= cap)
		return -1;
	out[at++] = 'e';
	out[at] = 0;
	return (int)at;
}

static int ng_call(int fd, const ng_cfg *c, int i, FILE *out)
{
	char callid[64], ftag[32], ttag[32], sdp[512], dict[2048], reply[NG_MSG];
	char side1_dst[96], side2_dst[96];
	ng_span d;
	int n;

	snprintf(callid, sizeof(callid), "%s-%d", c->prefix, i);
	snprintf(ftag, sizeof(ftag), "f-%d", i);
	snprintf(ttag, sizeof(ttag), "t-%d", i);
	for (int side = 0; side < 2; side++) {
		const char *cmd = side ? "answer" : "offer";

		snprintf(sdp, sizeof(sdp),
			 "v=0\r\no=- %d 1 IN IP4 %s\r\ns=traverse-bench\r\nc=IN IP4 %s\r\nt=0 0\r\n"
			 "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
			 i, c->local_ip, c->local_ip, c->local_base + 4 * i + 2 * side);
		{
			const char *kv_offer[] = { "call-id", callid, "command", cmd, "from-tag", ftag,
						   "sdp", sdp, NULL };
			const char *kv_answer[] = { "call-id", callid, "command", cmd, "from-tag", ftag,
						    "sdp", sdp, "to-tag", ttag, NULL };
			n = ng_dict(dict, sizeof(dict), side ? kv_answer : kv_offer);
		}
		if (n < 0 || ng_request(fd, c, dict, (size_t)n, reply, &d) < 0 ||
		    ng_check(&d, cmd, side ? side1_dst : side2_dst, sizeof(side1_dst)) < 0)
			return -1;
	}
	fprintf(out, "%s %s\n", side1_dst, side2_dst);
	return 0;
}

static int ng_delete(int fd, const ng_cfg *c, int i)
{
	char callid[64], ftag[32], dict[512], reply[NG_MSG];
	ng_span d;
	int n;

	snprintf(callid, sizeof(callid), "%s-%d", c->prefix, i);
	snprintf(ftag, sizeof(ftag), "f-%d", i);
	{
		const char *kv[] = { "call-id", callid, "command", "delete", "from-tag", ftag, NULL };
		n = ng_dict(dict, sizeof(dict), kv);
	}
	if (n < 0 || ng_request(fd, c, dict, (size_t)n, reply, &d) < 0)
		return -1;
	return ng_check(&d, "delete", NULL, 0);
}

int main(int argc, char **argv)
{
	ng_cfg c;
	FILE *out = stdout;
	int fd, rc = 1, done = 0;

	switch (ng_parse(argc, argv, &c)) {
	case 1:
		ng_usage(stdout);
		return 0;
	case -1:
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "traverse-ngcall: socket: %s\n", strerror(errno));
		return 1;
	}
	if (c.ping) {
		char dict[64], reply[NG_MSG];
		const char *kv[] = { "command", "ping", NULL };
		ng_span d;
		int n = ng_dict(dict, sizeof(dict), kv);

		rc = ng_request(fd, &c, dict, (size_t)n, reply, &d) == 0 && ng_check(&d, "ping", NULL, 0) == 0 ? 0 : 1;
		goto out_fd;
	}
	if (c.out && !c.delete) {
		out = fopen(c.out, "w");
		if (!out) {
			fprintf(stderr, "traverse-ngcall: %s: %s\n", c.out, strerror(errno));
			goto out_fd;
		}
	}
	for (done = 0; done < c.calls; done++)
		if ((c.delete ? ng_delete(fd, &c, done) : ng_call(fd, &c, done, out)) < 0)
			break;
	if (done == c.calls)
		rc = 0;
	else
		fprintf(stderr, "traverse-ngcall: stopped after %d of %d calls\n", done, c.calls);
	if (out != stdout && fclose(out) != 0)
		rc = 1;
out_fd:
	close(fd);
	return rc;
}
