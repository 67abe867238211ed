#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "fp_root.h"
#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/mib_alarm.h"
#include "subagent/mib_util.h"

#define NAME_OIDS	(1 + CONFIG_NAME_MAX)
#define DECIMAL_MAX	32	/* FpDecimal */
#define TEXT_MAX	255	/* DisplayString */

enum {
	RULE_WHEN = 2, RULE_CLEAR, RULE_FOR, RULE_CLEAR_FOR, RULE_INTERVAL, RULE_SEVERITY,
	RULE_DESCRIPTION, RULE_STATE, RULE_LAST_VALUE, RULE_LAST_EVAL, RULE_FIRE_COUNT,
	RULE_INSTANCES, RULE_FIRING, RULE_ERROR,
	RULE_FIRST = RULE_WHEN, RULE_LAST = RULE_ERROR
};
enum {
	AL_RULE = 2, AL_INSTANCE, AL_SEVERITY, AL_STATE, AL_SINCE, AL_VALUE,
	AL_FIRST = AL_RULE, AL_LAST = AL_VALUE
};
enum {
	ST_SENT = 1, ST_SUPPRESSED, ST_QUEUE_DROPS, ST_QUEUE_LENGTH, ST_ACTIVE,
	ST_INSTANCES_REFUSED, ST_LAST = ST_INSTANCES_REFUSED
};

static const oid rule_table_oid[] = { FP_ROOT_OID, 1, 5, 1 };
static const oid alarm_table_oid[] = { FP_ROOT_OID, 1, 5, 2 };
static const oid stats_oid[] = { FP_ROOT_OID, 1, 5, 3 };
static const oid rule_entry_oid[] = { FP_ROOT_OID, 1, 5, 1, 1 };
static const oid alarm_entry_oid[] = { FP_ROOT_OID, 1, 5, 2, 1 };
static const oid suppressed_count_oid[] = { FP_ROOT_OID, 1, 5, 4, 1, 0 };
static const oid raised_oid[] = { FP_ROOT_OID, 0, 1 };
static const oid cleared_oid[] = { FP_ROOT_OID, 0, 2 };
static const oid summary_oid[] = { FP_ROOT_OID, 0, 3 };

struct rule_row {
	netsnmp_index	 idx;		/* first: the container compares these */
	oid		 oids[NAME_OIDS];
	size_t		 i;		/* rules_info() index */
};

struct alarm_row {
	netsnmp_index	 idx;
	oid		 oids[1];
	uint32_t	 id;
};

/* The module's state; Net-SNMP callbacks reach it through this one pointer. */
static struct {
	struct rules	*rules;
	struct notify	*notify;
	netsnmp_container *c_rule, *c_alarm;
	struct rule_row	*rule_rows;
	struct alarm_row *alarm_rows;
} ml;

/* FpDecimal: integers as integers, others with 9 significant digits. */
static void
decimal(char buf[DECIMAL_MAX + 1], bool has, double v)
{
	if (!has || !isfinite(v))
		buf[0] = '\0';
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)	/* 2^53 */
		snprintf(buf, DECIMAL_MAX + 1, "%.0f", v == 0 ? 0.0 : v);
	else
		snprintf(buf, DECIMAL_MAX + 1, "%.9g", v);
}

static void
set_decimal(netsnmp_variable_list *vb, bool has, double v)
{
	char buf[DECIMAL_MAX + 1];

	decimal(buf, has, v);
	mib_set_string(vb, buf);
}

