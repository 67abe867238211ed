/*
 * flowpath-gen's seeded traffic model and ground-truth accumulator.
 * See gen_traffic.h. Only integer arithmetic decides what a run sends,
 * except the Zipf weights (pow), which are fixed once per run.
 */
#include "tools/gen_traffic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *
gen_check_loopback(const struct addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (a == NULL || a->family == ADDR_NONE)
		return "no address";
	if (a->family == ADDR_V4) {
		if (a->bytes[0] == 127)
			return NULL;
		return "not a loopback address: flowpath-gen sends only to 127.0.0.0/8 or ::1";
	}
	if (a->family == ADDR_V6 && memcmp(a->bytes, v6_loopback, 16) == 0)
		return NULL;
	return "not a loopback address: flowpath-gen sends only to 127.0.0.0/8 or ::1";
}

/* ---- random numbers ---- */

static uint64_t
mix64(uint64_t x)
{
	/* splitmix64 finalizer */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

struct rng {
	uint64_t	 s[4];
};

static void
rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++) {
		x = mix64(x);
		r->s[i] = x;
	}
}

/* xoshiro256** */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n) without modulo bias worth mentioning (multiply-shift). */
static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* ---- model ---- */

struct gen_model {
	struct gen_model_params p;
	uint64_t	*cdf;		/* cdf[i] = sum of weights of ranks < i+1 */
	uint64_t	 total;
	struct rng	 rng;
	struct flow_record *cache;	/* keys by rank when keys <= KEY_CACHE_MAX, else NULL */
};

/* Up to this many keys are derived once (about 35 MiB); more are derived per record. */
#define KEY_CACHE_MAX	(1u << 18)

/* Deterministic per-key hash stream: field f of key rank i. */
static uint64_t
key_hash(const struct gen_model *m, uint32_t rank, uint32_t field)
{
	return mix64(m->p.seed ^ mix64(((uint64_t)rank << 8 | field) + 0x5bd1e995ULL));
}

struct gen_model *
gen_model_new(const struct gen_model_params *p, const char **why)
{
	struct gen_model *m;
	uint64_t scale, sum = 0;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (p->keys < 1 || p->keys > GEN_MAX_KEYS) {
		*why = "keys must be 1..10000000";
		return NULL;
	}
	if (!(p->skew >= 0.0 && p->skew <= 5.0)) {
		*why = "skew must be 0..5";
		return NULL;
	}
	if (!(p->ipv6_share >= 0.0 && p->ipv6_share <= 1.0)) {
		*why = "ipv6 share must be 0..1";
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->cdf = malloc((size_t)p->keys * sizeof(*m->cdf))) == NULL) {
		free(m);
		*why = "out of memory";
		return NULL;
	}
	m->p = *p;
	/* Integer weights: the sum stays below 2^62 whatever keys and skew are. */
	scale = (UINT64_C(1) << 62) / p->keys;
	for (uint32_t i = 0; i < p->keys; i++) {
		double w = (double)scale / pow((double)i + 1.0, p->skew);
		uint64_t wi = w < 1.0 ? 1 : (uint64_t)w;

		if (wi > scale)
			wi = scale;
		sum += wi;
		m->cdf[i] = sum;
	}
	m->total = sum;
	rng_seed(&m->rng, p->seed);
	if (p->keys <= KEY_CACHE_MAX &&
	    (m->cache = malloc((size_t)p->keys * sizeof(*m->cache))) != NULL)
		for (uint32_t i = 0; i < p->keys; i++)
			gen_model_key(m, i, &m->cache[i]);
	return m;
}

void
gen_model_free(struct gen_model *m)
{
	if (m == NULL)
		return;
	free(m->cdf);
	free(m->cache);
	free(m);
}

uint32_t
gen_model_keys(const struct gen_model *m)
{
	return m->p.keys;
}

