/*
 * The active prober: see prober.h. The cores decide (psched: when to send,
 * pmatch: what a reply or a timeout means, pstats: the numbers, pwire: the
 * bytes); this file owns the sockets and the clocks around them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/errqueue.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "probes/pmatch.h"
#include "probes/prober.h"
#include "probes/psched.h"
#include "probes/psock.h"
#include "probes/pwire.h"

/* Linux <linux/icmp.h> clashes with <netinet/ip_icmp.h>; only this is needed. */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

#define PROBER_SLACK_MAX	(10 * INT64_C(1000000))
#define PROBER_RING_MAX		65536	/* pmatch's own cap */
#define PROBER_SAMPLES_MAX	65536
#define RX_BATCH		16
#define RX_DATA			2048	/* our payload sits in the first 57 bytes; more is never read */
#define RX_CTRL			256
#define RX_BATCHES		16	/* recvmmsg calls per socket and wake-up */
#define ERRQ_MAX		64	/* error-queue messages per socket and wake-up */
#define EPOLL_EVENTS		64

enum { SK_ICMP4, SK_ICMP6, SK_UDP4, SK_UDP6, SK_N };
enum sk_mode { MODE_UNAVAILABLE = 0, MODE_DGRAM, MODE_RAW };
#define TAG_TCP		SK_N	/* epoll tags below SK_N are the shared sockets */

struct shared_sock {
	int		 fd;
	enum sk_mode	 mode;		/* ICMP: datagram or raw; UDP: datagram once open */
	uint16_t	 icmp_id;	/* raw: ours; datagram: the kernel's "port" */
	int		 open_errno;
};

enum slot_state { SLOT_NONE = 0, SLOT_INFLIGHT, SLOT_REFLECTED, SLOT_ANSWERED, SLOT_LOST };

/* What this file keeps per send, beside pmatch's ring and of the same size. */
struct slot {
	uint32_t	 seq;
	uint32_t	 refl_seq;	/* SLOT_REFLECTED: the reflector's counter */
	uint8_t		 state;
	uint8_t		 fail_status;	/* status its loss takes: an ICMP error makes it unreachable */
};

struct probe {
	struct prober	*pr;
	struct probe_spec spec;
	struct probe_result res;
	size_t		 index;
	bool		 kept;		/* scratch flag of prober_apply */
	bool		 valid;		/* false: PROBE_STATUS_ERROR, never scheduled */
	int		 sock;		/* SK_*, or -1 (TCP) */
	uint16_t	 port;		/* target port as matched: 0 for ICMP */
	uint32_t	 payload_len;	/* ICMP data or UDP datagram */
	uint64_t	 token;
	uint32_t	 next_seq;
	int64_t		 next_slot_ns;	/* the grid slot psched will give next */
	int64_t		 slack_ns;
	struct pmatch	*match;
	struct pstats	*stats;
	struct slot	*slots;
	uint32_t	 mask;
	/* forward / reverse loss: sends decided in sequence order (UDP) */
	uint32_t	 frontier;
	bool		 base_valid;
	uint32_t	 base_seq, base_refl;
	/* deadline heap */
	int64_t		 deadline;
	size_t		 heap_pos;
	int		 tcp_head;	/* first of this probe's connects in flight, -1 */
};

struct tconn {
	int		 fd;		/* -1: free */
	uint32_t	 gen;
	struct probe	*p;
	uint32_t	 seq;
	int64_t		 sent_ns;
	int		 next;		/* the probe's list, or the free list */
};

struct prober {
	int		 epfd;
	struct shared_sock sk[SK_N];
	struct probe	**probes;	/* spec order */
	size_t		 n;
	struct probe	**by_token;	/* sorted, for replies */
	struct probe	**by_target;	/* sorted by (type, address, port), for foreign replies */
	struct probe	**heap;		/* min-heap on deadline */
	struct psched	*sched;
	struct tconn	 conns[PROBER_TCP_MAX];
	int		 conn_free;
	uint32_t	 conn_gen;
	prober_outcome_cb cb;
	void		*cb_arg;
	int64_t		 now;		/* of the call in progress, for callbacks */
	uint16_t	 raw_id;
	struct mmsghdr	 msgs[RX_BATCH];
	struct iovec	 iov[RX_BATCH];
	struct sockaddr_storage from[RX_BATCH];
	union {
		char		 buf[RX_CTRL];
		struct cmsghdr	 align;
	} ctrl[RX_BATCH];
	uint8_t		 data[RX_BATCH][RX_DATA];
	uint8_t		 tx[PWIRE_MAX + PWIRE_ICMP_HDR];
};

static const char *const icmp_needs = "ICMP needs CAP_NET_RAW or net.ipv4.ping_group_range";

static bool
sk_is_v6(int k)
{
	return k == SK_ICMP6 || k == SK_UDP6;
}

static bool
sk_is_icmp(int k)
{
	return k == SK_ICMP4 || k == SK_ICMP6;
}

/* The deadline heap: the earliest pmatch deadline over all probes in O(1), kept in O(log n). */

static void
heap_swap(struct prober *pr, size_t a, size_t b)
{
	struct probe *t = pr->heap[a];

	pr->heap[a] = pr->heap[b];
	pr->heap[b] = t;
	pr->heap[a]->heap_pos = a;
	pr->heap[b]->heap_pos = b;
}

