/*
 * subagent/alarm_state: the state file's lines. The record format is pinned
 * by a line written out by hand (files written before an upgrade must still
 * be read), records round-trip, and every kind of malformed line is refused.
 */
#include <float.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "subagent/alarm_state.h"

#define SEC	1000000000LL

static void
assert_same_record(const struct alarm_state_record *got, const struct alarm_state_record *want)
{
	assert_string_equal(got->rule, want->rule);
	assert_true(got->identity == want->identity);
	assert_int_equal(got->id, want->id);
	assert_int_equal(got->saved.state, want->saved.state);
	assert_int_equal(got->saved.severity, want->saved.severity);
	assert_int_equal(got->saved.has_value, want->saved.has_value);
	assert_true(got->saved.changed_ago_ns == want->saved.changed_ago_ns);
	assert_true(got->saved.fired_ago_ns == want->saved.fired_ago_ns);
	assert_true(got->saved.notified_ago_ns == want->saved.notified_ago_ns);
	assert_true(got->saved.fire_count == want->saved.fire_count);
	assert_memory_equal(&got->saved.value, &want->saved.value, sizeof(double));
	assert_string_equal(got->instance, want->instance);
}

/* The state file of an earlier flowpathd, as written by hand from the format. */
static void
a_record_written_by_hand_is_read(void **state)
{
	char line[] = "a loss 00000000deadbeef 7 3 2 1 5000000000 -6000000000 7 2 "
	    "0x1.999999999999ap-4 i10.0.0.1%20b%25c\n";
	struct alarm_state_record r, want = {
		.rule = "loss", .identity = 0xdeadbeef, .id = 7,
		.saved = { .state = ALARM_FIRING, .severity = ALARM_CRITICAL, .has_value = 1,
		    .changed_ago_ns = 5 * SEC, .fired_ago_ns = -6 * SEC, .notified_ago_ns = 7,
		    .fire_count = 2, .value = 0.1 },
		.instance = "10.0.0.1 b%c",
	};
	char out[ALARM_STATE_LINE_MAX], copy[sizeof(line)];

	memcpy(copy, line, sizeof(line));
	assert_true(alarm_state_parse_record(line, &r));
	assert_same_record(&r, &want);
	/* And the writer gives that very line. */
	assert_int_equal(alarm_state_format_record(out, sizeof(out), &want), strlen(copy));
	assert_string_equal(out, copy);
}

static void
records_round_trip_with_every_byte_in_the_instance(void **state)
{
	char inst[METRIC_NAME_MAX + 1], line[ALARM_STATE_LINE_MAX];
	struct alarm_state_record r, want = {
		.rule = "r", .identity = UINT64_MAX, .id = UINT32_MAX,
		.saved = { .state = 255, .severity = 255, .has_value = 0,
		    .changed_ago_ns = INT64_MIN, .fired_ago_ns = INT64_MAX,
		    .notified_ago_ns = 0, .fire_count = UINT64_MAX, .value = -DBL_MAX },
		.instance = inst,
	};
	size_t i;
	int n;

	/* Bytes 1..255, one each: the longest instance, with every escape. */
	for (i = 0; i < METRIC_NAME_MAX; i++)
		inst[i] = (char)(i + 1);
	inst[i] = '\0';
	n = alarm_state_format_record(line, sizeof(line), &want);
	assert_true(n > 0 && (size_t)n < sizeof(line));
	assert_int_equal(line[n - 1], '\n');
	assert_null(memchr(line, '\n', (size_t)n - 1));
	assert_true(alarm_state_parse_record(line, &r));
	assert_same_record(&r, &want);
	/* A rule without '*': the empty instance. */
	want.instance = "";
	alarm_state_format_record(line, sizeof(line), &want);
	assert_true(alarm_state_parse_record(line, &r));
	assert_string_equal(r.instance, "");
}

static void
the_header_and_next_id_lines(void **state)
{
	char buf[64];
	uint32_t next = 1;

	assert_int_equal(alarm_state_format_header(buf, sizeof(buf), 8),
	    strlen("flowpath-alarm-state 1\nnext-id 8\n"));
	assert_string_equal(buf, "flowpath-alarm-state 1\nnext-id 8\n");
	assert_true(alarm_state_is_header(buf));
	assert_true(alarm_state_next_id(strchr(buf, '\n') + 1, &next));
	assert_int_equal(next, 8);
	assert_false(alarm_state_is_header("flowpath-alarm-state 1"));
	assert_false(alarm_state_is_header("flowpath-alarm-state 2\n"));
	assert_false(alarm_state_is_header("flowpath-alarm-state 1 \n"));
	assert_true(alarm_state_next_id("next-id 4294967295\n", &next));
	assert_int_equal(next, UINT32_MAX);
	assert_true(alarm_state_next_id("next-id 4294967296\n", &next));
	assert_int_equal(next, 0);
	assert_false(alarm_state_next_id("next-id x\n", &next));
	assert_false(alarm_state_next_id("a r 0 1 3 1 0 0 0 0 1 0x0p+0 i\n", &next));
}

