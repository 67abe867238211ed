/* libFuzzer harness for the IPFIX decoder (see template_decoder.h). */
#include "collectors/ipfix.h"
#include "tests/fuzz/template_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_template_decoder(data, size, ipfix_decode, 10);
}
