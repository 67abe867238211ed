/*
 * The prober on real sockets: loopback, plus network namespaces the tests
 * make themselves (ICMP datagram sockets; a router that answers with ICMP
 * errors). The responders the UDP tests talk to are sockets of the test,
 * polled in the same loop as prober_fd(), so that what they drop, hold,
 * double or answer from elsewhere is known exactly and the prober's
 * counters can be checked against it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "probes/prober.h"
#include "probes/psock.h"
#include "probes/pwire.h"
#include "probes/reflector.h"

#define MS INT64_C(1000000)
#define SEQS 64

enum act { ANSWER = 0, DROP, HOLD, TWICE, FROM_ELSEWHERE, FWD_DROP, REV_DROP, RESTART };

/* A UDP responder of the test: an RFC 862 echo, or a TWAMP-light reflector of its own. */
struct responder {
	int		 fd, other_fd;
	struct addr_endpoint ep;
	bool		 reflect;
	uint8_t		 act[SEQS];
	uint32_t	 refl_seq;
	uint32_t	 got;
	size_t		 last_len;
	int		 last_tos;
	/* one held reply */
	uint8_t		 held[2048];
	size_t		 held_len;
	struct sockaddr_storage held_to;
	socklen_t	 held_tolen;
	int64_t		 held_due;
	int64_t		 hold_ns;	/* how long HOLD keeps a reply */
};

struct world {
	struct prober	*pr;
	struct reflector *rf;
	struct responder *rs;
	int		 listen_fd;
	uint64_t	 want;		/* sends to make before settling */
	uint32_t	 outcomes;
	char		 lost_order[8];	/* first letters of the probes, at their first loss */
	size_t		 nlost;
};

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static struct addr_endpoint
loopback(enum addr_family fam, uint16_t port)
{
	struct addr_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.addr.family = fam;
	if (fam == ADDR_V4) {
		ep.addr.bytes[0] = 127;
		ep.addr.bytes[3] = 1;
	} else
		ep.addr.bytes[15] = 1;
	ep.port = port;
	return ep;
}

static struct addr_endpoint
endpoint(const char *text)
{
	struct addr_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	if (addr_parse_endpoint(text, &ep) != NULL)
		assert_null(addr_parse(text, &ep.addr));
	return ep;
}

/* A socket of the type bound to a free loopback port of the family; *ep gets the address. */
static int
bound_socket(enum addr_family fam, int type, struct addr_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	*ep = loopback(fam, 0);
	sl = psock_sockaddr(ep, &ss);
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (fam == ADDR_V6)
		assert_true(psock_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1));
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	addr_endpoint_from_sockaddr(&ss, ep);
	return fd;
}

/* A port nobody listens on: bound and closed again. */
static uint16_t
closed_port(enum addr_family fam, int type)
{
	struct addr_endpoint ep;

	close(bound_socket(fam, type, &ep));
	return ep.port;
}

static struct probe_spec
spec(const char *name, enum probe_type type, struct addr_endpoint target, int64_t interval_ms,
    int64_t timeout_ms)
{
	struct probe_spec s;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.type = type;
	s.target = target;
	s.interval_ns = interval_ms * MS;
	s.timeout_ns = timeout_ms * MS;
	s.window_ns = 60000 * MS;
	return s;
}

static void
responder_open(struct responder *r, enum addr_family fam, bool reflect)
{
	struct addr_endpoint other;

	memset(r, 0, sizeof(*r));
	r->reflect = reflect;
	r->fd = bound_socket(fam, SOCK_DGRAM, &r->ep);
	r->other_fd = bound_socket(fam, SOCK_DGRAM, &other);
	r->last_tos = -1;
	r->hold_ns = 50 * MS;	/* past run_udp's 40 ms timeout, before its next send 60 ms on */
	if (fam == ADDR_V4)
		assert_true(psock_opt(r->fd, IPPROTO_IP, IP_RECVTOS, 1));
	else
		assert_true(psock_opt(r->fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1));
}

static void
responder_close(struct responder *r)
{
	close(r->fd);
	close(r->other_fd);
}

static void
responder_input(struct responder *r)
{
	for (int budget = 0; budget < 64; budget++) {
		uint8_t buf[2048], out[2048];
		union {
			char		 b[256];
			struct cmsghdr	 align;
		} ctl;
		struct sockaddr_storage from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
		    .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		ssize_t n = recvmsg(r->fd, &mh, MSG_DONTWAIT);
		uint32_t seq;
		size_t len;
		enum act a;

		if (n < 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS)
				r->last_tos = *CMSG_DATA(cm);
			else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS)
				memcpy(&r->last_tos, CMSG_DATA(cm), sizeof(int));
		}
		r->got++;
		r->last_len = (size_t)n;
		seq = n >= 4 ? get32(buf) : 0;	/* RFC 5357 4.1.2: the sender's sequence number first */
		a = seq < SEQS ? (enum act)r->act[seq] : ANSWER;
		if (a == DROP || a == FWD_DROP)
			continue;
		if (a == RESTART)
			r->refl_seq = 0;
		len = (size_t)n;
		if (r->reflect) {
			uint64_t now = pwire_ntp_from_wall_ns(psock_wall_ns());

			len = pwire_reflect(buf, (size_t)n, out, sizeof(out), r->refl_seq++, now, now, 64);
			assert_true(len > 0);
		} else
			memcpy(out, buf, len);
		if (a == REV_DROP)
			continue;
		if (a == HOLD) {
			memcpy(r->held, out, len);
			r->held_len = len;
			r->held_to = from;
			r->held_tolen = mh.msg_namelen;
			r->held_due = psock_mono_ns() + r->hold_ns;
			continue;
		}
		assert_int_equal(sendto(a == FROM_ELSEWHERE ? r->other_fd : r->fd, out, len, 0,
		    (struct sockaddr *)&from, mh.msg_namelen), (ssize_t)len);
		if (a == TWICE)
			assert_int_equal(sendto(r->fd, out, len, 0, (struct sockaddr *)&from,
			    mh.msg_namelen), (ssize_t)len);
	}
}

