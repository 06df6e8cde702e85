/* ctl.c - the control socket (ctl.h, docs/control.md).
 *
 * Requests are one command word per line (no JSON to parse); answers are
 * one JSON object per line. Each client has an output buffer: a slow
 * reader never blocks the loop, and one that lets more than CTL_OUT_MAX
 * pile up is disconnected. */
#include "ctl.h"
#include "ctl_json.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_IN_MAX 256
#define CTL_OUT_MAX (64u << 20)
#define CTL_CLIENTS 32

typedef struct ctl_client {
	tpd_ctl *c;
	int fd;
	char in[CTL_IN_MAX];
	size_t inlen;
	jbuf out;
	size_t sent;
	bool events;            /* subscribed to the event stream */
	bool sip;               /* subscribed to the SIP messages (`sip`) */
} ctl_client;

struct tpd_ctl {
	live_loop *lp;
	proxy *px;
	uint64_t drops_seen[PX_DROP__COUNT];
	int fd;
	char path[108];
	ctl_client *cl[CTL_CLIENTS];
};

static void client_drop(ctl_client *k)
{
	tpd_ctl *c = k->c;

	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->cl[i] == k)
			c->cl[i] = NULL;
	live_loop_unwatch(c->lp, k->fd);
	close(k->fd);
	jb_free(&k->out);
	free(k);
}

/* Write what is buffered; watch for writability while some is left.
 * Returns false if the client was dropped. */
static bool client_flush(ctl_client *k)
{
	while (k->sent < k->out.len) {
		ssize_t n = send(k->fd, k->out.s + k->sent, k->out.len - k->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			client_drop(k);
			return false;
		}
		k->sent += (size_t)n;
	}
	if (k->sent == k->out.len) {
		k->out.len = 0;
		k->sent = 0;
	}
	if (k->out.len - k->sent > CTL_OUT_MAX || k->out.oom) {
		client_drop(k);
		return false;
	}
	live_loop_watch_mod(k->c->lp, k->fd, EPOLLIN | (k->sent < k->out.len ? EPOLLOUT : 0));
	return true;
}

static const char help_text[] =
	"{\"commands\":{\"stats\":\"every counter and gauge\",\"bindings\":\"terminals: user, NAT mapping, "
	"contact, core address, keepalive\",\"streams\":\"media streams of every call leg, with counters\","
	"\"events\":\"keep the connection open; one line per event\",\"sip\":\"keep the connection open; one "
	"line per SIP message the proxy receives or sends\",\"help\":\"this list\"}}\n";

static void handle_line(ctl_client *k, const char *line)
{
	tpd_ctl *c = k->c;
	jbuf *j = &k->out;

	if (!strcmp(line, "stats")) {
		ctl_json_stats(c->px, j);
	} else if (!strcmp(line, "bindings")) {
		ctl_json_bindings(c->px, j);
	} else if (!strcmp(line, "streams")) {
		ctl_json_streams(c->px, j);
	} else if (!strcmp(line, "events")) {
		k->events = true;
		jb_raw(j, "{\"events\":\"subscribed\"}\n");
	} else if (!strcmp(line, "sip")) {
		k->sip = true;
		jb_raw(j, "{\"sip\":\"subscribed\"}\n");
	} else if (!strcmp(line, "help")) {
		jb_raw(j, help_text);
	} else if (line[0]) {
		jb_raw(j, "{");
		jb_key(j, "error");
		jb_str(j, "unknown command (try help)");
		jb_field(j, "command", line);
		jb_raw(j, "}\n");
	}
}

static void on_client(void *arg, int fd, uint32_t events, tv_time now)
{
	ctl_client *k = arg;
	char buf[512];
	ssize_t n;

	(void)now;
	if ((events & EPOLLOUT) && !client_flush(k))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		client_drop(k);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			k->in[k->inlen] = 0;
			if (k->inlen && k->in[k->inlen - 1] == '\r')
				k->in[k->inlen - 1] = 0;
			handle_line(k, k->in);
			k->inlen = 0;
		} else if (k->inlen < CTL_IN_MAX - 1) {
			k->in[k->inlen++] = buf[i];
		} else {
			client_drop(k);         /* no command is that long */
			return;
		}
	}
	client_flush(k);
}

