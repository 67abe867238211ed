#include <stdlib.h>
#include <string.h>

#include "collectors/listener.h"
#include "subagent/clock.h"
#include "subagent/collect.h"
#include "subagent/log.h"

/* Work per readable socket per loop pass: 16 batches of 64 datagrams. */
#define COLLECT_BATCHES 16
/* At most one log line about rejected input per interval. */
#define COLLECT_LOG_INTERVAL (10 * CLOCK_NS_PER_SEC)

struct collect {
	struct loop	*loop;
	struct collector *core;
	struct listener	**listeners;
	size_t		 nlisteners;
	uint32_t	 receive_buffer;
	int64_t		 last_log_ns;
	uint64_t	 unlogged;	/* rejections since the last log line */
	uint32_t	 caps[3];	/* max_exporters, max_templates, max_template_bytes */
};

struct collect *
collect_new(struct loop *loop, const struct fp_config *conf)
{
	struct collect *c = calloc(1, sizeof(*c));
	struct tmpl_limits limits = {
		.max_templates = conf->collector.max_templates,
		.max_sources = conf->collector.max_exporters,
		.max_bytes = conf->collector.max_template_bytes,
	};

	if (c == NULL)
		return NULL;
	c->loop = loop;
	c->caps[0] = conf->collector.max_exporters;
	c->caps[1] = conf->collector.max_templates;
	c->caps[2] = conf->collector.max_template_bytes;
	if ((c->core = collector_new(conf->collector.max_exporters, &limits)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void
collect_log_rejection(struct collect *c, const struct addr *src, enum decode_error err,
    int64_t now)
{
	char a[ADDR_STRLEN];

	c->unlogged++;
	if (c->last_log_ns != 0 && now - c->last_log_ns < COLLECT_LOG_INTERVAL)
		return;
	addr_format(src, a, sizeof(a));
	log_warnx("collector: rejected a datagram from %s (%s); %llu rejected since the "
	    "last message", a, decode_error_name(err), (unsigned long long)c->unlogged);
	c->unlogged = 0;
	c->last_log_ns = now;
}

static void
collect_datagram(const uint8_t *buf, size_t len, const struct addr *src, void *arg)
{
	struct collect *c = arg;
	int64_t now = clock_wall_ns();
	enum decode_error err = collector_datagram(c->core, buf, len, src, now);

	if (err != DECODE_OK)
		collect_log_rejection(c, src, err, clock_mono_ns());
}

static void
collect_readable(int fd, void *arg)
{
	struct collect *c = arg;
	uint64_t drops = 0;

	for (size_t i = 0; i < c->nlisteners; i++) {
		if (listener_fd(c->listeners[i]) != fd)
			continue;
		listener_read(c->listeners[i], COLLECT_BATCHES, collect_datagram, c, &drops);
		break;
	}
	if (drops > 0)
		collector_add_kernel_drops(c->core, drops);
}

static bool
endpoint_equal(const struct addr_endpoint *a, const struct addr_endpoint *b)
{
	return a->port == b->port && memcmp(&a->addr, &b->addr, sizeof(a->addr)) == 0;
}

static bool
endpoint_listed(const struct addr_endpoint *ep, const struct addr_endpoint *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (endpoint_equal(ep, &list[i]))
			return true;
	return false;
}

static void
collect_close_unlisted(struct collect *c, const struct fp_config *conf, bool rcvbuf_changed)
{
	size_t kept = 0;

	for (size_t i = 0; i < c->nlisteners; i++) {
		struct listener *l = c->listeners[i];

		if (!rcvbuf_changed && endpoint_listed(listener_endpoint(l),
		    conf->collector.listen, conf->collector.nlisten)) {
			c->listeners[kept++] = l;
			continue;
		}
		loop_del_fd(c->loop, listener_fd(l));
		listener_close(l);
	}
	c->nlisteners = kept;
}

static bool
collect_open(struct collect *c, const struct addr_endpoint *ep, uint32_t rcvbuf)
{
	char err[128], where[ADDR_ENDPOINT_STRLEN];
	uint32_t granted;
	struct listener *l = listener_open(ep, rcvbuf, &granted, err, sizeof(err));

	addr_format_endpoint(ep, where, sizeof(where));
	if (l == NULL) {
		log_warnx("collector: cannot listen on %s: %s", where, err);
		return false;
	}
	if (loop_add_fd(c->loop, listener_fd(l), collect_readable, c) == -1) {
		log_warnx("collector: cannot watch %s", where);
		listener_close(l);
		return false;
	}
	if (rcvbuf > 0 && granted < rcvbuf)
		log_warnx("collector: %s: the kernel granted a receive buffer of %u bytes, "
		    "not the %u asked (raise net.core.rmem_max)", where, granted, rcvbuf);
	c->listeners[c->nlisteners++] = l;
	log_info("collector: listening on %s", where);
	return true;
}

static bool
collect_settings(struct collect *c, const struct fp_config *conf)
{
	size_t n = conf->collector.nexporters;
	struct addr *oa = calloc(n ? n : 1, sizeof(*oa));
	uint32_t *orate = calloc(n ? n : 1, sizeof(*orate));
	struct collector_settings s = {
		.allow = conf->collector.allow, .nallow = conf->collector.nallow,
		.override_addr = oa, .override_rate = orate, .noverrides = n,
	};
	bool ok = oa != NULL && orate != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		oa[i] = conf->collector.exporters[i].address;
		orate[i] = conf->collector.exporters[i].sampling;
	}
	if (ok && collector_configure(c->core, &s) == -1)
		ok = false;
	if (!ok)
		log_warnx("collector: out of memory applying the allow list and overrides");
	free(oa);
	free(orate);
	return ok;
}

bool
collect_apply(struct collect *c, const struct fp_config *conf)
{
	bool ok = collect_settings(c, conf);
	bool rcvbuf_changed = conf->collector.receive_buffer != c->receive_buffer;
	struct listener **grown;

	if (conf->collector.max_exporters != c->caps[0] ||
	    conf->collector.max_templates != c->caps[1] ||
	    conf->collector.max_template_bytes != c->caps[2])
		log_warnx("collector: max_exporters, max_templates and max_template_bytes "
		    "take effect when flowpathd restarts");
	collect_close_unlisted(c, conf, rcvbuf_changed);
	c->receive_buffer = conf->collector.receive_buffer;
	grown = reallocarray(c->listeners, c->nlisteners + conf->collector.nlisten + 1,
	    sizeof(*grown));
	if (grown == NULL) {
		log_warnx("collector: out of memory for listen sockets");
		return false;
	}
	c->listeners = grown;
	for (size_t i = 0; i < conf->collector.nlisten; i++) {
		const struct addr_endpoint *ep = &conf->collector.listen[i];
		bool open = false;

		for (size_t j = 0; j < c->nlisteners && !open; j++)
			open = endpoint_equal(listener_endpoint(c->listeners[j]), ep);
		if (!open && !collect_open(c, ep, c->receive_buffer))
			ok = false;
	}
	return ok;
}

void
collect_free(struct collect *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nlisteners; i++) {
		loop_del_fd(c->loop, listener_fd(c->listeners[i]));
		listener_close(c->listeners[i]);
	}
	free(c->listeners);
	collector_free(c->core);
	free(c);
}

const struct collector *
collect_collector(const struct collect *c)
{
	return c->core;
}

void
collect_set_sink(struct collect *c, collector_sink sink, void *arg)
{
	collector_set_sink(c->core, sink, arg);
}
