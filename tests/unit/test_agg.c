/*
 * engine/agg: exact counts, ranking, Space-Saving bounds above the capacity,
 * evictions, the retained set, snapshot immutability, interval alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/agg.h"

#define KLEN	16

/* A deterministic generator, so that every run sees the same stream. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Key i as KLEN bytes, big-endian in the last four, so byte order = i order. */
static void
mkkey(uint8_t *k, uint32_t i)
{
	memset(k, 0xa5, KLEN);
	k[KLEN - 4] = i >> 24;
	k[KLEN - 3] = i >> 16;
	k[KLEN - 2] = i >> 8;
	k[KLEN - 1] = i;
}

static uint32_t
keyid(const uint8_t *k)
{
	return (uint32_t)k[KLEN - 4] << 24 | (uint32_t)k[KLEN - 3] << 16 |
	    (uint32_t)k[KLEN - 2] << 8 | k[KLEN - 1];
}

static struct agg *
mkagg(uint32_t top, uint32_t capacity, uint32_t retention)
{
	struct agg_params p = { .keylen = KLEN, .top = top,
	    .capacity = capacity, .retention = retention };
	struct agg *a;

	assert_non_null(a = agg_new(&p));
	return a;
}

static void
add(struct agg *a, uint32_t id, uint64_t packets, uint64_t octets)
{
	uint8_t k[KLEN];

	mkkey(k, id);
	agg_add(a, k, packets, octets);
}

static void
assert_counts(const struct agg_counts *c, uint64_t flows, uint64_t packets,
    uint64_t octets)
{
	assert_int_equal(c->flows, flows);
	assert_int_equal(c->packets, packets);
	assert_int_equal(c->octets, octets);
}

static const struct agg_retained *
find_retained(struct agg *a, uint32_t id)
{
	const struct agg_retained *r;
	size_t n, i;

	n = agg_retained(a, &r);
	for (i = 0; i < n; i++)
		if (keyid(r[i].key) == id)
			return &r[i];
	return NULL;
}

static void
new_rejects_invalid_parameters(void **state)
{
	struct agg_params p = { .keylen = KLEN, .top = 10, .capacity = 100 };
	struct agg *a;

	(void)state;
	assert_null(agg_new(NULL));
	p.keylen = 0;
	assert_null(agg_new(&p));
	p.keylen = KEY_MAX_BYTES + 1;
	assert_null(agg_new(&p));
	p.keylen = KLEN;
	p.top = 0;
	assert_null(agg_new(&p));
	p.top = 101;
	assert_null(agg_new(&p));
	p.top = 100;
	assert_non_null(a = agg_new(&p));
	agg_free(a);
	agg_free(NULL);
}

#define EX_KEYS	50
#define EX_FLOWS 5000

static void
counts_are_exact_below_capacity(void **state)
{
	struct agg_counts want[EX_KEYS] = { 0 }, total = { 0 }, run;
	struct agg_snapshot *snap;
	struct agg *a = mkagg(EX_KEYS, 64, 0);
	uint64_t s = 42, p, o;
	uint32_t i, id;
	size_t r;

	(void)state;
	for (i = 0; i < EX_FLOWS; i++) {
		id = rnd(&s) % EX_KEYS;
		p = 1 + rnd(&s) % 100;
		o = p * (40 + rnd(&s) % 1460);
		want[id].flows++;
		want[id].packets += p;
		want[id].octets += o;
		total.flows++;
		total.packets += p;
		total.octets += o;
		add(a, id, p, o);
	}
	assert_int_equal(agg_running_keys(a), EX_KEYS);
	run = agg_running(a);
	assert_counts(&run, total.flows, total.packets, total.octets);
	assert_non_null(snap = agg_close(a, 0, 300000));
	assert_int_equal(snap->keys, EX_KEYS);
	assert_int_equal(snap->nrows, EX_KEYS);
	assert_int_equal(snap->evictions, 0);
	assert_counts(&snap->total, total.flows, total.packets, total.octets);
	assert_counts(&snap->other, 0, 0, 0);
	for (r = 0; r < snap->nrows; r++) {
		id = keyid(snap->rows[r].key);
		assert_true(id < EX_KEYS);
		assert_counts(&snap->rows[r].c, want[id].flows,
		    want[id].packets, want[id].octets);
		assert_int_equal(snap->rows[r].error, 0);
	}
	/* The close opened an empty interval. */
	assert_int_equal(agg_running_keys(a), 0);
	assert_int_equal(agg_running(a).flows, 0);
	assert_int_equal(agg_running(a).octets, 0);
	agg_snapshot_free(snap);
	agg_free(a);
}

