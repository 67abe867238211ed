/*
 * flowpathd: command line, start-up, signals and configuration reloads
 * around the single-threaded event loop.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "subagent/aggregate.h"
#include "subagent/agentx.h"
#include "subagent/clock.h"
#include "subagent/collect.h"
#include "subagent/config.h"
#include "subagent/daemon.h"
#include "subagent/log.h"
#include "subagent/loop.h"
#include "engine/metric.h"
#include "subagent/mib_aggregate.h"
#include "subagent/mib_alarm.h"
#include "subagent/mib_collector.h"
#include "subagent/mib_probe.h"
#include "subagent/mib_system.h"
#include "subagent/notify.h"
#include "subagent/rules.h"
#include "subagent/probe.h"
#include "subagent/sampler.h"
#include "subagent/status.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/flowpath/flowpathd.conf"

static volatile sig_atomic_t got_quit;
static volatile sig_atomic_t got_reload;

struct flowpathd {
	struct fp_config *conf;
	struct fp_status status;
	struct loop	*loop;
	struct collect	*collect;
	struct aggregate *aggs;
	struct metric_store *metrics;
	struct probe_set *probes;
	struct sampler	*sampler;
	struct rules	*rules;
	struct notify	*notify;
	struct pidfile	*pidfile;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: flowpathd [-fht] [-c file]\n"
	    "       flowpathd -V\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -f       stay in the foreground and log to stderr\n"
	    "  -t       check the configuration, list every error, and exit\n"
	    "  -h       this help\n"
	    "  -V       print the version and exit\n", DEFAULT_CONFIG);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_quit = 1;
}

/* The signals stay blocked except inside ppoll(); waitmask is the mask to use there. */
static void
signals_setup(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGHUP);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
}

static void
print_errors(const struct config_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	if (errs->dropped > 0)
		fprintf(stderr, "... and %zu more errors\n", errs->dropped);
}

static void
copy_text(char *dst, const char *src)
{
	size_t n = strnlen(src, STATUS_TEXT_MAX);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
apply_log_level(const struct fp_config *conf)
{
	enum log_level level = LOG_LEVEL_INFO;

	if (conf->daemon.log_level != NULL)
		log_level_parse(conf->daemon.log_level, &level);
	log_set_level(level);
}

static void
apply_notify(struct flowpathd *fp, const struct fp_config *conf)
{
	struct notify_limits lim = { conf->alarms.queue_size, NOTIFY_DEFAULT_PER_TICK,
	    NOTIFY_DEFAULT_TICK_NS };

	notify_set_limits(fp->notify, &lim);
}

/* Whether one of the n entries (size bytes each, the name at offset off) is named name. */
static bool
named(const void *entries, size_t n, size_t size, size_t off, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp((const char *)entries + i * size + off, name) == 0)
			return true;
	return false;
}

/*
 * Forgets the metrics of the entry name of kind ("probe": kind.name.,
 * "agg": kind.name. and kind.name[), sparing those of the n entries of the
 * new configuration named name.SOMETHING: names may hold dots, so theirs
 * start with the same prefix ("probe.a." and probe "a.b"'s "probe.a.b.rtt").
 */
static size_t
forget_entry(struct metric_store *metrics, const char *kind, const char *name,
    const void *entries, size_t n, size_t size, size_t off)
{
	bool brackets = strcmp(kind, "agg") == 0;
	size_t len = strlen(name), nkeep = 0, forgot;
	char (*buf)[METRIC_NAME_MAX + 1] = calloc(2 * n + 1, sizeof(*buf));
	const char **keep = calloc(2 * n + 1, sizeof(*keep));
	char prefix[METRIC_NAME_MAX + 1];

	if (buf == NULL || keep == NULL) {
		log_warnx("%s %s removed: out of memory, its metrics are kept", kind, name);
		free(buf);
		free(keep);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const char *k = (const char *)entries + i * size + off;

		if (strncmp(k, name, len) != 0 || k[len] != '.')
			continue;
		for (int b = 0; b <= (int)brackets; b++) {
			snprintf(buf[nkeep], sizeof(buf[nkeep]), "%s.%s%c", kind, k, b ? '[' : '.');
			keep[nkeep] = buf[nkeep];
			nkeep++;
		}
	}
	snprintf(prefix, sizeof(prefix), "%s.%s.", kind, name);
	forgot = metric_forget_except(metrics, prefix, keep, nkeep);
	if (brackets) {
		snprintf(prefix, sizeof(prefix), "%s.%s[", kind, name);
		forgot += metric_forget_except(metrics, prefix, keep, nkeep);
	}
	free(buf);
	free(keep);
	return forgot;
}

