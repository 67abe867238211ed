/*
 * One probe's statistics: RTT samples and losses over a sliding time window
 * (by send time), and the RFC 3550 / RFC 3393 jitter measures. Pure: times
 * are passed in (monotonic ns); nothing here reads a clock or a socket.
 *
 * Samples are kept in a ring of at most max_samples, in send order; when
 * the window holds more sends than that, the oldest are dropped early and
 * pstats_summary.truncated says so. A loss is reported a timeout after its
 * send, so the ring should hold (window + timeout) / interval outcomes and
 * a few more. Feeding an outcome costs O(1) plus the outcomes reported
 * before it but sent after it (a loss: about timeout / interval). Full
 * summaries are computed on demand, O(samples in the window) (percentiles
 * by selection on a copy); pstats_running keeps loss and IPDV in O(1).
 */
#ifndef FP_PSTATS_H
#define FP_PSTATS_H

#include <stdbool.h>
#include <stdint.h>

struct pstats_summary {
	uint32_t	 received;	/* replies in the window (RTT samples) */
	uint32_t	 lost;		/* sends in the window declared lost */
	bool		 truncated;	/* the ring was full: the window is shorter than asked */
	/* RTT over the window, ns; 0 when received == 0 */
	int64_t		 min, mean, max, stddev;	/* stddev: population */
	int64_t		 p50, p95, p99;		/* nearest-rank percentiles */
	/* Mean |IPDV| (RFC 3393, consecutive sequence numbers both received) over the window, ns. */
	int64_t		 ipdv_mean;
	uint32_t	 ipdv_pairs;	/* pairs that went into ipdv_mean */
	/* Loss ratio in parts per million of (received + lost), rounded; 0 when both are 0. */
	uint32_t	 loss_ppm;
};

struct pstats;

/* window_ns > 0, max_samples >= 2. NULL when out of memory. */
struct pstats	*pstats_new(int64_t window_ns, uint32_t max_samples);
void		 pstats_free(struct pstats *);

/*
 * One outcome, reported in any order but each seq at most once: a reply
 * with its RTT, or a loss. seq is the probe's 32-bit send counter; sent_ns
 * places the outcome in the window.
 */
void		 pstats_reply(struct pstats *, uint32_t seq, int64_t sent_ns, int64_t rtt_ns);
void		 pstats_lost(struct pstats *, uint32_t seq, int64_t sent_ns);

/* The last RTT (ns) and the RFC 3550 A.8 interarrival jitter (ns), over all time; 0 before any reply. */
int64_t		 pstats_last_rtt(const struct pstats *);
int64_t		 pstats_jitter(const struct pstats *);

/* Drops what is older than now - window, then summarises the rest. */
void		 pstats_summary(struct pstats *, int64_t now_ns, struct pstats_summary *out);

/*
 * The cheap part of pstats_summary, from running sums, O(1) amortised:
 * received, lost, truncated, loss_ppm, ipdv_mean and ipdv_pairs as the
 * summary would give them (IPDV: when sends increase with seq, as the
 * prober's do), the RTT fields 0. For a value per outcome.
 */
void		 pstats_running(struct pstats *, int64_t now_ns, struct pstats_summary *out);

#endif
