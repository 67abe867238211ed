/*
 * One logging API for flowpathd: stderr in the foreground, syslog otherwise.
 * log_warn and fatal append the errno text.
 */
#ifndef FP_LOG_H
#define FP_LOG_H

#include <stdbool.h>
#include <stdnoreturn.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void	log_init(const char *ident, bool foreground);
void	log_set_level(enum log_level);
/* NULL on success, or a static reason; names as in the configuration. */
const char *log_level_parse(const char *name, enum log_level *out);

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))
void	log_warn(const char *, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
noreturn void fatal(const char *, ...) LOG_PRINTF(1, 2);
noreturn void fatalx(const char *, ...) LOG_PRINTF(1, 2);

#endif