static const uint16_t well_known[] = {
	443, 80, 53, 22, 123, 25, 993, 8080, 3306, 161, 5432, 389, 445, 110, 143, 636
};

void
gen_model_key(const struct gen_model *m, uint32_t rank, struct flow_record *r)
{
	uint64_t h = key_hash(m, rank, 0);
	uint64_t hosts = m->p.keys / 8 ? m->p.keys / 8 : 1;
	uint64_t src_host = key_hash(m, rank, 1) % hosts;
	uint64_t dst_host = key_hash(m, rank, 2);
	uint64_t ph = key_hash(m, rank, 3);
	/* the top 53 bits of a hash as a fraction in [0, 1) */
	double v6u = (double)(key_hash(m, rank, 4) >> 11) * (1.0 / 9007199254740992.0);
	bool v6 = v6u < m->p.ipv6_share;

	memset(r, 0, sizeof(*r));
	if (v6) {
		static const uint8_t pfx[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0 };

		r->src.family = r->dst.family = r->next_hop.family = ADDR_V6;
		memcpy(r->src.bytes, pfx, 8);
		memcpy(r->dst.bytes, pfx, 8);
		memcpy(r->next_hop.bytes, pfx, 8);
		r->src.bytes[7] = 1;
		r->dst.bytes[7] = 2;
		for (int i = 0; i < 4; i++) {
			r->src.bytes[15 - i] = (uint8_t)(src_host >> (8 * i));
			r->dst.bytes[15 - i] = (uint8_t)(dst_host >> (8 * i));
		}
		r->next_hop.bytes[15] = (uint8_t)(1 + (h >> 40) % 16);
		r->src_mask = (uint8_t)(48 + (h >> 8) % 17);
		r->dst_mask = (uint8_t)(48 + (h >> 16) % 17);
	} else {
		r->src.family = r->dst.family = r->next_hop.family = ADDR_V4;
		/* sources in 10.0.0.0/8, destinations in 198.18.0.0/15 (RFC 2544) */
		r->src.bytes[0] = 10;
		r->src.bytes[1] = (uint8_t)(src_host >> 16);
		r->src.bytes[2] = (uint8_t)(src_host >> 8);
		r->src.bytes[3] = (uint8_t)src_host;
		dst_host %= 1u << 17;
		r->dst.bytes[0] = 198;
		r->dst.bytes[1] = (uint8_t)(18 + (dst_host >> 16));
		r->dst.bytes[2] = (uint8_t)(dst_host >> 8);
		r->dst.bytes[3] = (uint8_t)dst_host;
		r->next_hop.bytes[0] = 192;
		r->next_hop.bytes[1] = 0;
		r->next_hop.bytes[2] = 2;
		r->next_hop.bytes[3] = (uint8_t)(1 + (h >> 40) % 16);
		r->src_mask = (uint8_t)(16 + (h >> 8) % 17);
		r->dst_mask = (uint8_t)(16 + (h >> 16) % 17);
	}
	if (ph % 10 < 6) {
		r->dst_port = well_known[(ph >> 8) % (sizeof(well_known) / sizeof(well_known[0]))];
		r->proto = (r->dst_port == 53 || r->dst_port == 123 || r->dst_port == 161) ? 17 : 6;
	} else {
		r->dst_port = (uint16_t)(1024 + (ph >> 8) % 64512);
		r->proto = (ph >> 32) % 10 < 7 ? 6 : 17;
	}
	r->src_port = (uint16_t)(1024 + (ph >> 40) % 64512);
	r->tos = (h >> 24) % 8 == 0 ? 0xb8 : 0;
	r->src_as = 64496 + (uint32_t)((h >> 28) % 16);
	r->dst_as = 64496 + (uint32_t)((h >> 32) % 16);
	r->in_if = 1 + (uint32_t)((h >> 48) % 32);
	r->out_if = 1 + (uint32_t)((h >> 56) % 32);
}

