/*
 * engine/metric: names and ids, the bounds (names, ring length), the
 * retention and the ranges, checked case by case and against a plain list
 * of every accepted sample that the test keeps itself.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/metric.h"

#define SEC 1000000000LL

struct collect {
	struct metric_point p[4096];
	size_t		 n;
};

static void
collect_cb(void *arg, const struct metric_point *p)
{
	struct collect *c = arg;

	assert_true(c->n < 4096);
	c->p[c->n++] = *p;
}

static struct metric_store *
store(uint32_t max_metrics, uint32_t max_points, int64_t retention)
{
	struct metric_limits lim = { max_metrics, max_points, retention };
	struct metric_store *s = metric_store_new(&lim);

	assert_non_null(s);
	return s;
}

static void
intern_gives_one_id_per_name(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t a, b;

	assert_non_null(s);
	a = metric_intern(s, "probe.lo.rtt");
	b = metric_intern(s, "probe.lo.loss");
	assert_int_not_equal(a, 0);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(a, b);
	assert_int_equal(metric_intern(s, "probe.lo.rtt"), a);
	assert_int_equal(metric_find(s, "probe.lo.loss"), b);
	assert_int_equal(metric_find(s, "probe.lo.jitter"), 0);
	assert_string_equal(metric_name(s, a), "probe.lo.rtt");
	assert_null(metric_name(s, 0));
	assert_null(metric_name(s, 3));
	assert_int_equal(metric_count(s), 2);
	assert_int_equal(metric_refused(s), 0);
	metric_store_free(s);
}

static void
names_empty_or_longer_than_the_max_are_refused_and_counted(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	char name[METRIC_NAME_MAX + 2];

	memset(name, 'a', sizeof(name));
	name[METRIC_NAME_MAX + 1] = '\0';
	assert_int_equal(metric_intern(s, name), 0);
	assert_int_equal(metric_find(s, name), 0);
	assert_int_equal(metric_intern(s, ""), 0);
	assert_int_equal(metric_intern(s, NULL), 0);
	assert_int_equal(metric_refused(s), 3);
	name[METRIC_NAME_MAX] = '\0';
	assert_int_not_equal(metric_intern(s, name), 0);
	assert_int_equal(metric_count(s), 1);
	metric_store_free(s);
}

static void
names_past_max_metrics_are_refused_and_counted(void **state)
{
	struct metric_store *s = store(3, 0, 0);

	assert_int_equal(metric_intern(s, "a"), 1);
	assert_int_equal(metric_intern(s, "b"), 2);
	assert_int_equal(metric_intern(s, "c"), 3);
	assert_int_equal(metric_intern(s, "d"), 0);
	assert_int_equal(metric_intern(s, "e"), 0);
	/* Known names still resolve when full. */
	assert_int_equal(metric_intern(s, "b"), 2);
	assert_int_equal(metric_count(s), 3);
	assert_int_equal(metric_refused(s), 2);
	metric_store_free(s);
}

static void
many_names_survive_table_growth(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	char name[64];
	uint32_t i;

	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "agg.web[\"10.%u.%u.%u\"].octets",
		    i >> 16, (i >> 8) & 255, i & 255);
		assert_int_equal(metric_intern(s, name), i + 1);
	}
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "agg.web[\"10.%u.%u.%u\"].octets",
		    i >> 16, (i >> 8) & 255, i & 255);
		assert_int_equal(metric_find(s, name), i + 1);
		assert_string_equal(metric_name(s, i + 1), name);
	}
	assert_int_equal(metric_count(s), 20000);
	metric_store_free(s);
}

static void
last_is_the_newest_sample(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "x");
	struct metric_point p;

	assert_false(metric_last(s, id, &p));
	assert_true(metric_oldest_ns(s, id) == INT64_MAX);
	metric_put(s, id, 1 * SEC, 1.5);
	metric_put(s, id, 2 * SEC, 2.5);
	assert_true(metric_last(s, id, &p));
	assert_true(p.t_ns == 2 * SEC);
	assert_true(p.v == 2.5);
	assert_true(metric_oldest_ns(s, id) == 1 * SEC);
	assert_false(metric_last(s, 99, &p));
	metric_store_free(s);
}

