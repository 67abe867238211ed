/* engine/addr and engine/units: parsing, formatting, containment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "engine/addr.h"
#include "engine/units.h"

static void
assert_addr_text(const char *in, const char *formatted)
{
	struct addr a;
	char buf[ADDR_STRLEN];

	assert_null(addr_parse(in, &a));
	addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, formatted);
}

static void
ipv4_address_parses_and_formats(void **state)
{
	struct addr a;

	assert_null(addr_parse("192.0.2.1", &a));
	assert_int_equal(a.family, ADDR_V4);
	assert_int_equal(a.bytes[0], 192);
	assert_int_equal(a.bytes[3], 1);
	assert_addr_text("0.0.0.0", "0.0.0.0");
	assert_addr_text("255.255.255.255", "255.255.255.255");
}

static void
ipv6_address_formats_per_rfc5952(void **state)
{
	struct addr a;

	assert_null(addr_parse("2001:DB8:0:0:0:0:0:1", &a));
	assert_int_equal(a.family, ADDR_V6);
	assert_addr_text("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
	assert_addr_text("::", "::");
	assert_addr_text("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	assert_addr_text("::ffff:192.0.2.1", "::ffff:192.0.2.1");
}

static void
malformed_addresses_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
		"01.2.3.4", "example.com", "1.2.3.4/24", "2001:db8::1::1",
		"fe80::1%eth0", "[::1]", "::1:", "gggg::1",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999",
		"0000000000000000000000000000000000000000000000000001.2.3.4",
	};
	struct addr a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(addr_parse(bad[i], &a), "not an IP address");
	assert_string_equal(addr_parse(NULL, &a), "not an IP address");
}

static void
prefix_parses_with_length(void **state)
{
	struct addr_prefix p;

	assert_null(addr_parse_prefix("192.0.2.0/24", &p));
	assert_int_equal(p.addr.family, ADDR_V4);
	assert_int_equal(p.len, 24);
	assert_null(addr_parse_prefix("2001:db8::/32", &p));
	assert_int_equal(p.addr.family, ADDR_V6);
	assert_int_equal(p.len, 32);
	assert_null(addr_parse_prefix("0.0.0.0/0", &p));
	assert_int_equal(p.len, 0);
	assert_null(addr_parse_prefix("::1/128", &p));
	assert_int_equal(p.len, 128);
	assert_null(addr_parse_prefix("192.0.2.1/32", &p));
}

static void
prefix_without_length_is_refused(void **state)
{
	struct addr_prefix p;

	assert_string_equal(addr_parse_prefix("192.0.2.0", &p),
	    "not a prefix (ADDRESS/LENGTH)");
	assert_string_equal(addr_parse_prefix("x/24", &p),
	    "not a prefix (ADDRESS/LENGTH)");
	assert_string_equal(addr_parse_prefix("/24", &p),
	    "not a prefix (ADDRESS/LENGTH)");
}

static void
prefix_length_out_of_range_is_refused(void **state)
{
	static const char *const bad[] = {
		"192.0.2.0/33", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/-1",
		"192.0.2.0/+8", "192.0.2.0/024", "192.0.2.0/24 ", "192.0.2.0/2x",
		"10.0.0.0/99999999999999999999",
	};
	struct addr_prefix p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(addr_parse_prefix(bad[i], &p),
		    "prefix length out of range");
}

static void
prefix_with_host_bits_is_refused(void **state)
{
	struct addr_prefix p;

	assert_string_equal(addr_parse_prefix("192.0.2.1/24", &p),
	    "host bits set beyond the prefix length");
	assert_string_equal(addr_parse_prefix("10.128.0.0/8", &p),
	    "host bits set beyond the prefix length");
	assert_string_equal(addr_parse_prefix("2001:db8::1/64", &p),
	    "host bits set beyond the prefix length");
	assert_string_equal(addr_parse_prefix("0.0.0.1/0", &p),
	    "host bits set beyond the prefix length");
}

static void
endpoint_parses_v4_and_bracketed_v6(void **state)
{
	struct addr_endpoint ep;
	char buf[ADDR_ENDPOINT_STRLEN];

	assert_null(addr_parse_endpoint("192.0.2.1:2055", &ep));
	assert_int_equal(ep.addr.family, ADDR_V4);
	assert_int_equal(ep.port, 2055);
	addr_format_endpoint(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:2055");

	assert_null(addr_parse_endpoint("[2001:DB8::1]:4739", &ep));
	assert_int_equal(ep.addr.family, ADDR_V6);
	assert_int_equal(ep.port, 4739);
	addr_format_endpoint(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:4739");

	assert_null(addr_parse_endpoint("[::]:65535", &ep));
	assert_int_equal(ep.port, 65535);
	addr_format_endpoint(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "[::]:65535");
}

static void
endpoint_with_port_zero_formats_as_address(void **state)
{
	struct addr_endpoint ep;
	char buf[ADDR_ENDPOINT_STRLEN];

	memset(&ep, 0, sizeof(ep));
	assert_null(addr_parse("2001:db8::7", &ep.addr));
	addr_format_endpoint(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::7");
}

static void
endpoint_without_port_is_refused(void **state)
{
	struct addr_endpoint ep;

	assert_string_equal(addr_parse_endpoint("1.2.3.4", &ep), "not an address:port");
	assert_string_equal(addr_parse_endpoint("[::1]", &ep), "not an address:port");
	assert_string_equal(addr_parse_endpoint("[::1]4739", &ep), "not an address:port");
	assert_string_equal(addr_parse_endpoint("host:80", &ep), "not an address:port");
	assert_string_equal(addr_parse_endpoint("", &ep), "not an address:port");
}

static void
endpoint_bare_ipv6_is_refused_as_ambiguous(void **state)
{
	struct addr_endpoint ep;

	assert_string_equal(addr_parse_endpoint("2001:db8::1:4739", &ep),
	    "IPv6 address needs brackets ([ADDRESS]:PORT)");
	assert_string_equal(addr_parse_endpoint("::1:4739", &ep),
	    "IPv6 address needs brackets ([ADDRESS]:PORT)");
}

static void
endpoint_brackets_require_ipv6(void **state)
{
	struct addr_endpoint ep;

	assert_string_equal(addr_parse_endpoint("[192.0.2.1]:80", &ep),
	    "not an IPv6 address in brackets");
	assert_string_equal(addr_parse_endpoint("[nope]:80", &ep),
	    "not an IPv6 address in brackets");
}

static void
endpoint_port_out_of_range_is_refused(void **state)
{
	static const char *const bad[] = {
		"1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:-1",
		"1.2.3.4:+80", "1.2.3.4:080", "1.2.3.4:80x", "[::1]:0",
		"[::1]:99999999999999999999",
	};
	struct addr_endpoint ep;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(addr_parse_endpoint(bad[i], &ep),
		    "port must be between 1 and 65535");
}

static void
failed_parse_leaves_output_untouched(void **state)
{
	struct addr_endpoint ep;

	memset(&ep, 0xab, sizeof(ep));
	assert_non_null(addr_parse_endpoint("1.2.3.4:0", &ep));
	assert_int_equal(ep.port, 0xabab);
}

static void
format_truncates_to_buffer(void **state)
{
	struct addr_endpoint ep;
	char buf[8];

	assert_null(addr_parse_endpoint("[2001:db8::1]:4739", &ep));
	addr_format_endpoint(&ep, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 7);
	addr_format(&ep.addr, buf, sizeof(buf));
	assert_string_equal(buf, "");	/* inet_ntop refuses; never a partial address */
}

