/*
 * engine/expr: the rule language. Every unit, operator, precedence level
 * and function; three-valued logic checked against Kleene's tables that the
 * test derives itself; window values against sums and sorts over the very
 * samples the test put; wildcards; and hostile text (deep nesting, huge
 * numbers, long names, too long text, floods of instances).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/expr.h"

#define SEC	1000000000LL
#define MIN	(60 * SEC)
#define HOUR	(3600 * SEC)

static struct expr *
compile(const char *text)
{
	struct expr_error err;
	struct expr *e = expr_compile(text, &err);

	if (e == NULL)
		fail_msg("\"%s\": column %zu: %s", text, err.column, err.msg);
	return e;
}

/* Refused at column, with a message containing part. */
static void
refused(const char *text, size_t column, const char *part)
{
	struct expr_error err;
	struct expr *e = expr_compile(text, &err);

	if (e != NULL)
		fail_msg("\"%.60s\" compiled", text);
	if (err.column != column || strstr(err.msg, part) == NULL)
		fail_msg("\"%.60s\": column %zu: %s (wanted column %zu: ...%s...)", text,
		    err.column, err.msg, column, part);
}

static enum expr_truth
run(const char *text, const struct metric_store *s, const char *inst, int64_t now,
    struct expr_result *res)
{
	struct expr *e = compile(text);
	enum expr_truth t;

	t = expr_eval(e, s, inst, now, 0, res);
	assert_int_equal(t, res->truth);
	expr_free(e);
	return t;
}

/* The value of "X > -1e300" (or UNKNOWN): the left side is the rule's value. */
static bool
value_of(const char *x, const struct metric_store *s, int64_t now, double *v)
{
	struct expr_result res;
	char text[512];

	snprintf(text, sizeof(text), "%s > -1e300", x);
	if (run(text, s, NULL, now, &res) == EXPR_UNKNOWN) {
		assert_false(res.has_value);
		assert_non_null(res.why);
		return false;
	}
	assert_true(res.has_value);
	*v = res.value;
	return true;
}

static void
assert_close(double got, double want)
{
	double d = got - want, m = want < 0 ? -want : want;

	if ((d < 0 ? -d : d) > 1e-9 * (m > 1 ? m : 1))
		fail_msg("got %.17g, want %.17g", got, want);
}

static double
value(const char *x, const struct metric_store *s, int64_t now)
{
	double v = 0;

	if (!value_of(x, s, now, &v))
		fail_msg("%s is UNKNOWN", x);
	return v;
}