static void
malformed_records_are_refused(void **state)
{
	static const char *bad[] = {
		"",
		"a r 0 1 3 1 0 0 0 0 1 0x0p+0\n",		/* 12 words */
		"a r 0 1 3 1 0 0 0 0 1 0x0p+0 i x\n",		/* 14 */
		"b r 0 1 3 1 0 0 0 0 1 0x0p+0 i\n",
		"a r x 1 3 1 0 0 0 0 1 0x0p+0 i\n",
		"a r 0 x 3 1 0 0 0 0 1 0x0p+0 i\n",
		"a r 0 1 3 1 0 0 0 x 1 0x0p+0 i\n",
		"a r 0 4294967296 3 1 0 0 0 0 1 0x0p+0 i\n",	/* id past 32 bits */
		"a r 0 1 256 1 0 0 0 0 1 0x0p+0 i\n",		/* state */
		"a r 0 1 3 256 0 0 0 0 1 0x0p+0 i\n",		/* severity */
		"a r 0 1 3 1 2 0 0 0 1 0x0p+0 i\n",		/* has_value */
		"a r 0 1 3 1 0 0 0 0 1 0x0p+0 x\n",		/* not an instance word */
		"a r 0 1 3 1 0 0 0 0 1 0x0p+0 i%0\n",		/* cut escape */
		"a r 0 1 3 1 0 0 0 0 1 0x0p+0 i%00\n",		/* NUL */
		"a r 0 1 3 1 0 0 0 0 1 0x0p+0 i%zz\n",
	};
	char line[ALARM_STATE_LINE_MAX];
	struct alarm_state_record r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		if (alarm_state_parse_record(line, &r))
			fail_msg("accepted: %s", bad[i]);
	}
	snprintf(line, sizeof(line), "a r 0 1 3 1 0 0 0 0 1 0x0p+0 i\n");
	assert_true(alarm_state_parse_record(line, &r));
}

static void
an_instance_longer_than_a_metric_name_is_refused(void **state)
{
	char line[ALARM_STATE_LINE_MAX], *p;
	struct alarm_state_record r;
	int n;

	for (n = METRIC_NAME_MAX; n <= METRIC_NAME_MAX + 1; n++) {
		p = line + snprintf(line, sizeof(line), "a r 0 1 3 1 0 0 0 0 1 0x0p+0 i");
		memset(p, 'x', (size_t)n);
		strcpy(p + n, "\n");
		assert_int_equal(alarm_state_parse_record(line, &r), n == METRIC_NAME_MAX);
		if (n == METRIC_NAME_MAX)
			assert_int_equal(strlen(r.instance), METRIC_NAME_MAX);
	}
}

static void
a_short_buffer_is_cut_as_snprintf_cuts(void **state)
{
	struct alarm_state_record rec = { .rule = "rule", .id = 3, .instance = "a b",
	    .saved = { .state = ALARM_FIRING, .severity = ALARM_WARNING } };
	char full[ALARM_STATE_LINE_MAX], cut[40];
	int n = alarm_state_format_record(full, sizeof(full), &rec);
	size_t len;

	for (len = 1; len <= sizeof(cut); len++) {
		memset(cut, 'Z', sizeof(cut));
		assert_int_equal(alarm_state_format_record(cut, len, &rec), n);
		assert_int_equal(strlen(cut), (size_t)n < len ? (size_t)n : len - 1);
		assert_memory_equal(cut, full, strlen(cut));
	}
	/* Nothing is written through a zero-length buffer. */
	memset(cut, 'Z', sizeof(cut));
	assert_int_equal(alarm_state_format_record(cut, 0, &rec), n);
	assert_int_equal(cut[0], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_record_written_by_hand_is_read),
		cmocka_unit_test(records_round_trip_with_every_byte_in_the_instance),
		cmocka_unit_test(the_header_and_next_id_lines),
		cmocka_unit_test(malformed_records_are_refused),
		cmocka_unit_test(an_instance_longer_than_a_metric_name_is_refused),
		cmocka_unit_test(a_short_buffer_is_cut_as_snprintf_cuts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
