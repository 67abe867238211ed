/* Probe packets on the wire: see pwire.h. */
#include <string.h>

#include "probes/pwire.h"

uint64_t
pwire_ntp_from_wall_ns(int64_t wall_ns)
{
	return 0;
}

int64_t
pwire_ntp_diff_ns(uint64_t later, uint64_t earlier)
{
	return 0;
}

void
pwire_payload_put(uint8_t *buf, size_t len, const struct pwire_payload *p)
{
	memset(buf, 0, len);
}

bool
pwire_payload_get(const uint8_t *buf, size_t len, struct pwire_payload *p)
{
	return false;
}

size_t
pwire_icmp_echo(uint8_t *buf, size_t cap, bool v6, uint16_t id,
    const struct pwire_payload *p, size_t payload_len)
{
	return 0;
}

void
pwire_icmp_parse(const uint8_t *buf, size_t len, bool v6, bool ip_header,
    struct pwire_icmp *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = PWIRE_ICMP_MALFORMED;
}

size_t
pwire_udp_request(uint8_t *buf, size_t len, uint64_t ntp_ts,
    const struct pwire_payload *p)
{
	return 0;
}

void
pwire_udp_parse(const uint8_t *buf, size_t len, struct pwire_udp *out)
{
	memset(out, 0, sizeof(*out));
}

size_t
pwire_reflect(const uint8_t *req, size_t len, uint8_t *out, size_t cap,
    uint32_t refl_seq, uint64_t rx_ts, uint64_t tx_ts, uint8_t ttl)
{
	return 0;
}
