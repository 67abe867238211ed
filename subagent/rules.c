#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/expr.h"
#include "subagent/alarm_state.h"
#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/rules.h"

#define NS			CLOCK_NS_PER_SEC
#define ERROR_MAX		255	/* fpRuleError: DisplayString */
#define SAVE_EVERY_NS		NS	/* the state file is written at most once a second */

/* A rule as configured, or a built-in alarm's rule. */
struct rule_def {
	char		 name[CONFIG_NAME_MAX + 1];
	const char	*when, *clear, *critical, *description;
	int64_t		 for_ns, clear_for_ns, reminder_ns, interval_ns;
	enum alarm_severity severity;
};

struct rule;

struct inst {
	char		*name;
	struct rule	*rule;
	struct alarm	 a;
	enum expr_truth	 last;		/* of `when` at the last evaluation */
	uint32_t	 id;		/* active alarm number; 0 while not active */
	bool		 listed;	/* named by the store since flowpathd started */
};

struct rule {
	char		 name[CONFIG_NAME_MAX + 1];
	char		*when_text, *clear_text, *critical_text, *description;
	struct expr	*when, *clear, *critical;
	struct alarm_params params;
	uint64_t	 identity;	/* hash of the three texts */
	int64_t		 interval_ns;
	int64_t		 next_ns;
	struct inst	**inst;		/* by name (strcmp) */
	size_t		 ninst;
	uint64_t	 fire_count;
	int64_t		 last_eval_wall_ns;
	int		 state;		/* the worst of the instances */
	bool		 has_value;
	double		 value;
	uint32_t	 firing;
	char		 error[ERROR_MAX + 1];
};

struct rules {
	struct loop	*loop;
	struct metric_store *store;
	int64_t		 started_ns;
	struct rule	**rule;		/* MIB order */
	size_t		 nrules;
	struct inst	**active;	/* by id */
	size_t		 nactive, capactive;
	size_t		 ninst_total;
	uint32_t	 max_instances;
	uint32_t	 next_id;
	struct alarm_limiter lim;
	uint32_t	 lim_rate, lim_burst;
	uint64_t	 instances_refused;
	uint64_t	 timer;
	char		*state_file;	/* NULL: none */
	bool		 state_loaded;
	bool		 dirty;
	bool		 save_failed;
	int64_t		 last_save_ns;
	bool		 rows_changed;
	rules_event_fn	 sink;
	void		*sink_arg;
	void		(*hook)(void *);
	void		*hook_arg;
};

static void	rules_arm(struct rules *, int64_t now);

/* Helpers */

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	/* The terminating NUL is hashed too, so that ("ab", "") != ("a", "b"). */
	do {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	} while (*s++ != '\0');
	return h;
}

static uint64_t
def_identity(const struct rule_def *d)
{
	uint64_t h = UINT64_C(14695981039346656037);

	h = fnv1a(h, d->when);
	h = fnv1a(h, d->clear ? d->clear : "");
	return fnv1a(h, d->critical ? d->critical : "");
}

/* MIB index order of a name: its length first (the index is length + bytes). */
static int
name_order(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(a, b, la);
}

static int
rule_cmp(const void *x, const void *y)
{
	return name_order((*(struct rule *const *)x)->name, (*(struct rule *const *)y)->name);
}

/* The index of the rule called name, or nrules. */
static size_t
rule_index(const struct rules *rs, const char *name)
{
	size_t lo = 0, hi = rs->nrules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_order(rs->rule[mid]->name, name);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return rs->nrules;
}

static struct rule *
rule_find(const struct rules *rs, const char *name)
{
	size_t i = rule_index(rs, name);

	return i < rs->nrules ? rs->rule[i] : NULL;
}

static char *
dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = true;
	return d;
}

/* Events and the active-alarm list */

static void
emit(struct rules *rs, enum rules_event_kind kind, const struct inst *in, const char *when,
    const struct alarm_event *ev)
{
	struct rules_event e = {
		.kind = kind,
		.alarm_id = in->id,
		.rule = in->rule != NULL ? in->rule->name : "",
		.instance = in->name,
		.when = when != NULL ? when : "",
		.severity = ev->severity,
		.has_value = ev->has_value,
		.value = ev->value,
	};

	if (rs->sink != NULL && ev->notify)
		rs->sink(rs->sink_arg, &e);
}

