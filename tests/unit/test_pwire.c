/*
 * probes/pwire: packets built byte by byte here (IP headers, ICMP echo and
 * errors, TWAMP-light sender and reflector formats), parsed whole, cut at
 * every length and spoiled field by field; round trips; RFC 1071's own
 * checksum example.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/prng.h"
#include "probes/pwire.h"

#define TOKEN	0x0123456789abcdefULL
#define NTP_1970 2208988800ULL

static void
be(uint8_t *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

/* The checksum the test's way: 32-bit words folded at the end. */
static uint16_t
ref_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	sum = (sum >> 16) + (sum & 0xffff);
	sum += sum >> 16;
	return (uint16_t)(~sum & 0xffff);
}

/* Our payload by hand: "FPp1", token, seq, zeros to len. */
static size_t
payload(uint8_t *p, size_t len, uint64_t token, uint32_t seq)
{
	memset(p, 0, len);
	memcpy(p, "FPp1", 4);
	be(p + 4, token, 8);
	be(p + 12, seq, 4);
	return len;
}

/* ICMP header: type, code, checksum 0, id, seq; the checksum is for the caller. */
static size_t
icmp(uint8_t *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	p[0] = type;
	p[1] = code;
	be(p + 2, 0, 2);
	be(p + 4, id, 2);
	be(p + 6, seq, 2);
	return 8;
}

static void
icmp_cksum(uint8_t *p, size_t len)
{
	be(p + 2, 0, 2);
	be(p + 2, ref_cksum(p, len), 2);
}

/* IPv4 header of ihl words, total length tot, protocol proto, fragment offset frag. */
static size_t
ip4(uint8_t *p, unsigned ihl, uint16_t tot, uint8_t proto, uint16_t frag)
{
	memset(p, 0, ihl * 4);
	p[0] = (uint8_t)(0x40 | ihl);
	be(p + 2, tot, 2);
	be(p + 6, frag, 2);
	p[8] = 64;
	p[9] = proto;
	be(p + 12, 0xc0000201, 4);
	be(p + 16, 0x7f000001, 4);
	be(p + 10, ref_cksum(p, ihl * 4), 2);
	return ihl * 4;
}

static size_t
ip6(uint8_t *p, uint16_t plen, uint8_t next)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	be(p + 4, plen, 2);
	p[6] = next;
	p[7] = 64;
	p[23] = 1;
	p[39] = 1;
	return 40;
}

static void
parse_is(const uint8_t *b, size_t len, bool v6, bool iph, enum pwire_icmp_kind kind)
{
	struct pwire_icmp m;

	pwire_icmp_parse(b, len, v6, iph, &m);
	assert_int_equal(m.kind, kind);
}

static void
checksum_of_the_rfc_1071_example(void **state)
{
	/* RFC 1071 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (ones' complement). */
	const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t b[1001];
	size_t len, i;

	assert_int_equal(pwire_cksum(ex, sizeof(ex)), 0xffff & ~0xddf2);
	assert_int_equal(pwire_cksum(ex, 0), 0xffff);
	/* An odd byte is the high half of a last word. */
	assert_int_equal(pwire_cksum(ex, 3), 0xffff & ~(0x0001 + 0xf200));
	for (i = 0; i < 200; i++) {
		len = rnd(sizeof(b));
		for (size_t j = 0; j < len; j++)
			b[j] = (uint8_t)rnd(256);
		assert_int_equal(pwire_cksum(b, len), ref_cksum(b, len));
	}
	/* All ones everywhere: the carries fold back in. */
	memset(b, 0xff, sizeof(b));
	assert_int_equal(pwire_cksum(b, 1000), ref_cksum(b, 1000));
}

