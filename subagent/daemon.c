#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "subagent/daemon.h"

struct pidfile {
	int	 fd;
	char	*path;
};

static pid_t
pidfile_read_owner(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

struct pidfile *
pidfile_open(const char *path, pid_t *owner)
{
	struct pidfile *pf;
	int fd;

	*owner = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return NULL;
	/* flock() locks survive fork(), so the detached child keeps this one. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		*owner = pidfile_read_owner(fd);
		close(fd);
		errno = saved;
		return NULL;
	}
	if ((pf = malloc(sizeof(*pf))) == NULL || (pf->path = strdup(path)) == NULL) {
		free(pf);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	pf->fd = fd;
	return pf;
}

int
pidfile_write(struct pidfile *pf)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(pf->fd, 0) == -1)
		return -1;
	if (pwrite(pf->fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

void
pidfile_remove(struct pidfile *pf)
{
	if (pf == NULL)
		return;
	unlink(pf->path);
	close(pf->fd);
	free(pf->path);
	free(pf);
}

int
daemon_detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	/* A second fork: the daemon is no session leader and gets no terminal. */
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}
