#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "fp_root.h"
#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/mib_aggregate.h"
#include "subagent/mib_util.h"

/* name (length + up to 32) + rank, or + key (length + up to KEY_MAX_BYTES) */
#define NAME_OIDS	(1 + CONFIG_NAME_MAX)
#define ROW_OIDS_MAX	(NAME_OIDS + 1 + KEY_MAX_BYTES)

enum { AGG_FIRST = 2, AGG_LAST = 22 };
enum {
	TOP_KEY = 2, TOP_FLOWS, TOP_PACKETS, TOP_OCTETS, TOP_SHARE, TOP_ERROR,
	TOP_ADDR_TYPE, TOP_ADDR, TOP_PREFIX_LEN, TOP_PORT, TOP_PROTO, TOP_AS, TOP_IF,
	TOP_NETWORK, TOP_TOS, TOP_ADDR_TYPE2, TOP_ADDR2, TOP_PORT2, TOP_NETWORK2,
	TOP_FIRST = TOP_KEY, TOP_LAST = TOP_NETWORK2
};
enum { KEYT_TEXT = 2, KEYT_FLOWS, KEYT_PACKETS, KEYT_OCTETS, KEYT_SINCE, KEYT_LAST_TOP,
	KEYT_FIRST = KEYT_TEXT, KEYT_LAST = KEYT_LAST_TOP };

static const oid agg_table_oid[] = { FP_ROOT_OID, 1, 3, 1 };
static const oid top_table_oid[] = { FP_ROOT_OID, 1, 3, 2 };
static const oid key_table_oid[] = { FP_ROOT_OID, 1, 3, 3 };

struct row_index {
	netsnmp_index	 idx;		/* first: the container compares these */
	oid		 oids[ROW_OIDS_MAX];
};

struct agg_row_mib {
	struct row_index i;
	size_t		 view;		/* aggregate_view() index, read live */
};

/* The typed columns of a key: its first (and second) field of each kind. */
struct typed_key {
	int		 addr_type[2];
	uint8_t		 addr[2][16];
	size_t		 addr_len[2];
	uint32_t	 prefix_len;
	uint32_t	 port[2];
	uint32_t	 proto, as, ifindex, tos;
	char		 network[2][CONFIG_NAME_MAX + 1];
};

struct top_row_mib {
	struct row_index i;
	char		 text[KEY_TEXT_MAX];
	struct agg_counts c;
	uint64_t	 error;
	uint32_t	 share;		/* hundredths of a percent */
	struct typed_key t;
};

struct key_row_mib {
	struct row_index i;
	char		 text[KEY_TEXT_MAX];
	struct agg_retained r;
};

/* The module's state; Net-SNMP callbacks reach it through this one pointer. */
static struct {
	struct aggregate *aggs;
	netsnmp_container *c_agg, *c_top, *c_key;
	struct agg_row_mib *agg_rows;
	struct top_row_mib *top_rows;
	struct key_row_mib *key_rows;
} ma;

static size_t
index_name(oid *o, const char *name)
{
	size_t n = strlen(name), k = 0;

	o[k++] = n;
	for (size_t j = 0; j < n; j++)
		o[k++] = (unsigned char)name[j];
	return k;
}

static void
row_index_set(struct row_index *ri, size_t len)
{
	ri->idx.oids = ri->oids;
	ri->idx.len = len;
}

