/*
 * flowpath-gen: the encoders write exactly the bytes NetFlow v5, v9
 * (RFC 3954) and IPFIX (RFC 7011) require, the traffic model is seeded and
 * skewed, the ground truth sums what was encoded, the destination check
 * keeps traffic on loopback, and what the encoders write the collector's
 * decoders read back record for record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/ipfix.h"
#include "collectors/netflow_v5.h"
#include "collectors/netflow_v9.h"
#include "collectors/template.h"
#include "engine/addr.h"
#include "tools/gen_encode.h"
#include "tools/gen_traffic.h"

/* ---- helpers ---- */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static const struct gen_clock test_clock = {
	.uptime_ms = 3600000, .unix_secs = 1700000000, .unix_nsecs = 250000000
};
/* v5 export time in ms (with nsecs); v9 uses whole seconds */
#define EXPORT_MS_V5	(1700000000LL * 1000 + 250)
#define EXPORT_MS_V9	(1700000000LL * 1000)

static struct flow_record
v4_flow(uint8_t last, uint64_t packets, uint64_t octets)
{
	struct flow_record r;

	memset(&r, 0, sizeof(r));
	assert_null(addr_parse("10.1.2.3", &r.src));
	assert_null(addr_parse("198.18.0.1", &r.dst));
	assert_null(addr_parse("192.0.2.9", &r.next_hop));
	r.src.bytes[3] = last;
	r.src_port = 40000;
	r.dst_port = 443;
	r.proto = 6;
	r.tos = 0xb8;
	r.tcp_flags = 0x1b;
	r.src_mask = 24;
	r.dst_mask = 16;
	r.src_as = 64496;
	r.dst_as = 64511;
	r.in_if = 3;
	r.out_if = 7;
	r.packets = packets;
	r.octets = octets;
	r.start_ms = EXPORT_MS_V5 - 5000;
	r.end_ms = EXPORT_MS_V5 - 1000;
	return r;
}

static struct flow_record
v6_flow(uint8_t last)
{
	struct flow_record r = v4_flow(last, 10, 15000);

	assert_null(addr_parse("2001:db8:0:1::5", &r.src));
	assert_null(addr_parse("2001:db8:0:2::6", &r.dst));
	assert_null(addr_parse("2001:db8::1", &r.next_hop));
	r.src.bytes[15] = last;
	r.src_mask = 48;
	r.dst_mask = 64;
	return r;
}

/* Walks the v9/IPFIX sets of a datagram; returns how many, fills ids/lengths/offsets. */
static int
sets_of(const uint8_t *buf, size_t len, size_t hdr, uint16_t *ids, uint16_t *lens, size_t *offs, int max)
{
	size_t off = hdr;
	int n = 0;

	while (off + 4 <= len && n < max) {
		ids[n] = be16(buf + off);
		lens[n] = be16(buf + off + 2);
		offs[n] = off;
		assert_true(lens[n] >= 4);
		off += lens[n];
		n++;
	}
	assert_int_equal(off, len);	/* sets tile the datagram exactly */
	return n;
}

/* ---- destination check ---- */

static void
test_destination_check_accepts_only_loopback(void **state)
{
	static const char *refused[] = { "10.0.0.1", "192.0.2.1", "0.0.0.0", "255.255.255.255",
	    "128.0.0.1", "2001:db8::1", "::", "::ffff:127.0.0.1", "fe80::1" };
	static const char *accepted[] = { "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1" };
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_null(addr_parse(refused[i], &a));
		assert_non_null(gen_check_loopback(&a));
	}
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		assert_null(addr_parse(accepted[i], &a));
		assert_null(gen_check_loopback(&a));
	}
	memset(&a, 0, sizeof(a));
	assert_non_null(gen_check_loopback(&a));
	assert_non_null(gen_check_loopback(NULL));
}

/* ---- NetFlow v5 ---- */

