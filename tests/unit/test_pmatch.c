/*
 * probes/pmatch: each reply class case by case, the ring overwrite, the
 * 32-bit wrap, and random sends, replies and expiries against a list of
 * every send that the test keeps itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/prng.h"
#include "probes/pmatch.h"

#define MS	1000000LL
#define SEC	1000000000LL
#define LOG_MAX	100000

/* What lost() was told, in order. */
struct lost_log {
	uint32_t	 seq[LOG_MAX];
	int64_t		 sent[LOG_MAX];
	size_t		 n;
};

static void
lost_cb(void *arg, uint32_t seq, int64_t sent_ns)
{
	struct lost_log *l = arg;

	assert_true(l->n < LOG_MAX);
	l->seq[l->n] = seq;
	l->sent[l->n] = sent_ns;
	l->n++;
}

static struct lost_log lg;

static struct pmatch *
fresh(uint32_t slots)
{
	struct pmatch *pm = pmatch_new(slots);

	assert_non_null(pm);
	memset(&lg, 0, sizeof(lg));
	return pm;
}

static void
send_at(struct pmatch *pm, uint32_t seq, int64_t t)
{
	pmatch_sent(pm, seq, t, t + SEC, lost_cb, &lg);
}

static void
reply_is(struct pmatch *pm, uint32_t seq, int64_t now, enum pmatch_result want, int64_t sent)
{
	int64_t got = -1;

	assert_int_equal(pmatch_reply(pm, seq, now, &got), want);
	if (want == PMATCH_OK || want == PMATCH_LATE)
		assert_true(got == sent);
}

static void
slots_round_up_to_a_power_of_two_within_bounds(void **state)
{
	uint32_t in[] = { 0, 1, 16, 17, 100, 4096, 65535, 65536, 65537, UINT32_MAX };
	uint32_t want[] = { 16, 16, 16, 32, 128, 4096, 65536, 65536, 65536, 65536 };
	struct pmatch *pm;
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		pm = pmatch_new(in[i]);
		assert_non_null(pm);
		assert_int_equal(pmatch_slots(pm), want[i]);
		pmatch_free(pm);
	}
	pmatch_free(NULL);
}

static void
a_reply_in_time_matches_with_its_send_time(void **state)
{
	struct pmatch *pm = fresh(16);

	send_at(pm, 100, 5 * SEC + 17);
	send_at(pm, 101, 6 * SEC + 23);
	reply_is(pm, 101, 6 * SEC + 500 * MS, PMATCH_OK, 6 * SEC + 23);
	/* At the deadline exactly is still in time. */
	reply_is(pm, 100, 6 * SEC + 17, PMATCH_OK, 5 * SEC + 17);
	assert_int_equal(pmatch_expire(pm, 100 * SEC, lost_cb, &lg), 0);
	assert_int_equal(lg.n, 0);
	pmatch_free(pm);
}

static void
a_reply_after_expiry_is_late_then_duplicate(void **state)
{
	struct pmatch *pm = fresh(16);

	send_at(pm, 7, 1 * SEC);
	assert_int_equal(pmatch_expire(pm, 2 * SEC, lost_cb, &lg), 1);
	assert_int_equal(lg.n, 1);
	assert_int_equal(lg.seq[0], 7);
	assert_true(lg.sent[0] == 1 * SEC);
	reply_is(pm, 7, 3 * SEC, PMATCH_LATE, 1 * SEC);
	reply_is(pm, 7, 3 * SEC, PMATCH_DUPLICATE, 0);
	pmatch_free(pm);
}

/* Past the deadline but before the caller expired it: late, and still declared lost. */
static void
a_reply_past_its_deadline_is_late_before_expiry_too(void **state)
{
	struct pmatch *pm = fresh(16);

	send_at(pm, 7, 1 * SEC);
	reply_is(pm, 7, 2 * SEC + 1, PMATCH_LATE, 1 * SEC);
	reply_is(pm, 7, 2 * SEC + 2, PMATCH_DUPLICATE, 0);
	assert_int_equal(pmatch_expire(pm, 2 * SEC + 3, lost_cb, &lg), 1);
	assert_int_equal(lg.seq[0], 7);
	reply_is(pm, 7, 2 * SEC + 4, PMATCH_DUPLICATE, 0);
	pmatch_free(pm);
}

static void
a_second_reply_is_a_duplicate(void **state)
{
	struct pmatch *pm = fresh(16);

	send_at(pm, 0, 0);
	reply_is(pm, 0, 10 * MS, PMATCH_OK, 0);
	reply_is(pm, 0, 11 * MS, PMATCH_DUPLICATE, 0);
	reply_is(pm, 0, 5 * SEC, PMATCH_DUPLICATE, 0);
	assert_int_equal(pmatch_expire(pm, 5 * SEC, lost_cb, &lg), 0);
	pmatch_free(pm);
}

