/* FLOWPATH-MIB::fpSystem: version, start time, configuration state, AgentX connects. */
#ifndef FP_MIB_SYSTEM_H
#define FP_MIB_SYSTEM_H

#include "subagent/status.h"

void	mib_system_init(const struct fp_status *);

#endif