static const uint8_t tcp_flag_mix[] = { 0x1b, 0x18, 0x10, 0x02, 0x12, 0x11, 0x1f, 0x14 };

uint32_t
gen_model_next(struct gen_model *m, int64_t now_ms, struct flow_record *out)
{
	uint64_t u = rng_below(&m->rng, m->total);
	uint32_t lo = 0, hi = m->p.keys - 1;
	uint64_t a, b, c, size, dur, age;

	/* first rank whose cumulative weight exceeds u */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (m->cache != NULL)
		*out = m->cache[lo];
	else
		gen_model_key(m, lo, out);
	/* packets 1..1000, the product of three uniforms: most flows are small */
	a = rng_below(&m->rng, 1000);
	b = rng_below(&m->rng, 1000);
	c = rng_below(&m->rng, 1000);
	out->packets = 1 + (a * b * c) / (999 * 999);
	size = 40 + rng_below(&m->rng, 1461);
	out->octets = out->packets * size;
	if (out->proto == 6)
		out->tcp_flags = tcp_flag_mix[rng_below(&m->rng, sizeof(tcp_flag_mix))];
	dur = rng_below(&m->rng, 60000);
	age = rng_below(&m->rng, 1000);
	out->end_ms = now_ms - (int64_t)age;
	out->start_ms = out->end_ms - (int64_t)dur;
	return lo;
}

/* ---- ground truth ---- */

struct port_count {
	uint64_t	 records, packets, octets;
};

struct addr_slot {
	struct addr	 addr;		/* family ADDR_NONE: empty */
	uint64_t	 records, packets, octets;
};

struct gen_truth {
	struct gen_counts total;
	struct gen_counts *exp;
	uint32_t	 n_exp;
	struct port_count *ports;	/* 65536 */
	struct addr_slot *slots;
	size_t		 n_slots;	/* power of two */
	size_t		 used;
};

struct gen_truth *
gen_truth_new(uint32_t exporters, uint32_t keys_hint)
{
	struct gen_truth *t;
	size_t n = 1024;

	while (n < (size_t)keys_hint / 4 && n < ((size_t)1 << 24))
		n <<= 1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->n_exp = exporters ? exporters : 1;
	t->exp = calloc(t->n_exp, sizeof(*t->exp));
	t->ports = calloc(65536, sizeof(*t->ports));
	t->slots = calloc(n, sizeof(*t->slots));
	t->n_slots = n;
	if (t->exp == NULL || t->ports == NULL || t->slots == NULL) {
		gen_truth_free(t);
		return NULL;
	}
	return t;
}

void
gen_truth_free(struct gen_truth *t)
{
	if (t == NULL)
		return;
	free(t->exp);
	free(t->ports);
	free(t->slots);
	free(t);
}

static size_t
addr_hash(const struct addr *a)
{
	uint64_t h = (uint64_t)a->family;

	for (int i = 0; i < 16; i += 8) {
		uint64_t w;

		memcpy(&w, a->bytes + i, 8);
		h = mix64(h ^ w);
	}
	return (size_t)h;
}