static void
out_of_order_nan_and_unknown_ids_are_dropped_and_counted(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "x");
	struct metric_point p;
	struct collect c = { .n = 0 };

	metric_put(s, id, 10 * SEC, 1);
	metric_put(s, id, 9 * SEC, 2);		/* older: dropped */
	metric_put(s, id, 11 * SEC, NAN);	/* dropped */
	metric_put(s, 0, 11 * SEC, 3);		/* dropped */
	metric_put(s, 7, 11 * SEC, 3);		/* dropped */
	metric_put(s, id, 10 * SEC, 4);		/* same time: kept */
	metric_put(s, id, 12 * SEC, INFINITY);	/* kept: only NaN is refused */
	assert_int_equal(metric_dropped(s), 4);
	assert_int_equal(metric_range(s, id, 0, 100 * SEC, collect_cb, &c), 3);
	assert_true(c.p[0].v == 1 && c.p[1].v == 4 && isinf(c.p[2].v));
	assert_true(metric_last(s, id, &p));
	assert_true(p.t_ns == 12 * SEC);
	metric_store_free(s);
}

static void
default_retention_trims_by_age_keeping_one_point_at_the_cutoff(void **state)
{
	struct metric_store *s = store(0, 0, 10 * SEC);
	uint32_t id = metric_intern(s, "x");
	int64_t t, last = 0;

	/* One point every 3 s: the cutoff falls between points. */
	for (t = 0; t <= 300 * SEC; t += 3 * SEC) {
		metric_put(s, id, t, (double)t);
		last = t;
	}
	/* Kept: the newest point <= last - 10 s, and everything after. */
	assert_true(metric_oldest_ns(s, id) <= last - 10 * SEC);
	assert_true(metric_oldest_ns(s, id) + 3 * SEC > last - 10 * SEC);
	assert_int_equal(metric_range(s, id, INT64_MIN, INT64_MAX, NULL, NULL), 5);
	assert_int_equal(metric_truncated(s), 0);
	metric_store_free(s);
}

static void
retain_lengthens_the_history_and_never_shortens_it(void **state)
{
	struct metric_store *s = store(0, 0, 10 * SEC);
	uint32_t a = metric_intern(s, "a"), b = metric_intern(s, "b");
	int64_t t;

	metric_retain(s, a, 100 * SEC);
	metric_retain(s, a, 20 * SEC);		/* a shorter need does not shrink it */
	for (t = 0; t <= 1000 * SEC; t += SEC) {
		metric_put(s, a, t, 1);
		metric_put(s, b, t, 1);
	}
	assert_true(metric_oldest_ns(s, a) == 900 * SEC);
	assert_true(metric_oldest_ns(s, b) == 990 * SEC);
	assert_int_equal(metric_range(s, a, INT64_MIN, INT64_MAX, NULL, NULL), 101);
	assert_int_equal(metric_range(s, b, INT64_MIN, INT64_MAX, NULL, NULL), 11);
	metric_store_free(s);
}

static void
max_points_caps_the_ring_and_counts_what_it_overwrites(void **state)
{
	struct metric_store *s = store(0, 16, 1000 * SEC);
	uint32_t id = metric_intern(s, "x");
	struct collect c = { .n = 0 };
	int i;

	for (i = 0; i < 100; i++)
		metric_put(s, id, i * SEC, i);
	assert_int_equal(metric_range(s, id, INT64_MIN, INT64_MAX, collect_cb, &c), 16);
	for (i = 0; i < 16; i++)
		assert_true(c.p[i].v == 84 + i);
	assert_true(metric_oldest_ns(s, id) == 84 * SEC);
	assert_int_equal(metric_truncated(s), 84);
	metric_store_free(s);
}

