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

/*
 * Epochs: the collector begins one per datagram. A restart is only known
 * once the datagram that shows it has been decoded, and that datagram often
 * carries the exporter's new templates: tmpl_cache_forget_before() drops a
 * source's templates and sampling older than the given epoch and keeps what
 * the datagram itself (re)defined.
 */
uint64_t	 tmpl_cache_begin(struct tmpl_cache *);
void		 tmpl_cache_forget_before(struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain, uint64_t epoch);
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

/*
 * For the v9 and IPFIX decoders: a template as parsed from the wire, before
 * it is compiled (collectors/ie.h) and inserted. Scope fields of an options
 * template come first and are never mapped to flow fields.
 */
#define TMPL_MAX_FIELDS	512
#define TMPL_VARLEN	65535	/* IPFIX variable-length field (RFC 7011 7) */

struct tmpl_field {
	uint16_t	 id;		/* element id, enterprise bit cleared */
	uint16_t	 len;		/* 1..65534, or TMPL_VARLEN */
	uint32_t	 pen;		/* enterprise number, 0 for IANA elements */
};

struct tmpl_def {
	uint16_t	 id;		/* 256..65535 */
	uint16_t	 nfields;	/* 1..TMPL_MAX_FIELDS */
	uint16_t	 nscope;	/* options templates: scope fields first */
	uint8_t		 options;	/* 1: an options template */
	struct tmpl_field fields[TMPL_MAX_FIELDS];
};

enum tmpl_status {
	TMPL_ADDED,		/* new, or a redefinition that replaced the old one */
	TMPL_UNCHANGED,		/* the same template sent again */
	TMPL_INVALID,		/* compiles to nothing usable (e.g. record too long) */
	TMPL_REFUSED		/* a cap; counted in tmpl_cache_refused() */
};

struct ie_prog;
struct tmpl_source;

/* The source's state, or NULL when it has none. O(1) expected. */
struct tmpl_source *tmpl_cache_source(struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain);
/* A compiled template of a source, or NULL. O(1) expected. */
const struct ie_prog *tmpl_source_find(const struct tmpl_source *, uint16_t id);
uint32_t	 tmpl_source_sampling(const struct tmpl_source *);

/*
 * Compiles and inserts (or replaces) a template; creates the source if
 * needed. A redefinition drops the old template first, so a refused
 * redefinition leaves none rather than a stale one.
 */
enum tmpl_status tmpl_cache_add(struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain, const struct tmpl_def *);
/* Returns 1 if the template existed. */
int		 tmpl_cache_withdraw(struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain, uint16_t id);
/* Withdraws every data (options 0) or options (options 1) template; returns how many. */
uint32_t	 tmpl_cache_withdraw_all(struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain, int options);
/* Sampling interval announced in options data; 0 clears. Returns 0, or -1 if refused by a cap. */
int		 tmpl_cache_set_sampling(struct tmpl_cache *, const struct addr *exporter,
		    uint8_t version, uint32_t domain, uint32_t interval);

#endif
