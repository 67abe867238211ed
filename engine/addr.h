/*
 * IPv4/IPv6 addresses, prefixes and host:port endpoints: parsing and
 * formatting. Pure: no sockets, no name resolution.
 */
#ifndef FP_ADDR_H
#define FP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum addr_family { ADDR_NONE = 0, ADDR_V4 = 4, ADDR_V6 = 6 };

struct addr {
	enum addr_family family;
	uint8_t		 bytes[16];	/* network order; v4 uses the first 4 */
};

struct addr_prefix {
	struct addr	 addr;
	uint8_t		 len;		/* 0..32 or 0..128 */
};

struct addr_endpoint {
	struct addr	 addr;
	uint16_t	 port;
};

#define ADDR_STRLEN 46		/* INET6_ADDRSTRLEN */
#define ADDR_ENDPOINT_STRLEN (ADDR_STRLEN + 8)

/* Each returns NULL on success, or a static reason such as "not an IP address". */
const char	*addr_parse(const char *text, struct addr *out);
/* "192.0.2.0/24", "2001:db8::/32"; host bits beyond the length are refused. */
const char	*addr_parse_prefix(const char *text, struct addr_prefix *out);
/* "192.0.2.1:2055", "[2001:db8::1]:4739"; the port must be 1..65535. */
const char	*addr_parse_endpoint(const char *text, struct addr_endpoint *out);

/* Decimal 1..65535, no sign, no leading zeros. */
const char	*addr_parse_port(const char *text, uint16_t *port);

/* RFC 5952 text for v6, dotted quad for v4. */
void		 addr_format(const struct addr *, char *buf, size_t len);
/* "[v6]:port" or "v4:port"; the address alone when port is 0 (ICMP targets). */
void		 addr_format_endpoint(const struct addr_endpoint *, char *buf, size_t len);

bool		 addr_prefix_contains(const struct addr_prefix *, const struct addr *);

struct sockaddr_storage;
/* The sockaddr of an endpoint (AF_INET6 for ADDR_V6, else AF_INET); returns its length. */
size_t		 addr_endpoint_to_sockaddr(const struct addr_endpoint *, struct sockaddr_storage *);
/*
 * The endpoint of a sockaddr. IPv4-mapped IPv6 counts as IPv4, so that
 * allow lists, rows and replies compare alike; other families give ADDR_NONE.
 */
void		 addr_endpoint_from_sockaddr(const struct sockaddr_storage *, struct addr_endpoint *);

#endif