static size_t
heap_up(struct prober *pr, size_t i)
{
	while (i > 0 && pr->heap[(i - 1) / 2]->deadline > pr->heap[i]->deadline) {
		heap_swap(pr, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return i;
}

static void
heap_fix(struct prober *pr, size_t i)
{
	i = heap_up(pr, i);
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < pr->n && pr->heap[l]->deadline < pr->heap[m]->deadline)
			m = l;
		if (r < pr->n && pr->heap[r]->deadline < pr->heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(pr, i, m);
		i = m;
	}
}

static void
deadline_update(struct probe *p)
{
	int64_t d = pmatch_next_deadline(p->match);

	if (d != p->deadline) {
		p->deadline = d;
		heap_fix(p->pr, p->heap_pos);
	}
}

/* Status, text and the outcome callback. */

static void
probe_status(struct probe *p, enum probe_status st)
{
	if (p->res.status != st) {
		p->res.status = st;
		p->res.last_change_ns = p->pr->now;
	}
}

static void
probe_outcome(struct probe *p)
{
	if (p->pr->cb != NULL)
		p->pr->cb(p->pr->cb_arg, p->index, p->pr->now);
}

static struct slot *
slot_of(struct probe *p, uint32_t seq)
{
	struct slot *s = &p->slots[seq & p->mask];

	/* Sent, and still remembered. */
	if (p->next_seq - seq - 1 > p->mask || s->seq != seq || s->state == SLOT_NONE)
		return NULL;
	return s;
}

/*
 * Forward and reverse loss from a TWAMP-light reflector's own counter
 * (RFC 5357 4.2.1), in sender sequence order over the decided sends: between
 * two reflected replies (s1, r1) and (s2, r2), the reflector received
 * r2 - r1 of our s2 - s1 sends, so s2 - s1 - (r2 - r1) were lost on the way
 * there and r2 - r1 - 1 of its replies on the way back (late ones included:
 * they count as lost). A counter that does not move forward, or moves more
 * than we sent, means the reflector restarted or forgot us: new baseline.
 */
static void
fwdrev_pair(struct probe *p, uint32_t seq, uint32_t refl)
{
	if (p->base_valid) {
		uint32_t ds = seq - p->base_seq, dr = refl - p->base_refl;

		if (dr >= 1 && dr <= ds) {
			p->res.c.fwd_lost += ds - dr;
			p->res.c.rev_lost += dr - 1;
		}
	}
	p->base_valid = true;
	p->base_seq = seq;
	p->base_refl = refl;
}

static void
frontier_advance(struct probe *p)
{
	while (p->frontier != p->next_seq) {
		struct slot *s = &p->slots[p->frontier & p->mask];

		if (s->seq == p->frontier) {
			if (s->state == SLOT_INFLIGHT)
				return;
			if (s->state == SLOT_REFLECTED)
				fwdrev_pair(p, s->seq, s->refl_seq);
			else if (s->state == SLOT_ANSWERED)
				p->base_valid = false;	/* an RFC 862 echo: no counter */
		} else
			p->base_valid = false;	/* forgotten: cannot happen while pmatch evicts first */
		p->frontier++;
	}
}

static void tcp_abort(struct probe *, uint32_t seq);

static void
probe_lost(void *arg, uint32_t seq, int64_t sent_ns)
{
	struct probe *p = arg;
	struct slot *s = slot_of(p, seq);

	p->res.c.lost++;
	pstats_lost(p->stats, seq, sent_ns);
	if (p->spec.type == PROBE_TYPE_TCP)
		tcp_abort(p, seq);
	probe_status(p, s != NULL && s->fail_status != 0 ?
	    (enum probe_status)s->fail_status : PROBE_STATUS_LOSS);
	if (s != NULL) {
		s->state = SLOT_LOST;
		if (p->spec.type == PROBE_TYPE_UDP)
			frontier_advance(p);
	}
	probe_outcome(p);
}

/*
 * A reply to seq received at rx_ns. hold_ns (>= 0) is the reflector's
 * holding time; refl says refl_seq is valid.
 */
static void
probe_reply(struct probe *p, uint32_t seq, int64_t rx_ns, int64_t hold_ns, bool refl,
    uint32_t refl_seq, bool refused)
{
	int64_t sent_ns, rtt;
	struct slot *s;

	switch (pmatch_reply(p->match, seq, rx_ns, &sent_ns)) {
	case PMATCH_OK:
		break;
	case PMATCH_LATE:
		p->res.c.late++;
		return;
	case PMATCH_DUPLICATE:
		p->res.c.duplicates++;
		return;
	default:
		/* Never sent, or older than the ring: not a reply to anything we know. */
		p->res.c.foreign++;
		return;
	}
	rtt = rx_ns - sent_ns;
	if (rtt <= 0)	/* the wall clock stepped under the stamp: take our own clock */
		rtt = psock_mono_ns() - sent_ns;
	p->res.refl_hold_ns = 0;
	if (refl && hold_ns >= 0 && hold_ns < rtt) {
		p->res.refl_hold_ns = hold_ns;
		rtt -= hold_ns;
	}
	p->res.c.received++;
	if (refused)
		p->res.c.refused++;
	pstats_reply(p->stats, seq, sent_ns, rtt);
	p->res.last_rtt_ns = rtt;
	p->res.last_reply_ns = rx_ns;
	p->res.reflector = refl;
	probe_status(p, refused ? PROBE_STATUS_UNREACHABLE : PROBE_STATUS_OK);
	if ((s = slot_of(p, seq)) != NULL) {
		s->state = refl ? SLOT_REFLECTED : SLOT_ANSWERED;
		s->refl_seq = refl_seq;
		if (p->spec.type == PROBE_TYPE_UDP)
			frontier_advance(p);
	}
	deadline_update(p);
	probe_outcome(p);
}

/* The code of a destination unreachable or time exceeded, in words (RFC 792; RFC 4443 3.1, 3.3). */
static const char *
icmp_detail(bool v6, uint8_t type, uint8_t code)
{
	static const char *const unreach4[] = {
		"net unreachable", "host unreachable", "protocol unreachable",
		"port unreachable", "fragmentation needed", "source route failed",
		"destination network unknown", "destination host unknown",
		"source host isolated", "network administratively prohibited",
		"host administratively prohibited", "network unreachable for TOS",
		"host unreachable for TOS", "communication administratively prohibited",
		"host precedence violation", "precedence cutoff in effect",
	};
	static const char *const unreach6[] = {
		"no route to destination", "administratively prohibited",
		"beyond scope of source address", "address unreachable",
		"port unreachable", "source address failed policy", "reject route",
	};

	if (type == (v6 ? 1 : 3)) {
		if (v6)
			return code < sizeof(unreach6) / sizeof(unreach6[0]) ? unreach6[code] : NULL;
		return code < sizeof(unreach4) / sizeof(unreach4[0]) ? unreach4[code] : NULL;
	}
	if (type == (v6 ? 3 : 11))
		return code == 0 ? (v6 ? "hop limit exceeded in transit" : "TTL exceeded in transit") :
		    "fragment reassembly time exceeded";
	return NULL;
}

/* "destination unreachable (port unreachable) from 192.0.2.1" (RFC 792, RFC 4443 3). */
static void
icmp_describe(char *buf, size_t len, bool v6, uint8_t type, uint8_t code, const struct addr *from)
{
	const char *what, *detail;
	char a[ADDR_STRLEN] = "?";

	if (v6) {
		what = type == 1 ? "destination unreachable" : type == 2 ? "packet too big" :
		    type == 3 ? "time exceeded" : type == 4 ? "parameter problem" : NULL;
		detail = icmp_detail(true, type, code);
	} else {
		what = type == 3 ? "destination unreachable" : type == 4 ? "source quench" :
		    type == 5 ? "redirect" : type == 11 ? "time exceeded" :
		    type == 12 ? "parameter problem" : NULL;
		detail = icmp_detail(false, type, code);
	}
	if (from != NULL && from->family != ADDR_NONE)
		addr_format(from, a, sizeof(a));
	if (what == NULL)
		snprintf(buf, len, "ICMP%s type %u code %u from %s", v6 ? "v6" : "", type, code, a);
	else if (detail == NULL)
		snprintf(buf, len, "%s (code %u) from %s", what, code, a);
	else
		snprintf(buf, len, "%s (%s) from %s", what, detail, a);
}

/*
 * An error for our send seq (ICMP error, local send error, TCP failure):
 * counted, shown, and the send is lost at its timeout, with status st.
 */
static void
probe_error(struct probe *p, uint32_t seq, enum probe_status st)
{
	struct slot *s = slot_of(p, seq);

	p->res.c.errors++;
	if (s != NULL && st != 0)
		s->fail_status = (uint8_t)st;
	if (st != 0)
		probe_status(p, st);
	probe_outcome(p);
}

static void
probe_icmp_error(struct probe *p, uint32_t seq, bool v6, uint8_t type, uint8_t code,
    const struct addr *from)
{
	p->res.last_icmp_type = type;
	p->res.last_icmp_code = code;
	icmp_describe(p->res.last_error, sizeof(p->res.last_error), v6, type, code, from);
	probe_error(p, seq, PROBE_STATUS_UNREACHABLE);
}

/* Lookups: by token for replies, by target for replies that carry no token of ours. */

static int
cmp_token(const void *a, const void *b)
{
	const struct probe *pa = *(struct probe *const *)a, *pb = *(struct probe *const *)b;

	return pa->token < pb->token ? -1 : pa->token > pb->token;
}

static int
target_cmp(enum probe_type type, const struct addr *a, uint16_t port, const struct probe *p)
{
	int c;

	if (type != p->spec.type)
		return type < p->spec.type ? -1 : 1;
	if (a->family != p->spec.target.addr.family)
		return a->family < p->spec.target.addr.family ? -1 : 1;
	if ((c = memcmp(a->bytes, p->spec.target.addr.bytes, sizeof(a->bytes))) != 0)
		return c;
	return port < p->port ? -1 : port > p->port;
}

static int
cmp_target(const void *a, const void *b)
{
	const struct probe *pa = *(struct probe *const *)a, *pb = *(struct probe *const *)b;

	return target_cmp(pa->spec.type, &pa->spec.target.addr, pa->port, pb);
}

static struct probe *
find_token(const struct prober *pr, uint64_t token)
{
	size_t lo = 0, hi = pr->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t t = pr->by_token[mid]->token;

		if (t == token)
			return pr->by_token[mid];
		if (t < token)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct probe *
find_target(const struct prober *pr, enum probe_type type, const struct addr_endpoint *ep)
{
	size_t lo = 0, hi = pr->n;
	uint16_t port = type == PROBE_TYPE_ICMP ? 0 : ep->port;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = target_cmp(type, &ep->addr, port, pr->by_target[mid]);

		if (c == 0)
			return pr->by_target[mid];
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A datagram in our format that no probe of ours can take: foreign to the probe of its source. */
static void
foreign_from(struct prober *pr, enum probe_type type, const struct addr_endpoint *from)
{
	struct probe *p = find_target(pr, type, from);

	if (p != NULL)
		p->res.c.foreign++;
}

/*
 * The probe a reply with this token from this source belongs to, or NULL
 * (counted as foreign where a probe can be blamed). The source must be the
 * target: address for ICMP, address and port for UDP.
 */
static struct probe *
reply_probe(struct prober *pr, enum probe_type type, uint64_t token,
    const struct addr_endpoint *from)
{
	struct probe *p = find_token(pr, token);

	if (p == NULL || p->spec.type != type) {
		foreign_from(pr, type, from);
		return NULL;
	}
	if (!psock_addr_equal(&from->addr, &p->spec.target.addr) ||
	    (type == PROBE_TYPE_UDP && from->port != p->port)) {
		p->res.c.foreign++;
		return NULL;
	}
	return p;
}

/* Receiving. */

static void
icmp_input(struct prober *pr, int k, const uint8_t *buf, size_t len,
    const struct addr_endpoint *from, int64_t rx_ns)
{
	struct shared_sock *sk = &pr->sk[k];
	bool v6 = sk_is_v6(k), raw = sk->mode == MODE_RAW;
	struct pwire_icmp m;
	struct probe *p;

	pwire_icmp_parse(buf, len, v6, raw && !v6, &m);
	/* On a raw socket every echo on the host arrives: the id says which are ours. */
	if ((m.kind != PWIRE_ICMP_REPLY && m.kind != PWIRE_ICMP_ERROR) ||
	    (raw && m.id != sk->icmp_id))
		return;
	if (m.kind == PWIRE_ICMP_ERROR) {
		/* Only errors that quote one of our echo requests, token included. */
		if (!m.has_payload || (p = find_token(pr, m.payload.token)) == NULL ||
		    p->spec.type != PROBE_TYPE_ICMP || m.seq16 != (uint16_t)m.payload.seq)
			return;
		probe_icmp_error(p, m.payload.seq, v6, m.type, m.code, &from->addr);
		return;
	}
	if (!m.has_payload) {
		foreign_from(pr, PROBE_TYPE_ICMP, from);
		return;
	}
	if ((p = reply_probe(pr, PROBE_TYPE_ICMP, m.payload.token, from)) == NULL)
		return;
	if (m.seq16 != (uint16_t)m.payload.seq) {
		p->res.c.foreign++;
		return;
	}
	probe_reply(p, m.payload.seq, rx_ns, 0, false, 0, false);
}

static void
udp_input(struct prober *pr, const uint8_t *buf, size_t len, const struct addr_endpoint *from,
    int64_t rx_ns)
{
	struct pwire_udp u;
	struct probe *p;
	int64_t hold;

	pwire_udp_parse(buf, len, &u);
	if (u.kind == PWIRE_UDP_MALFORMED) {
		foreign_from(pr, PROBE_TYPE_UDP, from);
		return;
	}
	if ((p = reply_probe(pr, PROBE_TYPE_UDP, u.payload.token, from)) == NULL)
		return;
	if (u.sender_seq != u.payload.seq) {
		p->res.c.foreign++;
		return;
	}
	if (u.kind == PWIRE_UDP_REFLECTED) {
		/* RFC 5357 4.2.1: T3 - T2 is the reflector's own time, not the path's. */
		hold = pwire_ntp_diff_ns(u.refl_tx_ts, u.refl_rx_ts);
		probe_reply(p, u.payload.seq, rx_ns, hold, true, u.refl_seq, false);
	} else
		probe_reply(p, u.payload.seq, rx_ns, 0, false, 0, false);
}

/*
 * The error queue of a datagram socket (IP_RECVERR, IPV6_RECVERR): one
 * message per ICMP error the kernel matched to the socket, carrying our
 * original payload (the ICMP echo from its header, or the UDP datagram),
 * the original destination in msg_name and the sender of the error.
 */
static void
errqueue_drain(struct prober *pr, int k)
{
	struct shared_sock *sk = &pr->sk[k];
	bool v6 = sk_is_v6(k), icmp = sk_is_icmp(k);

	for (int i = 0; i < ERRQ_MAX; i++) {
		struct sockaddr_storage dst;
		struct iovec iov = { pr->data[0], RX_DATA };
		struct msghdr mh = {
			.msg_name = &dst, .msg_namelen = sizeof(dst), .msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = pr->ctrl[0].buf, .msg_controllen = sizeof(pr->ctrl[0].buf),
		};
		struct sock_extended_err ee;
		struct addr_endpoint to, from;
		struct pwire_payload pl;
		struct probe *p;
		bool have = false;
		ssize_t n;
		size_t at;

		if ((n = recvmsg(sk->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT)) < 0)
			return;
		memset(&from, 0, sizeof(from));
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
			if (!((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)) ||
			    cm->cmsg_len < CMSG_LEN(sizeof(ee)))
				continue;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			have = true;
			/* The offender sockaddr follows the struct (SO_EE_OFFENDER). */
			if (cm->cmsg_len >= CMSG_LEN(sizeof(ee) + sizeof(struct sockaddr_in))) {
				struct sockaddr_storage ss;
				size_t olen = cm->cmsg_len - CMSG_LEN(sizeof(ee));

				memset(&ss, 0, sizeof(ss));
				memcpy(&ss, CMSG_DATA(cm) + sizeof(ee), olen < sizeof(ss) ? olen : sizeof(ss));
				addr_endpoint_from_sockaddr(&ss, &from);
			}
		}
		if (!have)
			continue;
		/* Our payload: after the echo header, or after the TWAMP-light header. */
		at = icmp ? PWIRE_ICMP_HDR : PWIRE_TWAMP_REFL_LEN;
		if ((size_t)n < at || (icmp && pr->data[0][0] != (v6 ? 128 : 8)) ||
		    !pwire_payload_get(pr->data[0] + at, (size_t)n - at, &pl) ||
		    (p = find_token(pr, pl.token)) == NULL ||
		    p->spec.type != (icmp ? PROBE_TYPE_ICMP : PROBE_TYPE_UDP))
			continue;
		addr_endpoint_from_sockaddr(&dst, &to);
		if (!psock_addr_equal(&to.addr, &p->spec.target.addr) || (!icmp && to.port != p->port))
			continue;
		if (ee.ee_origin == SO_EE_ORIGIN_ICMP || ee.ee_origin == SO_EE_ORIGIN_ICMP6)
			probe_icmp_error(p, pl.seq, ee.ee_origin == SO_EE_ORIGIN_ICMP6, ee.ee_type,
			    ee.ee_code, &from.addr);
		else if (ee.ee_origin == SO_EE_ORIGIN_LOCAL) {
			snprintf(p->res.last_error, sizeof(p->res.last_error), "send: %s",
			    strerror((int)ee.ee_errno));
			probe_error(p, pl.seq, 0);
		}
	}
}

/* The kernel's receive stamp moved onto the monotonic clock; our clock when it has none. */
static int64_t
rx_time(const struct msghdr *mh, int64_t mono_now, int64_t offset)
{
	int64_t wall = psock_rx_wall_ns(mh), t;

	if (wall == 0)
		return mono_now;
	t = wall + offset;
	return t > mono_now ? mono_now : t;
}

static bool
async_errno(int e)
{
	/* ICMP errors reported once through the socket (sk_err) while IP_RECVERR queues the details. */
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EPROTO ||
	    e == EMSGSIZE || e == EHOSTDOWN || e == ENETDOWN || e == ENOPROTOOPT;
}

static void
sk_drain(struct prober *pr, int k, uint32_t events)
{
	struct shared_sock *sk = &pr->sk[k];

	if (events & EPOLLERR)
		errqueue_drain(pr, k);
	for (int b = 0; b < RX_BATCHES; b++) {
		int64_t mono, offset;
		int n;

		psock_batch_reset(pr->msgs, pr->iov, pr->from, pr->ctrl, sizeof(pr->ctrl[0]),
		    pr->data[0], RX_DATA, RX_BATCH);
		n = recvmmsg(sk->fd, pr->msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR || async_errno(errno)) {
				errqueue_drain(pr, k);
				continue;
			}
			return;
		}
		/* Both clocks back to back: the wall-to-monotonic offset of the stamps. */
		mono = psock_mono_ns();
		offset = mono - psock_wall_ns();
		for (int i = 0; i < n; i++) {
			struct addr_endpoint from;
			int64_t rx = rx_time(&pr->msgs[i].msg_hdr, mono, offset);
			size_t len = pr->msgs[i].msg_len < RX_DATA ? pr->msgs[i].msg_len : RX_DATA;

			addr_endpoint_from_sockaddr(&pr->from[i], &from);
			if (sk_is_icmp(k))
				icmp_input(pr, k, pr->data[i], len, &from, rx);
			else
				udp_input(pr, pr->data[i], len, &from, rx);
		}
		if (n < RX_BATCH)
			return;
	}
}

/* TCP connects. */

static void
tcp_close(struct prober *pr, int c)
{
	struct tconn *t = &pr->conns[c];
	struct probe *p = t->p;

	/* Unlink from the probe's list (a few entries at most). */
	for (int *pp = &p->tcp_head; *pp != -1; pp = &pr->conns[*pp].next)
		if (*pp == c) {
			*pp = t->next;
			break;
		}
	close(t->fd);
	t->fd = -1;
	t->p = NULL;
	t->next = pr->conn_free;
	pr->conn_free = c;
}

static void
tcp_abort(struct probe *p, uint32_t seq)
{
	for (int c = p->tcp_head; c != -1; c = p->pr->conns[c].next)
		if (p->pr->conns[c].seq == seq) {
			tcp_close(p->pr, c);
			return;
		}
}

static void
tcp_done(struct prober *pr, int c, int err, int64_t now)
{
	struct tconn *t = &pr->conns[c];
	struct probe *p = t->p;
	uint32_t seq = t->seq;
	int64_t rx = now;

	if (err == 0) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		/*
		 * The kernel's SYN -> SYN/ACK sample (µs) leaves out our own
		 * wake-up; without a retransmission only (Karn: a retransmitted
		 * SYN's sample would hide the time lost).
		 */
		if (getsockopt(t->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
		    len >= offsetof(struct tcp_info, tcpi_total_retrans) + sizeof(ti.tcpi_total_retrans) &&
		    ti.tcpi_rtt > 0 && ti.tcpi_total_retrans == 0 &&
		    (int64_t)ti.tcpi_rtt * 1000 <= now - t->sent_ns)
			rx = t->sent_ns + (int64_t)ti.tcpi_rtt * 1000;
	}
	/*
	 * Closed at once. SO_LINGER 0 (set at the socket) resets instead of
	 * FIN: each connect would otherwise leave a TIME_WAIT socket for 60 s,
	 * thousands per target at a short interval, until the ports run out.
	 */
	tcp_close(pr, c);
	if (err != 0)
		snprintf(p->res.last_error, sizeof(p->res.last_error), "connect: %s", strerror(err));
	/* A refused connect is still an RTT sample: the host answered with its RST. */
	if (err == 0 || err == ECONNREFUSED)
		probe_reply(p, seq, rx, 0, false, 0, err == ECONNREFUSED);
	else
		probe_error(p, seq, PROBE_STATUS_UNREACHABLE);
}

static void
tcp_ready(struct prober *pr, uint64_t data)
{
	int c = (int)(data & 0xffff), err = 0;
	uint32_t gen = (uint32_t)(data >> 16) & 0xffffff;
	socklen_t len = sizeof(err);
	int64_t now = psock_mono_ns();

	if (c >= PROBER_TCP_MAX || pr->conns[c].fd == -1 || pr->conns[c].gen != gen)
		return;	/* closed since by a timeout in this same batch */
	if (getsockopt(pr->conns[c].fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	tcp_done(pr, c, err, now);
}

/* Returns the connect's errno (0: connected or in progress); *sent_ns the time of connect(). */
static int
tcp_start(struct prober *pr, struct probe *p, uint32_t seq, int64_t *sent_ns, int *conn)
{
	struct sockaddr_storage ss;
	socklen_t sslen = psock_sockaddr(&p->spec.target, &ss);
	struct linger lg = { 1, 0 };
	struct epoll_event ev;
	struct tconn *t;
	int fd, c, e;

	*conn = -1;
	*sent_ns = psock_mono_ns();
	if ((c = pr->conn_free) == -1)
		return EMFILE;	/* the cap on connects in flight */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1 ||
	    (p->spec.tos != 0 && !psock_opt(fd, ss.ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    ss.ss_family == AF_INET6 ? IPV6_TCLASS : IP_TOS, p->spec.tos))) {
		e = errno;
		close(fd);
		return e;
	}
	pr->conn_free = pr->conns[c].next;
	t = &pr->conns[c];
	*t = (struct tconn){ .fd = fd, .gen = ++pr->conn_gen & 0xffffff, .p = p, .seq = seq,
	    .next = p->tcp_head };
	p->tcp_head = c;
	*conn = c;
	*sent_ns = t->sent_ns = psock_mono_ns();
	if (connect(fd, (struct sockaddr *)&ss, sslen) == 0)
		return 0;	/* done already: tcp_send takes it */
	if (errno != EINPROGRESS)
		return errno;
	ev.events = EPOLLOUT;
	ev.data.u64 = ((uint64_t)TAG_TCP << 40) | ((uint64_t)t->gen << 16) | (uint64_t)c;
	if (epoll_ctl(pr->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return errno;
	return EINPROGRESS;
}

/* Sending. */

static int
dgram_send(struct prober *pr, struct probe *p, size_t len, int64_t *sent_ns)
{
	struct shared_sock *sk = &pr->sk[p->sock];
	struct sockaddr_storage ss;
	struct iovec iov = { pr->tx, len };
	union {
		char		 buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	 align;
	} ctl;
	struct msghdr mh = { .msg_name = &ss, .msg_iov = &iov, .msg_iovlen = 1 };
	int tries = 0;

	mh.msg_namelen = psock_sockaddr(&p->spec.target, &ss);
	if (p->spec.tos != 0) {
		/* Per send, so that probes with other classes share the socket. */
		int tos = p->spec.tos;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = psock_cmsg_put(ctl.buf, sizeof(ctl.buf), 0,
		    sk_is_v6(p->sock) ? IPPROTO_IPV6 : IPPROTO_IP,
		    sk_is_v6(p->sock) ? IPV6_TCLASS : IP_TOS, &tos, sizeof(tos));
	}
	for (;;) {
		*sent_ns = psock_mono_ns();
		if (sendmsg(sk->fd, &mh, 0) >= 0)
			return 0;
		/*
		 * A pending ICMP error of another send fails this one once
		 * (sk_err): take it to the error queue's probe and send again.
		 */
		if (tries++ > 0 || !async_errno(errno))
			return errno;
		errqueue_drain(pr, p->sock);
	}
}

static enum probe_status
send_errno_status(int e)
{
	switch (e) {
	case ENETUNREACH: case EHOSTUNREACH: case ENETDOWN: case EHOSTDOWN:
	case EADDRNOTAVAIL: case ECONNREFUSED:
		return PROBE_STATUS_UNREACHABLE;
	case EPERM: case EACCES:
		return PROBE_STATUS_ERROR;	/* a firewall, or a dropped capability */
	default:
		return 0;	/* transient (buffers): just a loss */
	}
}

static void
probe_send(struct prober *pr, struct probe *p)
{
	uint32_t seq = p->next_seq;
	struct pwire_payload pl = { p->token, seq };
	struct slot *s = &p->slots[seq & p->mask];
	int64_t sent_ns = 0;
	int err = 0, conn = -1;
	size_t len;

	switch (p->spec.type) {
	case PROBE_TYPE_ICMP:
		len = pwire_icmp_echo(pr->tx, sizeof(pr->tx), p->sock == SK_ICMP6,
		    pr->sk[p->sock].icmp_id, &pl, p->payload_len);
		err = len == 0 ? EINVAL : dgram_send(pr, p, len, &sent_ns);
		break;
	case PROBE_TYPE_UDP:
		len = pwire_udp_request(pr->tx, p->payload_len,
		    pwire_ntp_from_wall_ns(psock_wall_ns()), &pl);
		err = len == 0 ? EINVAL : dgram_send(pr, p, len, &sent_ns);
		break;
	case PROBE_TYPE_TCP:
		err = tcp_start(pr, p, seq, &sent_ns, &conn);
		break;
	}
	if (sent_ns == 0)
		sent_ns = psock_mono_ns();
	p->next_seq++;
	p->res.c.sent++;
	/* pmatch first: the send it evicts is declared lost while its slot still says so. */
	pmatch_sent(p->match, seq, sent_ns, sent_ns + p->spec.timeout_ns, probe_lost, p);
	if (p->spec.type != PROBE_TYPE_UDP)
		p->frontier = seq + 1;	/* only UDP replies carry a reflector's counter */
	else if (p->frontier + p->mask + 1 == seq) {
		/* The slot is taken while still undecided: cannot happen while pmatch evicts first. */
		p->frontier++;
		p->base_valid = false;
		frontier_advance(p);
	}
	*s = (struct slot){ .seq = seq, .state = SLOT_INFLIGHT };
	deadline_update(p);
	if (p->spec.type == PROBE_TYPE_TCP && conn != -1 && (err == 0 || err == ECONNREFUSED)) {
		tcp_done(pr, conn, err, psock_mono_ns());
		return;
	}
	if (err == 0 || err == EINPROGRESS)
		return;
	if (conn != -1)
		tcp_close(pr, conn);
	if (err == EMFILE && p->spec.type == PROBE_TYPE_TCP)
		snprintf(p->res.last_error, sizeof(p->res.last_error),
		    "connect: %d connects in flight already", PROBER_TCP_MAX);
	else
		snprintf(p->res.last_error, sizeof(p->res.last_error), "%s: %s",
		    p->spec.type == PROBE_TYPE_TCP ? "connect" : "send", strerror(err));
	probe_error(p, seq, send_errno_status(err));
}

/* Shared sockets. */

static void
sk_close(struct prober *pr, int k)
{
	if (pr->sk[k].fd != -1)
		close(pr->sk[k].fd);
	pr->sk[k].fd = -1;
}

/* ICMP: datagram where ping_group_range lets us, raw with CAP_NET_RAW otherwise. */
static int
icmp_socket(struct prober *pr, int k)
{
	struct shared_sock *sk = &pr->sk[k];
	bool v6 = sk_is_v6(k);
	int fam = v6 ? AF_INET6 : AF_INET, proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, fd, e;
	struct sockaddr_storage ss;
	struct addr_endpoint any;
	socklen_t sl;

	fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd != -1) {
		/* Bind to port 0: the kernel picks the echo id now, so that we can show it. */
		memset(&any, 0, sizeof(any));
		any.addr.family = v6 ? ADDR_V6 : ADDR_V4;
		sl = psock_sockaddr(&any, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) == 0 &&
		    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
			addr_endpoint_from_sockaddr(&ss, &any);
			sk->icmp_id = any.port;
			sk->mode = MODE_DGRAM;
			return fd;
		}
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (errno != EACCES && errno != EPERM && errno != EPROTONOSUPPORT)
		return -1;
	if ((fd = socket(fam, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto)) == -1)
		return -1;
	sk->mode = MODE_RAW;
	sk->icmp_id = pr->raw_id;
	if (v6) {
		struct icmp6_filter f;

		/* Echo replies and the errors that can quote our requests (RFC 4443 3). */
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &f);
		if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) == -1)
			goto fail;
	} else {
		/* Bits set are dropped: all but echo reply (0), unreachable (3), time exceeded (11), parameter problem (12). */
		uint32_t block = ~((1U << 0) | (1U << 3) | (1U << 11) | (1U << 12));

		if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &block, sizeof(block)) == -1)
			goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static bool
