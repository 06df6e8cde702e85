/* scn_sip.c - SIP in scenarios: softswitch, proxy and phone declarations,
 * call actions, and the phone/media/proxy/relay expectations. */
#include "scn_ctx.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- declarations ----------------------------------------------------- */

/* reach=any | NET[/LEN][,NET[/LEN]...] (a bare address is a /32) */
static int parse_reach(scn_ctx *c, const opt *v, softswitch_cfg *sc)
{
	char buf[256], *save = NULL, *tok;

	if (!strcmp(v->val, "any")) {
		sc->reach = SOFTSWITCH_REACH_ANY;
		return 0;
	}
	if (strlen(v->val) >= sizeof(buf))
		return ctx_err(c, "reach: too long");
	snprintf(buf, sizeof(buf), "%s", v->val);
	sc->reach = SOFTSWITCH_REACH_LIST;
	sc->nreach = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		softswitch_prefix *p = &sc->reach_list[sc->nreach];
		char *slash = strchr(tok, '/'), *end;
		unsigned long len = 32;

		if (sc->nreach == SOFTSWITCH_MAX_REACH)
			return ctx_err(c, "reach: at most %d prefixes", SOFTSWITCH_MAX_REACH);
		if (slash) {
			*slash = '\0';
			len = strtoul(slash + 1, &end, 10);
			if (!slash[1] || *end || len > 32)
				return ctx_err(c, "reach: bad prefix length in '%s'", v->val);
		}
		if (tv_ip_parse(tok, &p->net) < 0)
			return ctx_err(c, "reach: expected 'any' or NET/LEN[,NET/LEN...], got '%s'", v->val);
		p->len = (uint8_t)len;
		sc->nreach++;
	}
	if (sc->nreach == 0)
		return ctx_err(c, "reach: expected 'any' or NET/LEN[,NET/LEN...], got '%s'", v->val);
	return 0;
}

/* users=NAME:PASSWORD[,NAME:PASSWORD...]: the passwords the softswitch
 * holds. A password runs from the first ':' to the next ','. */
static int parse_users(scn_ctx *c, const opt *v, softswitch_cfg *sc)
{
	char buf[SOFTSWITCH_MAX_USERS * 2 * SOFTSWITCH_NAME_MAX], *save = NULL, *tok;

	if (strlen(v->val) >= sizeof(buf))
		return ctx_err(c, "users: too long");
	snprintf(buf, sizeof(buf), "%s", v->val);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *pw = strchr(tok, ':');
		softswitch_user *u = &sc->users[sc->nusers];

		if (!pw || pw == tok || !pw[1])
			return ctx_err(c, "users: expected USER:PASSWORD[,USER:PASSWORD...], got '%s'", tok);
		*pw++ = '\0';
		if (strlen(tok) >= SOFTSWITCH_NAME_MAX || strlen(pw) >= SOFTSWITCH_NAME_MAX)
			return ctx_err(c, "users: user names and passwords are at most %d bytes", SOFTSWITCH_NAME_MAX - 1);
		for (int i = 0; i < sc->nusers; i++)
			if (!strcmp(sc->users[i].name, tok))
				return ctx_err(c, "users: '%s' given twice", tok);
		if (sc->nusers == SOFTSWITCH_MAX_USERS)
			return ctx_err(c, "users: at most %d users", SOFTSWITCH_MAX_USERS);
		snprintf(u->name, sizeof(u->name), "%s", tok);
		snprintf(u->password, sizeof(u->password), "%s", pw);
		sc->nusers++;
	}
	if (sc->nusers == 0)
		return ctx_err(c, "users: expected USER:PASSWORD[,USER:PASSWORD...], got '%s'", v->val);
	return 0;
}

/* softswitch NAME link=LINK ip=IP [port=5060] [domain=D] [tcp=on] [fold=off] [reach=...]
 *            [auth=off] [users=NAME:PASSWORD,...] */
int sip_softswitch(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "link", "ip", "port", "domain", "tcp", "fold", "reach", "auth", "users",
					    NULL };
	opts o;
	const opt *v;
	sym *s, *l;
	tv_ip ip;
	uint64_t port = 5060;
	softswitch_cfg sc = { 0 };
	bool tcp = true;
	int err;

	if (st->argc < 2)
		return ctx_err(c, "usage: softswitch NAME link=LINK ip=IP [port=5060] [domain=example.net] [tcp=on] "
			       "[fold=off] [reach=any|NET/LEN,...] [auth=off] [users=USER:PASSWORD,...]");
	if (opts_parse(c, st, 2, keys, false, &o) < 0)
		return -1;
	if (!opts_get(&o, "link") || !opts_get(&o, "ip"))
		return ctx_err(c, "softswitch needs link=LINK and ip=IP");
	l = need_sym(c, opts_get(&o, "link")->val, SYM_LINK);
	if (!l || parse_ip(c, "ip", opts_get(&o, "ip")->val, &ip) < 0 || claim_ip(c, l, &ip) < 0)
		return -1;
	if ((v = opts_get(&o, "port")) && (opt_u64(c, v, &port) < 0 || !port || port > 65535))
		return v ? ctx_err(c, "port: 1-65535") : -1;
	if ((v = opts_get(&o, "tcp")) && opt_bool(c, v, &tcp) < 0)
		return -1;
	if ((v = opts_get(&o, "fold")) && opt_bool(c, v, &sc.fold) < 0)
		return -1;
	if ((v = opts_get(&o, "reach")) && parse_reach(c, v, &sc) < 0)
		return -1;
	if ((v = opts_get(&o, "auth")) && opt_bool(c, v, &sc.auth) < 0)
		return -1;
	if ((v = opts_get(&o, "users")) && parse_users(c, v, &sc) < 0)
		return -1;
	s = new_sym(c, st->argv[1], SYM_SOFTSWITCH);
	if (!s)
		return -1;
	s->ip = ip;
	s->port = (uint16_t)port;
	snprintf(s->domain, sizeof(s->domain), "%s", (v = opts_get(&o, "domain")) ? v->val : "example.net");
	if (c->dry)
		return 0;
	sc.port = s->port;
	sc.domain = s->domain;
	sc.udp_only = !tcp;
	if (c->live)
		live_reach(c, &sc, &ip);
	s->obj2 = simhost_new(c->net, l->obj, s->name, &ip);
	if (!s->obj2)
		return ctx_err(c, "softswitch %s: address in use", s->name);
	s->obj = softswitch_new_cfg(s->obj2, &sc, &err);
	if (s->obj && (s->cfg = malloc(sizeof(sc))))
		memcpy(s->cfg, &sc, sizeof(sc));
	return s->obj ? 0 : ctx_err(c, "softswitch %s: cannot start (%d)", s->name, err);
}

