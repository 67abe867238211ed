/*
 * libFuzzer harness for engine/expr: arbitrary text is compiled; a refusal
 * must carry a message and a column inside the text (or just past it). A
 * rule that compiles is evaluated for each of its instances against a small
 * store at a few times: the truth is one of three, UNKNOWN has a reason,
 * the steps stay bounded, and "not (...)" gives the mirrored truth.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/expr.h"

#define SEC 1000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct metric_store *store;

static void
fill(void)
{
	static const char *const names[] = {
		"probe.a.rtt", "probe.b.rtt", "probe.a.loss", "probe.a.sent", "probe.a.up",
		"agg.w.octets", "agg.w[\"k\"].octets", "agg.w[\"k\\\"q\"].octets",
		"exporter.192.0.2.1.lost", "exporter.192.0.2.1.records", "collector.drops",
	};
	struct metric_limits lim = { 64, 256, 0 };
	size_t i;
	int64_t t;

	store = metric_store_new(&lim);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint32_t id = metric_intern(store, names[i]);

		metric_retain(store, id, 30 * 3600 * SEC);
		for (t = 0; t < 200; t++)
			if ((t + (int64_t)i) % 3 != 0)
				metric_put(store, id, (int64_t)i * SEC + t * 600 * SEC,
				    (double)((t * 7 + (int64_t)i) % 11) / 10);
	}
}

struct inst {
	char	 v[4][METRIC_NAME_MAX + 1];
	size_t	 n;
};

static void
inst_cb(void *arg, const char *name)
{
	struct inst *in = arg;

	if (in->n < 4)
		strcpy(in->v[in->n++], name);
}

static void
check(const struct expr *e, const struct expr *neg, const char *inst, int64_t now)
{
	struct expr_result r, n;

	expr_eval(e, store, inst, now, 0, &r);
	if (r.truth > EXPR_UNKNOWN || r.steps > EXPR_MAX_STEPS + 1 ||
	    (r.truth == EXPR_UNKNOWN) != (r.why != NULL))
		__builtin_trap();
	if (r.has_value && !(r.value - r.value == 0))
		__builtin_trap();
	if (neg == NULL)
		return;
	expr_eval(neg, store, inst, now, 0, &n);
	if (r.truth == EXPR_UNKNOWN ? n.truth != EXPR_UNKNOWN : n.truth != (1 - r.truth))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t now[] = { 0, 3600 * SEC, 24 * 3600 * SEC, 33 * 3600 * SEC, INT64_MAX };
	struct expr_error err;
	struct expr *e, *neg;
	struct inst in;
	char *s, *w;
	size_t len, i, k;

	if (store == NULL)
		fill();
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	if ((e = expr_compile(s, &err)) == NULL) {
		if (err.msg[0] == '\0' || err.column < 1 ||
		    err.column > (len > EXPR_MAX_LEN ? EXPR_MAX_LEN : len) + 1 ||
		    memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
			__builtin_trap();
		free(s);
		return 0;
	}
	neg = NULL;
	if ((w = malloc(len + 8)) != NULL) {
		memcpy(w, "not (", 5);
		memcpy(w + 5, s, len);
		memcpy(w + 5 + len, ")", 2);
		neg = expr_compile(w, &err);
		free(w);
	}
	if (expr_max_lookback(e) < 0)
		__builtin_trap();
	memset(&in, 0, sizeof(in));
	expr_instances(e, store, inst_cb, &in, NULL);
	if (!expr_is_wildcard(e) && (in.n != 1 || in.v[0][0] != '\0'))
		__builtin_trap();
	for (i = 0; i < in.n; i++)
		for (k = 0; k < sizeof(now) / sizeof(now[0]); k++)
			check(e, neg, in.v[i], now[k]);
	check(e, NULL, "no-such-instance", now[1]);
	expr_free(neg);
	expr_free(e);
	free(s);
	return 0;
}
