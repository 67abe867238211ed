/*
 * libFuzzer harness for engine/agg: the input picks tiny parameters, then
 * drives adds and closes over a small key alphabet (so that keys repeat,
 * the table overflows and the retained set churns). An exact model kept
 * here checks at every close: totals are the sum of what was added, the
 * rows are ranked and within the Space-Saving bounds, nrows <= top, the
 * table never exceeds its capacity, the retained set follows its rules and
 * bound, and the previous snapshot did not change.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/agg.h"

#define FZ_SYMBOLS	5	/* values of a key byte */
#define FZ_MAX_KEYLEN	3
#define FZ_KEYS		125	/* FZ_SYMBOLS ^ FZ_MAX_KEYLEN */
#define FZ_MAX_TOP	4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct model_key {
	struct agg_counts c;		/* this interval, exact */
	struct agg_counts ret;		/* cumulative while retained */
	int64_t		 since_ms;
	int64_t		 last_top_ms;
	uint64_t	 last_close;
	int		 retained;
};

struct model {
	struct model_key k[FZ_KEYS];
	struct agg_counts total;
	uint32_t	 distinct;
	uint64_t	 closes;
};

struct kept {
	struct agg_snapshot *snap;
	struct agg_row	 rows[FZ_MAX_TOP];
	uint8_t		 keys[FZ_MAX_TOP][FZ_MAX_KEYLEN];
	struct agg_counts total, other;
};

static uint32_t
key_index(const uint8_t *k, size_t keylen)
{
	uint32_t i = 0;
	size_t j;

	for (j = 0; j < keylen; j++)
		i = i * FZ_SYMBOLS + k[j];
	return i;
}

static int
counts_eq(const struct agg_counts *a, const struct agg_counts *b)
{
	return a->flows == b->flows && a->packets == b->packets &&
	    a->octets == b->octets;
}

static void
keep(struct kept *kp, struct agg_snapshot *snap, size_t keylen)
{
	size_t i;

	kp->snap = snap;
	kp->total = snap->total;
	kp->other = snap->other;
	for (i = 0; i < snap->nrows; i++) {
		kp->rows[i] = snap->rows[i];
		memcpy(kp->keys[i], snap->rows[i].key, keylen);
	}
}

static void
check_kept(const struct kept *kp, size_t keylen)
{
	const struct agg_snapshot *s = kp->snap;
	size_t i;

	if (s == NULL)
		return;
	if (!counts_eq(&s->total, &kp->total) || !counts_eq(&s->other, &kp->other))
		abort();
	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].key != kp->rows[i].key ||
		    !counts_eq(&s->rows[i].c, &kp->rows[i].c) ||
		    s->rows[i].error != kp->rows[i].error ||
		    memcmp(s->rows[i].key, kp->keys[i], keylen) != 0)
			abort();
}

