/*
 * flowpath-gen's wire encoders: NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX
 * (RFC 7011). See gen_encode.h for the sequence and template rules.
 */
#include "tools/gen_encode.h"

#include <string.h>

/* ---- big-endian writers ---- */

static void
put8(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
}

static void
put16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

/* ---- templates ---- */

/* A field of our templates: v9 field type / IPFIX information element, length. */
struct field {
	uint16_t	 id;
	uint16_t	 len;
};

#define NFIELDS 18

static const struct field v9_v4[NFIELDS] = {
	{ 8, 4 }, { 12, 4 }, { 7, 2 }, { 11, 2 },
	{ 4, 1 }, { 5, 1 }, { 6, 1 }, { 15, 4 },
	{ 16, 4 }, { 17, 4 }, { 9, 1 }, { 13, 1 },
	{ 10, 4 }, { 14, 4 }, { 1, 4 }, { 2, 4 },
	{ 21, 4 }, { 22, 4 },
};

static const struct field v9_v6[NFIELDS] = {
	{ 27, 16 }, { 28, 16 }, { 7, 2 }, { 11, 2 },
	{ 4, 1 }, { 5, 1 }, { 6, 1 }, { 62, 16 },
	{ 16, 4 }, { 17, 4 }, { 29, 1 }, { 30, 1 },
	{ 10, 4 }, { 14, 4 }, { 1, 4 }, { 2, 4 },
	{ 21, 4 }, { 22, 4 },
};

/* IPFIX: octetDeltaCount/packetDeltaCount in full 8 bytes, flowStart/EndMilliseconds. */
static const struct field ipfix_v4[NFIELDS] = {
	{ 8, 4 }, { 12, 4 }, { 7, 2 }, { 11, 2 },
	{ 4, 1 }, { 5, 1 }, { 6, 1 }, { 15, 4 },
	{ 16, 4 }, { 17, 4 }, { 9, 1 }, { 13, 1 },
	{ 10, 4 }, { 14, 4 }, { 1, 8 }, { 2, 8 },
	{ 152, 8 }, { 153, 8 },
};

static const struct field ipfix_v6[NFIELDS] = {
	{ 27, 16 }, { 28, 16 }, { 7, 2 }, { 11, 2 },
	{ 4, 1 }, { 5, 1 }, { 6, 1 }, { 62, 16 },
	{ 16, 4 }, { 17, 4 }, { 29, 1 }, { 30, 1 },
	{ 10, 4 }, { 14, 4 }, { 1, 8 }, { 2, 8 },
	{ 152, 8 }, { 153, 8 },
};

static const struct field *
template_for(uint8_t version, bool v6)
{
	if (version == 9)
		return v6 ? v9_v6 : v9_v4;
	return v6 ? ipfix_v6 : ipfix_v4;
}

/* Template set/flowset with both data templates: 4 + 2 * (4 + 4 * NFIELDS). */
#define TEMPLATE_SET_LEN	(4 + 2 * (4 + 4 * NFIELDS))
/* Options template (one scope, two fields) padded from 22 to 24 bytes. */
#define OPTIONS_TEMPLATE_SET_LEN 24
/* Options data: scope 4 + interval 4 + algorithm 1 = 9 bytes, set padded from 13 to 16. */
#define OPTIONS_DATA_SET_LEN	16

static size_t
write_template_set(uint8_t *p, uint8_t version)
{
	size_t off = 4;

	put16(p, version == 9 ? 0 : 2);
	put16(p + 2, TEMPLATE_SET_LEN);
	for (int t = 0; t < 2; t++) {
		const struct field *f = template_for(version, t == 1);

		put16(p + off, t == 0 ? GEN_TID_V4 : GEN_TID_V6);
		put16(p + off + 2, NFIELDS);
		off += 4;
		for (int i = 0; i < NFIELDS; i++, off += 4) {
			put16(p + off, f[i].id);
			put16(p + off + 2, f[i].len);
		}
	}
	return off;
}

