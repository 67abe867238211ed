/*
 * Configuration: libconfig file -> struct fp_config.
 *
 * Every section is described by a table of keys (name, kind, field, range);
 * one walker applies the tables, so each setting is checked by the same code
 * and every error has the same shape: "FILE:LINE: SETTING: REASON". Errors are
 * collected, never fatal one by one; the file is walked in order, so they come
 * out in file order. Missing settings are reported on their group's line.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/addr.h"
#include "engine/expr.h"
#include "engine/filter.h"
#include "engine/units.h"
#include "subagent/config.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define DEFAULT_STATE_FILE LOCALSTATEDIR "/lib/flowpath/alarms.state"

#define MSG_MAX		768
#define PATH_BUF	160	/* "aggregations[999].key[3]" and unknown names, truncated */
#define QUOTE_MAX	64	/* characters of user text echoed in a message */
#define QUOTE_BUF	(QUOTE_MAX * 4 + 8)
#define UNIX_PATH_MAX	107	/* sizeof(sun_path) - 1 */
#define HOSTNAME_MAX	253
#define NS		UNITS_NS_PER_SEC

struct ctx {
	const char	*file;
	config_t	*lc;
	struct config_errors *errs;
	size_t		 nerrors;
	/* The list of groups being walked, for duplicate names. */
	config_setting_t *list;
	char		*items;
	size_t		 itemsize;
	size_t		 index;
};

enum key_kind {
	K_INT, K_SECONDS, K_STRING, K_BOOL, K_ENUM, K_ENUM_TEXT, K_NAME,
	K_GROUP, K_LIST, K_ADDRS, K_FUNC
};

#define F_NONEMPTY	0x1
#define F_ABSPATH	0x2
#define F_EMPTY_OK	0x4	/* with F_ABSPATH: "" is allowed and means none */

struct key;
typedef void key_fn(struct ctx *, config_setting_t *, const char *, void *,
    const struct key *);
typedef const char *text_fn(const char *, void *);

struct key {
	const char	*name;
	enum key_kind	 kind;
	bool		 required;
	size_t		 off, width;	/* the field; for lists, the array pointer */
	size_t		 off_n;		/* for lists, the element count */
	int64_t		 min, max;	/* value, length or element-count bounds */
	const char	*unit;		/* appended to range messages */
	const char *const *choices;	/* K_ENUM, K_ENUM_TEXT, transports */
	unsigned	 flags;
	const void	*sub;		/* K_GROUP: keys; K_LIST: struct list_spec */
	text_fn		*parse_text;	/* K_ADDRS */
	size_t		 elsize;	/* K_ADDRS */
	key_fn		*fn;		/* K_FUNC */
	const char	*hint;		/* K_FUNC transports: the accepted forms */
};

struct list_spec {
	size_t		 size;
	const struct key *keys;
	void		 (*init)(void *);
	void		 (*check)(struct ctx *, config_setting_t *, const char *, void *);
	/* After the group's keys, only when they had no error: checks across keys. */
	void		 (*post)(struct ctx *, config_setting_t *, const char *, void *);
};

#define FIELD(type, m)	.off = offsetof(type, m), .width = sizeof(((type *)0)->m)
#define ARRAY(type, p, n) .off = offsetof(type, p), .off_n = offsetof(type, n)

static void walk_group(struct ctx *, config_setting_t *, const char *,
    const struct key *, void *);

/* Messages */

static void
add_error(struct ctx *c, const char *msg)
{
	struct config_errors *e = c->errs;

	c->nerrors++;
	if (e->count >= CONFIG_MAX_ERRORS ||
	    (e->msg[e->count] = strdup(msg)) == NULL) {
		e->dropped++;
		return;
	}
	e->count++;
}

static void __attribute__((format(printf, 4, 5)))
cfg_error(struct ctx *c, const config_setting_t *s, const char *path,
    const char *fmt, ...)
{
	char reason[MSG_MAX], msg[MSG_MAX * 2];
	const char *file = config_setting_source_file(s);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s:%u: %s: %s", file ? file : c->file,
	    config_setting_source_line(s), path, reason);
	add_error(c, msg);
}

static void
file_error(struct ctx *c, const char *reason)
{
	char msg[MSG_MAX];

	snprintf(msg, sizeof(msg), "%s: %s", c->file, reason);
	add_error(c, msg);
}

/* User text in double quotes, escaped and cut, so a message stays one line. */
static const char *
quote(const char *in, char *buf)
{
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; in[i] != '\0' && i < QUOTE_MAX; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			o += (size_t)snprintf(buf + o, QUOTE_BUF - o, "\\x%02x", ch);
		} else
			buf[o++] = (char)ch;
	}
	if (in[i] != '\0') {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:	return "an integer";
	case CONFIG_TYPE_FLOAT:	return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL:	return "a boolean";
	case CONFIG_TYPE_GROUP:	return "a group";
	case CONFIG_TYPE_ARRAY:	return "an array";
	case CONFIG_TYPE_LIST:	return "a list";
	default:		return "nothing";
	}
}

static void
type_error(struct ctx *c, config_setting_t *s, const char *path, const char *want)
{
	cfg_error(c, s, path, "must be %s (got %s)", want, type_name(s));
}

/* Setting paths are cut at PATH_BUF; an unknown name can be arbitrarily long. */
static void __attribute__((format(printf, 2, 3)))
path_printf(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_BUF, fmt, ap);
	va_end(ap);
}

static void
join_path(char *buf, const char *parent, const char *name)
{
	const char *n = name ? name : "?";

	if (parent[0] == '\0')
		path_printf(buf, "%s", n);
	else
		path_printf(buf, "%s.%s", parent, n);
}

static void
index_path(char *buf, const char *parent, int i)
{
	path_printf(buf, "%s[%d]", parent, i);
}

/* Field access */

static void *
field(void *obj, size_t off)
{
	return (char *)obj + off;
}

static void
store_int(void *obj, const struct key *k, int64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (k->width) {
	case 1:	memcpy(field(obj, k->off), &u8, 1); break;
	case 4:	memcpy(field(obj, k->off), &u32, 4); break;
	default: memcpy(field(obj, k->off), &v, 8); break;
	}
}

static void
store_text(void *obj, const struct key *k, char *text)
{
	char **slot = field(obj, k->off);

	free(*slot);
	*slot = text;
}

static bool
dup_text(struct ctx *c, const char *text, char **out)
{
	if ((*out = strdup(text)) == NULL) {
		file_error(c, "out of memory");
		return false;
	}
	return true;
}

/* Scalars */

static bool
get_int(struct ctx *c, config_setting_t *s, const char *path,
    const struct key *k, int64_t *v)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		type_error(c, s, path, "an integer");
		return false;
	}
	*v = config_setting_get_int64(s);
	if (*v < k->min || *v > k->max) {
		cfg_error(c, s, path, "must be between %lld and %lld%s (got %lld)",
		    (long long)k->min, (long long)k->max, k->unit ? k->unit : "",
		    (long long)*v);
		return false;
	}
	return true;
}

