/* collectors/exporter: counters, sequence and loss by protocol, restarts, cap, order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/exporter.h"

#define SEC 1000000000LL

static const struct addr a4 = { .family = ADDR_V4, .bytes = { 192, 0, 2, 1 } };

static struct decode_result
v5(uint32_t seq, uint16_t count, uint32_t uptime)
{
	struct decode_result r = { .version = 5, .sequence = seq, .count = count,
	    .records = count, .sys_uptime_ms = uptime };

	return r;
}

static struct decode_result
v9(uint32_t seq, uint32_t records, uint32_t uptime)
{
	struct decode_result r = { .version = 9, .sequence = seq,
	    .count = records + 1, .records = records, .sys_uptime_ms = uptime };

	return r;
}

static struct decode_result
ipfix(uint32_t seq, uint32_t records)
{
	struct decode_result r = { .version = 10, .sequence = seq, .records = records };

	return r;
}

/* A fresh table with one exporter of the given version, domain 0. */
static struct exporter *
setup(struct exporter_table **t, uint8_t version)
{
	struct exporter *e;

	assert_non_null(*t = exporter_table_new(16));
	assert_non_null(e = exporter_get(*t, &a4, version, 0, SEC));
	return e;
}

static void
feed(struct exporter *e, struct decode_result r, bool restart)
{
	assert_int_equal(exporter_account(e, &r, 1000, 2 * SEC), restart);
}

static void
counters_add_up_per_datagram(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 10);
	struct decode_result r = ipfix(0, 7);

	assert_int_equal(e->first_seen_ns, SEC);
	assert_int_equal(e->sampling, 1);
	assert_int_equal(e->sampling_source, SAMPLING_NONE);
	r.sets_without_template = 2;
	r.records_without_template = 3;
	assert_false(exporter_account(e, &r, 1400, 5 * SEC));
	r = ipfix(10, 1);
	assert_false(exporter_account(e, &r, 100, 6 * SEC));
	assert_int_equal(e->datagrams, 2);
	assert_int_equal(e->bytes, 1500);
	assert_int_equal(e->records, 8);
	assert_int_equal(e->sets_without_template, 2);
	assert_int_equal(e->lost, 0);
	assert_int_equal(e->first_seen_ns, SEC);
	assert_int_equal(e->last_seen_ns, 6 * SEC);
	assert_int_equal(e->reset_ns, 0);
	exporter_table_free(t);
}

static void
v5_loss_is_counted_in_flows(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 5);

	feed(e, v5(1000, 30, 5000), false);
	feed(e, v5(1030, 30, 5100), false);
	assert_int_equal(e->lost, 0);
	feed(e, v5(1090, 20, 5200), false);	/* 1060..1089 missing */
	assert_int_equal(e->lost, 30);
	feed(e, v5(1117, 1, 5300), false);	/* 1110..1116 missing */
	assert_int_equal(e->lost, 37);
	assert_int_equal(e->next_seq, 1118);
	assert_int_equal(e->resets, 0);
	exporter_table_free(t);
}

static void
v9_loss_is_counted_in_packets(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 9);

	feed(e, v9(10, 25, 5000), false);
	feed(e, v9(11, 25, 5100), false);
	assert_int_equal(e->lost, 0);
	feed(e, v9(14, 25, 5200), false);	/* packets 12 and 13 missing */
	assert_int_equal(e->lost, 2);
	feed(e, v9(15, 0, 5300), false);	/* templates only: still a packet */
	feed(e, v9(16, 3, 5400), false);
	assert_int_equal(e->lost, 2);
	assert_int_equal(e->resets, 0);
	exporter_table_free(t);
}

static void
ipfix_loss_is_counted_in_data_records(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 10);
	struct decode_result r;

	feed(e, ipfix(0, 20), false);
	feed(e, ipfix(20, 0), false);		/* templates only: no records */
	feed(e, ipfix(20, 5), false);
	assert_int_equal(e->lost, 0);
	feed(e, ipfix(30, 4), false);		/* records 25..29 missing */
	assert_int_equal(e->lost, 5);
	/* Options data records are data records too (RFC 7011 3.1). */
	r = ipfix(34, 2);
	r.options_records = 1;
	feed(e, r, false);
	feed(e, ipfix(37, 1), false);
	assert_int_equal(e->lost, 5);
	/* Records of a set without template, when the decoder could count them. */
	r = ipfix(38, 0);
	r.sets_without_template = 1;
	r.records_without_template = 6;
	feed(e, r, false);
	feed(e, ipfix(44, 1), false);
	assert_int_equal(e->lost, 5);
	assert_int_equal(e->resets, 0);
	exporter_table_free(t);
}

