/*
 * Reply matching: a ring of the last sends, slot seq & mask. lo is a cursor
 * on the oldest send still in flight (lo == hi when none is), moved on past
 * answered sends as they are answered, so that expiry and the next deadline
 * look only at sends in flight and never scan the ring.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "probes/pmatch.h"

#define PMATCH_MIN	16
#define PMATCH_MAX	65536

enum pmatch_state { PM_EMPTY = 0, PM_FLIGHT, PM_ANSWERED, PM_LOST };

struct pmatch_send {
	int64_t		 sent_ns;
	int64_t		 deadline_ns;
	uint32_t	 seq;
	uint8_t		 state;
	bool		 replied;	/* a late reply was seen */
};

struct pmatch {
	struct pmatch_send *ring;
	uint32_t	 mask;
	uint32_t	 lo, hi;	/* sends [lo, hi) may be in flight; hi - lo <= slots */
	bool		 started;
};

struct pmatch *
pmatch_new(uint32_t slots)
{
	struct pmatch *pm;
	uint32_t n = PMATCH_MIN;

	while (n < slots && n < PMATCH_MAX)
		n *= 2;
	if ((pm = calloc(1, sizeof(*pm))) == NULL)
		return NULL;
	if ((pm->ring = calloc(n, sizeof(*pm->ring))) == NULL) {
		free(pm);
		return NULL;
	}
	pm->mask = n - 1;
	return pm;
}

void
pmatch_free(struct pmatch *pm)
{
	if (pm == NULL)
		return;
	free(pm->ring);
	free(pm);
}

uint32_t
pmatch_slots(const struct pmatch *pm)
{
	return pm->mask + 1;
}

static struct pmatch_send *
pmatch_at(const struct pmatch *pm, uint32_t seq)
{
	return &pm->ring[seq & pm->mask];
}

static bool
pmatch_in_flight(const struct pmatch *pm, uint32_t seq)
{
	const struct pmatch_send *s = pmatch_at(pm, seq);

	return s->seq == seq && s->state == PM_FLIGHT;
}

/* Moves lo on to the oldest send in flight. */
static void
pmatch_advance(struct pmatch *pm)
{
	while (pm->lo != pm->hi && !pmatch_in_flight(pm, pm->lo))
		pm->lo++;
}

static void
pmatch_declare_lost(struct pmatch_send *s, pmatch_lost_cb lost, void *arg)
{
	s->state = PM_LOST;
	if (lost != NULL)
		lost(arg, s->seq, s->sent_ns);
}

void
pmatch_sent(struct pmatch *pm, uint32_t seq, int64_t sent_ns, int64_t deadline_ns,
    pmatch_lost_cb lost, void *arg)
{
	struct pmatch_send *s;

	if (!pm->started) {
		pm->lo = pm->hi = seq;
		pm->started = true;
	} else if (seq != pm->hi) {
		/* Not the next seq: the caller started again; what was in flight is lost. */
		for (; pm->lo != pm->hi; pm->lo++)
			if (pmatch_in_flight(pm, pm->lo))
				pmatch_declare_lost(pmatch_at(pm, pm->lo), lost, arg);
		pm->lo = pm->hi = seq;
	}
	s = pmatch_at(pm, seq);
	/* The ring wrapped onto a send still in flight: its reply could no longer be told apart. */
	if (s->state == PM_FLIGHT)
		pmatch_declare_lost(s, lost, arg);
	s->sent_ns = sent_ns;
	s->deadline_ns = deadline_ns;
	s->seq = seq;
	s->state = PM_FLIGHT;
	s->replied = false;
	pm->hi = seq + 1;
	if (pm->hi - pm->lo > pm->mask + 1)
		pm->lo = pm->hi - (pm->mask + 1);
	pmatch_advance(pm);
}

enum pmatch_result
pmatch_reply(struct pmatch *pm, uint32_t seq, int64_t now_ns, int64_t *sent_ns)
{
	struct pmatch_send *s = pmatch_at(pm, seq);

	/* Sent, and recent enough to be in the ring. */
	if (!pm->started || pm->hi - 1 - seq > pm->mask || s->seq != seq ||
	    s->state == PM_EMPTY)
		return PMATCH_UNKNOWN;
	*sent_ns = s->sent_ns;
	if (s->state == PM_ANSWERED)
		return PMATCH_DUPLICATE;
	if (s->state == PM_FLIGHT && now_ns <= s->deadline_ns) {
		s->state = PM_ANSWERED;
		pmatch_advance(pm);
		return PMATCH_OK;
	}
	/*
	 * After the deadline: late once, whether or not pmatch_expire has
	 * declared it lost yet (it will, through lost()).
	 */
	if (s->replied)
		return PMATCH_DUPLICATE;
	s->replied = true;
	return PMATCH_LATE;
}

uint32_t
pmatch_expire(struct pmatch *pm, int64_t now_ns, pmatch_lost_cb lost, void *arg)
{
	struct pmatch_send *s;
	uint32_t n = 0;

	while (pm->lo != pm->hi) {
		s = pmatch_at(pm, pm->lo);
		if (s->deadline_ns > now_ns)
			break;
		pmatch_declare_lost(s, lost, arg);
		n++;
		pm->lo++;
		pmatch_advance(pm);
	}
	return n;
}

int64_t
pmatch_next_deadline(const struct pmatch *pm)
{
	if (pm->lo == pm->hi)
		return INT64_MAX;
	return pmatch_at(pm, pm->lo)->deadline_ns;
}
