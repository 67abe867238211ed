#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/loop.h"

struct loop_watch {
	int		 fd;
	loop_fd_cb	 cb;
	void		*arg;
};

struct loop {
	struct timer_heap *timers;
	struct loop_watch *watch;
	size_t		 nwatch;
	size_t		 capwatch;
	struct pollfd	*pfd;		/* rebuilt every pass: ours, then Net-SNMP's */
	size_t		 cappfd;
	netsnmp_large_fd_set r, w, x;	/* Net-SNMP speaks select() sets */
};

struct loop *
loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	if ((l->timers = timer_heap_new()) == NULL) {
		free(l);
		return NULL;
	}
	netsnmp_large_fd_set_init(&l->r, FD_SETSIZE);
	netsnmp_large_fd_set_init(&l->w, FD_SETSIZE);
	netsnmp_large_fd_set_init(&l->x, FD_SETSIZE);
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	timer_heap_free(l->timers);
	netsnmp_large_fd_set_cleanup(&l->r);
	netsnmp_large_fd_set_cleanup(&l->w);
	netsnmp_large_fd_set_cleanup(&l->x);
	free(l->watch);
	free(l->pfd);
	free(l);
}

int
loop_add_fd(struct loop *l, int fd, loop_fd_cb cb, void *arg)
{
	for (size_t i = 0; i < l->nwatch; i++)
		if (l->watch[i].fd == fd)
			return -1;
	if (l->nwatch == l->capwatch) {
		size_t cap = l->capwatch ? l->capwatch * 2 : 8;
		struct loop_watch *w = reallocarray(l->watch, cap, sizeof(*w));

		if (w == NULL)
			return -1;
		l->watch = w;
		l->capwatch = cap;
	}
	l->watch[l->nwatch++] = (struct loop_watch){ fd, cb, arg };
	return 0;
}

void
loop_del_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nwatch; i++) {
		if (l->watch[i].fd == fd) {
			l->watch[i] = l->watch[--l->nwatch];
			return;
		}
	}
}

uint64_t
loop_timer_add(struct loop *l, int64_t when, timer_cb cb, void *arg)
{
	return timer_add(l->timers, when, cb, arg);
}

bool
loop_timer_cancel(struct loop *l, uint64_t id)
{
	return timer_cancel(l->timers, id);
}

static int
loop_reserve_pfd(struct loop *l, size_t n)
{
	struct pollfd *p;

	if (n <= l->cappfd)
		return 0;
	if ((p = reallocarray(l->pfd, n, sizeof(*p))) == NULL)
		return -1;
	l->pfd = p;
	l->cappfd = n;
	return 0;
}

/* Net-SNMP's view of one pass: select()-style sets and its own timeout. */
struct snmp_wait {
	int		 numfds;
	int64_t		 deadline;	/* INT64_MAX: Net-SNMP has no timeout pending */
};

static void
loop_snmp_prepare(struct loop *l, struct snmp_wait *sw, int64_t now)
{
	struct timeval tv = { 0, 0 };
	int block = 1;

	NETSNMP_LARGE_FD_ZERO(&l->r);
	NETSNMP_LARGE_FD_ZERO(&l->w);
	NETSNMP_LARGE_FD_ZERO(&l->x);
	sw->numfds = 0;
	snmp_select_info2(&sw->numfds, &l->r, &tv, &block);
	netsnmp_external_event_info2(&sw->numfds, &l->r, &l->w, &l->x);
	sw->deadline = block ? INT64_MAX
	    : now + (int64_t)tv.tv_sec * CLOCK_NS_PER_SEC + (int64_t)tv.tv_usec * 1000;
}

static size_t
loop_fill_pfd(struct loop *l, const struct snmp_wait *sw)
{
	size_t n = 0;

	if (loop_reserve_pfd(l, l->nwatch + (size_t)sw->numfds) == -1)
		fatalx("out of memory for the poll set");
	for (size_t i = 0; i < l->nwatch; i++)
		l->pfd[n++] = (struct pollfd){ .fd = l->watch[i].fd, .events = POLLIN };
	for (int fd = 0; fd < sw->numfds; fd++) {
		short ev = 0;

		if (NETSNMP_LARGE_FD_ISSET(fd, &l->r) || NETSNMP_LARGE_FD_ISSET(fd, &l->x))
			ev |= POLLIN;
		if (NETSNMP_LARGE_FD_ISSET(fd, &l->w))
			ev |= POLLOUT;
		if (ev)
			l->pfd[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	return n;
}

static void
loop_snmp_dispatch(struct loop *l, size_t first, size_t n, const struct snmp_wait *sw)
{
	int count = 0;

	NETSNMP_LARGE_FD_ZERO(&l->r);
	NETSNMP_LARGE_FD_ZERO(&l->w);
	NETSNMP_LARGE_FD_ZERO(&l->x);
	for (size_t i = first; i < n; i++) {
		if (l->pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			NETSNMP_LARGE_FD_SET(l->pfd[i].fd, &l->r);
			count++;
		}
		if (l->pfd[i].revents & POLLOUT) {
			NETSNMP_LARGE_FD_SET(l->pfd[i].fd, &l->w);
			count++;
		}
	}
	if (count > 0) {
		netsnmp_dispatch_external_events2(&count, &l->r, &l->w, &l->x);
		if (count > 0)
			snmp_read2(&l->r);
	}
	if (clock_mono_ns() >= sw->deadline)
		snmp_timeout();
}

void
loop_run_once(struct loop *l, const sigset_t *waitmask, int64_t max_wait_ns)
{
	struct snmp_wait sw;
	struct timespec ts;
	int64_t now, wait;
	size_t n, ours;

	now = clock_mono_ns();
	loop_snmp_prepare(l, &sw, now);
	ours = l->nwatch;
	n = loop_fill_pfd(l, &sw);

	wait = max_wait_ns;
	if (timer_next(l->timers) != INT64_MAX && timer_next(l->timers) - now < wait)
		wait = timer_next(l->timers) - now;
	if (sw.deadline != INT64_MAX && sw.deadline - now < wait)
		wait = sw.deadline - now;
	if (wait < 0)
		wait = 0;
	ts.tv_sec = wait / CLOCK_NS_PER_SEC;
	ts.tv_nsec = wait % CLOCK_NS_PER_SEC;

	if (ppoll(l->pfd, n, &ts, waitmask) == -1) {
		if (errno != EINTR)
			log_warn("ppoll");
		for (size_t i = 0; i < n; i++)
			l->pfd[i].revents = 0;
	}
	for (size_t i = 0; i < ours; i++) {
		/* A callback may delete watches; look each one up again. */
		if (l->pfd[i].revents == 0)
			continue;
		for (size_t j = 0; j < l->nwatch; j++) {
			if (l->watch[j].fd == l->pfd[i].fd) {
				l->watch[j].cb(l->watch[j].fd, l->watch[j].arg);
				break;
			}
		}
	}
	/* Timers run in the pass that waited for them, right after the wait. */
	timer_run(l->timers, clock_mono_ns());
	loop_snmp_dispatch(l, ours, n, &sw);
	run_alarms();
	netsnmp_check_outstanding_agent_requests();
}
