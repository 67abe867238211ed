/*
 * probes/psched: the grid (exact slots, no drift), the phase spread, missed
 * slots, ties, remove, and random operations against a plain list of
 * probes that the test scans itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/prng.h"
#include "probes/psched.h"

#define MS	1000000LL
#define SEC	1000000000LL

static void
pop_expect(struct psched *ps, int64_t now, int64_t slack, uint32_t id, int64_t slot,
    uint64_t missed)
{
	uint32_t got_id = UINT32_MAX;
	int64_t got_slot = -1;
	uint64_t got_missed = 0;

	assert_true(psched_pop(ps, now, slack, &got_id, &got_slot, &got_missed));
	assert_int_equal(got_id, id);
	assert_int_equal(got_slot, slot);
	assert_int_equal(got_missed, missed);
}

static void
pop_none(struct psched *ps, int64_t now, int64_t slack)
{
	uint32_t id;
	int64_t slot;
	uint64_t missed = 0;

	assert_false(psched_pop(ps, now, slack, &id, &slot, &missed));
}

/*
 * n probes at one interval: every phase a whole number of steps inside the
 * interval, non-decreasing with the index, and the steps filled evenly
 * (counts differ by at most one, at most ceil(n * step / interval)).
 */
static void
phase_fills_the_steps_evenly(void **state)
{
	static const int64_t ivs[] = { 5 * MS, 10 * MS, 333 * MS, SEC, 60 * SEC };
	static const size_t ns[] = { 1, 2, 3, 7, 250, 1000, 4001 };
	static uint32_t count[60 * SEC / PSCHED_STEP_NS + 1];

	for (size_t a = 0; a < sizeof(ivs) / sizeof(ivs[0]); a++) {
		int64_t iv = ivs[a];
		size_t m = (size_t)((iv + PSCHED_STEP_NS - 1) / PSCHED_STEP_NS);

		for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
			size_t n = ns[b], cap = (size_t)(((__int128)n * PSCHED_STEP_NS + iv - 1) / iv);
			uint32_t lo = UINT32_MAX, hi = 0;
			int64_t prev = 0, ph;

			memset(count, 0, sizeof(count));
			for (size_t i = 0; i < n; i++) {
				ph = psched_phase(i, n, iv);
				assert_true(ph >= prev && ph < iv);
				assert_true(ph % PSCHED_STEP_NS == 0);
				count[ph / PSCHED_STEP_NS]++;
				prev = ph;
			}
			for (size_t k = 0; k < m; k++) {
				lo = count[k] < lo ? count[k] : lo;
				hi = count[k] > hi ? count[k] : hi;
			}
			assert_true(hi <= cap);
			assert_true(hi - lo <= 1);
			/* Wraps with the index: probe n is probe 0 again. */
			assert_true(psched_phase(n, n, iv) == psched_phase(0, n, iv));
		}
	}
}

/* An interval of at most one step has no steps: the exact spread. */
static void
phase_of_a_short_interval_is_exact(void **state)
{
	assert_int_equal(psched_phase(0, 3, 1000), 0);
	assert_int_equal(psched_phase(1, 3, 1000), 333);
	assert_int_equal(psched_phase(2, 3, 1000), 666);
	assert_int_equal(psched_phase(1, 4, PSCHED_STEP_NS), PSCHED_STEP_NS / 4);
	assert_int_equal(psched_phase(5, 0, 1000), 0);
	assert_int_equal(psched_phase(5, 9, 0), 0);
}

/* A huge interval: index * steps would overflow 64 bits. */
static void
phase_of_a_huge_interval_does_not_overflow(void **state)
{
	size_t n = 7919, i;
	int64_t iv = INT64_MAX / 2;
	__int128 m = ((__int128)iv + PSCHED_STEP_NS - 1) / PSCHED_STEP_NS;

	for (i = 0; i < n; i += 97) {
		__int128 want = (__int128)i * m / n * PSCHED_STEP_NS;

		assert_true(psched_phase(i, n, iv) == (int64_t)want);
	}
	assert_true(psched_phase(n - 1, n, iv) < iv);
}

/*
 * 1000 probes at 1 s, spread by phase: every 4 ms one group of four on the
 * same slot, in id order, round after round.
 */
