/*
 * Alignment-safe big-endian readers for wire data (STYLE rule 3). The caller
 * has already checked that the bytes are there; these only read them.
 */
#ifndef FP_WIRE_H
#define FP_WIRE_H

#include <stddef.h>
#include <stdint.h>

static inline uint8_t
get_u8(const uint8_t *p)
{
	return p[0];
}

static inline uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* An unsigned integer of 1..8 bytes (RFC 7011 6.2 reduced-size encoding). */
static inline uint64_t
get_ben(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* True when len bytes are all zero: set padding (RFC 3954 5.2, RFC 7011 3.3.1). */
static inline int
wire_all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

#endif
