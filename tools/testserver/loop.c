// SPDX-License-Identifier: GPL-2.0
/*
 * The one loop: listening sockets and a signalfd in epoll, timers from the
 * peers' deadline heap and the push interval folded into epoll's timeout.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "testserver.h"

#define MAX_EVENTS 64
/* timers run per loop turn, so a burst of expiries cannot starve input */
#define TIMER_BUDGET 1024

/* epoll's data for the signalfd; listeners are identified by pointer */
static int signal_tag;

void ts_log_stats(const struct ts_server *srv)
{
	const struct ts_stats *st = &srv->stats;

	ts_log("stats",
	       "peers=%zu handshakes=%llu resumed=%llu pings=%llu echoes=%llu dropped=%llu oversized=%llu failed=%llu pushes=%llu cookies=%llu alerts=%llu send_errors=%llu",
	       srv->peers.count, (unsigned long long)st->handshakes,
	       (unsigned long long)st->resumed, (unsigned long long)st->pings,
	       (unsigned long long)st->echoes, (unsigned long long)st->dropped,
	       (unsigned long long)st->oversized,
	       (unsigned long long)st->failed, (unsigned long long)st->pushes,
	       (unsigned long long)st->cookies, (unsigned long long)st->alerts,
	       (unsigned long long)st->send_errors);
}

static int open_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void on_signal(struct ts_server *srv, int sfd)
{
	struct signalfd_siginfo si;
	unsigned int n;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			n = ts_peers_drop_all(srv);
			ts_log("state_dropped", "peers=%u", n);
			break;
		case SIGUSR2:
			ts_log_stats(srv);
			break;
		default:
			ts_log("shutdown", "signal=SIG%s",
			       sigabbrev_np(si.ssi_signo));
			srv->stop = true;
			break;
		}
	}
}

static void run_timers(struct ts_server *srv, uint64_t now)
{
	struct ts_peer *p;

	for (int i = 0; i < TIMER_BUDGET; i++) {
		p = ts_heap_top(&srv->timers);
		if (!p || p->deadline_ms > now)
			break;
		ts_peer_timer(p, now);
	}
	if (srv->opt.push_interval_ms && now >= srv->next_push_ms) {
		ts_peers_push(srv);
		srv->next_push_ms += srv->opt.push_interval_ms;
		/* after a stall, do not push in a burst to catch up */
		if (srv->next_push_ms <= now)
			srv->next_push_ms = now + srv->opt.push_interval_ms;
	}
}

static int next_timeout(const struct ts_server *srv, uint64_t now)
{
	struct ts_peer *p = ts_heap_top(&srv->timers);
	uint64_t next = UINT64_MAX;

	if (p)
		next = p->deadline_ms;
	if (srv->opt.push_interval_ms && srv->next_push_ms < next)
		next = srv->next_push_ms;
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

static int watch(int epfd, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void on_event(struct ts_server *srv, struct epoll_event *ev, int sfd)
{
	if (ev->data.ptr == &signal_tag)
		on_signal(srv, sfd);
	else
		ts_listener_read(srv, ev->data.ptr);
}

int ts_loop_run(struct ts_server *srv)
{
	struct epoll_event evs[MAX_EVENTS];
	int epfd, sfd = -1, ret, n;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	sfd = open_signalfd();
	ret = sfd < 0 ? -errno : watch(epfd, sfd, &signal_tag);
	for (unsigned int i = 0; !ret && i < srv->n_listeners; i++)
		ret = watch(epfd, srv->listeners[i].fd, &srv->listeners[i]);
	if (ret)
		goto out;

	srv->next_push_ms = ts_now_ms() + srv->opt.push_interval_ms;
	while (!srv->stop) {
		n = epoll_wait(epfd, evs, MAX_EVENTS,
			       next_timeout(srv, ts_now_ms()));
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		for (int i = 0; i < n && !srv->stop; i++)
			on_event(srv, &evs[i], sfd);
		run_timers(srv, ts_now_ms());
	}
out:
	if (sfd >= 0)
		close(sfd);
	close(epfd);
	return ret;
}
