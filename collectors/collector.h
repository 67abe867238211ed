/*
 * The collector core: one datagram in (bytes, source address, time), the
 * allow list, dispatch on the version field, exporter state, sampling
 * correction, counters, and flow records out to a sink. Pure: no sockets and
 * no clocks (the listener and the caller provide them).
 */
#ifndef FP_COLLECTOR_H
#define FP_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/decode.h"
#include "collectors/exporter.h"
#include "collectors/template.h"
#include "engine/flow.h"

struct collector_settings {
	const struct addr_prefix *allow;	/* empty: every source accepted */
	size_t		 nallow;
	const struct addr *override_addr;	/* per-exporter sampling overrides */
	const uint32_t	*override_rate;
	size_t		 noverrides;
};

struct collector_stats {
	uint64_t	 datagrams;	/* received, before the allow list */
	uint64_t	 bytes;
	uint64_t	 denied;	/* dropped by the allow list */
	uint64_t	 kernel_drops;	/* SO_RXQ_OVFL, added by the listener's owner */
	uint64_t	 decode_errors;	/* datagrams with any rejection */
	uint64_t	 unknown_version;
	uint64_t	 exporters_refused;	/* datagrams dropped for the exporter cap */
	uint64_t	 records;	/* data records decoded */
	uint64_t	 packets;	/* sampling-corrected */
	uint64_t	 octets;	/* sampling-corrected */
};

/*
 * Receives every decoded record as exported, with its sampling-corrected
 * packets and octets beside it (rec->packets and rec->octets are as
 * exported; rate is the sampling interval applied).
 */
struct sampled {
	uint64_t	 packets;
	uint64_t	 octets;
	uint32_t	 rate;
};
typedef void (*collector_sink)(const struct flow_record *, const struct sampled *, void *arg);

struct collector;

struct collector *collector_new(uint32_t max_exporters, const struct tmpl_limits *);
void		 collector_free(struct collector *);
/* The settings are copied; a reload calls this again, the state is kept. */
int		 collector_configure(struct collector *, const struct collector_settings *);
void		 collector_set_sink(struct collector *, collector_sink, void *arg);

/* Returns the datagram's first rejection (DECODE_OK also when denied by the allow list). */
enum decode_error collector_datagram(struct collector *, const uint8_t *buf, size_t len,
		    const struct addr *src, int64_t now_ns);
void		 collector_add_kernel_drops(struct collector *, uint64_t);

const struct collector_stats *collector_stats(const struct collector *);
const struct exporter_table *collector_exporters(const struct collector *);
const struct tmpl_cache *collector_templates(const struct collector *);

#endif
