/* NetFlow v9 decoder (RFC 3954): byte vectors built in each test, malformed ones included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/netflow_v9.h"
#include "tests/unit/pkt.h"

#define EXPORT_SECS	1700000000u
#define UPTIME_MS	100000u

static void
header(struct pkt *p, uint32_t seq, uint32_t source_id)
{
	memset(p, 0, sizeof(*p));
	put16(p, 9);
	put16(p, 1);			/* count: not relied on */
	put32(p, UPTIME_MS);
	put32(p, EXPORT_SECS);
	put32(p, seq);
	put32(p, source_id);
}

/* A template flowset with one template of (type, length) pairs. */
static void
template(struct pkt *p, uint16_t id, const uint16_t *pairs, uint16_t nfields)
{
	uint16_t i;

	set_begin(p, 0);
	put16(p, id);
	put16(p, nfields);
	for (i = 0; i < nfields * 2; i++)
		put16(p, pairs[i]);
	set_end(p);
}

static struct addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct addr x;

	memset(&x, 0, sizeof(x));
	x.family = ADDR_V4;
	x.bytes[0] = a;
	x.bytes[1] = b;
	x.bytes[2] = c;
	x.bytes[3] = d;
	return x;
}

static void
decode(struct pkt *p, const struct addr *exp, struct tmpl_cache *c, struct sink *s,
    struct decode_result *res)
{
	v9_decode(p->b, p->len, exp, c, collect, s, res);
}

static void
assert_v4(const struct addr *a, uint8_t x0, uint8_t x1, uint8_t x2, uint8_t x3)
{
	assert_int_equal(a->family, ADDR_V4);
	assert_int_equal(a->bytes[0], x0);
	assert_int_equal(a->bytes[1], x1);
	assert_int_equal(a->bytes[2], x2);
	assert_int_equal(a->bytes[3], x3);
}

static const uint16_t v4_fields[] = {
	8, 4, 12, 4, 15, 4, 7, 2, 11, 2, 4, 1, 5, 1, 6, 1, 9, 1, 13, 1,
	16, 2, 17, 4, 10, 2, 14, 4, 1, 4, 2, 8, 22, 4, 21, 4,
};
#define V4_NFIELDS	18
#define V4_RECLEN	(4 + 4 + 4 + 2 + 2 + 1 + 1 + 1 + 1 + 1 + 2 + 4 + 2 + 4 + 4 + 8 + 4 + 4)

static void
v4_record(struct pkt *p, uint8_t last_octet)
{
	put32(p, 0xc0000201);		/* 192.0.2.1 */
	put8(p, 198); put8(p, 51); put8(p, 100); put8(p, last_octet);
	put32(p, 0xc00002fe);		/* next hop 192.0.2.254 */
	put16(p, 40000);
	put16(p, 443);
	put8(p, 6);
	put8(p, 0x28);
	put8(p, 0x1b);
	put8(p, 24);
	put8(p, 16);
	put16(p, 64500);
	put32(p, 4200000000u);
	put16(p, 3);
	put32(p, 70000);
	put32(p, 123456);
	put64(p, 0x100000001ull);
	put32(p, UPTIME_MS - 10000);	/* first switched: 10 s before export */
	put32(p, UPTIME_MS - 1000);
}

static void
template_and_v4_data_fill_every_field(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;
	struct flow_record *r;

	header(&p, 77, 42);
	template(&p, 256, v4_fields, V4_NFIELDS);
	set_begin(&p, 256);
	v4_record(&p, 7);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);

	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.version, 9);
	assert_int_equal(res.sequence, 77);
	assert_int_equal(res.domain, 42);
	assert_int_equal(res.sys_uptime_ms, UPTIME_MS);
	assert_int_equal(res.export_secs, EXPORT_SECS);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.records, 1);
	assert_int_equal(res.templates_added, 1);
	assert_int_equal(res.sets_without_template, 0);
	assert_int_equal(s.n, 1);
	r = &s.recs[0];
	assert_v4(&r->src, 192, 0, 2, 1);
	assert_v4(&r->dst, 198, 51, 100, 7);
	assert_v4(&r->next_hop, 192, 0, 2, 254);
	assert_v4(&r->exporter, 10, 0, 0, 1);
	assert_int_equal(r->domain, 42);
	assert_int_equal(r->src_port, 40000);
	assert_int_equal(r->dst_port, 443);
	assert_int_equal(r->proto, 6);
	assert_int_equal(r->tos, 0x28);
	assert_int_equal(r->tcp_flags, 0x1b);
	assert_int_equal(r->src_mask, 24);
	assert_int_equal(r->dst_mask, 16);
	assert_int_equal(r->src_as, 64500);
	assert_int_equal(r->dst_as, 4200000000u);
	assert_int_equal(r->in_if, 3);
	assert_int_equal(r->out_if, 70000);
	assert_int_equal(r->octets, 123456);
	assert_int_equal(r->packets, 0x100000001ull);
	assert_int_equal(r->start_ms, (int64_t)EXPORT_SECS * 1000 - 10000);
	assert_int_equal(r->end_ms, (int64_t)EXPORT_SECS * 1000 - 1000);
	assert_int_equal(r->sampling, 0);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 42), 1);
	tmpl_cache_free(c);
}

