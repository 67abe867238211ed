/*
 * probes/pstats: every summary value checked against a reference that this
 * test computes itself, from its own list of every outcome reported, with
 * plain methods (exact integer sums, a sort of its own, a table by seq).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/prng.h"
#include "probes/pstats.h"

#define MS	1000000LL
#define SEC	1000000000LL
#define MAXO	4096

struct outcome {
	uint32_t	 seq;
	int64_t		 sent, rtt, at;	/* at: when it is reported */
	int		 lost;
};

/* Every outcome reported so far, in report order, and the jitter the RFC gives. */
struct ref {
	struct outcome	 o[MAXO];
	size_t		 n;
	double		 j;
	int64_t		 last;
	int		 have;
};

static void
ref_reply(struct pstats *ps, struct ref *r, uint32_t seq, int64_t sent, int64_t rtt)
{
	assert_true(r->n < MAXO);
	r->o[r->n++] = (struct outcome){ seq, sent, rtt, sent + rtt, 0 };
	if (r->have)
		r->j += ((double)llabs(rtt - r->last) - r->j) / 16;
	r->last = rtt;
	r->have = 1;
	pstats_reply(ps, seq, sent, rtt);
}

static void
ref_lost(struct pstats *ps, struct ref *r, uint32_t seq, int64_t sent)
{
	assert_true(r->n < MAXO);
	r->o[r->n++] = (struct outcome){ seq, sent, 0, 0, 1 };
	pstats_lost(ps, seq, sent);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t
nearest_rank(const int64_t *sorted, size_t n, double pct)
{
	size_t rank = (size_t)ceil(pct / 100 * (double)n);

	return sorted[rank < 1 ? 0 : rank - 1];
}

static int
cmp_sent(const void *a, const void *b)
{
	const struct outcome *x = a, *y = b;

	if (x->sent != y->sent)
		return x->sent < y->sent ? -1 : 1;
	return (int32_t)(x->seq - y->seq) < 0 ? -1 : 1;
}

/*
 * The summary as defined: of the outcomes reported, the max_samples of the
 * newest sends, those sent at or after now - window; IPDV over seq and
 * seq + 1 both among them.
 */
static void
reference(const struct ref *r, uint32_t max_samples, int64_t window, int64_t now,
    struct pstats_summary *want)
{
	static int64_t rtts[MAXO];
	static const struct outcome *by_seq[2 * MAXO];
	static struct outcome all[MAXO];
	size_t first = r->n > max_samples ? r->n - max_samples : 0;
	int64_t sum = 0, ipdv = 0;
	__int128 sq = 0;
	uint32_t base;
	size_t i, n = 0;

	memset(want, 0, sizeof(*want));
	memset(by_seq, 0, sizeof(by_seq));
	memcpy(all, r->o, r->n * sizeof(all[0]));
	qsort(all, r->n, sizeof(all[0]), cmp_sent);
	/* Every seq is within MAXO of the first one reported. */
	base = r->n > 0 ? r->o[0].seq - MAXO : 0;
	for (i = 0; i < first; i++)
		if (all[i].sent >= now - window)
			want->truncated = true;
	for (i = first; i < r->n; i++) {
		const struct outcome *o = &all[i];

		if (o->sent < now - window)
			continue;
		if (o->lost) {
			want->lost++;
			continue;
		}
		assert_true(o->seq - base < 2 * MAXO);
		by_seq[o->seq - base] = o;
		rtts[n++] = o->rtt;
		sum += o->rtt;
		sq += (__int128)o->rtt * o->rtt;
	}
	want->received = (uint32_t)n;
	if (n + want->lost > 0)
		want->loss_ppm = (uint32_t)((want->lost * 2000000ULL + n + want->lost) /
		    (2 * (n + want->lost)));
	if (n == 0)
		return;
	for (i = 0; i + 1 < 2 * MAXO; i++)
		if (by_seq[i] != NULL && by_seq[i + 1] != NULL) {
			ipdv += llabs(by_seq[i + 1]->rtt - by_seq[i]->rtt);
			want->ipdv_pairs++;
		}
	if (want->ipdv_pairs > 0)
		want->ipdv_mean = (ipdv + want->ipdv_pairs / 2) / want->ipdv_pairs;
	qsort(rtts, n, sizeof(rtts[0]), cmp_i64);
	want->min = rtts[0];
	want->max = rtts[n - 1];
	want->mean = (sum + (int64_t)n / 2) / (int64_t)n;
	/* Population variance exactly, as (n * sum(x^2) - sum(x)^2) / n^2. */
	want->stddev = llroundl(sqrtl((long double)((__int128)n * sq -
	    (__int128)sum * sum) / ((long double)n * n)));
	want->p50 = nearest_rank(rtts, n, 50);
	want->p95 = nearest_rank(rtts, n, 95);
	want->p99 = nearest_rank(rtts, n, 99);
}

static void
assert_summary(const struct pstats_summary *got, const struct pstats_summary *want)
{
	assert_int_equal(got->received, want->received);
	assert_int_equal(got->lost, want->lost);
	assert_int_equal(got->truncated, want->truncated);
	assert_int_equal(got->loss_ppm, want->loss_ppm);
	assert_int_equal(got->min, want->min);
	assert_int_equal(got->max, want->max);
	assert_int_equal(got->mean, want->mean);
	/* The reference's stddev takes another route to the same number: 1 ns of rounding. */
	assert_true(llabs(got->stddev - want->stddev) <= 1);
	assert_int_equal(got->p50, want->p50);
	assert_int_equal(got->p95, want->p95);
	assert_int_equal(got->p99, want->p99);
	assert_int_equal(got->ipdv_pairs, want->ipdv_pairs);
	assert_int_equal(got->ipdv_mean, want->ipdv_mean);
}

/* pstats_running: the summary's loss and IPDV fields, RTT fields 0. */
static void
assert_running(struct pstats *ps, int64_t now, const struct pstats_summary *want)
{
	struct pstats_summary got;

	memset(&got, 0xa5, sizeof(got));
	pstats_running(ps, now, &got);
	assert_int_equal(got.received, want->received);
	assert_int_equal(got.lost, want->lost);
	assert_int_equal(got.truncated, want->truncated);
	assert_int_equal(got.loss_ppm, want->loss_ppm);
	assert_int_equal(got.ipdv_pairs, want->ipdv_pairs);
	assert_int_equal(got.ipdv_mean, want->ipdv_mean);
	assert_int_equal(got.min, 0);
	assert_int_equal(got.p99, 0);
}

static int
cmp_at(const void *a, const void *b)
{
	const struct outcome *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * n sends every interval from seq0; each lost with probability loss_pct
 * (decided at sent + timeout), otherwise answered after a random RTT below
 * max_rtt, so replies reorder. Outcomes are reported in time order and the
 * summary checked against the reference after every few.
 */
static void
simulate(uint32_t seq0, size_t n, uint32_t loss_pct, int64_t max_rtt, uint32_t max_samples,
    int64_t window)
{
	static struct outcome ev[MAXO];
	static struct ref r;
	struct pstats_summary got, want;
	const int64_t interval = 10 * MS, timeout = max_rtt + 1;
	struct pstats *ps = pstats_new(window, max_samples);
	size_t i;

	assert_non_null(ps);
	memset(&r, 0, sizeof(r));
	assert_true(n <= MAXO);
	for (i = 0; i < n; i++) {
		ev[i].seq = seq0 + (uint32_t)i;
		ev[i].sent = SEC + (int64_t)i * interval;
		ev[i].lost = rnd(100) < loss_pct;
		ev[i].rtt = ev[i].lost ? 0 : (int64_t)rnd((uint64_t)max_rtt);
		ev[i].at = ev[i].sent + (ev[i].lost ? timeout : ev[i].rtt);
	}
	qsort(ev, n, sizeof(ev[0]), cmp_at);
	for (i = 0; i < n; i++) {
		if (ev[i].lost)
			ref_lost(ps, &r, ev[i].seq, ev[i].sent);
		else
			ref_reply(ps, &r, ev[i].seq, ev[i].sent, ev[i].rtt);
		if (i % 3 == 1) {
			/* The running sums alone, between full summaries. */
			reference(&r, max_samples, window, ev[i].at, &want);
			assert_running(ps, ev[i].at, &want);
		}
		if (i % 7 == 0 || i + 1 == n) {
			pstats_summary(ps, ev[i].at, &got);
			reference(&r, max_samples, window, ev[i].at, &want);
			assert_summary(&got, &want);
			assert_running(ps, ev[i].at, &want);
			assert_int_equal(pstats_jitter(ps), llround(r.j));
			assert_int_equal(pstats_last_rtt(ps), r.last);
		}
	}
	/* And as the window runs out after the last send. */
	for (i = 0; i < 50; i++) {
		int64_t now = ev[n - 1].at + (int64_t)i * window / 40;

		reference(&r, max_samples, window, now, &want);
		if (i % 2 == 0)
			assert_running(ps, now, &want);
		pstats_summary(ps, now, &got);
		assert_summary(&got, &want);
	}
	assert_int_equal(got.received + got.lost, 0);
	pstats_free(ps);
}

static void
random_outcomes_match_the_reference(void **state)
{
	simulate(0, 3000, 10, 80 * MS, 4096, 5 * SEC);
	simulate(7, 3000, 0, 30 * MS, 4096, 2 * SEC);
	simulate(1000, 2000, 50, 200 * MS, 4096, 1 * SEC);
	/* Replies overtaking by up to 200 sends; RTTs of 0..2 ns, nearly all equal. */
	simulate(5, 2000, 5, 2000 * MS, 4096, 10 * SEC);
	simulate(9, 3000, 10, 3, 4096, 5 * SEC);
}

static void
sequence_numbers_wrapping_keep_ipdv_pairs(void **state)
{
	simulate(0xffffff00u, 1000, 10, 50 * MS, 4096, 20 * SEC);
}

static void
a_full_ring_truncates_the_window_to_the_newest_outcomes(void **state)
{
	simulate(0, 3000, 10, 80 * MS, 100, 5 * SEC);
	simulate(0, 500, 20, 80 * MS, 2, 5 * SEC);
	simulate(0, 500, 0, 20 * MS, 17, 300 * MS);
}

/* Worked by hand: RTTs 10, 30, 20 ms for seqs 0..2, seq 3 lost. */
static void
three_samples_worked_by_hand(void **state)
{
	struct pstats *ps = pstats_new(10 * SEC, 16);
	struct pstats_summary s;

	pstats_reply(ps, 0, 0 * SEC, 10 * MS);
	pstats_reply(ps, 1, 1 * SEC, 30 * MS);
	pstats_reply(ps, 2, 2 * SEC, 20 * MS);
	pstats_lost(ps, 3, 3 * SEC);
	pstats_summary(ps, 5 * SEC, &s);
	assert_int_equal(s.received, 3);
	assert_int_equal(s.lost, 1);
	assert_false(s.truncated);
	assert_int_equal(s.loss_ppm, 250000);
	assert_int_equal(s.min, 10 * MS);
	assert_int_equal(s.max, 30 * MS);
	assert_int_equal(s.mean, 20 * MS);
	/* sqrt((10^2 + 10^2 + 0) / 3) ms = 8.164966 ms */
	assert_int_equal(s.stddev, 8164966);
	/* ranks ceil(1.5) = 2, ceil(2.85) = 3, ceil(2.97) = 3 */
	assert_int_equal(s.p50, 20 * MS);
	assert_int_equal(s.p95, 30 * MS);
	assert_int_equal(s.p99, 30 * MS);
	/* |30 - 10| and |20 - 30|: 15 ms over 2 pairs */
	assert_int_equal(s.ipdv_pairs, 2);
	assert_int_equal(s.ipdv_mean, 15 * MS);
	/* J = 20/16 = 1.25 ms, then 1.25 + (10 - 1.25)/16 = 1.796875 ms */
	assert_int_equal(pstats_jitter(ps), 1796875);
	assert_int_equal(pstats_last_rtt(ps), 20 * MS);
	pstats_free(ps);
}

static void
replies_in_another_order_give_the_same_window_but_their_own_jitter(void **state)
{
	struct pstats *ps = pstats_new(10 * SEC, 16);
	struct pstats_summary s;

	pstats_reply(ps, 0, 0 * SEC, 10 * MS);
	pstats_reply(ps, 2, 2 * SEC, 20 * MS);
	pstats_reply(ps, 1, 1 * SEC, 30 * MS);
	pstats_summary(ps, 5 * SEC, &s);
	assert_int_equal(s.ipdv_pairs, 2);
	assert_int_equal(s.ipdv_mean, 15 * MS);
	assert_int_equal(s.p50, 20 * MS);
	/* Arrival order: D = 10, then 10: J = 0.625, then 0.625 + 9.375/16 ms */
	assert_int_equal(pstats_jitter(ps), 1210938);
	assert_int_equal(pstats_last_rtt(ps), 30 * MS);
	pstats_free(ps);
}

static void
a_loss_breaks_the_ipdv_pair(void **state)
{
	struct pstats *ps = pstats_new(10 * SEC, 16);
	struct pstats_summary s;

	pstats_reply(ps, 0, 0, 10 * MS);
	pstats_reply(ps, 2, 2 * SEC, 50 * MS);
	pstats_lost(ps, 1, 1 * SEC);
	pstats_reply(ps, 3, 3 * SEC, 54 * MS);
	pstats_summary(ps, 4 * SEC, &s);
	assert_int_equal(s.ipdv_pairs, 1);
	assert_int_equal(s.ipdv_mean, 4 * MS);
	pstats_free(ps);
}

static void
an_empty_window_is_all_zero(void **state)
{
	struct pstats *ps = pstats_new(SEC, 2);
	struct pstats_summary s, zero;

	memset(&zero, 0, sizeof(zero));
	pstats_summary(ps, 0, &s);
	assert_memory_equal(&s, &zero, sizeof(s));
	assert_int_equal(pstats_jitter(ps), 0);
	assert_int_equal(pstats_last_rtt(ps), 0);
	pstats_reply(ps, 1, 10 * SEC, 5 * MS);
	pstats_summary(ps, 10 * SEC, &s);
	assert_int_equal(s.received, 1);
	assert_int_equal(s.stddev, 0);
	assert_int_equal(s.p99, 5 * MS);
	assert_int_equal(s.ipdv_pairs, 0);
	/* Expired: nothing left; the last RTT stays. */
	pstats_summary(ps, 11 * SEC + 1, &s);
	assert_memory_equal(&s, &zero, sizeof(s));
	assert_int_equal(pstats_last_rtt(ps), 5 * MS);
	pstats_free(ps);
}

static void
the_window_keeps_sends_at_its_edge_and_drops_older(void **state)
{
	struct pstats *ps = pstats_new(2 * SEC, 64);
	struct pstats_summary s;

	pstats_reply(ps, 0, 1 * SEC, 1 * MS);
	pstats_reply(ps, 1, 2 * SEC, 2 * MS);
	pstats_reply(ps, 2, 3 * SEC, 3 * MS);
	pstats_summary(ps, 4 * SEC, &s);
	assert_int_equal(s.received, 2);
	assert_int_equal(s.min, 2 * MS);
	pstats_summary(ps, 5 * SEC, &s);
	assert_int_equal(s.received, 1);
	assert_int_equal(s.min, 3 * MS);
	pstats_free(ps);
}

/* A loss decided after later replies sits behind them in report order: it still expires on time. */
static void
a_late_decided_loss_expires_by_its_send_time(void **state)
{
	struct pstats *ps = pstats_new(2 * SEC, 64);
	struct pstats_summary s;

	pstats_reply(ps, 1, 2 * SEC, 1 * MS);
	pstats_reply(ps, 2, 3 * SEC, 1 * MS);
	pstats_lost(ps, 0, 1 * SEC);
	pstats_summary(ps, 3 * SEC, &s);
	assert_int_equal(s.lost, 1);
	assert_int_equal(s.received, 2);
	pstats_reply(ps, 3, 4 * SEC, 1 * MS);
	pstats_summary(ps, 4 * SEC, &s);
	assert_int_equal(s.lost, 0);
	assert_int_equal(s.received, 3);
	assert_int_equal(s.loss_ppm, 0);
	pstats_free(ps);
}

static void
all_lost_is_a_million_ppm_and_no_rtt(void **state)
{
	struct pstats *ps = pstats_new(10 * SEC, 32);
	struct pstats_summary s;
	uint32_t i;

	for (i = 0; i < 20; i++)
		pstats_lost(ps, i, (int64_t)i * 100 * MS);
	pstats_summary(ps, 3 * SEC, &s);
	assert_int_equal(s.lost, 20);
	assert_int_equal(s.received, 0);
	assert_int_equal(s.loss_ppm, 1000000);
	assert_int_equal(s.min, 0);
	assert_int_equal(s.max, 0);
	assert_int_equal(s.mean, 0);
	assert_int_equal(s.p99, 0);
	assert_int_equal(s.ipdv_pairs, 0);
	assert_int_equal(pstats_jitter(ps), 0);
	assert_int_equal(pstats_last_rtt(ps), 0);
	pstats_free(ps);
}

/* RTTs of 0 and 60 s: squares near 3.6e21 ns^2, beyond int64. */
static void
extreme_rtts_keep_exact_moments(void **state)
{
	static struct ref r;
	struct pstats *ps = pstats_new(3600 * SEC, 4096);
	struct pstats_summary got, want;
	uint32_t i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 2000; i++)
		ref_reply(ps, &r, i, (int64_t)i * SEC, i % 2 ? 60 * SEC : 0);
	pstats_summary(ps, 2000 * SEC, &got);
	reference(&r, 4096, 3600 * SEC, 2000 * SEC, &want);
	assert_summary(&got, &want);
	assert_int_equal(got.mean, 30 * SEC);
	assert_int_equal(got.stddev, 30 * SEC);
	assert_int_equal(got.min, 0);
	assert_int_equal(got.max, 60 * SEC);
	assert_int_equal(got.p50, 0);
	assert_int_equal(got.p95, 60 * SEC);
	assert_int_equal(got.ipdv_mean, 60 * SEC);
	assert_int_equal(got.ipdv_pairs, 1999);
	assert_int_equal(pstats_jitter(ps), llround(r.j));
	/* J tends to 60 s from below. */
	assert_true(pstats_jitter(ps) > 59 * SEC && pstats_jitter(ps) <= 60 * SEC);
	pstats_free(ps);

	/* A constant 60 s: no spread at all, despite the size of the squares. */
	ps = pstats_new(3600 * SEC, 4096);
	for (i = 0; i < 3000; i++)
		pstats_reply(ps, i, (int64_t)i * SEC, 60 * SEC - 1);
	pstats_summary(ps, 3000 * SEC, &got);
	assert_int_equal(got.mean, 60 * SEC - 1);
	assert_int_equal(got.stddev, 0);
	assert_int_equal(got.ipdv_mean, 0);
	assert_int_equal(pstats_jitter(ps), 0);
	pstats_free(ps);
}

static void
truncation_is_reported_while_a_dropped_outcome_is_in_the_window(void **state)
{
	struct pstats *ps = pstats_new(10 * SEC, 4);
	struct pstats_summary s;
	uint32_t i;

	for (i = 0; i < 6; i++)
		pstats_reply(ps, i, (int64_t)i * SEC, (int64_t)(i + 1) * MS);
	pstats_summary(ps, 6 * SEC, &s);
	assert_true(s.truncated);
	assert_int_equal(s.received, 4);
	assert_int_equal(s.min, 3 * MS);
	/* seq 1 (sent at 1 s, the newest dropped) leaves the window at 11 s. */
	pstats_summary(ps, 11 * SEC, &s);
	assert_true(s.truncated);
	pstats_summary(ps, 11 * SEC + 1, &s);
	assert_false(s.truncated);
	assert_int_equal(s.received, 4);
	pstats_free(ps);
}

static void
bad_parameters_are_refused(void **state)
{
	assert_null(pstats_new(0, 16));
	assert_null(pstats_new(-1, 16));
	assert_null(pstats_new(SEC, 1));
	pstats_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_samples_worked_by_hand),
		cmocka_unit_test(replies_in_another_order_give_the_same_window_but_their_own_jitter),
		cmocka_unit_test(a_loss_breaks_the_ipdv_pair),
		cmocka_unit_test(an_empty_window_is_all_zero),
		cmocka_unit_test(the_window_keeps_sends_at_its_edge_and_drops_older),
		cmocka_unit_test(a_late_decided_loss_expires_by_its_send_time),
		cmocka_unit_test(all_lost_is_a_million_ppm_and_no_rtt),
		cmocka_unit_test(extreme_rtts_keep_exact_moments),
		cmocka_unit_test(truncation_is_reported_while_a_dropped_outcome_is_in_the_window),
		cmocka_unit_test(random_outcomes_match_the_reference),
		cmocka_unit_test(sequence_numbers_wrapping_keep_ipdv_pairs),
		cmocka_unit_test(a_full_ring_truncates_the_window_to_the_newest_outcomes),
		cmocka_unit_test(bad_parameters_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
