/*
 * subagent/rules on a real event loop and metric store, rules at 0.1 s
 * intervals: events reach the sink, the state file carries raised alarms
 * across a restart without a second raise, a reload keeps unchanged rules
 * and clears changed or removed ones, an instance whose metrics are
 * forgotten clears and goes, broken state records are ignored,
 * the instance cap and the token bucket's summary hold.
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

#include "engine/metric.h"
#include "subagent/clock.h"
#include "subagent/config.h"
#include "subagent/loop.h"
#include "subagent/rules.h"

#define MS CLOCK_NS_PER_MS

struct sink {
	int		 raised, cleared, summaries;
	uint32_t	 last_id;
	uint64_t	 suppressed;
	char		 last_rule[CONFIG_NAME_MAX + 1];
	char		 last_instance[METRIC_NAME_MAX + 1];
	char		 last_when[256];
};

static void
on_event(void *arg, const struct rules_event *e)
{
	struct sink *s = arg;

	switch (e->kind) {
	case RULES_RAISED:	s->raised++; break;
	case RULES_CLEARED:	s->cleared++; break;
	case RULES_SUMMARY:	s->summaries++; s->suppressed += e->suppressed; break;
	}
	s->last_id = e->alarm_id;
	snprintf(s->last_rule, sizeof(s->last_rule), "%s", e->rule);
	snprintf(s->last_instance, sizeof(s->last_instance), "%s", e->instance);
	snprintf(s->last_when, sizeof(s->last_when), "%s", e->when);
}

struct world {
	struct loop	*loop;
	struct metric_store *store;
	struct rules	*rules;
	struct fp_config *conf;
	struct sink	 sink;
	char		 state[64];
};

/* The built-in alarms off, alarms settings, the state file of w, and text. */
static struct fp_config *
conf_of(struct world *w, const char *alarms, const char *text)
{
	char path[64], body[8192];
	struct config_errors errs = { 0 };
	struct fp_config *cfg;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/fp-test-rules-conf-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	snprintf(body, sizeof(body), "daemon = { state_file = \"%s\"; };\n"
	    "alarms = { exporter_silent = false; exporter_loss = false; kernel_drops = false;\n"
	    "  probe_unreachable = false; %s };\n%s", w->state, alarms, text);
	fputs(body, f);
	fclose(f);
	cfg = config_load(path, &errs);
	for (size_t i = 0; i < errs.count; i++)
		print_error("%s\n", errs.msg[i]);
	unlink(path);
	assert_non_null(cfg);
	config_errors_clear(&errs);
	return cfg;
}

static void
start_with(struct world *w, const char *alarms, const char *text)
{
	w->rules = rules_new(w->loop, w->store, clock_mono_ns());
	assert_non_null(w->rules);
	rules_set_sink(w->rules, on_event, &w->sink);
	w->conf = conf_of(w, alarms, text);
	assert_true(rules_apply(w->rules, w->conf));
}

static void
start(struct world *w, const char *text)
{
	start_with(w, "", text);
}

static void
stop(struct world *w)
{
	rules_free(w->rules);
	config_free(w->conf);
	w->rules = NULL;
	w->conf = NULL;
}

static void
reload(struct world *w, const char *text)
{
	config_free(w->conf);
	w->conf = conf_of(w, "", text);
	assert_true(rules_apply(w->rules, w->conf));
}

/* Loop passes for ms milliseconds, putting name = v every 20 ms (name NULL: none). */
static void
run(struct world *w, const char *name, double v, int64_t ms)
{
	int64_t end = clock_mono_ns() + ms * MS;
	sigset_t none;
	uint32_t id = name ? metric_intern(w->store, name) : 0;

	sigemptyset(&none);
	while (clock_mono_ns() < end) {
		if (id != 0)
			metric_put(w->store, id, clock_mono_ns(), v);
		loop_run_once(w->loop, &none, 20 * MS);
	}
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	int fd;

	assert_non_null(w);
	snprintf(w->state, sizeof(w->state), "/tmp/fp-test-rules-state-XXXXXX");
	assert_true((fd = mkstemp(w->state)) >= 0);
	close(fd);
	unlink(w->state);	/* no file yet: a first start */
	assert_non_null(w->loop = loop_new());
	assert_non_null(w->store = metric_store_new(NULL));
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	if (w->rules != NULL)
		stop(w);
	metric_store_free(w->store);
	loop_free(w->loop);
	unlink(w->state);
	free(w);
	return 0;
}

#define RULE_X "rules = ( { name = \"x-high\"; when = \"test.x > 1\"; interval = 0.1; } );\n"