static void
template_and_v6_data_fill_every_field(void **state)
{
	static const uint16_t f[] = { 27, 16, 28, 16, 62, 16, 29, 1, 30, 1, 7, 2, 11, 2, 4, 1, 1, 8, 2, 4 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, [14] = 0xab, [15] = 0xcd };
	static const uint8_t n6[16] = { 0xfe, 0x80, [15] = 9 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;
	struct flow_record *r;

	header(&p, 1, 0);
	template(&p, 300, f, 10);
	set_begin(&p, 300);
	putn(&p, a6, 16);
	putn(&p, b6, 16);
	putn(&p, n6, 16);
	put8(&p, 48);
	put8(&p, 64);
	put16(&p, 53);
	put16(&p, 5353);
	put8(&p, 17);
	put64(&p, 9000000000ull);
	put32(&p, 12);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);

	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(s.n, 1);
	r = &s.recs[0];
	assert_int_equal(r->src.family, ADDR_V6);
	assert_memory_equal(r->src.bytes, a6, 16);
	assert_int_equal(r->dst.family, ADDR_V6);
	assert_memory_equal(r->dst.bytes, b6, 16);
	assert_int_equal(r->next_hop.family, ADDR_V6);
	assert_memory_equal(r->next_hop.bytes, n6, 16);
	assert_int_equal(r->src_mask, 48);
	assert_int_equal(r->dst_mask, 64);
	assert_int_equal(r->src_port, 53);
	assert_int_equal(r->dst_port, 5353);
	assert_int_equal(r->proto, 17);
	assert_int_equal(r->octets, 9000000000ull);
	assert_int_equal(r->packets, 12);
	assert_int_equal(r->start_ms, 0);
	assert_int_equal(r->end_ms, 0);
	assert_int_equal(r->src_as, 0);
	assert_int_equal(r->in_if, 0);
	tmpl_cache_free(c);
}

static void
options_sampling_applies_to_later_records(void **state)
{
	static const uint16_t f[] = { 8, 4, 1, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	/* Options template 257: scope System (1, 4 bytes); samplingInterval, samplingAlgorithm. */
	header(&p, 1, 5);
	set_begin(&p, 1);
	put16(&p, 257);
	put16(&p, 4);
	put16(&p, 8);
	put16(&p, 1); put16(&p, 4);
	put16(&p, 34); put16(&p, 4);
	put16(&p, 35); put16(&p, 1);
	put16(&p, 0);			/* padding to 4 bytes */
	set_end(&p);
	template(&p, 256, f, 2);
	set_begin(&p, 256);		/* before the options data: unsampled */
	put32(&p, 0x01020304);
	put32(&p, 10);
	set_end(&p);
	set_begin(&p, 257);
	put32(&p, 0);
	put32(&p, 100);
	put8(&p, 2);
	put8(&p, 0); put8(&p, 0); put8(&p, 0);	/* padding */
	set_end(&p);
	set_begin(&p, 256);
	put32(&p, 0x01020305);
	put32(&p, 20);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);

	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.templates_added, 2);
	assert_int_equal(res.options_records, 1);
	assert_int_equal(res.records, 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.recs[0].sampling, 0);
	assert_int_equal(s.recs[1].sampling, 100);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 9, 5), 100);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 9, 6), 0);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 10, 5), 0);

	/* The next datagram's records carry it too. */
	header(&p, 2, 5);
	set_begin(&p, 256);
	put32(&p, 0x01020306);
	put32(&p, 30);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.recs[2].sampling, 100);
	tmpl_cache_free(c);
}

