/* scn_exec.c - running a scenario: topology declarations and timeline
 * actions. Expectations are in scn_expect.c, the grammar in
 * docs/scenarios.md. Every handler parses and checks its statement first,
 * then returns early in a dry run, then acts. */
#include "scn_ctx.h"
#include "scn_knat.h"
#include "scn_rhost.h"
#include "pkt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- timeline ---------------------------------------------------------- */

void ctx_advance(scn_ctx *c)
{
	if (c->dry)
		return;
	if (c->live)
		live_advance(c, c->cursor);
	else if (c->o->watch)
		c->o->watch->advance(c->o->watch->arg, c, c->cursor);
	else
		sim_net_run_until(c->net, c->cursor);
}

static void advance(scn_ctx *c) { ctx_advance(c); }

/* live skip "REASON": this scenario runs in simulation only; a --live run
 * reports it as skipped with the reason. */
static int c_live(scn_ctx *c, const scn_stmt *st)
{
	if (st->argc < 3 || strcmp(st->argv[1], "skip"))
		return ctx_err(c, "usage: live skip \"REASON\"");
	if (c->dry) {
		c->live_skip[0] = 0;
		for (int i = 2; i < st->argc; i++) {
			strncat(c->live_skip, i > 2 ? " " : "", sizeof(c->live_skip) - strlen(c->live_skip) - 1);
			strncat(c->live_skip, st->argv[i], sizeof(c->live_skip) - strlen(c->live_skip) - 1);
		}
	}
	return 0;
}

static int c_wait(scn_ctx *c, const scn_stmt *st)
{
	tv_time d, max = TV_SEC(4 * 3600);
	sym *p;

	if (st->argc < 2)
		return ctx_err(c, "usage: wait DURATION | wait PROBE [max=D]");
	if (st->argc == 2 && !ctx_sym(c, st->argv[1], SYM_PROBE)) {
		if (tv_time_parse(st->argv[1], &d) < 0)
			return ctx_err(c, "wait: '%s' is neither a duration nor a probe", st->argv[1]);
		c->cursor += d;
		advance(c);
		return 0;
	}
	/* wait PROBE [max=D]: until the probe has finished. */
	if (st->argc > 3)
		return ctx_err(c, "usage: wait DURATION | wait PROBE [max=D]");
	p = need_sym(c, st->argv[1], SYM_PROBE);
	if (!p)
		return -1;
	if (st->argc == 3 && (strncmp(st->argv[2], "max=", 4) || tv_time_parse(st->argv[2] + 4, &max) < 0))
		return ctx_err(c, "wait %s: expected max=DURATION, got '%s'", p->name, st->argv[2]);
	if (c->dry)
		return 0;
	for (tv_time end = c->cursor + max; c->cursor < end;) {
		if (stun_probe_result_get(p->obj)->done)
			return 0;
		c->cursor += TV_MS(100);
		advance(c);
	}
	return stun_probe_result_get(p->obj)->done ? 0 : ctx_err(c, "probe %s did not finish within the wait", p->name);
}

