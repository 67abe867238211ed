/*
 * The active prober: every configured probe (ICMP echo, UDP echo against a
 * TWAMP-light reflector or an RFC 862 echo service, TCP connect) on one
 * nonblocking socket per family and protocol (TCP: one per connect in
 * flight), all behind a single epoll descriptor for the event loop. Send
 * times come from the monotonic clock right before the send; receive times
 * from the kernel's SO_TIMESTAMPNS stamp moved onto the monotonic clock.
 *
 * The prober reads clocks and owns sockets, but no Net-SNMP and no loop:
 * the daemon watches prober_fd(), calls prober_readable() when it is
 * readable and prober_run() at prober_next().
 */
#ifndef FP_PROBER_H
#define FP_PROBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/addr.h"
#include "probes/pstats.h"

#define PROBE_NAME_MAX 32
#define PROBER_TCP_MAX 512	/* TCP connects in flight over all probes; a send past it is an error */

enum probe_type { PROBE_TYPE_ICMP = 1, PROBE_TYPE_UDP = 2, PROBE_TYPE_TCP = 3 };

struct probe_spec {
	char		 name[PROBE_NAME_MAX + 1];
	enum probe_type	 type;
	struct addr_endpoint target;	/* port 0 for ICMP */
	int64_t		 interval_ns;	/* > 0 */
	int64_t		 timeout_ns;	/* > 0; may exceed the interval */
	int64_t		 window_ns;	/* statistics window, > 0 */
	uint32_t	 size;		/* payload bytes (ICMP data, UDP datagram); raised to the minimum */
	uint8_t		 tos;		/* IP TOS / IPv6 traffic class byte (DSCP << 2) */
};

enum probe_status {
	PROBE_STATUS_STARTING = 1,	/* no outcome yet */
	PROBE_STATUS_OK = 2,		/* the last outcome was a reply */
	PROBE_STATUS_LOSS = 3,		/* the last outcome was a loss (timeout) */
	PROBE_STATUS_UNREACHABLE = 4,	/* ICMP error, or TCP refused/unreachable without reply */
	PROBE_STATUS_ERROR = 5,		/* cannot send: socket or permission; see last_error */
};

/* Counters since the probe was (re)created; they never go back. */
struct probe_counters {
	uint64_t	 sent;
	uint64_t	 received;	/* replies matched in time: RTT samples */
	uint64_t	 lost;		/* no reply by the timeout */
	uint64_t	 late;		/* a reply after its timeout (also counted in lost) */
	uint64_t	 duplicates;
	uint64_t	 errors;	/* ICMP errors for our requests, TCP failures other than RST, send errors */
	uint64_t	 refused;	/* TCP: RST to the SYN (an RTT sample all the same) */
	uint64_t	 missed;	/* send slots skipped because the loop fell behind */
	uint64_t	 fwd_lost;	/* UDP with a TWAMP-light reflector: lost on the way there */
	uint64_t	 rev_lost;	/* ... and on the way back */
	uint64_t	 foreign;	/* replies from another source address, or a wrong token */
};

struct probe_result {
	enum probe_status status;
	char		 last_error[128];	/* "" when none */
	struct probe_counters c;
	int64_t		 last_rtt_ns;		/* 0 before the first reply */
	int64_t		 jitter_ns;		/* RFC 3550 interarrival jitter */
	struct pstats_summary window;		/* over spec.window_ns */
	int64_t		 last_change_ns;	/* monotonic: last status change */
	int64_t		 last_reply_ns;		/* monotonic; 0 before the first reply */
	int64_t		 refl_hold_ns;		/* the reflector's last holding time, subtracted from RTTs */
	uint32_t	 icmp_id;		/* the ICMP id in use (the kernel's for datagram sockets) */
	uint8_t		 last_icmp_type, last_icmp_code;
	bool		 reflector;		/* UDP: the last reply was a TWAMP-light reflector's, not an RFC 862 echo */
};

struct prober;

/* NULL when out of memory or epoll cannot be created. */
struct prober	*prober_new(void);
void		 prober_free(struct prober *);

/*
 * Replaces the probe set at monotonic time now. A probe whose name, type,
 * target, interval, timeout, window, size and tos are unchanged keeps its
 * state and schedule; others start again. Sockets are opened as needed (ICMP:
 * datagram socket where net.ipv4.ping_group_range allows, raw otherwise);
 * a probe whose socket cannot be opened gets PROBE_STATUS_ERROR and a
 * last_error instead of failing the whole set. False only when out of memory.
 */
bool		 prober_apply(struct prober *, const struct probe_spec *, size_t n, int64_t now_ns);

/* The epoll descriptor to watch for reading. */
int		 prober_fd(const struct prober *);
/* Drains every ready socket (replies, errors, TCP connects). */
void		 prober_readable(struct prober *, int64_t now_ns);
/* Sends what is due and declares timeouts; call at or after prober_next(). */
void		 prober_run(struct prober *, int64_t now_ns);
/*
 * Monotonic time of the next send or deadline; INT64_MAX when none. A send
 * is served up to min(interval / 2, 10 ms) late without a miss, and RTTs
 * run from the real send. The probes of one interval share send slots
 * PSCHED_STEP_NS apart (psched_phase), so one call at this time serves a
 * whole step's sends.
 */
int64_t		 prober_next(const struct prober *);

/* Called after every outcome (reply, loss, error) of probe i; it must not call prober_apply. */
typedef void (*prober_outcome_cb)(void *arg, size_t i, int64_t now_ns);
void		 prober_set_outcome_cb(struct prober *, prober_outcome_cb, void *arg);

size_t		 prober_count(const struct prober *);
const struct probe_spec *prober_spec(const struct prober *, size_t i);
/* The result of probe i with its window summarised at now. */
const struct probe_result *prober_result(struct prober *, size_t i, int64_t now_ns);
/*
 * The same, O(1), for a value per outcome: the window's counts, loss and
 * IPDV at now (pstats_running), its RTT moments and percentiles as the
 * last prober_result left them.
 */
const struct probe_result *prober_result_running(struct prober *, size_t i, int64_t now_ns);

/*
 * The ICMP socket kind of a family, for the log and fpProbeIcmp4Mode /
 * fpProbeIcmp6Mode: "datagram", "raw" or "unavailable" (what prober_new
 * could open, or the last attempt since).
 */
const char	*prober_icmp_mode(const struct prober *, bool v6);

#endif
