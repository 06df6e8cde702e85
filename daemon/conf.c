/* conf.c - reading traverse-proxy's configuration file (conf.h). */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%d: %s", path, line, msg);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* The daemon's own keys; anything else goes to proxy_cfg_set(). */
static int set_key(tpd_conf *c, const char *k, const char *v, char *msg, size_t ml, unsigned *seen)
{
	static const struct { const char *name; int v; } levels[] = {
		{ "error", TPD_ERR }, { "warn", TPD_WARN }, { "info", TPD_INFO }, { "debug", TPD_DEBUG },
	};

	if (!strcmp(k, "access") || !strcmp(k, "core")) {
		tv_ip ip;
		if (tv_ip_parse(v, &ip) < 0 || !ip.v4) {
			snprintf(msg, ml, "%s: '%s' is not an IPv4 address", k, v);
			return -1;
		}
		*(k[0] == 'a' ? &c->pc.access_ip : &c->pc.core_ip) = ip;
		*seen |= k[0] == 'a' ? 1 : 2;
		return 0;
	}
	if (!strcmp(k, "softswitch")) {
		if (tv_ep_parse(v, &c->pc.softswitch, true) < 0 || !c->pc.softswitch.ip.v4) {
			snprintf(msg, ml, "softswitch: '%s' is not ADDRESS[:PORT]", v);
			return -1;
		}
		if (!c->pc.softswitch.port)
			c->pc.softswitch.port = 5060;
		*seen |= 4;
		return 0;
	}
	if (!strcmp(k, "sip-port")) {
		char *end;
		unsigned long u = strtoul(v, &end, 10);
		if (!v[0] || *end || u < 1 || u > 65535) {
			snprintf(msg, ml, "sip-port: 1-65535, got '%s'", v);
			return -1;
		}
		c->pc.sip_port = (uint16_t)u;
		return 0;
	}
	if (!strcmp(k, "control")) {
		if (strlen(v) >= sizeof(c->control)) {
			snprintf(msg, ml, "control: a UNIX socket path of at most %zu bytes", sizeof(c->control) - 1);
			return -1;
		}
		snprintf(c->control, sizeof(c->control), "%s", strcmp(v, "off") ? v : "");
		return 0;
	}
	if (!strcmp(k, "metrics")) {
		c->metrics_on = strcmp(v, "off") != 0;
		if (c->metrics_on && (tv_ep_parse(v, &c->metrics, false) < 0 || !c->metrics.port)) {
			snprintf(msg, ml, "metrics: ADDRESS:PORT or off, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(k, "accounting")) {
		if (strlen(v) >= sizeof(c->accounting)) {
			snprintf(msg, ml, "accounting: path too long");
			return -1;
		}
		snprintf(c->accounting, sizeof(c->accounting), "%s", strcmp(v, "off") ? v : "");
		return 0;
	}
	if (!strcmp(k, "log")) {
		if (strcmp(v, "stderr") && strcmp(v, "syslog")) {
			snprintf(msg, ml, "log: stderr or syslog, got '%s'", v);
			return -1;
		}
		c->log = v[1] == 't' ? TPD_LOG_STDERR : TPD_LOG_SYSLOG;
		return 0;
	}
	if (!strcmp(k, "log-level")) {
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
			if (!strcmp(v, levels[i].name)) {
				c->level = (enum tpd_log_level)levels[i].v;
				return 0;
			}
		snprintf(msg, ml, "log-level: error, warn, info or debug, got '%s'", v);
		return -1;
	}
	return proxy_cfg_set(&c->pc, k, v, msg, ml) < 0 ? -1 : 0;
}

int tpd_conf_load(const char *path, tpd_conf *c, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char buf[1024];
	unsigned seen = 0;
	int line = 0;

	memset(c, 0, sizeof(*c));
	proxy_cfg_default(&c->pc);
	c->log = TPD_LOG_STDERR;
	c->level = TPD_INFO;
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), fp)) {
		char msg[300], *k, *v, *eq, *hash;

		line++;
		if (!strchr(buf, '\n') && !feof(fp)) {
			fclose(fp);
			return bad(err, errlen, path, line, "line longer than %zu bytes", sizeof(buf) - 2);
		}
		hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		k = trim(buf);
		if (!*k)
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			fclose(fp);
			return bad(err, errlen, path, line, "expected 'key = value', got '%s'", k);
		}
		*eq = 0;
		v = trim(eq + 1);
		k = trim(k);
		if (!*k || !*v) {
			fclose(fp);
			return bad(err, errlen, path, line, "expected 'key = value' with both parts");
		}
		if (set_key(c, k, v, msg, sizeof(msg), &seen) < 0) {
			fclose(fp);
			return bad(err, errlen, path, line, "%s", msg);
		}
	}
	fclose(fp);
	if ((seen & 7) != 7)
		return bad(err, errlen, path, line, "missing %s (access, core and softswitch are required)",
			   !(seen & 1) ? "access" : !(seen & 2) ? "core" : "softswitch");
	if (c->pc.access_ip.v4 == c->pc.core_ip.v4 && c->pc.sip_port >= c->pc.core_sig_lo &&
	    c->pc.sip_port <= c->pc.core_sig_hi)
		return bad(err, errlen, path, line, "sip-port %u lies inside sig-ports %u-%u on the same address",
			   c->pc.sip_port, c->pc.core_sig_lo, c->pc.core_sig_hi);
	if (c->pc.access_ip.v4 == c->pc.core_ip.v4)
		return bad(err, errlen, path, line, "access and core must be different addresses "
			   "(the proxy tells the two sides apart by address)");
	snprintf(c->path, sizeof(c->path), "%s", path);
	return 0;
}

void tpd_conf_fixed_diff(const tpd_conf *a, const tpd_conf *b, char *out, size_t cap)
{
	struct { const char *name; bool differs; } f[] = {
		{ "access", a->pc.access_ip.v4 != b->pc.access_ip.v4 },
		{ "core", a->pc.core_ip.v4 != b->pc.core_ip.v4 },
		{ "sip-port", a->pc.sip_port != b->pc.sip_port },
		{ "softswitch", !tv_ep_eq(&a->pc.softswitch, &b->pc.softswitch) },
		{ "media-ports", a->pc.media_lo != b->pc.media_lo || a->pc.media_hi != b->pc.media_hi },
		{ "sig-ports", a->pc.core_sig_lo != b->pc.core_sig_lo || a->pc.core_sig_hi != b->pc.core_sig_hi },
		{ "control", strcmp(a->control, b->control) != 0 },
		{ "metrics", a->metrics_on != b->metrics_on || !tv_ep_eq(&a->metrics, &b->metrics) },
		{ "log", a->log != b->log },
		{ "trust", a->pc.trust != b->pc.trust },
		{ "topology-hiding", a->pc.topology_hiding != b->pc.topology_hiding },
		{ "core-tcp", a->pc.core_tcp != b->pc.core_tcp },
	};

	out[0] = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].differs)
			continue;
		strncat(out, out[0] ? ", " : "", cap - strlen(out) - 1);
		strncat(out, f[i].name, cap - strlen(out) - 1);
	}
}
