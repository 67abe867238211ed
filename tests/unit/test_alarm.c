/*
 * engine/alarm: the state machine on a synthetic clock, one scripted
 * evaluation at a time (state and event checked after each), the token
 * bucket against counts the test derives from its rate and burst, the
 * rule language driving an alarm end to end, and restore after restart.
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

#include "engine/alarm.h"

#define SEC	1000000000LL
#define T	EXPR_TRUE
#define F	EXPR_FALSE
#define U	EXPR_UNKNOWN

struct line {
	int64_t		 t;		/* seconds */
	enum expr_truth	 when, clear, critical;
	enum alarm_state want;
	int		 event;		/* 0: none, else enum alarm_event_kind */
};

static void
play(const struct alarm_params *p, const struct line *script, size_t n, struct alarm *a)
{
	struct alarm_event ev;
	struct alarm_input in;
	size_t i;
	bool got;

	for (i = 0; i < n; i++) {
		memset(&in, 0, sizeof(in));
		in.when = script[i].when;
		in.clear = script[i].clear;
		in.critical = script[i].critical;
		in.has_value = true;
		in.value = (double)i;
		got = alarm_step(a, p, &in, script[i].t * SEC, NULL, &ev);
		if (a->state != script[i].want || (got ? (int)ev.kind : 0) != script[i].event)
			fail_msg("line %zu (t=%llds): state %d event %d, want state %d event %d", i,
			    (long long)script[i].t, a->state, got ? (int)ev.kind : 0,
			    script[i].want, script[i].event);
		if (got) {
			assert_true(ev.notify);
			assert_true(ev.has_value && ev.value == (double)i);
			assert_true(ev.since_ns == a->fired_ns);
		}
	}
}

static struct alarm_params
params(int64_t for_s, int64_t clear_for_s)
{
	struct alarm_params p;

	memset(&p, 0, sizeof(p));
	p.for_ns = for_s * SEC;
	p.clear_for_ns = clear_for_s * SEC;
	p.severity = ALARM_WARNING;
	return p;
}

/* A fresh alarm through a whole script. */
static struct alarm
script(const struct alarm_params *p, const struct line *lines, size_t n)
{
	struct alarm a;

	alarm_init(&a, 0);
	play(p, lines, n, &a);
	return a;
}

#define SCRIPT(p, s) script(&(p), (s), sizeof(s) / sizeof((s)[0]))

static void
without_for_an_alarm_raises_and_clears_at_once(void **state)
{
	static const struct line s[] = {
		{ 0, F, 0, 0, ALARM_OK, 0 },
		{ 1, T, 0, 0, ALARM_FIRING, ALARM_RAISED },
		{ 2, T, 0, 0, ALARM_FIRING, 0 },
		{ 3, F, 0, 0, ALARM_OK, ALARM_CLEARED },
		{ 4, F, 0, 0, ALARM_OK, 0 },
		{ 5, T, 0, 0, ALARM_FIRING, ALARM_RAISED },
	};
	struct alarm_params p = params(0, 0);
	struct alarm a = SCRIPT(p, s);

	assert_int_equal(a.fire_count, 2);
	assert_true(a.fired_ns == 5 * SEC);
}

static void
for_must_hold_without_a_false_in_between(void **state)
{
	static const struct line s[] = {
		{ 0, T, 0, 0, ALARM_PENDING, 0 },
		{ 30, T, 0, 0, ALARM_PENDING, 0 },
		{ 59, T, 0, 0, ALARM_PENDING, 0 },
		{ 70, F, 0, 0, ALARM_OK, 0 },		/* a FALSE restarts it */
		{ 80, T, 0, 0, ALARM_PENDING, 0 },
		{ 139, T, 0, 0, ALARM_PENDING, 0 },
		{ 140, T, 0, 0, ALARM_FIRING, ALARM_RAISED },
		{ 200, T, 0, 0, ALARM_FIRING, 0 },
		{ 201, F, 0, 0, ALARM_OK, ALARM_CLEARED },
	};
	struct alarm_params p = params(60, 0);
	struct alarm a = SCRIPT(p, s);

	assert_int_equal(a.fire_count, 1);
}

