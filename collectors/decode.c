/*
 * What the decoders share: the names of the rejection reasons (stable: they
 * appear in logs and in the documentation) and the version peek used to
 * dispatch a datagram to its decoder.
 */
#include <stddef.h>
#include <stdint.h>

#include "collectors/decode.h"

static const char *const decode_error_names[DECODE_ERR__COUNT] = {
	[DECODE_OK] = "ok",
	[DECODE_ERR_SHORT] = "short",
	[DECODE_ERR_VERSION] = "version",
	[DECODE_ERR_LENGTH] = "length",
	[DECODE_ERR_SET] = "set",
	[DECODE_ERR_TEMPLATE] = "template",
	[DECODE_ERR_RECORD] = "record",
};

const char *
decode_error_name(enum decode_error e)
{
	if ((unsigned)e >= DECODE_ERR__COUNT)
		return "unknown";
	return decode_error_names[e];
}

/* NetFlow v5, v9 and IPFIX all start with a 16-bit version in network order. */
uint16_t
decode_peek_version(const uint8_t *buf, size_t len)
{
	if (buf == NULL || len < 2)
		return 0;
	return (uint16_t)((uint16_t)buf[0] << 8 | buf[1]);
}