static size_t
write_options(uint8_t *p, const struct gen_enc *e)
{
	memset(p, 0, OPTIONS_TEMPLATE_SET_LEN + OPTIONS_DATA_SET_LEN);
	if (e->version == 9) {
		/* RFC 3954 6.1: id 1, length, template id, scope length, option length */
		put16(p, 1);
		put16(p + 2, OPTIONS_TEMPLATE_SET_LEN);
		put16(p + 4, GEN_TID_OPTIONS);
		put16(p + 6, 4);		/* one scope field: 4 bytes of (type, length) */
		put16(p + 8, 8);		/* two option fields */
		put16(p + 10, GEN_V9_SCOPE_SYSTEM);
		put16(p + 12, 4);
	} else {
		/* RFC 7011 3.4.2.2: id 3, length, template id, field count, scope field count */
		put16(p, 3);
		put16(p + 2, OPTIONS_TEMPLATE_SET_LEN);
		put16(p + 4, GEN_TID_OPTIONS);
		put16(p + 6, 3);
		put16(p + 8, 1);
		put16(p + 10, GEN_IE_OBS_DOMAIN_ID);
		put16(p + 12, 4);
	}
	put16(p + 14, GEN_IE_SAMPLING_INTERVAL);
	put16(p + 16, 4);
	put16(p + 18, GEN_IE_SAMPLING_ALGORITHM);
	put16(p + 20, 1);
	/* bytes 22..23: padding */

	p += OPTIONS_TEMPLATE_SET_LEN;
	put16(p, GEN_TID_OPTIONS);
	put16(p + 2, OPTIONS_DATA_SET_LEN);
	put32(p + 4, e->domain);	/* the scope: system / observation domain id */
	put32(p + 8, e->sampling);
	put8(p + 12, GEN_SAMPLING_RANDOM);
	/* bytes 13..15: padding */
	return OPTIONS_TEMPLATE_SET_LEN + OPTIONS_DATA_SET_LEN;
}

/* ---- sources and datagrams ---- */

const char *
gen_enc_init(struct gen_enc *e, uint8_t version, uint32_t domain, uint32_t sampling,
    uint32_t template_every)
{
	memset(e, 0, sizeof(*e));
	if (version != 5 && version != 9 && version != 10)
		return "version must be 5, 9 or 10 (IPFIX)";
	if (version == 5 && domain > 0xffff)
		return "NetFlow v5 domain (engine_type << 8 | engine_id) must be 0..65535";
	if (version == 5 && sampling > 0x3fff)
		return "NetFlow v5 sampling interval must be 0..16383 (14 bits)";
	e->version = version;
	e->domain = domain;
	e->sampling = sampling;
	e->template_every = template_every;
	return NULL;
}

static size_t
header_len(uint8_t version)
{
	return version == 5 ? GEN_V5_HEADER_LEN :
	    version == 9 ? GEN_V9_HEADER_LEN : GEN_IPFIX_HEADER_LEN;
}

static bool
templates_due(const struct gen_enc *e)
{
	if (e->template_every == 0)
		return e->datagrams == 0;
	return e->datagrams % e->template_every == 0;
}

bool
gen_msg_begin(struct gen_msg *m, struct gen_enc *e, uint8_t *buf, size_t cap,
    const struct gen_clock *now)
{
	size_t need;

	memset(m, 0, sizeof(*m));
	m->enc = e;
	m->buf = buf;
	m->cap = cap > GEN_MAX_DATAGRAM ? GEN_MAX_DATAGRAM : cap;
	m->now = *now;
	need = header_len(e->version);
	m->templates = e->version != 5 && templates_due(e);
	if (m->templates) {
		need += TEMPLATE_SET_LEN;
		if (e->sampling > 1)
			need += OPTIONS_TEMPLATE_SET_LEN + OPTIONS_DATA_SET_LEN;
	}
	if (need > m->cap)
		return false;
	memset(buf, 0, header_len(e->version));
	m->len = header_len(e->version);
	if (m->templates) {
		m->len += write_template_set(buf + m->len, e->version);
		m->other_records += 2;
		if (e->sampling > 1) {
			m->len += write_options(buf + m->len, e);
			m->other_records += 2;	/* options template + options data */
		}
	}
	return true;
}

static size_t
pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static void
set_close(struct gen_msg *m)
{
	size_t set_len, pad;

	if (m->set_off == 0)
		return;
	set_len = m->len - m->set_off;
	pad = pad4(set_len);
	memset(m->buf + m->len, 0, pad);
	m->len += pad;
	put16(m->buf + m->set_off + 2, set_len + pad);
	m->set_off = 0;
	m->set_tid = 0;
}