rsock *ctx_rsock(scn_ctx *c, sym *host, uint16_t port, bool create)
{
	rsock *rs, **ns;

	for (int i = 0; i < c->nsocks; i++)
		if (c->socks[i]->port == port && strcmp(c->socks[i]->host, host->name) == 0)
			return c->socks[i];
	if (!create)
		return NULL;
	ns = realloc(c->socks, (size_t)(c->nsocks + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	c->socks = ns;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	snprintf(rs->host, sizeof(rs->host), "%s", host->name);
	rs->port = port;
	rs->h = host->kind == SYM_PHONE ? host->obj2 : host->obj;
	c->socks[c->nsocks++] = rs;
	return rs;
}

rlisten *ctx_rlisten(scn_ctx *c, const char *host, uint16_t port)
{
	for (int i = 0; i < c->nlistens; i++)
		if (c->listens[i]->port == port && strcmp(c->listens[i]->host, host) == 0)
			return c->listens[i];
	return NULL;
}

static void rsock_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	rsock *rs = arg;
	int i;

	(void)now;
	rs->rx++;
	rs->rx_bytes += len;
	for (i = 0; i < rs->nsrcs; i++)
		if (tv_ep_eq(&rs->srcs[i].ep, from))
			break;
	if (i == rs->nsrcs && i < RSOCK_SRCS) {
		rs->srcs[i].ep = *from;
		rs->srcs[i].n = 0;
		rs->nsrcs++;
	}
	if (i < RSOCK_SRCS)
		rs->srcs[i].n++;
	if (rs->echo)
		host_udp_send(s, from, data, len);
}

static int rsock_open(scn_ctx *c, rsock *rs)
{
	int err;
	tv_ep local = tv_ep4(0, rs->port);

	if (rs->s)
		return 0;
	rs->s = host_udp_bind(rs->h, &local, rsock_rx, rs, &err);
	return rs->s ? 0 : ctx_err(c, "cannot open %s:%u (%d)", rs->host, rs->port, err);
}

static void tcp_listen_ev(void *arg, tv_tcp *t, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	rlisten *rl = arg;

	(void)now;
	if (ev == TV_TCP_DATA) {
		rl->rx_bytes += len;
		if (rl->echo)
			host_tcp_send(t, data, len);
	} else if (ev == TV_TCP_PEER_CLOSED) {
		host_tcp_close(t);
	}
}

static void tcp_accept(void *arg, tv_tcp *t, tv_time now)
{
	rlisten *rl = arg;

	(void)now;
	rl->accepted++;
	host_tcp_set_cb(t, tcp_listen_ev, rl);
}

static int c_listen(scn_ctx *c, const scn_stmt *st)
{
	sym *h;
	uint16_t port;
	bool tcp = false, echo = false;

	if (st->argc < 2)
		return ctx_err(c, "usage: listen HOST:PORT [udp|tcp] [echo]");
	if (ctx_host_port(c, st->argv[1], &h, &port) < 0)
		return -1;
	for (int i = 2; i < st->argc; i++) {
		if (!strcmp(st->argv[i], "tcp"))
			tcp = true;
		else if (!strcmp(st->argv[i], "echo"))
			echo = true;
		else if (strcmp(st->argv[i], "udp"))
			return ctx_err(c, "listen: unexpected '%s' (expected udp, tcp or echo)", st->argv[i]);
	}
	if (c->dry)
		return 0;
	if (tcp) {
		rlisten *rl = calloc(1, sizeof(*rl)), **nl;
		int err;
		if (!rl)
			return ctx_err(c, "out of memory");
		nl = realloc(c->listens, (size_t)(c->nlistens + 1) * sizeof(*nl));
		if (!nl) {
			free(rl);
			return ctx_err(c, "out of memory");
		}
		c->listens = nl;
		c->listens[c->nlistens++] = rl;
		snprintf(rl->host, sizeof(rl->host), "%s", h->name);
		rl->port = port;
		rl->echo = echo;
		rl->l = host_tcp_listen(SYM_HOSTOF(h), port, tcp_accept, rl, &err);
		return rl->l ? 0 : ctx_err(c, "cannot listen on %s (%d)", st->argv[1], err);
	}
	{
		rsock *rs = ctx_rsock(c, h, port, true);
		if (!rs)
			return ctx_err(c, "out of memory");
		rs->echo = echo;
		return rsock_open(c, rs);
	}
}

static void sender_fire(tv_timer *t, tv_time now)
{
	sender *s = t->arg;
	uint8_t *buf = s->buf;

	switch (s->payload) {
	case SEND_RAW:
		break;
	case SEND_RTCP: {
		/* Sender info from the virtual clock, the RTP timestamp at 8 kHz;
		 * no RTP went out from here, so the counts are 0. */
		media_sr sr = { .ntp = media_ntp(now), .rtp_ts = (uint32_t)(now / 125) };
		s->size = (uint16_t)media_rtcp_write(buf, s->ssrc, s->sr ? &sr : NULL, NULL, 0, s->cname);
		break;
	}
	case SEND_RTP:
	case SEND_TEXT:
		memset(buf, 0, s->size);
		if (s->payload == SEND_RTP && s->size >= MEDIA_RTP_HDR) {
			/* RTP v2, a stranger's SSRC: looks like media to a relay */
			buf[0] = 0x80;
			buf[1] = s->pt;
			pkt_put16(buf + 2, (uint16_t)(s->seq0 + s->seq));
			pkt_put32(buf + 4, s->seq * 160);
			pkt_put32(buf + 8, s->ssrc);
		} else {
			snprintf((char *)buf, s->size, "traverse seq=%u", s->seq);
		}
		break;
	}
	s->seq++;
	host_udp_send(s->rs->s, &s->to, buf, s->size);
	if (--s->left > 0)
		host_timer_arm(s->rs->h, &s->t, now + s->interval);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)(ch | 0x20);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* payload=hex:BYTES or file:PATH (relative to the scenario's folder): the
 * exact datagram, to replay what another stack sent. Checked in the dry
 * pass, so a bad one stops the run before anything starts. */
static int payload_bytes(scn_ctx *c, const char *spec, uint8_t **out, uint64_t *len)
{
	uint8_t *b = malloc(PKT_UDP_DATA_MAX + 1);
	size_t n = 0;

	if (!b)
		return ctx_err(c, "out of memory");
	if (!strncmp(spec, "hex:", 4)) {
		const char *h = spec + 4;
		size_t hl = strlen(h);
		if (!hl || hl % 2) {
			free(b);
			return ctx_err(c, "payload=hex: needs an even number of hex digits, at least 2");
		}
		for (size_t i = 0; i < hl; i += 2) {
			int hi = hexval(h[i]), lo = hexval(h[i + 1]);
			if (hi < 0 || lo < 0) {
				free(b);
				return ctx_err(c, "payload=hex: '%.2s' is not a hex byte", h + i);
			}
			if (n == PKT_UDP_DATA_MAX) {
				free(b);
				return ctx_err(c, "payload=hex: over %d bytes", PKT_UDP_DATA_MAX);
			}
			b[n++] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		char path[1024];
		const char *slash = strrchr(c->f->path, '/');
		FILE *fp;

		if (spec[5] == '/' || !slash)
			snprintf(path, sizeof(path), "%s", spec + 5);
		else
			snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - c->f->path), c->f->path, spec + 5);
		fp = fopen(path, "rb");
		if (!fp) {
			free(b);
			return ctx_err(c, "payload=file: cannot read %s", path);
		}
		n = fread(b, 1, PKT_UDP_DATA_MAX + 1, fp);
		fclose(fp);
		if (n == 0 || n > PKT_UDP_DATA_MAX) {
			free(b);
			return ctx_err(c, "payload=file: %s is %s (1 to %d bytes)", path, n ? "too big" : "empty",
				       PKT_UDP_DATA_MAX);
		}
	}
	*out = b;
	*len = n;
	return 0;
}

static const char *const send_payloads[] = { [SEND_TEXT] = "text", [SEND_RTP] = "rtp", [SEND_RTCP] = "rtcp",
					     [SEND_RAW] = "hex:/file:" };
static const struct { const char *name; int v; } rtcp_kinds[] = {
	{ "sr", 1 }, { "rr", 0 },
};

/* payload=VALUE: an enum send_payload, or -1. */
static int send_kind(const char *v)
{
	if (!strncmp(v, "hex:", 4) || !strncmp(v, "file:", 5))
		return SEND_RAW;
	for (int k = SEND_TEXT; k < SEND_RAW; k++)
		if (!strcmp(v, send_payloads[k]))
			return k;
	return -1;
}

/* The options that shape a payload, and the payloads they go with. */
static const struct { const char *key; unsigned payloads; } send_shapes[] = {
	{ "size", 1u << SEND_TEXT | 1u << SEND_RTP }, { "ssrc", 1u << SEND_RTP | 1u << SEND_RTCP },
	{ "pt", 1u << SEND_RTP }, { "seq", 1u << SEND_RTP }, { "rtcp", 1u << SEND_RTCP },
};

static int c_send(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "count", "interval", "size", "payload", "ssrc", "pt", "seq", "rtcp", NULL };
	opts o;
	const opt *v, *pl;
	sym *h;
	uint16_t port;
	tv_ep to;
	uint64_t count = 1, size = 64, pt = 0, seq = 0;
	uint32_t ssrc = 0x5ca1ab1e;
	int kind = SEND_TEXT, sr = 1;
	tv_time interval = TV_SEC(1);
	sender *s, **ns;
	rsock *rs;
	uint8_t *raw = NULL;
	char ip[TV_IP_STRLEN];

	if (st->argc < 4 || strcmp(st->argv[2], "->"))
		return ctx_err(c, "usage: send HOST:PORT -> DEST:PORT [count=N] [interval=D] [size=BYTES] "
				  "[payload=text|rtp|rtcp|hex:BYTES|file:PATH] [ssrc=N] [pt=N] [seq=N] [rtcp=sr|rr]");
	if (ctx_host_port(c, st->argv[1], &h, &port) < 0 || ctx_resolve(c, st->argv[3], &to, false) < 0 ||
	    opts_parse(c, st, 4, keys, false, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "count")) && opt_u64(c, v, &count) < 0)
		return -1;
	if ((v = opts_get(&o, "interval")) && opt_time(c, v, &interval) < 0)
		return -1;
	if ((v = opts_get(&o, "size")) && opt_u64(c, v, &size) < 0)
		return -1;
	if (count < 1 || count > 10000000)
		return ctx_err(c, "count: must be 1 to 10000000");
	if (size < 1 || size > PKT_UDP_DATA_MAX)
		return ctx_err(c, "size: must be 1 to %d bytes", PKT_UDP_DATA_MAX);
	if (interval < TV_US(1))
		return ctx_err(c, "interval: must be positive");
	if ((pl = opts_get(&o, "payload")) && (kind = send_kind(pl->val)) < 0)
		return ctx_err(c, "payload: text, rtp, rtcp, hex:BYTES or file:PATH");
	if (kind == SEND_RAW && opts_get(&o, "size"))
		return ctx_err(c, "payload=%.4s gives the datagram whole: no size=", pl->val);
	for (size_t i = 0; i < sizeof(send_shapes) / sizeof(send_shapes[0]); i++)
		if (opts_get(&o, send_shapes[i].key) && !(send_shapes[i].payloads & 1u << kind))
			return ctx_err(c, "send: %s= does not go with payload=%s", send_shapes[i].key, send_payloads[kind]);
	if ((v = opts_get(&o, "ssrc")) && opt_u32x(c, v, &ssrc) < 0)
		return -1;
	if ((v = opts_get(&o, "pt")) && (opt_u64(c, v, &pt) < 0 || pt > 127))
		return ctx_err(c, "pt: 0-127");
	if ((v = opts_get(&o, "seq")) && (opt_u64(c, v, &seq) < 0 || seq > 65535))
		return ctx_err(c, "seq: 0-65535");
	if ((v = opts_get(&o, "rtcp")) && LOOKUP(c, v, rtcp_kinds, &sr) < 0)
		return -1;
	if (kind == SEND_RAW && payload_bytes(c, pl->val, &raw, &size) < 0)
		return -1;
	if (kind == SEND_RTCP)
		size = MEDIA_RTCP_MAX;
	if (c->dry) {
		free(raw);
		return 0;
	}
	rs = ctx_rsock(c, h, port, true);
	if (!rs || rsock_open(c, rs) < 0) {
		free(raw);
		return -1;
	}
	ns = realloc(c->senders, (size_t)(c->nsenders + 1) * sizeof(*ns));
	s = calloc(1, sizeof(*s) + size);       /* the payload buffer follows */
	if (!ns || !s) {
		free(s);
		free(raw);
		if (ns)
			c->senders = ns;
		return ctx_err(c, "out of memory");
	}
	c->senders = ns;
	c->senders[c->nsenders++] = s;
	s->rs = rs;
	s->to = to;
	s->left = (uint32_t)count;
	s->interval = interval;
	s->size = (uint16_t)size;
	s->buf = (uint8_t *)(s + 1);
	s->payload = (enum send_payload)kind;
	s->ssrc = ssrc;
	s->pt = (uint8_t)pt;
	s->seq0 = (uint16_t)seq;
	s->sr = sr;
	snprintf(s->cname, sizeof(s->cname), "%s@%s", h->name, tv_ip_fmt(&h->ip, ip));
	if (raw) {
		memcpy(s->buf, raw, size);
		free(raw);
	}
	tv_timer_init(&s->t, sender_fire, s);
	host_timer_arm(rs->h, &s->t, c->cursor);
	return 0;
}

