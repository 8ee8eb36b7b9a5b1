/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handshake gate: at most `limit` handshakes in flight at once, the
 * others wait their turn in arrival order. Without it, a gateway that
 * starts (or loses its WAN address) with thousands of sessions sends
 * thousands of ClientHellos in one burst, and a server with less room
 * than ours (a smaller socket buffer, slower crypto, a longer path) drops
 * what does not fit; the retransmissions then come back in step. Paced,
 * the burst is never larger than the limit. Our own test server on the
 * test bed takes 10000 at once (Documentation/benchmarks.md, m7): the
 * gate is a bound for servers we cannot measure, not a speed-up.
 *
 * A waiter is embedded in its owner (a session); start() is called from
 * the event loop, never from inside a dk_hs_gate_* call, once a slot is
 * the waiter's.
 */
#ifndef DK_HSGATE_H
#define DK_HSGATE_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"

struct dk_hs_waiter {
	struct dk_hs_waiter *prev, *next;
	bool queued;			/* waiting for a slot */
	bool holding;			/* a slot is ours */
	void (*start)(struct dk_hs_waiter *w);
};

struct dk_hs_gate {
	struct dk_loop *loop;
	unsigned int limit;		/* 0: no limit */
	unsigned int in_flight;
	unsigned int waiting;
	struct dk_hs_waiter *head, *tail;
	struct dk_timer t_open;		/* hands free slots out */
	uint64_t queue_since;		/* when the queue last formed */
	unsigned long waited;		/* handshakes that waited since then */
};

void dk_hs_gate_init(struct dk_hs_gate *g, struct dk_loop *loop,
		     unsigned int limit);
/* a new limit: more room hands slots out at once */
void dk_hs_gate_set_limit(struct dk_hs_gate *g, unsigned int limit);
/*
 * true: the slot is the waiter's, go ahead; false: it waits (or already
 * waited) for one, and start() will be called.
 */
bool dk_hs_gate_enter(struct dk_hs_gate *g, struct dk_hs_waiter *w);
/* the handshake ended, or the waiter gives up its place: either way */
void dk_hs_gate_leave(struct dk_hs_gate *g, struct dk_hs_waiter *w);
/* stop handing slots out (the loop goes away) */
void dk_hs_gate_exit(struct dk_hs_gate *g);

#endif
