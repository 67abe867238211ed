/* engine/filter: primitives, directions, lists, precedence, errors, bounds, speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine/filter.h"

static struct addr
ip(const char *text)
{
	struct addr a;

	assert_null(addr_parse(text, &a));
	return a;
}

/* A TCP flow 192.0.2.10:51000 -> 198.51.100.20:443 through exporter 10.0.0.1. */
static struct flow_record
rec(void)
{
	struct flow_record r;

	memset(&r, 0, sizeof(r));
	r.src = ip("192.0.2.10");
	r.dst = ip("198.51.100.20");
	r.exporter = ip("10.0.0.1");
	r.src_port = 51000;
	r.dst_port = 443;
	r.proto = 6;
	r.tos = 0x2e;
	r.tcp_flags = 0x12;	/* syn ack */
	r.src_as = 64500;
	r.dst_as = 64501;
	r.in_if = 3;
	r.out_if = 7;
	return r;
}

/* Named networks: lan = 0 (192.0.2.0/24), dmz = 1 (198.51.100.0/24), wan = 2. */
static int
names(const char *name, void *arg)
{
	if (strcmp(name, "lan") == 0)
		return 0;
	if (strcmp(name, "dmz") == 0)
		return 1;
	if (strcmp(name, "wan") == 0)
		return 2;
	return -1;
}

static uint16_t
lookup(const struct addr *a, void *arg)
{
	int *calls = arg;

	if (calls != NULL)
		(*calls)++;
	if (a->family == ADDR_V4 && a->bytes[0] == 192 && a->bytes[1] == 0 && a->bytes[2] == 2)
		return 0;
	if (a->family == ADDR_V4 && a->bytes[0] == 198 && a->bytes[1] == 51 && a->bytes[2] == 100)
		return 1;
	return 0xffff;
}

static bool
match(const char *text, const struct flow_record *r)
{
	struct filter_error err;
	struct filter *f = filter_compile(text, names, NULL, &err);
	bool m;

	if (f == NULL)
		fail_msg("\"%s\" did not compile: column %zu: %s", text, err.column, err.msg);
	m = filter_match(f, r, lookup, NULL);
	filter_free(f);
	return m;
}

static void
assert_matches(const char *text, const struct flow_record *r)
{
	if (!match(text, r))
		fail_msg("\"%s\" should match", text);
}

static void
assert_rejects(const char *text, const struct flow_record *r)
{
	if (match(text, r))
		fail_msg("\"%s\" should not match", text);
}

static void
assert_error(const char *text, size_t column, const char *msg)
{
	struct filter_error err;
	struct filter *f = filter_compile(text, names, NULL, &err);

	if (f != NULL) {
		filter_free(f);
		fail_msg("\"%s\" compiled, expected: %s", text, msg);
	}
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.column, column);
}

static void
proto_matches_by_name_and_number(void **state)
{
	struct flow_record r = rec();

	assert_matches("proto tcp", &r);
	assert_matches("proto 6", &r);
	assert_rejects("proto udp", &r);
	assert_matches("proto udp,tcp", &r);
	assert_rejects("proto icmp,icmp6,gre,esp,ah,sctp,17", &r);
	r.proto = 58;
	assert_matches("proto icmp6", &r);
	r.proto = 47;
	assert_matches("proto gre", &r);
	r.proto = 50;
	assert_matches("proto esp", &r);
	r.proto = 51;
	assert_matches("proto ah", &r);
	r.proto = 132;
	assert_matches("proto sctp", &r);
	r.proto = 1;
	assert_matches("proto icmp", &r);
	r.proto = 0;
	assert_matches("proto 0", &r);
	r.proto = 255;
	assert_matches("proto 255", &r);
}

static void
port_without_direction_matches_either_side(void **state)
{
	struct flow_record r = rec();

	assert_matches("port 443", &r);
	assert_matches("port 51000", &r);
	assert_rejects("port 80", &r);
}

static void
port_with_direction_matches_that_side_only(void **state)
{
	struct flow_record r = rec();

	assert_matches("dst port 443", &r);
	assert_rejects("src port 443", &r);
	assert_matches("src port 51000", &r);
	assert_rejects("dst port 51000", &r);
}

static void
port_lists_and_ranges_match_any_item(void **state)
{
	struct flow_record r = rec();

	assert_matches("dst port 80,443", &r);
	assert_matches("dst port 80,8000-8080,400-500", &r);
	assert_rejects("dst port 80,8000-8080", &r);
	assert_matches("dst port 443-443", &r);
	assert_matches("port 0-65535", &r);
	assert_matches("src port 50000-52000", &r);
	r.dst_port = 0;
	assert_matches("dst port 0", &r);
}