static uint32_t
get_be(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void
typed_address(struct typed_key *t, int *naddr, const uint8_t *p)
{
	int k = *naddr;

	if (k >= 2 || p[0] == 0)
		return;
	t->addr_type[k] = p[0] == 4 ? 1 : 2;
	t->addr_len[k] = p[0] == 4 ? 4 : 16;
	memcpy(t->addr[k], p + 1, t->addr_len[k]);
	*naddr = k + 1;
}

static void
typed_fill(const struct agg_view *v, const uint8_t *key, struct typed_key *t)
{
	int naddr = 0, nport = 0, nnet = 0;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < v->spec.nfields; i++) {
		const uint8_t *p = key + key_field_offset(&v->spec, i);

		switch (v->spec.field[i]) {
		case KEY_SRC_ADDR: case KEY_DST_ADDR: case KEY_NEXT_HOP: case KEY_EXPORTER:
			typed_address(t, &naddr, p);
			break;
		case KEY_SRC_PREFIX: case KEY_DST_PREFIX:
			if (naddr == 0 && p[0] != 0) {
				t->addr_type[0] = p[0] == 4 ? 1 : 2;
				t->addr_len[0] = p[0] == 4 ? 4 : 16;
				memcpy(t->addr[0], p + 2, t->addr_len[0]);
				t->prefix_len = p[1];
				naddr = 1;
			}
			break;
		case KEY_SRC_PORT: case KEY_DST_PORT:
			if (nport < 2)
				t->port[nport++] = get_be(p, 2);
			break;
		case KEY_PROTO:
			t->proto = p[0];
			break;
		case KEY_TOS:
			t->tos = p[0];
			break;
		case KEY_SRC_AS: case KEY_DST_AS:
			if (t->as == 0)
				t->as = get_be(p, 4);
			break;
		case KEY_IN_IF: case KEY_OUT_IF:
			if (t->ifindex == 0)
				t->ifindex = get_be(p, 4);
			break;
		case KEY_SRC_NETWORK: case KEY_DST_NETWORK:
			if (nnet < 2)
				snprintf(t->network[nnet++], sizeof(t->network[0]), "%s",
				    aggregate_network_name((uint16_t)get_be(p, 2), ma.aggs));
			break;
		default:
			break;
		}
	}
}

static void
key_text(const struct agg_view *v, const uint8_t *key, char *buf, size_t len)
{
	key_format(&v->spec, key, aggregate_network_name, ma.aggs, buf, len);
}

static uint32_t
share_of(uint64_t part, uint64_t total)
{
	if (total == 0)
		return 0;
	return (uint32_t)((long double)part * 10000.0L / (long double)total + 0.5L);
}

static size_t
count_rows(size_t *ntop, size_t *nkey)
{
	size_t n = aggregate_count(ma.aggs);

	*ntop = *nkey = 0;
	for (size_t i = 0; i < n; i++) {
		const struct agg_view *v = aggregate_view(ma.aggs, i);
		const struct agg_retained *r;

		if (v->last != NULL)
			*ntop += v->last->nrows;
		*nkey += agg_retained(v->agg, &r);
	}
	return n;
}

static void
fill_top(size_t *t, size_t vi, const struct agg_view *v)
{
	for (size_t r = 0; v->last != NULL && r < v->last->nrows; r++) {
		struct top_row_mib *row = &ma.top_rows[(*t)++];
		const struct agg_row *ar = &v->last->rows[r];
		size_t k = index_name(row->i.oids, v->name);

		(void)vi;
		row->i.oids[k++] = r + 1;
		row_index_set(&row->i, k);
		key_text(v, ar->key, row->text, sizeof(row->text));
		row->c = ar->c;
		row->error = ar->error;
		row->share = share_of(ar->c.octets, v->last->total.octets);
		typed_fill(v, ar->key, &row->t);
	}
}

static void
fill_keys(size_t *t, const struct agg_view *v)
{
	const struct agg_retained *rr;
	size_t n = agg_retained(v->agg, &rr);

	for (size_t r = 0; r < n; r++) {
		struct key_row_mib *row = &ma.key_rows[(*t)++];
		size_t k = index_name(row->i.oids, v->name);

		row->i.oids[k++] = v->keylen;
		for (size_t b = 0; b < v->keylen; b++)
			row->i.oids[k++] = rr[r].key[b];
		row_index_set(&row->i, k);
		key_text(v, rr[r].key, row->text, sizeof(row->text));
		row->r = rr[r];
		row->r.key = NULL;	/* the engine's memory is not ours to keep */
	}
}

/* The hook: after every close and apply; no request is served meanwhile. */
static void
mib_aggregate_rebuild(void *arg)
{
	size_t ntop, nkey, n = count_rows(&ntop, &nkey), t = 0, k = 0;
	struct agg_row_mib *agg_rows = calloc(n ? n : 1, sizeof(*agg_rows));
	struct top_row_mib *top_rows = calloc(ntop ? ntop : 1, sizeof(*top_rows));
	struct key_row_mib *key_rows = calloc(nkey ? nkey : 1, sizeof(*key_rows));

	(void)arg;
	CONTAINER_CLEAR(ma.c_agg, NULL, NULL);
	CONTAINER_CLEAR(ma.c_top, NULL, NULL);
	CONTAINER_CLEAR(ma.c_key, NULL, NULL);
	free(ma.agg_rows);
	free(ma.top_rows);
	free(ma.key_rows);
	ma.agg_rows = agg_rows;
	ma.top_rows = top_rows;
	ma.key_rows = key_rows;
	if (agg_rows == NULL || top_rows == NULL || key_rows == NULL) {
		log_warnx("aggregation tables: out of memory; tables empty until the next close");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct agg_view *v = aggregate_view(ma.aggs, i);

		agg_rows[i].view = i;
		row_index_set(&agg_rows[i].i, index_name(agg_rows[i].i.oids, v->name));
		CONTAINER_INSERT(ma.c_agg, &agg_rows[i]);
		fill_top(&t, i, v);
		fill_keys(&k, v);
	}
	for (size_t i = 0; i < t; i++)
		CONTAINER_INSERT(ma.c_top, &top_rows[i]);
	for (size_t i = 0; i < k; i++)
		CONTAINER_INSERT(ma.c_key, &key_rows[i]);
}

