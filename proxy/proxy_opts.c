/* proxy_opts.c - the proxy's options by name, from one table: the scenario
 * `proxy` statement (runner/scn_sip.c) and traverse-proxy's config file
 * (proxy/daemon_conf.c) both set a proxy_cfg through proxy_cfg_set(), so an
 * option has one spelling, one range and one error message everywhere.
 * docs/proxy.md lists them. */
#include "proxy.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { O_TIME, O_U32, O_BOOL, O_ENUM, O_RANGE };

typedef struct { const char *name; int v; } opt_enum;

static const opt_enum ka_modes[] = {
	{ "options", PX_KA_OPTIONS }, { "crlf", PX_KA_CRLF }, { "off", PX_KA_OFF }, { NULL, 0 },
}, latch_modes[] = {
	{ "signaling-ip", PX_LATCH_SIGNALING_IP }, { "any", PX_LATCH_ANY }, { NULL, 0 },
}, trust_modes[] = {
	{ "register", PX_TRUST_REGISTER }, { "any", PX_TRUST_ANY }, { NULL, 0 },
}, alloc_modes[] = {
	{ "random", 1 }, { "sequential", 0 }, { NULL, 0 },
}, media_trust_modes[] = {
	{ "stream", PX_MEDIA_STREAM }, { "ip", PX_MEDIA_IP }, { NULL, 0 },
};

typedef struct opt_def {
	const char *key;
	enum opt_type type;
	size_t off, size, off2;         /* the field; O_RANGE: lo, then hi at off2 */
	uint64_t lo, hi;                /* O_U32, O_TIME: allowed range (0,0: any) */
	const opt_enum *modes;          /* O_ENUM */
	const char *range_msg;          /* the message when out of range */
} opt_def;

#define OFF(f) offsetof(proxy_cfg, f)
#define FIELD(f) OFF(f), sizeof(((proxy_cfg *)0)->f)
_Static_assert(sizeof(enum px_trust) == sizeof(uint32_t), "option enums are stored as 32 bits");

static const opt_def defs[] = {
	{ "keepalive", O_TIME, FIELD(keepalive_interval), 0, 0, 0, NULL, NULL },
	{ "keepalive-method", O_ENUM, FIELD(keepalive), 0, 0, 0, ka_modes, NULL },
	{ "keepalive-misses", O_U32, FIELD(keepalive_misses), 0, 1, 100, NULL, "keepalive-misses: 1-100" },
	{ "latch", O_ENUM, FIELD(latch), 0, 0, 0, latch_modes, NULL },
	{ "latch-window", O_TIME, FIELD(latch_window), 0, 0, 0, NULL, NULL },
	{ "strict", O_BOOL, FIELD(strict_source), 0, 0, 0, NULL, NULL },
	{ "media-timeout", O_TIME, FIELD(media_timeout), 0, 0, 0, NULL, NULL },
	{ "media-ports", O_RANGE, FIELD(media_lo), OFF(media_hi), 0, 0, NULL, NULL },
	{ "sig-ports", O_RANGE, FIELD(core_sig_lo), OFF(core_sig_hi), 0, 0, NULL, NULL },
	{ "max-bindings", O_U32, FIELD(max_bindings), 0, 0, UINT32_MAX, NULL, NULL },
	{ "core-tcp", O_BOOL, FIELD(core_tcp), 0, 0, 0, NULL, NULL },
	{ "trust", O_ENUM, FIELD(trust), 0, 0, 0, trust_modes, NULL },
	{ "untrusted-hold", O_TIME, FIELD(untrusted_hold), 0, TV_SEC(1), INT64_MAX, NULL, "untrusted-hold: at least 1s" },
	{ "media-trust", O_ENUM, FIELD(media_trust), 0, 0, 0, media_trust_modes, NULL },
	{ "port-alloc", O_ENUM, FIELD(random_ports), 0, 0, 0, alloc_modes, NULL },
	{ "port-quarantine", O_TIME, FIELD(port_quarantine), 0, 0, 0, NULL, NULL },
	{ "timer-c", O_TIME, FIELD(timer_c), 0, 0, 0, NULL, NULL },
	{ "max-legs", O_U32, FIELD(max_legs), 0, 0, 1000000, NULL, "max-legs: 0 (no limit) to 1000000" },
	{ "max-untrusted", O_U32, FIELD(max_untrusted), 0, 0, 1000000, NULL, "max-untrusted: 0 (no limit) to 1000000" },
	{ "max-untrusted-per-ip", O_U32, FIELD(max_untrusted_per_ip), 0, 0, 1000000, NULL,
	  "max-untrusted-per-ip: 0 (no limit) to 1000000" },
	{ "rate", O_U32, FIELD(rate), 0, 0, 1000000, NULL, "rate: 0 (no limit) to 1000000" },
	{ "topology-hiding", O_BOOL, FIELD(topology_hiding), 0, 0, 0, NULL, NULL },
	{ "quality-delay", O_TIME, FIELD(quality_delay), 0, 0, TV_SEC(10), NULL, "quality-delay: 0 to 10s" },
};