static void
net_matches_prefixes_and_bare_addresses(void **state)
{
	struct flow_record r = rec();

	assert_matches("net 192.0.2.0/24", &r);
	assert_matches("net 198.51.100.0/24", &r);
	assert_matches("src net 192.0.2.0/24", &r);
	assert_rejects("dst net 192.0.2.0/24", &r);
	assert_matches("dst net 10.0.0.0/8,198.51.0.0/16", &r);
	assert_matches("src net 192.0.2.10", &r);
	assert_rejects("src net 192.0.2.11", &r);
	assert_matches("net 0.0.0.0/0", &r);
	assert_rejects("net ::/0", &r);
	r.src = ip("2001:db8::1");
	assert_matches("src net 2001:db8::/32", &r);
	assert_matches("net ::/0", &r);
	assert_matches("src net 2001:DB8::1", &r);
	assert_rejects("src net 2001:db9::/32", &r);
}

static void
network_matches_named_networks_through_the_lookup(void **state)
{
	struct flow_record r = rec();

	assert_matches("network lan", &r);
	assert_matches("src network lan", &r);
	assert_rejects("dst network lan", &r);
	assert_matches("dst network dmz", &r);
	assert_matches("dst network wan,dmz", &r);
	assert_rejects("network wan", &r);
	assert_matches("src network lan and dst network dmz", &r);
}

static void
network_lookup_is_called_at_most_once_per_side(void **state)
{
	struct flow_record r = rec();
	struct filter *f = filter_compile("network wan or src network wan or dst network wan",
	    names, NULL, NULL);
	int calls = 0;

	assert_non_null(f);
	assert_true(filter_uses_networks(f));
	assert_false(filter_match(f, &r, lookup, &calls));
	assert_int_equal(calls, 2);
	filter_free(f);
}

static void
filter_without_network_never_needs_the_lookup(void **state)
{
	struct flow_record r = rec();
	struct filter *f = filter_compile("proto tcp and net 192.0.2.0/24", names, NULL, NULL);

	assert_non_null(f);
	assert_false(filter_uses_networks(f));
	assert_true(filter_match(f, &r, NULL, NULL));
	filter_free(f);
}

static void
network_without_lookup_matches_no_network(void **state)
{
	struct flow_record r = rec();
	struct filter *f = filter_compile("network lan", names, NULL, NULL);

	assert_non_null(f);
	assert_false(filter_match(f, &r, NULL, NULL));
	filter_free(f);
	f = filter_compile("not network lan", names, NULL, NULL);
	assert_true(filter_match(f, &r, NULL, NULL));
	filter_free(f);
}

static void
exporter_matches_its_address(void **state)
{
	struct flow_record r = rec();

	assert_matches("exporter 10.0.0.1", &r);
	assert_matches("exporter 10.0.0.2,10.0.0.1", &r);
	assert_rejects("exporter 10.0.0.2", &r);
	r.exporter = ip("2001:db8::9");
	assert_matches("exporter 2001:db8::9", &r);
}

static void
interfaces_tos_and_as_match_numbers(void **state)
{
	struct flow_record r = rec();

	assert_matches("in_if 3", &r);
	assert_rejects("in_if 7", &r);
	assert_matches("out_if 7", &r);
	assert_matches("out_if 1,2,7", &r);
	assert_matches("tos 46", &r);
	assert_matches("tos 0x2e", &r);
	assert_rejects("tos 0", &r);
	assert_matches("as 64501", &r);
	assert_matches("as 64500", &r);
	assert_matches("src as 64500", &r);
	assert_rejects("dst as 64500", &r);
	assert_matches("dst as 1,64501", &r);
	r.in_if = UINT32_MAX;
	assert_matches("in_if 4294967295", &r);
}

static void
tcp_flags_require_every_listed_bit(void **state)
{
	struct flow_record r = rec();	/* syn ack */

	assert_matches("tcp_flags syn", &r);
	assert_matches("tcp_flags ack", &r);
	assert_matches("tcp_flags syn|ack", &r);
	assert_rejects("tcp_flags syn|fin", &r);
	assert_rejects("tcp_flags rst", &r);
	assert_matches("tcp_flags 18", &r);
	assert_matches("tcp_flags 0x02", &r);
	assert_rejects("tcp_flags 0x03", &r);
	r.tcp_flags = 0xff;
	assert_matches("tcp_flags fin|syn|rst|psh|ack|urg|ece|cwr", &r);
	r.tcp_flags = 0;
	assert_matches("tcp_flags 0", &r);
	assert_matches("not tcp_flags syn", &r);
}

