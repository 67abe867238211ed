/*
 * Information elements (IANA IPFIX registry; the v9 ids 1..127 are the same
 * numbers, RFC 3954 section 8) and the template compiler.
 */
#include <stdlib.h>
#include <string.h>

#include "collectors/ie.h"
#include "engine/wire.h"

/* The largest record that fits one IPFIX message after its headers. */
#define IE_MAX_RECORD	(65535 - 16 - 4)

/* Seconds from the NTP epoch (1900) to the Unix epoch (RFC 7011 6.1.9). */
#define NTP_UNIX_OFFSET	2208988800LL

struct ie_def {
	uint8_t		 op;
	uint8_t		 max;	/* longest allowed encoding (reduced-size below it) */
	uint8_t		 exact;	/* 1: only `max` bytes are meaningful (addresses, NTP times) */
};

#define INT(o, m)	{ (o), (m), 0 }
#define EXACT(o, m)	{ (o), (m), 1 }

static const struct ie_def ie_table[] = {
	[1] = INT(IE_OCTETS, 8),		/* octetDeltaCount */
	[2] = INT(IE_PACKETS, 8),		/* packetDeltaCount */
	[4] = INT(IE_PROTO, 1),			/* protocolIdentifier */
	[5] = INT(IE_TOS, 1),			/* ipClassOfService */
	[6] = INT(IE_TCP_FLAGS, 2),		/* tcpControlBits (2 bytes, RFC 7125) */
	[7] = INT(IE_SRC_PORT, 2),		/* sourceTransportPort */
	[8] = EXACT(IE_SRC_V4, 4),		/* sourceIPv4Address */
	[9] = INT(IE_SRC_MASK, 1),		/* sourceIPv4PrefixLength */
	[10] = INT(IE_IN_IF, 4),		/* ingressInterface */
	[11] = INT(IE_DST_PORT, 2),		/* destinationTransportPort */
	[12] = EXACT(IE_DST_V4, 4),		/* destinationIPv4Address */
	[13] = INT(IE_DST_MASK, 1),		/* destinationIPv4PrefixLength */
	[14] = INT(IE_OUT_IF, 4),		/* egressInterface */
	[15] = EXACT(IE_NH_V4, 4),		/* ipNextHopIPv4Address */
	[16] = INT(IE_SRC_AS, 4),		/* bgpSourceAsNumber */
	[17] = INT(IE_DST_AS, 4),		/* bgpDestinationAsNumber */
	[21] = INT(IE_LAST_UPTIME, 4),		/* flowEndSysUpTime / LAST_SWITCHED */
	[22] = INT(IE_FIRST_UPTIME, 4),		/* flowStartSysUpTime / FIRST_SWITCHED */
	[27] = EXACT(IE_SRC_V6, 16),		/* sourceIPv6Address */
	[28] = EXACT(IE_DST_V6, 16),		/* destinationIPv6Address */
	[29] = INT(IE_SRC_MASK, 1),		/* sourceIPv6PrefixLength */
	[30] = INT(IE_DST_MASK, 1),		/* destinationIPv6PrefixLength */
	[34] = INT(IE_SAMPLING_INTERVAL, 4),	/* samplingInterval */
	[50] = INT(IE_SAMPLER_RANDOM_INTERVAL, 4), /* samplerRandomInterval */
	[62] = EXACT(IE_NH_V6, 16),		/* ipNextHopIPv6Address */
	[85] = INT(IE_OCTETS, 8),		/* octetTotalCount */
	[86] = INT(IE_PACKETS, 8),		/* packetTotalCount */
	[150] = INT(IE_START_SECS, 4),		/* flowStartSeconds */
	[151] = INT(IE_END_SECS, 4),		/* flowEndSeconds */
	[152] = INT(IE_START_MS, 8),		/* flowStartMilliseconds */
	[153] = INT(IE_END_MS, 8),		/* flowEndMilliseconds */
	[154] = EXACT(IE_START_US, 8),		/* flowStartMicroseconds */
	[155] = EXACT(IE_END_US, 8),		/* flowEndMicroseconds */
	[156] = EXACT(IE_START_NS, 8),		/* flowStartNanoseconds */
	[157] = EXACT(IE_END_NS, 8),		/* flowEndNanoseconds */
	[160] = INT(IE_SYS_INIT_MS, 8),		/* systemInitTimeMilliseconds */
	[305] = INT(IE_SAMPLING_PKT_INTERVAL, 4), /* samplingPacketInterval */
	[306] = INT(IE_SAMPLING_PKT_SPACE, 4),	/* samplingPacketSpace */
};

