/*
 * Reply matching for one probe: a ring of the last sends by sequence number
 * (power of two, sized for timeout / interval in flight), each in flight,
 * answered or lost. A reply to a send in flight is a match; to a send
 * already declared lost, late; to one already answered, a duplicate; to
 * anything else (too old for the ring, never sent), unknown. Late and
 * duplicate replies are never RTT samples. Pure.
 */
#ifndef FP_PMATCH_H
#define FP_PMATCH_H

#include <stdint.h>

enum pmatch_result {
	PMATCH_OK = 0,		/* *sent_ns is the send time */
	PMATCH_LATE,		/* after its deadline; *sent_ns is the send time */
	PMATCH_DUPLICATE,
	PMATCH_UNKNOWN,
};

struct pmatch;

/*
 * slots: sends remembered, rounded up to a power of two, 16..65536. A
 * caller sizes it for 2 * timeout / interval + 16 so that a late reply is
 * still recognised after its deadline.
 */
struct pmatch	*pmatch_new(uint32_t slots);
void		 pmatch_free(struct pmatch *);
uint32_t	 pmatch_slots(const struct pmatch *);

typedef void (*pmatch_lost_cb)(void *arg, uint32_t seq, int64_t sent_ns);

/*
 * A send of seq (consecutive seqs from the caller) at sent_ns, lost unless
 * answered by deadline_ns. A send still in flight in the slot seq takes is
 * declared lost first, through lost() (which may be NULL). A seq that does
 * not follow the last one (the caller started again) declares every send in
 * flight lost.
 */
void		 pmatch_sent(struct pmatch *, uint32_t seq, int64_t sent_ns, int64_t deadline_ns,
		    pmatch_lost_cb lost, void *arg);

/*
 * A reply for seq received at now_ns. One after the deadline is LATE even
 * before pmatch_expire has declared the send lost (it still will); every
 * reply after the first is a DUPLICATE.
 */
enum pmatch_result pmatch_reply(struct pmatch *, uint32_t seq, int64_t now_ns, int64_t *sent_ns);

/*
 * Declares lost every send in flight whose deadline is <= now_ns, calling
 * lost() once for each, in sequence order. Returns how many. Deadlines are
 * monotonic in seq, so this costs O(expired).
 */
uint32_t	 pmatch_expire(struct pmatch *, int64_t now_ns, pmatch_lost_cb lost, void *arg);

/* The earliest deadline in flight, or INT64_MAX when nothing is. */
int64_t		 pmatch_next_deadline(const struct pmatch *);

#endif
