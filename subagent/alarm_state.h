/*
 * The alarm state file (daemon.state_file) as text: its first line, a
 * "next-id N" line and one record per alarm that is not OK. Pure: lines in,
 * values out, and back; subagent/rules reads and writes the file and
 * decides what a record restores.
 *
 *   flowpath-alarm-state 1
 *   next-id 8
 *   a RULE IDENTITY ID STATE SEVERITY HAS_VALUE CHANGED_AGO FIRED_AGO
 *     NOTIFIED_AGO FIRE_COUNT VALUE iINSTANCE            (one line)
 *
 * IDENTITY is 16 hex digits, VALUE a C99 hex float, the *_AGO times are ns
 * before the save; INSTANCE is "i" and its bytes, %XX for a space, '%',
 * control and non-ASCII bytes. A record's ranges beyond these fields are
 * alarm_import()'s to check.
 */
#ifndef FP_ALARM_STATE_H
#define FP_ALARM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/alarm.h"
#include "engine/metric.h"

#define ALARM_STATE_LINE_MAX	2048	/* a line as read; longer ones come in pieces */

struct alarm_state_record {
	const char	*rule;		/* points into the parsed line */
	uint64_t	 identity;	/* of the rule's expressions */
	uint32_t	 id;		/* active alarm number, 0 for none */
	struct alarm_saved saved;
	const char	*instance;	/* decoded, in the line too; "" without a '*' */
};

/* The first line, newline included; false for any other file. */
bool	alarm_state_is_header(const char *line);
/* "next-id N": true, *next the number, or 0 (never a next id) past 32 bits. */
bool	alarm_state_next_id(const char *line, uint32_t *next);
/*
 * A record; false when it is not one. line is changed: cut at its newline,
 * split into words, the instance decoded in place (at most METRIC_NAME_MAX).
 */
bool	alarm_state_parse_record(char *line, struct alarm_state_record *);

/*
 * The first two lines, and one record line, newline included; each
 * returns the length as snprintf does. A record of a rule name of up to
 * CONFIG_NAME_MAX and an instance of up to METRIC_NAME_MAX bytes always
 * fits in ALARM_STATE_LINE_MAX.
 */
int	alarm_state_format_header(char *buf, size_t len, uint32_t next_id);
int	alarm_state_format_record(char *buf, size_t len, const struct alarm_state_record *);

#endif
