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
 * The index is allocated at its full size (the smallest power of two >=
 * 2 * capacity) but only a power-of-two prefix of it is in use: it starts
 * at AGG_INDEX_MIN entries and doubles (a rehash from the slots' stored
 * hashes, no allocation) whenever the keys would pass half of it, so an
 * interval with few keys probes a few cache lines, not megabytes. Each
 * interval starts again from the smallest prefix. The full size is reached
 * before the table fills, so the eviction path always sees the full index.
 *
 * The add of a tracked key touches only a slot's counters and key. The
 * slab is line-aligned and a slot of at most 64 bytes is padded to 32 or 64
 * so that it never straddles two cache lines. The other fields (Space-
 * Saving error, heap position, hash), read on insertion, eviction, growth
 * and close, go in that padding when they fit (keys of 9 to 24 bytes), else
 * in a parallel array, so that memory per key stays as it was or within
 * 8 bytes of it.
 *
 * Keys are stored zero-padded to whole 8-byte words; agg_add copies the
 * caller's keylen bytes once into a zero-padded word buffer and then hashes
 * and compares whole words inline.
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
/* Index entries in use at the start of each interval (power of two). */
#define AGG_INDEX_MIN	256
/* Words of the largest key, zero-padded. */
#define AGG_KEY_WORDS	((KEY_MAX_BYTES + 7) / 8)

/* A slot's header; its key follows it inline. */
struct agg_slot {
	struct agg_counts c;
};

/* A slot's fields that the add of a tracked key does not need. */
struct agg_cold {
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
	size_t		 kwords;	/* keylen in 8-byte words, rounded up */
	uint32_t	 top;
	uint32_t	 capacity;
	uint32_t	 retention;
	uint64_t	 seed;

