/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's single event loop: epoll for sockets, a binary min-heap of
 * millisecond timers (O(log n) per arm/cancel, so 10k sessions each with a
 * few timers cost nothing while idle).
 */
#ifndef DK_LOOP_H
#define DK_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define dk_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct dk_watch {
	int fd;
	void (*cb)(struct dk_watch *w, uint32_t events);
};

struct dk_timer {
	uint64_t when;		/* CLOCK_MONOTONIC ms */
	size_t slot;		/* heap index + 1, 0 when not armed */
	void (*cb)(struct dk_timer *t);
};

struct dk_loop;

struct dk_loop *dk_loop_new(void);
void dk_loop_free(struct dk_loop *l);
int dk_loop_add(struct dk_loop *l, struct dk_watch *w, uint32_t events);
void dk_loop_del(struct dk_loop *l, struct dk_watch *w);

void dk_timer_arm(struct dk_loop *l, struct dk_timer *t, uint64_t when);
void dk_timer_cancel(struct dk_loop *l, struct dk_timer *t);
static inline bool dk_timer_armed(const struct dk_timer *t)
{
	return t->slot != 0;
}

/*
 * Run fn(arg) once the current batch of events is dispatched: for freeing
 * what a later event of the same batch may still point to.
 */
int dk_loop_defer(struct dk_loop *l, void (*fn)(void *arg), void *arg);

/* run expired timers; returns ms until the next one, -1 if none */
int dk_loop_run_timers(struct dk_loop *l);
/* one epoll round: wait for events or the next timer, dispatch */
int dk_loop_once(struct dk_loop *l);
int dk_loop_run(struct dk_loop *l);
void dk_loop_stop(struct dk_loop *l);

#endif
