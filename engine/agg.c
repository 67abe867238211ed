/*
 * Top-N aggregation over one interval, with Space-Saving above the capacity
 * (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and
 * Top-k Elements in Data Streams", ICDT 2005), weighted by octets.
 *
 * The open interval is a table of at most `capacity` slots, all allocated
 * by agg_new: one slab of capacity slots, each its counters followed by its
 * key inline (one cache miss per lookup, not two), and an open addressing
 * index (linear probing, load <= 1/2, backward-shift deletion so there are
 * no tombstones). agg_add therefore never allocates. An add reads two
 * dependent lines (index entry, slot), so once the table outgrows the caches
 * it runs at memory latency. Capacities above AGG_MAX_CAPACITY are refused.
 *
 * Below the capacity every count is exact. At the capacity a new key takes
 * the slot of the key with the smallest octets m: its octets start at
 * m + octets and its error is m; its flows and packets start from this flow
 * only, so flows and packets of a key that was evicted and admitted again
 * are underestimates; only octets carry the bound. The sum of the slots'
 * octets stays equal to the interval's octets, so with every slot in use
 * m <= total / capacity. Hence, for every tracked key:
 *     true octets <= reported octets <= true octets + error,
 *     error <= total octets / capacity,
 * and a key whose true octets exceed total / capacity is always tracked
 * (an untracked key's true octets are at most the current minimum).
 *
 * The minimum comes from a 4-ary min-heap over the slots by octets (half
 * the levels of a binary heap, and a node's four children share one cache
 * line). The heap is built only when the table first fills in an interval
 * (O(capacity) once), so exact intervals pay nothing for it. Counts only
 * grow, so an update only ever sifts down (O(log capacity)).
 *
 * Counters saturate at UINT64_MAX instead of wrapping (2^64 octets in one
 * interval is not real traffic, but the inputs come from the wire).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/agg.h"

/* An index entry: hash in the high half, slot + 1 in the low; 0 = empty. */
#define AGG_EMPTY	0
/* Keeps slot numbers and index positions in 32 bits. */
#define AGG_MAX_CAPACITY (UINT32_C(1) << 28)
#define AGG_NONE	UINT32_MAX
#define AGG_LINE	64
/* Heap entries before the root, so that each group of four children is line-aligned. */
#define AGG_HEAP_PAD	3

/* A slot's header; its key follows it inline. */
struct agg_slot {
	struct agg_counts c;
	uint64_t	 error;
	uint32_t	 hpos;		/* position in the heap once built */
	uint32_t	 hash;
};

/* Octets beside the slot number so that sifting stays inside the heap array. */
struct agg_hent {
	uint64_t	 octets;
	uint32_t	 slot;
};

struct agg {
	size_t		 keylen;
	uint32_t	 top;
	uint32_t	 capacity;
	uint32_t	 retention;
	uint64_t	 seed;

	/* The open interval. */
	uint8_t		*slab;		/* capacity * stride */
	size_t		 stride;	/* slot header + key, 8-aligned */
	uint64_t	*index;
	size_t		 mask;		/* index size - 1 */
	struct agg_hent	*heap;		/* heap_mem + AGG_HEAP_PAD */
	struct agg_hent	*heap_mem;
	bool		 heaped;	/* heap valid; only once the table is full */
	uint32_t	 n;		/* slots in use */
	struct agg_counts running;
	uint64_t	 evictions;	/* in the open interval */
	uint64_t	 evictions_total;

	uint32_t	*rank;		/* top entries, scratch for agg_close */

	/* The retained set, sorted by key; rebuilt at each close. */
	struct agg_retained *ret;
	uint64_t	*ret_last;	/* close number of the last top-N appearance */
	uint8_t		*ret_keys;
	size_t		 nret;
	uint64_t	 closes;
};

/* One retained key or top-N newcomer, considered at a close. */
struct agg_cand {
	const uint8_t	*key;
	uint32_t	 old;		/* index in the retained set, or AGG_NONE */
	bool		 top;
};

static void
sat_add(uint64_t *a, uint64_t b)
{
	if (__builtin_add_overflow(*a, b, a))
		*a = UINT64_MAX;
}