enum ie_op
ie_lookup(uint16_t id, uint32_t pen, uint16_t len)
{
	const struct ie_def *d;

	if (pen != 0 || len == 0 || len == TMPL_VARLEN ||
	    id >= sizeof(ie_table) / sizeof(ie_table[0]))
		return IE_SKIP;
	d = &ie_table[id];
	if (d->op == IE_SKIP || len > d->max || (d->exact && len != d->max))
		return IE_SKIP;
	return (enum ie_op)d->op;
}

static int
is_sampling_op(enum ie_op op)
{
	return op == IE_SAMPLING_INTERVAL || op == IE_SAMPLER_RANDOM_INTERVAL ||
	    op == IE_SAMPLING_PKT_INTERVAL || op == IE_SAMPLING_PKT_SPACE;
}

static int
has_field(const struct tmpl_def *def, uint16_t id)
{
	uint16_t i;

	for (i = def->nscope; i < def->nfields; i++)
		if (def->fields[i].id == id && def->fields[i].pen == 0)
			return 1;
	return 0;
}

static enum ie_op
field_op(const struct tmpl_def *def, uint16_t i, int has_delta_octets, int has_delta_packets)
{
	const struct tmpl_field *f = &def->fields[i];
	enum ie_op op;

	if (i < def->nscope)
		return IE_SKIP;
	op = ie_lookup(f->id, f->pen, f->len);
	/* Delta counts win over totals when a template carries both. */
	if ((f->id == 85 && has_delta_octets) || (f->id == 86 && has_delta_packets))
		return IE_SKIP;
	/* Options records only matter for what they announce about sampling. */
	if (def->options && !is_sampling_op(op))
		return IE_SKIP;
	return op;
}

struct ie_prog *
ie_compile(const struct tmpl_def *def, size_t *bytes)
{
	struct ie_prog *prog;
	struct ie_action *a;
	uint32_t min_len = 0;
	uint16_t i, n = 0;
	int variable = 0, dlo, dlp;
	size_t size;

	if (def->nfields == 0 || def->nfields > TMPL_MAX_FIELDS || def->nscope > def->nfields)
		return NULL;
	for (i = 0; i < def->nfields; i++) {
		if (def->fields[i].len == 0)
			return NULL;
		if (def->fields[i].len == TMPL_VARLEN) {
			variable = 1;
			min_len += 1;
		} else
			min_len += def->fields[i].len;
	}
	if (min_len == 0 || min_len > IE_MAX_RECORD)
		return NULL;

	size = sizeof(*prog) + (size_t)def->nfields * sizeof(prog->act[0]);
	if ((prog = calloc(1, size)) == NULL)
		return NULL;
	prog->id = def->id;
	prog->options = def->options ? 1 : 0;
	prog->variable = (uint8_t)variable;
	prog->min_len = min_len;

	dlo = has_field(def, 1);
	dlp = has_field(def, 2);
	if (!variable) {
		/* Fixed layout: only the fields we store, at absolute offsets. */
		uint32_t off = 0;

		for (i = 0; i < def->nfields; i++) {
			enum ie_op op = field_op(def, i, dlo, dlp);

			if (op != IE_SKIP) {
				a = &prog->act[n++];
				a->off = (uint16_t)off;
				a->len = def->fields[i].len;
				a->op = (uint8_t)op;
			}
			off += def->fields[i].len;
		}
	} else {
		/* Walked field by field; runs of fixed skipped fields merge into one. */
		for (i = 0; i < def->nfields; i++) {
			const struct tmpl_field *f = &def->fields[i];
			enum ie_op op = f->len == TMPL_VARLEN ? IE_SKIP : field_op(def, i, dlo, dlp);

			if (op == IE_SKIP && f->len != TMPL_VARLEN && n > 0 &&
			    prog->act[n - 1].op == IE_SKIP &&
			    prog->act[n - 1].len != TMPL_VARLEN) {
				/* Sum stays below IE_MAX_RECORD < TMPL_VARLEN. */
				prog->act[n - 1].len = (uint16_t)(prog->act[n - 1].len + f->len);
				continue;
			}
			a = &prog->act[n++];
			a->len = f->len;
			a->op = (uint8_t)op;
		}
	}
	prog->nact = n;
	*bytes = size;
	return prog;
}

