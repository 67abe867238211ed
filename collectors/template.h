/*
 * The NetFlow v9 / IPFIX template cache, keyed by (exporter address,
 * version, source id / observation domain, template id), with the sampling
 * interval each (exporter, version, domain) announced in options data.
 * Bounded: templates per source, sources in total and bytes held are capped;
 * what a cap refuses is counted. Pure: no clocks, no I/O.
 */
#ifndef FP_TEMPLATE_H
#define FP_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/addr.h"

struct tmpl_limits {
	uint32_t	 max_templates;	/* per (exporter, version, domain); default 256 */
	uint32_t	 max_sources;	/* (exporter, version, domain) in total; default 4096 */
	size_t		 max_bytes;	/* all templates together; default 16 MiB */
};

struct tmpl_cache;

struct tmpl_cache *tmpl_cache_new(const struct tmpl_limits *);
void		 tmpl_cache_free(struct tmpl_cache *);

/* A restarted exporter: drop its templates and announced sampling. */
void		 tmpl_cache_forget(struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain);
/* Templates held for one source, and the sampling interval it announced (0: none). */
uint32_t	 tmpl_cache_count(const struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain);
uint32_t	 tmpl_cache_sampling(const struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain);
size_t		 tmpl_cache_bytes(const struct tmpl_cache *);
uint64_t	 tmpl_cache_refused(const struct tmpl_cache *);	/* by any cap, ever */

#endif
