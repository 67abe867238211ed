/*
 * flowpath-gen's encoders: NetFlow v5 (Cisco), NetFlow v9 (RFC 3954) and
 * IPFIX (RFC 7011) export datagrams built from struct flow_record. Pure:
 * bytes out, no sockets; the export time is passed in.
 *
 * One struct gen_enc per exporting source (exporter address + version +
 * domain) keeps that source's sequence number and template schedule:
 *   v5    header flow_sequence = flows exported before this datagram;
 *   v9    header sequence      = export packets sent before this one;
 *   IPFIX header sequence      = data records sent before this message in
 *                                the observation domain (options data
 *                                records included: they are data records).
 *
 * v9/IPFIX datagrams carry, every template_every datagrams starting with the
 * first: the IPv4 template (256) and IPv6 template (257) and, when sampling
 * is announced (> 1), an options template (258) and one options data record
 * with samplingInterval (34) and samplingAlgorithm (35), all before the data.
 * Data sets are padded to a multiple of 4 bytes with zeros.
 *
 * Building a datagram: gen_msg_begin, gen_msg_add until it says FULL (that
 * record did not go in: it belongs to the next datagram), gen_msg_finish.
 */
#ifndef FP_GEN_ENCODE_H
#define FP_GEN_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/flow.h"

#define GEN_V5_HEADER_LEN	24
#define GEN_V5_RECORD_LEN	48
#define GEN_V5_MAX_RECORDS	30
#define GEN_V9_HEADER_LEN	20
#define GEN_IPFIX_HEADER_LEN	16

#define GEN_TID_V4		256
#define GEN_TID_V6		257
#define GEN_TID_OPTIONS		258

/* Data record sizes of the templates above. */
#define GEN_V9_V4_RECORD_LEN	53
#define GEN_V9_V6_RECORD_LEN	89
#define GEN_IPFIX_V4_RECORD_LEN	69
#define GEN_IPFIX_V6_RECORD_LEN	105

#define GEN_DEFAULT_MAX_SIZE	1472	/* 1500-byte MTU less IPv4 and UDP headers */
#define GEN_MAX_DATAGRAM	65507

#define GEN_V9_SCOPE_SYSTEM	1	/* v9 option scope type "System" */
#define GEN_IE_OBS_DOMAIN_ID	149	/* IPFIX observationDomainId, the options scope */
#define GEN_IE_SAMPLING_INTERVAL 34
#define GEN_IE_SAMPLING_ALGORITHM 35
#define GEN_SAMPLING_RANDOM	2	/* samplingAlgorithm: 1 deterministic, 2 random */

struct gen_enc {
	uint8_t		 version;	/* 5, 9 or 10 */
	uint32_t	 domain;	/* v5: engine_type << 8 | engine_id (<= 0xffff) */
	uint32_t	 sampling;	/* announce 1:N when > 1; v5: N <= 16383 */
	uint32_t	 template_every; /* v9/IPFIX: templates every N datagrams (0 = first only) */
	uint32_t	 sequence;	/* the next header sequence number (see above) */
	uint64_t	 datagrams;	/* datagrams finished */
	uint64_t	 template_datagrams; /* of which carried templates */
};

/* The export time of a datagram. */
struct gen_clock {
	uint32_t	 uptime_ms;	/* v5/v9 sysUptime */
	uint32_t	 unix_secs;
	uint32_t	 unix_nsecs;	/* v5 only */
};

/* NULL when valid, else the reason (version, domain range, v5 sampling range). */
const char	*gen_enc_init(struct gen_enc *, uint8_t version, uint32_t domain,
		    uint32_t sampling, uint32_t template_every);

enum gen_add {
	GEN_ADD_OK = 0,
	GEN_ADD_FULL,		/* did not fit: finish this datagram, add it to the next */
	GEN_ADD_UNSUPPORTED	/* cannot be encoded in this version (IPv6 in v5) */
};

struct gen_msg {
	struct gen_enc	*enc;
	uint8_t		*buf;
	size_t		 cap;
	size_t		 len;
	struct gen_clock now;
	uint32_t	 data_records;	/* flow records in this datagram */
	uint32_t	 other_records;	/* template, options template, options data */
	bool		 templates;	/* carries templates */
	size_t		 set_off;	/* open data set (v9/IPFIX), 0 when none */
	uint16_t	 set_tid;
};

/*
 * Starts a datagram in buf (cap bytes; at most GEN_MAX_DATAGRAM are used).
 * false when even the header and due templates do not fit in cap.
 */
bool		 gen_msg_begin(struct gen_msg *, struct gen_enc *, uint8_t *buf, size_t cap,
		    const struct gen_clock *now);
enum gen_add	 gen_msg_add(struct gen_msg *, const struct flow_record *);
/* Closes the datagram, advances the source's sequence; returns its length. */
size_t		 gen_msg_finish(struct gen_msg *);

/*
 * Convenience: one datagram from flows[0..n); *used says how many went in
 * (it stops at the first that does not fit or is unsupported). Returns the
 * datagram length, 0 when nothing could be built.
 */
size_t		 gen_encode(struct gen_enc *, const struct flow_record *flows, size_t n,
		    const struct gen_clock *now, uint8_t *buf, size_t cap, size_t *used);

#endif
