/*
 * Template cache: a hash of sources (exporter, version, domain), each with a
 * hash of its compiled templates by id. Both lookups are O(1) expected; every
 * allocation is counted against max_bytes and capped in number.
 */
#include <stdlib.h>
#include <string.h>

#include "collectors/ie.h"
#include "collectors/template.h"

#define DEF_MAX_TEMPLATES	256
#define DEF_MAX_SOURCES		4096
#define DEF_MAX_BYTES		(16u * 1024 * 1024)
#define SRC_MIN_BUCKETS		8
#define SRC_MAX_BUCKETS		65536
#define CACHE_MIN_BUCKETS	64

struct tmpl_entry {
	struct tmpl_entry	*next;
	struct ie_prog		*prog;
	size_t			 bytes;	/* entry and program together */
	uint64_t		 epoch;	/* when last defined or refreshed */
};

struct tmpl_source {
	struct tmpl_source	*next;
	struct addr		 exporter;
	uint32_t		 domain;
	uint32_t		 hash;
	uint8_t			 version;
	uint32_t		 sampling;
	uint64_t		 sampling_epoch;
	uint32_t		 count;
	uint32_t		 noptions;	/* of count, options templates */
	uint32_t		 nbuckets;	/* a power of two */
	struct tmpl_entry	**buckets;
};

struct tmpl_cache {
	struct tmpl_limits	 lim;
	struct tmpl_source	**buckets;
	uint32_t		 nbuckets;	/* a power of two */
	uint32_t		 nsources;
	uint32_t		 seed;
	size_t			 bytes;
	uint64_t		 refused;
	uint64_t		 epoch;		/* advanced by tmpl_cache_begin() */
};

static size_t
addr_len(const struct addr *a)
{
	return a->family == ADDR_V6 ? 16 : a->family == ADDR_V4 ? 4 : 0;
}

static uint32_t
mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t
source_hash(const struct tmpl_cache *c, const struct addr *a, uint8_t version, uint32_t domain)
{
	uint32_t h = c->seed ^ 2166136261u;
	size_t i, n = addr_len(a);

	for (i = 0; i < n; i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	h = (h ^ (uint32_t)a->family) * 16777619u;
	h = (h ^ version) * 16777619u;
	return mix32(h ^ mix32(domain));
}

static int
source_match(const struct tmpl_source *s, const struct addr *a, uint8_t version, uint32_t domain)
{
	return s->domain == domain && s->version == version &&
	    s->exporter.family == a->family &&
	    memcmp(s->exporter.bytes, a->bytes, addr_len(a)) == 0;
}

static struct tmpl_source *
find_source(const struct tmpl_cache *c, const struct addr *a, uint8_t version, uint32_t domain)
{
	struct tmpl_source *s;
	uint32_t h = source_hash(c, a, version, domain);

	for (s = c->buckets[h & (c->nbuckets - 1)]; s != NULL; s = s->next)
		if (s->hash == h && source_match(s, a, version, domain))
			return s;
	return NULL;
}

static uint32_t
id_bucket(const struct tmpl_source *s, uint16_t id)
{
	return (uint32_t)(id * 0x9e3779b1u) >> 16 & (s->nbuckets - 1);
}

struct tmpl_cache *
tmpl_cache_new(const struct tmpl_limits *lim)
{
	struct tmpl_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (lim != NULL)
		c->lim = *lim;
	if (c->lim.max_templates == 0)
		c->lim.max_templates = DEF_MAX_TEMPLATES;
	if (c->lim.max_sources == 0)
		c->lim.max_sources = DEF_MAX_SOURCES;
	if (c->lim.max_bytes == 0)
		c->lim.max_bytes = DEF_MAX_BYTES;
	c->nbuckets = CACHE_MIN_BUCKETS;
	if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
		free(c);
		return NULL;
	}
	/* Chains an exporter could lengthen on purpose depend on this address. */
	c->seed = mix32((uint32_t)(uintptr_t)c ^ (uint32_t)((uint64_t)(uintptr_t)c >> 32));
	c->bytes = sizeof(*c) + c->nbuckets * sizeof(*c->buckets);
	return c;
}

static void
entry_free(struct tmpl_cache *c, struct tmpl_source *s, struct tmpl_entry *e)
{
	c->bytes -= e->bytes;
	s->count--;
	if (e->prog->options)
		s->noptions--;
	free(e->prog);
	free(e);
}

static void
source_free(struct tmpl_cache *c, struct tmpl_source *s)
{
	struct tmpl_entry *e, *next;
	uint32_t i;

	for (i = 0; i < s->nbuckets; i++)
		for (e = s->buckets[i]; e != NULL; e = next) {
			next = e->next;
			entry_free(c, s, e);
		}
	c->bytes -= sizeof(*s) + s->nbuckets * sizeof(*s->buckets);
	c->nsources--;
	free(s->buckets);
	free(s);
}

