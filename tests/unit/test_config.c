/*
 * subagent/config: good files load with the right values; every class of
 * error is reported with its exact "FILE:LINE: SETTING: REASON" text.
 * Error cases are written to a temporary file so that lines are exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "subagent/config.h"
#include "engine/units.h"

#ifndef FIXTURES
#define FIXTURES "tests/unit/conf"
#endif
#define REPO_EXAMPLE FIXTURES "/../../../conf/flowpathd.conf"
#define NS UNITS_NS_PER_SEC

struct loaded {
	char		 path[64];
	struct fp_config *cfg;
	struct config_errors errs;
};

static void
load_text(struct loaded *l, const char *text)
{
	size_t len = strlen(text);
	int fd;

	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "/tmp/fp-test-config-XXXXXX");
	fd = mkstemp(l->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	l->cfg = config_load(l->path, &l->errs);
	unlink(l->path);
}

static void
print_errors(const struct config_errors *e)
{
	size_t i;

	for (i = 0; i < e->count; i++)
		print_error("%s\n", e->msg[i]);
}

static struct fp_config *
load_ok_file(const char *path)
{
	struct config_errors errs = { 0 };
	struct fp_config *cfg = config_load(path, &errs);

	print_errors(&errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(cfg);
	config_errors_clear(&errs);
	return cfg;
}

static struct fp_config *
load_ok(const char *text)
{
	struct loaded l;

	load_text(&l, text);
	print_errors(&l.errs);
	assert_int_equal(l.errs.count, 0);
	assert_non_null(l.cfg);
	return l.cfg;
}

/* want: "LINE: SETTING: REASON" each, NULL-terminated; the path is prefixed. */
static void
expect_errors(const char *text, const char *const *want)
{
	struct loaded l;
	char full[1024];
	size_t i, n;

	for (n = 0; want[n] != NULL; n++)
		;
	load_text(&l, text);
	assert_null(l.cfg);
	if (l.errs.count != n)
		print_errors(&l.errs);
	assert_int_equal(l.errs.count, n);
	assert_int_equal(l.errs.dropped, 0);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s:%s", l.path, want[i]);
		assert_string_equal(l.errs.msg[i], full);
	}
	config_errors_clear(&l.errs);
}

#define EXPECT(text, ...) expect_errors(text, (const char *const[]){ __VA_ARGS__, NULL })

/* Good files */

static void
repo_example_loads(void **state)
{
	struct fp_config *cfg = load_ok_file(REPO_EXAMPLE);

	assert_string_equal(cfg->agentx.socket, "tcp:127.0.0.1:705");
	assert_true(cfg->nprobes > 0);
	assert_true(cfg->naggregations > 0);
	config_free(cfg);
}

static void
design_example_loads_with_its_values(void **state)
{
	struct fp_config *cfg = load_ok_file(FIXTURES "/design.conf");
	char buf[ADDR_ENDPOINT_STRLEN];

	assert_string_equal(cfg->file, FIXTURES "/design.conf");
	assert_string_equal(cfg->agentx.socket, "tcp:127.0.0.1:705");
	assert_null(cfg->agent.listen);
	assert_int_equal(cfg->collector.nlisten, 2);
	addr_format_endpoint(&cfg->collector.listen[1], buf, sizeof(buf));
	assert_string_equal(buf, "[::]:4739");
	assert_int_equal(cfg->collector.nallow, 2);
	assert_int_equal(cfg->collector.allow[1].len, 128);
	assert_int_equal(cfg->nnetworks, 1);
	assert_string_equal(cfg->networks[0].name, "nws");
	assert_int_equal(cfg->networks[0].nprefixes, 2);
	assert_int_equal(cfg->naggregations, 4);
	assert_string_equal(cfg->aggregations[2].name, "matrix");
	assert_int_equal(cfg->aggregations[2].nkeys, 2);
	assert_int_equal(cfg->aggregations[2].key[0], KEY_SRC_NETWORK);
	assert_int_equal(cfg->aggregations[2].key[1], KEY_DST_NETWORK);
	assert_int_equal(cfg->aggregations[1].interval, 300);
	assert_string_equal(cfg->aggregations[3].filter, "proto tcp and dst port 80,443");
	assert_int_equal(cfg->nprobes, 3);
	assert_int_equal(cfg->probes[1].type, PROBE_UDP);
	assert_int_equal(cfg->probes[1].interval_ns, NS / 5);
	assert_int_equal(cfg->probes[1].target.port, 8620);
	assert_int_equal(cfg->probes[0].type, PROBE_ICMP);
	assert_int_equal(cfg->probes[0].target.port, 0);
	assert_int_equal(cfg->probes[2].interval_ns, 10 * NS);
	assert_int_equal(cfg->reflector.nlisten, 1);
	assert_int_equal(cfg->ncaptures, 1);
	assert_string_equal(cfg->captures[0].interface, "eth1");
	assert_null(cfg->captures[0].file);
	assert_true(cfg->captures[0].tcp_rtt);
	assert_string_equal(cfg->archive.directory, "/var/lib/flowpath");
	assert_int_equal(cfg->nrules, 2);
	assert_string_equal(cfg->rules[0].clear, "probe.lo-icmp.rtt < 30ms");
	assert_int_equal(cfg->rules[1].for_ns, 60 * NS);
	assert_null(cfg->rules[1].clear);
	config_free(cfg);
}

static void
empty_file_gives_every_default(void **state)
{
	struct fp_config *cfg = load_ok("");

	assert_string_equal(cfg->agentx.socket, "unix:/var/agentx/master");
	assert_int_equal(cfg->agentx.ping_interval, 5);
	assert_int_equal(cfg->agentx.timeout, 1);
	assert_int_equal(cfg->agentx.retries, 5);
	assert_null(cfg->agent.listen);
	assert_string_equal(cfg->daemon.pidfile, RUNSTATEDIR "/flowpathd.pid");
	assert_string_equal(cfg->daemon.log_level, "info");
	assert_int_equal(cfg->collector.nlisten, 0);
	assert_null(cfg->collector.listen);
	assert_int_equal(cfg->collector.nallow, 0);
	assert_int_equal(cfg->collector.receive_buffer, 0);
	assert_int_equal(cfg->nnetworks, 0);
	assert_int_equal(cfg->naggregations, 0);
	assert_int_equal(cfg->nprobes, 0);
	assert_int_equal(cfg->reflector.nlisten, 0);
	assert_int_equal(cfg->ncaptures, 0);
	assert_null(cfg->archive.directory);
	assert_int_equal(cfg->nrules, 0);
	config_free(cfg);
}

