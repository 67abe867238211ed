/*
 * fp_responder: the far end of the probe integration tests and benchmarks.
 * It runs inside a network namespace that the test created and plays a path
 * whose impairment is scripted in user space (the kernel here has no netem):
 *
 *   icmp         answers ICMP echo requests itself from a raw socket (the
 *                namespace sets icmp_echo_ignore_all so the kernel is silent)
 *   udp PORT     echoes datagrams back, byte for byte (RFC 862)
 *   tcp PORT     listens and accepts; the SYN/ACK comes from the kernel, so
 *                no delay can be scripted there: it only logs connections
 *   sniff        answers nothing; logs every echo request's kernel arrival
 *                time (the benchmark's send-time capture without pcap)
 *
 * Each request gets a scripted hold (fixed, base +- uniform jitter, or a
 * list) and an action: answered, dropped (every Nth, a list, or seeded
 * Bernoulli), late (held for --late-hold) or dup (answered twice). Replies
 * sit in a min-heap on their due time behind a timerfd, so a reply may
 * overtake an earlier one when the jitter exceeds the spacing.
 *
 * The log is the ground truth: one line per request, written when it is
 * done, with the hold actually applied: monotonic time right before the
 * reply's sendmsg() minus the kernel's receive stamp (SO_TIMESTAMPNS, moved
 * from CLOCK_REALTIME onto CLOCK_MONOTONIC). Everything is bounded: requests
 * (--max-requests), run time (--max-time), queued replies (--max-queue).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_US	1000LL
#define NS_PER_S	1000000000LL
#define RX_BUF		65536
#define LIST_MAX	100000
#define QUEUE_BYTES_MAX	(64u << 20)	/* bytes of queued replies */
#define RX_BATCH	256		/* receives per wake-up before replies get a turn */
#define SNIFF_FLUSH_NS	(NS_PER_S / 4)
#define RCVBUF		(4 << 20)
#define ICMP_FILTER_OPT	1		/* <linux/icmp.h> ICMP_FILTER, which clashes with <netinet/ip_icmp.h> */

/* The payload flowpathd's probes carry (probes/pwire.h): magic, token, seq. */
#define FP_MAGIC	"FPp1"
#define FP_SEQ_OFF	12
#define FP_PAYLOAD_MIN	16
#define TWAMP_REFL_LEN	41	/* RFC 5357 4.2.1: the sender's padding starts here */

enum mode { MODE_ICMP, MODE_UDP, MODE_TCP, MODE_SNIFF };
enum action { ACT_ANSWERED, ACT_DROPPED, ACT_LATE, ACT_DUP, ACT_OVERFLOW,
    ACT_UNSENT, ACT_ACCEPTED, ACT_SEEN, ACT_COUNT };
static const char *const action_name[ACT_COUNT] = {
	"answered", "dropped", "late", "dup", "overflow", "unsent", "accepted", "seen"
};

struct idx_list {
	uint64_t	*v;		/* sorted */
	size_t		 n;
};

struct opts {
	enum mode	 mode;
	bool		 v6;
	uint16_t	 port;
	const char	*bind_text;
	const char	*dst_text;	/* only requests to this address */
	struct sockaddr_storage dst;
	int64_t		 delay_ns, jitter_ns;
	int64_t		*delay_list;
	size_t		 ndelay;
	uint64_t	 seed;
	uint64_t	 drop_every;
	struct idx_list	 drop_list;
	double		 drop_prob;
	struct idx_list	 late;
	int64_t		 late_hold_ns;
	struct idx_list	 dup;
	int64_t		 dup_gap_ns;
	uint64_t	 script_until;	/* drop/late/dup rules stop after this request */
	uint64_t	 max_requests;
	int64_t		 max_time_ns;
	size_t		 max_queue;
	const char	*log_path;
	const char	*ready_path;
};

/* One request from its arrival until its last copy left. */
struct request {
	uint64_t	 idx;		/* 1-based, in arrival order */
	enum action	 action;
	int		 copies;	/* replies to send: 0, 1 or 2 */
	int		 sent;
	bool		 queued;	/* counted in the queue limits */
	bool		 scripted;	/* script_ns applies */
	int64_t		 script_ns;	/* the hold the script asked for */
	int64_t		 rx_kern_ns;	/* kernel stamp, monotonic */
	int64_t		 rx_user_ns;	/* monotonic, right after recvmsg */
	int64_t		 tx_ns[2];	/* monotonic, right before each sendmsg */
	struct sockaddr_storage peer;
	socklen_t	 peerlen;
	struct sockaddr_storage local;	/* the request's destination: the reply's source */
	unsigned int	 ifindex;
	bool		 has_local;
	long		 id, seq, pseq;	/* -1: not present */
	size_t		 len;
	uint8_t		 pkt[];		/* the reply, ready to send */
};

