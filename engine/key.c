/*
 * Aggregation keys. Packing runs once per record per aggregation, so it is
 * a switch over fixed-width stores with no allocation and no formatting;
 * text is made only when a key is shown.
 *
 * A prefix field takes its length from the record's src_mask/dst_mask. A
 * mask of 0 means "not exported" far more often than a real default route
 * (NetFlow v5 sends 0 when the router has no route), so 0 is read as the
 * full length (32 or 128): the prefix is then the address itself, rather
 * than 0.0.0.0/0 swallowing every unrouted flow into one row.
 *
 * A network field packed without a lookup function is KEY_NETWORK_OTHER;
 * a network index the name function does not know formats as its number.
 */
#include <stdio.h>
#include <string.h>

#include "engine/key.h"

#define KEY_ADDR_WIDTH		17
#define KEY_PREFIX_WIDTH	18

static const char *const field_names[KEY_FIELD_COUNT] = {
	[KEY_SRC_ADDR] = "src_addr",
	[KEY_DST_ADDR] = "dst_addr",
	[KEY_SRC_PORT] = "src_port",
	[KEY_DST_PORT] = "dst_port",
	[KEY_PROTO] = "proto",
	[KEY_NEXT_HOP] = "next_hop",
	[KEY_SRC_AS] = "src_as",
	[KEY_DST_AS] = "dst_as",
	[KEY_SRC_PREFIX] = "src_prefix",
	[KEY_DST_PREFIX] = "dst_prefix",
	[KEY_SRC_NETWORK] = "src_network",
	[KEY_DST_NETWORK] = "dst_network",
	[KEY_IN_IF] = "in_if",
	[KEY_OUT_IF] = "out_if",
	[KEY_TOS] = "tos",
	[KEY_EXPORTER] = "exporter",
};

static const uint8_t field_widths[KEY_FIELD_COUNT] = {
	[KEY_SRC_ADDR] = KEY_ADDR_WIDTH,
	[KEY_DST_ADDR] = KEY_ADDR_WIDTH,
	[KEY_SRC_PORT] = 2,
	[KEY_DST_PORT] = 2,
	[KEY_PROTO] = 1,
	[KEY_NEXT_HOP] = KEY_ADDR_WIDTH,
	[KEY_SRC_AS] = 4,
	[KEY_DST_AS] = 4,
	[KEY_SRC_PREFIX] = KEY_PREFIX_WIDTH,
	[KEY_DST_PREFIX] = KEY_PREFIX_WIDTH,
	[KEY_SRC_NETWORK] = 2,
	[KEY_DST_NETWORK] = 2,
	[KEY_IN_IF] = 4,
	[KEY_OUT_IF] = 4,
	[KEY_TOS] = 1,
	[KEY_EXPORTER] = KEY_ADDR_WIDTH,
};

/* IANA protocol numbers, the names tcpdump and flow-tools print. */
static const struct {
	uint8_t		 num;
	const char	*name;
} proto_names[] = {
	{ 1, "icmp" }, { 2, "igmp" }, { 6, "tcp" }, { 17, "udp" },
	{ 41, "ipv6" }, { 47, "gre" }, { 50, "esp" }, { 51, "ah" },
	{ 58, "icmp6" }, { 89, "ospf" }, { 103, "pim" }, { 112, "vrrp" },
	{ 132, "sctp" },
};

const char *
key_field_name(enum key_field f)
{
	if ((unsigned)f >= KEY_FIELD_COUNT)
		return "?";
	return field_names[f];
}

const char *
key_field_parse(const char *name, enum key_field *out)
{
	size_t i;

	if (name != NULL)
		for (i = 0; i < KEY_FIELD_COUNT; i++)
			if (strcmp(name, field_names[i]) == 0) {
				*out = (enum key_field)i;
				return NULL;
			}
	return "unknown key field (src_addr dst_addr src_port dst_port proto "
	    "next_hop src_as dst_as src_prefix dst_prefix src_network "
	    "dst_network in_if out_if tos exporter)";
}

