/*
 * The aggregations in the daemon: built from the configuration (networks,
 * filters, keys), fed every record the collector decodes, closed on
 * wall-clock-aligned timers. Unchanged aggregations keep their state across
 * reloads; changed ones start again.
 */
#ifndef FP_AGGREGATE_H
#define FP_AGGREGATE_H

#include <stdbool.h>

#include "engine/agg.h"
#include "engine/filter.h"
#include "engine/key.h"
#include "collectors/collector.h"
#include "subagent/config.h"
#include "subagent/loop.h"

/* What the MIB reads of one aggregation. */
struct agg_view {
	char		 name[CONFIG_NAME_MAX + 1];
	char		 key_fields[KEY_MAX_FIELDS * 16];	/* "src_network dst_network" */
	char		*filter_text;		/* NULL: none */
	struct key_spec	 spec;
	size_t		 keylen;
	uint32_t	 interval;
	uint32_t	 top;
	uint32_t	 capacity;
	uint32_t	 retention;		/* seconds */
	struct agg	*agg;
	struct agg_snapshot *last;		/* NULL before the first close */
};

struct aggregate;

struct aggregate *aggregate_new(struct loop *);
void		 aggregate_free(struct aggregate *);
/* (Re)builds from conf; false (logged) when something could not be built. */
bool		 aggregate_apply(struct aggregate *, const struct fp_config *);
/* The collector's sink: one decoded record and its sampling-corrected counts. */
void		 aggregate_record(const struct flow_record *, const struct sampled *, void *arg);

/* Called after every close and every apply, before old snapshots are freed. */
void		 aggregate_set_hook(struct aggregate *, void (*hook)(void *), void *arg);
size_t		 aggregate_count(const struct aggregate *);
const struct agg_view *aggregate_view(const struct aggregate *, size_t i);
/* Names networks for key_format(); arg is the struct aggregate. */
const char	*aggregate_network_name(uint16_t index, void *arg);

#endif