sk_open(struct prober *pr, int k)
{
	struct shared_sock *sk = &pr->sk[k];
	bool v6 = sk_is_v6(k);
	int lvl = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	struct epoll_event ev;
	int fd;

	if (sk->fd != -1)
		return true;
	if (sk_is_icmp(k))
		fd = icmp_socket(pr, k);
	else if ((fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) != -1)
		sk->mode = MODE_DGRAM;
	if (fd == -1) {
		sk->mode = MODE_UNAVAILABLE;
		sk->open_errno = errno;
		return false;
	}
	/* Raw sockets see ICMP errors as packets; the others through the error queue. */
	if (!psock_opt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) ||
	    (v6 && !sk_is_icmp(k) && !psock_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) ||
	    (sk->mode != MODE_RAW && !psock_opt(fd, lvl, v6 ? IPV6_RECVERR : IP_RECVERR, 1)))
		goto fail;
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)k << 40;
	if (epoll_ctl(pr->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	sk->fd = fd;
	return true;
fail:
	sk->open_errno = errno;
	sk->mode = MODE_UNAVAILABLE;
	close(fd);
	return false;
}

/* Probes. */

static bool
spec_equal(const struct probe_spec *a, const struct probe_spec *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
	    a->target.addr.family == b->target.addr.family &&
	    memcmp(a->target.addr.bytes, b->target.addr.bytes, sizeof(a->target.addr.bytes)) == 0 &&
	    a->target.port == b->target.port && a->interval_ns == b->interval_ns &&
	    a->timeout_ns == b->timeout_ns && a->window_ns == b->window_ns &&
	    a->size == b->size && a->tos == b->tos;
}

static uint32_t
clamp_count(int64_t v, uint32_t max)
{
	return v < 0 || v > (int64_t)max ? max : (uint32_t)v;
}

static void
probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	while (p->tcp_head != -1)
		tcp_close(p->pr, p->tcp_head);
	pmatch_free(p->match);
	pstats_free(p->stats);
	free(p->slots);
	free(p);
}

