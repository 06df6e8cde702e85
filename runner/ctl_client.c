/* ctl_client.c - `traverse ctl`: the client of traverse-proxy's control
 * socket (docs/control.md). It sends one command line and prints the
 * answer line; `events` prints lines until the proxy closes or the count
 * or time given runs out. */
#include "scn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

const char ctl_usage[] =
	"usage: traverse ctl [-s SOCKET] [-n LINES] [-t SECONDS] COMMAND\n"
	"\n"
	"Sends COMMAND to a running traverse-proxy's control socket and prints\n"
	"the JSON answer (one object per line). Commands: stats, bindings,\n"
	"streams, events, sip (every SIP message), help (docs/control.md).\n"
	"\n"
	"  -s SOCKET   the control socket [/run/traverse-proxy.sock, or $TRAVERSE_CTL]\n"
	"  -n LINES    events, sip: stop after this many lines [no limit]\n"
	"  -t SECONDS  stop waiting after this long [5; events: no limit]\n"
	"  -h, --help  this help\n"
	"\n"
	"Exit status: 0 on an answer, 1 if the proxy answered with an error or\n"
	"not in time, 2 on usage errors or when the socket cannot be reached.\n";

int cmd_ctl(int argc, char **argv)
{
	const char *sock = getenv("TRAVERSE_CTL") ? getenv("TRAVERSE_CTL") : "/run/traverse-proxy.sock";
	const char *cmd = NULL;
	long max_lines = -1, secs = -1, lines = 0;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[65536];
	size_t have = 0;
	int fd, rc = 1;
	bool events;
	time_t end;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(ctl_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			max_lines = atol(argv[++i]);
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			secs = atol(argv[++i]);
		} else if (!cmd && argv[i][0] != '-') {
			cmd = argv[i];
		} else {
			fputs(ctl_usage, stderr);
			return 2;
		}
	}
	if (!cmd || strlen(sock) >= sizeof(sun.sun_path) || strchr(cmd, '\n')) {
		fputs(ctl_usage, stderr);
		return 2;
	}
	events = !strcmp(cmd, "events") || !strcmp(cmd, "sip");  /* subscriptions: lines until -n or -t */
	if (secs < 0)
		secs = events ? 0 : 5;
	end = secs ? time(NULL) + secs : 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "traverse ctl: %s: %s (is traverse-proxy running with control = %s?)\n", sock,
			strerror(errno), sock);
		if (fd >= 0)
			close(fd);
		return 2;
	}
	dprintf(fd, "%s\n", cmd);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait = end ? (int)(end - time(NULL)) * 1000 : -1;
		ssize_t n;
		char *nl;

		if (end && wait <= 0)
			break;
		if (poll(&pfd, 1, wait) <= 0)
			break;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		while ((nl = memchr(buf, '\n', have))) {
			size_t l = (size_t)(nl - buf) + 1;
			fwrite(buf, 1, l, stdout);
			fflush(stdout);
			rc = strncmp(buf, "{\"error\"", 8) ? 0 : 1;
			memmove(buf, buf + l, have - l);
			have -= l;
			if (!events || (max_lines >= 0 && lines++ >= max_lines))
				goto done;
		}
		if (have == sizeof(buf) - 1) {       /* a very long answer: pass it on */
			fwrite(buf, 1, have, stdout);
			have = 0;
		}
	}
done:
	close(fd);
	return rc;
}
