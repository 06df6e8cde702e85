/* stun.c - the STUN test server and the RFC 5780 behaviour-discovery probe.
 *
 * Timers (one per probe, p->timer):
 *   retransmission  while a request is in flight: fires after rto, 2 rto,
 *                   4 rto ... between the cfg.tries sends, then rm * rto
 *                   after the last; that last one concludes "no answer".
 *   lifetime wait   during a lifetime trial: T after the binding was made.
 * The server has no timers: it answers each request as it arrives. */
#include "stun.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char stun_software[] = "Traverse STUN";

/* ---- behaviour classes ------------------------------------------------ */

static const struct {
	const char *name;
	enum stun_class cls;
	enum stun_class_kind kind;
} stun_class_names[] = {
	{ "endpoint-independent", STUN_ENDPOINT_INDEPENDENT, STUN_KIND_ANY },
	{ "address-dependent", STUN_ADDRESS_DEPENDENT, STUN_KIND_ANY },
	{ "address-and-port-dependent", STUN_ADDRESS_AND_PORT_DEPENDENT, STUN_KIND_ANY },
	{ "unknown", STUN_UNKNOWN, STUN_KIND_ANY },
	{ "eim", STUN_ENDPOINT_INDEPENDENT, STUN_KIND_MAPPING },
	{ "adm", STUN_ADDRESS_DEPENDENT, STUN_KIND_MAPPING },
	{ "apdm", STUN_ADDRESS_AND_PORT_DEPENDENT, STUN_KIND_MAPPING },
	{ "eif", STUN_ENDPOINT_INDEPENDENT, STUN_KIND_FILTERING },
	{ "adf", STUN_ADDRESS_DEPENDENT, STUN_KIND_FILTERING },
	{ "apdf", STUN_ADDRESS_AND_PORT_DEPENDENT, STUN_KIND_FILTERING },
};

#define STUN_NCLASS_NAMES (sizeof(stun_class_names) / sizeof(stun_class_names[0]))

static const char *class_lookup(enum stun_class c, enum stun_class_kind kind)
{
	for (size_t i = 0; i < STUN_NCLASS_NAMES; i++)
		if (stun_class_names[i].cls == c && stun_class_names[i].kind == kind)
			return stun_class_names[i].name;
	return NULL;
}

const char *stun_class_name(enum stun_class c)
{
	const char *s = class_lookup(c, STUN_KIND_ANY);

	return s ? s : "unknown";
}

const char *stun_class_short(enum stun_class c, enum stun_class_kind kind)
{
	return kind == STUN_KIND_ANY ? NULL : class_lookup(c, kind);
}

int stun_class_parse(const char *s, enum stun_class *c, enum stun_class_kind *kind)
{
	for (size_t i = 0; i < STUN_NCLASS_NAMES; i++) {
		if (strcasecmp(s, stun_class_names[i].name) == 0) {
			*c = stun_class_names[i].cls;
			if (kind)
				*kind = stun_class_names[i].kind;
			return 0;
		}
	}
	return TV_EINVAL;
}

/* ---- server ----------------------------------------------------------- */

struct stun_server {
	tv_host *h;
	bool alt;                       /* has the second address and port */
	tv_udp *sock[2][2];             /* [address][port]; only [0][0] without alt */
	tv_ep addr[2][2];
	stun_server_stats st;
};

const stun_server_stats *stun_server_stats_get(const stun_server *s) { return &s->st; }

static void server_send(stun_server *s, tv_udp *from, const tv_ep *to, stun_msg *m)
{
	uint8_t buf[STUN_MSG_MAX];
	int n;

	m->software = stun_software;
	m->software_len = (uint16_t)strlen(stun_software);
	m->has |= STUN_HAS_SOFTWARE;
	n = stun_msg_encode(m, buf, sizeof(buf));
	if (n < 0 || host_udp_send(from, to, buf, (size_t)n) < 0) {
		s->st.send_fail++;
		return;
	}
	if (m->type == STUN_BINDING_ERROR)
		s->st.errors++;
	else
		s->st.success++;
}

/* An error response goes back the way the request came, from the socket
 * it arrived on to its source, whatever RESPONSE-PORT said. */