static void
probe_invalid(struct probe *p, const char *why)
{
	p->valid = false;
	p->res.status = PROBE_STATUS_ERROR;
	snprintf(p->res.last_error, sizeof(p->res.last_error), "%s", why);
}

static struct probe *
probe_new(struct prober *pr, const struct probe_spec *spec, int64_t now)
{
	struct probe *p = calloc(1, sizeof(*p));
	const struct probe_spec *s = spec;
	bool v6 = spec->target.addr.family == ADDR_V6;
	int64_t iv = s->interval_ns > 0 ? s->interval_ns : 1;
	uint32_t want, min, max;

	if (p == NULL)
		return NULL;
	p->pr = pr;
	p->spec = *spec;
	p->spec.name[PROBE_NAME_MAX] = '\0';
	p->valid = true;
	p->sock = -1;
	p->tcp_head = -1;
	p->res.status = PROBE_STATUS_STARTING;
	p->res.last_change_ns = now;
	p->token = psock_random64();
	p->port = s->type == PROBE_TYPE_ICMP ? 0 : s->target.port;
	want = clamp_count(s->timeout_ns / iv, PROBER_RING_MAX);
	want = clamp_count(2 * (int64_t)want + 16, PROBER_RING_MAX);
	p->match = pmatch_new(want);
	/*
	 * A loss is reported a timeout after its send, so the window's
	 * outcomes are all in only once the ring also holds a timeout's sends.
	 */
	p->stats = pstats_new(s->window_ns > 0 ? s->window_ns : INT64_C(1000000000),
	    clamp_count((int64_t)clamp_count(s->window_ns / iv, PROBER_SAMPLES_MAX) +
	    clamp_count(s->timeout_ns / iv, PROBER_SAMPLES_MAX) + 1, PROBER_SAMPLES_MAX - 16) + 16);
	if (p->match == NULL || p->stats == NULL)
		goto fail;
	p->mask = pmatch_slots(p->match) - 1;
	if ((p->slots = calloc((size_t)p->mask + 1, sizeof(*p->slots))) == NULL)
		goto fail;
	p->slack_ns = iv / 2 < PROBER_SLACK_MAX ? iv / 2 : PROBER_SLACK_MAX;
	p->deadline = INT64_MAX;

	if (s->type != PROBE_TYPE_ICMP && s->type != PROBE_TYPE_UDP && s->type != PROBE_TYPE_TCP)
		probe_invalid(p, "unknown probe type");
	else if (s->target.addr.family != ADDR_V4 && s->target.addr.family != ADDR_V6)
		probe_invalid(p, "no target address");
	else if (s->type != PROBE_TYPE_ICMP && s->target.port == 0)
		probe_invalid(p, "no target port");
	else if (s->interval_ns <= 0 || s->timeout_ns <= 0 || s->window_ns <= 0)
		probe_invalid(p, "interval, timeout and window must be positive");
	if (!p->valid || s->type == PROBE_TYPE_TCP)
		return p;

	/* The size asked for, raised to what holds our payload. */
	if (s->type == PROBE_TYPE_ICMP) {
		p->sock = v6 ? SK_ICMP6 : SK_ICMP4;
		min = PWIRE_PAYLOAD_MIN;
		max = PWIRE_MAX - PWIRE_ICMP_HDR;
	} else {
		p->sock = v6 ? SK_UDP6 : SK_UDP4;
		min = PWIRE_TWAMP_REFL_LEN + PWIRE_PAYLOAD_MIN;
		max = PWIRE_MAX;
	}
	p->payload_len = s->size < min ? min : s->size > max ? max : s->size;
	if (!sk_open(pr, p->sock)) {
		int e = pr->sk[p->sock].open_errno;

		if (s->type == PROBE_TYPE_ICMP && (e == EPERM || e == EACCES))
			probe_invalid(p, icmp_needs);
		else {
			char why[96];

			snprintf(why, sizeof(why), "socket: %s", strerror(e));
			probe_invalid(p, why);
		}
		return p;
	}
	p->res.icmp_id = s->type == PROBE_TYPE_ICMP ? pr->sk[p->sock].icmp_id : 0;
	return p;
fail:
	probe_free(p);
	return NULL;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct probe *const *)a)->spec.name, (*(struct probe *const *)b)->spec.name);
}

