/*
 * A binary min-heap of timers ordered by (when, id); the id breaks ties so
 * timers due at the same instant run in the order they were added.
 * Cancelled timers are removed at once (index kept per entry).
 */
#include <stdlib.h>

#include "subagent/timer.h"

struct timer_entry {
	int64_t		 when;
	uint64_t	 id;
	timer_cb	 cb;
	void		*arg;
};

struct timer_heap {
	struct timer_entry *v;
	size_t		 n;
	size_t		 cap;
	uint64_t	 last_id;
};

struct timer_heap *
timer_heap_new(void)
{
	return calloc(1, sizeof(struct timer_heap));
}

void
timer_heap_free(struct timer_heap *h)
{
	if (h == NULL)
		return;
	free(h->v);
	free(h);
}

static bool
timer_before(const struct timer_entry *a, const struct timer_entry *b)
{
	return a->when < b->when || (a->when == b->when && a->id < b->id);
}

static void
timer_swap(struct timer_heap *h, size_t i, size_t j)
{
	struct timer_entry t = h->v[i];

	h->v[i] = h->v[j];
	h->v[j] = t;
}

static void
timer_sift_up(struct timer_heap *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(&h->v[i], &h->v[parent]))
			break;
		timer_swap(h, i, parent);
		i = parent;
	}
}

static void
timer_sift_down(struct timer_heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && timer_before(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && timer_before(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			break;
		timer_swap(h, i, m);
		i = m;
	}
}

uint64_t
timer_add(struct timer_heap *h, int64_t when, timer_cb cb, void *arg)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct timer_entry *v = reallocarray(h->v, cap, sizeof(*v));

		if (v == NULL)
			return 0;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n] = (struct timer_entry){ when, ++h->last_id, cb, arg };
	timer_sift_up(h, h->n++);
	return h->last_id;
}

static void
timer_remove_at(struct timer_heap *h, size_t i)
{
	h->v[i] = h->v[--h->n];
	if (i < h->n) {
		timer_sift_up(h, i);
		timer_sift_down(h, i);
	}
}

bool
timer_cancel(struct timer_heap *h, uint64_t id)
{
	/* Linear: cancels are rare (reload, shutdown), runs are not. */
	for (size_t i = 0; i < h->n; i++) {
		if (h->v[i].id == id) {
			timer_remove_at(h, i);
			return true;
		}
	}
	return false;
}

int64_t
timer_next(const struct timer_heap *h)
{
	return h->n ? h->v[0].when : INT64_MAX;
}

unsigned
timer_run(struct timer_heap *h, int64_t now)
{
	unsigned ran = 0;
	/* Timers added by callbacks with when <= now wait for the next pass. */
	uint64_t limit = h->last_id;

	while (h->n > 0 && h->v[0].when <= now && h->v[0].id <= limit) {
		struct timer_entry e = h->v[0];

		timer_remove_at(h, 0);
		e.cb(e.arg, now);
		ran++;
	}
	return ran;
}
