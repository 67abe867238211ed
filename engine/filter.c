/*
 * Flow filters. The text is parsed by recursive descent into a small tree
 * (depth bounded by FILTER_MAX_DEPTH, size by FILTER_MAX_NODES), then
 * compiled into a straight-line program in the manner of BPF: each
 * instruction tests one primitive and jumps forward to the next test, to
 * accept or to reject. "and", "or" and "not" become jump targets, so
 * evaluation short-circuits, never recurses, never allocates and always
 * ends (every jump goes forward).
 *
 * Lists in a primitive ("port 80,443,8000-8080", "net 10/8,192.0.2.0/24")
 * are scanned linearly: they are a handful of items in practice, and a scan
 * of a few ranges beats any lookup structure at that size.
 *
 * Bounds, all checked before the memory they guard is used: the text is at
 * most FILTER_MAX_LEN bytes; tree nodes plus list items at most
 * FILTER_MAX_NODES ("too many terms"); "(" and "not" nest at most
 * FILTER_MAX_DEPTH deep. Every error names a 1-based column.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/filter.h"

#define FILTER_QUOTE_MAX	32	/* longest piece of input quoted in an error */
#define FILTER_ITEM_MAX		64	/* longest list item (an IPv6 prefix is 43) */
#define FILTER_NONE_NET		0xffffu

enum prim_kind {
	P_PROTO, P_PORT, P_NET, P_NETWORK, P_EXPORTER, P_IN_IF, P_OUT_IF,
	P_TOS, P_TCP_FLAGS, P_AS
};

enum dir { D_ANY, D_SRC, D_DST };

/* One test of the compiled program. */
struct insn {
	uint8_t		 kind;		/* enum prim_kind */
	uint8_t		 dir;		/* enum dir */
	uint16_t	 jt, jf;	/* next pc when the test holds / fails */
	uint16_t	 nitems;
	uint32_t	 first;		/* first item; for P_TCP_FLAGS the mask */
};

struct range {
	uint32_t	 lo, hi;
};

struct filter {
	struct insn	*prog;
	size_t		 nprog;		/* accept = nprog, reject = nprog + 1 */
	struct range	*ranges;	/* numbers, ports, network indexes */
	struct addr_prefix *prefixes;	/* net and exporter */
	bool		 networks;
};

enum ast_kind { A_PRIM, A_AND, A_OR, A_NOT };

struct ast {
	uint8_t		 kind;
	int		 child;		/* first child: A_AND A_OR A_NOT */
	int		 next;		/* next sibling */
	size_t		 leaves;	/* primitives below: the size of its code */
	struct insn	 prim;		/* A_PRIM; jumps filled in by codegen */
};

enum tok_kind { T_END, T_WORD, T_LPAREN, T_RPAREN };

struct token {
	enum tok_kind	 kind;
	size_t		 pos;		/* 0-based offset in the text */
	size_t		 len;
};

struct parser {
	const char	*text;
	size_t		 textlen;
	struct token	 tok;		/* the current token */
	struct token	 prev;		/* the one before, for "after X" */
	filter_network_fn names;
	void		*names_arg;
	struct filter_error *err;
	bool		 failed;

	struct ast	*ast;
	size_t		 nast;
	struct range	*ranges;
	size_t		 nranges;
	struct addr_prefix *prefixes;
	size_t		 nprefixes;
	size_t		 terms;		/* ast nodes + list items, <= FILTER_MAX_NODES */
	bool		 networks;
};

/* What each primitive takes, for its messages and its number range. */
struct value_kind {
	const char	*noun;		/* "expected <noun> after ..." */
	const char	*what;		/* "bad <what> ..." */
	uint32_t	 max;
};

static const struct value_kind vk_proto = { "a protocol", "protocol", 255 };
static const struct value_kind vk_port = { "a port number or range", "port", 65535 };
static const struct value_kind vk_net = { "a prefix", "prefix", 0 };
static const struct value_kind vk_network = { "a network name", "network", 0 };
static const struct value_kind vk_exporter = { "an address", "address", 0 };
static const struct value_kind vk_if = { "an interface number", "interface number", UINT32_MAX };
static const struct value_kind vk_tos = { "a TOS value", "TOS value", 255 };
static const struct value_kind vk_flags = { "TCP flags", "TCP flags", 255 };
static const struct value_kind vk_as = { "an AS number", "AS number", UINT32_MAX };