static struct probe *
find_name(struct probe **sorted, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, sorted[mid]->spec.name);

		if (c == 0) {
			/* The first unclaimed of equal names. */
			while (mid > 0 && strcmp(name, sorted[mid - 1]->spec.name) == 0)
				mid--;
			while (mid < n && sorted[mid]->kept && strcmp(name, sorted[mid]->spec.name) == 0)
				mid++;
			return mid < n && strcmp(name, sorted[mid]->spec.name) == 0 ? sorted[mid] : NULL;
		}
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The schedule, the heap and the lookups again for the probe set in pr->probes. */
static bool
rebuild(struct prober *pr)
{
	struct psched *ps = psched_new();
	size_t n = pr->n, sz = n > 0 ? n : 1;
	struct probe **tok = malloc(sz * sizeof(*tok)), **tgt = malloc(sz * sizeof(*tgt)),
	    **heap = malloc(sz * sizeof(*heap));
	bool used[SK_N] = { false };

	if (ps == NULL || tok == NULL || tgt == NULL || heap == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct probe *p = pr->probes[i];

		p->index = i;
		tok[i] = tgt[i] = heap[i] = p;
		if (p->sock != -1)
			used[p->sock] = true;
		if (p->valid && !psched_add(ps, (uint32_t)i, p->next_slot_ns, p->spec.interval_ns))
			goto fail;
	}
	qsort(tok, n, sizeof(*tok), cmp_token);
	qsort(tgt, n, sizeof(*tgt), cmp_target);
	psched_free(pr->sched);
	free(pr->by_token);
	free(pr->by_target);
	free(pr->heap);
	pr->sched = ps;
	pr->by_token = tok;
	pr->by_target = tgt;
	pr->heap = heap;
	for (size_t i = 0; i < n; i++) {
		/* Inserted one by one: [0, i) is a heap when i goes in. */
		heap[i]->heap_pos = i;
		heap_up(pr, i);
	}
	for (int k = 0; k < SK_N; k++)
		if (!used[k])
			sk_close(pr, k);
	return true;
fail:
	psched_free(ps);
	free(tok);
	free(tgt);
	free(heap);
	return false;
}

