/* collectors/netflow_v5 and collectors/decode: byte vectors in, records out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/decode.h"
#include "collectors/netflow_v5.h"

struct sink {
	size_t			 n;
	struct flow_record	 rec[V5_MAX_RECORDS + 2];
};

static void
collect(const struct flow_record *r, void *arg)
{
	struct sink *s = arg;

	if (s->n < sizeof(s->rec) / sizeof(s->rec[0]))
		s->rec[s->n] = *r;
	s->n++;
}

static const struct addr exporter_addr = {
	.family = ADDR_V4, .bytes = { 192, 0, 2, 200 }
};

/*
 * One flow, every field distinct. Export time 1600000000.5 s, sysUptime
 * 1000000 ms; First 990000, Last 998000.
 */
static const uint8_t one_record[V5_HEADER_LEN + V5_RECORD_LEN] = {
	0x00, 0x05,			/* version */
	0x00, 0x01,			/* count */
	0x00, 0x0f, 0x42, 0x40,		/* sysUptime 1000000 */
	0x5f, 0x5e, 0x10, 0x00,		/* unix_secs 1600000000 */
	0x1d, 0xcd, 0x65, 0x00,		/* unix_nsecs 500000000 */
	0x00, 0x00, 0x00, 0x64,		/* flow_sequence 100 */
	0x02,				/* engine_type */
	0x07,				/* engine_id */
	0x40, 0x64,			/* sampling: mode 1, interval 100 */

	0xc0, 0x00, 0x02, 0x01,		/* srcaddr 192.0.2.1 */
	0xc6, 0x33, 0x64, 0x02,		/* dstaddr 198.51.100.2 */
	0xcb, 0x00, 0x71, 0xfe,		/* nexthop 203.0.113.254 */
	0x00, 0x03,			/* input */
	0x01, 0x02,			/* output 258 */
	0x00, 0x00, 0x00, 0x0a,		/* dPkts 10 */
	0x00, 0x00, 0x3a, 0x98,		/* dOctets 15000 */
	0x00, 0x0f, 0x1b, 0x30,		/* First 990000 */
	0x00, 0x0f, 0x3a, 0x70,		/* Last 998000 */
	0xc3, 0x50,			/* srcport 50000 */
	0x01, 0xbb,			/* dstport 443 */
	0x00,				/* pad1 */
	0x1b,				/* tcp_flags */
	0x06,				/* prot */
	0x20,				/* tos */
	0xfd, 0xe8,			/* src_as 65000 */
	0x0d, 0x1c,			/* dst_as 3356 */
	0x18,				/* src_mask 24 */
	0x10,				/* dst_mask 16 */
	0x00, 0x00,			/* pad2 */
};

#define EXPORT_MS 1600000000500LL

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* Decodes buf and checks that it was rejected for `why` with nothing emitted. */
static void
assert_rejected(const uint8_t *buf, size_t len, enum decode_error why)
{
	struct decode_result res;
	struct sink s = { 0 };

	v5_decode(buf, len, &exporter_addr, collect, &s, &res);
	assert_int_equal(res.error, why);
	assert_int_equal(res.version, 5);
	assert_int_equal(res.records, 0);
	assert_int_equal(s.n, 0);
}

static void
valid_datagram_with_one_record_emits_every_field(void **state)
{
	struct decode_result res;
	struct sink s = { 0 };
	const struct flow_record *r = &s.rec[0];

	v5_decode(one_record, sizeof(one_record), &exporter_addr, collect, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.version, 5);
	assert_int_equal(res.domain, 0x0207);
	assert_int_equal(res.sequence, 100);
	assert_int_equal(res.sys_uptime_ms, 1000000);
	assert_int_equal(res.export_secs, 1600000000);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.records, 1);
	assert_int_equal(res.sampling, 100);
	assert_int_equal(res.sets_without_template, 0);
	assert_int_equal(res.templates_added, 0);
	assert_int_equal(s.n, 1);

	assert_int_equal(r->src.family, ADDR_V4);
	assert_memory_equal(r->src.bytes, ((uint8_t[16]){ 192, 0, 2, 1 }), 16);
	assert_int_equal(r->dst.family, ADDR_V4);
	assert_memory_equal(r->dst.bytes, ((uint8_t[16]){ 198, 51, 100, 2 }), 16);
	assert_int_equal(r->next_hop.family, ADDR_V4);
	assert_memory_equal(r->next_hop.bytes, ((uint8_t[16]){ 203, 0, 113, 254 }), 16);
	assert_int_equal(r->exporter.family, ADDR_V4);
	assert_memory_equal(r->exporter.bytes, exporter_addr.bytes, 16);
	assert_int_equal(r->domain, 0x0207);
	assert_int_equal(r->in_if, 3);
	assert_int_equal(r->out_if, 258);
	assert_int_equal(r->packets, 10);
	assert_int_equal(r->octets, 15000);
	assert_int_equal(r->start_ms, EXPORT_MS - 10000);
	assert_int_equal(r->end_ms, EXPORT_MS - 2000);
	assert_int_equal(r->src_port, 50000);
	assert_int_equal(r->dst_port, 443);
	assert_int_equal(r->tcp_flags, 0x1b);
	assert_int_equal(r->proto, 6);
	assert_int_equal(r->tos, 0x20);
	assert_int_equal(r->src_as, 65000);
	assert_int_equal(r->dst_as, 3356);
	assert_int_equal(r->src_mask, 24);
	assert_int_equal(r->dst_mask, 16);
	assert_int_equal(r->sampling, 100);
}