/*
 * The metrics of the probes and aggregations that old has and new lacks
 * are forgotten, so that the rule instances they made go and their raised
 * alarms clear at the next evaluation (docs/rules.md). The dot and the
 * bracket end the name: "probe.a." leaves "probe.ab.rtt" alone.
 */
static void
forget_removed(struct metric_store *metrics, const struct fp_config *old,
    const struct fp_config *new)
{
	size_t n;

	for (size_t i = 0; i < old->nprobes; i++) {
		if (named(new->probes, new->nprobes, sizeof(*new->probes),
		    offsetof(struct cfg_probe, name), old->probes[i].name))
			continue;
		n = forget_entry(metrics, "probe", old->probes[i].name, new->probes,
		    new->nprobes, sizeof(*new->probes), offsetof(struct cfg_probe, name));
		log_info("probe %s removed: %zu metrics forgotten", old->probes[i].name, n);
	}
	for (size_t i = 0; i < old->naggregations; i++) {
		if (named(new->aggregations, new->naggregations, sizeof(*new->aggregations),
		    offsetof(struct cfg_aggregation, name), old->aggregations[i].name))
			continue;
		n = forget_entry(metrics, "agg", old->aggregations[i].name, new->aggregations,
		    new->naggregations, sizeof(*new->aggregations),
		    offsetof(struct cfg_aggregation, name));
		log_info("aggregation %s removed: %zu metrics forgotten",
		    old->aggregations[i].name, n);
	}
}

static void
reload(struct flowpathd *fp)
{
	struct config_errors errs = { 0 };
	struct fp_config *conf;

	log_info("reloading %s", fp->status.config_file);
	conf = config_load(fp->status.config_file, &errs);
	if (conf == NULL) {
		for (size_t i = 0; i < errs.count; i++)
			log_warnx("%s", errs.msg[i]);
		if (errs.dropped > 0)
			log_warnx("... and %zu more errors", errs.dropped);
		log_warnx("configuration refused; the running configuration is kept");
		fp->status.config_reload_failures++;
		copy_text(fp->status.config_last_error, errs.count > 0 ? errs.msg[0] :
		    "configuration refused");
		rules_reload_failed(fp->rules, fp->status.config_file, &errs);
		config_errors_clear(&errs);
		return;
	}
	agentx_check_reload(fp->conf, conf);
	collect_apply(fp->collect, conf);
	aggregate_apply(fp->aggs, conf);
	probe_apply(fp->probes, conf);
	apply_notify(fp, conf);
	rules_apply(fp->rules, conf);
	forget_removed(fp->metrics, fp->conf, conf);
	if ((fp->conf->daemon.pidfile == NULL) != (conf->daemon.pidfile == NULL) ||
	    (conf->daemon.pidfile != NULL &&
	    strcmp(fp->conf->daemon.pidfile, conf->daemon.pidfile) != 0))
		log_warnx("daemon.pidfile changed; it takes effect when flowpathd restarts");
	if (fp->conf->alarms.max_metrics != conf->alarms.max_metrics ||
	    fp->conf->alarms.max_points != conf->alarms.max_points)
		log_warnx("alarms.max_metrics and max_points take effect when flowpathd restarts");
	config_free(fp->conf);
	fp->conf = conf;
	apply_log_level(conf);
	fp->status.config_reloads++;
	fp->status.config_load_wall_ns = clock_wall_ns();
	fp->status.config_last_error[0] = '\0';
	log_info("configuration reloaded");
}

static struct fp_config *
load_or_exit(const char *path)
{
	struct config_errors errs = { 0 };
	struct fp_config *conf = config_load(path, &errs);

	if (conf == NULL) {
		print_errors(&errs);
		config_errors_clear(&errs);
		exit(1);
	}
	return conf;
}

/* The bounds of the metric store are taken once, at start. */
static struct metric_store *
metrics_new(const struct fp_config *conf)
{
	struct metric_limits lim = { .max_metrics = conf->alarms.max_metrics,
	    .max_points = conf->alarms.max_points };

	return metric_store_new(&lim);
}

static void
register_modules(void *arg)
{
	struct flowpathd *fp = arg;

	mib_system_init(&fp->status);
	mib_collector_init(fp->loop, collect_collector(fp->collect));
	mib_aggregate_init(fp->aggs);
	mib_probe_init(fp->probes);
	mib_alarm_init(fp->rules, fp->notify);
}

