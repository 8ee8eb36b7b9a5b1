// SPDX-License-Identifier: GPL-2.0
/*
 * The local side: plaintext datagrams from the application go upstream
 * inside the session; what the peer sends goes back to the application
 * that spoke last (one application per session, as a DNS forwarder or a
 * CoAP client uses it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "session.h"

/* a little more than any UDP payload, so that MSG_TRUNC tells oversize */
#define RX_BUF 65536
#define RX_BUDGET 64		/* datagrams per wake-up: fairness */

static void count_drop(struct dk_session *s, const char *why)
{
	s->ctr.datagrams_dropped++;
	/* one line per drop would let a flood fill the log: every 2^n-th */
	if ((s->ctr.datagrams_dropped & (s->ctr.datagrams_dropped - 1)) == 0)
		log_warn(s->cfg.name, "datagram dropped: %s (dropped so far: %llu)",
			 why, (unsigned long long)s->ctr.datagrams_dropped);
}

void dk_relay_to_app(struct dk_session *s, const uint8_t *buf, size_t len)
{
	if (!s->have_app) {
		count_drop(s, "no local application has spoken yet");
		return;
	}
	if (sendto(s->local.fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&s->app.ss,
		   s->app.len) < 0) {
		count_drop(s, strerror(errno));
		return;
	}
	s->ctr.datagrams_out++;
}

static void send_now(struct dk_session *s, const uint8_t *buf, size_t len,
		     const struct dk_addr *from)
{
	int ret = s->ops->send(s->eng, buf, len);

	if (ret == -EMSGSIZE)
		count_drop(s, "larger than the session's MTU");
	else if (ret)
		count_drop(s, s->ops->error(s->eng));
	else
		dk_probe_after_send(s, buf, len, from);
}

void dk_relay_send_upstream(struct dk_session *s, const uint8_t *buf, size_t len,
			    const struct dk_addr *from)
{
	bool was_up = s->state == DK_ST_UP;
	struct dk_policy_out out;
	int ret;

	dk_session_decide(s, DK_EV_APP_DATAGRAM, &out);
	/* a restarted handshake may already have completed (it never does
	 * on a real network, but nothing here depends on that) */
	if (out.actions & DK_ACT_SEND || (!was_up && s->state == DK_ST_UP)) {
		send_now(s, buf, len, from);
		return;
	}
	if (!(out.actions & DK_ACT_QUEUE))
		return;
	ret = dk_queue_push(&s->queue, buf, len, from, dk_now_ms());
	if (ret) {
		count_drop(s, "recovery queue full");
		return;
	}
	s->ctr.queued++;
	log_debug(s->cfg.name, "queued datagram while %s (%u waiting)",
		  dk_state_name(s->state), s->queue.count);
}

void dk_relay_flush(struct dk_session *s)
{
	uint64_t stale = s->queue.dropped_stale;
	unsigned int sent = 0;
	struct dk_qitem *it;

	while (s->state == DK_ST_UP && (it = dk_queue_pop(&s->queue, dk_now_ms()))) {
		send_now(s, it->data, it->len, &it->from);
		free(it);
		sent++;
	}
	stale = s->queue.dropped_stale - stale;
	s->ctr.datagrams_dropped += stale;
	if (sent || stale)
		log_info(s->cfg.name, "flushed %u queued datagrams, %llu too old dropped",
			 sent, (unsigned long long)stale);
}

static void on_local(struct dk_watch *w, uint32_t events)
{
	struct dk_session *s = dk_container_of(w, struct dk_session, local);
	static uint8_t buf[RX_BUF];

	for (int i = 0; i < RX_BUDGET; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(w->fd, buf, sizeof(buf), MSG_TRUNC,
				     (struct sockaddr *)&from, &flen);

		if (n < 0)
			break;
		s->ctr.datagrams_in++;
		if ((size_t)n > sizeof(buf) - 1 ||
		    (s->info.data_mtu && (size_t)n > s->info.data_mtu)) {
			s->ctr.oversized++;
			count_drop(s, "oversized datagram from the application");
			continue;
		}
		dk_addr_from_sa(&s->app, (struct sockaddr *)&from, flen);
		s->have_app = true;
		dk_relay_send_upstream(s, buf, (size_t)n, &s->app);
	}
}

int dk_relay_open(struct dk_session *s, const char **why)
{
	int fd = socket(s->cfg.listen.ss.ss_family,
			SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&s->cfg.listen.ss, s->cfg.listen.len))
		goto fail;
	s->local.fd = fd;
	s->local.cb = on_local;
	ret = dk_loop_add(s->agent->loop, &s->local, EPOLLIN);
	if (ret) {
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
