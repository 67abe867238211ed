/*
 * Longest-prefix match: a path-compressed binary trie per family. Every
 * node is a prefix; a node either carries a value or is a branch point
 * ("glue") where two longer prefixes part. A node is kept only where a
 * prefix was inserted or two prefixes diverge, so nodes <= 2 * prefixes.
 *
 * Addresses are held as two 64-bit words (IPv4 in the top 32 bits of the
 * first), so "does this node's prefix hold the address" is two masked XORs
 * whatever the length. A lookup visits at most one node per prefix length
 * on its path (33 for IPv4, 129 for IPv6) and never scans a list.
 *
 * Nodes live in one array addressed by 32-bit index: 32 bytes each, two to
 * a cache line, and growth is one realloc rather than one malloc per node.
 *
 * A large IPv4 table (PREFIX_DIR_MIN prefixes and more) also gets a direct
 * table indexed by the first 16 address bits, as in DIR-24-8 lookups: each
 * entry holds the best value among prefixes shorter than /16 and the
 * topmost node of /16 and longer inside that block, so a lookup skips the
 * top of the trie, where a walk costs one dependent load per bit. Its 512 KiB
 * stay below the nodes' own memory at that size, and it is kept up to date
 * by every insert.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/prefix.h"

#define NIL UINT32_MAX
#define PREFIX_DIR_BITS	16
#define PREFIX_DIR_MIN	8192

/* One /16 block of IPv4 space. */
struct dir_entry {
	uint32_t	 node;		/* topmost node of length >= 16 in the block, or NIL */
	uint16_t	 best;		/* value of the longest prefix < /16 holding the block */
	uint8_t		 best_len;
	uint8_t		 has_best;
};

struct node {
	uint64_t	 k[2];		/* the prefix, bits past len zero */
	uint32_t	 child[2];	/* by the bit at position len */
	uint8_t		 len;
	uint16_t	 value;		/* PREFIX_NONE for a glue node */
};

struct prefix_trie {
	struct node	*nodes;
	uint32_t	 nnodes;
	uint32_t	 cap;
	uint32_t	 root[2];	/* IPv4, IPv6 */
	size_t		 count;
	size_t		 count4;
	struct dir_entry *dir;		/* IPv4 only, once count4 >= PREFIX_DIR_MIN */
};

struct prefix_trie *
prefix_trie_new(void)
{
	struct prefix_trie *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->root[0] = t->root[1] = NIL;
	return t;
}

void
prefix_trie_free(struct prefix_trie *t)
{
	if (t == NULL)
		return;
	free(t->nodes);
	free(t->dir);
	free(t);
}

size_t
prefix_trie_count(const struct prefix_trie *t)
{
	return t->count;
}