struct slot {
	int64_t		 due_ns;
	uint64_t	 serial;	/* FIFO among equal due times */
	struct request	*req;
};

struct heap {
	struct slot	*s;
	size_t		 n, cap;
	uint64_t	 serial;
};

struct state {
	struct opts	 o;
	int		 fd, tfd;
	FILE		*log;
	struct heap	 heap;
	size_t		 queued_requests, queued_bytes;
	uint64_t	 requests;
	uint64_t	 count[ACT_COUNT];
	uint64_t	 send_errors, ignored;
	uint64_t	 rng_delay, rng_drop;
	bool		 reading;	/* false once max-requests is reached */
	uint8_t		 rxbuf[RX_BUF];
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * Exits with status: 2 (a usage error) points at --help; any other status
 * appends the errno text, if any.
 */
static void __attribute__((format(printf, 2, 3), noreturn))
die(int status, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	fputs("fp_responder: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (status == 2)
		fputs("\nTry 'fp_responder --help'.", stderr);
	else if (e != 0)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	exit(status);
}

#define FATAL(...)	die(EXIT_FAILURE, __VA_ARGS__)
#define USAGE_ERROR(...) die(2, __VA_ARGS__)

static void
help(void)
{
	printf(
"usage: fp_responder icmp|udp PORT|tcp PORT|sniff [options]\n"
"\n"
"Scripted far end for the probe tests; run it inside a test namespace.\n"
"  icmp        answer ICMP echo from a raw socket (set icmp_echo_ignore_all=1\n"
"              and, with -6, net.ipv6.icmp.echo_ignore_all=1 in the namespace)\n"
"  udp PORT    echo datagrams back (RFC 862)\n"
"  tcp PORT    accept and close; the kernel sends the SYN/ACK, so the delay\n"
"              options do not apply\n"
"  sniff       answer nothing, log the kernel arrival time of each echo request\n"
"\n"
"  -6                 IPv6 (ICMPv6, or bind :: for udp/tcp)\n"
"  -b, --bind ADDR    udp/tcp: local address (default 0.0.0.0 or ::)\n"
"  -a, --dst ADDR     icmp/sniff: only requests to ADDR count; others are ignored\n"
"  -d, --delay US     hold every reply US microseconds (default 0)\n"
"  -j, --jitter US    ... plus a uniform draw in [-US, +US] (seeded)\n"
"  -L, --delay-list US,US,...  holds of requests 1, 2, ... (cycled)\n"
"  -s, --seed N       seed of the jitter and Bernoulli draws (default 1)\n"
"  -D, --drop-every N drop requests N, 2N, 3N, ...\n"
"  -x, --drop-list I,I,...     drop these request indexes (1-based)\n"
"  -p, --drop-prob P  drop each request with probability P (seeded)\n"
"  -l, --late I,I,... hold these requests for --late-hold instead\n"
"  -H, --late-hold US (default 1000000)\n"
"  -u, --dup I,I,...  answer these requests twice, the copy --dup-gap later\n"
"  -g, --dup-gap US   (default 1000)\n"
"  -N, --script-until N  drop, late and dup rules apply to requests 1..N only;\n"
"                     later ones are answered with their scripted delay\n"
"  -n, --max-requests N  stop reading after N requests; exit when the queue\n"
"                     is empty (default 100000)\n"
"  -t, --max-time S   exit after S seconds (default 300)\n"
"  -q, --max-queue N  replies queued at most; beyond, 'overflow' (default 4096)\n"
"  -o, --log FILE     ground-truth log (default stdout)\n"
"  -r, --ready FILE   write the PID to FILE once the socket is open\n"
"\n"
"Late and dup indexes take precedence over the drop rules. Every request\n"
"draws its jitter and its Bernoulli number whatever its action, so one seed\n"
"gives one sequence of holds.\n"
"\n"
"Log: '#' header, then one line per request when it is done:\n"
"  idx proto src dst id seq pseq action script_ns hold_ns hold2_ns rx_kern_ns rx_user_ns\n"
"  id/seq: ICMP header (UDP: seq = first 32 bits, the TWAMP-light sender\n"
"  seq); pseq: flowpathd payload seq; hold = tx - rx_kern (monotonic ns),\n"
"  hold2 the duplicate's; '-' when absent. Exit summary on stderr.\n");
}

/* ------------------------------------------------------------- clocks */

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int64_t
mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/*
 * Kernel software stamps are CLOCK_REALTIME; the offset to the monotonic
 * clock is sampled around a realtime read, so a slewing or stepping wall
 * clock moves it but never skews an interval measured on one side.
 */
static int64_t
rt_to_mono(int64_t rt_ns)
{
	int64_t m1, rt, m2;

	m1 = mono_ns();
	rt = clock_ns(CLOCK_REALTIME);
	m2 = mono_ns();
	return rt_ns - (rt - (m1 + (m2 - m1) / 2));
}

/* ------------------------------------------------------------- random */

/* splitmix64: small, seeded, good enough for test scripts. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;	/* [0, 1) */
}

/* ------------------------------------------------------------- options */

static uint64_t
parse_u64(const char *what, const char *text, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (text[0] < '0' || text[0] > '9')
		USAGE_ERROR("%s: '%s' is not a number", what, text);
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		USAGE_ERROR("%s: '%s' is not in %" PRIu64 "..%" PRIu64, what, text, min, max);
	return v;
}

static int64_t
parse_us(const char *what, const char *text)
{
	return (int64_t)parse_u64(what, text, 0, 3600ULL * 1000000) * NS_PER_US;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* "1,5,9" into v (at most LIST_MAX numbers in min..max); returns the count. */
static size_t
parse_list(const char *what, const char *text, uint64_t min, uint64_t max, uint64_t **out)
{
	char *copy, *tok, *save = NULL;
	uint64_t *v;
	size_t n = 0;

	if ((copy = strdup(text)) == NULL || (v = calloc(LIST_MAX, sizeof(*v))) == NULL)
		FATAL("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n == LIST_MAX)
			USAGE_ERROR("%s: more than %d entries", what, LIST_MAX);
		v[n++] = parse_u64(what, tok, min, max);
	}
	free(copy);
	if (n == 0)
		USAGE_ERROR("%s: empty list", what);
	*out = v;
	return n;
}

static void
parse_idx_list(const char *what, const char *text, struct idx_list *l)
{
	l->n = parse_list(what, text, 1, UINT64_MAX, &l->v);
	qsort(l->v, l->n, sizeof(*l->v), cmp_u64);
}

static bool
idx_in(const struct idx_list *l, uint64_t idx)
{
	return l->n > 0 && bsearch(&idx, l->v, l->n, sizeof(*l->v), cmp_u64) != NULL;
}

static void
parse_addr(const char *what, const char *text, bool v6, uint16_t port,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
			USAGE_ERROR("%s: '%s' is not an IPv6 address", what, text);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			USAGE_ERROR("%s: '%s' is not an IPv4 address (-6 for IPv6)", what, text);
	}
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "dst", required_argument, NULL, 'a' },
		{ "delay", required_argument, NULL, 'd' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "delay-list", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 's' },
		{ "drop-every", required_argument, NULL, 'D' },
		{ "drop-list", required_argument, NULL, 'x' },
		{ "drop-prob", required_argument, NULL, 'p' },
		{ "late", required_argument, NULL, 'l' },
		{ "late-hold", required_argument, NULL, 'H' },
		{ "dup", required_argument, NULL, 'u' },
		{ "dup-gap", required_argument, NULL, 'g' },
		{ "script-until", required_argument, NULL, 'N' },
		{ "max-requests", required_argument, NULL, 'n' },
		{ "max-time", required_argument, NULL, 't' },
		{ "max-queue", required_argument, NULL, 'q' },
		{ "log", required_argument, NULL, 'o' },
		{ "ready", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *mode;
	uint64_t *list;
	char *end;
	size_t i;
	int c;

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->late_hold_ns = NS_PER_S;
	o->dup_gap_ns = 1000 * NS_PER_US;
	o->script_until = UINT64_MAX;
	o->max_requests = 100000;
	o->max_time_ns = 300 * NS_PER_S;
	o->max_queue = 4096;
	while ((c = getopt_long(argc, argv, "6b:a:d:j:L:s:D:x:p:l:H:u:g:N:n:t:q:o:r:h", lo, NULL)) != -1) {
		switch (c) {
		case '6': o->v6 = true; break;
		case 'b': o->bind_text = optarg; break;
		case 'a': o->dst_text = optarg; break;
		case 'd': o->delay_ns = parse_us("--delay", optarg); break;
		case 'j': o->jitter_ns = parse_us("--jitter", optarg); break;
		case 'L':
			o->ndelay = parse_list("--delay-list", optarg, 0, 3600ULL * 1000000, &list);
			if ((o->delay_list = calloc(o->ndelay, sizeof(*o->delay_list))) == NULL)
				FATAL("out of memory");
			for (i = 0; i < o->ndelay; i++)
				o->delay_list[i] = (int64_t)list[i] * NS_PER_US;
			free(list);
			break;
		case 's': o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case 'D': o->drop_every = parse_u64("--drop-every", optarg, 1, UINT64_MAX); break;
		case 'x': parse_idx_list("--drop-list", optarg, &o->drop_list); break;
		case 'p':
			errno = 0;
			o->drop_prob = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    !(o->drop_prob >= 0 && o->drop_prob <= 1))
				USAGE_ERROR("--drop-prob: '%s' is not in 0..1", optarg);
			break;
		case 'l': parse_idx_list("--late", optarg, &o->late); break;
		case 'H': o->late_hold_ns = parse_us("--late-hold", optarg); break;
		case 'u': parse_idx_list("--dup", optarg, &o->dup); break;
		case 'g': o->dup_gap_ns = parse_us("--dup-gap", optarg); break;
		case 'N': o->script_until = parse_u64("--script-until", optarg, 1, UINT64_MAX); break;
		case 'n': o->max_requests = parse_u64("--max-requests", optarg, 1, 100000000); break;
		case 't':
			o->max_time_ns = (int64_t)parse_u64("--max-time", optarg, 1, 86400) * NS_PER_S;
			break;
		case 'q': o->max_queue = parse_u64("--max-queue", optarg, 1, 1000000); break;
		case 'o': o->log_path = optarg; break;
		case 'r': o->ready_path = optarg; break;
		case 'h': help(); exit(0);
		default: USAGE_ERROR("unknown option");
		}
	}
	if (optind >= argc)
		USAGE_ERROR("a mode is needed: icmp, udp PORT, tcp PORT or sniff");
	mode = argv[optind++];
	if (strcmp(mode, "icmp") == 0)
		o->mode = MODE_ICMP;
	else if (strcmp(mode, "sniff") == 0)
		o->mode = MODE_SNIFF;
	else if (strcmp(mode, "udp") == 0 || strcmp(mode, "tcp") == 0) {
		o->mode = mode[0] == 'u' ? MODE_UDP : MODE_TCP;
		if (optind >= argc)
			USAGE_ERROR("%s needs a PORT", mode);
		o->port = (uint16_t)parse_u64("PORT", argv[optind++], 1, 65535);
	} else
		USAGE_ERROR("unknown mode '%s'", mode);
	if (optind < argc)
		USAGE_ERROR("unexpected argument '%s'", argv[optind]);
	if (o->jitter_ns > o->delay_ns)
		USAGE_ERROR("--jitter larger than --delay would need negative holds");
	if (o->dst_text != NULL)
		parse_addr("--dst", o->dst_text, o->v6, 0, &o->dst);
}