static const struct {
	const char	*name;
	uint8_t		 num;
} filter_protos[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 },
	{ "ipv6", 41 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 },
	{ "icmp6", 58 }, { "ipv6-icmp", 58 }, { "ospf", 89 }, { "pim", 103 },
	{ "vrrp", 112 }, { "sctp", 132 },
};

/* RFC 793 and RFC 3168 bit positions in the TCP flags octet. */
static const struct {
	const char	*name;
	uint8_t		 bit;
} filter_flags[] = {
	{ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
	{ "ack", 0x10 }, { "urg", 0x20 }, { "ece", 0x40 }, { "cwr", 0x80 },
};

/* Input quoted in a message: printable ASCII only, and short. */
static void
quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t i, n = len > FILTER_QUOTE_MAX ? FILTER_QUOTE_MAX : len;

	for (i = 0; i < n && i + 1 < size; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
	buf[i] = '\0';
	if (len > n && i + 4 <= size)
		memcpy(buf + i, "...", 4);
}

static void fail(struct parser *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error only: later ones are consequences of it. */
static void
fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->err->column = pos + 1;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void
next_token(struct parser *p)
{
	size_t i = p->tok.pos + p->tok.len;
	const char *s = p->text;

	p->prev = p->tok;
	while (i < p->textlen && is_space(s[i]))
		i++;
	p->tok.pos = i;
	p->tok.len = 1;
	if (i >= p->textlen) {
		p->tok.kind = T_END;
		p->tok.len = 0;
	} else if (s[i] == '(')
		p->tok.kind = T_LPAREN;
	else if (s[i] == ')')
		p->tok.kind = T_RPAREN;
	else {
		p->tok.kind = T_WORD;
		while (i + p->tok.len < p->textlen && !is_space(s[i + p->tok.len]) &&
		    s[i + p->tok.len] != '(' && s[i + p->tok.len] != ')')
			p->tok.len++;
	}
}

static bool
span_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static bool
tok_is(const struct parser *p, const char *word)
{
	return p->tok.kind == T_WORD && span_is(p->text + p->tok.pos, p->tok.len, word);
}

/* The previous token, quoted, for "after X". */
static const char *
prev_text(const struct parser *p, char *buf, size_t size)
{
	quote(buf, size, p->text + p->prev.pos, p->prev.len);
	return buf;
}

static bool
count_term(struct parser *p, size_t pos)
{
	if (p->terms >= FILTER_MAX_NODES) {
		fail(p, pos, "too many terms");
		return false;
	}
	p->terms++;
	return true;
}

static int
new_ast(struct parser *p, enum ast_kind kind, size_t pos)
{
	struct ast *a;

	if (!count_term(p, pos))
		return -1;
	a = &p->ast[p->nast];
	memset(a, 0, sizeof(*a));
	a->kind = (uint8_t)kind;
	a->child = a->next = -1;
	return (int)p->nast++;
}

/*
 * Decimal or 0x hexadecimal, at most max. Returns 1 on success, 0 when not
 * a number at all, -1 when out of range.
 */
static int
parse_number(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	unsigned base = 10, d;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return 0;
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned)(s[i] - 'a' + 10);
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = (unsigned)(s[i] - 'A' + 10);
		else
			return 0;
		v = v * base + d;
		if (v > UINT32_MAX)
			v = (uint64_t)UINT32_MAX + 1;	/* keeps scanning for "not a number" */
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 1;
}

static bool
add_range(struct parser *p, size_t pos, uint32_t lo, uint32_t hi)
{
	if (!count_term(p, pos))
		return false;
	p->ranges[p->nranges].lo = lo;
	p->ranges[p->nranges].hi = hi;
	p->nranges++;
	return true;
}

static bool
add_prefix(struct parser *p, size_t pos, const struct addr_prefix *pfx)
{
	if (!count_term(p, pos))
		return false;
	p->prefixes[p->nprefixes++] = *pfx;
	return true;
}

/* A number of the kind, with the kind's messages; false after fail(). */
static bool
item_number(struct parser *p, const struct value_kind *vk, const char *s,
    size_t len, size_t pos, uint32_t *out)
{
	char q[FILTER_QUOTE_MAX + 4];
	int r = parse_number(s, len, vk->max, out);

	quote(q, sizeof(q), s, len);
	if (r == 0)
		fail(p, pos, "bad %s \"%s\"", vk->what, q);
	else if (r < 0)
		fail(p, pos, "%s out of range \"%s\" (0-%lu)", vk->what, q,
		    (unsigned long)vk->max);
	return r == 1;
}

static bool
item_proto(struct parser *p, const char *s, size_t len, size_t pos)
{
	char q[FILTER_QUOTE_MAX + 4];
	uint32_t v;
	size_t i;

	for (i = 0; i < sizeof(filter_protos) / sizeof(filter_protos[0]); i++)
		if (span_is(s, len, filter_protos[i].name))
			return add_range(p, pos, filter_protos[i].num, filter_protos[i].num);
	if (len > 0 && s[0] >= '0' && s[0] <= '9') {
		if (!item_number(p, &vk_proto, s, len, pos, &v))
			return false;
		return add_range(p, pos, v, v);
	}
	quote(q, sizeof(q), s, len);
	fail(p, pos, "unknown protocol \"%s\"", q);
	return false;
}

static bool
item_port(struct parser *p, const char *s, size_t len, size_t pos)
{
	char q[FILTER_QUOTE_MAX + 4];
	const char *dash = memchr(s, '-', len);
	uint32_t lo, hi;
	int r1, r2;

	if (dash == NULL) {
		r1 = parse_number(s, len, 65535, &lo);
		hi = lo;
		r2 = 1;
	} else {
		r1 = parse_number(s, (size_t)(dash - s), 65535, &lo);
		r2 = parse_number(dash + 1, len - (size_t)(dash - s) - 1, 65535, &hi);
	}
	quote(q, sizeof(q), s, len);
	if (r1 == 0 || r2 == 0) {
		fail(p, pos, "expected a port number or range, got \"%s\"", q);
		return false;
	}
	if (r1 < 0 || r2 < 0) {
		fail(p, pos, "port out of range \"%s\" (0-65535)", q);
		return false;
	}
	if (lo > hi) {
		fail(p, pos, "port range \"%s\" runs backwards", q);
		return false;
	}
	return add_range(p, pos, lo, hi);
}

/* A prefix, or a bare address as its own /32 or /128. */
static bool
item_prefix(struct parser *p, const struct value_kind *vk, const char *s,
    size_t len, size_t pos)
{
	char buf[FILTER_ITEM_MAX + 1], q[FILTER_QUOTE_MAX + 4];
	struct addr_prefix pfx;
	const char *why = "too long";

	quote(q, sizeof(q), s, len);
	if (len <= FILTER_ITEM_MAX) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		memset(&pfx, 0, sizeof(pfx));
		if (vk == &vk_net && memchr(s, '/', len) != NULL)
			why = addr_parse_prefix(buf, &pfx);
		else if ((why = addr_parse(buf, &pfx.addr)) == NULL)
			pfx.len = pfx.addr.family == ADDR_V4 ? 32 : 128;
	}
	if (why != NULL) {
		fail(p, pos, "bad %s \"%s\": %s", vk->what, q, why);
		return false;
	}
	return add_prefix(p, pos, &pfx);
}

