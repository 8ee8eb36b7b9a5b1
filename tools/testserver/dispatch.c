// SPDX-License-Identifier: GPL-2.0
/*
 * Where a datagram goes. The decision is one pure function, decide(), so
 * that it can be read against this table row by row:
 *
 *   peer         datagram                         action
 *   ----------   ------------------------------   --------------------------
 *   unknown      record shorter than a header     drop
 *   unknown      ClientHello                      cookie
 *   unknown      anything else                    unknown (alert or drop)
 *   handshake    ClientHello, same random         feed (a retransmission)
 *   handshake    ClientHello, other random        cookie (client restarted)
 *   established  ClientHello, same random         drop (a late duplicate)
 *   established  ClientHello, other random        cookie (RFC 6347 4.2.8)
 *   known        anything else                    feed
 *
 * "cookie" means: a ClientHello with a valid cookie replaces the peer's
 * session (if any) by a new one; without one it is answered by a
 * HelloVerifyRequest and the old session, if any, is kept. So an off-path
 * sender cannot kill a session with a forged hello (RFC 6347 4.2.8).
 */
#include <string.h>

#include "testserver.h"

#define DTLS_RECORD_HEADER 13

enum action {
	ACT_DROP,
	ACT_FEED,
	ACT_COOKIE,
	ACT_UNKNOWN,
};

static enum action decide(const struct ts_peer *p, size_t len, bool hello,
			  const uint8_t *random)
{
	bool same;

	if (len < DTLS_RECORD_HEADER)
		return ACT_DROP;
	if (!p)
		return hello ? ACT_COOKIE : ACT_UNKNOWN;
	if (!hello)
		return ACT_FEED;
	same = !memcmp(p->hello_random, random, TS_RANDOM_SIZE);
	if (p->state == TS_PEER_HANDSHAKE)
		return same ? ACT_FEED : ACT_COOKIE;
	return same ? ACT_DROP : ACT_COOKIE;
}

struct cookie_dest {
	struct ts_server *srv;
	struct ts_listener *l;
	const struct ts_addr *to;
};

static ssize_t cookie_push(gnutls_transport_ptr_t ptr, const void *buf,
			   size_t n)
{
	struct cookie_dest *d = ptr;
	struct iovec iov = { (void *)buf, n };

	return ts_udp_sendv(d->srv, d->l, d->to, &iov, 1);
}

static void on_hello(struct ts_server *srv, struct ts_listener *l,
		     struct ts_peer *old, const struct ts_addr *from,
		     const uint8_t *d, size_t n, const uint8_t *random)
{
	struct cookie_dest dest = { srv, l, from };
	gnutls_dtls_prestate_st prestate;
	uint8_t key[TS_ADDR_KEY_MAX + 1];	/* and the listener */
	size_t klen = ts_addr_key(from, key);
	struct ts_peer *p;
	char name[TS_ADDRSTRLEN];

	memset(&prestate, 0, sizeof(prestate));
	key[klen++] = l->index;
	if (gnutls_dtls_cookie_verify(&srv->cookie_key, key, klen, (void *)d,
				      n, &prestate) < 0) {
		/* the cookie is bound to the address: proof of reachability */
		gnutls_dtls_cookie_send(&srv->cookie_key, key, klen, &prestate,
					&dest, cookie_push);
		srv->stats.cookies++;
		ts_log_record("cookie_sent", "peer=%s",
			      ts_addr_str(from, name, sizeof(name)));
		return;
	}
	if (old)
		ts_peer_forget(old, "new_hello", 0);
	p = ts_peer_new(srv, l, from, &prestate, random);
	if (p)
		ts_peer_input(p, d, n);
}

static void on_unknown(struct ts_server *srv, struct ts_listener *l,
		       const struct ts_addr *from)
{
	uint8_t alert[TS_PLAIN_ALERT_SIZE];
	struct iovec iov = { alert, sizeof(alert) };
	char name[TS_ADDRSTRLEN];

	srv->stats.dropped++;
	ts_addr_str(from, name, sizeof(name));
	if (!srv->opt.alert_on_unknown) {
		ts_log_record("dropped", "peer=%s reason=unknown_peer", name);
		return;
	}
	ts_dtls_plain_alert(alert, srv->alert_seq++);
	ts_udp_sendv(srv, l, from, &iov, 1);
	srv->stats.alerts++;
	ts_log("alert_sent", "peer=%s level=fatal desc=unexpected_message",
	       name);
}

void ts_dispatch(struct ts_server *srv, struct ts_listener *l,
		 const struct ts_addr *from, const uint8_t *d, size_t n)
{
	struct ts_peer *p = ts_table_find(&srv->peers, l, from);
	const uint8_t *random = NULL;
	bool hello = ts_dtls_is_client_hello(d, n, &random);
	char name[TS_ADDRSTRLEN];

	switch (decide(p, n, hello, random)) {
	case ACT_FEED:
		ts_peer_input(p, d, n);
		break;
	case ACT_COOKIE:
		on_hello(srv, l, p, from, d, n, random);
		break;
	case ACT_UNKNOWN:
		on_unknown(srv, l, from);
		break;
	case ACT_DROP:
		srv->stats.dropped++;
		ts_log_record("dropped", "peer=%s reason=%s",
			      ts_addr_str(from, name, sizeof(name)),
			      hello ? "stale_hello" : "runt");
		break;
	}
}