static void
on_outcome(void *arg, size_t i, int64_t now)
{
	struct world *w = arg;

	const struct probe_result *r = prober_result(w->pr, i, now);
	const char *name = prober_spec(w->pr, i)->name;

	w->outcomes++;
	if (r->c.lost == 1 && r->c.received == 0 && w->nlost < sizeof(w->lost_order) - 1 &&
	    strchr(w->lost_order, name[0]) == NULL)
		w->lost_order[w->nlost++] = name[0];
}

static const struct probe_result *
result(struct world *w, size_t i)
{
	return prober_result(w->pr, i, psock_mono_ns());
}

/* Every probe made its sends and each is decided; the responder has nothing pending. */
static bool
settled(struct world *w)
{
	prober_readable(w->pr, psock_mono_ns());	/* loopback delivers within sendto */
	if (w->rs != NULL && w->rs->held_len > 0)
		return false;
	for (size_t i = 0; i < prober_count(w->pr); i++) {
		const struct probe_result *r = result(w, i);

		if (r->status == PROBE_STATUS_ERROR)
			continue;
		if (r->c.sent < w->want || r->c.sent != r->c.received + r->c.lost)
			return false;
	}
	return true;
}

/* The event loop of the tests: the prober, the reflector, a responder, a listener; at most max_ms. */
static void
drive(struct world *w, int64_t max_ms)
{
	int64_t end = psock_mono_ns() + max_ms * MS;

	prober_set_outcome_cb(w->pr, on_outcome, w);
	while (!settled(w)) {
		struct pollfd pf[8];
		int fds[4], nf = 0, nr = 0;
		int64_t now = psock_mono_ns(), next = prober_next(w->pr), wait;
		struct timespec ts;

		if (now >= end)
			break;
		if (next > end)
			next = end;
		if (w->rs != NULL && w->rs->held_len > 0 && w->rs->held_due < next)
			next = w->rs->held_due;
		wait = next > now ? next - now : 0;
		ts.tv_sec = wait / 1000000000;
		ts.tv_nsec = wait % 1000000000;
		pf[nf++] = (struct pollfd){ prober_fd(w->pr), POLLIN, 0 };
		if (w->rf != NULL) {
			nr = (int)reflector_fds(w->rf, fds, 4);
			for (int i = 0; i < nr; i++)
				pf[nf++] = (struct pollfd){ fds[i], POLLIN, 0 };
		}
		if (w->rs != NULL)
			pf[nf++] = (struct pollfd){ w->rs->fd, POLLIN, 0 };
		if (w->listen_fd >= 0)
			pf[nf++] = (struct pollfd){ w->listen_fd, POLLIN, 0 };
		if (ppoll(pf, (nfds_t)nf, &ts, NULL) < 0)
			break;
		now = psock_mono_ns();
		nf = 0;
		if (pf[nf++].revents & POLLIN)
			prober_readable(w->pr, now);
		for (int i = 0; i < nr; i++)
			if (pf[nf++].revents & POLLIN)
				reflector_readable(w->rf, fds[i]);
		if (w->rs != NULL && (pf[nf++].revents & POLLIN))
			responder_input(w->rs);
		if (w->listen_fd >= 0 && (pf[nf++].revents & POLLIN)) {
			int c;

			while ((c = accept(w->listen_fd, NULL, NULL)) >= 0)
				close(c);
		}
		if (w->rs != NULL && w->rs->held_len > 0 && psock_mono_ns() >= w->rs->held_due) {
			assert_int_equal(sendto(w->rs->fd, w->rs->held, w->rs->held_len, 0,
			    (struct sockaddr *)&w->rs->held_to, w->rs->held_tolen),
			    (ssize_t)w->rs->held_len);
			w->rs->held_len = 0;
		}
		if (psock_mono_ns() >= prober_next(w->pr))
			prober_run(w->pr, psock_mono_ns());
	}
}

static void
world_init(struct world *w, uint64_t want)
{
	memset(w, 0, sizeof(*w));
	w->pr = prober_new();
	assert_non_null(w->pr);
	w->listen_fd = -1;
	w->want = want;
}

/* The counters add up: every send is a reply, a loss, or still in flight. */
static void
assert_consistent(const struct probe_result *r)
{
	assert_true(r->c.sent >= r->c.received + r->c.lost);
	assert_true(r->c.late <= r->c.lost);
	assert_true(r->c.refused <= r->c.received);
}

static void
check_icmp_loopback(enum addr_family fam)
{
	struct probe_spec s = spec("lo", PROBE_TYPE_ICMP, loopback(fam, 0), 20, 500);
	const struct probe_result *r;
	struct world w;

	world_init(&w, 10);
	if (strcmp(prober_icmp_mode(w.pr, fam == ADDR_V6), "unavailable") == 0) {
		prober_free(w.pr);
		print_message("no ICMP socket (neither datagram nor raw): skipped\n");
		skip();
	}
	s.size = 100;
	assert_true(prober_apply(w.pr, &s, 1, psock_mono_ns()));
	drive(&w, 2000);
	r = result(&w, 0);
	assert_consistent(r);
	print_message("icmp%c %s: sent %llu received %llu, rtt last %lld ns, min %lld max %lld\n",
	    fam == ADDR_V6 ? '6' : '4', prober_icmp_mode(w.pr, fam == ADDR_V6),
	    (unsigned long long)r->c.sent, (unsigned long long)r->c.received,
	    (long long)r->last_rtt_ns, (long long)r->window.min, (long long)r->window.max);
	assert_true(r->c.sent >= 10);
	assert_int_equal(r->c.received, r->c.sent);
	assert_int_equal(r->c.lost, 0);
	assert_int_equal(r->c.foreign + r->c.duplicates + r->c.errors + r->c.missed, 0);
	assert_int_equal(r->status, PROBE_STATUS_OK);
	assert_true(r->last_rtt_ns > 0 && r->last_rtt_ns < 10 * MS);
	assert_int_equal(r->window.received, r->c.received);
	assert_true(r->window.min > 0 && r->window.max < 10 * MS);
	assert_true(r->last_reply_ns > 0);
	assert_int_equal(w.outcomes, r->c.received);
	prober_free(w.pr);
}