static void
a_thousand_probes_at_one_second_go_four_per_step(void **state)
{
	struct psched *ps = psched_new();
	const int64_t base = 5 * SEC, per = 1000 * PSCHED_STEP_NS / SEC;
	int64_t now, slot;
	uint64_t missed = 0;
	uint32_t id, i;

	assert_int_equal(per, 4);
	for (i = 0; i < 1000; i++)
		assert_true(psched_add(ps, i, base + psched_phase(i, 1000, SEC), SEC));
	assert_int_equal(psched_count(ps), 1000);
	for (i = 0; i < 3000; i++) {
		now = psched_next(ps);
		assert_true(psched_pop(ps, now, 0, &id, &slot, &missed));
		assert_int_equal(id, i % 1000);
		assert_true(slot == base + (int64_t)(i / per) * PSCHED_STEP_NS);
		assert_true(slot == now);
	}
	assert_int_equal(missed, 0);
	psched_free(ps);
}

/* Served up to slack late every time for 1e6 slots: the grid stays first + k * interval. */
static void
the_grid_never_drifts(void **state)
{
	struct psched *ps = psched_new();
	const int64_t first = 12345, interval = 333333337, slack = interval / 2;
	int64_t k, slot, lateness;
	uint64_t missed = 0;
	uint32_t id;

	assert_true(psched_add(ps, 77, first, interval));
	for (k = 0; k < 1000000; k++) {
		lateness = (int64_t)rnd((uint64_t)slack + 1);
		assert_true(psched_pop(ps, first + k * interval + lateness, slack, &id, &slot,
		    &missed));
		if (slot != first + k * interval)
			fail_msg("slot %lld: %lld", (long long)k, (long long)slot);
		/* Not due again until the next slot. */
		if (lateness < interval - 1)
			pop_none(ps, first + k * interval + lateness + 1, slack);
	}
	assert_true(psched_next(ps) == first + 1000000 * interval);
	assert_int_equal(missed, 0);
	psched_free(ps);
}

static void
three_and_a_half_intervals_late_misses_three_slots(void **state)
{
	struct psched *ps = psched_new();

	assert_true(psched_add(ps, 1, 0, SEC));
	/* Slots 0, 1, 2 are more than 0.5 s behind 3.5 s; slot 3 is just within. */
	pop_expect(ps, 3500 * MS, 500 * MS, 1, 3 * SEC, 3);
	pop_none(ps, 3500 * MS, 500 * MS);
	assert_true(psched_next(ps) == 4 * SEC);
	pop_expect(ps, 4 * SEC, 500 * MS, 1, 4 * SEC, 0);
	psched_free(ps);
}

/* With less slack than the lateness, every due slot is skipped: the count comes with the next one. */
static void
skipped_slots_are_reported_with_the_probes_next_send(void **state)
{
	struct psched *ps = psched_new();

	assert_true(psched_add(ps, 1, 0, SEC));
	assert_true(psched_add(ps, 2, 3400 * MS, SEC));
	/* Probe 1's slots 0..3 are all over 100 ms late; probe 2's first slot is within. */
	pop_expect(ps, 3500 * MS, 100 * MS, 2, 3400 * MS, 0);
	pop_none(ps, 3500 * MS, 100 * MS);
	assert_true(psched_next(ps) == 4 * SEC);
	pop_expect(ps, 4 * SEC, 100 * MS, 1, 4 * SEC, 4);
	psched_free(ps);
}

static void
ties_come_out_in_id_order(void **state)
{
	struct psched *ps = psched_new();
	uint32_t ids[] = { 9, 3, 5, 4000000000u, 0, 7 };
	uint32_t want[] = { 0, 3, 5, 7, 9, 4000000000u };
	size_t i, round;

	for (i = 0; i < 6; i++)
		assert_true(psched_add(ps, ids[i], SEC, SEC));
	for (round = 0; round < 3; round++)
		for (i = 0; i < 6; i++)
			pop_expect(ps, 10 * SEC, 100 * SEC, want[i], (int64_t)(round + 1) * SEC, 0);
	psched_free(ps);
}

static void
removed_probes_are_never_due_again(void **state)
{
	struct psched *ps = psched_new();
	uint32_t i;

	for (i = 0; i < 3; i++)
		assert_true(psched_add(ps, 10 + i, (int64_t)i * MS, SEC));
	assert_true(psched_remove(ps, 11));
	assert_false(psched_remove(ps, 11));
	assert_false(psched_remove(ps, 99));
	assert_int_equal(psched_count(ps), 2);
	pop_expect(ps, 5 * MS, SEC, 10, 0, 0);
	pop_expect(ps, 5 * MS, SEC, 12, 2 * MS, 0);
	pop_none(ps, 5 * MS, SEC);
	/* Back with a new grid. */
	assert_true(psched_add(ps, 11, 7 * MS, SEC));
	pop_expect(ps, 7 * MS, SEC, 11, 7 * MS, 0);
	assert_true(psched_remove(ps, 10));
	assert_true(psched_remove(ps, 11));
	assert_true(psched_remove(ps, 12));
	assert_int_equal(psched_count(ps), 0);
	assert_true(psched_next(ps) == INT64_MAX);
	pop_none(ps, INT64_MAX, 0);
	psched_free(ps);
}