static void
test_v5_header_and_record_bytes(void **state)
{
	struct gen_enc e;
	struct flow_record f[3] = { v4_flow(1, 5, 500), v4_flow(2, 6, 600), v4_flow(3, 70000, 4000000000u) };
	uint8_t buf[2048];
	size_t used, len;
	const uint8_t *r;

	(void)state;
	assert_null(gen_enc_init(&e, 5, 0x1234, 100, 20));
	len = gen_encode(&e, f, 3, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(used, 3);
	assert_int_equal(len, 24 + 3 * 48);
	assert_int_equal(be16(buf), 5);
	assert_int_equal(be16(buf + 2), 3);
	assert_int_equal(be32(buf + 4), 3600000);
	assert_int_equal(be32(buf + 8), 1700000000);
	assert_int_equal(be32(buf + 12), 250000000);
	assert_int_equal(be32(buf + 16), 0);		/* flows before this datagram */
	assert_int_equal(buf[20], 0x12);		/* engine_type */
	assert_int_equal(buf[21], 0x34);		/* engine_id */
	assert_int_equal(be16(buf + 22), 0x4000 | 100);	/* mode 01, interval 100 */

	r = buf + 24 + 2 * 48;
	assert_memory_equal(r, f[2].src.bytes, 4);
	assert_memory_equal(r + 4, f[2].dst.bytes, 4);
	assert_memory_equal(r + 8, f[2].next_hop.bytes, 4);
	assert_int_equal(be16(r + 12), 3);
	assert_int_equal(be16(r + 14), 7);
	assert_int_equal(be32(r + 16), 70000);
	assert_int_equal(be32(r + 20), 4000000000u);
	assert_int_equal(be32(r + 24), 3600000 - 5000);	/* First, sysUptime ms */
	assert_int_equal(be32(r + 28), 3600000 - 1000);	/* Last */
	assert_int_equal(be16(r + 32), 40000);
	assert_int_equal(be16(r + 34), 443);
	assert_int_equal(r[36], 0);			/* pad1 */
	assert_int_equal(r[37], 0x1b);
	assert_int_equal(r[38], 6);
	assert_int_equal(r[39], 0xb8);
	assert_int_equal(be16(r + 40), 64496);
	assert_int_equal(be16(r + 42), 64511);
	assert_int_equal(r[44], 24);
	assert_int_equal(r[45], 16);
	assert_int_equal(be16(r + 46), 0);		/* pad2 */
}

static void
test_v5_unsampled_header_has_zero_interval(void **state)
{
	struct gen_enc e;
	struct flow_record f = v4_flow(1, 1, 40);
	uint8_t buf[256];
	size_t used;

	(void)state;
	assert_null(gen_enc_init(&e, 5, 0, 1, 20));
	assert_int_equal(gen_encode(&e, &f, 1, &test_clock, buf, sizeof(buf), &used), 72);
	assert_int_equal(be16(buf + 22), 0);
}

static void
test_v5_datagram_never_exceeds_30_records(void **state)
{
	struct gen_enc e;
	struct flow_record f[100];
	uint8_t buf[GEN_MAX_DATAGRAM];
	size_t used, len;

	(void)state;
	for (int i = 0; i < 100; i++)
		f[i] = v4_flow((uint8_t)i, 1, 100);
	assert_null(gen_enc_init(&e, 5, 0, 0, 20));
	len = gen_encode(&e, f, 100, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(used, 30);
	assert_int_equal(be16(buf + 2), 30);
	assert_int_equal(len, 24 + 30 * 48);
	/* and a small buffer stops it earlier */
	len = gen_encode(&e, f, 100, &test_clock, buf, 24 + 10 * 48 + 47, &used);
	assert_int_equal(used, 10);
	assert_int_equal(len, 24 + 10 * 48);
}

static void
test_v5_sequence_counts_flows(void **state)
{
	struct gen_enc e;
	struct flow_record f[40];
	uint8_t buf[2048];
	size_t used;

	(void)state;
	for (int i = 0; i < 40; i++)
		f[i] = v4_flow((uint8_t)i, 1, 100);
	assert_null(gen_enc_init(&e, 5, 0, 0, 20));
	gen_encode(&e, f, 40, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 16), 0);
	gen_encode(&e, f, 7, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 16), 30);
	gen_encode(&e, f, 1, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 16), 37);
	assert_int_equal(e.sequence, 38);
}

static void
test_v5_refuses_what_it_cannot_carry(void **state)
{
	struct gen_enc e;
	struct gen_msg m;
	struct flow_record v6 = v6_flow(1), big_if = v4_flow(1, 1, 40);
	uint8_t buf[256];

	(void)state;
	assert_non_null(gen_enc_init(&e, 5, 0x10000, 0, 20));	/* domain is 16 bits */
	assert_non_null(gen_enc_init(&e, 5, 0, 16384, 20));	/* interval is 14 bits */
	assert_non_null(gen_enc_init(&e, 7, 0, 0, 20));
	assert_null(gen_enc_init(&e, 5, 0, 16383, 20));
	assert_true(gen_msg_begin(&m, &e, buf, sizeof(buf), &test_clock));
	assert_int_equal(gen_msg_add(&m, &v6), GEN_ADD_UNSUPPORTED);
	big_if.in_if = 70000;
	assert_int_equal(gen_msg_add(&m, &big_if), GEN_ADD_UNSUPPORTED);
	assert_int_equal(m.data_records, 0);
}

/* ---- NetFlow v9 ---- */

static const uint16_t v9_v4_fields[] = { 8, 12, 7, 11, 4, 5, 6, 15, 16, 17, 9, 13, 10, 14, 1, 2, 21, 22 };
static const uint16_t v9_v6_fields[] = { 27, 28, 7, 11, 4, 5, 6, 62, 16, 17, 29, 30, 10, 14, 1, 2, 21, 22 };
static const uint16_t ipfix_v4_fields[] = { 8, 12, 7, 11, 4, 5, 6, 15, 16, 17, 9, 13, 10, 14, 1, 2, 152, 153 };
static const uint16_t ipfix_v6_fields[] = { 27, 28, 7, 11, 4, 5, 6, 62, 16, 17, 29, 30, 10, 14, 1, 2, 152, 153 };

