/*
 * Alarm states and notification pacing. The clear condition is the
 * `clear` expression when the rule has one (hysteresis: between the two
 * thresholds the alarm stays as it is), else "`when` is FALSE". The bucket
 * counts in nanoseconds of credit rather than fractional tokens, so that
 * its arithmetic is exact and the same on every run.
 */
#include <string.h>

#include "engine/alarm.h"

#define ALARM_MAX_AGO_NS (INT64_MAX / 4)	/* restored times stay far from overflow */

/* now - then, never negative (a clock that stepped back counts as no time). */
static int64_t
elapsed(int64_t now, int64_t then)
{
	int64_t d;

	if (__builtin_sub_overflow(now, then, &d))
		return then < 0 ? INT64_MAX : 0;
	return d < 0 ? 0 : d;
}

void
alarm_init(struct alarm *a, int64_t now)
{
	memset(a, 0, sizeof(*a));
	a->state = ALARM_OK;
	a->severity = ALARM_WARNING;
	a->changed_ns = now;
}

static void
enter(struct alarm *a, enum alarm_state s, int64_t now)
{
	a->state = s;
	a->changed_ns = now;
}

static bool
emit(struct alarm *a, enum alarm_event_kind kind, int64_t now, struct alarm_limiter *lim,
    struct alarm_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->severity = a->severity;
	ev->since_ns = a->fired_ns;
	ev->has_value = a->has_value;
	ev->value = a->value;
	ev->notify = lim == NULL || alarm_limiter_take(lim, now);
	return true;
}

/* Critical while `critical` is TRUE, the rule's severity while FALSE; UNKNOWN keeps cur. */
static enum alarm_severity
severity(const struct alarm_params *p, const struct alarm_input *in, enum alarm_severity cur)
{
	if (!p->has_critical || in->critical == EXPR_UNKNOWN)
		return p->has_critical ? cur : p->severity;
	return in->critical == EXPR_TRUE ? ALARM_CRITICAL : p->severity;
}

/* May the alarm clear: the clear expression, or `when` negated (UNKNOWN stays). */
static enum expr_truth
may_clear(const struct alarm_params *p, const struct alarm_input *in)
{
	if (p->has_clear)
		return in->clear;
	if (in->when == EXPR_UNKNOWN)
		return EXPR_UNKNOWN;
	return in->when == EXPR_TRUE ? EXPR_FALSE : EXPR_TRUE;
}

static bool
fire(struct alarm *a, const struct alarm_params *p, const struct alarm_input *in,
    int64_t now, struct alarm_limiter *lim, struct alarm_event *ev)
{
	enter(a, ALARM_FIRING, now);
	a->severity = severity(p, in, p->severity);
	a->fired_ns = a->notified_ns = now;
	a->fire_count++;
	return emit(a, ALARM_RAISED, now, lim, ev);
}

bool
alarm_step(struct alarm *a, const struct alarm_params *p, const struct alarm_input *in,
    int64_t now, struct alarm_limiter *lim, struct alarm_event *ev)
{
	enum alarm_severity sev;
	enum expr_truth c;

	if (in->has_value) {
		a->has_value = true;
		a->value = in->value;
	}
	switch (a->state) {
	case ALARM_OK:
		if (in->when != EXPR_TRUE)
			return false;
		/* With for = 0 it fires in this same evaluation. */
		enter(a, ALARM_PENDING, now);
		return p->for_ns <= 0 && fire(a, p, in, now, lim, ev);
	case ALARM_PENDING:
		if (in->when == EXPR_FALSE) {
			enter(a, ALARM_OK, now);
			return false;
		}
		if (in->when == EXPR_UNKNOWN || elapsed(now, a->changed_ns) < p->for_ns)
			return false;
		return fire(a, p, in, now, lim, ev);
	case ALARM_FIRING:
	case ALARM_CLEARING:
		c = may_clear(p, in);
		if (a->state == ALARM_FIRING && c == EXPR_TRUE)
			enter(a, ALARM_CLEARING, now);
		else if (a->state == ALARM_CLEARING && c == EXPR_FALSE)
			enter(a, ALARM_FIRING, now);
		if (a->state == ALARM_CLEARING && c == EXPR_TRUE &&
		    elapsed(now, a->changed_ns) >= p->clear_for_ns) {
			enter(a, ALARM_OK, now);
			return emit(a, ALARM_CLEARED, now, lim, ev);
		}
		if ((sev = severity(p, in, a->severity)) != a->severity) {
			a->severity = sev;
			a->notified_ns = now;
			return emit(a, ALARM_SEVERITY, now, lim, ev);
		}
		if (p->reminder_ns > 0 && elapsed(now, a->notified_ns) >= p->reminder_ns) {
			a->notified_ns = now;
			return emit(a, ALARM_REMINDER, now, lim, ev);
		}
		return false;
	}
	return false;
}

