/* timerq.c - binary min-heap of intrusive timers. */
#include "timerq.h"

#include <stdlib.h>

static bool before(const tv_timer *a, const tv_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(tv_timerq *q, uint32_t i, tv_timer *t)
{
	q->heap[i] = t;
	t->idx = i;
}

static void sift_up(tv_timerq *q, uint32_t i)
{
	tv_timer *t = q->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!before(t, q->heap[p]))
			break;
		place(q, i, q->heap[p]);
		i = p;
	}
	place(q, i, t);
}

static void sift_down(tv_timerq *q, uint32_t i)
{
	tv_timer *t = q->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(q->heap[c + 1], q->heap[c]))
			c++;
		if (!before(q->heap[c], t))
			break;
		place(q, i, q->heap[c]);
		i = c;
	}
	place(q, i, t);
}

void tv_timer_init(tv_timer *t, tv_timer_fn fn, void *arg)
{
	t->when = TV_NEVER;
	t->seq = 0;
	t->idx = UINT32_MAX;
	t->fn = fn;
	t->arg = arg;
}

void tv_timerq_init(tv_timerq *q)
{
	q->heap = NULL;
	q->n = q->cap = 0;
	q->seq = 0;
}

void tv_timerq_free(tv_timerq *q)
{
	for (uint32_t i = 0; i < q->n; i++)
		q->heap[i]->idx = UINT32_MAX;
	free(q->heap);
	tv_timerq_init(q);
}

int tv_timerq_arm(tv_timerq *q, tv_timer *t, tv_time when)
{
	if (tv_timer_armed(t))
		tv_timerq_cancel(q, t);
	if (q->n == q->cap) {
		uint32_t ncap = q->cap ? q->cap * 2 : 64;
		tv_timer **nh = realloc(q->heap, ncap * sizeof(*nh));
		if (!nh)
			return TV_ENOMEM;
		q->heap = nh;
		q->cap = ncap;
	}
	t->when = when;
	t->seq = q->seq++;
	place(q, q->n++, t);
	sift_up(q, t->idx);
	return 0;
}

void tv_timerq_cancel(tv_timerq *q, tv_timer *t)
{
	uint32_t i = t->idx;

	if (i == UINT32_MAX)
		return;
	t->idx = UINT32_MAX;
	if (--q->n == i)
		return;
	place(q, i, q->heap[q->n]);
	sift_up(q, i);
	sift_down(q, q->heap[i]->idx);
}

tv_timer *tv_timerq_pop_due(tv_timerq *q, tv_time now)
{
	tv_timer *t;

	if (q->n == 0 || q->heap[0]->when > now)
		return NULL;
	t = q->heap[0];
	tv_timerq_cancel(q, t);
	return t;
}
