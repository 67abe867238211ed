#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subagent/clock.h"
#include "subagent/log.h"
#include "subagent/probe.h"

#define NS_PER_SEC	1e9
#define PPM		1e6

/* Metrics of each probe: probe.NAME.SUFFIX, SI units (docs/metrics.md). */
enum { M_RTT, M_LOSS, M_JITTER, M_IPDV, M_UP, M_SENT, M_RECEIVED, M_LOST, M_COUNT };
static const char *const metric_suffix[M_COUNT] = {
	"rtt", "loss", "jitter", "ipdv", "up", "sent", "received", "lost"
};

/* Per probe index: its metric ids and the counters at its last outcome. */
struct probe_track {
	uint32_t	 id[M_COUNT];		/* 0: refused by the store */
	struct probe_counters prev;
};

struct probe_set {
	struct loop	*loop;
	struct metric_store *metrics;
	struct prober	*prober;
	struct reflector *refl;
	struct probe_track *track;
	size_t		 ntrack;
	uint64_t	 timer;			/* 0: none armed */
	int64_t		 timer_at;
	int		 refl_fds[CONFIG_MAX_LISTEN];
	size_t		 nrefl_fds;
	bool		 prober_watched;
	void		 (*hook)(void *);
	void		*hook_arg;
};

static void probe_timer(void *arg, int64_t now);

/*
 * One timer for all probes, at the prober's next send or deadline. The
 * prober keeps its own time-ordered queue; the loop only needs the head.
 */
static void
rearm(struct probe_set *ps)
{
	int64_t next = prober_next(ps->prober);

	if (ps->timer != 0 && next == ps->timer_at)
		return;
	if (ps->timer != 0)
		loop_timer_cancel(ps->loop, ps->timer);
	ps->timer = 0;
	if (next == INT64_MAX)
		return;
	if ((ps->timer = loop_timer_add(ps->loop, next, probe_timer, ps)) == 0) {
		log_warnx("probes: out of memory for the timer; probing stops until the next reload");
		return;
	}
	ps->timer_at = next;
}

static void
probe_timer(void *arg, int64_t now)
{
	struct probe_set *ps = arg;

	ps->timer = 0;
	prober_run(ps->prober, now);
	rearm(ps);
}

static void
prober_readable_cb(int fd, void *arg)
{
	struct probe_set *ps = arg;

	(void)fd;
	prober_readable(ps->prober, clock_mono_ns());
	rearm(ps);
}

static void
reflector_readable_cb(int fd, void *arg)
{
	struct probe_set *ps = arg;

	reflector_readable(ps->refl, fd);
}

static void
put(struct probe_set *ps, const struct probe_track *t, int m, int64_t now, double v)
{
	if (t->id[m] != 0)
		metric_put(ps->metrics, t->id[m], now, v);
}

/*
 * After each outcome: which kind it was follows from the counters that
 * moved since the last one. A reply is an RTT sample; up is 1 for a reply
 * and 0 for a loss, an error or a refused TCP connect (the host answered,
 * the service did not).
 */
static void
probe_outcome(void *arg, size_t i, int64_t now)
{
	struct probe_set *ps = arg;
	const struct probe_result *r;
	struct probe_track *t;
	bool replied, failed, refused;

	if (ps->metrics == NULL || i >= ps->ntrack)
		return;
	t = &ps->track[i];
	/* No percentiles per outcome: the MIB summarises in full when it reads. */
	r = prober_result_running(ps->prober, i, now);
	replied = r->c.received > t->prev.received;
	refused = r->c.refused > t->prev.refused;
	failed = r->c.lost > t->prev.lost || r->c.errors > t->prev.errors;
	if (replied) {
		put(ps, t, M_RTT, now, (double)r->last_rtt_ns / NS_PER_SEC);
		put(ps, t, M_JITTER, now, (double)r->jitter_ns / NS_PER_SEC);
	}
	if (replied || failed)
		put(ps, t, M_UP, now, replied && !refused && !failed ? 1.0 : 0.0);
	if (r->window.received + r->window.lost > 0)
		put(ps, t, M_LOSS, now, (double)r->window.loss_ppm / PPM);
	if (r->window.ipdv_pairs > 0)
		put(ps, t, M_IPDV, now, (double)r->window.ipdv_mean / NS_PER_SEC);
	put(ps, t, M_SENT, now, (double)r->c.sent);
	put(ps, t, M_RECEIVED, now, (double)r->c.received);
	put(ps, t, M_LOST, now, (double)r->c.lost);
	t->prev = r->c;
}

struct probe_set *
probe_new(struct loop *loop, struct metric_store *metrics)
{
	struct probe_set *ps = calloc(1, sizeof(*ps));

	if (ps == NULL)
		return NULL;
	ps->loop = loop;
	ps->metrics = metrics;
	if ((ps->prober = prober_new()) == NULL || (ps->refl = reflector_new()) == NULL)
		goto fail;
	if (loop_add_fd(loop, prober_fd(ps->prober), prober_readable_cb, ps) == -1)
		goto fail;
	ps->prober_watched = true;
	prober_set_outcome_cb(ps->prober, probe_outcome, ps);
	return ps;
fail:
	log_warnx("probes: cannot create the prober (out of memory or no epoll)");
	probe_free(ps);
	return NULL;
}

