/*
 * Information elements shared by NetFlow v9 (RFC 3954) and IPFIX (RFC 7011,
 * IANA registry): which element goes where in struct flow_record. A template
 * is compiled once, when it is inserted, into a list of (offset, length,
 * operation) actions; decoding a record runs that list.
 */
#ifndef FP_IE_H
#define FP_IE_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/decode.h"
#include "collectors/template.h"
#include "engine/flow.h"

enum ie_op {
	IE_SKIP = 0,
	IE_SRC_V4, IE_DST_V4, IE_NH_V4,
	IE_SRC_V6, IE_DST_V6, IE_NH_V6,
	IE_SRC_PORT, IE_DST_PORT, IE_PROTO, IE_TOS, IE_TCP_FLAGS,
	IE_SRC_MASK, IE_DST_MASK, IE_SRC_AS, IE_DST_AS, IE_IN_IF, IE_OUT_IF,
	IE_OCTETS, IE_PACKETS,
	IE_FIRST_UPTIME, IE_LAST_UPTIME,	/* sysUpTime ms (22, 21) */
	IE_SYS_INIT_MS,				/* systemInitTimeMilliseconds (160) */
	IE_START_SECS, IE_END_SECS, IE_START_MS, IE_END_MS,
	IE_START_US, IE_END_US, IE_START_NS, IE_END_NS,	/* NTP format */
	IE_SAMPLING_INTERVAL,			/* 34 */
	IE_SAMPLER_RANDOM_INTERVAL,		/* 50 */
	IE_SAMPLING_PKT_INTERVAL,		/* 305 */
	IE_SAMPLING_PKT_SPACE,			/* 306 */
	IE_OP__COUNT
};

struct ie_action {
	uint16_t	 off;	/* from the start of the record (fixed templates) */
	uint16_t	 len;	/* TMPL_VARLEN: a variable-length field */
	uint8_t		 op;	/* enum ie_op */
};

struct ie_prog {
	uint16_t	 id;
	uint8_t		 options;
	uint8_t		 variable;	/* has variable-length fields: act[] lists every field */
	uint16_t	 nact;
	uint32_t	 min_len;	/* record length, or its minimum (1 byte per variable field) */
	struct ie_action act[];
};

/* Per-datagram facts the records need. */
struct ie_ctx {
	uint32_t	 sys_uptime_ms;	/* v9 header */
	uint32_t	 export_secs;
	uint8_t		 has_uptime;	/* v9: 22/21 are relative to the header's sysUpTime */
};

/* What a record carried besides flow fields (options data: sampling). */
struct ie_extra {
	uint32_t	 sampling;	/* 1-in-N derived from 34, 305/306 or 50; 0 when none */
};

/* The operation for an element of the given length; IE_SKIP when unknown or the length is unusable. */
enum ie_op	 ie_lookup(uint16_t id, uint32_t pen, uint16_t len);

/* NULL for an invalid template (no fields, a record longer than 65535 bytes). */
struct ie_prog	*ie_compile(const struct tmpl_def *, size_t *bytes);
/* 1 if both decode every record the same way. */
int		 ie_prog_equal(const struct ie_prog *, size_t, const struct ie_prog *, size_t);

/*
 * Decodes one record of `left` bytes at most into rec (which the caller has
 * preset: exporter, domain, sampling). Returns the bytes used, or -1 if the
 * record runs past `left`.
 */
long		 ie_run(const struct ie_prog *, const uint8_t *p, size_t left,
		    const struct ie_ctx *, struct flow_record *rec, struct ie_extra *);

/* What the v9 and IPFIX decoders share to decode a data set. */
struct ie_set {
	struct tmpl_cache *cache;
	const struct addr *exporter;
	uint8_t		 version;
	uint32_t	 domain;
	struct ie_ctx	 ctx;
	decode_emit	 emit;
	void		*arg;
	struct decode_result *res;
};

/*
 * Decodes the records of one data set (its body, after the 4-byte set
 * header) with prog: flow records are emitted, options records update the
 * source's sampling. Trailing bytes shorter than a record are padding
 * (RFC 7011 3.3.1, RFC 3954 5.3). Returns DECODE_ERR_RECORD if a variable-
 * length record runs past the set (the records before it were emitted).
 */
enum decode_error ie_data_set(const struct ie_set *, const struct ie_prog *,
		    const uint8_t *p, size_t len);

#endif
