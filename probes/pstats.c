/*
 * Probe statistics over a sliding window of send times.
 *
 * Outcomes are kept in a ring in send order, (sent, seq). The order they
 * are reported in is almost that: a loss is decided at its deadline, after
 * replies to later sends, so it goes in a few places from the tail (the
 * sends of one timeout). The ring is trimmed from its head while the head
 * is out of the window, so it holds exactly the window. It doubles on
 * demand up to max_samples; when full, the oldest send is dropped, and
 * while such a dropped outcome would still be inside the window the
 * summary says truncated.
 *
 * Beside the ring, running sums over it (received, lost, and the IPDV
 * pairs of neighbours with consecutive seqs, both replies) change with
 * every outcome put in and taken out, so that pstats_running is O(1)
 * amortised. In send order a seq's neighbour is the ring neighbour when
 * sends increase with seq, as the prober's do.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probes/pstats.h"

#define PSTATS_RING_MIN	16

struct pstats_outcome {
	int64_t		 sent_ns;
	int64_t		 rtt_ns;
	uint32_t	 seq;
	bool		 lost;
};

struct pstats {
	int64_t		 window_ns;
	uint32_t	 max_samples;
	uint32_t	 cap;		/* ring slots allocated */
	uint32_t	 head;		/* slot of the oldest outcome */
	uint32_t	 n;		/* outcomes kept */
	struct pstats_outcome *ring;
	struct pstats_outcome *scratch;	/* cap slots: the window's replies, sorted by seq */
	int64_t		*rtts;		/* cap slots: their RTTs, for the percentiles */
	int64_t		 dropped_sent;	/* newest send time dropped for room */
	uint32_t	 nrecv, nlost;	/* running: the ring's replies and losses */
	uint32_t	 ipdv_pairs;	/* running: neighbours seq, seq + 1, both replies */
	__int128	 ipdv_sum;	/* running: their |RTT differences| */
	int64_t		 last_rtt;
	double		 jitter;	/* RFC 3550 A.8 J, ns */
	bool		 have_rtt;
};

struct pstats *
pstats_new(int64_t window_ns, uint32_t max_samples)
{
	struct pstats *ps;

	if (window_ns <= 0 || max_samples < 2)
		return NULL;
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return NULL;
	ps->window_ns = window_ns;
	ps->max_samples = max_samples;
	ps->dropped_sent = INT64_MIN;
	return ps;
}

void
pstats_free(struct pstats *ps)
{
	if (ps == NULL)
		return;
	free(ps->ring);
	free(ps->scratch);
	free(ps->rtts);
	free(ps);
}

static struct pstats_outcome *
pstats_at(const struct pstats *ps, uint32_t i)
{
	return &ps->ring[(ps->head + i) % ps->cap];
}

/* Doubles the ring, oldest first at slot 0. False when at the cap or out of memory. */
static bool
pstats_grow(struct pstats *ps)
{
	struct pstats_outcome *ring, *scratch;
	int64_t *rtts;
	uint32_t cap, i;

	if (ps->cap >= ps->max_samples)
		return false;
	cap = ps->cap == 0 ? PSTATS_RING_MIN : ps->cap * 2;
	if (cap > ps->max_samples || cap < ps->cap)
		cap = ps->max_samples;
	if ((ring = calloc(cap, sizeof(*ring))) == NULL)
		return false;
	scratch = calloc(cap, sizeof(*scratch));
	rtts = calloc(cap, sizeof(*rtts));
	if (scratch == NULL || rtts == NULL) {
		free(ring);
		free(scratch);
		free(rtts);
		return false;
	}
	for (i = 0; i < ps->n; i++)
		ring[i] = *pstats_at(ps, i);
	free(ps->ring);
	free(ps->scratch);
	free(ps->rtts);
	ps->ring = ring;
	ps->scratch = scratch;
	ps->rtts = rtts;
	ps->cap = cap;
	ps->head = 0;
	return true;
}

/* Whether b follows a in send order: (sent, seq), seq across its wrap. */
static bool
pstats_before(const struct pstats_outcome *a, const struct pstats_outcome *b)
{
	return a->sent_ns < b->sent_ns ||
	    (a->sent_ns == b->sent_ns && (int32_t)(a->seq - b->seq) < 0);
}

/* Adds (sign 1) or takes out (sign -1) the IPDV pair of ring neighbours a, b, if they are one. */
static void
pstats_pair(struct pstats *ps, const struct pstats_outcome *a,
    const struct pstats_outcome *b, int sign)
{
	__int128 d;

	if (a->lost || b->lost || b->seq != a->seq + 1)
		return;
	d = (__int128)b->rtt_ns - a->rtt_ns;
	ps->ipdv_sum += sign * (d < 0 ? -d : d);
	ps->ipdv_pairs += (uint32_t)sign;
}

