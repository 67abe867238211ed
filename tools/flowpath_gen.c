/*
 * flowpath-gen: a NetFlow v5 / v9 / IPFIX exporter for tests and benchmarks
 * that prints its own ground truth. Loopback destinations only.
 *
 * This file is the CLI, the sockets, the pacing and the output; the wire
 * formats are in gen_encode.c and the traffic model and ground truth in
 * gen_traffic.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/addr.h"
#include "tools/gen_encode.h"
#include "tools/gen_traffic.h"

#ifndef FP_VERSION
#define FP_VERSION "unknown"
#endif

#define MAX_EXPORTERS	254
#define MAX_BATCH	64
#define TOP_N		10
/* sysUptime the exporters claim at start: an hour, so flow start times stay positive */
#define BOOT_UPTIME_MS	3600000u

enum { EXIT_USAGE = 2 };

struct opts {
	struct addr_endpoint dest;
	const char	*dest_text;
	uint8_t		 version;
	double		 rate;		/* records/s, 0 = flat out */
	uint64_t	 records;	/* 0 = unbounded (duration only) */
	double		 duration;	/* seconds, 0 = none */
	uint32_t	 keys;
	double		 skew;
	uint64_t	 seed;
	uint32_t	 sampling;
	uint32_t	 exporters;
	uint32_t	 domain;
	double		 ipv6_share;
	uint32_t	 batch;		/* 0 = send(); else sendmmsg up to this many */
	bool		 json;
	uint32_t	 template_every;
	size_t		 max_size;
};

struct exporter_io {
	int		 fd;
	struct sockaddr_storage src;
	char		 name[ADDR_ENDPOINT_STRLEN + 2];	/* "127.0.0.2" or "[::1]:40001" */
	char		 source[ADDR_ENDPOINT_STRLEN];
	struct gen_enc	 enc;
	uint32_t	 last_sequence;
	bool		 sent_any;
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void __attribute__((format(printf, 1, 2), noreturn))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("flowpath-gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'flowpath-gen --help'.\n", stderr);
	exit(EXIT_USAGE);
}