static void
duplicates_and_bad_intervals_are_refused(void **state)
{
	struct psched *ps = psched_new();

	assert_true(psched_next(ps) == INT64_MAX);
	assert_true(psched_add(ps, 1, 0, SEC));
	assert_false(psched_add(ps, 1, 5, SEC));
	assert_false(psched_add(ps, 2, 0, 0));
	assert_false(psched_add(ps, 3, 0, -SEC));
	assert_int_equal(psched_count(ps), 1);
	psched_free(ps);
	psched_free(NULL);
}

/* The test's own model: a list scanned in full. */
struct model {
	uint32_t	 id;
	int64_t		 first, interval, k;
	uint64_t	 missed;
	int		 live;
};

static bool
model_pop(struct model *m, size_t n, int64_t now, int64_t slack, uint32_t *id, int64_t *slot,
    uint64_t *missed)
{
	struct model *best;
	size_t i;

	for (;;) {
		best = NULL;
		for (i = 0; i < n; i++) {
			int64_t t = m[i].first + m[i].k * m[i].interval;

			if (!m[i].live || t > now)
				continue;
			if (best == NULL || t < best->first + best->k * best->interval ||
			    (t == best->first + best->k * best->interval && m[i].id < best->id))
				best = &m[i];
		}
		if (best == NULL)
			return false;
		if (now - (best->first + best->k * best->interval) <= slack)
			break;
		/* Skip one slot at a time. */
		while (now - (best->first + best->k * best->interval) > slack) {
			best->k++;
			best->missed++;
		}
	}
	*id = best->id;
	*slot = best->first + best->k * best->interval;
	*missed += best->missed;
	best->missed = 0;
	best->k++;
	return true;
}

static void
random_operations_match_a_scanned_list(void **state)
{
	/* Ids i * 65537 collide in a small hash: removal must keep the probe runs intact. */
	static struct model m[64];
	struct psched *ps = psched_new();
	struct model *p;
	int64_t now = 0, slot, mslot, next;
	uint64_t missed = 0, mmissed = 0;
	uint32_t id, mid;
	size_t n = 64, live = 0, i, step;

	for (step = 0; step < 20000; step++) {
		uint64_t op = rnd(10);

		p = &m[rnd(n)];
		id = (uint32_t)(p - m) * 65537;
		if (op < 3) {
			int64_t first = now + (int64_t)rnd(2 * SEC), iv = 10 * MS + (int64_t)rnd(SEC);

			assert_int_equal(psched_add(ps, id, first, iv), !p->live);
			if (!p->live) {
				*p = (struct model){ id, first, iv, 0, 0, 1 };
				live++;
			}
		} else if (op < 5) {
			assert_int_equal(psched_remove(ps, id), p->live);
			if (p->live) {
				p->live = 0;
				live--;
			}
		} else {
			int64_t slack = (int64_t)rnd(SEC);
			bool got;

			now += (int64_t)rnd(op == 9 ? 5 * SEC : 50 * MS);
			do {
				got = psched_pop(ps, now, slack, &id, &slot, &missed);
				assert_int_equal(got, model_pop(m, n, now, slack, &mid, &mslot, &mmissed));
				if (got) {
					assert_int_equal(id, mid);
					assert_true(slot == mslot);
					assert_int_equal(missed, mmissed);
				}
			} while (got);
		}
		assert_int_equal(psched_count(ps), live);
		next = INT64_MAX;
		for (i = 0; i < n; i++)
			if (m[i].live && m[i].first + m[i].k * m[i].interval < next)
				next = m[i].first + m[i].k * m[i].interval;
		assert_true(psched_next(ps) == next);
	}
	assert_true(mmissed > 0);
	psched_free(ps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(phase_fills_the_steps_evenly),
		cmocka_unit_test(phase_of_a_short_interval_is_exact),
		cmocka_unit_test(phase_of_a_huge_interval_does_not_overflow),
		cmocka_unit_test(a_thousand_probes_at_one_second_go_four_per_step),
		cmocka_unit_test(the_grid_never_drifts),
		cmocka_unit_test(three_and_a_half_intervals_late_misses_three_slots),
		cmocka_unit_test(skipped_slots_are_reported_with_the_probes_next_send),
		cmocka_unit_test(ties_come_out_in_id_order),
		cmocka_unit_test(removed_probes_are_never_due_again),
		cmocka_unit_test(duplicates_and_bad_intervals_are_refused),
		cmocka_unit_test(random_operations_match_a_scanned_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
