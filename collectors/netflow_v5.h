/*
 * NetFlow v5 (Cisco's published format): a 24-byte header and up to 30
 * 48-byte records. The datagram is accepted whole or rejected whole.
 */
#ifndef FP_NETFLOW_V5_H
#define FP_NETFLOW_V5_H

#include "collectors/decode.h"

#define V5_HEADER_LEN 24
#define V5_RECORD_LEN 48
#define V5_MAX_RECORDS 30

void	v5_decode(const uint8_t *buf, size_t len, const struct addr *exporter,
	    decode_emit emit, void *arg, struct decode_result *res);

#endif