static void
counts_add(struct agg_counts *a, const struct agg_counts *b)
{
	sat_add(&a->flows, b->flows);
	sat_add(&a->packets, b->packets);
	sat_add(&a->octets, b->octets);
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/*
 * Multiply-xorshift over 8-byte words (memcpy: keys have no alignment),
 * seeded per table. Not a keyed PRF: the seed only makes collisions differ
 * between processes; the capacity bounds any probe sequence regardless.
 */
static uint32_t
agg_hash(const struct agg *a, const uint8_t *key)
{
	uint64_t h = a->seed, w;
	size_t i, len = a->keylen;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 29;
	}
	if (i < len) {
		w = 0;
		memcpy(&w, key + i, len - i);
		h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 29;
	}
	h = mix64(h);
	return (uint32_t)(h ^ h >> 32);
}

static struct agg_slot *
slot_at(const struct agg *a, uint32_t slot)
{
	return (struct agg_slot *)(void *)(a->slab + (size_t)slot * a->stride);
}

static uint8_t *
slot_key(const struct agg *a, uint32_t slot)
{
	return a->slab + (size_t)slot * a->stride + sizeof(struct agg_slot);
}

/* The slot holding key, or AGG_NONE; *pos is where the probe stopped. */
static uint32_t
lookup(const struct agg *a, const uint8_t *key, uint32_t h, size_t *pos)
{
	size_t p = h & a->mask;
	uint64_t e;
	uint32_t s;

	while ((e = a->index[p]) != AGG_EMPTY) {
		if ((uint32_t)(e >> 32) == h) {
			s = (uint32_t)e - 1;
			if (memcmp(slot_key(a, s), key, a->keylen) == 0) {
				*pos = p;
				return s;
			}
		}
		p = (p + 1) & a->mask;
	}
	*pos = p;
	return AGG_NONE;
}

/* Removes slot's entry; later entries of its run shift back into the hole. */
static void
index_remove(struct agg *a, uint32_t slot)
{
	size_t i, j, k;
	uint64_t want = (uint64_t)slot_at(a, slot)->hash << 32 | (slot + 1);

	i = slot_at(a, slot)->hash & a->mask;
	while (a->index[i] != want)
		i = (i + 1) & a->mask;
	for (j = i;;) {
		j = (j + 1) & a->mask;
		if (a->index[j] == AGG_EMPTY)
			break;
		k = (uint32_t)(a->index[j] >> 32) & a->mask;
		/* The entry at j may fill i unless its home lies in (i, j]. */
		if (((j - k) & a->mask) >= ((j - i) & a->mask)) {
			a->index[i] = a->index[j];
			i = j;
		}
	}
	a->index[i] = AGG_EMPTY;
}

static void
sift_down(struct agg *a, uint32_t i)
{
	struct agg_hent *h = a->heap, x = h[i];
	uint32_t n = a->n, c, j, end, m;

	while ((c = 4 * i + 1) < n) {
		end = n - c < 4 ? n : c + 4;
		for (m = c, j = c + 1; j < end; j++)
			if (h[j].octets < h[m].octets)
				m = j;
		if (h[m].octets >= x.octets)
			break;
		h[i] = h[m];
		slot_at(a, h[i].slot)->hpos = i;
		i = m;
	}
	h[i] = x;
	slot_at(a, x.slot)->hpos = i;
}

static void
heapify(struct agg *a)
{
	uint32_t i;

	for (i = 0; i < a->n; i++) {
		a->heap[i].octets = slot_at(a, i)->c.octets;
		a->heap[i].slot = i;
		slot_at(a, i)->hpos = i;
	}
	/* From the last parent, (n - 2) / 4, up to the root. */
	for (i = a->n > 1 ? (a->n - 2) / 4 + 1 : 0; i-- > 0;)
		sift_down(a, i);
	a->heaped = true;
}