static void
template_redefinition_replaces_the_old_one(void **state)
{
	static const uint16_t a[] = { 8, 4, 12, 4 };
	static const uint16_t b[] = { 12, 4, 7, 2, 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, a, 2);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.templates_added, 1);

	/* The same template again is a refresh, not a new one. */
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.templates_added, 0);
	assert_int_equal(res.error, DECODE_OK);

	header(&p, 2, 0);
	template(&p, 256, b, 3);
	set_begin(&p, 256);
	put32(&p, 0x0a000002);		/* dst */
	put16(&p, 80);
	put32(&p, 0x0a000001);		/* src */
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.templates_added, 1);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 1);
	assert_int_equal(s.n, 1);
	assert_v4(&s.recs[0].src, 10, 0, 0, 1);
	assert_v4(&s.recs[0].dst, 10, 0, 0, 2);
	assert_int_equal(s.recs[0].src_port, 80);
	tmpl_cache_free(c);
}

static void
data_before_template_is_counted_not_decoded(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	set_begin(&p, 256);
	v4_record(&p, 1);
	set_end(&p);
	set_begin(&p, 256);
	v4_record(&p, 2);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.sets_without_template, 2);
	assert_int_equal(res.records, 0);
	assert_int_equal(s.n, 0);

	/* Once the template arrives the same data decodes. */
	header(&p, 2, 0);
	template(&p, 256, v4_fields, V4_NFIELDS);
	set_begin(&p, 256);
	v4_record(&p, 1);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.sets_without_template, 0);
	assert_int_equal(s.n, 1);
	tmpl_cache_free(c);
}

static void
truncated_header_is_short(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	v9_decode(p.b, 19, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_SHORT);
	v9_decode(p.b, 0, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_SHORT);
	/* The header alone is a valid, empty datagram. */
	v9_decode(p.b, 20, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.version, 9);
	p.b[1] = 5;
	v9_decode(p.b, 20, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_VERSION);
	assert_int_equal(s.n, 0);
	tmpl_cache_free(c);
}

static void
flowset_length_below_4_stops_after_earlier_sets(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 1);
	put16(&p, 256);
	put16(&p, 3);
	put32(&p, 0);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_SET);
	assert_int_equal(res.templates_added, 1);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 1);
	tmpl_cache_free(c);
}

static void
flowset_length_past_datagram_stops(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 1);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	p.b[p.set + 3] += 4;		/* claims 4 more bytes than sent */
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_SET);
	assert_int_equal(res.records, 0);
	assert_int_equal(s.n, 0);
	tmpl_cache_free(c);
}

static void
template_with_zero_fields_is_invalid(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	set_begin(&p, 0);
	put16(&p, 256);
	put16(&p, 0);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(res.templates_added, 0);
	assert_int_equal(res.templates_withdrawn, 0);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 0);
	tmpl_cache_free(c);
}

static void
template_with_thousands_of_fields_is_invalid(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;
	int i;

	header(&p, 1, 0);
	set_begin(&p, 0);
	put16(&p, 256);
	put16(&p, 3000);
	for (i = 0; i < 3000; i++) {
		put16(&p, 8);
		put16(&p, 4);
	}
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 0);

	/* 512 is the limit and is accepted. */
	header(&p, 2, 0);
	set_begin(&p, 0);
	put16(&p, 256);
	put16(&p, 512);
	for (i = 0; i < 512; i++) {
		put16(&p, 1000);
		put16(&p, 1);
	}
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 1);

	/* A count the flowset cannot hold. */
	header(&p, 3, 0);
	set_begin(&p, 0);
	put16(&p, 257);
	put16(&p, 10);
	put16(&p, 8);
	put16(&p, 4);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 1);
	tmpl_cache_free(c);
}

static void
field_length_zero_is_invalid(void **state)
{
	static const uint16_t f[] = { 8, 4, 12, 0 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 2);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 0);
	tmpl_cache_free(c);
}

static void
field_length_65535_is_invalid_in_v9(void **state)
{
	static const uint16_t f[] = { 8, 4, 82, 65535 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 2);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 0);
	tmpl_cache_free(c);
}

static void
template_id_below_256_is_invalid(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 255, f, 1);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 0);
	tmpl_cache_free(c);
}

