/* IPFIX decoder (RFC 7011): byte vectors built in each test, malformed ones included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/ipfix.h"
#include "tests/unit/pkt.h"

#define EXPORT_SECS	1700000000u
#define NTP_OFFSET	2208988800u

static void
header(struct pkt *p, uint32_t seq, uint32_t domain)
{
	memset(p, 0, sizeof(*p));
	put16(p, 10);
	put16(p, 0);			/* message length: finish() */
	put32(p, EXPORT_SECS);
	put32(p, seq);
	put32(p, domain);
}

static void
finish(struct pkt *p)
{
	p->b[2] = (uint8_t)(p->len >> 8);
	p->b[3] = (uint8_t)p->len;
}

/* A template set with one template of (id, length) pairs (IANA elements). */
static void
template(struct pkt *p, uint16_t id, const uint16_t *pairs, uint16_t nfields)
{
	uint16_t i;

	set_begin(p, 2);
	put16(p, id);
	put16(p, nfields);
	for (i = 0; i < nfields * 2; i++)
		put16(p, pairs[i]);
	set_end(p);
}

static void
withdraw(struct pkt *p, uint16_t set_id, uint16_t id)
{
	set_begin(p, set_id);
	put16(p, id);
	put16(p, 0);
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
	finish(p);
	ipfix_decode(p->b, p->len, exp, c, collect, s, res);
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
	8, 4, 12, 4, 15, 4, 7, 2, 11, 2, 4, 1, 5, 1, 6, 2, 9, 1, 13, 1,
	16, 4, 17, 4, 10, 4, 14, 4, 1, 8, 2, 8, 152, 8, 153, 8,
};
#define V4_NFIELDS	18

static void
v4_record(struct pkt *p, uint8_t last_octet)
{
	put32(p, 0xc0000201);
	put8(p, 198); put8(p, 51); put8(p, 100); put8(p, last_octet);
	put32(p, 0xc00002fe);
	put16(p, 40000);
	put16(p, 443);
	put8(p, 6);
	put8(p, 0x28);
	put16(p, 0x0112);		/* tcpControlBits: ECE bit beyond the byte is dropped */
	put8(p, 24);
	put8(p, 16);
	put32(p, 64500);
	put32(p, 4200000000u);
	put32(p, 3);
	put32(p, 70000);
	put64(p, 123456);
	put64(p, 789);
	put64(p, 1699999990123ull);
	put64(p, 1699999999456ull);
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

	header(&p, 1234, 42);
	template(&p, 256, v4_fields, V4_NFIELDS);
	set_begin(&p, 256);
	v4_record(&p, 7);
	v4_record(&p, 8);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);

	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.version, 10);
	assert_int_equal(res.sequence, 1234);
	assert_int_equal(res.domain, 42);
	assert_int_equal(res.export_secs, EXPORT_SECS);
	assert_int_equal(res.sys_uptime_ms, 0);
	assert_int_equal(res.count, 0);
	assert_int_equal(res.records, 2);
	assert_int_equal(res.templates_added, 1);
	assert_int_equal(s.n, 2);
	r = &s.recs[0];
	assert_v4(&r->src, 192, 0, 2, 1);
	assert_v4(&r->dst, 198, 51, 100, 7);
	assert_v4(&s.recs[1].dst, 198, 51, 100, 8);
	assert_v4(&r->next_hop, 192, 0, 2, 254);
	assert_v4(&r->exporter, 10, 0, 0, 1);
	assert_int_equal(r->domain, 42);
	assert_int_equal(r->src_port, 40000);
	assert_int_equal(r->dst_port, 443);
	assert_int_equal(r->proto, 6);
	assert_int_equal(r->tos, 0x28);
	assert_int_equal(r->tcp_flags, 0x12);
	assert_int_equal(r->src_mask, 24);
	assert_int_equal(r->dst_mask, 16);
	assert_int_equal(r->src_as, 64500);
	assert_int_equal(r->dst_as, 4200000000u);
	assert_int_equal(r->in_if, 3);
	assert_int_equal(r->out_if, 70000);
	assert_int_equal(r->octets, 123456);
	assert_int_equal(r->packets, 789);
	assert_int_equal(r->start_ms, 1699999990123ll);
	assert_int_equal(r->end_ms, 1699999999456ll);
	assert_int_equal(r->sampling, 0);
	tmpl_cache_free(c);
}

