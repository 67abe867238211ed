/*
 * Address, prefix and endpoint parsing, and sockaddr conversion. Pure:
 * inet_pton/inet_ntop only, no name resolution, so a configuration check
 * never waits on DNS.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>

#include "engine/addr.h"

#define ADDR_TEXT_MAX 64	/* longer input is refused before any copy */

static size_t
family_bits(enum addr_family family)
{
	return family == ADDR_V4 ? 32 : family == ADDR_V6 ? 128 : 0;
}

/* Copies text[0..len) into buf as a C string; false when it does not fit. */
static bool
copy_part(char *buf, size_t size, const char *text, size_t len)
{
	if (len >= size)
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return true;
}

/* Decimal digits only: no sign, no spaces, no leading zeros beyond "0". */
static bool
parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (*text == '\0' || (text[0] == '0' && text[1] != '\0'))
		return false;
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

const char *
addr_parse(const char *text, struct addr *out)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (text == NULL || strnlen(text, ADDR_TEXT_MAX) >= ADDR_STRLEN)
		return "not an IP address";
	if (strchr(text, ':') != NULL) {
		if (inet_pton(AF_INET6, text, a.bytes) != 1)
			return "not an IP address";
		a.family = ADDR_V6;
	} else {
		if (inet_pton(AF_INET, text, a.bytes) != 1)
			return "not an IP address";
		a.family = ADDR_V4;
	}
	*out = a;
	return NULL;
}

static bool
host_bits_clear(const struct addr *a, unsigned len)
{
	size_t bits = family_bits(a->family), i;

	for (i = len; i < bits; i++)
		if (a->bytes[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

const char *
addr_parse_prefix(const char *text, struct addr_prefix *out)
{
	char buf[ADDR_TEXT_MAX];
	const char *slash;
	unsigned long len;
	struct addr a;

	if (text == NULL || (slash = strchr(text, '/')) == NULL)
		return "not a prefix (ADDRESS/LENGTH)";
	if (!copy_part(buf, sizeof(buf), text, (size_t)(slash - text)) ||
	    addr_parse(buf, &a) != NULL)
		return "not a prefix (ADDRESS/LENGTH)";
	if (!parse_uint(slash + 1, 128, &len) || len > family_bits(a.family))
		return "prefix length out of range";
	if (!host_bits_clear(&a, (unsigned)len))
		return "host bits set beyond the prefix length";
	out->addr = a;
	out->len = (uint8_t)len;
	return NULL;
}

const char *
addr_parse_port(const char *text, uint16_t *port)
{
	unsigned long v;

	if (!parse_uint(text, 65535, &v) || v == 0)
		return "port must be between 1 and 65535";
	*port = (uint16_t)v;
	return NULL;
}

/* "[v6]:port"; brackets are for IPv6 only (RFC 3986 section 3.2.2). */
static const char *
parse_bracketed(const char *text, struct addr_endpoint *out)
{
	char buf[ADDR_TEXT_MAX];
	const char *close = strchr(text, ']');
	struct addr a;

	if (close == NULL || close[1] != ':')
		return "not an address:port";
	if (!copy_part(buf, sizeof(buf), text + 1, (size_t)(close - text - 1)) ||
	    addr_parse(buf, &a) != NULL || a.family != ADDR_V6)
		return "not an IPv6 address in brackets";
	if (addr_parse_port(close + 2, &out->port) != NULL)
		return "port must be between 1 and 65535";
	out->addr = a;
	return NULL;
}

const char *
addr_parse_endpoint(const char *text, struct addr_endpoint *out)
{
	char buf[ADDR_TEXT_MAX];
	const char *colon, *reason;
	struct addr_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	if (text == NULL || (colon = strchr(text, ':')) == NULL)
		return "not an address:port";
	if (text[0] == '[')
		reason = parse_bracketed(text, &ep);
	else if (strchr(colon + 1, ':') != NULL)
		reason = "IPv6 address needs brackets ([ADDRESS]:PORT)";
	else if (!copy_part(buf, sizeof(buf), text, (size_t)(colon - text)) ||
	    addr_parse(buf, &ep.addr) != NULL)
		reason = "not an address:port";
	else
		reason = addr_parse_port(colon + 1, &ep.port);
	if (reason == NULL)
		*out = ep;
	return reason;
}

void
addr_format(const struct addr *a, char *buf, size_t len)
{
	int af = a->family == ADDR_V4 ? AF_INET : AF_INET6;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (a->family != ADDR_V4 && a->family != ADDR_V6)
		return;
	if (inet_ntop(af, a->bytes, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
}

void
addr_format_endpoint(const struct addr_endpoint *ep, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	addr_format(&ep->addr, a, sizeof(a));
	if (ep->port == 0)
		snprintf(buf, len, "%s", a);
	else if (ep->addr.family == ADDR_V6)
		snprintf(buf, len, "[%s]:%u", a, (unsigned)ep->port);
	else
		snprintf(buf, len, "%s:%u", a, (unsigned)ep->port);
}

bool
addr_prefix_contains(const struct addr_prefix *p, const struct addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;
	uint8_t mask;

	if (p->addr.family != a->family || p->len > family_bits(a->family))
		return false;
	if (memcmp(p->addr.bytes, a->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (p->addr.bytes[full] & mask) == (a->bytes[full] & mask);
}

size_t
addr_endpoint_to_sockaddr(const struct addr_endpoint *ep, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->addr.family == ADDR_V6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ep->port);
		memcpy(&sin6->sin6_addr, ep->addr.bytes, 16);
		return sizeof(*sin6);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	sin->sin_port = htons(ep->port);
	memcpy(&sin->sin_addr, ep->addr.bytes, 4);
	return sizeof(*sin);
}

void
addr_endpoint_from_sockaddr(const struct sockaddr_storage *ss, struct addr_endpoint *ep)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET) {
		ep->addr.family = ADDR_V4;
		memcpy(ep->addr.bytes, &sin->sin_addr, 4);
		ep->port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const uint8_t *b = sin6->sin6_addr.s6_addr;

		if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
			ep->addr.family = ADDR_V4;
			memcpy(ep->addr.bytes, b + 12, 4);
		} else {
			ep->addr.family = ADDR_V6;
			memcpy(ep->addr.bytes, b, 16);
		}
		ep->port = ntohs(sin6->sin6_port);
	}
}
