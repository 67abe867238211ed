/*
 * Logging: stderr when in the foreground, syslog(LOG_DAEMON) otherwise.
 * Net-SNMP's own messages are routed the same way by agentx.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "subagent/log.h"

static struct {
	bool		 foreground;
	enum log_level	 level;
} log_state = { true, LOG_LEVEL_INFO };

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *ident, bool foreground)
{
	log_state.foreground = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_state.level = level;
}

const char *
log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return NULL;
		}
	}
	return "must be one of debug, info, warning, error";
}

static void
log_vwrite(enum log_level level, const char *errtext, const char *fmt, va_list ap)
{
	static const int priority[] = {
		[LOG_LEVEL_ERROR] = LOG_ERR,
		[LOG_LEVEL_WARNING] = LOG_WARNING,
		[LOG_LEVEL_INFO] = LOG_INFO,
		[LOG_LEVEL_DEBUG] = LOG_DEBUG,
	};
	char msg[1024];

	if (level > log_state.level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_state.foreground) {
		if (errtext != NULL)
			fprintf(stderr, "flowpathd: %s: %s\n", msg, errtext);
		else
			fprintf(stderr, "flowpathd: %s\n", msg);
		fflush(stderr);
	} else if (errtext != NULL) {
		syslog(priority[level], "%s: %s", msg, errtext);
	} else {
		syslog(priority[level], "%s", msg);
	}
}

#define LOG_BODY(level, errtext)			\
	do {						\
		va_list ap;				\
		va_start(ap, fmt);			\
		log_vwrite(level, errtext, fmt, ap);	\
		va_end(ap);				\
	} while (0)

void
log_warn(const char *fmt, ...)
{
	const char *errtext = strerror(errno);

	LOG_BODY(LOG_LEVEL_WARNING, errtext);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARNING, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, NULL);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, NULL);
}

void
fatal(const char *fmt, ...)
{
	const char *errtext = strerror(errno);

	LOG_BODY(LOG_LEVEL_ERROR, errtext);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
	exit(1);
}