static void
range_visits_points_in_time_order_across_the_ring_wrap(void **state)
{
	/* Retention 20 s at 1 s spacing: 21 points in a 32-slot ring that wraps. */
	struct metric_store *s = store(0, 0, 20 * SEC);
	uint32_t id = metric_intern(s, "x");
	struct collect c;
	int64_t t, newest = 0;
	size_t i;

	for (t = 0; t < 1000; t++) {
		metric_put(s, id, t * SEC, (double)t * 0.5);
		newest = t;
		if (t < 40)
			continue;
		c.n = 0;
		assert_int_equal(metric_range(s, id, INT64_MIN, INT64_MAX, collect_cb, &c), 21);
		for (i = 0; i < c.n; i++) {
			assert_true(c.p[i].t_ns == (newest - 20 + (int64_t)i) * SEC);
			assert_true(c.p[i].v == (double)(newest - 20 + (int64_t)i) * 0.5);
		}
	}
	metric_store_free(s);
}

static void
range_bounds_are_inclusive(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "x"), empty = metric_intern(s, "y");
	struct collect c = { .n = 0 };
	int i;

	for (i = 1; i <= 10; i++)
		metric_put(s, id, i * SEC, i);
	assert_int_equal(metric_range(s, id, 3 * SEC, 5 * SEC, collect_cb, &c), 3);
	assert_true(c.p[0].v == 3 && c.p[2].v == 5);
	assert_int_equal(metric_range(s, id, 3 * SEC + 1, 5 * SEC - 1, NULL, NULL), 1);
	assert_int_equal(metric_range(s, id, 5 * SEC, 5 * SEC, NULL, NULL), 1);
	assert_int_equal(metric_range(s, id, 6 * SEC, 5 * SEC, NULL, NULL), 0);
	assert_int_equal(metric_range(s, id, 0, SEC - 1, NULL, NULL), 0);
	assert_int_equal(metric_range(s, id, 10 * SEC + 1, 20 * SEC, NULL, NULL), 0);
	assert_int_equal(metric_range(s, id, 0, 20 * SEC, NULL, NULL), 10);
	assert_int_equal(metric_range(s, empty, 0, 20 * SEC, NULL, NULL), 0);
	assert_int_equal(metric_range(s, 42, 0, 20 * SEC, NULL, NULL), 0);
	metric_store_free(s);
}

static void
tail_gives_the_newest_points_up_to_a_time_oldest_first(void **state)
{
	struct metric_store *s = store(0, 0, 20 * SEC);
	uint32_t id = metric_intern(s, "x");
	struct metric_point p[8];
	int i;

	assert_int_equal(metric_tail(s, id, INT64_MAX, 8, p), 0);
	for (i = 0; i < 100; i++)
		metric_put(s, id, i * SEC, i);
	assert_int_equal(metric_tail(s, id, INT64_MAX, 3, p), 3);
	assert_true(p[0].v == 97 && p[1].v == 98 && p[2].v == 99);
	assert_int_equal(metric_tail(s, id, 90 * SEC, 2, p), 2);
	assert_true(p[0].v == 89 && p[1].v == 90);
	assert_int_equal(metric_tail(s, id, 90 * SEC - 1, 2, p), 2);
	assert_true(p[0].v == 88 && p[1].v == 89);
	/* Only 79..99 are kept: asking before them finds nothing. */
	assert_int_equal(metric_tail(s, id, 80 * SEC, 8, p), 2);
	assert_true(p[0].v == 79 && p[1].v == 80);
	assert_int_equal(metric_tail(s, id, 78 * SEC, 8, p), 0);
	assert_int_equal(metric_tail(s, 9, INT64_MAX, 8, p), 0);
	metric_store_free(s);
}

/*
 * Random spacings, repeats and out-of-order samples against a list of every
 * accepted sample: the store keeps the suffix starting at the newest sample
 * at or before newest - retention, and a range is the slice of that suffix.
 */