static void
rows_rank_by_octets_then_key_bytes(void **state)
{
	/* id -> octets; ties at 500 and 100 must come out in key order. */
	static const uint32_t ids[] = { 7, 3, 9, 1, 5, 8 };
	static const uint64_t oct[] = { 500, 100, 900, 500, 100, 500 };
	static const uint32_t order[] = { 9, 1, 7, 8, 3, 5 };
	struct agg_snapshot *snap;
	struct agg *a = mkagg(6, 6, 0);
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++)
		add(a, ids[i], 1, oct[i]);
	assert_non_null(snap = agg_close(a, 0, 1000));
	assert_int_equal(snap->nrows, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(keyid(snap->rows[i].key), order[i]);
	agg_snapshot_free(snap);
	agg_free(a);
}

static void
rows_other_and_total_are_consistent(void **state)
{
	struct agg_snapshot *snap;
	struct agg *a = mkagg(3, 16, 0);
	struct agg_counts sum = { 0 };
	uint32_t i;
	size_t r;

	(void)state;
	for (i = 0; i < 10; i++)
		add(a, i, i + 1, 1000 * (i + 1));
	add(a, 2, 5, 50);
	assert_non_null(snap = agg_close(a, 0, 1000));
	assert_int_equal(snap->keys, 10);
	assert_int_equal(snap->nrows, 3);
	assert_counts(&snap->total, 11, 55 + 5, 55000 + 50);
	for (r = 0; r < snap->nrows; r++) {
		sum.flows += snap->rows[r].c.flows;
		sum.packets += snap->rows[r].c.packets;
		sum.octets += snap->rows[r].c.octets;
	}
	assert_counts(&sum, 3, 10 + 9 + 8, 27000);
	assert_counts(&snap->other, 11 - 3, 60 - 27, 55050 - 27000);
	agg_snapshot_free(snap);

	/* Fewer keys than the top: every key is a row, nothing is other. */
	add(a, 1, 1, 10);
	add(a, 2, 1, 20);
	assert_non_null(snap = agg_close(a, 1000, 2000));
	assert_int_equal(snap->nrows, 2);
	assert_counts(&snap->other, 0, 0, 0);
	agg_snapshot_free(snap);

	/* An empty interval has no rows. */
	assert_non_null(snap = agg_close(a, 2000, 3000));
	assert_int_equal(snap->nrows, 0);
	assert_int_equal(snap->keys, 0);
	assert_counts(&snap->total, 0, 0, 0);
	agg_snapshot_free(snap);
	agg_free(a);
}

static void
keys_of_any_length_are_told_apart(void **state)
{
	static const size_t lens[] = { 1, 3, 8, 9, 17, KEY_MAX_BYTES };
	struct agg_params p = { .top = 200, .capacity = 256 };
	struct agg_snapshot *snap;
	uint8_t k[KEY_MAX_BYTES];
	struct agg *a;
	size_t l, r;
	uint32_t i, n;

	(void)state;
	for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		p.keylen = lens[l];
		assert_non_null(a = agg_new(&p));
		n = 200;
		/* Keys differing only in their last byte, three flows each. */
		for (r = 0; r < 3; r++)
			for (i = 0; i < n; i++) {
				memset(k, 0, sizeof(k));
				k[p.keylen - 1] = (uint8_t)i;
				agg_add(a, k, 1, 10);
			}
		assert_non_null(snap = agg_close(a, 0, 1));
		assert_int_equal(snap->keys, n);
		assert_int_equal(snap->nrows, n);
		for (r = 0; r < snap->nrows; r++) {
			assert_counts(&snap->rows[r].c, 3, 3, 30);
			assert_int_equal(snap->rows[r].key[p.keylen - 1], r);
		}
		agg_snapshot_free(snap);
		agg_free(a);
	}
}