static bool
addr_same(const struct addr *a, const struct addr *b)
{
	size_t n = a->family == ADDR_V4 ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

static struct addr_slot *
slot_find(struct addr_slot *slots, size_t n, const struct addr *a)
{
	size_t i = addr_hash(a) & (n - 1);

	while (slots[i].addr.family != ADDR_NONE && !addr_same(&slots[i].addr, a))
		i = (i + 1) & (n - 1);
	return &slots[i];
}

static bool
slots_grow(struct gen_truth *t)
{
	size_t n = t->n_slots * 2;
	struct addr_slot *s = calloc(n, sizeof(*s));

	if (s == NULL)
		return false;
	for (size_t i = 0; i < t->n_slots; i++)
		if (t->slots[i].addr.family != ADDR_NONE)
			*slot_find(s, n, &t->slots[i].addr) = t->slots[i];
	free(t->slots);
	t->slots = s;
	t->n_slots = n;
	return true;
}

void
gen_truth_add_record(struct gen_truth *t, uint32_t exporter, const struct flow_record *r)
{
	struct gen_counts *e = &t->exp[exporter < t->n_exp ? exporter : 0];
	struct port_count *p = &t->ports[r->dst_port];
	struct addr_slot *s;
	struct addr key;

	t->total.records++;
	t->total.packets += r->packets;
	t->total.octets += r->octets;
	e->records++;
	e->packets += r->packets;
	e->octets += r->octets;
	p->records++;
	p->packets += r->packets;
	p->octets += r->octets;

	/* normalize: v4 keys compare on 4 bytes, the rest zero */
	memset(&key, 0, sizeof(key));
	key.family = r->src.family;
	memcpy(key.bytes, r->src.bytes, r->src.family == ADDR_V4 ? 4 : 16);
	if (key.family == ADDR_NONE)
		return;
	if ((t->used + 1) * 2 > t->n_slots && !slots_grow(t))
		return;		/* out of memory: top talkers by address incomplete */
	s = slot_find(t->slots, t->n_slots, &key);
	if (s->addr.family == ADDR_NONE) {
		s->addr = key;
		t->used++;
	}
	s->records++;
	s->packets += r->packets;
	s->octets += r->octets;
}

void
gen_truth_add_datagram(struct gen_truth *t, uint32_t exporter, size_t bytes)
{
	struct gen_counts *e = &t->exp[exporter < t->n_exp ? exporter : 0];

	t->total.datagrams++;
	t->total.bytes += bytes;
	e->datagrams++;
	e->bytes += bytes;
}

const struct gen_counts *
gen_truth_total(const struct gen_truth *t)
{
	return &t->total;
}

const struct gen_counts *
gen_truth_exporter(const struct gen_truth *t, uint32_t exporter)
{
	return exporter < t->n_exp ? &t->exp[exporter] : NULL;
}

static int
addr_cmp(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, 16);
}

/* Does x rank before y? More octets, then more packets, then lower key. */
static bool
talker_before(const struct gen_talker *x, const struct gen_talker *y, bool by_port)
{
	if (x->octets != y->octets)
		return x->octets > y->octets;
	if (x->packets != y->packets)
		return x->packets > y->packets;
	if (by_port)
		return x->port < y->port;
	return addr_cmp(&x->addr, &y->addr) < 0;
}

static void
top_insert(struct gen_talker *top, size_t *n, size_t max, const struct gen_talker *c, bool by_port)
{
	size_t i;

	if (max == 0)
		return;
	if (*n == max && !talker_before(c, &top[max - 1], by_port))
		return;
	i = *n < max ? (*n)++ : max - 1;
	while (i > 0 && talker_before(c, &top[i - 1], by_port)) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = *c;
}

size_t
gen_truth_top_dst_ports(const struct gen_truth *t, struct gen_talker *top, size_t max)
{
	size_t n = 0;

	for (uint32_t port = 0; port < 65536; port++) {
		const struct port_count *p = &t->ports[port];
		struct gen_talker c;

		if (p->records == 0)
			continue;
		memset(&c, 0, sizeof(c));
		c.port = (uint16_t)port;
		c.records = p->records;
		c.packets = p->packets;
		c.octets = p->octets;
		top_insert(top, &n, max, &c, true);
	}
	return n;
}

size_t
gen_truth_top_src_addrs(const struct gen_truth *t, struct gen_talker *top, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_slots; i++) {
		const struct addr_slot *s = &t->slots[i];
		struct gen_talker c;

		if (s->addr.family == ADDR_NONE)
			continue;
		memset(&c, 0, sizeof(c));
		c.addr = s->addr;
		c.records = s->records;
		c.packets = s->packets;
		c.octets = s->octets;
		top_insert(top, &n, max, &c, false);
	}
	return n;
}
