/*
 * FLOWPATH-MIB::fpAggregation: fpAggTable (definitions, last interval,
 * running totals), fpTopTable (ranked rows of the last closed interval) and
 * fpKeyTable (stable rows of retained keys). Containers are rebuilt from the
 * aggregations' snapshots after each close and each reload, never inside a
 * request.
 */
#ifndef FP_MIB_AGGREGATE_H
#define FP_MIB_AGGREGATE_H

#include "subagent/aggregate.h"

void	mib_aggregate_init(struct aggregate *);
void	mib_aggregate_shutdown(void);

#endif