static bool
item_network(struct parser *p, const char *s, size_t len, size_t pos)
{
	char buf[FILTER_ITEM_MAX + 1], q[FILTER_QUOTE_MAX + 4];
	int idx = -1;

	if (len <= FILTER_ITEM_MAX && p->names != NULL) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		idx = p->names(buf, p->names_arg);
	}
	if (idx < 0 || idx >= (int)FILTER_NONE_NET) {
		quote(q, sizeof(q), s, len);
		fail(p, pos, "unknown network \"%s\"", q);
		return false;
	}
	p->networks = true;
	return add_range(p, pos, (uint32_t)idx, (uint32_t)idx);
}

/* "syn|ack" (all of them) or a number. */
static bool
parse_flags(struct parser *p, const char *s, size_t len, size_t pos, uint32_t *mask)
{
	char q[FILTER_QUOTE_MAX + 4];
	size_t i = 0, j, n, k;

	if (len > 0 && s[0] >= '0' && s[0] <= '9')
		return item_number(p, &vk_flags, s, len, pos, mask);
	*mask = 0;
	for (;;) {
		for (j = i; j < len && s[j] != '|'; j++)
			;
		n = j - i;
		for (k = 0; k < sizeof(filter_flags) / sizeof(filter_flags[0]); k++)
			if (span_is(s + i, n, filter_flags[k].name))
				break;
		if (k == sizeof(filter_flags) / sizeof(filter_flags[0])) {
			quote(q, sizeof(q), s + i, n);
			if (n == 0)
				fail(p, pos + i, "expected a TCP flag (fin syn rst psh ack urg ece cwr)%s",
				    i > 0 ? " after \"|\"" : "");
			else
				fail(p, pos + i, "unknown TCP flag \"%s\"", q);
			return false;
		}
		*mask |= filter_flags[k].bit;
		if (j == len)
			return true;
		i = j + 1;
	}
}

