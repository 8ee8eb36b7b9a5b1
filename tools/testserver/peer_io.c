// SPDX-License-Identifier: GPL-2.0
/*
 * What a peer's session does with a datagram, a timer, or a push tick.
 * Functions here return a GnuTLS error when the peer must be forgotten and
 * leave the forgetting to their caller, so that nothing touches a peer
 * after it is freed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "testserver.h"

/* gnutls_record_recv() calls per datagram before the rest waits */
#define RECORDS_PER_DATAGRAM 256
/* non-fatal handshake errors (warning alerts) tolerated in a row */
#define HANDSHAKE_RETRIES 8

static void log_established(struct ts_peer *p)
{
	gnutls_session_t s = p->session;
	struct ts_server *srv = p->srv;
	const char *suite;
	bool resumed = gnutls_session_is_resumed(s);

	suite = gnutls_cipher_suite_get_name(gnutls_kx_get(s),
					     gnutls_cipher_get(s),
					     gnutls_mac_get(s));
	srv->stats.handshakes++;
	srv->stats.resumed += resumed;
	ts_log("handshake", "peer=%s resumed=%d heartbeat=%d cipher=%s",
	       p->name, resumed, p->hb_negotiated,
	       suite ? suite : "unknown");
}

/* RFC spelling, "handshake_failure", of GnuTLS's "GNUTLS_A_HANDSHAKE_FAILURE" */
static const char *alert_name(int desc, char *buf, size_t size)
{
	const char *name = gnutls_alert_get_strname(desc);
	size_t i;

	if (!name)
		return "unknown";
	if (!strncmp(name, "GNUTLS_A_", 9))
		name += 9;
	for (i = 0; name[i] && i < size - 1; i++)
		buf[i] = tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}

/*
 * GnuTLS does not tell the peer why its handshake failed: without an alert
 * the client would only time out. None is sent in answer to the peer's own
 * alert, nor after a timeout, when the peer is likely gone.
 */
static void report_failure(struct ts_peer *p, int err)
{
	gnutls_session_t s = p->session;
	char name[64];
	int level, desc;

	if (err == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		desc = gnutls_alert_get(s);
		ts_log("handshake_failed", "peer=%s error=\"%s\" received_alert=%s",
		       p->name, gnutls_strerror(err),
		       alert_name(desc, name, sizeof(name)));
		return;
	}
	desc = err == GNUTLS_E_TIMEDOUT ? -1 : gnutls_error_to_alert(err, &level);
	if (desc < 0 || gnutls_alert_send(s, level, desc) < 0) {
		ts_log("handshake_failed", "peer=%s error=\"%s\"", p->name,
		       gnutls_strerror(err));
		return;
	}
	ts_log("handshake_failed", "peer=%s error=\"%s\" sent_alert=%s",
	       p->name, gnutls_strerror(err),
	       alert_name(desc, name, sizeof(name)));
}

static int handshake_step(struct ts_peer *p)
{
	gnutls_session_t s = p->session;
	int ret, tries = 0;

	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && ret != GNUTLS_E_AGAIN &&
		 !gnutls_error_is_fatal(ret) && ++tries < HANDSHAKE_RETRIES);

	if (ret == GNUTLS_E_AGAIN || (ret < 0 && !gnutls_error_is_fatal(ret))) {
		/* 0 means "now"; a floor keeps a confused session from spinning */
		unsigned int ms = gnutls_dtls_get_timeout(s);

		p->retransmit_ms = ts_now_ms() + (ms ? ms : 1);
		return 0;
	}
	p->retransmit_ms = 0;
	if (ret < 0) {
		p->srv->stats.failed++;
		report_failure(p, ret);
		return ret;
	}
	p->state = TS_PEER_ESTABLISHED;
	log_established(p);
	return 0;
}

/* echo means the same record back, even if it is larger than our MTU */
static int echo(struct ts_peer *p, const uint8_t *data, size_t n)
{
	gnutls_session_t s = p->session;
	ssize_t ret;

	ret = gnutls_record_send(s, data, n);
	if (ret == GNUTLS_E_LARGE_PACKET) {
		gnutls_dtls_set_mtu(s, TS_MAX_DGRAM);
		ret = gnutls_record_send(s, data, n);
		gnutls_dtls_set_mtu(s, TS_MTU);
	}
	if (ret < 0)
		return gnutls_error_is_fatal(ret) ? ret : 0;
	p->srv->stats.echoes++;
	ts_log_record("echo", "peer=%s bytes=%zu", p->name, n);
	return 0;
}

