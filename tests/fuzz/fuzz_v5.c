/*
 * libFuzzer harness for the NetFlow v5 decoder, and through its results for
 * the exporter state: a small table that lives across inputs, so sequences,
 * restarts, the cap and the sort see long histories.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/exporter.h"
#include "collectors/netflow_v5.h"

#define FUZZ_EXPORTERS 4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct tally {
	size_t		 n;
	uint64_t	 sum;
};

static void
touch(const struct flow_record *r, void *arg)
{
	struct tally *t = arg;

	/* Read every field so the sanitizers see any bad one. */
	t->n++;
	t->sum += r->src.bytes[0] + r->dst.bytes[3] + r->next_hop.bytes[1] +
	    r->exporter.bytes[15] + r->domain + r->src_port + r->dst_port +
	    r->proto + r->tos + r->tcp_flags + r->src_mask + r->dst_mask +
	    r->src_as + r->dst_as + r->in_if + r->out_if + r->packets +
	    r->octets + (uint64_t)r->start_ms + (uint64_t)r->end_ms + r->sampling;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct exporter_table *table;
	static int64_t now;
	const struct exporter *sorted[FUZZ_EXPORTERS];
	struct decode_result res, other;
	struct tally tally = { 0 };
	struct addr from = { .family = ADDR_V4, .bytes = { 192, 0, 2, 0 } };
	struct exporter *e;
	size_t max;

	if (table == NULL && (table = exporter_table_new(FUZZ_EXPORTERS)) == NULL)
		abort();
	now += 1000000;

	v5_decode(data, size, &from, touch, &tally, &res);

	/* Whole or nothing, and never more than the bytes hold. */
	if (res.error != DECODE_OK && (tally.n != 0 || res.records != 0))
		abort();
	if (res.error == DECODE_OK && (tally.n != res.records ||
	    res.records != res.count || res.count == 0 ||
	    res.count > V5_MAX_RECORDS ||
	    size < V5_HEADER_LEN + (size_t)res.count * V5_RECORD_LEN))
		abort();

	from.bytes[3] = size & 7;
	if ((e = exporter_get(table, &from, res.version, res.domain & 1, now)) != NULL)
		exporter_account(e, &res, size, now);

	/* The same bytes as a v9 or IPFIX result, to reach their rules too. */
	if (size >= V5_HEADER_LEN) {
		memset(&other, 0, sizeof(other));
		other.version = data[0] & 1 ? 9 : 10;
		other.error = data[1] % DECODE_ERR__COUNT;
		other.sequence = be32(data + 2);
		other.sys_uptime_ms = be32(data + 6);
		other.records = data[10];
		other.options_records = data[11];
		other.sets_without_template = data[12] & 3;
		other.records_without_template = data[13];
		if ((e = exporter_get(table, &from, other.version, data[14] & 1,
		    now)) != NULL)
			exporter_account(e, &other, size, now);
	}

	max = size % (FUZZ_EXPORTERS + 1);
	if (exporter_sorted(table, sorted, max) > max ||
	    exporter_count(table) > FUZZ_EXPORTERS)
		abort();
	return 0;
}
