/* nat_opts.c - the NAT's options by name: the scenario `nat` statement
 * (runner/scn_topo.c) and traverse-nat's command line (natd/args.c) both set
 * a nat_cfg through nat_cfg_set(), so an option has one spelling, one range
 * and one error message everywhere. docs/scenarios.md lists them. */
#include "nat.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const char *name; int v; } nat_opt_enum;

static const nat_opt_enum port_modes[] = {
	{ "preserve", NAT_PORT_PRESERVE }, { "sequential", NAT_PORT_SEQUENTIAL }, { "random", NAT_PORT_RANDOM },
	{ NULL, 0 },
}, pool_modes[] = {
	{ "paired", NAT_POOL_PAIRED }, { "arbitrary", NAT_POOL_ARBITRARY }, { NULL, 0 },
}, refresh_modes[] = {
	{ "outbound", NAT_REFRESH_OUTBOUND }, { "both", NAT_REFRESH_BOTH }, { NULL, 0 },
}, alg_modes[] = {
	{ "none", NAT_ALG_NONE }, { "sip", NAT_ALG_SIP }, { NULL, 0 },
}, alg_faults[] = {
	{ "no-sdp", NAT_ALGF_NO_SDP }, { "wrong-port", NAT_ALGF_WRONG_PORT },
	{ "no-content-length", NAT_ALGF_NO_CONTENT_LENGTH }, { "no-pinhole", NAT_ALGF_NO_PINHOLE },
	{ "via-only", NAT_ALGF_VIA_ONLY }, { "contact-only", NAT_ALGF_CONTACT_ONLY }, { NULL, 0 },
};

/* In the order the scenario documentation lists them (the "unknown option"
 * message prints them in this order). */
static const char *const keys[] = {
	"mapping", "filtering", "ports", "parity", "pool", "port-range", "udp", "udp-timeout",
	"udp-stream-timeout", "udp-stream-after", "tcp-established", "tcp-transitory", "refresh", "hairpin", "max-bindings", "alg", "alg-port", "alg-fault", NULL
};

const char *const *nat_cfg_keys(void) { return keys; }

static int set_enum(const nat_opt_enum *t, const char *key, const char *val, int *out, char *err, size_t errlen)
{
	char list[200] = "";

	for (const nat_opt_enum *m = t; m->name; m++) {
		if (!strcmp(val, m->name)) {
			*out = m->v;
			return 0;
		}
		strncat(list, m == t ? "" : ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, m->name, sizeof(list) - strlen(list) - 1);
	}
	snprintf(err, errlen, "%s: unknown value '%s' (expected one of: %s)", key, val, list);
	return TV_EINVAL;
}

static int set_bool(const char *key, const char *val, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "on", "yes", "true", "1" }, *const no[] = { "off", "no", "false", "0" };

	for (int i = 0; i < 4; i++) {
		if (!strcmp(val, yes[i]) || !strcmp(val, no[i])) {
			*out = !strcmp(val, yes[i]);
			return 0;
		}
	}
	snprintf(err, errlen, "%s: expected on or off, got '%s'", key, val);
	return TV_EINVAL;
}

/* "eim" for mapping, "eif" for filtering: the other kind's spelling is
 * refused (wanted is 'm' or 'f'); the long names serve both. */
static int set_behav(const char *key, const char *val, char wanted, enum nat_behav *out, char *err, size_t errlen)
{
	size_t n = strlen(val);
	enum nat_behav b;

	if (nat_behav_parse(val, &b) < 0 || (n <= 4 && val[n - 1] == (wanted == 'm' ? 'f' : 'm'))) {
		snprintf(err, errlen, "%s: '%s' (expected %s)", key, val,
			 wanted == 'm' ? "eim, adm or apdm" : "eif, adf or apdf");
		return TV_EINVAL;
	}
	*out = b;
	return 0;
}

/* alg-fault=: a comma-separated list of fault names, "none" adding none
 * (alone, it clears them). via-only and contact-only exclude each other
 * (each leaves the other's header untouched). */
static int set_alg_faults(const char *val, uint32_t *out, char *err, size_t errlen)
{
	uint32_t f = 0;
	const char *p = val;

	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const nat_opt_enum *m = alg_faults;

		while (m->name && (strlen(m->name) != n || strncmp(p, m->name, n)))
			m++;
		if (m->name) {
			f |= (uint32_t)m->v;
		} else if (n != 4 || strncmp(p, "none", 4)) {
			char list[200] = "none";
			for (m = alg_faults; m->name; m++) {
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, m->name, sizeof(list) - strlen(list) - 1);
			}
			snprintf(err, errlen, "alg-fault: unknown fault '%.*s' (expected a comma-separated list of: %s)",
				 (int)(n > 40 ? 40 : n), p, list);
			return TV_EINVAL;
		}
		if (!e)
			break;
		p = e + 1;
	}
	if ((f & NAT_ALGF_VIA_ONLY) && (f & NAT_ALGF_CONTACT_ONLY)) {
		snprintf(err, errlen, "alg-fault: via-only and contact-only exclude each other");
		return TV_EINVAL;
	}
	*out = f;
	return 0;
}