/* restart SOFTSWITCH: it stops and starts again, forgetting every
 * registration (a crash, an upgrade); calls in progress keep their media,
 * which never went through it. */
int sip_restart(scn_ctx *c, const scn_stmt *st)
{
	sym *ss;
	int err;

	if (st->argc != 2)
		return ctx_err(c, "usage: restart SOFTSWITCH");
	ss = need_sym(c, st->argv[1], SYM_SOFTSWITCH);
	if (!ss)
		return -1;
	if (c->dry)
		return 0;
	if (live_opaque(c, SYM_SOFTSWITCH))
		return ctx_err(c, "restart %s: the softswitch is external (--softswitch)", ss->name);
	softswitch_free(ss->obj);
	ss->obj = ss->cfg ? softswitch_new_cfg(ss->obj2, ss->cfg, &err) : NULL;
	return ss->obj ? 0 : ctx_err(c, "restart %s: cannot start again", ss->name);
}

/* One CSV line per accounting record. */
static void write_record(void *arg, const proxy_record *r)
{
	FILE *fp = arg;

	fprintf(fp, "%s,%s,%s,%.6f,%.6f,%d,%llu,%llu,%llu,%llu\n", r->user, r->call_id, r->reason,
		(double)r->started / 1e6, (double)r->ended / 1e6, r->streams, (unsigned long long)r->pkts_to_core,
		(unsigned long long)r->bytes_to_core, (unsigned long long)r->pkts_to_access,
		(unsigned long long)r->bytes_to_access);
}

/* proxy NAME access=LINK:IP core=LINK:IP softswitch=SS [options]: the
 * options are proxy_opts.c's, as in traverse-proxy's config file. */
int sip_proxy(scn_ctx *c, const scn_stmt *st)
{
	static const char *keys[64] = { "access", "core", "softswitch" };
	opts o;
	proxy_cfg pc;
	sym *s, *la, *lc, *ss;
	tv_ip a, k;
	int n, err;

	if (!keys[3]) {
		const char *const *pk = proxy_cfg_keys();
		for (int i = 0; pk[i] && i < 60; i++)
			keys[3 + i] = pk[i];
	}
	if (st->argc < 2)
		return ctx_err(c, "usage: proxy NAME access=LINK:IP core=LINK:IP softswitch=SOFTSWITCH [options]");
	if (opts_parse(c, st, 2, keys, false, &o) < 0)
		return -1;
	if (!opts_get(&o, "access") || !opts_get(&o, "core") || !opts_get(&o, "softswitch"))
		return ctx_err(c, "proxy needs access=LINK:IP, core=LINK:IP and softswitch=NAME");
	if (parse_attach(c, "access", opts_get(&o, "access")->val, &la, &a, 1, &n) < 0 ||
	    parse_attach(c, "core", opts_get(&o, "core")->val, &lc, &k, 1, &n) < 0 ||
	    claim_ip(c, la, &a) < 0 || claim_ip(c, lc, &k) < 0)
		return -1;
	ss = need_sym(c, opts_get(&o, "softswitch")->val, SYM_SOFTSWITCH);
	if (!ss)
		return -1;
	proxy_cfg_default(&pc);
	pc.access_ip = a;
	pc.core_ip = k;
	pc.softswitch = tv_ep4(ss->ip.v4, ss->port);
	for (int i = 0; i < o.n; i++) {
		char msg[200];
		if (proxy_place_key(o.v[i].key))
			continue;
		if (proxy_cfg_set(&pc, o.v[i].key, o.v[i].val, msg, sizeof(msg)) < 0)
			return ctx_err(c, "%s", msg);
	}
	s = new_sym(c, st->argv[1], SYM_PROXY);
	if (!s)
		return -1;
	s->ip = a;
	s->ip2 = k;
	if (c->o->ext_proxy.port) {
		/* --proxy: the phones talk to the proxy under test */
		s->ip = c->o->ext_proxy.ip;
		s->port = c->o->ext_proxy.port;
		pc.access_ip = s->ip;
	}
	if (c->dry)
		return 0;
	if (c->live)
		return live_proxy(c, s, la, lc, &pc, &o);
	s->obj2 = simhost_new(c->net, la->obj, s->name, &a);
	if (!s->obj2 || simhost_add_iface(s->obj2, lc->obj, &k) < 0)
		return ctx_err(c, "proxy %s: address in use", s->name);
	if (c->o->pcap_dir) {
		char path[700];
		ctx_run_path(c, s->name, "-records.csv", path, sizeof(path));
		s->records = fopen(path, "w");
		if (!s->records)
			return ctx_err(c, "proxy %s: cannot write %s", s->name, path);
		fprintf(s->records, "user,call_id,reason,started_s,ended_s,streams,pkts_to_core,bytes_to_core,"
			"pkts_to_access,bytes_to_access\n");
		pc.on_record = write_record;
		pc.record_arg = s->records;
	}
	if (c->o->watch && c->o->watch->proxy_event) {
		pc.on_event = c->o->watch->proxy_event;
		pc.event_arg = c->o->watch->arg;
	}
	s->obj = proxy_new(s->obj2, &pc, &err);
	return s->obj ? 0 : ctx_err(c, "proxy %s: cannot start (%d)", s->name, err);
}

static const struct { const char *name; int v; } answer_modes[] = {
	{ "auto", SIPUA_ANSWER_AUTO }, { "manual", SIPUA_ANSWER_MANUAL }, { "busy", SIPUA_ANSWER_BUSY },
}, contact_forms[] = {
	{ "list", 0 }, { "headers", 1 },
}, media_modes[] = {
	{ "auto", 0 }, { "manual", 1 },
};

