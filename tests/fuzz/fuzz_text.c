/*
 * libFuzzer harness for the text parsers behind the configuration:
 * addresses, prefixes, endpoints and durations. Formatting what was parsed
 * and parsing it again must give the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/addr.h"
#include "engine/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char buf[ADDR_ENDPOINT_STRLEN];
	struct addr a, b;
	struct addr_prefix p;
	struct addr_endpoint e, f;
	int64_t ns;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (addr_parse(s, &a) == NULL) {
		addr_format(&a, buf, sizeof(buf));
		if (addr_parse(buf, &b) != NULL || memcmp(&a, &b, sizeof(a)) != 0)
			__builtin_trap();
	}
	if (addr_parse_prefix(s, &p) == NULL && !addr_prefix_contains(&p, &p.addr))
		__builtin_trap();
	if (addr_parse_endpoint(s, &e) == NULL) {
		addr_format_endpoint(&e, buf, sizeof(buf));
		if (addr_parse_endpoint(buf, &f) != NULL || e.port != f.port)
			__builtin_trap();
	}
	(void)units_parse_duration(s, &ns);
	free(s);
	return 0;
}