static void
clear_for_must_hold_before_the_alarm_clears(void **state)
{
	static const struct line s[] = {
		{ 0, T, 0, 0, ALARM_FIRING, ALARM_RAISED },
		{ 10, F, 0, 0, ALARM_CLEARING, 0 },
		{ 20, T, 0, 0, ALARM_FIRING, 0 },	/* back: it never cleared */
		{ 30, F, 0, 0, ALARM_CLEARING, 0 },
		{ 59, F, 0, 0, ALARM_CLEARING, 0 },
		{ 60, F, 0, 0, ALARM_OK, ALARM_CLEARED },
	};
	struct alarm_params p = params(0, 30);
	struct alarm a = SCRIPT(p, s);

	assert_int_equal(a.fire_count, 1);
}

static void
a_clear_expression_gives_hysteresis(void **state)
{
	/* when: rtt > 50ms; clear: rtt < 30ms. Between them nothing changes. */
	static const struct line s[] = {
		{ 0, T, F, 0, ALARM_FIRING, ALARM_RAISED },	/* 60 ms */
		{ 1, F, F, 0, ALARM_FIRING, 0 },		/* 40 ms */
		{ 2, T, F, 0, ALARM_FIRING, 0 },		/* 60 ms */
		{ 3, F, T, 0, ALARM_OK, ALARM_CLEARED },	/* 20 ms */
		{ 4, F, F, 0, ALARM_OK, 0 },			/* 40 ms: does not raise */
		{ 5, F, T, 0, ALARM_OK, 0 },
	};
	struct alarm_params p = params(0, 0);
	struct alarm a;

	p.has_clear = true;
	a = SCRIPT(p, s);
	assert_int_equal(a.fire_count, 1);
}

static void
unknown_neither_raises_nor_clears_nor_completes_a_timer(void **state)
{
	static const struct line s[] = {
		{ 0, U, 0, 0, ALARM_OK, 0 },
		{ 10, T, 0, 0, ALARM_PENDING, 0 },
		{ 100, U, 0, 0, ALARM_PENDING, 0 },	/* for elapsed, but UNKNOWN */
		{ 110, T, 0, 0, ALARM_FIRING, ALARM_RAISED },	/* the next TRUE completes it */
		{ 120, U, 0, 0, ALARM_FIRING, 0 },
		{ 130, F, 0, 0, ALARM_CLEARING, 0 },
		{ 200, U, 0, 0, ALARM_CLEARING, 0 },	/* clear_for elapsed, but UNKNOWN */
		{ 210, F, 0, 0, ALARM_OK, ALARM_CLEARED },
	};
	struct alarm_params p = params(60, 30);
	struct alarm a = SCRIPT(p, s);

	assert_int_equal(a.fire_count, 1);
}

static void
an_unknown_clear_expression_holds_a_firing_alarm(void **state)
{
	static const struct line s[] = {
		{ 0, T, U, 0, ALARM_FIRING, ALARM_RAISED },
		{ 1, F, U, 0, ALARM_FIRING, 0 },
		{ 2, U, U, 0, ALARM_FIRING, 0 },
		{ 3, U, T, 0, ALARM_OK, ALARM_CLEARED },	/* clear decides, not when */
	};
	struct alarm_params p = params(0, 0);
	struct alarm a;

	p.has_clear = true;
	a = SCRIPT(p, s);
	assert_int_equal(a.fire_count, 1);
}

static void
reminders_come_every_interval_while_active(void **state)
{
	struct alarm_params p = params(0, 0);
	struct alarm_input in = { .when = T };
	struct alarm_event ev;
	struct alarm a;
	int64_t t;
	int reminders = 0;

	p.reminder_ns = 300 * SEC;
	alarm_init(&a, 0);
	for (t = 0; t <= 3600; t += 60) {
		bool got = alarm_step(&a, &p, &in, t * SEC, NULL, &ev);

		if (t == 0) {
			assert_true(got && ev.kind == ALARM_RAISED);
			continue;
		}
		assert_int_equal(got, t % 300 == 0);
		if (got) {
			assert_int_equal(ev.kind, ALARM_REMINDER);
			reminders++;
		}
	}
	assert_int_equal(reminders, 3600 / 300);
	/* No reminder once cleared. */
	in.when = F;
	assert_true(alarm_step(&a, &p, &in, 3601 * SEC, NULL, &ev) && ev.kind == ALARM_CLEARED);
	in.when = U;
	assert_false(alarm_step(&a, &p, &in, 5000 * SEC, NULL, &ev));
}