static void
template_and_v6_data_with_ntp_timestamps(void **state)
{
	static const uint16_t f[] = { 27, 16, 28, 16, 62, 16, 29, 1, 30, 1, 154, 8, 157, 8, 85, 8, 86, 8 };
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
	template(&p, 300, f, 9);
	set_begin(&p, 300);
	putn(&p, a6, 16);
	putn(&p, b6, 16);
	putn(&p, n6, 16);
	put8(&p, 48);
	put8(&p, 64);
	put32(&p, EXPORT_SECS + NTP_OFFSET);
	put32(&p, 0x80000000u);		/* .5 s */
	put32(&p, EXPORT_SECS + 1 + NTP_OFFSET);
	put32(&p, 0x40000000u);		/* .25 s */
	put64(&p, 5000);
	put64(&p, 7);
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
	assert_int_equal(r->start_ms, (int64_t)EXPORT_SECS * 1000 + 500);
	assert_int_equal(r->end_ms, (int64_t)EXPORT_SECS * 1000 + 1250);
	assert_int_equal(r->octets, 5000);	/* total counts when no delta */
	assert_int_equal(r->packets, 7);
	tmpl_cache_free(c);
}

static void
seconds_timestamps_and_delta_counts_win_over_totals(void **state)
{
	static const uint16_t f[] = { 85, 8, 1, 4, 150, 4, 151, 4, 86, 4, 2, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 6);
	set_begin(&p, 256);
	put64(&p, 999999);
	put32(&p, 1500);
	put32(&p, EXPORT_SECS - 60);
	put32(&p, EXPORT_SECS - 1);
	put32(&p, 888);
	put32(&p, 3);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.recs[0].octets, 1500);
	assert_int_equal(s.recs[0].packets, 3);
	assert_int_equal(s.recs[0].start_ms, (int64_t)(EXPORT_SECS - 60) * 1000);
	assert_int_equal(s.recs[0].end_ms, (int64_t)(EXPORT_SECS - 1) * 1000);
	tmpl_cache_free(c);
}

static void
sysuptime_timestamps_need_system_init_time(void **state)
{
	static const uint16_t with[] = { 160, 8, 22, 4, 21, 4 };
	static const uint16_t without[] = { 22, 4, 21, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, with, 3);
	template(&p, 257, without, 2);
	set_begin(&p, 256);
	put64(&p, 1690000000000ull);
	put32(&p, 5000);
	put32(&p, 6000);
	set_end(&p);
	set_begin(&p, 257);
	put32(&p, 5000);
	put32(&p, 6000);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.recs[0].start_ms, 1690000005000ll);
	assert_int_equal(s.recs[0].end_ms, 1690000006000ll);
	/* No header uptime in IPFIX: unknown rather than guessed. */
	assert_int_equal(s.recs[1].start_ms, 0);
	assert_int_equal(s.recs[1].end_ms, 0);
	tmpl_cache_free(c);
}

/* Options template: scope observationDomainId (149), then the given (id, length) pairs. */
static void
options_template(struct pkt *p, uint16_t id, const uint16_t *pairs, uint16_t n)
{
	uint16_t i;

	set_begin(p, 3);
	put16(p, id);
	put16(p, (uint16_t)(n + 1));
	put16(p, 1);
	put16(p, 149);
	put16(p, 4);
	for (i = 0; i < n * 2; i++)
		put16(p, pairs[i]);
	put16(p, 0);			/* padding */
	set_end(p);
}