static void server_error(stun_server *s, tv_udp *sock, const tv_ep *to, const stun_msg *req,
			 uint16_t code, const char *reason, const uint16_t *unknown, size_t nunknown)
{
	stun_msg m;

	stun_msg_init(&m, STUN_BINDING_ERROR, req->tid);
	m.has = STUN_HAS_ERROR;
	m.error_code = code;
	m.reason = reason;
	m.reason_len = (uint16_t)strlen(reason);
	if (nunknown) {
		m.has |= STUN_HAS_UNKNOWN_ATTRS;
		for (size_t i = 0; i < nunknown && i < STUN_UNKNOWN_MAX; i++)
			m.unknown[m.nunknown++] = unknown[i];
	}
	server_send(s, sock, to, &m);
}

static void server_rx(void *arg, tv_udp *sock, const tv_ep *from, const uint8_t *data,
		      size_t len, tv_time now)
{
	static const uint16_t change_attr = STUN_ATTR_CHANGE_REQUEST;
	stun_server *s = arg;
	stun_msg req, rsp;
	tv_ep to = *from;
	int ai = 0, pi = 0;

	(void)now;
	s->st.rx++;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (s->sock[i][j] == sock) {
				ai = i;
				pi = j;
			}
	if (stun_msg_decode(data, len, &req) < 0) {
		s->st.malformed++;
		return;
	}
	if (req.type != STUN_BINDING_REQUEST) {
		s->st.ignored++;
		return;
	}
	s->st.requests++;
	if (req.has & STUN_HAS_CHANGE) {
		s->st.change_ip += !!(req.change & STUN_CHANGE_IP);
		s->st.change_port += !!(req.change & STUN_CHANGE_PORT);
	}
	if (req.ncr_unknown) {
		server_error(s, sock, from, &req, 420, "Unknown Attribute", req.cr_unknown, req.ncr_unknown);
		return;
	}
	/* RFC 5780 6.1: a server without an alternate address treats
	 * CHANGE-REQUEST as an unknown comprehension-required attribute. */
	if (req.change && !s->alt) {
		server_error(s, sock, from, &req, 420, "Unknown Attribute", &change_attr, 1);
		return;
	}
	if (req.has & STUN_HAS_RESPONSE_PORT) {
		s->st.response_port++;
		if (req.response_port == 0) {
			server_error(s, sock, from, &req, 400, "Bad Request", NULL, 0);
			return;
		}
		to.port = req.response_port;
	}
	if (req.change & STUN_CHANGE_IP)
		ai ^= 1;
	if (req.change & STUN_CHANGE_PORT)
		pi ^= 1;
	stun_msg_init(&rsp, STUN_BINDING_SUCCESS, req.tid);
	rsp.has = STUN_HAS_XOR_MAPPED | STUN_HAS_MAPPED | STUN_HAS_RESPONSE_ORIGIN;
	rsp.xor_mapped = *from;
	rsp.mapped = *from;
	rsp.response_origin = s->addr[ai][pi];
	if (s->alt) {
		rsp.has |= STUN_HAS_OTHER;
		rsp.other = s->addr[1][1];
	}
	server_send(s, s->sock[ai][pi], &to, &rsp);
}

stun_server *stun_server_new(tv_host *h, const tv_ip *ip1, const tv_ip *ip2,
			     uint16_t port1, uint16_t port2, int *err)
{
	stun_server *s = calloc(1, sizeof(*s));
	int n;

	if (!s) {
		*err = TV_ENOMEM;
		return NULL;
	}
	s->h = h;
	s->alt = ip2 != NULL;
	if (s->alt && (port1 == port2 || tv_ip_eq(ip1, ip2) || port1 == 0 || port2 == 0)) {
		free(s);
		*err = TV_EINVAL;
		return NULL;
	}
	n = s->alt ? 2 : 1;
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++) {
			s->addr[i][j].ip = i ? *ip2 : *ip1;
			s->addr[i][j].port = j ? port2 : port1;
			s->sock[i][j] = host_udp_bind(h, &s->addr[i][j], server_rx, s, err);
			if (!s->sock[i][j]) {
				stun_server_free(s);
				return NULL;
			}
			/* An ephemeral port1 (single-socket server only) is now known. */
			s->addr[i][j] = host_udp_local(s->sock[i][j]);
		}
	}
	*err = 0;
	return s;
}

