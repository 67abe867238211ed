/*
 * The TWAMP-light reflector (RFC 5357 appendix I): see reflector.h.
 *
 * A sender is its address and port, and our probe's token when the
 * padding carries one: probes of one flowpathd share a UDP socket, and
 * each needs a counter of its own for its forward/reverse loss split.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "probes/psock.h"
#include "probes/pwire.h"
#include "probes/reflector.h"

#define REFL_BATCH	8
#define REFL_DATA	9216	/* a jumbo frame; a longer request is counted malformed */
#define REFL_CTRL	256
#define REFL_BATCHES	8	/* recvmmsg calls per socket and wake-up */

struct refl_sock {
	int		 fd;
	struct addr_endpoint ep;
};

struct session {
	struct addr_endpoint from;
	uint64_t	 token;		/* 0: not one of our probes */
	uint32_t	 next_seq;
	uint32_t	 hnext;		/* hash chain */
	uint32_t	 prev, next;	/* LRU list, most recent first */
};

#define NIL UINT32_MAX

struct reflector {
	struct reflector_counters c;
	struct refl_sock *socks;
	size_t		 nsocks;
	/* Sessions: a fixed pool, a hash on it, an LRU list through it. */
	struct session	*sess;
	uint32_t	 cap, nfree;
	uint32_t	*free;
	uint32_t	*buckets;
	uint32_t	 bmask;
	uint32_t	 lru_head, lru_tail;
	uint64_t	 seed;
	struct mmsghdr	 msgs[REFL_BATCH];
	struct iovec	 iov[REFL_BATCH];
	struct sockaddr_storage from[REFL_BATCH];
	union {
		char		 buf[REFL_CTRL];
		struct cmsghdr	 align;
	} ctrl[REFL_BATCH];
	uint8_t		 data[REFL_BATCH][REFL_DATA];
	uint8_t		 out[REFL_DATA + PWIRE_TWAMP_REFL_LEN];
};

static uint64_t
mix64(uint64_t h)
{
	/* splitmix64's finaliser: every input bit reaches every output bit. */
	h ^= h >> 30;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64_C(0x94d049bb133111eb);
	return h ^ (h >> 31);
}

/* Keyed with a random seed so that a sender cannot aim at one chain. */
static uint32_t
sess_hash(const struct reflector *r, const struct addr_endpoint *from, uint64_t token)
{
	uint64_t a, b, h;

	memcpy(&a, from->addr.bytes, 8);
	memcpy(&b, from->addr.bytes + 8, 8);
	h = mix64(r->seed ^ a);
	h = mix64(h ^ b);
	h = mix64(h ^ token ^ ((uint64_t)from->port << 48) ^ (uint64_t)from->addr.family);
	return (uint32_t)h & r->bmask;
}

static bool
sess_match(const struct session *s, const struct addr_endpoint *from, uint64_t token)
{
	return s->token == token && s->from.port == from->port &&
	    psock_addr_equal(&s->from.addr, &from->addr);
}

static uint32_t
sess_find(const struct reflector *r, const struct addr_endpoint *from, uint64_t token)
{
	for (uint32_t i = r->buckets[sess_hash(r, from, token)]; i != NIL; i = r->sess[i].hnext)
		if (sess_match(&r->sess[i], from, token))
			return i;
	return NIL;
}

static void
lru_unlink(struct reflector *r, uint32_t i)
{
	struct session *s = &r->sess[i];

	if (s->prev != NIL)
		r->sess[s->prev].next = s->next;
	else
		r->lru_head = s->next;
	if (s->next != NIL)
		r->sess[s->next].prev = s->prev;
	else
		r->lru_tail = s->prev;
}

static void
lru_push(struct reflector *r, uint32_t i)
{
	struct session *s = &r->sess[i];

	s->prev = NIL;
	s->next = r->lru_head;
	if (r->lru_head != NIL)
		r->sess[r->lru_head].prev = i;
	r->lru_head = i;
	if (r->lru_tail == NIL)
		r->lru_tail = i;
}

static void
sess_drop(struct reflector *r, uint32_t i)
{
	struct session *s = &r->sess[i];
	uint32_t *pp = &r->buckets[sess_hash(r, &s->from, s->token)];

	while (*pp != i)
		pp = &r->sess[*pp].hnext;
	*pp = s->hnext;
	lru_unlink(r, i);
	r->free[r->nfree++] = i;
	r->c.senders--;
}

/*
 * The session of a sender, found at i by sess_find, or made (evicting the
 * least recently seen at the cap) when i is NIL.
 */
static struct session *
sess_get(struct reflector *r, uint32_t i, const struct addr_endpoint *from, uint64_t token)
{
	struct session *s;
	uint32_t h;

	if (i != NIL) {
		lru_unlink(r, i);
		lru_push(r, i);
		return &r->sess[i];
	}
	if (r->nfree == 0) {
		sess_drop(r, r->lru_tail);
		r->c.senders_evicted++;
	}
	i = r->free[--r->nfree];
	s = &r->sess[i];
	*s = (struct session){ .from = *from, .token = token };
	h = sess_hash(r, from, token);
	s->hnext = r->buckets[h];
	r->buckets[h] = i;
	lru_push(r, i);
	r->c.senders++;
	return s;
}

