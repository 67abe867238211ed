#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/mib_util.h"

void
mib_set_string(netsnmp_variable_list *vb, const char *s)
{
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, s, strlen(s));
}

void
mib_set_u32(netsnmp_variable_list *vb, u_char type, uint32_t v)
{
	u_long value = v;

	snmp_set_var_typed_value(vb, type, &value, sizeof(value));
}

void
mib_set_c64(netsnmp_variable_list *vb, uint64_t v)
{
	struct counter64 c = { .high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu) };

	snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
}

void
mib_set_date_and_time(netsnmp_variable_list *vb, int64_t wall_ns)
{
	static const u_char none[8];
	time_t t = (time_t)(wall_ns / CLOCK_NS_PER_SEC);
	size_t len = 0;
	u_char buf[11];
	const u_char *dt;

	if (wall_ns == 0) {
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, none, sizeof(none));
		return;
	}
	dt = date_n_time(&t, &len);
	if (len > sizeof(buf))
		len = sizeof(buf);
	memcpy(buf, dt, len);
	/* date_n_time leaves the deci-seconds (octet 8) at 0. */
	if (len >= 8)
		buf[7] = (u_char)((wall_ns % CLOCK_NS_PER_SEC) / (100 * CLOCK_NS_PER_MS));
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, buf, len);
}

netsnmp_container *
mib_register_table(const char *name, const oid *o, size_t olen, Netsnmp_Node_Handler *handler,
    void *myvoid, unsigned first_column, unsigned last_column, ...)
{
	netsnmp_handler_registration *reg = netsnmp_create_handler_registration(name,
	    handler, o, olen, HANDLER_CAN_RONLY);
	netsnmp_table_registration_info *ti = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
	netsnmp_container *c = netsnmp_container_find("mib_register_table:table_container");
	va_list ap;
	int type;

	if (reg == NULL || ti == NULL || c == NULL)
		fatalx("cannot create %s", name);
	reg->handler->myvoid = myvoid;
	va_start(ap, last_column);
	while ((type = va_arg(ap, int)) != 0)
		netsnmp_table_helper_add_index(ti, type);
	va_end(ap);
	ti->min_column = first_column;
	ti->max_column = last_column;
	if (netsnmp_container_table_register(reg, ti, c, TABLE_CONTAINER_KEY_NETSNMP_INDEX) !=
	    MIB_REGISTERED_OK)
		fatalx("cannot register %s", name);
	return c;
}

void
mib_register_scalars(const char *name, const oid *o, size_t olen, Netsnmp_Node_Handler *handler,
    unsigned first, unsigned last)
{
	netsnmp_handler_registration *reg = netsnmp_create_handler_registration(name,
	    handler, o, olen, HANDLER_CAN_RONLY);

	if (reg == NULL || netsnmp_register_scalar_group(reg, first, last) != MIB_REGISTERED_OK)
		fatalx("cannot register %s", name);
}