void stun_server_free(stun_server *s)
{
	if (!s)
		return;
	for (int i = 1; i >= 0; i--)
		for (int j = 1; j >= 0; j--)
			host_udp_close(s->sock[i][j]);
	free(s);
}

/* ---- probe ------------------------------------------------------------ */

/* Steps in the order they run. Hairpinning follows the mapping tests
 * directly so that socket A's binding is still fresh (the filtering tests
 * can take two retransmission time-outs). */
enum probe_step {
	PS_MAP1,        /* A -> primary: X1 */
	PS_MAP2,        /* A -> alternate address, primary port: X2 */
	PS_MAP3,        /* A -> alternate address and port: X3 */
	PS_HAIRPIN,     /* B -> X1, expecting the request on A */
	PS_FILT1,       /* F -> primary, opening F's filter to it */
	PS_FILT2,       /* F -> primary, change IP and port */
	PS_FILT3,       /* F -> primary, change port */
	PS_LIFE_BIND,   /* X -> primary: learn X's mapped port Px */
	PS_LIFE_WAIT,   /* wait T */
	PS_LIFE_CHECK,  /* Y -> primary with RESPONSE-PORT Px, expecting it on X */
	PS_DONE,
};

static const char *const probe_step_names[] = {
	[PS_MAP1] = "mapping test I", [PS_MAP2] = "mapping test II",
	[PS_MAP3] = "mapping test III", [PS_HAIRPIN] = "hairpinning test",
	[PS_FILT1] = "filtering test I", [PS_FILT2] = "filtering test II",
	[PS_FILT3] = "filtering test III", [PS_LIFE_BIND] = "lifetime binding",
	[PS_LIFE_WAIT] = "lifetime wait", [PS_LIFE_CHECK] = "lifetime check",
	[PS_DONE] = "done",
};

struct stun_probe {
	tv_host *h;
	stun_probe_cfg cfg;
	tv_ep server;                   /* primary address and port */
	tv_ep alt;                      /* OTHER-ADDRESS */
	enum probe_step step;
	tv_udp *a, *b, *f, *x, *y;      /* see enum probe_step */
	tv_timer timer;
	/* The transaction in flight: sent from tx to to, answered on rx. */
	uint8_t tid[STUN_TID_LEN];
	uint8_t req[STUN_MSG_MAX];
	size_t req_len;
	tv_udp *tx, *rx;
	tv_ep to;
	bool want_request;              /* the answer is the request itself (hairpin) */
	int sent;
	tv_time interval;
	tv_ep x2;                       /* mapping test II's result */
	/* Lifetime search: a binding survived lo and died at hi (hi < 0: no
	 * trial yet); t is the trial running. */
	tv_time life_lo, life_hi, life_t;
	uint16_t life_port;
	stun_probe_result res;
};

static void probe_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now);
static void probe_on_timer(tv_timer *t, tv_time now);

const stun_probe_result *stun_probe_result_get(const stun_probe *p) { return &p->res; }