static void on_accept(void *arg, int fd, uint32_t events, tv_time now)
{
	tpd_ctl *c = arg;

	(void)events;
	(void)now;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		ctl_client *k;
		int slot = -1;

		if (cfd < 0)
			return;
		for (int i = 0; i < CTL_CLIENTS; i++)
			if (!c->cl[i]) {
				slot = i;
				break;
			}
		k = slot < 0 ? NULL : calloc(1, sizeof(*k));
		if (!k || live_loop_watch(c->lp, cfd, EPOLLIN, on_client, k) < 0) {
			close(cfd);     /* too many clients */
			free(k);
			continue;
		}
		k->c = c;
		k->fd = cfd;
		c->cl[slot] = k;
	}
}

tpd_ctl *tpd_ctl_new(live_loop *lp, const char *path, proxy *px, int *err)
{
	tpd_ctl *c = calloc(1, sizeof(*c));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	c->lp = lp;
	c->px = px;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(path);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(c->fd, 16) < 0 ||
	    live_loop_watch(lp, c->fd, EPOLLIN, on_accept, c) < 0) {
		*err = -errno;
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	*err = 0;
	return c;
}

void tpd_ctl_free(tpd_ctl *c)
{
	if (!c)
		return;
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->cl[i]) {
			client_flush(c->cl[i]);
			if (c->cl[i])
				client_drop(c->cl[i]);
		}
	live_loop_unwatch(c->lp, c->fd);
	close(c->fd);
	unlink(c->path);
	free(c);
}

/* One line to every subscriber of `events` (sip false) or of `sip`
 * (formatted once). */
static void broadcast_to(tpd_ctl *c, jbuf *line, bool sip)
{
	if (line->oom || !line->len)
		return;
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->cl[i] && (sip ? c->cl[i]->sip : c->cl[i]->events)) {
			ctl_client *k = c->cl[i];
			jb_raw(&k->out, line->s);
			client_flush(k);
		}
}

static void broadcast(tpd_ctl *c, jbuf *line) { broadcast_to(c, line, false); }

static bool any_subscriber_to(const tpd_ctl *c, bool sip)
{
	for (int i = 0; i < CTL_CLIENTS; i++)
		if (c->cl[i] && (sip ? c->cl[i]->sip : c->cl[i]->events))
			return true;
	return false;
}

static bool any_subscriber(const tpd_ctl *c) { return any_subscriber_to(c, false); }

void tpd_ctl_record(tpd_ctl *c, const proxy_record *r)
{
	jbuf j = { 0 };

	if (!any_subscriber(c))
		return;
	ctl_json_record(r, &j);
	broadcast(c, &j);
	jb_free(&j);
}

void tpd_ctl_event(tpd_ctl *c, const proxy_event *e)
{
	jbuf j = { 0 };
	bool sip = e->type == PX_EV_SIP;

	if (!any_subscriber_to(c, sip))
		return;
	ctl_json_event(e, &j);
	broadcast_to(c, &j, sip);
	jb_free(&j);
}

/* Drops are counted per packet; subscribers get them summed once a second. */
void tpd_ctl_tick(tpd_ctl *c, tv_time now)
{
	const proxy_stats *s = proxy_get_stats(c->px);
	jbuf line = { 0 };
	int n = 0;

	for (int d = 0; d < PX_DROP__COUNT; d++) {
		if (s->drop[d] == c->drops_seen[d])
			continue;
		if (!n++)
			jb_fmt(&line, "{\"event\":\"drops\",\"at_s\":%.6f,\"since_last\":{", (double)now / 1e6);
		else
			jb_raw(&line, ",");
		jb_fmt(&line, "\"%s\":%llu", proxy_drop_name((enum px_drop)d),
		       (unsigned long long)(s->drop[d] - c->drops_seen[d]));
		c->drops_seen[d] = s->drop[d];
	}
	if (n) {
		jb_raw(&line, "}}\n");
		broadcast(c, &line);
	}
	jb_free(&line);
}