/* ------------------------------------------------------------- heap */

static bool
slot_before(const struct slot *a, const struct slot *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->serial < b->serial);
}

static bool
heap_push(struct heap *h, int64_t due_ns, struct request *req)
{
	struct slot s, t;
	size_t i, p;

	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		struct slot *ns = realloc(h->s, ncap * sizeof(*ns));

		if (ns == NULL)
			return false;
		h->s = ns;
		h->cap = ncap;
	}
	s.due_ns = due_ns;
	s.serial = h->serial++;
	s.req = req;
	i = h->n++;
	h->s[i] = s;
	while (i > 0 && slot_before(&h->s[i], &h->s[p = (i - 1) / 2])) {
		t = h->s[p];
		h->s[p] = h->s[i];
		h->s[i] = t;
		i = p;
	}
	return true;
}

static struct slot
heap_pop(struct heap *h)
{
	struct slot top = h->s[0], t;
	size_t i = 0, l, m;

	h->s[0] = h->s[--h->n];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < h->n && slot_before(&h->s[l], &h->s[m]))
			m = l;
		if (l + 1 < h->n && slot_before(&h->s[l + 1], &h->s[m]))
			m = l + 1;
		if (m == i)
			break;
		t = h->s[m];
		h->s[m] = h->s[i];
		h->s[i] = t;
		i = m;
	}
	return top;
}

