#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collectors/listener.h"

struct listener {
	int		 fd;
	struct addr_endpoint ep;
	uint32_t	 last_ovfl;	/* SO_RXQ_OVFL is a running count per socket */
	struct mmsghdr	 msgs[LISTENER_BATCH];
	struct iovec	 iov[LISTENER_BATCH];
	struct sockaddr_storage from[LISTENER_BATCH];
	union {
		char		 buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr	 align;
	} control[LISTENER_BATCH];
	uint8_t		 data[LISTENER_BATCH][LISTENER_DATAGRAM_MAX];
};

static int
listener_fail(struct listener *l, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	if (l->fd != -1)
		close(l->fd);
	free(l);
	return -1;
}

struct listener *
listener_open(const struct addr_endpoint *ep, uint32_t receive_buffer, uint32_t *granted,
    char *err, size_t errlen)
{
	struct listener *l = calloc(1, sizeof(*l));
	struct sockaddr_storage ss;
	socklen_t sslen = (socklen_t)addr_endpoint_to_sockaddr(ep, &ss), optlen;
	int on = 1, v6only = 1, rcvbuf;

	*granted = 0;
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->ep = *ep;
	l->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd == -1) {
		l->fd = -1;
		listener_fail(l, err, errlen, "socket");
		return NULL;
	}
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1) {
		listener_fail(l, err, errlen, "IPV6_V6ONLY");
		return NULL;
	}
	if (setsockopt(l->fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) == -1) {
		listener_fail(l, err, errlen, "SO_RXQ_OVFL");
		return NULL;
	}
	if (receive_buffer > 0) {
		rcvbuf = (int)receive_buffer;
		if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == -1) {
			listener_fail(l, err, errlen, "SO_RCVBUF");
			return NULL;
		}
		/* Linux reports twice what it will hold for data (bookkeeping). */
		optlen = sizeof(rcvbuf);
		if (getsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &optlen) == 0)
			*granted = (uint32_t)rcvbuf / 2;
	}
	if (bind(l->fd, (struct sockaddr *)&ss, sslen) == -1) {
		listener_fail(l, err, errlen, "bind");
		return NULL;
	}
	for (int i = 0; i < LISTENER_BATCH; i++) {
		l->iov[i] = (struct iovec){ l->data[i], sizeof(l->data[i]) };
		l->msgs[i].msg_hdr.msg_iov = &l->iov[i];
		l->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return l;
}

void
listener_close(struct listener *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	free(l);
}

int
listener_fd(const struct listener *l)
{
	return l->fd;
}

const struct addr_endpoint *
listener_endpoint(const struct listener *l)
{
	return &l->ep;
}

static void
listener_note_overflow(struct listener *l, struct msghdr *mh, uint64_t *kernel_drops)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		uint32_t ovfl;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL ||
		    cm->cmsg_len < CMSG_LEN(sizeof(ovfl)))
			continue;
		memcpy(&ovfl, CMSG_DATA(cm), sizeof(ovfl));
		*kernel_drops += (uint32_t)(ovfl - l->last_ovfl);	/* wraps like the kernel's */
		l->last_ovfl = ovfl;
	}
}

size_t
listener_read(struct listener *l, unsigned max_batches, listener_cb cb, void *arg,
    uint64_t *kernel_drops)
{
	size_t total = 0;

	for (unsigned b = 0; b < max_batches; b++) {
		int n;

		for (int i = 0; i < LISTENER_BATCH; i++) {
			struct msghdr *mh = &l->msgs[i].msg_hdr;

			mh->msg_name = &l->from[i];
			mh->msg_namelen = sizeof(l->from[i]);
			mh->msg_control = l->control[i].buf;
			mh->msg_controllen = sizeof(l->control[i].buf);
			mh->msg_flags = 0;
		}
		n = recvmmsg(l->fd, l->msgs, LISTENER_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct addr_endpoint src;

			listener_note_overflow(l, &l->msgs[i].msg_hdr, kernel_drops);
			if (l->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;	/* cannot happen at 64 KiB; never decode a cut datagram */
			/* IPv4-mapped sources count as IPv4, so allow lists and rows agree. */
			addr_endpoint_from_sockaddr(&l->from[i], &src);
			cb(l->data[i], l->msgs[i].msg_len, &src.addr, arg);
		}
		total += (size_t)n;
		if (n < LISTENER_BATCH)
			break;
	}
	return total;
}
