/*
 * Timers on the monotonic int64 nanosecond clock, kept in a binary heap.
 * Pure: the caller passes "now"; the heap never reads a clock.
 */
#ifndef FP_TIMER_H
#define FP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer_heap;
typedef void (*timer_cb)(void *arg, int64_t now);

struct timer_heap *timer_heap_new(void);
void		 timer_heap_free(struct timer_heap *);

/* Returns an id > 0, or 0 when out of memory. */
uint64_t	 timer_add(struct timer_heap *, int64_t when, timer_cb, void *arg);
/* True when the timer was pending and is now cancelled. */
bool		 timer_cancel(struct timer_heap *, uint64_t id);
/* Time of the earliest timer, or INT64_MAX when none is pending. */
int64_t		 timer_next(const struct timer_heap *);
/* Runs every timer due at or before now, earliest first; returns how many ran. */
unsigned	 timer_run(struct timer_heap *, int64_t now);

#endif