/* ------------------------------------------------------------- log */

static void
format_sa(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "-");
}

static void
put_num(FILE *f, long long v, bool present)
{
	if (present)
		fprintf(f, " %lld", v);
	else
		fputs(" -", f);
}

static void
log_request(struct state *st, const struct request *r)
{
	static const char *const proto[] = { "icmp", "udp", "tcp", "sniff" };
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	FILE *f = st->log;

	format_sa(&r->peer, src, sizeof(src));
	if (r->has_local)
		format_sa(&r->local, dst, sizeof(dst));
	else
		snprintf(dst, sizeof(dst), "-");
	fprintf(f, "%" PRIu64 " %s%s %s %s", r->idx, proto[st->o.mode],
	    st->o.v6 ? "6" : "4", src, dst);
	put_num(f, r->id, r->id >= 0);
	put_num(f, r->seq, r->seq >= 0);
	put_num(f, r->pseq, r->pseq >= 0);
	fprintf(f, " %s", action_name[r->action]);
	put_num(f, r->script_ns, r->scripted);
	put_num(f, r->tx_ns[0] - r->rx_kern_ns, r->sent >= 1);
	put_num(f, r->tx_ns[1] - r->rx_kern_ns, r->sent >= 2);
	put_num(f, r->rx_kern_ns, r->rx_kern_ns != 0);
	put_num(f, r->rx_user_ns, true);
	fputc('\n', f);
	if (ferror(f))
		FATAL("writing the log");
}