static void
test_icmp_echo_to_127_0_0_1_is_answered_in_under_10ms(void **state)
{
	(void)state;
	check_icmp_loopback(ADDR_V4);
}

static void
test_icmp6_echo_to_loopback_is_answered_in_under_10ms(void **state)
{
	(void)state;
	check_icmp_loopback(ADDR_V6);
}

/* The verdict of a test run in a child: exit 0 passes, 77 skips (saying why), others fail. */
static void
child_verdict(pid_t pid, const char *skip_why)
{
	int st;

	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("%s: skipped\n", skip_why);
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Brings lo up in the current network namespace; false when it cannot. */
static bool
lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	ok = fd >= 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* In a fresh network namespace where ping_group_range lets our group open ICMP datagram sockets. */
static void
test_icmp_datagram_socket_where_ping_group_range_allows(void **state)
{
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0) {
		struct world w;
		int fd, ok = 1;

		if (unshare(CLONE_NEWNET) != 0 || !lo_up())
			_exit(77);
		if ((fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY)) < 0 ||
		    write(fd, "0 2147483647", 12) != 12)
			_exit(77);
		close(fd);
		w.pr = NULL;
		world_init(&w, 5);
		for (int v6 = 0; v6 < 2; v6++) {
			struct probe_spec s = spec("dg", PROBE_TYPE_ICMP, loopback(v6 ? ADDR_V6 : ADDR_V4, 0),
			    20, 500);
			const struct probe_result *r;

			if (strcmp(prober_icmp_mode(w.pr, v6), "datagram") != 0) {
				fprintf(stderr, "icmp%d mode %s\n", v6 ? 6 : 4, prober_icmp_mode(w.pr, v6));
				_exit(1);
			}
			prober_apply(w.pr, &s, 1, psock_mono_ns());
			drive(&w, 2000);
			r = result(&w, 0);
			fprintf(stderr, "icmp%d datagram: id %u sent %llu received %llu rtt %lld ns\n",
			    v6 ? 6 : 4, r->icmp_id, (unsigned long long)r->c.sent,
			    (unsigned long long)r->c.received, (long long)r->last_rtt_ns);
			ok &= r->c.sent >= 5 && r->c.received == r->c.sent && r->c.foreign == 0 &&
			    r->last_rtt_ns > 0 && r->last_rtt_ns < 10 * MS && r->icmp_id != 0;
		}
		prober_free(w.pr);
		_exit(ok ? 0 : 1);
	}
	child_verdict(pid, "cannot make a network namespace");
}

/*
 * Without CAP_NET_RAW, in a namespace whose ping_group_range ("1 0", the
 * kernel's default) admits no group: the ICMP probe is an error that says
 * what it needs, and the UDP probe beside it runs.
 */
static void
test_icmp_without_permission_is_an_error_and_the_others_run(void **state)
{
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct cap[2];
		struct probe_spec s[2];
		const struct probe_result *r;
		struct responder rs;
		struct world w;
		int ok;

		if (unshare(CLONE_NEWNET) != 0 || !lo_up() ||
		    syscall(SYS_capget, &hdr, cap) != 0)
			_exit(77);
		cap[CAP_NET_RAW / 32].effective &= ~(1U << (CAP_NET_RAW % 32));
		cap[CAP_NET_RAW / 32].permitted &= ~(1U << (CAP_NET_RAW % 32));
		if (syscall(SYS_capset, &hdr, cap) != 0)
			_exit(77);
		world_init(&w, 3);
		responder_open(&rs, ADDR_V4, false);
		w.rs = &rs;
		s[0] = spec("icmp", PROBE_TYPE_ICMP, loopback(ADDR_V4, 0), 20, 500);
		s[1] = spec("udp", PROBE_TYPE_UDP, rs.ep, 20, 500);
		ok = strcmp(prober_icmp_mode(w.pr, false), "unavailable") == 0 &&
		    prober_apply(w.pr, s, 2, psock_mono_ns());
		drive(&w, 2000);
		r = result(&w, 0);
		fprintf(stderr, "icmp without permission: status %d \"%s\"\n", r->status, r->last_error);
		ok &= r->status == PROBE_STATUS_ERROR && r->c.sent == 0 &&
		    strcmp(r->last_error, "ICMP needs CAP_NET_RAW or net.ipv4.ping_group_range") == 0;
		r = result(&w, 1);
		ok &= r->status == PROBE_STATUS_OK && r->c.received >= 3;
		prober_free(w.pr);
		_exit(ok ? 0 : 1);
	}
	child_verdict(pid, "cannot make a network namespace or drop CAP_NET_RAW");
}