static void
a_condition_that_holds_raises_once_and_clears_once(void **state)
{
	struct world *w = *state;
	struct alarm_info ai;

	start(w, RULE_X);
	run(w, "test.x", 5, 300);
	assert_int_equal(w->sink.raised, 1);
	assert_string_equal(w->sink.last_rule, "x-high");
	assert_string_equal(w->sink.last_when, "test.x > 1");
	assert_int_equal(rules_active_count(w->rules), 1);
	rules_active(w->rules, 0, &ai);
	assert_int_equal(ai.id, w->sink.last_id);
	assert_int_equal(ai.state, ALARM_FIRING);
	assert_true(ai.has_value && ai.value == 5);
	run(w, "test.x", 0, 300);
	assert_int_equal(w->sink.raised, 1);
	assert_int_equal(w->sink.cleared, 1);
	assert_int_equal(rules_active_count(w->rules), 0);
}

static void
a_restart_restores_the_firing_alarm_without_a_second_raise(void **state)
{
	struct world *w = *state;
	struct alarm_info ai;
	uint32_t id;

	start(w, RULE_X);
	run(w, "test.x", 5, 300);
	assert_int_equal(w->sink.raised, 1);
	id = w->sink.last_id;
	stop(w);	/* writes the state file */

	start(w, RULE_X);
	run(w, "test.x", 5, 400);
	assert_int_equal(w->sink.raised, 1);
	assert_int_equal(w->sink.cleared, 0);
	assert_true(rules_alarm(w->rules, id, &ai));
	assert_int_equal(ai.state, ALARM_FIRING);
	/* New alarms get new numbers. */
	reload(w, "rules = ( { name = \"x-high\"; when = \"test.x > 1\"; interval = 0.1; },\n"
	    "  { name = \"y\"; when = \"test.x > 2\"; interval = 0.1; } );\n");
	run(w, "test.x", 5, 300);
	assert_int_equal(w->sink.raised, 2);
	assert_true(w->sink.last_id > id);
}

static void
a_restart_with_a_changed_rule_clears_the_old_alarm(void **state)
{
	struct world *w = *state;
	uint32_t id;

	start(w, RULE_X);
	run(w, "test.x", 5, 300);
	id = w->sink.last_id;
	stop(w);

	start(w, "rules = ( { name = \"x-high\"; when = \"test.x > 2\"; interval = 0.1; } );\n");
	run(w, NULL, 0, 50);
	assert_int_equal(w->sink.cleared, 1);
	assert_int_equal(w->sink.last_id, id);
	assert_string_equal(w->sink.last_when, "");	/* the rule it was raised by is gone */
	run(w, "test.x", 5, 300);
	assert_int_equal(w->sink.raised, 2);	/* the new rule raises anew */
	assert_true(w->sink.last_id > id);
}

static void
a_restored_instance_without_samples_since_the_restart_stays_raised(void **state)
{
	struct world *w = *state;
	const char *silent = "rules = ( { name = \"silent\"; when = \"nodata(test.*.n, 300ms)\";\n"
	    "  interval = 0.1; } );\n";
	uint32_t id;

	start(w, silent);
	metric_put(w->store, metric_intern(w->store, "test.a.n"), clock_mono_ns(), 1);
	run(w, NULL, 0, 700);
	assert_int_equal(w->sink.raised, 1);
	id = w->sink.last_id;
	stop(w);
	/* A new process: an empty store, the exporter still silent. */
	metric_store_free(w->store);
	assert_non_null(w->store = metric_store_new(NULL));
	start(w, silent);
	run(w, NULL, 0, 700);
	assert_int_equal(w->sink.raised, 1);
	assert_int_equal(w->sink.cleared, 0);
	assert_int_equal(rules_active_count(w->rules), 1);
	assert_int_equal(w->sink.last_id, id);
}

