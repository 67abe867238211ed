#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "fp_root.h"
#include "subagent/clock.h"
#include "subagent/mib_collector.h"
#include "subagent/mib_util.h"

#define REFRESH_NS CLOCK_NS_PER_SEC
/* Index: address type, address length, address (4 or 16), version, domain. */
#define EXP_INDEX_MAX (1 + 1 + 16 + 1 + 1)

enum {
	COL_DATAGRAMS = 1, COL_BYTES, COL_DENIED, COL_KERNEL_DROPS, COL_DECODE_ERRORS,
	COL_UNKNOWN_VERSION, COL_EXPORTERS_REFUSED, COL_RECORDS, COL_PACKETS, COL_OCTETS,
	COL_TEMPLATES_REFUSED, COL_EXPORTERS, COL_TEMPLATE_BYTES,
	COL_LAST = COL_TEMPLATE_BYTES
};

enum {
	EXP_DATAGRAMS = 5, EXP_BYTES, EXP_RECORDS, EXP_PACKETS, EXP_OCTETS, EXP_LOST,
	EXP_RESETS, EXP_TEMPLATES, EXP_SETS_WITHOUT_TEMPLATE, EXP_MALFORMED_SHORT,
	EXP_MALFORMED_LENGTH, EXP_MALFORMED_SET, EXP_MALFORMED_TEMPLATE,
	EXP_MALFORMED_RECORD, EXP_SAMPLING_INTERVAL, EXP_SAMPLING_SOURCE,
	EXP_FIRST_SEEN, EXP_LAST_SEEN, EXP_REORDERED,
	EXP_FIRST = EXP_DATAGRAMS, EXP_LAST = EXP_REORDERED
};

static const oid fp_collector_oid[] = { FP_ROOT_OID, 1, 2, 1 };
static const oid fp_exporter_table_oid[] = { FP_ROOT_OID, 1, 2, 2 };

struct exp_row {
	netsnmp_index	 idx;		/* first: the container compares these */
	oid		 index[EXP_INDEX_MAX];
	struct exporter	 e;		/* a copy: the snapshot never changes under a walk */
	uint32_t	 templates;
};

/* The module's state; Net-SNMP callbacks reach it through this one pointer. */
static struct {
	struct loop	*loop;
	const struct collector *core;
	netsnmp_container *container;
	struct exp_row	*rows;
	size_t		 nrows;
	const struct exporter **scratch;
	size_t		 capscratch;
	uint64_t	 timer;
} mc;

static uint64_t
col_counter(const struct collector_stats *st, unsigned col)
{
	switch (col) {
	case COL_DATAGRAMS:		return st->datagrams;
	case COL_BYTES:			return st->bytes;
	case COL_DENIED:		return st->denied;
	case COL_KERNEL_DROPS:		return st->kernel_drops;
	case COL_DECODE_ERRORS:		return st->decode_errors;
	case COL_UNKNOWN_VERSION:	return st->unknown_version;
	case COL_EXPORTERS_REFUSED:	return st->exporters_refused;
	case COL_RECORDS:		return st->records;
	case COL_PACKETS:		return st->packets;
	case COL_OCTETS:		return st->octets;
	default:			return tmpl_cache_refused(collector_templates(mc.core));
	}
}

static int
mib_collector_scalars(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	const struct collector_stats *st = collector_stats(mc.core);

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next) {
		/* The scalar-group helper appends "object.0" to rootoid while we run. */
		unsigned col = (unsigned)r->requestvb->name[reginfo->rootoid_len - 2];

		if (col == COL_EXPORTERS)
			mib_set_u32(r->requestvb, ASN_GAUGE,
			    (uint32_t)exporter_count(collector_exporters(mc.core)));
		else if (col == COL_TEMPLATE_BYTES)
			mib_set_u32(r->requestvb, ASN_GAUGE,
			    (uint32_t)tmpl_cache_bytes(collector_templates(mc.core)));
		else
			mib_set_c64(r->requestvb, col_counter(st, col));
	}
	return SNMP_ERR_NOERROR;
}

static void
exp_row_index(struct exp_row *row)
{
	size_t alen = row->e.addr.family == ADDR_V4 ? 4 : 16, n = 0;

	row->index[n++] = row->e.addr.family == ADDR_V4 ? 1 : 2;	/* InetAddressType */
	row->index[n++] = alen;
	for (size_t i = 0; i < alen; i++)
		row->index[n++] = row->e.addr.bytes[i];
	row->index[n++] = row->e.version;
	row->index[n++] = row->e.domain;
	row->idx.oids = row->index;
	row->idx.len = n;
}

