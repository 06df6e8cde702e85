/* proxy_stats.c - the proxy's counters and gauges by name, from one table:
 * the scenario `expect proxy` statement, traverse-proxy's control socket
 * and its Prometheus endpoint all read proxy_stats through it. */
#include "proxy.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define C(name, f) { name, offsetof(proxy_stats, f), sizeof(((proxy_stats *)0)->f), false }
#define G(name, f) { name, offsetof(proxy_stats, f), sizeof(((proxy_stats *)0)->f), true }

static const struct stat_def {
	const char *name;
	size_t off, size;
	bool gauge;
} defs[] = {
	G("bindings", bindings), G("legs", legs), G("streams", streams),
	G("ports-access", ports_access), G("ports-core", ports_core), G("untrusted", untrusted),
	C("registers", registers), C("invites", invites), C("byes", byes), C("cancels", cancels),
	C("calls-started", calls_started), C("calls-ended", calls_ended), C("no-ports", no_ports),
	C("relayed-to-core", relayed_to_core), C("relayed-to-access", relayed_to_access),
	C("bytes-to-core", bytes_to_core), C("bytes-to-access", bytes_to_access),
	C("latches", latches), C("relatches", relatches), C("ka-sent", ka_sent),
	C("ka-answered", ka_answered), C("dead", dead), C("unregistered", unregistered),
	C("session-expired", session_expired), C("media-expired", media_expired), C("records", records),
	C("sip-in-access", sip_in_access), C("sip-in-core", sip_in_core),
	C("sip-out-access", sip_out_access), C("sip-out-core", sip_out_core),
	C("sip-unfolded", sip_unfolded), C("sip-trailing", sip_trailing), C("sip-replies", sip_replies),
	C("pongs", pongs), C("stun-answered", stun_answered), C("core-tcp", core_tcp),
	C("core-udp-large", core_udp_large), C("moved", moved), C("untrusted-expired", untrusted_expired),
	C("timer-c-cancels", timer_c_cancels), C("timer-c-408", timer_c_408),
	C("limit-legs", limit_legs), C("limit-untrusted", limit_untrusted),
	C("vias-hidden", vias_hidden), C("vias-restored", vias_restored), C("via-table-full", via_table_full),
	C("hdrs-removed", hdrs_removed), C("hdrs-rewritten", hdrs_rewritten), C("ice-removed", ice_removed),
	C("multipart-sdp", multipart_sdp),
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

int proxy_stat_count(void) { return (int)(NDEFS + PX_DROP__COUNT); }

/* Names of drops are "drop." and proxy_drop_name(). */
const char *proxy_stat_name(int i, char *buf, size_t cap)
{
	if (i < 0 || i >= proxy_stat_count())
		return NULL;
	if ((size_t)i < NDEFS)
		return defs[i].name;
	snprintf(buf, cap, "drop.%s", proxy_drop_name((enum px_drop)(i - (int)NDEFS)));
	return buf;
}

bool proxy_stat_is_gauge(int i) { return i >= 0 && (size_t)i < NDEFS && defs[i].gauge; }

uint64_t proxy_stat_value(const proxy_stats *s, int i)
{
	const char *p;

	if (i < 0 || i >= proxy_stat_count())
		return 0;
	if ((size_t)i >= NDEFS)
		return s->drop[i - (int)NDEFS];
	p = (const char *)s + defs[i].off;
	if (defs[i].size == sizeof(uint32_t)) {
		uint32_t v;
		memcpy(&v, p, sizeof(v));
		return v;
	}
	{
		uint64_t v;
		memcpy(&v, p, sizeof(v));
		return v;
	}
}

void proxy_stat_set(proxy_stats *s, int i, uint64_t v)
{
	char *p;

	if (i < 0 || i >= proxy_stat_count())
		return;
	if ((size_t)i >= NDEFS) {
		s->drop[i - (int)NDEFS] = v;
		return;
	}
	p = (char *)s + defs[i].off;
	if (defs[i].size == sizeof(uint32_t)) {
		uint32_t w = (uint32_t)v;
		memcpy(p, &w, sizeof(w));
	} else {
		memcpy(p, &v, sizeof(v));
	}
}

int proxy_stat_find(const char *name)
{
	char buf[64];

	for (int i = 0; i < proxy_stat_count(); i++)
		if (!strcmp(proxy_stat_name(i, buf, sizeof(buf)), name))
			return i;
	return -1;
}
