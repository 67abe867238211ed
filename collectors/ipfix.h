/* IPFIX (RFC 7011): template, options template and data sets; withdrawals. */
#ifndef FP_IPFIX_H
#define FP_IPFIX_H

#include "collectors/decode.h"
#include "collectors/template.h"

void	ipfix_decode(const uint8_t *buf, size_t len, const struct addr *exporter,
	    struct tmpl_cache *, decode_emit emit, void *arg, struct decode_result *res);

#endif