static void
pstats_count(struct pstats *ps, const struct pstats_outcome *o, int sign)
{
	if (o->lost)
		ps->nlost += (uint32_t)sign;
	else
		ps->nrecv += (uint32_t)sign;
}

static void
pstats_drop_head(struct pstats *ps)
{
	if (ps->n > 1)
		pstats_pair(ps, pstats_at(ps, 0), pstats_at(ps, 1), -1);
	pstats_count(ps, pstats_at(ps, 0), -1);
	ps->head = (ps->head + 1) % ps->cap;
	ps->n--;
}

static void
pstats_push(struct pstats *ps, const struct pstats_outcome *o)
{
	uint32_t j, k;

	if (ps->n == ps->cap && !pstats_grow(ps)) {
		if (ps->cap == 0)
			return;
		/* Full: the oldest send goes, which may be o itself. */
		if (pstats_before(o, pstats_at(ps, 0))) {
			if (o->sent_ns > ps->dropped_sent)
				ps->dropped_sent = o->sent_ns;
			return;
		}
		if (pstats_at(ps, 0)->sent_ns > ps->dropped_sent)
			ps->dropped_sent = pstats_at(ps, 0)->sent_ns;
		pstats_drop_head(ps);
	}
	for (j = ps->n; j > 0 && pstats_before(o, pstats_at(ps, j - 1)); j--)
		;
	if (j > 0 && j < ps->n)
		pstats_pair(ps, pstats_at(ps, j - 1), pstats_at(ps, j), -1);
	for (k = ps->n; k > j; k--)
		*pstats_at(ps, k) = *pstats_at(ps, k - 1);
	*pstats_at(ps, j) = *o;
	ps->n++;
	if (j > 0)
		pstats_pair(ps, pstats_at(ps, j - 1), o, 1);
	if (j + 1 < ps->n)
		pstats_pair(ps, o, pstats_at(ps, j + 1), 1);
	pstats_count(ps, o, 1);
}

void
pstats_reply(struct pstats *ps, uint32_t seq, int64_t sent_ns, int64_t rtt_ns)
{
	struct pstats_outcome o = { sent_ns, rtt_ns, seq, false };
	double d;

	/* RFC 3550 A.8: the send spacing cancels for round trips, D is the RTT change. */
	if (ps->have_rtt) {
		d = fabs((double)rtt_ns - (double)ps->last_rtt);
		ps->jitter += (d - ps->jitter) / 16.0;
	}
	ps->last_rtt = rtt_ns;
	ps->have_rtt = true;
	pstats_push(ps, &o);
}

void
pstats_lost(struct pstats *ps, uint32_t seq, int64_t sent_ns)
{
	struct pstats_outcome o = { sent_ns, 0, seq, true };

	pstats_push(ps, &o);
}

int64_t
pstats_last_rtt(const struct pstats *ps)
{
	return ps->last_rtt;
}

int64_t
pstats_jitter(const struct pstats *ps)
{
	return llround(ps->jitter);
}

static int
pstats_by_seq(const void *a, const void *b)
{
	const struct pstats_outcome *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * Sorts by seq. Replies come nearly in seq order, so insertion sort is
 * about linear; past 8 moves a sample (heavy reordering) qsort takes over.
 */
static void
pstats_sort_seq(struct pstats_outcome *s, uint32_t n)
{
	struct pstats_outcome t;
	uint64_t moves = 0;
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		t = s[i];
		for (j = i; j > 0 && s[j - 1].seq > t.seq; j--) {
			s[j] = s[j - 1];
			if (++moves > 8 * (uint64_t)n) {
				s[j - 1] = t;
				qsort(s, n, sizeof(*s), pstats_by_seq);
				return;
			}
		}
		s[j] = t;
	}
}

static int
pstats_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Puts the k-th smallest of v[0..n) at v[k], smaller ones before it and
 * larger after (quickselect, median of three). Expected O(n); an input
 * that keeps the partitions lopsided falls back to qsort.
 */
