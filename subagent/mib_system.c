/*
 * fpSystem scalars (FLOWPATH-MIB .1.1): a scalar group over struct fp_status.
 * Values are read at request time; nothing here blocks.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "fp_root.h"
#include "subagent/clock.h"
#include "subagent/mib_system.h"
#include "subagent/mib_util.h"

enum {
	FP_SYS_VERSION = 1,
	FP_SYS_START_TIME,
	FP_SYS_UP_TIME,
	FP_SYS_CONFIG_FILE,
	FP_SYS_CONFIG_LOAD_TIME,
	FP_SYS_CONFIG_RELOADS,
	FP_SYS_CONFIG_RELOAD_FAILURES,
	FP_SYS_CONFIG_LAST_ERROR,
	FP_SYS_AGENTX_CONNECTS,
	FP_SYS_LAST = FP_SYS_AGENTX_CONNECTS
};

static const oid fp_system_oid[] = { FP_ROOT_OID, 1, 1 };
static const struct fp_status *mib_system_status;

static int
mib_system_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct fp_status *st = mib_system_status;

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;

		/* The scalar-group helper appends "object.0" to rootoid while we run. */
		switch (vb->name[reginfo->rootoid_len - 2]) {
		case FP_SYS_VERSION:
			mib_set_string(vb, FP_VERSION);
			break;
		case FP_SYS_START_TIME:
			mib_set_date_and_time(vb, st->start_wall_ns);
			break;
		case FP_SYS_UP_TIME:
			mib_set_u32(vb, ASN_TIMETICKS, (uint32_t)((clock_mono_ns() -
			    st->start_mono_ns) / (10 * CLOCK_NS_PER_MS)));
			break;
		case FP_SYS_CONFIG_FILE:
			mib_set_string(vb, st->config_file);
			break;
		case FP_SYS_CONFIG_LOAD_TIME:
			mib_set_date_and_time(vb, st->config_load_wall_ns);
			break;
		case FP_SYS_CONFIG_RELOADS:
			mib_set_u32(vb, ASN_COUNTER, st->config_reloads);
			break;
		case FP_SYS_CONFIG_RELOAD_FAILURES:
			mib_set_u32(vb, ASN_COUNTER, st->config_reload_failures);
			break;
		case FP_SYS_CONFIG_LAST_ERROR:
			mib_set_string(vb, st->config_last_error);
			break;
		case FP_SYS_AGENTX_CONNECTS:
			mib_set_u32(vb, ASN_COUNTER, st->agentx_connects);
			break;
		default:
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
			break;
		}
	}
	return SNMP_ERR_NOERROR;
}

void
mib_system_init(const struct fp_status *status)
{
	mib_system_status = status;
	mib_register_scalars("fpSystem", fp_system_oid, OID_LENGTH(fp_system_oid),
	    mib_system_handler, 1, FP_SYS_LAST);
}
