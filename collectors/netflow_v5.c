/*
 * NetFlow v5, as Cisco documents it: a 24-byte header and 1..30 records of
 * 48 bytes. The datagram is checked whole before the first record is emitted,
 * so a rejected datagram emits nothing.
 *
 * Bytes after the last record are tolerated (and ignored): some exporters pad
 * datagrams, and nfcapd accepts them too. Only a datagram too short for the
 * records its header announces is rejected.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collectors/netflow_v5.h"
#include "engine/wire.h"

#define V5_VERSION		5
#define V5_SAMPLING_INTERVAL	0x3fff	/* low 14 bits; the top 2 are the mode */

/* Header offsets. */
#define H_VERSION	0
#define H_COUNT		2
#define H_UPTIME	4
#define H_SECS		8
#define H_NSECS		12
#define H_SEQUENCE	16
#define H_ENGINE_TYPE	20
#define H_ENGINE_ID	21
#define H_SAMPLING	22

/* Record offsets. */
#define R_SRCADDR	0
#define R_DSTADDR	4
#define R_NEXTHOP	8
#define R_INPUT		12
#define R_OUTPUT	14
#define R_PKTS		16
#define R_OCTETS	20
#define R_FIRST		24
#define R_LAST		28
#define R_SRCPORT	32
#define R_DSTPORT	34
#define R_TCP_FLAGS	37
#define R_PROT		38
#define R_TOS		39
#define R_SRC_AS	40
#define R_DST_AS	42
#define R_SRC_MASK	44
#define R_DST_MASK	45

/*
 * How long before the export a sysUptime stamp lies, as a signed distance:
 * modulo 2^32 so that an uptime wrap (every 49.7 days) between the flow's
 * stamp and the export costs nothing, and signed so that a stamp a few ms
 * after the header's uptime (some exporters do that) stays a few ms instead
 * of becoming 49 days.
 */
static inline int64_t
uptime_before(uint32_t uptime, uint32_t stamp)
{
	uint32_t d = uptime - stamp;

	return d < 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000LL;
}

void
v5_decode(const uint8_t *buf, size_t len, const struct addr *exporter,
    decode_emit emit, void *arg, struct decode_result *res)
{
	struct flow_record rec;
	const uint8_t *p;
	uint32_t uptime;
	uint16_t count, i;
	int64_t export_ms;

	memset(res, 0, sizeof(*res));
	res->version = V5_VERSION;

	if (buf == NULL || len < V5_HEADER_LEN) {
		res->error = DECODE_ERR_SHORT;
		return;
	}
	if (get_be16(buf + H_VERSION) != V5_VERSION) {
		res->error = DECODE_ERR_VERSION;
		return;
	}

	/* The header is readable: fill it in so a rejection can be attributed. */
	count = get_be16(buf + H_COUNT);
	uptime = get_be32(buf + H_UPTIME);
	res->domain = (uint32_t)buf[H_ENGINE_TYPE] << 8 | buf[H_ENGINE_ID];
	res->sequence = get_be32(buf + H_SEQUENCE);
	res->sys_uptime_ms = uptime;
	res->export_secs = get_be32(buf + H_SECS);
	res->count = count;
	/* The mode bits are ignored: a nonzero interval means 1 in N either way. */
	res->sampling = get_be16(buf + H_SAMPLING) & V5_SAMPLING_INTERVAL;

	if (count == 0 || count > V5_MAX_RECORDS ||
	    (len - V5_HEADER_LEN) / V5_RECORD_LEN < count) {
		res->error = DECODE_ERR_LENGTH;
		return;
	}

	res->records = count;
	if (emit == NULL)
		return;

	export_ms = (int64_t)res->export_secs * 1000 +
	    get_be32(buf + H_NSECS) / 1000000;

	/* What all records of the datagram share is set once. */
	memset(&rec, 0, sizeof(rec));
	if (exporter != NULL)
		rec.exporter = *exporter;
	rec.src.family = ADDR_V4;
	rec.dst.family = ADDR_V4;
	rec.next_hop.family = ADDR_V4;
	rec.domain = res->domain;
	rec.sampling = res->sampling;

	for (i = 0, p = buf + V5_HEADER_LEN; i < count; i++, p += V5_RECORD_LEN) {
		memcpy(rec.src.bytes, p + R_SRCADDR, 4);
		memcpy(rec.dst.bytes, p + R_DSTADDR, 4);
		memcpy(rec.next_hop.bytes, p + R_NEXTHOP, 4);
		rec.in_if = get_be16(p + R_INPUT);
		rec.out_if = get_be16(p + R_OUTPUT);
		rec.packets = get_be32(p + R_PKTS);
		rec.octets = get_be32(p + R_OCTETS);
		rec.start_ms = export_ms - uptime_before(uptime, get_be32(p + R_FIRST));
		rec.end_ms = export_ms - uptime_before(uptime, get_be32(p + R_LAST));
		rec.src_port = get_be16(p + R_SRCPORT);
		rec.dst_port = get_be16(p + R_DSTPORT);
		rec.tcp_flags = p[R_TCP_FLAGS];
		rec.proto = p[R_PROT];
		rec.tos = p[R_TOS];
		rec.src_as = get_be16(p + R_SRC_AS);
		rec.dst_as = get_be16(p + R_DST_AS);
		rec.src_mask = p[R_SRC_MASK];
		rec.dst_mask = p[R_DST_MASK];
		emit(&rec, arg);
	}
}