static void
keywords_are_case_insensitive(void **state)
{
	struct flow_record r = rec();

	assert_matches("PROTO TCP AND DST PORT 443", &r);
	assert_matches("Proto Tcp Or Not Net 10.0.0.0/8", &r);
	assert_matches("tcp_flags SYN|Ack", &r);
	assert_matches("NOT proto udp", &r);
	assert_matches("src NETWORK lan", &r);
}

static void
not_binds_tighter_than_and(void **state)
{
	struct flow_record r = rec();

	/* (not proto udp) and port 443, not: not (proto udp and port 443) */
	assert_matches("not proto udp and port 443", &r);
	assert_rejects("not proto tcp and port 80", &r);
	assert_rejects("not proto tcp and port 443", &r);
	assert_matches("not (proto tcp and port 80)", &r);
	assert_matches("not not proto tcp", &r);
}

static void
and_binds_tighter_than_or(void **state)
{
	struct flow_record r = rec();

	/* proto udp and port 80 or proto tcp = (udp and 80) or tcp */
	assert_matches("proto udp and port 80 or proto tcp", &r);
	assert_matches("proto tcp or proto udp and port 80", &r);
	/* proto udp or proto tcp and port 80 = udp or (tcp and 80) */
	assert_rejects("proto udp or proto tcp and port 80", &r);
}

static void
parentheses_override_precedence(void **state)
{
	struct flow_record r = rec();

	assert_matches("(proto udp or proto tcp) and port 443", &r);
	assert_rejects("(proto udp or proto tcp) and port 80", &r);
	assert_rejects("proto tcp and (port 80 or port 8080)", &r);
	assert_matches("((((proto tcp))))", &r);
	assert_matches("(proto tcp)and(port 443)", &r);
	assert_matches("not(proto udp)", &r);
}

static void
long_chains_evaluate_every_term(void **state)
{
	struct flow_record r = rec();

	assert_rejects("proto tcp and port 443 and tos 46 and in_if 3 and out_if 8", &r);
	assert_matches("proto tcp and port 443 and tos 46 and in_if 3 and out_if 7", &r);
	assert_matches("port 1 or port 2 or port 3 or port 443", &r);
	assert_rejects("port 1 or port 2 or port 3 or port 4", &r);
	assert_matches("not (port 1 or port 2) and not (proto udp or proto icmp)", &r);
}

static void
whitespace_of_any_kind_separates_tokens(void **state)
{
	struct flow_record r = rec();

	assert_matches("  proto\ttcp\n and\r\ndst port 443  ", &r);
}

static void
errors_in_primitives_name_the_column(void **state)
{
	assert_error("port", 5, "expected a port number or range after \"port\"");
	assert_error("dst port", 9, "expected a port number or range after \"port\"");
	assert_error("port http", 6, "expected a port number or range, got \"http\"");
	assert_error("port 80,,443", 9, "expected a port number or range after \",\"");
	assert_error("port 80,", 9, "expected a port number or range after \",\"");
	assert_error("port 70000", 6, "port out of range \"70000\" (0-65535)");
	assert_error("port 443-80", 6, "port range \"443-80\" runs backwards");
	assert_error("port 80 -90", 9, "trailing input \"-90\"");
	assert_error("proto tcpp", 7, "unknown protocol \"tcpp\"");
	assert_error("proto tcp,tcpp", 11, "unknown protocol \"tcpp\"");
	assert_error("proto 256", 7, "protocol out of range \"256\" (0-255)");
	assert_error("proto", 6, "expected a protocol after \"proto\"");
	assert_error("network lab2", 9, "unknown network \"lab2\"");
	assert_error("network LAN", 9, "unknown network \"LAN\"");
	assert_error("network", 8, "expected a network name after \"network\"");
	assert_error("net 10.0.0.0/33", 5,
	    "bad prefix \"10.0.0.0/33\": prefix length out of range");
	assert_error("net 10.0.0.1/8", 5,
	    "bad prefix \"10.0.0.1/8\": host bits set beyond the prefix length");
	assert_error("net lan", 5, "bad prefix \"lan\": not an IP address");
	assert_error("exporter 10.0.0.0/8", 10,
	    "bad address \"10.0.0.0/8\": not an IP address");
	assert_error("in_if x", 7, "bad interface number \"x\"");
	assert_error("out_if 4294967296", 8,
	    "interface number out of range \"4294967296\" (0-4294967295)");
	assert_error("tos 256", 5, "TOS value out of range \"256\" (0-255)");
	assert_error("as -1", 4, "bad AS number \"-1\"");
	assert_error("tcp_flags", 10, "expected TCP flags after \"tcp_flags\"");
	assert_error("tcp_flags syn|sin", 15, "unknown TCP flag \"sin\"");
	assert_error("tcp_flags syn|", 15,
	    "expected a TCP flag (fin syn rst psh ack urg ece cwr) after \"|\"");
	assert_error("tcp_flags 256", 11, "TCP flags out of range \"256\" (0-255)");
	assert_error("src proto tcp", 5,
	    "expected \"port\", \"net\", \"network\" or \"as\" after \"src\"");
	assert_error("dst", 4, "expected \"port\", \"net\", \"network\" or \"as\" after \"dst\"");
}