static void
check_reflector(enum addr_family fam)
{
	struct addr_endpoint ep;
	struct probe_spec s;
	const struct probe_result *r;
	struct world w;

	world_init(&w, 10);
	w.rf = reflector_new();
	assert_non_null(w.rf);
	close(bound_socket(fam, SOCK_DGRAM, &ep));
	assert_true(reflector_apply(w.rf, &ep, 1));
	s = spec("refl", PROBE_TYPE_UDP, ep, 20, 500);
	assert_true(prober_apply(w.pr, &s, 1, psock_mono_ns()));
	drive(&w, 2000);
	r = result(&w, 0);
	assert_consistent(r);
	print_message("udp%c reflector: sent %llu received %llu rtt %lld ns hold %lld ns\n",
	    fam == ADDR_V6 ? '6' : '4', (unsigned long long)r->c.sent,
	    (unsigned long long)r->c.received, (long long)r->last_rtt_ns, (long long)r->refl_hold_ns);
	assert_true(r->c.sent >= 10);
	assert_int_equal(r->c.received, r->c.sent);
	assert_int_equal(reflector_counters(w.rf)->reflected, r->c.sent);
	assert_int_equal(reflector_counters(w.rf)->senders, 1);
	assert_true(r->reflector);
	assert_true(r->refl_hold_ns >= 0 && r->refl_hold_ns < r->last_rtt_ns + r->refl_hold_ns);
	assert_true(r->last_rtt_ns > 0 && r->last_rtt_ns < 10 * MS);
	assert_int_equal(r->c.fwd_lost + r->c.rev_lost + r->c.lost + r->c.foreign, 0);
	assert_int_equal(r->status, PROBE_STATUS_OK);
	reflector_free(w.rf);
	prober_free(w.pr);
}

static void
test_udp_to_our_reflector_on_127_0_0_1_is_reflected_with_hold_time(void **state)
{
	(void)state;
	check_reflector(ADDR_V4);
}

static void
test_udp_to_our_reflector_on_ipv6_loopback_is_reflected_with_hold_time(void **state)
{
	(void)state;
	check_reflector(ADDR_V6);
}

static void
test_udp_to_an_rfc862_echo_is_recognised_as_echo(void **state)
{
	struct responder rs;
	struct probe_spec s;
	const struct probe_result *r;
	struct world w;

	(void)state;
	world_init(&w, 8);
	responder_open(&rs, ADDR_V4, false);
	w.rs = &rs;
	s = spec("echo", PROBE_TYPE_UDP, rs.ep, 20, 500);
	assert_true(prober_apply(w.pr, &s, 1, psock_mono_ns()));
	drive(&w, 2000);
	r = result(&w, 0);
	assert_true(r->c.sent >= 8);
	assert_int_equal(r->c.received, r->c.sent);
	assert_int_equal(rs.got, r->c.sent);
	assert_false(r->reflector);
	assert_int_equal(r->refl_hold_ns, 0);
	assert_true(r->last_rtt_ns > 0 && r->last_rtt_ns < 10 * MS);
	responder_close(&rs);
	prober_free(w.pr);
}

static void
check_udp_closed(enum addr_family fam)
{
	struct probe_spec s = spec("closed", PROBE_TYPE_UDP,
	    loopback(fam, closed_port(fam, SOCK_DGRAM)), 30, 20);
	const struct probe_result *r;
	char want[128], a[ADDR_STRLEN];
	struct world w;

	world_init(&w, 4);
	assert_true(prober_apply(w.pr, &s, 1, psock_mono_ns()));
	drive(&w, 2000);
	r = result(&w, 0);
	assert_consistent(r);
	addr_format(&s.target.addr, a, sizeof(a));
	snprintf(want, sizeof(want), "destination unreachable (port unreachable) from %s", a);
	assert_true(r->c.sent >= 4);
	assert_int_equal(r->c.received, 0);
	assert_int_equal(r->c.lost, r->c.sent);		/* each at its timeout */
	assert_int_equal(r->c.errors, r->c.sent);	/* one ICMP error each */
	assert_int_equal(r->status, PROBE_STATUS_UNREACHABLE);
	assert_int_equal(r->last_icmp_type, fam == ADDR_V4 ? 3 : 1);	/* RFC 792 / RFC 4443 3.1 */
	assert_int_equal(r->last_icmp_code, fam == ADDR_V4 ? 3 : 4);
	assert_string_equal(r->last_error, want);
	assert_int_equal(r->window.received, 0);
	prober_free(w.pr);
}

static void
test_udp_to_a_closed_port_is_unreachable_v4(void **state)
{
	(void)state;
	check_udp_closed(ADDR_V4);
}

static void
test_udp_to_a_closed_port_is_unreachable_v6(void **state)
{
	(void)state;
	check_udp_closed(ADDR_V6);
}

static void
test_tcp_connect_to_a_listening_socket_is_a_reply(void **state)
{
	struct addr_endpoint ep;
	struct probe_spec s[2];
	struct world w;

	(void)state;
	world_init(&w, 6);
	w.listen_fd = bound_socket(ADDR_V4, SOCK_STREAM, &ep);
	assert_int_equal(listen(w.listen_fd, 64), 0);
	s[0] = spec("tcp4", PROBE_TYPE_TCP, ep, 20, 500);
	s[1] = spec("tcp6", PROBE_TYPE_TCP, loopback(ADDR_V6, 0), 20, 500);
	/* The v6 listener on the same port number would need a second socket: use one of its own. */
	{
		struct addr_endpoint ep6;
		int l6 = bound_socket(ADDR_V6, SOCK_STREAM, &ep6);

		assert_int_equal(listen(l6, 64), 0);
		s[1].target = ep6;
		s[1].tos = 0x20;
		assert_true(prober_apply(w.pr, s, 2, psock_mono_ns()));
		drive(&w, 2000);
		close(l6);
	}
	for (size_t i = 0; i < 2; i++) {
		const struct probe_result *r = result(&w, i);

		print_message("%s: sent %llu received %llu rtt %lld ns\n", s[i].name,
		    (unsigned long long)r->c.sent, (unsigned long long)r->c.received,
		    (long long)r->last_rtt_ns);
		assert_true(r->c.sent >= 6);
		assert_int_equal(r->c.received, r->c.sent);
		assert_int_equal(r->c.refused + r->c.errors + r->c.lost, 0);
		assert_int_equal(r->status, PROBE_STATUS_OK);
		assert_true(r->last_rtt_ns > 0 && r->last_rtt_ns < 10 * MS);
	}
	close(w.listen_fd);
	prober_free(w.pr);
}

