/* Template cache and information elements: keys, caps, byte accounting, compilation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/ie.h"
#include "collectors/template.h"

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

static struct tmpl_def *
def_new(uint16_t id, int options, const uint16_t *pairs, uint16_t n)
{
	struct tmpl_def *d = calloc(1, sizeof(*d));
	uint16_t i;

	assert_non_null(d);
	d->id = id;
	d->options = (uint8_t)options;
	d->nscope = options ? 1 : 0;
	d->nfields = n;
	for (i = 0; i < n; i++) {
		d->fields[i].id = pairs[2 * i];
		d->fields[i].len = pairs[2 * i + 1];
	}
	return d;
}

static const uint16_t two[] = { 8, 4, 12, 4 };

static void
add_find_and_count(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr a = v4(192, 0, 2, 1);
	struct tmpl_def *d = def_new(300, 0, two, 2);
	struct tmpl_source *src;
	const struct ie_prog *prog;

	assert_null(tmpl_cache_source(c, &a, 10, 1));
	assert_int_equal(tmpl_cache_add(c, &a, 10, 1, d), TMPL_ADDED);
	assert_int_equal(tmpl_cache_add(c, &a, 10, 1, d), TMPL_UNCHANGED);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 1), 1);
	assert_non_null(src = tmpl_cache_source(c, &a, 10, 1));
	assert_non_null(prog = tmpl_source_find(src, 300));
	assert_int_equal(prog->id, 300);
	assert_int_equal(prog->min_len, 8);
	assert_int_equal(prog->nact, 2);
	assert_null(tmpl_source_find(src, 301));
	assert_int_equal(tmpl_source_sampling(src), 0);
	free(d);
	tmpl_cache_free(c);
}

static void
restart_forgets_only_what_the_restart_datagram_did_not_define(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr a = v4(192, 0, 2, 1);
	struct tmpl_def *old = def_new(300, 0, two, 2), *again = def_new(301, 0, two, 2);
	struct tmpl_def *fresh = def_new(302, 0, two, 2);
	struct tmpl_source *src;
	size_t baseline = tmpl_cache_bytes(c);
	uint64_t epoch;

	tmpl_cache_begin(c);
	assert_int_equal(tmpl_cache_add(c, &a, 9, 1, old), TMPL_ADDED);
	assert_int_equal(tmpl_cache_add(c, &a, 9, 1, again), TMPL_ADDED);
	assert_int_equal(tmpl_cache_set_sampling(c, &a, 9, 1, 100), 0);
	/* The datagram that shows the restart re-sends 301 and defines 302. */
	epoch = tmpl_cache_begin(c);
	assert_int_equal(tmpl_cache_add(c, &a, 9, 1, again), TMPL_UNCHANGED);
	assert_int_equal(tmpl_cache_add(c, &a, 9, 1, fresh), TMPL_ADDED);
	tmpl_cache_forget_before(c, &a, 9, 1, epoch);
	assert_non_null(src = tmpl_cache_source(c, &a, 9, 1));
	assert_null(tmpl_source_find(src, 300));
	assert_non_null(tmpl_source_find(src, 301));
	assert_non_null(tmpl_source_find(src, 302));
	assert_int_equal(tmpl_cache_count(c, &a, 9, 1), 2);
	assert_int_equal(tmpl_cache_sampling(c, &a, 9, 1), 0);
	/* Nothing redefined: the source goes, its bytes with it. */
	epoch = tmpl_cache_begin(c);
	tmpl_cache_forget_before(c, &a, 9, 1, epoch);
	assert_null(tmpl_cache_source(c, &a, 9, 1));
	assert_int_equal(tmpl_cache_bytes(c), baseline);
	free(old);
	free(again);
	free(fresh);
	tmpl_cache_free(c);
}

static void
keys_separate_exporter_family_version_and_domain(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr a = v4(192, 0, 2, 1), a6 = a;
	struct tmpl_def *d = def_new(300, 0, two, 2);

	a6.family = ADDR_V6;
	assert_int_equal(tmpl_cache_add(c, &a, 10, 1, d), TMPL_ADDED);
	assert_int_equal(tmpl_cache_count(c, &a6, 10, 1), 0);
	assert_int_equal(tmpl_cache_count(c, &a, 9, 1), 0);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 2), 0);
	assert_int_equal(tmpl_cache_add(c, &a6, 10, 1, d), TMPL_ADDED);
	assert_int_equal(tmpl_cache_add(c, &a, 9, 1, d), TMPL_ADDED);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 1), 1);
	free(d);
	tmpl_cache_free(c);
}