static void
options_sampling_applies_to_later_records(void **state)
{
	static const uint16_t o[] = { 305, 4, 306, 4 };
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 7);
	options_template(&p, 400, o, 2);
	template(&p, 256, f, 1);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	set_begin(&p, 400);
	put32(&p, 7);
	put32(&p, 1);
	put32(&p, 999);			/* 1 in 1000 */
	set_end(&p);
	set_begin(&p, 256);
	put32(&p, 0x01020305);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.options_records, 1);
	assert_int_equal(res.records, 2);
	assert_int_equal(s.recs[0].sampling, 0);
	assert_int_equal(s.recs[1].sampling, 1000);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 10, 7), 1000);
	tmpl_cache_free(c);
}

static void
options_sampling_interval_and_random_interval(void **state)
{
	static const uint16_t o34[] = { 34, 4, 35, 1 };
	static const uint16_t o50[] = { 50, 2 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 7);
	options_template(&p, 400, o34, 2);
	set_begin(&p, 400);
	put32(&p, 7);
	put32(&p, 512);
	put8(&p, 1);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 10, 7), 512);

	header(&p, 2, 8);
	options_template(&p, 401, o50, 1);
	set_begin(&p, 401);
	put32(&p, 8);
	put16(&p, 64);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 10, 8), 64);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 10, 7), 512);

	/* An options record without sampling leaves it as it was. */
	header(&p, 3, 8);
	options_template(&p, 402, (const uint16_t[]){ 41, 8 }, 1);
	set_begin(&p, 402);
	put32(&p, 8);
	put64(&p, 1);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.options_records, 1);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 10, 8), 64);
	tmpl_cache_free(c);
}

static void
template_redefinition_replaces_the_old_one(void **state)
{
	static const uint16_t a[] = { 8, 4, 12, 4 };
	static const uint16_t b[] = { 12, 4, 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, a, 2);
	template(&p, 256, b, 2);
	set_begin(&p, 256);
	put32(&p, 0x0a000002);
	put32(&p, 0x0a000001);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.templates_added, 2);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 1);
	assert_v4(&s.recs[0].src, 10, 0, 0, 1);
	assert_v4(&s.recs[0].dst, 10, 0, 0, 2);
	tmpl_cache_free(c);
}

static void
withdrawal_of_one_template(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 1);
	template(&p, 257, f, 1);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 2);

	header(&p, 2, 0);
	withdraw(&p, 2, 256);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	set_begin(&p, 257);
	put32(&p, 0x01020304);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.templates_withdrawn, 1);
	assert_int_equal(res.sets_without_template, 1);
	assert_int_equal(res.records, 1);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 1);
	tmpl_cache_free(c);
}

static void
withdrawal_of_all_templates_of_a_kind(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	static const uint16_t o[] = { 34, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 1);
	template(&p, 257, f, 1);
	options_template(&p, 258, o, 1);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 3);
	header(&p, 1, 1);		/* another domain is untouched */
	template(&p, 256, f, 1);
	decode(&p, &exp, c, &s, &res);

	header(&p, 2, 0);
	withdraw(&p, 2, 2);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.templates_withdrawn, 2);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 1);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 1), 1);

	header(&p, 3, 0);
	withdraw(&p, 3, 3);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.templates_withdrawn, 1);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 0);
	tmpl_cache_free(c);
}

static void
withdrawal_of_unknown_template_is_ignored(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	withdraw(&p, 2, 999);
	withdraw(&p, 2, 2);
	withdraw(&p, 3, 3);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.templates_withdrawn, 0);
	/* A reserved id other than the set id is malformed. */
	header(&p, 2, 0);
	withdraw(&p, 2, 7);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
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
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.sets_without_template, 1);
	assert_int_equal(res.records, 0);
	assert_int_equal(s.n, 0);
	tmpl_cache_free(c);
}