static void
ipfix_records_that_could_not_be_counted_resynchronize(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 10);
	struct decode_result r;

	feed(e, ipfix(100, 10), false);
	r = ipfix(110, 2);
	r.sets_without_template = 1;		/* record count unknown */
	feed(e, r, false);
	feed(e, ipfix(140, 10), false);		/* no loss can be claimed */
	feed(e, ipfix(150, 10), false);
	assert_int_equal(e->lost, 0);
	r = ipfix(160, 3);
	r.error = DECODE_ERR_RECORD;		/* a set was cut short */
	feed(e, r, false);
	feed(e, ipfix(170, 1), false);
	assert_int_equal(e->lost, 0);
	feed(e, ipfix(175, 1), false);		/* tracked again: 171..174 */
	assert_int_equal(e->lost, 4);
	assert_int_equal(e->resets, 0);
	exporter_table_free(t);
}

static void
sequence_wrap_is_neither_loss_nor_restart(void **state)
{
	struct exporter_table *t;
	struct exporter *e5 = setup(&t, 5), *e9, *e10;

	assert_non_null(e9 = exporter_get(t, &a4, 9, 0, SEC));
	assert_non_null(e10 = exporter_get(t, &a4, 10, 0, SEC));
	feed(e5, v5(0xfffffff0u, 16, 5000), false);
	feed(e5, v5(0, 30, 5100), false);
	feed(e5, v5(30, 30, 5200), false);
	feed(e9, v9(0xfffffffeu, 1, 5000), false);
	feed(e9, v9(0xffffffffu, 1, 5100), false);
	feed(e9, v9(0, 1, 5200), false);
	feed(e10, ipfix(0xfffffff6u, 20), false);
	feed(e10, ipfix(10, 20), false);
	assert_int_equal(e5->lost + e9->lost + e10->lost, 0);
	assert_int_equal(e5->resets + e9->resets + e10->resets, 0);
	exporter_table_free(t);
}

static void
gap_across_the_wrap_is_an_ordinary_loss(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 10);

	feed(e, ipfix(0xfffffff0u, 10), false);		/* next 0xfffffffa */
	feed(e, ipfix(2, 1), false);
	assert_int_equal(e->lost, 8);
	assert_int_equal(e->resets, 0);
	exporter_table_free(t);
}

static void
sequence_going_back_is_a_restart_without_loss(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 5);
	struct decode_result r;

	feed(e, v5(5000, 30, 900000), false);
	feed(e, v5(5030, 30, 901000), false);
	r = v5(0, 30, 902000);			/* uptime fine, sequence back */
	assert_true(exporter_account(e, &r, 1000, 7 * SEC));
	assert_int_equal(e->resets, 1);
	assert_int_equal(e->reset_ns, 7 * SEC);
	assert_int_equal(e->lost, 0);
	feed(e, v5(30, 10, 903000), false);	/* tracking restarted from 0 */
	feed(e, v5(50, 10, 904000), false);
	assert_int_equal(e->lost, 10);
	/* Just behind is a late (reordered) datagram, not a restart. */
	feed(e, v5(59, 1, 905000), false);
	assert_int_equal(e->resets, 1);
	assert_int_equal(e->reordered, 1);
	assert_int_equal(e->lost, 10);
	feed(e, v5(60, 5, 906000), false);	/* the state stayed with the newest */
	assert_int_equal(e->lost, 10);
	/* Further behind than the reorder window is a restart. */
	feed(e, v5(65 - EXPORTER_REORDER_WINDOW - 1, 1, 907000), true);
	assert_int_equal(e->resets, 2);
	exporter_table_free(t);
}

static void
late_datagram_is_reordered_not_a_restart(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 9);

	feed(e, v9(10, 10, 50000), false);
	feed(e, v9(12, 10, 52000), false);	/* 11 missing for now */
	assert_int_equal(e->lost, 1);
	feed(e, v9(11, 10, 51000), false);	/* 11 arrives late: uptime a second behind */
	assert_int_equal(e->reordered, 1);
	assert_int_equal(e->resets, 0);
	feed(e, v9(13, 10, 53000), false);
	assert_int_equal(e->lost, 1);
	/* An uptime more than EXPORTER_REORDER_MS behind is a reboot, not a late datagram. */
	feed(e, v9(13, 10, 53000 - EXPORTER_REORDER_MS - 1), true);
	assert_int_equal(e->resets, 1);
	exporter_table_free(t);
}

