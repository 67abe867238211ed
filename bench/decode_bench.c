/*
 * decode_bench: in-process decode throughput of the collector core.
 *
 * Builds a ring of datagrams per version (NetFlow v5, v9, IPFIX) in memory
 * from flowpath-gen's seeded traffic model and encoders, then feeds the ring
 * repeatedly through collector_datagram() with a sink that touches every
 * record (sums its octets), for a fixed number of records per run. Reports
 * records/s per core from CPU time (CLOCK_PROCESS_CPUTIME_ID), the median of
 * several runs, and checks the decoded totals against what was encoded.
 *
 * Replaying a ring would look like an exporter restart to the collector
 * (sequence numbers going back, which forgets the exporter's templates), so
 * each datagram's header sequence number is advanced by one ring's worth per
 * pass just before it is fed: one 4-byte store per datagram, inside the
 * timed loop, like a datagram that has just arrived. The export clock is
 * the same for every datagram of the ring (uptime never goes back).
 *
 * With --aggregations N (N > 0) the sink does per record what flowpathd's
 * aggregate_record() (subagent/aggregate.c) does per aggregation: the
 * filter when it has one, key_pack() with its key spec, then agg_add() with
 * the sampling-corrected packets and octets. Keys rotate through AGG_KEYS
 * (dst_port, src_addr, dst_addr, ...), every 5th aggregation has the filter
 * "proto tcp and dst port 80,443" (--agg-filter 0: none), capacity
 * --agg-capacity (100 000), top --agg-top (100). Each run (and the warm-up)
 * ends with one agg_close() per aggregation, inside the timing: intervals
 * are not closed per record, but a run pays for one close.
 *
 * Build (see bench/run.sh):
 *   cc -O2 -I. bench/decode_bench.c collectors/{decode,netflow_v5,netflow_v9,
 *      ipfix,ie,template,exporter,collector}.c engine/{addr,units,key,agg,
 *      filter,prefix}.c tools/gen_encode.c tools/gen_traffic.c -lm -o decode_bench
 *
 * Usage: decode_bench [--version 5|9|10|all] [--datagrams N] [--records N]
 *                     [--runs N] [--exporters E] [--ipv6-share F] [--keys K]
 *                     [--skew S] [--max-size B] [--template-every N]
 *                     [--aggregations N] [--agg-capacity C] [--agg-top T]
 *                     [--agg-filter 0|1]
 * Output: one "key value" line per figure, prefixed with the version.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/collector.h"
#include "engine/agg.h"
#include "engine/filter.h"
#include "engine/key.h"
#include "tools/gen_encode.h"
#include "tools/gen_traffic.h"

#define MAX_EXPORTERS	64
#define MAX_RUNS	101
#define MAX_AGGS	64
#define AGG_FILTER	"proto tcp and dst port 80,443"

struct dgram {
	uint8_t		*buf;
	size_t		 len;
	uint32_t	 exporter;	/* index into the ring's sources */
	uint32_t	 seq0;		/* header sequence as encoded */
};

struct ring {
	uint8_t		 version;
	struct dgram	*d;
	size_t		 n;
	struct addr	 src[MAX_EXPORTERS];
	uint32_t	 seq_span[MAX_EXPORTERS];	/* sequence advance of one pass */
	uint32_t	 nexporters;
	uint64_t	 records;	/* data records in one pass */
	uint64_t	 octets;	/* their octets, as encoded */
	uint64_t	 bytes;
};

struct opts {
	int		 version;	/* 0 = all */
	size_t		 datagrams;
	uint64_t	 records;	/* per run */
	int		 runs;
	int		 exporters;	/* 0 = per version default */
	double		 ipv6_share;	/* < 0 = per version default */
	uint32_t	 keys;
	double		 skew;
	size_t		 max_size;
	uint32_t	 template_every;
	int		 aggregations;	/* 0 = the sink only sums octets */
	uint32_t	 agg_capacity;
	uint32_t	 agg_top;
	int		 agg_filter;	/* the filter on every 5th aggregation */
};