static void
ntp_timestamps_from_wall_time(void **state)
{
	int64_t a, b;
	int i;

	assert_true(pwire_ntp_from_wall_ns(0) == NTP_1970 << 32);
	assert_true(pwire_ntp_from_wall_ns(1500000000) == ((NTP_1970 + 1) << 32 | 0x80000000u));
	/* 2^-32 s is 0.23 ns: 1 ns rounds to 4 fractions. */
	assert_true(pwire_ntp_from_wall_ns(1) == (NTP_1970 << 32 | 4));
	assert_true(pwire_ntp_from_wall_ns(-1000000000) == (NTP_1970 - 1) << 32);
	/* 0.999999999 s is 4294967291.705 fractions: rounded up. */
	assert_true(pwire_ntp_from_wall_ns(999999999) == (NTP_1970 << 32 | 4294967292u));
	assert_true(pwire_ntp_from_wall_ns(-1) == ((NTP_1970 - 1) << 32 | 4294967292u));
	/* 3 fractions are 0.698 ns, 2 are 0.466 ns. */
	assert_true(pwire_ntp_diff_ns(3, 0) == 1);
	assert_true(pwire_ntp_diff_ns(2, 0) == 0);
	assert_true(pwire_ntp_diff_ns(0, 3) == -1);
	/* Era 1 starts 2036-02-07 06:28:16 UTC: the seconds field wraps to 0. */
	a = (int64_t)((1ULL << 32) - NTP_1970) * 1000000000;
	assert_true(pwire_ntp_from_wall_ns(a) == 0);
	assert_true(pwire_ntp_diff_ns(pwire_ntp_from_wall_ns(a + 250000000),
	    pwire_ntp_from_wall_ns(a - 750000000)) == 1000000000);
	assert_true(pwire_ntp_diff_ns(pwire_ntp_from_wall_ns(a - 750000000),
	    pwire_ntp_from_wall_ns(a + 250000000)) == -1000000000);
	assert_true(pwire_ntp_diff_ns(0x100000000ULL, 0) == 1000000000);
	assert_true(pwire_ntp_diff_ns(0, 0x80000000ULL) == -500000000);
	for (i = 0; i < 10000; i++) {
		a = (int64_t)rnd(4000000000ULL * 1000000000ULL);
		b = a + (int64_t)rnd(120ULL * 1000000000) - 60LL * 1000000000;
		/* Both ways rounded to nearest: 2^-32 s of error at most, so exact in ns. */
		assert_true(pwire_ntp_diff_ns(pwire_ntp_from_wall_ns(b),
		    pwire_ntp_from_wall_ns(a)) == b - a);
	}
}

static void
payload_round_trip_and_refusals(void **state)
{
	struct pwire_payload p = { TOKEN, 0xdeadbeef }, q;
	uint8_t want[40], got[40];
	size_t len;

	payload(want, sizeof(want), TOKEN, 0xdeadbeef);
	memset(got, 0xaa, sizeof(got));
	pwire_payload_put(got, sizeof(got), &p);
	assert_memory_equal(got, want, sizeof(want));
	for (len = 0; len < PWIRE_PAYLOAD_MIN; len++)
		assert_false(pwire_payload_get(want, len, &q));
	assert_true(pwire_payload_get(want, PWIRE_PAYLOAD_MIN, &q));
	assert_true(q.token == TOKEN);
	assert_int_equal(q.seq, 0xdeadbeef);
	want[3] = '2';
	assert_false(pwire_payload_get(want, sizeof(want), &q));
}

static void
echo_requests_byte_by_byte(void **state)
{
	struct pwire_payload p = { TOKEN, 0x00012345 };
	uint8_t want[64], got[64];

	icmp(want, 8, 0, 0xbeef, 0x2345);
	payload(want + 8, 40, TOKEN, 0x00012345);
	icmp_cksum(want, 48);
	memset(got, 0xaa, sizeof(got));
	assert_int_equal(pwire_icmp_echo(got, sizeof(got), false, 0xbeef, &p, 40), 48);
	assert_memory_equal(got, want, 48);
	assert_int_equal(pwire_cksum(got, 48), 0);
	/* ICMPv6: type 128, the kernel's checksum. */
	icmp(want, 128, 0, 0xbeef, 0x2345);
	assert_int_equal(pwire_icmp_echo(got, sizeof(got), true, 0xbeef, &p, 40), 48);
	assert_memory_equal(got, want, 48);
	/* Refusals: no room, a payload too short or too long. */
	assert_int_equal(pwire_icmp_echo(got, 47, false, 1, &p, 40), 0);
	assert_int_equal(pwire_icmp_echo(got, sizeof(got), false, 1, &p, 15), 0);
	assert_int_equal(pwire_icmp_echo(got, SIZE_MAX, false, 1, &p, PWIRE_MAX), 0);
	assert_int_equal(pwire_icmp_echo(got, 24, false, 1, &p, 16), 24);
}