/* Store v in a field: bool, uint16_t, int-sized (int, uint32_t, the
 * option enums, all non-negative here) or tv_time, by its size. */
static void store(proxy_cfg *cfg, size_t off, size_t size, int64_t v)
{
	char *f = (char *)cfg + off;

	if (size == sizeof(bool)) {
		*(bool *)f = v != 0;
	} else if (size == sizeof(uint16_t)) {
		uint16_t x = (uint16_t)v;
		memcpy(f, &x, sizeof(x));
	} else if (size == sizeof(uint32_t)) {
		uint32_t x = (uint32_t)v;
		memcpy(f, &x, sizeof(x));
	} else {
		memcpy(f, &v, sizeof(v));
	}
}

static const char *const *keys_make(void)
{
	static const char *keys[sizeof(defs) / sizeof(defs[0]) + 1];

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		keys[i] = defs[i].key;
	return keys;
}

const char *const *proxy_cfg_keys(void)
{
	static const char *const *keys;

	if (!keys)
		keys = keys_make();
	return keys;
}

static int set_enum(proxy_cfg *cfg, const opt_def *d, const char *val, char *err, size_t errlen)
{
	char list[200] = "";

	for (const opt_enum *m = d->modes; m->name; m++) {
		if (!strcmp(val, m->name)) {
			store(cfg, d->off, d->size, m->v);
			return 0;
		}
		strncat(list, m == d->modes ? "" : ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, m->name, sizeof(list) - strlen(list) - 1);
	}
	snprintf(err, errlen, "%s: unknown value '%s' (expected one of: %s)", d->key, val, list);
	return TV_EINVAL;
}

int proxy_cfg_set(proxy_cfg *cfg, const char *key, const char *val, char *err, size_t errlen)
{
	const opt_def *d = NULL;

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (!strcmp(defs[i].key, key))
			d = &defs[i];
	if (!d) {
		snprintf(err, errlen, "unknown proxy option '%s'", key);
		return TV_ENOENT;
	}
	switch (d->type) {
	case O_TIME: {
		tv_time t;
		if (tv_time_parse(val, &t) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a duration (e.g. 30s, 250ms, 2h, 4min)", key, val);
			return TV_EINVAL;
		}
		if ((d->lo || d->hi) && ((uint64_t)t < d->lo || (uint64_t)t > d->hi)) {
			snprintf(err, errlen, "%s", d->range_msg);
			return TV_EINVAL;
		}
		if (!strcmp(key, "timer-c") && t && t <= TV_SEC(180)) {
			snprintf(err, errlen, "timer-c: more than 3 minutes (RFC 3261 16.6), or 0 for off");
			return TV_EINVAL;
		}
		store(cfg, d->off, d->size, t);
		return 0;
	}
	case O_U32: {
		char *end;
		unsigned long long u;
		errno = 0;
		u = strtoull(val, &end, 10);
		if (!val[0] || *end || errno || val[0] == '-') {
			snprintf(err, errlen, "%s: '%s' is not a non-negative integer", key, val);
			return TV_EINVAL;
		}
		if (u < d->lo || u > d->hi) {
			snprintf(err, errlen, "%s", d->range_msg ? d->range_msg : "out of range");
			return TV_EINVAL;
		}
		store(cfg, d->off, d->size, (int64_t)u);
		return 0;
	}
	case O_BOOL: {
		static const char *const yes[] = { "on", "yes", "true", "1" }, *const no[] = { "off", "no", "false", "0" };
		for (int i = 0; i < 4; i++) {
			if (!strcmp(val, yes[i]) || !strcmp(val, no[i])) {
				store(cfg, d->off, d->size, !strcmp(val, yes[i]));
				return 0;
			}
		}
		snprintf(err, errlen, "%s: expected on or off, got '%s'", key, val);
		return TV_EINVAL;
	}
	case O_ENUM:
		return set_enum(cfg, d, val, err, errlen);
	case O_RANGE: {
		unsigned a, b;
		char tail;
		if (sscanf(val, "%u-%u%c", &a, &b, &tail) != 2 || !a || a > b || b > 65535) {
			snprintf(err, errlen, "%s: expected LO-HI within 1-65535, got '%s'", key, val);
			return TV_EINVAL;
		}
		store(cfg, d->off, d->size, a);
		store(cfg, d->off2, d->size, b);
		return 0;
	}
	}
	return TV_EINVAL;
}
