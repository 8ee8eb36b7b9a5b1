// SPDX-License-Identifier: GPL-2.0
/*
 * Peers by (listener, peer address): chained buckets, doubled when the
 * load passes one. The hash is seeded at start so that a client choosing
 * its source ports cannot pile every peer into one chain.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "testserver.h"

#define INITIAL_BUCKETS 1024

static uint64_t peer_hash(uint64_t seed, const struct ts_listener *l,
			  const struct ts_addr *a)
{
	uint8_t key[TS_ADDR_KEY_MAX];
	size_t n = ts_addr_key(a, key);
	uint64_t h = seed ^ 0xcbf29ce484222325ull;

	h = (h ^ l->index) * 0x100000001b3ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	/* FNV's low bits mix poorly; the bucket index uses them */
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

int ts_table_init(struct ts_peer_table *t)
{
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = INITIAL_BUCKETS;
	t->count = 0;
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = (uintptr_t)t ^ ts_now_ms();
	return 0;
}

struct ts_peer *ts_table_find(const struct ts_peer_table *t,
			      const struct ts_listener *l,
			      const struct ts_addr *a)
{
	uint64_t h = peer_hash(t->seed, l, a);
	struct ts_peer *p;

	for (p = t->buckets[h & (t->nbuckets - 1)]; p; p = p->hash_next) {
		if (p->hash == h && p->listener == l &&
		    ts_addr_equal(&p->addr, a))
			return p;
	}
	return NULL;
}

/* a failed allocation only leaves the chains longer */
static void grow(struct ts_peer_table *t)
{
	size_t n = t->nbuckets * 2;
	struct ts_peer **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ts_peer *p = t->buckets[i], *next;

		for (; p; p = next) {
			next = p->hash_next;
			p->hash_next = b[p->hash & (n - 1)];
			b[p->hash & (n - 1)] = p;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

void ts_table_add(struct ts_peer_table *t, struct ts_peer *p)
{
	struct ts_peer **head;

	if (t->count >= t->nbuckets)
		grow(t);
	p->hash = peer_hash(t->seed, p->listener, &p->addr);
	head = &t->buckets[p->hash & (t->nbuckets - 1)];
	p->hash_next = *head;
	*head = p;
	t->count++;
}

void ts_table_del(struct ts_peer_table *t, struct ts_peer *p)
{
	struct ts_peer **pp = &t->buckets[p->hash & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hash_next) {
		if (*pp == p) {
			*pp = p->hash_next;
			p->hash_next = NULL;
			t->count--;
			return;
		}
	}
}

void ts_table_each(struct ts_peer_table *t,
		   void (*fn)(struct ts_peer *p, void *ctx), void *ctx)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ts_peer *p = t->buckets[i], *next;

		for (; p; p = next) {
			next = p->hash_next;
			fn(p, ctx);
		}
	}
}

void ts_table_free(struct ts_peer_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = t->count = 0;
}