/* Unsigned32 milliseconds, saturating. */
static uint32_t
ms(int64_t ns)
{
	int64_t v = ns / CLOCK_NS_PER_MS;

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int64_t
wall_of(int64_t mono_ns)
{
	return clock_wall_ns() - (clock_mono_ns() - mono_ns);
}

/* length + bytes, as fpAggName; names are at most CONFIG_NAME_MAX. */
static size_t
name_index(oid *o, const char *name)
{
	size_t n = strnlen(name, CONFIG_NAME_MAX), k = 0;

	o[k++] = n;
	for (size_t j = 0; j < n; j++)
		o[k++] = (unsigned char)name[j];
	return k;
}

static void
clear_rows(void)
{
	if (ml.c_rule != NULL) {
		CONTAINER_CLEAR(ml.c_rule, NULL, NULL);
		CONTAINER_CLEAR(ml.c_alarm, NULL, NULL);
	}
	free(ml.rule_rows);
	free(ml.alarm_rows);
	ml.rule_rows = NULL;
	ml.alarm_rows = NULL;
}

/* The hook: after every apply and whenever alarms come or go. */
static void
mib_alarm_rebuild(void *arg)
{
	size_t nr = rules_count(ml.rules), na = rules_active_count(ml.rules);
	struct rule_row *rr = calloc(nr ? nr : 1, sizeof(*rr));
	struct alarm_row *ar = calloc(na ? na : 1, sizeof(*ar));
	struct rule_info ri;
	struct alarm_info ai;

	(void)arg;
	clear_rows();
	ml.rule_rows = rr;
	ml.alarm_rows = ar;
	if (rr == NULL || ar == NULL) {
		log_warnx("fpRuleTable, fpAlarmTable: out of memory; empty until the next change");
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		rules_info(ml.rules, i, &ri);
		rr[i].i = i;
		rr[i].idx.oids = rr[i].oids;
		rr[i].idx.len = name_index(rr[i].oids, ri.name);
		CONTAINER_INSERT(ml.c_rule, &rr[i]);
	}
	for (size_t i = 0; i < na; i++) {
		rules_active(ml.rules, i, &ai);
		ar[i].id = ai.id;
		ar[i].oids[0] = ai.id;
		ar[i].idx.oids = ar[i].oids;
		ar[i].idx.len = 1;
		CONTAINER_INSERT(ml.c_alarm, &ar[i]);
	}
}

static void
rule_value(netsnmp_variable_list *vb, const struct rule_info *r, unsigned col)
{
	switch (col) {
	case RULE_WHEN:		mib_set_string(vb, r->when); break;
	case RULE_CLEAR:	mib_set_string(vb, r->clear); break;
	case RULE_FOR:		mib_set_u32(vb, ASN_UNSIGNED, ms(r->for_ns)); break;
	case RULE_CLEAR_FOR:	mib_set_u32(vb, ASN_UNSIGNED, ms(r->clear_for_ns)); break;
	case RULE_INTERVAL:	mib_set_u32(vb, ASN_UNSIGNED, ms(r->interval_ns)); break;
	case RULE_SEVERITY:	mib_set_u32(vb, ASN_INTEGER, r->severity); break;
	case RULE_DESCRIPTION:	mib_set_string(vb, r->description); break;
	case RULE_STATE:	mib_set_u32(vb, ASN_INTEGER, (uint32_t)r->state); break;
	case RULE_LAST_VALUE:	set_decimal(vb, r->has_value, r->value); break;
	case RULE_LAST_EVAL:	mib_set_date_and_time(vb, r->last_eval_wall_ns); break;
	case RULE_FIRE_COUNT:	mib_set_c64(vb, r->fire_count); break;
	case RULE_INSTANCES:	mib_set_u32(vb, ASN_GAUGE, r->instances); break;
	case RULE_FIRING:	mib_set_u32(vb, ASN_GAUGE, r->firing); break;
	default:		mib_set_string(vb, r->error); break;
	}
}

static void
alarm_value(netsnmp_variable_list *vb, const struct alarm_info *a, unsigned col)
{
	switch (col) {
	case AL_RULE:		mib_set_string(vb, a->rule); break;
	case AL_INSTANCE:	mib_set_string(vb, a->instance); break;
	case AL_SEVERITY:	mib_set_u32(vb, ASN_INTEGER, a->severity); break;
	case AL_STATE:		mib_set_u32(vb, ASN_INTEGER, a->state); break;
	case AL_SINCE:		mib_set_date_and_time(vb, wall_of(a->since_mono_ns)); break;
	default:		set_decimal(vb, a->has_value, a->value); break;
	}
}

static int
table_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	bool rule_table = handler->myvoid != NULL;

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next) {
		const void *row;
		netsnmp_table_request_info *ti;
		struct rule_info ri;
		struct alarm_info ai;

		if (r->processed)
			continue;
		row = netsnmp_container_table_row_extract(r);
		ti = netsnmp_extract_table_info(r);
		if (row != NULL && ti != NULL && rule_table) {
			rules_info(ml.rules, ((const struct rule_row *)row)->i, &ri);
			rule_value(r->requestvb, &ri, ti->colnum);
		} else if (row != NULL && ti != NULL &&
		    rules_alarm(ml.rules, ((const struct alarm_row *)row)->id, &ai))
			alarm_value(r->requestvb, &ai, ti->colnum);
		else
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
	}
	return SNMP_ERR_NOERROR;
}

