/* engine/key: field names, packing layout, text, and packing speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine/key.h"

static const char *const all_names[KEY_FIELD_COUNT] = {
	"src_addr", "dst_addr", "src_port", "dst_port", "proto", "next_hop",
	"src_as", "dst_as", "src_prefix", "dst_prefix", "src_network",
	"dst_network", "in_if", "out_if", "tos", "exporter",
};

static struct addr
ip(const char *text)
{
	struct addr a;

	assert_null(addr_parse(text, &a));
	return a;
}

static struct flow_record
sample(void)
{
	struct flow_record r;

	memset(&r, 0, sizeof(r));
	r.src = ip("192.0.2.10");
	r.dst = ip("198.51.100.20");
	r.next_hop = ip("203.0.113.1");
	r.exporter = ip("10.0.0.1");
	r.src_port = 51000;
	r.dst_port = 443;
	r.proto = 6;
	r.tos = 0x2e;
	r.src_mask = 24;
	r.dst_mask = 16;
	r.src_as = 64500;
	r.dst_as = 4200000000u;
	r.in_if = 3;
	r.out_if = 70000;
	r.packets = 10;
	r.octets = 1500;
	return r;
}

static struct key_spec
spec1(enum key_field f)
{
	struct key_spec s = { { f }, 1 };

	return s;
}

/* Packs rec with spec and returns the text of the key. */
static const char *
text_of(const struct key_spec *s, const struct flow_record *r, uint8_t *key)
{
	static char buf[KEY_TEXT_MAX];

	assert_int_equal(key_pack(s, r, NULL, NULL, key), key_len(s));
	key_format(s, key, NULL, NULL, buf, sizeof(buf));
	return buf;
}

/* Networks for the tests: 192.0.2.0/24 is "lan" (0), 198.51.100.0/24 "dmz" (1). */
static uint16_t
test_net(const struct addr *a, void *arg)
{
	int *calls = arg;

	(*calls)++;
	if (a->family == ADDR_V4 && a->bytes[0] == 192 && a->bytes[1] == 0 && a->bytes[2] == 2)
		return 0;
	if (a->family == ADDR_V4 && a->bytes[0] == 198 && a->bytes[1] == 51)
		return 1;
	return KEY_NETWORK_OTHER;
}

static const char *
test_net_name(uint16_t i, void *arg)
{
	return i == 0 ? "lan" : i == 1 ? "dmz" : NULL;
}

static void
field_names_parse_in_enum_order(void **state)
{
	enum key_field f;
	size_t i;

	for (i = 0; i < KEY_FIELD_COUNT; i++) {
		assert_string_equal(key_field_name((enum key_field)i), all_names[i]);
		assert_null(key_field_parse(all_names[i], &f));
		assert_int_equal(f, i);
	}
}

static void
unknown_field_names_are_refused(void **state)
{
	enum key_field f = KEY_TOS;

	assert_non_null(key_field_parse("src_ip", &f));
	assert_non_null(key_field_parse("SRC_ADDR", &f));
	assert_non_null(key_field_parse("", &f));
	assert_non_null(key_field_parse(NULL, &f));
	assert_int_equal(f, KEY_TOS);
	assert_string_equal(key_field_name(KEY_FIELD_COUNT), "?");
}

static void
field_widths_follow_the_layout(void **state)
{
	static const size_t widths[KEY_FIELD_COUNT] = {
		17, 17, 2, 2, 1, 17, 4, 4, 18, 18, 2, 2, 4, 4, 1, 17,
	};
	size_t i;

	for (i = 0; i < KEY_FIELD_COUNT; i++)
		assert_int_equal(key_field_width((enum key_field)i), widths[i]);
	assert_int_equal(key_field_width(KEY_FIELD_COUNT), 0);
}

static void
field_offsets_add_up_the_widths_before(void **state)
{
	struct key_spec s = { { KEY_SRC_PREFIX, KEY_PROTO, KEY_DST_PORT, KEY_IN_IF }, 4 };

	assert_int_equal(key_field_offset(&s, 0), 0);
	assert_int_equal(key_field_offset(&s, 1), 18);
	assert_int_equal(key_field_offset(&s, 2), 19);
	assert_int_equal(key_field_offset(&s, 3), 21);
	assert_int_equal(key_len(&s), 25);
	assert_int_equal(key_field_offset(&s, 4), 25);
}

