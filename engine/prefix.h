/*
 * Longest-prefix match over IPv4 and IPv6 prefixes, each carrying a value
 * (a named network's index). A compressed binary trie per family: lookups
 * cost at most one node per prefix length on the path, never a list scan.
 * Pure; bounded by the number of prefixes inserted.
 */
#ifndef FP_PREFIX_H
#define FP_PREFIX_H

#include <stddef.h>
#include <stdint.h>

#include "engine/addr.h"

#define PREFIX_NONE 0xffffu	/* lookup result when no prefix holds the address */

struct prefix_trie;

struct prefix_trie *prefix_trie_new(void);
void		 prefix_trie_free(struct prefix_trie *);
/*
 * Inserts prefix -> value (value < PREFIX_NONE). The same prefix inserted
 * again keeps its first value and returns 1; 0 on success; -1 out of memory.
 */
int		 prefix_trie_insert(struct prefix_trie *, const struct addr_prefix *,
		    uint16_t value);
/* The value of the longest prefix holding a, or PREFIX_NONE. */
uint16_t	 prefix_trie_lookup(const struct prefix_trie *, const struct addr *a);
size_t		 prefix_trie_count(const struct prefix_trie *);

#endif
