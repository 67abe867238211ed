/*
 * flowpath-gen's traffic model and ground truth. Pure: no sockets, no
 * clocks read (times are passed in), no output.
 *
 * The model is a seeded, reproducible stream of flow records over K distinct
 * flow keys drawn with a Zipf distribution (key rank 0 is the most frequent),
 * a share of them IPv6. Per-record packets (1..1000, skewed towards small)
 * and octets (packets * 40..1500) come from the same seeded generator, so
 * the totals of a run are exactly reproducible for a given seed.
 *
 * The ground truth accumulator sums what the encoders actually put on the
 * wire: totals, per exporter, and by destination port and source address
 * for the top-N talkers.
 */
#ifndef FP_GEN_TRAFFIC_H
#define FP_GEN_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/addr.h"
#include "engine/flow.h"

/* Destination check: NULL when the address is loopback (127.0.0.0/8, ::1), else the reason. */
const char	*gen_check_loopback(const struct addr *);

/* ---- model ---- */

#define GEN_MAX_KEYS	10000000u

struct gen_model_params {
	uint64_t	 seed;
	uint32_t	 keys;		/* distinct flow keys, 1..GEN_MAX_KEYS */
	double		 skew;		/* Zipf exponent, 0 (uniform) .. 5 */
	double		 ipv6_share;	/* 0..1: share of the keys that are IPv6 */
};

struct gen_model;

/* NULL on bad parameters or out of memory; *why says which. */
struct gen_model *gen_model_new(const struct gen_model_params *, const char **why);
void		 gen_model_free(struct gen_model *);

/*
 * The next record of the stream: key fields, packets, octets, times
 * (start/end within the minute before now_ms). exporter/domain/sampling are
 * left zero: the caller assigns them. Returns the key's rank (0 = most
 * frequent).
 */
uint32_t	 gen_model_next(struct gen_model *, int64_t now_ms, struct flow_record *out);

/* Key of rank i, as gen_model_next would fill it (no counters, no times). */
void		 gen_model_key(const struct gen_model *, uint32_t rank, struct flow_record *out);
uint32_t	 gen_model_keys(const struct gen_model *);

/* ---- ground truth ---- */

struct gen_counts {
	uint64_t	 datagrams;
	uint64_t	 bytes;		/* UDP payload bytes */
	uint64_t	 records;	/* flow (data) records */
	uint64_t	 packets;	/* as exported, before sampling correction */
	uint64_t	 octets;
};

struct gen_talker {
	struct addr	 addr;		/* by source address */
	uint16_t	 port;		/* by destination port */
	uint64_t	 records;
	uint64_t	 packets;
	uint64_t	 octets;
};

struct gen_truth;

struct gen_truth *gen_truth_new(uint32_t exporters, uint32_t keys_hint);
void		 gen_truth_free(struct gen_truth *);

void		 gen_truth_add_record(struct gen_truth *, uint32_t exporter,
		    const struct flow_record *);
void		 gen_truth_add_datagram(struct gen_truth *, uint32_t exporter, size_t bytes);

const struct gen_counts *gen_truth_total(const struct gen_truth *);
const struct gen_counts *gen_truth_exporter(const struct gen_truth *, uint32_t exporter);

/*
 * Top talkers by octets (ties: more packets, then lower port / lower
 * address), at most max; returns how many were written.
 */
size_t		 gen_truth_top_dst_ports(const struct gen_truth *, struct gen_talker *, size_t max);
size_t		 gen_truth_top_src_addrs(const struct gen_truth *, struct gen_talker *, size_t max);

#endif
