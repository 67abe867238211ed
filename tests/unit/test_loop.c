/*
 * The event loop: our fds are dispatched when readable, timers fire in
 * order and never early, the wait is bounded by the next timer and by
 * max_wait, and a signal ends the wait at once. Net-SNMP is initialised as
 * a library only (no sessions), as it is before the master is reachable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "subagent/clock.h"
#include "subagent/loop.h"

struct hits {
	int	 reads;
	int	 fd_seen;
	int	 fired[8];
	int64_t	 fired_at[8];
	int	 nfired;
};

static void
on_readable(int fd, void *arg)
{
	struct hits *h = arg;
	char buf[16];

	h->reads++;
	h->fd_seen = fd;
	(void)read(fd, buf, sizeof(buf));
}

static struct hits *timer_hits;

static void
on_timer(void *arg, int64_t now)
{
	timer_hits->fired[timer_hits->nfired] = (int)(intptr_t)arg;
	timer_hits->fired_at[timer_hits->nfired++] = now;
}

static sigset_t waitmask;

static void
test_readable_fd_is_dispatched_once_per_pass(void **state)
{
	struct loop *l = loop_new();
	struct hits h = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_add_fd(l, p[0], on_readable, &h), 0);
	assert_int_equal(loop_add_fd(l, p[0], on_readable, &h), -1);
	loop_run_once(l, &waitmask, 0);
	assert_int_equal(h.reads, 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	loop_run_once(l, &waitmask, CLOCK_NS_PER_SEC);
	assert_int_equal(h.reads, 1);
	assert_int_equal(h.fd_seen, p[0]);
	loop_del_fd(l, p[0]);
	assert_int_equal(write(p[1], "y", 1), 1);
	loop_run_once(l, &waitmask, 0);
	assert_int_equal(h.reads, 1);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static void
test_timers_fire_in_order_and_never_early(void **state)
{
	struct loop *l = loop_new();
	struct hits h = { 0 };
	int64_t t0 = clock_mono_ns();
	int64_t deadline = t0 + 2 * CLOCK_NS_PER_SEC;

	(void)state;
	timer_hits = &h;
	loop_timer_add(l, t0 + 30 * CLOCK_NS_PER_MS, on_timer, (void *)2);
	loop_timer_add(l, t0 + 10 * CLOCK_NS_PER_MS, on_timer, (void *)1);
	uint64_t id = loop_timer_add(l, t0 + 20 * CLOCK_NS_PER_MS, on_timer, (void *)9);
	assert_true(loop_timer_cancel(l, id));
	/* Each pass may wait at most 5 s, but the timers bound the wait. */
	while (h.nfired < 2 && clock_mono_ns() < deadline)
		loop_run_once(l, &waitmask, 5 * CLOCK_NS_PER_SEC);
	assert_int_equal(h.nfired, 2);
	assert_int_equal(h.fired[0], 1);
	assert_int_equal(h.fired[1], 2);
	assert_true(h.fired_at[0] >= t0 + 10 * CLOCK_NS_PER_MS);
	assert_true(h.fired_at[1] >= t0 + 30 * CLOCK_NS_PER_MS);
	/* Not a busy loop either: two timers, a handful of passes, well under the deadline. */
	assert_true(clock_mono_ns() < deadline);
	loop_free(l);
}

static void
test_wait_is_bounded_by_max_wait(void **state)
{
	struct loop *l = loop_new();
	int64_t t0 = clock_mono_ns();

	(void)state;
	loop_run_once(l, &waitmask, 50 * CLOCK_NS_PER_MS);
	int64_t took = clock_mono_ns() - t0;
	assert_true(took >= 40 * CLOCK_NS_PER_MS);
	assert_true(took < 2 * CLOCK_NS_PER_SEC);
	loop_free(l);
}

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void *
send_usr1(void *arg)
{
	usleep(50000);
	kill(getpid(), SIGUSR1);
	return arg;
}

static void
test_signal_ends_the_wait_at_once(void **state)
{
	struct loop *l = loop_new();
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t block, mask;
	pthread_t th;

	(void)state;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &mask);
	sigdelset(&mask, SIGUSR1);
	assert_int_equal(pthread_create(&th, NULL, send_usr1, NULL), 0);
	int64_t t0 = clock_mono_ns();
	loop_run_once(l, &mask, 10 * CLOCK_NS_PER_SEC);
	int64_t took = clock_mono_ns() - t0;
	pthread_join(th, NULL);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
	assert_true(got_usr1);
	assert_true(took < 5 * CLOCK_NS_PER_SEC);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readable_fd_is_dispatched_once_per_pass),
		cmocka_unit_test(test_timers_fire_in_order_and_never_early),
		cmocka_unit_test(test_wait_is_bounded_by_max_wait),
		cmocka_unit_test(test_signal_ends_the_wait_at_once),
	};

	sigprocmask(SIG_SETMASK, NULL, &waitmask);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
