/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recovery queue: application datagrams that arrive while a session is
 * re-established wait here, bounded in count, bytes and age. Nothing leaves
 * silently: every datagram is either flushed, or counted as dropped with a
 * reason the caller logs.
 */
#ifndef DK_QUEUE_H
#define DK_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct dk_qitem {
	struct dk_qitem *next;
	uint64_t queued_at;
	struct dk_addr from;	/* the local application that sent it */
	size_t len;
	unsigned char data[];
};

struct dk_queue {
	struct dk_qitem *head, **tail;
	unsigned int count, max_count;
	size_t bytes, max_bytes;
	uint64_t max_age_ms;	/* 0: no age limit */
	uint64_t dropped_full, dropped_stale;
};

void dk_queue_init(struct dk_queue *q, unsigned int max_count,
		   size_t max_bytes, uint64_t max_age_ms);
/* 0 queued; -ENOBUFS when full (counted); -ENOMEM */
int dk_queue_push(struct dk_queue *q, const void *buf, size_t len,
		  const struct dk_addr *from, uint64_t now);
/* oldest datagram still young enough, or NULL; stale ones are counted and freed */
struct dk_qitem *dk_queue_pop(struct dk_queue *q, uint64_t now);
void dk_queue_clear(struct dk_queue *q);

#endif
