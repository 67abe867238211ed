#include <time.h>

#include "subagent/clock.h"

static int64_t
clock_read(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * CLOCK_NS_PER_SEC + ts.tv_nsec;
}

int64_t
clock_mono_ns(void)
{
	return clock_read(CLOCK_MONOTONIC);
}

int64_t
clock_wall_ns(void)
{
	return clock_read(CLOCK_REALTIME);
}
