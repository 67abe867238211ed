/*
 * The metric store: every number flowpathd publishes, by name
 * ("probe.lo-icmp.rtt", "agg.web.octets", "exporter.192.0.2.1.lost",
 * "collector.drops"), with a bounded in-memory history of timestamped
 * samples that the rules read (windows, offsets). Pure: times are passed in
 * (monotonic ns); no clocks, no I/O.
 *
 * Bounds: at most max_metrics names (further names are refused and
 * counted), and per metric a ring of points whose length follows the
 * retention the rules ask for (metric_retain), capped by max_points.
 */
#ifndef FP_METRIC_H
#define FP_METRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRIC_NAME_MAX 255

struct metric_limits {
	uint32_t	 max_metrics;		/* default 100000 */
	uint32_t	 max_points;		/* per metric, default 90000 (25 h at 1 s) */
	int64_t		 default_retention_ns;	/* history kept when no rule asks for more, default 10 min */
};

struct metric_point {
	int64_t		 t_ns;
	double		 v;
};

struct metric_store;

/* limits NULL: the defaults. NULL when out of memory. */
struct metric_store *metric_store_new(const struct metric_limits *);
void		 metric_store_free(struct metric_store *);

/*
 * The id (>= 1) of name, created if new; 0 when the name is invalid (empty,
 * longer than METRIC_NAME_MAX) or the store is full (counted). A forgotten
 * name comes back under its old id, with no points.
 */
uint32_t	 metric_intern(struct metric_store *, const char *name);
/* 0 when unknown or forgotten. */
uint32_t	 metric_find(const struct metric_store *, const char *name);
/* NULL when id was never handed out or its metric is forgotten. */
const char	*metric_name(const struct metric_store *, uint32_t id);
/* Ids handed out, forgotten ones included: ids run 1..metric_count(). */
size_t		 metric_count(const struct metric_store *);

/*
 * Forgets every metric whose name starts with prefix (a probe or an
 * aggregation removed by a reload: "probe.NAME."); returns how many. Its
 * points are freed, metric_find() and metric_name() no longer know it, and
 * the names listed by walking the ids skip it. Ids are never reused: a
 * forgotten metric keeps its id (and its place under max_metrics), so a
 * module still holding the id cannot write into another metric's history;
 * its metric_put()s are dropped (counted) and its reads see no points until
 * metric_intern() of the same name revives it under that id. An empty or
 * NULL prefix forgets nothing.
 */
size_t		 metric_forget(struct metric_store *, const char *prefix);
/*
 * metric_forget(), sparing the names that start with one of the nkeep
 * prefixes in keep: names may hold dots, so "probe.a." also starts the
 * metrics of a probe "a.b" that stays ("probe.a.b.").
 */
size_t		 metric_forget_except(struct metric_store *, const char *prefix,
		    const char *const *keep, size_t nkeep);
uint64_t	 metric_refused(const struct metric_store *);
/* Samples not stored: out of order, NaN, unknown or forgotten id. */
uint64_t	 metric_dropped(const struct metric_store *);
/* Points overwritten inside their retention because a ring hit max_points. */
uint64_t	 metric_truncated(const struct metric_store *);

/*
 * A sample at t_ns. Samples of one metric come in time order; one older
 * than the newest is dropped (counted). NaN is not stored.
 */
void		 metric_put(struct metric_store *, uint32_t id, int64_t t_ns, double v);

/*
 * Keep at least age_ns of history for id (the longest any rule needs):
 * points are trimmed only while the next one is at least age_ns older than
 * the newest, so one point at or before newest - age_ns stays.
 */
void		 metric_retain(struct metric_store *, uint32_t id, int64_t age_ns);

/* The newest point; false when the metric has none. */
bool		 metric_last(const struct metric_store *, uint32_t id, struct metric_point *out);
/*
 * Up to n of the newest points with t_ns <= to_ns into out, oldest first;
 * returns how many (the rules' staleness check reads the recent spacing).
 */
size_t		 metric_tail(const struct metric_store *, uint32_t id, int64_t to_ns, size_t n,
		    struct metric_point *out);
/* Time of the oldest point kept; INT64_MAX when none. */
int64_t		 metric_oldest_ns(const struct metric_store *, uint32_t id);

/* Calls cb for each point with from_ns <= t_ns <= to_ns, oldest first; returns how many. */
typedef void (*metric_point_cb)(void *arg, const struct metric_point *);
size_t		 metric_range(const struct metric_store *, uint32_t id, int64_t from_ns, int64_t to_ns,
		    metric_point_cb cb, void *arg);

#endif