/* A template record at p: id, 18 fields with these ids; returns the summed field lengths. */
static size_t
check_template(const uint8_t *p, uint16_t tid, const uint16_t *ids)
{
	size_t sum = 0;

	assert_int_equal(be16(p), tid);
	assert_int_equal(be16(p + 2), 18);
	for (int i = 0; i < 18; i++) {
		assert_int_equal(be16(p + 4 + 4 * i), ids[i]);
		sum += be16(p + 6 + 4 * i);
	}
	return sum;
}

static void
test_v9_first_datagram_carries_templates_then_padded_data(void **state)
{
	struct gen_enc e;
	struct flow_record f[3] = { v4_flow(1, 5, 500), v4_flow(2, 6, 600), v4_flow(3, 7, 700) };
	uint8_t buf[2048];
	uint16_t ids[8], lens[8];
	size_t offs[8], used, len;
	const uint8_t *d;
	int n;

	(void)state;
	assert_null(gen_enc_init(&e, 9, 77, 0, 20));
	len = gen_encode(&e, f, 3, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(used, 3);
	assert_int_equal(be16(buf), 9);
	assert_int_equal(be16(buf + 2), 2 + 3);		/* 2 template records + 3 data records */
	assert_int_equal(be32(buf + 4), 3600000);
	assert_int_equal(be32(buf + 8), 1700000000);
	assert_int_equal(be32(buf + 12), 0);		/* export packets before this one */
	assert_int_equal(be32(buf + 16), 77);		/* source id */

	n = sets_of(buf, len, 20, ids, lens, offs, 8);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 0);			/* template flowset */
	assert_int_equal(lens[0], 4 + 2 * (4 + 18 * 4));
	assert_int_equal(check_template(buf + offs[0] + 4, 256, v9_v4_fields), GEN_V9_V4_RECORD_LEN);
	assert_int_equal(check_template(buf + offs[0] + 4 + 76, 257, v9_v6_fields), GEN_V9_V6_RECORD_LEN);
	assert_int_equal(ids[1], 256);
	/* 4 + 3 * 53 = 163, padded to 164 with a zero */
	assert_int_equal(lens[1], 164);
	assert_int_equal(buf[offs[1] + 163], 0);
	d = buf + offs[1] + 4;
	assert_memory_equal(d, f[0].src.bytes, 4);
	assert_int_equal(be16(d + 10), 443);
	assert_int_equal(be32(d + 37), 500);			/* IN_BYTES */
	assert_int_equal(be32(d + 41), 5);			/* IN_PKTS */
	assert_int_equal(be32(d + 45), 3600000 - 1000 + 250);	/* LAST_SWITCHED (whole-second export time) */
	assert_int_equal(be32(d + 49), 3600000 - 5000 + 250);	/* FIRST_SWITCHED */
}

static void
test_v9_sequence_counts_export_packets(void **state)
{
	struct gen_enc e;
	struct flow_record f[5] = { v4_flow(1, 1, 1), v4_flow(2, 1, 1), v4_flow(3, 1, 1),
	    v4_flow(4, 1, 1), v4_flow(5, 1, 1) };
	uint8_t buf[2048];
	size_t used;

	(void)state;
	assert_null(gen_enc_init(&e, 9, 0, 0, 20));
	for (uint32_t i = 0; i < 4; i++) {
		gen_encode(&e, f, 5 - i, &test_clock, buf, sizeof(buf), &used);
		assert_int_equal(be32(buf + 12), i);
	}
}

static void
test_v9_templates_repeat_every_n_datagrams(void **state)
{
	struct gen_enc e;
	struct flow_record f = v4_flow(1, 1, 1);
	uint8_t buf[2048];
	size_t used, len;

	(void)state;
	assert_null(gen_enc_init(&e, 9, 0, 0, 3));
	for (int i = 0; i < 7; i++) {
		len = gen_encode(&e, &f, 1, &test_clock, buf, sizeof(buf), &used);
		if (i % 3 == 0) {
			assert_int_equal(be16(buf + 20), 0);
			assert_int_equal(be16(buf + 2), 3);
		} else {
			assert_int_equal(be16(buf + 20), 256);
			assert_int_equal(be16(buf + 2), 1);
			assert_int_equal(len, 20 + 4 + 53 + 3);
		}
	}
	assert_int_equal(e.template_datagrams, 3);
	/* 0: templates in the first datagram only */
	assert_null(gen_enc_init(&e, 9, 0, 0, 0));
	gen_encode(&e, &f, 1, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be16(buf + 20), 0);
	for (int i = 0; i < 50; i++) {
		gen_encode(&e, &f, 1, &test_clock, buf, sizeof(buf), &used);
		assert_int_equal(be16(buf + 20), 256);
	}
}