int nat_cfg_set(nat_cfg *cfg, const char *key, const char *val, char *err, size_t errlen)
{
	static const struct { const char *key; size_t off; } times[] = {
		{ "udp-timeout", offsetof(nat_cfg, udp_timeout) },
		{ "udp-stream-timeout", offsetof(nat_cfg, udp_stream_timeout) },
		{ "udp-stream-after", offsetof(nat_cfg, udp_stream_after) },
		{ "tcp-established", offsetof(nat_cfg, tcp_established) },
		{ "tcp-transitory", offsetof(nat_cfg, tcp_transitory) },
	};
	int iv = 0, rc;

	if (!strcmp(key, "mapping"))
		return set_behav(key, val, 'm', &cfg->mapping, err, errlen);
	if (!strcmp(key, "filtering"))
		return set_behav(key, val, 'f', &cfg->filtering, err, errlen);
	if (!strcmp(key, "ports")) {
		if ((rc = set_enum(port_modes, key, val, &iv, err, errlen)) == 0)
			cfg->ports = (enum nat_port_alloc)iv;
		return rc;
	}
	if (!strcmp(key, "pool")) {
		if ((rc = set_enum(pool_modes, key, val, &iv, err, errlen)) == 0)
			cfg->pool = (enum nat_pool)iv;
		return rc;
	}
	if (!strcmp(key, "refresh")) {
		if ((rc = set_enum(refresh_modes, key, val, &iv, err, errlen)) == 0)
			cfg->refresh = (enum nat_refresh)iv;
		return rc;
	}
	if (!strcmp(key, "alg")) {
		if ((rc = set_enum(alg_modes, key, val, &iv, err, errlen)) == 0)
			cfg->alg = (enum nat_alg)iv;
		return rc;
	}
	if (!strcmp(key, "alg-fault"))
		return set_alg_faults(val, &cfg->alg_faults, err, errlen);
	if (!strcmp(key, "alg-port")) {
		unsigned p;
		char tail;
		if (sscanf(val, "%u%c", &p, &tail) != 1 || p == 0 || p > 65535 || val[0] < '0' || val[0] > '9') {
			snprintf(err, errlen, "alg-port: expected a port 1-65535, got '%s'", val);
			return TV_EINVAL;
		}
		cfg->alg_port = (uint16_t)p;
		return 0;
	}
	if (!strcmp(key, "parity"))
		return set_bool(key, val, &cfg->parity, err, errlen);
	if (!strcmp(key, "hairpin"))
		return set_bool(key, val, &cfg->hairpin, err, errlen);
	if (!strcmp(key, "udp")) {
		if (nat_cfg_udp_preset(cfg, val) == 0)
			return 0;
		snprintf(err, errlen, "udp: unknown preset '%s' (expected linux, openwrt or rfc4787)", val);
		return TV_EINVAL;
	}
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		if (strcmp(key, times[i].key))
			continue;
		if (tv_time_parse(val, (tv_time *)((char *)cfg + times[i].off)) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a duration (e.g. 30s, 250ms, 2h, 4min)", key, val);
			return TV_EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "max-bindings")) {
		char *end;
		unsigned long long m;
		errno = 0;
		m = strtoull(val, &end, 10);
		if (!val[0] || *end || errno || val[0] == '-') {
			snprintf(err, errlen, "%s: '%s' is not a non-negative integer", key, val);
			return TV_EINVAL;
		}
		cfg->max_bindings = (uint32_t)m;
		return 0;
	}
	if (!strcmp(key, "port-range")) {
		unsigned lo, hi;
		char tail;
		if (sscanf(val, "%u-%u%c", &lo, &hi, &tail) != 2 || lo == 0 || lo > hi || hi > 65535) {
			snprintf(err, errlen, "port-range: expected LO-HI within 1-65535, got '%s'", val);
			return TV_EINVAL;
		}
		cfg->port_lo = (uint16_t)lo;
		cfg->port_hi = (uint16_t)hi;
		return 0;
	}
	{
		char list[400] = "";
		for (int i = 0; keys[i]; i++) {
			strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, keys[i], sizeof(list) - strlen(list) - 1);
		}
		snprintf(err, errlen, "unknown NAT option '%s' (expected one of: %s)", key, list);
	}
	return TV_ENOENT;
}

int nat_cfg_set_many(nat_cfg *cfg, int n, const char *const *key, const char *const *val, char *err, size_t errlen)
{
	/* The preset first, so that udp-timeout= and udp-stream-timeout=
	 * refine it wherever they are written. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			int rc;
			if ((pass == 0) != !strcmp(key[i], "udp"))
				continue;
			if ((rc = nat_cfg_set(cfg, key[i], val[i], err, errlen)) < 0)
				return rc;
		}
	}
	return 0;
}