static void probe_note(stun_probe *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->res.error[0])
		return;         /* keep the first problem */
	n = snprintf(p->res.error, sizeof(p->res.error), "%s: ", probe_step_names[p->step]);
	if (n < 0 || (size_t)n >= sizeof(p->res.error))
		return;
	va_start(ap, fmt);
	vsnprintf(p->res.error + n, sizeof(p->res.error) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* The mapped address in a success response (XOR-MAPPED-ADDRESS, else the
 * RFC 3489 MAPPED-ADDRESS). False, with a note, if there is none. */
static bool probe_mapped(stun_probe *p, const stun_msg *r, tv_ep *ep)
{
	if (!r) {
		probe_note(p, "no response");
		return false;
	}
	if (r->type == STUN_BINDING_ERROR) {
		probe_note(p, "error response %u", r->error_code);
		return false;
	}
	if (r->has & STUN_HAS_XOR_MAPPED)
		*ep = r->xor_mapped;
	else if (r->has & STUN_HAS_MAPPED)
		*ep = r->mapped;
	else {
		probe_note(p, "response without a mapped address");
		return false;
	}
	if (ep->ip.af != TV_AF_INET) {
		probe_note(p, "mapped address is not IPv4");
		return false;
	}
	return true;
}

static void probe_close(tv_udp **s)
{
	host_udp_close(*s);
	*s = NULL;
}

static void probe_close_all(stun_probe *p)
{
	host_timer_cancel(p->h, &p->timer);
	probe_close(&p->y);
	probe_close(&p->x);
	probe_close(&p->f);
	probe_close(&p->b);
	probe_close(&p->a);
}

/* The last thing any path does: on_done may free the probe. */
static void probe_finish(stun_probe *p)
{
	probe_close_all(p);
	p->step = PS_DONE;
	p->res.done = true;
	p->res.finished = host_now(p->h);
	if (p->cfg.on_done)
		p->cfg.on_done(p->cfg.arg, &p->res);
}

static tv_udp *probe_socket(stun_probe *p, tv_udp **slot)
{
	int err;

	*slot = host_udp_bind(p->h, NULL, probe_rx, p, &err);
	if (!*slot)
		probe_note(p, "no local UDP port (%d)", err);
	return *slot;
}

static void probe_send(stun_probe *p)
{
	tv_time wait;

	/* A send that fails locally counts as lost: the time-out decides. */
	(void)host_udp_send(p->tx, &p->to, p->req, p->req_len);
	p->sent++;
	wait = p->sent < p->cfg.tries ? p->interval : p->cfg.rto * p->cfg.rm;
	p->interval *= 2;
	host_timer_arm(p->h, &p->timer, host_now(p->h) + wait);
}

/* Start step st: a Binding Request from tx to to, answered on rx. Returns
 * 0, or a negative TV_E* (with a note) if the request cannot be built. */
static int probe_txn(stun_probe *p, enum probe_step st, tv_udp *tx, tv_udp *rx,
		     const tv_ep *to, uint8_t change, uint16_t response_port)
{
	stun_msg m;
	int n;

	p->step = st;
	stun_msg_tid_new(host_rng(p->h), p->tid);
	stun_msg_init(&m, STUN_BINDING_REQUEST, p->tid);
	if (change) {
		m.has |= STUN_HAS_CHANGE;
		m.change = change;
	}
	if (response_port) {
		m.has |= STUN_HAS_RESPONSE_PORT;
		m.response_port = response_port;
	}
	n = stun_msg_encode(&m, p->req, sizeof(p->req));
	if (n < 0) {
		probe_note(p, "cannot encode a request (%d)", n);
		return n;
	}
	p->req_len = (size_t)n;
	p->tx = tx;
	p->rx = rx;
	p->to = *to;
	p->want_request = st == PS_HAIRPIN;
	p->sent = 0;
	p->interval = p->cfg.rto;
	probe_send(p);
	return 0;
}

static void probe_start_lifetime_trial(stun_probe *p)
{
	if (!probe_socket(p, &p->x) ||
	    probe_txn(p, PS_LIFE_BIND, p->x, p->x, &p->server, 0, 0) < 0)
		probe_finish(p);
}

static void probe_start_lifetime(stun_probe *p)
{
	if (!p->cfg.test_lifetime) {
		probe_finish(p);
		return;
	}
	p->life_lo = 0;
	p->life_hi = -1;
	p->life_t = p->cfg.lifetime_resolution;
	probe_start_lifetime_trial(p);
}

/* One trial said whether a binding survived life_t: narrow the search,
 * then run the next trial or finish.
 *
 * Every trial waits its T, so the search climbs from the bottom: T =
 * res, 4 res, 16 res ... (capped at max) until a binding dies, then
 * bisects between the last survivor and the first failure. A 30 s binding
 * is found with 2h max in about 5 minutes of virtual time instead of the
 * 4 hours a bisection starting at max would take; a binding that outlives
 * max costs about 1.75 max instead of max. */
static void probe_lifetime_result(stun_probe *p, bool survived)
{
	tv_time res = p->cfg.lifetime_resolution, max = p->cfg.lifetime_max, mid;

	probe_close(&p->x);
	probe_close(&p->y);
	p->res.lifetime_tested = true;
	if (survived)
		p->life_lo = p->life_t;
	else
		p->life_hi = p->life_t;
	if (p->life_hi < 0) {
		if (p->life_lo >= max) {
			p->res.lifetime = max;
			probe_finish(p);
			return;
		}
		p->life_t = p->life_lo > max / 4 ? max : 4 * p->life_lo;
		probe_start_lifetime_trial(p);
		return;
	}
	if (p->life_hi - p->life_lo <= res) {
		p->res.lifetime = p->life_lo;
		probe_finish(p);
		return;
	}
	/* lo is 0 or a multiple of res, and hi - lo > res, so lo < mid < hi. */
	mid = p->life_lo + (p->life_hi - p->life_lo) / 2;
	mid -= mid % res;
	if (mid <= p->life_lo)
		mid = p->life_lo + res;
	p->life_t = mid;
	probe_start_lifetime_trial(p);
}

static void probe_start_filtering(stun_probe *p)
{
	if (!probe_socket(p, &p->f) ||
	    probe_txn(p, PS_FILT1, p->f, p->f, &p->server, 0, 0) < 0)
		probe_finish(p);
}

static void probe_start_hairpin(stun_probe *p)
{
	if (!probe_socket(p, &p->b) ||
	    probe_txn(p, PS_HAIRPIN, p->b, p->a, &p->res.mapped, 0, 0) < 0)
		probe_finish(p);
}

/* The answer to the step in flight (r), or NULL when it timed out. */
static void probe_advance(stun_probe *p, const stun_msg *r)
{
	tv_ep got, alt_port1;

	switch (p->step) {
	case PS_MAP1:
		if (!probe_mapped(p, r, &got)) {
			probe_finish(p);
			return;
		}
		p->res.mapped = got;
		p->res.nat = !tv_ep_eq(&got, &p->res.local);
		if ((r->has & STUN_HAS_OTHER) && r->other.ip.af == TV_AF_INET)
			p->alt = r->other;
		else
			probe_note(p, "no IPv4 OTHER-ADDRESS: the server cannot do RFC 5780 tests");
		if (!p->res.nat) {
			p->res.mapping = STUN_ENDPOINT_INDEPENDENT;
			probe_start_hairpin(p);
			return;
		}
		if (p->alt.ip.af == 0) {
			probe_start_hairpin(p);
			return;
		}
		alt_port1 = p->alt;
		alt_port1.port = p->server.port;
		if (probe_txn(p, PS_MAP2, p->a, p->a, &alt_port1, 0, 0) < 0)
			probe_finish(p);
		return;
	case PS_MAP2:
		if (!probe_mapped(p, r, &got)) {
			probe_start_hairpin(p);
			return;
		}
		if (tv_ep_eq(&got, &p->res.mapped)) {
			p->res.mapping = STUN_ENDPOINT_INDEPENDENT;
			probe_start_hairpin(p);
			return;
		}
		p->x2 = got;
		if (probe_txn(p, PS_MAP3, p->a, p->a, &p->alt, 0, 0) < 0)
			probe_finish(p);
		return;
	case PS_MAP3:
		if (probe_mapped(p, r, &got))
			p->res.mapping = tv_ep_eq(&got, &p->x2) ? STUN_ADDRESS_DEPENDENT
								: STUN_ADDRESS_AND_PORT_DEPENDENT;
		probe_start_hairpin(p);
		return;
	case PS_HAIRPIN:
		p->res.hairpinning = r != NULL;
		probe_close(&p->b);
		probe_close(&p->a);
		if (p->alt.ip.af == 0) {
			probe_start_lifetime(p);
			return;
		}
		probe_start_filtering(p);
		return;
	case PS_FILT1:
		if (!probe_mapped(p, r, &got)) {
			probe_close(&p->f);
			probe_start_lifetime(p);
			return;
		}
		if (probe_txn(p, PS_FILT2, p->f, p->f, &p->server, STUN_CHANGE_IP | STUN_CHANGE_PORT, 0) < 0)
			probe_finish(p);
		return;
	case PS_FILT2:
	case PS_FILT3:
		if (!r && p->step == PS_FILT2) {
			if (probe_txn(p, PS_FILT3, p->f, p->f, &p->server, STUN_CHANGE_PORT, 0) < 0)
				probe_finish(p);
			return;
		}
		if (!r)
			p->res.filtering = STUN_ADDRESS_AND_PORT_DEPENDENT;
		else if (r->type == STUN_BINDING_SUCCESS)
			p->res.filtering = p->step == PS_FILT2 ? STUN_ENDPOINT_INDEPENDENT
							       : STUN_ADDRESS_DEPENDENT;
		else
			probe_note(p, "error response %u", r->error_code);
		probe_close(&p->f);
		probe_start_lifetime(p);
		return;
	case PS_LIFE_BIND:
		if (!probe_mapped(p, r, &got)) {
			probe_finish(p);
			return;
		}
		p->life_port = got.port;
		p->step = PS_LIFE_WAIT;
		host_timer_arm(p->h, &p->timer, host_now(p->h) + p->life_t);
		return;
	case PS_LIFE_WAIT:
		if (!probe_socket(p, &p->y) ||
		    probe_txn(p, PS_LIFE_CHECK, p->y, p->x, &p->server, 0, p->life_port) < 0)
			probe_finish(p);
		return;
	case PS_LIFE_CHECK:
		/* An error (say, the server does not do RESPONSE-PORT) comes
		 * back to Y and says nothing about X's binding. */
		if (r && r->type == STUN_BINDING_ERROR) {
			probe_note(p, "error response %u", r->error_code);
			probe_finish(p);
			return;
		}
		probe_lifetime_result(p, r != NULL);
		return;
	case PS_DONE:
		return;
	}
}

static void probe_on_timer(tv_timer *t, tv_time now)
{
	stun_probe *p = t->arg;

	(void)now;
	if (p->step == PS_LIFE_WAIT || p->sent >= p->cfg.tries) {
		probe_advance(p, NULL);
		return;
	}
	probe_send(p);
}

static void probe_rx(void *arg, tv_udp *s, const tv_ep *from, const uint8_t *data, size_t len, tv_time now)
{
	stun_probe *p = arg;
	stun_msg m;
	bool ok;

	(void)from;
	(void)now;
	if (p->step == PS_DONE || p->step == PS_LIFE_WAIT || (s != p->rx && s != p->tx))
		return;
	if (stun_msg_decode(data, len, &m) < 0 || memcmp(m.tid, p->tid, STUN_TID_LEN) != 0)
		return;
	/* The answer arrives on rx; when rx is not the sender (hairpinning,
	 * RESPONSE-PORT) an error response still comes back to the sender. */
	if (s == p->rx && p->want_request)
		ok = m.type == STUN_BINDING_REQUEST;
	else if (s == p->rx)
		ok = m.type == STUN_BINDING_SUCCESS || m.type == STUN_BINDING_ERROR;
	else
		ok = m.type == STUN_BINDING_ERROR;
	if (!ok)
		return;
	host_timer_cancel(p->h, &p->timer);
	probe_advance(p, &m);
}

static void probe_cfg_defaults(stun_probe_cfg *c)
{
	if (c->lifetime_max <= 0)
		c->lifetime_max = TV_SEC(7200);
	if (c->lifetime_resolution <= 0)
		c->lifetime_resolution = TV_SEC(1);
	if (c->lifetime_resolution > c->lifetime_max)
		c->lifetime_resolution = c->lifetime_max;
	if (c->rto <= 0)
		c->rto = TV_MS(100);
	if (c->tries <= 0)
		c->tries = 5;
	if (c->rm <= 0)
		c->rm = 16;
}

stun_probe *stun_probe_start(tv_host *h, const tv_ep *server, const stun_probe_cfg *cfg, int *err)
{
	stun_probe *p;

	if (server->ip.af != TV_AF_INET || server->port == 0) {
		*err = TV_EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		*err = TV_ENOMEM;
		return NULL;
	}
	p->h = h;
	if (cfg)
		p->cfg = *cfg;
	probe_cfg_defaults(&p->cfg);
	p->server = *server;
	tv_timer_init(&p->timer, probe_on_timer, p);
	p->res.mapping = STUN_UNKNOWN;
	p->res.filtering = STUN_UNKNOWN;
	p->res.started = host_now(h);
	p->a = host_udp_bind(h, NULL, probe_rx, p, err);
	if (!p->a) {
		free(p);
		return NULL;
	}
	p->res.local = host_udp_local(p->a);
	*err = probe_txn(p, PS_MAP1, p->a, p->a, &p->server, 0, 0);
	if (*err < 0) {
		stun_probe_free(p);
		return NULL;
	}
	return p;
}

void stun_probe_free(stun_probe *p)
{
	if (!p)
		return;
	probe_close_all(p);
	free(p);
}