static void
ipfix_step_back_is_a_restart(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 10);

	feed(e, ipfix(0, 40), false);
	feed(e, ipfix(40, 40), false);
	/* IPFIX has no uptime: a rebooted exporter counting from 0 again. */
	feed(e, ipfix(0, 40), true);
	assert_int_equal(e->resets, 1);
	assert_int_equal(e->reordered, 0);
	feed(e, ipfix(40, 40), false);
	assert_int_equal(e->lost, 0);
	exporter_table_free(t);
}

static void
uptime_going_back_is_a_restart_without_loss(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 9);

	feed(e, v9(77, 10, 3000000000u), false);
	feed(e, v9(80, 10, 3000001000u), false);	/* 2 lost */
	/* Rebooted; its sequence happens to look ahead. */
	feed(e, v9(90, 10, 1500), true);
	assert_int_equal(e->resets, 1);
	assert_int_equal(e->lost, 2);
	feed(e, v9(91, 10, 2500), false);
	assert_int_equal(e->lost, 2);
	/* Uptime jumping forward is not a reboot. */
	feed(e, v9(92, 10, 0xffffff00u), false);
	assert_int_equal(e->resets, 1);
	exporter_table_free(t);
}

static void
uptime_wrap_is_not_a_restart(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 5);

	feed(e, v5(0, 30, 0xffff0000u), false);
	feed(e, v5(30, 30, 0x00001000u), false);	/* ~70 s later, wrapped */
	feed(e, v5(60, 30, 0x00002000u), false);
	assert_int_equal(e->resets, 0);
	assert_int_equal(e->lost, 0);
	/* The largest step modulo 2^32 still taken as a wrap... */
	feed(e, v5(90, 30, 0xfffffff4u), false);
	feed(e, v5(120, 30, EXPORTER_UPTIME_WRAP_MS - 12), false);
	assert_int_equal(e->resets, 0);
	/* ...and one ms more is a reboot. */
	feed(e, v5(150, 30, 0xfffffff4u), false);
	feed(e, v5(180, 30, EXPORTER_UPTIME_WRAP_MS - 11), true);
	assert_int_equal(e->resets, 1);
	/* A reboot after two days up. */
	feed(e, v5(210, 30, 2 * 86400000u), false);
	feed(e, v5(240, 30, 1000), true);
	assert_int_equal(e->resets, 2);
	assert_int_equal(e->lost, 0);
	exporter_table_free(t);
}

static void
forward_jump_beyond_the_window_is_a_restart(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 10);

	feed(e, ipfix(0, 10), false);
	feed(e, ipfix(10 + EXPORTER_LOSS_WINDOW, 10), false);	/* the largest loss */
	assert_int_equal(e->lost, EXPORTER_LOSS_WINDOW);
	assert_int_equal(e->resets, 0);
	feed(e, ipfix(20 + 2 * EXPORTER_LOSS_WINDOW + 1, 10), true);
	assert_int_equal(e->lost, EXPORTER_LOSS_WINDOW);
	assert_int_equal(e->resets, 1);
	feed(e, ipfix(31 + 2 * EXPORTER_LOSS_WINDOW, 10), false);
	assert_int_equal(e->lost, EXPORTER_LOSS_WINDOW);
	/* Half the range ahead is as far as "ahead" goes: a restart too. */
	feed(e, ipfix(41 + 2 * EXPORTER_LOSS_WINDOW + 0x80000000u, 10), true);
	assert_int_equal(e->resets, 2);
	assert_int_equal(e->lost, EXPORTER_LOSS_WINDOW);
	exporter_table_free(t);
}

static void
malformed_is_counted_by_reason_and_leaves_the_sequence(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 5);
	struct decode_result r;

	feed(e, v5(100, 30, 5000), false);
	r = v5(7, 30, 1);			/* would be a restart if trusted */
	r.records = 0;
	r.error = DECODE_ERR_LENGTH;
	feed(e, r, false);
	feed(e, r, false);
	r.error = DECODE_ERR_SHORT;
	feed(e, r, false);
	r.error = DECODE_ERR_VERSION;
	feed(e, r, false);
	assert_int_equal(e->malformed[DECODE_ERR_LENGTH], 2);
	assert_int_equal(e->malformed[DECODE_ERR_SHORT], 1);
	assert_int_equal(e->malformed[DECODE_ERR_VERSION], 1);
	assert_int_equal(e->malformed[DECODE_OK], 0);
	assert_int_equal(e->datagrams, 5);
	assert_int_equal(e->records, 30);
	assert_int_equal(e->next_seq, 130);
	feed(e, v5(130, 30, 5100), false);
	assert_int_equal(e->resets, 0);
	assert_int_equal(e->lost, 0);
	exporter_table_free(t);
}

