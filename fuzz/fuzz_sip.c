/* fuzz_sip.c - libFuzzer: arbitrary bytes as SIP into a proxy, after a
 * registration: from the access side over UDP or over TCP (the proxy's
 * own framing, tcp_frames), or from the core side.
 *
 * Input: [mode] [split, 2 bytes big-endian] [A: split bytes] [B: the rest]
 *   mode & 3    where A goes:
 *                 0  access, one UDP datagram from the terminal's NAT mapping
 *                 1  access, over a new TCP connection to the proxy's SIP port
 *                 2  core, one UDP datagram from the softswitch to the
 *                    terminal's core port
 *                 3  access, over TCP, on a connection that first carried
 *                    the REGISTER (the binding lives on that connection)
 *   mode >> 2 & 31  TCP only: A goes in chunks of that many times 45 bytes,
 *                 one every millisecond, so framing sees messages split
 *                 anywhere (0: all at once)
 *   mode & 128  TCP only: the terminal closes (FIN) after A
 *   B           then one UDP datagram from the softswitch to the terminal's
 *               core port (the core's answer to what A started).
 * UDP datagrams are cut at 65,507 bytes, the most a host sends.
 *
 * Deterministic: one freshly seeded network per input, virtual time only.
 *
 * The custom mutator below adds SIP-shaped mutations to libFuzzer's own
 * (which use fuzz/sip.dict): repeating lines, inserting runs of one
 * header (mostly compact, values cut short), either filling a message up
 * to just below or above common buffer sizes, switching header names
 * between long and compact forms, cutting a line short, and repairing
 * Content-Length so TCP framing delivers the message. Together they reach
 * long messages made of many short (compact) headers, the shape that
 * overflows fixed buffers, which byte-level mutations reach only slowly. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_port.h>

#include "simhost.h"
#include "pkt.h"
#include "proxy.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

enum { PATH_UDP, PATH_TCP, PATH_CORE, PATH_TCP_REG };
#define CHUNK_UNIT 45
#define HDR 3                   /* mode + split */

static void quiet(const char *fi, int li, osip_trace_level_t l, const char *f, va_list ap)
{
	(void)fi; (void)li; (void)l; (void)f; (void)ap;
}

static void sink(void *arg, tv_udp *s, const tv_ep *f, const uint8_t *d, size_t len, tv_time now)
{
	(void)arg; (void)s; (void)f; (void)d; (void)len; (void)now;
}

/* The terminal's TCP connection: NULL again once it is gone. */
static void tcp_sink(void *arg, tv_tcp *c, enum tv_tcp_event ev, const uint8_t *d, size_t len, tv_time now)
{
	tv_tcp **cp = arg;

	(void)c; (void)d; (void)len; (void)now;
	if (ev == TV_TCP_CLOSED || ev == TV_TCP_RESET || ev == TV_TCP_TIMEOUT)
		*cp = NULL;
}

static const char reg[] =
	"REGISTER sip:example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKr\r\n"
	"From: <sip:alice@example.net>;tag=r\r\nTo: <sip:alice@example.net>\r\nCall-ID: r@192.168.1.10\r\n"
	"CSeq: 1 REGISTER\r\nContact: <sip:alice@192.168.1.10:5060>\r\nContent-Length: 0\r\n\r\n";