struct agg *
agg_new(const struct agg_params *p)
{
	struct agg *a;
	size_t size;

	/* Invalid parameters are refused like a failed allocation. */
	if (p == NULL || p->keylen < 1 || p->keylen > KEY_MAX_BYTES ||
	    p->top < 1 || p->capacity < p->top ||
	    p->capacity > AGG_MAX_CAPACITY)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->keylen = p->keylen;
	a->top = p->top;
	a->capacity = p->capacity;
	a->retention = p->retention;
	/* Differs per process (ASLR) without a clock or I/O. */
	a->seed = mix64((uint64_t)(uintptr_t)a ^ UINT64_C(0x6a09e667f3bcc908) ^
	    p->keylen);
	for (size = 2; size < 2 * (size_t)p->capacity; size *= 2)
		;
	a->mask = size - 1;
	a->stride = (sizeof(struct agg_slot) + p->keylen + 7) & ~(size_t)7;
	a->slab = calloc(p->capacity, a->stride);
	a->index = calloc(size, sizeof(*a->index));
	/* aligned_alloc wants a multiple of the alignment. */
	size = ((p->capacity + AGG_HEAP_PAD) * sizeof(*a->heap) + AGG_LINE - 1) &
	    ~(size_t)(AGG_LINE - 1);
	if ((a->heap_mem = aligned_alloc(AGG_LINE, size)) != NULL)
		a->heap = a->heap_mem + AGG_HEAP_PAD;
	a->rank = calloc(p->top, sizeof(*a->rank));
	if (a->slab == NULL || a->index == NULL || a->heap_mem == NULL ||
	    a->rank == NULL)
		goto fail;
	return a;
fail:
	agg_free(a);
	return NULL;
}

void
agg_free(struct agg *a)
{
	if (a == NULL)
		return;
	free(a->slab);
	free(a->index);
	free(a->heap_mem);
	free(a->rank);
	free(a->ret);
	free(a->ret_last);
	free(a->ret_keys);
	free(a);
}

void
agg_add(struct agg *a, const uint8_t *key, uint64_t packets, uint64_t octets)
{
	struct agg_slot *s;
	uint64_t min;
	uint32_t h, slot;
	size_t pos;

	a->running.flows++;
	sat_add(&a->running.packets, packets);
	sat_add(&a->running.octets, octets);

	h = agg_hash(a, key);
	if ((slot = lookup(a, key, h, &pos)) != AGG_NONE) {
		s = slot_at(a, slot);
		s->c.flows++;
		sat_add(&s->c.packets, packets);
		sat_add(&s->c.octets, octets);
		if (a->heaped) {
			a->heap[s->hpos].octets = s->c.octets;
			sift_down(a, s->hpos);
		}
		return;
	}

	if (a->n < a->capacity) {
		slot = a->n++;
		s = slot_at(a, slot);
		s->c.flows = 1;
		s->c.packets = packets;
		s->c.octets = octets;
		s->error = 0;
	} else {
		/* Space-Saving: the newcomer takes over the smallest key's octets. */
		if (!a->heaped)
			heapify(a);
		slot = a->heap[0].slot;
		s = slot_at(a, slot);
		min = s->c.octets;
		index_remove(a, slot);
		/* The removal may have shifted entries: probe again for a hole. */
		for (pos = h & a->mask; a->index[pos] != AGG_EMPTY;
		    pos = (pos + 1) & a->mask)
			;
		s->c.flows = 1;
		s->c.packets = packets;
		s->c.octets = min;
		sat_add(&s->c.octets, octets);
		s->error = min;
		a->heap[0].octets = s->c.octets;
		sift_down(a, 0);
		a->evictions++;
		a->evictions_total++;
	}
	s->hash = h;
	memcpy(slot_key(a, slot), key, a->keylen);
	a->index[pos] = (uint64_t)h << 32 | (slot + 1);
}

struct agg_counts
agg_running(const struct agg *a)
{
	return a->running;
}

uint32_t
agg_running_keys(const struct agg *a)
{
	return a->n;
}

uint64_t
agg_evictions_total(const struct agg *a)
{
	return a->evictions_total;
}

/* Rank order: octets descending, then key bytes, so that results are deterministic. */
static bool
ranks_before(const struct agg *a, uint32_t x, uint32_t y)
{
	uint64_t ox = slot_at(a, x)->c.octets, oy = slot_at(a, y)->c.octets;

	if (ox != oy)
		return ox > oy;
	return memcmp(slot_key(a, x), slot_key(a, y), a->keylen) < 0;
}

/* Sift in the selection heap, whose root is the worst of the best so far. */
static void
rank_sift(const struct agg *a, uint32_t *r, uint32_t n, uint32_t i)
{
	uint32_t x = r[i], c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && ranks_before(a, r[c], r[c + 1]))
			c++;
		if (!ranks_before(a, x, r[c]))
			break;
		r[i] = r[c];
		i = c;
	}
	r[i] = x;
}