static size_t
active_pos(const struct rules *rs, uint32_t id)
{
	size_t lo = 0, hi = rs->nactive;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rs->active[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
active_add(struct rules *rs, struct inst *in)
{
	size_t pos;

	if (rs->nactive == rs->capactive) {
		size_t cap = rs->capactive ? rs->capactive * 2 : 64;
		struct inst **a = reallocarray(rs->active, cap, sizeof(*a));

		if (a == NULL)
			return false;
		rs->active = a;
		rs->capactive = cap;
	}
	pos = active_pos(rs, in->id);
	memmove(&rs->active[pos + 1], &rs->active[pos],
	    (rs->nactive - pos) * sizeof(*rs->active));
	rs->active[pos] = in;
	rs->nactive++;
	rs->rows_changed = true;
	return true;
}

static void
active_del(struct rules *rs, struct inst *in)
{
	size_t pos = active_pos(rs, in->id);

	if (in->id == 0 || pos >= rs->nactive || rs->active[pos] != in)
		return;
	memmove(&rs->active[pos], &rs->active[pos + 1],
	    (rs->nactive - pos - 1) * sizeof(*rs->active));
	rs->nactive--;
	rs->rows_changed = true;
}

static uint32_t
new_id(struct rules *rs)
{
	uint32_t id = rs->next_id++;

	if (rs->next_id == 0)
		rs->next_id = 1;
	return id;
}

/* An alarm_step or alarm_reset event of in: the active list, counters, the sink. */
static void
handle_event(struct rules *rs, struct inst *in, const struct alarm_event *ev, const char *when)
{
	rs->dirty = true;
	switch (ev->kind) {
	case ALARM_RAISED:
		in->id = new_id(rs);
		if (!active_add(rs, in))
			log_warnx("rule %s: out of memory for the active-alarm table",
			    in->rule->name);
		in->rule->fire_count++;
		emit(rs, RULES_RAISED, in, when, ev);
		break;
	case ALARM_CLEARED:
		active_del(rs, in);
		emit(rs, RULES_CLEARED, in, when, ev);
		in->id = 0;
		break;
	case ALARM_REMINDER:
	case ALARM_SEVERITY:
		emit(rs, RULES_RAISED, in, when, ev);
		break;
	}
}

/* Instances */

static struct inst *
inst_new(struct rules *rs, struct rule *r, const char *name, int64_t now)
{
	struct inst *in;

	if (rs->ninst_total >= rs->max_instances) {
		rs->instances_refused++;
		return NULL;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL || (in->name = strdup(name)) == NULL) {
		free(in);
		rs->instances_refused++;
		return NULL;
	}
	in->rule = r;
	in->last = EXPR_UNKNOWN;
	alarm_init(&in->a, now);
	rs->ninst_total++;
	return in;
}

/* Clears an active alarm (CLEARED) and frees the instance. */
static void
inst_drop(struct rules *rs, struct inst *in, int64_t now, bool notify)
{
	struct alarm_event ev;

	if (alarm_reset(&in->a, now, &rs->lim, &ev)) {
		if (!notify)
			ev.notify = false;
		handle_event(rs, in, &ev, in->rule != NULL ? in->rule->when_text : "");
	}
	if (in->a.state != ALARM_OK)
		rs->dirty = true;
	active_del(rs, in);
	rs->ninst_total--;
	free(in->name);
	free(in);
}

struct merge {
	struct rules	*rs;
	struct rule	*r;
	int64_t		 now;
	struct inst	**out;
	size_t		 n, cap;
	size_t		 pos;		/* in r->inst */
	uint64_t	 refused;	/* by this listing: it may miss instances */
	bool		 failed;
};

static void
merge_push(struct merge *m, struct inst *in)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct inst **o = reallocarray(m->out, cap, sizeof(*o));

		if (o == NULL) {
			m->failed = true;
			inst_drop(m->rs, in, m->now, true);
			return;
		}
		m->out = o;
		m->cap = cap;
	}
	m->out[m->n++] = in;
}

/*
 * An instance the store does not name. One that it named since the start
 * had its metrics forgotten (metric_forget: a probe or an aggregation
 * removed by a reload): it goes, a raised alarm with a CLEARED. One never
 * named is restored from the state file with no sample since the restart
 * (a silent exporter): an alarm that is not OK stays and is evaluated
 * (nodata() then holds); an OK one goes without an event. A listing that
 * refused instances (EXPR_MAX_INSTANCES) may have left out a live one, so
 * then nothing raised is cleared.
 */
