#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "subagent/timer.h"

struct trace {
	int	 order[64];
	int64_t	 at[64];
	int	 n;
};

struct tag {
	struct trace *t;
	int	 id;
	struct timer_heap *h;
};

static void
record(void *arg, int64_t now)
{
	struct tag *g = arg;

	g->t->order[g->t->n] = g->id;
	g->t->at[g->t->n++] = now;
}

static void
test_timers_run_in_time_order_ties_by_insertion(void **state)
{
	struct timer_heap *h = timer_heap_new();
	struct trace t = { 0 };
	struct tag a = { &t, 1, h }, b = { &t, 2, h }, c = { &t, 3, h }, d = { &t, 4, h };

	(void)state;
	timer_add(h, 300, record, &a);
	timer_add(h, 100, record, &b);
	timer_add(h, 200, record, &c);
	timer_add(h, 100, record, &d);
	assert_int_equal(timer_next(h), 100);
	assert_int_equal(timer_run(h, 250), 3);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.order[0], 2);
	assert_int_equal(t.order[1], 4);
	assert_int_equal(t.order[2], 3);
	assert_int_equal(timer_next(h), 300);
	assert_int_equal(timer_run(h, 299), 0);
	assert_int_equal(timer_run(h, 300), 1);
	assert_int_equal(timer_next(h), INT64_MAX);
	timer_heap_free(h);
}

static void
test_cancelled_timer_never_runs(void **state)
{
	struct timer_heap *h = timer_heap_new();
	struct trace t = { 0 };
	struct tag a = { &t, 1, h }, b = { &t, 2, h };
	uint64_t ida;

	(void)state;
	ida = timer_add(h, 10, record, &a);
	timer_add(h, 20, record, &b);
	assert_true(timer_cancel(h, ida));
	assert_false(timer_cancel(h, ida));
	assert_int_equal(timer_next(h), 20);
	assert_int_equal(timer_run(h, 100), 1);
	assert_int_equal(t.order[0], 2);
	timer_heap_free(h);
}

static void
rearm(void *arg, int64_t now)
{
	struct tag *g = arg;

	record(arg, now);
	/* A periodic timer that re-adds itself at "now" must not spin. */
	timer_add(g->h, now, rearm, arg);
}

static void
test_timer_added_by_callback_waits_for_next_pass(void **state)
{
	struct timer_heap *h = timer_heap_new();
	struct trace t = { 0 };
	struct tag a = { &t, 7, h };

	(void)state;
	timer_add(h, 5, rearm, &a);
	assert_int_equal(timer_run(h, 5), 1);
	assert_int_equal(timer_run(h, 6), 1);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.at[1], 6);
	timer_heap_free(h);
}

static void
test_many_timers_come_out_sorted(void **state)
{
	struct timer_heap *h = timer_heap_new();
	struct trace t = { 0 };
	struct tag tags[64];
	uint32_t x = 12345;

	(void)state;
	for (int i = 0; i < 64; i++) {
		x = x * 1103515245u + 12345u;
		tags[i] = (struct tag){ &t, i, h };
		timer_add(h, (int64_t)(x % 1000), record, &tags[i]);
	}
	/* Cancel every fourth one by id (ids are 1..64 in insertion order). */
	for (uint64_t id = 1; id <= 64; id += 4)
		assert_true(timer_cancel(h, id));
	int64_t last = -1;
	int ran = 0;
	while (timer_next(h) != INT64_MAX) {
		int64_t when = timer_next(h);

		assert_true(when >= last);
		last = when;
		ran += (int)timer_run(h, when);
	}
	assert_int_equal(ran, 48);
	for (int i = 0; i < t.n; i++)
		assert_int_not_equal(t.order[i] % 4, 0);
	timer_heap_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_run_in_time_order_ties_by_insertion),
		cmocka_unit_test(test_cancelled_timer_never_runs),
		cmocka_unit_test(test_timer_added_by_callback_waits_for_next_pass),
		cmocka_unit_test(test_many_timers_come_out_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