static void
full_table_evicts_the_smallest_and_counts_evictions(void **state)
{
	struct agg_snapshot *snap;
	struct agg *a = mkagg(4, 4, 0);

	(void)state;
	add(a, 1, 1, 400);
	add(a, 2, 1, 300);
	add(a, 3, 1, 100);
	add(a, 4, 1, 200);
	assert_int_equal(agg_evictions_total(a), 0);
	/* Key 3 (100 octets) goes; 5 inherits 100 + 50 with error 100. */
	add(a, 5, 7, 50);
	assert_int_equal(agg_evictions_total(a), 1);
	assert_int_equal(agg_running_keys(a), 4);
	/* Now the smallest is 5 (150): 6 inherits 150 + 60 with error 150. */
	add(a, 6, 2, 60);
	assert_int_equal(agg_evictions_total(a), 2);
	assert_non_null(snap = agg_close(a, 0, 1000));
	assert_int_equal(snap->evictions, 2);
	assert_int_equal(snap->keys, 4);
	assert_counts(&snap->total, 6, 13, 1110);
	assert_int_equal(keyid(snap->rows[0].key), 1);
	assert_int_equal(keyid(snap->rows[1].key), 2);
	assert_int_equal(keyid(snap->rows[2].key), 6);
	assert_counts(&snap->rows[2].c, 1, 2, 210);
	assert_int_equal(snap->rows[2].error, 150);
	assert_int_equal(keyid(snap->rows[3].key), 4);
	assert_int_equal(snap->rows[3].error, 0);
	/* Flows and packets of evicted keys are only in `other`. */
	assert_counts(&snap->other, 6 - 4, 13 - (1 + 1 + 2 + 1), 0);
	agg_snapshot_free(snap);

	/* Per interval in the snapshot, since creation in the total. */
	add(a, 1, 1, 1);
	assert_non_null(snap = agg_close(a, 1000, 2000));
	assert_int_equal(snap->evictions, 0);
	assert_int_equal(agg_evictions_total(a), 2);
	agg_snapshot_free(snap);
	agg_free(a);
}

#define SS_KEYS		5000
#define SS_FLOWS	100000
#define SS_CAP		500

static void
space_saving_bounds_hold_on_a_skewed_stream(void **state)
{
	uint64_t *truth, total = 0, s = 7, o, flows = 0;
	bool *seen;
	struct agg_snapshot *snap;
	struct agg *a = mkagg(SS_CAP, SS_CAP, 0);
	uint32_t i, id, heavy = 0;
	size_t r;
	uint64_t sum = 0;

	(void)state;
	assert_non_null(truth = calloc(SS_KEYS, sizeof(*truth)));
	assert_non_null(seen = calloc(SS_KEYS, sizeof(*seen)));
	for (i = 0; i < SS_FLOWS; i++) {
		/* Skewed, close to log-uniform: small ids are heavy. */
		id = (uint32_t)(rnd(&s) % SS_KEYS) >> (rnd(&s) % 13);
		if (rnd(&s) % 4 == 0)
			id = rnd(&s) % SS_KEYS;		/* a uniform tail */
		o = 40 + rnd(&s) % 1500;
		truth[id] += o;
		total += o;
		flows++;
		add(a, id, 1, o);
	}
	assert_non_null(snap = agg_close(a, 0, 1000));
	assert_int_equal(snap->total.octets, total);
	assert_int_equal(snap->total.flows, flows);
	assert_int_equal(snap->keys, SS_CAP);
	assert_int_equal(snap->nrows, SS_CAP);
	assert_true(snap->evictions > 0);
	assert_int_equal(snap->evictions, agg_evictions_total(a));
	for (r = 0; r < snap->nrows; r++) {
		id = keyid(snap->rows[r].key);
		assert_true(id < SS_KEYS);
		assert_false(seen[id]);
		seen[id] = true;
		assert_true(snap->rows[r].c.octets >= truth[id]);
		assert_true(snap->rows[r].c.octets <= truth[id] + snap->rows[r].error);
		assert_true(snap->rows[r].error <= total / SS_CAP);
		if (r > 0)
			assert_true(snap->rows[r - 1].c.octets >= snap->rows[r].c.octets);
		sum += snap->rows[r].c.octets;
	}
	/* The counts of all slots add up to the stream. */
	assert_int_equal(sum, total);
	for (id = 0; id < SS_KEYS; id++)
		if (truth[id] > total / SS_CAP) {
			heavy++;
			assert_true(seen[id]);
		}
	assert_true(heavy > 10);	/* the stream does have heavy hitters */
	agg_snapshot_free(snap);
	free(truth);
	free(seen);
	agg_free(a);
}