static void conn_ev(void *arg, tv_tcp *t, enum tv_tcp_event ev, const uint8_t *data, size_t len, tv_time now)
{
	rconn *rc = arg;

	(void)data;
	(void)now;
	switch (ev) {
	case TV_TCP_CONNECTED:
		rc->state = "established";
		break;
	case TV_TCP_DATA:
		rc->rx_bytes += len;
		break;
	case TV_TCP_PEER_CLOSED:
		rc->state = "peer-closed";
		host_tcp_close(t);
		break;
	case TV_TCP_CLOSED:
		rc->state = "closed";
		rc->c = NULL;
		break;
	case TV_TCP_RESET:
		rc->state = "reset";
		rc->c = NULL;
		break;
	case TV_TCP_TIMEOUT:
		rc->state = "timeout";
		rc->c = NULL;
		break;
	}
}

static int c_connect(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "idle", NULL };
	opts o;
	const opt *v;
	sym *h, *s;
	uint16_t port;
	tv_ep to;
	tv_time idle = 0;
	rconn *rc;
	int err;

	if (st->argc < 5 || strcmp(st->argv[3], "->"))
		return ctx_err(c, "usage: connect NAME HOST:PORT -> DEST:PORT [idle=D]");
	if (ctx_host_port(c, st->argv[2], &h, &port) < 0 || ctx_resolve(c, st->argv[4], &to, false) < 0 ||
	    opts_parse(c, st, 5, keys, false, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "idle")) && opt_time(c, v, &idle) < 0)
		return -1;
	s = new_sym(c, st->argv[1], SYM_TCP);
	if (!s || c->dry)
		return s ? 0 : -1;
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return ctx_err(c, "out of memory");
	s->obj = rc;
	rc->sym = s;
	rc->state = "connecting";
	rc->c = host_tcp_connect(SYM_HOSTOF(h), port, &to, conn_ev, rc, &err);
	if (!rc->c)
		return ctx_err(c, "connect %s: failed (%d)", s->name, err);
	if (idle)
		host_tcp_set_idle(rc->c, idle);
	return 0;
}