static void
a_critical_expression_raises_and_lowers_the_severity(void **state)
{
	static const struct line s[] = {
		{ 0, T, 0, F, ALARM_FIRING, ALARM_RAISED },
		{ 1, T, 0, T, ALARM_FIRING, ALARM_SEVERITY },
		{ 2, T, 0, U, ALARM_FIRING, 0 },		/* UNKNOWN keeps critical */
		{ 3, T, 0, T, ALARM_FIRING, 0 },
		{ 4, T, 0, F, ALARM_FIRING, ALARM_SEVERITY },
		{ 5, F, 0, F, ALARM_OK, ALARM_CLEARED },
		{ 6, T, 0, T, ALARM_FIRING, ALARM_RAISED },	/* raised critical at once */
	};
	struct alarm_params p = params(0, 0);
	struct alarm a;

	p.has_critical = true;
	alarm_init(&a, 0);
	play(&p, s, 2, &a);
	assert_int_equal(a.severity, ALARM_CRITICAL);
	play(&p, s + 2, 3, &a);
	assert_int_equal(a.severity, ALARM_WARNING);
	play(&p, s + 5, 2, &a);
	assert_int_equal(a.severity, ALARM_CRITICAL);
}

static void
the_rule_severity_applies_without_a_critical_expression(void **state)
{
	struct alarm_params p = params(0, 0);
	struct alarm_input in = { .when = T, .critical = F };
	struct alarm_event ev;
	struct alarm a;

	p.severity = ALARM_CRITICAL;
	alarm_init(&a, 0);
	assert_true(alarm_step(&a, &p, &in, 0, NULL, &ev));
	assert_int_equal(ev.severity, ALARM_CRITICAL);
	/* critical is not read without has_critical. */
	assert_false(alarm_step(&a, &p, &in, SEC, NULL, &ev));
}

static void
the_bucket_admits_its_burst_then_one_per_interval(void **state)
{
	const uint32_t burst = 10;
	struct alarm_limiter l;
	uint64_t admitted = 0, count = 0;
	int64_t t;

	alarm_limiter_init(&l, SEC, burst, 0);
	/* An attempt every millisecond for 100 s. */
	for (t = 0; t <= 100 * SEC; t += 1000000)
		admitted += alarm_limiter_take(&l, t);
	assert_int_equal(admitted, burst + 100);
	assert_int_equal(l.suppressed, 100001 - admitted);
	/* The summary waits for a token, then carries the count once. */
	assert_false(alarm_limiter_poll(&l, 100 * SEC + SEC / 2, &count));
	assert_true(alarm_limiter_poll(&l, 101 * SEC, &count));
	assert_int_equal(count, 100001 - admitted);
	assert_false(alarm_limiter_poll(&l, 200 * SEC, &count));
	/* After a long quiet the bucket holds burst tokens, not more. */
	for (admitted = 0, t = 0; t < 100; t++)
		admitted += alarm_limiter_take(&l, 10000 * SEC);
	assert_int_equal(admitted, burst);
}

static void
an_alarm_storm_is_paced_and_summarised(void **state)
{
	struct alarm_params p = params(0, 0);
	struct alarm_input in = { .when = T };
	struct alarm_limiter l;
	struct alarm_event ev;
	static struct alarm a[1000];
	uint64_t count = 0;
	int i, sent = 0;

	alarm_limiter_init(&l, SEC / 10, 20, 0);
	for (i = 0; i < 1000; i++) {
		alarm_init(&a[i], 0);
		assert_true(alarm_step(&a[i], &p, &in, SEC, &l, &ev));
		assert_int_equal(ev.kind, ALARM_RAISED);
		sent += ev.notify;
		/* Held back or not, the state changed: the MIB shows every alarm. */
		assert_int_equal(a[i].state, ALARM_FIRING);
	}
	/* The bucket was full (20): the second since init earned nothing past the cap. */
	assert_int_equal(sent, 20);
	assert_int_equal(l.suppressed, 980);
	assert_true(alarm_limiter_poll(&l, SEC + SEC / 10, &count));
	assert_int_equal(count, 980);
}

