/*
 * The metric store. Names map to dense ids (1..count) through an
 * open-addressing hash table of ids with linear probing, kept at most half
 * full so that a miss ends after a few probes. Ids are never reused: a name
 * keeps its id for the life of the store, and rules enumerate names by id.
 * A forgotten metric stays in the table (its name and hash, so that a
 * revival finds its id) with its ring freed and a flag that every lookup
 * by id or name honours.
 *
 * Each metric has a ring of points in time order. The ring starts empty and
 * doubles when a put finds it full and its oldest point still inside the
 * retention, up to max_points; at max_points the oldest point is overwritten
 * (counted as truncated: the history is shorter than a rule asked for).
 * Trimming keeps one point at or before the retention cutoff, so that a
 * window reaching exactly retention back still has a point to its left and
 * metric_oldest_ns reports the history as covering it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/metric.h"

#define METRIC_RING_MIN		8
#define METRIC_HASH_MIN		64

struct metric {
	char		*name;
	uint32_t	 hash;
	uint32_t	 cap;		/* ring slots allocated */
	uint32_t	 head;		/* slot of the oldest point */
	uint32_t	 n;		/* points kept */
	int64_t		 retain_ns;	/* history the rules need, >= the default */
	struct metric_point *ring;
	bool		 forgotten;	/* metric_forget(): no points, invisible */
};

struct metric_store {
	struct metric_limits lim;
	struct metric	*m;		/* by id - 1 */
	uint32_t	 count;
	uint32_t	 mcap;
	uint32_t	*slots;		/* ids, 0 = empty */
	uint32_t	 nslots;	/* power of two */
	uint64_t	 refused;
	uint64_t	 dropped;
	uint64_t	 truncated;
};

/* FNV-1a with a final avalanche, so that names differing late spread. */
static uint32_t
metric_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