static void
check_close(struct agg *a, const struct agg_params *p, struct model *m,
    const struct agg_snapshot *s, int64_t start, int64_t end)
{
	const struct agg_retained *r;
	struct agg_counts sum = { 0 };
	const struct model_key *mk;
	size_t i, n;
	uint32_t ki, nret = 0;
	int top[FZ_KEYS] = { 0 };

	if (!counts_eq(&s->total, &m->total))
		abort();
	if (s->keys != (m->distinct < p->capacity ? m->distinct : p->capacity))
		abort();
	if ((s->evictions == 0) != (m->distinct <= p->capacity))
		abort();
	if (s->nrows != (s->keys < p->top ? s->keys : p->top))
		abort();
	for (i = 0; i < s->nrows; i++) {
		ki = key_index(s->rows[i].key, p->keylen);
		mk = &m->k[ki];
		if (top[ki]++)
			abort();	/* a key twice */
		if (i > 0 && (s->rows[i - 1].c.octets < s->rows[i].c.octets ||
		    (s->rows[i - 1].c.octets == s->rows[i].c.octets &&
		    memcmp(s->rows[i - 1].key, s->rows[i].key, p->keylen) >= 0)))
			abort();
		/* Space-Saving: true <= reported <= true + error <= true + total / capacity. */
		if (s->rows[i].c.octets < mk->c.octets ||
		    s->rows[i].c.octets - mk->c.octets > s->rows[i].error ||
		    s->rows[i].error > m->total.octets / p->capacity ||
		    s->rows[i].c.flows > mk->c.flows ||
		    s->rows[i].c.packets > mk->c.packets)
			abort();
		if (s->evictions == 0 && (s->rows[i].error != 0 ||
		    !counts_eq(&s->rows[i].c, &mk->c)))
			abort();
		sum.flows += s->rows[i].c.flows;
		sum.packets += s->rows[i].c.packets;
		sum.octets += s->rows[i].c.octets;
	}
	if (s->other.flows != m->total.flows - sum.flows ||
	    s->other.packets != m->total.packets - sum.packets ||
	    s->other.octets != m->total.octets - sum.octets)
		abort();
	/* All slots shown: their octets are the whole stream. */
	if (s->nrows == s->keys && s->other.octets != 0)
		abort();
	/* Heavy hitters are tracked; visible when every slot is a row. */
	if (p->top == p->capacity)
		for (ki = 0; ki < FZ_KEYS; ki++)
			if (m->k[ki].c.octets > m->total.octets / p->capacity &&
			    !top[ki])
				abort();

	/* The retained set, by its rules. */
	m->closes++;
	for (ki = 0; ki < FZ_KEYS; ki++) {
		struct model_key *k = &m->k[ki];

		if (top[ki]) {
			if (!k->retained) {
				k->retained = 1;
				k->since_ms = start;
				memset(&k->ret, 0, sizeof(k->ret));
			}
			k->last_close = m->closes;
			k->last_top_ms = end;
		} else if (k->retained && m->closes - k->last_close > p->retention)
			k->retained = 0;
		if (k->retained) {
			k->ret.flows += k->c.flows;
			k->ret.packets += k->c.packets;
			k->ret.octets += k->c.octets;
			nret++;
		}
	}
	n = agg_retained(a, &r);
	if (n != nret || n > (size_t)p->top * (p->retention + 1))
		abort();
	for (i = 0; i < n; i++) {
		if (i > 0 && memcmp(r[i - 1].key, r[i].key, p->keylen) >= 0)
			abort();
		mk = &m->k[key_index(r[i].key, p->keylen)];
		if (!mk->retained || r[i].since_ms != mk->since_ms ||
		    r[i].last_top_ms != mk->last_top_ms)
			abort();
		/* Exact while no count was ever estimated. */
		if (agg_evictions_total(a) == 0 && !counts_eq(&r[i].total, &mk->ret))
			abort();
	}

	/* A new interval. */
	for (ki = 0; ki < FZ_KEYS; ki++)
		memset(&m->k[ki].c, 0, sizeof(m->k[ki].c));
	memset(&m->total, 0, sizeof(m->total));
	m->distinct = 0;
	if (agg_running_keys(a) != 0 || agg_running(a).flows != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct agg_params p;
	struct agg_snapshot *snap;
	struct kept kp = { 0 };
	struct model_key *mk;
	struct agg_counts run;
	uint8_t key[FZ_MAX_KEYLEN];
	uint64_t packets, octets;
	size_t i = 4, j;
	int64_t t = 0;
	struct agg *a;

	if (size < 4)
		return 0;
	p.keylen = 1 + data[0] % FZ_MAX_KEYLEN;
	p.top = 1 + data[1] % FZ_MAX_TOP;
	p.capacity = p.top + data[2] % 5;
	p.retention = data[3] % 4;
	if ((a = agg_new(&p)) == NULL)
		abort();
	memset(&m, 0, sizeof(m));

	while (i < size) {
		if (data[i] < 24) {
			/* Close; the interval's length comes from the byte. */
			if ((snap = agg_close(a, t, t + 1 + data[i])) == NULL)
				abort();
			check_close(a, &p, &m, snap, t, t + 1 + data[i]);
			t += 1 + data[i];
			check_kept(&kp, p.keylen);
			agg_snapshot_free(kp.snap);
			keep(&kp, snap, p.keylen);
			i++;
			continue;
		}
		if (size - i < 1 + p.keylen + 3)
			break;
		for (j = 0; j < p.keylen; j++)
			key[j] = data[i + 1 + j] % FZ_SYMBOLS;
		packets = data[i + 1 + p.keylen];
		octets = (uint64_t)data[i + 2 + p.keylen] << 8 | data[i + 3 + p.keylen];
		/* Now and then a large flow, to reach big counts. */
		if (data[i] >= 248)
			octets <<= 24;
		i += 1 + p.keylen + 3;

		agg_add(a, key, packets, octets);
		mk = &m.k[key_index(key, p.keylen)];
		if (mk->c.flows == 0)
			m.distinct++;
		mk->c.flows++;
		mk->c.packets += packets;
		mk->c.octets += octets;
		m.total.flows++;
		m.total.packets += packets;
		m.total.octets += octets;
		run = agg_running(a);
		if (agg_running_keys(a) > p.capacity || !counts_eq(&run, &m.total))
			abort();
	}
	check_kept(&kp, p.keylen);
	agg_snapshot_free(kp.snap);
	agg_free(a);
	return 0;
}
