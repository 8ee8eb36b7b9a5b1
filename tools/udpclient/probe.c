// SPDX-License-Identifier: GPL-2.0
/*
 * The measuring loop.  Datagrams go out on a fixed schedule (first send +
 * seq * interval) whatever the answers do, so a stall shows up as a run of
 * losses instead of stretching the test.  The socket stays unconnected: an
 * ICMP error then never surfaces as ECONNREFUSED, and the datagram simply
 * counts as lost, which is what the application behind a relay would see.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "udpclient.h"

#define NS_PER_MS	1000000ull
#define BUF_SIZE	(UDPC_MAX_PAYLOAD + UDPC_HEADER_MAX)

enum dgram_state { DG_PENDING, DG_ANSWERED, DG_LOST };

struct dgram {
	uint64_t sent_ns;
	enum dgram_state state;
};

struct run {
	const struct udpc_opts *o;
	int fd;
	struct dgram *dg;	/* one per sequence number, cap slots */
	unsigned long cap;
	unsigned long sent;
	unsigned long answered;
	unsigned long lost;
	unsigned long pushes;
	unsigned long oldest;	/* no pending datagram below this seq */
	uint64_t first_answer_ns;
	char hello[UDPC_HEADER_MAX];
	size_t hello_len;
	char *sbuf;
	char *rbuf;
};