/* v5/v9 time fields: milliseconds of sysUptime when the flow started/ended. */
static uint32_t
uptime_at(const struct gen_msg *m, int64_t ms)
{
	int64_t export_ms = (int64_t)m->now.unix_secs * 1000;

	if (m->enc->version == 5)
		export_ms += m->now.unix_nsecs / 1000000;
	return (uint32_t)((int64_t)m->now.uptime_ms - (export_ms - ms));
}

static enum gen_add
add_v5(struct gen_msg *m, const struct flow_record *r)
{
	uint8_t *p;

	if (r->src.family != ADDR_V4 || r->dst.family != ADDR_V4 ||
	    (r->next_hop.family != ADDR_V4 && r->next_hop.family != ADDR_NONE) ||
	    r->in_if > 0xffff || r->out_if > 0xffff || r->src_as > 0xffff ||
	    r->dst_as > 0xffff || r->packets > UINT32_MAX || r->octets > UINT32_MAX)
		return GEN_ADD_UNSUPPORTED;
	if (m->data_records >= GEN_V5_MAX_RECORDS || m->len + GEN_V5_RECORD_LEN > m->cap)
		return GEN_ADD_FULL;
	p = m->buf + m->len;
	memset(p, 0, GEN_V5_RECORD_LEN);
	memcpy(p, r->src.bytes, 4);
	memcpy(p + 4, r->dst.bytes, 4);
	if (r->next_hop.family == ADDR_V4)
		memcpy(p + 8, r->next_hop.bytes, 4);
	put16(p + 12, r->in_if);
	put16(p + 14, r->out_if);
	put32(p + 16, r->packets);
	put32(p + 20, r->octets);
	put32(p + 24, uptime_at(m, r->start_ms));
	put32(p + 28, uptime_at(m, r->end_ms));
	put16(p + 32, r->src_port);
	put16(p + 34, r->dst_port);
	/* 36: pad1 */
	put8(p + 37, r->tcp_flags);
	put8(p + 38, r->proto);
	put8(p + 39, r->tos);
	put16(p + 40, r->src_as);
	put16(p + 42, r->dst_as);
	put8(p + 44, r->src_mask);
	put8(p + 45, r->dst_mask);
	/* 46..47: pad2 */
	m->len += GEN_V5_RECORD_LEN;
	m->data_records++;
	return GEN_ADD_OK;
}

/*
 * One data record in the layout of the templates above (fixed, so no
 * per-field dispatch on the hot path; the round-trip tests hold the two
 * together). Returns the bytes written.
 */
static size_t
write_record(const struct gen_msg *m, uint8_t *p, const struct flow_record *r, bool v6)
{
	size_t alen = v6 ? 16 : 4;
	uint8_t *q = p;

	memcpy(q, r->src.bytes, alen);
	memcpy(q + alen, r->dst.bytes, alen);
	q += 2 * alen;
	put16(q, r->src_port);
	put16(q + 2, r->dst_port);
	put8(q + 4, r->proto);
	put8(q + 5, r->tos);
	put8(q + 6, r->tcp_flags);
	q += 7;
	if (r->next_hop.family == r->src.family)
		memcpy(q, r->next_hop.bytes, alen);
	else
		memset(q, 0, alen);
	q += alen;
	put32(q, r->src_as);
	put32(q + 4, r->dst_as);
	put8(q + 8, r->src_mask);
	put8(q + 9, r->dst_mask);
	put32(q + 10, r->in_if);
	put32(q + 14, r->out_if);
	q += 18;
	if (m->enc->version == 9) {
		put32(q, r->octets);
		put32(q + 4, r->packets);
		put32(q + 8, uptime_at(m, r->end_ms));		/* 21 LAST_SWITCHED */
		put32(q + 12, uptime_at(m, r->start_ms));	/* 22 FIRST_SWITCHED */
		q += 16;
	} else {
		put64(q, r->octets);
		put64(q + 8, r->packets);
		put64(q + 16, (uint64_t)r->start_ms);		/* 152 flowStartMilliseconds */
		put64(q + 24, (uint64_t)r->end_ms);		/* 153 flowEndMilliseconds */
		q += 32;
	}
	return (size_t)(q - p);
}

