/* The one place flowpathd reads clocks: monotonic and wall time, int64 ns. */
#ifndef FP_CLOCK_H
#define FP_CLOCK_H

#include <stdint.h>

#define CLOCK_NS_PER_SEC INT64_C(1000000000)
#define CLOCK_NS_PER_MS INT64_C(1000000)

int64_t	clock_mono_ns(void);
int64_t	clock_wall_ns(void);	/* since the epoch, for DateAndTime and logs */

#endif
