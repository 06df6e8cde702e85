/* log.c - see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

static enum tpd_log_target target = TPD_LOG_STDERR;
static enum tpd_log_level max_level = TPD_INFO;

void tpd_log_open(enum tpd_log_target t, enum tpd_log_level level)
{
	target = t;
	max_level = level;
	if (t == TPD_LOG_SYSLOG)
		openlog("traverse-proxy", LOG_PID, LOG_DAEMON);
}

void tpd_log_set_level(enum tpd_log_level level) { max_level = level; }

void tpd_log(enum tpd_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	if (target == TPD_LOG_SYSLOG) {
		vsyslog(prio[level], fmt, ap);
	} else {
		char ts[32];
		time_t t = time(NULL);
		struct tm tm;

		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
		fprintf(stderr, "%s traverse-proxy %s: ", ts, names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