static void
test_v9_sampling_options_template_precede_data(void **state)
{
	struct gen_enc e;
	struct flow_record f[2] = { v4_flow(1, 1, 1), v6_flow(2) };
	uint8_t buf[2048];
	uint16_t ids[8], lens[8];
	size_t offs[8], used, len;
	const uint8_t *p;
	int n;

	(void)state;
	assert_null(gen_enc_init(&e, 9, 5, 100, 20));
	len = gen_encode(&e, f, 2, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(used, 2);
	assert_int_equal(be16(buf + 2), 2 + 1 + 1 + 2);	/* templates, options template, options data, data */
	n = sets_of(buf, len, 20, ids, lens, offs, 8);
	assert_int_equal(n, 5);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 1);			/* options template flowset */
	assert_int_equal(lens[1], 24);			/* 22 + 2 padding */
	p = buf + offs[1];
	assert_int_equal(be16(p + 4), 258);		/* template id */
	assert_int_equal(be16(p + 6), 4);		/* option scope length */
	assert_int_equal(be16(p + 8), 8);		/* option length */
	assert_int_equal(be16(p + 10), 1);		/* scope: System */
	assert_int_equal(be16(p + 12), 4);
	assert_int_equal(be16(p + 14), 34);		/* samplingInterval */
	assert_int_equal(be16(p + 16), 4);
	assert_int_equal(be16(p + 18), 35);		/* samplingAlgorithm */
	assert_int_equal(be16(p + 20), 1);
	assert_int_equal(be16(p + 22), 0);
	assert_int_equal(ids[2], 258);			/* options data, before the flows */
	assert_int_equal(lens[2], 16);
	p = buf + offs[2];
	assert_int_equal(be32(p + 4), 5);
	assert_int_equal(be32(p + 8), 100);
	assert_int_equal(p[12], 2);
	assert_int_equal(p[13] | p[14] | p[15], 0);
	assert_int_equal(ids[3], 256);
	assert_int_equal(lens[3], 4 + 53 + 3);
	assert_int_equal(ids[4], 257);
	assert_int_equal(lens[4], 4 + 89 + 3);
	assert_memory_equal(buf + offs[4] + 4, f[1].src.bytes, 16);
}

/* ---- IPFIX ---- */

static void
test_ipfix_header_templates_options_and_data_bytes(void **state)
{
	struct gen_enc e;
	struct flow_record f[3] = { v4_flow(1, 5, 500), v4_flow(2, 6, 600), v6_flow(3) };
	uint8_t buf[2048];
	uint16_t ids[8], lens[8];
	size_t offs[8], used, len;
	const uint8_t *p;
	int n;

	(void)state;
	assert_null(gen_enc_init(&e, 10, 0xabcdef, 64, 20));
	len = gen_encode(&e, f, 3, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(used, 3);
	assert_int_equal(be16(buf), 10);
	assert_int_equal(be16(buf + 2), len);		/* message length */
	assert_int_equal(be32(buf + 4), 1700000000);
	assert_int_equal(be32(buf + 8), 0);
	assert_int_equal(be32(buf + 12), 0xabcdef);	/* observation domain */
	n = sets_of(buf, len, 16, ids, lens, offs, 8);
	assert_int_equal(n, 5);
	assert_int_equal(ids[0], 2);
	assert_int_equal(check_template(buf + offs[0] + 4, 256, ipfix_v4_fields), GEN_IPFIX_V4_RECORD_LEN);
	assert_int_equal(check_template(buf + offs[0] + 4 + 76, 257, ipfix_v6_fields), GEN_IPFIX_V6_RECORD_LEN);
	assert_int_equal(ids[1], 3);
	assert_int_equal(lens[1], 24);
	p = buf + offs[1];
	assert_int_equal(be16(p + 4), 258);
	assert_int_equal(be16(p + 6), 3);		/* field count */
	assert_int_equal(be16(p + 8), 1);		/* scope field count */
	assert_int_equal(be16(p + 10), 149);		/* observationDomainId */
	assert_int_equal(be16(p + 14), 34);
	assert_int_equal(be16(p + 18), 35);
	assert_int_equal(ids[2], 258);
	assert_int_equal(be32(buf + offs[2] + 4), 0xabcdef);
	assert_int_equal(be32(buf + offs[2] + 8), 64);
	assert_int_equal(ids[3], 256);
	assert_int_equal(lens[3], 4 + 2 * 69 + 2);	/* 142 padded to 144 */
	assert_int_equal(be16(buf + offs[3] + 142), 0);
	p = buf + offs[3] + 4 + 69;			/* the second v4 record */
	assert_int_equal(be64(p + 37), 600);		/* octetDeltaCount, 8 bytes */
	assert_int_equal(be64(p + 45), 6);		/* packetDeltaCount */
	assert_int_equal(be64(p + 53), (uint64_t)f[1].start_ms);	/* flowStartMilliseconds */
	assert_int_equal(be64(p + 61), (uint64_t)f[1].end_ms);
	assert_int_equal(ids[4], 257);
	assert_int_equal(lens[4], 4 + 105 + 3);
	for (int i = 0; i < n; i++)
		assert_int_equal(lens[i] % 4, 0);
}

static void
test_ipfix_sequence_counts_data_records_before_message(void **state)
{
	struct gen_enc e;
	struct flow_record f[10];
	uint8_t buf[2048];
	size_t used;

	(void)state;
	for (int i = 0; i < 10; i++)
		f[i] = v4_flow((uint8_t)i, 1, 1);
	/* unsampled: only flow records count */
	assert_null(gen_enc_init(&e, 10, 1, 0, 2));
	gen_encode(&e, f, 4, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 8), 0);
	gen_encode(&e, f, 10, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 8), 4);
	gen_encode(&e, f, 1, &test_clock, buf, sizeof(buf), &used);	/* templates again, not counted */
	assert_int_equal(be32(buf + 8), 14);
	gen_encode(&e, f, 1, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 8), 15);
	/* sampled: the options data record is a data record too (RFC 7011 3.1) */
	assert_null(gen_enc_init(&e, 10, 1, 10, 2));
	gen_encode(&e, f, 4, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 8), 0);
	gen_encode(&e, f, 3, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 8), 5);
	gen_encode(&e, f, 1, &test_clock, buf, sizeof(buf), &used);
	assert_int_equal(be32(buf + 8), 8);
	assert_int_equal(e.sequence, 8 + 1 + 1);
}

