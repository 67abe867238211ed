/*
 * A seeded generator for the probe-core tests (xorshift64*), so that every
 * run sees the same stream and a failure repeats.
 */
#ifndef FP_TEST_PRNG_H
#define FP_TEST_PRNG_H

#include <stdint.h>

static uint64_t prng_state = 0x9e3779b97f4a7c15ULL;

/* Uniform enough in [0, below), below > 0. */
static inline uint64_t
rnd(uint64_t below)
{
	prng_state ^= prng_state >> 12;
	prng_state ^= prng_state << 25;
	prng_state ^= prng_state >> 27;
	return (prng_state * 2685821657736338717ULL) % below;
}

#endif