static void
retained_rows_follow_the_top_n_within_the_retention(void **state)
{
	const struct agg_retained *r, *rows;
	struct agg_snapshot *snap;
	struct agg *a = mkagg(1, 8, 2);

	(void)state;
	/* Close 1: A (1) is on top. */
	add(a, 1, 2, 100);
	add(a, 2, 1, 10);
	assert_non_null(snap = agg_close(a, 0, 1000));
	agg_snapshot_free(snap);
	assert_int_equal(agg_retained(a, &rows), 1);
	assert_non_null(r = find_retained(a, 1));
	assert_counts(&r->total, 1, 2, 100);
	assert_int_equal(r->since_ms, 0);
	assert_int_equal(r->last_top_ms, 1000);
	assert_null(find_retained(a, 2));

	/* Close 2: B (2) on top; A stays and keeps adding. */
	add(a, 2, 5, 500);
	add(a, 1, 1, 50);
	assert_non_null(snap = agg_close(a, 1000, 2000));
	agg_snapshot_free(snap);
	assert_int_equal(agg_retained(a, &rows), 2);
	assert_int_equal(keyid(rows[0].key), 1);	/* by key bytes */
	assert_int_equal(keyid(rows[1].key), 2);
	assert_counts(&rows[0].total, 2, 3, 150);
	assert_int_equal(rows[0].since_ms, 0);
	assert_int_equal(rows[0].last_top_ms, 1000);
	assert_counts(&rows[1].total, 1, 5, 500);
	assert_int_equal(rows[1].since_ms, 1000);
	assert_int_equal(rows[1].last_top_ms, 2000);

	/* Close 3: A absent from the interval adds nothing, still retained. */
	add(a, 2, 5, 500);
	assert_non_null(snap = agg_close(a, 2000, 3000));
	agg_snapshot_free(snap);
	assert_non_null(r = find_retained(a, 1));
	assert_counts(&r->total, 2, 3, 150);
	assert_non_null(r = find_retained(a, 2));
	assert_counts(&r->total, 2, 10, 1000);
	assert_int_equal(r->last_top_ms, 3000);

	/* Close 4: A's last top was 3 closes ago (> retention 2): dropped. */
	add(a, 2, 5, 500);
	add(a, 1, 1, 30);
	assert_non_null(snap = agg_close(a, 3000, 4000));
	agg_snapshot_free(snap);
	assert_int_equal(agg_retained(a, &rows), 1);
	assert_null(find_retained(a, 1));
	assert_non_null(r = find_retained(a, 2));
	assert_counts(&r->total, 3, 15, 1500);
	assert_int_equal(r->since_ms, 1000);

	/* Close 5: A is back on top: a new row, a new since. */
	add(a, 1, 9, 9000);
	assert_non_null(snap = agg_close(a, 4000, 5000));
	agg_snapshot_free(snap);
	assert_int_equal(agg_retained(a, &rows), 2);
	assert_non_null(r = find_retained(a, 1));
	assert_counts(&r->total, 1, 9, 9000);
	assert_int_equal(r->since_ms, 4000);
	assert_int_equal(r->last_top_ms, 5000);
	assert_non_null(r = find_retained(a, 2));
	assert_counts(&r->total, 3, 15, 1500);
	assert_int_equal(r->last_top_ms, 4000);
	agg_free(a);
}

static void
retention_zero_keeps_a_row_only_while_in_the_top_n(void **state)
{
	const struct agg_retained *rows;
	struct agg_snapshot *snap;
	struct agg *a = mkagg(1, 4, 0);

	(void)state;
	add(a, 1, 1, 100);
	assert_non_null(snap = agg_close(a, 0, 1000));
	agg_snapshot_free(snap);
	assert_int_equal(agg_retained(a, &rows), 1);
	add(a, 2, 1, 200);
	add(a, 1, 1, 100);
	assert_non_null(snap = agg_close(a, 1000, 2000));
	agg_snapshot_free(snap);
	assert_int_equal(agg_retained(a, &rows), 1);
	assert_int_equal(keyid(rows[0].key), 2);
	assert_int_equal(rows[0].since_ms, 1000);
	assert_non_null(snap = agg_close(a, 2000, 3000));
	agg_snapshot_free(snap);
	assert_int_equal(agg_retained(a, &rows), 0);
	agg_free(a);
}

static void
retained_set_stays_within_top_times_retention_plus_one(void **state)
{
	const struct agg_retained *rows;
	struct agg_snapshot *snap;
	struct agg *a = mkagg(5, 50, 3);
	uint64_t s = 99;
	uint32_t c, i;
	size_t n, j, most = 0;

	(void)state;
	for (c = 0; c < 200; c++) {
		for (i = 0; i < 300; i++)
			add(a, rnd(&s) % 1000, 1, 1 + rnd(&s) % 1000);
		assert_non_null(snap = agg_close(a, c * 1000, (c + 1) * 1000));
		agg_snapshot_free(snap);
		n = agg_retained(a, &rows);
		assert_true(n <= 5 * (3 + 1));
		most = n > most ? n : most;
		for (j = 1; j < n; j++)
			assert_true(memcmp(rows[j - 1].key, rows[j].key, KLEN) < 0);
	}
	assert_true(most > 5);	/* the churn did exercise the retention */
	agg_free(a);
}