static void
list_entries_get_their_defaults(void **state)
{
	struct fp_config *cfg = load_ok(
	    "aggregations = ( { name = \"a\"; key = \"proto\"; } );\n"
	    "probes = ( { name = \"p\"; type = \"tcp\"; target = \"[::1]:22\"; } );\n"
	    "capture = ( { name = \"c\"; file = \"x.pcap\"; } );\n"
	    "rules = ( { name = \"r\"; when = \"a.b > 1\"; } );\n");

	assert_int_equal(cfg->aggregations[0].nkeys, 1);
	assert_int_equal(cfg->aggregations[0].key[0], KEY_PROTO);
	assert_null(cfg->aggregations[0].filter);
	assert_int_equal(cfg->aggregations[0].interval, 300);
	assert_int_equal(cfg->aggregations[0].top, 100);
	assert_int_equal(cfg->aggregations[0].capacity, 100000);
	assert_int_equal(cfg->probes[0].interval_ns, NS);
	assert_int_equal(cfg->probes[0].timeout_ns, 3 * NS);
	assert_int_equal(cfg->probes[0].size, 56);
	assert_int_equal(cfg->probes[0].tos, 0);
	assert_int_equal(cfg->probes[0].window_ns, 60 * NS);
	assert_true(cfg->captures[0].flows);
	assert_false(cfg->captures[0].tcp_rtt);
	assert_int_equal(cfg->rules[0].severity, SEV_WARNING);
	assert_int_equal(cfg->rules[0].for_ns, 0);
	assert_int_equal(cfg->rules[0].clear_for_ns, 0);
	assert_null(cfg->rules[0].description);
	config_free(cfg);
}

static void
seconds_accept_integer_float_and_duration(void **state)
{
	struct fp_config *cfg = load_ok(
	    "agentx = { ping_interval = \"1m\"; timeout = 2.0; };\n"
	    "aggregations = ( { name = \"a\"; key = [ \"tos\" ]; interval = \"5m\"; } );\n"
	    "probes = (\n"
	    " { name = \"i\"; type = \"icmp\"; target = \"::1\"; interval = 2; timeout = 0.01; },\n"
	    " { name = \"f\"; type = \"icmp\"; target = \"::1\"; interval = 0.25; window = 86400; },\n"
	    " { name = \"d\"; type = \"icmp\"; target = \"::1\"; interval = \"500ms\"; timeout = \"1m\"; }\n"
	    ");\n"
	    "rules = ( { name = \"r\"; when = \"a.b > 1\"; for = 90; clear_for = \"24h\"; } );\n");

	assert_int_equal(cfg->agentx.ping_interval, 60);
	assert_int_equal(cfg->agentx.timeout, 2);
	assert_int_equal(cfg->aggregations[0].interval, 300);
	assert_int_equal(cfg->probes[0].interval_ns, 2 * NS);
	assert_int_equal(cfg->probes[0].timeout_ns, NS / 100);
	assert_int_equal(cfg->probes[1].interval_ns, NS / 4);
	assert_int_equal(cfg->probes[1].window_ns, 86400 * NS);
	assert_int_equal(cfg->probes[2].interval_ns, NS / 2);
	assert_int_equal(cfg->probes[2].timeout_ns, 60 * NS);
	assert_int_equal(cfg->rules[0].for_ns, 90 * NS);
	assert_int_equal(cfg->rules[0].clear_for_ns, 86400 * NS);
	config_free(cfg);
}

static void
transports_accept_net_snmp_forms(void **state)
{
	static const char *const good[] = {
		"agentx = { socket = \"tcp:localhost:705\"; };",
		"agentx = { socket = \"tcp:127.0.0.1:705\"; };",
		"agentx = { socket = \"tcp6:[::1]:705\"; };",
		"agentx = { socket = \"unix:/var/agentx/master\"; };",
		"agent = { listen = \"udp:127.0.0.1:1161\"; };",
		"agent = { listen = \"tcp:snmp.example.net:1161\"; };",
		"agent = { listen = \"udp6:[::1]:1161\"; };",
	};
	struct fp_config *cfg;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		config_free(load_ok(good[i]));
	cfg = load_ok("agent = { listen = \"udp6:[::1]:1161\"; };");
	assert_string_equal(cfg->agent.listen, "udp6:[::1]:1161");
	config_free(cfg);
}

static void
empty_pidfile_means_none(void **state)
{
	struct fp_config *cfg = load_ok("daemon = { pidfile = \"\"; log_level = \"debug\"; };");

	assert_string_equal(cfg->daemon.pidfile, "");
	assert_string_equal(cfg->daemon.log_level, "debug");
	config_free(cfg);
}

static void
single_string_stands_for_a_one_element_list(void **state)
{
	struct fp_config *cfg = load_ok(
	    "collector = { listen = \"127.0.0.1:2055\"; allow = \"10.0.0.0/8\"; };");

	assert_int_equal(cfg->collector.nlisten, 1);
	assert_int_equal(cfg->collector.listen[0].port, 2055);
	assert_int_equal(cfg->collector.nallow, 1);
	assert_int_equal(cfg->collector.allow[0].len, 8);
	config_free(cfg);
}

static void
names_of_keys_and_probe_types(void **state)
{
	assert_string_equal(config_agg_key_name(KEY_SRC_ADDR), "src_addr");
	assert_string_equal(config_agg_key_name(KEY_EXPORTER), "exporter");
	assert_string_equal(config_agg_key_name(CFG_AGG_KEY_COUNT), "?");
	assert_string_equal(config_probe_type_name(PROBE_ICMP), "icmp");
	assert_string_equal(config_probe_type_name(PROBE_TCP), "tcp");
}

static void
collector_caps_and_exporter_overrides_load(void **state)
{
	struct fp_config *cfg = load_ok(
	    "collector = {\n"
	    "  max_exporters = 50; max_templates = 16; max_template_bytes = 1048576;\n"
	    "  exporters = ( { address = \"192.0.2.1\"; sampling = 100; },\n"
	    "                { address = \"2001:db8::1\"; } );\n"
	    "};\n");
	char a[ADDR_STRLEN];

	assert_int_equal(cfg->collector.max_exporters, 50);
	assert_int_equal(cfg->collector.max_templates, 16);
	assert_int_equal(cfg->collector.max_template_bytes, 1048576);
	assert_int_equal(cfg->collector.nexporters, 2);
	addr_format(&cfg->collector.exporters[0].address, a, sizeof(a));
	assert_string_equal(a, "192.0.2.1");
	assert_int_equal(cfg->collector.exporters[0].sampling, 100);
	addr_format(&cfg->collector.exporters[1].address, a, sizeof(a));
	assert_string_equal(a, "2001:db8::1");
	assert_int_equal(cfg->collector.exporters[1].sampling, 1);
	config_free(cfg);
}

static void
collector_caps_default_when_absent(void **state)
{
	struct fp_config *cfg = load_ok("collector = { };\n");

	assert_int_equal(cfg->collector.max_exporters, 10000);
	assert_int_equal(cfg->collector.max_templates, 256);
	assert_int_equal(cfg->collector.max_template_bytes, 16u << 20);
	assert_int_equal(cfg->collector.nexporters, 0);
	config_free(cfg);
}

static void
exporter_override_errors_are_reported(void **state)
{
	EXPECT("collector = { exporters = (\n"
	    "  { address = \"192.0.2.1\"; sampling = 10; },\n"
	    "  { address = \"192.0.2.1\"; },\n"
	    "  { address = \"192.0.2.300\"; sampling = 0; },\n"
	    "  { sampling = 5; }\n"
	    "); max_exporters = 0; };\n",
	    "3: collector.exporters[1].address: exporter 192.0.2.1 is listed twice",
	    "4: collector.exporters[2].address: not an IP address: \"192.0.2.300\"",
	    "4: collector.exporters[2].sampling: must be between 1 and 1000000000 (got 0)",
	    "5: collector.exporters[3].address: required setting is missing",
	    "6: collector.max_exporters: must be between 1 and 1000000 (got 0)");
}