/*
 * Realistic keys, the reports of docs/aggregations.md: aggregation i uses
 * AGG_KEYS[i % AGG_NKEYS]. No network fields (they need a trie; a lookup
 * costs like a prefix_trie_lookup, see "Aggregation engine").
 */
static const struct key_spec AGG_KEYS[] = {
	{ { KEY_DST_PORT }, 1 },
	{ { KEY_SRC_ADDR }, 1 },
	{ { KEY_DST_ADDR }, 1 },
	{ { KEY_PROTO }, 1 },
	{ { KEY_SRC_ADDR, KEY_DST_PORT }, 2 },
	{ { KEY_SRC_PREFIX }, 1 },
	{ { KEY_DST_AS }, 1 },
	{ { KEY_IN_IF }, 1 },
	{ { KEY_SRC_ADDR, KEY_DST_ADDR }, 2 },
	{ { KEY_DST_ADDR, KEY_DST_PORT }, 2 },
	{ { KEY_NEXT_HOP }, 1 },
	{ { KEY_SRC_PORT }, 1 },
	{ { KEY_DST_PREFIX }, 1 },
	{ { KEY_SRC_AS }, 1 },
	{ { KEY_EXPORTER }, 1 },
	{ { KEY_OUT_IF }, 1 },
	{ { KEY_PROTO, KEY_DST_PORT }, 2 },
	{ { KEY_SRC_ADDR, KEY_DST_ADDR, KEY_PROTO, KEY_DST_PORT }, 4 },
	{ { KEY_TOS }, 1 },
	{ { KEY_SRC_AS, KEY_DST_AS }, 2 },
};
#define AGG_NKEYS	(sizeof(AGG_KEYS) / sizeof(AGG_KEYS[0]))

struct bench_agg {
	struct key_spec	 spec;
	struct filter	*filter;
	struct agg	*agg;
};

static struct bench_agg aggs[MAX_AGGS];
static int naggs;
static uint64_t agg_close_keys;		/* distinct keys at the last closes, all aggregations */
static uint64_t agg_close_evictions;

/* The sink: what an aggregation would at least do, read the record. */
static uint64_t sink_octets;
static uint64_t sink_records;

static void
sink(const struct flow_record *r, const struct sampled *s, void *arg)
{
	(void)arg;
	sink_octets += s->octets;
	sink_records++;
	/* As aggregate_record() in subagent/aggregate.c. */
	for (int i = 0; i < naggs; i++) {
		struct bench_agg *a = &aggs[i];
		uint8_t key[KEY_MAX_BYTES];

		if (a->filter != NULL && !filter_match(a->filter, r, NULL, NULL))
			continue;
		key_pack(&a->spec, r, NULL, NULL, key);
		agg_add(a->agg, key, s->packets, s->octets);
	}
}

static void
die(const char *msg)
{
	fprintf(stderr, "decode_bench: %s\n", msg);
	exit(1);
}

static void
aggs_setup(const struct opts *o)
{
	for (int i = 0; i < o->aggregations; i++) {
		struct bench_agg *a = &aggs[i];
		struct filter_error err;
		struct agg_params p;

		a->spec = AGG_KEYS[(size_t)i % AGG_NKEYS];
		p = (struct agg_params){ .keylen = key_len(&a->spec), .top = o->agg_top,
		    .capacity = o->agg_capacity, .retention = 12 };
		if ((a->agg = agg_new(&p)) == NULL)
			die("agg_new");
		a->filter = NULL;
		if (o->agg_filter && i % 5 == 4 &&
		    (a->filter = filter_compile(AGG_FILTER, NULL, NULL, &err)) == NULL)
			die(err.msg);
	}
	naggs = o->aggregations;
}

static void
aggs_free(void)
{
	for (int i = 0; i < naggs; i++) {
		agg_free(aggs[i].agg);
		filter_free(aggs[i].filter);
	}
	naggs = 0;
}

