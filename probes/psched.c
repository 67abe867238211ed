/* The probe send schedule: see psched.h. */
#include <stdlib.h>

#include "probes/psched.h"

struct psched {
	size_t		 n;
};

struct psched *
psched_new(void)
{
	return calloc(1, sizeof(struct psched));
}

void
psched_free(struct psched *ps)
{
	free(ps);
}

int64_t
psched_phase(size_t index, size_t n, int64_t interval_ns)
{
	return 0;
}

bool
psched_add(struct psched *ps, uint32_t id, int64_t first_ns, int64_t interval_ns)
{
	return false;
}

bool
psched_remove(struct psched *ps, uint32_t id)
{
	return false;
}

size_t
psched_count(const struct psched *ps)
{
	return ps->n;
}

int64_t
psched_next(const struct psched *ps)
{
	return INT64_MAX;
}

bool
psched_pop(struct psched *ps, int64_t now_ns, int64_t slack_ns,
    uint32_t *id, int64_t *scheduled_ns, uint64_t *missed)
{
	return false;
}
