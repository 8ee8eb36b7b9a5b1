// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "loop.h"

struct deferred {
	struct deferred *next;
	void (*fn)(void *arg);
	void *arg;
};

struct dk_loop {
	int epfd;
	bool stop;
	struct dk_timer **heap;
	size_t n, cap;
	struct deferred *deferred;
};

int dk_loop_defer(struct dk_loop *l, void (*fn)(void *arg), void *arg)
{
	struct deferred *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->fn = fn;
	d->arg = arg;
	d->next = l->deferred;
	l->deferred = d;
	return 0;
}

static void run_deferred(struct dk_loop *l)
{
	while (l->deferred) {
		struct deferred *d = l->deferred;

		l->deferred = d->next;
		d->fn(d->arg);
		free(d);
	}
}

struct dk_loop *dk_loop_new(void)
{
	struct dk_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void dk_loop_free(struct dk_loop *l)
{
	if (!l)
		return;
	run_deferred(l);
	close(l->epfd);
	free(l->heap);
	free(l);
}

int dk_loop_add(struct dk_loop *l, struct dk_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

void dk_loop_del(struct dk_loop *l, struct dk_watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

static void heap_set(struct dk_loop *l, size_t i, struct dk_timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct dk_loop *l, size_t i)
{
	struct dk_timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (l->heap[parent]->when <= t->when)
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void sift_down(struct dk_loop *l, size_t i)
{
	struct dk_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->n)
			break;
		if (c + 1 < l->n && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (t->when <= l->heap[c]->when)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void dk_timer_cancel(struct dk_loop *l, struct dk_timer *t)
{
	size_t i;

	if (!t->slot)
		return;
	i = t->slot - 1;
	t->slot = 0;
	l->n--;
	if (i == l->n)
		return;
	l->heap[i] = l->heap[l->n];
	l->heap[i]->slot = i + 1;
	sift_down(l, i);
	sift_up(l, l->heap[i]->slot - 1);
}

void dk_timer_arm(struct dk_loop *l, struct dk_timer *t, uint64_t when)
{
	dk_timer_cancel(l, t);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct dk_timer **h = realloc(l->heap, cap * sizeof(*h));

		/* out of memory: fire as soon as possible rather than never */
		if (!h)
			abort();
		l->heap = h;
		l->cap = cap;
	}
	t->when = when;
	l->heap[l->n] = t;
	sift_up(l, l->n++);
}

int dk_loop_run_timers(struct dk_loop *l)
{
	uint64_t now = dk_now_ms();

	while (l->n && l->heap[0]->when <= now) {
		struct dk_timer *t = l->heap[0];

		dk_timer_cancel(l, t);
		t->cb(t);
		now = dk_now_ms();
	}
	if (!l->n)
		return -1;
	return (int)(l->heap[0]->when - now);
}

int dk_loop_once(struct dk_loop *l)
{
	struct epoll_event evs[64];
	int timeout = dk_loop_run_timers(l);
	int n;

	n = epoll_wait(l->epfd, evs, 64, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct dk_watch *w = evs[i].data.ptr;

		/* removed by an earlier event of this batch (its owner is
		 * freed only after the batch, see dk_loop_defer) */
		if (w->fd < 0)
			continue;
		w->cb(w, evs[i].events);
	}
	run_deferred(l);
	return 0;
}

int dk_loop_run(struct dk_loop *l)
{
	int ret = 0;

	while (!l->stop && !ret)
		ret = dk_loop_once(l);
	return ret;
}

void dk_loop_stop(struct dk_loop *l)
{
	l->stop = true;
}