/* tcp-send CONNECTION size=BYTES | payload=hex:BYTES|file:PATH */
static int c_tcp_send(scn_ctx *c, const scn_stmt *st)
{
	sym *s;
	uint64_t size = 0;
	opts o;
	const opt *v;
	static const char *const keys[] = { "size", "payload", NULL };
	rconn *rc;
	uint8_t *buf = NULL;
	int r;

	if (st->argc != 3)
		return ctx_err(c, "usage: tcp-send CONNECTION size=BYTES | payload=hex:BYTES|file:PATH");
	s = need_sym(c, st->argv[1], SYM_TCP);
	if (!s || opts_parse(c, st, 2, keys, false, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "payload"))) {
		if (strncmp(v->val, "hex:", 4) && strncmp(v->val, "file:", 5))
			return ctx_err(c, "tcp-send: payload=hex:BYTES or payload=file:PATH");
		if (payload_bytes(c, v->val, &buf, &size) < 0)
			return -1;
	} else if (!(v = opts_get(&o, "size")) || opt_u64(c, v, &size) < 0) {
		return v ? -1 : ctx_err(c, "tcp-send needs size=BYTES or payload=hex:BYTES|file:PATH");
	} else if (size < 1 || size > (1u << 24)) {
		return ctx_err(c, "size: must be 1 byte to 16 MiB");
	}
	if (c->dry) {
		free(buf);
		return 0;
	}
	rc = s->obj;
	if (!rc->c) {
		free(buf);
		return ctx_err(c, "tcp-send: connection %s is %s", s->name, rc->state);
	}
	if (!buf) {
		buf = malloc(size);
		if (!buf)
			return ctx_err(c, "out of memory");
		for (uint64_t i = 0; i < size; i++)
			buf[i] = (uint8_t)('a' + i % 26);
	}
	r = host_tcp_send(rc->c, buf, size);
	free(buf);
	return r < 0 ? ctx_err(c, "tcp-send: connection %s is %s", s->name, rc->state) : 0;
}

