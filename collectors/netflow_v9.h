/* NetFlow v9 (RFC 3954): templates, options templates and data flowsets. */
#ifndef FP_NETFLOW_V9_H
#define FP_NETFLOW_V9_H

#include "collectors/decode.h"
#include "collectors/template.h"

void	v9_decode(const uint8_t *buf, size_t len, const struct addr *exporter,
	    struct tmpl_cache *, decode_emit emit, void *arg, struct decode_result *res);

#endif
