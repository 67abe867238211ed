/*
 * Rule expressions. A recursive-descent parser builds a typed tree (number
 * or condition) in one array of at most EXPR_MAX_NODES nodes; metric
 * references are kept once each in a table of names. Evaluation walks the
 * tree with Kleene's strong three-valued logic: UNKNOWN is "could be either",
 * so "false and x" is false and "true or x" is true whatever x is, and every
 * other use of UNKNOWN gives UNKNOWN. A number is either known and finite
 * or UNKNOWN; every operation that would give NaN or an infinity (division
 * by zero, overflow) gives UNKNOWN instead.
 *
 * Everything is bounded: text length, nesting (so recursion depth), nodes,
 * name length, windows and offsets, and the samples visited per evaluation
 * (EXPR_MAX_STEPS; past it the result is UNKNOWN).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/expr.h"

#define NS_PER_SEC	1000000000LL
#define QUOTE_MAX	32
#define TAIL_POINTS	8	/* samples that set a plain reference's staleness bound */
#define NO_STAR		SIZE_MAX

enum tok_kind {
	T_END, T_NUM, T_NAME, T_WORD, T_LPAREN, T_RPAREN, T_COMMA,
	T_PLUS, T_MINUS, T_MUL, T_DIV, T_LT, T_LE, T_GT, T_GE, T_EQ, T_NE,
};

enum op {
	OP_NUM, OP_REF, OP_FN, OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV,
	OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_AND, OP_OR, OP_NOT,
};

enum fn {
	FN_AVG, FN_MIN, FN_MAX, FN_SUM, FN_COUNT, FN_LAST, FN_MEDIAN, FN_P95,
	FN_P99, FN_RATE, FN_CHANGE, FN_NODATA,
};

static const struct {
	const char	*name;
	enum fn		 fn;
} functions[] = {
	{ "avg", FN_AVG }, { "min", FN_MIN }, { "max", FN_MAX }, { "sum", FN_SUM },
	{ "count", FN_COUNT }, { "last", FN_LAST }, { "median", FN_MEDIAN },
	{ "p95", FN_P95 }, { "p99", FN_P99 }, { "rate", FN_RATE },
	{ "change", FN_CHANGE }, { "nodata", FN_NODATA },
};

/* value = number * mul / div (division keeps "50ms" == 0.05 exact); ns for durations. */
static const struct {
	const char	*suffix;
	double		 mul;
	double		 div;
	int64_t		 ns;		/* 0: not a duration */
} units[] = {
	{ "us", 1, 1e6, 1000 },
	{ "ms", 1, 1e3, 1000000 },
	{ "s", 1, 1, NS_PER_SEC },
	{ "m", 60, 1, 60 * NS_PER_SEC },
	{ "h", 3600, 1, 3600 * NS_PER_SEC },
	{ "d", 86400, 1, 86400 * NS_PER_SEC },
	{ "%", 1, 100, 0 },
	{ "k", 1e3, 1, 0 },
	{ "M", 1e6, 1, 0 },
	{ "G", 1e9, 1, 0 },
	{ "bps", 1, 1, 0 },
	{ "kbps", 1e3, 1, 0 },
	{ "Mbps", 1e6, 1, 0 },
	{ "Gbps", 1e9, 1, 0 },
};

struct ref {
	char		*name;		/* canonical text; the '*' at star */
	size_t		 len;
	size_t		 star;		/* NO_STAR, or where the instance goes */
	bool		 key_star;	/* [*]: the instance is a key */
	int64_t		 lookback;	/* window + offset, the longest use */
};

struct node {
	uint8_t		 op;
	uint8_t		 fn;
	bool		 is_cond;
	uint16_t	 a, b;		/* children */
	uint16_t	 ref;
	double		 num;
	int64_t		 window;
	int64_t		 offset;
};

struct expr {
	struct node	*nodes;
	uint16_t	 nnodes;
	uint16_t	 root;
	int		 value_node;	/* left side of the first comparison, or -1 */
	struct ref	*refs;
	uint16_t	 nrefs;
	bool		 wildcard;
	int64_t		 lookback;
};

struct tok {
	enum tok_kind	 kind;
	size_t		 pos;
	size_t		 len;
	double		 num;
	int64_t		 ns;		/* a duration literal; -1 when not one */
	size_t		 star;
	bool		 key_star;
	size_t		 namelen;
	char		 name[METRIC_NAME_MAX + 1];
};

struct parser {
	const char	*text;
	size_t		 len;
	struct tok	 tok;
	struct expr	*e;
	struct expr_error *err;
	bool		 failed;
	int		 depth;
};