static void
units_scale_numbers(void **state)
{
	static const struct {
		const char	*text;
		double		 want;
	} cases[] = {
		{ "1us", 1.0 / 1e6 }, { "50ms", 50.0 / 1e3 }, { "2s", 2 }, { "5m", 300 },
		{ "24h", 86400 }, { "7d", 7 * 86400.0 }, { "5%", 5.0 / 100 },
		{ "1.5k", 1500 }, { "2M", 2e6 }, { "1.5G", 1.5e9 }, { "10bps", 10 },
		{ "2kbps", 2000 }, { "100Mbps", 1e8 }, { "1Gbps", 1e9 },
		{ "1e3", 1000 }, { ".5", 0.5 }, { "2.5e-3s", 0.0025 }, { "1E+2%", 1 },
		{ "0", 0 }, { "1e-400", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double v = value(cases[i].text, NULL, 0);

		if (v != cases[i].want)
			fail_msg("%s = %.17g, want %.17g", cases[i].text, v, cases[i].want);
	}
	/* The convention: 50ms and 5% are the very doubles 0.05. */
	assert_true(value("50ms", NULL, 0) == 0.05);
	assert_true(value("5%", NULL, 0) == 0.05);
}

static void
unknown_units_and_out_of_range_numbers_are_refused(void **state)
{
	refused("5min > 1", 2, "unknown unit 'min'");
	refused("1 > 2x", 6, "unknown unit 'x'");
	refused("1e400 > 1", 1, "number out of range");
	refused("1e308G > 1", 1, "number out of range");
	refused("1 > 1.2.3", 8, "unexpected '.' after a number");
	refused("inf > 1", 1, "unknown function or name 'inf'");
	refused("nan > 1", 1, "unknown function or name 'nan'");
	refused("1 > 0x10", 6, "unknown unit 'x'");
}

static void
arithmetic_follows_precedence_and_left_associativity(void **state)
{
	assert_true(value("1 + 2 * 3", NULL, 0) == 7);
	assert_true(value("(1 + 2) * 3", NULL, 0) == 9);
	assert_true(value("2 - 3 - 4", NULL, 0) == -5);
	assert_true(value("8 / 4 / 2", NULL, 0) == 1);
	assert_true(value("8 / (4 / 2)", NULL, 0) == 4);
	assert_true(value("-2 * 3", NULL, 0) == -6);
	assert_true(value("2 * -3", NULL, 0) == -6);
	assert_true(value("- - 2", NULL, 0) == 2);
	assert_true(value("1 - -1", NULL, 0) == 2);
	assert_true(value("10 - 2 * 3 + 8 / 4", NULL, 0) == 6);
	assert_true(value("1.5k / 3", NULL, 0) == 500);
}

static void
comparisons_give_what_c_gives(void **state)
{
	static const char *const ops[] = { "<", "<=", ">", ">=", "==", "!=" };
	struct expr_result res;
	char text[64];
	int a, b, i;
	bool want;

	for (a = 1; a <= 3; a++)
		for (i = 0; i < 6; i++) {
			b = 2;
			snprintf(text, sizeof(text), "%d %s %d", a, ops[i], b);
			switch (i) {
			case 0: want = a < b; break;
			case 1: want = a <= b; break;
			case 2: want = a > b; break;
			case 3: want = a >= b; break;
			case 4: want = a == b; break;
			default: want = a != b; break;
			}
			assert_int_equal(run(text, NULL, NULL, 0, &res),
			    want ? EXPR_TRUE : EXPR_FALSE);
			assert_true(res.has_value && res.value == a);
		}
	/* Comparison binds looser than arithmetic. */
	assert_int_equal(run("1 + 1 > 1", NULL, NULL, 0, &res), EXPR_TRUE);
	assert_int_equal(run("2 * 3 == 6", NULL, NULL, 0, &res), EXPR_TRUE);
}

static void
not_binds_tighter_than_and_which_binds_tighter_than_or(void **state)
{
	struct expr_result res;

	/* (not F) and F = F; not (F and F) would be T. */
	assert_int_equal(run("not 1 > 2 and 1 > 2", NULL, NULL, 0, &res), EXPR_FALSE);
	/* T or (T and F) = T; (T or T) and F would be F. */
	assert_int_equal(run("1 < 2 or 1 < 2 and 1 > 2", NULL, NULL, 0, &res), EXPR_TRUE);
	assert_int_equal(run("(1 < 2 or 1 < 2) and 1 > 2", NULL, NULL, 0, &res), EXPR_FALSE);
	assert_int_equal(run("not not 1 < 2", NULL, NULL, 0, &res), EXPR_TRUE);
	assert_int_equal(run("not (1 < 2)", NULL, NULL, 0, &res), EXPR_FALSE);
}

/* Kleene's strong logic: F < U < T; and = min, or = max, not = mirror. */
static int
rank(enum expr_truth t)
{
	return t == EXPR_FALSE ? 0 : t == EXPR_UNKNOWN ? 1 : 2;
}

static void
three_valued_truth_tables_are_kleenes(void **state)
{
	static const enum expr_truth vals[] = { EXPR_FALSE, EXPR_UNKNOWN, EXPR_TRUE };
	static const char *const text[] = { "1 < 0", "no.such > 0", "1 > 0" };
	struct metric_store *s = metric_store_new(NULL);
	struct expr_result res;
	char buf[128];
	int i, j, want;

	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "not %s", text[i]);
		want = 2 - rank(vals[i]);
		assert_int_equal(rank(run(buf, s, NULL, 0, &res)), want);
		for (j = 0; j < 3; j++) {
			snprintf(buf, sizeof(buf), "%s and %s", text[i], text[j]);
			want = rank(vals[i]) < rank(vals[j]) ? rank(vals[i]) : rank(vals[j]);
			assert_int_equal(rank(run(buf, s, NULL, 0, &res)), want);
			snprintf(buf, sizeof(buf), "%s or %s", text[i], text[j]);
			want = rank(vals[i]) > rank(vals[j]) ? rank(vals[i]) : rank(vals[j]);
			assert_int_equal(rank(run(buf, s, NULL, 0, &res)), want);
		}
	}
	/* UNKNOWN flows through arithmetic and comparisons. */
	assert_int_equal(run("no.such + 1 > 0", s, NULL, 0, &res), EXPR_UNKNOWN);
	assert_string_equal(res.why, "no such metric");
	assert_int_equal(run("-no.such < 0", s, NULL, 0, &res), EXPR_UNKNOWN);
	metric_store_free(s);
}

static void
division_by_zero_and_overflow_are_unknown(void **state)
{
	struct expr_result res;

	assert_int_equal(run("1 / 0 > 1", NULL, NULL, 0, &res), EXPR_UNKNOWN);
	assert_string_equal(res.why, "division by zero");
	assert_int_equal(run("0 / 0 == 0", NULL, NULL, 0, &res), EXPR_UNKNOWN);
	assert_int_equal(run("1 / (2 - 2) < 1 or 1 > 0", NULL, NULL, 0, &res), EXPR_TRUE);
	assert_int_equal(run("1 / 0 > 1 and 1 < 0", NULL, NULL, 0, &res), EXPR_FALSE);
	assert_int_equal(run("1e308 * 10 > 1", NULL, NULL, 0, &res), EXPR_UNKNOWN);
	assert_string_equal(res.why, "not a finite number");
	assert_int_equal(run("-1e308 - 1e308 < 0", NULL, NULL, 0, &res), EXPR_UNKNOWN);
}

/* Reference statistics over the test's own samples. */
static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
ref_quantile(const double *v, size_t n, double q)
{
	double *s = malloc(n * sizeof(*s)), h, r;
	size_t lo;

	assert_non_null(s);
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_d);
	h = q * (double)(n - 1);
	lo = (size_t)h;
	r = lo + 1 < n ? s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]) : s[lo];
	free(s);
	return r;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / (double)(1ULL << 53);
}