static void
bytes_return_to_baseline_after_withdraw_and_forget(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr a = v4(192, 0, 2, 1);
	struct tmpl_def *d = def_new(300, 0, two, 2);
	size_t empty = tmpl_cache_bytes(c), one_source;
	uint16_t id;

	assert_true(empty > 0);
	assert_int_equal(tmpl_cache_set_sampling(c, &a, 10, 1, 0), 0);
	assert_int_equal(tmpl_cache_bytes(c), empty);	/* clearing creates nothing */
	assert_int_equal(tmpl_cache_set_sampling(c, &a, 10, 1, 8), 0);
	one_source = tmpl_cache_bytes(c);
	assert_true(one_source > empty);
	for (id = 256; id < 356; id++) {
		d->id = id;
		assert_int_equal(tmpl_cache_add(c, &a, 10, 1, d), TMPL_ADDED);
	}
	assert_int_equal(tmpl_cache_count(c, &a, 10, 1), 100);
	for (id = 256; id < 356; id++)
		assert_int_equal(tmpl_cache_withdraw(c, &a, 10, 1, id), 1);
	assert_int_equal(tmpl_cache_withdraw(c, &a, 10, 1, 256), 0);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 1), 0);
	assert_true(tmpl_cache_bytes(c) >= one_source);	/* grown buckets stay */
	tmpl_cache_forget(c, &a, 10, 1);
	assert_int_equal(tmpl_cache_bytes(c), empty);
	tmpl_cache_forget(c, &a, 10, 1);		/* unknown: nothing happens */
	free(d);
	tmpl_cache_free(c);
}

static void
withdraw_all_takes_only_one_kind(void **state)
{
	static const uint16_t opt[] = { 1, 4, 34, 4 };
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr a = v4(192, 0, 2, 1);
	struct tmpl_def *d = def_new(300, 0, two, 2), *o = def_new(400, 1, opt, 2);
	uint16_t id;

	for (id = 300; id < 340; id++) {
		d->id = id;
		assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_ADDED);
	}
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, o), TMPL_ADDED);
	assert_int_equal(tmpl_cache_withdraw_all(c, &a, 10, 0, 0), 40);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 0), 1);
	assert_int_equal(tmpl_cache_withdraw_all(c, &a, 10, 0, 1), 1);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 0), 0);
	assert_int_equal(tmpl_cache_withdraw_all(c, &a, 10, 5, 1), 0);
	free(d);
	free(o);
	tmpl_cache_free(c);
}

static void
template_cap_refuses_new_ids_but_allows_redefinition(void **state)
{
	static const uint16_t three[] = { 8, 4, 12, 4, 7, 2 };
	struct tmpl_limits lim = { .max_templates = 3 };
	struct tmpl_cache *c = tmpl_cache_new(&lim);
	struct addr a = v4(192, 0, 2, 1);
	struct tmpl_def *d = def_new(300, 0, two, 2), *e = def_new(301, 0, three, 3);
	uint16_t id;

	for (id = 300; id < 303; id++) {
		d->id = id;
		assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_ADDED);
	}
	d->id = 303;
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_REFUSED);
	assert_int_equal(tmpl_cache_refused(c), 1);
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, e), TMPL_ADDED);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 0), 3);
	free(d);
	free(e);
	tmpl_cache_free(c);
}

static void
source_cap_refuses_templates_and_sampling(void **state)
{
	struct tmpl_limits lim = { .max_sources = 2 };
	struct tmpl_cache *c = tmpl_cache_new(&lim);
	struct addr a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2), x = v4(192, 0, 2, 3);
	struct tmpl_def *d = def_new(300, 0, two, 2);

	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_ADDED);
	assert_int_equal(tmpl_cache_set_sampling(c, &b, 10, 0, 10), 0);
	assert_int_equal(tmpl_cache_add(c, &x, 10, 0, d), TMPL_REFUSED);
	assert_int_equal(tmpl_cache_set_sampling(c, &x, 10, 0, 10), -1);
	assert_int_equal(tmpl_cache_refused(c), 2);
	/* Existing sources still take more. */
	d->id = 301;
	assert_int_equal(tmpl_cache_add(c, &b, 10, 0, d), TMPL_ADDED);
	free(d);
	tmpl_cache_free(c);
}