static void
never_sent_or_too_old_is_unknown(void **state)
{
	struct pmatch *pm = fresh(16);
	uint32_t s;

	reply_is(pm, 0, 0, PMATCH_UNKNOWN, 0);
	for (s = 1000; s < 1040; s++)
		send_at(pm, s, (int64_t)s * MS);
	reply_is(pm, 1040, 1040 * MS, PMATCH_UNKNOWN, 0);
	reply_is(pm, 999, 1040 * MS, PMATCH_UNKNOWN, 0);
	reply_is(pm, 2000000, 1040 * MS, PMATCH_UNKNOWN, 0);
	/* 1024 ... 1039 hold the ring; 1023 was overwritten by 1039. */
	reply_is(pm, 1023, 1040 * MS, PMATCH_UNKNOWN, 0);
	reply_is(pm, 1024, 1040 * MS, PMATCH_OK, 1024 * MS);
	reply_is(pm, 1039, 1040 * MS, PMATCH_OK, 1039 * MS);
	pmatch_free(pm);
}

static void
the_ring_overwrite_declares_the_send_in_flight_lost(void **state)
{
	struct pmatch *pm = fresh(16);
	uint32_t s;

	/* 16 in flight, 0 answered; 16 takes the slot of 0, 17 that of 1. */
	for (s = 0; s < 16; s++)
		send_at(pm, s, (int64_t)s * MS);
	reply_is(pm, 0, 20 * MS, PMATCH_OK, 0);
	send_at(pm, 16, 16 * MS);
	assert_int_equal(lg.n, 0);
	send_at(pm, 17, 17 * MS);
	assert_int_equal(lg.n, 1);
	assert_int_equal(lg.seq[0], 1);
	assert_true(lg.sent[0] == 1 * MS);
	reply_is(pm, 1, 30 * MS, PMATCH_UNKNOWN, 0);
	assert_true(pmatch_next_deadline(pm) == 2 * MS + SEC);
	pmatch_free(pm);
}

static void
expire_declares_in_seq_order_and_stops_at_the_first_in_time(void **state)
{
	struct pmatch *pm = fresh(64);
	uint32_t s;

	assert_true(pmatch_next_deadline(pm) == INT64_MAX);
	for (s = 0; s < 10; s++)
		send_at(pm, s, (int64_t)s * 100 * MS);
	reply_is(pm, 0, 1 * MS, PMATCH_OK, 0);
	reply_is(pm, 2, 1 * MS, PMATCH_OK, 200 * MS);
	reply_is(pm, 3, 1 * MS, PMATCH_OK, 300 * MS);
	assert_true(pmatch_next_deadline(pm) == 100 * MS + SEC);
	/* Deadlines 1.1, 1.4, 1.5 s ... at 1.55 s: 1, 4, 5. */
	assert_int_equal(pmatch_expire(pm, 1550 * MS, lost_cb, &lg), 3);
	assert_int_equal(lg.n, 3);
	assert_int_equal(lg.seq[0], 1);
	assert_int_equal(lg.seq[1], 4);
	assert_int_equal(lg.seq[2], 5);
	assert_true(pmatch_next_deadline(pm) == 600 * MS + SEC);
	assert_int_equal(pmatch_expire(pm, 1550 * MS, lost_cb, &lg), 0);
	for (s = 6; s < 10; s++)
		reply_is(pm, s, 1 * SEC, PMATCH_OK, (int64_t)s * 100 * MS);
	assert_true(pmatch_next_deadline(pm) == INT64_MAX);
	assert_int_equal(pmatch_expire(pm, 100 * SEC, lost_cb, &lg), 0);
	pmatch_free(pm);
}

static void
sequence_numbers_wrap_at_32_bits(void **state)
{
	struct pmatch *pm = fresh(16);
	uint32_t s = 0xfffffff8u;
	int i;

	for (i = 0; i < 16; i++, s++)
		send_at(pm, s, (int64_t)i * MS);
	/* s is now 8: 0xfffffff8 .. 7 are in the ring. */
	reply_is(pm, 0xfffffffeu, 20 * MS, PMATCH_OK, 6 * MS);
	reply_is(pm, 1, 20 * MS, PMATCH_OK, 9 * MS);
	reply_is(pm, 8, 20 * MS, PMATCH_UNKNOWN, 0);
	reply_is(pm, 0xfffffff7u, 20 * MS, PMATCH_UNKNOWN, 0);
	assert_int_equal(pmatch_expire(pm, 100 * SEC, lost_cb, &lg), 14);
	assert_int_equal(lg.seq[0], 0xfffffff8u);
	assert_int_equal(lg.seq[5], 0xfffffffdu);
	assert_int_equal(lg.seq[6], 0xffffffffu);
	assert_int_equal(lg.seq[7], 0);
	assert_int_equal(lg.seq[8], 2);
	assert_int_equal(lg.seq[13], 7);
	pmatch_free(pm);
}

