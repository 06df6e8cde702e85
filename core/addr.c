/* addr.c - endpoint and duration parsing/formatting. */
#include "tv.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool tv_ip_eq(const tv_ip *a, const tv_ip *b)
{
	if (a->af != b->af)
		return false;
	if (a->af == TV_AF_INET)
		return a->v4 == b->v4;
	return memcmp(a->v6, b->v6, 16) == 0;
}

bool tv_ep_eq(const tv_ep *a, const tv_ep *b)
{
	return a->port == b->port && tv_ip_eq(&a->ip, &b->ip);
}

int tv_ip_parse(const char *s, tv_ip *out)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		*out = tv_ip4(ntohl(a4.s_addr));
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		memset(out, 0, sizeof(*out));
		out->af = TV_AF_INET6;
		memcpy(out->v6, &a6, 16);
		return 0;
	}
	return TV_EINVAL;
}

int tv_ep_parse(const char *s, tv_ep *out, bool allow_noport)
{
	char buf[64];
	const char *colon = strrchr(s, ':');
	size_t n;
	char *end;
	unsigned long port;

	if (!colon) {
		if (!allow_noport)
			return TV_EINVAL;
		out->port = 0;
		return tv_ip_parse(s, &out->ip);
	}
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(buf))
		return TV_EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (tv_ip_parse(buf, &out->ip) < 0)
		return TV_EINVAL;
	if (colon[1] == '\0')
		return TV_EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port > 65535)
		return TV_EINVAL;
	out->port = (uint16_t)port;
	return 0;
}

const char *tv_ip_fmt(const tv_ip *ip, char *buf)
{
	if (ip->af == TV_AF_INET) {
		snprintf(buf, TV_IP_STRLEN, "%u.%u.%u.%u", ip->v4 >> 24,
			 (ip->v4 >> 16) & 255, (ip->v4 >> 8) & 255, ip->v4 & 255);
	} else if (ip->af == TV_AF_INET6) {
		inet_ntop(AF_INET6, ip->v6, buf, TV_IP_STRLEN);
	} else {
		snprintf(buf, TV_IP_STRLEN, "-");
	}
	return buf;
}

const char *tv_ep_fmt(const tv_ep *ep, char *buf)
{
	char ip[TV_IP_STRLEN];

	tv_ip_fmt(&ep->ip, ip);
	if (ep->ip.af == TV_AF_INET6)
		snprintf(buf, TV_EP_STRLEN, "[%s]:%u", ip, ep->port);
	else
		snprintf(buf, TV_EP_STRLEN, "%s:%u", ip, ep->port);
	return buf;
}

/* Longest suffixes first so "ms" and "min" win over "m" and "s". */
static const struct {
	const char *suffix;
	double scale;
} time_units[] = {
	{ "min", 60e6 }, { "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 }, { "h", 3600e6 },
};

int tv_time_parse(const char *s, tv_time *out)
{
	double total = 0;
	const char *p = s;

	if (!*s)
		return TV_EINVAL;
	while (*p) {
		char *end;
		double v;
		size_t i, n = sizeof(time_units) / sizeof(time_units[0]);

		if (*p < '0' || *p > '9')
			return TV_EINVAL;
		v = strtod(p, &end);
		if (end == p || v < 0)
			return TV_EINVAL;
		if (*end == '\0') {
			if (p != s)     /* a bare number only on its own: "30" is 30 s */
				return TV_EINVAL;
			total = v * 1e6;
			break;
		}
		for (i = 0; i < n; i++) {
			size_t l = strlen(time_units[i].suffix);
			if (strncmp(end, time_units[i].suffix, l) == 0) {
				total += v * time_units[i].scale;
				p = end + l;
				break;
			}
		}
		if (i == n)
			return TV_EINVAL;
	}
	if (total > 9e18)
		return TV_EINVAL;
	*out = (tv_time)(total + 0.5);
	return 0;
}

const char *tv_time_fmt(tv_time t, char *buf, size_t cap)
{
	if (t == TV_NEVER)
		snprintf(buf, cap, "never");
	else if (t % 1000000 == 0)
		snprintf(buf, cap, "%llds", (long long)(t / 1000000));
	else
		snprintf(buf, cap, "%.3fs", (double)t / 1e6);
	return buf;
}
