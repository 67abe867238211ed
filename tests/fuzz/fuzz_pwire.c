/*
 * libFuzzer harness for the probe packet parsers: the same bytes as an ICMP
 * message in all four modes (v4/v6, with/without IP header), as a UDP test
 * packet, and as a request to the reflector. Invariants: what a parser
 * says is ours was really in the bytes, a reflection never outgrows its
 * buffer or its request, and our own request reflected parses back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/pwire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The payload's 16 bytes stand somewhere in buf. */
static int
payload_inside(const uint8_t *buf, size_t len, const struct pwire_payload *p)
{
	uint8_t enc[PWIRE_PAYLOAD_MIN];
	size_t i;

	pwire_payload_put(enc, sizeof(enc), p);
	for (i = 0; i + sizeof(enc) <= len; i++)
		if (memcmp(buf + i, enc, sizeof(enc)) == 0)
			return 1;
	return 0;
}

static void
check_icmp(const uint8_t *data, size_t size, int mode)
{
	bool v6 = mode & 1, iph = mode & 2;
	size_t min = PWIRE_ICMP_HDR + (iph ? (v6 ? 40 : 20) : 0);
	struct pwire_icmp m;

	pwire_icmp_parse(data, size, v6, iph, &m);
	switch (m.kind) {
	case PWIRE_ICMP_REPLY:
		if (size < min)
			abort();
		break;
	case PWIRE_ICMP_ERROR:
		/* Outer ICMP header, quoted IP header and ICMP header at least. */
		if (size < min + (v6 ? 40 : 20) + PWIRE_ICMP_HDR)
			abort();
		break;
	case PWIRE_ICMP_OTHER:
	case PWIRE_ICMP_MALFORMED:
		if (m.has_payload || m.id != 0 || m.seq16 != 0)
			abort();
		break;
	default:
		abort();
	}
	if (m.has_payload && !payload_inside(data, size, &m.payload))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PWIRE_MAX + 64], inplace[PWIRE_MAX + 64];
	struct pwire_udp req, rep;
	size_t cap, n;
	int mode;

	for (mode = 0; mode < 4; mode++)
		check_icmp(data, size, mode);

	pwire_udp_parse(data, size, &req);
	if (req.kind != PWIRE_UDP_MALFORMED) {
		if (size < PWIRE_TWAMP_REFL_LEN + PWIRE_PAYLOAD_MIN || size > PWIRE_MAX ||
		    req.sender_seq != req.payload.seq ||
		    !payload_inside(data + PWIRE_TWAMP_REFL_LEN, PWIRE_PAYLOAD_MIN, &req.payload))
			abort();
		if (req.kind == PWIRE_UDP_ECHO && be32(data) != req.sender_seq)
			abort();
		if (req.kind == PWIRE_UDP_REFLECTED && be32(data + 24) != req.sender_seq)
			abort();
	}

	/* A cap from the input: sometimes short of the request, never past the buffer. */
	cap = size == 0 ? 0 : (size_t)data[size - 1] * 263;
	if (size > 0 && data[0] & 1)
		cap = size;
	if (cap > sizeof(out))
		cap = sizeof(out);
	n = pwire_reflect(data, size, out, cap, 7, 1ULL << 40 | 1, 1ULL << 40 | 2, 64);
	if (n > cap || (n != 0 && n != size))
		abort();
	if (n != 0) {
		if (memcmp(out + PWIRE_TWAMP_REFL_LEN, data + PWIRE_TWAMP_REFL_LEN,
		    n - PWIRE_TWAMP_REFL_LEN) != 0 || memcmp(out + 24, data, 14) != 0)
			abort();
		/* In place gives the same bytes. */
		memcpy(inplace, data, size);
		if (pwire_reflect(inplace, size, inplace, size, 7, 1ULL << 40 | 1,
		    1ULL << 40 | 2, 64) != n || memcmp(inplace, out, n) != 0)
			abort();
		/* Our request, reflected, is a reflection of it. */
		pwire_udp_parse(out, n, &rep);
		if (req.kind == PWIRE_UDP_ECHO && (rep.kind != PWIRE_UDP_REFLECTED ||
		    rep.sender_seq != req.sender_seq || rep.payload.token != req.payload.token ||
		    rep.refl_seq != 7 || rep.sender_ttl != 64))
			abort();
	}

	/* NTP: a difference of a timestamp from the input with itself plus a few ms. */
	if (size >= 10) {
		int64_t wall = (int64_t)(((uint64_t)be32(data) << 32 | be32(data + 4)) >> 2);
		int64_t d = (int64_t)(data[8] << 8 | data[9]) * 1000003 - 30000000;

		if (pwire_ntp_diff_ns(pwire_ntp_from_wall_ns(wall + d), pwire_ntp_from_wall_ns(wall)) != d)
			abort();
	}
	return 0;
}