/* An echo reply without IP header, cut at every length. */
static void
echo_replies_at_every_length(void **state)
{
	struct pwire_icmp m;
	uint8_t b[56];
	size_t len;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		icmp(b, v6 ? 129 : 0, 0, 0x1234, 0xfffe);
		payload(b + 8, 48, TOKEN, 0x7fffe);
		for (len = 0; len <= sizeof(b); len++) {
			pwire_icmp_parse(b, len, v6, false, &m);
			if (len < 8) {
				assert_int_equal(m.kind, PWIRE_ICMP_MALFORMED);
				continue;
			}
			assert_int_equal(m.kind, PWIRE_ICMP_REPLY);
			assert_int_equal(m.type, v6 ? 129 : 0);
			assert_int_equal(m.id, 0x1234);
			assert_int_equal(m.seq16, 0xfffe);
			assert_int_equal(m.has_payload, len >= 24);
			if (m.has_payload) {
				assert_true(m.payload.token == TOKEN);
				assert_int_equal(m.payload.seq, 0x7fffe);
			}
		}
		/* Not our magic: a reply, but not ours to match. */
		b[8] = 'X';
		pwire_icmp_parse(b, sizeof(b), v6, false, &m);
		assert_int_equal(m.kind, PWIRE_ICMP_REPLY);
		assert_false(m.has_payload);
	}
}

/* A raw IPv4 socket's view: IP header, then the reply; lengths and checksum must hold. */
static void
raw_ipv4_replies_check_the_ip_header_and_checksum(void **state)
{
	uint8_t b[128];
	struct pwire_icmp m;
	size_t hl, len;

	hl = ip4(b, 5, 20 + 40, 1, 0);
	icmp(b + hl, 0, 0, 77, 5);
	payload(b + hl + 8, 32, TOKEN, 5);
	icmp_cksum(b + hl, 40);
	pwire_icmp_parse(b, 60, false, true, &m);
	assert_int_equal(m.kind, PWIRE_ICMP_REPLY);
	assert_int_equal(m.id, 77);
	assert_true(m.has_payload);
	/* Cut anywhere: the header claims more than is there. */
	for (len = 0; len < 60; len++)
		parse_is(b, len, false, true, PWIRE_ICMP_MALFORMED);
	/* Bytes past the total length are not ICMP (and not in its checksum). */
	b[60] = 0x55;
	parse_is(b, 61, false, true, PWIRE_ICMP_REPLY);
	/* The same reply read as if from a datagram socket: the IP header is not ICMP. */
	parse_is(b, 60, false, false, PWIRE_ICMP_OTHER);

	b[hl + 20] ^= 1;
	parse_is(b, 60, false, true, PWIRE_ICMP_MALFORMED);
	b[hl + 20] ^= 1;
	/* IHL below 5, past the data, or beyond the total length. */
	b[0] = 0x44;
	parse_is(b, 60, false, true, PWIRE_ICMP_MALFORMED);
	b[0] = 0x4f;
	parse_is(b, 59, false, true, PWIRE_ICMP_MALFORMED);
	parse_is(b, 60, false, true, PWIRE_ICMP_MALFORMED);
	b[0] = 0x45;
	be(b + 2, 19, 2);
	parse_is(b, 60, false, true, PWIRE_ICMP_MALFORMED);
	be(b + 2, 61, 2);
	parse_is(b, 60, false, true, PWIRE_ICMP_MALFORMED);
	be(b + 2, 60, 2);
	b[0] = 0x65;
	parse_is(b, 60, false, true, PWIRE_ICMP_MALFORMED);
	b[0] = 0x45;
	b[9] = 17;
	parse_is(b, 60, false, true, PWIRE_ICMP_OTHER);
	b[9] = 1;
	parse_is(b, 60, false, true, PWIRE_ICMP_REPLY);
	/* A header with options (IHL 6) and a total length that stops short of the buffer. */
	hl = ip4(b, 6, 24 + 8, 1, 0);
	icmp(b + hl, 0, 0, 78, 6);
	icmp_cksum(b + hl, 8);
	pwire_icmp_parse(b, 100, false, true, &m);
	assert_int_equal(m.kind, PWIRE_ICMP_REPLY);
	assert_int_equal(m.id, 78);
	assert_false(m.has_payload);
	/* Total length = header: no ICMP header at all. */
	ip4(b, 5, 20, 1, 0);
	parse_is(b, 20, false, true, PWIRE_ICMP_MALFORMED);
}