/* ------------------------------------------------------------- sockets */

static int
open_socket(const struct opts *o)
{
	int fam = o->v6 ? AF_INET6 : AF_INET, fd, one = 1, rcvbuf = RCVBUF;
	struct sockaddr_storage ss;

	switch (o->mode) {
	case MODE_ICMP:
	case MODE_SNIFF:
		fd = socket(fam, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    o->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
		if (fd == -1)
			FATAL("raw ICMP socket (needs CAP_NET_RAW)");
		if (o->v6) {
			struct icmp6_filter f6;

			ICMP6_FILTER_SETBLOCKALL(&f6);
			ICMP6_FILTER_SETPASS(ICMP6_ECHO_REQUEST, &f6);
			if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)) == -1)
				FATAL("ICMP6_FILTER");
		} else {
			/* ICMP_FILTER: a set bit blocks that type */
			uint32_t mask = ~(1u << ICMP_ECHO);

			if (setsockopt(fd, SOL_RAW, ICMP_FILTER_OPT, &mask, sizeof(mask)) == -1)
				FATAL("ICMP_FILTER");
		}
		break;
	case MODE_UDP:
	case MODE_TCP:
		fd = socket(fam, (o->mode == MODE_UDP ? SOCK_DGRAM : SOCK_STREAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			FATAL("socket");
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
			FATAL("SO_REUSEADDR");
		if (o->v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
			FATAL("IPV6_V6ONLY");
		parse_addr("--bind", o->bind_text ? o->bind_text : (o->v6 ? "::" : "0.0.0.0"),
		    o->v6, o->port, &ss);
		if (bind(fd, (struct sockaddr *)&ss, o->v6 ? sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in)) == -1)
			FATAL("bind to port %u", o->port);
		if (o->mode == MODE_TCP && listen(fd, 1024) == -1)
			FATAL("listen");
		break;
	default:
		abort();
	}
	if (o->mode != MODE_TCP) {
		if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) == -1)
			FATAL("SO_TIMESTAMPNS");
		if (o->v6) {
			if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) == -1)
				FATAL("IPV6_RECVPKTINFO");
		} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) == -1)
			FATAL("IP_PKTINFO");
		/* a burst of 1000 requests must not overflow the queue; root may force it */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) == -1)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	return fd;
}

/* RFC 1071 Internet checksum. */
static uint16_t
inet_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* flowpathd's payload seq at off, or -1 (another sender, or too short). */
static long
payload_seq(const uint8_t *p, size_t len, size_t off)
{
	if (len < off + FP_PAYLOAD_MIN || memcmp(p + off, FP_MAGIC, 4) != 0)
		return -1;
	return (long)get_be32(p + off + FP_SEQ_OFF);
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
	    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}

/* ------------------------------------------------------------- script */

static int64_t
script_hold(struct state *st, uint64_t idx)
{
	const struct opts *o = &st->o;
	int64_t d;

	if (o->ndelay > 0)
		return o->delay_list[(idx - 1) % o->ndelay];
	d = o->delay_ns;
	if (o->jitter_ns > 0)
		d += (int64_t)((rng_unit(&st->rng_delay) * 2 - 1) * (double)o->jitter_ns);
	return d < 0 ? 0 : d;
}