static void
window_functions_match_the_samples_put(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "probe.a.rtt");
	const int64_t now = 1000 * SEC;
	double v[200], in[200], sum = 0, mn = 1e9, mx = -1e9;
	int64_t t[200];
	size_t i, n = 0;

	/* 200 samples 2.5 s apart; the 60 s window [now - 60 s, now] holds the last 25. */
	for (i = 0; i < 200; i++) {
		t[i] = now - (int64_t)(199 - i) * 2500000000LL;
		v[i] = 0.01 + rnd() * 0.05;
		metric_put(s, id, t[i], v[i]);
		if (t[i] >= now - 60 * SEC) {
			in[n++] = v[i];
			sum += v[i];
			mn = v[i] < mn ? v[i] : mn;
			mx = v[i] > mx ? v[i] : mx;
		}
	}
	assert_int_equal(n, 25);
	assert_close(value("avg(probe.a.rtt, 60s)", s, now), sum / (double)n);
	assert_close(value("sum(probe.a.rtt, 1m)", s, now), sum);
	assert_true(value("min(probe.a.rtt, 1m)", s, now) == mn);
	assert_true(value("max(probe.a.rtt, 1m)", s, now) == mx);
	assert_true(value("last(probe.a.rtt, 1m)", s, now) == v[199]);
	assert_true(value("count(probe.a.rtt, 1m)", s, now) == (double)n);
	assert_close(value("median(probe.a.rtt, 1m)", s, now), ref_quantile(in, n, 0.5));
	assert_close(value("p95(probe.a.rtt, 1m)", s, now), ref_quantile(in, n, 0.95));
	assert_close(value("p99(probe.a.rtt, 1m)", s, now), ref_quantile(in, n, 0.99));
	assert_close(value("change(probe.a.rtt, 1m)", s, now), v[199] - v[175]);
	/* The plain reference is the newest value. */
	assert_true(value("probe.a.rtt", s, now) == v[199]);
	/* A window of 1 ms before the last sample is empty. */
	assert_false(value_of("avg(probe.a.rtt, 1ms)", s, now + 2 * 1000000, &sum));
	metric_store_free(s);
}

static void
median_of_an_even_count_is_the_mean_of_the_middle_two(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "x.y");

	metric_put(s, id, 1 * SEC, 4);
	metric_put(s, id, 2 * SEC, 1);
	metric_put(s, id, 3 * SEC, 3);
	metric_put(s, id, 4 * SEC, 2);
	assert_true(value("median(x.y, 10s)", s, 4 * SEC) == 2.5);
	/* p95 of 1..4: rank 0.95 * 3 = 2.85 between 3 and 4. */
	assert_close(value("p95(x.y, 10s)", s, 4 * SEC), 3 + 0.85);
	metric_store_free(s);
}

static void
rate_is_per_second_and_survives_a_counter_reset(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "probe.a.sent");
	double inc = 0, prev = 0, c = 0;
	int i;

	/* +10 per second, reset to 0 at 30 s, 61 samples over 60 s. */
	for (i = 0; i <= 60; i++) {
		c = i == 30 ? 5 : c + 10;
		if (i > 0)
			inc += c >= prev ? c - prev : c;
		prev = c;
		metric_put(s, id, i * SEC, c);
	}
	assert_close(value("rate(probe.a.sent, 60s)", s, 60 * SEC), inc / 60);
	assert_close(value("change(probe.a.sent, 60s)", s, 60 * SEC), c - 10);
	metric_store_free(s);
}

static void
too_few_samples_make_a_function_unknown(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "x.y");
	struct expr_result res;
	double v;

	assert_false(value_of("avg(x.y, 1m)", s, 10 * SEC, &v));
	metric_put(s, id, 10 * SEC, 7);
	assert_true(value("avg(x.y, 1m)", s, 10 * SEC) == 7);
	assert_int_equal(run("rate(x.y, 1m) > 0", s, NULL, 10 * SEC, &res), EXPR_UNKNOWN);
	assert_string_equal(res.why, "fewer than 2 samples in the window");
	assert_int_equal(run("change(x.y, 1m) > 0", s, NULL, 10 * SEC, &res), EXPR_UNKNOWN);
	assert_int_equal(run("median(x.y, 1m) > 0", s, NULL, 100 * SEC, &res), EXPR_UNKNOWN);
	assert_string_equal(res.why, "no samples in the window");
	metric_put(s, id, 11 * SEC, 9);
	assert_true(value("change(x.y, 1m)", s, 11 * SEC) == 2);
	assert_true(value("rate(x.y, 1m)", s, 11 * SEC) == 2);
	metric_store_free(s);
}