struct reflector *
reflector_new_cap(uint32_t max_senders)
{
	struct reflector *r = calloc(1, sizeof(*r));
	uint32_t nb = 16;

	if (r == NULL)
		return NULL;
	if (max_senders < 1)
		max_senders = 1;
	while (nb < 2 * max_senders)
		nb *= 2;
	r->cap = max_senders;
	r->sess = calloc(max_senders, sizeof(*r->sess));
	r->free = calloc(max_senders, sizeof(*r->free));
	r->buckets = malloc(nb * sizeof(*r->buckets));
	if (r->sess == NULL || r->free == NULL || r->buckets == NULL) {
		reflector_free(r);
		return NULL;
	}
	memset(r->buckets, 0xff, nb * sizeof(*r->buckets));
	r->bmask = nb - 1;
	for (uint32_t i = 0; i < max_senders; i++)
		r->free[i] = max_senders - 1 - i;
	r->nfree = max_senders;
	r->lru_head = r->lru_tail = NIL;
	r->seed = psock_random64();
	return r;
}

struct reflector *
reflector_new(void)
{
	return reflector_new_cap(REFLECTOR_MAX_SENDERS);
}

void
reflector_free(struct reflector *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsocks; i++)
		close(r->socks[i].fd);
	free(r->socks);
	free(r->sess);
	free(r->free);
	free(r->buckets);
	free(r);
}

static bool
endpoint_equal(const struct addr_endpoint *a, const struct addr_endpoint *b)
{
	return a->port == b->port && a->addr.family == b->addr.family &&
	    memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes)) == 0;
}

static int
refl_open(const struct addr_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t sl = psock_sockaddr(ep, &ss);
	bool v6 = ep->addr.family == ADDR_V6;
	int lvl = v6 ? IPPROTO_IPV6 : IPPROTO_IP, fd, e;

	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/*
	 * The kernel's receive stamp (T2); the TTL and TOS to copy back; the
	 * address the request came to, so that a reply from a wildcard socket
	 * leaves from the address the sender expects.
	 */
	if ((v6 && !psock_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) ||
	    !psock_opt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) ||
	    !psock_opt(fd, lvl, v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL, 1) ||
	    !psock_opt(fd, lvl, v6 ? IPV6_RECVTCLASS : IP_RECVTOS, 1) ||
	    !psock_opt(fd, lvl, v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, 1) ||
	    bind(fd, (struct sockaddr *)&ss, sl) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

bool
reflector_apply(struct reflector *r, const struct addr_endpoint *eps, size_t n)
{
	struct refl_sock *ns = calloc(n > 0 ? n : 1, sizeof(*ns));
	size_t k = 0;
	int first_errno = 0;

	if (ns == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < k; j++)
			if (endpoint_equal(&ns[j].ep, &eps[i]))
				break;
		if (j < k)
			continue;	/* listed twice */
		ns[k].ep = eps[i];
		ns[k].fd = -1;
		for (j = 0; j < r->nsocks; j++)
			if (r->socks[j].fd != -1 && endpoint_equal(&r->socks[j].ep, &eps[i])) {
				ns[k].fd = r->socks[j].fd;
				r->socks[j].fd = -1;
				break;
			}
		if (ns[k].fd == -1 && (ns[k].fd = refl_open(&eps[i])) == -1) {
			if (first_errno == 0)
				first_errno = errno;
			continue;
		}
		k++;
	}
	for (size_t j = 0; j < r->nsocks; j++)
		if (r->socks[j].fd != -1)
			close(r->socks[j].fd);
	free(r->socks);
	r->socks = ns;
	r->nsocks = k;
	errno = first_errno;
	return first_errno == 0;
}

size_t
reflector_fds(const struct reflector *r, int *fds, size_t max)
{
	size_t i;

	for (i = 0; i < r->nsocks && i < max; i++)
		fds[i] = r->socks[i].fd;
	return r->nsocks;
}

struct rx_meta {
	int64_t		 wall_ns;
	uint8_t		 ttl, tos;
	bool		 have_dst;
	struct in_pktinfo pi4;
	struct in6_pktinfo pi6;
};

static void
rx_meta(const struct msghdr *mh, struct rx_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->ttl = 255;	/* RFC 5357 4.2.1 asks for 255 when the TTL cannot be read */
	m->wall_ns = psock_rx_wall_ns(mh);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)mh, cm)) {
		int v;

		if (((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
		    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(v))) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			m->ttl = (uint8_t)v;
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS &&
		    cm->cmsg_len >= CMSG_LEN(1)) {
			m->tos = *CMSG_DATA(cm);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(v))) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			m->tos = (uint8_t)v;
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(m->pi4))) {
			memcpy(&m->pi4, CMSG_DATA(cm), sizeof(m->pi4));
			m->have_dst = true;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(m->pi6))) {
			memcpy(&m->pi6, CMSG_DATA(cm), sizeof(m->pi6));
			m->have_dst = true;
		}
	}
}

