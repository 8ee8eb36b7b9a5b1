// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake gate (hsgate.h): a FIFO of waiting sessions and a count of
 * slots taken. Freed slots are handed out by a timer due at once, so that
 * a handshake ending inside one session's call back never starts another
 * session's handshake inside it.
 */
#include <stddef.h>

#include "clock.h"
#include "hsgate.h"
#include "log.h"

static bool has_room(const struct dk_hs_gate *g)
{
	return !g->limit || g->in_flight < g->limit;
}

static void take(struct dk_hs_gate *g, struct dk_hs_waiter *w)
{
	w->holding = true;
	g->in_flight++;
}

static void unlink_waiter(struct dk_hs_gate *g, struct dk_hs_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		g->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		g->tail = w->prev;
	w->prev = w->next = NULL;
	w->queued = false;
	g->waiting--;
}

static void on_open(struct dk_timer *t)
{
	struct dk_hs_gate *g = dk_container_of(t, struct dk_hs_gate, t_open);

	/*
	 * start() may end at once (a socket error) and hand its slot back:
	 * the loop then goes on with the next waiter.
	 */
	while (g->head && has_room(g)) {
		struct dk_hs_waiter *w = g->head;

		unlink_waiter(g, w);
		take(g, w);
		if (!g->head)
			log_info(NULL, "handshake queue drained: %lu handshakes waited, the last %llu ms",
				 g->waited, (unsigned long long)(dk_now_ms() - g->queue_since));
		w->start(w);
	}
}

/* slots free and sessions waiting: hand them out from the loop */
static void kick(struct dk_hs_gate *g)
{
	if (g->head && has_room(g) && g->loop && !dk_timer_armed(&g->t_open))
		dk_timer_arm(g->loop, &g->t_open, dk_now_ms());
}

void dk_hs_gate_init(struct dk_hs_gate *g, struct dk_loop *loop,
		     unsigned int limit)
{
	*g = (struct dk_hs_gate){ .loop = loop, .limit = limit };
	g->t_open.cb = on_open;
}

void dk_hs_gate_set_limit(struct dk_hs_gate *g, unsigned int limit)
{
	g->limit = limit;
	kick(g);
}

bool dk_hs_gate_enter(struct dk_hs_gate *g, struct dk_hs_waiter *w)
{
	if (w->holding)
		return true;
	if (w->queued)
		return false;
	/* nobody may overtake those already waiting */
	if (!g->head && has_room(g)) {
		take(g, w);
		return true;
	}
	w->prev = g->tail;
	w->next = NULL;
	if (g->tail)
		g->tail->next = w;
	else
		g->head = w;
	g->tail = w;
	w->queued = true;
	if (!g->waiting++) {
		g->queue_since = dk_now_ms();
		g->waited = 0;
		log_info(NULL, "handshakes paced: %u in flight, the others wait their turn",
			 g->limit);
	}
	g->waited++;
	kick(g);
	return false;
}

void dk_hs_gate_leave(struct dk_hs_gate *g, struct dk_hs_waiter *w)
{
	if (w->queued)
		unlink_waiter(g, w);
	if (w->holding) {
		w->holding = false;
		g->in_flight--;
		kick(g);
	}
}

void dk_hs_gate_exit(struct dk_hs_gate *g)
{
	if (g->loop)
		dk_timer_cancel(g->loop, &g->t_open);
}