static uint64_t
load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The address as two words; false for a family without addresses. */
static bool
to_words(const struct addr *a, uint64_t k[2], unsigned *bits, unsigned *fam)
{
	if (a->family == ADDR_V4) {
		k[0] = (uint64_t)((uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
		    (uint32_t)a->bytes[2] << 8 | a->bytes[3]) << 32;
		k[1] = 0;
		*bits = 32;
		*fam = 0;
		return true;
	}
	if (a->family == ADDR_V6) {
		k[0] = load_be64(a->bytes);
		k[1] = load_be64(a->bytes + 8);
		*bits = 128;
		*fam = 1;
		return true;
	}
	return false;
}

static uint64_t
mask_hi(unsigned len)
{
	return len == 0 ? 0 : len >= 64 ? UINT64_MAX : UINT64_MAX << (64 - len);
}

static uint64_t
mask_lo(unsigned len)
{
	return len <= 64 ? 0 : len >= 128 ? UINT64_MAX : UINT64_MAX << (128 - len);
}

/* True when the first len bits of k equal the node's prefix. */
static bool
holds(const struct node *n, const uint64_t k[2])
{
	return (((k[0] ^ n->k[0]) & mask_hi(n->len)) |
	    ((k[1] ^ n->k[1]) & mask_lo(n->len))) == 0;
}

static unsigned
bit_at(const uint64_t k[2], unsigned i)
{
	return i < 64 ? (unsigned)(k[0] >> (63 - i)) & 1 :
	    (unsigned)(k[1] >> (127 - i)) & 1;
}

/* Length of the common leading bits of a and b, at most max. */
static unsigned
common_bits(const uint64_t a[2], const uint64_t b[2], unsigned max)
{
	uint64_t x = a[0] ^ b[0];
	unsigned n;

	if (x != 0)
		n = (unsigned)__builtin_clzll(x);
	else if ((x = a[1] ^ b[1]) != 0)
		n = 64 + (unsigned)__builtin_clzll(x);
	else
		n = 128;
	return n < max ? n : max;
}

/* Room for two more nodes, so that pointers taken during one insert stay valid. */
static int
reserve(struct prefix_trie *t)
{
	struct node *n;
	uint32_t cap;

	if (t->nnodes + 2 <= t->cap)
		return 0;
	if (t->cap > (UINT32_MAX - 2) / 2)
		return -1;
	cap = t->cap == 0 ? 64 : t->cap * 2;
	if ((n = realloc(t->nodes, (size_t)cap * sizeof(*n))) == NULL)
		return -1;
	t->nodes = n;
	t->cap = cap;
	return 0;
}

static uint32_t
new_node(struct prefix_trie *t, const uint64_t k[2], unsigned len, uint16_t value)
{
	struct node *n = &t->nodes[t->nnodes];

	n->k[0] = k[0] & mask_hi(len);
	n->k[1] = k[1] & mask_lo(len);
	n->len = (uint8_t)len;
	n->value = value;
	n->child[0] = n->child[1] = NIL;
	return t->nnodes++;
}

static uint32_t
block_of(const uint64_t k[2])
{
	return (uint32_t)(k[0] >> (64 - PREFIX_DIR_BITS));
}

/* A prefix shorter than /16 becomes the best of every block it covers that has none longer. */
static void
dir_cover(struct prefix_trie *t, const uint64_t k[2], unsigned len, uint16_t value)
{
	uint32_t b = block_of(k), n = UINT32_C(1) << (PREFIX_DIR_BITS - len), i;
	struct dir_entry *e;

	for (i = 0; i < n; i++) {
		e = &t->dir[b + i];
		if (!e->has_best || e->best_len < len) {
			e->best = value;
			e->best_len = (uint8_t)len;
			e->has_best = 1;
		}
	}
}

/* A node of /16 or longer linked below a shorter one (or the root) tops its block. */
static void
dir_link(struct prefix_trie *t, int owner_len, uint32_t idx)
{
	const struct node *n = &t->nodes[idx];

	if (t->dir != NULL && n->len >= PREFIX_DIR_BITS && owner_len < PREFIX_DIR_BITS)
		t->dir[block_of(n->k)].node = idx;
}

/* Walks the trie once per block; done once, when the table gets large. */
static void
dir_build(struct prefix_trie *t)
{
	uint64_t k[2] = { 0, 0 };
	const struct node *n;
	struct dir_entry *e;
	uint32_t b, idx;

	if ((t->dir = calloc(UINT32_C(1) << PREFIX_DIR_BITS, sizeof(*t->dir))) == NULL)
		return;		/* lookups stay correct, only slower */
	for (b = 0; b < UINT32_C(1) << PREFIX_DIR_BITS; b++) {
		e = &t->dir[b];
		e->node = NIL;
		k[0] = (uint64_t)b << (64 - PREFIX_DIR_BITS);
		for (idx = t->root[0]; idx != NIL; idx = n->child[bit_at(k, n->len)]) {
			n = &t->nodes[idx];
			if (n->len >= PREFIX_DIR_BITS) {
				if (block_of(n->k) == b)
					e->node = idx;
				break;
			}
			if (!holds(n, k))
				break;
			if (n->value != PREFIX_NONE) {
				e->best = n->value;
				e->best_len = n->len;
				e->has_best = 1;
			}
		}
	}
}

int
prefix_trie_insert(struct prefix_trie *t, const struct addr_prefix *p, uint16_t value)
{
	uint64_t k[2];
	unsigned bits, fam, len, d;
	uint32_t *link, idx, leaf, glue;
	struct node *n;
	int owner_len = -1;	/* length of the node owning link; -1 for the root */

	if (value == PREFIX_NONE || !to_words(&p->addr, k, &bits, &fam) ||
	    p->len > bits)
		return -1;
	if (reserve(t) == -1)
		return -1;
	len = p->len;
	k[0] &= mask_hi(len);
	k[1] &= mask_lo(len);
	link = &t->root[fam];
	for (;;) {
		if ((idx = *link) == NIL) {
			*link = leaf = new_node(t, k, len, value);
			if (fam == 0)
				dir_link(t, owner_len, leaf);
			break;
		}
		n = &t->nodes[idx];
		d = common_bits(k, n->k, len < n->len ? len : n->len);
		if (d == n->len && d == len) {
			if (n->value != PREFIX_NONE)
				return 1;
			n->value = value;	/* a glue node becomes a prefix */
			break;
		}
		if (d == n->len) {
			owner_len = n->len;
			link = &n->child[bit_at(k, d)];
			continue;
		}
		if (d == len) {
			/* The new prefix holds the node: it goes above it. */
			leaf = new_node(t, k, len, value);
			t->nodes[leaf].child[bit_at(n->k, len)] = idx;
			*link = leaf;
			if (fam == 0)
				dir_link(t, owner_len, leaf);
			break;
		}
		/* They part at bit d: a glue node with both below. */
		glue = new_node(t, k, d, PREFIX_NONE);
		leaf = new_node(t, k, len, value);
		t->nodes[glue].child[bit_at(k, d)] = leaf;
		t->nodes[glue].child[bit_at(n->k, d)] = idx;
		*link = glue;
		if (fam == 0) {
			dir_link(t, owner_len, glue);
			dir_link(t, (int)d, leaf);
		}
		break;
	}
	t->count++;
	if (fam == 0) {
		t->count4++;
		if (t->dir != NULL && len < PREFIX_DIR_BITS)
			dir_cover(t, k, len, value);
		else if (t->dir == NULL && t->count4 >= PREFIX_DIR_MIN)
			dir_build(t);
	}
	return 0;
}

static uint16_t
walk(const struct prefix_trie *t, uint32_t idx, const uint64_t k[2], unsigned bits,
    uint16_t best)
{
	const struct node *n;

	for (; idx != NIL; idx = n->child[bit_at(k, n->len)]) {
		n = &t->nodes[idx];
		if (!holds(n, k))
			break;
		if (n->value != PREFIX_NONE)
			best = n->value;
		if (n->len >= bits)
			break;
	}
	return best;
}

uint16_t
prefix_trie_lookup(const struct prefix_trie *t, const struct addr *a)
{
	const struct dir_entry *e;
	uint64_t k[2];
	unsigned bits, fam;

	if (t == NULL || !to_words(a, k, &bits, &fam))
		return PREFIX_NONE;
	if (fam == 0 && t->dir != NULL) {
		e = &t->dir[block_of(k)];
		return walk(t, e->node, k, bits, e->has_best ? e->best : PREFIX_NONE);
	}
	return walk(t, t->root[fam], k, bits, PREFIX_NONE);
}