static void
a_restored_firing_alarm_raises_nothing_again(void **state)
{
	struct alarm_params p = params(0, 0);
	struct alarm_input in = { .when = T, .has_value = true, .value = 0.07 };
	struct alarm_event ev;
	struct alarm_saved saved;
	struct alarm a, b;

	p.reminder_ns = 600 * SEC;
	alarm_init(&a, 0);
	assert_true(alarm_step(&a, &p, &in, 1000 * SEC, NULL, &ev));
	assert_int_equal(ev.kind, ALARM_RAISED);
	alarm_export(&a, 1300 * SEC, &saved);
	/* A new boot: the monotonic clock starts again near 0. */
	assert_true(alarm_import(&b, &saved, 5 * SEC));
	assert_int_equal(b.state, ALARM_FIRING);
	assert_int_equal(b.fire_count, 1);
	assert_true(b.fired_ns == 5 * SEC - 300 * SEC);
	assert_true(b.has_value && b.value == 0.07);
	assert_false(alarm_step(&b, &p, &in, 6 * SEC, NULL, &ev));
	/* The reminder keeps its phase: 600 s after the raise. */
	assert_false(alarm_step(&b, &p, &in, 5 * SEC + 299 * SEC, NULL, &ev));
	assert_true(alarm_step(&b, &p, &in, 5 * SEC + 300 * SEC, NULL, &ev));
	assert_int_equal(ev.kind, ALARM_REMINDER);
	in.when = F;
	assert_true(alarm_step(&b, &p, &in, 400 * SEC, NULL, &ev));
	assert_int_equal(ev.kind, ALARM_CLEARED);
	assert_int_equal(b.fire_count, 1);
}

static void
a_restored_pending_alarm_keeps_its_for_progress(void **state)
{
	struct alarm_params p = params(60, 0);
	struct alarm_input in = { .when = T };
	struct alarm_event ev;
	struct alarm_saved saved;
	struct alarm a;

	alarm_init(&a, 0);
	assert_false(alarm_step(&a, &p, &in, 0, NULL, &ev));
	alarm_export(&a, 40 * SEC, &saved);
	assert_true(alarm_import(&a, &saved, 1000 * SEC));
	assert_int_equal(a.state, ALARM_PENDING);
	assert_false(alarm_step(&a, &p, &in, 1019 * SEC, NULL, &ev));
	assert_true(alarm_step(&a, &p, &in, 1020 * SEC, NULL, &ev));
	assert_int_equal(ev.kind, ALARM_RAISED);
}

static void
records_out_of_range_are_not_restored(void **state)
{
	struct alarm_saved good, bad;
	struct alarm a;

	alarm_init(&a, 0);
	a.state = ALARM_FIRING;
	alarm_export(&a, 10 * SEC, &good);
	assert_true(alarm_import(&a, &good, 0));
#define REFUSED(field, v) do {						\
	bad = good;							\
	bad.field = (v);						\
	assert_false(alarm_import(&a, &bad, 0));			\
	assert_int_equal(a.state, ALARM_OK);				\
} while (0)
	REFUSED(state, 0);
	REFUSED(state, 5);
	REFUSED(severity, 0);
	REFUSED(severity, 3);
	REFUSED(has_value, 2);
	REFUSED(changed_ago_ns, -1);
	REFUSED(fired_ago_ns, INT64_MAX);
	REFUSED(notified_ago_ns, INT64_MIN);
	bad = good;
	bad.has_value = 1;
	bad.value = INFINITY;
	assert_false(alarm_import(&a, &bad, 0));
#undef REFUSED
}