/* The comma-separated list of the current token; leaves the token consumed. */
static bool
parse_list(struct parser *p, enum prim_kind kind, const struct value_kind *vk,
    struct insn *in)
{
	char kw[FILTER_QUOTE_MAX + 4];
	const char *s = p->text + p->tok.pos;
	size_t len = p->tok.len, i = 0, j;
	bool ok;

	if (p->tok.kind != T_WORD) {
		fail(p, p->tok.pos, "expected %s after \"%s\"", vk->noun,
		    prev_text(p, kw, sizeof(kw)));
		return false;
	}
	in->first = (uint32_t)(kind == P_NET || kind == P_EXPORTER ?
	    p->nprefixes : p->nranges);
	for (;;) {
		for (j = i; j < len && s[j] != ','; j++)
			;
		if (j == i) {
			fail(p, p->tok.pos + i, "expected %s after \"%s\"", vk->noun,
			    i == 0 ? prev_text(p, kw, sizeof(kw)) : ",");
			return false;
		}
		switch (kind) {
		case P_PROTO:
			ok = item_proto(p, s + i, j - i, p->tok.pos + i);
			break;
		case P_PORT:
			ok = item_port(p, s + i, j - i, p->tok.pos + i);
			break;
		case P_NET:
		case P_EXPORTER:
			ok = item_prefix(p, vk, s + i, j - i, p->tok.pos + i);
			break;
		case P_NETWORK:
			ok = item_network(p, s + i, j - i, p->tok.pos + i);
			break;
		default: {
			uint32_t v;

			ok = item_number(p, vk, s + i, j - i, p->tok.pos + i, &v) &&
			    add_range(p, p->tok.pos + i, v, v);
			break;
		}
		}
		if (!ok)
			return false;
		in->nitems++;
		if (j == len)
			break;
		i = j + 1;
	}
	next_token(p);
	return true;
}