static void
test_datagrams_fit_max_size_for_every_version(void **state)
{
	static const uint8_t versions[] = { 5, 9, 10 };
	static const size_t caps[] = { 1472, 400, 9000 };
	struct gen_model_params mp = { .seed = 5, .keys = 500, .skew = 1.0, .ipv6_share = 0.4 };
	uint8_t buf[9000];

	(void)state;
	for (size_t v = 0; v < 3; v++) {
		for (size_t c = 0; c < 3; c++) {
			struct gen_model *m;
			struct gen_enc e;

			mp.ipv6_share = versions[v] == 5 ? 0 : 0.4;
			assert_non_null(m = gen_model_new(&mp, NULL));
			assert_null(gen_enc_init(&e, versions[v], 1, 10, 4));
			for (int d = 0; d < 50; d++) {
				struct gen_msg msg;
				struct flow_record r;
				size_t len;

				assert_true(gen_msg_begin(&msg, &e, buf, caps[c], &test_clock));
				do
					gen_model_next(m, EXPORT_MS_V9, &r);
				while (gen_msg_add(&msg, &r) == GEN_ADD_OK);
				len = gen_msg_finish(&msg);
				assert_true(len <= caps[c]);
				assert_true(msg.data_records >= 1);
				assert_true(len % 4 == 0 || versions[v] == 5);
				if (versions[v] == 5)
					assert_true(msg.data_records <= 30);
			}
			gen_model_free(m);
		}
	}
}

/* ---- model ---- */

static void
test_model_is_deterministic_for_a_seed(void **state)
{
	struct gen_model_params p = { .seed = 42, .keys = 1000, .skew = 1.1, .ipv6_share = 0.3 };
	struct gen_model *a, *b, *c;
	int differ = 0;

	(void)state;
	assert_non_null(a = gen_model_new(&p, NULL));
	assert_non_null(b = gen_model_new(&p, NULL));
	p.seed = 43;
	assert_non_null(c = gen_model_new(&p, NULL));
	for (int i = 0; i < 10000; i++) {
		struct flow_record ra, rb, rc;

		assert_int_equal(gen_model_next(a, 1000000, &ra), gen_model_next(b, 1000000, &rb));
		gen_model_next(c, 1000000, &rc);
		assert_memory_equal(&ra, &rb, sizeof(ra));
		differ += ra.octets != rc.octets;
	}
	assert_true(differ > 9000);
	gen_model_free(a);
	gen_model_free(b);
	gen_model_free(c);
}

static void
test_model_packets_and_octets_stay_in_range(void **state)
{
	struct gen_model_params p = { .seed = 1, .keys = 100, .skew = 1.1 };
	struct gen_model *m;
	uint64_t small = 0;

	(void)state;
	assert_non_null(m = gen_model_new(&p, NULL));
	for (int i = 0; i < 20000; i++) {
		struct flow_record r;

		gen_model_next(m, 1000000, &r);
		assert_true(r.packets >= 1 && r.packets <= 1000);
		assert_true(r.octets >= r.packets * 40 && r.octets <= r.packets * 1500);
		assert_int_equal(r.octets % r.packets, 0);
		assert_true(r.start_ms <= r.end_ms && r.end_ms <= 1000000);
		assert_true(r.dst_port != 0 && r.src_port >= 1024);
		assert_true(r.proto == 6 || r.proto == 17);
		small += r.packets <= 100;
	}
	assert_true(small > 20000 / 2);		/* skewed towards small flows */
	gen_model_free(m);
}

static void
test_zipf_skew_makes_first_key_most_frequent(void **state)
{
	struct gen_model_params p = { .seed = 9, .keys = 100, .skew = 1.1 };
	struct gen_model *m;
	uint32_t count[100] = { 0 };
	const int draws = 200000;

	(void)state;
	assert_non_null(m = gen_model_new(&p, NULL));
	for (int i = 0; i < draws; i++) {
		struct flow_record r;

		count[gen_model_next(m, 0, &r)]++;
	}
	for (int k = 1; k < 100; k++)
		assert_true(count[0] > count[k]);
	assert_true(count[1] > count[10] && count[10] > count[99]);
	/* rank 1 against rank 2: 2^1.1 = 2.14 */
	assert_true((double)count[0] / count[1] > 1.95 && (double)count[0] / count[1] < 2.35);
	gen_model_free(m);

	/* skew 0 is uniform */
	p.skew = 0;
	memset(count, 0, sizeof(count));
	assert_non_null(m = gen_model_new(&p, NULL));
	for (int i = 0; i < draws; i++) {
		struct flow_record r;

		count[gen_model_next(m, 0, &r)]++;
	}
	for (int k = 0; k < 100; k++)
		assert_true(count[k] > 1600 && count[k] < 2400);
	gen_model_free(m);
}