static void perr(struct parser *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Only the first error is kept: what follows it is a consequence. */
static void
perr(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (!p->failed) {
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
		p->err->column = pos + 1;
		p->failed = true;
	}
}

/* The current token as text for a message: printable and short. */
static const char *
tok_text(const struct parser *p, char buf[QUOTE_MAX + 8])
{
	size_t i, n;

	if (p->tok.kind == T_END)
		return "the end";
	n = p->tok.len < QUOTE_MAX ? p->tok.len : QUOTE_MAX;
	buf[0] = '\'';
	for (i = 0; i < n; i++) {
		char c = p->text[p->tok.pos + i];

		buf[i + 1] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	strcpy(buf + n + 1, p->tok.len > n ? "...'" : "'");
	return buf;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_word(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

/* Characters of a name part after the first: also '-' (lo-icmp) and ':' (IPv6). */
static bool
is_part(char c)
{
	return is_word(c) || c == '-' || c == ':';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char
at(const struct parser *p, size_t i)
{
	return i < p->len ? p->text[i] : '\0';
}

static bool
lex_number(struct parser *p, size_t i)
{
	struct tok *t = &p->tok;
	char buf[EXPR_MAX_LEN + 1], *end;
	size_t j = i, k, ulen;
	double mant, v;

	while (is_digit(at(p, j)))
		j++;
	if (at(p, j) == '.' && is_digit(at(p, j + 1)))
		for (j++; is_digit(at(p, j)); j++)
			;
	if ((at(p, j) == 'e' || at(p, j) == 'E') && (is_digit(at(p, j + 1)) ||
	    ((at(p, j + 1) == '+' || at(p, j + 1) == '-') && is_digit(at(p, j + 2)))))
		for (j += 2; is_digit(at(p, j)); j++)
			;
	memcpy(buf, p->text + i, j - i);
	buf[j - i] = '\0';
	mant = strtod(buf, &end);
	if (*end != '\0' || !(mant - mant == 0)) {
		perr(p, i, "number out of range");
		return false;
	}
	t->num = mant;
	t->ns = -1;
	for (k = j; is_alpha(at(p, k)); k++)
		;
	if (k == j && at(p, j) == '%')
		k++;
	ulen = k - j;
	if (ulen > 0) {
		size_t u;

		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (strlen(units[u].suffix) == ulen &&
			    memcmp(units[u].suffix, p->text + j, ulen) == 0)
				break;
		if (u == sizeof(units) / sizeof(units[0])) {
			perr(p, j, "unknown unit '%.*s' (units: us ms s m h d %% k M G bps kbps Mbps Gbps)",
			    ulen > QUOTE_MAX ? QUOTE_MAX : (int)ulen, p->text + j);
			return false;
		}
		v = mant * units[u].mul / units[u].div;
		if (!(v - v == 0)) {
			perr(p, i, "number out of range");
			return false;
		}
		t->num = v;
		if (units[u].ns != 0) {
			double ns = mant * (double)units[u].ns;

			t->ns = ns > (double)EXPR_MAX_DURATION_NS ? INT64_MAX : (int64_t)(ns + 0.5);
		}
	}
	if (is_part(at(p, k)) || at(p, k) == '.' || at(p, k) == '[' || at(p, k) == '"') {
		perr(p, k, "unexpected '%c' after a number", at(p, k));
		return false;
	}
	t->kind = T_NUM;
	t->len = k - i;
	return true;
}

static bool
name_add(struct parser *p, size_t pos, const char *s, size_t n)
{
	struct tok *t = &p->tok;

	if (t->namelen + n > METRIC_NAME_MAX) {
		perr(p, pos, "metric name longer than %d characters", METRIC_NAME_MAX);
		return false;
	}
	memcpy(t->name + t->namelen, s, n);
	t->namelen += n;
	t->name[t->namelen] = '\0';
	return true;
}

static bool
name_star(struct parser *p, size_t pos, bool key)
{
	if (p->tok.star != NO_STAR) {
		perr(p, pos, "at most one '*' in a metric name");
		return false;
	}
	p->tok.star = p->tok.namelen;
	p->tok.key_star = key;
	return name_add(p, pos, "*", 1);
}

/* ["key"] or [*] at i (the '['); returns the index past ']' or 0. */
static size_t
lex_selector(struct parser *p, size_t i)
{
	size_t j = i + 1, start;
	char c;

	if (at(p, j) == '*') {
		if (at(p, j + 1) != ']') {
			perr(p, j + 1, "expected ']' after '[*'");
			return 0;
		}
		if (!name_add(p, i, "[\"", 2) || !name_star(p, j, true) ||
		    !name_add(p, i, "\"]", 2))
			return 0;
		return j + 2;
	}
	if (at(p, j) != '"') {
		perr(p, j, "expected a quoted key or '*' after '['");
		return 0;
	}
	start = j++;
	for (;;) {
		c = at(p, j);
		if (j >= p->len) {
			perr(p, start, "unterminated string");
			return 0;
		}
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20 || c == 0x7f) {
			perr(p, j, "control character in a string");
			return 0;
		}
		if (c == '\\') {
			if (at(p, j + 1) != '\\' && at(p, j + 1) != '"') {
				perr(p, j, "unknown escape (a key knows only \\\\ and \\\")");
				return 0;
			}
			j++;
		}
		j++;
	}
	/* The canonical form is the source text itself: same quotes, same escapes. */
	if (at(p, j + 1) != ']') {
		perr(p, j + 1, "expected ']' after the key");
		return 0;
	}
	if (!name_add(p, i, "[", 1) || !name_add(p, i, p->text + start, j + 1 - start) ||
	    !name_add(p, i, "]", 1))
		return 0;
	return j + 2;
}

/* A word (keyword, function) or a metric name, at i. */
static bool
lex_name(struct parser *p, size_t i)
{
	struct tok *t = &p->tok;
	size_t j = i;

	t->namelen = 0;
	t->name[0] = '\0';
	t->star = NO_STAR;
	t->key_star = false;
	while (is_word(at(p, j)))
		j++;
	if (!name_add(p, i, p->text + i, j - i))
		return false;
	t->kind = T_WORD;
	for (;;) {
		if (at(p, j) == '[') {
			if ((j = lex_selector(p, j)) == 0)
				return false;
			t->kind = T_NAME;
		} else if (at(p, j) == '.') {
			size_t s = ++j;

			if (at(p, j) == '*') {
				if (is_part(at(p, j + 1))) {
					perr(p, j, "'*' stands for a whole name part");
					return false;
				}
				if (!name_add(p, j, ".", 1) || !name_star(p, j, false))
					return false;
				j++;
			} else {
				while (is_part(at(p, j)))
					j++;
				if (j == s) {
					perr(p, j, "expected a name part after '.'");
					return false;
				}
				if (!name_add(p, s - 1, p->text + s - 1, j - s + 1))
					return false;
			}
			t->kind = T_NAME;
		} else
			break;
	}
	t->len = j - i;
	return true;
}

static bool
lex_op(struct parser *p, size_t i)
{
	static const struct {
		const char	*text;
		enum tok_kind	 kind;
	} ops[] = {
		{ "<=", T_LE }, { ">=", T_GE }, { "==", T_EQ }, { "!=", T_NE },
		{ "<", T_LT }, { ">", T_GT }, { "(", T_LPAREN }, { ")", T_RPAREN },
		{ ",", T_COMMA }, { "+", T_PLUS }, { "-", T_MINUS }, { "*", T_MUL },
		{ "/", T_DIV },
	};
	size_t k, n;
	char c = at(p, i);

	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		n = strlen(ops[k].text);
		if (i + n <= p->len && memcmp(p->text + i, ops[k].text, n) == 0) {
			p->tok.kind = ops[k].kind;
			p->tok.len = n;
			return true;
		}
	}
	if (c == '=')
		perr(p, i, "expected '==' (a single '=' is not a comparison)");
	else if (c == '!')
		perr(p, i, "expected '!=' (negation is 'not')");
	else if (c == '&' || c == '|')
		perr(p, i, "expected 'and' or 'or' instead of '%c'", c);
	else if (c == '"' || c == '[')
		perr(p, i, "a quoted key belongs after a metric name part, as agg.NAME[\"key\"].octets");
	else if (c >= 0x21 && c < 0x7f)
		perr(p, i, "unexpected character '%c'", c);
	else
		perr(p, i, "unexpected byte 0x%02x", (unsigned char)c);
	return false;
}

static bool
next(struct parser *p)
{
	size_t i = p->tok.pos + p->tok.len;
	char c;

	if (p->failed)
		return false;
	while (i < p->len && is_space(p->text[i]))
		i++;
	p->tok.pos = i;
	p->tok.len = 0;
	if (i >= p->len) {
		p->tok.kind = T_END;
		return true;
	}
	c = p->text[i];
	if (is_digit(c) || (c == '.' && is_digit(at(p, i + 1))))
		return lex_number(p, i);
	if (is_alpha(c) || c == '_')
		return lex_name(p, i);
	return lex_op(p, i);
}

static bool
tok_word(const struct parser *p, const char *w)
{
	return p->tok.kind == T_WORD && strcmp(p->tok.name, w) == 0;
}

static int
new_node(struct parser *p, enum op op, bool is_cond, size_t pos)
{
	struct node *n;

	if (p->e->nnodes >= EXPR_MAX_NODES) {
		perr(p, pos, "more than %d terms", EXPR_MAX_NODES);
		return -1;
	}
	n = &p->e->nodes[p->e->nnodes];
	memset(n, 0, sizeof(*n));
	n->op = (uint8_t)op;
	n->is_cond = is_cond;
	return p->e->nnodes++;
}

static int
new_binary(struct parser *p, enum op op, bool is_cond, int a, int b, size_t pos)
{
	int n;

	if (a < 0 || b < 0 || (n = new_node(p, op, is_cond, pos)) < 0)
		return -1;
	p->e->nodes[n].a = (uint16_t)a;
	p->e->nodes[n].b = (uint16_t)b;
	return n;
}

/* Operand type checks: n at pos must be a number (want_cond false) or a condition. */
static bool
want(struct parser *p, int n, bool want_cond, size_t pos)
{
	if (n < 0)
		return false;
	if (p->e->nodes[n].is_cond == want_cond)
		return true;
	if (want_cond)
		perr(p, pos, "expected a condition (a comparison, nodata(), and, or, not), not a number");
	else
		perr(p, pos, "expected a number, not a condition");
	return false;
}

static bool
enter(struct parser *p)
{
	if (++p->depth > EXPR_MAX_DEPTH) {
		perr(p, p->tok.pos, "nested deeper than %d", EXPR_MAX_DEPTH);
		return false;
	}
	return true;
}

/* The reference table entry for the current name token, shared by equal names. */
static int
add_ref(struct parser *p, const struct tok *t, int64_t lookback)
{
	struct expr *e = p->e;
	struct ref *r;
	uint16_t i;

	for (i = 0; i < e->nrefs; i++) {
		r = &e->refs[i];
		if (r->len == t->namelen && r->star == t->star &&
		    memcmp(r->name, t->name, r->len) == 0)
			break;
	}
	if (i == e->nrefs) {
		r = &e->refs[i];
		if ((r->name = strdup(t->name)) == NULL) {
			perr(p, t->pos, "out of memory");
			return -1;
		}
		r->len = t->namelen;
		r->star = t->star;
		r->key_star = t->key_star;
		r->lookback = 0;
		e->nrefs++;
		if (r->star != NO_STAR)
			e->wildcard = true;
	}
	if (lookback > r->lookback)
		r->lookback = lookback;
	if (lookback > e->lookback)
		e->lookback = lookback;
	return i;
}

/* A duration literal; what names it in messages ("the window"). */
static bool
duration(struct parser *p, const char *what, bool zero_ok, int64_t *ns)
{
	char buf[QUOTE_MAX + 8];

	if (p->tok.kind != T_NUM || p->tok.ns < 0) {
		perr(p, p->tok.pos, "expected a duration such as 5m as %s, not %s", what, tok_text(p, buf));
		return false;
	}
	if (p->tok.ns == 0 && !zero_ok) {
		perr(p, p->tok.pos, "%s must be longer than 0", what);
		return false;
	}
	if (p->tok.ns > EXPR_MAX_DURATION_NS) {
		perr(p, p->tok.pos, "%s is longer than 400d", what);
		return false;
	}
	*ns = p->tok.ns;
	return next(p);
}

/* After a reference or a call: "offset DURATION". */
static bool
parse_offset(struct parser *p, int64_t *off)
{
	*off = 0;
	if (!tok_word(p, "offset"))
		return true;
	return next(p) && duration(p, "the offset", true, off);
}

static int
parse_call(struct parser *p, enum fn fn, const char *fname)
{
	char buf[QUOTE_MAX + 8];
	struct tok ref;
	int64_t window, off;
	size_t pos = p->tok.pos;
	int n, r;

	if (!next(p))
		return -1;
	if (p->tok.kind != T_LPAREN) {
		perr(p, p->tok.pos, "expected '(' after %s", fname);
		return -1;
	}
	if (!next(p))
		return -1;
	if (p->tok.kind != T_NAME) {
		perr(p, p->tok.pos, "expected a metric name as the first argument of %s(), not %s",
		    fname, tok_text(p, buf));
		return -1;
	}
	ref = p->tok;
	if (!next(p))
		return -1;
	if (p->tok.kind != T_COMMA) {
		perr(p, p->tok.pos, "expected ',' and a window after the metric, not %s", tok_text(p, buf));
		return -1;
	}
	if (!next(p) || !duration(p, "the window", false, &window))
		return -1;
	if (p->tok.kind != T_RPAREN) {
		perr(p, p->tok.pos, "expected ')' after the window, not %s", tok_text(p, buf));
		return -1;
	}
	if (!next(p) || !parse_offset(p, &off))
		return -1;
	if ((n = new_node(p, OP_FN, fn == FN_NODATA, pos)) < 0 ||
	    (r = add_ref(p, &ref, window + off)) < 0)
		return -1;
	p->e->nodes[n].fn = (uint8_t)fn;
	p->e->nodes[n].ref = (uint16_t)r;
	p->e->nodes[n].window = window;
	p->e->nodes[n].offset = off;
	return n;
}

static int parse_cond(struct parser *);

static int
parse_primary(struct parser *p)
{
	char buf[QUOTE_MAX + 8];
	size_t pos = p->tok.pos, k;
	int n;

	switch (p->tok.kind) {
	case T_NUM:
		if ((n = new_node(p, OP_NUM, false, pos)) < 0)
			return -1;
		p->e->nodes[n].num = p->tok.num;
		return next(p) ? n : -1;
	case T_LPAREN:
		if (!enter(p) || !next(p) || (n = parse_cond(p)) < 0)
			return -1;
		if (p->tok.kind != T_RPAREN) {
			perr(p, p->tok.pos, "expected ')' to close the '(' of column %zu, not %s",
			    pos + 1, tok_text(p, buf));
			return -1;
		}
		p->depth--;
		return next(p) ? n : -1;
	case T_NAME: {
		struct tok ref = p->tok;
		int64_t off;
		int r;

		if (!next(p) || !parse_offset(p, &off))
			return -1;
		if ((n = new_node(p, OP_REF, false, pos)) < 0 ||
		    (r = add_ref(p, &ref, off > 0 ? off + EXPR_STALE_SINGLE_NS : 0)) < 0)
			return -1;
		p->e->nodes[n].ref = (uint16_t)r;
		p->e->nodes[n].offset = off;
		return n;
	}
	case T_WORD:
		for (k = 0; k < sizeof(functions) / sizeof(functions[0]); k++)
			if (strcmp(p->tok.name, functions[k].name) == 0)
				return parse_call(p, functions[k].fn, functions[k].name);
		if (tok_word(p, "and") || tok_word(p, "or") || tok_word(p, "not") ||
		    tok_word(p, "offset"))
			break;
		perr(p, pos, "unknown function or name %s (a metric name has dot-separated parts, "
		    "as probe.NAME.rtt)", tok_text(p, buf));
		return -1;
	default:
		break;
	}
	perr(p, pos, "expected a number, a metric or '(', not %s", tok_text(p, buf));
	return -1;
}

static int
parse_unary(struct parser *p)
{
	size_t pos = p->tok.pos;
	int a, n;

	if (p->tok.kind != T_MINUS)
		return parse_primary(p);
	if (!enter(p) || !next(p))
		return -1;
	pos = p->tok.pos;
	a = parse_unary(p);
	if (!want(p, a, false, pos) || (n = new_node(p, OP_NEG, false, pos)) < 0)
		return -1;
	p->e->nodes[n].a = (uint16_t)a;
	p->depth--;
	return n;
}

/* Left-associative levels of numbers: prod (* /) and sum (+ -). */
static int
parse_arith(struct parser *p, bool sum)
{
	size_t pos = p->tok.pos;
	int a, b;
	enum op op;

	a = sum ? parse_arith(p, false) : parse_unary(p);
	for (;;) {
		if (a < 0)
			return -1;
		if (sum && p->tok.kind == T_PLUS)
			op = OP_ADD;
		else if (sum && p->tok.kind == T_MINUS)
			op = OP_SUB;
		else if (!sum && p->tok.kind == T_MUL)
			op = OP_MUL;
		else if (!sum && p->tok.kind == T_DIV)
			op = OP_DIV;
		else
			return a;
		if (!want(p, a, false, pos) || !next(p))
			return -1;
		pos = p->tok.pos;
		b = sum ? parse_arith(p, false) : parse_unary(p);
		if (!want(p, b, false, pos))
			return -1;
		a = new_binary(p, op, false, a, b, pos);
	}
}

static bool
cmp_op(enum tok_kind k, enum op *op)
{
	switch (k) {
	case T_LT: *op = OP_LT; return true;
	case T_LE: *op = OP_LE; return true;
	case T_GT: *op = OP_GT; return true;
	case T_GE: *op = OP_GE; return true;
	case T_EQ: *op = OP_EQ; return true;
	case T_NE: *op = OP_NE; return true;
	default: return false;
	}
}

static int
parse_cmp(struct parser *p)
{
	size_t pos = p->tok.pos;
	enum op op, chained;
	int a, b;

	a = parse_arith(p, true);
	if (a < 0 || !cmp_op(p->tok.kind, &op))
		return a;
	if (!want(p, a, false, pos) || !next(p))
		return -1;
	pos = p->tok.pos;
	b = parse_arith(p, true);
	if (!want(p, b, false, pos))
		return -1;
	if (cmp_op(p->tok.kind, &chained)) {
		perr(p, p->tok.pos, "comparisons do not chain; combine them with 'and'");
		return -1;
	}
	return new_binary(p, op, true, a, b, pos);
}

static int
parse_not(struct parser *p)
{
	size_t pos;
	int a, n;

	if (!tok_word(p, "not"))
		return parse_cmp(p);
	if (!enter(p) || !next(p))
		return -1;
	pos = p->tok.pos;
	a = parse_not(p);
	if (!want(p, a, true, pos) || (n = new_node(p, OP_NOT, true, pos)) < 0)
		return -1;
	p->e->nodes[n].a = (uint16_t)a;
	p->depth--;
	return n;
}

/* "or" of "and"s of "not"s, each operand a condition. */
static int
parse_logic(struct parser *p, bool is_or)
{
	const char *word = is_or ? "or" : "and";
	size_t pos = p->tok.pos;
	int a, b;

	a = is_or ? parse_logic(p, false) : parse_not(p);
	while (a >= 0 && tok_word(p, word)) {
		if (!want(p, a, true, pos) || !next(p))
			return -1;
		pos = p->tok.pos;
		b = is_or ? parse_logic(p, false) : parse_not(p);
		if (!want(p, b, true, pos))
			return -1;
		a = new_binary(p, is_or ? OP_OR : OP_AND, true, a, b, pos);
	}
	return a;
}

static int
parse_cond(struct parser *p)
{
	return parse_logic(p, true);
}

/* The left operand of the leftmost comparison: the rule's "value". */
static int
find_value(const struct expr *e, uint16_t n)
{
	const struct node *x = &e->nodes[n];
	int v;

	switch (x->op) {
	case OP_LT: case OP_LE: case OP_GT: case OP_GE: case OP_EQ: case OP_NE:
		return x->a;
	case OP_AND: case OP_OR:
		if ((v = find_value(e, x->a)) >= 0)
			return v;
		return find_value(e, x->b);
	case OP_NOT:
		return find_value(e, x->a);
	default:
		return -1;
	}
}

/* Compiled with room for the maximum; keep only what is used. */
static void
shrink(struct expr *e)
{
	void *x;

	if ((x = realloc(e->nodes, e->nnodes * sizeof(*e->nodes))) != NULL)
		e->nodes = x;
	if (e->nrefs > 0 && (x = realloc(e->refs, e->nrefs * sizeof(*e->refs))) != NULL)
		e->refs = x;
}

void
expr_free(struct expr *e)
{
	uint16_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nrefs; i++)
		free(e->refs[i].name);
	free(e->refs);
	free(e->nodes);
	free(e);
}

struct expr *
expr_compile(const char *text, struct expr_error *err)
{
	struct parser p;
	char buf[QUOTE_MAX + 8];
	int root;

	memset(&p, 0, sizeof(p));
	memset(err, 0, sizeof(*err));
	p.err = err;
	if (text == NULL)
		text = "";
	p.text = text;
	p.len = strnlen(text, EXPR_MAX_LEN + 1);
	if (p.len > EXPR_MAX_LEN) {
		perr(&p, EXPR_MAX_LEN, "expression longer than %d characters", EXPR_MAX_LEN);
		return NULL;
	}
	if ((p.e = calloc(1, sizeof(*p.e))) == NULL ||
	    (p.e->nodes = calloc(EXPR_MAX_NODES, sizeof(*p.e->nodes))) == NULL ||
	    (p.e->refs = calloc(EXPR_MAX_NODES, sizeof(*p.e->refs))) == NULL) {
		perr(&p, 0, "out of memory");
		goto fail;
	}
	if (!next(&p) || (root = parse_cond(&p)) < 0)
		goto fail;
	if (p.tok.kind != T_END) {
		perr(&p, p.tok.pos, "expected an operator, 'and', 'or' or the end, not %s",
		    tok_text(&p, buf));
		goto fail;
	}
	if (!want(&p, root, true, 0))
		goto fail;
	p.e->root = (uint16_t)root;
	p.e->value_node = find_value(p.e, p.e->root);
	shrink(p.e);
	return p.e;
fail:
	if (!p.failed)
		perr(&p, p.tok.pos, "invalid expression");
	expr_free(p.e);
	return NULL;
}

bool
expr_is_wildcard(const struct expr *e)
{
	return e->wildcard;
}

int64_t
expr_max_lookback(const struct expr *e)
{
	return e->lookback;
}

/* The store name of r for instance; false when it cannot be built. */
static bool
ref_name(const struct ref *r, const char *inst, char out[METRIC_NAME_MAX + 1])
{
	size_t il, sl;

	if (r->star == NO_STAR) {
		memcpy(out, r->name, r->len + 1);
		return true;
	}
	if (inst == NULL || (il = strlen(inst)) == 0)
		return false;
	sl = r->len - r->star - 1;
	if (r->star + il + sl > METRIC_NAME_MAX)
		return false;
	memcpy(out, r->name, r->star);
	memcpy(out + r->star, inst, il);
	memcpy(out + r->star + il, r->name + r->star + 1, sl + 1);
	return true;
}

static bool
ref_bind(const struct ref *r, const char *name, size_t nlen, char *inst)
{
	size_t sl = r->len - r->star - 1, il, i;

	if (r->star == NO_STAR || nlen < r->star + sl + 1 ||
	    memcmp(name, r->name, r->star) != 0 ||
	    memcmp(name + nlen - sl, r->name + r->star + 1, sl) != 0)
		return false;
	il = nlen - r->star - sl;
	/* A '*' part stays outside keys; a [*] takes the whole key. */
	for (i = 0; !r->key_star && i < il; i++)
		if (strchr("[]\"", name[r->star + i]) != NULL)
			return false;
	memcpy(inst, name + r->star, il);
	inst[il] = '\0';
	return true;
}

bool
expr_bind(const struct expr *e, const char *name, char inst[METRIC_NAME_MAX + 1])
{
	size_t nlen;
	uint16_t i;

	if (!e->wildcard || name == NULL || (nlen = strlen(name)) > METRIC_NAME_MAX)
		return false;
	for (i = 0; i < e->nrefs; i++)
		if (ref_bind(&e->refs[i], name, nlen, inst))
			return true;
	return false;
}

void
expr_retain(const struct expr *e, struct metric_store *s, const char *instance)
{
	char name[METRIC_NAME_MAX + 1];
	uint32_t id;
	uint16_t i;

	for (i = 0; i < e->nrefs; i++)
		if (e->refs[i].lookback > 0 && ref_name(&e->refs[i], instance, name) &&
		    (id = metric_find(s, name)) != 0)
			metric_retain(s, id, e->refs[i].lookback);
}

/* The distinct instances, in a small open-addressing set of strings. */
struct inst_set {
	char		**slot;
	size_t		 nslots;
	size_t		 count;
	uint64_t	 refused;
	bool		 failed;
};

static size_t
inst_hash(const char *s)
{
	size_t h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static void
inst_add(struct inst_set *set, const char *inst)
{
	size_t i = inst_hash(inst) & (set->nslots - 1);

	for (; set->slot[i] != NULL; i = (i + 1) & (set->nslots - 1))
		if (strcmp(set->slot[i], inst) == 0)
			return;
	if (set->count >= EXPR_MAX_INSTANCES) {
		set->refused++;
		return;
	}
	if ((set->slot[i] = strdup(inst)) == NULL) {
		set->failed = true;
		return;
	}
	set->count++;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
expr_instances(const struct expr *e, const struct metric_store *s, expr_instance_cb cb,
    void *arg, uint64_t *refused)
{
	char inst[METRIC_NAME_MAX + 1];
	struct inst_set set;
	const char *name;
	size_t i, n = 0, nlen, most;
	uint32_t id, count;
	uint16_t r;

	if (!e->wildcard) {
		cb(arg, "");
		return 1;
	}
	/*
	 * Sized for the instances there can be (one per name and reference,
	 * at most EXPR_MAX_INSTANCES), at most half full: a small store does
	 * not zero and sweep the slots of the cap at every evaluation.
	 */
	count = (uint32_t)metric_count(s);
	most = EXPR_MAX_INSTANCES;
	if (count < EXPR_MAX_INSTANCES / e->nrefs)
		most = (size_t)count * e->nrefs;
	memset(&set, 0, sizeof(set));
	for (set.nslots = 1; set.nslots < 2 * most; set.nslots *= 2)
		;
	if ((set.slot = calloc(set.nslots, sizeof(*set.slot))) == NULL)
		return EXPR_INSTANCES_FAILED;
	for (id = 1; id <= count && !set.failed; id++) {
		/* A forgotten metric (metric_forget) has no name: its instance is gone. */
		if ((name = metric_name(s, id)) == NULL)
			continue;
		nlen = strlen(name);
		for (r = 0; r < e->nrefs; r++)
			if (ref_bind(&e->refs[r], name, nlen, inst))
				inst_add(&set, inst);
	}
	/* Compact, sort, report; a partial list is not reported (see expr.h). */
	for (i = 0; i < set.nslots; i++)
		if (set.slot[i] != NULL)
			set.slot[n++] = set.slot[i];
	if (set.failed) {
		for (i = 0; i < n; i++)
			free(set.slot[i]);
		free(set.slot);
		return EXPR_INSTANCES_FAILED;
	}
	qsort(set.slot, n, sizeof(*set.slot), cmp_str);
	/* Counted before the callbacks, so that they can tell a complete list. */
	if (refused != NULL)
		*refused += set.refused;
	for (i = 0; i < n; i++) {
		cb(arg, set.slot[i]);
		free(set.slot[i]);
	}
	free(set.slot);
	return n;
}

size_t
expr_quote_key(char *buf, size_t size, const char *key)
{
	size_t n = 0;

#define PUT(c) do { if (n + 1 < size) buf[n] = (c); n++; } while (0)
	PUT('[');
	PUT('"');
	for (; *key != '\0'; key++) {
		if (*key == '\\' || *key == '"')
			PUT('\\');
		PUT(*key);
	}
	PUT('"');
	PUT(']');
#undef PUT
	if (size > 0)
		buf[n < size ? n : size - 1] = '\0';
	return n;
}

/* Evaluation. */

struct val {
	enum expr_truth	 t;	/* a number: EXPR_TRUE when known */
	double		 v;
};

struct ev {
	const struct expr *e;
	const struct metric_store *s;
	const char	*inst;
	int64_t		 now;
	int64_t		 started;
	uint64_t	 steps;
	bool		 over;
	const char	*why;
	bool		 has_value;
	double		 value;
};

static struct val
unknown(struct ev *ev, const char *why)
{
	if (ev->why == NULL)
		ev->why = why;
	return (struct val){ EXPR_UNKNOWN, 0 };
}

static struct val
number(struct ev *ev, double v)
{
	if (!(v - v == 0))
		return unknown(ev, "not a finite number");
	return (struct val){ EXPR_TRUE, v };
}

static struct val
truth(bool b)
{
	return (struct val){ b ? EXPR_TRUE : EXPR_FALSE, 0 };
}

static bool
spend(struct ev *ev, uint64_t n)
{
	ev->steps += n;
	if (ev->steps > EXPR_MAX_STEPS)
		ev->over = true;
	return !ev->over;
}

/* a - b, saturating: times near the ends of int64 stay ordered. */
static int64_t
sub_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b > 0 ? INT64_MIN : INT64_MAX;
	return r;
}

static uint32_t
ref_id(struct ev *ev, uint16_t ref)
{
	char name[METRIC_NAME_MAX + 1];

	if (!ref_name(&ev->e->refs[ref], ev->inst, name))
		return 0;
	return metric_find(ev->s, name);
}

/* A plain reference: the newest value at now - offset, if not stale. */
static struct val
eval_ref(struct ev *ev, const struct node *x)
{
	struct metric_point tail[TAIL_POINTS];
	int64_t at_ns = sub_sat(ev->now, x->offset), bound;
	uint32_t id = ref_id(ev, x->ref);
	size_t k;

	if (id == 0)
		return unknown(ev, "no such metric");
	if (x->offset > 0 && at_ns < metric_oldest_ns(ev->s, id))
		return unknown(ev, "no history for the offset");
	if ((k = metric_tail(ev->s, id, at_ns, TAIL_POINTS, tail)) == 0)
		return unknown(ev, "no data");
	spend(ev, k);
	/* Stale past 3 recent spacings (at least EXPR_STALE_MIN_NS). */
	bound = EXPR_STALE_SINGLE_NS;
	if (k >= 2) {
		bound = sub_sat(tail[k - 1].t_ns, tail[0].t_ns) / (int64_t)(k - 1);
		bound = bound > INT64_MAX / 3 ? INT64_MAX : bound * 3;
		if (bound < EXPR_STALE_MIN_NS)
			bound = EXPR_STALE_MIN_NS;
	}
	if (sub_sat(at_ns, tail[k - 1].t_ns) > bound)
		return unknown(ev, "stale");
	return number(ev, tail[k - 1].v);
}

struct win {
	struct ev	*ev;
	size_t		 n;
	double		 sum, min, max, first, last, increase;
	int64_t		 t_first, t_last;
	double		*buf;
	size_t		 cap;
};

static void
win_cb(void *arg, const struct metric_point *pt)
{
	struct win *w = arg;

	if (!spend(w->ev, 1))
		return;
	if (w->n == 0) {
		w->first = w->min = w->max = pt->v;
		w->t_first = pt->t_ns;
	} else {
		/* A counter that goes down was reset: count from zero (rate). */
		w->increase += pt->v >= w->last ? pt->v - w->last : pt->v;
		if (pt->v < w->min)
			w->min = pt->v;
		if (pt->v > w->max)
			w->max = pt->v;
	}
	if (w->buf != NULL && w->n < w->cap)
		w->buf[w->n] = pt->v;
	w->sum += pt->v;
	w->last = pt->v;
	w->t_last = pt->t_ns;
	w->n++;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Linear interpolation between the closest ranks (as numpy's default). */
static struct val
percentile(struct ev *ev, uint32_t id, int64_t from, int64_t to, double q)
{
	struct win w;
	size_t n, lo;
	double h, v;

	n = metric_range(ev->s, id, from, to, NULL, NULL);
	if (n == 0)
		return unknown(ev, "no samples in the window");
	if (ev->steps + n > EXPR_MAX_STEPS) {
		ev->over = true;
		return unknown(ev, "evaluation step limit");
	}
	memset(&w, 0, sizeof(w));
	w.ev = ev;
	w.cap = n;
	if ((w.buf = malloc(n * sizeof(*w.buf))) == NULL)
		return unknown(ev, "out of memory");
	metric_range(ev->s, id, from, to, win_cb, &w);
	n = w.n < n ? w.n : n;
	if (n == 0) {
		free(w.buf);
		return unknown(ev, "no samples in the window");
	}
	qsort(w.buf, n, sizeof(*w.buf), cmp_double);
	h = q * (double)(n - 1);
	lo = (size_t)h;
	v = w.buf[lo];
	if (lo + 1 < n)
		v += (h - (double)lo) * (w.buf[lo + 1] - w.buf[lo]);
	free(w.buf);
	return number(ev, v);
}

static struct val
eval_fn(struct ev *ev, const struct node *x)
{
	int64_t to = sub_sat(ev->now, x->offset), from = sub_sat(to, x->window);
	uint32_t id = ref_id(ev, x->ref);
	struct win w;

	memset(&w, 0, sizeof(w));
	w.ev = ev;
	if (x->fn == FN_NODATA || x->fn == FN_COUNT) {
		if (id != 0)
			metric_range(ev->s, id, from, to, win_cb, &w);
		if (x->fn == FN_NODATA && w.n > 0)
			return truth(false);
		/* An empty window means something only once it lies after the start. */
		if (from < ev->started)
			return unknown(ev, "not running for the whole window yet");
		return x->fn == FN_NODATA ? truth(true) : number(ev, (double)w.n);
	}
	if (id == 0)
		return unknown(ev, "no such metric");
	if (x->offset > 0 && from < metric_oldest_ns(ev->s, id))
		return unknown(ev, "no history for the offset");
	switch (x->fn) {
	case FN_MEDIAN:
		return percentile(ev, id, from, to, 0.5);
	case FN_P95:
		return percentile(ev, id, from, to, 0.95);
	case FN_P99:
		return percentile(ev, id, from, to, 0.99);
	default:
		break;
	}
	metric_range(ev->s, id, from, to, win_cb, &w);
	if (w.n == 0)
		return unknown(ev, "no samples in the window");
	switch (x->fn) {
	case FN_AVG:
		return number(ev, w.sum / (double)w.n);
	case FN_MIN:
		return number(ev, w.min);
	case FN_MAX:
		return number(ev, w.max);
	case FN_SUM:
		return number(ev, w.sum);
	case FN_LAST:
		return number(ev, w.last);
	case FN_RATE:
		if (w.n < 2 || w.t_last == w.t_first)
			return unknown(ev, "fewer than 2 samples in the window");
		return number(ev, w.increase /
		    (((double)w.t_last - (double)w.t_first) / NS_PER_SEC));
	case FN_CHANGE:
		if (w.n < 2)
			return unknown(ev, "fewer than 2 samples in the window");
		return number(ev, w.last - w.first);
	default:
		return unknown(ev, "bad function");
	}
}

static struct val eval(struct ev *, uint16_t);

static struct val
eval_arith(struct ev *ev, const struct node *x)
{
	struct val a = eval(ev, x->a), b = eval(ev, x->b);

	if (a.t != EXPR_TRUE || b.t != EXPR_TRUE)
		return unknown(ev, NULL);
	switch (x->op) {
	case OP_ADD:
		return number(ev, a.v + b.v);
	case OP_SUB:
		return number(ev, a.v - b.v);
	case OP_MUL:
		return number(ev, a.v * b.v);
	default:
		if (b.v == 0)
			return unknown(ev, "division by zero");
		return number(ev, a.v / b.v);
	}
}

static struct val
eval_cmp(struct ev *ev, const struct node *x)
{
	struct val a = eval(ev, x->a), b = eval(ev, x->b);

	if (a.t != EXPR_TRUE || b.t != EXPR_TRUE)
		return unknown(ev, NULL);
	switch (x->op) {
	case OP_LT:
		return truth(a.v < b.v);
	case OP_LE:
		return truth(a.v <= b.v);
	case OP_GT:
		return truth(a.v > b.v);
	case OP_GE:
		return truth(a.v >= b.v);
	case OP_EQ:
		return truth(a.v == b.v);
	default:
		return truth(a.v != b.v);
	}
}

/* Kleene: the left side decides alone when it is the dominant value. */
static struct val
eval_logic(struct ev *ev, const struct node *x)
{
	enum expr_truth dom = x->op == OP_AND ? EXPR_FALSE : EXPR_TRUE;
	struct val a, b;

	if ((a = eval(ev, x->a)).t == dom)
		return a;
	if ((b = eval(ev, x->b)).t == dom)
		return b;
	if (a.t == EXPR_UNKNOWN || b.t == EXPR_UNKNOWN)
		return unknown(ev, NULL);
	return a;
}

static struct val
eval(struct ev *ev, uint16_t n)
{
	const struct node *x = &ev->e->nodes[n];
	struct val r;

	if (!spend(ev, 1))
		return unknown(ev, "evaluation step limit");
	switch (x->op) {
	case OP_NUM:
		r = number(ev, x->num);
		break;
	case OP_REF:
		r = eval_ref(ev, x);
		break;
	case OP_FN:
		r = eval_fn(ev, x);
		break;
	case OP_NEG:
		r = eval(ev, x->a);
		if (r.t == EXPR_TRUE)
			r.v = -r.v;
		break;
	case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
		r = eval_arith(ev, x);
		break;
	case OP_LT: case OP_LE: case OP_GT: case OP_GE: case OP_EQ: case OP_NE:
		r = eval_cmp(ev, x);
		break;
	case OP_AND: case OP_OR:
		r = eval_logic(ev, x);
		break;
	default:
		r = eval(ev, x->a);
		if (r.t != EXPR_UNKNOWN)
			r.t = r.t == EXPR_TRUE ? EXPR_FALSE : EXPR_TRUE;
		break;
	}
	if ((int)n == ev->e->value_node && r.t == EXPR_TRUE) {
		ev->has_value = true;
		ev->value = r.v;
	}
	return r;
}

enum expr_truth
expr_eval(const struct expr *e, const struct metric_store *s, const char *instance,
    int64_t now_ns, int64_t started_ns, struct expr_result *res)
{
	struct ev ev;
	struct val r;

	memset(&ev, 0, sizeof(ev));
	ev.e = e;
	ev.s = s;
	ev.inst = instance;
	ev.now = now_ns;
	ev.started = started_ns;
	if (e->wildcard && (instance == NULL || *instance == '\0'))
		r = unknown(&ev, "a wildcard rule needs an instance");
	else
		r = eval(&ev, e->root);
	if (ev.over) {
		r.t = EXPR_UNKNOWN;
		ev.why = "evaluation step limit";
	}
	memset(res, 0, sizeof(*res));
	res->truth = r.t;
	res->has_value = ev.has_value;
	res->value = ev.value;
	res->why = r.t == EXPR_UNKNOWN ? (ev.why != NULL ? ev.why : "unknown") : NULL;
	res->steps = ev.steps;
	return r.t;
}
