/*
 * libFuzzer harness: a configuration file of arbitrary bytes must be accepted
 * or refused with errors, never crash, hang or leak.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "subagent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct fp_config *conf;
	char path[64];
	int fd = memfd_create("fuzz.conf", 0);

	if (fd == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	conf = config_load(path, &errs);
	if (conf == NULL && errs.count == 0)
		__builtin_trap();	/* a refusal must say why */
	config_free(conf);
	config_errors_clear(&errs);
	close(fd);
	return 0;
}