static int
parse_primitive(struct parser *p)
{
	char q[FILTER_QUOTE_MAX + 4];
	const struct value_kind *vk;
	enum prim_kind kind;
	enum dir dir = D_ANY;
	struct insn in;
	size_t start = p->tok.pos;
	int n;

	memset(&in, 0, sizeof(in));
	if (tok_is(p, "src") || tok_is(p, "dst")) {
		dir = tok_is(p, "src") ? D_SRC : D_DST;
		next_token(p);
		if (!tok_is(p, "port") && !tok_is(p, "net") && !tok_is(p, "network") &&
		    !tok_is(p, "as")) {
			fail(p, p->tok.pos,
			    "expected \"port\", \"net\", \"network\" or \"as\" after \"%s\"",
			    prev_text(p, q, sizeof(q)));
			return -1;
		}
	}
	if (tok_is(p, "proto")) {
		kind = P_PROTO, vk = &vk_proto;
	} else if (tok_is(p, "port")) {
		kind = P_PORT, vk = &vk_port;
	} else if (tok_is(p, "net")) {
		kind = P_NET, vk = &vk_net;
	} else if (tok_is(p, "network")) {
		kind = P_NETWORK, vk = &vk_network;
	} else if (tok_is(p, "exporter")) {
		kind = P_EXPORTER, vk = &vk_exporter;
	} else if (tok_is(p, "in_if")) {
		kind = P_IN_IF, vk = &vk_if;
	} else if (tok_is(p, "out_if")) {
		kind = P_OUT_IF, vk = &vk_if;
	} else if (tok_is(p, "tos")) {
		kind = P_TOS, vk = &vk_tos;
	} else if (tok_is(p, "tcp_flags")) {
		kind = P_TCP_FLAGS, vk = &vk_flags;
	} else if (tok_is(p, "as")) {
		kind = P_AS, vk = &vk_as;
	} else {
		quote(q, sizeof(q), p->text + p->tok.pos, p->tok.len);
		fail(p, p->tok.pos, "unknown primitive \"%s\"", q);
		return -1;
	}
	if ((n = new_ast(p, A_PRIM, start)) < 0)
		return -1;
	next_token(p);
	in.kind = (uint8_t)kind;
	in.dir = (uint8_t)dir;
	if (kind == P_TCP_FLAGS) {
		if (p->tok.kind != T_WORD) {
			fail(p, p->tok.pos, "expected %s after \"%s\"", vk->noun,
			    prev_text(p, q, sizeof(q)));
			return -1;
		}
		if (!parse_flags(p, p->text + p->tok.pos, p->tok.len, p->tok.pos, &in.first))
			return -1;
		next_token(p);
	} else if (!parse_list(p, kind, vk, &in))
		return -1;
	p->ast[n].prim = in;
	p->ast[n].leaves = 1;
	return n;
}

static int parse_expr(struct parser *, int depth);

static int
parse_factor(struct parser *p, int depth)
{
	char q[FILTER_QUOTE_MAX + 4];
	size_t open;
	int n, c;

	switch (p->tok.kind) {
	case T_END:
		if (p->prev.len == 0)
			fail(p, p->tok.pos, "empty filter");
		else
			fail(p, p->tok.pos, "expected a primitive after \"%s\"",
			    prev_text(p, q, sizeof(q)));
		return -1;
	case T_RPAREN:
		fail(p, p->tok.pos, "unexpected \")\"");
		return -1;
	case T_LPAREN:
		if (depth >= FILTER_MAX_DEPTH) {
			fail(p, p->tok.pos, "nesting deeper than %d", FILTER_MAX_DEPTH);
			return -1;
		}
		open = p->tok.pos;
		next_token(p);
		if ((n = parse_expr(p, depth + 1)) < 0)
			return -1;
		if (p->tok.kind != T_RPAREN) {
			fail(p, p->tok.pos, "expected \")\" to close \"(\" at column %zu",
			    open + 1);
			return -1;
		}
		next_token(p);
		return n;
	case T_WORD:
		break;
	}
	if (tok_is(p, "not")) {
		if (depth >= FILTER_MAX_DEPTH) {
			fail(p, p->tok.pos, "nesting deeper than %d", FILTER_MAX_DEPTH);
			return -1;
		}
		if ((n = new_ast(p, A_NOT, p->tok.pos)) < 0)
			return -1;
		next_token(p);
		if ((c = parse_factor(p, depth + 1)) < 0)
			return -1;
		p->ast[n].child = c;
		p->ast[n].leaves = p->ast[c].leaves;
		return n;
	}
	if (tok_is(p, "and") || tok_is(p, "or")) {
		quote(q, sizeof(q), p->text + p->tok.pos, p->tok.len);
		fail(p, p->tok.pos, "unexpected \"%s\"", q);
		return -1;
	}
	return parse_primitive(p);
}

