#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>

#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/notify.h"

struct notify {
	struct loop	*loop;
	struct notify_limits lim;
	netsnmp_variable_list **ring;	/* grows by doubling up to lim.queue_size */
	size_t		 cap, head, count;
	uint64_t	 timer;		/* pending batch, 0 when none */
	int64_t		 last_batch_ns;	/* INT64_MIN before the first */
	bool		 connected;	/* AgentX registration up (subagent mode) */
	struct notify_stats st;
};

static const oid snmp_trap_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };

static void	notify_arm(struct notify *);

/*
 * The queue that follows the AgentX connection. Not passed as the callbacks'
 * client_arg: snmp_shutdown() frees those.
 */
static struct notify *notify_watched;

/* AgentX mode only: standalone, Net-SNMP is the master and sends itself. */
static bool
notify_ready(const struct notify *n)
{
	if (!netsnmp_ds_get_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE))
		return true;
	return n->connected;
}

static int
notify_on_start(int major, int minor, void *server_arg, void *client_arg)
{
	struct notify *n = notify_watched;

	if (n != NULL) {
		n->connected = true;
		notify_arm(n);
	}
	return SNMP_ERR_NOERROR;
}

static int
notify_on_stop(int major, int minor, void *server_arg, void *client_arg)
{
	struct notify *n = notify_watched;

	if (n == NULL)
		return SNMP_ERR_NOERROR;
	n->connected = false;
	if (n->timer != 0) {
		loop_timer_cancel(n->loop, n->timer);
		n->timer = 0;
	}
	return SNMP_ERR_NOERROR;
}

static void
notify_check_limits(struct notify_limits *l)
{
	if (l->queue_size == 0)
		l->queue_size = 1;
	if (l->per_tick == 0)
		l->per_tick = 1;
	if (l->tick_ns <= 0)
		l->tick_ns = NOTIFY_DEFAULT_TICK_NS;
}

struct notify *
notify_new(struct loop *loop, const struct notify_limits *lim)
{
	struct notify *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->loop = loop;
	n->last_batch_ns = INT64_MIN;
	n->lim = (struct notify_limits){ NOTIFY_DEFAULT_QUEUE, NOTIFY_DEFAULT_PER_TICK,
	    NOTIFY_DEFAULT_TICK_NS };
	if (lim != NULL)
		notify_set_limits(n, lim);
	if (notify_watched == NULL) {
		snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
		    notify_on_start, NULL);
		snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
		    notify_on_stop, NULL);
	}
	notify_watched = n;
	return n;
}

void
notify_set_limits(struct notify *n, const struct notify_limits *lim)
{
	n->lim = *lim;
	notify_check_limits(&n->lim);
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (notify_watched == n)
		notify_watched = NULL;
	if (n->timer != 0)
		loop_timer_cancel(n->loop, n->timer);
	for (size_t i = 0; i < n->count; i++)
		snmp_free_varbind(n->ring[(n->head + i) % n->cap]);
	free(n->ring);
	free(n);
}

netsnmp_variable_list *
notify_vars_new(const oid *trap, size_t trap_len)
{
	netsnmp_variable_list *vars = NULL;

	if (snmp_varlist_add_variable(&vars, snmp_trap_oid, OID_LENGTH(snmp_trap_oid),
	    ASN_OBJECT_ID, trap, trap_len * sizeof(oid)) == NULL) {
		snmp_free_varbind(vars);
		return NULL;
	}
	return vars;
}

/* Room for one more; the ring is unwrapped into the new array when it grows. */
static bool
notify_reserve(struct notify *n)
{
	netsnmp_variable_list **r;
	size_t cap;

	if (n->count >= n->lim.queue_size)
		return false;
	if (n->count < n->cap)
		return true;
	cap = n->cap ? n->cap * 2 : 16;
	if (cap > n->lim.queue_size)
		cap = n->lim.queue_size;
	if ((r = calloc(cap, sizeof(*r))) == NULL)
		return false;
	for (size_t i = 0; i < n->count; i++)
		r[i] = n->ring[(n->head + i) % n->cap];
	free(n->ring);
	n->ring = r;
	n->cap = cap;
	n->head = 0;
	return true;
}

static void
notify_batch(void *arg, int64_t now)
{
	struct notify *n = arg;

	n->timer = 0;
	n->last_batch_ns = now;
	for (uint32_t i = 0; i < n->lim.per_tick && n->count > 0 && notify_ready(n); i++) {
		netsnmp_variable_list *vars = n->ring[n->head];

		n->ring[n->head] = NULL;
		n->head = (n->head + 1) % n->cap;
		n->count--;
		send_v2trap(vars);
		snmp_free_varbind(vars);
		n->st.sent++;
	}
	notify_arm(n);
}

/* The next batch one tick after the previous one, and not before now. */
static void
notify_arm(struct notify *n)
{
	int64_t now, when;

	if (n->timer != 0 || n->count == 0 || !notify_ready(n))
		return;
	now = clock_mono_ns();
	when = n->last_batch_ns == INT64_MIN ? now : n->last_batch_ns + n->lim.tick_ns;
	if (when < now)
		when = now;
	if ((n->timer = loop_timer_add(n->loop, when, notify_batch, n)) == 0)
		log_warnx("notifications: out of memory for the send timer");
}

bool
notify_queue(struct notify *n, netsnmp_variable_list *vars)
{
	if (vars == NULL || !notify_reserve(n)) {
		snmp_free_varbind(vars);
		n->st.dropped++;
		return false;
	}
	n->ring[(n->head + n->count) % n->cap] = vars;
	n->count++;
	notify_arm(n);
	return true;
}

void
notify_get_stats(const struct notify *n, struct notify_stats *st)
{
	*st = n->st;
	st->queued = (uint32_t)n->count;
}