static void
errors_in_structure_name_the_column(void **state)
{
	assert_error("", 1, "empty filter");
	assert_error("   ", 4, "empty filter");
	assert_error("host 10.0.0.1", 1, "unknown primitive \"host\"");
	assert_error("proto tcp and", 14, "expected a primitive after \"and\"");
	assert_error("proto tcp or not", 17, "expected a primitive after \"not\"");
	assert_error("proto tcp and or port 80", 15, "unexpected \"or\"");
	assert_error("and proto tcp", 1, "unexpected \"and\"");
	assert_error("proto tcp foo", 11, "trailing input \"foo\"");
	assert_error("proto tcp port 80", 11, "trailing input \"port\"");
	assert_error("proto tcp )", 11, "trailing input \")\"");
	assert_error("()", 2, "unexpected \")\"");
	assert_error("(", 2, "expected a primitive after \"(\"");
	assert_error("( (proto tcp)", 14, "expected \")\" to close \"(\" at column 1");
	assert_error("port 1 and (proto tcp or proto udp", 35,
	    "expected \")\" to close \"(\" at column 12");
	assert_error("(proto tcp port 80)", 12, "expected \")\" to close \"(\" at column 1");
}

static void
quoted_input_is_shortened_and_made_printable(void **state)
{
	char text[128];

	snprintf(text, sizeof(text), "proto %s", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop");
	assert_error(text, 7, "unknown protocol \"abcdefghijklmnopqrstuvwxyzabcdef...\"");
	assert_error("proto t\x01\"p", 7, "unknown protocol \"t??p\"");
	assert_error("proto \xc3\xa9", 7, "unknown protocol \"??\"");
}

static void
filter_longer_than_the_limit_is_refused(void **state)
{
	char *text = malloc(FILTER_MAX_LEN + 2);
	struct filter *f;
	size_t i;

	/* Exactly the limit compiles: "port 1 or port 1 ... or port 1" padded with spaces. */
	memset(text, ' ', FILTER_MAX_LEN);
	memcpy(text, "port 1", 6);
	text[FILTER_MAX_LEN] = '\0';
	f = filter_compile(text, NULL, NULL, NULL);
	assert_non_null(f);
	filter_free(f);
	text[FILTER_MAX_LEN] = 'x';
	text[FILTER_MAX_LEN + 1] = '\0';
	assert_error(text, FILTER_MAX_LEN + 1, "filter too long (at most 4096 characters)");
	for (i = 0; i < FILTER_MAX_LEN + 1; i++)
		text[i] = '(';
	assert_error(text, FILTER_MAX_LEN + 1, "filter too long (at most 4096 characters)");
	free(text);
}

static void
nesting_beyond_the_limit_is_refused(void **state)
{
	char text[512];
	size_t i, n = 0;
	struct filter *f;

	/* 64 levels compile. */
	for (i = 0; i < FILTER_MAX_DEPTH; i++)
		text[n++] = '(';
	n += (size_t)sprintf(text + n, "proto tcp");
	for (i = 0; i < FILTER_MAX_DEPTH; i++)
		text[n++] = ')';
	text[n] = '\0';
	f = filter_compile(text, NULL, NULL, NULL);
	assert_non_null(f);
	filter_free(f);
	/* 65 do not: the error points at the 65th "(". */
	memmove(text + 1, text, n + 1);
	text[0] = '(';
	memcpy(text + n + 1, ")", 2);
	assert_error(text, FILTER_MAX_DEPTH + 1, "nesting deeper than 64");
	/* "not" nests too. */
	n = 0;
	for (i = 0; i <= FILTER_MAX_DEPTH; i++)
		n += (size_t)sprintf(text + n, "not ");
	sprintf(text + n, "proto tcp");
	assert_error(text, FILTER_MAX_DEPTH * 4 + 1, "nesting deeper than 64");
}

static void
too_many_terms_are_refused(void **state)
{
	char *text = malloc(FILTER_MAX_LEN + 1);
	struct filter *f;
	size_t n, i;

	/* One primitive with 1023 items: 1024 terms, the limit. */
	n = (size_t)sprintf(text, "port 1");
	for (i = 1; i < FILTER_MAX_NODES - 1; i++)
		n += (size_t)sprintf(text + n, ",%zu", i % 10);
	f = filter_compile(text, NULL, NULL, NULL);
	assert_non_null(f);
	filter_free(f);
	/* One more item is too many: the column is that item's. */
	sprintf(text + n, ",9");
	assert_error(text, n + 2, "too many terms");
	/* Terms count across primitives and operators alike. */
	n = 0;
	for (i = 0; i < 300; i++)	/* 300 primitives, 600 items, 1 "or" */
		n += (size_t)sprintf(text + n, "%sas 1,2", i > 0 ? " or " : "");
	f = filter_compile(text, NULL, NULL, NULL);
	assert_non_null(f);
	filter_free(f);
	n = 0;
	for (i = 0; i < 350; i++)	/* 350 + 700 + 1 */
		n += (size_t)sprintf(text + n, "%sas 1,2", i > 0 ? " or " : "");
	assert_error(text, 3411, "too many terms");
	free(text);
}

static void
compile_without_error_struct_is_safe(void **state)
{
	assert_null(filter_compile("proto", NULL, NULL, NULL));
	assert_null(filter_compile(NULL, NULL, NULL, NULL));
}

static void
network_names_without_resolver_are_unknown(void **state)
{
	struct filter_error err;

	assert_null(filter_compile("network lan", NULL, NULL, &err));
	assert_string_equal(err.msg, "unknown network \"lan\"");
	assert_int_equal(err.column, 9);
}

/* A resolver returning an index the lookup can never produce is treated as unknown. */
static int
bad_names(const char *name, void *arg)
{
	return 0xffff;
}

static void
network_index_out_of_range_is_unknown(void **state)
{
	struct filter_error err;

	assert_null(filter_compile("network lan", bad_names, NULL, &err));
	assert_string_equal(err.msg, "unknown network \"lan\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proto_matches_by_name_and_number),
		cmocka_unit_test(port_without_direction_matches_either_side),
		cmocka_unit_test(port_with_direction_matches_that_side_only),
		cmocka_unit_test(port_lists_and_ranges_match_any_item),
		cmocka_unit_test(net_matches_prefixes_and_bare_addresses),
		cmocka_unit_test(network_matches_named_networks_through_the_lookup),
		cmocka_unit_test(network_lookup_is_called_at_most_once_per_side),
		cmocka_unit_test(filter_without_network_never_needs_the_lookup),
		cmocka_unit_test(network_without_lookup_matches_no_network),
		cmocka_unit_test(exporter_matches_its_address),
		cmocka_unit_test(interfaces_tos_and_as_match_numbers),
		cmocka_unit_test(tcp_flags_require_every_listed_bit),
		cmocka_unit_test(keywords_are_case_insensitive),
		cmocka_unit_test(not_binds_tighter_than_and),
		cmocka_unit_test(and_binds_tighter_than_or),
		cmocka_unit_test(parentheses_override_precedence),
		cmocka_unit_test(long_chains_evaluate_every_term),
		cmocka_unit_test(whitespace_of_any_kind_separates_tokens),
		cmocka_unit_test(errors_in_primitives_name_the_column),
		cmocka_unit_test(errors_in_structure_name_the_column),
		cmocka_unit_test(quoted_input_is_shortened_and_made_printable),
		cmocka_unit_test(filter_longer_than_the_limit_is_refused),
		cmocka_unit_test(nesting_beyond_the_limit_is_refused),
		cmocka_unit_test(too_many_terms_are_refused),
		cmocka_unit_test(compile_without_error_struct_is_safe),
		cmocka_unit_test(network_names_without_resolver_are_unknown),
		cmocka_unit_test(network_index_out_of_range_is_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
