/*
 * The collector core with real NetFlow v5 datagrams built here: the allow
 * list, unknown versions, the exporter cap (refused before decoding),
 * sampling correction (header and override), the sink, and totals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "collectors/collector.h"
#include "tools/gen_encode.h"
#include "tools/gen_traffic.h"

static size_t
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
	return 4;
}

/* A v5 datagram of n records, each with `packets` packets of 100 octets. */
static size_t
v5(uint8_t *buf, uint16_t n, uint32_t seq, uint16_t sampling, uint32_t packets)
{
	uint8_t *p = buf;

	memset(buf, 0, 24 + 48u * n);
	p += put16(p, 5);
	p += put16(p, n);
	p += put32(p, 100000);		/* sysUptime */
	p += put32(p, 1700000000);	/* unix_secs */
	p += put32(p, 0);
	p += put32(p, seq);
	*p++ = 0;			/* engine type */
	*p++ = 7;			/* engine id */
	p += put16(p, sampling);
	for (uint16_t i = 0; i < n; i++) {
		uint8_t *r = p + 48u * i;

		put32(r, 0x0a000001 + i);	/* src 10.0.0.x */
		put32(r + 4, 0x0a010001);
		put32(r + 16, packets);
		put32(r + 20, packets * 100);
		put32(r + 24, 90000);
		put32(r + 28, 99000);
		put16(r + 32, 1234);
		put16(r + 34, 80);
		r[38] = 6;
	}
	return 24 + 48u * n;
}

static struct addr
ip4(uint8_t last)
{
	struct addr a = { .family = ADDR_V4, .bytes = { 127, 0, 0, last } };

	return a;
}

struct sink {
	size_t	 n;
	uint64_t packets, octets;
	uint32_t last_sampling;
};

static void
sink(const struct flow_record *r, const struct sampled *sc, void *arg)
{
	struct sink *s = arg;

	(void)r;
	s->n++;
	s->packets += sc->packets;
	s->octets += sc->octets;
	s->last_sampling = sc->rate;
}

static const struct exporter *
only_exporter(const struct collector *c, size_t expect)
{
	const struct exporter *rows[8];

	assert_int_equal(exporter_sorted(collector_exporters(c), rows, 8), expect);
	return rows[0];
}

static void
test_records_reach_the_sink_and_the_totals(void **state)
{
	struct collector *c = collector_new(10, &(struct tmpl_limits){ 0 });
	struct sink s = { 0 };
	uint8_t buf[2048];
	struct addr a = ip4(1);

	(void)state;
	collector_set_sink(c, sink, &s);
	assert_int_equal(collector_datagram(c, buf, v5(buf, 3, 0, 0, 2), &a, 1000), DECODE_OK);
	assert_int_equal(collector_datagram(c, buf, v5(buf, 2, 3, 0, 5), &a, 2000), DECODE_OK);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.packets, 3 * 2 + 2 * 5);
	assert_int_equal(s.octets, (3 * 2 + 2 * 5) * 100);
	const struct collector_stats *st = collector_stats(c);
	assert_int_equal(st->datagrams, 2);
	assert_int_equal(st->bytes, 24 + 48 * 3 + 24 + 48 * 2);
	assert_int_equal(st->records, 5);
	assert_int_equal(st->packets, 16);
	assert_int_equal(st->octets, 1600);
	const struct exporter *e = only_exporter(c, 1);
	assert_int_equal(e->domain, 7);
	assert_int_equal(e->records, 5);
	assert_int_equal(e->packets, 16);
	assert_int_equal(e->lost, 0);
	assert_int_equal(e->sampling, 1);
	assert_int_equal(e->sampling_source, SAMPLING_NONE);
	assert_int_equal(e->first_seen_ns, 1000);
	assert_int_equal(e->last_seen_ns, 2000);
	collector_free(c);
}