static void
filter_errors_name_the_column_and_networks_may_come_later(void **state)
{
	struct fp_config *cfg = load_ok(
	    "aggregations = ( { name = \"m\"; key = [ \"dst_port\" ];\n"
	    "  filter = \"src network lab and not proto udp\"; retention = \"2h\"; } );\n"
	    "networks = ( { name = \"lab\"; prefixes = [ \"10.0.0.0/8\" ]; } );\n");

	assert_string_equal(cfg->aggregations[0].filter, "src network lab and not proto udp");
	assert_int_equal(cfg->aggregations[0].retention, 7200);
	config_free(cfg);
	EXPECT("networks = ( { name = \"lab\"; prefixes = [ \"10.0.0.0/8\" ]; } );\n"
	    "aggregations = (\n"
	    "  { name = \"a\"; key = [ \"dst_port\" ];\n"
	    "    filter = \"proto tcp and dst port 80,\"; },\n"
	    "  { name = \"b\"; key = [ \"src_addr\" ]; filter = \"src network lab2\"; }\n"
	    ");\n",
	    "4: aggregations[0].filter: column 27: expected a port number or range after \",\"",
	    "5: aggregations[1].filter: column 13: unknown network \"lab2\"");
}

static void
rule_settings_load_with_their_defaults(void **state)
{
	struct fp_config *cfg = load_ok(
	    "rules = (\n"
	    "  { name = \"a\"; when = \"probe.*.loss > 5%\"; clear = \"probe.*.loss < 2%\";\n"
	    "    critical = \"probe.*.loss > 20%\"; reminder = \"1h\"; interval = 0.5; },\n"
	    "  { name = \"b\"; when = \"nodata(collector.records, 1m)\"; }\n"
	    ");\n");

	assert_string_equal(cfg->rules[0].critical, "probe.*.loss > 20%");
	assert_int_equal(cfg->rules[0].reminder_ns, 3600 * NS);
	assert_int_equal(cfg->rules[0].interval_ns, NS / 2);
	assert_null(cfg->rules[1].critical);
	assert_int_equal(cfg->rules[1].reminder_ns, 0);
	assert_int_equal(cfg->rules[1].interval_ns, NS);
	config_free(cfg);
}

static void
rule_expression_errors_name_the_column(void **state)
{
	EXPECT("rules = (\n"
	    "  { name = \"a\"; when = \"avg(probe.x.rtt, 5m > 1\"; },\n"
	    "  { name = \"b\"; when = \"probe.x.rtt > 1\"; clear = \"probe.x.rtt = 1\"; },\n"
	    "  { name = \"c\"; when = \"probe.x.loss > 1%\";\n"
	    "    critical = \"probe.*.loss > 20%\"; }\n"
	    ");\n",
	    "2: rules[0].when: column 21: expected ')' after the window, not '>'",
	    "3: rules[1].clear: column 13: expected '==' (a single '=' is not a comparison)",
	    "5: rules[2].critical: has a wildcard '*' but when has none (the instances come "
	    "from when)");
}

static void
rule_history_is_bounded_by_max_history(void **state)
{
	struct fp_config *cfg = load_ok(
	    "rules = ( { name = \"a\"; when = \"avg(probe.x.rtt, 5m) offset 24h > 1\"; } );\n");

	assert_int_equal(cfg->alarms.max_history_ns, 25 * 3600 * NS);
	config_free(cfg);
	EXPECT("rules = ( { name = \"a\"; when = \"avg(probe.x.rtt, 5m) offset 24h > 1\"; } );\n"
	    "alarms = { max_history = \"1h\"; };\n",
	    "1: rules[0].when: reads 86700 s of history, more than alarms.max_history (3600 s)");
}