static void
widest_key_fits_key_max_bytes(void **state)
{
	struct key_spec s = { { KEY_SRC_PREFIX, KEY_DST_PREFIX, KEY_SRC_PREFIX, KEY_DST_PREFIX }, 4 };

	assert_int_equal(key_len(&s), KEY_MAX_BYTES);
}

static void
ipv4_address_packs_family_then_padded_bytes(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_SRC_ADDR);
	uint8_t key[KEY_MAX_BYTES];
	static const uint8_t want[17] = { 4, 192, 0, 2, 10 };

	memset(r.src.bytes + 4, 0xaa, 12);	/* junk past the IPv4 address */
	assert_string_equal(text_of(&s, &r, key), "192.0.2.10");
	assert_memory_equal(key, want, sizeof(want));
}

static void
ipv6_address_packs_and_formats_per_rfc5952(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_DST_ADDR);
	uint8_t key[KEY_MAX_BYTES];

	r.dst = ip("2001:DB8:0:0:1:0:0:1");
	assert_string_equal(text_of(&s, &r, key), "2001:db8::1:0:0:1");
	assert_int_equal(key[0], 6);
	assert_memory_equal(key + 1, r.dst.bytes, 16);
}

static void
absent_address_packs_zero_and_formats_as_dash(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_NEXT_HOP);
	uint8_t key[KEY_MAX_BYTES], zero[17] = { 0 };

	memset(&r.next_hop, 0x55, sizeof(r.next_hop));
	r.next_hop.family = ADDR_NONE;
	assert_string_equal(text_of(&s, &r, key), "-");
	assert_memory_equal(key, zero, sizeof(zero));
}

static void
next_hop_and_exporter_pack_as_addresses(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = { { KEY_NEXT_HOP, KEY_EXPORTER }, 2 };
	uint8_t key[KEY_MAX_BYTES];

	r.exporter = ip("2001:db8::2");
	assert_string_equal(text_of(&s, &r, key), "203.0.113.1 2001:db8::2");
	assert_int_equal(key[0], 4);
	assert_int_equal(key[17], 6);
}

static void
ports_pack_big_endian_and_format_as_numbers(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = { { KEY_SRC_PORT, KEY_DST_PORT }, 2 };
	uint8_t key[KEY_MAX_BYTES];

	assert_string_equal(text_of(&s, &r, key), "51000 443");
	assert_int_equal(key[0], 51000 >> 8);
	assert_int_equal(key[1], 51000 & 0xff);
	assert_int_equal(key[2], 1);
	assert_int_equal(key[3], 443 & 0xff);
	r.src_port = 0;
	r.dst_port = 65535;
	assert_string_equal(text_of(&s, &r, key), "0 65535");
}

static void
protocols_format_by_name_or_number(void **state)
{
	static const struct {
		uint8_t n;
		const char *name;
	} names[] = {
		{ 1, "icmp" }, { 2, "igmp" }, { 6, "tcp" }, { 17, "udp" },
		{ 41, "ipv6" }, { 47, "gre" }, { 50, "esp" }, { 51, "ah" },
		{ 58, "icmp6" }, { 89, "ospf" }, { 103, "pim" }, { 112, "vrrp" },
		{ 132, "sctp" },
	};
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_PROTO);
	uint8_t key[KEY_MAX_BYTES];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r.proto = names[i].n;
		assert_string_equal(text_of(&s, &r, key), names[i].name);
		assert_int_equal(key[0], names[i].n);
		assert_string_equal(key_proto_name(names[i].n), names[i].name);
	}
	r.proto = 0;
	assert_string_equal(text_of(&s, &r, key), "0");
	r.proto = 253;
	assert_string_equal(text_of(&s, &r, key), "253");
	assert_null(key_proto_name(253));
}

static void
as_numbers_and_interfaces_pack_32_bit_big_endian(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = { { KEY_SRC_AS, KEY_DST_AS, KEY_IN_IF, KEY_OUT_IF }, 4 };
	uint8_t key[KEY_MAX_BYTES];
	static const uint8_t want[16] = {
		0, 0, 0xfb, 0xf4, 0xfa, 0x56, 0xea, 0x00,
		0, 0, 0, 3, 0, 1, 0x11, 0x70,
	};

	assert_string_equal(text_of(&s, &r, key), "64500 4200000000 3 70000");
	assert_memory_equal(key, want, sizeof(want));
	r.dst_as = UINT32_MAX;
	assert_string_equal(text_of(&s, &r, key), "64500 4294967295 3 70000");
}

