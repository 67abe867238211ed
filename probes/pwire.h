/*
 * Probe packets on the wire: ICMP echo (RFC 792, RFC 4443), the UDP test
 * packet in TWAMP-light's unauthenticated format (RFC 5357 4.1.2 sender,
 * 4.2.1 reflector), and flowpathd's payload that both carry. Pure: bytes in,
 * fields out; every length checked; integers through get_be*().
 *
 * Payload (ICMP data, or TWAMP sender padding at offset PWIRE_TWAMP_REFL_LEN
 * so that a reflector copying the padding (RFC 6038) returns it):
 *   0  magic "FPp1"   4  token (64 bits, random per probe)
 *   12 seq (32 bits)  16 zero fill to the configured size
 */
#ifndef FP_PWIRE_H
#define FP_PWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PWIRE_PAYLOAD_MIN	16	/* magic + token + seq */
#define PWIRE_ICMP_HDR		8
#define PWIRE_TWAMP_SENDER_LEN	14	/* seq, timestamp, error estimate */
#define PWIRE_TWAMP_REFL_LEN	41	/* RFC 5357 4.2.1 unauthenticated, without padding */
#define PWIRE_MAX		65507
/*
 * RFC 4656 4.1.2 error estimate of our timestamps: S = 0 (not synchronised
 * to UTC), Z = 0 (NTP format, RFC 8186), Multiplier * 2^(Scale - 32) s with
 * Scale 22, Multiplier 1: 2^-10 s, about 1 ms.
 */
#define PWIRE_TWAMP_ERROR_ESTIMATE 0x1601

struct pwire_payload {
	uint64_t	 token;
	uint32_t	 seq;
};

/* RFC 1071 Internet checksum of buf; 0 over data that carries a correct one. */
uint16_t	 pwire_cksum(const uint8_t *buf, size_t len);

/* NTP 64-bit timestamp (RFC 5905): seconds since 1900 . 2^-32 fractions. */
uint64_t	 pwire_ntp_from_wall_ns(int64_t wall_ns);
int64_t		 pwire_ntp_diff_ns(uint64_t later, uint64_t earlier);

/* Writes the payload into buf[0..len), len >= PWIRE_PAYLOAD_MIN; the rest is zero. */
void		 pwire_payload_put(uint8_t *buf, size_t len, const struct pwire_payload *);
/* False when buf is shorter than PWIRE_PAYLOAD_MIN or the magic differs. */
bool		 pwire_payload_get(const uint8_t *buf, size_t len, struct pwire_payload *);

/*
 * ICMP echo request: type 8 (v4) or 128 (v6), code 0, id, seq (the low 16
 * bits of the payload's seq), payload of payload_len bytes; the checksum is
 * computed for v4 (the kernel does ICMPv6's). Returns the bytes written, or
 * 0 when cap is too small.
 */
size_t		 pwire_icmp_echo(uint8_t *buf, size_t cap, bool v6, uint16_t id,
		    const struct pwire_payload *, size_t payload_len);

enum pwire_icmp_kind {
	PWIRE_ICMP_OTHER = 0,	/* not ours to look at */
	PWIRE_ICMP_REPLY,	/* echo reply: id, seq16 and payload set */
	PWIRE_ICMP_ERROR,	/* unreachable, time exceeded...: type/code, and the quoted request's id, seq16, payload if quoted */
	PWIRE_ICMP_MALFORMED,	/* too short, bad inner header */
};

struct pwire_icmp {
	enum pwire_icmp_kind kind;
	uint8_t		 type, code;
	uint16_t	 id, seq16;
	bool		 has_payload;
	struct pwire_payload payload;
};

/*
 * Parses an ICMP message. ip_header: buf starts with the IPv4 header (raw
 * IPv4 sockets); otherwise with the ICMP header (ICMP datagram sockets, and
 * raw ICMPv6). Errors quote the original IP header + ICMP header (+ data):
 * those are parsed too, for v4 and v6. With ip_header, the IP header's
 * lengths must fit in len and the ICMP checksum must verify (v4; v6 with
 * ip_header takes a plain 40-byte header). Errors about anything but our
 * echo requests, and packets other than ICMP, are OTHER.
 */
void		 pwire_icmp_parse(const uint8_t *buf, size_t len, bool v6, bool ip_header,
		    struct pwire_icmp *out);

/*
 * The UDP test packet, TWAMP-light sender format: seq, NTP timestamp, error
 * estimate, MBZ up to PWIRE_TWAMP_REFL_LEN, then our payload, zero fill to
 * len. len >= PWIRE_TWAMP_REFL_LEN + PWIRE_PAYLOAD_MIN. Returns len, or 0.
 */
size_t		 pwire_udp_request(uint8_t *buf, size_t len, uint64_t ntp_ts,
		    const struct pwire_payload *);

enum pwire_udp_kind {
	PWIRE_UDP_MALFORMED = 0,	/* too short, or no payload magic */
	PWIRE_UDP_ECHO,		/* RFC 862: our own request back, byte for byte up to the payload */
	PWIRE_UDP_REFLECTED,	/* a TWAMP-light reflector's reply */
};

struct pwire_udp {
	enum pwire_udp_kind kind;
	struct pwire_payload payload;
	uint32_t	 sender_seq;	/* seq of our request (both kinds) */
	/* REFLECTED only: */
	uint32_t	 refl_seq;	/* the reflector's own counter for this sender */
	uint64_t	 refl_rx_ts;	/* NTP: when the reflector received the request */
	uint64_t	 refl_tx_ts;	/* NTP: when it sent the reply */
	uint8_t		 sender_ttl;
};

void		 pwire_udp_parse(const uint8_t *buf, size_t len, struct pwire_udp *out);

/*
 * Whether buf has the shape of a reflector's reply (RFC 5357 4.2.1, any
 * sender's): MBZ at 14 and 38 zero, a receive timestamp at 16 and the
 * sender's error estimate at 36 not zero (its multiplier must not be, RFC
 * 4656 4.1.2). A request with zero padding never has that shape; random
 * padding has it with a chance of 2^-32.
 */
bool		 pwire_is_reflection(const uint8_t *buf, size_t len);

/*
 * The reflector: from a received request (len bytes) builds the reply in
 * out (cap bytes, at least max(len, PWIRE_TWAMP_REFL_LEN)), copying the
 * sender's padding after PWIRE_TWAMP_REFL_LEN (RFC 6038 symmetric size).
 * Returns the reply length, or 0 when req is not a TWAMP-light request:
 * shorter than PWIRE_TWAMP_REFL_LEN (so that no reply is larger than its
 * request) or longer than PWIRE_MAX. out may be req (reflect in place).
 */
size_t		 pwire_reflect(const uint8_t *req, size_t len, uint8_t *out, size_t cap,
		    uint32_t refl_seq, uint64_t rx_ts, uint64_t tx_ts, uint8_t ttl);

#endif
