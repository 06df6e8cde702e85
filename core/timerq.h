/* timerq.h - a min-heap of intrusive timers ordered by (deadline, arm order).
 *
 * The caller owns each tv_timer; arming an armed timer moves it. Ties fire
 * in the order they were armed, which keeps simulations deterministic.
 * arm/cancel are O(log n), next is O(1). */
#ifndef TV_TIMERQ_H
#define TV_TIMERQ_H

#include "tv.h"

typedef struct tv_timer tv_timer;
typedef void (*tv_timer_fn)(tv_timer *t, tv_time now);

struct tv_timer {
	tv_time when;
	uint64_t seq;
	uint32_t idx;           /* position in the heap, UINT32_MAX if idle */
	tv_timer_fn fn;
	void *arg;
};

typedef struct tv_timerq {
	tv_timer **heap;
	uint32_t n, cap;
	uint64_t seq;
} tv_timerq;

void tv_timer_init(tv_timer *t, tv_timer_fn fn, void *arg);
static inline bool tv_timer_armed(const tv_timer *t) { return t->idx != UINT32_MAX; }

void tv_timerq_init(tv_timerq *q);
void tv_timerq_free(tv_timerq *q);
int tv_timerq_arm(tv_timerq *q, tv_timer *t, tv_time when);
void tv_timerq_cancel(tv_timerq *q, tv_timer *t);
/* Deadline of the earliest timer, TV_NEVER if none. */
static inline tv_time tv_timerq_next(const tv_timerq *q) { return q->n ? q->heap[0]->when : TV_NEVER; }
/* Remove and return the earliest timer if it is due at or before now. */
tv_timer *tv_timerq_pop_due(tv_timerq *q, tv_time now);

#endif