static void
merge_unlisted(struct merge *m, struct inst *in)
{
	if (in->a.state != ALARM_OK && (!in->listed || m->refused > 0))
		merge_push(m, in);
	else
		inst_drop(m->rs, in, m->now, true);
}

/* expr_instances() reports in strcmp order, as r->inst is kept. */
static void
merge_cb(void *arg, const char *name)
{
	struct merge *m = arg;
	struct rule *r = m->r;
	struct inst *in;
	int c = 1;

	while (m->pos < r->ninst && (c = strcmp(r->inst[m->pos]->name, name)) < 0)
		merge_unlisted(m, r->inst[m->pos++]);
	if (m->pos < r->ninst && c == 0) {
		r->inst[m->pos]->listed = true;
		merge_push(m, r->inst[m->pos++]);
		return;
	}
	if ((in = inst_new(m->rs, r, name, m->now)) != NULL) {
		in->listed = true;
		merge_push(m, in);
	}
}

/* The rule's instances now: new ones added, unlisted ones as merge_unlisted() says. */
static void
rule_instances(struct rules *rs, struct rule *r, int64_t now)
{
	struct merge m = { .rs = rs, .r = r, .now = now };

	if (expr_instances(r->when, rs->store, merge_cb, &m, &m.refused) ==
	    EXPR_INSTANCES_FAILED) {
		log_warnx("rule %s: out of memory listing its instances; they are kept",
		    r->name);
		return;
	}
	rs->instances_refused += m.refused;
	while (m.pos < r->ninst)
		merge_unlisted(&m, r->inst[m.pos++]);
	free(r->inst);
	r->inst = m.out;
	r->ninst = m.n;
	if (m.failed)
		log_warnx("rule %s: out of memory for its instances", r->name);
}

/* Evaluation */

static enum expr_truth
eval_one(const struct rules *rs, const struct expr *e, const char *inst, int64_t now,
    struct expr_result *res)
{
	expr_retain(e, rs->store, inst);
	return expr_eval(e, rs->store, inst, now, rs->started_ns, res);
}

static int
inst_state(const struct inst *in)
{
	if (in->a.state == ALARM_OK && in->last == EXPR_UNKNOWN)
		return RULES_STATE_UNKNOWN;
	return in->a.state;
}

/* Worst first: FIRING, CLEARING, PENDING, OK, then not decided. */
static int
state_rank(int s)
{
	switch (s) {
	case ALARM_FIRING:	return 5;
	case ALARM_CLEARING:	return 4;
	case ALARM_PENDING:	return 3;
	case ALARM_OK:		return 2;
	default:		return 1;
	}
}

static void
inst_eval(struct rules *rs, struct rule *r, struct inst *in, int64_t now)
{
	struct alarm_input ai = { .clear = EXPR_UNKNOWN, .critical = EXPR_UNKNOWN };
	struct expr_result res;
	struct alarm_event ev;
	enum alarm_state before = in->a.state;

	ai.when = eval_one(rs, r->when, in->name, now, &res);
	ai.has_value = res.has_value;
	ai.value = res.value;
	/* clear is read only while the alarm is active (engine/alarm.h). */
	if (r->clear != NULL && (before == ALARM_FIRING || before == ALARM_CLEARING))
		ai.clear = eval_one(rs, r->clear, in->name, now, &res);
	if (r->critical != NULL)
		ai.critical = eval_one(rs, r->critical, in->name, now, &res);
	in->last = ai.when;
	if (alarm_step(&in->a, &r->params, &ai, now, &rs->lim, &ev))
		handle_event(rs, in, &ev, r->when_text);
	if (in->a.state != before)
		rs->dirty = true;
}

