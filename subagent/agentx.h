/*
 * Net-SNMP as an AgentX subagent: settings, registration of our MIB modules,
 * and the (re)connection to the master agent, which Net-SNMP retries every
 * agentx.ping_interval seconds while the master is away.
 *
 * With agent.listen set, Net-SNMP runs as a standalone master agent instead
 * (no AgentX at all): read-only SNMPv1/v2c on that transport, community
 * agent.community from the agent.allow prefixes, our MIB modules plus the
 * SNMPv2-MIB system group.
 */
#ifndef FP_AGENTX_H
#define FP_AGENTX_H

#include <stdbool.h>

#include "subagent/config.h"
#include "subagent/status.h"

/* Registers the MIB modules; called by agentx_init() at the right moment. */
typedef void (*agentx_register_fn)(void *arg);

/*
 * Sets up the library, has every MIB module registered, and starts
 * connecting to the master (AgentX) or listens (standalone; exits through
 * fatalx() when agent.listen cannot be opened).
 */
void	agentx_init(const struct fp_config *, struct fp_status *, bool foreground,
	    agentx_register_fn, void *arg);
/* Logs which settings of a reloaded configuration only apply at restart. */
void	agentx_check_reload(const struct fp_config *old, const struct fp_config *new);
void	agentx_shutdown(void);

#endif
