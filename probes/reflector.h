/*
 * The reflector: answers TWAMP-light test packets (RFC 5357 appendix I)
 * on UDP sockets, with its own per-sender sequence counter and receive /
 * send timestamps so that the sender can tell forward from reverse loss and
 * subtract the holding time. Senders are tracked in a bounded table (least
 * recently seen evicted, counted). Datagrams that are not test packets are
 * counted and dropped, never answered.
 */
#ifndef FP_REFLECTOR_H
#define FP_REFLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/addr.h"

#define REFLECTOR_MAX_SENDERS 4096

struct reflector_counters {
	uint64_t	 received;
	uint64_t	 reflected;
	uint64_t	 malformed;	/* not a test packet */
	uint64_t	 send_errors;
	uint64_t	 senders_evicted;
	uint32_t	 senders;	/* in the table now */
};

struct reflector;

/* A table of REFLECTOR_MAX_SENDERS; reflector_new_cap sets another size (tests, small hosts). */
struct reflector *reflector_new(void);
struct reflector *reflector_new_cap(uint32_t max_senders);
void		 reflector_free(struct reflector *);
/* Opens/closes sockets to match the list; false (with errno set, the others in place) when one cannot be bound. */
bool		 reflector_apply(struct reflector *, const struct addr_endpoint *, size_t n);
/* The sockets, to watch for reading. */
size_t		 reflector_fds(const struct reflector *, int *fds, size_t max);
void		 reflector_readable(struct reflector *, int fd);
const struct reflector_counters *reflector_counters(const struct reflector *);

#endif