static void
rule_eval(struct rules *rs, struct rule *r, int64_t now)
{
	const struct inst *worst = NULL;

	rule_instances(rs, r, now);
	r->firing = 0;
	for (size_t i = 0; i < r->ninst; i++) {
		struct inst *in = r->inst[i];

		inst_eval(rs, r, in, now);
		if (in->a.state == ALARM_FIRING || in->a.state == ALARM_CLEARING)
			r->firing++;
		if (worst == NULL || state_rank(inst_state(in)) > state_rank(inst_state(worst)))
			worst = in;
	}
	r->state = worst != NULL ? inst_state(worst) : RULES_STATE_UNKNOWN;
	r->has_value = worst != NULL && worst->a.has_value && worst->last != EXPR_UNKNOWN;
	r->value = r->has_value ? worst->a.value : 0;
	r->last_eval_wall_ns = clock_wall_ns();
}

/* The state file */

static bool
state_write(struct rules *rs, FILE *f, int64_t now)
{
	char line[ALARM_STATE_LINE_MAX];
	int n;

	alarm_state_format_header(line, sizeof(line), rs->next_id);
	fputs(line, f);
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = rs->rule[i];

		for (size_t j = 0; j < r->ninst; j++) {
			const struct inst *in = r->inst[j];
			struct alarm_state_record rec = { .rule = r->name,
			    .identity = r->identity, .id = in->id, .instance = in->name };

			if (in->a.state == ALARM_OK)
				continue;
			alarm_export(&in->a, now, &rec.saved);
			/* Names are bounded (alarm_state.h): a record always fits. */
			n = alarm_state_format_record(line, sizeof(line), &rec);
			if (n > 0 && (size_t)n < sizeof(line))
				fputs(line, f);
		}
	}
	return fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
}