static void
byte_cap_refuses_and_nothing_exceeds_it(void **state)
{
	struct tmpl_limits lim = { .max_bytes = 8192 };
	struct tmpl_cache *c = tmpl_cache_new(&lim);
	struct addr a = v4(192, 0, 2, 1);
	struct tmpl_def *d = def_new(300, 0, two, 2);
	uint16_t id;
	int refused = 0;

	d->nfields = 100;
	for (id = 0; id < 100; id++) {
		d->fields[id].id = 8;
		d->fields[id].len = 4;
	}
	for (id = 256; id < 356; id++) {
		d->id = id;
		if (tmpl_cache_add(c, &a, 10, 0, d) == TMPL_REFUSED)
			refused++;
		assert_true(tmpl_cache_bytes(c) <= 8192);
	}
	assert_true(refused > 0);
	assert_int_equal(tmpl_cache_refused(c), (uint64_t)refused);
	free(d);
	tmpl_cache_free(c);
}

static void
thousands_of_sources_stay_findable(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct tmpl_def *d = def_new(300, 0, two, 2);
	struct addr a;
	uint32_t i;

	for (i = 0; i < 4096; i++) {
		a = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		assert_int_equal(tmpl_cache_add(c, &a, 10, i % 7, d), TMPL_ADDED);
	}
	a = v4(10, 255, 255, 255);
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_REFUSED);
	for (i = 0; i < 4096; i++) {
		a = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		assert_int_equal(tmpl_cache_count(c, &a, 10, i % 7), 1);
	}
	free(d);
	tmpl_cache_free(c);
}

static void
redefinition_refused_by_bytes_leaves_no_stale_template(void **state)
{
	struct tmpl_cache *c;
	struct tmpl_limits lim;
	struct addr a = v4(192, 0, 2, 1);
	struct tmpl_def *d = def_new(300, 0, two, 2);
	size_t small;
	uint16_t i;

	c = tmpl_cache_new(NULL);
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_ADDED);
	small = tmpl_cache_bytes(c);
	tmpl_cache_free(c);

	lim.max_templates = 0;
	lim.max_sources = 0;
	lim.max_bytes = small;
	c = tmpl_cache_new(&lim);
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_ADDED);
	d->nfields = 50;
	for (i = 0; i < 50; i++) {
		d->fields[i].id = 8;
		d->fields[i].len = 4;
	}
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_REFUSED);
	assert_int_equal(tmpl_cache_count(c, &a, 10, 0), 0);
	free(d);
	tmpl_cache_free(c);
}

static void
invalid_templates_change_nothing(void **state)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL);
	struct addr a = v4(192, 0, 2, 1);
	struct tmpl_def *d = def_new(300, 0, two, 2);
	size_t empty = tmpl_cache_bytes(c);

	d->nfields = 0;
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_INVALID);
	d->nfields = 2;
	d->fields[1].len = 0;
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_INVALID);
	d->fields[1].len = 65000;
	d->fields[0].len = 1000;
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_INVALID);
	d->nscope = 3;
	assert_int_equal(tmpl_cache_add(c, &a, 10, 0, d), TMPL_INVALID);
	assert_int_equal(tmpl_cache_bytes(c), empty);
	assert_int_equal(tmpl_cache_refused(c), 0);
	free(d);
	tmpl_cache_free(c);
}

static void
element_lookup_checks_lengths(void **state)
{
	assert_int_equal(ie_lookup(8, 0, 4), IE_SRC_V4);
	assert_int_equal(ie_lookup(8, 0, 3), IE_SKIP);
	assert_int_equal(ie_lookup(8, 0, 16), IE_SKIP);
	assert_int_equal(ie_lookup(27, 0, 16), IE_SRC_V6);
	assert_int_equal(ie_lookup(27, 0, 4), IE_SKIP);
	assert_int_equal(ie_lookup(1, 0, 1), IE_OCTETS);
	assert_int_equal(ie_lookup(1, 0, 8), IE_OCTETS);
	assert_int_equal(ie_lookup(1, 0, 9), IE_SKIP);
	assert_int_equal(ie_lookup(7, 0, 4), IE_SKIP);
	assert_int_equal(ie_lookup(7, 0, 1), IE_SRC_PORT);
	assert_int_equal(ie_lookup(8, 9, 4), IE_SKIP);		/* enterprise */
	assert_int_equal(ie_lookup(8, 0, TMPL_VARLEN), IE_SKIP);
	assert_int_equal(ie_lookup(156, 0, 8), IE_START_NS);
	assert_int_equal(ie_lookup(156, 0, 4), IE_SKIP);
	assert_int_equal(ie_lookup(305, 0, 4), IE_SAMPLING_PKT_INTERVAL);
	assert_int_equal(ie_lookup(999, 0, 4), IE_SKIP);
	assert_int_equal(ie_lookup(65535 & 0x7fff, 0, 4), IE_SKIP);
}