size_t
key_field_width(enum key_field f)
{
	if ((unsigned)f >= KEY_FIELD_COUNT)
		return 0;
	return field_widths[f];
}

static size_t
spec_fields(const struct key_spec *spec)
{
	return spec->nfields < KEY_MAX_FIELDS ? spec->nfields : KEY_MAX_FIELDS;
}

size_t
key_field_offset(const struct key_spec *spec, size_t i)
{
	size_t n = spec_fields(spec), off = 0, j;

	for (j = 0; j < i && j < n; j++)
		off += key_field_width(spec->field[j]);
	return off;
}

size_t
key_len(const struct key_spec *spec)
{
	return key_field_offset(spec, KEY_MAX_FIELDS);
}

const char *
key_proto_name(uint8_t proto)
{
	size_t i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (proto_names[i].num == proto)
			return proto_names[i].name;
	return NULL;
}

/*
 * Each field is one store where the byte order allows it: agg_add reads the
 * packed key back as words right away, and a load that spans several small
 * stores cannot be forwarded from them (it waits for them to retire).
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define KEY_LE	1
#else
#define KEY_LE	0
#endif

static void
put_be16(uint8_t *p, uint16_t v)
{
#if KEY_LE
	v = __builtin_bswap16(v);
	memcpy(p, &v, 2);
#else
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
#endif
}

static void
put_be32(uint8_t *p, uint32_t v)
{
#if KEY_LE
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
#else
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
#endif
}

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Family byte then 16 bytes; bytes past an IPv4 address are always zero. */
static __attribute__((noinline)) void
pack_addr_any(uint8_t *p, const struct addr *a)
{
	memset(p, 0, KEY_ADDR_WIDTH);
	if (a->family == ADDR_V4) {
		p[0] = ADDR_V4;
		memcpy(p + 1, a->bytes, 4);
	} else if (a->family == ADDR_V6) {
		p[0] = ADDR_V6;
		memcpy(p + 1, a->bytes, 16);
	}
}

/* As pack_addr_any; IPv4, the common case, inline in whole words. */
static inline void
pack_addr(uint8_t *p, const struct addr *a)
{
#if KEY_LE
	if (a->family == ADDR_V4) {
		/* Bytes 0-7: family, the address, zeros; then 8-16 zero. */
		uint64_t w = 0;
		uint32_t v4;

		memcpy(&v4, a->bytes, 4);
		w = (uint64_t)ADDR_V4 | (uint64_t)v4 << 8;
		memcpy(p, &w, 8);
		w = 0;
		memcpy(p + 8, &w, 8);
		p[16] = 0;
		return;
	}
#endif
	pack_addr_any(p, a);
}

/* Out of line, like network_of: keeps key_pack's common cases small. */
static __attribute__((noinline)) void
pack_prefix(uint8_t *p, const struct addr *a, uint8_t mask)
{
	unsigned bits, len;

	memset(p, 0, KEY_PREFIX_WIDTH);
	if (a->family == ADDR_V4)
		bits = 32;
	else if (a->family == ADDR_V6)
		bits = 128;
	else
		return;
	len = mask == 0 || mask > bits ? bits : mask;
	p[0] = (uint8_t)a->family;
	p[1] = (uint8_t)len;
	memcpy(p + 2, a->bytes, len / 8);
	if (len % 8 != 0)
		p[2 + len / 8] = (uint8_t)(a->bytes[len / 8] & (0xff << (8 - len % 8)));
}

static __attribute__((noinline)) uint16_t
network_of(const struct addr *a, key_network_fn net, void *arg)
{
	return net == NULL ? KEY_NETWORK_OTHER : net(a, arg);
}