/* An ICMPv6 packet behind its IPv6 header. */
static void
ipv6_headers_are_bounded_too(void **state)
{
	uint8_t b[128];
	struct pwire_icmp m;
	size_t len;

	ip6(b, 8 + 16, 58);
	icmp(b + 40, 129, 0, 9, 10);
	payload(b + 48, 16, TOKEN, 10);
	pwire_icmp_parse(b, 64, true, true, &m);
	assert_int_equal(m.kind, PWIRE_ICMP_REPLY);
	assert_true(m.has_payload);
	for (len = 0; len < 64; len++)
		parse_is(b, len, true, true, PWIRE_ICMP_MALFORMED);
	b[6] = 0;	/* hop-by-hop options: not walked */
	parse_is(b, 64, true, true, PWIRE_ICMP_OTHER);
	b[6] = 58;
	b[0] = 0x40;
	parse_is(b, 64, true, true, PWIRE_ICMP_MALFORMED);
}

/* An error quoting our echo request: outer ICMP header, inner IP header, inner ICMP, payload. */
static size_t
error4(uint8_t *b, uint8_t type, uint8_t code, uint16_t inner_tot, size_t quoted)
{
	size_t n = icmp(b, type, code, 0, 0);

	n += ip4(b + n, 5, inner_tot, 1, 0);
	n += icmp(b + n, 8, 0, 0x4242, 0x0102);
	n += payload(b + n, 24, TOKEN, 0x30102);
	return quoted < n ? quoted : n;
}

static size_t
error6(uint8_t *b, uint8_t type, uint8_t code, uint16_t inner_plen, size_t quoted)
{
	size_t n = icmp(b, type, code, 0, 0);

	be(b + 4, 1280, 4);	/* MTU, unused or pointer: not ours to read */
	n += ip6(b + n, inner_plen, 58);
	n += icmp(b + n, 128, 0, 0x4242, 0x0102);
	n += payload(b + n, 24, TOKEN, 0x30102);
	return quoted < n ? quoted : n;
}

static void
assert_error(const uint8_t *b, size_t len, bool v6, bool iph, uint8_t type, uint8_t code,
    bool has_payload)
{
	struct pwire_icmp m;

	pwire_icmp_parse(b, len, v6, iph, &m);
	assert_int_equal(m.kind, PWIRE_ICMP_ERROR);
	assert_int_equal(m.type, type);
	assert_int_equal(m.code, code);
	assert_int_equal(m.id, 0x4242);
	assert_int_equal(m.seq16, 0x0102);
	assert_int_equal(m.has_payload, has_payload);
	if (has_payload) {
		assert_true(m.payload.token == TOKEN);
		assert_int_equal(m.payload.seq, 0x30102);
	}
}

