/*
 * FLOWPATH-MIB::fpProbe: fpProbeTable (one row per probe), the ICMP socket
 * modes (fpProbeSockets) and the reflector's counters (fpReflector). Rows
 * are rebuilt as a sorted container after every apply; the values are read
 * from the prober at request time.
 */
#ifndef FP_MIB_PROBE_H
#define FP_MIB_PROBE_H

#include "subagent/probe.h"

void	mib_probe_init(struct probe_set *);
void	mib_probe_shutdown(void);

#endif