static void
snapshots_never_change_after_later_adds_and_closes(void **state)
{
	struct agg_snapshot *snap, *later;
	struct agg_row copy[4];
	uint8_t keys[4][KLEN];
	struct agg_counts total;
	struct agg *a = mkagg(4, 4, 1);
	uint32_t i;

	(void)state;
	for (i = 0; i < 6; i++)
		add(a, i, i, 100 * i);
	assert_non_null(snap = agg_close(a, 0, 1000));
	assert_int_equal(snap->nrows, 4);
	memcpy(copy, snap->rows, sizeof(copy));
	for (i = 0; i < 4; i++)
		memcpy(keys[i], snap->rows[i].key, KLEN);
	total = snap->total;
	/* Reuse every slot with other keys and counts, and close again. */
	for (i = 0; i < 100; i++)
		add(a, 1000 + i, 3, 7 * i);
	assert_non_null(later = agg_close(a, 1000, 2000));
	for (i = 0; i < 10; i++)
		add(a, 2000 + i, 1, 1);
	agg_snapshot_free(later);
	assert_non_null(later = agg_close(a, 2000, 3000));
	agg_snapshot_free(later);
	assert_int_equal(snap->start_ms, 0);
	assert_int_equal(snap->end_ms, 1000);
	assert_memory_equal(&snap->total, &total, sizeof(total));
	for (i = 0; i < 4; i++) {
		assert_memory_equal(&snap->rows[i].c, &copy[i].c, sizeof(copy[i].c));
		assert_int_equal(snap->rows[i].error, copy[i].error);
		assert_memory_equal(snap->rows[i].key, keys[i], KLEN);
	}
	agg_snapshot_free(snap);
	agg_free(a);
}

static void
next_close_is_the_next_epoch_aligned_boundary(void **state)
{
	(void)state;
	/* 300 s: :00, :05, ... of the wall clock. */
	assert_int_equal(agg_next_close_ms(0, 300), 300000);
	assert_int_equal(agg_next_close_ms(1, 300), 300000);
	assert_int_equal(agg_next_close_ms(299999, 300), 300000);
	/* Exactly on a boundary: the next one. */
	assert_int_equal(agg_next_close_ms(300000, 300), 600000);
	assert_int_equal(agg_next_close_ms(300001, 300), 600000);
	/* 2024-01-01T00:02:30Z closes at 00:05:00. */
	assert_int_equal(agg_next_close_ms(INT64_C(1704067350000), 300),
	    INT64_C(1704067500000));
	assert_int_equal(agg_next_close_ms(INT64_C(1704067500000), 300),
	    INT64_C(1704067800000));
	assert_int_equal(agg_next_close_ms(59999, 60), 60000);
	assert_int_equal(agg_next_close_ms(60000, 60), 120000);
	/* Before the epoch, still aligned and strictly after. */
	assert_int_equal(agg_next_close_ms(-1, 60), 0);
	assert_int_equal(agg_next_close_ms(-60000, 60), 0);
	assert_int_equal(agg_next_close_ms(-60001, 60), -60000);
	/* 0 s counts as 1 s; the far future does not overflow. */
	assert_int_equal(agg_next_close_ms(1500, 0), 2000);
	assert_int_equal(agg_next_close_ms(INT64_MAX - 5, 300), INT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_rejects_invalid_parameters),
		cmocka_unit_test(counts_are_exact_below_capacity),
		cmocka_unit_test(rows_rank_by_octets_then_key_bytes),
		cmocka_unit_test(rows_other_and_total_are_consistent),
		cmocka_unit_test(keys_of_any_length_are_told_apart),
		cmocka_unit_test(full_table_evicts_the_smallest_and_counts_evictions),
		cmocka_unit_test(space_saving_bounds_hold_on_a_skewed_stream),
		cmocka_unit_test(retained_rows_follow_the_top_n_within_the_retention),
		cmocka_unit_test(retention_zero_keeps_a_row_only_while_in_the_top_n),
		cmocka_unit_test(retained_set_stays_within_top_times_retention_plus_one),
		cmocka_unit_test(snapshots_never_change_after_later_adds_and_closes),
		cmocka_unit_test(next_close_is_the_next_epoch_aligned_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
