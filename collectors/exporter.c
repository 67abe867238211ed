/*
 * Exporter state. Entries are allocated one by one (the pointers handed out
 * stay valid for the table's life) and found through an open-addressing hash
 * table of pointers with linear probing, kept at most half full. Entries are
 * never removed, so there are no tombstones. The number of entries is capped
 * by max_exporters; every refusal, including an allocation failure, counts.
 *
 * Sequence rules, per (address, version, domain):
 *   v5	the header sequence counts flows: next = sequence + count
 *   v9	it counts export packets: next = sequence + 1 (RFC 3954 5.1)
 *   IPFIX	it counts the data records sent before this message:
 *	next = sequence + data records in it (RFC 7011 3.1)
 * With d = (sequence - expected) mod 2^32:
 *   d == 0			in order
 *   0 < d <= EXPORTER_LOSS_WINDOW	d units lost
 *   d > EXPORTER_LOSS_WINDOW, d < 2^31	a jump, taken as a restart
 *   behind by at most EXPORTER_REORDER_WINDOW	v5/v9: a late datagram (reordered);
 *				IPFIX: a restart (no uptime tells them apart)
 *   further behind		a restart
 * and for v5/v9, sysUptime going back by more than EXPORTER_REORDER_MS is a
 * restart too. A restart counts
 * in resets, stamps reset_ns and restarts tracking from this datagram; no
 * loss is counted for it. Arithmetic modulo 2^32 makes the wrap from
 * 0xffffffff to 0 an ordinary step.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/exporter.h"

#define HALF_RANGE		0x80000000u
#define MIN_SLOTS		16

struct exporter_table {
	struct exporter	**slots;	/* nslots, a power of two; NULL = free */
	size_t		  nslots;
	struct exporter	**list;		/* creation order, for freeing and sorting */
	size_t		  nlist;
	size_t		  list_cap;
	uint32_t	  max;
	uint64_t	  refused;
};

static size_t
addr_len(const struct addr *a)
{
	switch (a->family) {
	case ADDR_V4:
		return 4;
	case ADDR_V6:
		return 16;
	default:
		return 0;
	}
}

/* InetAddressType order: unknown(0), ipv4(1), ipv6(2). */
static int
addr_type(const struct addr *a)
{
	switch (a->family) {
	case ADDR_V4:
		return 1;
	case ADDR_V6:
		return 2;
	default:
		return 0;
	}
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* The key's address is normalized: bytes past the family's length are zero. */
static uint64_t
key_hash(const struct addr *a, uint8_t version, uint32_t domain)
{
	uint64_t w0, w1;

	memcpy(&w0, a->bytes, 8);
	memcpy(&w1, a->bytes + 8, 8);
	return mix64(mix64(w0 ^ (uint64_t)a->family << 56) ^ w1 ^
	    ((uint64_t)version << 32 | domain));
}

static bool
key_equal(const struct exporter *e, const struct addr *a, uint8_t version,
    uint32_t domain)
{
	return e->version == version && e->domain == domain &&
	    e->addr.family == a->family &&
	    memcmp(e->addr.bytes, a->bytes, sizeof(a->bytes)) == 0;
}

struct exporter_table *
exporter_table_new(uint32_t max_exporters)
{
	struct exporter_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->nslots = MIN_SLOTS;
	if ((t->slots = calloc(t->nslots, sizeof(*t->slots))) == NULL) {
		free(t);
		return NULL;
	}
	t->max = max_exporters;
	return t;
}

void
exporter_table_free(struct exporter_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nlist; i++)
		free(t->list[i]);
	free(t->list);
	free(t->slots);
	free(t);
}