static void
seconds_range_error(struct ctx *c, config_setting_t *s, const char *path,
    const struct key *k, double got)
{
	cfg_error(c, s, path, "must be between %.10g and %.10g seconds (got %.10g)",
	    (double)k->min / NS, (double)k->max / NS, got);
}

/* Seconds as an integer, a float, or a duration string such as "500ms". */
static bool
get_ns(struct ctx *c, config_setting_t *s, const char *path,
    const struct key *k, int64_t *ns)
{
	char q[QUOTE_BUF];
	const char *reason, *text;
	double secs;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		text = config_setting_get_string(s);
		if ((reason = units_parse_duration(text, ns)) != NULL) {
			cfg_error(c, s, path, "%s: %s", reason, quote(text, q));
			return false;
		}
		secs = (double)*ns / NS;
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		secs = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		secs = config_setting_get_float(s);
		break;
	default:
		type_error(c, s, path, "a number of seconds or a duration");
		return false;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING &&
	    (!(secs >= (double)k->min / NS && secs <= (double)k->max / NS) ||
	    units_seconds_to_ns(secs, ns) != NULL)) {
		seconds_range_error(c, s, path, k, secs);
		return false;
	}
	if (*ns < k->min || *ns > k->max) {
		seconds_range_error(c, s, path, k, secs);
		return false;
	}
	return true;
}

static const char *
get_text(struct ctx *c, config_setting_t *s, const char *path)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		type_error(c, s, path, "a string");
		return NULL;
	}
	return config_setting_get_string(s);
}

static bool
text_ok(struct ctx *c, config_setting_t *s, const char *path,
    const struct key *k, const char *text)
{
	char q[QUOTE_BUF];

	if (strnlen(text, (size_t)k->max + 1) > (size_t)k->max) {
		cfg_error(c, s, path, "too long (at most %lld characters)",
		    (long long)k->max);
		return false;
	}
	if (text[0] == '\0' && (k->flags & F_EMPTY_OK))
		return true;
	if (text[0] == '\0' && (k->flags & (F_NONEMPTY | F_ABSPATH))) {
		cfg_error(c, s, path, "must not be empty");
		return false;
	}
	if ((k->flags & F_ABSPATH) && text[0] != '/') {
		cfg_error(c, s, path, "must be an absolute path (got %s)",
		    quote(text, q));
		return false;
	}
	return true;
}

static int
find_choice(const char *const *choices, const char *text)
{
	int i;

	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(choices[i], text) == 0)
			return i;
	return -1;
}

static int
get_choice(struct ctx *c, config_setting_t *s, const char *path,
    const char *const *choices)
{
	char list[MSG_MAX], q[QUOTE_BUF];
	const char *text;
	size_t o = 0;
	int i;

	if ((text = get_text(c, s, path)) == NULL)
		return -1;
	if ((i = find_choice(choices, text)) >= 0)
		return i;
	list[0] = '\0';
	for (i = 0; choices[i] != NULL && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    i ? ", " : "", choices[i]);
	cfg_error(c, s, path, "must be one of %s (got %s)", list, quote(text, q));
	return -1;
}

static bool
name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

static bool
name_ok(const char *text)
{
	size_t i;

	for (i = 0; text[i] != '\0'; i++)
		if (i >= CONFIG_NAME_MAX || !name_char_ok(text[i]))
			return false;
	return i > 0;
}

/* Names index MIB rows, so each must be unique within its list. */
static void
check_duplicate(struct ctx *c, config_setting_t *s, const char *path,
    const struct key *k, const char *name)
{
	config_setting_t *first;
	char q[QUOTE_BUF];
	size_t j;

	if (c->items == NULL)
		return;
	for (j = 0; j < c->index; j++) {
		if (strcmp(c->items + j * c->itemsize + k->off, name) != 0)
			continue;
		first = config_setting_get_member(
		    config_setting_get_elem(c->list, (unsigned)j), k->name);
		cfg_error(c, s, path, "duplicate name %s (first at line %u)",
		    quote(name, q), first ? config_setting_source_line(first) : 0);
		return;
	}
}

static void
parse_name(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	char q[QUOTE_BUF];
	const char *text;

	if ((text = get_text(c, s, path)) == NULL)
		return;
	if (!name_ok(text)) {
		cfg_error(c, s, path, "must be 1 to %d characters of A-Z a-z 0-9 . _ - "
		    "(got %s)", CONFIG_NAME_MAX, quote(text, q));
		return;
	}
	check_duplicate(c, s, path, k, text);
	memcpy(field(obj, k->off), text, strlen(text) + 1);
}

/* Lists */

/* A list's length after its type and bounds are checked; -1 on error. */
static int
list_length(struct ctx *c, config_setting_t *s, const char *path,
    const struct key *k, bool scalar_ok)
{
	int t = config_setting_type(s), n;

	if (scalar_ok && t == CONFIG_TYPE_STRING)
		return 1;
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		type_error(c, s, path, "a list of strings [ \"...\", ... ]");
		return -1;
	}
	n = config_setting_length(s);
	if (n < k->min || n > k->max) {
		cfg_error(c, s, path, "must have between %lld and %lld elements (got %d)",
		    (long long)k->min, (long long)k->max, n);
		return -1;
	}
	return n;
}

/* Element i of a list, or the setting itself when one string stands for a list. */
static config_setting_t *
list_elem(config_setting_t *s, int i, const char *path, char *ipath)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		path_printf(ipath, "%s", path);
		return s;
	}
	index_path(ipath, path, i);
	return config_setting_get_elem(s, (unsigned)i);
}

static void *
alloc_array(struct ctx *c, void *obj, const struct key *k, int n, size_t size)
{
	void *items = calloc((size_t)n, size);

	if (items == NULL) {
		file_error(c, "out of memory");
		return NULL;
	}
	memcpy(field(obj, k->off), &items, sizeof(items));
	return items;
}

static void
set_count(void *obj, const struct key *k, size_t n)
{
	memcpy(field(obj, k->off_n), &n, sizeof(n));
}