static void
variable_length_fields_are_skipped_in_both_forms(void **state)
{
	/* src, interfaceName (var), dst, applicationName (var), port */
	static const uint16_t f[] = { 8, 4, 82, 65535, 12, 4, 96, 65535, 7, 2 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;
	int i;

	header(&p, 1, 0);
	template(&p, 256, f, 5);
	set_begin(&p, 256);
	put32(&p, 0x0a000001);
	put8(&p, 3); putn(&p, "ge0", 3);
	put32(&p, 0x0a000002);
	put8(&p, 0);
	put16(&p, 1000);
	put32(&p, 0x0a000003);
	put8(&p, 255); put16(&p, 300);
	for (i = 0; i < 300; i++)
		put8(&p, 'x');
	put32(&p, 0x0a000004);
	put8(&p, 255); put16(&p, 0);
	put16(&p, 2000);
	put8(&p, 0); put8(&p, 0);	/* padding below the 13-byte minimum */
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.records, 2);
	assert_v4(&s.recs[0].src, 10, 0, 0, 1);
	assert_v4(&s.recs[0].dst, 10, 0, 0, 2);
	assert_int_equal(s.recs[0].src_port, 1000);
	assert_v4(&s.recs[1].src, 10, 0, 0, 3);
	assert_v4(&s.recs[1].dst, 10, 0, 0, 4);
	assert_int_equal(s.recs[1].src_port, 2000);
	tmpl_cache_free(c);
}

static void
variable_length_record_past_set_is_rejected(void **state)
{
	static const uint16_t f[] = { 8, 4, 82, 65535 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 2);
	set_begin(&p, 256);
	put32(&p, 0x0a000001);
	put8(&p, 1); put8(&p, 'a');
	put32(&p, 0x0a000002);
	put8(&p, 40); put8(&p, 'b');	/* 40 bytes announced, 1 left */
	set_end(&p);
	set_begin(&p, 256);		/* the next set is still decoded */
	put32(&p, 0x0a000003);
	put8(&p, 0);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_RECORD);
	assert_int_equal(res.records, 2);
	assert_v4(&s.recs[0].src, 10, 0, 0, 1);
	assert_v4(&s.recs[1].src, 10, 0, 0, 3);

	/* The 3-byte form cut short. */
	header(&p, 2, 0);
	set_begin(&p, 256);
	put32(&p, 0x0a000001);
	put8(&p, 255); put8(&p, 0);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_RECORD);
	assert_int_equal(res.records, 0);
	tmpl_cache_free(c);
}

static void
reduced_size_encoding_and_wrong_size_addresses(void **state)
{
	/* 4-byte octets, 2-byte packets, 2-byte AS, 1-byte port; 8-byte v4 and 4-byte v6 skipped. */
	static const uint16_t f[] = { 1, 4, 2, 2, 16, 2, 11, 1, 8, 8, 28, 4, 14, 1 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 7);
	set_begin(&p, 256);
	put32(&p, 0xfffffffe);
	put16(&p, 0x1234);
	put16(&p, 65001);
	put8(&p, 53);
	put64(&p, 0x0102030405060708ull);
	put32(&p, 0x20010db8);
	put8(&p, 250);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.recs[0].octets, 0xfffffffeu);
	assert_int_equal(s.recs[0].packets, 0x1234);
	assert_int_equal(s.recs[0].src_as, 65001);
	assert_int_equal(s.recs[0].dst_port, 53);
	assert_int_equal(s.recs[0].src.family, ADDR_NONE);
	assert_int_equal(s.recs[0].dst.family, ADDR_NONE);
	assert_int_equal(s.recs[0].out_if, 250);
	tmpl_cache_free(c);
}

