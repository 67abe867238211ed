/*
 * The collector in the daemon: listen sockets from the configuration on the
 * event loop, datagrams into the collector core, rate-limited logging of
 * rejected input. State survives reloads; sockets follow the configuration.
 */
#ifndef FP_COLLECT_H
#define FP_COLLECT_H

#include <stdbool.h>

#include "collectors/collector.h"
#include "subagent/config.h"
#include "subagent/loop.h"

struct collect;

/* NULL when out of memory. Caps (max_*) are taken from conf here, once. */
struct collect	*collect_new(struct loop *, const struct fp_config *);
/*
 * Opens and closes listen sockets to match conf, and applies the allow list
 * and sampling overrides. Returns false (after logging why) when a socket
 * could not be opened; the others are in place.
 */
bool		 collect_apply(struct collect *, const struct fp_config *);
void		 collect_free(struct collect *);

const struct collector *collect_collector(const struct collect *);
/* Where decoded records go (the aggregations). */
void		 collect_set_sink(struct collect *, collector_sink, void *arg);

#endif
