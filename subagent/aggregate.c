#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/prefix.h"
#include "subagent/aggregate.h"
#include "subagent/clock.h"
#include "subagent/log.h"

struct agg_state {
	struct agg_view	 v;
	struct filter	*filter;
	bool		 uses_networks;	/* keys or filter: rebuilt when networks change */
	int64_t		 start_ms;	/* of the open interval */
	int64_t		 next_close_ms;
	uint64_t	 timer;
	struct aggregate *owner;
};

struct aggregate {
	struct loop	*loop;
	struct prefix_trie *trie;
	char		**net_names;
	size_t		 nnets;
	struct addr_prefix *net_prefixes;	/* as applied, to compare with a reload */
	size_t		*net_nprefixes;
	struct agg_state **aggs;
	size_t		 naggs;
	void		 (*hook)(void *);
	void		*hook_arg;
	uint64_t	 lost_closes;	/* intervals discarded for lack of memory */
};

struct aggregate *
aggregate_new(struct loop *loop)
{
	struct aggregate *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->loop = loop;
	return a;
}

static void
state_free(struct aggregate *a, struct agg_state *s)
{
	if (s == NULL)
		return;
	if (s->timer != 0)
		loop_timer_cancel(a->loop, s->timer);
	agg_free(s->v.agg);
	agg_snapshot_free(s->v.last);
	filter_free(s->filter);
	free(s->v.filter_text);
	free(s);
}

static void
networks_free(struct aggregate *a)
{
	prefix_trie_free(a->trie);
	for (size_t i = 0; i < a->nnets; i++)
		free(a->net_names[i]);
	free(a->net_names);
	free(a->net_prefixes);
	free(a->net_nprefixes);
	a->trie = NULL;
	a->net_names = NULL;
	a->net_prefixes = NULL;
	a->net_nprefixes = NULL;
	a->nnets = 0;
}

void
aggregate_free(struct aggregate *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->naggs; i++)
		state_free(a, a->aggs[i]);
	free(a->aggs);
	networks_free(a);
	free(a);
}

void
aggregate_set_hook(struct aggregate *a, void (*hook)(void *), void *arg)
{
	a->hook = hook;
	a->hook_arg = arg;
}

size_t
aggregate_count(const struct aggregate *a)
{
	return a->naggs;
}

const struct agg_view *
aggregate_view(const struct aggregate *a, size_t i)
{
	return &a->aggs[i]->v;
}

const char *
aggregate_network_name(uint16_t index, void *arg)
{
	const struct aggregate *a = arg;

	return index < a->nnets ? a->net_names[index] : "other";
}

static uint16_t
network_of(const struct addr *addr, void *arg)
{
	const struct aggregate *a = arg;

	return a->trie != NULL ? prefix_trie_lookup(a->trie, addr) : KEY_NETWORK_OTHER;
}

static int
network_index(const char *name, void *arg)
{
	const struct fp_config *conf = arg;

	for (size_t i = 0; i < conf->nnetworks; i++)
		if (strcmp(conf->networks[i].name, name) == 0)
			return (int)i;
	return -1;
}

static size_t
total_prefixes(const struct fp_config *conf)
{
	size_t n = 0;

	for (size_t i = 0; i < conf->nnetworks; i++)
		n += conf->networks[i].nprefixes;
	return n;
}

/* Networks are indexed in configuration order; PREFIX_NONE is "other". */
static bool
networks_build(struct aggregate *a, const struct fp_config *conf)
{
	size_t total = total_prefixes(conf), k = 0;

	networks_free(a);
	if (conf->nnetworks == 0)
		return true;
	if ((a->trie = prefix_trie_new()) == NULL ||
	    (a->net_names = calloc(conf->nnetworks, sizeof(char *))) == NULL ||
	    (a->net_nprefixes = calloc(conf->nnetworks, sizeof(size_t))) == NULL ||
	    (a->net_prefixes = calloc(total ? total : 1, sizeof(struct addr_prefix))) == NULL)
		return false;
	for (size_t i = 0; i < conf->nnetworks; i++) {
		const struct cfg_network *n = &conf->networks[i];

		if ((a->net_names[i] = strdup(n->name)) == NULL)
			return false;
		a->nnets = i + 1;
		a->net_nprefixes[i] = n->nprefixes;
		for (size_t j = 0; j < n->nprefixes; j++) {
			a->net_prefixes[k++] = n->prefixes[j];
			if (prefix_trie_insert(a->trie, &n->prefixes[j], (uint16_t)i) == -1)
				return false;
		}
	}
	return true;
}