static void
a_restarted_counter_declares_everything_in_flight_lost(void **state)
{
	struct pmatch *pm = fresh(16);

	send_at(pm, 40, 0);
	send_at(pm, 41, 1);
	send_at(pm, 42, 2);
	reply_is(pm, 41, 3, PMATCH_OK, 1);
	send_at(pm, 5, 4);
	assert_int_equal(lg.n, 2);
	assert_int_equal(lg.seq[0], 40);
	assert_int_equal(lg.seq[1], 42);
	reply_is(pm, 5, 5, PMATCH_OK, 4);
	reply_is(pm, 40, 5, PMATCH_UNKNOWN, 0);
	assert_true(pmatch_next_deadline(pm) == INT64_MAX);
	pmatch_free(pm);
}

/* The test's own list: every send by index from seq0. */
struct send {
	int64_t		 sent, deadline;
	int		 state;		/* 1 in flight, 2 answered, 3 lost */
	int		 replied;
};

static void
random_traffic_matches_a_list_of_sends(void **state)
{
	enum { N = 30000 };
	static struct send m[N];
	static struct lost_log want;
	const uint32_t seq0 = 0xffffd000u;
	struct pmatch *pm = fresh(64);
	const int64_t slots = pmatch_slots(pm);
	int64_t now = 0, sent, i, last = -1, d;
	size_t step, checked = 0;

	memset(m, 0, sizeof(m));
	want.n = 0;
	for (step = 0; step < 200000 && last + 1 < N; step++) {
		uint64_t op = rnd(100);

		now += (int64_t)rnd(20 * MS);
		if (op < 30) {
			/* Timeouts of 0.5 to 1.5 s, but deadlines in seq order. */
			d = now + 500 * MS + (int64_t)rnd(SEC);
			if (last >= 0 && d < m[last].deadline)
				d = m[last].deadline;
			last++;
			if (last >= slots && m[last - slots].state == 1) {
				m[last - slots].state = 3;
				want.seq[want.n++] = seq0 + (uint32_t)(last - slots);
			}
			m[last] = (struct send){ now, d, 1, 0 };
			pmatch_sent(pm, seq0 + (uint32_t)last, now, d, lost_cb, &lg);
		} else if (op < 90) {
			enum pmatch_result r, exp;

			i = last - (int64_t)rnd(2 * (uint64_t)slots) + 3;
			r = pmatch_reply(pm, seq0 + (uint32_t)i, now, &sent);
			if (i < 0 || i > last || last - i >= slots)
				exp = PMATCH_UNKNOWN;
			else if (m[i].state == 2)
				exp = PMATCH_DUPLICATE;
			else if (m[i].state == 1 && now <= m[i].deadline) {
				exp = PMATCH_OK;
				m[i].state = 2;
			} else {
				exp = m[i].replied ? PMATCH_DUPLICATE : PMATCH_LATE;
				m[i].replied = 1;
			}
			assert_int_equal(r, exp);
			if (r == PMATCH_OK || r == PMATCH_LATE)
				assert_true(sent == m[i].sent);
		} else {
			uint32_t n = 0;

			for (i = last - slots + 1; i <= last; i++)
				if (i >= 0 && m[i].state == 1 && m[i].deadline <= now) {
					m[i].state = 3;
					want.seq[want.n++] = seq0 + (uint32_t)i;
					n++;
				}
			assert_int_equal(pmatch_expire(pm, now, lost_cb, &lg), n);
		}
		assert_int_equal(lg.n, want.n);
		assert_memory_equal(lg.seq + checked, want.seq + checked,
		    (want.n - checked) * sizeof(want.seq[0]));
		checked = want.n;
		d = INT64_MAX;
		for (i = last - slots + 1; i <= last; i++)
			if (i >= 0 && m[i].state == 1 && m[i].deadline < d)
				d = m[i].deadline;
		assert_true(pmatch_next_deadline(pm) == d);
	}
	assert_true(want.n > 100);
	pmatch_free(pm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slots_round_up_to_a_power_of_two_within_bounds),
		cmocka_unit_test(a_reply_in_time_matches_with_its_send_time),
		cmocka_unit_test(a_reply_after_expiry_is_late_then_duplicate),
		cmocka_unit_test(a_reply_past_its_deadline_is_late_before_expiry_too),
		cmocka_unit_test(a_second_reply_is_a_duplicate),
		cmocka_unit_test(never_sent_or_too_old_is_unknown),
		cmocka_unit_test(the_ring_overwrite_declares_the_send_in_flight_lost),
		cmocka_unit_test(expire_declares_in_seq_order_and_stops_at_the_first_in_time),
		cmocka_unit_test(sequence_numbers_wrap_at_32_bits),
		cmocka_unit_test(a_restarted_counter_declares_everything_in_flight_lost),
		cmocka_unit_test(random_traffic_matches_a_list_of_sends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