static size_t udp_cut(size_t n) { return n > PKT_UDP_DATA_MAX ? PKT_UDP_DATA_MAX : n; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sim_link_cfg d = { .delay = TV_MS(1) };
	sim_net *net;
	sim_link *inet, *core;
	tv_host *pxh, *t, *ss;
	tv_udp *ts, *sss;
	tv_tcp *tc = NULL;
	proxy_cfg pc;
	proxy *px;
	tv_ip ip;
	tv_ep ep, px_sip, core_port;
	const uint8_t *a, *b;
	size_t alen, blen;
	int e, path;
	uint8_t mode;

	osip_trace_initialize_func(END_TRACE_LEVEL, quiet);
	net = sim_net_new(1);
	inet = sim_link_new(net, "i", &d);
	core = sim_link_new(net, "c", &d);
	proxy_cfg_default(&pc);
	pc.access_ip = tv_ip4(0xc633640a);
	pc.core_ip = tv_ip4(0x0a000001);
	pc.softswitch = tv_ep4(0x0a000064, 5060);
	pxh = simhost_new(net, inet, "px", &pc.access_ip);
	simhost_add_iface(pxh, core, &pc.core_ip);
	px = proxy_new(pxh, &pc, &e);
	ip = tv_ip4(0xcb00710a);
	t = simhost_new(net, inet, "t", &ip);
	ep = tv_ep4(0, 5060);
	ts = host_udp_bind(t, &ep, sink, NULL, &e);
	ip = tv_ip4(0x0a000064);
	ss = simhost_new(net, core, "ss", &ip);
	sss = host_udp_bind(ss, &ep, sink, NULL, &e);
	simhost_set_icmp(t, false);
	simhost_set_icmp(ss, false);
	px_sip = tv_ep4(0xc633640a, 5060);
	core_port = tv_ep4(0x0a000001, 5100);   /* the first terminal's core port */
	mode = size ? data[0] : 0;
	path = mode & 3;
	if (path == PATH_TCP || path == PATH_TCP_REG) {
		tc = host_tcp_connect(t, 0, &px_sip, tcp_sink, &tc, &e);
		sim_net_run_until(net, TV_MS(5));
	}
	if (path == PATH_TCP_REG && tc)
		host_tcp_send(tc, reg, sizeof(reg) - 1);
	else
		host_udp_send(ts, &px_sip, reg, sizeof(reg) - 1);
	sim_net_run_until(net, TV_MS(10));
	if (size < HDR)
		goto out;
	alen = (size_t)(data[1] << 8 | data[2]);
	if (alen > size - HDR)
		alen = size - HDR;
	a = data + HDR;
	b = a + alen;
	blen = size - HDR - alen;
	switch (path) {
	case PATH_UDP:
		host_udp_send(ts, &px_sip, a, udp_cut(alen));
		break;
	case PATH_CORE:
		host_udp_send(sss, &core_port, a, udp_cut(alen));
		break;
	default: {
		size_t chunk = (size_t)(mode >> 2 & 31) * CHUNK_UNIT;
		for (size_t off = 0; tc && off < alen;) {
			size_t n = chunk && alen - off > chunk ? chunk : alen - off;
			host_tcp_send(tc, a + off, n);
			off += n;
			sim_net_run_until(net, sim_net_now(net) + TV_MS(1));
		}
		if (tc && (mode & 128))
			host_tcp_close(tc);
		break;
	}
	}
	sim_net_run_until(net, sim_net_now(net) + TV_MS(10));
	host_udp_send(sss, &core_port, b, udp_cut(blen));
	sim_net_run_until(net, TV_SEC(120));
	{
		/* The port books balance after every input: 2 relay ports per
		 * stream on each side, plus one core port per binding. A leak
		 * is a finding like a crash. */
		const proxy_stats *st = proxy_get_stats(px);
		if (st->ports_access != 2 * st->streams || st->ports_core != 2 * st->streams + st->bindings)
			abort();
	}
out:
	if (tc)
		host_tcp_abort(tc);
	proxy_free(px);
	host_udp_close(ts);
	host_udp_close(sss);
	host_free(pxh);
	host_free(t);
	host_free(ss);
	sim_net_free(net);
	return 0;
}

/* ---- the mutator ------------------------------------------------------ */

static uint32_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* Replace n bytes at off with rep (rlen bytes) inside the part [*plen bytes
 * at data + poff] of a buffer of *size bytes (max_size at most). Returns 0,
 * or -1 and changes nothing if it would not fit. */