static void
alarm_settings_load_with_their_defaults(void **state)
{
	static const struct {
		const char	*text;
		int64_t		 exporter_silent_ns;
		double		 exporter_loss;
		bool		 kernel_drops;
		int64_t		 probe_unreachable_ns;
		uint32_t	 notify_rate, notify_burst, queue_size, max_instances;
		const char	*state_file;
	} cases[] = {
		{ "", 300 * NS, 0.01, true, 60 * NS, 10, 50, 1000, 100000,
		    LOCALSTATEDIR "/lib/flowpath/alarms.state" },
		{ "alarms = { exporter_silent = \"10m\"; exporter_loss = \"0.5%\";\n"
		    "  kernel_drops = false; probe_unreachable = true; notify_rate = 100;\n"
		    "  notify_burst = 5; queue_size = 20; max_instances = 7; };\n"
		    "daemon = { state_file = \"\"; };\n",
		    600 * NS, 0.005, false, 60 * NS, 100, 5, 20, 7, "" },
		{ "alarms = { exporter_silent = false; exporter_loss = 0.02;\n"
		    "  probe_unreachable = 30; };\n",
		    0, 0.02, true, 30 * NS, 10, 50, 1000, 100000,
		    LOCALSTATEDIR "/lib/flowpath/alarms.state" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fp_config *cfg = load_ok(cases[i].text);

		assert_int_equal(cfg->alarms.exporter_silent_ns, cases[i].exporter_silent_ns);
		assert_true(cfg->alarms.exporter_loss == cases[i].exporter_loss);
		assert_int_equal(cfg->alarms.kernel_drops, cases[i].kernel_drops);
		assert_int_equal(cfg->alarms.probe_unreachable_ns, cases[i].probe_unreachable_ns);
		assert_int_equal(cfg->alarms.notify_rate, cases[i].notify_rate);
		assert_int_equal(cfg->alarms.notify_burst, cases[i].notify_burst);
		assert_int_equal(cfg->alarms.queue_size, cases[i].queue_size);
		assert_int_equal(cfg->alarms.max_instances, cases[i].max_instances);
		assert_string_equal(cfg->daemon.state_file, cases[i].state_file);
		config_free(cfg);
	}
}

static void
alarm_setting_errors_are_reported(void **state)
{
	EXPECT("alarms = {\n"
	    "  exporter_loss = \"1 percent\";\n"
	    "  exporter_silent = \"0s\";\n"
	    "  probe_unreachable = [ 1 ];\n"
	    "  notify_rate = 0;\n"
	    "  exporter_lost = 1;\n"
	    "};\n"
	    "daemon = { state_file = \"alarms.state\"; };\n"
	    "rules = ( { name = \"r\"; when = \"a.b > 1\"; interval = 0.01; } );\n",
	    "2: alarms.exporter_loss: must be a ratio such as 0.01 or a percentage such as "
	    "\"1%\" (got \"1 percent\")",
	    "3: alarms.exporter_silent: must be between 1 and 86400 seconds (got 0)",
	    "4: alarms.probe_unreachable: must be a number of seconds or a duration (got an array)",
	    "5: alarms.notify_rate: must be between 1 and 10000 per second (got 0)",
	    "6: alarms.exporter_lost: unknown setting",
	    "8: daemon.state_file: must be an absolute path (got \"alarms.state\")",
	    "9: rules[0].interval: must be between 0.1 and 3600 seconds (got 0.01)");
	EXPECT("alarms = { exporter_loss = 2; };\n",
	    "1: alarms.exporter_loss: must be above 0 and at most 1 (100%) (got 2)");
}

static void
metric_store_bounds_are_settings(void **state)
{
	struct fp_config *cfg = load_ok("");

	(void)state;
	assert_int_equal(cfg->alarms.max_metrics, 100000);
	assert_int_equal(cfg->alarms.max_points, 90000);
	config_free(cfg);
	cfg = load_ok("alarms = { max_metrics = 10; max_points = 3600; };\n");
	assert_int_equal(cfg->alarms.max_metrics, 10);
	assert_int_equal(cfg->alarms.max_points, 3600);
	config_free(cfg);
	EXPECT("alarms = { max_metrics = 0;\n max_points = 1; };\n",
	    "1: alarms.max_metrics: must be between 1 and 10000000 (got 0)",
	    "2: alarms.max_points: must be between 2 and 10000000 (got 1)");
}

static void
agent_trap_sinks_are_endpoints(void **state)
{
	struct fp_config *cfg = load_ok(
	    "agent = { trap_sink = [ \"127.0.0.1:162\", \"[::1]:1162\" ]; };\n");

	assert_int_equal(cfg->agent.ntrap_sink, 2);
	assert_int_equal(cfg->agent.trap_sink[0].port, 162);
	assert_int_equal(cfg->agent.trap_sink[1].port, 1162);
	config_free(cfg);
	cfg = load_ok("");
	assert_int_equal(cfg->agent.ntrap_sink, 0);
	config_free(cfg);
	EXPECT("agent = { trap_sink = [ \"127.0.0.1\" ]; };\n",
	    "1: agent.trap_sink[0]: not an address:port: \"127.0.0.1\"");
}

static void
builtin_alarm_names_are_reserved_while_on(void **state)
{
	struct fp_config *cfg = load_ok(
	    "alarms = { kernel_drops = false; };\n"
	    "rules = ( { name = \"kernel-drops\"; when = \"collector.drops > 0\"; } );\n");

	assert_string_equal(cfg->rules[0].name, "kernel-drops");
	config_free(cfg);
	EXPECT("rules = ( { name = \"probe-unreachable\"; when = \"probe.a.up < 1\"; } );\n",
	    "1: rules[0].name: \"probe-unreachable\" is the built-in alarm of "
	    "alarms.probe_unreachable; switch that off to use the name");
}

static void
a_prefix_may_be_in_one_network_once(void **state)
{
	EXPECT("networks = (\n"
	    "  { name = \"a\"; prefixes = [ \"10.0.0.0/8\", \"10.1.0.0/16\" ]; },\n"
	    "  { name = \"b\"; prefixes = [ \"10.2.0.0/16\",\n"
	    "                               \"10.0.0.0/8\" ]; },\n"
	    "  { name = \"c\"; prefixes = [ \"192.0.2.0/24\", \"192.0.2.0/24\" ]; }\n"
	    ");\n",
	    "4: networks[1].prefixes[1]: 10.0.0.0/8 is already in network \"a\"",
	    "5: networks[2].prefixes[1]: 192.0.2.0/24 is listed twice");
	/* Overlapping is fine: the longest prefix wins. */
	config_free(load_ok("networks = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; },\n"
	    "  { name = \"b\"; prefixes = [ \"10.0.0.0/16\" ]; } );\n"));
}

/* Error classes, each with its exact text */

static void
syntax_error_names_file_and_line(void **state)
{
	EXPECT("agentx = {\n  socket = \"tcp:127.0.0.1:705\";\n  retries = ;\n};\n",
	    "3: syntax error");
}

static void
missing_file_is_reported(void **state)
{
	struct config_errors errs = { 0 };

	assert_null(config_load("/nonexistent/flowpathd.conf", &errs));
	assert_int_equal(errs.count, 1);
	assert_string_equal(errs.msg[0],
	    "/nonexistent/flowpathd.conf: cannot open: No such file or directory");
	config_errors_clear(&errs);
}

static void
directory_is_not_a_config_file(void **state)
{
	struct config_errors errs = { 0 };

	assert_null(config_load("/", &errs));
	assert_int_equal(errs.count, 1);
	assert_string_equal(errs.msg[0],
	    "/: not a regular file of at most 67108864 bytes");
	config_errors_clear(&errs);
}

static void
unknown_setting_at_top_level(void **state)
{
	EXPECT("\nprobe = ();\n", "2: probe: unknown setting");
}

static void
unknown_setting_in_a_section(void **state)
{
	EXPECT("agentx = {\n sockett = \"unix:/x\";\n};\n",
	    "2: agentx.sockett: unknown setting");
}

static void
unknown_setting_in_a_list_entry(void **state)
{
	EXPECT("probes = (\n"
	    " { name = \"a\"; type = \"icmp\"; target = \"::1\"; },\n"
	    " { name = \"b\"; type = \"icmp\"; target = \"::1\";\n"
	    "   intervall = 5; }\n);\n",
	    "4: probes[1].intervall: unknown setting");
}

static void
wrong_type_is_reported(void **state)
{
	EXPECT("agentx = { socket = 705; retries = 1.0; };\n"
	    "collector = { receive_buffer = \"1M\"; listen = [ 2055 ]; };\n"
	    "networks = { name = \"x\"; };\n"
	    "archive = ( );\n"
	    "capture = ( { name = \"c\"; file = \"f\"; flows = 1; } );\n"
	    "probes = ( \"p\" );\n"
	    "rules = ( { name = \"r\"; when = \"a.b > 1\"; for = true; } );\n",
	    "1: agentx.socket: must be a string (got an integer)",
	    "1: agentx.retries: must be an integer (got a float)",
	    "2: collector.receive_buffer: must be an integer (got a string)",
	    "2: collector.listen[0]: must be a string (got an integer)",
	    "3: networks: must be a list of groups ( { ... }, ... ) (got a group)",
	    "4: archive: must be a group { ... } (got a list)",
	    "5: capture[0].flows: must be a boolean (got an integer)",
	    "6: probes[0]: must be a group { ... } (got a string)",
	    "7: rules[0].for: must be a number of seconds or a duration (got a boolean)");
}

static void
out_of_range_is_reported_with_bounds(void **state)
{
	EXPECT("agentx = { ping_interval = 0; timeout = 61; retries = 11; };\n"
	    "collector = { receive_buffer = 1073741825; };\n"
	    "aggregations = ( { name = \"a\"; key = \"proto\"; interval = 9; top = 0;\n"
	    "  capacity = 99; } );\n"
	    "probes = ( { name = \"p\"; type = \"icmp\"; target = \"::1\";\n"
	    "  interval = 0; timeout = 60.5; size = 65001; tos = -1; window = \"0.5s\"; } );\n",
	    "1: agentx.ping_interval: must be between 1 and 3600 seconds (got 0)",
	    "1: agentx.timeout: must be between 1 and 60 seconds (got 61)",
	    "1: agentx.retries: must be between 0 and 10 (got 11)",
	    "2: collector.receive_buffer: must be between 0 and 1073741824 bytes (got 1073741825)",
	    "3: aggregations[0].interval: must be between 10 and 86400 seconds (got 9)",
	    "3: aggregations[0].top: must be between 1 and 10000 (got 0)",
	    "4: aggregations[0].capacity: must be between 100 and 10000000 (got 99)",
	    "6: probes[0].interval: must be between 0.01 and 86400 seconds (got 0)",
	    "6: probes[0].timeout: must be between 0.01 and 60 seconds (got 60.5)",
	    "6: probes[0].size: must be between 0 and 65000 bytes (got 65001)",
	    "6: probes[0].tos: must be between 0 and 255 (got -1)",
	    "6: probes[0].window: must be between 1 and 86400 seconds (got 0.5)");
}

static void
fractional_seconds_refused_where_whole_seconds_are_kept(void **state)
{
	EXPECT("aggregations = ( { name = \"a\"; key = \"proto\"; interval = 300.5; } );\n",
	    "1: aggregations[0].interval: must be a whole number of seconds (got 300.5)");
}

static void
non_finite_seconds_are_out_of_range(void **state)
{
	EXPECT("probes = ( { name = \"p\"; type = \"icmp\"; target = \"::1\"; interval = 1e400; } );\n",
	    "1: probes[0].interval: must be between 0.01 and 86400 seconds (got inf)");
}

static void
duplicate_name_points_at_the_first(void **state)
{
	EXPECT("aggregations = (\n"
	    "  { name = \"src\"; key = \"src_addr\"; },\n"
	    "  { name = \"dst-port\"; key = \"dst_port\"; },\n"
	    "  { name = \"x\"; key = \"proto\"; },\n"
	    "  { name = \"dst-port\"; key = \"dst_port\"; }\n"
	    ");\n"
	    "networks = ( { name = \"n\"; prefixes = \"10.0.0.0/8\"; },\n"
	    "  { name = \"n\"; prefixes = \"11.0.0.0/8\"; } );\n",
	    "5: aggregations[3].name: duplicate name \"dst-port\" (first at line 3)",
	    "8: networks[1].name: duplicate name \"n\" (first at line 7)");
}

static void
same_name_in_different_sections_is_fine(void **state)
{
	config_free(load_ok(
	    "networks = ( { name = \"x\"; prefixes = \"10.0.0.0/8\"; } );\n"
	    "probes = ( { name = \"x\"; type = \"icmp\"; target = \"10.0.0.1\"; } );\n"));
}

static void
bad_name_is_reported(void **state)
{
	EXPECT("probes = (\n"
	    " { name = \"\"; type = \"icmp\"; target = \"::1\"; },\n"
	    " { name = \"has space\"; type = \"icmp\"; target = \"::1\"; },\n"
	    " { name = \"a23456789012345678901234567890123\"; type = \"icmp\"; target = \"::1\"; }\n"
	    ");\n",
	    "2: probes[0].name: must be 1 to 32 characters of A-Z a-z 0-9 . _ - (got \"\")",
	    "3: probes[1].name: must be 1 to 32 characters of A-Z a-z 0-9 . _ - (got \"has space\")",
	    "4: probes[2].name: must be 1 to 32 characters of A-Z a-z 0-9 . _ - "
	    "(got \"a23456789012345678901234567890123\")");
}

static void
malformed_address_is_reported(void **state)
{
	EXPECT("probes = (\n"
	    " { name = \"a\"; type = \"icmp\"; target = \"router1\"; },\n"
	    " { name = \"b\"; type = \"icmp\"; target = \"192.0.2.300\"; }\n"
	    ");\n",
	    "2: probes[0].target: not an IP address: \"router1\"",
	    "3: probes[1].target: not an IP address: \"192.0.2.300\"");
}

static void
probe_target_has_a_port_exactly_for_udp_and_tcp(void **state)
{
	EXPECT("probes = (\n"
	    " { name = \"a\"; type = \"icmp\"; target = \"192.0.2.1:7\"; },\n"
	    " { name = \"b\"; type = \"icmp\"; target = \"[2001:db8::1]:7\"; },\n"
	    " { name = \"c\"; type = \"udp\"; target = \"10.0.0.2\"; },\n"
	    " { name = \"d\"; type = \"tcp\"; target = \"2001:db8::1\"; },\n"
	    " { name = \"e\"; type = \"udp\"; target = \"10.0.0.2:0\"; }\n"
	    ");\n",
	    "2: probes[0].target: an icmp target is an address without a port: \"192.0.2.1:7\"",
	    "3: probes[1].target: an icmp target is an address without a port: "
	    "\"[2001:db8::1]:7\"",
	    "4: probes[2].target: a udp target needs a port (ADDRESS:PORT or [ADDRESS]:PORT): "
	    "\"10.0.0.2\"",
	    "5: probes[3].target: a tcp target needs a port (ADDRESS:PORT or [ADDRESS]:PORT): "
	    "\"2001:db8::1\"",
	    "6: probes[4].target: port must be between 1 and 65535: \"10.0.0.2:0\"");
}

static void
probe_dscp_sets_the_upper_six_bits_of_tos(void **state)
{
	struct fp_config *cfg = load_ok(
	    "probes = ( { name = \"ef\"; type = \"udp\"; target = \"[::1]:8620\"; dscp = 46; },\n"
	    "  { name = \"raw\"; type = \"icmp\"; target = \"::1\"; tos = 184; } );\n");

	assert_int_equal(cfg->probes[0].tos, 46 << 2);
	assert_int_equal(cfg->probes[1].tos, 184);
	config_free(cfg);
}

static void
probe_dscp_is_checked_and_excludes_tos(void **state)
{
	EXPECT("probes = (\n"
	    " { name = \"a\"; type = \"icmp\"; target = \"::1\"; dscp = 64; },\n"
	    " { name = \"b\"; type = \"icmp\"; target = \"::1\";\n"
	    "   tos = 0; dscp = 0; }\n"
	    ");\n",
	    "2: probes[0].dscp: must be between 0 and 63 (got 64)",
	    "3: probes[1]: set tos or dscp, not both");
}

static void
probe_timeout_must_be_positive(void **state)
{
	EXPECT("probes = ( { name = \"a\"; type = \"icmp\"; target = \"::1\"; timeout = 0; },\n"
	    "  { name = \"b\"; type = \"icmp\"; target = \"::1\"; timeout = \"-1s\"; } );\n",
	    "1: probes[0].timeout: must be between 0.01 and 60 seconds (got 0)",
	    "2: probes[1].timeout: negative duration: \"-1s\"");
}

static void
probe_window_must_hold_an_interval(void **state)
{
	EXPECT("probes = (\n"
	    " { name = \"a\"; type = \"icmp\"; target = \"::1\"; interval = 10; window = 5; },\n"
	    " { name = \"b\"; type = \"icmp\"; target = \"::1\";\n"
	    "   interval = 120; },\n"
	    " { name = \"c\"; type = \"icmp\"; target = \"::1\"; interval = 10; window = 10; },\n"
	    " { name = \"d\"; type = \"icmp\"; target = \"::1\"; interval = 120; window = 0; },\n"
	    " { name = \"e\"; type = \"icmp\"; target = \"::1\"; window = \"1500ms\"; }\n"
	    ");\n",
	    "2: probes[0].window: the window (5 s) must be at least the interval (10 s)",
	    "4: probes[1].interval: the window (60 s) must be at least the interval (120 s)",
	    "6: probes[3].window: must be between 1 and 86400 seconds (got 0)",
	    "7: probes[4].window: must be a whole number of seconds (got 1.5)");
}

static void
probe_names_are_unique(void **state)
{
	EXPECT("probes = (\n"
	    " { name = \"p\"; type = \"icmp\"; target = \"::1\"; },\n"
	    " { name = \"p\"; type = \"udp\"; target = \"[::1]:7\"; }\n"
	    ");\n",
	    "3: probes[1].name: duplicate name \"p\" (first at line 2)");
}

static void
malformed_prefix_is_reported(void **state)
{
	EXPECT("collector = { allow = [ \"10.0.0.0\", \"10.0.0.0/33\", \"net\" ]; };\n",
	    "1: collector.allow[0]: not a prefix (ADDRESS/LENGTH): \"10.0.0.0\"",
	    "1: collector.allow[1]: prefix length out of range: \"10.0.0.0/33\"",
	    "1: collector.allow[2]: not a prefix (ADDRESS/LENGTH): \"net\"");
}

static void
prefix_with_host_bits_is_reported(void **state)
{
	EXPECT("networks = ( { name = \"n\";\n"
	    "  prefixes = [ \"192.0.2.0/24\",\n"
	    "               \"192.0.2.1/24\" ]; } );\n",
	    "3: networks[0].prefixes[1]: host bits set beyond the prefix length: \"192.0.2.1/24\"");
}

static void
bad_endpoint_is_reported(void **state)
{
	EXPECT("collector = {\n"
	    "  listen = [ \"0.0.0.0:2055\",\n"
	    "    \"1.2.3.4\", \"2001:db8::1:4739\", \"[::1]:0\", \"[10.0.0.1]:5\" ]; };\n"
	    "probes = ( { name = \"u\"; type = \"udp\"; target = \"10.0.0.2:x\"; } );\n"
	    "reflector = { listen = [ \"[::]:70000\" ]; };\n",
	    "3: collector.listen[1]: not an address:port: \"1.2.3.4\"",
	    "3: collector.listen[2]: IPv6 address needs brackets ([ADDRESS]:PORT): \"2001:db8::1:4739\"",
	    "3: collector.listen[3]: port must be between 1 and 65535: \"[::1]:0\"",
	    "3: collector.listen[4]: not an IPv6 address in brackets: \"[10.0.0.1]:5\"",
	    "4: probes[0].target: port must be between 1 and 65535: \"10.0.0.2:x\"",
	    "5: reflector.listen[0]: port must be between 1 and 65535: \"[::]:70000\"");
}

static void
bad_transport_is_reported(void **state)
{
	EXPECT("agentx = { socket = \"udp:127.0.0.1:705\"; };\n"
	    "agent = { listen = \"unix:/x\"; };\n"
	    "agentx = { socket = \"x\"; };\n",
	    "3: duplicate setting name");
	EXPECT("agentx = { socket = \"udp:127.0.0.1:705\"; };\n"
	    "agent = { listen = \"udp:[::1]:161\"; };\n",
	    "1: agentx.socket: must be tcp:HOST:PORT, tcp6:[ADDRESS]:PORT or unix:/PATH "
	    "(got \"udp:127.0.0.1:705\")",
	    "2: agent.listen: must be udp:HOST:PORT, tcp:HOST:PORT, udp6:[ADDRESS]:PORT or "
	    "tcp6:[ADDRESS]:PORT (got \"udp:[::1]:161\")");
	EXPECT("agentx = { socket = \"unix:var/agentx\"; };\n"
	    "agent = { listen = \"tcp:127.0.0.1:0\"; };\n",
	    "1: agentx.socket: unix socket path must be absolute and at most 107 bytes: "
	    "\"unix:var/agentx\"",
	    "2: agent.listen: port must be between 1 and 65535: \"tcp:127.0.0.1:0\"");
}

static void
bad_duration_is_reported(void **state)
{
	EXPECT("rules = ( { name = \"r\"; when = \"a.b > 1\";\n"
	    "  for = \"1x\";\n"
	    "  clear_for = \"-5s\"; },\n"
	    "  { name = \"s\"; when = \"a.b > 1\"; for = \"31d\"; } );\n",
	    "2: rules[0].for: unknown unit (use ms, s, m, h or d): \"1x\"",
	    "3: rules[0].clear_for: negative duration: \"-5s\"",
	    "4: rules[1].for: must be between 0 and 2592000 seconds (got 2678400)");
}

static void
missing_required_is_reported_on_its_group(void **state)
{
	EXPECT("probes = (\n"
	    "  { name = \"p\";\n"
	    "    type = \"icmp\"; },\n"
	    "  { target = \"::1\"; type = \"icmp\"; }\n"
	    ");\n"
	    "rules = ( { name = \"r\"; } );\n"
	    "networks = ( { name = \"n\"; } );\n"
	    "aggregations = ( { name = \"a\"; } );\n",
	    "2: probes[0].target: required setting is missing",
	    "4: probes[1].name: required setting is missing",
	    "6: rules[0].when: required setting is missing",
	    "7: networks[0].prefixes: required setting is missing",
	    "8: aggregations[0].key: required setting is missing");
}

static void
bad_enum_lists_the_choices(void **state)
{
	EXPECT("daemon = { log_level = \"verbose\"; };\n"
	    "probes = ( { name = \"p\"; type = \"ping\"; target = \"::1\"; } );\n"
	    "rules = ( { name = \"r\"; when = \"a.b > 1\"; severity = \"major\"; } );\n",
	    "1: daemon.log_level: must be one of debug, info, warning, error (got \"verbose\")",
	    "2: probes[0].type: must be one of icmp, udp, tcp (got \"ping\")",
	    "3: rules[0].severity: must be one of warning, critical (got \"major\")");
}

static void
aggregation_keys_are_checked(void **state)
{
	EXPECT("aggregations = (\n"
	    "  { name = \"a\"; key = [ \"dst_port\", \"dst_port\" ]; },\n"
	    "  { name = \"b\"; key = [ \"port\" ]; },\n"
	    "  { name = \"c\"; key = [ ]; },\n"
	    "  { name = \"d\"; key = [ \"proto\", \"tos\", \"in_if\", \"out_if\", \"src_as\" ]; },\n"
	    "  { name = \"e\"; key = [ \"src_network\" ]; }\n"
	    ");\n",
	    "2: aggregations[0].key[1]: duplicate key \"dst_port\"",
	    "3: aggregations[1].key[0]: must be one of src_addr, dst_addr, src_port, dst_port, "
	    "proto, next_hop, src_as, dst_as, src_prefix, dst_prefix, src_network, dst_network, "
	    "in_if, out_if, tos, exporter (got \"port\")",
	    "4: aggregations[2].key: must have between 1 and 4 elements (got 0)",
	    "5: aggregations[3].key: must have between 1 and 4 elements (got 5)",
	    "6: aggregations[4].key[0]: \"src_network\" needs at least one group in networks");
}

static void
network_keys_accept_networks_defined_later(void **state)
{
	config_free(load_ok(
	    "aggregations = ( { name = \"m\"; key = [ \"src_network\", \"dst_network\" ]; } );\n"
	    "networks = ( { name = \"n\"; prefixes = [ \"10.0.0.0/8\" ]; } );\n"));
}

static void
capture_needs_exactly_one_source(void **state)
{
	EXPECT("capture = (\n"
	    "  { name = \"none\"; },\n"
	    "  { name = \"both\"; interface = \"eth0\"; file = \"/tmp/x.pcap\"; },\n"
	    "  { name = \"long\"; interface = \"abcdefghijklmnop\"; }\n"
	    ");\n",
	    "2: capture[0]: needs exactly one of interface and file",
	    "3: capture[1]: needs exactly one of interface and file",
	    "4: capture[2].interface: too long (at most 15 characters)");
}

static void
paths_and_texts_are_checked(void **state)
{
	EXPECT("archive = { directory = \"var/lib/flowpath\"; };\n"
	    "daemon = { pidfile = \"flowpathd.pid\"; };\n"
	    "rules = ( { name = \"r\"; when = \"\"; clear = \"\"; } );\n"
	    "aggregations = ( { name = \"a\"; key = \"proto\"; filter = \"\"; } );\n",
	    "1: archive.directory: must be an absolute path (got \"var/lib/flowpath\")",
	    "2: daemon.pidfile: must be an absolute path (got \"flowpathd.pid\")",
	    "3: rules[0].when: must not be empty",
	    "3: rules[0].clear: must not be empty",
	    "4: aggregations[0].filter: must not be empty");
}

static void
several_errors_come_in_file_order(void **state)
{
	EXPECT("agentx = { socket = \"tcp:127.0.0.1:705\"; };\n"
	    "collector = {\n"
	    "  listen = [ \"0.0.0.0:2055\", \"1.2.3.4\" ];\n"
	    "  allowed = [ ];\n"
	    "};\n"
	    "probes = (\n"
	    "  { name = \"p\"; type = \"icmp\"; target = \"127.0.0.1\";\n"
	    "    interval = 0; }\n"
	    ");\n"
	    "aggregations = (\n"
	    "  { name = \"dst-port\"; key = [ \"dst_port\" ]; },\n"
	    "  { name = \"dst-port\"; key = [ \"dst_port\" ];\n"
	    "    top = 0; }\n"
	    ");\n"
	    "bogus = 1;\n",
	    "3: collector.listen[1]: not an address:port: \"1.2.3.4\"",
	    "4: collector.allowed: unknown setting",
	    "8: probes[0].interval: must be between 0.01 and 86400 seconds (got 0)",
	    "12: aggregations[1].name: duplicate name \"dst-port\" (first at line 11)",
	    "13: aggregations[1].top: must be between 1 and 10000 (got 0)",
	    "15: bogus: unknown setting");
}

/* Hostile input */

static char *
repeat_text(const char *head, const char *item, size_t n, const char *tail)
{
	size_t len = strlen(head) + strlen(item) * n + strlen(tail) + 1, i;
	char *text = malloc(len), *p;

	assert_non_null(text);
	p = stpcpy(text, head);
	for (i = 0; i < n; i++)
		p = stpcpy(p, item);
	strcpy(p, tail);
	return text;
}

/* Standalone agent access: agent.community and agent.allow */

static void
agent_access_defaults_when_absent(void **state)
{
	struct fp_config *cfg = load_ok("agent = { listen = \"udp:127.0.0.1:1161\"; };");
	char buf[ADDR_STRLEN];

	assert_string_equal(cfg->agent.community, "public");
	assert_int_equal(cfg->agent.nallow, 2);
	assert_int_equal(cfg->agent.allow[0].addr.family, ADDR_V4);
	addr_format(&cfg->agent.allow[0].addr, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.0");
	assert_int_equal(cfg->agent.allow[0].len, 8);
	assert_int_equal(cfg->agent.allow[1].addr.family, ADDR_V6);
	addr_format(&cfg->agent.allow[1].addr, buf, sizeof(buf));
	assert_string_equal(buf, "::1");
	assert_int_equal(cfg->agent.allow[1].len, 128);
	config_free(cfg);

	/* also without any agent section (AgentX mode): the same defaults */
	cfg = load_ok("# nothing\n");
	assert_null(cfg->agent.listen);
	assert_string_equal(cfg->agent.community, "public");
	assert_int_equal(cfg->agent.nallow, 2);
	config_free(cfg);
}

static void
agent_access_settings_load(void **state)
{
	struct fp_config *cfg = load_ok("agent = {\n"
	    "  listen = \"udp6:[::1]:1161\";\n"
	    "  community = \"n0c-R3ad#only!\";\n"
	    "  allow = [ \"192.0.2.0/24\", \"2001:db8::/32\", \"0.0.0.0/0\" ];\n"
	    "};\n");
	char buf[ADDR_STRLEN];

	assert_string_equal(cfg->agent.listen, "udp6:[::1]:1161");
	assert_string_equal(cfg->agent.community, "n0c-R3ad#only!");
	assert_int_equal(cfg->agent.nallow, 3);
	addr_format(&cfg->agent.allow[1].addr, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::");
	assert_int_equal(cfg->agent.allow[1].len, 32);
	assert_int_equal(cfg->agent.allow[2].len, 0);
	config_free(cfg);

	/* one string stands for a one-element list; 64 characters are fine */
	cfg = load_ok("agent = { allow = \"10.0.0.0/8\"; community = "
	    "\"a234567890123456789012345678901234567890123456789012345678901234\"; };");
	assert_int_equal(cfg->agent.nallow, 1);
	assert_int_equal(cfg->agent.allow[0].len, 8);
	assert_int_equal(strlen(cfg->agent.community), CONFIG_COMMUNITY_MAX);
	config_free(cfg);
}

static void
agent_access_errors_are_reported(void **state)
{
	char *text;

	EXPECT("agent = {\n"
	    "  community = \"\";\n"
	    "  allow = [ ];\n"
	    "};\n",
	    "2: agent.community: must be 1 to 64 printable ASCII characters without "
	    "spaces, quotes or backslashes (got \"\")",
	    "3: agent.allow: must have between 1 and 64 elements (got 0)");
	EXPECT("agent = { community = \"has space\"; };\n"
	    "agent2 = 1;\n",
	    "1: agent.community: must be 1 to 64 printable ASCII characters without "
	    "spaces, quotes or backslashes (got \"has space\")",
	    "2: agent2: unknown setting");
	EXPECT("agent = { community = \"it's\"; };\n",
	    "1: agent.community: must be 1 to 64 printable ASCII characters without "
	    "spaces, quotes or backslashes (got \"it's\")");
	EXPECT("agent = { community = \"a\\\\b\"; };\n",
	    "1: agent.community: must be 1 to 64 printable ASCII characters without "
	    "spaces, quotes or backslashes (got \"a\\\\b\")");
	EXPECT("agent = { community = \"q\\\"q\"; };\n",
	    "1: agent.community: must be 1 to 64 printable ASCII characters without "
	    "spaces, quotes or backslashes (got \"q\\\"q\")");
	EXPECT("agent = { community = \"tab\\there\"; };\n",
	    "1: agent.community: must be 1 to 64 printable ASCII characters without "
	    "spaces, quotes or backslashes (got \"tab\\x09here\")");
	EXPECT("agent = { community = "
	    "\"a2345678901234567890123456789012345678901234567890123456789012345\"; };\n",
	    "1: agent.community: must be 1 to 64 printable ASCII characters without "
	    "spaces, quotes or backslashes (got "
	    "\"a234567890123456789012345678901234567890123456789012345678901234...\")");
	EXPECT("agent = { community = 161;\n"
	    "  allow = ( \"10.0.0.1/8\", \"localhost\", 127 ); };\n",
	    "1: agent.community: must be a string (got an integer)",
	    "2: agent.allow[0]: host bits set beyond the prefix length: \"10.0.0.1/8\"",
	    "2: agent.allow[1]: not a prefix (ADDRESS/LENGTH): \"localhost\"",
	    "2: agent.allow[2]: must be a string (got an integer)");
	text = repeat_text("agent = { allow = [ \"10.0.0.0/8\"",
	    ", \"10.0.0.0/8\"", CONFIG_MAX_AGENT_ALLOW, " ]; };\n");
	EXPECT(text, "1: agent.allow: must have between 1 and 64 elements (got 65)");
	free(text);
}

static void
too_many_elements_are_refused(void **state)
{
	char *text = repeat_text("collector = { listen = [ \"1.2.3.4:5\"",
	    ", \"1.2.3.4:5\"", CONFIG_MAX_LISTEN, " ]; };\n");

	EXPECT(text, "1: collector.listen: must have between 0 and 64 elements (got 65)");
	free(text);
}

static void
probe_count_is_capped(void **state)
{
	char *text = repeat_text("probes = ( { name = \"p\"; type = \"icmp\"; target = \"::1\"; }",
	    ", { name = \"p\"; type = \"icmp\"; target = \"::1\"; }", CONFIG_MAX_PROBES, " );\n");
	char want[128];

	snprintf(want, sizeof(want), "1: probes: must have between 0 and %d elements (got %d)",
	    CONFIG_MAX_PROBES, CONFIG_MAX_PROBES + 1);
	EXPECT(text, want);
	free(text);
}

static void
error_list_is_bounded_and_counts_the_rest(void **state)
{
	struct loaded l;
	size_t i, n = CONFIG_MAX_ERRORS + 23;
	char *text = malloc(n * 16);
	assert_non_null(text);
	text[0] = '\0';
	for (i = 0; i < n; i++)
		sprintf(text + strlen(text), "x%zu = 1;\n", i);
	load_text(&l, text);
	assert_null(l.cfg);
	assert_int_equal(l.errs.count, CONFIG_MAX_ERRORS);
	assert_int_equal(l.errs.dropped, 23);
	config_errors_clear(&l.errs);
	assert_int_equal(l.errs.count, 0);
	free(text);
}

static void
hostile_text_is_cut_and_escaped_in_messages(void **state)
{
	char name[200], text[400], want[300];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "probes = ( { name = \"%s\\n\\x01\"; type = \"icmp\"; "
	    "target = \"::1\"; } );\n", name);
	snprintf(want, sizeof(want), "1: probes[0].name: must be 1 to 32 characters of "
	    "A-Z a-z 0-9 . _ - (got \"%.64s...\")", name);
	EXPECT(text, want);
	EXPECT("probes = ( { name = \"a\\\"\\x7f\"; type = \"icmp\"; target = \"::1\"; } );\n",
	    "1: probes[0].name: must be 1 to 32 characters of A-Z a-z 0-9 . _ - "
	    "(got \"a\\\"\\x7f\")");
}

static void
long_unknown_setting_name_is_cut(void **state)
{
	char text[600];
	struct loaded l;

	memset(text, 'k', 500);
	strcpy(text + 500, " = 1;\n");
	load_text(&l, text);
	assert_null(l.cfg);
	assert_int_equal(l.errs.count, 1);
	assert_true(strlen(l.errs.msg[0]) < 300);
	assert_non_null(strstr(l.errs.msg[0], ":1: kkkk"));
	config_errors_clear(&l.errs);
}

static void
libconfig_64bit_integers_are_range_checked(void **state)
{
	EXPECT("collector = { receive_buffer = 5000000000L; };\n",
	    "1: collector.receive_buffer: must be between 0 and 1073741824 bytes (got 5000000000)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(repo_example_loads),
		cmocka_unit_test(design_example_loads_with_its_values),
		cmocka_unit_test(empty_file_gives_every_default),
		cmocka_unit_test(list_entries_get_their_defaults),
		cmocka_unit_test(seconds_accept_integer_float_and_duration),
		cmocka_unit_test(transports_accept_net_snmp_forms),
		cmocka_unit_test(empty_pidfile_means_none),
		cmocka_unit_test(single_string_stands_for_a_one_element_list),
		cmocka_unit_test(names_of_keys_and_probe_types),
		cmocka_unit_test(syntax_error_names_file_and_line),
		cmocka_unit_test(missing_file_is_reported),
		cmocka_unit_test(directory_is_not_a_config_file),
		cmocka_unit_test(unknown_setting_at_top_level),
		cmocka_unit_test(unknown_setting_in_a_section),
		cmocka_unit_test(unknown_setting_in_a_list_entry),
		cmocka_unit_test(wrong_type_is_reported),
		cmocka_unit_test(out_of_range_is_reported_with_bounds),
		cmocka_unit_test(fractional_seconds_refused_where_whole_seconds_are_kept),
		cmocka_unit_test(non_finite_seconds_are_out_of_range),
		cmocka_unit_test(duplicate_name_points_at_the_first),
		cmocka_unit_test(same_name_in_different_sections_is_fine),
		cmocka_unit_test(bad_name_is_reported),
		cmocka_unit_test(malformed_address_is_reported),
		cmocka_unit_test(probe_target_has_a_port_exactly_for_udp_and_tcp),
		cmocka_unit_test(probe_dscp_sets_the_upper_six_bits_of_tos),
		cmocka_unit_test(probe_dscp_is_checked_and_excludes_tos),
		cmocka_unit_test(probe_timeout_must_be_positive),
		cmocka_unit_test(probe_window_must_hold_an_interval),
		cmocka_unit_test(probe_names_are_unique),
		cmocka_unit_test(probe_count_is_capped),
		cmocka_unit_test(malformed_prefix_is_reported),
		cmocka_unit_test(prefix_with_host_bits_is_reported),
		cmocka_unit_test(bad_endpoint_is_reported),
		cmocka_unit_test(bad_transport_is_reported),
		cmocka_unit_test(bad_duration_is_reported),
		cmocka_unit_test(missing_required_is_reported_on_its_group),
		cmocka_unit_test(bad_enum_lists_the_choices),
		cmocka_unit_test(aggregation_keys_are_checked),
		cmocka_unit_test(network_keys_accept_networks_defined_later),
		cmocka_unit_test(capture_needs_exactly_one_source),
		cmocka_unit_test(paths_and_texts_are_checked),
		cmocka_unit_test(several_errors_come_in_file_order),
		cmocka_unit_test(too_many_elements_are_refused),
		cmocka_unit_test(agent_access_defaults_when_absent),
		cmocka_unit_test(agent_access_settings_load),
		cmocka_unit_test(agent_access_errors_are_reported),
		cmocka_unit_test(error_list_is_bounded_and_counts_the_rest),
		cmocka_unit_test(hostile_text_is_cut_and_escaped_in_messages),
		cmocka_unit_test(long_unknown_setting_name_is_cut),
		cmocka_unit_test(libconfig_64bit_integers_are_range_checked),
		cmocka_unit_test(collector_caps_and_exporter_overrides_load),
		cmocka_unit_test(collector_caps_default_when_absent),
		cmocka_unit_test(exporter_override_errors_are_reported),
		cmocka_unit_test(filter_errors_name_the_column_and_networks_may_come_later),
		cmocka_unit_test(a_prefix_may_be_in_one_network_once),
		cmocka_unit_test(rule_settings_load_with_their_defaults),
		cmocka_unit_test(rule_expression_errors_name_the_column),
		cmocka_unit_test(rule_history_is_bounded_by_max_history),
		cmocka_unit_test(alarm_settings_load_with_their_defaults),
		cmocka_unit_test(alarm_setting_errors_are_reported),
		cmocka_unit_test(builtin_alarm_names_are_reserved_while_on),
		cmocka_unit_test(agent_trap_sinks_are_endpoints),
		cmocka_unit_test(metric_store_bounds_are_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