static void
ipv4_errors_quote_our_request(void **state)
{
	const uint8_t types[] = { 3, 4, 11, 12 };
	uint8_t b[256];
	size_t i, len, full;

	for (i = 0; i < sizeof(types); i++) {
		full = error4(b, types[i], (uint8_t)i, 20 + 8 + 24, SIZE_MAX);
		assert_int_equal(full, 8 + 20 + 8 + 24);
		for (len = 0; len <= full; len++) {
			if (len < 8 + 20 + 8)
				parse_is(b, len, false, false, PWIRE_ICMP_MALFORMED);
			else
				assert_error(b, len, false, false, types[i], (uint8_t)i,
				    len >= 8 + 20 + 8 + 16);
		}
	}
	/* RFC 792's minimum quote: the IP header and 64 bits, with the datagram's real total length. */
	len = error4(b, 3, 3, 1500, 8 + 20 + 8);
	assert_error(b, len, false, false, 3, 3, false);
	/* The inner total length bounds the quote: past it is not the request's. */
	len = error4(b, 11, 0, 20 + 8, SIZE_MAX);
	assert_error(b, len, false, false, 11, 0, false);
	error4(b, 11, 0, 19, SIZE_MAX);
	parse_is(b, len, false, false, PWIRE_ICMP_MALFORMED);
	/* Inner header spoiled: version, IHL; not ICMP, a later fragment, not an echo request. */
	len = error4(b, 3, 1, 52, SIZE_MAX);
	b[8] = 0x65;
	parse_is(b, len, false, false, PWIRE_ICMP_MALFORMED);
	b[8] = 0x44;
	parse_is(b, len, false, false, PWIRE_ICMP_MALFORMED);
	b[8] = 0x4f;
	parse_is(b, len, false, false, PWIRE_ICMP_MALFORMED);
	b[8] = 0x45;
	b[8 + 9] = 17;
	parse_is(b, len, false, false, PWIRE_ICMP_OTHER);
	b[8 + 9] = 1;
	be(b + 8 + 6, 0x2001, 2);
	parse_is(b, len, false, false, PWIRE_ICMP_OTHER);
	be(b + 8 + 6, 0x4000, 2);	/* DF alone is fine */
	assert_error(b, len, false, false, 3, 1, true);
	b[28] = 0;
	parse_is(b, len, false, false, PWIRE_ICMP_OTHER);
	b[28] = 8;
	/* Types that are not errors, nor replies: redirect, our own request looped back. */
	b[0] = 5;
	parse_is(b, len, false, false, PWIRE_ICMP_OTHER);
	b[0] = 8;
	parse_is(b, len, false, false, PWIRE_ICMP_OTHER);
}

static void
raw_ipv4_errors_check_both_headers(void **state)
{
	uint8_t b[256];
	size_t len, hl;

	hl = ip4(b, 5, 0, 1, 0);
	len = error4(b + hl, 11, 0, 52, SIZE_MAX);
	icmp_cksum(b + hl, len);
	ip4(b, 5, (uint16_t)(hl + len), 1, 0);
	assert_error(b, hl + len, false, true, 11, 0, true);
	b[hl + len - 1] ^= 0x80;
	parse_is(b, hl + len, false, true, PWIRE_ICMP_MALFORMED);
}

static void
ipv6_errors_quote_our_request(void **state)
{
	uint8_t b[256];
	size_t len, full;
	uint8_t type;

	for (type = 1; type <= 4; type++) {
		full = error6(b, type, 5, 8 + 24, SIZE_MAX);
		assert_int_equal(full, 8 + 40 + 8 + 24);
		for (len = 0; len <= full; len++) {
			if (len < 8 + 40 + 8)
				parse_is(b, len, true, false, PWIRE_ICMP_MALFORMED);
			else
				assert_error(b, len, true, false, type, 5, len >= 8 + 40 + 8 + 16);
		}
		/* Under ip_header, behind an IPv6 header. */
		memmove(b + 40, b, full);
		ip6(b, (uint16_t)full, 58);
		assert_error(b, 40 + full, true, true, type, 5, true);
	}
	len = error6(b, 1, 4, 8, SIZE_MAX);
	assert_error(b, len, true, false, 1, 4, false);
	len = error6(b, 3, 0, 1232, SIZE_MAX);
	b[8 + 6] = 17;
	parse_is(b, len, true, false, PWIRE_ICMP_OTHER);
	b[8 + 6] = 58;
	b[8] = 0x45;
	parse_is(b, len, true, false, PWIRE_ICMP_MALFORMED);
	b[8] = 0x60;
	b[48] = 129;
	parse_is(b, len, true, false, PWIRE_ICMP_OTHER);
	b[48] = 128;
	assert_error(b, len, true, false, 3, 0, true);
	/* An IPv4 error type number means nothing in ICMPv6, and neighbour discovery is not ours. */
	b[0] = 11;
	parse_is(b, len, true, false, PWIRE_ICMP_OTHER);
	b[0] = 135;
	parse_is(b, len, true, false, PWIRE_ICMP_OTHER);
	b[0] = 128;
	parse_is(b, len, true, false, PWIRE_ICMP_OTHER);
}