/* One close per aggregation: the end of an interval, timed with the run. */
static void
aggs_close(int64_t now_ms)
{
	agg_close_keys = agg_close_evictions = 0;
	for (int i = 0; i < naggs; i++) {
		struct agg_snapshot *snap = agg_close(aggs[i].agg, now_ms - 300000, now_ms);

		if (snap == NULL)
			die("agg_close: out of memory");
		agg_close_keys += snap->keys;
		agg_close_evictions += snap->evictions;
		agg_snapshot_free(snap);
	}
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t
seq_offset(uint8_t version)
{
	switch (version) {
	case 5:
		return 16;	/* flow_sequence */
	case 9:
		return 12;	/* package sequence */
	default:
		return 8;	/* IPFIX sequence number */
	}
}

static void
ring_build(struct ring *r, uint8_t version, const struct opts *o)
{
	struct gen_model_params mp = {
		.seed = 1, .keys = o->keys, .skew = o->skew,
		.ipv6_share = o->ipv6_share >= 0 ? o->ipv6_share : (version == 5 ? 0 : 0.2),
	};
	struct gen_enc enc[MAX_EXPORTERS];
	struct gen_clock now = { .uptime_ms = 3600000, .unix_secs = 1700000000, .unix_nsecs = 0 };
	struct gen_model *model;
	struct flow_record rec, carry;
	bool have_carry = false;
	const char *why;
	uint32_t nexp = o->exporters > 0 ? (uint32_t)o->exporters : (version == 5 ? 1 : 4);
	uint8_t *arena;

	memset(r, 0, sizeof(*r));
	r->version = version;
	r->nexporters = nexp;
	if ((model = gen_model_new(&mp, &why)) == NULL)
		die(why);
	for (uint32_t i = 0; i < nexp; i++) {
		if ((why = gen_enc_init(&enc[i], version, 0, 1, o->template_every)) != NULL)
			die(why);
		addr_parse("127.0.0.1", &r->src[i]);
		r->src[i].bytes[3] = (uint8_t)(1 + i);	/* 127.0.0.1 .. 127.0.0.E, like flowpath-gen */
	}
	r->d = calloc(o->datagrams, sizeof(*r->d));
	arena = malloc(o->datagrams * o->max_size);
	if (r->d == NULL || arena == NULL)
		die("out of memory");
	for (size_t i = 0; i < o->datagrams; i++) {
		struct dgram *d = &r->d[i];
		uint32_t x = (uint32_t)(i % nexp);
		struct gen_msg m;

		d->buf = arena + i * o->max_size;
		d->exporter = x;
		d->seq0 = enc[x].sequence;
		if (!gen_msg_begin(&m, &enc[x], d->buf, o->max_size, &now))
			die("max-size too small");
		for (;;) {
			enum gen_add a;

			if (have_carry) {
				rec = carry;
				have_carry = false;
			} else
				gen_model_next(model, (int64_t)now.unix_secs * 1000, &rec);
			a = gen_msg_add(&m, &rec);
			if (a == GEN_ADD_FULL) {
				carry = rec;
				have_carry = true;
				break;
			}
			if (a != GEN_ADD_OK)
				die("record not encodable");
			r->records++;
			r->octets += rec.octets;
		}
		d->len = gen_msg_finish(&m);
		r->bytes += d->len;
	}
	r->n = o->datagrams;
	for (uint32_t i = 0; i < nexp; i++)
		r->seq_span[i] = enc[i].sequence;
	gen_model_free(model);
}

/* One pass over the ring; pass numbers continue the sequence numbers. */
static void
ring_pass(const struct ring *r, struct collector *c, uint64_t pass)
{
	size_t off = seq_offset(r->version);

	for (size_t i = 0; i < r->n; i++) {
		struct dgram *d = &r->d[i];

		put_be32(d->buf + off, d->seq0 + (uint32_t)pass * r->seq_span[d->exporter]);
		collector_datagram(c, d->buf, d->len, &r->src[d->exporter],
		    (int64_t)(pass * r->n + i) * 1000);
	}
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static const char *
vname(uint8_t v)
{
	return v == 5 ? "v5" : v == 9 ? "v9" : "ipfix";
}

/*
 * The timed work. A separate function so that callgrind can count only it:
 * valgrind --tool=callgrind --toggle-collect=bench_run ...
 */
__attribute__((noinline)) void
bench_run(const struct ring *r, struct collector *c, uint64_t first_pass, uint64_t passes)
{
	for (uint64_t p = 0; p < passes; p++)
		ring_pass(r, c, first_pass + p);
	if (naggs > 0)
		aggs_close((int64_t)(first_pass + passes) * 300000);
}

static void
bench_version(uint8_t version, const struct opts *o)
{
	struct ring r;
	struct collector *c;
	const struct collector_stats *st;
	double rate[MAX_RUNS], cpu_ns[MAX_RUNS], wall_ratio[MAX_RUNS];
	uint64_t passes, pass = 0;
	const char *n = vname(version);

	ring_build(&r, version, o);
	aggs_setup(o);
	if ((c = collector_new(MAX_EXPORTERS, &(struct tmpl_limits){ 0 })) == NULL)
		die("collector_new");
	collector_set_sink(c, sink, NULL);

	/* Warm-up and check: one pass must give back exactly what was encoded. */
	sink_octets = sink_records = 0;
	bench_run(&r, c, pass, 1);
	pass++;
	st = collector_stats(c);
	if (sink_records != r.records || sink_octets != r.octets || st->decode_errors != 0)
		fprintf(stderr, "decode_bench: %s MISMATCH: decoded %" PRIu64 " records %" PRIu64
		    " octets (%" PRIu64 " errors), encoded %" PRIu64 " records %" PRIu64 " octets\n",
		    n, sink_records, sink_octets, st->decode_errors, r.records, r.octets);
	printf("%s.datagrams %zu\n", n, r.n);
	printf("%s.exporters %u\n", n, r.nexporters);
	printf("%s.records_per_datagram %.2f\n", n, (double)r.records / (double)r.n);
	printf("%s.bytes_per_datagram %.1f\n", n, (double)r.bytes / (double)r.n);
	if (naggs > 0)
		printf("%s.aggregations %d keys_at_close %" PRIu64 " evictions %" PRIu64 "\n",
		    n, naggs, agg_close_keys, agg_close_evictions);
	printf("%s.check %s\n", n, sink_records == r.records && sink_octets == r.octets &&
	    st->decode_errors == 0 ? "ok" : "MISMATCH");

	passes = (o->records + r.records - 1) / r.records;
	for (int i = 0; i < o->runs; i++) {
		uint64_t before = sink_records;
		double c0 = cpu_seconds(), w0 = wall_seconds(), c1, w1, recs;

		bench_run(&r, c, pass, passes);
		c1 = cpu_seconds();
		w1 = wall_seconds();
		pass += passes;
		recs = (double)(sink_records - before);
		rate[i] = recs / (c1 - c0);
		cpu_ns[i] = (c1 - c0) * 1e9 / recs;
		wall_ratio[i] = (c1 - c0) / (w1 - w0);
		printf("%s.run.%d records %.0f cpu_s %.3f wall_s %.3f records_per_cpu_s %.0f\n",
		    n, i + 1, recs, c1 - c0, w1 - w0, rate[i]);
	}
	st = collector_stats(c);
	if (st->decode_errors != 0 || st->records != sink_records)
		printf("%s.warning decode_errors %" PRIu64 " stats.records %" PRIu64
		    " sink %" PRIu64 "\n", n, st->decode_errors, st->records, sink_records);
	qsort(rate, (size_t)o->runs, sizeof(double), cmp_double);
	qsort(cpu_ns, (size_t)o->runs, sizeof(double), cmp_double);
	qsort(wall_ratio, (size_t)o->runs, sizeof(double), cmp_double);
	printf("%s.records_per_cpu_s.median %.0f\n", n, rate[o->runs / 2]);
	printf("%s.records_per_cpu_s.min %.0f\n", n, rate[0]);
	printf("%s.records_per_cpu_s.max %.0f\n", n, rate[o->runs - 1]);
	printf("%s.ns_per_record.median %.1f\n", n, cpu_ns[o->runs / 2]);
	printf("%s.cpu_over_wall.median %.2f\n", n, wall_ratio[o->runs / 2]);
	if (naggs > 0)
		printf("%s.aggregations_last_run keys_at_close %" PRIu64 " evictions %" PRIu64 "\n",
		    n, agg_close_keys, agg_close_evictions);
	aggs_free();
	collector_free(c);
	free(r.d[0].buf);
	free(r.d);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "version", required_argument, NULL, 'v' },
		{ "datagrams", required_argument, NULL, 'd' },
		{ "records", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "exporters", required_argument, NULL, 'e' },
		{ "ipv6-share", required_argument, NULL, '6' },
		{ "keys", required_argument, NULL, 'k' },
		{ "skew", required_argument, NULL, 's' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "template-every", required_argument, NULL, 'T' },
		{ "aggregations", required_argument, NULL, 'A' },
		{ "agg-capacity", required_argument, NULL, 'C' },
		{ "agg-top", required_argument, NULL, 'N' },
		{ "agg-filter", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = {
		.version = 0, .datagrams = 4096, .records = 20000000, .runs = 5,
		.exporters = 0, .ipv6_share = -1, .keys = 10000, .skew = 1.0,
		.max_size = GEN_DEFAULT_MAX_SIZE, .template_every = 20,
		.aggregations = 0, .agg_capacity = 100000, .agg_top = 100, .agg_filter = 1,
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "v:d:n:r:e:6:k:s:M:T:A:C:N:F:", lo, NULL)) != -1) {
		switch (ch) {
		case 'v':
			o.version = strcmp(optarg, "all") == 0 ? 0 : atoi(optarg);
			break;
		case 'd':
			o.datagrams = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o.records = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			o.runs = atoi(optarg);
			break;
		case 'e':
			o.exporters = atoi(optarg);
			break;
		case '6':
			o.ipv6_share = atof(optarg);
			break;
		case 'k':
			o.keys = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o.skew = atof(optarg);
			break;
		case 'M':
			o.max_size = strtoul(optarg, NULL, 10);
			break;
		case 'T':
			o.template_every = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'A':
			o.aggregations = atoi(optarg);
			break;
		case 'C':
			o.agg_capacity = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'N':
			o.agg_top = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'F':
			o.agg_filter = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: decode_bench [--version 5|9|10|all] [--datagrams N] "
			    "[--records N] [--runs N] [--exporters E] [--ipv6-share F] [--keys K] "
			    "[--skew S] [--max-size B] [--template-every N] [--aggregations N] "
			    "[--agg-capacity C] [--agg-top T] [--agg-filter 0|1]\n");
			return 2;
		}
	}
	if (o.version != 0 && o.version != 5 && o.version != 9 && o.version != 10)
		die("--version 5, 9, 10 or all");
	if (o.runs < 1 || o.runs > MAX_RUNS || o.datagrams < 1 || o.records < 1 ||
	    o.exporters < 0 || o.exporters > MAX_EXPORTERS || o.max_size < 100 ||
	    o.max_size > GEN_MAX_DATAGRAM || o.aggregations < 0 || o.aggregations > MAX_AGGS ||
	    o.agg_top < 1 || o.agg_capacity < o.agg_top)
		die("bad arguments");
	printf("config.datagrams %zu\nconfig.records_per_run %" PRIu64 "\nconfig.runs %d\n"
	    "config.keys %u\nconfig.skew %.2f\nconfig.max_size %zu\nconfig.template_every %u\n"
	    "config.aggregations %d\n",
	    o.datagrams, o.records, o.runs, o.keys, o.skew, o.max_size, o.template_every,
	    o.aggregations);
	for (int i = 0; i < o.aggregations; i++) {
		const struct key_spec *k = &AGG_KEYS[(size_t)i % AGG_NKEYS];

		printf("config.aggregation.%d", i + 1);
		for (size_t f = 0; f < k->nfields; f++)
			printf("%s%s", f ? "+" : " ", key_field_name(k->field[f]));
		if (o.agg_filter && i % 5 == 4)
			printf(" filter \"%s\"", AGG_FILTER);
		printf(" capacity %u top %u\n", o.agg_capacity, o.agg_top);
	}
	if (o.version == 0 || o.version == 5)
		bench_version(5, &o);
	if (o.version == 0 || o.version == 9)
		bench_version(9, &o);
	if (o.version == 0 || o.version == 10)
		bench_version(10, &o);
	return 0;
}