static void
offset_reads_the_window_of_the_past_or_is_unknown_without_history(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "probe.a.rtt");
	const int64_t now = 25 * HOUR;
	double sum = 0, v, at;
	int64_t t;
	size_t n = 0;

	metric_retain(s, id, 25 * HOUR);
	/* A sample every 10 s from t = 10 s on, value = its time in hours. */
	for (t = 10 * SEC; t <= now; t += 10 * SEC) {
		metric_put(s, id, t, (double)t / HOUR);
		if (t >= now - 24 * HOUR - 5 * MIN && t <= now - 24 * HOUR) {
			sum += (double)t / HOUR;
			n++;
		}
	}
	assert_int_equal(n, 31);
	assert_close(value("avg(probe.a.rtt, 5m) offset 24h", s, now), sum / (double)n);
	/* A plain reference with an offset: the newest sample at or before now - 2h. */
	at = (double)(now - 2 * HOUR) / HOUR;
	assert_close(value("probe.a.rtt offset 2h", s, now + 5 * SEC), at);
	/* 25 h back from now reaches before the first sample (10 s). */
	assert_false(value_of("avg(probe.a.rtt, 1h) offset 24h", s, now, &v));
	assert_false(value_of("probe.a.rtt offset 25h", s, now, &v));
	/* The issue's example: RTT 20 ms above the same 5 minutes yesterday. */
	{
		struct expr_result res;

		assert_int_equal(run("avg(probe.a.rtt, 5m) > avg(probe.a.rtt, 5m) offset 24h + 20ms",
		    s, NULL, now, &res), EXPR_TRUE);
	}
	metric_store_free(s);
}

static void
a_plain_reference_goes_stale_after_three_spacings(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t fast = metric_intern(s, "p.fast.rtt"), slow = metric_intern(s, "p.slow.rtt");
	uint32_t once = metric_intern(s, "p.once.rtt");
	double v;
	int i;

	for (i = 0; i <= 20; i++) {
		metric_put(s, fast, i * SEC, 1);
		metric_put(s, slow, i * 30 * SEC, 2);
	}
	metric_put(s, once, 0, 3);
	/* 1 s spacing: the 10 s floor applies. */
	assert_true(value_of("p.fast.rtt", s, 20 * SEC + 10 * SEC, &v));
	assert_false(value_of("p.fast.rtt", s, 20 * SEC + 10 * SEC + 1, &v));
	/* 30 s spacing: 90 s. */
	assert_true(value_of("p.slow.rtt", s, 600 * SEC + 90 * SEC, &v));
	assert_false(value_of("p.slow.rtt", s, 600 * SEC + 90 * SEC + 1, &v));
	/* One sample: EXPR_STALE_SINGLE_NS. */
	assert_true(value_of("p.once.rtt", s, EXPR_STALE_SINGLE_NS, &v));
	assert_false(value_of("p.once.rtt", s, EXPR_STALE_SINGLE_NS + 1, &v));
	metric_store_free(s);
}

static void
nodata_is_true_only_for_an_empty_window_after_the_start(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	uint32_t id = metric_intern(s, "exporter.192.0.2.1.records");
	struct expr *e = compile("nodata(exporter.192.0.2.1.records, 5m)");
	struct expr *never = compile("nodata(exporter.192.0.2.9.records, 5m)");
	struct expr *cnt = compile("count(exporter.192.0.2.1.records, 5m) < 3");
	struct expr_result res;
	const int64_t start = 100 * SEC;

	/* Started 100 s ago: a 5 minute silence cannot be told yet. */
	assert_int_equal(expr_eval(never, s, NULL, start + 100 * SEC, start, &res), EXPR_UNKNOWN);
	assert_int_equal(expr_eval(cnt, s, NULL, start + 100 * SEC, start, &res), EXPR_UNKNOWN);
	assert_int_equal(expr_eval(never, s, NULL, start + 5 * MIN, start, &res), EXPR_TRUE);
	metric_put(s, id, start + 10 * SEC, 42);
	assert_int_equal(expr_eval(e, s, NULL, start + 100 * SEC, start, &res), EXPR_FALSE);
	assert_int_equal(expr_eval(e, s, NULL, start + 10 * SEC + 5 * MIN, start, &res), EXPR_FALSE);
	assert_int_equal(expr_eval(e, s, NULL, start + 10 * SEC + 5 * MIN + 1, start, &res), EXPR_TRUE);
	assert_int_equal(expr_eval(cnt, s, NULL, start + 5 * MIN, start, &res), EXPR_TRUE);
	assert_true(res.has_value && res.value == 1);
	expr_free(e);
	expr_free(never);
	expr_free(cnt);
	metric_store_free(s);
}

struct names {
	char		 v[16][METRIC_NAME_MAX + 1];
	size_t		 n;
};

static void
names_cb(void *arg, const char *inst)
{
	struct names *n = arg;

	if (n->n < 16)
		strcpy(n->v[n->n], inst);
	n->n++;
}

