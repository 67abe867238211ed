/*
 * One UDP socket of the collector: IPv4 or IPv6, non-blocking, batched
 * receive (recvmmsg), SO_RCVBUF as configured, and the kernel's drop count
 * (SO_RXQ_OVFL) read from each batch. Reports errors as text; the caller logs.
 */
#ifndef FP_LISTENER_H
#define FP_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/addr.h"

#define LISTENER_BATCH 64		/* datagrams per recvmmsg() */
#define LISTENER_DATAGRAM_MAX 65535

struct listener;

typedef void (*listener_cb)(const uint8_t *buf, size_t len, const struct addr *src,
    void *arg);

/*
 * NULL on failure with the reason in err. *granted is the receive buffer the
 * kernel gave (bytes it accounts, as getsockopt reports), 0 when not asked.
 */
struct listener	*listener_open(const struct addr_endpoint *, uint32_t receive_buffer,
		    uint32_t *granted, char *err, size_t errlen);
void		 listener_close(struct listener *);
int		 listener_fd(const struct listener *);
const struct addr_endpoint *listener_endpoint(const struct listener *);

/*
 * Reads at most max_batches batches (bounded work per loop pass); calls cb
 * for each datagram. Returns datagrams read; *kernel_drops grows by the
 * drops the kernel reported since the last call.
 */
size_t		 listener_read(struct listener *, unsigned max_batches, listener_cb cb,
		    void *arg, uint64_t *kernel_drops);

#endif
