/*
 * The active probes and the reflector in the daemon: probe specs from the
 * configuration, the prober and the reflector sockets on the event loop
 * (one timer, re-armed at prober_next() after every pass), and one metric
 * per result in the metric store (probe.NAME.rtt, .loss, .jitter, .ipdv,
 * .up, .sent, .received, .lost). Unchanged probes keep their state across
 * reloads; changed ones start again (prober_apply decides).
 */
#ifndef FP_PROBE_H
#define FP_PROBE_H

#include <stdbool.h>

#include "engine/metric.h"
#include "probes/prober.h"
#include "probes/reflector.h"
#include "subagent/config.h"
#include "subagent/loop.h"

struct probe_set;

/* NULL when out of memory (logged). metrics may be NULL: no metrics are put. */
struct probe_set *probe_new(struct loop *, struct metric_store *);
void		 probe_free(struct probe_set *);

/*
 * Applies conf's probes and reflector.listen. False (logged) when the
 * probes could not be applied (memory) or a reflector socket could not be
 * bound; what could be applied is in place.
 */
bool		 probe_apply(struct probe_set *, const struct fp_config *);

/* Called after every apply, so that the MIB rebuilds its rows. */
void		 probe_set_hook(struct probe_set *, void (*hook)(void *), void *arg);

struct prober	*probe_prober(const struct probe_set *);
const struct reflector *probe_reflector(const struct probe_set *);

#endif