static void
wildcards_bind_one_instance_shared_by_every_reference(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	struct expr *e = compile("probe.*.rtt > 50ms or probe.*.loss > 5%");
	struct expr *k = compile("agg.web[*].octets > 1M");
	struct expr *a = compile("agg.*.octets > 0");
	struct expr *x = compile("exporter.*.lost / exporter.*.records > 1%");
	struct expr *plain = compile("probe.lo.rtt > 1");
	char inst[METRIC_NAME_MAX + 1];
	struct expr_result res;
	struct names n;
	uint64_t refused = 0;

	metric_put(s, metric_intern(s, "probe.lo.rtt"), SEC, 0.001);
	metric_put(s, metric_intern(s, "probe.lo.loss"), SEC, 0.5);
	metric_put(s, metric_intern(s, "probe.b.rtt"), SEC, 0.100);
	metric_put(s, metric_intern(s, "probe.c.loss"), SEC, 0);
	metric_put(s, metric_intern(s, "agg.web.octets"), SEC, 5);
	metric_put(s, metric_intern(s, "agg.web[\"10.0.0.2\"].octets"), SEC, 2e6);
	metric_put(s, metric_intern(s, "agg.web[\"10.0.0.1\"].octets"), SEC, 1e3);
	metric_put(s, metric_intern(s, "exporter.192.0.2.1.lost"), SEC, 5);
	metric_put(s, metric_intern(s, "exporter.192.0.2.1.records"), SEC, 100);
	metric_put(s, metric_intern(s, "exporter.2001:db8::1.lost"), SEC, 0);
	metric_put(s, metric_intern(s, "exporter.2001:db8::1.records"), SEC, 100);

	assert_true(expr_is_wildcard(e));
	memset(&n, 0, sizeof(n));
	assert_int_equal(expr_instances(e, s, names_cb, &n, &refused), 3);
	assert_string_equal(n.v[0], "b");
	assert_string_equal(n.v[1], "c");
	assert_string_equal(n.v[2], "lo");
	assert_int_equal(expr_eval(e, s, "lo", SEC, 0, &res), EXPR_TRUE);	/* loss 50% */
	assert_int_equal(expr_eval(e, s, "b", SEC, 0, &res), EXPR_TRUE);	/* rtt 100 ms */
	assert_int_equal(expr_eval(e, s, "c", SEC, 0, &res), EXPR_UNKNOWN);	/* no rtt, loss 0 */
	assert_int_equal(expr_eval(e, s, NULL, SEC, 0, &res), EXPR_UNKNOWN);
	assert_string_equal(res.why, "a wildcard rule needs an instance");

	memset(&n, 0, sizeof(n));
	assert_int_equal(expr_instances(k, s, names_cb, &n, &refused), 2);
	assert_string_equal(n.v[0], "10.0.0.1");
	assert_string_equal(n.v[1], "10.0.0.2");
	assert_int_equal(expr_eval(k, s, "10.0.0.2", SEC, 0, &res), EXPR_TRUE);
	assert_int_equal(expr_eval(k, s, "10.0.0.1", SEC, 0, &res), EXPR_FALSE);

	/* A '*' name part does not reach into keys. */
	memset(&n, 0, sizeof(n));
	assert_int_equal(expr_instances(a, s, names_cb, &n, &refused), 1);
	assert_string_equal(n.v[0], "web");
	assert_false(expr_bind(a, "agg.web[\"10.0.0.1\"].octets", inst));

	/* ... but spans the dots of an address. */
	memset(&n, 0, sizeof(n));
	assert_int_equal(expr_instances(x, s, names_cb, &n, &refused), 2);
	assert_string_equal(n.v[0], "192.0.2.1");
	assert_string_equal(n.v[1], "2001:db8::1");
	assert_int_equal(expr_eval(x, s, "192.0.2.1", SEC, 0, &res), EXPR_TRUE);
	assert_int_equal(expr_eval(x, s, "2001:db8::1", SEC, 0, &res), EXPR_FALSE);
	assert_true(expr_bind(x, "exporter.10.1.1.1.records", inst));
	assert_string_equal(inst, "10.1.1.1");

	memset(&n, 0, sizeof(n));
	assert_false(expr_is_wildcard(plain));
	assert_int_equal(expr_instances(plain, s, names_cb, &n, &refused), 1);
	assert_string_equal(n.v[0], "");
	assert_int_equal(refused, 0);
	expr_free(e);
	expr_free(k);
	expr_free(a);
	expr_free(x);
	expr_free(plain);
	metric_store_free(s);
}

static void
forgotten_metrics_name_no_instance_until_they_come_back(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	struct expr *e = compile("probe.*.loss > 5%");
	struct expr *k = compile("agg.web[*].octets > 1M");
	struct expr_result res;
	struct names n;

	metric_put(s, metric_intern(s, "probe.a.loss"), SEC, 0.5);
	metric_put(s, metric_intern(s, "probe.ab.loss"), SEC, 0.5);
	metric_put(s, metric_intern(s, "agg.web[\"10.0.0.1\"].octets"), SEC, 2e6);
	metric_put(s, metric_intern(s, "agg.web[\"10.0.0.2\"].octets"), SEC, 2e6);
	assert_int_equal(metric_forget(s, "probe.a."), 1);
	assert_int_equal(metric_forget(s, "agg.web[\"10.0.0.1\"]"), 1);
	memset(&n, 0, sizeof(n));
	assert_int_equal(expr_instances(e, s, names_cb, &n, NULL), 1);
	assert_string_equal(n.v[0], "ab");
	assert_int_equal(expr_eval(e, s, "a", SEC, 0, &res), EXPR_UNKNOWN);
	memset(&n, 0, sizeof(n));
	assert_int_equal(expr_instances(k, s, names_cb, &n, NULL), 1);
	assert_string_equal(n.v[0], "10.0.0.2");
	/* Interned again (the probe is back): listed again, with its new samples only. */
	metric_put(s, metric_intern(s, "probe.a.loss"), 2 * SEC, 0.01);
	memset(&n, 0, sizeof(n));
	assert_int_equal(expr_instances(e, s, names_cb, &n, NULL), 2);
	assert_string_equal(n.v[0], "a");
	assert_int_equal(expr_eval(e, s, "a", 2 * SEC, 0, &res), EXPR_FALSE);
	expr_free(e);
	expr_free(k);
	metric_store_free(s);
}