static void
an_instance_whose_metrics_are_forgotten_clears_once_and_goes(void **state)
{
	struct world *w = *state;
	const char *lossy = "rules = ( { name = \"lossy\"; when = \"probe.*.loss > 10%\";\n"
	    "  interval = 0.1; } );\n";
	struct alarm_info ai;
	struct rule_info ri;
	uint32_t id_a = 0;

	start(w, lossy);
	metric_put(w->store, metric_intern(w->store, "probe.b.loss"), clock_mono_ns(), 0.5);
	run(w, "probe.a.loss", 0.5, 300);
	assert_int_equal(w->sink.raised, 2);
	for (size_t i = 0; i < rules_active_count(w->rules); i++) {
		rules_active(w->rules, i, &ai);
		if (strcmp(ai.instance, "a") == 0)
			id_a = ai.id;
	}
	assert_int_not_equal(id_a, 0);
	/* The probe removed by a reload: its metrics forgotten. */
	assert_int_equal(metric_forget(w->store, "probe.a."), 1);
	run(w, NULL, 0, 300);
	assert_int_equal(w->sink.cleared, 1);
	assert_string_equal(w->sink.last_instance, "a");
	assert_int_equal(w->sink.last_id, id_a);
	assert_string_equal(w->sink.last_when, "probe.*.loss > 10%");
	assert_false(rules_alarm(w->rules, id_a, &ai));
	assert_int_equal(rules_active_count(w->rules), 1);
	rules_active(w->rules, 0, &ai);
	assert_string_equal(ai.instance, "b");
	rules_info(w->rules, 0, &ri);
	assert_int_equal(ri.instances, 1);
	assert_int_equal(w->sink.raised, 2);
	stop(w);

	/*
	 * A restart: the state file kept b only. b's exporter is still silent
	 * (restored, unseen: it stays raised, no second RAISED); a probe "a"
	 * that comes back is a new alarm.
	 */
	metric_store_free(w->store);
	assert_non_null(w->store = metric_store_new(NULL));
	start(w, lossy);
	run(w, "probe.a.loss", 0.5, 300);
	assert_int_equal(w->sink.raised, 3);
	assert_string_equal(w->sink.last_instance, "a");
	assert_true(w->sink.last_id > id_a);
	assert_int_equal(w->sink.cleared, 1);
	assert_int_equal(rules_active_count(w->rules), 2);
}

static void
broken_state_records_are_ignored(void **state)
{
	struct world *w = *state;
	FILE *f;

	start(w, RULE_X);
	run(w, "test.x", 5, 300);
	stop(w);
	assert_non_null(f = fopen(w->state, "a"));
	fputs("a x-high 0 1 3 1 1 0 0 0 1 0x0p+0\n"	/* a field short */
	    "a x-high zz 9 3 1 1 0 0 0 1 0x0p+0 i\n"
	    "a x-high 0 9 3 1 1 0 0 0 1 0x0p+0 i%4\n"	/* a cut escape */
	    "a nosuch 0 9 3 1 1 0 0 0 1 0x0p+0 i\n"	/* raised, rule gone: cleared */
	    "garbage\n", f);
	fclose(f);
	start(w, RULE_X);
	run(w, "test.x", 5, 300);
	assert_int_equal(w->sink.raised, 1);
	assert_int_equal(w->sink.cleared, 1);
	assert_string_equal(w->sink.last_rule, "nosuch");
	assert_int_equal(rules_active_count(w->rules), 1);
}

/* Every "a " record of the state file given the alarm id id (a corrupt or hand-edited file). */
static void
state_ids_set(struct world *w, unsigned id)
{
	char lines[16][512];
	size_t n = 0;
	FILE *f;

	assert_non_null(f = fopen(w->state, "r"));
	while (n < 16 && fgets(lines[n], sizeof(lines[n]), f) != NULL)
		n++;
	fclose(f);
	assert_non_null(f = fopen(w->state, "w"));
	for (size_t i = 0; i < n; i++) {
		char rule[64], ident[32], rest[400];
		unsigned old;

		if (strncmp(lines[i], "a ", 2) == 0 &&
		    sscanf(lines[i], "a %63s %31s %u %399[^\n]", rule, ident, &old, rest) == 4) {
			fprintf(f, "a %s %s %u %s\n", rule, ident, id, rest);
			continue;
		}
		fputs(lines[i], f);
	}
	fclose(f);
}

/* 300 ms of the loop, putting probe.a.loss = a and probe.b.loss = b every 20 ms. */
static void
run_ab(struct world *w, double a, double b)
{
	uint32_t ia = metric_intern(w->store, "probe.a.loss");
	uint32_t ib = metric_intern(w->store, "probe.b.loss");

	for (int i = 0; i < 15; i++) {
		metric_put(w->store, ia, clock_mono_ns(), a);
		metric_put(w->store, ib, clock_mono_ns(), b);
		run(w, NULL, 0, 20);
	}
}

