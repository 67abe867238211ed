/*
 * Net-SNMP glue. Two modes, chosen by agent.listen at start-up:
 *
 *  - AgentX subagent (default): the host's snmpd owns transport and security;
 *    we register our subtree with it over agentx.socket.
 *  - standalone master agent (agent.listen set): Net-SNMP's own master-agent
 *    code answers SNMPv1/v2c on that transport, with the same MIB handlers plus
 *    the SNMPv2-MIB system group, read-only, for agent.community from the
 *    agent.allow prefixes (Net-SNMP's VACM, configured from our settings).
 *    AgentX is not used at all then: one process never runs both modes.
 *
 * Either way Net-SNMP reads no file: every setting comes from flowpathd.conf.
 */
#include <stdio.h>
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
#define AGENTX_LINE_MAX 256	/* "rocommunity6 <64 chars> <v6 prefix>" fits easily */

/*
 * From libnetsnmpmibs (agent/mibgroup/mibII/system_mib.c), whose mibgroup
 * headers Debian does not install: sysDescr, sysObjectID, sysUpTime,
 * sysContact, sysName, sysLocation, sysServices.
 */
void	init_system_mib(void);

/* Not passed as the callback's client_arg: snmp_shutdown() frees those. */
static struct fp_status *agentx_status;
static bool standalone;		/* agent.listen was set at start-up */

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

/*
 * Read-only access for the standalone agent, as snmpd.conf lines handed to
 * Net-SNMP's VACM parsers ("rocommunity COMMUNITY SOURCE"): they are queued
 * now and parsed by init_snmp(), which reads no file. The community holds no
 * space, quote or backslash (config.c), so it is one word on the line.
 */
static void
agentx_standalone_access(const struct fp_config *conf)
{
	char line[AGENTX_LINE_MAX], addr[ADDR_STRLEN];
	/* sysServices: applications (64) + end-to-end (8), as for any host */
	char services[] = "sysservices 72";

	netsnmp_config(services);
	for (size_t i = 0; i < conf->agent.nallow; i++) {
		const struct addr_prefix *p = &conf->agent.allow[i];

		addr_format(&p->addr, addr, sizeof(addr));
		if (snprintf(line, sizeof(line), "%s %s %s/%u",
		    p->addr.family == ADDR_V6 ? "rocommunity6" : "rocommunity",
		    conf->agent.community, addr, (unsigned)p->len) >= (int)sizeof(line))
			fatalx("agent.allow[%zu]: VACM line too long", i);
		netsnmp_config(line);
	}
}

/*
 * Standalone, flowpathd is the master: its notifications go to
 * agent.trap_sink as SNMPv2c traps with agent.community, through
 * Net-SNMP's own trap2sink handling (queued like the VACM lines above).
 */
static void
agentx_standalone_sinks(const struct fp_config *conf)
{
	char line[AGENTX_LINE_MAX], addr[ADDR_STRLEN];

	for (size_t i = 0; i < conf->agent.ntrap_sink; i++) {
		const struct addr_endpoint *e = &conf->agent.trap_sink[i];
		bool v6 = e->addr.family == ADDR_V6;

		addr_format(&e->addr, addr, sizeof(addr));
		if (snprintf(line, sizeof(line), "trap2sink %s:%s%s%s:%u %s", v6 ? "udp6" : "udp",
		    v6 ? "[" : "", addr, v6 ? "]" : "", (unsigned)e->port,
		    conf->agent.community) >= (int)sizeof(line))
			fatalx("agent.trap_sink[%zu]: line too long", i);
		netsnmp_config(line);
	}
}

static void
agentx_init_standalone(const struct fp_config *conf,
    agentx_register_fn register_modules, void *arg)
{
	char modules[] = "vacm_conf";	/* add_to_init_list() writes into it */

	/* SNMPv3 needs users and keys: that is snmpd's job (AgentX mode). */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_V3, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 0);	/* master */
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_MASTER, 0);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_PORTS,
	    conf->agent.listen);
	/* Not one log line per request ("Connection from UDP: ..."). */
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID,
	    NETSNMP_DS_AGENT_DONT_LOG_TCPWRAPPERS_CONNECTS, 1);

	/*
	 * As a master, init_agent() also starts the agent modules built into
	 * libnetsnmpagent that should_init() lets through: only VACM's parsers
	 * and access checks; not SMUX (a TCP listener on port 199), nor an
	 * AgentX master, nor anything else.
	 */
	add_to_init_list(modules);
	if (init_agent(AGENTX_APP) != 0)
		fatalx("cannot initialise the Net-SNMP agent library");
	init_system_mib();
	register_modules(arg);
	agentx_standalone_access(conf);
	agentx_standalone_sinks(conf);

	init_snmp(AGENTX_APP);
	/* Fail closed: without VACM entries Net-SNMP's master answers anyone. */
	if (!vacm_is_configured())
		fatalx("agent: Net-SNMP's access control (VACM) was not set up; not listening");
	if (init_master_agent() != 0)
		fatalx("agent.listen: cannot listen on %s", conf->agent.listen);
	log_info("standalone SNMP agent on %s (SNMPv1/v2c, read-only, %zu source "
	    "prefix%s); AgentX is not used in this mode, agentx.socket is ignored",
	    conf->agent.listen, conf->agent.nallow, conf->agent.nallow == 1 ? "" : "es");
}

static void
agentx_init_subagent(const struct fp_config *conf, struct fp_status *status,
    agentx_register_fn register_modules, void *arg)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);	/* subagent */
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
	    conf->agentx.socket);
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
	agentx_status = status;
	standalone = conf->agent.listen != NULL;
	if (standalone)
		agentx_init_standalone(conf, register_modules, arg);
	else
		agentx_init_subagent(conf, status, register_modules, arg);
}

static bool
agentx_str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static bool
agentx_allow_differs(const struct fp_config *old, const struct fp_config *new)
{
	if (old->agent.nallow != new->agent.nallow)
		return true;
	for (size_t i = 0; i < old->agent.nallow; i++) {
		const struct addr_prefix *a = &old->agent.allow[i], *b = &new->agent.allow[i];

		if (a->len != b->len || a->addr.family != b->addr.family ||
		    memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes)) != 0)
			return true;
	}
	return false;
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
	if (agentx_str_differs(old->agent.community, new->agent.community) ||
	    agentx_allow_differs(old, new))
		log_warnx("agent.community or agent.allow changed; they take effect when "
		    "flowpathd restarts");
	if (old->agent.ntrap_sink != new->agent.ntrap_sink ||
	    (old->agent.ntrap_sink > 0 && memcmp(old->agent.trap_sink, new->agent.trap_sink,
	    old->agent.ntrap_sink * sizeof(*old->agent.trap_sink)) != 0))
		log_warnx("agent.trap_sink changed; it takes effect when flowpathd restarts");
}

void
agentx_shutdown(void)
{
	snmp_shutdown(AGENTX_APP);
	if (standalone)
		shutdown_master_agent();
}