int
ie_prog_equal(const struct ie_prog *a, size_t alen, const struct ie_prog *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

struct ie_scratch {
	uint64_t	 init_ms;
	uint32_t	 first_up, last_up;
	uint32_t	 interval, random_interval, pkt_interval, pkt_space;
	uint8_t		 have_first, have_last, have_init;
};

static inline uint64_t
read_uint(const uint8_t *p, unsigned len)
{
	switch (len) {
	case 1:
		return p[0];
	case 2:
		return get_be16(p);
	case 4:
		return get_be32(p);
	case 8:
		return get_be64(p);
	default:
		return get_ben(p, len);
	}
}

static int64_t
ntp_to_ms(const uint8_t *p)
{
	uint32_t secs = get_be32(p), frac = get_be32(p + 4);

	if (secs == 0 && frac == 0)
		return 0;
	return ((int64_t)secs - NTP_UNIX_OFFSET) * 1000 +
	    (int64_t)(((uint64_t)frac * 1000) >> 32);
}

static inline void
set_addr(struct addr *a, enum addr_family fam, const uint8_t *p, size_t len)
{
	a->family = fam;
	memcpy(a->bytes, p, len);
}

/* Inlined into the record loop: one jump table there, no call per field. */
static inline __attribute__((always_inline)) void
store(enum ie_op op, const uint8_t *p, unsigned len, struct flow_record *r,
    struct ie_scratch *s)
{
	switch (op) {
	case IE_SKIP:
	case IE_OP__COUNT:
		break;
	case IE_SRC_V4: set_addr(&r->src, ADDR_V4, p, 4); break;
	case IE_DST_V4: set_addr(&r->dst, ADDR_V4, p, 4); break;
	case IE_NH_V4: set_addr(&r->next_hop, ADDR_V4, p, 4); break;
	case IE_SRC_V6: set_addr(&r->src, ADDR_V6, p, 16); break;
	case IE_DST_V6: set_addr(&r->dst, ADDR_V6, p, 16); break;
	case IE_NH_V6: set_addr(&r->next_hop, ADDR_V6, p, 16); break;
	case IE_SRC_PORT: r->src_port = (uint16_t)read_uint(p, len); break;
	case IE_DST_PORT: r->dst_port = (uint16_t)read_uint(p, len); break;
	case IE_PROTO: r->proto = p[0]; break;
	case IE_TOS: r->tos = p[0]; break;
	case IE_TCP_FLAGS: r->tcp_flags = (uint8_t)read_uint(p, len); break;
	case IE_SRC_MASK: r->src_mask = p[0]; break;
	case IE_DST_MASK: r->dst_mask = p[0]; break;
	case IE_SRC_AS: r->src_as = (uint32_t)read_uint(p, len); break;
	case IE_DST_AS: r->dst_as = (uint32_t)read_uint(p, len); break;
	case IE_IN_IF: r->in_if = (uint32_t)read_uint(p, len); break;
	case IE_OUT_IF: r->out_if = (uint32_t)read_uint(p, len); break;
	case IE_OCTETS: r->octets = read_uint(p, len); break;
	case IE_PACKETS: r->packets = read_uint(p, len); break;
	case IE_FIRST_UPTIME:
		s->first_up = (uint32_t)read_uint(p, len);
		s->have_first = 1;
		break;
	case IE_LAST_UPTIME:
		s->last_up = (uint32_t)read_uint(p, len);
		s->have_last = 1;
		break;
	case IE_SYS_INIT_MS:
		s->init_ms = read_uint(p, len);
		s->have_init = 1;
		break;
	case IE_START_SECS: r->start_ms = (int64_t)read_uint(p, len) * 1000; break;
	case IE_END_SECS: r->end_ms = (int64_t)read_uint(p, len) * 1000; break;
	case IE_START_MS: r->start_ms = (int64_t)read_uint(p, len); break;
	case IE_END_MS: r->end_ms = (int64_t)read_uint(p, len); break;
	case IE_START_US:
	case IE_START_NS: r->start_ms = ntp_to_ms(p); break;
	case IE_END_US:
	case IE_END_NS: r->end_ms = ntp_to_ms(p); break;
	case IE_SAMPLING_INTERVAL: s->interval = (uint32_t)read_uint(p, len); break;
	case IE_SAMPLER_RANDOM_INTERVAL: s->random_interval = (uint32_t)read_uint(p, len); break;
	case IE_SAMPLING_PKT_INTERVAL: s->pkt_interval = (uint32_t)read_uint(p, len); break;
	case IE_SAMPLING_PKT_SPACE: s->pkt_space = (uint32_t)read_uint(p, len); break;
	}
}

static uint32_t
sampling_of(const struct ie_scratch *s)
{
	uint64_t rate;

	if (s->interval > 0)
		return s->interval;
	if (s->pkt_interval > 0) {
		/* RFC 5477: pkt_interval packets taken, then pkt_space skipped. */
		rate = ((uint64_t)s->pkt_interval + s->pkt_space) / s->pkt_interval;
		return rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
	}
	return s->random_interval;
}

long
ie_run(const struct ie_prog *prog, const uint8_t *p, size_t left,
    const struct ie_ctx *ctx, struct flow_record *rec, struct ie_extra *extra)
{
	struct ie_scratch s;
	const struct ie_action *a = prog->act, *end = prog->act + prog->nact;
	size_t used;

	memset(&s, 0, sizeof(s));
	if (left < prog->min_len)
		return -1;
	if (!prog->variable) {
		for (; a < end; a++)
			store((enum ie_op)a->op, p + a->off, a->len, rec, &s);
		used = prog->min_len;
	} else {
		size_t n;

		used = 0;
		for (; a < end; a++) {
			if (a->len != TMPL_VARLEN) {
				if (left - used < a->len)
					return -1;
				store((enum ie_op)a->op, p + used, a->len, rec, &s);
				used += a->len;
				continue;
			}
			/* RFC 7011 7: one length byte, or 255 then two. */
			if (left - used < 1)
				return -1;
			n = p[used++];
			if (n == 255) {
				if (left - used < 2)
					return -1;
				n = get_be16(p + used);
				used += 2;
			}
			if (left - used < n)
				return -1;
			used += n;
		}
	}

	if (rec->start_ms == 0 && s.have_first) {
		if (ctx->has_uptime)
			rec->start_ms = (int64_t)ctx->export_secs * 1000 -
			    (int32_t)(ctx->sys_uptime_ms - s.first_up);
		else if (s.have_init)
			rec->start_ms = (int64_t)(s.init_ms + s.first_up);
	}
	if (rec->end_ms == 0 && s.have_last) {
		if (ctx->has_uptime)
			rec->end_ms = (int64_t)ctx->export_secs * 1000 -
			    (int32_t)(ctx->sys_uptime_ms - s.last_up);
		else if (s.have_init)
			rec->end_ms = (int64_t)(s.init_ms + s.last_up);
	}
	extra->sampling = sampling_of(&s);
	if (extra->sampling > 0)
		rec->sampling = extra->sampling;
	return (long)used;
}

enum decode_error
ie_data_set(const struct ie_set *set, const struct ie_prog *prog, const uint8_t *p, size_t len)
{
	struct flow_record base, rec;
	struct ie_extra extra;
	long n;

	memset(&base, 0, sizeof(base));
	base.exporter = *set->exporter;
	base.domain = set->domain;
	base.sampling = tmpl_cache_sampling(set->cache, set->exporter, set->version, set->domain);
	while (len >= prog->min_len) {
		rec = base;
		if ((n = ie_run(prog, p, len, &set->ctx, &rec, &extra)) < 0)
			return DECODE_ERR_RECORD;
		p += n;
		len -= (size_t)n;
		if (prog->options) {
			set->res->options_records++;
			if (extra.sampling > 0)
				(void)tmpl_cache_set_sampling(set->cache, set->exporter,
				    set->version, set->domain, extra.sampling);
			continue;
		}
		set->res->records++;
		set->emit(&rec, set->arg);
	}
	return DECODE_OK;
}
