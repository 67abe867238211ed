/*
 * libFuzzer harness for engine/filter: arbitrary text is compiled; a
 * refusal must carry a message and a column inside the text (or just past
 * it); a filter that compiles is evaluated on a few records, and wrapping
 * it as "not (...)" must give the opposite answer on each of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
names(const char *name, void *arg)
{
	static const char *const known[] = { "lan", "dmz", "wan" };
	size_t i;

	for (i = 0; i < 3; i++)
		if (strcmp(name, known[i]) == 0)
			return (int)i;
	return -1;
}

static uint16_t
lookup(const struct addr *a, void *arg)
{
	return a->family == ADDR_NONE ? 0xffff : (uint16_t)(a->bytes[0] % 4);
}

static void
records(struct flow_record r[3])
{
	memset(r, 0, 3 * sizeof(*r));
	r[0].src.family = r[0].dst.family = r[0].exporter.family = ADDR_V4;
	memcpy(r[0].src.bytes, "\xc0\x00\x02\x0a", 4);
	memcpy(r[0].dst.bytes, "\x0a\x01\x02\x03", 4);
	memcpy(r[0].exporter.bytes, "\x0a\x00\x00\x01", 4);
	r[0].src_port = 51000;
	r[0].dst_port = 443;
	r[0].proto = 6;
	r[0].tcp_flags = 0x12;
	r[0].src_as = 64500;
	r[0].in_if = 3;
	r[1] = r[0];
	r[1].src.family = r[1].dst.family = ADDR_V6;
	memcpy(r[1].src.bytes, "\x20\x01\x0d\xb8", 4);
	r[1].proto = 17;
	r[1].dst_port = 53;
	r[1].tos = 46;
	/* r[2]: all zero, no addresses */
}

static void
check_error(const struct filter_error *err, size_t len)
{
	if (err->msg[0] == '\0' || err->column < 1 || err->column > len + 1 ||
	    memchr(err->msg, '\0', sizeof(err->msg)) == NULL)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_record r[3];
	struct filter_error err;
	struct filter *f, *g;
	char *s, *w;
	size_t len, i;
	bool m[3];

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	f = filter_compile(s, names, NULL, &err);
	if (f == NULL) {
		check_error(&err, len > FILTER_MAX_LEN ? FILTER_MAX_LEN : len);
		free(s);
		return 0;
	}
	records(r);
	for (i = 0; i < 3; i++)
		m[i] = filter_match(f, &r[i], lookup, NULL);
	if (!filter_uses_networks(f))
		for (i = 0; i < 3; i++)
			if (filter_match(f, &r[i], NULL, NULL) != m[i])
				__builtin_trap();
	if ((w = malloc(len + 8)) != NULL) {
		memcpy(w, "not (", 5);
		memcpy(w + 5, s, len);
		memcpy(w + 5 + len, ")", 2);
		if ((g = filter_compile(w, names, NULL, &err)) != NULL) {
			for (i = 0; i < 3; i++)
				if (filter_match(g, &r[i], lookup, NULL) == m[i])
					__builtin_trap();
			filter_free(g);
		}
		free(w);
	}
	filter_free(f);
	free(s);
	return 0;
}