static void
test_header_sampling_scales_counts(void **state)
{
	struct collector *c = collector_new(10, &(struct tmpl_limits){ 0 });
	struct sink s = { 0 };
	uint8_t buf[2048];
	struct addr a = ip4(1);

	(void)state;
	collector_set_sink(c, sink, &s);
	/* Mode 01 (deterministic) in the top two bits, interval 100. */
	collector_datagram(c, buf, v5(buf, 2, 0, 0x4000 | 100, 3), &a, 1);
	assert_int_equal(s.packets, 2 * 3 * 100);
	assert_int_equal(s.last_sampling, 100);
	const struct exporter *e = only_exporter(c, 1);
	assert_int_equal(e->packets, 600);
	assert_int_equal(e->octets, 60000);
	assert_int_equal(e->records, 2);
	assert_int_equal(e->sampling, 100);
	assert_int_equal(e->sampling_source, SAMPLING_HEADER);
	collector_free(c);
}

static void
test_configured_override_wins_over_the_header(void **state)
{
	struct collector *c = collector_new(10, &(struct tmpl_limits){ 0 });
	struct addr a = ip4(2), other = ip4(3);
	uint32_t rate = 10;
	struct collector_settings set = { .override_addr = &a, .override_rate = &rate,
	    .noverrides = 1 };
	uint8_t buf[2048];

	(void)state;
	assert_int_equal(collector_configure(c, &set), 0);
	collector_datagram(c, buf, v5(buf, 1, 0, 100, 4), &a, 1);
	collector_datagram(c, buf, v5(buf, 1, 0, 0, 4), &other, 1);
	const struct exporter *rows[4];
	assert_int_equal(exporter_sorted(collector_exporters(c), rows, 4), 2);
	assert_int_equal(rows[0]->packets, 40);
	assert_int_equal(rows[0]->sampling, 10);
	assert_int_equal(rows[0]->sampling_source, SAMPLING_CONFIG);
	assert_int_equal(rows[1]->packets, 4);
	assert_int_equal(rows[1]->sampling_source, SAMPLING_NONE);
	collector_free(c);
}

static void
test_allow_list_drops_and_counts_other_sources(void **state)
{
	struct collector *c = collector_new(10, &(struct tmpl_limits){ 0 });
	struct addr_prefix allow;
	struct addr in = ip4(9), out = { .family = ADDR_V4, .bytes = { 192, 0, 2, 1 } };
	struct sink s = { 0 };
	uint8_t buf[2048];

	(void)state;
	assert_null(addr_parse_prefix("127.0.0.0/8", &allow));
	assert_int_equal(collector_configure(c, &(struct collector_settings){
	    .allow = &allow, .nallow = 1 }), 0);
	collector_set_sink(c, sink, &s);
	collector_datagram(c, buf, v5(buf, 1, 0, 0, 1), &out, 1);
	collector_datagram(c, buf, v5(buf, 1, 0, 0, 1), &in, 1);
	assert_int_equal(collector_stats(c)->denied, 1);
	assert_int_equal(collector_stats(c)->datagrams, 2);
	assert_int_equal(s.n, 1);
	only_exporter(c, 1);
	collector_free(c);
}

static void
test_unknown_version_is_counted_without_a_row(void **state)
{
	struct collector *c = collector_new(10, &(struct tmpl_limits){ 0 });
	uint8_t junk[32] = { 0, 7 };
	struct addr a = ip4(1);

	(void)state;
	assert_int_equal(collector_datagram(c, junk, sizeof(junk), &a, 1), DECODE_ERR_VERSION);
	assert_int_equal(collector_datagram(c, junk, 1, &a, 1), DECODE_ERR_VERSION);
	assert_int_equal(collector_stats(c)->unknown_version, 2);
	assert_int_equal(collector_stats(c)->decode_errors, 2);
	assert_int_equal(exporter_count(collector_exporters(c)), 0);
	collector_free(c);
}

static void
test_exporter_cap_refuses_before_decoding(void **state)
{
	struct collector *c = collector_new(2, &(struct tmpl_limits){ 0 });
	struct sink s = { 0 };
	uint8_t buf[2048];

	(void)state;
	collector_set_sink(c, sink, &s);
	for (uint8_t i = 1; i <= 5; i++) {
		struct addr a = ip4(i);

		collector_datagram(c, buf, v5(buf, 1, 0, 0, 1), &a, 1);
	}
	assert_int_equal(exporter_count(collector_exporters(c)), 2);
	assert_int_equal(collector_stats(c)->exporters_refused, 3);
	assert_int_equal(s.n, 2);
	assert_int_equal(collector_stats(c)->records, 2);
	collector_free(c);
}