bool
prober_apply(struct prober *pr, const struct probe_spec *specs, size_t n, int64_t now_ns)
{
	struct probe **np = calloc(n > 0 ? n : 1, sizeof(*np)), **old = NULL;
	int64_t origin = now_ns + (PSCHED_STEP_NS - now_ns % PSCHED_STEP_NS) % PSCHED_STEP_NS;
	size_t i;

	pr->now = now_ns;
	if (np == NULL || (old = malloc((pr->n > 0 ? pr->n : 1) * sizeof(*old))) == NULL)
		goto fail;
	if (pr->n > 0)
		memcpy(old, pr->probes, pr->n * sizeof(*old));
	qsort(old, pr->n, sizeof(*old), cmp_name);
	for (i = 0; i < n; i++) {
		struct probe *o = find_name(old, pr->n, specs[i].name);

		if (o != NULL && spec_equal(&o->spec, &specs[i])) {
			o->kept = true;
			np[i] = o;
			continue;
		}
		if ((np[i] = probe_new(pr, &specs[i], now_ns)) == NULL)
			goto fail;
		/*
		 * Spread the probes of one interval over it in steps (psched_phase)
		 * from a step boundary, so that probes started by different
		 * reloads share the steps, and so the wake-ups, too.
		 */
		if (np[i]->valid)
			np[i]->next_slot_ns = origin + psched_phase(i, n, specs[i].interval_ns);
	}
	for (i = 0; i < pr->n; i++)
		if (!old[i]->kept)
			probe_free(old[i]);
	for (i = 0; i < n; i++)
		np[i]->kept = false;
	free(old);
	free(pr->probes);
	pr->probes = np;
	pr->n = n;
	return rebuild(pr);
fail:
	for (i = 0; np != NULL && i < n; i++) {
		if (np[i] != NULL && !np[i]->kept)
			probe_free(np[i]);
		else if (np[i] != NULL)
			np[i]->kept = false;
	}
	free(np);
	free(old);
	return false;
}