/* A new file renamed over the old one: a crash leaves either the old or the new. */
static void
state_save(struct rules *rs, int64_t now)
{
	char tmp[CONFIG_PATH_MAX + 8];
	bool ok;
	FILE *f;

	rs->dirty = false;
	rs->last_save_ns = now;
	if (rs->state_file == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.new", rs->state_file);
	if ((f = fopen(tmp, "w")) == NULL) {
		ok = false;
	} else {
		ok = state_write(rs, f, now);
		ok = fclose(f) == 0 && ok;
		ok = ok && rename(tmp, rs->state_file) == 0;
		if (!ok)
			unlink(tmp);
	}
	if (!ok && !rs->save_failed)
		log_warn("cannot write the alarm state file %s (alarm states will not survive "
		    "a restart; said once until it works again)", rs->state_file);
	rs->save_failed = !ok;
}

static struct inst *
rule_inst_get(struct rules *rs, struct rule *r, const char *name, int64_t now)
{
	size_t lo = 0, hi = r->ninst;
	struct inst *in, **a;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->inst[mid]->name, name);

		if (c == 0)
			return r->inst[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((in = inst_new(rs, r, name, now)) == NULL)
		return NULL;
	if ((a = reallocarray(r->inst, r->ninst + 1, sizeof(*a))) == NULL) {
		rs->ninst_total--;
		free(in->name);
		free(in);
		return NULL;
	}
	r->inst = a;
	memmove(&a[lo + 1], &a[lo], (r->ninst - lo) * sizeof(*a));
	a[lo] = in;
	r->ninst++;
	return in;
}

/*
 * One record: restored into its rule when the rule is still the same, or,
 * when the alarm was raised and its rule is gone or changed, cleared.
 */
static bool
state_record(struct rules *rs, char *line, int64_t now)
{
	struct alarm_state_record rec;
	struct rule *r;
	struct inst *in;
	size_t pos;

	if (!alarm_state_parse_record(line, &rec))
		return false;
	/*
	 * An id another record took already (a corrupt or edited file): two
	 * alarms under one id would break the active table, which is kept and
	 * searched by id, and leave a freed instance in it when one clears.
	 */
	pos = active_pos(rs, rec.id);
	if (rec.id != 0 && pos < rs->nactive && rs->active[pos]->id == rec.id)
		return false;
	if (rec.id >= rs->next_id && rec.id < UINT32_MAX)
		rs->next_id = rec.id + 1;
	r = rule_find(rs, rec.rule);
	if (r != NULL && r->identity == rec.identity) {
		if ((in = rule_inst_get(rs, r, rec.instance, now)) == NULL ||
		    in->a.state != ALARM_OK || !alarm_import(&in->a, &rec.saved, now))
			return false;
		if ((in->a.state == ALARM_FIRING || in->a.state == ALARM_CLEARING) && rec.id != 0) {
			in->id = rec.id;
			if (!active_add(rs, in))
				return false;
		}
		return true;
	}
	/* Raised before the restart, and its rule is gone or changed: cleared now. */
	if ((rec.saved.state == ALARM_FIRING || rec.saved.state == ALARM_CLEARING) &&
	    rec.id != 0) {
		struct rules_event e = { .kind = RULES_CLEARED, .alarm_id = rec.id,
		    .rule = rec.rule, .instance = rec.instance, .when = "",
		    .severity = rec.saved.severity == ALARM_CRITICAL ? ALARM_CRITICAL :
		    ALARM_WARNING };

		if (rs->sink != NULL && alarm_limiter_take(&rs->lim, now))
			rs->sink(rs->sink_arg, &e);
		rs->dirty = true;
	}
	return true;
}

static void
state_load(struct rules *rs, int64_t now)
{
	char line[ALARM_STATE_LINE_MAX];
	uint32_t next;
	size_t lineno = 0, bad = 0;
	FILE *f;

	rs->state_loaded = true;
	if (rs->state_file == NULL)
		return;
	if ((f = fopen(rs->state_file, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("cannot read the alarm state file %s", rs->state_file);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (lineno == 1) {
			if (!alarm_state_is_header(line)) {
				log_warnx("%s: not an alarm state file; alarms start OK",
				    rs->state_file);
				break;
			}
			continue;
		}
		if (alarm_state_next_id(line, &next)) {
			if (next > rs->next_id)
				rs->next_id = next;
			continue;
		}
		if (!state_record(rs, line, now))
			bad++;
	}
	fclose(f);
	if (bad > 0)
		log_warnx("%s: %zu alarm records ignored (malformed, out of range, an alarm "
		    "id used twice or over alarms.max_instances); those alarms start OK",
		    rs->state_file, bad);
	log_info("alarm states restored from %s: %zu alarms raised", rs->state_file,
	    rs->nactive);
	rs->rows_changed = true;
}

/* The timer: every rule due, the summary, the state file, the MIB hook. */

static void
rules_tick(void *arg, int64_t now)
{
	struct rules *rs = arg;
	uint64_t count;

	rs->timer = 0;
	if (!rs->state_loaded)
		state_load(rs, now);
	for (size_t i = 0; i < rs->nrules; i++) {
		struct rule *r = rs->rule[i];

		if (r->next_ns > now)
			continue;
		rule_eval(rs, r, now);
		r->next_ns += r->interval_ns;
		if (r->next_ns <= now)
			r->next_ns = now + r->interval_ns;
	}
	if (alarm_limiter_poll(&rs->lim, now, &count) && rs->sink != NULL) {
		struct rules_event e = { .kind = RULES_SUMMARY, .rule = "", .instance = "",
		    .when = "", .suppressed = count, .active = (uint32_t)rs->nactive };

		rs->sink(rs->sink_arg, &e);
	}
	if (rs->dirty && now - rs->last_save_ns >= SAVE_EVERY_NS)
		state_save(rs, now);
	if (rs->rows_changed && rs->hook != NULL) {
		rs->rows_changed = false;
		rs->hook(rs->hook_arg);
	}
	rules_arm(rs, now);
}

static void
rules_arm(struct rules *rs, int64_t now)
{
	int64_t when = INT64_MAX;

	if (rs->timer != 0)
		loop_timer_cancel(rs->loop, rs->timer);
	rs->timer = 0;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rule[i]->next_ns < when)
			when = rs->rule[i]->next_ns;
	if (rs->dirty && rs->last_save_ns + SAVE_EVERY_NS < when)
		when = rs->last_save_ns + SAVE_EVERY_NS;
	if (!rs->state_loaded)
		when = now;
	if (when == INT64_MAX)
		return;
	if ((rs->timer = loop_timer_add(rs->loop, when, rules_tick, rs)) == 0)
		log_warnx("rules: out of memory for the evaluation timer");
}

/* Building rules */

static void
rule_free(struct rules *rs, struct rule *r, int64_t now, bool notify)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ninst; i++)
		inst_drop(rs, r->inst[i], now, notify);
	free(r->inst);
	expr_free(r->when);
	expr_free(r->clear);
	expr_free(r->critical);
	free(r->when_text);
	free(r->clear_text);
	free(r->critical_text);
	free(r->description);
	free(r);
}

