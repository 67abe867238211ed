/*
 * What the NetFlow v5, v9 and IPFIX decoders share: the per-datagram result
 * and the rejection reasons. Decoders are pure: bytes in, records out through
 * a callback, no sockets, no clocks, no logging.
 */
#ifndef FP_DECODE_H
#define FP_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/flow.h"

/* Why a datagram (or a set in it) was rejected; each has a counter in the MIB. */
enum decode_error {
	DECODE_OK = 0,
	DECODE_ERR_SHORT,	/* shorter than its header */
	DECODE_ERR_VERSION,	/* not 5, 9 or 10 */
	DECODE_ERR_LENGTH,	/* header count/length disagrees with the datagram */
	DECODE_ERR_SET,		/* set/flowset length below 4 or past the datagram */
	DECODE_ERR_TEMPLATE,	/* malformed template or options template */
	DECODE_ERR_RECORD,	/* data record runs past its set */
	DECODE_ERR__COUNT
};

const char	*decode_error_name(enum decode_error);

typedef void (*decode_emit)(const struct flow_record *, void *arg);

/*
 * Per-datagram facts for exporter state and counters. A datagram with
 * error != DECODE_OK may still have emitted the records of its valid sets
 * (v9/IPFIX process set by set); v5 emits nothing unless all is valid.
 */
struct decode_result {
	uint8_t		 version;	/* 5, 9 or 10 */
	enum decode_error error;	/* the first rejection, DECODE_OK if none */
	uint32_t	 domain;
	uint32_t	 sequence;	/* header sequence number */
	uint32_t	 sys_uptime_ms;	/* v5, v9; 0 for IPFIX */
	uint32_t	 export_secs;	/* header export time, seconds since the epoch */
	uint16_t	 count;		/* header count (v5 flows, v9 records incl. templates) */
	uint32_t	 records;	/* data records emitted */
	uint32_t	 sampling;	/* v5 header sampling interval, 0 when none */
	uint32_t	 sets_without_template;	/* data sets whose template is unknown */
	uint32_t	 records_without_template; /* 0 when unknown (length / record size unknown) */
	uint32_t	 templates_added;	/* new or redefined */
	uint32_t	 templates_withdrawn;
	uint32_t	 templates_refused;	/* refused for a cap */
	uint32_t	 options_records;	/* options data records (e.g. sampling) */
};

/* Records the first rejection of a datagram; later ones do not replace it. */
static inline void
decode_note(struct decode_result *res, enum decode_error e)
{
	if (res->error == DECODE_OK)
		res->error = e;
}

/* Datagram dispatch on the version field: 5, 9, 10. */
uint16_t	 decode_peek_version(const uint8_t *buf, size_t len);

#endif