/* Record i of the 30-record vector: every field a function of i. */
static void
fill_record(uint8_t *p, unsigned i)
{
	memset(p, 0, V5_RECORD_LEN);
	put32(p + 0, 0x0a000000u | i);		/* srcaddr 10.0.0.i */
	put32(p + 4, 0xac100000u | i << 8);	/* dstaddr 172.16.i.0 */
	put32(p + 8, 0xc0a80001u + i);		/* nexthop 192.168.0.1+i */
	put16(p + 12, 100 + i);			/* input */
	put16(p + 14, 0xff00 + i);		/* output */
	put32(p + 16, 0xfffffff0u + i);		/* dPkts, near the top */
	put32(p + 20, 1000000u * (i + 1));	/* dOctets */
	put32(p + 24, 500000 + 1000 * i);	/* First */
	put32(p + 28, 510000 + 1000 * i);	/* Last */
	put16(p + 32, 1024 + i);		/* srcport */
	put16(p + 34, 53);			/* dstport */
	p[36] = 0xee;				/* pad1: ignored */
	p[37] = i;				/* tcp_flags */
	p[38] = i & 1 ? 17 : 6;			/* prot */
	p[39] = i * 4;				/* tos */
	put16(p + 40, 64512 + i);		/* src_as */
	put16(p + 42, 65535 - i);		/* dst_as */
	p[44] = i;				/* src_mask */
	p[45] = 32 - i;				/* dst_mask */
	p[46] = 0xee;				/* pad2: ignored */
	p[47] = 0xee;
}

static void
thirty_records_all_emitted_in_order(void **state)
{
	static const uint8_t header[V5_HEADER_LEN] = {
		0x00, 0x05, 0x00, 0x1e,		/* version 5, count 30 */
		0x00, 0x0f, 0x42, 0x40,		/* sysUptime 1000000 */
		0x5f, 0x5e, 0x10, 0x00,		/* unix_secs 1600000000 */
		0x00, 0x0f, 0x42, 0x3f,		/* unix_nsecs 999999: 0 ms */
		0xff, 0xff, 0xff, 0xf0,		/* flow_sequence */
		0xff, 0x00,			/* engine type 255, id 0 */
		0x80, 0x00,			/* mode 2, interval 0: unsampled */
	};
	uint8_t buf[V5_HEADER_LEN + V5_MAX_RECORDS * V5_RECORD_LEN];
	struct decode_result res;
	struct sink s = { 0 };
	unsigned i;

	memcpy(buf, header, sizeof(header));
	for (i = 0; i < V5_MAX_RECORDS; i++)
		fill_record(buf + V5_HEADER_LEN + i * V5_RECORD_LEN, i);

	v5_decode(buf, sizeof(buf), &exporter_addr, collect, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.count, 30);
	assert_int_equal(res.records, 30);
	assert_int_equal(res.sequence, 0xfffffff0u);
	assert_int_equal(res.domain, 0xff00);
	assert_int_equal(res.sampling, 0);
	assert_int_equal(s.n, 30);
	for (i = 0; i < V5_MAX_RECORDS; i++) {
		const struct flow_record *r = &s.rec[i];
		uint8_t src[16] = { 10, 0, 0, i };
		uint8_t dst[16] = { 172, 16, i, 0 };
		uint8_t nh[16] = { 192, 168, 0, 1 + i };

		assert_int_equal(r->src.family, ADDR_V4);
		assert_memory_equal(r->src.bytes, src, 16);
		assert_int_equal(r->dst.family, ADDR_V4);
		assert_memory_equal(r->dst.bytes, dst, 16);
		assert_int_equal(r->next_hop.family, ADDR_V4);
		assert_memory_equal(r->next_hop.bytes, nh, 16);
		assert_memory_equal(&r->exporter, &exporter_addr, sizeof(exporter_addr));
		assert_int_equal(r->domain, 0xff00);
		assert_int_equal(r->in_if, 100 + i);
		assert_int_equal(r->out_if, 0xff00 + i);
		assert_int_equal(r->packets, 0xfffffff0u + i);
		assert_int_equal(r->octets, 1000000ULL * (i + 1));
		assert_int_equal(r->start_ms, 1600000000000LL - 500000 + 1000 * i);
		assert_int_equal(r->end_ms, 1600000000000LL - 490000 + 1000 * i);
		assert_int_equal(r->src_port, 1024 + i);
		assert_int_equal(r->dst_port, 53);
		assert_int_equal(r->tcp_flags, i);
		assert_int_equal(r->proto, i & 1 ? 17 : 6);
		assert_int_equal(r->tos, i * 4);
		assert_int_equal(r->src_as, 64512 + i);
		assert_int_equal(r->dst_as, 65535 - i);
		assert_int_equal(r->src_mask, i);
		assert_int_equal(r->dst_mask, 32 - i);
		assert_int_equal(r->sampling, 0);
	}
}