bool
alarm_reset(struct alarm *a, int64_t now, struct alarm_limiter *lim, struct alarm_event *ev)
{
	bool active = a->state == ALARM_FIRING || a->state == ALARM_CLEARING;

	enter(a, ALARM_OK, now);
	return active && emit(a, ALARM_CLEARED, now, lim, ev);
}

void
alarm_limiter_init(struct alarm_limiter *l, int64_t interval_ns, uint32_t burst, int64_t now)
{
	memset(l, 0, sizeof(*l));
	l->interval_ns = interval_ns > 0 ? interval_ns : 1;
	if (burst == 0)
		burst = 1;
	if (__builtin_mul_overflow(l->interval_ns, (int64_t)burst, &l->cap_ns))
		l->cap_ns = INT64_MAX;
	l->credit_ns = l->cap_ns;
	l->last_ns = now;
}

static void
refill(struct alarm_limiter *l, int64_t now)
{
	int64_t d = elapsed(now, l->last_ns);

	l->last_ns = now;
	l->credit_ns = d > l->cap_ns - l->credit_ns ? l->cap_ns : l->credit_ns + d;
}

static bool
take(struct alarm_limiter *l, int64_t now)
{
	refill(l, now);
	if (l->credit_ns < l->interval_ns)
		return false;
	l->credit_ns -= l->interval_ns;
	return true;
}

bool
alarm_limiter_take(struct alarm_limiter *l, int64_t now)
{
	if (take(l, now))
		return true;
	l->pending++;
	l->suppressed++;
	return false;
}

bool
alarm_limiter_poll(struct alarm_limiter *l, int64_t now, uint64_t *count)
{
	if (l->pending == 0 || !take(l, now))
		return false;
	*count = l->pending;
	l->pending = 0;
	return true;
}

void
alarm_export(const struct alarm *a, int64_t now, struct alarm_saved *s)
{
	memset(s, 0, sizeof(*s));
	s->state = (uint8_t)a->state;
	s->severity = (uint8_t)a->severity;
	s->has_value = a->has_value;
	s->changed_ago_ns = elapsed(now, a->changed_ns);
	s->fired_ago_ns = elapsed(now, a->fired_ns);
	s->notified_ago_ns = elapsed(now, a->notified_ns);
	s->fire_count = a->fire_count;
	s->value = a->has_value ? a->value : 0;
}

static bool
ago_ok(int64_t ago)
{
	return ago >= 0 && ago <= ALARM_MAX_AGO_NS;
}

bool
alarm_import(struct alarm *a, const struct alarm_saved *s, int64_t now)
{
	alarm_init(a, now);
	if (s->state < ALARM_OK || s->state > ALARM_CLEARING ||
	    (s->severity != ALARM_WARNING && s->severity != ALARM_CRITICAL) ||
	    s->has_value > 1 || (s->has_value && !(s->value - s->value == 0)) ||
	    !ago_ok(s->changed_ago_ns) || !ago_ok(s->fired_ago_ns) ||
	    !ago_ok(s->notified_ago_ns) || now < INT64_MIN / 2 || now > INT64_MAX / 2)
		return false;
	a->state = (enum alarm_state)s->state;
	a->severity = (enum alarm_severity)s->severity;
	a->changed_ns = now - s->changed_ago_ns;
	a->fired_ns = now - s->fired_ago_ns;
	a->notified_ns = now - s->notified_ago_ns;
	a->fire_count = s->fire_count;
	a->has_value = s->has_value;
	a->value = s->value;
	return true;
}