int opt_u32x(scn_ctx *c, const opt *o, uint32_t *out)
{
	const char *v = o->val;
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(v, &end, v[0] == '0' && (v[1] == 'x' || v[1] == 'X') ? 16 : 10);
	if (!isdigit((unsigned char)v[0]) || *end || errno || n > 0xffffffffULL)
		return ctx_err(c, "%s: '%s' is not a 32-bit number (decimal or 0x hex)", o->key, v);
	*out = (uint32_t)n;
	return 0;
}

/* The phone's media options: ssrc=N pt=N payload-size=N media-count=N media=auto|manual */
static int phone_media_opts(scn_ctx *c, const opts *o, sipua_cfg *uc)
{
	const opt *v;
	uint64_t u;
	int iv;

	if ((v = opts_get(o, "ssrc"))) {
		if (opt_u32x(c, v, &uc->ssrc) < 0)
			return -1;
		if (!uc->ssrc)
			return ctx_err(c, "ssrc: 1 to 0xffffffff (without ssrc=, each stream draws one)");
	}
	if ((v = opts_get(o, "pt"))) {
		if (opt_u64(c, v, &u) < 0 || u > 127)
			return ctx_err(c, "pt: 0-127");
		uc->pt = (uint8_t)u;
	}
	if ((v = opts_get(o, "payload-size"))) {
		if (opt_u64(c, v, &u) < 0 || u < 1 || u > MEDIA_PAYLOAD_MAX)
			return ctx_err(c, "payload-size: 1-%d bytes", MEDIA_PAYLOAD_MAX);
		uc->payload_len = (uint16_t)u;
	}
	if ((v = opts_get(o, "media-count"))) {
		if (opt_u64(c, v, &u) < 0 || u < 1 || u > 10000000)
			return ctx_err(c, "media-count: 1-10000000 packets");
		uc->media_count = u;
	}
	if ((v = opts_get(o, "media"))) {
		if (LOOKUP(c, v, media_modes, &iv) < 0)
			return -1;
		uc->media_manual = iv;
	}
	return 0;
}

