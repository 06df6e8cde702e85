/* tv.h - types shared by every Traverse module: time, endpoints, errors.
 *
 * Time is virtual or real microseconds since an arbitrary epoch; engines
 * receive it as an argument and never read a clock themselves.
 * Addresses are IPv4 today; the endpoint type carries a family so IPv6 can
 * be added without touching callers that only copy endpoints around. */
#ifndef TV_H
#define TV_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef int64_t tv_time;            /* microseconds */
#define TV_US(x) ((tv_time)(x))
#define TV_MS(x) ((tv_time)(x) * 1000)
#define TV_SEC(x) ((tv_time)(x) * 1000000)
#define TV_NEVER INT64_MAX

enum { TV_AF_INET = 4, TV_AF_INET6 = 6 };
enum { TV_PROTO_ICMP = 1, TV_PROTO_TCP = 6, TV_PROTO_UDP = 17 };

/* An IP address. v4 is stored in host byte order for cheap hashing and
 * comparison; v6 is network order bytes. */
typedef struct tv_ip {
	uint8_t af;
	union {
		uint32_t v4;
		uint8_t v6[16];
	};
} tv_ip;

/* A transport endpoint: address and port. */
typedef struct tv_ep {
	tv_ip ip;
	uint16_t port;
} tv_ep;

/* Error codes: functions return 0 or a negative TV_E*. */
enum {
	TV_OK = 0,
	TV_EINVAL = -1,     /* malformed input */
	TV_ENOMEM = -2,
	TV_EEXIST = -3,
	TV_ENOENT = -4,
	TV_EFULL = -5,      /* a table or pool is exhausted */
	TV_ESTATE = -6,     /* operation not allowed in the current state */
	TV_ENOSPC = -7,     /* caller's buffer too small */
	TV_EMSGSIZE = -8,   /* larger than the protocol can carry (a UDP payload
			     * over 65,507 bytes); nothing was sent */
};

#define TV_IP_STRLEN 46
#define TV_EP_STRLEN 54

static inline tv_ip tv_ip4(uint32_t host_order) {
	tv_ip ip = { .af = TV_AF_INET };
	ip.v4 = host_order;
	return ip;
}
static inline tv_ep tv_ep4(uint32_t host_order, uint16_t port) {
	tv_ep ep = { .ip = tv_ip4(host_order), .port = port };
	return ep;
}
bool tv_ip_eq(const tv_ip *a, const tv_ip *b);
bool tv_ep_eq(const tv_ep *a, const tv_ep *b);
/* Parse "a.b.c.d" (returns 0) or fail with TV_EINVAL. */
int tv_ip_parse(const char *s, tv_ip *out);
/* Parse "a.b.c.d:port"; port may be omitted when allow_noport is set. */
int tv_ep_parse(const char *s, tv_ep *out, bool allow_noport);
/* Format into buf (>= TV_IP_STRLEN / TV_EP_STRLEN); returns buf. */
const char *tv_ip_fmt(const tv_ip *ip, char *buf);
const char *tv_ep_fmt(const tv_ep *ep, char *buf);
/* Parse a duration: "30s", "250ms", "2h", "4min", "1.5s", "10us".
 * A bare number is seconds. */
int tv_time_parse(const char *s, tv_time *out);
/* Format a duration compactly ("1.250s"). */
const char *tv_time_fmt(tv_time t, char *buf, size_t cap);

#endif
