#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "fp_root.h"
#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/mib_probe.h"
#include "subagent/mib_util.h"

#define NAME_OIDS	(1 + PROBE_NAME_MAX)
/*
 * The columns of one row are served from one copy of the probe's result,
 * at most this old: a GET or GETBULK of several columns sees one
 * consistent set of counters, and a walk does not summarise the window
 * once per column.
 */
#define RESULT_MAX_AGE_NS (100 * CLOCK_NS_PER_MS)

enum {
	COL_TYPE = 2, COL_ADDR_TYPE, COL_ADDR, COL_PORT, COL_INTERVAL, COL_TIMEOUT,
	COL_SIZE, COL_TOS, COL_WINDOW, COL_STATUS, COL_LAST_ERROR, COL_LAST_CHANGE,
	COL_SENT, COL_RECEIVED, COL_LOST, COL_LATE, COL_DUPLICATES, COL_ERRORS,
	COL_REFUSED, COL_MISSED, COL_FWD_LOST, COL_REV_LOST, COL_LAST_RTT, COL_RTT_MIN,
	COL_RTT_MEAN, COL_RTT_MAX, COL_RTT_STDDEV, COL_RTT_P50, COL_RTT_P95, COL_RTT_P99,
	COL_JITTER, COL_IPDV, COL_LOSS_RATIO, COL_WINDOW_RECEIVED, COL_WINDOW_LOST,
	COL_LAST_REPLY, COL_REFL_HOLD, COL_FOREIGN,
	COL_FIRST = COL_TYPE, COL_LAST = COL_FOREIGN
};
enum { SOCK_ICMP4 = 1, SOCK_ICMP6, SOCK_LAST = SOCK_ICMP6 };
enum {
	REFL_RECEIVED = 1, REFL_REFLECTED, REFL_MALFORMED, REFL_SEND_ERRORS,
	REFL_EVICTED, REFL_SENDERS, REFL_LAST = REFL_SENDERS
};

static const oid probe_table_oid[] = { FP_ROOT_OID, 1, 4, 1 };
static const oid probe_sockets_oid[] = { FP_ROOT_OID, 1, 4, 2 };
static const oid reflector_oid[] = { FP_ROOT_OID, 1, 4, 3 };

struct probe_row_mib {
	netsnmp_index	 idx;		/* first: the container compares these */
	oid		 oids[NAME_OIDS];
	size_t		 i;		/* prober index */
	int64_t		 taken_ns;	/* of r; INT64_MIN: none yet */
	struct probe_result r;
};

/* The module's state; Net-SNMP callbacks reach it through this one pointer. */
static struct {
	struct probe_set *probes;
	netsnmp_container *container;
	struct probe_row_mib *rows;
} mp;

/* The hook: after every apply; no request is served meanwhile. */
static void
mib_probe_rebuild(void *arg)
{
	struct prober *p = probe_prober(mp.probes);
	size_t n = prober_count(p);
	struct probe_row_mib *rows = calloc(n ? n : 1, sizeof(*rows));

	(void)arg;
	CONTAINER_CLEAR(mp.container, NULL, NULL);
	free(mp.rows);
	mp.rows = rows;
	if (rows == NULL) {
		log_warnx("fpProbeTable: out of memory; the table is empty until the next reload");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = prober_spec(p, i)->name;
		size_t len = strnlen(name, PROBE_NAME_MAX), k = 0;

		rows[i].oids[k++] = len;
		for (size_t j = 0; j < len; j++)
			rows[i].oids[k++] = (unsigned char)name[j];
		rows[i].idx.oids = rows[i].oids;
		rows[i].idx.len = k;
		rows[i].i = i;
		rows[i].taken_ns = INT64_MIN;
		CONTAINER_INSERT(mp.container, &rows[i]);
	}
}

static const struct probe_result *
row_result(struct probe_row_mib *row, int64_t now)
{
	if (row->taken_ns == INT64_MIN || now - row->taken_ns > RESULT_MAX_AGE_NS) {
		const struct probe_result *r = prober_result(probe_prober(mp.probes), row->i, now);

		if (r != NULL)
			row->r = *r;
		row->taken_ns = now;
	}
	return &row->r;
}

