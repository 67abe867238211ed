/*
 * The rules in the daemon: the configured rules and the built-in alarms,
 * compiled (engine/expr.h) and evaluated on the event loop every rule's
 * interval against the metric store, one alarm (engine/alarm.h) per rule
 * and instance; events out through a sink (the notifications), alarm
 * states kept in daemon.state_file across restarts.
 *
 * A reload keeps the state of a rule whose when, clear and critical texts
 * are unchanged (its other settings take effect at once); a rule that is
 * removed or whose expressions changed clears its active alarms first.
 */
#ifndef FP_RULES_H
#define FP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/alarm.h"
#include "engine/metric.h"
#include "subagent/config.h"
#include "subagent/loop.h"

/* FpAlarmStatus in the MIB: alarm_state plus "not decided". */
#define RULES_STATE_UNKNOWN 5

enum rules_event_kind {
	RULES_RAISED = 1,	/* also reminders and changes of severity */
	RULES_CLEARED,
	RULES_SUMMARY,		/* notifications held back by the token bucket */
};

struct rules_event {
	enum rules_event_kind kind;
	uint32_t	 alarm_id;
	const char	*rule;
	const char	*instance;	/* "" for a rule without wildcards */
	const char	*when;		/* the expression text; "" when the rule is gone */
	enum alarm_severity severity;
	bool		 has_value;
	double		 value;
	uint64_t	 suppressed;	/* RULES_SUMMARY: since the previous summary */
	uint32_t	 active;	/* RULES_SUMMARY: alarms raised now */
};

typedef void (*rules_event_fn)(void *arg, const struct rules_event *);

/* One rule, for the MIB. Pointers stay valid until the next apply. */
struct rule_info {
	const char	*name;
	const char	*when, *clear, *description;	/* "" when absent */
	int64_t		 for_ns, clear_for_ns, interval_ns;
	enum alarm_severity severity;
	int		 state;		/* alarm_state or RULES_STATE_UNKNOWN */
	bool		 has_value;
	double		 value;
	int64_t		 last_eval_wall_ns;	/* 0 before the first evaluation */
	uint64_t	 fire_count;
	uint32_t	 instances;
	uint32_t	 firing;	/* FIRING or CLEARING */
	const char	*error;		/* of the last refused reload, or "" */
};

/* One active alarm, for the MIB. */
struct alarm_info {
	uint32_t	 id;
	const char	*rule;
	const char	*instance;
	enum alarm_severity severity;
	enum alarm_state state;		/* FIRING or CLEARING */
	int64_t		 since_mono_ns;
	bool		 has_value;
	double		 value;
};

struct rules_stats {
	uint64_t	 suppressed;	/* by the token bucket */
	uint64_t	 instances_refused;
	uint32_t	 active;
};

struct rules;

/* started_ns: when the metric store began to fill (nodata() waits for it). */
struct rules	*rules_new(struct loop *, struct metric_store *, int64_t started_ns);
/* Writes the state file one last time. */
void		 rules_free(struct rules *);

/*
 * Builds the rules of conf (already validated by config_load). The first
 * apply restores the alarm states from daemon.state_file. False (logged)
 * when out of memory; the rules that could be built run.
 */
bool		 rules_apply(struct rules *, const struct fp_config *);
/*
 * A reload of path was refused with errs: each rule named in an error
 * ("rules[N]...") shows it as its error until a reload succeeds.
 */
void		 rules_reload_failed(struct rules *, const char *path,
		    const struct config_errors *errs);

void		 rules_set_sink(struct rules *, rules_event_fn, void *arg);
/* Called when rules or active alarms come or go (the MIB rebuilds its rows). */
void		 rules_set_hook(struct rules *, void (*hook)(void *), void *arg);

/* Rules in MIB index order (name length, then bytes). */
size_t		 rules_count(const struct rules *);
void		 rules_info(const struct rules *, size_t i, struct rule_info *);
/* Active alarms in id order. */
size_t		 rules_active_count(const struct rules *);
void		 rules_active(const struct rules *, size_t i, struct alarm_info *);
/* False when no active alarm has that id. */
bool		 rules_alarm(const struct rules *, uint32_t id, struct alarm_info *);
void		 rules_get_stats(const struct rules *, struct rules_stats *);

#endif
