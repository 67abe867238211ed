/*
 * Durations with units ("500ms", "30s", "5m", "24h", "7d"), as used by the
 * configuration and, later, by rule expressions. Pure.
 */
#ifndef FP_UNITS_H
#define FP_UNITS_H

#include <stdint.h>

#define UNITS_NS_PER_SEC INT64_C(1000000000)

/* NULL on success, or a static reason. A bare number means seconds. */
const char	*units_parse_duration(const char *text, int64_t *ns);

/* Seconds as a double (config numbers such as interval = 0.2) to ns, range-checked. */
const char	*units_seconds_to_ns(double seconds, int64_t *ns);

#endif
