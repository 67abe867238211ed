/*
 * Rule expressions: conditions over the metric store, compiled once and
 * evaluated at a given time with three-valued (Kleene) logic. Pure: the
 * store and the times are passed in. docs/rules.md is the reference.
 *
 *   cond    := and { "or" and }
 *   and     := not { "and" not }
 *   not     := "not" not | cmp
 *   cmp     := sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum ]
 *   sum     := prod { ("+" | "-") prod }
 *   prod    := unary { ("*" | "/") unary }
 *   unary   := "-" unary | primary
 *   primary := NUMBER [UNIT] | "(" cond ")"
 *            | METRIC [ "offset" DURATION ]
 *            | FUNC "(" METRIC "," DURATION ")" [ "offset" DURATION ]
 *   FUNC    := avg min max sum count last median p95 p99 rate change nodata
 *   UNIT    := us ms s m h d | % | k M G | bps kbps Mbps Gbps
 *   METRIC  := probe.lo-icmp.rtt | agg.web["10.0.0.1"].octets | probe.*.loss
 *
 * The whole text is a condition; a number alone is refused. A METRIC with
 * one '*' (at most one per name) makes the rule a wildcard rule: one
 * instance per distinct text the '*' stands for among the store's names,
 * the same text for every '*' of the rule.
 */
#ifndef FP_EXPR_H
#define FP_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/metric.h"

#define EXPR_MAX_LEN		4096	/* characters of text (CONFIG_EXPR_MAX) */
#define EXPR_MAX_DEPTH		32	/* nested "(", "not", "-", function calls */
#define EXPR_MAX_NODES		512
#define EXPR_MAX_STEPS		4000000	/* nodes + samples visited per evaluation */
#define EXPR_MAX_INSTANCES	10000	/* per wildcard rule */
#define EXPR_MAX_DURATION_NS	(400LL * 86400 * 1000000000)	/* windows and offsets */
#define EXPR_STALE_MIN_NS	(10LL * 1000000000)
#define EXPR_STALE_SINGLE_NS	(600LL * 1000000000)

struct expr;

struct expr_error {
	size_t	 column;	/* 1-based */
	char	 msg[160];	/* e.g. "expected ')' after the window" */
};

enum expr_truth {
	EXPR_FALSE = 0,
	EXPR_TRUE = 1,
	EXPR_UNKNOWN = 2,
};

struct expr_result {
	enum expr_truth	 truth;
	bool		 has_value;	/* value known */
	double		 value;		/* left side of the first comparison */
	const char	*why;		/* first reason for an UNKNOWN (static), or NULL */
	uint64_t	 steps;
};

/* NULL with err filled in when text is not a valid condition (or out of memory). */
struct expr	*expr_compile(const char *text, struct expr_error *err);
void		 expr_free(struct expr *);

bool		 expr_is_wildcard(const struct expr *);
/* Longest window + offset of any reference: the history the rule needs. */
int64_t		 expr_max_lookback(const struct expr *);
/* metric_retain() for every existing metric the rule reads for instance. */
void		 expr_retain(const struct expr *, struct metric_store *, const char *instance);

/*
 * When name matches a wildcard reference of the rule, true with the text
 * the '*' stands for in inst (NUL-terminated, at most METRIC_NAME_MAX).
 */
bool		 expr_bind(const struct expr *, const char *name, char inst[METRIC_NAME_MAX + 1]);

/*
 * Calls cb once per distinct instance, in byte order: "" for a rule
 * without wildcards. At most EXPR_MAX_INSTANCES; names whose instance did
 * not fit are added to *refused (may be NULL). Forgotten metrics
 * (metric_forget) name no instance. Returns the count, or
 * EXPR_INSTANCES_FAILED without calling cb when out of memory (so that a
 * caller does not take a partial list for instances that went away).
 */
#define EXPR_INSTANCES_FAILED	((size_t)-1)
typedef void (*expr_instance_cb)(void *arg, const char *instance);
size_t		 expr_instances(const struct expr *, const struct metric_store *,
		    expr_instance_cb cb, void *arg, uint64_t *refused);

/*
 * Evaluates at now_ns. started_ns is when the store began to receive
 * samples: nodata() and count() stay UNKNOWN until their window lies
 * after it. instance: "" or NULL for a rule without wildcards.
 */
enum expr_truth	 expr_eval(const struct expr *, const struct metric_store *, const char *instance,
		    int64_t now_ns, int64_t started_ns, struct expr_result *);

/*
 * Writes ["key"] with '\' and '"' escaped, as a metric name's instance
 * selector (agg.web["10.0.0.1"].octets); snprintf-style return.
 */
size_t		 expr_quote_key(char *buf, size_t size, const char *key);

#endif