static enum action
script_action(struct state *st, uint64_t idx)
{
	const struct opts *o = &st->o;
	bool bern = o->drop_prob > 0 && rng_unit(&st->rng_drop) < o->drop_prob;

	if (idx > o->script_until)
		return ACT_ANSWERED;
	if (idx_in(&o->late, idx))
		return ACT_LATE;
	if (idx_in(&o->dup, idx))
		return ACT_DUP;
	if (bern || (o->drop_every > 0 && idx % o->drop_every == 0) || idx_in(&o->drop_list, idx))
		return ACT_DROPPED;
	return ACT_ANSWERED;
}

static void
finish_request(struct state *st, struct request *r)
{
	st->count[r->action]++;
	log_request(st, r);
	if (r->queued) {
		st->queued_requests--;
		st->queued_bytes -= r->len;
	}
	free(r);
}

/* ------------------------------------------------------------- receive */

struct rx_meta {
	int64_t		 kern_ns, user_ns;
	struct sockaddr_storage local;
	unsigned int	 ifindex;
	bool		 has_local;
};

static void
parse_cmsgs(struct msghdr *mh, bool v6, struct rx_meta *m)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			m->kern_ns = rt_to_mono((int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec);
		} else if (!v6 && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in *s4 = (struct sockaddr_in *)&m->local;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(s4, 0, sizeof(*s4));
			s4->sin_family = AF_INET;
			s4->sin_addr = pi.ipi_addr;	/* the header's destination */
			m->ifindex = (unsigned int)pi.ipi_ifindex;
			m->has_local = true;
		} else if (v6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&m->local;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(s6, 0, sizeof(*s6));
			s6->sin6_family = AF_INET6;
			s6->sin6_addr = pi.ipi6_addr;
			m->ifindex = pi.ipi6_ifindex;
			m->has_local = true;
		}
	}
	if (m->kern_ns == 0)	/* no stamp: the user-space time is the best there is */
		m->kern_ns = m->user_ns;
}

/*
 * What the request says about itself, and where the reply bytes start.
 * Returns false when the packet is not a request this mode handles.
 */
static bool
parse_request(struct state *st, const uint8_t *p, size_t len, struct request *r,
    size_t *reply_off)
{
	size_t off = 0;

	r->id = r->seq = r->pseq = -1;
	if (st->o.mode == MODE_UDP) {
		if (len >= 4)
			r->seq = (long)get_be32(p);
		r->pseq = payload_seq(p, len, TWAMP_REFL_LEN);
		*reply_off = 0;
		return true;
	}
	if (!st->o.v6) {	/* raw IPv4: the IP header comes first */
		if (len < 20 || p[0] >> 4 != 4 || (size_t)(p[0] & 0x0f) * 4 > len || p[9] != IPPROTO_ICMP)
			return false;
		off = (size_t)(p[0] & 0x0f) * 4;
	}
	if (len - off < 8 || p[off] != (st->o.v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO) || p[off + 1] != 0)
		return false;
	r->id = (long)(p[off + 4] << 8 | p[off + 5]);
	r->seq = (long)(p[off + 6] << 8 | p[off + 7]);
	r->pseq = payload_seq(p + off + 8, len - off - 8, 0);
	*reply_off = off;
	return true;
}

static void
schedule(struct state *st, struct request *r)
{
	int64_t due = r->rx_kern_ns + r->script_ns;

	if (!heap_push(&st->heap, due, r) ||
	    (r->copies == 2 && !heap_push(&st->heap, due + st->o.dup_gap_ns, r)))
		FATAL("out of memory");
	st->queued_requests++;
	st->queued_bytes += r->len;
	r->queued = true;
}