static void
enterprise_elements_are_skipped(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	set_begin(&p, 2);
	put16(&p, 256);
	put16(&p, 4);
	put16(&p, 8); put16(&p, 4);
	put16(&p, 0x8000 | 8); put16(&p, 4); put32(&p, 29305);	/* enterprise "8": not a source address */
	put16(&p, 0x8000 | 100); put16(&p, 65535); put32(&p, 9);
	put16(&p, 12); put16(&p, 4);
	set_end(&p);
	set_begin(&p, 256);
	put32(&p, 0x0a000001);
	put32(&p, 0xdeadbeef);
	put8(&p, 2); put16(&p, 0xffff);
	put32(&p, 0x0a000002);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(s.n, 1);
	assert_v4(&s.recs[0].src, 10, 0, 0, 1);
	assert_v4(&s.recs[0].dst, 10, 0, 0, 2);

	/* An enterprise number cut off by the set end. */
	header(&p, 2, 0);
	set_begin(&p, 2);
	put16(&p, 257);
	put16(&p, 1);
	put16(&p, 0x8000 | 8); put16(&p, 4); put16(&p, 0);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 1);
	tmpl_cache_free(c);
}

static void
padding_after_records_is_ignored(void **state)
{
	static const uint16_t f[] = { 8, 4, 4, 1 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 2);
	set_begin(&p, 256);
	put32(&p, 0x01020304); put8(&p, 6);
	put8(&p, 0); put8(&p, 0); put8(&p, 0);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(res.records, 1);
	tmpl_cache_free(c);
}

static void
message_length_must_fit_the_datagram(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 9, 0);
	template(&p, 256, f, 1);
	finish(&p);
	ipfix_decode(p.b, p.len - 1, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_LENGTH);
	assert_int_equal(res.sequence, 9);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 0);

	/* Bytes after the message are not part of it. */
	put32(&p, 0xffffffff);
	ipfix_decode(p.b, p.len, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 1);

	p.b[2] = 0;
	p.b[3] = 15;
	ipfix_decode(p.b, p.len, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_LENGTH);
	tmpl_cache_free(c);
}

static void
truncated_header_and_wrong_version(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	finish(&p);
	ipfix_decode(p.b, 15, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_SHORT);
	ipfix_decode(p.b, 16, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_OK);
	p.b[1] = 9;
	ipfix_decode(p.b, 16, &exp, c, collect, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_VERSION);
	tmpl_cache_free(c);
}

static void
set_length_below_4_or_past_message_stops(void **state)
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
	put16(&p, 2);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_SET);
	assert_int_equal(res.templates_added, 1);

	header(&p, 2, 0);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	p.b[p.set + 3] = 12;
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_SET);
	assert_int_equal(s.n, 0);

	/* 1..3 bytes after the last set cannot be a set. */
	header(&p, 3, 0);
	set_begin(&p, 256);
	put32(&p, 0x01020304);
	set_end(&p);
	put8(&p, 0);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_SET);
	assert_int_equal(res.records, 1);
	tmpl_cache_free(c);
}

static void
malformed_templates_are_rejected(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;
	int i;

	/* Thousands of fields. */
	header(&p, 1, 0);
	set_begin(&p, 2);
	put16(&p, 256);
	put16(&p, 2000);
	for (i = 0; i < 2000; i++) {
		put16(&p, 8);
		put16(&p, 4);
	}
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);

	/* Field length 0. */
	header(&p, 2, 0);
	template(&p, 256, (const uint16_t[]){ 8, 4, 12, 0 }, 2);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);

	/* More fields announced than the set holds. */
	header(&p, 3, 0);
	set_begin(&p, 2);
	put16(&p, 256);
	put16(&p, 3);
	put16(&p, 8);
	put16(&p, 4);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);

	/* Options template with scope count 0, and with more scopes than fields. */
	header(&p, 4, 0);
	set_begin(&p, 3);
	put16(&p, 256); put16(&p, 1); put16(&p, 0);
	put16(&p, 34); put16(&p, 4);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	header(&p, 5, 0);
	set_begin(&p, 3);
	put16(&p, 256); put16(&p, 1); put16(&p, 2);
	put16(&p, 34); put16(&p, 4);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);

	/* A record longer than any message. */
	header(&p, 6, 0);
	template(&p, 256, (const uint16_t[]){ 8, 4, 82, 65534 }, 2);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(res.error, DECODE_ERR_TEMPLATE);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 0);
	tmpl_cache_free(c);
}