void
tmpl_cache_free(struct tmpl_cache *c)
{
	struct tmpl_source *s, *next;
	uint32_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nbuckets; i++)
		for (s = c->buckets[i]; s != NULL; s = next) {
			next = s->next;
			source_free(c, s);
		}
	free(c->buckets);
	free(c);
}

/* Doubling is best effort: a full byte budget only makes chains longer. */
static void
cache_grow(struct tmpl_cache *c)
{
	struct tmpl_source **nb, *s, *next;
	uint32_t i, n = c->nbuckets * 2;
	size_t extra = (size_t)c->nbuckets * sizeof(*nb);

	if (c->bytes + extra > c->lim.max_bytes || (nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < c->nbuckets; i++)
		for (s = c->buckets[i]; s != NULL; s = next) {
			next = s->next;
			s->next = nb[s->hash & (n - 1)];
			nb[s->hash & (n - 1)] = s;
		}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
	c->bytes += extra;
}

static struct tmpl_source *
source_new(struct tmpl_cache *c, const struct addr *a, uint8_t version, uint32_t domain)
{
	struct tmpl_source *s;
	size_t size = sizeof(*s) + SRC_MIN_BUCKETS * sizeof(*s->buckets);

	if (c->nsources >= c->lim.max_sources || c->bytes + size > c->lim.max_bytes)
		goto fail;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	if ((s->buckets = calloc(SRC_MIN_BUCKETS, sizeof(*s->buckets))) == NULL) {
		free(s);
		goto fail;
	}
	s->nbuckets = SRC_MIN_BUCKETS;
	s->exporter.family = a->family;
	memcpy(s->exporter.bytes, a->bytes, addr_len(a));
	s->version = version;
	s->domain = domain;
	s->hash = source_hash(c, a, version, domain);
	s->next = c->buckets[s->hash & (c->nbuckets - 1)];
	c->buckets[s->hash & (c->nbuckets - 1)] = s;
	c->nsources++;
	c->bytes += size;
	if (c->nsources > c->nbuckets)
		cache_grow(c);
	return s;
fail:
	c->refused++;
	return NULL;
}

static void
source_grow(struct tmpl_cache *c, struct tmpl_source *s)
{
	struct tmpl_entry **nb, *e, *next;
	struct tmpl_source tmp;
	uint32_t i;
	size_t extra = (size_t)s->nbuckets * sizeof(*nb);

	if (s->nbuckets >= SRC_MAX_BUCKETS || c->bytes + extra > c->lim.max_bytes ||
	    (nb = calloc(s->nbuckets * 2, sizeof(*nb))) == NULL)
		return;
	tmp.nbuckets = s->nbuckets * 2;
	for (i = 0; i < s->nbuckets; i++)
		for (e = s->buckets[i]; e != NULL; e = next) {
			uint32_t b = id_bucket(&tmp, e->prog->id);

			next = e->next;
			e->next = nb[b];
			nb[b] = e;
		}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = tmp.nbuckets;
	c->bytes += extra;
}

struct tmpl_source *
tmpl_cache_source(struct tmpl_cache *c, const struct addr *a, uint8_t version, uint32_t domain)
{
	return find_source(c, a, version, domain);
}

const struct ie_prog *
tmpl_source_find(const struct tmpl_source *s, uint16_t id)
{
	const struct tmpl_entry *e;

	for (e = s->buckets[id_bucket(s, id)]; e != NULL; e = e->next)
		if (e->prog->id == id)
			return e->prog;
	return NULL;
}

uint32_t
tmpl_source_sampling(const struct tmpl_source *s)
{
	return s->sampling;
}

/* Unlinks and returns the entry for id, or NULL. */
static struct tmpl_entry *
source_unlink(struct tmpl_source *s, uint16_t id)
{
	struct tmpl_entry **pp, *e;

	for (pp = &s->buckets[id_bucket(s, id)]; (e = *pp) != NULL; pp = &e->next)
		if (e->prog->id == id) {
			*pp = e->next;
			return e;
		}
	return NULL;
}

enum tmpl_status
tmpl_cache_add(struct tmpl_cache *c, const struct addr *a, uint8_t version,
    uint32_t domain, const struct tmpl_def *def)
{
	struct tmpl_source *s;
	struct tmpl_entry *e = NULL, *old;
	struct ie_prog *prog;
	size_t pbytes, size;
	uint32_t b;

	if ((prog = ie_compile(def, &pbytes)) == NULL)
		return TMPL_INVALID;
	size = sizeof(*e) + pbytes;
	if ((s = find_source(c, a, version, domain)) == NULL &&
	    (s = source_new(c, a, version, domain)) == NULL)
		goto refused;	/* source_new counted it */
	if ((old = source_unlink(s, def->id)) != NULL) {
		if (ie_prog_equal(old->prog, old->bytes - sizeof(*old), prog, pbytes)) {
			b = id_bucket(s, def->id);
			old->next = s->buckets[b];
			s->buckets[b] = old;
			old->epoch = c->epoch;
			free(prog);
			return TMPL_UNCHANGED;
		}
		/* RFC 7011 8.1 / RFC 3954 5.2: a new definition replaces the old. */
		entry_free(c, s, old);
	}
	if (s->count >= c->lim.max_templates || c->bytes + size > c->lim.max_bytes ||
	    (e = calloc(1, sizeof(*e))) == NULL) {
		c->refused++;
		goto refused;
	}
	e->prog = prog;
	e->bytes = size;
	e->epoch = c->epoch;
	b = id_bucket(s, def->id);
	e->next = s->buckets[b];
	s->buckets[b] = e;
	s->count++;
	if (prog->options)
		s->noptions++;
	c->bytes += size;
	if (s->count > s->nbuckets)
		source_grow(c, s);
	return TMPL_ADDED;
refused:
	free(prog);
	return TMPL_REFUSED;
}

int
tmpl_cache_withdraw(struct tmpl_cache *c, const struct addr *a, uint8_t version,
    uint32_t domain, uint16_t id)
{
	struct tmpl_source *s;
	struct tmpl_entry *e;

	if ((s = find_source(c, a, version, domain)) == NULL ||
	    (e = source_unlink(s, id)) == NULL)
		return 0;
	entry_free(c, s, e);
	return 1;
}

uint32_t
tmpl_cache_withdraw_all(struct tmpl_cache *c, const struct addr *a, uint8_t version,
    uint32_t domain, int options)
{
	struct tmpl_source *s;
	struct tmpl_entry **pp, *e;
	uint32_t i, n = 0;

	if ((s = find_source(c, a, version, domain)) == NULL)
		return 0;
	/* A message full of repeated withdrawals must not rescan the buckets each time. */
	if ((options ? s->noptions : s->count - s->noptions) == 0)
		return 0;
	for (i = 0; i < s->nbuckets; i++)
		for (pp = &s->buckets[i]; (e = *pp) != NULL; ) {
			if ((e->prog->options != 0) == (options != 0)) {
				*pp = e->next;
				entry_free(c, s, e);
				n++;
			} else
				pp = &e->next;
		}
	return n;
}

int
tmpl_cache_set_sampling(struct tmpl_cache *c, const struct addr *a, uint8_t version,
    uint32_t domain, uint32_t interval)
{
	struct tmpl_source *s;

	if ((s = find_source(c, a, version, domain)) == NULL) {
		if (interval == 0)
			return 0;
		if ((s = source_new(c, a, version, domain)) == NULL)
			return -1;
	}
	s->sampling = interval;
	s->sampling_epoch = c->epoch;
	return 0;
}

uint64_t
tmpl_cache_begin(struct tmpl_cache *c)
{
	return ++c->epoch;
}

void
tmpl_cache_forget_before(struct tmpl_cache *c, const struct addr *a, uint8_t version,
    uint32_t domain, uint64_t epoch)
{
	struct tmpl_source *s = find_source(c, a, version, domain);
	struct tmpl_entry **pp, *e;

	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->nbuckets; i++)
		for (pp = &s->buckets[i]; (e = *pp) != NULL; ) {
			if (e->epoch < epoch) {
				*pp = e->next;
				entry_free(c, s, e);
			} else
				pp = &e->next;
		}
	if (s->sampling_epoch < epoch)
		s->sampling = 0;
	if (s->count == 0 && s->sampling == 0)
		tmpl_cache_forget(c, a, version, domain);
}

void
tmpl_cache_forget(struct tmpl_cache *c, const struct addr *a, uint8_t version, uint32_t domain)
{
	struct tmpl_source **pp, *s;
	uint32_t h = source_hash(c, a, version, domain);

	for (pp = &c->buckets[h & (c->nbuckets - 1)]; (s = *pp) != NULL; pp = &s->next)
		if (s->hash == h && source_match(s, a, version, domain)) {
			*pp = s->next;
			source_free(c, s);
			return;
		}
}

uint32_t
tmpl_cache_count(const struct tmpl_cache *c, const struct addr *a, uint8_t version, uint32_t domain)
{
	const struct tmpl_source *s = find_source(c, a, version, domain);

	return s != NULL ? s->count : 0;
}

uint32_t
tmpl_cache_sampling(const struct tmpl_cache *c, const struct addr *a, uint8_t version,
    uint32_t domain)
{
	const struct tmpl_source *s = find_source(c, a, version, domain);

	return s != NULL ? s->sampling : 0;
}

size_t
tmpl_cache_bytes(const struct tmpl_cache *c)
{
	return c->bytes;
}

uint64_t
tmpl_cache_refused(const struct tmpl_cache *c)
{
	return c->refused;
}