static void
test_tcp_connect_to_a_closed_port_is_refused_with_an_rtt(void **state)
{
	struct probe_spec s = spec("rst", PROBE_TYPE_TCP,
	    loopback(ADDR_V4, closed_port(ADDR_V4, SOCK_STREAM)), 20, 500);
	const struct probe_result *r;
	struct world w;

	(void)state;
	world_init(&w, 6);
	assert_true(prober_apply(w.pr, &s, 1, psock_mono_ns()));
	drive(&w, 2000);
	r = result(&w, 0);
	assert_consistent(r);
	assert_true(r->c.sent >= 6);
	assert_int_equal(r->c.refused, r->c.sent);
	assert_int_equal(r->c.received, r->c.sent);	/* the RST is an RTT sample */
	assert_int_equal(r->c.errors + r->c.lost, 0);
	assert_int_equal(r->status, PROBE_STATUS_UNREACHABLE);
	assert_string_equal(r->last_error, "connect: Connection refused");
	assert_true(r->last_rtt_ns > 0 && r->last_rtt_ns < 10 * MS);
	assert_int_equal(r->window.received, r->c.received);
	prober_free(w.pr);
}

/*
 * In a namespace where 198.51.100.0/24 goes to a neighbour that does not
 * exist (a static ARP entry on one end of a veth pair), SYNs vanish and
 * connects stay in flight: 600 probes within a second get PROBER_TCP_MAX
 * connects, and the other sends are errors that say why.
 */
static void
test_tcp_connects_in_flight_are_capped(void **state)
{
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0) {
		struct probe_spec *s = calloc(600, sizeof(*s));
		struct world w;
		uint64_t sent = 0, errors = 0, capped = 0, erring = 0;
		char want[64];

		if (s == NULL || unshare(CLONE_NEWNET) != 0 || !lo_up() ||
		    system("ip link add v0 type veth peer name v1 && ip link set v0 up && "
		    "ip link set v1 up && ip addr add 10.251.0.1/24 dev v0 && "
		    "ip neigh add 10.251.0.2 lladdr 02:00:00:00:00:01 dev v0 && "
		    "ip route add 198.51.100.0/24 via 10.251.0.2") != 0)
			_exit(77);
		for (int i = 0; i < 600; i++) {
			char name[16];

			snprintf(name, sizeof(name), "t%d", i);
			s[i] = spec(name, PROBE_TYPE_TCP, endpoint("198.51.100.1:80"), 1000, 5000);
		}
		world_init(&w, 1);	/* never settles: the loop runs its 1.1 s */
		prober_apply(w.pr, s, 600, psock_mono_ns());
		drive(&w, 1100);
		snprintf(want, sizeof(want), "connect: %d connects in flight already", PROBER_TCP_MAX);
		for (size_t i = 0; i < 600; i++) {
			const struct probe_result *r = result(&w, i);

			sent += r->c.sent;
			errors += r->c.errors;
			erring += r->c.errors > 0;
			capped += strcmp(r->last_error, want) == 0;
		}
		fprintf(stderr, "600 tcp probes into a black hole: sent %llu errors %llu (\"%s\": %llu)\n",
		    (unsigned long long)sent, (unsigned long long)errors, want,
		    (unsigned long long)capped);
		prober_free(w.pr);
		free(s);
		/* Every send past the cap is an error; all are still in flight (5 s timeout). */
		_exit(sent >= 600 && errors == sent - PROBER_TCP_MAX && erring == capped ? 0 : 1);
	}
	child_verdict(pid, "cannot make a network namespace with a veth pair");
}

/*
 * A UDP probe against the test's responder, its seqs 0..n-1 acted on as
 * acts says (later ones answered); interval 60 ms, timeout 40 ms, so that
 * between two sends everything sent is decided. A loop woken late may make
 * a send more than n: the checks count over the sends made.
 */
static const struct probe_result *
run_udp(struct world *w, struct responder *rs, bool reflect, const uint8_t *acts, uint32_t n)
{
	struct probe_spec s;

	world_init(w, n);
	responder_open(rs, ADDR_V4, reflect);
	memcpy(rs->act, acts, n);
	w->rs = rs;
	s = spec("u", PROBE_TYPE_UDP, rs->ep, 60, 40);
	assert_true(prober_apply(w->pr, &s, 1, psock_mono_ns()));
	drive(w, 3000);
	assert_consistent(result(w, 0));
	return result(w, 0);
}

static uint32_t
count_acts(const uint8_t *acts, uint32_t n, enum act a)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++)
		k += acts[i] == a;
	return k;
}

static void
test_foreign_reply_from_another_port_is_counted_and_not_taken(void **state)
{
	uint8_t acts[8] = { 0, 0, FROM_ELSEWHERE, 0, 0, FROM_ELSEWHERE, 0, 0 };
	struct responder rs;
	struct world w;
	const struct probe_result *r = run_udp(&w, &rs, false, acts, 8);

	(void)state;
	assert_true(r->c.sent >= 8);
	assert_int_equal(rs.got, r->c.sent);
	assert_int_equal(r->c.foreign, 2);
	assert_int_equal(r->c.lost, 2);
	assert_int_equal(r->c.received, r->c.sent - 2);
	responder_close(&rs);
	prober_free(w.pr);
}

static void
test_every_third_request_dropped_is_exactly_the_lost_count(void **state)
{
	uint8_t acts[9];
	struct responder rs;
	struct world w;
	const struct probe_result *r;

	(void)state;
	for (int i = 0; i < 9; i++)
		acts[i] = i % 3 == 2 ? DROP : ANSWER;
	r = run_udp(&w, &rs, false, acts, 9);
	assert_true(r->c.sent >= 9);
	assert_int_equal(rs.got, r->c.sent);
	assert_int_equal(r->c.lost, count_acts(acts, 9, DROP));
	assert_int_equal(r->c.received, r->c.sent - count_acts(acts, 9, DROP));
	assert_int_equal(r->c.late + r->c.duplicates + r->c.foreign, 0);
	assert_int_equal(r->window.lost, r->c.lost);
	assert_int_equal(r->window.received, r->c.received);
	assert_int_equal(r->window.loss_ppm,
	    (uint32_t)((1000000 * r->c.lost + r->c.sent / 2) / r->c.sent));
	assert_int_equal(w.outcomes, r->c.sent);
	responder_close(&rs);
	prober_free(w.pr);
}