static void
unwatch_reflector(struct probe_set *ps)
{
	for (size_t i = 0; i < ps->nrefl_fds; i++)
		loop_del_fd(ps->loop, ps->refl_fds[i]);
	ps->nrefl_fds = 0;
}

void
probe_free(struct probe_set *ps)
{
	if (ps == NULL)
		return;
	if (ps->timer != 0)
		loop_timer_cancel(ps->loop, ps->timer);
	unwatch_reflector(ps);
	if (ps->prober_watched)
		loop_del_fd(ps->loop, prober_fd(ps->prober));
	prober_free(ps->prober);
	reflector_free(ps->refl);
	free(ps->track);
	free(ps);
}

void
probe_set_hook(struct probe_set *ps, void (*hook)(void *), void *arg)
{
	ps->hook = hook;
	ps->hook_arg = arg;
}

struct prober *
probe_prober(const struct probe_set *ps)
{
	return ps->prober;
}

const struct reflector *
probe_reflector(const struct probe_set *ps)
{
	return ps->refl;
}

static void
spec_from_config(struct probe_spec *s, const struct cfg_probe *c)
{
	static const enum probe_type types[] = {
		[PROBE_ICMP] = PROBE_TYPE_ICMP, [PROBE_UDP] = PROBE_TYPE_UDP,
		[PROBE_TCP] = PROBE_TYPE_TCP
	};

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", c->name);
	s->type = types[c->type];
	s->target = c->target;
	s->interval_ns = c->interval_ns;
	s->timeout_ns = c->timeout_ns;
	s->window_ns = c->window_ns;
	s->size = c->size;
	s->tos = c->tos;
}

/* Metric ids and a fresh baseline for every probe in the prober's order. */
static bool
track_rebuild(struct probe_set *ps, int64_t now)
{
	size_t n = prober_count(ps->prober);
	struct probe_track *t = calloc(n ? n : 1, sizeof(*t));
	char name[METRIC_NAME_MAX + 1];

	if (t == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct probe_spec *s = prober_spec(ps->prober, i);

		for (int m = 0; ps->metrics != NULL && m < M_COUNT; m++) {
			snprintf(name, sizeof(name), "probe.%s.%s", s->name, metric_suffix[m]);
			if ((t[i].id[m] = metric_intern(ps->metrics, name)) == 0)
				log_warnx("probe %s: the metric store refused %s (full?)",
				    s->name, name);
		}
		t[i].prev = prober_result(ps->prober, i, now)->c;
	}
	free(ps->track);
	ps->track = t;
	ps->ntrack = n;
	return true;
}

static bool
apply_probes(struct probe_set *ps, const struct fp_config *conf, int64_t now)
{
	size_t n = conf->nprobes;
	struct probe_spec *specs = calloc(n ? n : 1, sizeof(*specs));
	bool ok;

	if (specs == NULL) {
		log_warnx("probes: out of memory; the previous probes are kept");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		spec_from_config(&specs[i], &conf->probes[i]);
	ok = prober_apply(ps->prober, specs, n, now);
	free(specs);
	if (!ok) {
		log_warnx("probes: out of memory; the previous probes are kept");
		return false;
	}
	if (!track_rebuild(ps, now)) {
		log_warnx("probes: out of memory for the metrics; none are put until the next reload");
		free(ps->track);
		ps->track = NULL;
		ps->ntrack = 0;
	}
	for (size_t i = 0; i < prober_count(ps->prober); i++) {
		const struct probe_result *r = prober_result(ps->prober, i, now);

		if (r->status == PROBE_STATUS_ERROR)
			log_warnx("probe %s: %s", prober_spec(ps->prober, i)->name, r->last_error);
	}
	if (n > 0)
		log_info("probes: %zu; ICMP sockets: IPv4 %s, IPv6 %s", n,
		    prober_icmp_mode(ps->prober, false), prober_icmp_mode(ps->prober, true));
	return true;
}

static bool
apply_reflector(struct probe_set *ps, const struct fp_config *conf)
{
	bool ok;

	unwatch_reflector(ps);
	if (!(ok = reflector_apply(ps->refl, conf->reflector.listen, conf->reflector.nlisten)))
		log_warn("reflector: cannot listen on every socket of reflector.listen");
	ps->nrefl_fds = reflector_fds(ps->refl, ps->refl_fds, CONFIG_MAX_LISTEN);
	for (size_t i = 0; i < ps->nrefl_fds; i++) {
		if (loop_add_fd(ps->loop, ps->refl_fds[i], reflector_readable_cb, ps) == -1) {
			log_warnx("reflector: cannot watch a socket");
			ok = false;
		}
	}
	for (size_t i = 0; ok && i < conf->reflector.nlisten; i++) {
		char where[ADDR_ENDPOINT_STRLEN];

		addr_format_endpoint(&conf->reflector.listen[i], where, sizeof(where));
		log_info("reflector: listening on %s", where);
	}
	return ok;
}

bool
probe_apply(struct probe_set *ps, const struct fp_config *conf)
{
	int64_t now = clock_mono_ns();
	bool ok = apply_probes(ps, conf, now);

	ok = apply_reflector(ps, conf) && ok;
	rearm(ps);
	if (ps->hook != NULL)
		ps->hook(ps->hook_arg);
	return ok;
}