static void
sampling_interval_is_low_14_bits_whatever_the_mode(void **state)
{
	uint8_t buf[sizeof(one_record)];
	struct decode_result res;
	struct sink s = { 0 };

	memcpy(buf, one_record, sizeof(buf));
	buf[22] = 0xff;			/* mode 3, interval 0x3fff */
	buf[23] = 0xff;
	v5_decode(buf, sizeof(buf), &exporter_addr, collect, &s, &res);
	assert_int_equal(res.sampling, 16383);
	assert_int_equal(s.rec[0].sampling, 16383);

	buf[22] = 0x00;			/* mode 0, interval 10 */
	buf[23] = 0x0a;
	s.n = 0;
	v5_decode(buf, sizeof(buf), &exporter_addr, collect, &s, &res);
	assert_int_equal(res.sampling, 10);
	assert_int_equal(s.rec[0].sampling, 10);
}

static void
times_survive_an_uptime_wrap_and_a_stamp_after_the_header(void **state)
{
	uint8_t buf[sizeof(one_record)];
	struct decode_result res;
	struct sink s = { 0 };

	memcpy(buf, one_record, sizeof(buf));
	put32(buf + 4, 0x10);			/* sysUptime 16 ms, just wrapped */
	put32(buf + 24 + 24, 0xfffffff0u);	/* First: 32 ms earlier, before the wrap */
	put32(buf + 24 + 28, 0x15);		/* Last: 5 ms after the header's uptime */
	v5_decode(buf, sizeof(buf), &exporter_addr, collect, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rec[0].start_ms, EXPORT_MS - 32);
	assert_int_equal(s.rec[0].end_ms, EXPORT_MS + 5);
}

static void
trailing_bytes_after_the_records_are_ignored(void **state)
{
	uint8_t buf[sizeof(one_record) + 7];
	struct decode_result res;
	struct sink s = { 0 };

	memcpy(buf, one_record, sizeof(one_record));
	memset(buf + sizeof(one_record), 0xaa, 7);
	v5_decode(buf, sizeof(buf), &exporter_addr, collect, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.records, 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rec[0].packets, 10);
}

static void
truncated_header_is_short(void **state)
{
	assert_rejected(one_record, V5_HEADER_LEN - 1, DECODE_ERR_SHORT);
	assert_rejected(one_record, 2, DECODE_ERR_SHORT);
	assert_rejected(one_record, 0, DECODE_ERR_SHORT);
	assert_rejected(NULL, 0, DECODE_ERR_SHORT);
}

static void
wrong_version_is_rejected(void **state)
{
	uint8_t buf[sizeof(one_record)];

	memcpy(buf, one_record, sizeof(buf));
	buf[1] = 9;
	assert_rejected(buf, sizeof(buf), DECODE_ERR_VERSION);
	buf[0] = 5;			/* 0x0505: the right byte in the wrong place */
	buf[1] = 5;
	assert_rejected(buf, sizeof(buf), DECODE_ERR_VERSION);
}

static void
count_zero_is_a_length_error(void **state)
{
	uint8_t buf[sizeof(one_record)];
	struct decode_result res;
	struct sink s = { 0 };

	memcpy(buf, one_record, sizeof(buf));
	buf[3] = 0;
	assert_rejected(buf, sizeof(buf), DECODE_ERR_LENGTH);
	assert_rejected(buf, V5_HEADER_LEN, DECODE_ERR_LENGTH);

	/* The header is still reported, so the rejection can be attributed. */
	v5_decode(buf, sizeof(buf), &exporter_addr, collect, &s, &res);
	assert_int_equal(res.domain, 0x0207);
	assert_int_equal(res.sequence, 100);
	assert_int_equal(res.count, 0);
}