static void
set_tv(netsnmp_variable_list *vb, bool b)
{
	mib_set_u32(vb, ASN_INTEGER, b ? 1 : 2);	/* TruthValue */
}

static void
agg_value(netsnmp_variable_list *vb, const struct agg_view *v, unsigned col)
{
	const struct agg_snapshot *l = v->last;
	struct agg_counts run = agg_running(v->agg), none = { 0 };
	const struct agg_counts *tot = l ? &l->total : &none, *oth = l ? &l->other : &none;

	switch (col) {
	case 2:	mib_set_string(vb, v->key_fields); break;
	case 3:	mib_set_string(vb, v->filter_text ? v->filter_text : ""); break;
	case 4:	mib_set_u32(vb, ASN_UNSIGNED, v->interval); break;
	case 5:	mib_set_u32(vb, ASN_UNSIGNED, v->top); break;
	case 6:	mib_set_u32(vb, ASN_UNSIGNED, v->capacity); break;
	case 7:	mib_set_date_and_time(vb, l ? l->start_ms * CLOCK_NS_PER_MS : 0); break;
	case 8:	mib_set_date_and_time(vb, l ? l->end_ms * CLOCK_NS_PER_MS : 0); break;
	case 9:	mib_set_u32(vb, ASN_GAUGE, l ? l->keys : 0); break;
	case 10: set_tv(vb, l == NULL || l->evictions == 0); break;
	case 11: mib_set_c64(vb, agg_evictions_total(v->agg)); break;
	case 12: mib_set_c64(vb, tot->flows); break;
	case 13: mib_set_c64(vb, tot->packets); break;
	case 14: mib_set_c64(vb, tot->octets); break;
	case 15: mib_set_c64(vb, oth->flows); break;
	case 16: mib_set_c64(vb, oth->packets); break;
	case 17: mib_set_c64(vb, oth->octets); break;
	case 18: mib_set_c64(vb, run.flows); break;
	case 19: mib_set_c64(vb, run.packets); break;
	case 20: mib_set_c64(vb, run.octets); break;
	case 21: mib_set_u32(vb, ASN_GAUGE, agg_running_keys(v->agg)); break;
	default: mib_set_u32(vb, ASN_UNSIGNED, v->retention); break;
	}
}

static void
set_addr(netsnmp_variable_list *vb, const struct typed_key *t, int k)
{
	snmp_set_var_typed_value(vb, ASN_OCTET_STR, t->addr[k], t->addr_len[k]);
}

static void
top_value(netsnmp_variable_list *vb, const struct top_row_mib *r, unsigned col)
{
	switch (col) {
	case TOP_KEY:		mib_set_string(vb, r->text); break;
	case TOP_FLOWS:		mib_set_c64(vb, r->c.flows); break;
	case TOP_PACKETS:	mib_set_c64(vb, r->c.packets); break;
	case TOP_OCTETS:	mib_set_c64(vb, r->c.octets); break;
	case TOP_SHARE:		mib_set_u32(vb, ASN_UNSIGNED, r->share); break;
	case TOP_ERROR:		mib_set_c64(vb, r->error); break;
	case TOP_ADDR_TYPE:	mib_set_u32(vb, ASN_INTEGER, (uint32_t)r->t.addr_type[0]); break;
	case TOP_ADDR:		set_addr(vb, &r->t, 0); break;
	case TOP_PREFIX_LEN:	mib_set_u32(vb, ASN_UNSIGNED, r->t.prefix_len); break;
	case TOP_PORT:		mib_set_u32(vb, ASN_UNSIGNED, r->t.port[0]); break;
	case TOP_PROTO:		mib_set_u32(vb, ASN_UNSIGNED, r->t.proto); break;
	case TOP_AS:		mib_set_u32(vb, ASN_UNSIGNED, r->t.as); break;
	case TOP_IF:		mib_set_u32(vb, ASN_UNSIGNED, r->t.ifindex); break;
	case TOP_NETWORK:	mib_set_string(vb, r->t.network[0]); break;
	case TOP_TOS:		mib_set_u32(vb, ASN_UNSIGNED, r->t.tos); break;
	case TOP_ADDR_TYPE2:	mib_set_u32(vb, ASN_INTEGER, (uint32_t)r->t.addr_type[1]); break;
	case TOP_ADDR2:		set_addr(vb, &r->t, 1); break;
	case TOP_PORT2:		mib_set_u32(vb, ASN_UNSIGNED, r->t.port[1]); break;
	default:		mib_set_string(vb, r->t.network[1]); break;
	}
}