/* One "and" or "or" chain as an n-ary node; a single operand is returned as is. */
static int
parse_chain(struct parser *p, int depth, enum ast_kind kind, const char *word)
{
	int first, last, n, c;

	first = kind == A_AND ? parse_factor(p, depth) : parse_chain(p, depth, A_AND, "and");
	if (first < 0 || !tok_is(p, word))
		return first;
	if ((n = new_ast(p, kind, p->tok.pos)) < 0)
		return -1;
	p->ast[n].child = last = first;
	p->ast[n].leaves = p->ast[first].leaves;
	while (tok_is(p, word)) {
		next_token(p);
		c = kind == A_AND ? parse_factor(p, depth) : parse_chain(p, depth, A_AND, "and");
		if (c < 0)
			return -1;
		p->ast[last].next = c;
		last = c;
		p->ast[n].leaves += p->ast[c].leaves;
	}
	return n;
}

static int
parse_expr(struct parser *p, int depth)
{
	return parse_chain(p, depth, A_OR, "or");
}

/*
 * Lays out node n's tests at prog[start..], jumping to t when it holds and
 * to f when not. Recursion follows the tree, whose depth the parser bounded.
 */
static void
codegen(const struct parser *p, struct insn *prog, int n, size_t start,
    size_t t, size_t f)
{
	const struct ast *a = &p->ast[n];
	size_t pos = start, next;
	int c;

	switch (a->kind) {
	case A_PRIM:
		prog[start] = a->prim;
		prog[start].jt = (uint16_t)t;
		prog[start].jf = (uint16_t)f;
		break;
	case A_NOT:
		codegen(p, prog, a->child, start, f, t);
		break;
	case A_AND:
	case A_OR:
		for (c = a->child; c >= 0; c = p->ast[c].next) {
			next = pos + p->ast[c].leaves;
			if (a->kind == A_AND)
				codegen(p, prog, c, pos, p->ast[c].next >= 0 ? next : t, f);
			else
				codegen(p, prog, c, pos, t, p->ast[c].next >= 0 ? next : f);
			pos = next;
		}
		break;
	}
}

struct filter *
filter_compile(const char *text, filter_network_fn names, void *names_arg,
    struct filter_error *err)
{
	struct filter_error scratch;
	struct parser p;
	struct filter *f = NULL;
	int root;

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	memset(&p, 0, sizeof(p));
	p.text = text == NULL ? "" : text;
	p.textlen = strnlen(p.text, FILTER_MAX_LEN + 1);
	p.names = names;
	p.names_arg = names_arg;
	p.err = err;
	if (p.textlen > FILTER_MAX_LEN) {
		fail(&p, FILTER_MAX_LEN, "filter too long (at most %d characters)",
		    FILTER_MAX_LEN);
		return NULL;
	}
	p.ast = calloc(FILTER_MAX_NODES, sizeof(*p.ast));
	p.ranges = calloc(FILTER_MAX_NODES, sizeof(*p.ranges));
	p.prefixes = calloc(FILTER_MAX_NODES, sizeof(*p.prefixes));
	if (p.ast == NULL || p.ranges == NULL || p.prefixes == NULL) {
		fail(&p, 0, "out of memory");
		goto done;
	}
	p.prev.kind = T_END;
	p.tok.kind = T_END;
	next_token(&p);
	p.prev.len = 0;
	if ((root = parse_expr(&p, 0)) < 0)
		goto done;
	if (p.tok.kind != T_END) {
		char q[FILTER_QUOTE_MAX + 4];

		quote(q, sizeof(q), p.text + p.tok.pos, p.tok.len);
		fail(&p, p.tok.pos, "trailing input \"%s\"", q);
		goto done;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->prog = calloc(p.ast[root].leaves, sizeof(*f->prog))) == NULL ||
	    (f->ranges = calloc(p.nranges + 1, sizeof(*f->ranges))) == NULL ||
	    (f->prefixes = calloc(p.nprefixes + 1, sizeof(*f->prefixes))) == NULL) {
		filter_free(f);
		f = NULL;
		fail(&p, 0, "out of memory");
		goto done;
	}
	f->nprog = p.ast[root].leaves;
	codegen(&p, f->prog, root, 0, f->nprog, f->nprog + 1);
	memcpy(f->ranges, p.ranges, p.nranges * sizeof(*p.ranges));
	memcpy(f->prefixes, p.prefixes, p.nprefixes * sizeof(*p.prefixes));
	f->networks = p.networks;
