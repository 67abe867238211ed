/* Setting varbind values the same way in every MIB handler. */
#ifndef FP_MIB_UTIL_H
#define FP_MIB_UTIL_H

#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

void	mib_set_string(netsnmp_variable_list *, const char *);
void	mib_set_u32(netsnmp_variable_list *, u_char type, uint32_t);
void	mib_set_c64(netsnmp_variable_list *, uint64_t);
/* DateAndTime (RFC 2579) in local time with its UTC offset; 0 gives 8 zero octets. */
void	mib_set_date_and_time(netsnmp_variable_list *, int64_t wall_ns);

#endif
