// SPDX-License-Identifier: GPL-2.0
/*
 * dtlskeep-delayproxy: a UDP forwarder that adds a fixed delay each way,
 * for the benchmarks' path-delay runs (this kernel has no sch_netem).
 *
 *   dtlskeep-delayproxy -l ADDR:PORT -t ADDR:PORT -d RTT_MS
 *
 * Every client address gets its own socket towards the target, so the
 * target still tells clients apart by address the way it would without the
 * proxy: a client whose NAT mapping changed arrives from a new proxy port.
 * Half the round trip is added on the way in, half on the way out.  At most
 * MAX_CLIENTS clients and MAX_QUEUED datagrams in flight; beyond that it
 * drops and counts (printed at exit on SIGTERM).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_QUEUED 4096
#define MAX_DGRAM 2048

struct client {
	struct sockaddr_storage addr;
	socklen_t len;
	int fd;			/* towards the target */
};

struct held {
	uint64_t due_us;
	int fd;			/* the socket to send from */
	struct sockaddr_storage to;	/* len 0: connected socket */
	socklen_t to_len;
	uint16_t len;
	uint8_t data[MAX_DGRAM];
};

static struct client clients[MAX_CLIENTS];
static int nclients;
static struct held *queue;
static unsigned int q_head, q_len;
static unsigned long dropped;
static volatile sig_atomic_t stop;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int resolve(const char *hostport, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	char host[256], *colon;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static struct client *client_for(const struct sockaddr_storage *a, socklen_t len,
				 const struct sockaddr_storage *target, socklen_t tlen)
{
	struct client *c;
	int i;

	for (i = 0; i < nclients; i++)
		if (clients[i].len == len && !memcmp(&clients[i].addr, a, len))
			return &clients[i];
	if (nclients == MAX_CLIENTS)
		return NULL;
	c = &clients[nclients];
	c->fd = socket(target->ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0 || connect(c->fd, (const struct sockaddr *)target, tlen) < 0)
		return NULL;
	memcpy(&c->addr, a, len);
	c->len = len;
	nclients++;
	return c;
}

/* The delay is constant, so the queue is a FIFO. */
static void hold(int fd, const struct sockaddr_storage *to, socklen_t to_len,
		 const uint8_t *buf, size_t n, uint64_t delay_us)
{
	struct held *h;

	if (q_len == MAX_QUEUED || n > MAX_DGRAM) {
		dropped++;
		return;
	}
	h = &queue[(q_head + q_len++) % MAX_QUEUED];
	h->due_us = now_us() + delay_us;
	h->fd = fd;
	h->to_len = to ? to_len : 0;
	if (to)
		memcpy(&h->to, to, to_len);
	h->len = n;
	memcpy(h->data, buf, n);
}

static void release(void)
{
	uint64_t now = now_us();
	struct held *h;

	while (q_len && (h = &queue[q_head])->due_us <= now) {
		if (h->to_len)
			sendto(h->fd, h->data, h->len, 0, (struct sockaddr *)&h->to, h->to_len);
		else
			send(h->fd, h->data, h->len, 0);
		q_head = (q_head + 1) % MAX_QUEUED;
		q_len--;
	}
}

static int next_timeout_ms(void)
{
	uint64_t now = now_us(), due;

	if (!q_len)
		return 1000;
	due = queue[q_head].due_us;
	return due <= now ? 0 : (int)((due - now + 999) / 1000);
}

static void on_stop(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage laddr, target, from;
	struct pollfd p[MAX_CLIENTS + 1];
	uint8_t buf[MAX_DGRAM];
	socklen_t llen, tlen, flen;
	uint64_t half_us = 0;
	const char *l = NULL, *t = NULL;
	int c, i, lfd;
	ssize_t n;

	while ((c = getopt(argc, argv, "l:t:d:")) != -1) {
		switch (c) {
		case 'l': l = optarg; break;
		case 't': t = optarg; break;
		case 'd': half_us = strtoull(optarg, NULL, 10) * 500; break;
		default: goto usage;
		}
	}
	if (!l || !t || resolve(l, &laddr, &llen) || resolve(t, &target, &tlen))
		goto usage;
	queue = calloc(MAX_QUEUED, sizeof(*queue));
	lfd = socket(laddr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (!queue || lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, llen) < 0) {
		perror("delayproxy");
		return 1;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	while (!stop) {
		p[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < nclients; i++)
			p[i + 1] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
		if (poll(p, nclients + 1, next_timeout_ms()) < 0 && errno != EINTR)
			break;
		release();
		flen = sizeof(from);
		while ((n = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
				     &flen)) >= 0) {
			struct client *cl = client_for(&from, flen, &target, tlen);

			if (cl)
				hold(cl->fd, NULL, 0, buf, n, half_us);
			else
				dropped++;
			flen = sizeof(from);
		}
		for (i = 0; i < nclients; i++)
			while ((n = recv(clients[i].fd, buf, sizeof(buf), 0)) >= 0)
				hold(lfd, &clients[i].addr, clients[i].len, buf, n, half_us);
	}
	printf("delayproxy: clients=%d dropped=%lu\n", nclients, dropped);
	return 0;
usage:
	fprintf(stderr, "usage: dtlskeep-delayproxy -l ADDR:PORT -t ADDR:PORT -d RTT_MS\n");
	return 2;
}
