// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

void dk_queue_init(struct dk_queue *q, unsigned int max_count,
		   size_t max_bytes, uint64_t max_age_ms)
{
	memset(q, 0, sizeof(*q));
	q->tail = &q->head;
	q->max_count = max_count;
	q->max_bytes = max_bytes;
	q->max_age_ms = max_age_ms;
}

int dk_queue_push(struct dk_queue *q, const void *buf, size_t len,
		  const struct dk_addr *from, uint64_t now)
{
	struct dk_qitem *it;

	if (q->count >= q->max_count || q->bytes + len > q->max_bytes) {
		q->dropped_full++;
		return -ENOBUFS;
	}
	it = malloc(sizeof(*it) + len);
	if (!it) {
		q->dropped_full++;
		return -ENOMEM;
	}
	it->next = NULL;
	it->queued_at = now;
	it->from = *from;
	it->len = len;
	memcpy(it->data, buf, len);
	*q->tail = it;
	q->tail = &it->next;
	q->count++;
	q->bytes += len;
	return 0;
}

static struct dk_qitem *unlink_head(struct dk_queue *q)
{
	struct dk_qitem *it = q->head;

	q->head = it->next;
	if (!q->head)
		q->tail = &q->head;
	q->count--;
	q->bytes -= it->len;
	it->next = NULL;
	return it;
}

struct dk_qitem *dk_queue_pop(struct dk_queue *q, uint64_t now)
{
	while (q->head) {
		struct dk_qitem *it = unlink_head(q);

		if (!q->max_age_ms || now - it->queued_at <= q->max_age_ms)
			return it;
		/* an answer to a question this old is of no use to anyone */
		q->dropped_stale++;
		free(it);
	}
	return NULL;
}

void dk_queue_clear(struct dk_queue *q)
{
	while (q->head)
		free(unlink_head(q));
}
