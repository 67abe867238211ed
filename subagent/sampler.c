#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/addr.h"
#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/sampler.h"

#define SAMPLE_EVERY_NS	CLOCK_NS_PER_SEC

struct agg_seen {
	char		 name[CONFIG_NAME_MAX + 1];
	int64_t		 end_ms;	/* of the interval whose totals were put last */
};

struct sampler {
	struct loop	*loop;
	struct metric_store *store;
	const struct collector *col;
	const struct aggregate *aggs;
	uint64_t	 timer;
	const struct exporter **exp;	/* scratch for exporter_sorted() */
	size_t		 capexp;
	struct agg_seen	*seen;
	size_t		 nseen;
};

static void
put(struct metric_store *s, const char *name, int64_t now, double v)
{
	uint32_t id = metric_intern(s, name);

	if (id != 0)
		metric_put(s, id, now, v);
}

/* Whether v differs from the newest point of name (or it has none). */
static bool
changed(const struct metric_store *s, const char *name, double v)
{
	struct metric_point p;
	uint32_t id = metric_find(s, name);

	return id == 0 || !metric_last(s, id, &p) || p.v != v;
}

static void
put_exporter(struct sampler *sp, const struct addr *a, uint64_t records, uint64_t lost,
    int64_t now)
{
	char addr[ADDR_STRLEN], rec[METRIC_NAME_MAX + 1], los[METRIC_NAME_MAX + 1];

	addr_format(a, addr, sizeof(addr));
	snprintf(rec, sizeof(rec), "exporter.%s.records", addr);
	snprintf(los, sizeof(los), "exporter.%s.lost", addr);
	if (changed(sp->store, rec, (double)records) || changed(sp->store, los, (double)lost)) {
		put(sp->store, rec, now, (double)records);
		put(sp->store, los, now, (double)lost);
	}
}

static bool
same_addr(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* One metric per address: the entries of one address (versions, domains) are adjacent. */
static void
sample_exporters(struct sampler *sp, int64_t now)
{
	const struct exporter_table *t = collector_exporters(sp->col);
	size_t n = exporter_count(t), i, j;

	if (n > sp->capexp) {
		const struct exporter **e = reallocarray(sp->exp, n, sizeof(*e));

		if (e == NULL)
			return;
		sp->exp = e;
		sp->capexp = n;
	}
	n = exporter_sorted(t, sp->exp, n);
	for (i = 0; i < n; i = j) {
		uint64_t records = 0, lost = 0;

		for (j = i; j < n && same_addr(&sp->exp[j]->addr, &sp->exp[i]->addr); j++) {
			records += sp->exp[j]->records;
			lost += sp->exp[j]->lost;
		}
		put_exporter(sp, &sp->exp[i]->addr, records, lost, now);
	}
}

static struct agg_seen *
seen_of(struct sampler *sp, size_t i, const char *name)
{
	/* The views keep their order between reloads; the name confirms the slot. */
	if (i >= sp->nseen) {
		struct agg_seen *s = reallocarray(sp->seen, i + 1, sizeof(*s));

		if (s == NULL)
			return NULL;
		memset(s + sp->nseen, 0, (i + 1 - sp->nseen) * sizeof(*s));
		sp->seen = s;
		sp->nseen = i + 1;
	}
	if (strcmp(sp->seen[i].name, name) != 0) {
		snprintf(sp->seen[i].name, sizeof(sp->seen[i].name), "%s", name);
		sp->seen[i].end_ms = 0;
	}
	return &sp->seen[i];
}

static void
sample_aggregations(struct sampler *sp, int64_t now)
{
	char name[METRIC_NAME_MAX + 1];
	size_t n = aggregate_count(sp->aggs);

	for (size_t i = 0; i < n; i++) {
		const struct agg_view *v = aggregate_view(sp->aggs, i);
		struct agg_seen *seen;

		if (v->last == NULL || (seen = seen_of(sp, i, v->name)) == NULL ||
		    seen->end_ms == v->last->end_ms)
			continue;
		seen->end_ms = v->last->end_ms;
		snprintf(name, sizeof(name), "agg.%s.flows", v->name);
		put(sp->store, name, now, (double)v->last->total.flows);
		snprintf(name, sizeof(name), "agg.%s.packets", v->name);
		put(sp->store, name, now, (double)v->last->total.packets);
		snprintf(name, sizeof(name), "agg.%s.octets", v->name);
		put(sp->store, name, now, (double)v->last->total.octets);
	}
}

static void
sampler_tick(void *arg, int64_t now)
{
	struct sampler *sp = arg;
	const struct collector_stats *st = collector_stats(sp->col);

	put(sp->store, "collector.records", now, (double)st->records);
	put(sp->store, "collector.drops", now, (double)st->kernel_drops);
	sample_exporters(sp, now);
	if (sp->aggs != NULL)
		sample_aggregations(sp, now);
	if ((sp->timer = loop_timer_add(sp->loop, now + SAMPLE_EVERY_NS, sampler_tick, sp)) == 0)
		log_warnx("metric sampler: out of memory for its timer; collector metrics stop");
}

struct sampler *
sampler_new(struct loop *loop, struct metric_store *store, const struct collector *col,
    const struct aggregate *aggs)
{
	struct sampler *sp = calloc(1, sizeof(*sp));

	if (sp == NULL)
		return NULL;
	sp->loop = loop;
	sp->store = store;
	sp->col = col;
	sp->aggs = aggs;
	if ((sp->timer = loop_timer_add(loop, clock_mono_ns(), sampler_tick, sp)) == 0) {
		free(sp);
		return NULL;
	}
	return sp;
}

void
sampler_free(struct sampler *sp)
{
	if (sp == NULL)
		return;
	if (sp->timer != 0)
		loop_timer_cancel(sp->loop, sp->timer);
	free(sp->exp);
	free(sp->seen);
	free(sp);
}