done:
	free(p.ast);
	free(p.ranges);
	free(p.prefixes);
	return f;
}

void
filter_free(struct filter *f)
{
	if (f == NULL)
		return;
	free(f->prog);
	free(f->ranges);
	free(f->prefixes);
	free(f);
}

bool
filter_uses_networks(const struct filter *f)
{
	return f->networks;
}

static bool
in_ranges(const struct range *r, size_t n, uint32_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	return false;
}

static bool
in_prefixes(const struct addr_prefix *p, size_t n, const struct addr *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (addr_prefix_contains(&p[i], a))
			return true;
	return false;
}

/* Lazily looked-up named networks of one record: at most one call each. */
struct net_cache {
	filter_lookup_fn lookup;
	void		*arg;
	uint32_t	 src, dst;	/* UINT32_MAX until looked up */
};

static uint32_t
net_of(struct net_cache *c, const struct addr *a, uint32_t *slot)
{
	if (*slot == UINT32_MAX)
		*slot = c->lookup == NULL ? FILTER_NONE_NET : c->lookup(a, c->arg);
	return *slot;
}

/*
 * Without a direction, a primitive that has one (port, net, network, as)
 * holds when it holds for either side.
 */
static bool
test(const struct filter *f, const struct insn *in, const struct flow_record *r,
    struct net_cache *nc)
{
	const struct range *rg = NULL;
	const struct addr_prefix *px;
	size_t n = in->nitems;

	if (in->kind != P_NET && in->kind != P_EXPORTER && in->kind != P_TCP_FLAGS)
		rg = &f->ranges[in->first];
	switch (in->kind) {
	case P_PROTO:
		return in_ranges(rg, n, r->proto);
	case P_PORT:
		if (in->dir != D_DST && in_ranges(rg, n, r->src_port))
			return true;
		return in->dir != D_SRC && in_ranges(rg, n, r->dst_port);
	case P_NET:
		px = &f->prefixes[in->first];
		if (in->dir != D_DST && in_prefixes(px, n, &r->src))
			return true;
		return in->dir != D_SRC && in_prefixes(px, n, &r->dst);
	case P_NETWORK:
		if (in->dir != D_DST && in_ranges(rg, n, net_of(nc, &r->src, &nc->src)))
			return true;
		return in->dir != D_SRC && in_ranges(rg, n, net_of(nc, &r->dst, &nc->dst));
	case P_EXPORTER:
		return in_prefixes(&f->prefixes[in->first], n, &r->exporter);
	case P_IN_IF:
		return in_ranges(rg, n, r->in_if);
	case P_OUT_IF:
		return in_ranges(rg, n, r->out_if);
	case P_TOS:
		return in_ranges(rg, n, r->tos);
	case P_TCP_FLAGS:
		return (r->tcp_flags & in->first) == in->first;
	case P_AS:
		if (in->dir != D_DST && in_ranges(rg, n, r->src_as))
			return true;
		return in->dir != D_SRC && in_ranges(rg, n, r->dst_as);
	}
	return false;
}

bool
filter_match(const struct filter *f, const struct flow_record *r,
    filter_lookup_fn lookup, void *lookup_arg)
{
	struct net_cache nc = { lookup, lookup_arg, UINT32_MAX, UINT32_MAX };
	size_t pc = 0;

	while (pc < f->nprog) {
		const struct insn *in = &f->prog[pc];

		pc = test(f, in, r, &nc) ? in->jt : in->jf;
	}
	return pc == f->nprog;
}