static int open_socket(const struct udpc_opts *o)
{
	int fd;

	fd = socket(o->server.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("udpclient: socket");
		return -1;
	}
	if (o->bind.len && bind(fd, (const struct sockaddr *)&o->bind.ss,
				o->bind.len)) {
		perror("udpclient: bind");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A failed send (no route while a link is down, a firewall's EPERM) is not
 * fatal: the datagram stays pending and ends up lost, like any other.
 */
static void send_raw(struct run *r, const char *buf, size_t len,
		     const char *what)
{
	const struct udpc_addr *to = &r->o->server;

	if (sendto(r->fd, buf, len, 0, (const struct sockaddr *)&to->ss,
		   to->len) < 0)
		fprintf(stderr, "udpclient: %s: send: %s\n", what,
			strerror(errno));
}

static void send_next(struct run *r)
{
	unsigned long seq = r->sent++;
	struct dgram *d = &r->dg[seq];
	char what[32];
	size_t len;

	d->sent_ns = udpc_now_ns();
	d->state = DG_PENDING;
	len = udpc_payload(r->sbuf, seq, d->sent_ns, r->o->size);
	snprintf(what, sizeof(what), "seq=%lu", seq);
	send_raw(r, r->sbuf, len, what);
}

/* Lets a relay learn our address when there is nothing else to send. */
static void send_hello(struct run *r)
{
	r->hello_len = snprintf(r->hello, sizeof(r->hello), "dk hello %llu",
				(unsigned long long)udpc_now_ns());
	send_raw(r, r->hello, r->hello_len, "hello");
}

static void answered(struct run *r, unsigned long seq, uint64_t now)
{
	struct dgram *d = &r->dg[seq];

	d->state = DG_ANSWERED;
	r->answered++;
	if (!r->first_answer_ns)
		r->first_answer_ns = now;
	printf("seq=%lu rtt_ms=%.3f\n", seq,
	       (double)(now - d->sent_ns) / NS_PER_MS);
}

static void lost(struct run *r, unsigned long seq)
{
	r->dg[seq].state = DG_LOST;
	r->lost++;
	printf("seq=%lu lost\n", seq);
}

/*
 * Echoes of our own datagrams, even late or duplicated ones, are answers;
 * everything else the server sent on its own and counts as a push.
 */
static void classify(struct run *r, size_t len, uint64_t now)
{
	unsigned long seq;
	size_t want;

	if (len == r->hello_len && !memcmp(r->rbuf, r->hello, len))
		return;
	if (udpc_payload_seq(r->rbuf, len, &seq) || seq >= r->sent) {
		r->pushes++;
		return;
	}
	want = udpc_payload(r->sbuf, seq, r->dg[seq].sent_ns, r->o->size);
	if (want != len || memcmp(r->sbuf, r->rbuf, len)) {
		r->pushes++;
		return;
	}
	if (r->dg[seq].state == DG_PENDING)
		answered(r, seq, now);
}

static int drain(struct run *r)
{
	ssize_t n;

	for (;;) {
		n = recv(r->fd, r->rbuf, BUF_SIZE, MSG_DONTWAIT);
		if (n >= 0) {
			classify(r, n, udpc_now_ns());
			continue;
		}
		switch (errno) {
		case EAGAIN:
			return 0;
		case EINTR:
		case ECONNREFUSED:
		case EHOSTUNREACH:
		case ENETUNREACH:
			/* a queued ICMP error: the datagram is just lost */
			continue;
		default:
			perror("udpclient: recv");
			return -1;
		}
	}
}

/* Waits for datagrams until @deadline (monotonic ns) or the first one. */
static int wait_until(struct run *r, uint64_t deadline)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	uint64_t now = udpc_now_ns(), left = deadline > now ? deadline - now : 0;
	struct timespec ts = {
		.tv_sec = left / 1000000000ull,
		.tv_nsec = left % 1000000000ull,
	};

	if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR) {
		perror("udpclient: poll");
		return -1;
	}
	return drain(r);
}

/* Declares lost what has waited longer than --timeout, oldest first. */
static void expire(struct run *r, uint64_t now)
{
	uint64_t timeout = r->o->timeout_ms * NS_PER_MS;

	for (; r->oldest < r->sent; r->oldest++) {
		struct dgram *d = &r->dg[r->oldest];

		if (d->state != DG_PENDING)
			continue;
		if (now - d->sent_ns < timeout)
			break;
		lost(r, r->oldest);
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* -n N: send N datagrams, wait up to --timeout for each answer. */
static int run_count(struct run *r)
{
	const struct udpc_opts *o = r->o;
	uint64_t start = udpc_now_ns(), next_send = start, now, deadline;

	for (;;) {
		now = udpc_now_ns();
		if (r->sent < (unsigned long)o->count && now >= next_send) {
			send_next(r);
			next_send = start + r->sent * o->interval_ms * NS_PER_MS;
			continue;
		}
		expire(r, now);
		if (r->sent == (unsigned long)o->count &&
		    r->answered + r->lost == r->sent)
			return 0;
		deadline = UINT64_MAX;
		if (r->sent < (unsigned long)o->count)
			deadline = next_send;
		if (r->oldest < r->sent)
			deadline = min_u64(deadline, r->dg[r->oldest].sent_ns +
					   o->timeout_ms * NS_PER_MS);
		if (wait_until(r, deadline))
			return -1;
	}
}

/* --until-answered MS: keep sending until the first answer, or give up. */
static int run_until_answered(struct run *r)
{
	const struct udpc_opts *o = r->o;
	uint64_t start = udpc_now_ns(), next_send = start, now;
	uint64_t end = start + o->until_answered_ms * NS_PER_MS;
	unsigned long seq;

	while (!r->answered) {
		now = udpc_now_ns();
		if (now >= end)
			break;
		if (now >= next_send && r->sent < r->cap) {
			send_next(r);
			next_send = start + r->sent * o->interval_ms * NS_PER_MS;
			continue;
		}
		if (wait_until(r, min_u64(next_send, end)))
			return -1;
	}
	for (seq = 0; seq < r->sent; seq++)
		if (r->dg[seq].state == DG_PENDING)
			lost(r, seq);
	return 0;
}

/* --recv-for MS: listen for what the server pushes on its own. */
static int run_recv_for(struct run *r)
{
	uint64_t end = udpc_now_ns() + r->o->recv_for_ms * NS_PER_MS;

	if (!r->sent)
		send_hello(r);
	while (udpc_now_ns() < end)
		if (wait_until(r, end))
			return -1;
	return 0;
}

static void print_summary(const struct run *r)
{
	const struct udpc_opts *o = r->o;

	printf("sent=%lu answered=%lu lost=%lu", r->sent, r->answered,
	       r->lost);
	if (o->recv_for_ms >= 0)
		printf(" pushes=%lu", r->pushes);
	if (o->until_answered_ms >= 0) {
		long stall = -1;

		if (r->answered)
			stall = (r->first_answer_ns - r->dg[0].sent_ns +
				 NS_PER_MS / 2) / NS_PER_MS;
		printf(" stall_ms=%ld", stall);
	}
	printf("\n");
}

static int exit_status(const struct run *r)
{
	if (r->o->until_answered_ms >= 0)
		return r->answered ? 0 : 1;
	return r->answered == r->sent ? 0 : 1;
}

static int run_init(struct run *r, const struct udpc_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->o = o;
	r->cap = o->count;
	if (o->until_answered_ms >= 0)
		r->cap = o->until_answered_ms / o->interval_ms + 1;
	r->dg = calloc(r->cap ? r->cap : 1, sizeof(*r->dg));
	r->sbuf = malloc(BUF_SIZE);
	r->rbuf = malloc(BUF_SIZE + 1);
	if (!r->dg || !r->sbuf || !r->rbuf) {
		fprintf(stderr, "udpclient: out of memory\n");
		return -1;
	}
	r->fd = open_socket(o);
	return r->fd < 0 ? -1 : 0;
}

static void run_free(struct run *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->dg);
	free(r->sbuf);
	free(r->rbuf);
}

int udpc_run(const struct udpc_opts *o)
{
	struct run r;
	int ret = 1;

	if (run_init(&r, o))
		goto out;
	if (o->until_answered_ms >= 0) {
		if (run_until_answered(&r))
			goto out;
	} else if (run_count(&r)) {
		goto out;
	}
	if (o->recv_for_ms >= 0 && run_recv_for(&r))
		goto out;
	print_summary(&r);
	ret = exit_status(&r);
out:
	run_free(&r);
	return ret;
}