static void
test_reply_held_past_the_timeout_is_late_and_no_sample(void **state)
{
	uint8_t acts[6] = { 0, 0, HOLD, 0, 0, 0 };
	struct responder rs;
	struct world w;
	const struct probe_result *r = run_udp(&w, &rs, false, acts, 6);

	(void)state;
	assert_true(r->c.sent >= 6);
	assert_int_equal(r->c.late, 1);
	assert_int_equal(r->c.lost, 1);		/* late is lost all the same */
	assert_int_equal(r->c.received, r->c.sent - 1);
	assert_int_equal(r->window.received, r->c.received);	/* and never a sample */
	assert_true(r->window.max < 40 * MS);
	responder_close(&rs);
	prober_free(w.pr);
}

static void
test_reply_answered_twice_counts_one_duplicate(void **state)
{
	uint8_t acts[6] = { 0, 0, TWICE, 0, 0, 0 };
	struct responder rs;
	struct world w;
	const struct probe_result *r = run_udp(&w, &rs, false, acts, 6);

	(void)state;
	assert_true(r->c.sent >= 6);
	assert_int_equal(r->c.duplicates, 1);
	assert_int_equal(r->c.received, r->c.sent);
	assert_int_equal(r->window.received, r->c.sent);
	assert_int_equal(r->c.lost, 0);
	responder_close(&rs);
	prober_free(w.pr);
}

/*
 * Forward and reverse loss from the reflector's counter: a request the
 * responder drops before counting was lost on the way there, one it counts
 * and does not answer on the way back; a counter reset (a restarted
 * reflector) only moves the baseline.
 */
static void
test_reflector_counter_splits_forward_and_reverse_loss(void **state)
{
	uint8_t acts[16] = { 0, FWD_DROP, 0, REV_DROP, REV_DROP, 0, FWD_DROP, REV_DROP,
	    0, RESTART, 0, FWD_DROP, 0, REV_DROP, 0, 0 };
	struct responder rs;
	struct world w;
	const struct probe_result *r = run_udp(&w, &rs, true, acts, 16);
	uint32_t fwd = count_acts(acts, 16, FWD_DROP), rev = count_acts(acts, 16, REV_DROP);

	(void)state;
	assert_true(r->c.sent >= 16);
	assert_int_equal(r->c.lost, fwd + rev);
	assert_int_equal(r->c.fwd_lost, fwd);
	assert_int_equal(r->c.rev_lost, rev);
	assert_true(r->reflector);
	responder_close(&rs);
	prober_free(w.pr);
}

static void
check_size_and_tos(enum addr_family fam)
{
	uint8_t acts[2] = { 0, 0 };
	struct responder rs;
	struct probe_spec s;
	struct world w;

	world_init(&w, 2);
	responder_open(&rs, fam, false);
	memcpy(rs.act, acts, sizeof(acts));
	w.rs = &rs;
	s = spec("sz", PROBE_TYPE_UDP, rs.ep, 40, 25);
	s.size = 300;
	s.tos = 0xb8;	/* EF */
	assert_true(prober_apply(w.pr, &s, 1, psock_mono_ns()));
	drive(&w, 2000);
	assert_int_equal(rs.last_len, 300);
	assert_int_equal(rs.last_tos, 0xb8);
	/* Too small for our payload: raised to the TWAMP-light header and the payload. */
	s.size = 10;
	s.tos = 0;
	w.want = 2;
	assert_true(prober_apply(w.pr, &s, 1, psock_mono_ns()));
	drive(&w, 2000);
	assert_int_equal(rs.last_len, PWIRE_TWAMP_REFL_LEN + PWIRE_PAYLOAD_MIN);
	assert_int_equal(rs.last_tos, 0);
	assert_int_equal(result(&w, 0)->c.received, result(&w, 0)->c.sent);
	responder_close(&rs);
	prober_free(w.pr);
}

static void
test_udp_request_has_the_configured_size_and_tos_v4(void **state)
{
	(void)state;
	check_size_and_tos(ADDR_V4);
}

static void
test_udp_request_has_the_configured_size_and_tclass_v6(void **state)
{
	(void)state;
	check_size_and_tos(ADDR_V6);
}

static void
test_apply_keeps_unchanged_probes_and_restarts_changed_ones(void **state)
{
	struct responder rs;
	struct probe_spec s[3];
	struct world w;
	uint64_t sent_a;

	(void)state;
	world_init(&w, 3);
	responder_open(&rs, ADDR_V4, false);
	w.rs = &rs;
	s[0] = spec("a", PROBE_TYPE_UDP, rs.ep, 20, 500);
	s[1] = spec("b", PROBE_TYPE_UDP, rs.ep, 20, 500);
	assert_true(prober_apply(w.pr, s, 2, psock_mono_ns()));
	drive(&w, 2000);
	sent_a = result(&w, 0)->c.sent;
	assert_true(sent_a >= 3 && result(&w, 1)->c.sent >= 3);
	/* b's size changes and moves to the front; a is unchanged; c has no address. */
	s[2] = s[0];
	s[0] = s[1];
	s[0].size = 200;
	s[1] = s[2];
	s[2] = spec("c", PROBE_TYPE_UDP, loopback(ADDR_V4, 7), 20, 500);
	s[2].target.addr.family = ADDR_NONE;
	assert_true(prober_apply(w.pr, s, 3, psock_mono_ns()));
	assert_int_equal(prober_count(w.pr), 3);
	assert_string_equal(prober_spec(w.pr, 0)->name, "b");
	assert_int_equal(result(&w, 0)->c.sent, 0);		/* b started again */
	assert_int_equal(result(&w, 0)->status, PROBE_STATUS_STARTING);
	assert_true(result(&w, 1)->c.sent >= sent_a);		/* a kept its counters */
	assert_int_equal(result(&w, 2)->status, PROBE_STATUS_ERROR);
	assert_string_equal(result(&w, 2)->last_error, "no target address");
	w.want = sent_a + 3;
	drive(&w, 2000);
	assert_true(result(&w, 0)->c.received >= 3);
	assert_true(result(&w, 1)->c.received >= sent_a + 3);
	assert_int_equal(result(&w, 2)->c.sent, 0);
	/* Nothing left: no sends, no deadlines. */
	assert_true(prober_apply(w.pr, NULL, 0, psock_mono_ns()));
	assert_int_equal(prober_next(w.pr), INT64_MAX);
	responder_close(&rs);
	prober_free(w.pr);
}