	/* The open interval. */
	uint8_t		*slab;		/* capacity * stride */
	size_t		 stride;	/* slot header + key: 32, 64 or 8-aligned */
	struct agg_cold	*cold;		/* capacity of them, or NULL: in the slots */
	uint8_t		*cold_base;	/* slot 0's cold fields */
	size_t		 cold_stride;
	uint64_t	*index;
	size_t		 mask;		/* index entries in use - 1 */
	size_t		 max_mask;	/* index entries allocated - 1 */
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
 * A key's keylen bytes as whole words, the last one zero-padded: the bytes
 * of k are exactly the key's, then zeros. Fixed-size copies only, so that
 * no libc call is made and the tail is one store (no store-forwarding stall
 * when it is read back as a word).
 */
static inline void
key_words(uint64_t *k, const uint8_t *key, size_t len, size_t nw)
{
	size_t i, r;
	uint64_t w;

	/* Words 0..nw-2 are whole (nw = (len + 7) / 8); peeled for constant nw. */
	if (nw > 1)
		memcpy(&k[0], key, 8);
	if (nw > 2)
		memcpy(&k[1], key + 8, 8);
	for (i = 2; i + 1 < nw; i++)
		memcpy(&k[i], key + 8 * i, 8);
	i = 8 * (nw - 1);
	if ((r = len - i) == 8) {
		memcpy(&k[nw - 1], key + i, 8);
		return;
	}
	key += i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	{
		uint32_t x;
		uint16_t y;
		size_t o = 0;

		w = 0;
		if (r & 4) {
			memcpy(&x, key, 4);
			w = x;
			o = 4;
		}
		if (r & 2) {
			memcpy(&y, key + o, 2);
			w |= (uint64_t)y << (8 * o);
			o += 2;
		}
		if (r & 1)
			w |= (uint64_t)key[o] << (8 * o);
	}
#else
	{
		uint8_t b[8] = { 0 };
		size_t j;

		for (j = 0; j < r; j++)
			b[j] = key[j];
		memcpy(&w, b, 8);
	}
#endif
	k[nw - 1] = w;
}

/*
 * Multiply-xorshift over the key's zero-padded 8-byte words, seeded per
 * table. Not a keyed PRF: the seed only makes collisions differ between
 * processes; the capacity bounds any probe sequence regardless.
 */
static inline uint32_t
hash_words(uint64_t seed, const uint64_t *k, size_t nw)
{
	uint64_t h = seed;
	size_t i;

	/* nw >= 1; the first three words peeled for constant nw. */
	h = (h ^ k[0]) * UINT64_C(0x9e3779b97f4a7c15);
	h ^= h >> 29;
	for (i = 1; i < nw && i < 3; i++) {
		h = (h ^ k[i]) * UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 29;
	}
	for (i = 3; i < nw; i++) {
		h = (h ^ k[i]) * UINT64_C(0x9e3779b97f4a7c15);
		h ^= h >> 29;
	}
	/* One more multiply; its high half depends on every bit of h. */
	h = (h ^ h >> 32) * UINT64_C(0xff51afd7ed558ccd);
	return (uint32_t)(h >> 32);
}

static struct agg_slot *
slot_at(const struct agg *a, uint32_t slot)
{
	return (struct agg_slot *)(void *)(a->slab + (size_t)slot * a->stride);
}

static struct agg_cold *
cold_at(const struct agg *a, uint32_t slot)
{
	return (struct agg_cold *)(void *)(a->cold_base +
	    (size_t)slot * a->cold_stride);
}

static uint8_t *
slot_key(const struct agg *a, uint32_t slot)
{
	return a->slab + (size_t)slot * a->stride + sizeof(struct agg_slot);
}

/* Whether a slot's zero-padded key equals the words k. */
static inline bool
key_equal(const uint8_t *slotkey, const uint64_t *k, size_t nw)
{
	uint64_t w, d;
	size_t i;

	memcpy(&w, slotkey, 8);
	d = w ^ k[0];
	for (i = 1; i < nw && i < 3; i++) {
		memcpy(&w, slotkey + 8 * i, 8);
		d |= w ^ k[i];
	}
	for (i = 3; i < nw; i++) {
		memcpy(&w, slotkey + 8 * i, 8);
		d |= w ^ k[i];
	}
	return d == 0;
}

/*
 * The slot holding the key k (zero-padded words), or AGG_NONE; *pos is
 * where the probe stopped. The full 32-bit hash in the entry is compared
 * before the slot is touched.
 */
static inline uint32_t
lookup_words(const struct agg *a, const uint64_t *k, size_t nw, uint32_t h,
    size_t *pos)
{
	size_t p = h & a->mask;
	uint64_t e;
	uint32_t s;

	while ((e = a->index[p]) != AGG_EMPTY) {
		if ((uint32_t)(e >> 32) == h) {
			s = (uint32_t)e - 1;
			if (key_equal(slot_key(a, s), k, nw)) {
				*pos = p;
				return s;
			}
		}
		p = (p + 1) & a->mask;
	}
	*pos = p;
	return AGG_NONE;
}

/* The slot holding key (keylen bytes), or AGG_NONE. */
static uint32_t
lookup(const struct agg *a, const uint8_t *key, size_t *pos)
{
	uint64_t k[AGG_KEY_WORDS];

	key_words(k, key, a->keylen, a->kwords);
	return lookup_words(a, k, a->kwords, hash_words(a->seed, k, a->kwords),
	    pos);
}

/*
 * Doubles the index prefix in use and reinserts every slot from its stored
 * hash (no tombstones, and the table is not full yet, so nothing else
 * points into the index). Never allocates: the full index exists.
 */
static void
index_grow(struct agg *a)
{
	size_t size = (a->mask + 1) * 2, p;
	uint32_t i, h;

	memset(a->index, 0, size * sizeof(*a->index));
	a->mask = size - 1;
	for (i = 0; i < a->n; i++) {
		h = cold_at(a, i)->hash;
		for (p = h & a->mask; a->index[p] != AGG_EMPTY;
		    p = (p + 1) & a->mask)
			;
		a->index[p] = (uint64_t)h << 32 | (i + 1);
	}
}

/* Removes slot's entry; later entries of its run shift back into the hole. */
static void
index_remove(struct agg *a, uint32_t slot)
{
	size_t i, j, k;
	uint64_t want = (uint64_t)cold_at(a, slot)->hash << 32 | (slot + 1);

	i = cold_at(a, slot)->hash & a->mask;
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
		cold_at(a, h[i].slot)->hpos = i;
		i = m;
	}
	h[i] = x;
	cold_at(a, x.slot)->hpos = i;
}

