/*
 * FLOWPATH-MIB::fpCollector: collector-wide counters (scalars) and
 * fpExporterTable, served from a sorted snapshot refreshed once a second on
 * the event loop (never rebuilt inside a request).
 */
#ifndef FP_MIB_COLLECTOR_H
#define FP_MIB_COLLECTOR_H

#include "collectors/collector.h"
#include "subagent/loop.h"

void	mib_collector_init(struct loop *, const struct collector *);
/* Rebuilds the exporter table's snapshot now (also done every second). */
void	mib_collector_refresh(void);
void	mib_collector_shutdown(void);

#endif