static void
prefix_contains_matches_only_its_range(void **state)
{
	struct addr_prefix p;
	struct addr a;

	assert_null(addr_parse_prefix("192.0.2.0/23", &p));
	assert_null(addr_parse("192.0.3.255", &a));
	assert_true(addr_prefix_contains(&p, &a));
	assert_null(addr_parse("192.0.4.0", &a));
	assert_false(addr_prefix_contains(&p, &a));
	assert_null(addr_parse("192.0.1.255", &a));
	assert_false(addr_prefix_contains(&p, &a));

	assert_null(addr_parse_prefix("2001:db8:1::/48", &p));
	assert_null(addr_parse("2001:db8:1:ffff::1", &a));
	assert_true(addr_prefix_contains(&p, &a));
	assert_null(addr_parse("2001:db8:2::1", &a));
	assert_false(addr_prefix_contains(&p, &a));
}

static void
prefix_contains_edges(void **state)
{
	struct addr_prefix p;
	struct addr a;

	assert_null(addr_parse_prefix("0.0.0.0/0", &p));
	assert_null(addr_parse("203.0.113.9", &a));
	assert_true(addr_prefix_contains(&p, &a));
	assert_null(addr_parse("::ffff:203.0.113.9", &a));
	assert_false(addr_prefix_contains(&p, &a));	/* families never mix */

	assert_null(addr_parse_prefix("203.0.113.9/32", &p));
	assert_null(addr_parse("203.0.113.9", &a));
	assert_true(addr_prefix_contains(&p, &a));
	assert_null(addr_parse("203.0.113.8", &a));
	assert_false(addr_prefix_contains(&p, &a));

	assert_null(addr_parse_prefix("10.0.0.0/9", &p));
	assert_null(addr_parse("10.127.255.255", &a));
	assert_true(addr_prefix_contains(&p, &a));
	assert_null(addr_parse("10.128.0.0", &a));
	assert_false(addr_prefix_contains(&p, &a));
}