static struct exporter **
slot_find(struct exporter **slots, size_t nslots, const struct addr *a,
    uint8_t version, uint32_t domain)
{
	size_t i = (size_t)key_hash(a, version, domain) & (nslots - 1);

	while (slots[i] != NULL && !key_equal(slots[i], a, version, domain))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

/* Keeps the hash table at most half full; false when memory runs out. */
static bool
slots_reserve(struct exporter_table *t, size_t n)
{
	struct exporter **slots, *e;
	size_t nslots, i;

	if (n <= t->nslots / 2)
		return true;
	nslots = t->nslots * 2;
	if ((slots = calloc(nslots, sizeof(*slots))) == NULL)
		return false;
	for (i = 0; i < t->nslots; i++) {
		if ((e = t->slots[i]) != NULL)
			*slot_find(slots, nslots, &e->addr, e->version, e->domain) = e;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return true;
}

static bool
list_reserve(struct exporter_table *t, size_t n)
{
	struct exporter **list;
	size_t cap;

	if (n <= t->list_cap)
		return true;
	cap = t->list_cap ? t->list_cap * 2 : MIN_SLOTS;
	if ((list = realloc(t->list, cap * sizeof(*list))) == NULL)
		return false;
	t->list = list;
	t->list_cap = cap;
	return true;
}

struct exporter *
exporter_get(struct exporter_table *t, const struct addr *addr,
    uint8_t version, uint32_t domain, int64_t now_ns)
{
	struct exporter **slot, *e;
	struct addr key;

	memset(&key, 0, sizeof(key));
	key.family = addr->family;
	memcpy(key.bytes, addr->bytes, addr_len(addr));

	slot = slot_find(t->slots, t->nslots, &key, version, domain);
	if (*slot != NULL)
		return *slot;

	if (t->nlist >= t->max || !list_reserve(t, t->nlist + 1) ||
	    !slots_reserve(t, t->nlist + 1) ||
	    (e = calloc(1, sizeof(*e))) == NULL) {
		t->refused++;
		return NULL;
	}
	e->addr = key;
	e->version = version;
	e->domain = domain;
	e->sampling = 1;
	e->sampling_source = SAMPLING_NONE;
	e->first_seen_ns = now_ns;
	e->last_seen_ns = now_ns;

	/* slots_reserve may have rehashed: look the free slot up again. */
	*slot_find(t->slots, t->nslots, &key, version, domain) = e;
	t->list[t->nlist++] = e;
	return e;
}

/*
 * What one datagram advances the sequence by, in the protocol's unit; false
 * when that is unknown (IPFIX records that could not be counted), in which
 * case the next datagram resynchronizes without counting a loss.
 */
static bool
sequence_step(const struct decode_result *res, uint32_t *step)
{
	switch (res->version) {
	case 5:
		*step = res->count;
		return true;
	case 9:
		*step = 1;
		return true;
	case 10:
		*step = res->records + res->options_records +
		    res->records_without_template;
		/* Rejected sets and sets of unknown length hide records. */
		return res->error == DECODE_OK &&
		    (res->sets_without_template == 0 ||
		    res->records_without_template != 0);
	default:
		return false;
	}
}

/*
 * sysUptime going back means the exporter rebooted, unless it wrapped (every
 * 49.7 days): a wrap moves it forward by about the time since the previous
 * datagram, so a "backward" step that is a short forward step modulo 2^32 is
 * taken as a wrap.
 */
static bool
uptime_went_back(uint32_t last, uint32_t now)
{
	return now < last && (uint32_t)(now - last) > EXPORTER_UPTIME_WRAP_MS &&
	    last - now > EXPORTER_REORDER_MS;
}

bool
exporter_account(struct exporter *e, const struct decode_result *res,
    size_t datagram_len, int64_t now_ns)
{
	uint32_t step, d;
	bool known, restart = false;

	e->datagrams++;
	e->bytes += datagram_len;
	e->records += res->records;
	e->sets_without_template += res->sets_without_template;
	if (res->error != DECODE_OK && (unsigned)res->error < DECODE_ERR__COUNT)
		e->malformed[res->error]++;
	e->last_seen_ns = now_ns;

	/* Nothing of a rejected datagram is trusted, its header included. */
	if (res->error != DECODE_OK && res->records == 0)
		return false;

	known = sequence_step(res, &step);
	if (e->have_seq) {
		d = res->sequence - e->next_seq;
		if ((res->version == 5 || res->version == 9) &&
		    uptime_went_back(e->last_uptime_ms, res->sys_uptime_ms))
			restart = true;
		else if (d != 0 && res->version != 10 &&
		    (uint32_t)(e->next_seq - res->sequence) <= EXPORTER_REORDER_WINDOW) {
			e->reordered++;
			return false;	/* late: the state stays with the newest */
		} else if (d >= HALF_RANGE || d > EXPORTER_LOSS_WINDOW)
			restart = true;
		else
			e->lost += d;
	}
	if (restart) {
		e->resets++;
		e->reset_ns = now_ns;
	}
	e->have_seq = known;
	e->next_seq = res->sequence + step;
	e->last_uptime_ms = res->sys_uptime_ms;
	return restart;
}

size_t
exporter_count(const struct exporter_table *t)
{
	return t->nlist;
}

uint64_t
exporter_refused(const struct exporter_table *t)
{
	return t->refused;
}

static int
index_cmp(const void *pa, const void *pb)
{
	const struct exporter *a = *(const struct exporter *const *)pa;
	const struct exporter *b = *(const struct exporter *const *)pb;
	int ta = addr_type(&a->addr), tb = addr_type(&b->addr), c;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	if ((c = memcmp(a->addr.bytes, b->addr.bytes, addr_len(&a->addr))) != 0)
		return c;
	if (a->version != b->version)
		return a->version < b->version ? -1 : 1;
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	return 0;
}

size_t
exporter_sorted(const struct exporter_table *t, const struct exporter **out,
    size_t max)
{
	const struct exporter **all;
	size_t n = t->nlist;

	if (n == 0)
		return 0;
	if (max >= n) {
		memcpy(out, t->list, n * sizeof(*out));
		qsort(out, n, sizeof(*out), index_cmp);
		return n;
	}
	/* Only the first max in index order: sort all of them aside. */
	if (max == 0 || (all = malloc(n * sizeof(*all))) == NULL)
		return 0;
	memcpy(all, t->list, n * sizeof(*all));
	qsort(all, n, sizeof(*all), index_cmp);
	memcpy(out, all, max * sizeof(*out));
	free(all);
	return max;
}
