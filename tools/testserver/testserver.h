/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtlskeep-testserver: a DTLS 1.2 echo server for integration tests and
 * benchmarks. One thread, one epoll loop, one UDP socket per listen address,
 * one GnuTLS session per peer address.
 */
#ifndef TS_TESTSERVER_H
#define TS_TESTSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <gnutls/gnutls.h>
#include <gnutls/dtls.h>

#define TS_MAX_LISTEN 16
#define TS_ADDRSTRLEN 64
#define TS_MTU 1400
/*
 * The largest datagram worth reading: one maximal DTLS record (13-byte
 * header, 2^14 bytes of plaintext, 2048 bytes of expansion). Peers send
 * nothing bigger, so anything bigger is counted as oversized and dropped.
 */
#define TS_MAX_DGRAM (13 + 16384 + 2048)

/* ---- addr.c: numeric socket addresses, "1.2.3.4:5684" or "[::1]:5684" */

struct ts_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* family, port and address bytes: cookie input and hash key */
#define TS_ADDR_KEY_MAX (1 + 2 + 16 + 4)

int ts_addr_parse(const char *s, struct ts_addr *a);
const char *ts_addr_str(const struct ts_addr *a, char *buf, size_t size);
size_t ts_addr_key(const struct ts_addr *a, uint8_t *key);
bool ts_addr_equal(const struct ts_addr *a, const struct ts_addr *b);

/* ---- log.c: one line per event on stdout */

extern bool ts_quiet;

