/*
 * The single-threaded event loop: our sockets and timers, and Net-SNMP's
 * sessions (the AgentX connection) and alarms, in one ppoll() per pass.
 * Signals stay blocked except inside ppoll(), so a flag set by a handler is
 * seen at the latest right after the poll it interrupted.
 */
#ifndef FP_LOOP_H
#define FP_LOOP_H

#include <signal.h>
#include <stdint.h>

#include "subagent/timer.h"

struct loop;
typedef void (*loop_fd_cb)(int fd, void *arg);

struct loop	*loop_new(void);
void		 loop_free(struct loop *);

/* Calls cb when fd is readable. -1 when out of memory or fd already watched. */
int		 loop_add_fd(struct loop *, int fd, loop_fd_cb cb, void *arg);
void		 loop_del_fd(struct loop *, int fd);

uint64_t	 loop_timer_add(struct loop *, int64_t when, timer_cb cb, void *arg);
bool		 loop_timer_cancel(struct loop *, uint64_t id);

/*
 * One pass: wait (with waitmask as the signal mask) for our fds, Net-SNMP's
 * fds or the next timer, at most max_wait_ns; then dispatch readable fds, run
 * the timers now due, and let Net-SNMP process. A signal ends the wait at once.
 */
void		 loop_run_once(struct loop *, const sigset_t *waitmask, int64_t max_wait_ns);

#endif