/* A list of addresses, prefixes or endpoints, each parsed by k->parse_text. */
static void
walk_addrs(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	char ipath[PATH_BUF], q[QUOTE_BUF];
	config_setting_t *e;
	const char *text, *reason;
	char *items;
	int n, i;
	size_t used = 0;

	if ((n = list_length(c, s, path, k, true)) <= 0 ||
	    (items = alloc_array(c, obj, k, n, k->elsize)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = list_elem(s, i, path, ipath);
		if ((text = get_text(c, e, ipath)) == NULL)
			continue;
		if ((reason = k->parse_text(text, items + used * k->elsize)) != NULL)
			cfg_error(c, e, ipath, "%s: %s", reason, quote(text, q));
		else
			used++;
	}
	set_count(obj, k, used);
}

static void
walk_list(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	const struct list_spec *ls = k->sub;
	char ipath[PATH_BUF];
	config_setting_t *g;
	char *items;
	size_t before;
	int n, i;

	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		type_error(c, s, path, "a list of groups ( { ... }, ... )");
		return;
	}
	if ((n = list_length(c, s, path, k, false)) <= 0 ||
	    (items = alloc_array(c, obj, k, n, ls->size)) == NULL)
		return;
	set_count(obj, k, (size_t)n);
	for (i = 0; i < n; i++)
		ls->init(items + (size_t)i * ls->size);
	c->list = s;
	c->items = items;
	c->itemsize = ls->size;
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(s, (unsigned)i);
		index_path(ipath, path, i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			type_error(c, g, ipath, "a group { ... }");
			continue;
		}
		c->index = (size_t)i;
		before = c->nerrors;
		if (ls->check != NULL)
			ls->check(c, g, ipath, items + (size_t)i * ls->size);
		walk_group(c, g, ipath, ls->keys, items + (size_t)i * ls->size);
		if (ls->post != NULL && c->nerrors == before)
			ls->post(c, g, ipath, items + (size_t)i * ls->size);
	}
	c->items = NULL;
}

/* The walker */

static void
parse_key(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	const char *text;
	char *copy;
	int64_t v;
	int i;

	switch (k->kind) {
	case K_INT:
		if (get_int(c, s, path, k, &v))
			store_int(obj, k, v);
		break;
	case K_SECONDS:
		if (!get_ns(c, s, path, k, &v))
			break;
		if (k->width == sizeof(int64_t))
			store_int(obj, k, v);
		else if (v % NS != 0)
			cfg_error(c, s, path, "must be a whole number of seconds "
			    "(got %.10g)", (double)v / NS);
		else
			store_int(obj, k, v / NS);
		break;
	case K_STRING:
		if ((text = get_text(c, s, path)) != NULL &&
		    text_ok(c, s, path, k, text) && dup_text(c, text, &copy))
			store_text(obj, k, copy);
		break;
	case K_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			type_error(c, s, path, "a boolean");
		else
			*(bool *)field(obj, k->off) = config_setting_get_bool(s);
		break;
	case K_ENUM:
		if ((i = get_choice(c, s, path, k->choices)) >= 0)
			memcpy(field(obj, k->off), &i, sizeof(i));
		break;
	case K_ENUM_TEXT:
		if ((i = get_choice(c, s, path, k->choices)) >= 0 &&
		    dup_text(c, k->choices[i], &copy))
			store_text(obj, k, copy);
		break;
	case K_NAME:
		parse_name(c, s, path, obj, k);
		break;
	case K_GROUP:
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			type_error(c, s, path, "a group { ... }");
		else
			walk_group(c, s, path, k->sub, obj);
		break;
	case K_LIST:
		walk_list(c, s, path, obj, k);
		break;
	case K_ADDRS:
		walk_addrs(c, s, path, obj, k);
		break;
	case K_FUNC:
		k->fn(c, s, path, obj, k);
		break;
	}
}