static int c_close(scn_ctx *c, const scn_stmt *st)
{
	sym *s;
	rconn *rc;
	bool abort_ = !strcmp(st->argv[0], "abort");

	if (st->argc != 2)
		return ctx_err(c, "usage: %s CONNECTION", st->argv[0]);
	s = need_sym(c, st->argv[1], SYM_TCP);
	if (!s || c->dry)
		return s ? 0 : -1;
	rc = s->obj;
	if (!rc->c)
		return ctx_err(c, "%s: connection %s is already %s", st->argv[0], s->name, rc->state);
	if (abort_) {
		host_tcp_abort(rc->c);
		rc->c = NULL;
		rc->state = "aborted";
	} else {
		host_tcp_close(rc->c);
	}
	return 0;
}

static int c_probe(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "server", "lifetime", "lifetime-max", "resolution", NULL };
	opts o;
	const opt *v;
	sym *h, *srv, *p;
	stun_probe_cfg pc = { 0 };
	tv_ep to;
	int err;

	if (st->argc < 4)
		return ctx_err(c, "usage: probe NAME HOST server=STUN-SERVER [lifetime=on] [lifetime-max=D] [resolution=D]");
	h = need_sym(c, st->argv[2], SYM_HOST);
	if (!h || opts_parse(c, st, 3, keys, false, &o) < 0)
		return -1;
	if (!(v = opts_get(&o, "server")))
		return ctx_err(c, "probe needs server=STUN-SERVER");
	srv = need_sym(c, v->val, SYM_STUN);
	if (!srv)
		return -1;
	if ((v = opts_get(&o, "lifetime")) && opt_bool(c, v, &pc.test_lifetime) < 0)
		return -1;
	if ((v = opts_get(&o, "lifetime-max")) && opt_time(c, v, &pc.lifetime_max) < 0)
		return -1;
	if ((v = opts_get(&o, "resolution")) && opt_time(c, v, &pc.lifetime_resolution) < 0)
		return -1;
	p = new_sym(c, st->argv[1], SYM_PROBE);
	if (!p)
		return -1;
	p->resolution = pc.lifetime_resolution ? pc.lifetime_resolution : TV_SEC(1);
	if (c->dry)
		return 0;
	to = tv_ep4(srv->ip.v4, srv->port);
	p->obj = stun_probe_start(h->obj, &to, &pc, &err);
	return p->obj ? 0 : ctx_err(c, "probe %s: cannot start (%d)", p->name, err);
}

/* inject HOST -> DEST:PORT kind=K [count=N]: hand-made bad packets. */
static const struct {
	const char *name;
	int v;
} inject_kinds[] = {
	{ "bad-ip-checksum", 0 }, { "bad-udp-checksum", 1 }, { "truncated", 2 }, { "bad-length", 3 },
	{ "bad-version", 4 }, { "garbage", 5 }, { "runt", 6 }, { "fragment", 7 },
};

