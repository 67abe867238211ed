/*
 * flowpathd configuration: libconfig file -> validated struct fp_config.
 *
 * config_load() reads and validates the whole file and collects every error
 * as "file:line: setting: reason"; it returns NULL when there is at least one
 * error, so a configuration is either applied whole or not at all.
 */
#ifndef FP_CONFIG_H
#define FP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/addr.h"
#include "engine/key.h"

#define CONFIG_NAME_MAX 32	/* names index MIB rows: SnmpAdminString(SIZE(1..32)) */
#define CONFIG_MAX_ERRORS 100	/* a hostile file cannot make the list grow without bound */

/* Bounds on what a file may ask for; docs/configuration.md lists them. */
#define CONFIG_FILE_MAX		(64L * 1024 * 1024)	/* bytes of the main file */
#define CONFIG_MAX_LISTEN	64	/* sockets per listen list */
#define CONFIG_MAX_PREFIXES	100000	/* per network, and collector.allow */
#define CONFIG_MAX_NETWORKS	1000
#define CONFIG_MAX_AGGREGATIONS	1000
#define CONFIG_MAX_PROBES	10000
#define CONFIG_MAX_CAPTURES	64
#define CONFIG_MAX_EXPORTERS	10000	/* collector.exporters entries */
#define CONFIG_MAX_RULES	10000
#define CONFIG_PATH_MAX		4095	/* file and directory names */
#define CONFIG_EXPR_MAX		4096	/* filter, when, clear */
#define CONFIG_DESCR_MAX	255	/* description: a DisplayString in the MIB */
#define CONFIG_IFNAME_MAX	15	/* IFNAMSIZ - 1 on Linux */
#define CONFIG_DEFAULT_AGENTX	"unix:/var/agentx/master"	/* Net-SNMP's default */
#define CONFIG_DEFAULT_COMMUNITY "public"
#define CONFIG_COMMUNITY_MAX	64	/* characters of agent.community */
#define CONFIG_MAX_AGENT_ALLOW	64	/* agent.allow: one VACM source entry each */
#define CONFIG_MAX_TRAP_SINKS	16	/* agent.trap_sink */

struct config_errors {
	char	*msg[CONFIG_MAX_ERRORS];
	size_t	 count;		/* errors stored */
	size_t	 dropped;	/* errors beyond CONFIG_MAX_ERRORS */
};

struct cfg_network {
	char		 name[CONFIG_NAME_MAX + 1];
	struct addr_prefix *prefixes;
	size_t		 nprefixes;
};

#define CFG_AGG_KEY_COUNT KEY_FIELD_COUNT
#define CFG_AGG_MAX_KEYS 4

struct cfg_aggregation {
	char		 name[CONFIG_NAME_MAX + 1];
	enum key_field	 key[CFG_AGG_MAX_KEYS];
	size_t		 nkeys;
	char		*filter;	/* NULL: every flow; parsed by engine/ later */
	uint32_t	 interval;	/* seconds, default 300 */
	uint32_t	 top;		/* default 100 */
	uint32_t	 capacity;	/* keys tracked exactly, default 100000 */
	uint32_t	 retention;	/* seconds a key keeps its stable row after leaving the top N, default 3600 */
};

/* A per-exporter setting: the sampling rate to apply whatever the exporter announces. */
struct cfg_exporter {
	struct addr	 address;
	uint32_t	 sampling;	/* 1 in N; 1 = unsampled */
};

enum cfg_probe_type { PROBE_ICMP, PROBE_UDP, PROBE_TCP };

struct cfg_probe {
	char		 name[CONFIG_NAME_MAX + 1];
	enum cfg_probe_type type;
	struct addr_endpoint target;	/* port 0 for icmp */
	int64_t		 interval_ns;	/* default 1 s */
	int64_t		 timeout_ns;	/* default 3 s (RFC 7680) */
	uint32_t	 size;		/* payload bytes, default 56 */
	uint8_t		 tos;		/* default 0; dscp << 2 when dscp is set */
	uint8_t		 dscp;		/* as configured (0..63); only tos is used */
	int64_t		 window_ns;	/* statistics window, default 60 s, >= interval_ns */
};

struct cfg_capture {
	char		 name[CONFIG_NAME_MAX + 1];
	char		*interface;	/* exactly one of interface and file */
	char		*file;
	bool		 flows;
	bool		 tcp_rtt;
};

enum cfg_severity { SEV_WARNING, SEV_CRITICAL };