/* phone NAME link=LINK ip=IP via=PROXY|SOFTSWITCH [user=U] [options] */
int sip_phone(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = {
		"link", "ip", "via", "user", "port", "tcp", "rport", "expires", "rtp-port", "video", "rtcp-mux",
		"rtcp-nonadjacent", "asymmetric", "answer", "answer-delay", "options", "session-expires", "domain",
		"contacts", "contact-form", "fold", "pad", "ssrc", "pt", "payload-size", "media-count", "media",
		"password", "auth-user", NULL
	};
	opts o;
	const opt *v;
	sipua_cfg uc = { 0 };
	sym *s, *l, *via, *ss = NULL;
	tv_ip ip;
	uint64_t u;
	int iv, err;
	bool b;

	if (st->argc < 2)
		return ctx_err(c, "usage: phone NAME link=LINK ip=IP via=PROXY|SOFTSWITCH [user=U] [options]");
	if (opts_parse(c, st, 2, keys, false, &o) < 0)
		return -1;
	if (!opts_get(&o, "link") || !opts_get(&o, "ip") || !opts_get(&o, "via"))
		return ctx_err(c, "phone needs link=LINK, ip=IP and via=PROXY|SOFTSWITCH");
	l = need_sym(c, opts_get(&o, "link")->val, SYM_LINK);
	if (!l || parse_ip(c, "ip", opts_get(&o, "ip")->val, &ip) < 0 || claim_ip(c, l, &ip) < 0)
		return -1;
	via = ctx_sym(c, opts_get(&o, "via")->val, -1);
	if (!via || (via->kind != SYM_PROXY && via->kind != SYM_SOFTSWITCH))
		return ctx_err(c, "via: no proxy or softswitch named '%s'", opts_get(&o, "via")->val);
	for (int i = 0; i < c->nsyms; i++)
		if (c->syms[i]->kind == SYM_SOFTSWITCH)
			ss = c->syms[i];
	uc.proxy = tv_ep4(via->ip.v4, via->kind == SYM_PROXY ? (via->port ? via->port : 5060) : via->port);
	uc.domain = (v = opts_get(&o, "domain")) ? v->val : ss ? ss->domain : "example.net";
	uc.sip_port = 5060;
	if ((v = opts_get(&o, "port")) && (opt_u64(c, v, &u) < 0 || !u || u > 65535))
		return v ? ctx_err(c, "port: 1-65535") : -1;
	if (v)
		uc.sip_port = (uint16_t)u;
	if ((v = opts_get(&o, "rtp-port")) && (opt_u64(c, v, &u) < 0 || !u || u > 65000))
		return ctx_err(c, "rtp-port: 1-65000");
	if (v)
		uc.rtp_port = (uint16_t)u;
	if ((v = opts_get(&o, "expires")) && opt_time(c, v, &uc.reg_expires) < 0)
		return -1;
	if ((v = opts_get(&o, "answer-delay")) && opt_time(c, v, &uc.answer_delay) < 0)
		return -1;
	if ((v = opts_get(&o, "session-expires")) && opt_time(c, v, &uc.session_expires) < 0)
		return -1;
	if ((v = opts_get(&o, "answer"))) {
		if (LOOKUP(c, v, answer_modes, &iv) < 0)
			return -1;
		uc.answer = (enum sipua_answer)iv;
	}
	if ((v = opts_get(&o, "contacts"))) {
		if (opt_u64(c, v, &u) < 0 || u < 1 || u > 2)
			return ctx_err(c, "contacts: 1 or 2");
		uc.contacts = (int)u;
	}
	if ((v = opts_get(&o, "contact-form"))) {
		if (LOOKUP(c, v, contact_forms, &iv) < 0)
			return -1;
		uc.contact_headers = iv;
	}
	if ((v = opts_get(&o, "pad"))) {
		if (opt_u64(c, v, &u) < 0 || u > 60000)
			return ctx_err(c, "pad: 0-60000 bytes");
		uc.pad = (uint32_t)u;
	}
	if (phone_media_opts(c, &o, &uc) < 0)
		return -1;
	if ((v = opts_get(&o, "password"))) {
		if (!*v->val || strlen(v->val) >= SOFTSWITCH_NAME_MAX)
			return ctx_err(c, "password: 1-%d bytes", SOFTSWITCH_NAME_MAX - 1);
		uc.password = v->val;
	}
	if ((v = opts_get(&o, "auth-user"))) {
		if (!uc.password)
			return ctx_err(c, "auth-user= goes with password=");
		if (!*v->val || strlen(v->val) >= SOFTSWITCH_NAME_MAX)
			return ctx_err(c, "auth-user: 1-%d bytes", SOFTSWITCH_NAME_MAX - 1);
		uc.auth_user = v->val;
	}
	static const struct { const char *key; size_t off; } flags[] = {
		{ "tcp", offsetof(sipua_cfg, tcp) }, { "rport", offsetof(sipua_cfg, rport) },
		{ "video", offsetof(sipua_cfg, video) }, { "rtcp-mux", offsetof(sipua_cfg, rtcp_mux) },
		{ "rtcp-nonadjacent", offsetof(sipua_cfg, rtcp_nonadjacent) },
		{ "asymmetric", offsetof(sipua_cfg, asymmetric_rtp) }, { "fold", offsetof(sipua_cfg, fold) },
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if ((v = opts_get(&o, flags[i].key)) && opt_bool(c, v, (bool *)((char *)&uc + flags[i].off)) < 0)
			return -1;
	if ((v = opts_get(&o, "options"))) {
		if (opt_bool(c, v, &b) < 0)
			return -1;
		uc.no_options_answer = !b;
	}
	s = new_sym(c, st->argv[1], SYM_PHONE);
	if (!s)
		return -1;
	s->ip = ip;
	s->port = uc.sip_port ? uc.sip_port : 5060;
	snprintf(s->domain, sizeof(s->domain), "%s", (v = opts_get(&o, "user")) ? v->val : s->name);
	uc.user = s->domain;
	if (c->dry)
		return 0;
	s->link = l->obj;
	s->obj2 = simhost_new(c->net, l->obj, s->name, &ip);
	if (!s->obj2)
		return ctx_err(c, "phone %s: address in use", s->name);
	s->obj = sipua_new(s->obj2, &uc, &err);
	return s->obj ? 0 : ctx_err(c, "phone %s: cannot start (%d)", s->name, err);
}

/* ---- actions ------------------------------------------------------------ */

/* register P | call P USER | answer P | reject P [code=N] | cancel P |
 * hangup P | hold P | resume P | mute P | unmute P */
int sip_action(scn_ctx *c, const scn_stmt *st)
{
	const char *a = st->argv[0];
	sym *ph;
	sipua *ua;
	int rc = 0;
	uint64_t code = 486;

	if (st->argc < 2)
		return ctx_err(c, "usage: %s PHONE%s", a, !strcmp(a, "call") ? " USER" : "");
	ph = need_sym(c, st->argv[1], SYM_PHONE);
	if (!ph)
		return -1;
	if (!strcmp(a, "call") && st->argc != 3)
		return ctx_err(c, "usage: call PHONE USER (the user part of the callee's address)");
	if (!strcmp(a, "reject") && st->argc == 3) {
		opts o;
		static const char *const keys[] = { "code", NULL };
		if (opts_parse(c, st, 2, keys, false, &o) < 0 || opt_u64(c, opts_get(&o, "code"), &code) < 0 ||
		    code < 300 || code > 699)
			return ctx_err(c, "reject: code must be 300-699");
	} else if (strcmp(a, "call") && st->argc != 2) {
		return ctx_err(c, "usage: %s PHONE", a);
	}
	if (c->dry)
		return 0;
	ua = ph->obj;
	if (!strcmp(a, "register"))
		rc = sipua_register(ua);
	else if (!strcmp(a, "call"))
		rc = sipua_call(ua, st->argv[2]);
	else if (!strcmp(a, "answer"))
		rc = sipua_answer(ua);
	else if (!strcmp(a, "reject"))
		rc = sipua_reject(ua, (int)code);
	else if (!strcmp(a, "cancel"))
		rc = sipua_cancel(ua);
	else if (!strcmp(a, "hangup"))
		rc = sipua_hangup(ua);
	else if (!strcmp(a, "hold") || !strcmp(a, "resume"))
		rc = sipua_hold(ua, a[0] == 'h');
	else if (!strcmp(a, "mute") || !strcmp(a, "unmute"))
		sipua_mute(ua, a[0] == 'm');
	if (rc < 0)
		return ctx_err(c, "%s %s: not possible now (phone state %s)", a, ph->name,
			       sipua_state_name(sipua_get_status(ua)->state));
	return 0;
}

/* keepalive PROXY PHONE INTERVAL: a per-terminal keepalive interval. */
int sip_keepalive(scn_ctx *c, const scn_stmt *st)
{
	sym *px, *ph;
	tv_time iv;

	if (st->argc != 4)
		return ctx_err(c, "usage: keepalive PROXY PHONE INTERVAL");
	px = need_sym(c, st->argv[1], SYM_PROXY);
	ph = px ? need_sym(c, st->argv[2], SYM_PHONE) : NULL;
	if (!ph)
		return -1;
	if (tv_time_parse(st->argv[3], &iv) < 0 || iv < TV_SEC(1))
		return ctx_err(c, "keepalive: '%s' is not a duration of at least 1s", st->argv[3]);
	if (c->dry)
		return 0;
	if (c->live)
		return ctx_err(c, "keepalive PROXY PHONE: not available against a live proxy");
	if (proxy_set_keepalive(px->obj, ph->domain, iv) < 0)
		return ctx_err(c, "keepalive: proxy %s has no binding for %s yet (register it first)", px->name, ph->name);
	return 0;
}

/* Options that name a value rather than bound a number take '=' only. */
static int need_eq(scn_ctx *c, const opt *o)
{
	if (strcmp(o->op, "="))
		return ctx_err(c, "%s takes '=' only, got '%s%s'", o->key, o->op, o->val);
	return 0;
}

/* stream=audio|video: 0 or 1 (SIPUA_AUDIO, SIPUA_VIDEO) */
static int stream_opt(scn_ctx *c, const opt *v, int *idx)
{
	if (need_eq(c, v) < 0)
		return -1;
	if (strcmp(v->val, "audio") && strcmp(v->val, "video"))
		return ctx_err(c, "stream: audio or video");
	*idx = v->val[0] == 'v';
	return 0;
}

/* media PHONE start|stop [stream=audio|video] [count=N]: the RTP gate of
 * one stream of the phone's current call. */
int sip_media(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "stream", "count", NULL };
	opts o;
	const opt *v;
	sym *ph;
	bool start;
	int idx = 0;
	uint64_t count = 0;
	media_stream *m;

	if (st->argc < 3 || (strcmp(st->argv[2], "start") && strcmp(st->argv[2], "stop")))
		return ctx_err(c, "usage: media PHONE start|stop [stream=audio|video] [count=N]");
	ph = need_sym(c, st->argv[1], SYM_PHONE);
	if (!ph || opts_parse(c, st, 3, keys, false, &o) < 0)
		return -1;
	start = !strcmp(st->argv[2], "start");
	if ((v = opts_get(&o, "stream")) && stream_opt(c, v, &idx) < 0)
		return -1;
	if ((v = opts_get(&o, "count"))) {
		if (!start)
			return ctx_err(c, "media %s stop: count= goes with start only", ph->name);
		if (opt_u64(c, v, &count) < 0 || count < 1 || count > 10000000)
			return ctx_err(c, "count: 1-10000000 packets");
	}
	if (c->dry)
		return 0;
	m = sipua_media(ph->obj, idx);
	if (!m)
		return ctx_err(c, "media %s %s: %s media of %s: there is no such stream now", ph->name, st->argv[2],
			       idx ? "video" : "audio", ph->name);
	media_rtp_set(m, start, count);
	return 0;
}