/* The sender format by hand: seq, timestamp, error estimate, 27 MBZ, payload at 41. */
static size_t
twamp_request(uint8_t *b, size_t len, uint32_t seq, uint64_t ts)
{
	memset(b, 0, 41);
	be(b, seq, 4);
	be(b + 4, ts, 8);
	be(b + 12, 0x1601, 2);
	payload(b + 41, len - 41, TOKEN, seq);
	return len;
}

static void
udp_requests_byte_by_byte(void **state)
{
	struct pwire_payload p = { TOKEN, 99 };
	uint8_t want[200], got[200];
	size_t len;

	twamp_request(want, 120, 99, 0x1122334455667788ULL);
	memset(got, 0xaa, sizeof(got));
	assert_int_equal(pwire_udp_request(got, 120, 0x1122334455667788ULL, &p), 120);
	assert_memory_equal(got, want, 120);
	/* The error estimate: S 0, Z 0, scale 22, multiplier 1, 2^-10 s. */
	assert_int_equal(PWIRE_TWAMP_ERROR_ESTIMATE >> 14, 0);
	assert_int_equal((PWIRE_TWAMP_ERROR_ESTIMATE >> 8) & 0x3f, 22);
	assert_int_equal(PWIRE_TWAMP_ERROR_ESTIMATE & 0xff, 1);
	for (len = 0; len < 57; len++)
		assert_int_equal(pwire_udp_request(got, len, 0, &p), 0);
	assert_int_equal(pwire_udp_request(got, 57, 0, &p), 57);
	assert_int_equal(pwire_udp_request(NULL, PWIRE_MAX + 1, 0, &p), 0);
}

/* An RFC 862 echo returns our request: at every length, ours from 57 bytes on. */
static void
udp_echoes_at_every_length(void **state)
{
	struct pwire_udp u;
	uint8_t b[100];
	size_t len;

	twamp_request(b, sizeof(b), 0xfedcba98, 0x0102030405060708ULL);
	for (len = 0; len <= sizeof(b); len++) {
		pwire_udp_parse(b, len, &u);
		if (len < 57) {
			assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
			continue;
		}
		assert_int_equal(u.kind, PWIRE_UDP_ECHO);
		assert_int_equal(u.sender_seq, 0xfedcba98);
		assert_int_equal(u.payload.seq, 0xfedcba98);
		assert_true(u.payload.token == TOKEN);
	}
	/* Spoiled: an MBZ octet, the seq, the magic. */
	b[30] = 1;
	pwire_udp_parse(b, sizeof(b), &u);
	assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
	b[30] = 0;
	b[3] ^= 1;
	pwire_udp_parse(b, sizeof(b), &u);
	assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
	b[3] ^= 1;
	b[41] = 'f';
	pwire_udp_parse(b, sizeof(b), &u);
	assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
}

/* RFC 5357 4.2.1 by hand. */
static size_t
twamp_reply(uint8_t *b, size_t len, uint32_t seq, uint32_t sender_seq)
{
	memset(b, 0, 41);
	be(b, seq, 4);
	be(b + 4, 0xaaaaaaaabbbbbbbbULL, 8);	/* T3 */
	be(b + 12, 0x8001, 2);
	be(b + 16, 0xaaaaaaaa00000000ULL, 8);	/* T2 */
	be(b + 24, sender_seq, 4);
	be(b + 28, 0x1111111122222222ULL, 8);	/* T1, copied */
	be(b + 36, 0x1601, 2);
	b[40] = 61;
	payload(b + 41, len - 41, TOKEN, sender_seq);
	return len;
}

