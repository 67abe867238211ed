/*
 * Aggregation keys: which flow fields make a key, how a key is packed into
 * bytes (for hashing and for MIB indexes) and how it reads as text. Pure.
 *
 * Packed layout: the fields in the order of the spec, each in a fixed width:
 *   addresses (src_addr dst_addr next_hop exporter): family (4 or 6, 0 when
 *     absent) then 16 address bytes (IPv4 in the first 4, rest zero) = 17
 *   prefixes (src_prefix dst_prefix): family, length, 16 masked bytes = 18
 *   ports, networks (network index, KEY_NETWORK_OTHER when none): 2, big-endian
 *   proto, tos: 1
 *   AS numbers, interfaces: 4, big-endian
 * so equal keys have equal bytes, and byte order is a sensible sort order.
 */
#ifndef FP_KEY_H
#define FP_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/flow.h"

enum key_field {
	KEY_SRC_ADDR, KEY_DST_ADDR, KEY_SRC_PORT, KEY_DST_PORT,
	KEY_PROTO, KEY_NEXT_HOP, KEY_SRC_AS, KEY_DST_AS,
	KEY_SRC_PREFIX, KEY_DST_PREFIX, KEY_SRC_NETWORK,
	KEY_DST_NETWORK, KEY_IN_IF, KEY_OUT_IF, KEY_TOS,
	KEY_EXPORTER,
	KEY_FIELD_COUNT
};

#define KEY_MAX_FIELDS	4
#define KEY_MAX_BYTES	(KEY_MAX_FIELDS * 18)
#define KEY_TEXT_MAX	256
#define KEY_NETWORK_OTHER 0xffffu	/* an address in none of the named networks */

struct key_spec {
	enum key_field	 field[KEY_MAX_FIELDS];
	size_t		 nfields;
};

/* Looks an address up in the named networks: an index, or KEY_NETWORK_OTHER. */
typedef uint16_t (*key_network_fn)(const struct addr *, void *arg);
/* The name of network index i (never called for KEY_NETWORK_OTHER). */
typedef const char *(*key_network_name_fn)(uint16_t index, void *arg);

const char	*key_field_name(enum key_field);	/* "src_addr", ... */
/* NULL when valid; else the reason. */
const char	*key_field_parse(const char *name, enum key_field *out);

/* Bytes of a packed key of this spec. */
size_t		 key_len(const struct key_spec *);
/* Packs rec's fields; returns key_len(spec). net may be NULL when no network field. */
size_t		 key_pack(const struct key_spec *, const struct flow_record *,
		    key_network_fn net, void *net_arg, uint8_t *out);
/*
 * Readable text: fields separated by " ", dotted IPv4, RFC 5952 IPv6,
 * prefixes as ADDR/LEN, ports as numbers, protocols by name (tcp udp icmp
 * icmp6 gre esp ah sctp ...) or number, AS numbers and interfaces as
 * numbers, networks by name or "other".
 */
void		 key_format(const struct key_spec *, const uint8_t *key,
		    key_network_name_fn name, void *name_arg, char *buf, size_t len);
/* Name of an IP protocol number ("tcp"), or NULL. */
const char	*key_proto_name(uint8_t proto);

/* A field's value in a packed key: the offset of field i, and its width. */
size_t		 key_field_offset(const struct key_spec *, size_t i);
size_t		 key_field_width(enum key_field);

#endif