static void
a_flood_of_instances_is_capped_and_counted(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	struct expr *e = compile("probe.*.loss > 5% or probe.*.rtt > 1s");
	struct names n;
	uint64_t refused = 0;
	char name[64];
	int i;

	for (i = 0; i < 15000; i++) {
		snprintf(name, sizeof(name), "probe.p%05d.loss", i);
		metric_intern(s, name);
		snprintf(name, sizeof(name), "probe.p%05d.rtt", i);
		metric_intern(s, name);
	}
	memset(&n, 0, sizeof(n));
	assert_int_equal(expr_instances(e, s, names_cb, &n, &refused), EXPR_MAX_INSTANCES);
	assert_int_equal(n.n, EXPR_MAX_INSTANCES);
	/* Both names of each of the 5000 probes left out were refused. */
	assert_int_equal(refused, 2 * (15000 - EXPR_MAX_INSTANCES));
	assert_string_equal(n.v[0], "p00000");
	expr_free(e);
	metric_store_free(s);
}

static void
keys_quote_and_parse_back_to_the_same_name(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	char name[METRIC_NAME_MAX + 1], key[32], text[METRIC_NAME_MAX + 16];
	struct expr_result res;
	size_t n;

	n = expr_quote_key(key, sizeof(key), "a\"b\\c");
	assert_string_equal(key, "[\"a\\\"b\\\\c\"]");
	assert_int_equal(n, strlen(key));
	assert_int_equal(expr_quote_key(key, 4, "abcdef"), 10);
	assert_string_equal(key, "[\"a");
	expr_quote_key(key, sizeof(key), "a\"b\\c");
	snprintf(name, sizeof(name), "agg.w%s.octets", key);
	metric_put(s, metric_intern(s, name), SEC, 9);
	snprintf(text, sizeof(text), "%s > 8", name);
	assert_int_equal(run(text, s, NULL, SEC, &res), EXPR_TRUE);
	metric_store_free(s);
}

static void
a_minus_without_spaces_belongs_to_the_name(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	struct expr_result res;

	metric_put(s, metric_intern(s, "probe.lo-icmp.rtt"), SEC, 0.03);
	metric_put(s, metric_intern(s, "probe.b.rtt"), SEC, 0.01);
	assert_int_equal(run("probe.lo-icmp.rtt - probe.b.rtt > 10ms", s, NULL, SEC, &res), EXPR_TRUE);
	assert_int_equal(run("probe.lo-icmp.rtt-probe.b.rtt > 10ms", s, NULL, SEC, &res), EXPR_UNKNOWN);
	assert_string_equal(res.why, "no such metric");
	/* A '*' right after a name part is the product. */
	assert_int_equal(run("probe.b.rtt*2 == 20ms", s, NULL, SEC, &res), EXPR_TRUE);
	metric_store_free(s);
}

static void
the_issues_examples_evaluate(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	struct expr_result res;
	uint32_t ab = metric_intern(s, "probe.ab.rtt"), bc = metric_intern(s, "probe.bc.rtt");
	uint32_t ac = metric_intern(s, "probe.ac.rtt"), cap = metric_intern(s, "link.x.available");
	int64_t t;

	metric_retain(s, cap, 14 * 24 * HOUR);
	for (t = 0; t <= 10 * MIN; t += SEC) {
		metric_put(s, ab, t, 0.010);
		metric_put(s, bc, t, 0.012);
		metric_put(s, ac, t, 0.030);
	}
	assert_int_equal(run("avg(probe.ac.rtt, 5m) > avg(probe.ab.rtt, 5m) + avg(probe.bc.rtt, 5m)",
	    s, NULL, 10 * MIN, &res), EXPR_TRUE);
	assert_close(res.value, 0.030);
	for (t = 0; t <= 15 * 24 * HOUR; t += HOUR)
		metric_put(s, cap, t, t == 3 * 24 * HOUR ? 1e9 : 1e8);
	/* "Capacity below 20% of its 14-day maximum": 1e8 < 20% of 1e9 ... */
	assert_int_equal(run("link.x.available < 20% * max(link.x.available, 14d)",
	    s, NULL, 15 * 24 * HOUR, &res), EXPR_TRUE);
	/* ... until the day-3 maximum leaves the 14 days. */
	for (t = 15 * 24 * HOUR + HOUR; t <= 18 * 24 * HOUR; t += HOUR)
		metric_put(s, cap, t, 1e8);
	assert_int_equal(run("link.x.available < 20% * max(link.x.available, 14d)",
	    s, NULL, 18 * 24 * HOUR, &res), EXPR_FALSE);
	metric_store_free(s);
}

