/*
 * Flow filters: a small expression language in the spirit of flow-filter
 * and BPF primitives, compiled once and evaluated per record. Pure.
 *
 *   expr    := term { "or" term }
 *   term    := factor { "and" factor }
 *   factor  := "not" factor | "(" expr ")" | primitive
 *   primitive:
 *     proto tcp|udp|icmp|icmp6|gre|esp|ah|sctp|N [, ...]
 *     [src|dst] port N|A-B [, ...]          (no direction: either)
 *     [src|dst] net PREFIX [, ...]
 *     [src|dst] network NAME [, ...]        (a named network of the configuration)
 *     exporter ADDR [, ...]
 *     in_if|out_if N [, ...]
 *     tos N [, ...]
 *     tcp_flags FLAGS                       (any of: fin syn rst psh ack urg ece cwr, "|"-joined, or N: all bits set)
 *     src|dst as N [, ...]
 * Keywords are case-insensitive. Lists are comma-separated without spaces
 * inside ("80,443,8000-8080"). Bounded: at most FILTER_MAX_NODES nodes and
 * FILTER_MAX_DEPTH nesting; evaluation is a walk of the compiled tree.
 */
#ifndef FP_FILTER_H
#define FP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/flow.h"

#define FILTER_MAX_NODES	1024
#define FILTER_MAX_DEPTH	64
#define FILTER_MAX_LEN		4096

struct filter;

struct filter_error {
	size_t	 column;	/* 1-based column in the filter text */
	char	 msg[160];	/* e.g. "expected a port number or range after \"port\"" */
};

/* Resolves a network name to its index (for "network NAME"); -1 when unknown. */
typedef int (*filter_network_fn)(const char *name, void *arg);
/* The named-network index of an address, or 0xffff (none). */
typedef uint16_t (*filter_lookup_fn)(const struct addr *, void *arg);

/* NULL with err filled in when the text is not a valid filter. */
struct filter	*filter_compile(const char *text, filter_network_fn names, void *names_arg,
		    struct filter_error *err);
void		 filter_free(struct filter *);
/* lookup may be NULL when the filter uses no "network" primitive. */
bool		 filter_match(const struct filter *, const struct flow_record *,
		    filter_lookup_fn lookup, void *lookup_arg);
/* True when the filter uses "network" (the caller must then pass lookup). */
bool		 filter_uses_networks(const struct filter *);

#endif
