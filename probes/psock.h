/*
 * What the prober and the reflector share about sockets: endpoint <->
 * sockaddr, the kernel's receive timestamp, the clocks, random bits. Not
 * pure (it reads clocks), so it stays out of the probe cores.
 */
#ifndef FP_PSOCK_H
#define FP_PSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine/addr.h"

struct mmsghdr;	/* <sys/socket.h> with _GNU_SOURCE */

/* The sockaddr for ep; returns its length (the way back is addr_endpoint_from_sockaddr). */
socklen_t	 psock_sockaddr(const struct addr_endpoint *ep, struct sockaddr_storage *ss);
bool		 psock_addr_equal(const struct addr *, const struct addr *);

int64_t		 psock_mono_ns(void);
int64_t		 psock_wall_ns(void);
/* 64 random bits from the kernel (probe tokens, the reflector's hash key). */
uint64_t	 psock_random64(void);

/* The SO_TIMESTAMPNS stamp of a received message (wall clock, ns); 0 when there is none. */
int64_t		 psock_rx_wall_ns(const struct msghdr *);

/*
 * Points n receive headers at their buffers again before a recvmmsg: data
 * and control areas are arrays with the strides given (the control area
 * aligned for struct cmsghdr).
 */
void		 psock_batch_reset(struct mmsghdr *m, struct iovec *iov, struct sockaddr_storage *from,
		    void *ctrl, size_t ctrl_stride, uint8_t *data, size_t data_stride, unsigned n);

/*
 * Appends a control message to buf (cap bytes, cmsghdr-aligned) holding
 * used bytes; returns the new used, or used unchanged when it does not fit.
 */
size_t		 psock_cmsg_put(void *buf, size_t cap, size_t used, int level, int type,
		    const void *data, size_t len);

/* Sets an int socket option; false with errno set. */
bool		 psock_opt(int fd, int level, int name, int value);

#endif