static void
reflector_replies_at_every_length(void **state)
{
	struct pwire_udp u;
	uint8_t b[100];
	size_t len;

	twamp_reply(b, sizeof(b), 7, 1000);
	for (len = 0; len <= sizeof(b); len++) {
		pwire_udp_parse(b, len, &u);
		if (len < 57) {
			assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
			continue;
		}
		assert_int_equal(u.kind, PWIRE_UDP_REFLECTED);
		assert_int_equal(u.refl_seq, 7);
		assert_true(u.refl_tx_ts == 0xaaaaaaaabbbbbbbbULL);
		assert_true(u.refl_rx_ts == 0xaaaaaaaa00000000ULL);
		assert_int_equal(u.sender_seq, 1000);
		assert_int_equal(u.sender_ttl, 61);
		assert_int_equal(u.payload.seq, 1000);
	}
	/* Spoiled: each MBZ pair, the copied seq against our payload's. */
	b[15] = 1;
	pwire_udp_parse(b, sizeof(b), &u);
	assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
	b[15] = 0;
	b[38] = 1;
	pwire_udp_parse(b, sizeof(b), &u);
	assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
	b[38] = 0;
	b[27] ^= 1;
	pwire_udp_parse(b, sizeof(b), &u);
	assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
	/* Past the largest datagram. */
	pwire_udp_parse(b, PWIRE_MAX + 1, &u);
	assert_int_equal(u.kind, PWIRE_UDP_MALFORMED);
}

static void
reflecting_builds_the_rfc_5357_reply(void **state)
{
	static uint8_t req[PWIRE_MAX], out[PWIRE_MAX], want[PWIRE_MAX];
	struct pwire_payload p = { TOKEN, 1000 };
	struct pwire_udp u;
	size_t len;

	assert_int_equal(pwire_udp_request(req, 100, 0x1111111122222222ULL, &p), 100);
	req[99] = 0x5a;		/* padding is copied to its last octet */
	twamp_reply(want, 100, 7, 1000);
	be(want + 12, 0x1601, 2);
	want[99] = 0x5a;
	memset(out, 0xcc, sizeof(out));
	assert_int_equal(pwire_reflect(req, 100, out, 100, 7, 0xaaaaaaaa00000000ULL,
	    0xaaaaaaaabbbbbbbbULL, 61), 100);
	assert_memory_equal(out, want, 100);
	assert_int_equal(out[100], 0xcc);
	pwire_udp_parse(out, 100, &u);
	assert_int_equal(u.kind, PWIRE_UDP_REFLECTED);
	/* In place, the same bytes. */
	assert_int_equal(pwire_reflect(req, 100, req, 100, 7, 0xaaaaaaaa00000000ULL,
	    0xaaaaaaaabbbbbbbbULL, 61), 100);
	assert_memory_equal(req, want, 100);
	/* Too short to answer without amplifying, too long, no room. */
	for (len = 0; len < 41; len++)
		assert_int_equal(pwire_reflect(want, len, out, sizeof(out), 1, 2, 3, 4), 0);
	assert_int_equal(pwire_reflect(want, 41, out, sizeof(out), 1, 2, 3, 4), 41);
	assert_int_equal(pwire_reflect(want, 100, out, 99, 1, 2, 3, 4), 0);
	assert_int_equal(pwire_reflect(want, PWIRE_MAX, out, PWIRE_MAX, 1, 2, 3, 4), PWIRE_MAX);
	assert_int_equal(pwire_reflect(want, PWIRE_MAX + 1, out, PWIRE_MAX + 1, 1, 2, 3, 4), 0);
}

