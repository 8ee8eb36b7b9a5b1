// SPDX-License-Identifier: GPL-2.0
/*
 * A peer: one client address on one listening socket, and its GnuTLS
 * session. GnuTLS never sees a socket: it reads the datagram the loop is
 * processing (pull) and writes through sendmsg on the listening socket
 * (push), so all peers of a listen address share one socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testserver.h"

#define TLS_EXT_HEARTBEAT 15

static ssize_t peer_push(gnutls_transport_ptr_t ptr, const giovec_t *iov,
			 int iovcnt)
{
	struct ts_peer *p = ptr;

	return ts_udp_sendv(p->srv, p->listener, &p->addr, iov, iovcnt);
}

/* DTLS reads whole datagrams: hand over the current one, once */
static ssize_t peer_pull(gnutls_transport_ptr_t ptr, void *buf, size_t size)
{
	struct ts_peer *p = ptr;
	size_t n = p->rx_len < size ? p->rx_len : size;

	if (!p->rx) {
		gnutls_transport_set_errno(p->session, EAGAIN);
		return -1;
	}
	memcpy(buf, p->rx, n);
	p->rx = NULL;
	p->rx_len = 0;
	return n;
}

/* never waits: the loop, not GnuTLS, waits for datagrams */
static int peer_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct ts_peer *p = ptr;

	return p->rx ? 1 : 0;
}

/*
 * gnutls_heartbeat_allowed() cannot say whether heartbeat was negotiated:
 * on a server that enabled it, PEER_ALLOWED_TO_SEND is true whether or not
 * the client offered the extension, and GnuTLS leaves the extension out of
 * the ServerHello of a resumed session, so such a client will not ping.
 * What the client was told is in the ServerHello we sent.
 */
static int server_hello_hook(gnutls_session_t s, unsigned int htype,
			     unsigned when, unsigned int incoming,
			     const gnutls_datum_t *msg)
{
	struct ts_peer *p = gnutls_session_get_ptr(s);

	if (!incoming && htype == GNUTLS_HANDSHAKE_SERVER_HELLO)
		p->hb_negotiated = ts_server_hello_has_ext(msg->data, msg->size,
							   TLS_EXT_HEARTBEAT);
	return 0;
}

static void set_transport(struct ts_peer *p)
{
	gnutls_session_t s = p->session;

	gnutls_session_set_ptr(s, p);
	gnutls_transport_set_ptr(s, p);
	gnutls_transport_set_vec_push_function(s, peer_push);
	gnutls_transport_set_pull_function(s, peer_pull);
	gnutls_transport_set_pull_timeout_function(s, peer_pull_timeout);
	gnutls_dtls_set_mtu(s, TS_MTU);
}

static int init_session(struct ts_server *srv, struct ts_peer *p,
			gnutls_dtls_prestate_st *prestate)
{
	gnutls_session_t s;
	int ret;

	ret = gnutls_init(&p->session,
			  GNUTLS_SERVER | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK);
	if (ret < 0)
		return ret;
	s = p->session;
	ret = gnutls_priority_set(s, srv->priority);
	if (!ret && srv->cert_cred)
		ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
					     srv->cert_cred);
	if (!ret && srv->psk_cred)
		ret = gnutls_credentials_set(s, GNUTLS_CRD_PSK, srv->psk_cred);
	if (!ret && srv->opt.tickets)
		ret = gnutls_session_ticket_enable_server(s, &srv->ticket_key);
	if (ret < 0)
		return ret;
	if (srv->cache)
		ts_cache_attach(srv->cache, s);
	if (srv->opt.heartbeat) {
		gnutls_heartbeat_enable(s, GNUTLS_HB_PEER_ALLOWED_TO_SEND);
		gnutls_handshake_set_hook_function(s,
				GNUTLS_HANDSHAKE_SERVER_HELLO,
				GNUTLS_HOOK_POST, server_hello_hook);
	}
	gnutls_dtls_prestate_set(s, prestate);
	set_transport(p);
	return 0;
}

struct ts_peer *ts_peer_new(struct ts_server *srv, struct ts_listener *l,
			    const struct ts_addr *a,
			    gnutls_dtls_prestate_st *prestate,
			    const uint8_t *random)
{
	struct ts_peer *p;
	int ret;

	if (ts_heap_reserve(&srv->timers, srv->peers.count + 1))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->srv = srv;
	p->listener = l;
	p->addr = *a;
	p->heap_idx = TS_HEAP_NONE;
	p->state = TS_PEER_HANDSHAKE;
	p->last_rx_ms = ts_now_ms();
	memcpy(p->hello_random, random, TS_RANDOM_SIZE);
	ts_addr_str(a, p->name, sizeof(p->name));
	ret = init_session(srv, p, prestate);
	if (ret < 0) {
		ts_log("handshake_failed", "peer=%s error=\"%s\"", p->name,
		       gnutls_strerror(ret));
		if (p->session)
			gnutls_deinit(p->session);
		free(p);
		return NULL;
	}
	ts_table_add(&srv->peers, p);
	return p;
}

/* without a word to the peer: forgetting is what is being simulated */
static void peer_free(struct ts_peer *p)
{
	ts_table_del(&p->srv->peers, p);
	ts_heap_del(&p->srv->timers, p);
	gnutls_deinit(p->session);
	free(p);
}

void ts_peer_forget(struct ts_peer *p, const char *reason, int err)
{
	if (err)
		ts_log("peer_forgotten", "peer=%s reason=%s error=\"%s\"",
		       p->name, reason, gnutls_strerror(err));
	else
		ts_log("peer_forgotten", "peer=%s reason=%s", p->name, reason);
	peer_free(p);
}

static void drop_one(struct ts_peer *p, void *ctx)
{
	peer_free(p);
}

unsigned int ts_peers_drop_all(struct ts_server *srv)
{
	unsigned int n = srv->peers.count;

	ts_table_each(&srv->peers, drop_one, NULL);
	return n;
}

/* the earliest of: handshake retransmission, idle expiry */
void ts_peer_schedule(struct ts_peer *p)
{
	struct ts_server *srv = p->srv;
	uint64_t deadline = UINT64_MAX;

	if (p->state == TS_PEER_HANDSHAKE && p->retransmit_ms)
		deadline = p->retransmit_ms;
	if (srv->opt.idle_timeout_s) {
		uint64_t idle = p->last_rx_ms + srv->opt.idle_timeout_s * 1000ull;

		if (idle < deadline)
			deadline = idle;
	}
	if (deadline == UINT64_MAX)
		ts_heap_del(&srv->timers, p);
	else
		ts_heap_set(&srv->timers, p, deadline);
}
