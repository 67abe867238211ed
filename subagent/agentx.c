#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>

#include "subagent/agentx.h"
#include "subagent/log.h"

#define AGENTX_APP "flowpathd"

/* Not passed as the callback's client_arg: snmp_shutdown() frees those. */
static struct fp_status *agentx_status;

static int
agentx_connected(int major, int minor, void *server_arg, void *client_arg)
{
	agentx_status->agentx_connects++;
	log_info("registered with the AgentX master (connection %u)",
	    agentx_status->agentx_connects);
	return SNMP_ERR_NOERROR;
}

/*
 * Everything flowpathd needs is in its own configuration; Net-SNMP must not
 * read snmp.conf files, MIB files or persistent state behind the operator's back.
 */
static void
agentx_library_defaults(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	/* Alarms run from our loop (run_alarms), never from SIGALRM. */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	setenv("MIBS", "", 1);
}

void
agentx_init(const struct fp_config *conf, struct fp_status *status, bool foreground,
    agentx_register_fn register_modules, void *arg)
{
	if (foreground)
		snmp_enable_stderrlog();
	else
		snmp_enable_syslog_ident(AGENTX_APP, LOG_DAEMON);
	agentx_library_defaults();

	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
	    conf->agentx.socket);
	agentx_status = status;
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
	    agentx_connected, NULL);

	if (init_agent(AGENTX_APP) != 0)
		fatalx("cannot initialise the Net-SNMP agent library");
	/* init_agent() resets these for subagents; they must be set after it. */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
	    (int)conf->agentx.ping_interval);
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_TIMEOUT,
	    (int)conf->agentx.timeout * 1000000);
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_RETRIES,
	    (int)conf->agentx.retries);
	/* A missing master is normal (it may start later): say it once, at info. */
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID,
	    NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);

	register_modules(arg);

	/* Reads no file (see above); connects, or schedules the retries. */
	init_snmp(AGENTX_APP);
	if (status->agentx_connects == 0)
		log_info("AgentX master %s not reachable yet; retrying every %u s",
		    conf->agentx.socket, conf->agentx.ping_interval);
	if (conf->agent.listen != NULL)
		log_warnx("agent.listen is accepted but the standalone agent is not "
		    "implemented in this version; serving through AgentX only");
}

static bool
agentx_str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

void
agentx_check_reload(const struct fp_config *old, const struct fp_config *new)
{
	if (agentx_str_differs(old->agentx.socket, new->agentx.socket) ||
	    old->agentx.ping_interval != new->agentx.ping_interval ||
	    old->agentx.timeout != new->agentx.timeout ||
	    old->agentx.retries != new->agentx.retries)
		log_warnx("agentx settings changed; they take effect when flowpathd restarts");
	if (agentx_str_differs(old->agent.listen, new->agent.listen))
		log_warnx("agent.listen changed; it takes effect when flowpathd restarts");
}

void
agentx_shutdown(void)
{
	snmp_shutdown(AGENTX_APP);
}