uint64_t ts_now_ms(void);
void ts_log(const char *event, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* per-record events: echo, ping, push; silenced by --quiet */
void ts_log_record(const char *event, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- options.c */

struct ts_options {
	struct ts_addr listen[TS_MAX_LISTEN];
	unsigned int n_listen;
	const char *cert_file;
	const char *key_file;
	char *psk_identity;
	gnutls_datum_t psk_key;
	const char *ticket_key_file;
	unsigned int push_interval_ms;
	unsigned int idle_timeout_s;
	bool echo;
	bool heartbeat;
	bool tickets;
	bool cache;
	bool alert_on_unknown;
	bool quiet;
};

/* 0: run; 1: exit 0 (--help); <0: usage error, already reported */
int ts_options_parse(int argc, char **argv, struct ts_options *o);
void ts_options_free(struct ts_options *o);

/* ---- record.c: the few DTLS wire-format facts read without a session */

#define TS_RANDOM_SIZE 32
#define TS_PLAIN_ALERT_SIZE 15

/*
 * True if the datagram starts with an epoch-0 record carrying the first
 * fragment of a ClientHello; *random then points at its client random.
 */
bool ts_dtls_is_client_hello(const uint8_t *d, size_t n,
			     const uint8_t **random);
/* a plaintext (epoch 0) fatal unexpected_message alert, record seq @seq */
void ts_dtls_plain_alert(uint8_t out[TS_PLAIN_ALERT_SIZE], uint64_t seq);
/* whether a ServerHello body (no handshake header) carries extension @type */
bool ts_server_hello_has_ext(const uint8_t *b, size_t n, unsigned int type);

/* ---- timer_heap.c: peers ordered by their next deadline */

struct ts_peer;

struct ts_heap {
	struct ts_peer **v;
	unsigned int n;
	unsigned int cap;
};

#define TS_HEAP_NONE (~0u)

int ts_heap_reserve(struct ts_heap *h, unsigned int n);
/* insert or move; the caller reserved room for every peer */
void ts_heap_set(struct ts_heap *h, struct ts_peer *p, uint64_t deadline);
void ts_heap_del(struct ts_heap *h, struct ts_peer *p);
struct ts_peer *ts_heap_top(const struct ts_heap *h);
void ts_heap_free(struct ts_heap *h);

/* ---- peer_table.c: peers by (listener, address) */

struct ts_listener;

struct ts_peer_table {
	struct ts_peer **buckets;
	size_t nbuckets;
	size_t count;
	uint64_t seed;
};

int ts_table_init(struct ts_peer_table *t);
struct ts_peer *ts_table_find(const struct ts_peer_table *t,
			      const struct ts_listener *l,
			      const struct ts_addr *a);
void ts_table_add(struct ts_peer_table *t, struct ts_peer *p);
void ts_table_del(struct ts_peer_table *t, struct ts_peer *p);
/* @fn may remove the peer it is given, and no other */
void ts_table_each(struct ts_peer_table *t,
		   void (*fn)(struct ts_peer *p, void *ctx), void *ctx);
void ts_table_free(struct ts_peer_table *t);

/* ---- cache.c: session-ID resumption cache for --no-tickets */

struct ts_cache;

struct ts_cache *ts_cache_new(void);
void ts_cache_attach(struct ts_cache *c, gnutls_session_t s);
void ts_cache_free(struct ts_cache *c);

/* ---- tickets.c */

/* fill @key from @file, or generate it (and save it to @file if set) */
int ts_ticket_key_init(gnutls_datum_t *key, const char *file);

/* ---- the server */

struct ts_listener {
	int fd;
	unsigned int index;
	struct ts_addr addr;
	char name[TS_ADDRSTRLEN];
};

enum ts_peer_state {
	TS_PEER_HANDSHAKE,
	TS_PEER_ESTABLISHED,
};

struct ts_server;

struct ts_peer {
	struct ts_server *srv;
	struct ts_peer *hash_next;
	uint64_t hash;
	struct ts_listener *listener;
	struct ts_addr addr;
	char name[TS_ADDRSTRLEN];
	gnutls_session_t session;
	enum ts_peer_state state;
	/* the ClientHello this session answers: tells retransmits from restarts */
	uint8_t hello_random[TS_RANDOM_SIZE];
	bool hb_negotiated;
	/* the datagram being processed, handed to GnuTLS by the pull function */
	const uint8_t *rx;
	size_t rx_len;
	uint64_t last_rx_ms;
	uint64_t retransmit_ms;		/* handshake only; 0 = none */
	uint64_t deadline_ms;		/* heap key */
	unsigned int heap_idx;
	uint64_t push_seq;
};

struct ts_stats {
	uint64_t handshakes;
	uint64_t resumed;
	uint64_t failed;
	uint64_t pings;
	uint64_t echoes;
	uint64_t pushes;
	uint64_t cookies;
	uint64_t alerts;
	uint64_t dropped;
	uint64_t oversized;
	uint64_t send_errors;
};

struct ts_server {
	struct ts_options opt;
	struct ts_listener listeners[TS_MAX_LISTEN];
	unsigned int n_listeners;
	gnutls_priority_t priority;
	gnutls_certificate_credentials_t cert_cred;
	gnutls_psk_server_credentials_t psk_cred;
	gnutls_datum_t cookie_key;
	gnutls_datum_t ticket_key;
	struct ts_cache *cache;
	struct ts_peer_table peers;
	struct ts_heap timers;
	struct ts_stats stats;
	uint64_t alert_seq;
	uint64_t next_push_ms;
	bool stop;
};

/* creds.c */
int ts_creds_init(struct ts_server *srv);
void ts_creds_free(struct ts_server *srv);

/* listener.c */
int ts_listeners_open(struct ts_server *srv);
void ts_listeners_close(struct ts_server *srv);
void ts_listener_read(struct ts_server *srv, struct ts_listener *l);
ssize_t ts_udp_sendv(struct ts_server *srv, const struct ts_listener *l,
		     const struct ts_addr *to, const struct iovec *iov,
		     int iovcnt);

/* dispatch.c */
void ts_dispatch(struct ts_server *srv, struct ts_listener *l,
		 const struct ts_addr *from, const uint8_t *d, size_t n);

/* peer.c */
struct ts_peer *ts_peer_new(struct ts_server *srv, struct ts_listener *l,
			    const struct ts_addr *a,
			    gnutls_dtls_prestate_st *prestate,
			    const uint8_t *random);
void ts_peer_forget(struct ts_peer *p, const char *reason, int err);
unsigned int ts_peers_drop_all(struct ts_server *srv);
void ts_peer_schedule(struct ts_peer *p);

/* peer_io.c */
void ts_peer_input(struct ts_peer *p, const uint8_t *d, size_t n);
void ts_peer_timer(struct ts_peer *p, uint64_t now);
void ts_peers_push(struct ts_server *srv);

/* loop.c */
int ts_loop_run(struct ts_server *srv);
void ts_log_stats(const struct ts_server *srv);

#endif