/* Microseconds, rounded down, saturated to the range of Unsigned32. */
static uint32_t
usec(int64_t ns)
{
	if (ns <= 0)
		return 0;
	return ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000);
}

static uint32_t
msec(int64_t ns)
{
	return ns / CLOCK_NS_PER_MS > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / CLOCK_NS_PER_MS);
}

/* A monotonic time as wall-clock DateAndTime, through today's offset between the clocks. */
static void
set_mono_time(netsnmp_variable_list *vb, int64_t mono_ns)
{
	mib_set_date_and_time(vb, mono_ns == 0 ? 0 :
	    mono_ns + (clock_wall_ns() - clock_mono_ns()));
}

static void
config_value(netsnmp_variable_list *vb, const struct probe_spec *s, unsigned col)
{
	const struct addr *a = &s->target.addr;

	switch (col) {
	case COL_TYPE:		mib_set_u32(vb, ASN_INTEGER, (uint32_t)s->type); break;
	case COL_ADDR_TYPE:	mib_set_u32(vb, ASN_INTEGER, a->family == ADDR_V4 ? 1 : 2); break;
	case COL_ADDR:
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, a->bytes,
		    a->family == ADDR_V4 ? 4 : 16);
		break;
	case COL_PORT:		mib_set_u32(vb, ASN_UNSIGNED, s->target.port); break;
	case COL_INTERVAL:	mib_set_u32(vb, ASN_UNSIGNED, msec(s->interval_ns)); break;
	case COL_TIMEOUT:	mib_set_u32(vb, ASN_UNSIGNED, msec(s->timeout_ns)); break;
	case COL_SIZE:		mib_set_u32(vb, ASN_UNSIGNED, s->size); break;
	case COL_TOS:		mib_set_u32(vb, ASN_UNSIGNED, s->tos); break;
	default:
		mib_set_u32(vb, ASN_UNSIGNED, (uint32_t)(s->window_ns / CLOCK_NS_PER_SEC));
		break;
	}
}

static uint64_t
counter_value(const struct probe_counters *c, unsigned col)
{
	switch (col) {
	case COL_SENT:		return c->sent;
	case COL_RECEIVED:	return c->received;
	case COL_LOST:		return c->lost;
	case COL_LATE:		return c->late;
	case COL_DUPLICATES:	return c->duplicates;
	case COL_ERRORS:	return c->errors;
	case COL_REFUSED:	return c->refused;
	case COL_MISSED:	return c->missed;
	case COL_FWD_LOST:	return c->fwd_lost;
	case COL_REV_LOST:	return c->rev_lost;
	default:		return c->foreign;
	}
}

static int64_t
rtt_value(const struct probe_result *r, unsigned col)
{
	const struct pstats_summary *w = &r->window;

	switch (col) {
	case COL_LAST_RTT:	return r->last_rtt_ns;
	case COL_RTT_MIN:	return w->min;
	case COL_RTT_MEAN:	return w->mean;
	case COL_RTT_MAX:	return w->max;
	case COL_RTT_STDDEV:	return w->stddev;
	case COL_RTT_P50:	return w->p50;
	case COL_RTT_P95:	return w->p95;
	case COL_RTT_P99:	return w->p99;
	case COL_JITTER:	return r->jitter_ns;
	case COL_IPDV:		return w->ipdv_mean;
	default:		return r->refl_hold_ns;
	}
}