/*
 * A reload that keeps probes with sends in flight keeps their deadlines in
 * order: four probes 200 ms apart, nothing answered, and the reload puts
 * them in an order (deadline ranks 2 0 3 1) that a careless heap rebuild
 * turns into a heap with B buried under C: losses must still come A B C D.
 */
static void
test_losses_come_in_deadline_order_after_a_reload_that_keeps_probes(void **state)
{
	const int order[4] = { 2, 0, 3, 1 };
	struct probe_spec s[4], t[4];
	struct responder rs;
	struct world w;

	(void)state;
	world_init(&w, 100);	/* never settles: each drive runs its time */
	responder_open(&rs, ADDR_V4, false);
	rs.act[0] = rs.act[1] = DROP;
	w.rs = &rs;
	for (int i = 0; i < 4; i++) {
		char name[2] = { (char)('A' + i), 0 };

		s[i] = spec(name, PROBE_TYPE_UDP, rs.ep, 800, 700);
	}
	assert_true(prober_apply(w.pr, s, 4, psock_mono_ns()));
	drive(&w, 650);		/* sends at 0, 200, 400, 600 ms; the first deadline at 700 */
	assert_int_equal(rs.got, 4);
	assert_int_equal(w.nlost, 0);
	for (int i = 0; i < 4; i++)
		t[i] = s[order[i]];
	assert_true(prober_apply(w.pr, t, 4, psock_mono_ns()));
	for (int k = 0; k < 20 && w.nlost < 4; k++)
		drive(&w, 50);
	assert_string_equal(w.lost_order, "ABCD");
	responder_close(&rs);
	prober_free(w.pr);
}

/*
 * A timeout due less than PSCHED_STEP_NS before the next send is decided
 * in that send's wake-up, not in one of its own. Interval 20 ms, timeout
 * 17 ms, a target that never answers (a bound socket nobody reads): each
 * loss falls 3 ms before the next slot. The loop here wakes only at
 * prober_next() and notes, per prober_run, whether it sent and whether it
 * decided a loss; a wake-up that decides a loss and sends nothing is a
 * loss alone. A send served more than 3 ms late moves its deadline past
 * the next slot, so a loaded machine may make a few: at most a quarter.
 */
static void
test_a_timeout_due_just_before_the_next_send_waits_for_its_wake_up(void **state)
{
	struct addr_endpoint ep;
	struct probe_spec s;
	struct prober *pr;
	uint64_t sent = 0, lost = 0, lone = 0, runs = 0;
	int64_t end;
	int hole;

	(void)state;
	pr = prober_new();
	assert_non_null(pr);
	hole = bound_socket(ADDR_V4, SOCK_DGRAM, &ep);
	s = spec("hole", PROBE_TYPE_UDP, ep, 20, 17);
	assert_true(prober_apply(pr, &s, 1, psock_mono_ns()));
	end = psock_mono_ns() + 1500 * MS;
	while (lost < 40 && psock_mono_ns() < end) {
		int64_t now = psock_mono_ns(), next = prober_next(pr), wait;
		struct timespec ts;
		const struct probe_result *r;

		wait = next > now ? next - now : 0;
		ts.tv_sec = wait / 1000000000;
		ts.tv_nsec = wait % 1000000000;
		ppoll(NULL, 0, &ts, NULL);
		if (psock_mono_ns() < prober_next(pr))
			continue;
		prober_run(pr, psock_mono_ns());
		runs++;
		r = prober_result_running(pr, 0, psock_mono_ns());
		lone += r->c.lost > lost && r->c.sent == sent;
		sent = r->c.sent;
		lost = r->c.lost;
	}
	print_message("interval 20 ms, timeout 17 ms: %llu wake-ups, %llu sends, %llu losses, "
	    "%llu losses alone\n", (unsigned long long)runs, (unsigned long long)sent,
	    (unsigned long long)lost, (unsigned long long)lone);
	assert_true(lost >= 40);
	assert_int_equal(lost, prober_result(pr, 0, psock_mono_ns())->window.lost);
	assert_true(lone <= lost / 4);
	close(hole);
	prober_free(pr);
}

/*
 * A router in a namespace of its own answers for 198.51.100.0/24 (TEST-NET-2)
 * with ICMP host unreachable; the prober sits in another namespace behind
 * it. ICMP, UDP and TCP probes each see the error, through the raw socket
 * and, with ping_group_range set, through the datagram socket's error queue.
 * With icmp_ratelimit off, the router still sends only 5 such errors to a
 * source and then one a second (net.ipv4.route.error_cost, not per
 * namespace): one send per probe, and a fresh router for each socket mode.
 */