static void
reset_clears_an_active_alarm_only(void **state)
{
	struct alarm_params p = params(0, 30);
	struct alarm_input in = { .when = T };
	struct alarm_event ev;
	struct alarm a;

	alarm_init(&a, 0);
	assert_false(alarm_reset(&a, 0, NULL, &ev));
	alarm_step(&a, &p, &in, 0, NULL, &ev);
	in.when = F;
	alarm_step(&a, &p, &in, SEC, NULL, &ev);
	assert_int_equal(a.state, ALARM_CLEARING);
	assert_true(alarm_reset(&a, 2 * SEC, NULL, &ev));
	assert_int_equal(ev.kind, ALARM_CLEARED);
	assert_int_equal(a.state, ALARM_OK);
	assert_false(alarm_reset(&a, 3 * SEC, NULL, &ev));
}

/* The rule language drives an alarm: rtt > 50ms for 2 s, clear rtt < 30ms. */
static void
rule_expressions_drive_the_alarm_end_to_end(void **state)
{
	static const struct {
		double		 rtt_ms;
		enum alarm_state want;
		int		 event;
	} s[] = {
		{ 10, ALARM_OK, 0 }, { 60, ALARM_PENDING, 0 }, { 70, ALARM_PENDING, 0 },
		{ 80, ALARM_FIRING, ALARM_RAISED }, { 40, ALARM_FIRING, 0 },
		{ 45, ALARM_FIRING, 0 }, { 20, ALARM_OK, ALARM_CLEARED }, { 40, ALARM_OK, 0 },
	};
	struct metric_store *st = metric_store_new(NULL);
	uint32_t id = metric_intern(st, "probe.lo.rtt");
	struct expr_error err;
	struct expr *when = expr_compile("probe.lo.rtt > 50ms", &err);
	struct expr *clear = expr_compile("probe.lo.rtt < 30ms", &err);
	struct alarm_params p = params(2, 0);
	struct expr_result r;
	struct alarm_input in;
	struct alarm_event ev;
	struct alarm a;
	size_t i;
	bool got;

	assert_non_null(when);
	assert_non_null(clear);
	p.has_clear = true;
	alarm_init(&a, 0);
	/* Before any sample: UNKNOWN, nothing happens. */
	memset(&in, 0, sizeof(in));
	in.when = expr_eval(when, st, NULL, 0, 0, &r);
	assert_int_equal(in.when, EXPR_UNKNOWN);
	assert_false(alarm_step(&a, &p, &in, 0, NULL, &ev));
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		int64_t now = (int64_t)(i + 1) * SEC;

		metric_put(st, id, now, s[i].rtt_ms / 1000);
		in.when = expr_eval(when, st, NULL, now, 0, &r);
		in.has_value = r.has_value;
		in.value = r.value;
		in.clear = expr_eval(clear, st, NULL, now, 0, &r);
		got = alarm_step(&a, &p, &in, now, NULL, &ev);
		assert_int_equal(a.state, s[i].want);
		assert_int_equal(got ? (int)ev.kind : 0, s[i].event);
		if (got)
			assert_true(ev.value == s[i].rtt_ms / 1000);
	}
	expr_free(when);
	expr_free(clear);
	metric_store_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(without_for_an_alarm_raises_and_clears_at_once),
		cmocka_unit_test(for_must_hold_without_a_false_in_between),
		cmocka_unit_test(clear_for_must_hold_before_the_alarm_clears),
		cmocka_unit_test(a_clear_expression_gives_hysteresis),
		cmocka_unit_test(unknown_neither_raises_nor_clears_nor_completes_a_timer),
		cmocka_unit_test(an_unknown_clear_expression_holds_a_firing_alarm),
		cmocka_unit_test(reminders_come_every_interval_while_active),
		cmocka_unit_test(a_critical_expression_raises_and_lowers_the_severity),
		cmocka_unit_test(the_rule_severity_applies_without_a_critical_expression),
		cmocka_unit_test(the_bucket_admits_its_burst_then_one_per_interval),
		cmocka_unit_test(an_alarm_storm_is_paced_and_summarised),
		cmocka_unit_test(a_restored_firing_alarm_raises_nothing_again),
		cmocka_unit_test(a_restored_pending_alarm_keeps_its_for_progress),
		cmocka_unit_test(records_out_of_range_are_not_restored),
		cmocka_unit_test(reset_clears_an_active_alarm_only),
		cmocka_unit_test(rule_expressions_drive_the_alarm_end_to_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