static int splice(uint8_t *data, size_t *size, size_t max_size, size_t *plen, size_t off, size_t n,
		  const void *rep, size_t rlen)
{
	if (*size - n + rlen > max_size)
		return -1;
	memmove(data + off + rlen, data + off + n, *size - off - n);
	memcpy(data + off, rep, rlen);
	*size = *size - n + rlen;
	*plen = *plen - n + rlen;
	return 0;
}

/* The k-th line of the part (k taken modulo the number of lines): its start
 * and length including its '\n' (or up to the part's end). */
static void line_at(const uint8_t *p, size_t plen, uint32_t k, size_t *start, size_t *len)
{
	size_t lines = 0, i, s = 0;

	for (i = 0; i < plen; i++)
		lines += p[i] == '\n';
	if (plen && p[plen - 1] != '\n')
		lines++;
	k = lines ? k % (uint32_t)lines : 0;
	for (i = 0; i < plen && k; i++)
		if (p[i] == '\n') {
			k--;
			s = i + 1;
		}
	for (i = s; i < plen && p[i] != '\n'; i++)
		;
	*start = s;
	*len = (i < plen ? i + 1 : plen) - s;
}

/* Insert copies of the line after itself: k of them, or (k == 0) as many
 * as bring the part to about target bytes. */
static int repeat_line(uint8_t *data, size_t *size, size_t max_size, size_t poff, size_t *plen,
		       uint32_t which, size_t k, size_t target)
{
	size_t s, n;

	line_at(data + poff, *plen, which, &s, &n);
	if (n == 0 || n > 4096)
		return -1;
	if (k == 0) {
		if (target <= *plen)
			return -1;
		k = (target - *plen) / n;
	}
	if (k == 0 || *size + k * n > max_size)
		return -1;
	memmove(data + poff + s + n + k * n, data + poff + s + n, *size - poff - s - n);
	for (size_t i = 1; i <= k; i++)
		memcpy(data + poff + s + i * n, data + poff + s, n);
	*size += k * n;
	*plen += k * n;
	return 0;
}