static void
test_model_ipv6_share_of_keys(void **state)
{
	struct gen_model_params p = { .seed = 3, .keys = 20000, .skew = 1.0, .ipv6_share = 0.2 };
	struct gen_model *m;
	uint32_t v6 = 0;

	(void)state;
	assert_non_null(m = gen_model_new(&p, NULL));
	for (uint32_t k = 0; k < p.keys; k++) {
		struct flow_record r;

		gen_model_key(m, k, &r);
		assert_int_equal(r.src.family, r.dst.family);
		v6 += r.src.family == ADDR_V6;
	}
	assert_true(v6 > 3600 && v6 < 4400);
	gen_model_free(m);
	p.ipv6_share = 0;
	assert_non_null(m = gen_model_new(&p, NULL));
	for (uint32_t k = 0; k < p.keys; k++) {
		struct flow_record r;

		gen_model_key(m, k, &r);
		assert_int_equal(r.src.family, ADDR_V4);
	}
	gen_model_free(m);
}

static void
test_model_refuses_bad_parameters(void **state)
{
	struct gen_model_params p = { .seed = 1, .keys = 0, .skew = 1.0 };
	const char *why;

	(void)state;
	assert_null(gen_model_new(&p, &why));
	assert_non_null(why);
	p.keys = GEN_MAX_KEYS + 1;
	assert_null(gen_model_new(&p, &why));
	p.keys = 10;
	p.skew = -1;
	assert_null(gen_model_new(&p, &why));
	p.skew = 1;
	p.ipv6_share = 1.5;
	assert_null(gen_model_new(&p, &why));
}

/* ---- ground truth, and round trips through the collector's decoders ---- */

#define RUN_MAX_DGRAMS	512
#define RUN_MAX_FLOWS	8192

/* What a run encoded: datagrams, the flows in order, and its truth. */
struct run {
	uint8_t		 dgram[RUN_MAX_DGRAMS][1472];
	size_t		 len[RUN_MAX_DGRAMS];
	uint32_t	 seq[RUN_MAX_DGRAMS];
	size_t		 n;
	struct flow_record flows[RUN_MAX_FLOWS];
	size_t		 nflows;
	struct gen_truth *truth;
	struct gen_enc	 enc;
};

/* Encodes `records` model records as flowpath-gen does (carry on FULL). */
static struct run *
run_encode(uint8_t version, uint32_t records, double ipv6_share, uint32_t sampling, uint32_t seed)
{
	struct gen_model_params mp = { .seed = seed, .keys = 300, .skew = 1.1, .ipv6_share = ipv6_share };
	struct gen_model *m;
	struct run *run = calloc(1, sizeof(*run));
	struct flow_record carry;
	bool have_carry = false;
	uint32_t generated = 0;

	assert_non_null(run);
	assert_true(records <= RUN_MAX_FLOWS);
	assert_non_null(m = gen_model_new(&mp, NULL));
	assert_non_null(run->truth = gen_truth_new(1, 300));
	assert_null(gen_enc_init(&run->enc, version, 7, sampling, 5));
	while (generated < records || have_carry) {
		struct gen_msg msg;

		assert_true(run->n < RUN_MAX_DGRAMS);
		assert_true(gen_msg_begin(&msg, &run->enc, run->dgram[run->n], 1472, &test_clock));
		for (;;) {
			struct flow_record r;

			if (have_carry) {
				r = carry;
				have_carry = false;
			} else if (generated < records) {
				gen_model_next(m, EXPORT_MS_V9 - 100, &r);
				generated++;
			} else {
				break;
			}
			if (gen_msg_add(&msg, &r) == GEN_ADD_FULL) {
				carry = r;
				have_carry = true;
				break;
			}
			gen_truth_add_record(run->truth, 0, &r);
			run->flows[run->nflows++] = r;
		}
		run->seq[run->n] = run->enc.sequence;
		run->len[run->n] = gen_msg_finish(&msg);
		gen_truth_add_datagram(run->truth, 0, run->len[run->n]);
		run->n++;
	}
	gen_model_free(m);
	return run;
}

static void
run_free(struct run *run)
{
	gen_truth_free(run->truth);
	free(run);
}

