/* scn_netns.h - live runs inside a network namespace (scn_netns.c). */
#ifndef TV_SCN_NETNS_H
#define TV_SCN_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#include "tv.h"

/* Enter namespace NAME (/run/netns/NAME), or a new one of the run's own if
 * name is NULL; bring lo up and make the trap device (tvtrap, the default
 * route). 0, or -1 with the reason in err. Once per process, before any
 * socket is made. */
int netns_enter(const char *name, char *err, size_t cap);
bool netns_on(void);
/* A TUN device NAME in the current namespace (IPv4 packets, no header,
 * non-blocking): its descriptor, or -1 with err. It goes when closed. */
int netns_tun_open(const char *name, char *err, size_t cap);
/* The trap's TUN descriptor (non-blocking; IPv4 packets, no header), or -1. */
int netns_trap_fd(void);
/* A new anonymous namespace, entered: its descriptor (the namespace lives
 * as long as it or a process in it), with the run's own in *orig to come
 * back to with netns_leave(). -1 with err (nothing changed). */
int netns_unshare(int *orig, char *err, size_t cap);
/* Back to orig (closed). 0, or -1 with err if setns failed. */
int netns_leave(int orig, char *err, size_t cap);
/* Write val to a file under /proc/sys; 0 or -1 with err. */
int netns_sysctl(const char *path, const char *val, char *err, size_t cap);
/* Make ip local in the namespace (a /32 on lo); 0 or -1 with err. */
int netns_addr_add(const tv_ip *ip, char *err, size_t cap);
/* Run `ip ARGS... NULL` / `PROG ARGS... NULL` in the current namespace:
 * 0, or -1 with the command and its complaint in err. */
int netns_ip(char *err, size_t cap, ...);
int netns_run(char *err, size_t cap, const char *prog, ...);

#endif
