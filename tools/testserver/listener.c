// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testserver.h"

/* enough for 10k peers' handshake bursts; best effort, capped by rmem_max */
#define SOCKET_BUFFER (4 << 20)
/* datagrams read per wake-up, so timers and other sockets get their turn */
#define READ_BUDGET 256

static void grow_buffers(int fd)
{
	int size = SOCKET_BUFFER;

	/* the FORCE variants exceed rmem_max when privileged; else plain */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int open_one(struct ts_listener *l)
{
	int family = l->addr.ss.ss_family;
	int one = 1;
	int fd, ret;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* so that 0.0.0.0:P and [::]:P can both be listened on */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	grow_buffers(fd);
	if (bind(fd, (struct sockaddr *)&l->addr.ss, l->addr.len))
		goto err;
	/* port 0 was a request for any port: log the one we got */
	l->addr.len = sizeof(l->addr.ss);
	if (getsockname(fd, (struct sockaddr *)&l->addr.ss, &l->addr.len))
		goto err;
	l->fd = fd;
	return 0;
err:
	ret = -errno;
	close(fd);
	return ret;
}

int ts_listeners_open(struct ts_server *srv)
{
	int ret;

	for (unsigned int i = 0; i < srv->opt.n_listen; i++) {
		struct ts_listener *l = &srv->listeners[i];

		l->index = i;
		l->addr = srv->opt.listen[i];
		ts_addr_str(&l->addr, l->name, sizeof(l->name));
		ret = open_one(l);
		if (ret) {
			fprintf(stderr, "listen %s: %s\n", l->name,
				strerror(-ret));
			return ret;
		}
		srv->n_listeners++;
		ts_addr_str(&l->addr, l->name, sizeof(l->name));
		ts_log("listening", "addr=%s", l->name);
	}
	return 0;
}

void ts_listeners_close(struct ts_server *srv)
{
	for (unsigned int i = 0; i < srv->n_listeners; i++)
		close(srv->listeners[i].fd);
	srv->n_listeners = 0;
}

/*
 * UDP is lossy anyway: a datagram the kernel will not take now (full
 * buffer, ICMP error from an earlier send) is reported to GnuTLS as sent,
 * and the handshake's retransmission or the application recovers. Telling
 * GnuTLS EAGAIN would leave records queued in a session nobody flushes.
 */
ssize_t ts_udp_sendv(struct ts_server *srv, const struct ts_listener *l,
		     const struct ts_addr *to, const struct iovec *iov,
		     int iovcnt)
{
	struct msghdr msg = {
		.msg_name = (void *)&to->ss,
		.msg_namelen = to->len,
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = iovcnt,
	};
	ssize_t total = 0, n;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	do {
		n = sendmsg(l->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		srv->stats.send_errors++;
	return total;
}

/* returns false when the socket has nothing more to read */
static bool read_one(struct ts_server *srv, struct ts_listener *l)
{
	static uint8_t buf[TS_MAX_DGRAM];
	struct ts_addr from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_name = &from.ss,
		.msg_namelen = sizeof(from.ss),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	char name[TS_ADDRSTRLEN];
	ssize_t n;

	n = recvmsg(l->fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR || errno == ECONNREFUSED;
	from.len = msg.msg_namelen;
	if (msg.msg_flags & MSG_TRUNC) {
		srv->stats.oversized++;
		srv->stats.dropped++;
		ts_log_record("dropped", "peer=%s reason=oversized bytes=%zd",
			      ts_addr_str(&from, name, sizeof(name)), n);
		return true;
	}
	ts_dispatch(srv, l, &from, buf, n);
	return true;
}

void ts_listener_read(struct ts_server *srv, struct ts_listener *l)
{
	for (int i = 0; i < READ_BUDGET; i++) {
		if (!read_one(srv, l))
			return;
	}
}
