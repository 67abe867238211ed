/*
 * Probe packets on the wire. Every length is checked against the bytes
 * left before a field is read; integers go through get_ben()/put_be().
 */
#include <string.h>

#include "engine/wire.h"
#include "probes/pwire.h"

#define PWIRE_MAGIC		"FPp1"
#define PWIRE_NTP_UNIX		2208988800ULL	/* 1900-01-01 to 1970-01-01, s (RFC 5905 6) */
#define PWIRE_IP4_MIN		20
#define PWIRE_IP6_LEN		40

#define ICMP4_ECHO_REPLY	0
#define ICMP4_ECHO		8
#define ICMP6_ECHO		128
#define ICMP6_ECHO_REPLY	129

static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

/* RFC 1071: the ones' complement of the ones' complement sum of 16-bit words. */
uint16_t
pwire_cksum(const uint8_t *buf, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get_ben(buf + i, 2);
	if (len & 1)
		sum += (uint64_t)buf[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint64_t
pwire_ntp_from_wall_ns(int64_t wall_ns)
{
	int64_t sec = wall_ns / 1000000000, ns = wall_ns % 1000000000;
	uint64_t frac;

	if (ns < 0) {
		ns += 1000000000;
		sec--;
	}
	/* Rounded to the nearest 2^-32 s; below 2^32 for any ns < 1e9. */
	frac = (((uint64_t)ns << 32) + 500000000) / 1000000000;
	/* Seconds modulo 2^32: era 1 from 2036 (RFC 5905 6) wraps as differences expect. */
	return (uint64_t)(sec + (int64_t)PWIRE_NTP_UNIX) << 32 | frac;
}

int64_t
pwire_ntp_diff_ns(uint64_t later, uint64_t earlier)
{
	uint64_t d = later - earlier;
	int64_t sec = (int64_t)(d >> 32);

	/* A signed 32.32 difference: within 68 years either way, across era wraps. */
	if (sec >= (1LL << 31))
		sec -= 1LL << 32;
	return sec * 1000000000 + (int64_t)(((d & 0xffffffffu) * 1000000000 + (1ULL << 31)) >> 32);
}

void
pwire_payload_put(uint8_t *buf, size_t len, const struct pwire_payload *p)
{
	memset(buf, 0, len);
	if (len < PWIRE_PAYLOAD_MIN)
		return;
	memcpy(buf, PWIRE_MAGIC, 4);
	put_be(buf + 4, p->token, 8);
	put_be(buf + 12, p->seq, 4);
}

bool
pwire_payload_get(const uint8_t *buf, size_t len, struct pwire_payload *p)
{
	if (len < PWIRE_PAYLOAD_MIN || memcmp(buf, PWIRE_MAGIC, 4) != 0)
		return false;
	p->token = get_ben(buf + 4, 8);
	p->seq = (uint32_t)get_ben(buf + 12, 4);
	return true;
}

size_t
pwire_icmp_echo(uint8_t *buf, size_t cap, bool v6, uint16_t id,
    const struct pwire_payload *p, size_t payload_len)
{
	size_t len = PWIRE_ICMP_HDR + payload_len;

	if (payload_len < PWIRE_PAYLOAD_MIN || payload_len > PWIRE_MAX - PWIRE_ICMP_HDR ||
	    len > cap)
		return 0;
	buf[0] = v6 ? ICMP6_ECHO : ICMP4_ECHO;
	buf[1] = 0;
	put_be(buf + 2, 0, 2);
	put_be(buf + 4, id, 2);
	put_be(buf + 6, p->seq & 0xffff, 2);
	pwire_payload_put(buf + PWIRE_ICMP_HDR, payload_len, p);
	/* RFC 792; ICMPv6's covers a pseudo-header, which the kernel fills (RFC 4443 2.3). */
	if (!v6)
		put_be(buf + 2, pwire_cksum(buf, len), 2);
	return len;
}

/*
 * Steps *p, *len over the IP header at *p to the ICMP message behind it.
 * A received datagram (outer) must hold all its header claims; one quoted
 * in an ICMP error is cut short by design, so what is there counts. Only
 * ICMP in a first fragment, without IPv6 extension headers, is ours (else
 * false, out->kind left OTHER); a bad header or no room for an ICMP header
 * is MALFORMED.
 */
static bool
pwire_ip(const uint8_t **p, size_t *len, bool v6, bool outer, struct pwire_icmp *out)
{
	const uint8_t *h = *p;
	size_t hl, total;
	bool icmp;

	out->kind = PWIRE_ICMP_MALFORMED;
	if (v6) {
		if (*len < PWIRE_IP6_LEN || h[0] >> 4 != 6)
			return false;
		hl = PWIRE_IP6_LEN;
		total = PWIRE_IP6_LEN + get_ben(h + 4, 2);
		icmp = h[6] == 58;
	} else {
		if (*len < PWIRE_IP4_MIN || h[0] >> 4 != 4)
			return false;
		hl = (size_t)(h[0] & 0x0f) * 4;
		total = get_ben(h + 2, 2);
		if (hl < PWIRE_IP4_MIN || hl > *len || total < hl)
			return false;
		icmp = h[9] == 1 && (get_ben(h + 6, 2) & 0x1fff) == 0;
	}
	if (outer && total > *len)
		return false;
	*len = (total < *len ? total : *len) - hl;
	*p = h + hl;
	if (!icmp) {
		out->kind = PWIRE_ICMP_OTHER;
		return false;
	}
	if (*len < PWIRE_ICMP_HDR)
		return false;
	out->kind = PWIRE_ICMP_OTHER;
	return true;
}

static bool
pwire_icmp_error_type(bool v6, uint8_t type)
{
	/* RFC 4443 2.1: 1 unreachable, 2 too big, 3 time exceeded, 4 parameter problem. */
	if (v6)
		return type >= 1 && type <= 4;
	/* RFC 792: 3 unreachable, 4 source quench, 11 time exceeded, 12 parameter problem. */
	return type == 3 || type == 4 || type == 11 || type == 12;
}

/* The echo request an error quotes (RFC 792, RFC 4443 2.4 (c)): its IP header, ICMP header, data. */
static void
pwire_icmp_quoted(const uint8_t *q, size_t len, bool v6, struct pwire_icmp *out)
{
	if (!pwire_ip(&q, &len, v6, false, out))
		return;
	if (q[0] != (v6 ? ICMP6_ECHO : ICMP4_ECHO))
		return;
	out->kind = PWIRE_ICMP_ERROR;
	out->id = (uint16_t)get_ben(q + 4, 2);
	out->seq16 = (uint16_t)get_ben(q + 6, 2);
	out->has_payload = pwire_payload_get(q + PWIRE_ICMP_HDR, len - PWIRE_ICMP_HDR,
	    &out->payload);
}

void
pwire_icmp_parse(const uint8_t *buf, size_t len, bool v6, bool ip_header,
    struct pwire_icmp *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = PWIRE_ICMP_OTHER;
	if (ip_header && !pwire_ip(&buf, &len, v6, true, out))
		return;
	if (len < PWIRE_ICMP_HDR) {
		out->kind = PWIRE_ICMP_MALFORMED;
		return;
	}
	/* Raw IPv4 sockets see what the kernel has not checked; ICMPv6's was (RFC 3542 3.1). */
	if (ip_header && !v6 && pwire_cksum(buf, len) != 0) {
		out->kind = PWIRE_ICMP_MALFORMED;
		return;
	}
	out->type = buf[0];
	out->code = buf[1];
	if (buf[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHO_REPLY)) {
		out->kind = PWIRE_ICMP_REPLY;
		out->id = (uint16_t)get_ben(buf + 4, 2);
		out->seq16 = (uint16_t)get_ben(buf + 6, 2);
		out->has_payload = pwire_payload_get(buf + PWIRE_ICMP_HDR, len - PWIRE_ICMP_HDR,
		    &out->payload);
	} else if (pwire_icmp_error_type(v6, buf[0]))
		pwire_icmp_quoted(buf + PWIRE_ICMP_HDR, len - PWIRE_ICMP_HDR, v6, out);
}

size_t
pwire_udp_request(uint8_t *buf, size_t len, uint64_t ntp_ts,
    const struct pwire_payload *p)
{
	if (len < PWIRE_TWAMP_REFL_LEN + PWIRE_PAYLOAD_MIN || len > PWIRE_MAX)
		return 0;
	/* RFC 5357 4.1.2: seq, timestamp, error estimate; then MBZ padding up to our payload. */
	memset(buf, 0, PWIRE_TWAMP_REFL_LEN);
	put_be(buf, p->seq, 4);
	put_be(buf + 4, ntp_ts, 8);
	put_be(buf + 12, PWIRE_TWAMP_ERROR_ESTIMATE, 2);
	pwire_payload_put(buf + PWIRE_TWAMP_REFL_LEN, len - PWIRE_TWAMP_REFL_LEN, p);
	return len;
}

/*
 * Ours either way: the payload at PWIRE_TWAMP_REFL_LEN. An echo service
 * returns the sender format, with MBZ octets 14..40 and our seq at 0; a
 * reflector the RFC 5357 4.2.1 format, MBZ at 14 and 38, our seq at 24.
 */
void
pwire_udp_parse(const uint8_t *buf, size_t len, struct pwire_udp *out)
{
	struct pwire_payload pl;

	memset(out, 0, sizeof(*out));
	out->kind = PWIRE_UDP_MALFORMED;
	if (len < PWIRE_TWAMP_REFL_LEN + PWIRE_PAYLOAD_MIN || len > PWIRE_MAX ||
	    !pwire_payload_get(buf + PWIRE_TWAMP_REFL_LEN, len - PWIRE_TWAMP_REFL_LEN, &pl))
		return;
	if (wire_all_zero(buf + PWIRE_TWAMP_SENDER_LEN,
	    PWIRE_TWAMP_REFL_LEN - PWIRE_TWAMP_SENDER_LEN) && get_ben(buf, 4) == pl.seq) {
		out->kind = PWIRE_UDP_ECHO;
		out->sender_seq = pl.seq;
	} else if (wire_all_zero(buf + 14, 2) && wire_all_zero(buf + 38, 2) &&
	    get_ben(buf + 24, 4) == pl.seq) {
		out->kind = PWIRE_UDP_REFLECTED;
		out->refl_seq = (uint32_t)get_ben(buf, 4);
		out->refl_tx_ts = get_ben(buf + 4, 8);
		out->refl_rx_ts = get_ben(buf + 16, 8);
		out->sender_seq = (uint32_t)get_ben(buf + 24, 4);
		out->sender_ttl = buf[40];
	} else
		return;
	out->payload = pl;
}

bool
pwire_is_reflection(const uint8_t *buf, size_t len)
{
	return len >= PWIRE_TWAMP_REFL_LEN && wire_all_zero(buf + 14, 2) &&
	    wire_all_zero(buf + 38, 2) && !wire_all_zero(buf + 16, 8) &&
	    !wire_all_zero(buf + 36, 2);
}

size_t
pwire_reflect(const uint8_t *req, size_t len, uint8_t *out, size_t cap,
    uint32_t refl_seq, uint64_t rx_ts, uint64_t tx_ts, uint8_t ttl)
{
	uint8_t sender[PWIRE_TWAMP_SENDER_LEN];

	/* No shorter requests: the reply is never larger than what asked for it. */
	if (len < PWIRE_TWAMP_REFL_LEN || len > PWIRE_MAX || cap < len)
		return 0;
	/* req may be out: read the sender's fields before writing. */
	memcpy(sender, req, sizeof(sender));
	if (out != req)
		memmove(out + PWIRE_TWAMP_REFL_LEN, req + PWIRE_TWAMP_REFL_LEN,
		    len - PWIRE_TWAMP_REFL_LEN);
	memset(out, 0, PWIRE_TWAMP_REFL_LEN);
	put_be(out, refl_seq, 4);
	put_be(out + 4, tx_ts, 8);
	put_be(out + 12, PWIRE_TWAMP_ERROR_ESTIMATE, 2);
	put_be(out + 16, rx_ts, 8);
	memcpy(out + 24, sender, sizeof(sender));
	out[40] = ttl;
	return len;
}
