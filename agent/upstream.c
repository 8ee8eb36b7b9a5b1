// SPDX-License-Identifier: GPL-2.0
/*
 * The upstream socket: one connected UDP socket per session, kept across
 * recoveries so that a re-established association keeps its NAT mapping.
 * Its local port is remembered in the state directory: a restarted agent
 * binds it again, so its flow keeps the same conntrack entry and mapping,
 * and a server that keys associations by address sees the same client.
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "monitor.h"
#include "session.h"
#include "statedir.h"

#define RX_BUF 65536
#define RX_BUDGET 64

static void icmp_hint(struct dk_session *s, const struct sock_extended_err *ee)
{
	const char *origin = ee->ee_origin == SO_EE_ORIGIN_ICMP6 ? "icmp6" :
			     ee->ee_origin == SO_EE_ORIGIN_ICMP ? "icmp" : "local";

	s->ctr.upstream_errors++;
	log_debug(s->cfg.name, "upstream: %s (%s type=%u code=%u)",
		  strerror((int)ee->ee_errno), origin, ee->ee_type, ee->ee_code);
	/* ICMP errors are unauthenticated: a hint, never a verdict */
	if (ee->ee_errno != ECONNREFUSED && ee->ee_errno != EHOSTUNREACH &&
	    ee->ee_errno != ENETUNREACH)
		return;
	s->ctr.hints++;
	if (!s->hint_at)
		s->hint_at = dk_now_ms();
	dk_monitor_emit(s->cfg.name, "hint", "%s type=%u code=%u", origin,
			ee->ee_type, ee->ee_code);
	dk_session_event(s, DK_EV_HINT);
}

/*
 * IP_RECVERR queues each ICMP error with its details; the queue must be
 * emptied or epoll keeps reporting EPOLLERR.
 */
static void drain_errors(struct dk_session *s)
{
	for (int i = 0; i < RX_BUDGET && s->upstream.fd >= 0; i++) {
		char ctl[512];
		struct msghdr msg = { .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm;

		if (recvmsg(s->upstream.fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))
				icmp_hint(s, (struct sock_extended_err *)CMSG_DATA(cm));
		}
	}
}

static void on_upstream(struct dk_watch *w, uint32_t events)
{
	struct dk_session *s = dk_container_of(w, struct dk_session, upstream);
	static uint8_t buf[RX_BUF];

	if (events & EPOLLERR)
		drain_errors(s);
	for (int i = 0; i < RX_BUDGET && s->upstream.fd >= 0; i++) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_TRUNC);

		/* errors were taken from the error queue, with details */
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			continue;
		}
		s->ctr.upstream_datagrams++;
		if ((size_t)n > sizeof(buf) - 1) {
			s->ctr.oversized++;
			s->ctr.datagrams_dropped++;
			continue;
		}
		dk_session_input(s, buf, (size_t)n);
	}
}

void dk_upstream_load_port(struct dk_session *s)
{
	char text[8] = "";
	size_t len = sizeof(text) - 1;
	long port;

	if (dk_statedir_load(s->agent->state_dir, s->cfg.name, "port",
			     (uint8_t *)text, &len))
		return;
	text[len] = '\0';
	port = strtol(text, NULL, 10);
	if (port > 0 && port < 65536)
		s->upstream_port = (uint16_t)port;
}

static void save_port(struct dk_session *s, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint16_t port;
	char text[8];

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return;
	port = ntohs(ss.ss_family == AF_INET ?
		     ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (port == s->upstream_port || !s->agent->state_dir)
		return;
	s->upstream_port = port;
	len = (socklen_t)snprintf(text, sizeof(text), "%u", port);
	dk_statedir_save(s->agent->state_dir, s->cfg.name, "port",
			 (uint8_t *)text, len);
}

/* the remembered port, if it is still free; else the kernel picks one */
static void bind_port(struct dk_session *s, int fd)
{
	struct sockaddr_storage ss = { .ss_family = s->cfg.upstream.ss.ss_family };

	if (!s->upstream_port)
		return;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(s->upstream_port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(s->upstream_port);
	if (bind(fd, (struct sockaddr *)&ss, sizeof(ss)))
		log_info(s->cfg.name, "upstream port %u not available (%s): a new one",
			 s->upstream_port, strerror(errno));
}

int dk_upstream_open(struct dk_session *s, const char **why)
{
	const struct dk_addr *to = &s->cfg.upstream;
	int fd = socket(to->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0)
		goto fail;
	bind_port(s, fd);
	/* ICMP errors with their details (type, code) in the error queue */
	if (to->ss.ss_family == AF_INET)
		setsockopt(fd, SOL_IP, IP_RECVERR, &(int){ 1 }, sizeof(int));
	else
		setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &(int){ 1 }, sizeof(int));
	if (connect(fd, (const struct sockaddr *)&to->ss, to->len))
		goto fail;
	save_port(s, fd);
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