static const struct key *
find_key(const struct key *keys, const char *name)
{
	const struct key *k;

	for (k = keys; name != NULL && k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static void
walk_group(struct ctx *c, config_setting_t *g, const char *path,
    const struct key *keys, void *obj)
{
	char kpath[PATH_BUF];
	config_setting_t *s;
	const struct key *k;
	int i, n = config_setting_length(g);

	for (k = keys; k->name != NULL; k++) {
		if (k->required && config_setting_get_member(g, k->name) == NULL) {
			join_path(kpath, path, k->name);
			cfg_error(c, g, kpath, "required setting is missing");
		}
	}
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		join_path(kpath, path, config_setting_name(s));
		if ((k = find_key(keys, config_setting_name(s))) == NULL)
			cfg_error(c, s, kpath, "unknown setting");
		else
			parse_key(c, s, kpath, obj, k);
	}
}

/* Section-specific checks */

static bool
hostname_ok(const char *h)
{
	size_t i, n = strnlen(h, HOSTNAME_MAX + 1);

	if (n == 0 || n > HOSTNAME_MAX || h[0] == '-' || h[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!name_char_ok(h[i]) || h[i] == '_')
			return false;
	return true;
}

/* "tcp:HOST:PORT", "udp6:[ADDR]:PORT", "unix:/PATH": Net-SNMP transport forms. */
static const char *
transport_reason(const char *text, const char *const *allowed, const char *hint)
{
	const char *colon = strchr(text, ':'), *rest, *last;
	char proto[8], host[HOSTNAME_MAX + 1];
	struct addr_endpoint ep;
	struct addr a;
	uint16_t port;
	size_t plen;

	if (colon == NULL || (plen = (size_t)(colon - text)) >= sizeof(proto))
		return hint;
	memcpy(proto, text, plen);
	proto[plen] = '\0';
	rest = colon + 1;
	if (find_choice(allowed, proto) < 0)
		return hint;
	if (strcmp(proto, "unix") == 0)
		return rest[0] == '/' && strnlen(rest, UNIX_PATH_MAX + 1) <= UNIX_PATH_MAX ?
		    NULL : "unix socket path must be absolute and at most 107 bytes";
	if (proto[plen - 1] == '6')
		return addr_parse_endpoint(rest, &ep) != NULL || ep.addr.family != ADDR_V6 ?
		    hint : NULL;
	if ((last = strrchr(rest, ':')) == NULL || (size_t)(last - rest) > HOSTNAME_MAX)
		return hint;
	memcpy(host, rest, (size_t)(last - rest));
	host[last - rest] = '\0';
	if (addr_parse(host, &a) == NULL ? a.family != ADDR_V4 : !hostname_ok(host))
		return hint;
	return addr_parse_port(last + 1, &port);
}

static void
parse_transport(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	char q[QUOTE_BUF], *copy;
	const char *text, *reason;

	if ((text = get_text(c, s, path)) == NULL)
		return;
	if ((reason = transport_reason(text, k->choices, k->hint)) == k->hint)
		cfg_error(c, s, path, "must be %s (got %s)", k->hint, quote(text, q));
	else if (reason != NULL)
		cfg_error(c, s, path, "%s: %s", reason, quote(text, q));
	else if (dup_text(c, text, &copy))
		store_text(obj, k, copy);
}

/*
 * The community goes into Net-SNMP's VACM configuration lines as one word:
 * no spaces, no quotes, no backslashes, nothing outside printable ASCII.
 */
static void
parse_community(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	char q[QUOTE_BUF], *copy;
	const char *text;
	size_t i, n;

	if ((text = get_text(c, s, path)) == NULL)
		return;
	n = strnlen(text, (size_t)k->max + 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch <= ' ' || ch > '~' || ch == '"' || ch == '\'' || ch == '\\')
			break;
	}
	if (n == 0 || n > (size_t)k->max || i < n)
		cfg_error(c, s, path, "must be 1 to %lld printable ASCII characters without "
		    "spaces, quotes or backslashes (got %s)", (long long)k->max, quote(text, q));
	else if (dup_text(c, text, &copy))
		store_text(obj, k, copy);
}

static bool
networks_defined(struct ctx *c)
{
	config_setting_t *n = config_lookup(c->lc, "networks");

	return n != NULL && config_setting_is_aggregate(n) &&
	    config_setting_length(n) > 0;
}

static void
parse_agg_keys(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	struct cfg_aggregation *agg = obj;
	char ipath[PATH_BUF], q[QUOTE_BUF];
	config_setting_t *e;
	int n, i, key;
	size_t j;

	if ((n = list_length(c, s, path, k, true)) < 0)
		return;
	for (i = 0; i < n; i++) {
		e = list_elem(s, i, path, ipath);
		if ((key = get_choice(c, e, ipath, k->choices)) < 0)
			continue;
		for (j = 0; j < agg->nkeys && agg->key[j] != (enum key_field)key; j++)
			;
		if (j < agg->nkeys)
			cfg_error(c, e, ipath, "duplicate key %s",
			    quote(k->choices[key], q));
		else if ((key == KEY_SRC_NETWORK || key == KEY_DST_NETWORK) &&
		    !networks_defined(c))
			cfg_error(c, e, ipath, "%s needs at least one group in networks",
			    quote(k->choices[key], q));
		else
			agg->key[agg->nkeys++] = (enum key_field)key;
	}
}

static const char *const probe_types[] = { "icmp", "udp", "tcp", NULL };

/*
 * ICMP targets an address; UDP and TCP an address and port. The common
 * mix-up (a port where none belongs, or none where one is needed) is named
 * as such rather than as a malformed address.
 */
static void
parse_probe_target(struct ctx *c, config_setting_t *s, const char *path,
    void *obj, const struct key *k)
{
	struct cfg_probe *p = obj;
	config_setting_t *type = config_setting_get_member(config_setting_parent(s), "type");
	const char *text, *t, *reason;
	struct addr_endpoint ep;
	char q[QUOTE_BUF];

	if ((text = get_text(c, s, path)) == NULL || type == NULL ||
	    (t = config_setting_get_string(type)) == NULL ||
	    find_choice(probe_types, t) < 0)
		return;
	if (strcmp(t, "icmp") == 0) {
		p->target.port = 0;
		reason = addr_parse(text, &p->target.addr);
		if (reason != NULL && addr_parse_endpoint(text, &ep) == NULL)
			reason = "an icmp target is an address without a port";
	} else {
		reason = addr_parse_endpoint(text, &p->target);
		if (reason != NULL && addr_parse(text, &ep.addr) == NULL)
			reason = strcmp(t, "udp") == 0 ?
			    "a udp target needs a port (ADDRESS:PORT or [ADDRESS]:PORT)" :
			    "a tcp target needs a port (ADDRESS:PORT or [ADDRESS]:PORT)";
	}
	if (reason != NULL)
		cfg_error(c, s, path, "%s: %s", reason, quote(text, q));
}

/* tos is the whole octet; dscp its upper six bits (RFC 2474): one of the two. */
static void
check_probe(struct ctx *c, config_setting_t *g, const char *path, void *item)
{
	if (config_setting_get_member(g, "tos") != NULL &&
	    config_setting_get_member(g, "dscp") != NULL)
		cfg_error(c, g, path, "set tos or dscp, not both");
}

/*
 * The window holds the samples the statistics are taken over: shorter than
 * one interval it would hold at most one send, and often none.
 */
static void
post_probe(struct ctx *c, config_setting_t *g, const char *path, void *item)
{
	struct cfg_probe *p = item;
	config_setting_t *w = config_setting_get_member(g, "window");
	char kpath[PATH_BUF];

	if (config_setting_get_member(g, "dscp") != NULL)
		p->tos = (uint8_t)(p->dscp << 2);
	/* fpProbeWindow is in seconds. */
	if (w != NULL && p->window_ns % NS != 0) {
		join_path(kpath, path, "window");
		cfg_error(c, w, kpath, "must be a whole number of seconds (got %.10g)",
		    (double)p->window_ns / NS);
		return;
	}
	if (p->window_ns >= p->interval_ns)
		return;
	join_path(kpath, path, w != NULL ? "window" : "interval");
	cfg_error(c, w != NULL ? w : config_setting_get_member(g, "interval"), kpath,
	    "the window (%.10g s) must be at least the interval (%.10g s)",
	    (double)p->window_ns / NS, (double)p->interval_ns / NS);
}

/* collector.exporters[].address: one address, each listed once. */
static void
parse_exporter_address(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	struct cfg_exporter *e = obj;
	const char *text, *reason;
	char q[QUOTE_BUF], a[ADDR_STRLEN];

	if ((text = get_text(c, s, path)) == NULL)
		return;
	if ((reason = addr_parse(text, &e->address)) != NULL) {
		cfg_error(c, s, path, "%s: %s", reason, quote(text, q));
		return;
	}
	for (size_t j = 0; c->items != NULL && j < c->index; j++) {
		const struct cfg_exporter *prev = (const struct cfg_exporter *)
		    (c->items + j * c->itemsize);

		if (memcmp(&prev->address, &e->address, sizeof(e->address)) == 0) {
			addr_format(&e->address, a, sizeof(a));
			cfg_error(c, s, path, "exporter %s is listed twice", a);
			return;
		}
	}
}

static void
check_capture(struct ctx *c, config_setting_t *g, const char *path, void *item)
{
	if ((config_setting_get_member(g, "interface") == NULL) ==
	    (config_setting_get_member(g, "file") == NULL))
		cfg_error(c, g, path, "needs exactly one of interface and file");
}

/*
 * A built-in alarm: false switches it off, true keeps its default, a
 * duration sets its window.
 */
static void
parse_alarm_window(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	int64_t ns;

	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		if (!config_setting_get_bool(s))
			store_int(obj, k, 0);
	} else if (get_ns(c, s, path, k, &ns))
		store_int(obj, k, ns);
}

/* A ratio: false (off), true (the default), 0.01, or "1%". */
static void
parse_alarm_ratio(struct ctx *c, config_setting_t *s, const char *path, void *obj,
    const struct key *k)
{
	double *v = field(obj, k->off), r;
	const char *text;
	char q[QUOTE_BUF], *end;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_BOOL:
		if (!config_setting_get_bool(s))
			*v = 0;
		return;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		r = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		r = config_setting_get_float(s);
		break;
	case CONFIG_TYPE_STRING:
		text = config_setting_get_string(s);
		r = strtod(text, &end);
		if (end == text || strcmp(end, "%") != 0) {
			cfg_error(c, s, path, "must be a ratio such as 0.01 or a percentage "
			    "such as \"1%%\" (got %s)", quote(text, q));
			return;
		}
		r /= 100;
		break;
	default:
		type_error(c, s, path, "a ratio, a percentage or a boolean");
		return;
	}
	if (!(r > 0 && r <= 1))
		cfg_error(c, s, path, "must be above 0 and at most 1 (100%%) (got %.10g)", r);
	else
		*v = r;
}