static enum gen_add
add_template_record(struct gen_msg *m, const struct flow_record *r)
{
	bool v6 = r->src.family == ADDR_V6;
	uint16_t tid = v6 ? GEN_TID_V6 : GEN_TID_V4;
	size_t rlen = m->enc->version == 9 ?
	    (v6 ? GEN_V9_V6_RECORD_LEN : GEN_V9_V4_RECORD_LEN) :
	    (v6 ? GEN_IPFIX_V6_RECORD_LEN : GEN_IPFIX_V4_RECORD_LEN);
	size_t end, set_len;
	bool same_set = m->set_off != 0 && m->set_tid == tid;
	if ((r->src.family != ADDR_V4 && r->src.family != ADDR_V6) ||
	    r->dst.family != r->src.family ||
	    (m->enc->version == 9 && (r->packets > UINT32_MAX || r->octets > UINT32_MAX)))
		return GEN_ADD_UNSUPPORTED;
	/* Would it fit, counting the padding of the set it ends up in? */
	if (same_set) {
		end = m->len + rlen;
		set_len = end - m->set_off;
	} else {
		end = m->len + (m->set_off != 0 ? pad4(m->len - m->set_off) : 0) + 4 + rlen;
		set_len = 4 + rlen;
	}
	if (end + pad4(set_len) > m->cap)
		return GEN_ADD_FULL;
	if (!same_set) {
		set_close(m);
		m->set_off = m->len;
		m->set_tid = tid;
		put16(m->buf + m->len, tid);
		put16(m->buf + m->len + 2, 0);	/* set by set_close */
		m->len += 4;
	}
	m->len += write_record(m, m->buf + m->len, r, v6);
	m->data_records++;
	return GEN_ADD_OK;
}

enum gen_add
gen_msg_add(struct gen_msg *m, const struct flow_record *r)
{
	if (m->enc->version == 5)
		return add_v5(m, r);
	return add_template_record(m, r);
}

size_t
gen_msg_finish(struct gen_msg *m)
{
	struct gen_enc *e = m->enc;
	uint8_t *b = m->buf;

	set_close(m);
	switch (e->version) {
	case 5:
		put16(b, 5);
		put16(b + 2, m->data_records);
		put32(b + 4, m->now.uptime_ms);
		put32(b + 8, m->now.unix_secs);
		put32(b + 12, m->now.unix_nsecs);
		put32(b + 16, e->sequence);
		put8(b + 20, e->domain >> 8);		/* engine_type */
		put8(b + 21, e->domain & 0xff);		/* engine_id */
		/* 2 bits mode (01: packet interval), 14 bits interval */
		put16(b + 22, e->sampling > 1 ? (UINT32_C(1) << 14) | e->sampling : 0);
		e->sequence += m->data_records;
		break;
	case 9:
		put16(b, 9);
		put16(b + 2, m->data_records + m->other_records);
		put32(b + 4, m->now.uptime_ms);
		put32(b + 8, m->now.unix_secs);
		put32(b + 12, e->sequence);
		put32(b + 16, e->domain);
		e->sequence += 1;
		break;
	default:
		put16(b, 10);
		put16(b + 2, m->len);
		put32(b + 4, m->now.unix_secs);
		put32(b + 8, e->sequence);
		put32(b + 12, e->domain);
		/* data records, the options data record included */
		e->sequence += m->data_records + (m->templates && e->sampling > 1 ? 1 : 0);
		break;
	}
	e->datagrams++;
	if (m->templates)
		e->template_datagrams++;
	return m->len;
}

size_t
gen_encode(struct gen_enc *e, const struct flow_record *flows, size_t n,
    const struct gen_clock *now, uint8_t *buf, size_t cap, size_t *used)
{
	struct gen_msg m;
	size_t i;

	*used = 0;
	if (!gen_msg_begin(&m, e, buf, cap, now))
		return 0;
	for (i = 0; i < n; i++)
		if (gen_msg_add(&m, &flows[i]) != GEN_ADD_OK)
			break;
	*used = i;
	return gen_msg_finish(&m);
}
