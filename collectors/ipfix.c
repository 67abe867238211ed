/*
 * IPFIX (RFC 7011): a 16-byte message header, then sets: 2 templates,
 * 3 options templates, 256 and up data. Only the message length the header
 * announces is decoded. A bad set length stops the message, a bad template
 * stops its set only.
 */
#include <string.h>

#include "collectors/ie.h"
#include "collectors/ipfix.h"
#include "engine/wire.h"

#define IPFIX_HEADER_LEN	16
#define IPFIX_VERSION		10
#define IPFIX_SET_TEMPLATE	2
#define IPFIX_SET_OPTIONS	3
#define IPFIX_MIN_DATA_ID	256
#define IPFIX_ENTERPRISE_BIT	0x8000

/*
 * Field specifiers (RFC 7011 3.2): id, length and, with the enterprise bit,
 * a 4-byte enterprise number. Returns the bytes read, or -1.
 */
static long
read_fields(const uint8_t *p, size_t len, uint16_t n, struct tmpl_field *out)
{
	size_t off = 0;
	uint16_t i, id;

	for (i = 0; i < n; i++) {
		if (len - off < 4)
			return -1;
		id = get_be16(p + off);
		out[i].len = get_be16(p + off + 2);
		out[i].id = id & (uint16_t)~IPFIX_ENTERPRISE_BIT;
		out[i].pen = 0;
		off += 4;
		if (id & IPFIX_ENTERPRISE_BIT) {
			if (len - off < 4)
				return -1;
			out[i].pen = get_be32(p + off);
			off += 4;
		}
		if (out[i].len == 0)
			return -1;
	}
	return (long)off;
}

/*
 * Template and options template set bodies (RFC 7011 3.4). A field count of
 * 0 withdraws the template (8.1); the set id as template id withdraws every
 * template of that kind. Withdrawing an unknown template is ignored.
 */
static void
template_set(const struct ie_set *set, uint16_t set_id, const uint8_t *p, size_t len,
    struct tmpl_def *def)
{
	struct decode_result *res = set->res;
	int options = set_id == IPFIX_SET_OPTIONS;
	size_t hlen = options ? 6 : 4;
	uint16_t id, n, nscope = 0;
	long used;

	while (len >= 4) {
		id = get_be16(p);
		n = get_be16(p + 2);
		if (id == 0 && wire_all_zero(p, len))
			return;
		if (n == 0) {
			if (id == set_id)
				res->templates_withdrawn += tmpl_cache_withdraw_all(set->cache,
				    set->exporter, IPFIX_VERSION, set->domain, options);
			else if (id < IPFIX_MIN_DATA_ID)
				goto fail;
			else
				res->templates_withdrawn += (uint32_t)tmpl_cache_withdraw(
				    set->cache, set->exporter, IPFIX_VERSION, set->domain, id);
			p += 4;
			len -= 4;
			continue;
		}
		if (id < IPFIX_MIN_DATA_ID || n > TMPL_MAX_FIELDS || len < hlen)
			goto fail;
		if (options) {
			/* RFC 7011 3.4.2.2: the scope field count is not zero. */
			nscope = get_be16(p + 4);
			if (nscope == 0 || nscope > n)
				goto fail;
		}
		if ((used = read_fields(p + hlen, len - hlen, n, def->fields)) < 0)
			goto fail;
		def->id = id;
		def->nfields = n;
		def->nscope = nscope;
		def->options = (uint8_t)options;
		switch (tmpl_cache_add(set->cache, set->exporter, IPFIX_VERSION, set->domain, def)) {
		case TMPL_ADDED:
			res->templates_added++;
			break;
		case TMPL_UNCHANGED:
			break;
		case TMPL_REFUSED:
			res->templates_refused++;
			break;
		case TMPL_INVALID:
			decode_note(res, DECODE_ERR_TEMPLATE);
			break;
		}
		p += hlen + (size_t)used;
		len -= hlen + (size_t)used;
	}
	return;
fail:
	decode_note(res, DECODE_ERR_TEMPLATE);
}

void
ipfix_decode(const uint8_t *buf, size_t len, const struct addr *exporter,
    struct tmpl_cache *cache, decode_emit emit, void *arg, struct decode_result *res)
{
	struct tmpl_def def;
	struct ie_set set;
	struct tmpl_source *src;
	const struct ie_prog *prog;
	const uint8_t *p;
	size_t left, mlen;
	uint16_t id, slen;
	enum decode_error e;

	memset(res, 0, sizeof(*res));
	if (len < IPFIX_HEADER_LEN) {
		res->error = DECODE_ERR_SHORT;
		return;
	}
	if (get_be16(buf) != IPFIX_VERSION) {
		res->error = DECODE_ERR_VERSION;
		return;
	}
	res->version = IPFIX_VERSION;
	mlen = get_be16(buf + 2);
	res->export_secs = get_be32(buf + 4);
	res->sequence = get_be32(buf + 8);
	res->domain = get_be32(buf + 12);
	/* RFC 7011 3.1: the message length covers header and sets. */
	if (mlen < IPFIX_HEADER_LEN || mlen > len) {
		res->error = DECODE_ERR_LENGTH;
		return;
	}

	memset(&set, 0, sizeof(set));
	set.cache = cache;
	set.exporter = exporter;
	set.version = IPFIX_VERSION;
	set.domain = res->domain;
	set.ctx.export_secs = res->export_secs;
	set.emit = emit;
	set.arg = arg;
	set.res = res;

	src = tmpl_cache_source(cache, exporter, IPFIX_VERSION, res->domain);
	p = buf + IPFIX_HEADER_LEN;
	left = mlen - IPFIX_HEADER_LEN;
	while (left > 0) {
		if (left < 4) {
			decode_note(res, DECODE_ERR_SET);
			return;
		}
		id = get_be16(p);
		slen = get_be16(p + 2);
		if (slen < 4 || slen > left) {
			decode_note(res, DECODE_ERR_SET);
			return;
		}
		if (id == IPFIX_SET_TEMPLATE || id == IPFIX_SET_OPTIONS) {
			template_set(&set, id, p + 4, slen - 4u, &def);
			src = NULL;
		} else if (id >= IPFIX_MIN_DATA_ID) {
			if (src == NULL)
				src = tmpl_cache_source(cache, exporter, IPFIX_VERSION, res->domain);
			if (src == NULL || (prog = tmpl_source_find(src, id)) == NULL)
				res->sets_without_template++;
			else if ((e = ie_data_set(&set, prog, p + 4, slen - 4u)) != DECODE_OK)
				decode_note(res, e);
		}
		/* Set ids 0, 1 and 4..255 are reserved (RFC 7011 3.3.2): skipped. */
		p += slen;
		left -= slen;
	}
}