static void
templates_are_isolated_per_exporter_and_domain(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	static const uint8_t six[16] = { 10, 0, 0, 1 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr a = v4(10, 0, 0, 1), b;
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	memset(&b, 0, sizeof(b));
	b.family = ADDR_V6;		/* same leading bytes, other family */
	memcpy(b.bytes, six, 16);
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
	assert_int_equal(tmpl_cache_count(c, &a, 9, 1), 0);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 1), 1);
	tmpl_cache_free(c);
}

static void
caps_refuse_and_count(void **state)
{
	static const uint16_t f[] = { 8, 4 };
	struct tmpl_limits lim = { .max_templates = 1, .max_sources = 1 };
	struct tmpl_cache *c = tmpl_cache_new(&lim);
	struct addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	template(&p, 256, f, 1);
	template(&p, 257, f, 1);
	decode(&p, &a, c, &s, &res);
	assert_int_equal(res.templates_added, 1);
	assert_int_equal(res.templates_refused, 1);
	decode(&p, &b, c, &s, &res);
	assert_int_equal(res.templates_added, 0);
	assert_int_equal(res.templates_refused, 2);
	assert_int_equal(tmpl_cache_refused(c), 3);
	tmpl_cache_free(c);
}

static void
forget_drops_templates_and_sampling(void **state)
{
	static const uint16_t o[] = { 34, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr exp = v4(10, 0, 0, 1);
	struct decode_result res;
	struct sink s = { .n = 0 };
	struct pkt p;

	header(&p, 1, 0);
	options_template(&p, 300, o, 1);
	set_begin(&p, 300);
	put32(&p, 0);
	put32(&p, 10);
	set_end(&p);
	decode(&p, &exp, c, &s, &res);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 10, 0), 10);
	tmpl_cache_forget(c, &exp, 10, 0);
	assert_int_equal(tmpl_cache_sampling(c, &exp, 10, 0), 0);
	assert_int_equal(tmpl_cache_count(c, &exp, 10, 0), 0);
	tmpl_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(template_and_v4_data_fill_every_field),
		cmocka_unit_test(template_and_v6_data_with_ntp_timestamps),
		cmocka_unit_test(seconds_timestamps_and_delta_counts_win_over_totals),
		cmocka_unit_test(sysuptime_timestamps_need_system_init_time),
		cmocka_unit_test(options_sampling_applies_to_later_records),
		cmocka_unit_test(options_sampling_interval_and_random_interval),
		cmocka_unit_test(template_redefinition_replaces_the_old_one),
		cmocka_unit_test(withdrawal_of_one_template),
		cmocka_unit_test(withdrawal_of_all_templates_of_a_kind),
		cmocka_unit_test(withdrawal_of_unknown_template_is_ignored),
		cmocka_unit_test(data_before_template_is_counted_not_decoded),
		cmocka_unit_test(variable_length_fields_are_skipped_in_both_forms),
		cmocka_unit_test(variable_length_record_past_set_is_rejected),
		cmocka_unit_test(reduced_size_encoding_and_wrong_size_addresses),
		cmocka_unit_test(enterprise_elements_are_skipped),
		cmocka_unit_test(padding_after_records_is_ignored),
		cmocka_unit_test(message_length_must_fit_the_datagram),
		cmocka_unit_test(truncated_header_and_wrong_version),
		cmocka_unit_test(set_length_below_4_or_past_message_stops),
		cmocka_unit_test(malformed_templates_are_rejected),
		cmocka_unit_test(templates_are_isolated_per_exporter_and_domain),
		cmocka_unit_test(caps_refuse_and_count),
		cmocka_unit_test(forget_drops_templates_and_sampling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