static void __attribute__((format(printf, 1, 2), noreturn))
fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("flowpath-gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

static void
help(void)
{
	printf(
"FLOWPATH-GEN(1)              Flowpath " FP_VERSION "\n"
"\n"
"NAME\n"
"    flowpath-gen - NetFlow v5/v9/IPFIX exporter that prints its ground truth\n"
"\n"
"SYNOPSIS\n"
"    flowpath-gen --dest ADDR[:PORT] [--version 5|9|10] [--rate R]\n"
"                 [--records N | --duration S] [--keys K] [--skew S] [--seed N]\n"
"                 [--sampling N] [--exporters E] [--domain D] [--ipv6-share F]\n"
"                 [--template-every N] [--max-size BYTES] [--batch[=N]] [--json]\n"
"\n"
"DESCRIPTION\n"
"    Sends flow records from a seeded traffic model (K distinct flow keys,\n"
"    Zipf-distributed, a share of them IPv6) to a collector over UDP, then\n"
"    prints what it sent: totals, per-exporter counts and sequence numbers,\n"
"    and the top %d talkers by destination port and by source address.\n"
"    The same options and seed give the same records, packets and octets.\n"
"\n"
"    Only loopback destinations are accepted (127.0.0.0/8 and ::1); any\n"
"    other address is refused before a socket is opened.\n"
"\n"
"OPTIONS\n"
"    -d, --dest ADDR[:PORT]\n"
"        Collector address: 127.0.0.1:2055, [::1]:4739. Required. Without a\n"
"        port: 2055 for v5/v9, 4739 for IPFIX.\n"
"    -v, --version 5|9|10\n"
"        NetFlow v5, NetFlow v9 (RFC 3954) or IPFIX (RFC 7011). Default 5.\n"
"    -r, --rate R\n"
"        Records per second, on a fixed schedule (datagram n leaves at\n"
"        start + records before it / R on the monotonic clock; no drift).\n"
"        0 = as fast as possible. Default 0.\n"
"    -n, --records N\n"
"        Stop after N flow records. Default 10000 unless --duration is given.\n"
"    -t, --duration S\n"
"        Stop after S seconds (fractions allowed). With --records, whichever\n"
"        comes first.\n"
"    -k, --keys K\n"
"        Distinct flow keys, 1..10000000. Default 1000.\n"
"    -s, --skew S\n"
"        Zipf exponent of the key distribution, 0 (uniform)..5. Default 1.1.\n"
"    -S, --seed N\n"
"        Seed of the traffic model. Default 1.\n"
"    -m, --sampling N\n"
"        Announce packet sampling 1:N: v5 in the header sampling_interval\n"
"        (mode 01, N <= 16383); v9/IPFIX in an options template (v9 scope\n"
"        System, IPFIX scope observationDomainId) with samplingInterval (34)\n"
"        and samplingAlgorithm (35) = 2, sent before the data and with every\n"
"        template refresh. 0 or 1 = unsampled. Counters are sent as sampled;\n"
"        the *_scaled totals are multiplied by N.\n"
"    -e, --exporters E\n"
"        Exporters, 1..254. To 127.0.0.x each exporter binds its own source\n"
"        address 127.0.0.1 .. 127.0.0.E. To ::1 there is one loopback address,\n"
"        so each exporter is a separate socket with its own source port and,\n"
"        so that a collector keying on (address, version, domain) still\n"
"        keeps them apart, domain D+i. Datagrams go round-robin (per batch\n"
"        with --batch). Default 1.\n"
"    -D, --domain D\n"
"        v9 source id / IPFIX observation domain; v5 engine_type << 8 |\n"
"        engine_id (0..65535). Default 0.\n"
"    -6, --ipv6-share F\n"
"        Share of the keys that are IPv6, 0..1 (v9 and IPFIX only). Default 0.\n"
"    -T, --template-every N\n"
"        v9/IPFIX: templates (and sampling options) in the first datagram\n"
"        and every N datagrams per exporter. 0 = first datagram only.\n"
"        Default 20.\n"
"    -M, --max-size BYTES\n"
"        Largest UDP payload, 100..65507. Default 1472 (1500-byte MTU).\n"
"        v5 also stops at 30 records per datagram.\n"
"    -b, --batch[=N]\n"
"        Send with sendmmsg, up to N datagrams per call (default 32, max %d);\n"
"        when paced, batches span about a millisecond of the schedule.\n"
"    -j, --json\n"
"        Print the ground truth as one JSON object instead of key value lines.\n"
"    -h, --help\n"
"        This text.\n"
"\n"
"OUTPUT\n"
"    On stdout at the end (also after SIGINT/SIGTERM), one 'key value' per line:\n"
"      config.version|dest|seed|keys|skew|sampling|exporters|domain|\n"
"        ipv6_share|rate|template_every|max_size|batch\n"
"      run.seconds, run.records_per_s, run.datagrams_per_s\n"
"      total.datagrams, total.bytes (UDP payload), total.records,\n"
"        total.packets, total.octets, total.records_scaled,\n"
"        total.packets_scaled, total.octets_scaled, total.template_datagrams,\n"
"        total.send_retries\n"
"      exporter.NAME.source|version|domain|datagrams|bytes|records|packets|\n"
"        octets|packets_scaled|octets_scaled|last_sequence|next_sequence\n"
"        (NAME is the source address, or [::1]:PORT; last_sequence is the\n"
"        header sequence of its last datagram, next_sequence what the next\n"
"        one would carry: v5 flows, v9 export packets, IPFIX data records)\n"
"      top.dst_port.I.port|records|packets|octets      I = 1..%d, by octets\n"
"      top.src_addr.I.addr|records|packets|octets\n"
"    Packets and octets are as sent (before sampling correction) unless the\n"
"    name ends in _scaled. Diagnostics go to stderr.\n"
"\n"
"EXAMPLES\n"
"    flowpath-gen --dest 127.0.0.1:2055 --version 5 --records 100000\n"
"    flowpath-gen --dest [::1]:4739 --version 10 --ipv6-share 0.2 --exporters 4 \\\n"
"        --rate 100000 --duration 10 --sampling 100 --json\n"
"\n"
"EXIT STATUS\n"
"    0 sent; 1 socket or send error; 2 usage error (including a destination\n"
"    that is not loopback).\n",
	    TOP_N, MAX_BATCH, TOP_N);
}

/* ---- option parsing ---- */

static uint64_t
parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		usage_error("%s: '%s' is not a number in %" PRIu64 "..%" PRIu64, opt, s, min, max);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		usage_error("%s: '%s' is not a number in %" PRIu64 "..%" PRIu64, opt, s, min, max);
	return v;
}