static void
test_malformed_datagram_is_counted_on_its_exporter(void **state)
{
	struct collector *c = collector_new(10, &(struct tmpl_limits){ 0 });
	struct addr a = ip4(1);
	uint8_t buf[2048];
	size_t len = v5(buf, 3, 0, 0, 1);

	(void)state;
	assert_int_equal(collector_datagram(c, buf, len - 1, &a, 1), DECODE_ERR_LENGTH);
	assert_int_equal(collector_stats(c)->decode_errors, 1);
	assert_int_equal(collector_stats(c)->records, 0);
	const struct exporter *e = only_exporter(c, 1);
	assert_int_equal(e->malformed[DECODE_ERR_LENGTH], 1);
	assert_int_equal(e->records, 0);
	collector_free(c);
}

static void
test_kernel_drops_accumulate(void **state)
{
	struct collector *c = collector_new(10, &(struct tmpl_limits){ 0 });

	(void)state;
	collector_add_kernel_drops(c, 5);
	collector_add_kernel_drops(c, 7);
	assert_int_equal(collector_stats(c)->kernel_drops, 12);
	collector_free(c);
}

/* n datagrams of an encoder (v9 or IPFIX, sampling 1:20) into the collector. */
static uint64_t
feed_encoder(struct collector *c, struct gen_enc *enc, struct gen_model *m,
    const struct addr *src, uint32_t uptime_ms, int n)
{
	uint8_t buf[1500];
	struct flow_record recs[64];
	struct gen_clock now = { .uptime_ms = uptime_ms, .unix_secs = 1700000000 };
	uint64_t records = 0;

	for (int i = 0; i < n; i++) {
		size_t used = 0, len;

		for (int k = 0; k < 64; k++)
			gen_model_next(m, 1700000000000, &recs[k]);
		len = gen_encode(enc, recs, 64, &now, buf, sizeof(buf), &used);
		assert_true(len > 0);
		assert_int_equal(collector_datagram(c, buf, len, src, i + 1), DECODE_OK);
		records += used;
		now.uptime_ms += 1000;
	}
	return records;
}

static void
test_restart_keeps_the_templates_its_first_datagram_brings(void **state)
{
	struct collector *c = collector_new(10, &(struct tmpl_limits){ 0 });
	struct gen_model *m = gen_model_new(&(struct gen_model_params){
	    .seed = 1, .keys = 100, .skew = 1.0 }, NULL);
	struct addr a = ip4(1);

	(void)state;
	for (uint8_t version = 9; version <= 10; version++) {
		struct gen_enc before, after;
		uint64_t sent = 0;

		assert_null(gen_enc_init(&before, version, 5, 20, 0));	/* templates in datagram 1 only */
		sent += feed_encoder(c, &before, m, &a, 50000000, 3);
		/* The exporter reboots: sequence and uptime start again, templates first. */
		assert_null(gen_enc_init(&after, version, 5, 20, 0));
		sent += feed_encoder(c, &after, m, &a, 1000, 3);
		const struct exporter *rows[4];
		size_t n = exporter_sorted(collector_exporters(c), rows, 4);
		const struct exporter *e = rows[n - 1];

		assert_int_equal(e->version, version);
		assert_int_equal(e->resets, 1);
		assert_int_equal(e->records, sent);
		assert_int_equal(e->sets_without_template, 0);
		assert_int_equal(e->lost, 0);
		/* Both data templates and the options template survived the restart. */
		assert_int_equal(tmpl_cache_count(collector_templates(c), &a, version, 5), 3);
		assert_int_equal(e->sampling, 20);
	}
	gen_model_free(m);
	collector_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_reach_the_sink_and_the_totals),
		cmocka_unit_test(test_header_sampling_scales_counts),
		cmocka_unit_test(test_configured_override_wins_over_the_header),
		cmocka_unit_test(test_allow_list_drops_and_counts_other_sources),
		cmocka_unit_test(test_unknown_version_is_counted_without_a_row),
		cmocka_unit_test(test_exporter_cap_refuses_before_decoding),
		cmocka_unit_test(test_malformed_datagram_is_counted_on_its_exporter),
		cmocka_unit_test(test_kernel_drops_accumulate),
		cmocka_unit_test(test_restart_keeps_the_templates_its_first_datagram_brings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
