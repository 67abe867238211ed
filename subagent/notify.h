/*
 * The paced notification queue. Notifications leave through Net-SNMP's
 * send_v2trap(): as AgentX Notify PDUs to the master agent, whose trap
 * sinks, informs and SNMPv3 settings apply (RFC 2741 section 6.2.10), or,
 * in standalone mode, to the agent's own trap sinks.
 *
 * A burst of hundreds of send_v2trap() calls in one loop pass was measured
 * to deadlock flowpathd and snmpd on the AgentX socket (both send buffers
 * full, neither side reading), so at most per_tick notifications leave per
 * timer tick, and the loop reads the AgentX socket between two ticks. The
 * queue is bounded: past queue_size a new notification is dropped and
 * counted. While the AgentX master is away, notifications wait (the
 * newest queue follows the connection; flowpathd has one).
 */
#ifndef FP_NOTIFY_H
#define FP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "subagent/loop.h"

#define NOTIFY_DEFAULT_QUEUE	1000
#define NOTIFY_DEFAULT_PER_TICK	20
#define NOTIFY_DEFAULT_TICK_NS	(100 * INT64_C(1000000))

struct notify_limits {
	uint32_t	 queue_size;	/* notifications waiting at most, >= 1 */
	uint32_t	 per_tick;	/* sent per tick at most, >= 1 */
	int64_t		 tick_ns;	/* time between two batches, > 0 */
};

struct notify_stats {
	uint64_t	 sent;		/* handed to send_v2trap() */
	uint64_t	 dropped;	/* queue full */
	uint32_t	 queued;	/* waiting now */
};

struct notify;

/*
 * limits NULL: the defaults. Call before agentx_init(): it watches the
 * AgentX connection from the first attempt on. NULL when out of memory.
 */
struct notify	*notify_new(struct loop *, const struct notify_limits *);
/* New limits (a reload); a smaller queue_size keeps what already waits. */
void		 notify_set_limits(struct notify *, const struct notify_limits *);
void		 notify_free(struct notify *);

/*
 * The start of a notification's varbind list: snmpTrapOID.0 = trap
 * (RFC 3416 section 4.2.6; send_v2trap() puts sysUpTime.0 before it).
 * NULL when out of memory.
 */
netsnmp_variable_list *notify_vars_new(const oid *trap, size_t trap_len);

/*
 * Queues vars (from notify_vars_new(), objects appended), which the queue
 * owns from now on in every case. False when it was dropped: queue full or
 * vars NULL.
 */
bool		 notify_queue(struct notify *, netsnmp_variable_list *vars);

void		 notify_get_stats(const struct notify *, struct notify_stats *);

#endif