static int pong(struct ts_peer *p)
{
	int ret = gnutls_heartbeat_pong(p->session, 0);

	if (ret < 0)
		return gnutls_error_is_fatal(ret) ? ret : 0;
	p->srv->stats.pings++;
	ts_log_record("heartbeat_ping", "peer=%s", p->name);
	return 0;
}

/*
 * One record's worth of events. Returns 1 to go on reading, 0 when the
 * datagram is used up, or a fatal error. A clean close_notify is reported
 * as GNUTLS_E_SESSION_EOF so the caller can tell it apart.
 */
static int read_one(struct ts_peer *p)
{
	static uint8_t buf[16384];
	ssize_t n;
	int ret;

	n = gnutls_record_recv(p->session, buf, sizeof(buf));
	if (n > 0 && !p->srv->opt.echo) {
		ts_log_record("received", "peer=%s bytes=%zd", p->name, n);
		return 1;
	}
	if (n > 0) {
		ret = echo(p, buf, n);
		return ret < 0 ? ret : 1;
	}
	switch (n) {
	case 0:
		return GNUTLS_E_SESSION_EOF;
	case GNUTLS_E_AGAIN:
	case GNUTLS_E_INTERRUPTED:
		return 0;
	case GNUTLS_E_HEARTBEAT_PING_RECEIVED:
		ret = pong(p);
		return ret < 0 ? ret : 1;
	case GNUTLS_E_REHANDSHAKE:
		/* a test server has no use for renegotiation; refuse politely */
		gnutls_alert_send(p->session, GNUTLS_AL_WARNING,
				  GNUTLS_A_NO_RENEGOTIATION);
		return 1;
	default:
		return gnutls_error_is_fatal(n) ? (int)n : 1;
	}
}

static int read_records(struct ts_peer *p)
{
	int ret = 1;

	for (int i = 0; i < RECORDS_PER_DATAGRAM && ret == 1; i++)
		ret = read_one(p);
	return ret < 0 ? ret : 0;
}

static void forget_on(struct ts_peer *p, int err)
{
	if (err == GNUTLS_E_SESSION_EOF) {
		gnutls_bye(p->session, GNUTLS_SHUT_WR);
		ts_peer_forget(p, "closed", 0);
	} else if (p->state == TS_PEER_HANDSHAKE) {
		ts_peer_forget(p, "error", 0);	/* handshake_failed says why */
	} else {
		ts_peer_forget(p, "error", err);
	}
}

void ts_peer_input(struct ts_peer *p, const uint8_t *d, size_t n)
{
	int ret = 0;

	p->rx = d;
	p->rx_len = n;
	p->last_rx_ms = ts_now_ms();
	if (p->state == TS_PEER_HANDSHAKE)
		ret = handshake_step(p);
	/* records behind the Finished, in the same datagram, are GnuTLS's */
	if (!ret && p->state == TS_PEER_ESTABLISHED)
		ret = read_records(p);
	p->rx = NULL;
	p->rx_len = 0;
	if (ret < 0) {
		forget_on(p, ret);
		return;
	}
	ts_peer_schedule(p);
}

void ts_peer_timer(struct ts_peer *p, uint64_t now)
{
	struct ts_server *srv = p->srv;
	int ret;

	if (srv->opt.idle_timeout_s &&
	    now >= p->last_rx_ms + srv->opt.idle_timeout_s * 1000ull) {
		ts_peer_forget(p, "idle", 0);
		return;
	}
	if (p->state == TS_PEER_HANDSHAKE && p->retransmit_ms &&
	    now >= p->retransmit_ms) {
		/* no datagram: GnuTLS retransmits its flight or times out */
		ret = handshake_step(p);
		if (ret < 0) {
			forget_on(p, ret);
			return;
		}
	}
	ts_peer_schedule(p);
}

static void push_one(struct ts_peer *p, void *ctx)
{
	char msg[32];
	int n, ret;

	if (p->state != TS_PEER_ESTABLISHED)
		return;
	n = snprintf(msg, sizeof(msg), "push %llu\n",
		     (unsigned long long)++p->push_seq);
	ret = gnutls_record_send(p->session, msg, n);
	if (ret < 0 && gnutls_error_is_fatal(ret)) {
		ts_peer_forget(p, "error", ret);
		return;
	}
	if (ret < 0)
		return;
	p->srv->stats.pushes++;
	ts_log_record("push", "peer=%s seq=%llu", p->name,
		      (unsigned long long)p->push_seq);
}

/* each peer counts its own pushes from 1, so a client can spot a gap */
void ts_peers_push(struct ts_server *srv)
{
	ts_table_each(&srv->peers, push_one, NULL);
}