/* A reply has the shape of a reflection; a request, zero-padded or ours, has not. */
static void
reflections_are_told_from_requests(void **state)
{
	uint8_t req[100], out[100];
	struct pwire_payload p = { TOKEN, 0 };
	size_t len;

	(void)state;
	assert_int_equal(pwire_udp_request(req, sizeof(req), 0x1111111122222222ULL, &p), 100);
	assert_false(pwire_is_reflection(req, sizeof(req)));
	assert_int_equal(pwire_reflect(req, 100, out, 100, 0, 0xaaaaaaaa00000000ULL,
	    0xaaaaaaaabbbbbbbbULL, 64), 100);
	assert_true(pwire_is_reflection(out, sizeof(out)));
	for (len = 0; len < PWIRE_TWAMP_REFL_LEN; len++)
		assert_false(pwire_is_reflection(out, len));
	out[39] = 1;		/* MBZ not zero: a request with random padding */
	assert_false(pwire_is_reflection(out, sizeof(out)));
	out[39] = 0;
	memset(out + 36, 0, 2);	/* no sender error estimate */
	assert_false(pwire_is_reflection(out, sizeof(out)));
}

/* Whatever the sizes and fields: build, reflect, parse gives back what went in. */
static void
random_round_trips(void **state)
{
	static uint8_t b[2000], r[2000];
	struct pwire_payload p, q;
	struct pwire_icmp m;
	struct pwire_udp u;
	size_t len;
	int i;

	for (i = 0; i < 2000; i++) {
		p.token = rnd(UINT64_MAX);
		p.seq = (uint32_t)rnd(1ULL << 32);
		len = 16 + rnd(1900);
		assert_int_equal(pwire_icmp_echo(b, sizeof(b), i & 1, (uint16_t)i, &p, len),
		    len + 8);
		b[0] = i & 1 ? 129 : 0;		/* what the target sends back */
		if (!(i & 1))
			icmp_cksum(b, len + 8);
		pwire_icmp_parse(b, len + 8, i & 1, false, &m);
		assert_int_equal(m.kind, PWIRE_ICMP_REPLY);
		assert_int_equal(m.id, (uint16_t)i);
		assert_int_equal(m.seq16, p.seq & 0xffff);
		assert_true(m.has_payload && m.payload.token == p.token && m.payload.seq == p.seq);

		len = 57 + rnd(1900);
		assert_int_equal(pwire_udp_request(b, len, rnd(UINT64_MAX), &p), len);
		pwire_udp_parse(b, len, &u);
		assert_int_equal(u.kind, PWIRE_UDP_ECHO);
		assert_true(u.payload.token == p.token && u.sender_seq == p.seq);
		assert_int_equal(pwire_reflect(b, len, r, sizeof(r), (uint32_t)i, 1ULL << 40 | 1,
		    1ULL << 40 | 2, (uint8_t)i), len);
		pwire_udp_parse(r, len, &u);
		assert_int_equal(u.kind, PWIRE_UDP_REFLECTED);
		assert_int_equal(u.refl_seq, (uint32_t)i);
		assert_int_equal(u.sender_ttl, (uint8_t)i);
		assert_true(u.payload.token == p.token && u.sender_seq == p.seq);
		assert_true(pwire_payload_get(r + 41, len - 41, &q) && q.seq == p.seq);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checksum_of_the_rfc_1071_example),
		cmocka_unit_test(ntp_timestamps_from_wall_time),
		cmocka_unit_test(payload_round_trip_and_refusals),
		cmocka_unit_test(echo_requests_byte_by_byte),
		cmocka_unit_test(echo_replies_at_every_length),
		cmocka_unit_test(raw_ipv4_replies_check_the_ip_header_and_checksum),
		cmocka_unit_test(ipv6_headers_are_bounded_too),
		cmocka_unit_test(ipv4_errors_quote_our_request),
		cmocka_unit_test(raw_ipv4_errors_check_both_headers),
		cmocka_unit_test(ipv6_errors_quote_our_request),
		cmocka_unit_test(udp_requests_byte_by_byte),
		cmocka_unit_test(udp_echoes_at_every_length),
		cmocka_unit_test(reflector_replies_at_every_length),
		cmocka_unit_test(reflections_are_told_from_requests),
		cmocka_unit_test(reflecting_builds_the_rfc_5357_reply),
		cmocka_unit_test(random_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
