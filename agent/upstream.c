// SPDX-License-Identifier: GPL-2.0
/*
 * The upstream socket: one connected UDP socket per session, kept across
 * recoveries so that a re-established association keeps its NAT mapping.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "session.h"

#define RX_BUF 65536
#define RX_BUDGET 64

static void on_socket_error(struct dk_session *s, int err)
{
	s->ctr.upstream_errors++;
	log_debug(s->cfg.name, "upstream: %s", strerror(err));
	/* ICMP errors are unauthenticated: a hint, never a verdict */
	if (err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH) {
		s->ctr.hints++;
		dk_session_event(s, DK_EV_HINT);
	}
}

static void on_upstream(struct dk_watch *w, uint32_t events)
{
	struct dk_session *s = dk_container_of(w, struct dk_session, upstream);
	static uint8_t buf[RX_BUF];

	for (int i = 0; i < RX_BUDGET && s->upstream.fd >= 0; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_TRUNC);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			on_socket_error(s, errno);
			continue;
		}
		if ((size_t)n > sizeof(buf) - 1) {
			s->ctr.oversized++;
			s->ctr.datagrams_dropped++;
			continue;
		}
		dk_session_input(s, buf, (size_t)n);
	}
}

int dk_upstream_open(struct dk_session *s, const char **why)
{
	const struct dk_addr *to = &s->cfg.upstream;
	int fd = socket(to->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&to->ss, to->len))
		goto fail;
	s->upstream.fd = fd;
	s->upstream.cb = on_upstream;
	ret = dk_loop_add(s->agent->loop, &s->upstream, EPOLLIN);
	if (ret) {
		dk_upstream_close(s);
		*why = strerror(-ret);
		return ret;
	}
	return 0;
fail:
	ret = -errno;
	*why = strerror(errno);
	if (fd >= 0)
		close(fd);
	return ret;
}

void dk_upstream_close(struct dk_session *s)
{
	if (s->upstream.fd < 0)
		return;
	dk_loop_del(s->agent->loop, &s->upstream);
	close(s->upstream.fd);
	s->upstream.fd = -1;
}