/* Tables */

static const char *adapt_endpoint(const char *t, void *o) { return addr_parse_endpoint(t, o); }
static const char *adapt_prefix(const char *t, void *o) { return addr_parse_prefix(t, o); }

#define ENDPOINTS(type, p, n, lo) .kind = K_ADDRS, ARRAY(type, p, n), .min = lo, \
	.max = CONFIG_MAX_LISTEN, .parse_text = adapt_endpoint, \
	.elsize = sizeof(struct addr_endpoint)
#define PREFIXES(type, p, n, lo) .kind = K_ADDRS, ARRAY(type, p, n), .min = lo, \
	.max = CONFIG_MAX_PREFIXES, .parse_text = adapt_prefix, \
	.elsize = sizeof(struct addr_prefix)
#define NAME(type) { .name = "name", .kind = K_NAME, .required = true, FIELD(type, name) }
#define TEXT(n, type, m, len, fl) { .name = n, .kind = K_STRING, FIELD(type, m), \
	.max = len, .flags = fl }
#define SECONDS(n, type, m, lo, hi) { .name = n, .kind = K_SECONDS, FIELD(type, m), \
	.min = (int64_t)(lo), .max = (int64_t)(hi) }
#define INT(n, type, m, lo, hi, u) { .name = n, .kind = K_INT, FIELD(type, m), \
	.min = lo, .max = hi, .unit = u }

static const char *const agentx_transports[] = { "tcp", "tcp6", "unix", NULL };
static const char *const agent_transports[] = { "udp", "tcp", "udp6", "tcp6", NULL };
static const char *const log_levels[] = { "debug", "info", "warning", "error", NULL };
static const char *const severities[] = { "warning", "critical", NULL };
static const char *const agg_keys[CFG_AGG_KEY_COUNT + 1] = {
	"src_addr", "dst_addr", "src_port", "dst_port", "proto", "next_hop",
	"src_as", "dst_as", "src_prefix", "dst_prefix", "src_network",
	"dst_network", "in_if", "out_if", "tos", "exporter", NULL
};

static const struct key agentx_keys[] = {
	{ .name = "socket", .kind = K_FUNC, FIELD(struct fp_config, agentx.socket),
	  .fn = parse_transport, .choices = agentx_transports,
	  .hint = "tcp:HOST:PORT, tcp6:[ADDRESS]:PORT or unix:/PATH" },
	SECONDS("ping_interval", struct fp_config, agentx.ping_interval, NS, 3600 * NS),
	SECONDS("timeout", struct fp_config, agentx.timeout, NS, 60 * NS),
	INT("retries", struct fp_config, agentx.retries, 0, 10, ""),
	{ 0 }
};

static const struct key agent_keys[] = {
	{ .name = "listen", .kind = K_FUNC, FIELD(struct fp_config, agent.listen),
	  .fn = parse_transport, .choices = agent_transports,
	  .hint = "udp:HOST:PORT, tcp:HOST:PORT, udp6:[ADDRESS]:PORT or tcp6:[ADDRESS]:PORT" },
	{ .name = "community", .kind = K_FUNC, FIELD(struct fp_config, agent.community),
	  .fn = parse_community, .max = CONFIG_COMMUNITY_MAX },
	{ .name = "allow", .kind = K_ADDRS, ARRAY(struct fp_config, agent.allow, agent.nallow),
	  .min = 1, .max = CONFIG_MAX_AGENT_ALLOW, .parse_text = adapt_prefix,
	  .elsize = sizeof(struct addr_prefix) },
	{ .name = "trap_sink", .kind = K_ADDRS, ARRAY(struct fp_config, agent.trap_sink,
	  agent.ntrap_sink), .min = 0, .max = CONFIG_MAX_TRAP_SINKS, .parse_text = adapt_endpoint,
	  .elsize = sizeof(struct addr_endpoint) },
	{ 0 }
};

static const struct key daemon_keys[] = {
	TEXT("pidfile", struct fp_config, daemon.pidfile, CONFIG_PATH_MAX, F_ABSPATH | F_EMPTY_OK),
	{ .name = "log_level", .kind = K_ENUM_TEXT, FIELD(struct fp_config, daemon.log_level),
	  .choices = log_levels },
	TEXT("state_file", struct fp_config, daemon.state_file, CONFIG_PATH_MAX,
	    F_ABSPATH | F_EMPTY_OK),
	{ 0 }
};

static const struct key exporter_keys[] = {
	{ .name = "address", .kind = K_FUNC, .required = true, .fn = parse_exporter_address },
	INT("sampling", struct cfg_exporter, sampling, 1, 1000000000, ""),
	{ 0 }
};

static void
init_exporter(void *item)
{
	((struct cfg_exporter *)item)->sampling = 1;
}

static const struct list_spec exporters_spec =
	{ sizeof(struct cfg_exporter), exporter_keys, init_exporter, NULL, NULL };

static const struct key collector_keys[] = {
	{ .name = "listen", ENDPOINTS(struct fp_config, collector.listen, collector.nlisten, 0) },
	{ .name = "allow", PREFIXES(struct fp_config, collector.allow, collector.nallow, 0) },
	INT("receive_buffer", struct fp_config, collector.receive_buffer, 0,
	    INT64_C(1) << 30, " bytes"),
	INT("max_exporters", struct fp_config, collector.max_exporters, 1, 1000000, ""),
	INT("max_templates", struct fp_config, collector.max_templates, 1, 65535, ""),
	INT("max_template_bytes", struct fp_config, collector.max_template_bytes,
	    65536, INT64_C(1) << 30, " bytes"),
	{ .name = "exporters", .kind = K_LIST, .sub = &exporters_spec,
	  ARRAY(struct fp_config, collector.exporters, collector.nexporters),
	  .max = CONFIG_MAX_EXPORTERS },
	{ 0 }
};

static const struct key network_keys[] = {
	NAME(struct cfg_network),
	{ .name = "prefixes", .required = true,
	  PREFIXES(struct cfg_network, prefixes, nprefixes, 1) },
	{ 0 }
};