static struct expr *
compile(const char *rule, const char *what, const char *text, bool *failed)
{
	struct expr_error err;
	struct expr *e;

	if (text == NULL)
		return NULL;
	if ((e = expr_compile(text, &err)) == NULL) {
		/* config_load() compiled it already: only memory can fail here. */
		log_warnx("rule %s: %s: column %zu: %s", rule, what, err.column, err.msg);
		*failed = true;
	}
	return e;
}

/* The settings that do not change what the rule means. */
static bool
rule_settings(struct rule *r, const struct rule_def *d)
{
	bool failed = false;
	char *descr = dup_or_null(d->description, &failed);

	if (failed)
		return false;
	free(r->description);
	r->description = descr;
	r->params.for_ns = d->for_ns;
	r->params.clear_for_ns = d->clear_for_ns;
	r->params.reminder_ns = d->reminder_ns;
	r->params.severity = d->severity;
	r->params.has_clear = d->clear != NULL;
	r->params.has_critical = d->critical != NULL;
	r->interval_ns = d->interval_ns;
	return true;
}

static struct rule *
rule_new(const struct rule_def *d, int64_t now)
{
	struct rule *r = calloc(1, sizeof(*r));
	bool failed = false;

	if (r == NULL)
		return NULL;
	memcpy(r->name, d->name, sizeof(r->name));
	r->when_text = dup_or_null(d->when, &failed);
	r->clear_text = dup_or_null(d->clear, &failed);
	r->critical_text = dup_or_null(d->critical, &failed);
	r->when = compile(d->name, "when", d->when, &failed);
	r->clear = compile(d->name, "clear", d->clear, &failed);
	r->critical = compile(d->name, "critical", d->critical, &failed);
	r->identity = def_identity(d);
	r->state = RULES_STATE_UNKNOWN;
	if (failed || r->when == NULL || !rule_settings(r, d)) {
		rule_free(NULL, r, now, false);	/* no instances yet */
		return NULL;
	}
	/* The first evaluation one interval on, once the metrics have samples. */
	r->next_ns = now + r->interval_ns;
	return r;
}

static const char *
duration_text(char *buf, size_t len, int64_t ns)
{
	snprintf(buf, len, "%lldms", (long long)(ns / CLOCK_NS_PER_MS));
	return buf;
}

/* The built-in alarms that are on, as rules (docs/alarms.md). */
static size_t
builtin_defs(const struct fp_config *conf, struct rule_def *d, char text[4][128])
{
	char dur[32];
	size_t n = 0;

	if (conf->alarms.exporter_silent_ns > 0) {
		snprintf(text[n], sizeof(text[n]), "nodata(exporter.*.records, %s)",
		    duration_text(dur, sizeof(dur), conf->alarms.exporter_silent_ns));
		d[n] = (struct rule_def){ .name = CONFIG_BUILTIN_EXPORTER_SILENT, .when = text[n],
		    .description = "an exporter sent nothing for alarms.exporter_silent" };
		n++;
	}
	if (conf->alarms.exporter_loss > 0) {
		snprintf(text[n], sizeof(text[n]),
		    "rate(exporter.*.lost, 5m) > %.10g * rate(exporter.*.records, 5m)",
		    conf->alarms.exporter_loss);
		d[n] = (struct rule_def){ .name = CONFIG_BUILTIN_EXPORTER_LOSS, .when = text[n],
		    .description = "an exporter's sequence numbers show more loss than "
		    "alarms.exporter_loss of its records" };
		n++;
	}
	if (conf->alarms.kernel_drops) {
		snprintf(text[n], sizeof(text[n]), "change(collector.drops, 1m) > 0");
		d[n] = (struct rule_def){ .name = CONFIG_BUILTIN_KERNEL_DROPS, .when = text[n],
		    .description = "the kernel dropped collector datagrams (receive buffer full)" };
		n++;
	}
	if (conf->alarms.probe_unreachable_ns > 0) {
		snprintf(text[n], sizeof(text[n]), "max(probe.*.up, %s) < 1",
		    duration_text(dur, sizeof(dur), conf->alarms.probe_unreachable_ns));
		d[n] = (struct rule_def){ .name = CONFIG_BUILTIN_PROBE_UNREACHABLE, .when = text[n],
		    .description = "a probe got no reply for alarms.probe_unreachable" };
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		d[i].severity = ALARM_WARNING;
		d[i].interval_ns = NS;
	}
	return n;
}

