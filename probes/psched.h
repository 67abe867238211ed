/*
 * The probe send schedule: a fixed grid per probe (slot k at
 * first + k * interval, never "now + interval"), every probe with its own
 * phase so that many probes with one interval spread over it, and a min-heap
 * over all probes. Slots the caller could not serve in time (more than
 * `slack` behind) are counted as missed and skipped, never sent late in a
 * burst. Pure: the caller passes now.
 */
#ifndef FP_PSCHED_H
#define FP_PSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct psched;

struct psched	*psched_new(void);
void		 psched_free(struct psched *);

/*
 * The spread step: phases are multiples of it, so that one wake-up per step
 * serves every probe whose slot falls in it (1000 probes at 1 s: four sends
 * per wake-up every 4 ms instead of one every 1 ms; the wake-up, not the
 * send, is most of a probe's CPU). Probes are still spread over the
 * interval, in steps, never in one burst: a probe's own slots stay exactly
 * on its grid, and 4 ms is well inside the 10 ms a send may be late.
 */
#define PSCHED_STEP_NS	(4 * INT64_C(1000000))

/*
 * The phase of a probe in [0, interval): the index-th of n probes sharing
 * the scheduler goes into step index * m / n of the m = ceil(interval /
 * PSCHED_STEP_NS) steps of the interval, so n probes at one interval fill
 * the steps evenly, at most ceil(n / m) <= ceil(n * step / interval) in
 * one. An interval of at most one step has no steps to spread over: its
 * probes get the exact spread index * interval / n. Stable for a given
 * (index, n, interval).
 */
int64_t		 psched_phase(size_t index, size_t n, int64_t interval_ns);

/*
 * Adds probe id (any uint32 the caller chooses, unique) with its first slot
 * at first_ns and then every interval_ns (> 0). False when out of memory or
 * id is already scheduled.
 */
bool		 psched_add(struct psched *, uint32_t id, int64_t first_ns, int64_t interval_ns);
bool		 psched_remove(struct psched *, uint32_t id);
size_t		 psched_count(const struct psched *);

/* The earliest slot of all probes, or INT64_MAX when none. */
int64_t		 psched_next(const struct psched *);

/*
 * Takes the earliest slot due at or before now. Slots more than slack_ns
 * behind now are skipped and added to *missed (the probe's next slot moves
 * on the grid past them); the slot returned is within slack of now.
 * Returns false when no slot is due. *scheduled_ns is the slot's grid time.
 * *missed grows only by the returned probe's skipped slots: when all of a
 * probe's due slots were skipped, they are added at its next slot returned.
 */
bool		 psched_pop(struct psched *, int64_t now_ns, int64_t slack_ns,
		    uint32_t *id, int64_t *scheduled_ns, uint64_t *missed);

#endif