static const struct key aggregation_keys[] = {
	NAME(struct cfg_aggregation),
	{ .name = "key", .kind = K_FUNC, .required = true, .fn = parse_agg_keys,
	  .min = 1, .max = CFG_AGG_MAX_KEYS, .choices = agg_keys },
	TEXT("filter", struct cfg_aggregation, filter, CONFIG_EXPR_MAX, F_NONEMPTY),
	SECONDS("interval", struct cfg_aggregation, interval, 10 * NS, 86400 * NS),
	INT("top", struct cfg_aggregation, top, 1, 10000, ""),
	INT("capacity", struct cfg_aggregation, capacity, 100, 10000000, ""),
	SECONDS("retention", struct cfg_aggregation, retention, 0, 30 * 86400 * NS),
	{ 0 }
};

static const struct key probe_keys[] = {
	NAME(struct cfg_probe),
	{ .name = "type", .kind = K_ENUM, .required = true, FIELD(struct cfg_probe, type),
	  .choices = probe_types },
	{ .name = "target", .kind = K_FUNC, .required = true, .fn = parse_probe_target },
	SECONDS("interval", struct cfg_probe, interval_ns, NS / 100, 86400 * NS),
	SECONDS("timeout", struct cfg_probe, timeout_ns, NS / 100, 60 * NS),
	INT("size", struct cfg_probe, size, 0, 65000, " bytes"),
	INT("tos", struct cfg_probe, tos, 0, 255, ""),
	INT("dscp", struct cfg_probe, dscp, 0, 63, ""),
	SECONDS("window", struct cfg_probe, window_ns, NS, 86400 * NS),
	{ 0 }
};

static const struct key reflector_keys[] = {
	{ .name = "listen", ENDPOINTS(struct fp_config, reflector.listen, reflector.nlisten, 0) },
	{ 0 }
};

static const struct key capture_keys[] = {
	NAME(struct cfg_capture),
	TEXT("interface", struct cfg_capture, interface, CONFIG_IFNAME_MAX, F_NONEMPTY),
	TEXT("file", struct cfg_capture, file, CONFIG_PATH_MAX, F_NONEMPTY),
	{ .name = "flows", .kind = K_BOOL, FIELD(struct cfg_capture, flows) },
	{ .name = "tcp_rtt", .kind = K_BOOL, FIELD(struct cfg_capture, tcp_rtt) },
	{ 0 }
};

static const struct key archive_keys[] = {
	TEXT("directory", struct fp_config, archive.directory, CONFIG_PATH_MAX, F_ABSPATH),
	{ 0 }
};

static const struct key rule_keys[] = {
	NAME(struct cfg_rule),
	{ .name = "when", .kind = K_STRING, .required = true, FIELD(struct cfg_rule, when),
	  .max = CONFIG_EXPR_MAX, .flags = F_NONEMPTY },
	TEXT("clear", struct cfg_rule, clear, CONFIG_EXPR_MAX, F_NONEMPTY),
	TEXT("critical", struct cfg_rule, critical, CONFIG_EXPR_MAX, F_NONEMPTY),
	SECONDS("for", struct cfg_rule, for_ns, 0, 30 * 86400 * NS),
	SECONDS("clear_for", struct cfg_rule, clear_for_ns, 0, 30 * 86400 * NS),
	SECONDS("reminder", struct cfg_rule, reminder_ns, 0, 30 * 86400 * NS),
	SECONDS("interval", struct cfg_rule, interval_ns, NS / 10, 3600 * NS),
	{ .name = "severity", .kind = K_ENUM, FIELD(struct cfg_rule, severity),
	  .choices = severities },
	TEXT("description", struct cfg_rule, description, CONFIG_DESCR_MAX, 0),
	{ 0 }
};

static const struct key alarms_keys[] = {
	{ .name = "exporter_silent", .kind = K_FUNC, FIELD(struct fp_config,
	  alarms.exporter_silent_ns), .fn = parse_alarm_window, .min = NS, .max = 86400 * NS },
	{ .name = "exporter_loss", .kind = K_FUNC, FIELD(struct fp_config, alarms.exporter_loss),
	  .fn = parse_alarm_ratio },
	{ .name = "kernel_drops", .kind = K_BOOL, FIELD(struct fp_config, alarms.kernel_drops) },
	{ .name = "probe_unreachable", .kind = K_FUNC, FIELD(struct fp_config,
	  alarms.probe_unreachable_ns), .fn = parse_alarm_window, .min = NS, .max = 86400 * NS },
	INT("notify_rate", struct fp_config, alarms.notify_rate, 1, 10000, " per second"),
	INT("notify_burst", struct fp_config, alarms.notify_burst, 1, 100000, ""),
	INT("queue_size", struct fp_config, alarms.queue_size, 1, 1000000, ""),
	INT("max_instances", struct fp_config, alarms.max_instances, 1, 10000000, ""),
	SECONDS("max_history", struct fp_config, alarms.max_history_ns, 0,
	    EXPR_MAX_DURATION_NS),
	INT("max_metrics", struct fp_config, alarms.max_metrics, 1, 10000000, ""),
	INT("max_points", struct fp_config, alarms.max_points, 2, 10000000, ""),
	{ 0 }
};

static void
init_aggregation(void *item)
{
	struct cfg_aggregation *a = item;

	a->interval = 300;
	a->top = 100;
	a->capacity = 100000;
	a->retention = 3600;
}

static void
init_probe(void *item)
{
	struct cfg_probe *p = item;

	p->type = PROBE_ICMP;
	p->interval_ns = NS;
	p->timeout_ns = 3 * NS;
	p->size = 56;
	p->window_ns = 60 * NS;
}

static void
init_capture(void *item)
{
	((struct cfg_capture *)item)->flows = true;
}

static void
init_rule(void *item)
{
	struct cfg_rule *r = item;

	r->severity = SEV_WARNING;
	r->interval_ns = NS;
}

static void
init_none(void *item)
{
}

static const struct list_spec networks_spec =
	{ sizeof(struct cfg_network), network_keys, init_none, NULL, NULL };
static const struct list_spec aggregations_spec =
	{ sizeof(struct cfg_aggregation), aggregation_keys, init_aggregation, NULL, NULL };
static const struct list_spec probes_spec =
	{ sizeof(struct cfg_probe), probe_keys, init_probe, check_probe, post_probe };
static const struct list_spec captures_spec =
	{ sizeof(struct cfg_capture), capture_keys, init_capture, check_capture, NULL };
static const struct list_spec rules_spec =
	{ sizeof(struct cfg_rule), rule_keys, init_rule, NULL, NULL };

#define SECTION(n, keys) { .name = n, .kind = K_GROUP, .sub = keys }
#define LIST(n, spec, p, cnt, most) { .name = n, .kind = K_LIST, .sub = &spec, \
	ARRAY(struct fp_config, p, cnt), .max = most }