static int c_inject(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "kind", "count", NULL };
	opts o;
	const opt *v;
	sym *h;
	tv_ep to, from;
	int kind;
	uint64_t count = 1;

	if (st->argc < 5 || strcmp(st->argv[2], "->"))
		return ctx_err(c, "usage: inject HOST -> DEST:PORT kind=bad-ip-checksum|bad-udp-checksum|truncated|"
			       "bad-length|bad-version|garbage|runt|fragment [count=N]");
	h = need_sym(c, st->argv[1], SYM_HOST);
	if (!h || ctx_resolve(c, st->argv[3], &to, false) < 0 || opts_parse(c, st, 4, keys, false, &o) < 0)
		return -1;
	if (!(v = opts_get(&o, "kind")))
		return ctx_err(c, "inject needs kind=...");
	if (LOOKUP(c, v, inject_kinds, &kind) < 0)
		return -1;
	if ((v = opts_get(&o, "count")) && opt_u64(c, v, &count) < 0)
		return -1;
	if (count < 1 || count > 100000)
		return ctx_err(c, "count: must be 1 to 100000");
	if (c->dry)
		return 0;
	from = tv_ep4(h->ip.v4, 40000);
	for (uint64_t i = 0; i < count; i++) {
		uint8_t buf[256];
		int len = pkt_build_udp(buf, sizeof(buf), &from, &to, (uint16_t)i, "injected", 8);
		switch (kind) {
		case 0: buf[10] ^= 0x5a; break;                         /* IP header checksum */
		case 1: buf[len - 1] ^= 0x5a; break;                    /* payload, so UDP checksum */
		case 2: len -= 4; break;                                /* shorter than IP total length */
		case 3: buf[IP4_HDR + 5] += 40; break;                  /* UDP length past the end */
		case 4: buf[0] = 0x65; break;                           /* IPv6 version, IPv4 header */
		case 5:
			for (int k = 0; k < len; k++)
				buf[k] = (uint8_t)tv_rng_next(sim_net_rng(c->net));
			buf[0] = 0x45;  /* keep it routable as "IPv4" */
			pkt_put32(buf + 16, to.ip.v4);
			break;
		case 6: len = 12; break;                                /* shorter than an IP header */
		case 7: pkt_put16(buf + 6, 0x2000); break;              /* more fragments */
		}
		simhost_inject(h->obj, buf, (size_t)len);
	}
	return 0;
}

static int c_fault(scn_ctx *c, const scn_stmt *st)
{
	sym *s;
	tv_ip ip;
	const char *what;

	if (st->argc < 3)
		return ctx_err(c, "usage: fault NAT reboot | fault NAT address IP | fault NAT table-full on|off");
	s = need_sym(c, st->argv[1], SYM_NAT);
	if (!s)
		return -1;
	if (!c->dry && s->obj2)
		return ctx_err(c, "fault: nat %s is the kernel's (kind=linux); its faults are not simulated", s->name);
	what = st->argv[2];
	if (!strcmp(what, "reboot") && st->argc == 3) {
		if (!c->dry)
			nat_node_reboot(s->obj);
		return 0;
	}
	if (!strcmp(what, "address") && st->argc == 4) {
		if (parse_ip(c, "address", st->argv[3], &ip) < 0)
			return -1;
		if (!c->dry && nat_node_change_addr(s->obj, &ip) < 0)
			return ctx_err(c, "fault %s address: %s is already in use", s->name, st->argv[3]);
		return 0;
	}
	if (!strcmp(what, "table-full") && st->argc == 4) {
		bool on;
		opt o = { .key = "table-full", .val = st->argv[3] };
		if (opt_bool(c, &o, &on) < 0)
			return -1;
		if (!c->dry)
			nat_node_table_full(s->obj, on);
		return 0;
	}
	return ctx_err(c, "fault: expected 'reboot', 'address IP' or 'table-full on|off', got '%s'", what);
}

/* ---- dispatch ------------------------------------------------------------ */

typedef int (*stmt_fn)(scn_ctx *c, const scn_stmt *st);

static const struct cmd {
	const char *name;
	stmt_fn fn;
	bool decl;              /* topology: must come before the timeline */
} cmds[] = {
	{ "scenario", topo_scenario, true }, { "seed", topo_seed, true }, { "live", c_live, true }, { "link", topo_link, true },
	{ "nat", topo_nat, true }, { "firewall", topo_firewall, true }, { "host", topo_host, true },
	{ "stun-server", topo_stun, true },
	{ "wait", c_wait, false }, { "listen", c_listen, false }, { "send", c_send, false },
	{ "connect", c_connect, false }, { "tcp-send", c_tcp_send, false }, { "close", c_close, false },
	{ "abort", c_close, false }, { "probe", c_probe, false }, { "fault", c_fault, false },
	{ "impair", topo_impair, false }, { "inject", c_inject, false }, { "expect", scn_expect, false },
	{ "show", scn_show, false }, { "print", scn_show, false },
	{ "softswitch", sip_softswitch, true }, { "proxy", sip_proxy, true }, { "phone", sip_phone, true },
	{ "register", sip_action, false }, { "call", sip_action, false }, { "answer", sip_action, false },
	{ "reject", sip_action, false }, { "cancel", sip_action, false }, { "hangup", sip_action, false },
	{ "hold", sip_action, false }, { "resume", sip_action, false }, { "mute", sip_action, false },
	{ "unmute", sip_action, false }, { "keepalive", sip_keepalive, false },
	{ "restart", sip_restart, false }, { "media", sip_media, false }, { "exec", rhost_exec, false },
};