static void
malformed_template_stops_its_flowset_only(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	set_begin(&p, 0);
	put16(&p, 256); put16(&p, 1); put16(&p, 8); put16(&p, 4);	/* good */
	put16(&p, 257); put16(&p, 1); put16(&p, 8); put16(&p, 0);	/* bad */
	put16(&p, 258); put16(&p, 1); put16(&p, 8); put16(&p, 4);	/* not reached */
	set_end(&p);
	template(&p, 259, f, 1);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(res.templates_added, 2);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 2);
	assert_int_equal(s.n, 1);
	tmpl_cache_free(c);
}

static void
options_template_lengths_must_be_whole_fields(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	set_begin(&p, 1);
	put16(&p, 257);
	put16(&p, 4);
	put16(&p, 6);
	put16(&p, 1); put16(&p, 4);
	put16(&p, 34); put16(&p, 4);
	put16(&p, 0);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);

	/* Scope and option bytes past the flowset. */
	header(&p, 2, 0);
	set_begin(&p, 1);
	put16(&p, 257);
	put16(&p, 4);
	put16(&p, 400);
	put16(&p, 1); put16(&p, 4);
	put16(&p, 34); put16(&p, 4);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 0);
	tmpl_cache_free(c);
}

static void
padding_after_records_and_templates_is_ignored(void **state)
{
	static const uint16_t f[] = { 8, 4, 4, 1 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	set_begin(&p, 0);
	put16(&p, 256); put16(&p, 2);
	put16(&p, f[0]); put16(&p, f[1]); put16(&p, f[2]); put16(&p, f[3]);
	put32(&p, 0);			/* zero padding in a template flowset */
	set_end(&p);
	set_begin(&p, 256);
	put32(&p, 0x01020304); put8(&p, 6);
	put32(&p, 0x01020305); put8(&p, 17);
	put16(&p, 0);			/* 2 bytes: shorter than a 5-byte record */
	set_end(&p);
	put8(&p, 0);			/* trailing datagram bytes below a flowset header */
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.records, 2);
	assert_int_equal(s.recs[1].proto, 17);
	tmpl_cache_free(c);
}

static void
reserved_flowset_ids_are_skipped(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	set_begin(&p, 7);
	put32(&p, 0xdeadbeef);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.sets_without_template, 0);
	tmpl_cache_free(c);
}

static void
reduced_size_integers_are_read(void **state)
{
	/* 1-byte AS and interfaces, 3-byte octets, 1-byte port; a 2-byte address is skipped. */
	static const uint16_t f[] = { 16, 1, 10, 1, 1, 3, 7, 1, 12, 2, 2, 1 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 6);
	set_begin(&p, 256);
	put8(&p, 200);
	put8(&p, 9);
	put8(&p, 0x01); put8(&p, 0x02); put8(&p, 0x03);
	put8(&p, 22);
	put16(&p, 0xffff);
	put8(&p, 5);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.recs[0].src_as, 200);
	assert_int_equal(s.recs[0].in_if, 9);
	assert_int_equal(s.recs[0].octets, 0x010203);
	assert_int_equal(s.recs[0].src_port, 22);
	assert_int_equal(s.recs[0].dst.family, ADDR_NONE);
	assert_int_equal(s.recs[0].packets, 5);
	tmpl_cache_free(c);
}

static void
uptime_timestamps_survive_uptime_wrap(void **state)
{
	static const uint16_t f[] = { 22, 4, 21, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	p.b[4] = 0; p.b[5] = 0; p.b[6] = 0x03; p.b[7] = 0xe8;	/* sysUptime 1000 */
	template(&p, 256, f, 2);
	set_begin(&p, 256);
	put32(&p, 0xffffff00u);		/* 1256 ms before export, before the wrap */
	put32(&p, 1500);		/* 500 ms after the header: clock skew */
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.recs[0].start_ms, (int64_t)EXPORT_SECS * 1000 - 1256);
	assert_int_equal(s.recs[0].end_ms, (int64_t)EXPORT_SECS * 1000 + 500);
	tmpl_cache_free(c);
}

static void
templates_are_isolated_per_exporter_and_source_id(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 1);
	template(&p, 256, f, 1);
	decode(&p, &a, c, &s, &res);

	header(&p, 2, 1);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	decode(&p, &b, c, &s, &res);
	assert_int_equal(res.sets_without_template, 1);
	header(&p, 2, 2);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	decode(&p, &a, c, &s, &res);
	assert_int_equal(res.sets_without_template, 1);
	assert_int_equal(s.n, 0);
	assert_int_equal(tmpl_cache_count(c, &a, 9, 1), 1);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 1), 0);
	assert_int_equal(tmpl_cache_count(c, &b, 9, 1), 0);
	tmpl_cache_free(c);
}