static void
start_pidfile(struct flowpathd *fp)
{
	pid_t owner;
	const char *path = fp->conf->daemon.pidfile;

	if (path == NULL || path[0] == '\0')
		return;
	fp->pidfile = pidfile_open(path, &owner);
	if (fp->pidfile == NULL) {
		if (owner > 0)
			fatalx("already running (pid %ld, pid file %s)", (long)owner, path);
		fatal("pid file %s", path);
	}
}

int
main(int argc, char *argv[])
{
	struct flowpathd fp = { 0 };
	const char *path = DEFAULT_CONFIG;
	char abspath[PATH_MAX];
	bool foreground = false, check_only = false;
	sigset_t waitmask;
	int ch;

	while ((ch = getopt(argc, argv, "c:fhtV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 't':
			check_only = true;
			break;
		case 'V':
			printf("flowpathd %s\n", FP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	fp.conf = load_or_exit(path);
	if (check_only) {
		printf("%s: configuration OK\n", path);
		config_free(fp.conf);
		return 0;
	}
	/* Reloads after chdir("/") need the absolute path. */
	if (realpath(path, abspath) == NULL) {
		fprintf(stderr, "flowpathd: %s: %s\n", path, strerror(errno));
		return 1;
	}
	copy_text(fp.status.config_file, abspath);

	log_init("flowpathd", foreground);
	apply_log_level(fp.conf);
	start_pidfile(&fp);
	/* Sockets before detaching, so that a port in use is said on the terminal. */
	if ((fp.loop = loop_new()) == NULL || (fp.collect = collect_new(fp.loop, fp.conf)) == NULL)
		fatalx("out of memory");
	if (!collect_apply(fp.collect, fp.conf))
		fatalx("cannot open the collector's listen sockets");
	if ((fp.aggs = aggregate_new(fp.loop)) == NULL || !aggregate_apply(fp.aggs, fp.conf))
		fatalx("cannot build the aggregations");
	collect_set_sink(fp.collect, aggregate_record, fp.aggs);
	/* The notification queue before agentx_init(): it follows the AgentX connection. */
	if ((fp.metrics = metrics_new(fp.conf)) == NULL ||
	    (fp.sampler = sampler_new(fp.loop, fp.metrics, collect_collector(fp.collect),
	    fp.aggs)) == NULL ||
	    (fp.rules = rules_new(fp.loop, fp.metrics, clock_mono_ns())) == NULL ||
	    (fp.notify = notify_new(fp.loop, NULL)) == NULL)
		fatalx("out of memory");
	/* Before the rules, whose wildcards expand over the probes' metric names. */
	if ((fp.probes = probe_new(fp.loop, fp.metrics)) == NULL)
		fatalx("out of memory");
	if (!probe_apply(fp.probes, fp.conf))
		fatalx("cannot start the probes or the reflector");
	apply_notify(&fp, fp.conf);
	rules_apply(fp.rules, fp.conf);
	fp.status.start_wall_ns = clock_wall_ns();
	fp.status.start_mono_ns = clock_mono_ns();
	fp.status.config_load_wall_ns = fp.status.start_wall_ns;
	signals_setup(&waitmask);
	/* Also before detaching: a standalone agent's port in use shows on the terminal. */
	agentx_init(fp.conf, &fp.status, foreground, register_modules, &fp);
	if (!foreground && daemon_detach() == -1)
		fatal("cannot detach from the terminal");
	if (fp.pidfile != NULL && pidfile_write(fp.pidfile) == -1)
		fatal("cannot write the pid file %s", fp.conf->daemon.pidfile);
	log_info("flowpathd %s started with %s", FP_VERSION, fp.status.config_file);

	while (!got_quit) {
		if (got_reload) {
			got_reload = 0;
			reload(&fp);
		}
		loop_run_once(fp.loop, &waitmask, 10 * CLOCK_NS_PER_SEC);
	}

	log_info("stopping");
	mib_alarm_shutdown();
	rules_free(fp.rules);
	mib_probe_shutdown();
	mib_aggregate_shutdown();
	mib_collector_shutdown();
	agentx_shutdown();
	collect_free(fp.collect);
	aggregate_free(fp.aggs);
	probe_free(fp.probes);
	sampler_free(fp.sampler);
	notify_free(fp.notify);
	metric_store_free(fp.metrics);
	loop_free(fp.loop);
	pidfile_remove(fp.pidfile);
	config_free(fp.conf);
	return 0;
}