/* a->rank[0..m) = the best m slots, best first; O(n log top). */
static uint32_t
rank_top(struct agg *a)
{
	uint32_t *r = a->rank, m = 0, s, i;

	for (s = 0; s < a->n; s++) {
		if (m < a->top) {
			r[m++] = s;
			if (m == a->top)
				for (i = m / 2; i-- > 0;)
					rank_sift(a, r, m, i);
		} else if (ranks_before(a, s, r[0])) {
			r[0] = s;
			rank_sift(a, r, m, 0);
		}
	}
	if (m < a->top)
		for (i = m / 2; i-- > 0;)
			rank_sift(a, r, m, i);
	/* Heapsort: popping the worst fills the array from its end. */
	for (i = m; i > 1; i--) {
		s = r[0];
		r[0] = r[i - 1];
		r[i - 1] = s;
		rank_sift(a, r, i - 1, 0);
	}
	return m;
}

static struct agg_snapshot *
snapshot_new(const struct agg *a, uint32_t m, int64_t start_ms, int64_t end_ms)
{
	struct agg_snapshot *snap;
	struct agg_row *row;
	uint8_t *k;
	uint32_t i;

	/* One block: the header, the rows, then their keys. */
	snap = malloc(sizeof(*snap) + (size_t)m * (sizeof(*row) + a->keylen));
	if (snap == NULL)
		return NULL;
	snap->start_ms = start_ms;
	snap->end_ms = end_ms;
	snap->total = a->running;
	snap->keys = a->n;
	snap->evictions = a->evictions;
	snap->nrows = m;
	snap->rows = (struct agg_row *)(snap + 1);
	k = (uint8_t *)(snap->rows + m);
	snap->other = a->running;
	for (i = 0; i < m; i++) {
		row = &snap->rows[i];
		row->key = k;
		memcpy(k, slot_key(a, a->rank[i]), a->keylen);
		k += a->keylen;
		row->c = slot_at(a, a->rank[i])->c;
		row->error = slot_at(a, a->rank[i])->error;
		/*
		 * The slots' octets sum to the total and their flows and packets
		 * to at most it; the clamps only matter once a counter saturated.
		 */
		snap->other.flows -= row->c.flows < snap->other.flows ?
		    row->c.flows : snap->other.flows;
		snap->other.packets -= row->c.packets < snap->other.packets ?
		    row->c.packets : snap->other.packets;
		snap->other.octets -= row->c.octets < snap->other.octets ?
		    row->c.octets : snap->other.octets;
	}
	return snap;
}

void
agg_snapshot_free(struct agg_snapshot *snap)
{
	free(snap);
}

static int
key_cmp(const struct agg *a, const uint8_t *x, const uint8_t *y)
{
	return memcmp(x, y, a->keylen);
}

/* The retained row of key, or AGG_NONE (binary search: the set is sorted). */
static uint32_t
retained_find(const struct agg *a, const uint8_t *key)
{
	size_t lo = 0, hi = a->nret, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = key_cmp(a, a->ret[mid].key, key)) == 0)
			return (uint32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return AGG_NONE;
}

static void
cand_sift(const struct agg *a, struct agg_cand *c, size_t n, size_t i)
{
	struct agg_cand x = c[i];
	size_t j;

	while ((j = 2 * i + 1) < n) {
		if (j + 1 < n && key_cmp(a, c[j + 1].key, c[j].key) > 0)
			j++;
		if (key_cmp(a, x.key, c[j].key) >= 0)
			break;
		c[i] = c[j];
		i = j;
	}
	c[i] = x;
}

static void
cand_sort(const struct agg *a, struct agg_cand *c, size_t n)
{
	struct agg_cand t;
	size_t i;

	for (i = n / 2; i-- > 0;)
		cand_sift(a, c, n, i);
	for (i = n; i > 1; i--) {
		t = c[0];
		c[0] = c[i - 1];
		c[i - 1] = t;
		cand_sift(a, c, i - 1, 0);
	}
}

/*
 * Rebuilds the retained set for close number `closes` from the old set and
 * this interval's top m (a->rank). A key is kept while its last top-N
 * appearance is at most `retention` closes ago; each close brings at most
 * `top` keys, so the set never exceeds top * (retention + 1). Every kept key
 * adds its counts of this interval (untracked keys add nothing). All memory
 * is allocated before anything changes: false leaves the old set intact.
 */