struct prober *
prober_new(void)
{
	struct prober *pr = calloc(1, sizeof(*pr));

	if (pr == NULL)
		return NULL;
	if ((pr->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (pr->sched = psched_new()) == NULL) {
		if (pr->epfd != -1)
			close(pr->epfd);
		free(pr);
		return NULL;
	}
	pr->raw_id = (uint16_t)psock_random64();
	for (int k = 0; k < SK_N; k++)
		pr->sk[k].fd = -1;
	for (int c = 0; c < PROBER_TCP_MAX; c++) {
		pr->conns[c].fd = -1;
		pr->conns[c].next = c + 1 < PROBER_TCP_MAX ? c + 1 : -1;
	}
	pr->conn_free = 0;
	/* Which ICMP sockets this process may open, for the log and the MIB, before any probe needs one. */
	for (int k = SK_ICMP4; k <= SK_ICMP6; k++) {
		int fd = icmp_socket(pr, k);

		if (fd == -1)
			pr->sk[k].mode = MODE_UNAVAILABLE;
		else
			close(fd);
	}
	return pr;
}

void
prober_free(struct prober *pr)
{
	if (pr == NULL)
		return;
	for (size_t i = 0; i < pr->n; i++)
		probe_free(pr->probes[i]);
	for (int k = 0; k < SK_N; k++)
		sk_close(pr, k);
	close(pr->epfd);
	psched_free(pr->sched);
	free(pr->probes);
	free(pr->by_token);
	free(pr->by_target);
	free(pr->heap);
	free(pr);
}

int
prober_fd(const struct prober *pr)
{
	return pr->epfd;
}

static void
prober_drain(struct prober *pr)
{
	struct epoll_event ev[EPOLL_EVENTS];
	int n = epoll_wait(pr->epfd, ev, EPOLL_EVENTS, 0);

	for (int i = 0; i < n; i++) {
		uint32_t tag = (uint32_t)(ev[i].data.u64 >> 40);

		if (tag == TAG_TCP)
			tcp_ready(pr, ev[i].data.u64);
		else if (tag < SK_N && pr->sk[tag].fd != -1)
			sk_drain(pr, (int)tag, ev[i].events);
	}
}

void
prober_readable(struct prober *pr, int64_t now_ns)
{
	pr->now = now_ns;
	prober_drain(pr);
}

void
prober_run(struct prober *pr, int64_t now_ns)
{
	uint32_t id;
	int64_t slot;
	uint64_t missed;

	pr->now = now_ns;
	if (pr->n > 0 && pr->heap[0]->deadline <= now_ns) {
		/* Replies already queued arrived in time: take them before the timeouts. */
		prober_drain(pr);
		for (size_t guard = 0; guard < 2 * pr->n && pr->heap[0]->deadline <= now_ns; guard++) {
			struct probe *p = pr->heap[0];

			pmatch_expire(p->match, now_ns, probe_lost, p);
			deadline_update(p);
		}
	}
	/* Each probe's slot is due about once per call; what a bound leaves waits for the next call. */
	for (size_t pops = 0; pops < 4 * pr->n + 16; pops++) {
		struct probe *p;

		missed = 0;
		if (!psched_pop(pr->sched, now_ns, PROBER_SLACK_MAX, &id, &slot, &missed))
			break;
		if (id >= pr->n)
			continue;
		p = pr->probes[id];
		p->res.c.missed += missed;
		p->next_slot_ns = slot + p->spec.interval_ns;
		/*
		 * Within min(interval / 2, 10 ms) of the slot or not at all: a
		 * later send would sit closer to the next slot than to its own,
		 * and the spacing that IPDV and loss runs assume would be the
		 * loop's, not the path's.
		 */
		if (now_ns - slot > p->slack_ns) {
			p->res.c.missed++;
			continue;
		}
		probe_send(pr, p);
	}
}

int64_t
prober_next(const struct prober *pr)
{
	int64_t t = psched_next(pr->sched), d;

	/*
	 * A deadline less than a step before the next send waits for it: one
	 * wake-up for both, the loss decided at most a step late (a reply's
	 * lateness is judged by its receive stamp, not by when we look).
	 */
	if (pr->n > 0 && (d = pr->heap[0]->deadline) < t &&
	    (t == INT64_MAX || t - d > PSCHED_STEP_NS))
		t = d;
	return t;
}

void
prober_set_outcome_cb(struct prober *pr, prober_outcome_cb cb, void *arg)
{
	pr->cb = cb;
	pr->cb_arg = arg;
}

size_t
prober_count(const struct prober *pr)
{
	return pr->n;
}

const struct probe_spec *
prober_spec(const struct prober *pr, size_t i)
{
	return i < pr->n ? &pr->probes[i]->spec : NULL;
}

const struct probe_result *
prober_result(struct prober *pr, size_t i, int64_t now_ns)
{
	struct probe *p;

	if (i >= pr->n)
		return NULL;
	p = pr->probes[i];
	pstats_summary(p->stats, now_ns, &p->res.window);
	p->res.last_rtt_ns = pstats_last_rtt(p->stats);
	p->res.jitter_ns = pstats_jitter(p->stats);
	return &p->res;
}

const struct probe_result *
prober_result_running(struct prober *pr, size_t i, int64_t now_ns)
{
	struct pstats_summary w;
	struct probe *p;

	if (i >= pr->n)
		return NULL;
	p = pr->probes[i];
	pstats_running(p->stats, now_ns, &w);
	p->res.window.received = w.received;
	p->res.window.lost = w.lost;
	p->res.window.truncated = w.truncated;
	p->res.window.loss_ppm = w.loss_ppm;
	p->res.window.ipdv_mean = w.ipdv_mean;
	p->res.window.ipdv_pairs = w.ipdv_pairs;
	p->res.last_rtt_ns = pstats_last_rtt(p->stats);
	p->res.jitter_ns = pstats_jitter(p->stats);
	return &p->res;
}

const char *
prober_icmp_mode(const struct prober *pr, bool v6)
{
	switch (pr->sk[v6 ? SK_ICMP6 : SK_ICMP4].mode) {
	case MODE_DGRAM:
		return "datagram";
	case MODE_RAW:
		return "raw";
	default:
		return "unavailable";
	}
}