static uint64_t rng = 88172645463325252ULL;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void
random_puts_and_ranges_match_a_list_of_every_sample(void **state)
{
	static struct metric_point all[20000];
	const int64_t retention = 50 * SEC;
	struct metric_store *s = store(0, 100000, retention);
	uint32_t id = metric_intern(s, "x");
	size_t n = 0, first, i, k, want, j;
	uint64_t dropped = 0;
	int64_t t = 0, from, to;
	struct collect c;

	for (k = 0; k < 20000; k++) {
		int64_t pt = t;

		switch (next_rand() % 10) {
		case 0:
			pt = t - 1 - next_rand() % SEC;	/* out of order */
			break;
		case 1:
			break;				/* same time again */
		default:
			t += 1 + next_rand() % (2 * SEC);
			pt = t;
		}
		metric_put(s, id, pt, (double)k);
		if (n > 0 && pt < all[n - 1].t_ns) {
			dropped++;
			continue;
		}
		all[n++] = (struct metric_point){ pt, (double)k };
		if (k % 97 != 0)
			continue;
		first = 0;
		for (i = 0; i < n; i++)
			if (all[i].t_ns <= all[n - 1].t_ns - retention)
				first = i;
		assert_true(metric_oldest_ns(s, id) == all[first].t_ns);
		from = all[first].t_ns + (int64_t)(next_rand() % (60 * SEC)) - 5 * SEC;
		to = from + (int64_t)(next_rand() % (30 * SEC));
		want = 0;
		for (i = first; i < n; i++)
			if (all[i].t_ns >= from && all[i].t_ns <= to)
				want++;
		c.n = 0;
		assert_int_equal(metric_range(s, id, from, to, collect_cb, &c), want);
		for (i = first, j = 0; i < n; i++)
			if (all[i].t_ns >= from && all[i].t_ns <= to) {
				assert_true(c.p[j].t_ns == all[i].t_ns);
				assert_true(c.p[j].v == all[i].v);
				j++;
			}
	}
	assert_int_equal(metric_dropped(s), dropped);
	assert_int_equal(metric_truncated(s), 0);
	metric_store_free(s);
}

/* The store's names, walking the ids as the rules' wildcards do. */
static size_t
live_names(const struct metric_store *s, const char *prefix)
{
	size_t n = 0;

	for (uint32_t id = 1; id <= metric_count(s); id++) {
		const char *name = metric_name(s, id);

		if (name != NULL && strncmp(name, prefix, strlen(prefix)) == 0)
			n++;
	}
	return n;
}

/* names[i] interned as id[i], holding the point (1 s, i). */
static void
put_each(struct metric_store *s, const char *const *names, uint32_t *id, size_t n)
{
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		id[i] = metric_intern(s, names[i]);
		metric_put(s, id[i], SEC, (double)i);
	}
}

static void
forget_drops_every_name_under_a_prefix_and_only_those(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	const char *names[] = { "probe.a.rtt", "probe.a.loss", "probe.ab.rtt", "probe.b.rtt",
	    "agg.a.octets" };
	struct metric_point p;
	uint32_t id[5];
	size_t i;

	put_each(s, names, id, 5);
	assert_int_equal(live_names(s, "probe.a."), 2);
	assert_int_equal(metric_forget(s, "probe.a."), 2);
	assert_int_equal(live_names(s, "probe.a."), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(metric_find(s, names[i]), 0);
		assert_null(metric_name(s, id[i]));
		assert_false(metric_last(s, id[i], &p));
		assert_int_equal(metric_range(s, id[i], 0, INT64_MAX, NULL, NULL), 0);
		assert_true(metric_oldest_ns(s, id[i]) == INT64_MAX);
	}
	/* "probe.a." is not a prefix of "probe.ab.": those stay, points and all. */
	for (i = 2; i < 5; i++) {
		assert_int_equal(metric_find(s, names[i]), id[i]);
		assert_string_equal(metric_name(s, id[i]), names[i]);
		assert_true(metric_last(s, id[i], &p));
		assert_true(p.v == (double)i);
	}
	/* Forgotten once: a second call finds nothing; an empty prefix forgets nothing. */
	assert_int_equal(metric_forget(s, "probe.a."), 0);
	assert_int_equal(metric_forget(s, ""), 0);
	assert_int_equal(metric_forget(s, NULL), 0);
	assert_int_equal(live_names(s, ""), 3);
	metric_store_free(s);
}