static void
tos_packs_one_byte(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_TOS);
	uint8_t key[KEY_MAX_BYTES];

	assert_string_equal(text_of(&s, &r, key), "46");
	assert_int_equal(key_len(&s), 1);
	assert_int_equal(key[0], 0x2e);
}

static void
ipv4_prefix_is_masked_to_the_record_mask(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = { { KEY_SRC_PREFIX, KEY_DST_PREFIX }, 2 };
	uint8_t key[KEY_MAX_BYTES];
	static const uint8_t want[36] = {
		4, 24, 192, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		4, 16, 198, 51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};

	assert_string_equal(text_of(&s, &r, key), "192.0.2.0/24 198.51.0.0/16");
	assert_memory_equal(key, want, sizeof(want));
	r.src_mask = 27;
	r.src = ip("192.0.2.77");
	assert_string_equal(text_of(&s, &r, key), "192.0.2.64/27 198.51.0.0/16");
}

static void
ipv6_prefix_is_masked_to_the_record_mask(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_DST_PREFIX);
	uint8_t key[KEY_MAX_BYTES];

	r.dst = ip("2001:db8:abcd:12ff::1");
	r.dst_mask = 52;
	assert_string_equal(text_of(&s, &r, key), "2001:db8:abcd:1000::/52");
	assert_int_equal(key[0], 6);
	assert_int_equal(key[1], 52);
	r.dst_mask = 128;
	assert_string_equal(text_of(&s, &r, key), "2001:db8:abcd:12ff::1/128");
}

static void
prefix_without_mask_is_the_full_address(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_SRC_PREFIX);
	uint8_t key[KEY_MAX_BYTES];

	r.src_mask = 0;
	assert_string_equal(text_of(&s, &r, key), "192.0.2.10/32");
	r.src = ip("2001:db8::7");
	assert_string_equal(text_of(&s, &r, key), "2001:db8::7/128");
}

static void
prefix_mask_beyond_the_family_is_clamped(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_SRC_PREFIX);
	uint8_t key[KEY_MAX_BYTES];

	r.src_mask = 40;
	assert_string_equal(text_of(&s, &r, key), "192.0.2.10/32");
	assert_int_equal(key[1], 32);
}

static void
prefix_of_absent_address_formats_as_dash(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_SRC_PREFIX);
	uint8_t key[KEY_MAX_BYTES], zero[18] = { 0 };

	memset(&r.src, 0, sizeof(r.src));
	assert_string_equal(text_of(&s, &r, key), "-");
	assert_memory_equal(key, zero, sizeof(zero));
}

static void
networks_pack_the_lookup_index_and_format_by_name(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = { { KEY_SRC_NETWORK, KEY_DST_NETWORK }, 2 };
	uint8_t key[KEY_MAX_BYTES];
	char buf[KEY_TEXT_MAX];
	int calls = 0;

	assert_int_equal(key_pack(&s, &r, test_net, &calls, key), 4);
	assert_int_equal(calls, 2);
	assert_int_equal(key[1], 0);
	assert_int_equal(key[3], 1);
	key_format(&s, key, test_net_name, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "lan dmz");
}

static void
address_in_no_network_is_other(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_DST_NETWORK);
	uint8_t key[KEY_MAX_BYTES];
	char buf[KEY_TEXT_MAX];
	int calls = 0;

	r.dst = ip("203.0.113.9");
	key_pack(&s, &r, test_net, &calls, key);
	assert_int_equal(key[0], 0xff);
	assert_int_equal(key[1], 0xff);
	key_format(&s, key, test_net_name, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "other");
}

static void
network_without_lookup_is_other(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = spec1(KEY_SRC_NETWORK);
	uint8_t key[KEY_MAX_BYTES];

	assert_string_equal(text_of(&s, &r, key), "other");
}

static void
network_without_name_formats_its_index(void **state)
{
	struct key_spec s = spec1(KEY_SRC_NETWORK);
	uint8_t key[2] = { 0, 7 };
	char buf[KEY_TEXT_MAX];

	key_format(&s, key, NULL, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "7");
	key_format(&s, key, test_net_name, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "7");
}

static void
lookup_is_not_called_without_network_fields(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = { { KEY_SRC_ADDR, KEY_DST_PREFIX, KEY_PROTO }, 3 };
	uint8_t key[KEY_MAX_BYTES];
	int calls = 0;

	key_pack(&s, &r, test_net, &calls, key);
	assert_int_equal(calls, 0);
}