static void
v9_datagram_with_a_bad_set_still_moves_the_sequence(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 9);
	struct decode_result r;

	feed(e, v9(1, 5, 5000), false);
	r = v9(2, 3, 5100);
	r.error = DECODE_ERR_SET;
	feed(e, r, false);
	assert_int_equal(e->malformed[DECODE_ERR_SET], 1);
	assert_int_equal(e->records, 8);
	feed(e, v9(3, 5, 5200), false);
	assert_int_equal(e->lost, 0);
	exporter_table_free(t);
}

static void
first_datagram_sets_the_sequence_without_loss(void **state)
{
	struct exporter_table *t;
	struct exporter *e = setup(&t, 9);

	assert_false(e->have_seq);
	feed(e, v9(123456789, 1, 42), false);
	assert_true(e->have_seq);
	assert_int_equal(e->next_seq, 123456790);
	assert_int_equal(e->last_uptime_ms, 42);
	assert_int_equal(e->lost, 0);
	assert_int_equal(e->resets, 0);
	exporter_table_free(t);
}

static void
cap_refuses_new_exporters_and_keeps_the_old(void **state)
{
	struct exporter_table *t = exporter_table_new(2);
	struct exporter *e1, *e2;
	struct addr b = a4;

	assert_non_null(t);
	assert_non_null(e1 = exporter_get(t, &a4, 5, 0, SEC));
	b.bytes[3] = 2;
	assert_non_null(e2 = exporter_get(t, &b, 5, 0, SEC));
	b.bytes[3] = 3;
	assert_null(exporter_get(t, &b, 5, 0, SEC));
	assert_null(exporter_get(t, &a4, 5, 1, SEC));	/* a new domain is new */
	assert_int_equal(exporter_refused(t), 2);
	assert_int_equal(exporter_count(t), 2);
	assert_ptr_equal(exporter_get(t, &a4, 5, 0, 9 * SEC), e1);
	b.bytes[3] = 2;
	assert_ptr_equal(exporter_get(t, &b, 5, 0, 9 * SEC), e2);
	assert_int_equal(e1->first_seen_ns, SEC);
	assert_int_equal(exporter_refused(t), 2);
	exporter_table_free(t);

	assert_non_null(t = exporter_table_new(0));
	assert_null(exporter_get(t, &a4, 5, 0, SEC));
	assert_int_equal(exporter_refused(t), 1);
	exporter_table_free(t);
}

static void
many_exporters_are_all_found_again(void **state)
{
	struct exporter_table *t = exporter_table_new(5000);
	struct exporter *seen[5000];
	struct addr a = { .family = ADDR_V6 };
	unsigned i;

	for (i = 0; i < 5000; i++) {
		a.bytes[14] = i >> 8;
		a.bytes[15] = i & 0xff;
		assert_non_null(seen[i] = exporter_get(t, &a, 10, i % 3, SEC));
	}
	assert_int_equal(exporter_count(t), 5000);
	for (i = 0; i < 5000; i++) {
		a.bytes[14] = i >> 8;
		a.bytes[15] = i & 0xff;
		assert_ptr_equal(exporter_get(t, &a, 10, i % 3, SEC), seen[i]);
	}
	assert_int_equal(exporter_count(t), 5000);
	assert_int_equal(exporter_refused(t), 0);
	exporter_table_free(t);
}

