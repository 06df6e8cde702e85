/* ctl_json.c - the control socket's JSON lines (ctl_json.h). */
#include "ctl_json.h"
#include "sip_peek.h"

#include <string.h>

#include <stdio.h>

/* ,"key":"a.b.c.d:port", or null when not known yet */
static void put_ep(jbuf *j, const char *key, const tv_ep *ep)
{
	char b[TV_EP_STRLEN];

	jb_raw(j, ",");
	jb_key(j, key);
	if (ep->port)
		jb_str(j, tv_ep_fmt(ep, b));
	else
		jb_raw(j, "null");
}

void ctl_json_stats(const proxy *px, jbuf *j)
{
	const proxy_stats *s = proxy_get_stats(px);
	char nb[64];

	jb_raw(j, "{\"stats\":{");
	for (int i = 0; i < proxy_stat_count(); i++) {
		if (i)
			jb_raw(j, ",");
		jb_key(j, proxy_stat_name(i, nb, sizeof(nb)));
		jb_fmt(j, "%llu", (unsigned long long)proxy_stat_value(s, i));
	}
	jb_raw(j, "}}\n");
}

static void one_binding(void *arg, const proxy_binding_info *b)
{
	jbuf *j = arg;

	if (j->n++)
		jb_raw(j, ",");
	jb_raw(j, "{");
	jb_key(j, "user");
	jb_str(j, b->user ? b->user : "");
	put_ep(j, "nat", &b->nat);
	put_ep(j, "contact", &b->contact);
	put_ep(j, "core", &b->core);
	jb_fmt(j, ",\"registered\":%s,\"transport\":\"%s\",\"ka_sent\":%llu,\"ka_answered\":%llu,\"ka_misses\":%d",
	       b->registered ? "true" : "false", b->tcp ? "tcp" : "udp", (unsigned long long)b->ka_sent,
	       (unsigned long long)b->ka_answered, b->ka_misses);
	if (b->ka_in >= 0)
		jb_fmt(j, ",\"ka_in_s\":%.3f}", (double)b->ka_in / 1e6);
	else
		jb_raw(j, ",\"ka_in_s\":null}");
}

/* ,"key":N.NNN, or null when v < 0 (not known) */
static void put_ms(jbuf *j, const char *key, double v)
{
	jb_raw(j, ",");
	jb_key(j, key);
	if (v < 0)
		jb_raw(j, "null");
	else
		jb_fmt(j, "%.3f", v);
}

/* One direction's measurements and estimate, each key ending in _dir. */
static void put_quality(jbuf *j, const proxy_stream_info *s, const char *dir, const proxy_stream_quality *q)
{
	char k[48];

	jb_fmt(j, ",\"expected_%s\":%llu,\"lost_%s\":%llu,\"loss_%s\":%.6f", dir, (unsigned long long)q->expected,
	       dir, (unsigned long long)q->lost, dir, q->loss);
	snprintf(k, sizeof(k), "jitter_ms_%s", dir);
	put_ms(j, k, q->jitter_ms);
	snprintf(k, sizeof(k), "last_rx_age_ms_%s", dir);
	put_ms(j, k, q->last_rx ? (double)(s->now - q->last_rx) / 1000 : -1);
	snprintf(k, sizeof(k), "delay_ms_%s", dir);
	put_ms(j, k, q->delay_ms);
	if (q->mos < 0) {
		jb_fmt(j, ",\"r_%s\":null,\"mos_%s\":null", dir, dir);
	} else {
		jb_fmt(j, ",\"r_%s\":%.1f,\"mos_%s\":%.2f", dir, q->r, dir, q->mos);
	}
}

static void one_stream(void *arg, const proxy_stream_info *s)
{
	jbuf *j = arg;

	if (j->n++)
		jb_raw(j, ",");
	jb_raw(j, "{");
	jb_key(j, "user");
	jb_str(j, s->user ? s->user : "");
	jb_field(j, "call_id", s->call_id ? s->call_id : "");
	jb_fmt(j, ",\"index\":%d,\"access_port\":%u,\"core_port\":%u", s->index, s->access_port, s->core_port);
	put_ep(j, "sdp", &s->sdp_rtp);
	put_ep(j, "latched_rtp", &s->latched_rtp);
	put_ep(j, "latched_rtcp", &s->latched_rtcp);
	put_ep(j, "core_remote", &s->core_remote);
	jb_fmt(j, ",\"state\":\"%s\",\"pkts_to_core\":%llu,\"pkts_to_access\":%llu,\"bytes_to_core\":%llu,"
	       "\"bytes_to_access\":%llu,\"rtcp_to_core\":%llu,\"rtcp_to_access\":%llu,\"dropped\":%llu,\"held\":%s",
	       s->latched_rtp.port ? "latched" : "learning", (unsigned long long)s->to_core,
	       (unsigned long long)s->to_access, (unsigned long long)s->bytes_to_core,
	       (unsigned long long)s->bytes_to_access, (unsigned long long)s->rtcp_to_core,
	       (unsigned long long)s->rtcp_to_access, (unsigned long long)s->dropped, s->held ? "true" : "false");
	put_quality(j, s, "to_core", &s->q_to_core);
	put_quality(j, s, "to_access", &s->q_to_access);
	jb_raw(j, ",");
	jb_key(j, "codec");
	jb_str(j, s->codec);
	jb_fmt(j, ",\"clock_rate\":%u,\"clock_rate_known\":%s", s->clock_rate, s->clock_known ? "true" : "false");
	put_ms(j, "rtt_ms", s->rtt_ms);
	put_ms(j, "rtt_access_ms", s->rtt_access_ms);
	put_ms(j, "rtt_core_ms", s->rtt_core_ms);
	jb_fmt(j, ",\"delay_source\":\"%s\"}", s->delay_from == 'r' ? "rtcp" : "config");
}