static void
assert_duration(const char *text, int64_t want)
{
	int64_t ns = -1;

	assert_null(units_parse_duration(text, &ns));
	assert_int_equal(ns, want);
}

static void
durations_parse_every_unit(void **state)
{
	assert_duration("500ms", INT64_C(500000000));
	assert_duration("30s", 30 * UNITS_NS_PER_SEC);
	assert_duration("5m", 300 * UNITS_NS_PER_SEC);
	assert_duration("24h", 86400 * UNITS_NS_PER_SEC);
	assert_duration("7d", 7 * 86400 * UNITS_NS_PER_SEC);
	assert_duration("0", 0);
	assert_duration("15", 15 * UNITS_NS_PER_SEC);
	assert_duration("1.5s", INT64_C(1500000000));
	assert_duration("0.25m", 15 * UNITS_NS_PER_SEC);
	assert_duration("0.001ms", 1000);
	assert_duration("1.0000000019s", UNITS_NS_PER_SEC + 1);
}

static void
durations_refuse_garbage(void **state)
{
	int64_t ns = 42;

	assert_string_equal(units_parse_duration("", &ns), "empty duration");
	assert_string_equal(units_parse_duration(NULL, &ns), "empty duration");
	assert_string_equal(units_parse_duration("-5s", &ns), "negative duration");
	assert_string_equal(units_parse_duration("s", &ns), "not a duration");
	assert_string_equal(units_parse_duration(" 5s", &ns), "not a duration");
	assert_string_equal(units_parse_duration("+5s", &ns), "not a duration");
	assert_string_equal(units_parse_duration(".5s", &ns), "not a duration");
	assert_string_equal(units_parse_duration("5.s", &ns), "not a duration");
	assert_string_equal(units_parse_duration("5x", &ns),
	    "unknown unit (use ms, s, m, h or d)");
	assert_string_equal(units_parse_duration("5 s", &ns),
	    "unknown unit (use ms, s, m, h or d)");
	assert_string_equal(units_parse_duration("5S", &ns),
	    "unknown unit (use ms, s, m, h or d)");
	assert_string_equal(units_parse_duration("1m30s", &ns),
	    "unknown unit (use ms, s, m, h or d)");
	assert_int_equal(ns, 42);
}

static void
durations_refuse_overflow(void **state)
{
	int64_t ns = 42;

	assert_string_equal(units_parse_duration("9223372037s", &ns), "duration too large");
	assert_string_equal(units_parse_duration("106752d", &ns), "duration too large");
	assert_string_equal(units_parse_duration("99999999999999999999999", &ns),
	    "duration too large");
	assert_string_equal(units_parse_duration("9223372036.9s", &ns),
	    "duration too large");
	assert_int_equal(ns, 42);
	assert_duration("106751d", INT64_C(106751) * 86400 * UNITS_NS_PER_SEC);
}

static void
seconds_convert_to_ns_with_range_check(void **state)
{
	int64_t ns = 42;

	assert_null(units_seconds_to_ns(0.2, &ns));
	assert_int_equal(ns, 200000000);
	assert_null(units_seconds_to_ns(0.01, &ns));
	assert_int_equal(ns, 10000000);
	assert_null(units_seconds_to_ns(86400, &ns));
	assert_int_equal(ns, 86400 * UNITS_NS_PER_SEC);
	assert_string_equal(units_seconds_to_ns(-0.5, &ns), "negative duration");
	assert_string_equal(units_seconds_to_ns(1e300, &ns), "duration too large");
	assert_string_equal(units_seconds_to_ns(__builtin_inf(), &ns), "duration too large");
	assert_string_equal(units_seconds_to_ns(__builtin_nan(""), &ns), "not a number");
	assert_int_equal(ns, 86400 * UNITS_NS_PER_SEC);
}

