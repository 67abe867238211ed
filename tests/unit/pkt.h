/*
 * Building NetFlow v9 / IPFIX datagrams byte by byte in cmocka tests: a
 * bounded buffer, big-endian writers, and a sink that keeps emitted records.
 * Included by test_v9.c and test_ipfix.c (static: one copy per test program).
 */
#ifndef FP_TEST_PKT_H
#define FP_TEST_PKT_H

#include <stdint.h>
#include <string.h>

#include "engine/flow.h"

struct pkt {
	uint8_t		 b[16384];
	size_t		 len;
	size_t		 set;	/* where the open set (flowset) starts */
};

struct sink {
	struct flow_record recs[64];
	int		 n;
};

static void
put8(struct pkt *p, uint8_t v)
{
	assert_true(p->len + 1 <= sizeof(p->b));
	p->b[p->len++] = v;
}

static void
put16(struct pkt *p, uint16_t v)
{
	put8(p, (uint8_t)(v >> 8));
	put8(p, (uint8_t)v);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

static void
put64(struct pkt *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p, (uint32_t)v);
}

static void
putn(struct pkt *p, const void *v, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, v, n);
	p->len += n;
}

static void
set_begin(struct pkt *p, uint16_t id)
{
	p->set = p->len;
	put16(p, id);
	put16(p, 0);
}

static void
set_end(struct pkt *p)
{
	size_t n = p->len - p->set;

	p->b[p->set + 2] = (uint8_t)(n >> 8);
	p->b[p->set + 3] = (uint8_t)n;
}

static void
collect(const struct flow_record *r, void *arg)
{
	struct sink *s = arg;

	assert_true(s->n < 64);
	s->recs[s->n++] = *r;
}

#endif
