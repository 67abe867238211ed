/* Probe statistics over a sliding window: see pstats.h. */
#include <stdlib.h>
#include <string.h>

#include "probes/pstats.h"

struct pstats {
	int64_t		 window_ns;
	uint32_t	 max_samples;
};

struct pstats *
pstats_new(int64_t window_ns, uint32_t max_samples)
{
	struct pstats	*ps;

	if (window_ns <= 0 || max_samples < 2)
		return NULL;
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return NULL;
	ps->window_ns = window_ns;
	ps->max_samples = max_samples;
	return ps;
}

void
pstats_free(struct pstats *ps)
{
	free(ps);
}

void
pstats_reply(struct pstats *ps, uint32_t seq, int64_t sent_ns, int64_t rtt_ns)
{
}

void
pstats_lost(struct pstats *ps, uint32_t seq, int64_t sent_ns)
{
}

int64_t
pstats_last_rtt(const struct pstats *ps)
{
	return 0;
}

int64_t
pstats_jitter(const struct pstats *ps)
{
	return 0;
}

void
pstats_summary(struct pstats *ps, int64_t now_ns, struct pstats_summary *out)
{
	memset(out, 0, sizeof(*out));
}