/* The reply leaves from the address the request came to, with its traffic class. */
static ssize_t
refl_send(int fd, bool v6, const struct sockaddr_storage *to, socklen_t tolen,
    const uint8_t *buf, size_t len, const struct rx_meta *m)
{
	union {
		char		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
		struct cmsghdr	 align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov,
	    .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	size_t used = 0;
	int tos = m->tos;

	if (m->have_dst && v6) {
		struct in6_pktinfo pi = { .ipi6_addr = m->pi6.ipi6_addr };

		used = psock_cmsg_put(ctl.buf, sizeof(ctl.buf), used, IPPROTO_IPV6, IPV6_PKTINFO,
		    &pi, sizeof(pi));
	} else if (m->have_dst) {
		struct in_pktinfo pi = { .ipi_spec_dst = m->pi4.ipi_addr };

		used = psock_cmsg_put(ctl.buf, sizeof(ctl.buf), used, IPPROTO_IP, IP_PKTINFO,
		    &pi, sizeof(pi));
	}
	if (tos != 0)
		used = psock_cmsg_put(ctl.buf, sizeof(ctl.buf), used, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
		    v6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof(tos));
	mh.msg_controllen = used;
	if (used == 0)
		mh.msg_control = NULL;
	return sendmsg(fd, &mh, 0);
}

static void
refl_one(struct reflector *r, int fd, bool v6, int i)
{
	struct msghdr *mh = &r->msgs[i].msg_hdr;
	size_t len = r->msgs[i].msg_len, out;
	struct addr_endpoint from;
	struct pwire_payload pl;
	struct rx_meta m;
	uint64_t token = 0, rx_ts;
	uint32_t seq, found;
	struct session *s;

	r->c.received++;
	if (mh->msg_flags & MSG_TRUNC) {
		r->c.malformed++;	/* cannot copy back what was cut */
		return;
	}
	/*
	 * A reflection is not a request: answering one would let a spoofed
	 * packet bounce between two reflectors for ever.
	 */
	if (pwire_is_reflection(r->data[i], len)) {
		r->c.malformed++;
		return;
	}
	addr_endpoint_from_sockaddr(&r->from[i], &from);
	rx_meta(mh, &m);
	if (len >= PWIRE_TWAMP_REFL_LEN &&
	    pwire_payload_get(r->data[i] + PWIRE_TWAMP_REFL_LEN, len - PWIRE_TWAMP_REFL_LEN, &pl))
		token = pl.token;
	/* The sequence number the next reply to this sender carries; no session made yet. */
	found = sess_find(r, &from, token);
	seq = found == NIL ? 0 : r->sess[found].next_seq;
	/* T2 is the kernel's stamp; our own clock only when it has none. */
	rx_ts = pwire_ntp_from_wall_ns(m.wall_ns != 0 ? m.wall_ns : psock_wall_ns());
	/* Built first, and the session touched only for a real request (never for junk). */
	out = pwire_reflect(r->data[i], len, r->out, sizeof(r->out), seq, rx_ts,
	    pwire_ntp_from_wall_ns(psock_wall_ns()), m.ttl);
	if (out == 0) {
		r->c.malformed++;
		return;
	}
	s = sess_get(r, found, &from, token);
	/*
	 * The counter moves for every valid request received, whether the
	 * reply then leaves or not: the sender counts a reply we failed to
	 * send as lost on the way back, which is where it was lost.
	 */
	s->next_seq = seq + 1;
	if (refl_send(fd, v6, &r->from[i], mh->msg_namelen, r->out, out, &m) < 0)
		r->c.send_errors++;
	else
		r->c.reflected++;
}

void
reflector_readable(struct reflector *r, int fd)
{
	bool v6 = false, found = false;

	for (size_t i = 0; i < r->nsocks; i++)
		if (r->socks[i].fd == fd) {
			v6 = r->socks[i].ep.addr.family == ADDR_V6;
			found = true;
		}
	if (!found)
		return;
	for (int b = 0; b < REFL_BATCHES; b++) {
		int n;

		psock_batch_reset(r->msgs, r->iov, r->from, r->ctrl, sizeof(r->ctrl[0]), r->data[0],
		    REFL_DATA, REFL_BATCH);
		if ((n = recvmmsg(fd, r->msgs, REFL_BATCH, MSG_DONTWAIT, NULL)) <= 0)
			return;
		for (int i = 0; i < n; i++)
			refl_one(r, fd, v6, i);
		if (n < REFL_BATCH)
			return;
	}
}

const struct reflector_counters *
reflector_counters(const struct reflector *r)
{
	return &r->c;
}
