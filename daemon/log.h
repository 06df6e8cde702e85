/* log.h - traverse-proxy's log: stderr (with a UTC timestamp) or syslog,
 * filtered by level. Never called per packet. */
#ifndef TPD_LOG_H
#define TPD_LOG_H

#include "conf.h"

void tpd_log_open(enum tpd_log_target t, enum tpd_log_level level);
void tpd_log_set_level(enum tpd_log_level level);
void tpd_log(enum tpd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
