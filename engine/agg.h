/*
 * One aggregation: per-key flows, packets and octets over an interval, exact
 * up to a capacity of keys and Space-Saving heavy hitters above it (weighted
 * by octets: a key's octets are overestimated by at most its error, and
 * every error is at most the interval's octets / capacity); closed intervals
 * become immutable ranked snapshots; keys that were in the top N within the
 * retention keep a stable row with cumulative counters. Pure: times are
 * passed in, keys are packed by engine/key.h.
 */
#ifndef FP_AGG_H
#define FP_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/key.h"

struct agg_params {
	size_t		 keylen;	/* key_len() of the aggregation's spec, 1..KEY_MAX_BYTES */
	uint32_t	 top;		/* N ranked rows per interval, >= 1 */
	uint32_t	 capacity;	/* keys tracked per interval, >= top */
	uint32_t	 retention;	/* closes a key keeps its stable row after leaving the top N; 0 = only while in it */
};

struct agg_counts {
	uint64_t	 flows;
	uint64_t	 packets;
	uint64_t	 octets;
};

/* A ranked row of a closed interval. */
struct agg_row {
	const uint8_t	*key;		/* keylen bytes, inside the snapshot */
	struct agg_counts c;
	uint64_t	 error;		/* octets possibly over-counted (Space-Saving), 0 when exact */
};

struct agg_snapshot {
	int64_t		 start_ms;	/* the interval [start_ms, end_ms) */
	int64_t		 end_ms;
	struct agg_counts total;	/* every flow accounted in the interval */
	struct agg_counts other;	/* total minus the ranked rows */
	uint32_t	 keys;		/* distinct keys tracked at the close */
	uint64_t	 evictions;	/* keys evicted for the capacity in the interval; 0 = exact */
	size_t		 nrows;		/* min(top, keys) */
	struct agg_row	*rows;		/* by octets, descending; ties by key bytes */
};

/* A stable row: a key that was in the top N within the retention. */
struct agg_retained {
	const uint8_t	*key;		/* keylen bytes */
	struct agg_counts total;	/* cumulative since `since_ms` */
	int64_t		 since_ms;	/* when the key entered the retained set (discontinuity) */
	int64_t		 last_top_ms;	/* end of the last interval it was in the top N */
};

struct agg;

struct agg	*agg_new(const struct agg_params *);
void		 agg_free(struct agg *);

/* One flow of the open interval. */
void		 agg_add(struct agg *, const uint8_t *key, uint64_t packets, uint64_t octets);
/* Totals of the open interval so far, and its distinct keys. */
struct agg_counts agg_running(const struct agg *);
uint32_t	 agg_running_keys(const struct agg *);
/* Evictions since the aggregation was created (all intervals). */
uint64_t	 agg_evictions_total(const struct agg *);

/*
 * Closes the open interval as [start_ms, end_ms): ranks it, updates the
 * retained set, and opens a new, empty interval. The snapshot is the
 * caller's (agg_snapshot_free) and never changes. NULL when out of memory
 * (the interval is then lost, and counted by the caller).
 */
struct agg_snapshot *agg_close(struct agg *, int64_t start_ms, int64_t end_ms);
void		 agg_snapshot_free(struct agg_snapshot *);

/* The retained rows as of the latest close, sorted by key bytes; valid until the next close. */
size_t		 agg_retained(const struct agg *, const struct agg_retained **rows);

/* Interval alignment on the wall clock: the first multiple of interval_s after now_ms. */
int64_t		 agg_next_close_ms(int64_t now_ms, uint32_t interval_s);

#endif