static void
domains_versions_and_families_are_kept_apart(void **state)
{
	struct exporter_table *t = exporter_table_new(16);
	struct exporter *d0, *d1, *v9e, *v6;
	struct addr six = { .family = ADDR_V6, .bytes = { 192, 0, 2, 1 } };
	struct addr dirty = a4;

	assert_non_null(d0 = exporter_get(t, &a4, 10, 0, SEC));
	assert_non_null(d1 = exporter_get(t, &a4, 10, 1, SEC));
	assert_non_null(v9e = exporter_get(t, &a4, 9, 0, SEC));
	assert_non_null(v6 = exporter_get(t, &six, 10, 0, SEC));
	assert_ptr_not_equal(d0, d1);
	assert_ptr_not_equal(d0, v9e);
	assert_ptr_not_equal(d0, v6);
	assert_int_equal(exporter_count(t), 4);
	/* Bytes past an IPv4 address are not part of the key. */
	memset(dirty.bytes + 4, 0x5a, 12);
	assert_ptr_equal(exporter_get(t, &dirty, 10, 0, SEC), d0);
	assert_int_equal(d0->addr.bytes[4], 0);
	assert_int_equal(d1->domain, 1);
	assert_int_equal(v9e->version, 9);

	feed(d0, ipfix(0, 10), false);
	feed(d1, ipfix(5000, 10), false);
	feed(d0, ipfix(10, 10), false);
	feed(d1, ipfix(5010, 10), false);
	assert_int_equal(d0->lost + d1->lost, 0);
	assert_int_equal(d0->datagrams, 2);
	assert_int_equal(d1->datagrams, 2);
	assert_int_equal(v9e->datagrams, 0);
	assert_int_equal(exporter_count(t), 4);
	exporter_table_free(t);
}

static void
sorted_follows_the_mib_index_order(void **state)
{
	struct exporter_table *t = exporter_table_new(16);
	const struct exporter *out[16];
	static const struct addr v6lo = { .family = ADDR_V6, .bytes = { 0x20, 0x01 } };
	static const struct addr v6hi = { .family = ADDR_V6, .bytes = { 0xfe, 0x80 } };
	static const struct addr v4lo = { .family = ADDR_V4, .bytes = { 10, 0, 0, 1 } };
	static const struct addr v4hi = { .family = ADDR_V4, .bytes = { 203, 0, 113, 1 } };
	const struct exporter *want[7];

	assert_int_equal(exporter_sorted(t, out, 16), 0);
	want[6] = exporter_get(t, &v6hi, 5, 0, SEC);
	want[3] = exporter_get(t, &v4hi, 10, 7, SEC);
	want[5] = exporter_get(t, &v6lo, 10, 0, SEC);
	want[1] = exporter_get(t, &v4lo, 10, 2, SEC);
	want[4] = exporter_get(t, &v6lo, 9, 0x10000, SEC);
	want[2] = exporter_get(t, &v4lo, 10, 0x100, SEC);
	want[0] = exporter_get(t, &v4lo, 9, 0xffffffffu, SEC);

	assert_int_equal(exporter_sorted(t, out, 16), 7);
	assert_memory_equal(out, want, sizeof(want));
	/* Only the first of the order when out is short. */
	memset(out, 0, sizeof(out));
	assert_int_equal(exporter_sorted(t, out, 3), 3);
	assert_memory_equal(out, want, 3 * sizeof(want[0]));
	assert_null(out[3]);
	assert_int_equal(exporter_sorted(t, out, 0), 0);
	exporter_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counters_add_up_per_datagram),
		cmocka_unit_test(v5_loss_is_counted_in_flows),
		cmocka_unit_test(v9_loss_is_counted_in_packets),
		cmocka_unit_test(ipfix_loss_is_counted_in_data_records),
		cmocka_unit_test(ipfix_records_that_could_not_be_counted_resynchronize),
		cmocka_unit_test(sequence_wrap_is_neither_loss_nor_restart),
		cmocka_unit_test(gap_across_the_wrap_is_an_ordinary_loss),
		cmocka_unit_test(sequence_going_back_is_a_restart_without_loss),
		cmocka_unit_test(uptime_going_back_is_a_restart_without_loss),
		cmocka_unit_test(late_datagram_is_reordered_not_a_restart),
		cmocka_unit_test(ipfix_step_back_is_a_restart),
		cmocka_unit_test(uptime_wrap_is_not_a_restart),
		cmocka_unit_test(forward_jump_beyond_the_window_is_a_restart),
		cmocka_unit_test(malformed_is_counted_by_reason_and_leaves_the_sequence),
		cmocka_unit_test(v9_datagram_with_a_bad_set_still_moves_the_sequence),
		cmocka_unit_test(first_datagram_sets_the_sequence_without_loss),
		cmocka_unit_test(cap_refuses_new_exporters_and_keeps_the_old),
		cmocka_unit_test(many_exporters_are_all_found_again),
		cmocka_unit_test(domains_versions_and_families_are_kept_apart),
		cmocka_unit_test(sorted_follows_the_mib_index_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