static void
handle_packet(struct state *st, const uint8_t *p, size_t len, const struct sockaddr_storage *peer,
    socklen_t peerlen, const struct rx_meta *m)
{
	struct request hdr, *r;
	size_t off = 0, rlen;

	memset(&hdr, 0, sizeof(hdr));
	if (!parse_request(st, p, len, &hdr, &off)) {
		st->ignored++;
		return;
	}
	if (st->o.dst_text != NULL && (!m->has_local || !same_addr(&m->local, &st->o.dst))) {
		st->ignored++;
		return;
	}
	rlen = len - off;
	if ((r = malloc(sizeof(*r) + rlen)) == NULL)
		FATAL("out of memory");
	*r = hdr;
	r->idx = ++st->requests;
	r->rx_kern_ns = m->kern_ns;
	r->rx_user_ns = m->user_ns;
	memcpy(&r->peer, peer, sizeof(*peer));
	r->peerlen = peerlen;
	r->local = m->local;
	r->ifindex = m->ifindex;
	r->has_local = m->has_local;
	r->len = rlen;
	memcpy(r->pkt, p + off, rlen);
	if (st->requests >= st->o.max_requests)
		st->reading = false;

	if (st->o.mode == MODE_SNIFF) {
		r->action = ACT_SEEN;
		r->len = 0;
		finish_request(st, r);
		return;
	}
	r->script_ns = script_hold(st, r->idx);
	r->action = script_action(st, r->idx);
	r->scripted = true;
	if (r->action == ACT_LATE)
		r->script_ns = st->o.late_hold_ns;
	r->copies = r->action == ACT_DROPPED ? 0 : r->action == ACT_DUP ? 2 : 1;
	if (r->copies > 0 && (st->queued_requests >= st->o.max_queue ||
	    st->queued_bytes + r->len > QUEUE_BYTES_MAX)) {
		r->action = ACT_OVERFLOW;
		r->copies = 0;
		r->scripted = false;
	}
	if (r->copies == 0) {
		finish_request(st, r);
		return;
	}
	if (st->o.mode == MODE_ICMP) {
		r->pkt[0] = st->o.v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY;
		r->pkt[2] = r->pkt[3] = 0;	/* ICMPv6: the kernel fills it in */
		if (!st->o.v6) {
			uint16_t ck = inet_cksum(r->pkt, r->len);

			r->pkt[2] = (uint8_t)(ck >> 8);
			r->pkt[3] = (uint8_t)ck;
		}
	}
	schedule(st, r);
}

static void
drain_socket(struct state *st)
{
	union {
		struct cmsghdr	align;
		uint8_t		buf[512];
	} ctl;
	struct sockaddr_storage peer;
	struct msghdr mh;
	struct iovec iov;
	struct rx_meta m;
	ssize_t n;
	int i;

	for (i = 0; i < RX_BATCH && st->reading; i++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = st->rxbuf;
		iov.iov_len = sizeof(st->rxbuf);
		mh.msg_name = &peer;
		mh.msg_namelen = sizeof(peer);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(st->fd, &mh, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			FATAL("recvmsg");
		}
		memset(&m, 0, sizeof(m));
		m.user_ns = mono_ns();
		parse_cmsgs(&mh, st->o.v6, &m);
		if (mh.msg_flags & MSG_TRUNC) {
			st->ignored++;
			continue;
		}
		handle_packet(st, st->rxbuf, (size_t)n, &peer, mh.msg_namelen, &m);
	}
}