/* Every field; the reference for key_pack's fast path. */
static __attribute__((noinline)) size_t
key_pack_any(const struct key_spec *spec, const struct flow_record *rec,
    key_network_fn net, void *net_arg, uint8_t *out)
{
	size_t n = spec_fields(spec), i;
	uint8_t *p = out;

	for (i = 0; i < n; i++) {
		switch (spec->field[i]) {
		case KEY_SRC_ADDR:
			pack_addr(p, &rec->src);
			break;
		case KEY_DST_ADDR:
			pack_addr(p, &rec->dst);
			break;
		case KEY_NEXT_HOP:
			pack_addr(p, &rec->next_hop);
			break;
		case KEY_EXPORTER:
			pack_addr(p, &rec->exporter);
			break;
		case KEY_SRC_PORT:
			put_be16(p, rec->src_port);
			break;
		case KEY_DST_PORT:
			put_be16(p, rec->dst_port);
			break;
		case KEY_PROTO:
			p[0] = rec->proto;
			break;
		case KEY_TOS:
			p[0] = rec->tos;
			break;
		case KEY_SRC_AS:
			put_be32(p, rec->src_as);
			break;
		case KEY_DST_AS:
			put_be32(p, rec->dst_as);
			break;
		case KEY_IN_IF:
			put_be32(p, rec->in_if);
			break;
		case KEY_OUT_IF:
			put_be32(p, rec->out_if);
			break;
		case KEY_SRC_PREFIX:
			pack_prefix(p, &rec->src, rec->src_mask);
			break;
		case KEY_DST_PREFIX:
			pack_prefix(p, &rec->dst, rec->dst_mask);
			break;
		case KEY_SRC_NETWORK:
			put_be16(p, network_of(&rec->src, net, net_arg));
			break;
		case KEY_DST_NETWORK:
			put_be16(p, network_of(&rec->dst, net, net_arg));
			break;
		case KEY_FIELD_COUNT:
		default:
			continue;	/* width 0: nothing to store */
		}
		p += field_widths[spec->field[i]];
	}
	return (size_t)(p - out);
}

/*
 * The fields that need no call (IPv4 addresses, ports, proto, tos, AS
 * numbers, interfaces) are packed here without one, so that this loop
 * needs no saved registers; at the first other field the whole key is
 * packed again by key_pack_any, which gives the same bytes.
 */
size_t
key_pack(const struct key_spec *spec, const struct flow_record *rec,
    key_network_fn net, void *net_arg, uint8_t *out)
{
	size_t n = spec_fields(spec), i;
	uint8_t *p = out;
	const struct addr *ad;

	for (i = 0; i < n; i++) {
		switch (spec->field[i]) {
		case KEY_SRC_ADDR:
			ad = &rec->src;
			goto addr;
		case KEY_DST_ADDR:
			ad = &rec->dst;
			goto addr;
		case KEY_NEXT_HOP:
			ad = &rec->next_hop;
			goto addr;
		case KEY_EXPORTER:
			ad = &rec->exporter;
		addr:
			if (!KEY_LE || ad->family != ADDR_V4)
				return key_pack_any(spec, rec, net, net_arg, out);
			pack_addr(p, ad);
			break;
		case KEY_SRC_PORT:
			put_be16(p, rec->src_port);
			break;
		case KEY_DST_PORT:
			put_be16(p, rec->dst_port);
			break;
		case KEY_PROTO:
			p[0] = rec->proto;
			break;
		case KEY_TOS:
			p[0] = rec->tos;
			break;
		case KEY_SRC_AS:
			put_be32(p, rec->src_as);
			break;
		case KEY_DST_AS:
			put_be32(p, rec->dst_as);
			break;
		case KEY_IN_IF:
			put_be32(p, rec->in_if);
			break;
		case KEY_OUT_IF:
			put_be32(p, rec->out_if);
			break;
		case KEY_SRC_PREFIX:
		case KEY_DST_PREFIX:
		case KEY_SRC_NETWORK:
		case KEY_DST_NETWORK:
		case KEY_FIELD_COUNT:
		default:
			return key_pack_any(spec, rec, net, net_arg, out);
		}
		p += field_widths[spec->field[i]];
	}
	return (size_t)(p - out);
}

