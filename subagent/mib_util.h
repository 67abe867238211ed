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

/*
 * A read-only table served from a table_container keyed by netsnmp_index
 * rows; handler->myvoid is set to myvoid. The ASN types of the index
 * objects follow the columns, ending with 0 (as for
 * netsnmp_table_helper_add_indexes). Exits through fatalx() when Net-SNMP
 * refuses.
 */
netsnmp_container *mib_register_table(const char *name, const oid *o, size_t olen,
	    Netsnmp_Node_Handler *handler, void *myvoid, unsigned first_column,
	    unsigned last_column, ...);
/* A read-only group of scalars first..last under o; fatalx() when refused. */
void	mib_register_scalars(const char *name, const oid *o, size_t olen,
	    Netsnmp_Node_Handler *handler, unsigned first, unsigned last);

#endif
