/*
 * agg_bench: engine/agg throughput and memory.
 *
 * 16-byte keys made from a key number by two multiplications (in the timed
 * loop, like a key packed from a record that has just been decoded), visited
 * in a scattered order (key number = i * a large odd constant mod distinct).
 *
 *   existing  capacity = distinct keys, all inserted before the timing: the
 *             steady state of an exact aggregation (hash, probe, compare,
 *             three additions).
 *   skewed    1 M distinct keys into a capacity of 100 000, log-uniform
 *             popularity: most adds hit tracked keys and sift in the heap,
 *             the tail evicts.
 *   flood     1 M distinct keys, each seen in turn, into a capacity of
 *             100 000: every add evicts (the worst case), then RSS.
 *
 * adds/s is from CPU time (CLOCK_PROCESS_CPUTIME_ID), the median of --runs
 * runs. RSS is VmRSS from /proc/self/status before agg_new and after the
 * flood, and VmHWM (the peak).
 *
 *   --memory CAP  only this, in a fresh process: one aggregation keyed on
 *             src_addr (key_pack, 17-byte keys) of capacity CAP, top 100,
 *             fed --keys distinct IPv4 source addresses (default 1 M), one
 *             flow each, octets 64..1500: VmRSS before agg_new, after it,
 *             after the flood and after agg_close/agg_free, VmHWM, the
 *             evictions and the keys tracked.
 *
 * Build: cc -O2 -I. bench/agg_bench.c engine/[a-z]*.c -o agg_bench
 * Usage: agg_bench [--adds N] [--runs N]
 *        agg_bench --memory CAP [--keys N]
 * Output: one "name value" line per figure.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/agg.h"
#include "engine/key.h"

#define KLEN		16
#define MAX_RUNS	15
#define SCATTER		UINT64_C(0x9e3779b97f4a7c15)

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* kB of a /proc/self/status line ("VmRSS:"), or -1. */
static long
status_kb(const char *name)
{
	char line[256];
	size_t n = strlen(name);
	long kb = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0) {
			kb = strtol(line + n, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static void
mkkey(uint8_t *k, uint64_t id)
{
	uint64_t a = (id + 1) * SCATTER, b = (id ^ UINT64_C(0xa5a5a5a5)) * UINT64_C(0xff51afd7ed558ccd);

	memcpy(k, &a, 8);
	memcpy(k + 8, &b, 8);
}

static struct agg *
mkagg(uint32_t capacity)
{
	struct agg_params p = { .keylen = KLEN, .top = 100,
	    .capacity = capacity, .retention = 0 };
	struct agg *a;

	if ((a = agg_new(&p)) == NULL) {
		fprintf(stderr, "agg_new failed\n");
		exit(1);
	}
	return a;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Adds/s of `adds` flows over `distinct` keys already in a table that holds them all. */
static double
run_existing(uint64_t distinct, uint64_t adds)
{
	struct agg *a = mkagg((uint32_t)distinct);
	uint8_t k[KLEN];
	uint64_t i;
	double t0, t1;

	for (i = 0; i < distinct; i++) {
		mkkey(k, i);
		agg_add(a, k, 1, 100);
	}
	t0 = cpu_now();
	for (i = 0; i < adds; i++) {
		mkkey(k, (i * SCATTER) % distinct);
		agg_add(a, k, 1, 64 + (i & 1023));
	}
	t1 = cpu_now();
	if (agg_running_keys(a) != distinct || agg_evictions_total(a) != 0) {
		fprintf(stderr, "existing: table lost keys\n");
		exit(1);
	}
	agg_free(a);
	return adds / (t1 - t0);
}

/* Log-uniform popularity: key number u >> s, s uniform in 0..19. */
static double
run_skewed(uint64_t distinct, uint32_t capacity, uint64_t adds, uint64_t *evictions)
{
	struct agg *a = mkagg(capacity);
	uint8_t k[KLEN];
	uint64_t i, x = 1;
	double t0, t1;

	t0 = cpu_now();
	for (i = 0; i < adds; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mkkey(k, (x % distinct) >> (x >> 59 & 15));
		agg_add(a, k, 1, 64 + (i & 1023));
	}
	t1 = cpu_now();
	*evictions = agg_evictions_total(a);
	agg_free(a);
	return adds / (t1 - t0);
}

/* Every add a new key: the whole table turns over every `capacity` adds. */
static double
run_flood(uint64_t distinct, uint32_t capacity, uint64_t adds, long *rss_kb,
    double *close_s)
{
	struct agg_snapshot *snap;
	struct agg *a = mkagg(capacity);
	uint8_t k[KLEN];
	uint64_t i;
	double t0, t1;

	t0 = cpu_now();
	for (i = 0; i < adds; i++) {
		mkkey(k, i % distinct);
		agg_add(a, k, 1, 64 + (i & 1023));
	}
	t1 = cpu_now();
	*rss_kb = status_kb("VmRSS:");
	*close_s = cpu_now();
	if ((snap = agg_close(a, 0, 300000)) == NULL) {
		fprintf(stderr, "agg_close failed\n");
		exit(1);
	}
	*close_s = cpu_now() - *close_s;
	agg_snapshot_free(snap);
	agg_free(a);
	return adds / (t1 - t0);
}

/* A flood of `keys` distinct src_addr keys into one aggregation of capacity cap. */
static int
run_memory(uint32_t cap, uint64_t keys)
{
	static const struct key_spec spec = { { KEY_SRC_ADDR }, 1 };
	struct agg_params p = { .keylen = key_len(&spec), .top = 100, .capacity = cap,
	    .retention = 12 };
	struct flow_record rec;
	struct agg_snapshot *snap;
	uint8_t key[KEY_MAX_BYTES];
	struct agg *a;
	long rss0, rss_new, rss_flood, rss_close, rss_free;
	double t0, t1;
	uint64_t i, x = 1;

	rss0 = status_kb("VmRSS:");
	if ((a = agg_new(&p)) == NULL) {
		fprintf(stderr, "agg_new(capacity %u) failed\n", cap);
		return 1;
	}
	rss_new = status_kb("VmRSS:");
	memset(&rec, 0, sizeof(rec));
	rec.src.family = ADDR_V4;
	t0 = cpu_now();
	for (i = 0; i < keys; i++) {
		/* 10.0.0.0/8 then 11/8...: distinct for up to 2^32 - 2^27 keys */
		uint32_t v = (uint32_t)(0x0a000000u + i);

		rec.src.bytes[0] = (uint8_t)(v >> 24);
		rec.src.bytes[1] = (uint8_t)(v >> 16);
		rec.src.bytes[2] = (uint8_t)(v >> 8);
		rec.src.bytes[3] = (uint8_t)v;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		key_pack(&spec, &rec, NULL, NULL, key);
		agg_add(a, key, 1, 64 + x % 1437);
	}
	t1 = cpu_now();
	rss_flood = status_kb("VmRSS:");
	printf("memory.capacity %u\n", cap);
	printf("memory.keylen %zu\n", p.keylen);
	printf("memory.distinct_keys_added %" PRIu64 "\n", keys);
	printf("memory.keys_tracked %u\n", agg_running_keys(a));
	printf("memory.evictions %" PRIu64 "\n", agg_evictions_total(a));
	printf("memory.adds_per_cpu_s %.0f\n", keys / (t1 - t0));
	printf("memory.rss_before_agg_new_kb %ld\n", rss0);
	printf("memory.rss_after_agg_new_kb %ld\n", rss_new);
	printf("memory.rss_after_flood_kb %ld\n", rss_flood);
	printf("memory.rss_flood_minus_before_kb %ld\n", rss_flood - rss0);
	printf("memory.bytes_per_tracked_key %.1f\n",
	    (rss_flood - rss0) * 1024.0 / agg_running_keys(a));
	t0 = cpu_now();
	if ((snap = agg_close(a, 0, 300000)) == NULL) {
		fprintf(stderr, "agg_close failed\n");
		return 1;
	}
	t1 = cpu_now();
	rss_close = status_kb("VmRSS:");
	printf("memory.close_ms %.2f\n", (t1 - t0) * 1e3);
	printf("memory.close_rows %zu keys %u evictions %" PRIu64 "\n", snap->nrows,
	    snap->keys, snap->evictions);
	printf("memory.rss_after_close_kb %ld\n", rss_close);
	agg_snapshot_free(snap);
	agg_free(a);
	rss_free = status_kb("VmRSS:");
	printf("memory.rss_after_free_kb %ld\n", rss_free);
	printf("memory.rss_peak_kb %ld\n", status_kb("VmHWM:"));
	return 0;
}

int
main(int argc, char **argv)
{
	static const uint64_t sizes[] = { 1000, 100000, 1000000 };
	static const struct option opts[] = {
		{ "adds", required_argument, NULL, 'a' },
		{ "runs", required_argument, NULL, 'r' },
		{ "memory", required_argument, NULL, 'm' },
		{ "keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	double v[MAX_RUNS], close_s = 0;
	uint64_t adds = 20000000, ev = 0;
	long rss0, rss = 0, rss1;
	uint64_t mem_keys = 1000000;
	uint32_t mem_cap = 0;
	int runs = 5, c, r;
	size_t s;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			adds = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'm':
			mem_cap = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			mem_keys = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: agg_bench [--adds N] [--runs N]\n"
			    "       agg_bench --memory CAP [--keys N]\n");
			return 2;
		}
	}
	if (mem_cap > 0)
		return run_memory(mem_cap, mem_keys);
	if (runs < 1 || runs > MAX_RUNS || adds == 0) {
		fprintf(stderr, "agg_bench: --runs 1..%d, --adds > 0\n", MAX_RUNS);
		return 2;
	}

	/* First, so that no earlier table inflates the RSS figures. */
	rss0 = status_kb("VmRSS:");
	/* RSS of the first run: later ones may reuse memory glibc kept. */
	for (r = 0; r < runs; r++)
		v[r] = run_flood(1000000, 100000, adds, r == 0 ? &rss : &rss1,
		    &close_s);
	printf("flood_1000000_keys_cap_100000_adds_per_s %.0f\n", median(v, runs));
	printf("flood_close_top_100_ms %.2f\n", close_s * 1e3);
	printf("rss_before_kb %ld\n", rss0);
	printf("rss_flood_1000000_keys_cap_100000_kb %ld\n", rss);
	printf("rss_flood_delta_kb %ld\n", rss - rss0);
	printf("rss_peak_after_flood_kb %ld\n", status_kb("VmHWM:"));

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (r = 0; r < runs; r++)
			v[r] = run_existing(sizes[s], adds);
		printf("existing_%" PRIu64 "_keys_adds_per_s %.0f\n", sizes[s],
		    median(v, runs));
	}
	for (r = 0; r < runs; r++)
		v[r] = run_skewed(1000000, 100000, adds, &ev);
	printf("skewed_1000000_keys_cap_100000_adds_per_s %.0f\n", median(v, runs));
	printf("skewed_1000000_keys_cap_100000_evictions %" PRIu64 "\n", ev);

	return 0;
}