static void
def_from_config(struct rule_def *d, const struct cfg_rule *c)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->name, c->name, sizeof(d->name));
	d->when = c->when;
	d->clear = c->clear;
	d->critical = c->critical;
	d->description = c->description;
	d->for_ns = c->for_ns;
	d->clear_for_ns = c->clear_for_ns;
	d->reminder_ns = c->reminder_ns;
	d->interval_ns = c->interval_ns;
	d->severity = c->severity == SEV_CRITICAL ? ALARM_CRITICAL : ALARM_WARNING;
}

static void
apply_limits(struct rules *rs, const struct fp_config *conf, int64_t now)
{
	free(rs->state_file);
	rs->state_file = NULL;
	if (conf->daemon.state_file != NULL && conf->daemon.state_file[0] != '\0' &&
	    (rs->state_file = strdup(conf->daemon.state_file)) == NULL)
		log_warnx("out of memory for the state file name; alarm states are not kept");
	rs->max_instances = conf->alarms.max_instances;
	if (rs->lim_rate != conf->alarms.notify_rate || rs->lim_burst != conf->alarms.notify_burst) {
		rs->lim_rate = conf->alarms.notify_rate;
		rs->lim_burst = conf->alarms.notify_burst;
		alarm_limiter_init(&rs->lim, NS / rs->lim_rate, rs->lim_burst, now);
	}
}

bool
rules_apply(struct rules *rs, const struct fp_config *conf)
{
	int64_t now = clock_mono_ns();
	size_t ndefs = conf->nrules + 4, n = 0;
	struct rule_def *defs = calloc(ndefs, sizeof(*defs));
	struct rule **next = calloc(ndefs, sizeof(*next));
	bool *taken = calloc(rs->nrules + 1, sizeof(*taken)), ok = true;
	char builtin[4][128];

	if (defs == NULL || next == NULL || taken == NULL) {
		free(defs);
		free(next);
		free(taken);
		log_warnx("rules: out of memory; the rules are unchanged");
		return false;
	}
	apply_limits(rs, conf, now);
	for (size_t i = 0; i < conf->nrules; i++)
		def_from_config(&defs[i], &conf->rules[i]);
	ndefs = conf->nrules + builtin_defs(conf, defs + conf->nrules, builtin);
	for (size_t i = 0; i < ndefs; i++) {
		size_t k = rule_index(rs, defs[i].name);
		struct rule *old = k < rs->nrules ? rs->rule[k] : NULL;

		/* Taken over keeps its state; it is not freed with the rest below. */
		if (old != NULL && old->identity == def_identity(&defs[i]) &&
		    rule_settings(old, &defs[i])) {
			next[n++] = old;
			taken[k] = true;
			continue;
		}
		if ((next[n] = rule_new(&defs[i], now)) == NULL) {
			log_warnx("rule %s: out of memory; not evaluated", defs[i].name);
			ok = false;
			continue;
		}
		n++;
	}
	/* Removed and changed rules clear their active alarms. */
	for (size_t j = 0; j < rs->nrules; j++)
		if (!taken[j])
			rule_free(rs, rs->rule[j], now, true);
	free(rs->rule);
	free(defs);
	free(taken);
	qsort(next, n, sizeof(*next), rule_cmp);
	rs->rule = next;
	rs->nrules = n;
	for (size_t j = 0; j < n; j++)
		next[j]->error[0] = '\0';
	rs->rows_changed = true;
	if (rs->hook != NULL) {
		rs->rows_changed = false;
		rs->hook(rs->hook_arg);
	}
	rules_arm(rs, now);
	return ok;
}

/* "FILE:LINE: rules[N].when: column 3: ..." -> N and the text from "rules[". */
static bool
error_rule_index(const char *msg, size_t *index, const char **text)
{
	const char *p = strstr(msg, ": rules[");
	char *end;
	unsigned long v;

	if (p == NULL)
		return false;
	p += 2;
	v = strtoul(p + 6, &end, 10);
	if (end == p + 6 || *end != ']' || v > CONFIG_MAX_RULES)
		return false;
	*index = v;
	*text = p;
	return true;
}