static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
router_child(const char *ns, bool datagram)
{
	char path[128];
	struct world w;
	struct probe_spec s[3];
	int fd, ok = 1;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if ((fd = open(path, O_RDONLY)) < 0 || setns(fd, CLONE_NEWNET) != 0)
		return 77;
	close(fd);
	if (datagram && ((fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY)) < 0 ||
	    write(fd, "0 2147483647", 12) != 12))
		return 77;
	world_init(&w, 1);
	if (strcmp(prober_icmp_mode(w.pr, false), datagram ? "datagram" : "raw") != 0) {
		fprintf(stderr, "icmp4 mode %s\n", prober_icmp_mode(w.pr, false));
		return 1;
	}
	/* 400 ms apart, 25 ms timeout: three sends within 270 ms, all decided 100 ms before the next. */
	s[0] = spec("icmp", PROBE_TYPE_ICMP, endpoint("198.51.100.7"), 400, 25);
	s[1] = spec("udp", PROBE_TYPE_UDP, endpoint("198.51.100.7:7"), 400, 25);
	s[2] = spec("tcp", PROBE_TYPE_TCP, endpoint("198.51.100.7:80"), 400, 25);
	prober_apply(w.pr, s, 3, psock_mono_ns());
	drive(&w, 2000);
	for (size_t i = 0; i < 3; i++) {
		const struct probe_result *r = result(&w, i);
		const char *want = i == 2 ? "connect: No route to host" :
		    "destination unreachable (host unreachable) from 10.250.0.2";

		fprintf(stderr, "%s %s: sent %llu errors %llu lost %llu \"%s\"\n",
		    datagram ? "datagram" : "raw", s[i].name, (unsigned long long)r->c.sent,
		    (unsigned long long)r->c.errors, (unsigned long long)r->c.lost, r->last_error);
		ok &= r->c.sent == 1 && r->c.errors == 1 && r->c.lost == 1 && r->c.received == 0 &&
		    r->status == PROBE_STATUS_UNREACHABLE && strcmp(r->last_error, want) == 0 &&
		    (i == 2 || (r->last_icmp_type == 3 && r->last_icmp_code == 1));
	}
	prober_free(w.pr);
	return ok ? 0 : 1;
}

static int
router_up(const char *a, const char *b)
{
	return sh("ip netns add %s 2>/dev/null && ip netns add %s && "
	    "ip link add va netns %s type veth peer name vb netns %s && "
	    "ip -n %s link set lo up && ip -n %s link set va up && "
	    "ip -n %s addr add 10.250.0.1/24 dev va && ip -n %s route add default via 10.250.0.2 && "
	    "ip -n %s link set vb up && ip -n %s addr add 10.250.0.2/24 dev vb && "
	    "ip -n %s route add unreachable 198.51.100.0/24 && "
	    "ip netns exec %s sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; "
	    "echo 0 > /proc/sys/net/ipv4/icmp_ratelimit'",
	    a, b, a, b, a, a, a, a, b, b, b, b) == 0;
}

static void
test_icmp_errors_from_a_router_make_every_probe_type_unreachable(void **state)
{
	char a[32], b[32];
	int rc = 0;

	(void)state;
	snprintf(a, sizeof(a), "fpprA%d", (int)getpid());
	snprintf(b, sizeof(b), "fpprB%d", (int)getpid());
	for (int datagram = 0; rc == 0 && datagram < 2; datagram++) {
		pid_t pid;
		int st;

		if (!router_up(a, b))
			rc = 77;
		else if ((pid = fork()) == 0)
			_exit(router_child(a, datagram));
		else {
			assert_true(pid > 0);
			assert_int_equal(waitpid(pid, &st, 0), pid);
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		}
		sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", a, b);
	}
	if (rc == 77) {
		print_message("cannot make network namespaces and a veth pair: skipped\n");
		skip();
	}
	assert_int_equal(rc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_echo_to_127_0_0_1_is_answered_in_under_10ms),
		cmocka_unit_test(test_icmp6_echo_to_loopback_is_answered_in_under_10ms),
		cmocka_unit_test(test_icmp_datagram_socket_where_ping_group_range_allows),
		cmocka_unit_test(test_icmp_without_permission_is_an_error_and_the_others_run),
		cmocka_unit_test(test_udp_to_our_reflector_on_127_0_0_1_is_reflected_with_hold_time),
		cmocka_unit_test(test_udp_to_our_reflector_on_ipv6_loopback_is_reflected_with_hold_time),
		cmocka_unit_test(test_udp_to_an_rfc862_echo_is_recognised_as_echo),
		cmocka_unit_test(test_udp_to_a_closed_port_is_unreachable_v4),
		cmocka_unit_test(test_udp_to_a_closed_port_is_unreachable_v6),
		cmocka_unit_test(test_tcp_connect_to_a_listening_socket_is_a_reply),
		cmocka_unit_test(test_tcp_connect_to_a_closed_port_is_refused_with_an_rtt),
		cmocka_unit_test(test_tcp_connects_in_flight_are_capped),
		cmocka_unit_test(test_foreign_reply_from_another_port_is_counted_and_not_taken),
		cmocka_unit_test(test_every_third_request_dropped_is_exactly_the_lost_count),
		cmocka_unit_test(test_reply_held_past_the_timeout_is_late_and_no_sample),
		cmocka_unit_test(test_reply_answered_twice_counts_one_duplicate),
		cmocka_unit_test(test_reflector_counter_splits_forward_and_reverse_loss),
		cmocka_unit_test(test_udp_request_has_the_configured_size_and_tos_v4),
		cmocka_unit_test(test_udp_request_has_the_configured_size_and_tclass_v6),
		cmocka_unit_test(test_apply_keeps_unchanged_probes_and_restarts_changed_ones),
		cmocka_unit_test(test_losses_come_in_deadline_order_after_a_reload_that_keeps_probes),
		cmocka_unit_test(test_a_timeout_due_just_before_the_next_send_waits_for_its_wake_up),
		cmocka_unit_test(test_icmp_errors_from_a_router_make_every_probe_type_unreachable),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