void
mib_collector_refresh(void)
{
	const struct exporter_table *t = collector_exporters(mc.core);
	size_t n = exporter_count(t);
	struct exp_row *rows;

	if (n > mc.capscratch) {
		const struct exporter **s = reallocarray(mc.scratch, n, sizeof(*s));

		if (s == NULL)
			return;		/* keep serving the previous snapshot */
		mc.scratch = s;
		mc.capscratch = n;
	}
	if ((rows = calloc(n ? n : 1, sizeof(*rows))) == NULL)
		return;
	n = exporter_sorted(t, mc.scratch, n);
	for (size_t i = 0; i < n; i++) {
		rows[i].e = *mc.scratch[i];
		rows[i].templates = tmpl_cache_count(collector_templates(mc.core),
		    &rows[i].e.addr, rows[i].e.version, rows[i].e.domain);
		exp_row_index(&rows[i]);
	}
	CONTAINER_CLEAR(mc.container, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		CONTAINER_INSERT(mc.container, &rows[i]);
	free(mc.rows);
	mc.rows = rows;
	mc.nrows = n;
}

static void
mib_collector_tick(void *arg, int64_t now)
{
	mib_collector_refresh();
	mc.timer = loop_timer_add(mc.loop, now + REFRESH_NS, mib_collector_tick, NULL);
}

static void
exp_set_value(netsnmp_variable_list *vb, const struct exp_row *row, unsigned col)
{
	const struct exporter *e = &row->e;

	switch (col) {
	case EXP_DATAGRAMS:		mib_set_c64(vb, e->datagrams); break;
	case EXP_BYTES:			mib_set_c64(vb, e->bytes); break;
	case EXP_RECORDS:		mib_set_c64(vb, e->records); break;
	case EXP_PACKETS:		mib_set_c64(vb, e->packets); break;
	case EXP_OCTETS:		mib_set_c64(vb, e->octets); break;
	case EXP_LOST:			mib_set_c64(vb, e->lost); break;
	case EXP_RESETS:		mib_set_u32(vb, ASN_COUNTER, e->resets); break;
	case EXP_TEMPLATES:		mib_set_u32(vb, ASN_GAUGE, row->templates); break;
	case EXP_SETS_WITHOUT_TEMPLATE:	mib_set_c64(vb, e->sets_without_template); break;
	case EXP_MALFORMED_SHORT:	mib_set_c64(vb, e->malformed[DECODE_ERR_SHORT]); break;
	case EXP_MALFORMED_LENGTH:	mib_set_c64(vb, e->malformed[DECODE_ERR_LENGTH]); break;
	case EXP_MALFORMED_SET:		mib_set_c64(vb, e->malformed[DECODE_ERR_SET]); break;
	case EXP_MALFORMED_TEMPLATE:	mib_set_c64(vb, e->malformed[DECODE_ERR_TEMPLATE]); break;
	case EXP_MALFORMED_RECORD:	mib_set_c64(vb, e->malformed[DECODE_ERR_RECORD]); break;
	case EXP_SAMPLING_INTERVAL:	mib_set_u32(vb, ASN_UNSIGNED, e->sampling ? e->sampling : 1); break;
	case EXP_SAMPLING_SOURCE:
		mib_set_u32(vb, ASN_INTEGER, e->sampling_source ? e->sampling_source : SAMPLING_NONE);
		break;
	case EXP_FIRST_SEEN:		mib_set_date_and_time(vb, e->first_seen_ns); break;
	case EXP_LAST_SEEN:		mib_set_date_and_time(vb, e->last_seen_ns); break;
	default:			mib_set_c64(vb, e->reordered); break;
	}
}

static int
mib_exporter_table(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next) {
		const struct exp_row *row;
		netsnmp_table_request_info *ti;

		if (r->processed)
			continue;
		row = netsnmp_container_table_row_extract(r);
		ti = netsnmp_extract_table_info(r);
		if (row == NULL || ti == NULL || ti->colnum < EXP_FIRST || ti->colnum > EXP_LAST) {
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			continue;
		}
		exp_set_value(r->requestvb, row, ti->colnum);
	}
	return SNMP_ERR_NOERROR;
}

void
mib_collector_init(struct loop *loop, const struct collector *core)
{
	mc.loop = loop;
	mc.core = core;
	mib_register_scalars("fpCollectorStats", fp_collector_oid, OID_LENGTH(fp_collector_oid),
	    mib_collector_scalars, COL_DATAGRAMS, COL_LAST);
	/* Index: InetAddressType, InetAddress, version, observation domain. */
	mc.container = mib_register_table("fpExporterTable", fp_exporter_table_oid,
	    OID_LENGTH(fp_exporter_table_oid), mib_exporter_table, NULL, EXP_FIRST, EXP_LAST,
	    ASN_INTEGER, ASN_OCTET_STR, ASN_INTEGER, ASN_UNSIGNED, 0);
	mib_collector_tick(NULL, clock_mono_ns());
}

void
mib_collector_shutdown(void)
{
	if (mc.timer != 0)
		loop_timer_cancel(mc.loop, mc.timer);
	if (mc.container != NULL)
		CONTAINER_CLEAR(mc.container, NULL, NULL);
	free(mc.rows);
	free(mc.scratch);
	mc.rows = NULL;
	mc.scratch = NULL;
}
