/*
 * NetFlow v9 (RFC 3954): a 20-byte header, then flowsets: 0 templates,
 * 1 options templates, 256 and up data. Each flowset is checked against the
 * bytes left; a bad flowset length stops the datagram, a bad template stops
 * its flowset only.
 */
#include <string.h>

#include "collectors/ie.h"
#include "collectors/netflow_v9.h"
#include "engine/wire.h"

#define V9_HEADER_LEN	20
#define V9_VERSION	9
#define V9_SET_TEMPLATE	0
#define V9_SET_OPTIONS	1
#define V9_MIN_DATA_ID	256

/* Reads `n` (type, length) pairs; v9 has no variable-length fields. */
static int
read_fields(const uint8_t *p, uint16_t n, struct tmpl_field *out)
{
	uint16_t i;

	for (i = 0; i < n; i++, p += 4) {
		out[i].id = get_be16(p);
		out[i].len = get_be16(p + 2);
		out[i].pen = 0;
		if (out[i].len == 0 || out[i].len == TMPL_VARLEN)
			return -1;
	}
	return 0;
}

static void
add_template(const struct ie_set *set, const struct tmpl_def *def)
{
	switch (tmpl_cache_add(set->cache, set->exporter, V9_VERSION, set->domain, def)) {
	case TMPL_ADDED:
		set->res->templates_added++;
		break;
	case TMPL_UNCHANGED:
		break;
	case TMPL_REFUSED:
		set->res->templates_refused++;
		break;
	case TMPL_INVALID:
		decode_note(set->res, DECODE_ERR_TEMPLATE);
		break;
	}
}

/* Template flowset body (RFC 3954 5.2): id, field count, (type, length) pairs. */
static void
template_set(const struct ie_set *set, const uint8_t *p, size_t len, struct tmpl_def *def)
{
	uint16_t id, n;

	while (len >= 4) {
		id = get_be16(p);
		n = get_be16(p + 2);
		if (id == 0 && wire_all_zero(p, len))
			return;
		if (id < V9_MIN_DATA_ID || n == 0 || n > TMPL_MAX_FIELDS ||
		    (size_t)n * 4 > len - 4)
			goto fail;
		memset(def, 0, offsetof(struct tmpl_def, fields));
		def->id = id;
		def->nfields = n;
		if (read_fields(p + 4, n, def->fields) == -1)
			goto fail;
		add_template(set, def);
		p += 4 + (size_t)n * 4;
		len -= 4 + (size_t)n * 4;
	}
	return;
fail:
	decode_note(set->res, DECODE_ERR_TEMPLATE);
}

/* Options template flowset body (RFC 3954 6.1): id, scope bytes, option bytes, fields. */
static void
options_set(const struct ie_set *set, const uint8_t *p, size_t len, struct tmpl_def *def)
{
	uint16_t id, scope_len, opt_len;
	size_t n;

	while (len >= 6) {
		id = get_be16(p);
		scope_len = get_be16(p + 2);
		opt_len = get_be16(p + 4);
		if (id == 0 && wire_all_zero(p, len))
			return;
		if (id < V9_MIN_DATA_ID || scope_len % 4 != 0 || opt_len % 4 != 0)
			goto fail;
		n = ((size_t)scope_len + opt_len) / 4;
		if (n == 0 || n > TMPL_MAX_FIELDS || (size_t)scope_len + opt_len > len - 6)
			goto fail;
		memset(def, 0, offsetof(struct tmpl_def, fields));
		def->id = id;
		def->nfields = (uint16_t)n;
		def->nscope = (uint16_t)(scope_len / 4);
		def->options = 1;
		if (read_fields(p + 6, def->nfields, def->fields) == -1)
			goto fail;
		add_template(set, def);
		p += 6 + n * 4;
		len -= 6 + n * 4;
	}
	return;
fail:
	decode_note(set->res, DECODE_ERR_TEMPLATE);
}

void
v9_decode(const uint8_t *buf, size_t len, const struct addr *exporter,
    struct tmpl_cache *cache, decode_emit emit, void *arg, struct decode_result *res)
{
	struct tmpl_def def;
	struct ie_set set;
	struct tmpl_source *src;
	const struct ie_prog *prog;
	const uint8_t *p;
	size_t left;
	uint16_t id, slen;
	enum decode_error e;

	memset(res, 0, sizeof(*res));
	if (len < V9_HEADER_LEN) {
		res->error = DECODE_ERR_SHORT;
		return;
	}
	if (get_be16(buf) != V9_VERSION) {
		res->error = DECODE_ERR_VERSION;
		return;
	}
	res->version = V9_VERSION;
	res->count = get_be16(buf + 2);
	res->sys_uptime_ms = get_be32(buf + 4);
	res->export_secs = get_be32(buf + 8);
	res->sequence = get_be32(buf + 12);
	res->domain = get_be32(buf + 16);

	memset(&set, 0, sizeof(set));
	set.cache = cache;
	set.exporter = exporter;
	set.version = V9_VERSION;
	set.domain = res->domain;
	set.ctx.sys_uptime_ms = res->sys_uptime_ms;
	set.ctx.export_secs = res->export_secs;
	set.ctx.has_uptime = 1;
	set.emit = emit;
	set.arg = arg;
	set.res = res;

	src = tmpl_cache_source(cache, exporter, V9_VERSION, res->domain);
	p = buf + V9_HEADER_LEN;
	left = len - V9_HEADER_LEN;
	/* Fewer than 4 trailing bytes cannot be a flowset: datagram padding. */
	while (left >= 4) {
		id = get_be16(p);
		slen = get_be16(p + 2);
		if (slen < 4 || slen > left) {
			decode_note(res, DECODE_ERR_SET);
			return;
		}
		if (id == V9_SET_TEMPLATE) {
			template_set(&set, p + 4, slen - 4u, &def);
			src = NULL;
		} else if (id == V9_SET_OPTIONS) {
			options_set(&set, p + 4, slen - 4u, &def);
			src = NULL;
		} else if (id >= V9_MIN_DATA_ID) {
			if (src == NULL)
				src = tmpl_cache_source(cache, exporter, V9_VERSION, res->domain);
			if (src == NULL || (prog = tmpl_source_find(src, id)) == NULL)
				res->sets_without_template++;
			else if ((e = ie_data_set(&set, prog, p + 4, slen - 4u)) != DECODE_OK)
				decode_note(res, e);
		}
		/* Flowset ids 2..255 are reserved (RFC 3954 5.1): skipped. */
		p += slen;
		left -= slen;
	}
}