/* Appends to buf without ever writing past len; *pos may exceed len (truncated). */
static void
append(char *buf, size_t len, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos < len) {
		size_t room = len - *pos - 1;

		memcpy(buf + *pos, s, n < room ? n : room);
		buf[*pos + (n < room ? n : room)] = '\0';
	}
	*pos += n;
}

/* Unpacks an address field; family 0 (or a damaged byte) reads as absent. */
static bool
unpack_addr(uint8_t family, const uint8_t *bytes, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == ADDR_V4) {
		a->family = ADDR_V4;
		memcpy(a->bytes, bytes, 4);
	} else if (family == ADDR_V6) {
		a->family = ADDR_V6;
		memcpy(a->bytes, bytes, 16);
	} else
		return false;
	return true;
}

static void
format_field(enum key_field f, const uint8_t *p, key_network_name_fn name,
    void *name_arg, char *tmp, size_t tmplen)
{
	char a[ADDR_STRLEN];
	struct addr ad;
	const char *s;
	unsigned len, bits;

	switch (f) {
	case KEY_SRC_ADDR:
	case KEY_DST_ADDR:
	case KEY_NEXT_HOP:
	case KEY_EXPORTER:
		if (!unpack_addr(p[0], p + 1, &ad))
			snprintf(tmp, tmplen, "-");
		else
			addr_format(&ad, tmp, tmplen);
		break;
	case KEY_SRC_PREFIX:
	case KEY_DST_PREFIX:
		if (!unpack_addr(p[0], p + 2, &ad)) {
			snprintf(tmp, tmplen, "-");
			break;
		}
		bits = ad.family == ADDR_V4 ? 32 : 128;
		len = p[1] > bits ? bits : p[1];
		addr_format(&ad, a, sizeof(a));
		snprintf(tmp, tmplen, "%s/%u", a, len);
		break;
	case KEY_SRC_PORT:
	case KEY_DST_PORT:
		snprintf(tmp, tmplen, "%u", (unsigned)get_be16(p));
		break;
	case KEY_PROTO:
		if ((s = key_proto_name(p[0])) != NULL)
			snprintf(tmp, tmplen, "%s", s);
		else
			snprintf(tmp, tmplen, "%u", (unsigned)p[0]);
		break;
	case KEY_TOS:
		snprintf(tmp, tmplen, "%u", (unsigned)p[0]);
		break;
	case KEY_SRC_AS:
	case KEY_DST_AS:
	case KEY_IN_IF:
	case KEY_OUT_IF:
		snprintf(tmp, tmplen, "%lu", (unsigned long)get_be32(p));
		break;
	case KEY_SRC_NETWORK:
	case KEY_DST_NETWORK:
		if (get_be16(p) == KEY_NETWORK_OTHER)
			snprintf(tmp, tmplen, "other");
		else if (name != NULL && (s = name(get_be16(p), name_arg)) != NULL)
			snprintf(tmp, tmplen, "%s", s);
		else
			snprintf(tmp, tmplen, "%u", (unsigned)get_be16(p));
		break;
	case KEY_FIELD_COUNT:
	default:
		tmp[0] = '\0';
		break;
	}
}

void
key_format(const struct key_spec *spec, const uint8_t *key,
    key_network_name_fn name, void *name_arg, char *buf, size_t len)
{
	size_t n = spec_fields(spec), i, pos = 0;
	char tmp[KEY_TEXT_MAX];

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if ((unsigned)spec->field[i] >= KEY_FIELD_COUNT)
			continue;
		format_field(spec->field[i], key, name, name_arg, tmp, sizeof(tmp));
		if (i > 0)
			append(buf, len, &pos, " ");
		append(buf, len, &pos, tmp);
		key += field_widths[spec->field[i]];
	}
}
