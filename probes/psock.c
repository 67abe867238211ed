/* Socket helpers of the prober and the reflector: see psock.h. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <netinet/in.h>

#include "probes/psock.h"

socklen_t
psock_sockaddr(const struct addr_endpoint *ep, struct sockaddr_storage *ss)
{
	return (socklen_t)addr_endpoint_to_sockaddr(ep, ss);
}

bool
psock_addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family || a->family == ADDR_NONE)
		return false;
	return memcmp(a->bytes, b->bytes, a->family == ADDR_V4 ? 4 : 16) == 0;
}

static int64_t
psock_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
psock_mono_ns(void)
{
	return psock_clock(CLOCK_MONOTONIC);
}

int64_t
psock_wall_ns(void)
{
	return psock_clock(CLOCK_REALTIME);
}

uint64_t
psock_random64(void)
{
	uint64_t v = 0;

	/* Blocks only before the pool is initialised at boot; never fails for 8 bytes after. */
	while (getrandom(&v, sizeof(v), 0) != sizeof(v))
		;
	return v;
}

int64_t
psock_rx_wall_ns(const struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)mh, cm)) {
		struct timespec ts;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS ||
		    cm->cmsg_len < CMSG_LEN(sizeof(ts)))
			continue;
		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	return 0;
}

void
psock_batch_reset(struct mmsghdr *m, struct iovec *iov, struct sockaddr_storage *from,
    void *ctrl, size_t ctrl_stride, uint8_t *data, size_t data_stride, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *mh = &m[i].msg_hdr;

		iov[i] = (struct iovec){ data + i * data_stride, data_stride };
		*mh = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
		    .msg_iov = &iov[i], .msg_iovlen = 1,
		    .msg_control = (char *)ctrl + i * ctrl_stride, .msg_controllen = ctrl_stride };
	}
}

size_t
psock_cmsg_put(void *buf, size_t cap, size_t used, int level, int type, const void *data,
    size_t len)
{
	struct cmsghdr *cm = (struct cmsghdr *)((char *)buf + used);

	if (used + CMSG_SPACE(len) > cap)
		return used;
	memset(cm, 0, CMSG_SPACE(len));
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	return used + CMSG_SPACE(len);
}

bool
psock_opt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) == 0;
}