static bool
retained_update(struct agg *a, uint32_t m, uint64_t closes, int64_t start_ms,
    int64_t end_ms)
{
	struct agg_cand *cand;
	struct agg_retained *ret = NULL, *r;
	uint64_t *last = NULL, l;
	uint8_t *keys = NULL;
	size_t ncand = 0, nkeep = 0, i, pos;
	uint32_t j, slot;

	if ((cand = calloc(a->nret + m + 1, sizeof(*cand))) == NULL)
		return false;
	for (i = 0; i < a->nret; i++) {
		cand[ncand].key = a->ret[i].key;
		cand[ncand++].old = (uint32_t)i;
	}
	for (j = 0; j < m; j++) {
		const uint8_t *k = slot_key(a, a->rank[j]);

		if ((i = retained_find(a, k)) != AGG_NONE)
			cand[i].top = true;
		else {
			cand[ncand].key = k;
			cand[ncand].old = AGG_NONE;
			cand[ncand++].top = true;
		}
	}
	/* Drop first, so that the new arrays are sized for the kept keys only. */
	for (i = 0; i < ncand; i++)
		if (cand[i].top || closes - a->ret_last[cand[i].old] <= a->retention)
			cand[nkeep++] = cand[i];
	cand_sort(a, cand, nkeep);

	ret = calloc(nkeep + 1, sizeof(*ret));
	last = calloc(nkeep + 1, sizeof(*last));
	keys = calloc(nkeep + 1, a->keylen);
	if (ret == NULL || last == NULL || keys == NULL)
		goto fail;
	for (i = 0; i < nkeep; i++) {
		r = &ret[i];
		memcpy(keys + i * a->keylen, cand[i].key, a->keylen);
		r->key = keys + i * a->keylen;
		if (cand[i].old != AGG_NONE) {
			*r = a->ret[cand[i].old];
			r->key = keys + i * a->keylen;
			l = a->ret_last[cand[i].old];
		} else {
			r->since_ms = start_ms;
			l = 0;
		}
		if (cand[i].top) {
			r->last_top_ms = end_ms;
			l = closes;
		}
		last[i] = l;
		slot = lookup(a, r->key, agg_hash(a, r->key), &pos);
		if (slot != AGG_NONE)
			counts_add(&r->total, &slot_at(a, slot)->c);
	}
	free(cand);
	free(a->ret);
	free(a->ret_last);
	free(a->ret_keys);
	a->ret = ret;
	a->ret_last = last;
	a->ret_keys = keys;
	a->nret = nkeep;
	return true;
fail:
	free(cand);
	free(ret);
	free(last);
	free(keys);
	return false;
}

static void
interval_reset(struct agg *a)
{
	memset(a->index, 0, (a->mask + 1) * sizeof(*a->index));
	a->n = 0;
	a->heaped = false;
	memset(&a->running, 0, sizeof(a->running));
	a->evictions = 0;
}

/*
 * Out of memory, the interval is discarded: NULL, the retained set stays as
 * of the previous close (it misses this interval's counts, and the failed
 * close does not count toward the retention), and a new interval opens; the
 * caller counts the loss. agg_add itself never allocates.
 */
struct agg_snapshot *
agg_close(struct agg *a, int64_t start_ms, int64_t end_ms)
{
	struct agg_snapshot *snap;
	uint32_t m;

	m = rank_top(a);
	if ((snap = snapshot_new(a, m, start_ms, end_ms)) != NULL) {
		if (retained_update(a, m, a->closes + 1, start_ms, end_ms))
			a->closes++;
		else {
			agg_snapshot_free(snap);
			snap = NULL;
		}
	}
	interval_reset(a);
	return snap;
}

size_t
agg_retained(const struct agg *a, const struct agg_retained **rows)
{
	*rows = a->ret;
	return a->nret;
}

/*
 * Epoch-aligned: a 300 s interval closes at :00, :05, ... and a time exactly
 * on a boundary closes at the next one. interval_s 0 counts as 1 s.
 */
int64_t
agg_next_close_ms(int64_t now_ms, uint32_t interval_s)
{
	int64_t step = (int64_t)(interval_s ? interval_s : 1) * 1000;
	int64_t q = now_ms / step;

	/* Floor division for times before the epoch. */
	if (now_ms % step != 0 && now_ms < 0)
		q--;
	if (q >= INT64_MAX / step - 1)
		return INT64_MAX;
	return (q + 1) * step;
}