static int
stats_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
    netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	struct notify_stats ns;
	struct rules_stats rs;

	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	notify_get_stats(ml.notify, &ns);
	rules_get_stats(ml.rules, &rs);
	for (netsnmp_request_info *r = requests; r != NULL; r = r->next) {
		netsnmp_variable_list *vb = r->requestvb;

		/* The scalar-group helper appends "object.0" to rootoid while we run. */
		switch (vb->name[reginfo->rootoid_len - 2]) {
		case ST_SENT:			mib_set_c64(vb, ns.sent); break;
		case ST_SUPPRESSED:		mib_set_c64(vb, rs.suppressed); break;
		case ST_QUEUE_DROPS:		mib_set_c64(vb, ns.dropped); break;
		case ST_QUEUE_LENGTH:		mib_set_u32(vb, ASN_GAUGE, ns.queued); break;
		case ST_ACTIVE:			mib_set_u32(vb, ASN_GAUGE, rs.active); break;
		case ST_INSTANCES_REFUSED:	mib_set_c64(vb, rs.instances_refused); break;
		default:
			netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
			break;
		}
	}
	return SNMP_ERR_NOERROR;
}

/* Appends entry.col.index = value (a string, or an integer when s is NULL). */
static bool
add_column(netsnmp_variable_list **vars, const oid *entry, size_t elen, unsigned col,
    const oid *index, size_t ilen, const char *s, long i)
{
	oid name[MAX_OID_LEN];
	size_t slen;

	if (elen + 1 + ilen > MAX_OID_LEN)
		return false;
	memcpy(name, entry, elen * sizeof(oid));
	name[elen] = col;
	memcpy(name + elen + 1, index, ilen * sizeof(oid));
	if (s == NULL)
		return snmp_varlist_add_variable(vars, name, elen + 1 + ilen, ASN_INTEGER,
		    &i, sizeof(i)) != NULL;
	if ((slen = strlen(s)) > TEXT_MAX)
		slen = TEXT_MAX;
	return snmp_varlist_add_variable(vars, name, elen + 1 + ilen, ASN_OCTET_STR,
	    s, slen) != NULL;
}

/*
 * fpAlarmRaised and fpAlarmCleared: fpAlarmRule, fpAlarmInstance,
 * fpAlarmSeverity, fpAlarmValue (index: the alarm id) and fpRuleWhen
 * (index: the rule name), as the NOTIFICATION-TYPEs list them.
 */
static netsnmp_variable_list *
alarm_notification(const struct rules_event *e)
{
	netsnmp_variable_list *vars;
	oid id[1] = { e->alarm_id }, rule[NAME_OIDS];
	size_t rlen = name_index(rule, e->rule);
	char value[DECIMAL_MAX + 1], name[CONFIG_NAME_MAX + 1];
	const char *when = e->when;
	size_t wlen;
	oid wname[MAX_OID_LEN];

	if (e->kind == RULES_RAISED)
		vars = notify_vars_new(raised_oid, OID_LENGTH(raised_oid));
	else
		vars = notify_vars_new(cleared_oid, OID_LENGTH(cleared_oid));
	snprintf(name, sizeof(name), "%s", e->rule);
	decimal(value, e->has_value, e->value);
	if (vars == NULL ||
	    !add_column(&vars, alarm_entry_oid, OID_LENGTH(alarm_entry_oid), AL_RULE, id, 1,
	    name, 0) ||
	    !add_column(&vars, alarm_entry_oid, OID_LENGTH(alarm_entry_oid), AL_INSTANCE, id, 1,
	    e->instance, 0) ||
	    !add_column(&vars, alarm_entry_oid, OID_LENGTH(alarm_entry_oid), AL_SEVERITY, id, 1,
	    NULL, e->severity) ||
	    !add_column(&vars, alarm_entry_oid, OID_LENGTH(alarm_entry_oid), AL_VALUE, id, 1,
	    value, 0))
		goto fail;
	/* fpRuleWhen: up to 4096 octets (FpRuleText), not cut at 255. */
	wlen = OID_LENGTH(rule_entry_oid);
	memcpy(wname, rule_entry_oid, sizeof(rule_entry_oid));
	wname[wlen++] = RULE_WHEN;
	memcpy(wname + wlen, rule, rlen * sizeof(oid));
	if (snmp_varlist_add_variable(&vars, wname, wlen + rlen, ASN_OCTET_STR, when,
	    strnlen(when, EXPR_MAX_LEN)) == NULL)
		goto fail;
	return vars;
fail:
	snmp_free_varbind(vars);
	return NULL;
}