static void
result_value(netsnmp_variable_list *vb, const struct probe_result *r, unsigned col)
{
	switch (col) {
	case COL_STATUS:	mib_set_u32(vb, ASN_INTEGER, (uint32_t)r->status); break;
	case COL_LAST_ERROR:	mib_set_string(vb, r->last_error); break;
	case COL_LAST_CHANGE:	set_mono_time(vb, r->last_change_ns); break;
	case COL_LOSS_RATIO:	mib_set_u32(vb, ASN_UNSIGNED, r->window.loss_ppm); break;
	case COL_WINDOW_RECEIVED: mib_set_u32(vb, ASN_GAUGE, r->window.received); break;
	case COL_WINDOW_LOST:	mib_set_u32(vb, ASN_GAUGE, r->window.lost); break;
	case COL_LAST_REPLY:	set_mono_time(vb, r->last_reply_ns); break;
	case COL_LAST_RTT: case COL_RTT_MIN: case COL_RTT_MEAN: case COL_RTT_MAX:
	case COL_RTT_STDDEV: case COL_RTT_P50: case COL_RTT_P95: case COL_RTT_P99:
	case COL_JITTER: case COL_IPDV: case COL_REFL_HOLD:
		mib_set_u32(vb, ASN_UNSIGNED, usec(rtt_value(r, col)));
		break;
	default:		mib_set_c64(vb, counter_value(&r->c, col)); break;
	}
}

static int
probe_table_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	int64_t now = clock_mono_ns();

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next) {
		struct probe_row_mib *row;
		netsnmp_table_request_info *ti;

		if (r->processed)
			continue;
		row = netsnmp_container_table_row_extract(r);
		ti = netsnmp_extract_table_info(r);
		if (row == NULL || ti == NULL || ti->colnum < COL_FIRST || ti->colnum > COL_LAST) {
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			continue;
		}
		if (ti->colnum <= COL_WINDOW)
			config_value(r->requestvb, prober_spec(probe_prober(mp.probes), row->i),
			    ti->colnum);
		else
			result_value(r->requestvb, row_result(row, now), ti->colnum);
	}
	return SNMP_ERR_NOERROR;
}

/* The scalar-group helper appends "object.0" to rootoid while we run. */
static unsigned
scalar_column(const netsnmp_handler_registration *reginfo, const netsnmp_request_info *r)
{
	return (unsigned)r->requestvb->name[reginfo->rootoid_len - 2];
}

static int
probe_sockets_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next)
		mib_set_string(r->requestvb, prober_icmp_mode(probe_prober(mp.probes),
		    scalar_column(reginfo, r) == SOCK_ICMP6));
	return SNMP_ERR_NOERROR;
}

static int
reflector_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct reflector_counters *c = reflector_counters(probe_reflector(mp.probes));

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next) {
		switch (scalar_column(reginfo, r)) {
		case REFL_RECEIVED:	mib_set_c64(r->requestvb, c->received); break;
		case REFL_REFLECTED:	mib_set_c64(r->requestvb, c->reflected); break;
		case REFL_MALFORMED:	mib_set_c64(r->requestvb, c->malformed); break;
		case REFL_SEND_ERRORS:	mib_set_c64(r->requestvb, c->send_errors); break;
		case REFL_EVICTED:	mib_set_c64(r->requestvb, c->senders_evicted); break;
		default:		mib_set_u32(r->requestvb, ASN_GAUGE, c->senders); break;
		}
	}
	return SNMP_ERR_NOERROR;
}

void
mib_probe_init(struct probe_set *probes)
{
	mp.probes = probes;
	mp.container = mib_register_table("fpProbeTable", probe_table_oid,
	    OID_LENGTH(probe_table_oid), probe_table_handler, NULL, COL_FIRST, COL_LAST,
	    ASN_OCTET_STR, 0);
	mib_register_scalars("fpProbeSockets", probe_sockets_oid, OID_LENGTH(probe_sockets_oid),
	    probe_sockets_handler, 1, SOCK_LAST);
	mib_register_scalars("fpReflector", reflector_oid, OID_LENGTH(reflector_oid),
	    reflector_handler, 1, REFL_LAST);
	probe_set_hook(probes, mib_probe_rebuild, NULL);
	mib_probe_rebuild(NULL);
}

void
mib_probe_shutdown(void)
{
	if (mp.probes != NULL)
		probe_set_hook(mp.probes, NULL, NULL);
	if (mp.container != NULL)
		CONTAINER_CLEAR(mp.container, NULL, NULL);
	free(mp.rows);
	mp.rows = NULL;
}