/* ---- expectations ----------------------------------------------------- */

static void check(scn_ctx *c, const char *what, const opt *o, uint64_t got)
{
	uint64_t want;

	if (opt_is_show(o)) {
		if (!c->dry)
			show_put(c, what, o->key, "%llu", (unsigned long long)got);
		return;
	}
	if (opt_u64(c, o, &want) < 0 || c->dry)
		return;
	ctx_expect(c, cmp_u64(o->op, got, want), "%s: expected %s%s%s, got %llu", what, o->key, o->op, o->val,
		   (unsigned long long)got);
}

static void check_time(scn_ctx *c, const char *what, const opt *o, tv_time got)
{
	tv_time want;
	char g[32];

	if (opt_is_show(o)) {
		if (!c->dry)
			show_put(c, what, o->key, "%s", tv_time_fmt(got, g, sizeof(g)));
		return;
	}
	if (opt_time(c, o, &want) < 0 || c->dry)
		return;
	ctx_expect(c, cmp_u64(o->op, (uint64_t)got, (uint64_t)want), "%s: expected %s%s%s, got %s", what, o->key,
		   o->op, o->val, tv_time_fmt(got, g, sizeof(g)));
}

static void check_str(scn_ctx *c, const char *what, const opt *o, const char *got)
{
	if (c->dry)
		return;
	if (opt_is_show(o)) {
		show_put(c, what, o->key, "%s", got);
		return;
	}
	ctx_expect(c, !strcmp(o->op, "=") ? !strcmp(got, o->val) : strcmp(got, o->val) != 0,
		   "%s: expected %s%s%s, got %s", what, o->key, o->op, o->val, got);
}

/* expect phone P [registered=yes|no] [state=S] [held=yes|no] [last-code OP N] [end=R]
 *               [options-answered OP N] [options-rx OP N] [keepalive-rx OP N] [answered OP N] */
int sip_expect_phone(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "registered", "state", "held", "last-code", "end", "options-answered",
					    "options-rx", "keepalive-rx", "answered", "calls", "rx-bad", "session-refreshes",
					    "reg-contacts", "reg-code", NULL };
	opts o;
	sym *ph;
	const sipua_status *s;
	char what[64];

	if (st->argc < 4)
		return ctx_err(c, "usage: expect phone PHONE registered=yes|no state=S ...");
	ph = need_sym(c, st->argv[2], SYM_PHONE);
	if (!ph || opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	snprintf(what, sizeof(what), "phone %s", ph->name);
	s = c->dry ? NULL : sipua_get_status(ph->obj);
	for (int i = 0; i < o.n; i++) {
		const opt *v = &o.v[i];
		bool bv;
		if (!strcmp(v->key, "registered") || !strcmp(v->key, "held")) {
			if (opt_is_show(v)) {
				if (s)
					show_put(c, what, v->key, "%s", (v->key[0] == 'r' ? s->registered : s->held) ? "yes" : "no");
				continue;
			}
			if (need_eq(c, v) < 0 || opt_bool(c, v, &bv) < 0)
				return -1;
			if (s)
				ctx_expect(c, bv == (v->key[0] == 'r' ? s->registered : s->held), "%s: expected %s=%s",
					   what, v->key, v->val);
		} else if (!strcmp(v->key, "state")) {
			if (s)
				check_str(c, what, v, sipua_state_name(s->state));
		} else if (!strcmp(v->key, "end")) {
			if (s)
				check_str(c, what, v, s->end_reason ? s->end_reason : "-");
		} else {
			uint64_t got = 0;
			if (s) {
				if (!strcmp(v->key, "last-code")) got = (uint64_t)s->last_code;
				else if (!strcmp(v->key, "options-answered")) got = s->options_answered;
				else if (!strcmp(v->key, "options-rx")) got = s->options_rx;
				else if (!strcmp(v->key, "keepalive-rx")) got = s->keepalive_rx;
				else if (!strcmp(v->key, "answered")) got = s->calls_answered;
				else if (!strcmp(v->key, "calls")) got = s->calls_made;
				else if (!strcmp(v->key, "session-refreshes")) got = s->session_refreshes;
				else if (!strcmp(v->key, "reg-contacts")) got = (uint64_t)s->reg_contacts;
				else if (!strcmp(v->key, "reg-code")) got = (uint64_t)s->reg_code;
				else got = s->rx_bad;
			}
			check(c, what, v, got);
		}
	}
	return 0;
}

/* from=ADDR[:PORT]: every one of total packets came from ADDR, and there
 * was at least one. */
