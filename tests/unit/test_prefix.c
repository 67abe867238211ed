/*
 * engine/prefix: longest-prefix match, checked case by case and against a
 * brute-force linear reference over random prefixes, and timed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine/prefix.h"

static struct addr_prefix
pfx(const char *text)
{
	struct addr_prefix p;

	assert_null(addr_parse_prefix(text, &p));
	return p;
}

static struct addr
ip(const char *text)
{
	struct addr a;

	assert_null(addr_parse(text, &a));
	return a;
}

static uint16_t
look(const struct prefix_trie *t, const char *addr)
{
	struct addr a = ip(addr);

	return prefix_trie_lookup(t, &a);
}

static void
add(struct prefix_trie *t, const char *prefix, uint16_t value)
{
	struct addr_prefix p = pfx(prefix);

	assert_int_equal(prefix_trie_insert(t, &p, value), 0);
}

static void
empty_trie_finds_nothing(void **state)
{
	struct prefix_trie *t = prefix_trie_new();

	assert_non_null(t);
	assert_int_equal(look(t, "10.0.0.1"), PREFIX_NONE);
	assert_int_equal(look(t, "2001:db8::1"), PREFIX_NONE);
	assert_int_equal(prefix_trie_count(t), 0);
	prefix_trie_free(t);
	prefix_trie_free(NULL);
}

static void
exact_prefixes_hold_their_addresses_only(void **state)
{
	struct prefix_trie *t = prefix_trie_new();

	add(t, "192.0.2.0/24", 1);
	add(t, "198.51.100.0/25", 2);
	assert_int_equal(look(t, "192.0.2.0"), 1);
	assert_int_equal(look(t, "192.0.2.255"), 1);
	assert_int_equal(look(t, "192.0.3.0"), PREFIX_NONE);
	assert_int_equal(look(t, "192.0.1.255"), PREFIX_NONE);
	assert_int_equal(look(t, "198.51.100.127"), 2);
	assert_int_equal(look(t, "198.51.100.128"), PREFIX_NONE);
	assert_int_equal(prefix_trie_count(t), 2);
	prefix_trie_free(t);
}

static void
overlapping_prefixes_return_the_most_specific(void **state)
{
	struct prefix_trie *t = prefix_trie_new();

	/* Inserted broad first, then specific, then between: order must not matter. */
	add(t, "10.0.0.0/8", 1);
	add(t, "10.1.2.0/24", 3);
	add(t, "10.1.0.0/16", 2);
	add(t, "10.1.2.128/25", 4);
	assert_int_equal(look(t, "10.9.9.9"), 1);
	assert_int_equal(look(t, "10.1.9.9"), 2);
	assert_int_equal(look(t, "10.1.2.3"), 3);
	assert_int_equal(look(t, "10.1.2.200"), 4);
	assert_int_equal(look(t, "11.1.2.3"), PREFIX_NONE);
	prefix_trie_free(t);
}

static void
insertion_order_does_not_change_the_match(void **state)
{
	struct prefix_trie *t = prefix_trie_new();

	add(t, "10.1.0.0/16", 2);
	add(t, "10.0.0.0/8", 1);
	assert_int_equal(look(t, "10.1.0.1"), 2);
	assert_int_equal(look(t, "10.2.0.1"), 1);
	prefix_trie_free(t);
}

static void
sibling_prefixes_split_at_their_first_different_bit(void **state)
{
	struct prefix_trie *t = prefix_trie_new();

	add(t, "10.0.0.0/24", 1);
	add(t, "10.0.1.0/24", 2);
	add(t, "10.0.0.0/23", 3);	/* exactly the glue node's prefix */
	assert_int_equal(look(t, "10.0.0.1"), 1);
	assert_int_equal(look(t, "10.0.1.1"), 2);
	add(t, "10.0.2.0/24", 4);
	assert_int_equal(look(t, "10.0.2.1"), 4);
	assert_int_equal(look(t, "10.0.3.1"), PREFIX_NONE);
	assert_int_equal(prefix_trie_count(t), 4);
	prefix_trie_free(t);
}

static void
default_route_holds_everything_of_its_family(void **state)
{
	struct prefix_trie *t = prefix_trie_new();

	add(t, "0.0.0.0/0", 7);
	assert_int_equal(look(t, "0.0.0.0"), 7);
	assert_int_equal(look(t, "255.255.255.255"), 7);
	assert_int_equal(look(t, "2001:db8::1"), PREFIX_NONE);
	add(t, "::/0", 8);
	add(t, "192.0.2.0/24", 9);
	assert_int_equal(look(t, "2001:db8::1"), 8);
	assert_int_equal(look(t, "192.0.2.1"), 9);
	assert_int_equal(look(t, "192.0.3.1"), 7);
	prefix_trie_free(t);
}