void
rules_reload_failed(struct rules *rs, const char *path, const struct config_errors *errs)
{
	config_setting_t *list;
	config_t lc;

	for (size_t i = 0; i < rs->nrules; i++)
		rs->rule[i]->error[0] = '\0';
	config_init(&lc);
	/* A file with a syntax error has no rules to name. */
	if (config_read_file(&lc, path) == CONFIG_TRUE &&
	    (list = config_lookup(&lc, "rules")) != NULL) {
		for (size_t i = 0; i < errs->count; i++) {
			config_setting_t *g;
			const char *text, *name;
			struct rule *r;
			size_t idx;

			if (!error_rule_index(errs->msg[i], &idx, &text) ||
			    (g = config_setting_get_elem(list, (unsigned)idx)) == NULL ||
			    config_setting_lookup_string(g, "name", &name) != CONFIG_TRUE ||
			    (r = rule_find(rs, name)) == NULL || r->error[0] != '\0')
				continue;
			snprintf(r->error, sizeof(r->error), "%s", text);
		}
	}
	config_destroy(&lc);
}

/* Life cycle and views */

struct rules *
rules_new(struct loop *loop, struct metric_store *store, int64_t started_ns)
{
	struct rules *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	rs->loop = loop;
	rs->store = store;
	rs->started_ns = started_ns;
	rs->next_id = 1;
	rs->max_instances = 100000;
	rs->last_save_ns = INT64_MIN / 2;
	return rs;
}

void
rules_free(struct rules *rs)
{
	int64_t now = clock_mono_ns();

	if (rs == NULL)
		return;
	if (rs->timer != 0)
		loop_timer_cancel(rs->loop, rs->timer);
	/* What changed since the last write; raised alarms stay raised in the file. */
	if (rs->state_loaded && rs->dirty)
		state_save(rs, now);
	rs->sink = NULL;
	for (size_t i = 0; i < rs->nrules; i++)
		rule_free(rs, rs->rule[i], now, false);
	free(rs->rule);
	free(rs->active);
	free(rs->state_file);
	free(rs);
}

void
rules_set_sink(struct rules *rs, rules_event_fn fn, void *arg)
{
	rs->sink = fn;
	rs->sink_arg = arg;
}

void
rules_set_hook(struct rules *rs, void (*hook)(void *), void *arg)
{
	rs->hook = hook;
	rs->hook_arg = arg;
}

size_t
rules_count(const struct rules *rs)
{
	return rs->nrules;
}

void
rules_info(const struct rules *rs, size_t i, struct rule_info *out)
{
	const struct rule *r = rs->rule[i];

	*out = (struct rule_info){
		.name = r->name,
		.when = r->when_text,
		.clear = r->clear_text ? r->clear_text : "",
		.description = r->description ? r->description : "",
		.for_ns = r->params.for_ns,
		.clear_for_ns = r->params.clear_for_ns,
		.interval_ns = r->interval_ns,
		.severity = r->params.severity,
		.state = r->state,
		.has_value = r->has_value,
		.value = r->value,
		.last_eval_wall_ns = r->last_eval_wall_ns,
		.fire_count = r->fire_count,
		.instances = (uint32_t)r->ninst,
		.firing = r->firing,
		.error = r->error,
	};
}

size_t
rules_active_count(const struct rules *rs)
{
	return rs->nactive;
}

static void
alarm_info_of(const struct inst *in, struct alarm_info *out)
{
	*out = (struct alarm_info){
		.id = in->id,
		.rule = in->rule->name,
		.instance = in->name,
		.severity = in->a.severity,
		.state = in->a.state,
		.since_mono_ns = in->a.fired_ns,
		.has_value = in->a.has_value,
		.value = in->a.value,
	};
}

void
rules_active(const struct rules *rs, size_t i, struct alarm_info *out)
{
	alarm_info_of(rs->active[i], out);
}

bool
rules_alarm(const struct rules *rs, uint32_t id, struct alarm_info *out)
{
	size_t pos = active_pos(rs, id);

	if (pos >= rs->nactive || rs->active[pos]->id != id)
		return false;
	alarm_info_of(rs->active[pos], out);
	return true;
}

void
rules_get_stats(const struct rules *rs, struct rules_stats *st)
{
	st->suppressed = rs->lim.suppressed;
	st->instances_refused = rs->instances_refused;
	st->active = (uint32_t)rs->nactive;
}