static const struct { const char *full; char compact; } names[] = {
	{ "Via", 'v' }, { "Contact", 'm' }, { "Content-Length", 'l' }, { "Call-ID", 'i' },
	{ "From", 'f' }, { "To", 't' }, { "Content-Type", 'c' }, { "Supported", 'k' },
	{ "Subject", 's' }, { "Content-Encoding", 'e' }, { "Session-Expires", 'x' },
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* Switch the header name at the line starting at off between its long
 * and compact forms (to: 'c' only to compact, 'l' only to long, else
 * either); the line's new length goes to *n. */
static int switch_name(uint8_t *data, size_t *size, size_t max_size, size_t *plen, size_t off, size_t *n,
		       char to)
{
	const uint8_t *p = data + off;

	for (size_t j = 0; j < NNAMES; j++) {
		const char *f = names[j].full;
		size_t fl = strlen(f);
		char c[2] = { names[j].compact, ':' }, full[32];

		if (to != 'l' && *n > fl && !strncasecmp((const char *)p, f, fl) && p[fl] == ':') {
			if (splice(data, size, max_size, plen, off, fl + 1, c, 2) < 0)
				return -1;
			*n -= fl - 1;
			return 0;
		}
		if (to != 'c' && *n > 2 && (p[0] | 0x20) == c[0] && p[1] == ':') {
			snprintf(full, sizeof(full), "%s:", f);
			if (splice(data, size, max_size, plen, off, 2, full, fl + 1) < 0)
				return -1;
			*n += fl - 1;
			return 0;
		}
	}
	return -1;
}

/* Switch one header line's name between its long and compact forms; or
 * (all = 'c' or 'l') every line's to compact or to long. */
static int switch_names(uint8_t *data, size_t *size, size_t max_size, size_t poff, size_t *plen,
			uint32_t which, char all)
{
	size_t s, n;
	int done = 0;

	if (!all) {
		line_at(data + poff, *plen, which, &s, &n);
		return switch_name(data, size, max_size, plen, poff + s, &n, 0);
	}
	for (s = 0; s < *plen; s += n) {
		for (n = 0; s + n < *plen && data[poff + s + n] != '\n'; n++)
			;
		if (s + n < *plen)
			n++;
		done |= switch_name(data, size, max_size, plen, poff + s, &n, all) == 0;
	}
	return done ? 0 : -1;
}

/* Cut a line's text short at a random point, keeping its line end. */
static int cut_line(uint8_t *data, size_t *size, size_t max_size, size_t poff, size_t *plen, uint32_t which,
		    uint32_t at)
{
	size_t s, n, keep, end;

	line_at(data + poff, *plen, which, &s, &n);
	end = n;
	while (end && (data[poff + s + end - 1] == '\n' || data[poff + s + end - 1] == '\r'))
		end--;
	if (end < 4)
		return -1;
	keep = 2 + at % (end - 2);
	return splice(data, size, max_size, plen, poff + s + keep, end - keep, "", 0);
}

/* Make the first message's Content-Length (long or compact) equal to what
 * follows its blank line in the part; add "l:" if there is none. */
static int fix_length(uint8_t *data, size_t *size, size_t max_size, size_t poff, size_t *plen)
{
	uint8_t *p = data + poff;
	size_t hend = 0, body, vs, ve;
	char num[24];

	for (size_t i = 0; i + 3 < *plen; i++)
		if (!memcmp(p + i, "\r\n\r\n", 4)) {
			hend = i + 4;
			break;
		}
	if (!hend)
		return -1;
	body = *plen - hend;
	snprintf(num, sizeof(num), "%zu", body);
	for (size_t i = 0; i + 2 < hend; i++) {
		if (i && p[i - 1] != '\n')
			continue;
		if (!strncasecmp((const char *)p + i, "Content-Length:", 15))
			vs = i + 15;
		else if ((p[i] | 0x20) == 'l' && p[i + 1] == ':')
			vs = i + 2;
		else
			continue;
		while (vs < hend && p[vs] == ' ')
			vs++;
		for (ve = vs; ve < hend && p[ve] != '\r' && p[ve] != '\n'; ve++)
			;
		return splice(data, size, max_size, plen, poff + vs, ve - vs, num, strlen(num));
	}
	{
		char line[32];
		int n = snprintf(line, sizeof(line), "l: %s\r\n", num);
		return splice(data, size, max_size, plen, poff + hend - 2, 0, line, (size_t)n);
	}
}

/* Insert a run of lines of one header (compact form mostly, else long),
 * each carrying the value of that header's first line in the part cut to
 * a random length ("x" if it has none), after that line or else after the
 * start line: k lines, or (k == 0) as many as bring the part to about
 * target bytes. */
static int header_run(uint8_t *data, size_t *size, size_t max_size, size_t poff, size_t *plen,
		      uint64_t *s, size_t k, size_t target)
{
	size_t j = rnd(s) % NNAMES, fl = strlen(names[j].full), at = 0, vs = 0, vl = 0, ln;
	const uint8_t *p = data + poff;
	bool found = false;
	char line[256];

	for (size_t i = 0, e; i < *plen && !found; i = e + 1) {
		size_t nl = 0;

		for (e = i; e < *plen && p[e] != '\n'; e++)
			;
		if (e - i > fl && !strncasecmp((const char *)p + i, names[j].full, fl) && p[i + fl] == ':')
			nl = fl + 1;
		else if (e - i > 1 && (p[i] | 0x20) == names[j].compact && p[i + 1] == ':')
			nl = 2;
		if (i == 0 || nl)
			at = e < *plen ? e + 1 : e;
		if (i && nl) {
			found = true;
			for (vs = i + nl; vs < e && (p[vs] == ' ' || p[vs] == '\t'); vs++)
				;
			vl = e - vs;
			if (vl && p[vs + vl - 1] == '\r')
				vl--;
		}
	}
	vl = vl ? rnd(s) % (vl + 1) : 0;
	if (vl > 200)
		vl = 200;
	if (rnd(s) % 4)
		ln = (size_t)snprintf(line, sizeof(line), "%c:%s%.*s\r\n", names[j].compact,
				      rnd(s) % 2 ? " " : "", (int)vl, found ? (const char *)p + vs : "x");
	else
		ln = (size_t)snprintf(line, sizeof(line), "%s: %.*s\r\n", names[j].full, (int)vl,
				      found ? (const char *)p + vs : "x");
	if (k == 0)
		k = target > *plen ? (target - *plen) / ln : 0;
	if (k == 0 || *size + k * ln > max_size)
		return -1;
	memmove(data + poff + at + k * ln, data + poff + at, *size - poff - at);
	for (size_t i = 0; i < k; i++)
		memcpy(data + poff + at + i * ln, line, ln);
	*size += k * ln;
	*plen += k * ln;
	return 0;
}

/* Message sizes worth standing next to: buffer sizes in this tree and
 * common ones elsewhere, and the UDP maximum. */
static const size_t boundaries[] = { 256, 512, 1024, 1400, 1500, 2048, 4096, 8192, 16384, 65507 };

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	uint64_t s = seed;
	size_t alen, poff, plen, *pl;
	size_t blen;
	bool in_a;
	int rc = -1;

	if (size < HDR + 4 || rnd(&s) % 4 != 0)
		return LLVMFuzzerMutate(data, size, max_size);
	alen = (size_t)(data[1] << 8 | data[2]);
	if (alen > size - HDR)
		alen = size - HDR;
	blen = size - HDR - alen;
	in_a = blen == 0 || rnd(&s) % 4 != 0;
	poff = in_a ? HDR : HDR + alen;
	plen = in_a ? alen : blen;
	pl = &plen;
	if (plen == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	switch (rnd(&s) % 7) {
	case 0: {       /* a few copies, or many */
		uint32_t r = rnd(&s);
		size_t k = r % 2 ? 1 + r % 8 : 1 + (r >> 8) % 256;
		rc = repeat_line(data, &size, max_size, poff, pl, rnd(&s), k, 0);
		break;
	}
	case 1: {       /* up to a boundary, just below or just above */
		size_t b = boundaries[rnd(&s) % (sizeof(boundaries) / sizeof(boundaries[0]))];
		size_t target = b - 160 + rnd(&s) % 200;
		rc = repeat_line(data, &size, max_size, poff, pl, rnd(&s), 0, target);
		break;
	}
	case 2:
		rc = switch_names(data, &size, max_size, poff, pl, rnd(&s), "\0\0cl"[rnd(&s) % 4]);
		break;
	case 3:
		rc = cut_line(data, &size, max_size, poff, pl, rnd(&s), rnd(&s));
		break;
	case 4: {       /* a run of one header: a few, many, or up to a boundary */
		uint32_t r = rnd(&s);
		size_t b = boundaries[(r >> 16) % (sizeof(boundaries) / sizeof(boundaries[0]))];
		size_t k = r % 3 == 0 ? 1 + (r >> 2) % 8 : r % 3 == 1 ? 1 + (r >> 2) % 256 : 0;
		rc = header_run(data, &size, max_size, poff, pl, &s, k, b - 160 + rnd(&s) % 200);
		break;
	}
	default:
		rc = fix_length(data, &size, max_size, poff, pl);
		break;
	}
	if (rc < 0)
		return LLVMFuzzerMutate(data, size, max_size);
	if (in_a && plen <= 0xffff) {
		data[1] = (uint8_t)(plen >> 8);
		data[2] = (uint8_t)plen;
	}
	return size;
}