static void
host_prefixes_match_one_address(void **state)
{
	struct prefix_trie *t = prefix_trie_new();

	add(t, "192.0.2.1/32", 1);
	add(t, "192.0.2.0/31", 2);
	add(t, "2001:db8::1/128", 3);
	add(t, "2001:db8::/127", 4);
	assert_int_equal(look(t, "192.0.2.1"), 1);
	assert_int_equal(look(t, "192.0.2.0"), 2);
	assert_int_equal(look(t, "192.0.2.2"), PREFIX_NONE);
	assert_int_equal(look(t, "2001:db8::1"), 3);
	assert_int_equal(look(t, "2001:db8::"), 4);
	assert_int_equal(look(t, "2001:db8::2"), PREFIX_NONE);
	add(t, "255.255.255.255/32", 5);
	add(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 6);
	assert_int_equal(look(t, "255.255.255.255"), 5);
	assert_int_equal(look(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 6);
	assert_int_equal(look(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), PREFIX_NONE);
	prefix_trie_free(t);
}

static void
ipv4_and_ipv6_are_separate(void **state)
{
	struct prefix_trie *t = prefix_trie_new();
	struct addr none;

	add(t, "::/96", 1);		/* would hold IPv4-compatible addresses */
	add(t, "10.0.0.0/8", 2);
	assert_int_equal(look(t, "::10.0.0.1"), 1);
	assert_int_equal(look(t, "10.0.0.1"), 2);
	assert_int_equal(look(t, "0.0.0.1"), PREFIX_NONE);
	memset(&none, 0, sizeof(none));
	assert_int_equal(prefix_trie_lookup(t, &none), PREFIX_NONE);
	prefix_trie_free(t);
}

static void
duplicate_prefix_keeps_its_first_value(void **state)
{
	struct prefix_trie *t = prefix_trie_new();
	struct addr_prefix p = pfx("10.0.0.0/8");

	assert_int_equal(prefix_trie_insert(t, &p, 1), 0);
	assert_int_equal(prefix_trie_insert(t, &p, 2), 1);
	assert_int_equal(look(t, "10.1.1.1"), 1);
	assert_int_equal(prefix_trie_count(t), 1);
	p = pfx("2001:db8::/32");
	assert_int_equal(prefix_trie_insert(t, &p, 3), 0);
	assert_int_equal(prefix_trie_insert(t, &p, 4), 1);
	assert_int_equal(prefix_trie_count(t), 2);
	prefix_trie_free(t);
}

static void
invalid_inserts_are_refused(void **state)
{
	struct prefix_trie *t = prefix_trie_new();
	struct addr_prefix p = pfx("10.0.0.0/8");

	assert_int_equal(prefix_trie_insert(t, &p, PREFIX_NONE), -1);
	p.len = 33;
	assert_int_equal(prefix_trie_insert(t, &p, 1), -1);
	memset(&p, 0, sizeof(p));
	assert_int_equal(prefix_trie_insert(t, &p, 1), -1);
	assert_int_equal(prefix_trie_count(t), 0);
	prefix_trie_free(t);
}

static void
host_bits_in_an_inserted_prefix_are_ignored(void **state)
{
	struct prefix_trie *t = prefix_trie_new();
	struct addr_prefix p;

	p.addr = ip("10.1.2.3");
	p.len = 16;
	assert_int_equal(prefix_trie_insert(t, &p, 1), 0);
	assert_int_equal(look(t, "10.1.200.200"), 1);
	prefix_trie_free(t);
}

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static void
random_addr(uint64_t *s, enum addr_family fam, struct addr *a)
{
	uint64_t x = rnd(s), y = rnd(s);

	memset(a, 0, sizeof(*a));
	a->family = fam;
	memcpy(a->bytes, &x, 8);
	memcpy(a->bytes + 8, &y, 8);
	if (fam == ADDR_V4)
		memset(a->bytes + 4, 0, 12);
	/* Few distinct top bytes, so that prefixes overlap and nest. */
	a->bytes[0] = (uint8_t)(a->bytes[0] % 4);
}

static void
mask_to(struct addr *a, unsigned len)
{
	unsigned i;

	for (i = len; i < 128; i++)
		a->bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/* The reference: the longest prefix holding a, by a scan of all of them. */
static uint16_t
linear_lookup(const struct addr_prefix *p, const uint16_t *v, size_t n, const struct addr *a)
{
	int best = -1;
	uint16_t val = PREFIX_NONE;
	size_t i;

	for (i = 0; i < n; i++)
		if (addr_prefix_contains(&p[i], a) && (int)p[i].len > best) {
			best = p[i].len;
			val = v[i];
		}
	return val;
}

static void
random_check(enum addr_family fam, unsigned bits, uint64_t seed, size_t npfx, size_t nlook)
{
	struct addr_prefix *p = calloc(npfx, sizeof(*p));
	uint16_t *v = calloc(npfx, sizeof(*v));
	struct prefix_trie *t = prefix_trie_new();
	struct addr a;
	size_t n = 0, i, j, dups = 0;
	uint64_t s = seed;
	int r;

	assert_non_null(p);
	assert_non_null(v);
	for (i = 0; i < npfx; i++) {
		random_addr(&s, fam, &p[n].addr);
		/* Lengths all over, /0 and full length included, short ones rare. */
		p[n].len = (uint8_t)(rnd(&s) % 8 == 0 ? rnd(&s) % (bits + 1) :
		    bits / 4 + rnd(&s) % (bits - bits / 4 + 1));
		if (n > 0 && rnd(&s) % 2 == 0) {
			/* Nest: extend a known prefix by some random bits. */
			const struct addr_prefix *b = &p[rnd(&s) % n];
			unsigned k;

			for (k = 0; k < b->len; k++) {
				uint8_t m = (uint8_t)(0x80 >> (k % 8));

				p[n].addr.bytes[k / 8] = (uint8_t)((p[n].addr.bytes[k / 8] & ~m) |
				    (b->addr.bytes[k / 8] & m));
			}
			p[n].len = (uint8_t)(b->len + rnd(&s) % (bits - b->len + 1));
		}
		mask_to(&p[n].addr, p[n].len);
		v[n] = (uint16_t)i;
		r = prefix_trie_insert(t, &p[n], v[n]);
		assert_true(r == 0 || r == 1);
		for (j = 0; j < n; j++)
			if (p[j].len == p[n].len && memcmp(&p[j].addr, &p[n].addr, sizeof(p[j].addr)) == 0)
				break;
		assert_int_equal(r, j < n ? 1 : 0);
		if (r == 0)
			n++;	/* a duplicate keeps the first value: drop it from the reference */
		else
			dups++;
	}
	assert_int_equal(prefix_trie_count(t), n);
	for (i = 0; i < nlook; i++) {
		if (i % 2 == 0) {
			random_addr(&s, fam, &a);
		} else {
			/* An address inside a known prefix, to hit the deep nodes. */
			a = p[rnd(&s) % n].addr;
			a.bytes[rnd(&s) % (bits / 8)] ^= (uint8_t)(1u << (rnd(&s) % 8));
		}
		assert_int_equal(prefix_trie_lookup(t, &a), linear_lookup(p, v, n, &a));
	}
	prefix_trie_free(t);
	free(p);
	free(v);
}

static void
random_ipv4_prefixes_match_a_linear_reference(void **state)
{
	random_check(ADDR_V4, 32, 1, 3000, 20000);
	random_check(ADDR_V4, 32, 42, 3000, 20000);
}

/* Past 8192 IPv4 prefixes a /16 direct table takes over the top of the trie. */
static void
large_ipv4_table_matches_a_linear_reference(void **state)
{
	random_check(ADDR_V4, 32, 5, 20000, 10000);
}

static void
random_ipv6_prefixes_match_a_linear_reference(void **state)
{
	random_check(ADDR_V6, 128, 7, 3000, 20000);
	random_check(ADDR_V6, 128, 99, 3000, 20000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_trie_finds_nothing),
		cmocka_unit_test(exact_prefixes_hold_their_addresses_only),
		cmocka_unit_test(overlapping_prefixes_return_the_most_specific),
		cmocka_unit_test(insertion_order_does_not_change_the_match),
		cmocka_unit_test(sibling_prefixes_split_at_their_first_different_bit),
		cmocka_unit_test(default_route_holds_everything_of_its_family),
		cmocka_unit_test(host_prefixes_match_one_address),
		cmocka_unit_test(ipv4_and_ipv6_are_separate),
		cmocka_unit_test(duplicate_prefix_keeps_its_first_value),
		cmocka_unit_test(invalid_inserts_are_refused),
		cmocka_unit_test(host_bits_in_an_inserted_prefix_are_ignored),
		cmocka_unit_test(random_ipv4_prefixes_match_a_linear_reference),
		cmocka_unit_test(large_ipv4_table_matches_a_linear_reference),
		cmocka_unit_test(random_ipv6_prefixes_match_a_linear_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