static int check_from(scn_ctx *c, const char *what, const opt *v, const media_src *src, int nsrc, uint64_t total)
{
	tv_ep ep;
	uint64_t n = 0;

	if (opt_is_show(v)) {   /* show ... from: every source heard, with its count */
		char list[400] = "", e[TV_EP_STRLEN];
		for (int k = 0; !c->dry && k < nsrc; k++) {
			size_t l = strlen(list);
			snprintf(list + l, sizeof(list) - l, "%s%s(%llu)", k ? "," : "", tv_ep_fmt(&src[k].ep, e),
				 (unsigned long long)src[k].n);
		}
		if (!c->dry)
			show_put(c, what, "from", "%s", nsrc ? list : "-");
		return 0;
	}
	if (need_eq(c, v) < 0 || ctx_resolve(c, v->val, &ep, true) < 0)
		return -1;
	if (c->dry)
		return 0;
	for (int k = 0; k < nsrc; k++)
		if (src[k].ep.ip.v4 == ep.ip.v4 && (!ep.port || src[k].ep.port == ep.port))
			n += src[k].n;
	ctx_expect(c, n > 0 && n == total, "%s: expected all RTP from %s, got %llu of %llu", what, v->val,
		   (unsigned long long)n, (unsigned long long)total);
	return 0;
}

/* expect media P [stream=audio|video] [rtp-rx OP N] [rtp-tx OP N] [rtcp-rx OP N] [lost OP N]
 *               [dup OP N] [bad OP N] [ssrc-changes OP N] [sources OP N] [from=ADDR] [max-gap OP D]
 *               [bytes-rx OP N] [ssrcs OP N] [ssrc-overflow OP N]
 * expect media P [stream=audio|video] ssrc=N [rx OP N] [bytes OP N] [lost OP N] [dup OP N] [from=ADDR] */
int sip_expect_media(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "stream", "rtp-rx", "rtp-tx", "rtcp-rx", "lost", "dup", "bad",
					    "ssrc-changes", "sources", "from", "max-gap", "bytes-rx", "ssrcs",
					    "ssrc-overflow", "ssrc", "rx", "bytes", "rtcp", NULL };
	static const media_ssrc_stats never = { 0 };    /* an SSRC never heard */
	opts o;
	const opt *v, *so;
	sym *ph;
	int idx = 0, nchecks;
	uint32_t ssrc = 0;
	const media_stats *ms = NULL;
	const media_ssrc_stats *row = NULL;
	uint64_t rtcp_n = 0;
	char what[96];

	if (st->argc < 4)
		return ctx_err(c, "usage: expect media PHONE [stream=audio|video] [ssrc=N] rtp-rx>=N ...");
	ph = need_sym(c, st->argv[2], SYM_PHONE);
	if (!ph || opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "stream")) && stream_opt(c, v, &idx) < 0)
		return -1;
	if ((so = opts_get(&o, "ssrc")) && (need_eq(c, so) < 0 || opt_u32x(c, so, &ssrc) < 0))
		return -1;
	nchecks = o.n - (v != NULL) - (so != NULL);
	for (int i = 0; i < o.n; i++) {
		const char *k = o.v[i].key;
		bool one = !strcmp(k, "rx") || !strcmp(k, "bytes") || !strcmp(k, "rtcp");
		bool both = one || !strcmp(k, "stream") || !strcmp(k, "ssrc") || !strcmp(k, "lost") ||
			    !strcmp(k, "dup") || !strcmp(k, "from");
		if (so && !both)
			return ctx_err(c, "expect media: with ssrc=, only rx, bytes, rtcp, lost, dup and from (got '%s')", k);
		if (!so && one)
			return ctx_err(c, "%s needs ssrc=N (rtp-rx and bytes-rx count every SSRC)", k);
	}
	if (!nchecks)
		return ctx_err(c, "expect media: nothing to check");
	if (so)
		snprintf(what, sizeof(what), "%s media of %s, SSRC 0x%08x", idx ? "video" : "audio", ph->name, ssrc);
	else
		snprintf(what, sizeof(what), "%s media of %s", idx ? "video" : "audio", ph->name);
	if (!c->dry) {
		media_stream *m = sipua_media(ph->obj, idx);
		if (!m) {
			ctx_expect(c, false, "%s: there is no such stream", what);
			return 0;
		}
		ms = media_get_stats(m);
		rtcp_n = so ? media_rtcp_from(m, ssrc) : 0;
		if (so && !(row = media_ssrc_find(m, ssrc)))
			row = &never;
	}
	for (int i = 0; i < o.n; i++) {
		v = &o.v[i];
		if (v == so || !strcmp(v->key, "stream"))
			continue;
		if (!strcmp(v->key, "from")) {
			int rc = row ? check_from(c, what, v, row->src, row->nsrc, row->rx)
				     : check_from(c, what, v, ms ? ms->src : NULL, ms ? ms->nsrc : 0, ms ? ms->rtp_rx : 0);
			if (rc < 0)
				return -1;
			continue;
		}
		if (!strcmp(v->key, "max-gap")) {
			check_time(c, what, v, ms ? ms->max_gap : 0);
			continue;
		}
		uint64_t got = 0;
		if (row) {
			const struct { const char *k; uint64_t v; } t[] = {
				{ "rx", row->rx }, { "bytes", row->bytes }, { "lost", row->lost }, { "dup", row->dup },
				{ "rtcp", rtcp_n },
			};
			for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
				if (!strcmp(v->key, t[k].k))
					got = t[k].v;
		} else if (ms) {
			const struct { const char *k; uint64_t v; } t[] = {
				{ "rtp-rx", ms->rtp_rx }, { "rtp-tx", ms->rtp_tx }, { "rtcp-rx", ms->rtcp_rx },
				{ "lost", ms->lost }, { "dup", ms->dup }, { "bad", ms->bad },
				{ "ssrc-changes", ms->ssrc_changes }, { "sources", (uint64_t)ms->nsrc },
				{ "bytes-rx", ms->rtp_rx_bytes }, { "ssrcs", (uint64_t)ms->nssrc },
				{ "ssrc-overflow", ms->ssrc_overflow },
			};
			for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
				if (!strcmp(v->key, t[k].k))
					got = t[k].v;
		}
		check(c, what, v, got);
	}
	return 0;
}

