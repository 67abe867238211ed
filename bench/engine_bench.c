/*
 * Per-record costs of the aggregation engine's pure parts: key_pack,
 * filter_match and longest-prefix lookups. Median of 5 runs, CPU time.
 *   cc -O2 -I. bench/engine_bench.c engine/*.c -o /tmp/engine_bench && /tmp/engine_bench
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/filter.h"
#include "engine/key.h"
#include "engine/prefix.h"

#define RUNS 5

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

static uint64_t rng = 88172645463325252ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void
records(struct flow_record *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].src.family = r[i].dst.family = ADDR_V4;
		uint32_t s = rnd(), d = rnd();
		memcpy(r[i].src.bytes, &s, 4);
		memcpy(r[i].dst.bytes, &d, 4);
		r[i].src_port = (uint16_t)rnd();
		r[i].dst_port = (uint16_t)(i % 3 == 0 ? 443 : rnd());
		r[i].proto = i % 4 == 0 ? 17 : 6;
		r[i].packets = 10;
		r[i].octets = 5000;
	}
}

int
main(void)
{
	enum { N = 4096, LOOPS = 2000 };
	static struct flow_record r[N];
	struct key_spec spec = { { KEY_SRC_ADDR, KEY_DST_PORT }, 2 };
	struct filter_error ferr;
	struct filter *f = filter_compile("proto tcp and dst port 80,443", NULL, NULL, &ferr);
	struct prefix_trie *t = prefix_trie_new();
	uint8_t key[KEY_MAX_BYTES];
	double v[RUNS], t0;
	unsigned sink = 0;

	if (f == NULL || t == NULL)
		return 1;
	records(r, N);
	for (int k = 0; k < RUNS; k++) {
		t0 = cpu_s();
		for (int l = 0; l < LOOPS; l++)
			for (size_t i = 0; i < N; i++) {
				key_pack(&spec, &r[i], NULL, NULL, key);
				sink += key[3];
			}
		v[k] = (cpu_s() - t0) * 1e9 / ((double)N * LOOPS);
	}
	printf("key_pack.src_addr_dst_port.ns %.1f\n", median(v));
	for (int k = 0; k < RUNS; k++) {
		t0 = cpu_s();
		for (int l = 0; l < LOOPS; l++)
			for (size_t i = 0; i < N; i++)
				sink += filter_match(f, &r[i], NULL, NULL);
		v[k] = (cpu_s() - t0) * 1e9 / ((double)N * LOOPS);
	}
	printf("filter_match.proto_tcp_dst_port_80_443.ns %.1f\n", median(v));
	t0 = cpu_s();
	for (uint32_t i = 0; i < 100000; i++) {
		struct addr_prefix p = { .addr = { .family = ADDR_V4 }, .len = (uint8_t)(16 + rnd() % 9) };
		uint32_t a = rnd() & (0xffffffffu << (32 - p.len));

		p.addr.bytes[0] = (uint8_t)(a >> 24);
		p.addr.bytes[1] = (uint8_t)(a >> 16);
		p.addr.bytes[2] = (uint8_t)(a >> 8);
		p.addr.bytes[3] = (uint8_t)a;
		prefix_trie_insert(t, &p, (uint16_t)(i % 1000));
	}
	printf("prefix_trie.insert_100k_v4.s %.3f\n", cpu_s() - t0);
	for (int k = 0; k < RUNS; k++) {
		t0 = cpu_s();
		for (int l = 0; l < LOOPS / 4; l++)
			for (size_t i = 0; i < N; i++)
				sink += prefix_trie_lookup(t, &r[i].dst);
		v[k] = ((double)N * (LOOPS / 4)) / (cpu_s() - t0);
	}
	printf("prefix_trie.lookup_100k_v4.per_s %.0f\n", median(v));
	fprintf(stderr, "(sink %u)\n", sink);
	filter_free(f);
	prefix_trie_free(t);
	return 0;
}