static void
test_truth_sums_what_was_encoded(void **state)
{
	struct run *run = run_encode(5, 1000, 0, 0, 11);
	uint64_t records = 0, packets = 0, octets = 0, bytes = 0, port_octets = 0, src_octets = 0;
	const struct gen_counts *t = gen_truth_total(run->truth);
	struct gen_talker top[10];
	size_t n;

	(void)state;
	/* read the v5 bytes back by hand */
	for (size_t d = 0; d < run->n; d++) {
		const uint8_t *b = run->dgram[d];
		uint16_t count = be16(b + 2);

		assert_int_equal(run->len[d], 24 + 48 * (size_t)count);
		assert_int_equal(be32(b + 16), records);	/* flow sequence */
		for (uint16_t i = 0; i < count; i++) {
			packets += be32(b + 24 + 48 * i + 16);
			octets += be32(b + 24 + 48 * i + 20);
		}
		records += count;
		bytes += run->len[d];
	}
	assert_int_equal(records, 1000);
	assert_int_equal(t->records, records);
	assert_int_equal(t->packets, packets);
	assert_int_equal(t->octets, octets);
	assert_int_equal(t->datagrams, run->n);
	assert_int_equal(t->bytes, bytes);
	assert_int_equal(run->n, (1000 + 29) / 30);
	assert_memory_equal(gen_truth_exporter(run->truth, 0), t, sizeof(*t));

	/* top talkers are ordered by octets and are what the flows sum to */
	n = gen_truth_top_dst_ports(run->truth, top, 10);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		uint64_t sum = 0;

		for (size_t f = 0; f < run->nflows; f++)
			if (run->flows[f].dst_port == top[i].port)
				sum += run->flows[f].octets;
		assert_int_equal(sum, top[i].octets);
		if (i > 0)
			assert_true(top[i - 1].octets >= top[i].octets);
		port_octets += top[i].octets;
	}
	n = gen_truth_top_src_addrs(run->truth, top, 10);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		uint64_t sum = 0;

		for (size_t f = 0; f < run->nflows; f++)
			if (memcmp(run->flows[f].src.bytes, top[i].addr.bytes, 4) == 0)
				sum += run->flows[f].octets;
		assert_int_equal(sum, top[i].octets);
		if (i > 0)
			assert_true(top[i - 1].octets >= top[i].octets);
		src_octets += top[i].octets;
	}
	assert_true(port_octets <= octets && src_octets <= octets);
	run_free(run);
}

static void
test_same_seed_gives_same_bytes(void **state)
{
	struct run *a = run_encode(10, 2000, 0.2, 10, 21);
	struct run *b = run_encode(10, 2000, 0.2, 10, 21);

	(void)state;
	assert_int_equal(a->n, b->n);
	for (size_t d = 0; d < a->n; d++) {
		assert_int_equal(a->len[d], b->len[d]);
		assert_memory_equal(a->dgram[d], b->dgram[d], a->len[d]);
	}
	assert_memory_equal(gen_truth_total(a->truth), gen_truth_total(b->truth), sizeof(struct gen_counts));
	run_free(a);
	run_free(b);
}

struct decoded {
	struct flow_record rec[RUN_MAX_FLOWS];
	size_t		 n;
	uint64_t	 packets, octets;
};

static void
collect(const struct flow_record *r, void *arg)
{
	struct decoded *d = arg;

	assert_true(d->n < RUN_MAX_FLOWS);
	d->rec[d->n++] = *r;
	d->packets += r->packets;
	d->octets += r->octets;
}

static bool
addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family &&
	    memcmp(a->bytes, b->bytes, a->family == ADDR_V4 ? 4 : 16) == 0;
}

/* Every decoded record is the flow that was encoded, field by field. */
static void
check_records_equal(const struct run *run, const struct decoded *d, uint32_t sampling)
{
	assert_int_equal(d->n, run->nflows);
	for (size_t i = 0; i < d->n; i++) {
		const struct flow_record *a = &run->flows[i], *b = &d->rec[i];

		assert_true(addr_equal(&a->src, &b->src));
		assert_true(addr_equal(&a->dst, &b->dst));
		assert_true(addr_equal(&a->next_hop, &b->next_hop));
		assert_int_equal(a->src_port, b->src_port);
		assert_int_equal(a->dst_port, b->dst_port);
		assert_int_equal(a->proto, b->proto);
		assert_int_equal(a->tos, b->tos);
		assert_int_equal(a->tcp_flags, b->tcp_flags);
		assert_int_equal(a->src_mask, b->src_mask);
		assert_int_equal(a->dst_mask, b->dst_mask);
		assert_int_equal(a->src_as, b->src_as);
		assert_int_equal(a->dst_as, b->dst_as);
		assert_int_equal(a->in_if, b->in_if);
		assert_int_equal(a->out_if, b->out_if);
		assert_int_equal(a->packets, b->packets);
		assert_int_equal(a->octets, b->octets);
		assert_int_equal(a->start_ms, b->start_ms);
		assert_int_equal(a->end_ms, b->end_ms);
		assert_int_equal(b->domain, 7);
		if (sampling > 1)
			assert_int_equal(b->sampling, sampling);
	}
}

