/* The alarm state file's lines: see alarm_state.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subagent/alarm_state.h"

#define MAGIC		"flowpath-alarm-state 1"
#define FIELDS		13	/* of a record */

bool
alarm_state_is_header(const char *line)
{
	return strncmp(line, MAGIC "\n", sizeof(MAGIC)) == 0;
}

bool
alarm_state_next_id(const char *line, uint32_t *next)
{
	unsigned long n;

	if (sscanf(line, "next-id %lu", &n) != 1)
		return false;
	*next = n <= UINT32_MAX ? (uint32_t)n : 0;
	return true;
}

/*
 * The instance word decoded in place (the text never grows): "i", then its
 * bytes; %XX stands for a byte other than NUL. At most METRIC_NAME_MAX.
 */
static bool
get_instance(char *w)
{
	const char *r = w;
	size_t n = 0;
	unsigned v;

	if (*r++ != 'i')
		return false;
	while (*r != '\0') {
		if (n >= METRIC_NAME_MAX)
			return false;
		if (*r == '%') {
			if (sscanf(r + 1, "%2x", &v) != 1 || strlen(r) < 3 || v == 0)
				return false;
			w[n++] = (char)v;
			r += 3;
		} else
			w[n++] = *r++;
	}
	w[n] = '\0';
	return true;
}

bool
alarm_state_parse_record(char *line, struct alarm_state_record *rec)
{
	char *w[FIELDS], *save = NULL;
	unsigned long long identity, id, st, sev, hv, fc;
	long long ch, fi, no;
	size_t n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (char *t = strtok_r(line, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
		if (n < FIELDS)
			w[n++] = t;
		else
			return false;
	if (n != FIELDS || strcmp(w[0], "a") != 0 ||
	    sscanf(w[2], "%llx", &identity) != 1 || sscanf(w[3], "%llu", &id) != 1 ||
	    sscanf(w[4], "%llu", &st) != 1 || sscanf(w[5], "%llu", &sev) != 1 ||
	    sscanf(w[6], "%llu", &hv) != 1 || sscanf(w[7], "%lld", &ch) != 1 ||
	    sscanf(w[8], "%lld", &fi) != 1 || sscanf(w[9], "%lld", &no) != 1 ||
	    sscanf(w[10], "%llu", &fc) != 1 || !get_instance(w[12]) ||
	    id > UINT32_MAX || st > 255 || sev > 255 || hv > 1)
		return false;
	rec->rule = w[1];
	rec->identity = identity;
	rec->id = (uint32_t)id;
	rec->saved = (struct alarm_saved){ .state = (uint8_t)st, .severity = (uint8_t)sev,
	    .has_value = (uint8_t)hv, .changed_ago_ns = ch, .fired_ago_ns = fi,
	    .notified_ago_ns = no, .fire_count = fc, .value = strtod(w[11], NULL) };
	rec->instance = w[12];
	return true;
}

int
alarm_state_format_header(char *buf, size_t len, uint32_t next_id)
{
	return snprintf(buf, len, "%s\nnext-id %u\n", MAGIC, next_id);
}

int
alarm_state_format_record(char *buf, size_t len, const struct alarm_state_record *rec)
{
	const struct alarm_saved *s = &rec->saved;
	const unsigned char *p;
	size_t n;
	int k;

	k = snprintf(buf, len, "a %s %016llx %u %u %u %u %lld %lld %lld %llu %a i", rec->rule,
	    (unsigned long long)rec->identity, rec->id, s->state, s->severity, s->has_value,
	    (long long)s->changed_ago_ns, (long long)s->fired_ago_ns,
	    (long long)s->notified_ago_ns, (unsigned long long)s->fire_count, s->value);
	if (k < 0)
		return k;
	n = (size_t)k;
	for (p = (const unsigned char *)rec->instance; *p != '\0'; p++) {
		char esc[4];

		if (*p > ' ' && *p < 0x7f && *p != '%') {
			esc[0] = (char)*p;
			esc[1] = '\0';
		} else
			snprintf(esc, sizeof(esc), "%%%02X", *p);
		for (const char *e = esc; *e != '\0'; e++, n++)
			if (n + 1 < len)
				buf[n] = *e;
	}
	if (n + 1 < len)
		buf[n] = '\n';
	n++;
	if (len > 0)
		buf[n < len ? n : len - 1] = '\0';
	return (int)n;
}