static const struct key root_keys[] = {
	SECTION("agentx", agentx_keys),
	SECTION("agent", agent_keys),
	SECTION("daemon", daemon_keys),
	SECTION("collector", collector_keys),
	LIST("networks", networks_spec, networks, nnetworks, CONFIG_MAX_NETWORKS),
	LIST("aggregations", aggregations_spec, aggregations, naggregations,
	    CONFIG_MAX_AGGREGATIONS),
	LIST("probes", probes_spec, probes, nprobes, CONFIG_MAX_PROBES),
	SECTION("reflector", reflector_keys),
	LIST("capture", captures_spec, captures, ncaptures, CONFIG_MAX_CAPTURES),
	SECTION("archive", archive_keys),
	LIST("rules", rules_spec, rules, nrules, CONFIG_MAX_RULES),
	SECTION("alarms", alarms_keys),
	{ 0 }
};

/* Loading */

static struct fp_config *
config_defaults(const char *path)
{
	struct fp_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->agentx.ping_interval = 5;
	cfg->collector.max_exporters = 10000;
	cfg->collector.max_templates = 256;
	cfg->collector.max_template_bytes = 16u << 20;
	cfg->agentx.timeout = 1;
	cfg->agentx.retries = 5;
	cfg->alarms.exporter_silent_ns = 300 * NS;
	cfg->alarms.exporter_loss = 0.01;
	cfg->alarms.kernel_drops = true;
	cfg->alarms.probe_unreachable_ns = 60 * NS;
	cfg->alarms.notify_rate = 10;
	cfg->alarms.notify_burst = 50;
	cfg->alarms.queue_size = 1000;
	cfg->alarms.max_instances = 100000;
	cfg->alarms.max_history_ns = 25 * 3600 * NS;
	cfg->alarms.max_metrics = 100000;
	cfg->alarms.max_points = 90000;
	cfg->file = strdup(path);
	cfg->agentx.socket = strdup(CONFIG_DEFAULT_AGENTX);
	cfg->agent.community = strdup(CONFIG_DEFAULT_COMMUNITY);
	cfg->daemon.pidfile = strdup(RUNSTATEDIR "/flowpathd.pid");
	cfg->daemon.log_level = strdup("info");
	cfg->daemon.state_file = strdup(DEFAULT_STATE_FILE);
	if (cfg->file == NULL || cfg->agentx.socket == NULL || cfg->agent.community == NULL ||
	    cfg->daemon.pidfile == NULL || cfg->daemon.log_level == NULL ||
	    cfg->daemon.state_file == NULL) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Defaults that are lists: filled in when the file did not set them. */
static bool
config_list_defaults(struct fp_config *cfg)
{
	static const char *const loopback[] = { "127.0.0.0/8", "::1/128" };
	size_t i, n = sizeof(loopback) / sizeof(loopback[0]);

	if (cfg->agent.allow != NULL)
		return true;
	if ((cfg->agent.allow = calloc(n, sizeof(*cfg->agent.allow))) == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (addr_parse_prefix(loopback[i], &cfg->agent.allow[i]) != NULL)
			return false;
	cfg->agent.nallow = n;
	return true;
}

/* Opens the file ourselves: errno is then exact, and the size is bounded. */
static FILE *
open_config(struct ctx *c)
{
	char reason[MSG_MAX];
	struct stat st;
	FILE *fp;

	if ((fp = fopen(c->file, "r")) == NULL) {
		snprintf(reason, sizeof(reason), "cannot open: %s", strerror(errno));
		file_error(c, reason);
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_FILE_MAX) {
		snprintf(reason, sizeof(reason), "not a regular file of at most %ld bytes",
		    CONFIG_FILE_MAX);
		file_error(c, reason);
		fclose(fp);
		return NULL;
	}
	return fp;
}

static bool
read_config(struct ctx *c)
{
	char msg[MSG_MAX * 2];
	const char *file;
	FILE *fp;
	int ok;

	if ((fp = open_config(c)) == NULL)
		return false;
	ok = config_read(c->lc, fp);
	fclose(fp);
	if (ok == CONFIG_TRUE)
		return true;
	file = config_error_file(c->lc);
	snprintf(msg, sizeof(msg), "%s:%d: %s", file ? file : c->file,
	    config_error_line(c->lc), config_error_text(c->lc));
	add_error(c, msg);
	return false;
}

static int
network_by_name(const char *name, void *arg)
{
	const struct fp_config *cfg = arg;

	for (size_t i = 0; i < cfg->nnetworks; i++)
		if (strcmp(cfg->networks[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * Filters are compiled once here, after the whole file, so that a filter
 * may name networks defined further down. Errors point at the column.
 */
static void
check_filters(struct ctx *c, struct fp_config *cfg)
{
	config_setting_t *list = config_lookup(c->lc, "aggregations");
	char path[PATH_BUF];

	for (size_t i = 0; list != NULL && i < cfg->naggregations; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		config_setting_t *f = g ? config_setting_get_member(g, "filter") : NULL;
		struct filter_error err;
		struct filter *flt;

		if (f == NULL || cfg->aggregations[i].filter == NULL)
			continue;
		flt = filter_compile(cfg->aggregations[i].filter, network_by_name, cfg, &err);
		if (flt == NULL) {
			snprintf(path, sizeof(path), "aggregations[%zu].filter", i);
			cfg_error(c, f, path, "column %zu: %s", err.column, err.msg);
		}
		filter_free(flt);
	}
}

/* A built-in alarm that is on reserves its rule's name. */
static const char *
builtin_setting(const struct fp_config *cfg, const char *name)
{
	if (cfg->alarms.exporter_silent_ns > 0 && strcmp(name, CONFIG_BUILTIN_EXPORTER_SILENT) == 0)
		return "alarms.exporter_silent";
	if (cfg->alarms.exporter_loss > 0 && strcmp(name, CONFIG_BUILTIN_EXPORTER_LOSS) == 0)
		return "alarms.exporter_loss";
	if (cfg->alarms.kernel_drops && strcmp(name, CONFIG_BUILTIN_KERNEL_DROPS) == 0)
		return "alarms.kernel_drops";
	if (cfg->alarms.probe_unreachable_ns > 0 &&
	    strcmp(name, CONFIG_BUILTIN_PROBE_UNREACHABLE) == 0)
		return "alarms.probe_unreachable";
	return NULL;
}

/*
 * One expression of a rule: compiled (the column of a mistake), and the
 * history it reads within alarms.max_history. Returns the compiled
 * expression or NULL.
 */
static struct expr *
check_rule_expr(struct ctx *c, const struct fp_config *cfg, config_setting_t *g, size_t i,
    const char *what, const char *text)
{
	config_setting_t *s = config_setting_get_member(g, what);
	char path[PATH_BUF];
	struct expr_error err;
	struct expr *e;

	if (text == NULL || s == NULL)
		return NULL;
	snprintf(path, sizeof(path), "rules[%zu].%s", i, what);
	if ((e = expr_compile(text, &err)) == NULL) {
		cfg_error(c, s, path, "column %zu: %s", err.column, err.msg);
		return NULL;
	}
	if (expr_max_lookback(e) > cfg->alarms.max_history_ns)
		cfg_error(c, s, path, "reads %.10g s of history, more than alarms.max_history "
		    "(%.10g s)", (double)expr_max_lookback(e) / NS,
		    (double)cfg->alarms.max_history_ns / NS);
	return e;
}

/*
 * Rule expressions are compiled once here, after the whole file, so that
 * alarms.max_history may come after the rules. Errors point at the column.
 */
static void
check_rules(struct ctx *c, const struct fp_config *cfg)
{
	config_setting_t *list = config_lookup(c->lc, "rules");
	static const char *const others[] = { "clear", "critical" };
	char path[PATH_BUF];

	for (size_t i = 0; list != NULL && i < cfg->nrules; i++) {
		const struct cfg_rule *r = &cfg->rules[i];
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		const char *texts[] = { r->clear, r->critical }, *b;
		struct expr *when, *e;

		if (g == NULL)
			continue;
		if ((b = builtin_setting(cfg, r->name)) != NULL) {
			snprintf(path, sizeof(path), "rules[%zu].name", i);
			cfg_error(c, config_setting_get_member(g, "name"), path,
			    "\"%s\" is the built-in alarm of %s; switch that off to use the name",
			    r->name, b);
		}
		when = check_rule_expr(c, cfg, g, i, "when", r->when);
		for (size_t j = 0; j < 2; j++) {
			e = check_rule_expr(c, cfg, g, i, others[j], texts[j]);
			/* The instances come from when: a '*' elsewhere would stand for nothing. */
			if (e != NULL && when != NULL && expr_is_wildcard(e) && !expr_is_wildcard(when)) {
				snprintf(path, sizeof(path), "rules[%zu].%s", i, others[j]);
				cfg_error(c, config_setting_get_member(g, others[j]), path,
				    "has a wildcard '*' but when has none (the instances come from when)");
			}
			expr_free(e);
		}
		expr_free(when);
	}
}

struct net_ref {
	const struct addr_prefix *p;
	uint32_t	 net;
	uint32_t	 idx;
};

static int
net_ref_cmp(const void *x, const void *y)
{
	const struct net_ref *a = x, *b = y;
	int c = memcmp(a->p, b->p, sizeof(*a->p));

	if (c != 0)
		return c;
	return a->net != b->net ? (a->net < b->net ? -1 : 1) : (a->idx < b->idx ? -1 : 1);
}

/*
 * A prefix may be in one network once: in two it would be ambiguous (the
 * first would silently win). Sorted, so 100 000 prefixes cost n log n.
 */
static void
check_network_prefixes(struct ctx *c, const struct fp_config *cfg)
{
	config_setting_t *list = config_lookup(c->lc, "networks");
	struct net_ref *refs;
	size_t n = 0, k = 0;
	char path[PATH_BUF], a[ADDR_STRLEN];

	for (size_t i = 0; i < cfg->nnetworks; i++)
		n += cfg->networks[i].nprefixes;
	if (list == NULL || n < 2 || (refs = calloc(n, sizeof(*refs))) == NULL)
		return;
	for (size_t i = 0; i < cfg->nnetworks; i++)
		for (size_t j = 0; j < cfg->networks[i].nprefixes; j++)
			refs[k++] = (struct net_ref){ &cfg->networks[i].prefixes[j], (uint32_t)i,
			    (uint32_t)j };
	qsort(refs, n, sizeof(*refs), net_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct net_ref *r = &refs[i], *first = &refs[i - 1];
		config_setting_t *g = config_setting_get_elem(list, r->net);
		config_setting_t *ps = g ? config_setting_get_member(g, "prefixes") : NULL;
		config_setting_t *e = ps && config_setting_is_aggregate(ps) ?
		    config_setting_get_elem(ps, r->idx) : ps;

		if (memcmp(r->p, first->p, sizeof(*r->p)) != 0 || e == NULL)
			continue;
		addr_format(&r->p->addr, a, sizeof(a));
		snprintf(path, sizeof(path), "networks[%u].prefixes[%u]", r->net, r->idx);
		if (r->net == first->net)
			cfg_error(c, e, path, "%s/%u is listed twice", a, r->p->len);
		else
			cfg_error(c, e, path, "%s/%u is already in network \"%s\"", a, r->p->len,
			    cfg->networks[first->net].name);
	}
	free(refs);
}

struct fp_config *
config_load(const char *path, struct config_errors *errs)
{
	struct ctx c;
	struct fp_config *cfg;
	config_t lc;

	memset(&c, 0, sizeof(c));
	c.file = path;
	c.lc = &lc;
	c.errs = errs;
	if ((cfg = config_defaults(path)) == NULL) {
		file_error(&c, "out of memory");
		return NULL;
	}
	config_init(&lc);
	if (read_config(&c)) {
		walk_group(&c, config_root_setting(&lc), "", root_keys, cfg);
		check_network_prefixes(&c, cfg);
		check_filters(&c, cfg);
		check_rules(&c, cfg);
	}
	config_destroy(&lc);
	if (c.nerrors == 0 && !config_list_defaults(cfg))
		file_error(&c, "out of memory");
	if (c.nerrors > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct fp_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->agentx.socket);
	free(cfg->agent.listen);
	free(cfg->agent.community);
	free(cfg->agent.allow);
	free(cfg->agent.trap_sink);
	free(cfg->daemon.pidfile);
	free(cfg->daemon.log_level);
	free(cfg->daemon.state_file);
	free(cfg->collector.listen);
	free(cfg->collector.allow);
	free(cfg->collector.exporters);
	for (i = 0; cfg->networks != NULL && i < cfg->nnetworks; i++)
		free(cfg->networks[i].prefixes);
	free(cfg->networks);
	for (i = 0; cfg->aggregations != NULL && i < cfg->naggregations; i++)
		free(cfg->aggregations[i].filter);
	free(cfg->aggregations);
	free(cfg->probes);
	free(cfg->reflector.listen);
	for (i = 0; cfg->captures != NULL && i < cfg->ncaptures; i++) {
		free(cfg->captures[i].interface);
		free(cfg->captures[i].file);
	}
	free(cfg->captures);
	free(cfg->archive.directory);
	for (i = 0; cfg->rules != NULL && i < cfg->nrules; i++) {
		free(cfg->rules[i].when);
		free(cfg->rules[i].clear);
		free(cfg->rules[i].critical);
		free(cfg->rules[i].description);
	}
	free(cfg->rules);
	free(cfg);
}

void
config_errors_clear(struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->count; i++)
		free(errs->msg[i]);
	memset(errs, 0, sizeof(*errs));
}

const char *
config_agg_key_name(enum key_field key)
{
	return (unsigned)key < CFG_AGG_KEY_COUNT ? agg_keys[key] : "?";
}

const char *
config_probe_type_name(enum cfg_probe_type type)
{
	return (unsigned)type <= PROBE_TCP ? probe_types[type] : "?";
}