static void
two_to_four_fields_pack_in_spec_order(void **state)
{
	struct flow_record r = sample();
	struct key_spec s2 = { { KEY_PROTO, KEY_DST_PORT }, 2 };
	struct key_spec s3 = { { KEY_SRC_ADDR, KEY_DST_ADDR, KEY_PROTO }, 3 };
	struct key_spec s4 = { { KEY_EXPORTER, KEY_IN_IF, KEY_SRC_NETWORK, KEY_DST_PREFIX }, 4 };
	uint8_t key[KEY_MAX_BYTES];
	char buf[KEY_TEXT_MAX];
	int calls = 0;

	assert_string_equal(text_of(&s2, &r, key), "tcp 443");
	assert_int_equal(key_len(&s2), 3);
	assert_int_equal(key[0], 6);
	assert_string_equal(text_of(&s3, &r, key), "192.0.2.10 198.51.100.20 tcp");
	assert_int_equal(key_len(&s3), 35);
	assert_int_equal(key[34], 6);
	assert_int_equal(key_pack(&s4, &r, test_net, &calls, key), 17 + 4 + 2 + 18);
	key_format(&s4, key, test_net_name, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1 3 lan 198.51.0.0/16");
}

static void
spec_order_changes_the_bytes(void **state)
{
	struct flow_record r = sample();
	struct key_spec a = { { KEY_PROTO, KEY_DST_PORT }, 2 };
	struct key_spec b = { { KEY_DST_PORT, KEY_PROTO }, 2 };
	uint8_t ka[KEY_MAX_BYTES], kb[KEY_MAX_BYTES];

	assert_string_equal(text_of(&b, &r, kb), "443 tcp");
	text_of(&a, &r, ka);
	assert_memory_not_equal(ka, kb, 3);
}

static void
equal_records_pack_to_equal_bytes(void **state)
{
	struct flow_record a = sample(), b;
	struct key_spec s = { { KEY_SRC_ADDR, KEY_DST_PREFIX, KEY_DST_PORT, KEY_PROTO }, 4 };
	uint8_t ka[KEY_MAX_BYTES], kb[KEY_MAX_BYTES];

	/* Same key fields, different everything else, junk in unused bytes. */
	memset(&b, 0x77, sizeof(b));
	b.src = a.src;
	memset(b.src.bytes + 4, 0x99, 12);
	b.dst = ip("198.51.200.200");
	b.dst_mask = a.dst_mask;
	b.dst_port = a.dst_port;
	b.proto = a.proto;
	memset(ka, 1, sizeof(ka));
	memset(kb, 2, sizeof(kb));
	assert_int_equal(key_pack(&s, &a, NULL, NULL, ka), key_len(&s));
	assert_int_equal(key_pack(&s, &b, NULL, NULL, kb), key_len(&s));
	assert_memory_equal(ka, kb, key_len(&s));
}

static void
different_records_pack_to_different_bytes(void **state)
{
	struct flow_record a = sample(), b = sample();
	struct key_spec s = { { KEY_SRC_ADDR, KEY_DST_PORT }, 2 };
	uint8_t ka[KEY_MAX_BYTES], kb[KEY_MAX_BYTES];

	b.dst_port = 80;
	key_pack(&s, &a, NULL, NULL, ka);
	key_pack(&s, &b, NULL, NULL, kb);
	assert_memory_not_equal(ka, kb, key_len(&s));
	/* Byte order sorts numerically: port 80 before 443. */
	assert_true(memcmp(kb, ka, key_len(&s)) < 0);
}

static void
ipv4_and_ipv6_never_share_a_key(void **state)
{
	struct flow_record a = sample(), b = sample();
	struct key_spec s = spec1(KEY_SRC_ADDR);
	uint8_t ka[KEY_MAX_BYTES], kb[KEY_MAX_BYTES];

	a.src = ip("0.0.0.0");
	b.src = ip("::");
	key_pack(&s, &a, NULL, NULL, ka);
	key_pack(&s, &b, NULL, NULL, kb);
	assert_memory_not_equal(ka, kb, key_len(&s));
}

static void
format_truncates_to_the_buffer(void **state)
{
	struct flow_record r = sample();
	struct key_spec s = { { KEY_SRC_ADDR, KEY_DST_ADDR }, 2 };
	uint8_t key[KEY_MAX_BYTES];
	char buf[12];

	key_pack(&s, &r, NULL, NULL, key);
	memset(buf, 'x', sizeof(buf));
	key_format(&s, key, NULL, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.10 ");
	key_format(&s, key, NULL, NULL, buf, 1);
	assert_string_equal(buf, "");
}

static void
damaged_key_bytes_format_safely(void **state)
{
	struct key_spec s = { { KEY_SRC_ADDR, KEY_SRC_PREFIX, KEY_DST_PREFIX }, 3 };
	uint8_t key[KEY_MAX_BYTES];
	char buf[KEY_TEXT_MAX];

	memset(key, 0xff, sizeof(key));
	key[17] = 4;		/* IPv4 prefix with length 255 */
	key_format(&s, key, NULL, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "- 255.255.255.255/32 -");
}

/*
 * key_pack has a fast path for IPv4 addresses and plain fields and a
 * reference packer for the rest; a spec that also holds a prefix takes the
 * reference packer from its first field. Both must give the same bytes.
 */
static void
fast_path_and_reference_packer_agree(void **state)
{
	static const enum key_field plain[] = {
		KEY_SRC_ADDR, KEY_DST_ADDR, KEY_NEXT_HOP, KEY_EXPORTER, KEY_SRC_PORT,
		KEY_DST_PORT, KEY_PROTO, KEY_TOS, KEY_SRC_AS, KEY_DST_AS, KEY_IN_IF, KEY_OUT_IF
	};
	struct flow_record r = sample();
	uint8_t fast[KEY_MAX_BYTES], ref[KEY_MAX_BYTES];
	uint32_t x = 2463534242u;

	(void)state;
	for (int round = 0; round < 200; round++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		r.src.bytes[3] = (uint8_t)x;
		r.dst.bytes[2] = (uint8_t)(x >> 8);
		r.src_port = (uint16_t)x;
		r.dst_port = (uint16_t)(x >> 16);
		r.proto = (uint8_t)(x >> 3);
		r.tos = (uint8_t)(x >> 11);
		r.src_as = x;
		r.dst_as = ~x;
		r.in_if = x >> 7;
		r.out_if = x >> 9;
		for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
			struct key_spec one = { { plain[i] }, 1 };
			struct key_spec with_prefix = { { plain[i], KEY_SRC_PREFIX }, 2 };
			size_t n = key_pack(&one, &r, NULL, NULL, fast);

			assert_int_equal(key_pack(&with_prefix, &r, NULL, NULL, ref),
			    n + key_field_width(KEY_SRC_PREFIX));
			assert_memory_equal(fast, ref, n);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_names_parse_in_enum_order),
		cmocka_unit_test(fast_path_and_reference_packer_agree),
		cmocka_unit_test(unknown_field_names_are_refused),
		cmocka_unit_test(field_widths_follow_the_layout),
		cmocka_unit_test(field_offsets_add_up_the_widths_before),
		cmocka_unit_test(widest_key_fits_key_max_bytes),
		cmocka_unit_test(ipv4_address_packs_family_then_padded_bytes),
		cmocka_unit_test(ipv6_address_packs_and_formats_per_rfc5952),
		cmocka_unit_test(absent_address_packs_zero_and_formats_as_dash),
		cmocka_unit_test(next_hop_and_exporter_pack_as_addresses),
		cmocka_unit_test(ports_pack_big_endian_and_format_as_numbers),
		cmocka_unit_test(protocols_format_by_name_or_number),
		cmocka_unit_test(as_numbers_and_interfaces_pack_32_bit_big_endian),
		cmocka_unit_test(tos_packs_one_byte),
		cmocka_unit_test(ipv4_prefix_is_masked_to_the_record_mask),
		cmocka_unit_test(ipv6_prefix_is_masked_to_the_record_mask),
		cmocka_unit_test(prefix_without_mask_is_the_full_address),
		cmocka_unit_test(prefix_mask_beyond_the_family_is_clamped),
		cmocka_unit_test(prefix_of_absent_address_formats_as_dash),
		cmocka_unit_test(networks_pack_the_lookup_index_and_format_by_name),
		cmocka_unit_test(address_in_no_network_is_other),
		cmocka_unit_test(network_without_lookup_is_other),
		cmocka_unit_test(network_without_name_formats_its_index),
		cmocka_unit_test(lookup_is_not_called_without_network_fields),
		cmocka_unit_test(two_to_four_fields_pack_in_spec_order),
		cmocka_unit_test(spec_order_changes_the_bytes),
		cmocka_unit_test(equal_records_pack_to_equal_bytes),
		cmocka_unit_test(different_records_pack_to_different_bytes),
		cmocka_unit_test(ipv4_and_ipv6_never_share_a_key),
		cmocka_unit_test(format_truncates_to_the_buffer),
		cmocka_unit_test(damaged_key_bytes_format_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
