/* bench.h - what the benchmark files share. */
#ifndef TV_BENCH_H
#define TV_BENCH_H

#include "simhost.h"
#include <time.h>

/* Wall-clock seconds (benchmarks only: engines never read a clock). */
static inline double bench_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sip(void);
void bench_proxy(void);
void bench_proxy_worst(void);
void bench_proxy_calls(void);
void bench_proxy_relay_only(void);
void bench_flood(void);

#endif