static void
compiled_fixed_template_runs_only_stored_fields(void **state)
{
	static const uint16_t f[] = { 100, 3, 8, 4, 200, 5, 11, 2 };
	static const uint8_t rec[] = { 1, 2, 3, 10, 0, 0, 9, 0, 0, 0, 0, 0, 0x01, 0xbb, 0xee };
	struct tmpl_def *d = def_new(300, 0, f, 4);
	struct ie_ctx ctx = { 0, 0, 0 };
	struct ie_extra x;
	struct flow_record r;
	struct ie_prog *prog;
	size_t bytes;

	assert_non_null(prog = ie_compile(d, &bytes));
	assert_int_equal(prog->variable, 0);
	assert_int_equal(prog->min_len, 14);
	assert_int_equal(prog->nact, 2);
	assert_int_equal(prog->act[0].off, 3);
	assert_int_equal(prog->act[1].off, 12);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ie_run(prog, rec, sizeof(rec), &ctx, &r, &x), 14);
	assert_int_equal(r.src.bytes[3], 9);
	assert_int_equal(r.dst_port, 443);
	assert_int_equal(ie_run(prog, rec, 13, &ctx, &r, &x), -1);
	free(prog);
	free(d);
}

static void
compiled_variable_template_merges_skipped_runs(void **state)
{
	static const uint16_t f[] = { 100, 3, 101, 5, 82, TMPL_VARLEN, 102, 2, 8, 4 };
	struct tmpl_def *d = def_new(300, 0, f, 5);
	struct ie_prog *prog;
	size_t bytes;

	assert_non_null(prog = ie_compile(d, &bytes));
	assert_int_equal(prog->variable, 1);
	assert_int_equal(prog->min_len, 3 + 5 + 1 + 2 + 4);
	assert_int_equal(prog->nact, 4);
	assert_int_equal(prog->act[0].len, 8);
	assert_int_equal(prog->act[1].len, TMPL_VARLEN);
	assert_int_equal(prog->act[3].op, IE_SRC_V4);
	free(prog);
	free(d);
}

static void
options_templates_keep_only_sampling_and_skip_scope(void **state)
{
	/* Scope 8 (would be a source address in a data template), then 8, 34. */
	static const uint16_t f[] = { 8, 4, 8, 4, 34, 4 };
	struct tmpl_def *d = def_new(300, 1, f, 3);
	struct ie_prog *prog;
	size_t bytes;

	assert_non_null(prog = ie_compile(d, &bytes));
	assert_int_equal(prog->options, 1);
	assert_int_equal(prog->nact, 1);
	assert_int_equal(prog->act[0].op, IE_SAMPLING_INTERVAL);
	assert_int_equal(prog->act[0].off, 8);
	free(prog);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_find_and_count),
		cmocka_unit_test(restart_forgets_only_what_the_restart_datagram_did_not_define),
		cmocka_unit_test(keys_separate_exporter_family_version_and_domain),
		cmocka_unit_test(bytes_return_to_baseline_after_withdraw_and_forget),
		cmocka_unit_test(withdraw_all_takes_only_one_kind),
		cmocka_unit_test(template_cap_refuses_new_ids_but_allows_redefinition),
		cmocka_unit_test(source_cap_refuses_templates_and_sampling),
		cmocka_unit_test(byte_cap_refuses_and_nothing_exceeds_it),
		cmocka_unit_test(thousands_of_sources_stay_findable),
		cmocka_unit_test(redefinition_refused_by_bytes_leaves_no_stale_template),
		cmocka_unit_test(invalid_templates_change_nothing),
		cmocka_unit_test(element_lookup_checks_lengths),
		cmocka_unit_test(compiled_fixed_template_runs_only_stored_fields),
		cmocka_unit_test(compiled_variable_template_merges_skipped_runs),
		cmocka_unit_test(options_templates_keep_only_sampling_and_skip_scope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