static int exec_stmt(scn_ctx *c, const scn_stmt *st)
{
	scn_stmt sub;

	if (!strcmp(st->argv[0], "at") || !strcmp(st->argv[0], "after")) {
		tv_time t;
		bool after = st->argv[0][1] == 'f';
		if (st->argc < 3)
			return ctx_err(c, after ? "usage: after EVENT[+D] STATEMENT..." : "usage: at TIME|+D|EVENT[+D] STATEMENT...");
		if (scn_when(c, st->argv[0], st->argv[1], after, &t) < 0)
			return -1;
		if (t < c->cursor) {
			char a[32], b[32];
			return ctx_err(c, "%s %s is %s, earlier than the clock (%s); statements run in order", st->argv[0],
				       st->argv[1], tv_time_fmt(t, a, sizeof(a)), tv_time_fmt(c->cursor, b, sizeof(b)));
		}
		c->cursor = t;
		c->in_timeline = true;
		advance(c);
		sub = *st;
		sub.argc -= 2;
		memmove(sub.argv, st->argv + 2, (size_t)sub.argc * sizeof(char *));
		memset(sub.argv + sub.argc, 0, 2 * sizeof(char *));
		if (!strcmp(sub.argv[0], "at") || !strcmp(sub.argv[0], "after"))
			return ctx_err(c, "%s: nested '%s'", st->argv[0], sub.argv[0]);
		return exec_stmt(c, &sub);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(st->argv[0], cmds[i].name))
			continue;
		if (cmds[i].decl && c->in_timeline)
			return ctx_err(c, "'%s' declares topology and must come before the first action", cmds[i].name);
		if (!cmds[i].decl)
			c->in_timeline = true;
		if (c->o->verbose && !c->dry) {
			char t[32];
			fprintf(stderr, "  [%10s] %s:%d:", tv_time_fmt(c->cursor, t, sizeof(t)), c->f->path, st->line);
			for (int k = 0; k < st->argc; k++)
				fprintf(stderr, " %s", st->argv[k]);
			fputc('\n', stderr);
		}
		if (c->o->watch && c->o->watch->action && !c->dry && !cmds[i].decl && strcmp(st->argv[0], "expect") &&
		    strcmp(st->argv[0], "show") && strcmp(st->argv[0], "print") && strcmp(st->argv[0], "wait"))
			c->o->watch->action(c->o->watch->arg, c, st);
		return cmds[i].fn(c, st);
	}
	return ctx_err(c, "unknown statement '%s' (expected one of: scenario, seed, link, nat, firewall, host, "
		       "stun-server, softswitch, proxy, phone, at, after, wait, listen, send, connect, tcp-send, close, abort, probe, "
		       "fault, impair, inject, register, call, answer, reject, cancel, hangup, hold, resume, mute, unmute, keepalive, media, "
		       "expect, show; and set, repeat, for, if, matrix)",
		       st->argv[0]);
}

static void ctx_free(scn_ctx *c)
{
	/* kernel NATs and real hosts first: they are watched by the live loop */
	for (int i = 0; i < c->nsyms; i++)
		if (c->syms[i]->kind == SYM_NAT && c->syms[i]->obj2) {
			knat_free(c, c->syms[i]->obj2);
			c->syms[i]->obj2 = NULL;
		} else if (c->syms[i]->kind == SYM_RHOST && c->syms[i]->obj) {
			rhost_free(c, c->syms[i]->obj);
			c->syms[i]->obj = NULL;
		}
	live_free(c);
	for (int i = 0; i < c->nsenders; i++) {
		if (c->net)
			tv_timerq_cancel(sim_net_timers(c->net), &c->senders[i]->t);
		free(c->senders[i]);
	}
	free(c->senders);
	/* Sockets first: some live on hosts that phones own. */
	for (int i = 0; i < c->nlistens; i++) {
		host_tcp_unlisten(c->listens[i]->l);
		free(c->listens[i]);
	}
	free(c->listens);
	for (int i = 0; i < c->nsocks; i++) {
		host_udp_close(c->socks[i]->s);
		free(c->socks[i]);
	}
	free(c->socks);
	for (int i = c->nsyms - 1; i >= 0; i--) {
		sym *s = c->syms[i];
		if (!s->obj && !s->obj2)
			continue;
		switch (s->kind) {
		case SYM_PROBE:
			stun_probe_free(s->obj);
			break;
		case SYM_STUN:
			stun_server_free(s->obj);
			host_free(s->obj2);
			break;
		case SYM_TCP:
			free(s->obj);   /* the tv_tcp itself is freed with its host */
			break;
		case SYM_PHONE:
		case SYM_PROXY:
		case SYM_SOFTSWITCH:
			sip_free(c, s);
			break;
		default:
			break;
		}
	}
	for (int i = c->nsyms - 1; i >= 0; i--) {
		sym *s = c->syms[i];
		if (s->kind == SYM_HOST)
			host_free(s->obj);
		else if (s->kind == SYM_NAT)
			nat_node_free(s->obj);
	}
	syms_free(c);
	free(c->claims);
	sim_net_free(c->net);
	watches_free(c);
}

