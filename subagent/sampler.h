/*
 * The counters of the collector and the aggregations as metrics for the
 * rules (docs/metrics.md), read once a second on the event loop:
 *
 *   collector.records, collector.drops    cumulative, put every second
 *   exporter.ADDR.records, .lost          cumulative per exporter address,
 *                                         put when either changed (so that
 *                                         nodata() tells a silent exporter)
 *   agg.NAME.flows, .packets, .octets     the totals of the interval that
 *                                         closed last, put once per close
 */
#ifndef FP_SAMPLER_H
#define FP_SAMPLER_H

#include "collectors/collector.h"
#include "engine/metric.h"
#include "subagent/aggregate.h"
#include "subagent/loop.h"

struct sampler;

/* NULL when out of memory. aggs may be NULL. */
struct sampler	*sampler_new(struct loop *, struct metric_store *, const struct collector *,
		    const struct aggregate *aggs);
void		 sampler_free(struct sampler *);

#endif