static double
parse_double(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
		usage_error("%s: '%s' is not a number in %g..%g", opt, s, min, max);
	return v;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "dest", required_argument, NULL, 'd' },
		{ "version", required_argument, NULL, 'v' },
		{ "rate", required_argument, NULL, 'r' },
		{ "records", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 't' },
		{ "keys", required_argument, NULL, 'k' },
		{ "skew", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "sampling", required_argument, NULL, 'm' },
		{ "exporters", required_argument, NULL, 'e' },
		{ "domain", required_argument, NULL, 'D' },
		{ "ipv6-share", required_argument, NULL, '6' },
		{ "template-every", required_argument, NULL, 'T' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "batch", optional_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool have_records = false;
	const char *why;
	int c;

	memset(o, 0, sizeof(*o));
	o->version = 5;
	o->keys = 1000;
	o->skew = 1.1;
	o->seed = 1;
	o->exporters = 1;
	o->template_every = 20;
	o->max_size = GEN_DEFAULT_MAX_SIZE;

	while ((c = getopt_long(argc, argv, "d:v:r:n:t:k:s:S:m:e:D:6:T:M:b::jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->dest_text = optarg; break;
		case 'v':
			if (strcmp(optarg, "5") != 0 && strcmp(optarg, "9") != 0 && strcmp(optarg, "10") != 0)
				usage_error("--version: '%s': 5 (NetFlow v5), 9 (NetFlow v9) or 10 (IPFIX)", optarg);
			o->version = (uint8_t)atoi(optarg);
			break;
		case 'r': o->rate = parse_double("--rate", optarg, 0, 1e9); break;
		case 'n': o->records = parse_u64("--records", optarg, 1, UINT64_MAX / 2);
			have_records = true;
			break;
		case 't': o->duration = parse_double("--duration", optarg, 0.001, 1e7); break;
		case 'k': o->keys = (uint32_t)parse_u64("--keys", optarg, 1, GEN_MAX_KEYS); break;
		case 's': o->skew = parse_double("--skew", optarg, 0, 5); break;
		case 'S': o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case 'm': o->sampling = (uint32_t)parse_u64("--sampling", optarg, 0, UINT32_MAX); break;
		case 'e': o->exporters = (uint32_t)parse_u64("--exporters", optarg, 1, MAX_EXPORTERS); break;
		case 'D': o->domain = (uint32_t)parse_u64("--domain", optarg, 0, UINT32_MAX); break;
		case '6': o->ipv6_share = parse_double("--ipv6-share", optarg, 0, 1); break;
		case 'T': o->template_every = (uint32_t)parse_u64("--template-every", optarg, 0, UINT32_MAX); break;
		case 'M': o->max_size = parse_u64("--max-size", optarg, 100, GEN_MAX_DATAGRAM); break;
		case 'b': o->batch = optarg ? (uint32_t)parse_u64("--batch", optarg, 1, MAX_BATCH) : 32; break;
		case 'j': o->json = true; break;
		case 'h': help(); exit(EXIT_SUCCESS);
		default: fputs("Try 'flowpath-gen --help'.\n", stderr); exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->dest_text == NULL)
		usage_error("--dest is required (a loopback address: 127.0.0.1:2055 or [::1]:4739)");
	if ((why = addr_parse_endpoint(o->dest_text, &o->dest)) != NULL) {
		/* an address without a port: the protocol's usual port */
		if (addr_parse(o->dest_text, &o->dest.addr) != NULL)
			usage_error("--dest '%s': %s", o->dest_text, why);
		o->dest.port = o->version == 10 ? 4739 : 2055;
	}
	if ((why = gen_check_loopback(&o->dest.addr)) != NULL)
		usage_error("--dest '%s' refused: %s", o->dest_text, why);
	if (!have_records && o->duration == 0)
		o->records = 10000;
	if (o->version == 5 && o->ipv6_share > 0)
		usage_error("--ipv6-share: NetFlow v5 carries IPv4 only; use --version 9 or 10");
	if (o->version == 5 && o->sampling > 0x3fff)
		usage_error("--sampling: NetFlow v5 sampling interval is 14 bits (at most 16383)");
	if (o->version == 5 && (uint64_t)o->domain + (o->dest.addr.family == ADDR_V6 ? o->exporters - 1 : 0) > 0xffff)
		usage_error("--domain: NetFlow v5 engine_type << 8 | engine_id is at most 65535");
	if (o->dest.addr.family == ADDR_V6 && (uint64_t)o->domain + o->exporters - 1 > UINT32_MAX)
		usage_error("--domain: domain + exporters - 1 must fit 32 bits");
}

/* ---- clocks ---- */

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until(int64_t when_ns)
{
	struct timespec ts = { .tv_sec = when_ns / 1000000000, .tv_nsec = when_ns % 1000000000 };

	while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void
now_clock(int64_t start_mono, struct gen_clock *c, int64_t *wall_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	c->unix_secs = (uint32_t)ts.tv_sec;
	c->unix_nsecs = (uint32_t)ts.tv_nsec;
	c->uptime_ms = BOOT_UPTIME_MS + (uint32_t)((mono_ns() - start_mono) / 1000000);
	*wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sockets ---- */

static void
open_exporters(const struct opts *o, struct exporter_io *ex)
{
	for (uint32_t i = 0; i < o->exporters; i++) {
		struct exporter_io *x = &ex[i];
		struct addr_endpoint local;
		socklen_t slen;
		int family = o->dest.addr.family == ADDR_V6 ? AF_INET6 : AF_INET;
		int sndbuf = 4 << 20;
		uint32_t domain = o->domain;
		const char *why;

		memset(&x->src, 0, sizeof(x->src));
		memset(&local, 0, sizeof(local));
		if (family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&x->src;

			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(0x7f000001u + i);
			slen = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&x->src;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = in6addr_loopback;
			slen = sizeof(*sin6);
			domain = o->domain + i;
		}
		if ((x->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
			fatal("socket: %s", strerror(errno));
		(void)setsockopt(x->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		if (bind(x->fd, (struct sockaddr *)&x->src, slen) < 0)
			fatal("exporter %u: bind to loopback source: %s", i + 1, strerror(errno));
		if (getsockname(x->fd, (struct sockaddr *)&x->src, &slen) < 0)
			fatal("getsockname: %s", strerror(errno));
		if (family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)&x->src;

			local.addr.family = ADDR_V4;
			memcpy(local.addr.bytes, &sin->sin_addr, 4);
			local.port = ntohs(sin->sin_port);
			addr_format(&local.addr, x->name, sizeof(x->name));
		} else {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&x->src;

			local.addr.family = ADDR_V6;
			memcpy(local.addr.bytes, &sin6->sin6_addr, 16);
			local.port = ntohs(sin6->sin6_port);
			addr_format_endpoint(&local, x->name, sizeof(x->name));
		}
		addr_format_endpoint(&local, x->source, sizeof(x->source));
		if ((why = gen_enc_init(&x->enc, o->version, domain, o->sampling, o->template_every)) != NULL)
			usage_error("%s", why);
	}
}

static void
dest_sockaddr(const struct opts *o, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (o->dest.addr.family == ADDR_V4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, o->dest.addr.bytes, 4);
		sin->sin_port = htons(o->dest.port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, o->dest.addr.bytes, 16);
		sin6->sin6_port = htons(o->dest.port);
		*len = sizeof(*sin6);
	}
}

/* A send that the kernel refused for now (buffers) is retried after a pause. */
static bool
transient(int err)
{
	return err == ENOBUFS || err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    err == ECONNREFUSED;
}

static void
send_all(int fd, struct mmsghdr *msgs, unsigned n, bool batch, uint64_t *retries)
{
	unsigned done = 0;

	while (done < n) {
		int r;

		if (batch) {
			r = sendmmsg(fd, msgs + done, n - done, 0);
		} else {
			ssize_t s = sendmsg(fd, &msgs[done].msg_hdr, 0);

			r = s < 0 ? -1 : 1;
		}
		if (r < 0) {
			if (!transient(errno))
				fatal("send: %s", strerror(errno));
			(*retries)++;
			if (errno != EINTR && errno != ECONNREFUSED)
				usleep(50);
			continue;
		}
		done += (unsigned)r;
	}
}

/* ---- output ---- */

static uint64_t
scaled(uint64_t v, uint32_t sampling)
{
	return sampling > 1 ? v * sampling : v;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void
print_truth(const struct opts *o, const struct exporter_io *ex, const struct gen_truth *t,
    double seconds, uint64_t retries)
{
	const struct gen_counts *tot = gen_truth_total(t);
	struct gen_talker ports[TOP_N], srcs[TOP_N];
	size_t nports = gen_truth_top_dst_ports(t, ports, TOP_N);
	size_t nsrcs = gen_truth_top_src_addrs(t, srcs, TOP_N);
	uint64_t tmpl = 0;
	double rps = seconds > 0 ? (double)tot->records / seconds : 0;
	double dps = seconds > 0 ? (double)tot->datagrams / seconds : 0;
	char dest[ADDR_ENDPOINT_STRLEN], a[ADDR_STRLEN];

	addr_format_endpoint(&o->dest, dest, sizeof(dest));
	for (uint32_t i = 0; i < o->exporters; i++)
		tmpl += ex[i].enc.template_datagrams;

	if (!o->json) {
		printf("config.version %u\n", o->version);
		printf("config.dest %s\n", dest);
		printf("config.seed %" PRIu64 "\n", o->seed);
		printf("config.keys %u\n", o->keys);
		printf("config.skew %g\n", o->skew);
		printf("config.sampling %u\n", o->sampling);
		printf("config.exporters %u\n", o->exporters);
		printf("config.domain %u\n", o->domain);
		printf("config.ipv6_share %g\n", o->ipv6_share);
		printf("config.rate %g\n", o->rate);
		printf("config.template_every %u\n", o->template_every);
		printf("config.max_size %zu\n", o->max_size);
		printf("config.batch %u\n", o->batch);
		printf("run.seconds %.6f\n", seconds);
		printf("run.records_per_s %.0f\n", rps);
		printf("run.datagrams_per_s %.0f\n", dps);
		printf("total.datagrams %" PRIu64 "\n", tot->datagrams);
		printf("total.bytes %" PRIu64 "\n", tot->bytes);
		printf("total.records %" PRIu64 "\n", tot->records);
		printf("total.packets %" PRIu64 "\n", tot->packets);
		printf("total.octets %" PRIu64 "\n", tot->octets);
		printf("total.records_scaled %" PRIu64 "\n", scaled(tot->records, o->sampling));
		printf("total.packets_scaled %" PRIu64 "\n", scaled(tot->packets, o->sampling));
		printf("total.octets_scaled %" PRIu64 "\n", scaled(tot->octets, o->sampling));
		printf("total.template_datagrams %" PRIu64 "\n", tmpl);
		printf("total.send_retries %" PRIu64 "\n", retries);
		for (uint32_t i = 0; i < o->exporters; i++) {
			const struct gen_counts *c = gen_truth_exporter(t, i);
			const char *n = ex[i].name;

			printf("exporter.%s.source %s\n", n, ex[i].source);
			printf("exporter.%s.version %u\n", n, o->version);
			printf("exporter.%s.domain %u\n", n, ex[i].enc.domain);
			printf("exporter.%s.datagrams %" PRIu64 "\n", n, c->datagrams);
			printf("exporter.%s.bytes %" PRIu64 "\n", n, c->bytes);
			printf("exporter.%s.records %" PRIu64 "\n", n, c->records);
			printf("exporter.%s.packets %" PRIu64 "\n", n, c->packets);
			printf("exporter.%s.octets %" PRIu64 "\n", n, c->octets);
			printf("exporter.%s.packets_scaled %" PRIu64 "\n", n, scaled(c->packets, o->sampling));
			printf("exporter.%s.octets_scaled %" PRIu64 "\n", n, scaled(c->octets, o->sampling));
			if (ex[i].sent_any)
				printf("exporter.%s.last_sequence %u\n", n, ex[i].last_sequence);
			else
				printf("exporter.%s.last_sequence none\n", n);
			printf("exporter.%s.next_sequence %u\n", n, ex[i].enc.sequence);
		}
		for (size_t i = 0; i < nports; i++) {
			printf("top.dst_port.%zu.port %u\n", i + 1, ports[i].port);
			printf("top.dst_port.%zu.records %" PRIu64 "\n", i + 1, ports[i].records);
			printf("top.dst_port.%zu.packets %" PRIu64 "\n", i + 1, ports[i].packets);
			printf("top.dst_port.%zu.octets %" PRIu64 "\n", i + 1, ports[i].octets);
		}
		for (size_t i = 0; i < nsrcs; i++) {
			addr_format(&srcs[i].addr, a, sizeof(a));
			printf("top.src_addr.%zu.addr %s\n", i + 1, a);
			printf("top.src_addr.%zu.records %" PRIu64 "\n", i + 1, srcs[i].records);
			printf("top.src_addr.%zu.packets %" PRIu64 "\n", i + 1, srcs[i].packets);
			printf("top.src_addr.%zu.octets %" PRIu64 "\n", i + 1, srcs[i].octets);
		}
		return;
	}

	printf("{\"config\":{\"version\":%u,\"dest\":", o->version);
	json_str(dest);
	printf(",\"seed\":%" PRIu64 ",\"keys\":%u,\"skew\":%g,\"sampling\":%u,\"exporters\":%u,"
	    "\"domain\":%u,\"ipv6_share\":%g,\"rate\":%g,\"template_every\":%u,\"max_size\":%zu,"
	    "\"batch\":%u},\n", o->seed, o->keys, o->skew, o->sampling, o->exporters, o->domain,
	    o->ipv6_share, o->rate, o->template_every, o->max_size, o->batch);
	printf("\"run\":{\"seconds\":%.6f,\"records_per_s\":%.0f,\"datagrams_per_s\":%.0f},\n",
	    seconds, rps, dps);
	printf("\"total\":{\"datagrams\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"records\":%" PRIu64
	    ",\"packets\":%" PRIu64 ",\"octets\":%" PRIu64 ",\"records_scaled\":%" PRIu64
	    ",\"packets_scaled\":%" PRIu64 ",\"octets_scaled\":%" PRIu64
	    ",\"template_datagrams\":%" PRIu64 ",\"send_retries\":%" PRIu64 "},\n",
	    tot->datagrams, tot->bytes, tot->records, tot->packets, tot->octets,
	    scaled(tot->records, o->sampling), scaled(tot->packets, o->sampling),
	    scaled(tot->octets, o->sampling), tmpl, retries);
	printf("\"exporters\":[");
	for (uint32_t i = 0; i < o->exporters; i++) {
		const struct gen_counts *c = gen_truth_exporter(t, i);

		printf("%s\n {\"name\":", i ? "," : "");
		json_str(ex[i].name);
		printf(",\"source\":");
		json_str(ex[i].source);
		printf(",\"version\":%u,\"domain\":%u,\"datagrams\":%" PRIu64 ",\"bytes\":%" PRIu64
		    ",\"records\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"octets\":%" PRIu64
		    ",\"packets_scaled\":%" PRIu64 ",\"octets_scaled\":%" PRIu64,
		    o->version, ex[i].enc.domain, c->datagrams, c->bytes, c->records, c->packets,
		    c->octets, scaled(c->packets, o->sampling), scaled(c->octets, o->sampling));
		if (ex[i].sent_any)
			printf(",\"last_sequence\":%u", ex[i].last_sequence);
		else
			printf(",\"last_sequence\":null");
		printf(",\"next_sequence\":%u}", ex[i].enc.sequence);
	}
	printf("],\n\"top\":{\"dst_port\":[");
	for (size_t i = 0; i < nports; i++)
		printf("%s\n {\"port\":%u,\"records\":%" PRIu64 ",\"packets\":%" PRIu64
		    ",\"octets\":%" PRIu64 "}", i ? "," : "", ports[i].port, ports[i].records,
		    ports[i].packets, ports[i].octets);
	printf("],\n\"src_addr\":[");
	for (size_t i = 0; i < nsrcs; i++) {
		addr_format(&srcs[i].addr, a, sizeof(a));
		printf("%s\n {\"addr\":\"%s\",\"records\":%" PRIu64 ",\"packets\":%" PRIu64
		    ",\"octets\":%" PRIu64 "}", i ? "," : "", a, srcs[i].records,
		    srcs[i].packets, srcs[i].octets);
	}
	printf("]}}\n");
}

/* ---- main loop ---- */

int
main(int argc, char **argv)
{
	struct opts o;
	struct exporter_io *ex;
	struct gen_model *model;
	struct gen_truth *truth;
	struct gen_model_params mp;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	uint8_t *bufs;
	struct flow_record carry;
	bool have_carry = false, done = false;
	uint64_t generated = 0, retries = 0;
	int64_t start, deadline = INT64_MAX, end;
	uint32_t next_exp = 0, batch;
	double ns_per_record;
	const char *why;
	struct sigaction sa;

	parse_args(argc, argv, &o);

	memset(&mp, 0, sizeof(mp));
	mp.seed = o.seed;
	mp.keys = o.keys;
	mp.skew = o.skew;
	mp.ipv6_share = o.ipv6_share;
	if ((model = gen_model_new(&mp, &why)) == NULL)
		usage_error("traffic model: %s", why);
	if ((truth = gen_truth_new(o.exporters, o.keys)) == NULL)
		fatal("out of memory");
	if ((ex = calloc(o.exporters, sizeof(*ex))) == NULL)
		fatal("out of memory");
	open_exporters(&o, ex);
	dest_sockaddr(&o, &dst, &dstlen);

	/* Batch size: what was asked, but when paced about 1 ms of the schedule. */
	batch = o.batch ? o.batch : 1;
	if (o.batch && o.rate > 0) {
		double per_dgram = o.version == 5 ? 30 : 18;
		double per_ms = o.rate / per_dgram / 1000.0;

		if (per_ms < batch)
			batch = per_ms < 1 ? 1 : (uint32_t)per_ms;
	}
	if ((bufs = malloc((size_t)batch * o.max_size)) == NULL)
		fatal("out of memory");
	for (uint32_t i = 0; i < batch; i++) {
		memset(&msgs[i], 0, sizeof(msgs[i]));
		iov[i].iov_base = bufs + (size_t)i * o.max_size;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = dstlen;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ns_per_record = o.rate > 0 ? 1e9 / o.rate : 0;
	start = mono_ns();
	if (o.duration > 0)
		deadline = start + (int64_t)(o.duration * 1e9);

	while (!done && !stop_requested) {
		struct exporter_io *x = &ex[next_exp];
		unsigned n = 0;

		/* fixed schedule: this batch leaves when the records before it are due */
		if (ns_per_record > 0)
			sleep_until(start + (int64_t)((double)gen_truth_total(truth)->records * ns_per_record));
		if (stop_requested || mono_ns() >= deadline)
			break;
		next_exp = (next_exp + 1) % o.exporters;
		while (n < batch) {
			struct gen_clock now;
			struct gen_msg m;
			int64_t wall_ms;
			uint32_t seq;

			now_clock(start, &now, &wall_ms);
			if (!gen_msg_begin(&m, &x->enc, iov[n].iov_base, o.max_size, &now))
				usage_error("--max-size %zu is too small for the header and templates", o.max_size);
			for (;;) {
				struct flow_record rec;
				enum gen_add r;

				if (o.records && generated >= o.records && !have_carry) {
					done = true;
					break;
				}
				if (have_carry) {
					rec = carry;
					have_carry = false;
				} else {
					gen_model_next(model, wall_ms, &rec);
					generated++;
				}
				r = gen_msg_add(&m, &rec);
				if (r == GEN_ADD_FULL) {
					if (m.data_records == 0)
						usage_error("--max-size %zu cannot hold one record", o.max_size);
					carry = rec;
					have_carry = true;
					break;
				}
				if (r == GEN_ADD_UNSUPPORTED)
					fatal("internal error: record not encodable in version %u", o.version);
				gen_truth_add_record(truth, (uint32_t)(x - ex), &rec);
			}
			if (m.data_records == 0)
				break;		/* nothing left to send (not even for a template refresh) */
			seq = x->enc.sequence;
			iov[n].iov_len = gen_msg_finish(&m);
			x->last_sequence = seq;
			x->sent_any = true;
			gen_truth_add_datagram(truth, (uint32_t)(x - ex), iov[n].iov_len);
			n++;
			if (done)
				break;
		}
		if (n == 0)
			break;
		send_all(x->fd, msgs, n, o.batch != 0, &retries);
	}
	end = mono_ns();

	print_truth(&o, ex, truth, (double)(end - start) / 1e9, retries);
	for (uint32_t i = 0; i < o.exporters; i++)
		close(ex[i].fd);
	free(bufs);
	free(ex);
	gen_truth_free(truth);
	gen_model_free(model);
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