static int run_all(scn_ctx *c)
{
	for (int i = 0; i < c->f->nstmts; i++) {
		c->cur = &c->f->stmts[i];
		exec_stmt(c, c->cur);
		if (c->dry && c->errors >= 20) {
			fprintf(stderr, "%s: too many errors, stopping\n", c->f->path);
			break;
		}
	}
	c->cur = NULL;
	if (c->dry && !c->errors) {
		bool any = false;
		for (int i = 0; i < c->f->nstmts; i++) {
			const scn_stmt *st = &c->f->stmts[i];
			any |= !strcmp(st->argv[0], "expect") ||
			       (st->argc > 2 && (!strcmp(st->argv[0], "at") || !strcmp(st->argv[0], "after")) &&
				!strcmp(st->argv[2], "expect"));
		}
		if (!any) {
			fprintf(stderr, "%s:1: the scenario has no 'expect'; a scenario must check something\n", c->f->path);
			c->errors++;
		}
	}
	return c->errors;
}

/* Why a scenario cannot run against a live proxy, or NULL. */
static const char *live_why_not(scn_ctx *c, char *buf, size_t cap)
{
	char t[32];
	bool has_proxy = false;

	if (c->live_skip[0])
		return c->live_skip;
	for (int i = 0; i < c->nsyms; i++)
		has_proxy |= c->syms[i]->kind == SYM_PROXY;
	if (!has_proxy)
		return "no proxy: nothing to run live";
	if (c->cursor > c->o->live_max) {
		snprintf(buf, cap, "its timeline is %s of real time (over --live-max %s)",
			 tv_time_fmt(c->cursor, t, sizeof(t)), tv_time_fmt(c->o->live_max, t + 16, 16));
		return buf;
	}
	for (int i = 0; i < c->f->nstmts; i++)
		for (int k = 0; k < c->f->stmts[i].argc; k++) {
			const char *a = c->f->stmts[i].argv[k];
			if (!strcmp(a, "core-tcp=on") || !strcmp(a, "core-tcp=yes"))
				return "TCP from the proxy to the softswitch (the live bridge joins TCP toward "
				       "the proxy's SIP port only)";
		}
	return NULL;
}

int scn_check(const scn_file *f)
{
	scn_opts o = { 0 };
	scn_result r = { 0 };
	scn_ctx c = { .f = f, .o = &o, .r = &r, .dry = true };
	int n = run_all(&c);

	ctx_free(&c);
	return n;
}

int scn_run(const scn_file *f, const scn_opts *o, scn_result *r)
{
	scn_ctx c = { .f = f, .o = o, .r = r, .dry = true, .seed = 1 };
	struct timespec t0, t1;

	memset(r, 0, sizeof(*r));
	r->path = f->path;
	snprintf(r->title, sizeof(r->title), "%s", f->path);
	snprintf(r->variant, sizeof(r->variant), "%s", f->variant_name);
	if (o->seed_set)
		c.seed = o->seed;
	/* The dry pass reads "seed"; then the real run starts from scratch. */
	run_all(&c);
	if (c.errors) {
		ctx_free(&c);
		return -1;
	}
	{
		char buf[160];
		const char *why = NULL, *pre = "";
		for (int i = 0; !o->netns && i < c.nsyms; i++)
			if (c.syms[i]->kind == SYM_RHOST)
				why = "real hosts (host ... kind=netns) run only in a namespace: traverse run --netns, as root";
		if (!why && o->live && (why = live_why_not(&c, buf, sizeof(buf))))
			pre = "live: ";
		if (why) {
			r->skipped = r->passed = true;
			snprintf(r->skip_reason, sizeof(r->skip_reason), "%s%.150s", pre, why);
			ctx_free(&c);
			return 0;
		}
	}
	syms_free(&c);
	c.nclaims = 0;
	c.cursor = 0;
	c.in_timeline = false;
	c.dry = false;
	if (o->ext_proxy.port && !o->seed_set) {
		/* An SBC under test keeps its state from one scenario to the next
		 * (rtpengine keeps a deleted call for 30 s): a seed of this run's
		 * own, so no two scenarios reuse a Call-ID, tag or SSRC. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		c.seed ^= ((uint64_t)ts.tv_sec << 32 ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 16) | 1;
	}
	r->seed = c.seed;
	c.net = sim_net_new(c.seed);
	if (!c.net) {
		watches_free(&c);
		return -1;
	}
	watches_start(&c);
	if (o->live && live_start(&c) < 0) {
		fprintf(stderr, "%s: cannot start the live bridge\n", f->path);
		ctx_free(&c);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_all(&c);
	live_finish(&c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->sim_time = sim_net_now(c.net);
	r->events = sim_net_events(c.net);
	r->wall_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (r->expects == 0)
		ctx_expect(&c, false, "scenario has no expectations; a scenario must check something");
	r->passed = r->failed == 0;
	ctx_free(&c);
	return 0;
}

void scn_result_free(scn_result *r)
{
	free(r->failures);
	free(r->findings);
	free(r->shows);
	r->failures = NULL;
	r->findings = NULL;
	r->shows = NULL;
}