/* The networks as applied, compared with a configuration: names, order and prefixes. */
static bool
networks_equal(const struct aggregate *a, const struct fp_config *conf)
{
	size_t k = 0;

	if (a->nnets != conf->nnetworks)
		return false;
	for (size_t i = 0; i < conf->nnetworks; i++) {
		const struct cfg_network *n = &conf->networks[i];

		if (strcmp(a->net_names[i], n->name) != 0 || a->net_nprefixes[i] != n->nprefixes)
			return false;
		for (size_t j = 0; j < n->nprefixes; j++, k++)
			if (memcmp(&a->net_prefixes[k], &n->prefixes[j], sizeof(n->prefixes[j])) != 0)
				return false;
	}
	return true;
}

static void agg_timer(void *arg, int64_t now);

static void
schedule_close(struct aggregate *a, struct agg_state *s)
{
	int64_t wall = clock_wall_ns() / CLOCK_NS_PER_MS;
	int64_t delay_ms;

	s->next_close_ms = agg_next_close_ms(wall > s->start_ms ? wall : s->start_ms,
	    s->v.interval);
	delay_ms = s->next_close_ms - wall;
	if (delay_ms < 0)
		delay_ms = 0;
	s->timer = loop_timer_add(a->loop, clock_mono_ns() + delay_ms * CLOCK_NS_PER_MS,
	    agg_timer, s);
	if (s->timer == 0)
		log_warnx("aggregation %s: out of memory for its close timer; it stops "
		    "closing until the next reload", s->v.name);
}

static void
agg_timer(void *arg, int64_t now)
{
	struct agg_state *s = arg;
	struct aggregate *a = s->owner;
	struct agg_snapshot *old = s->v.last, *snap;

	s->timer = 0;
	snap = agg_close(s->v.agg, s->start_ms, s->next_close_ms);
	if (snap == NULL) {
		a->lost_closes++;
		log_warnx("aggregation %s: out of memory at the close; interval lost", s->v.name);
	} else
		s->v.last = snap;
	s->start_ms = s->next_close_ms;
	schedule_close(a, s);
	if (a->hook != NULL)
		a->hook(a->hook_arg);
	if (snap != NULL)
		agg_snapshot_free(old);
}

static void
key_fields_text(const struct cfg_aggregation *c, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->nkeys && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "",
		    key_field_name(c->key[i]));
}

static bool
uses_network_fields(const struct cfg_aggregation *c)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (c->key[i] == KEY_SRC_NETWORK || c->key[i] == KEY_DST_NETWORK)
			return true;
	return false;
}