struct cfg_rule {
	char		 name[CONFIG_NAME_MAX + 1];
	char		*when;		/* expression text (engine/expr.h), compiled at load */
	char		*clear;		/* NULL: clears when `when` stops holding */
	char		*critical;	/* NULL: the alarm keeps `severity` */
	int64_t		 for_ns;
	int64_t		 clear_for_ns;
	int64_t		 reminder_ns;	/* 0: no reminders */
	int64_t		 interval_ns;	/* between evaluations, default 1 s */
	enum cfg_severity severity;
	char		*description;
};

/* Names of the built-in alarms' rules (reserved while the alarm is on). */
#define CONFIG_BUILTIN_EXPORTER_SILENT	"exporter-silent"
#define CONFIG_BUILTIN_EXPORTER_LOSS	"exporter-loss"
#define CONFIG_BUILTIN_KERNEL_DROPS	"kernel-drops"
#define CONFIG_BUILTIN_PROBE_UNREACHABLE "probe-unreachable"

struct fp_config {
	char		*file;

	struct {
		char	*socket;	/* "tcp:HOST:PORT" or "unix:PATH" */
		uint32_t ping_interval;	/* seconds between reconnect attempts, default 5 */
		uint32_t timeout;	/* seconds, default 1 */
		uint32_t retries;	/* default 5 */
	} agentx;

	/* The standalone agent (agent.listen set): read-only SNMPv1/v2c. */
	struct {
		char	*listen;	/* NULL: no standalone agent (AgentX only) */
		char	*community;	/* default "public" */
		struct addr_prefix *allow;	/* sources answered; absent: 127.0.0.0/8, ::1/128 */
		size_t	 nallow;	/* >= 1 after config_load() */
		struct addr_endpoint *trap_sink;	/* SNMPv2c notification targets */
		size_t	 ntrap_sink;
	} agent;

	struct {
		char	*pidfile;	/* default RUNSTATEDIR "/flowpathd.pid"; "" for none */
		char	*log_level;	/* "debug" | "info" | "warning" | "error", default "info" */
		char	*state_file;	/* alarm states across restarts; "" for none */
	} daemon;

	struct {
		struct addr_endpoint *listen;
		size_t		 nlisten;
		struct addr_prefix *allow;	/* empty: every source is accepted */
		size_t		 nallow;
		uint32_t	 receive_buffer;	/* bytes, 0 = kernel default */
		uint32_t	 max_exporters;		/* default 10000 */
		uint32_t	 max_templates;		/* per exporter and domain, default 256 */
		uint32_t	 max_template_bytes;	/* all templates, default 16 MiB */
		struct cfg_exporter *exporters;
		size_t		 nexporters;
	} collector;

	struct cfg_network *networks;
	size_t		 nnetworks;
	struct cfg_aggregation *aggregations;
	size_t		 naggregations;
	struct cfg_probe *probes;
	size_t		 nprobes;
	struct {
		struct addr_endpoint *listen;
		size_t		 nlisten;
	} reflector;
	struct cfg_capture *captures;
	size_t		 ncaptures;
	struct {
		char	*directory;	/* NULL: no archive */
	} archive;
	struct cfg_rule	*rules;
	size_t		 nrules;

	/* Built-in alarms, notification limits, bounds of the rule evaluation. */
	struct {
		int64_t	 exporter_silent_ns;	/* 0: off; default 5 min */
		double	 exporter_loss;		/* ratio of lost to records; 0: off; default 0.01 */
		bool	 kernel_drops;		/* default true */
		int64_t	 probe_unreachable_ns;	/* 0: off; default 1 min */
		uint32_t notify_rate;		/* notifications per second on average, default 10 */
		uint32_t notify_burst;		/* default 50 */
		uint32_t queue_size;		/* notifications waiting at most, default 1000 */
		uint32_t max_instances;		/* alarm instances of all rules, default 100000 */
		int64_t	 max_history_ns;	/* longest window + offset a rule may read, default 25 h */
		uint32_t max_metrics;		/* names in the metric store, default 100000 */
		uint32_t max_points;		/* history points per metric, default 90000 */
	} alarms;
};

/*
 * Returns the validated configuration, or NULL with every error in errs.
 * Errors are appended to errs (zero it before the first use, and release it
 * with config_errors_clear()), in file order.
 */
struct fp_config *config_load(const char *path, struct config_errors *errs);
void		  config_free(struct fp_config *);

void		  config_errors_clear(struct config_errors *);

const char	*config_agg_key_name(enum key_field);
const char	*config_probe_type_name(enum cfg_probe_type);

#endif