static void
lookback_and_retain_cover_the_longest_window_and_offset(void **state)
{
	struct metric_store *s = metric_store_new(NULL);
	struct expr *e = compile("avg(probe.*.rtt, 5m) offset 24h > 1 and probe.*.loss > 1 and "
	    "max(probe.*.rtt, 1h) > 0");
	uint32_t rtt = metric_intern(s, "probe.a.rtt"), loss = metric_intern(s, "probe.a.loss");
	int64_t t;

	assert_true(expr_max_lookback(e) == 24 * HOUR + 5 * MIN);
	expr_retain(e, s, "a");
	for (t = 0; t <= 30 * HOUR; t += 10 * SEC) {
		metric_put(s, rtt, t, 1);
		metric_put(s, loss, t, 1);
	}
	assert_true(metric_oldest_ns(s, rtt) == 30 * HOUR - 24 * HOUR - 5 * MIN);
	/* loss was not asked for more than the default 10 minutes. */
	assert_true(metric_oldest_ns(s, loss) == 30 * HOUR - 10 * MIN);
	expr_free(e);
	metric_store_free(s);
}

static void
evaluation_stops_at_the_step_limit(void **state)
{
	struct metric_limits lim = { 0, 1000000, 0 };
	struct metric_store *s = metric_store_new(&lim);
	uint32_t id = metric_intern(s, "x.y");
	struct expr_result res;
	char text[1024];
	size_t len = 0;
	int i;

	metric_retain(s, id, 400 * 86400 * SEC);
	for (i = 0; i < 300000; i++)
		metric_put(s, id, (int64_t)i * SEC, 1);
	/* 10 windows of 300 000 samples: 3 M steps, under the limit. */
	len = (size_t)snprintf(text, sizeof(text), "avg(x.y, 400d)");
	for (i = 1; i < 10; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, " + avg(x.y, 400d)");
	snprintf(text + len, sizeof(text) - len, " == 10");
	assert_int_equal(run(text, s, NULL, 300000 * SEC, &res), EXPR_TRUE);
	assert_true(res.steps <= EXPR_MAX_STEPS);
	/* 14: past it; UNKNOWN even where "or true" would decide. */
	len = (size_t)snprintf(text, sizeof(text), "avg(x.y, 400d)");
	for (i = 1; i < 14; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, " + p99(x.y, 400d)");
	snprintf(text + len, sizeof(text) - len, " == 14 or 1 > 0");
	assert_int_equal(run(text, s, NULL, 300000 * SEC, &res), EXPR_UNKNOWN);
	assert_string_equal(res.why, "evaluation step limit");
	metric_store_free(s);
}

static void
deep_nesting_is_refused_cleanly(void **state)
{
	char *text = malloc(20001);
	struct expr *e;
	int i;

	assert_non_null(text);
	/* 10 000 '(' are past the length bound already; 4 000 reach the depth bound. */
	memset(text, '(', 10000);
	strcpy(text + 10000, "1 > 0");
	refused(text, EXPR_MAX_LEN + 1, "longer than 4096 characters");
	strcpy(text + 4000, "1 > 0");
	refused(text, EXPR_MAX_DEPTH + 1, "nested deeper than 32");
	memset(text, '-', 4000);
	refused(text, EXPR_MAX_DEPTH + 1, "nested deeper than 32");
	for (i = 0; i < 1000; i++)
		memcpy(text + 4 * i, "not ", 4);
	strcpy(text + 4000, "1 > 0");
	refused(text, 4 * EXPR_MAX_DEPTH + 1, "nested deeper than 32");
	/* 32 levels are fine. */
	memset(text, '(', 32);
	strcpy(text + 32, "1 > 0");
	for (i = 0; i < 32; i++)
		strcat(text, ")");
	e = compile(text);
	expr_free(e);
	free(text);
}

static void
text_and_names_past_their_bounds_are_refused(void **state)
{
	char text[EXPR_MAX_LEN + 2], name[400];
	struct expr *e;
	size_t i;

	memset(text, ' ', sizeof(text));
	memcpy(text, "1 > 0", 5);
	text[EXPR_MAX_LEN] = '\0';
	e = compile(text);			/* exactly 4096 characters */
	expr_free(e);
	text[EXPR_MAX_LEN] = ' ';
	text[EXPR_MAX_LEN + 1] = '\0';
	refused(text, EXPR_MAX_LEN + 1, "longer than 4096 characters");

	memcpy(name, "probe.", 6);
	memset(name + 6, 'a', METRIC_NAME_MAX - 6);
	strcpy(name + METRIC_NAME_MAX, " > 1");
	e = compile(name);			/* a 255-character name */
	expr_free(e);
	memset(name + 6, 'a', 300);
	strcpy(name + 306, " > 1");
	refused(name, 6, "metric name longer than 255");

	/* 1 + 1 + ... : more than 512 nodes. */
	for (i = 0; i < 400; i++)
		memcpy(text + 4 * i, "1 + ", 4);
	strcpy(text + 1600, "1 > 0");
	refused(text, 1025, "more than 512 terms");
}

