/*
 * libFuzzer harness for subagent/alarm_state: the bytes are an alarm state
 * file, cut into lines the way subagent/rules reads it (fgets into
 * ALARM_STATE_LINE_MAX bytes). Every line goes through the header, next-id
 * and record parsers. A record that parses has its words inside the line,
 * an instance of at most METRIC_NAME_MAX, and writes out as a line that
 * parses again to the same record and writes out the same (the writer's
 * form is a fixed point); its saved state goes through alarm_import, which
 * accepts only states and severities of engine/alarm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "subagent/alarm_state.h"

#define OUT_MAX	(4 * ALARM_STATE_LINE_MAX)	/* a long rule word, escapes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_record(const char *line, size_t len, const struct alarm_state_record *rec)
{
	static char out[OUT_MAX], again[OUT_MAX], copy[OUT_MAX];
	struct alarm_state_record back;
	struct alarm a;
	int n, m;

	if (rec->rule < line || rec->rule >= line + len || rec->instance < line ||
	    rec->instance > line + len || rec->rule[0] == '\0' || strchr(rec->rule, ' ') != NULL ||
	    strlen(rec->instance) > METRIC_NAME_MAX)
		abort();
	n = alarm_state_format_record(out, sizeof(out), rec);
	if (n <= 0 || (size_t)n >= sizeof(out) || out[n - 1] != '\n' ||
	    memchr(out, '\n', (size_t)n - 1) != NULL)
		abort();
	memcpy(copy, out, (size_t)n + 1);
	if (!alarm_state_parse_record(copy, &back) || strcmp(back.rule, rec->rule) != 0 ||
	    strcmp(back.instance, rec->instance) != 0 || back.identity != rec->identity ||
	    back.id != rec->id || back.saved.state != rec->saved.state ||
	    back.saved.severity != rec->saved.severity ||
	    back.saved.has_value != rec->saved.has_value ||
	    back.saved.changed_ago_ns != rec->saved.changed_ago_ns ||
	    back.saved.fired_ago_ns != rec->saved.fired_ago_ns ||
	    back.saved.notified_ago_ns != rec->saved.notified_ago_ns ||
	    back.saved.fire_count != rec->saved.fire_count)
		abort();
	m = alarm_state_format_record(again, sizeof(again), &back);
	if (m != n || memcmp(again, out, (size_t)n) != 0)
		abort();
	if (alarm_import(&a, &rec->saved, 1000000000LL) &&
	    (a.state < ALARM_OK || a.state > ALARM_CLEARING ||
	    (a.severity != ALARM_WARNING && a.severity != ALARM_CRITICAL)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[ALARM_STATE_LINE_MAX];
	struct alarm_state_record rec;
	size_t pos = 0, first = 1;
	uint32_t next;

	while (pos < size) {
		size_t n = 0;

		/* fgets: up to the newline (kept) or a full buffer. */
		while (pos < size && n < sizeof(line) - 1) {
			line[n++] = (char)data[pos++];
			if (line[n - 1] == '\n')
				break;
		}
		line[n] = '\0';
		if (first) {
			first = 0;
			if (alarm_state_is_header(line) &&
			    strcmp(line, "flowpath-alarm-state 1\n") != 0)
				abort();
			continue;
		}
		if (alarm_state_next_id(line, &next))
			continue;
		if (alarm_state_parse_record(line, &rec))
			check_record(line, n, &rec);
	}
	return 0;
}
