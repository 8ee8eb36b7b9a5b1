// SPDX-License-Identifier: GPL-2.0
/*
 * A binary min-heap of peers by deadline_ms. Each peer knows its slot
 * (heap_idx), so moving or removing one is O(log n) at 10k peers.
 */
#include <errno.h>
#include <stdlib.h>

#include "testserver.h"

static void place(struct ts_heap *h, unsigned int i, struct ts_peer *p)
{
	h->v[i] = p;
	p->heap_idx = i;
}

static void sift_up(struct ts_heap *h, unsigned int i)
{
	struct ts_peer *p = h->v[i];

	while (i > 0) {
		unsigned int parent = (i - 1) / 2;

		if (h->v[parent]->deadline_ms <= p->deadline_ms)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, p);
}

static void sift_down(struct ts_heap *h, unsigned int i)
{
	struct ts_peer *p = h->v[i];

	for (;;) {
		unsigned int c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n &&
		    h->v[c + 1]->deadline_ms < h->v[c]->deadline_ms)
			c++;
		if (p->deadline_ms <= h->v[c]->deadline_ms)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, p);
}

int ts_heap_reserve(struct ts_heap *h, unsigned int n)
{
	unsigned int cap = h->cap ? h->cap : 64;
	struct ts_peer **v;

	if (n <= h->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	v = realloc(h->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

void ts_heap_set(struct ts_heap *h, struct ts_peer *p, uint64_t deadline)
{
	uint64_t old = p->deadline_ms;

	p->deadline_ms = deadline;
	if (p->heap_idx == TS_HEAP_NONE) {
		place(h, h->n++, p);
		sift_up(h, p->heap_idx);
	} else if (deadline < old) {
		sift_up(h, p->heap_idx);
	} else {
		sift_down(h, p->heap_idx);
	}
}

void ts_heap_del(struct ts_heap *h, struct ts_peer *p)
{
	unsigned int i = p->heap_idx;
	struct ts_peer *last;

	if (i == TS_HEAP_NONE)
		return;
	p->heap_idx = TS_HEAP_NONE;
	last = h->v[--h->n];
	if (last == p)
		return;
	place(h, i, last);
	sift_up(h, i);
	sift_down(h, last->heap_idx);
}

struct ts_peer *ts_heap_top(const struct ts_heap *h)
{
	return h->n ? h->v[0] : NULL;
}

void ts_heap_free(struct ts_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
