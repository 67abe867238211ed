/*
 * What flowpathd knows about itself, published as FLOWPATH-MIB::fpSystem.
 * Owned by main.c, read by mib_system.c, counted by agentx.c.
 */
#ifndef FP_STATUS_H
#define FP_STATUS_H

#include <stdint.h>

#define STATUS_TEXT_MAX 255	/* DisplayString (SIZE(0..255)) */

struct fp_status {
	int64_t		 start_wall_ns;
	int64_t		 start_mono_ns;
	char		 config_file[STATUS_TEXT_MAX + 1];
	int64_t		 config_load_wall_ns;
	uint32_t	 config_reloads;
	uint32_t	 config_reload_failures;
	char		 config_last_error[STATUS_TEXT_MAX + 1];
	uint32_t	 agentx_connects;
};

#endif