static void
pstats_select(int64_t *v, uint32_t n, uint32_t k)
{
	int64_t lo = 0, hi = (int64_t)n - 1, i, j, a, b, c, pivot, t;
	int rounds = 0;

	while (lo < hi) {
		if (++rounds > 64) {
			qsort(v + lo, (size_t)(hi - lo + 1), sizeof(*v), pstats_cmp_i64);
			return;
		}
		a = v[lo];
		b = v[lo + (hi - lo) / 2];
		c = v[hi];
		pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		for (i = lo, j = hi; i <= j;) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				t = v[i];
				v[i++] = v[j];
				v[j--] = t;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* Nearest rank (the smallest value with at least pct % at or below it): an index into n sorted samples. */
static uint32_t
pstats_rank(uint32_t n, uint32_t pct)
{
	uint64_t rank = ((uint64_t)pct * n + 99) / 100;

	return rank == 0 ? 0 : (uint32_t)rank - 1;
}

/* p50, then p95 among what is above it, then p99 above that. */
static void
pstats_percentiles(int64_t *v, uint32_t n, struct pstats_summary *out)
{
	uint32_t k50 = pstats_rank(n, 50), k95 = pstats_rank(n, 95), k99 = pstats_rank(n, 99);

	pstats_select(v, n, k50);
	pstats_select(v + k50, n - k50, k95 - k50);
	pstats_select(v + k95, n - k95, k99 - k95);
	out->p50 = v[k50];
	out->p95 = v[k95];
	out->p99 = v[k99];
}

/* sum / n rounded half away from zero, exactly. */
static int64_t
pstats_div_round(__int128 sum, uint32_t n)
{
	__int128 half = n / 2;

	return (int64_t)((sum < 0 ? sum - half : sum + half) / n);
}

/*
 * RFC 3393 IPDV between consecutive sequence numbers both received. seq
 * was rebased so that the window sorts in send order across the 32-bit wrap.
 */
static void
pstats_ipdv(struct pstats_outcome *s, uint32_t n, struct pstats_summary *out)
{
	__int128 sum = 0, d;
	uint32_t i;

	pstats_sort_seq(s, n);
	for (i = 1; i < n; i++) {
		if (s[i].seq != s[i - 1].seq + 1)
			continue;
		d = (__int128)s[i].rtt_ns - s[i - 1].rtt_ns;
		sum += d < 0 ? -d : d;
		out->ipdv_pairs++;
	}
	if (out->ipdv_pairs > 0)
		out->ipdv_mean = pstats_div_round(sum, out->ipdv_pairs);
}

/*
 * Min, max, the mean exactly (a 128-bit sum) and the population stddev in
 * two passes (deviations from the mean, not a difference of large sums).
 * Copies the RTTs out for the percentiles.
 */
static void
pstats_moments(const struct pstats_outcome *s, uint32_t n, int64_t *rtts,
    struct pstats_summary *out)
{
	__int128 sum = 0;
	double mean, dev, sq = 0;
	uint32_t i;

	out->min = out->max = s[0].rtt_ns;
	for (i = 0; i < n; i++) {
		rtts[i] = s[i].rtt_ns;
		sum += rtts[i];
		if (rtts[i] < out->min)
			out->min = rtts[i];
		if (rtts[i] > out->max)
			out->max = rtts[i];
	}
	out->mean = pstats_div_round(sum, n);
	mean = (double)sum / n;
	for (i = 0; i < n; i++) {
		dev = (double)rtts[i] - mean;
		sq += dev * dev;
	}
	out->stddev = llround(sqrt(sq / n));
}

/* Drops what is older than now - window: the ring is in send order, so from its head. */
static void
pstats_trim(struct pstats *ps, int64_t now_ns, struct pstats_summary *out)
{
	int64_t cutoff = now_ns - ps->window_ns;

	memset(out, 0, sizeof(*out));
	while (ps->n > 0 && pstats_at(ps, 0)->sent_ns < cutoff)
		pstats_drop_head(ps);
	out->truncated = ps->dropped_sent >= cutoff;
}

/* lost of (received + lost) in parts per million, rounded. */
static uint32_t
pstats_ppm(uint32_t received, uint32_t lost)
{
	uint64_t all = (uint64_t)received + lost;

	return all == 0 ? 0 : (uint32_t)(((uint64_t)lost * 1000000 + all / 2) / all);
}

void
pstats_running(struct pstats *ps, int64_t now_ns, struct pstats_summary *out)
{
	pstats_trim(ps, now_ns, out);
	out->received = ps->nrecv;
	out->lost = ps->nlost;
	out->loss_ppm = pstats_ppm(out->received, out->lost);
	out->ipdv_pairs = ps->ipdv_pairs;
	if (ps->ipdv_pairs > 0)
		out->ipdv_mean = pstats_div_round(ps->ipdv_sum, ps->ipdv_pairs);
}

void
pstats_summary(struct pstats *ps, int64_t now_ns, struct pstats_summary *out)
{
	const struct pstats_outcome *o;
	uint32_t i, n = 0, base = 0;

	pstats_trim(ps, now_ns, out);
	if (ps->n > 0)
		base = pstats_at(ps, ps->n - 1)->seq - 0x80000000u;
	for (i = 0; i < ps->n; i++) {
		o = pstats_at(ps, i);
		if (o->lost) {
			out->lost++;
			continue;
		}
		ps->scratch[n] = *o;
		ps->scratch[n].seq -= base;
		n++;
	}
	out->received = n;
	out->loss_ppm = pstats_ppm(n, out->lost);
	if (n == 0)
		return;
	pstats_ipdv(ps->scratch, n, out);
	pstats_moments(ps->scratch, n, ps->rtts, out);
	pstats_percentiles(ps->rtts, n, out);
}