static void
key_value(netsnmp_variable_list *vb, const struct key_row_mib *r, unsigned col)
{
	switch (col) {
	case KEYT_TEXT:		mib_set_string(vb, r->text); break;
	case KEYT_FLOWS:	mib_set_c64(vb, r->r.total.flows); break;
	case KEYT_PACKETS:	mib_set_c64(vb, r->r.total.packets); break;
	case KEYT_OCTETS:	mib_set_c64(vb, r->r.total.octets); break;
	case KEYT_SINCE:	mib_set_date_and_time(vb, r->r.since_ms * CLOCK_NS_PER_MS); break;
	default:		mib_set_date_and_time(vb, r->r.last_top_ms * CLOCK_NS_PER_MS); break;
	}
}

enum table_kind { T_AGG, T_TOP, T_KEY };

static int
table_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	enum table_kind kind = (enum table_kind)(uintptr_t)handler->myvoid;

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next) {
		const void *row;
		netsnmp_table_request_info *ti;

		if (r->processed)
			continue;
		row = netsnmp_container_table_row_extract(r);
		ti = netsnmp_extract_table_info(r);
		if (row == NULL || ti == NULL) {
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
			continue;
		}
		if (kind == T_AGG)
			agg_value(r->requestvb, aggregate_view(ma.aggs,
			    ((const struct agg_row_mib *)row)->view), ti->colnum);
		else if (kind == T_TOP)
			top_value(r->requestvb, row, ti->colnum);
		else
			key_value(r->requestvb, row, ti->colnum);
	}
	return SNMP_ERR_NOERROR;
}

void
mib_aggregate_init(struct aggregate *aggs)
{
	ma.aggs = aggs;
	/* The table handler's own myvoid tells which table a request is for. */
	ma.c_agg = mib_register_table("fpAggTable", agg_table_oid, OID_LENGTH(agg_table_oid),
	    table_handler, (void *)(uintptr_t)T_AGG, AGG_FIRST, AGG_LAST, ASN_OCTET_STR, 0);
	ma.c_top = mib_register_table("fpTopTable", top_table_oid, OID_LENGTH(top_table_oid),
	    table_handler, (void *)(uintptr_t)T_TOP, TOP_FIRST, TOP_LAST, ASN_OCTET_STR,
	    ASN_UNSIGNED, 0);
	ma.c_key = mib_register_table("fpKeyTable", key_table_oid, OID_LENGTH(key_table_oid),
	    table_handler, (void *)(uintptr_t)T_KEY, KEYT_FIRST, KEYT_LAST, ASN_OCTET_STR,
	    ASN_OCTET_STR, 0);
	aggregate_set_hook(aggs, mib_aggregate_rebuild, NULL);
	mib_aggregate_rebuild(NULL);
}

void
mib_aggregate_shutdown(void)
{
	if (ma.aggs != NULL)
		aggregate_set_hook(ma.aggs, NULL, NULL);
	if (ma.c_agg != NULL) {
		CONTAINER_CLEAR(ma.c_agg, NULL, NULL);
		CONTAINER_CLEAR(ma.c_top, NULL, NULL);
		CONTAINER_CLEAR(ma.c_key, NULL, NULL);
	}
	free(ma.agg_rows);
	free(ma.top_rows);
	free(ma.key_rows);
	ma.agg_rows = NULL;
	ma.top_rows = NULL;
	ma.key_rows = NULL;
}
