#include <stdlib.h>
#include <string.h>

#include "collectors/collector.h"
#include "collectors/ipfix.h"
#include "collectors/netflow_v5.h"
#include "collectors/netflow_v9.h"
#include "engine/wire.h"

struct collector {
	struct collector_stats stats;
	struct exporter_table *exporters;
	struct tmpl_cache *templates;
	struct addr_prefix *allow;
	size_t		 nallow;
	struct addr	*override_addr;
	uint32_t	*override_rate;
	size_t		 noverrides;
	collector_sink	 sink;
	void		*sink_arg;
};

/* What one datagram's records add up to, before the exporter is known. */
struct datagram_acc {
	struct collector *c;
	uint32_t	 override;	/* 0: none */
	uint64_t	 packets;
	uint64_t	 octets;
};

struct collector *
collector_new(uint32_t max_exporters, const struct tmpl_limits *limits)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->exporters = exporter_table_new(max_exporters);
	c->templates = tmpl_cache_new(limits);
	if (c->exporters == NULL || c->templates == NULL) {
		collector_free(c);
		return NULL;
	}
	return c;
}

void
collector_free(struct collector *c)
{
	if (c == NULL)
		return;
	exporter_table_free(c->exporters);
	tmpl_cache_free(c->templates);
	free(c->allow);
	free(c->override_addr);
	free(c->override_rate);
	free(c);
}

static void *
copy_array(const void *src, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	if ((p = calloc(n, size)) != NULL)
		memcpy(p, src, n * size);
	return p;
}

int
collector_configure(struct collector *c, const struct collector_settings *s)
{
	struct addr_prefix *allow = copy_array(s->allow, s->nallow, sizeof(*allow));
	struct addr *oa = copy_array(s->override_addr, s->noverrides, sizeof(*oa));
	uint32_t *orate = copy_array(s->override_rate, s->noverrides, sizeof(*orate));

	if ((s->nallow > 0 && allow == NULL) ||
	    (s->noverrides > 0 && (oa == NULL || orate == NULL))) {
		free(allow);
		free(oa);
		free(orate);
		return -1;
	}
	free(c->allow);
	free(c->override_addr);
	free(c->override_rate);
	c->allow = allow;
	c->nallow = s->nallow;
	c->override_addr = oa;
	c->override_rate = orate;
	c->noverrides = s->noverrides;
	return 0;
}

void
collector_set_sink(struct collector *c, collector_sink sink, void *arg)
{
	c->sink = sink;
	c->sink_arg = arg;
}

static bool
collector_allowed(const struct collector *c, const struct addr *src)
{
	if (c->nallow == 0)
		return true;
	for (size_t i = 0; i < c->nallow; i++)
		if (addr_prefix_contains(&c->allow[i], src))
			return true;
	return false;
}

static uint32_t
collector_override(const struct collector *c, const struct addr *src)
{
	for (size_t i = 0; i < c->noverrides; i++)
		if (memcmp(&c->override_addr[i], src, sizeof(*src)) == 0)
			return c->override_rate[i];
	return 0;
}

/* Saturating: a hostile exporter must not wrap the totals. */
static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static void
collector_emit(const struct flow_record *rec, void *arg)
{
	struct datagram_acc *acc = arg;
	uint32_t rate = acc->override ? acc->override : (rec->sampling > 1 ? rec->sampling : 1);
	struct sampled s = { mul_sat(rec->packets, rate), mul_sat(rec->octets, rate), rate };

	acc->packets += s.packets;
	acc->octets += s.octets;
	if (acc->c->sink != NULL)
		acc->c->sink(rec, &s, acc->c->sink_arg);
}

static void
collector_decode(struct collector *c, uint16_t version, const uint8_t *buf, size_t len,
    const struct addr *src, struct datagram_acc *acc, struct decode_result *res)
{
	switch (version) {
	case 5:
		v5_decode(buf, len, src, collector_emit, acc, res);
		break;
	case 9:
		v9_decode(buf, len, src, c->templates, collector_emit, acc, res);
		break;
	default:
		ipfix_decode(buf, len, src, c->templates, collector_emit, acc, res);
		break;
	}
}

static void
collector_sampling(struct collector *c, struct exporter *e, const struct decode_result *res,
    uint32_t override)
{
	uint32_t announced;

	if (override != 0) {
		e->sampling = override;
		e->sampling_source = SAMPLING_CONFIG;
	} else if (e->version == 5) {
		e->sampling = res->sampling > 1 ? res->sampling : 1;
		e->sampling_source = res->sampling > 1 ? SAMPLING_HEADER : SAMPLING_NONE;
	} else if ((announced = tmpl_cache_sampling(c->templates, &e->addr, e->version,
	    e->domain)) > 1) {
		e->sampling = announced;
		e->sampling_source = SAMPLING_OPTIONS;
	} else {
		e->sampling = 1;
		e->sampling_source = SAMPLING_NONE;
	}
}

/*
 * The domain from the header, before decoding, so that a datagram refused
 * for the exporter cap emits nothing. 0 when the header is short: the decoder
 * then rejects the datagram, and the rejection is counted on domain 0.
 */
static uint32_t
peek_domain(uint16_t version, const uint8_t *buf, size_t len)
{
	switch (version) {
	case 5:
		return len >= V5_HEADER_LEN ? (uint32_t)get_be16(buf + 20) : 0;
	case 9:
		return len >= 20 ? get_be32(buf + 16) : 0;
	default:
		return len >= 16 ? get_be32(buf + 12) : 0;
	}
}

enum decode_error
collector_datagram(struct collector *c, const uint8_t *buf, size_t len,
    const struct addr *src, int64_t now_ns)
{
	struct datagram_acc acc = { .c = c };
	struct decode_result res;
	struct exporter *e;
	uint64_t epoch;
	uint16_t version;

	c->stats.datagrams++;
	c->stats.bytes += len;
	if (!collector_allowed(c, src)) {
		c->stats.denied++;
		return DECODE_OK;
	}
	version = decode_peek_version(buf, len);
	if (version != 5 && version != 9 && version != 10) {
		c->stats.unknown_version++;
		c->stats.decode_errors++;
		return DECODE_ERR_VERSION;
	}
	e = exporter_get(c->exporters, src, (uint8_t)version, peek_domain(version, buf, len),
	    now_ns);
	if (e == NULL) {
		c->stats.exporters_refused++;
		return DECODE_OK;
	}
	memset(&res, 0, sizeof(res));
	acc.override = collector_override(c, src);
	epoch = tmpl_cache_begin(c->templates);
	collector_decode(c, version, buf, len, src, &acc, &res);
	if (res.error != DECODE_OK)
		c->stats.decode_errors++;
	c->stats.records += res.records;
	c->stats.packets += acc.packets;
	c->stats.octets += acc.octets;
	if (exporter_account(e, &res, len, now_ns))
		tmpl_cache_forget_before(c->templates, src, (uint8_t)version, e->domain, epoch);
	e->packets += acc.packets;
	e->octets += acc.octets;
	collector_sampling(c, e, &res, acc.override);
	return res.error;
}

void
collector_add_kernel_drops(struct collector *c, uint64_t n)
{
	c->stats.kernel_drops += n;
}

const struct collector_stats *
collector_stats(const struct collector *c)
{
	return &c->stats;
}

const struct exporter_table *
collector_exporters(const struct collector *c)
{
	return c->exporters;
}

const struct tmpl_cache *
collector_templates(const struct collector *c)
{
	return c->templates;
}
