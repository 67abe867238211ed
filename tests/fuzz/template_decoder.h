/*
 * The body of the v9 and IPFIX libFuzzer harnesses. One template cache with
 * small caps lives across inputs, so templates from one input meet data in
 * the next and the caps are hit; each input is decoded twice (the second
 * time with its own templates known). Invariants that must hold for any
 * input trap. Included by fuzz_v9.c and fuzz_ipfix.c.
 */
#ifndef FP_FUZZ_TEMPLATE_DECODER_H
#define FP_FUZZ_TEMPLATE_DECODER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/decode.h"
#include "collectors/template.h"

#define FUZZ_MAX_TEMPLATES	8
#define FUZZ_MAX_SOURCES	4
#define FUZZ_MAX_BYTES		(64 * 1024)

struct check {
	const struct addr *exporter;
	const struct decode_result *res;	/* its domain is set before any record */
	uint32_t	 n;
};

static void
emit(const struct flow_record *r, void *arg)
{
	struct check *c = arg;

	if (memcmp(&r->exporter, c->exporter, sizeof(*c->exporter)) != 0 ||
	    r->domain != c->res->domain)
		__builtin_trap();
	c->n++;
}

typedef void (*template_decoder)(const uint8_t *, size_t, const struct addr *,
    struct tmpl_cache *, decode_emit, void *, struct decode_result *);

static int
fuzz_template_decoder(const uint8_t *data, size_t size, template_decoder decode,
    uint8_t version)
{
	static struct tmpl_cache *cache;
	static const struct tmpl_limits lim = {
		FUZZ_MAX_TEMPLATES, FUZZ_MAX_SOURCES, FUZZ_MAX_BYTES
	};
	struct addr exporters[3];
	struct decode_result res;
	struct check chk;
	const struct addr *exp;
	uint8_t *copy;
	int pass;

	if (cache == NULL && (cache = tmpl_cache_new(&lim)) == NULL)
		return 0;
	/* An exact-size copy, so reading one byte past the input is caught. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(exporters, 0, sizeof(exporters));
	exporters[0].family = ADDR_V4;
	exporters[0].bytes[0] = 192;
	exporters[1].family = ADDR_V4;
	exporters[1].bytes[0] = 198;
	exporters[2].family = ADDR_V6;
	exporters[2].bytes[0] = 0x20;
	exp = &exporters[size % 3];

	for (pass = 0; pass < 2; pass++) {
		chk.exporter = exp;
		chk.n = 0;
		chk.res = &res;
		memset(&res, 0, sizeof(res));
		decode(copy, size, exp, cache, emit, &chk, &res);
		if (chk.n != res.records || res.error >= DECODE_ERR__COUNT)
			__builtin_trap();
		if (res.version != 0 && res.version != version)
			__builtin_trap();
		if (tmpl_cache_bytes(cache) > FUZZ_MAX_BYTES ||
		    tmpl_cache_count(cache, exp, version, res.domain) > FUZZ_MAX_TEMPLATES)
			__builtin_trap();
	}
	/* Now and then a restarted exporter. */
	if ((res.sequence & 0x3f) == 0x3f)
		tmpl_cache_forget(cache, exp, version, res.domain);
	free(copy);
	return 0;
}

#endif