static void
heapify(struct agg *a)
{
	uint32_t i;

	for (i = 0; i < a->n; i++) {
		a->heap[i].octets = slot_at(a, i)->c.octets;
		a->heap[i].slot = i;
		cold_at(a, i)->hpos = i;
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
	size_t size, hot;
	bool in_slot;

	/* Invalid parameters are refused like a failed allocation. */
	if (p == NULL || p->keylen < 1 || p->keylen > KEY_MAX_BYTES ||
	    p->top < 1 || p->capacity < p->top ||
	    p->capacity > AGG_MAX_CAPACITY)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->keylen = p->keylen;
	a->kwords = (p->keylen + 7) / 8;
	a->top = p->top;
	a->capacity = p->capacity;
	a->retention = p->retention;
	/* Differs per process (ASLR) without a clock or I/O. */
	a->seed = mix64((uint64_t)(uintptr_t)a ^ UINT64_C(0x6a09e667f3bcc908) ^
	    p->keylen);
	for (size = 2; size < 2 * (size_t)p->capacity; size *= 2)
		;
	a->max_mask = size - 1;
	a->mask = (size < AGG_INDEX_MIN ? size : AGG_INDEX_MIN) - 1;
	hot = sizeof(struct agg_slot) + a->kwords * 8;
	if (hot <= 32)
		a->stride = 32;
	else if (hot <= AGG_LINE)
		a->stride = AGG_LINE;
	else
		a->stride = hot;
	/* The cold fields go in the padding of a slot when they fit there. */
	in_slot = a->stride - hot >= sizeof(struct agg_cold);
	/* aligned_alloc wants a multiple of the alignment. */
	size = ((size_t)p->capacity * a->stride + AGG_LINE - 1) &
	    ~(size_t)(AGG_LINE - 1);
	/* Not zeroed: every field of a slot is written before it is read. */
	a->slab = aligned_alloc(AGG_LINE, size);
	if (a->slab == NULL)
		goto fail;
	if (in_slot) {
		a->cold_base = a->slab + hot;
		a->cold_stride = a->stride;
	} else if ((a->cold = calloc(p->capacity, sizeof(*a->cold))) != NULL) {
		a->cold_base = (uint8_t *)a->cold;
		a->cold_stride = sizeof(*a->cold);
	}
	size = a->max_mask + 1;
	a->index = calloc(size, sizeof(*a->index));
	/* aligned_alloc wants a multiple of the alignment. */
	size = ((p->capacity + AGG_HEAP_PAD) * sizeof(*a->heap) + AGG_LINE - 1) &
	    ~(size_t)(AGG_LINE - 1);
	if ((a->heap_mem = aligned_alloc(AGG_LINE, size)) != NULL)
		a->heap = a->heap_mem + AGG_HEAP_PAD;
	a->rank = calloc(p->top, sizeof(*a->rank));
	if (a->slab == NULL || a->cold_base == NULL || a->index == NULL ||
	    a->heap_mem == NULL || a->rank == NULL)
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
	free(a->cold);
	free(a->index);
	free(a->heap_mem);
	free(a->rank);
	free(a->ret);
	free(a->ret_last);
	free(a->ret_keys);
	free(a);
}

/*
 * A key not in the table: a new slot below the capacity, else Space-Saving
 * takes over the smallest key's slot. Out of line so that the add of a
 * tracked key, the common case, stays small.
 */
static __attribute__((noinline)) void
agg_insert(struct agg *a, const uint64_t *k, uint32_t h, size_t pos,
    uint64_t packets, uint64_t octets)
{
	struct agg_slot *s;
	uint64_t min;
	uint32_t slot;

	if (a->n < a->capacity) {
		/* Load <= 1/2 of the prefix in use; the full index fits capacity. */
		if (2 * ((size_t)a->n + 1) > a->mask + 1 && a->mask < a->max_mask) {
			index_grow(a);
			for (pos = h & a->mask; a->index[pos] != AGG_EMPTY;
			    pos = (pos + 1) & a->mask)
				;
		}
		slot = a->n++;
		s = slot_at(a, slot);
		s->c.flows = 1;
		s->c.packets = packets;
		s->c.octets = octets;
		cold_at(a, slot)->error = 0;
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
		cold_at(a, slot)->error = min;
		a->heap[0].octets = s->c.octets;
		sift_down(a, 0);
		a->evictions++;
		a->evictions_total++;
	}
	cold_at(a, slot)->hash = h;
	/* Whole words: the padding after keylen stays zero. */
	memcpy(slot_key(a, slot), k, a->kwords * 8);
	a->index[pos] = (uint64_t)h << 32 | (slot + 1);
}

/* A tracked key's octets grew: it may sink in the min-heap (full table). */
static __attribute__((noinline)) void
heap_update(struct agg *a, uint32_t slot)
{
	a->heap[cold_at(a, slot)->hpos].octets = slot_at(a, slot)->c.octets;
	sift_down(a, cold_at(a, slot)->hpos);
}

/* An add with nw = a->kwords; inlined with nw constant for short keys. */
static inline __attribute__((always_inline)) void
add_words(struct agg *a, const uint8_t *key, uint64_t packets,
    uint64_t octets, size_t nw)
{
	uint64_t k[AGG_KEY_WORDS];
	struct agg_slot *s;
	uint32_t h, slot;
	size_t pos;

	a->running.flows++;
	sat_add(&a->running.packets, packets);
	sat_add(&a->running.octets, octets);

	key_words(k, key, a->keylen, nw);
	h = hash_words(a->seed, k, nw);
	if ((slot = lookup_words(a, k, nw, h, &pos)) == AGG_NONE) {
		agg_insert(a, k, h, pos, packets, octets);
		return;
	}
	s = slot_at(a, slot);
	s->c.flows++;
	sat_add(&s->c.packets, packets);
	sat_add(&s->c.octets, octets);
	if (a->heaped)
		heap_update(a, slot);
}

static __attribute__((noinline)) void
add_w1(struct agg *a, const uint8_t *key, uint64_t packets, uint64_t octets)
{
	add_words(a, key, packets, octets, 1);
}

static __attribute__((noinline)) void
add_w2(struct agg *a, const uint8_t *key, uint64_t packets, uint64_t octets)
{
	add_words(a, key, packets, octets, 2);
}

static __attribute__((noinline)) void
add_w3(struct agg *a, const uint8_t *key, uint64_t packets, uint64_t octets)
{
	add_words(a, key, packets, octets, 3);
}

static __attribute__((noinline)) void
add_wn(struct agg *a, const uint8_t *key, uint64_t packets, uint64_t octets)
{
	add_words(a, key, packets, octets, a->kwords);
}

void
agg_add(struct agg *a, const uint8_t *key, uint64_t packets, uint64_t octets)
{
	switch (a->kwords) {
	case 1:
		add_w1(a, key, packets, octets);
		break;
	case 2:
		add_w2(a, key, packets, octets);
		break;
	case 3:
		add_w3(a, key, packets, octets);
		break;
	default:
		add_wn(a, key, packets, octets);
		break;
	}
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
		row->error = cold_at(a, a->rank[i])->error;
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
		slot = lookup(a, r->key, &pos);
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
	a->mask = (a->max_mask + 1 < AGG_INDEX_MIN ? a->max_mask + 1 :
	    AGG_INDEX_MIN) - 1;
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