static void
count_31_is_a_length_error_even_with_the_bytes(void **state)
{
	uint8_t buf[V5_HEADER_LEN + 31 * V5_RECORD_LEN];
	unsigned i;

	memcpy(buf, one_record, V5_HEADER_LEN);
	buf[3] = 31;
	for (i = 0; i < 31; i++)
		fill_record(buf + V5_HEADER_LEN + i * V5_RECORD_LEN, i);
	assert_rejected(buf, sizeof(buf), DECODE_ERR_LENGTH);
	buf[2] = 0xff;			/* count 0xff1f */
	assert_rejected(buf, sizeof(buf), DECODE_ERR_LENGTH);
}

static void
count_larger_than_the_bytes_emits_nothing(void **state)
{
	uint8_t buf[V5_HEADER_LEN + 2 * V5_RECORD_LEN];

	memcpy(buf, one_record, sizeof(one_record));
	memcpy(buf + sizeof(one_record), one_record + V5_HEADER_LEN, V5_RECORD_LEN);
	buf[3] = 2;
	/* The first record is whole, the second one byte short. */
	assert_rejected(buf, sizeof(buf) - 1, DECODE_ERR_LENGTH);
	buf[3] = 3;
	assert_rejected(buf, sizeof(buf), DECODE_ERR_LENGTH);
	buf[3] = 30;
	assert_rejected(buf, sizeof(buf), DECODE_ERR_LENGTH);
	buf[3] = 1;
	assert_rejected(buf, sizeof(one_record) - 1, DECODE_ERR_LENGTH);
}

static void
null_callback_and_exporter_still_fill_the_result(void **state)
{
	struct decode_result res;
	struct sink s = { 0 };

	v5_decode(one_record, sizeof(one_record), &exporter_addr, NULL, NULL, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.records, 1);

	v5_decode(one_record, sizeof(one_record), NULL, collect, &s, &res);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rec[0].exporter.family, ADDR_NONE);
}

static void
error_names_are_short_and_stable(void **state)
{
	assert_string_equal(decode_error_name(DECODE_ERR_SHORT), "short");
	assert_string_equal(decode_error_name(DECODE_ERR_VERSION), "version");
	assert_string_equal(decode_error_name(DECODE_ERR_LENGTH), "length");
	assert_string_equal(decode_error_name(DECODE_ERR_SET), "set");
	assert_string_equal(decode_error_name(DECODE_ERR_TEMPLATE), "template");
	assert_string_equal(decode_error_name(DECODE_ERR_RECORD), "record");
	assert_string_equal(decode_error_name(DECODE_OK), "ok");
	assert_string_equal(decode_error_name(DECODE_ERR__COUNT), "unknown");
	assert_string_equal(decode_error_name((enum decode_error)-1), "unknown");
}

static void
version_peek_reads_the_first_two_bytes(void **state)
{
	static const uint8_t v10[] = { 0x00, 0x0a, 0x00 };
	static const uint8_t big[] = { 0x12, 0x34 };

	assert_int_equal(decode_peek_version(one_record, sizeof(one_record)), 5);
	assert_int_equal(decode_peek_version(v10, sizeof(v10)), 10);
	assert_int_equal(decode_peek_version(big, sizeof(big)), 0x1234);
	assert_int_equal(decode_peek_version(v10, 1), 0);
	assert_int_equal(decode_peek_version(v10, 0), 0);
	assert_int_equal(decode_peek_version(NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_datagram_with_one_record_emits_every_field),
		cmocka_unit_test(thirty_records_all_emitted_in_order),
		cmocka_unit_test(sampling_interval_is_low_14_bits_whatever_the_mode),
		cmocka_unit_test(times_survive_an_uptime_wrap_and_a_stamp_after_the_header),
		cmocka_unit_test(trailing_bytes_after_the_records_are_ignored),
		cmocka_unit_test(truncated_header_is_short),
		cmocka_unit_test(wrong_version_is_rejected),
		cmocka_unit_test(count_zero_is_a_length_error),
		cmocka_unit_test(count_31_is_a_length_error_even_with_the_bytes),
		cmocka_unit_test(count_larger_than_the_bytes_emits_nothing),
		cmocka_unit_test(null_callback_and_exporter_still_fill_the_result),
		cmocka_unit_test(error_names_are_short_and_stable),
		cmocka_unit_test(version_peek_reads_the_first_two_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
