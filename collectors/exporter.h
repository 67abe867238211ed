/*
 * Exporter state: one entry per (address, version, domain) with its
 * counters, sequence tracking and loss accounting by each protocol's rule
 * (RFC 3954 5.1: v9 counts export packets; RFC 7011 3.1: IPFIX counts data
 * records per observation domain; v5 counts flows), and restart detection
 * (sequence or uptime going back resets the state instead of counting a huge
 * loss). Bounded by max_exporters; refusals are counted. Pure: times are
 * passed in.
 */
#ifndef FP_EXPORTER_H
#define FP_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/decode.h"
#include "engine/addr.h"

enum sampling_source {
	SAMPLING_NONE = 1,	/* unsampled (rate 1) */
	SAMPLING_HEADER,	/* v5 header */
	SAMPLING_OPTIONS,	/* v9/IPFIX options data */
	SAMPLING_CONFIG		/* collector.exporters[].sampling override */
};

struct exporter {
	struct addr	 addr;
	uint8_t		 version;
	uint32_t	 domain;
	uint64_t	 datagrams;
	uint64_t	 bytes;
	uint64_t	 records;	/* data records, as exported */
	uint64_t	 packets;	/* sampling-corrected */
	uint64_t	 octets;	/* sampling-corrected */
	uint64_t	 lost;		/* v5: flows, v9: export packets, IPFIX: records */
	uint32_t	 resets;	/* restarts detected */
	uint64_t	 reordered;	/* datagrams that arrived late */
	uint64_t	 sets_without_template;
	uint64_t	 malformed[DECODE_ERR__COUNT];	/* [DECODE_OK] unused */
	uint32_t	 sampling;	/* rate in force, 1 = unsampled */
	enum sampling_source sampling_source;
	int64_t		 first_seen_ns;	/* wall clock */
	int64_t		 last_seen_ns;
	int64_t		 reset_ns;	/* wall clock of the last restart, 0 if none */
	/* sequence tracking */
	bool		 have_seq;
	uint32_t	 next_seq;
	uint32_t	 last_uptime_ms;
};

/*
 * A forward sequence gap larger than this (in the protocol's unit: v5 flows,
 * v9 packets, IPFIX records) is taken as a restart, not counted as loss.
 */
#define EXPORTER_LOSS_WINDOW	(1u << 24)
/*
 * sysUptime (v5, v9) going back is a restart, unless it went forward by at
 * most this many ms modulo 2^32: that is its wrap after 49.7 days.
 */
#define EXPORTER_UPTIME_WRAP_MS	(24u * 3600 * 1000)
/*
 * A NetFlow v5/v9 datagram a little behind (sequence at most this many units
 * behind, uptime at most EXPORTER_REORDER_MS behind) arrived late: it is
 * counted in reordered, moves no sequence state, and is not a restart. IPFIX
 * has no uptime to tell a late datagram from a restarted exporter, so there
 * any step back is a restart.
 */
#define EXPORTER_REORDER_WINDOW	1024u
#define EXPORTER_REORDER_MS	10000u

struct exporter_table;

struct exporter_table *exporter_table_new(uint32_t max_exporters);
void		 exporter_table_free(struct exporter_table *);

/* Finds or creates; NULL when creating would pass the cap (counted). */
struct exporter	*exporter_get(struct exporter_table *, const struct addr *,
		    uint8_t version, uint32_t domain, int64_t now_ns);
/*
 * Accounts one decoded datagram: datagrams, bytes, records, malformed by
 * reason, sets without template, sequence and loss, last seen. Returns true
 * when it detected a restart (the caller then forgets the exporter's
 * templates). Packets, octets and the sampling fields are the caller's: it
 * alone knows the configuration's overrides.
 */
bool		 exporter_account(struct exporter *, const struct decode_result *,
		    size_t datagram_len, int64_t now_ns);

size_t		 exporter_count(const struct exporter_table *);
uint64_t	 exporter_refused(const struct exporter_table *);
/* Entries in index order (address type, address, version, domain) for the MIB. */
size_t		 exporter_sorted(const struct exporter_table *, const struct exporter **out,
		    size_t max);

#endif
