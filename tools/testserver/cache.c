// SPDX-License-Identifier: GPL-2.0
/*
 * Session-ID resumption cache (RFC 5246 7.4.1.2), for clients that do not
 * use tickets. Direct-mapped: a new entry overwrites whatever shared its
 * slot. Losing an entry only costs that client a full handshake, which a
 * test server can afford; in exchange the cache needs no eviction policy
 * and its size is bounded. GnuTLS checks the entries' age itself.
 */
#include <stdlib.h>
#include <string.h>

#include "testserver.h"

#define CACHE_SLOTS 16384	/* a power of two */
#define CACHE_KEY_MAX 64	/* session IDs are at most 32 bytes */

struct cache_entry {
	uint8_t key[CACHE_KEY_MAX];
	unsigned int key_len;
	gnutls_datum_t data;
};

struct ts_cache {
	struct cache_entry slot[CACHE_SLOTS];
};

static struct cache_entry *slot_for(struct ts_cache *c, gnutls_datum_t key)
{
	uint32_t h = 2166136261u;

	for (unsigned int i = 0; i < key.size; i++)
		h = (h ^ key.data[i]) * 16777619u;
	return &c->slot[h & (CACHE_SLOTS - 1)];
}

static bool entry_matches(const struct cache_entry *e, gnutls_datum_t key)
{
	return e->data.data && e->key_len == key.size &&
	       !memcmp(e->key, key.data, key.size);
}

static void entry_clear(struct cache_entry *e)
{
	free(e->data.data);
	memset(e, 0, sizeof(*e));
}

static int cache_store(void *ptr, gnutls_datum_t key, gnutls_datum_t data)
{
	struct cache_entry *e;
	void *copy;

	if (key.size > CACHE_KEY_MAX || !data.size)
		return -1;
	copy = malloc(data.size);
	if (!copy)
		return -1;
	memcpy(copy, data.data, data.size);
	e = slot_for(ptr, key);
	entry_clear(e);
	memcpy(e->key, key.data, key.size);
	e->key_len = key.size;
	e->data.data = copy;
	e->data.size = data.size;
	return 0;
}

/* GnuTLS frees what this returns, with gnutls_free */
static gnutls_datum_t cache_fetch(void *ptr, gnutls_datum_t key)
{
	struct cache_entry *e = slot_for(ptr, key);
	gnutls_datum_t out = { NULL, 0 };

	if (!entry_matches(e, key))
		return out;
	out.data = gnutls_malloc(e->data.size);
	if (!out.data)
		return out;
	memcpy(out.data, e->data.data, e->data.size);
	out.size = e->data.size;
	return out;
}

static int cache_remove(void *ptr, gnutls_datum_t key)
{
	struct cache_entry *e = slot_for(ptr, key);

	if (!entry_matches(e, key))
		return -1;
	entry_clear(e);
	return 0;
}

struct ts_cache *ts_cache_new(void)
{
	return calloc(1, sizeof(struct ts_cache));
}

void ts_cache_attach(struct ts_cache *c, gnutls_session_t s)
{
	gnutls_db_set_ptr(s, c);
	gnutls_db_set_store_function(s, cache_store);
	gnutls_db_set_retrieve_function(s, cache_fetch);
	gnutls_db_set_remove_function(s, cache_remove);
}

void ts_cache_free(struct ts_cache *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < CACHE_SLOTS; i++)
		free(c->slot[i].data.data);
	free(c);
}
