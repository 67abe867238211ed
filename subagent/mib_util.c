#include <string.h>
#include <time.h>

#include "subagent/clock.h"
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