struct metric_store *
metric_store_new(const struct metric_limits *lim)
{
	struct metric_store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->lim.max_metrics = 100000;
	s->lim.max_points = 90000;
	s->lim.default_retention_ns = 600LL * 1000000000;
	if (lim != NULL) {
		if (lim->max_metrics > 0)
			s->lim.max_metrics = lim->max_metrics;
		if (lim->max_points > 0)
			s->lim.max_points = lim->max_points;
		if (lim->default_retention_ns > 0)
			s->lim.default_retention_ns = lim->default_retention_ns;
	}
	s->nslots = METRIC_HASH_MIN;
	if ((s->slots = calloc(s->nslots, sizeof(*s->slots))) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
metric_store_free(struct metric_store *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->count; i++) {
		free(s->m[i].name);
		free(s->m[i].ring);
	}
	free(s->m);
	free(s->slots);
	free(s);
}

static const struct metric *
metric_get(const struct metric_store *s, uint32_t id)
{
	if (id == 0 || id > s->count || s->m[id - 1].forgotten)
		return NULL;
	return &s->m[id - 1];
}

/* The slot holding name, or the empty slot where it would go. */
static uint32_t
metric_slot(const struct metric_store *s, const char *name, uint32_t h)
{
	uint32_t mask = s->nslots - 1, i = h & mask, id;

	while ((id = s->slots[i]) != 0) {
		if (s->m[id - 1].hash == h && strcmp(s->m[id - 1].name, name) == 0)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int
metric_rehash(struct metric_store *s)
{
	uint32_t *old = s->slots, oldn = s->nslots, i, j, mask;

	if ((s->slots = calloc((size_t)oldn * 2, sizeof(*s->slots))) == NULL) {
		s->slots = old;
		return -1;
	}
	s->nslots = oldn * 2;
	mask = s->nslots - 1;
	for (i = 0; i < oldn; i++) {
		if (old[i] == 0)
			continue;
		for (j = s->m[old[i] - 1].hash & mask; s->slots[j] != 0; j = (j + 1) & mask)
			;
		s->slots[j] = old[i];
	}
	free(old);
	return 0;
}

uint32_t
metric_find(const struct metric_store *s, const char *name)
{
	size_t len;
	uint32_t id;

	if (name == NULL || (len = strlen(name)) == 0 || len > METRIC_NAME_MAX)
		return 0;
	id = s->slots[metric_slot(s, name, metric_hash(name, len))];
	return metric_get(s, id) == NULL ? 0 : id;
}

uint32_t
metric_intern(struct metric_store *s, const char *name)
{
	struct metric *m;
	uint32_t h, slot;
	size_t len;

	if (name == NULL || (len = strlen(name)) == 0 || len > METRIC_NAME_MAX)
		goto refuse;
	h = metric_hash(name, len);
	slot = metric_slot(s, name, h);
	if (s->slots[slot] != 0) {
		s->m[s->slots[slot] - 1].forgotten = false;
		return s->slots[slot];
	}
	if (s->count >= s->lim.max_metrics)
		goto refuse;
	if ((s->count + 1) * 2 > s->nslots) {
		if (metric_rehash(s) == -1)
			goto refuse;
		slot = metric_slot(s, name, h);
	}
	if (s->count == s->mcap) {
		uint32_t ncap = s->mcap == 0 ? 64 : s->mcap * 2;

		if (ncap > s->lim.max_metrics)
			ncap = s->lim.max_metrics;
		if ((m = realloc(s->m, (size_t)ncap * sizeof(*m))) == NULL)
			goto refuse;
		s->m = m;
		s->mcap = ncap;
	}
	m = &s->m[s->count];
	memset(m, 0, sizeof(*m));
	if ((m->name = strdup(name)) == NULL)
		goto refuse;
	m->hash = h;
	m->retain_ns = s->lim.default_retention_ns;
	s->slots[slot] = ++s->count;
	return s->count;
refuse:
	s->refused++;
	return 0;
}

const char *
metric_name(const struct metric_store *s, uint32_t id)
{
	const struct metric *m = metric_get(s, id);

	return m == NULL ? NULL : m->name;
}

size_t
metric_count(const struct metric_store *s)
{
	return s->count;
}

static bool
metric_kept(const char *name, const char *const *keep, size_t nkeep)
{
	for (size_t k = 0; k < nkeep; k++)
		if (keep[k] != NULL && keep[k][0] != '\0' &&
		    strncmp(name, keep[k], strlen(keep[k])) == 0)
			return true;
	return false;
}

size_t
metric_forget(struct metric_store *s, const char *prefix)
{
	return metric_forget_except(s, prefix, NULL, 0);
}

size_t
metric_forget_except(struct metric_store *s, const char *prefix, const char *const *keep,
    size_t nkeep)
{
	struct metric *m;
	size_t plen, n = 0;
	uint32_t i;

	if (prefix == NULL || (plen = strlen(prefix)) == 0)
		return 0;
	for (i = 0; i < s->count; i++) {
		m = &s->m[i];
		if (m->forgotten || strncmp(m->name, prefix, plen) != 0 ||
		    metric_kept(m->name, keep, nkeep))
			continue;
		free(m->ring);
		m->ring = NULL;
		m->cap = m->head = m->n = 0;
		m->retain_ns = s->lim.default_retention_ns;
		m->forgotten = true;
		n++;
	}
	return n;
}

uint64_t
metric_refused(const struct metric_store *s)
{
	return s->refused;
}

uint64_t
metric_dropped(const struct metric_store *s)
{
	return s->dropped;
}

uint64_t
metric_truncated(const struct metric_store *s)
{
	return s->truncated;
}

static const struct metric_point *
ring_at(const struct metric *m, uint32_t i)
{
	return &m->ring[(m->head + i) % m->cap];
}

/* Copies the ring into a bigger one, oldest point first at slot 0. */
static int
ring_grow(struct metric *m, uint32_t ncap)
{
	struct metric_point *r;
	uint32_t i;

	if ((r = malloc((size_t)ncap * sizeof(*r))) == NULL)
		return -1;
	for (i = 0; i < m->n; i++)
		r[i] = *ring_at(m, i);
	free(m->ring);
	m->ring = r;
	m->cap = ncap;
	m->head = 0;
	return 0;
}

/* Drops points older than needed, keeping one at or before the cutoff. */
static void
ring_trim(struct metric *m, int64_t newest)
{
	int64_t cutoff = newest - m->retain_ns;

	while (m->n >= 2 && ring_at(m, 1)->t_ns <= cutoff) {
		m->head = (m->head + 1) % m->cap;
		m->n--;
	}
}

void
metric_put(struct metric_store *s, uint32_t id, int64_t t_ns, double v)
{
	struct metric *m = (struct metric *)metric_get(s, id);
	uint32_t ncap;

	if (m == NULL || isnan(v) ||
	    (m->n > 0 && t_ns < ring_at(m, m->n - 1)->t_ns)) {
		s->dropped++;
		return;
	}
	ring_trim(m, t_ns);
	if (m->n == m->cap) {
		ncap = m->cap == 0 ? METRIC_RING_MIN : m->cap * 2;
		if (ncap > s->lim.max_points)
			ncap = s->lim.max_points;
		/* When full at the cap (or out of memory), the oldest point goes. */
		if (ncap <= m->cap || ring_grow(m, ncap) == -1) {
			if (m->cap == 0) {
				s->dropped++;
				return;
			}
			m->head = (m->head + 1) % m->cap;
			m->n--;
			s->truncated++;
		}
	}
	m->ring[(m->head + m->n) % m->cap] = (struct metric_point){ t_ns, v };
	m->n++;
}

void
metric_retain(struct metric_store *s, uint32_t id, int64_t age_ns)
{
	struct metric *m = (struct metric *)metric_get(s, id);

	if (m != NULL && age_ns > m->retain_ns)
		m->retain_ns = age_ns;
}

bool
metric_last(const struct metric_store *s, uint32_t id, struct metric_point *out)
{
	const struct metric *m = metric_get(s, id);

	if (m == NULL || m->n == 0)
		return false;
	*out = *ring_at(m, m->n - 1);
	return true;
}

int64_t
metric_oldest_ns(const struct metric_store *s, uint32_t id)
{
	const struct metric *m = metric_get(s, id);

	if (m == NULL || m->n == 0)
		return INT64_MAX;
	return ring_at(m, 0)->t_ns;
}

/* Index (0..n) of the first point with t_ns >= t: a binary search over the ring. */
static uint32_t
ring_lower_bound(const struct metric *m, int64_t t)
{
	uint32_t lo = 0, hi = m->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ring_at(m, mid)->t_ns < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
metric_tail(const struct metric_store *s, uint32_t id, int64_t to_ns, size_t n,
    struct metric_point *out)
{
	const struct metric *m = metric_get(s, id);
	uint32_t end, first, i;

	if (m == NULL || m->n == 0 || n == 0)
		return 0;
	/* end: one past the last point <= to_ns. */
	end = to_ns == INT64_MAX ? m->n : ring_lower_bound(m, to_ns + 1);
	first = end > n ? end - (uint32_t)n : 0;
	for (i = first; i < end; i++)
		out[i - first] = *ring_at(m, i);
	return end - first;
}

size_t
metric_range(const struct metric_store *s, uint32_t id, int64_t from_ns, int64_t to_ns,
    metric_point_cb cb, void *arg)
{
	const struct metric *m = metric_get(s, id);
	const struct metric_point *p;
	uint32_t i;
	size_t seen = 0;

	if (m == NULL || m->n == 0 || from_ns > to_ns)
		return 0;
	for (i = ring_lower_bound(m, from_ns); i < m->n; i++) {
		p = ring_at(m, i);
		if (p->t_ns > to_ns)
			break;
		if (cb != NULL)
			cb(arg, p);
		seen++;
	}
	return seen;
}