static struct agg_state *
state_new(struct aggregate *a, const struct cfg_aggregation *c, const struct fp_config *conf)
{
	struct agg_state *s = calloc(1, sizeof(*s));
	struct filter_error ferr;
	struct agg_params p;

	if (s == NULL)
		return NULL;
	s->owner = a;
	memcpy(s->v.name, c->name, sizeof(s->v.name));
	key_fields_text(c, s->v.key_fields, sizeof(s->v.key_fields));
	for (size_t i = 0; i < c->nkeys; i++)
		s->v.spec.field[i] = c->key[i];
	s->v.spec.nfields = c->nkeys;
	s->v.keylen = key_len(&s->v.spec);
	s->v.interval = c->interval;
	s->v.top = c->top;
	s->v.capacity = c->capacity < c->top ? c->top : c->capacity;
	s->v.retention = c->retention;
	s->uses_networks = uses_network_fields(c);
	if (c->filter != NULL) {
		if ((s->v.filter_text = strdup(c->filter)) == NULL)
			goto fail;
		/* config_load() already compiled it once, so this fails only for memory. */
		if ((s->filter = filter_compile(c->filter, network_index, (void *)conf,
		    &ferr)) == NULL) {
			log_warnx("aggregation %s: filter: column %zu: %s", c->name,
			    ferr.column, ferr.msg);
			goto fail;
		}
		s->uses_networks |= filter_uses_networks(s->filter);
	}
	p = (struct agg_params){ .keylen = s->v.keylen, .top = s->v.top,
	    .capacity = s->v.capacity,
	    .retention = c->interval ? c->retention / c->interval : 0 };
	if ((s->v.agg = agg_new(&p)) == NULL)
		goto fail;
	s->start_ms = clock_wall_ns() / CLOCK_NS_PER_MS;
	schedule_close(a, s);
	return s;
fail:
	state_free(a, s);
	return NULL;
}

static bool
same_definition(const struct agg_state *s, const struct cfg_aggregation *c)
{
	char fields[sizeof(s->v.key_fields)];

	key_fields_text(c, fields, sizeof(fields));
	return strcmp(s->v.key_fields, fields) == 0 && s->v.interval == c->interval &&
	    s->v.top == c->top && s->v.retention == c->retention &&
	    s->v.capacity == (c->capacity < c->top ? c->top : c->capacity) &&
	    ((s->v.filter_text == NULL && c->filter == NULL) ||
	    (s->v.filter_text != NULL && c->filter != NULL &&
	    strcmp(s->v.filter_text, c->filter) == 0));
}

bool
aggregate_apply(struct aggregate *a, const struct fp_config *conf)
{
	bool nets_changed = !networks_equal(a, conf);
	struct agg_state **next = calloc(conf->naggregations ? conf->naggregations : 1,
	    sizeof(*next));
	bool ok = true;

	if (next == NULL) {
		log_warnx("aggregations: out of memory; the previous ones are kept");
		return false;
	}
	if (nets_changed && !networks_build(a, conf)) {
		log_warnx("aggregations: out of memory for the networks");
		ok = false;
	}
	for (size_t i = 0; i < conf->naggregations; i++) {
		const struct cfg_aggregation *c = &conf->aggregations[i];

		for (size_t j = 0; j < a->naggs && next[i] == NULL; j++) {
			struct agg_state *s = a->aggs[j];

			if (s != NULL && strcmp(s->v.name, c->name) == 0 &&
			    same_definition(s, c) && !(nets_changed && s->uses_networks)) {
				next[i] = s;
				a->aggs[j] = NULL;	/* kept: not freed below */
			}
		}
		if (next[i] == NULL && (next[i] = state_new(a, c, conf)) == NULL) {
			log_warnx("aggregation %s: cannot be built", c->name);
			ok = false;
		}
	}
	for (size_t j = 0; j < a->naggs; j++)
		state_free(a, a->aggs[j]);
	free(a->aggs);
	/* Compact: an aggregation that could not be built is left out. */
	a->naggs = 0;
	for (size_t i = 0; i < conf->naggregations; i++)
		if (next[i] != NULL)
			next[a->naggs++] = next[i];
	a->aggs = next;
	if (a->hook != NULL)
		a->hook(a->hook_arg);
	return ok;
}

void
aggregate_record(const struct flow_record *rec, const struct sampled *sc, void *arg)
{
	struct aggregate *a = arg;
	uint8_t key[KEY_MAX_BYTES];

	for (size_t i = 0; i < a->naggs; i++) {
		struct agg_state *s = a->aggs[i];

		if (s->filter != NULL && !filter_match(s->filter, rec, network_of, a))
			continue;
		key_pack(&s->v.spec, rec, network_of, a, key);
		agg_add(s->v.agg, key, sc->packets, sc->octets);
	}
}
