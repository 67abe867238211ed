/*
 * The reflector on real loopback sockets: hand-built TWAMP-light requests
 * (RFC 5357 4.1.2, padded to the reflector's size as RFC 6038 asks) get
 * the RFC 5357 4.2.1 reply with a counter per sender, the sender's fields
 * and padding copied and the TTL the request arrived with; junk is counted
 * and never answered; the sender table evicts the least recently seen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "probes/psock.h"
#include "probes/reflector.h"

#define REQ_LEN 80	/* 41 bytes of reflector header, then padding */

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t
get64(const uint8_t *b)
{
	return (uint64_t)get32(b) << 32 | get32(b + 4);
}

static void
put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static void
put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}

/* NTP time (RFC 5905) of a wall-clock time, computed here independently of pwire. */
static uint64_t
ntp_of(int64_t wall_ns)
{
	uint64_t sec = (uint64_t)(wall_ns / 1000000000) + UINT64_C(2208988800);
	uint64_t frac = ((uint64_t)(wall_ns % 1000000000) << 32) / 1000000000;

	return sec << 32 | frac;
}

/* A sender request: seq, timestamp, error estimate, zero to 41, then a pattern. */
static size_t
build_request(uint8_t *b, uint32_t seq, uint64_t ts, uint16_t errest)
{
	memset(b, 0, REQ_LEN);
	put32(b, seq);
	put64(b + 4, ts);
	b[12] = (uint8_t)(errest >> 8);
	b[13] = (uint8_t)errest;
	for (size_t i = 41; i < REQ_LEN; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	return REQ_LEN;
}

struct rig {
	struct reflector *r;
	struct addr_endpoint ep;
	int fd;		/* the reflector's */
};

/* A reflector on a free port of the loopback address of the family. */
static void
rig_open(struct rig *g, enum addr_family fam, uint32_t cap)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int tmp;

	memset(&g->ep, 0, sizeof(g->ep));
	g->ep.addr.family = fam;
	if (fam == ADDR_V4) {
		g->ep.addr.bytes[0] = 127;
		g->ep.addr.bytes[3] = 1;
	} else
		g->ep.addr.bytes[15] = 1;
	/* A port the kernel just gave out and took back: free for the reflector. */
	sl = psock_sockaddr(&g->ep, &ss);
	tmp = socket(ss.ss_family, SOCK_DGRAM, 0);
	assert_true(tmp >= 0);
	assert_int_equal(bind(tmp, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(getsockname(tmp, (struct sockaddr *)&ss, &sl), 0);
	addr_endpoint_from_sockaddr(&ss, &g->ep);
	close(tmp);
	g->r = cap ? reflector_new_cap(cap) : reflector_new();
	assert_non_null(g->r);
	assert_true(reflector_apply(g->r, &g->ep, 1));
	assert_int_equal(reflector_fds(g->r, &g->fd, 1), 1);
}

static int
client(const struct rig *g, int ttl)
{
	int fd = socket(g->ep.addr.family == ADDR_V4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	if (g->ep.addr.family == ADDR_V4)
		assert_true(psock_opt(fd, IPPROTO_IP, IP_TTL, ttl));
	else
		assert_true(psock_opt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl));
	return fd;
}

static void
send_to(const struct rig *g, int fd, const uint8_t *b, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = psock_sockaddr(&g->ep, &ss);

	assert_int_equal(sendto(fd, b, len, 0, (struct sockaddr *)&ss, sl), (ssize_t)len);
}

/* Lets the reflector take what is queued (bounded: 1 s), then reads a reply within 200 ms; -1 if none. */
static ssize_t
exchange(const struct rig *g, int fd, uint8_t *out, size_t cap)
{
	struct pollfd pf = { g->fd, POLLIN, 0 };

	if (poll(&pf, 1, 1000) == 1)
		reflector_readable(g->r, g->fd);
	pf = (struct pollfd){ fd, POLLIN, 0 };
	if (poll(&pf, 1, 200) != 1)
		return -1;
	return recv(fd, out, cap, MSG_DONTWAIT);
}

static void
check_reply(enum addr_family fam)
{
	struct rig g;
	uint8_t req[REQ_LEN], rep[2 * REQ_LEN];
	int fd, ttl = 37;

	rig_open(&g, fam, 0);
	fd = client(&g, ttl);
	for (uint32_t k = 0; k < 3; k++) {
		uint64_t ts = ntp_of(psock_wall_ns()) - k;
		int64_t before = psock_wall_ns(), after;
		ssize_t n;
		uint64_t rx, tx;

		build_request(req, 1000 + 5 * k, ts, 0x8001);
		send_to(&g, fd, req, sizeof(req));
		n = exchange(&g, fd, rep, sizeof(rep));
		after = psock_wall_ns();
		assert_int_equal(n, REQ_LEN);	/* the sender's size (RFC 6038) */
		assert_int_equal(get32(rep), k);	/* the reflector's own counter */
		rx = get64(rep + 16);
		tx = get64(rep + 4);
		assert_true(rx >= ntp_of(before) && rx <= ntp_of(after) + 1);
		assert_true(tx >= rx && tx <= ntp_of(after) + 1);
		assert_int_equal(get32(rep + 24), 1000 + 5 * k);	/* sender seq */
		assert_true(get64(rep + 28) == ts);			/* sender timestamp */
		assert_int_equal(rep[36] << 8 | rep[37], 0x8001);	/* sender error estimate */
		assert_int_equal(rep[40], ttl);				/* as it arrived */
		assert_memory_equal(rep + 41, req + 41, REQ_LEN - 41);	/* padding copied */
	}
	assert_int_equal(reflector_counters(g.r)->received, 3);
	assert_int_equal(reflector_counters(g.r)->reflected, 3);
	assert_int_equal(reflector_counters(g.r)->senders, 1);
	close(fd);
	reflector_free(g.r);
}

static void
test_reply_carries_counter_timestamps_sender_fields_padding_and_ttl_v4(void **state)
{
	(void)state;
	check_reply(ADDR_V4);
}

static void
test_reply_carries_counter_timestamps_sender_fields_padding_and_ttl_v6(void **state)
{
	(void)state;
	check_reply(ADDR_V6);
}

static uint32_t
ask(const struct rig *g, int fd, uint32_t seq)
{
	uint8_t req[REQ_LEN], rep[2 * REQ_LEN];

	build_request(req, seq, ntp_of(psock_wall_ns()), 0);
	send_to(g, fd, req, sizeof(req));
	assert_int_equal(exchange(g, fd, rep, sizeof(rep)), REQ_LEN);
	return get32(rep);
}

static void
test_each_sender_has_its_own_counter(void **state)
{
	struct rig g;
	int a, b;

	(void)state;
	rig_open(&g, ADDR_V4, 0);
	a = client(&g, 64);
	b = client(&g, 64);
	assert_int_equal(ask(&g, a, 10), 0);
	assert_int_equal(ask(&g, a, 11), 1);
	assert_int_equal(ask(&g, b, 10), 0);
	assert_int_equal(ask(&g, a, 12), 2);
	assert_int_equal(ask(&g, b, 11), 1);
	assert_int_equal(reflector_counters(g.r)->senders, 2);
	close(a);
	close(b);
	reflector_free(g.r);
}

/* Our probes share a socket: the token in the padding ("FPp1" + token + seq) keeps their counters apart. */
static void
test_probes_sharing_a_socket_have_their_own_counters(void **state)
{
	uint8_t req[REQ_LEN], rep[2 * REQ_LEN];
	struct rig g;
	int fd;

	(void)state;
	rig_open(&g, ADDR_V4, 0);
	fd = client(&g, 64);
	for (int k = 0; k < 4; k++) {
		uint64_t token = (k & 1) ? UINT64_C(0x1111222233334444) : UINT64_C(0x5555666677778888);

		build_request(req, (uint32_t)k, ntp_of(psock_wall_ns()), 0);
		memcpy(req + 41, "FPp1", 4);
		put64(req + 45, token);
		put32(req + 53, (uint32_t)k);
		send_to(&g, fd, req, sizeof(req));
		assert_int_equal(exchange(&g, fd, rep, sizeof(rep)), REQ_LEN);
		assert_int_equal(get32(rep), k / 2);
	}
	assert_int_equal(reflector_counters(g.r)->senders, 2);
	close(fd);
	reflector_free(g.r);
}

static void
test_junk_is_counted_and_never_answered(void **state)
{
	uint8_t rep[2 * REQ_LEN];
	struct rig g;
	int fd;

	(void)state;
	rig_open(&g, ADDR_V4, 0);
	fd = client(&g, 64);
	send_to(&g, fd, (const uint8_t *)"hello", 5);
	assert_int_equal(exchange(&g, fd, rep, sizeof(rep)), -1);
	assert_int_equal(reflector_counters(g.r)->received, 1);
	assert_int_equal(reflector_counters(g.r)->malformed, 1);
	assert_int_equal(reflector_counters(g.r)->reflected, 0);
	assert_int_equal(reflector_counters(g.r)->senders, 0);	/* junk makes no session */
	/* A real request from the same sender afterwards starts at 0. */
	assert_int_equal(ask(&g, fd, 1), 0);
	close(fd);
	reflector_free(g.r);
}

/* Two reflectors must never bounce one (spoofed) packet between them. */
static void
test_a_reflection_sent_back_is_not_answered(void **state)
{
	uint8_t req[REQ_LEN], rep[2 * REQ_LEN];
	struct rig g;
	int fd;

	(void)state;
	rig_open(&g, ADDR_V4, 0);
	fd = client(&g, 64);
	build_request(req, 7, ntp_of(psock_wall_ns()), 0x8001);
	send_to(&g, fd, req, sizeof(req));
	assert_int_equal(exchange(&g, fd, rep, sizeof(rep)), REQ_LEN);
	send_to(&g, fd, rep, REQ_LEN);
	assert_int_equal(exchange(&g, fd, rep, sizeof(rep)), -1);
	assert_int_equal(reflector_counters(g.r)->received, 2);
	assert_int_equal(reflector_counters(g.r)->reflected, 1);
	assert_int_equal(reflector_counters(g.r)->malformed, 1);
	close(fd);
	reflector_free(g.r);
}

static void
test_least_recently_seen_sender_is_evicted_at_the_cap(void **state)
{
	struct rig g;
	int a, b, c, d;

	(void)state;
	rig_open(&g, ADDR_V4, 3);
	a = client(&g, 64);
	b = client(&g, 64);
	c = client(&g, 64);
	d = client(&g, 64);
	assert_int_equal(ask(&g, a, 1), 0);
	assert_int_equal(ask(&g, b, 1), 0);
	assert_int_equal(ask(&g, c, 1), 0);
	assert_int_equal(ask(&g, a, 2), 1);	/* a is now the most recent, b the least */
	assert_int_equal(ask(&g, d, 1), 0);	/* evicts b */
	assert_int_equal(reflector_counters(g.r)->senders_evicted, 1);
	assert_int_equal(reflector_counters(g.r)->senders, 3);
	assert_int_equal(ask(&g, a, 3), 2);	/* kept */
	assert_int_equal(ask(&g, b, 2), 0);	/* forgotten: starts again, evicts c */
	assert_int_equal(reflector_counters(g.r)->senders_evicted, 2);
	assert_int_equal(ask(&g, d, 2), 1);	/* kept */
	assert_int_equal(ask(&g, c, 2), 0);	/* c was evicted for b */
	assert_int_equal(reflector_counters(g.r)->senders, 3);
	close(a);
	close(b);
	close(c);
	close(d);
	reflector_free(g.r);
}

static void
test_apply_keeps_open_sockets_and_reports_a_bind_failure(void **state)
{
	struct rig g;
	struct addr_endpoint eps[2];
	int fds[2];

	(void)state;
	rig_open(&g, ADDR_V4, 0);
	eps[0] = g.ep;
	eps[1] = g.ep;
	eps[1].addr.bytes[3] = 2;	/* 127.0.0.2: bindable on Linux loopback */
	assert_true(reflector_apply(g.r, eps, 2));
	assert_int_equal(reflector_fds(g.r, fds, 2), 2);
	assert_int_equal(fds[0], g.fd);	/* the same socket, not reopened */
	/* 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails, the others stay. */
	eps[1].addr.bytes[0] = 192;
	eps[1].addr.bytes[1] = 0;
	eps[1].addr.bytes[2] = 2;
	eps[1].addr.bytes[3] = 1;
	errno = 0;
	assert_false(reflector_apply(g.r, eps, 2));
	assert_int_equal(errno, EADDRNOTAVAIL);
	assert_int_equal(reflector_fds(g.r, fds, 2), 1);
	assert_int_equal(fds[0], g.fd);
	assert_true(reflector_apply(g.r, NULL, 0));
	assert_int_equal(reflector_fds(g.r, fds, 2), 0);
	reflector_free(g.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_carries_counter_timestamps_sender_fields_padding_and_ttl_v4),
		cmocka_unit_test(test_reply_carries_counter_timestamps_sender_fields_padding_and_ttl_v6),
		cmocka_unit_test(test_each_sender_has_its_own_counter),
		cmocka_unit_test(test_probes_sharing_a_socket_have_their_own_counters),
		cmocka_unit_test(test_junk_is_counted_and_never_answered),
		cmocka_unit_test(test_a_reflection_sent_back_is_not_answered),
		cmocka_unit_test(test_least_recently_seen_sender_is_evicted_at_the_cap),
		cmocka_unit_test(test_apply_keeps_open_sockets_and_reports_a_bind_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