/* The sockaddr is checked through the kernel's own text form (inet_ntop), not ours. */
static void
endpoints_convert_to_sockaddrs_and_back(void **state)
{
	static const char *in[] = { "192.0.2.1:2055", "[2001:db8::1]:4739", "0.0.0.0:1",
	    "[::]:65535" };
	struct addr_endpoint ep, back;
	struct sockaddr_storage ss;
	char text[ADDR_STRLEN], want[ADDR_ENDPOINT_STRLEN];
	size_t i, len;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_null(addr_parse_endpoint(in[i], &ep));
		len = addr_endpoint_to_sockaddr(&ep, &ss);
		if (ep.addr.family == ADDR_V4) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

			assert_int_equal(len, sizeof(*sin));
			assert_int_equal(sin->sin_family, AF_INET);
			assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)));
			snprintf(want, sizeof(want), "%s:%u", text, ntohs(sin->sin_port));
		} else {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

			assert_int_equal(len, sizeof(*sin6));
			assert_int_equal(sin6->sin6_family, AF_INET6);
			assert_non_null(inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text)));
			snprintf(want, sizeof(want), "[%s]:%u", text, ntohs(sin6->sin6_port));
		}
		assert_string_equal(want, in[i]);
		addr_endpoint_from_sockaddr(&ss, &back);
		assert_int_equal(back.addr.family, ep.addr.family);
		assert_int_equal(back.port, ep.port);
		assert_memory_equal(back.addr.bytes, ep.addr.bytes, sizeof(ep.addr.bytes));
	}
}

static void
ipv4_mapped_sockaddrs_are_ipv4_and_other_families_none(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct addr_endpoint ep;
	char buf[ADDR_ENDPOINT_STRLEN];

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(9);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.7", &sin6->sin6_addr), 1);
	addr_endpoint_from_sockaddr(&ss, &ep);
	assert_int_equal(ep.addr.family, ADDR_V4);
	addr_format_endpoint(&ep, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.7:9");
	/* Only the mapped prefix: ::198.51.100.7 (deprecated IPv4-compatible) stays IPv6. */
	assert_int_equal(inet_pton(AF_INET6, "::198.51.100.7", &sin6->sin6_addr), 1);
	addr_endpoint_from_sockaddr(&ss, &ep);
	assert_int_equal(ep.addr.family, ADDR_V6);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	addr_endpoint_from_sockaddr(&ss, &ep);
	assert_int_equal(ep.addr.family, ADDR_NONE);
	assert_int_equal(ep.port, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_address_parses_and_formats),
		cmocka_unit_test(ipv6_address_formats_per_rfc5952),
		cmocka_unit_test(malformed_addresses_are_refused),
		cmocka_unit_test(prefix_parses_with_length),
		cmocka_unit_test(prefix_without_length_is_refused),
		cmocka_unit_test(prefix_length_out_of_range_is_refused),
		cmocka_unit_test(prefix_with_host_bits_is_refused),
		cmocka_unit_test(endpoint_parses_v4_and_bracketed_v6),
		cmocka_unit_test(endpoint_with_port_zero_formats_as_address),
		cmocka_unit_test(endpoint_without_port_is_refused),
		cmocka_unit_test(endpoint_bare_ipv6_is_refused_as_ambiguous),
		cmocka_unit_test(endpoint_brackets_require_ipv6),
		cmocka_unit_test(endpoint_port_out_of_range_is_refused),
		cmocka_unit_test(failed_parse_leaves_output_untouched),
		cmocka_unit_test(format_truncates_to_buffer),
		cmocka_unit_test(prefix_contains_matches_only_its_range),
		cmocka_unit_test(prefix_contains_edges),
		cmocka_unit_test(endpoints_convert_to_sockaddrs_and_back),
		cmocka_unit_test(ipv4_mapped_sockaddrs_are_ipv4_and_other_families_none),
		cmocka_unit_test(durations_parse_every_unit),
		cmocka_unit_test(durations_refuse_garbage),
		cmocka_unit_test(durations_refuse_overflow),
		cmocka_unit_test(seconds_convert_to_ns_with_range_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