static netsnmp_variable_list *
summary_notification(const struct rules_event *e)
{
	netsnmp_variable_list *vars = notify_vars_new(summary_oid, OID_LENGTH(summary_oid));
	oid act[] = { FP_ROOT_OID, 1, 5, 3, ST_ACTIVE, 0 };
	u_long count = e->suppressed > UINT32_MAX ? UINT32_MAX : (u_long)e->suppressed;
	u_long active = e->active;

	/* No Counter64 here: an SNMPv1 trap cannot carry one (RFC 3584 section 3.1). */
	if (vars == NULL ||
	    snmp_varlist_add_variable(&vars, suppressed_count_oid, OID_LENGTH(suppressed_count_oid),
	    ASN_UNSIGNED, &count, sizeof(count)) == NULL ||
	    snmp_varlist_add_variable(&vars, act, OID_LENGTH(act), ASN_GAUGE, &active,
	    sizeof(active)) == NULL) {
		snmp_free_varbind(vars);
		return NULL;
	}
	return vars;
}

/* The rules' sink: one notification per event, into the paced queue. */
static void
mib_alarm_event(void *arg, const struct rules_event *e)
{
	netsnmp_variable_list *vars;

	(void)arg;
	vars = e->kind == RULES_SUMMARY ? summary_notification(e) : alarm_notification(e);
	if (e->kind == RULES_SUMMARY)
		log_warnx("alarm notifications: %llu held back by the rate limit (alarms.notify_rate)",
		    (unsigned long long)e->suppressed);
	else
		log_info("alarm %u %s: rule %s%s%s", e->alarm_id,
		    e->kind == RULES_RAISED ? "raised" : "cleared", e->rule,
		    e->instance[0] != '\0' ? ", instance " : "", e->instance);
	notify_queue(ml.notify, vars);
}

void
mib_alarm_init(struct rules *rules, struct notify *notify)
{
	ml.rules = rules;
	ml.notify = notify;
	/* myvoid non-NULL for the rule table: tells the shared handler which table it serves. */
	ml.c_rule = mib_register_table("fpRuleTable", rule_table_oid,
	    OID_LENGTH(rule_table_oid), table_handler, &ml, RULE_FIRST, RULE_LAST,
	    ASN_OCTET_STR, 0);
	ml.c_alarm = mib_register_table("fpAlarmTable", alarm_table_oid,
	    OID_LENGTH(alarm_table_oid), table_handler, NULL, AL_FIRST, AL_LAST, ASN_UNSIGNED, 0);
	mib_register_scalars("fpAlarmStats", stats_oid, OID_LENGTH(stats_oid), stats_handler, 1,
	    ST_LAST);
	rules_set_hook(rules, mib_alarm_rebuild, NULL);
	rules_set_sink(rules, mib_alarm_event, NULL);
	mib_alarm_rebuild(NULL);
}

void
mib_alarm_shutdown(void)
{
	if (ml.rules != NULL) {
		rules_set_hook(ml.rules, NULL, NULL);
		rules_set_sink(ml.rules, NULL, NULL);
	}
	clear_rows();
}