void ctl_json_bindings(const proxy *px, jbuf *j)
{
	jb_raw(j, "{\"bindings\":[");
	j->n = 0;
	proxy_foreach_binding(px, one_binding, j);
	jb_raw(j, "]}\n");
}

void ctl_json_streams(const proxy *px, jbuf *j)
{
	jb_raw(j, "{\"streams\":[");
	j->n = 0;
	proxy_foreach_stream(px, one_stream, j);
	jb_raw(j, "]}\n");
}

void ctl_json_record(const proxy_record *r, jbuf *j)
{
	jb_raw(j, "{\"event\":\"record\"");
	jb_field(j, "user", r->user ? r->user : "");
	jb_field(j, "call_id", r->call_id ? r->call_id : "");
	jb_field(j, "reason", r->reason);
	jb_fmt(j, ",\"duration_s\":%.3f,\"streams\":%d,\"pkts_to_core\":%llu,\"pkts_to_access\":%llu,"
	       "\"bytes_to_core\":%llu,\"bytes_to_access\":%llu}\n",
	       (double)(r->ended - r->started) / 1e6, r->streams, (unsigned long long)r->pkts_to_core,
	       (unsigned long long)r->pkts_to_access, (unsigned long long)r->bytes_to_core,
	       (unsigned long long)r->bytes_to_access);
}

/* A SIP message the proxy received or sent, as the dashboard's call-flow
 * reads it: {"sip":{t, src, dst, hop_from, hop_to, proto, first, call_id,
 * cseq, from, to}}. The proxy's sides are "px" (access) and "px/core", the
 * softswitch "softswitch", a terminal its address. */
static void sip_line(const proxy_event *e, jbuf *j)
{
	sip_peek_text st;
	char a[TV_EP_STRLEN], b[TV_EP_STRLEN];
	const char *d = e->reason ? e->reason : "";
	bool core = !strncmp(d, "core", 4), in = strstr(d, "-in") != NULL;

	if (!sip_peek((const uint8_t *)e->msg, e->len, &st))
		return;
	tv_ep_fmt(&e->src, a);
	tv_ep_fmt(&e->dst, b);
	jb_fmt(j, "{\"sip\":{\"t\":%.6f", (double)e->at / 1e6);
	jb_field(j, "src", a);
	jb_field(j, "dst", b);
	jb_field(j, "hop_from", core ? (in ? "softswitch" : "px/core") : in ? a : "px");
	jb_field(j, "hop_to", core ? (in ? "px/core" : "softswitch") : in ? "px" : b);
	jb_field(j, "proto", e->tcp ? "tcp" : "udp");
	jb_field(j, "first", st.first);
	if (st.call_id[0])
		jb_field(j, "call_id", st.call_id);
	if (st.cseq[0])
		jb_field(j, "cseq", st.cseq);
	if (st.from[0])
		jb_field(j, "from", st.from);
	if (st.to[0])
		jb_field(j, "to", st.to);
	jb_raw(j, "}}\n");
}

void ctl_json_event(const proxy_event *e, jbuf *j)
{
	char a[TV_EP_STRLEN];

	if (e->type == PX_EV_SIP) {
		sip_line(e, j);
		return;
	}

	jb_fmt(j, "{\"event\":\"%s\",\"at_s\":%.6f", proxy_event_name(e->type), (double)e->at / 1e6);
	if (e->user)
		jb_field(j, "user", e->user);
	if (e->call_id)
		jb_field(j, "call_id", e->call_id);
	if (e->reason)
		jb_field(j, "reason", e->reason);
	if (e->type == PX_EV_LATCH || e->type == PX_EV_RELATCH)
		jb_fmt(j, ",\"stream\":%d,\"rtcp\":%s", e->stream, e->rtcp ? "true" : "false");
	if (e->addr.port)
		jb_fmt(j, ",\"addr\":\"%s\"", tv_ep_fmt(&e->addr, a));
	jb_raw(j, "}\n");
}
