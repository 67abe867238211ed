/*
 * The alarm of one (rule, instance): OK -> PENDING (`for` running) ->
 * FIRING -> CLEARING (`clear_for` running) -> OK, driven by the truth of
 * the rule's expressions at each evaluation; and a token bucket that paces
 * the notifications of all alarms. Pure: times are passed in (monotonic
 * ns), events are returned; the caller sends, stores and persists.
 *
 * UNKNOWN holds the state: it neither raises nor clears, and it does not
 * complete a running `for` or `clear_for` (their time keeps counting; the
 * step happens at the next TRUE evaluation). docs/rules.md has the diagram.
 */
#ifndef FP_ALARM_H
#define FP_ALARM_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/expr.h"

enum alarm_state {
	ALARM_OK = 1,			/* values as in the MIB */
	ALARM_PENDING = 2,
	ALARM_FIRING = 3,
	ALARM_CLEARING = 4,
};

enum alarm_severity {
	ALARM_WARNING = 1,
	ALARM_CRITICAL = 2,
};

struct alarm_params {
	int64_t		 for_ns;	/* `when` holds this long before FIRING; 0: at once */
	int64_t		 clear_for_ns;	/* the clear condition holds this long before OK */
	int64_t		 reminder_ns;	/* REMINDER this often while active; 0: never */
	enum alarm_severity severity;	/* of `when` */
	bool		 has_clear;	/* a `clear` expression: hysteresis */
	bool		 has_critical;	/* a `critical` expression: raises the severity */
};

/* The truths of one evaluation. */
struct alarm_input {
	enum expr_truth	 when;
	enum expr_truth	 clear;		/* read when has_clear; else "when is FALSE" clears */
	enum expr_truth	 critical;	/* read when has_critical, while raising or active */
	bool		 has_value;
	double		 value;
};

struct alarm {
	enum alarm_state state;
	enum alarm_severity severity;	/* while FIRING or CLEARING */
	int64_t		 changed_ns;	/* entered the state */
	int64_t		 fired_ns;	/* went FIRING (the active alarm's "since") */
	int64_t		 notified_ns;	/* last RAISED, SEVERITY or REMINDER */
	uint64_t	 fire_count;
	bool		 has_value;
	double		 value;		/* of the last evaluation that had one */
};

enum alarm_event_kind {
	ALARM_RAISED = 1,		/* into FIRING */
	ALARM_CLEARED,			/* back to OK from FIRING or CLEARING */
	ALARM_REMINDER,			/* still active, reminder_ns after the last */
	ALARM_SEVERITY,			/* the severity changed while active */
};

struct alarm_event {
	enum alarm_event_kind kind;
	enum alarm_severity severity;
	bool		 notify;	/* false: the token bucket held it back (counted there) */
	int64_t		 since_ns;	/* fired_ns */
	bool		 has_value;
	double		 value;
};

/*
 * Notifications of all alarms: on average one per interval_ns, bursts of
 * up to burst. What it refuses is counted; alarm_limiter_poll then yields
 * the count for one summary notification as soon as a token is back.
 */
struct alarm_limiter {
	int64_t		 interval_ns;
	int64_t		 credit_ns;	/* tokens * interval_ns */
	int64_t		 cap_ns;
	int64_t		 last_ns;
	uint64_t	 pending;	/* refused since the last summary */
	uint64_t	 suppressed;	/* refused, ever */
};

void		 alarm_init(struct alarm *, int64_t now_ns);

/* One evaluation at now_ns; true with *ev when there is an event. lim may be NULL. */
bool		 alarm_step(struct alarm *, const struct alarm_params *, const struct alarm_input *,
		    int64_t now_ns, struct alarm_limiter *lim, struct alarm_event *ev);

/*
 * Back to OK at once (rule removed on reload, instance gone): true with a
 * CLEARED event when the alarm was FIRING or CLEARING.
 */
bool		 alarm_reset(struct alarm *, int64_t now_ns, struct alarm_limiter *lim,
		    struct alarm_event *ev);

/* interval_ns > 0, burst >= 1; the bucket starts full. */
void		 alarm_limiter_init(struct alarm_limiter *, int64_t interval_ns, uint32_t burst,
		    int64_t now_ns);
/* Takes a token; false (and counted) when there is none. */
bool		 alarm_limiter_take(struct alarm_limiter *, int64_t now_ns);
/* True with the count of refused notifications when a summary may go out now. */
bool		 alarm_limiter_poll(struct alarm_limiter *, int64_t now_ns, uint64_t *count);

/*
 * Persistence across restarts: times relative to the export ("ago"), so
 * that they survive a new monotonic clock. The caller stores the records
 * with the rule name and instance; a restored FIRING alarm raises nothing
 * again. alarm_import refuses (false, alarm left OK) a record out of range.
 */
struct alarm_saved {
	uint8_t		 state;
	uint8_t		 severity;
	uint8_t		 has_value;
	int64_t		 changed_ago_ns;
	int64_t		 fired_ago_ns;
	int64_t		 notified_ago_ns;
	uint64_t	 fire_count;
	double		 value;
};

void		 alarm_export(const struct alarm *, int64_t now_ns, struct alarm_saved *);
bool		 alarm_import(struct alarm *, const struct alarm_saved *, int64_t now_ns);

#endif
