/* libFuzzer harness for the NetFlow v9 decoder (see template_decoder.h). */
#include "collectors/netflow_v9.h"
#include "tests/fuzz/template_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_template_decoder(data, size, v9_decode, 9);
}