static void
forget_drops_templates_and_sampling(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;
	size_t empty = tmpl_cache_bytes(c);

	header(&p, 1, 3);
	template(&p, 256, f, 1);
	set_begin(&p, 1);
	put16(&p, 257); put16(&p, 4); put16(&p, 4);
	put16(&p, 1); put16(&p, 4);
	put16(&p, 34); put16(&p, 4);
	set_end(&p);
	set_begin(&p, 257);
	put32(&p, 0);
	put32(&p, 64);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 3), 2);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 9, 3), 64);
	assert_true(tmpl_cache_bytes(c) > empty);

	tmpl_cache_forget(c, &exp, 9, 3);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 3), 0);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 9, 3), 0);
	assert_int_equal(tmpl_cache_bytes(c), empty);
	header(&p, 2, 3);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.sets_without_template, 1);
	tmpl_cache_free(c);
}

static void
template_cap_per_source_refuses_and_counts(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_limits lim = { .max_templates = 2 };
	struct tmpl_cache *c = tmpl_cache_new(&lim);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 1);
	template(&p, 257, f, 1);
	template(&p, 258, f, 1);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.templates_added, 2);
	assert_int_equal(res.templates_refused, 1);
	assert_int_equal(tmpl_cache_refused(c), 1);
	assert_int_equal(tmpl_cache_count(c, &exp, 9, 0), 2);
	/* Another domain has its own allowance. */
	header(&p, 1, 1);
	template(&p, 258, f, 1);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.templates_added, 1);
	tmpl_cache_free(c);
}

static void
source_cap_refuses_and_counts(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_limits lim = { .max_sources = 2 };
	struct tmpl_cache *c = tmpl_cache_new(&lim);
	struct addr e1 = v4(10, 0, 0, 1), e2 = v4(10, 0, 0, 2), e3 = v4(10, 0, 0, 3);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 1);
	decode(&p, &e1, c, &s, &res);
	decode(&p, &e2, c, &s, &res);
	assert_int_equal(res.templates_added, 1);
	decode(&p, &e3, c, &s, &res);
	assert_int_equal(res.templates_added, 0);
	assert_int_equal(res.templates_refused, 1);
	assert_int_equal(tmpl_cache_refused(c), 1);
	assert_int_equal(tmpl_cache_count(c, &e3, 9, 0), 0);
	/* Forgetting one frees a place. */
	tmpl_cache_forget(c, &e1, 9, 0);
	decode(&p, &e3, c, &s, &res);
	assert_int_equal(res.templates_added, 1);
	tmpl_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(template_and_v4_data_fill_every_field),
		cmocka_unit_test(template_and_v6_data_fill_every_field),
		cmocka_unit_test(options_sampling_applies_to_later_records),
		cmocka_unit_test(template_redefinition_replaces_the_old_one),
		cmocka_unit_test(data_before_template_is_counted_not_decoded),
		cmocka_unit_test(truncated_header_is_short),
		cmocka_unit_test(flowset_length_below_4_stops_after_earlier_sets),
		cmocka_unit_test(flowset_length_past_datagram_stops),
		cmocka_unit_test(template_with_zero_fields_is_invalid),
		cmocka_unit_test(template_with_thousands_of_fields_is_invalid),
		cmocka_unit_test(field_length_zero_is_invalid),
		cmocka_unit_test(field_length_65535_is_invalid_in_v9),
		cmocka_unit_test(template_id_below_256_is_invalid),
		cmocka_unit_test(malformed_template_stops_its_flowset_only),
		cmocka_unit_test(options_template_lengths_must_be_whole_fields),
		cmocka_unit_test(padding_after_records_and_templates_is_ignored),
		cmocka_unit_test(reserved_flowset_ids_are_skipped),
		cmocka_unit_test(reduced_size_integers_are_read),
		cmocka_unit_test(uptime_timestamps_survive_uptime_wrap),
		cmocka_unit_test(templates_are_isolated_per_exporter_and_source_id),
		cmocka_unit_test(forget_drops_templates_and_sampling),
		cmocka_unit_test(template_cap_per_source_refuses_and_counts),
		cmocka_unit_test(source_cap_refuses_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