static void
round_trip(uint8_t version, double ipv6_share, uint32_t sampling)
{
	struct run *run = run_encode(version, 3000, ipv6_share, sampling, 17);
	struct decoded *d = calloc(1, sizeof(*d));
	struct tmpl_cache *cache = tmpl_cache_new(&(struct tmpl_limits){ 0 });
	const struct gen_counts *t = gen_truth_total(run->truth);
	struct addr exporter;
	uint64_t records = 0;

	assert_non_null(d);
	assert_non_null(cache);
	assert_null(addr_parse("127.0.0.1", &exporter));
	for (size_t i = 0; i < run->n; i++) {
		struct decode_result res;
		size_t before = d->n;

		memset(&res, 0, sizeof(res));
		if (version == 5)
			v5_decode(run->dgram[i], run->len[i], &exporter, collect, d, &res);
		else if (version == 9)
			v9_decode(run->dgram[i], run->len[i], &exporter, cache, collect, d, &res);
		else
			ipfix_decode(run->dgram[i], run->len[i], &exporter, cache, collect, d, &res);
		assert_int_equal(res.error, DECODE_OK);
		assert_int_equal(res.version, version);
		assert_int_equal(res.domain, 7);
		assert_int_equal(res.sets_without_template, 0);
		assert_int_equal(res.records, d->n - before);
		/* each protocol's sequence rule, as a collector checks it */
		if (version == 5)
			assert_int_equal(res.sequence, records);
		else if (version == 9)
			assert_int_equal(res.sequence, i);
		else
			assert_int_equal(res.sequence, run->seq[i]);
		records += res.records;
	}
	assert_int_equal(records, t->records);
	assert_int_equal(d->n, t->records);
	assert_int_equal(d->packets, t->packets);
	assert_int_equal(d->octets, t->octets);
	check_records_equal(run, d, sampling);
	if (version != 5) {
		assert_int_equal(tmpl_cache_count(cache, &exporter, version, 7), sampling > 1 ? 3 : 2);
		assert_int_equal(tmpl_cache_sampling(cache, &exporter, version, 7), sampling > 1 ? sampling : 0);
	}
	tmpl_cache_free(cache);
	free(d);
	run_free(run);
}

static void
test_round_trip_v5_decoder_reads_ground_truth(void **state)
{
	(void)state;
	round_trip(5, 0, 0);
	round_trip(5, 0, 100);
}

static void
test_round_trip_v9_decoder_reads_ground_truth(void **state)
{
	(void)state;
	round_trip(9, 0, 0);
	round_trip(9, 0.3, 100);
}

static void
test_round_trip_ipfix_decoder_reads_ground_truth(void **state)
{
	(void)state;
	round_trip(10, 0, 0);
	round_trip(10, 0.3, 100);
}

/* The IPFIX sequence a collector expects: previous + flow records + options data records. */
static void
test_ipfix_sequence_matches_decoded_record_counts(void **state)
{
	struct run *run = run_encode(10, 3000, 0.2, 50, 23);
	struct tmpl_cache *cache = tmpl_cache_new(&(struct tmpl_limits){ 0 });
	struct decoded *d = calloc(1, sizeof(*d));
	struct addr exporter;
	uint32_t expect = 0;

	(void)state;
	assert_non_null(d);
	assert_null(addr_parse("127.0.0.1", &exporter));
	for (size_t i = 0; i < run->n; i++) {
		struct decode_result res;

		memset(&res, 0, sizeof(res));
		ipfix_decode(run->dgram[i], run->len[i], &exporter, cache, collect, d, &res);
		assert_int_equal(res.sequence, expect);
		expect += res.records + res.options_records;
	}
	assert_int_equal(expect, run->enc.sequence);
	tmpl_cache_free(cache);
	free(d);
	run_free(run);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_destination_check_accepts_only_loopback),
		cmocka_unit_test(test_v5_header_and_record_bytes),
		cmocka_unit_test(test_v5_unsampled_header_has_zero_interval),
		cmocka_unit_test(test_v5_datagram_never_exceeds_30_records),
		cmocka_unit_test(test_v5_sequence_counts_flows),
		cmocka_unit_test(test_v5_refuses_what_it_cannot_carry),
		cmocka_unit_test(test_v9_first_datagram_carries_templates_then_padded_data),
		cmocka_unit_test(test_v9_sequence_counts_export_packets),
		cmocka_unit_test(test_v9_templates_repeat_every_n_datagrams),
		cmocka_unit_test(test_v9_sampling_options_template_precede_data),
		cmocka_unit_test(test_ipfix_header_templates_options_and_data_bytes),
		cmocka_unit_test(test_ipfix_sequence_counts_data_records_before_message),
		cmocka_unit_test(test_datagrams_fit_max_size_for_every_version),
		cmocka_unit_test(test_model_is_deterministic_for_a_seed),
		cmocka_unit_test(test_model_packets_and_octets_stay_in_range),
		cmocka_unit_test(test_zipf_skew_makes_first_key_most_frequent),
		cmocka_unit_test(test_model_ipv6_share_of_keys),
		cmocka_unit_test(test_model_refuses_bad_parameters),
		cmocka_unit_test(test_truth_sums_what_was_encoded),
		cmocka_unit_test(test_same_seed_gives_same_bytes),
		cmocka_unit_test(test_round_trip_v5_decoder_reads_ground_truth),
		cmocka_unit_test(test_round_trip_v9_decoder_reads_ground_truth),
		cmocka_unit_test(test_round_trip_ipfix_decoder_reads_ground_truth),
		cmocka_unit_test(test_ipfix_sequence_matches_decoded_record_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