/* expect proxy X COUNTER OP N ...: the names of proxy_stats.c */
int sip_expect_proxy(scn_ctx *c, const scn_stmt *st)
{
	static const char *keys[128];
	static char names[128][64];
	opts o;
	sym *px;
	char what[64];
	proxy_stats ls;
	const proxy_stats *ps = c->live ? &ls : NULL;

	if (!keys[0])
		for (int i = 0; i < proxy_stat_count() && i < 127; i++)
			keys[i] = proxy_stat_name(i, names[i], sizeof(names[i]));
	if (st->argc < 4)
		return ctx_err(c, "usage: expect proxy PROXY COUNTER OP N ...");
	px = need_sym(c, st->argv[2], SYM_PROXY);
	if (!px || opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	if (live_opaque(c, SYM_PROXY)) {
		c->r->unchecked += o.n;
		return 0;
	}
	snprintf(what, sizeof(what), "proxy %s", px->name);
	if (!c->dry) {
		/* one snapshot for the whole statement (live: one question) */
		if (!c->live)
			ps = proxy_get_stats(px->obj);
		else if (live_stats(c, &ls) < 0)
			return ctx_expect(c, false, "live: proxy %s did not answer on its control socket", px->name), 0;
	}
	for (int i = 0; i < o.n; i++)
		check(c, what, &o.v[i], ps ? proxy_stat_value(ps, proxy_stat_find(o.v[i].key)) : 0);
	return 0;
}

/* expect softswitch SS [user=U] COUNTER OP N ... [contact-host=ADDR] */
int sip_expect_softswitch(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = {
		"user", "rx", "rx-bad", "registers", "invites", "routed", "responses-routed", "not-found", "users",
		"contacts", "contact-unroutable", "contacts-full", "responses-failed", "requests-failed", "rx-tcp",
		"tx-tcp", "tcp-accepted", "tcp-opened", "tcp-bad-framing", "contact-host", "auth-challenges", "auth-ok",
		"auth-failures", "auth-malformed", "auth-mismatch", "auth-unknown-user", "auth-bad-response",
		"auth-bad-nonce", "auth-stale", "auth-replay", NULL
	};
	softswitch_contact ct[SOFTSWITCH_MAX_CONTACTS];
	opts o;
	const opt *user;
	sym *ss;
	char what[96];
	int nct = 0;

	if (st->argc < 4)
		return ctx_err(c, "usage: expect softswitch SOFTSWITCH [user=U] COUNTER OP N ...");
	ss = need_sym(c, st->argv[2], SYM_SOFTSWITCH);
	if (!ss || opts_parse(c, st, 3, keys, true, &o) < 0)
		return -1;
	if (live_opaque(c, SYM_SOFTSWITCH)) {
		c->r->unchecked += o.n;
		return 0;
	}
	if ((user = opts_get(&o, "user")) && need_eq(c, user) < 0)
		return -1;
	if (user && o.n < 2)
		return ctx_err(c, "expect softswitch: user= needs something to check (contacts, contact-host)");
	if (user)
		snprintf(what, sizeof(what), "softswitch %s, user %s", ss->name, user->val);
	else
		snprintf(what, sizeof(what), "softswitch %s", ss->name);
	if (!c->dry && user)
		nct = softswitch_contacts(ss->obj, user->val, ct, SOFTSWITCH_MAX_CONTACTS);
	for (int i = 0; i < o.n; i++) {
		const opt *v = &o.v[i];
		uint64_t got = 0;

		if (v == user)
			continue;
		if (user && strcmp(v->key, "contacts") && strcmp(v->key, "contact-host"))
			return ctx_err(c, "expect softswitch: with user=, only contacts and contact-host (got '%s')",
				       v->key);
		if (!strcmp(v->key, "contact-host")) {
			tv_ep ep;
			int n = 0;
			char hosts[160] = "";

			if (!user)
				return ctx_err(c, "contact-host needs user=U");
			if (opt_is_show(v)) {
				for (int k = 0; !c->dry && k < nct && k < SOFTSWITCH_MAX_CONTACTS; k++) {
					char ip[TV_EP_STRLEN];
					size_t hl = strlen(hosts);
					snprintf(hosts + hl, sizeof(hosts) - hl, "%s%s", hl ? "," : "", tv_ep_fmt(&ct[k].ep, ip));
				}
				if (!c->dry)
					show_put(c, what, "contacts", "%s", nct ? hosts : "-");
				continue;
			}
			if (need_eq(c, v) < 0 || ctx_resolve(c, v->val, &ep, true) < 0)
				return -1;
			if (c->dry)
				continue;
			for (int k = 0; k < nct && k < SOFTSWITCH_MAX_CONTACTS; k++) {
				char ip[TV_IP_STRLEN];
				size_t hl = strlen(hosts);

				n += tv_ip_eq(&ct[k].ep.ip, &ep.ip);
				snprintf(hosts + hl, sizeof(hosts) - hl, "%s%s", hl ? "," : "", tv_ip_fmt(&ct[k].ep.ip, ip));
			}
			ctx_expect(c, nct > 0 && n == nct, "%s: expected every Contact at %s, got %s", what, v->val,
				   nct ? hosts : "no Contact");
			continue;
		}
		if (!c->dry) {
			const softswitch_stats *s = softswitch_get_stats(ss->obj);
			const struct { const char *k; uint64_t v; } t[] = {
				{ "rx", s->rx }, { "rx-bad", s->rx_bad }, { "registers", s->registers },
				{ "invites", s->invites }, { "routed", s->requests_routed },
				{ "responses-routed", s->responses_routed }, { "not-found", s->not_found },
				{ "users", s->bindings }, { "contacts", user ? (uint64_t)nct : s->contacts },
				{ "contact-unroutable", s->contact_unroutable }, { "contacts-full", s->contacts_full },
				{ "responses-failed", s->responses_failed }, { "requests-failed", s->requests_failed },
				{ "rx-tcp", s->rx_tcp }, { "tx-tcp", s->tx_tcp }, { "tcp-accepted", s->tcp_accepted },
				{ "tcp-opened", s->tcp_opened }, { "tcp-bad-framing", s->tcp_bad_framing },
				{ "auth-challenges", s->auth_challenges }, { "auth-ok", s->auth_ok },
				{ "auth-failures", s->auth_failures },
			};
			for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
				if (!strcmp(v->key, t[k].k))
					got = t[k].v;
			for (int f = 0; f < SOFTSWITCH_AUTH__COUNT; f++)
				if (!strncmp(v->key, "auth-", 5) &&
				    !strcmp(v->key + 5, softswitch_auth_fail_name((enum softswitch_auth_fail)f)))
					got = s->auth_fail[f];
		}
		check(c, what, v, got);
	}
	return 0;
}

/* expect relay X PHONE [stream=N] [latched=yes|no] [latched-from=ADDR] [to-core OP N] [to-access OP N]
 *                      [rtcp-to-core OP N] [rtcp-to-access OP N] [dropped OP N] [count OP N] */
int sip_expect_relay(scn_ctx *c, const scn_stmt *st)
{
	static const char *const keys[] = { "stream", "latched", "latched-from", "to-core", "to-access",
					    "rtcp-to-core", "rtcp-to-access", "dropped", "count", "accounting", NULL };
	opts o;
	const opt *v;
	sym *px, *ph;
	struct { const char *user; int idx, found; proxy_stream_info si; } q = { 0 };
	char what[96];

	if (st->argc < 5)
		return ctx_err(c, "usage: expect relay PROXY PHONE [stream=N] latched=yes to-core>=N ...");
	px = need_sym(c, st->argv[2], SYM_PROXY);
	ph = px ? need_sym(c, st->argv[3], SYM_PHONE) : NULL;
	if (!ph || opts_parse(c, st, 4, keys, true, &o) < 0)
		return -1;
	if ((v = opts_get(&o, "stream"))) {
		uint64_t n;
		if (need_eq(c, v) < 0)
			return -1;
		if (opt_u64(c, v, &n) < 0 || n > 3)
			return ctx_err(c, "stream: 0-3 (m= line index)");
		q.idx = (int)n;
	}
	q.user = ph->domain;
	if (live_opaque(c, SYM_PROXY)) {
		c->r->unchecked += o.n;
		return 0;
	}
	snprintf(what, sizeof(what), "proxy %s, stream %d of %s", px->name, q.idx, ph->name);
	if (!c->dry)
		q.found = names_find_stream(c, px, q.user, q.idx, &q.si);
	for (int i = 0; i < o.n; i++) {
		v = &o.v[i];
		if (!strcmp(v->key, "stream"))
			continue;
		if (!strcmp(v->key, "count")) {
			check(c, what, v, (uint64_t)q.found);
			continue;
		}
		if (!c->dry && !q.found) {
			if (c->show) {
				show_put(c, what, v->key, "-");
				continue;
			}
			ctx_expect(c, false, "%s: no such stream at the proxy", what);
			return 0;
		}
		if (opt_is_show(v) && (!strcmp(v->key, "latched") || !strcmp(v->key, "latched-from") ||
				       !strcmp(v->key, "accounting"))) {
			char g[TV_EP_STRLEN];
			if (c->dry)
				continue;
			if (v->key[0] == 'a')
				return ctx_err(c, "show: accounting is a check; show to-core and to-access instead");
			if (!strcmp(v->key, "latched"))
				show_put(c, what, v->key, "%s", q.si.latched_rtp.port ? "yes" : "no");
			else
				show_put(c, what, v->key, "%s", q.si.latched_rtp.port ? tv_ep_fmt(&q.si.latched_rtp, g) : "-");
			continue;
		}
		if (!strcmp(v->key, "accounting")) {
			/* The proxy's per-stream counters against what the phone's
			 * media source sent and its sink counted (RTP, no mux). */
			const media_stats *ms;
			if (need_eq(c, v) < 0)
				return -1;
			if (strcmp(v->val, "exact"))
				return ctx_err(c, "accounting: the only value is 'exact'");
			if (c->dry)
				continue;
			ms = sipua_media(ph->obj, q.idx) ? media_get_stats(sipua_media(ph->obj, q.idx)) : NULL;
			if (!ms) {
				ctx_expect(c, false, "%s: the phone has no such stream", what);
				continue;
			}
			ctx_expect(c, q.si.to_core == ms->rtp_tx && q.si.to_access == ms->rtp_rx,
				   "%s: accounting differs: proxy relayed %llu to core / %llu to access, phone sent %llu / "
				   "received %llu", what, (unsigned long long)q.si.to_core, (unsigned long long)q.si.to_access,
				   (unsigned long long)ms->rtp_tx, (unsigned long long)ms->rtp_rx);
		} else if (!strcmp(v->key, "latched")) {
			bool b;
			if (need_eq(c, v) < 0 || opt_bool(c, v, &b) < 0)
				return -1;
			if (!c->dry)
				ctx_expect(c, b == (q.si.latched_rtp.port != 0), "%s: expected latched=%s", what, v->val);
		} else if (!strcmp(v->key, "latched-from")) {
			tv_ep ep;
			char g[TV_EP_STRLEN];
			if (need_eq(c, v) < 0 || ctx_resolve(c, v->val, &ep, true) < 0)
				return -1;
			if (!c->dry)
				ctx_expect(c, q.si.latched_rtp.ip.v4 == ep.ip.v4 && (!ep.port || ep.port == q.si.latched_rtp.port),
					   "%s: expected latched from %s, got %s", what, v->val, tv_ep_fmt(&q.si.latched_rtp, g));
		} else {
			uint64_t got = !strcmp(v->key, "to-core") ? q.si.to_core : !strcmp(v->key, "to-access") ? q.si.to_access
				: !strcmp(v->key, "rtcp-to-core") ? q.si.rtcp_to_core
				: !strcmp(v->key, "rtcp-to-access") ? q.si.rtcp_to_access : q.si.dropped;
			check(c, what, v, got);
		}
	}
	return 0;
}

void sip_free(scn_ctx *c, sym *s)
{
	(void)c;
	switch (s->kind) {
	case SYM_PHONE:
		sipua_free(s->obj);
		break;
	case SYM_SOFTSWITCH:
		softswitch_free(s->obj);
		free(s->cfg);
		break;
	case SYM_PROXY:
		proxy_free(s->obj);     /* ends the remaining legs: their records are written */
		if (s->records)
			fclose(s->records);
		break;
	default:
		return;
	}
	host_free(s->obj2);
}