static void
syntax_errors_name_the_column_and_what_was_expected(void **state)
{
	refused("", 1, "expected a number, a metric or '(', not the end");
	refused("avg(probe.x.rtt, 5m", 20, "expected ')' after the window, not the end");
	refused("avg(probe.x.rtt 5m) > 1", 17, "expected ',' and a window after the metric");
	refused("avg(probe.x.rtt, 5) > 1", 18, "expected a duration such as 5m as the window");
	refused("avg(probe.x.rtt, 0s) > 1", 18, "the window must be longer than 0");
	refused("avg(probe.x.rtt, 401d) > 1", 18, "the window is longer than 400d");
	refused("avg(5, 5m) > 1", 5, "expected a metric name as the first argument of avg()");
	refused("avg > 1", 5, "expected '(' after avg");
	refused("probe.x.rtt offset > 1", 20, "expected a duration such as 5m as the offset");
	refused("probe.x.rtt", 1, "expected a condition");
	refused("(1 > 2", 7, "expected ')' to close the '(' of column 1");
	refused("1 > 2)", 6, "expected an operator, 'and', 'or' or the end, not ')'");
	refused("1 > 2 > 3", 7, "comparisons do not chain");
	refused("(1 > 2) + 1 > 0", 1, "expected a number, not a condition");
	refused("1 > 0 and 2", 11, "expected a condition");
	refused("not 5", 5, "expected a condition");
	refused("probe.x.rtt = 1", 13, "expected '=='");
	refused("1 > 0 && 1 > 0", 7, "expected 'and' or 'or' instead of '&'");
	refused("!(1 > 0)", 1, "expected '!='");
	refused("1 > 0 and", 10, "expected a number, a metric or '('");
	refused("1 > 0 and and", 11, "not 'and'");
	refused("probe..rtt > 1", 7, "expected a name part after '.'");
	refused("probe.x. > 1", 9, "expected a name part after '.'");
	refused("probe.*.*.rtt > 1", 9, "at most one '*' in a metric name");
	refused("probe.*x.rtt > 1", 7, "'*' stands for a whole name part");
	refused("agg.w[\"abc].octets > 1", 7, "unterminated string");
	refused("agg.w[\"a\\nb\"].octets > 1", 9, "unknown escape");
	refused("agg.w[\"a\tb\"].octets > 1", 9, "control character");
	refused("agg.w[abc].octets > 1", 7, "expected a quoted key or '*' after '['");
	refused("agg.w[\"a\".octets > 1", 10, "expected ']' after the key");
	refused("\"x\" > 1", 1, "a quoted key belongs after a metric name part");
	refused("foo > 1", 1, "unknown function or name 'foo'");
	refused("1 > 0 \x01", 7, "unexpected byte 0x01");
	refused("1 > 0 @", 7, "unexpected character '@'");
	refused("probe.x.rtt offset 1h offset 1h > 0", 23, "not 'offset'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(units_scale_numbers),
		cmocka_unit_test(unknown_units_and_out_of_range_numbers_are_refused),
		cmocka_unit_test(arithmetic_follows_precedence_and_left_associativity),
		cmocka_unit_test(comparisons_give_what_c_gives),
		cmocka_unit_test(not_binds_tighter_than_and_which_binds_tighter_than_or),
		cmocka_unit_test(three_valued_truth_tables_are_kleenes),
		cmocka_unit_test(division_by_zero_and_overflow_are_unknown),
		cmocka_unit_test(window_functions_match_the_samples_put),
		cmocka_unit_test(median_of_an_even_count_is_the_mean_of_the_middle_two),
		cmocka_unit_test(rate_is_per_second_and_survives_a_counter_reset),
		cmocka_unit_test(too_few_samples_make_a_function_unknown),
		cmocka_unit_test(offset_reads_the_window_of_the_past_or_is_unknown_without_history),
		cmocka_unit_test(a_plain_reference_goes_stale_after_three_spacings),
		cmocka_unit_test(nodata_is_true_only_for_an_empty_window_after_the_start),
		cmocka_unit_test(wildcards_bind_one_instance_shared_by_every_reference),
		cmocka_unit_test(forgotten_metrics_name_no_instance_until_they_come_back),
		cmocka_unit_test(a_flood_of_instances_is_capped_and_counted),
		cmocka_unit_test(keys_quote_and_parse_back_to_the_same_name),
		cmocka_unit_test(a_minus_without_spaces_belongs_to_the_name),
		cmocka_unit_test(the_issues_examples_evaluate),
		cmocka_unit_test(lookback_and_retain_cover_the_longest_window_and_offset),
		cmocka_unit_test(evaluation_stops_at_the_step_limit),
		cmocka_unit_test(deep_nesting_is_refused_cleanly),
		cmocka_unit_test(text_and_names_past_their_bounds_are_refused),
		cmocka_unit_test(syntax_errors_name_the_column_and_what_was_expected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
