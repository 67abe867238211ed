/* Detaching from the terminal and the pid file. */
#ifndef FP_DAEMON_H
#define FP_DAEMON_H

#include <sys/types.h>

struct pidfile;

/*
 * Opens and locks path before flowpathd detaches, so that a second instance
 * is refused on the terminal. NULL with errno set, or with *owner set to the
 * running instance's pid when the file is locked.
 */
struct pidfile	*pidfile_open(const char *path, pid_t *owner);
/* Writes the current pid; called after daemon_detach(). -1 on error. */
int		 pidfile_write(struct pidfile *);
/* Removes the file and releases the lock. */
void		 pidfile_remove(struct pidfile *);

/* fork, setsid, chdir("/"), standard fds to /dev/null. -1 on error. */
int		 daemon_detach(void);

#endif