static void
forget_except_spares_the_names_under_a_kept_prefix(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	const char *names[] = { "probe.a.rtt", "probe.a.up", "probe.a.b.rtt", "probe.a.b.up",
	    "probe.a.bc.rtt" };
	const char *keep[] = { "probe.a.b." };
	struct metric_point p;
	uint32_t id[5];
	size_t i;

	put_each(s, names, id, 5);
	/* Probe "a" removed, "a.b" kept: "probe.a." starts both's names. */
	assert_int_equal(metric_forget_except(s, "probe.a.", keep, 1), 3);
	for (i = 0; i < 5; i++) {
		bool kept = i == 2 || i == 3;

		assert_int_equal(metric_find(s, names[i]), kept ? id[i] : 0);
		assert_true(metric_last(s, id[i], &p) == kept);
		if (kept)
			assert_true(p.v == (double)i);
	}
	/* No keep list, or empty prefixes in it: as metric_forget. */
	keep[0] = "";
	assert_int_equal(metric_forget_except(s, "probe.a.", keep, 1), 2);
	assert_int_equal(live_names(s, ""), 0);
	metric_store_free(s);
}

static void
a_forgotten_id_takes_no_points_and_intern_revives_it_empty(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	struct metric_point p;
	uint32_t a, b;

	assert_non_null(s);
	a = metric_intern(s, "probe.x.rtt");
	b = metric_intern(s, "probe.y.rtt");
	metric_put(s, a, SEC, 1);
	metric_put(s, b, SEC, 2);
	assert_int_equal(metric_forget(s, "probe.x."), 1);
	/* A module still holding the id writes nowhere: dropped, counted. */
	metric_put(s, a, 2 * SEC, 3);
	assert_int_equal(metric_dropped(s), 1);
	assert_false(metric_last(s, a, &p));
	assert_true(metric_last(s, b, &p) && p.v == 2 && p.t_ns == SEC);
	/* A new name gets a new id, never the forgotten one. */
	assert_int_not_equal(metric_intern(s, "probe.z.rtt"), a);
	/* The same name comes back under its id, with no history. */
	assert_int_equal(metric_intern(s, "probe.x.rtt"), a);
	assert_int_equal(metric_find(s, "probe.x.rtt"), a);
	assert_string_equal(metric_name(s, a), "probe.x.rtt");
	assert_false(metric_last(s, a, &p));
	metric_put(s, a, 3 * SEC, 4);
	assert_true(metric_last(s, a, &p) && p.v == 4 && p.t_ns == 3 * SEC);
	assert_int_equal(metric_range(s, a, 0, INT64_MAX, NULL, NULL), 1);
	assert_int_equal(metric_count(s), 3);
	metric_store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(intern_gives_one_id_per_name),
		cmocka_unit_test(names_empty_or_longer_than_the_max_are_refused_and_counted),
		cmocka_unit_test(names_past_max_metrics_are_refused_and_counted),
		cmocka_unit_test(many_names_survive_table_growth),
		cmocka_unit_test(last_is_the_newest_sample),
		cmocka_unit_test(out_of_order_nan_and_unknown_ids_are_dropped_and_counted),
		cmocka_unit_test(default_retention_trims_by_age_keeping_one_point_at_the_cutoff),
		cmocka_unit_test(retain_lengthens_the_history_and_never_shortens_it),
		cmocka_unit_test(max_points_caps_the_ring_and_counts_what_it_overwrites),
		cmocka_unit_test(range_visits_points_in_time_order_across_the_ring_wrap),
		cmocka_unit_test(range_bounds_are_inclusive),
		cmocka_unit_test(tail_gives_the_newest_points_up_to_a_time_oldest_first),
		cmocka_unit_test(random_puts_and_ranges_match_a_list_of_every_sample),
		cmocka_unit_test(forget_drops_every_name_under_a_prefix_and_only_those),
		cmocka_unit_test(forget_except_spares_the_names_under_a_kept_prefix),
		cmocka_unit_test(a_forgotten_id_takes_no_points_and_intern_revives_it_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