static void
a_state_record_reusing_an_alarm_id_is_ignored(void **state)
{
	struct world *w = *state;
	const char *lossy = "rules = ( { name = \"lossy\"; when = \"probe.*.loss > 10%\";\n"
	    "  interval = 0.1; } );\n";
	struct alarm_info ai0, ai1;

	start(w, lossy);
	run_ab(w, 0.5, 0.5);
	assert_int_equal(rules_active_count(w->rules), 2);
	stop(w);
	state_ids_set(w, 7);

	/* One alarm keeps id 7; the other record is refused and its alarm raised anew. */
	start(w, lossy);
	run_ab(w, 0.5, 0.5);
	assert_int_equal(rules_active_count(w->rules), 2);
	rules_active(w->rules, 0, &ai0);
	rules_active(w->rules, 1, &ai1);
	assert_int_not_equal(ai0.id, ai1.id);
	assert_true(ai0.id == 7 || ai1.id == 7);
	assert_int_equal(w->sink.raised, 3);
	/* a clears: its row goes, b's stays. */
	run_ab(w, 0, 0.5);
	assert_int_equal(rules_active_count(w->rules), 1);
	rules_active(w->rules, 0, &ai0);
	assert_string_equal(ai0.instance, "b");
	assert_int_equal(ai0.state, ALARM_FIRING);
}

static void
a_reload_keeps_unchanged_rules_and_clears_removed_ones(void **state)
{
	struct world *w = *state;
	struct rule_info ri;

	start(w, "rules = ( { name = \"a\"; when = \"test.x > 1\"; interval = 0.1; },\n"
	    "  { name = \"b\"; when = \"test.x > 2\"; interval = 0.1; } );\n");
	run(w, "test.x", 5, 300);
	assert_int_equal(w->sink.raised, 2);
	reload(w, "rules = ( { name = \"a\"; when = \"test.x > 1\"; interval = 0.2;\n"
	    "  description = \"new text\"; } );\n");
	assert_int_equal(w->sink.cleared, 1);
	assert_string_equal(w->sink.last_rule, "b");
	assert_int_equal(rules_count(w->rules), 1);
	rules_info(w->rules, 0, &ri);
	assert_string_equal(ri.description, "new text");
	assert_int_equal(ri.interval_ns, 200 * MS);
	assert_int_equal(ri.fire_count, 1);	/* the same rule, kept */
	run(w, "test.x", 5, 300);
	assert_int_equal(w->sink.raised, 2);
	assert_int_equal(rules_active_count(w->rules), 1);
}

static void
wildcard_instances_stop_at_max_instances(void **state)
{
	struct world *w = *state;
	struct rules_stats st;
	struct rule_info ri;
	char name[32];

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "probe.p%d.loss", i);
		metric_put(w->store, metric_intern(w->store, name), clock_mono_ns(), 0.5);
	}
	start_with(w, "max_instances = 3;",
	    "rules = ( { name = \"lossy\"; when = \"probe.*.loss > 10%\"; interval = 0.1; } );\n");
	run(w, NULL, 0, 300);
	rules_info(w->rules, 0, &ri);
	assert_int_equal(ri.instances, 3);
	assert_int_equal(ri.firing, 3);
	assert_int_equal(ri.state, ALARM_FIRING);
	rules_get_stats(w->rules, &st);
	assert_true(st.instances_refused >= 2);
	assert_int_equal(w->sink.raised, 3);
}

static void
the_token_bucket_holds_back_and_one_summary_counts_it(void **state)
{
	struct world *w = *state;
	struct rules_stats st;
	char text[2048];
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "rules = (\n");
	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s { name = \"r%d\"; "
		    "when = \"test.x > 1\"; interval = 0.1; }\n", i ? "," : "", i);
	snprintf(text + n, sizeof(text) - n, ");\n");
	start_with(w, "notify_burst = 2; notify_rate = 10;", text);
	run(w, "test.x", 5, 400);
	assert_int_equal(rules_active_count(w->rules), 5);
	assert_int_equal(w->sink.raised, 2);
	assert_int_equal(w->sink.summaries, 1);
	assert_int_equal(w->sink.suppressed, 3);
	rules_get_stats(w->rules, &st);
	assert_int_equal(st.suppressed, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_condition_that_holds_raises_once_and_clears_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_restart_restores_the_firing_alarm_without_a_second_raise, setup, teardown),
		cmocka_unit_test_setup_teardown(a_restart_with_a_changed_rule_clears_the_old_alarm,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_restored_instance_without_samples_since_the_restart_stays_raised,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    an_instance_whose_metrics_are_forgotten_clears_once_and_goes, setup, teardown),
		cmocka_unit_test_setup_teardown(broken_state_records_are_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(a_state_record_reusing_an_alarm_id_is_ignored,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_reload_keeps_unchanged_rules_and_clears_removed_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(wildcard_instances_stop_at_max_instances,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(the_token_bucket_holds_back_and_one_summary_counts_it,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
