/*
 * The probe send schedule: a binary min-heap of probes ordered by (next
 * slot, id), so that ties come out in id order whatever the insertion
 * history, and an open-addressing hash from id to heap position for add's
 * duplicate check and for remove. A slot is always first + k * interval in
 * integer ns, computed from k, so that the grid cannot drift.
 */
#include <stdlib.h>

#include "probes/psched.h"

#define PSCHED_HASH_MIN	16

struct psched_probe {
	int64_t		 next;		/* slot k */
	int64_t		 first;
	int64_t		 interval;
	int64_t		 k;
	uint64_t	 missed;	/* skipped since last returned */
	size_t		 hslot;		/* its slot in the hash */
	uint32_t	 id;
};

struct psched {
	struct psched_probe *heap;
	size_t		 n, cap;
	size_t		*hash;		/* heap index + 1, 0 = empty */
	size_t		 nslots;	/* power of two, more than twice n */
};

struct psched *
psched_new(void)
{
	return calloc(1, sizeof(struct psched));
}

void
psched_free(struct psched *ps)
{
	if (ps == NULL)
		return;
	free(ps->heap);
	free(ps->hash);
	free(ps);
}

int64_t
psched_phase(size_t index, size_t n, int64_t interval_ns)
{
	uint64_t iv = (uint64_t)interval_ns, step = (uint64_t)PSCHED_STEP_NS, i, m;

	if (n == 0 || interval_ns <= 0)
		return 0;
	i = index % n;
	if (iv <= step)	/* i * iv / n without the product overflowing */
		return (int64_t)(iv / n * i + iv % n * i / n);
	m = iv / step + (iv % step != 0);
	/* Step i * m / n, again without the product overflowing. */
	return (int64_t)((m / n * i + m % n * i / n) * step);
}

/* Slot k of p; INT64_MAX past the end of time, so that it is never due. */
static int64_t
psched_slot(const struct psched_probe *p, int64_t k)
{
	int64_t off, t;

	if (__builtin_mul_overflow(k, p->interval, &off) ||
	    __builtin_add_overflow(p->first, off, &t))
		return INT64_MAX;
	return t;
}

/* Fibonacci hashing: the high half of the product mixes every bit of id. */
static size_t
psched_hash(uint32_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 32);
}

/* The hash slot holding id, or the empty slot where it would go. */
static size_t
psched_lookup(const struct psched *ps, uint32_t id)
{
	size_t mask = ps->nslots - 1, i = psched_hash(id) & mask;

	while (ps->hash[i] != 0 && ps->heap[ps->hash[i] - 1].id != id)
		i = (i + 1) & mask;
	return i;
}

static void
psched_put(struct psched *ps, size_t i, const struct psched_probe *p)
{
	ps->heap[i] = *p;
	ps->hash[p->hslot] = i + 1;
}

static bool
psched_before(const struct psched_probe *a, const struct psched_probe *b)
{
	return a->next < b->next || (a->next == b->next && a->id < b->id);
}

static void
psched_up(struct psched *ps, size_t i)
{
	struct psched_probe p = ps->heap[i];

	while (i > 0 && psched_before(&p, &ps->heap[(i - 1) / 2])) {
		psched_put(ps, i, &ps->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	psched_put(ps, i, &p);
}

static void
psched_down(struct psched *ps, size_t i)
{
	struct psched_probe p = ps->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < ps->n) {
		if (c + 1 < ps->n && psched_before(&ps->heap[c + 1], &ps->heap[c]))
			c++;
		if (!psched_before(&ps->heap[c], &p))
			break;
		psched_put(ps, i, &ps->heap[c]);
		i = c;
	}
	psched_put(ps, i, &p);
}

/* Room for one more probe: the heap doubles, the hash stays under half full. */
static bool
psched_reserve(struct psched *ps)
{
	struct psched_probe *heap;
	size_t *hash, nslots, i;

	if (ps->n == ps->cap) {
		size_t cap = ps->cap == 0 ? 16 : ps->cap * 2;

		if ((heap = reallocarray(ps->heap, cap, sizeof(*heap))) == NULL)
			return false;
		ps->heap = heap;
		ps->cap = cap;
	}
	if (2 * (ps->n + 1) <= ps->nslots)
		return true;
	nslots = ps->nslots == 0 ? PSCHED_HASH_MIN : ps->nslots * 2;
	if ((hash = calloc(nslots, sizeof(*hash))) == NULL)
		return false;
	free(ps->hash);
	ps->hash = hash;
	ps->nslots = nslots;
	for (i = 0; i < ps->n; i++) {
		ps->heap[i].hslot = psched_lookup(ps, ps->heap[i].id);
		ps->hash[ps->heap[i].hslot] = i + 1;
	}
	return true;
}

bool
psched_add(struct psched *ps, uint32_t id, int64_t first_ns, int64_t interval_ns)
{
	struct psched_probe p = { first_ns, first_ns, interval_ns, 0, 0, 0, id };

	if (interval_ns <= 0 || !psched_reserve(ps))
		return false;
	p.hslot = psched_lookup(ps, id);
	if (ps->hash[p.hslot] != 0)
		return false;
	psched_put(ps, ps->n++, &p);
	psched_up(ps, ps->n - 1);
	return true;
}

/* Empties hash slot i, moving later entries of its probe run back (linear probing). */
static void
psched_unhash(struct psched *ps, size_t i)
{
	size_t mask = ps->nslots - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (ps->hash[j] == 0)
			break;
		home = psched_hash(ps->heap[ps->hash[j] - 1].id) & mask;
		/* Stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		ps->hash[i] = ps->hash[j];
		ps->heap[ps->hash[i] - 1].hslot = i;
		i = j;
	}
	ps->hash[i] = 0;
}

bool
psched_remove(struct psched *ps, uint32_t id)
{
	size_t h, i;

	if (ps->n == 0)
		return false;
	h = psched_lookup(ps, id);
	if (ps->hash[h] == 0)
		return false;
	i = ps->hash[h] - 1;
	psched_unhash(ps, h);
	if (i != --ps->n) {
		psched_put(ps, i, &ps->heap[ps->n]);
		psched_up(ps, i);
		psched_down(ps, i);
	}
	return true;
}

size_t
psched_count(const struct psched *ps)
{
	return ps->n;
}

int64_t
psched_next(const struct psched *ps)
{
	return ps->n == 0 ? INT64_MAX : ps->heap[0].next;
}

/*
 * A probe's skipped slots are kept with it and added to *missed when one of
 * its slots is returned, so that the count reaches the right probe even
 * when all its due slots were skipped.
 */
bool
psched_pop(struct psched *ps, int64_t now_ns, int64_t slack_ns,
    uint32_t *id, int64_t *scheduled_ns, uint64_t *missed)
{
	struct psched_probe *p;
	int64_t d, k;

	if (slack_ns < 0)
		slack_ns = 0;
	while (ps->n > 0 && ps->heap[0].next <= now_ns) {
		p = &ps->heap[0];
		if (now_ns - p->next > slack_ns) {
			/* The first slot at or after now - slack. */
			d = now_ns - slack_ns - p->first;
			k = d / p->interval + (d % p->interval != 0);
			p->missed += (uint64_t)(k - p->k);
			p->k = k;
			p->next = psched_slot(p, k);
			psched_down(ps, 0);
			continue;
		}
		*id = p->id;
		*scheduled_ns = p->next;
		*missed += p->missed;
		p->missed = 0;
		p->next = psched_slot(p, ++p->k);
		psched_down(ps, 0);
		return true;
	}
	return false;
}
