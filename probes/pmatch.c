/* Reply matching: see pmatch.h. */
#include <stdlib.h>

#include "probes/pmatch.h"

struct pmatch {
	uint32_t	 slots;
};

struct pmatch *
pmatch_new(uint32_t slots)
{
	struct pmatch	*pm;

	if ((pm = calloc(1, sizeof(*pm))) == NULL)
		return NULL;
	pm->slots = 16;
	return pm;
}

void
pmatch_free(struct pmatch *pm)
{
	free(pm);
}

uint32_t
pmatch_slots(const struct pmatch *pm)
{
	return pm->slots;
}

void
pmatch_sent(struct pmatch *pm, uint32_t seq, int64_t sent_ns, int64_t deadline_ns,
    pmatch_lost_cb lost, void *arg)
{
}

enum pmatch_result
pmatch_reply(struct pmatch *pm, uint32_t seq, int64_t now_ns, int64_t *sent_ns)
{
	return PMATCH_UNKNOWN;
}

uint32_t
pmatch_expire(struct pmatch *pm, int64_t now_ns, pmatch_lost_cb lost, void *arg)
{
	return 0;
}

int64_t
pmatch_next_deadline(const struct pmatch *pm)
{
	return INT64_MAX;
}