static void
accept_all(struct state *st)
{
	struct sockaddr_storage peer, local;
	socklen_t plen, llen;
	struct request *r;
	int i, c;

	for (i = 0; i < RX_BATCH && st->reading; i++) {
		plen = sizeof(peer);
		c = accept4(st->fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (c == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			FATAL("accept");
		}
		if ((r = calloc(1, sizeof(*r))) == NULL)
			FATAL("out of memory");
		r->idx = ++st->requests;
		r->action = ACT_ACCEPTED;
		r->id = r->seq = r->pseq = -1;
		r->rx_user_ns = mono_ns();
		memcpy(&r->peer, &peer, sizeof(peer));
		llen = sizeof(local);
		if (getsockname(c, (struct sockaddr *)&local, &llen) == 0) {
			r->local = local;
			r->has_local = true;
		}
		close(c);
		finish_request(st, r);
		if (st->requests >= st->o.max_requests)
			st->reading = false;
	}
}

/* ------------------------------------------------------------- send */

static void
send_copy(struct state *st, struct request *r)
{
	union {
		struct cmsghdr	align;
		uint8_t		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = r->pkt;
	iov.iov_len = r->len;
	mh.msg_name = &r->peer;
	mh.msg_namelen = r->peerlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (r->has_local) {
		/* reply from the address that was asked: a local /22 has many */
		mh.msg_control = ctl.buf;
		c = (struct cmsghdr *)ctl.buf;
		if (st->o.v6) {
			struct in6_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi6_addr = ((struct sockaddr_in6 *)&r->local)->sin6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				pi.ipi6_ifindex = r->ifindex;
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		} else {
			struct in_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi_spec_dst = ((struct sockaddr_in *)&r->local)->sin_addr;
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		}
	}
	r->tx_ns[r->sent] = mono_ns();
	if (sendmsg(st->fd, &mh, 0) == -1)
		st->send_errors++;
	r->sent++;
}

static void
send_due(struct state *st, int64_t now)
{
	struct slot s;

	while (st->heap.n > 0 && st->heap.s[0].due_ns <= now) {
		s = heap_pop(&st->heap);
		send_copy(st, s.req);
		if (s.req->sent == s.req->copies)
			finish_request(st, s.req);
		now = mono_ns();
	}
}

static void
arm_timer(struct state *st)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));	/* all zero: disarmed */
	if (st->heap.n > 0) {
		int64_t due = st->heap.s[0].due_ns;

		if (due <= 0)
			due = 1;
		its.it_value.tv_sec = due / NS_PER_S;
		its.it_value.tv_nsec = due % NS_PER_S;
	}
	if (timerfd_settime(st->tfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		FATAL("timerfd_settime");
}

/* ------------------------------------------------------------- main */

static void
write_ready(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		FATAL("--ready: path too long");
	if ((f = fopen(tmp, "w")) == NULL)
		FATAL("%s", tmp);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		FATAL("%s", path);
}

int
main(int argc, char **argv)
{
	static struct state st;
	struct pollfd pfd[2];
	struct sigaction sa;
	int64_t start, now, deadline, next_flush, wait_ns;
	uint64_t expirations;
	size_t i;
	int nfd, timeout_ms;

	parse_opts(argc, argv, &st.o);
	st.rng_delay = st.o.seed;
	st.rng_drop = st.o.seed ^ 0x5bd1e9955bd1e995ULL;
	st.reading = true;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* timer wake-ups to the nanosecond rather than the default 50 us slack */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	if (st.o.log_path != NULL) {
		if ((st.log = fopen(st.o.log_path, "w")) == NULL)
			FATAL("%s", st.o.log_path);
	} else
		st.log = stdout;
	/* tests poll the log while we run; the sniffer's volume is flushed in batches */
	if (st.o.mode == MODE_SNIFF)
		setvbuf(st.log, NULL, _IOFBF, 1 << 20);
	else
		setvbuf(st.log, NULL, _IOLBF, 0);
	fprintf(st.log, "# idx proto src dst id seq pseq action script_ns hold_ns hold2_ns rx_kern_ns rx_user_ns\n");

	st.fd = open_socket(&st.o);
	if ((st.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) == -1)
		FATAL("timerfd_create");
	if (st.o.ready_path != NULL)
		write_ready(st.o.ready_path);

	start = mono_ns();
	deadline = start + st.o.max_time_ns;
	next_flush = start + SNIFF_FLUSH_NS;
	while (!stop_requested) {
		now = mono_ns();
		if (now >= deadline)
			break;
		if (!st.reading && st.heap.n == 0)
			break;
		nfd = 0;
		pfd[nfd].fd = st.tfd;
		pfd[nfd++].events = POLLIN;
		if (st.reading) {
			pfd[nfd].fd = st.fd;
			pfd[nfd++].events = POLLIN;
		}
		wait_ns = deadline - now;
		if (st.o.mode == MODE_SNIFF && next_flush - now < wait_ns)
			wait_ns = next_flush - now;
		timeout_ms = (int)((wait_ns + 999999) / 1000000);
		if (poll(pfd, (nfds_t)nfd, timeout_ms) == -1 && errno != EINTR)
			FATAL("poll");
		if (nfd > 1 && (pfd[1].revents & POLLIN)) {
			if (st.o.mode == MODE_TCP)
				accept_all(&st);
			else
				drain_socket(&st);
		}
		if (pfd[0].revents & POLLIN)
			(void)read(st.tfd, &expirations, sizeof(expirations));
		send_due(&st, mono_ns());
		arm_timer(&st);
		if (st.o.mode == MODE_SNIFF && mono_ns() >= next_flush) {
			fflush(st.log);
			next_flush = mono_ns() + SNIFF_FLUSH_NS;
		}
	}

	/* what is still queued was never sent: log it as such, sorted out by idx later */
	while (st.heap.n > 0) {
		struct slot s = heap_pop(&st.heap);

		if (--s.req->copies > s.req->sent)
			continue;	/* the duplicate's other slot is still in the heap */
		s.req->action = ACT_UNSENT;
		finish_request(&st, s.req);
	}
	if (fflush(st.log) != 0)
		FATAL("writing the log");
	fprintf(stderr, "fp_responder: requests %" PRIu64, st.requests);
	for (i = 0; i < ACT_COUNT; i++)
		if (st.count[i] > 0)
			fprintf(stderr, " %s %" PRIu64, action_name[i], st.count[i]);
	fprintf(stderr, " ignored %" PRIu64 " send_errors %" PRIu64 "\n",
	    st.ignored, st.send_errors);
	close(st.fd);
	close(st.tfd);
	if (st.log != stdout)
		fclose(st.log);
	return 0;
}
